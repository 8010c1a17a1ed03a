/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The qcow2 format: opening (header, extensions, feature checks, external
 * data file, snapshots, L1, backing file), the device operations (read and
 * own-layer block status), info, and the format record.  v2 and v3, zero
 * clusters, subclusters (extended L2), deflate and zstd compressed clusters,
 * backing chains, external data files, opening as of an internal snapshot.
 * The parts are listed in lib/qcow2.h.
 *
 * Images are untrusted input: every offset, size and count read from the
 * file is checked against qemu's own limits and against the file size before
 * it is used. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

#define DEFAULT_L2_CACHE (8ULL << 20) /* covers 64 GiB of disk with 64 KiB clusters */
#define RB_CACHE_TABLES 16
#define HEADER_FIRST 4096 /* bytes of cluster 0 read before the rest */
#define L2_SLICE 4096 /* bytes of an L2 table read at once by read-only opens */

int qcow2_read(struct qcow2 *q, gk_dev *dev, void *buf, size_t n, uint64_t off)
{
    (void)q;
    return gk_pread(dev, buf, n, off) < 0 ? -errno : 0;
}

uint64_t gk_qcow2_host_preads(gk_dev *d)
{
    if (d->ops != &qcow2_ops)
        return 0;
    struct qcow2 *q = d->priv;
    return q->file->nreads + (q->data != q->file ? q->data->nreads : 0);
}

/* ---- the device operations ---- */

static int q_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    struct qcow2 *q = d->priv;
    if (q->info_only)
        return gk_fail(EIO, "%s: image opened for its details only, not for reading", q->path);
    if (q->crypt && ((off | n) & 511)) {
        /* encryption works on whole sectors: read those around the range
         * (the device size is a whole number of sectors) */
        uint64_t start = off & ~511ULL, end = (off + n + 511) & ~511ULL;
        uint8_t *b = gk_malloc((size_t)(end - start));
        int rc = q_pread(d, b, (size_t)(end - start), start);
        if (rc == 0)
            memcpy(buf, b + (off - start), n);
        free(b);
        return rc;
    }
    uint8_t *p = buf;
    /* A pending host read that following data runs extend when their host
     * offsets and buffer positions are both contiguous. */
    uint8_t *pbuf = NULL;
    uint64_t phost = 0, plen = 0;
    int rc = 0, bulk = n >= (1u << 20);
    while (n > 0) {
        struct qcow2_run r;
        if ((rc = qcow2_map(q, off, n, &r)) < 0)
            break;
        size_t len = (size_t)r.len;
        if (r.type == QC_DATA && q->crypt) {
            if ((rc = qcow2_read(q, q->data, p, len, r.host)) < 0 ||
                (rc = qcow2_crypto_decrypt(q, p, len, off, r.host)) < 0)
                break;
        } else if (r.type == QC_COMP && q->crypt) {
            rc = gk_fail(EIO, "%s: compressed cluster in an encrypted image", q->path);
            break;
        } else if (r.type == QC_DATA) {
            if (pbuf && pbuf + plen == p && phost + plen == r.host) {
                plen += len;
            } else {
                if (pbuf && (rc = qcow2_read(q, q->data, pbuf, plen, phost)) < 0)
                    break;
                pbuf = p;
                phost = r.host;
                plen = len;
            }
        } else if (r.type == QC_ZERO) {
            memset(p, 0, len);
        } else if (r.type == QC_COMP && len == q->cluster_size) {
            /* a whole cluster: straight into the caller's buffer (and
             * into the cache, unless this is a bulk read) */
            if ((rc = qcow2_decompress_to(q, r.desc, p, bulk)) < 0)
                break;
        } else if (r.type == QC_COMP) {
            const uint8_t *c = qcow2_decompressed(q, r.desc);
            if (!c) {
                rc = -EIO;
                break;
            }
            memcpy(p, c + (off & (q->cluster_size - 1)), len);
        } else {
            gk_dev *b = d->backing;
            uint64_t bsize = b ? b->size : 0;
            size_t from_b = off >= bsize ? 0 : (bsize - off < len ? (size_t)(bsize - off) : len);
            if (from_b && gk_pread(b, p, from_b, off) < 0) {
                rc = -errno;
                break;
            }
            memset(p + from_b, 0, len - from_b);
        }
        p += len;
        off += len;
        n -= len;
    }
    if (rc == 0 && pbuf)
        rc = qcow2_read(q, q->data, pbuf, plen, phost);
    return rc;
}

