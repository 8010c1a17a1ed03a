/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The VMDK format: reading hosted sparse extents (KDMV: monolithicSparse,
 * the extents of twoGbMaxExtentSparse, streamOptimized with deflate-
 * compressed grains and its footer), text descriptors naming FLAT, VMFS,
 * SPARSE and VMFSSPARSE extents (monolithicFlat, twoGbMaxExtentFlat,
 * twoGbMaxExtentSparse, vmfs, vmfsSparse), ESXi seSparse extents (64-bit
 * directory and table entries, read-only as in qemu), zeroed grains, and parent links
 * (parentFileNameHint, with qemu's CID check).  What is read and refused
 * follows qemu 7.2's block/vmdk.c, so that qemu-img is the oracle.
 * Writing: monolithicSparse and streamOptimized images as vmdk_create
 * makes them (qemu's layout: redundant and primary grain directories with
 * their tables preallocated), grains appended at the end of the file, the
 * grain first and then both table entries; streamOptimized grains are
 * written once, whole, deflated behind a marker, as qemu writes them, and
 * a flush ends the stream with its end-of-stream marker.
 *
 * A descriptor names files: each extent is opened like a backing file
 * (gk_open_named_file: resolved beside the descriptor, regular files only,
 * and with --untrusted only in the top image's directory; json: and
 * protocol names are refused).  An extent may not itself be a descriptor,
 * so opening never recurses more than one level.
 *
 * Bounds (HACKING Resources): a descriptor is read up to 1 MiB; at most
 * 4096 extents; grain directories as qemu (at most 32 Mi entries) and
 * never more than the extent file holds; grain tables of at most 512
 * entries, 64 of them cached per image; compressed grains at most 16 MiB,
 * one decompressed grain cached. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>
#include <zlib.h>

#include "blk-int.h"

#define VMDK_DESC_MAX ((1u << 20) - 1)  /* a descriptor file, as qemu reads it */
#define VMDK_EMBEDDED_DESC 10240        /* a sparse file's, at 0x200            */
#define VMDK_MAX_EXTENTS 4096
#define VMDK_MAX_GD (32u << 20)         /* grain directory entries (qemu)       */
#define VMDK_MAX_GRAIN 0x200000ULL      /* sectors (qemu)                      */
#define VMDK_MAX_CGRAIN (16u << 20)     /* bytes, compressed grains            */
#define VMDK_MAX_SIZE (1ULL << 62)
#define GT_SLOTS 64
#define COWD_GTES 4096                  /* grain table entries of COWD extents  */
#define SE_GTES 4096                    /* seSparse: 64-sector tables, 8-byte entries */
#define SE_GD_BAD UINT32_MAX            /* seSparse: a directory entry qemu refuses */

#define FLAG_RGD (1u << 1)
#define FLAG_ZERO_GRAIN (1u << 2)
#define FLAG_COMPRESS (1u << 16)
#define FLAG_MARKER (1u << 17)
#define GD_AT_END UINT64_MAX

struct vext {
    gk_dev *file;          /* the image's file or a kid of the device      */
    int flat, compressed, marker, zero_grain;
    int l1_short;          /* check: qemu's 32-bit L1 size ends before it  */
    int se;                /* seSparse: tables of 64-bit entries           */
    uint64_t se_grains;    /* seSparse: sector of grain number 0           */
    char type[12];         /* "SPARSE", "FLAT", ... ("" for the image itself) */
    uint64_t start, sectors;       /* place in the virtual disk, sectors   */
    uint64_t flat_off;             /* flat: bytes into the file            */
    uint64_t grain;                /* sectors                              */
    uint32_t gtes;                 /* grain table entries                  */
    uint64_t gd_entries, gd_have;  /* claimed; read (the rest is past EOF) */
    uint32_t *gd;                  /* sectors of the grain tables          */
    uint32_t *rgd;                 /* writable images: the redundant copy  */
    uint64_t rgd_have, rgd_off;    /* its entries; its sector (0: none)    */
    uint64_t overhead;             /* sectors before the first grain       */
};

struct vmdk {
    const char *path;
    struct vext *ext;
    int next, ext_cap;          /* ext holds next of ext_cap slots */
    char *create_type;
    uint32_t cid, parent_cid;
    char *parent, *parent_full;
    int info_only, cid_checked;
    int check;                     /* opened for gimg check (GK_OPEN_CHECK) */
    struct { int ext; uint32_t sec, cap; uint32_t *t; uint64_t used; } gt[GT_SLOTS];
    uint64_t tick;
    int gext;                      /* decompressed grain: extent, grain index */
    uint64_t gidx;
    uint8_t *gbuf, *cbuf;
    size_t glen, gcap, ccap;
    struct libdeflate_decompressor *ld; /* grains: libdeflate, zlib if it refuses */
    z_stream zs;                   /* inflate_grain's zlib                  */
    int zs_ok;
    int writable;                  /* an image vmdk_create makes, opened rw */
    uint64_t next_sector;          /* where the next grain goes            */
    uint64_t stream_end;           /* streamOptimized: a grain's size past
                                    * the last grain's start (qemu's length) */
    uint8_t *wbuf;                 /* one grain                            */
    gk_compressor *wc;             /* streamOptimized: compressing in the   */
    gk_zbuf wz;                    /* writer (gk_pwrite), and its grain     */
};

enum { R_UNALLOC, R_ZERO, R_DATA, R_COMP };

struct vrun {
    int type;
    uint64_t len;
    struct vext *e;
    uint64_t host;                 /* R_DATA: byte offset in e->file       */
    uint64_t gsec;                 /* R_COMP: sector of the grain marker   */
    uint64_t gidx, in_grain;       /* R_COMP */
};

static int rd(gk_dev *f, void *buf, size_t n, uint64_t off)
{
    return gk_pread(f, buf, n, off) < 0 ? -errno : 0;
}

/* ---- the descriptor ---- */

/* qemu's way of finding  NAME="value"  anywhere in the text. */
static char *desc_quoted(const char *desc, const char *name)
{
    const char *p = strstr(desc, name);
    if (!p)
        return NULL;
    p += strlen(name);
    if (strlen(p) < 2)
        return NULL;
    p += 2; /* the =" after the name */
    const char *q = strchr(p, '"');
    if (!q)
        return NULL;
    return gk_strndup(p, (size_t)(q - p));
}

/* CID / parentCID as qemu reads them: the hex number after NAME and one
 * character. */
static int desc_cid(const char *desc, const char *name, uint32_t *out)
{
    const char *p = strstr(desc, name);
    if (!p)
        return -1;
    p += strlen(name) + 1;
    if (p > desc + strlen(desc))
        return -1;
    return sscanf(p, "%" SCNx32, out) == 1 ? 0 : -1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static const char *skip_space(const char *p)
{
    while (is_space(*p))
        p++;
    return p;
}

/* At most max characters up to white space (sscanf's %Ns). */
static const char *word(const char *p, char *out, size_t max)
{
    size_t n = 0;
    while (*p && !is_space(*p) && n < max)
        out[n++] = *p++;
    out[n] = 0;
    return p;
}

/* sscanf's %lld: white space, a sign, decimal digits.  NULL: no number. */
static const char *number(const char *p, int64_t *v)
{
    p = skip_space(p);
    const char *q = p;
    if (*q == '+' || *q == '-')
        q++;
    if (*q < '0' || *q > '9')
        return NULL;
    char *end;
    errno = 0;
    long long x = strtoll(p, &end, 10);
    *v = x;
    return end;
}

/* An extent line,  ACCESS SECTORS TYPE "FILE" [OFFSET],  read from p the way
 * qemu's sscanf reads it: white space (newlines too) may separate the
 * fields, so a line may borrow fields from the lines after it (a blank
 * line before an extent line makes qemu read that extent twice: so do
 * we).  Returns how many fields matched. */
struct eline { char access[11], type[11], name[512]; int64_t sectors, offset; };

static int parse_extent_fields(const char *p, struct eline *l)
{
    p = skip_space(p);
    if (!*p)
        return 0;
    p = word(p, l->access, 10);
    if (!(p = number(p, &l->sectors)))
        return 1;
    p = skip_space(p);
    if (!*p)
        return 2;
    p = word(p, l->type, 10);
    p = skip_space(p);
    if (*p != '"')
        return 3;
    p++;
    size_t k = 0;
    while (*p && *p != '\n' && *p != '\r' && *p != '"' && k < sizeof l->name - 1)
        l->name[k++] = *p++;
    l->name[k] = 0;
    if (!k)
        return 3;
    if (*p != '"')
        return 4;
    return number(p + 1, &l->offset) ? 5 : 4;
}

/* ---- sparse extents ---- */

/* The grain directory: only the entries inside the file are kept (those
 * past its end read as zeros, so they are unallocated): memory grows with
 * what was read, never with the capacity the header claims. */
static int read_gd(struct vmdk *v, struct vext *e, uint64_t gd_off)
{
    uint64_t fsize = e->file->size, n = 0;
    if (gd_off < fsize)
        n = (fsize - gd_off) / 4;
    if (n > e->gd_entries)
        n = e->gd_entries;
    e->gd_have = n;
    e->gd = gk_calloc(n ? n : 1, 4);
    if (!n)
        return 0;
    int rc = rd(e->file, e->gd, (size_t)n * 4, gd_off);
    if (rc < 0)
        return gk_fail(-rc, "%s: could not read the grain directory of %s", v->path, e->file->name);
    for (uint64_t i = 0; i < n; i++)
        e->gd[i] = gk_le32(&e->gd[i]);
    return 0;
}

/* A VMFS sparse extent (COWD, ESX's vmfsSparse redo logs), as qemu reads
 * it: capacity, granularity (sectors per grain), a grain directory of
 * l1dir_size entries at a sector, grain tables of 4096 entries; no zeroed
 * grains, no compression.  qemu fails reads past what the directory
 * covers; such an extent is refused here when opened. */
static int open_cowd(struct vmdk *v, struct vext *e, gk_dev *file, const uint8_t *h, const char *fn)
{
    uint64_t capacity = gk_le32(h + 12), grain = gk_le32(h + 16), gd_off = gk_le32(h + 20);
    uint64_t gd_entries = gk_le32(h + 24);
    if (grain == 0 || grain > VMDK_MAX_GRAIN)
        return gk_fail(EFBIG, "%s: %s: invalid granularity (%" PRIu64 " sectors)", v->path, fn, grain);
    if (gd_entries > VMDK_MAX_GD)
        return gk_fail(EFBIG, "%s: %s: grain directory too big (%" PRIu64 " entries)", v->path, fn, gd_entries);
    if (gd_entries * COWD_GTES * grain < capacity)
        return gk_fail(EINVAL, "%s: %s: the grain directory (%" PRIu64 " entries) does not cover the disk",
                       v->path, fn, gd_entries);
    e->file = file;
    e->sectors = capacity;
    e->grain = grain;
    e->gtes = COWD_GTES;
    e->gd_entries = gd_entries;
    return read_gd(v, e, gd_off * 512);
}

/* An ESXi seSparse extent, as qemu 7.2 reads it (its checks are strict:
 * the format is not documented): a const header (magic 0xcafebabe,
 * version 0x200000001, 8-sector grains, 64-sector grain tables, no flags,
 * zero reserved fields and padding) and a volatile header (0xcafecafe, no
 * journal to replay), then a directory of 64-bit entries (0x1000000000000000
 * | table number) and tables of 64-bit grain entries (see vmdk_map).  The
 * directory's entries become table sectors here; one qemu would refuse is
 * SE_GD_BAD, refused when read, as qemu refuses it. */
static int open_se(struct vmdk *v, struct vext *e, gk_dev *file, const char *fn)
{
    uint8_t h[512], vh[512];
    int rc = rd(file, h, sizeof h, 0);
    if (rc < 0)
        return gk_fail(-rc, "%s: %s: could not read the seSparse const header", v->path, fn);
    uint64_t f[26];
    for (int i = 0; i < 26; i++)
        f[i] = gk_le64(h + 8 * i);
    static const uint8_t zero[480];
    if (f[0] != 0xcafebabeULL)
        return gk_fail(EINVAL, "%s: %s: bad const header magic: 0x%016" PRIx64, v->path, fn, f[0]);
    if (f[1] != 0x0000000200000001ULL)
        return gk_fail(ENOTSUP, "%s: %s: unsupported seSparse version: 0x%016" PRIx64, v->path, fn, f[1]);
    if (f[3] != 8)
        return gk_fail(ENOTSUP, "%s: %s: unsupported seSparse grain size: %" PRIu64, v->path, fn, f[3]);
    if (f[4] != 64)
        return gk_fail(ENOTSUP, "%s: %s: unsupported seSparse grain table size: %" PRIu64, v->path, fn, f[4]);
    if (f[5])
        return gk_fail(ENOTSUP, "%s: %s: unsupported seSparse flags: 0x%016" PRIx64, v->path, fn, f[5]);
    if (f[6] | f[7] | f[8] | f[9] || memcmp(h + 208, zero, 304) != 0)
        return gk_fail(ENOTSUP, "%s: %s: unsupported non-zero seSparse reserved fields or padding", v->path, fn);
    if (f[10] > UINT64_MAX / 512 || (rc = rd(file, vh, sizeof vh, f[10] * 512)) < 0)
        return gk_fail(rc < 0 ? -rc : EINVAL, "%s: %s: could not read the seSparse volatile header", v->path, fn);
    if (gk_le64(vh) != 0xcafecafeULL)
        return gk_fail(EINVAL, "%s: %s: bad volatile header magic: 0x%016" PRIx64, v->path, fn, gk_le64(vh));
    if (gk_le64(vh + 24))
        return gk_fail(ENOTSUP, "%s: %s: image is dirty, replaying journal not supported", v->path, fn);
    if (memcmp(vh + 32, zero, 480) != 0)
        return gk_fail(ENOTSUP, "%s: %s: unsupported non-zero volatile header padding", v->path, fn);
    uint64_t capacity = f[2], gd_off = f[16], gd_size = f[17], gt_off = f[18], grains = f[24];
    uint64_t cover = (uint64_t)SE_GTES * 8;
    if (gd_size > VMDK_MAX_GD / 64)
        return gk_fail(EFBIG, "%s: %s: grain directory too big (%" PRIu64 " sectors)", v->path, fn, gd_size);
    uint64_t gd_entries = gd_size * 64;
    if (capacity > VMDK_MAX_SIZE / 512)
        return gk_fail(EFBIG, "%s: %s: capacity too big (%" PRIu64 " sectors)", v->path, fn, capacity);
    /* qemu fails reads past what the directory covers: refused here */
    if (gd_entries * cover < capacity)
        return gk_fail(EINVAL, "%s: %s: the grain directory (%" PRIu64 " entries) does not cover the disk",
                       v->path, fn, gd_entries);
    if (gd_off > UINT64_MAX / 512 || grains > VMDK_MAX_SIZE / 512)
        return gk_fail(EINVAL, "%s: %s: invalid seSparse area offsets", v->path, fn);
    e->file = file;
    e->se = 1;
    e->sectors = capacity;
    e->grain = 8;
    e->gtes = SE_GTES;
    e->gd_entries = (capacity + cover - 1) / cover;
    e->se_grains = grains;
    /* only the entries inside the file, and no more than the disk needs */
    uint64_t n = 0, fsize = file->size;
    if (gd_off * 512 < fsize)
        n = (fsize - gd_off * 512) / 8;
    if (n > e->gd_entries)
        n = e->gd_entries;
    e->gd_have = n;
    e->gd = gk_calloc(n ? n : 1, 4);
    uint64_t *raw = gk_malloc(n ? n * 8 : 8);
    if (n && (rc = rd(file, raw, (size_t)n * 8, gd_off * 512)) < 0) {
        free(raw);
        return gk_fail(-rc, "%s: could not read the grain directory of %s", v->path, file->name);
    }
    for (uint64_t i = 0; i < n; i++) {
        uint64_t x = gk_le64(&raw[i]), sec;
        if (!x)
            e->gd[i] = 0;
        else if ((x >> 32) != 0x10000000u || (sec = gt_off + (x & 0xffffffffu) * 64) >= SE_GD_BAD ||
                 sec < gt_off)
            e->gd[i] = SE_GD_BAD;
        else
            e->gd[i] = (uint32_t)sec;
    }
    free(raw);
    return 0;
}

/* A hosted sparse extent (KDMV) in file. */
static int open_sparse(struct vmdk *v, struct vext *e, gk_dev *file)
{
    uint8_t h[512];
    /* messages name the extent file when it is not the image itself */
    char fnbuf[600];
    snprintf(fnbuf, sizeof fnbuf, "extent \"%s\"", file->name);
    const char *fn = strcmp(file->name, v->path) == 0 ? "sparse header" : fnbuf;
    if (file->size < 512)
        return gk_fail(EINVAL, "%s: %s: file too small for a VMDK sparse header", v->path, fn);
    int rc = rd(file, h, sizeof h, 0);
    if (rc < 0)
        return rc;
    if (memcmp(h, "COWD", 4) == 0)
        return open_cowd(v, e, file, h, fn);
    if (memcmp(h, "KDMV", 4) != 0)
        return gk_fail(EINVAL, "%s: %s: not a VMDK sparse extent (bad magic)", v->path, fn);
    if (gk_le64(h + 56) == GD_AT_END) {
        /* streamOptimized as VMware writes it: the footer's copy of the
         * header, between a footer marker and the end-of-stream marker */
        uint8_t f[1536];
        if (file->size < sizeof f + 512 || (rc = rd(file, f, sizeof f, file->size - sizeof f)) < 0)
            return rc < 0 ? rc : gk_fail(EINVAL, "%s: %s: invalid footer (file too small)", v->path, fn);
        if (memcmp(f + 512, "KDMV", 4) != 0 || gk_le32(f + 8) != 0 || gk_le32(f + 12) != 3 ||
            gk_le64(f + 1024) != 0 || gk_le32(f + 1032) != 0 || gk_le32(f + 1036) != 0)
            return gk_fail(EINVAL, "%s: %s: invalid footer", v->path, fn);
        memcpy(h, f + 512, 512);
    }
    if (gk_le64(h + 12) == 0 && gk_le64(h + 28))
        return gk_fail(ENOTSUP, "%s: %s: an extent that is itself a descriptor (nested descriptors are not "
                       "supported)", v->path, fn);
    uint32_t version = gk_le32(h + 4), flags = gk_le32(h + 8);
    uint64_t capacity = gk_le64(h + 12), grain = gk_le64(h + 20);
    uint32_t gtes = gk_le32(h + 44);
    uint64_t gd_off = gk_le64(h + 56), overhead = gk_le64(h + 64);
    e->rgd_off = flags & FLAG_RGD ? gk_le64(h + 48) : 0;
    uint16_t calg = (uint16_t)(h[77] | h[78] << 8);
    if (version > 3)
        return gk_fail(ENOTSUP, "%s: %s: unsupported VMDK version %" PRIu32, v->path, fn, version);
    if (gtes > 512)
        return gk_fail(EINVAL, "%s: %s: grain table size too big (%" PRIu32 " entries, at most 512)", v->path, fn,
                       gtes);
    if ((uint64_t)gtes * grain == 0 || (uint32_t)((uint64_t)gtes * grain) == 0)
        return gk_fail(EINVAL, "%s: %s: invalid grain table coverage (%" PRIu32 " entries of %" PRIu64
                       " sectors)", v->path, fn, gtes, grain);
    if (overhead > file->size / 512)
        return gk_fail(EINVAL, "%s: %s: file truncated, expecting at least %" PRIu64 " bytes", v->path, fn,
                       overhead > UINT64_MAX / 512 ? UINT64_MAX : overhead * 512);
    if (grain > VMDK_MAX_GRAIN)
        return gk_fail(EFBIG, "%s: %s: invalid grain size (%" PRIu64 " sectors)", v->path, fn, grain);
    uint64_t cover = (uint64_t)gtes * grain;
    uint64_t gd_entries = (capacity + cover - 1) / cover; /* wraps as qemu's */
    if (v->check && (uint32_t)gd_entries < gd_entries) {
        /* qemu keeps the L1 size in 32 bits: qemu-img check opens what
         * that lets it open, and its check stops where that L1 table
         * ends (the size kept here is capped: only the check reads it) */
        e->l1_short = 1;
        gd_entries = (uint32_t)gd_entries;
        if (capacity > VMDK_MAX_SIZE / 512)
            capacity = VMDK_MAX_SIZE / 512;
    }
    if (capacity > VMDK_MAX_SIZE / 512)
        return gk_fail(EFBIG, "%s: %s: capacity too big (%" PRIu64 " sectors)", v->path, fn, capacity);
    if (gd_entries > VMDK_MAX_GD)
        return gk_fail(EFBIG, "%s: %s: grain directory too big (%" PRIu64 " entries)", v->path, fn, gd_entries);
    if (gd_off > UINT64_MAX / 512)
        return gk_fail(EINVAL, "%s: %s: invalid grain directory offset", v->path, fn);
    e->file = file;
    e->sectors = capacity;
    e->grain = grain;
    e->gtes = gtes;
    e->gd_entries = gd_entries;
    e->overhead = overhead;
    e->compressed = calg == 1;
    e->marker = !!(flags & FLAG_MARKER);
    e->zero_grain = !!(flags & FLAG_ZERO_GRAIN);
    if (e->compressed && grain * 512 > VMDK_MAX_CGRAIN)
        return gk_fail(EFBIG, "%s: %s: compressed grains of %" PRIu64 " bytes (guestkit reads at most %u)",
                       v->path, fn, grain * 512, VMDK_MAX_CGRAIN);
    if (e->compressed && (!v->create_type || strcmp(v->create_type, "monolithicSparse") == 0)) {
        free(v->create_type);
        v->create_type = gk_strdup("streamOptimized");
    }
    return read_gd(v, e, gd_off * 512);
}

static int add_extent(struct vmdk *v, uint64_t *total)
{
    if (v->next >= VMDK_MAX_EXTENTS)
        return gk_fail(EFBIG, "%s: more than %d extents", v->path, VMDK_MAX_EXTENTS);
    /* doubling: ASan's realloc copies every time, and a descriptor may
     * list thousands of extents */
    if (v->next == v->ext_cap) {
        v->ext_cap = v->ext_cap ? 2 * v->ext_cap : 4;
        v->ext = gk_realloc(v->ext, (size_t)v->ext_cap * sizeof *v->ext);
    }
    memset(&v->ext[v->next], 0, sizeof v->ext[0]);
    v->ext[v->next].start = *total;
    v->next++;
    return 0;
}

static int is_protocol_name(const char *name)
{
    if (strncmp(name, "json:", 5) == 0)
        return 1;
    const char *colon = strchr(name, ':');
    const char *slash = strchr(name, '/');
    return colon && (!slash || colon < slash);
}

/* The extents of a descriptor (text, NUL-terminated). */
static int parse_extents(struct vmdk *v, gk_dev *d, gk_dev *file, const char *desc, gk_open_ctx *ctx)
{
    uint64_t total = 0;
    /* line starts that skip to the same field start parse alike: parse
     * once (a run of blank lines would otherwise cost its length squared) */
    const char *last = NULL;
    struct eline l;
    int m = 0;
    for (const char *p = desc; *p;) {
        const char *end = strchr(p, '\n');
        if (!end)
            end = p + strlen(p);
        const char *next = *end ? end + 1 : end;
        const char *f = p;
        if (last && p <= last)
            f = last; /* p lies in the white space before last */
        else
            f = skip_space(p);
        if (f != last) {
            memset(&l, 0, sizeof l);
            m = parse_extent_fields(f, &l);
            last = f;
        }
        if (m < 4 || strcmp(l.access, "RW") != 0) {
            p = next;
            continue;
        }
        int flat = strcmp(l.type, "FLAT") == 0 || strcmp(l.type, "VMFS") == 0;
        if ((strcmp(l.type, "FLAT") == 0 && (m != 5 || l.offset < 0)) || (strcmp(l.type, "FLAT") != 0 && m != 4)) {
            size_t n = (size_t)(end - p);
            if (n && p[n - 1] == '\r')
                n--;
            return gk_fail(EINVAL, "%s: invalid extent line: %.*s", v->path, (int)(n > 200 ? 200 : n), p);
        }
        int se = strcmp(l.type, "SESPARSE") == 0;
        if (l.sectors <= 0 || (!flat && !se && strcmp(l.type, "SPARSE") != 0 && strcmp(l.type, "VMFSSPARSE") != 0)) {
            p = next;
            continue;
        }
        if (is_protocol_name(l.name))
            return gk_fail(ENOTSUP, "%s: extent \"%s\": json: and protocol file names are not supported",
                           v->path, l.name);
        int rc = add_extent(v, &total);
        if (rc < 0)
            return rc;
        struct vext *e = &v->ext[v->next - 1];
        snprintf(e->type, sizeof e->type, "%s", l.type);
        gk_dev *ef = gk_open_named_file(ctx, file, l.name, "extent", NULL);
        if (!ef)
            return -errno;
        gk_dev_add_kid(d, ef);
        if (flat) {
            e->file = ef;
            e->flat = 1;
            e->sectors = (uint64_t)l.sectors;
            /* qemu-img info describes an offset past 2^63 bytes (and
             * qemu reads from the wrong place); only reads refuse it */
            if (l.offset > (int64_t)(VMDK_MAX_SIZE / 512) && !v->info_only && !v->check)
                return gk_fail(EINVAL, "%s: extent \"%s\": offset too big", v->path, l.name);
            e->flat_off = l.offset > (int64_t)(VMDK_MAX_SIZE / 512) ? VMDK_MAX_SIZE : (uint64_t)l.offset * 512;
        } else if (se) {
            char fn[600];
            snprintf(fn, sizeof fn, "extent \"%s\"", ef->name);
            if ((rc = open_se(v, e, ef, fn)) < 0)
                return rc;
        } else if ((rc = open_sparse(v, e, ef)) < 0) {
            return rc;
        }
        if (e->sectors > VMDK_MAX_SIZE / 512 - total)
            return gk_fail(EFBIG, "%s: the extents add up to more than %llu bytes", v->path,
                           (unsigned long long)VMDK_MAX_SIZE);
        total += e->sectors;
        p = next;
    }
    return 0;
}

static int open_desc(struct vmdk *v, gk_dev *d, gk_dev *file, const char *desc, gk_open_ctx *ctx)
{
    char *ct = desc_quoted(desc, "createType");
    if (!ct || strlen(ct) >= 128) {
        free(ct);
        return gk_fail(EINVAL, "%s: invalid VMDK image descriptor (no createType)", v->path);
    }
    static const char *const types[] = { "monolithicFlat", "vmfs", "vmfsSparse", "seSparse", "twoGbMaxExtentSparse",
                                         "twoGbMaxExtentFlat", NULL };
    int ok = 0;
    for (int i = 0; types[i]; i++)
        ok |= strcmp(ct, types[i]) == 0;
    if (!ok) {
        int rc = gk_fail(ENOTSUP, "%s: unsupported VMDK image type '%.100s'", v->path, ct);
        free(ct);
        return rc;
    }
    free(v->create_type);
    v->create_type = ct;
    return parse_extents(v, d, file, desc, ctx);
}

/* ---- mapping ---- */

static struct vext *find_ext(struct vmdk *v, uint64_t sec)
{
    int lo = 0, hi = v->next - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        struct vext *e = &v->ext[mid];
        if (sec < e->start)
            hi = mid - 1;
        else if (sec >= e->start + e->sectors)
            lo = mid + 1;
        else
            return e;
    }
    return NULL;
}

static const uint32_t *load_gt(struct vmdk *v, struct vext *e, uint32_t sec)
{
    int ei = (int)(e - v->ext), victim = 0;
    for (int i = 0; i < GT_SLOTS; i++) {
        if (v->gt[i].t && v->gt[i].ext == ei && v->gt[i].sec == sec) {
            v->gt[i].used = ++v->tick;
            return v->gt[i].t;
        }
        if (v->gt[i].used < v->gt[victim].used)
            victim = i;
    }
    /* in 32-bit units: a seSparse table's entries take two */
    uint32_t need = e->se ? 2 * e->gtes : e->gtes;
    if (!v->gt[victim].t || v->gt[victim].cap < need) {
        free(v->gt[victim].t);
        v->gt[victim].cap = need > 512 ? need : 512;
        v->gt[victim].t = gk_malloc((size_t)v->gt[victim].cap * 4);
    }
    v->gt[victim].used = 0;
    uint32_t *t = v->gt[victim].t;
    if (rd(e->file, t, (size_t)need * 4, (uint64_t)sec * 512) < 0) {
        gk_error_prefix("%s: grain table at sector %" PRIu32, v->path, sec);
        return NULL;
    }
    if (e->se)
        for (uint32_t i = 0; i < e->gtes; i++)
            ((uint64_t *)t)[i] = gk_le64(&((uint64_t *)t)[i]);
    else
        for (uint32_t i = 0; i < e->gtes; i++)
            t[i] = gk_le32(&t[i]);
    v->gt[victim].ext = ei;
    v->gt[victim].sec = sec;
    v->gt[victim].used = ++v->tick;
    return t;
}

/* What a seSparse grain table entry says, as qemu reads it: R_UNALLOC (0),
 * R_ZERO (0x1... unmapped, 0x2... zeroed) or R_DATA at *host (0x3...: the
 * grain number's low 12 bits in bits 48-59, the rest in bits 0-47); -1 for
 * anything else, which qemu refuses to read. */
static int se_grain(const struct vext *e, uint64_t x, uint64_t *host)
{
    switch (x >> 60) {
    case 0:
        return x ? -1 : R_UNALLOC;
    case 1:
    case 2:
        return R_ZERO;
    case 3: {
        uint64_t n = ((x >> 48) & 0xfff) | ((x & 0xffffffffffffULL) << 12);
        if (n > (VMDK_MAX_SIZE / 512 - e->se_grains) / 8)
            return -1;
        *host = (e->se_grains + n * 8) * 512;
        return R_DATA;
    }
    default:
        return -1;
    }
}

/* The run at byte off (at most len): one grain, or several alike. */
static int vmdk_map(struct vmdk *v, uint64_t off, uint64_t len, struct vrun *r)
{
    uint64_t sec = off / 512;
    struct vext *e = find_ext(v, sec);
    if (!e)
        return gk_fail(EIO, "%s: no extent holds sector %" PRIu64, v->path, sec);
    memset(r, 0, sizeof *r);
    r->e = e;
    uint64_t rel = off - e->start * 512, ext_left = e->sectors * 512 - rel;
    if (len > ext_left)
        len = ext_left;
    if (e->flat) {
        r->type = R_DATA;
        r->host = e->flat_off + rel;
        r->len = len;
        return 0;
    }
    uint64_t gbytes = e->grain * 512, cover = (uint64_t)e->gtes * e->grain * 512;
    uint64_t gdi = rel / cover;
    if (gdi >= e->gd_entries)
        return gk_fail(EIO, "%s: sector %" PRIu64 " is past the grain directory", v->path, sec);
    if (gdi >= e->gd_have) {
        /* past the end of the file: nothing is allocated from here on */
        r->type = R_UNALLOC;
        r->len = len;
        return 0;
    }
    uint32_t gts = e->gd[gdi];
    uint64_t in_grain = rel % gbytes;
    uint64_t n = gbytes - in_grain;
    if (!gts) {
        /* the whole grain table's span is unallocated */
        uint64_t left = cover - rel % cover;
        r->type = R_UNALLOC;
        r->len = len < left ? len : left;
        return 0;
    }
    if (e->se && gts == SE_GD_BAD)
        return gk_fail(EIO, "%s: sector %" PRIu64 ": invalid seSparse grain directory entry", v->path, sec);
    const uint32_t *t = load_gt(v, e, gts);
    if (!t)
        return -EIO;
    uint32_t gi = (uint32_t)((rel / gbytes) % e->gtes);
    if (e->se) {
        const uint64_t *t64 = (const uint64_t *)t;
        uint64_t host;
        int k0 = se_grain(e, t64[gi], &host);
        if (k0 < 0)
            return gk_fail(EIO, "%s: sector %" PRIu64 ": invalid seSparse grain table entry 0x%016" PRIx64, v->path,
                           sec, t64[gi]);
        r->type = k0;
        r->host = host + in_grain;
        for (uint32_t k = gi + 1; k < e->gtes && n < len; k++) {
            uint64_t h2;
            if (se_grain(e, t64[k], &h2) != k0 || (k0 == R_DATA && h2 != host + (k - gi) * gbytes))
                break;
            n += gbytes;
        }
        r->len = len < n ? len : n;
        return 0;
    }
    uint32_t g = t[gi];
    if (!g || (e->zero_grain && g == 1)) {
        r->type = g ? R_ZERO : R_UNALLOC;
        /* extend over following grains of the same kind in this table */
        for (uint32_t k = gi + 1; k < e->gtes && n < len && t[k] == g; k++)
            n += gbytes;
    } else if (e->compressed) {
        r->type = R_COMP;
        r->gsec = g;
        r->gidx = rel / gbytes;
        r->in_grain = in_grain;
    } else {
        r->type = R_DATA;
        r->host = (uint64_t)g * 512 + in_grain;
        for (uint32_t k = gi + 1; k < e->gtes && n < len && t[k] == t[k - 1] + e->grain && t[k] > 1; k++)
            n += gbytes;
    }
    r->len = len < n ? len : n;
    return 0;
}

/* Every grain decompression goes through here: the zlib stream
 * src[0..clen) into out (cap bytes); *outlen what it holds.  libdeflate
 * first, zlib (its stream kept in v between grains) where it refuses. */
static int inflate_grain(struct vmdk *v, const uint8_t *src, size_t clen, uint8_t *out, size_t cap, size_t *outlen)
{
    /* libdeflate decodes a whole grain ~3x faster than zlib; its refusals
     * go to zlib, whose verdict stays the rule */
    if (!v->ld)
        v->ld = libdeflate_alloc_decompressor();
    if (v->ld && libdeflate_zlib_decompress(v->ld, src, clen, out, cap, outlen) == LIBDEFLATE_SUCCESS)
        return 0;
    if (!v->zs_ok) {
        memset(&v->zs, 0, sizeof v->zs);
        if (inflateInit(&v->zs) != Z_OK)
            return gk_fail(ENOMEM, "%s: cannot initialise zlib", v->path);
        v->zs_ok = 1;
    } else if (inflateReset(&v->zs) != Z_OK) {
        return gk_fail(EIO, "%s: zlib: cannot reset the stream", v->path);
    }
    v->zs.next_in = (Bytef *)src;
    v->zs.avail_in = (uInt)clen;
    v->zs.next_out = out;
    v->zs.avail_out = (uInt)cap;
    int r = inflate(&v->zs, Z_FINISH);
    if (r != Z_STREAM_END)
        return -EIO;
    *outlen = cap - v->zs.avail_out;
    return 0;
}

/* Decompress the grain of run r into out (a grain's bytes); *outlen: what
 * it held.  The compressed grain is read with room for an incompressible
 * one (deflate's stored blocks) and read again whole only if longer. */
static int read_cgrain(struct vmdk *v, const struct vrun *r, uint8_t *out, size_t *outlen)
{
    struct vext *e = r->e;
    size_t gbytes = (size_t)(e->grain * 512);
    if (v->ccap < 2 * gbytes) {
        free(v->cbuf);
        v->cbuf = gk_malloc(2 * gbytes);
        v->ccap = 2 * gbytes;
    }
    uint64_t at = r->gsec * 512;
    /* qemu reads two grains' worth; a marker's size may say up to that */
    size_t clen = e->marker ? gbytes + gbytes / 64 + 4096 : gbytes;
    if (clen > 2 * gbytes)
        clen = 2 * gbytes;
    const uint8_t *src = v->cbuf;
    if (rd(e->file, v->cbuf, clen, at) < 0) {
        gk_error_prefix("%s: compressed grain at sector %" PRIu64, v->path, r->gsec);
        return -EIO;
    }
    if (e->marker) {
        uint32_t sz = gk_le32(v->cbuf + 8);
        if (!sz || sz > 2 * gbytes - 12)
            return gk_fail(EIO, "%s: compressed grain at sector %" PRIu64 " has a bad size (%" PRIu32 ")", v->path,
                           r->gsec, sz);
        if (12 + (size_t)sz > clen && rd(e->file, v->cbuf + clen, 12 + sz - clen, at + clen) < 0) {
            gk_error_prefix("%s: compressed grain at sector %" PRIu64, v->path, r->gsec);
            return -EIO;
        }
        src += 12;
        clen = sz;
    }
    if (inflate_grain(v, src, clen, out, gbytes, outlen) < 0)
        return gk_fail(EIO, "%s: compressed grain at sector %" PRIu64 " does not decompress", v->path, r->gsec);
    return 0;
}

/* The decompressed grain of run r (cached). */
static const uint8_t *grain(struct vmdk *v, const struct vrun *r)
{
    struct vext *e = r->e;
    int ei = (int)(e - v->ext);
    if (v->gbuf && v->gext == ei && v->gidx == r->gidx)
        return v->gbuf;
    size_t gbytes = (size_t)(e->grain * 512);
    if (v->gcap < gbytes) {
        free(v->gbuf);
        v->gbuf = gk_malloc(gbytes);
        v->gcap = gbytes;
    }
    v->gext = -1;
    if (read_cgrain(v, r, v->gbuf, &v->glen) < 0)
        return NULL;
    v->gext = ei;
    v->gidx = r->gidx;
    return v->gbuf;
}

/* qemu reads the parent only if its CID is the one this image names. */
static int check_cid(struct vmdk *v, gk_dev *d)
{
    if (v->cid_checked || !d->backing)
        return 0;
    gk_dev *b = d->backing;
    if (b->ops != d->ops || ((struct vmdk *)b->priv)->cid != v->parent_cid)
        return gk_fail(EIO, "%s: the parent image \"%s\" has changed since this one was made (parent CID %08" PRIx32
                       ", its CID %08" PRIx32 ")", v->path, b->name, v->parent_cid,
                       b->ops == d->ops ? ((struct vmdk *)b->priv)->cid : 0);
    v->cid_checked = 1;
    return 0;
}

/* ---- device operations ---- */

static int vmdk_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    struct vmdk *v = d->priv;
    if (v->info_only)
        return gk_fail(EIO, "%s: image opened for its details only, not for reading", v->path);
    uint8_t *p = buf;
    while (n > 0) {
        struct vrun r;
        int rc = vmdk_map(v, off, n, &r);
        if (rc < 0)
            return rc;
        size_t len = (size_t)r.len;
        switch (r.type) {
        case R_DATA:
            if ((rc = rd(r.e->file, p, len, r.host)) < 0)
                return rc;
            break;
        case R_ZERO:
            memset(p, 0, len);
            break;
        case R_COMP: {
            size_t got;
            if (r.in_grain == 0 && len == r.e->grain * 512) { /* whole: no copy */
                if ((rc = read_cgrain(v, &r, p, &got)) < 0)
                    return rc;
                if (got != len)
                    return gk_fail(EIO, "%s: compressed grain at sector %" PRIu64 " is short", v->path, r.gsec);
                break;
            }
            const uint8_t *g = grain(v, &r);
            if (!g)
                return -EIO;
            if (r.in_grain + len > v->glen)
                return gk_fail(EIO, "%s: compressed grain at sector %" PRIu64 " is short", v->path, r.gsec);
            memcpy(p, g + r.in_grain, len);
            break;
        }
        default:
            if (d->backing) {
                if ((rc = check_cid(v, d)) < 0)
                    return rc;
                uint64_t bs = d->backing->size;
                size_t from_b = off >= bs ? 0 : (bs - off < len ? (size_t)(bs - off) : len);
                if (from_b && gk_pread(d->backing, p, from_b, off) < 0)
                    return -errno;
                memset(p + from_b, 0, len - from_b);
            } else {
                memset(p, 0, len);
            }
        }
        p += len;
        off += len;
        n -= len;
    }
    return 0;
}

