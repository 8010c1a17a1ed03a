/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* XFS directories: shortform (in the inode), block (one directory block
 * with its own hash index), leaf (data blocks plus one leaf block), node
 * (a dabtree of leaves) and btree (any of those with the block map in a
 * bmap btree).
 *
 * readdir walks the data blocks, which hold every entry whatever the
 * form; lookup goes through the hash index as the kernel does: the block's
 * leaf array, the single leaf block, or the dabtree down to a leaf.  The
 * dabtree descent is shared with the attribute code.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xfs-int.h"

#define M_BLOCK2 0x58443242u   /* XD2B */
#define M_BLOCK3 0x58444233u   /* XDB3 */
#define M_DATA2 0x58443244u    /* XD2D */
#define M_DATA3 0x58444433u    /* XDD3 */
#define M_LEAF1_2 0xd2f1
#define M_LEAF1_3 0x3df1
#define M_LEAFN_2 0xd2ff
#define M_LEAFN_3 0x3dff
#define M_NODE_2 0xfebe
#define M_NODE_3 0x3ebe

#define DA_MAXDEPTH 5

static int ft_to_dt(int ft)
{
    switch (ft) {
    case 1: return DT_REG;
    case 2: return DT_DIR;
    case 3: return DT_CHR;
    case 4: return DT_BLK;
    case 5: return DT_FIFO;
    case 6: return DT_SOCK;
    case 7: return DT_LNK;
    default: return DT_UNKNOWN;
    }
}

/* ------------------------------------------------------------------ */
/* The dabtree, shared with attributes                                 */

/* Open addressing on blk + 1 (0 marks a free slot), kept at most half full. */
int xfs_blkset_add(struct xfs_blkset *s, uint64_t blk)
{
    if (2 * (s->n + 1) > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        uint64_t *nv = gk_calloc(ncap, sizeof *nv);
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->v[i])
                continue;
            size_t j = (size_t)(s->v[i] * 0x9e3779b97f4a7c15ull) & (ncap - 1);
            while (nv[j])
                j = (j + 1) & (ncap - 1);
            nv[j] = s->v[i];
        }
        free(s->v);
        s->v = nv;
        s->cap = ncap;
    }
    uint64_t key = blk + 1;
    size_t j = (size_t)(key * 0x9e3779b97f4a7c15ull) & (s->cap - 1);
    while (s->v[j]) {
        if (s->v[j] == key)
            return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->v[j] = key;
    s->n++;
    return 1;
}

