/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemu-img amend for qcow2 (qemu 7.2's qcow2_amend_options): compat
 * (upgrade first, downgrade last), lazy_refcounts, refcount_bits (the
 * refcount structure rebuilt in the new width), size; backing_file and
 * backing_fmt only as they are (qemu refuses changes: rebase does them).
 *
 * Every header change is one rewrite of the header cluster after what it
 * points to is on disk; a downgrade first turns zero clusters into what
 * version 2 can say (unallocated, or written zeros over a backing file). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "luks.h"
#include "qcow2.h"

static const char *const amend_opts[] = {
    "backing_file", "backing_fmt", "compat", "data_file", "data_file_raw", "lazy_refcounts",
    "refcount_bits", "size", NULL,
};

/* encryption options of image creation only */
static const char *const create_crypt_opts[] = {
    "encrypt.format", "encrypt.key-secret", "encrypt.cipher-alg", "encrypt.cipher-mode",
    "encrypt.ivgen-alg", "encrypt.ivgen-hash-alg", "encrypt.hash-alg", NULL,
};

/* qemu-img amend -o help (qemu's qcow2 amend_opts, as it prints them) */
const char qcow2_amend_help[] =
    "  backing_file=<str>     - File name of a base image\n"
    "  backing_fmt=<str>      - Image format of the base image\n"
    "  compat=<str>           - Compatibility level (v2 [0.10] or v3 [1.1])\n"
    "  data_file=<str>        - File name of an external data file\n"
    "  data_file_raw=<bool (on/off)> - The external data file must stay valid as a raw image\n"
    "  encrypt.iter-time=<num> - Time to spend in PBKDF in milliseconds\n"
    "  encrypt.keyslot=<num>  - Select a single keyslot to modify explicitly\n"
    "  encrypt.new-secret=<str> - New secret to set in the matching keyslots. Empty string to erase\n"
    "  encrypt.old-secret=<str> - Select all keyslots that match this password\n"
    "  encrypt.state=<str>    - Select new state of affected keyslots (active/inactive)\n"
    "  lazy_refcounts=<bool (on/off)> - Postpone refcount updates\n"
    "  refcount_bits=<num>    - Width of a reference count entry in bits\n"
    "  size=<size>            - Virtual disk size\n";

static int in_list(const char *const *list, const char *name)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(name, list[i]) == 0)
            return 1;
    return 0;
}


static int parse_bool(const char *name, const char *v, int *out)
{
    if (strcmp(v, "on") == 0)
        *out = 1;
    else if (strcmp(v, "off") == 0)
        *out = 0;
    else
        return gk_fail(EINVAL, "Parameter '%s' expects 'on' or 'off'", name);
    return 0;
}

/* The extensions in the order qemu's qcow2_update_header writes them:
 * backing format, data file, crypto, bitmaps, feature table (version 3),
 * then those it does not know, as they were. */
static void order_exts(struct qcow2 *q)
{
    static const uint32_t known[] = {QC_EXT_BACKING_FORMAT, QC_EXT_DATA_FILE, QC_EXT_CRYPTO, QC_EXT_BITMAPS,
                                     QC_EXT_FEATURE_TABLE};
    struct qcow2_ext out[QC_MAX_EXTS];
    int n = 0;
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
        for (int i = 0; i < q->nexts; i++)
            if (q->exts[i].type == known[k])
                out[n++] = q->exts[i];
    for (int i = 0; i < q->nexts; i++) {
        int kn = 0;
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
            kn |= q->exts[i].type == known[k];
        if (!kn)
            out[n++] = q->exts[i];
    }
    memcpy(q->exts, out, (size_t)n * sizeof out[0]);
    q->nexts = n;
}

static void drop_ext(struct qcow2 *q, uint32_t type)
{
    int n = 0;
    for (int i = 0; i < q->nexts; i++) {
        if (q->exts[i].type == type) {
            free(q->exts[i].data);
            continue;
        }
        q->exts[n++] = q->exts[i];
    }
    q->nexts = n;
    if (type == QC_EXT_FEATURE_TABLE) {
        q->ftbl = NULL;
        q->ftbl_len = 0;
    }
}

