/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Putting files into a guest: the extraction engine behind gcopy-in,
 * gtar-in and gfsh's copy-in and tar-in (see tools/extract.h for the
 * rules), its two sources (a host tree, a tar archive through libarchive),
 * and nothing else: every change goes through the VFS write API, which
 * makes each one atomic.
 *
 * Confinement: a name is split into components; "." and empty ones are
 * dropped, a leading "/" is dropped (once reported), ".." refuses the
 * entry.  Components are then looked up one by one from the target
 * directory without following symbolic links: an intermediate symlink
 * refuses the entry, whoever made it.  Hard-link targets are confined the
 * same way.  The target itself may be reached through links (the user
 * named it); what is below it may not. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common.h"
#include "extract.h"

#define DATA_BLOCK (1u << 20)
#define XATTR_LIST_MAX_BYTES (1u << 20)

struct dslot { char *path; gk_node node; };

struct deferred {
    gk_node node;
    char *path;
    uint32_t mode, uid, gid;
    struct timespec atime, mtime;
};

struct gk_extract {
    gk_vfs *v;
    gk_node target;
    char *tpath;
    gk_extract_opts o;
    /* directories met so far: relative path -> node (open addressing) */
    struct dslot *dirs;
    size_t dcap, dn;
    struct deferred *defer;
    size_t ndefer, capdefer;
    uint64_t entries, bytes;
    int warned_abs;
    int failed;
};

static void report(gk_extract *x, int warning, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void report(gk_extract *x, int warning, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!warning)
        x->failed = 1;
    if (x->o.report) {
        x->o.report(x->o.ud, warning, msg);
        return;
    }
    fflush(stdout);
    fprintf(stderr, "%s: %s%s\n", gk_progname, warning ? "warning: " : "", msg);
}

/* ------------------------------------------------------------------ */
/* The directory map                                                   */

static size_t strhash(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static struct dslot *dir_slot(gk_extract *x, const char *path, int insert)
{
    if (insert && (x->dn + 1) * 2 > x->dcap) {
        size_t ncap = x->dcap ? x->dcap * 2 : 256;
        struct dslot *nt = gk_calloc(ncap, sizeof *nt);
        for (size_t i = 0; i < x->dcap; i++)
            if (x->dirs[i].path) {
                size_t j = strhash(x->dirs[i].path) & (ncap - 1);
                while (nt[j].path)
                    j = (j + 1) & (ncap - 1);
                nt[j] = x->dirs[i];
            }
        free(x->dirs);
        x->dirs = nt;
        x->dcap = ncap;
    }
    if (!x->dcap)
        return NULL;
    size_t j = strhash(path) & (x->dcap - 1);
    while (x->dirs[j].path) {
        if (strcmp(x->dirs[j].path, path) == 0)
            return &x->dirs[j];
        j = (j + 1) & (x->dcap - 1);
    }
    if (!insert)
        return NULL;
    x->dirs[j].path = gk_strdup(path);
    x->dn++;
    return &x->dirs[j];
}

/* A directory's node changed (replaced): forget it and what is below. */
static void dir_forget_below(gk_extract *x, const char *path)
{
    size_t len = strlen(path);
    for (size_t i = 0; i < x->dcap; i++) {
        char *p = x->dirs[i].path;
        if (p && strncmp(p, path, len) == 0 && (p[len] == 0 || p[len] == '/')) {
            /* rebuild: removing from open addressing needs a rehash */
            free(p);
            x->dirs[i].path = NULL;
            x->dn--;
        }
    }
    struct dslot *old = x->dirs;
    size_t oldcap = x->dcap;
    x->dirs = NULL;
    x->dcap = x->dn = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].path) {
            struct dslot *s = dir_slot(x, old[i].path, 1);
            s->node = old[i].node;
            free(old[i].path);
        }
    free(old);
}

gk_extract *gk_extract_new(gk_vfs *v, const gk_node *target, const char *tpath,
                           const gk_extract_opts *o)
{
    gk_extract *x = gk_calloc(1, sizeof *x);
    x->v = v;
    x->target = *target;
    x->tpath = gk_strdup(tpath);
    if (o)
        x->o = *o;
    return x;
}

void gk_extract_counts(const gk_extract *x, uint64_t *entries, uint64_t *bytes)
{
    *entries = x->entries;
    *bytes = x->bytes;
}

