/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device core: reference counting, the public I/O wrappers over the
 * driver operations (bounds, read-only, -errno to errno, fallbacks), slices
 * (partitions) and the image queries that ask an image's format. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blk-int.h"

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
    __atomic_add_fetch(&d->refcnt, 1, __ATOMIC_RELAXED);
}

void gk_dev_unref(gk_dev *d)
{
    if (!d || __atomic_sub_fetch(&d->refcnt, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    /* the driver first (a format may still write to its file), then what
     * the device held */
    if (d->ops->close)
        d->ops->close(d);
    gk_dev_unref(d->backing);
    gk_dev_unref(d->file);
    for (int i = 0; i < d->nkids; i++)
        gk_dev_unref(d->kids[i]);
    free(d->kids);
    free(d->name);
    free(d);
}

int gk_fail(int err, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    gk_error("%s", buf);
    return -err;
}

/* A driver's -errno as the public -1 + errno. */
static int ret_errno(int r)
{
    if (r >= 0)
        return 0;
    errno = -r;
    return -1;
}

static int out_of_range(gk_dev *d, const char *what, size_t n, uint64_t off)
{
    gk_error("%s: %s of %zu bytes at offset %llu is beyond the end of the device (%llu bytes)", d->name, what,
             n, (unsigned long long)off, (unsigned long long)d->size);
    errno = EIO;
    return -1;
}

int gk_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    if (!gk_range_ok(off, n, d->size)) {
        if (!d->growable || off + n < off)
            return out_of_range(d, "read", n, off);
        /* a file under an image: what lies past its end reads as zeros */
        size_t in = off >= d->size ? 0 : (size_t)(d->size - off);
        memset((char *)buf + in, 0, n - in);
        n = in;
    }
    if (n == 0)
        return 0;
    d->nreads++;
    return ret_errno(d->ops->pread(d, buf, n, off));
}

static int write_check(gk_dev *d, const char *what, uint64_t n, uint64_t off)
{
    if (d->readonly) {
        gk_error("%s: device is read-only", d->name);
        errno = EROFS;
        return -1;
    }
    if (!gk_range_ok(off, n, d->size) && (!d->growable || off + n < off))
        return out_of_range(d, what, (size_t)n, off);
    return 0;
}

int gk_pwrite(gk_dev *d, const void *buf, size_t n, uint64_t off)
{
    if (write_check(d, "write", n, off) < 0)
        return -1;
    if (!d->ops->pwrite) {
        gk_error("%s: %s devices cannot be written", d->name, d->ops->name);
        errno = EROFS;
        return -1;
    }
    if (n == 0)
        return 0;
    return ret_errno(d->ops->pwrite(d, buf, n, off));
}

int gk_pwrite_more(gk_dev *d, const void *buf, size_t n, uint64_t off)
{
    if (!d->ops->pwrite_more)
        return gk_pwrite(d, buf, n, off);
    if (write_check(d, "write", n, off) < 0)
        return -1;
    if (n == 0)
        return 0;
    return ret_errno(d->ops->pwrite_more(d, buf, n, off));
}

int gk_pwrite_compressed(gk_dev *d, const void *buf, size_t n, uint64_t off)
{
    return gk_pwrite_precompressed(d, buf, n, off, NULL);
}

int gk_pwrite_precompressed(gk_dev *d, const void *buf, size_t n, uint64_t off, const gk_zbuf *z)
{
    if (!d->ops->pwrite_compressed)
        return gk_pwrite(d, buf, n, off);
    if (write_check(d, "write", n, off) < 0)
        return -1;
    if (n == 0)
        return 0;
    return ret_errno(d->ops->pwrite_compressed(d, buf, n, off, z));
}

int gk_compressed_end(gk_dev *d)
{
    if (!d->ops->pwrite_compressed)
        return 0;
    if (write_check(d, "write", 0, 0) < 0)
        return -1;
    return ret_errno(d->ops->pwrite_compressed(d, NULL, 0, 0, NULL));
}

int gk_pwrite_zeroes(gk_dev *d, uint64_t off, uint64_t len, unsigned flags)
{
    if (write_check(d, "write", len, off) < 0)
        return -1;
    if (len == 0)
        return 0;
    if (d->ops->pwrite_zeroes) {
        int r = d->ops->pwrite_zeroes(d, off, len, flags);
        if (r != -ENOTSUP)
            return ret_errno(r);
    }
    if (!d->ops->pwrite) {
        gk_error("%s: %s devices cannot be written", d->name, d->ops->name);
        errno = EROFS;
        return -1;
    }
    /* the driver cannot zero a range: write zeros */
    size_t bs = len < (1u << 20) ? (size_t)len : 1u << 20;
    void *z = gk_calloc(1, bs);
    int r = 0;
    while (len > 0 && r == 0) {
        size_t k = len < bs ? (size_t)len : bs;
        r = d->ops->pwrite(d, z, k, off);
        off += k;
        len -= k;
    }
    free(z);
    return ret_errno(r);
}

int gk_discard(gk_dev *d, uint64_t off, uint64_t len)
{
    if (write_check(d, "discard", len, off) < 0)
        return -1;
    if (len == 0 || !d->ops->discard)
        return 0;
    int r = d->ops->discard(d, off, len);
    return r == -ENOTSUP ? 0 : ret_errno(r);
}

int gk_truncate(gk_dev *d, uint64_t size, enum gk_prealloc prealloc)
{
    if (d->readonly) {
        gk_error("%s: device is read-only", d->name);
        errno = EROFS;
        return -1;
    }
    if (!d->ops->truncate) {
        gk_error("%s: %s devices cannot be resized", d->name, d->ops->name);
        errno = ENOTSUP;
        return -1;
    }
    /* qemu's bdrv_co_truncate refuses past BDRV_MAX_LENGTH at every
     * layer (a luks image's file is asked for its header more) */
    if (size > GK_MAX_LENGTH) {
        gk_error("offset(%llu) exceeds maximum(%llu)", (unsigned long long)size,
                 (unsigned long long)GK_MAX_LENGTH);
        errno = EFBIG;
        return -1;
    }
    return ret_errno(d->ops->truncate(d, size, prealloc));
}

int gk_flush(gk_dev *d)
{
    if (d->ops->flush)
        return ret_errno(d->ops->flush(d));
    return d->file ? gk_flush(d->file) : 0;
}

/* ---- slices: a window of a parent device (partitions) ---- */

struct slice {
    gk_dev *parent;
    uint64_t off;
};

/* The public wrapper's -1/errno back into -errno. */
static int as_op(int r)
{
    return r < 0 ? -errno : 0;
}

static int slice_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    struct slice *s = d->priv;
    return as_op(gk_pread(s->parent, buf, n, s->off + off));
}

