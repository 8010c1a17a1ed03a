/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VHDX format (Hyper-V): fixed and dynamic disks, as qemu
 * 7.2's block/vhdx.c reads them (qemu-img is the oracle): the current of
 * the two headers by CRC-32C and sequence number, the region table (BAT
 * and metadata regions, no overlaps, no unknown required region), the
 * metadata table (file parameters, sizes, sector sizes; unknown required
 * items refused), and the block allocation table (every present block
 * inside the file and clear of the other regions).  Payload blocks not
 * present, undefined, zero or unmapped read as zeros.  Differencing disks
 * (has_parent) and partially present blocks are refused, as qemu refuses
 * them.  A log that needs replaying is refused (qemu refuses it read-only
 * too); lib/vhdx-log.c may replay it in memory.
 *
 * Like qemu, the driver answers no block status: every byte is data.
 *
 * Writing (gimg convert -O vhdx, images lib/vhdx-create.c makes, or any
 * clean fixed or dynamic one): in place in present blocks; a block not
 * present gets a new one at the end of the file (MiB aligned, the file
 * grown first so that the rest reads as zeros), then its BAT entry is
 * written in place.  The log is not used (a single 8-byte entry needs no
 * journal), so an image whose log needs replaying is not written.
 *
 * Bounds (HACKING Resources): the headers, region table and metadata table
 * are fixed sizes (4 KiB, 64 KiB, 64 KiB); the BAT is the BAT region's
 * length, which must lie inside the file (so memory follows the file). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bat.h"
#include "vhdx.h"

#define KiB VHDX_KiB
#define MiB VHDX_MiB
#define VHDX_MAX_ENTRIES 2047

/* GUIDs as stored (little-endian fields) */
const uint8_t gk_vhdx_guid_bat[16] = { 0x66, 0x77, 0xc2, 0x2d, 0x23, 0xf6, 0x00, 0x42,
                                       0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08 };
const uint8_t gk_vhdx_guid_meta[16] = { 0x06, 0xa2, 0x7c, 0x8b, 0x90, 0x47, 0x9a, 0x4b,
                                        0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e };
const uint8_t gk_vhdx_guid_items[M_N][16] = {
    { 0x37, 0x67, 0xa1, 0xca, 0x36, 0xfa, 0x43, 0x4d, 0xb3, 0xb6, 0x33, 0xf0, 0xaa, 0x44, 0xe7, 0x6b },
    { 0x24, 0x42, 0xa5, 0x2f, 0x1b, 0xcd, 0x76, 0x48, 0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8 },
    { 0xab, 0x12, 0xca, 0xbe, 0xe6, 0xb2, 0x23, 0x45, 0x93, 0xef, 0xc3, 0x09, 0xe0, 0x00, 0xc7, 0x46 },
    { 0x1d, 0xbf, 0x41, 0x81, 0x6f, 0xa9, 0x09, 0x47, 0xba, 0x47, 0xf2, 0x33, 0xa8, 0xfa, 0xab, 0x5f },
    { 0xc7, 0x48, 0xa3, 0xcd, 0x5d, 0x44, 0x71, 0x44, 0x9c, 0xc9, 0xe9, 0x88, 0x52, 0x51, 0xc5, 0x56 },
    { 0x2d, 0x5f, 0xd3, 0xa8, 0x0b, 0xb3, 0x4d, 0x45, 0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c },
};

struct region { uint64_t start, end; };

struct vhdx {
    const char *path;
    gk_dev *file;                  /* the image file, or the log overlay  */
    uint32_t block_size, lss, chunk_ratio;
    struct gk_bat bat;             /* little-endian: offset | state        */
    struct region reg[8];
    int nreg;
    int info_only;
    int no_replay;                 /* GK_OPEN_NO_REPLAY                    */
    uint64_t vsize;
    int replayed;                  /* check -r replayed the log at open    */
};