void gk_extract_free(gk_extract *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->dcap; i++)
        free(x->dirs[i].path);
    free(x->dirs);
    for (size_t i = 0; i < x->ndefer; i++)
        free(x->defer[i].path);
    free(x->defer);
    free(x->tpath);
    free(x);
}

/* ------------------------------------------------------------------ */
/* Names                                                               */

/* The confined relative form of an entry name ("a/b/c"; "" for the target
 * itself), or NULL (reported) if it cannot be extracted safely. */
static char *sanitize(gk_extract *x, const char *name, const char *what)
{
    if (!name) {
        report(x, 1, "an entry without a name (skipped)");
        return NULL;
    }
    size_t len = strnlen(name, GK_PATH_MAX + 1);
    if (len > GK_PATH_MAX) {
        report(x, 0, "%.64s...: %s too long (refused)", name, what);
        return NULL;
    }
    const char *p = name;
    if (*p == '/') {
        while (*p == '/')
            p++;
        if (!x->warned_abs) {
            report(x, 1, "removing leading '/' from member names");
            x->warned_abs = 1;
        }
    }
    char *out = gk_malloc(len + 1);
    size_t o = 0;
    while (*p) {
        size_t cl = strcspn(p, "/");
        if (cl == 2 && p[0] == '.' && p[1] == '.') {
            report(x, 0, "%s: %s contains '..' (refused)", name, what);
            free(out);
            return NULL;
        }
        if (cl > 255) {
            report(x, 0, "%.64s...: a %s component is too long (refused)", name, what);
            free(out);
            return NULL;
        }
        if (cl && !(cl == 1 && p[0] == '.')) {
            if (o)
                out[o++] = '/';
            memcpy(out + o, p, cl);
            o += cl;
        }
        p += cl;
        while (*p == '/')
            p++;
    }
    out[o] = 0;
    return out;
}

/* The directory at relative path rel, made (0755, root) if missing when
 * create is set.  Never through a symbolic link.  0, or -1 (reported)
 * with *fatal set for errors that should stop everything. */
static int get_dir(gk_extract *x, const char *rel, int create, gk_node *out, int *fatal)
{
    if (!*rel) {
        *out = x->target;
        return 0;
    }
    struct dslot *s = dir_slot(x, rel, 0);
    if (s) {
        *out = s->node;
        return 0;
    }
    /* the longest known prefix, then one component at a time */
    char *p = gk_strdup(rel);
    gk_node cur = x->target;
    size_t start = 0;
    for (size_t i = strlen(p); i > 0; i--) {
        if (p[i] != '/')
            continue;
        p[i] = 0;
        struct dslot *ps = dir_slot(x, p, 0);
        p[i] = '/';
        if (ps) {
            cur = ps->node;
            start = i + 1;
            break;
        }
    }
    int rc = 0;
    while (p[start]) {
        size_t cl = strcspn(p + start, "/");
        char save = p[start + cl];
        p[start + cl] = 0;
        const char *comp = p + start;
        gk_node next;
        gk_stat st;
        if (gk_vfs_child(x->v, &cur, comp, &next) == 0) {
            if (gk_node_stat(&next, &st) < 0) {
                report(x, 0, "%s/%s: %s", x->tpath, p, gk_errmsg());
                rc = -1;
                break;
            }
            if (S_ISLNK(st.mode)) {
                report(x, 0, "%s/%s: a symbolic link: not followed (the entry is refused)", x->tpath, p);
                rc = -1;
                break;
            }
            if (!S_ISDIR(st.mode)) {
                report(x, 0, "%s/%s: %s", x->tpath, p, strerror(ENOTDIR));
                rc = -1;
                break;
            }
        } else if (errno == ENOENT && create) {
            if (gk_node_mkdir(&cur, comp, 0755, 0, 0, &next) < 0) {
                report(x, 0, "%s/%s: %s", x->tpath, p, gk_errmsg());
                *fatal = errno != EEXIST;
                rc = -1;
                break;
            }
        } else {
            if (create || errno != ENOENT)
                report(x, 0, "%s/%s: %s", x->tpath, p, gk_errmsg());
            *fatal = errno != ENOENT;
            rc = -1;
            break;
        }
        struct dslot *ns = dir_slot(x, p, 1);
        ns->node = next;
        cur = next;
        p[start + cl] = save;
        start += cl;
        while (p[start] == '/')
            start++;
    }
    free(p);
    if (rc == 0)
        *out = cur;
    return rc;
}

