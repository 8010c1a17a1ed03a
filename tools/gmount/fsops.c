/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gmount: the guest VFS as FUSE operations (libfuse's path API, as
 * guestmount uses it).  Paths come from the kernel with every symlink
 * already followed, so each resolves without following its last element.
 * Open files keep their resolved node (as a gm_fh: the same in every
 * session): reads and writes never walk the path again.  Every call works
 * in one session of the pool, taken for it alone (gmount.h). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "gmount.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

/* A failed call: -errno, with the library's message as a debug line. */
static int fail(const char *op, const char *path)
{
    int e = errno ? errno : EIO;
    gk_debug("%s %s: %s", op, path, gk_errmsg());
    return -e;
}

static int done(const char *op, const char *path, int r)
{
    if (gk_trace)
        gk_trace_call("%s \"%s\" = %d%s%s", op, path, r < 0 ? -1 : r, r < 0 ? " " : "",
                      r < 0 ? strerror(-r) : "");
    return r;
}

/* Inode numbers: the filesystem's own (use_ino), so hard links show as
 * one file.  The filesystems mounted below the root one get their mount
 * index in the top bits, so that two mounts cannot show the same number
 * (cp -a would take two unrelated files for hard links). */
static uint64_t ino_of(const gk_node *n)
{
    uint64_t i = n->ino;
    if (strcmp(n->mnt->mountpoint, "/") != 0)
        i ^= (uint64_t)(n->mnt->index & 0xff) << 48;
    return i;
}

static void to_stat(const gk_node *n, const gk_stat *g, struct stat *st)
{
    memset(st, 0, sizeof *st);
    st->st_ino = ino_of(n);
    st->st_mode = g->mode;
    st->st_nlink = g->nlink;
    st->st_uid = g->uid;
    st->st_gid = g->gid;
    st->st_rdev = g->rdev;
    st->st_size = (off_t)g->size;
    st->st_blocks = (blkcnt_t)g->blocks;
    st->st_blksize = g->blksize ? (blksize_t)g->blksize : 4096;
    st->st_atim = g->atime;
    st->st_mtim = g->mtime;
    st->st_ctim = g->ctime;
}

static int resolve(gk_guest *g, const char *path, gk_node *n)
{
    errno = 0;
    return gk_vfs_resolve(g->vfs, path, 0, n) < 0 ? -1 : 0;
}

/* The open file's node in session g (an error: errno). */
static int fh_node(gk_guest *g, struct fuse_file_info *fi, gk_node *n)
{
    int r = gm_node_in(g, (gm_fh *)(uintptr_t)fi->fh, n);
    if (r < 0) {
        gk_error("a file handle from another mount table");
        errno = -r;
        return -1;
    }
    return 0;
}

static uint64_t new_fh(gk_guest *g, const gk_node *n)
{
    gm_fh *fh = gk_malloc(sizeof *fh);
    fh->mnt = gm_mount_index(g, n->mnt);
    fh->ino = n->ino;
    return (uintptr_t)fh;
}

/* The directory holding path and its last element (pointing into path). */
static int parent(gk_guest *g, const char *path, gk_node *dir, const char **name)
{
    const char *slash = strrchr(path, '/');
    if (!slash || !slash[1]) {
        errno = EINVAL;
        return -1;
    }
    *name = slash + 1;
    char *dpath = slash == path ? gk_strdup("/") : gk_strndup(path, (size_t)(slash - path));
    errno = 0;
    int r = gk_vfs_resolve(g->vfs, dpath, 1, dir);
    free(dpath);
    return r < 0 ? -1 : 0;
}

/* Every operation runs in one session, taken for it alone. */
#define LOCK() int slot_; gk_guest *g = gm_take(&slot_)
#define UNLOCK() gm_give(slot_)

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    gk_node n;
    gk_stat s;
    int r = 0;
    LOCK();
    if ((fi && fi->fh ? fh_node(g, fi, &n) : resolve(g, path, &n)) < 0)
        r = fail("getattr", path);
    else if (gk_node_stat(&n, &s) < 0)
        r = fail("getattr", path);
    else
        to_stat(&n, &s, st);
    UNLOCK();
    return done("getattr", path, r);
}

static int op_readlink(const char *path, char *buf, size_t size)
{
    gk_node n;
    int r = 0;
    if (size == 0)
        return -EINVAL;
    LOCK();
    ssize_t k = 0;
    if (resolve(g, path, &n) < 0 || (k = gk_node_readlink(&n, buf, size - 1)) < 0)
        r = fail("readlink", path);
    else
        buf[k] = 0;
    UNLOCK();
    return done("readlink", path, r);
}

