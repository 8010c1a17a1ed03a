/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Btrfs file data: the extent map of a file (its EXTENT_DATA items) and
 * reads through it.  Inline extents live in the tree leaf; regular ones
 * on disk, shared or not, possibly compressed (zlib, lzo, zstd; at most
 * 128 KiB of output per extent, as the kernel writes them); prealloc
 * extents and holes (gaps, or regular extents at disk address 0) read as
 * zeros.
 *
 * The map of the last file read is kept (sequential readers map a file
 * once), and the last few decompressed extents (a read of 64 KiB must not
 * decompress a 128 KiB extent twice).  Data checksums are not verified:
 * tree blocks are.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lzo/lzo1x.h>
#include <zlib.h>
#include <zstd.h>

#include "btrfs-int.h"

/* ------------------------------------------------------------------ */
/* Decompression                                                       */

static int unzlib(const uint8_t *in, size_t n, uint8_t *out, size_t outlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK)
        return bt_fail(EIO, "zlib: cannot initialise");
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)outlen;
    int r;
    do {
        r = inflate(&zs, Z_SYNC_FLUSH);
    } while (r == Z_OK && zs.avail_out > 0 && zs.avail_in > 0);
    size_t got = outlen - zs.avail_out;
    /* The output is full but the stream has not ended: btrfs writes each
     * extent as one finished stream, so the end (and its Adler-32, which
     * is what catches overwritten bytes) must follow with nothing more to
     * produce.  The kernel refuses anything short of Z_STREAM_END too. */
    if (r == Z_OK && zs.avail_out == 0) {
        uint8_t spare;
        zs.next_out = &spare;
        zs.avail_out = 1;
        r = inflate(&zs, Z_SYNC_FLUSH);
        if (zs.avail_out == 0)
            r = Z_DATA_ERROR;
    }
    inflateEnd(&zs);
    if (r != Z_STREAM_END)
        return bt_fail(EIO, "zlib: corrupt compressed data");
    memset(out + got, 0, outlen - got);
    return 0;
}

/* Btrfs' lzo framing: a 4-byte total length, then segments of a 4-byte
 * length and LZO1X data, each at most one sector of output; a segment
 * header never straddles a sector boundary (the tail is zero padding). */
static int unlzo(const uint8_t *in, size_t n, uint8_t *out, size_t outlen, uint32_t sectorsize)
{
    static int inited;
    if (!inited) {
        if (lzo_init() != LZO_E_OK)
            return bt_fail(EIO, "lzo: cannot initialise");
        inited = 1;
    }
    if (n < 4)
        return bt_fail(EIO, "lzo: truncated compressed data");
    size_t tot = gk_le32(in);
    if (tot > n || tot < 4)
        return bt_fail(EIO, "lzo: bad total length %zu (extent holds %zu)", tot, n);
    size_t pos = 4, done = 0;
    while (pos < tot && done < outlen) {
        size_t left = sectorsize - pos % sectorsize;
        if (left < 4) {
            pos += left;
            if (pos >= tot)
                break;
        }
        if (tot - pos < 4)
            return bt_fail(EIO, "lzo: truncated segment header");
        size_t seg = gk_le32(in + pos);
        pos += 4;
        if (seg == 0 || seg > tot - pos || seg > sectorsize + sectorsize / 16 + 64 + 3)
            return bt_fail(EIO, "lzo: bad segment length %zu", seg);
        lzo_uint olen = outlen - done < sectorsize ? outlen - done : sectorsize;
        int r = lzo1x_decompress_safe(in + pos, seg, out + done, &olen, NULL);
        if (r != LZO_E_OK && r != LZO_E_OUTPUT_OVERRUN)
            return bt_fail(EIO, "lzo: corrupt compressed data (%d)", r);
        done += olen;
        pos += seg;
    }
    memset(out + done, 0, outlen - done);
    return 0;
}