/* This layer only, as qemu's qcow2_co_block_status(): at most one L2 table
 * (and INT_MAX bytes) per answer, one compressed cluster at a time. */
static int q_block_status(gk_dev *d, uint64_t off, uint64_t len, gk_extent *e)
{
    struct qcow2 *q = d->priv;
    if (!q->prealloc_checked) {
        q->prealloc = qcow2_detect_prealloc(q) == 1;
        q->prealloc_checked = 1;
    }
    if (len > INT_MAX)
        len = INT_MAX;
    struct qcow2_run r;
    int rc = qcow2_map(q, off, len, &r);
    if (rc < 0)
        return rc;
    e->len = r.len;
    e->flags = 0;
    if (r.has_off && !q->h.crypt_method) { /* encrypted bytes are no raw data (qemu) */
        e->flags |= GK_BS_OFFSET;
        e->host = q->data;
        e->host_off = r.host;
    }
    switch (r.type) {
    case QC_DATA: e->flags |= GK_BS_DATA; break;
    case QC_COMP: e->flags |= GK_BS_DATA | GK_BS_COMPRESSED; break;
    case QC_ZERO: e->flags |= GK_BS_ZERO; break;
    default: break; /* the backing file's business */
    }
    if (q->prealloc && (e->flags & GK_BS_DATA) && (e->flags & GK_BS_OFFSET))
        e->flags |= GK_BS_RECURSE;
    return 0;
}

static void q_free(struct qcow2 *q)
{
    if (!q)
        return;
    qcow2_snapshots_free(q);
    for (int i = 0; i < q->nexts; i++)
        free(q->exts[i].data);
    free(q->backing_name);
    free(q->backing_full);
    free(q->backing_format);
    free(q->data_file_name);
    free(q->data_file_full);
    free(q->l1);
    free(q->reft);
    qcow2_cache_free(q->l2_cache);
    qcow2_cache_free(q->rb_cache);
    qcow2_cache_free(q->l2s_cache);
    qcow2_compress_free(q);
    qcow2_crypto_free(q);
    gk_secret_free(q->pass, q->passlen + 1);
    free(q);
}

static void q_close(gk_dev *d)
{
    qcow2_close_rw(d);
    q_free(d->priv);
}

const struct gk_dev_ops qcow2_ops = {
    .name = "qcow2",
    .pread = q_pread,
    .block_status = q_block_status,
    .pwrite = qcow2_op_pwrite,
    .pwrite_more = qcow2_op_pwrite_more,
    .pwrite_compressed = qcow2_op_pwrite_compressed,
    .compress = qcow2_op_compress,
    .pwrite_zeroes = qcow2_op_pwrite_zeroes,
    .discard = qcow2_op_discard,
    .truncate = qcow2_op_truncate,
    .flush = qcow2_op_flush,
    .close = q_close,
};

/* ---- opening ---- */

/* Names of unknown incompatible features from the feature-name table. */
static int unsupported_features(struct qcow2 *q, uint64_t bits)
{
    char msg[1024];
    size_t m = 0;
    msg[0] = 0;
    for (uint64_t i = 0; i + 48 <= q->ftbl_len && bits; i += 48) {
        const uint8_t *f = q->ftbl + i;
        if (f[0] != 0 || f[1] > 63 || !(bits & (1ULL << f[1])))
            continue;
        bits &= ~(1ULL << f[1]);
        char name[47];
        memcpy(name, f + 2, 46);
        name[46] = 0;
        for (char *c = name; *c; c++)
            if ((unsigned char)*c < 32 || (unsigned char)*c > 126)
                *c = '?';
        m += (size_t)snprintf(msg + m, sizeof msg - m, "%s%s", m ? ", " : "", name);
        if (m >= sizeof msg)
            m = sizeof msg - 1;
    }
    if (bits)
        snprintf(msg + m, sizeof msg - m, "%sUnknown incompatible feature: %llx", m ? ", " : "",
                 (unsigned long long)bits);
    return gk_fail(ENOTSUP, "%s: Unsupported qcow2 feature(s): %s", q->path, msg);
}

static char *ext_string(const uint8_t *p, uint32_t len)
{
    if (memchr(p, 0, len))
        return NULL;
    return gk_strndup((const char *)p, len);
}