static int vmdk_block_status(gk_dev *d, uint64_t off, uint64_t len, gk_extent *e)
{
    struct vmdk *v = d->priv;
    struct vrun r;
    int rc = vmdk_map(v, off, len, &r);
    if (rc < 0)
        return rc;
    e->len = r.len;
    e->flags = 0;
    switch (r.type) {
    case R_DATA:
        e->flags = GK_BS_DATA | GK_BS_OFFSET | (r.e->flat ? GK_BS_RECURSE : 0);
        e->host = r.e->file;
        e->host_off = r.host;
        break;
    case R_COMP:
        e->flags = GK_BS_DATA | GK_BS_COMPRESSED;
        e->len = r.len; /* one grain */
        break;
    case R_ZERO:
        e->flags = GK_BS_ZERO;
        break;
    default:
        break;
    }
    return 0;
}

/* ---- writing (monolithicSparse and streamOptimized made by vmdk_create) ---- */

/* Write the grain table entry of grain index gi (relative to extent e) in
 * the grain table at gts and its redundant copy, and in the cache. */
static int set_gte(struct vmdk *v, struct vext *e, uint64_t gdi, uint32_t gi, uint32_t val)
{
    uint8_t le[4];
    gk_put_le32(le, val);
    uint32_t tabs[2] = { e->gd[gdi], gdi < e->rgd_have ? e->rgd[gdi] : 0 };
    for (int k = 0; k < 2; k++) {
        if (!tabs[k])
            continue;
        if (gk_pwrite(e->file, le, 4, (uint64_t)tabs[k] * 512 + (uint64_t)gi * 4) < 0)
            return -errno;
    }
    int ei = (int)(e - v->ext);
    for (int i = 0; i < GT_SLOTS; i++)
        if (v->gt[i].t && v->gt[i].ext == ei && v->gt[i].sec == tabs[0])
            v->gt[i].t[gi] = val;
    return 0;
}

