/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 internal snapshots: the snapshot table, read through a window of a
 * few hundred KiB (never the whole, up to 64 MiB, table at once), and
 * finding a snapshot the way qemu does; creating, applying and deleting
 * them (each a new metadata generation, qcow2-switch.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qcow2.h"

struct win {
    uint8_t *buf;
    uint64_t off, len, cap;
};

static void put_be(uint8_t *p, uint64_t v, unsigned size)
{
    for (unsigned i = size; i-- > 0; v >>= 8)
        p[i] = (uint8_t)v;
}

static const uint8_t *win_get(struct qcow2 *q, struct win *w, uint64_t pos, uint64_t n, uint64_t avail, int *err)
{
    if (!gk_range_ok(pos, n, avail)) {
        *err = gk_fail(EINVAL, "%s: snapshot table is past the end of the file", q->path);
        return NULL;
    }
    if (w->buf && pos >= w->off && pos + n <= w->off + w->len)
        return w->buf + (pos - w->off);
    uint64_t want = n > (256 << 10) ? n : 256 << 10;
    if (want > avail - pos)
        want = avail - pos;
    if (want > w->cap) {
        free(w->buf);
        w->buf = gk_malloc(want);
        w->cap = want;
    }
    w->off = pos;
    w->len = 0;
    *err = qcow2_read(q, q->file, w->buf, want, q->h.snapshots_offset + pos);
    if (*err < 0)
        return NULL;
    w->len = want;
    return w->buf;
}

/* The fixed 40 bytes of a table entry into s; the lengths of what
 * follows (extra data, id, name) into the rest. */
static void entry_fixed(const uint8_t *e, gk_snapshot_info *s, uint32_t *extra, uint16_t *idlen,
                        uint16_t *namelen)
{
    s->l1_offset = gk_be64(e);
    s->l1_size = gk_be32(e + 8);
    *idlen = gk_be16(e + 12);
    *namelen = gk_be16(e + 14);
    s->date_sec = gk_be32(e + 16);
    s->date_nsec = gk_be32(e + 20);
    s->vm_clock_nsec = gk_be64(e + 24);
    s->vm_state_size = gk_be32(e + 32);
    *extra = gk_be32(e + 36);
}

/* The extra data, id and name that follow the fixed part; disk_size is
 * what an entry without the field means. */
static void entry_rest(const uint8_t *e, gk_snapshot_info *s, uint32_t extra, uint16_t idlen, uint16_t namelen,
                       uint64_t disk_size)
{
    s->disk_size = disk_size;
    s->icount = -1;
    if (extra >= 8)
        s->vm_state_size = gk_be64(e);
    if (extra >= 16)
        s->disk_size = gk_be64(e + 8);
    if (extra >= 24)
        s->icount = (int64_t)gk_be64(e + 16);
    s->id = gk_strndup((const char *)e + extra, idlen);
    s->name = gk_strndup((const char *)e + extra + idlen, namelen);
}

int qcow2_read_snapshots(struct qcow2 *q)
{
    uint32_t nb = q->h.nb_snapshots;
    if (!nb)
        return 0;
    if (nb > QC_MAX_SNAPSHOTS)
        return gk_fail(EFBIG, "%s: too many snapshots (%u)", q->path, nb);
    uint64_t soff = q->h.snapshots_offset;
    if (soff & (q->cluster_size - 1) || soff > (1ULL << 62) ||
        (q->strict && (soff < q->cluster_size || soff >= q->file_size)))
        return gk_fail(EINVAL, "%s: invalid snapshot table offset 0x%llx", q->path, (unsigned long long)soff);
    /* bounded by the limit and the file */
    uint64_t avail = q->strict ? q->file_size - soff : QC_MAX_SNAPSHOTS_BYTES;
    if (avail > QC_MAX_SNAPSHOTS_BYTES)
        avail = QC_MAX_SNAPSHOTS_BYTES;
    if ((uint64_t)nb * 40 > avail)
        return gk_fail(EINVAL, "%s: snapshot table is past the end of the file", q->path);
    struct win w = { 0 };
    q->snaps = gk_calloc(nb, sizeof *q->snaps);
    q->nb_snapshots = nb;
    uint64_t p = 0;
    const uint8_t *e;
    int err = 0;
    for (uint32_t i = 0; i < nb; i++) {
        gk_snapshot_info *s = &q->snaps[i];
        if (!(e = win_get(q, &w, p, 40, avail, &err)))
            goto fail;
        uint32_t extra;
        uint16_t idlen, namelen;
        entry_fixed(e, s, &extra, &idlen, &namelen);
        if (extra > QC_MAX_EXTRA_DATA) {
            err = gk_fail(EINVAL, "%s: snapshot %u: too much extra data", q->path, i);
            goto fail;
        }
        p += 40;
        if (!(e = win_get(q, &w, p, (uint64_t)extra + idlen + namelen, avail, &err)))
            goto fail;
        entry_rest(e, s, extra, idlen, namelen, q->h.size);
        p += (uint64_t)extra + idlen + namelen;
        p = (p + 7) & ~7ULL;
    }
    q->snapshots_size = p;
    free(w.buf);
    return 0;
fail:
    free(w.buf);
    return err;
}

int qcow2_find_snapshot(const struct qcow2 *q, const char *id, const char *name)
{
    for (uint32_t i = 0; i < q->nb_snapshots; i++) {
        const gk_snapshot_info *s = &q->snaps[i];
        if (id && (!s->id || strcmp(s->id, id) != 0))
            continue;
        if (name && (!s->name || strcmp(s->name, name) != 0))
            continue;
        if (id || name)
            return (int)i;
    }
    return -1;
}

int qcow2_find_snapshot_by_id_or_name(const struct qcow2 *q, const char *s)
{
    int i = qcow2_find_snapshot(q, s, NULL);
    return i >= 0 ? i : qcow2_find_snapshot(q, NULL, s);
}

void qcow2_snapshots_free(struct qcow2 *q)
{
    for (uint32_t i = 0; q->snaps && i < q->nb_snapshots; i++) {
        free(q->snaps[i].id);
        free(q->snaps[i].name);
    }
    free(q->snaps);
    q->snaps = NULL;
    q->nb_snapshots = 0;
}

/* The check's own reading of the table, as qemu-img check reads it (its
 * open skips the table in check mode): what lies past the end of the file
 * reads as zeros, the limits are qemu's (65536 entries, 1 KiB of extra data
 * each, 64 MiB in all), and a version 3 entry without the 16 bytes of extra
 * data (VM state size, disk size) the format requires is a corruption. */
static int check_fail(struct qcow2 *q, gk_check_result *r, int err, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int check_fail(struct qcow2 *q, gk_check_result *r, int err, const char *hint, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&r->error, fmt, ap) < 0)
        r->error = NULL;
    va_end(ap);
    if (hint)
        qcow2_check_msg(r, "%s", hint);
    r->check_errors++;
    qcow2_snapshots_free(q);
    return gk_fail(err, "%s", strerror(err));
}

