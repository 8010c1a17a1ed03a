/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 compressed clusters: deflate (raw, window 15) and zstd streams, one
 * cluster each.  A corrupt stream is an error, never a short cluster.
 * (Compression for convert -c, issue 9, goes here too.) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

/* A whole cluster from one call: libdeflate decodes a whole buffer about
 * three times faster than zlib's inflate (bench/RESULTS.md, round 4), and a
 * qcow2 cluster is a whole buffer.  It answers only for streams that yield
 * the full cluster; anything else (corrupt, truncated, short, longer than a
 * cluster) goes to zlib, whose verdict qemu shares: a stream that fills the
 * cluster is accepted even if it does not end there. */
static int inflate_fast(struct qcow2 *q, uint64_t csize, uint8_t *out)
{
    if (!q->ld && !(q->ld = libdeflate_alloc_decompressor()))
        return -1;
    size_t got = 0;
    return libdeflate_deflate_decompress(q->ld, q->cbuf, csize, out, q->cluster_size, &got) ==
           LIBDEFLATE_SUCCESS && got == q->cluster_size ? 0 : -1;
}

static int inflate_zlib(struct qcow2 *q, uint64_t csize, uint64_t coff, uint8_t *out)
{
    if (inflate_fast(q, csize, out) == 0)
        return 0;
    if (!q->zs_ok) {
        memset(&q->zs, 0, sizeof q->zs);
        if (inflateInit2(&q->zs, -15) != Z_OK)
            return gk_fail(ENOMEM, "%s: cannot initialise zlib", q->path);
        q->zs_ok = 1;
    } else {
        inflateReset(&q->zs);
    }
    q->zs.next_in = q->cbuf;
    q->zs.avail_in = (uInt)csize;
    q->zs.next_out = out;
    q->zs.avail_out = (uInt)q->cluster_size;
    int ret = inflate(&q->zs, Z_FINISH);
    /* the stream may end early in its last sector; what counts is a full cluster */
    if (q->zs.avail_out != 0 || (ret != Z_STREAM_END && ret != Z_BUF_ERROR && ret != Z_OK))
        return gk_fail(EIO, "%s: compressed cluster at offset 0x%llx: invalid deflate data (image corrupt)",
                       q->path, (unsigned long long)coff);
    return 0;
}

static int inflate_zstd(struct qcow2 *q, uint64_t csize, uint64_t coff, uint8_t *out)
{
    if (!q->zd) {
        q->zd = ZSTD_createDCtx();
        if (!q->zd)
            return gk_fail(ENOMEM, "%s: cannot initialise zstd", q->path);
        /* a cluster is at most 2 MiB: refuse frames asking for huge windows */
        ZSTD_DCtx_setParameter(q->zd, ZSTD_d_windowLogMax, 22);
    } else {
        ZSTD_DCtx_reset(q->zd, ZSTD_reset_session_only);
    }
    ZSTD_inBuffer in = { q->cbuf, csize, 0 };
    ZSTD_outBuffer o = { out, q->cluster_size, 0 };
    while (o.pos < o.size) {
        size_t ip = in.pos, op = o.pos;
        size_t r = ZSTD_decompressStream(q->zd, &o, &in);
        if (ZSTD_isError(r) || (in.pos <= ip && o.pos <= op))
            return gk_fail(EIO, "%s: compressed cluster at offset 0x%llx: invalid zstd data%s%s (image corrupt)",
                           q->path, (unsigned long long)coff, ZSTD_isError(r) ? ": " : "",
                           ZSTD_isError(r) ? ZSTD_getErrorName(r) : "");
    }
    return 0;
}

int qcow2_decompress(struct qcow2 *q, uint64_t desc, uint8_t *out)
{
    uint64_t coff, csize;
    qcow2_compressed_range(q, desc, &coff, &csize);
    if (coff < q->cluster_size || coff >= q->file_size || coff > (1ULL << 56))
        return gk_fail(EIO, "%s: compressed cluster at offset 0x%llx is outside the image file (image corrupt)",
                       q->path, (unsigned long long)coff);
    if (csize > q->file_size - coff)
        csize = q->file_size - coff;
    /* the input buffer grows to the largest stream seen (at most 2 clusters) */
    if (csize > q->cbuf_size) {
        free(q->cbuf);
        q->cbuf = gk_malloc(csize);
        q->cbuf_size = csize;
    }
    int r = qcow2_read(q, q->file, q->cbuf, csize, coff);
    if (r < 0)
        return r;
    return q->compression_type == 0 ? inflate_zlib(q, csize, coff, out) : inflate_zstd(q, csize, coff, out);
}