void xfs_blkset_free(struct xfs_blkset *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

int xfs_da_read(struct xfs *x, const struct xfs_ino *ip, const struct xfs_ext *m, size_t n,
                uint64_t lblk, unsigned fsbs, uint8_t *buf, const char *what)
{
    uint64_t daddr;
    int r = xfs_read_fork(x, m, n, lblk, fsbs, buf, &daddr, what);
    if (r < 0)
        return r;
    uint16_t magic = gk_be16(buf + 8);
    if (x->v5 && (magic == M_NODE_3 || magic == M_LEAF1_3 || magic == M_LEAFN_3 ||
                  magic == 0x3bee)) {
        char w[128];
        snprintf(w, sizeof w, "%s: block %llu", what, (unsigned long long)lblk);
        if ((r = xfs_check_v5(x, buf, (size_t)fsbs << x->blocklog, 12, 32, 48, ip->ino, 16,
                              daddr, w)) < 0)
            return r;
    }
    return magic;
}

int xfs_da_descend(struct xfs *x, const struct xfs_ino *ip, const struct xfs_ext *m, size_t n,
                   uint64_t root_lblk, unsigned fsbs, uint32_t hash, uint16_t leaf_magic,
                   uint8_t *buf, uint64_t *leaf_lblk, const char *what)
{
    uint64_t lblk = root_lblk;
    unsigned prev = DA_MAXDEPTH + 1, hdr = x->v5 ? 64 : 16;
    size_t bsz = (size_t)fsbs << x->blocklog;
    for (;;) {
        int mg = xfs_da_read(x, ip, m, n, lblk, fsbs, buf, what);
        if (mg < 0)
            return mg;
        if (mg == leaf_magic) {
            *leaf_lblk = lblk;
            return 0;
        }
        if (mg != (x->v5 ? M_NODE_3 : M_NODE_2))
            return xfs_corrupt("%s: block %llu: bad magic 0x%x", what, (unsigned long long)lblk,
                               (unsigned)mg);
        unsigned cnt = gk_be16(buf + hdr - (x->v5 ? 8 : 4));
        unsigned level = gk_be16(buf + hdr - (x->v5 ? 6 : 2));
        if (level == 0 || level >= prev || cnt == 0 || hdr + (size_t)cnt * 8 > bsz)
            return xfs_corrupt("%s: block %llu: bad btree node", what, (unsigned long long)lblk);
        /* the first entry whose hash is at least ours leads to it (entries
         * hold the last hash under them); past the last, the last */
        unsigned i = 0;
        while (i + 1 < cnt && gk_be32(buf + hdr + 8 * i) < hash)
            i++;
        lblk = gk_be32(buf + hdr + 8 * i + 4);
        prev = level;
    }
}

/* ------------------------------------------------------------------ */
/* Data blocks                                                         */

struct dir {
    struct xfs *x;
    struct xfs_ino ip;
    struct xfs_ext *m;
    size_t n;
    uint8_t *buf;           /* one directory block */
    uint64_t buf_db;        /* which data block buf holds (-1: none) */
    unsigned end;           /* end of the entries in buf */
    char what[64];
};

/* Read data block db into d->buf and check it; d->end is where its
 * entries stop (before the hash array of a block-form directory). */
static int data_read(struct dir *d, uint64_t db)
{
    struct xfs *x = d->x;
    if (d->buf_db == db)
        return 0;
    d->buf_db = (uint64_t)-1;
    uint64_t daddr;
    int r = xfs_read_fork(x, d->m, d->n, db * x->dirfsbs, x->dirfsbs, d->buf, &daddr, d->what);
    if (r < 0)
        return r;
    uint8_t *b = d->buf;
    uint32_t magic = gk_be32(b);
    int block = magic == (x->v5 ? M_BLOCK3 : M_BLOCK2);
    unsigned hdr = x->v5 ? 64 : 16;
    if (!block && magic != (x->v5 ? M_DATA3 : M_DATA2))
        return xfs_corrupt("%s: data block %llu: bad magic", d->what, (unsigned long long)db);
    if (block && db != 0)
        return xfs_corrupt("%s: block-form header in data block %llu", d->what,
                           (unsigned long long)db);
    if (x->v5) {
        char w[96];
        snprintf(w, sizeof w, "%s: data block %llu", d->what, (unsigned long long)db);
        if ((r = xfs_check_v5(x, b, x->dirbs, 4, 24, 40, d->ip.ino, 8, daddr, w)) < 0)
            return r;
    }
    d->end = x->dirbs;
    if (block) {
        uint32_t count = gk_be32(b + x->dirbs - 8);
        if (count > (x->dirbs - hdr - 8) / 8)
            return xfs_corrupt("%s: bad block-form leaf count", d->what);
        d->end = x->dirbs - 8 - count * 8;
    }
    d->buf_db = db;
    return 0;
}

/* Size of the data entry at b (inode, namelen, name, [ftype], tag,
 * padded to 8), or 0 if it does not fit in avail bytes. */
static unsigned entry_size(struct xfs *x, const uint8_t *b, unsigned avail)
{
    if (avail < 16 || b[8] == 0)
        return 0;
    unsigned sz = (8 + 1 + b[8] + (x->ftype ? 1 : 0) + 2 + 7) & ~7u;
    return sz <= avail ? sz : 0;
}

typedef int (*ent_fn)(void *opaque, const uint8_t *name, unsigned len, uint64_t ino, int ft);

/* Every entry of the data block in d->buf. */
static int data_walk(struct dir *d, ent_fn fn, void *opaque)
{
    struct xfs *x = d->x;
    const uint8_t *b = d->buf;
    unsigned pos = x->v5 ? 64 : 16;
    while (pos < d->end) {
        unsigned avail = d->end - pos;
        if (gk_be16(b + pos) == 0xffff) {
            unsigned ulen = avail >= 4 ? gk_be16(b + pos + 2) : 0;
            if (ulen < 8 || (ulen & 7) || ulen > avail)
                return xfs_corrupt("%s: data block %llu: bad free space at %u", d->what,
                                   (unsigned long long)d->buf_db, pos);
            pos += ulen;
            continue;
        }
        unsigned sz = entry_size(x, b + pos, avail);
        if (!sz)
            return xfs_corrupt("%s: data block %llu: bad entry at %u", d->what,
                               (unsigned long long)d->buf_db, pos);
        unsigned nl = b[pos + 8];
        int ft = x->ftype ? b[pos + 9 + nl] : 0;
        int r = fn(opaque, b + pos + 9, nl, gk_be64(b + pos), ft);
        if (r)
            return r;
        pos += sz;
    }
    return 0;
}

/* Every data block (the blocks below the leaf offset), each once. */
static int data_blocks(struct dir *d, ent_fn fn, void *opaque)
{
    struct xfs *x = d->x;
    uint64_t next = 0;            /* first directory block not done */
    unsigned shift = 0;
    while ((1u << shift) < x->dirfsbs)
        shift++;
    for (size_t i = 0; i < d->n; i++) {
        const struct xfs_ext *e = &d->m[i];
        if (e->off >= x->leaf_lblk)
            break;
        uint64_t end = e->off + e->len < x->leaf_lblk ? e->off + e->len : x->leaf_lblk;
        uint64_t db = e->off >> shift, last = (end - 1) >> shift;
        if (db < next)
            db = next;
        for (; db <= last; db++) {
            int r = data_read(d, db);
            if (r == 0)
                r = data_walk(d, fn, opaque);
            if (r)
                return r < 0 ? r : 0;
            next = db + 1;
        }
    }
    return 0;
}

static int dir_open(struct xfs *x, uint64_t ino, struct dir *d)
{
    memset(d, 0, sizeof *d);
    d->x = x;
    d->buf_db = (uint64_t)-1;
    snprintf(d->what, sizeof d->what, "directory inode %llu", (unsigned long long)ino);
    int r = xfs_iget(x, ino, &d->ip);
    if (r < 0)
        return r;
    if (!S_ISDIR(d->ip.mode))
        return -ENOTDIR;
    if (d->ip.format == XFS_FMT_LOCAL)
        return 0;
    if ((r = xfs_fork_map(x, &d->ip, 0, &d->m, &d->n)) < 0)
        return r;
    d->buf = gk_malloc(x->dirbs);
    return 0;
}

static void dir_close(struct dir *d)
{
    free(d->m);
    free(d->buf);
}

/* ------------------------------------------------------------------ */
/* Shortform                                                           */

/* Every entry of a shortform directory; *parent set. */
static int sf_walk(struct dir *d, uint64_t *parent, ent_fn fn, void *opaque)
{
    struct xfs *x = d->x;
    const uint8_t *p = d->ip.raw + d->ip.doff;
    size_t len = (size_t)d->ip.size;     /* <= the fork size (iget) */
    if (len < 6)
        return xfs_corrupt("%s: shortform directory too small", d->what);
    unsigned count = p[0], isz = p[1] ? 8 : 4;
    size_t pos = 2 + isz;
    if (pos > len)
        return xfs_corrupt("%s: shortform directory too small", d->what);
    *parent = isz == 8 ? gk_be64(p + 2) : gk_be32(p + 2);
    for (unsigned i = 0; i < count; i++) {
        if (pos + 3 > len)
            return xfs_corrupt("%s: shortform entry %u past the end", d->what, i);
        unsigned nl = p[pos];
        size_t sz = 3 + nl + (x->ftype ? 1 : 0) + isz;
        if (nl == 0 || pos + sz > len)
            return xfs_corrupt("%s: bad shortform entry %u", d->what, i);
        const uint8_t *q = p + pos + 3 + nl + (x->ftype ? 1 : 0);
        int r = fn(opaque, p + pos + 3, nl, isz == 8 ? gk_be64(q) : gk_be32(q),
                   x->ftype ? p[pos + 3 + nl] : 0);
        if (r)
            return r < 0 ? r : 0;
        pos += sz;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* readdir                                                             */

struct rd {
    gk_readdir_cb cb;
    void *opaque;
};

static int rd_fn(void *opaque, const uint8_t *name, unsigned len, uint64_t ino, int ft)
{
    struct rd *rd = opaque;
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return 0;
    char s[256];
    memcpy(s, name, len);
    s[len] = 0;
    return rd->cb(rd->opaque, s, ino, ft_to_dt(ft)) ? 1 : 0;
}

int xfs_readdir(gk_fs *fs, uint64_t ino, gk_readdir_cb cb, void *opaque)
{
    struct dir d;
    struct rd rd = {cb, opaque};
    int r = dir_open(fs->priv, ino, &d);
    if (r == 0) {
        uint64_t parent;
        if (d.ip.format == XFS_FMT_LOCAL)
            r = sf_walk(&d, &parent, rd_fn, &rd);
        else
            r = data_blocks(&d, rd_fn, &rd);
    }
    dir_close(&d);
    return r < 0 ? r : 0;
}

/* ------------------------------------------------------------------ */
/* lookup                                                              */

struct lk {
    struct xfs *x;
    const uint8_t *name;
    unsigned len;
    uint64_t ino;
    int found;           /* 2: exact, 1: a case-insensitive match */
};

static int ci_fold(int c)
{
    /* ASCII case-insensitive directories fold A-Z and Latin-1 capitals */
    if ((c >= 'A' && c <= 'Z') || (c >= 0xc0 && c <= 0xde && c != 0xd7))
        return c + 0x20;
    return c;
}

static int name_match(struct lk *k, const uint8_t *name, unsigned len)
{
    if (len != k->len)
        return 0;
    if (memcmp(name, k->name, len) == 0)
        return 2;
    if (!k->x->ci)
        return 0;
    for (unsigned i = 0; i < len; i++)
        if (ci_fold(name[i]) != ci_fold(k->name[i]))
            return 0;
    return 1;
}

static int lk_fn(void *opaque, const uint8_t *name, unsigned len, uint64_t ino, int ft)
{
    (void)ft;
    struct lk *k = opaque;
    int m = name_match(k, name, len);
    if (m > k->found) {
        k->found = m;
        k->ino = ino;
    }
    return k->found == 2;
}

/* The entry at data address addr (offset in the data space / 8). */
static int check_addr(struct dir *d, struct lk *k, uint32_t addr)
{
    struct xfs *x = d->x;
    uint64_t byte = (uint64_t)addr << 3;
    uint64_t db = byte / x->dirbs;
    unsigned off = (unsigned)(byte % x->dirbs);
    if (db >= x->leaf_lblk / x->dirfsbs)
        return xfs_corrupt("%s: hash index points outside the data", d->what);
    int r = data_read(d, db);
    if (r < 0)
        return r;
    if (off < (x->v5 ? 64u : 16u) || off >= d->end || gk_be16(d->buf + off) == 0xffff ||
        !entry_size(x, d->buf + off, d->end - off))
        return xfs_corrupt("%s: hash index points to no entry", d->what);
    return lk_fn(k, d->buf + off + 9, d->buf[off + 8], gk_be64(d->buf + off), 0);
}

/* Hash entries (hash, address) from ents[0..cnt): check those with our
 * hash.  1 when found, 2 when the array ended still on our hash (the next
 * leaf may hold more), 0 otherwise. */
static int search_ents(struct dir *d, struct lk *k, const uint8_t *ents, unsigned cnt,
                       uint32_t hash)
{
    unsigned lo = 0, hi = cnt;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (gk_be32(ents + 8 * mid) < hash)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (unsigned i = lo; i < cnt; i++) {
        if (gk_be32(ents + 8 * i) != hash)
            return 0;
        uint32_t addr = gk_be32(ents + 8 * i + 4);
        if (addr == 0)          /* stale */
            continue;
        int r = check_addr(d, k, addr);
        if (r < 0 || k->found)
            return r < 0 ? r : 1;
    }
    return 2;
}

static int hashed_lookup(struct dir *d, struct lk *k)
{
    struct xfs *x = d->x;
    uint32_t hash = xfs_da_hashname(k->name, k->len);
    int r = data_read(d, 0);
    if (r < 0)
        return r;
    if (d->end < x->dirbs) {
        /* block form: the hash array sits between the entries and the tail;
         * copy it, check_addr reuses the buffer */
        unsigned cnt = gk_be32(d->buf + x->dirbs - 8);
        uint8_t *ents = gk_malloc((size_t)cnt * 8 + 1);
        memcpy(ents, d->buf + d->end, (size_t)cnt * 8);
        r = search_ents(d, k, ents, cnt, hash);
        free(ents);
        return r < 0 ? r : 0;
    }
    uint8_t *lb = gk_malloc(x->dirbs);
    unsigned hdr = x->v5 ? 64 : 16;
    uint64_t lblk = x->leaf_lblk;
    int mg = xfs_da_read(x, &d->ip, d->m, d->n, lblk, x->dirfsbs, lb, d->what);
    if (mg == (x->v5 ? M_LEAF1_3 : M_LEAF1_2)) {
        /* leaf form: hash entries, then the best-free array and its count */
        unsigned cnt = gk_be16(lb + hdr - (x->v5 ? 8 : 4));
        uint32_t bests = gk_be32(lb + x->dirbs - 4);
        if (bests > x->dirbs / 2 || hdr + (uint64_t)cnt * 8 > x->dirbs - 4 - (uint64_t)bests * 2)
            r = xfs_corrupt("%s: bad leaf block", d->what);
        else
            r = search_ents(d, k, lb + hdr, cnt, hash);
    } else if (mg >= 0) {
        /* node form: down the dabtree to the leaf, then along the leaves
         * while they go on with our hash */
        uint16_t leafn = x->v5 ? M_LEAFN_3 : M_LEAFN_2;
        r = xfs_da_descend(x, &d->ip, d->m, d->n, lblk, x->dirfsbs, hash, leafn, lb, &lblk,
                           d->what);
        struct xfs_blkset seen = {0};
        xfs_blkset_add(&seen, lblk);
        while (r == 0) {
            unsigned cnt = gk_be16(lb + hdr - (x->v5 ? 8 : 4));
            if (hdr + (uint64_t)cnt * 8 > x->dirbs) {
                r = xfs_corrupt("%s: bad leaf block", d->what);
                break;
            }
            r = search_ents(d, k, lb + hdr, cnt, hash);
            uint32_t forw = gk_be32(lb);
            if (r != 2 || forw == 0)
                break;
            if (!xfs_blkset_add(&seen, forw)) {
                r = xfs_corrupt("%s: leaf sibling loop", d->what);
                break;
            }
            lblk = forw;
            mg = xfs_da_read(x, &d->ip, d->m, d->n, lblk, x->dirfsbs, lb, d->what);
            if (mg >= 0 && mg != leafn)
                mg = xfs_corrupt("%s: leaf sibling is not a leaf", d->what);
            r = mg < 0 ? mg : 0;
        }
        xfs_blkset_free(&seen);
    } else {
        r = mg;
    }
    free(lb);
    return r < 0 ? r : 0;
}

int xfs_lookup(gk_fs *fs, uint64_t dir, const char *name, uint64_t *ino)
{
    struct xfs *x = fs->priv;
    size_t len = strlen(name);
    if (len > 255)
        return -ENAMETOOLONG;
    struct dir d;
    int r = dir_open(x, dir, &d);
    if (r == 0 && len == 1 && name[0] == '.') {
        *ino = dir;
        dir_close(&d);
        return 0;
    }
    struct lk k = {.x = x, .name = (const uint8_t *)name, .len = (unsigned)len};
    if (r < 0 || len == 0) {
        /* nothing */
    } else if (d.ip.format == XFS_FMT_LOCAL) {
        uint64_t parent;
        r = sf_walk(&d, &parent, lk_fn, &k);
        if (r == 0 && len == 2 && name[0] == '.' && name[1] == '.') {
            k.ino = parent;
            k.found = 2;
        }
    } else if (x->ci) {
        /* case-insensitive: the hash folds case too; a full scan finds the
         * exact name before any other spelling */
        r = data_blocks(&d, lk_fn, &k);
    } else {
        r = hashed_lookup(&d, &k);
    }
    dir_close(&d);
    if (r < 0)
        return r;
    if (!k.found)
        return -ENOENT;
    *ino = k.ino;
    return 0;
}
