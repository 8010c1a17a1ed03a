/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VHD format (qemu's "vpc"), read-only: fixed disks (data, then the
 * footer) and dynamic disks (a footer copy, the dynamic header, the block
 * allocation table, blocks each behind a sector bitmap).  What is read and
 * refused follows qemu 7.2's block/vpc.c, qemu-img being the oracle: the
 * footer checksum must match, the size comes from the CHS geometry unless
 * the creator is one that writes a reliable current size, at most 2040 GiB,
 * and a dynamic disk's table must lie inside the file.
 *
 * Like qemu, sectors of an allocated block are read whatever its bitmap
 * says, and a disk whose first sector is a footer copy is read as a
 * dynamic disk (qemu reads a differencing disk the same way, without its
 * parent: so do we, with a warning naming the parent).
 *
 * Bounds (HACKING Resources): the block allocation table (at most qemu's
 * INT_MAX/4 entries) is read only when it lies inside the file, so memory
 * follows the file, never a claimed count. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bat.h"

#define VHD_FIXED 2
#define VHD_DYNAMIC 3
#define VHD_DIFF 4
#define VHD_MAX_SECTORS 0xff000000ULL          /* 2040 GiB */
#define VHD_MAX_GEOMETRY (65535ULL * 16 * 255)

struct vhd {
    const char *path;
    int dynamic;
    uint32_t type;                 /* the footer's disk type                */
    uint32_t block_size, bitmap_size;
    struct gk_bat bat;             /* entries: big-endian sector numbers   */
    int info_only;
};

static int rd(gk_dev *f, void *buf, size_t n, uint64_t off)
{
    return gk_pread(f, buf, n, off) < 0 ? -errno : 0;
}

/* A VHD entry: the sector of a block's bitmap, its data after it. */
static uint64_t vhd_host(const struct gk_bat *b, uint64_t i, uint64_t raw)
{
    const struct vhd *h = b->fmt;
    (void)i;
    return raw == 0xffffffff ? GK_BAT_ABSENT : raw * 512 + h->bitmap_size;
}

static const struct gk_bat_ops vhd_bat_ops = { .host = vhd_host };

static int vhd_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    struct vhd *h = d->priv;
    if (h->info_only)
        return gk_fail(EIO, "%s: image opened for its details only, not for reading", h->path);
    if (!h->dynamic)
        return rd(d->file, buf, n, off);
    return gk_bat_pread(&h->bat, d->file, buf, n, off);
}

/* qemu's answer: a fixed disk is its file; a dynamic one is one allocated
 * block at a time, or a run of unallocated blocks reading as zeros. */
static int vhd_block_status(gk_dev *d, uint64_t off, uint64_t len, gk_extent *e)
{
    struct vhd *h = d->priv;
    if (!h->dynamic) {
        e->len = len;
        e->flags = GK_BS_DATA | GK_BS_OFFSET | GK_BS_RECURSE;
        e->host = d->file;
        e->host_off = off;
        return 0;
    }
    return gk_bat_block_status(&h->bat, d->file, off, len, e, 0);
}

static void vhd_close(gk_dev *d)
{
    struct vhd *h = d->priv;
    if (h)
        gk_bat_clear(&h->bat);
    free(h);
}

static const struct gk_dev_ops vhd_ops = {
    .name = "vpc",
    .pread = vhd_pread,
    .block_status = vhd_block_status,
    .close = vhd_close,
};

static int vhd_probe(const uint8_t *b, size_t len, const char *name)
{
    (void)name;
    return len >= 8 && memcmp(b, "conectix", 8) == 0 ? 100 : 0;
}

static uint32_t checksum(const uint8_t *f)
{
    uint32_t s = 0;
    for (int i = 0; i < 512; i++)
        if (i < 64 || i >= 68)
            s += f[i];
    return ~s;
}

/* qemu 7.2 reads a differencing disk as a dynamic one, without its parent:
 * so do we (qemu-img is the oracle), but never silently.  The parent's
 * name (UTF-16BE in the header) is shown in printable ASCII only. */
