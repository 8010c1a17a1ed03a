/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* XFS: the metadata block cache, inodes, fork mappings (extent lists and
 * bmap btrees), file data, fmap and symlinks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "xfs-int.h"

/* ------------------------------------------------------------------ */
/* Metadata cache: fixed slots of one fs block, clock replacement      */

#define XFS_CACHE_BYTES (8u << 20)
#define XFS_CACHE_BUCKETS 1024u

int xfs_cache_init(struct xfs *x)
{
    struct xfs_cache *c = &x->cache;
    unsigned n = XFS_CACHE_BYTES >> x->blocklog;
    if (n < 64)
        n = 64;
    if (n > 4096)
        n = 4096;
    c->nslots = n;
    c->hand = 0;
    c->s = gk_calloc(n, sizeof *c->s);
    c->bucket = gk_malloc(XFS_CACHE_BUCKETS * sizeof *c->bucket);
    for (unsigned i = 0; i < XFS_CACHE_BUCKETS; i++)
        c->bucket[i] = -1;
    c->scratch = gk_malloc((size_t)x->clusterfsbs << x->blocklog);
    return 0;
}

void xfs_cache_free(struct xfs *x)
{
    struct xfs_cache *c = &x->cache;
    for (unsigned i = 0; c->s && i < c->nslots; i++)
        free(c->s[i].data);
    free(c->s);
    free(c->bucket);
    free(c->scratch);
    memset(c, 0, sizeof *c);
}

static unsigned chash(uint64_t blk)
{
    return (unsigned)((blk * 0x9e3779b97f4a7c15ull) >> 40) & (XFS_CACHE_BUCKETS - 1);
}

static int cfind(struct xfs_cache *c, uint64_t blk)
{
    for (int i = c->bucket[chash(blk)]; i >= 0; i = c->s[i].next)
        if (c->s[i].blk == blk)
            return i;
    return -1;
}

/* A free slot (its memory allocated on first use): the clock hand skips
 * recently used ones once. */
static int cvictim(struct xfs *x)
{
    struct xfs_cache *c = &x->cache;
    for (;;) {
        unsigned i = c->hand;
        c->hand = (c->hand + 1) % c->nslots;
        struct xfs_cslot *s = &c->s[i];
        if (s->valid && s->ref) {
            s->ref = 0;
            continue;
        }
        if (s->valid) {
            int *p = &c->bucket[chash(s->blk)];
            while (*p != (int)i)
                p = &c->s[*p].next;
            *p = s->next;
            s->valid = 0;
        }
        if (!s->data)
            s->data = gk_malloc(x->bs);
        return (int)i;
    }
}

static void cinsert(struct xfs_cache *c, int i, uint64_t blk)
{
    unsigned h = chash(blk);
    c->s[i].blk = blk;
    c->s[i].valid = 1;
    c->s[i].ref = 1;
    c->s[i].next = c->bucket[h];
    c->bucket[h] = i;
}

int xfs_fsb_byte(struct xfs *x, uint64_t fsbno, uint64_t n, uint64_t *byte)
{
    uint64_t agno = fsbno >> x->agblklog;
    uint64_t agbno = fsbno & ((1ull << x->agblklog) - 1);
    if (agno >= x->agcount || n == 0)
        return xfs_corrupt("block %llu is outside the filesystem", (unsigned long long)fsbno);
    uint64_t aglen = agno == x->agcount - 1 ? x->dblocks - agno * x->agblocks : x->agblocks;
    if (agbno >= aglen || n > aglen - agbno)
        return xfs_corrupt("blocks %llu+%llu are outside the filesystem",
                           (unsigned long long)fsbno, (unsigned long long)n);
    *byte = (agno * x->agblocks + agbno) << x->blocklog;
    return 0;
}

