/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 writes: opening read-write, guest writes (cluster allocation,
 * copy-on-write of partial clusters from the backing file, from compressed
 * clusters, from clusters shared with snapshots; with extended L2 only the
 * subclusters a write touches are allocated), compressed cluster writes
 * (convert -c), growing the disk, flush, header updates.
 *
 * The write order is qemu's (see the allocator's comment in qcow2.h):
 * refcounts up before anything points to a cluster (the L2 cache depends on
 * the refcount cache); guest data reaches the disk before the L2 entry that
 * points to it (the L2 cache flushes the data file before writing tables);
 * a new L2 table is written before the L1 entry that points to it; header
 * changes that must be atomic are one write inside the first sector; drops
 * of refcounts wait until what replaced the old cluster is on disk.  A kill
 * -9 at any moment leaves an image that qemu-img check finds clean but for
 * leaked clusters, and every write flushed before reads back.
 *
 * Lazy refcounts (qemu's): with lazy_refcounts=on, the first write that
 * links a new cluster sets the dirty bit; from then on L2 tables are written
 * without first writing the refcount blocks (the refcounts in memory stay
 * exact, those on disk may lag behind).  A clean close writes everything and
 * clears the bit.  An image found dirty when opened for writing (killed
 * while dirty, by qemu or by us) first has its refcounts repaired as
 * `check -r all` repairs them, as qemu's open does; reads need nothing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "qcow2.h"

static void put_be(uint8_t *p, uint64_t v, unsigned size)
{
    for (unsigned i = size; i-- > 0; v >>= 8)
        p[i] = (uint8_t)v;
}

/* Bytes [off, off+n) of the header sector, written and flushed in one go. */
static int header_patch(struct qcow2 *q, unsigned off, uint64_t v, unsigned size)
{
    uint8_t b[8];
    put_be(b, v, size);
    if (gk_pwrite(q->file, b, size, off) < 0 || gk_flush(q->file) < 0)
        return -errno;
    return 0;
}

int qcow2_signal_corruption(struct qcow2 *q, const char *what)
{
    gk_error("%s: %s; image marked corrupt, not written", q->path, what);
    char *m = gk_strdup(gk_errmsg());
    if (q->version >= 3 && q->rw) {
        q->h.incompatible_features |= QC_INCOMPAT_CORRUPT;
        header_patch(q, 72, q->h.incompatible_features, 8);
        q->rw = 0;
    }
    gk_error("%s", m);
    free(m);
    return -EIO;
}

int qcow2_clear_incompat(struct qcow2 *q, uint64_t bits)
{
    uint64_t v = q->h.incompatible_features & ~bits;
    int r = header_patch(q, 72, v, 8);
    if (r == 0)
        q->h.incompatible_features = v;
    return r;
}

int qcow2_mark_dirty(struct qcow2 *q)
{
    if (q->version < 3 || !(q->h.compatible_features & QC_COMPAT_LAZY_REFCOUNTS) ||
        (q->h.incompatible_features & QC_INCOMPAT_DIRTY))
        return 0;
    /* everything on disk is consistent until here: the bit says from now on
     * the refcount blocks may lag behind the tables */
    int r = header_patch(q, 72, q->h.incompatible_features | QC_INCOMPAT_DIRTY, 8);
    if (r < 0)
        return r;
    q->h.incompatible_features |= QC_INCOMPAT_DIRTY;
    q->dirtied = 1;
    qcow2_cache_set_dependency(q->l2_cache, NULL);
    return 0;
}

/* A dirty image opened for writing: its refcounts rebuilt from the metadata
 * first (qemu's open runs its check with both repairs), which clears the
 * bit when the image is consistent after it. */
static int repair_dirty(struct qcow2 *q, gk_dev *d)
{
    gk_check_result cr;
    memset(&cr, 0, sizeof cr);
    q->rw = 1;
    int r = qcow2_repair(d, GK_REPAIR_LEAKS | GK_REPAIR_ERRORS, &cr);
    q->rw = 0;
    for (int i = 0; i < cr.nmessages; i++)
        gk_debug("%s: %s", q->path, cr.messages[i]);
    if (r < 0) {
        gk_error_prefix("%s: Could not repair dirty image", q->path);
    } else if (cr.check_errors || cr.corruptions || (q->h.incompatible_features & QC_INCOMPAT_DIRTY)) {
        r = gk_fail(EIO, "%s: Could not repair dirty image: %llu errors remain ('gimg check' lists them)",
                    q->path, (unsigned long long)(cr.check_errors + cr.corruptions));
    } else if (cr.corruptions_fixed || cr.leaks_fixed) {
        gk_warn("%s: the image was dirty (lazy refcounts not written back): its refcounts were repaired",
                q->path);
    }
    gk_check_result_free(&cr);
    return r;
}

int qcow2_write_header(struct qcow2 *q)
{
    uint8_t *buf = gk_calloc(1, q->cluster_size);
    /* the backing file name goes right after the extensions */
    q->h.backing_file_offset = 0;
    q->h.backing_file_size = 0;
    int n = qcow2_header_build(q, buf, q->cluster_size);
    if (n >= 0 && q->backing_name) {
        size_t bl = strlen(q->backing_name);
        q->h.backing_file_offset = (uint64_t)n - bl;
        q->h.backing_file_size = (uint32_t)bl;
        memset(buf, 0, q->cluster_size);
        n = qcow2_header_build(q, buf, q->cluster_size);
    }
    int r = 0;
    if (n < 0)
        r = gk_fail(EINVAL, "%s: the header and its extensions do not fit in one cluster", q->path);
    else if (gk_pwrite(q->file, buf, q->cluster_size, 0) < 0 || gk_flush(q->file) < 0)
        r = -errno;
    free(buf);
    return r;
}

/* ---- opening read-write ---- */

int qcow2_open_rw(struct qcow2 *q, gk_dev *d, gk_open_ctx *ctx)
{
    const struct qcow2_header *h = &q->h;
    if (ctx->snapshot || ctx->snapshot_id || ctx->snapshot_name)
        return gk_fail(EROFS, "%s: a snapshot can only be opened read-only", q->path);
    if (ctx->flags & GK_OPEN_INFO)
        return gk_fail(EINVAL, "%s: an image opened for its details cannot be written", q->path);
    if (ctx->flags & GK_OPEN_REPAIR) {
        /* check -r: what is wrong is what it repairs */
        if (h->crypt_method)
            return gk_fail(ENOTSUP, "%s: writing encrypted images is not supported", q->path);
        q->rw = 1;
        q->cow = gk_malloc(q->cluster_size);
        if (q->data != q->file)
            qcow2_cache_flush_first(q->l2_cache, q->data);
        d->readonly = 0;
        return 0;
    }
    if (h->incompatible_features & QC_INCOMPAT_CORRUPT)
        return gk_fail(EROFS, "%s: image is corrupt; cannot be opened read/write", q->path);
    /* LUKS: data is encrypted with the volume key the open unlocked (IVs
     * from host offsets, as reads); the legacy AES format is not written */
    if (h->crypt_method == 1)
        return gk_fail(ENOTSUP, "%s: writing the legacy (insecure) AES encryption is not supported; "
                       "convert the image to encrypt.format=luks", q->path);
    if (h->crypt_method && (!q->crypt || q->data != q->file))
        return gk_fail(ENOTSUP, "%s: writing this encrypted image is not supported", q->path);
    int r;
    if ((h->incompatible_features & QC_INCOMPAT_DIRTY) && (r = repair_dirty(q, d)) < 0)
        return r;
    /* inconsistent metadata is refused before anything is written */
    gk_check_result cr;
    memset(&cr, 0, sizeof cr);
    r = qcow2_check(d, &cr);
    if (r == 0 && (cr.corruptions || cr.check_errors)) {
        const char *first = "";
        for (int i = 0; i < cr.nmessages && !*first; i++)
            if (strncmp(cr.messages[i], "Leaked", 6) != 0)
                first = cr.messages[i];
        r = gk_fail(EIO, "%s: image has %llu inconsistencies in its metadata%s%s; refusing to write it "
                         "('gimg check' lists them)", q->path, (unsigned long long)(cr.corruptions + cr.check_errors),
                    *first ? ", first: " : "", first);
    }
    gk_check_result_free(&cr);
    if (r < 0)
        return r;
    q->rw = 1;
    /* autoclear bits we do not keep true (bitmaps are not updated) go */
    uint64_t keep = h->autoclear_features & QC_AUTOCLEAR_DATA_FILE_RAW;
    if (q->version >= 3 && h->autoclear_features != keep) {
        q->h.autoclear_features = keep;
        if ((r = header_patch(q, 88, keep, 8)) < 0)
            return r;
    }
    q->cow = gk_malloc(q->cluster_size);
    if (q->crypt)
        q->enc = gk_malloc(q->cluster_size);
    if (q->data != q->file)
        qcow2_cache_flush_first(q->l2_cache, q->data);
    d->readonly = 0;
    return 0;
}

/* ---- L2 tables ---- */

static int check_table_off(struct qcow2 *q, uint64_t off, const char *what)
{
    if (off & (q->cluster_size - 1) || off < q->cluster_size || off >= (1ULL << 56))
        return qcow2_signal_corruption(q, what);
    return 0;
}

/* The L2 table of L1 entry l1i, held, writable: allocated when missing,
 * copied when shared (its refcount is not 1: no COPIED flag). */
int qcow2_l2_for_write(struct qcow2 *q, uint64_t l1i, void **tv)
{
    if (l1i >= q->l1_size)
        return gk_fail(EIO, "%s: write beyond what the L1 table maps", q->path);
    uint64_t l1e = q->l1[l1i], old = l1e & QC_OFFSET_MASK;
    int r;
    if (old && (r = check_table_off(q, old, "L2 table offset is misaligned or out of range")) < 0)
        return r;
    if (old && (l1e & QC_OFLAG_COPIED))
        return qcow2_cache_get(q->l2_cache, old, tv);
    int64_t noff = qcow2_alloc_clusters(q, q->cluster_size);
    if (noff < 0)
        return (int)noff;
    void *nt;
    if (old) {
        void *ot;
        if ((r = qcow2_cache_get(q->l2_cache, old, &ot)) < 0)
            return r;
        if ((r = qcow2_cache_get_empty(q->l2_cache, (uint64_t)noff, &nt)) < 0) {
            qcow2_cache_put(q->l2_cache, ot);
            return r;
        }
        memcpy(nt, ot, q->cluster_size);
        qcow2_cache_put(q->l2_cache, ot);
    } else {
        if ((r = qcow2_cache_get_empty(q->l2_cache, (uint64_t)noff, &nt)) < 0)
            return r;
        memset(nt, 0, q->cluster_size);
    }
    qcow2_cache_mark_dirty(q->l2_cache, nt);
    /* the table (and the refcounts under it) before the L1 entry */
    if ((r = qcow2_cache_flush(q->l2_cache)) < 0) {
        qcow2_cache_put(q->l2_cache, nt);
        return r;
    }
    uint8_t b[8];
    put_be(b, (uint64_t)noff | QC_OFLAG_COPIED, 8);
    if (gk_pwrite(q->file, b, 8, q->h.l1_table_offset + l1i * 8) < 0 || gk_flush(q->file) < 0) {
        qcow2_cache_put(q->l2_cache, nt);
        return -errno;
    }
    q->l1[l1i] = (uint64_t)noff | QC_OFLAG_COPIED;
    if (old)
        qcow2_free_later(q, old, q->cluster_size);
    *tv = nt;
    return 0;
}

/* The old host cluster of an L2 entry that is being replaced, if it held
 * one that must lose a reference. */
void qcow2_release_cluster(struct qcow2 *q, uint64_t e)
{
    if (q->data != q->file)
        return; /* data file clusters have no refcounts */
    if (e & QC_OFLAG_COMPRESSED) {
        uint64_t coff, csize;
        qcow2_compressed_range(q, e, &coff, &csize);
        qcow2_free_later(q, coff & ~511ULL, ((coff & 511) + csize + 511) & ~511ULL);
        for (int i = 0; i < 2; i++)
            q->dc[i].valid = 0;
        return;
    }
    uint64_t host = e & QC_OFFSET_MASK;
    if (host)
        qcow2_free_later(q, host, q->cluster_size);
}

int qcow2_pwrite_data(struct qcow2 *q, const void *buf, size_t n, uint64_t host)
{
    if (q->crypt) {
        /* by the host offset, as qemu's LUKS-in-qcow2 does */
        memcpy(q->enc, buf, n);
        if (gk_cipher_encrypt(q->crypt, q->enc, n, host / 512) < 0)
            return -EIO;
        buf = q->enc;
    }
    return gk_pwrite(q->data, buf, n, host) < 0 ? -errno : 0;
}

/* The guest cluster at coff as a reader sees it now, into q->cow. */
static int read_cluster(gk_dev *d, struct qcow2 *q, uint64_t coff)
{
    uint64_t n = q->cluster_size;
    if (coff >= d->size)
        n = 0;
    else if (d->size - coff < n)
        n = d->size - coff;
    if (n && gk_pread(d, q->cow, (size_t)n, coff) < 0)
        return -errno;
    memset(q->cow + n, 0, q->cluster_size - n);
    return 0;
}

/* The part [*rs, *re) of a cluster that a write of [in, in+k) rewrites
 * with extended L2 (qemu's calculate_l2_meta), and the new subcluster
 * bitmap: written subclusters are allocated; a partial subcluster that
 * held no data of this cluster is completed (copy-on-write) as a reader
 * sees it; a new cluster copies the allocated subclusters of a shared one
 * between the write and them, and all of a compressed one. */
static uint64_t subcluster_region(const struct qcow2 *q, uint64_t e, uint64_t bm, int owned, int normal,
                                  uint64_t *rs, uint64_t *re)
{
    uint64_t scs = q->cluster_size / 32, si = *rs / scs, ei = (*re - 1) / scs;
    uint32_t alloc = (uint32_t)bm;
    if (owned) {
        if (!(alloc >> si & 1))
            *rs = si * scs;
        if (!(alloc >> ei & 1))
            *re = (ei + 1) * scs;
    } else if (e & QC_OFLAG_COMPRESSED) {
        *rs = 0;
        *re = q->cluster_size;
        bm = 0;
    } else if (normal) {
        uint64_t lead = alloc ? (uint64_t)__builtin_ctz(alloc) : 32;
        uint64_t trail = alloc ? (uint64_t)__builtin_clz(alloc) : 32;
        *rs = (si < lead ? si : lead) * scs;
        *re = q->cluster_size - (31 - ei < trail ? 31 - ei : trail) * scs;
    } else {
        *rs = si * scs;
        *re = (ei + 1) * scs;
    }
    uint64_t first = *rs / scs, last = (*re - 1) / scs;
    uint64_t mask = (last - first == 31 ? 0xffffffffULL : ((1ULL << (last - first + 1)) - 1)) << first;
    return (bm | mask) & ~(mask << 32);
}

/* Host clusters for *m guest clusters of the write under way: where its
 * last mapped cluster ends when the clusters there are free (as many of
 * them as are, *m shortened), else wherever the allocator finds *m in a
 * row.  qemu maps a request the same way, so a refcount block that must
 * cover itself goes where qemu's goes: at the first cluster it covers when
 * the write goes on past its range, after the clusters taken otherwise.
 * Their offset, or -errno. */
static int64_t alloc_data(struct qcow2 *q, uint64_t *m)
{
    if (q->req_next && !q->crypt) {
        int64_t got = qcow2_alloc_clusters_at(q, q->req_next, *m);
        if (got < 0)
            return got;
        if (got > 0) {
            *m = (uint64_t)got;
            return (int64_t)q->req_next;
        }
    }
    return qcow2_alloc_clusters(q, *m << q->cluster_bits);
}

/* Write k bytes at off inside one guest cluster. */
static int write_cluster(gk_dev *d, struct qcow2 *q, const uint8_t *p, size_t k, uint64_t off)
{
    unsigned cb = q->cluster_bits;
    uint64_t cs = q->cluster_size, in = off & (cs - 1), coff = off - in;
    int external = q->data != q->file;
    void *tv;
    int r = qcow2_l2_for_write(q, off >> (cb + q->l2_bits), &tv);
    if (r < 0)
        return r;
    uint8_t *ent = (uint8_t *)tv + ((off >> cb) & (q->l2_entries - 1)) * q->l2_entry_size;
    uint64_t e = gk_be64(ent), bm = q->ext_l2 ? gk_be64(ent + 8) : 0;
    uint64_t host = e & QC_OFFSET_MASK;
    int zero_flag = !q->ext_l2 && (e & QC_OFLAG_ZERO);
    int normal = !(e & QC_OFLAG_COMPRESSED) && (host || (external && (e & QC_OFLAG_COPIED)));
    int owned = normal && (e & QC_OFLAG_COPIED);
    if (owned && external)
        host = coff;
    if (owned && (host & (cs - 1) || (!external && host < cs))) {
        qcow2_cache_put(q->l2_cache, tv);
        return qcow2_signal_corruption(q, "data cluster offset is misaligned or overlaps the header");
    }
    /* the bytes rewritten, [rs, re) of the cluster: encryption is by
     * whole sectors (qemu's block layer completes partial ones first) */
    uint64_t rs = in, re = in + k, nbm = bm;
    if (q->crypt) {
        rs &= ~511ULL;
        re = (re + 511) & ~511ULL;
    }
    if (q->ext_l2) {
        nbm = subcluster_region(q, e, bm, owned, normal, &rs, &re);
    } else if (!owned || zero_flag) {
        rs = 0; /* a new cluster, or one that reads as zeros: all of it */
        re = cs;
    }
    const uint8_t *src = p;
    if (rs < in || re > in + k) {
        if ((r = read_cluster(d, q, coff)) < 0) {
            qcow2_cache_put(q->l2_cache, tv);
            return r;
        }
        memcpy(q->cow + in, p, k);
        src = q->cow + rs;
    }
    size_t wlen = (size_t)(re - rs);
    uint64_t target = host;
    if (!owned) {
        if (external) {
            target = coff;
        } else {
            uint64_t one = 1;
            int64_t a = alloc_data(q, &one);
            if (a < 0) {
                qcow2_cache_put(q->l2_cache, tv);
                return (int)a;
            }
            target = (uint64_t)a;
        }
    }
    q->req_next = external || q->crypt ? 0 : target + cs;
    if ((r = qcow2_pwrite_data(q, src, wlen, target + rs)) < 0) {
        qcow2_cache_put(q->l2_cache, tv);
        return r;
    }
    if (!owned || zero_flag || nbm != bm) {
        if ((r = qcow2_mark_dirty(q)) < 0) {
            qcow2_cache_put(q->l2_cache, tv);
            return r;
        }
        if (!owned)
            qcow2_release_cluster(q, e);
        put_be(ent, target | QC_OFLAG_COPIED, 8);
        if (q->ext_l2)
            put_be(ent + 8, nbm, 8);
        qcow2_cache_mark_dirty(q->l2_cache, tv);
    }
    qcow2_cache_put(q->l2_cache, tv);
    return 0;
}

/* A run of whole guest clusters from off (cluster aligned, n >= two
 * clusters) inside one L2 table written with one pwrite, as qemu writes a
 * request: either clusters that need new host clusters (unallocated, zero,
 * compressed, shared: none needs copy-on-write, each is rewritten whole),
 * allocated together so that they are contiguous, or clusters the image
 * owns whose host clusters are contiguous already.  The order is
 * write_cluster's: refcounts raised in the cache, the data written, then
 * the L2 entries changed (the L2 cache writes them after the refcount
 * blocks and, for a data file, after flushing it).  Bytes written, 0 when
 * the run is shorter than two clusters (write_cluster does them one by
 * one), or -errno. */
static int64_t write_clusters(struct qcow2 *q, const uint8_t *p, uint64_t n, uint64_t off)
{
    unsigned cb = q->cluster_bits;
    uint64_t cs = q->cluster_size, first = (off >> cb) & (q->l2_entries - 1);
    uint64_t max = n >> cb;
    int external = q->data != q->file;
    if (q->crypt || max < 2)
        return 0;
    if (max > q->l2_entries - first)
        max = q->l2_entries - first;
    void *tv;
    int r = qcow2_l2_for_write(q, off >> (cb + q->l2_bits), &tv);
    if (r < 0)
        return r;
    uint8_t *ent0 = (uint8_t *)tv + first * q->l2_entry_size;
    uint64_t m = 0, host0 = 0;
    int alloc = -1;
    for (; m < max; m++) {
        const uint8_t *ent = ent0 + m * q->l2_entry_size;
        uint64_t e = gk_be64(ent), host = e & QC_OFFSET_MASK;
        uint64_t coff = off + (m << cb);
        int normal = !(e & QC_OFLAG_COMPRESSED) && (host || (external && (e & QC_OFLAG_COPIED)));
        int owned = normal && (e & QC_OFLAG_COPIED);
        if (owned && external)
            host = coff;
        /* owned, nothing in the entry to change, well placed */
        int inplace = owned && !(host & (cs - 1)) && (external || host >= cs) &&
                      (q->ext_l2 ? gk_be64(ent + 8) == 0xffffffffULL : !(e & QC_OFLAG_ZERO));
        if (owned && !inplace)
            break;
        if (alloc < 0) {
            alloc = !owned;
            host0 = host;
        } else if (alloc != !owned || (owned && host != host0 + (m << cb))) {
            break;
        }
    }
    if (m < 2) {
        qcow2_cache_put(q->l2_cache, tv);
        return 0;
    }
    uint64_t target = host0;
    if (alloc) {
        if (external) {
            target = off;
        } else {
            int64_t a = alloc_data(q, &m);
            if (a < 0) {
                qcow2_cache_put(q->l2_cache, tv);
                return a;
            }
            target = (uint64_t)a;
        }
    }
    q->req_next = external ? 0 : target + (m << cb);
    if (gk_pwrite(q->data, p, m << cb, target) < 0) {
        r = -errno;
        qcow2_cache_put(q->l2_cache, tv);
        return r;
    }
    if (alloc) {
        if ((r = qcow2_mark_dirty(q)) < 0) {
            qcow2_cache_put(q->l2_cache, tv);
            return r;
        }
        for (uint64_t i = 0; i < m; i++) {
            uint8_t *ent = ent0 + i * q->l2_entry_size;
            qcow2_release_cluster(q, gk_be64(ent));
            put_be(ent, (target + (i << cb)) | QC_OFLAG_COPIED, 8);
            if (q->ext_l2)
                put_be(ent + 8, 0xffffffffULL, 8); /* every subcluster allocated, none zero */
        }
        qcow2_cache_mark_dirty(q->l2_cache, tv);
    }
    qcow2_cache_put(q->l2_cache, tv);
    return (int64_t)(m << cb);
}

int qcow2_flush_all(struct qcow2 *q)
{
    int r = qcow2_cache_flush(q->l2_cache);
    if (r < 0)
        return r;
    if (q->nfrees && (r = qcow2_apply_frees(q)) < 0)
        return r;
    if ((r = qcow2_cache_flush(q->rb_cache)) < 0)
        return r;
    if (q->data != q->file && gk_flush(q->data) < 0)
        return -errno;
    return gk_flush(q->file) < 0 ? -errno : 0;
}

/* One write request (qemu's qcow2_co_pwritev_part): the clusters it needs
 * are mapped on from each other (req_next); more: it goes on with the
 * previous request, which ended at off. */
static int pwrite_req(gk_dev *d, const void *buf, size_t n, uint64_t off, int more)
{
    struct qcow2 *q = d->priv;
    if (!q->rw)
        return gk_fail(EROFS, "%s: image is not open for writing", q->path);
    const uint8_t *p = buf;
    if (!more || off != q->req_end)
        q->req_next = 0;
    while (n > 0) {
        uint64_t in = off & (q->cluster_size - 1);
        size_t k = q->cluster_size - in < n ? (size_t)(q->cluster_size - in) : n;
        int64_t w = in ? 0 : write_clusters(q, p, n, off);
        int r = w < 0 ? (int)w : 0;
        if (w > 0)
            k = (size_t)w;
        else if (w == 0)
            r = write_cluster(d, q, p, k, off);
        if (r < 0) {
            q->req_next = 0;
            return r;
        }
        if (q->nfrees > MAX_PENDING_FREES && (r = qcow2_flush_all(q)) < 0)
            return r;
        p += k;
        off += k;
        n -= k;
    }
    q->req_end = off;
    return 0;
}

int qcow2_op_pwrite(gk_dev *d, const void *buf, size_t n, uint64_t off)
{
    return pwrite_req(d, buf, n, off, 0);
}

int qcow2_op_pwrite_more(gk_dev *d, const void *buf, size_t n, uint64_t off)
{
    return pwrite_req(d, buf, n, off, 1);
}

int qcow2_op_flush(gk_dev *d)
{
    struct qcow2 *q = d->priv;
    if (!q->rw)
        return 0;
    return qcow2_flush_all(q);
}

/* ---- compressed clusters (convert -c) ---- */

int qcow2_op_compress(gk_dev *d, gk_compressor *c, const void *buf, size_t n, uint64_t off, gk_zbuf *z)
{
    struct qcow2 *q = d->priv;
    size_t cs = (size_t)q->cluster_size, cap = cs - 1;
    if (off & (cs - 1) || n > cs || (n < cs && off + n != d->size))
        return gk_fail(EINVAL, "%s: compressed writes are whole clusters", q->path);
    const void *in = gk_compressor_pad(c, buf, n, cs);
    gk_zbuf_reserve(z, cap);
    size_t len = 0;
    int r = q->compression_type == 0 ? gk_deflate(c, -12, 9, in, cs, z->p, cap, &len) /* qemu's parameters */
                                     : gk_zstd_compress(c, in, cs, z->p, cap, &len);
    if (r == -ENOSPC)
        len = 0; /* does not shrink: stored as it is */
    else if (r < 0)
        return r;
    z->len = len;
    return 0;
}

int qcow2_op_pwrite_compressed(gk_dev *d, const void *buf, size_t n, uint64_t off, const gk_zbuf *z)
{
    struct qcow2 *q = d->priv;
    uint64_t cs = q->cluster_size;
    if (!q->rw)
        return gk_fail(EROFS, "%s: image is not open for writing", q->path);
    if (n == 0) {
        /* the end of a compressed copy: qemu pads the file to whole
         * sectors (the file device's size is rounded up so) */
        if (!q->file->ops->truncate)
            return 0;
        return gk_truncate(q->file, q->file->size, GK_PREALLOC_OFF) < 0 ? -errno : 0;
    }
    if (off & (cs - 1) || n > cs || (n < cs && off + n != d->size))
        return gk_fail(EINVAL, "%s: compressed writes are whole clusters", q->path);
    if (q->data != q->file)
        return gk_fail(ENOTSUP, "%s: compressed clusters with an external data file", q->path);
    if (q->h.crypt_method)
        return gk_fail(ENOTSUP, "%s: compressed clusters cannot be encrypted", q->path);
    if (!z) {
        if (!q->wc && !(q->wc = gk_compressor_new(d)))
            return -errno;
        int r = qcow2_op_compress(d, q->wc, buf, n, off, &q->wz);
        if (r < 0)
            return r;
        z = &q->wz;
    }
    if (!z->len || z->len >= cs)
        return qcow2_op_pwrite(d, buf, n, off);
    size_t len = z->len;
    void *tv = NULL;
    int r = qcow2_l2_for_write(q, off >> (q->cluster_bits + q->l2_bits), &tv);
    if (r < 0)
        return r;
    uint8_t *ent = (uint8_t *)tv + ((off >> q->cluster_bits) & (q->l2_entries - 1)) * q->l2_entry_size;
    uint64_t e = gk_be64(ent);
    if (e & ~(uint64_t)QC_OFLAG_ZERO) {
        /* qemu compresses into empty clusters only; anything else is a
         * normal write */
        qcow2_cache_put(q->l2_cache, tv);
        return qcow2_op_pwrite(d, buf, n, off);
    }
    int64_t coff = qcow2_alloc_bytes(q, len);
    if (coff < 0) {
        qcow2_cache_put(q->l2_cache, tv);
        return (int)coff;
    }
    if (gk_pwrite(q->file, z->p, len, (uint64_t)coff) < 0) {
        r = -errno;
        qcow2_cache_put(q->l2_cache, tv);
        return r;
    }
    if ((r = qcow2_mark_dirty(q)) < 0) {
        qcow2_cache_put(q->l2_cache, tv);
        return r;
    }
    uint64_t nb = (((uint64_t)coff + len - 1) >> 9) - ((uint64_t)coff >> 9);
    put_be(ent, (uint64_t)coff | nb << (62 - (q->cluster_bits - 8)) | QC_OFLAG_COMPRESSED, 8);
    if (q->ext_l2)
        put_be(ent + 8, 0, 8);
    qcow2_cache_mark_dirty(q->l2_cache, tv);
    qcow2_cache_put(q->l2_cache, tv);
    for (int i = 0; i < 2; i++)
        q->dc[i].valid = 0;
    return 0;
}

/* ---- the disk size ---- */

/* Clear the L2 entries of guest clusters [from, to) (from cluster aligned);
 * the clusters they held lose a reference at the next flush, after the
 * tables are written (qemu's full discard of the tail). */
static int clear_entries(struct qcow2 *q, uint64_t from, uint64_t to)
{
    unsigned cb = q->cluster_bits, shift = cb + q->l2_bits;
    while (from < to) {
        uint64_t l1i = from >> shift, end = (l1i + 1) << shift;
        if (l1i >= q->l1_size)
            break;
        if (end > to || end == 0)
            end = to;
        if (q->l1[l1i] & QC_OFFSET_MASK) {
            void *tv;
            int r = qcow2_l2_for_write(q, l1i, &tv);
            if (r < 0)
                return r;
            for (uint64_t c = from; c < end; c += q->cluster_size) {
                uint8_t *ent = (uint8_t *)tv + ((c >> cb) & (q->l2_entries - 1)) * q->l2_entry_size;
                uint64_t e = gk_be64(ent);
                if (!e && !(q->ext_l2 && gk_be64(ent + 8)))
                    continue;
                qcow2_release_cluster(q, e);
                memset(ent, 0, q->l2_entry_size);
                qcow2_cache_mark_dirty(q->l2_cache, tv);
            }
            qcow2_cache_put(q->l2_cache, tv);
            if (q->nfrees > MAX_PENDING_FREES && (r = qcow2_flush_all(q)) < 0)
                return r;
        }
        from = end;
    }
    return 0;
}

/* Cut the file after its last cluster in use (qemu: a failure is only a
 * warning, the image is consistent either way). */
static void cut_tail(struct qcow2 *q)
{
    unsigned cb = q->cluster_bits;
    uint64_t n = (q->file->size + q->cluster_size - 1) >> cb, k = n, rc = 0;
    while (k > 1) {
        if (qcow2_get_refcount(q, k - 1, &rc) < 0)
            return;
        if (rc)
            break;
        k--;
    }
    if (k < n && gk_truncate(q->file, k << cb, GK_PREALLOC_OFF) < 0) {
        gk_warn("Failed to truncate the tail of the image: %s", gk_errmsg());
        return;
    }
    q->file_size = k << cb;
    if (q->free_cluster_index > k)
        q->free_cluster_index = k;
}

/* The disk gets smaller: the clusters past the new end are discarded, L2
 * tables wholly past it freed (their L1 entries zeroed first; the L1 table
 * keeps its size, as qemu's), then the header's size, then the file's tail
 * goes.  A kill at any point leaks clusters at worst. */
static int shrink(struct qcow2 *q, uint64_t size)
{
    uint64_t cs = q->cluster_size;
    unsigned shift = q->cluster_bits + q->l2_bits;
    uint64_t from = (size + cs - 1) & ~(cs - 1);
    int r = clear_entries(q, from, q->h.size);
    if (r == 0)
        r = qcow2_flush_all(q);
    if (r < 0)
        return r;
    uint64_t keep = (size + (1ULL << shift) - 1) >> shift;
    if (keep < q->l1_size) {
        uint64_t n = (q->l1_size - keep) * 8;
        uint8_t *z = gk_calloc(1, n);
        if (gk_pwrite(q->file, z, n, q->h.l1_table_offset + keep * 8) < 0 || gk_flush(q->file) < 0) {
            free(z);
            return -errno;
        }
        free(z);
        for (uint64_t i = keep; i < q->l1_size; i++) {
            if (q->l1[i] & QC_OFFSET_MASK)
                qcow2_free_later(q, q->l1[i] & QC_OFFSET_MASK, cs);
            q->l1[i] = 0;
        }
    }
    if ((r = header_patch(q, 24, size, 8)) < 0)
        return r;
    q->h.size = size;
    if ((r = qcow2_flush_all(q)) < 0)
        return r;
    q->free_byte_offset = 0;
    qcow2_decompressed_forget(q);
    cut_tail(q);
    return 0;
}

/* What grows over a backing file that is longer than the old disk must
 * read as zeros, not as the backing file (qemu writes zeros there). */
static int zero_over_backing(gk_dev *d, struct qcow2 *q, uint64_t old, uint64_t size)
{
    if (!d->backing || d->backing->size <= old)
        return 0;
    uint64_t end = d->backing->size < size ? d->backing->size : size;
    uint8_t *z = gk_calloc(1, q->cluster_size);
    int r = 0;
    for (uint64_t off = old; off < end && r == 0;) {
        uint64_t k = q->cluster_size - (off & (q->cluster_size - 1));
        if (k > end - off)
            k = end - off;
        r = qcow2_op_pwrite(d, z, (size_t)k, off);
        off += k;
    }
    free(z);
    return r;
}

int qcow2_op_truncate(gk_dev *d, uint64_t size, enum gk_prealloc prealloc)
{
    struct qcow2 *q = d->priv;
    if (!q->rw)
        return gk_fail(EROFS, "%s: image is not open for writing", q->path);
    if (size & 511)
        return gk_fail(EINVAL, "The new size must be a multiple of 512");
    if (size < q->h.size) {
        if (prealloc != GK_PREALLOC_OFF)
            return gk_fail(ENOTSUP, "Preallocation can't be used for shrinking an image");
        int r = shrink(q, size);
        if (r == 0) {
            q->size = size;
            d->size = size;
        }
        return r;
    }
    uint64_t old_size = q->h.size;
    unsigned shift = q->cluster_bits + q->l2_bits;
    uint64_t need = (size >> shift) + !!(size & ((1ULL << shift) - 1));
    if (need * 8 > QC_MAX_L1_BYTES)
        return gk_fail(EFBIG, "Failed to grow the L1 table: %s", strerror(EFBIG)); /* qemu's words */
    int r;
    if (need > q->l1_size) {
        uint64_t bytes = need * 8;
        int64_t noff = qcow2_alloc_clusters(q, bytes);
        if (noff < 0)
            return (int)noff;
        uint8_t *t = gk_calloc(1, bytes);
        for (uint32_t i = 0; i < q->l1_size; i++)
            put_be(t + (uint64_t)i * 8, q->l1[i], 8);
        /* refcounts, then the table, then the header, each on disk */
        if ((r = qcow2_cache_flush(q->rb_cache)) < 0 ||
            (gk_pwrite(q->file, t, bytes, (uint64_t)noff) < 0 || gk_flush(q->file) < 0)) {
            free(t);
            return r < 0 ? r : -errno;
        }
        free(t);
        uint8_t h[12];
        put_be(h, need, 4);
        put_be(h + 4, (uint64_t)noff, 8);
        if (gk_pwrite(q->file, h, sizeof h, 36) < 0 || gk_flush(q->file) < 0)
            return -errno;
        uint64_t old = q->h.l1_table_offset, oldn = q->l1_size;
        q->l1 = gk_realloc(q->l1, bytes);
        memset(q->l1 + q->l1_size, 0, (need - q->l1_size) * 8);
        q->l1_size = (uint32_t)need;
        q->h.l1_size = (uint32_t)need;
        q->h.l1_table_offset = (uint64_t)noff;
        if (oldn) {
            qcow2_free_later(q, old, oldn * 8);
            if ((r = qcow2_flush_all(q)) < 0)
                return r;
        }
    }
    /* qemu's order: the L1 table, the preallocation, then the size */
    if (prealloc == GK_PREALLOC_METADATA && (r = qcow2_prealloc_metadata(d, old_size, size, prealloc)) < 0)
        return r;
    if ((prealloc == GK_PREALLOC_FALLOC || prealloc == GK_PREALLOC_FULL) &&
        (r = qcow2_prealloc_data(d, old_size, size, prealloc)) < 0)
        return r;
    /* qemu: a data file grows with the disk */
    if (prealloc == GK_PREALLOC_OFF && q->data != q->file && q->data->size < size &&
        gk_truncate(q->data, size, GK_PREALLOC_OFF) < 0)
        return -errno;
    if ((r = header_patch(q, 24, size, 8)) < 0)
        return r;
    q->h.size = size;
    q->size = size;
    d->size = size;
    /* clusters preallocated in the image file read as zeros already */
    if ((prealloc == GK_PREALLOC_FALLOC || prealloc == GK_PREALLOC_FULL) && q->data == q->file)
        return 0;
    return zero_over_backing(d, q, old_size, size);
}

/* ---- closing ---- */

void qcow2_close_rw(gk_dev *d)
{
    struct qcow2 *q = d->priv;
    if (!q->rw)
        return;
    /* the dirty bit this writer set goes once everything is written */
    if (qcow2_flush_all(q) < 0)
        gk_warn("%s: %s", q->path, gk_errmsg());
    else if (q->dirtied && (q->h.incompatible_features & QC_INCOMPAT_DIRTY) &&
             qcow2_clear_incompat(q, QC_INCOMPAT_DIRTY) < 0)
        gk_warn("%s: %s", q->path, gk_errmsg());
    free(q->cow);
    free(q->enc);
    free(q->frees);
    gk_compressor_free(q->wc);
    gk_zbuf_clear(&q->wz);
}
