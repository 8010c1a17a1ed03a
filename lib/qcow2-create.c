/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Creating qcow2 images the way qemu-img create 7.2 does, so that the same
 * options give the same bytes: the header cluster (header, backing format,
 * data file and feature name table extensions, backing file name), the
 * refcount table in cluster 1 and its first block in cluster 2, then the
 * disk is grown to its size through the writer (the L1 table goes in the
 * first free clusters, exactly as long as it needs to be). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "luks.h"
#include "qcow2.h"

const gk_create_opt qcow2_create_opts[] = {
    {"backing_file", GK_OPT_STRING, "File name of a base image", NULL},
    {"backing_fmt", GK_OPT_STRING, "Image format of the base image", NULL},
    {"cluster_size", GK_OPT_SIZE, "qcow2 cluster size", "65536"},
    {"compat", GK_OPT_STRING, "Compatibility level (v2 [0.10] or v3 [1.1])", NULL},
    {"compression_type", GK_OPT_STRING, "Compression method used for image cluster compression", "zlib"},
    {"data_file", GK_OPT_STRING, "File name of an external data file", NULL},
    {"data_file_raw", GK_OPT_BOOL, "The external data file must stay valid as a raw image", NULL},
    {"encrypt.cipher-alg", GK_OPT_STRING, "Name of encryption cipher algorithm", NULL},
    {"encrypt.cipher-mode", GK_OPT_STRING, "Name of encryption cipher mode", NULL},
    {"encrypt.format", GK_OPT_STRING, "Encrypt the image, format choices: 'aes', 'luks'", NULL},
    {"encrypt.hash-alg", GK_OPT_STRING, "Name of encryption hash algorithm", NULL},
    {"encrypt.iter-time", GK_OPT_NUMBER, "Time to spend in PBKDF in milliseconds", NULL},
    {"encrypt.ivgen-alg", GK_OPT_STRING, "Name of IV generator algorithm", NULL},
    {"encrypt.ivgen-hash-alg", GK_OPT_STRING, "Name of IV generator hash algorithm", NULL},
    {"encrypt.key-secret", GK_OPT_STRING, "ID of secret providing qcow AES key or LUKS passphrase", NULL},
    {"encryption", GK_OPT_BOOL, "Encrypt the image with format 'aes'. (Deprecated in favor of encrypt.format=aes)",
     NULL},
    {"extended_l2", GK_OPT_BOOL, "Extended L2 tables", "off"},
    {"lazy_refcounts", GK_OPT_BOOL, "Postpone refcount updates", "off"},
    {"preallocation", GK_OPT_STRING, "Preallocation mode (allowed values: off, metadata, falloc, full)", NULL},
    {"refcount_bits", GK_OPT_NUMBER, "Width of a reference count entry in bits", "16"},
    {"size", GK_OPT_SIZE, "Virtual disk size", NULL},
    {NULL, 0, NULL, NULL},
};

static const struct { uint8_t type, bit; const char *name; } features[] = {
    {0, 0, "dirty bit"}, {0, 1, "corrupt bit"}, {0, 2, "external data file"},
    {0, 3, "compression type"}, {0, 4, "extended L2 entries"}, {1, 0, "lazy refcounts"},
    {2, 0, "bitmaps"}, {2, 1, "raw external data"},
};

static void add_ext(struct qcow2 *q, uint32_t type, const void *data, uint32_t len)
{
    struct qcow2_ext *x = &q->exts[q->nexts++];
    x->type = type;
    x->len = len;
    x->data = gk_malloc(len ? len : 1);
    memcpy(x->data, data, len);
}

void qcow2_add_feature_table(struct qcow2 *q)
{
    /* qemu 7.2 writes the feature name table into clusters above 4 KiB only */
    if (q->cluster_size <= 4096 || q->nexts >= QC_MAX_EXTS)
        return;
    uint8_t t[sizeof features / sizeof features[0] * 48];
    memset(t, 0, sizeof t);
    for (size_t i = 0; i < sizeof features / sizeof features[0]; i++) {
        t[i * 48] = features[i].type;
        t[i * 48 + 1] = features[i].bit;
        memcpy(t + i * 48 + 2, features[i].name, strlen(features[i].name));
    }
    add_ext(q, QC_EXT_FEATURE_TABLE, t, sizeof t);
}

struct copts {
    uint64_t cluster_size, refcount_bits;
    int version, lazy, ext_l2, zstd, data_raw;
    const char *backing, *backing_fmt, *data_file, *prealloc, *compat;
    struct qcow2_enc enc;
};