static int slice_pwrite(gk_dev *d, const void *buf, size_t n, uint64_t off)
{
    struct slice *s = d->priv;
    return as_op(gk_pwrite(s->parent, buf, n, s->off + off));
}

static int slice_pwrite_zeroes(gk_dev *d, uint64_t off, uint64_t len, unsigned flags)
{
    struct slice *s = d->priv;
    return as_op(gk_pwrite_zeroes(s->parent, s->off + off, len, flags));
}

static int slice_discard(gk_dev *d, uint64_t off, uint64_t len)
{
    struct slice *s = d->priv;
    return as_op(gk_discard(s->parent, s->off + off, len));
}

static int slice_flush(gk_dev *d)
{
    struct slice *s = d->priv;
    return as_op(gk_flush(s->parent));
}

/* Whatever the parent says at the same place (through its chain). */
static int slice_block_status(gk_dev *d, uint64_t off, uint64_t len, gk_extent *e)
{
    struct slice *s = d->priv;
    memset(e, 0, sizeof *e);
    e->off = off;
    e->len = len;
    e->flags = GK_BS_RAW | GK_BS_OFFSET;
    e->host = s->parent;
    e->host_off = s->off + off;
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
    .pwrite_zeroes = slice_pwrite_zeroes,
    .discard = slice_discard,
    .flush = slice_flush,
    .block_status = slice_block_status,
    .close = slice_close,
};

