/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* XFS, read-only: the superblock, mounting, getattr, statvfs and the
 * driver record.  The other parts: fs/xfs-inode.c (metadata cache, inodes,
 * block maps, file data, symlinks), fs/xfs-dir.c, fs/xfs-attr.c,
 * fs/xfs-log.c; fs/xfs-int.h joins them.
 *
 * No Debian library reads XFS (libxfs is internal to xfsprogs), so this is
 * our own parser of the on-disk format: v4 and v5 (CRC) superblocks, inodes
 * v1-v3 with big timestamps and 64-bit extent counters, every directory and
 * attribute format.  v5 metadata is verified (crc32c from libext2fs, UUID,
 * owner, disk address) as it is read.
 *
 * The log is not replayed.  A log that needs recovery gets a warning and
 * the filesystem is read as it is on disk, as xfs_db does: replaying XFS
 * logical log items (inode, buffer, intent items) in memory would be a
 * second implementation of the kernel's recovery, so we choose not to;
 * what the last transactions changed may be missing.
 *
 * Threading: one thread at a time per gk_fs (the metadata cache and the
 * one-file map cache are unlocked).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <ext2fs/ext2fs.h>

#include "xfs-int.h"

/* ------------------------------------------------------------------ */
/* Helpers shared by the parts                                         */

int xfs_corrupt(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gk_error("%s", msg);
    return -EUCLEAN;
}

int xfs_crc_ok(const uint8_t *buf, size_t len, size_t crc_off)
{
    static const unsigned char zero[4];
    if (crc_off + 4 > len)
        return 0;
    uint32_t c = ext2fs_crc32c_le(~0u, buf, crc_off);
    c = ext2fs_crc32c_le(c, zero, 4);
    c = ext2fs_crc32c_le(c, buf + crc_off + 4, len - crc_off - 4);
    return ~c == gk_le32(buf + crc_off);
}

int xfs_check_v5(struct xfs *x, const uint8_t *b, size_t len, size_t crc_off, size_t uuid_off,
                 long owner_off, uint64_t owner, size_t blkno_off, uint64_t daddr,
                 const char *what)
{
    if (!xfs_crc_ok(b, len, crc_off)) {
        gk_error("%s: bad checksum", what);
        return -EBADMSG;
    }
    if (memcmp(b + uuid_off, x->uuid, 16) != 0)
        return xfs_corrupt("%s: belongs to another filesystem (UUID mismatch)", what);
    if (owner_off >= 0 && gk_be64(b + owner_off) != owner)
        return xfs_corrupt("%s: owner is inode %llu, not %llu", what,
                           (unsigned long long)gk_be64(b + owner_off), (unsigned long long)owner);
    if (gk_be64(b + blkno_off) != daddr)
        return xfs_corrupt("%s: written for disk address %llu, found at %llu", what,
                           (unsigned long long)gk_be64(b + blkno_off), (unsigned long long)daddr);
    return 0;
}

/* The directory and attribute name hash: seven-bit rotations, four bytes
 * at a time. */
static uint32_t rol32(uint32_t v, unsigned s)
{
    return v << s | v >> (32 - s);
}

uint32_t xfs_da_hashname(const uint8_t *p, size_t len)
{
    uint32_t h = 0;
    for (; len >= 4; len -= 4, p += 4)
        h = (uint32_t)p[0] << 21 ^ (uint32_t)p[1] << 14 ^ (uint32_t)p[2] << 7 ^ p[3] ^ rol32(h, 28);
    switch (len) {
    case 3: return (uint32_t)p[0] << 14 ^ (uint32_t)p[1] << 7 ^ p[2] ^ rol32(h, 21);
    case 2: return (uint32_t)p[0] << 7 ^ p[1] ^ rol32(h, 14);
    case 1: return p[0] ^ rol32(h, 7);
    default: return h;
    }
}

/* ------------------------------------------------------------------ */
/* getattr                                                             */

