/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Linux md RAID arrays as devices of their own (driver "md"): linear,
 * RAID0 (with zones of unequal members), RAID1, RAID10 (near, far and
 * offset copies), RAID4/5/6 (the six parity layouts), read-only.
 *
 * The address arithmetic follows the kernel's md drivers, so that an
 * array reads the same as the kernel assembles it.  A degraded array is
 * read from what is there: RAID1 and RAID10 from any copy, RAID4/5/6
 * rebuild one missing data member from P (XOR of the others), RAID6 also
 * from Q when P or a second data member is missing too (Galois field
 * arithmetic as the kernel's raid6 recovery, in its syndrome order).
 * Linear and RAID0 need every member.
 *
 * Bounds: device counts and geometry come checked from md-super.c; sizes
 * are computed with overflow checks and must fit every member's data
 * area; a read is split per chunk (per member run for linear/RAID1) and
 * allocates at most two chunks of scratch for a rebuild.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk-int.h"

struct zone {                   /* RAID0: a band where nd members stripe */
    uint64_t start, end;        /* array sectors                          */
    uint64_t dev_start;         /* member sectors where it begins         */
    int nd;
    int *devs;                  /* roles                                  */
};

struct md {
    gk_md_super sb;
    int n;                      /* raid_disks                             */
    gk_dev **mem;               /* per role, NULL if missing              */
    uint64_t *moff;             /* per role: data offset on the member, bytes */
    uint64_t *msecs;            /* per role: sectors the array may use    */
    uint64_t chunk;             /* sectors                                */
    struct zone *zones;
    int nzones;
    unsigned near, far;         /* raid10                                 */
    int offset;
    uint64_t stride;            /* raid10: sectors between far copies     */
    int alg, maxdeg;            /* raid4/5/6                              */
    uint8_t *scratch;           /* for rebuilding: at most two chunks     */
    size_t scratch_len;
    uint8_t gflog[256];         /* raid6: GF(2^8) logarithms of g = 2      */
    uint8_t gfexp[510];         /*        and powers, twice round          */
};

static void md_close_priv(struct md *m)
{
    for (int i = 0; i < m->n; i++)
        if (m->mem[i])
            gk_dev_unref(m->mem[i]);
    for (int z = 0; z < m->nzones; z++)
        free(m->zones[z].devs);
    free(m->zones);
    free(m->mem);
    free(m->moff);
    free(m->msecs);
    free(m->scratch);
    free(m);
}

static void md_close(gk_dev *d)
{
    md_close_priv(d->priv);
}

/* Read n bytes at byte off of role r's data area. */
static int mread(struct md *m, int r, void *buf, size_t n, uint64_t off)
{
    if (!m->mem[r])
        return gk_fail(EIO, "md: member %d is missing", r);
    if (!gk_range_ok(off, n, m->msecs[r] * 512))
        return gk_fail(EIO, "md: read beyond member %d's data", r);
    if (gk_pread(m->mem[r], buf, n, m->moff[r] + off) < 0)
        return -errno;
    return 0;
}

/* RAID4/5/6: the member of data chunk number c's slot, the parity
 * members and the stripe (member chunk index), as raid5_compute_sector. */
static void r5_map(struct md *m, uint64_t c, int *dd, int *pd, int *qd, uint64_t *stripe)
{
    int n = m->n, ddisks = n - m->maxdeg;
    uint64_t st = c / (uint64_t)ddisks;
    int d = (int)(c % (uint64_t)ddisks);
    int s2 = (int)(st % (uint64_t)n);
    int p = 0, q = -1;
    if (m->maxdeg == 1) {
        switch (m->alg) {
        case 0: p = ddisks - s2; if (d >= p) d++; break;           /* left-asymmetric  */
        case 1: p = s2; if (d >= p) d++; break;                    /* right-asymmetric */
        case 2: p = ddisks - s2; d = (p + 1 + d) % n; break;       /* left-symmetric   */
        case 3: p = s2; d = (p + 1 + d) % n; break;                /* right-symmetric  */
        case 4: p = 0; d++; break;                                 /* parity first     */
        default: p = ddisks; break;                                /* parity last      */
        }
    } else {
        switch (m->alg) {
        case 0:
        case 1:
            p = m->alg == 0 ? n - 1 - s2 : s2;
            q = p + 1;
            if (p == n - 1) {
                d++;
                q = 0;
            } else if (d >= p) {
                d += 2;
            }
            break;
        case 2:
        case 3:
            p = m->alg == 2 ? n - 1 - s2 : s2;
            q = (p + 1) % n;
            d = (p + 2 + d) % n;
            break;
        case 4: p = 0; q = 1; d += 2; break;
        default: p = ddisks; q = ddisks + 1; break;
        }
    }
    *dd = d;
    *pd = p;
    *qd = q;
    *stripe = st;
}

/* The GF(2^8) tables of RAID6's Q syndrome: generator 2, polynomial
 * x^8 + x^4 + x^3 + x^2 + 1 (0x11d). */
static void gf_init(struct md *m)
{
    unsigned v = 1;
    for (int i = 0; i < 255; i++) {
        m->gfexp[i] = m->gfexp[i + 255] = (uint8_t)v;
        m->gflog[v] = (uint8_t)i;
        v <<= 1;
        if (v & 0x100)
            v ^= 0x11d;
    }
}

/* x times g^e (0 <= e < 255) */
static inline uint8_t gf_mulexp(const struct md *m, uint8_t x, unsigned e)
{
    return x ? m->gfexp[m->gflog[x] + e] : 0;
}

/* Member r's place in the Q syndrome of a stripe with parity members pd,
 * qd: the kernel takes the members in turn from the one after Q (from 0
 * when Q is the last), leaving P and Q out.  That is the order of the data
 * for the symmetric layouts, not for the asymmetric ones. */
static unsigned r6_slot(const struct md *m, int pd, int qd, int r)
{
    int i = qd == m->n - 1 ? 0 : qd + 1;
    unsigned k = 0;
    for (; i != r; i = (i + 1) % m->n)
        k += i != pd && i != qd;
    return k;
}

/* Two scratch buffers of n bytes each, kept for the next rebuild. */
static uint8_t *scratch(struct md *m, size_t n)
{
    if (2 * n > m->scratch_len) {
        free(m->scratch);
        m->scratch = gk_malloc(2 * n);
        m->scratch_len = 2 * n;
    }
    return m->scratch;
}

/* A missing RAID4/5/6 data member's piece (member miss, parity pd and qd,
 * qd < 0 without Q), from the same piece of the other members: the XOR of
 * the others but Q when P is there and no other data member is missing;
 * for RAID6 with P or a second data member y missing too, from Q:
 *   P' = P + sum of the data present, Q' = Q + sum of g^slot * data present
 *   P missing:   D = Q' / g^slot(miss)
 *   y missing:   D = (Q' + g^slot(y) P') / (g^slot(miss) + g^slot(y))
 * (+ is XOR in GF(2^8)). */
static int r5_rebuild(struct md *m, int miss, int pd, int qd, uint8_t *buf, size_t n,
                      uint64_t off)
{
    int other = -1;
    for (int r = 0; r < m->n; r++)
        if (r != miss && !m->mem[r]) {
            if (other >= 0 || qd < 0)
                return gk_fail(EIO, "md: raid%d with members %d and %d missing: cannot rebuild",
                               m->sb.level, miss, other >= 0 ? other : r);
            other = r;
        }
    uint8_t *d = scratch(m, n), *q = d + n;
    int err;
    if (other < 0 || other == qd) {                 /* P is there: XOR */
        memset(buf, 0, n);
        for (int r = 0; r < m->n; r++) {
            if (r == miss || r == qd)
                continue;
            if ((err = mread(m, r, d, n, off)) < 0)
                return err;
            for (size_t i = 0; i < n; i++)
                buf[i] ^= d[i];
        }
        return 0;
    }
    /* Q' in q, P' in buf (unused when P is the other one missing) */
    if ((err = mread(m, qd, q, n, off)) < 0)
        return err;
    if (other == pd)
        memset(buf, 0, n);
    else if ((err = mread(m, pd, buf, n, off)) < 0)
        return err;
    for (int r = 0; r < m->n; r++) {
        if (r == miss || r == other || r == pd || r == qd)
            continue;
        if ((err = mread(m, r, d, n, off)) < 0)
            return err;
        unsigned e = r6_slot(m, pd, qd, r);
        for (size_t i = 0; i < n; i++) {
            buf[i] ^= d[i];
            q[i] ^= gf_mulexp(m, d[i], e);
        }
    }
    unsigned sm = r6_slot(m, pd, qd, miss);
    if (other == pd) {
        for (size_t i = 0; i < n; i++)
            buf[i] = gf_mulexp(m, q[i], 255 - sm);
        return 0;
    }
    unsigned sy = r6_slot(m, pd, qd, other);
    /* 1 / (g^sm + g^sy) as a power of g */
    unsigned inv = 255 - m->gflog[m->gfexp[sm] ^ m->gfexp[sy]];
    for (size_t i = 0; i < n; i++)
        buf[i] = gf_mulexp(m, q[i] ^ gf_mulexp(m, buf[i], sy), inv % 255);
    return 0;
}

/* Read one piece that lies in a single chunk (or member run). */
static int md_piece(struct md *m, uint8_t *buf, size_t n, uint64_t pos, size_t *done)
{
    uint64_t cb = m->chunk * 512;          /* chunk bytes (0 for raid1/linear) */
    switch (m->sb.level) {
    case 1: {
        for (int r = 0; r < m->n; r++)
            if (m->mem[r]) {
                *done = n;
                return mread(m, r, buf, n, pos);
            }
        return gk_fail(EIO, "md: no member present");
    }
    case -1: {
        uint64_t base = 0;
        for (int r = 0; r < m->n; r++) {
            uint64_t sz = m->msecs[r] * 512;
            if (pos < base + sz) {
                uint64_t in = pos - base;
                *done = sz - in < n ? (size_t)(sz - in) : n;
                return mread(m, r, buf, *done, in);
            }
            base += sz;
        }
        return gk_fail(EIO, "md: read beyond the array");
    }
    }
    uint64_t within = pos % cb;
    *done = cb - within < n ? (size_t)(cb - within) : n;
    uint64_t sector = pos / 512, c = pos / cb;
    switch (m->sb.level) {
    case 0: {
        int z = 0;
        while (z < m->nzones - 1 && sector >= m->zones[z].end)
            z++;
        struct zone *zn = &m->zones[z];
        uint64_t rel = sector - zn->start;
        uint64_t pick = m->sb.layout == 2 ? rel / m->chunk : c;
        int r = zn->devs[pick % (uint64_t)zn->nd];
        uint64_t devchunk = rel / m->chunk / (uint64_t)zn->nd;
        return mread(m, r, buf, *done, (zn->dev_start + devchunk * m->chunk) * 512 + within);
    }
    case 10: {
        uint64_t cc = c * m->near;
        uint64_t stripe = cc / (uint64_t)m->n;
        int dev = (int)(cc % (uint64_t)m->n);
        if (m->offset)
            stripe *= m->far;
        uint64_t sec = stripe * m->chunk;
        for (unsigned k = 0; k < m->near; k++) {
            int d = dev;
            uint64_t s = sec;
            for (unsigned f = 0; f < m->far; f++) {
                if (f) {
                    d = (d + (int)m->near) % m->n;
                    s += m->stride;
                }
                if (m->mem[d])
                    return mread(m, d, buf, *done, s * 512 + within);
            }
            if (++dev >= m->n) {
                dev = 0;
                sec += m->chunk;
            }
        }
        return gk_fail(EIO, "md: raid10: every copy of chunk %llu is missing",
                       (unsigned long long)c);
    }
    default: {                              /* 4, 5, 6 */
        int dd, pd, qd;
        uint64_t stripe;
        r5_map(m, c, &dd, &pd, &qd, &stripe);
        uint64_t off = stripe * cb + within;
        if (m->mem[dd])
            return mread(m, dd, buf, *done, off);
        return r5_rebuild(m, dd, pd, qd, buf, *done, off);
    }
    }
}

static int md_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    struct md *m = d->priv;
    uint8_t *p = buf;
    while (n > 0) {
        size_t done = 0;
        int err = md_piece(m, p, n, off, &done);
        if (err < 0) {
            gk_error_prefix("%s", d->name);
            return err;
        }
        p += done;
        off += done;
        n -= done;
    }
    return 0;
}

