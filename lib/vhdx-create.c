/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gimg create -f vhdx: a dynamic (or fixed) Hyper-V disk laid out as qemu
 * 7.2 lays its own out, so that qemu-img reads it as one of its own: the
 * file identifier, two headers (sequence numbers n and n+1), two identical
 * region tables, the log (empty, 1 MiB by default) at 1 MiB, then the BAT
 * and the metadata region (1 MiB: the table, its items from 64 KiB on).
 * Payload blocks of a dynamic disk start in state ZERO (qemu's default
 * block_state_zero=on) or NOT_PRESENT; a fixed disk has every block
 * allocated after the metadata region.
 *
 * The file identifier is written last: a file left half made by a crash is
 * never taken for a VHDX image.  The BAT is written 1 MiB at a time, so
 * memory does not grow with the disk size. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "vhdx.h"

const gk_create_opt gk_vhdx_create_opts[] = {
    { "block_size", GK_OPT_SIZE, "Block Size; min 1MB, max 256MB. 0 means auto-calculate based on image size.",
      NULL },
    { "block_state_zero", GK_OPT_BOOL, "Force use of payload blocks of type 'ZERO'. Non-standard, but default.  "
                                       "Do not set to 'off' when using 'qemu-img convert' with subformat=dynamic.",
      NULL },
    { "log_size", GK_OPT_SIZE, "Log size; min 1MB.", NULL },
    { "size", GK_OPT_SIZE, "Virtual disk size; max of 64TB.", NULL },
    { "subformat", GK_OPT_STRING, "VHDX format type, can be either 'dynamic' or 'fixed'. Default is 'dynamic'.",
      NULL },
    { NULL, 0, NULL, NULL },
};

/* A random (version 4) GUID. */
static int new_guid(uint8_t g[16])
{
    if (getrandom(g, 16, 0) != 16)
        return gk_fail(errno ? errno : EIO, "cannot get random bytes for a GUID: %s", strerror(errno));
    g[7] = (uint8_t)((g[7] & 0x0f) | 0x40);
    g[8] = (uint8_t)((g[8] & 0x3f) | 0x80);
    return 0;
}

struct layout {
    uint64_t size, log_size, block_size, bat_off, bat_len, meta_off, data_off, blocks, entries, chunk_ratio;
    int fixed, zero_state;
};

static int parse(gk_create_args *a, struct layout *l)
{
    uint64_t bs = 0, log = VHDX_MiB;
    const char *v, *sub = gk_create_get(a, "subformat");
    int zero = 1;
    if (!a->size_given)
        return gk_fail(EINVAL, "Image creation needs a size parameter");
    if ((v = gk_create_get(a, "block_size")) && gk_opt_size("block_size", v, &bs) < 0)
        return -EINVAL;
    if ((v = gk_create_get(a, "log_size")) && gk_opt_size("log_size", v, &log) < 0)
        return -EINVAL;
    if ((v = gk_create_get(a, "block_state_zero")) && gk_opt_bool("block_state_zero", v, &zero) < 0)
        return -EINVAL;
    if (!a->summary) {
        char extra[256] = "";
        if (sub)
            snprintf(extra, sizeof extra, " subformat=%s", sub);
        if (v)
            snprintf(extra + strlen(extra), sizeof extra - strlen(extra), " block_state_zero=%s", zero ? "on" : "off");
        a->summary = gk_asprintf("fmt=vhdx size=%" PRIu64 " log_size=%" PRIu64 " block_size=%" PRIu64 "%s", a->size,
                                 log, bs, extra);
    }
    if (sub && strcmp(sub, "dynamic") != 0 && strcmp(sub, "fixed") != 0)
        return gk_fail(EINVAL, "Parameter 'subformat' does not accept value '%s'", sub);
    if (a->size > 64ULL << 40)
        return gk_fail(EINVAL, "Image size too large; max of 64TB");
    l->size = (a->size + 511) & ~511ULL;
    /* qemu: the log rounded up to whole MiB; the block size chosen by the
     * disk size when 0, clamped to 1..256 MiB, a power of two */
    if (log > 0xffffffffULL - VHDX_MiB)
        return gk_fail(EINVAL, "Log size must be smaller than 4 GB");
    l->log_size = (log + VHDX_MiB - 1) / VHDX_MiB * VHDX_MiB;
    if (l->log_size == 0)
        l->log_size = VHDX_MiB;
    if (bs == 0)
        bs = a->size > (32ULL << 40) ? 64 * VHDX_MiB
             : a->size > (100ULL << 30) ? 32 * VHDX_MiB
             : a->size > (1ULL << 30) ? 16 * VHDX_MiB : 8 * VHDX_MiB;
    bs = bs < VHDX_MiB ? VHDX_MiB : bs > 256 * VHDX_MiB ? 256 * VHDX_MiB : bs;
    if (bs & (bs - 1))
        return gk_fail(EINVAL, "Block size must be a power of two");
    l->block_size = bs;
    l->fixed = sub && strcmp(sub, "fixed") == 0;
    l->zero_state = zero;
    l->chunk_ratio = (8 * VHDX_MiB * 512) / bs;
    l->blocks = (l->size + bs - 1) / bs;
    l->entries = gk_vhdx_bat_entries(l->blocks, l->chunk_ratio);
    l->bat_off = VHDX_MiB + l->log_size;
    l->bat_len = (l->entries * 8 + VHDX_MiB - 1) / VHDX_MiB * VHDX_MiB;
    if (l->bat_len == 0)
        l->bat_len = VHDX_MiB;
    if (l->bat_len > 0xffffffffULL - VHDX_MiB)
        return gk_fail(EINVAL, "%s: the block allocation table would be too large; use a larger block_size",
                       "vhdx");
    l->meta_off = l->bat_off + l->bat_len;
    l->data_off = l->meta_off + VHDX_MiB;
    return 0;
}

