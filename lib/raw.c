/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The raw driver: the image file is the disk. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk.h"

struct raw {
    int fd;
    char *path;
};

static int raw_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    struct raw *r = d->priv;
    char *p = buf;
    while (n > 0) {
        ssize_t k = pread(r->fd, p, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            gk_error("%s: read at offset %llu: %s", d->name, (unsigned long long)off, strerror(errno));
            return -1;
        }
        if (k == 0) { /* file shrank under us: the rest reads as zeros */
            memset(p, 0, n);
            return 0;
        }
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

static int raw_pwrite(gk_dev *d, const void *buf, size_t n, uint64_t off)
{
    struct raw *r = d->priv;
    const char *p = buf;
    while (n > 0) {
        ssize_t k = pwrite(r->fd, p, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            gk_error("%s: write at offset %llu: %s", d->name, (unsigned long long)off, strerror(errno));
            return -1;
        }
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

static int raw_flush(gk_dev *d)
{
    struct raw *r = d->priv;
    if (!d->readonly && fsync(r->fd) < 0) {
        gk_error("%s: fsync: %s", d->name, strerror(errno));
        return -1;
    }
    return 0;
}

/* SEEK_DATA/SEEK_HOLE: holes read as zeros and are not allocated; the rest
 * is data.  qemu reports the same for a raw file (offset = guest offset). */
static int raw_block_status(gk_dev *d, uint64_t off, uint64_t maxlen, gk_extent *e)
{
    struct raw *r = d->priv;
    memset(e, 0, sizeof *e);
    e->off = off;
    e->host_file = r->path;
    off_t data = lseek(r->fd, (off_t)off, SEEK_DATA);
    if (data < 0 && errno == ENXIO) {
        data = (off_t)d->size; /* a hole up to the end */
    } else if (data < 0) {
        /* no SEEK_DATA support: everything is data */
        e->len = maxlen;
        e->flags = GK_BS_DATA | GK_BS_ALLOCATED | GK_BS_OFFSET;
        e->host_off = off;
        return 0;
    }
    if ((uint64_t)data > off) {
        uint64_t len = (uint64_t)data - off;
        e->len = len < maxlen ? len : maxlen;
        e->flags = GK_BS_ZERO | GK_BS_OFFSET;
        e->host_off = off;
        return 0;
    }
    off_t hole = lseek(r->fd, (off_t)off, SEEK_HOLE);
    uint64_t end = hole < 0 ? d->size : (uint64_t)hole;
    if (end > d->size || end <= off)
        end = d->size;
    uint64_t len = end - off;
    e->len = len < maxlen ? len : maxlen;
    e->flags = GK_BS_DATA | GK_BS_ALLOCATED | GK_BS_OFFSET;
    e->host_off = off;
    return 0;
}

static int raw_info(gk_dev *d, gk_image_info *info)
{
    struct raw *r = d->priv;
    struct stat st;
    info->format = "raw";
    info->filename = gk_strdup(r->path);
    info->virtual_size = d->size;
    if (fstat(r->fd, &st) == 0)
        info->actual_size = (uint64_t)st.st_blocks * 512;
    return 0;
}

static void raw_close(gk_dev *d)
{
    struct raw *r = d->priv;
    close(r->fd);
    free(r->path);
    free(r);
}

static const struct gk_dev_ops raw_ops = {
    .name = "raw",
    .pread = raw_pread,
    .pwrite = raw_pwrite,
    .flush = raw_flush,
    .block_status = raw_block_status,
    .info = raw_info,
    .close = raw_close,
};

gk_dev *gk_raw_open(const char *path, const gk_open_opts *opts)
{
    int rw = opts && opts->readwrite;
    int fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
        gk_error("%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        gk_error("%s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    uint64_t size;
    if (S_ISREG(st.st_mode)) {
        size = (uint64_t)st.st_size;
    } else if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(fd, 0, SEEK_END);
        if (end < 0) {
            gk_error("%s: %s", path, strerror(errno));
            close(fd);
            return NULL;
        }
        size = (uint64_t)end;
    } else {
        gk_error("%s: not a regular file or block device", path);
        close(fd);
        return NULL;
    }
    if (gk_image_check_in_use(fd, path, rw, opts && opts->force_share) < 0) {
        close(fd);
        return NULL;
    }
    struct raw *r = gk_malloc(sizeof *r);
    r->fd = fd;
    r->path = gk_strdup(path);
    gk_dev *d = gk_dev_new(&raw_ops, path, size, r);
    d->readonly = !rw;
    return d;
}
