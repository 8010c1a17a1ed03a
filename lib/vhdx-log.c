/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VHDX log, replayed in memory.  A VHDX file whose writer stopped
 * before its metadata reached its place holds the missing sectors in the
 * log; qemu refuses to open such a file read-only ("qemu-img check -r all"
 * replays it, writing the file).  Reading never writes: the active sequence
 * of log entries is found and checked, and its sectors are laid over the
 * file in an overlay device that the format reads instead of the file;
 * only check -r writes them into the file (gk_vhdx_log_replay).
 *
 * The active sequence: of the valid entries (signature, length, the
 * header's log GUID, CRC-32C over the entry, data sectors carrying the
 * entry's sequence number), the one with the highest sequence number is
 * the head; the sequence runs back from it through the entries that end
 * where the next begins with the sequence number before it, down to the
 * head's tail (or as far as such entries go: qemu replays a head whose
 * tail names nothing too).  Entries are replayed oldest first.
 *
 * Bounds (HACKING Resources): logs of at most 64 MiB (qemu makes 1 MiB);
 * entries are scanned once per 4 KiB of log; the overlay holds at most the
 * log's data sectors (memory ≤ the log's size). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "blk-int.h"

#define SECTOR 4096u
#define LOG_MAX (64u << 20)

struct patch {
    uint64_t off, len;             /* a 4 KiB data sector, or a zeroed range */
    uint8_t *data;                 /* NULL: zeros                            */
};

struct overlay {
    gk_dev *base;
    struct patch *p;
    size_t n;
};

static int ov_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    struct overlay *o = d->priv;
    size_t base_n = off >= o->base->size ? 0 : (o->base->size - off < n ? (size_t)(o->base->size - off) : n);
    if (base_n && gk_pread(o->base, buf, base_n, off) < 0)
        return -errno;
    memset((uint8_t *)buf + base_n, 0, n - base_n);
    /* the patches in log order, later ones over earlier ones */
    for (size_t i = 0; i < o->n; i++) {
        const struct patch *p = &o->p[i];
        if (p->off >= off + n || p->off + p->len <= off)
            continue;
        uint64_t s = p->off > off ? p->off : off, e = p->off + p->len < off + n ? p->off + p->len : off + n;
        if (p->data)
            memcpy((uint8_t *)buf + (s - off), p->data + (s - p->off), e - s);
        else
            memset((uint8_t *)buf + (s - off), 0, e - s);
    }
    return 0;
}

static void ov_close(gk_dev *d)
{
    struct overlay *o = d->priv;
    for (size_t i = 0; i < o->n; i++)
        free(o->p[i].data);
    free(o->p);
    gk_dev_unref(o->base);
    free(o);
}

static const struct gk_dev_ops overlay_ops = {
    .name = "vhdx-log",
    .pread = ov_pread,
    .close = ov_close,
};

/* One entry of the log, read from the circular log at pos. */
struct entry {
    uint64_t pos, seq;
    uint32_t len, tail, ndesc;
    uint64_t last_file_offset;
};

static int read_log(gk_dev *f, uint64_t log_off, uint32_t log_len, uint64_t pos, uint8_t *buf, uint32_t n)
{
    /* entries may wrap around the end of the log */
    uint32_t first = n < log_len - pos ? n : (uint32_t)(log_len - pos);
    if (gk_pread(f, buf, first, log_off + pos) < 0)
        return -1;
    if (n > first && gk_pread(f, buf + first, n - first, log_off) < 0)
        return -1;
    return 0;
}

static uint32_t desc_sectors(uint32_t ndesc)
{
    return (uint32_t)(((uint64_t)ndesc + 2 + 127) / 128);
}

/* Is there a valid entry at pos?  Fills e; buf gets the whole entry. */
static int valid_entry(gk_dev *f, uint64_t log_off, uint32_t log_len, const uint8_t *guid, uint64_t pos,
                       uint8_t **buf, struct entry *e)
{
    uint8_t h[64];
    if (read_log(f, log_off, log_len, pos, h, 64) < 0 || memcmp(h, "loge", 4) != 0)
        return 0;
    e->pos = pos;
    e->len = gk_le32(h + 8);
    e->tail = gk_le32(h + 12);
    e->seq = gk_le64(h + 16);
    e->ndesc = gk_le32(h + 24);
    e->last_file_offset = gk_le64(h + 56);
    if (e->len < SECTOR || e->len % SECTOR || e->len > log_len || e->tail % SECTOR || e->tail >= log_len ||
        e->seq == 0 || memcmp(h + 32, guid, 16) != 0 || e->ndesc > e->len / 32)
        return 0;
    uint32_t ds = desc_sectors(e->ndesc);
    if ((uint64_t)ds * SECTOR > e->len)
        return 0;
    *buf = gk_realloc(*buf, e->len);
    if (read_log(f, log_off, log_len, pos, *buf, e->len) < 0)
        return 0;
    uint8_t *b = *buf;
    uint32_t sum = gk_le32(b + 4);
    memset(b + 4, 0, 4);
    uint32_t c = gk_crc32c(b, e->len);
    if (c != sum)
        return 0;
    /* descriptors, and the data sectors they use */
    uint32_t ndata = 0;
    for (uint32_t i = 0; i < e->ndesc; i++) {
        const uint8_t *d = b + 64 + 32 * i;
        if (gk_le64(d + 24) != e->seq)
            return 0;
        if (memcmp(d, "desc", 4) == 0)
            ndata++;
        else if (memcmp(d, "zero", 4) != 0)
            return 0;
    }
    if ((uint64_t)(ds + ndata) * SECTOR > e->len)
        return 0;
    for (uint32_t k = 0; k < ndata; k++) {
        const uint8_t *s = b + (uint64_t)(ds + k) * SECTOR;
        if (memcmp(s, "data", 4) != 0 || gk_le32(s + 4) != (uint32_t)(e->seq >> 32) ||
            gk_le32(s + 4092) != (uint32_t)e->seq)
            return 0;
    }
    return 1;
}