/* streamOptimized (as qemu writes it): grains are written once, whole
 * (the last grain of the disk may be short), each deflated behind a marker
 * (its sector and the compressed size) and padded to a sector, appended;
 * then both table entries.  This makes the stored form, in any thread
 * (it reads only what opening fixed); write_cgrain places it.  A grain of
 * a monolithicSparse image is written as it is (qemu's). */
static int vmdk_compress(gk_dev *d, gk_compressor *c, const void *buf, size_t n, uint64_t off, gk_zbuf *z)
{
    struct vmdk *v = d->priv;
    if (!v->writable)
        return gk_fail(EROFS, "%s: only monolithicSparse and streamOptimized images guestkit made can be written",
                       v->path);
    const struct vext *e = &v->ext[0];
    z->len = 0;
    if (!e->compressed)
        return 0;
    uint64_t gbytes = e->grain * 512;
    if (off % gbytes || (n != gbytes && off + n != e->sectors * 512))
        return gk_fail(EINVAL, "%s: streamOptimized images are written a whole grain at a time", v->path);
    size_t bound = compressBound((uLong)n);
    gk_zbuf_reserve(z, 12 + bound + 512);
    size_t clen = 0;
    int r = gk_deflate(c, 15, 8, buf, n, z->p + 12, bound, &clen); /* compress()'s parameters, qemu's */
    if (r < 0)
        return r == -ENOSPC ? gk_fail(EIO, "%s: could not compress a grain", v->path) : r;
    uint64_t lba = off / 512, secs = (12 + clen + 511) / 512;
    gk_put_le64(z->p, lba);
    gk_put_le32(z->p + 8, (uint32_t)clen);
    memset(z->p + 12 + clen, 0, secs * 512 - 12 - clen);
    z->len = secs * 512;
    return 0;
}

