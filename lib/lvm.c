/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LVM2: physical volumes found by their label, volume groups assembled from
 * the text metadata in their metadata areas, and logical volumes with
 * linear and striped segments as devices of their own (driver "lvm").
 *
 * On-disk layout (all little-endian), as LVM2's format_text writes it:
 *   label (one of sectors 0-3): "LABELONE", sector number, crc, offset of
 *     the PV header, "LVM2 001"
 *   PV header: uuid (32 chars), device size, data areas (offset, size)...
 *     0 0, metadata areas (offset, size)... 0 0
 *   mda header (at each metadata area): checksum, " LVM2 x[5A%r0N*>", version,
 *     start, size, raw_locn {offset, size, checksum, flags}... : where the
 *     current metadata text sits in the circular buffer after the header.
 * Every number read from the image is checked before use: a bad PV is
 * skipped, a bad VG is skipped with a warning naming it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "blk-int.h"

#define SECTOR 512u
#define LABEL_SCAN_SECTORS 4
#define MDA_HEADER_SIZE 512u
#define LVM_CRC_INIT 0xf597a6cfu
#define RAW_LOCN_IGNORED 1u
#define MAX_PVS_PER_VG 1024
#define MAX_LVS_PER_VG 4096
#define MAX_SEGMENTS 4096
#define MAX_STRIPES 128

static const char MDA_MAGIC[16] = " LVM2 x[5A%r0N*>";

/* LVM's calc_crc: CRC-32 (the zlib polynomial) without the final inversion,
 * started from LVM_CRC_INIT.  zlib's crc32 inverts on entry and on exit. */
static uint32_t lvm_crc(const void *buf, size_t n)
{
    return ~(uint32_t)crc32(~LVM_CRC_INIT & 0xffffffffu, buf, (uInt)n);
}

/* A PV label found on a device. */
typedef struct pvlabel {
    int ent;                 /* index in s->ents                               */
    char uuid[40];           /* with dashes                                    */
    uint64_t dev_size;       /* from the PV header                             */
    uint64_t pe_start;       /* first data area, bytes; 0 if none              */
    int dup;                 /* another device carries the same uuid           */
    int vg;                  /* index in s->pvs set later                      */
} pvlabel;

/* Metadata text read from one metadata area, parsed. */
typedef struct vgmeta {
    gk_lvm_node *top;
    const gk_lvm_node *vg;   /* the VG section                                 */
    const char *name, *id;
    int64_t seqno;
    char *where;             /* device name, for messages                      */
} vgmeta;

typedef struct scan {
    gk_devset *s;
    pvlabel *labels;
    int nlabels;
    vgmeta *metas;
    int nmetas;
} scan;

/* "AAAAAABBBBCCCC..." (32) -> "AAAAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGGGG" */
static int format_uuid(const uint8_t *raw, char *out)
{
    static const int groups[] = { 6, 4, 4, 4, 4, 4, 6 };
    int k = 0, o = 0;
    for (int g = 0; g < 7; g++) {
        for (int j = 0; j < groups[g]; j++, k++) {
            uint8_t c = raw[k];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '!' || c == '#'))
                return -1;
            out[o++] = (char)c;
        }
        if (g < 6)
            out[o++] = '-';
    }
    out[o] = '\0';
    return 0;
}

/* Compare uuids ignoring dashes (metadata writes them with dashes). */
static int uuid_eq(const char *a, const char *b)
{
    for (;;) {
        while (*a == '-')
            a++;
        while (*b == '-')
            b++;
        if (*a != *b)
            return 0;
        if (!*a)
            return 1;
        a++, b++;
    }
}

/* Read the metadata text of one metadata area at mda_off (size mda_size) of
 * dev into *textp (malloc'd, *len bytes).  Returns 1, 0 when the area holds
 * none, or -1 with gk_error on a bad area. */
