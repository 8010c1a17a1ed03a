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
    int64_t area = qcow2_refcount_area(q, last << cb, n + l2s, 1, 0, 0);
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
