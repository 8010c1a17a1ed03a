/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest VFS: a table of mounted filesystems and path resolution that
 * stays inside the guest.
 *
 * Resolution keeps a stack of the directories walked so far (each a
 * (mount, inode) node).  ".." pops that stack, so it stops at "/" and goes
 * back over a mountpoint to the directory the mount covers, whatever the
 * filesystem's own ".." entry says (a hostile image can point it anywhere).
 * An absolute symlink target restarts at the guest's root, never the
 * host's.  Every name is looked up through the driver, so nothing here ever
 * touches the host filesystem. */
#include <errno.h>
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fs-int.h"

/* Longest path we accept from a caller, and the longest the pending path
 * may grow to while links are expanded (like the kernel's PATH_MAX). */
#define VFS_PATH_MAX 4096
#define VFS_NAME_MAX 255

/* Mounts stacked on one directory (and on the roots of the mounts in the
 * stack): crossing a mountpoint is one map lookup to the stack, whose top
 * is the filesystem seen there, however many mounts the stack holds. */
struct stack {
    gk_mount *top;
};

/* A mount as the VFS keeps it: the public part first. */
struct mnt {
    gk_mount pub;
    struct stack *stack;   /* the stack it is part of (NULL for the base)   */
    gk_mount *below;       /* the mount it covers in that stack, or NULL    */
};

struct gk_vfs {
    gk_mount **mounts;     /* in mount order; pointers stay valid           */
    int nmounts;
    int next_index;        /* per-mount id, never reused                    */
    int trace;             /* gk_vfs_set_trace                              */
    gk_mount *base;        /* the first filesystem mounted on "/"           */
    gk_nodemap *stacks;    /* covered node, or a stacked mount's root -> stack */
};

static void *nodemap_get(gk_nodemap *m, const gk_node *n);
static void nodemap_del(gk_nodemap *m, const gk_node *n);

gk_vfs *gk_vfs_new(void)
{
    gk_vfs *v = gk_calloc(1, sizeof *v);
    v->next_index = 1;
    v->stacks = gk_nodemap_new();
    return v;
}

void gk_vfs_set_trace(gk_vfs *v, int on)
{
    v->trace = on;
}

static void mount_free(gk_mount *m)
{
    if (!m)
        return;
    gk_fs_close(m->fs);
    free(m->mountpoint);
    free(m->device);
    free(m);
}

void gk_vfs_free(gk_vfs *v)
{
    if (!v)
        return;
    gk_vfs_umount_all(v);
    free(v->mounts);
    gk_nodemap_free(v->stacks, NULL);
    free(v);
}

int gk_vfs_nmounts(gk_vfs *v)
{
    return v ? v->nmounts : 0;
}

gk_mount *gk_vfs_mount_at(gk_vfs *v, int i)
{
    if (!v || i < 0 || i >= v->nmounts)
        return NULL;
    return v->mounts[i];
}

static int fail(int err, const char *path)
{
    gk_error("%s: %s", path, strerror(err));
    errno = err;
    return -1;
}

/* A driver call failed: keep its message, put the path in front. */
static int fail_driver(const char *path)
{
    int err = errno ? errno : EIO;
    gk_error_prefix("%s", path);
    errno = err;
    return -1;
}

static int node_getattr(const gk_node *n, gk_stat *st)
{
    gk_fs *fs = n->mnt->fs;
    memset(st, 0, sizeof *st);
    int r = fs->ops->getattr(fs, n->ino, st);
    if (r < 0) {
        errno = -r;
        return -1;
    }
    st->dev = makedev(0, (unsigned)n->mnt->index);
    /* no host file can have such a size: a corrupt inode, and a reader
     * trusting it would stream zeros for ever */
    if (st->size > (uint64_t)INT64_MAX) {
        gk_error("inode %llu: size %llu is out of range (corrupt inode)",
                 (unsigned long long)n->ino, (unsigned long long)st->size);
        errno = EOVERFLOW;
        return -1;
    }
    return 0;
}

/* If a filesystem is mounted on node, step onto its root (the latest mount
 * wins when several are stacked on the same directory): one lookup. */