/* Header extensions between start and end of the first cluster h; every
 * one is kept (q->exts) for a rewrite. */
static int read_extensions(struct qcow2 *q, const uint8_t *h, uint64_t start, uint64_t end)
{
    uint64_t p = start;
    uint32_t seen = 0;
    while (p + 8 <= end) {
        uint32_t type = gk_be32(h + p), len = gk_be32(h + p + 4);
        p += 8;
        if (type == QC_EXT_END)
            return 0;
        if (len > end - p)
            return gk_fail(EINVAL, "%s: header extension 0x%08x too large", q->path, type);
        const uint8_t *data = h + p;
        switch (type) {
        case QC_EXT_BACKING_FORMAT:
            if (seen & 1 || len >= 16 || !(q->backing_format = ext_string(data, len)))
                return gk_fail(EINVAL, "%s: invalid backing file format extension", q->path);
            seen |= 1;
            break;
        case QC_EXT_BITMAPS:
            if (len != 24 || seen & 2)
                return gk_fail(EINVAL, "%s: invalid bitmaps extension", q->path);
            seen |= 2;
            if (q->h.autoclear_features & QC_AUTOCLEAR_BITMAPS) { /* bitmaps consistent */
                q->nb_bitmaps = (int)(gk_be32(data) > 65535 ? 0 : gk_be32(data));
                q->bitmap_dir_size = gk_be64(data + 8);
                q->bitmap_dir_offset = gk_be64(data + 16);
            }
            break;
        case QC_EXT_CRYPTO:
            if (len != 16)
                return gk_fail(EINVAL, "%s: invalid encryption header extension", q->path);
            q->crypto_off = gk_be64(data);
            q->crypto_len = gk_be64(data + 8);
            break;
        case QC_EXT_DATA_FILE:
            if (seen & 4 || len == 0 || len > 1023 || !(q->data_file_name = ext_string(data, len)))
                return gk_fail(EINVAL, "%s: invalid external data file name extension", q->path);
            seen |= 4;
            break;
        default:
            break;
        }
        if (q->nexts >= QC_MAX_EXTS)
            return gk_fail(EINVAL, "%s: too many header extensions", q->path);
        struct qcow2_ext *x = &q->exts[q->nexts++];
        x->type = type;
        x->len = len;
        x->data = gk_malloc(len ? len : 1);
        memcpy(x->data, data, len);
        if (type == QC_EXT_FEATURE_TABLE) {
            q->ftbl = x->data;
            q->ftbl_len = len;
        }
        uint64_t padded = ((uint64_t)len + 7) & ~7ULL;
        p += padded < end - p ? padded : end - p;
    }
    return 0;
}

static int check_header(struct qcow2 *q)
{
    struct qcow2_header *h = &q->h;
    if (h->magic != QC_MAGIC)
        return gk_fail(EINVAL, "%s: not a qcow2 image", q->path);
    if (h->version != 2 && h->version != 3)
        return gk_fail(ENOTSUP, "%s: unsupported qcow2 version %u", q->path, h->version);
    if (h->cluster_bits < 9 || h->cluster_bits > 21)
        return gk_fail(EINVAL, "%s: unsupported cluster size: 2^%u", q->path, h->cluster_bits);
    q->version = (int)h->version;
    q->cluster_bits = h->cluster_bits;
    q->cluster_size = 1ULL << h->cluster_bits;
    if (h->version == 3) {
        if (h->header_length < 104)
            return gk_fail(EINVAL, "%s: qcow2 header too short", q->path);
        if (h->header_length > q->cluster_size)
            return gk_fail(EINVAL, "%s: qcow2 header exceeds cluster size", q->path);
        if (h->header_length > q->file_size)
            return gk_fail(EINVAL, "%s: qcow2 header is truncated", q->path);
    }
    q->compression_type = h->header_length > 104 ? h->compression_type : 0;
    if (h->refcount_order > 6)
        return gk_fail(EINVAL, "%s: invalid refcount order %u", q->path, h->refcount_order);
    if (h->backing_file_offset > q->cluster_size)
        return gk_fail(EINVAL, "%s: invalid backing file offset 0x%llx", q->path,
                       (unsigned long long)h->backing_file_offset);
    return 0;
}