static int parse_opts(gk_create_args *a, struct copts *o)
{
    const char *v;
    int r;
    memset(o, 0, sizeof *o);
    o->cluster_size = 65536;
    o->refcount_bits = 16;
    o->version = 3;
    if ((v = gk_create_get(a, "size")) && (r = gk_opt_size("size", v, &a->size)) == 0)
        a->size_given = 1;
    if ((v = gk_create_get(a, "cluster_size")) && (r = gk_opt_size("cluster_size", v, &o->cluster_size)) < 0)
        return r;
    if ((o->compat = gk_create_get(a, "compat"))) {
        if (strcmp(o->compat, "0.10") == 0 || strcmp(o->compat, "v2") == 0)
            o->version = 2;
        else if (strcmp(o->compat, "1.1") == 0 || strcmp(o->compat, "v3") == 0)
            o->version = 3;
        else
            return gk_fail(EINVAL, "Invalid parameter '%s'", o->compat);
    }
    if ((v = gk_create_get(a, "lazy_refcounts")) && (r = gk_opt_bool("lazy_refcounts", v, &o->lazy)) < 0)
        return r;
    if ((v = gk_create_get(a, "extended_l2")) && (r = gk_opt_bool("extended_l2", v, &o->ext_l2)) < 0)
        return r;
    if ((v = gk_create_get(a, "data_file_raw")) && (r = gk_opt_bool("data_file_raw", v, &o->data_raw)) < 0)
        return r;
    if ((v = gk_create_get(a, "refcount_bits"))) {
        char *end;
        unsigned long long b = strtoull(v, &end, 10);
        if (*end || !*v || b < 1 || b > 64 || (b & (b - 1)))
            return gk_fail(EINVAL, "Refcount width must be a power of two and may not exceed 64 bits");
        o->refcount_bits = b;
    }
    if ((v = gk_create_get(a, "compression_type"))) {
        if (strcmp(v, "zstd") == 0)
            o->zstd = 1;
        else if (strcmp(v, "zlib") != 0)
            return gk_fail(EINVAL, "Invalid parameter '%s'", v);
    }
    if ((r = qcow2_enc_parse(a, &o->enc)) < 0)
        return r;
    o->prealloc = gk_create_get(a, "preallocation");
    o->backing = gk_create_get(a, "backing_file");
    o->backing_fmt = gk_create_get(a, "backing_fmt");
    o->data_file = gk_create_get(a, "data_file");
    return 0;
}

/* What qemu checks after printing its line. */
static int check_opts(const struct copts *o)
{
    if (o->cluster_size < 512 || o->cluster_size > (2u << 20) || (o->cluster_size & (o->cluster_size - 1)))
        return gk_fail(EINVAL, "Cluster size must be a power of two between 512 and 2048k");
    if (o->prealloc && strcmp(o->prealloc, "off") != 0 && strcmp(o->prealloc, "metadata") != 0) {
        if (strcmp(o->prealloc, "falloc") && strcmp(o->prealloc, "full"))
            return gk_fail(EINVAL, "Invalid parameter '%s'", o->prealloc);
    }
    if (o->version < 3) {
        const char *why = o->lazy ? "Lazy refcounts only supported with compatibility level 1.1 and above"
                        : o->refcount_bits != 16 ? "Different refcount widths than 16 bits require compatibility "
                                                   "level 1.1 or above"
                        : o->data_file ? "External data files are only supported with compatibility level 1.1 "
                                         "and above"
                        : o->ext_l2 ? "Extended L2 entries are only supported with compatibility level 1.1 and above"
                        : o->zstd ? "Non-zlib compression type is only supported with compatibility level 1.1 "
                                    "and above"
                        : NULL;
        if (why)
            return gk_fail(EINVAL, "%s (use version=v3 or greater)", why);
    }
    if (o->ext_l2 && o->cluster_size < 16384)
        return gk_fail(EINVAL, "Extended L2 entries are only supported with cluster sizes of at least 16384 bytes");
    if (o->data_raw && !o->data_file)
        return gk_fail(EINVAL, "data_file_raw can only be used with data_file");
    if (o->data_raw && o->backing)
        return gk_fail(EINVAL, "Backing file and data_file_raw=on cannot be used at the same time");
    if (o->backing && !o->backing_fmt)
        return gk_fail(EINVAL, "Backing file specified without backing format");
    if (o->backing_fmt && !o->backing)
        return gk_fail(EINVAL, "Backing format cannot be used without backing file");
    if (o->backing_fmt && gk_format_check(o->backing_fmt) < 0)
        return -errno;
    return 0;
}

