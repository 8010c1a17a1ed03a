/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 metadata generations: changes that cannot be made one safe step at
 * a time (snapshot create, apply and delete) are built beside the image's
 * metadata and switched in with one write of the header.
 *
 * Why: QCOW_OFLAG_COPIED must be set exactly on the entries of the active
 * L1 and L2 tables whose cluster has refcount 1 (qemu-img check counts any
 * difference as corruption).  Taking a snapshot raises the refcount of every
 * active cluster and must clear their COPIED flags; deleting one lowers
 * refcounts and must set flags again.  The flags live in L2 tables and the
 * refcounts in refcount blocks: no order of in-place writes keeps both in
 * step across a kill -9.  So nothing in use is written in place:
 *
 * - the new active L1 and copies of the L2 tables it points to (COPIED
 *   flags computed from the new refcounts), the new snapshot table and a
 *   complete new refcount table with its blocks are written into clusters
 *   that are free in the current image (refcount 0: nothing points there),
 *   and flushed;
 * - then bytes 24..71 of the header (size, L1 size and offset, refcount
 *   table offset and clusters, snapshot count and offset) are rewritten in
 *   one 48-byte write inside the first sector, and flushed.
 * A kill before that write leaves the old image untouched (what was written
 * lies in free clusters); after it, the new one is complete.  The old
 * tables become free clusters, reused by later writes.
 *
 * The new refcounts are the old ones plus what the operation changes (the
 * caller says what it drops and adds; leaks stay leaks), held in memory as
 * 32-bit counters for every cluster of the file: 4 bytes and one bit per
 * cluster, proportional to the image's size like qemu-img check. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

struct qcow2_gen {
    struct qcow2 *q;
    uint64_t n;            /* clusters the arrays cover                       */
    uint32_t *rc;          /* the new refcounts                               */
    uint8_t *used;         /* bit k: cluster k has a refcount in the image    */
    uint64_t hint;         /* no free cluster below this one                  */
    uint64_t *l2new;       /* new_active: the L2 copies, one per L1 entry     */
};

static void put_be(uint8_t *p, uint64_t v, unsigned size)
{
    for (unsigned i = size; i-- > 0; v >>= 8)
        p[i] = (uint8_t)v;
}

static int is_used(const struct qcow2_gen *g, uint64_t k)
{
    return k < g->n && (g->used[k / 8] >> (k % 8) & 1);
}

static int grow(struct qcow2_gen *g, uint64_t n)
{
    if (n <= g->n)
        return 0;
    if (n > (1ULL << 56 >> g->q->cluster_bits))
        return gk_fail(EFBIG, "%s: image file would be too large", g->q->path);
    uint64_t cap = g->n + g->n / 4 + 64;
    if (cap < n)
        cap = n;
    g->rc = gk_realloc(g->rc, cap * sizeof *g->rc);
    memset(g->rc + g->n, 0, (cap - g->n) * sizeof *g->rc);
    g->used = gk_realloc(g->used, (cap + 7) / 8);
    memset(g->used + (g->n + 7) / 8, 0, (cap + 7) / 8 - (g->n + 7) / 8);
    g->n = cap;
    return 0;
}

void qcow2_gen_free(struct qcow2_gen *g)
{
    if (!g)
        return;
    free(g->rc);
    free(g->used);
    free(g->l2new);
    free(g);
}