/* qemu's BDRV_MAX_LENGTH: a request reaching past it fails (EIO) */
#define CHECK_MAX_OFFSET ((1ULL << 63) - (1ULL << 30))

int qcow2_check_read_snapshots(struct qcow2 *q, gk_check_result *r)
{
    qcow2_snapshots_free(q);
    q->snapshots_size = 0;
    uint32_t nb = q->h.nb_snapshots;
    uint64_t soff = q->h.snapshots_offset;
    char hint[128];
    if (nb > QC_MAX_SNAPSHOTS) {
        snprintf(hint, sizeof hint, "You can force-remove all %u overhanging snapshots with gimg check -r all",
                 nb - QC_MAX_SNAPSHOTS);
        return check_fail(q, r, EFBIG, hint, "ERROR snapshot table too large");
    }
    if ((uint64_t)INT64_MAX - (uint64_t)nb * 40 < soff || (soff & (q->cluster_size - 1)))
        return check_fail(q, r, EINVAL, NULL, "ERROR snapshot table offset invalid");
    if (!nb)
        return 0;
    struct win w = { 0 };
    uint64_t avail = UINT64_MAX - soff; /* reads past the file are zeros */
    q->snaps = gk_calloc(nb, sizeof *q->snaps);
    q->nb_snapshots = nb;
    uint64_t p = 0, table = 0;
    const uint8_t *e;
    int err = 0;
    for (uint32_t i = 0; i < nb; i++) {
        gk_snapshot_info *s = &q->snaps[i];
        p = (p + 7) & ~7ULL;
        table = (table + 7) & ~7ULL;
        if (soff + p + 40 > CHECK_MAX_OFFSET)
            goto eio;
        if (!(e = win_get(q, &w, p, 40, avail, &err)))
            goto fail;
        uint32_t extra;
        uint16_t idlen, namelen;
        entry_fixed(e, s, &extra, &idlen, &namelen);
        p += 40;
        table += 40;
        if (extra > QC_MAX_EXTRA_DATA) {
            free(w.buf);
            return check_fail(q, r, EFBIG, "You can force-remove this extra metadata with gimg check -r all",
                              "ERROR failed to read the snapshot table: Too much extra metadata in snapshot "
                              "table entry %u", i);
        }
        if (soff + p + extra + idlen + namelen > CHECK_MAX_OFFSET)
            goto eio;
        if (!(e = win_get(q, &w, p, (uint64_t)extra + idlen + namelen, avail, &err)))
            goto fail;
        entry_rest(e, s, extra, idlen, namelen, q->h.size & ~511ULL);
        p += (uint64_t)extra + idlen + namelen;
        table += (uint64_t)extra + idlen + namelen;
        if (table > QC_MAX_SNAPSHOTS_BYTES) {
            free(w.buf);
            snprintf(hint, sizeof hint, "You can force-remove all %u overhanging snapshots with gimg check -r all",
                     nb - i);
            return check_fail(q, r, EFBIG, hint, "ERROR failed to read the snapshot table: Snapshot table is too big");
        }
        if (q->version >= 3 && extra < 16) {
            qcow2_check_msg(r, "ERROR snapshot table entry %u is incomplete", i);
            r->corruptions++;
        }
    }
    free(w.buf);
    q->snapshots_size = p; /* qemu's: to the end of the last name */
    return 0;
eio:
    err = -EIO;
fail:
    free(w.buf);
    return check_fail(q, r, -err, NULL, "ERROR failed to read the snapshot table: Failed to read snapshot table: %s",
                      strerror(-err));
}

