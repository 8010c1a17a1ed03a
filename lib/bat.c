/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Block allocation tables shared by VHD, VDI and VHDX (lib/bat.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bat.h"

int gk_bat_load(struct gk_bat *b, gk_dev *file, uint64_t count)
{
    if (count > b->n)
        count = b->n;
    free(b->raw);
    b->raw = gk_malloc(count ? count * b->width : 8);
    b->have = 0;
    if (count && gk_pread(file, b->raw, count * b->width, b->off) < 0)
        return -errno;
    b->have = count;
    return 0;
}

void gk_bat_clear(struct gk_bat *b)
{
    free(b->raw);
    memset(b, 0, sizeof *b);
}

uint64_t gk_bat_raw(const struct gk_bat *b, uint64_t i)
{
    if (i >= b->have)
        return 0;
    const uint8_t *p = b->raw + i * b->width;
    if (b->width == 8)
        return b->big_endian ? gk_be64(p) : gk_le64(p);
    return b->big_endian ? gk_be32(p) : gk_le32(p);
}

/* The data start of disk block blk, GK_BAT_ABSENT or GK_BAT_BAD. */
static uint64_t block_host(const struct gk_bat *b, uint64_t blk)
{
    uint64_t i = gk_bat_index(b, blk);
    if (i >= b->n)
        return GK_BAT_ABSENT;
    return b->ops->host(b, i, gk_bat_raw(b, i));
}

uint64_t gk_bat_lookup(const struct gk_bat *b, uint64_t off)
{
    uint64_t h = block_host(b, off / b->block);
    return h >= GK_BAT_BAD ? h : h + off % b->block;
}

int gk_bat_refuse(const struct gk_bat *b, uint64_t off)
{
    uint64_t blk = off / b->block, i = gk_bat_index(b, blk);
    if (b->ops->refuse)
        return b->ops->refuse(b, blk, gk_bat_raw(b, i));
    return gk_fail(EIO, "%s: block %" PRIu64 " has an entry guestkit does not read", b->path, blk);
}

int gk_bat_pread(const struct gk_bat *b, gk_dev *file, void *buf, size_t n, uint64_t off)
{
    uint8_t *p = buf;
    while (n > 0) {
        uint64_t left = b->block - off % b->block;
        size_t len = n < left ? n : (size_t)left;
        uint64_t at = gk_bat_lookup(b, off);
        if (at == GK_BAT_BAD)
            return gk_bat_refuse(b, off);
        if (at == GK_BAT_ABSENT)
            memset(p, 0, len);
        else if (gk_pread(file, p, len, at) < 0)
            return -errno;
        p += len;
        off += len;
        n -= len;
    }
    return 0;
}

int gk_bat_block_status(const struct gk_bat *b, gk_dev *file, uint64_t off, uint64_t len, gk_extent *e,
                        unsigned data_flags)
{
    uint64_t at = gk_bat_lookup(b, off), n = b->block - off % b->block;
    if (at == GK_BAT_BAD)
        return gk_bat_refuse(b, off);
    if (at != GK_BAT_ABSENT) {
        e->len = n < len ? n : len;
        e->flags = GK_BS_DATA | GK_BS_OFFSET | data_flags;
        e->host = file;
        e->host_off = at;
        return 0;
    }
    /* a run of absent blocks (the caller's len bounds it) */
    while (n < len && gk_bat_lookup(b, off + n) == GK_BAT_ABSENT)
        n += b->block;
    e->len = n < len ? n : len;
    e->flags = GK_BS_ZERO;
    return 0;
}

int gk_bat_outside(const struct gk_bat *b, uint64_t fsize, uint64_t vsize, uint64_t *i, uint64_t *start,
                   uint64_t *end)
{
    for (; *i < b->n; ++*i) {
        uint64_t h = b->ops->host(b, *i, gk_bat_raw(b, *i));
        if (h >= GK_BAT_BAD)
            continue;
        uint64_t len = b->block;
        if (vsize) {
            uint64_t rem = vsize - *i * b->block; /* wraps, as qemu's */
            if (rem < len)
                len = rem;
        }
        uint64_t e = h > UINT64_MAX - len ? UINT64_MAX : h + len;
        if (h >= fsize || e > fsize) {
            *start = h;
            *end = e;
            return 1;
        }
    }
    return 0;
}

uint64_t gk_bat_blocks_end(const struct gk_bat *b)
{
    uint64_t end = 0;
    for (uint64_t i = 0; i < b->have; i++) {
        uint64_t h = b->ops->host(b, i, gk_bat_raw(b, i));
        if (h >= GK_BAT_BAD)
            continue;
        uint64_t e = h > UINT64_MAX - b->block ? UINT64_MAX : h + b->block;
        if (e > end)
            end = e;
    }
    return end;
}

int gk_bat_append(struct gk_bat *b, gk_dev *file, uint64_t i)
{
    uint64_t a = b->align ? b->align : 1;
    if (i >= b->have || b->next > UINT64_MAX - a)
        return gk_fail(EIO, "%s: no table entry %" PRIu64 " to give a block", b->path, i);
    uint64_t at = (b->next + a - 1) / a * a;
    uint64_t raw = b->ops->entry(b, at);
    if (raw == GK_BAT_BAD || at > UINT64_MAX - b->block)
        return gk_fail(EFBIG, "%s: the image file is full", b->path);
    /* the block first: until the entry names it, it is only a tail of
     * zeros past every block the table knows */
    if (gk_truncate(file, at + b->block, GK_PREALLOC_OFF) < 0)
        return -errno;
    uint8_t le[8];
    for (unsigned k = 0; k < b->width; k++)
        le[b->big_endian ? b->width - 1 - k : k] = (uint8_t)(raw >> (8 * k));
    if (gk_pwrite(file, le, b->width, b->off + i * b->width) < 0)
        return -errno;
    memcpy(b->raw + i * b->width, le, b->width);
    b->next = at + b->block;
    return 0;
}
