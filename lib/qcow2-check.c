/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemu-img check, read-only: rebuild the reference counts of every host
 * cluster from the metadata (header, L1/L2 tables of the active state and of
 * every snapshot, snapshot table, refcount structures, bitmaps, compressed
 * ranges) and compare them with the refcounts stored in the image.  The
 * counters and messages follow qemu's block/qcow2-refcount.c so that gimg
 * check can be compared with `qemu-img check --output=json`. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

#define CHECK_FRAG_INFO 1
#define MAX_MESSAGES 10000
#define MAX_OUTSIDE (1u << 20)

struct ck {
    struct qcow2 *q;
    gk_check_result *r;
    uint64_t nb_clusters;      /* clusters in the file                        */
    struct qcow2_refs refs;    /* computed references                         */
    uint64_t *outside;         /* references to clusters past the file        */
    size_t noutside;
    uint64_t refmax;
    int signaled;              /* qemu's "Image is corrupt" said once        */
};

static void vmsg(gk_check_result *r, const char *fmt, va_list ap)
{
    if (r->nmessages >= MAX_MESSAGES)
        return;
    char *m = NULL;
    if (vasprintf(&m, fmt, ap) < 0)
        m = NULL;
    if (!m)
        return;
    r->messages = gk_realloc(r->messages, (size_t)(r->nmessages + 1) * sizeof *r->messages);
    r->messages[r->nmessages++] = m;
}

void qcow2_check_msg(gk_check_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(r, fmt, ap);
    va_end(ap);
}

