/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private interface between the parts of the XFS driver: fs/xfs.c (mount,
 * superblock, getattr, statvfs), fs/xfs-inode.c (metadata cache, inodes,
 * block maps, file data, symlinks), fs/xfs-dir.c (directories), fs/xfs-attr.c
 * (extended attributes) and fs/xfs-log.c (is the log clean?).
 *
 * Everything on disk is big-endian except the CRC fields (little-endian
 * crc32c).  Sizes below are the on-disk layout of the XFS format; names
 * are ours.
 */
#ifndef GK_XFS_INT_H
#define GK_XFS_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "fs-int.h"

#define XFS_SB_MAGIC 0x58465342u         /* "XFSB" */
#define XFS_INODE_MAGIC 0x494e           /* "IN" */
#define XFS_MAX_ISIZE 2048

/* inode fork formats */
enum { XFS_FMT_DEV, XFS_FMT_LOCAL, XFS_FMT_EXTENTS, XFS_FMT_BTREE };

/* One mapping of a fork: fs blocks [off, off+len) at fs block blk. */
struct xfs_ext {
    uint64_t off, blk, len;
    int unwritten;
};

/* A decoded inode.  raw holds the on-disk bytes; the forks are windows of
 * it (already checked to lie inside the inode). */
struct xfs_ino {
    uint64_t ino;
    uint16_t mode;
    uint8_t version, format, aformat;
    uint32_t uid, gid, nlink;
    uint64_t size, nblocks;
    uint64_t nextents, anextents;
    uint16_t flags;
    uint64_t flags2;
    uint32_t rdev;                   /* XFS_FMT_DEV: the old 32-bit dev_t */
    struct timespec atime, mtime, ctime, crtime;
    int has_crtime;
    unsigned doff, dlen;             /* data fork in raw */
    unsigned aoff, alen;             /* attribute fork (alen 0: none) */
    uint8_t raw[XFS_MAX_ISIZE];
};

#define XFS_DIFLAG_REALTIME 0x1
#define XFS_DIFLAG2_BIGTIME (1ull << 3)
#define XFS_DIFLAG2_NREXT64 (1ull << 4)

/* The metadata block cache: fixed number of fs-block slots (see HACKING,
 * Resources). */
struct xfs_cslot {
    uint8_t *data;                   /* one fs block, allocated on first use */
    uint64_t blk;
    int next;                        /* hash chain, -1 ends */
    uint8_t ref, valid;
};

struct xfs_cache {
    unsigned nslots, hand;
    struct xfs_cslot *s;
    int *bucket;                     /* XFS_CACHE_BUCKETS heads */
    uint8_t *scratch;                /* one cluster, for read-ahead */
};

struct xfs {
    gk_dev *dev;
    const char *name;                /* device name, for messages */
    /* geometry */
    uint32_t bs, blocklog;
    uint32_t agblocks, agcount, agblklog;
    uint64_t dblocks;
    uint32_t isize, inodelog, inopblog;
    uint32_t dirbs, dirfsbs;         /* directory block: bytes, fs blocks */
    uint32_t clusterfsbs;            /* inode read-ahead, fs blocks (power of 2) */
    uint64_t leaf_lblk, free_lblk;   /* first directory leaf / free block (fs blocks) */
    uint32_t sectsize;
    int v5, ftype, ci, has_parent, nrext64, bigtime, lazysb;
    uint8_t uuid[16];                /* metadata UUID stamped in v5 blocks */
    uint64_t rootino;
    uint64_t logstart;
    uint32_t logblocks;
    int log_dirty;
    int need_sum;                    /* statvfs sums the AG headers */
    /* for statvfs */
    uint64_t icount, ifree, fdblocks, allocbt;
    uint32_t imax_pct, inopblock;
    struct xfs_cache cache;
    /* one-file map cache: sequential readers of a file map it once */
    uint64_t map_ino;
    struct xfs_ext *map;
    size_t nmap;
    uint64_t map_size;
    int map_valid;
};

/* fs/xfs.c */
/* Record a corruption message ("inode 131: ...") and return -EUCLEAN. */
int xfs_corrupt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* crc32c of buf with the 4 bytes at crc_off taken as zero, compared with
 * the little-endian value stored there. */
int xfs_crc_ok(const uint8_t *buf, size_t len, size_t crc_off);
/* The checks of a v5 self-describing block: crc, UUID, owner inode (when
 * owner_off >= 0) and disk address (daddr, 512-byte units).  -EBADMSG or
 * -EUCLEAN with the message prefixed by what. */