static void warn_parent(struct vhd *h, const uint8_t *dh)
{
    char name[257];
    size_t n = 0;
    for (size_t i = 64; i + 1 < 64 + 512 && n < sizeof name - 1; i += 2) {
        uint16_t c = gk_be16(dh + i);
        if (!c)
            break;
        name[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    name[n] = 0;
    static int warned;
    if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
        gk_warn("%s: a differencing VHD: its parent \"%s\" is not read (as qemu-img 7.2 reads it), so what only "
                "the parent holds reads as zeros", h->path, name);
}

static int vhd_open_all(struct vhd *h, gk_dev *d, gk_dev *file)
{
    uint8_t f[512] = { 0 };
    int rc;
    if ((rc = rd(file, f, file->size < 512 ? (size_t)file->size : 512, 0)) < 0)
        return rc;
    h->dynamic = 1; /* a footer copy in front: qemu reads it as dynamic */
    if (memcmp(f, "conectix", 8) != 0) {
        if (file->size < 512)
            return gk_fail(EINVAL, "%s: file too small for a VHD footer", h->path);
        if ((rc = rd(file, f, 512, file->size - 512)) < 0)
            return rc;
        if (memcmp(f, "conectix", 8) != 0)
            return gk_fail(EINVAL, "%s: invalid VHD image (no footer)", h->path);
        h->dynamic = 0;
    }
    if (gk_be32(f + 64) != checksum(f))
        return gk_fail(EINVAL, "%s: incorrect VHD footer checksum", h->path);
    h->type = gk_be32(f + 60);
    uint64_t sectors = (uint64_t)gk_be16(f + 56) * f[58] * f[59];
    /* Virtual PC and old qemu size the disk by its geometry, the others by
     * the current size (qemu 7.2's table) */
    int use_chs = memcmp(f + 28, "win ", 4) && memcmp(f + 28, "qem2", 4) && memcmp(f + 28, "d2v ", 4) &&
                  memcmp(f + 28, "CTXS", 4) && memcmp(f + 28, "tap", 4);
    if (!use_chs || sectors == VHD_MAX_GEOMETRY)
        sectors = gk_be64(f + 48) / 512;
    if (sectors > VHD_MAX_SECTORS)
        return gk_fail(EFBIG, "%s: disk too large (%" PRIu64 " sectors; VHD allows at most 2040 GiB)", h->path,
                       sectors);
    d->size = sectors * 512;
    if (!h->dynamic)
        return 0;

    uint8_t dh[1024];
    uint64_t doff = gk_be64(f + 16);
    if (doff >= file->size || (rc = rd(file, dh, sizeof dh, doff)) < 0)
        return gk_fail(EINVAL, "%s: error reading the dynamic VHD header (at %" PRIu64 ")", h->path, doff);
    if (memcmp(dh, "cxsparse", 8) != 0)
        return gk_fail(EINVAL, "%s: invalid dynamic VHD header magic", h->path);
    if (h->type == VHD_DIFF)
        warn_parent(h, dh);
    h->block_size = gk_be32(dh + 32);
    if (h->block_size < 512 || (h->block_size & (h->block_size - 1)))
        return gk_fail(EINVAL, "%s: invalid block size %" PRIu32, h->path, h->block_size);
    h->bitmap_size = ((h->block_size / (8 * 512)) + 511) & ~511u;
    uint32_t entries = gk_be32(dh + 28);
    if (d->size / h->block_size > 0xffffffffULL)
        return gk_fail(EINVAL, "%s: too many blocks", h->path);
    if ((uint64_t)entries * h->block_size < d->size)
        return gk_fail(EINVAL, "%s: block allocation table too small (%" PRIu32 " entries of %" PRIu32
                       " bytes for %" PRIu64 " bytes)", h->path, entries, h->block_size, d->size);
    if (entries > 0x7fffffffu / 4)
        return gk_fail(EINVAL, "%s: block allocation table too large (%" PRIu32 " entries)", h->path, entries);
    uint64_t bat_off = gk_be64(dh + 16), bat_len = (uint64_t)entries * 4;
    /* qemu refuses a table that does not end inside the file: check that
     * before reading it, so that memory follows the file */
    uint64_t end = bat_off > UINT64_MAX - bat_len - 511 ? UINT64_MAX : (bat_off + bat_len + 511) & ~511ULL;
    if (end > file->size)
        return gk_fail(EINVAL, "%s: the block allocation table ends past the end of the file (truncated image)",
                       h->path);
    h->bat = (struct gk_bat){ .path = h->path, .ops = &vhd_bat_ops, .fmt = h, .block = h->block_size,
                              .n = entries, .width = 4, .big_endian = 1, .off = bat_off };
    if ((rc = gk_bat_load(&h->bat, file, entries)) < 0)
        return rc;
    uint64_t i = 0, start, bend;
    if (gk_bat_outside(&h->bat, file->size, 0, &i, &start, &bend))
        return gk_fail(EINVAL, "%s: a block lies past the end of the file (truncated image)", h->path);
    return 0;
}

static gk_dev *vhd_open(gk_dev *file, gk_open_ctx *ctx)
{
    if (ctx->readwrite) {
        gk_error("%s: vpc images can only be opened read-only", file->name);
        errno = EROFS;
        return NULL;
    }
    if (ctx->snapshot || ctx->snapshot_id || ctx->snapshot_name) {
        gk_error("%s: vpc images have no internal snapshots", file->name);
        errno = ENOTSUP;
        return NULL;
    }
    struct vhd *h = gk_calloc(1, sizeof *h);
    h->path = file->name;
    h->info_only = !!(ctx->flags & GK_OPEN_INFO);
    gk_dev *d = gk_dev_new(&vhd_ops, file->name, 0, h);
    int rc = vhd_open_all(h, d, file);
    if (rc < 0) {
        gk_dev_unref(d);
        errno = -rc;
        return NULL;
    }
    d->file = file;
    d->readonly = 1;
    return d;
}

static int vhd_info(gk_dev *d, gk_image_info *info)
{
    struct vhd *h = d->priv;
    info->format = "vpc";
    info->filename = gk_strdup(d->name);
    info->virtual_size = d->size;
    if (d->file->ops->get_allocated)
        d->file->ops->get_allocated(d->file, &info->actual_size);
    if (h->type != VHD_FIXED)
        info->cluster_size = h->block_size;
    return 0;
}

const struct gk_format gk_vpc_format = {
    .name = "vpc",
    .probe = vhd_probe,
    .open = vhd_open,
    .info = vhd_info,
};
