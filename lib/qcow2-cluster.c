/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 cluster mapping: L1 and L2 tables, guest offset -> host offset,
 * zero clusters, subclusters (extended L2), compressed descriptors.
 * Every entry is checked before it is used, as qemu checks it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

int qcow2_load_l1(struct qcow2 *q, uint64_t off, uint32_t size, uint64_t vsize, int active)
{
    const char *what = active ? "active" : "snapshot";
    uint64_t bytes = (uint64_t)size * 8;
    if (bytes > QC_MAX_L1_BYTES)
        return gk_fail(EFBIG, "%s: %s L1 table is too large (%u entries)", q->path, what, size);
    unsigned shift = q->cluster_bits + q->l2_bits;
    uint64_t need = (vsize >> shift) + !!(vsize & ((1ULL << shift) - 1));
    if (need > size && active)
        return gk_fail(EINVAL, "%s: L1 table is too small (%u entries for %llu bytes)", q->path, size,
                       (unsigned long long)vsize);
    if (size && (off & (q->cluster_size - 1) || off > (1ULL << 62) ||
                 (q->strict && (off < q->cluster_size || !gk_range_ok(off, bytes, q->file_size)))))
        return gk_fail(EINVAL, "%s: %s L1 table offset 0x%llx is invalid or outside the image file", q->path, what,
                       (unsigned long long)off);
    free(q->l1);
    q->l1 = gk_malloc(bytes ? bytes : 8);
    q->l1_size = size;
    if (bytes) {
        int r = qcow2_read(q, q->file, q->l1, bytes, off);
        if (r < 0)
            return r;
    }
    for (uint32_t i = 0; i < size; i++)
        q->l1[i] = gk_be64(&q->l1[i]);
    return 0;
}

void qcow2_compressed_range(const struct qcow2 *q, uint64_t desc, uint64_t *coff, uint64_t *csize)
{
    unsigned x = 62 - (q->cluster_bits - 8);
    *coff = desc & ((1ULL << x) - 1);
    uint64_t nb = ((desc >> x) & ((1ULL << (q->cluster_bits - 8)) - 1)) + 1;
    *csize = nb * 512 - (*coff & 511);
}

/* Classify one unit (a cluster, or a subcluster with extended L2). */
static int classify(struct qcow2 *q, uint64_t guest_cluster_off, uint64_t e, uint64_t bm, unsigned sc,
                    int *type, int *has_off, uint64_t *host)
{
    uint64_t off = e & QC_OFFSET_MASK;
    int external = q->data != q->file;
    *has_off = 0;
    *host = 0;
    if (e & QC_OFLAG_COMPRESSED) {
        if (external)
            return gk_fail(EIO, "%s: compressed cluster with an external data file (image corrupt)", q->path);
        *type = QC_COMP;
        return 0;
    }
    if (!q->ext_l2 && (e & QC_OFLAG_ZERO)) {
        if (q->version < 3)
            return gk_fail(EIO, "%s: zero cluster entry found in a version 2 image (image corrupt)", q->path);
        *type = QC_ZERO;
        if (!off)
            return 0;
    } else if (!off && !(external && (e & QC_OFLAG_COPIED))) {
        /* cluster not allocated */
        if (q->ext_l2) {
            if (bm & 0xffffffffULL)
                return gk_fail(EIO, "%s: unallocated cluster with allocated subclusters (image corrupt)", q->path);
            *type = (bm >> (32 + sc)) & 1 ? QC_ZERO : QC_UNALLOC;
        } else {
            *type = QC_UNALLOC;
        }
        return 0;
    } else if (q->ext_l2) {
        if ((bm >> 32) & bm)
            return gk_fail(EIO, "%s: invalid subcluster bitmap 0x%llx (image corrupt)", q->path,
                           (unsigned long long)bm);
        if ((bm >> (32 + sc)) & 1)
            *type = QC_ZERO;
        else if ((bm >> sc) & 1)
            *type = QC_DATA;
        else
            *type = QC_UNALLOC;
    } else {
        *type = QC_DATA;
    }
    if (off & (q->cluster_size - 1))
        return gk_fail(EIO, "%s: cluster offset 0x%llx is not cluster aligned (image corrupt)", q->path,
                       (unsigned long long)off);
    if (external) {
        if (off != guest_cluster_off)
            return gk_fail(EIO, "%s: external data file offset 0x%llx does not match guest offset 0x%llx "
                                "(image corrupt)", q->path, (unsigned long long)off,
                           (unsigned long long)guest_cluster_off);
    } else if (*type == QC_DATA && off >= q->file_size) {
        return gk_fail(EIO, "%s: data cluster offset 0x%llx is past the end of the file (image corrupt)", q->path,
                       (unsigned long long)off);
    } else if (off < q->cluster_size) {
        return gk_fail(EIO, "%s: data cluster overlaps the header (image corrupt)", q->path);
    }
    *has_off = 1;
    *host = off + ((uint64_t)sc << (q->cluster_bits - 5)) * (uint64_t)q->ext_l2;
    return 0;
}