gk_dev *gk_dev_slice(gk_dev *parent, uint64_t off, uint64_t len, const char *name)
{
    if (!gk_range_ok(off, len, parent->size)) {
        gk_error("%s: range %llu+%llu is outside %s", name, (unsigned long long)off,
                 (unsigned long long)len, parent->name);
        errno = EINVAL;
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

/* ---- image queries ---- */

const char *gk_dev_format(const gk_dev *d)
{
    return d->format ? d->format->name : NULL;
}

gk_dev *gk_image_backing(gk_dev *d)
{
    return d->backing;
}

int gk_image_info_get(gk_dev *d, gk_image_info *info)
{
    memset(info, 0, sizeof *info);
    if (!d->format || !d->format->info) {
        gk_error("%s: not an image", d->name);
        errno = EINVAL;
        return -1;
    }
    int r = d->format->info(d, info);
    if (r == 0 && d->file && !d->file->ops->get_allocated)
        info->actual_size = GK_SIZE_UNAVAILABLE; /* a remote object: qemu says "unavailable" */
    return ret_errno(r);
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
    for (int i = 0; i < info->vmdk_nextents; i++) {
        free(info->vmdk_extents[i].filename);
        free(info->vmdk_extents[i].type);
    }
    free(info->vmdk_extents);
    free(info->vmdk_create_type);
    memset(info, 0, sizeof *info);
}

int gk_image_check(gk_dev *d, gk_check_result *r)
{
    memset(r, 0, sizeof *r);
    if (!d->format || !d->format->check) {
        gk_error("%s: format %s does not support checks", d->name, d->format ? d->format->name : d->ops->name);
        errno = ENOTSUP;
        return -1;
    }
    return ret_errno(d->format->check(d, r));
}

int gk_image_repair(gk_dev *d, unsigned fix, gk_check_result *r)
{
    memset(r, 0, sizeof *r);
    if (!d->format || !d->format->repair) {
        gk_error("%s: format %s does not support checks", d->name, d->format ? d->format->name : d->ops->name);
        errno = ENOTSUP;
        return -1;
    }
    return ret_errno(d->format->repair(d, fix, r));
}

int gk_image_amend_progress(gk_dev *d, int n, const char **names, const char **values, gk_amend_progress cb,
                            void *opaque)
{
    return gk_image_amend_flags(d, n, names, values, 0, cb, opaque);
}

int gk_image_amend_flags(gk_dev *d, int n, const char **names, const char **values, unsigned flags,
                         gk_amend_progress cb, void *opaque)
{
    if (!d->format || !d->format->amend) {
        gk_error("Format driver '%s' does not support option amendment", d->format ? d->format->name : d->ops->name);
        errno = ENOTSUP;
        return -1;
    }
    return ret_errno(d->format->amend(d, n, names, values, flags, cb, opaque));
}

int gk_image_amend(gk_dev *d, int n, const char **names, const char **values)
{
    return gk_image_amend_progress(d, n, names, values, NULL, NULL);
}

void gk_check_result_free(gk_check_result *r)
{
    for (int i = 0; i < r->nmessages; i++)
        free(r->messages[i]);
    free(r->messages);
    free(r->error);
    memset(r, 0, sizeof *r);
}

static int uses(gk_dev *d, const char *id, int depth)
{
    if (!d || depth > GK_MAX_CHAIN + 8)
        return 0;
    if (d->ops->identity) {
        const char *me = d->ops->identity(d);
        if (me && strcmp(me, id) == 0)
            return 1;
    }
    if (uses(d->file, id, depth + 1) || uses(d->backing, id, depth + 1))
        return 1;
    for (int i = 0; i < d->nkids; i++)
        if (uses(d->kids[i], id, depth + 1))
            return 1;
    return 0;
}

int gk_image_uses_file(gk_dev *d, int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return 0;
    char id[64];
    gk_file_identity(&st, id, sizeof id);
    return uses(d, id, 0);
}

void gk_dev_add_kid(gk_dev *d, gk_dev *kid)
{
    d->kids = gk_realloc(d->kids, (size_t)(d->nkids + 1) * sizeof *d->kids);
    d->kids[d->nkids++] = kid;
}