int xfs_check_v5(struct xfs *x, const uint8_t *b, size_t len, size_t crc_off, size_t uuid_off,
                 long owner_off, uint64_t owner, size_t blkno_off, uint64_t daddr,
                 const char *what);
uint32_t xfs_da_hashname(const uint8_t *name, size_t len);

/* fs/xfs-inode.c */
int xfs_cache_init(struct xfs *x);
void xfs_cache_free(struct xfs *x);
/* Byte offset of fs block fsbno after checking that [fsbno, fsbno+n) is
 * inside one allocation group of the filesystem. */
int xfs_fsb_byte(struct xfs *x, uint64_t fsbno, uint64_t n, uint64_t *byte);
/* One fs block through the cache; on a miss the aligned run of ahead
 * blocks (a power of two) around it is read in the same request.  *data
 * stays valid until the next cache call. */
int xfs_bread(struct xfs *x, uint64_t fsbno, unsigned ahead, const uint8_t **data);
/* An inode, checked; xfs_iget's messages say "inode N: ...", those of
 * xfs_iget_raw leave the number to the caller (getattr: the VFS adds it). */
int xfs_iget(struct xfs *x, uint64_t ino, struct xfs_ino *ip);
int xfs_iget_raw(struct xfs *x, uint64_t ino, struct xfs_ino *ip);
/* The whole mapping of a fork (attr: 0 data, 1 attributes) in file-offset
 * order, checked: caller frees *out. */
int xfs_fork_map(struct xfs *x, const struct xfs_ino *ip, int attr, struct xfs_ext **out,
                 size_t *n);
/* The mapping holding logical block lblk (NULL: a hole). */
const struct xfs_ext *xfs_map_find(const struct xfs_ext *m, size_t n, uint64_t lblk);
/* count fs blocks at logical block lblk of a mapped fork into buf (through
 * the cache).  -ENOENT (with a message) if a block is a hole. */
int xfs_read_fork(struct xfs *x, const struct xfs_ext *m, size_t n, uint64_t lblk,
                  unsigned count, uint8_t *buf, uint64_t *daddr, const char *what);
ssize_t xfs_read(gk_fs *fs, uint64_t ino, void *buf, size_t n, uint64_t off);
int xfs_fmap(gk_fs *fs, uint64_t ino, gk_fmap **out, size_t *n);
ssize_t xfs_readlink(gk_fs *fs, uint64_t ino, char *buf, size_t bufsz);

/* fs/xfs-dir.c */
int xfs_readdir(gk_fs *fs, uint64_t dir, gk_readdir_cb cb, void *opaque);
int xfs_lookup(gk_fs *fs, uint64_t dir, const char *name, uint64_t *ino);

/* fs/xfs-attr.c */
ssize_t xfs_listxattr(gk_fs *fs, uint64_t ino, char *buf, size_t bufsz);
ssize_t xfs_getxattr(gk_fs *fs, uint64_t ino, const char *name, void *buf, size_t bufsz);

/* A set of block numbers, for walks along sibling pointers: a block seen
 * twice is a loop.  Grows with the blocks really visited. */
struct xfs_blkset {
    uint64_t *v;
    size_t cap, n;
};
/* 1 if blk was new (now added), 0 if already there. */
int xfs_blkset_add(struct xfs_blkset *s, uint64_t blk);
void xfs_blkset_free(struct xfs_blkset *s);

/* fs/xfs-dir.c: the dabtree (directory leaves and attribute blocks).
 * xfs_da_read reads the block of fsbs fs blocks at lblk, verifies a v5
 * header and returns the 16-bit magic of its block info (or -errno).
 * xfs_da_descend goes from the block at root_lblk (a node, or already a
 * leaf) down to the leaf (leaf_magic) holding the first record with a
 * hash >= hash, left in buf. */
int xfs_da_read(struct xfs *x, const struct xfs_ino *ip, const struct xfs_ext *m, size_t n,
                uint64_t lblk, unsigned fsbs, uint8_t *buf, const char *what);
int xfs_da_descend(struct xfs *x, const struct xfs_ino *ip, const struct xfs_ext *m, size_t n,
                   uint64_t root_lblk, unsigned fsbs, uint32_t hash, uint16_t leaf_magic,
                   uint8_t *buf, uint64_t *leaf_lblk, const char *what);

/* fs/xfs-log.c: 1 clean, 0 needs recovery, -1 unknown (message in
 * gk_error). */
int xfs_log_clean(struct xfs *x);

#endif