static int check_features(struct qcow2 *q)
{
    struct qcow2_header *h = &q->h;
    if (h->incompatible_features & ~(uint64_t)QC_INCOMPAT_KNOWN)
        return unsupported_features(q, h->incompatible_features & ~(uint64_t)QC_INCOMPAT_KNOWN);
    /* encryption (lib/qcow2-crypto.c), checked as qemu checks it */
    if (h->crypt_method > 2)
        return gk_fail(ENOTSUP, "%s: unsupported encryption method %u", q->path, h->crypt_method);
    if (h->crypt_method == 2 && !q->crypto_len)
        return gk_fail(EINVAL, "%s: LUKS encryption without its encryption header extension", q->path);
    if (h->crypt_method != 2 && q->crypto_len)
        return gk_fail(EINVAL, "%s: encryption header extension without LUKS encryption", q->path);
    if (q->compression_type > 1)
        return gk_fail(ENOTSUP, "%s: unknown compression type %d", q->path, q->compression_type);
    if (!!q->compression_type != !!(h->incompatible_features & QC_INCOMPAT_COMPRESSION))
        return gk_fail(EINVAL, "%s: compression type and its incompatible feature bit disagree", q->path);
    q->ext_l2 = !!(h->incompatible_features & QC_INCOMPAT_EXTL2);
    if (q->ext_l2 && q->cluster_bits < 14)
        return gk_fail(ENOTSUP, "%s: unsupported subcluster size (extended L2 needs clusters of 16 KiB or more)",
                       q->path);
    q->l2_entry_size = q->ext_l2 ? 16 : 8;
    q->l2_bits = q->cluster_bits - (q->ext_l2 ? 4 : 3);
    q->l2_entries = 1ULL << q->l2_bits;
    if (h->size > (1ULL << 62))
        return gk_fail(EFBIG, "%s: image is too big", q->path);
    /* refcount table: qemu refuses a bad one even to read */
    if ((h->refcount_table_clusters == 0 && !q->check_mode) ||
        (uint64_t)h->refcount_table_clusters << q->cluster_bits > QC_MAX_REFT_BYTES)
        return gk_fail(EINVAL, "%s: invalid refcount table size (%u clusters)", q->path,
                       h->refcount_table_clusters);
    if (h->refcount_table_offset & (q->cluster_size - 1) || h->refcount_table_offset > (1ULL << 56) ||
        (q->strict && h->refcount_table_offset < q->cluster_size))
        return gk_fail(EINVAL, "%s: invalid refcount table offset 0x%llx%s", q->path,
                       (unsigned long long)h->refcount_table_offset,
                       h->refcount_table_offset < q->cluster_size ? " (overlaps the header)" : "");
    if (q->strict && h->l1_size && h->l1_table_offset < q->cluster_size)
        return gk_fail(EINVAL, "%s: L1 table overlaps the header", q->path);
    return 0;
}

/* The external data file, or the image file itself. */
static int open_data_file(struct qcow2 *q, gk_dev *d, gk_open_ctx *ctx)
{
    q->data = q->file;
    if (!(q->h.incompatible_features & QC_INCOMPAT_DATA_FILE)) {
        /* A name without the feature bit is never opened (qemu-img info
         * still shows it); the raw bit without a data file is refused as
         * qemu refuses it, except by info. */
        if ((q->h.autoclear_features & QC_AUTOCLEAR_DATA_FILE_RAW) && !(ctx->flags & GK_OPEN_INFO))
            return gk_fail(EINVAL, "%s: data-file-raw requires a data file", q->path);
        return 0;
    }
    /* qemu-img info opens neither what an image names nor the data an
     * image without a name for it would need: it describes the header
     * (without snapshots, which it does not list with a data file) */
    if (ctx->flags & GK_OPEN_INFO)
        return 0;
    if (q->h.nb_snapshots)
        return gk_fail(EINVAL, "%s: internal snapshots with an external data file (image corrupt)", q->path);
    if (!q->data_file_name)
        return gk_fail(EINVAL, "%s: image needs an external data file but names none", q->path);
    gk_dev *df = gk_open_named_file(ctx, q->file, q->data_file_name, "data file", &q->data_file_full);
    if (!df)
        return -errno;
    gk_dev_add_kid(d, df);
    q->data = df;
    return 0;
}

