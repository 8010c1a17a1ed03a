/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Metadata preallocation (resize --preallocation=metadata, qemu 7.2's
 * preallocate_co): every guest cluster of a range gets a host cluster and
 * an L2 entry, no data is written.  As qemu does it: L2 table by L2 table
 * (the table allocated first), one contiguous run of clusters for each run
 * of entries without a host cluster; the entries point to clusters that
 * are holes of the file (extended L2: with no subcluster allocated), then
 * the file grows to hold the last run.  The usual write order holds (refcounts
 * before the tables that use them), so a kill leaks clusters at worst. */
#include <errno.h>
#include <string.h>

#include "qcow2.h"

int qcow2_prealloc_metadata(gk_dev *d, uint64_t from, uint64_t to)
{
    struct qcow2 *q = d->priv;
    uint64_t cs = q->cluster_size, end = 0;
    unsigned cb = q->cluster_bits, shift = cb + q->l2_bits;
    if (q->data != q->file)
        return gk_fail(ENOTSUP, "%s: preallocation with an external data file is not supported yet", q->path);
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
            int64_t a = qcow2_alloc_clusters(q, n * cs);
            if (a < 0) {
                r = (int)a;
                break;
            }
            for (uint64_t i = 0; i < n; i++) {
                uint8_t *p = ent + i * q->l2_entry_size;
                uint64_t v = ((uint64_t)a + i * cs) | QC_OFLAG_COPIED;
                for (int b = 0; b < 8; b++)
                    p[b] = (uint8_t)(v >> (56 - 8 * b));
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
    if (r == 0 && end > q->file->size && gk_truncate(q->file, end, GK_PREALLOC_OFF) < 0)
        r = -errno;
    return r;
}
