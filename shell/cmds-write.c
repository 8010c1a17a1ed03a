/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Commands that change the guest (need --rw): write, write-append, upload,
 * mkdir(-p), rm(-f, -rf), rmdir, mv, cp(-a, -r), ln(-f, -s, -sf), chmod,
 * chown, lchown, touch, truncate(-size), (l)setxattr, (l)removexattr,
 * mknod, mkfifo, sync.  Their semantics are guestfish's (which runs the
 * coreutils commands or the system calls of the same names in its
 * appliance); errors are "gfsh: CMD: PATH: message". */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "cmds-int.h"
#include "edit.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

static int err_path(const gfsh_cmd *cmd, const char *path)
{
    io_path_err(cmd, path);
    return -1;
}

/* ------------------------------------------------------------------ */
/* write, write-append, upload                                         */

int run_write(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    int append = strcmp(cmd->name, "write-append") == 0;
    const char *c = a->argv[1];
    if (gk_vfs_write_file(sh->g->vfs, a->argv[0], c, strlen(c), append) < 0)
        return err_path(cmd, a->argv[0]);
    return 0;
}

int run_upload(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    const char *host = a->argv[0], *path = a->argv[1];
    int fd = strcmp(host, "-") == 0 ? 0 :
             gfsh_in_worker() ? gfsh_worker_open_in(host) : open(host, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        gfsh_err(cmd, "open: %s: %s", host, strerror(errno));
        return -1;
    }
    gk_vfs *v = sh->g->vfs;
    gk_stat st;
    int existed = gk_vfs_stat(v, path, &st) == 0;
    gk_node n;
    struct stat hst;
    gk_statvfs sv;
    if (fd > 0 && fstat(fd, &hst) == 0 && S_ISREG(hst.st_mode) &&
        gk_vfs_statvfs(v, existed ? path : "/", &sv) == 0 && sv.frsize &&
        ((uint64_t)hst.st_size + sv.frsize - 1) / sv.frsize > sv.bfree + (existed ? st.blocks / (sv.frsize / 512) : 0)) {
        /* it cannot fit: say so before anything changes */
        gfsh_err(cmd, "%s: %s", path, strerror(ENOSPC));
        close(fd);
        return -1;
    }
    if (gk_vfs_open_file(v, path, 0644, GK_WR_CREATE | GK_WR_TRUNC, &n) < 0) {
        if (fd > 0)
            close(fd);
        return err_path(cmd, path);
    }
    char *buf = gk_malloc(CHUNK * 4);
    uint64_t off = 0;
    int r = 0;
    for (;;) {
        if (io_interrupted(cmd)) {
            r = -1;
            break;
        }
        ssize_t k = read(fd, buf, CHUNK * 4);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            gfsh_err(cmd, "read: %s: %s", host, strerror(errno));
            r = -1;
            break;
        }
        if (k == 0)
            break;
        if (gk_node_write(&n, buf, (size_t)k, off) != k) {
            err_path(cmd, path);
            r = -1;
            break;
        }
        off += (uint64_t)k;
    }
    free(buf);
    if (fd > 0)
        close(fd);
    if (r < 0) {
        /* nothing half-written: a new file goes, an old one stays empty */
        if (!existed)
            gk_vfs_unlink(v, path);
        else
            gk_node_truncate(&n, 0);
    }
    return r;
}

/* ------------------------------------------------------------------ */
/* mkdir, rm, rmdir                                                    */

int run_mkdir(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    int r = strcmp(cmd->name, "mkdir-p") == 0 ? gk_vfs_mkdir_p(sh->g->vfs, a->argv[0], 0755)
                                             : gk_vfs_mkdir(sh->g->vfs, a->argv[0], 0755);
    return r < 0 ? err_path(cmd, a->argv[0]) : 0;
}

int run_rmdir(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    return gk_vfs_rmdir(sh->g->vfs, a->argv[0]) < 0 ? err_path(cmd, a->argv[0]) : 0;
}

