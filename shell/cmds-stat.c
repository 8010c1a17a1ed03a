/* SPDX-License-Identifier: GPL-2.0-or-later */
/* File information: stat, statns, readlink, realpath, is-*, statvfs, df,
 * extended attributes. */
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

/* ------------------------------------------------------------------ */
/* stat and friends                                                    */

static int get_stat(gfsh *sh, const gfsh_cmd *cmd, const char *path, int follow, gk_stat *st)
{
    int r = follow ? gk_vfs_stat(sh->g->vfs, path, st) : gk_vfs_lstat(sh->g->vfs, path, st);
    if (r < 0)
        io_path_err(cmd, path);
    return r;
}

void gfsh_print_stat(FILE *fp, const gk_stat *st, int ns, const char *in)
{
    if (!ns) {
        fprintf(fp, "%sdev: %" PRIi64 "\n%sino: %" PRIi64 "\n%smode: %" PRIi64 "\n%snlink: %" PRIi64 "\n"
                "%suid: %" PRIi64 "\n%sgid: %" PRIi64 "\n%srdev: %" PRIi64 "\n%ssize: %" PRIi64 "\n"
                "%sblksize: %" PRIi64 "\n%sblocks: %" PRIi64 "\n%satime: %" PRIi64 "\n%smtime: %" PRIi64 "\n"
                "%sctime: %" PRIi64 "\n",
                in, (int64_t)st->dev, in, (int64_t)st->ino, in, (int64_t)st->mode, in, (int64_t)st->nlink,
                in, (int64_t)st->uid, in, (int64_t)st->gid, in, (int64_t)st->rdev, in, (int64_t)st->size,
                in, (int64_t)st->blksize, in, (int64_t)st->blocks, in, (int64_t)st->atime.tv_sec,
                in, (int64_t)st->mtime.tv_sec, in, (int64_t)st->ctime.tv_sec);
        return;
    }
    fprintf(fp, "%sst_dev: %" PRIi64 "\n%sst_ino: %" PRIi64 "\n%sst_mode: %" PRIi64 "\n%sst_nlink: %" PRIi64 "\n"
            "%sst_uid: %" PRIi64 "\n%sst_gid: %" PRIi64 "\n%sst_rdev: %" PRIi64 "\n%sst_size: %" PRIi64 "\n"
            "%sst_blksize: %" PRIi64 "\n%sst_blocks: %" PRIi64 "\n"
            "%sst_atime_sec: %" PRIi64 "\n%sst_atime_nsec: %" PRIi64 "\n"
            "%sst_mtime_sec: %" PRIi64 "\n%sst_mtime_nsec: %" PRIi64 "\n"
            "%sst_ctime_sec: %" PRIi64 "\n%sst_ctime_nsec: %" PRIi64 "\n",
            in, (int64_t)st->dev, in, (int64_t)st->ino, in, (int64_t)st->mode, in, (int64_t)st->nlink,
            in, (int64_t)st->uid, in, (int64_t)st->gid, in, (int64_t)st->rdev, in, (int64_t)st->size,
            in, (int64_t)st->blksize, in, (int64_t)st->blocks,
            in, (int64_t)st->atime.tv_sec, in, (int64_t)st->atime.tv_nsec,
            in, (int64_t)st->mtime.tv_sec, in, (int64_t)st->mtime.tv_nsec,
            in, (int64_t)st->ctime.tv_sec, in, (int64_t)st->ctime.tv_nsec);
    for (int i = 1; i <= 6; i++)
        fprintf(fp, "%sst_spare%d: 0\n", in, i);
}

int run_stat(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_stat st;
    if (get_stat(sh, cmd, a->argv[0], cmd->name[0] != 'l', &st) < 0)
        return -1;
    gfsh_print_stat(stdout, &st, 0, "");
    return 0;
}

int run_statns(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_stat st;
    if (get_stat(sh, cmd, a->argv[0], cmd->name[0] != 'l', &st) < 0)
        return -1;
    gfsh_print_stat(stdout, &st, 1, "");
    return 0;
}

int run_readlink(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    char buf[4097];
    ssize_t n = gk_vfs_readlink(sh->g->vfs, a->argv[0], buf, sizeof buf - 1);
    if (n < 0) {
        io_path_err(cmd, a->argv[0]);
        return -1;
    }
    buf[n] = 0;
    printf("%s\n", buf);
    return 0;
}

int run_realpath(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    char *p = gk_vfs_realpath(sh->g->vfs, a->argv[0]);
    if (!p) {
        io_path_err(cmd, a->argv[0]);
        return -1;
    }
    printf("%s\n", p);
    free(p);
    return 0;
}

