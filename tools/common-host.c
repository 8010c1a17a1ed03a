/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing guest data onto the host: the output-file opener and the copy
 * engine of gcopy-out and gfsh copy-out (see hostio.h).
 *
 * The copy creates everything relative to directory descriptors it opened
 * itself (openat/mkdirat/symlinkat/mknodat/linkat): new files with
 * O_CREAT|O_EXCL|O_NOFOLLOW, directories entered with O_NOFOLLOW|
 * O_DIRECTORY, a name that is empty, ".", ".." or holds a "/" refused.  A
 * guest symlink is recreated as a symlink and never followed on the host,
 * so nothing is ever written outside the destination.
 *
 * Deep trees: the walk (fs/walk.c) keeps its state on the heap, and only
 * the innermost WINDOW directory descriptors stay open; an outer directory
 * is reopened through ".." of its child when the copy comes back to it,
 * and checked to be the same directory (device and inode). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "hostio.h"
#include "sandbox.h"

/* ------------------------------------------------------------------ */
/* Output files                                                        */

int gk_hostout_open(gk_hostout *h, const char *path)
{
    memset(h, 0, sizeof *h);
    h->fd = -1;
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 3; tries++) {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0666);
        if (fd >= 0 || errno != EEXIST)
            break;
        fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 && errno != ENOENT)
            break;              /* ENOENT: removed meanwhile, create it */
    }
    if (fd < 0) {
        struct stat st;
        if (errno == ELOOP && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
            gk_error("%s: is a symbolic link (not followed: remove it, or name the file it "
                     "points to)", path);
        else
            gk_error("%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        gk_error("%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (S_ISREG(st.st_mode) && st.st_size > 0 && ftruncate(fd, 0) < 0) {
        gk_error("%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    h->fd = fd;
    h->path = gk_strdup(path);
    h->regular = S_ISREG(st.st_mode);
    h->dev = st.st_dev;
    h->ino = st.st_ino;
    return 0;
}

FILE *gk_hostout_fp(gk_hostout *h)
{
    if (!h->fp && h->fd >= 0) {
        h->fp = fdopen(h->fd, "w");
        if (!h->fp)
            gk_error("%s: %s", h->path, strerror(errno));
    }
    return h->fp;
}

int gk_hostout_close(gk_hostout *h, int failed)
{
    int rc = 0;
    if (h->fp) {
        if (fclose(h->fp) != 0) {
            gk_error("%s: %s", h->path, strerror(errno));
            rc = -1;
        }
    } else if (h->fd >= 0 && close(h->fd) < 0) {
        gk_error("%s: %s", h->path, strerror(errno));
        rc = -1;
    }
    struct stat st;
    if ((failed || rc < 0) && h->regular && h->path && lstat(h->path, &st) == 0 &&
        st.st_dev == h->dev && st.st_ino == h->ino)
        unlink(h->path);
    free(h->path);
    memset(h, 0, sizeof *h);
    h->fd = -1;
    return rc;
}

/* ------------------------------------------------------------------ */
/* The copy engine                                                     */

#define BUFSZ (1 << 20)
#define WINDOW 64            /* directory descriptors kept open          */
#define XATTR_VALUE_MAX 65536 /* what Linux accepts (XATTR_SIZE_MAX)     */
#define XATTR_LIST_MAXSZ (1 << 20)

struct hlevel {
    int fd;                  /* -1: closed (reopened through "..")        */
    dev_t dev;
    ino_t ino;
    size_t rellen;           /* its path in rel                           */
};

struct gk_copyout {
    gk_vfs *vfs;
    gk_copyout_opts o;
    int rootfd;
    int root;                /* running as root: owners and devices       */
    gk_nodemap *links;       /* (mount, ino) -> first relative path       */
    char *buf;
    int failed;
    uint64_t files, bytes;
    struct timespec last;
    int warned_special, xattr_warnings;
    /* the relative path of what is being copied, for messages and links */
    char *rel;
    size_t rellen, relcap;
    struct hlevel *hl;
    int nhl, caphl, nopen;
    /* the writer thread of large files */
    struct {
        pthread_t th;
        int started, quit;
        pthread_mutex_t mu;
        pthread_cond_t cv;
        struct job { int fd; size_t len; uint64_t off; int sparse; } q[3];
        char *bufs[3];
        int head, count;
        int err;
    } wr;
};
#define NBUF 3

static void report(gk_copyout *c, int warning, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(gk_copyout *c, int warning, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (c->o.progress)
        fputs("\r\033[K", stderr);
    if (c->o.report)
        c->o.report(c->o.ud, warning, msg ? msg : fmt);
    else if (warning)
        gk_warn("%s", msg ? msg : fmt);
    else
        gk_say("%s", msg ? msg : fmt);      /* guest names quoted on a terminal */
    free(msg);
    if (!warning)
        c->failed = 1;
}

/* The host path of the relative path rel[0..len) (for messages). */
static char *host_path(gk_copyout *c, size_t len)
{
    const char *d = c->o.hostdir ? c->o.hostdir : ".";
    if (!len)
        return gk_strdup(d);
    size_t dl = strlen(d);
    return gk_asprintf("%s%s%.*s", d, dl && d[dl - 1] == '/' ? "" : "/", (int)len, c->rel);
}

static void host_err(gk_copyout *c, const char *what)
{
    int e = errno;
    char *hp = host_path(c, c->rellen);
    report(c, 0, "%s: %s%s%s", hp, what ? what : "", what ? ": " : "", strerror(e));
    free(hp);
}

static void rel_set(gk_copyout *c, size_t len)
{
    c->rellen = len;
    c->rel[len] = 0;
}

static void rel_push(gk_copyout *c, const char *name)
{
    size_t nl = strlen(name), need = c->rellen + 1 + nl + 1;
    if (need > c->relcap) {
        while (need > c->relcap)
            c->relcap *= 2;
        c->rel = gk_realloc(c->rel, c->relcap);
    }
    if (c->rellen)
        c->rel[c->rellen++] = '/';
    memcpy(c->rel + c->rellen, name, nl + 1);
    c->rellen += nl;
}

static void progress(gk_copyout *c, int force)
{
    if (!c->o.progress)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (now.tv_sec - c->last.tv_sec) * 1000 + (now.tv_nsec - c->last.tv_nsec) / 1000000;
    if (!force && ms < 250)
        return;
    c->last = now;
    fprintf(stderr, "\r%s: %" PRIu64 " files, %.1f MiB", gk_progname, c->files,
            c->bytes / 1048576.0);
    fflush(stderr);
}

static int safe_name(const char *name)
{
    return *name && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
           strlen(name) <= 255;
}

/* Open the directory at relative path rel under the root one component at
 * a time, never following a symlink. */
static int open_rel_dir(gk_copyout *c, const char *rel)
{
    int fd = dup(c->rootfd);
    char *copy = gk_strdup(rel), *save = NULL;
    for (char *p = strtok_r(copy, "/", &save); p && fd >= 0; p = strtok_r(NULL, "/", &save)) {
        int nfd = gk_host_openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
        close(fd);
        fd = nfd;
    }
    free(copy);
    return fd;
}

/* Which permission bits to restore: set-id bits only when the owner is the
 * guest's too (cp -p does the same); otherwise a guest file 4755 of uid
 * 1000 would become a set-uid file of whoever runs the copy. */
static mode_t mode_bits(const gk_stat *st, int owner_kept)
{
    return st->mode & (owner_kept ? 07777 : 01777);
}

/* The guest's owner, as root: 1 if it is kept. */
static int set_owner_fd(gk_copyout *c, int fd, const gk_stat *st)
{
    return c->root && fchown(fd, st->uid, st->gid) == 0;
}

/* Mode (after chown, which clears set-id bits), then times. */
static void set_mode_times_fd(gk_copyout *c, int fd, const gk_stat *st, int owner_kept)
{
    if (fchmod(fd, mode_bits(st, owner_kept)) < 0)
        host_err(c, "chmod");
    struct timespec ts[2] = { st->atime, st->mtime };
    futimens(fd, ts);
}

/* Metadata of something we cannot open (symlink, device, FIFO): by name
 * in its parent, never following a link. */
static void set_meta_at(gk_copyout *c, int dirfd, const char *name, const gk_stat *st, int is_link)
{
    /* path forms escape Landlock: the sandbox's front end does them */
    struct timespec ts[2] = { st->atime, st->mtime };
    gk_sandbox_meta_at(dirfd, name, c->root, st->uid, st->gid, mode_bits(st, 1), mode_bits(st, 0),
                       is_link, ts);
}

/* Which guest xattrs go to the host: user.* always; POSIX ACLs when asked;
 * security.* and trusted.* when asked and the owner was kept (they grant
 * what only the owner's own files should have: capabilities, labels). */
static int xattr_wanted(gk_copyout *c, const char *name, int owner_kept)
{
    if (strncmp(name, "user.", 5) == 0)
        return 1;
    if (!c->o.xattrs)
        return 0;
    if (strcmp(name, "system.posix_acl_access") == 0 || strcmp(name, "system.posix_acl_default") == 0)
        return 1;
    return owner_kept && (strncmp(name, "security.", 9) == 0 || strncmp(name, "trusted.", 8) == 0);
}

static void xattr_host_fail(gk_copyout *c, const char *name, int e)
{
    /* a host filesystem without xattrs would repeat this for every file */
    if (c->xattr_warnings++ >= 10) {
        if (c->xattr_warnings == 12)
            report(c, 1, "further extended attributes that cannot be set are not reported");
        return;
    }
    char *hp = host_path(c, c->rellen);
    report(c, 1, "%s: cannot set extended attribute %s: %s", hp, name, strerror(e));
    free(hp);
}

/* The guest's list of names, sized from the driver's answer. */
static ssize_t xattr_list(gk_node *n, char **out)
{
    *out = NULL;
    for (int tries = 0; tries < 4; tries++) {
        ssize_t need = gk_node_listxattr(n, NULL, 0);
        if (need <= 0)
            return need;
        if (need > XATTR_LIST_MAXSZ) {
            gk_error("extended attribute names take %zd bytes (more than %d)", need,
                     XATTR_LIST_MAXSZ);
            return -1;
        }
        char *buf = gk_malloc((size_t)need + 1);
        ssize_t got = gk_node_listxattr(n, buf, (size_t)need);
        if (got >= 0 && got <= need) {
            buf[got] = 0;
            *out = buf;
            return got;
        }
        free(buf);
        if (got < 0)
            return -1;
    }
    gk_error("extended attribute names keep changing");
    return -1;
}

static void copy_xattrs(gk_copyout *c, gk_node *n, int fd, const char *gpath, int owner_kept)
{
    char *list;
    ssize_t len = xattr_list(n, &list);
    if (len < 0) {
        report(c, 0, "%s: extended attributes: %s", gpath, gk_errmsg());
        return;
    }
    for (ssize_t i = 0; i < len;) {
        const char *name = list + i;
        size_t nl = strnlen(name, (size_t)(len - i));
        i += (ssize_t)nl + 1;
        if (nl == 0 || !xattr_wanted(c, name, owner_kept))
            continue;
        ssize_t vl = gk_node_getxattr(n, name, NULL, 0);
        char *val = NULL;
        if (vl > XATTR_VALUE_MAX) {
            char *hp = host_path(c, c->rellen);
            report(c, 1, "%s: extended attribute %s: value of %zd bytes is too large for the host",
                   hp, name, vl);
            free(hp);
            continue;
        }
        if (vl > 0) {
            val = gk_malloc((size_t)vl);
            ssize_t got = gk_node_getxattr(n, name, val, (size_t)vl);
            if (got > vl) {
                gk_error("%s: value changed size", name);
                got = -1;
            }
            vl = got;
        }
        if (vl < 0) {
            if (errno != ENODATA)
                report(c, 0, "%s: extended attribute %s: %s", gpath, name, gk_errmsg());
            free(val);
            continue;
        }
        if (fsetxattr(fd, name, val ? val : "", (size_t)vl, 0) < 0)
            xattr_host_fail(c, name, errno);
        free(val);
    }
    free(list);
}

static int is_zero(const char *p, size_t n)
{
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static int write_chunks(int fd, const char *buf, size_t len, uint64_t off, int sparse)
{
    for (size_t done = 0; done < len;) {
        size_t chunk = len - done > 65536 ? 65536 : len - done;
        if (!(sparse && is_zero(buf + done, chunk))) {
            ssize_t w = pwrite(fd, buf + done, chunk, (off_t)(off + done));
            if (w != (ssize_t)chunk)
                return w < 0 ? errno : EIO;
        }
        done += chunk;
    }
    return 0;
}

/* Large files: reading the image and writing the copy are two kernel
 * copies of every byte; a writer thread overlaps them.  Only the calling
 * thread ever calls into the library; the writer only does pwrite.  Slot i
 * of the queue always uses buffer i. */
static void *writer(void *arg)
{
    gk_copyout *c = arg;
    pthread_mutex_lock(&c->wr.mu);
    for (;;) {
        while (c->wr.count == 0 && !c->wr.quit)
            pthread_cond_wait(&c->wr.cv, &c->wr.mu);
        if (c->wr.count == 0)
            break;
        struct job j = c->wr.q[c->wr.head];
        char *buf = c->wr.bufs[c->wr.head];
        int failed = c->wr.err;   /* after a failure the rest of the file is dropped */
        pthread_mutex_unlock(&c->wr.mu);
        int e = failed ? 0 : write_chunks(j.fd, buf, j.len, j.off, j.sparse);
        pthread_mutex_lock(&c->wr.mu);
        if (e && !c->wr.err)
            c->wr.err = e;
        c->wr.head = (c->wr.head + 1) % NBUF;
        c->wr.count--;
        pthread_cond_broadcast(&c->wr.cv);
    }
    pthread_mutex_unlock(&c->wr.mu);
    return NULL;
}

/* A free buffer for the next job (waits for the writer if all are queued). */
static char *wr_slot(gk_copyout *c)
{
    if (!c->wr.started) {
        for (int i = 0; i < NBUF; i++)
            if (!c->wr.bufs[i])
                c->wr.bufs[i] = gk_malloc(BUFSZ);
        if (pthread_create(&c->wr.th, NULL, writer, c) != 0)
            return NULL;
        c->wr.started = 1;
    }
    pthread_mutex_lock(&c->wr.mu);
    while (c->wr.count == NBUF)
        pthread_cond_wait(&c->wr.cv, &c->wr.mu);
    char *b = c->wr.bufs[(c->wr.head + c->wr.count) % NBUF];
    pthread_mutex_unlock(&c->wr.mu);
    return b;
}

static void wr_queue(gk_copyout *c, int fd, size_t len, uint64_t off, int sparse)
{
    pthread_mutex_lock(&c->wr.mu);
    c->wr.q[(c->wr.head + c->wr.count) % NBUF] = (struct job){ fd, len, off, sparse };
    c->wr.count++;
    pthread_cond_broadcast(&c->wr.cv);
    pthread_mutex_unlock(&c->wr.mu);
}

/* Wait until every queued write is done; the first error, or 0. */
static int wr_drain(gk_copyout *c)
{
    if (!c->wr.started)
        return 0;
    pthread_mutex_lock(&c->wr.mu);
    while (c->wr.count > 0)
        pthread_cond_wait(&c->wr.cv, &c->wr.mu);
    int e = c->wr.err;
    c->wr.err = 0;
    pthread_mutex_unlock(&c->wr.mu);
    return e;
}

static void wr_stop(gk_copyout *c)
{
    if (c->wr.started) {
        pthread_mutex_lock(&c->wr.mu);
        c->wr.quit = 1;
        pthread_cond_broadcast(&c->wr.cv);
        pthread_mutex_unlock(&c->wr.mu);
        pthread_join(c->wr.th, NULL);
        c->wr.started = 0;
        c->wr.quit = 0;
    }
    for (int i = 0; i < NBUF; i++) {
        free(c->wr.bufs[i]);
        c->wr.bufs[i] = NULL;
    }
}

/* Copy the data runs of a regular file into fd, leaving holes. */
static int copy_data(gk_copyout *c, gk_node *n, const gk_stat *st, int fd, const char *gpath)
{
    gk_fmap *runs = NULL;
    size_t nruns = 0;
    if (gk_node_fmap(n, &runs, &nruns) < 0) {
        report(c, 0, "%s: %s", gpath, gk_errmsg());
        return -1;
    }
    /* within a data run, whole zero chunks still become holes only when
     * the run is the entire file (a driver that knows no holes) */
    int sparse_by_zero = nruns == 1 && runs[0].logical == 0 && runs[0].len >= st->size &&
                         st->blocks * 512 < st->size;
    uint64_t data = 0;
    for (size_t i = 0; i < nruns; i++)
        data += runs[i].len;
    /* one buffer's worth is written at once: a thread hand-off per small
     * file would cost more than it saves */
    int async = data > BUFSZ;
    int rc = 0;
    uint64_t reached = 0;      /* end of the last byte range written */
    for (size_t i = 0; i < nruns && rc == 0; i++) {
        uint64_t off = runs[i].logical;
        if (off >= st->size)
            break;
        uint64_t end = runs[i].len > st->size - off ? st->size : off + runs[i].len;
        while (off < end) {
            if (c->o.interrupted && c->o.interrupted(c->o.ud)) {
                rc = -1;
                break;
            }
            size_t want = end - off > BUFSZ ? BUFSZ : (size_t)(end - off);
            char *buf = async ? wr_slot(c) : c->buf;
            if (!buf) {
                async = 0;
                buf = c->buf;
            }
            ssize_t r = gk_node_read(n, buf, want, off);
            if (r < 0) {
                report(c, 0, "%s: %s", gpath, gk_errmsg());
                rc = -1;
                break;
            }
            if (r == 0)
                break;      /* shorter than its size says: keep what we have */
            if (async) {
                wr_queue(c, fd, (size_t)r, off, sparse_by_zero);
            } else {
                int e = write_chunks(fd, buf, (size_t)r, off, sparse_by_zero);
                if (e) {
                    errno = e;
                    host_err(c, "write");
                    rc = -1;
                    break;
                }
            }
            off += (uint64_t)r;
            reached = off;
            c->bytes += (uint64_t)r;
            progress(c, 0);
        }
    }
    free(runs);
    int e = wr_drain(c);
    if (e && rc == 0) {
        errno = e;
        host_err(c, "write");
        rc = -1;
    }
    /* a trailing hole, zero chunks left out, or a short read: set the size */
    if (rc == 0 && (sparse_by_zero || reached != st->size) && ftruncate(fd, (off_t)st->size) < 0) {
        host_err(c, "truncate");
        rc = -1;
    }
    return rc;
}

/* Create name in dirfd with O_EXCL; a file or symlink already there (a
 * previous copy) is unlinked first, never followed. */
static int create_file(int dirfd, const char *name)
{
    for (int tries = 0; tries < 2; tries++) {
        int fd = gk_host_openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST || tries)
            return fd;
        if (gk_host_unlinkat(dirfd, name, 0) < 0)
            return -1;
    }
    return -1;
}

static void copy_reg(gk_copyout *c, int dirfd, const char *name, gk_node *n, const gk_stat *st,
                     const char *gpath)
{
    if (st->nlink > 1) {
        int isnew;
        void **slot = gk_nodemap_slot(c->links, n, &isnew);
        if (!isnew && *slot) {
            /* a hard link to a file we already copied */
            const char *first = *slot, *slash = strrchr(first, '/');
            char *fdir = slash ? gk_strndup(first, (size_t)(slash - first)) : gk_strdup("");
            int sfd = open_rel_dir(c, fdir);
            free(fdir);
            if (sfd >= 0) {
                int r = gk_host_linkat(sfd, slash ? slash + 1 : first, dirfd, name);
                if (r < 0 && errno == EEXIST && gk_host_unlinkat(dirfd, name, 0) == 0)
                    r = gk_host_linkat(sfd, slash ? slash + 1 : first, dirfd, name);
                close(sfd);
                if (r == 0) {
                    c->files++;
                    return;
                }
            }
            /* fall back to a second copy */
        } else {
            *slot = gk_strdup(c->rel);
        }
    }
    int fd = create_file(dirfd, name);
    if (fd < 0) {
        host_err(c, NULL);
        return;
    }
    if (copy_data(c, n, st, fd, gpath) < 0) {
        close(fd);
        gk_host_unlinkat(dirfd, name, 0);
        return;
    }
    /* owner first: a chown after them would clear security.capability */
    int kept = set_owner_fd(c, fd, st);
    copy_xattrs(c, n, fd, gpath, kept);
    set_mode_times_fd(c, fd, st, kept);
    close(fd);
    c->files++;
}

static void copy_link(gk_copyout *c, int dirfd, const char *name, gk_node *n, const gk_stat *st,
                      const char *gpath)
{
    char target[GK_PATH_MAX + 1];
    ssize_t tl = gk_node_readlink(n, target, sizeof target - 1);
    if (tl < 0) {
        report(c, 0, "%s: %s", gpath, gk_errmsg());
        return;
    }
    target[tl] = 0;
    if (tl == 0 || strlen(target) != (size_t)tl) {
        report(c, 0, "%s: symlink with an empty or binary target (skipped)", gpath);
        return;
    }
    if (gk_host_symlinkat(target, dirfd, name) < 0) {
        if (errno != EEXIST || gk_host_unlinkat(dirfd, name, 0) < 0 || gk_host_symlinkat(target, dirfd, name) < 0) {
            host_err(c, NULL);
            return;
        }
    }
    set_meta_at(c, dirfd, name, st, 1);
    c->files++;
}

static void copy_special(gk_copyout *c, int dirfd, const char *name, const gk_stat *st)
{
    int fifo = S_ISFIFO(st->mode);
    if (!c->root && !fifo) {
        if (!c->warned_special++) {
            char *hp = host_path(c, c->rellen);
            report(c, 1, "%s: device nodes and sockets are only recreated when run as root "
                   "(skipped; further ones not reported)", hp);
            free(hp);
        }
        return;
    }
    dev_t dev = makedev(major(st->rdev), minor(st->rdev));
    int r = gk_sandbox_mknodat(dirfd, name, (st->mode & S_IFMT) | 0600, fifo ? 0 : dev);
    if (r < 0 && errno == EEXIST && gk_host_unlinkat(dirfd, name, 0) == 0)
        r = gk_sandbox_mknodat(dirfd, name, (st->mode & S_IFMT) | 0600, fifo ? 0 : dev);
    if (r < 0) {
        host_err(c, NULL);
        return;
    }
    set_meta_at(c, dirfd, name, st, 0);
    c->files++;
}

/* Enter directory name of dirfd (made if missing): a new host level. */
static int enter_dir(gk_copyout *c, int dirfd, const char *name)
{
    if (gk_host_mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST) {
        host_err(c, NULL);
        return -1;
    }
    int fd = gk_host_openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (fd < 0) {
        int e = errno;
        struct stat hst;
        char *hp = host_path(c, c->rellen);
        if ((e == ELOOP || e == ENOTDIR) && fstatat(dirfd, name, &hst, AT_SYMLINK_NOFOLLOW) == 0)
            report(c, 0, "%s: %s is in the way on the host (not followed, not replaced)", hp,
                   S_ISLNK(hst.st_mode) ? "a symlink" : "a file that is not a directory");
        else
            report(c, 0, "%s: %s", hp, strerror(e));
        free(hp);
        return -1;
    }
    /* owner-writable while we fill it; the guest's mode comes last */
    fchmod(fd, 0700);
    return fd;
}

static void push_level(gk_copyout *c, int fd)
{
    struct stat st;
    if (c->nhl == c->caphl) {
        c->caphl = c->caphl ? c->caphl * 2 : 64;
        c->hl = gk_realloc(c->hl, (size_t)c->caphl * sizeof *c->hl);
    }
    fstat(fd, &st);
    c->hl[c->nhl++] = (struct hlevel){fd, st.st_dev, st.st_ino, c->rellen};
    /* keep only the innermost WINDOW descriptors */
    if (++c->nopen > WINDOW) {
        struct hlevel *old = &c->hl[c->nhl - 1 - WINDOW];
        if (old->fd >= 0) {
            close(old->fd);
            old->fd = -1;
            c->nopen--;
        }
    }
}

/* Leave the innermost level: its parent is reopened through ".." if its
 * descriptor was closed, and must be the directory it was. */
static void pop_level(gk_copyout *c)
{
    struct hlevel *l = &c->hl[c->nhl - 1];
    if (c->nhl >= 2 && c->hl[c->nhl - 2].fd < 0 && l->fd >= 0) {
        struct hlevel *p = &c->hl[c->nhl - 2];
        int fd = gk_host_openat(l->fd, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
        struct stat st;
        if (fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == p->dev && st.st_ino == p->ino) {
            p->fd = fd;
            c->nopen++;
        } else {
            if (fd >= 0)
                close(fd);
            char *hp = host_path(c, p->rellen);
            report(c, 0, "%s: the host directory was moved while copying (not continued)", hp);
            free(hp);
        }
    }
    if (l->fd >= 0) {
        close(l->fd);
        c->nopen--;
    }
    c->nhl--;
}

gk_copyout *gk_copyout_new(gk_vfs *v, int dirfd, const gk_copyout_opts *o)
{
    gk_copyout *c = gk_calloc(1, sizeof *c);
    c->vfs = v;
    c->o = *o;
    c->rootfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
    c->root = geteuid() == 0;
    c->links = gk_nodemap_new();
    c->buf = gk_malloc(BUFSZ);
    c->relcap = 256;
    c->rel = gk_calloc(1, c->relcap);
    pthread_mutex_init(&c->wr.mu, NULL);
    pthread_cond_init(&c->wr.cv, NULL);
    clock_gettime(CLOCK_MONOTONIC, &c->last);
    return c;
}

void gk_copyout_counts(const gk_copyout *c, uint64_t *files, uint64_t *bytes)
{
    *files = c->files;
    *bytes = c->bytes;
}

static void free_str(void *p)
{
    free(p);
}

void gk_copyout_free(gk_copyout *c)
{
    if (!c)
        return;
    wr_stop(c);
    progress(c, 1);
    if (c->o.progress && (c->files || c->bytes))
        fputc('\n', stderr);
    while (c->nhl > 0)
        pop_level(c);
    free(c->hl);
    gk_nodemap_free(c->links, free_str);
    free(c->buf);
    free(c->rel);
    if (c->rootfd >= 0)
        close(c->rootfd);
    pthread_mutex_destroy(&c->wr.mu);
    pthread_cond_destroy(&c->wr.cv);
    free(c);
}

int gk_copyout_tree(gk_copyout *c, const gk_node *n, const char *gpath, const char *name)
{
    if (c->rootfd < 0) {
        errno = EBADF;
        host_err(c, NULL);
        return -1;
    }
    c->failed = 0;
    rel_set(c, 0);
    int base = c->nhl;             /* levels of this tree start here */
    gk_walk *w = gk_walk_new(c->vfs, n, gpath, 0);
    const gk_walk_ent *e;
    while ((e = gk_walk_next(w))) {
        if (c->o.interrupted && c->o.interrupted(c->o.ud)) {
            c->failed = 1;
            break;
        }
        if (e->kind == GK_WALK_ERROR) {
            report(c, 0, "%s", e->msg);
            continue;
        }
        if (e->kind == GK_WALK_DIR_END) {
            if (c->nhl <= base)
                continue;
            struct hlevel *l = &c->hl[c->nhl - 1];
            rel_set(c, l->rellen);
            gk_node dn = e->node;
            /* (the destination itself keeps its own attributes) */
            if (l->fd >= 0 && (e->depth > 0 || name)) {
                int kept = set_owner_fd(c, l->fd, &e->st);
                copy_xattrs(c, &dn, l->fd, e->path, kept);
                set_mode_times_fd(c, l->fd, &e->st, kept);
            }
            pop_level(c);
            rel_set(c, c->nhl > base ? c->hl[c->nhl - 1].rellen : 0);
            continue;
        }
        /* an entry: its parent is the innermost host level */
        gk_node node = e->node;
        if (e->depth == 0 && !name) {
            /* the contents of the top go straight into the destination */
            if (!S_ISDIR(e->st.mode)) {
                report(c, 0, "%s: %s", gpath, strerror(ENOTDIR));
                break;
            }
            int fd = fcntl(c->rootfd, F_DUPFD_CLOEXEC, 3);
            if (fd < 0) {
                host_err(c, NULL);
                break;
            }
            push_level(c, fd);
            continue;
        }
        const char *ename = e->depth == 0 ? name : e->name;
        int dirfd = e->depth == 0 ? c->rootfd : c->hl[c->nhl - 1].fd;
        size_t parent_rel = e->depth == 0 ? 0 : c->hl[c->nhl - 1].rellen;
        rel_set(c, parent_rel);
        rel_push(c, ename);
        int isdir = S_ISDIR(e->st.mode);
        if (!safe_name(ename)) {
            report(c, 0, "%s: unsafe file name in the guest (skipped)", e->path);
            if (isdir)
                gk_walk_prune(w);
            continue;
        }
        if (dirfd < 0) {
            /* the parent could not be reopened (reported) */
            if (isdir)
                gk_walk_prune(w);
            continue;
        }
        if (isdir) {
            int fd = enter_dir(c, dirfd, ename);
            if (fd >= 0 && e->noenter) {
                /* the directory, without what it holds (a loop, too deep) */
                report(c, 0, "%s", e->msg);
                int kept = set_owner_fd(c, fd, &e->st);
                copy_xattrs(c, &node, fd, e->path, kept);
                set_mode_times_fd(c, fd, &e->st, kept);
                close(fd);
                continue;
            }
            if (fd < 0) {
                gk_walk_prune(w);
                continue;
            }
            push_level(c, fd);
            continue;
        }
        switch (e->st.mode & S_IFMT) {
        case S_IFREG:
            copy_reg(c, dirfd, ename, &node, &e->st, e->path);
            break;
        case S_IFLNK:
            copy_link(c, dirfd, ename, &node, &e->st, e->path);
            break;
        case S_IFIFO: case S_IFCHR: case S_IFBLK: case S_IFSOCK:
            copy_special(c, dirfd, ename, &e->st);
            break;
        default:
            report(c, 0, "%s: unknown file type %06o (skipped)", e->path, e->st.mode & S_IFMT);
        }
        progress(c, 0);
    }
    gk_walk_free(w);
    while (c->nhl > base)
        pop_level(c);
    return c->failed ? -1 : 0;
}