/* The directory holding path and path's last name (malloc'd). */
static int split(gfsh *sh, const gfsh_cmd *cmd, const char *path, gk_node *dir, char **name)
{
    char *p = gk_strdup(path);
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/')
        p[--len] = 0;
    char *slash = strrchr(p, '/');
    if (!slash || !slash[1]) {
        free(p);
        *name = NULL;
        return 0;                     /* the root */
    }
    *name = gk_strdup(slash + 1);
    if (slash == p)
        slash[1] = 0;
    else
        *slash = 0;
    int r = gk_vfs_resolve(sh->g->vfs, p, 1, dir);
    free(p);
    if (r < 0) {
        free(*name);
        *name = NULL;
        return err_path(cmd, path);
    }
    return 0;
}

int run_rm(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    const char *path = a->argv[0];
    gk_vfs *v = sh->g->vfs;
    if (strcmp(cmd->name, "rm-rf") == 0) {
        gk_node dir;
        char *name;
        if (split(sh, cmd, path, &dir, &name) < 0)
            return -1;
        if (!name) {
            gfsh_err(cmd, "cannot remove root directory");
            return -1;
        }
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
            gfsh_err(cmd, "%s: refusing to remove '.' or '..'", path);
            free(name);
            return -1;
        }
        int r = gk_node_remove_tree(v, &dir, name);
        free(name);
        return r < 0 ? err_path(cmd, path) : 0;
    }
    gk_stat st;
    if (strcmp(cmd->name, "rm-f") == 0 && gk_vfs_lstat(v, path, &st) < 0 && errno == ENOENT)
        return 0;
    return gk_vfs_unlink(v, path) < 0 ? err_path(cmd, path) : 0;
}

/* ------------------------------------------------------------------ */
/* cp, cp-a, cp-r, mv                                                  */

enum { CP_REC = 1, CP_PRESERVE = 2 };

struct cpctx {
    gfsh *sh;
    const gfsh_cmd *cmd;
    int flags;
    gk_nodemap *links;            /* source (mount, inode) -> copy, for -a */
    char *buf;
};

struct copied { gk_node node; };

static int copy_xattrs(struct cpctx *c, gk_node *src, gk_node *dst, const char *path)
{
    ssize_t len = gk_node_listxattr(src, NULL, 0);
    if (len <= 0)
        return len < 0 ? err_path(c->cmd, path) : 0;
    char *names = gk_malloc((size_t)len);
    len = gk_node_listxattr(src, names, (size_t)len);
    int r = 0;
    for (ssize_t off = 0; len > 0 && off < len && r == 0; off += (ssize_t)strlen(names + off) + 1) {
        const char *nm = names + off;
        ssize_t vl = gk_node_getxattr(src, nm, NULL, 0);
        if (vl < 0) {
            r = err_path(c->cmd, path);
            break;
        }
        char *val = gk_malloc((size_t)vl + 1);
        vl = gk_node_getxattr(src, nm, val, (size_t)vl);
        if (vl < 0 || gk_node_setxattr(dst, nm, val, (size_t)vl, 0) < 0)
            r = err_path(c->cmd, path);
        free(val);
    }
    free(names);
    return r;
}

/* Owner, mode, times (and xattrs) of src onto dst, for cp -a. */
static int copy_attrs(struct cpctx *c, gk_node *src, const gk_stat *st, gk_node *dst,
                      const char *path)
{
    if (!S_ISLNK(st->mode) && gk_node_chmod(dst, st->mode & 07777) < 0)
        return err_path(c->cmd, path);
    if (gk_node_chown(dst, st->uid, st->gid) < 0)
        return err_path(c->cmd, path);
    if (!S_ISLNK(st->mode) && gk_node_chmod(dst, st->mode & 07777) < 0)
        return err_path(c->cmd, path);   /* chown dropped set-id bits */
    if (copy_xattrs(c, src, dst, path) < 0)
        return -1;
    struct timespec t[2] = {st->atime, st->mtime};
    return gk_node_utimens(dst, t) < 0 ? err_path(c->cmd, path) : 0;
}

static int copy_data(struct cpctx *c, gk_node *src, uint64_t size, gk_node *dst, const char *path)
{
    uint64_t off = 0;
    while (off < size) {
        if (io_interrupted(c->cmd))
            return -1;
        size_t want = size - off < CHUNK * 4 ? (size_t)(size - off) : CHUNK * 4;
        ssize_t k = gk_node_read(src, c->buf, want, off);
        if (k < 0)
            return err_path(c->cmd, path);
        if (k == 0)
            break;
        if (gk_node_write(dst, c->buf, (size_t)k, off) != k)
            return err_path(c->cmd, path);
        off += (uint64_t)k;
    }
    return 0;
}

