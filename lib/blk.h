/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* guestkit block layer, its public API: images, devices and guest devices.
 *
 * Everything a filesystem reads sits on a gk_dev: a raw or qcow2 image (a
 * format on top of the file that stores it), a partition (a slice of another
 * device) or an LVM logical volume.  How drivers plug in (formats,
 * protocols, device operations and their contracts) is private to lib/:
 * lib/blk-int.h.
 *
 * Errors: functions return -1 / NULL with errno set and a message recorded
 * with gk_error(); the caller reads it with gk_errmsg().  Messages are
 * phrased so that a tool can print "PROG: MESSAGE" and be understood, e.g.
 *   disk.qcow2: backing file "base.qcow2": No such file or directory
 *
 * Threads: the error message is per thread.  A gk_dev (and the devices
 * under it) is used by one thread at a time; a program that reads an image
 * from several threads opens it once per thread (gimg convert does).
 * Reference counts are atomic, so devices may be handed between threads.
 */
#ifndef GK_BLK_H
#define GK_BLK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* ------------------------------------------------------------------ */
/* Errors, warnings, small helpers (lib/util.c)                        */

extern const char *gk_progname; /* set by main(); used in warnings       */
extern int gk_verbose;          /* -v: debug messages on stderr          */
extern int gk_trace;            /* -x: trace the guest session's calls   */

/* Record the current error message (replaces the previous one). */
void gk_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prefix the current error message: "PREFIX: old message". */
void gk_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *gk_errmsg(void);
/* "PROG: warning: ..." on stderr, or the message to gk_warn_hook when set
 * (a program that shows warnings its own way: the unit tests make them TAP
 * diagnostics). */
void gk_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern void (*gk_warn_hook)(const char *msg);
/* "PROG: trace: ..." on stderr when gk_trace (libguestfs' -x: each call
 * of the guest session and the paths it resolves, with the result). */
void gk_trace_call(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "PROG: ..." on stderr when gk_verbose. */
void gk_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Allocation that aborts with a message on out-of-memory. */
void *gk_malloc(size_t n);
void *gk_calloc(size_t n, size_t m);
void *gk_realloc(void *p, size_t n);
char *gk_strdup(const char *s);
char *gk_strndup(const char *s, size_t n);
char *gk_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Put the heap's further growth on transparent huge pages, where the
 * kernel has them; called by gk_guest_new and gimg before they open
 * images, once a process (later calls do nothing).  On the virtual
 * machines measured a first touch of a 4 KiB page costs ~17 us and of a
 * 2 MiB huge page ~85 us, and a short command touches a few hundred KiB
 * of heap (lib/heap.c).  GK_NO_HUGE_HEAP in the environment turns it off. */
void gk_heap_huge(void);

/* The arguments a static tool runs its dynamic twin with, when it needs a
 * shared library (lib/twin.c): set by the tool while running it again is
 * harmless (nothing read from stdin or a terminal, no output, no sandbox
 * yet), NULL otherwise. */
extern char **gk_twin_argv;

/* Whether this program is linked statically (no program interpreter). */
int gk_static_program(void);
/* In a static program, run its dynamic twin (lib/twin.c) with gk_twin_argv
 * instead; why: what is needed ("libnbd.so.0").  0 in a dynamic program
 * (carry on); -1 with gk_error (ENOTSUP) where the twin cannot be run: no
 * gk_twin_argv any more, or no twin. */
int gk_use_twin(const char *why);

/* Memory for key material (lib/crypto.c): zeroed, locked in RAM where the
 * system allows, left out of core dumps; gk_secret_free wipes it (p may be
 * NULL; n as allocated).  Aborts on out-of-memory like gk_malloc. */
void *gk_secret_alloc(size_t n);
void gk_secret_free(void *p, size_t n);
/* Secrets by name, as qemu's "--object secret,id=ID": image creation
 * options name them (encrypt.key-secret=ID).  The library keeps the
 * pointer, not a copy: data must stay valid until the program ends
 * (lib/secret.c).  0, or -1 with gk_error if id is taken. */
int gk_secret_define(const char *id, const void *data, size_t len);
/* The secret named id and its length, or NULL (with gk_error: "No secret
 * with id 'ID'", qemu's words). */
const void *gk_secret_find(const char *id, size_t *len);

/* Big/little-endian loads from untrusted byte buffers. */
static inline uint16_t gk_be16(const void *p) { const uint8_t *b = p; return (uint16_t)(b[0] << 8 | b[1]); }
static inline uint32_t gk_be32(const void *p) { const uint8_t *b = p; return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]; }
static inline uint64_t gk_be64(const void *p) { return (uint64_t)gk_be32(p) << 32 | gk_be32((const uint8_t *)p + 4); }
/* The big-endian stores, for the metadata written back. */
static inline void gk_put_be16(void *p, uint16_t v) { uint8_t *b = p; b[0] = (uint8_t)(v >> 8); b[1] = (uint8_t)v; }
static inline void gk_put_be32(void *p, uint32_t v) { uint8_t *b = p; for (int i = 3; i >= 0; i--, v >>= 8) b[i] = (uint8_t)v; }
static inline void gk_put_be64(void *p, uint64_t v) { uint8_t *b = p; for (int i = 7; i >= 0; i--, v >>= 8) b[i] = (uint8_t)v; }
static inline void gk_put_le16(void *p, uint16_t v) { uint8_t *b = p; b[0] = (uint8_t)v; b[1] = (uint8_t)(v >> 8); }
static inline void gk_put_le32(void *p, uint32_t v) { uint8_t *b = p; for (int i = 0; i < 4; i++, v >>= 8) b[i] = (uint8_t)v; }
static inline void gk_put_le64(void *p, uint64_t v) { uint8_t *b = p; for (int i = 0; i < 8; i++, v >>= 8) b[i] = (uint8_t)v; }
static inline uint16_t gk_le16(const void *p) { const uint8_t *b = p; return (uint16_t)(b[1] << 8 | b[0]); }
static inline uint32_t gk_le32(const void *p) { const uint8_t *b = p; return (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0]; }
static inline uint64_t gk_le64(const void *p) { return (uint64_t)gk_le32((const uint8_t *)p + 4) << 32 | gk_le32(p); }

