/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* guestkit block layer: images, drivers and guest devices.
 *
 * Everything a filesystem reads sits on a gk_dev: a raw file, a qcow2 chain,
 * a partition (a slice of another device) or an LVM logical volume.  Drivers
 * fill in a gk_dev_ops vtable and know nothing about the tools above them
 * (the shape of qemu's BlockDriver).
 *
 * Errors: functions return -1 / NULL and record a message with gk_error();
 * the caller reads it with gk_errmsg().  Messages are phrased so that a tool
 * can print "PROG: MESSAGE" and be understood, e.g.
 *   disk.qcow2: backing file "base.qcow2": No such file or directory
 */
#ifndef GK_BLK_H
#define GK_BLK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

/* Big/little-endian loads from untrusted byte buffers. */
static inline uint16_t gk_be16(const void *p) { const uint8_t *b = p; return (uint16_t)(b[0] << 8 | b[1]); }
static inline uint32_t gk_be32(const void *p) { const uint8_t *b = p; return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]; }
static inline uint64_t gk_be64(const void *p) { return (uint64_t)gk_be32(p) << 32 | gk_be32((const uint8_t *)p + 4); }
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

/* ------------------------------------------------------------------ */
/* Devices and drivers (lib/blk.c)                                     */

typedef struct gk_dev gk_dev;

/* Allocation status of a run of a device, as qemu-img map reports it. */
enum {
    GK_BS_DATA = 1,        /* reads may return non-zero data                     */
    GK_BS_ZERO = 2,        /* reads return zeros                                 */
    GK_BS_ALLOCATED = 4,   /* "present": allocated in this image or its backing  */
    GK_BS_COMPRESSED = 8,  /* stored compressed (no usable host offset)          */
    GK_BS_OFFSET = 16,     /* host_off/host_file are valid                       */
};

typedef struct gk_extent {
    uint64_t off, len;     /* guest range with the same status                   */
    unsigned flags;        /* GK_BS_*                                            */
    int depth;             /* 0 = top image, 1 = its backing file, ...           */
    uint64_t host_off;     /* with GK_BS_OFFSET: offset in host_file             */
    const char *host_file; /* with GK_BS_OFFSET: the file holding the data       */
} gk_extent;

struct gk_image_info; /* below */

struct gk_dev_ops {
    const char *name; /* driver name: "raw", "qcow2", "slice", "lvm" */
    /* Read exactly n bytes at off; off+n <= dev->size is guaranteed by
     * gk_pread().  Return 0, or -1 with gk_error() set. */
    int (*pread)(gk_dev *d, void *buf, size_t n, uint64_t off);
    /* NULL for read-only drivers. */
    int (*pwrite)(gk_dev *d, const void *buf, size_t n, uint64_t off);
    int (*flush)(gk_dev *d);
    /* Status of the run starting at off (at most maxlen bytes, > 0).  Fills
     * *e with e->off == off and 0 < e->len <= maxlen.  NULL: all data. */
    int (*block_status)(gk_dev *d, uint64_t off, uint64_t maxlen, gk_extent *e);
    /* Image details for gimg info; NULL for non-image devices. */
    int (*info)(gk_dev *d, struct gk_image_info *info);
    /* The backing image, or NULL. */
    gk_dev *(*backing)(gk_dev *d);
    void (*close)(gk_dev *d);
};

struct gk_dev {
    const struct gk_dev_ops *ops;
    char *name;            /* for messages: the file name, or /dev/sda1        */
    uint64_t size;         /* bytes                                             */
    unsigned sector_size;  /* logical sector size for partition tables (512)   */
    int readonly;
    int refcnt;            /* gk_dev_unref() closes at zero                     */
    void *priv;            /* driver state                                      */
};

/* How to open an image file. */
typedef struct gk_open_opts {
    const char *format;    /* NULL = probe; "raw" or "qcow2"                     */
    int readwrite;         /* default read-only                                  */
    const char *snapshot;  /* qcow2: open as of this internal snapshot (id or name); read-only */
    int untrusted;         /* 1: refuse backing files outside the top image's
                            * directory and never probe backing formats.
                            * -1: take GUESTKIT_UNTRUSTED from the environment. */
    int force_share;       /* do not warn about / refuse images in use by qemu  */
} gk_open_opts;

/* Open an image file (probing the format unless opts->format is set).
 * opts may be NULL. */
gk_dev *gk_open_image(const char *path, const gk_open_opts *opts);

/* Allocate a device with the given ops; name is copied; refcnt = 1. */
gk_dev *gk_dev_new(const struct gk_dev_ops *ops, const char *name, uint64_t size, void *priv);
void gk_dev_ref(gk_dev *d);
void gk_dev_unref(gk_dev *d);      /* calls ops->close at zero, then frees */

/* Bounds-checked I/O: reads past the end of the device are an error. */
int gk_pread(gk_dev *d, void *buf, size_t n, uint64_t off);
int gk_pwrite(gk_dev *d, const void *buf, size_t n, uint64_t off);
int gk_flush(gk_dev *d);
int gk_block_status(gk_dev *d, uint64_t off, uint64_t maxlen, gk_extent *e);

/* A window [off, off+len) of parent as a device of its own (partitions).
 * Takes a reference on parent. */
gk_dev *gk_dev_slice(gk_dev *parent, uint64_t off, uint64_t len, const char *name);