/* The BAT, one MiB of it at a time. */
static int write_bat(gk_dev *f, const struct layout *l)
{
    const uint64_t per = VHDX_MiB / 8;
    uint8_t *buf = gk_calloc(1, VHDX_MiB);
    int r = 0;
    for (uint64_t i = 0; i < l->entries && r == 0; i += per) {
        uint64_t n = l->entries - i < per ? l->entries - i : per;
        memset(buf, 0, VHDX_MiB);
        for (uint64_t k = 0; k < n; k++) {
            uint64_t e = i + k;
            if ((e + 1) % (l->chunk_ratio + 1) == 0)
                continue; /* a sector bitmap entry: not present */
            uint64_t blk = e - e / (l->chunk_ratio + 1);
            uint64_t val = l->fixed ? (l->data_off + blk * l->block_size) | BAT_FULLY_PRESENT
                                    : l->zero_state ? BAT_ZERO : BAT_NOT_PRESENT;
            gk_put_le64(buf + k * 8, val);
        }
        if (gk_pwrite(f, buf, n * 8, l->bat_off + i * 8) < 0)
            r = -errno;
    }
    free(buf);
    return r;
}

static void metadata(uint8_t *m, const struct layout *l, const uint8_t page83[16])
{
    memcpy(m, "metadata", 8);
    gk_put_le16(m + 10, 5);
    static const uint32_t at[5] = { 0, 8, 16, 32, 36 }, len[5] = { 8, 8, 16, 4, 4 };
    for (int k = 0; k < 5; k++) {
        uint8_t *e = m + 32 + 32 * k;
        memcpy(e, gk_vhdx_guid_items[k], 16);
        gk_put_le32(e + 16, (uint32_t)(64 * VHDX_KiB + at[k]));
        gk_put_le32(e + 20, len[k]);
        gk_put_le32(e + 24, k == M_PARAMS ? 4 : 6); /* is_required, is_virtual_disk */
    }
    uint8_t *d = m + 64 * VHDX_KiB;
    gk_put_le32(d, (uint32_t)l->block_size);
    gk_put_le32(d + 4, l->fixed ? 1 : 0); /* leave_blocks_allocated */
    gk_put_le64(d + 8, l->size);
    memcpy(d + 16, page83, 16);
    gk_put_le32(d + 32, 512);
    gk_put_le32(d + 36, 512);
}