/* qemu-img create's line: the options that have a value, in qemu's order. */
static char *summary(const gk_create_args *a, const struct copts *o)
{
    char *e = qcow2_enc_summary(a);
    char *s = gk_asprintf("fmt=qcow2%s cluster_size=%llu extended_l2=%s", e, (unsigned long long)o->cluster_size,
                          o->ext_l2 ? "on" : "off");
    char *t;
    free(e);
#define APPEND(...) (t = gk_asprintf(__VA_ARGS__), free(s), s = t)
    if (o->prealloc)
        APPEND("%s preallocation=%s", s, o->prealloc);
    APPEND("%s compression_type=%s size=%llu", s, o->zstd ? "zstd" : "zlib", (unsigned long long)a->size);
    if (o->compat)
        APPEND("%s compat=%s", s, o->compat);
    if (o->backing)
        APPEND("%s backing_file=%s", s, o->backing);
    if (o->backing_fmt)
        APPEND("%s backing_fmt=%s", s, o->backing_fmt);
    if (o->data_file)
        APPEND("%s data_file=%s", s, o->data_file);
    if (gk_create_get(a, "data_file_raw"))
        APPEND("%s data_file_raw=%s", s, o->data_raw ? "on" : "off");
    APPEND("%s lazy_refcounts=%s refcount_bits=%llu", s, o->lazy ? "on" : "off",
           (unsigned long long)o->refcount_bits);
#undef APPEND
    return s;
}

/* The backing file's size (and a check that it opens), relative to the
 * new image's location. */
static int backing_size(const char *location, const struct copts *o, uint64_t *size)
{
    const char *slash = strrchr(location, '/');
    char *path = o->backing[0] == '/' || !slash
                     ? gk_strdup(o->backing)
                     : gk_asprintf("%.*s%s", (int)(slash - location + 1), location, o->backing);
    gk_open_opts oo = {.format = o->backing_fmt, .force_share = 1};
    gk_dev *b = gk_open_image(path, &oo);
    free(path);
    if (!b) {
        gk_error_prefix("Could not open backing file");
        return -errno;
    }
    *size = b->size;
    gk_dev_unref(b);
    return 0;
}

static int write_skeleton(const char *location, const struct copts *o)
{
    const struct gk_protocol *p = gk_protocol_for(location);
    if (!p->create)
        return gk_fail(ENOTSUP, "%s: cannot create images there", location);
    int r = p->create(location);
    if (r < 0)
        return r;
    gk_file_opts fo = {.readwrite = 1, .growable = 1, .quiet_in_use = 1};
    gk_dev *f = p->open(location, &fo);
    if (!f)
        return -errno;
    struct qcow2 *q = gk_calloc(1, sizeof *q);
    uint64_t cs = o->cluster_size;
    unsigned cb = 0;
    while ((1ULL << cb) < cs)
        cb++;
    q->h.magic = QC_MAGIC;
    q->h.version = (uint32_t)o->version;
    q->h.cluster_bits = cb;
    q->h.refcount_table_offset = cs;
    q->h.refcount_table_clusters = 1;
    unsigned order = 0;
    while ((1ULL << order) < o->refcount_bits)
        order++;
    q->h.refcount_order = order;
    q->h.header_length = o->version >= 3 ? 112 : 72;
    if (o->lazy)
        q->h.compatible_features |= QC_COMPAT_LAZY_REFCOUNTS;
    if (o->data_file)
        q->h.incompatible_features |= QC_INCOMPAT_DATA_FILE;
    if (o->data_raw)
        q->h.autoclear_features |= QC_AUTOCLEAR_DATA_FILE_RAW;
    if (o->zstd) {
        q->h.incompatible_features |= QC_INCOMPAT_COMPRESSION;
        q->h.compression_type = 1;
    }
    if (o->ext_l2)
        q->h.incompatible_features |= QC_INCOMPAT_EXTL2;
    q->version = o->version;
    q->cluster_size = cs;
    q->file = f;
    q->path = f->name;
    if (o->backing_fmt)
        add_ext(q, QC_EXT_BACKING_FORMAT, o->backing_fmt, (uint32_t)strlen(o->backing_fmt));
    if (o->data_file)
        add_ext(q, QC_EXT_DATA_FILE, o->data_file, (uint32_t)strlen(o->data_file));
    if (o->version >= 3)
        qcow2_add_feature_table(q);
    if (o->backing)
        q->backing_name = gk_strdup(o->backing);
    /* the refcount table and its first block (clusters 0-2 in use), then
     * the header: a kill leaves a file without a qcow2 header, or a valid
     * image */
    uint8_t *b = gk_calloc(3, cs);
    q->h.backing_file_offset = 0;
    q->h.backing_file_size = 0;
    int n = qcow2_header_build(q, b, cs);
    if (n >= 0 && q->backing_name) {
        size_t bl = strlen(q->backing_name);
        q->h.backing_file_offset = (uint64_t)n - bl;
        q->h.backing_file_size = (uint32_t)bl;
        memset(b, 0, cs);
        n = qcow2_header_build(q, b, cs);
    }
    if (n < 0) {
        r = gk_fail(EINVAL, "%s: the header and its extensions do not fit in one cluster", location);
    } else {
        for (int i = 7; i >= 0; i--)
            b[cs + 7 - i] = (uint8_t)((2 * cs) >> (8 * i));
        for (unsigned k = 0; k < 3; k++) {
            uint64_t bit = (uint64_t)k << order;
            uint8_t *rb = b + 2 * cs;
            if (order >= 3)
                rb[(bit >> 3) + (1u << (order - 3)) - 1] = 1;
            else
                rb[bit >> 3] |= (uint8_t)(1u << (bit & 7));
        }
        if (gk_pwrite(f, b + cs, 2 * cs, cs) < 0 || gk_flush(f) < 0 || gk_pwrite(f, b, cs, 0) < 0 ||
            gk_flush(f) < 0)
            r = -errno;
    }
    free(b);
    for (int i = 0; i < q->nexts; i++)
        free(q->exts[i].data);
    free(q->backing_name);
    free(q);
    gk_dev_unref(f);
    return r;
}