/* Place the compressed grain z (vmdk_compress's, of this very grain);
 * g: the grain's entry now. */
static int write_cgrain(struct vmdk *v, struct vext *e, const gk_zbuf *z, uint64_t off, int zero, uint64_t gdi,
                        uint32_t gi, uint32_t g)
{
    if (g && !(e->zero_grain && g == 1))
        return gk_fail(EIO, "%s: Could not write to allocated cluster for streamOptimized", v->path);
    if (zero)
        return 0; /* unallocated grains read as zeros */
    uint64_t secs = z->len / 512;
    if (!z->len || z->len % 512 || gk_le64(z->p) != off / 512)
        return gk_fail(EINVAL, "%s: not a compressed grain for sector %" PRIu64, v->path, off / 512);
    if (v->next_sector > 0xffffffffULL - secs)
        return gk_fail(EFBIG, "%s: the image file is full (grain offsets are 32 bits)", v->path);
    uint32_t sec = (uint32_t)v->next_sector;
    if (gk_pwrite(e->file, z->p, z->len, (uint64_t)sec * 512) < 0)
        return -errno;
    v->next_sector += secs;
    v->stream_end = ((uint64_t)sec + e->grain) * 512;
    v->gext = -1;
    return set_gte(v, e, gdi, gi, sec);
}