/* a + b <= limit without overflow. */
static inline int gk_range_ok(uint64_t off, uint64_t len, uint64_t limit)
{
    return off <= limit && len <= limit - off;
}

/* Human-readable size the way qemu-img prints it ("1 GiB", "192 KiB"). */
void gk_human_size_qemu(uint64_t n, char *buf, size_t bufsz);
/* Human-readable size the way libguestfs tools print it (-h): "1.0G",
 * "512M" (gnulib, round to nearest); _ceil rounds up like coreutils df -h. */
void gk_human_size(uint64_t n, char *buf, size_t bufsz);
void gk_human_size_ceil(uint64_t n, char *buf, size_t bufsz);

/* Remote images (lib/remote.c): 1 once an image was opened over the
 * network (nbd://, http(s)://, rbd:), and the TCP ports connected to
 * (at most max), for the sandbox. */
int gk_remote_in_use(void);
int gk_remote_tcp_ports(int *ports, int max);
/* Why the sandbox cannot hold what the images opened need (an RBD image:
 * librados' threads talk to monitors and OSDs the cluster map names, on
 * ports known only later), or NULL. */
const char *gk_remote_unconfined(void);

/* ------------------------------------------------------------------ */
/* Devices (lib/blk.c)                                                 */

typedef struct gk_dev gk_dev;

/* Status of a run of a device (gk_block_status).  The flags are qemu's
 * BDRV_BLOCK_* under other names, so that gimg can answer as qemu-img. */
enum {
    GK_BS_DATA = 1,        /* reads may return non-zero data                     */
    GK_BS_ZERO = 2,        /* reads return zeros                                 */
    GK_BS_ALLOCATED = 4,   /* the layer e->depth defines the content ("present") */
    GK_BS_COMPRESSED = 8,  /* stored compressed (no usable host offset)          */
    GK_BS_OFFSET = 16,     /* e->host and e->host_off are valid                  */
    GK_BS_EOF = 32,        /* the run ends at the end of the device (qemu's EOF) */
    GK_BS_BEYOND = 64,     /* zeros made up past the end of a shorter backing
                            * file: e describes the layer above it (depth) and
                            * is not ALLOCATED; qemu's block_status_above sees
                            * this run as ZERO|ALLOCATED in layer depth + 1   */
};

typedef struct gk_extent {
    uint64_t off, len;     /* range with the same status                         */
    unsigned flags;        /* GK_BS_*                                            */
    int depth;             /* layer that answered: 0 = the device, 1 = its
                            * backing file, ...                                  */
    uint64_t host_off;     /* with GK_BS_OFFSET: offset in host                  */
    gk_dev *host;          /* with GK_BS_OFFSET: the file holding the bytes      */
    const char *host_file; /* with GK_BS_OFFSET: its name (host->name)           */
} gk_extent;

/* A device: a disk image, a partition, an LVM volume, a file.  Users may
 * read name, size, sector_size and readonly; everything else belongs to
 * lib/ (lib/blk-int.h). */