static uint32_t crc_table[256];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0x82f63b78u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t gk_crc32c(const void *buf, size_t n)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, crc_init);
    const uint32_t *t = crc_table;
    const uint8_t *p = buf;
    uint32_t c = 0xffffffffu;
    while (n--)
        c = t[(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

/* CRC-32C of buf with the 4 bytes at off taken as zero. */
static uint32_t csum_at(uint8_t *buf, size_t n, size_t off)
{
    uint8_t save[4];
    memcpy(save, buf + off, 4);
    memset(buf + off, 0, 4);
    uint32_t c = gk_crc32c(buf, n);
    memcpy(buf + off, save, 4);
    return c;
}

static int rd(gk_dev *f, void *buf, size_t n, uint64_t off)
{
    return gk_pread(f, buf, n, off) < 0 ? -errno : 0;
}

static int region_add(struct vhdx *v, uint64_t start, uint64_t len, const char *what)
{
    uint64_t end = start + len;
    if (end < start)
        return gk_fail(EINVAL, "%s: %s region at %" PRIu64 " overflows", v->path, what, start);
    for (int i = 0; i < v->nreg; i++)
        if (!(start >= v->reg[i].end || end <= v->reg[i].start))
            return gk_fail(EINVAL, "%s: %s region %" PRIu64 "-%" PRIu64 " overlaps region %" PRIu64 "-%" PRIu64,
                           v->path, what, start, end, v->reg[i].start, v->reg[i].end);
    if (v->nreg < (int)(sizeof v->reg / sizeof v->reg[0]))
        v->reg[v->nreg++] = (struct region){ start, end };
    return 0;
}

static int region_clear(struct vhdx *v, uint64_t start, uint64_t len)
{
    for (int i = 0; i < v->nreg; i++)
        if (!(start >= v->reg[i].end || start + len <= v->reg[i].start))
            return -1;
    return 0;
}

/* ---- the BAT: entries, reading ---- */

/* A VHDX entry: its low 3 bits the block's state, the rest the file
 * offset (MiB aligned) of a fully present block.  Not present, undefined,
 * zero and unmapped (5: draft 0.95) read as zeros. */
static uint64_t vhdx_host(const struct gk_bat *b, uint64_t i, uint64_t raw)
{
    (void)b;
    (void)i;
    switch (raw & 7) {
    case BAT_FULLY_PRESENT: return raw & BAT_OFF_MASK;
    case 0: case 1: case 2: case 3: case 5: return GK_BAT_ABSENT;
    default: return GK_BAT_BAD;
    }
}

static int vhdx_refuse(const struct gk_bat *b, uint64_t blk, uint64_t raw)
{
    return gk_fail(EIO, "%s: block %" PRIu64 " is %s (differencing images are not supported)", b->path, blk,
                   (raw & 7) == BAT_PARTIALLY_PRESENT ? "partially present" : "in an invalid state");
}

static uint64_t vhdx_entry(const struct gk_bat *b, uint64_t at)
{
    return at > BAT_OFF_MASK - b->block ? GK_BAT_BAD : at | BAT_FULLY_PRESENT;
}

static const struct gk_bat_ops vhdx_bat_ops = {
    .host = vhdx_host, .refuse = vhdx_refuse, .entry = vhdx_entry,
};

static int vhdx_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    struct vhdx *v = d->priv;
    if (v->info_only)
        return gk_fail(EIO, "%s: image opened for its details only, not for reading", v->path);
    return gk_bat_pread(&v->bat, v->file, buf, n, off);
}

/* ---- writing ---- */

/* Write (buf) or zero (buf NULL) [off, off+n): in place in present blocks;
 * a block not present gets one (gk_bat_append: the file grown to hold it,
 * so it reads as zeros, then its entry; a crash in between leaves an
 * unreferenced block at the end of the file, which qemu-img check
 * accepts), unless it is only zeroed. */
static int vhdx_write(gk_dev *d, const uint8_t *buf, uint64_t n, uint64_t off)
{
    struct vhdx *v = d->priv;
    while (n > 0) {
        uint64_t blk = off / v->block_size, in = off % v->block_size;
        uint64_t len = n < v->block_size - in ? n : v->block_size - in;
        uint64_t i = gk_bat_index(&v->bat, blk);
        if (i >= v->bat.n)
            return gk_fail(EIO, "%s: block %" PRIu64 " has no BAT entry", v->path, blk);
        uint64_t at = vhdx_host(&v->bat, i, gk_bat_raw(&v->bat, i));
        if (at == GK_BAT_BAD)
            return gk_fail(EIO, "%s: block %" PRIu64 " is in a state guestkit does not write (%u)", v->path, blk,
                           (unsigned)(gk_bat_raw(&v->bat, i) & 7));
        if (at == GK_BAT_ABSENT && buf) { /* zeros need no block */
            int rc = gk_bat_append(&v->bat, v->file, i);
            if (rc < 0)
                return rc;
            at = vhdx_host(&v->bat, i, gk_bat_raw(&v->bat, i));
        }
        if (at != GK_BAT_ABSENT) {
            at += in;
            if ((buf ? gk_pwrite(v->file, buf, len, at) : gk_pwrite_zeroes(v->file, at, len, 0)) < 0)
                return -errno;
        }
        if (buf)
            buf += len;
        off += len;
        n -= len;
    }
    return 0;
}

static int vhdx_pwrite(gk_dev *d, const void *buf, size_t n, uint64_t off)
{
    return vhdx_write(d, buf, n, off);
}

static int vhdx_pwrite_zeroes(gk_dev *d, uint64_t off, uint64_t len, unsigned flags)
{
    (void)flags;
    return vhdx_write(d, NULL, len, off);
}

static int vhdx_flush(gk_dev *d)
{
    return gk_flush(d->file) < 0 ? -errno : 0;
}

static void vhdx_close(gk_dev *d)
{
    struct vhdx *v = d->priv;
    if (v)
        gk_bat_clear(&v->bat);
    free(v);
}

static const struct gk_dev_ops vhdx_ops = {
    .name = "vhdx",
    .pread = vhdx_pread,
    .pwrite = vhdx_pwrite,
    .pwrite_zeroes = vhdx_pwrite_zeroes,
    .flush = vhdx_flush,
    .close = vhdx_close,
};

static int vhdx_probe(const uint8_t *b, size_t len, const char *name)
{
    (void)name;
    return len >= 8 && memcmp(b, "vhdxfile", 8) == 0 ? 100 : 0;
}

/* ---- opening ---- */

static int read_headers(struct vhdx *v, gk_dev *file, uint8_t *cur)
{
    uint8_t (*h)[4096] = gk_malloc(2 * 4096);
    int valid[2] = { 0, 0 }, rc = 0;
    for (int i = 0; i < 2; i++) {
        if ((rc = rd(file, h[i], 4096, (i + 1) * 64 * KiB)) < 0) {
            free(h);
            return rc;
        }
        valid[i] = memcmp(h[i], "head", 4) == 0 && gk_le32(h[i] + 4) == csum_at(h[i], 4096, 4) &&
                   gk_le16(h[i] + 66) == 1;
    }
    int c;
    if (valid[0] && valid[1]) {
        uint64_t s0 = gk_le64(h[0] + 8), s1 = gk_le64(h[1] + 8);
        if (s0 != s1)
            c = s0 > s1 ? 0 : 1;
        else if (memcmp(h[0], h[1], 80) == 0)
            c = 0; /* Disk2VHD writes two identical headers */
        else
            c = -1, rc = gk_fail(EINVAL, "%s: both VHDX headers are valid with the same sequence number", v->path);
    } else if (valid[0] || valid[1]) {
        c = valid[0] ? 0 : 1;
    } else {
        c = -1, rc = gk_fail(EINVAL, "%s: no valid VHDX header found", v->path);
    }
    if (c >= 0)
        memcpy(cur, h[c], 4096);
    free(h);
    return rc;
}

static int read_regions(struct vhdx *v, gk_dev *file, uint64_t *bat_off, uint32_t *bat_len, uint64_t *meta_off,
                        uint32_t *meta_len)
{
    uint8_t *t = gk_malloc(64 * KiB);
    int rc = rd(file, t, 64 * KiB, 192 * KiB), bat = 0, meta = 0;
    if (rc < 0)
        goto out;
    rc = -EINVAL;
    if (memcmp(t, "regi", 4) != 0 || gk_le32(t + 4) != csum_at(t, 64 * KiB, 4)) {
        gk_fail(EINVAL, "%s: invalid VHDX region table (signature or checksum)", v->path);
        goto out;
    }
    uint32_t n = gk_le32(t + 8);
    if (n > VHDX_MAX_ENTRIES) {
        gk_fail(EINVAL, "%s: VHDX region table has too many entries (%" PRIu32 ")", v->path, n);
        goto out;
    }
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = t + 16 + 32 * i;
        uint64_t off = gk_le64(e + 16);
        uint32_t len = gk_le32(e + 24), bits = gk_le32(e + 28);
        if ((rc = region_add(v, off, len, "a table")) < 0)
            goto out;
        rc = -EINVAL;
        if (memcmp(e, gk_vhdx_guid_bat, 16) == 0 || memcmp(e, gk_vhdx_guid_meta, 16) == 0) {
            int is_bat = memcmp(e, gk_vhdx_guid_bat, 16) == 0;
            if (is_bat ? bat++ : meta++) {
                gk_fail(EINVAL, "%s: the VHDX region table names the %s region twice", v->path,
                        is_bat ? "BAT" : "metadata");
                goto out;
            }
            *(is_bat ? bat_off : meta_off) = off;
            *(is_bat ? bat_len : meta_len) = len;
        } else if (bits & 1) {
            rc = gk_fail(ENOTSUP, "%s: the VHDX region table requires a region guestkit does not know", v->path);
            goto out;
        }
    }
    if (!bat || !meta) {
        gk_fail(EINVAL, "%s: the VHDX region table lacks the %s region", v->path, bat ? "metadata" : "BAT");
        goto out;
    }
    rc = 0;
out:
    free(t);
    return rc;
}

