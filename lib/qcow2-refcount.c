/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 refcounts: the refcount table (loaded on first use, at most
 * QC_MAX_REFT_BYTES), refcount blocks through the metadata cache, entries
 * of 1 to 64 bits.  One module for every user: qemu-img check
 * (qcow2-check.c), map's preallocation test, and issue 9's allocator
 * (update_refcount and cluster allocation belong here). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

int qcow2_refcount_load(struct qcow2 *q)
{
    if (q->reft_loaded)
        return 0;
    uint64_t bytes = (uint64_t)q->h.refcount_table_clusters << q->cluster_bits;
    if (bytes > QC_MAX_REFT_BYTES)
        return gk_fail(EFBIG, "%s: refcount table is too large", q->path);
    uint64_t n = bytes / 8;
    uint64_t *t = gk_malloc(bytes ? bytes : 8);
    int r = qcow2_read(q, q->file, t, bytes, q->h.refcount_table_offset);
    if (r < 0) {
        free(t);
        return r;
    }
    for (uint64_t i = 0; i < n; i++)
        t[i] = gk_be64(&t[i]);
    free(q->reft);
    q->reft = t;
    q->reft_entries = n;
    q->reft_loaded = 1;
    return 0;
}

/* Entry i of a refcount block: 1..64 bits, big-endian from 8 bits up,
 * packed LSB-first below. */
static uint64_t rb_get(const struct qcow2 *q, const uint8_t *rb, uint64_t i)
{
    unsigned bits = 1u << q->h.refcount_order;
    if (bits >= 8) {
        const uint8_t *p = rb + i * (bits / 8);
        uint64_t v = 0;
        for (unsigned b = 0; b < bits / 8; b++)
            v = v << 8 | p[b];
        return v;
    }
    uint64_t bit = i * bits;
    return (rb[bit / 8] >> (bit % 8)) & ((1u << bits) - 1);
}

static void rb_set(const struct qcow2 *q, uint8_t *rb, uint64_t i, uint64_t v)
{
    unsigned bits = 1u << q->h.refcount_order;
    if (bits >= 8) {
        uint8_t *p = rb + i * (bits / 8);
        for (unsigned b = bits / 8; b-- > 0; v >>= 8)
            p[b] = (uint8_t)v;
        return;
    }
    uint64_t bit = i * bits;
    uint8_t mask = (uint8_t)(((1u << bits) - 1) << (bit % 8));
    rb[bit / 8] = (uint8_t)((rb[bit / 8] & ~mask) | ((v << (bit % 8)) & mask));
}

uint64_t qcow2_rb_get(const struct qcow2 *q, const uint8_t *rb, uint64_t i)
{
    return rb_get(q, rb, i);
}

void qcow2_rb_set(const struct qcow2 *q, uint8_t *rb, uint64_t i, uint64_t v)
{
    rb_set(q, rb, i, v);
}

uint64_t qcow2_refcount_max(const struct qcow2 *q)
{
    unsigned bits = 1u << q->h.refcount_order;
    return bits >= 64 ? UINT64_MAX : (1ULL << bits) - 1;
}

int qcow2_get_refcount(struct qcow2 *q, uint64_t k, uint64_t *out)
{
    *out = 0;
    int r = qcow2_refcount_load(q);
    if (r < 0)
        return r;
    unsigned order = q->h.refcount_order;
    unsigned block_bits = q->cluster_bits + 3 - order;   /* entries per refcount block */
    uint64_t idx = k >> block_bits;
    if (idx >= q->reft_entries)
        return 0;
    uint64_t boff = q->reft[idx] & QC_REFT_OFFSET_MASK;
    if (!boff)
        return 0;
    if (boff & (q->cluster_size - 1))
        return gk_fail(EIO, "%s: refcount block %llu is not cluster aligned (image corrupt)", q->path,
                       (unsigned long long)idx);
    void *tv;
    r = qcow2_cache_get(q->rb_cache, boff, &tv);
    if (r < 0)
        return r;
    *out = rb_get(q, tv, k & ((1ULL << block_bits) - 1));
    qcow2_cache_put(q->rb_cache, tv);
    return 0;
}