int xfs_bread(struct xfs *x, uint64_t fsbno, unsigned ahead, const uint8_t **data)
{
    struct xfs_cache *c = &x->cache;
    int i = cfind(c, fsbno);
    if (i >= 0) {
        c->s[i].ref = 1;
        *data = c->s[i].data;
        return 0;
    }
    uint64_t byte;
    int r = xfs_fsb_byte(x, fsbno, 1, &byte);
    if (r < 0)
        return r;
    if (ahead > 1 && ahead <= x->clusterfsbs) {
        /* the aligned run around fsbno, clipped to its AG */
        uint64_t first = fsbno & ~(uint64_t)(ahead - 1);
        uint64_t cnt = ahead, b0;
        while (cnt > 1 && xfs_fsb_byte(x, first, cnt, &b0) < 0)
            cnt--;
        if (cnt > 1 && fsbno < first + cnt) {
            if (gk_pread(x->dev, c->scratch, (size_t)cnt << x->blocklog, b0) < 0)
                return -EIO;
            for (uint64_t k = 0; k < cnt; k++) {
                if (cfind(c, first + k) >= 0)
                    continue;
                int j = cvictim(x);
                memcpy(c->s[j].data, c->scratch + (k << x->blocklog), x->bs);
                cinsert(c, j, first + k);
            }
            i = cfind(c, fsbno);
            *data = c->s[i].data;
            return 0;
        }
    }
    i = cvictim(x);
    uint8_t *p = c->s[i].data;
    if (gk_pread(x->dev, p, x->bs, byte) < 0)
        return -EIO;
    cinsert(c, i, fsbno);
    *data = p;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Inodes                                                              */

static struct timespec xts(const uint8_t *p, int bigtime)
{
    struct timespec ts;
    if (bigtime) {
        uint64_t v = gk_be64(p);
        ts.tv_sec = (time_t)((int64_t)(v / 1000000000u) - 2147483648ll);
        ts.tv_nsec = (long)(v % 1000000000u);
    } else {
        ts.tv_sec = (time_t)(int32_t)gk_be32(p);
        uint32_t ns = gk_be32(p + 4);
        ts.tv_nsec = ns < 1000000000u ? (long)ns : 999999999L;
    }
    return ts;
}

int xfs_iget_raw(struct xfs *x, uint64_t ino, struct xfs_ino *ip)
{
    uint64_t agno = ino >> (x->agblklog + x->inopblog);
    uint64_t agbno = (ino >> x->inopblog) & ((1ull << x->agblklog) - 1);
    if (ino == 0 || agno >= x->agcount)
        return xfs_corrupt("no such inode number");
    const uint8_t *blk;
    int r = xfs_bread(x, agno << x->agblklog | agbno, x->clusterfsbs, &blk);
    if (r < 0)
        return r;
    memset(ip, 0, offsetof(struct xfs_ino, raw));
    memcpy(ip->raw, blk + ((ino & ((1u << x->inopblog) - 1)) << x->inodelog), x->isize);
    const uint8_t *d = ip->raw;
    ip->ino = ino;
    if (gk_be16(d) != XFS_INODE_MAGIC)
        return xfs_corrupt("bad magic");
    ip->version = d[4];
    if (x->v5 ? ip->version != 3 : ip->version != 1 && ip->version != 2)
        return xfs_corrupt("bad version %u", ip->version);
    if (ip->version == 3) {
        if (!xfs_crc_ok(d, x->isize, 100)) {
            gk_error("bad checksum");
            return -EBADMSG;
        }
        if (gk_be64(d + 152) != ino)
            return xfs_corrupt("holds inode %llu", (unsigned long long)gk_be64(d + 152));
        if (memcmp(d + 160, x->uuid, 16) != 0)
            return xfs_corrupt("UUID mismatch");
    }
    ip->mode = gk_be16(d + 2);
    if (ip->mode == 0) {
        gk_error("not in use");
        return -ENOENT;
    }
    ip->format = d[5];
    ip->uid = gk_be32(d + 8);
    ip->gid = gk_be32(d + 12);
    ip->nlink = ip->version == 1 ? gk_be16(d + 6) : gk_be32(d + 16);
    ip->flags = gk_be16(d + 90);
    ip->flags2 = ip->version == 3 ? gk_be64(d + 120) : 0;
    int big = (ip->flags2 & XFS_DIFLAG2_BIGTIME) != 0;
    int nrext = (ip->flags2 & XFS_DIFLAG2_NREXT64) != 0;
    if ((big && !x->bigtime) || (nrext && !x->nrext64))
        return xfs_corrupt("flags for features the filesystem does not have");
    if (nrext) {
        ip->nextents = gk_be64(d + 24);
        ip->anextents = gk_be32(d + 76);
    } else {
        ip->nextents = gk_be32(d + 76);
        ip->anextents = gk_be16(d + 80);
    }
    ip->size = gk_be64(d + 56);
    ip->nblocks = gk_be64(d + 64);
    if (ip->size >> 63 || ip->nblocks >> 54)
        return xfs_corrupt("bad size");
    ip->atime = xts(d + 32, big);
    ip->mtime = xts(d + 40, big);
    ip->ctime = xts(d + 48, big);
    if (ip->version == 3) {
        ip->crtime = xts(d + 144, big);
        ip->has_crtime = 1;
    }
    /* the literal area after the core holds the data fork, then (from
     * forkoff * 8) the attribute fork */
    unsigned lit = ip->version == 3 ? 176 : 100, litsz = x->isize - lit;
    unsigned forkoff = d[82];
    ip->aformat = d[83];
    ip->doff = lit;
    if (forkoff) {
        if (forkoff * 8u >= litsz)
            return xfs_corrupt("bad attribute fork offset");
        ip->dlen = forkoff * 8u;
        ip->aoff = lit + ip->dlen;
        ip->alen = litsz - ip->dlen;
    } else {
        ip->dlen = litsz;
    }
    switch (ip->mode & S_IFMT) {
    case S_IFCHR: case S_IFBLK: case S_IFIFO: case S_IFSOCK:
        if (ip->format != XFS_FMT_DEV)
            return xfs_corrupt("bad data fork format");
        ip->rdev = gk_be32(d + lit);
        break;
    case S_IFREG: case S_IFDIR: case S_IFLNK:
        if (ip->format == XFS_FMT_LOCAL) {
            if (S_ISREG(ip->mode) || ip->size > ip->dlen)
                return xfs_corrupt("bad inline data");
        } else if (ip->format == XFS_FMT_EXTENTS) {
            if (ip->nextents > ip->dlen / 16)
                return xfs_corrupt("too many extents for the inode");
        } else if (ip->format != XFS_FMT_BTREE || ip->dlen < 20) {
            return xfs_corrupt("bad data fork format");
        }
        break;
    default:
        return xfs_corrupt("bad file type");
    }
    if (ip->alen) {
        if (ip->aformat == XFS_FMT_EXTENTS ? ip->anextents > ip->alen / 16
                                           : ip->aformat != XFS_FMT_LOCAL &&
                                                 (ip->aformat != XFS_FMT_BTREE || ip->alen < 20))
            return xfs_corrupt("bad attribute fork");
    }
    return 0;
}

int xfs_iget(struct xfs *x, uint64_t ino, struct xfs_ino *ip)
{
    int r = xfs_iget_raw(x, ino, ip);
    if (r < 0)
        gk_error_prefix("inode %llu", (unsigned long long)ino);
    return r;
}

/* ------------------------------------------------------------------ */
/* Fork mappings                                                       */

#define XFS_MAX_FILEOFF (1ull << 54)
#define XFS_BMBT_MAXLEVELS 16

struct mapctx {
    struct xfs *x;
    const struct xfs_ino *ip;
    int attr, rt;
    uint64_t limit;              /* records the inode claims */
    struct xfs_ext *e;
    size_t n, cap;
    uint64_t end;                /* end of the last record (fs blocks) */
    uint8_t *lvl[XFS_BMBT_MAXLEVELS];
    const char *what;
};

static int add_rec(struct mapctx *c, const uint8_t *p)
{
    uint64_t a = gk_be64(p), b = gk_be64(p + 8);
    struct xfs_ext e = {
        .unwritten = (int)(a >> 63),
        .off = (a & ~(1ull << 63)) >> 9,
        .blk = (a & 0x1ff) << 43 | b >> 21,
        .len = b & 0x1fffff,
    };
    unsigned long long n = (unsigned long long)c->ip->ino;
    if (c->n >= c->limit)
        return xfs_corrupt("inode %llu: %s: more extents than the inode counts", n, c->what);
    if (e.len == 0 || e.off >= XFS_MAX_FILEOFF || e.len > XFS_MAX_FILEOFF - e.off)
        return xfs_corrupt("inode %llu: %s: bad extent", n, c->what);
    if (e.off < c->end)
        return xfs_corrupt("inode %llu: %s: extents overlap or are out of order", n, c->what);
    uint64_t byte;
    if (!c->rt && xfs_fsb_byte(c->x, e.blk, e.len, &byte) < 0) {
        gk_error_prefix("inode %llu: %s", n, c->what);
        return -EUCLEAN;
    }
    c->end = e.off + e.len;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->e = gk_realloc(c->e, c->cap * sizeof *c->e);
    }
    c->e[c->n++] = e;
    return 0;
}

