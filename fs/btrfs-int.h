/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private to the Btrfs driver (fs/btrfs*.c).
 *
 *   btrfs.c        the gk_fs_ops: inodes, directories, subvolumes, xattrs,
 *                  statvfs, mount options, open/close
 *   btrfs-vol.c    superblocks and their mirrors, the devices of a
 *                  multi-device filesystem, the chunk map (logical address
 *                  -> device and physical offset, every profile)
 *   btrfs-tree.c   tree blocks (checked, cached) and B-tree search paths
 *   btrfs-data.c   file extents: inline, regular, prealloc, holes and
 *                  zlib / lzo / zstd compression
 *   btrfs-csum.c   crc32c, xxhash64, sha256 and blake2b-256
 *
 * Everything read from the devices is untrusted: a tree block is only
 * used after its checksum, header, item table and key order were checked
 * (bt_node_get); a descent checks that levels go down by one and that a
 * child starts with the key its parent promised; iteration checks that
 * keys only grow, so a block reached twice ends the walk.  Caches have
 * fixed sizes (HACKING, "Resources").
 */
#ifndef GK_BTRFS_INT_H
#define GK_BTRFS_INT_H

#include <stdint.h>
#include "fs-int.h"

/* ---- on-disk constants (the Btrfs disk format) ---- */
#define BT_SUPER_OFF        65536u
#define BT_SUPER_SIZE       4096u
#define BT_MAGIC            0x4D5F53665248425FULL     /* "_BHRfS_M" */
#define BT_MAX_LEVEL        8
#define BT_CSUM_SIZE        32
#define BT_HEADER_SIZE      101
#define BT_ITEM_SIZE        25     /* key (17) + offset + size              */
#define BT_KEYPTR_SIZE      33     /* key (17) + blockptr + generation      */
#define BT_NAME_LEN         255
#define BT_SYS_ARRAY_MAX    2048
#define BT_STRIPE_LEN_MAX   (1u << 30)

/* tree ids */
#define BT_ROOT_TREE        1ull
#define BT_EXTENT_TREE      2ull
#define BT_CHUNK_TREE       3ull
#define BT_DEV_TREE         4ull
#define BT_FS_TREE          5ull
#define BT_ROOT_TREE_DIR    6ull
#define BT_CSUM_TREE        7ull
#define BT_FREE_SPACE_TREE  10ull
#define BT_BLOCK_GROUP_TREE 11ull
#define BT_FIRST_FREE       256ull
#define BT_LAST_FREE        (-256ull)
#define BT_EMPTY_SUBVOL_DIR 2ull
#define BT_FIRST_CHUNK_TREE 256ull
#define BT_DEV_ITEMS        1ull

/* item types */
#define BT_INODE_ITEM       1
#define BT_INODE_REF        12
#define BT_INODE_EXTREF     13
#define BT_XATTR_ITEM       24
#define BT_DIR_ITEM         84
#define BT_DIR_INDEX        96
#define BT_EXTENT_DATA      108
#define BT_ROOT_ITEM        132
#define BT_ROOT_BACKREF     144
#define BT_ROOT_REF         156
#define BT_BLOCK_GROUP_ITEM 192
#define BT_DEV_ITEM         216
#define BT_CHUNK_ITEM       228

/* block group / chunk type bits */
#define BT_BG_DATA          (1ull << 0)
#define BT_BG_SYSTEM        (1ull << 1)
#define BT_BG_METADATA      (1ull << 2)
#define BT_BG_RAID0         (1ull << 3)
#define BT_BG_RAID1         (1ull << 4)
#define BT_BG_DUP           (1ull << 5)
#define BT_BG_RAID10        (1ull << 6)
#define BT_BG_RAID5         (1ull << 7)
#define BT_BG_RAID6         (1ull << 8)
#define BT_BG_RAID1C3       (1ull << 9)
#define BT_BG_RAID1C4       (1ull << 10)
#define BT_BG_PROFILES      (BT_BG_RAID0 | BT_BG_RAID1 | BT_BG_DUP | BT_BG_RAID10 | \
                             BT_BG_RAID5 | BT_BG_RAID6 | BT_BG_RAID1C3 | BT_BG_RAID1C4)

