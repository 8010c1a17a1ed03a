/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The write operations of the ext driver (fs/fs-int.h's write slots).
 *
 * libext2fs does the on-disk work (inode and block allocation, extent and
 * block maps, htree inserts, xattrs, checksums); what it writes goes to the
 * transaction store of fs/ext-txn.c.  Every operation is atomic: it runs
 * between op_begin and op_end, and a failure (ENOSPC half way, a corrupt
 * block found on the way) undoes everything it changed, in the store and
 * in libext2fs's memory (the filesystem is reopened from the store).  The
 * store is committed as a JBD2 transaction when it fills up, on sync and at
 * close.
 *
 * File data (the only thing not journalled, as in the kernel's ordered
 * mode) is written straight to the device into blocks that are free on the
 * device: newly allocated blocks, never blocks freed by the uncommitted
 * transaction ("pinned" until it commits), never in place (an overwrite
 * allocates new blocks and frees the old ones, so a crash shows the old
 * or the new contents, never a mixture).  bigalloc files are the exception:
 * already mapped clusters are overwritten in place.
 *
 * Refused (the filesystem is not opened for writing, with a message that
 * names the feature): quota, casefold, ea_inode, mmp, shared_blocks,
 * readonly, external journals, errors recorded, orphans, a journal we
 * cannot replay, checksum errors in the superblock, group descriptors or
 * bitmaps, free counts that disagree with the bitmaps.  Per inode: encrypted
 * and verity inodes (and names in encrypted directories) are not written.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <et/com_err.h>
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include "ext-int.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef EXT4_VERITY_FL
#define EXT4_VERITY_FL 0x00100000
#endif
#define MAX_EXTENT_LEN 32768u           /* blocks in an initialized extent */
#define MAX_WALK_UP 4096                /* ".." steps from a directory to the root */
#define DIR_MAX_BLOCKS (1u << 24)       /* a directory bigger than this is corrupt */
#define COMMIT_INTERVAL 5               /* seconds, as the kernel's default */

struct extw {
    gk_dev *dev;
    struct gk_txn *txn;
    int started;                  /* journal replayed, needs_recovery set */
    int broken;                   /* a commit failed: no more writes */
    int warned;                   /* the ext2 note was printed */
    ext2fs_block_bitmap pinmap;   /* blocks freed by the open transaction */
    uint64_t npinned;
    struct pin { blk64_t blk; blk64_t n; } *oppins;   /* pinned by this operation */
    size_t noppins, capoppins;
    uint8_t *gdirty;              /* groups whose bitmaps changed in this operation */
    dgrp_t *glist;
    size_t nglist;
    uint8_t *gd_shadow;           /* the descriptors as the store holds them */
    size_t gd_bytes;
    size_t commit_at;             /* store size that makes op_begin commit */
    time_t first_change;          /* when the store got its first block */
    uint64_t chunk;               /* bytes of data per operation of a large write */
    uint64_t orphan;              /* a large file's last link went: its blocks go
                                   * after the operation, in steps (run_op) */
    int in_orphan;
    uint32_t hint_dir;            /* where the last removal found its name */
    uint64_t hint_lblk;
    struct widx {                 /* name -> position in one big directory */
        uint64_t dir;
        int valid;
        struct wslot { uint32_t hash, ino, lblk, off, name; uint16_t len; } *tab;
        size_t cap, n;
        char *names;
        size_t nlen, ncap;
    } widx;
};

static void widx_drop(struct extw *w)
{
    free(w->widx.tab);
    free(w->widx.names);
    memset(&w->widx, 0, sizeof w->widx);
}

int gk_extw_write_range(struct ext *ex, uint64_t ino, const void *buf, size_t len, uint64_t off);

/* ------------------------------------------------------------------ */
/* Errors                                                              */

/* libext2fs error -> errno. */
static int xerr(errcode_t err)
{
    switch (err) {
    case 0: return 0;
    case EXT2_ET_BLOCK_ALLOC_FAIL:
    case EXT2_ET_INODE_ALLOC_FAIL:
    case EXT2_ET_EA_NO_SPACE:
    case EXT2_ET_DIR_NO_SPACE:
    case EXT2_ET_INLINE_DATA_NO_SPACE:
        return ENOSPC;
    case EXT2_ET_FILE_TOO_BIG:
    case EXT2_ET_EXTENT_NOT_SUPPORTED:
        return EFBIG;
    case EXT2_ET_NO_MEMORY:
        return ENOMEM;
    case EXT2_ET_EA_KEY_NOT_FOUND:
        return ENODATA;
    case EXT2_ET_FILE_NOT_FOUND:
        return ENOENT;
    case EXT2_ET_FILE_EXISTS:
    case EXT2_ET_DIR_EXISTS:
        return EEXIST;
    case EXT2_ET_RO_FILSYS:
        return EROFS;
    default:
        if (err > 0 && err < 4096)   /* a plain errno */
            return (int)err;
        return EIO;
    }
}

static int efail(errcode_t err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int efail(errcode_t err, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    int eno = xerr(err);
    if (eno == ENOSPC)
        return gk_ext_fail(0, eno, "%s: %s", what, strerror(ENOSPC));
    return gk_ext_fail(err, eno, "%s", what);
}

static int pfail(int eno, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int pfail(int eno, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return gk_ext_fail(0, eno, "%s: %s", what, strerror(eno));
}

/* ------------------------------------------------------------------ */
/* Inodes, times                                                       */

#define FITS(in, field) \
    (offsetof(struct ext2_inode_large, field) + sizeof((in)->field) <= \
     EXT2_GOOD_OLD_INODE_SIZE + (size_t)(in)->i_extra_isize)

/* Read an inode for changing it: checksum errors are not tolerated. */
static int get_inode(struct ext *ex, uint64_t ino, struct ext2_inode_large *in)
{
    if (ino == 0 || ino > ex->fs->super->s_inodes_count)
        return pfail(ENOENT, "inode %llu", (unsigned long long)ino);
    memset(in, 0, sizeof *in);
    errcode_t err = ext2fs_read_inode_full(ex->fs, (ext2_ino_t)ino, (struct ext2_inode *)in,
                                           sizeof *in);
    if (err == EXT2_ET_INODE_CSUM_INVALID)
        return gk_ext_fail(0, EIO, "inode %llu: checksum does not match (run e2fsck)",
                           (unsigned long long)ino);
    if (err)
        return efail(err, "inode %llu", (unsigned long long)ino);
    unsigned isz = EXT2_INODE_SIZE(ex->fs->super);
    unsigned extra = isz > EXT2_GOOD_OLD_INODE_SIZE ? in->i_extra_isize : 0;
    if (extra > isz - EXT2_GOOD_OLD_INODE_SIZE || extra > sizeof *in - EXT2_GOOD_OLD_INODE_SIZE ||
        extra % 4)
        return gk_ext_fail(0, EIO, "inode %llu: corrupt i_extra_isize %u (run e2fsck)",
                           (unsigned long long)ino, extra);
    in->i_extra_isize = (uint16_t)extra;
    memset((char *)in + EXT2_GOOD_OLD_INODE_SIZE + extra, 0,
           sizeof *in - EXT2_GOOD_OLD_INODE_SIZE - extra);
    return 0;
}

/* Write back only the part of the inode that is ours (128 + i_extra_isize
 * bytes): in-inode xattrs follow it. */
static int put_inode(struct ext *ex, uint64_t ino, struct ext2_inode_large *in)
{
    unsigned isz = EXT2_INODE_SIZE(ex->fs->super);
    int len = isz > EXT2_GOOD_OLD_INODE_SIZE ? EXT2_GOOD_OLD_INODE_SIZE + in->i_extra_isize
                                             : EXT2_GOOD_OLD_INODE_SIZE;
    errcode_t err = ext2fs_write_inode_full(ex->fs, (ext2_ino_t)ino, (struct ext2_inode *)in, len);
    if (err)
        return efail(err, "inode %llu: write", (unsigned long long)ino);
    return 0;
}

static struct timespec now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts;
}

/* The kernel's encoding: low 32 bits of the seconds in the base field,
 * bits 32-33 and the nanoseconds in the extra field when there is one. */
static void encode_time(const struct timespec *ts, uint32_t *base, uint32_t *extra, int has_extra)
{
    int64_t sec = (int64_t)ts->tv_sec;
    *base = (uint32_t)sec;
    if (has_extra)
        *extra = (uint32_t)(((sec - (int32_t)(uint32_t)sec) >> 32) & 3) |
                 ((uint32_t)ts->tv_nsec << 2);
}

enum { T_A = 1, T_M = 2, T_C = 4, T_CR = 8 };

static void set_times(struct ext2_inode_large *in, int which, const struct timespec *ts)
{
    if (which & T_A)
        encode_time(ts, &in->i_atime, &in->i_atime_extra, FITS(in, i_atime_extra));
    if (which & T_M)
        encode_time(ts, &in->i_mtime, &in->i_mtime_extra, FITS(in, i_mtime_extra));
    if (which & T_C)
        encode_time(ts, &in->i_ctime, &in->i_ctime_extra, FITS(in, i_ctime_extra));
    if ((which & T_CR) && FITS(in, i_crtime))
        encode_time(ts, &in->i_crtime, &in->i_crtime_extra, FITS(in, i_crtime_extra));
}

/* Can this inode be changed at all (data: its contents or size)?  A verity
 * file's data is sealed (its Merkle tree lies past i_size), but as in the
 * kernel its owner, mode, times, xattrs and names may change.  The refusal
 * names the feature (EOPNOTSUPP keeps the message; EPERM would print as its
 * bare text). */
static int check_changeable(struct ext *ex, uint64_t ino, const struct ext2_inode_large *in, int data)
{
    (void)ex;
    if (in->i_links_count == 0 && in->i_mode == 0)
        return pfail(ENOENT, "inode %llu", (unsigned long long)ino);
    if (in->i_flags & EXT4_ENCRYPT_FL)
        return gk_ext_fail(0, EOPNOTSUPP, "inode %llu is encrypted (the encrypt feature): "
                           "it cannot be changed without its key", (unsigned long long)ino);
    if (data && (in->i_flags & EXT4_VERITY_FL))
        return gk_ext_fail(0, EOPNOTSUPP, "inode %llu is a verity file (the verity feature): "
                           "its contents cannot be changed", (unsigned long long)ino);
    if (in->i_flags & EXT2_IMMUTABLE_FL)
        return gk_ext_fail(0, EPERM, "inode %llu is immutable: %s", (unsigned long long)ino,
                           strerror(EPERM));
    return 0;
}

/* A directory whose names are to change. */
static int get_dir(struct ext *ex, uint64_t dir, struct ext2_inode_large *in)
{
    int r = get_inode(ex, dir, in);
    if (r < 0)
        return r;
    if (!LINUX_S_ISDIR(in->i_mode))
        return pfail(ENOTDIR, "inode %llu", (unsigned long long)dir);
    if (in->i_links_count == 0)
        return pfail(ENOENT, "directory inode %llu (removed)", (unsigned long long)dir);
    if ((r = check_changeable(ex, dir, in, 0)) < 0)
        return r;
    if (in->i_flags & EXT2_APPEND_FL)
        return gk_ext_fail(0, EPERM, "directory inode %llu is append-only: %s",
                           (unsigned long long)dir, strerror(EPERM));
    if (in->i_flags & EXT4_CASEFOLD_FL)
        return gk_ext_fail(0, EOPNOTSUPP, "directory inode %llu is case-insensitive (the casefold "
                           "feature): names cannot be changed", (unsigned long long)dir);
    return 0;
}

static int check_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || strchr(name, '/'))
        return pfail(EINVAL, "\"%s\"", name);
    if (len > EXT2_NAME_LEN)
        return pfail(ENAMETOOLONG, "%.64s...", name);
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return pfail(EINVAL, "\"%s\"", name);
    return 0;
}

static int mode_ft(uint32_t mode)
{
    switch (mode & LINUX_S_IFMT) {
    case LINUX_S_IFREG: return EXT2_FT_REG_FILE;
    case LINUX_S_IFDIR: return EXT2_FT_DIR;
    case LINUX_S_IFCHR: return EXT2_FT_CHRDEV;
    case LINUX_S_IFBLK: return EXT2_FT_BLKDEV;
    case LINUX_S_IFIFO: return EXT2_FT_FIFO;
    case LINUX_S_IFSOCK: return EXT2_FT_SOCK;
    case LINUX_S_IFLNK: return EXT2_FT_SYMLINK;
    default: return EXT2_FT_UNKNOWN;
    }
}

static void mark_group(struct ext *ex, dgrp_t g)
{
    struct extw *w = ex->w;
    if (g >= ex->fs->group_desc_count || w->gdirty[g])
        return;
    w->gdirty[g] = 1;
    w->glist[w->nglist++] = g;
}

static void mark_inode_group(struct ext *ex, uint64_t ino)
{
    mark_group(ex, ext2fs_group_of_ino(ex->fs, (ext2_ino_t)ino));
}

/* ------------------------------------------------------------------ */
/* Allocation bookkeeping                                              */

static void pin(struct ext *ex, blk64_t blk, blk64_t n)
{
    struct extw *w = ex->w;
    ext2_filsys fs = ex->fs;
    if (!n || blk >= ext2fs_blocks_count(fs->super))
        return;
    if (n > ext2fs_blocks_count(fs->super) - blk)
        n = ext2fs_blocks_count(fs->super) - blk;
    ext2fs_mark_block_bitmap_range2(w->pinmap, blk, (unsigned)n);
    w->npinned += n;
    if (w->noppins == w->capoppins) {
        w->capoppins = w->capoppins ? w->capoppins * 2 : 64;
        w->oppins = gk_realloc(w->oppins, w->capoppins * sizeof *w->oppins);
    }
    w->oppins[w->noppins++] = (struct pin){blk, n};
}

static void mark_block_groups(struct ext *ex, blk64_t blk, blk64_t n)
{
    ext2_filsys fs = ex->fs;
    if (!n)
        return;
    dgrp_t g0 = ext2fs_group_of_blk2(fs, blk), g1 = ext2fs_group_of_blk2(fs, blk + n - 1);
    for (dgrp_t g = g0; g <= g1 && g < fs->group_desc_count; g++)
        mark_group(ex, g);
}

static void on_block_stats(ext2_filsys fs, blk64_t blk, int inuse)
{
    struct ext *ex = fs->priv_data;
    if (!ex || !ex->w)
        return;
    mark_block_groups(ex, blk, 1);
    if (inuse < 0)
        pin(ex, blk & ~(blk64_t)EXT2FS_CLUSTER_MASK(fs), EXT2FS_CLUSTER_RATIO(fs));
}

static void on_block_stats_range(ext2_filsys fs, blk64_t blk, blk_t num, int inuse)
{
    struct ext *ex = fs->priv_data;
    if (!ex || !ex->w)
        return;
    mark_block_groups(ex, blk, num);
    if (inuse < 0)
        pin(ex, blk, num);
}

/* Find free blocks for file data: never blocks the open transaction freed
 * (their old contents are still what the committed state points at). */
static errcode_t new_data_range(struct ext *ex, blk64_t goal, blk64_t len, blk64_t *pblk,
                                blk64_t *plen)
{
    struct extw *w = ex->w;
    ext2_filsys fs = ex->fs;
    blk64_t nb = ext2fs_blocks_count(fs->super);
    for (int tries = 0; tries < 1024; tries++) {
        errcode_t err = ext2fs_new_range(fs, 0, goal, len, NULL, pblk, plen);
        if (err)
            return err;
        if (*plen > len)
            *plen = len;
        if (!w->npinned)
            return 0;
        blk64_t hit;
        if (ext2fs_find_first_set_block_bitmap2(w->pinmap, *pblk, *pblk + *plen - 1, &hit) != 0)
            return 0;
        if (hit > *pblk) {
            *plen = hit - *pblk;
            return 0;
        }
        blk64_t next;
        if (ext2fs_find_first_zero_block_bitmap2(w->pinmap, hit, nb - 1, &next) != 0)
            next = fs->super->s_first_data_block;
        goal = next;
    }
    return EXT2_ET_BLOCK_ALLOC_FAIL;
}

