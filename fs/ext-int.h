/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private interface of the ext driver: fs/ext.c (the libext2fs driver,
 * reading), fs/ext-io.c (its io_manager), fs/journal.c (JBD2 replay into an
 * in-memory overlay), fs/ext-write.c (the write operations) and
 * fs/ext-txn.c (the block store that makes them transactions: JBD2 on
 * ext3/4, in place on ext2). */
#ifndef GK_EXT_INT_H
#define GK_EXT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <ext2fs/ext2fs.h>
#include "blk.h"
#include "fs-int.h"

/* The driver state (fs/ext.c). */
struct run {                     /* a mapped piece of a file, in fs blocks */
    uint64_t lblk, pblk, len;
    int uninit;
};

#define DIRCACHE_N 4
#define DIRCACHE_MIN_BLOCKS 8    /* smaller directories are scanned */

struct dirhash {                 /* name -> inode table of one directory */
    uint64_t ino;
    size_t cap, n;               /* cap is a power of two */
    struct dent { uint32_t hash, ino; uint32_t off; uint16_t len; } *tab;
    char *names;
    size_t names_len, names_cap;
    unsigned age;
};

struct ext {
    ext2_filsys fs;
    struct gkio *io;
    unsigned bs;
    uint64_t nblocks;            /* blocks of the filesystem */
    uint64_t overhead;           /* blocks, as the kernel's statfs subtracts */
    /* one-file map cache: sequential readers of one file map it once */
    uint64_t map_ino;
    struct run *runs;
    size_t nruns;
    int map_valid;
    struct dirhash dc[DIRCACHE_N];
    unsigned dc_clock;
    struct extw *w;              /* write state (fs/ext-write.c); NULL read-only */
    struct gk_ext_zones *zones;  /* the kernel's system zone (fs/ext-check.c) */
};


/* One replayed block: filesystem block blk reads as the journal block that
 * sits at byte offset src of the device; escaped blocks had their first four
 * bytes replaced (JBD2_FLAG_ESCAPE) and get the JBD2 magic back. */
typedef struct gk_jblock {
    uint64_t blk;
    uint64_t src;
    int escaped;
} gk_jblock;

/* Replay the internal journal of fs (opened read-only on dev, unreplayed)
 * into a sorted, duplicate-free list of overlay blocks.  Returns 0 with
 * *n == 0 when there is nothing to replay, -1 with gk_error() when the
 * journal cannot be used (the caller then reads the unreplayed state). */
int gk_journal_replay(ext2_filsys fs, gk_dev *dev, gk_jblock **out, size_t *n);

/* The io_manager over a gk_dev (fs/ext-io.c).  ext2fs_open2 passes only a
 * name, so each gkio is registered under the name gkio_name() gives. */
struct gkio;
extern io_manager gk_ext_io_manager;
struct gkio *gkio_new(gk_dev *dev);
void gkio_free(struct gkio *io);
void gkio_name(struct gkio *io, char *buf, size_t n);
/* Install (takes ownership) or, with NULL, drop the journal overlay. */
void gkio_set_overlay(struct gkio *io, gk_jblock *ovl, size_t n, unsigned bs);
/* Read len bytes at byte offset off, overlay applied: 0 or an errno value. */
int gkio_read(struct gkio *io, uint64_t off, size_t len, void *buf);
/* Block number block of bs bytes, through the block cache when bs is the
 * filesystem's block size (directory blocks, like libext2fs's metadata
 * reads, are read again and again by lookups). */
int gkio_read_block(struct gkio *io, uint64_t block, unsigned bs, void *buf);
/* The write side.  A writable gkio accepts IO_FLAG_RW opens; libext2fs's
 * block writes go to the transaction store (nothing reaches the device
 * until gk_txn_commit); gkio_write_direct writes file data straight to the
 * device (ordered mode: data before the metadata that points at it). */
struct gk_txn;
void gkio_set_txn(struct gkio *io, struct gk_txn *t);
int gkio_write_direct(struct gkio *io, uint64_t off, size_t len, const void *buf);
/* Read what is under the store: the device and the journal overlay;
 * 0 or an errno value (gk_txn_set_base's reader). */
int gkio_read_base(void *io, uint64_t off, size_t len, void *buf);
/* Forget every cached block (after a rollback). */
void gkio_cache_drop(struct gkio *io);
/* The journal overlay installed by gkio_set_overlay (NULL, 0 if none). */
const gk_jblock *gkio_overlay(struct gkio *io, size_t *n, unsigned *bs);