struct gk_dev {
    char *name;            /* for messages: the file name, or /dev/sda1        */
    uint64_t size;         /* bytes                                             */
    unsigned sector_size;  /* logical sector size for partition tables (512)   */
    int readonly;
    /* private to lib/ */
    const struct gk_dev_ops *ops;
    const struct gk_format *format; /* image devices: their format           */
    const struct gk_protocol *protocol; /* files: the protocol that opened them */
    gk_dev *file;          /* image devices: the file they are stored in       */
    gk_dev *backing;       /* image devices: the backing image, or NULL        */
    gk_dev **kids;         /* other files an image reads (qcow2's data file)   */
    int nkids;
    void *priv;            /* driver state                                      */
    int refcnt;            /* atomic; gk_dev_unref() closes at zero            */
    int growable;          /* files under an image: I/O past the end is allowed */
    uint64_t nreads;       /* read requests reaching the driver (tests)        */
};

/* Flags of gk_open_opts. */
enum {
    GK_OPEN_NO_BACKING = 1,  /* do not open the backing chain: unallocated
                              * ranges read as zeros (qemu's BDRV_O_NO_BACKING) */
    GK_OPEN_INFO = 2,        /* only what gk_image_info_get needs (qemu's
                              * BDRV_O_NO_IO): headers are read, files an image
                              * names besides its backing file (qcow2's data
                              * file) are not opened, reads fail (EIO); the
                              * backing chain is opened the same way unless
                              * GK_OPEN_NO_BACKING is given too                */
    GK_OPEN_REPAIR = 4,      /* with readwrite, for gk_image_repair only: open
                              * an image whose metadata is inconsistent, dirty
                              * or marked corrupt (qemu's BDRV_O_CHECK)       */
    GK_OPEN_WARN_RAW = 8,    /* with readwrite: qemu-img's warning when the
                              * format was guessed as raw (writes to the first
                              * sector are restricted; gimg asks for it)    */
    GK_OPEN_CHECK = 16,      /* read-only, for gk_image_check only: open what
                              * qemu-img check opens (qemu's BDRV_O_CHECK):
                              * tables past the end of the file read as
                              * zeros, the check reads the snapshot table
                              * and counts what is wrong with it (a VHDX's
                              * blocks past the end of the file too)      */
    GK_OPEN_NO_REPLAY = 32,  /* read-only: a VHDX log that needs replaying is
                              * refused, as qemu refuses it read-only,
                              * instead of replayed in memory (gimg map: a
                              * replayed block has no place in the file) */
};

/* How to open an image file. */
typedef struct gk_open_opts {
    const char *format;    /* NULL = probe; a name gk_format_check() accepts     */
    int readwrite;         /* default read-only                                  */
    const char *snapshot;  /* qcow2: open as of this internal snapshot (id or name); read-only */
    int untrusted;         /* 1: refuse backing files outside the top image's
                            * directory (and symlinked ones), never probe backing
                            * formats.  -1: take GUESTKIT_UNTRUSTED from the
                            * environment. */
    int force_share;       /* do not warn about / refuse images in use by qemu  */
    unsigned flags;        /* GK_OPEN_*                                          */
    const char *snapshot_id;   /* qcow2: as of the snapshot with this ID ...     */
    const char *snapshot_name; /* ... and/or this name (qemu's -l snapshot.id=,
                                * snapshot.name=); both: both must match      */
    const char *key;       /* qcow2 encryption (luks or legacy aes): the
                            * passphrase, keylen bytes (qemu's encrypt.key-secret);
                            * the caller keeps it; also tried on encrypted
                            * backing files                                  */
    size_t keylen;
} gk_open_opts;

/* on 1: from now on every local file opened is also kept open (a copy of
 * its descriptor, at most 64 files), and a later open of the same file
 * (same inode, no more rights) takes a copy of the kept descriptor instead
 * of opening it by name: for a process that opens its images again after
 * losing the right to open files (gmount's sessions in the sandbox).  on 0
 * stops keeping more (those kept stay). */
void gk_file_keep(int on);
/* Keep a copy of fd, an image file opened elsewhere (sent by a process
 * that may still open files), as if it had been opened here with
 * gk_file_keep on; rw 1 only for a descriptor open read-write.  0, or -1
 * with errno (not read-write, or 64 kept already). */
int gk_file_keep_fd(int fd, int rw);
/* A copy of the kept descriptor of the file path names (read-write if
 * rw), or -1 with errno ENOENT if none is kept. */
int gk_file_kept_copy(const char *path, int rw);
/* 1 if location is a local file or block device (no other protocol, such
 * as nbd:// or https://, claims it). */
int gk_location_is_file(const char *location);

/* Open an image file (probing the format unless opts->format is set).
 * opts may be NULL.  NULL with gk_error and errno on failure. */
gk_dev *gk_open_image(const char *path, const gk_open_opts *opts);

/* A size in qemu 7.2's syntax (qemu_strtosz: 512, 1.5M, 0x200; suffixes
 * b k M G T P E, either case): 0 with *out set, -ERANGE for 2^64 or more,
 * -EINVAL for anything else. */