static int xfs_getattr(gk_fs *fs, uint64_t ino, gk_stat *st)
{
    struct xfs *x = fs->priv;
    struct xfs_ino ip;
    int r = xfs_iget_raw(x, ino, &ip);   /* the VFS names the inode */
    if (r < 0)
        return r;
    memset(st, 0, sizeof *st);
    st->ino = ino;
    st->mode = ip.mode;
    st->nlink = ip.nlink;
    st->uid = ip.uid;
    st->gid = ip.gid;
    st->size = ip.size;
    st->blocks = ip.nblocks << (x->blocklog - 9);
    st->blksize = x->bs > 4096 ? x->bs : 4096;
    if (S_ISCHR(ip.mode) || S_ISBLK(ip.mode))
        st->rdev = makedev((ip.rdev >> 18) & 0x1ff, ip.rdev & 0x3ffff);
    st->atime = ip.atime;
    st->mtime = ip.mtime;
    st->ctime = ip.ctime;
    if (ip.has_crtime)
        st->crtime = ip.crtime;
    return 0;
}

/* ------------------------------------------------------------------ */
/* statvfs: what the kernel's statfs answers on a read-only mount      */

/* Blocks per AG the kernel withholds for refilling the free list (the
 * AGFL reserve) and a bmap btree split. */
#define XFS_SET_ASIDE_PER_AG 8

/* The kernel recomputes the summary counters from the AG headers when the
 * superblock's cannot be trusted (lazy counters after an unclean shutdown,
 * or values out of range); reading the AGFs then also makes it withhold
 * the free-space btree blocks.  Same here. */
static int sum_ag_counters(struct xfs *x)
{
    uint64_t fd = 0, ic = 0, ifr = 0, abt = 0;
    uint8_t s[512];
    for (uint32_t ag = 0; ag < x->agcount; ag++) {
        /* AGF in the second sector, AGI in the third (sectors of sb_sectsize) */
        uint64_t base = (uint64_t)ag * x->agblocks << x->blocklog;
        if (gk_pread(x->dev, s, sizeof s, base + x->sectsize) < 0)
            return -EIO;
        if (gk_be32(s) != 0x58414746u)
            return xfs_corrupt("AG %u: bad AGF magic", ag);
        uint32_t freeblks = gk_be32(s + 52), flcount = gk_be32(s + 48), btree = gk_be32(s + 60);
        fd += (uint64_t)freeblks + flcount + btree;
        abt += btree;
        if (gk_pread(x->dev, s, sizeof s, base + 2 * (uint64_t)x->sectsize) < 0)
            return -EIO;
        if (gk_be32(s) != 0x58414749u)
            return xfs_corrupt("AG %u: bad AGI magic", ag);
        ic += gk_be32(s + 16);
        ifr += gk_be32(s + 28);
    }
    x->fdblocks = fd;
    x->icount = ic;
    x->ifree = ifr;
    x->allocbt = abt;
    return 0;
}

