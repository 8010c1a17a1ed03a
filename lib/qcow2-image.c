/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 whole-image changes besides snapshots: the backing file named in
 * the header (rebase) and emptying the active image (commit).
 *
 * Crash safety: the backing file name and format extension change in one
 * write of the bytes that differ, inside the first cluster (inside the
 * first sector for the usual short names), after every earlier write was
 * flushed.  Emptying goes as qemu's qcow2_make_empty (the same bytes): a
 * version 3 image without snapshots and the like is cut back to its header
 * and tables (in place when they are where qemu puts them: a kill leaks
 * clusters; else under the dirty bit, as qemu does it); others have every
 * L2 entry zeroed, table by table, before the clusters lose their
 * references: a kill leaks clusters, nothing more. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

/* The extension of type t in q->exts, or -1. */
static int find_ext(const struct qcow2 *q, uint32_t t)
{
    for (int i = 0; i < q->nexts; i++)
        if (q->exts[i].type == t)
            return i;
    return -1;
}

/* Cluster 0 as qcow2_header_build makes it, with the backing file name's
 * offset and size filled in: its length, or -errno. */
static int build_header(struct qcow2 *q, uint8_t *buf)
{
    q->h.backing_file_offset = 0;
    q->h.backing_file_size = 0;
    memset(buf, 0, q->cluster_size);
    int n = qcow2_header_build(q, buf, q->cluster_size);
    if (n >= 0 && q->backing_name) {
        size_t bl = strlen(q->backing_name);
        q->h.backing_file_offset = (uint64_t)n - bl;
        q->h.backing_file_size = (uint32_t)bl;
        memset(buf, 0, q->cluster_size);
        n = qcow2_header_build(q, buf, q->cluster_size);
    }
    if (n < 0)
        return gk_fail(EINVAL, "%s: the header and its extensions do not fit in one cluster", q->path);
    return n;
}

int qcow2_set_backing(gk_dev *d, const char *name, const char *fmt)
{
    struct qcow2 *q = d->priv;
    if (!q->rw)
        return gk_fail(EROFS, "%s: image is not open for writing", q->path);
    if (name && strlen(name) > 1023)
        return gk_fail(EINVAL, "%s: backing file name is too long", q->path);
    if (fmt && strlen(fmt) >= 16)
        return gk_fail(EINVAL, "%s: backing format name is too long", q->path);
    /* what was written before the switch is on disk first */
    int r = qcow2_op_flush(d);
    if (r < 0)
        return r;
    uint8_t *old = gk_malloc(q->cluster_size), *nw = gk_malloc(q->cluster_size);
    if ((r = qcow2_read(q, q->file, old, q->cluster_size, 0)) < 0)
        goto out;
    /* the backing format extension comes first (as qemu writes it), or goes */
    int x = find_ext(q, QC_EXT_BACKING_FORMAT);
    if (x >= 0) {
        free(q->exts[x].data);
        memmove(q->exts + x, q->exts + x + 1, (size_t)(q->nexts - x - 1) * sizeof *q->exts);
        q->nexts--;
    }
    if (fmt) {
        if (q->nexts >= QC_MAX_EXTS) {
            r = gk_fail(EINVAL, "%s: too many header extensions", q->path);
            goto out;
        }
        memmove(q->exts + 1, q->exts, (size_t)q->nexts * sizeof *q->exts);
        q->nexts++;
        q->exts[0].type = QC_EXT_BACKING_FORMAT;
        q->exts[0].len = (uint32_t)strlen(fmt);
        q->exts[0].data = (uint8_t *)gk_strdup(fmt);
    }
    x = find_ext(q, QC_EXT_FEATURE_TABLE);
    if (x >= 0) { /* a pointer into exts, which moved */
        q->ftbl = q->exts[x].data;
        q->ftbl_len = q->exts[x].len;
    }
    free(q->backing_name);
    free(q->backing_format);
    free(q->backing_full);
    q->backing_name = name ? gk_strdup(name) : NULL;
    q->backing_format = fmt ? gk_strdup(fmt) : NULL;
    q->backing_full = name ? gk_dev_protocol(q->file)->resolve(q->file, name) : NULL;
    int n = build_header(q, nw);
    if (n < 0) {
        r = n;
        goto out;
    }
    /* one write of the bytes that change */
    uint64_t lo = 0, hi = q->cluster_size;
    while (lo < hi && old[lo] == nw[lo])
        lo++;
    while (hi > lo && old[hi - 1] == nw[hi - 1])
        hi--;
    if (lo < hi && (gk_pwrite(q->file, nw + lo, hi - lo, lo) < 0 || gk_flush(q->file) < 0))
        r = -errno;
out:
    free(old);
    free(nw);
    return r;
}