static int read_metadata(struct vhdx *v, gk_dev *file, uint64_t moff, uint32_t mlen, uint64_t *vsize)
{
    uint8_t *t = gk_malloc(64 * KiB);
    int rc = rd(file, t, 64 * KiB, moff);
    if (rc < 0)
        goto out;
    rc = -EINVAL;
    if (memcmp(t, "metadata", 8) != 0) {
        gk_fail(EINVAL, "%s: invalid VHDX metadata table signature", v->path);
        goto out;
    }
    uint16_t n = gk_le16(t + 10);
    if (n > VHDX_MAX_ENTRIES) {
        gk_fail(EINVAL, "%s: VHDX metadata table has too many entries (%u)", v->path, n);
        goto out;
    }
    uint32_t at[M_N] = { 0 }, len[M_N] = { 0 };
    unsigned present = 0;
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *e = t + 32 + 32 * i;
        int k;
        for (k = 0; k < M_N; k++)
            if (memcmp(e, gk_vhdx_guid_items[k], 16) == 0)
                break;
        if (k == M_N) {
            if (gk_le32(e + 24) & 4) {
                rc = gk_fail(ENOTSUP, "%s: VHDX metadata requires an item guestkit does not know", v->path);
                goto out;
            }
            continue;
        }
        if (present & (1u << k)) {
            gk_fail(EINVAL, "%s: VHDX metadata item %d appears twice", v->path, k);
            goto out;
        }
        present |= 1u << k;
        at[k] = gk_le32(e + 16);
        len[k] = gk_le32(e + 20);
    }
    if ((present & 0x1f) != 0x1f) {
        rc = gk_fail(ENOTSUP, "%s: VHDX metadata lacks a required item", v->path);
        goto out;
    }
    static const uint32_t need[M_N] = { 8, 8, 16, 4, 4, 0 };
    for (int k = 0; k < M_PARENT; k++) {
        if (len[k] < need[k] || at[k] > mlen || mlen - at[k] < need[k]) {
            gk_fail(EINVAL, "%s: VHDX metadata item %d lies outside the metadata region", v->path, k);
            goto out;
        }
    }
    uint8_t b[8];
    if ((rc = rd(file, b, 8, moff + at[M_PARAMS])) < 0)
        goto out;
    v->block_size = gk_le32(b);
    uint32_t bits = gk_le32(b + 4);
    if (bits & 2) {
        rc = present & (1u << M_PARENT)
                 ? gk_fail(ENOTSUP, "%s: differencing VHDX images (with a parent) are not supported", v->path)
                 : gk_fail(EINVAL, "%s: VHDX says it has a parent but has no parent locator", v->path);
        goto out;
    }
    if ((rc = rd(file, b, 8, moff + at[M_VSIZE])) < 0)
        goto out;
    *vsize = gk_le64(b);
    if ((rc = rd(file, b, 4, moff + at[M_LSS])) < 0)
        goto out;
    v->lss = gk_le32(b);
    if ((rc = rd(file, b, 4, moff + at[M_PSS])) < 0)
        goto out;
    uint32_t pss = gk_le32(b);
    rc = -EINVAL;
    if ((v->lss != 512 && v->lss != 4096) || (pss != 512 && pss != 4096)) {
        gk_fail(EINVAL, "%s: invalid VHDX sector sizes (logical %" PRIu32 ", physical %" PRIu32 ")", v->path,
                v->lss, pss);
        goto out;
    }
    if (v->block_size < MiB || v->block_size > 256 * MiB || (v->block_size & (v->block_size - 1))) {
        gk_fail(EINVAL, "%s: invalid VHDX block size %" PRIu32, v->path, v->block_size);
        goto out;
    }
    v->chunk_ratio = (uint32_t)((8ULL * MiB * v->lss) / v->block_size);
    rc = 0;