static int op_opendir(const char *path, struct fuse_file_info *fi)
{
    gk_node n;
    gk_stat s;
    int r = 0;
    LOCK();
    if (resolve(g, path, &n) < 0 || gk_node_stat(&n, &s) < 0)
        r = fail("opendir", path);
    else if (!S_ISDIR(s.mode))
        r = -ENOTDIR;
    else
        fi->fh = new_fh(g, &n);
    UNLOCK();
    return done("opendir", path, r);
}

static int op_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    (void)off;
    gk_node dn, *dir = &dn;
    gk_dirent *e = NULL;
    size_t cnt = 0;
    int r = 0;
    LOCK();
    errno = 0;
    if (fh_node(g, fi, dir) < 0 || gk_node_list(dir, &e, &cnt) < 0)
        r = fail("readdir", path);
    if (r < 0) {
        UNLOCK();
        return done("readdir", path, r);
    }
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_ino = ino_of(dir);
    st.st_mode = S_IFDIR;
    fill(buf, ".", &st, 0, 0);
    fill(buf, "..", NULL, 0, 0);
    for (size_t i = 0; i < cnt; i++) {
        memset(&st, 0, sizeof st);
        gk_node c = {dir->mnt, e[i].ino};
        gk_vfs_cross(g->vfs, &c);
        st.st_ino = ino_of(&c);
        st.st_mode = e[i].d_type != DT_UNKNOWN ? (mode_t)DTTOIF(e[i].d_type) : 0;
        enum fuse_fill_dir_flags ff = 0;
        gk_stat gs;
        /* readdirplus: the attributes with the names, so that the kernel
         * needs no lookup and getattr per entry (tar, ls -l, cp -a);
         * an entry whose inode cannot be read gets its name only, and
         * its error at lookup */
        if ((flags & FUSE_READDIR_PLUS) && gk_node_stat(&c, &gs) == 0) {
            to_stat(&c, &gs, &st);
            ff = FUSE_FILL_DIR_PLUS;
        }
        if (fill(buf, e[i].name, &st, 0, ff))
            break;
    }
    UNLOCK();
    gk_dirents_free(e, cnt);
    return done("readdir", path, 0);
}

static int op_release(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    free((void *)(uintptr_t)fi->fh);
    fi->fh = 0;
    return 0;
}

static int op_open(const char *path, struct fuse_file_info *fi)
{
    gk_node n;
    gk_stat s;
    int r = 0;
    if ((fi->flags & O_ACCMODE) != O_RDONLY && !gm.rw)
        return done("open", path, -EROFS);
    LOCK();
    if (resolve(g, path, &n) < 0 || gk_node_stat(&n, &s) < 0)
        r = fail("open", path);
    else if (S_ISDIR(s.mode) && (fi->flags & O_ACCMODE) != O_RDONLY)
        r = -EISDIR;
    else
        fi->fh = new_fh(g, &n);
    UNLOCK();
    /* read-only: the guest cannot change under us, keep the pages */
    fi->keep_cache = !gm.rw;
    return done("open", path, r);
}

static int op_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    gk_node n;
    int r;
    LOCK();
    errno = 0;
    ssize_t k = fh_node(g, fi, &n) < 0 ? -1 : gk_node_read(&n, buf, size, (uint64_t)off);
    r = k < 0 ? fail("read", path) : (int)k;
    UNLOCK();
    if (gk_trace)
        gk_trace_call("read \"%s\" %zu@%jd = %d", path, size, (intmax_t)off, r);
    return r;
}

static int op_statfs(const char *path, struct statvfs *sv)
{
    gk_statvfs gs;
    int r = 0;
    LOCK();
    errno = 0;
    if (gk_vfs_statvfs(g->vfs, path, &gs) < 0) {
        r = fail("statfs", path);
    } else {
        memset(sv, 0, sizeof *sv);
        sv->f_bsize = gs.bsize;
        sv->f_frsize = gs.frsize;
        sv->f_blocks = gs.blocks;
        sv->f_bfree = gs.bfree;
        sv->f_bavail = gs.bavail;
        sv->f_files = gs.files;
        sv->f_ffree = gs.ffree;
        sv->f_favail = gs.favail;
        sv->f_namemax = gs.namemax;
    }
    UNLOCK();
    return done("statfs", path, r);
}

static int op_listxattr(const char *path, char *buf, size_t size)
{
    gk_node n;
    int r;
    LOCK();
    ssize_t k = 0;
    if (resolve(g, path, &n) < 0 || (k = gk_node_listxattr(&n, buf, size)) < 0)
        r = fail("listxattr", path);
    else
        r = size && (size_t)k > size ? -ERANGE : (int)k;
    UNLOCK();
    return done("listxattr", path, r);
}