/* ---- fs/ext-check.c: inodes and extent trees checked as the kernel does ---- */
/* The "system zone": metadata blocks no file may map, and the journal's. */
struct gk_ext_zones;
struct gk_ext_zones *gk_ext_zones_new(ext2_filsys fs);
void gk_ext_zones_free(struct gk_ext_zones *z);
/* [start, start+count) inside the filesystem and, unless ino is the
 * journal's owner, outside the zone (ext4_inode_block_valid). */
int gk_ext_block_valid(ext2_filsys fs, const struct gk_ext_zones *z, uint64_t ino,
                       uint64_t start, uint64_t count);
/* Descriptor blocks after the superblock copy of group g (not counting
 * reserved GDT blocks), as the kernel's ext4_bg_num_gdb. */
uint64_t gk_ext_num_gdb(ext2_filsys fs, dgrp_t g);
/* The largest i_size of an extent-mapped / block-mapped file. */
uint64_t gk_ext_maxbytes(ext2_filsys fs);
uint64_t gk_ext_bitmap_maxbytes(ext2_filsys fs);
/* What iget checks (size, EA block, extent root or block pointers): 0, or
 * -EUCLEAN with gk_error(). */
int gk_ext_check_inode(ext2_filsys fs, const struct gk_ext_zones *z, uint64_t ino,
                       const struct ext2_inode_large *in, uint64_t size);
/* Each leaf extent of ino's tree below logical block limit, in order, every
 * node checked as __ext4_ext_check does (at most max_nodes read); fn
 * returning non-zero stops the walk with that value.  0, -EUCLEAN (corrupt,
 * with gk_error), -EIO. */
typedef int (*gk_ext_extent_fn)(void *priv, uint64_t lblk, uint64_t pblk, uint64_t len,
                                int uninit);
int gk_ext_extents(ext2_filsys fs, struct gkio *io, const struct gk_ext_zones *z, uint64_t ino,
                   const struct ext2_inode_large *in, uint64_t limit, uint64_t max_nodes,
                   gk_ext_extent_fn fn, void *priv);

/* ---- fs/ext-crypt.c: encrypted directories without their key ---- */
#define GK_EXT_NOKEY_BUF 256     /* a no-key name and its NUL */
/* The kernel's no-key name of ciphertext name[0..len) with htree hash
 * (hash, minor), or 0, 0: its length. */
size_t gk_ext_nokey_name(const uint8_t *name, size_t len, uint32_t hash, uint32_t minor,
                         char out[GK_EXT_NOKEY_BUF]);
/* A no-key name decoded for lookups (-1: not one, no entry can match). */
typedef struct gk_ext_nokey {
    uint8_t bytes[189];
    size_t len;
    int longname;                /* 149 bytes and the SHA-256 of the rest */
} gk_ext_nokey;
int gk_ext_nokey_parse(const char *s, gk_ext_nokey *k);
int gk_ext_nokey_match(const gk_ext_nokey *k, const uint8_t *name, size_t len);
/* ext4's htree hash of a ciphertext name (hash version as readdir uses). */
int gk_ext_crypt_hash(ext2_filsys fs, int version, const uint8_t *name, size_t len,
                      uint32_t *hash, uint32_t *minor);

/* ---- fs/ext.c, for the write side ---- */
/* Read inode ino (bytes past i_extra_isize zeroed); -errno. */
int gk_ext_read_inode(struct ext *ex, uint64_t ino, struct ext2_inode_large *in);
/* Directory dir changed: name now leads to ino (added or replaced), or
 * with ino 0 name was removed; name NULL: forget what is cached of dir
 * (dir 0: of every directory). */