int qcow2_gen_begin(struct qcow2 *q, struct qcow2_gen **out)
{
    *out = NULL;
    if (!q->rw)
        return gk_fail(EROFS, "%s: image is not open for writing", q->path);
    if (q->data != q->file)
        return gk_fail(ENOTSUP, "%s: internal snapshots are not supported with an external data file", q->path);
    int r = qcow2_refcount_load(q);
    if (r < 0)
        return r;
    struct qcow2_gen *g = gk_calloc(1, sizeof *g);
    g->q = q;
    /* every cluster of the file; refcounts of clusters past its end are
     * leaks (nothing can point there in an image that passed the check on
     * opening) and are dropped */
    uint64_t nfile = (q->file->size + q->cluster_size - 1) >> q->cluster_bits;
    if ((r = grow(g, nfile ? nfile : 1)) < 0)
        goto fail;
    unsigned rbb = q->cluster_bits + 3 - q->h.refcount_order; /* log2 entries per block */
    uint8_t *blk = gk_malloc(q->cluster_size);
    for (uint64_t i = 0; i < q->reft_entries && (i << rbb) < nfile; i++) {
        uint64_t boff = q->reft[i] & QC_REFT_OFFSET_MASK;
        if (!boff)
            continue;
        if (boff & (q->cluster_size - 1)) {
            r = gk_fail(EIO, "%s: refcount block %llu is not cluster aligned (image corrupt)", q->path,
                        (unsigned long long)i);
            break;
        }
        if ((r = qcow2_read(q, q->file, blk, q->cluster_size, boff)) < 0)
            break;
        uint64_t first = i << rbb;
        for (uint64_t j = 0; j < (1ULL << rbb) && first + j < nfile; j++) {
            uint64_t v = qcow2_rb_get(q, blk, j);
            if (v >= UINT32_MAX) {
                r = gk_fail(ERANGE, "%s: cluster %llu has too many references to be changed here", q->path,
                            (unsigned long long)(first + j));
                break;
            }
            g->rc[first + j] = (uint32_t)v;
            if (v)
                g->used[(first + j) / 8] |= (uint8_t)(1u << ((first + j) % 8));
        }
        if (r < 0)
            break;
    }
    free(blk);
    if (r < 0)
        goto fail;
    g->hint = 1;
    /* the commit writes a whole new refcount structure: the old one goes */
    r = qcow2_gen_ref(g, q->h.refcount_table_offset, (uint64_t)q->h.refcount_table_clusters << q->cluster_bits,
                      -1);
    for (uint64_t i = 0; i < q->reft_entries && r == 0; i++)
        if (q->reft[i] & QC_REFT_OFFSET_MASK)
            r = qcow2_gen_ref(g, q->reft[i] & QC_REFT_OFFSET_MASK, q->cluster_size, -1);
    if (r < 0)
        goto fail;
    *out = g;
    return 0;
fail:
    qcow2_gen_free(g);
    return r;
}

int qcow2_gen_ref(struct qcow2_gen *g, uint64_t off, uint64_t len, int delta)
{
    struct qcow2 *q = g->q;
    if (len == 0)
        return 0;
    if (off + len < off || off + len > (1ULL << 56))
        return gk_fail(EIO, "%s: metadata points past the largest possible image (image corrupt)", q->path);
    uint64_t first = off >> q->cluster_bits, last = (off + len - 1) >> q->cluster_bits;
    for (uint64_t k = first; k <= last; k++) {
        if (k >= g->n || (!is_used(g, k) && delta < 0))
            return gk_fail(EIO, "%s: cluster 0x%llx is in use but has no refcount (image corrupt)", q->path,
                           (unsigned long long)(k << q->cluster_bits));
        if (delta < 0) {
            if (g->rc[k] < (uint32_t)-delta)
                return gk_fail(EIO, "%s: refcount of cluster 0x%llx would drop below zero (image corrupt)",
                               q->path, (unsigned long long)(k << q->cluster_bits));
            g->rc[k] -= (uint32_t)-delta;
        } else {
            if (g->rc[k] > UINT32_MAX - 1 - (uint32_t)delta || g->rc[k] + (uint64_t)delta > qcow2_refcount_max(q))
                /* EINVAL as qemu's update_refcount */
                return gk_fail(EINVAL, "%s: refcount of cluster 0x%llx would exceed the maximum of the image's "
                                       "%u-bit refcounts", q->path, (unsigned long long)(k << q->cluster_bits),
                               1u << q->h.refcount_order);
            g->rc[k] += (uint32_t)delta;
        }
    }
    return 0;
}

int64_t qcow2_gen_alloc(struct qcow2_gen *g, uint64_t bytes)
{
    struct qcow2 *q = g->q;
    uint64_t need = (bytes + q->cluster_size - 1) >> q->cluster_bits;
    if (need == 0)
        need = 1;
    /* first fit among clusters free in the image and not taken yet */
    uint64_t start = g->hint;
    while (start < g->n && (is_used(g, start) || g->rc[start]))
        start++;
    g->hint = start;
    for (;;) {
        int r = grow(g, start + need);
        if (r < 0)
            return r;
        uint64_t j = 0;
        while (j < need && !is_used(g, start + j) && g->rc[start + j] == 0)
            j++;
        if (j == need)
            break;
        start += j + 1;
    }
    for (uint64_t i = start; i < start + need; i++)
        g->rc[i] = 1;
    return (int64_t)(start << q->cluster_bits);
}