out:
    free(t);
    return rc;
}

/* qemu's vhdx_check_bat_entries: every fully present block starts and
 * ends in the file (the last one may be short: qemu measures it from the
 * entry's index, sector bitmap entries included).  r NULL (opening): the
 * first one that does not fails with qemu's message; else each is a
 * corruption, with that message, as qemu-img check counts them.  The
 * check also counts a block (a whole one) over the log or a region of the
 * table, the first such region named as qemu names it (opening refuses
 * those in vhdx_open_all). */
static int bat_in_file(struct vhdx *v, gk_check_result *r)
{
    uint64_t fsize = v->file->size, bs = v->block_size, off = 0, end = 0, out = 0;
    int more = gk_bat_outside(&v->bat, fsize, v->vsize, &out, &off, &end);
    /* opening: only the blocks outside the file; the check: every entry,
     * in order, as qemu reports them */
    for (uint64_t i = r ? 0 : out; r ? i < v->bat.n : more; i = r ? i + 1 : out) {
        char *m[3] = { NULL, NULL, NULL };
        if (more && out == i) {
            if (off > (uint64_t)INT64_MAX - bs)
                m[0] = gk_asprintf("VHDX BAT entry %" PRIu64 " offset points after end of file. Image has "
                                   "probably been truncated.", i);
            if (off >= fsize)
                m[1] = gk_asprintf("VHDX BAT entry %" PRIu64 " start offset %" PRIu64 " points after end of file (%"
                                   PRIu64 "). Image has probably been truncated.", i, off, fsize);
            else
                m[1] = gk_asprintf("VHDX BAT entry %" PRIu64 " end offset %" PRIu64 " points after end of file (%"
                                   PRIu64 "). Image has probably been truncated.", i, end - 1, fsize); /* qemu's last byte */
            out = i + 1;
            more = gk_bat_outside(&v->bat, fsize, v->vsize, &out, &off, &end);
        }
        uint64_t at = r ? vhdx_host(&v->bat, i, gk_bat_raw(&v->bat, i)) : GK_BAT_BAD;
        for (int k = 0; at < GK_BAT_BAD && k < v->nreg && !m[2]; k++) {
            uint64_t aend = at + bs; /* wraps as qemu's */
            if (!(at >= v->reg[k].end || aend <= v->reg[k].start))
                m[2] = gk_asprintf("VHDX region %" PRIu64 "-%" PRIu64 " overlaps with region %" PRIu64 "-%" PRIu64,
                                   at, aend, v->reg[k].start, v->reg[k].end);
        }
        for (int k = 0; k < 3; k++) {
            if (!m[k])
                continue;
            if (!r) {
                int rc = gk_fail(EINVAL, "%s: %s", v->path, m[k]);
                for (int j = 0; j < 3; j++)
                    free(m[j]);
                return rc;
            }
            r->messages = gk_realloc(r->messages, (size_t)(r->nmessages + 1) * sizeof *r->messages);
            r->messages[r->nmessages++] = gk_asprintf("%s: %s", gk_progname, m[k]);
            r->corruptions++;
            free(m[k]);
        }
    }
    return 0;
}