static enum gk_prealloc prealloc_mode(const char *v)
{
    return !v                              ? GK_PREALLOC_OFF
           : strcmp(v, "metadata") == 0 ? GK_PREALLOC_METADATA
           : strcmp(v, "falloc") == 0   ? GK_PREALLOC_FALLOC
           : strcmp(v, "full") == 0     ? GK_PREALLOC_FULL
                                        : GK_PREALLOC_OFF;
}

int qcow2_create(const char *location, gk_create_args *a)
{
    struct copts o;
    int r = parse_opts(a, &o);
    if (r < 0)
        return r;
    if (!a->size_given && !o.backing)
        return gk_fail(EINVAL, "Image creation needs a size parameter");
    if (o.backing && !o.backing_fmt) {
        /* qemu-img says what it would have probed */
        const char *slash = strrchr(location, '/');
        char *path = o.backing[0] == '/' || !slash
                         ? gk_strdup(o.backing)
                         : gk_asprintf("%.*s%s", (int)(slash - location + 1), location, o.backing);
        gk_open_opts oo = {.force_share = 1, .flags = GK_OPEN_INFO | GK_OPEN_NO_BACKING};
        gk_dev *b = gk_open_image(path, &oo);
        free(path);
        const char *f = b ? gk_dev_format(b) : NULL;
        char *detected = f ? gk_asprintf("\nDetected format of %s.", f) : gk_strdup("");
        if (b)
            gk_dev_unref(b);
        r = gk_fail(EINVAL, "Backing file specified without backing format%s", detected);
        free(detected);
        return r;
    }
    if (a->size_given)
        a->summary = summary(a, &o);
    a->size = (a->size + 511) & ~511ULL;
    if ((r = check_opts(&o)) < 0 || (r = qcow2_enc_check(a, &o.enc, o.data_file, 0)) < 0)
        return r;
    {
        uint64_t l2e = o.cluster_size / (o.ext_l2 ? 16 : 8);
        if (o.cluster_size >= 512 && a->size / (o.cluster_size * l2e) + 1 > QC_MAX_L1_BYTES / 8)
            return gk_fail(EFBIG, "The image size is too large for file format 'qcow2' (try using a larger "
                                  "cluster size)");
    }
    if (!a->size_given) {
        if (!o.backing)
            return gk_fail(EINVAL, "Image creation needs a size parameter");
        if ((r = backing_size(location, &o, &a->size)) < 0)
            return r;
    } else if (o.backing && !a->unsafe) {
        uint64_t ignored;
        if ((r = backing_size(location, &o, &ignored)) < 0)
            return r;
    }
    if (!a->summary)
        a->summary = summary(a, &o);
    /* the LUKS header is made before any file is (randomness and the
     * PBKDF2 timing need what a sandbox entered at gk_create_opened
     * refuses) */
    if (o.enc.on && (r = qcow2_enc_prepare(&o.enc)) < 0)
        return r;
    if (o.data_file) {
        const char *slash = strrchr(location, '/');
        char *dpath = o.data_file[0] == '/' || !slash
                          ? gk_strdup(o.data_file)
                          : gk_asprintf("%.*s%s", (int)(slash - location + 1), location, o.data_file);
        const struct gk_protocol *p = gk_protocol_for(dpath);
        r = p->create ? p->create(dpath) : gk_fail(ENOTSUP, "%s: cannot create it", dpath);
        /* qemu makes it as a raw image of the disk's size, preallocated as
         * asked (metadata is the image file's business) */
        enum gk_prealloc dm = prealloc_mode(o.prealloc);
        if (r == 0 && a->size) {
            gk_file_opts fo = {.readwrite = 1, .growable = 1, .quiet_in_use = 1};
            gk_dev *df = p->open(dpath, &fo);
            if (!df || gk_truncate(df, a->size, dm == GK_PREALLOC_METADATA ? GK_PREALLOC_OFF : dm) < 0)
                r = -errno;
            if (df)
                gk_dev_unref(df);
        }
        free(dpath);
        if (r < 0)
            return r;
    }
    if ((r = write_skeleton(location, &o)) < 0) {
        qcow2_enc_clear(&o.enc);
        return r;
    }
    if (a->size == 0 && !o.enc.on) {
        gk_create_opened();
        return 0;
    }
    gk_open_opts oo = {.format = "qcow2", .readwrite = 1, .flags = GK_OPEN_NO_BACKING};
    gk_dev *d = gk_open_image(location, &oo);
    if (!d) {
        qcow2_enc_clear(&o.enc);
        return -errno;
    }
    gk_create_opened();
    /* qemu gives the empty image its size with the preallocation asked */
    enum gk_prealloc pm = prealloc_mode(o.prealloc);
    if (a->size && (gk_truncate(d, a->size, pm) < 0 || gk_flush(d) < 0))
        r = -errno;
    /* qemu sets up the encryption last, after the L1 table */
    if (r == 0 && o.enc.on)
        r = qcow2_enc_setup(d, &o.enc);
    qcow2_enc_clear(&o.enc);
    gk_dev_unref(d);
    return r;
}