/* Write [off, off+n) of one grain: in place, or into a new grain at the
 * end of the file (the grain first, then its table entries: a crash leaves
 * at worst an unreferenced grain).  z: a streamOptimized grain's stored
 * form. */
static int write_grain(struct vmdk *v, const uint8_t *buf, size_t n, uint64_t off, int zero, const gk_zbuf *z)
{
    struct vext *e = &v->ext[0];
    uint64_t gbytes = e->grain * 512, cover = (uint64_t)e->gtes * gbytes;
    uint64_t gdi = off / cover, in = off % gbytes;
    uint32_t gi = (uint32_t)((off / gbytes) % e->gtes);
    if (gdi >= e->gd_have || !e->gd[gdi])
        return gk_fail(ENOTSUP, "%s: grain table %" PRIu64 " is not allocated (not an image guestkit made)", v->path,
                       gdi);
    const uint32_t *t = load_gt(v, e, e->gd[gdi]);
    if (!t)
        return -EIO;
    uint32_t g = t[gi];
    if (e->compressed)
        return write_cgrain(v, e, z, off, zero, gdi, gi, g);
    if (g && !(e->zero_grain && g == 1)) {
        if (zero) {
            memset(v->wbuf, 0, n);
            buf = v->wbuf;
        }
        return gk_pwrite(e->file, buf, n, (uint64_t)g * 512 + in) < 0 ? -errno : 0;
    }
    if (zero)
        return 0; /* unallocated grains read as zeros: nothing below */
    if (v->next_sector > 0xffffffffULL - e->grain)
        return gk_fail(EFBIG, "%s: the image file is full (grain offsets are 32 bits)", v->path);
    memset(v->wbuf, 0, gbytes);
    memcpy(v->wbuf + in, buf, n);
    uint32_t sec = (uint32_t)v->next_sector;
    if (gk_pwrite(e->file, v->wbuf, gbytes, (uint64_t)sec * 512) < 0)
        return -errno;
    v->next_sector += e->grain;
    return set_gte(v, e, gdi, gi, sec);
}