static int vhdx_open_all(struct vhdx *v, gk_dev *d, gk_dev *file, int check)
{
    uint8_t sig[8];
    int rc;
    if (file->size < MiB)
        return gk_fail(EINVAL, "%s: file too small for a VHDX image", v->path);
    if ((rc = rd(file, sig, 8, 0)) < 0)
        return rc;
    if (memcmp(sig, "vhdxfile", 8) != 0)
        return gk_fail(EINVAL, "%s: not a VHDX image (no file signature)", v->path);
    uint8_t h[4096];
    if ((rc = read_headers(v, file, h)) < 0)
        return rc;
    v->nreg = 0;
    /* qemu 7.2 does not hold the header section against the regions or
     * the blocks (it reads the headers as data there): qemu-img info and
     * check open an image whose BAT (or a block) lies there, and so do
     * gimg info and check; reads refuse it */
    if (!check && !v->info_only)
        region_add(v, 0, MiB, "header");
    uint64_t log_off = gk_le64(h + 72);
    uint32_t log_len = gk_le32(h + 68);
    if (log_len && (rc = region_add(v, log_off, log_len, "log")) < 0)
        return rc;
    /* a log to replay: the file is read through the replayed log */
    v->file = file;
    gk_dev *ov = NULL;
    if ((rc = gk_vhdx_log_open(file, h, !v->no_replay, &ov)) < 0)
        return rc;
    if (ov) {
        gk_dev_add_kid(d, ov);
        v->file = ov;
    }
    uint64_t bat_off = 0, meta_off = 0, vsize = 0;
    uint32_t bat_len = 0, meta_len = 0;
    if ((rc = read_regions(v, v->file, &bat_off, &bat_len, &meta_off, &meta_len)) < 0)
        return rc;
    if ((rc = read_metadata(v, v->file, meta_off, meta_len, &vsize)) < 0)
        return rc;
    if (vsize > 64ULL << 40 || vsize % v->lss)
        return gk_fail(EINVAL, "%s: invalid VHDX virtual disk size %" PRIu64, v->path, vsize);
    d->size = v->vsize = vsize;
    uint64_t data_blocks = (vsize + v->block_size - 1) / v->block_size;
    uint64_t entries = gk_vhdx_bat_entries(data_blocks, v->chunk_ratio);
    if (entries > bat_len / 8)
        return gk_fail(EINVAL, "%s: the VHDX BAT region is too small (%" PRIu32 " bytes for %" PRIu64 " entries)",
                       v->path, bat_len, entries);
    if (gk_bat_room(v->file->size, bat_off, 8) < entries)
        return gk_fail(EINVAL, "%s: the VHDX BAT lies past the end of the file", v->path);
    v->bat = (struct gk_bat){ .path = v->path, .ops = &vhdx_bat_ops, .fmt = v, .block = v->block_size,
                              .n = entries, .per_bitmap = v->chunk_ratio, .width = 8, .off = bat_off,
                              .align = MiB };
    if ((rc = gk_bat_load(&v->bat, v->file, entries)) < 0)
        return rc;
    /* new blocks go past the regions, the file and every block */
    uint64_t next = file->size;
    for (int i = 0; i < v->nreg; i++)
        if (v->reg[i].end > next)
            next = v->reg[i].end;
    /* blocks past the end of the file: refused, as qemu refuses them, but
     * by the check (qemu-img check counts them) */
    if (!check && (rc = bat_in_file(v, NULL)) < 0)
        return rc;
    uint64_t bend = gk_bat_blocks_end(&v->bat);
    v->bat.next = bend > next ? bend : next;
    for (uint64_t i = 0; i < entries; i++) {
        uint64_t off = vhdx_host(&v->bat, i, gk_bat_raw(&v->bat, i)), blen = v->block_size;
        if (off >= GK_BAT_BAD)
            continue;
        /* qemu accepts a last block that is only partly in the file */
        uint64_t blk = i - i / (v->chunk_ratio + 1);
        if (vsize - blk * v->block_size < blen)
            blen = vsize - blk * v->block_size;
        if (off > v->file->size || blen > v->file->size - off)
            continue; /* check mode: bat_in_file counts it */
        /* over the log or a table region: refused, as qemu refuses it
         * (the check counts it in bat_in_file) */
        if (!check && region_clear(v, off, blen) < 0)
            return gk_fail(EINVAL, "%s: VHDX BAT entry %" PRIu64 " overlaps the image's metadata", v->path, i);
    }
    return 0;
}