static unsigned dc_slots(struct qcow2 *q)
{
    if (!q->dc_slots) {
        uint64_t n = QCOW2_DC_BYTES / q->cluster_size;
        q->dc_slots = n < 2 ? 2 : n > QCOW2_DC_MAX ? QCOW2_DC_MAX : (unsigned)n;
        q->dc_live = QCOW2_DC_START < q->dc_slots ? QCOW2_DC_START : q->dc_slots;
    }
    return q->dc_live;
}

/* A miss: if desc was evicted lately, the cache is too small for what is
 * read, and doubles (qcow2.h). */
static void dc_miss(struct qcow2 *q, uint64_t desc)
{
    if (q->dc_live >= q->dc_slots)
        return;
    for (unsigned i = 0; i < QCOW2_DC_MAX; i++)
        if (q->dc_gone[i] == desc + 1) {
            q->dc_live = q->dc_live * 2 > q->dc_slots ? q->dc_slots : q->dc_live * 2;
            memset(q->dc_gone, 0, sizeof q->dc_gone);
            return;
        }
}

/* The slot v is filled with desc: what it held is remembered as evicted. */
static void dc_evict(struct qcow2 *q, struct qcow2_dc *v)
{
    if (!v->valid)
        return;
    q->dc_gone[q->dc_gone_next] = v->desc + 1;
    q->dc_gone_next = (q->dc_gone_next + 1) % QCOW2_DC_MAX;
}

/* The slot holding desc (its LRU tick refreshed), or NULL and in *victim
 * the slot to fill: an empty one, else the least recently used. */
static struct qcow2_dc *dc_find(struct qcow2 *q, uint64_t desc, struct qcow2_dc **victim)
{
    struct qcow2_dc *v = NULL;
    q->tick++;
    for (unsigned i = 0, n = dc_slots(q); i < n; i++) {
        struct qcow2_dc *c = &q->dc[i];
        if (c->valid && c->desc == desc) {
            c->used = q->tick;
            return c;
        }
        if (!v || (v->valid && (!c->valid || c->used < v->used)))
            v = c;
    }
    dc_miss(q, desc);
    if (q->dc_live > 1 && v->valid)
        for (unsigned i = 0; i < q->dc_live; i++) /* a slot the cache just grew by */
            if (!q->dc[i].valid) {
                v = &q->dc[i];
                break;
            }
    *victim = v;
    return NULL;
}

static void dc_fill(struct qcow2 *q, struct qcow2_dc *c, uint64_t desc)
{
    c->desc = desc;
    c->valid = 1;
    c->used = q->tick;
}

const uint8_t *qcow2_decompressed(struct qcow2 *q, uint64_t desc)
{
    struct qcow2_dc *v, *c = dc_find(q, desc, &v);
    if (c)
        return c->buf;
    if (!v->buf)
        v->buf = gk_malloc(q->cluster_size);
    dc_evict(q, v);
    v->valid = 0;
    if (qcow2_decompress(q, desc, v->buf) < 0)
        return NULL;
    dc_fill(q, v, desc);
    return v->buf;
}

int qcow2_decompress_to(struct qcow2 *q, uint64_t desc, uint8_t *out, int bulk)
{
    struct qcow2_dc *v, *c = dc_find(q, desc, &v);
    if (c) {
        memcpy(out, c->buf, q->cluster_size);
        return 0;
    }
    int r = qcow2_decompress(q, desc, out);
    if (r < 0 || bulk)
        return r;
    if (!v->buf)
        v->buf = gk_malloc(q->cluster_size);
    dc_evict(q, v);
    memcpy(v->buf, out, q->cluster_size);
    dc_fill(q, v, desc);
    return 0;
}

void qcow2_decompressed_forget(struct qcow2 *q)
{
    for (unsigned i = 0; i < QCOW2_DC_MAX; i++)
        q->dc[i].valid = 0;
}

void qcow2_compress_free(struct qcow2 *q)
{
    for (unsigned i = 0; i < QCOW2_DC_MAX; i++)
        free(q->dc[i].buf);
    free(q->cbuf);
    if (q->ld)
        libdeflate_free_decompressor(q->ld);
    if (q->zs_ok)
        inflateEnd(&q->zs);
    if (q->zd)
        ZSTD_freeDCtx(q->zd);
}