/* incompat features */
#define BT_INCOMPAT_MIXED_BACKREF   (1ull << 0)
#define BT_INCOMPAT_DEFAULT_SUBVOL  (1ull << 1)
#define BT_INCOMPAT_MIXED_GROUPS    (1ull << 2)
#define BT_INCOMPAT_COMPRESS_LZO    (1ull << 3)
#define BT_INCOMPAT_COMPRESS_ZSTD   (1ull << 4)
#define BT_INCOMPAT_BIG_METADATA    (1ull << 5)
#define BT_INCOMPAT_EXTENDED_IREF   (1ull << 6)
#define BT_INCOMPAT_RAID56          (1ull << 7)
#define BT_INCOMPAT_SKINNY_METADATA (1ull << 8)
#define BT_INCOMPAT_NO_HOLES        (1ull << 9)
#define BT_INCOMPAT_METADATA_UUID   (1ull << 10)
#define BT_INCOMPAT_RAID1C34        (1ull << 11)
#define BT_INCOMPAT_ZONED           (1ull << 12)
#define BT_INCOMPAT_EXTENT_TREE_V2  (1ull << 13)
#define BT_INCOMPAT_RAID_STRIPE     (1ull << 14)
#define BT_INCOMPAT_SIMPLE_QUOTA    (1ull << 16)
#define BT_INCOMPAT_REMAP_TREE      (1ull << 17)
#define BT_COMPAT_RO_BLOCK_GROUP_TREE (1ull << 3)

/* file types of directory items */
#define BT_FT_REG_FILE 1
#define BT_FT_DIR      2
#define BT_FT_CHRDEV   3
#define BT_FT_BLKDEV   4
#define BT_FT_FIFO     5
#define BT_FT_SOCK     6
#define BT_FT_SYMLINK  7
#define BT_FT_XATTR    8

/* checksum types */
enum { BT_CSUM_CRC32C = 0, BT_CSUM_XXHASH = 1, BT_CSUM_SHA256 = 2, BT_CSUM_BLAKE2 = 3 };

/* Item layouts: byte offsets inside the item data. */
/* superblock */
#define SB_CSUM 0
#define SB_FSID 32
#define SB_BYTENR 48
#define SB_FLAGS 56
#define SB_MAGIC 64
#define SB_GENERATION 72
#define SB_ROOT 80
#define SB_CHUNK_ROOT 88
#define SB_LOG_ROOT 96
#define SB_TOTAL_BYTES 112
#define SB_BYTES_USED 120
#define SB_NUM_DEVICES 136
#define SB_SECTORSIZE 144
#define SB_NODESIZE 148
#define SB_STRIPESIZE 156
#define SB_SYS_ARRAY_SIZE 160
#define SB_CHUNK_ROOT_GEN 164
#define SB_COMPAT 172
#define SB_COMPAT_RO 180
#define SB_INCOMPAT 188
#define SB_CSUM_TYPE 196
#define SB_ROOT_LEVEL 198
#define SB_CHUNK_ROOT_LEVEL 199
#define SB_LOG_ROOT_LEVEL 200
#define SB_DEV_ITEM 201
#define SB_LABEL 299
#define SB_METADATA_UUID 571
#define SB_SYS_ARRAY 811
/* dev item (98 bytes) */
#define DI_DEVID 0
#define DI_TOTAL_BYTES 8
#define DI_BYTES_USED 16
#define DI_UUID 66
#define DI_FSID 82
#define DI_SIZE 98
/* chunk item (48 bytes + 32 per stripe) */
#define CH_LENGTH 0
#define CH_STRIPE_LEN 16
#define CH_TYPE 24
#define CH_NUM_STRIPES 44
#define CH_SUB_STRIPES 46
#define CH_SIZE 48     /* the first stripe follows */
#define ST_DEVID 0
#define ST_OFFSET 8
#define ST_UUID 16
#define ST_SIZE 32
/* tree block header */
#define HD_FSID 32
#define HD_BYTENR 48
#define HD_GENERATION 80
#define HD_OWNER 88
#define HD_NRITEMS 96
#define HD_LEVEL 100
/* inode item (160 bytes) */
#define II_SIZE 16
#define II_NBYTES 24
#define II_NLINK 40
#define II_UID 44
#define II_GID 48
#define II_MODE 52
#define II_RDEV 56
#define II_FLAGS 64
#define II_ATIME 112
#define II_CTIME 124
#define II_MTIME 136
#define II_OTIME 148
#define II_LEN 160
/* root item */
#define RI_BYTENR 176
#define RI_ROOT_DIRID 168
#define RI_BYTES_USED 192
#define RI_FLAGS 208
#define RI_LEVEL 238
#define RI_MIN 239
/* dir item (30 bytes + name + data) */
#define DIR_LOC 0
#define DIR_DATA_LEN 25
#define DIR_NAME_LEN 27
#define DIR_TYPE 29
#define DIR_SIZE 30
/* root ref / backref (18 bytes + name) */
#define RR_DIRID 0
#define RR_NAME_LEN 16
#define RR_SIZE 18
/* file extent item */
#define FE_RAM_BYTES 8
#define FE_COMPRESSION 16
#define FE_ENCRYPTION 17
#define FE_OTHER 18
#define FE_TYPE 20
#define FE_INLINE_DATA 21
#define FE_DISK_BYTENR 21
#define FE_DISK_NUM_BYTES 29
#define FE_OFFSET 37
#define FE_NUM_BYTES 45
#define FE_SIZE 53
/* block group item */
#define BG_USED 0
#define BG_FLAGS 16
#define BG_SIZE 24