/* data_file=NAME: the name of the external data file (qemu writes the new
 * name into the header extension; "" drops it); data_file_raw=off: the
 * data file need no longer stay a raw image. */
static int set_data_file(struct qcow2 *q, const char *name, int raw)
{
    int changed = 0;
    if (raw >= 0 && !!(q->h.autoclear_features & QC_AUTOCLEAR_DATA_FILE_RAW) != raw) {
        q->h.autoclear_features ^= QC_AUTOCLEAR_DATA_FILE_RAW;
        changed = 1;
    }
    if (name && !(q->data_file_name && strcmp(name, q->data_file_name) == 0 && *name)) {
        if (strlen(name) > 1023)
            return gk_fail(EINVAL, "%s: data file name is too long", q->path);
        drop_ext(q, QC_EXT_DATA_FILE);
        if (*name) {
            if (q->nexts >= QC_MAX_EXTS)
                return gk_fail(EINVAL, "%s: too many header extensions", q->path);
            q->exts[q->nexts].type = QC_EXT_DATA_FILE;
            q->exts[q->nexts].len = (uint32_t)strlen(name);
            q->exts[q->nexts].data = (uint8_t *)gk_strdup(name);
            q->nexts++;
        }
        free(q->data_file_name);
        q->data_file_name = *name ? gk_strdup(name) : NULL;
        order_exts(q);
        changed = 1;
    }
    return changed ? qcow2_write_header(q) : 0;
}

/* Progress as qemu's qcow2_amend_helper_cb reports it: each operation
 * (upgrade, refcount width, downgrade) reports done of its own total; the
 * totals of the operations still to come are projected from those seen. */
struct progress {
    gk_amend_progress cb;
    void *opaque;
    int total_ops, done_ops, op, last_op;
    int64_t offset_done, last_work;
};

static void progress(struct progress *p, int64_t done, int64_t work)
{
    if (!p->cb)
        return;
    if (p->op != p->last_op) {
        if (p->last_op) {
            p->offset_done += p->last_work;
            p->done_ops++;
        }
        p->last_op = p->op;
    }
    if (p->done_ops >= p->total_ops)
        return;
    p->last_work = work;
    int64_t cur = p->offset_done + work;
    int64_t projected = cur * (p->total_ops - p->done_ops - 1) / (p->done_ops + 1);
    p->cb((uint64_t)(p->offset_done + done), (uint64_t)(cur + projected), p->opaque);
}

enum { OP_NONE, OP_REFCOUNT, OP_DOWNGRADE, OP_UPGRADE };

static int upgrade(gk_dev *d, struct qcow2 *q, struct progress *pr)
{
    pr->op = OP_UPGRADE;
    progress(pr, 0, 2);
    int r = qcow2_snapshots_upgrade(d);
    if (r < 0)
        return r;
    progress(pr, 1, 2);
    q->h.version = 3;
    q->version = 3;
    q->h.header_length = 112;
    q->h.refcount_order = 4;
    drop_ext(q, QC_EXT_FEATURE_TABLE);
    qcow2_add_feature_table(q);
    order_exts(q);
    if ((r = qcow2_write_header(q)) < 0)
        return r;
    progress(pr, 2, 2);
    return 0;
}

/* Zero clusters (version 3 only) of one L1 table's L2 tables become
 * unallocated clusters when nothing is below, else clusters of written
 * zeros (qemu's expand_zero_clusters_in_l1): a preallocated one is zeroed in
 * place, a plain one gets a new cluster counted once per L1 table sharing
 * its L2 table.  Shared L2 tables are changed in place, through the cache,
 * so that the next L1 table finds them done: what each L1 table reads is
 * unchanged.  Order: the new cluster's refcounts (the L2 cache depends on
 * the refcount cache) and its zeros before the table that points to it.
 *
 * Where qemu 7.2 goes wrong, we do not follow: a preallocated zero cluster
 * that other tables use as data (a guest zeroed a cluster it shared with a
 * snapshot) would have the snapshot's data overwritten, and get a COPIED
 * flag with a refcount above 1.  It is treated as a plain zero cluster
 * instead, and the references this entry held are dropped once the table is
 * written. */