static int op_getxattr(const char *path, const char *name, char *buf, size_t size)
{
    gk_node n;
    int r;
    LOCK();
    ssize_t k = 0;
    if (resolve(g, path, &n) < 0 || (k = gk_node_getxattr(&n, name, buf, size)) < 0)
        r = fail("getxattr", path);
    else
        r = size && (size_t)k > size ? -ERANGE : (int)k;
    UNLOCK();
    if (r == -ENOTSUP)
        r = -ENODATA;
    return done("getxattr", path, r);
}

static int op_access(const char *path, int mask)
{
    (void)mask;
    gk_node n;
    int r = 0;
    /* permissions are the kernel's (default_permissions); this only says
     * whether the file is there, and that nothing is writable read-only */
    if ((mask & W_OK) && !gm.rw)
        return done("access", path, -EROFS);
    LOCK();
    if (resolve(g, path, &n) < 0)
        r = fail("access", path);
    UNLOCK();
    return done("access", path, r);
}

/* ---- writing (--rw; the kernel refuses them on a read-only mount) ---- */

static void changed(void)
{
    gm.dirty = 1;
}

/* Run one change on the directory of path: a name-creating or removing
 * call.  kind picks it. */
enum { W_MKDIR, W_UNLINK, W_RMDIR, W_SYMLINK, W_MKNOD, W_CREATE };

static int wr_named(const char *op, const char *path, int kind, mode_t mode, dev_t rdev,
                    const char *target, gk_node *out)
{
    gk_node dir, tmp;
    const char *name;
    struct fuse_context *ctx = fuse_get_context();
    uint32_t uid = ctx ? ctx->uid : 0, gid = ctx ? ctx->gid : 0;
    int r = 0, k = -1;
    if (!out)
        out = &tmp;
    LOCK();
    if (parent(g, path, &dir, &name) == 0) {
        errno = 0;
        switch (kind) {
        case W_MKDIR: k = gk_node_mkdir(&dir, name, mode & 07777, uid, gid, out); break;
        case W_UNLINK: k = gk_node_unlink(&dir, name); break;
        case W_RMDIR: k = gk_node_rmdir(&dir, name); break;
        case W_SYMLINK: k = gk_node_symlink(&dir, name, target, uid, gid, out); break;
        case W_MKNOD: k = gk_node_mknod(&dir, name, mode, rdev, uid, gid, out); break;
        case W_CREATE: k = gk_node_create(&dir, name, mode & 07777, uid, gid, out); break;
        }
    }
    if (k < 0)
        r = fail(op, path);
    else
        changed();
    UNLOCK();
    return done(op, path, r);
}

static int op_mkdir(const char *path, mode_t mode)
{
    return wr_named("mkdir", path, W_MKDIR, mode, 0, NULL, NULL);
}

static int op_unlink(const char *path)
{
    return wr_named("unlink", path, W_UNLINK, 0, 0, NULL, NULL);
}

static int op_rmdir(const char *path)
{
    return wr_named("rmdir", path, W_RMDIR, 0, 0, NULL, NULL);
}

static int op_symlink(const char *target, const char *path)
{
    return wr_named("symlink", path, W_SYMLINK, 0, 0, target, NULL);
}

static int op_mknod(const char *path, mode_t mode, dev_t rdev)
{
    return wr_named("mknod", path, W_MKNOD, mode, rdev, NULL, NULL);
}

static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    gk_node n;
    int r = wr_named("create", path, W_CREATE, mode, 0, NULL, &n);
    if (r == 0) {
        /* --rw has one session: n is valid in it */
        gk_guest *g = gm_take_first();
        fi->fh = new_fh(g, &n);
        gm_give(0);
    }
    return r;
}

static int op_rename(const char *from, const char *to, unsigned int flags)
{
    gk_node od, nd;
    const char *on, *nn;
    int r = 0;
    if (flags & ~(unsigned)RENAME_NOREPLACE)
        return done("rename", from, -EINVAL);
    LOCK();
    if (parent(g, from, &od, &on) < 0 || parent(g, to, &nd, &nn) < 0 ||
        (errno = 0, gk_node_rename(&od, on, &nd, nn, flags)) < 0)
        r = fail("rename", from);
    else
        changed();
    UNLOCK();
    return done("rename", from, r);
}

static int op_link(const char *from, const char *to)
{
    gk_node n, dir;
    const char *name;
    int r = 0;
    LOCK();
    if (resolve(g, from, &n) < 0 || parent(g, to, &dir, &name) < 0 ||
        (errno = 0, gk_node_link(&n, &dir, name)) < 0)
        r = fail("link", to);
    else
        changed();
    UNLOCK();
    return done("link", to, r);
}