static void release(struct qcow2_gen *g, uint64_t off, uint64_t nclusters)
{
    uint64_t k = off >> g->q->cluster_bits;
    for (uint64_t i = 0; i < nclusters; i++)
        g->rc[k + i] = 0;
    if (k < g->hint)
        g->hint = k;
}

/* The data clusters an L2 entry points to: compressed ranges and standard
 * (also preallocated zero) clusters, as qemu-img check counts them. */
static int ref_entry(struct qcow2_gen *g, uint64_t e, int delta)
{
    struct qcow2 *q = g->q;
    if (e & QC_OFLAG_COMPRESSED) {
        uint64_t coff, csize;
        qcow2_compressed_range(q, e, &coff, &csize);
        return qcow2_gen_ref(g, coff, csize, delta);
    }
    uint64_t off = e & QC_OFFSET_MASK;
    if (!off)
        return 0;
    if (off & (q->cluster_size - 1))
        return gk_fail(EIO, "%s: data cluster offset 0x%llx is not aligned (image corrupt)", q->path,
                       (unsigned long long)off);
    return qcow2_gen_ref(g, off, q->cluster_size, delta);
}

/* Read and check an L1 table: entries in host order, malloc'd. */
static int read_l1(struct qcow2 *q, uint64_t off, uint32_t size, uint64_t **out)
{
    uint64_t bytes = (uint64_t)size * 8;
    *out = NULL;
    if (bytes > QC_MAX_L1_BYTES)
        return gk_fail(EFBIG, "%s: L1 table is too large (%u entries)", q->path, size);
    if (size && (off & (q->cluster_size - 1) || !gk_range_ok(off, bytes, q->file->size)))
        return gk_fail(EIO, "%s: L1 table offset 0x%llx is invalid (image corrupt)", q->path,
                       (unsigned long long)off);
    uint64_t *t = gk_malloc(bytes ? bytes : 8);
    int r = bytes ? qcow2_read(q, q->file, t, bytes, off) : 0;
    if (r < 0) {
        free(t);
        return r;
    }
    for (uint32_t i = 0; i < size; i++) {
        t[i] = gk_be64(&t[i]);
        uint64_t l2 = t[i] & QC_OFFSET_MASK;
        if (l2 && (l2 & (q->cluster_size - 1))) {
            free(t);
            return gk_fail(EIO, "%s: L2 table offset 0x%llx is not aligned (image corrupt)", q->path,
                           (unsigned long long)l2);
        }
    }
    *out = t;
    return 0;
}

int qcow2_gen_ref_l1(struct qcow2_gen *g, uint64_t l1off, uint32_t l1size, int delta, int self)
{
    struct qcow2 *q = g->q;
    uint64_t *l1;
    int r = read_l1(q, l1off, l1size, &l1);
    if (r < 0)
        return r;
    if (self)
        r = qcow2_gen_ref(g, l1off, (uint64_t)l1size * 8, delta);
    uint8_t *t = gk_malloc(q->cluster_size);
    for (uint32_t i = 0; i < l1size && r == 0; i++) {
        uint64_t l2 = l1[i] & QC_OFFSET_MASK;
        if (!l2)
            continue;
        if ((r = qcow2_gen_ref(g, l2, q->cluster_size, delta)) < 0 ||
            (r = qcow2_read(q, q->file, t, q->cluster_size, l2)) < 0)
            break;
        for (uint64_t j = 0; j < q->l2_entries && r == 0; j++)
            r = ref_entry(g, gk_be64(t + j * q->l2_entry_size), delta);
    }
    free(t);
    free(l1);
    return r;
}