/* One bmap btree block at level (0: leaf), then its children. */
static int bmbt_walk(struct mapctx *c, uint64_t fsbno, unsigned level)
{
    struct xfs *x = c->x;
    unsigned long long n = (unsigned long long)c->ip->ino;
    const uint8_t *src;
    int r = xfs_bread(x, fsbno, 1, &src);
    if (r < 0) {
        gk_error_prefix("inode %llu: %s", n, c->what);
        return r;
    }
    if (!c->lvl[level])
        c->lvl[level] = gk_malloc(x->bs);
    uint8_t *b = c->lvl[level];
    memcpy(b, src, x->bs);
    unsigned hdr = x->v5 ? 72 : 24;
    if (gk_be32(b) != (x->v5 ? 0x424d4133u : 0x424d4150u))
        return xfs_corrupt("inode %llu: %s: bad bmap btree block magic", n, c->what);
    if (x->v5) {
        uint64_t byte;
        xfs_fsb_byte(x, fsbno, 1, &byte);
        char what[96];
        snprintf(what, sizeof what, "inode %llu: %s: bmap btree block", n, c->what);
        if ((r = xfs_check_v5(x, b, x->bs, 64, 40, 56, c->ip->ino, 24, byte >> 9, what)) < 0)
            return r;
    }
    unsigned maxrecs = (x->bs - hdr) / 16, nrecs = gk_be16(b + 6);
    if (gk_be16(b + 4) != level || nrecs == 0 || nrecs > maxrecs)
        return xfs_corrupt("inode %llu: %s: bad bmap btree block", n, c->what);
    if (level == 0) {
        for (unsigned i = 0; i < nrecs; i++)
            if ((r = add_rec(c, b + hdr + 16 * i)) < 0)
                return r;
        return 0;
    }
    for (unsigned i = 0; i < nrecs; i++) {
        /* b is this level's buffer: children use the level below */
        uint64_t child = gk_be64(b + hdr + 8 * maxrecs + 8 * i);
        if ((r = bmbt_walk(c, child, level - 1)) < 0)
            return r;
    }
    return 0;
}