static void cross_mounts(gk_vfs *v, gk_node *n)
{
    struct stack *s = nodemap_get(v->stacks, n);
    if (s && s->top) {
        n->mnt = s->top;
        n->ino = s->top->fs->root_ino;
    }
}

/* The root of the guest: the top of what is mounted on "/". */
static int root_node(gk_vfs *v, gk_node *n)
{
    if (!v->base)
        return -1;
    n->mnt = v->base;
    n->ino = v->base->fs->root_ino;
    cross_mounts(v, n);
    return 0;
}

/* The walk so far: nodes plus the names that led to them, for realpath. */
typedef struct walk {
    gk_node *nodes;
    char **names;          /* names[0] unused (the root)                    */
    int depth, cap;        /* nodes[depth-1] is the current directory       */
} walk;

static void walk_push(walk *w, const gk_node *n, const char *name)
{
    if (w->depth == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 16;
        w->nodes = gk_realloc(w->nodes, w->cap * sizeof *w->nodes);
        w->names = gk_realloc(w->names, w->cap * sizeof *w->names);
    }
    w->nodes[w->depth] = *n;
    w->names[w->depth] = name ? gk_strdup(name) : NULL;
    w->depth++;
}

static void walk_truncate(walk *w, int depth)
{
    while (w->depth > depth)
        free(w->names[--w->depth]);
}

static void walk_free(walk *w)
{
    walk_truncate(w, 0);
    free(w->nodes);
    free(w->names);
}

static char *walk_path(const walk *w)
{
    size_t len = 1;
    for (int i = 1; i < w->depth; i++)
        len += strlen(w->names[i]) + 1;
    char *p = gk_malloc(len + 1), *q = p;
    if (w->depth <= 1)
        *q++ = '/';
    for (int i = 1; i < w->depth; i++) {
        *q++ = '/';
        size_t l = strlen(w->names[i]);
        memcpy(q, w->names[i], l);
        q += l;
    }
    *q = 0;
    return p;
}

/* Resolve path into the walk; the last element of w is the result. */
static int resolve_walk(gk_vfs *v, const char *path, int follow, walk *w)
{
    gk_node root;
    if (!path || !*path)
        return fail(ENOENT, path ? path : "(null)");
    if (strnlen(path, VFS_PATH_MAX + 1) > VFS_PATH_MAX)
        return fail(ENAMETOOLONG, "path");
    if (root_node(v, &root) < 0) {
        gk_error("%s: no filesystem is mounted (mount one on / first)", path);
        errno = ENOENT;
        return -1;
    }
    walk_push(w, &root, NULL);

    /* pending: what is left to walk, rewritten when a link is followed */
    char *pending = gk_strdup(path);
    size_t pos = 0;
    int nlinks = 0;
    int rc = -1;
    char name[VFS_NAME_MAX + 1];

    for (;;) {
        while (pending[pos] == '/')
            pos++;
        if (!pending[pos])
            break;
        size_t len = strcspn(pending + pos, "/");
        if (len > VFS_NAME_MAX) {
            fail(ENAMETOOLONG, path);
            goto out;
        }
        memcpy(name, pending + pos, len);
        name[len] = 0;
        pos += len;
        /* is this the last component? a trailing "/" asks to follow too */
        size_t after = pos;
        while (pending[after] == '/')
            after++;
        int last = !pending[after];
        int trailing_slash = last && after > pos;

        gk_node *dir = &w->nodes[w->depth - 1];
        gk_stat st;
        if (node_getattr(dir, &st) < 0) {
            fail_driver(path);
            goto out;
        }
        if (!S_ISDIR(st.mode)) {
            fail(ENOTDIR, path);
            goto out;
        }
        if (strcmp(name, ".") == 0)
            continue;
        if (strcmp(name, "..") == 0) {
            if (w->depth > 1)
                walk_truncate(w, w->depth - 1);
            continue;
        }
        gk_node child = { dir->mnt, 0 };
        gk_fs *fs = dir->mnt->fs;
        int lr = fs->ops->lookup(fs, dir->ino, name, &child.ino);
        if (lr < 0) {
            errno = -lr;
            if (errno == ENOENT || errno == ENOTDIR)
                fail(errno, path);
            else
                fail_driver(path);
            goto out;
        }
        cross_mounts(v, &child);
        if (node_getattr(&child, &st) < 0) {
            fail_driver(path);
            goto out;
        }
        if (S_ISLNK(st.mode) && (!last || follow || trailing_slash)) {
            if (++nlinks > GK_MAXSYMLINKS) {
                fail(ELOOP, path);
                goto out;
            }
            char target[VFS_PATH_MAX + 1];
            gk_fs *lfs = child.mnt->fs;
            ssize_t tl = lfs->ops->readlink(lfs, child.ino, target, sizeof target);
            if (tl < 0) {
                errno = (int)-tl;
                fail_driver(path);
                goto out;
            }
            if ((size_t)tl > VFS_PATH_MAX) {
                fail(ENAMETOOLONG, path);
                goto out;
            }
            if (tl == 0 || memchr(target, 0, (size_t)tl)) {
                fail(ENOENT, path);
                goto out;
            }
            size_t rest = strlen(pending + pos);
            if ((size_t)tl + 1 + rest > VFS_PATH_MAX) {
                fail(ENAMETOOLONG, path);
                goto out;
            }
            char *np = gk_malloc((size_t)tl + 1 + rest + 1);
            memcpy(np, target, (size_t)tl);
            np[tl] = '/';
            memcpy(np + tl + 1, pending + pos, rest + 1);
            if (!trailing_slash && rest == 0)
                np[tl] = 0;
            free(pending);
            pending = np;
            pos = 0;
            if (target[0] == '/')
                walk_truncate(w, 1);
            continue;
        }
        if (trailing_slash && !S_ISDIR(st.mode)) {
            fail(ENOTDIR, path);
            goto out;
        }
        walk_push(w, &child, name);
    }
    rc = 0;
out:
    free(pending);
    return rc;
}