int qcow2_gen_new_active(struct qcow2_gen *g, uint64_t tmpl_off, uint32_t tmpl_size, uint32_t l1_size,
                         uint64_t *l1_off)
{
    struct qcow2 *q = g->q;
    uint64_t *tl1;
    int r = read_l1(q, tmpl_off, tmpl_size, &tl1);
    if (r < 0)
        return r;
    if (tmpl_size > l1_size)
        l1_size = tmpl_size;
    /* pass 1: a copy of every L2 table, and the data it points to gains
     * the active image's reference */
    free(g->l2new);
    g->l2new = gk_calloc(tmpl_size ? tmpl_size : 1, sizeof *g->l2new);
    uint8_t *t = gk_malloc(q->cluster_size);
    for (uint32_t i = 0; i < tmpl_size && r == 0; i++) {
        uint64_t l2 = tl1[i] & QC_OFFSET_MASK;
        if (!l2)
            continue;
        int64_t a = qcow2_gen_alloc(g, q->cluster_size);
        if (a < 0) {
            r = (int)a;
            break;
        }
        g->l2new[i] = (uint64_t)a;
        if ((r = qcow2_read(q, q->file, t, q->cluster_size, l2)) < 0)
            break;
        for (uint64_t j = 0; j < q->l2_entries && r == 0; j++)
            r = ref_entry(g, gk_be64(t + j * q->l2_entry_size), 1);
    }
    uint64_t l1bytes = (uint64_t)l1_size * 8;
    int64_t a1 = 0;
    if (r == 0 && l1_size && (a1 = qcow2_gen_alloc(g, l1bytes)) < 0)
        r = (int)a1;
    /* pass 2: write the copies with COPIED set exactly where the new
     * refcount is 1, then the L1 (its tables all have refcount 1) */
    uint8_t *l1 = NULL;
    if (r == 0 && l1_size) {
        uint64_t l1cl = (l1bytes + q->cluster_size - 1) & ~(q->cluster_size - 1);
        l1 = gk_calloc(1, l1cl);
        for (uint32_t i = 0; i < tmpl_size && r == 0; i++) {
            uint64_t l2 = tl1[i] & QC_OFFSET_MASK;
            if (!l2)
                continue;
            if ((r = qcow2_read(q, q->file, t, q->cluster_size, l2)) < 0)
                break;
            for (uint64_t j = 0; j < q->l2_entries; j++) {
                uint8_t *p = t + j * q->l2_entry_size;
                uint64_t e = gk_be64(p), off = e & QC_OFFSET_MASK;
                if ((e & QC_OFLAG_COMPRESSED) || !off)
                    continue;
                e &= ~QC_OFLAG_COPIED;
                if (g->rc[off >> q->cluster_bits] == 1)
                    e |= QC_OFLAG_COPIED;
                put_be(p, e, 8);
            }
            if (gk_pwrite(q->file, t, q->cluster_size, g->l2new[i]) < 0) {
                r = -errno;
                break;
            }
            put_be(l1 + (uint64_t)i * 8, g->l2new[i] | QC_OFLAG_COPIED, 8);
        }
        if (r == 0 && gk_pwrite(q->file, l1, l1cl, (uint64_t)a1) < 0)
            r = -errno;
    }
    free(l1);
    free(t);
    free(tl1);
    if (r == 0)
        *l1_off = (uint64_t)a1;
    return r;
}

/* The refcount blocks and table for g->rc, allocated from free clusters
 * (they count themselves), then written. */