int xfs_fork_map(struct xfs *x, const struct xfs_ino *ip, int attr, struct xfs_ext **out,
                 size_t *n)
{
    struct mapctx c = {
        .x = x, .ip = ip, .attr = attr,
        .rt = !attr && (ip->flags & XFS_DIFLAG_REALTIME),
        .limit = attr ? ip->anextents : ip->nextents,
        .what = attr ? "attribute fork" : "data fork",
    };
    *out = NULL;
    *n = 0;
    int fmt = attr ? ip->aformat : ip->format;
    const uint8_t *f = ip->raw + (attr ? ip->aoff : ip->doff);
    unsigned flen = attr ? ip->alen : ip->dlen;
    int r = 0;
    if (attr && !flen)
        return 0;
    if (fmt == XFS_FMT_EXTENTS) {
        for (uint64_t i = 0; i < c.limit && r == 0; i++)
            r = add_rec(&c, f + 16 * i);
    } else if (fmt == XFS_FMT_BTREE) {
        /* the root in the inode: level, count, keys, then pointers after
         * as many keys as the fork could hold */
        unsigned level = gk_be16(f), nrecs = gk_be16(f + 2), maxrecs = (flen - 4) / 16;
        if (level == 0 || level >= XFS_BMBT_MAXLEVELS || nrecs == 0 || nrecs > maxrecs)
            r = xfs_corrupt("inode %llu: %s: bad bmap btree root", (unsigned long long)ip->ino,
                            c.what);
        for (unsigned i = 0; i < nrecs && r == 0; i++)
            r = bmbt_walk(&c, gk_be64(f + 4 + 8 * maxrecs + 8 * i), level - 1);
    } else {
        return 0;
    }
    for (int i = 0; i < XFS_BMBT_MAXLEVELS; i++)
        free(c.lvl[i]);
    if (r < 0) {
        free(c.e);
        return r;
    }
    *out = c.e;
    *n = c.n;
    return 0;
}

