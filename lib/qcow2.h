/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The qcow2 driver's parts, private to lib/qcow2*.c (split by job, as qemu
 * splits block/qcow2*.c):
 *
 *   qcow2.c           open and close, the device operations, info, the format
 *   qcow2-header.c    the header: one field table to parse it and to write it
 *   qcow2-cluster.c   L1/L2 tables: guest offset -> host offset
 *   qcow2-cache.c     the metadata cache (L2 tables, refcount blocks)
 *   qcow2-refcount.c  refcounts: table, blocks, preallocation test (shared by
 *                     the checker and, later, the allocator)
 *   qcow2-snapshot.c  the snapshot table
 *   qcow2-compress.c  compressed clusters (deflate, zstd)
 *   qcow2-check.c     qemu-img check
 *
 * Every part reads the image through q->file / q->data (protocol devices),
 * returns 0 or -errno with the message in gk_error(), and trusts nothing it
 * reads.  A struct qcow2 belongs to one device, used by one thread at a time.
 */
#ifndef GK_QCOW2_H
#define GK_QCOW2_H

#include <stddef.h>
#include <stdint.h>
#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>

#include "blk-int.h"
#include "u64map.h"

#define QC_MAGIC             0x514649fbU
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
#define QC_MAX_EXTS          64          /* header extensions kept        */

enum {
    QC_INCOMPAT_DIRTY = 1, QC_INCOMPAT_CORRUPT = 2, QC_INCOMPAT_DATA_FILE = 4,
    QC_INCOMPAT_COMPRESSION = 8, QC_INCOMPAT_EXTL2 = 16,
    QC_INCOMPAT_KNOWN = 0x1f,
    QC_COMPAT_LAZY_REFCOUNTS = 1,
    QC_AUTOCLEAR_BITMAPS = 1, QC_AUTOCLEAR_DATA_FILE_RAW = 2,
};

enum {
    QC_EXT_END = 0,
    QC_EXT_BACKING_FORMAT = 0xE2792ACA,
    QC_EXT_FEATURE_TABLE = 0x6803F857,
    QC_EXT_BITMAPS = 0x23852875,
    QC_EXT_CRYPTO = 0x0537BE77,
    QC_EXT_DATA_FILE = 0x44415441,
};

/* ---- the header (qcow2-header.c) ---- */

/* The fixed header fields, in host byte order.  Which are on disk depends
 * on the version and header_length (qcow2_header_fields). */
struct qcow2_header {
    uint32_t magic, version;
    uint64_t backing_file_offset;
    uint32_t backing_file_size;
    uint32_t cluster_bits;
    uint64_t size;
    uint32_t crypt_method;
    uint32_t l1_size;
    uint64_t l1_table_offset;
    uint64_t refcount_table_offset;
    uint32_t refcount_table_clusters;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
    /* version 3 */
    uint64_t incompatible_features, compatible_features, autoclear_features;
    uint32_t refcount_order;
    uint32_t header_length;
    uint8_t compression_type;          /* when header_length > 104        */
};

/* One header field: where it is on disk and in struct qcow2_header. */
struct qcow2_field {
    const char *name;
    uint16_t disk_off;                 /* byte offset in the header       */
    uint8_t size;                      /* 1, 4 or 8 bytes, big-endian     */
    uint8_t min_version;               /* 2, or 3 for the v3 fields       */
    uint16_t mem_off;                  /* offsetof(struct qcow2_header, _) */
};
extern const struct qcow2_field qcow2_header_fields[];

/* Decode the fields present in buf (len bytes from offset 0): v2 fields
 * always, v3 fields for version 3, compression_type when header_length
 * covers it.  Missing v3 fields get their v2 meaning (refcount_order 4,
 * header_length 72).  -EINVAL with gk_error on a truncated header. */
int qcow2_header_decode(struct qcow2_header *h, const uint8_t *buf, size_t len, const char *name);
/* Encode every field of h that its version and header_length put on disk
 * into buf (at least header_length bytes); other bytes are left alone. */
void qcow2_header_encode(const struct qcow2_header *h, uint8_t *buf);

/* A header extension as found, kept so that a rewrite keeps unknown ones. */
struct qcow2_ext {
    uint32_t type;
    uint32_t len;
    uint8_t *data;
};

/* ---- the metadata cache (qcow2-cache.c) ---- */