static int add_patch(struct overlay *o, size_t *cap, uint64_t off, uint64_t len, uint8_t *data)
{
    if (o->n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        o->p = gk_realloc(o->p, *cap * sizeof *o->p);
    }
    o->p[o->n++] = (struct patch){ off, len, data };
    return 0;
}

int gk_vhdx_log_open(gk_dev *file, const uint8_t *hdr, int replay, gk_dev **out)
{
    static const uint8_t null_guid[16];
    const char *path = file->name;
    *out = NULL;
    const uint8_t *guid = hdr + 48;
    uint16_t log_version = gk_le16(hdr + 64);
    uint32_t log_len = gk_le32(hdr + 68);
    uint64_t log_off = gk_le64(hdr + 72);
    if (memcmp(guid, null_guid, 16) == 0 || log_len == 0)
        return 0; /* nothing to replay */
    if (log_version != 0)
        return gk_fail(EINVAL, "%s: unsupported VHDX log version %u", path, log_version);
    if (log_off % (1u << 20) || log_len % (1u << 20))
        return gk_fail(EINVAL, "%s: VHDX log region not aligned to 1 MiB", path);
    if (log_len > LOG_MAX)
        return gk_fail(EFBIG, "%s: VHDX log of %" PRIu32 " bytes to replay (guestkit replays at most %u)", path,
                       log_len, LOG_MAX);
    if (log_off > file->size || log_len > file->size - log_off)
        return 0; /* it reads as zeros there: no valid entry, nothing to replay (qemu) */

    /* every valid entry; the head is the one with the highest sequence
     * number */
    uint8_t *buf = NULL;
    struct entry *all = gk_malloc((log_len / SECTOR) * sizeof *all), e;
    size_t nall = 0, head = 0;
    for (uint64_t pos = 0; pos < log_len; pos += SECTOR)
        if (valid_entry(file, log_off, log_len, guid, pos, &buf, &e)) {
            if (!nall || e.seq > all[head].seq)
                head = nall;
            all[nall++] = e;
        }
    if (!nall) {
        free(buf);
        free(all);
        return 0; /* a log with nothing valid in it: nothing to replay (qemu) */
    }
    /* the sequence: back from the head through entries that end where the
     * next begins, with the sequence number before it, to the head's tail
     * (qemu replays a head whose tail names no entry too: so do we) */
    size_t *seq = gk_malloc(nall * sizeof *seq), nseq = 0;
    seq[nseq++] = head;
    while (all[seq[nseq - 1]].pos != all[head].tail && nseq < nall) {
        const struct entry *x = &all[seq[nseq - 1]];
        size_t k;
        for (k = 0; k < nall; k++)
            if (all[k].seq == x->seq - 1 && (all[k].pos + all[k].len) % log_len == x->pos)
                break;
        if (k == nall)
            break;
        seq[nseq++] = k;
    }
    if (!replay) {
        free(seq);
        free(buf);
        free(all);
        return gk_fail(EROFS, "Could not open '%s': VHDX image file '%s' opened read-only, but contains a log "
                       "that needs to be replayed\nTo replay the log, run:\nqemu-img check -r all '%s'",
                       path, path, path);
    }
    static int warned;
    if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
        gk_warn("%s: the VHDX log needs replaying (the image was not closed cleanly): replayed in memory, the file "
                "is not changed", path);

    struct overlay *o = gk_calloc(1, sizeof *o);
    size_t cap = 0;
    uint64_t size = file->size;
    for (size_t i = nseq; i-- > 0;) {
        const struct entry *x = &all[seq[i]];
        valid_entry(file, log_off, log_len, guid, x->pos, &buf, &e);
        uint32_t ds = desc_sectors(x->ndesc), k = 0;
        for (uint32_t j = 0; j < x->ndesc; j++) {
            const uint8_t *d = buf + 64 + 32 * j;
            uint64_t foff = gk_le64(d + 16);
            if (memcmp(d, "zero", 4) == 0) {
                uint64_t zlen = gk_le64(d + 8);
                if (foff % SECTOR || zlen % SECTOR || foff > (1ULL << 50) || zlen > (1ULL << 50))
                    goto bad;
                add_patch(o, &cap, foff, zlen, NULL);
                if (foff + zlen > size)
                    size = foff + zlen;
            } else {
                if (foff % SECTOR || foff > (1ULL << 50))
                    goto bad;
                const uint8_t *s = buf + (uint64_t)(ds + k++) * SECTOR;
                uint8_t *sec = gk_malloc(SECTOR);
                memcpy(sec, d + 8, 8);          /* leading bytes  */
                memcpy(sec + 8, s + 8, 4084);   /* the sector's data */
                memcpy(sec + 4092, d + 4, 4);   /* trailing bytes */
                add_patch(o, &cap, foff, SECTOR, sec);
                if (foff + SECTOR > size)
                    size = foff + SECTOR;
            }
        }
        if (x->last_file_offset > size && x->last_file_offset <= (1ULL << 50))
            size = x->last_file_offset;
    }
    free(buf);
    free(all);
    free(seq);
    gk_dev_ref(file);
    o->base = file;
    gk_dev *d = gk_dev_new(&overlay_ops, file->name, (size + 511) & ~511ULL, o);
    d->growable = 1;
    *out = d;
    return 0;
bad:
    free(buf);
    free(all);
    free(seq);
    for (size_t i = 0; i < o->n; i++)
        free(o->p[i].data);
    free(o->p);
    free(o);
    return gk_fail(EINVAL, "%s: the VHDX log holds a descriptor with a bad file offset or length", path);
}