struct visit {
    struct progress *pr;
    int64_t done, total; /* L1 entries, of every table */
};

static int expand_l1(gk_dev *d, struct qcow2 *q, const uint64_t *l1, uint32_t l1_size, const uint8_t *zeros,
                     struct visit *v)
{
    uint64_t cs = q->cluster_size;
    int r = 0;
    /* each entry visited is a step of the progress (qemu's) */
    for (uint32_t i = 0; i < l1_size && r == 0; i++, progress(v->pr, ++v->done, v->total)) {
        uint64_t l2off = l1[i] & QC_OFFSET_MASK, l2rc;
        if (!l2off)
            continue;
        if (l2off & (cs - 1) || l2off < cs || !gk_range_ok(l2off, cs, q->file_size))
            return qcow2_signal_corruption(q, "L2 table offset is misaligned or out of range");
        if ((r = qcow2_get_refcount(q, l2off >> q->cluster_bits, &l2rc)) < 0)
            break;
        if (l2rc == 0)
            return qcow2_signal_corruption(q, "an L2 table has refcount 0");
        void *tv;
        if ((r = qcow2_cache_get(q->l2_cache, l2off, &tv)) < 0)
            break;
        for (uint64_t j = 0; j < q->l2_entries && r == 0; j++) {
            uint8_t *ent = (uint8_t *)tv + j * q->l2_entry_size;
            uint64_t e = gk_be64(ent), off = e & QC_OFFSET_MASK;
            if ((e & QC_OFLAG_COMPRESSED) || !(e & QC_OFLAG_ZERO))
                continue;
            uint64_t drc = 0;
            if (off && (r = qcow2_get_refcount(q, off >> q->cluster_bits, &drc)) < 0)
                break;
            if (off && drc != l2rc) {
                if (drc < l2rc) {
                    qcow2_cache_put(q->l2_cache, tv);
                    return qcow2_signal_corruption(q, "a zero cluster's refcount is below its references");
                }
                for (uint64_t k = 0; k < l2rc; k++)
                    qcow2_free_later(q, off, cs);
                off = 0;
            }
            if (!off) {
                if (!d->backing) {
                    /* reads as zeros unallocated too: the entry goes */
                    memset(ent, 0, 8);
                    qcow2_cache_mark_dirty(q->l2_cache, tv);
                    continue;
                }
                int64_t a = qcow2_alloc_clusters(q, cs);
                if (a < 0) {
                    r = (int)a;
                    break;
                }
                off = (uint64_t)a;
                if (l2rc > 1 && (r = qcow2_update_refcount(q, off, cs, (int64_t)(l2rc - 1))) < 0) {
                    qcow2_update_refcount(q, off, cs, -1);
                    break;
                }
            }
            if (off & (cs - 1) || off < cs) {
                qcow2_cache_put(q->l2_cache, tv);
                return qcow2_signal_corruption(q, "zero cluster offset is misaligned or overlaps the header");
            }
            /* encrypted on an encrypted image, so that the cluster reads
             * as zeros (qemu 7.2 writes them in the clear, and they then
             * read as garbage: not followed) */
            if ((r = qcow2_pwrite_data(q, zeros, cs, off)) < 0)
                break;
            e = off | (l2rc == 1 ? QC_OFLAG_COPIED : 0);
            gk_put_be64(ent, e);
            qcow2_cache_mark_dirty(q->l2_cache, tv);
        }
        qcow2_cache_put(q->l2_cache, tv);
        if (r == 0 && q->nfrees > MAX_PENDING_FREES)
            r = qcow2_flush_all(q);
    }
    return r;
}