/* A bounded cache of cluster-sized metadata tables of one kind (L2 tables
 * or refcount blocks) stored in dev.  Set-associative: a lookup costs a few
 * compares however large the cache is; LRU within a set.
 *
 * A table is used between get and put (it is pinned: never evicted while
 * held).  Writing, for issue 9's writer: mark_dirty after changing a table;
 * a dirty table is written back when evicted, by qcow2_cache_write and by
 * qcow2_cache_flush.  Ordering: with qcow2_cache_set_dependency(c, dep),
 * every dirty table of dep is written and dep's device flushed before any
 * table of c is written (qemu: refcount blocks reach the disk before the L2
 * tables that point to newly counted clusters). */
struct qcow2_cache;
struct qcow2_cache *qcow2_cache_new(gk_dev *dev, const char *what, uint64_t table_size, unsigned ntables);
/* Frees the cache; dirty tables must have been written (they are lost
 * otherwise, and a message says so). */
void qcow2_cache_free(struct qcow2_cache *c);
/* The table at off (cluster aligned, checked by the caller), read on a
 * miss.  0 or -errno. */
int qcow2_cache_get(struct qcow2_cache *c, uint64_t off, void **table);
/* The same without reading: for a table the caller fills completely. */
int qcow2_cache_get_empty(struct qcow2_cache *c, uint64_t off, void **table);
void qcow2_cache_put(struct qcow2_cache *c, void *table);
void qcow2_cache_mark_dirty(struct qcow2_cache *c, void *table);
void qcow2_cache_set_dependency(struct qcow2_cache *c, struct qcow2_cache *dep);
/* dev is flushed before any table of c is written (the external data file
 * under L2 tables: guest data before the entries that point to it). */
void qcow2_cache_flush_first(struct qcow2_cache *c, gk_dev *dev);
/* Write every dirty table (after the dependency's); 0 or -errno. */
int qcow2_cache_write(struct qcow2_cache *c);
/* qcow2_cache_write, then flush the device. */
int qcow2_cache_flush(struct qcow2_cache *c);
/* Forget the table at off (its cluster was freed): no write-back. */
void qcow2_cache_discard(struct qcow2_cache *c, uint64_t off);
/* Forget every table (clean ones only; -EBUSY if some are dirty or held). */
int qcow2_cache_empty(struct qcow2_cache *c);
/* Tables read from the device since the cache was made (tests). */
uint64_t qcow2_cache_misses(const struct qcow2_cache *c);

/* ---- the driver state ---- */

/* Decompressed clusters kept: each is read and inflated once per run,
 * whoever reads it (probing, the partition table, the filesystem all ask
 * for the same few clusters).  16 slots, at most 4 MiB (2 slots of 2 MiB
 * clusters).  The cache starts with one slot and doubles when a cluster
 * it evicted is asked for again (a ring of the last evicted ones): a
 * short run that reads each cluster in turn keeps reusing one buffer,
 * whose pages are already there (a fresh 64 KiB costs more on first touch
 * than inflating the cluster again: bench/RESULTS.md, round 6).  A writer
 * that frees or rewrites a compressed cluster calls
 * qcow2_decompressed_forget(). */
#define QCOW2_DC_MAX 16
#define QCOW2_DC_BYTES (4u << 20)
#ifndef QCOW2_DC_START
#define QCOW2_DC_START 3
#endif

struct qcow2_dc {        /* one cached decompressed cluster */
    uint64_t desc;       /* L2 descriptor, COPIED bit cleared */
    uint8_t *buf;
    uint64_t used;
    int valid;
};