/* qemu-img check -r (qemu's vhdx_log_flush and vhdx_log_reset): the
 * replayed sectors written into the file in log order, the file grown to
 * hold them (a last file offset that is not MiB aligned rounded up, as
 * qemu does), flushed; then both headers written in turn, each with the
 * next sequence number, a new file write GUID and no log GUID: the log is
 * empty.  A kill before the headers leaves the log to replay again (the
 * writes are idempotent); between the two headers, the newer one rules. */
int gk_vhdx_log_replay(gk_dev *overlay, const uint8_t *hdr)
{
    struct overlay *o = overlay->priv;
    gk_dev *f = o->base;
    const char *path = f->name;
    uint64_t end = f->size;
    for (size_t i = 0; i < o->n; i++) {
        const struct patch *p = &o->p[i];
        int bad = p->data ? gk_pwrite(f, p->data, p->len, p->off) < 0 : gk_pwrite_zeroes(f, p->off, p->len, 0) < 0;
        if (bad)
            return gk_fail(errno, "%s: replaying the VHDX log: %s", path, gk_errmsg());
    }
    if (overlay->size > end && f->size < ((overlay->size + (1u << 20) - 1) & ~((1ULL << 20) - 1)) &&
        gk_truncate(f, (overlay->size + (1u << 20) - 1) & ~((1ULL << 20) - 1), GK_PREALLOC_OFF) < 0)
        return -errno;
    if (gk_flush(f) < 0)
        return -errno;
    /* the current header's slot: the one holding its sequence number */
    uint8_t cur[SECTOR], other[SECTOR];
    int slot = 0;
    if (gk_pread(f, other, SECTOR, 64 << 10) < 0)
        return -errno;
    if (memcmp(other, "head", 4) != 0 || gk_le64(other + 8) != gk_le64(hdr + 8))
        slot = 1;
    memcpy(cur, hdr, SECTOR);
    uint8_t guid[16];
    if (getrandom(guid, sizeof guid, 0) != (ssize_t)sizeof guid)
        return gk_fail(EIO, "%s: no random bytes for the file write GUID", path);
    guid[6] = (uint8_t)((guid[6] & 0x0f) | 0x40); /* version 4 */
    guid[8] = (uint8_t)((guid[8] & 0x3f) | 0x80);
    for (int k = 0; k < 2; k++) {
        uint64_t seq = gk_le64(cur + 8) + 1;
        for (int b = 0; b < 8; b++)
            cur[8 + b] = (uint8_t)(seq >> (8 * b));
        memcpy(cur + 16, guid, 16);
        memset(cur + 48, 0, 16);
        memset(cur + 4, 0, 4);
        uint32_t c = gk_crc32c(cur, SECTOR);
        for (int b = 0; b < 4; b++)
            cur[4 + b] = (uint8_t)(c >> (8 * b));
        slot ^= 1;
        if (gk_pwrite(f, cur, SECTOR, slot ? 128 << 10 : 64 << 10) < 0 || gk_flush(f) < 0)
            return -errno;
    }
    return 0;
}