static int vmdk_write(gk_dev *d, const void *buf, size_t n, uint64_t off, int zero)
{
    struct vmdk *v = d->priv;
    if (!v->writable)
        return gk_fail(EROFS, "%s: only monolithicSparse and streamOptimized images guestkit made can be written",
                       v->path);
    const uint8_t *p = buf;
    uint64_t gbytes = v->ext[0].grain * 512;
    while (n > 0) {
        uint64_t in = off % gbytes;
        size_t len = n < gbytes - in ? n : (size_t)(gbytes - in);
        int rc = 0;
        if (v->ext[0].compressed && !zero) {
            if (!v->wc && !(v->wc = gk_compressor_new(d)))
                return -errno;
            rc = vmdk_compress(d, v->wc, p, len, off, &v->wz);
        }
        if (rc < 0 || (rc = write_grain(v, p, len, off, zero, &v->wz)) < 0)
            return rc;
        if (p)
            p += len;
        off += len;
        n -= len;
    }
    return 0;
}

/* One grain compressed (gk_pwrite_compressed); z: vmdk_compress's form of
 * it, or NULL. */
static int vmdk_pwrite_compressed(gk_dev *d, const void *buf, size_t n, uint64_t off, const gk_zbuf *z)
{
    struct vmdk *v = d->priv;
    if (!v->writable || !v->ext[0].compressed || !z)
        return vmdk_write(d, buf, n, off, 0);
    if (!z->len)
        return gk_fail(EINVAL, "%s: a grain not compressed for a streamOptimized image", v->path);
    return write_grain(v, buf, n, off, 0, z);
}

static int vmdk_pwrite(gk_dev *d, const void *buf, size_t n, uint64_t off)
{
    return vmdk_write(d, buf, n, off, 0);
}

static int vmdk_pwrite_zeroes(gk_dev *d, uint64_t off, uint64_t len, unsigned flags)
{
    (void)flags;
    return vmdk_write(d, NULL, (size_t)len, off, 1);
}

static int vmdk_flush(gk_dev *d)
{
    struct vmdk *v = d->priv;
    /* streamOptimized ends with an end-of-stream marker (a zero sector),
     * overwritten by the next grain appended; the file then runs to at
     * least a grain past the last grain's start, as qemu leaves it (it
     * reserves a whole grain for each), which costs no write */
    if (v->writable && v->ext[0].compressed) {
        memset(v->wbuf, 0, 512);
        uint64_t eos = v->next_sector * 512;
        if (gk_pwrite(d->file, v->wbuf, 512, eos) < 0)
            return -errno;
        if (v->stream_end > eos + 512 && gk_truncate(d->file, v->stream_end, GK_PREALLOC_OFF) < 0)
            return -errno;
    }
    return gk_flush(d->file) < 0 ? -errno : 0;
}

/* ---- creating ---- */

static const gk_create_opt vmdk_create_opts[] = {
    { "size", GK_OPT_SIZE, "Virtual disk size", NULL },
    { "adapter_type", GK_OPT_STRING, "Virtual adapter type, can be one of ide (default), lsilogic, buslogic or "
                                     "legacyESX", NULL },
    { "compat6", GK_OPT_BOOL, "VMDK version 6 image", NULL },
    { "hwversion", GK_OPT_STRING, "VMDK hardware version", NULL },
    { "toolsversion", GK_OPT_STRING, "VMware guest tools version", NULL },
    { "subformat", GK_OPT_STRING, "VMDK flat extent format, can be one of {monolithicSparse (default) | "
                                  "streamOptimized} (guestkit writes no other yet)", NULL },
    { "zeroed_grain", GK_OPT_BOOL, "Enable efficient zero writes using the zeroed-grain GTE feature", NULL },
    { NULL, 0, NULL, NULL },
};

static int vmdk_create(const char *location, gk_create_args *a)
{
    const char *sub = gk_create_get(a, "subformat");
    const char *adapter = gk_create_get(a, "adapter_type");
    const char *zg = gk_create_get(a, "zeroed_grain");
    const char *c6 = gk_create_get(a, "compat6");
    const char *hw = gk_create_get(a, "hwversion");
    const char *tools = gk_create_get(a, "toolsversion");
    int zero_grain = 0, compat6 = 0;
    if (gk_create_get(a, "backing_file"))
        return gk_fail(ENOTSUP, "VMDK images with a parent cannot be written yet");
    /* qemu-img's order: the size and the options' syntax before its
     * "Formatting" line, their values after it */
    if (!a->size_given)
        return gk_fail(EINVAL, "Image creation needs a size parameter");
    if ((zg && gk_opt_bool("zeroed_grain", zg, &zero_grain) < 0) || (c6 && gk_opt_bool("compat6", c6, &compat6) < 0))
        return -EINVAL;
    if (!a->summary)
        a->summary = gk_asprintf("fmt=vmdk size=%" PRIu64 "%s%s compat6=%s hwversion=%s%s%s%s%s%s",
                                 a->size, adapter ? " adapter_type=" : "", adapter ? adapter : "",
                                 compat6 ? "on" : "off", hw ? hw : "undefined", tools ? " toolsversion=" : "",
                                 tools ? tools : "", sub ? " subformat=" : "", sub ? sub : "",
                                 zero_grain ? " zeroed_grain=on" : "");
    if (!adapter)
        adapter = "ide";
    if (strcmp(adapter, "ide") && strcmp(adapter, "lsilogic") && strcmp(adapter, "buslogic") &&
        strcmp(adapter, "legacyESX"))
        return gk_fail(EINVAL, "invalid parameter value: %s", adapter);
    static const char *const subs[] = { "monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse",
                                        "twoGbMaxExtentFlat", "streamOptimized" };
    int known = !sub;
    for (size_t i = 0; sub && i < sizeof subs / sizeof subs[0]; i++)
        known |= strcmp(sub, subs[i]) == 0;
    if (!known)
        return gk_fail(EINVAL, "invalid parameter value: %s", sub);
    if (compat6 && hw)
        return gk_fail(EINVAL, "compat6 cannot be enabled with hwversion set");
    int stream = sub && strcmp(sub, "streamOptimized") == 0;
    if (sub && !stream && strcmp(sub, "monolithicSparse") != 0)
        return gk_fail(ENOTSUP, "VMDK subformat '%s' cannot be written yet (guestkit writes monolithicSparse and "
                       "streamOptimized)", sub);
    /* the descriptor's DDB values are qemu's text, quoted: no quote or
     * line break of their own */
    if ((hw && strpbrk(hw, "\"\n\r")) || (tools && strpbrk(tools, "\"\n\r")))
        return gk_fail(EINVAL, "invalid parameter value: %s", hw && strpbrk(hw, "\"\n\r") ? hw : tools);
    uint64_t size = (a->size + 511) & ~511ULL, sectors = size / 512;
    if (sectors > 0xffffffffULL * 128 / 2)
        return gk_fail(EFBIG, "Disk size too large for a VMDK image");
    const uint64_t grain = 128, gtes = 512, gt_sectors = gtes * 4 / 512;
    uint64_t ngt = (sectors + grain * gtes - 1) / (grain * gtes), gd_sectors = (ngt * 4 + 511) / 512;
    uint64_t rgd = 21, gd = rgd + gd_sectors + ngt * gt_sectors;
    uint64_t overhead = (gd + gd_sectors + ngt * gt_sectors + grain - 1) / grain * grain;
    uint8_t *img = gk_calloc(overhead, 512);
    uint8_t *h = img;
    memcpy(h, "KDMV", 4);
    /* streamOptimized as qemu writes it: version 3, compressed grains with
     * markers, both grain directories preallocated as for monolithicSparse */
    uint32_t flags = 3 | (zero_grain ? FLAG_ZERO_GRAIN : 0) | (stream ? FLAG_COMPRESS | FLAG_MARKER : 0);
    uint64_t f64[] = { sectors, grain, 1, 20 };
    h[4] = stream ? 3 : zero_grain ? 2 : 1; /* qemu: version 2 for zeroed grains */
    h[77] = stream ? 1 : 0; /* deflate */
    gk_put_le32(h + 8, flags);
    for (int k = 0; k < 4; k++)
        gk_put_le64(h + 12 + 8 * k, f64[k]);
    gk_put_le32(h + 44, (uint32_t)gtes);
    uint64_t f2[] = { rgd, gd, overhead };
    for (int k = 0; k < 3; k++)
        gk_put_le64(h + 48 + 8 * k, f2[k]);
    memcpy(h + 73, "\n \r\n", 4);
    /* the descriptor */
    const char *base = strrchr(location, '/') ? strrchr(location, '/') + 1 : location;
    /* qemu's geometry: 16 heads for IDE, 255 for the SCSI adapters; the
     * cylinders as many as the size gives (no CHS cap) */
    int heads = strcmp(adapter, "ide") == 0 ? 16 : 255;
    uint64_t cyl = sectors / ((uint64_t)heads * 63);
    char *desc = gk_asprintf("# Disk DescriptorFile\nversion=1\nCID=%" PRIx32 "\nparentCID=ffffffff\n"
                             "createType=\"%s\"\n\n# Extent description\nRW %" PRIu64
                             " SPARSE \"%s\"\n\n# The Disk Data Base\n#DDB\n\n"
                             "ddb.virtualHWVersion = \"%s\"\nddb.geometry.cylinders = \"%" PRIu64 "\"\n"
                             "ddb.geometry.heads = \"%d\"\nddb.geometry.sectors = \"63\"\n"
                             "ddb.adapterType = \"%s\"\nddb.toolsVersion = \"%s\"\n",
                             (uint32_t)(gk_crc32c(location, strlen(location)) ^ (uint32_t)sectors),
                             stream ? "streamOptimized" : "monolithicSparse", sectors, base,
                             hw ? hw : compat6 ? "6" : "4", cyl, heads, adapter, tools ? tools : "2147483647");
    if (strlen(desc) > 20 * 512) {
        free(desc);
        free(img);
        return gk_fail(ENAMETOOLONG, "%s: the file name is too long for a VMDK descriptor", location);
    }
    memcpy(img + 512, desc, strlen(desc));
    free(desc);
    /* both directories, each pointing at its preallocated grain tables */
    uint64_t tabs[2] = { rgd, gd };
    for (int k = 0; k < 2; k++)
        for (uint64_t i = 0; i < ngt; i++) {
            uint32_t s = (uint32_t)(tabs[k] + gd_sectors + i * gt_sectors);
            uint8_t *q = img + tabs[k] * 512 + i * 4;
            for (int b = 0; b < 4; b++)
                q[b] = (uint8_t)(s >> (8 * b));
        }
    const struct gk_protocol *p = gk_protocol_for(location);
    int r = p->create ? p->create(location) : gk_fail(ENOTSUP, "%s: cannot create it", location);
    gk_dev *f = NULL;
    if (r == 0) {
        gk_file_opts fo = { .readwrite = 1, .growable = 1, .quiet_in_use = 1 };
        f = p->open(location, &fo);
        if (f)
            gk_create_opened();
        if (!f || gk_truncate(f, 0, GK_PREALLOC_OFF) < 0 || gk_pwrite(f, img, overhead * 512, 0) < 0 ||
            gk_flush(f) < 0)
            r = -errno;
    }
    if (f)
        gk_dev_unref(f);
    free(img);
    return r;
}