struct qcow2 {
    gk_dev *file;              /* the image file (the device's d->file)       */
    gk_dev *data;              /* where guest clusters are: file, or the
                                * external data file (a kid of the device)    */
    const char *path;          /* file->name, for messages                    */
    uint64_t file_size;        /* file->size when opened                      */
    int info_only;             /* GK_OPEN_INFO: no reads                      */
    int strict;                /* refuse what qemu would read but we will not:
                                * tables over the header or past the end of
                                * the file (not for GK_OPEN_INFO)            */
    int check_mode;            /* GK_OPEN_CHECK: the snapshot table is read by
                                * the check, not the open                     */
    struct qcow2_header h;
    int version;
    unsigned cluster_bits;
    uint64_t cluster_size;
    unsigned l2_bits;          /* log2 of entries per L2 table                */
    uint64_t l2_entries;
    unsigned l2_entry_size;    /* 8, or 16 with extended L2                  */
    int ext_l2;
    uint64_t size;             /* size of the device (header size rounded down
                                * to sectors, or a snapshot's)                */
    int compression_type;      /* 0 deflate, 1 zstd                           */
    /* header extensions */
    struct qcow2_ext exts[QC_MAX_EXTS];
    int nexts;
    char *backing_name, *backing_full, *backing_format, *data_file_name, *data_file_full;
    const uint8_t *ftbl;       /* feature name table (in exts), or NULL        */
    uint64_t ftbl_len;
    int nb_bitmaps;
    uint64_t bitmap_dir_offset, bitmap_dir_size;
    uint64_t crypto_off, crypto_len;
    /* encryption (lib/qcow2-crypto.c): the passphrase given at open (not
     * owned), the data cipher once unlocked, IVs from host offsets (LUKS) or
     * guest offsets (legacy AES) */
    const char *key;
    size_t keylen;
    /* a copy of it (gk_secret_alloc) kept by a read-write open of a LUKS
     * image: amend's keyslot changes unlock the volume key again */
    uint8_t *pass;
    size_t passlen;
    struct gk_cipher *crypt;
    int crypt_phys;
    /* snapshots */
    gk_snapshot_info *snaps;
    uint32_t nb_snapshots;
    uint64_t snapshots_size;   /* bytes of the table                          */
    /* the L1 used for reads: the active one, or a snapshot's */
    uint64_t *l1;
    uint32_t l1_size;
    /* metadata caches */
    struct qcow2_cache *l2_cache, *rb_cache;
    /* read-only opens: L2 tables in slices of l2s_size bytes for lookups
     * (qcow2_map), NULL when the image may be written */
    struct qcow2_cache *l2s_cache;
    uint64_t l2s_size;
    /* refcounts (loaded on first use) */
    uint64_t *reft;
    uint64_t reft_entries;
    int reft_loaded;
    int prealloc_checked, prealloc;
    /* compressed clusters: decompressed ones cached (dc_slots of the
     * QCOW2_DC_MAX, at most 4 MiB in all), the input */
    struct qcow2_dc dc[QCOW2_DC_MAX];
    unsigned dc_slots;      /* the most slots (QCOW2_DC_BYTES) */
    unsigned dc_live;       /* slots in use now (1, 2, 4 .. dc_slots) */
    uint64_t dc_gone[QCOW2_DC_MAX]; /* the last evicted descriptors (+1) */
    unsigned dc_gone_next;
    uint64_t tick;
    uint8_t *cbuf;
    uint64_t cbuf_size;
    struct libdeflate_decompressor *ld; /* deflate: libdeflate first, */
    z_stream zs;               /* zlib when it refuses (see qcow2-compress.c) */
    int zs_ok;
    ZSTD_DCtx *zd;
    /* ---- writing (qcow2-write.c, the allocator in qcow2-refcount.c) ---- */
    int rw;                    /* opened read-write                            */
    int dirtied;               /* this writer set the dirty bit (lazy
                                * refcounts): cleared on a clean close        */
    uint64_t free_cluster_index;   /* where the next search for free clusters
                                    * starts (qemu's free_cluster_index)     */
    uint64_t free_byte_offset; /* compressed data: next free byte, or 0        */
    struct qcow2_free { uint64_t off, len; } *frees; /* deferred refcount drops */
    size_t nfrees, frees_cap;
    uint64_t req_next;         /* during one guest write: the host offset where
                                * the clusters it mapped so far end, where its
                                * next allocation goes on (qemu's
                                * qcow2_alloc_host_offset), 0 for none; kept
                                * for a gk_pwrite_more at req_end            */
    uint64_t req_end;          /* the guest offset where the last write ended */
    uint8_t *cow;              /* one cluster: copy-on-write of a partial write */
    uint8_t *enc;              /* one cluster: the encrypted copy of a write  */
    gk_compressor *wc;         /* gk_pwrite_compressed's own compression       */
    gk_zbuf wz;                /* and its output                               */
};

/* Read n bytes of the image file (or of the data file) at off; past the end
 * of the file reads as zeros.  0 or -errno. */