static int read_mda(gk_dev *dev, uint64_t mda_off, uint64_t mda_size, char **textp, size_t *len)
{
    uint8_t h[MDA_HEADER_SIZE];
    *len = 0;
    *textp = NULL;
    if (mda_size <= MDA_HEADER_SIZE || !gk_range_ok(mda_off, mda_size, dev->size)) {
        gk_error("metadata area at %llu (%llu bytes) is outside the device",
                 (unsigned long long)mda_off, (unsigned long long)mda_size);
        return -1;
    }
    if (gk_pread(dev, h, sizeof h, mda_off) < 0)
        return -1;
    if (memcmp(h + 4, MDA_MAGIC, 16) != 0) {
        gk_error("metadata area at %llu: bad magic", (unsigned long long)mda_off);
        return -1;
    }
    if (gk_le32(h) != lvm_crc(h + 4, MDA_HEADER_SIZE - 4)) {
        gk_error("metadata area at %llu: bad header checksum", (unsigned long long)mda_off);
        return -1;
    }
    if (gk_le32(h + 20) != 1 || gk_le64(h + 24) != mda_off) {
        gk_error("metadata area at %llu: unknown version or wrong start", (unsigned long long)mda_off);
        return -1;
    }
    /* The first raw_locn is the committed metadata. */
    const uint8_t *rl = h + 40;
    uint64_t off = gk_le64(rl), size = gk_le64(rl + 8);
    uint32_t crc = gk_le32(rl + 16), flags = gk_le32(rl + 20);
    if (off == 0 || size == 0 || (flags & RAW_LOCN_IGNORED))
        return 0; /* no metadata here: an orphan PV or an ignored area */
    uint64_t ring = mda_size - MDA_HEADER_SIZE;
    if (off < MDA_HEADER_SIZE || off >= mda_size || size > ring || size > GK_LVM_META_MAX_SIZE) {
        gk_error("metadata area at %llu: metadata location %llu+%llu is out of range",
                 (unsigned long long)mda_off, (unsigned long long)off, (unsigned long long)size);
        return -1;
    }
    char *text = gk_malloc(size + 1);
    /* The text may wrap around the end of the circular buffer back to just
     * after the header. */
    uint64_t first = size < mda_size - off ? size : mda_size - off;
    if (gk_pread(dev, text, first, mda_off + off) < 0 ||
        (first < size && gk_pread(dev, text + first, size - first, mda_off + MDA_HEADER_SIZE) < 0)) {
        free(text);
        return -1;
    }
    if (lvm_crc(text, size) != crc) {
        free(text);
        gk_error("metadata area at %llu: metadata checksum mismatch", (unsigned long long)mda_off);
        return -1;
    }
    text[size] = '\0';
    *len = size;
    *textp = text;
    return 1;
}

static void add_meta(scan *sc, const char *where, char *text, size_t len)
{
    gk_lvm_node *top = gk_lvm_meta_parse(text, len);
    free(text);
    if (!top) {
        gk_warn("%s: %s; ignored", where, gk_errmsg());
        return;
    }
    /* The VG is the one section at the top level. */
    const gk_lvm_node *vg = NULL;
    for (const gk_lvm_node *c = top->child; c; c = c->next)
        if (c->type == GK_LVM_SECTION) {
            vg = c;
            break;
        }
    const char *id = vg ? gk_lvm_meta_str(vg, "id") : NULL;
    int64_t seqno;
    if (!vg || !id || gk_lvm_meta_int(vg, "seqno", &seqno) < 0) {
        gk_warn("%s: LVM metadata has no volume group with an id and seqno", where);
        gk_lvm_meta_free(top);
        return;
    }
    /* Several copies of one VG's metadata: keep the newest. */
    for (int i = 0; i < sc->nmetas; i++) {
        vgmeta *m = &sc->metas[i];
        if (!uuid_eq(m->id, id))
            continue;
        if (seqno > m->seqno) {
            gk_lvm_meta_free(m->top);
            free(m->where);
            m->top = top, m->vg = vg, m->name = vg->key, m->id = id, m->seqno = seqno;
            m->where = gk_strdup(where);
        } else {
            gk_lvm_meta_free(top);
        }
        return;
    }
    sc->metas = gk_realloc(sc->metas, (size_t)(sc->nmetas + 1) * sizeof *sc->metas);
    sc->metas[sc->nmetas++] = (vgmeta){ top, vg, vg->key, id, seqno, gk_strdup(where) };
}

/* Look for a PV label in the first sectors of entry i. */
/* Whether "LABELONE" starts one of the sectors scan_label looks at: only
 * then does it matter whether e is an md member (which may read the ends
 * of the device). */
static int label_seen(const gk_devent *e)
{
    uint8_t buf[LABEL_SCAN_SECTORS * SECTOR];
    if (!e->dev || e->dev->size < sizeof buf || gk_pread(e->dev, buf, sizeof buf, 0) < 0)
        return 0;
    for (unsigned sec = 0; sec < LABEL_SCAN_SECTORS; sec++)
        if (memcmp(buf + sec * SECTOR, "LABELONE", 8) == 0)
            return 1;
    return 0;
}