void gk_ext_dir_changed(struct ext *ex, uint64_t dir, const char *name, uint32_t ino);
/* The read side's lookup (cached name tables for big directories). */
int gk_ext_lookup(struct ext *ex, uint64_t dir, const char *name, uint64_t *ino);
/* Some inode's block map changed: drop the cached map. */
void gk_ext_map_changed(struct ext *ex);
/* Record "what: libext2fs message"; returns -eno. */
int gk_ext_fail(errcode_t err, int eno, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* libext2fs's open flags and name for our io_manager. */
errcode_t gk_ext_open_fs(struct gkio *io, int flags, ext2_filsys *fs);

/* ---- fs/ext-txn.c: the transaction store ----
 * Every block libext2fs writes while a filesystem is open for writing is
 * kept in memory; reads see it.  An operation (gk_txn_op_begin/end) either
 * keeps its blocks or, on failure, restores the store to where it began.
 * gk_txn_commit makes everything kept durable as one JBD2 transaction
 * (descriptor, copies, commit block, then the blocks in place, then the
 * journal marked empty), or on a filesystem without a journal writes the
 * blocks in place (best effort). */
struct gk_txn *gk_txn_new(gk_dev *dev, unsigned bs, uint64_t nblocks);
void gk_txn_free(struct gk_txn *t);
/* Store len bytes at byte offset off (read-modify-write for partial blocks);
 * 0 or an errcode. */
errcode_t gk_txn_write(struct gk_txn *t, uint64_t off, size_t len, const void *buf);
/* Copy the stored blocks that overlap [off, off+len) into buf. */
void gk_txn_overlay(struct gk_txn *t, uint64_t off, size_t len, void *buf);
size_t gk_txn_nblocks(struct gk_txn *t);
/* Where blocks not in the store are read from (default: the device). */
void gk_txn_set_base(struct gk_txn *t, int (*base)(void *ud, uint64_t off, size_t len, void *buf),
                     void *ud);
void gk_txn_op_begin(struct gk_txn *t);
/* ok: keep the operation's blocks; !ok: undo them. */
void gk_txn_op_end(struct gk_txn *t, int ok);
/* Journal: load and check the internal journal of fs (0, or -errno with
 * gk_error naming the problem); without a journal, nothing.  */
int gk_txn_journal_load(struct gk_txn *t, ext2_filsys fs);
int gk_txn_has_journal(struct gk_txn *t);
/* How many blocks a transaction may hold (journal space, memory). */
size_t gk_txn_capacity(struct gk_txn *t);
/* Write the replayed journal blocks of the overlay home, then mark the
 * journal empty and the filesystem recovered on the device. */
int gk_txn_replay_home(struct gk_txn *t, ext2_filsys fs, const gk_jblock *ovl, size_t n);
/* Set (1) or clear (0) needs_recovery in the superblock on the device
 * and in fs->super, and flush. */
int gk_txn_mark_recovery(struct gk_txn *t, ext2_filsys fs, int on);
/* Make the stored blocks durable; the store is empty afterwards. */
int gk_txn_commit(struct gk_txn *t, ext2_filsys fs);

/* ---- fs/ext-write.c: the write operations (fs/fs-int.h) ---- */
/* Prepare ex for writing (called by ext_open with a->rw): checks that the
 * filesystem can be kept consistent, reopens it read-write.  -errno. */
int gk_extw_open(struct ext *ex, gk_dev *dev);
/* Commit and close the write side (ext_close). */
void gk_extw_close(struct ext *ex);
int gk_extw_create(gk_fs *fs, uint64_t dir, const char *name, uint32_t mode, uint32_t uid,
                   uint32_t gid, uint64_t *ino);
ssize_t gk_extw_write(gk_fs *fs, uint64_t ino, const void *buf, size_t n, uint64_t off);
int gk_extw_truncate(gk_fs *fs, uint64_t ino, uint64_t size);
int gk_extw_mkdir(gk_fs *fs, uint64_t dir, const char *name, uint32_t mode, uint32_t uid,
                  uint32_t gid, uint64_t *ino);
int gk_extw_rmdir(gk_fs *fs, uint64_t dir, const char *name);
int gk_extw_unlink(gk_fs *fs, uint64_t dir, const char *name);
int gk_extw_rename(gk_fs *fs, uint64_t olddir, const char *oldname, uint64_t newdir,
                   const char *newname, unsigned flags);
int gk_extw_link(gk_fs *fs, uint64_t ino, uint64_t newdir, const char *newname);
int gk_extw_symlink(gk_fs *fs, uint64_t dir, const char *name, const char *target, uint32_t uid,
                    uint32_t gid, uint64_t *ino);
int gk_extw_mknod(gk_fs *fs, uint64_t dir, const char *name, uint32_t mode, uint64_t rdev,
                  uint32_t uid, uint32_t gid, uint64_t *ino);
int gk_extw_chmod(gk_fs *fs, uint64_t ino, uint32_t mode);
int gk_extw_chown(gk_fs *fs, uint64_t ino, uint32_t uid, uint32_t gid);
int gk_extw_utimens(gk_fs *fs, uint64_t ino, const struct timespec times[2]);
int gk_extw_setxattr(gk_fs *fs, uint64_t ino, const char *name, const void *val, size_t len,
                     int flags);
int gk_extw_removexattr(gk_fs *fs, uint64_t ino, const char *name);
int gk_extw_sync(gk_fs *fs);

#endif