int qcow2_read(struct qcow2 *q, gk_dev *dev, void *buf, size_t n, uint64_t off);
/* Encryption (lib/qcow2-crypto.c): set up the cipher of an encrypted image
 * from q->key (0 for an unencrypted one or an info-only open), decrypt
 * whole sectors of a data run read from host for guest, free it. */
int qcow2_crypto_open(struct qcow2 *q);
/* The LUKS header's slice of the file (what the encryption header
 * extension names, checked against the file): 0 and *hdr (unref it), or
 * -errno with gk_error. */
int qcow2_crypto_header(struct qcow2 *q, gk_dev **hdr);
int qcow2_crypto_decrypt(struct qcow2 *q, uint8_t *buf, size_t n, uint64_t guest, uint64_t host);
void qcow2_crypto_free(struct qcow2 *q);
/* What qemu-img info shows of the encryption (no key needed). */
void qcow2_crypto_info(struct qcow2 *q, gk_encrypt_info *e);

/* ---- cluster mapping (qcow2-cluster.c) ---- */

enum { QC_UNALLOC, QC_ZERO, QC_DATA, QC_COMP };

struct qcow2_run {
    int type;          /* QC_*                                                */
    uint64_t len;
    int has_off;       /* host is valid (data, preallocated zero/unallocated) */
    uint64_t host;     /* host offset of the first byte of the run            */
    uint64_t desc;     /* QC_COMP: the L2 descriptor                          */
};

/* Load an L1 table (the active one or a snapshot's: what names it) after
 * checking it against the image; vsize: the disk size it must cover. */
int qcow2_load_l1(struct qcow2 *q, uint64_t off, uint32_t size, uint64_t vsize, int active);
/* The longest run from off (at most maxlen bytes, inside one L2 table, one
 * compressed cluster at a time) with one type and, where there are host
 * offsets, contiguous ones: qemu's qcow2_get_host_offset(). */
int qcow2_map(struct qcow2 *q, uint64_t off, uint64_t maxlen, struct qcow2_run *r);
/* Byte offset and length of a compressed cluster's stream. */
void qcow2_compressed_range(const struct qcow2 *q, uint64_t desc, uint64_t *coff, uint64_t *csize);

/* ---- compressed clusters (qcow2-compress.c) ---- */

/* Decompress the cluster described by desc into out (cluster_size bytes). */
int qcow2_decompress(struct qcow2 *q, uint64_t desc, uint8_t *out);
/* The decompressed cluster of desc from the cache (QCOW2_DC_MAX above);
 * NULL with gk_error. */
const uint8_t *qcow2_decompressed(struct qcow2 *q, uint64_t desc);
/* The whole cluster of desc into out: from the cache, or decompressed
 * straight into out and kept in the cache unless bulk (a long sequential
 * read, as convert's, would only evict what small readers share). */
int qcow2_decompress_to(struct qcow2 *q, uint64_t desc, uint8_t *out, int bulk);
/* Drop every cached decompressed cluster. */
void qcow2_decompressed_forget(struct qcow2 *q);
void qcow2_compress_free(struct qcow2 *q);

/* ---- refcounts (qcow2-refcount.c) ---- */

/* Load and check the refcount table (done on first use). */
int qcow2_refcount_load(struct qcow2 *q);
/* The stored refcount of host cluster k (0 when no block covers it). */
int qcow2_get_refcount(struct qcow2 *q, uint64_t k, uint64_t *refcount);
/* Largest refcount the image can store. */
uint64_t qcow2_refcount_max(const struct qcow2 *q);
/* ---- the allocator (qcow2-refcount.c), for the writer ----
 *
 * Crash safety rests on qemu's order, which these keep:
 * - a cluster's refcount is raised (in the refcount block cache) before
 *   anything points to it, and the L2 cache depends on the refcount cache,
 *   so refcount blocks reach the disk before the L2 tables that use them;
 * - refcounts are lowered only after what pointed to the cluster has been
 *   redirected and written (qcow2_free_later queues the drop; the flush
 *   applies it after the L2 tables and L1 are on disk).
 * A kill -9 at any point can leak clusters (refcount too high), never leave
 * a cluster with two owners or an owner with refcount 0. */