static int xfs_statvfs(gk_fs *fs, gk_statvfs *sv)
{
    struct xfs *x = fs->priv;
    if (x->need_sum) {
        int r = sum_ag_counters(x);
        if (r < 0)
            return r;
        x->need_sum = 0;
    }
    memset(sv, 0, sizeof *sv);
    sv->bsize = sv->frsize = x->bs;
    sv->blocks = x->dblocks - (x->logstart ? x->logblocks : 0);
    uint64_t unavail = (uint64_t)x->agcount * XFS_SET_ASIDE_PER_AG + x->allocbt;
    sv->bfree = sv->bavail = x->fdblocks > unavail ? x->fdblocks - unavail : 0;
    /* inodes: those allocated, plus as many as the free blocks could hold,
     * at most imax_pct of the filesystem */
    uint64_t files = x->icount + (sv->bfree << x->inopblog);
    const uint64_t maxino = (1ull << 56) - 1;
    if (files > maxino || files < x->icount)
        files = maxino;
    if (x->imax_pct) {
        uint64_t chunkblks = (64 > x->inopblock ? 64 : x->inopblock) >> x->inopblog;
        uint64_t maxi = x->dblocks * x->imax_pct / 100 / chunkblks * chunkblks << x->inopblog;
        if (maxi && files > maxi)
            files = maxi;
    }
    if (files < x->icount)
        files = x->icount;
    uint64_t used = x->icount - x->ifree;
    sv->files = files;
    sv->ffree = sv->favail = files > used ? files - used : 0;
    sv->namemax = 255;
    sv->flag = 1; /* ST_RDONLY */
    sv->fsid = gk_be64(x->uuid) ^ gk_be64(x->uuid + 8);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Mounting                                                            */

static void xfs_close(gk_fs *fs)
{
    struct xfs *x = fs->priv;
    xfs_cache_free(x);
    free(x->map);
    free(x);
}

static const struct gk_fs_ops xfs_ops = {
    .name = "xfs",
    .getattr = xfs_getattr,
    .lookup = xfs_lookup,
    .readdir = xfs_readdir,
    .read = xfs_read,
    .readlink = xfs_readlink,
    .statvfs = xfs_statvfs,
    .listxattr = xfs_listxattr,
    .getxattr = xfs_getxattr,
    .fmap = xfs_fmap,
    .close = xfs_close,
};

static int ilog2_exact(uint64_t v)
{
    if (v == 0 || (v & (v - 1)))
        return -1;
    int l = 0;
    while (v >>= 1)
        l++;
    return l;
}

/* v4 feature bits */
#define V_ATTR 0x0010
#define V_NLINK 0x0020
#define V_QUOTA 0x0040
#define V_ALIGN 0x0080
#define V_DALIGN 0x0100
#define V_SHARED 0x0200
#define V_LOGV2 0x0400
#define V_SECTOR 0x0800
#define V_EXTFLG 0x1000
#define V_DIRV2 0x2000
#define V_BORG 0x4000
#define V_MOREBITS 0x8000
#define V2_LAZYSB 0x02
#define V2_ATTR2 0x08
#define V2_PARENT 0x10
#define V2_PROJID32 0x80
#define V2_CRC 0x100
#define V2_FTYPE 0x200
/* v5 incompatible features */
#define I_FTYPE 0x01
#define I_SPINODES 0x02
#define I_META_UUID 0x04
#define I_BIGTIME 0x08
#define I_NEEDSREPAIR 0x10
#define I_NREXT64 0x20
#define I_EXCHRANGE 0x40
#define I_PARENT 0x80
#define I_KNOWN 0xff

/* The superblock checks of the kernel's mount, those a reader needs. */
static int parse_sb(struct xfs *x, const uint8_t *sb, size_t sblen)
{
    const char *dn = x->name;
    if (gk_be32(sb) != XFS_SB_MAGIC) {
        gk_error("%s: not an XFS filesystem", dn);
        return -EINVAL;
    }
    uint16_t ver = gk_be16(sb + 100);
    unsigned vnum = ver & 0xf;
    uint32_t f2 = (ver & V_MOREBITS) ? gk_be32(sb + 200) : 0;
    if (vnum == 5) {
        x->v5 = 1;
        if (!xfs_crc_ok(sb, sblen, 224)) {
            gk_error("%s: XFS superblock: bad checksum", dn);
            return -EBADMSG;
        }
        uint32_t inc = gk_be32(sb + 216);
        if (inc & ~(uint32_t)I_KNOWN) {
            gk_error("%s: XFS filesystem with unsupported features (incompat 0x%x)", dn,
                     inc & ~(uint32_t)I_KNOWN);
            return -EINVAL;
        }
        if (inc & I_NEEDSREPAIR)
            gk_warn("%s: the XFS filesystem is marked as needing xfs_repair", dn);
        x->ftype = !!(inc & I_FTYPE);
        x->nrext64 = !!(inc & I_NREXT64);
        x->has_parent = !!(inc & I_PARENT);
        x->bigtime = !!(inc & I_BIGTIME);
        memcpy(x->uuid, sb + ((inc & I_META_UUID) ? 248 : 32), 16);
    } else if (vnum == 4) {
        if (!(ver & V_DIRV2) || !(ver & V_EXTFLG) || (ver & V_SHARED) ||
            (f2 & ~(uint32_t)(V2_LAZYSB | V2_ATTR2 | V2_PROJID32 | V2_FTYPE))) {
            gk_error("%s: XFS v4 filesystem with unsupported features (0x%x, 0x%x)", dn, ver, f2);
            return -EINVAL;
        }
        x->ftype = !!(f2 & V2_FTYPE);
        memcpy(x->uuid, sb + 32, 16);
    } else {
        gk_error("%s: XFS version %u is not supported", dn, vnum);
        return -EINVAL;
    }
    x->ci = !!(ver & V_BORG);
    x->lazysb = x->v5 || (f2 & V2_LAZYSB);
    if (sb[126]) {
        gk_error("%s: XFS filesystem creation was not finished (sb_inprogress)", dn);
        return -EINVAL;
    }
    x->bs = gk_be32(sb + 4);
    int bl = ilog2_exact(x->bs);
    x->sectsize = gk_be16(sb + 102);
    x->isize = gk_be16(sb + 104);
    x->inopblock = gk_be16(sb + 106);
    x->agblocks = gk_be32(sb + 84);
    x->agcount = gk_be32(sb + 88);
    x->dblocks = gk_be64(sb + 8);
    x->agblklog = sb[124];
    int il = ilog2_exact(x->isize);
    unsigned dirblklog = sb[192];
    if (bl < 9 || bl > 16 || sb[120] != bl || (x->v5 && bl < 10) ||
        ilog2_exact(x->sectsize) < 9 || x->sectsize > 32768 || sb[121] != ilog2_exact(x->sectsize) ||
        il < 8 || il > 11 || sb[122] != il || (x->v5 && il < 9) || x->isize > x->bs ||
        x->inopblock != x->bs / x->isize || sb[123] != bl - il ||
        x->agblocks < 64 || (uint64_t)x->agblocks << bl > (1ull << 40) ||
        x->agblklog > 31 || (1ull << x->agblklog) < x->agblocks ||
        (x->agblklog && (1ull << (x->agblklog - 1)) >= x->agblocks) ||
        x->agcount == 0 || x->dblocks > (uint64_t)x->agcount * x->agblocks ||
        x->dblocks <= (uint64_t)(x->agcount - 1) * x->agblocks ||
        bl + dirblklog > 16 || sb[127] > 100) {
        gk_error("%s: corrupt XFS superblock (geometry)", dn);
        return -EINVAL;
    }
    x->blocklog = (uint32_t)bl;
    x->inodelog = (uint32_t)il;
    x->inopblog = (uint32_t)(bl - il);
    x->dirfsbs = 1u << dirblklog;
    x->dirbs = x->bs << dirblklog;
    x->imax_pct = sb[127];
    /* where directory leaves and free-space blocks live: 32 and 64 GiB */
    x->leaf_lblk = (32ull << 30) >> bl;
    x->free_lblk = (64ull << 30) >> bl;
    /* inodes are read a cluster at a time: 8 KiB per 256 bytes of inode */
    uint64_t cl = (8192ull * x->isize / 256) >> bl;
    x->clusterfsbs = cl < 1 ? 1 : (uint32_t)cl;
    x->rootino = gk_be64(sb + 56);
    x->logstart = gk_be64(sb + 48);
    x->logblocks = gk_be32(sb + 96);
    x->icount = gk_be64(sb + 128);
    x->ifree = gk_be64(sb + 136);
    x->fdblocks = gk_be64(sb + 144);
    if (x->logstart) {
        uint64_t lb;
        if (x->logblocks == 0 || xfs_fsb_byte(x, x->logstart, x->logblocks, &lb) < 0) {
            gk_error("%s: corrupt XFS superblock (log location)", dn);
            return -EINVAL;
        }
    }
    if (gk_be64(sb + 16)) /* sb_rblocks */
        gk_debug("%s: XFS with a realtime device: realtime files cannot be read", dn);
    return 0;
}

/* The kernel's XFS mount options: accepted and without effect here (they
 * steer allocation, quotas, the log of a writable mount; norecovery is
 * what we do anyway).  Anything else is refused. */
static int check_options(gk_dev *dev, const char *options)
{
    static const char *const flags[] = {
        "norecovery", "nouuid", "inode32", "inode64", "attr2", "noattr2", "ikeep", "noikeep",
        "largeio", "nolargeio", "swalloc", "wsync", "noalign", "grpid", "nogrpid", "bsdgroups",
        "sysvgroups", "filestreams", "discard", "nodiscard", "dax", "quota", "noquota",
        "usrquota", "grpquota", "prjquota", "uquota", "gquota", "pquota", "uqnoenforce",
        "gqnoenforce", "pqnoenforce", "qnoenforce",
    };
    static const char *const values[] = {
        "logbufs=", "logbsize=", "allocsize=", "sunit=", "swidth=", "dax=",
    };
    if (!options || !*options)
        return 0;
    char *copy = gk_strdup(options), *save = NULL;
    int r = 0;
    for (char *o = strtok_r(copy, ",", &save); o && r == 0; o = strtok_r(NULL, ",", &save)) {
        int known = 0;
        for (size_t i = 0; i < sizeof flags / sizeof flags[0] && !known; i++)
            known = strcmp(o, flags[i]) == 0;
        for (size_t i = 0; i < sizeof values / sizeof values[0] && !known; i++)
            known = strncmp(o, values[i], strlen(values[i])) == 0;
        if (!known) {
            gk_error("%s: unknown XFS mount option \"%s\"", dev->name, o);
            r = -EINVAL;
        }
    }
    free(copy);
    return r;
}

static const char *const xfs_types[] = {"xfs", NULL};

static int xfs_probe(gk_dev *dev)
{
    uint8_t m[4];
    return dev->size >= 4096 && gk_pread(dev, m, 4, 0) == 0 && gk_be32(m) == XFS_SB_MAGIC;
}

static int xfs_open(gk_dev *dev, const gk_fs_open_args *a, gk_fs **out)
{
    if (a->rw) {
        gk_error("%s: writing XFS filesystems is not supported", dev->name);
        return -EROFS;
    }
    int r = check_options(dev, a->options);
    if (r < 0)
        return r;
    if (dev->size < 512) {
        gk_error("%s: not an XFS filesystem", dev->name);
        return -EINVAL;
    }
    struct xfs *x = gk_calloc(1, sizeof *x);
    x->dev = dev;
    x->name = dev->name;
    uint8_t sb[512];
    if (gk_pread(dev, sb, sizeof sb, 0) < 0) {
        r = -EIO;
        goto fail;
    }
    /* the CRC covers one sector; read the whole of it for v5 */
    size_t ssz = gk_be16(sb + 102);
    uint8_t *sbuf = sb;
    if ((gk_be16(sb + 100) & 0xf) == 5 && ssz > 512 && ssz <= 32768 && ssz <= dev->size) {
        sbuf = gk_malloc(ssz);
        if (gk_pread(dev, sbuf, ssz, 0) < 0) {
            free(sbuf);
            r = -EIO;
            goto fail;
        }
    } else {
        ssz = 512;
    }
    r = parse_sb(x, sbuf, ssz);
    if (sbuf != sb)
        free(sbuf);
    if (r < 0)
        goto fail;
    if (x->dblocks > dev->size >> x->blocklog) {
        gk_error("%s: the XFS filesystem (%llu blocks of %u bytes) is larger than its device "
                 "(%llu bytes): truncated image?", dev->name, (unsigned long long)x->dblocks,
                 x->bs, (unsigned long long)dev->size);
        r = -EINVAL;
        goto fail;
    }
    if ((r = xfs_cache_init(x)) < 0)
        goto fail;
    if (x->logstart) {
        int clean = xfs_log_clean(x);
        if (clean == 0)
            gk_warn("%s: the XFS log needs recovery (unclean shutdown); it is not replayed: "
                    "reading the filesystem as it is on disk, as xfs_db does (the latest changes "
                    "may be missing)", dev->name);
        else if (clean < 0)
            gk_warn("%s: XFS log: %s: reading the filesystem as it is on disk", dev->name,
                    gk_errmsg());
        x->log_dirty = clean != 1;
    }
    /* the kernel's rule for trusting the superblock's summary counters */
    if ((x->lazysb && x->log_dirty) || x->fdblocks > x->dblocks || x->ifree > x->icount)
        x->need_sum = 1;
    struct xfs_ino root;
    if ((r = xfs_iget(x, x->rootino, &root)) < 0) {
        gk_error_prefix("%s: root directory", dev->name);
        goto fail;
    }
    if (!S_ISDIR(root.mode)) {
        gk_error("%s: corrupt XFS filesystem: the root inode is not a directory", dev->name);
        r = -EUCLEAN;
        goto fail;
    }
    gk_fs *g = gk_fs_alloc(&xfs_ops, dev, "xfs", x);
    g->root_ino = x->rootino;
    *out = g;
    return 0;
fail:
    xfs_cache_free(x);
    free(x);
    return r;
}

const struct gk_fs_driver gk_fsdrv_xfs = {
    .name = "xfs",
    .types = xfs_types,
    .probe = xfs_probe,
    .open = xfs_open,
};