int gk_parse_size(const char *s, uint64_t *out);
/* The image formats (lib/format.c).  0 if name is a format guestkit reads;
 * -1 with gk_error (and errno EINVAL or ENOTSUP) if it is unknown or one we
 * recognise but do not read yet ("vmdk images are not supported yet"). */
int gk_format_check(const char *name);
/* 1 if images of format name take compressed writes (gk_pwrite_compressed
 * compresses: convert -c), 0 if not or unknown. */
int gk_format_compresses(const char *name);
/* Create an image of format fmt at path (qemu-img create): size in bytes
 * (size_given 0: the backing file's size), nopts -o options (names and
 * values, in the order given; later ones win), unsafe: -u.  On success,
 * *summary (when not NULL) gets what qemu-img prints after "Formatting
 * 'PATH', " (malloc'd).  0, or -1 with gk_error and errno. */
int gk_image_create(const char *fmt, const char *path, uint64_t size, int size_given, int nopts,
                    const char **names, const char **values, int unsafe, char **summary);
/* For the next gk_image_create of this thread only: ready(ud) is called
 * once every file it writes is open and the backing file (if any) was
 * read, before the bulk of the writing (gimg create enters its sandbox
 * there: nothing is opened by name after it).  Formats that do not call it
 * (see gk_create_opened) just write without. */
void gk_image_create_ready(void (*ready)(void *ud), void *ud);
/* The create options of fmt as qemu-img create -o help prints them, to f. */
int gk_image_create_help(const char *fmt, FILE *f);
/* "raw, qcow2": the formats guestkit reads, for help texts and messages. */
const char *gk_format_names(void);
/* The format of an image device ("raw", "qcow2"), NULL for other devices. */
const char *gk_dev_format(const gk_dev *d);

void gk_dev_ref(gk_dev *d);        /* atomic                                 */
void gk_dev_unref(gk_dev *d);      /* atomic; closes the device at zero      */

/* I/O.  These return 0, or -1 with errno set and the message in gk_error()
 * (the driver operations below them return -errno instead: lib/blk-int.h).
 * Reads and writes past the end of the device are refused (EIO).
 * Writes need a device opened read-write (EROFS otherwise); they are
 * visible to every later read of the same device at once and durable after
 * gk_flush(). */
int gk_pread(gk_dev *d, void *buf, size_t n, uint64_t off);
int gk_pwrite(gk_dev *d, const void *buf, size_t n, uint64_t off);
/* gk_pwrite of a write that goes on with the previous gk_pwrite, which
 * ended at off, as one of qemu's requests does: qcow2 maps its new
 * clusters on from where the previous write's last cluster ended (where
 * free), as qemu maps the rest of a request, or one that starts inside
 * the cluster the previous request ended in.  For a writer that cuts
 * qemu-img's requests in pieces and wants its image (where a refcount
 * block goes included). */
int gk_pwrite_more(gk_dev *d, const void *buf, size_t n, uint64_t off);
/* Make [off, off+len) read as zeros.  With GK_ZERO_MAY_UNMAP the space may
 * be deallocated (a hole); without it stays allocated where the driver can
 * tell the difference. */
enum { GK_ZERO_MAY_UNMAP = 1 };
int gk_pwrite_zeroes(gk_dev *d, uint64_t off, uint64_t len, unsigned flags);
/* The caller no longer needs [off, off+len): space may be given back and
 * the range reads as anything (old data or zeros) afterwards.  A driver
 * that cannot discard does nothing: that is not an error. */
int gk_discard(gk_dev *d, uint64_t off, uint64_t len);
/* Change the size of an image (not of partitions or LVs); new space reads
 * as zeros.  prealloc: GK_PREALLOC_OFF (sparse), FALLOC (reserve the space),
 * FULL (write it), METADATA (qcow2: host clusters and tables, no data). */
enum gk_prealloc { GK_PREALLOC_OFF, GK_PREALLOC_FALLOC, GK_PREALLOC_FULL, GK_PREALLOC_METADATA };
int gk_truncate(gk_dev *d, uint64_t size, enum gk_prealloc prealloc);
/* Write [off, off+n) compressed where the format can (qcow2: one whole
 * cluster, cluster aligned; a VMDK: one whole grain; see gk_image_info's
 * cluster_size), normally elsewhere. */
int gk_pwrite_compressed(gk_dev *d, const void *buf, size_t n, uint64_t off);

/* Compressing ahead of the write, in other threads (qemu compresses in its
 * worker threads; gimg convert in its readers): a gk_compressor belongs to
 * one thread and compresses clusters of d as d's compressed writes store
 * them; gk_compress only reads what opening d fixed (cluster size,
 * algorithm), so any number of threads may compress while one other thread
 * writes d.  The writer then hands the result to gk_pwrite_precompressed.
 * gk_compressor_new: NULL (errno ENOTSUP) when d takes no compressed
 * writes. */