/* ---- creating, applying and deleting (metadata generations of
 * qcow2-switch.c: each is one header write) ---- */

/* The table as it is on disk, with the offset of each entry (and of the
 * end in starts[nb]). */
static int read_table_raw(struct qcow2 *q, uint8_t **buf, uint64_t **starts)
{
    uint64_t size = q->snapshots_size;
    *buf = gk_malloc(size ? size : 1);
    *starts = gk_calloc((size_t)q->nb_snapshots + 1, sizeof **starts);
    int r = size ? qcow2_read(q, q->file, *buf, size, q->h.snapshots_offset) : 0;
    uint64_t p = 0;
    for (uint32_t i = 0; i < q->nb_snapshots && r == 0; i++) {
        if (p + 40 > size) {
            r = gk_fail(EIO, "%s: snapshot table changed while open", q->path);
            break;
        }
        (*starts)[i] = p;
        const uint8_t *e = *buf + p;
        p += 40 + (uint64_t)gk_be32(e + 36) + gk_be16(e + 12) + gk_be16(e + 14);
        p = (p + 7) & ~7ULL;
    }
    if (r == 0 && p != size)
        r = gk_fail(EIO, "%s: snapshot table changed while open", q->path);
    (*starts)[q->nb_snapshots] = size;
    if (r < 0) {
        free(*buf);
        free(*starts);
        *buf = NULL;
        *starts = NULL;
    }
    return r;
}

/* Write the new table (len bytes) into free clusters: its offset, or 0
 * for an empty table. */