/* qemu's qcow2_expand_zero_clusters: the active L1 table, then every
 * snapshot's. */
static int expand_zeros(gk_dev *d, struct qcow2 *q, struct progress *pr)
{
    struct visit v = {.pr = pr, .total = q->l1_size};
    for (uint32_t s = 0; s < q->nb_snapshots; s++)
        v.total += q->snaps[s].l1_size;
    uint8_t *z = gk_calloc(1, q->cluster_size);
    int r = expand_l1(d, q, q->l1, q->l1_size, z, &v);
    uint64_t *l1 = NULL;
    for (uint32_t s = 0; s < q->nb_snapshots && r == 0; s++) {
        gk_snapshot_info *sn = &q->snaps[s];
        uint64_t bytes = (uint64_t)sn->l1_size * 8;
        if (bytes > QC_MAX_L1_BYTES || sn->l1_offset & (q->cluster_size - 1) ||
            !gk_range_ok(sn->l1_offset, bytes, q->file_size)) {
            r = gk_fail(EFBIG, "%s: snapshot %s: L1 table is misplaced or too large", q->path, sn->id);
            break;
        }
        l1 = gk_realloc(l1, bytes ? bytes : 8);
        if ((r = qcow2_read(q, q->file, l1, bytes, sn->l1_offset)) < 0)
            break;
        for (uint32_t i = 0; i < sn->l1_size; i++)
            l1[i] = gk_be64(&l1[i]);
        r = expand_l1(d, q, l1, sn->l1_size, z, &v);
    }
    free(l1);
    free(z);
    if (r == 0)
        r = qcow2_op_flush(d);
    return r;
}

static int downgrade(gk_dev *d, struct qcow2 *q, struct progress *pr)
{
    if (q->h.refcount_order != 4)
        return gk_fail(ENOTSUP, "compat=0.10 requires refcount_bits=16");
    if (q->h.incompatible_features & QC_INCOMPAT_DATA_FILE)
        return gk_fail(ENOTSUP, "Cannot downgrade an image with a data file");
    /* a v2 reader would not know that a snapshot's own size or large VM
     * state matter (qemu's reason) */
    for (uint32_t i = 0; i < q->nb_snapshots; i++)
        if (q->snaps[i].vm_state_size > UINT32_MAX || q->snaps[i].disk_size != (q->h.size & ~511ULL))
            return gk_fail(ENOTSUP, "Internal snapshots prevent downgrade of image");
    uint64_t incompat = q->h.incompatible_features & ~(uint64_t)QC_INCOMPAT_DIRTY;
    if (incompat & ~(uint64_t)QC_INCOMPAT_COMPRESSION)
        return gk_fail(ENOTSUP, "Cannot downgrade an image with incompatible features %#llx set",
                       (unsigned long long)incompat);
    pr->op = OP_DOWNGRADE;
    int r = expand_zeros(d, q, pr);
    if (r < 0)
        return r;
    if (q->h.incompatible_features & QC_INCOMPAT_COMPRESSION) {
        /* zstd: only without compressed clusters */
        for (uint64_t off = 0; off < d->size;) {
            struct qcow2_run run;
            if ((r = qcow2_map(q, off, d->size - off, &run)) < 0)
                return r;
            if (run.type == QC_COMP)
                return gk_fail(ENOTSUP, "Cannot downgrade an image with zstd compression type and existing "
                                        "compressed clusters");
            off += run.len;
        }
        q->compression_type = 0;
        q->h.compression_type = 0;
    }
    q->h.incompatible_features = 0;
    q->h.compatible_features = 0;
    q->h.autoclear_features = 0;
    q->h.version = 2;
    q->version = 2;
    q->h.header_length = 72;
    drop_ext(q, QC_EXT_FEATURE_TABLE);
    order_exts(q);
    return qcow2_write_header(q);
}