/* Copy the non-directory sn (stat st, guest path src) to name in ddir. */
static int copy_leaf(struct cpctx *c, gk_node *sn, const gk_stat *st, gk_node *ddir,
                     const char *name, const char *src, const char *dpath)
{
    gk_vfs *v = c->sh->g->vfs;
    gk_node dn, existing;
    gk_stat dst;
    int have = gk_vfs_child(v, ddir, name, &existing) == 0 && gk_node_stat(&existing, &dst) == 0;
    uint32_t uid = c->flags & CP_PRESERVE ? st->uid : 0, gid = c->flags & CP_PRESERVE ? st->gid : 0;
    if (have && S_ISDIR(dst.mode)) {
        gfsh_err(c->cmd, "cannot overwrite directory '%s' with non-directory", dpath);
        return -1;
    }
    if ((c->flags & CP_PRESERVE) && st->nlink > 1) {
        void **slot = gk_nodemap_slot(c->links, sn, NULL);
        if (*slot) {
            /* a hard link to a file copied before: link to its copy */
            if (have && gk_node_unlink(ddir, name) < 0)
                return err_path(c->cmd, dpath);
            return gk_node_link(&((struct copied *)*slot)->node, ddir, name) < 0
                       ? err_path(c->cmd, dpath) : 0;
        }
    }
    if (S_ISREG(st->mode) && have && S_ISREG(dst.mode) && !(c->flags & CP_PRESERVE)) {
        /* plain cp writes into the existing file */
        dn = existing;
        if (gk_node_truncate(&dn, 0) < 0)
            return err_path(c->cmd, dpath);
    } else {
        if (have && gk_node_unlink(ddir, name) < 0)
            return err_path(c->cmd, dpath);
        int r;
        if (S_ISREG(st->mode)) {
            r = gk_node_create(ddir, name, st->mode & 07777, uid, gid, &dn);
        } else if (S_ISLNK(st->mode)) {
            char target[GK_PATH_MAX + 1];
            ssize_t tl = gk_node_readlink(sn, target, sizeof target - 1);
            if (tl < 0)
                return err_path(c->cmd, src);
            target[tl] = 0;
            r = gk_node_symlink(ddir, name, target, uid, gid, &dn);
        } else {
            r = gk_node_mknod(ddir, name, st->mode, st->rdev, uid, gid, &dn);
        }
        if (r < 0)
            return err_path(c->cmd, dpath);
    }
    if (S_ISREG(st->mode) && copy_data(c, sn, st->size, &dn, dpath) < 0)
        return -1;
    if ((c->flags & CP_PRESERVE) && st->nlink > 1) {
        struct copied *cp = gk_malloc(sizeof *cp);
        cp->node = dn;
        *gk_nodemap_slot(c->links, sn, NULL) = cp;
    }
    return (c->flags & CP_PRESERVE) ? copy_attrs(c, sn, st, &dn, dpath) : 0;
}

/* Copy src (guest path, not followed) to name in directory ddir: a tree
 * through the one walker, the copy's directories on a stack of its own. */