static int write_refcounts(struct qcow2_gen *g, uint64_t *reft_off, uint32_t *reft_clusters)
{
    struct qcow2 *q = g->q;
    unsigned rbb = q->cluster_bits + 3 - q->h.refcount_order;
    uint64_t rbe = 1ULL << rbb, cs = q->cluster_size;
    uint64_t *blk = NULL, nblk = 0, toff = 0, tcl = 0, nr = 0;
    int r = 0;
    for (int round = 0;; round++) {
        if (round > 64) {
            r = gk_fail(EIO, "%s: refcount structure does not settle", q->path);
            break;
        }
        uint64_t hi = g->n;
        while (hi > 0 && g->rc[hi - 1] == 0)
            hi--;
        nr = (hi + rbe - 1) >> rbb;
        if (nr > nblk) {
            blk = gk_realloc(blk, nr * sizeof *blk);
            memset(blk + nblk, 0, (nr - nblk) * sizeof *blk);
            nblk = nr;
        }
        int added = 0;
        for (uint64_t i = 0; i < nr; i++) {
            if (blk[i])
                continue;
            uint64_t end = (i + 1) << rbb;
            if (end > g->n)
                end = g->n;
            int any = 0;
            for (uint64_t k = i << rbb; k < end && !any; k++)
                any = g->rc[k] != 0;
            if (!any)
                continue;
            int64_t a = qcow2_gen_alloc(g, cs);
            if (a < 0) {
                r = (int)a;
                goto out;
            }
            blk[i] = (uint64_t)a;
            added = 1;
        }
        uint64_t need = (nr * 8 + cs - 1) / cs;
        if (!added && toff && tcl >= need)
            break;
        if (toff && tcl < need) {
            release(g, toff, tcl);
            toff = 0;
        }
        if (!toff) {
            tcl = need + 1;
            if (tcl * cs > QC_MAX_REFT_BYTES) {
                r = gk_fail(EFBIG, "%s: refcount table would be too large", q->path);
                goto out;
            }
            int64_t a = qcow2_gen_alloc(g, tcl * cs);
            if (a < 0) {
                r = (int)a;
                goto out;
            }
            toff = (uint64_t)a;
        }
    }
    if (r < 0)
        goto out;
    uint8_t *b = gk_malloc(cs);
    for (uint64_t i = 0; i < nr && r == 0; i++) {
        if (!blk[i])
            continue;
        memset(b, 0, cs);
        for (uint64_t j = 0; j < rbe && (i << rbb) + j < g->n; j++)
            qcow2_rb_set(q, b, j, g->rc[(i << rbb) + j]);
        if (gk_pwrite(q->file, b, cs, blk[i]) < 0)
            r = -errno;
    }
    free(b);
    if (r == 0) {
        uint8_t *t = gk_calloc(1, tcl * cs);
        for (uint64_t i = 0; i < nr; i++)
            put_be(t + i * 8, blk[i], 8);
        if (gk_pwrite(q->file, t, tcl * cs, toff) < 0)
            r = -errno;
        free(t);
    }
    *reft_off = toff;
    *reft_clusters = (uint32_t)tcl;
out:
    free(blk);
    return r;
}

int qcow2_gen_commit(struct qcow2_gen *g, gk_dev *d, const struct qcow2_gen_header *nh)
{
    struct qcow2 *q = g->q;
    uint64_t reft_off = 0;
    uint32_t reft_cl = 0;
    int r = write_refcounts(g, &reft_off, &reft_cl);
    if (r < 0)
        return r;
    /* everything the new header points to is on disk before it */
    if (gk_flush(q->file) < 0)
        return -errno;
    uint8_t h[48];
    put_be(h, nh->size, 8);
    put_be(h + 8, q->h.crypt_method, 4);
    put_be(h + 12, nh->l1_size, 4);
    put_be(h + 16, nh->l1_offset, 8);
    put_be(h + 24, reft_off, 8);
    put_be(h + 32, reft_cl, 4);
    put_be(h + 36, nh->nb_snapshots, 4);
    put_be(h + 40, nh->snapshots_offset, 8);
    if (gk_pwrite(q->file, h, sizeof h, 24) < 0 || gk_flush(q->file) < 0)
        return -errno;
    /* the image is the new one: reload what was cached of the old */
    q->h.size = nh->size;
    q->h.l1_size = nh->l1_size;
    q->h.l1_table_offset = nh->l1_offset;
    q->h.refcount_table_offset = reft_off;
    q->h.refcount_table_clusters = reft_cl;
    q->h.nb_snapshots = nh->nb_snapshots;
    q->h.snapshots_offset = nh->snapshots_offset;
    q->size = nh->size & ~511ULL;
    d->size = q->size;
    q->file_size = q->file->size;
    if ((r = qcow2_cache_empty(q->l2_cache)) < 0 || (r = qcow2_cache_empty(q->rb_cache)) < 0)
        return r;
    free(q->reft);
    q->reft = NULL;
    q->reft_entries = 0;
    q->reft_loaded = 0;
    q->free_cluster_index = 0;
    q->free_byte_offset = 0;
    q->prealloc_checked = 0;
    qcow2_decompressed_forget(q);
    if ((r = qcow2_load_l1(q, nh->l1_offset, nh->l1_size, q->size, 1)) < 0)
        return r;
    qcow2_snapshots_free(q);
    return qcow2_read_snapshots(q);
}
