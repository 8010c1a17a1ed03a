/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libntfs-3g over a gk_dev: the device operations hook of libntfs-3g
 * (struct ntfs_device_operations, as libext2fs has its io_manager), and
 * the library's log turned into our error messages.
 *
 * libntfs-3g reads the device through these operations only; every
 * request is bounds-checked against the gk_dev, and writes are refused
 * (EROFS): the NTFS driver is read-only.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "ntfs-int.h"

/* ------------------------------------------------------------------ */
/* Device operations                                                   */

struct ntio {
    gk_dev *dev;
    s64 pos;
};

static gk_dev *io_dev(struct ntfs_device *nd)
{
    return ((struct ntio *)nd->d_private)->dev;
}

static int io_open(struct ntfs_device *nd, int flags)
{
    if ((flags & O_ACCMODE) != O_RDONLY) {
        errno = EROFS;
        return -1;
    }
    if (NDevOpen(nd)) {
        errno = EBUSY;
        return -1;
    }
    NDevSetOpen(nd);
    NDevSetReadOnly(nd);
    ((struct ntio *)nd->d_private)->pos = 0;
    return 0;
}

static int io_close(struct ntfs_device *nd)
{
    NDevClearOpen(nd);
    return 0;
}

static s64 io_seek(struct ntfs_device *nd, s64 off, int whence)
{
    struct ntio *io = nd->d_private;
    s64 base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? io->pos :
               whence == SEEK_END ? (s64)io->dev->size : -1;
    if (base < 0 || (off < 0 && -off > base) || (off > 0 && off > INT64_MAX - base)) {
        errno = EINVAL;
        return -1;
    }
    io->pos = base + off;
    return io->pos;
}

/* Like pread(2) on the device: short at its end, 0 beyond it. */
static s64 io_pread(struct ntfs_device *nd, void *buf, s64 count, s64 off)
{
    gk_dev *d = io_dev(nd);
    if (count < 0 || off < 0) {
        errno = EINVAL;
        return -1;
    }
    if ((uint64_t)off >= d->size || count == 0)
        return 0;
    uint64_t n = (uint64_t)count;
    if (n > d->size - (uint64_t)off)
        n = d->size - (uint64_t)off;
    if (gk_pread(d, buf, (size_t)n, (uint64_t)off) < 0) {
        gk_ntfs_note("%s", gk_errmsg());
        errno = EIO;
        return -1;
    }
    return (s64)n;
}

static s64 io_read(struct ntfs_device *nd, void *buf, s64 count)
{
    struct ntio *io = nd->d_private;
    s64 r = io_pread(nd, buf, count, io->pos);
    if (r > 0)
        io->pos += r;
    return r;
}

static s64 io_write(struct ntfs_device *nd, const void *buf, s64 count)
{
    (void)nd; (void)buf; (void)count;
    errno = EROFS;
    return -1;
}

static s64 io_pwrite(struct ntfs_device *nd, const void *buf, s64 count, s64 off)
{
    (void)nd; (void)buf; (void)count; (void)off;
    errno = EROFS;
    return -1;
}

static int io_sync(struct ntfs_device *nd)
{
    (void)nd;
    return 0;
}

static int io_stat(struct ntfs_device *nd, struct stat *st)
{
    memset(st, 0, sizeof *st);
    st->st_mode = S_IFBLK | 0400;
    st->st_size = (off_t)io_dev(nd)->size;
    st->st_blksize = 4096;
    return 0;
}

/* The size and sector size queries libntfs-3g makes of a block device. */
static int io_ioctl(struct ntfs_device *nd, unsigned long request, void *argp)
{
    gk_dev *d = io_dev(nd);
    switch (request) {
    case BLKGETSIZE64:
        *(uint64_t *)argp = d->size;
        return 0;
    case BLKGETSIZE:
        *(unsigned long *)argp = (unsigned long)(d->size / 512);
        return 0;
    case BLKSSZGET:
        *(int *)argp = d->sector_size ? (int)d->sector_size : 512;
        return 0;
    case BLKBSZSET:
        return 0;
    default:
        errno = ENOTTY;
        return -1;
    }
}

static struct ntfs_device_operations gk_ntfs_devops = {
    .open = io_open,
    .close = io_close,
    .seek = io_seek,
    .read = io_read,
    .write = io_write,
    .pread = io_pread,
    .pwrite = io_pwrite,
    .sync = io_sync,
    .stat = io_stat,
    .ioctl = io_ioctl,
};

struct ntfs_device *gk_ntfs_device_new(gk_dev *dev)
{
    struct ntio *io = gk_calloc(1, sizeof *io);
    io->dev = dev;
    struct ntfs_device *nd = ntfs_device_alloc(dev->name, 0, &gk_ntfs_devops, io);
    if (!nd)
        free(io);
    return nd;
}

void gk_ntfs_device_free_private(struct ntfs_device *nd)
{
    if (nd)
        free(nd->d_private);
}

void *gk_ntfs_device_private(struct ntfs_device *nd)
{
    return nd->d_private;
}

/* ------------------------------------------------------------------ */
/* The library's log                                                   */

/* The last problem libntfs-3g (or our device) reported on this thread:
 * the reason we give when one of its calls fails. */
static __thread char lastmsg[384];

void gk_ntfs_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lastmsg, sizeof lastmsg, fmt, ap);
    va_end(ap);
}

void gk_ntfs_clear(void)
{
    lastmsg[0] = 0;
}

const char *gk_ntfs_reason(int eno)
{
    return lastmsg[0] ? lastmsg : strerror(eno ? eno : EIO);
}

static int log_handler(const char *function, const char *file, int line, u32 level, void *data,
                       const char *format, va_list args)
{
    (void)function; (void)file; (void)line; (void)data;
    int eno = errno;
    char msg[384];
    vsnprintf(msg, sizeof msg, format, args);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '.' || msg[n - 1] == ' '))
        msg[--n] = 0;
    if ((level & NTFS_LOG_LEVEL_PERROR) && n + 2 < sizeof msg)
        snprintf(msg + n, sizeof msg - n, ": %s", strerror(eno));
    if (level & (NTFS_LOG_LEVEL_ERROR | NTFS_LOG_LEVEL_PERROR | NTFS_LOG_LEVEL_CRITICAL)) {
        /* keep the first message of a failure: it names the cause, the
         * later ones only the callers that gave up */
        if (!lastmsg[0])
            snprintf(lastmsg, sizeof lastmsg, "%s", msg);
    }
    gk_debug("ntfs-3g: %s", msg);
    errno = eno;
    return (int)strlen(msg);
}

static void init_once(void)
{
    ntfs_log_set_handler(log_handler);
}

void gk_ntfs_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_once);
}