static gk_dev *vhdx_open(gk_dev *file, gk_open_ctx *ctx)
{
    if (ctx->snapshot || ctx->snapshot_id || ctx->snapshot_name) {
        gk_error("%s: vhdx images have no internal snapshots", file->name);
        errno = ENOTSUP;
        return NULL;
    }
    struct vhdx *v = gk_calloc(1, sizeof *v);
    v->path = file->name;
    v->info_only = !!(ctx->flags & GK_OPEN_INFO);
    v->no_replay = !ctx->readwrite && (ctx->flags & GK_OPEN_NO_REPLAY);
    gk_dev *d = gk_dev_new(&vhdx_ops, file->name, 0, v);
    /* check -r opens as the check does (blocks past the end counted) */
    int check = !!(ctx->flags & (GK_OPEN_CHECK | GK_OPEN_REPAIR));
    int rc = vhdx_open_all(v, d, file, check);
    if (rc < 0) {
        gk_dev_unref(d);
        errno = -rc;
        return NULL;
    }
    if (ctx->readwrite && v->file != file && (ctx->flags & GK_OPEN_REPAIR)) {
        /* check -r: the log goes into the file, then the image is read
         * from the file alone (qemu replays it when it opens for writing) */
        uint8_t h[4096];
        if ((rc = read_headers(v, file, h)) < 0 || (rc = gk_vhdx_log_replay(v->file, h)) < 0) {
            gk_dev_unref(d);
            errno = -rc;
            return NULL;
        }
        gk_dev_unref(d);
        v = gk_calloc(1, sizeof *v);
        v->path = file->name;
        v->replayed = 1;
        d = gk_dev_new(&vhdx_ops, file->name, 0, v);
        if ((rc = vhdx_open_all(v, d, file, check)) < 0 || v->file != file) {
            if (rc == 0)
                rc = gk_fail(EIO, "%s: the VHDX log still needs replaying after it was replayed", v->path);
            gk_dev_unref(d);
            errno = -rc;
            return NULL;
        }
    }
    if (ctx->readwrite && v->file != file) {
        gk_error("%s: the VHDX log needs replaying (qemu-img check -r all); not writing", v->path);
        gk_dev_unref(d);
        errno = EROFS;
        return NULL;
    }
    d->file = file;
    d->readonly = !ctx->readwrite;
    return d;
}