static int write_table(struct qcow2 *q, struct qcow2_gen *g, const uint8_t *t, uint64_t len, uint64_t *off)
{
    *off = 0;
    if (len == 0)
        return 0;
    if (len > QC_MAX_SNAPSHOTS_BYTES)
        return gk_fail(EFBIG, "%s: snapshot table would be too large", q->path);
    int64_t a = qcow2_gen_alloc(g, len);
    if (a < 0)
        return (int)a;
    if (gk_pwrite(q->file, t, len, (uint64_t)a) < 0)
        return -errno;
    *off = (uint64_t)a;
    return 0;
}

/* Before a generation: everything the write core holds is on disk. */
static int settle(gk_dev *d, struct qcow2 *q)
{
    if (!q->rw)
        return gk_fail(EROFS, "%s: image is not open for writing", q->path);
    return qcow2_op_flush(d);
}

int qcow2_snapshot_create(gk_dev *d, const char *name)
{
    struct qcow2 *q = d->priv;
    size_t namelen = strlen(name);
    if (namelen > 65535)
        return gk_fail(EINVAL, "%s: snapshot name is too long", q->path);
    if (q->nb_snapshots >= QC_MAX_SNAPSHOTS)
        return gk_fail(EFBIG, "%s: too many snapshots", q->path);
    int r = settle(d, q);
    if (r < 0)
        return r;
    /* qemu's find_new_snapshot_id: one more than the largest numeric ID */
    unsigned long idmax = 0;
    for (uint32_t i = 0; i < q->nb_snapshots; i++) {
        unsigned long v = strtoul(q->snaps[i].id ? q->snaps[i].id : "", NULL, 10);
        if (v > idmax)
            idmax = v;
    }
    char id[32];
    snprintf(id, sizeof id, "%lu", idmax + 1);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);

    uint8_t *t0 = NULL;
    uint64_t *starts = NULL;
    struct qcow2_gen *g = NULL;
    uint8_t *t1 = NULL;
    if ((r = read_table_raw(q, &t0, &starts)) < 0 || (r = qcow2_gen_begin(q, &g)) < 0)
        goto out;
    if (q->snapshots_size && (r = qcow2_gen_ref(g, q->h.snapshots_offset, q->snapshots_size, -1)) < 0)
        goto out;
    /* the snapshot keeps the current L1 and L2 tables as they are; the
     * active image gets copies */
    uint64_t a1;
    if ((r = qcow2_gen_new_active(g, q->h.l1_table_offset, q->h.l1_size, q->h.l1_size, &a1)) < 0)
        goto out;
    /* the entry, as qemu-img writes it: 24 bytes of extra data (large VM
     * state size, disk size, icount), date to the microsecond */
    uint64_t elen = (40 + 24 + strlen(id) + namelen + 7) & ~7ULL;
    uint64_t len = q->snapshots_size + elen;
    t1 = gk_calloc(1, len);
    memcpy(t1, t0, q->snapshots_size);
    uint8_t *e = t1 + q->snapshots_size;
    put_be(e, q->h.l1_table_offset, 8);
    put_be(e + 8, q->h.l1_size, 4);
    put_be(e + 12, strlen(id), 2);
    put_be(e + 14, namelen, 2);
    put_be(e + 16, (uint64_t)ts.tv_sec, 4);
    put_be(e + 20, (uint64_t)(ts.tv_nsec / 1000 * 1000), 4);
    put_be(e + 36, 24, 4);
    put_be(e + 48, q->h.size, 8);
    memcpy(e + 64, id, strlen(id));
    memcpy(e + 64 + strlen(id), name, namelen);
    uint64_t toff;
    if ((r = write_table(q, g, t1, len, &toff)) < 0)
        goto out;
    struct qcow2_gen_header nh = {
        .size = q->h.size, .l1_size = q->h.l1_size, .l1_offset = a1,
        .nb_snapshots = q->nb_snapshots + 1, .snapshots_offset = toff,
    };
    r = qcow2_gen_commit(g, d, &nh);
out:
    qcow2_gen_free(g);
    free(t0);
    free(t1);
    free(starts);
    return r;
}