typedef struct gk_compressor gk_compressor;
/* One cluster's compressed form (from gk_compress): p[0..len) as the
 * format stores it; len 0 means "not smaller": written normally. */
typedef struct gk_zbuf {
    unsigned char *p;
    size_t len, cap;
} gk_zbuf;
gk_compressor *gk_compressor_new(gk_dev *d);
void gk_compressor_free(gk_compressor *c);
/* Compress the cluster [off, off+n) (as gk_pwrite_compressed takes it)
 * into z (grown as needed; free it with gk_zbuf_clear).  0 or -1. */
int gk_compress(gk_compressor *c, const void *buf, size_t n, uint64_t off, gk_zbuf *z);
void gk_zbuf_clear(gk_zbuf *z);
/* gk_pwrite_compressed of buf with the compressed form z gk_compress made
 * of these very bytes (buf is still needed: a cluster that cannot be
 * written compressed is written normally). */
int gk_pwrite_precompressed(gk_dev *d, const void *buf, size_t n, uint64_t off, const gk_zbuf *z);
/* The end of a copy written compressed (qemu-img convert -c ends with a
 * compressed write of no bytes): the format tidies its file's end (qcow2
 * pads the file to whole sectors, as qemu does).  0 or -1. */
int gk_compressed_end(gk_dev *d);
/* Make every completed write durable (fsync of the files below). */
int gk_flush(gk_dev *d);

/* Status of the run at off (at most maxlen > 0 bytes) as a reader of d sees
 * it, through the whole backing chain: fills *e with e->off == off and
 * 0 < e->len <= maxlen.  Same as gk_block_status_above(d, NULL, ...). */
int gk_block_status(gk_dev *d, uint64_t off, uint64_t maxlen, gk_extent *e);
/* qemu's bdrv_block_status_above(): the status of [off, off+maxlen) of top
 * through its backing chain down to base (not included; NULL = to the
 * bottom).  GK_BS_ALLOCATED: some layer between top and base defines the
 * run (e->depth says which); otherwise the run is not allocated above base
 * (and GK_BS_ZERO says if it reads as zeros because nothing is below).
 * One walk for map, compare, convert (and later commit and rebase). */
int gk_block_status_above(gk_dev *top, gk_dev *base, uint64_t off, uint64_t maxlen, gk_extent *e);

/* A window [off, off+len) of parent as a device of its own (partitions).
 * Takes a reference on parent. */
gk_dev *gk_dev_slice(gk_dev *parent, uint64_t off, uint64_t len, const char *name);

/* ------------------------------------------------------------------ */
/* Image details (gimg info / snapshot -l)                             */

typedef struct gk_snapshot_info {
    char *id, *name;
    uint64_t vm_state_size;
    uint32_t date_sec, date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t disk_size;    /* virtual size at snapshot time                      */
    int64_t icount;        /* -1 when absent                                     */
    uint32_t l1_size;
    uint64_t l1_offset;
} gk_snapshot_info;

/* qcow2 encryption as qemu-img info describes it (read without a key). */
typedef struct gk_encrypt_info {
    const char *format;            /* "aes", "luks", or NULL: not encrypted     */
    int luks_read;                 /* luks: the LUKS1 header below was read     */
    char cipher_alg[56];           /* "aes-256"                                 */
    char cipher_mode[48];          /* "xts", "cbc"                              */
    char ivgen_alg[48];            /* "plain64", "essiv"                        */
    char ivgen_hash_alg[48];       /* essiv's hash, or ""                       */
    char hash_alg[40];             /* the header's hash spec                    */
    char uuid[40];
    uint64_t payload_offset;       /* bytes                                     */
    uint32_t master_key_iters;
    int nslots;                    /* 8                                         */
    struct {
        int active;
        uint32_t iters, stripes;   /* active slots only                         */
        uint64_t key_offset;       /* bytes                                     */
    } slots[8];
} gk_encrypt_info;

/* One extent of a VMDK image, as qemu-img info lists it. */
typedef struct gk_vmdk_extent_info {
    char *filename;                /* as opened                                   */
    char *type;                    /* descriptor's "SPARSE", "FLAT"..., "" for the
                                    * image file itself                           */
    uint64_t virtual_size;
    uint32_t cluster_size;         /* 0: flat                                     */
    int compressed;
} gk_vmdk_extent_info;