/* ---- measure (qemu's qcow2_measure) ---- */

/* Refcount blocks and table for clusters clusters, counting themselves,
 * in bytes (qemu's qcow2_refcount_metadata_size). */
static uint64_t refcount_meta(uint64_t clusters, uint64_t cs, unsigned order)
{
    uint64_t table, blocks = qcow2_refcount_blocks_for(clusters, cs, order, 0, &table);
    return (blocks + table) * cs;
}

static uint64_t round_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

/* The file of a fully allocated image of total bytes: header, L2 and L1
 * tables, refcount structure, data (qemu's qcow2_calc_prealloc_size). */
static uint64_t prealloc_size(uint64_t total, uint64_t cs, unsigned order, int ext_l2)
{
    uint64_t aligned = round_up(total, cs), l2e = ext_l2 ? 16 : 8, meta = cs;
    uint64_t nl2e = round_up(aligned / cs, cs / l2e);
    meta += nl2e * l2e;
    uint64_t nl1e = round_up(nl2e * l2e / cs, cs / 8);
    meta += nl1e * 8;
    meta += refcount_meta((meta + aligned) / cs, cs, order);
    return meta + aligned;
}

/* What the persistent dirty bitmaps of a qcow2 source take in a target of
 * cluster size cs (qemu's qcow2_measure): per bitmap, its bits (one per
 * granule of the disk) in whole clusters, its table in whole clusters, and
 * its directory entry; the directory in whole clusters.  Bitmaps a program
 * without bitmap support left inconsistent (the autoclear bit clear) do not
 * count, as qemu does not load them. */