static void scan_label(scan *sc, int i)
{
    gk_devent *e = &sc->s->ents[i];
    gk_dev *dev = e->dev;
    uint8_t buf[LABEL_SCAN_SECTORS * SECTOR];
    if (!dev || dev->size < sizeof buf || gk_pread(dev, buf, sizeof buf, 0) < 0)
        return;
    for (unsigned sec = 0; sec < LABEL_SCAN_SECTORS; sec++) {
        const uint8_t *l = buf + sec * SECTOR;
        if (memcmp(l, "LABELONE", 8) != 0)
            continue;
        const char *name = e->name;
        if (gk_le64(l + 8) != sec) {
            /* e.g. the label of a partition seen through a window that
             * starts earlier; LVM ignores it too. */
            gk_debug("%s: LVM label in sector %u claims sector %llu; ignored", name, sec,
                     (unsigned long long)gk_le64(l + 8));
            continue;
        }
        if (gk_le32(l + 16) != lvm_crc(l + 20, SECTOR - 20)) {
            gk_warn("%s: LVM label in sector %u has a bad checksum; ignored", name, sec);
            continue;
        }
        uint32_t hoff = gk_le32(l + 20);
        if (memcmp(l + 24, "LVM2 001", 8) != 0 || hoff < 32 || hoff > SECTOR - 40 - 32) {
            gk_warn("%s: LVM label in sector %u: unknown type or bad header offset; ignored", name, sec);
            continue;
        }
        const uint8_t *ph = l + hoff, *end = l + SECTOR;
        pvlabel pl = { .ent = i, .vg = -1 };
        if (format_uuid(ph, pl.uuid) < 0) {
            gk_warn("%s: LVM PV header has a malformed uuid; ignored", name);
            continue;
        }
        pl.dev_size = gk_le64(ph + 32);
        /* Data areas, then metadata areas, each list ending with 0,0. */
        const uint8_t *p = ph + 40;
        int ok = 0, nda = 0;
        while (p + 16 <= end) {
            uint64_t o = gk_le64(p), sz = gk_le64(p + 8);
            p += 16;
            if (o == 0 && sz == 0) {
                ok = 1;
                break;
            }
            if (nda++ == 0)
                pl.pe_start = o;
        }
        struct { uint64_t off, size; } mdas[8];
        int nmda = 0;
        if (ok) {
            ok = 0;
            while (p + 16 <= end) {
                uint64_t o = gk_le64(p), sz = gk_le64(p + 8);
                p += 16;
                if (o == 0 && sz == 0) {
                    ok = 1;
                    break;
                }
                if (nmda < 8)
                    mdas[nmda].off = o, mdas[nmda++].size = sz;
            }
        }
        if (!ok) {
            gk_warn("%s: LVM PV header: unterminated area list; ignored", name);
            continue;
        }
        for (int k = 0; k < sc->nlabels; k++)
            if (strcmp(sc->labels[k].uuid, pl.uuid) == 0) {
                gk_warn("%s: PV %s is also on %s", name, pl.uuid,
                        sc->s->ents[sc->labels[k].ent].name);
                sc->labels[k].dup = 1;
                pl.dup = 1;
            }
        sc->labels = gk_realloc(sc->labels, (size_t)(sc->nlabels + 1) * sizeof *sc->labels);
        sc->labels[sc->nlabels++] = pl;
        for (int k = 0; k < nmda; k++) {
            size_t len;
            char *text;
            int r = read_mda(dev, mdas[k].off, mdas[k].size, &text, &len);
            if (r > 0)
                add_meta(sc, name, text, len);
            else if (r < 0)
                gk_warn("%s: LVM %s", name, gk_errmsg());
        }
        return; /* one label per device */
    }
}

/* ------------------------------------------------------------------ */
/* The LV device                                                        */

typedef struct lv_area {
    gk_dev *pv;              /* reference held                                 */
    uint64_t off;            /* byte offset on pv of the area's first extent   */
} lv_area;

typedef struct lv_seg {
    uint64_t start, len;     /* bytes in the LV                                */
    uint64_t stripe_size;    /* bytes; with nstripes > 1                       */
    int nstripes;            /* 0: segment type zero                           */
    lv_area *areas;
} lv_seg;

typedef struct lv_priv {
    lv_seg *segs;
    int nsegs;
} lv_priv;

/* One request over the segments: io is called for each piece that lands on
 * a PV (pv, offset on it, length, position in the request); pieces in a
 * "zero" segment read as zeros and refuse writes. */
typedef int (*lv_io)(gk_dev *pv, uint64_t pvoff, uint64_t len, uint64_t pos, void *arg);