int gk_vfs_resolve(gk_vfs *v, const char *path, int follow, gk_node *out)
{
    walk w = {0};
    int rc = resolve_walk(v, path, follow, &w);
    if (rc == 0)
        *out = w.nodes[w.depth - 1];
    walk_free(&w);
    if (v->trace)
        gk_trace_call("resolve \"%s\"%s = %s", path, follow ? "" : " nofollow",
                      rc == 0 ? "0" : gk_errmsg());
    return rc;
}

char *gk_vfs_realpath(gk_vfs *v, const char *path)
{
    walk w = {0};
    char *p = NULL;
    if (resolve_walk(v, path, 1, &w) == 0)
        p = walk_path(&w);
    walk_free(&w);
    return p;
}

/* ------------------------------------------------------------------ */
/* The mount table                                                     */

int gk_vfs_mount(gk_vfs *v, gk_fs *fs, const char *mountpoint, const char *device)
{
    gk_node covered = {0};
    char *mp;
    if (v->nmounts >= GK_VFS_MAX_MOUNTS) {
        gk_error("mount: %s: too many filesystems mounted (at most %d)",
                 mountpoint ? mountpoint : "(null)", GK_VFS_MAX_MOUNTS);
        errno = EMFILE;
        return -1;
    }
    if (!mountpoint || mountpoint[0] != '/') {
        gk_error("%s: mountpoint must be an absolute path", mountpoint ? mountpoint : "(null)");
        errno = EINVAL;
        return -1;
    }
    size_t skip = strspn(mountpoint, "/");
    if (!mountpoint[skip] || v->nmounts == 0) {
        /* "/" (or the first mount, which can only go on "/") */
        if (mountpoint[skip] && v->nmounts == 0) {
            gk_error("mount: %s: no filesystem is mounted on / yet", mountpoint);
            errno = ENOENT;
            return -1;
        }
        if (v->nmounts > 0 && root_node(v, &covered) < 0)
            return -1;
        mp = gk_strdup("/");
    } else {
        walk w = {0};
        if (resolve_walk(v, mountpoint, 1, &w) < 0) {
            walk_free(&w);
            gk_error_prefix("mount");
            return -1;
        }
        covered = w.nodes[w.depth - 1];
        mp = walk_path(&w);
        walk_free(&w);
        gk_stat st;
        if (node_getattr(&covered, &st) < 0) {
            free(mp);
            return fail_driver(mountpoint);
        }
        if (!S_ISDIR(st.mode)) {
            free(mp);
            return fail(ENOTDIR, mountpoint);
        }
    }
    struct mnt *mm = gk_calloc(1, sizeof *mm);
    gk_mount *m = &mm->pub;
    m->mountpoint = mp;
    m->device = gk_strdup(device ? device : "");
    m->fs = fs;
    m->covered = covered;
    m->index = v->next_index++;
    m->vfs = v;
    if (!covered.mnt) {
        v->base = m;
    } else {
        /* covered is the top of whatever is mounted there already (the
         * path was resolved across mounts): join its stack, or start one */
        void **slot = gk_nodemap_slot(v->stacks, &covered, NULL);
        if (!*slot)
            *slot = gk_calloc(1, sizeof(struct stack));
        struct stack *st = *slot;
        mm->stack = st;
        mm->below = st->top;
        st->top = m;
        gk_node root = { m, fs->root_ino };
        *gk_nodemap_slot(v->stacks, &root, NULL) = st;
    }
    v->mounts = gk_realloc(v->mounts, (v->nmounts + 1) * sizeof *v->mounts);
    v->mounts[v->nmounts++] = m;
    return 0;
}

