/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "file" protocol: a local regular file or block device as a byte
 * device, the way qemu's file-posix sees it.
 *
 * - Its size is the file's size rounded up to 512 bytes (qemu counts whole
 *   sectors); the bytes between the end of the file and that size, and
 *   under an image everything past the end, read as zeros.
 * - Opening is race-free: the name is resolved once (O_PATH, no side
 *   effects even on a FIFO or a device), the descriptor is checked with
 *   fstat, and the same inode is then opened for I/O through /proc/self/fd
 *   (or, without /proc, by name with O_NONBLOCK and an inode comparison).
 *   What was checked is what is read: a file swapped for a FIFO or a block
 *   device between a check and an open can no longer hang or be read.
 * - Writes: pwrite, fallocate (zero range, punch hole), ftruncate,
 *   fdatasync; block devices: BLKZEROOUT, BLKDISCARD.
 * - Kept descriptors (gk_file_keep): a process that will lose the right to
 *   open files (a sandboxed gmount opening its images again for more
 *   sessions) keeps a copy of each one it opens; a later open of the same
 *   inode (the name still resolved with O_PATH, which no sandbox refuses)
 *   takes a copy of that descriptor instead of opening it again, never
 *   with more rights than it was opened with.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk-int.h"

/* The kept descriptors: images and their backing files, a handful. */
#define KEEP_MAX 64
static struct kept {
    dev_t dev;
    ino_t ino;
    int rw, fd;
} kept[KEEP_MAX];
static int nkept, keeping;
static pthread_mutex_t keep_mu = PTHREAD_MUTEX_INITIALIZER;

void gk_file_keep(int on)
{
    pthread_mutex_lock(&keep_mu);
    keeping = on;
    pthread_mutex_unlock(&keep_mu);
}

/* A copy of a kept descriptor of st's inode opened with at least rw's
 * rights, or -1. */
static int keep_find(const struct stat *st, int rw)
{
    int fd = -1;
    pthread_mutex_lock(&keep_mu);
    for (int i = 0; i < nkept && fd < 0; i++)
        if (kept[i].dev == st->st_dev && kept[i].ino == st->st_ino && (kept[i].rw || !rw))
            fd = fcntl(kept[i].fd, F_DUPFD_CLOEXEC, 0);
    pthread_mutex_unlock(&keep_mu);
    return fd;
}

static void keep_add(int fd, const struct stat *st, int rw)
{
    pthread_mutex_lock(&keep_mu);
    if (keeping && nkept < KEEP_MAX) {
        int c = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (c >= 0)
            kept[nkept++] = (struct kept){st->st_dev, st->st_ino, rw, c};
    }
    pthread_mutex_unlock(&keep_mu);
}

int gk_file_keep_fd(int fd, int rw)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -1;
    int acc = fcntl(fd, F_GETFL);
    if (acc < 0 || (rw && (acc & O_ACCMODE) != O_RDWR)) {
        errno = EBADF;
        return -1;
    }
    int c = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (c < 0)
        return -1;
    pthread_mutex_lock(&keep_mu);
    int ok = nkept < KEEP_MAX;
    if (ok)
        kept[nkept++] = (struct kept){st.st_dev, st.st_ino, rw, c};
    pthread_mutex_unlock(&keep_mu);
    if (!ok) {
        close(c);
        errno = EMFILE;
        return -1;
    }
    return 0;
}

int gk_file_kept_copy(const char *path, int rw)
{
    int pfd = open(path, O_PATH | O_CLOEXEC);
    if (pfd < 0)
        return -1;
    struct stat st;
    int r = fstat(pfd, &st);
    close(pfd);
    if (r < 0)
        return -1;
    int fd = keep_find(&st, rw);
    if (fd < 0)
        errno = ENOENT;
    return fd;
}

struct file {
    int fd;
    int blk;               /* a block device                                 */
    uint64_t len;          /* bytes in the file (d->size is rounded up)       */
    char id[64];           /* identity                                       */
};

static uint64_t round512(uint64_t n)
{
    return n & 511 ? (n | 511) + 1 : n;
}

void gk_file_identity(const struct stat *st, char *buf, size_t bufsz)
{
    snprintf(buf, bufsz, "file:%llx:%llx", (unsigned long long)st->st_dev, (unsigned long long)st->st_ino);
}