static const struct gk_dev_ops md_ops = {
    .name = "md",
    .pread = md_pread,
    .close = md_close,
};

static int mul_ok(uint64_t a, uint64_t b, uint64_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

/* RAID0 zones as the kernel builds them: zone 0 stripes over every
 * member up to the smallest size, each next one over the members still
 * bigger, from the previous size on. */
static int make_zones(struct md *m, uint64_t *size)
{
    uint64_t prev = 0, start = 0;
    m->zones = gk_calloc((size_t)m->n, sizeof *m->zones);
    for (;;) {
        uint64_t small = UINT64_MAX;
        int nd = 0;
        for (int r = 0; r < m->n; r++)
            if (m->msecs[r] > prev) {
                nd++;
                if (m->msecs[r] < small)
                    small = m->msecs[r];
            }
        if (!nd)
            break;
        if (m->nzones > 0 && m->sb.layout == 0) {
            gk_error("md: multi-zone raid0 with no layout set (the kernel refuses it too)");
            return -1;
        }
        struct zone *z = &m->zones[m->nzones++];
        z->devs = gk_malloc((size_t)nd * sizeof *z->devs);
        for (int r = 0; r < m->n; r++)
            if (m->msecs[r] > prev)
                z->devs[z->nd++] = r;
        z->dev_start = prev;
        z->start = start;
        uint64_t band;
        if (!mul_ok(small - prev, (uint64_t)nd, &band) || start + band < start) {
            gk_error("md: raid0 size overflows");
            return -1;
        }
        z->end = start + band;
        start = z->end;
        prev = small;
    }
    *size = start;
    return 0;
}

gk_dev *gk_md_open(const gk_md_super *sbs, gk_dev **members, int n, const char *name)
{
    const gk_md_super *sb = NULL;
    int missing = 0;
    for (int r = 0; r < n; r++) {
        if (members[r] && !sb)
            sb = &sbs[r];
        missing += members[r] == NULL;
    }
    if (!sb) {
        gk_error("md: no member present");
        return NULL;
    }
    if ((int)sb->raid_disks != n) {
        gk_error("md: %d members for %u devices", n, sb->raid_disks);
        return NULL;
    }
    const char *lname = sb->level == -1 ? "linear" : NULL;
    char lbuf[16];
    if (!lname) {
        snprintf(lbuf, sizeof lbuf, "raid%d", sb->level);
        lname = lbuf;
    }
    /* RAID6 data members beyond 255 would share powers of g: none such
     * is rebuilt from Q */
    int allowed = sb->level == 1 || sb->level == 10 ? n - 1
                  : sb->level == 6 && n - 2 <= 255 ? 2 : sb->level >= 4 ? 1 : 0;
    if (missing > allowed) {
        gk_error("md: %s with %d of %d members missing", lname, missing, n);
        return NULL;
    }
    struct md *m = gk_calloc(1, sizeof *m);
    m->sb = *sb;
    m->n = n;
    m->mem = gk_calloc((size_t)n, sizeof *m->mem);
    m->moff = gk_calloc((size_t)n, sizeof *m->moff);
    m->msecs = gk_calloc((size_t)n, sizeof *m->msecs);
    m->chunk = sb->chunk;
    uint64_t size = 0, comp = sb->comp_size;  /* sectors */
    if (sb->level >= 4 || sb->level == 10)
        comp -= comp % m->chunk;
    for (int r = 0; r < n; r++) {
        if (!members[r])
            continue;
        m->mem[r] = members[r];
        gk_dev_ref(members[r]);
        m->moff[r] = sbs[r].data_offset * 512;
        uint64_t secs = sbs[r].data_size;
        if (sb->level <= 0) {
            if (m->chunk)
                secs -= secs % m->chunk;
        } else {
            if (comp == 0 || comp > secs) {
                gk_error("md: component size %llu sectors, member %d has %llu",
                         (unsigned long long)comp, r, (unsigned long long)secs);
                goto fail;
            }
            secs = comp;
        }
        m->msecs[r] = secs;
    }
    switch (sb->level) {
    case -1:
        for (int r = 0; r < n; r++) {
            if (size + m->msecs[r] < size)
                goto overflow;
            size += m->msecs[r];
        }
        break;
    case 0:
        if (make_zones(m, &size) < 0)
            goto fail;
        break;
    case 1:
        size = comp;
        break;
    case 10: {
        m->near = sb->layout & 0xff;
        m->far = (sb->layout >> 8) & 0xff;
        m->offset = !!(sb->layout & 0x10000);
        uint64_t arr = comp / m->chunk / m->far * (uint64_t)n / m->near;   /* chunks */
        uint64_t used = (arr * m->near * m->far + (uint64_t)n - 1) / (uint64_t)n;
        m->stride = m->offset ? m->chunk : used / m->far * m->chunk;
        if (used * m->chunk > comp) {
            gk_error("md: raid10 geometry does not fit the members");
            goto fail;
        }
        size = arr * m->chunk;
        break;
    }
    default:
        m->maxdeg = sb->level == 6 ? 2 : 1;
        if (sb->level == 6)
            gf_init(m);
        m->alg = sb->level == 4 ? 5 : (int)sb->layout;
        if (!mul_ok(comp, (uint64_t)(n - m->maxdeg), &size))
            goto overflow;
        break;
    }
    if (size == 0 || size > UINT64_MAX / 512)
        goto overflow;
    gk_dev *d = gk_dev_new(&md_ops, name, size * 512, m);
    d->readonly = 1;
    return d;
overflow:
    gk_error("md: array size out of range");
fail:
    m->n = n;
    md_close_priv(m);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Assembly                                                            */

struct member {
    int ent;                    /* index in s->ents                      */
    gk_md_super sb;
};

struct array {
    uint8_t uuid[16];
    struct member *m;
    int n;
};

static void assemble(gk_devset *s, struct array *a, int *next_minor)
{
    /* the most recent superblock is the array's; older members are stale
     * (mdadm allows one event of difference) */
    int newest = 0;
    for (int i = 1; i < a->n; i++)
        if (a->m[i].sb.events > a->m[newest].sb.events)
            newest = i;
    const gk_md_super *ref = &a->m[newest].sb;
    int n = (int)ref->raid_disks;
    gk_md_super *sbs = gk_calloc((size_t)n, sizeof *sbs);
    gk_dev **devs = gk_calloc((size_t)n, sizeof *devs);
    int *ents = gk_malloc((size_t)n * sizeof *ents);
    for (int r = 0; r < n; r++)
        ents[r] = -1;
    for (int i = 0; i < a->n; i++) {
        struct member *mb = &a->m[i];
        gk_devent *e = &s->ents[mb->ent];
        if (mb->sb.events + 1 < ref->events) {
            gk_warn("md: %s is stale (events %llu, array %llu): not used", e->name,
                    (unsigned long long)mb->sb.events, (unsigned long long)ref->events);
            continue;
        }
        if (mb->sb.level != ref->level || mb->sb.layout != ref->layout ||
            mb->sb.chunk != ref->chunk || mb->sb.raid_disks != ref->raid_disks ||
            mb->sb.comp_size != ref->comp_size || mb->sb.major != ref->major) {
            gk_warn("md: %s: its superblock disagrees with the array's: not used", e->name);
            continue;
        }
        int r = mb->sb.role;
        if (r < 0 || r >= n) {
            gk_debug("md: %s is a spare or faulty member", e->name);
            continue;
        }
        if (devs[r]) {
            gk_warn("md: %s and %s both claim slot %d: %s not used", s->ents[ents[r]].name,
                    e->name, r, e->name);
            continue;
        }
        devs[r] = e->dev;
        sbs[r] = mb->sb;
        ents[r] = mb->ent;
    }
    char uuid[40];
    gk_md_uuid_str(ref->uuid, 1, uuid);
    char *name = gk_asprintf("/dev/md%d", (*next_minor)--);
    char *label = ref->name[0] ? gk_strdup(ref->name) : NULL;
    gk_dev *dev = gk_md_open(sbs, devs, n, name);
    char *err = dev ? NULL : gk_strdup(gk_errmsg());
    int missing = 0;
    char **names = gk_calloc((size_t)n, sizeof *names);
    for (int r = 0; r < n; r++) {
        names[r] = gk_strdup(ents[r] >= 0 ? s->ents[ents[r]].name : "");
        missing += ents[r] < 0;
    }
    gk_devent *e = gk_devset_append(s, name, GK_MD);
    e->dev = dev;
    e->open_error = err;
    e->md_members = names;
    e->nmd_members = n;
    e->md_uuid = gk_strdup(uuid);
    e->md_name = label;
    e->md_level = ref->level;
    e->md_degraded = missing;
    if (err)
        gk_warn("%s (%s): %s", name, uuid, err);
    else if (missing)
        gk_warn("%s: degraded, %d of %d members missing", name, missing, n);
    free(name);
    free(sbs);
    free(devs);
    free(ents);
}

int gk_md_scan(gk_devset *s)
{
    struct array *arrays = NULL;
    int narrays = 0, nents = s->nents;
    for (int i = 0; i < nents; i++) {
        gk_devent *e = &s->ents[i];
        if ((e->kind != GK_DISK && e->kind != GK_PART) || !gk_devent_md_member(e))
            continue;
        gk_md_super sb;
        if (gk_md_read_super(e->dev, &sb) != 0) {
            gk_warn("%s: %s", e->name, gk_errmsg());
            continue;
        }
        int k = 0;
        while (k < narrays && memcmp(arrays[k].uuid, sb.uuid, 16) != 0)
            k++;
        if (k == narrays) {
            arrays = gk_realloc(arrays, (size_t)(narrays + 1) * sizeof *arrays);
            memset(&arrays[k], 0, sizeof arrays[k]);
            memcpy(arrays[k].uuid, sb.uuid, 16);
            narrays++;
        }
        struct array *a = &arrays[k];
        if (a->n >= GK_MD_MAX_DEVS) {
            gk_warn("%s: too many members for one md array", e->name);
            continue;
        }
        a->m = gk_realloc(a->m, (size_t)(a->n + 1) * sizeof *a->m);
        a->m[a->n].ent = i;
        a->m[a->n].sb = sb;
        a->n++;
    }
    int next_minor = 127;
    for (int k = 0; k < narrays; k++) {
        assemble(s, &arrays[k], &next_minor);
        free(arrays[k].m);
    }
    free(arrays);
    return 0;
}