/* Take mount i off v; its filesystem is closed unless keep. */
static void remove_mount(gk_vfs *v, int i, int keep)
{
    struct mnt *mm = (struct mnt *)v->mounts[i];
    gk_node root = { &mm->pub, mm->pub.fs->root_ino };
    if (mm->stack) {
        /* only a top can be unmounted (the others are busy) */
        struct stack *st = mm->stack;
        nodemap_del(v->stacks, &root);
        if (st->top == &mm->pub)
            st->top = mm->below;
        if (!st->top) {
            nodemap_del(v->stacks, &mm->pub.covered);
            free(st);
        }
    }
    if (v->base == &mm->pub)
        v->base = NULL;
    if (keep)
        mm->pub.fs = NULL;
    mount_free(v->mounts[i]);
    memmove(v->mounts + i, v->mounts + i + 1, (v->nmounts - i - 1) * sizeof *v->mounts);
    v->nmounts--;
}

int gk_vfs_umount(gk_vfs *v, const char *mountpoint)
{
    /* accept the name as given or as it resolves ("/boot/" -> "/boot") */
    int found = -1;
    for (int i = v->nmounts - 1; i >= 0 && found < 0; i--)
        if (strcmp(v->mounts[i]->mountpoint, mountpoint) == 0)
            found = i;
    if (found < 0) {
        char *rp = gk_vfs_realpath(v, mountpoint);
        for (int i = v->nmounts - 1; rp && i >= 0 && found < 0; i--)
            if (strcmp(v->mounts[i]->mountpoint, rp) == 0)
                found = i;
        free(rp);
    }
    if (found < 0) {
        gk_error("umount: %s: not mounted", mountpoint);
        errno = EINVAL;
        return -1;
    }
    gk_mount *m = v->mounts[found];
    for (int i = 0; i < v->nmounts; i++) {
        if (v->mounts[i]->covered.mnt == m) {
            gk_error("umount: %s: target is busy (%s is mounted on it)", mountpoint,
                     v->mounts[i]->mountpoint);
            errno = EBUSY;
            return -1;
        }
    }
    remove_mount(v, found, 0);
    return 0;
}

gk_fs *gk_vfs_detach(gk_vfs *v, const char *mountpoint)
{
    for (int i = v->nmounts - 1; i >= 0; i--) {
        gk_mount *m = v->mounts[i];
        if (strcmp(m->mountpoint, mountpoint) != 0)
            continue;
        for (int j = 0; j < v->nmounts; j++)
            if (v->mounts[j]->covered.mnt == m)
                return NULL;
        gk_fs *fs = m->fs;
        remove_mount(v, i, 1);
        return fs;
    }
    return NULL;
}

void gk_vfs_umount_all(gk_vfs *v)
{
    /* later mounts sit on earlier ones: take them off in reverse order */
    while (v->nmounts > 0)
        remove_mount(v, v->nmounts - 1, 0);
}

/* ------------------------------------------------------------------ */
/* Path-level operations                                               */