/* The snapshot to open as, per ctx: -1 for the active state. */
static int pick_snapshot(struct qcow2 *q, gk_open_ctx *ctx, int *idx)
{
    *idx = -1;
    const char *what = ctx->snapshot;
    if (ctx->snapshot)
        *idx = qcow2_find_snapshot_by_id_or_name(q, ctx->snapshot);
    else if (ctx->snapshot_id || ctx->snapshot_name)
        *idx = qcow2_find_snapshot(q, ctx->snapshot_id, ctx->snapshot_name);
    else
        return 0;
    if (!what)
        what = ctx->snapshot_name ? ctx->snapshot_name : ctx->snapshot_id;
    if (*idx < 0)
        return gk_fail(ENOENT, "%s: snapshot \"%s\" not found", q->path, what);
    if (q->snaps[*idx].disk_size > (1ULL << 62))
        return gk_fail(EINVAL, "%s: snapshot \"%s\": invalid disk size", q->path, what);
    return 0;
}

/* Whether the header (h, decoded from its first 104 bytes), its extensions
 * and the backing file name lie in the first got bytes of cluster 0 (hlen
 * bytes): the walk of read_extensions ends within them. */
static int header_within(const struct qcow2_header *hd, const uint8_t *h, uint64_t got, uint64_t hlen)
{
    uint64_t bf_off = hd->backing_file_offset, bf_len = hd->backing_file_size;
    if (hd->header_length > got || (bf_off && bf_len && (bf_off > got || bf_len > got - bf_off)))
        return 0;
    uint64_t end = bf_off ? bf_off : hlen, p = hd->header_length;
    if (end <= p)
        return 1;
    while (p + 8 <= end) {
        if (p + 8 > got)
            return 0;
        uint32_t type = gk_be32(h + p), len = gk_be32(h + p + 4);
        p += 8;
        if (type == QC_EXT_END)
            return 1;
        if (len > end - p)
            return 0; /* an error: read_extensions reports it on the whole cluster */
        uint64_t padded = ((uint64_t)len + 7) & ~7ULL;
        p += padded < end - p ? padded : end - p;
        if (p > got)
            return 0;
    }
    return 1;
}

static int q_open_all(struct qcow2 *q, gk_dev *d, gk_open_ctx *ctx)
{
    uint8_t h72[104];
    if (q->file_size < 72)
        return gk_fail(EINVAL, "%s: file too small for a qcow2 header", q->path);
    size_t hn = q->file_size < sizeof h72 ? (size_t)q->file_size : sizeof h72;
    int rc = qcow2_read(q, q->file, h72, hn, 0);
    if (rc < 0)
        return rc;
    if (gk_be32(h72) != QC_MAGIC)
        return gk_fail(EINVAL, "%s: not a qcow2 image", q->path);
    if ((rc = qcow2_header_decode(&q->h, h72, hn, q->path)) < 0)
        return rc;
    if ((rc = check_header(q)) < 0)
        return rc;

    /* cluster 0 (header, extensions, backing name); past the end of the
     * file it reads as zeros, as in qemu.  Its first 4 KiB first: the rest
     * only when what the header names reaches past them. */
    uint64_t hlen = q->cluster_size;
    uint64_t got = hlen < HEADER_FIRST ? hlen : HEADER_FIRST;
    uint8_t *h = gk_malloc(hlen);
    if ((rc = qcow2_read(q, q->file, h, got, 0)) < 0)
        goto out;
    if (got < hlen && !header_within(&q->h, h, got, hlen)) {
        if ((rc = qcow2_read(q, q->file, h + got, hlen - got, got)) < 0)
            goto out;
        got = hlen;
    }
    /* again, now with every byte header_length covers */
    if ((rc = qcow2_header_decode(&q->h, h, got, q->path)) < 0)
        goto out;
    q->compression_type = q->h.header_length > 104 ? q->h.compression_type : 0;
    uint64_t bf_off = q->h.backing_file_offset;
    uint32_t bf_len = q->h.backing_file_size;
    if (bf_off && bf_len) { /* an empty name means no backing file, as in qemu */
        if (bf_len > 1023 || bf_len > q->cluster_size - bf_off) {
            rc = gk_fail(EINVAL, "%s: backing file name is invalid or does not fit in the first cluster", q->path);
            goto out;
        }
        if (q->strict && bf_off + bf_len > q->file_size) {
            rc = gk_fail(EINVAL, "%s: backing file name is past the end of the file", q->path);
            goto out;
        }
        if (!(q->backing_name = ext_string(h + bf_off, bf_len))) {
            if (q->strict) {
                rc = gk_fail(EINVAL, "%s: backing file name contains a NUL byte", q->path);
                goto out;
            }
            /* qemu keeps the name up to its first NUL byte */
            size_t n = strnlen((const char *)h + bf_off, bf_len);
            if (n)
                q->backing_name = gk_strndup((const char *)h + bf_off, n);
        }
    }
    uint64_t ext_end = bf_off ? bf_off : hlen;
    if (ext_end > q->h.header_length && (rc = read_extensions(q, h, q->h.header_length, ext_end)) < 0)
        goto out;
    if ((rc = check_features(q)) < 0)
        goto out;
    if ((rc = qcow2_crypto_open(q)) < 0)
        goto out;
    if ((rc = open_data_file(q, d, ctx)) < 0)
        goto out;
    /* qemu-img check reads the table itself (qcow2_check_read_snapshots) */
    if (!q->check_mode && (rc = qcow2_read_snapshots(q)) < 0)
        goto out;
    if ((rc = qcow2_load_l1(q, q->h.l1_table_offset, q->h.l1_size, q->h.size, 1)) < 0)
        goto out;
    uint64_t vsize = q->h.size;
    int si;
    if ((rc = pick_snapshot(q, ctx, &si)) < 0)
        goto out;
    if (si >= 0) {
        if ((rc = qcow2_load_l1(q, q->snaps[si].l1_offset, q->snaps[si].l1_size, q->snaps[si].disk_size, 0)) < 0)
            goto out;
        vsize = q->snaps[si].disk_size;
    }
    /* qemu counts whole sectors: a size in the middle of one is cut there */
    q->size = vsize & ~511ULL;
    if (q->backing_name)
        q->backing_full = gk_dev_protocol(q->file)->resolve(q->file, q->backing_name);
    if (q->backing_name && !(ctx->flags & GK_OPEN_NO_BACKING)) {
        if (q->data != q->file && (q->h.autoclear_features & QC_AUTOCLEAR_DATA_FILE_RAW)) {
            rc = gk_fail(EINVAL, "%s: a raw external data file cannot have a backing file", q->path);
            goto out;
        }
        d->backing = gk_open_backing(ctx, q->file, q->backing_name, q->backing_format);
        if (!d->backing) {
            rc = -errno;
            goto out;
        }
    }
    rc = 0;
out:
    free(h);
    return rc;
}