const struct xfs_ext *xfs_map_find(const struct xfs_ext *m, size_t n, uint64_t lblk)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m[mid].off + m[mid].len <= lblk)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && m[lo].off <= lblk ? &m[lo] : NULL;
}

int xfs_read_fork(struct xfs *x, const struct xfs_ext *m, size_t n, uint64_t lblk,
                  unsigned count, uint8_t *buf, uint64_t *daddr, const char *what)
{
    for (unsigned i = 0; i < count; i++) {
        const struct xfs_ext *e = xfs_map_find(m, n, lblk + i);
        if (!e || e->unwritten)
            return xfs_corrupt("%s: block %llu is not mapped", what,
                               (unsigned long long)(lblk + i));
        uint64_t fsb = e->blk + (lblk + i - e->off), byte;
        const uint8_t *p;
        int r = xfs_fsb_byte(x, fsb, 1, &byte);
        if (r == 0)
            r = xfs_bread(x, fsb, 1, &p);
        if (r < 0) {
            gk_error_prefix("%s", what);
            return r;
        }
        if (i == 0 && daddr)
            *daddr = byte >> 9;
        memcpy(buf + ((size_t)i << x->blocklog), p, x->bs);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* File data                                                           */

/* The mapping of a regular file into the one-file cache. */
static int file_map(struct xfs *x, uint64_t ino)
{
    if (x->map_valid && x->map_ino == ino)
        return 0;
    struct xfs_ino ip;
    int r = xfs_iget(x, ino, &ip);
    if (r < 0)
        return r;
    if (S_ISDIR(ip.mode))
        return -EISDIR;
    if (!S_ISREG(ip.mode)) {
        gk_error("inode %llu is not a regular file", (unsigned long long)ino);
        return -EINVAL;
    }
    if (ip.flags & XFS_DIFLAG_REALTIME) {
        gk_error("inode %llu: its data is on the realtime device, which is not available",
                 (unsigned long long)ino);
        return -EIO;
    }
    struct xfs_ext *m;
    size_t n;
    if ((r = xfs_fork_map(x, &ip, 0, &m, &n)) < 0)
        return r;
    free(x->map);
    x->map = m;
    x->nmap = n;
    x->map_ino = ino;
    x->map_size = ip.size;
    x->map_valid = 1;
    return 0;
}

ssize_t xfs_read(gk_fs *fs, uint64_t ino, void *buf, size_t len, uint64_t off)
{
    struct xfs *x = fs->priv;
    int r = file_map(x, ino);
    if (r < 0)
        return r;
    uint64_t size = x->map_size;
    if (off >= size)
        return 0;
    if (len > size - off)
        len = (size_t)(size - off);
    uint8_t *out = buf;
    uint64_t pos = off, end = off + len;
    while (pos < end) {
        uint64_t lblk = pos >> x->blocklog;
        const struct xfs_ext *e = xfs_map_find(x->map, x->nmap, lblk);
        uint64_t run;
        if (!e || e->unwritten) {
            /* a hole (or preallocated, unwritten space) reads as zeros, up
             * to the next mapping */
            const struct xfs_ext *nx = e;
            if (!nx) {
                size_t lo = 0, hi = x->nmap;
                while (lo < hi) {
                    size_t mid = lo + (hi - lo) / 2;
                    if (x->map[mid].off <= lblk)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                nx = lo < x->nmap ? &x->map[lo] : NULL;
                run = nx ? (nx->off << x->blocklog) - pos : end - pos;
            } else {
                run = ((e->off + e->len) << x->blocklog) - pos;
            }
            if (run > end - pos)
                run = end - pos;
            memset(out + (pos - off), 0, run);
        } else {
            uint64_t byte;
            uint64_t in = pos - (e->off << x->blocklog);
            xfs_fsb_byte(x, e->blk, e->len, &byte);
            run = (e->len << x->blocklog) - in;
            if (run > end - pos)
                run = end - pos;
            if (gk_pread(x->dev, out + (pos - off), run, byte + in) < 0)
                return -EIO;
        }
        pos += run;
    }
    return (ssize_t)len;
}

int xfs_fmap(gk_fs *fs, uint64_t ino, gk_fmap **out, size_t *n)
{
    struct xfs *x = fs->priv;
    int r = file_map(x, ino);
    if (r < 0)
        return r;
    gk_fmap *v = NULL;
    size_t cnt = 0;
    uint64_t size = x->map_size;
    for (size_t i = 0; i < x->nmap; i++) {
        const struct xfs_ext *e = &x->map[i];
        if (e->unwritten)
            continue;
        uint64_t s = e->off << x->blocklog, l = e->len << x->blocklog;
        if (s >= size)
            break;
        if (l > size - s)
            l = size - s;
        if (cnt && v[cnt - 1].logical + v[cnt - 1].len == s) {
            v[cnt - 1].len += l;
            continue;
        }
        if ((cnt & (cnt - 1)) == 0 || cnt == 0)
            v = gk_realloc(v, (cnt ? cnt * 2 : 1) * sizeof *v);
        v[cnt].logical = s;
        v[cnt].len = l;
        cnt++;
    }
    *out = v;
    *n = cnt;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Symlinks                                                            */

#define XFS_SYMLINK_MAXLEN 1024

ssize_t xfs_readlink(gk_fs *fs, uint64_t ino, char *buf, size_t bufsz)
{
    struct xfs *x = fs->priv;
    struct xfs_ino ip;
    unsigned long long n = (unsigned long long)ino;
    int r = xfs_iget(x, ino, &ip);
    if (r < 0)
        return r;
    if (!S_ISLNK(ip.mode)) {
        gk_error("inode %llu is not a symbolic link", n);
        return -EINVAL;
    }
    if (ip.size == 0 || ip.size > XFS_SYMLINK_MAXLEN)
        return xfs_corrupt("inode %llu: bad symbolic link length %llu", n,
                           (unsigned long long)ip.size);
    size_t len = (size_t)ip.size;
    char target[XFS_SYMLINK_MAXLEN];
    if (ip.format == XFS_FMT_LOCAL) {
        memcpy(target, ip.raw + ip.doff, len);  /* size <= dlen checked by iget */
    } else {
        struct xfs_ext *m;
        size_t nm;
        if ((r = xfs_fork_map(x, &ip, 0, &m, &nm)) < 0)
            return r;
        /* v5: each mapping of the blocks the link needs starts with a header
         * saying which bytes it holds; its CRC covers the whole mapping */
        unsigned hdr = x->v5 ? 56 : 0;
        uint64_t need = (len + (x->bs - hdr) - 1) / (x->bs - hdr);
        uint8_t *b = gk_malloc((size_t)need << x->blocklog);
        size_t got = 0;
        char what[64];
        snprintf(what, sizeof what, "inode %llu: symbolic link", n);
        for (uint64_t lb = 0; lb < need && r == 0;) {
            const struct xfs_ext *e = xfs_map_find(m, nm, lb);
            uint64_t cnt = e ? e->off + e->len - lb : 1, daddr;
            if (cnt > need - lb)
                cnt = need - lb;
            if ((r = xfs_read_fork(x, m, nm, lb, (unsigned)cnt, b, &daddr, what)) < 0)
                break;
            size_t bytes = (size_t)cnt << x->blocklog;
            size_t want = len - got < bytes - hdr ? len - got : bytes - hdr;
            if (x->v5) {
                if (gk_be32(b) != 0x58534c4du || gk_be32(b + 4) != got || gk_be32(b + 8) != want) {
                    r = xfs_corrupt("%s: bad block header", what);
                    break;
                }
                if ((r = xfs_check_v5(x, b, bytes, 12, 16, 32, ino, 40, daddr, what)) < 0)
                    break;
            }
            memcpy(target + got, b + hdr, want);
            got += want;
            lb += cnt;
        }
        if (r == 0 && got != len)
            r = xfs_corrupt("%s: shorter than its size", what);
        free(b);
        free(m);
        if (r < 0)
            return r;
    }
    if (memchr(target, 0, len))
        return xfs_corrupt("inode %llu: symbolic link holds a NUL byte", n);
    size_t c = len < bufsz ? len : bufsz;
    memcpy(buf, target, c);
    return (ssize_t)c;
}