/* Probe the format of an open file descriptor: "qcow2" or "raw". */
const char *gk_probe_format(int fd);

/* Driver constructors, used by gk_open_image() and by qcow2 for backing
 * files.  fmt-specific; prefer gk_open_image(). */
gk_dev *gk_raw_open(const char *path, const gk_open_opts *opts);
gk_dev *gk_qcow2_open(const char *path, const gk_open_opts *opts);

/* qemu's OFD byte locks (lib/lock.c): 1 if some process holds the image
 * open for writing (qemu's "write" permission byte 101), 0 if not, -1 on error. */
int gk_image_in_use_for_write(int fd);
/* What every driver does at open with that: a warning when reading, an
 * error (-1) when asked to write; nothing with force_share. */
int gk_image_check_in_use(int fd, const char *path, int rw, int force_share);

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

typedef struct gk_image_info {
    const char *format;            /* "raw", "qcow2"                             */
    char *filename;
    uint64_t virtual_size;
    uint64_t actual_size;          /* bytes allocated on the host (st_blocks*512) */
    int dirty;                     /* qcow2 dirty bit                             */
    /* qcow2 only: */
    int version;                   /* 2 or 3                                      */
    uint32_t cluster_size;
    char *backing_file;            /* as written in the image                     */
    char *full_backing_file;       /* resolved path                               */
    char *backing_format;          /* from the extension, or NULL                 */
    char *data_file;               /* external data file name, or NULL            */
    int data_file_raw;
    int corrupt, lazy_refcounts, extended_l2;
    int refcount_bits;
    const char *compression_type;  /* "zlib" or "zstd"                           */
    int encrypted;                 /* crypt_method != 0                           */
    int nb_snapshots;
    gk_snapshot_info *snapshots;
    int nb_bitmaps;
} gk_image_info;

int gk_image_info_get(gk_dev *d, gk_image_info *info);

/* qemu-img check, read-only (lib/qcow2-check.c). */
typedef struct gk_check_result {
    uint64_t corruptions, leaks, check_errors;
    uint64_t allocated_clusters, total_clusters;
    uint64_t fragmented_clusters, compressed_clusters;
    uint64_t image_end_offset;
    char **messages; int nmessages;   /* "ERROR cluster 5 refcount=0 reference=1", "Leaked cluster ..." */
} gk_check_result;
/* Returns 0 when the check ran (whatever it found), -1 if it could not. */
int gk_image_check(gk_dev *d, gk_check_result *r);
void gk_check_result_free(gk_check_result *r);
void gk_image_info_free(gk_image_info *info);

/* The backing image of an open qcow2 image, or NULL (no reference taken). */
gk_dev *gk_image_backing(gk_dev *d);

/* ------------------------------------------------------------------ */
/* Guest devices: disks, partitions, LVM (lib/devices.c, part.c, gpt.c,
 * mbr.c, lvm.c, probe.c)                                              */

enum gk_devkind { GK_DISK, GK_PART, GK_LV, GK_MD };

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
    char *parent;          /* GK_PART: disk name; GK_LV: the VG name          */
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
    /* blkid probing of the contents */
    gk_probe probe;
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
/* Find partitions on every disk, assemble LVM, probe every device.  Problems
 * with one table or VG are warnings; returns -1 only on fatal errors. */
int gk_devset_scan(gk_devset *s);
/* Look a device up by any name the guest or the user may use:
 * /dev/sda1, /dev/vda1, /dev/hda1, /dev/xvda1, /dev/VG/LV, /dev/mapper/VG-LV.
 * Returns NULL (with gk_error) if unknown. */
gk_devent *gk_devset_find(gk_devset *s, const char *name);

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
/* Every value libblkid reports for d as "NAME=value" strings, in its order
 * (what blkid -p -o export prints); with parts also the partition-table
 * values of a disk (PTTYPE, PTUUID).  NULL-terminated; the caller frees the
 * strings and the array.  NULL with gk_error on failure. */
char **gk_probe_export(gk_dev *d, int parts);
void gk_probe_free(gk_probe *p);

/* Between the partition readers (lib/devices.c, mbr.c, gpt.c): */
/* Append partition PARTNUM of disk DISK_INDEX: [start, start+size) in bytes
 * is the table's geometry; devsize is what the kernel would expose (smaller
 * for an MBR extended partition, truncated at the end of the disk). */
gk_devent *gk_part_add(gk_devset *s, int disk_index, int partnum,
                       uint64_t start, uint64_t size, uint64_t devsize);
/* The disk entry of disk_index. */
gk_devent *gk_devset_disk(gk_devset *s, int disk_index);
/* Read the MBR (sector0 = its first 512 bytes) / GPT of a disk: 0 and
 * partitions appended, 1 if sector 0 is not a partition table after all
 * (e.g. a FAT boot sector), -1 with gk_error for a table that cannot be used. */
int gk_mbr_scan(gk_devset *s, int disk_index, const uint8_t *sector0);
int gk_gpt_scan(gk_devset *s, int disk_index);
/* Name of a GPT partition type GUID ("Linux filesystem"), or NULL. */
const char *gk_gpt_type_name(const char *guid);

/* CRC32 as used by GPT (zlib's crc32). */
uint32_t gk_crc32(const void *buf, size_t n);

#endif