static void vmdk_close(gk_dev *d)
{
    struct vmdk *v = d->priv;
    if (!v)
        return;
    for (int i = 0; i < v->next; i++) {
        free(v->ext[i].gd);
        free(v->ext[i].rgd);
    }
    free(v->wbuf);
    gk_compressor_free(v->wc);
    gk_zbuf_clear(&v->wz);
    free(v->ext);
    for (int i = 0; i < GT_SLOTS; i++)
        free(v->gt[i].t);
    free(v->gbuf);
    free(v->cbuf);
    if (v->ld)
        libdeflate_free_decompressor(v->ld);
    if (v->zs_ok)
        inflateEnd(&v->zs);
    free(v->create_type);
    free(v->parent);
    free(v->parent_full);
    free(v);
}

static const struct gk_dev_ops vmdk_ops = {
    .name = "vmdk",
    .pread = vmdk_pread,
    .block_status = vmdk_block_status,
    .pwrite = vmdk_pwrite,
    .pwrite_zeroes = vmdk_pwrite_zeroes,
    .pwrite_compressed = vmdk_pwrite_compressed,
    .compress = vmdk_compress,
    .flush = vmdk_flush,
    .close = vmdk_close,
};

/* ---- opening ---- */

static int vmdk_probe(const uint8_t *b, size_t len, const char *name)
{
    (void)name;
    if (len >= 4 && (memcmp(b, "KDMV", 4) == 0 || memcmp(b, "COWD", 4) == 0))
        return 100;
    /* a descriptor: comment and blank lines, then version=1|2|3 */
    const uint8_t *p = b, *end = b + len;
    while (p < end) {
        if (*p == '#') {
            while (p < end && *p != '\n')
                p++;
            p++;
            continue;
        }
        if (*p == ' ') {
            while (p < end && *p == ' ')
                p++;
            if (p < end && *p == '\r')
                p++;
            if (p == end || *p != '\n')
                return 0;
            p++;
            continue;
        }
        for (char c = '1'; c <= '3'; c++) {
            char s[12];
            snprintf(s, sizeof s, "version=%c\n", c);
            if ((size_t)(end - p) >= 10 && memcmp(p, s, 10) == 0)
                return 100;
            snprintf(s, sizeof s, "version=%c\r\n", c);
            if ((size_t)(end - p) >= 11 && memcmp(p, s, 11) == 0)
                return 100;
        }
        return 0;
    }
    return 0;
}

/* Read up to max bytes of text at off (NUL-terminated at the first NUL). */
static char *read_text(gk_dev *f, uint64_t off, size_t max)
{
    size_t n = f->size > off ? (f->size - off < max ? (size_t)(f->size - off) : max) : 0;
    char *s = gk_malloc(n + 1);
    if (n && gk_pread(f, s, n, off) < 0) {
        free(s);
        return NULL;
    }
    s[n] = 0;
    return s;
}

static int vmdk_open_all(struct vmdk *v, gk_dev *d, gk_dev *file, gk_open_ctx *ctx)
{
    if (file->size < 4)
        return gk_fail(EINVAL, "%s: file is too small, not a valid VMDK image", v->path);
    uint8_t m[4];
    int rc = rd(file, m, 4, 0);
    if (rc < 0)
        return rc;
    char *desc = NULL;
    if (memcmp(m, "KDMV", 4) == 0 || memcmp(m, "COWD", 4) == 0) {
        uint8_t h[512] = { 0 };
        if ((rc = rd(file, h, file->size < 512 ? (size_t)file->size : 512, 0)) < 0)
            return rc;
        if (memcmp(m, "KDMV", 4) == 0 && gk_le64(h + 12) == 0 && gk_le64(h + 28)) {
            /* a descriptor inside a sparse file: its extents say it all */
            uint64_t doff = gk_le64(h + 28);
            if (doff > UINT64_MAX / 512)
                return gk_fail(EINVAL, "%s: invalid descriptor offset", v->path);
            char *t = read_text(file, doff * 512, VMDK_DESC_MAX);
            if (!t)
                return -errno;
            rc = open_desc(v, d, file, t, ctx);
            free(t);
            if (rc < 0)
                return rc;
            desc = read_text(file, 0x200, VMDK_EMBEDDED_DESC);
        } else {
            /* qemu opens COWD extents only through a descriptor */
            if (memcmp(m, "COWD", 4) == 0)
                return gk_fail(EINVAL, "%s: a VMFS sparse (COWD) extent is read through its descriptor, not alone",
                               v->path);
            uint64_t total = 0;
            add_extent(v, &total);
            if ((rc = open_sparse(v, &v->ext[0], file)) < 0)
                return rc;
            if (!v->create_type)
                v->create_type = gk_strdup("monolithicSparse");
            desc = read_text(file, 0x200, VMDK_EMBEDDED_DESC);
        }
    } else {
        desc = read_text(file, 0, VMDK_DESC_MAX);
        if (!desc)
            return -errno;
        if ((rc = open_desc(v, d, file, desc, ctx)) < 0) {
            free(desc);
            return rc;
        }
    }
    if (!desc)
        return -errno;
    if (v->next == 0) {
        free(desc);
        return gk_fail(EINVAL, "%s: the descriptor names no extent", v->path);
    }
    /* the parent, as qemu finds it: parentFileNameHint="NAME" */
    const char *ph = strstr(desc, "parentFileNameHint");
    if (ph) {
        ph += strlen("parentFileNameHint") + 2;
        const char *q = ph <= desc + strlen(desc) ? strchr(ph, '"') : NULL;
        if (!q || q - ph > 1023) {
            free(desc);
            return gk_fail(EINVAL, "%s: invalid parentFileNameHint in the descriptor", v->path);
        }
        if (q > ph)
            v->parent = gk_strndup(ph, (size_t)(q - ph));
    }
    if (desc_cid(desc, "CID", &v->cid) < 0 || desc_cid(desc, "parentCID", &v->parent_cid) < 0) {
        free(desc);
        return gk_fail(EINVAL, "%s: the descriptor has no valid CID or parentCID", v->path);
    }
    free(desc);
    struct vext *last = &v->ext[v->next - 1];
    d->size = (last->start + last->sectors) * 512;
    if (v->parent) {
        v->parent_full = gk_dev_protocol(file)->resolve(file, v->parent);
        if (!(ctx->flags & GK_OPEN_NO_BACKING)) {
            d->backing = gk_open_backing(ctx, file, v->parent, "vmdk");
            if (!d->backing)
                return -errno;
        }
    }
    return 0;
}