/* ------------------------------------------------------------------ */
/* tests: is-file, is-dir, ..., exists                                 */

int run_is(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    const char *what = cmd->name;
    int follow = strcmp(what, "exists") == 0 || (a->set[0] && a->onum[0]);
    gk_stat st;
    int r = follow ? gk_vfs_stat(sh->g->vfs, a->argv[0], &st) : gk_vfs_lstat(sh->g->vfs, a->argv[0], &st);
    if (r < 0) {
        if (errno == ENOENT || errno == ENOTDIR || (follow && errno == ELOOP)) {
            printf("false\n");
            return 0;
        }
        io_path_err(cmd, a->argv[0]);
        return -1;
    }
    int t;
    if (strcmp(what, "exists") == 0) t = 1;
    else if (strcmp(what, "is-file") == 0) t = S_ISREG(st.mode);
    else if (strcmp(what, "is-dir") == 0) t = S_ISDIR(st.mode);
    else if (strcmp(what, "is-symlink") == 0) t = S_ISLNK(st.mode);
    else if (strcmp(what, "is-blockdev") == 0) t = S_ISBLK(st.mode);
    else if (strcmp(what, "is-chardev") == 0) t = S_ISCHR(st.mode);
    else if (strcmp(what, "is-fifo") == 0) t = S_ISFIFO(st.mode);
    else t = S_ISSOCK(st.mode);
    printf("%s\n", t ? "true" : "false");
    return 0;
}

int run_statvfs(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_statvfs sv;
    if (gk_vfs_statvfs(sh->g->vfs, a->argv[0], &sv) < 0) {
        io_path_err(cmd, a->argv[0]);
        return -1;
    }
    printf("bsize: %" PRIi64 "\nfrsize: %" PRIi64 "\nblocks: %" PRIi64 "\nbfree: %" PRIi64 "\n"
           "bavail: %" PRIi64 "\nfiles: %" PRIi64 "\nffree: %" PRIi64 "\nfavail: %" PRIi64 "\n"
           "fsid: %" PRIi64 "\nflag: %" PRIi64 "\nnamemax: %" PRIi64 "\n",
           (int64_t)sv.bsize, (int64_t)sv.frsize, (int64_t)sv.blocks, (int64_t)sv.bfree,
           (int64_t)sv.bavail, (int64_t)sv.files, (int64_t)sv.ffree, (int64_t)sv.favail,
           (int64_t)sv.fsid, (int64_t)sv.flag, (int64_t)sv.namemax);
    return 0;
}

/* df's columns: Filesystem, 1K-blocks|Size, Used, Available|Avail, Use%,
 * Mounted on; numbers right-aligned, widths fitted to the contents. */
int run_df(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)a;
    int human = strcmp(cmd->name, "df-h") == 0;
    gk_vfs *v = sh->g->vfs;
    int n = gk_vfs_nmounts(v);
    char (*cells)[6][64] = gk_calloc((size_t)n + 1, sizeof *cells);
    snprintf(cells[0][0], 64, "Filesystem");
    snprintf(cells[0][1], 64, human ? "Size" : "1K-blocks");
    snprintf(cells[0][2], 64, "Used");
    snprintf(cells[0][3], 64, human ? "Avail" : "Available");
    snprintf(cells[0][4], 64, "Use%%");
    snprintf(cells[0][5], 64, "Mounted on");
    int rows = 1;
    for (int i = 0; i < n; i++) {
        gk_mount *m = gk_vfs_mount_at(v, i);
        gk_statvfs sv;
        if (gk_vfs_statvfs(v, m->mountpoint, &sv) < 0) {
            io_path_err(cmd, m->mountpoint);
            continue;
        }
        uint64_t fr = sv.frsize ? sv.frsize : sv.bsize;
        uint64_t total = sv.blocks * fr, used = (sv.blocks - (sv.bfree < sv.blocks ? sv.bfree : sv.blocks)) * fr;
        uint64_t avail = sv.bavail * fr;
        char (*c)[64] = cells[rows++];
        snprintf(c[0], 64, "%.63s", m->device);
        if (human) {
            gk_human_size_ceil(total, c[1], 64);
            gk_human_size_ceil(used, c[2], 64);
            gk_human_size_ceil(avail, c[3], 64);
        } else {
            snprintf(c[1], 64, "%" PRIu64, total / 1024);
            snprintf(c[2], 64, "%" PRIu64, used / 1024);
            snprintf(c[3], 64, "%" PRIu64, avail / 1024);
        }
        uint64_t denom = used + avail;
        if (denom == 0)
            snprintf(c[4], 64, "-");
        else
            snprintf(c[4], 64, "%" PRIu64 "%%", (used * 100 + denom - 1) / denom);
        snprintf(c[5], 64, "%.63s", m->mountpoint);
    }
    int w[6] = {0};
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < 6; j++)
            if ((int)strlen(cells[r][j]) > w[j])
                w[j] = (int)strlen(cells[r][j]);
    for (int r = 0; r < rows; r++)
        printf("%-*s %*s %*s %*s %*s %s\n", w[0], cells[r][0], w[1], cells[r][1], w[2], cells[r][2],
               w[3], cells[r][3], w[4], cells[r][4], cells[r][5]);
    free(cells);
    return 0;
}