/* refcount_bits: the structure rebuilt in the new width (one pass); the
 * progress told in the shape of qemu's qcow2_change_refcount_order, which
 * walks the refcount table three times (allocating, checking, writing):
 * the first two walks' steps before the rebuild, the third's after it. */
static int refcount_width(struct qcow2 *q, uint64_t bits, struct progress *pr)
{
    int r = qcow2_refcount_load(q);
    if (r < 0)
        return r;
    int64_t n = (int64_t)q->reft_entries, total = 3 * n;
    for (int64_t i = 0; i <= 2 * n && pr->cb; i++)
        progress(pr, i, total);
    if ((r = qcow2_change_refcount_width(q, bits)) < 0)
        return r;
    for (int64_t i = 2 * n; i <= total && pr->cb; i++)
        progress(pr, i, total);
    return 0;
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* qemu's keyslot change of the LUKS header inside the image (through a
 * slice of the file: what the encryption header extension names). */
static int amend_crypt(struct qcow2 *q, int n, const char **names, const char **values, unsigned flags)
{
    gk_dev *hdr;
    int r = qcow2_crypto_header(q, &hdr);
    if (r < 0)
        return r;
    r = gk_luks_amend_opts(hdr, n, names, values, "encrypt.", flags & GK_AMEND_FORCE, q->pass, q->passlen);
    gk_dev_unref(hdr);
    return r;
}

