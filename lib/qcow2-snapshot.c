/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 internal snapshots: the snapshot table, read through a window of a
 * few hundred KiB (never the whole, up to 64 MiB, table at once), and
 * finding a snapshot the way qemu does.  (Creating, applying and deleting
 * them is issue 9's writer; it goes here.) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

struct win {
    uint8_t *buf;
    uint64_t off, len, cap;
};

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
        s->l1_offset = gk_be64(e);
        s->l1_size = gk_be32(e + 8);
        uint16_t idlen = gk_be16(e + 12), namelen = gk_be16(e + 14);
        s->date_sec = gk_be32(e + 16);
        s->date_nsec = gk_be32(e + 20);
        s->vm_clock_nsec = gk_be64(e + 24);
        s->vm_state_size = gk_be32(e + 32);
        uint32_t extra = gk_be32(e + 36);
        if (extra > QC_MAX_EXTRA_DATA) {
            err = gk_fail(EINVAL, "%s: snapshot %u: too much extra data", q->path, i);
            goto fail;
        }
        p += 40;
        if (!(e = win_get(q, &w, p, (uint64_t)extra + idlen + namelen, avail, &err)))
            goto fail;
        s->disk_size = q->h.size;
        s->icount = -1;
        if (extra >= 8)
            s->vm_state_size = gk_be64(e);
        if (extra >= 16)
            s->disk_size = gk_be64(e + 8);
        if (extra >= 24)
            s->icount = (int64_t)gk_be64(e + 16);
        s->id = gk_strndup((const char *)e + extra, idlen);
        s->name = gk_strndup((const char *)e + extra + idlen, namelen);
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
