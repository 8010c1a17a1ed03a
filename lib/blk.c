/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device core: reference counting, bounds-checked I/O, slices
 * (partitions) and opening an image with the right driver. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk.h"

gk_dev *gk_dev_new(const struct gk_dev_ops *ops, const char *name, uint64_t size, void *priv)
{
    gk_dev *d = gk_calloc(1, sizeof *d);
    d->ops = ops;
    d->name = gk_strdup(name);
    d->size = size;
    d->sector_size = 512;
    d->readonly = 1;
    d->refcnt = 1;
    d->priv = priv;
    return d;
}

void gk_dev_ref(gk_dev *d)
{
    d->refcnt++;
}

void gk_dev_unref(gk_dev *d)
{
    if (!d || --d->refcnt > 0)
        return;
    if (d->ops->close)
        d->ops->close(d);
    free(d->name);
    free(d);
}

int gk_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    if (!gk_range_ok(off, n, d->size)) {
        gk_error("%s: read of %zu bytes at offset %llu is beyond the end of the device (%llu bytes)",
                 d->name, n, (unsigned long long)off, (unsigned long long)d->size);
        errno = EIO;
        return -1;
    }
    if (n == 0)
        return 0;
    return d->ops->pread(d, buf, n, off);
}

int gk_pwrite(gk_dev *d, const void *buf, size_t n, uint64_t off)
{
    if (d->readonly || !d->ops->pwrite) {
        gk_error("%s: device is read-only", d->name);
        errno = EROFS;
        return -1;
    }
    if (!gk_range_ok(off, n, d->size)) {
        gk_error("%s: write of %zu bytes at offset %llu is beyond the end of the device",
                 d->name, n, (unsigned long long)off);
        errno = EIO;
        return -1;
    }
    if (n == 0)
        return 0;
    return d->ops->pwrite(d, buf, n, off);
}

int gk_flush(gk_dev *d)
{
    return d->ops->flush ? d->ops->flush(d) : 0;
}

int gk_block_status(gk_dev *d, uint64_t off, uint64_t maxlen, gk_extent *e)
{
    if (off >= d->size || maxlen == 0) {
        gk_error("%s: block status at %llu is beyond the end of the device", d->name,
                 (unsigned long long)off);
        return -1;
    }
    if (maxlen > d->size - off)
        maxlen = d->size - off;
    if (d->ops->block_status)
        return d->ops->block_status(d, off, maxlen, e);
    memset(e, 0, sizeof *e);
    e->off = off;
    e->len = maxlen;
    e->flags = GK_BS_DATA | GK_BS_ALLOCATED;
    return 0;
}

gk_dev *gk_image_backing(gk_dev *d)
{
    return d->ops->backing ? d->ops->backing(d) : NULL;
}

/* ---- slices: a window of a parent device (partitions) ---- */

struct slice {
    gk_dev *parent;
    uint64_t off;
};

static int slice_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    struct slice *s = d->priv;
    return gk_pread(s->parent, buf, n, s->off + off);
}

static int slice_pwrite(gk_dev *d, const void *buf, size_t n, uint64_t off)
{
    struct slice *s = d->priv;
    return gk_pwrite(s->parent, buf, n, s->off + off);
}

static int slice_flush(gk_dev *d)
{
    struct slice *s = d->priv;
    return gk_flush(s->parent);
}

static int slice_block_status(gk_dev *d, uint64_t off, uint64_t maxlen, gk_extent *e)
{
    struct slice *s = d->priv;
    if (gk_block_status(s->parent, s->off + off, maxlen, e) < 0)
        return -1;
    e->off = off;
    return 0;
}

static void slice_close(gk_dev *d)
{
    struct slice *s = d->priv;
    gk_dev_unref(s->parent);
    free(s);
}

static const struct gk_dev_ops slice_ops = {
    .name = "slice",
    .pread = slice_pread,
    .pwrite = slice_pwrite,
    .flush = slice_flush,
    .block_status = slice_block_status,
    .close = slice_close,
};

gk_dev *gk_dev_slice(gk_dev *parent, uint64_t off, uint64_t len, const char *name)
{
    if (!gk_range_ok(off, len, parent->size)) {
        gk_error("%s: range %llu+%llu is outside %s", name, (unsigned long long)off,
                 (unsigned long long)len, parent->name);
        return NULL;
    }
    struct slice *s = gk_malloc(sizeof *s);
    s->parent = parent;
    s->off = off;
    gk_dev_ref(parent);
    gk_dev *d = gk_dev_new(&slice_ops, name, len, s);
    d->readonly = parent->readonly;
    d->sector_size = parent->sector_size;
    return d;
}

/* ---- opening images ---- */

const char *gk_probe_format(int fd)
{
    unsigned char magic[4];
    if (pread(fd, magic, 4, 0) == 4 && memcmp(magic, "QFI\xfb", 4) == 0)
        return "qcow2";
    return "raw";
}

gk_dev *gk_open_image(const char *path, const gk_open_opts *opts)
{
    gk_open_opts o = {0};
    if (opts)
        o = *opts;
    if (o.untrusted < 0) {
        const char *e = getenv("GUESTKIT_UNTRUSTED");
        o.untrusted = e && *e && strcmp(e, "0") != 0;
    }
    const char *fmt = o.format;
    if (!fmt) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            gk_error("%s: %s", path, strerror(errno));
            return NULL;
        }
        fmt = gk_probe_format(fd);
        close(fd);
    }
    if (strcmp(fmt, "raw") == 0) {
        if (o.snapshot) {
            gk_error("%s: raw images have no snapshots", path);
            return NULL;
        }
        return gk_raw_open(path, &o);
    }
    if (strcmp(fmt, "qcow2") == 0)
        return gk_qcow2_open(path, &o);
    gk_error("%s: unknown format \"%s\" (raw or qcow2)", path, fmt);
    return NULL;
}

int gk_image_info_get(gk_dev *d, gk_image_info *info)
{
    memset(info, 0, sizeof *info);
    if (!d->ops->info) {
        gk_error("%s: not an image", d->name);
        return -1;
    }
    return d->ops->info(d, info);
}

void gk_image_info_free(gk_image_info *info)
{
    free(info->filename);
    free(info->backing_file);
    free(info->full_backing_file);
    free(info->backing_format);
    free(info->data_file);
    for (int i = 0; i < info->nb_snapshots; i++) {
        free(info->snapshots[i].id);
        free(info->snapshots[i].name);
    }
    free(info->snapshots);
    memset(info, 0, sizeof *info);
}