static int copy_one(struct cpctx *c, const char *src, gk_node *ddir, const char *name,
                    const char *dpath)
{
    gk_vfs *v = c->sh->g->vfs;
    gk_node sn;
    gk_stat st;
    if (gk_vfs_resolve(v, src, 0, &sn) < 0 || gk_node_stat(&sn, &st) < 0)
        return err_path(c->cmd, src);
    if (!S_ISDIR(st.mode))
        return copy_leaf(c, &sn, &st, ddir, name, src, dpath);
    if (!(c->flags & CP_REC)) {
        gfsh_err(c->cmd, "cp: -r not specified; omitting directory '%s'", src);
        return -1;
    }
    /* a directory copied into itself would never end */
    char *rs = gk_vfs_realpath(v, src), *rd = gk_vfs_realpath(v, dpath);
    if (!rd) {
        char *dp = gk_strdup(dpath), *sl = strrchr(dp, '/');
        if (sl)
            sl[sl == dp ? 1 : 0] = 0;
        char *rp = gk_vfs_realpath(v, dp);
        rd = rp ? gk_asprintf("%s/%s", strcmp(rp, "/") ? rp : "", name) : NULL;
        free(rp);
        free(dp);
    }
    int inside = rs && rd && (strcmp(rs, "/") == 0 ||
                              (strncmp(rd, rs, strlen(rs)) == 0 &&
                               (rd[strlen(rs)] == '/' || rd[strlen(rs)] == 0)));
    free(rs);
    free(rd);
    if (inside) {
        gfsh_err(c->cmd, "cannot copy a directory, '%s', into itself, '%s'", src, dpath);
        return -1;
    }
    struct lev { gk_node node; } *stack = NULL;
    size_t depth = 0, cap = 0;
    size_t srclen = strlen(src);
    int rc = 0;
    gk_walk *w = gk_walk_new(v, &sn, src, 0);
    const gk_walk_ent *e;
    while (rc == 0 && (e = gk_walk_next(w))) {
        if (io_interrupted(c->cmd)) {
            rc = -1;
            break;
        }
        if (e->kind == GK_WALK_ERROR) {
            gfsh_err(c->cmd, "%s", e->msg);
            rc = -1;
            break;
        }
        char *dp = gk_asprintf("%s%s", dpath, e->path + (strlen(e->path) >= srclen ? srclen : 0));
        if (e->kind == GK_WALK_DIR_END) {
            if (depth) {
                gk_node dn = stack[--depth].node;
                gk_node s2 = e->node;
                if (c->flags & CP_PRESERVE)
                    rc = copy_attrs(c, &s2, &e->st, &dn, dp);
            }
            free(dp);
            continue;
        }
        gk_node parent = e->depth == 0 ? *ddir : stack[depth - 1].node;
        const char *ename = e->depth == 0 ? name : e->name;
        gk_node sn2 = e->node;
        if (!S_ISDIR(e->st.mode)) {
            rc = copy_leaf(c, &sn2, &e->st, &parent, ename, e->path, dp);
            free(dp);
            continue;
        }
        if (e->noenter) {
            gfsh_err(c->cmd, "%s", e->msg ? e->msg : e->path);
            rc = -1;
            free(dp);
            break;
        }
        gk_node dn, existing;
        gk_stat dst;
        if (gk_vfs_child(v, &parent, ename, &existing) == 0 && gk_node_stat(&existing, &dst) == 0) {
            if (!S_ISDIR(dst.mode)) {
                gfsh_err(c->cmd, "cannot overwrite non-directory '%s' with directory '%s'", dp,
                         e->path);
                rc = -1;
            }
            dn = existing;
        } else if (gk_node_mkdir(&parent, ename, e->st.mode & 07777,
                                 c->flags & CP_PRESERVE ? e->st.uid : 0,
                                 c->flags & CP_PRESERVE ? e->st.gid : 0, &dn) < 0) {
            rc = err_path(c->cmd, dp);
        }
        free(dp);
        if (rc == 0) {
            if (depth == cap) {
                cap = cap ? cap * 2 : 16;
                stack = gk_realloc(stack, cap * sizeof *stack);
            }
            stack[depth++].node = dn;
        }
    }
    gk_walk_free(w);
    free(stack);
    return rc;
}

/* cp SRC DEST: DEST an existing directory means DEST/basename(SRC). */
static int copy_path(gfsh *sh, const gfsh_cmd *cmd, const char *src, const char *dest, int flags)
{
    gk_vfs *v = sh->g->vfs;
    gk_stat st;
    gk_node ddir;
    char *name, *dpath;
    if (gk_vfs_lstat(v, src, &st) < 0) {
        gfsh_err(cmd, "cannot stat '%s': %s", src, strerror(errno));
        return -1;
    }
    if (gk_vfs_stat(v, dest, &st) == 0 && S_ISDIR(st.mode)) {
        if (gk_vfs_resolve(v, dest, 1, &ddir) < 0)
            return err_path(cmd, dest);
        char *s = gk_strdup(src);
        size_t l = strlen(s);
        while (l > 1 && s[l - 1] == '/')
            s[--l] = 0;
        name = gk_strdup(strrchr(s, '/') + 1);
        free(s);
        dpath = io_join(dest, name);
    } else {
        if (split(sh, cmd, dest, &ddir, &name) < 0)
            return -1;
        if (!name) {
            gfsh_err(cmd, "%s: cannot copy onto the root", dest);
            return -1;
        }
        dpath = gk_strdup(dest);
    }
    struct cpctx c = {sh, cmd, flags, gk_nodemap_new(), gk_malloc(CHUNK * 4)};
    int r = copy_one(&c, src, &ddir, name, dpath);
    gk_nodemap_free(c.links, free);
    free(c.buf);
    free(name);
    free(dpath);
    return r;
}