static int q_probe(const uint8_t *buf, size_t len, const char *filename)
{
    (void)filename;
    return len >= 8 && gk_be32(buf) == QC_MAGIC && gk_be32(buf + 4) >= 2 ? 100 : 0;
}

static gk_dev *q_open(gk_dev *file, gk_open_ctx *ctx)
{
    struct qcow2 *q = gk_calloc(1, sizeof *q);
    q->file = q->data = file;
    q->path = file->name;
    q->file_size = file->size;
    q->info_only = !!(ctx->flags & GK_OPEN_INFO);
    /* qemu-img info describes images qemu would not read well; reads
     * refuse them (and qemu-img info cannot be less lenient than qemu) */
    q->check_mode = !!(ctx->flags & GK_OPEN_CHECK) && !ctx->readwrite;
    q->strict = !q->info_only && !q->check_mode;
    q->key = ctx->key;
    q->keylen = ctx->keylen;

    uint64_t cache = DEFAULT_L2_CACHE;
    const char *env = getenv("GUESTKIT_L2_CACHE");
    if (env && *env)
        cache = strtoull(env, NULL, 0);
    if (cache > (256ULL << 20))
        cache = 256ULL << 20;

    gk_dev *d = gk_dev_new(&qcow2_ops, file->name, 0, q);
    d->file = file;
    int rc = q_open_all(q, d, ctx);
    if (rc == 0 && ctx->readwrite && q->h.crypt_method == 2 && q->key) {
        q->pass = gk_secret_alloc(q->keylen + 1);
        memcpy(q->pass, q->key, q->keylen);
        q->passlen = q->keylen;
    }
    q->key = NULL; /* only the open uses it; the caller keeps it */
    q->keylen = 0;
    if (rc < 0) {
        d->file = NULL; /* the caller keeps the file */
        gk_dev_unref(d);
        errno = -rc;
        return NULL;
    }
    uint64_t ntab = cache / q->cluster_size;
    q->l2_cache = qcow2_cache_new(file, "L2 table", q->cluster_size, (unsigned)(ntab ? ntab : 1));
    q->rb_cache = qcow2_cache_new(file, "refcount block", q->cluster_size, RB_CACHE_TABLES);
    if (!ctx->readwrite && q->cluster_size > L2_SLICE) {
        /* a lookup needs a few entries of a table: fresh pages filled
         * with 64 KiB of entries cost more than the lookup (bench/
         * RESULTS.md, round 5); the same bytes of cache in slices */
        q->l2s_size = L2_SLICE;
        uint64_t nsl = (ntab ? ntab : 1) * (q->cluster_size / L2_SLICE);
        q->l2s_cache = qcow2_cache_new(file, "L2 table", L2_SLICE, (unsigned)nsl);
    }
    /* the writer's order: refcount blocks before the L2 tables that use them */
    qcow2_cache_set_dependency(q->l2_cache, q->rb_cache);
    d->size = q->size;
    d->readonly = 1;
    if (ctx->readwrite && (rc = qcow2_open_rw(q, d, ctx)) < 0) {
        d->file = NULL; /* the caller keeps the file */
        gk_dev_unref(d);
        errno = -rc;
        return NULL;
    }
    if ((q->h.incompatible_features & QC_INCOMPAT_CORRUPT) && !(ctx->flags & (GK_OPEN_REPAIR | GK_OPEN_CHECK)))
        gk_warn("%s: image is marked corrupt; reading it anyway (read-only)", q->path);
    return d;
}