int gk_vfs_stat(gk_vfs *v, const char *path, gk_stat *st)
{
    gk_node n;
    if (gk_vfs_resolve(v, path, 1, &n) < 0)
        return -1;
    if (node_getattr(&n, st) < 0)
        return fail_driver(path);
    return 0;
}

int gk_vfs_lstat(gk_vfs *v, const char *path, gk_stat *st)
{
    gk_node n;
    if (gk_vfs_resolve(v, path, 0, &n) < 0)
        return -1;
    if (node_getattr(&n, st) < 0)
        return fail_driver(path);
    return 0;
}

int gk_vfs_readdir(gk_vfs *v, const char *path, gk_readdir_cb cb, void *opaque)
{
    gk_node n;
    if (gk_vfs_resolve(v, path, 1, &n) < 0)
        return -1;
    if (gk_node_readdir(&n, cb, opaque) < 0) {
        gk_error_prefix("%s", path);
        return -1;
    }
    return 0;
}

ssize_t gk_vfs_readlink(gk_vfs *v, const char *path, char *buf, size_t bufsz)
{
    gk_node n;
    if (gk_vfs_resolve(v, path, 0, &n) < 0)
        return -1;
    ssize_t r = gk_node_readlink(&n, buf, bufsz);
    if (r < 0)
        gk_error_prefix("%s", path);
    return r;
}

int gk_vfs_statvfs(gk_vfs *v, const char *path, gk_statvfs *sv)
{
    gk_node n;
    if (gk_vfs_resolve(v, path, 1, &n) < 0)
        return -1;
    if (gk_fs_statvfs(n.mnt->fs, sv) < 0)
        return fail_driver(path);
    return 0;
}

ssize_t gk_vfs_listxattr(gk_vfs *v, const char *path, char *buf, size_t bufsz)
{
    gk_node n;
    if (gk_vfs_resolve(v, path, 0, &n) < 0)
        return -1;
    ssize_t r = gk_node_listxattr(&n, buf, bufsz);
    if (r < 0)
        fail_driver(path);
    return r;
}

ssize_t gk_vfs_getxattr(gk_vfs *v, const char *path, const char *name, void *buf, size_t bufsz)
{
    gk_node n;
    if (gk_vfs_resolve(v, path, 0, &n) < 0)
        return -1;
    ssize_t r = gk_node_getxattr(&n, name, buf, bufsz);
    if (r < 0)
        fail_driver(path);
    return r;
}