static int unzstd(btrfs *b, const uint8_t *in, size_t n, uint8_t *out, size_t outlen)
{
    if (!b->zstd) {
        ZSTD_DCtx *z = ZSTD_createDCtx();
        if (!z)
            return bt_fail(ENOMEM, "zstd: cannot allocate");
        /* the kernel compresses with a 128 KiB window at most: a frame
         * asking for more is not one of its, and must not cost memory */
        ZSTD_DCtx_setParameter(z, ZSTD_d_windowLogMax, 17);
        b->zstd = z;
    }
    ZSTD_DCtx *z = b->zstd;
    ZSTD_DCtx_reset(z, ZSTD_reset_session_only);
    ZSTD_inBuffer ib = {in, n, 0};
    ZSTD_outBuffer ob = {out, outlen, 0};
    for (;;) {
        size_t r = ZSTD_decompressStream(z, &ob, &ib);
        if (ZSTD_isError(r))
            return bt_fail(EIO, "zstd: %s", ZSTD_getErrorName(r));
        if (r == 0 || ob.pos == ob.size)
            break;
        if (ib.pos == ib.size)
            return bt_fail(EIO, "zstd: truncated compressed data");
    }
    memset(out + ob.pos, 0, outlen - ob.pos);
    return 0;
}

int bt_decompress(btrfs *b, int method, const uint8_t *in, size_t n, uint8_t *out, size_t outlen)
{
    switch (method) {
    case 1: return unzlib(in, n, out, outlen);
    case 2: return unlzo(in, n, out, outlen, b->sectorsize);
    case 3: return unzstd(b, in, n, out, outlen);
    default: return bt_fail(EOPNOTSUPP, "unknown compression type %d", method);
    }
}

void bt_data_close(btrfs *b)
{
    bt_map_clear(b);
    for (int i = 0; i < BT_DCACHE_N; i++)
        free(b->dc[i].data);
    memset(b->dc, 0, sizeof b->dc);
    if (b->zstd)
        ZSTD_freeDCtx(b->zstd);
    b->zstd = NULL;
    free(b->cbuf);
    b->cbuf = NULL;
}

/* ------------------------------------------------------------------ */
/* The extent map                                                      */

void bt_map_clear(btrfs *b)
{
    for (size_t i = 0; i < b->nmap; i++)
        free(b->map[i].inl);
    free(b->map);
    b->map = NULL;
    b->nmap = 0;
    b->map_valid = 0;
}

static const char *const comp_names[] = {"none", "zlib", "lzo", "zstd"};

/* Check one EXTENT_DATA item of the file at file offset off and fill e.
 * 0, 1 to skip it (a zero-length hole), or -EIO. */