static int q_info(gk_dev *d, gk_image_info *info)
{
    struct qcow2 *q = d->priv;
    const struct qcow2_header *h = &q->h;
    info->format = "qcow2";
    info->filename = gk_strdup(q->path);
    info->virtual_size = d->size;
    /* qemu 7.2 counts the image file only, not an external data file */
    if (q->file->ops->get_allocated)
        q->file->ops->get_allocated(q->file, &info->actual_size);
    info->dirty = !!(h->incompatible_features & QC_INCOMPAT_DIRTY);
    info->version = q->version;
    info->cluster_size = (uint32_t)q->cluster_size;
    info->backing_file = gk_strdup(q->backing_name);
    info->full_backing_file = gk_strdup(q->backing_full);
    info->backing_format = gk_strdup(q->backing_format);
    info->data_file = gk_strdup(q->data_file_name);
    info->data_file_raw = !(h->incompatible_features & QC_INCOMPAT_DATA_FILE) ? -1
                          : !!(h->autoclear_features & QC_AUTOCLEAR_DATA_FILE_RAW);
    info->corrupt = !!(h->incompatible_features & QC_INCOMPAT_CORRUPT);
    info->lazy_refcounts = !!(h->compatible_features & QC_COMPAT_LAZY_REFCOUNTS);
    info->extended_l2 = q->ext_l2;
    info->refcount_bits = 1 << h->refcount_order;
    info->compression_type = q->compression_type ? "zstd" : "zlib";
    info->encrypted = h->crypt_method != 0;
    qcow2_crypto_info(q, &info->encrypt);
    info->nb_bitmaps = q->nb_bitmaps;
    /* qemu lists no snapshots of an image with an external data file
     * (they cannot exist there; a damaged header may claim some) */
    info->nb_snapshots = h->incompatible_features & QC_INCOMPAT_DATA_FILE ? 0 : (int)q->nb_snapshots;
    if (info->nb_snapshots) {
        info->snapshots = gk_calloc(q->nb_snapshots, sizeof *info->snapshots);
        for (uint32_t i = 0; i < q->nb_snapshots; i++) {
            info->snapshots[i] = q->snaps[i];
            info->snapshots[i].id = gk_strdup(q->snaps[i].id);
            info->snapshots[i].name = gk_strdup(q->snaps[i].name);
        }
    }
    return 0;
}

const struct gk_format gk_qcow2_format = {
    .name = "qcow2",
    .probe = q_probe,
    .open = q_open,
    .create = qcow2_create,
    .create_opts = qcow2_create_opts,
    .compressed_writes = 1,
    .info = q_info,
    .check = qcow2_check,
    .snapshot_create = qcow2_snapshot_create,
    .snapshot_goto = qcow2_snapshot_goto,
    .snapshot_delete = qcow2_snapshot_delete,
    .set_backing = qcow2_set_backing,
    .make_empty = qcow2_make_empty,
    .repair = qcow2_repair,
    .amend = qcow2_amend,
    .amend_help = qcow2_amend_help,
    .measure = qcow2_measure,
};