static void region_table(uint8_t *t, const struct layout *l)
{
    memcpy(t, "regi", 4);
    gk_put_le32(t + 8, 2);
    memcpy(t + 16, gk_vhdx_guid_bat, 16);
    gk_put_le64(t + 32, l->bat_off);
    gk_put_le32(t + 40, (uint32_t)l->bat_len);
    gk_put_le32(t + 44, 1); /* required */
    memcpy(t + 48, gk_vhdx_guid_meta, 16);
    gk_put_le64(t + 64, l->meta_off);
    gk_put_le32(t + 72, (uint32_t)VHDX_MiB);
    gk_put_le32(t + 76, 1);
    gk_put_le32(t + 4, gk_crc32c(t, 64 * VHDX_KiB));
}

static void header(uint8_t *h, uint64_t seq, const uint8_t fguid[16], const uint8_t dguid[16],
                   const struct layout *l)
{
    memset(h, 0, 4096);
    memcpy(h, "head", 4);
    gk_put_le64(h + 8, seq);
    memcpy(h + 16, fguid, 16);
    memcpy(h + 32, dguid, 16);
    gk_put_le16(h + 66, 1);                        /* version; log version 0, no log GUID */
    gk_put_le32(h + 68, (uint32_t)l->log_size);
    gk_put_le64(h + 72, VHDX_MiB);
    gk_put_le32(h + 4, gk_crc32c(h, 4096));
}

/* Everything, the file identifier last; 0 or -errno. */
static int write_all(gk_dev *f, const struct layout *l, uint8_t *buf, const uint8_t fguid[16],
                     const uint8_t dguid[16], const uint8_t page83[16], uint64_t seq)
{
    uint64_t end = l->fixed ? l->data_off + l->blocks * l->block_size : l->data_off;
    int r;
    if (gk_truncate(f, 0, GK_PREALLOC_OFF) < 0 || gk_truncate(f, end, GK_PREALLOC_OFF) < 0)
        return -errno;
    if ((r = write_bat(f, l)) < 0)
        return r;
    metadata(buf, l, page83);
    if (gk_pwrite(f, buf, 64 * VHDX_KiB + 40, l->meta_off) < 0)
        return -errno;
    memset(buf, 0, 64 * VHDX_KiB + 40);
    region_table(buf, l);
    if (gk_pwrite(f, buf, 64 * VHDX_KiB, 192 * VHDX_KiB) < 0 || gk_pwrite(f, buf, 64 * VHDX_KiB, 256 * VHDX_KiB) < 0)
        return -errno;
    for (int i = 0; i < 2; i++) {
        header(buf, seq + (uint64_t)i, fguid, dguid, l);
        if (gk_pwrite(f, buf, 4096, (uint64_t)(i + 1) * 64 * VHDX_KiB) < 0)
            return -errno;
    }
    memset(buf, 0, 64 * VHDX_KiB);
    memcpy(buf, "vhdxfile", 8);
    const char *creator = "guestkit " GK_VERSION;
    for (size_t i = 0; creator[i] && i < 255; i++)
        buf[8 + 2 * i] = (uint8_t)creator[i];
    if (gk_pwrite(f, buf, 64 * VHDX_KiB, 0) < 0 || gk_flush(f) < 0)
        return -errno;
    return 0;
}

int gk_vhdx_create(const char *location, gk_create_args *a)
{
    struct layout l;
    memset(&l, 0, sizeof l);
    int r = parse(a, &l);
    if (r < 0)
        return r;
    uint8_t fguid[16], dguid[16], page83[16], seqb[16];
    if ((r = new_guid(fguid)) < 0 || (r = new_guid(dguid)) < 0 || (r = new_guid(page83)) < 0 ||
        (r = new_guid(seqb)) < 0)
        return r;
    uint64_t seq = gk_le64(seqb) >> 2; /* room to count up */
    const struct gk_protocol *p = gk_protocol_for(location);
    r = p->create ? p->create(location) : gk_fail(ENOTSUP, "%s: cannot create it", location);
    if (r < 0)
        return r;
    gk_file_opts fo = { .readwrite = 1, .growable = 1, .quiet_in_use = 1 };
    gk_dev *f = p->open(location, &fo);
    if (!f)
        return -errno;
    uint8_t *buf = gk_calloc(1, VHDX_MiB);
    r = write_all(f, &l, buf, fguid, dguid, page83, seq);
    free(buf);
    gk_dev_unref(f);
    return r;
}
