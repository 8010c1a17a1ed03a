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
    const uint8_t *rb = tv;
    uint64_t i = k & ((1ULL << block_bits) - 1);
    unsigned bits = 1u << order;
    if (bits >= 8) {
        const uint8_t *p = rb + i * (bits / 8);
        uint64_t v = 0;
        for (unsigned b = 0; b < bits / 8; b++)
            v = v << 8 | p[b];
        *out = v;
    } else {
        uint64_t bit = i * bits;
        *out = (rb[bit / 8] >> (bit % 8)) & ((1u << bits) - 1);
    }
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