/* ------------------------------------------------------------------ */
/* Metadata into the store at the end of each operation                */

static errcode_t store_bitmaps(struct ext *ex, dgrp_t g, uint8_t *buf)
{
    ext2_filsys fs = ex->fs;
    int csum_flag = ext2fs_has_group_desc_csum(fs);
    errcode_t err;
    if (!(csum_flag && ext2fs_bg_flags_test(fs, g, EXT2_BG_BLOCK_UNINIT))) {
        unsigned nbytes = EXT2_CLUSTERS_PER_GROUP(fs->super) / 8;
        memset(buf, 0xff, fs->blocksize);
        blk64_t start = EXT2FS_B2C(fs, fs->super->s_first_data_block) +
                        (blk64_t)g * EXT2_CLUSTERS_PER_GROUP(fs->super);
        err = ext2fs_get_block_bitmap_range2(fs->block_map, start, nbytes * 8, buf);
        if (err)
            return err;
        if (g == fs->group_desc_count - 1) {
            /* the bits past the end of the filesystem are set */
            unsigned nbits = (unsigned)EXT2FS_NUM_B2C(
                fs, (ext2fs_blocks_count(fs->super) - (uint64_t)fs->super->s_first_data_block) %
                        (uint64_t)EXT2_BLOCKS_PER_GROUP(fs->super));
            if (nbits)
                for (unsigned j = nbits; j < fs->blocksize * 8; j++)
                    ext2fs_set_bit(j, buf);
        }
        if ((err = ext2fs_block_bitmap_csum_set(fs, g, (char *)buf, (int)nbytes)) != 0)
            return err;
        ext2fs_group_desc_csum_set(fs, g);
        blk64_t blk = ext2fs_block_bitmap_loc(fs, g);
        if (blk && blk < ext2fs_blocks_count(fs->super) &&
            (err = io_channel_write_blk64(fs->io, blk, 1, buf)) != 0)
            return err;
    }
    if (!(csum_flag && ext2fs_bg_flags_test(fs, g, EXT2_BG_INODE_UNINIT))) {
        unsigned nbytes = (EXT2_INODES_PER_GROUP(fs->super) + 7) / 8;
        memset(buf, 0xff, fs->blocksize);
        err = ext2fs_get_inode_bitmap_range2(fs->inode_map,
                                             (uint64_t)g * EXT2_INODES_PER_GROUP(fs->super) + 1,
                                             nbytes * 8, buf);
        if (err)
            return err;
        if ((err = ext2fs_inode_bitmap_csum_set(fs, g, (char *)buf, (int)nbytes)) != 0)
            return err;
        ext2fs_group_desc_csum_set(fs, g);
        blk64_t blk = ext2fs_inode_bitmap_loc(fs, g);
        if (blk && blk < ext2fs_blocks_count(fs->super) &&
            (err = io_channel_write_blk64(fs->io, blk, 1, buf)) != 0)
            return err;
    }
    return 0;
}

/* What the operation changed in libext2fs's memory (bitmaps of the groups
 * it touched, their descriptors, the superblock) goes to the store. */
static int store_meta(struct ext *ex)
{
    struct extw *w = ex->w;
    ext2_filsys fs = ex->fs;
    size_t dsz = EXT2_DESC_SIZE(fs->super);
    uint8_t *gd = (uint8_t *)fs->group_desc;
    /* groups whose descriptor changed behind our back (ext2fs_new_inode
     * initialises INODE_UNINIT groups it passes) */
    for (size_t blk = 0; blk < fs->desc_blocks; blk++) {
        size_t off = blk * fs->blocksize;
        if (memcmp(gd + off, w->gd_shadow + off, fs->blocksize) == 0)
            continue;
        for (size_t e = 0; e < fs->blocksize / dsz; e++) {
            size_t o = off + e * dsz;
            dgrp_t g = (dgrp_t)(o / dsz);
            if (g < fs->group_desc_count && memcmp(gd + o, w->gd_shadow + o, dsz) != 0)
                mark_group(ex, g);
        }
    }
    errcode_t err = 0;
    uint8_t *buf = gk_malloc(fs->blocksize);
    for (size_t i = 0; i < w->nglist && !err; i++)
        err = store_bitmaps(ex, w->glist[i], buf);
    free(buf);
    for (size_t i = 0; i < w->nglist; i++)
        w->gdirty[w->glist[i]] = 0;
    w->nglist = 0;
    if (err)
        return efail(err, "writing the bitmaps");
    for (size_t blk = 0; blk < fs->desc_blocks && !err; blk++) {
        size_t off = blk * fs->blocksize;
        if (memcmp(gd + off, w->gd_shadow + off, fs->blocksize) == 0)
            continue;
        blk64_t loc = ext2fs_descriptor_block_loc2(fs, fs->super->s_first_data_block, (dgrp_t)blk);
        err = io_channel_write_blk64(fs->io, loc, 1, gd + off);
        if (!err)
            memcpy(w->gd_shadow + off, gd + off, fs->blocksize);
    }
    if (err)
        return efail(err, "writing the group descriptors");
    ext2fs_superblock_csum_set(fs, fs->super);
    err = io_channel_write_byte(fs->io, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE, fs->super);
    if (err)
        return efail(err, "writing the superblock");
    return 0;
}

/* ------------------------------------------------------------------ */
/* Opening libext2fs for writing                                       */

static void on_block_stats(ext2_filsys fs, blk64_t blk, int inuse);

static errcode_t setup_fs(struct ext *ex, ext2_filsys fs)
{
    struct extw *w = ex->w;
    errcode_t err = ext2fs_read_bitmaps(fs);
    if (err)
        return err;
    fs->priv_data = ex;
    fs->flags |= EXT2_FLAG_MASTER_SB_ONLY;
    ext2fs_set_block_alloc_stats_callback(fs, on_block_stats, NULL);
    ext2fs_set_block_alloc_stats_range_callback(fs, on_block_stats_range, NULL);
    w->gd_bytes = (size_t)fs->desc_blocks * fs->blocksize;
    free(w->gd_shadow);
    w->gd_shadow = gk_malloc(w->gd_bytes);
    memcpy(w->gd_shadow, fs->group_desc, w->gd_bytes);
    free(w->gdirty);
    free(w->glist);
    w->gdirty = gk_calloc(fs->group_desc_count, 1);
    w->glist = gk_calloc(fs->group_desc_count, sizeof *w->glist);
    w->nglist = 0;
    if (!w->pinmap) {
        int type = fs->default_bitmap_type;
        fs->default_bitmap_type = EXT2FS_BMAP64_RBTREE;
        err = ext2fs_allocate_block_bitmap(fs, "pinned blocks", &w->pinmap);
        fs->default_bitmap_type = type;
        if (err)
            return err;
    }
    return 0;
}

/* Throw libext2fs's memory away and read everything again from the device
 * and the store (after an operation was undone). */