/* Change the refcount of every cluster [off, off+len) touches by addend;
 * refcount blocks (and a larger refcount table) are allocated as needed.
 * -EAGAIN means metadata was allocated and the caller (an allocator) must
 * search again; other callers never see it. */
int qcow2_update_refcount(struct qcow2 *q, uint64_t off, uint64_t len, int64_t addend);
/* Allocate clusters for bytes bytes (refcount 1 each): their offset, or
 * -errno.  Free clusters are reused, searching from the lowest free one. */
int64_t qcow2_alloc_clusters(struct qcow2 *q, uint64_t bytes);
/* Allocate up to n clusters at off (cluster aligned) as far as they are
 * free in a row (qemu's qcow2_alloc_clusters_at, how a write goes on where
 * its last cluster ended): how many (0 when the one at off is in use), or
 * -errno. */
int64_t qcow2_alloc_clusters_at(struct qcow2 *q, uint64_t off, uint64_t n);
/* Write n bytes of guest data at host offset host of the data file,
 * encrypted first on an encrypted image (n a multiple of 512 then, at
 * most a cluster).  0 or -errno. */
int qcow2_pwrite_data(struct qcow2 *q, const void *buf, size_t n, uint64_t host);
/* Allocate size bytes (< one cluster) for compressed data, packed after
 * the previous ones (qemu's qcow2_alloc_bytes): offset or -errno. */
int64_t qcow2_alloc_bytes(struct qcow2 *q, uint64_t size);
/* Queue a refcount drop of [off, off+len) for the next flush. */
void qcow2_free_later(struct qcow2 *q, uint64_t off, uint64_t len);
/* Refcount blocks that count clusters clusters plus themselves and their
 * table, for clusters of cs bytes and 2^order-bit counts: the fixed point
 * of qemu's qcow2_refcount_metadata_size (generous: with room for a table
 * half as large again); *table gets the table's clusters. */
uint64_t qcow2_refcount_blocks_for(uint64_t clusters, uint64_t cs, unsigned order, int generous, uint64_t *table);
/* New refcount blocks and a new refcount table from start on (qemu's
 * qcow2_refcount_area; see lib/qcow2-refcount.c): where they end, or
 * -errno. */
int64_t qcow2_refcount_area(struct qcow2 *q, uint64_t start, uint64_t extra, int exact, uint64_t idx, uint64_t nb);
/* A new refcount table t of entries entries becomes the image's: it is
 * written at toff (tclusters clusters) and flushed, with what the caller
 * wrote before, then the header's pointer to it is written and flushed,
 * then the copy in memory is swapped (t is taken, freed on failure too).  *old and *oldc get the old table's offset and
 * clusters, for the caller to free as its crash order allows. */
int qcow2_reft_switch(struct qcow2 *q, uint64_t *t, uint64_t entries, uint64_t toff, uint64_t tclusters,
                      uint64_t *old, uint64_t *oldc);
/* Apply the queued drops (the caller has written what replaced them). */
int qcow2_apply_frees(struct qcow2 *q);
/* Set the stored refcount of cluster k (check -r); blocks allocated as
 * needed.  0 or -errno. */
int qcow2_set_refcount(struct qcow2 *q, uint64_t k, uint64_t v);

/* qemu's qcow2_detect_metadata_preallocation(): 1 when the refcounts
 * count clearly more clusters than the file has allocated on the host
 * (then holes of the file under data clusters read as zeros). */
int qcow2_detect_prealloc(struct qcow2 *q);

/* ---- snapshots (qcow2-snapshot.c) ---- */

/* Read the snapshot table (every field bounded). */
int qcow2_read_snapshots(struct qcow2 *q);
/* compat=1.1: the snapshot table in version 3 entries, written again when
 * an entry is short (qemu's qcow2_upgrade).  0 or -errno. */
int qcow2_snapshots_upgrade(gk_dev *d);
/* qemu-img check's reading of the snapshot table (an image opened with
 * GK_OPEN_CHECK): q->snaps as qemu reads them, "incomplete" v3 entries
 * counted in r; -errno with r->error set when the table cannot be read. */