static int parse_extent(btrfs *b, uint64_t off, const uint8_t *d, uint32_t len, struct bt_fext *e)
{
    memset(e, 0, sizeof *e);
    if (len < FE_INLINE_DATA)
        return bt_fail(EIO, "file extent at %llu: item too short", (unsigned long long)off);
    e->off = off;
    e->type = d[FE_TYPE];
    e->compression = d[FE_COMPRESSION];
    e->ram_bytes = gk_le64(d + FE_RAM_BYTES);
    if (d[FE_ENCRYPTION] || gk_le16(d + FE_OTHER))
        return bt_fail(EOPNOTSUPP, "file extent at %llu: encrypted or encoded data",
                       (unsigned long long)off);
    if (e->compression > 3)
        return bt_fail(EOPNOTSUPP, "file extent at %llu: unknown compression %u",
                       (unsigned long long)off, e->compression);
    if (e->type == 0) {
        uint32_t n = len - FE_INLINE_DATA;
        if (e->ram_bytes > BT_MAX_COMPRESSED || (!e->compression && e->ram_bytes > n) ||
            (e->compression && e->ram_bytes == 0))
            return bt_fail(EIO, "inline extent at %llu: bad length %llu", (unsigned long long)off,
                           (unsigned long long)e->ram_bytes);
        e->len = e->ram_bytes;
        if (!e->len)
            return 1;
        e->inl = gk_malloc(n ? n : 1);
        memcpy(e->inl, d + FE_INLINE_DATA, n);
        e->inl_len = n;
        return 0;
    }
    if (e->type != 1 && e->type != 2)
        return bt_fail(EIO, "file extent at %llu: unknown type %u", (unsigned long long)off, e->type);
    if (len < FE_SIZE)
        return bt_fail(EIO, "file extent at %llu: item too short", (unsigned long long)off);
    e->disk_bytenr = gk_le64(d + FE_DISK_BYTENR);
    e->disk_len = gk_le64(d + FE_DISK_NUM_BYTES);
    e->ext_off = gk_le64(d + FE_OFFSET);
    e->len = gk_le64(d + FE_NUM_BYTES);
    if (e->len == 0)
        return 1;
    if (e->len % b->sectorsize || off % b->sectorsize || !gk_range_ok(off, e->len, UINT64_MAX))
        return bt_fail(EIO, "file extent at %llu: misaligned", (unsigned long long)off);
    if (e->disk_bytenr == 0) {           /* a hole (file without NO_HOLES) */
        e->type = 3;
        return 0;
    }
    if (e->type == 2 && e->compression)
        return bt_fail(EIO, "file extent at %llu: compressed prealloc", (unsigned long long)off);
    if (e->compression) {
        if (e->disk_len == 0 || e->disk_len > BT_MAX_COMPRESSED || e->ram_bytes == 0 ||
            e->ram_bytes > BT_MAX_COMPRESSED || !gk_range_ok(e->ext_off, e->len, e->ram_bytes))
            return bt_fail(EIO, "file extent at %llu: bad %s extent", (unsigned long long)off,
                           comp_names[e->compression]);
    } else if (!gk_range_ok(e->ext_off, e->len, e->disk_len)) {
        return bt_fail(EIO, "file extent at %llu: beyond its disk extent", (unsigned long long)off);
    }
    if (!gk_range_ok(e->disk_bytenr, e->disk_len, UINT64_MAX))
        return bt_fail(EIO, "file extent at %llu: bad disk address", (unsigned long long)off);
    return 0;
}

/* The extent map of inode ino (objectid inside root r; id is what the
 * cache knows it by), kept until another file is mapped. */
int bt_file_map(btrfs *b, const struct bt_root *r, uint64_t id, uint64_t size)
{
    if (b->map_valid && b->map_ino == id && b->map_size == size)
        return 0;
    bt_map_clear(b);
    uint64_t objectid = id & BT_INO_MASK;
    bt_path p;
    bt_key k = {objectid, BT_EXTENT_DATA, 0};
    int rc = bt_search(b, r->bytenr, r->level, &k, &p);
    struct bt_fext *v = NULL;
    size_t n = 0, cap = 0;
    uint64_t end = 0;
    while (rc > 0) {
        const uint8_t *d;
        uint32_t len;
        bt_item(&p, &k, &d, &len);
        if (k.objectid != objectid || k.type != BT_EXTENT_DATA || k.offset >= size)
            break;
        struct bt_fext e;
        int x = parse_extent(b, k.offset, d, len, &e);
        if (x < 0) {
            rc = x;
            break;
        }
        if (x == 0) {
            if (e.off < end) {
                free(e.inl);
                rc = bt_fail(EIO, "file extents overlap at %llu", (unsigned long long)e.off);
                break;
            }
            if (e.len > size - e.off)
                e.len = size - e.off;
            end = e.off + e.len;
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                v = gk_realloc(v, cap * sizeof *v);
            }
            v[n++] = e;
        }
        rc = bt_next(b, &p);
    }
    bt_path_release(&p);
    if (rc < 0) {
        for (size_t i = 0; i < n; i++)
            free(v[i].inl);
        free(v);
        gk_error_prefix("inode %llu", (unsigned long long)objectid);
        return rc;
    }
    b->map = v;
    b->nmap = n;
    b->map_ino = id;
    b->map_size = size;
    b->map_valid = 1;
    return 0;
}