/* qemu-img check, as qemu 7.2's vhdx_co_check: blocks past the end of the
 * file (which opening outside the check refuses) are corruptions, each
 * with qemu's message; nothing else is looked at.  A log that needs
 * replaying, which qemu-img check refuses to open, fails the check here. */
static int vhdx_check(gk_dev *d, gk_check_result *r)
{
    struct vhdx *v = d->priv;
    memset(r, 0, sizeof *r);
    if (v->file != d->file)
        return gk_fail(EINVAL, "%s: the VHDX log needs replaying (qemu-img check -r all replays it into the file)",
                       v->path);
    return bat_in_file(v, r);
}

/* qemu-img check -r, as qemu 7.2's vhdx: the check, and a log replayed when
 * the image was opened for the repair is one corruption fixed; nothing else
 * is repaired (blocks past the end of the file stay, counted). */
static int vhdx_repair(gk_dev *d, unsigned fix, gk_check_result *r)
{
    struct vhdx *v = d->priv;
    (void)fix;
    int rc = vhdx_check(d, r);
    r->corruptions_fixed = (uint64_t)v->replayed;
    return rc;
}

static int vhdx_info(gk_dev *d, gk_image_info *info)
{
    struct vhdx *v = d->priv;
    info->format = "vhdx";
    info->filename = gk_strdup(d->name);
    info->virtual_size = d->size;
    if (d->file->ops->get_allocated)
        d->file->ops->get_allocated(d->file, &info->actual_size);
    info->cluster_size = v->block_size;
    return 0;
}

const struct gk_format gk_vhdx_format = {
    .name = "vhdx",
    .probe = vhdx_probe,
    .open = vhdx_open,
    .info = vhdx_info,
    .check = vhdx_check,
    .repair = vhdx_repair,
    .create = gk_vhdx_create,
    .create_opts = gk_vhdx_create_opts,
};