static int file_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    struct file *f = d->priv;
    char *p = buf;
    while (n > 0) {
        ssize_t k = pread(f->fd, p, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return gk_fail(errno, "%s: read at offset %llu: %s", d->name, (unsigned long long)off,
                           strerror(errno));
        }
        if (k == 0) { /* past the end of the file: zeros, as qemu reads them */
            memset(p, 0, n);
            return 0;
        }
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

/* After the file grew to end bytes (or was cut to it with cut). */
static void file_resized(gk_dev *d, uint64_t end, int cut)
{
    struct file *f = d->priv;
    if (f->blk)
        return;
    if (end > f->len || cut)
        f->len = end;
    if (round512(f->len) > d->size || cut)
        d->size = round512(f->len);
}

static int file_pwrite(gk_dev *d, const void *buf, size_t n, uint64_t off)
{
    struct file *f = d->priv;
    const char *p = buf;
    uint64_t end = off + n;
    while (n > 0) {
        ssize_t k = pwrite(f->fd, p, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return gk_fail(errno, "%s: write at offset %llu: %s", d->name, (unsigned long long)off,
                           strerror(errno));
        }
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    file_resized(d, end, 0);
    return 0;
}

static int file_pwrite_zeroes(gk_dev *d, uint64_t off, uint64_t len, unsigned flags)
{
    struct file *f = d->priv;
    if (f->blk) {
        uint64_t range[2] = { off, len };
        if ((off | len) & 511)
            return -ENOTSUP;
        if (ioctl(f->fd, BLKZEROOUT, range) == 0)
            return 0;
        return -ENOTSUP;
    }
    int r = -1;
    if (flags & GK_ZERO_MAY_UNMAP) {
        /* a hole reads as zeros; past the end it extends nothing, which is
         * right too: what lies past the end reads as zeros */
        r = fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
        if (r == 0 && off + len > f->len && d->growable && ftruncate(f->fd, (off_t)(off + len)) < 0)
            r = -1;
    } else {
        r = fallocate(f->fd, FALLOC_FL_ZERO_RANGE, (off_t)off, (off_t)len);
        if (r < 0 && (errno == EOPNOTSUPP || errno == ENOSYS)) {
            /* as qemu: a hole, then the space allocated again */
            r = fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len);
            if (r == 0)
                r = fallocate(f->fd, 0, (off_t)off, (off_t)len);
        }
    }
    if (r < 0) {
        if (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL)
            return -ENOTSUP; /* the core writes zeros */
        return gk_fail(errno, "%s: zeroing %llu bytes at offset %llu: %s", d->name, (unsigned long long)len,
                       (unsigned long long)off, strerror(errno));
    }
    file_resized(d, off + len, 0);
    return 0;
}

static int file_discard(gk_dev *d, uint64_t off, uint64_t len)
{
    struct file *f = d->priv;
    if (f->blk) {
        uint64_t range[2] = { off, len };
        if ((off | len) & 511 || ioctl(f->fd, BLKDISCARD, range) < 0)
            return -ENOTSUP;
        return 0;
    }
    if (off >= f->len)
        return 0;
    if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) < 0) {
        if (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL)
            return -ENOTSUP;
        return gk_fail(errno, "%s: discard of %llu bytes at offset %llu: %s", d->name,
                       (unsigned long long)len, (unsigned long long)off, strerror(errno));
    }
    return 0;
}

static int file_truncate(gk_dev *d, uint64_t size, enum gk_prealloc prealloc)
{
    struct file *f = d->priv;
    if (f->blk) {
        if (size <= d->size)
            return 0; /* qemu: a device may be "shrunk" (nothing happens) */
        return gk_fail(ENOTSUP, "%s: a block device cannot grow", d->name);
    }
    if (size > (uint64_t)LLONG_MAX)
        return gk_fail(EFBIG, "%s: size %llu is too large", d->name, (unsigned long long)size);
    uint64_t old = f->len;
    if (prealloc == GK_PREALLOC_METADATA)
        return gk_fail(ENOTSUP, "Unsupported preallocation mode: metadata");
    if (prealloc == GK_PREALLOC_FALLOC && size > old) {
        int e = posix_fallocate(f->fd, (off_t)old, (off_t)(size - old));
        if (e)
            return gk_fail(e, "%s: preallocating %llu bytes: %s", d->name, (unsigned long long)(size - old),
                           strerror(e));
    } else if (prealloc == GK_PREALLOC_FULL && size > old) {
        size_t bs = 1u << 20;
        void *z = gk_calloc(1, bs);
        for (uint64_t p = old; p < size;) {
            size_t k = size - p < bs ? (size_t)(size - p) : bs;
            int r = file_pwrite(d, z, k, p);
            if (r < 0) {
                free(z);
                return r;
            }
            p += k;
        }
        free(z);
    }
    if (ftruncate(f->fd, (off_t)size) < 0)
        return gk_fail(errno, "Could not resize file: %s", strerror(errno)); /* qemu's words */
    file_resized(d, size, 1);
    return 0;
}

