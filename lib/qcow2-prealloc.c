/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Preallocation when a qcow2 image grows (create and resize
 * --preallocation=, as qemu 7.2's qcow2_co_truncate does it).
 *
 * metadata (qemu's preallocate_co): every guest cluster of a range gets a
 * host cluster and an L2 entry, no data is written.  L2 table by L2 table
 * (the table allocated first), one contiguous run of clusters for each run
 * of entries without a host cluster; the entries point to clusters that are
 * holes of the file (extended L2: with no subcluster allocated), then the
 * file grows to hold the last run.  With an external data file, the host
 * offset is the guest offset and the data file grows instead (falloc and
 * full then preallocate it).
 *
 * falloc and full (no data file): the refcount structure is rebuilt past
 * the last used cluster to cover the new data clusters and their L2 tables
 * (qemu's qcow2_refcount_area: new refcount blocks, a new refcount table,
 * the header switched, the old table freed), the data clusters are taken
 * in one run right after it, the file grows over them with fallocate or
 * written zeros, and the L2 entries are linked last.
 *
 * The usual write order holds (refcounts before the tables that use them,
 * the data before the L2 entries), so a kill leaks clusters at worst. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

int qcow2_prealloc_metadata(gk_dev *d, uint64_t from, uint64_t to, enum gk_prealloc mode)
{
    struct qcow2 *q = d->priv;
    uint64_t cs = q->cluster_size, end = 0;
    unsigned cb = q->cluster_bits, shift = cb + q->l2_bits;
    int external = q->data != q->file;
    int r = 0;
    for (uint64_t c = from & ~(cs - 1); c < to && r == 0;) {
        uint64_t l1i = c >> shift, tend = (l1i + 1) << shift;
        if (tend > to)
            tend = (to + cs - 1) & ~(cs - 1);
        void *tv;
        if ((r = qcow2_l2_for_write(q, l1i, &tv)) < 0)
            break;
        while (c < tend && r == 0) {
            uint8_t *ent = (uint8_t *)tv + ((c >> cb) & (q->l2_entries - 1)) * q->l2_entry_size;
            uint64_t e = gk_be64(ent);
            if ((e & QC_OFFSET_MASK) || (e & QC_OFLAG_COMPRESSED)) {
                c += cs; /* has a host cluster already (qemu keeps it) */
                continue;
            }
            uint64_t n = 1;
            while (c + n * cs < tend) {
                uint64_t e2 = gk_be64(ent + n * q->l2_entry_size);
                if ((e2 & QC_OFFSET_MASK) || (e2 & QC_OFLAG_COMPRESSED))
                    break;
                n++;
            }
            /* a data file's clusters sit at their guest offsets, uncounted */
            int64_t a = external ? (int64_t)c : qcow2_alloc_clusters(q, n * cs);
            if (a < 0) {
                r = (int)a;
                break;
            }
            for (uint64_t i = 0; i < n; i++) {
                uint8_t *p = ent + i * q->l2_entry_size;
                gk_put_be64(p, ((uint64_t)a + i * cs) | QC_OFLAG_COPIED);
                if (q->ext_l2)
                    memset(p + 8, 0, 8);
            }
            qcow2_cache_mark_dirty(q->l2_cache, tv);
            /* the file ends where the last run's bytes do (qemu: a last
             * cluster only partly inside the disk is cut at the disk's end) */
            end = (uint64_t)a + ((c + n * cs < to ? c + n * cs : to) - c);
            c += n * cs;
        }
        qcow2_cache_put(q->l2_cache, tv);
    }
    if (r == 0)
        r = qcow2_flush_all(q);
    /* the data file is preallocated as asked; the image file never is
     * (its clusters stay holes: qemu's "metadata") */
    enum gk_prealloc fm = external && mode != GK_PREALLOC_METADATA ? mode : GK_PREALLOC_OFF;
    if (r == 0 && end > q->data->size && gk_truncate(q->data, end, fm) < 0)
        r = -errno;
    return r;
}

/* qemu's qcow2_refcount_area(exact): from start (a cluster offset past
 * every used cluster) on, the refcount blocks missing to count up to
 * start + extra clusters, then a new refcount table holding them all;
 * these new structures count themselves; the header points to the new
 * table, the old one is freed.  Where the area ends (the first free
 * cluster after it), or -errno. */
static int64_t refcount_area(struct qcow2 *q, uint64_t start, uint64_t extra)
{
    uint64_t cs = q->cluster_size;
    unsigned cb = q->cluster_bits, rbb = cb + 3 - q->h.refcount_order;
    uint64_t per_block = 1ULL << rbb;
    uint64_t total = qcow2_refcount_blocks_for((start >> cb) + extra, cs, q->h.refcount_order, NULL);
    uint64_t tsize = (total + cs / 8 - 1) / (cs / 8) * (cs / 8), tclusters = tsize * 8 / cs;
    if (tsize * 8 > QC_MAX_REFT_BYTES)
        return gk_fail(EFBIG, "Failed to resize refcount structures: the refcount table would exceed %llu MiB",
                       (unsigned long long)(QC_MAX_REFT_BYTES >> 20));
    uint64_t area_idx = (start >> cb) >> rbb, nnew = 0;
    uint64_t *t = gk_calloc(tsize, 8);
    for (uint64_t i = 0; i < q->reft_entries && i < tsize; i++)
        t[i] = q->reft[i];
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

int qcow2_prealloc_data(gk_dev *d, uint64_t from, uint64_t to, enum gk_prealloc mode)
{
    struct qcow2 *q = d->priv;
    if (q->data != q->file)
        return qcow2_prealloc_metadata(d, from, to, mode);
    uint64_t cs = q->cluster_size;
    unsigned cb = q->cluster_bits;
    int r;
    if ((r = qcow2_flush_all(q)) < 0 || (r = qcow2_refcount_load(q)) < 0)
        return r;
    /* past the last cluster with a refcount (qemu's qcow2_get_last_cluster) */
    uint64_t fsize = q->file->size, last = (fsize + cs - 1) >> cb, rc = 0;
    while (last > 0) {
        if ((r = qcow2_get_refcount(q, last - 1, &rc)) < 0)
            return r;
        if (rc)
            break;
        last--;
    }
    if (last == 0)
        return qcow2_signal_corruption(q, "There are no references in the refcount table");
    uint64_t first = from & ~(cs - 1);
    uint64_t n = (((to + cs - 1) & ~(cs - 1)) - first) >> cb;
    uint64_t l2s = (n + q->l2_entries - 1) / q->l2_entries + 1; /* + a head or a tail */
    int64_t area = refcount_area(q, last << cb, n + l2s);
    if (area < 0)
        return (int)area;
    uint64_t alloc = (uint64_t)area, newend = alloc + (n << cb);
    if (n && (r = qcow2_update_refcount(q, alloc, n << cb, 1)) < 0)
        return r;
    if ((r = qcow2_cache_flush(q->rb_cache)) < 0)
        return r;
    if (newend > q->file_size)
        q->file_size = newend;
    /* what the file holds already under the new clusters (qemu leaves it
     * as it is) reads as zeros here */
    if (q->file->size > alloc) {
        uint64_t zend = q->file->size < newend ? q->file->size : newend;
        if (gk_pwrite_zeroes(q->file, alloc, zend - alloc, 0) < 0)
            return -errno;
    }
    if (newend > q->file->size && gk_truncate(q->file, newend, mode) < 0)
        return -errno;
    /* the head of a last cluster that was only partly inside the disk
     * moves to its new cluster (qemu's copy-on-write) */
    if (from & (cs - 1)) {
        uint8_t *buf = gk_malloc(cs);
        uint64_t k = from - first;
        if (gk_pread(d, buf, k, first) < 0 || qcow2_pwrite_data(q, buf, k, alloc) < 0)
            r = -errno;
        free(buf);
        if (r < 0)
            return r;
    }
    /* the L2 entries, a table at a time; extended L2: the subclusters keep
     * their state (the new ones unallocated, reading as zeros) unless a
     * longer backing file would show through them (qemu then has the file
     * zero them: all allocated) */
    uint64_t bitmap = d->backing && d->backing->size > from ? 0xffffffffULL : 0;
    unsigned shift = cb + q->l2_bits;
    uint64_t c = first, host = alloc, left = n;
    while (left && r == 0) {
        uint64_t idx = (c >> cb) & (q->l2_entries - 1), k = q->l2_entries - idx;
        if (k > left)
            k = left;
        void *tv;
        if ((r = qcow2_l2_for_write(q, c >> shift, &tv)) < 0)
            break;
        for (uint64_t i = 0; i < k; i++) {
            uint8_t *p = (uint8_t *)tv + (idx + i) * q->l2_entry_size;
            qcow2_release_cluster(q, gk_be64(p));
            gk_put_be64(p, (host + (i << cb)) | QC_OFLAG_COPIED);
            if (q->ext_l2 && bitmap) /* else the subclusters stay as they were */
                gk_put_be64(p + 8, bitmap);
        }
        qcow2_cache_mark_dirty(q->l2_cache, tv);
        qcow2_cache_put(q->l2_cache, tv);
        c += k << cb;
        host += k << cb;
        left -= k;
    }
    if (r == 0)
        r = qcow2_flush_all(q);
    return r;
}