#define GK_SIZE_UNAVAILABLE UINT64_MAX
typedef struct gk_image_info {
    const char *format;            /* "raw", "qcow2"                             */
    char *filename;
    uint64_t virtual_size;
    uint64_t actual_size;          /* bytes allocated on the host (st_blocks*512),
                                    * GK_SIZE_UNAVAILABLE when the storage
                                    * cannot say (NBD, HTTP, RBD)             */
    int dirty;                     /* qcow2 dirty bit                             */
    /* qcow2 only: */
    int version;                   /* 2 or 3                                      */
    uint32_t cluster_size;
    /* The image takes only whole clusters, each written once, compressed
     * (qemu's BlockDriverInfo.needs_compressed_writes: a streamOptimized
     * VMDK); a copy into it writes with gk_pwrite_compressed. */
    int needs_compressed_writes;
    char *backing_file;            /* as written in the image                     */
    char *full_backing_file;       /* resolved path                               */
    char *backing_format;          /* from the extension, or NULL                 */
    char *data_file;               /* external data file name, or NULL            */
    int data_file_raw;             /* -1: no data file in use (not shown)         */
    int corrupt, lazy_refcounts, extended_l2;
    int refcount_bits;
    const char *compression_type;  /* "zlib" or "zstd"                           */
    int encrypted;                 /* crypt_method != 0                           */
    gk_encrypt_info encrypt;       /* its details                                 */
    int nb_snapshots;
    gk_snapshot_info *snapshots;
    int nb_bitmaps;
    int luks;                      /* a luks image: encrypt holds its header */
    /* vmdk only (qemu's "format-specific"): */
    int vmdk;                      /* 1: the fields below are set                 */
    uint32_t vmdk_cid, vmdk_parent_cid;
    char *vmdk_create_type;
    int vmdk_nextents;
    gk_vmdk_extent_info *vmdk_extents;
} gk_image_info;

int gk_image_info_get(gk_dev *d, gk_image_info *info);
void gk_image_info_free(gk_image_info *info);

/* qemu-img check, read-only (lib/qcow2-check.c). */
typedef struct gk_check_result {
    uint64_t corruptions, leaks, check_errors;
    uint64_t allocated_clusters, total_clusters;
    uint64_t fragmented_clusters, compressed_clusters;
    uint64_t image_end_offset;
    char **messages; int nmessages;   /* "ERROR cluster 5 refcount=0 reference=1", "Leaked cluster ..." */
    uint64_t leaks_fixed, corruptions_fixed; /* gk_image_repair              */
    char *error;   /* when the check could not run: what qemu-img reports
                    * before "Check failed" (messages then hold its hints) */
} gk_check_result;
/* Returns 0 when the check ran (whatever it found), -1 if it could not;
 * errno ENOTSUP when the format has no check (raw). */
int gk_image_check(gk_dev *d, gk_check_result *r);
void gk_check_result_free(gk_check_result *r);
/* qemu-img check -r: the check, repairing on the way what fix allows
 * (GK_REPAIR_LEAKS: refcounts too high; GK_REPAIR_ERRORS: refcounts too
 * low, wrong COPIED flags, the refcount structure rebuilt when it must be;
 * the dirty and corrupt bits cleared when nothing is left).  d is opened
 * read-write with GK_OPEN_REPAIR.  r counts what was found and what fixed,
 * as the first pass of qemu's check -r does; check again for what is left.
 * 0, or -1 with errno (ENOTSUP: the format has no checks). */
enum { GK_REPAIR_LEAKS = 1, GK_REPAIR_ERRORS = 2 };
int gk_image_repair(gk_dev *d, unsigned fix, gk_check_result *r);
/* qemu-img amend: change the n -o options names[i]=values[i] of an image
 * opened read-write (qcow2: compat, lazy_refcounts, refcount_bits, size;
 * backing_file and backing_fmt only to what they are).  0, or -1 with
 * errno (ENOTSUP: the format has nothing to amend). */
int gk_image_amend(gk_dev *d, int n, const char **names, const char **values);
/* The same, telling cb (when not NULL) how far it is as it goes: done of
 * total units of work, total growing as qemu's amend projects it (qemu-img
 * amend -p prints 100 * done / total). */
typedef void (*gk_amend_progress)(uint64_t done, uint64_t total, void *opaque);
/* With flags: GK_AMEND_FORCE is qemu-img amend --force (LUKS keyslots:
 * overwrite an active one, erase the last one). */
#define GK_AMEND_FORCE 1u
int gk_image_amend_flags(gk_dev *d, int n, const char **names, const char **values, unsigned flags,
                         gk_amend_progress cb, void *opaque);
int gk_image_amend_progress(gk_dev *d, int n, const char **names, const char **values, gk_amend_progress cb,
                            void *opaque);
/* The amend options of fmt as qemu-img amend -o help prints them, to f.
 * 0, or -1 with gk_error (qemu-img's message: the format has no amend). */
int gk_image_amend_help(const char *fmt, FILE *f);
/* qemu-img measure: the file size an image of format fmt with the n create
 * options would need to hold src (an open image; with size not 0, as a
 * disk of size bytes: an internal snapshot shorter than the image reads as
 * zeros past its end, as qemu measures it), or, src NULL, a disk of size
 * bytes.  0, or -1 with errno (ENOENT: an option fmt does not have;
 * ENOTSUP: fmt cannot measure). */