static int bitmaps_size(struct qcow2 *q, uint64_t cs, uint64_t *out)
{
    *out = 0;
    if (!q->nb_bitmaps)
        return 0;
    if (q->bitmap_dir_size > 1024ULL * 65535 || q->bitmap_dir_size < 24)
        return gk_fail(EINVAL, "%s: bitmap directory size %llu is invalid", q->path,
                       (unsigned long long)q->bitmap_dir_size);
    uint8_t *dir = gk_malloc(q->bitmap_dir_size);
    int r = qcow2_read(q, q->file, dir, q->bitmap_dir_size, q->bitmap_dir_offset);
    uint64_t p = 0, total = 0, dir_bytes = 0;
    for (int b = 0; b < q->nb_bitmaps && r == 0; b++) {
        if (q->bitmap_dir_size - p < 24) {
            r = gk_fail(EINVAL, "%s: bitmap directory holds fewer than %d bitmaps", q->path, q->nb_bitmaps);
            break;
        }
        unsigned gbits = dir[p + 17];
        uint64_t name = gk_be16(dir + p + 18), extra = gk_be32(dir + p + 20);
        uint64_t entry = (24 + extra + name + 7) & ~7ULL;
        if (gbits < 9 || gbits > 31 || name == 0 || name > 1023 || entry > q->bitmap_dir_size - p) {
            r = gk_fail(EINVAL, "%s: bitmap directory entry %d is invalid", q->path, b);
            break;
        }
        uint64_t bits = (q->h.size + (1ULL << gbits) - 1) >> gbits;
        uint64_t clusters = ((bits + 7) / 8 + cs - 1) / cs;
        total += clusters * cs + round_up(clusters * 8, cs);
        dir_bytes += (24 + name + 7) & ~7ULL; /* no extra data in the target */
        p += entry;
    }
    free(dir);
    if (r == 0)
        *out = total + round_up(dir_bytes, cs);
    return r;
}

int qcow2_measure(gk_dev *src, gk_create_args *a, gk_measure *m)
{
    struct copts o;
    int r = parse_opts(a, &o);
    if (r < 0)
        return r;
    int full = 0;
    if (o.prealloc) {
        if (strcmp(o.prealloc, "full") == 0 || strcmp(o.prealloc, "falloc") == 0)
            full = 1;
        else if (strcmp(o.prealloc, "off") && strcmp(o.prealloc, "metadata"))
            return gk_fail(EINVAL, "Invalid parameter '%s'", o.prealloc);
        o.prealloc = NULL;
    }
    o.backing = o.backing_fmt = NULL; /* measured without: as qemu */
    if ((r = check_opts(&o)) < 0 || (r = qcow2_enc_check(a, &o.enc, NULL, 1)) < 0)
        return r;
    uint64_t cs = o.cluster_size, vsize, required = 0;
    unsigned order = 0;
    while ((1ULL << order) < o.refcount_bits)
        order++;
    if (src) {
        uint64_t ssize = src->size < a->size ? src->size : a->size, pnum;
        vsize = round_up(a->size, cs);
        for (uint64_t off = 0; off < ssize && !full; off += pnum) {
            gk_extent e;
            if (gk_block_status(src, off, ssize - off, &e) < 0)
                return -errno;
            pnum = e.len;
            if (e.flags & GK_BS_ZERO)
                continue;
            if ((e.flags & (GK_BS_DATA | GK_BS_ALLOCATED)) == (GK_BS_DATA | GK_BS_ALLOCATED)) {
                pnum = round_up(off + pnum, cs) - off;
                required += off % cs + pnum;
            }
        }
        if (full)
            required = vsize;
    } else {
        vsize = round_up(a->size, cs);
        if (full)
            required = vsize;
    }
    uint64_t l2e = o.ext_l2 ? 16 : 8, l2_tables = (vsize / cs + cs / l2e - 1) / (cs / l2e);
    if (l2_tables * 8 > QC_MAX_L1_BYTES)
        return gk_fail(EFBIG, "The image size is too large (try using a larger cluster size)");
    m->fully_allocated = prealloc_size(vsize, cs, order, o.ext_l2);
    /* LUKS: its header's clusters (qemu's qcow2_measure) */
    if (o.enc.on)
        m->fully_allocated += round_up(gk_luks1_layout(o.enc.keylen, NULL), cs);
    m->required = m->fully_allocated - vsize + required;
    /* persistent bitmaps: a version 3 target of a version 3 qcow2 source */
    m->has_bitmaps = o.version >= 3 && src && src->ops == &qcow2_ops && ((struct qcow2 *)src->priv)->version >= 3;
    m->bitmaps = 0;
    if (src && src->ops == &qcow2_ops && (r = bitmaps_size(src->priv, cs, &m->bitmaps)) < 0)
        return r;
    if (!m->has_bitmaps)
        m->bitmaps = 0;
    return 0;
}