/* The map entry containing pos, or NULL; *next: where the next one starts. */
static const struct bt_fext *find_ext(btrfs *b, uint64_t pos, uint64_t *next)
{
    size_t lo = 0, hi = b->nmap;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->map[mid].off <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    *next = lo < b->nmap ? b->map[lo].off : UINT64_MAX;
    if (lo > 0 && pos - b->map[lo - 1].off < b->map[lo - 1].len)
        return &b->map[lo - 1];
    return NULL;
}

/* Read from disk, trying each copy. */
static int read_copies(btrfs *b, uint64_t logical, void *buf, size_t n)
{
    int copies = bt_num_copies(b, logical), r = -EIO;
    for (int m = 0; m < copies; m++)
        if ((r = bt_read_logical(b, logical, buf, n, m)) == 0)
            return 0;
    return r;
}

/* The decompressed contents of a compressed regular extent. */
static int extent_data(btrfs *b, const struct bt_fext *e, const uint8_t **out)
{
    struct bt_dcache *victim = &b->dc[0];
    for (int i = 0; i < BT_DCACHE_N; i++) {
        struct bt_dcache *c = &b->dc[i];
        if (c->valid && c->key == e->disk_bytenr && c->len == e->ram_bytes &&
            c->disk_len == e->disk_len) {
            c->age = ++b->dclock;
            *out = c->data;
            return 0;
        }
        if (!c->valid || c->age < victim->age)
            victim = c;
    }
    if (!b->cbuf)
        b->cbuf = gk_malloc(BT_MAX_COMPRESSED);
    int r = read_copies(b, e->disk_bytenr, b->cbuf, e->disk_len);
    if (r < 0)
        return r;
    if (!victim->data)
        victim->data = gk_malloc(BT_MAX_COMPRESSED);
    victim->valid = 0;
    r = bt_decompress(b, e->compression, b->cbuf, e->disk_len, victim->data, e->ram_bytes);
    if (r < 0) {
        gk_error_prefix("extent %llu", (unsigned long long)e->disk_bytenr);
        return r;
    }
    victim->key = e->disk_bytenr;
    victim->disk_len = e->disk_len;
    victim->len = e->ram_bytes;
    victim->valid = 1;
    victim->age = ++b->dclock;
    *out = victim->data;
    return 0;
}

/* Read [off, off+n) of the mapped file (the caller clamps to its size). */
ssize_t bt_file_read(btrfs *b, uint64_t ino, uint8_t *buf, size_t n, uint64_t off)
{
    (void)ino;
    uint64_t pos = off, end = off + n;
    while (pos < end) {
        uint64_t next;
        const struct bt_fext *e = find_ext(b, pos, &next);
        uint8_t *dst = buf + (pos - off);
        if (!e || e->type >= 2) {
            uint64_t stop = e ? e->off + e->len : next;
            if (stop > end)
                stop = end;
            memset(dst, 0, stop - pos);
            pos = stop;
            continue;
        }
        uint64_t in = pos - e->off;                 /* offset inside the piece */
        uint64_t k = e->len - in;
        if (k > end - pos)
            k = end - pos;
        if (e->type == 0) {
            if (e->compression) {
                uint8_t *tmp = gk_malloc(e->ram_bytes);
                int r = bt_decompress(b, e->compression, e->inl, e->inl_len, tmp, e->ram_bytes);
                if (r < 0) {
                    free(tmp);
                    gk_error_prefix("inline extent");
                    return r;
                }
                memcpy(dst, tmp + in, k);
                free(tmp);
            } else {
                memcpy(dst, e->inl + in, k);
            }
        } else if (e->compression) {
            const uint8_t *data;
            int r = extent_data(b, e, &data);
            if (r < 0)
                return r;
            memcpy(dst, data + e->ext_off + in, k);
        } else {
            int r = read_copies(b, e->disk_bytenr + e->ext_off + in, dst, k);
            if (r < 0)
                return r;
        }
        pos += k;
    }
    return (ssize_t)n;
}