typedef struct gk_measure {
    uint64_t required, fully_allocated;
    int has_bitmaps;               /* qemu prints "bitmaps size" then       */
    uint64_t bitmaps;
} gk_measure;
int gk_image_measure(const char *fmt, gk_dev *src, uint64_t size, int n, const char **names, const char **values,
                     gk_measure *m);

/* The backing image of an open image, or NULL (no reference taken). */
gk_dev *gk_image_backing(gk_dev *d);

/* Changing a whole image open read-write (qemu-img snapshot, rebase,
 * commit; lib/imgops.c).  Each leaves the image consistent if the process
 * is killed at any moment: qemu-img check finds at most leaked clusters,
 * and the image reads as before or as after.  0, or -1 with gk_error and
 * errno (ENOTSUP: the format cannot, ENOENT: no such snapshot). */
/* Take an internal snapshot named name (the next free numeric ID). */
int gk_snapshot_create(gk_dev *d, const char *name);
/* Make the image what a snapshot holds (an ID first, then a name). */
int gk_snapshot_goto(gk_dev *d, const char *id_or_name);
/* Delete a snapshot: id and/or name (NULL: any); both must match. */
int gk_snapshot_delete(gk_dev *d, const char *id, const char *name);
/* Point the image at backing file name (as it will be written in the
 * image) of format fmt; name NULL or "": no backing file.  Only the header
 * changes (qemu-img rebase -u). */
int gk_image_set_backing(gk_dev *d, const char *name, const char *fmt);
/* 1 if the image's format can name a backing file (before any copying). */
int gk_image_can_set_backing(gk_dev *d);
/* 1 if the image's format can repair what check finds (check -r), 0 if not. */
int gk_image_can_repair(gk_dev *d);
/* Drop every cluster the image itself holds: it then reads as its backing
 * file (what qemu-img commit leaves of the committed image). */
int gk_image_make_empty(gk_dev *d);
/* Where the file of an image device was opened from (to open it again). */
const char *gk_image_location(gk_dev *d);
/* 1 if the open file fd is one of the files that d (an image, its backing
 * chain and data files) is read from or written to, 0 if not. */
int gk_image_uses_file(gk_dev *d, int fd);

/* ------------------------------------------------------------------ */
/* Guest devices: disks, partitions, LVM (lib/devices.c, part.c, gpt.c,
 * mbr.c, lvm.c, probe.c)                                              */

enum gk_devkind { GK_DISK, GK_PART, GK_LV, GK_MD, GK_LUKS };

typedef struct gk_probe {
    char *type;        /* blkid TYPE ("ext4", "swap", "LVM2_member",
                        * "crypto_LUKS", ...) or NULL = unknown            */
    char *uuid, *label, *version;
    char *usage;       /* blkid USAGE: "filesystem", "raid", "crypto", "other" */
} gk_probe;

typedef struct gk_devent {
    char *name;            /* libguestfs name: /dev/sda, /dev/sda1, /dev/VG/LV */
    enum gk_devkind kind;
    gk_dev *dev;           /* NULL if it cannot be opened (see open_error)    */
    char *open_error;      /* e.g. "segment type thin is not supported"       */
    int disk_index;        /* GK_DISK/GK_PART: index of the disk              */
    char *parent;          /* GK_PART: disk name; GK_LV: the VG name;
                            * GK_LUKS: the encrypted device's name           */
    /* partitions */
    int partnum;           /* 1-based, logical partitions from 5             */
    uint64_t part_start, part_size;   /* bytes                               */
    int mbr_type;          /* MBR type byte, or -1                           */
    char *part_type_guid;  /* GPT type GUID, upper case, or NULL             */
    char *partuuid;        /* GPT unique GUID / MBR "xxxxxxxx-NN"            */
    char *partlabel;       /* GPT name (UTF-8), or NULL                      */
    uint64_t gpt_attrs;
    /* LVs */
    char *lv_uuid;
    /* md arrays (GK_MD): member device names in role order ("" for a
     * missing one), the array UUID (mdadm's colon form), the name the
     * superblock gives (1.x: "host:name" or "name"), or NULL */
    char **md_members;
    int nmd_members;
    char *md_uuid, *md_name;
    int md_level;          /* -1 linear, 0, 1, 4, 5, 6, 10                  */
    int md_degraded;       /* members missing                               */
    /* What libblkid finds in it: read with gk_devent_probe(), which probes
     * on first use, only when something asks (gcat -m one LV probes no
     * other device); md and LVM assembly ask gk_devent_md_member(), which
     * probes only devices with md's magic where md keeps a superblock. */
    gk_probe blkid;
    int blkid_done;
    char *ptable;          /* GK_DISK: "gpt" or "msdos" (debug lines), or NULL */
    /* Set by the scan, for gk_devent_partitioned and gk_devent_holds_no_fs. */
    int partitioned;       /* GK_DISK: its table gave partitions              */
    int pv;                /* the LVM scan found a PV label on it             */
} gk_devent;

