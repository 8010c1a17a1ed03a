/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The block layer's driver interface, private to lib/ (and the unit tests).
 *
 * Three kinds of driver make a device tree, the shape of qemu's block graph:
 *
 *   gk_dev (format "qcow2") --file--> gk_dev (protocol "file", the .qcow2)
 *        \--backing--> gk_dev (format "raw") --file--> gk_dev ("file")
 *
 * - A protocol (struct gk_protocol, lib/file.c) turns a location (a path;
 *   later nbd://, https://, rbd:) into a byte device, and knows how names
 *   found inside an image stored there are resolved (backing files, data
 *   files: relative to the directory of a local file, relative to the URI of
 *   a remote one).  Adding a protocol touches no format.
 * - A format (struct gk_format, lib/raw.c, lib/qcow2*.c) reads an image
 *   through the protocol device it is stored in (d->file), never through a
 *   file descriptor of its own.  It is one record in the list of lib/format.c:
 *   adding vmdk means one new file and one line there.
 * - Other devices (partitions, LVs, md) are plain devices over devices.
 *
 * Conventions every driver follows:
 * - Device operations return 0 (or a count) on success and -errno on
 *   failure, with the message in gk_error().  The public wrappers (gk_pread,
 *   gk_pwrite, ... in lib/blk.c) check arguments, call the operation and turn
 *   a negative return into -1 with errno set.  A corrupt image is -EIO; an
 *   operation a driver cannot do is -ENOTSUP; writing a read-only device is
 *   -EROFS (the wrappers check readonly before calling).
 * - Images are untrusted: every offset, size and count read from a device is
 *   checked before use and every loop over on-disk structures is bounded.
 * - Threads: a device tree is used by one thread at a time, its caches
 *   included (no driver takes locks); callers that read in parallel open the
 *   image once per thread.  gk_dev reference counts are atomic, and so is
 *   the process-wide state of lib/ (the in-use warnings of lib/lock.c).  A
 *   driver that someday shares state between devices of several threads
 *   (a decompressed-cluster cache, say) protects that state itself and says
 *   so in its file header.
 */
#ifndef GK_BLK_INT_H
#define GK_BLK_INT_H

#include <sys/stat.h>

#include "blk.h"

/* Block status flags only drivers and the generic walk see (gk_extent). */
enum {
    /* Pass-through (the raw format, partitions): the status of the run is
     * that of e->host at e->host_off; the generic layer asks it. */
    GK_BS_RAW = 0x100,
    /* With DATA|OFFSET and not ZERO: the generic layer also asks e->host at
     * e->host_off and reports ZERO where the host has a hole (qemu's
     * BDRV_BLOCK_RECURSE, for metadata-preallocated qcow2 images). */
    GK_BS_RECURSE = 0x200,
};

/* ------------------------------------------------------------------ */
/* Device operations                                                   */

struct gk_dev_ops {
    const char *name;      /* driver name: "raw", "qcow2", "file", "slice", "lvm" */

    /* ---- reading ---- */
    /* Read exactly n bytes (n > 0) at off.  The wrapper guarantees
     * off + n <= d->size, except on a growable device (a file under an
     * image), where the wrapper reads the part inside the device and fills
     * the rest with zeros, as qemu reads past the end of a file.
     * 0 or -errno. */
    int (*pread)(gk_dev *d, void *buf, size_t n, uint64_t off);
    /* Status of the run at off in THIS layer only: off < d->size and
     * 0 < len <= d->size - off are guaranteed.  Set e->len (0 < e->len <=
     * len; drivers may answer less than they know, qemu's qcow2 stops at the
     * end of an L2 table) and e->flags from DATA, ZERO, OFFSET (then e->host
     * and e->host_off), COMPRESSED, RAW and RECURSE.  Neither DATA nor ZERO
     * means "not defined here": the backing file says.  The generic layer
     * (lib/bstatus.c) adds ALLOCATED, EOF, BEYOND and depth, and walks the
     * chain.  NULL: all data, like qemu. */
    int (*block_status)(gk_dev *d, uint64_t off, uint64_t len, gk_extent *e);

    /* ---- writing: NULL means the driver cannot (EROFS / fallbacks) ---- */
    /* Write exactly n bytes at off.  Bounds as pread: a growable device
     * grows (d->size is updated by the wrapper).  Every later read of the
     * device returns the new bytes (caches are written through or
     * invalidated before this returns); durable only after flush. */
    int (*pwrite)(gk_dev *d, const void *buf, size_t n, uint64_t off);
    /* pwrite of a write that goes on with the previous one (gk_pwrite_more):
     * a format that lays out a request's new clusters one after the other
     * goes on from where the previous write's clusters ended.  NULL: the
     * wrapper calls pwrite. */
    int (*pwrite_more)(gk_dev *d, const void *buf, size_t n, uint64_t off);
    /* Make [off, off+len) read as zeros; GK_ZERO_MAY_UNMAP allows holes.
     * -ENOTSUP (or NULL): the wrapper writes zero buffers instead. */
    int (*pwrite_zeroes)(gk_dev *d, uint64_t off, uint64_t len, unsigned flags);
    /* Advisory: the range may read as anything afterwards.  -ENOTSUP (or
     * NULL) is taken as success by the wrapper. */
    int (*discard)(gk_dev *d, uint64_t off, uint64_t len);
    /* Set the size of the device (and d->size) to size; new space reads as
     * zeros, allocated as prealloc says.  -ENOTSUP where the size is fixed. */
    int (*truncate)(gk_dev *d, uint64_t size, enum gk_prealloc prealloc);
    /* Every write that returned before is durable afterwards (fdatasync of
     * every file below; a format writes its dirty metadata first, in an
     * order that keeps the image consistent at every step). */
    int (*flush)(gk_dev *d);
    /* Write one whole cluster compressed (qemu's pwrite_compressed): off is
     * cluster aligned, n the cluster size (less only for the last cluster
     * of the disk).  z: what compress made of buf, or NULL: compress it
     * here.  A cluster that does not shrink, or one already allocated, is
     * written normally (where the format can).  NULL: the wrapper writes
     * normally.  n 0 (buf NULL): the end of a compressed copy
     * (gk_compressed_end). */
    int (*pwrite_compressed)(gk_dev *d, const void *buf, size_t n, uint64_t off, const gk_zbuf *z);
    /* Compress the cluster [off, off+n) of buf into z as pwrite_compressed
     * stores it (z->len 0: stored uncompressed), with c's stream state
     * (gk_deflate, gk_zstd_compress).  Runs in any thread while another
     * uses d: it may read only what open fixed.  0 or -errno. */
    int (*compress)(gk_dev *d, gk_compressor *c, const void *buf, size_t n, uint64_t off, gk_zbuf *z);

    /* ---- protocols (files) ---- */
    /* Bytes the object takes on its storage (st_blocks * 512); -ENOTSUP. */
    int (*get_allocated)(gk_dev *d, uint64_t *bytes);
    /* Identity: two devices with the same string are the same object
     * (backing-chain loop detection, gk_image_uses_file). */
    const char *(*identity)(gk_dev *d);

    /* Frees the driver state (priv); the core frees the gk_dev and drops its
     * references on file and backing afterwards. */
    void (*close)(gk_dev *d);
};

/* Compression state of one thread (lib/compressor.c), for the compress
 * ops.  Into out (cap bytes): 0 with *outlen, -ENOSPC when the result does
 * not fit, -errno with gk_error.  gk_deflate: zlib's default level, window
 * bits and memory level as deflateInit2 takes them (qcow2: -12 and 9, raw
 * deflate; VMDK: 15 and 8, a zlib stream as compress() makes);
 * gk_zstd_compress: zstd's defaults. */
int gk_deflate(gk_compressor *c, int wbits, int memlevel, const void *in, size_t n, void *out, size_t cap,
               size_t *outlen);
int gk_zstd_compress(gk_compressor *c, const void *in, size_t n, void *out, size_t cap, size_t *outlen);
/* in (n bytes) padded with zeros to full bytes, in c's scratch buffer
 * (full > n), or in itself when n == full. */
const void *gk_compressor_pad(gk_compressor *c, const void *in, size_t n, size_t full);
/* z->p holds at least cap bytes afterwards. */
void gk_zbuf_reserve(gk_zbuf *z, size_t cap);

/* Allocate a device with the given ops; name is copied; refcnt = 1,
 * read-only. */
gk_dev *gk_dev_new(const struct gk_dev_ops *ops, const char *name, uint64_t size, void *priv);

/* Called after each gk_malloc/gk_calloc/gk_realloc: what the heap grew by
 * since the last call is populated in one madvise (lib/heap.c). */
void gk_heap_grown(void);

/* Record an error from an operation: message as gk_error(), returns -err
 * (err > 0) so that drivers can write  return gk_fail(EIO, "...", ...). */
int gk_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The status of one layer as qemu's bdrv_co_block_status(): the driver's
 * own answer plus ALLOCATED, ZERO for unallocated runs with nothing below
 * (no backing file, or past the end of a shorter one), RAW and RECURSE
 * resolved, EOF.  off < d->size.  0 or -errno (lib/bstatus.c). */
int gk_layer_status(gk_dev *d, uint64_t off, uint64_t len, gk_extent *e);

/* ------------------------------------------------------------------ */
/* Protocols: where image bytes live (lib/file.c; later nbd, http, rbd)  */

typedef struct gk_file_opts {
    int readwrite;
    int force_share;       /* do not warn about / refuse files in use by qemu  */
    int nofollow;          /* refuse a symbolic link as the last component     */
    int regular_only;      /* refuse anything but a regular file (block devices
                            * are fine for a top image, not for backing files) */
    int growable;          /* under a format: I/O past the end allowed          */
    int quiet_in_use;      /* never warn (the caller warns, or a probe open)    */
} gk_file_opts;

struct gk_protocol {
    const char *name;      /* "file"                                          */
    /* 1 if location is this protocol's ("nbd://host/x"); the file protocol
     * is asked last and takes what no other claims. */
    int (*claims)(const char *location);
    /* Open location as a byte device (d->size: the object's size rounded up
     * to 512 bytes, as qemu sees files).  NULL with gk_error and errno. */
    gk_dev *(*open)(const char *location, const gk_file_opts *o);
    /* Create the object (or empty an existing one) for a new image: 0 or
     * -errno with gk_error.  NULL: this protocol cannot create. */
    int (*create)(const char *location);
    /* The location of name, a backing or data file name read from the image
     * stored in base (a device this protocol opened): relative names are
     * relative to base's location (qemu's path_combine for files).  Malloc'd;
     * NULL with gk_error if name cannot be reached from base. */
    char *(*resolve)(gk_dev *base, const char *name);
    /* --untrusted: 1 if child lies beside or below top (the top image's
     * directory for files), 0 if not, -errno if it cannot tell. */
    int (*within)(gk_dev *top, gk_dev *child);
};

/* The identity string of a local file ("file:DEV:INO"), as the file
 * protocol's identity op answers. */
void gk_file_identity(const struct stat *st, char *buf, size_t bufsz);
/* Add a device an image reads besides its file (takes the reference). */
void gk_dev_add_kid(gk_dev *d, gk_dev *kid);

/* The protocol that handles location (never NULL: the file protocol). */
const struct gk_protocol *gk_protocol_for(const char *location);
/* The protocol that opened a device, or NULL. */
const struct gk_protocol *gk_dev_protocol(const gk_dev *d);
extern const struct gk_protocol gk_file_protocol, gk_nbd_protocol, gk_http_protocol, gk_rbd_protocol;

/* URIs (lib/uri.c): scheme://[user@]host[:port]/path[?query], the subset
 * libguestfs' -a takes.  Parsed parts are malloc'd; user and host are
 * decoded, path and query are kept as written (port -1: none). */
typedef struct gk_uri {
    char *scheme;          /* lower case                                      */
    char *user, *host;     /* NULL when absent                                */
    int port;
    char *path;            /* "" when absent                                  */
    char *query;           /* after '?', NULL when absent                     */
} gk_uri;
/* 0, or -1 with gk_error (no location in it: the caller names it). */
int gk_uri_parse(const char *s, gk_uri *u);
void gk_uri_clear(gk_uri *u);
/* Length of the scheme if s starts with "scheme:", else 0. */
int gk_uri_has_scheme(const char *s);
/* %XX decoding of s[0..n); NULL for a bad escape or an encoded NUL. */
char *gk_uri_decode(const char *s, size_t n);
/* The decoded value of key=value in the query, or NULL. */
char *gk_uri_query_get(const gk_uri *u, const char *key);
/* path without "." and ".." segments (never above the root). */
char *gk_uri_normpath(const char *path);
/* A name read from an image stored at base: an absolute URI or an absolute
 * local path as it is (qemu's path_combine), anything else relative to
 * base's directory, encoded, with base's query when keep_query (NBD's
 * socket=).  NULL with gk_error if base is not a URI. */
char *gk_uri_resolve(const char *base, const char *name, int keep_query);

/* What the remote protocols share (lib/remote.c). */
/* A client library, loaded with dlopen on first use: the first of sonames
 * that loads, slots[i] filled with names[i] (NULL-terminated lists), then
 * init (may be NULL; 0, or an errno with gk_error).  Once per process
 * (several threads may open images at once: gimg convert); a failure is
 * kept and repeated to every later caller. */
struct gk_remote_lib {
    const char *const *sonames, *const *names;
    void **slots;
    int (*init)(void);
    int tried, failed;     /* lib/remote.c's, under its lock */
    char error[256];
};
#define GK_REMOTE_LIB(sonames, names, slots, init) {(sonames), (names), (void **)(slots), (init), 0, 0, ""}
/* 0, or -1 with gk_error and errno. */
int gk_remote_lib_load(struct gk_remote_lib *lib);
/* The first member of a remote device's state (d->priv). */
struct gk_remote {
    char *id;              /* canonical location: the identity op's answer    */
    size_t scope;          /* id[0..scope) names where images beside it are:  */
                           /* --untrusted lets the top image name those only  */
};
/* The device of a remote object of len bytes (rounded up to 512, as qemu
 * sees it), read-only unless o->readwrite; takes ownership of priv. */
gk_dev *gk_remote_dev(const struct gk_dev_ops *ops, const char *loc, uint64_t len, void *priv,
                      const gk_file_opts *o);
/* The identity op of every remote protocol. */
const char *gk_remote_identity(gk_dev *d);
/* A protocol's within: both devices are ops' and child's id starts with
 * top's scope. */
int gk_remote_within(gk_dev *top, gk_dev *child, const struct gk_dev_ops *ops);
/* A remote device was opened (connected to tcp_port, or 0: a Unix socket
 * or a library's own connections). */
void gk_remote_note(int tcp_port);
/* A remote device was opened that the sandbox cannot confine (why). */
void gk_remote_note_unconfined(const char *why);
enum { GK_REMOTE_NBD, GK_REMOTE_HTTP, GK_REMOTE_RBD };
struct gk_remote_stats {
    uint64_t bytes, requests, connections;
};
/* Add to a protocol's totals (printed with -v at exit). */
void gk_remote_count(int proto, uint64_t bytes, uint64_t requests, uint64_t connections);
void gk_remote_get_stats(int proto, struct gk_remote_stats *out);

/* ------------------------------------------------------------------ */
/* Formats (lib/format.c holds the list)                               */

#define GK_MAX_CHAIN 256       /* backing files below a top image          */
#define GK_PROBE_BYTES 2048    /* what a format's probe sees of a file     */
#define GK_MAX_LENGTH 0x7fffffffc0000000ULL /* qemu's BDRV_MAX_LENGTH: INT64_MAX down to 1 GiB */

/* The opens of one backing chain share this: loop detection, --untrusted. */
typedef struct gk_chain {
    int depth;                     /* 0 while opening the top image        */
    char *ids[GK_MAX_CHAIN + 1];   /* identities of the files opened so far */
    gk_dev *top_file;              /* the top image's file (no reference)  */
} gk_chain;

/* What a format's open gets besides its file. */
typedef struct gk_open_ctx {
    int readwrite;
    unsigned flags;                /* GK_OPEN_*                              */
    int untrusted, force_share;
    const char *snapshot;          /* id or name, id first (qemu's -s)       */
    const char *snapshot_id, *snapshot_name; /* exact (qemu's -l snapshot.*=) */
    int probed;                    /* the format was guessed, not given      */
    gk_chain *chain;
    const char *key;               /* encryption passphrase (gk_open_opts)   */
    size_t keylen;
} gk_open_ctx;

/* One create option, as `gimg create -o help` lists it. */
enum gk_opt_type { GK_OPT_STRING, GK_OPT_BOOL, GK_OPT_NUMBER, GK_OPT_SIZE };
typedef struct gk_create_opt {
    const char *name;              /* "cluster_size"                         */
    enum gk_opt_type type;
    const char *help;              /* qemu's description                     */
    const char *def;               /* default, as text, or NULL              */
} gk_create_opt;

/* What create gets: the size, and every -o name=value (already checked
 * against the format's create_opts, in the order given). */
typedef struct gk_create_args {
    uint64_t size;
    int size_given;                /* 0: take the backing file's size       */
    int nopts;
    const char **names, **values;
    int unsafe;                    /* -u: do not open the backing file       */
    char *summary;                 /* out (malloc'd, may stay NULL): what
                                    * qemu-img prints after "Formatting
                                    * 'FILE', ": "fmt=qcow2 cluster_size=..." */
} gk_create_args;
/* A format's create: every file it writes is open, nothing will be opened
 * by name any more (runs gk_image_create_ready's hook, once). */
void gk_create_opened(void);
/* The last value given for option name, or NULL. */
const char *gk_create_get(const gk_create_args *a, const char *name);
/* qemu's parsers for option values: 0, or -EINVAL with gk_error naming
 * the option. */
int gk_opt_bool(const char *name, const char *v, int *out);
int gk_opt_size(const char *name, const char *v, uint64_t *out);

struct gk_format {
    const char *name;              /* "raw", "qcow2"                         */
    /* How sure this is the format of a file whose first bytes are buf (len
     * up to GK_PROBE_BYTES, less for a short file): 0 no .. 100 certain;
     * raw answers 1 to anything.  The highest score wins (qemu's probe). */
    int (*probe)(const uint8_t *buf, size_t len, const char *filename);
    /* Open the image stored in file.  On success the new device owns the
     * reference to file (d->file); on failure file is left to the caller.
     * NULL for formats we recognise but cannot read yet: they are refused by
     * name (issue 12 fills vmdk, vdi, vhdx, vpc in). */
    gk_dev *(*open)(gk_dev *file, gk_open_ctx *ctx);
    /* Create an image at location (0 or -errno with gk_error); fills
     * a->summary first.  NULL: cannot create (yet). */
    int (*create)(const char *location, gk_create_args *a);
    const gk_create_opt *create_opts; /* ends with { NULL }; NULL: none    */
    /* Its images compress what gk_pwrite_compressed writes (convert -c;
     * qemu's bdrv_co_pwritev_compressed): the device ops have
     * pwrite_compressed and compress. */
    int compressed_writes;
    /* gimg info: details from the header (works on a GK_OPEN_INFO open). */
    int (*info)(gk_dev *d, gk_image_info *info);
    /* qemu-img check; NULL: the format has no checks (ENOTSUP). */
    int (*check)(gk_dev *d, gk_check_result *r);
    /* ---- whole-image changes of an image open read-write; NULL: the
     * format cannot (ENOTSUP).  Each leaves the image consistent after a
     * kill at any moment (lib/qcow2-switch.c says how for snapshots). */
    /* Internal snapshots: take one named name (a new ID), make the image
     * what a snapshot holds (qemu's goto: ID first, then name), delete one
     * (id and/or name: both must match when both are given). */
    int (*snapshot_create)(gk_dev *d, const char *name);
    int (*snapshot_goto)(gk_dev *d, const char *id_or_name);
    int (*snapshot_delete)(gk_dev *d, const char *id, const char *name);
    /* Point the image at another backing file name of format fmt (name
     * NULL or "": none), changing nothing else (rebase -u). */
    int (*set_backing)(gk_dev *d, const char *name, const char *fmt);
    /* Drop every cluster of the active image, so that it reads through to
     * its backing file (commit). */
    int (*make_empty)(gk_dev *d);
    /* qemu-img check -r (gk_image_repair); NULL: no repairs. */
    int (*repair)(gk_dev *d, unsigned fix, gk_check_result *r);
    /* qemu-img amend -o (gk_image_amend); NULL: nothing to amend. */
    int (*amend)(gk_dev *d, int n, const char **names, const char **values, unsigned flags, gk_amend_progress cb,
                 void *opaque);
    /* The lines qemu-img amend -o help prints after "Amend options for
     * 'NAME':" (gk_image_amend_help). */
    const char *amend_help;
    /* qemu-img measure (gk_image_measure): src (as a disk of a->size
     * bytes) or, NULL, a->size; the
     * options are known ones.  NULL: cannot measure. */
    int (*measure)(gk_dev *src, gk_create_args *a, gk_measure *m);
};

/* The list, in probing order (lib/format.c). */
extern const struct gk_format *const gk_formats[];
/* A format by name, or NULL (readable or not: check ->open). */
const struct gk_format *gk_format_find(const char *name);
/* The best format for a file's first bytes (raw if nothing else claims it). */
const struct gk_format *gk_format_probe(const uint8_t *buf, size_t len, const char *filename);
/* Open an image of format fmt (NULL: probe) stored at location.  The core
 * of gk_open_image and of backing files. */
gk_dev *gk_open_format(const char *location, const struct gk_format *fmt, gk_open_ctx *ctx);
/* Open the backing file name (as written in the image stored in file)
 * with format fmt (NULL: probe, refused when untrusted): resolution by the
 * protocol, --untrusted containment, loop and depth checks, read-only.
 * Messages name the image: "a.qcow2: backing file "b.qcow2": ...". */
gk_dev *gk_open_backing(gk_open_ctx *ctx, gk_dev *file, const char *name, const char *fmt);
/* The same for another file an image names (qcow2's external data file;
 * what = "data file"): a growable protocol device. */
gk_dev *gk_open_named_file(gk_open_ctx *ctx, gk_dev *file, const char *name, const char *what,
                           char **location);

extern const struct gk_format gk_raw_format, gk_qcow2_format, gk_vmdk_format, gk_vpc_format,
    gk_vdi_format, gk_vhdx_format, gk_luks_format, gk_file_format;
/* CRC-32C (Castagnoli), as VHDX checksums its structures (lib/vhdx.c). */
uint32_t gk_crc32c(const void *buf, size_t n);
/* The replayed log of a VHDX file whose header hdr (4 KiB) names a log that
 * needs replaying: *overlay is a device reading the file as replayed (NULL:
 * nothing to replay).  replay 0: a log to replay is refused with qemu's
 * message (-EROFS) instead.  0 or -errno (lib/vhdx-log.c). */
int gk_vhdx_log_open(gk_dev *file, const uint8_t *hdr, int replay, gk_dev **overlay);
/* Write the replayed log of overlay into its file and empty the log (hdr:
 * the current header, 4 KiB): qemu-img check -r.  0 or -errno. */
int gk_vhdx_log_replay(gk_dev *overlay, const uint8_t *hdr);

/* ------------------------------------------------------------------ */
/* qemu's image locks (lib/lock.c)                                      */

/* 1 if some process holds the image open for writing (qemu's "write"
 * permission byte 101), 0 if not, -1 on error. */
int gk_image_in_use_for_write(int fd);
/* qemu's locks for every open of an image file (lib/lock.c): a read-write
 * open takes them as qemu-io does and fails (-1, errno EBUSY, gk_error with
 * qemu's "Failed to get ... lock" and no file name) when a qemu holds or
 * refuses them, so that a qemu started on an image being written refuses
 * it too; a read-only open takes none and warns (unless quiet; once per file
 * and process) when someone writes the image; force_share: nothing. */
int gk_image_lock(int fd, const char *path, int rw, int force_share, int quiet);

/* ------------------------------------------------------------------ */
/* Guest device scan internals (lib/devices.c, mbr.c, gpt.c, lvm*.c,    */
/* probe.c)                                                             */

/* Append a new entry (name copied; other fields zero/-1) and return it.
 * Pointers into s->ents are invalidated by the next append. */
gk_devent *gk_devset_append(gk_devset *s, const char *name, enum gk_devkind kind);

/* Partition table readers (lib/mbr.c, lib/gpt.c); called by the scan. */
int gk_part_scan_disk(gk_devset *s, int disk_index);
/* LVM (lib/lvm.c); called by the scan after partitions. */
int gk_lvm_scan(gk_devset *s);
/* The LVM2 metadata text parser (lib/lvm-meta.c), bounded for untrusted
 * input: sections "name { ... }", "key = value" with integers, strings and
 * lists "[ ... ]", "#" comments.  A parse returns a tree of nodes; the top
 * is a section without a key. */
enum gk_lvm_type { GK_LVM_SECTION, GK_LVM_INT, GK_LVM_STR, GK_LVM_LIST, GK_LVM_FLOAT };
typedef struct gk_lvm_node {
    enum gk_lvm_type type;
    char *key;                     /* NULL for list items and the top      */
    int64_t i;                     /* GK_LVM_INT                           */
    double f;                      /* GK_LVM_FLOAT                         */
    char *s;                       /* GK_LVM_STR (escapes removed)         */
    struct gk_lvm_node *child;     /* SECTION/LIST: first member           */
    struct gk_lvm_node *next;      /* next sibling                         */
    int nchildren;
} gk_lvm_node;
#define GK_LVM_META_MAX_SIZE (4u << 20)   /* bytes of text                 */
#define GK_LVM_META_MAX_DEPTH 16          /* nested sections and lists     */
#define GK_LVM_META_MAX_NODES 200000
/* Parse n bytes of text (a NUL byte ends it early).  NULL + gk_error on bad
 * or over-limit input, with the line number. */
gk_lvm_node *gk_lvm_meta_parse(const char *text, size_t n);
void gk_lvm_meta_free(gk_lvm_node *top);
/* The first member of a section with this key, or NULL. */
const gk_lvm_node *gk_lvm_meta_get(const gk_lvm_node *sec, const char *key);
/* Typed lookups: -1 when absent or of another type. */
int gk_lvm_meta_int(const gk_lvm_node *sec, const char *key, int64_t *out);
const char *gk_lvm_meta_str(const gk_lvm_node *sec, const char *key);
/* 1 if the list value of key holds the string s. */
int gk_lvm_meta_has_flag(const gk_lvm_node *sec, const char *key, const char *s);

/* Linux md RAID (lib/md.c, lib/md-super.c); called by the scan after
 * partitions and before LVM.  Arrays are named like libguestfs' appliance
 * names them (/dev/md127 downwards); gk_devset_find also takes /dev/md/NAME
 * for arrays with a name. */
int gk_md_scan(gk_devset *s);
/* Forget the LVM scan (VGs, PVs, LV entries) and do it again over every
 * device, probing the LVs it finds (lib/devices.c; after a LUKS volume
 * was opened). */
int gk_devset_rescan_lvm(gk_devset *s);
#define GK_MD_MAX_DEVS 384
typedef struct gk_md_super {
    int major, minor;              /* 0.90: 0, 90; 1.x: 1, x               */
    uint8_t uuid[16];
    char name[33];                 /* 1.x: "host:name" or "name"           */
    int32_t level;                 /* -1 linear, 0, 1, 4, 5, 6, 10         */
    uint32_t layout;
    uint64_t chunk;                /* sectors                              */
    uint32_t raid_disks;
    uint64_t comp_size;            /* sectors each member gives (1/4/5/6/10) */
    uint64_t data_offset, data_size;   /* this member's data area, sectors */
    int role;                      /* slot, or -1 (spare, faulty)          */
    uint64_t events, ctime;
    uint32_t md_minor;             /* 0.90 preferred minor                 */
} gk_md_super;
/* Parse the superblock of version 1.MINOR (0, 1, 2) or 0.90 (MINOR 90)
 * read from where that version keeps it on a device of devsize bytes:
 * 0 parsed and checked, 1 not one, -1 with gk_error for a bad one. */
int gk_md_super_parse(const uint8_t *buf, size_t len, uint64_t devsize, int minor,
                      int check_csum, gk_md_super *out);
/* Whether md's magic number (in either byte order) is at one of the places
 * md keeps a superblock (1.1, 1.2, 1.0, 0.90, where libblkid's md prober
 * looks): 0 means d is no md member, 1 that it may be one (or a read
 * failed), and only then a full probe is needed to know. */
int gk_md_magic_present(gk_dev *d);
/* Find and parse a member's superblock: 0, or 1 with gk_error saying why not. */
int gk_md_read_super(gk_dev *d, gk_md_super *out);
/* 32 hex digits, or mdadm's "xxxxxxxx:xxxxxxxx:..." with colons. */
void gk_md_uuid_str(const uint8_t *u, int colons, char *out);
/* An array device over its n members in role order, with their
 * superblocks (members[r] NULL: missing; references taken): NULL with
 * gk_error if the array cannot be read with what is present. */
gk_dev *gk_md_open(const gk_md_super *sbs, gk_dev **members, int n, const char *name);

/* libblkid probing of one device (lib/probe.c). */
int gk_probe_dev(gk_dev *d, gk_probe *out);
void gk_probe_free(gk_probe *p);

/* Between the partition readers (lib/devices.c, mbr.c, gpt.c): */
/* Append partition PARTNUM of disk DISK_INDEX: [start, start+size) in bytes
 * is the table's geometry; devsize is what the kernel would expose (smaller
 * for an MBR extended partition, truncated at the end of the disk). */
gk_devent *gk_part_add(gk_devset *s, int disk_index, int partnum,
                       uint64_t start, uint64_t size, uint64_t devsize);
/* Read the MBR (sector0 = its first 512 bytes) / GPT of a disk: 0 and
 * partitions appended, 1 if sector 0 is not a partition table after all
 * (e.g. a FAT boot sector), -1 with gk_error for a table that cannot be used. */
int gk_mbr_scan(gk_devset *s, int disk_index, const uint8_t *sector0);
int gk_gpt_scan(gk_devset *s, int disk_index);

/* CRC32 as used by GPT (zlib's crc32). */
uint32_t gk_crc32(const void *buf, size_t n);

#endif