static int file_flush(gk_dev *d)
{
    struct file *f = d->priv;
    if (d->readonly)
        return 0;
    if (fdatasync(f->fd) < 0 && errno != EINVAL)
        return gk_fail(errno, "%s: fdatasync: %s", d->name, strerror(errno));
    return 0;
}

/* SEEK_DATA/SEEK_HOLE, as qemu's file-posix: a hole reads as zeros, the
 * rest is data; the host offset is the offset itself. */
static int file_block_status(gk_dev *d, uint64_t off, uint64_t len, gk_extent *e)
{
    struct file *f = d->priv;
    e->flags = GK_BS_OFFSET;
    e->host = d;
    e->host_off = off;
    e->len = len;
    if (f->blk) {
        e->flags |= GK_BS_DATA;
        return 0;
    }
    off_t data = lseek(f->fd, (off_t)off, SEEK_DATA);
    if (data < 0) {
        /* ENXIO: a hole up to the end; anything else: no information */
        e->flags |= errno == ENXIO ? GK_BS_ZERO : GK_BS_DATA;
        return 0;
    }
    if ((uint64_t)data > off) {
        if ((uint64_t)data - off < len)
            e->len = (uint64_t)data - off;
        e->flags |= GK_BS_ZERO;
        return 0;
    }
    off_t hole = lseek(f->fd, (off_t)off, SEEK_HOLE);
    if (hole > (off_t)off && (uint64_t)hole - off < len)
        e->len = (uint64_t)hole - off;
    e->flags |= GK_BS_DATA;
    return 0;
}

static int file_get_allocated(gk_dev *d, uint64_t *bytes)
{
    struct file *f = d->priv;
    struct stat st;
    if (fstat(f->fd, &st) < 0)
        return gk_fail(errno, "%s: %s", d->name, strerror(errno));
    *bytes = (uint64_t)st.st_blocks * 512;
    return 0;
}

static const char *file_identity(gk_dev *d)
{
    return ((struct file *)d->priv)->id;
}

static void file_close(gk_dev *d)
{
    struct file *f = d->priv;
    close(f->fd);
    free(f);
}

static const struct gk_dev_ops file_ops = {
    .name = "file",
    .pread = file_pread,
    .pwrite = file_pwrite,
    .pwrite_zeroes = file_pwrite_zeroes,
    .discard = file_discard,
    .truncate = file_truncate,
    .flush = file_flush,
    .block_status = file_block_status,
    .get_allocated = file_get_allocated,
    .identity = file_identity,
    .close = file_close,
};

/* Open path once and check what was opened.  Messages carry no file name:
 * the caller says which file it is ("a.qcow2: backing file "b": ..."). */
static int open_checked(const char *path, const gk_file_opts *o, struct stat *st)
{
    int pfd = open(path, O_PATH | O_CLOEXEC | (o->nofollow ? O_NOFOLLOW : 0));
    if (pfd < 0) {
        int e = errno;
        gk_error("%s", strerror(e));
        errno = e;
        return -1;
    }
    if (fstat(pfd, st) < 0) {
        int e = errno;
        gk_error("%s", strerror(e));
        close(pfd);
        errno = e;
        return -1;
    }
    const char *bad = NULL;
    if (S_ISLNK(st->st_mode))
        bad = "is a symbolic link (refused for untrusted images)";
    else if (S_ISBLK(st->st_mode) && o->regular_only)
        bad = "not a regular file";
    else if (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode))
        bad = o->regular_only ? "not a regular file" : "not a regular file or block device";
    if (bad) {
        gk_error("%s", bad);
        close(pfd);
        errno = S_ISLNK(st->st_mode) ? ELOOP : EINVAL;
        return -1;
    }
    int fd = keep_find(st, o->readwrite);
    if (fd >= 0) {
        close(pfd);
        return fd;
    }
    int flags = (o->readwrite ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY;
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", pfd);
    fd = open(proc, flags);
    if (fd < 0 && errno == ENOENT) {
        /* no /proc: by name again, without blocking, and the same inode */
        fd = open(path, flags | O_NONBLOCK | (o->nofollow ? O_NOFOLLOW : 0));
        if (fd >= 0)
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    }
    int e = errno;
    close(pfd);
    if (fd < 0) {
        gk_error("%s", strerror(e));
        errno = e;
        return -1;
    }
    struct stat st2;
    if (fstat(fd, &st2) < 0 || st2.st_dev != st->st_dev || st2.st_ino != st->st_ino) {
        gk_error("changed while it was being opened");
        close(fd);
        errno = EAGAIN;
        return -1;
    }
    *st = st2;
    keep_add(fd, st, o->readwrite);
    return fd;
}