int qcow2_snapshot_delete(gk_dev *d, const char *id, const char *name)
{
    struct qcow2 *q = d->priv;
    int i = qcow2_find_snapshot(q, id, name);
    if (i < 0)
        return gk_fail(ENOENT, "%s: snapshot not found", q->path);
    int r = settle(d, q);
    if (r < 0)
        return r;
    const gk_snapshot_info *s = &q->snaps[i];
    uint8_t *t0 = NULL, *t1 = NULL;
    uint64_t *starts = NULL;
    struct qcow2_gen *g = NULL;
    if ((r = read_table_raw(q, &t0, &starts)) < 0 || (r = qcow2_gen_begin(q, &g)) < 0)
        goto out;
    /* the snapshot's references go, and so do the active tables: they are
     * replaced by copies whose COPIED flags follow the lower refcounts */
    if ((r = qcow2_gen_ref_l1(g, s->l1_offset, s->l1_size, -1, 1)) < 0 ||
        (r = qcow2_gen_ref_l1(g, q->h.l1_table_offset, q->h.l1_size, -1, 1)) < 0 ||
        (r = qcow2_gen_ref(g, q->h.snapshots_offset, q->snapshots_size, -1)) < 0)
        goto out;
    uint64_t a1;
    if ((r = qcow2_gen_new_active(g, q->h.l1_table_offset, q->h.l1_size, q->h.l1_size, &a1)) < 0)
        goto out;
    uint64_t before = starts[i], elen = starts[i + 1] - starts[i];
    uint64_t len = q->snapshots_size - elen;
    t1 = gk_malloc(len ? len : 1);
    memcpy(t1, t0, before);
    memcpy(t1 + before, t0 + before + elen, q->snapshots_size - before - elen);
    uint64_t toff;
    if ((r = write_table(q, g, t1, len, &toff)) < 0)
        goto out;
    struct qcow2_gen_header nh = {
        .size = q->h.size, .l1_size = q->h.l1_size, .l1_offset = a1,
        .nb_snapshots = q->nb_snapshots - 1, .snapshots_offset = toff,
    };
    r = qcow2_gen_commit(g, d, &nh);
out:
    qcow2_gen_free(g);
    free(t0);
    free(t1);
    free(starts);
    return r;
}

int qcow2_snapshot_goto(gk_dev *d, const char *id_or_name)
{
    struct qcow2 *q = d->priv;
    int i = qcow2_find_snapshot_by_id_or_name(q, id_or_name);
    if (i < 0)
        return gk_fail(ENOENT, "%s: snapshot not found", q->path);
    int r = settle(d, q);
    if (r < 0)
        return r;
    const gk_snapshot_info *s = &q->snaps[i];
    uint64_t size = s->disk_size;
    unsigned shift = q->cluster_bits + q->l2_bits;
    uint64_t need = (size >> shift) + !!(size & ((1ULL << shift) - 1));
    uint64_t l1n = q->h.l1_size;
    if (s->l1_size > l1n)
        l1n = s->l1_size;
    if (need > l1n)
        l1n = need;
    if (l1n * 8 > QC_MAX_L1_BYTES)
        return gk_fail(EFBIG, "%s: snapshot disk size is too large", q->path);
    struct qcow2_gen *g = NULL;
    if ((r = qcow2_gen_begin(q, &g)) < 0)
        goto out;
    /* the active tables and what they point to lose the active image's
     * reference; copies of the snapshot's tables take it */
    uint64_t a1;
    if ((r = qcow2_gen_ref_l1(g, q->h.l1_table_offset, q->h.l1_size, -1, 1)) < 0 ||
        (r = qcow2_gen_new_active(g, s->l1_offset, s->l1_size, (uint32_t)l1n, &a1)) < 0)
        goto out;
    struct qcow2_gen_header nh = {
        .size = size, .l1_size = (uint32_t)l1n, .l1_offset = a1,
        .nb_snapshots = q->nb_snapshots, .snapshots_offset = q->h.snapshots_offset,
    };
    r = qcow2_gen_commit(g, d, &nh);
out:
    qcow2_gen_free(g);
    return r;
}