int qcow2_amend(gk_dev *d, int n, const char **names, const char **values, unsigned flags, gk_amend_progress cb,
                void *opaque)
{
    struct qcow2 *q = d->priv;
    if (!q->rw)
        return gk_fail(EROFS, "%s: image is not open for writing", q->path);
    /* the names first, as qemu-img parses them */
    for (int i = 0; i < n; i++) {
        int crypt = gk_luks_amend_name(names[i], values[i], "encrypt.");
        if (crypt < 0)
            return crypt;
        if (crypt || in_list(amend_opts, names[i]))
            continue;
        int create_only = in_list(create_crypt_opts, names[i]);
        for (const gk_create_opt *o = qcow2_create_opts; o->name; o++)
            create_only |= strcmp(o->name, names[i]) == 0;
        if (create_only)
            return gk_fail(EINVAL, "Invalid parameter '%s'\nThis option is only supported for image creation",
                           names[i]);
        return gk_fail(EINVAL, "Invalid parameter '%s'", names[i]);
    }
    int version = q->version, lazy = !!(q->h.compatible_features & QC_COMPAT_LAZY_REFCOUNTS), r;
    uint64_t refbits = 1ULL << q->h.refcount_order, size = 0;
    const char *backing = NULL, *backing_fmt = NULL, *data_file = NULL;
    int has_backing = 0, data_file_raw = -1, crypt_update = 0;
    for (int i = 0; i < n; i++) {
        const char *k = names[i], *v = values[i];
        if (strcmp(k, "compat") == 0) {
            if (strcmp(v, "0.10") == 0 || strcmp(v, "v2") == 0)
                version = 2;
            else if (strcmp(v, "1.1") == 0 || strcmp(v, "v3") == 0)
                version = 3;
            else
                return gk_fail(EINVAL, "Unknown compatibility level %s", v);
        } else if (strcmp(k, "lazy_refcounts") == 0) {
            if ((r = parse_bool(k, v, &lazy)) < 0)
                return r;
        } else if (strcmp(k, "refcount_bits") == 0) {
            char *end;
            errno = 0;
            unsigned long long b = strtoull(v, &end, 10);
            if (errno || *end || end == v)
                return gk_fail(EINVAL, "Parameter 'refcount_bits' expects a number");
            if (b == 0 || b > 64 || (b & (b - 1)))
                return gk_fail(EINVAL, "Refcount width must be a power of two and may not exceed 64 bits");
            refbits = b;
        } else if (strcmp(k, "size") == 0) {
            char *end;
            errno = 0;
            double x = strtod(v, &end);
            uint64_t mul = 1;
            switch (*end) {
            case 'k': case 'K': mul = 1ULL << 10; end++; break;
            case 'M': mul = 1ULL << 20; end++; break;
            case 'G': mul = 1ULL << 30; end++; break;
            case 'T': mul = 1ULL << 40; end++; break;
            case 'b': case 'B': end++; break;
            }
            if (errno || end == v || *end || x < 0 || x * (double)mul >= 18446744073709551616.0)
                return gk_fail(EINVAL, "Parameter 'size' expects a non-negative number below 2^64");
            size = (uint64_t)(x * (double)mul);
        } else if (strcmp(k, "backing_file") == 0) {
            backing = v;
            has_backing = 1;
        } else if (strcmp(k, "backing_fmt") == 0) {
            backing_fmt = v;
            has_backing = 1;
        } else if (strcmp(k, "data_file") == 0) {
            if (!(q->h.incompatible_features & QC_INCOMPAT_DATA_FILE))
                return gk_fail(EINVAL, "data-file can only be set for images that use an external data file");
            data_file = v;
        } else if (strcmp(k, "data_file_raw") == 0) {
            if ((r = parse_bool(k, v, &data_file_raw)) < 0)
                return r;
            if (data_file_raw && !(q->h.autoclear_features & QC_AUTOCLEAR_DATA_FILE_RAW))
                return gk_fail(EINVAL, "data-file-raw cannot be set on existing images");
        } else if (strncmp(k, "encrypt.", 8) == 0) {
            if (!q->h.crypt_method)
                return gk_fail(EINVAL, "Can't amend encryption options - encryption not present");
            if (q->h.crypt_method != 2)
                return gk_fail(ENOTSUP, "Only LUKS encryption options can be amended");
            crypt_update = 1;
        }
    }

    struct progress pr = {.cb = cb, .opaque = opaque};
    pr.total_ops = (version != q->version) + (refbits != (1ULL << q->h.refcount_order)) + crypt_update;
    /* upgrade first: what follows may need version 3 */
    if (version > q->version && (r = upgrade(d, q, &pr)) < 0)
        return r;
    /* then the keyslots (qemu's order; they report no progress) */
    if (crypt_update && (r = amend_crypt(q, n, names, values, flags)) < 0)
        return r;
    if (has_backing && (!same_str(backing, q->backing_name) || !same_str(backing_fmt, q->backing_format)))
        return gk_fail(EINVAL, "Cannot amend the backing file\nYou can use 'qemu-img rebase' instead.");
    if (lazy != !!(q->h.compatible_features & QC_COMPAT_LAZY_REFCOUNTS)) {
        if (lazy && version < 3)
            return gk_fail(EINVAL, "Lazy refcounts only supported with compatibility level 1.1 and above (use "
                                   "compat=1.1 or greater)");
        if (lazy)
            q->h.compatible_features |= QC_COMPAT_LAZY_REFCOUNTS;
        else
            q->h.compatible_features &= ~(uint64_t)QC_COMPAT_LAZY_REFCOUNTS;
        if ((r = qcow2_op_flush(d)) < 0 || (r = qcow2_write_header(q)) < 0)
            return r;
    }
    if (refbits != (1ULL << q->h.refcount_order)) {
        if (version < 3 && refbits != 16)
            return gk_fail(EINVAL, "Refcount widths other than 16 bits require compatibility level 1.1 or above "
                                   "(use compat=1.1 or greater)");
        pr.op = OP_REFCOUNT;
        if ((r = qcow2_op_flush(d)) < 0 || (r = refcount_width(q, refbits, &pr)) < 0)
            return r;
    }
    if ((data_file || data_file_raw >= 0) && (r = set_data_file(q, data_file, data_file_raw)) < 0)
        return r;
    if (size && size != d->size && (r = qcow2_op_truncate(d, size, GK_PREALLOC_OFF)) < 0)
        return r;
    /* downgrade last */
    if (version < q->version && (r = downgrade(d, q, &pr)) < 0)
        return r;
    return qcow2_op_flush(d);
}