/* Writes go only to what vmdk_create makes: one hosted sparse extent,
 * uncompressed, no parent, grain tables preallocated. */
static int open_writable(struct vmdk *v, gk_dev *d, gk_dev *file)
{
    struct vext *e = &v->ext[0];
    int stream = strcmp(v->create_type, "streamOptimized") == 0;
    if (v->next != 1 || e->file != file || e->flat || e->compressed != stream || (stream && !e->marker) ||
        d->backing || v->parent || (!stream && strcmp(v->create_type, "monolithicSparse") != 0))
        return gk_fail(EROFS, "%s: guestkit writes only monolithicSparse and streamOptimized VMDK images without a "
                       "parent", v->path);
    if (e->gd_have < e->gd_entries || e->grain * 512 > VMDK_MAX_CGRAIN)
        return gk_fail(EROFS, "%s: the grain directory is incomplete; not writing", v->path);
    if (e->rgd_off) {
        uint64_t off = e->rgd_off * 512;
        if (off > file->size || e->gd_entries * 4 > file->size - off)
            return gk_fail(EROFS, "%s: the redundant grain directory is past the end; not writing", v->path);
        e->rgd = gk_malloc(e->gd_entries ? e->gd_entries * 4 : 4);
        if (e->gd_entries && gk_pread(file, e->rgd, e->gd_entries * 4, off) < 0)
            return -errno;
        for (uint64_t i = 0; i < e->gd_entries; i++)
            e->rgd[i] = gk_le32(&e->rgd[i]);
        e->rgd_have = e->gd_entries;
    }
    v->next_sector = (file->size / 512 + e->grain - 1) / e->grain * e->grain;
    v->wbuf = gk_malloc(e->grain * 512);
    if (stream) {
        /* grains follow each other; a last zero sector is the end-of-stream
         * marker (a grain never ends in one: its data ends in a checksum) */
        v->next_sector = file->size / 512;
        uint8_t last[512], z[512] = { 0 };
        if (v->next_sector > e->overhead && gk_pread(file, last, 512, (v->next_sector - 1) * 512) == 0 &&
            memcmp(last, z, 512) == 0)
            v->next_sector--;
        if (v->next_sector < e->overhead)
            v->next_sector = e->overhead;
    }
    v->writable = 1;
    return 0;
}

static gk_dev *vmdk_open(gk_dev *file, gk_open_ctx *ctx)
{
    if (ctx->snapshot || ctx->snapshot_id || ctx->snapshot_name) {
        gk_error("%s: vmdk images have no internal snapshots", file->name);
        errno = ENOTSUP;
        return NULL;
    }
    struct vmdk *v = gk_calloc(1, sizeof *v);
    v->path = file->name;
    v->info_only = !!(ctx->flags & GK_OPEN_INFO);
    v->check = !!(ctx->flags & GK_OPEN_CHECK);
    v->gext = -1;
    gk_dev *d = gk_dev_new(&vmdk_ops, file->name, 0, v);
    int rc = vmdk_open_all(v, d, file, ctx);
    if (rc < 0) {
        gk_dev_unref(d);
        errno = -rc;
        return NULL;
    }
    if (ctx->readwrite && (rc = open_writable(v, d, file)) < 0) {
        gk_dev_unref(d);
        errno = -rc;
        return NULL;
    }
    d->file = file;
    d->readonly = !ctx->readwrite;
    return d;
}

/* qemu-img check, as qemu 7.2's vmdk_co_check: every allocated grain (and
 * every flat extent's start) must lie before the end of its file; the
 * first that does not ends the check with qemu's message, and the check
 * fails (EINVAL) as qemu's does.  A sector past qemu's L1 table (its size
 * cut to 32 bits) ends it with qemu's other message and its error code
 * (VMDK_ERROR, -1: EPERM).  Time follows the grain tables. */
static int check_fail(gk_check_result *r, uint64_t sector, int past_l1)
{
    r->messages = gk_malloc(sizeof *r->messages);
    r->messages[0] = past_l1 ? gk_asprintf("ERROR: could not get cluster_offset for sector %" PRIu64, sector)
                             : gk_asprintf("ERROR: cluster offset for sector %" PRIu64 " points after EOF", sector);
    r->nmessages = 1;
    r->corruptions = 1;
    int err = past_l1 ? EPERM : EINVAL;
    return gk_fail(err, "%s", strerror(err));
}

static int vmdk_check(gk_dev *d, gk_check_result *r)
{
    struct vmdk *v = d->priv;
    memset(r, 0, sizeof *r);
    for (int x = 0; x < v->next; x++) {
        struct vext *e = &v->ext[x];
        uint64_t flen = e->file->size;
        if (e->flat) {
            if (e->sectors && e->flat_off >= flen)
                return check_fail(r, e->start, 0);
            continue;
        }
        for (uint64_t gdi = 0; gdi < e->gd_have; gdi++) {
            if (!e->gd[gdi])
                continue;
            if (e->se && e->gd[gdi] == SE_GD_BAD)
                return check_fail(r, e->start + gdi * e->gtes * e->grain, 1);
            const uint32_t *t = load_gt(v, e, e->gd[gdi]);
            if (!t)
                return -EIO;
            for (uint32_t gi = 0; gi < e->gtes; gi++) {
                uint64_t rel = (gdi * e->gtes + gi) * e->grain;
                if (rel >= e->sectors)
                    break;
                if (e->se) {
                    uint64_t host;
                    int k = se_grain(e, ((const uint64_t *)t)[gi], &host);
                    if (k < 0)
                        return check_fail(r, e->start + rel, 1);
                    if (k == R_DATA && host >= flen)
                        return check_fail(r, e->start + rel, 0);
                    continue;
                }
                uint32_t g = t[gi];
                if (!g || (e->zero_grain && g == 1))
                    continue;
                if ((uint64_t)g * 512 >= flen)
                    return check_fail(r, e->start + rel, 0);
            }
        }
        if (e->l1_short)
            return check_fail(r, e->start + e->gd_entries * e->gtes * e->grain, 1);
    }
    return 0;
}

static int vmdk_info(gk_dev *d, gk_image_info *info)
{
    struct vmdk *v = d->priv;
    info->format = "vmdk";
    info->filename = gk_strdup(d->name);
    info->virtual_size = d->size;
    uint64_t total = 0, a;
    if (d->file->ops->get_allocated && d->file->ops->get_allocated(d->file, &a) == 0)
        total += a;
    for (int i = 0; i < d->nkids; i++)
        if (d->kids[i]->ops->get_allocated && d->kids[i]->ops->get_allocated(d->kids[i], &a) == 0)
            total += a;
    info->actual_size = total;
    /* a cluster size when every extent is alike and sparse (qemu) */
    int same = 1;
    for (int i = 1; i < v->next; i++) {
        const struct vext *x = &v->ext[0], *y = &v->ext[i];
        same &= x->flat == y->flat && x->compressed == y->compressed && (x->flat || x->grain == y->grain);
    }
    if (same && !v->ext[0].flat)
        info->cluster_size = (uint32_t)(v->ext[0].grain * 512);
    info->needs_compressed_writes = v->ext[0].compressed;
    info->vmdk = 1;
    info->vmdk_cid = v->cid;
    info->vmdk_parent_cid = v->parent_cid;
    info->vmdk_create_type = gk_strdup(v->create_type ? v->create_type : "");
    info->vmdk_nextents = v->next;
    info->vmdk_extents = gk_calloc((size_t)v->next, sizeof *info->vmdk_extents);
    for (int i = 0; i < v->next; i++) {
        const struct vext *x = &v->ext[i];
        gk_vmdk_extent_info *o = &info->vmdk_extents[i];
        o->filename = gk_strdup(x->file->name);
        o->type = gk_strdup(x->type);
        o->virtual_size = x->sectors * 512;
        o->cluster_size = x->flat ? 0 : (uint32_t)(x->grain * 512);
        o->compressed = x->compressed;
    }
    if (v->parent) {
        info->backing_file = gk_strdup(v->parent);
        info->full_backing_file = gk_strdup(v->parent_full ? v->parent_full : v->parent);
        info->backing_format = gk_strdup("vmdk");
    }
    return 0;
}

const struct gk_format gk_vmdk_format = {
    .name = "vmdk",
    .probe = vmdk_probe,
    .open = vmdk_open,
    .create = vmdk_create,
    .create_opts = vmdk_create_opts,
    .compressed_writes = 1,
    .info = vmdk_info,
    .check = vmdk_check,
};
