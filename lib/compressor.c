/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Compression of written clusters, one gk_compressor per thread.
 *
 * A format's compressed writes (qcow2 clusters, streamOptimized VMDK
 * grains) are split in two: its compress op makes the stored form of one
 * cluster with the stream state of a gk_compressor, and pwrite_compressed
 * places it.  The first reads nothing that a write changes, so gimg convert
 * compresses in its reader threads (as qemu compresses in its thread pool)
 * and its one writer only places what they made.  The deflate and zstd
 * streams are kept between clusters (deflateReset), not set up per call. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "blk-int.h"

struct gk_compressor {
    gk_dev *d;                     /* the target; the caller keeps it open */
    z_stream zs;
    int zs_bits, zs_mem;           /* what zs was set up with; bits 0: none */
    ZSTD_CCtx *zc;
    unsigned char *pad;            /* a short last cluster, padded          */
    size_t padcap;
};

gk_compressor *gk_compressor_new(gk_dev *d)
{
    if (!d->ops->compress || !d->ops->pwrite_compressed) {
        gk_error("%s: %s images take no compressed writes", d->name, d->ops->name);
        errno = ENOTSUP;
        return NULL;
    }
    gk_compressor *c = gk_calloc(1, sizeof *c);
    c->d = d;
    return c;
}

void gk_compressor_free(gk_compressor *c)
{
    if (!c)
        return;
    if (c->zs_bits)
        deflateEnd(&c->zs);
    ZSTD_freeCCtx(c->zc);
    free(c->pad);
    free(c);
}

void gk_zbuf_reserve(gk_zbuf *z, size_t cap)
{
    if (z->cap >= cap)
        return;
    free(z->p);
    z->p = gk_malloc(cap);
    z->cap = cap;
}

void gk_zbuf_clear(gk_zbuf *z)
{
    free(z->p);
    memset(z, 0, sizeof *z);
}

const void *gk_compressor_pad(gk_compressor *c, const void *in, size_t n, size_t full)
{
    if (n >= full)
        return in;
    if (c->padcap < full) {
        free(c->pad);
        c->pad = gk_malloc(full);
        c->padcap = full;
    }
    memcpy(c->pad, in, n);
    memset(c->pad + n, 0, full - n);
    return c->pad;
}

int gk_deflate(gk_compressor *c, int wbits, int memlevel, const void *in, size_t n, void *out, size_t cap,
               size_t *outlen)
{
    if (n > UINT32_MAX || cap > UINT32_MAX)
        return gk_fail(EINVAL, "%s: a cluster too large to compress", c->d->name);
    if (c->zs_bits != wbits || c->zs_mem != memlevel) {
        if (c->zs_bits)
            deflateEnd(&c->zs);
        c->zs_bits = 0;
        memset(&c->zs, 0, sizeof c->zs);
        if (deflateInit2(&c->zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, wbits, memlevel, Z_DEFAULT_STRATEGY) != Z_OK)
            return gk_fail(ENOMEM, "%s: cannot initialise zlib", c->d->name);
        c->zs_bits = wbits;
        c->zs_mem = memlevel;
    } else {
        deflateReset(&c->zs);
    }
    c->zs.next_in = (Bytef *)in;
    c->zs.avail_in = (uInt)n;
    c->zs.next_out = out;
    c->zs.avail_out = (uInt)cap;
    int r = deflate(&c->zs, Z_FINISH);
    if (r == Z_OK || r == Z_BUF_ERROR)
        return -ENOSPC;
    if (r != Z_STREAM_END)
        return gk_fail(EIO, "%s: deflate failed (%d)", c->d->name, r);
    *outlen = cap - c->zs.avail_out;
    return 0;
}

int gk_zstd_compress(gk_compressor *c, const void *in, size_t n, void *out, size_t cap, size_t *outlen)
{
    if (!c->zc && !(c->zc = ZSTD_createCCtx()))
        return gk_fail(ENOMEM, "%s: cannot initialise zstd", c->d->name);
    size_t z = ZSTD_compress2(c->zc, out, cap, in, n);
    if (ZSTD_isError(z))
        return -ENOSPC; /* does not fit (nothing else fails on a whole buffer) */
    *outlen = z;
    return 0;
}

int gk_compress(gk_compressor *c, const void *buf, size_t n, uint64_t off, gk_zbuf *z)
{
    gk_dev *d = c->d;
    if (!gk_range_ok(off, n, d->size)) {
        gk_error("%s: compressed write of %zu bytes at offset %llu is beyond the end of the device", d->name, n,
                 (unsigned long long)off);
        errno = EIO;
        return -1;
    }
    z->len = 0;
    int r = d->ops->compress(d, c, buf, n, off, z);
    if (r < 0) {
        errno = -r;
        return -1;
    }
    return 0;
}