/* ---- in memory ---- */

typedef struct bt_key {
    uint64_t objectid;
    uint8_t type;
    uint64_t offset;
} bt_key;

int bt_key_cmp(const bt_key *a, const bt_key *b);
void bt_key_read(bt_key *k, const uint8_t *p);      /* from a 17-byte disk key */

struct bt_dev {
    uint64_t devid;
    uint8_t uuid[16];
    gk_dev *dev;           /* reference held; NULL: missing               */
    char *name;            /* for messages                                 */
    uint64_t total_bytes, bytes_used;   /* from its dev item (statfs)     */
    int have_item;
};

struct bt_chunk {
    uint64_t logical, length, type, stripe_len;
    uint16_t num_stripes, sub_stripes;
    struct { uint64_t devid, offset; int dev; } *stripes;   /* dev: index in devs, -1 */
};

/* A cached tree block. */
struct bt_node {
    uint64_t bytenr;
    uint8_t *data;         /* nodesize bytes, checked                      */
    int pins;              /* paths holding it                             */
    unsigned age;
    int next;              /* hash chain, index or -1                      */
    int used;
};

/* A position in a tree: the node of each level and the slot in it. */
typedef struct bt_path {
    int nlev;              /* levels held: 0..root level                   */
    struct bt_node *nodes[BT_MAX_LEVEL];
    int slots[BT_MAX_LEVEL];
    bt_key last;           /* the key last returned: keys must grow        */
    int have_last;
} bt_path;

/* A subvolume this mount has entered: index << 48 | objectid is the inode
 * id the VFS sees. */
struct bt_root {
    uint64_t id;
    uint64_t bytenr;
    int level;
    uint64_t dirid;        /* its root directory (256)                     */
};
#define BT_INO_SHIFT 48
#define BT_INO_MASK ((1ull << BT_INO_SHIFT) - 1)
#define BT_MAX_ROOTS 65535

/* One piece of a file's extent map. */
struct bt_fext {
    uint64_t off, len;     /* in the file                                  */
    uint8_t type;          /* 0 inline, 1 regular, 2 prealloc; 3 hole      */
    uint8_t compression;   /* 0 none, 1 zlib, 2 lzo, 3 zstd                */
    uint64_t disk_bytenr, disk_len;     /* extent on disk (logical)        */
    uint64_t ext_off;      /* where this piece starts inside the extent    */
    uint64_t ram_bytes;
    uint8_t *inl;          /* inline data (compressed or not), inl_len     */
    uint32_t inl_len;
};

struct bt_dcache {         /* one decompressed extent                      */
    uint64_t key, disk_len; /* the extent on disk                          */
    uint8_t *data;
    size_t len;
    unsigned age;
    int valid;
};
#define BT_DCACHE_N 4
#define BT_MAX_COMPRESSED (128u << 10)   /* kernel's BTRFS_MAX_UNCOMPRESSED  */