static gk_dev *file_open(const char *path, const gk_file_opts *o)
{
    struct stat st;
    int fd = open_checked(path, o, &st);
    if (fd < 0)
        return NULL;
    uint64_t len;
    if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(fd, 0, SEEK_END);
        if (end < 0) {
            int e = errno;
            gk_error("%s", strerror(e));
            close(fd);
            errno = e;
            return NULL;
        }
        len = (uint64_t)end;
    } else {
        len = (uint64_t)st.st_size;
    }
    if (gk_image_lock(fd, path, o->readwrite, o->force_share, o->quiet_in_use) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    struct file *f = gk_calloc(1, sizeof *f);
    f->fd = fd;
    f->blk = S_ISBLK(st.st_mode);
    f->len = len;
    gk_file_identity(&st, f->id, sizeof f->id);
    gk_dev *d = gk_dev_new(&file_ops, path, f->blk ? len : round512(len), f);
    d->readonly = !o->readwrite;
    d->growable = o->growable;
    return d;
}

/* qemu's path_combine(): a relative name is relative to the directory part
 * of the name the image was opened by, exactly as written. */
static char *file_resolve(gk_dev *base, const char *name)
{
    if (name[0] == '/')
        return gk_strdup(name);
    const char *slash = strrchr(base->name, '/');
    if (!slash)
        return gk_strdup(name);
    return gk_asprintf("%.*s%s", (int)(slash - base->name + 1), base->name, name);
}

static char *dir_realpath(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? gk_strndup(path, slash == path ? 1 : (size_t)(slash - path)) : gk_strdup(".");
    char *r = realpath(dir, NULL);
    free(dir);
    return r;
}

/* The real path of what child's descriptor holds (not of its name, which
 * may have changed) against the real directory of the top image. */
static int file_within(gk_dev *top, gk_dev *child)
{
    if (child->ops != &file_ops)
        return 0;
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", ((struct file *)child->priv)->fd);
    char *real = realpath(proc, NULL);
    if (!real)
        real = realpath(child->name, NULL);
    char *topdir = dir_realpath(top->name);
    int inside = 0;
    if (real && topdir) {
        size_t n = strlen(topdir);
        inside = strcmp(topdir, "/") == 0 || (strncmp(real, topdir, n) == 0 && real[n] == '/');
    }
    free(real);
    free(topdir);
    return inside;
}

static int file_create(const char *location)
{
    int fd = open(location, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
    if (fd < 0)
        return gk_fail(errno, "%s", strerror(errno));
    /* never empty a file a qemu has open (it holds qemu's locks) */
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && gk_image_in_use_for_write(fd) > 0) {
        close(fd);
        return gk_fail(EBUSY, "Failed to get \"write\" lock: is another process using the image?");
    }
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ftruncate(fd, 0) < 0) {
        int e = errno;
        close(fd);
        return gk_fail(e, "%s", strerror(e));
    }
    if (close(fd) < 0)
        return gk_fail(errno, "%s", strerror(errno));
    return 0;
}

static int file_claims(const char *location)
{
    (void)location;
    return 1;
}

const struct gk_protocol gk_file_protocol = {
    .name = "file",
    .claims = file_claims,
    .open = file_open,
    .create = file_create,
    .resolve = file_resolve,
    .within = file_within,
};

/* The protocols, asked in order; the last, the file protocol, takes what
 * no other claims. */
static const struct gk_protocol *const protocols[] = {
    &gk_nbd_protocol,
    &gk_http_protocol,
    &gk_rbd_protocol,
    &gk_file_protocol,
};

const struct gk_protocol *gk_protocol_for(const char *location)
{
    size_t n = sizeof protocols / sizeof protocols[0];
    for (size_t i = 0; i + 1 < n; i++)
        if (protocols[i]->claims(location))
            return protocols[i];
    return protocols[n - 1];
}

int gk_location_is_file(const char *location)
{
    return gk_protocol_for(location) == &gk_file_protocol;
}

const struct gk_protocol *gk_dev_protocol(const gk_dev *d)
{
    return d->protocol;
}
