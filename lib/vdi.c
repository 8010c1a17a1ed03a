/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VDI format (VirtualBox), read-only: static and dynamic images of
 * version 1.1 with 1 MiB blocks and a block map, as qemu 7.2's block/vdi.c
 * reads them (qemu-img is the oracle): the same header checks, unallocated
 * and discarded blocks read as zeros, differencing images (a parent or link
 * UUID) refused.  qemu-img check's checks of the block map too.
 *
 * Bounds (HACKING Resources): the block map holds at most qemu's
 * 0x1fffff80 entries and is kept only as far as the file holds it; entries
 * past the end of the file read as zeros there, so they are kept as zeros
 * (block 0, as qemu reads them) without memory. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bat.h"

#define VDI_SIGNATURE 0xbeda107fu
#define VDI_VERSION_1_1 0x00010001u
#define VDI_STATIC 2
#define VDI_BLOCK (1u << 20)
#define VDI_BLOCKS_MAX ((0x7fffffffu + 1u - 512u) / 4u)
#define VDI_DISCARDED 0xfffffffeu

struct vdi {
    const char *path;
    uint32_t type, blocks;         /* blocks claimed                      */
    uint32_t allocated;            /* the header's count                  */
    struct gk_bat bmap;            /* little-endian block numbers; entries
                                    * past the file read as 0 (block 0)   */
    uint64_t data_off;
    int info_only;
};

static uint32_t entry(const struct vdi *v, uint64_t i)
{
    return (uint32_t)gk_bat_raw(&v->bmap, i);
}

/* A VDI entry: a block number counted from the data offset, or
 * unallocated or discarded (both read as zeros).  qemu reads any number,
 * whatever the file holds; qemu-img check counts those past the disk. */
static uint64_t vdi_host(const struct gk_bat *b, uint64_t i, uint64_t raw)
{
    const struct vdi *v = b->fmt;
    (void)i;
    return raw >= VDI_DISCARDED ? GK_BAT_ABSENT : v->data_off + raw * VDI_BLOCK;
}

static const struct gk_bat_ops vdi_bat_ops = { .host = vdi_host };

static int vdi_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    struct vdi *v = d->priv;
    if (v->info_only)
        return gk_fail(EIO, "%s: image opened for its details only, not for reading", v->path);
    return gk_bat_pread(&v->bmap, d->file, buf, n, off);
}

static int vdi_block_status(gk_dev *d, uint64_t off, uint64_t len, gk_extent *e)
{
    struct vdi *v = d->priv;
    return gk_bat_block_status(&v->bmap, d->file, off, len, e, v->type == VDI_STATIC ? GK_BS_RECURSE : 0);
}

static void vdi_close(gk_dev *d)
{
    struct vdi *v = d->priv;
    if (v)
        gk_bat_clear(&v->bmap);
    free(v);
}

static const struct gk_dev_ops vdi_ops = {
    .name = "vdi",
    .pread = vdi_pread,
    .block_status = vdi_block_status,
    .close = vdi_close,
};

static int vdi_probe(const uint8_t *b, size_t len, const char *name)
{
    (void)name;
    return len >= 512 && gk_le32(b + 0x40) == VDI_SIGNATURE ? 100 : 0;
}

static int is_null(const uint8_t *u)
{
    for (int i = 0; i < 16; i++)
        if (u[i])
            return 0;
    return 1;
}

static int vdi_open_all(struct vdi *v, gk_dev *d, gk_dev *file)
{
    uint8_t h[512] = { 0 };
    if (gk_pread(file, h, file->size < 512 ? (size_t)file->size : 512, 0) < 0)
        return -errno;
    uint32_t sig = gk_le32(h + 0x40), version = gk_le32(h + 0x44);
    uint32_t bmap_off = gk_le32(h + 0x154), data_off = gk_le32(h + 0x158), sector = gk_le32(h + 0x168);
    uint64_t size = gk_le64(h + 0x170);
    uint32_t bs = gk_le32(h + 0x178), blocks = gk_le32(h + 0x180);
    const char *p = v->path;
    if (size > (uint64_t)VDI_BLOCKS_MAX * VDI_BLOCK)
        return gk_fail(ENOTSUP, "%s: unsupported VDI image size (%" PRIu64 " bytes, at most %" PRIu64 ")", p, size,
                       (uint64_t)VDI_BLOCKS_MAX * VDI_BLOCK);
    size = (size + 511) & ~511ULL; /* VBoxManage convertfromraw leaves odd sizes; qemu rounds up */
    if (sig != VDI_SIGNATURE)
        return gk_fail(EINVAL, "%s: image not in VDI format (bad signature %08" PRIx32 ")", p, sig);
    if (version != VDI_VERSION_1_1)
        return gk_fail(ENOTSUP, "%s: unsupported VDI image (version %" PRIu32 ".%" PRIu32 ")", p, version >> 16,
                       version & 0xffff);
    if (bmap_off % 512)
        return gk_fail(ENOTSUP, "%s: unsupported VDI image (unaligned block map offset 0x%" PRIx32 ")", p, bmap_off);
    if (data_off % 512)
        return gk_fail(ENOTSUP, "%s: unsupported VDI image (unaligned data offset 0x%" PRIx32 ")", p, data_off);
    if (sector != 512)
        return gk_fail(ENOTSUP, "%s: unsupported VDI image (sector size %" PRIu32 " is not 512)", p, sector);
    if (bs != VDI_BLOCK)
        return gk_fail(ENOTSUP, "%s: unsupported VDI image (block size %" PRIu32 " is not %u)", p, bs, VDI_BLOCK);
    if (size > (uint64_t)blocks * VDI_BLOCK)
        return gk_fail(ENOTSUP, "%s: unsupported VDI image (disk size %" PRIu64 ", the block map has room for %"
                       PRIu64 ")", p, size, (uint64_t)blocks * VDI_BLOCK);
    if (!is_null(h + 0x1a8))
        return gk_fail(ENOTSUP, "%s: unsupported VDI image (non-NULL link UUID: a differencing image)", p);
    if (!is_null(h + 0x1b8))
        return gk_fail(ENOTSUP, "%s: unsupported VDI image (non-NULL parent UUID: a differencing image)", p);
    if (blocks > VDI_BLOCKS_MAX)
        return gk_fail(ENOTSUP, "%s: unsupported VDI image (too many blocks %" PRIu32 ", at most %u)", p, blocks,
                       VDI_BLOCKS_MAX);
    v->type = gk_le32(h + 0x4c);
    v->allocated = gk_le32(h + 0x184);
    v->blocks = blocks;
    v->data_off = data_off;
    d->size = size;
    /* the map as far as the file holds it */
    v->bmap = (struct gk_bat){ .path = p, .ops = &vdi_bat_ops, .fmt = v, .block = VDI_BLOCK, .n = blocks,
                               .width = 4, .off = bmap_off };
    int rc = gk_bat_load(&v->bmap, file, gk_bat_room(file->size, bmap_off, 4));
    if (rc < 0)
        return gk_fail(-rc, "%s: could not read the block map: %s", p, gk_errmsg());
    return 0;
}