/* Errors after which nothing else can succeed. */
static int fatal_errno(int e)
{
    return e == ENOSPC || e == EROFS || e == EIO || e == EFBIG || e == ENOMEM || e == EDQUOT;
}

static void defer_dir(gk_extract *x, const gk_node *n, const char *rel, const gk_xentry *e)
{
    if (x->ndefer == x->capdefer) {
        x->capdefer = x->capdefer ? x->capdefer * 2 : 64;
        x->defer = gk_realloc(x->defer, x->capdefer * sizeof *x->defer);
    }
    x->defer[x->ndefer++] = (struct deferred){*n, gk_strdup(rel), e->mode & 07777,
                                              x->o.keep_owner ? e->uid : 0,
                                              x->o.keep_owner ? e->gid : 0, e->atime, e->mtime};
}

static int set_xattrs(gk_extract *x, gk_node *n, const gk_xentry *e, const char *rel)
{
    if (!x->o.xattrs)
        return 0;
    for (size_t i = 0; i < e->nxattrs; i++) {
        if (gk_node_setxattr(n, e->xnames[i], e->xvals[i], e->xlens[i], 0) < 0) {
            if (errno == EOPNOTSUPP && strncmp(e->xnames[i], "system.", 7) == 0)
                continue;     /* e.g. system.nfs4_acl: the guest has no such thing */
            report(x, 0, "%s/%s: %s: %s", x->tpath, rel, e->xnames[i], strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Write a regular file's data; 0, or -1 (reported). */
static int write_data(gk_extract *x, gk_node *n, const gk_xentry *e, gk_xdata data, void *dud,
                      const char *rel)
{
    uint64_t end = 0;
    for (;;) {
        if (x->o.interrupted && x->o.interrupted(x->o.ud)) {
            report(x, 0, "interrupted");
            errno = EINTR;
            return -1;
        }
        const void *buf;
        size_t len;
        uint64_t off;
        int r = data(dud, &buf, &len, &off);
        if (r < 0) {
            report(x, 0, "%s: %s", e->path, gk_errmsg());
            errno = EIO;
            return -1;
        }
        if (r == 0)
            break;
        if (!len)
            continue;
        if (gk_node_write(n, buf, len, off) != (ssize_t)len) {
            report(x, 0, "%s/%s: %s", x->tpath, rel, gk_errmsg());
            return -1;
        }
        x->bytes += len;
        if (off + len > end)
            end = off + len;
    }
    /* a hole at the end */
    if (e->size > end && gk_node_truncate(n, e->size) < 0) {
        report(x, 0, "%s/%s: %s", x->tpath, rel, gk_errmsg());
        return -1;
    }
    return 0;
}

int gk_extract_entry(gk_extract *x, const gk_xentry *e, gk_xdata data, void *dud)
{
    uint32_t type = e->mode & S_IFMT;
    if (e->hardlink)
        type = 0;
    if (type == S_IFSOCK)
        return 1;                  /* tar leaves sockets out too */
    char *rel = sanitize(x, e->path, "member name");
    if (!rel)
        return 1;
    int rc = 0, fatal = 0;
    uint32_t uid = x->o.keep_owner ? e->uid : 0, gid = x->o.keep_owner ? e->gid : 0;
    if (!*rel) {
        /* "./": the target directory's own attributes */
        if (type == S_IFDIR) {
            defer_dir(x, &x->target, "", e);
            gk_node t = x->target;
            rc = set_xattrs(x, &t, e, ".");
        } else {
            report(x, 1, "%s: not a directory (skipped)", e->path);
            rc = 1;
        }
        free(rel);
        return rc;
    }
    char *slash = strrchr(rel, '/');
    const char *name = slash ? slash + 1 : rel;
    char *dirrel = slash ? gk_strndup(rel, (size_t)(slash - rel)) : gk_strdup("");
    gk_node parent, n, old;
    gk_stat ost;
    if (get_dir(x, dirrel, 1, &parent, &fatal) < 0) {
        rc = -1;
        goto out;
    }
    int have = gk_vfs_child(x->v, &parent, name, &old) == 0 && gk_node_stat(&old, &ost) == 0;
    if (type == S_IFDIR) {
        if (have && S_ISDIR(ost.mode) && old.mnt == parent.mnt) {
            n = old;
        } else if (have && S_ISDIR(ost.mode)) {
            n = old;              /* a mountpoint: the mounted filesystem's root */
        } else {
            if (have && gk_node_unlink(&parent, name) < 0) {
                report(x, 0, "%s/%s: %s", x->tpath, rel, gk_errmsg());
                fatal = fatal_errno(errno);
                rc = -1;
                goto out;
            }
            if (gk_node_mkdir(&parent, name, (e->mode & 07777) | 0700, uid, gid, &n) < 0) {
                report(x, 0, "%s/%s: %s", x->tpath, rel, gk_errmsg());
                fatal = fatal_errno(errno);
                rc = -1;
                goto out;
            }
            dir_forget_below(x, rel);
        }
        struct dslot *s = dir_slot(x, rel, 1);
        s->node = n;
        defer_dir(x, &n, rel, e);
        if (set_xattrs(x, &n, e, rel) < 0) {
            fatal = fatal_errno(errno);
            rc = -1;
        }
        x->entries++;
        goto out;
    }
    /* a non-directory replaces what is there (an empty directory too) */
    if (have) {
        int r = S_ISDIR(ost.mode) ? gk_node_rmdir(&parent, name) : gk_node_unlink(&parent, name);
        if (r < 0) {
            report(x, 0, "%s/%s: cannot replace it: %s", x->tpath, rel, gk_errmsg());
            fatal = fatal_errno(errno);
            rc = -1;
            goto out;
        }
        if (S_ISDIR(ost.mode))
            dir_forget_below(x, rel);
    }
    if (e->hardlink) {
        char *trel = sanitize(x, e->hardlink, "hard link target");
        if (!trel) {
            rc = 1;
            goto out;
        }
        char *tslash = strrchr(trel, '/');
        char *tdir = tslash ? gk_strndup(trel, (size_t)(tslash - trel)) : gk_strdup("");
        gk_node tp, tn;
        gk_stat tst;
        int ok = *trel && get_dir(x, tdir, 0, &tp, &fatal) == 0 &&
                 gk_vfs_child(x->v, &tp, tslash ? tslash + 1 : trel, &tn) == 0 &&
                 gk_node_stat(&tn, &tst) == 0 && !S_ISDIR(tst.mode) && tn.mnt == tp.mnt;
        if (!ok) {
            report(x, 0, "%s: hard link to %s: not a file extracted before (refused)", e->path,
                   e->hardlink);
            rc = -1;
        } else if (gk_node_link(&tn, &parent, name) < 0) {
            report(x, 0, "%s/%s: %s", x->tpath, rel, gk_errmsg());
            fatal = fatal_errno(errno);
            rc = -1;
        } else {
            x->entries++;
        }
        free(tdir);
        free(trel);
        goto out;
    }
    int r;
    switch (type) {
    case S_IFREG: {
        /* a size that cannot fit is refused before anything is written */
        gk_statvfs sv;
        if (gk_node_writable(&parent) && gk_fs_statvfs(parent.mnt->fs, &sv) == 0 &&
            (e->size + sv.frsize - 1) / sv.frsize > sv.bfree) {
            report(x, 0, "%s/%s: %" PRIu64 " bytes do not fit: %s", x->tpath, rel, e->size,
                   strerror(ENOSPC));
            fatal = 1;
            rc = -1;
            goto out;
        }
        r = gk_node_create(&parent, name, e->mode & 07777, uid, gid, &n);
        if (r == 0 && data && write_data(x, &n, e, data, dud, rel) < 0) {
            /* nothing half-written is left */
            int err = errno;
            gk_node_unlink(&parent, name);
            fatal = fatal_errno(err) || err == EINTR;
            rc = -1;
            goto out;
        }
        break;
    }
    case S_IFLNK:
        if (!e->symlink || !*e->symlink) {
            report(x, 1, "%s: symbolic link without a target (skipped)", e->path);
            rc = 1;
            goto out;
        }
        r = gk_node_symlink(&parent, name, e->symlink, uid, gid, &n);
        break;
    case S_IFCHR: case S_IFBLK: case S_IFIFO:
        r = gk_node_mknod(&parent, name, e->mode, e->rdev, uid, gid, &n);
        break;
    default:
        report(x, 1, "%s: unknown file type 0%o (skipped)", e->path, type);
        rc = 1;
        goto out;
    }
    if (r < 0) {
        report(x, 0, "%s/%s: %s", x->tpath, rel, gk_errmsg());
        fatal = fatal_errno(errno);
        rc = -1;
        goto out;
    }
    x->entries++;
    if (set_xattrs(x, &n, e, rel) < 0) {
        fatal = fatal_errno(errno);
        rc = -1;
        goto out;
    }
    struct timespec t[2] = {e->atime, e->mtime};
    if (gk_node_utimens(&n, t) < 0) {
        report(x, 0, "%s/%s: %s", x->tpath, rel, gk_errmsg());
        fatal = fatal_errno(errno);
        rc = -1;
    }
out:
    free(dirrel);
    free(rel);
    if (rc < 0 && fatal)
        return -2;
    return rc;
}

int gk_extract_finish(gk_extract *x)
{
    int rc = 0;
    /* the deepest first: setting a directory's time must come after its
     * children stopped changing it */
    for (size_t i = x->ndefer; i-- > 0;) {
        struct deferred *d = &x->defer[i];
        const char *rel = *d->path ? d->path : ".";
        if (gk_node_chown(&d->node, d->uid, d->gid) < 0 || gk_node_chmod(&d->node, d->mode) < 0) {
            report(x, 0, "%s/%s: %s", x->tpath, rel, gk_errmsg());
            rc = -1;
            if (fatal_errno(errno))
                break;
            continue;
        }
        struct timespec t[2] = {d->atime, d->mtime};
        if (gk_node_utimens(&d->node, t) < 0) {
            report(x, 0, "%s/%s: %s", x->tpath, rel, gk_errmsg());
            rc = -1;
            if (fatal_errno(errno))
                break;
        }
    }
    for (size_t i = 0; i < x->ndefer; i++)
        free(x->defer[i].path);
    x->ndefer = 0;
    return rc < 0 || x->failed ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Source: a host tree                                                 */

struct hostfile {
    int fd;
    uint64_t pos, size;
    char *buf;
    const char *path;
};

/* Data blocks of a host file, holes skipped (SEEK_DATA). */
static int host_data(void *ud, const void **buf, size_t *len, uint64_t *off)
{
    struct hostfile *h = ud;
    while (h->pos < h->size) {
        off_t d = lseek(h->fd, (off_t)h->pos, SEEK_DATA);
        if (d < 0 && errno == ENXIO)
            return 0;                  /* a hole to the end */
        if (d < 0)
            d = (off_t)h->pos;         /* no SEEK_DATA: all data */
        h->pos = (uint64_t)d;
        if (h->pos >= h->size)
            return 0;
        size_t want = h->size - h->pos < DATA_BLOCK ? (size_t)(h->size - h->pos) : DATA_BLOCK;
        /* up to the next hole, so that holes stay holes */
        off_t hole = lseek(h->fd, (off_t)h->pos, SEEK_HOLE);
        if (hole > (off_t)h->pos && (uint64_t)hole - h->pos < want)
            want = (size_t)((uint64_t)hole - h->pos);
        ssize_t k = pread(h->fd, h->buf, want, (off_t)h->pos);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            gk_error("%s: %s", h->path, strerror(errno));
            return -1;
        }
        if (k == 0)
            return 0;                  /* shrank under us */
        *buf = h->buf;
        *len = (size_t)k;
        *off = h->pos;
        h->pos += (uint64_t)k;
        return 1;
    }
    return 0;
}

struct hxattrs {
    char *names;
    const char **n;
    const void **v;
    size_t *l;
    size_t count;
};

static void hx_free(struct hxattrs *h)
{
    for (size_t i = 0; i < h->count; i++)
        free((void *)h->v[i]);
    free(h->names);
    free(h->n);
    free(h->v);
    free(h->l);
    memset(h, 0, sizeof *h);
}

static void host_xattrs(gk_extract *x, const char *path, struct hxattrs *h)
{
    memset(h, 0, sizeof *h);
    ssize_t len = llistxattr(path, NULL, 0);
    if (len <= 0 || (size_t)len > XATTR_LIST_MAX_BYTES)
        return;
    h->names = gk_malloc((size_t)len);
    len = llistxattr(path, h->names, (size_t)len);
    if (len <= 0)
        return;
    for (ssize_t off = 0; off < len; off += (ssize_t)strlen(h->names + off) + 1) {
        const char *nm = h->names + off;
        ssize_t vl = lgetxattr(path, nm, NULL, 0);
        if (vl < 0 || vl > 65536) {
            report(x, 1, "%s: %s: %s (not copied)", path, nm, vl < 0 ? strerror(errno) : "too large");
            continue;
        }
        char *val = gk_malloc((size_t)vl + 1);
        vl = lgetxattr(path, nm, val, (size_t)vl);
        if (vl < 0) {
            free(val);
            continue;
        }
        h->n = gk_realloc(h->n, (h->count + 1) * sizeof *h->n);
        h->v = gk_realloc(h->v, (h->count + 1) * sizeof *h->v);
        h->l = gk_realloc(h->l, (h->count + 1) * sizeof *h->l);
        h->n[h->count] = nm;
        h->v[h->count] = val;
        h->l[h->count] = (size_t)vl;
        h->count++;
    }
}

struct hlink { dev_t dev; ino_t ino; char *rel; };

struct hstate {
    gk_extract *x;
    struct hlink *links;
    size_t nlinks, caplinks;
    char *buf;
};

/* One host object (full path fp, relative name rel, lstat st). */
static int host_one(struct hstate *hs, const char *fp, const char *rel, const struct stat *st)
{
    gk_extract *x = hs->x;
    gk_xentry e = {0};
    e.path = rel;
    e.mode = st->st_mode;
    e.uid = st->st_uid;
    e.gid = st->st_gid;
    e.size = S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0;
    e.rdev = st->st_rdev;
    e.atime = st->st_atim;
    e.mtime = st->st_mtim;
    char target[GK_PATH_MAX + 1];
    if (S_ISLNK(st->st_mode)) {
        ssize_t tl = readlink(fp, target, sizeof target - 1);
        if (tl < 0) {
            report(x, 0, "%s: %s", fp, strerror(errno));
            return -1;
        }
        target[tl] = 0;
        e.symlink = target;
    }
    if (!S_ISDIR(st->st_mode) && st->st_nlink > 1) {
        for (size_t i = 0; i < hs->nlinks; i++)
            if (hs->links[i].dev == st->st_dev && hs->links[i].ino == st->st_ino) {
                e.hardlink = hs->links[i].rel;
                break;
            }
        if (!e.hardlink) {
            if (hs->nlinks == hs->caplinks) {
                hs->caplinks = hs->caplinks ? hs->caplinks * 2 : 64;
                hs->links = gk_realloc(hs->links, hs->caplinks * sizeof *hs->links);
            }
            hs->links[hs->nlinks++] = (struct hlink){st->st_dev, st->st_ino, gk_strdup(rel)};
        }
    }
    struct hxattrs hx = {0};
    if (x->o.xattrs && !e.hardlink) {
        host_xattrs(x, fp, &hx);
        e.nxattrs = hx.count;
        e.xnames = hx.n;
        e.xvals = hx.v;
        e.xlens = hx.l;
    }
    int r;
    if (S_ISREG(st->st_mode) && !e.hardlink) {
        int fd = gk_host_open_read(fp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            report(x, 0, "%s: %s", fp, strerror(errno));
            hx_free(&hx);
            return -1;
        }
        struct hostfile h = {fd, 0, e.size, hs->buf, fp};
        r = gk_extract_entry(x, &e, host_data, &h);
        close(fd);
    } else {
        r = gk_extract_entry(x, &e, NULL, NULL);
    }
    hx_free(&hx);
    return r;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in directory fp, sorted; NULL (reported) on error. */
static char **list_host_dir(gk_extract *x, const char *fp, size_t *n)
{
    int dfd = gk_host_open_read(fp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (dfd >= 0 && !d) {
        int e = errno;
        close(dfd);
        errno = e;
    }
    *n = 0;
    if (!d) {
        report(x, 0, "%s: %s", fp, strerror(errno));
        return NULL;
    }
    char **v = NULL;
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            v = gk_realloc(v, cap * sizeof *v);
        }
        v[(*n)++] = gk_strdup(de->d_name);
    }
    closedir(d);
    if (*n > 1)
        qsort(v, *n, sizeof *v, cmp_names);
    if (!v)
        v = gk_calloc(1, sizeof *v);
    return v;
}

struct hlevel { char *fp, *rel; char **names; size_t n, i; };

int gk_extract_host(gk_extract *x, const char *hostpath)
{
    struct stat st;
    if (lstat(hostpath, &st) < 0) {
        report(x, 0, "source \u2018%s\u2019 does not exist (or cannot be read)", hostpath);
        return -1;
    }
    char *hp = gk_strdup(hostpath);
    size_t l = strlen(hp);
    while (l > 1 && hp[l - 1] == '/')
        hp[--l] = 0;
    const char *base = strrchr(hp, '/') ? strrchr(hp, '/') + 1 : hp;
    if (!*base || strcmp(base, "..") == 0 || strcmp(base, ".") == 0) {
        /* "/", ".", "..": the contents, as tar -C DIR -cf - . would */
        base = "";
    }
    struct hstate hs = {x, NULL, 0, 0, gk_malloc(DATA_BLOCK)};
    int rc = 0;
    if (!S_ISDIR(st.st_mode)) {
        rc = host_one(&hs, hp, base, &st) == -2 ? -1 : 0;
        goto out;
    }
    struct hlevel *stack = NULL;
    size_t depth = 0, cap = 0;
    if (*base && host_one(&hs, hp, base, &st) == -2) {
        rc = -1;
        goto out;
    }
    size_t n;
    char **names = list_host_dir(x, hp, &n);
    if (!names) {
        rc = -1;
        goto out;
    }
    cap = 16;
    stack = gk_malloc(cap * sizeof *stack);
    stack[depth++] = (struct hlevel){gk_strdup(hp), gk_strdup(base), names, n, 0};
    while (depth && rc == 0) {
        struct hlevel *lv = &stack[depth - 1];
        if (lv->i == lv->n) {
            for (size_t i = 0; i < lv->n; i++)
                free(lv->names[i]);
            free(lv->names);
            free(lv->fp);
            free(lv->rel);
            depth--;
            continue;
        }
        if (x->o.interrupted && x->o.interrupted(x->o.ud)) {
            report(x, 0, "interrupted");
            rc = -1;
            break;
        }
        const char *nm = lv->names[lv->i++];
        char *fp = gk_asprintf("%s/%s", strcmp(lv->fp, "/") ? lv->fp : "", nm);
        char *rel = *lv->rel ? gk_asprintf("%s/%s", lv->rel, nm) : gk_strdup(nm);
        struct stat cst;
        if (lstat(fp, &cst) < 0) {
            report(x, 0, "%s: %s", fp, strerror(errno));
        } else {
            int r = host_one(&hs, fp, rel, &cst);
            if (r == -2) {
                rc = -1;
            } else if (r == 0 && S_ISDIR(cst.st_mode)) {
                if (depth >= GK_WALK_MAXDEPTH) {
                    report(x, 0, "%s: directories nested too deeply", fp);
                } else if ((names = list_host_dir(x, fp, &n))) {
                    if (depth == cap) {
                        cap *= 2;
                        stack = gk_realloc(stack, cap * sizeof *stack);
                    }
                    stack[depth++] = (struct hlevel){fp, rel, names, n, 0};
                    continue;
                }
            }
        }
        free(fp);
        free(rel);
    }
    while (depth) {
        struct hlevel *lv = &stack[--depth];
        for (size_t i = 0; i < lv->n; i++)
            free(lv->names[i]);
        free(lv->names);
        free(lv->fp);
        free(lv->rel);
    }
    free(stack);
out:
    for (size_t i = 0; i < hs.nlinks; i++)
        free(hs.links[i].rel);
    free(hs.links);
    free(hs.buf);
    free(hp);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Source: a tar archive                                               */

struct tarsrc { struct archive *a; };

static int tar_data(void *ud, const void **buf, size_t *len, uint64_t *off)
{
    struct tarsrc *t = ud;
    la_int64_t o;
    int r = archive_read_data_block(t->a, buf, len, &o);
    if (r == ARCHIVE_EOF)
        return 0;
    if (r < ARCHIVE_WARN || o < 0) {
        gk_error("%s", archive_error_string(t->a) ? archive_error_string(t->a) : "bad data");
        return -1;
    }
    *off = (uint64_t)o;
    return 1;
}

int gk_extract_tar(gk_extract *x, int fd, const char *name)
{
    struct archive *a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    archive_read_support_format_empty(a);
    if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
        report(x, 0, "%s: %s", name, archive_error_string(a));
        archive_read_free(a);
        return -1;
    }
    int rc = 0;
    struct archive_entry *ae;
    for (;;) {
        if (x->o.interrupted && x->o.interrupted(x->o.ud)) {
            report(x, 0, "interrupted");
            rc = -1;
            break;
        }
        int r = archive_read_next_header(a, &ae);
        if (r == ARCHIVE_EOF)
            break;
        if (r == ARCHIVE_WARN)
            report(x, 1, "%s: %s", name, archive_error_string(a));
        else if (r != ARCHIVE_OK) {
            report(x, 0, "%s: %s", name, archive_error_string(a) ? archive_error_string(a)
                                                                  : "not a tar archive");
            rc = -1;
            break;
        }
        gk_xentry e = {0};
        e.path = archive_entry_pathname(ae);
        e.mode = (uint32_t)archive_entry_mode(ae);
        la_int64_t uid = archive_entry_uid(ae), gid = archive_entry_gid(ae);
        if (uid < 0 || uid > UINT32_MAX - 1 || gid < 0 || gid > UINT32_MAX - 1) {
            report(x, 1, "%s: owner %lld:%lld out of range (root instead)", e.path ? e.path : "?",
                   (long long)uid, (long long)gid);
            uid = gid = 0;
        }
        e.uid = (uint32_t)uid;
        e.gid = (uint32_t)gid;
        la_int64_t size = archive_entry_size(ae);
        e.size = size > 0 ? (uint64_t)size : 0;
        e.rdev = makedev(archive_entry_rdevmajor(ae), archive_entry_rdevminor(ae));
        e.mtime.tv_sec = archive_entry_mtime(ae);
        e.mtime.tv_nsec = archive_entry_mtime_is_set(ae) ? archive_entry_mtime_nsec(ae) : 0;
        if (e.mtime.tv_nsec < 0 || e.mtime.tv_nsec > 999999999)
            e.mtime.tv_nsec = 0;
        if (archive_entry_atime_is_set(ae)) {
            e.atime.tv_sec = archive_entry_atime(ae);
            e.atime.tv_nsec = archive_entry_atime_nsec(ae);
            if (e.atime.tv_nsec < 0 || e.atime.tv_nsec > 999999999)
                e.atime.tv_nsec = 0;
        } else {
            e.atime = e.mtime;
        }
        e.symlink = archive_entry_symlink(ae);
        e.hardlink = archive_entry_hardlink(ae);
        /* xattrs (pax SCHILY.xattr.*, LIBARCHIVE.xattr.*) */
        size_t nx = 0, capx = 0;
        const char **xn = NULL;
        const void **xv = NULL;
        size_t *xl = NULL;
        if (x->o.xattrs && archive_entry_xattr_reset(ae) > 0) {
            const char *xname;
            const void *xval;
            size_t xlen;
            while (archive_entry_xattr_next(ae, &xname, &xval, &xlen) == ARCHIVE_OK) {
                if (!xname || xlen > 65536)
                    continue;
                if (nx == capx) {
                    capx = capx ? capx * 2 : 8;
                    xn = gk_realloc(xn, capx * sizeof *xn);
                    xv = gk_realloc(xv, capx * sizeof *xv);
                    xl = gk_realloc(xl, capx * sizeof *xl);
                }
                xn[nx] = xname;
                xv[nx] = xval ? xval : "";
                xl[nx++] = xlen;
            }
        }
        e.nxattrs = nx;
        e.xnames = xn;
        e.xvals = xv;
        e.xlens = xl;
        struct tarsrc t = {a};
        int er = gk_extract_entry(x, &e, S_ISREG(e.mode) && !e.hardlink ? tar_data : NULL, &t);
        free(xn);
        free(xv);
        free(xl);
        if (er == -2) {
            rc = -1;
            break;
        }
        if (er == -1)
            rc = -1;
    }
    archive_read_free(a);
    return rc;
}