static void put_be(uint8_t *p, uint64_t v, unsigned size)
{
    for (unsigned i = size; i-- > 0; v >>= 8)
        p[i] = (uint8_t)v;
}

static int patch_sync(struct qcow2 *q, uint64_t off, const uint8_t *b, size_t n)
{
    return gk_pwrite(q->file, b, n, off) < 0 || gk_flush(q->file) < 0 ? -errno : 0;
}

/* The structures already where qemu's make_completely_empty puts them
 * (the layout qemu-img create gives): the same result without a window
 * where the refcounts are wrong: the L1 table zeroed, the refcount table's
 * other entries dropped, the first refcount block rewritten to count only
 * the structure, the file cut.  A kill between these leaks clusters. */
static int empty_in_place(struct qcow2 *q, uint64_t l1c)
{
    uint64_t cs = q->cluster_size;
    if (gk_pwrite_zeroes(q->file, q->h.l1_table_offset, l1c * cs, 0) < 0 || gk_flush(q->file) < 0)
        return -errno;
    memset(q->l1, 0, (size_t)q->l1_size * 8);
    uint8_t *c = gk_calloc(1, cs);
    int r = 0;
    if (gk_pwrite(q->file, c + 8, cs - 8, cs + 8) < 0 || gk_flush(q->file) < 0)
        r = -errno;
    for (uint64_t i = 1; i < q->reft_entries; i++)
        q->reft[i] = 0;
    for (uint64_t k = 0; k < 3 + l1c && r == 0; k++)
        qcow2_rb_set(q, c, k, 1);
    if (r == 0)
        r = patch_sync(q, 2 * cs, c, cs);
    free(c);
    if (r < 0)
        return r;
    q->free_cluster_index = 3 + l1c;
    if (gk_truncate(q->file, (3 + l1c) * cs, GK_PREALLOC_OFF) < 0)
        return -errno;
    q->file_size = (3 + l1c) * cs;
    return 0;
}

/* qemu's make_completely_empty (a version 3 image without snapshots,
 * bitmaps, LUKS or data file, whose first refcount block can count the
 * new structure): the dirty bit set (refcounts are rebuilt on open after a
 * kill), the L1 table and the three clusters after the header zeroed, the
 * header pointed at a one-cluster refcount table in cluster 1, its first
 * block in cluster 2 and the L1 table from cluster 3, the block counting
 * those, the dirty bit cleared, and the file cut after the L1 table. */
static int make_completely_empty(struct qcow2 *q)
{
    uint64_t cs = q->cluster_size, l1c = ((uint64_t)q->l1_size * 8 + cs - 1) / cs;
    int r;
    if ((r = qcow2_cache_empty(q->l2_cache)) < 0 || (r = qcow2_cache_empty(q->rb_cache)) < 0 ||
        (r = qcow2_refcount_load(q)) < 0)
        return r;
    if (q->h.l1_table_offset == 3 * cs && q->h.refcount_table_offset == cs && q->h.refcount_table_clusters == 1 &&
        (q->reft[0] & QC_REFT_OFFSET_MASK) == 2 * cs)
        return empty_in_place(q, l1c);
    uint8_t b[20];
    put_be(b, q->h.incompatible_features | QC_INCOMPAT_DIRTY, 8);
    if ((r = patch_sync(q, 72, b, 8)) < 0)
        return r;
    q->h.incompatible_features |= QC_INCOMPAT_DIRTY;
    if (gk_pwrite_zeroes(q->file, q->h.l1_table_offset, l1c * cs, 0) < 0 ||
        gk_pwrite_zeroes(q->file, cs, (2 + l1c) * cs, 0) < 0)
        return -errno;
    memset(q->l1, 0, (size_t)q->l1_size * 8);
    put_be(b, 3 * cs, 8);
    put_be(b + 8, cs, 8);
    put_be(b + 16, 1, 4);
    if ((r = patch_sync(q, 40, b, 20)) < 0)
        return r;
    q->h.l1_table_offset = 3 * cs;
    q->h.refcount_table_offset = cs;
    q->h.refcount_table_clusters = 1;
    put_be(b, 2 * cs, 8);
    if ((r = patch_sync(q, cs, b, 8)) < 0)
        return r;
    free(q->reft);
    q->reft = gk_calloc(cs / 8, 8);
    q->reft[0] = 2 * cs;
    q->reft_entries = cs / 8;
    q->reft_loaded = 1;
    uint8_t *rb = gk_calloc(1, cs);
    for (uint64_t k = 0; k < 3 + l1c; k++)
        qcow2_rb_set(q, rb, k, 1);
    r = patch_sync(q, 2 * cs, rb, cs);
    free(rb);
    if (r < 0)
        return r;
    q->free_cluster_index = 3 + l1c;
    put_be(b, q->h.incompatible_features & ~(uint64_t)QC_INCOMPAT_DIRTY, 8);
    if ((r = patch_sync(q, 72, b, 8)) < 0)
        return r;
    q->h.incompatible_features &= ~(uint64_t)QC_INCOMPAT_DIRTY;
    if (gk_truncate(q->file, (3 + l1c) * cs, GK_PREALLOC_OFF) < 0)
        return -errno;
    q->file_size = (3 + l1c) * cs;
    return 0;
}