int qcow2_check_read_snapshots(struct qcow2 *q, gk_check_result *r);
void qcow2_check_msg(gk_check_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* qemu's find_snapshot_by_id_and_name(): with both, both must match;
 * -1 if none. */
int qcow2_find_snapshot(const struct qcow2 *q, const char *id, const char *name);
/* qemu's -s / -l NAME: an ID first, then a name. */
int qcow2_find_snapshot_by_id_or_name(const struct qcow2 *q, const char *s);
void qcow2_snapshots_free(struct qcow2 *q);

/* ---- writing (qcow2-write.c) ----
 *
 * The write core other parts build on (snapshots, commit, rebase, amend):
 * - qcow2_open_rw: the checks before an image may be written (not corrupt,
 *   not dirty, not encrypted, metadata consistent per qcow2_check), then
 *   q->rw.  Called by the format's open for read-write opens.
 * - qcow2_op_pwrite / _flush / _truncate / _pwrite_compressed: the device
 *   operations (lib/blk-int.h contracts); flush writes L2 tables (after
 *   refcount blocks and guest data), applies queued refcount drops, writes
 *   refcount blocks, and fdatasyncs.
 * - qcow2_write_header: cluster 0 rebuilt from q->h, q->exts (in their
 *   order) and q->backing_name, written and flushed in one write (for
 *   changes of the extensions or of the backing file).
 * - qcow2_signal_corruption: sets the corrupt bit (v3), stops writing,
 *   -EIO with the message. */
int qcow2_open_rw(struct qcow2 *q, gk_dev *d, gk_open_ctx *ctx);
/* The L2 table of L1 entry l1i, held (qcow2_cache_put it), writable:
 * allocated when missing, copied when shared (no COPIED flag). */
int qcow2_l2_for_write(struct qcow2 *q, uint64_t l1i, void **tv);
/* The reference an L2 entry e held (a data cluster in the image file, a
 * compressed stream) dropped at the next flush, after the entry that
 * replaces it is written. */
void qcow2_release_cluster(struct qcow2 *q, uint64_t e);
/* L2 tables, queued refcount drops, refcount blocks, fdatasync. */
int qcow2_flush_all(struct qcow2 *q);
/* Queued refcount drops past this: flush them (bounded memory). */
#define MAX_PENDING_FREES 4096
/* Write-zeroes and discard (qcow2-zero.c), as qemu 7.2's qcow2 driver
 * does them: zero clusters (version 3), all-zero subclusters (extended L2),
 * unallocated clusters (version 2 without a backing file); -ENOTSUP where
 * only written zeros can do (version 2 over a backing file). */
int qcow2_op_pwrite_zeroes(gk_dev *d, uint64_t off, uint64_t len, unsigned flags);
int qcow2_op_discard(gk_dev *d, uint64_t off, uint64_t len);
int qcow2_op_pwrite(gk_dev *d, const void *buf, size_t n, uint64_t off);
int qcow2_op_pwrite_more(gk_dev *d, const void *buf, size_t n, uint64_t off);
int qcow2_op_pwrite_compressed(gk_dev *d, const void *buf, size_t n, uint64_t off, const gk_zbuf *z);
/* One cluster compressed with the image's compression type, at most
 * cluster_size - 1 bytes (z->len 0: it does not shrink, stored as it is);
 * reads only q's cluster size and compression type (any thread). */
int qcow2_op_compress(gk_dev *d, gk_compressor *c, const void *buf, size_t n, uint64_t off, gk_zbuf *z);
int qcow2_op_flush(gk_dev *d);
int qcow2_op_truncate(gk_dev *d, uint64_t size, enum gk_prealloc prealloc);
/* Host clusters and L2 entries for the guest clusters of [from, to), no
 * data (qcow2-prealloc.c: --preallocation=metadata; with a data file, the
 * data file grows with mode).  0 or -errno. */
int qcow2_prealloc_metadata(gk_dev *d, uint64_t from, uint64_t to, enum gk_prealloc mode);
/* --preallocation=falloc|full: the same, with the data clusters allocated
 * in the file (fallocate or written zeros) and read as zeros.  0 or -errno. */
int qcow2_prealloc_data(gk_dev *d, uint64_t from, uint64_t to, enum gk_prealloc mode);
int qcow2_write_header(struct qcow2 *q);
int qcow2_signal_corruption(struct qcow2 *q, const char *what);
/* Clear incompatible feature bits (dirty, corrupt) in one header write. */
int qcow2_clear_incompat(struct qcow2 *q, uint64_t bits);
/* Lazy refcounts (version 3, the compatible bit set): before the first
 * write that links a cluster without its refcount on disk first, set the
 * dirty bit and let L2 tables be written without the refcount blocks
 * (qemu's qcow2_mark_dirty); no-op otherwise.  0 or -errno. */
int qcow2_mark_dirty(struct qcow2 *q);
/* ---- creating encrypted images (qcow2-crypto-create.c) ---- */
struct qcow2_enc {
    int on;                    /* LUKS to set up                             */
    const void *pass;          /* the named secret (not owned)               */
    size_t passlen;
    char mode[64];             /* "xts-plain64", "cbc-essiv:sha256"          */
    char hash[16];
    size_t keylen;             /* volume key bytes                           */
    unsigned iter_ms;          /* encrypt.iter-time                          */
    uint8_t *hdr;              /* the LUKS header made by qcow2_enc_prepare  */
    size_t hdrlen;
};
/* Options read before qemu-img's line is printed (iter-time is a number). */
int qcow2_enc_parse(const gk_create_args *a, struct qcow2_enc *e);
/* " encrypt.format=luks encrypt.key-secret=sec0 ..." as qemu-img prints them. */
char *qcow2_enc_summary(const gk_create_args *a);
/* The rest, after the line: e->on set for LUKS; the legacy AES format and
 * what guestkit cannot make (other ciphers, ecb, ctr) refused (measure:
 * the legacy format accepted, it adds nothing). */
int qcow2_enc_check(const gk_create_args *a, struct qcow2_enc *e, const char *data_file, int measure);
/* Make the LUKS header (random key, PBKDF2 timing) into e->hdr. */
int qcow2_enc_prepare(struct qcow2_enc *e);
/* Put it into the image (open read-write, just sized): its clusters, then
 * the qcow2 header naming them. */
int qcow2_enc_setup(gk_dev *d, const struct qcow2_enc *e);
void qcow2_enc_clear(struct qcow2_enc *e);
/* ---- creating (qcow2-create.c) ---- */
/* Append qemu's feature name table extension (v3, clusters > 4 KiB). */
void qcow2_add_feature_table(struct qcow2 *q);
extern const gk_create_opt qcow2_create_opts[];
int qcow2_create(const char *location, gk_create_args *a);
int qcow2_measure(gk_dev *src, gk_create_args *a, gk_measure *m);

/* Flush and free the write state (the device's close). */
void qcow2_close_rw(gk_dev *d);

/* Entry i of a refcount block (1..64 bits), read and written. */
uint64_t qcow2_rb_get(const struct qcow2 *q, const uint8_t *rb, uint64_t i);
void qcow2_rb_set(const struct qcow2 *q, uint8_t *rb, uint64_t i, uint64_t v);

/* ---- metadata generations (qcow2-switch.c) ----
 *
 * For changes that no order of in-place writes keeps consistent (snapshot
 * create, apply, delete: COPIED flags and refcounts change together): the
 * new active L1, copies of its L2 tables, the new snapshot table and a new
 * refcount structure go into free clusters, then one 48-byte header write
 * switches to them.  Use: qcow2_gen_begin (the image's refcounts, its
 * caches flushed by the caller), qcow2_gen_ref / _ref_l1 for what the
 * change drops or adds, qcow2_gen_new_active for the new active tables,
 * qcow2_gen_alloc + writes for other new metadata, qcow2_gen_commit. */
struct qcow2_gen;
struct qcow2_gen_header {          /* the header fields a switch sets     */
    uint64_t size;
    uint32_t l1_size;
    uint64_t l1_offset;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
};
int qcow2_gen_begin(struct qcow2 *q, struct qcow2_gen **g);
void qcow2_gen_free(struct qcow2_gen *g);
/* delta (+1/-1) on the refcount of every cluster [off, off+len) touches. */
int qcow2_gen_ref(struct qcow2_gen *g, uint64_t off, uint64_t len, int delta);
/* delta on the L2 tables of an L1 table and on the data they point to;
 * self: on the L1 table's own clusters too. */
int qcow2_gen_ref_l1(struct qcow2_gen *g, uint64_t l1off, uint32_t l1size, int delta, int self);
/* Clusters for bytes bytes, free in the image and in the new generation
 * (refcount 1 there): the offset, or -errno. */
int64_t qcow2_gen_alloc(struct qcow2_gen *g, uint64_t bytes);
/* The new active tables: copies of the L2 tables of the template L1 (they
 * and their data gain a reference) with COPIED set where the new refcount
 * is 1, and an L1 of max(l1_size, tmpl_size) entries pointing to them,
 * written; *l1_off gets its offset.  Call after every other refcount
 * change of the data clusters. */
int qcow2_gen_new_active(struct qcow2_gen *g, uint64_t tmpl_off, uint32_t tmpl_size, uint32_t l1_size,
                         uint64_t *l1_off);
/* Write the new refcount structure, flush, switch the header to nh, and
 * reload the driver's state (L1, snapshots, caches) from the new image. */
int qcow2_gen_commit(struct qcow2_gen *g, gk_dev *d, const struct qcow2_gen_header *nh);

/* ---- snapshots, written (qcow2-snapshot.c), and other whole-image
 * changes (qcow2-image.c); the format's slots of the same names ---- */
int qcow2_snapshot_create(gk_dev *d, const char *name);
int qcow2_snapshot_goto(gk_dev *d, const char *id_or_name);
int qcow2_snapshot_delete(gk_dev *d, const char *id, const char *name);
int qcow2_set_backing(gk_dev *d, const char *name, const char *fmt);
int qcow2_make_empty(gk_dev *d);

/* ---- the format (qcow2.c), the checker (qcow2-check.c) ---- */

extern const struct gk_dev_ops qcow2_ops;
int qcow2_check(gk_dev *d, gk_check_result *r);
/* check -r: the check, repairing what fix (GK_REPAIR_*) allows; the
 * device is open read-write (GK_OPEN_REPAIR). */
int qcow2_repair(gk_dev *d, unsigned fix, gk_check_result *r);
/* The reference counts the checker computes, one per host cluster
 * (qcow2-refs.c): exact up to 64 bits, two bytes a cluster below 0xffff. */
struct qcow2_refs {
    uint16_t *lo;                       /* the count, or 0xffff: in hi     */
    uint64_t n;                         /* clusters                        */
    struct gk_u64map hi;                /* the counts >= 0xffff (u64map.h) */
};
uint64_t qcow2_refs_get(const struct qcow2_refs *r, uint64_t k);
/* Clusters k >= n are ignored. */
void qcow2_refs_set(struct qcow2_refs *r, uint64_t k, uint64_t v);
/* Grow to n clusters (the new ones 0); never shrinks. */
void qcow2_refs_resize(struct qcow2_refs *r, uint64_t n);
/* Empty, n clusters of 0. */
void qcow2_refs_reset(struct qcow2_refs *r, uint64_t n);
void qcow2_refs_free(struct qcow2_refs *r);
/* A new refcount structure holding the counts of refs (those the checker
 * computed; the new blocks and table count themselves, and refs is updated
 * with them), switched to in one header write; the old one is leaked.
 * in_holes: placed as qemu's check -r places it (refcount blocks in the
 * first free clusters of their own range, the table in the first free run:
 * clusters refs counts 0, which nothing references); else after the end of
 * the file (amend: the old structure, not counted in refs, stays intact
 * until the switch).  0 or -errno. */
int qcow2_rebuild_refcounts(struct qcow2 *q, struct qcow2_refs *refs, unsigned order, int in_holes);
/* amend -o refcount_bits: the refcounts counted from the metadata, then a
 * new structure of the new width (the old one freed by the switch).  The
 * caches have been flushed.  0 or -errno. */
int qcow2_change_refcount_width(struct qcow2 *q, uint64_t bits);
/* amend (lib/qcow2-amend.c): the -o names and values, checked as qemu-img
 * amend checks them; the device is open read-write.  0 or -errno. */
int qcow2_amend(gk_dev *d, int n, const char **names, const char **values, unsigned flags, gk_amend_progress cb,
                void *opaque);
extern const char qcow2_amend_help[];
/* Build the first bytes of the image as they would be written: header
 * fields, extensions (kept ones included), the backing file name.  Returns
 * the length, or -EINVAL if it does not fit in bufsz (one cluster). */
int qcow2_header_build(const struct qcow2 *q, uint8_t *buf, size_t bufsz);
/* Number of read requests that reached the image and data files (tests). */
uint64_t gk_qcow2_host_preads(gk_dev *d);

#endif
