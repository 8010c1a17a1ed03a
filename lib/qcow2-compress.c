/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 compressed clusters: deflate (raw, window 15) and zstd streams, one
 * cluster each.  A corrupt stream is an error, never a short cluster.
 * (Compression for convert -c, issue 9, goes here too.) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

static int inflate_zlib(struct qcow2 *q, uint64_t csize, uint64_t coff, uint8_t *out)
{
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

const uint8_t *qcow2_decompressed(struct qcow2 *q, uint64_t desc)
{
    struct qcow2_dc *dc = NULL;
    q->tick++;
    for (int i = 0; i < 2; i++) {
        if (q->dc[i].valid && q->dc[i].desc == desc) {
            q->dc[i].used = q->tick;
            return q->dc[i].buf;
        }
        if (!dc || (dc->valid && (!q->dc[i].valid || q->dc[i].used < dc->used)))
            dc = &q->dc[i];
    }
    if (!dc->buf)
        dc->buf = gk_malloc(q->cluster_size);
    dc->valid = 0;
    if (qcow2_decompress(q, desc, dc->buf) < 0)
        return NULL;
    dc->desc = desc;
    dc->valid = 1;
    dc->used = q->tick;
    return dc->buf;
}

void qcow2_compress_free(struct qcow2 *q)
{
    for (int i = 0; i < 2; i++)
        free(q->dc[i].buf);
    free(q->cbuf);
    if (q->zs_ok)
        inflateEnd(&q->zs);
    if (q->zd)
        ZSTD_freeDCtx(q->zd);
}