static int reopen(struct ext *ex)
{
    ext2_filsys fs = NULL;
    ext2fs_free(ex->fs);
    ex->fs = NULL;
    gkio_cache_drop(ex->io);
    gk_ext_map_changed(ex);
    gk_ext_dir_changed(ex, 0, NULL, 0);
    widx_drop(ex->w);
    errcode_t err = gk_ext_open_fs(ex->io, EXT2_FLAG_RW | EXT2_FLAG_SKIP_MMP, &fs);
    if (!err) {
        ex->fs = fs;
        err = setup_fs(ex, fs);
    }
    if (err) {
        ex->w->broken = 1;
        return efail(err, "reopening the filesystem after an error");
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Sessions, operations, commits                                       */

static int session_start(struct ext *ex);

static int commit(struct ext *ex)
{
    struct extw *w = ex->w;
    if (!gk_txn_nblocks(w->txn))
        goto unpin;
    /* the first blocks to reach the device: a journal that needs recovery
     * goes home first (so a refused or failed first change leaves the
     * image as it was) */
    if (!w->started) {
        int r = session_start(ex);
        if (r < 0)
            return r;
    }
    int r = gk_txn_commit(w->txn, ex->fs);
    if (r < 0) {
        w->broken = 1;
        return r;
    }
    w->first_change = 0;
unpin:
    if (w->npinned) {
        ext2fs_clear_block_bitmap(w->pinmap);
        w->npinned = 0;
    }
    return 0;
}

/* Before the first commit of a session: replay a journal that needs it
 * onto the device, and mark the filesystem as needing recovery for as long
 * as we may have a transaction in flight. */
static int session_start(struct ext *ex)
{
    struct extw *w = ex->w;
    size_t novl;
    unsigned obs;
    const gk_jblock *ovl = gkio_overlay(ex->io, &novl, &obs);
    if (ovl && novl) {
        int r = gk_txn_replay_home(w->txn, ex->fs, ovl, novl);
        if (r < 0) {
            w->broken = 1;
            gk_error_prefix("journal replay");
            return r;
        }
        gkio_set_overlay(ex->io, NULL, 0, 0);
        gk_debug("%s: journal replayed onto the device (%zu blocks)", ex->w->dev->name, novl);
    }
    if (gk_txn_has_journal(w->txn)) {
        int r = gk_txn_mark_recovery(w->txn, ex->fs, 1);
        if (r < 0) {
            w->broken = 1;
            return r;
        }
    } else if (!w->warned) {
        w->warned = 1;
        gk_warn("%s: the filesystem has no journal: changes are written in place, and a crash "
                "while writing can leave it inconsistent (run e2fsck then)", ex->w->dev->name);
    }
    w->started = 1;
    return 0;
}

static int op_begin(struct ext *ex)
{
    struct extw *w = ex->w;
    if (w->broken) {
        gk_error("an earlier write failed: no more changes are made to this filesystem");
        return -EIO;
    }
    /* a full store, or changes older than the kernel's commit interval */
    size_t held = gk_txn_nblocks(w->txn);
    if (held && !w->first_change)
        w->first_change = time(NULL);
    if (held >= w->commit_at || (held && time(NULL) - w->first_change >= COMMIT_INTERVAL)) {
        int r = commit(ex);
        if (r < 0)
            return r;
    }
    gk_txn_op_begin(w->txn);
    w->noppins = 0;
    return 0;
}

static int op_end(struct ext *ex, int rc)
{
    struct extw *w = ex->w;
    if (rc >= 0) {
        int r = store_meta(ex);
        if (r < 0)
            rc = r;
    }
    if (rc >= 0 && gk_txn_has_journal(w->txn) && gk_txn_nblocks(w->txn) > gk_txn_capacity(w->txn))
        rc = gk_ext_fail(0, EFBIG, "the change is too large for the journal (%zu blocks)",
                         gk_txn_nblocks(w->txn));
    if (rc >= 0) {
        gk_txn_op_end(w->txn, 1);
        return rc;
    }
    /* undo: the store, what this operation pinned, libext2fs's memory */
    char *msg = gk_strdup(gk_errmsg());
    gk_txn_op_end(w->txn, 0);
    for (size_t i = 0; i < w->noppins; i++) {
        ext2fs_unmark_block_bitmap_range2(w->pinmap, w->oppins[i].blk, (unsigned)w->oppins[i].n);
        w->npinned -= w->oppins[i].n;
    }
    /* a block pinned twice is unpinned by the first range */
    if (w->noppins && !w->npinned)
        ext2fs_clear_block_bitmap(w->pinmap);
    w->noppins = 0;
    for (size_t i = 0; i < w->nglist; i++)
        w->gdirty[w->glist[i]] = 0;
    w->nglist = 0;
    if (reopen(ex) == 0)
        gk_error("%s", msg);
    free(msg);
    return rc;
}

/* Run fn as one operation; an ENOSPC or an oversized change is retried
 * once after committing what is pending (blocks the open transaction
 * freed are usable only after it commits). */
typedef int (*op_fn)(struct ext *ex, void *arg);

static int finish_orphan(struct ext *ex);

static int run_op(struct ext *ex, op_fn fn, void *arg)
{
    int r = op_begin(ex);
    if (r < 0)
        return r;
    r = op_end(ex, fn(ex, arg));
    if ((r == -ENOSPC || r == -EFBIG) && gk_txn_nblocks(ex->w->txn) && !ex->w->broken) {
        char *msg = gk_strdup(gk_errmsg());
        int c = commit(ex);
        if (c == 0 && (c = op_begin(ex)) == 0)
            r = op_end(ex, fn(ex, arg));
        else if (c == 0)
            gk_error("%s", msg);
        free(msg);
    }
    if (r < 0)
        ex->w->orphan = 0;        /* undone with the operation */
    else if (ex->w->orphan && !ex->w->in_orphan) {
        ex->w->in_orphan = 1;
        int f = finish_orphan(ex);
        ex->w->in_orphan = 0;
        if (f < 0)
            return f;
    }
    return r;
}

/* ------------------------------------------------------------------ */
/* Directories                                                         */

/* A directory block's usable bytes (the checksum tail excluded). */
static unsigned dir_usable(ext2_filsys fs)
{
    return ext2fs_has_feature_metadata_csum(fs->super)
               ? fs->blocksize - (unsigned)sizeof(struct ext2_dir_entry_tail)
               : fs->blocksize;
}

/* One entry of a block, checked; 0 = the block is corrupt from here. */
static int dirent_at(ext2_filsys fs, uint8_t *buf, unsigned off, unsigned end,
                     struct ext2_dir_entry **de, unsigned *rec)
{
    if (off + 8 > end)
        return 0;
    struct ext2_dir_entry *d = (struct ext2_dir_entry *)(buf + off);
    unsigned int rl;
    if (ext2fs_get_rec_len(fs, d, &rl) != 0)
        return 0;
    unsigned nl = (unsigned)ext2fs_dirent_name_len(d);
    if (rl < 8 || rl % 4 || rl > end - off || nl + 8 > rl)
        return 0;
    if (d->inode > fs->super->s_inodes_count)
        return 0;
    *de = d;
    *rec = rl;
    return 1;
}

static int dir_block(struct ext *ex, uint64_t dir, struct ext2_inode_large *din, uint64_t lblk,
                     blk64_t *pblk)
{
    blk64_t p = 0;
    errcode_t err = ext2fs_bmap2(ex->fs, (ext2_ino_t)dir, (struct ext2_inode *)din, NULL, 0, lblk,
                                 NULL, &p);
    if (err)
        return efail(err, "directory inode %llu: block %llu", (unsigned long long)dir,
                     (unsigned long long)lblk);
    if (p == 0 || p >= ext2fs_blocks_count(ex->fs->super))
        return gk_ext_fail(0, EIO, "directory inode %llu: block %llu is not mapped (run e2fsck)",
                           (unsigned long long)dir, (unsigned long long)lblk);
    *pblk = p;
    return 0;
}

static int read_dirblk(struct ext *ex, uint64_t dir, blk64_t pblk, uint8_t *buf)
{
    errcode_t err = ext2fs_read_dir_block4(ex->fs, pblk, buf, 0, (ext2_ino_t)dir);
    if (err)
        return efail(err, "directory inode %llu: block %llu (run e2fsck)",
                     (unsigned long long)dir, (unsigned long long)pblk);
    return 0;
}

static int write_dirblk(struct ext *ex, uint64_t dir, blk64_t pblk, uint8_t *buf)
{
    errcode_t err = ext2fs_write_dir_block4(ex->fs, pblk, buf, 0, (ext2_ino_t)dir);
    if (err)
        return efail(err, "directory inode %llu: writing block %llu", (unsigned long long)dir,
                     (unsigned long long)pblk);
    return 0;
}

static uint64_t dir_nblocks(struct ext *ex, const struct ext2_inode_large *din)
{
    return EXT2_I_SIZE(din) / ex->fs->blocksize;
}

/* Set the times of a directory whose entries changed. */
static int touch_dir(struct ext *ex, uint64_t dir)
{
    struct ext2_inode_large din;
    int r = get_inode(ex, dir, &din);
    if (r < 0)
        return r;
    struct timespec t = now();
    set_times(&din, T_M | T_C, &t);
    return put_inode(ex, dir, &din);
}

/* ---- the position index of one big directory ----
 * Removing names from a directory of thousands (rm -rf, a script of rm)
 * would scan it for each name; the index, built by one scan, says where
 * each name is.  Kept up to date by linear_add, dir_remove and dir_set;
 * dropped when libext2fs changes the directory itself (htree inserts,
 * inline directories) or an operation is undone. */
#define WIDX_MIN_BLOCKS 8

static uint32_t widx_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static struct wslot *widx_find(struct widx *x, const char *name, size_t len)
{
    if (!x->cap)
        return NULL;
    uint32_t h = widx_hash(name, len);
    for (size_t j = h & (x->cap - 1); x->tab[j].ino; j = (j + 1) & (x->cap - 1)) {
        struct wslot *e = &x->tab[j];
        if (e->hash == h && e->len == len && memcmp(x->names + e->name, name, len) == 0)
            return e;
    }
    return NULL;
}

static void widx_put(struct widx *x, const char *name, size_t len, uint32_t ino, uint64_t lblk,
                     unsigned off)
{
    struct wslot *e = widx_find(x, name, len);
    if (e) {
        e->ino = ino;
        e->lblk = (uint32_t)lblk;
        e->off = off;
        return;
    }
    if ((x->n + 1) * 2 > x->cap) {
        size_t ncap = x->cap ? x->cap * 2 : 1024;
        struct wslot *nt = gk_calloc(ncap, sizeof *nt);
        for (size_t i = 0; i < x->cap; i++)
            if (x->tab[i].ino) {
                size_t j = x->tab[i].hash & (ncap - 1);
                while (nt[j].ino)
                    j = (j + 1) & (ncap - 1);
                nt[j] = x->tab[i];
            }
        free(x->tab);
        x->tab = nt;
        x->cap = ncap;
    }
    if (x->nlen + len > x->ncap) {
        x->ncap = (x->ncap + len) * 2;
        x->names = gk_realloc(x->names, x->ncap);
    }
    uint32_t h = widx_hash(name, len);
    size_t j = h & (x->cap - 1);
    while (x->tab[j].ino)
        j = (j + 1) & (x->cap - 1);
    memcpy(x->names + x->nlen, name, len);
    x->tab[j] = (struct wslot){h, ino, (uint32_t)lblk, off, (uint32_t)x->nlen, (uint16_t)len};
    x->nlen += len;
    x->n++;
}

static int read_dirblk(struct ext *ex, uint64_t dir, blk64_t pblk, uint8_t *buf);
static int dir_block(struct ext *ex, uint64_t dir, struct ext2_inode_large *din, uint64_t lblk,
                     blk64_t *pblk);
static int dirent_at(ext2_filsys fs, uint8_t *buf, unsigned off, unsigned end,
                     struct ext2_dir_entry **de, unsigned *rec);
static unsigned dir_usable(ext2_filsys fs);

/* Build the index of directory dir (nb blocks). */
static int widx_build(struct ext *ex, uint64_t dir, struct ext2_inode_large *din, uint64_t nb)
{
    ext2_filsys fs = ex->fs;
    struct widx *x = &ex->w->widx;
    widx_drop(ex->w);
    uint8_t *buf = gk_malloc(fs->blocksize);
    unsigned usable = dir_usable(fs);
    int r = 0;
    for (uint64_t lblk = 0; lblk < nb && r == 0; lblk++) {
        blk64_t pblk;
        if ((r = dir_block(ex, dir, din, lblk, &pblk)) < 0 || (r = read_dirblk(ex, dir, pblk, buf)) < 0)
            break;
        struct ext2_dir_entry *de;
        unsigned off = 0, rec;
        while (off < usable && dirent_at(fs, buf, off, usable, &de, &rec)) {
            if (de->inode)
                widx_put(x, de->name, (size_t)ext2fs_dirent_name_len(de), de->inode, lblk, off);
            off += rec;
        }
    }
    free(buf);
    if (r < 0) {
        widx_drop(ex->w);
        return r;
    }
    x->dir = dir;
    x->valid = 1;
    return 0;
}

/* Append name to a linear directory: into the slack of its last block, or
 * a new block.  (libext2fs's ext2fs_link scans the whole directory for
 * room, which makes filling a big directory quadratic.) */
static int linear_add(struct ext *ex, uint64_t dir, const char *name, uint32_t ino, int ft)
{
    ext2_filsys fs = ex->fs;
    unsigned need = EXT2_DIR_REC_LEN(strlen(name)), usable = dir_usable(fs);
    uint8_t *buf = gk_malloc(fs->blocksize);
    int r = 0;
    for (int pass = 0; pass < 2; pass++) {
        struct ext2_inode_large din;
        if ((r = get_inode(ex, dir, &din)) < 0)
            break;
        uint64_t nb = dir_nblocks(ex, &din);
        if (nb > DIR_MAX_BLOCKS) {
            r = gk_ext_fail(0, EIO, "directory inode %llu is too large (run e2fsck)",
                            (unsigned long long)dir);
            break;
        }
        if (nb) {
            blk64_t pblk;
            if ((r = dir_block(ex, dir, &din, nb - 1, &pblk)) < 0 ||
                (r = read_dirblk(ex, dir, pblk, buf)) < 0)
                break;
            struct ext2_dir_entry *de;
            unsigned off = 0, rec;
            while (off < usable && dirent_at(fs, buf, off, usable, &de, &rec)) {
                unsigned used = de->inode ? EXT2_DIR_REC_LEN(ext2fs_dirent_name_len(de)) : 0;
                if (rec - used >= need) {
                    struct ext2_dir_entry *ne = de;
                    if (used) {
                        ext2fs_set_rec_len(fs, used, de);
                        ne = (struct ext2_dir_entry *)(buf + off + used);
                        ext2fs_set_rec_len(fs, rec - used, ne);
                    }
                    ne->inode = ino;
                    ext2fs_dirent_set_name_len(ne, (int)strlen(name));
                    ext2fs_dirent_set_file_type(ne, ext2fs_has_feature_filetype(fs->super) ? ft : 0);
                    memcpy(ne->name, name, strlen(name));
                    r = write_dirblk(ex, dir, pblk, buf);
                    struct widx *x = &ex->w->widx;
                    if (r == 0 && x->valid && x->dir == dir)
                        widx_put(x, name, strlen(name), ino, nb - 1, off + used);
                    goto out;
                }
                off += rec;
            }
            if (off < usable) {
                r = gk_ext_fail(0, EIO, "directory inode %llu: corrupt block %llu (run e2fsck)",
                                (unsigned long long)dir, (unsigned long long)pblk);
                break;
            }
        }
        if (pass == 1) {
            r = gk_ext_fail(0, EIO, "directory inode %llu: no room after growing it",
                            (unsigned long long)dir);
            break;
        }
        errcode_t err = ext2fs_expand_dir(fs, (ext2_ino_t)dir);
        if (err) {
            r = efail(err, "directory inode %llu: growing it", (unsigned long long)dir);
            break;
        }
    }
out:
    free(buf);
    return r;
}

/* Add the entry name -> ino to directory dir (the caller checked that the
 * name is free). */
static int dir_add(struct ext *ex, uint64_t dir, const char *name, uint32_t ino, int ft)
{
    ext2_filsys fs = ex->fs;
    struct ext2_inode_large din;
    int r = get_dir(ex, dir, &din);
    if (r < 0)
        return r;
    if (!ext2fs_has_feature_filetype(fs->super))
        ft = 0;
    if ((din.i_flags & EXT4_INLINE_DATA_FL) || (din.i_flags & EXT2_INDEX_FL)) {
        /* small inline directories and htree inserts: libext2fs (an htree
         * insert may move entries between blocks) */
        if (ex->w->widx.dir == dir)
            widx_drop(ex->w);
        errcode_t err = ext2fs_link(fs, (ext2_ino_t)dir, name, ino, ft);
        if (err == EXT2_ET_DIR_NO_SPACE && (din.i_flags & EXT4_INLINE_DATA_FL)) {
            err = ext2fs_expand_dir(fs, (ext2_ino_t)dir);
            if (!err)
                err = ext2fs_link(fs, (ext2_ino_t)dir, name, ino, ft);
            if (err == EXT2_ET_DIR_NO_SPACE) {
                if ((r = get_inode(ex, dir, &din)) < 0)
                    return r;
                if (!(din.i_flags & EXT2_INDEX_FL))
                    err = 0, r = linear_add(ex, dir, name, ino, ft);
            }
        }
        if (err)
            r = efail(err, "directory inode %llu: adding \"%s\"", (unsigned long long)dir, name);
    } else {
        r = linear_add(ex, dir, name, ino, ft);
    }
    if (r < 0)
        return r;
    gk_ext_dir_changed(ex, dir, name, ino);
    return touch_dir(ex, dir);
}

/* Where an entry is: logical block and offset (block directories). */
struct dpos {
    uint64_t lblk;
    unsigned off;
    uint32_t ino;
    int ft;
    int inl;                      /* inline directory: no position */
};

struct inl_find { const char *name; size_t len; uint32_t ino; int ft; uint32_t newino; int newft; int change; };

static int inl_find_cb(ext2_ino_t dir, int entry, struct ext2_dir_entry *de, int offset,
                       int blocksize, char *buf, void *priv)
{
    (void)dir; (void)entry; (void)offset; (void)blocksize; (void)buf;
    struct inl_find *f = priv;
    if (!de->inode || (size_t)ext2fs_dirent_name_len(de) != f->len ||
        memcmp(de->name, f->name, f->len) != 0)
        return 0;
    f->ino = de->inode;
    f->ft = ext2fs_dirent_file_type(de);
    if (f->change) {
        de->inode = f->newino;
        ext2fs_dirent_set_file_type(de, f->newft);
        return DIRENT_CHANGED | DIRENT_ABORT;
    }
    return DIRENT_ABORT;
}

/* Find name in directory dir; -ENOENT if it is not there. */
static int dir_find(struct ext *ex, uint64_t dir, const char *name, struct dpos *pos)
{
    ext2_filsys fs = ex->fs;
    struct ext2_inode_large din;
    int r = get_inode(ex, dir, &din);
    if (r < 0)
        return r;
    memset(pos, 0, sizeof *pos);
    size_t len = strlen(name);
    if (din.i_flags & EXT4_INLINE_DATA_FL) {
        struct inl_find f = {name, len, 0, 0, 0, 0, 0};
        errcode_t err = ext2fs_dir_iterate2(fs, (ext2_ino_t)dir, 0, NULL, inl_find_cb, &f);
        if (err)
            return efail(err, "directory inode %llu", (unsigned long long)dir);
        if (!f.ino)
            return pfail(ENOENT, "%s", name);
        pos->ino = f.ino;
        pos->ft = f.ft;
        pos->inl = 1;
        return 0;
    }
    uint64_t nb = dir_nblocks(ex, &din);
    if (nb > DIR_MAX_BLOCKS)
        return gk_ext_fail(0, EIO, "directory inode %llu is too large (run e2fsck)",
                           (unsigned long long)dir);
    struct widx *x = &ex->w->widx;
    if (nb >= WIDX_MIN_BLOCKS) {
        for (int attempt = 0; attempt < 2; attempt++) {
            if ((!x->valid || x->dir != dir) && (r = widx_build(ex, dir, &din, nb)) < 0)
                return r;
            struct wslot *e = widx_find(x, name, len);
            if (!e || !e->ino || e->len == UINT16_MAX)
                return pfail(ENOENT, "%s", name);
            /* check it is still there (the index is a hint) */
            blk64_t pblk;
            uint8_t *buf = gk_malloc(fs->blocksize);
            struct ext2_dir_entry *de;
            unsigned rec;
            int okpos = e->lblk < nb && dir_block(ex, dir, &din, e->lblk, &pblk) == 0 &&
                        read_dirblk(ex, dir, pblk, buf) == 0 &&
                        dirent_at(fs, buf, e->off, dir_usable(fs), &de, &rec) && de->inode == e->ino &&
                        (size_t)ext2fs_dirent_name_len(de) == len && memcmp(de->name, name, len) == 0;
            if (okpos) {
                pos->lblk = e->lblk;
                pos->off = e->off;
                pos->ino = de->inode;
                pos->ft = ext2fs_dirent_file_type(de);
            }
            free(buf);
            if (okpos)
                return 0;
            widx_drop(ex->w);
        }
        return pfail(ENOENT, "%s", name);
    }
    /* start where the last removal found its name: rm -r takes the names
     * in directory order */
    uint64_t start = ex->w->hint_dir == dir && ex->w->hint_lblk < nb ? ex->w->hint_lblk : 0;
    uint8_t *buf = gk_malloc(fs->blocksize);
    unsigned usable = dir_usable(fs);
    r = -ENOENT;
    for (uint64_t k = 0; k < nb && r == -ENOENT; k++) {
        uint64_t lblk = (start + k) % nb;
        blk64_t pblk;
        int e;
        if ((e = dir_block(ex, dir, &din, lblk, &pblk)) < 0 ||
            (e = read_dirblk(ex, dir, pblk, buf)) < 0) {
            r = e;
            break;
        }
        struct ext2_dir_entry *de;
        unsigned off = 0, rec;
        while (off < usable && dirent_at(fs, buf, off, usable, &de, &rec)) {
            if (de->inode && (size_t)ext2fs_dirent_name_len(de) == len &&
                memcmp(de->name, name, len) == 0) {
                pos->lblk = lblk;
                pos->off = off;
                pos->ino = de->inode;
                pos->ft = ext2fs_dirent_file_type(de);
                r = 0;
                break;
            }
            off += rec;
        }
    }
    free(buf);
    if (r == -ENOENT)
        return pfail(ENOENT, "%s", name);
    return r;
}

/* Remove the entry found by dir_find. */
static int dir_remove(struct ext *ex, uint64_t dir, const char *name, const struct dpos *pos)
{
    ext2_filsys fs = ex->fs;
    struct ext2_inode_large din;
    int r = get_dir(ex, dir, &din);
    if (r < 0)
        return r;
    if (pos->inl) {
        errcode_t err = ext2fs_unlink(fs, (ext2_ino_t)dir, name, pos->ino, 0);
        if (err)
            return efail(err, "directory inode %llu: removing \"%s\"", (unsigned long long)dir, name);
        if (ex->w->widx.dir == dir)
            widx_drop(ex->w);
    } else {
        blk64_t pblk;
        uint8_t *buf = gk_malloc(fs->blocksize);
        unsigned usable = dir_usable(fs);
        if ((r = dir_block(ex, dir, &din, pos->lblk, &pblk)) < 0 ||
            (r = read_dirblk(ex, dir, pblk, buf)) < 0) {
            free(buf);
            return r;
        }
        struct ext2_dir_entry *de, *prev = NULL;
        unsigned off = 0, rec, prevrec = 0;
        r = -ENOENT;
        while (off < usable && dirent_at(fs, buf, off, usable, &de, &rec)) {
            if (off == pos->off) {
                if (de->inode != pos->ino)
                    break;
                if (prev) {
                    ext2fs_set_rec_len(fs, prevrec + rec, prev);
                } else {
                    /* the first entry of a block stays, unused */
                    de->inode = 0;
                    ext2fs_dirent_set_name_len(de, 0);
                    ext2fs_dirent_set_file_type(de, 0);
                }
                r = write_dirblk(ex, dir, pblk, buf);
                break;
            }
            prev = de;
            prevrec = rec;
            off += rec;
        }
        free(buf);
        if (r == -ENOENT)
            return gk_ext_fail(0, EIO, "directory inode %llu changed under us", (unsigned long long)dir);
        if (r < 0)
            return r;
        ex->w->hint_dir = (uint32_t)dir;
        ex->w->hint_lblk = pos->lblk;
        struct widx *x = &ex->w->widx;
        struct wslot *e = x->valid && x->dir == dir ? widx_find(x, name, strlen(name)) : NULL;
        if (e)
            e->len = UINT16_MAX;      /* removed (the slot stays for probing) */
    }
    gk_ext_dir_changed(ex, dir, name, 0);
    return touch_dir(ex, dir);
}

/* Point the entry found by dir_find at another inode. */
static int dir_set(struct ext *ex, uint64_t dir, const char *name, const struct dpos *pos,
                   uint32_t ino, int ft)
{
    ext2_filsys fs = ex->fs;
    if (!ext2fs_has_feature_filetype(fs->super))
        ft = 0;
    struct ext2_inode_large din;
    int r = get_dir(ex, dir, &din);
    if (r < 0)
        return r;
    if (pos->inl) {
        struct inl_find f = {name, strlen(name), 0, 0, ino, ft, 1};
        errcode_t err = ext2fs_dir_iterate2(fs, (ext2_ino_t)dir, 0, NULL, inl_find_cb, &f);
        if (err || !f.ino)
            return efail(err ? err : EXT2_ET_FILE_NOT_FOUND, "directory inode %llu", (unsigned long long)dir);
    } else {
        blk64_t pblk;
        uint8_t *buf = gk_malloc(fs->blocksize);
        if ((r = dir_block(ex, dir, &din, pos->lblk, &pblk)) < 0 ||
            (r = read_dirblk(ex, dir, pblk, buf)) < 0) {
            free(buf);
            return r;
        }
        struct ext2_dir_entry *de;
        unsigned rec;
        if (!dirent_at(fs, buf, pos->off, dir_usable(fs), &de, &rec) || de->inode != pos->ino) {
            free(buf);
            return gk_ext_fail(0, EIO, "directory inode %llu changed under us", (unsigned long long)dir);
        }
        de->inode = ino;
        ext2fs_dirent_set_file_type(de, ft);
        r = write_dirblk(ex, dir, pblk, buf);
        free(buf);
        if (r < 0)
            return r;
        struct widx *x = &ex->w->widx;
        struct wslot *e = x->valid && x->dir == dir ? widx_find(x, name, strlen(name)) : NULL;
        if (e)
            e->ino = ino;
    }
    gk_ext_dir_changed(ex, dir, name, ino);
    return touch_dir(ex, dir);
}

struct empty_ctx { int names; };

static int empty_cb(ext2_ino_t dir, int entry, struct ext2_dir_entry *de, int offset,
                    int blocksize, char *buf, void *priv)
{
    (void)dir; (void)offset; (void)blocksize; (void)buf;
    struct empty_ctx *c = priv;
    int nl = ext2fs_dirent_name_len(de);
    /* (inline directories report ".." as an ordinary entry) */
    int dot = (nl == 1 && de->name[0] == '.') || (nl == 2 && de->name[0] == '.' && de->name[1] == '.');
    if (de->inode && entry == DIRENT_OTHER_FILE && !dot) {
        c->names = 1;
        return DIRENT_ABORT;
    }
    return 0;
}

/* 1 if directory ino holds nothing but "." and "..". */
static int dir_is_empty(struct ext *ex, uint64_t ino, struct ext2_inode_large *in)
{
    ext2_filsys fs = ex->fs;
    if (in->i_flags & EXT4_INLINE_DATA_FL) {
        struct empty_ctx c = {0};
        errcode_t err = ext2fs_dir_iterate2(fs, (ext2_ino_t)ino, 0, NULL, empty_cb, &c);
        if (err)
            return efail(err, "directory inode %llu", (unsigned long long)ino);
        return !c.names;
    }
    uint64_t nb = dir_nblocks(ex, in);
    if (nb > DIR_MAX_BLOCKS)
        return gk_ext_fail(0, EIO, "directory inode %llu is too large (run e2fsck)",
                           (unsigned long long)ino);
    uint8_t *buf = gk_malloc(fs->blocksize);
    unsigned usable = dir_usable(fs);
    int r = 1;
    for (uint64_t lblk = 0; lblk < nb && r == 1; lblk++) {
        blk64_t pblk;
        int e;
        if ((e = dir_block(ex, ino, in, lblk, &pblk)) < 0 || (e = read_dirblk(ex, ino, pblk, buf)) < 0) {
            r = e;
            break;
        }
        struct ext2_dir_entry *de;
        unsigned off = 0, rec;
        while (off < usable && dirent_at(fs, buf, off, usable, &de, &rec)) {
            int nl = ext2fs_dirent_name_len(de);
            int dot = (nl == 1 && de->name[0] == '.') ||
                      (nl == 2 && de->name[0] == '.' && de->name[1] == '.');
            if (de->inode && !(lblk == 0 && dot)) {
                r = 0;
                break;
            }
            off += rec;
        }
    }
    free(buf);
    return r;
}

/* Point the ".." of directory ino at newparent. */
static int set_dotdot(struct ext *ex, uint64_t ino, uint64_t newparent)
{
    ext2_filsys fs = ex->fs;
    struct ext2_inode_large in;
    int r = get_inode(ex, ino, &in);
    if (r < 0)
        return r;
    if (in.i_flags & EXT4_INLINE_DATA_FL) {
        /* an inline directory keeps its parent in the first 4 bytes */
        in.i_block[0] = (uint32_t)newparent;
        return put_inode(ex, ino, &in);
    }
    blk64_t pblk;
    uint8_t *buf = gk_malloc(fs->blocksize);
    if ((r = dir_block(ex, ino, &in, 0, &pblk)) < 0 || (r = read_dirblk(ex, ino, pblk, buf)) < 0) {
        free(buf);
        return r;
    }
    struct ext2_dir_entry *de;
    unsigned rec, off = 0;
    r = gk_ext_fail(0, EIO, "directory inode %llu has no \"..\" entry (run e2fsck)",
                    (unsigned long long)ino);
    for (int i = 0; i < 2 && dirent_at(fs, buf, off, fs->blocksize, &de, &rec); i++, off += rec) {
        if (ext2fs_dirent_name_len(de) == 2 && de->name[0] == '.' && de->name[1] == '.') {
            de->inode = (uint32_t)newparent;
            r = write_dirblk(ex, ino, pblk, buf);
            break;
        }
    }
    free(buf);
    gk_ext_dir_changed(ex, ino, "..", (uint32_t)newparent);
    return r;
}

/* The parent of directory ino, from its ".." entry. */
static int get_dotdot(struct ext *ex, uint64_t ino, uint64_t *parent)
{
    uint64_t p = 0;
    int r;
    struct ext2_inode_large in;
    if ((r = get_inode(ex, ino, &in)) < 0)
        return r;
    if (in.i_flags & EXT4_INLINE_DATA_FL) {
        p = in.i_block[0];
    } else {
        struct dpos pos;
        if ((r = dir_find(ex, ino, "..", &pos)) < 0)
            return r;
        p = pos.ino;
    }
    if (!p || p > ex->fs->super->s_inodes_count)
        return gk_ext_fail(0, EIO, "directory inode %llu: bad \"..\" (run e2fsck)",
                           (unsigned long long)ino);
    *parent = p;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Link counts and freeing inodes                                      */

static int dir_nlink_inc(struct ext *ex, struct ext2_inode_large *in)
{
    if (in->i_links_count == 1 && ext2fs_has_feature_dir_nlink(ex->fs->super))
        return 0;                     /* "many": stays 1 */
    if (in->i_links_count >= EXT2_LINK_MAX - 1) {
        if (!ext2fs_has_feature_dir_nlink(ex->fs->super))
            return pfail(EMLINK, "directory");
        in->i_links_count = 1;
        return 0;
    }
    in->i_links_count++;
    return 0;
}

static void dir_nlink_dec(struct ext2_inode_large *in)
{
    if (in->i_links_count > 2)
        in->i_links_count--;
    else if (in->i_links_count == 1)
        ;                             /* "many" (dir_nlink): stays 1 */
    else
        in->i_links_count = 2;
}

/* The last link of ino went away: free its xattr block, data, inode. */
static int free_inode(struct ext *ex, uint64_t ino, struct ext2_inode_large *in)
{
    ext2_filsys fs = ex->fs;
    errcode_t err;
    int isdir = LINUX_S_ISDIR(in->i_mode);
    if ((err = ext2fs_free_ext_attr(fs, (ext2_ino_t)ino, in)) != 0)
        return efail(err, "inode %llu: extended attributes", (unsigned long long)ino);
    if (ext2fs_inode_has_valid_blocks2(fs, (struct ext2_inode *)in) ||
        (in->i_flags & EXT4_INLINE_DATA_FL)) {
        err = ext2fs_punch(fs, (ext2_ino_t)ino, (struct ext2_inode *)in, NULL, 0, ~0ULL);
        if (err)
            return efail(err, "inode %llu: freeing its blocks", (unsigned long long)ino);
        int r = get_inode(ex, ino, in);
        if (r < 0)
            return r;
    }
    struct timespec t = now();
    in->i_links_count = 0;
    in->i_dtime = (uint32_t)t.tv_sec ? (uint32_t)t.tv_sec : 1;
    set_times(in, T_C, &t);
    int r = put_inode(ex, ino, in);
    if (r < 0)
        return r;
    ext2fs_inode_alloc_stats2(fs, (ext2_ino_t)ino, -1, isdir);
    mark_inode_group(ex, ino);
    gk_ext_map_changed(ex);
    if (isdir) {
        if (ex->w->widx.dir == ino)
            widx_drop(ex->w);
        gk_ext_dir_changed(ex, ino, NULL, 0);
    }
    return 0;
}

/* Whether freeing the blocks of in may not fit one operation: each block
 * can cost its group's two bitmaps, a descriptor block and a tree block. */
static int large_to_free(struct ext *ex, struct ext2_inode_large *in)
{
    if (!LINUX_S_ISREG(in->i_mode) || (in->i_flags & EXT4_INLINE_DATA_FL))
        return 0;
    uint64_t used = ext2fs_get_stat_i_blocks(ex->fs, (struct ext2_inode *)in) /
                    (ex->fs->blocksize / 512);
    return used * 4 + 16 > ex->w->commit_at;
}

/* One link of non-directory ino is gone.  The last link of a large file
 * on a journalled filesystem: the inode goes on the orphan list (its
 * dtime the next orphan, as the kernel keeps it), and run_op frees its
 * blocks after this operation, in as many as they need, then the inode.
 * A crash on the way leaves the name gone and the orphan list pointing at
 * the inode: the kernel's mount (or e2fsck) frees the rest.  So a file
 * is whole or gone, never a part of it under its name. */
static int drop_link(struct ext *ex, uint64_t ino)
{
    struct ext2_inode_large in;
    int r = get_inode(ex, ino, &in);
    if (r < 0)
        return r;
    if (in.i_links_count <= 1 && !ex->w->orphan && gk_txn_has_journal(ex->w->txn) &&
        large_to_free(ex, &in)) {
        struct timespec t = now();
        in.i_links_count = 0;
        in.i_dtime = ex->fs->super->s_last_orphan;
        set_times(&in, T_C, &t);
        if ((r = put_inode(ex, ino, &in)) < 0)
            return r;
        ex->fs->super->s_last_orphan = (uint32_t)ino;
        ex->w->orphan = ino;
        return 0;
    }
    if (in.i_links_count <= 1)
        return free_inode(ex, ino, &in);
    in.i_links_count--;
    struct timespec t = now();
    set_times(&in, T_C, &t);
    return put_inode(ex, ino, &in);
}

/* ------------------------------------------------------------------ */
/* Creating inodes                                                     */

static uint32_t random32(void)
{
    static unsigned seed;
    if (!seed)
        seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    return (uint32_t)rand_r(&seed) ^ ((uint32_t)rand_r(&seed) << 16);
}

/* A new inode's fields: type and permissions, owner, one link, times. */
static void init_inode(struct ext *ex, struct ext2_inode_large *in, uint32_t mode, uint32_t uid,
                       uint32_t gid, const struct ext2_inode_large *parent)
{
    ext2_filsys fs = ex->fs;
    memset(in, 0, sizeof *in);
    in->i_mode = (uint16_t)mode;
    in->i_uid = (uint16_t)uid;
    ext2fs_set_i_uid_high(*in, uid >> 16);
    in->i_gid = (uint16_t)gid;
    ext2fs_set_i_gid_high(*in, gid >> 16);
    in->i_links_count = 1;
    unsigned isz = EXT2_INODE_SIZE(fs->super);
    if (isz > EXT2_GOOD_OLD_INODE_SIZE) {
        unsigned want = sizeof *in - EXT2_GOOD_OLD_INODE_SIZE;
        if (want > isz - EXT2_GOOD_OLD_INODE_SIZE)
            want = isz - EXT2_GOOD_OLD_INODE_SIZE;
        in->i_extra_isize = (uint16_t)(want & ~3u);
    }
    struct timespec t = now();
    set_times(in, T_A | T_M | T_C | T_CR, &t);
    in->i_generation = random32();
    if (parent && ext2fs_has_feature_project(fs->super) && FITS(in, i_projid) &&
        (parent->i_flags & EXT4_PROJINHERIT_FL)) {
        in->i_projid = parent->i_projid;
        in->i_flags |= EXT4_PROJINHERIT_FL;
    }
    if (ext2fs_has_feature_extents(fs->super) && (LINUX_S_ISREG(mode) || LINUX_S_ISDIR(mode))) {
        struct ext3_extent_header *eh = (struct ext3_extent_header *)in->i_block;
        eh->eh_magic = ext2fs_cpu_to_le16(EXT3_EXT_MAGIC);
        eh->eh_depth = 0;
        eh->eh_entries = 0;
        eh->eh_max = ext2fs_cpu_to_le16((sizeof in->i_block - sizeof *eh) /
                                        sizeof(struct ext3_extent));
        in->i_flags |= EXT4_EXTENTS_FL;
    }
}

static int name_free(struct ext *ex, uint64_t dir, const char *name)
{
    uint64_t ino;
    int r = gk_ext_lookup(ex, dir, name, &ino);
    if (r == 0)
        return pfail(EEXIST, "%s", name);
    return r == -ENOENT ? 0 : r;
}

struct create_arg {
    uint64_t dir;
    const char *name;
    const char *target;           /* symlinks */
    uint32_t mode, uid, gid;
    uint64_t rdev;
    uint64_t ino;                 /* out */
};

static int do_create(struct ext *ex, void *arg)
{
    struct create_arg *a = arg;
    ext2_filsys fs = ex->fs;
    struct ext2_inode_large parent, in;
    int r;
    if ((r = check_name(a->name)) < 0 || (r = get_dir(ex, a->dir, &parent)) < 0 ||
        (r = name_free(ex, a->dir, a->name)) < 0)
        return r;
    uint32_t type = a->mode & LINUX_S_IFMT;
    ext2_ino_t ino = 0;
    errcode_t err = ext2fs_new_inode(fs, (ext2_ino_t)a->dir, (int)a->mode, NULL, &ino);
    if (err)
        return efail(err, "allocating an inode");
    if (type == LINUX_S_IFDIR) {
        uint16_t before = parent.i_links_count;
        int many = ext2fs_has_feature_dir_nlink(fs->super);
        if (before >= EXT2_LINK_MAX - 1 && !many)
            return pfail(EMLINK, "%s", a->name);
        /* "." and "..", the parent's link count, accounting */
        err = ext2fs_mkdir(fs, (ext2_ino_t)a->dir, ino, NULL);
        if (err)
            return efail(err, "%s", a->name);
        if ((r = get_inode(ex, a->dir, &parent)) < 0)
            return r;
        if (many && (before == 1 || parent.i_links_count >= EXT2_LINK_MAX)) {
            /* dir_nlink: 1 means "too many to count", as the kernel does */
            parent.i_links_count = 1;
            if ((r = put_inode(ex, a->dir, &parent)) < 0)
                return r;
        }
        if ((r = get_inode(ex, ino, &in)) < 0)
            return r;
        in.i_mode = (uint16_t)(LINUX_S_IFDIR | (a->mode & 07777));
        in.i_uid = (uint16_t)a->uid;
        ext2fs_set_i_uid_high(in, a->uid >> 16);
        in.i_gid = (uint16_t)a->gid;
        ext2fs_set_i_gid_high(in, a->gid >> 16);
        struct timespec t = now();
        set_times(&in, T_A | T_M | T_C | T_CR, &t);
        if (ext2fs_has_feature_project(fs->super) && FITS(&in, i_projid) &&
            (parent.i_flags & EXT4_PROJINHERIT_FL)) {
            in.i_projid = parent.i_projid;
            in.i_flags |= EXT4_PROJINHERIT_FL;
        }
        if ((r = put_inode(ex, ino, &in)) < 0)
            return r;
    } else if (type == LINUX_S_IFLNK) {
        err = ext2fs_symlink(fs, (ext2_ino_t)a->dir, ino, NULL, a->target);
        if (err)
            return efail(err, "%s", a->name);
        if ((r = get_inode(ex, ino, &in)) < 0)
            return r;
        in.i_uid = (uint16_t)a->uid;
        ext2fs_set_i_uid_high(in, a->uid >> 16);
        in.i_gid = (uint16_t)a->gid;
        ext2fs_set_i_gid_high(in, a->gid >> 16);
        struct timespec t = now();
        set_times(&in, T_A | T_M | T_C | T_CR, &t);
        if ((r = put_inode(ex, ino, &in)) < 0)
            return r;
    } else {
        init_inode(ex, &in, a->mode, a->uid, a->gid, &parent);
        if (type == LINUX_S_IFCHR || type == LINUX_S_IFBLK) {
            unsigned ma = major(a->rdev), mi = minor(a->rdev);
            if (ma < 256 && mi < 256)
                in.i_block[0] = (uint32_t)(ma << 8 | mi);
            else
                in.i_block[1] = (uint32_t)((mi & 0xff) | (ma << 8) | ((mi & ~0xffu) << 12));
        }
        err = ext2fs_write_new_inode(fs, ino, (struct ext2_inode *)&in);
        if (err)
            return efail(err, "inode %u", ino);
        ext2fs_inode_alloc_stats2(fs, ino, +1, 0);
    }
    mark_inode_group(ex, ino);
    if ((r = dir_add(ex, a->dir, a->name, ino, mode_ft(a->mode))) < 0)
        return r;
    a->ino = ino;
    return 0;
}

static int create_common(gk_fs *g, struct create_arg *a, uint64_t *ino)
{
    struct ext *ex = g->priv;
    int r = run_op(ex, do_create, a);
    if (r == 0 && ino)
        *ino = a->ino;
    return r;
}

int gk_extw_create(gk_fs *g, uint64_t dir, const char *name, uint32_t mode, uint32_t uid,
                   uint32_t gid, uint64_t *ino)
{
    struct create_arg a = {dir, name, NULL, LINUX_S_IFREG | (mode & 07777), uid, gid, 0, 0};
    return create_common(g, &a, ino);
}

int gk_extw_mkdir(gk_fs *g, uint64_t dir, const char *name, uint32_t mode, uint32_t uid,
                  uint32_t gid, uint64_t *ino)
{
    struct create_arg a = {dir, name, NULL, LINUX_S_IFDIR | (mode & 07777), uid, gid, 0, 0};
    return create_common(g, &a, ino);
}

int gk_extw_symlink(gk_fs *g, uint64_t dir, const char *name, const char *target, uint32_t uid,
                    uint32_t gid, uint64_t *ino)
{
    struct ext *ex = g->priv;
    size_t tl = strlen(target);
    if (tl == 0)
        return pfail(ENOENT, "symbolic link target");
    if (tl >= ex->fs->blocksize || tl >= 4096)
        return pfail(ENAMETOOLONG, "symbolic link target");
    struct create_arg a = {dir, name, target, LINUX_S_IFLNK | 0777, uid, gid, 0, 0};
    return create_common(g, &a, ino);
}

int gk_extw_mknod(gk_fs *g, uint64_t dir, const char *name, uint32_t mode, uint64_t rdev,
                  uint32_t uid, uint32_t gid, uint64_t *ino)
{
    uint32_t type = mode & LINUX_S_IFMT;
    if (type == 0)
        type = LINUX_S_IFREG;         /* mknod(2): a regular file */
    if (type != LINUX_S_IFREG && type != LINUX_S_IFCHR && type != LINUX_S_IFBLK &&
        type != LINUX_S_IFIFO && type != LINUX_S_IFSOCK)
        return pfail(EINVAL, "mknod: mode 0%o", mode);
    struct create_arg a = {dir, name, NULL, type | (mode & 07777), uid, gid,
                           (type == LINUX_S_IFCHR || type == LINUX_S_IFBLK) ? rdev : 0, 0};
    return create_common(g, &a, ino);
}

/* ------------------------------------------------------------------ */
/* File data                                                           */

/* Inline data turned into an ordinary (extent or block-mapped) file, so
 * that the block paths below apply. */
static int uninline(struct ext *ex, uint64_t ino, struct ext2_inode_large *in)
{
    ext2_filsys fs = ex->fs;
    uint64_t size = EXT2_I_SIZE(in);
    size_t cap = sizeof in->i_block;
    char *data = gk_calloc(1, cap + 65536);
    memcpy(data, in->i_block, cap);
    struct ext2_xattr_handle *h = NULL;
    errcode_t err = ext2fs_xattrs_open(fs, (ext2_ino_t)ino, &h);
    if (!err)
        err = ext2fs_xattrs_read(h);
    if (!err) {
        void *val = NULL;
        size_t vlen = 0;
        if (ext2fs_xattr_get(h, "system.data", &val, &vlen) == 0) {
            if (vlen <= 65536)
                memcpy(data + cap, val, vlen);
            ext2fs_free_mem(&val);
        }
        err = ext2fs_xattr_remove(h, "system.data");
    }
    if (h)
        ext2fs_xattrs_close(&h);
    if (err) {
        free(data);
        return efail(err, "inode %llu: inline data", (unsigned long long)ino);
    }
    if (size > cap + 65536)
        size = cap + 65536;
    int r = get_inode(ex, ino, in);
    if (r < 0) {
        free(data);
        return r;
    }
    in->i_flags &= ~EXT4_INLINE_DATA_FL;
    memset(in->i_block, 0, sizeof in->i_block);
    in->i_size = 0;
    in->i_size_high = 0;
    if (ext2fs_has_feature_extents(fs->super)) {
        struct ext3_extent_header *eh = (struct ext3_extent_header *)in->i_block;
        eh->eh_magic = ext2fs_cpu_to_le16(EXT3_EXT_MAGIC);
        eh->eh_max = ext2fs_cpu_to_le16((sizeof in->i_block - sizeof *eh) / sizeof(struct ext3_extent));
        in->i_flags |= EXT4_EXTENTS_FL;
    }
    if ((r = put_inode(ex, ino, in)) < 0) {
        free(data);
        return r;
    }
    gk_ext_map_changed(ex);
    /* the contents back, as blocks */
    r = size ? gk_extw_write_range(ex, ino, data, (size_t)size, 0) : 0;
    free(data);
    if (r < 0)
        return r;
    return get_inode(ex, ino, in);
}

/* Map [lblk, lblk+n) of an extent file to [pblk, pblk+n): append to the
 * last extent when the new blocks follow it, otherwise block by block. */
static errcode_t extent_map(ext2_extent_handle_t h, blk64_t lblk, blk64_t pblk, blk64_t n)
{
    struct ext2fs_extent e;
    struct ext2_extent_info info;
    errcode_t err = ext2fs_extent_get_info(h, &info);
    if (!err && info.max_depth == 0 && info.num_entries == 0 && n <= MAX_EXTENT_LEN) {
        struct ext2fs_extent ne = {.e_pblk = pblk, .e_lblk = lblk, .e_len = (uint32_t)n,
                                   .e_flags = EXT2_EXTENT_FLAGS_LEAF};
        return ext2fs_extent_insert(h, 0, &ne);
    }
    err = ext2fs_extent_get(h, EXT2_EXTENT_LAST_LEAF, &e);
    if (!err && !(e.e_flags & EXT2_EXTENT_FLAGS_UNINIT) && e.e_lblk + e.e_len <= lblk) {
        if (e.e_lblk + e.e_len == lblk && e.e_pblk + e.e_len == pblk &&
            e.e_len + n <= MAX_EXTENT_LEN) {
            e.e_len += (uint32_t)n;
            err = ext2fs_extent_replace(h, 0, &e);
            return err;
        }
        if (n <= MAX_EXTENT_LEN) {
            struct ext2fs_extent ne = {.e_pblk = pblk, .e_lblk = lblk, .e_len = (uint32_t)n,
                                       .e_flags = EXT2_EXTENT_FLAGS_LEAF};
            err = ext2fs_extent_insert(h, EXT2_EXTENT_INSERT_AFTER, &ne);
            if (!err)
                err = ext2fs_extent_fix_parents(h);
            return err;
        }
    }
    for (blk64_t i = 0; i < n; i++) {
        err = ext2fs_extent_set_bmap(h, lblk + i, pblk + i, 0);
        if (err)
            return err;
    }
    return 0;
}

/* The physical block of lblk (0 for a hole); *uninit for unwritten extents. */
static int bmap(struct ext *ex, uint64_t ino, struct ext2_inode_large *in, uint64_t lblk,
                blk64_t *pblk, int *uninit)
{
    int flags = 0;
    *pblk = 0;
    errcode_t err = ext2fs_bmap2(ex->fs, (ext2_ino_t)ino, (struct ext2_inode *)in, NULL, 0, lblk,
                                 &flags, pblk);
    if (err)
        return efail(err, "inode %llu: block map", (unsigned long long)ino);
    if (*pblk >= ext2fs_blocks_count(ex->fs->super))
        return gk_ext_fail(0, EIO, "inode %llu: block %llu beyond the filesystem (run e2fsck)",
                           (unsigned long long)ino, (unsigned long long)*pblk);
    if (uninit)
        *uninit = !!(flags & BMAP_RET_UNINIT);
    return 0;
}

/* Allocate and map fresh blocks for the hole [lblk, lblk+n); the data is
 * written by the caller.  Runs found are appended to *runs. */
static int alloc_range(struct ext *ex, uint64_t ino, struct ext2_inode_large *in, uint64_t lblk,
                       uint64_t n, struct run **runs, size_t *nruns)
{
    ext2_filsys fs = ex->fs;
    int r;
    blk64_t goal = 0;
    if (lblk > 0 && (r = bmap(ex, ino, in, lblk - 1, &goal, NULL)) < 0)
        return r;
    goal = goal ? goal + 1 : ext2fs_find_inode_goal(fs, (ext2_ino_t)ino, (struct ext2_inode *)in, lblk);
    ext2_extent_handle_t h = NULL;
    errcode_t err = 0;
    if (in->i_flags & EXT4_EXTENTS_FL) {
        err = ext2fs_extent_open2(fs, (ext2_ino_t)ino, (struct ext2_inode *)in, &h);
        if (err)
            return efail(err, "inode %llu: extent tree", (unsigned long long)ino);
    }
    uint64_t done = 0;
    while (done < n && !err) {
        blk64_t p, plen;
        err = new_data_range(ex, goal, n - done, &p, &plen);
        if (err)
            break;
        if (plen > MAX_EXTENT_LEN)
            plen = MAX_EXTENT_LEN;
        ext2fs_block_alloc_stats_range(fs, p, (blk_t)plen, +1);
        if (h) {
            err = extent_map(h, lblk + done, p, plen);
        } else {
            for (blk64_t i = 0; i < plen && !err; i++) {
                blk64_t pb = p + i;
                err = ext2fs_bmap2(fs, (ext2_ino_t)ino, (struct ext2_inode *)in, NULL,
                                   BMAP_ALLOC | BMAP_SET, lblk + done + i, NULL, &pb);
            }
        }
        if (err) {
            ext2fs_block_alloc_stats_range(fs, p, (blk_t)plen, -1);
            break;
        }
        ext2fs_iblk_add_blocks(fs, (struct ext2_inode *)in, plen);
        *runs = gk_realloc(*runs, (*nruns + 1) * sizeof **runs);
        (*runs)[(*nruns)++] = (struct run){lblk + done, p, plen, 0};
        goal = p + plen;
        done += plen;
    }
    if (h)
        ext2fs_extent_free(h);
    gk_ext_map_changed(ex);
    if (err)
        return efail(err, "inode %llu: allocating %llu blocks", (unsigned long long)ino,
                     (unsigned long long)(n - done));
    return put_inode(ex, ino, in);
}

/* bigalloc: blocks of a cluster are mapped together; already mapped blocks
 * are written in place. */
static int write_bigalloc(struct ext *ex, uint64_t ino, struct ext2_inode_large *in,
                          const uint8_t *src, size_t len, uint64_t off)
{
    ext2_filsys fs = ex->fs;
    uint64_t bs = fs->blocksize;
    uint8_t *blk = gk_malloc(bs);
    int r = 0;
    for (uint64_t l = off / bs; l <= (off + len - 1) / bs && r == 0; l++) {
        blk64_t p;
        int uninit = 0;
        if ((r = bmap(ex, ino, in, l, &p, &uninit)) < 0)
            break;
        uint64_t bstart = l * bs;
        uint64_t s = bstart > off ? bstart : off, e = bstart + bs < off + len ? bstart + bs : off + len;
        if (p && !uninit) {
            if (s != bstart || e != bstart + bs) {
                int er = gkio_read(ex->io, p * bs, bs, blk);
                if (er) {
                    r = gk_ext_fail(0, EIO, "inode %llu: reading block %llu", (unsigned long long)ino,
                                    (unsigned long long)p);
                    break;
                }
            }
        } else {
            memset(blk, 0, bs);
            blk64_t c = 0;
            errcode_t err = ext2fs_map_cluster_block(fs, (ext2_ino_t)ino, (struct ext2_inode *)in, l, &c);
            if (!err && !c) {
                blk64_t goal = ext2fs_find_inode_goal(fs, (ext2_ino_t)ino, (struct ext2_inode *)in, l);
                blk64_t plen;
                err = new_data_range(ex, goal & ~(blk64_t)EXT2FS_CLUSTER_MASK(fs),
                                     EXT2FS_CLUSTER_RATIO(fs), &c, &plen);
                if (!err && (c & EXT2FS_CLUSTER_MASK(fs)))
                    err = EXT2_ET_BLOCK_ALLOC_FAIL;
                if (!err) {
                    ext2fs_block_alloc_stats2(fs, c, +1);
                    ext2fs_iblk_add_blocks(fs, (struct ext2_inode *)in, 1);
                    c += l & EXT2FS_CLUSTER_MASK(fs);
                }
            }
            if (!err) {
                p = c;
                err = ext2fs_bmap2(fs, (ext2_ino_t)ino, (struct ext2_inode *)in, NULL, BMAP_SET, l,
                                   NULL, &p);
            }
            if (err) {
                r = efail(err, "inode %llu: allocating a cluster", (unsigned long long)ino);
                break;
            }
            if ((r = get_inode(ex, ino, in)) < 0)
                break;
            gk_ext_map_changed(ex);
        }
        memcpy(blk + (s - bstart), src + (s - off), e - s);
        if (gkio_write_direct(ex->io, p * bs, bs, blk)) {
            r = gk_ext_fail(0, EIO, "inode %llu: writing block %llu: %s", (unsigned long long)ino,
                            (unsigned long long)p, gk_errmsg());
            break;
        }
    }
    free(blk);
    return r;
}

/* Write [off, off+len) of regular file ino: new blocks for the whole
 * range (the old ones, if any, are freed), data straight to the device,
 * then the size.  The caller holds an operation. */
int gk_extw_write_range(struct ext *ex, uint64_t ino, const void *buf, size_t len, uint64_t off)
{
    ext2_filsys fs = ex->fs;
    uint64_t bs = fs->blocksize;
    struct ext2_inode_large in;
    int r;
    if ((r = get_inode(ex, ino, &in)) < 0)
        return r;
    if (!len)
        return 0;
    if (off + len < off || off + len > (1ull << 32) * bs - bs)
        return pfail(EFBIG, "inode %llu", (unsigned long long)ino);
    if (in.i_flags & EXT4_INLINE_DATA_FL) {
        if ((r = uninline(ex, ino, &in)) < 0)
            return r;
    }
    uint64_t size = EXT2_I_SIZE(&in);
    if (EXT2FS_CLUSTER_RATIO(fs) > 1) {
        if ((r = write_bigalloc(ex, ino, &in, buf, len, off)) < 0)
            return r;
    } else {
        uint64_t l0 = off / bs, l1 = (off + len - 1) / bs, nb = l1 - l0 + 1;
        uint8_t *head = NULL, *tail = NULL;
        /* the old contents of partly overwritten edge blocks (what lies past
         * the end of the file reads as zeros) */
        for (int k = 0; k < 2; k++) {
            uint64_t l = k ? l1 : l0;
            int partial = k ? (off + len) % bs != 0 && off + len < size : off % bs != 0;
            if (!partial || (k && l1 == l0 && head) || l * bs >= size)
                continue;
            blk64_t p;
            int uninit;
            if ((r = bmap(ex, ino, &in, l, &p, &uninit)) < 0)
                goto out;
            if (!p || uninit)
                continue;
            uint8_t *blk = gk_malloc(bs);
            if (gkio_read(ex->io, p * bs, bs, blk)) {
                free(blk);
                r = gk_ext_fail(0, EIO, "inode %llu: reading block %llu", (unsigned long long)ino,
                                (unsigned long long)p);
                goto out;
            }
            if (size < (l + 1) * bs)
                memset(blk + (size - l * bs), 0, (l + 1) * bs - size);
            if (k)
                tail = blk;
            else
                head = blk;
        }
        /* is anything mapped in the range?  (blocks past the end of an
         * extent file may be preallocated) */
        int mapped;
        if (in.i_flags & EXT4_EXTENTS_FL) {
            ext2_extent_handle_t h;
            struct ext2fs_extent e;
            errcode_t err = ext2fs_extent_open2(fs, (ext2_ino_t)ino, (struct ext2_inode *)&in, &h);
            if (err) {
                r = efail(err, "inode %llu: extent tree", (unsigned long long)ino);
                goto out;
            }
            err = ext2fs_extent_get(h, EXT2_EXTENT_LAST_LEAF, &e);
            mapped = !err && e.e_lblk + e.e_len > l0;
            ext2fs_extent_free(h);
        } else {
            mapped = l0 * bs < size;
        }
        if (mapped) {
            /* copy on write: the old blocks are freed (pinned until the
             * transaction commits), the range is allocated afresh */
            errcode_t err = ext2fs_punch(fs, (ext2_ino_t)ino, (struct ext2_inode *)&in, NULL, l0, l1);
            if (err) {
                r = efail(err, "inode %llu: replacing blocks", (unsigned long long)ino);
                goto out;
            }
            if ((r = get_inode(ex, ino, &in)) < 0)
                goto out;
            gk_ext_map_changed(ex);
        }
        struct run *runs = NULL;
        size_t nruns = 0;
        if ((r = alloc_range(ex, ino, &in, l0, nb, &runs, &nruns)) < 0) {
            free(runs);
            goto out;
        }
        /* the data, run by run, with the edges merged */
        const uint8_t *src = buf;
        size_t maxio = 1u << 20;
        uint8_t *io = gk_malloc(maxio);
        for (size_t i = 0; i < nruns && r == 0; i++) {
            for (uint64_t k = 0; k < runs[i].len && r == 0;) {
                uint64_t cnt = runs[i].len - k;
                if (cnt > maxio / bs)
                    cnt = maxio / bs;
                uint64_t l = runs[i].lblk + k;
                uint64_t bstart = l * bs, bend = (l + cnt) * bs;
                memset(io, 0, cnt * bs);
                if (head && l == l0)
                    memcpy(io, head, bs);
                if (tail && l + cnt - 1 == l1)
                    memcpy(io + (cnt - 1) * bs, tail, bs);

                uint64_t s = bstart > off ? bstart : off, e = bend < off + len ? bend : off + len;
                memcpy(io + (s - bstart), src + (s - off), e - s);
                if (gkio_write_direct(ex->io, (runs[i].pblk + k) * bs, cnt * bs, io))
                    r = gk_ext_fail(0, EIO, "inode %llu: writing data: %s", (unsigned long long)ino,
                                    gk_errmsg());
                k += cnt;
            }
        }
        free(io);
        free(runs);
out:
        free(head);
        free(tail);
        if (r < 0)
            return r;
    }
    if ((r = get_inode(ex, ino, &in)) < 0)
        return r;
    if (off + len > size) {
        errcode_t err = ext2fs_inode_size_set(fs, (struct ext2_inode *)&in, off + len);
        if (err)
            return efail(err, "inode %llu: size", (unsigned long long)ino);
    }
    struct timespec t = now();
    set_times(&in, T_M | T_C, &t);
    gk_ext_map_changed(ex);
    return put_inode(ex, ino, &in);
}

struct write_arg {
    uint64_t ino;
    const uint8_t *buf;
    size_t len;
    uint64_t off;
};

static int do_write(struct ext *ex, void *arg)
{
    struct write_arg *a = arg;
    struct ext2_inode_large in;
    int r;
    if ((r = get_inode(ex, a->ino, &in)) < 0 || (r = check_changeable(ex, a->ino, &in, 1)) < 0)
        return r;
    if (LINUX_S_ISDIR(in.i_mode))
        return pfail(EISDIR, "inode %llu", (unsigned long long)a->ino);
    if (!LINUX_S_ISREG(in.i_mode))
        return pfail(EINVAL, "inode %llu: not a regular file", (unsigned long long)a->ino);
    if ((in.i_flags & EXT2_APPEND_FL) && a->off != EXT2_I_SIZE(&in))
        return gk_ext_fail(0, EPERM, "inode %llu is append-only: %s", (unsigned long long)a->ino,
                           strerror(EPERM));
    return gk_extw_write_range(ex, a->ino, a->buf, a->len, a->off);
}

ssize_t gk_extw_write(gk_fs *g, uint64_t ino, const void *buf, size_t n, uint64_t off)
{
    struct ext *ex = g->priv;
    size_t done = 0;
    if (n > SSIZE_MAX)
        n = SSIZE_MAX;
    /* a large write is several operations: each allocates, writes and
     * commits a bounded piece (after a crash the file has a prefix of the
     * data, never blocks that were not written) */
    do {
        size_t k = n - done;
        uint64_t o = off + done;
        if (k > ex->w->chunk)
            k = (size_t)(ex->w->chunk - o % ex->fs->blocksize);
        struct write_arg a = {ino, (const uint8_t *)buf + done, k, o};
        int r = run_op(ex, do_write, &a);
        if (r < 0)
            return done ? (ssize_t)done : r;
        done += k;
    } while (done < n);
    return (ssize_t)done;
}

/* ------------------------------------------------------------------ */
/* truncate                                                            */

struct trunc_arg {
    uint64_t ino;
    uint64_t size;
    uint64_t step_to;             /* punch only down to this block (large files) */
};

static int do_truncate(struct ext *ex, void *arg)
{
    struct trunc_arg *a = arg;
    ext2_filsys fs = ex->fs;
    uint64_t bs = fs->blocksize;
    struct ext2_inode_large in;
    int r;
    if ((r = get_inode(ex, a->ino, &in)) < 0 || (r = check_changeable(ex, a->ino, &in, 1)) < 0)
        return r;
    if (LINUX_S_ISDIR(in.i_mode))
        return pfail(EISDIR, "inode %llu", (unsigned long long)a->ino);
    if (!LINUX_S_ISREG(in.i_mode))
        return pfail(EINVAL, "inode %llu: not a regular file", (unsigned long long)a->ino);
    if (in.i_flags & EXT2_APPEND_FL)
        return gk_ext_fail(0, EPERM, "inode %llu is append-only: %s", (unsigned long long)a->ino,
                           strerror(EPERM));
    if (a->size > (1ull << 32) * bs - bs)
        return pfail(EFBIG, "inode %llu", (unsigned long long)a->ino);
    uint64_t size = EXT2_I_SIZE(&in);
    if ((in.i_flags & EXT4_INLINE_DATA_FL) && a->size != size) {
        if ((r = uninline(ex, a->ino, &in)) < 0)
            return r;
    }
    if (a->size < size) {
        uint64_t keep = (a->size + bs - 1) / bs;      /* blocks that stay */
        uint64_t from = a->step_to > keep ? a->step_to : keep;
        errcode_t err = ext2fs_punch(fs, (ext2_ino_t)a->ino, (struct ext2_inode *)&in, NULL, from,
                                     ~0ULL);
        if (err)
            return efail(err, "inode %llu: truncating", (unsigned long long)a->ino);
        gk_ext_map_changed(ex);
        if ((r = get_inode(ex, a->ino, &in)) < 0)
            return r;
        if (from > keep) {
            /* a step of a large truncate: the file shrinks to what is left */
            if (from * bs < size)
                ext2fs_inode_size_set(fs, (struct ext2_inode *)&in, from * bs);
            return put_inode(ex, a->ino, &in);
        }
        if (a->size % bs && !(in.i_flags & EXT4_INLINE_DATA_FL)) {
            /* the kept part of the last block, rewritten (copy on write) so
             * that what lies past the new end reads as zeros */
            uint64_t l = a->size / bs;
            blk64_t p;
            int uninit;
            if ((r = bmap(ex, a->ino, &in, l, &p, &uninit)) < 0)
                return r;
            if (p && !uninit) {
                uint8_t *blk = gk_malloc(bs);
                if (gkio_read(ex->io, p * bs, bs, blk)) {
                    free(blk);
                    return gk_ext_fail(0, EIO, "inode %llu: reading block %llu",
                                       (unsigned long long)a->ino, (unsigned long long)p);
                }
                ext2fs_inode_size_set(fs, (struct ext2_inode *)&in, a->size);
                if ((r = put_inode(ex, a->ino, &in)) < 0) {
                    free(blk);
                    return r;
                }
                r = gk_extw_write_range(ex, a->ino, blk, (size_t)(a->size % bs), l * bs);
                free(blk);
                if (r < 0)
                    return r;
                if ((r = get_inode(ex, a->ino, &in)) < 0)
                    return r;
            }
        }
    }
    errcode_t err = ext2fs_inode_size_set(fs, (struct ext2_inode *)&in, a->size);
    if (err)
        return efail(err, "inode %llu: size", (unsigned long long)a->ino);
    struct timespec t = now();
    set_times(&in, T_M | T_C, &t);
    return put_inode(ex, a->ino, &in);
}

/* Where a large shrink is cut into operations.  Freeing a file's blocks
 * writes metadata in proportion not to the blocks but to where they lie:
 * the block and inode bitmaps and the descriptor block of each group they
 * are in, and the extent (or indirect) blocks that map them.  A file of a
 * few megabytes scattered over a thousand groups needs more than a small
 * journal holds, a contiguous gigabyte a handful.  So the file is walked
 * once and cut where the metadata its blocks (from the end down) would
 * write reaches the budget of one operation: each operation then fits a
 * transaction whatever the file looks like. */
struct cutscan {
    ext2_filsys fs;
    uint64_t from;               /* blocks below this stay */
    uint64_t budget, cost;       /* metadata blocks per operation; so far */
    uint64_t *set;               /* groups and descriptor blocks counted */
    size_t setcap;
    unsigned descs;              /* descriptors per block */
    uint64_t *cuts;              /* logical blocks where an operation starts */
    size_t ncuts, capcuts;
};

/* 1 if key is new to the current operation (and now counted). */
static int cut_seen_new(struct cutscan *s, uint64_t key)
{
    size_t i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 24) & (s->setcap - 1);
    while (s->set[i]) {
        if (s->set[i] == key)
            return 0;
        i = (i + 1) & (s->setcap - 1);
    }
    s->set[i] = key;
    return 1;
}

/* The metadata freeing block b adds to the current operation. */
static uint64_t cut_cost(struct cutscan *s, blk64_t b)
{
    if (b < s->fs->super->s_first_data_block || b >= ext2fs_blocks_count(s->fs->super))
        return 0;
    dgrp_t g = ext2fs_group_of_blk2(s->fs, b);
    uint64_t c = 0;
    if (cut_seen_new(s, (uint64_t)g + 1))
        c += 2;
    if (cut_seen_new(s, (1ull << 40) + g / s->descs + 1))
        c += 1;
    return c;
}

/* The next operation starts at logical block l (when this one is full). */
static void cut_at(struct cutscan *s, uint64_t l)
{
    if (s->cost < s->budget || l <= s->from || (s->ncuts && s->cuts[s->ncuts - 1] >= l))
        return;
    if (s->ncuts == s->capcuts) {
        s->capcuts = s->capcuts ? s->capcuts * 2 : 16;
        s->cuts = gk_realloc(s->cuts, s->capcuts * sizeof *s->cuts);
    }
    s->cuts[s->ncuts++] = l;
    memset(s->set, 0, s->setcap * sizeof *s->set);
    s->cost = 0;
}

/* Indirect-mapped files, block by block (the tree blocks come as blockcnt
 * < 0: written or freed themselves). */
static int cut_block(ext2_filsys fs, blk64_t *blocknr, e2_blkcnt_t blockcnt, blk64_t ref_blk,
                     int ref_offset, void *priv)
{
    (void)fs;
    (void)ref_blk;
    (void)ref_offset;
    struct cutscan *s = priv;
    if (blockcnt >= 0) {
        if ((uint64_t)blockcnt < s->from)
            return 0;
        cut_at(s, (uint64_t)blockcnt);
    }
    s->cost += cut_cost(s, *blocknr) + (blockcnt < 0);
    return 0;
}

/* Extent-mapped files, extent by extent, group by group. */
static void cut_extents(struct cutscan *s, uint64_t ino, struct ext2_inode_large *in)
{
    ext2_extent_handle_t h;
    if (ext2fs_extent_open2(s->fs, (ext2_ino_t)ino, (struct ext2_inode *)in, &h))
        return;
    struct ext2fs_extent e;
    uint64_t bpg = EXT2_BLOCKS_PER_GROUP(s->fs->super), n = 0;
    uint64_t limit = ext2fs_blocks_count(s->fs->super) + 16;
    errcode_t err = ext2fs_extent_get(h, EXT2_EXTENT_ROOT, &e);
    /* each extent and tree block is met once or twice: bounded by the
     * filesystem's blocks */
    for (; !err && n < 2 * limit; err = ext2fs_extent_get(h, EXT2_EXTENT_NEXT, &e), n++) {
        if (e.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT)
            continue;
        if (!(e.e_flags & EXT2_EXTENT_FLAGS_LEAF)) {
            s->cost += 1 + cut_cost(s, e.e_pblk);   /* the tree block below */
            continue;
        }
        uint64_t l = e.e_lblk, p = e.e_pblk, len = e.e_len;
        if (l + len <= s->from)
            continue;
        if (l < s->from) {
            p += s->from - l;
            len -= s->from - l;
            l = s->from;
        }
        while (len > 0) {
            /* the part of the extent in p's group */
            uint64_t in_group = bpg - (p - s->fs->super->s_first_data_block) % bpg;
            uint64_t k = in_group < len ? in_group : len;
            cut_at(s, l);
            s->cost += cut_cost(s, p) + 1;   /* + the leaf that maps it */
            l += k;
            p += k;
            len -= k;
        }
    }
    ext2fs_extent_free(h);
}

/* Free the blocks of a file down to keep_blocks in steps, each an
 * operation that fits a transaction (see struct cutscan); the last part
 * (from keep_blocks up to the first cut) is left to the caller's own
 * operation. */
static int shrink_in_steps(struct ext *ex, uint64_t ino, uint64_t keep_blocks)
{
    struct ext2_inode_large in;
    int r = get_inode(ex, ino, &in);
    if (r < 0)
        return r;
    if (!LINUX_S_ISREG(in.i_mode) || (in.i_flags & EXT4_INLINE_DATA_FL) || !large_to_free(ex, &in))
        return 0;
    struct cutscan s = {.fs = ex->fs, .from = keep_blocks};
    /* room for tree blocks met between two cuts and the operation's own
     * blocks (inode, superblock, directory): half of a commit's worth */
    s.budget = ex->w->commit_at / 2 > 16 ? ex->w->commit_at / 2 : 16;
    for (s.setcap = 64; s.setcap < 2 * (s.budget + 64); s.setcap *= 2)
        ;
    s.set = gk_calloc(s.setcap, sizeof *s.set);
    s.descs = ex->fs->blocksize / EXT2_DESC_SIZE(ex->fs->super);
    if (in.i_flags & EXT4_EXTENTS_FL)
        cut_extents(&s, ino, &in);
    else
        ext2fs_block_iterate3(ex->fs, (ext2_ino_t)ino, BLOCK_FLAG_READ_ONLY, NULL, cut_block, &s);
    free(s.set);
    uint64_t bs = ex->fs->blocksize;
    for (size_t i = s.ncuts; i-- > 0 && r >= 0;) {
        struct trunc_arg a = {ino, keep_blocks * bs, s.cuts[i]};
        r = run_op(ex, do_truncate, &a);
    }
    free(s.cuts);
    return r < 0 ? r : 0;
}

/* The last step of an orphan (drop_link): its remaining blocks and the
 * inode freed, and the inode off the orphan list. */
static int do_free_orphan(struct ext *ex, void *arg)
{
    uint64_t ino = *(uint64_t *)arg;
    struct ext2_inode_large in;
    int r = get_inode(ex, ino, &in);
    if (r < 0)
        return r;
    if (ex->fs->super->s_last_orphan != ino || in.i_links_count != 0)
        return gk_ext_fail(0, EIO, "inode %llu: no longer the orphan being freed",
                           (unsigned long long)ino);
    ex->fs->super->s_last_orphan = in.i_dtime;
    in.i_dtime = 0;
    return free_inode(ex, ino, &in);
}

static int finish_orphan(struct ext *ex)
{
    uint64_t ino = ex->w->orphan;
    int r = shrink_in_steps(ex, ino, 0);
    if (r == 0)
        r = run_op(ex, do_free_orphan, &ino);
    ex->w->orphan = 0;
    return r;
}

int gk_extw_truncate(gk_fs *g, uint64_t ino, uint64_t size)
{
    struct ext *ex = g->priv;
    int r = shrink_in_steps(ex, ino, (size + ex->fs->blocksize - 1) / ex->fs->blocksize);
    if (r < 0)
        return r;
    struct trunc_arg a = {ino, size, 0};
    return run_op(ex, do_truncate, &a);
}

/* ------------------------------------------------------------------ */
/* unlink, rmdir, link, rename                                         */

struct name_arg {
    uint64_t dir;
    const char *name;
    uint64_t ino;
};

/* The inode behind a name whose entry is to go. */
static int victim(struct ext *ex, uint64_t dir, const char *name, struct dpos *pos,
                  struct ext2_inode_large *in)
{
    int r;
    if ((r = check_name(name)) < 0 || (r = get_dir(ex, dir, in)) < 0 ||
        (r = dir_find(ex, dir, name, pos)) < 0 || (r = get_inode(ex, pos->ino, in)) < 0)
        return r;
    if (in->i_links_count == 0)
        return gk_ext_fail(0, EIO, "%s: entry for a free inode %u (run e2fsck)", name, pos->ino);
    if (in->i_flags & (EXT2_IMMUTABLE_FL | EXT2_APPEND_FL))
        return pfail(EPERM, "%s", name);
    return 0;
}

static int do_unlink(struct ext *ex, void *arg)
{
    struct name_arg *a = arg;
    struct dpos pos;
    struct ext2_inode_large in;
    int r = victim(ex, a->dir, a->name, &pos, &in);
    if (r < 0)
        return r;
    if (LINUX_S_ISDIR(in.i_mode))
        return pfail(EISDIR, "%s", a->name);
    if ((r = dir_remove(ex, a->dir, a->name, &pos)) < 0)
        return r;
    return drop_link(ex, pos.ino);
}

int gk_extw_unlink(gk_fs *g, uint64_t dir, const char *name)
{
    /* the last link of a large file: drop_link makes it an orphan, whose
     * blocks run_op frees in steps.  Without a journal (ext2, no orphan
     * list to lean on) the blocks go first, in steps, as a truncate's do,
     * so that the store never holds more than a commit's worth */
    struct ext *ex = g->priv;
    uint64_t ino;
    if (!gk_txn_has_journal(ex->w->txn) && g->ops->lookup(g, dir, name, &ino) == 0) {
        struct ext2_inode_large in;
        if (get_inode(ex, ino, &in) == 0 && in.i_links_count == 1 &&
            !(in.i_flags & (EXT2_IMMUTABLE_FL | EXT2_APPEND_FL))) {
            int r = shrink_in_steps(ex, ino, 0);
            if (r < 0)
                return r;
        }
    }
    struct name_arg a = {dir, name, 0};
    return run_op(ex, do_unlink, &a);
}

static int do_rmdir(struct ext *ex, void *arg)
{
    struct name_arg *a = arg;
    struct dpos pos;
    struct ext2_inode_large in, din;
    int r = victim(ex, a->dir, a->name, &pos, &in);
    if (r < 0)
        return r;
    if (!LINUX_S_ISDIR(in.i_mode))
        return pfail(ENOTDIR, "%s", a->name);
    if (pos.ino == EXT2_ROOT_INO)
        return pfail(EBUSY, "%s", a->name);
    if ((r = dir_is_empty(ex, pos.ino, &in)) < 0)
        return r;
    if (!r)
        return pfail(ENOTEMPTY, "%s", a->name);
    if ((r = dir_remove(ex, a->dir, a->name, &pos)) < 0)
        return r;
    if ((r = get_inode(ex, a->dir, &din)) < 0)
        return r;
    dir_nlink_dec(&din);
    if ((r = put_inode(ex, a->dir, &din)) < 0)
        return r;
    if ((r = get_inode(ex, pos.ino, &in)) < 0)
        return r;
    return free_inode(ex, pos.ino, &in);
}

int gk_extw_rmdir(gk_fs *g, uint64_t dir, const char *name)
{
    struct name_arg a = {dir, name, 0};
    return run_op(g->priv, do_rmdir, &a);
}

static int do_link(struct ext *ex, void *arg)
{
    struct name_arg *a = arg;
    struct ext2_inode_large in, din;
    int r;
    if ((r = check_name(a->name)) < 0 || (r = get_dir(ex, a->dir, &din)) < 0 ||
        (r = get_inode(ex, a->ino, &in)) < 0 || (r = check_changeable(ex, a->ino, &in, 0)) < 0)
        return r;
    if (in.i_flags & EXT2_APPEND_FL)
        return pfail(EPERM, "%s", a->name);
    if (LINUX_S_ISDIR(in.i_mode))
        return pfail(EPERM, "%s: hard link to a directory", a->name);
    if (in.i_links_count == 0)
        return pfail(ENOENT, "%s", a->name);
    if (in.i_links_count >= EXT2_LINK_MAX)
        return pfail(EMLINK, "%s", a->name);
    if ((r = name_free(ex, a->dir, a->name)) < 0 ||
        (r = dir_add(ex, a->dir, a->name, (uint32_t)a->ino, mode_ft(in.i_mode))) < 0 ||
        (r = get_inode(ex, a->ino, &in)) < 0)
        return r;
    in.i_links_count++;
    struct timespec t = now();
    set_times(&in, T_C, &t);
    return put_inode(ex, a->ino, &in);
}

int gk_extw_link(gk_fs *g, uint64_t ino, uint64_t newdir, const char *newname)
{
    struct name_arg a = {newdir, newname, ino};
    return run_op(g->priv, do_link, &a);
}

struct rename_arg {
    uint64_t olddir, newdir;
    const char *oldname, *newname;
    unsigned flags;
};

/* Is dir inside the tree of directory top (or top itself)? */
static int inside(struct ext *ex, uint64_t dir, uint64_t top)
{
    for (int i = 0; i < MAX_WALK_UP; i++) {
        if (dir == top)
            return 1;
        if (dir == EXT2_ROOT_INO)
            return 0;
        uint64_t up = 0;
        int r = get_dotdot(ex, dir, &up);
        if (r < 0)
            return r;
        if (up == dir)
            return 0;
        dir = up;
    }
    return gk_ext_fail(0, ELOOP, "directories nested too deeply (or a \"..\" loop; run e2fsck)");
}

static int do_rename(struct ext *ex, void *arg)
{
    struct rename_arg *a = arg;
    struct dpos spos, dpos;
    struct ext2_inode_large sin, din, tin;
    int r;
    if ((r = victim(ex, a->olddir, a->oldname, &spos, &sin)) < 0 || (r = check_name(a->newname)) < 0 ||
        (r = get_dir(ex, a->newdir, &din)) < 0)
        return r;
    if (a->olddir == a->newdir && strcmp(a->oldname, a->newname) == 0)
        return 0;
    int sdir = LINUX_S_ISDIR(sin.i_mode);
    r = dir_find(ex, a->newdir, a->newname, &dpos);
    if (r < 0 && r != -ENOENT)
        return r;
    int exists = r == 0;
    if (exists) {
        if (a->flags & RENAME_NOREPLACE)
            return pfail(EEXIST, "%s", a->newname);
        if (dpos.ino == spos.ino)
            return 0;                 /* two links of one inode: nothing to do */
        if ((r = get_inode(ex, dpos.ino, &tin)) < 0)
            return r;
        if (tin.i_flags & (EXT2_IMMUTABLE_FL | EXT2_APPEND_FL))
            return pfail(EPERM, "%s", a->newname);
        if (sdir && !LINUX_S_ISDIR(tin.i_mode))
            return pfail(ENOTDIR, "%s", a->newname);
        if (!sdir && LINUX_S_ISDIR(tin.i_mode))
            return pfail(EISDIR, "%s", a->newname);
        if (LINUX_S_ISDIR(tin.i_mode)) {
            if ((r = dir_is_empty(ex, dpos.ino, &tin)) < 0)
                return r;
            if (!r)
                return pfail(ENOTEMPTY, "%s", a->newname);
        }
    }
    int moving_dir = sdir && a->olddir != a->newdir;
    int tdir = exists && LINUX_S_ISDIR(tin.i_mode);
    if (moving_dir) {
        if ((r = inside(ex, a->newdir, spos.ino)) < 0)
            return r;
        if (r)
            return pfail(EINVAL, "%s: a directory cannot move into itself", a->newname);
        if (!tdir) {
            if ((r = get_inode(ex, a->newdir, &din)) < 0 || (r = dir_nlink_inc(ex, &din)) < 0)
                return r;             /* EMLINK before anything changes */
        }
    }
    /* the new name first, then the old one goes */
    int ft = mode_ft(sin.i_mode);
    if (exists)
        r = dir_set(ex, a->newdir, a->newname, &dpos, spos.ino, ft);
    else
        r = dir_add(ex, a->newdir, a->newname, spos.ino, ft);
    if (r < 0)
        return r;
    /* the entry may have moved if both names are in one directory */
    struct dpos again;
    if ((r = dir_find(ex, a->olddir, a->oldname, &again)) < 0 ||
        (r = dir_remove(ex, a->olddir, a->oldname, &again)) < 0)
        return r;
    if (tdir) {
        if ((r = get_inode(ex, dpos.ino, &tin)) < 0 || (r = free_inode(ex, dpos.ino, &tin)) < 0)
            return r;
    } else if (exists && (r = drop_link(ex, dpos.ino)) < 0) {
        return r;
    }
    /* links of the directories: a directory that moves takes its ".."
     * from olddir to newdir; a replaced directory takes its own away */
    int dold = moving_dir ? -1 : 0;
    int dnew = (moving_dir ? 1 : 0) - (tdir ? 1 : 0);
    if (moving_dir && (r = set_dotdot(ex, spos.ino, a->newdir)) < 0)
        return r;
    for (int k = 0; k < 2; k++) {
        uint64_t d = k ? a->newdir : a->olddir;
        int delta = k ? dnew : dold;
        if (a->olddir == a->newdir) {
            if (k == 0)
                continue;
            delta = dold + dnew;
        }
        if (!delta)
            continue;
        if ((r = get_inode(ex, d, &din)) < 0)
            return r;
        if (delta > 0)
            r = dir_nlink_inc(ex, &din);
        else
            dir_nlink_dec(&din);
        if (r < 0 || (r = put_inode(ex, d, &din)) < 0)
            return r;
    }
    if ((r = get_inode(ex, spos.ino, &sin)) < 0)
        return r;
    struct timespec t = now();
    set_times(&sin, T_C, &t);
    return put_inode(ex, spos.ino, &sin);
}

int gk_extw_rename(gk_fs *g, uint64_t olddir, const char *oldname, uint64_t newdir,
                   const char *newname, unsigned flags)
{
    if (flags & ~(unsigned)RENAME_NOREPLACE)
        return pfail(EINVAL, "rename flags 0x%x", flags);
    struct rename_arg a = {olddir, newdir, oldname, newname, flags};
    return run_op(g->priv, do_rename, &a);
}

/* ------------------------------------------------------------------ */
/* Attributes                                                          */

struct attr_arg {
    uint64_t ino;
    int what;                     /* 0 chmod, 1 chown, 2 utimens */
    uint32_t mode, uid, gid;
    struct timespec times[2];
};

static int do_attr(struct ext *ex, void *arg)
{
    struct attr_arg *a = arg;
    struct ext2_inode_large in;
    int r;
    if ((r = get_inode(ex, a->ino, &in)) < 0 || (r = check_changeable(ex, a->ino, &in, 0)) < 0)
        return r;
    struct timespec t = now();
    if (a->what == 0) {
        in.i_mode = (uint16_t)((in.i_mode & LINUX_S_IFMT) | (a->mode & 07777));
    } else if (a->what == 1) {
        if (a->uid != (uint32_t)-1) {
            in.i_uid = (uint16_t)a->uid;
            ext2fs_set_i_uid_high(in, a->uid >> 16);
        }
        if (a->gid != (uint32_t)-1) {
            in.i_gid = (uint16_t)a->gid;
            ext2fs_set_i_gid_high(in, a->gid >> 16);
        }
        /* like the kernel: a new owner loses set-user-ID (and set-group-ID
         * when group-executable) on non-directories */
        if (!LINUX_S_ISDIR(in.i_mode) && (a->uid != (uint32_t)-1 || a->gid != (uint32_t)-1)) {
            in.i_mode &= (uint16_t)~LINUX_S_ISUID;
            if (in.i_mode & LINUX_S_IXGRP)
                in.i_mode &= (uint16_t)~LINUX_S_ISGID;
        }
    } else {
        for (int i = 0; i < 2; i++) {
            struct timespec ts = a->times[i];
            if (ts.tv_nsec == UTIME_OMIT)
                continue;
            if (ts.tv_nsec == UTIME_NOW)
                ts = t;
            if (ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
                return pfail(EINVAL, "time");
            set_times(&in, i == 0 ? T_A : T_M, &ts);
        }
    }
    set_times(&in, T_C, &t);
    return put_inode(ex, a->ino, &in);
}

int gk_extw_chmod(gk_fs *g, uint64_t ino, uint32_t mode)
{
    struct attr_arg a = {.ino = ino, .what = 0, .mode = mode};
    return run_op(g->priv, do_attr, &a);
}

int gk_extw_chown(gk_fs *g, uint64_t ino, uint32_t uid, uint32_t gid)
{
    struct attr_arg a = {.ino = ino, .what = 1, .uid = uid, .gid = gid};
    return run_op(g->priv, do_attr, &a);
}

int gk_extw_utimens(gk_fs *g, uint64_t ino, const struct timespec times[2])
{
    struct attr_arg a = {.ino = ino, .what = 2};
    a.times[0] = times[0];
    a.times[1] = times[1];
    return run_op(g->priv, do_attr, &a);
}

struct xattr_arg {
    uint64_t ino;
    const char *name;
    const void *val;
    size_t len;
    int flags;
    int remove;
};

static int xattr_name_ok(const char *name)
{
    static const char *const prefixes[] = {"user.", "trusted.", "security.", NULL};
    if (strcmp(name, "system.posix_acl_access") == 0 || strcmp(name, "system.posix_acl_default") == 0)
        return 0;
    for (int i = 0; prefixes[i]; i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0 && name[strlen(prefixes[i])])
            return strlen(name) > 255 ? pfail(ERANGE, "%.64s...", name) : 0;
    return pfail(EOPNOTSUPP, "%s", name);
}

static int do_xattr(struct ext *ex, void *arg)
{
    struct xattr_arg *a = arg;
    ext2_filsys fs = ex->fs;
    struct ext2_inode_large in;
    int r;
    if ((r = xattr_name_ok(a->name)) < 0 || (r = get_inode(ex, a->ino, &in)) < 0 ||
        (r = check_changeable(ex, a->ino, &in, 0)) < 0)
        return r;
    if (!ext2fs_has_feature_xattr(fs->super))
        return pfail(EOPNOTSUPP, "extended attributes (the filesystem lacks ext_attr)");
    struct ext2_xattr_handle *h = NULL;
    errcode_t err = ext2fs_xattrs_open(fs, (ext2_ino_t)a->ino, &h);
    if (!err)
        err = ext2fs_xattrs_read(h);
    if (err) {
        if (h)
            ext2fs_xattrs_close(&h);
        return efail(err, "inode %llu: extended attributes", (unsigned long long)a->ino);
    }
    void *old = NULL;
    size_t oldlen = 0;
    int exists = ext2fs_xattr_get(h, a->name, &old, &oldlen) == 0;
    if (old)
        ext2fs_free_mem(&old);
    if (a->remove) {
        if (!exists)
            r = pfail(ENODATA, "%s", a->name);
        else if ((err = ext2fs_xattr_remove(h, a->name)) != 0)
            r = efail(err, "inode %llu: removing %s", (unsigned long long)a->ino, a->name);
    } else if (exists && (a->flags & XATTR_CREATE)) {
        r = pfail(EEXIST, "%s", a->name);
    } else if (!exists && (a->flags & XATTR_REPLACE)) {
        r = pfail(ENODATA, "%s", a->name);
    } else if ((err = ext2fs_xattr_set(h, a->name, a->val, a->len)) != 0) {
        r = efail(err, "inode %llu: setting %s", (unsigned long long)a->ino, a->name);
    }
    ext2fs_xattrs_close(&h);
    if (r < 0)
        return r;
    if ((r = get_inode(ex, a->ino, &in)) < 0)
        return r;
    struct timespec t = now();
    set_times(&in, T_C, &t);
    return put_inode(ex, a->ino, &in);
}

int gk_extw_setxattr(gk_fs *g, uint64_t ino, const char *name, const void *val, size_t len,
                     int flags)
{
    if (len > 65536)
        return pfail(E2BIG, "%s", name);
    struct xattr_arg a = {ino, name, val, len, flags, 0};
    return run_op(g->priv, do_xattr, &a);
}

int gk_extw_removexattr(gk_fs *g, uint64_t ino, const char *name)
{
    struct xattr_arg a = {ino, name, NULL, 0, 0, 1};
    return run_op(g->priv, do_xattr, &a);
}

/* ------------------------------------------------------------------ */
/* sync, open, close                                                   */

static int end_session(struct ext *ex)
{
    struct extw *w = ex->w;
    if (w->broken)
        return -EIO;
    int r = commit(ex);
    if (r < 0)
        return r;
    if (w->started && gk_txn_has_journal(w->txn)) {
        r = gk_txn_mark_recovery(w->txn, ex->fs, 0);
        if (r < 0) {
            w->broken = 1;
            return r;
        }
    }
    w->started = 0;
    return 0;
}

int gk_extw_sync(gk_fs *g)
{
    return end_session(g->priv);
}

void gk_extw_close(struct ext *ex)
{
    if (!ex->w)
        return;
    if (end_session(ex) < 0)
        gk_warn("%s: %s", ex->w->dev->name, gk_errmsg());
    struct extw *w = ex->w;
    gkio_set_txn(ex->io, NULL);
    gk_txn_free(w->txn);
    if (w->pinmap)
        ext2fs_free_block_bitmap(w->pinmap);
    free(w->oppins);
    free(w->gdirty);
    free(w->glist);
    free(w->gd_shadow);
    widx_drop(w);
    free(w);
    ex->w = NULL;
    if (ex->fs)
        ex->fs->priv_data = NULL;
}

static int refuse(gk_dev *dev, const char *why)
{
    gk_error("%s: %s: refusing to write", dev->name, why);
    return -EOPNOTSUPP;
}

/* Free counts of the group descriptors against the bitmaps (e2fsck's
 * pass 5): writing on top of a disagreement would spread it. */
static int check_counts(struct ext *ex, gk_dev *dev)
{
    ext2_filsys fs = ex->fs;
    unsigned cpg = EXT2_CLUSTERS_PER_GROUP(fs->super), ipg = EXT2_INODES_PER_GROUP(fs->super);
    uint64_t nclusters = EXT2FS_B2C(fs, ext2fs_blocks_count(fs->super) - 1) + 1;
    uint8_t *buf = gk_malloc((cpg > ipg ? cpg : ipg) / 8 + 8);
    int r = 0;
    int csum = ext2fs_has_group_desc_csum(fs);
    for (dgrp_t g = 0; g < fs->group_desc_count && r == 0; g++) {
        if (!csum && (ext2fs_bg_flags_test(fs, g, EXT2_BG_INODE_UNINIT | EXT2_BG_BLOCK_UNINIT) ||
                      ext2fs_bg_itable_unused(fs, g))) {
            /* e2fsck would take those for real when inodes get used */
            char why[160];
            snprintf(why, sizeof why, "group %u is marked uninitialized without the uninit_bg or "
                     "metadata_csum feature; run e2fsck", g);
            r = refuse(dev, why);
            break;
        }
        uint64_t first = EXT2FS_B2C(fs, fs->super->s_first_data_block) + (uint64_t)g * cpg;
        unsigned n = first + cpg <= nclusters ? cpg : (unsigned)(nclusters - first);
        unsigned used = 0;
        if (ext2fs_get_block_bitmap_range2(fs->block_map, first, n, buf) != 0) {
            r = -EIO;
            break;
        }
        for (unsigned i = 0; i < n; i++)
            used += ext2fs_test_bit(i, buf) ? 1 : 0;
        if (n - used != ext2fs_bg_free_blocks_count(fs, g)) {
            char why[160];
            snprintf(why, sizeof why, "group %u: free block count %u does not match its bitmap "
                     "(%u); run e2fsck", g, ext2fs_bg_free_blocks_count(fs, g), n - used);
            r = refuse(dev, why);
            break;
        }
        if (ext2fs_get_inode_bitmap_range2(fs->inode_map, (uint64_t)g * ipg + 1, ipg, buf) != 0) {
            r = -EIO;
            break;
        }
        used = 0;
        for (unsigned i = 0; i < ipg; i++)
            used += ext2fs_test_bit(i, buf) ? 1 : 0;
        if (ipg - used != ext2fs_bg_free_inodes_count(fs, g)) {
            char why[160];
            snprintf(why, sizeof why, "group %u: free inode count %u does not match its bitmap "
                     "(%u); run e2fsck", g, ext2fs_bg_free_inodes_count(fs, g), ipg - used);
            r = refuse(dev, why);
        }
    }
    free(buf);
    if (r == -EIO)
        gk_error("%s: reading the bitmaps", dev->name);
    return r;
}

int gk_extw_open(struct ext *ex, gk_dev *dev)
{
    ext2_filsys fs = ex->fs;
    struct ext2_super_block *sb = fs->super;
    if (dev->readonly) {
        gk_error("%s: the image is open read-only", dev->name);
        return -EROFS;
    }
    static const struct { int incompat; uint32_t mask; const char *name; } bad[] = {
        {1, EXT3_FEATURE_INCOMPAT_JOURNAL_DEV, "journal_dev (this is an external journal)"},
        {1, EXT4_FEATURE_INCOMPAT_CASEFOLD, "casefold"},
        {1, EXT4_FEATURE_INCOMPAT_EA_INODE, "ea_inode"},
        {1, EXT4_FEATURE_INCOMPAT_MMP, "mmp"},
        {1, EXT2_FEATURE_INCOMPAT_COMPRESSION, "compression"},
        {0, EXT4_FEATURE_RO_COMPAT_QUOTA, "quota"},
        {0, EXT4_FEATURE_RO_COMPAT_SHARED_BLOCKS, "shared_blocks"},
        {0, EXT4_FEATURE_RO_COMPAT_READONLY, "read-only"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t f = bad[i].incompat ? sb->s_feature_incompat : sb->s_feature_ro_compat;
        if (f & bad[i].mask) {
            char why[160];
            snprintf(why, sizeof why, "the filesystem has the %s feature, which guestkit cannot "
                     "keep consistent", bad[i].name);
            return refuse(dev, why);
        }
    }
    if (sb->s_state & EXT2_ERROR_FS)
        return refuse(dev, "the filesystem has errors recorded (run e2fsck)");
    if (sb->s_last_orphan || ext2fs_has_feature_orphan_present(sb))
        return refuse(dev, "the filesystem has orphaned inodes (it was not cleanly unmounted; "
                      "mount it once or run e2fsck)");
    size_t novl;
    unsigned obs;
    gkio_overlay(ex->io, &novl, &obs);
    int recovering = novl > 0;
    if (ext2fs_has_feature_journal_needs_recovery(sb) && !recovering) {
        /* not replayable by us (or nothing to replay but the flag): with an
         * empty log the flag alone is harmless */
        if (!ext2fs_has_feature_journal(sb) || !sb->s_journal_inum || sb->s_journal_dev)
            return refuse(dev, "the journal needs recovery and is not an internal one");
    }

    struct extw *w = gk_calloc(1, sizeof *w);
    ex->w = w;
    w->dev = dev;
    w->txn = gk_txn_new(dev, ex->bs, ex->nblocks);
    gk_txn_set_base(w->txn, gkio_read_base, ex->io);
    gkio_set_txn(ex->io, w->txn);
    ext2_filsys rw = NULL;
    errcode_t err = gk_ext_open_fs(ex->io, EXT2_FLAG_RW | EXT2_FLAG_SKIP_MMP, &rw);
    int r = 0;
    if (err) {
        gk_error("%s: %s: refusing to write", dev->name, error_message(err));
        r = -EIO;
        goto fail;
    }
    ext2fs_free(fs);
    ex->fs = fs = rw;
    if ((err = setup_fs(ex, fs)) != 0) {
        gk_error("%s: bitmaps: %s: refusing to write", dev->name, error_message(err));
        r = -EIO;
        goto fail;
    }
    if ((r = check_counts(ex, dev)) < 0)
        goto fail;
    if (recovering) {
        /* the journal goes home at the first commit, after file data was
         * written: keep data off the blocks it will overwrite */
        size_t n;
        unsigned obs2;
        const gk_jblock *ovl = gkio_overlay(ex->io, &n, &obs2);
        for (size_t i = 0; i < n; i++)
            if (ovl[i].blk < ext2fs_blocks_count(fs->super)) {
                ext2fs_mark_block_bitmap2(w->pinmap, ovl[i].blk);
                w->npinned++;
            }
    }
    if ((r = gk_txn_journal_load(w->txn, fs)) < 0) {
        gk_error_prefix("%s", dev->name);
        goto fail;
    }
    if (gk_txn_has_journal(w->txn) && ext2fs_has_feature_journal_needs_recovery(sb) && !recovering) {
        /* nothing to replay (an empty log): fine */
    }
    /* commit at a quarter of the journal, as the kernel does: an
     * operation never needs more than the rest (data is written in chunks,
     * large deletes in steps) */
    w->commit_at = gk_txn_capacity(w->txn) / 4;
    uint64_t chunk_blocks = gk_txn_capacity(w->txn) * 8;
    if (chunk_blocks > 16384)
        chunk_blocks = 16384;
    if (chunk_blocks < 64)
        chunk_blocks = 64;
    w->chunk = chunk_blocks * fs->blocksize;
    return 0;
fail:
    gkio_set_txn(ex->io, NULL);
    gk_txn_free(w->txn);
    if (w->pinmap && ex->fs)
        ext2fs_free_block_bitmap(w->pinmap);
    free(w->gdirty);
    free(w->glist);
    free(w->gd_shadow);
    free(w);
    ex->w = NULL;
    if (ex->fs)
        ex->fs->priv_data = NULL;
    return r;
}