static void msg(struct ck *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msg(struct ck *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(c->r, fmt, ap);
    va_end(ap);
}

/* qemu's qcow2_inc_refcounts_imrt: +1 for every cluster [off, off+size) touches. */
static void inc(struct ck *c, uint64_t off, uint64_t size)
{
    if (size == 0)
        return;
    unsigned cb = c->q->cluster_bits;
    uint64_t fsize = c->q->file_size;
    if (off + size < off || (off + size > fsize && off + size - fsize >= c->q->cluster_size)) {
        /* qemu 7.2 refuses to count these (and does not grow its table) */
        msg(c, "ERROR: counting reference for region exceeding the end of the file by one cluster or more: "
               "offset 0x%llx size 0x%llx", (unsigned long long)off, (unsigned long long)size);
        c->r->corruptions++;
        return;
    }
    uint64_t first = off >> cb, last = (off + size - 1) >> cb;
    if (off + size - 1 < off)
        last = UINT64_MAX >> cb;
    for (uint64_t k = first; k <= last; k++) {
        if (k >= c->nb_clusters) {
            if (c->noutside >= MAX_OUTSIDE) {
                c->r->check_errors++;
                return;
            }
            if (c->noutside % 1024 == 0)
                c->outside = gk_realloc(c->outside, (c->noutside + 1024) * sizeof *c->outside);
            c->outside[c->noutside++] = k;
            continue;
        }
        uint64_t v = qcow2_refs_get(&c->refs, k);
        if (v >= c->refmax) {
            msg(c, "ERROR: overflow cluster offset=0x%llx", (unsigned long long)(k << cb));
            msg(c, "Use gimg amend to increase the refcount entry width or gimg convert to create a clean copy "
                   "if the image cannot be opened for writing");
            c->r->corruptions++;
            continue;
        }
        qcow2_refs_set(&c->refs, k, v + 1);
    }
}

/* The refcount of cluster k stored in the image; -1 if it cannot be read. */
static int get_refcount(struct ck *c, uint64_t k, uint64_t *out)
{
    struct qcow2 *q = c->q;
    uint64_t idx = k >> (q->cluster_bits + 3 - q->h.refcount_order);
    uint64_t boff = idx < q->reft_entries ? q->reft[idx] & QC_REFT_OFFSET_MASK : 0;
    if ((boff & (q->cluster_size - 1)) && !q->rw) {
        /* qemu's qcow2_signal_corruption on a read-only image: said once,
         * the read fails */
        if (!c->signaled)
            msg(c, "qcow2: Image is corrupt: Refblock offset %#llx unaligned (reftable index: %#llx); further "
                   "non-fatal corruption events will be suppressed", (unsigned long long)boff,
                (unsigned long long)idx);
        c->signaled = 1;
        return -1;
    }
    return qcow2_get_refcount(q, k, out) < 0 ? -1 : 0;
}

static int check_l2(struct ck *c, uint64_t l2off, int flags)
{
    struct qcow2 *q = c->q;
    uint8_t *t = gk_malloc(q->cluster_size);
    if (qcow2_read(q, q->file, t, q->cluster_size, l2off) < 0) {
        msg(c, "ERROR: I/O error in check_refcounts_l2");
        c->r->check_errors++;
        free(t);
        return -1;
    }
    int external = q->data != q->file;
    uint64_t next_contig = 0;
    for (uint64_t i = 0; i < q->l2_entries; i++) {
        uint64_t e = gk_be64(t + i * q->l2_entry_size);
        uint64_t bm = q->ext_l2 ? gk_be64(t + i * q->l2_entry_size + 8) : 0;
        if (e & QC_OFLAG_COMPRESSED) {
            if (e & QC_OFLAG_COPIED) {
                msg(c, "ERROR: coffset=0x%llx: copied flag must never be set for compressed clusters",
                    (unsigned long long)(e & ((1ULL << (70 - q->cluster_bits)) - 1)));
                e &= ~QC_OFLAG_COPIED;
                c->r->corruptions++;
            }
            if (external) {
                msg(c, "ERROR compressed cluster %llu with data file, entry=0x%llx", (unsigned long long)i,
                    (unsigned long long)e);
                c->r->corruptions++;
                continue;
            }
            if (bm) {
                msg(c, "ERROR compressed cluster %llu with non-zero subcluster allocation bitmap, entry=0x%llx",
                    (unsigned long long)i, (unsigned long long)e);
                c->r->corruptions++;
                continue;
            }
            uint64_t coff, csize;
            qcow2_compressed_range(q, e, &coff, &csize);
            inc(c, coff, csize);
            if (flags & CHECK_FRAG_INFO) {
                c->r->allocated_clusters++;
                c->r->compressed_clusters++;
                c->r->fragmented_clusters++;
            }
            continue;
        }
        if (e & QC_L2_STD_RESERVED) {
            msg(c, "ERROR found l2 entry with reserved bits set: %llx", (unsigned long long)e);
            c->r->corruptions++;
        }
        uint64_t off = e & QC_OFFSET_MASK;
        int zero_flag = !q->ext_l2 && (e & QC_OFLAG_ZERO);
        int normal = off != 0 || (external && (e & QC_OFLAG_COPIED) && !zero_flag);
        if (!normal) {
            if (q->ext_l2 && (bm & 0xffffffffULL)) {
                msg(c, "ERROR: Unallocated cluster has non-zero subcluster allocation map");
                c->r->corruptions++;
            }
            continue;
        }
        if ((bm >> 32) & bm) {
            msg(c, "ERROR offset=%llx: Allocated cluster has corrupted subcluster allocation bitmap",
                (unsigned long long)off);
            c->r->corruptions++;
        }
        if (off & (q->cluster_size - 1)) {
            int has_data = q->ext_l2 ? !!(bm & 0xffffffffULL) : !zero_flag;
            msg(c, has_data ? "ERROR offset=%llx: Data cluster is not properly aligned; L2 entry corrupted."
                            : "ERROR offset=%llx: Preallocated cluster is not properly aligned; L2 entry corrupted.",
                (unsigned long long)off);
            c->r->corruptions++;
        }
        if (flags & CHECK_FRAG_INFO) {
            c->r->allocated_clusters++;
            if (next_contig && off != next_contig)
                c->r->fragmented_clusters++;
            next_contig = off + q->cluster_size;
        }
        if (!external)
            inc(c, off, q->cluster_size);
    }
    free(t);
    return 0;
}

static int check_l1(struct ck *c, uint64_t l1off, uint32_t l1size, int flags)
{
    struct qcow2 *q = c->q;
    uint64_t bytes = (uint64_t)l1size * 8;
    inc(c, l1off, bytes);
    if (!l1size)
        return 0;
    if (bytes > QC_MAX_L1_BYTES) {
        c->r->check_errors++;
        return -1;
    }
    uint8_t *l1 = gk_malloc(bytes);
    if (qcow2_read(q, q->file, l1, bytes, l1off) < 0) {
        msg(c, "ERROR: I/O error in check_refcounts_l1");
        c->r->check_errors++;
        free(l1);
        return -1;
    }
    int rc = 0;
    for (uint32_t i = 0; i < l1size && rc == 0; i++) {
        uint64_t e = gk_be64(l1 + (uint64_t)i * 8);
        if (!e)
            continue;
        if (e & 0x7f000000000001ffULL) {
            msg(c, "ERROR found L1 entry with reserved bits set: %llx", (unsigned long long)e);
            c->r->corruptions++;
        }
        uint64_t l2off = e & QC_OFFSET_MASK;
        inc(c, l2off, q->cluster_size);
        if (l2off & (q->cluster_size - 1)) {
            /* qemu reports it and still walks the table at that offset */
            msg(c, "ERROR l2_offset=%llx: Table is not cluster aligned; L1 entry corrupted",
                (unsigned long long)l2off);
            c->r->corruptions++;
        }
        rc = check_l2(c, l2off, flags);
    }
    free(l1);
    return rc;
}

static void check_bitmaps(struct ck *c)
{
    struct qcow2 *q = c->q;
    if (!q->nb_bitmaps || q->bitmap_dir_size > 1024ULL * 65535)
        return;
    inc(c, q->bitmap_dir_offset, q->bitmap_dir_size);
    uint8_t *dir = gk_malloc(q->bitmap_dir_size + 1);
    if (qcow2_read(q, q->file, dir, q->bitmap_dir_size, q->bitmap_dir_offset) < 0) {
        c->r->check_errors++;
        free(dir);
        return;
    }
    uint64_t p = 0;
    for (int b = 0; b < q->nb_bitmaps && p + 24 <= q->bitmap_dir_size; b++) {
        uint64_t toff = gk_be64(dir + p);
        uint32_t tsize = gk_be32(dir + p + 8);
        uint16_t namelen = gk_be16(dir + p + 18);
        uint32_t extra = gk_be32(dir + p + 20);
        p += (24 + (uint64_t)extra + namelen + 7) & ~7ULL;
        uint64_t tbytes = (uint64_t)tsize * 8;
        inc(c, toff, tbytes);
        if (tbytes > 0x8000000ULL * 8 || !gk_range_ok(toff, tbytes, q->file_size))
            continue;
        uint8_t *t = gk_malloc(tbytes ? tbytes : 1);
        if (qcow2_read(q, q->file, t, tbytes, toff) == 0)
            for (uint32_t i = 0; i < tsize; i++) {
                uint64_t off = gk_be64(t + (uint64_t)i * 8) & QC_OFFSET_MASK;
                if (off)
                    inc(c, off, q->cluster_size);
            }
        free(t);
    }
    free(dir);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* qemu's compare_refcounts(): stored against computed refcounts, each
 * difference reported; with fix, leaks (GK_REPAIR_LEAKS) and too-low
 * refcounts (GK_REPAIR_ERRORS) are set to the computed value ("Repairing").
 * A stored refcount of 0 for a referenced cluster needs the refcount
 * structure rebuilt (*rebuild). */
static void compare(struct ck *c, unsigned fix, int *rebuild, uint64_t *highest)
{
    gk_check_result *r = c->r;
    *highest = 0;
    for (uint64_t k = 0; k < c->nb_clusters; k++) {
        uint64_t rc1;
        if (get_refcount(c, k, &rc1) < 0) {
            msg(c, "Can't get refcount for cluster %llu: Input/output error", (unsigned long long)k);
            r->check_errors++;
            continue;
        }
        uint64_t rc2 = qcow2_refs_get(&c->refs, k);
        if (rc1 || rc2)
            *highest = k;
        if (rc1 == rc2)
            continue;
        uint64_t *fixed = NULL;
        if (rc1 == 0)
            *rebuild = 1;
        else if (rc1 > rc2 && (fix & GK_REPAIR_LEAKS))
            fixed = &r->leaks_fixed;
        else if (rc1 < rc2 && (fix & GK_REPAIR_ERRORS))
            fixed = &r->corruptions_fixed;
        msg(c, "%s cluster %llu refcount=%llu reference=%llu",
            fixed ? "Repairing" : rc1 < rc2 ? "ERROR" : "Leaked", (unsigned long long)k, (unsigned long long)rc1,
            (unsigned long long)rc2);
        if (fixed && qcow2_set_refcount(c->q, k, rc2) == 0) {
            /* a cluster freed is discarded, as qemu's repair discards it
             * (nothing refers to it: a failure changes nothing) */
            if (rc2 == 0)
                gk_discard(c->q->file, k << c->q->cluster_bits, c->q->cluster_size);
            (*fixed)++;
            continue;
        }
        if (rc1 < rc2)
            r->corruptions++;
        else
            r->leaks++;
    }
    /* references past the end of the file */
    if (c->noutside)
        qsort(c->outside, c->noutside, sizeof *c->outside, cmp_u64);
    for (size_t i = 0; i < c->noutside;) {
        size_t j = i;
        while (j < c->noutside && c->outside[j] == c->outside[i])
            j++;
        uint64_t rc1 = 0;
        if (get_refcount(c, c->outside[i], &rc1) < 0) {
            r->check_errors++;
        } else {
            *highest = c->outside[i];
            if (rc1 != j - i) {
                msg(c, "%s cluster %llu refcount=%llu reference=%llu", rc1 < j - i ? "ERROR" : "Leaked",
                    (unsigned long long)c->outside[i], (unsigned long long)rc1, (unsigned long long)(j - i));
                if (rc1 < j - i) {
                    r->corruptions++;
                    *rebuild |= rc1 == 0;
                } else {
                    r->leaks++;
                }
            }
        }
        i = j;
    }
}

/* check -r all of a refcount block past the end of the file: the file
 * grown to hold it (as qemu grows it), the counts with it; 0 or an errno.
 * The counts cost two bytes a cluster: at most MAX_GROW_CLUSTERS. */
#define MAX_GROW_CLUSTERS (1ULL << 27)
static int grow_file(struct ck *c, uint64_t off)
{
    struct qcow2 *q = c->q;
    if (off > INT64_MAX - q->cluster_size)
        return EINVAL;
    uint64_t n = (off + q->cluster_size) >> q->cluster_bits;
    if (n > MAX_GROW_CLUSTERS)
        return EFBIG;
    if (gk_truncate(q->file, off + q->cluster_size, GK_PREALLOC_OFF) < 0)
        return errno ? errno : EIO;
    q->file_size = off + q->cluster_size;
    c->nb_clusters = n;
    qcow2_refs_resize(&c->refs, n);
    return 0;
}

/* Every reference the metadata makes, counted into c->refs (qemu's
 * calculate_refcounts); *rebuild when a refcount block is itself wrong;
 * with fix, refcount blocks past the end of the file are taken in. */
static int calculate(struct ck *c, unsigned fix, int *rebuild)
{
    struct qcow2 *q = c->q;
    gk_check_result *r = c->r;
    unsigned cb = q->cluster_bits;
    c->nb_clusters = (q->file_size + q->cluster_size - 1) >> cb;
    qcow2_refs_reset(&c->refs, c->nb_clusters);
    free(c->outside);
    c->outside = NULL;
    c->noutside = 0;
    const uint64_t *reft = q->reft;
    uint64_t reft_n = q->reft_entries;

    inc(c, 0, q->cluster_size);                                       /* header */
    check_l1(c, q->h.l1_table_offset, q->h.l1_size, CHECK_FRAG_INFO);   /* active */
    for (uint32_t i = 0; i < q->nb_snapshots; i++) {
        gk_snapshot_info *s = &q->snaps[i];
        if (s->l1_offset & (q->cluster_size - 1)) {
            msg(c, "ERROR snapshot %s (%s) l1_offset=%#llx: L1 table is not cluster aligned; snapshot table entry corrupted",
                s->id, s->name, (unsigned long long)s->l1_offset);
            r->corruptions++;
            continue;
        }
        if ((uint64_t)s->l1_size * 8 > QC_MAX_L1_BYTES) {
            msg(c, "ERROR snapshot %s (%s) l1_size=%#x: L1 table is too large; snapshot table entry corrupted",
                s->id, s->name, s->l1_size);
            r->corruptions++;
            continue;
        }
        check_l1(c, s->l1_offset, s->l1_size, 0);
    }
    inc(c, q->h.snapshots_offset, q->snapshots_size);
    inc(c, q->h.refcount_table_offset, reft_n * 8);
    if (q->crypto_len)
        inc(c, q->crypto_off, q->crypto_len);
    check_bitmaps(c);
    /* refcount blocks */
    for (uint64_t i = 0; i < reft_n; i++) {
        uint64_t off = reft[i] & QC_REFT_OFFSET_MASK, k = off >> cb;
        if (reft[i] & 0x1ff) {
            msg(c, "ERROR refcount table entry %llu has reserved bits set", (unsigned long long)i);
            r->corruptions++;
            *rebuild = 1;
            continue;
        }
        if (off & (q->cluster_size - 1)) {
            msg(c, "ERROR refcount block %llu is not cluster aligned; refcount table entry corrupted",
                (unsigned long long)i);
            r->corruptions++;
            *rebuild = 1;
            continue;
        }
        if (k >= c->nb_clusters) {
            r->corruptions++;
            msg(c, "%s refcount block %llu is outside image", fix & GK_REPAIR_ERRORS ? "Repairing" : "ERROR",
                (unsigned long long)i);
            if (!(fix & GK_REPAIR_ERRORS))
                continue;
            /* qemu's repair: the file grows to hold the block (zeros), which
             * the comparison then finds wrong, so the structure is rebuilt */
            int err = grow_file(c, off);
            if (err) {
                *rebuild = 1;
                msg(c, "ERROR could not resize image: %s", strerror(err));
                continue;
            }
            r->corruptions--;
            r->corruptions_fixed++;
            inc(c, off, q->cluster_size);
            continue;
        }
        if (off) {
            inc(c, off, q->cluster_size);
            if (qcow2_refs_get(&c->refs, k) != 1) {
                msg(c, "ERROR refcount block %llu refcount=%llu", (unsigned long long)i,
                    (unsigned long long)qcow2_refs_get(&c->refs, k));
                r->corruptions++;
                *rebuild = 1;
            }
        }
    }
    return 0;
}

static int write_l1_entry(struct qcow2 *q, uint32_t i, uint64_t v)
{
    uint8_t b[8];
    gk_put_be64(b, v);
    if (gk_pwrite(q->file, b, 8, q->h.l1_table_offset + (uint64_t)i * 8) < 0 || gk_flush(q->file) < 0)
        return -1;
    if (q->l1 && i < q->l1_size && q->l1 != NULL)
        q->l1[i] = v;
    return 0;
}

/* OFLAG_COPIED in the active tables must say "refcount is 1" (qemu's
 * check_oflag_copied); with GK_REPAIR_ERRORS the flags are set right. */
static void check_copied(struct ck *c, unsigned fix)
{
    struct qcow2 *q = c->q;
    gk_check_result *r = c->r;
    unsigned cb = q->cluster_bits;
    int repair = !!(fix & GK_REPAIR_ERRORS);
    uint64_t bytes = (uint64_t)q->h.l1_size * 8;
    uint8_t *l1 = bytes && bytes <= QC_MAX_L1_BYTES ? gk_malloc(bytes) : NULL;
    uint8_t *t = gk_malloc(q->cluster_size);
    if (l1 && qcow2_read(q, q->file, l1, bytes, q->h.l1_table_offset) == 0) {
        for (uint32_t i = 0; i < q->h.l1_size; i++) {
            uint64_t l1e = gk_be64(l1 + (uint64_t)i * 8), l2off = l1e & QC_OFFSET_MASK, rc;
            if (!l2off || get_refcount(c, l2off >> cb, &rc) < 0)
                continue;
            if ((rc == 1) != !!(l1e & QC_OFLAG_COPIED)) {
                msg(c, "%s OFLAG_COPIED L2 cluster: l1_index=%u l1_entry=%llx refcount=%llu",
                    repair ? "Repairing" : "ERROR", i, (unsigned long long)l1e, (unsigned long long)rc);
                r->corruptions++;
                if (repair) {
                    if (write_l1_entry(q, i, rc == 1 ? l1e | QC_OFLAG_COPIED : l1e & ~QC_OFLAG_COPIED) < 0) {
                        r->check_errors++;
                        break;
                    }
                    r->corruptions--;
                    r->corruptions_fixed++;
                }
            }
            /* the table as the cache has it (repairs of the refcounts may
             * have gone through it) */
            if (q->rw) {
                void *tv;
                if (qcow2_cache_get(q->l2_cache, l2off, &tv) < 0) {
                    r->check_errors++;
                    break;
                }
                memcpy(t, tv, q->cluster_size);
                qcow2_cache_put(q->l2_cache, tv);
            } else if (qcow2_read(q, q->file, t, q->cluster_size, l2off) < 0) {
                r->check_errors++;
                break;
            }
            int changed = 0;
            for (uint64_t j = 0; j < q->l2_entries; j++) {
                uint8_t *ent = t + j * q->l2_entry_size;
                uint64_t e = gk_be64(ent), off = e & QC_OFFSET_MASK;
                if ((e & QC_OFLAG_COMPRESSED) || !off)
                    continue;
                if (q->data != q->file)
                    continue; /* data clusters in an external file have no refcount */
                if (get_refcount(c, off >> cb, &rc) < 0)
                    continue;
                if ((rc == 1) != !!(e & QC_OFLAG_COPIED)) {
                    msg(c, "%s OFLAG_COPIED data cluster: l2_entry=%llx refcount=%llu",
                        repair ? "Repairing" : "ERROR", (unsigned long long)e, (unsigned long long)rc);
                    r->corruptions++;
                    if (repair) {
                        e = rc == 1 ? e | QC_OFLAG_COPIED : e & ~QC_OFLAG_COPIED;
                        gk_put_be64(ent, e);
                        changed = 1;
                        r->corruptions--;
                        r->corruptions_fixed++;
                    }
                }
            }
            if (changed) {
                void *tv;
                if (qcow2_cache_get(q->l2_cache, l2off, &tv) < 0) {
                    r->check_errors++;
                    break;
                }
                memcpy(tv, t, q->cluster_size);
                qcow2_cache_mark_dirty(q->l2_cache, tv);
                qcow2_cache_put(q->l2_cache, tv);
                if (qcow2_cache_flush(q->l2_cache) < 0) {
                    r->check_errors++;
                    break;
                }
            }
        }
    }
    free(l1);
    free(t);
}

/* qemu's qcow2_check_refcounts() with its fix modes. */
static int check_run(gk_dev *d, gk_check_result *r, unsigned fix)
{
    struct qcow2 *q = d->priv;
    struct ck c = { .q = q, .r = r };
    unsigned cb = q->cluster_bits;
    c.refmax = qcow2_refcount_max(q);
    r->total_clusters = (q->h.size + q->cluster_size - 1) >> cb;

    int lr = qcow2_refcount_load(q);
    if (lr < 0)
        return lr;
    int rebuild = 0, rc = 0;
    uint64_t highest = 0;
    calculate(&c, fix, &rebuild);
    gk_check_result pre = *r;
    compare(&c, 0, &rebuild, &highest);
    if (rebuild && (fix & GK_REPAIR_ERRORS)) {
        gk_check_result old = *r;
        msg(&c, "Rebuilding refcount structure");
        if ((rc = qcow2_rebuild_refcounts(q, &c.refs, q->h.refcount_order, 1)) < 0) {
            msg(&c, "ERROR %s", gk_errmsg());
            r->check_errors++;
            goto out;
        }
        r->corruptions = 0;
        r->leaks = 0;
        rebuild = 0;
        r->allocated_clusters = r->fragmented_clusters = r->compressed_clusters = 0;
        calculate(&c, 0, &rebuild);
        uint64_t fresh = 0;
        if (fix & GK_REPAIR_LEAKS) {
            /* the old structure is now leaked: repaired quietly but for
             * the "Repairing" lines, as qemu does */
            gk_check_result saved = *r;
            r->leaks = r->corruptions = r->leaks_fixed = r->corruptions_fixed = 0;
            compare(&c, GK_REPAIR_LEAKS, &rebuild, &highest);
            if (rebuild)
                msg(&c, "ERROR rebuilt refcount structure is still broken");
            fresh = r->leaks;
            uint64_t lf = saved.leaks_fixed, cf = saved.corruptions_fixed;
            saved.messages = r->messages;
            saved.nmessages = r->nmessages;
            *r = saved;
            r->leaks_fixed = lf;
            r->corruptions_fixed = cf;
        }
        if (r->corruptions < old.corruptions)
            r->corruptions_fixed += old.corruptions - r->corruptions;
        if (r->leaks < old.leaks)
            r->leaks_fixed += old.leaks - r->leaks;
        r->leaks += fresh;
    } else if (fix) {
        if (rebuild) {
            msg(&c, "ERROR need to rebuild refcount structures");
            r->check_errors++;
            rc = gk_fail(EIO, "Input/output error");
            goto out;
        }
        if (r->leaks || r->corruptions) {
            char **m = r->messages;
            int nm = r->nmessages;
            *r = pre;
            r->messages = m;
            r->nmessages = nm;
            compare(&c, fix, &rebuild, &highest);
        }
    }
    check_copied(&c, fix);
    r->image_end_offset = (highest + 1) << cb;
    if (fix && (rc = qcow2_op_flush(d)) < 0)
        r->check_errors++;
out:
    qcow2_refs_free(&c.refs);
    free(c.outside);
    return rc;
}

int qcow2_check(gk_dev *d, gk_check_result *r)
{
    struct qcow2 *q = d->priv;
    int rc;
    if (q->check_mode && (rc = qcow2_check_read_snapshots(q, r)) < 0)
        return rc;
    return check_run(d, r, 0);
}

int qcow2_repair(gk_dev *d, unsigned fix, gk_check_result *r)
{
    struct qcow2 *q = d->priv;
    if (!q->rw)
        return gk_fail(EROFS, "%s: image is not open for writing", q->path);
    int rc = check_run(d, r, fix);
    if (rc < 0)
        return rc;
    /* consistent now: the dirty and corrupt bits go (qemu's mark_clean and
     * mark_consistent) */
    if (!r->corruptions && !r->check_errors && q->version >= 3 &&
        (q->h.incompatible_features & (QC_INCOMPAT_DIRTY | QC_INCOMPAT_CORRUPT)))
        rc = qcow2_clear_incompat(q, QC_INCOMPAT_DIRTY | QC_INCOMPAT_CORRUPT);
    return rc;
}

int qcow2_change_refcount_width(struct qcow2 *q, uint64_t bits)
{
    gk_check_result r;
    memset(&r, 0, sizeof r);
    struct ck c = { .q = q, .r = &r, .refmax = UINT64_MAX };
    int rebuild = 0, rc = qcow2_refcount_load(q);
    if (rc < 0)
        return rc;
    unsigned order = 0;
    while ((1ULL << order) < bits)
        order++;
    calculate(&c, 0, &rebuild);
    uint64_t max = bits >= 64 ? UINT64_MAX : (1ULL << bits) - 1;
    if (r.corruptions || r.check_errors || c.noutside) {
        rc = gk_fail(EIO, "%s: the image's metadata is inconsistent; cannot change the refcount width", q->path);
        goto out;
    }
    for (uint64_t k = 0; k < c.nb_clusters; k++)
        if (qcow2_refs_get(&c.refs, k) > max) {
            rc = gk_fail(EINVAL, "Cannot decrease refcount entry width to %u bits: Cluster at offset %#llx has a "
                                 "refcount of %llu", (unsigned)bits, (unsigned long long)(k << q->cluster_bits),
                         (unsigned long long)qcow2_refs_get(&c.refs, k));
            goto out;
        }
    /* the old structure is free once the header points to the new one */
    for (uint64_t i = 0; i < q->reft_entries; i++) {
        uint64_t k = (q->reft[i] & QC_REFT_OFFSET_MASK) >> q->cluster_bits;
        if (k && k < c.nb_clusters)
            qcow2_refs_set(&c.refs, k, 0);
    }
    uint64_t t0 = q->h.refcount_table_offset >> q->cluster_bits;
    for (uint64_t k = t0; k < t0 + q->h.refcount_table_clusters && k < c.nb_clusters; k++)
        qcow2_refs_set(&c.refs, k, 0);
    rc = qcow2_rebuild_refcounts(q, &c.refs, order, 0);
out:
    gk_check_result_free(&r);
    qcow2_refs_free(&c.refs);
    free(c.outside);
    return rc;
}