/* One change on the file itself (the open one, or path's). */
enum { A_CHMOD, A_CHOWN, A_TRUNCATE, A_UTIMENS };

static int wr_attr(const char *op, const char *path, struct fuse_file_info *fi, int kind,
                   mode_t mode, uid_t uid, gid_t gid, off_t size, const struct timespec *tv)
{
    gk_node n, *t = &n;
    int r = 0, k = -1;
    LOCK();
    if ((fi && fi->fh ? fh_node(g, fi, &n) : resolve(g, path, &n)) == 0) {
        errno = 0;
        switch (kind) {
        case A_CHMOD: k = gk_node_chmod(t, mode & 07777); break;
        case A_CHOWN: k = gk_node_chown(t, uid, gid); break;
        case A_TRUNCATE: k = size < 0 ? (errno = EINVAL, -1) : gk_node_truncate(t, (uint64_t)size); break;
        case A_UTIMENS: k = gk_node_utimens(t, tv); break;
        }
    }
    if (k < 0)
        r = fail(op, path);
    else
        changed();
    UNLOCK();
    return done(op, path, r);
}

static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    return wr_attr("chmod", path, fi, A_CHMOD, mode, 0, 0, 0, NULL);
}

static int op_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
    return wr_attr("chown", path, fi, A_CHOWN, 0, uid, gid, 0, NULL);
}

static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    return wr_attr("truncate", path, fi, A_TRUNCATE, 0, 0, 0, size, NULL);
}

static int op_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
    return wr_attr("utimens", path, fi, A_UTIMENS, 0, 0, 0, 0, tv);
}

static int op_write(const char *path, const char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    gk_node n;
    int r;
    if (off < 0)
        return -EINVAL;
    LOCK();
    errno = 0;
    ssize_t k = fh_node(g, fi, &n) < 0 ? -1 : gk_node_write(&n, buf, size, (uint64_t)off);
    r = k < 0 ? fail("write", path) : (int)k;
    if (k > 0)
        changed();
    UNLOCK();
    if (gk_trace)
        gk_trace_call("write \"%s\" %zu@%jd = %d", path, size, (intmax_t)off, r);
    return r;
}

static int op_setxattr(const char *path, const char *name, const char *val, size_t size, int flags)
{
    gk_node n;
    int r = 0;
    LOCK();
    if (resolve(g, path, &n) < 0 || (errno = 0, gk_node_setxattr(&n, name, val, size, flags)) < 0)
        r = fail("setxattr", path);
    else
        changed();
    UNLOCK();
    return done("setxattr", path, r);
}

static int op_removexattr(const char *path, const char *name)
{
    gk_node n;
    int r = 0;
    LOCK();
    if (resolve(g, path, &n) < 0 || (errno = 0, gk_node_removexattr(&n, name)) < 0)
        r = fail("removexattr", path);
    else
        changed();
    UNLOCK();
    return done("removexattr", path, r);
}

void gm_sync_locked(gk_guest *g, const char *why)
{
    if (!gm.rw || !gm.dirty)
        return;
    if (gk_vfs_sync(g->vfs) < 0)
        gk_warn("%s: %s", why, gk_errmsg());
    else
        gm.dirty = 0;
}

static int op_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    (void)datasync;
    (void)fi;
    LOCK();
    int r = 0;
    if (gm.rw && gm.dirty) {
        errno = 0;
        if (gk_vfs_sync(g->vfs) < 0)
            r = fail("fsync", path);
        else
            gm.dirty = 0;
    }
    UNLOCK();
    return done("fsync", path, r);
}

static int op_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi)
{
    return op_fsync(path, datasync, fi);
}

/* libfuse 3 has no -o use_ino: the filesystem's inode numbers are shown
 * (hard links are one file for find, cp -a, du). */
static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    cfg->use_ino = 1;
    cfg->readdir_ino = 1;
    gm_conn_init(conn);
    return NULL;
}

const struct fuse_operations gm_fs_ops = {
    .init = op_init,
    .getattr = op_getattr,
    .readlink = op_readlink,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .symlink = op_symlink,
    .rename = op_rename,
    .link = op_link,
    .chmod = op_chmod,
    .chown = op_chown,
    .truncate = op_truncate,
    .open = op_open,
    .read = op_read,
    .write = op_write,
    .statfs = op_statfs,
    .release = op_release,
    .fsync = op_fsync,
    .setxattr = op_setxattr,
    .getxattr = op_getxattr,
    .listxattr = op_listxattr,
    .removexattr = op_removexattr,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .releasedir = op_release,
    .fsyncdir = op_fsyncdir,
    .access = op_access,
    .create = op_create,
    .utimens = op_utimens,
};