typedef struct gk_pv {
    char *name;            /* device holding it: /dev/sda2                    */
    char *uuid;            /* with dashes, as pvs prints it                   */
    char *vg;              /* VG name, or NULL                                */
    uint64_t size;         /* pv size in bytes                                */
    uint64_t pe_start;     /* bytes                                           */
} gk_pv;

typedef struct gk_vg {
    char *name, *uuid;
    uint64_t extent_size;  /* bytes                                           */
    uint64_t size;         /* extent_count * extent_size                      */
    int nr_pvs;
    char **missing_pvs;    /* UUIDs of PVs the metadata names that were not found */
    int nr_missing;
} gk_vg;

typedef struct gk_lv {
    char *vg, *name, *uuid;
    char *segtype;         /* first segment's type: "linear", "striped", ...  */
    uint64_t size;
} gk_lv;

typedef struct gk_devset {
    gk_devent *ents;       /* disks, then partitions, then LVs, in order      */
    int nents;
    char **disk_parttype;  /* per disk: "msdos", "gpt" or NULL                */
    int ndisks;
    gk_pv *pvs; int npvs;
    gk_vg *vgs; int nvgs;
    gk_lv *lvs; int nlvs;
} gk_devset;

gk_devset *gk_devset_new(void);
void gk_devset_free(gk_devset *s);
/* Add an already opened disk image as the next /dev/sdX (takes the reference). */
int gk_devset_add_disk(gk_devset *s, gk_dev *disk);
/* Find partitions on every disk, assemble md and LVM (nothing is probed
 * but what that needs: see gk_devent_md_member).  Problems with one table or VG are warnings; returns -1 only on
 * fatal errors. */
int gk_devset_scan(gk_devset *s);
/* What libblkid found on e (type, UUID, label...): probed on the first call
 * and kept (a failed probe is warned about once and leaves every field
 * NULL).  Never NULL.  Not thread-safe, like the rest of the device set. */
const gk_probe *gk_devent_probe(const gk_devent *e);
/* Whether libblkid calls e an md member (linux_raid_member), probing e
 * only when md's magic is at one of the places md keeps a superblock. */
int gk_devent_md_member(const gk_devent *e);
/* Whether e is a disk with partitions (found in its table): it is read
 * through them. */
int gk_devent_partitioned(const gk_devent *e);
/* Whether e holds no filesystem of its own: a disk with partitions or an
 * LVM physical volume (libguestfs' list_filesystems looks at neither).
 * Known from the scan, so asking probes and searches nothing. */
int gk_devent_holds_no_fs(const gk_devent *e);
/* Look a device up by any name the guest or the user may use:
 * /dev/sda1, /dev/vda1, /dev/hda1, /dev/xvda1, /dev/VG/LV, /dev/mapper/VG-LV.
 * Returns NULL (with gk_error) if unknown. */
gk_devent *gk_devset_find(gk_devset *s, const char *name);

/* LUKS volumes (lib/luks*.c).  Open the LUKS1/LUKS2 volume on the device
 * called name with passphrase pass (passlen bytes; nothing is kept of it):
 * its decrypted data becomes /dev/mapper/MAPNAME (a GK_LUKS entry, probed),
 * and LVM is scanned again so that volume groups inside appear.  0; 1 when
 * no keyslot opens with pass (gk_error: "/dev/sda2: the key opens no
 * keyslot (of N) of its LUKS header"); -1 with gk_error for anything else (not LUKS, a
 * damaged header, a keyslot whose KDF cost is over guestkit's bounds). */
int gk_devset_luks_open(gk_devset *s, const char *name, const void *pass, size_t passlen,
                        const char *mapname);
/* The number of usable keyslots of a LUKS device (0 if it is not LUKS or
 * has none), for messages. */
int gk_luks_nslots(gk_dev *d);

/* Every value libblkid reports for d as "NAME=value" strings, in its order
 * (what blkid -p -o export prints); with parts also the partition-table
 * values of a disk (PTTYPE, PTUUID).  NULL-terminated; the caller frees the
 * strings and the array.  NULL with gk_error on failure. */
char **gk_probe_export(gk_dev *d, int parts);

/* The disk entry of disk_index. */
gk_devent *gk_devset_disk(gk_devset *s, int disk_index);
/* Name of a GPT partition type GUID ("Linux filesystem"), or NULL. */
const char *gk_gpt_type_name(const char *guid);

#endif
