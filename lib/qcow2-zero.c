/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 write-zeroes and discard, as qemu 7.2's driver does them, so that
 * what gimg commits, converts or discards maps (qemu-img map) as qemu's:
 *
 * - write-zeroes: whole clusters get the zero flag (version 3), or all
 *   their subclusters the zero bit (extended L2); with GK_ZERO_MAY_UNMAP
 *   an allocated cluster is freed, else it keeps its host cluster (and
 *   reads as zeros); a compressed one is always freed.  A piece smaller
 *   than a subcluster becomes a zero subcluster only when the rest of it
 *   reads as zeros already and it holds no data, else zeros are written
 *   (qemu's block layer falls back the same way).  Version 2 has no zero
 *   flag: without a backing file zeroing is a discard, with one zeros are
 *   written (-ENOTSUP to the wrapper).
 * - discard: whole clusters only (and the partial last one), which become
 *   zero clusters where a backing file or data is below, else unallocated;
 *   refused (-ENOTSUP, nothing done) on version 2 over a backing file,
 *   where it would show the backing file's data.
 *
 * A raw external data file is zeroed first, to stay a valid raw image.
 * Crash safety is the writer's (qcow2-write.c): the L2 entry changes in the
 * cache, the old cluster's reference goes only after the table is on disk. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

#define L2_BITMAP_ALL_ZEROES 0xffffffff00000000ULL

enum { CH_ZERO, CH_DISCARD };

static uint64_t min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* The L2 entry of the guest cluster at coff, held writable; *ent points
 * to it inside *tv. */
static int entry_for_write(struct qcow2 *q, uint64_t coff, void **tv, uint8_t **ent)
{
    int r = qcow2_l2_for_write(q, coff >> (q->cluster_bits + q->l2_bits), tv);
    if (r < 0)
        return r;
    *ent = (uint8_t *)*tv + ((coff >> q->cluster_bits) & (q->l2_entries - 1)) * q->l2_entry_size;
    return 0;
}

/* One whole guest cluster as qemu's zero_in_l2_slice (CH_ZERO) or
 * discard_in_l2_slice without full_discard (CH_DISCARD) leaves it. */
static int change_cluster(gk_dev *d, struct qcow2 *q, uint64_t coff, int how, unsigned flags)
{
    void *tv;
    uint8_t *ent;
    int r = entry_for_write(q, coff, &tv, &ent);
    if (r < 0)
        return r;
    int external = q->data != q->file;
    uint64_t e = gk_be64(ent), bm = q->ext_l2 ? gk_be64(ent + 8) : 0;
    int comp = (e & QC_OFLAG_COMPRESSED) != 0;
    /* offset 0 is a cluster of an external data file when COPIED says so */
    int allocated = comp || (e & QC_OFFSET_MASK) || (external && (e & QC_OFLAG_COPIED));
    uint64_t ne = e, nbm = bm;
    int drop;
    if (how == CH_ZERO) {
        drop = comp || ((flags & GK_ZERO_MAY_UNMAP) && allocated);
        if (drop)
            ne = 0;
        if (q->ext_l2)
            nbm = L2_BITMAP_ALL_ZEROES;
        else
            ne |= QC_OFLAG_ZERO;
    } else {
        if (d->backing || allocated) {
            if (q->ext_l2) {
                ne = 0;
                nbm = L2_BITMAP_ALL_ZEROES;
            } else {
                ne = q->version >= 3 ? QC_OFLAG_ZERO : 0;
            }
        }
        drop = allocated;
    }
    if (ne == e && nbm == bm) {
        qcow2_cache_put(q->l2_cache, tv);
        return 0;
    }
    gk_put_be64(ent, ne);
    if (q->ext_l2)
        gk_put_be64(ent + 8, nbm);
    qcow2_cache_mark_dirty(q->l2_cache, tv);
    qcow2_cache_put(q->l2_cache, tv);
    if (!drop)
        return 0;
    if (external && !comp) {
        /* qemu passes the discard down to the data file (no refcounts) */
        uint64_t n = min64(q->cluster_size, q->data->size > coff ? q->data->size - coff : 0);
        if (n && gk_discard(q->data, coff, n) < 0)
            return -errno;
        return 0;
    }
    qcow2_release_cluster(q, e);
    if (q->nfrees > MAX_PENDING_FREES)
        return qcow2_flush_all(q);
    return 0;
}

/* Subclusters [off, off+len) of one cluster (extended L2) become zero
 * subclusters (qemu's zero_l2_subclusters); -ENOTSUP in a compressed one. */
static int zero_subclusters(struct qcow2 *q, uint64_t off, uint64_t len)
{
    void *tv;
    uint8_t *ent;
    int r = entry_for_write(q, off & ~(q->cluster_size - 1), &tv, &ent);
    if (r < 0)
        return r;
    uint64_t e = gk_be64(ent), bm = gk_be64(ent + 8);
    if (e & QC_OFLAG_COMPRESSED) {
        qcow2_cache_put(q->l2_cache, tv);
        return -ENOTSUP;
    }
    uint64_t scs = q->cluster_size / 32, first = (off & (q->cluster_size - 1)) / scs;
    uint64_t nsc = (len + scs - 1) / scs;
    uint64_t mask = ((1ULL << nsc) - 1) << first;
    uint64_t nbm = (bm | mask << 32) & ~mask;
    if (nbm != bm) {
        gk_put_be64(ent + 8, nbm);
        qcow2_cache_mark_dirty(q->l2_cache, tv);
    }
    qcow2_cache_put(q->l2_cache, tv);
    return 0;
}

/* Clusters [off, off+len) discarded (off cluster aligned; off+len too,
 * or the end of the disk). */
static int discard_clusters(gk_dev *d, struct qcow2 *q, uint64_t off, uint64_t len)
{
    for (uint64_t c = off; c < off + len; c += q->cluster_size) {
        int r = change_cluster(d, q, c, CH_DISCARD, 0);
        if (r < 0)
            return r;
    }
    return 0;
}

/* qemu's qcow2_subcluster_zeroize: [off, off+len) subcluster aligned (its
 * end may be the end of the disk). */
static int zeroize(gk_dev *d, struct qcow2 *q, uint64_t off, uint64_t len, unsigned flags)
{
    int r;
    uint64_t cs = q->cluster_size, end = off + len;
    if (q->h.autoclear_features & QC_AUTOCLEAR_DATA_FILE_RAW) {
        if (gk_pwrite_zeroes(q->data, off, len, flags) < 0)
            return -errno;
    }
    if (q->version < 3)
        return discard_clusters(d, q, off, len); /* no backing file here */
    uint64_t head = min64(end, (off + cs - 1) & ~(cs - 1)) - off;
    off += head;
    uint64_t tail = end >= d->size ? 0 : end - (off > (end & ~(cs - 1)) ? off : (end & ~(cs - 1)));
    end -= tail;
    if (head && (r = zero_subclusters(q, off - head, head)) < 0)
        return r;
    for (uint64_t c = off; c < end; c += cs)
        if ((r = change_cluster(d, q, c, CH_ZERO, flags)) < 0)
            return r;
    if (tail && (r = zero_subclusters(q, end, tail)) < 0)
        return r;
    return 0;
}

/* 1 when [off, off+len) reads as zeros through the whole chain. */
static int reads_zero(gk_dev *d, uint64_t off, uint64_t len)
{
    if (off >= d->size)
        return 1;
    len = min64(len, d->size - off);
    while (len > 0) {
        gk_extent e;
        if (gk_block_status(d, off, len, &e) < 0)
            return -errno;
        if (!(e.flags & GK_BS_ZERO) || e.len == 0)
            return 0;
        off += e.len;
        len -= min64(e.len, len);
    }
    return 1;
}

/* A piece [off, off+len) inside one subcluster, not covering it: the
 * whole subcluster is zeroed if the rest reads as zeros and it holds no
 * data (qemu's check in qcow2_co_pwrite_zeroes), else -ENOTSUP. */
static int zero_partial(gk_dev *d, struct qcow2 *q, uint64_t off, uint64_t len, unsigned flags)
{
    uint64_t scs = q->ext_l2 ? q->cluster_size / 32 : q->cluster_size;
    uint64_t s = off - off % scs, se = min64(s + scs, d->size);
    int z = reads_zero(d, s, off - s);
    if (z > 0)
        z = reads_zero(d, off + len, se > off + len ? se - off - len : 0);
    if (z <= 0)
        return z < 0 ? z : -ENOTSUP;
    struct qcow2_run run;
    int r = qcow2_map(q, s, se - s, &run);
    if (r < 0)
        return r;
    if (run.type != QC_UNALLOC && run.type != QC_ZERO)
        return -ENOTSUP;
    return zeroize(d, q, s, se - s, flags);
}

/* Written zeros, the fallback. */
static int write_zeros(gk_dev *d, uint64_t off, uint64_t len)
{
    size_t bs = (size_t)min64(len, 1u << 20);
    uint8_t *z = gk_calloc(1, bs);
    int r = 0;
    while (len > 0 && r == 0) {
        size_t k = (size_t)min64(len, bs);
        r = qcow2_op_pwrite(d, z, k, off);
        off += k;
        len -= k;
    }
    free(z);
    return r;
}

int qcow2_op_pwrite_zeroes(gk_dev *d, uint64_t off, uint64_t len, unsigned flags)
{
    struct qcow2 *q = d->priv;
    if (!q->rw)
        return gk_fail(EROFS, "%s: image is not open for writing", q->path);
    if (q->version < 3 && d->backing)
        return -ENOTSUP;
    uint64_t scs = q->ext_l2 ? q->cluster_size / 32 : q->cluster_size, end = off + len;
    /* the pieces qemu's block layer cuts a request into: an unaligned
     * head, the aligned middle, an unaligned tail (unless at the end) */
    while (off < end) {
        uint64_t n;
        int aligned;
        if (off % scs) {
            n = min64(end, off - off % scs + scs) - off;
            aligned = 0;
        } else if (end - off >= scs) {
            n = end == d->size ? end - off : (end - off) / scs * scs;
            aligned = 1;
        } else {
            n = end - off;
            aligned = end == d->size;
        }
        int r = aligned ? zeroize(d, q, off, n, flags) : zero_partial(d, q, off, n, flags);
        if (r == -ENOTSUP)
            r = write_zeros(d, off, n);
        if (r < 0)
            return r;
        off += n;
    }
    return 0;
}

int qcow2_op_discard(gk_dev *d, uint64_t off, uint64_t len)
{
    struct qcow2 *q = d->priv;
    if (!q->rw)
        return gk_fail(EROFS, "%s: image is not open for writing", q->path);
    if (q->version < 3 && d->backing)
        return -ENOTSUP;
    uint64_t cs = q->cluster_size, end = off + len;
    uint64_t start = (off + cs - 1) & ~(cs - 1);
    uint64_t cend = end == d->size ? end : end & ~(cs - 1);
    if (start >= cend)
        return 0;
    return discard_clusters(d, q, start, cend - start);
}
