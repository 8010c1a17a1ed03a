/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest VFS, writing: node-level calls that hand one change to the
 * filesystem driver (fs/fs-int.h's write operations), and path-level calls
 * that resolve guest paths exactly as fs/vfs.c does for reads (the parent
 * of a new or removed name with every link followed, inside the guest;
 * the last component not followed).  Mountpoints cannot be removed or
 * renamed (EBUSY), and nothing moves between filesystems (EXDEV). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs-int.h"

#define VFS_PATH_MAX GK_PATH_MAX
#define VFS_NAME_MAX 255

/* errno values whose plain text says everything: "PATH: message". */
static int plain(int e)
{
    switch (e) {
    case ENOENT: case EEXIST: case ENOTDIR: case EISDIR: case ENOTEMPTY: case ENOSPC:
    case ENAMETOOLONG: case EROFS: case EXDEV: case EBUSY: case EMLINK: case ELOOP:
    case ENODATA: case EFBIG: case EINVAL: case EPERM:
        return 1;
    default:
        return 0;
    }
}

/* A failure about path: errno err (positive).  For the plain errors the
 * message is "path: strerror", otherwise the driver's message prefixed. */
static int wfail(const char *path, int err)
{
    if (plain(err))
        gk_error("%s: %s", path, strerror(err));
    else
        gk_error_prefix("%s", path);
    errno = err;
    return -1;
}

/* A driver call: r < 0 is -errno with the driver's message, which for
 * the plain errors is just their text (the caller names the path). */
static int drv(int r)
{
    if (r < 0) {
        if (plain(-r))
            gk_error("%s", strerror(-r));
        errno = -r;
        return -1;
    }
    return 0;
}

static gk_fs *wfs(const gk_node *n, const char *what)
{
    gk_fs *fs = n->mnt->fs;
    if (fs->readonly) {
        gk_error("%s: %s", what, strerror(EROFS));
        errno = EROFS;
        return NULL;
    }
    return fs;
}

#define NEED_OP(fs, op, what) \
    do { \
        if (!(fs)->ops->op) { \
            gk_error("%s: %s", (what), strerror(EROFS)); \
            errno = EROFS; \
            return -1; \
        } \
    } while (0)

int gk_node_writable(const gk_node *n)
{
    return !n->mnt->fs->readonly;
}

/* Is (dir's mount, ino) a directory some filesystem is mounted on? */
static int busy(const gk_node *dir, uint64_t ino)
{
    gk_vfs *v = dir->mnt->vfs;
    if (!v)
        return 0;
    for (int i = 0; i < gk_vfs_nmounts(v); i++) {
        gk_mount *m = gk_vfs_mount_at(v, i);
        if (m->covered.mnt == dir->mnt && m->covered.ino == ino)
            return 1;
    }
    return 0;
}

/* name in dir is not a mountpoint (EBUSY); a missing name is fine here. */
static int not_busy(gk_node *dir, const char *name)
{
    gk_fs *fs = dir->mnt->fs;
    uint64_t ino;
    if (fs->ops->lookup(fs, dir->ino, name, &ino) == 0 && busy(dir, ino)) {
        gk_error("%s: %s", name, strerror(EBUSY));
        errno = EBUSY;
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Nodes                                                               */

int gk_node_create(gk_node *dir, const char *name, uint32_t mode, uint32_t uid, uint32_t gid,
                   gk_node *out)
{
    gk_fs *fs = wfs(dir, name);
    if (!fs)
        return -1;
    NEED_OP(fs, create, name);
    uint64_t ino = 0;
    if (drv(fs->ops->create(fs, dir->ino, name, mode, uid, gid, &ino)) < 0)
        return -1;
    if (out)
        *out = (gk_node){dir->mnt, ino};
    return 0;
}

int gk_node_mkdir(gk_node *dir, const char *name, uint32_t mode, uint32_t uid, uint32_t gid,
                  gk_node *out)
{
    gk_fs *fs = wfs(dir, name);
    if (!fs)
        return -1;
    NEED_OP(fs, mkdir, name);
    uint64_t ino = 0;
    if (drv(fs->ops->mkdir(fs, dir->ino, name, mode, uid, gid, &ino)) < 0)
        return -1;
    if (out)
        *out = (gk_node){dir->mnt, ino};
    return 0;
}

int gk_node_symlink(gk_node *dir, const char *name, const char *target, uint32_t uid,
                    uint32_t gid, gk_node *out)
{
    gk_fs *fs = wfs(dir, name);
    if (!fs)
        return -1;
    NEED_OP(fs, symlink, name);
    uint64_t ino = 0;
    if (drv(fs->ops->symlink(fs, dir->ino, name, target, uid, gid, &ino)) < 0)
        return -1;
    if (out)
        *out = (gk_node){dir->mnt, ino};
    return 0;
}

int gk_node_mknod(gk_node *dir, const char *name, uint32_t mode, uint64_t rdev, uint32_t uid,
                  uint32_t gid, gk_node *out)
{
    gk_fs *fs = wfs(dir, name);
    if (!fs)
        return -1;
    uint64_t ino = 0;
    if ((mode & S_IFMT) == 0 || S_ISREG(mode)) {
        NEED_OP(fs, create, name);
        if (drv(fs->ops->create(fs, dir->ino, name, mode & 07777, uid, gid, &ino)) < 0)
            return -1;
    } else {
        NEED_OP(fs, mknod, name);
        if (drv(fs->ops->mknod(fs, dir->ino, name, mode, rdev, uid, gid, &ino)) < 0)
            return -1;
    }
    if (out)
        *out = (gk_node){dir->mnt, ino};
    return 0;
}

int gk_node_link(gk_node *n, gk_node *dir, const char *name)
{
    if (n->mnt != dir->mnt) {
        gk_error("%s: %s", name, strerror(EXDEV));
        errno = EXDEV;
        return -1;
    }
    gk_fs *fs = wfs(dir, name);
    if (!fs)
        return -1;
    NEED_OP(fs, link, name);
    return drv(fs->ops->link(fs, n->ino, dir->ino, name));
}

int gk_node_unlink(gk_node *dir, const char *name)
{
    gk_fs *fs = wfs(dir, name);
    if (!fs)
        return -1;
    NEED_OP(fs, unlink, name);
    if (not_busy(dir, name) < 0)
        return -1;
    return drv(fs->ops->unlink(fs, dir->ino, name));
}

int gk_node_rmdir(gk_node *dir, const char *name)
{
    gk_fs *fs = wfs(dir, name);
    if (!fs)
        return -1;
    NEED_OP(fs, rmdir, name);
    if (not_busy(dir, name) < 0)
        return -1;
    return drv(fs->ops->rmdir(fs, dir->ino, name));
}

int gk_node_rename(gk_node *olddir, const char *oldname, gk_node *newdir, const char *newname,
                   unsigned flags)
{
    if (olddir->mnt != newdir->mnt) {
        gk_error("%s: %s", newname, strerror(EXDEV));
        errno = EXDEV;
        return -1;
    }
    gk_fs *fs = wfs(olddir, oldname);
    if (!fs)
        return -1;
    NEED_OP(fs, rename, oldname);
    if (not_busy(olddir, oldname) < 0 || not_busy(newdir, newname) < 0)
        return -1;
    return drv(fs->ops->rename(fs, olddir->ino, oldname, newdir->ino, newname, flags));
}

ssize_t gk_node_write(gk_node *n, const void *buf, size_t len, uint64_t off)
{
    gk_fs *fs = wfs(n, "write");
    if (!fs)
        return -1;
    NEED_OP(fs, write, "write");
    size_t done = 0;
    while (done < len) {
        ssize_t r = fs->ops->write(fs, n->ino, (const char *)buf + done, len - done, off + done);
        if (r < 0) {
            drv((int)r);
            return done ? (ssize_t)done : -1;
        }
        if (r == 0) {
            gk_error("inode %llu: short write", (unsigned long long)n->ino);
            errno = EIO;
            return done ? (ssize_t)done : -1;
        }
        done += (size_t)r;
    }
    return (ssize_t)done;
}

int gk_node_truncate(gk_node *n, uint64_t size)
{
    gk_fs *fs = wfs(n, "truncate");
    if (!fs)
        return -1;
    NEED_OP(fs, truncate, "truncate");
    return drv(fs->ops->truncate(fs, n->ino, size));
}

int gk_node_chmod(gk_node *n, uint32_t mode)
{
    gk_fs *fs = wfs(n, "chmod");
    if (!fs)
        return -1;
    NEED_OP(fs, chmod, "chmod");
    return drv(fs->ops->chmod(fs, n->ino, mode & 07777));
}

int gk_node_chown(gk_node *n, uint32_t uid, uint32_t gid)
{
    gk_fs *fs = wfs(n, "chown");
    if (!fs)
        return -1;
    NEED_OP(fs, chown, "chown");
    return drv(fs->ops->chown(fs, n->ino, uid, gid));
}

int gk_node_utimens(gk_node *n, const struct timespec times[2])
{
    gk_fs *fs = wfs(n, "utimens");
    if (!fs)
        return -1;
    NEED_OP(fs, utimens, "utimens");
    return drv(fs->ops->utimens(fs, n->ino, times));
}

/* The kernel's rule (xattr_permission): user.* attributes live only on
 * regular files and directories; changing one on a symlink, device node,
 * FIFO or socket is EPERM, whatever the filesystem could store. */
static int user_xattr_ok(gk_node *n, const char *name)
{
    if (strncmp(name, "user.", 5) != 0)
        return 0;
    gk_stat st;
    if (gk_node_stat(n, &st) < 0)
        return -1;
    if (S_ISREG(st.mode) || S_ISDIR(st.mode))
        return 0;
    gk_error("%s", strerror(EPERM));
    errno = EPERM;
    return -1;
}

int gk_node_setxattr(gk_node *n, const char *name, const void *val, size_t len, int flags)
{
    gk_fs *fs = wfs(n, name);
    if (!fs)
        return -1;
    NEED_OP(fs, setxattr, name);
    if (user_xattr_ok(n, name) < 0)
        return -1;
    return drv(fs->ops->setxattr(fs, n->ino, name, val, len, flags));
}

int gk_node_removexattr(gk_node *n, const char *name)
{
    gk_fs *fs = wfs(n, name);
    if (!fs)
        return -1;
    NEED_OP(fs, removexattr, name);
    if (user_xattr_ok(n, name) < 0)
        return -1;
    return drv(fs->ops->removexattr(fs, n->ino, name));
}

/* rm -rf of dir/name through the one walker (fs/walk.c): files as they
 * come, each directory when its walk ends.  The walker lists a directory
 * when it enters it, so removing its entries meanwhile is fine.  A
 * directory another filesystem is mounted on is EBUSY (the walker has
 * crossed onto that filesystem: its node is on another mount). */
int gk_node_remove_tree(gk_vfs *v, gk_node *dir, const char *name)
{
    gk_fs *fs = wfs(dir, name);
    if (!fs)
        return -1;
    uint64_t ino;
    int lr = fs->ops->lookup(fs, dir->ino, name, &ino);
    if (lr == -ENOENT)
        return 0;
    if (lr < 0)
        return drv(lr);
    if (busy(dir, ino)) {
        gk_error("%s: %s", name, strerror(EBUSY));
        errno = EBUSY;
        return -1;
    }
    gk_node top = {dir->mnt, ino};
    gk_stat st;
    if (gk_node_stat(&top, &st) < 0)
        return -1;
    if (!S_ISDIR(st.mode))
        return gk_node_unlink(dir, name);
    struct { gk_node node; char *name; } *stack = NULL;   /* directories being emptied */
    size_t depth = 0, cap = 0;
    int rc = 0;
    gk_walk *w = gk_walk_new(v, &top, name, 0);
    const gk_walk_ent *e;
    while (rc == 0 && (e = gk_walk_next(w))) {
        if (e->kind == GK_WALK_ERROR) {
            gk_error("%s", e->msg);
            errno = e->err ? e->err : EIO;
            rc = -1;
            break;
        }
        if (e->kind == GK_WALK_DIR_END) {
            depth--;
            gk_node *parent = depth ? &stack[depth - 1].node : dir;
            rc = gk_node_rmdir(parent, depth ? stack[depth].name : name);
            if (rc < 0 && errno == ENOENT)
                rc = 0;
            free(stack[depth].name);
            continue;
        }
        gk_node *parent = e->depth ? &stack[depth - 1].node : dir;
        if (e->depth && e->node.mnt != parent->mnt) {
            gk_error("%s: %s", e->path, strerror(EBUSY));
            errno = EBUSY;
            rc = -1;
            break;
        }
        if (!S_ISDIR(e->st.mode)) {
            rc = gk_node_unlink(parent, e->name);
            if (rc < 0 && errno == ENOENT)
                rc = 0;
            continue;
        }
        if (e->noenter) {
            gk_error("%s", e->msg ? e->msg : e->path);
            errno = e->err ? e->err : ELOOP;
            rc = -1;
            break;
        }
        if (depth == cap) {
            cap = cap ? cap * 2 : 16;
            stack = gk_realloc(stack, cap * sizeof *stack);
        }
        stack[depth].node = e->node;
        stack[depth++].name = gk_strdup(e->name);
    }
    gk_walk_free(w);
    while (depth)
        free(stack[--depth].name);
    free(stack);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Paths                                                               */

/* Split path into its parent directory (resolved, links followed) and the
 * last component (malloc'd in *name; NULL for "/").  *slash tells whether
 * path ended in "/". */
static int parent_of(gk_vfs *v, const char *path, gk_node *dir, char **name, int *slash)
{
    *name = NULL;
    if (!path || !*path)
        return wfail(path ? path : "(null)", ENOENT);
    size_t len = strnlen(path, VFS_PATH_MAX + 1);
    if (len > VFS_PATH_MAX)
        return wfail("path", ENAMETOOLONG);
    char *p = gk_strdup(path);
    size_t end = len;
    while (end > 1 && p[end - 1] == '/')
        end--;
    if (slash)
        *slash = end < len;
    p[end] = 0;
    char *last = strrchr(p, '/');
    const char *base = last ? last + 1 : p;
    if (!*base || (last == p && !p[1])) {
        /* the root itself */
        int r = gk_vfs_resolve(v, "/", 1, dir);
        free(p);
        return r;
    }
    if (strlen(base) > VFS_NAME_MAX) {
        free(p);
        return wfail(path, ENAMETOOLONG);
    }
    *name = gk_strdup(base);
    if (last == p)
        p[1] = 0;
    else if (last)
        *last = 0;
    else
        strcpy(p, "/");
    int r = gk_vfs_resolve(v, p, 1, dir);
    free(p);
    if (r < 0) {
        free(*name);
        *name = NULL;
        return plain(errno) ? wfail(path, errno) : -1;
    }
    gk_stat st;
    if (gk_node_stat(dir, &st) < 0 || !S_ISDIR(st.mode)) {
        free(*name);
        *name = NULL;
        return wfail(path, ENOTDIR);
    }
    return 0;
}

/* A driver or node error about path. */
static int pathfail(const char *path)
{
    int e = errno ? errno : EIO;
    return wfail(path, e);
}

int gk_vfs_open_file(gk_vfs *v, const char *path, uint32_t mode, int how, gk_node *out)
{
    char *cur = gk_strdup(path);
    int rc = -1;
    for (int hops = 0; hops <= GK_MAXSYMLINKS; hops++) {
        gk_node n;
        gk_stat st;
        if (!(how & GK_WR_EXCL) && gk_vfs_resolve(v, cur, 1, &n) == 0) {
            if (gk_node_stat(&n, &st) < 0)
                break;
            if (S_ISDIR(st.mode)) {
                wfail(path, EISDIR);
                break;
            }
            if (!S_ISREG(st.mode)) {
                gk_error("%s: not a regular file", path);
                errno = EINVAL;
                break;
            }
            if ((how & GK_WR_TRUNC) && st.size && gk_node_truncate(&n, 0) < 0) {
                pathfail(path);
                break;
            }
            *out = n;
            rc = 0;
            break;
        }
        if (!(how & GK_WR_EXCL) && errno != ENOENT)
            break;
        if (!(how & GK_WR_CREATE)) {
            wfail(path, ENOENT);
            break;
        }
        /* a dangling symlink: open(2) creates what it points to */
        if (gk_vfs_lstat(v, cur, &st) == 0) {
            if ((how & GK_WR_EXCL) || !S_ISLNK(st.mode)) {
                wfail(path, EEXIST);
                break;
            }
            char target[VFS_PATH_MAX + 1];
            ssize_t tl = gk_vfs_readlink(v, cur, target, VFS_PATH_MAX);
            if (tl <= 0)
                break;
            target[tl] = 0;
            char *next;
            if (target[0] == '/') {
                next = gk_strdup(target);
            } else {
                char *slash = strrchr(cur, '/');
                size_t dl = slash ? (size_t)(slash - cur) : 0;
                next = gk_asprintf("%.*s/%s", (int)dl, cur, target);
            }
            free(cur);
            cur = next;
            continue;
        }
        gk_node dir;
        char *name;
        if (parent_of(v, cur, &dir, &name, NULL) < 0)
            break;
        if (!name) {
            wfail(path, EISDIR);
            break;
        }
        int r = gk_node_create(&dir, name, mode & 07777, 0, 0, out);
        free(name);
        if (r < 0)
            pathfail(path);
        else
            rc = 0;
        break;
    }
    if (rc < 0 && errno == 0)
        wfail(path, ELOOP);
    free(cur);
    return rc;
}

/* Is there room for len more bytes where path is (or would be)?  Checked
 * before anything is created, so that a file that cannot fit changes
 * nothing at all. */
static int room_for(gk_vfs *v, const char *path, uint64_t len)
{
    gk_statvfs sv;
    gk_node dir;
    char *name = NULL;
    if (gk_vfs_statvfs(v, path, &sv) < 0) {
        if (parent_of(v, path, &dir, &name, NULL) < 0)
            return 0;                 /* the write will say what is wrong */
        free(name);
        if (gk_fs_statvfs(dir.mnt->fs, &sv) < 0)
            return 0;
    }
    if (sv.frsize && (len + sv.frsize - 1) / sv.frsize > sv.bfree)
        return wfail(path, ENOSPC);
    return 0;
}

int gk_vfs_write_file(gk_vfs *v, const char *path, const void *buf, size_t len, int append)
{
    gk_node n;
    gk_stat st;
    if (room_for(v, path, len) < 0)
        return -1;
    int existed = gk_vfs_stat(v, path, &st) == 0;
    if (gk_vfs_open_file(v, path, 0644, GK_WR_CREATE | (append ? 0 : GK_WR_TRUNC), &n) < 0)
        return -1;
    uint64_t off = 0;
    if (append) {
        if (gk_node_stat(&n, &st) < 0)
            return pathfail(path);
        off = st.size;
    }
    if (!len)
        return 0;
    ssize_t w = gk_node_write(&n, buf, len, off);
    if (w == (ssize_t)len)
        return 0;
    int e = errno ? errno : EIO;
    char *msg = gk_strdup(gk_errmsg());
    if (!existed)                 /* nothing half-written left behind */
        gk_vfs_unlink(v, path);
    else if (w > 0 && !append)
        gk_node_truncate(&n, 0);
    gk_error("%s", msg);
    free(msg);
    return wfail(path, e);
}

int gk_vfs_mkdir(gk_vfs *v, const char *path, uint32_t mode)
{
    gk_node dir;
    char *name;
    if (parent_of(v, path, &dir, &name, NULL) < 0)
        return -1;
    if (!name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        free(name);
        return wfail(path, EEXIST);
    }
    int r = gk_node_mkdir(&dir, name, mode & 07777, 0, 0, NULL);
    free(name);
    return r < 0 ? pathfail(path) : 0;
}

int gk_vfs_mkdir_p(gk_vfs *v, const char *path, uint32_t mode)
{
    size_t len = strnlen(path, VFS_PATH_MAX + 1);
    if (len > VFS_PATH_MAX)
        return wfail("path", ENAMETOOLONG);
    char *p = gk_strdup(path);
    int rc = 0;
    for (size_t i = 1; i <= len && rc == 0; i++) {
        if (p[i] != '/' && p[i] != 0)
            continue;
        char save = p[i];
        p[i] = 0;
        gk_stat st;
        if (gk_vfs_stat(v, p, &st) == 0) {
            if (!S_ISDIR(st.mode))
                rc = wfail(p, ENOTDIR);
        } else if (errno == ENOENT) {
            if (gk_vfs_mkdir(v, p, mode) < 0 && !(errno == EEXIST && gk_vfs_stat(v, p, &st) == 0 &&
                                                  S_ISDIR(st.mode)))
                rc = -1;
        } else {
            rc = -1;
        }
        p[i] = save;
        while (p[i] == '/' && p[i + 1] == '/')
            i++;
    }
    free(p);
    return rc;
}

int gk_vfs_rmdir(gk_vfs *v, const char *path)
{
    gk_node dir;
    char *name;
    if (parent_of(v, path, &dir, &name, NULL) < 0)
        return -1;
    if (!name) {
        return wfail(path, EBUSY);
    }
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        free(name);
        return wfail(path, EINVAL);
    }
    int r = gk_node_rmdir(&dir, name);
    free(name);
    return r < 0 ? pathfail(path) : 0;
}

int gk_vfs_unlink(gk_vfs *v, const char *path)
{
    gk_node dir;
    char *name;
    int slash = 0;
    if (parent_of(v, path, &dir, &name, &slash) < 0)
        return -1;
    if (!name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        free(name);
        return wfail(path, EISDIR);
    }
    if (slash) {
        gk_stat st;
        int r = gk_vfs_lstat(v, path, &st);
        free(name);
        if (r < 0)
            return -1;
        return wfail(path, S_ISDIR(st.mode) ? EISDIR : ENOTDIR);
    }
    int r = gk_node_unlink(&dir, name);
    free(name);
    return r < 0 ? pathfail(path) : 0;
}

int gk_vfs_rename(gk_vfs *v, const char *from, const char *to, unsigned flags)
{
    gk_node od, nd;
    char *on, *nn;
    if (parent_of(v, from, &od, &on, NULL) < 0)
        return -1;
    if (parent_of(v, to, &nd, &nn, NULL) < 0) {
        free(on);
        return -1;
    }
    int r;
    if (!on || !nn || !strcmp(on, ".") || !strcmp(on, "..") || !strcmp(nn, ".") || !strcmp(nn, "..")) {
        r = wfail(on ? to : from, on && nn ? EINVAL : EBUSY);
    } else {
        r = gk_node_rename(&od, on, &nd, nn, flags);
        if (r < 0)
            r = pathfail(errno == EEXIST || errno == EISDIR || errno == ENOTDIR ||
                         errno == ENOTEMPTY ? to : from);
    }
    free(on);
    free(nn);
    return r;
}

int gk_vfs_link(gk_vfs *v, const char *target, const char *newpath)
{
    gk_node n, dir;
    char *name;
    if (gk_vfs_resolve(v, target, 0, &n) < 0)
        return -1;
    if (parent_of(v, newpath, &dir, &name, NULL) < 0)
        return -1;
    if (!name) {
        return wfail(newpath, EEXIST);
    }
    int r = gk_node_link(&n, &dir, name);
    free(name);
    return r < 0 ? pathfail(newpath) : 0;
}

int gk_vfs_symlink(gk_vfs *v, const char *target, const char *linkpath)
{
    gk_node dir;
    char *name;
    if (parent_of(v, linkpath, &dir, &name, NULL) < 0)
        return -1;
    if (!name) {
        return wfail(linkpath, EEXIST);
    }
    int r = gk_node_symlink(&dir, name, target, 0, 0, NULL);
    free(name);
    return r < 0 ? pathfail(linkpath) : 0;
}

int gk_vfs_mknod(gk_vfs *v, const char *path, uint32_t mode, uint64_t rdev)
{
    gk_node dir;
    char *name;
    if (parent_of(v, path, &dir, &name, NULL) < 0)
        return -1;
    if (!name) {
        return wfail(path, EEXIST);
    }
    int r = gk_node_mknod(&dir, name, mode, rdev, 0, 0, NULL);
    free(name);
    return r < 0 ? pathfail(path) : 0;
}

int gk_vfs_chmod(gk_vfs *v, const char *path, uint32_t mode, int follow)
{
    gk_node n;
    if (gk_vfs_resolve(v, path, follow, &n) < 0)
        return -1;
    return gk_node_chmod(&n, mode) < 0 ? pathfail(path) : 0;
}

int gk_vfs_chown(gk_vfs *v, const char *path, uint32_t uid, uint32_t gid, int follow)
{
    gk_node n;
    if (gk_vfs_resolve(v, path, follow, &n) < 0)
        return -1;
    return gk_node_chown(&n, uid, gid) < 0 ? pathfail(path) : 0;
}

int gk_vfs_utimens(gk_vfs *v, const char *path, const struct timespec times[2], int follow)
{
    gk_node n;
    if (gk_vfs_resolve(v, path, follow, &n) < 0)
        return -1;
    return gk_node_utimens(&n, times) < 0 ? pathfail(path) : 0;
}

int gk_vfs_truncate(gk_vfs *v, const char *path, uint64_t size)
{
    gk_node n;
    gk_stat st;
    if (gk_vfs_resolve(v, path, 1, &n) < 0 || gk_node_stat(&n, &st) < 0)
        return -1;
    if (S_ISDIR(st.mode))
        return wfail(path, EISDIR);
    return gk_node_truncate(&n, size) < 0 ? pathfail(path) : 0;
}

int gk_vfs_setxattr(gk_vfs *v, const char *path, const char *name, const void *val, size_t len,
                    int flags, int follow)
{
    gk_node n;
    if (gk_vfs_resolve(v, path, follow, &n) < 0)
        return -1;
    return gk_node_setxattr(&n, name, val, len, flags) < 0 ? pathfail(path) : 0;
}

int gk_vfs_removexattr(gk_vfs *v, const char *path, const char *name, int follow)
{
    gk_node n;
    if (gk_vfs_resolve(v, path, follow, &n) < 0)
        return -1;
    return gk_node_removexattr(&n, name) < 0 ? pathfail(path) : 0;
}

int gk_vfs_sync(gk_vfs *v)
{
    int rc = 0;
    for (int i = 0; i < gk_vfs_nmounts(v); i++) {
        gk_mount *m = gk_vfs_mount_at(v, i);
        if (gk_fs_sync(m->fs) < 0) {
            int e = errno;
            gk_error_prefix("%s", m->device && *m->device ? m->device : m->mountpoint);
            errno = e;
            rc = -1;
        }
    }
    return rc;
}