int run_cp(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    int flags = strcmp(cmd->name, "cp-a") == 0 ? CP_REC | CP_PRESERVE :
                strcmp(cmd->name, "cp-r") == 0 ? CP_REC : 0;
    return copy_path(sh, cmd, a->argv[0], a->argv[1], flags);
}

int run_mv(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_vfs *v = sh->g->vfs;
    const char *src = a->argv[0], *dest = a->argv[1];
    gk_stat st, sst;
    if (gk_vfs_lstat(v, src, &sst) < 0) {
        gfsh_err(cmd, "cannot stat '%s': %s", src, strerror(errno));
        return -1;
    }
    char *to;
    if (gk_vfs_stat(v, dest, &st) == 0 && S_ISDIR(st.mode)) {
        char *s = gk_strdup(src);
        size_t l = strlen(s);
        while (l > 1 && s[l - 1] == '/')
            s[--l] = 0;
        to = io_join(dest, strrchr(s, '/') + 1);
        free(s);
    } else {
        to = gk_strdup(dest);
    }
    int r = gk_vfs_rename(v, src, to, 0);
    if (r < 0 && errno == EXDEV) {
        /* another filesystem: copy, then remove (mv(1) does the same) */
        r = copy_path(sh, cmd, src, to, CP_REC | CP_PRESERVE);
        if (r == 0) {
            gk_node dir;
            char *name;
            r = split(sh, cmd, src, &dir, &name);
            if (r == 0 && name && gk_node_remove_tree(v, &dir, name) < 0)
                r = err_path(cmd, src);
            free(name);
        }
        free(to);
        return r;
    }
    if (r < 0) {
        int e = errno;
        if (e == EINVAL && S_ISDIR(sst.mode))
            gfsh_err(cmd, "cannot move '%s' to a subdirectory of itself, '%s'", src, to);
        else if (e == ENOTDIR && S_ISDIR(sst.mode))
            gfsh_err(cmd, "cannot overwrite non-directory '%s' with directory '%s'", to, src);
        else
            err_path(cmd, e == ENOENT ? src : to);
        r = -1;
    }
    free(to);
    return r;
}

/* ------------------------------------------------------------------ */
/* ln                                                                  */

int run_ln(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_vfs *v = sh->g->vfs;
    const char *target = a->argv[0], *link = a->argv[1];
    int sym = strncmp(cmd->name, "ln-s", 4) == 0;
    int force = cmd->name[strlen(cmd->name) - 1] == 'f';
    gk_stat st;
    if (force && gk_vfs_lstat(v, link, &st) == 0) {
        if (S_ISDIR(st.mode)) {
            gfsh_err(cmd, "%s: cannot overwrite directory", link);
            return -1;
        }
        if (gk_vfs_unlink(v, link) < 0)
            return err_path(cmd, link);
    }
    int r = sym ? gk_vfs_symlink(v, target, link) : gk_vfs_link(v, target, link);
    return r < 0 ? err_path(cmd, link) : 0;
}

/* ------------------------------------------------------------------ */
/* chmod, chown, lchown, touch, truncate                               */

int run_chmod(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    if (a->num[0] < 0 || a->num[0] > 07777) {
        gfsh_err(cmd, "%s: mode %" PRId64 " out of range", a->argv[1], a->num[0]);
        return -1;
    }
    int r = gk_vfs_chmod(sh->g->vfs, a->argv[1], (uint32_t)a->num[0], 1);
    return r < 0 ? err_path(cmd, a->argv[1]) : 0;
}

int run_chown(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    uint32_t uid = (uint32_t)a->num[0], gid = (uint32_t)a->num[1];
    if (a->num[0] < -1 || a->num[0] > UINT32_MAX || a->num[1] < -1 || a->num[1] > UINT32_MAX) {
        gfsh_err(cmd, "%s: owner or group out of range", a->argv[2]);
        return -1;
    }
    int r = gk_vfs_chown(sh->g->vfs, a->argv[2], uid, gid, cmd->name[0] != 'l');
    return r < 0 ? err_path(cmd, a->argv[2]) : 0;
}