int qcow2_detect_prealloc(struct qcow2 *q)
{
    uint64_t alloc;
    if (!q->file->ops->get_allocated || q->file->ops->get_allocated(q->file, &alloc) < 0)
        return -ENOTSUP;
    uint64_t real = alloc / q->cluster_size;
    uint64_t threshold = real * 10 / 9 > real + 2 ? real * 10 / 9 : real + 2;
    uint64_t end = (q->file->size + q->cluster_size - 1) >> q->cluster_bits;
    /* Fewer clusters in the file than the threshold: the count below can
     * never reach it (an image written cluster by cluster, not sparse),
     * and counting them all was a twentieth of a gcat on a 2 GB base. */
    if (end < threshold)
        return 0;
    uint64_t count = 0;
    for (uint64_t i = 0; i < end && count < threshold; i++) {
        uint64_t rc;
        int r = qcow2_get_refcount(q, i, &rc);
        if (r < 0)
            return r;
        count += rc != 0;
    }
    return count >= threshold;
}

/* ---- the allocator ---- */

#define QC_MAX_HOST (1ULL << 56)      /* host offsets qemu accepts       */

static unsigned rb_bits(const struct qcow2 *q)
{
    return q->cluster_bits + 3 - q->h.refcount_order;
}

static int write_be64_sync(struct qcow2 *q, uint64_t off, uint64_t v)
{
    uint8_t b[8];
    for (int i = 7; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
    if (gk_pwrite(q->file, b, 8, off) < 0 || gk_flush(q->file) < 0)
        return -errno;
    return 0;
}

/* n free clusters in a row, from free_cluster_index on; refcounts untouched
 * (qemu's alloc_clusters_noref). */
static int64_t alloc_noref(struct qcow2 *q, uint64_t n)
{
    uint64_t i = 0;
    while (i < n) {
        uint64_t k = q->free_cluster_index++, rc;
        if ((q->free_cluster_index << q->cluster_bits) > QC_MAX_HOST)
            return gk_fail(EFBIG, "%s: image file would grow past the largest qcow2 offset", q->path);
        int r = qcow2_get_refcount(q, k, &rc);
        if (r < 0)
            return r;
        i = rc ? 0 : i + 1;
    }
    /* what is allocated counts as part of the image (the checks of the
     * readers compare offsets with file_size) before it is written */
    uint64_t end = q->free_cluster_index << q->cluster_bits;
    if (end > q->file_size)
        q->file_size = end;
    return (int64_t)((q->free_cluster_index - n) << q->cluster_bits);
}

/* Entry idx of the refcount table is past its end: block nb (already
 * counted) is entered into a larger table, made with new refcount blocks
 * that count themselves and it, as qemu's alloc_refcount_block grows it:
 * the area starts at the first refcount block boundary past both the
 * cluster k being counted and nb, and the table has half as many entries
 * again as it needs.  -EAGAIN on success (the caller's search must start
 * again). */
static int grow_reft(struct qcow2 *q, uint64_t k, uint64_t idx, uint64_t nb)
{
    uint64_t per = 1ULL << rb_bits(q), nbk = nb >> q->cluster_bits;
    uint64_t used = ((k > nbk ? k : nbk) + per) / per; /* blocks before the area */
    if (used > QC_MAX_HOST >> q->cluster_bits >> rb_bits(q))
        return gk_fail(EFBIG, "%s: image file would grow past the largest qcow2 offset", q->path);
    int64_t r = qcow2_refcount_area(q, (used * per) << q->cluster_bits, 0, 0, idx, nb);
    return r < 0 ? (int)r : -EAGAIN;
}

int qcow2_reft_switch(struct qcow2 *q, uint64_t *t, uint64_t entries, uint64_t toff, uint64_t tclusters,
                      uint64_t *old, uint64_t *oldc)
{
    /* the table (with whatever the caller wrote before it) on disk, then
     * the header that points to it */
    uint8_t *tb = gk_malloc(entries * 8), hdr[12];
    for (uint64_t i = 0; i < entries; i++)
        gk_put_be64(tb + i * 8, t[i]);
    gk_put_be64(hdr, toff);
    gk_put_be32(hdr + 8, (uint32_t)tclusters);
    int r = 0;
    if (gk_pwrite(q->file, tb, entries * 8, toff) < 0 || gk_flush(q->file) < 0 ||
        gk_pwrite(q->file, hdr, sizeof hdr, 48) < 0 || gk_flush(q->file) < 0)
        r = -errno;
    free(tb);
    if (r < 0) {
        free(t);
        return r;
    }
    *old = q->h.refcount_table_offset;
    *oldc = q->h.refcount_table_clusters;
    free(q->reft);
    q->reft = t;
    q->reft_entries = entries;
    q->h.refcount_table_offset = toff;
    q->h.refcount_table_clusters = (uint32_t)tclusters;
    return 0;
}

uint64_t qcow2_refcount_blocks_for(uint64_t clusters, uint64_t cs, unsigned order, int generous, uint64_t *table)
{
    uint64_t per_table = cs / 8, per_block = (cs * 8) >> order;
    uint64_t t = 0, blocks = 0, n = 0, last;
    for (int it = 0; it < 1000; it++) {
        last = n;
        blocks = (clusters + t + blocks + per_block - 1) / per_block;
        t = (blocks + per_table - 1) / per_table;
        n = clusters + blocks + t;
        if (n == last && generous) {
            /* room for a table half as large again, counted too */
            clusters += (t + 1) / 2;
            n = 0;
            generous = 0;
            continue;
        }
        if (n == last)
            break;
    }
    if (table)
        *table = t;
    return blocks;
}

/* qemu's qcow2_refcount_area: from start (a cluster offset past every
 * used cluster) on, the refcount blocks missing to count up to start +
 * extra clusters, then a new refcount table holding them all (exact: just
 * large enough; else half as large again, for a table that grows), with
 * block nb entered at idx when nb is not 0; these new structures count
 * themselves; the header points to the new table, the old one is freed at
 * once (the next cluster allocated may be there).  Where the area ends
 * (the first free cluster after it), or -errno. */
int64_t qcow2_refcount_area(struct qcow2 *q, uint64_t start, uint64_t extra, int exact, uint64_t idx, uint64_t nb)
{
    uint64_t cs = q->cluster_size;
    unsigned cb = q->cluster_bits, rbb = cb + 3 - q->h.refcount_order;
    uint64_t per_block = 1ULL << rbb;
    uint64_t total = qcow2_refcount_blocks_for((start >> cb) + extra, cs, q->h.refcount_order, !exact, NULL);
    /* a table that grows gets half as many entries again (qemu's) */
    uint64_t tsize = exact ? total : total + (total + 1) / 2;
    tsize = (tsize + cs / 8 - 1) / (cs / 8) * (cs / 8);
    uint64_t tclusters = tsize * 8 / cs;
    if (tsize * 8 > QC_MAX_REFT_BYTES)
        return gk_fail(EFBIG, "Failed to resize refcount structures: the refcount table would exceed %llu MiB",
                       (unsigned long long)(QC_MAX_REFT_BYTES >> 20));
    uint64_t area_idx = (start >> cb) >> rbb, nnew = 0;
    uint64_t *t = gk_calloc(tsize, 8);
    for (uint64_t i = 0; i < q->reft_entries && i < tsize; i++)
        t[i] = q->reft[i];
    if (nb) {
        if (idx >= total) {
            free(t);
            return gk_fail(EIO, "%s: refcount block %llu is past the refcount area (internal error)", q->path,
                           (unsigned long long)idx);
        }
        t[idx] = nb;
    }
    for (uint64_t i = area_idx; i < total; i++)
        nnew += !(t[i] & QC_REFT_OFFSET_MASK);
    uint64_t toff = start + nnew * cs, end = toff + tclusters * cs, boff = start;
    if (end > (1ULL << 56)) {
        free(t);
        return gk_fail(EFBIG, "%s: image file would grow past the largest qcow2 offset", q->path);
    }
    if (end > q->file_size)
        q->file_size = end;
    int r = 0;
    for (uint64_t i = area_idx; i < total && r == 0; i++) {
        void *tv;
        uint64_t off = t[i] & QC_REFT_OFFSET_MASK;
        if (off) {
            if (off & (cs - 1) || off < cs || off >= (1ULL << 56)) {
                r = gk_fail(EIO, "%s: refcount block %llu at 0x%llx is misplaced (image corrupt)", q->path,
                            (unsigned long long)i, (unsigned long long)off);
                break;
            }
            if ((r = qcow2_cache_get(q->rb_cache, off, &tv)) < 0)
                break;
        } else {
            if ((r = qcow2_cache_get_empty(q->rb_cache, boff, &tv)) < 0)
                break;
            memset(tv, 0, cs);
            qcow2_cache_mark_dirty(q->rb_cache, tv);
            t[i] = boff;
            boff += cs;
        }
        uint64_t first = (i << rbb) << cb; /* the first offset block i counts */
        if (first < end) {
            uint64_t j = first < start ? (start - first) >> cb : 0;
            uint64_t jend = (end - first) >> cb < per_block ? (end - first) >> cb : per_block;
            for (; j < jend; j++) {
                if (qcow2_rb_get(q, tv, j)) {
                    r = gk_fail(EIO, "%s: cluster %llu past the last used one has a refcount (image corrupt)",
                                q->path, (unsigned long long)((first >> cb) + j));
                    break;
                }
                qcow2_rb_set(q, tv, j, 1);
            }
            qcow2_cache_mark_dirty(q->rb_cache, tv);
        }
        qcow2_cache_put(q->rb_cache, tv);
    }
    if (r == 0)
        r = qcow2_cache_flush(q->rb_cache);
    if (r < 0) {
        free(t);
        return r;
    }
    uint64_t old, oldc;
    if ((r = qcow2_reft_switch(q, t, tsize, toff, tclusters, &old, &oldc)) < 0)
        return r;
    /* freed now, as qemu does: the next cluster allocated may be there */
    if (oldc && (r = qcow2_update_refcount(q, old, oldc << cb, -1)) < 0)
        return r;
    return (int64_t)end;
}

/* The refcount block of cluster k, held in the cache (*tv), allocated when
 * missing (qemu's alloc_refcount_block): a new block describes itself when
 * it lies in its own range, else its refcount goes where it belongs.
 * -EAGAIN after an allocation (nothing held). */
static int rb_for(struct qcow2 *q, uint64_t k, void **tv)
{
    unsigned cb = q->cluster_bits;
    uint64_t idx = k >> rb_bits(q);
    int r = qcow2_refcount_load(q);
    if (r < 0)
        return r;
    if (idx < q->reft_entries && (q->reft[idx] & QC_REFT_OFFSET_MASK)) {
        uint64_t off = q->reft[idx] & QC_REFT_OFFSET_MASK;
        if (off & (q->cluster_size - 1) || off < q->cluster_size || off >= QC_MAX_HOST)
            return gk_fail(EIO, "%s: refcount block %llu at 0x%llx is misplaced (image corrupt)", q->path,
                           (unsigned long long)idx, (unsigned long long)off);
        return qcow2_cache_get(q->rb_cache, off, tv);
    }
    /* the table is written below: what L2 tables depend on goes first */
    if ((r = qcow2_cache_flush(q->l2_cache)) < 0)
        return r;
    int64_t nb = alloc_noref(q, 1);
    if (nb < 0)
        return (int)nb;
    if (((uint64_t)nb >> cb >> rb_bits(q)) == idx) {
        if ((r = qcow2_cache_get_empty(q->rb_cache, (uint64_t)nb, tv)) < 0)
            return r;
        memset(*tv, 0, q->cluster_size);
        rb_set(q, *tv, ((uint64_t)nb >> cb) & ((1ULL << rb_bits(q)) - 1), 1);
    } else {
        if ((r = qcow2_update_refcount(q, (uint64_t)nb, q->cluster_size, 1)) < 0 ||
            (r = qcow2_cache_flush(q->rb_cache)) < 0 ||
            (r = qcow2_cache_get_empty(q->rb_cache, (uint64_t)nb, tv)) < 0)
            return r;
        memset(*tv, 0, q->cluster_size);
    }
    qcow2_cache_mark_dirty(q->rb_cache, *tv);
    qcow2_cache_put(q->rb_cache, *tv);
    *tv = NULL;
    if ((r = qcow2_cache_flush(q->rb_cache)) < 0)
        return r;
    if (idx < q->reft_entries) {
        if ((r = write_be64_sync(q, q->h.refcount_table_offset + idx * 8, (uint64_t)nb)) < 0)
            return r;
        q->reft[idx] = (uint64_t)nb;
        return -EAGAIN;
    }
    return grow_reft(q, k, idx, (uint64_t)nb);
}

int qcow2_update_refcount(struct qcow2 *q, uint64_t off, uint64_t len, int64_t addend)
{
    if (len == 0)
        return 0;
    unsigned cb = q->cluster_bits;
    uint64_t start = off >> cb, last = (off + len - 1) >> cb;
    uint64_t max = qcow2_refcount_max(q), cur = UINT64_MAX, k;
    void *tv = NULL;
    int r = 0;
    for (k = start; k <= last; k++) {
        uint64_t idx = k >> rb_bits(q);
        if (idx != cur) {
            if (tv)
                qcow2_cache_put(q->rb_cache, tv);
            tv = NULL;
            if ((r = rb_for(q, k, &tv)) < 0) {
                if (r == -EAGAIN && q->free_cluster_index > start)
                    q->free_cluster_index = start;
                break;
            }
            cur = idx;
        }
        uint64_t i = k & ((1ULL << rb_bits(q)) - 1);
        uint64_t v = rb_get(q, tv, i);
        if (addend < 0 && v < (uint64_t)-addend) {
            r = gk_fail(EIO, "%s: refcount of cluster %llu would drop below zero (image corrupt)", q->path,
                        (unsigned long long)k);
            break;
        }
        if (addend > 0 && max - v < (uint64_t)addend) {
            r = gk_fail(ERANGE, "%s: refcount of cluster %llu would overflow", q->path, (unsigned long long)k);
            break;
        }
        v += (uint64_t)addend;
        rb_set(q, tv, i, v);
        qcow2_cache_mark_dirty(q->rb_cache, tv);
        if (v == 0) {
            if (k < q->free_cluster_index)
                q->free_cluster_index = k;
            qcow2_cache_discard(q->l2_cache, k << cb);
        }
    }
    if (tv)
        qcow2_cache_put(q->rb_cache, tv);
    if (r < 0 && k > start) {
        /* undo what was done (keeping the first error's message) */
        char *m = gk_strdup(gk_errmsg());
        qcow2_update_refcount(q, start << cb, (k - start) << cb, -addend);
        gk_error("%s", m);
        free(m);
    }
    return r;
}

int64_t qcow2_alloc_clusters(struct qcow2 *q, uint64_t bytes)
{
    uint64_t n = (bytes + q->cluster_size - 1) >> q->cluster_bits;
    for (int tries = 0; tries < 1000; tries++) {
        int64_t off = alloc_noref(q, n ? n : 1);
        if (off < 0)
            return off;
        int r = qcow2_update_refcount(q, (uint64_t)off, (n ? n : 1) << q->cluster_bits, 1);
        if (r == 0)
            return off;
        if (r != -EAGAIN)
            return r;
    }
    return gk_fail(EIO, "%s: cluster allocation does not settle (image corrupt?)", q->path);
}

int64_t qcow2_alloc_clusters_at(struct qcow2 *q, uint64_t off, uint64_t n)
{
    unsigned cb = q->cluster_bits;
    if (off & (q->cluster_size - 1))
        return gk_fail(EINVAL, "%s: allocation at unaligned offset 0x%llx", q->path, (unsigned long long)off);
    for (int tries = 0; tries < 1000; tries++) {
        /* the free clusters in a row from off: a refcount block that the
         * update below places among them (at the first cluster it covers,
         * when the search for it starts below off) shortens the run */
        uint64_t i = 0, rc;
        for (; i < n; i++) {
            if (((off >> cb) + i + 1) << cb > QC_MAX_HOST)
                break;
            int r = qcow2_get_refcount(q, (off >> cb) + i, &rc);
            if (r < 0)
                return r;
            if (rc)
                break;
        }
        if (i == 0)
            return 0;
        if (off + (i << cb) > q->file_size)
            q->file_size = off + (i << cb);
        int r = qcow2_update_refcount(q, off, i << cb, 1);
        if (r == 0)
            return (int64_t)i;
        if (r != -EAGAIN)
            return r;
    }
    return gk_fail(EIO, "%s: cluster allocation does not settle (image corrupt?)", q->path);
}

int64_t qcow2_alloc_bytes(struct qcow2 *q, uint64_t size)
{
    uint64_t cs = q->cluster_size, off = q->free_byte_offset, rc;
    if (size == 0 || size > cs)
        return gk_fail(EINVAL, "%s: bad compressed size %llu", q->path, (unsigned long long)size);
    if (off) {
        int r = qcow2_get_refcount(q, off >> q->cluster_bits, &rc);
        if (r < 0)
            return r;
        if (rc == qcow2_refcount_max(q))
            off = 0;
    }
    uint64_t room = off ? cs - (off & (cs - 1)) : 0;
    for (int tries = 0; tries < 1000; tries++) {
        if (!off || room < size) {
            int64_t nc = alloc_noref(q, 1);
            if (nc < 0)
                return nc;
            if (!off || ((off + cs - 1) & ~(cs - 1)) != (uint64_t)nc) {
                off = (uint64_t)nc;
                room = cs;
            } else {
                room += cs;
            }
        }
        int r = qcow2_update_refcount(q, off, size, 1);
        if (r == 0) {
            q->free_byte_offset = (off + size) & (cs - 1) ? off + size : 0;
            return (int64_t)off;
        }
        if (r != -EAGAIN)
            return r;
        off = 0;
    }
    return gk_fail(EIO, "%s: allocation does not settle (image corrupt?)", q->path);
}

void qcow2_free_later(struct qcow2 *q, uint64_t off, uint64_t len)
{
    if (!len)
        return;
    if (q->nfrees == q->frees_cap) {
        q->frees_cap = q->frees_cap ? q->frees_cap * 2 : 64;
        q->frees = gk_realloc(q->frees, q->frees_cap * sizeof *q->frees);
    }
    q->frees[q->nfrees++] = (struct qcow2_free){off, len};
}

int qcow2_apply_frees(struct qcow2 *q)
{
    int rc = 0;
    for (size_t i = 0; i < q->nfrees; i++) {
        int r = qcow2_update_refcount(q, q->frees[i].off, q->frees[i].len, -1);
        if (r < 0 && rc == 0)
            rc = r; /* a leak at worst: go on with the others */
    }
    q->nfrees = 0;
    return rc;
}

int qcow2_set_refcount(struct qcow2 *q, uint64_t k, uint64_t v)
{
    if (v > qcow2_refcount_max(q))
        return gk_fail(ERANGE, "%s: refcount %llu too large", q->path, (unsigned long long)v);
    void *tv;
    int r;
    for (int tries = 0; (r = rb_for(q, k, &tv)) == -EAGAIN && tries < 100; tries++)
        ;
    if (r < 0)
        return r;
    rb_set(q, tv, k & ((1ULL << rb_bits(q)) - 1), v);
    qcow2_cache_mark_dirty(q->rb_cache, tv);
    qcow2_cache_put(q->rb_cache, tv);
    return 0;
}

/* ---- rebuilding the refcount structure from computed counts ---- */

struct rebuild {
    struct qcow2 *q;
    struct qcow2_refs *refs;
    uint64_t floor;            /* nothing is placed below this cluster     */
    uint64_t *rt;              /* the new table, host order                */
    uint64_t rt_n;
    uint8_t *blk;              /* one refcount block being written         */
};

/* count free clusters in a row from *ffc on (never below the floor), set to
 * 1 in refs; *ffc moves to the first free cluster seen (qemu's
 * alloc_clusters_imrt).  Their offset, or -errno. */
static int64_t alloc_imrt(struct rebuild *b, uint64_t count, uint64_t *ffc)
{
    struct qcow2_refs *refs = b->refs;
    uint64_t k = *ffc > b->floor ? *ffc : b->floor, contig = 0;
    int first = 1;
    for (; k < refs->n && contig < count; k++) {
        if (qcow2_refs_get(refs, k) == 0) {
            contig++;
            if (first) {
                *ffc = k;
                first = 0;
            }
        } else {
            contig = 0;
        }
    }
    if (contig < count) {
        uint64_t n = k + count - contig;
        if ((n << b->q->cluster_bits) > QC_MAX_HOST || n > (1ULL << 40))
            return gk_fail(EFBIG, "%s: image file would grow past the largest qcow2 offset", b->q->path);
        qcow2_refs_resize(refs, n);
        k = n;
        contig = count;
    }
    k -= contig;
    for (uint64_t i = 0; i < count; i++)
        qcow2_refs_set(refs, k + i, 1);
    return (int64_t)(k << b->q->cluster_bits);
}

/* Write the refcount blocks of every cluster in use in [first, end),
 * allocating those the table lacks (qemu's
 * rebuild_refcounts_write_refblocks).  1 if the table had to grow, 0, or
 * -errno. */
static int write_refblocks(struct rebuild *b, uint64_t first, uint64_t end)
{
    struct qcow2 *q = b->q;
    unsigned cb = q->cluster_bits, rbb = rb_bits(q);
    uint64_t per = 1ULL << rbb, ffc = 0, max = qcow2_refcount_max(q);
    int grown = 0;
    for (uint64_t k = first; k < end && k < b->refs->n; k++) {
        if (qcow2_refs_get(b->refs, k) == 0)
            continue;
        uint64_t bi = k >> rbb, bstart = bi << rbb, boff;
        if (bi < b->rt_n && b->rt[bi]) {
            boff = b->rt[bi];
        } else {
            if (ffc < bstart)
                ffc = bstart;
            int64_t a = alloc_imrt(b, 1, &ffc);
            if (a < 0)
                return (int)a;
            boff = (uint64_t)a;
            if ((boff >> cb) >= end)
                end = (boff >> cb) + 1;
            if (bi >= b->rt_n) {
                uint64_t n = (((bi + 1) * 8 + q->cluster_size - 1) & ~(q->cluster_size - 1)) / 8;
                if (n * 8 > QC_MAX_REFT_BYTES)
                    return gk_fail(EFBIG, "%s: the rebuilt refcount table would be larger than %llu MiB", q->path,
                                   (unsigned long long)(QC_MAX_REFT_BYTES >> 20));
                b->rt = gk_realloc(b->rt, n * 8);
                memset(b->rt + b->rt_n, 0, (n - b->rt_n) * 8);
                b->rt_n = n;
                grown = 1;
            }
            b->rt[bi] = boff;
        }
        memset(b->blk, 0, q->cluster_size);
        for (uint64_t i = 0; i < per && bstart + i < b->refs->n; i++) {
            uint64_t v = qcow2_refs_get(b->refs, bstart + i);
            if (v)
                rb_set(q, b->blk, i, v > max ? max : v);
        }
        if (gk_pwrite(q->file, b->blk, q->cluster_size, boff) < 0)
            return -errno;
        k = bstart + per - 1;
    }
    return grown;
}

static int rebuild(struct qcow2 *q, struct qcow2_refs *refs, int in_holes);

int qcow2_rebuild_refcounts(struct qcow2 *q, struct qcow2_refs *refs, unsigned order, int in_holes)
{
    /* what depends on the old blocks goes out first; then they are forgotten */
    int r = qcow2_cache_flush(q->l2_cache);
    if (r == 0)
        r = qcow2_cache_flush(q->rb_cache);
    if (r == 0)
        r = qcow2_cache_empty(q->rb_cache);
    if (r < 0)
        return r;
    unsigned old_order = q->h.refcount_order;
    q->h.refcount_order = order;
    r = rebuild(q, refs, in_holes);
    if (r < 0)
        q->h.refcount_order = old_order;
    return r;
}

/* qcow2_rebuild_refcounts in q->h.refcount_order's width (qemu's
 * rebuild_refcount_structure: the blocks, then room for the table, then
 * the blocks of that room again, until the table stops growing). */
static int rebuild(struct qcow2 *q, struct qcow2_refs *refs, int in_holes)
{
    unsigned cb = q->cluster_bits;
    struct rebuild b = {.q = q, .refs = refs, .floor = in_holes ? 0 : refs->n, .blk = gk_malloc(q->cluster_size)};
    uint64_t toff = 0, tclusters = 0;
    int r = write_refblocks(&b, 0, refs->n);
    while (r > 0) {
        uint64_t ffc = 0;
        tclusters = (b.rt_n * 8 + q->cluster_size - 1) >> cb;
        int64_t a = alloc_imrt(&b, tclusters, &ffc);
        if (a < 0) {
            r = (int)a;
            break;
        }
        toff = (uint64_t)a;
        r = write_refblocks(&b, toff >> cb, (toff >> cb) + tclusters);
    }
    uint8_t *t = NULL;
    if (r == 0) {
        t = gk_calloc(1, tclusters << cb);
        for (uint64_t i = 0; i < b.rt_n; i++)
            gk_put_be64(t + i * 8, b.rt[i]);
        if (gk_pwrite(q->file, t, tclusters << cb, toff) < 0 || gk_flush(q->file) < 0)
            r = -errno;
    }
    free(t);
    free(b.rt);
    free(b.blk);
    if (r < 0)
        return r;
    /* the switch: one write inside the first sector (the table and, in
     * version 3, the refcount width) */
    struct qcow2_header h = q->h;
    h.refcount_table_offset = toff;
    h.refcount_table_clusters = (uint32_t)tclusters;
    uint8_t hdr[512];
    memset(hdr, 0, sizeof hdr);
    if (h.header_length > sizeof hdr)
        return gk_fail(EINVAL, "%s: header too long to rewrite", q->path);
    qcow2_header_encode(&h, hdr);
    unsigned hend = q->version >= 3 ? 100 : 60;
    if (gk_pwrite(q->file, hdr + 48, hend - 48, 48) < 0 || gk_flush(q->file) < 0)
        return -errno;
    q->h = h;
    q->reft_loaded = 0;
    if (q->file_size < (refs->n << cb))
        q->file_size = refs->n << cb;
    q->free_cluster_index = 0;
    q->free_byte_offset = 0;
    return qcow2_refcount_load(q);
}