int qcow2_map(struct qcow2 *q, uint64_t off, uint64_t maxlen, struct qcow2_run *r)
{
    unsigned cb = q->cluster_bits;
    unsigned tshift = cb + q->l2_bits;        /* bytes mapped by one L2 table */
    uint64_t l1i = off >> tshift;
    uint64_t tend = (l1i + 1) << tshift;
    uint64_t lim = tend - off < maxlen ? tend - off : maxlen;
    memset(r, 0, sizeof *r);
    uint64_t l2off = l1i < q->l1_size ? q->l1[l1i] & QC_OFFSET_MASK : 0;
    if (!l2off) {
        r->type = QC_UNALLOC;
        r->len = lim;
        return 0;
    }
    if (l2off & (q->cluster_size - 1))
        return gk_fail(EIO, "%s: L2 table offset 0x%llx is not cluster aligned (image corrupt)", q->path,
                       (unsigned long long)l2off);
    if (l2off < q->cluster_size || !gk_range_ok(l2off, q->cluster_size, q->file_size))
        return gk_fail(EIO, "%s: L2 table offset 0x%llx is outside the image file (image corrupt)", q->path,
                       (unsigned long long)l2off);
    /* Read-only opens cache L2 tables in slices (q->l2s_cache, qemu's
     * l2-cache-entry-size): a lookup reads 4 KiB, not the whole table.  A
     * run goes on into the next slice, so runs end where whole tables
     * would end them. */
    struct qcow2_cache *cache = q->l2s_cache ? q->l2s_cache : q->l2_cache;
    uint64_t psize = q->l2s_cache ? q->l2s_size : q->cluster_size;
    uint64_t per = psize / q->l2_entry_size; /* entries per cached piece */
    uint64_t piece = UINT64_MAX;
    void *tv = NULL;
    int rc = 0;
    unsigned ubits = q->ext_l2 ? cb - 5 : cb;  /* unit: subcluster or cluster */
    uint64_t usize = 1ULL << ubits;
    uint64_t u = (off & ((1ULL << tshift) - 1)) >> ubits;
    uint64_t nunits = (1ULL << tshift) >> ubits;
    uint64_t len = 0;
    for (; u < nunits && len < lim; u++) {
        uint64_t ci = u >> (cb - ubits);
        if (ci / per != piece) {
            if (tv)
                qcow2_cache_put(cache, tv);
            tv = NULL;
            piece = ci / per;
            if ((rc = qcow2_cache_get(cache, l2off + piece * psize, &tv)) < 0) {
                tv = NULL;
                break;
            }
        }
        const uint8_t *ent = (const uint8_t *)tv + (ci % per) * q->l2_entry_size;
        uint64_t e = gk_be64(ent);
        uint64_t bm = q->ext_l2 ? gk_be64(ent + 8) : 0;
        unsigned sc = (unsigned)(u & ((1u << (cb - ubits)) - 1));
        uint64_t gco = ((l1i << q->l2_bits) + ci) << cb;
        int type = QC_UNALLOC, has_off = 0;
        uint64_t host = 0;
        rc = classify(q, gco, e, bm, sc, &type, &has_off, &host);
        if (rc < 0)
            break;
        uint64_t in = len ? 0 : off & (usize - 1);
        if (len == 0) {
            r->type = type;
            r->has_off = has_off;
            r->host = host + in;
            if (type == QC_COMP) {
                r->desc = e & ~QC_OFLAG_COPIED;
                /* one compressed cluster per run */
                uint64_t rest = q->cluster_size - (off & (q->cluster_size - 1));
                len = rest;
                break;
            }
        } else if (type != r->type || has_off != r->has_off || (has_off && host != r->host + len)) {
            break;
        }
        len += usize - in;
    }
    if (tv)
        qcow2_cache_put(cache, tv);
    if (rc < 0 && len == 0)
        return rc;
    /* a bad entry further on ends the run here; the next call reports it */
    r->len = len < lim ? len : lim;
    return 0;
}