/* qemu-img check: every allocated block's index inside the image, no index
 * used twice, and the header's count of allocated blocks; messages and
 * counts as qemu's vdi_co_check.  One bit per block of the image (at most
 * 64 MiB for the largest map qemu accepts); messages at most 1000. */
#define VDI_CHECK_MSGS 1000

static void check_msg(gk_check_result *r, char *m)
{
    if (r->nmessages >= VDI_CHECK_MSGS) {
        free(m);
        return;
    }
    r->messages = gk_realloc(r->messages, (size_t)(r->nmessages + 1) * sizeof *r->messages);
    r->messages[r->nmessages++] = m;
}

static int vdi_check(gk_dev *d, gk_check_result *r)
{
    struct vdi *v = d->priv;
    memset(r, 0, sizeof *r);
    uint8_t *used = gk_calloc((size_t)v->blocks / 8 + 1, 1);
    uint64_t allocated = 0, stored = v->bmap.have < v->blocks ? v->bmap.have : v->blocks;
    for (uint64_t b = 0; b < stored; b++) {
        uint32_t e = entry(v, b);
        if (e >= VDI_DISCARDED)
            continue;
        if (e < v->blocks) {
            allocated++;
            if (!(used[e / 8] & (1u << (e % 8)))) {
                used[e / 8] |= (uint8_t)(1u << (e % 8));
            } else {
                check_msg(r, gk_asprintf("ERROR: block index %" PRIu32 " also used by %" PRIu32, e, e));
                r->corruptions++;
            }
        } else {
            check_msg(r, gk_asprintf("ERROR: block index %" PRIu64 " too large, is %" PRIu32, b, e));
            r->corruptions++;
        }
    }
    if (stored < v->blocks) {
        /* The rest of the map lies past the end of the file and reads as
         * entries 0, as qemu reads it: block 0, used once by the first of
         * them if nothing used it, and again by each other.  Counted at
         * once, so that the work follows the file's size, not the header's
         * count (a 3 KiB file may claim 2^26 blocks). */
        uint64_t tail = v->blocks - stored, dup = tail;
        if (!(used[0] & 1u))
            used[0] |= 1u, dup--;
        allocated += tail;
        r->corruptions += dup;
        for (uint64_t k = 0; k < dup && r->nmessages < VDI_CHECK_MSGS; k++)
            check_msg(r, gk_strdup("ERROR: block index 0 also used by 0"));
    }
    if (allocated != v->allocated) {
        check_msg(r, gk_asprintf("ERROR: allocated blocks mismatch, is %" PRIu64 ", should be %" PRIu32, allocated,
                                 v->allocated));
        r->corruptions++;
    }
    free(used);
    return 0;
}

static gk_dev *vdi_open(gk_dev *file, gk_open_ctx *ctx)
{
    if (ctx->readwrite) {
        gk_error("%s: vdi images can only be opened read-only", file->name);
        errno = EROFS;
        return NULL;
    }
    if (ctx->snapshot || ctx->snapshot_id || ctx->snapshot_name) {
        gk_error("%s: vdi images have no internal snapshots", file->name);
        errno = ENOTSUP;
        return NULL;
    }
    struct vdi *v = gk_calloc(1, sizeof *v);
    v->path = file->name;
    v->info_only = !!(ctx->flags & GK_OPEN_INFO);
    gk_dev *d = gk_dev_new(&vdi_ops, file->name, 0, v);
    int rc = vdi_open_all(v, d, file);
    if (rc < 0) {
        gk_dev_unref(d);
        errno = -rc;
        return NULL;
    }
    d->file = file;
    d->readonly = 1;
    return d;
}

static int vdi_info(gk_dev *d, gk_image_info *info)
{
    info->format = "vdi";
    info->filename = gk_strdup(d->name);
    info->virtual_size = d->size;
    if (d->file->ops->get_allocated)
        d->file->ops->get_allocated(d->file, &info->actual_size);
    info->cluster_size = VDI_BLOCK;
    return 0;
}

const struct gk_format gk_vdi_format = {
    .name = "vdi",
    .probe = vdi_probe,
    .open = vdi_open,
    .info = vdi_info,
    .check = vdi_check,
};