/* The host cluster an L2 entry held loses a reference: in the image file a
 * cluster left with none is discarded (qemu passes the discards of a
 * commit's emptying through); a data file's cluster is discarded there (its
 * offset is the guest offset, 0 too when COPIED says so). */
static int drop_entry(struct qcow2 *q, uint64_t e)
{
    if (e & QC_OFLAG_COMPRESSED) {
        uint64_t coff, csize;
        qcow2_compressed_range(q, e, &coff, &csize);
        return qcow2_update_refcount(q, coff, csize, -1);
    }
    uint64_t off = e & QC_OFFSET_MASK, rc;
    if (q->data != q->file) {
        if (!(off || (e & QC_OFLAG_COPIED)) || off >= q->data->size)
            return 0;
        uint64_t n = q->data->size - off < q->cluster_size ? q->data->size - off : q->cluster_size;
        return gk_discard(q->data, off, n) < 0 ? -errno : 0;
    }
    if (!off)
        return 0;
    int r = qcow2_update_refcount(q, off, q->cluster_size, -1);
    if (r == 0 && qcow2_get_refcount(q, off >> q->cluster_bits, &rc) == 0 && rc == 0 && off < q->file->size)
        (void)gk_discard(q->file, off, q->file->size - off < q->cluster_size ? q->file->size - off : q->cluster_size);
    return r;
}

/* qemu's fallback (qcow2_cluster_discard of the whole disk, full): every L2
 * entry zeroed, a table shared with a snapshot copied first, a missing one
 * allocated (empty), the L2 tables kept; the clusters the entries held lose their reference once the table
 * is on disk (a kill leaks them at worst), table by table, so that the next
 * copy may take a cluster freed before it, as in qemu. */
static int discard_all(struct qcow2 *q)
{
    int rc = 0, r;
    uint64_t *held = gk_malloc(q->l2_entries * sizeof *held);
    /* every table of the disk, one made where there was none (qemu's
     * get_cluster_table allocates them too) */
    unsigned shift = q->cluster_bits + q->l2_bits;
    uint64_t ntables = (q->h.size + (1ULL << shift) - 1) >> shift;
    for (uint32_t i = 0; i < q->l1_size && i < ntables; i++) {
        void *tv;
        if ((r = qcow2_l2_for_write(q, i, &tv)) < 0) {
            rc = r;
            break;
        }
        uint64_t n = 0;
        for (uint64_t j = 0; j < q->l2_entries; j++) {
            uint8_t *p = (uint8_t *)tv + j * q->l2_entry_size;
            uint64_t e = gk_be64(p);
            if (!e && !(q->ext_l2 && gk_be64(p + 8)))
                continue;
            memset(p, 0, q->l2_entry_size);
            held[n++] = e;
        }
        qcow2_cache_mark_dirty(q->l2_cache, tv);
        qcow2_cache_put(q->l2_cache, tv);
        if ((r = qcow2_flush_all(q)) < 0) {
            rc = r;
            break;
        }
        for (uint64_t j = 0; j < n; j++)
            if ((r = drop_entry(q, held[j])) < 0 && rc == 0)
                rc = r; /* a leak at worst: go on */
    }
    free(held);
    return rc;
}

int qcow2_make_empty(gk_dev *d)
{
    struct qcow2 *q = d->priv;
    if (!q->rw)
        return gk_fail(EROFS, "%s: image is not open for writing", q->path);
    int r = qcow2_op_flush(d);
    if (r < 0 || q->l1_size == 0)
        return r;
    uint64_t l1c = ((uint64_t)q->l1_size * 8 + q->cluster_size - 1) / q->cluster_size;
    uint64_t per_block = (q->cluster_size * 8) >> q->h.refcount_order;
    if (q->version >= 3 && !q->nb_snapshots && !q->nb_bitmaps && 3 + l1c <= per_block && q->h.crypt_method != 2 &&
        q->data == q->file)
        r = make_completely_empty(q);
    else
        r = discard_all(q);
    q->free_byte_offset = 0;
    qcow2_decompressed_forget(q);
    int r2 = qcow2_op_flush(d);
    return r < 0 ? r : r2;
}