static int lv_map(gk_dev *d, uint64_t n, uint64_t off, lv_io io, void *arg, uint8_t *zero_buf)
{
    lv_priv *lp = d->priv;
    uint64_t pos = 0;
    /* Segments are sorted and tile the LV: find the first by bisection. */
    int lo = 0, hi = lp->nsegs;
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        if (lp->segs[mid].start <= off)
            lo = mid;
        else
            hi = mid;
    }
    int si = lo;
    while (n > 0) {
        while (si < lp->nsegs && off >= lp->segs[si].start + lp->segs[si].len)
            si++;
        if (si >= lp->nsegs || off < lp->segs[si].start)
            return gk_fail(EIO, "%s: offset %llu is not mapped", d->name, (unsigned long long)off);
        const lv_seg *sg = &lp->segs[si];
        uint64_t rel = off - sg->start, chunk = sg->start + sg->len - off;
        const lv_area *a;
        uint64_t pvoff;
        if (sg->nstripes == 0) { /* segment type zero */
            if (chunk > n)
                chunk = n;
            if (!zero_buf)
                return gk_fail(EIO, "%s: offset %llu is in a zero segment: writes are lost", d->name,
                               (unsigned long long)off);
            memset(zero_buf + pos, 0, chunk);
            pos += chunk, off += chunk, n -= chunk;
            continue;
        }
        if (sg->nstripes == 1) {
            a = &sg->areas[0];
            pvoff = a->off + rel;
        } else {
            uint64_t ss = sg->stripe_size, nr = rel / ss, in = rel % ss;
            a = &sg->areas[nr % (uint64_t)sg->nstripes];
            pvoff = a->off + (nr / (uint64_t)sg->nstripes) * ss + in;
            if (ss - in < chunk)
                chunk = ss - in;
        }
        if (chunk > n)
            chunk = n;
        if (io(a->pv, pvoff, chunk, pos, arg) < 0) {
            int e = errno;
            gk_error_prefix("%s", d->name);
            return -e;
        }
        pos += chunk, off += chunk, n -= chunk;
    }
    return 0;
}

static int read_piece(gk_dev *pv, uint64_t pvoff, uint64_t len, uint64_t pos, void *buf)
{
    return gk_pread(pv, (uint8_t *)buf + pos, (size_t)len, pvoff);
}

static int lv_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    return lv_map(d, n, off, read_piece, buf, buf);
}

static int write_piece(gk_dev *pv, uint64_t pvoff, uint64_t len, uint64_t pos, void *buf)
{
    return gk_pwrite(pv, (const uint8_t *)buf + pos, (size_t)len, pvoff);
}

static int lv_pwrite(gk_dev *d, const void *buf, size_t n, uint64_t off)
{
    return lv_map(d, n, off, write_piece, (void *)buf, NULL);
}

static int zero_piece(gk_dev *pv, uint64_t pvoff, uint64_t len, uint64_t pos, void *flags)
{
    (void)pos;
    return gk_pwrite_zeroes(pv, pvoff, len, *(unsigned *)flags);
}

static int lv_pwrite_zeroes(gk_dev *d, uint64_t off, uint64_t len, unsigned flags)
{
    return lv_map(d, len, off, zero_piece, &flags, NULL);
}

static int discard_piece(gk_dev *pv, uint64_t pvoff, uint64_t len, uint64_t pos, void *arg)
{
    (void)pos, (void)arg;
    return gk_discard(pv, pvoff, len);
}

static int lv_discard(gk_dev *d, uint64_t off, uint64_t len)
{
    return lv_map(d, len, off, discard_piece, NULL, NULL);
}

static int lv_flush(gk_dev *d)
{
    lv_priv *lp = d->priv;
    for (int i = 0; i < lp->nsegs; i++)
        for (int j = 0; j < lp->segs[i].nstripes; j++)
            if (gk_flush(lp->segs[i].areas[j].pv) < 0)
                return -errno;
    return 0;
}

static void lv_close(gk_dev *d)
{
    lv_priv *lp = d->priv;
    for (int i = 0; i < lp->nsegs; i++) {
        for (int j = 0; j < lp->segs[i].nstripes; j++)
            gk_dev_unref(lp->segs[i].areas[j].pv);
        free(lp->segs[i].areas);
    }
    free(lp->segs);
    free(lp);
}

static const struct gk_dev_ops lvm_ops = {
    .name = "lvm",
    .pread = lv_pread,
    .pwrite = lv_pwrite,
    .pwrite_zeroes = lv_pwrite_zeroes,
    .discard = lv_discard,
    .flush = lv_flush,
    .close = lv_close,
};

/* ------------------------------------------------------------------ */
/* Volume groups                                                        */

typedef struct pvinfo {
    const char *key;         /* "pv0"                                          */
    const char *id;
    int64_t pe_start, pe_count;  /* sectors, extents                            */
    int label;               /* index in sc->labels, or -1 = missing           */
} pvinfo;

typedef struct seginfo {
    int64_t start, count;    /* extents                                        */
    const char *type;
    int64_t stripe_size;     /* sectors                                        */
    int nstripes;
    int *pv;                 /* per stripe: index in pvinfo                    */
    int64_t *pe;             /* per stripe: first extent on that PV            */
} seginfo;

typedef struct lvinfo {
    const gk_lvm_node *sec;
    const char *name, *id;
    int visible;
    const char *segtype;     /* first segment, as lvs prints it                */
    const char *unsupported; /* a segment type we cannot read, or NULL         */
    int missing_pv;          /* index in pvinfo of a missing PV it uses, or -1 */
    int64_t extents;
    seginfo *segs;
    int nsegs;
} lvinfo;

