/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 driver internals shared by lib/qcow2.c (reading) and
 * lib/qcow2-check.c (qemu-img check).  Not part of the public API. */
#ifndef GK_QCOW2_H
#define GK_QCOW2_H

#include <stdint.h>
#include <sys/types.h>
#include <zlib.h>
#include <zstd.h>

#include "blk.h"

#define QC_OFLAG_COPIED      (1ULL << 63)
#define QC_OFLAG_COMPRESSED  (1ULL << 62)
#define QC_OFLAG_ZERO        1ULL
#define QC_OFFSET_MASK       0x00fffffffffffe00ULL  /* L1 and standard L2 entries */
#define QC_REFT_OFFSET_MASK  0xfffffffffffffe00ULL
#define QC_L2_STD_RESERVED   0x3f000000000001feULL
#define QC_MAX_L1_BYTES      (32ULL << 20)
#define QC_MAX_REFT_BYTES    (8ULL << 20)
#define QC_MAX_SNAPSHOTS     65536
#define QC_MAX_SNAPSHOTS_BYTES (64ULL << 20)
#define QC_MAX_EXTRA_DATA    1024

enum {
    QC_INCOMPAT_DIRTY = 1, QC_INCOMPAT_CORRUPT = 2, QC_INCOMPAT_DATA_FILE = 4,
    QC_INCOMPAT_COMPRESSION = 8, QC_INCOMPAT_EXTL2 = 16,
};

struct qcow2_l2c {       /* one cached L2 table */
    uint64_t off;
    uint8_t *tbl;
    uint64_t used;       /* LRU tick */
};

struct qcow2_dc {        /* one cached decompressed cluster */
    uint64_t desc;       /* L2 descriptor, COPIED bit cleared */
    uint8_t *buf;
    uint64_t used;
    int valid;
};

struct qcow2 {
    int fd;
    char *path;
    uint64_t file_size;
    dev_t st_dev;
    ino_t st_ino;
    int data_fd;               /* == fd unless there is an external data file */
    char *data_path;           /* == path unless external                     */
    int version;
    unsigned cluster_bits;
    uint64_t cluster_size;
    unsigned l2_bits;          /* log2 of entries per L2 table                */
    uint64_t l2_entries;
    unsigned l2_entry_size;    /* 8, or 16 with extended L2                  */
    int ext_l2;
    uint64_t header_size;      /* virtual size in the header                  */
    uint64_t size;             /* size of the device (a snapshot's disk size)  */
    uint64_t incompat, compat, autoclear;
    unsigned refcount_order;
    uint32_t header_length;
    int compression_type;      /* 0 deflate, 1 zstd                           */
    uint32_t crypt_method;
    uint32_t hdr_l1_size;      /* the active L1 as in the header              */
    uint64_t hdr_l1_offset;
    uint64_t reft_offset;
    uint32_t reft_clusters;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset, snapshots_size;
    gk_snapshot_info *snaps;
    int nb_bitmaps;
    uint64_t bitmap_dir_offset, bitmap_dir_size;
    uint64_t crypto_off, crypto_len;
    char *backing_name, *backing_full, *backing_format, *data_file_name;
    gk_dev *backing;
    /* The L1 used for reads: the active one, or a snapshot's. */
    uint64_t *l1;
    uint32_t l1_size;
    /* Bounded cache of L2 tables: l2c_sets sets of l2c_ways, LRU in a set. */
    struct qcow2_l2c *l2c;
    unsigned l2c_n;            /* tables allocated so far */
    unsigned l2c_sets, l2c_ways;
    uint64_t tick;
    /* Decompression: a couple of clusters, the compressed input buffer. */
    struct qcow2_dc dc[2];
    uint8_t *cbuf;
    uint64_t cbuf_size;
    z_stream zs;
    int zs_ok;
    ZSTD_DCtx *zd;
    uint64_t host_preads;      /* number of read syscalls issued (tests)      */
};

extern const struct gk_dev_ops gk_qcow2_ops;

/* Read n bytes of a host file at off; bytes past its end read as zeros.
 * Counts into q->host_preads.  -1 with gk_error on an I/O error. */
int gk_qcow2_host_read(struct qcow2 *q, int fd, const char *name, void *buf, size_t n, uint64_t off);

/* Byte offset and length of a compressed cluster's stream. */
void gk_qcow2_compressed_range(const struct qcow2 *q, uint64_t desc, uint64_t *coff, uint64_t *csize);

/* Number of host read syscalls since open (for tests of read merging). */
uint64_t gk_qcow2_host_preads(gk_dev *d);

#endif
