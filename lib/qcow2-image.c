/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 whole-image changes besides snapshots: the backing file named in
 * the header (rebase) and emptying the active image (commit).
 *
 * Crash safety: the backing file name and format extension change in one
 * write of the bytes that differ, inside the first cluster (inside the
 * first sector for the usual short names), after every earlier write was
 * flushed.  Emptying clears the active L1 table in one write, flushes, and
 * only then lowers the refcounts of what it pointed to: a kill in between
 * leaks clusters, nothing more. */
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

/* The clusters an L2 entry holds, for the refcount drop. */
static int drop_entry(struct qcow2 *q, uint64_t e)
{
    if (e & QC_OFLAG_COMPRESSED) {
        uint64_t coff, csize;
        qcow2_compressed_range(q, e, &coff, &csize);
        return qcow2_update_refcount(q, coff, csize, -1);
    }
    uint64_t off = e & QC_OFFSET_MASK;
    if (q->data != q->file) {
        /* a data file cluster has no refcount: qemu discards it there (its
         * offset is the guest offset, 0 too when COPIED says so) */
        if (!(off || (e & QC_OFLAG_COPIED)) || off >= q->data->size)
            return 0;
        uint64_t n = q->data->size - off < q->cluster_size ? q->data->size - off : q->cluster_size;
        return gk_discard(q->data, off, n) < 0 ? -errno : 0;
    }
    if (!off)
        return 0;
    return qcow2_update_refcount(q, off, q->cluster_size, -1);
}

int qcow2_make_empty(gk_dev *d)
{
    struct qcow2 *q = d->priv;
    if (!q->rw)
        return gk_fail(EROFS, "%s: image is not open for writing", q->path);
    int r = qcow2_op_flush(d);
    if (r < 0 || q->l1_size == 0)
        return r;
    uint64_t bytes = (uint64_t)q->l1_size * 8;
    uint64_t *old = q->l1;
    uint8_t *z = gk_calloc(1, bytes);
    if (gk_pwrite(q->file, z, bytes, q->h.l1_table_offset) < 0 || gk_flush(q->file) < 0) {
        r = -errno;
        free(z);
        return r;
    }
    q->l1 = (uint64_t *)z; /* all zero in any byte order */
    /* nothing points to the old tables now: lower their refcounts (a kill
     * from here on leaks them) */
    uint8_t *t = gk_malloc(q->cluster_size);
    int rc = 0;
    for (uint32_t i = 0; i < q->l1_size; i++) {
        uint64_t l2 = old[i] & QC_OFFSET_MASK;
        if (!l2)
            continue;
        if (l2 & (q->cluster_size - 1)) {
            rc = gk_fail(EIO, "%s: L2 table offset 0x%llx is not aligned (image corrupt)", q->path,
                         (unsigned long long)l2);
            continue;
        }
        if ((r = qcow2_read(q, q->file, t, q->cluster_size, l2)) < 0) {
            rc = r;
            continue;
        }
        for (uint64_t j = 0; j < q->l2_entries; j++)
            if ((r = drop_entry(q, gk_be64(t + j * q->l2_entry_size))) < 0 && rc == 0)
                rc = r; /* a leak at worst: go on */
        if ((r = qcow2_update_refcount(q, l2, q->cluster_size, -1)) < 0 && rc == 0)
            rc = r;
        qcow2_cache_discard(q->l2_cache, l2);
    }
    free(t);
    free(old);
    q->free_byte_offset = 0;
    qcow2_decompressed_forget(q);
    r = qcow2_op_flush(d);
    return rc < 0 ? rc : r;
}
