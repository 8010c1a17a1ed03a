/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Commands that list directories: ls, ll, find, find0, du. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmds-int.h"

int run_ls(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    dlist l;
    if (io_read_dir(sh, cmd, a->argv[0], &l) < 0)
        return -1;
    for (size_t i = 0; i < l.n; i++) {
        gk_term_puts(stdout, l.v[i].name);      /* escaped on a terminal */
        putchar('\n');
    }
    io_dlist_free(&l);
    return 0;
}

static void mode_string(uint32_t m, char *s)
{
    s[0] = S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' :
           S_ISFIFO(m) ? 'p' : S_ISSOCK(m) ? 's' : '-';
    const char *rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; i++)
        s[1 + i] = (m & (0400u >> i)) ? rwx[i] : '-';
    if (m & S_ISUID) s[3] = (m & 0100) ? 's' : 'S';
    if (m & S_ISGID) s[6] = (m & 0010) ? 's' : 'S';
    if (m & S_ISVTX) s[9] = (m & 0001) ? 't' : 'T';
    s[10] = 0;
}

struct ll_row { char mode[11]; char nlink[24], uid[24], gid[24], size[48], date[32]; char *name, *ctx; };

/* llz: the SELinux context of path (not following a link), or NULL. */
static char *selinux_ctx(gfsh *sh, const char *path)
{
    gk_node n;
    char buf[256];
    if (gk_vfs_resolve(sh->g->vfs, path, 0, &n) < 0)
        return NULL;
    ssize_t l = gk_node_getxattr(&n, "security.selinux", buf, sizeof buf - 1);
    if (l <= 0 || (size_t)l >= sizeof buf)
        return NULL;
    while (l > 0 && buf[l - 1] == 0)
        l--;
    if (l <= 0)
        return NULL;
    buf[l] = 0;
    return gk_term_str(stdout, buf);
}

int run_ll(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    const char *dir = a->argv[0];
    dlist l;
    if (io_read_dir(sh, cmd, dir, &l) < 0)
        return -1;
    size_t n = l.n + 2;
    struct ll_row *rows = gk_calloc(n, sizeof *rows);
    uint64_t total = 0;
    int w[5] = {0};
    int z = strcmp(cmd->name, "llz") == 0;   /* ls -laZ: numeric ids, contexts */
    time_t now = time(NULL);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = i == 0 ? "." : i == 1 ? ".." : l.v[i - 2].name;
        char *p = io_join(dir, name);
        gk_stat st;
        if (gk_vfs_lstat(sh->g->vfs, p, &st) < 0) {
            free(p);
            continue;
        }
        struct ll_row *r = &rows[k++];
        mode_string(st.mode, r->mode);
        snprintf(r->nlink, sizeof r->nlink, "%u", st.nlink);
        if (st.uid == 0 && !z) snprintf(r->uid, sizeof r->uid, "root");
        else snprintf(r->uid, sizeof r->uid, "%u", st.uid);
        if (st.gid == 0 && !z) snprintf(r->gid, sizeof r->gid, "root");
        else snprintf(r->gid, sizeof r->gid, "%u", st.gid);
        if (z)
            r->ctx = selinux_ctx(sh, p);
        if (S_ISCHR(st.mode) || S_ISBLK(st.mode))
            snprintf(r->size, sizeof r->size, "%u, %u", (unsigned)((st.rdev >> 8) & 0xfff),
                     (unsigned)((st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)));
        else
            snprintf(r->size, sizeof r->size, "%" PRIu64, st.size);
        time_t t = st.mtime.tv_sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        if (t > now - 15778476 && t <= now + 3600)
            strftime(r->date, sizeof r->date, "%b %e %H:%M", &tm);
        else
            strftime(r->date, sizeof r->date, "%b %e  %Y", &tm);
        total += st.blocks;
        if (S_ISLNK(st.mode)) {
            char target[4097];
            ssize_t tl = gk_vfs_readlink(sh->g->vfs, p, target, sizeof target - 1);
            target[tl > 0 ? tl : 0] = 0;
            char *en = gk_term_str(stdout, name), *et = gk_term_str(stdout, target);
            r->name = gk_asprintf("%s -> %s", en, et);
            free(en);
            free(et);
        } else {
            r->name = gk_term_str(stdout, name);
        }
        int lens[5] = {(int)strlen(r->nlink), (int)strlen(r->uid), (int)strlen(r->gid),
                       (int)strlen(r->size), r->ctx ? (int)strlen(r->ctx) : 1};
        for (int j = 0; j < 5; j++)
            if (lens[j] > w[j])
                w[j] = lens[j];
        free(p);
    }
    printf("total %" PRIu64 "\n", (total + 1) / 2);
    for (size_t i = 0; i < k; i++) {
        struct ll_row *r = &rows[i];
        if (z)
            printf("%s%c %*s %-*s %-*s %-*s %*s %s %s\n", r->mode, r->ctx ? '.' : ' ', w[0], r->nlink,
                   w[1], r->uid, w[2], r->gid, w[4], r->ctx ? r->ctx : "?", w[3], r->size, r->date,
                   r->name);
        else
            printf("%s %*s %-*s %-*s %*s %s %s\n", r->mode, w[0], r->nlink, w[1], r->uid, w[2], r->gid,
                   w[3], r->size, r->date, r->name);
        free(r->name);
        free(r->ctx);
    }
    if (z)
        putchar('\n');     /* guestfish prints ls -laZ's output and a newline */
    free(rows);
    io_dlist_free(&l);
    return 0;
}