/* ------------------------------------------------------------------ */
/* extended attributes                                                 */

/* The value of xattr name of path, sized from the driver's answer (a
 * value can outgrow any fixed buffer: ext4's ea_inode values reach 64 KiB
 * and more).  -1 with gk_error() on failure. */
static ssize_t xattr_value(gfsh *sh, const char *path, const char *name, char **out)
{
    *out = NULL;
    for (int tries = 0; tries < 4; tries++) {
        ssize_t need = gk_vfs_getxattr(sh->g->vfs, path, name, NULL, 0);
        if (need < 0)
            return -1;
        char *val = gk_malloc((size_t)need + 1);
        ssize_t got = need ? gk_vfs_getxattr(sh->g->vfs, path, name, val, (size_t)need) : 0;
        if (got >= 0 && got <= need) {
            *out = val;
            return got;
        }
        free(val);
        if (got < 0)
            return -1;
    }
    gk_error("%s: %s: the value keeps changing size", path, name);
    return -1;
}

/* lgetxattrs/getxattrs: [N] = { attrname, attrval } blocks, the value
 * printed as guestfish prints buffers (printable bytes, others \xNN). */
int run_getxattrs(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    const char *path = a->argv[0];
    char *real = NULL;
    if (cmd->name[0] == 'g') { /* getxattrs follows symlinks */
        if (!(real = gk_vfs_realpath(sh->g->vfs, path))) {
            io_path_err(cmd, path);
            return -1;
        }
        path = real;
    }
    ssize_t len = gk_vfs_listxattr(sh->g->vfs, path, NULL, 0);
    char *names = NULL;
    if (len > 0) {
        names = gk_malloc((size_t)len + 1);
        ssize_t got = gk_vfs_listxattr(sh->g->vfs, path, names, (size_t)len);
        if (got > len) {
            gk_error("%s: the list of extended attributes changed size", path);
            got = -1;
        }
        len = got;
    }
    if (len < 0) {
        io_path_err(cmd, a->argv[0]);
        free(names);
        free(real);
        return -1;
    }
    int idx = 0, r = 0;
    for (ssize_t off = 0; off < len && r == 0;) {
        const char *name = names + off;
        size_t nl = strnlen(name, (size_t)(len - off));
        off += (ssize_t)nl + 1;
        if (nl == 0)
            continue;
        char *nm = gk_strndup(name, nl);
        char *val;
        ssize_t vl = xattr_value(sh, path, nm, &val);
        if (vl < 0) {
            io_path_err(cmd, a->argv[0]);
            r = -1;
        } else {
            printf("[%d] = {\n  attrname: %s\n  attrval: ", idx++, nm);
            for (ssize_t i = 0; i < vl; i++) {
                unsigned char c = (unsigned char)val[i];
                if (c >= 0x20 && c < 0x7f)
                    putchar(c);
                else
                    printf("\\x%02x", c);
            }
            printf("\n}\n");
        }
        free(val);
        free(nm);
    }
    free(names);
    free(real);
    return r;
}

/* getxattr/lgetxattr: the raw value. */
int run_getxattr(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    const char *path = a->argv[0];
    char *real = NULL;
    if (cmd->name[0] == 'g') {
        if (!(real = gk_vfs_realpath(sh->g->vfs, path))) {
            io_path_err(cmd, path);
            return -1;
        }
        path = real;
    }
    char *val;
    ssize_t vl = xattr_value(sh, path, a->argv[1], &val);
    int r = 0;
    if (vl < 0) {
        io_path_err(cmd, a->argv[0]);
        r = -1;
    } else {
        r = io_write(sh, cmd, stdout, val, (size_t)vl) < 0 ? -1 : 0;
    }
    free(val);
    free(real);
    return r;
}