typedef struct btrfs {
    gk_dev *dev;           /* the device we were opened on                */
    uint8_t sb[BT_SUPER_SIZE];
    uint32_t sectorsize, nodesize, csum_size;
    int csum_type;
    uint8_t fsid[16], meta_fsid[16];
    uint64_t generation, incompat, compat_ro, total_bytes, num_devices;
    /* devices */
    struct bt_dev *devs;
    int ndevs;
    /* chunk map, sorted by logical address */
    struct bt_chunk *chunks;
    size_t nchunks;
    /* tree block cache */
    struct bt_node *cache;
    int ncache;
    int *hash;
    int nhash;
    unsigned clock;
    /* trees */
    uint64_t root_bytenr;
    int root_level;
    struct bt_root *roots;     /* subvolumes entered, in order            */
    int nroots;
    int *roots_hash;           /* id -> index (open addressing, -1 free)  */
    int roots_hcap;
    /* the file map of the last file asked */
    uint64_t map_ino;
    struct bt_fext *map;
    size_t nmap;
    uint64_t map_size;
    int map_valid;
    struct bt_dcache dc[BT_DCACHE_N];
    unsigned dclock;
    void *zstd;            /* ZSTD_DCtx, made on first use                 */
    uint8_t *cbuf;         /* compressed bytes of one extent               */
} btrfs;

/* Record a message; returns -eno. */
int bt_fail(int eno, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* btrfs-csum.c */
const char *bt_csum_name(int type);
/* 1 if the algorithm can be computed here. */
int bt_csum_supported(int type);
/* Checksum of buf (32 bytes out, zero padded). */
void bt_csum(int type, const void *buf, size_t n, uint8_t out[BT_CSUM_SIZE]);
uint32_t bt_crc32c(uint32_t crc, const void *buf, size_t n);
/* The directory name hash (crc32c seeded with ~1). */
uint64_t bt_name_hash(const char *name, size_t len);

/* btrfs-vol.c */
/* Check a superblock copy read from offset off; 0 or -EINVAL with why. */
int bt_super_check(const uint8_t *sb, uint64_t off, uint64_t devsize);
/* Read the best superblock of dev into b->sb and set the geometry. */
int bt_super_load(btrfs *b, gk_dev *dev);
/* Find the other devices (args->devs), load the system chunk array and
 * the chunk tree. */
int bt_volumes_open(btrfs *b, const gk_devset *devs);
void bt_volumes_close(btrfs *b);
/* Read n bytes at logical address, copy `mirror` (0-based) where the
 * profile keeps several; -ENOENT past the last mirror. */
int bt_read_logical(btrfs *b, uint64_t logical, void *buf, size_t n, int mirror);
/* How many copies of logical exist (1 for single/RAID0). */
int bt_num_copies(btrfs *b, uint64_t logical);
const struct bt_chunk *bt_chunk_find(btrfs *b, uint64_t logical);

/* btrfs-tree.c */
int bt_cache_init(btrfs *b);
void bt_cache_free(btrfs *b);
/* The checked tree block at bytenr of the given level (generation: what
 * the parent pointer says, 0 unknown). Pinned: bt_node_put. */
int bt_node_get(btrfs *b, uint64_t bytenr, int level, uint64_t generation, struct bt_node **out);
void bt_node_put(struct bt_node *n);
static inline uint32_t bt_nritems(const struct bt_node *n) { return gk_le32(n->data + HD_NRITEMS); }
static inline int bt_level(const struct bt_node *n) { return n->data[HD_LEVEL]; }
/* Position path at the first item >= key in the tree rooted at
 * (bytenr, level).  1 if an item is there, 0 if none (end of tree). */
int bt_search(btrfs *b, uint64_t root, int level, const bt_key *key, bt_path *p);
/* Next / previous item: 1, 0 at the end, or -errno. */
int bt_next(btrfs *b, bt_path *p);
int bt_prev(btrfs *b, bt_path *p);
/* The item under the path. */
void bt_item(const bt_path *p, bt_key *key, const uint8_t **data, uint32_t *len);
void bt_path_release(bt_path *p);
/* The item with exactly this key: 1 and a malloc'd copy, 0 if absent. */
int bt_lookup_item(btrfs *b, uint64_t root, int level, const bt_key *key, uint8_t **data,
                   uint32_t *len);

/* btrfs-data.c */
int bt_file_map(btrfs *b, const struct bt_root *r, uint64_t ino, uint64_t size);
ssize_t bt_file_read(btrfs *b, uint64_t ino, uint8_t *buf, size_t n, uint64_t off);
void bt_map_clear(btrfs *b);
/* Decompress in (n bytes) with method (1 zlib, 2 lzo, 3 zstd) into out
 * (exactly outlen bytes: output that stops short is zero-filled); 0 or
 * -EIO with why. */
int bt_decompress(btrfs *b, int method, const uint8_t *in, size_t n, uint8_t *out,
                  size_t outlen);
void bt_data_close(btrfs *b);

#endif