ssize_t gk_node_listxattr(gk_node *n, char *buf, size_t bufsz)
{
    gk_fs *fs = n->mnt->fs;
    if (!fs->ops->listxattr)
        return 0;
    ssize_t r = fs->ops->listxattr(fs, n->ino, buf, bufsz);
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

ssize_t gk_node_getxattr(gk_node *n, const char *name, void *buf, size_t bufsz)
{
    gk_fs *fs = n->mnt->fs;
    if (!fs->ops->getxattr) {
        gk_error("%s: %s", name, strerror(ENODATA));
        errno = ENODATA;
        return -1;
    }
    ssize_t r = fs->ops->getxattr(fs, n->ino, name, buf, bufsz);
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

int gk_vfs_read_file(gk_vfs *v, const char *path, size_t maxsize, char **out, size_t *len)
{
    gk_node n;
    gk_stat st;
    if (gk_vfs_resolve(v, path, 1, &n) < 0)
        return -1;
    if (node_getattr(&n, &st) < 0)
        return fail_driver(path);
    if (S_ISDIR(st.mode))
        return fail(EISDIR, path);
    if (st.size > maxsize) {
        gk_error("%s: file is too large (%llu bytes, limit %zu)", path,
                 (unsigned long long)st.size, maxsize);
        errno = EFBIG;
        return -1;
    }
    /* st.size is only a hint: stop at EOF, and never past maxsize */
    size_t cap = (size_t)st.size + 1, got = 0;
    char *buf = gk_malloc(cap + 1);
    for (;;) {
        if (got == cap) {
            if (cap > maxsize) {
                free(buf);
                gk_error("%s: file is too large (limit %zu bytes)", path, maxsize);
                errno = EFBIG;
                return -1;
            }
            cap = cap * 2 > maxsize + 1 ? maxsize + 1 : cap * 2;
            buf = gk_realloc(buf, cap + 1);
        }
        ssize_t r = gk_node_read(&n, buf + got, cap - got, got);
        if (r < 0) {
            free(buf);
            return fail_driver(path);
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    if (got > maxsize) {
        free(buf);
        gk_error("%s: file is too large (limit %zu bytes)", path, maxsize);
        errno = EFBIG;
        return -1;
    }
    buf[got] = 0;
    *out = buf;
    *len = got;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Node-level operations                                               */

int gk_node_stat(gk_node *n, gk_stat *st)
{
    /* the driver's message names the inode already ("inode 13: ...") */
    return node_getattr(n, st) < 0 ? -1 : 0;
}

ssize_t gk_node_read(gk_node *n, void *buf, size_t len, uint64_t off)
{
    gk_fs *fs = n->mnt->fs;
    ssize_t r = fs->ops->read(fs, n->ino, buf, len, off);
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    if (r > (ssize_t)len) {          /* a driver bug must not overrun buf */
        gk_error("inode %llu: read returned too much", (unsigned long long)n->ino);
        errno = EIO;
        return -1;
    }
    return r;
}

ssize_t gk_node_readlink(gk_node *n, char *buf, size_t bufsz)
{
    gk_fs *fs = n->mnt->fs;
    gk_stat st;
    if (node_getattr(n, &st) < 0)
        return -1;
    if (!S_ISLNK(st.mode)) {
        gk_error("%s", strerror(EINVAL));
        errno = EINVAL;
        return -1;
    }
    ssize_t r = fs->ops->readlink(fs, n->ino, buf, bufsz);
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    if (r > (ssize_t)bufsz)
        r = (ssize_t)bufsz;
    return r;
}

int gk_node_readdir(gk_node *n, gk_readdir_cb cb, void *opaque)
{
    gk_fs *fs = n->mnt->fs;
    gk_stat st;
    if (node_getattr(n, &st) < 0)
        return -1;
    if (!S_ISDIR(st.mode)) {
        gk_error("%s", strerror(ENOTDIR));
        errno = ENOTDIR;
        return -1;
    }
    int r = fs->ops->readdir(fs, n->ino, cb, opaque);
    if (r < 0) {
        errno = -r;
        return -1;
    }
    return r;
}

int gk_node_fmap(gk_node *n, gk_fmap **out, size_t *nruns)
{
    gk_fs *fs = n->mnt->fs;
    *out = NULL;
    *nruns = 0;
    if (!fs->ops->fmap) {
        /* a driver that knows no holes: all of the file is data */
        gk_stat st;
        if (node_getattr(n, &st) < 0)
            return -1;
        if (st.size) {
            *out = gk_malloc(sizeof **out);
            (*out)[0] = (gk_fmap){ 0, st.size };
            *nruns = 1;
        }
        return 0;
    }
    int r = fs->ops->fmap(fs, n->ino, out, nruns);
    if (r < 0) {
        errno = -r;
        return -1;
    }
    if (r == 0 && !*out)
        *nruns = 0;
    return r;
}

int gk_vfs_child(gk_vfs *v, gk_node *dir, const char *name, gk_node *out)
{
    if (!*name || strchr(name, '/')) {
        gk_error("\"%s\": not a file name", name);
        errno = EINVAL;
        return -1;
    }
    gk_node d = *dir;
    if (strcmp(name, ".") == 0) {
        *out = d;
        return 0;
    }
    if (strcmp(name, "..") == 0) {
        /* the root of a mount: its parent is the covered directory's */
        while (d.ino == d.mnt->fs->root_ino && d.mnt->covered.mnt)
            d = d.mnt->covered;
        if (d.ino == d.mnt->fs->root_ino) {
            *out = d;
            return 0;
        }
    }
    gk_fs *fs = d.mnt->fs;
    int r = fs->ops->lookup(fs, d.ino, name, &out->ino);
    if (r < 0) {
        errno = -r;
        if (errno == ENOENT)
            return fail(ENOENT, name);
        return fail_driver(name);
    }
    out->mnt = d.mnt;
    cross_mounts(v, out);
    return 0;
}

void gk_vfs_cross(gk_vfs *v, gk_node *n)
{
    cross_mounts(v, n);
}

struct list_ctx {
    gk_dirent *e;
    size_t n, cap;
};

static int list_cb(void *opaque, const char *name, uint64_t ino, int d_type)
{
    struct list_ctx *c = opaque;
    if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        gk_debug("skipping directory entry \"%s\"", name);
        return 0;
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->e = gk_realloc(c->e, c->cap * sizeof *c->e);
    }
    c->e[c->n].name = gk_strdup(name);
    c->e[c->n].ino = ino;
    c->e[c->n].d_type = d_type;
    c->n++;
    return 0;
}

static int dirent_cmp(const void *a, const void *b)
{
    return strcmp(((const gk_dirent *)a)->name, ((const gk_dirent *)b)->name);
}

int gk_node_list(gk_node *n, gk_dirent **out, size_t *count)
{
    struct list_ctx c = {0};
    *out = NULL;
    *count = 0;
    if (gk_node_readdir(n, list_cb, &c) < 0) {
        gk_dirents_free(c.e, c.n);
        return -1;
    }
    if (c.n > 1)
        qsort(c.e, c.n, sizeof *c.e, dirent_cmp);
    *out = c.e;
    *count = c.n;
    return 0;
}

void gk_dirents_free(gk_dirent *e, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(e[i].name);
    free(e);
}

/* ------------------------------------------------------------------ */
/* Node sets and maps: tree walkers guard against directory cycles in a
 * corrupt image, and gcopy-out maps hard links, by (mount, inode). */

struct gk_nodemap {
    struct nm_ent { const gk_mount *mnt; uint64_t ino; void *val; int used; } *tab;
    size_t cap, n;
};

gk_nodemap *gk_nodemap_new(void)
{
    gk_nodemap *m = gk_calloc(1, sizeof *m);
    m->cap = 64;
    m->tab = gk_calloc(m->cap, sizeof *m->tab);
    return m;
}

void gk_nodemap_free(gk_nodemap *m, void (*free_val)(void *))
{
    if (!m)
        return;
    for (size_t i = 0; free_val && i < m->cap; i++)
        if (m->tab[i].used)
            free_val(m->tab[i].val);
    free(m->tab);
    free(m);
}

static size_t nm_hash(const gk_mount *mnt, uint64_t ino)
{
    uint64_t h = ino * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)mnt;
    h ^= h >> 29;
    return (size_t)h;
}

void **gk_nodemap_slot(gk_nodemap *m, const gk_node *n, int *isnew)
{
    if ((m->n + 1) * 2 > m->cap) {
        struct nm_ent *old = m->tab;
        size_t oldcap = m->cap;
        m->cap *= 2;
        m->tab = gk_calloc(m->cap, sizeof *m->tab);
        for (size_t i = 0; i < oldcap; i++) {
            if (!old[i].used)
                continue;
            size_t j = nm_hash(old[i].mnt, old[i].ino) & (m->cap - 1);
            while (m->tab[j].used)
                j = (j + 1) & (m->cap - 1);
            m->tab[j] = old[i];
        }
        free(old);
    }
    size_t j = nm_hash(n->mnt, n->ino) & (m->cap - 1);
    while (m->tab[j].used) {
        if (m->tab[j].mnt == n->mnt && m->tab[j].ino == n->ino) {
            if (isnew)
                *isnew = 0;
            return &m->tab[j].val;
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->tab[j].used = 1;
    m->tab[j].mnt = n->mnt;
    m->tab[j].ino = n->ino;
    m->tab[j].val = NULL;
    m->n++;
    if (isnew)
        *isnew = 1;
    return &m->tab[j].val;
}


/* ------------------------------------------------------------------ */
/* Case-insensitive paths (Windows guests)                             */

struct ci_find { const char *want; char *found; };

static int ci_cb(void *opaque, const char *name, uint64_t ino, int d_type)
{
    (void)ino; (void)d_type;
    struct ci_find *f = opaque;
    if (strcasecmp(name, f->want) != 0)
        return 0;
    f->found = gk_strdup(name);
    return 1;
}

/* The entry of directory dir matching name ignoring case, as stored
 * (malloc'd), or NULL (errno ENOENT, or another error with gk_error). */
static char *ci_entry(gk_node *dir, const char *name)
{
    gk_fs *fs = dir->mnt->fs;
    if (fs->ops->lookup_nocase) {
        uint64_t ino;
        char *real = NULL;
        int r = fs->ops->lookup_nocase(fs, dir->ino, name, &ino, &real);
        if (r < 0) {
            errno = -r;
            return NULL;
        }
        return real;
    }
    struct ci_find f = {name, NULL};
    errno = 0;
    if (gk_node_readdir(dir, ci_cb, &f) < 0)
        return NULL;
    if (!f.found)
        errno = ENOENT;
    return f.found;
}

char *gk_vfs_case_sensitive_path(gk_vfs *v, const char *path)
{
    if (!path || path[0] != '/') {
        gk_error("%s: path must be absolute", path ? path : "(null)");
        errno = EINVAL;
        return NULL;
    }
    if (strnlen(path, VFS_PATH_MAX + 1) > VFS_PATH_MAX) {
        fail(ENAMETOOLONG, "path");
        return NULL;
    }
    char *copy = gk_strdup(path), *save = NULL;
    char *out = gk_calloc(1, VFS_PATH_MAX + 2);
    size_t olen = 0;
    gk_node dir;
    if (gk_vfs_resolve(v, "/", 1, &dir) < 0)
        goto err;
    for (char *el = strtok_r(copy, "/", &save); el; el = strtok_r(NULL, "/", &save)) {
        if (!strcmp(el, ".") || !strcmp(el, "..")) {
            gk_error("%s: path contains \".\" or \"..\" elements", path);
            errno = EINVAL;
            goto err;
        }
        int last = !save || !*save || strspn(save, "/") == strlen(save);
        gk_stat st;
        if (node_getattr(&dir, &st) < 0) {
            fail_driver(path);
            goto err;
        }
        if (!S_ISDIR(st.mode)) {
            fail(ENOTDIR, path);
            goto err;
        }
        char *real = ci_entry(&dir, el);
        if (!real && errno != ENOENT) {
            fail_driver(path);
            goto err;
        }
        if (!real && !last) {
            gk_error("%s: %s: not found", path, el);
            errno = ENOENT;
            goto err;
        }
        const char *name = real ? real : el;   /* the last may be missing */
        size_t nl = strlen(name);
        if (olen + 1 + nl > VFS_PATH_MAX) {
            free(real);
            fail(ENAMETOOLONG, path);
            goto err;
        }
        out[olen++] = '/';
        memcpy(out + olen, name, nl + 1);
        olen += nl;
        free(real);
        /* into it, links followed (libguestfs chdirs) */
        if (!last && gk_vfs_resolve(v, out, 1, &dir) < 0)
            goto err;
    }
    if (olen == 0)
        out[olen++] = '/';
    free(copy);
    return out;
err:
    free(copy);
    free(out);
    return NULL;
}

static size_t nm_find(const gk_nodemap *m, const gk_node *n, int *found)
{
    size_t j = nm_hash(n->mnt, n->ino) & (m->cap - 1);
    while (m->tab[j].used) {
        if (m->tab[j].mnt == n->mnt && m->tab[j].ino == n->ino) {
            *found = 1;
            return j;
        }
        j = (j + 1) & (m->cap - 1);
    }
    *found = 0;
    return j;
}

static void *nodemap_get(gk_nodemap *m, const gk_node *n)
{
    int found;
    size_t j = nm_find(m, n, &found);
    return found ? m->tab[j].val : NULL;
}

/* Remove n, moving later entries of its probe run back into the hole. */
static void nodemap_del(gk_nodemap *m, const gk_node *n)
{
    int found;
    size_t j = nm_find(m, n, &found);
    if (!found)
        return;
    m->tab[j].used = 0;
    m->n--;
    for (size_t k = (j + 1) & (m->cap - 1); m->tab[k].used; k = (k + 1) & (m->cap - 1)) {
        size_t home = nm_hash(m->tab[k].mnt, m->tab[k].ino) & (m->cap - 1);
        /* the entry at k may move to the hole j unless its home lies
         * cyclically in (j, k] */
        int stays = j < k ? (home > j && home <= k) : (home > j || home <= k);
        if (!stays) {
            m->tab[j] = m->tab[k];
            m->tab[k].used = 0;
            j = k;
        }
    }
}