int run_touch(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_vfs *v = sh->g->vfs;
    const char *path = a->argv[0];
    gk_stat st;
    gk_node n;
    if (gk_vfs_stat(v, path, &st) == 0) {
        if (!S_ISREG(st.mode)) {
            gfsh_err(cmd, "%s: touch can only be used on a regular files", path);
            return -1;
        }
        struct timespec t[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
        return gk_vfs_utimens(v, path, t, 1) < 0 ? err_path(cmd, path) : 0;
    }
    if (errno != ENOENT)
        return err_path(cmd, path);
    if (gk_vfs_lstat(v, path, &st) == 0 && S_ISLNK(st.mode)) {
        gfsh_err(cmd, "%s: touch can only be used on a regular files", path);
        return -1;
    }
    return gk_vfs_open_file(v, path, 0644, GK_WR_CREATE, &n) < 0 ? err_path(cmd, path) : 0;
}

int run_truncate(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    uint64_t size = 0;
    if (strcmp(cmd->name, "truncate-size") == 0) {
        if (a->num[1] < 0) {
            gfsh_err(cmd, "%s: negative size", a->argv[0]);
            return -1;
        }
        size = (uint64_t)a->num[1];
    }
    return gk_vfs_truncate(sh->g->vfs, a->argv[0], size) < 0 ? err_path(cmd, a->argv[0]) : 0;
}

/* ------------------------------------------------------------------ */
/* xattrs, mknod, mkfifo, sync                                         */

int run_setxattr(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    const char *name = a->argv[0], *val = a->argv[1], *path = a->argv[3];
    int64_t len = a->num[2];
    if (len < 0 || (uint64_t)len > strlen(val)) {
        gfsh_err(cmd, "%s: vallen %" PRId64 " does not fit the value (%zu bytes)", path, len,
                 strlen(val));
        return -1;
    }
    int r = gk_vfs_setxattr(sh->g->vfs, path, name, val, (size_t)len, 0, cmd->name[0] != 'l');
    return r < 0 ? err_path(cmd, path) : 0;
}

int run_removexattr(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    int r = gk_vfs_removexattr(sh->g->vfs, a->argv[1], a->argv[0], cmd->name[0] != 'l');
    return r < 0 ? err_path(cmd, a->argv[1]) : 0;
}

int run_mknod(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    int fifo = strcmp(cmd->name, "mkfifo") == 0;
    int64_t mode = a->num[0];
    const char *path = fifo ? a->argv[1] : a->argv[3];
    if (mode < 0 || mode > 0177777) {
        gfsh_err(cmd, "%s: mode %" PRId64 " out of range", path, mode);
        return -1;
    }
    uint64_t rdev = 0;
    if (fifo) {
        mode = (mode & 07777) | S_IFIFO;
    } else {
        if (a->num[1] < 0 || a->num[1] > 0xfff || a->num[2] < 0 || a->num[2] > 0xfffff) {
            gfsh_err(cmd, "%s: device number out of range", path);
            return -1;
        }
        rdev = makedev((unsigned)a->num[1], (unsigned)a->num[2]);
    }
    return gk_vfs_mknod(sh->g->vfs, path, (uint32_t)mode, rdev) < 0 ? err_path(cmd, path) : 0;
}

int run_sync(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)a;
    if (!sh->g || !sh->g->launched)
        return 0;
    if (gk_vfs_sync(sh->g->vfs) < 0) {
        gfsh_err_gk(cmd);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* edit, vi, emacs                                                     */

int run_edit(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    const char *editor = strcmp(cmd->name, "vi") == 0 ? "vi" :
                         strcmp(cmd->name, "emacs") == 0 ? "emacs" : NULL;
    gk_edit e;
    int changed = 0, r = 0;
    if (gk_edit_fetch(sh->g->vfs, a->argv[0], &e) < 0 || gk_edit_run(&e, editor, NULL, &changed) < 0 ||
        (changed && gk_edit_store(sh->g->vfs, &e, NULL) < 0)) {
        err_path(cmd, a->argv[0]);
        r = -1;
    }
    gk_edit_clear(&e);
    return r;
}