/* LVM's rule for VG and LV names: [a-zA-Z0-9+_.-], not starting with '-',
 * not "." or "..".  The names become device paths, so nothing else passes. */
static int valid_name(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 127 || n[0] == '-' || strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
        return 0;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '+' || *p == '_' || *p == '.' || *p == '-'))
            return 0;
    return 1;
}

static int cmp_seg(const void *a, const void *b)
{
    const seginfo *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int cmp_lv(const void *a, const void *b)
{
    return strcmp(((const lvinfo *)a)->name, ((const lvinfo *)b)->name);
}

/* Parse and check the segments of one LV.  Returns 0, or -1 with gk_error. */
static int read_lv(const gk_lvm_node *lvsec, lvinfo *lv, const pvinfo *pvs, int npvs, uint64_t esb)
{
    lv->sec = lvsec;
    lv->name = lvsec->key;
    lv->id = gk_lvm_meta_str(lvsec, "id");
    lv->visible = gk_lvm_meta_has_flag(lvsec, "status", "VISIBLE");
    lv->missing_pv = -1;
    int64_t nseg;
    if (!valid_name(lv->name)) {
        gk_error("invalid LV name \"%s\"", lv->name);
        return -1;
    }
    if (!lv->id) {
        gk_error("LV %s has no id", lv->name);
        return -1;
    }
    if (gk_lvm_meta_int(lvsec, "segment_count", &nseg) < 0 || nseg < 1 || nseg > MAX_SEGMENTS ||
        nseg > lvsec->nchildren) {
        gk_error("LV %s: bad segment_count", lv->name);
        return -1;
    }
    lv->segs = gk_calloc((size_t)nseg, sizeof *lv->segs);
    lv->nsegs = (int)nseg;
    for (int i = 0; i < lv->nsegs; i++) {
        char key[32];
        snprintf(key, sizeof key, "segment%d", i + 1);
        const gk_lvm_node *ss = gk_lvm_meta_get(lvsec, key);
        seginfo *sg = &lv->segs[i];
        if (!ss || ss->type != GK_LVM_SECTION) {
            gk_error("LV %s: %s is missing", lv->name, key);
            return -1;
        }
        sg->type = gk_lvm_meta_str(ss, "type");
        if (gk_lvm_meta_int(ss, "start_extent", &sg->start) < 0 ||
            gk_lvm_meta_int(ss, "extent_count", &sg->count) < 0 || !sg->type ||
            sg->start < 0 || sg->count < 1 || sg->start > INT64_MAX / 2 || sg->count > INT64_MAX / 2) {
            gk_error("LV %s: %s: bad start_extent, extent_count or type", lv->name, key);
            return -1;
        }
        if (strcmp(sg->type, "zero") == 0)
            continue; /* no areas: reads as zeros, like dm's zero target */
        /* "linear" is what old metadata may call a one-stripe segment. */
        int linear = strcmp(sg->type, "linear") == 0;
        if (!linear && strcmp(sg->type, "striped") != 0) {
            if (!lv->unsupported)
                lv->unsupported = sg->type;
            continue;
        }
        int64_t n = 1;
        const gk_lvm_node *st = gk_lvm_meta_get(ss, "stripes");
        if (((!linear || gk_lvm_meta_get(ss, "stripe_count")) &&
             gk_lvm_meta_int(ss, "stripe_count", &n) < 0) || n < 1 || n > MAX_STRIPES || !st ||
            st->type != GK_LVM_LIST || st->nchildren != 2 * n) {
            gk_error("LV %s: %s: bad stripe_count or stripes list", lv->name, key);
            return -1;
        }
        sg->nstripes = (int)n;
        if (n > 1) {
            /* Each stripe's area is whole stripes (lvcreate keeps the
             * stripe size a divisor of the extent size). */
            if (gk_lvm_meta_int(ss, "stripe_size", &sg->stripe_size) < 0 || sg->stripe_size < 1 ||
                sg->stripe_size > (1 << 30) || esb % ((uint64_t)sg->stripe_size * SECTOR) != 0) {
                gk_error("LV %s: %s: bad stripe_size", lv->name, key);
                return -1;
            }
            if (sg->count % n != 0) {
                gk_error("LV %s: %s: %lld extents do not divide into %lld stripes", lv->name, key,
                         (long long)sg->count, (long long)n);
                return -1;
            }
        }
        int64_t area_len = sg->count / n;
        sg->pv = gk_calloc((size_t)n, sizeof *sg->pv);
        sg->pe = gk_calloc((size_t)n, sizeof *sg->pe);
        const gk_lvm_node *it = st->child;
        for (int k = 0; k < n; k++, it = it->next->next) {
            if (it->type != GK_LVM_STR || it->next->type != GK_LVM_INT) {
                gk_error("LV %s: %s: stripes must be \"pvN\", extent pairs", lv->name, key);
                return -1;
            }
            int pv = -1;
            for (int j = 0; j < npvs; j++)
                if (strcmp(pvs[j].key, it->s) == 0)
                    pv = j;
            if (pv < 0) {
                gk_error("LV %s: %s: unknown PV \"%s\"", lv->name, key, it->s);
                return -1;
            }
            int64_t pe = it->next->i;
            if (pe < 0 || pe > pvs[pv].pe_count || area_len > pvs[pv].pe_count - pe) {
                gk_error("LV %s: %s: extents %lld-%lld are beyond the end of PV %s (%lld extents)",
                         lv->name, key, (long long)pe, (long long)(pe + area_len - 1), pvs[pv].id,
                         (long long)pvs[pv].pe_count);
                return -1;
            }
            sg->pv[k] = pv;
            sg->pe[k] = pe;
            if (pvs[pv].label < 0 && lv->missing_pv < 0)
                lv->missing_pv = pv;
        }
    }
    /* The segments must tile the LV from extent 0 without gaps or overlaps. */
    if (lv->nsegs > 1)
        qsort(lv->segs, (size_t)lv->nsegs, sizeof *lv->segs, cmp_seg);
    int64_t next = 0;
    for (int i = 0; i < lv->nsegs; i++) {
        if (lv->segs[i].start != next) {
            gk_error("LV %s: segments %s at extent %lld", lv->name,
                     lv->segs[i].start < next ? "overlap" : "leave a gap", (long long)next);
            return -1;
        }
        next += lv->segs[i].count;
    }
    lv->extents = next;
    const seginfo *first = &lv->segs[0];
    if (strcmp(first->type, "striped") == 0 || strcmp(first->type, "linear") == 0)
        lv->segtype = first->nstripes == 1 ? "linear" : "striped";
    else
        lv->segtype = first->type;
    return 0;
}

/* Assemble one VG; returns 0, or -1 with gk_error (the VG is then skipped). */
static int assemble_vg(scan *sc, vgmeta *m)
{
    gk_devset *s = sc->s;
    const gk_lvm_node *vg = m->vg;
    int64_t es;
    pvinfo *pvs = NULL;
    lvinfo *lvs = NULL;
    int npvs = 0, nlvs = 0, rc = -1;

    if (!valid_name(m->name)) {
        gk_error("invalid VG name");
        goto out;
    }
    if (gk_lvm_meta_int(vg, "extent_size", &es) < 0 || es < 1 || es > (INT64_C(1) << 32)) {
        gk_error("bad extent_size");
        goto out;
    }
    uint64_t esb = (uint64_t)es * SECTOR;
    for (int i = 0; i < s->nvgs; i++)
        if (strcmp(s->vgs[i].name, m->name) == 0) {
            gk_error("another VG with this name (uuid %s) was found first", s->vgs[i].uuid);
            goto out;
        }

    const gk_lvm_node *pvsec = gk_lvm_meta_get(vg, "physical_volumes");
    if (!pvsec || pvsec->type != GK_LVM_SECTION || pvsec->nchildren < 1 ||
        pvsec->nchildren > MAX_PVS_PER_VG) {
        gk_error("bad or missing physical_volumes");
        goto out;
    }
    pvs = gk_calloc((size_t)pvsec->nchildren, sizeof *pvs);
    uint64_t total_extents = 0;
    for (const gk_lvm_node *p = pvsec->child; p; p = p->next) {
        pvinfo *pv = &pvs[npvs];
        if (p->type != GK_LVM_SECTION) {
            gk_error("physical_volumes: \"%s\" is not a section", p->key);
            goto out;
        }
        pv->key = p->key;
        pv->id = gk_lvm_meta_str(p, "id");
        if (!pv->id || gk_lvm_meta_int(p, "pe_start", &pv->pe_start) < 0 ||
            gk_lvm_meta_int(p, "pe_count", &pv->pe_count) < 0 || pv->pe_start < 0 ||
            pv->pe_count < 0 || pv->pe_start > (INT64_C(1) << 50) ||
            (uint64_t)pv->pe_count > (UINT64_C(1) << 56) / esb) {
            gk_error("PV %s: bad id, pe_start or pe_count", p->key);
            goto out;
        }
        for (int j = 0; j < npvs; j++)
            if (strcmp(pvs[j].key, pv->key) == 0 || uuid_eq(pvs[j].id, pv->id)) {
                gk_error("PV %s (%s) is named twice", pv->key, pv->id);
                goto out;
            }
        pv->label = -1;
        for (int k = 0; k < sc->nlabels; k++)
            if (uuid_eq(sc->labels[k].uuid, pv->id)) {
                if (sc->labels[k].dup) {
                    gk_error("PV %s is on more than one device", pv->id);
                    goto out;
                }
                pv->label = k;
            }
        if (pv->label >= 0) {
            const gk_devent *de = &s->ents[sc->labels[pv->label].ent];
            uint64_t need = (uint64_t)pv->pe_start * SECTOR + (uint64_t)pv->pe_count * esb;
            if (need > de->dev->size) {
                gk_error("PV %s: %lld extents from sector %lld do not fit on %s (%llu bytes)",
                         pv->id, (long long)pv->pe_count, (long long)pv->pe_start, de->name,
                         (unsigned long long)de->dev->size);
                goto out;
            }
        }
        total_extents += (uint64_t)pv->pe_count;
        npvs++;
    }

    const gk_lvm_node *lvsec = gk_lvm_meta_get(vg, "logical_volumes");
    if (lvsec && (lvsec->type != GK_LVM_SECTION || lvsec->nchildren > MAX_LVS_PER_VG)) {
        gk_error("bad logical_volumes");
        goto out;
    }
    if (lvsec) {
        lvs = gk_calloc((size_t)lvsec->nchildren + 1, sizeof *lvs);
        for (const gk_lvm_node *l = lvsec->child; l; l = l->next) {
            if (l->type != GK_LVM_SECTION) {
                gk_error("logical_volumes: \"%s\" is not a section", l->key);
                goto out;
            }
            for (int j = 0; j < nlvs; j++)
                if (strcmp(lvs[j].name, l->key) == 0) {
                    gk_error("LV %s is named twice", l->key);
                    goto out;
                }
            int r = read_lv(l, &lvs[nlvs], pvs, npvs, esb);
            nlvs++;
            if (r < 0)
                goto out;
            if ((uint64_t)lvs[nlvs - 1].extents > (UINT64_C(1) << 56) / esb) {
                gk_error("LV %s is too large", l->key);
                goto out;
            }
        }
    }
    /* An old-style snapshot is a hidden "snapshotN" LV (segment type
     * snapshot) tying an origin to a COW store.  lvs shows the COW store
     * under the snapshot's name, visible when the origin is; its bytes are
     * not the snapshot's contents, so it cannot be read. */
    for (int i = 0; i < nlvs; i++) {
        const gk_lvm_node *s1 = gk_lvm_meta_get(lvs[i].sec, "segment1");
        const char *cow = gk_lvm_meta_str(s1, "cow_store");
        const char *origin = gk_lvm_meta_str(s1, "origin");
        if (!lvs[i].unsupported || strcmp(lvs[i].unsupported, "snapshot") != 0 || !cow || !origin)
            continue;
        int visible = 0;
        for (int j = 0; j < nlvs; j++)
            if (strcmp(lvs[j].name, origin) == 0)
                visible = lvs[j].visible;
        for (int j = 0; j < nlvs; j++)
            if (strcmp(lvs[j].name, cow) == 0) {
                lvs[j].unsupported = "snapshot";
                lvs[j].visible = visible;
            }
    }

    /* Checked: publish the VG, its PVs, its visible LVs. */
    gk_vg *v;
    s->vgs = gk_realloc(s->vgs, (size_t)(s->nvgs + 1) * sizeof *s->vgs);
    v = &s->vgs[s->nvgs++];
    memset(v, 0, sizeof *v);
    v->name = gk_strdup(m->name);
    v->uuid = gk_strdup(m->id);
    v->extent_size = esb;
    v->size = total_extents * esb;
    v->nr_pvs = npvs;
    for (int i = 0; i < npvs; i++) {
        if (pvs[i].label >= 0) {
            gk_pv *gp = &s->pvs[sc->labels[pvs[i].label].vg];
            free(gp->vg);
            gp->vg = gk_strdup(m->name);
            gp->size = (uint64_t)pvs[i].pe_count * esb;
            gp->pe_start = (uint64_t)pvs[i].pe_start * SECTOR;
        } else {
            v->missing_pvs = gk_realloc(v->missing_pvs, (size_t)(v->nr_missing + 1) * sizeof(char *));
            v->missing_pvs[v->nr_missing++] = gk_strdup(pvs[i].id);
            gk_warn("VG %s: PV %s is missing", m->name, pvs[i].id);
        }
    }
    if (nlvs > 1)
        qsort(lvs, (size_t)nlvs, sizeof *lvs, cmp_lv);
    for (int i = 0; i < nlvs; i++) {
        lvinfo *lv = &lvs[i];
        if (!lv->visible)
            continue;
        s->lvs = gk_realloc(s->lvs, (size_t)(s->nlvs + 1) * sizeof *s->lvs);
        gk_lv *gl = &s->lvs[s->nlvs++];
        gl->vg = gk_strdup(m->name);
        gl->name = gk_strdup(lv->name);
        gl->uuid = gk_strdup(lv->id);
        gl->segtype = gk_strdup(lv->segtype);
        gl->size = (uint64_t)lv->extents * esb;

        char *name = gk_asprintf("/dev/%s/%s", m->name, lv->name);
        gk_devent *e = gk_devset_append(s, name, GK_LV);
        e->parent = gk_strdup(m->name);
        e->lv_uuid = gk_strdup(lv->id);
        if (lv->unsupported) {
            e->open_error = gk_asprintf("segment type %s is not supported", lv->unsupported);
        } else if (lv->missing_pv >= 0) {
            e->open_error = gk_asprintf("PV %s is missing", pvs[lv->missing_pv].id);
        } else {
            lv_priv *lp = gk_calloc(1, sizeof *lp);
            int ro = 0;
            lp->nsegs = lv->nsegs;
            lp->segs = gk_calloc((size_t)lv->nsegs, sizeof *lp->segs);
            for (int k = 0; k < lv->nsegs; k++) {
                const seginfo *sg = &lv->segs[k];
                lv_seg *o = &lp->segs[k];
                o->start = (uint64_t)sg->start * esb;
                o->len = (uint64_t)sg->count * esb;
                o->nstripes = sg->nstripes;
                o->stripe_size = (uint64_t)sg->stripe_size * SECTOR;
                o->areas = gk_calloc((size_t)sg->nstripes, sizeof *o->areas);
                for (int j = 0; j < sg->nstripes; j++) {
                    const pvinfo *pv = &pvs[sg->pv[j]];
                    o->areas[j].pv = s->ents[sc->labels[pv->label].ent].dev;
                    gk_dev_ref(o->areas[j].pv);
                    ro |= o->areas[j].pv->readonly;
                    o->areas[j].off = (uint64_t)pv->pe_start * SECTOR + (uint64_t)sg->pe[j] * esb;
                }
            }
            /* e may move with the next append: it is not used after this. */
            e->dev = gk_dev_new(&lvm_ops, name, (uint64_t)lv->extents * esb, lp);
            e->dev->readonly = ro; /* writable when every PV under it is */
        }
        free(name);
    }
    rc = 0;
out:
    for (int i = 0; i < nlvs; i++) {
        for (int k = 0; k < lvs[i].nsegs; k++) {
            free(lvs[i].segs[k].pv);
            free(lvs[i].segs[k].pe);
        }
        free(lvs[i].segs);
    }
    free(lvs);
    free(pvs);
    return rc;
}

static int cmp_pv(const void *a, const void *b)
{
    return strcmp(((const gk_pv *)a)->name, ((const gk_pv *)b)->name);
}

static int cmp_meta(const void *a, const void *b)
{
    return strcmp(((const vgmeta *)a)->name, ((const vgmeta *)b)->name);
}

int gk_lvm_scan(gk_devset *s)
{
    scan sc = { .s = s };
    int nents = s->nents;
    for (int i = 0; i < nents; i++) {
        int t = s->ents[i].mbr_type;
        /* An extended partition's first sectors are an EBR; the logical
         * partitions inside are entries of their own. */
        if (s->ents[i].kind == GK_LV || t == 0x05 || t == 0x0f || t == 0x85)
            continue;
        /* an md member (a RAID1 with its superblock at the end shows the
         * array's PV label too): the array is the PV */
        if (!label_seen(&s->ents[i]) || gk_devent_md_member(&s->ents[i]))
            continue;
        scan_label(&sc, i);
    }

    /* Every PV is listed, in device order; the VG name comes with its VG. */
    for (int k = 0; k < sc.nlabels; k++) {
        pvlabel *pl = &sc.labels[k];
        s->pvs = gk_realloc(s->pvs, (size_t)(s->npvs + 1) * sizeof *s->pvs);
        gk_pv *gp = &s->pvs[s->npvs];
        memset(gp, 0, sizeof *gp);
        gp->name = gk_strdup(s->ents[pl->ent].name);
        s->ents[pl->ent].pv = 1;
        gp->uuid = gk_strdup(pl->uuid);
        gp->pe_start = pl->pe_start;
        /* An orphan's size is its device's (pvs); a PV in a VG gets
         * pe_count * extent_size below. */
        gp->size = pl->dev_size ? pl->dev_size : s->ents[pl->ent].dev->size;
        pl->vg = s->npvs++;
    }

    if (sc.nmetas > 1)
        qsort(sc.metas, (size_t)sc.nmetas, sizeof *sc.metas, cmp_meta);
    for (int i = 0; i < sc.nmetas; i++) {
        if (assemble_vg(&sc, &sc.metas[i]) < 0)
            gk_warn("VG %s (metadata on %s): %s; skipped", sc.metas[i].name, sc.metas[i].where,
                    gk_errmsg());
        gk_lvm_meta_free(sc.metas[i].top);
        free(sc.metas[i].where);
    }
    free(sc.metas);
    free(sc.labels);
    /* pvs lists them by device name. */
    if (s->npvs > 1)
        qsort(s->pvs, (size_t)s->npvs, sizeof *s->pvs, cmp_pv);
    return 0;
}