struct find_out { gfsh *sh; const gfsh_cmd *cmd; FILE *fp; char end; };

static int find_print(void *ud, const char *rel, const gk_walk_ent *e)
{
    (void)e;
    struct find_out *f = ud;
    /* find's lines are escaped on a terminal; find0 writes data, raw */
    char *esc = f->end ? gk_term_str(f->fp, rel) : NULL;
    const char *out = esc ? esc : rel;
    int r = io_write(f->sh, f->cmd, f->fp, out, strlen(out));
    free(esc);
    if (r == 0)
        r = io_write(f->sh, f->cmd, f->fp, &f->end, 1);
    return r;
}

int run_find(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    struct find_out f = {sh, cmd, stdout, '\n'};
    int r = io_find(sh, cmd, a->argv[0], find_print, &f);
    return r < 0 ? -1 : 0;
}

int run_find0(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    FILE *fp = io_open_out(cmd, a->argv[1]);
    if (!fp)
        return -1;
    struct find_out f = {sh, cmd, fp, 0};
    int r = io_find(sh, cmd, a->argv[0], find_print, &f);
    r = io_close_out(cmd, a->argv[1], fp, r < 0 ? -1 : 0);
    return r < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* du                                                                  */

/* du -s: the 512-byte blocks of path and everything below it (path itself
 * not followed), hard links counted once, in KiB rounded up. */
int run_du(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_node top;
    if (gk_vfs_resolve(sh->g->vfs, a->argv[0], 0, &top) < 0) {
        io_path_err(cmd, a->argv[0]);
        return -1;
    }
    gk_nodemap *links = gk_nodemap_new();
    gk_walk *w = gk_walk_new(sh->g->vfs, &top, a->argv[0], 0);
    const gk_walk_ent *e;
    uint64_t blocks = 0;
    int r = 0;
    while ((e = gk_walk_next(w))) {
        if (io_interrupted(cmd)) {
            r = -1;
            break;
        }
        if (e->kind == GK_WALK_ERROR || (e->kind == GK_WALK_ENTRY && e->noenter)) {
            gfsh_err(cmd, "%s", e->msg);
            r = -1;
        }
        if (e->kind != GK_WALK_ENTRY)
            continue;
        if (e->st.nlink > 1 && !S_ISDIR(e->st.mode)) {
            int isnew;
            gk_nodemap_slot(links, &e->node, &isnew);
            if (!isnew)
                continue;
        }
        blocks += e->st.blocks;
    }
    gk_walk_free(w);
    gk_nodemap_free(links, NULL);
    if (r < 0)
        return -1;
    printf("%" PRIu64 "\n", (blocks + 1) / 2);
    return 0;
}