/* compat=1.1 (qemu's qcow2_upgrade): a version 3 entry has at least 16
 * bytes of extra data (the large VM state size and the disk size).  When an
 * entry is shorter, the whole table is written again as qemu's
 * qcow2_write_snapshots writes it: each entry with 24 bytes of extra data
 * or more (VM state size, disk size: the image's, icount: -1 when absent;
 * extra data past those kept), into new clusters; the header then points to
 * it in one write, and the old table is freed (and discarded). */
int qcow2_snapshots_upgrade(gk_dev *d)
{
    struct qcow2 *q = d->priv;
    if (!q->nb_snapshots)
        return 0;
    uint8_t *t0 = NULL, *t1 = NULL;
    uint64_t *starts = NULL, len = 0;
    int r = read_table_raw(q, &t0, &starts), need = 0;
    for (uint32_t i = 0; i < q->nb_snapshots && r == 0; i++) {
        const uint8_t *e = t0 + starts[i];
        uint32_t extra = gk_be32(e + 36);
        need |= extra < 16;
        len = (len + 7) & ~7ULL;
        len += 40 + (extra > 24 ? extra : 24) + gk_be16(e + 12) + gk_be16(e + 14);
    }
    if (r < 0 || !need)
        goto out;
    if (len > QC_MAX_SNAPSHOTS_BYTES) {
        r = gk_fail(EFBIG, "Failed to update the snapshot table: File too large");
        goto out;
    }
    t1 = gk_calloc(1, len);
    uint64_t p = 0;
    for (uint32_t i = 0; i < q->nb_snapshots; i++) {
        const uint8_t *e = t0 + starts[i];
        const gk_snapshot_info *s = &q->snaps[i];
        uint32_t extra = gk_be32(e + 36), nextra = extra > 24 ? extra : 24;
        uint64_t names = (uint64_t)gk_be16(e + 12) + gk_be16(e + 14);
        p = (p + 7) & ~7ULL;
        uint8_t *o = t1 + p;
        memcpy(o, e, 32); /* L1 table, sizes, dates, VM clock */
        put_be(o + 32, s->vm_state_size <= UINT32_MAX ? s->vm_state_size : 0, 4);
        put_be(o + 36, nextra, 4);
        put_be(o + 40, s->vm_state_size, 8);
        put_be(o + 48, extra >= 16 ? s->disk_size : q->h.size & ~511ULL, 8);
        put_be(o + 56, extra >= 24 ? (uint64_t)s->icount : UINT64_MAX, 8);
        if (extra > 24)
            memcpy(o + 64, e + 64, extra - 24);
        memcpy(o + 40 + nextra, e + 40 + extra, names);
        p += 40 + nextra + names;
    }
    int64_t a = qcow2_alloc_clusters(q, len);
    if (a < 0) {
        r = (int)a;
        goto out;
    }
    /* the refcounts, then the table, then the header that points to it */
    uint8_t h[12];
    put_be(h, q->nb_snapshots, 4);
    put_be(h + 4, (uint64_t)a, 8);
    if ((r = qcow2_op_flush(d)) < 0)
        goto out;
    if (gk_pwrite(q->file, t1, len, (uint64_t)a) < 0 || gk_flush(q->file) < 0 ||
        gk_pwrite(q->file, h, sizeof h, 60) < 0 || gk_flush(q->file) < 0) {
        r = -errno;
        goto out;
    }
    uint64_t old = q->h.snapshots_offset, oldlen = q->snapshots_size, cs = q->cluster_size;
    q->h.snapshots_offset = (uint64_t)a;
    q->snapshots_size = (len + 7) & ~7ULL;
    if ((r = qcow2_update_refcount(q, old, oldlen, -1)) < 0)
        goto out;
    /* qemu discards what a snapshot table freed */
    for (uint64_t c = old & ~(cs - 1); c < old + oldlen; c += cs) {
        uint64_t rc;
        if (qcow2_get_refcount(q, c >> q->cluster_bits, &rc) == 0 && rc == 0 && c < q->file->size)
            (void)gk_discard(q->file, c, c + cs <= q->file->size ? cs : q->file->size - c);
    }
    r = qcow2_op_flush(d);
out:
    free(t0);
    free(t1);
    free(starts);
    return r;
}
