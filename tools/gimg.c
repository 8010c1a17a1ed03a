/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gimg: the read side of qemu-img (info, map, check, snapshot -l, compare,
 * convert -O raw) over guestkit's block layer.
 *
 * Option names, messages, exit codes and output shapes follow qemu-img 7.2
 * so that scripts (and our tests) can use either tool.  qemu-img prints its
 * JSON from a QDict, whose key order is the order of its hash buckets; we
 * reproduce that order (jv_* below) so that the output compares textually.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blk.h"
#include "common.h"

#define GiB (1ULL << 30)

static int untrusted = -1; /* -1: from GUESTKIT_UNTRUSTED */

/* ------------------------------------------------------------------ */
/* qemu's path_combine(): a relative backing name is relative to the
 * directory part of the image's name, exactly as written. */
static char *path_combine(const char *base, const char *name)
{
    if (name[0] == '/')
        return gk_strdup(name);
    const char *p = strrchr(base, '/');
    size_t len = p ? (size_t)(p + 1 - base) : 0;
    return gk_asprintf("%.*s%s", (int)len, base, name);
}

/* ------------------------------------------------------------------ */
/* JSON values printed like qemu's qobject_to_json_pretty(). */

enum { J_OBJ, J_ARR, J_STR, J_INT, J_BOOL };

typedef struct jv {
    int type;
    char *key;      /* member name inside an object */
    char *s;
    long long i;
    struct jv **kid;
    int n;
} jv;

static jv *jv_new(int type)
{
    jv *v = gk_calloc(1, sizeof *v);
    v->type = type;
    return v;
}

static jv *jv_add(jv *parent, const char *key, jv *v)
{
    parent->kid = gk_realloc(parent->kid, (size_t)(parent->n + 1) * sizeof *parent->kid);
    parent->kid[parent->n++] = v;
    if (key)
        v->key = gk_strdup(key);
    return v;
}

static void jv_str(jv *o, const char *k, const char *s) { jv *v = jv_new(J_STR); v->s = gk_strdup(s); jv_add(o, k, v); }
static void jv_int(jv *o, const char *k, long long i) { jv *v = jv_new(J_INT); v->i = i; jv_add(o, k, v); }
static void jv_bool(jv *o, const char *k, int b) { jv *v = jv_new(J_BOOL); v->i = !!b; jv_add(o, k, v); }

static void jv_free(jv *v)
{
    if (!v)
        return;
    for (int i = 0; i < v->n; i++)
        jv_free(v->kid[i]);
    free(v->kid);
    free(v->key);
    free(v->s);
    free(v);
}

/* qemu's QDict: 512 buckets chosen by tdb_hash(), new keys inserted at
 * the head of their bucket, iteration bucket by bucket. */
static unsigned qdict_bucket(const char *name)
{
    unsigned value = 0x238F13AFu * (unsigned)strlen(name);
    for (unsigned i = 0; name[i]; i++)
        value = value + ((unsigned)(unsigned char)name[i] << (i * 5 % 24));
    return (1103515243u * value + 12345u) % 512;
}

struct jorder { unsigned bucket; int ins; jv *v; };

static int jorder_cmp(const void *a, const void *b)
{
    const struct jorder *x = a, *y = b;
    if (x->bucket != y->bucket)
        return x->bucket < y->bucket ? -1 : 1;
    return y->ins - x->ins; /* later insertion first */
}

static void json_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    while (*p) {
        unsigned c = *p, cp;
        int len;
        if (c < 0x80) { cp = c; len = 1; }
        else if ((c & 0xe0) == 0xc0) { cp = c & 0x1f; len = 2; }
        else if ((c & 0xf0) == 0xe0) { cp = c & 0x0f; len = 3; }
        else if ((c & 0xf8) == 0xf0) { cp = c & 0x07; len = 4; }
        else { cp = 0xfffd; len = -1; }
        int ok = len > 0;
        for (int k = 1; ok && k < len; k++) {
            if ((p[k] & 0xc0) != 0x80)
                ok = 0;
            else
                cp = cp << 6 | (p[k] & 0x3f);
        }
        if (!ok) { cp = 0xfffd; len = 1; }
        p += len;
        switch (cp) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (cp >= 0x20 && cp < 0x7f)
                fputc((int)cp, f);
            else if (cp < 0x10000)
                fprintf(f, "\\u%04X", cp);
            else {
                cp -= 0x10000;
                fprintf(f, "\\u%04X\\u%04X", 0xd800 | (cp >> 10), 0xdc00 | (cp & 0x3ff));
            }
        }
    }
    fputc('"', f);
}

static void json_nl(FILE *f, int indent)
{
    fputc('\n', f);
    for (int i = 0; i < indent; i++)
        fputs("    ", f);
}

/* The members of an object in qemu's iteration order. */
static struct jorder *jv_ordered(const jv *v)
{
    struct jorder *o = gk_calloc((size_t)v->n + 1, sizeof *o);
    for (int i = 0; i < v->n; i++)
        o[i] = (struct jorder){qdict_bucket(v->kid[i]->key), i, v->kid[i]};
    qsort(o, (size_t)v->n, sizeof *o, jorder_cmp);
    return o;
}

static void json_print(FILE *f, const jv *v, int indent)
{
    switch (v->type) {
    case J_STR: json_string(f, v->s); break;
    case J_INT: fprintf(f, "%lld", v->i); break;
    case J_BOOL: fputs(v->i ? "true" : "false", f); break;
    case J_ARR:
        fputc('[', f);
        for (int i = 0; i < v->n; i++) {
            if (i)
                fputc(',', f);
            json_nl(f, indent + 1);
            json_print(f, v->kid[i], indent + 1);
        }
        json_nl(f, indent);
        fputc(']', f);
        break;
    case J_OBJ: {
        struct jorder *o = jv_ordered(v);
        fputc('{', f);
        for (int i = 0; i < v->n; i++) {
            if (i)
                fputc(',', f);
            json_nl(f, indent + 1);
            json_string(f, o[i].v->key);
            fputs(": ", f);
            json_print(f, o[i].v, indent + 1);
        }
        json_nl(f, indent);
        fputc('}', f);
        free(o);
        break;
    }
    }
}

/* qemu's dump_qobject() for "Format specific information". */
static void human_dump(const jv *v, int indent)
{
    struct jorder *o = jv_ordered(v);
    for (int i = 0; i < v->n; i++) {
        const jv *k = o[i].v;
        char *key = gk_strdup(k->key);
        for (char *p = key; *p; p++)
            if (*p == '-')
                *p = ' ';
        printf("%*s%s:", indent * 4, "", key);
        free(key);
        switch (k->type) {
        case J_STR: printf(" %s\n", k->s); break;
        case J_INT: printf(" %lld\n", k->i); break;
        case J_BOOL: printf(" %s\n", k->i ? "true" : "false"); break;
        case J_OBJ: putchar('\n'); human_dump(k, indent + 1); break;
        case J_ARR:
            putchar('\n');
            for (int j = 0; j < k->n; j++) {
                printf("%*s[%d]:\n", (indent + 1) * 4, "", j);
                if (k->kid[j]->type == J_OBJ)
                    human_dump(k->kid[j], indent + 2);
            }
            break;
        }
    }
    free(o);
}

/* ------------------------------------------------------------------ */
/* Common option handling */

enum { OUT_HUMAN, OUT_JSON };

static int parse_output(const char *s)
{
    if (strcmp(s, "human") == 0)
        return OUT_HUMAN;
    if (strcmp(s, "json") == 0)
        return OUT_JSON;
    gk_die_status(1, "--output must be used with human or json as argument.");
}

static gk_dev *open_image(const char *path, const char *fmt, int force_share, const char *snapshot)
{
    if (fmt && strcmp(fmt, "raw") != 0 && strcmp(fmt, "qcow2") != 0)
        gk_die_status(1, "Unknown file format '%s'", fmt);
    gk_open_opts o = {
        .format = fmt,
        .snapshot = snapshot,
        .untrusted = untrusted,
        .force_share = force_share,
    };
    return gk_open_image(path, &o);
}

static int is_raw(const gk_dev *d)
{
    return strcmp(d->ops->name, "raw") == 0;
}

/* ------------------------------------------------------------------ */
/* Block status through the chain, as qemu-img's get_block_status(). */

typedef struct map_entry {
    uint64_t start, length;
    int depth, present, zero, data, has_offset;
    int beyond;            /* unallocated above a backing file shorter than off */
    uint64_t offset;
    const char *filename;  /* set with has_offset */
} map_entry;

/* Deeper than lib/qcow2.c opens (256 backing files). */
#define CHAIN_MAX 260

struct chain {
    gk_dev *dev[CHAIN_MAX];
    char *name[CHAIN_MAX];      /* qemu's filename of each level               */
    char *data_name[CHAIN_MAX]; /* external data file of the level, or NULL    */
    uint32_t csize[CHAIN_MAX];  /* cluster size (qcow2), 0 for raw              */
    int prealloc[CHAIN_MAX];    /* qemu would take the level for preallocated   */
    int hostfd[CHAIN_MAX];      /* host file of the level for hole lookups, or -1 */
    int n;
};

/* qemu's qcow2_detect_metadata_preallocation(): when clearly fewer clusters
 * are allocated on the host than the image uses, qemu asks the host file
 * about holes under data clusters (BDRV_BLOCK_RECURSE) and reports them as
 * zero.  We count the clusters the image file spans, not its refcounts. */
static int looks_preallocated(const char *name, uint32_t cs)
{
    struct stat st;
    if (!cs || stat(name, &st) < 0 || !S_ISREG(st.st_mode))
        return 0;
    uint64_t real = (uint64_t)st.st_blocks * 512 / cs;
    uint64_t threshold = real * 10 / 9 > real + 2 ? real * 10 / 9 : real + 2;
    uint64_t count = ((uint64_t)st.st_size + cs - 1) / cs;
    return count >= threshold;
}

static void chain_build(struct chain *c, gk_dev *top, const char *topname)
{
    memset(c, 0, sizeof *c);
    gk_dev *d = top;
    char *name = gk_strdup(topname);
    while (d) {
        if (c->n == CHAIN_MAX)
            gk_die_status(1, "%s: backing chain is longer than %d images", topname, CHAIN_MAX);
        c->dev[c->n] = d;
        c->name[c->n] = name;
        char *next = NULL;
        gk_image_info info;
        if (gk_image_info_get(d, &info) == 0) {
            if (info.data_file)
                c->data_name[c->n] = path_combine(name, info.data_file);
            if (info.backing_file)
                next = path_combine(name, info.backing_file);
            if (strcmp(info.format, "qcow2") == 0) {
                c->csize[c->n] = info.cluster_size;
                c->prealloc[c->n] = looks_preallocated(name, info.cluster_size);
            }
            gk_image_info_free(&info);
        }
        c->hostfd[c->n] = -1;
        c->n++;
        d = gk_image_backing(d);
        if (!d) {
            free(next);
            break;
        }
        name = next ? next : gk_strdup(d->name);
    }
}

static void chain_free(struct chain *c)
{
    for (int i = 0; i < c->n; i++) {
        if (c->hostfd[i] >= 0)
            close(c->hostfd[i]);
        free(c->name[i]);
        free(c->data_name[i]);
    }
}

/* One step of qemu-img's get_block_status(): the status of the run at off
 * (at most len bytes) through the backing chain. */
static int chain_status(struct chain *c, uint64_t off, uint64_t len, map_entry *m)
{
    int lvl = 0;
    gk_extent e;
    unsigned flags;
    int present, beyond = 0;
    for (;;) {
        gk_dev *d = c->dev[lvl];
        if (gk_block_status(d, off, len, &e) < 0)
            return -1;
        if (e.len == 0 || e.len > len) {
            gk_error("%s: block status returned a bad length", d->name);
            return -1;
        }
        len = e.len;
        flags = e.flags;
        if (flags & (GK_BS_DATA | GK_BS_ZERO)) {
            /* the driver may have walked the chain itself */
            lvl += e.depth;
            if (lvl >= c->n)
                lvl = c->n - 1;
            present = (flags & GK_BS_ALLOCATED) || is_raw(c->dev[lvl]);
            /* zeros the driver made up past the end of a backing file */
            beyond = !present && (flags & GK_BS_ZERO) && lvl + 1 < c->n;
            break;
        }
        if (lvl + 1 >= c->n || off >= c->dev[lvl + 1]->size) {
            flags |= GK_BS_ZERO; /* unallocated, nothing (more) below */
            present = 0;
            beyond = lvl + 1 < c->n;
            break;
        }
        lvl++;
    }
    if ((flags & GK_BS_COMPRESSED) && c->csize[lvl]) {
        /* qemu reports compressed clusters one at a time */
        uint64_t cs = c->csize[lvl], lim = cs - off % cs;
        if (len > lim)
            len = lim;
    }
    if (c->prealloc[lvl] && (flags & GK_BS_DATA) && !(flags & (GK_BS_ZERO | GK_BS_COMPRESSED)) &&
        (flags & GK_BS_OFFSET) && e.host_file) {
        /* the host file's holes under data clusters, as qemu's file layer */
        if (c->hostfd[lvl] < 0)
            c->hostfd[lvl] = open(e.host_file, O_RDONLY | O_CLOEXEC);
        struct stat st;
        int fd = c->hostfd[lvl];
        if (fd >= 0 && fstat(fd, &st) == 0) {
            uint64_t fsize = (uint64_t)st.st_size, h = e.host_off;
            if (h >= fsize) {
                flags |= GK_BS_ZERO;
            } else {
                off_t dpos = lseek(fd, (off_t)h, SEEK_DATA);
                if (dpos < 0 && errno == ENXIO)
                    dpos = (off_t)fsize;
                if (dpos >= 0 && (uint64_t)dpos > h) { /* in a hole */
                    flags |= GK_BS_ZERO;
                    if ((uint64_t)dpos < fsize && (uint64_t)dpos - h < len)
                        len = (uint64_t)dpos - h;
                } else if (dpos >= 0) {
                    off_t hpos = lseek(fd, (off_t)h, SEEK_HOLE);
                    if (hpos > 0 && (uint64_t)hpos > h && (uint64_t)hpos - h < len)
                        len = (uint64_t)hpos - h;
                }
            }
        }
    }
    memset(m, 0, sizeof *m);
    m->start = off;
    m->length = len;
    m->depth = lvl;
    m->present = present;
    m->beyond = beyond;
    m->data = !!(flags & GK_BS_DATA);
    m->zero = !!(flags & GK_BS_ZERO);
    if ((flags & GK_BS_OFFSET) && !(flags & GK_BS_COMPRESSED)) {
        m->has_offset = 1;
        m->offset = e.host_off;
        m->filename = c->data_name[lvl] ? c->data_name[lvl] : c->name[lvl];
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* info */

static jv *snapshot_json(const gk_snapshot_info *s)
{
    /* SnapshotInfo's member order (matters only within a hash bucket) */
    jv *o = jv_new(J_OBJ);
    jv_str(o, "id", s->id ? s->id : "");
    jv_str(o, "name", s->name ? s->name : "");
    jv_int(o, "vm-state-size", (long long)s->vm_state_size);
    jv_int(o, "date-sec", s->date_sec);
    jv_int(o, "date-nsec", s->date_nsec);
    jv_int(o, "vm-clock-sec", (long long)(s->vm_clock_nsec / 1000000000ULL));
    jv_int(o, "vm-clock-nsec", (long long)(s->vm_clock_nsec % 1000000000ULL));
    if (s->icount != -1)
        jv_int(o, "icount", s->icount);
    return o;
}

/* ImageInfo of one level, members inserted in qemu's QAPI order. */
static jv *info_json(const gk_image_info *in, const char *filename, const char *full_backing)
{
    jv *o = jv_new(J_OBJ);
    jv_str(o, "filename", filename);
    jv_str(o, "format", in->format);
    jv_bool(o, "dirty-flag", in->dirty);
    jv_int(o, "actual-size", (long long)in->actual_size);
    jv_int(o, "virtual-size", (long long)in->virtual_size);
    if (in->cluster_size)
        jv_int(o, "cluster-size", in->cluster_size);
    if (in->encrypted)
        jv_bool(o, "encrypted", 1);
    if (in->backing_file) {
        jv_str(o, "backing-filename", in->backing_file);
        jv_str(o, "full-backing-filename", full_backing);
        if (in->backing_format)
            jv_str(o, "backing-filename-format", in->backing_format);
    }
    if (in->nb_snapshots > 0) {
        jv *a = jv_add(o, "snapshots", jv_new(J_ARR));
        for (int i = 0; i < in->nb_snapshots; i++)
            jv_add(a, NULL, snapshot_json(&in->snapshots[i]));
    }
    if (strcmp(in->format, "qcow2") == 0) {
        jv *fs = jv_add(o, "format-specific", jv_new(J_OBJ));
        jv_str(fs, "type", "qcow2");
        jv *d = jv_add(fs, "data", jv_new(J_OBJ));
        if (in->version <= 2) {
            jv_str(d, "compat", "0.10");
        } else {
            jv_str(d, "compat", "1.1");
            if (in->data_file) {
                jv_str(d, "data-file", in->data_file);
                jv_bool(d, "data-file-raw", in->data_file_raw);
            }
            jv_bool(d, "extended-l2", in->extended_l2);
            jv_bool(d, "lazy-refcounts", in->lazy_refcounts);
            jv_bool(d, "corrupt", in->corrupt);
        }
        jv_int(d, "refcount-bits", in->refcount_bits);
        if (in->encrypted) {
            jv *e = jv_add(d, "encrypt", jv_new(J_OBJ));
            jv_str(e, "format", "aes"); /* legacy AES or LUKS; detail not exposed */
        }
        jv_str(d, "compression-type", in->compression_type ? in->compression_type : "zlib");
    }
    return o;
}

static void snapshot_header(void)
{
    printf("%-10s%-17s%8s%20s%13s%11s", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK", "ICOUNT");
}

static void snapshot_line(const gk_snapshot_info *s)
{
    char date[128] = "", clk[128], icount[64] = "", size[64];
    time_t t = (time_t)s->date_sec;
    struct tm tm;
    if (localtime_r(&t, &tm))
        strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
    uint64_t secs = s->vm_clock_nsec / 1000000000ULL;
    snprintf(clk, sizeof clk, "%02d:%02d:%02d.%03d", (int)(secs / 3600), (int)((secs / 60) % 60),
             (int)(secs % 60), (int)((s->vm_clock_nsec / 1000000) % 1000));
    gk_human_size_qemu(s->vm_state_size, size, sizeof size);
    if (s->icount != -1)
        snprintf(icount, sizeof icount, "%" PRId64, s->icount);
    printf("%-9s %-16s %8s%20s%13s%11s", s->id ? s->id : "", s->name ? s->name : "", size, date, clk,
           icount);
}

static void info_human(const gk_image_info *in, const char *filename, const char *full_backing, const jv *j)
{
    char vs[64], ds[64];
    gk_human_size_qemu(in->virtual_size, vs, sizeof vs);
    gk_human_size_qemu(in->actual_size, ds, sizeof ds);
    printf("image: %s\nfile format: %s\nvirtual size: %s (%" PRIu64 " bytes)\ndisk size: %s\n", filename,
           in->format, vs, in->virtual_size, ds);
    if (in->encrypted)
        printf("encrypted: yes\n");
    if (in->cluster_size)
        printf("cluster_size: %u\n", in->cluster_size);
    if (in->dirty)
        printf("cleanly shut down: no\n");
    if (in->backing_file) {
        printf("backing file: %s", in->backing_file);
        if (strcmp(in->backing_file, full_backing) != 0)
            printf(" (actual path: %s)", full_backing);
        printf("\n");
        if (in->backing_format)
            printf("backing file format: %s\n", in->backing_format);
    }
    if (in->nb_snapshots > 0) {
        printf("Snapshot list:\n");
        snapshot_header();
        printf("\n");
        for (int i = 0; i < in->nb_snapshots; i++) {
            snapshot_line(&in->snapshots[i]);
            printf("\n");
        }
    }
    for (int i = 0; i < j->n; i++) {
        if (strcmp(j->kid[i]->key, "format-specific") == 0) {
            printf("Format specific information:\n");
            const jv *fs = j->kid[i];
            for (int k = 0; k < fs->n; k++)
                if (strcmp(fs->kid[k]->key, "data") == 0)
                    human_dump(fs->kid[k], 1);
        }
    }
}

static void usage_info(FILE *f)
{
    fprintf(f, "Usage: gimg info [--backing-chain] [--output=human|json] [-f FMT] [-U] [--untrusted] IMAGE\n"
               "Print details of a disk image (as qemu-img info).\n");
}

static int cmd_info(int argc, char **argv)
{
    static const struct option lo[] = {
        {"help", no_argument, 0, 'h'},
        {"format", required_argument, 0, 'f'},
        {"output", required_argument, 0, 'o'},
        {"backing-chain", no_argument, 0, 'b'},
        {"force-share", no_argument, 0, 'U'},
        {"untrusted", no_argument, 0, 'u'},
        {0, 0, 0, 0}};
    const char *fmt = NULL;
    int out = OUT_HUMAN, chain = 0, share = 0, c;
    while ((c = getopt_long(argc, argv, "hf:U", lo, NULL)) != -1) {
        switch (c) {
        case 'h': usage_info(stdout); return 0;
        case 'f': fmt = optarg; break;
        case 'o': out = parse_output(optarg); break;
        case 'b': chain = 1; break;
        case 'U': share = 1; break;
        case 'u': untrusted = 1; break;
        default: usage_info(stderr); return 1;
        }
    }
    if (optind != argc - 1)
        gk_die_status(1, "Expecting one image file name");
    const char *path = argv[optind];
    gk_dev *top = open_image(path, fmt, share, NULL);
    if (!top)
        gk_die_status(1, "%s", gk_errmsg());

    jv *arr = jv_new(J_ARR);
    char *name = gk_strdup(path);
    int first = 1;
    for (gk_dev *d = top; d; d = chain ? gk_image_backing(d) : NULL) {
        gk_image_info in;
        if (gk_image_info_get(d, &in) < 0)
            gk_die_status(1, "%s", gk_errmsg());
        char *full = in.backing_file ? path_combine(name, in.backing_file) : NULL;
        /* qemu 7.2 counts the image file only, not an external data file */
        struct stat st;
        if (stat(name, &st) == 0 && S_ISREG(st.st_mode))
            in.actual_size = (uint64_t)st.st_blocks * 512;
        jv *j = info_json(&in, name, full);
        if (out == OUT_HUMAN) {
            if (!first)
                printf("\n");
            info_human(&in, name, full, j);
        }
        first = 0;
        jv_add(arr, NULL, j);
        gk_image_info_free(&in);
        free(name);
        gk_dev *b = gk_image_backing(d);
        name = full ? full : (b ? gk_strdup(b->name) : NULL);
    }
    free(name);
    if (out == OUT_JSON) {
        json_print(stdout, chain ? arr : arr->kid[0], 0);
        printf("\n");
    }
    jv_free(arr);
    gk_dev_unref(top);
    return 0;
}

/* ------------------------------------------------------------------ */
/* snapshot -l */

static void usage_snapshot(FILE *f)
{
    fprintf(f, "Usage: gimg snapshot -l [-f FMT] [-U] [--untrusted] IMAGE\n"
               "List the internal snapshots of an image (as qemu-img snapshot -l).\n"
               "gimg never writes images: -c, -a and -d are not supported.\n");
}

static int cmd_snapshot(int argc, char **argv)
{
    static const struct option lo[] = {
        {"help", no_argument, 0, 'h'},
        {"format", required_argument, 0, 'f'},
        {"force-share", no_argument, 0, 'U'},
        {"untrusted", no_argument, 0, 'u'},
        {0, 0, 0, 0}};
    const char *fmt = NULL;
    int list = 0, share = 0, c;
    while ((c = getopt_long(argc, argv, "hf:lUqc:a:d:", lo, NULL)) != -1) {
        switch (c) {
        case 'h': usage_snapshot(stdout); return 0;
        case 'f': fmt = optarg; break;
        case 'l': list = 1; break;
        case 'U': share = 1; break;
        case 'q': break;
        case 'u': untrusted = 1; break;
        case 'c': case 'a': case 'd':
            gk_die_status(1, "snapshot -%c: gimg is read-only; only -l (list) is supported", c);
        default: usage_snapshot(stderr); return 1;
        }
    }
    if (!list)
        gk_die_status(1, "snapshot: -l is required (gimg only lists snapshots)");
    if (optind != argc - 1)
        gk_die_status(1, "Expecting one image file name");
    gk_dev *d = open_image(argv[optind], fmt, share, NULL);
    if (!d)
        gk_die_status(1, "%s", gk_errmsg());
    gk_image_info in;
    if (gk_image_info_get(d, &in) < 0)
        gk_die_status(1, "%s", gk_errmsg());
    if (in.nb_snapshots > 0) {
        printf("Snapshot list:\n");
        snapshot_header();
        printf("\n");
        for (int i = 0; i < in.nb_snapshots; i++) {
            snapshot_line(&in.snapshots[i]);
            printf("\n");
        }
    }
    gk_image_info_free(&in);
    gk_dev_unref(d);
    return 0;
}

/* ------------------------------------------------------------------ */
/* map */

static void usage_map(FILE *f)
{
    fprintf(f, "Usage: gimg map [--output=human|json] [-f FMT] [--start-offset=OFF] [--max-length=LEN]\n"
               "                [-U] [--untrusted] IMAGE\n"
               "Print the allocation map of an image (as qemu-img map).\n");
}

static uint64_t parse_size(const char *s, const char *what)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        gk_die_status(1, "Invalid %s specified: %s", what, s);
    uint64_t mul = 1;
    switch (*end) {
    case 0: break;
    case 'b': case 'B': end++; break;
    case 'k': case 'K': mul = 1ULL << 10; end++; break;
    case 'M': mul = 1ULL << 20; end++; break;
    case 'G': mul = 1ULL << 30; end++; break;
    case 'T': mul = 1ULL << 40; end++; break;
    case 'P': mul = 1ULL << 50; end++; break;
    case 'E': mul = 1ULL << 60; end++; break;
    }
    if (*end || v * (double)mul >= 18446744073709551616.0)
        gk_die_status(1, "Invalid %s specified: %s", what, s);
    return (uint64_t)(v * (double)mul);
}

static int map_mergeable(const map_entry *a, const map_entry *b)
{
    if (a->length == 0)
        return 0;
    if (a->zero != b->zero || a->data != b->data || a->depth != b->depth || a->present != b->present ||
        !a->filename != !b->filename || a->has_offset != b->has_offset)
        return 0;
    if (a->filename && strcmp(a->filename, b->filename) != 0)
        return 0;
    if (a->has_offset && a->offset + a->length != b->offset)
        return 0;
    return 1;
}

static void map_dump(int out, const map_entry *e, int more)
{
    if (out == OUT_HUMAN) {
        if (e->data && !e->has_offset)
            gk_die_status(1, "File contains external, encrypted or compressed clusters.");
        if (e->data && !e->zero) {
            char a[32], b[32], c[32];
            /* printf's %#x prints 0 without a prefix, as qemu does */
            snprintf(a, sizeof a, "%#" PRIx64, e->start);
            snprintf(b, sizeof b, "%#" PRIx64, e->length);
            snprintf(c, sizeof c, "%#" PRIx64, e->has_offset ? e->offset : 0);
            printf("%-16s%-16s%-16s%s\n", a, b, c, e->filename ? e->filename : "");
        }
        return;
    }
    printf("{ \"start\": %" PRIu64 ", \"length\": %" PRIu64 ", \"depth\": %d, \"present\": %s, \"zero\": %s, "
           "\"data\": %s",
           e->start, e->length, e->depth, e->present ? "true" : "false", e->zero ? "true" : "false",
           e->data ? "true" : "false");
    if (e->has_offset)
        printf(", \"offset\": %" PRIu64, e->offset);
    putchar('}');
    if (more)
        puts(",");
}

static int cmd_map(int argc, char **argv)
{
    enum { O_START = 256, O_MAXLEN };
    static const struct option lo[] = {
        {"help", no_argument, 0, 'h'},
        {"format", required_argument, 0, 'f'},
        {"output", required_argument, 0, 'o'},
        {"start-offset", required_argument, 0, 's'},
        {"max-length", required_argument, 0, 'l'},
        {"force-share", no_argument, 0, 'U'},
        {"untrusted", no_argument, 0, 'u'},
        {0, 0, 0, 0}};
    const char *fmt = NULL;
    int out = OUT_HUMAN, share = 0, c;
    uint64_t start = 0, maxlen = UINT64_MAX;
    while ((c = getopt_long(argc, argv, "hf:Us:l:", lo, NULL)) != -1) {
        switch (c) {
        case 'h': usage_map(stdout); return 0;
        case 'f': fmt = optarg; break;
        case 'o': out = parse_output(optarg); break;
        case 's': start = parse_size(optarg, "start offset"); break;
        case 'l': maxlen = parse_size(optarg, "max length"); break;
        case 'U': share = 1; break;
        case 'u': untrusted = 1; break;
        default: usage_map(stderr); return 1;
        }
    }
    if (optind != argc - 1)
        gk_die_status(1, "Expecting one image file name");
    const char *path = argv[optind];
    gk_dev *top = open_image(path, fmt, share, NULL);
    if (!top)
        gk_die_status(1, "%s", gk_errmsg());
    struct chain ch;
    chain_build(&ch, top, path);

    uint64_t length = top->size;
    if (maxlen != UINT64_MAX && start <= length && maxlen < length - start)
        length = start + maxlen;
    if (out == OUT_HUMAN)
        printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
    else
        putchar('[');
    map_entry curr = {.start = start}, next;
    while (curr.start + curr.length < length) {
        uint64_t off = curr.start + curr.length;
        uint64_t n = length - off;
        if (n > GiB)
            n = GiB;
        if (chain_status(&ch, off, n, &next) < 0)
            gk_die_status(1, "Could not read file metadata: %s", gk_errmsg());
        if (map_mergeable(&curr, &next)) {
            curr.length += next.length;
            continue;
        }
        if (curr.length > 0)
            map_dump(out, &curr, 1);
        curr = next;
    }
    if (curr.length > 0)
        map_dump(out, &curr, 0);
    if (out == OUT_JSON)
        printf("]\n");
    chain_free(&ch);
    gk_dev_unref(top);
    return 0;
}

/* ------------------------------------------------------------------ */
/* check */

static void usage_check(FILE *f)
{
    fprintf(f, "Usage: gimg check [--output=human|json] [-f FMT] [-U] [-q] [--untrusted] IMAGE\n"
               "Check a qcow2 image for leaked and corrupt clusters, read-only (as qemu-img check\n"
               "without -r).  Exit status: 0 clean, 2 corruptions, 3 leaks only, 63 the format\n"
               "has no checks (raw), 1 the check could not run.\n");
}

static int cmd_check(int argc, char **argv)
{
    static const struct option lo[] = {
        {"help", no_argument, 0, 'h'},
        {"format", required_argument, 0, 'f'},
        {"output", required_argument, 0, 'o'},
        {"force-share", no_argument, 0, 'U'},
        {"untrusted", no_argument, 0, 'u'},
        {"repair", required_argument, 0, 'r'},
        {0, 0, 0, 0}};
    const char *fmt = NULL;
    int out = OUT_HUMAN, share = 0, quiet = 0, c;
    while ((c = getopt_long(argc, argv, "hf:Uqr:", lo, NULL)) != -1) {
        switch (c) {
        case 'h': usage_check(stdout); return 0;
        case 'f': fmt = optarg; break;
        case 'o': out = parse_output(optarg); break;
        case 'U': share = 1; break;
        case 'q': quiet = 1; break;
        case 'u': untrusted = 1; break;
        case 'r': gk_die_status(1, "check -r: gimg is read-only and does not repair images");
        default: usage_check(stderr); return 1;
        }
    }
    if (optind != argc - 1)
        gk_die_status(1, "Expecting one image file name");
    const char *path = argv[optind];
    gk_dev *d = open_image(path, fmt, share, NULL);
    if (!d)
        gk_die_status(1, "%s", gk_errmsg());
    if (is_raw(d))
        gk_die_status(63, "This image format does not support checks");
    gk_check_result r;
    memset(&r, 0, sizeof r);
    if (gk_image_check(d, &r) < 0)
        gk_die_status(1, "Check failed: %s", gk_errmsg());
    fflush(stdout);
    for (int i = 0; i < r.nmessages; i++)
        fprintf(stderr, "%s\n", r.messages[i]);

    if (out == OUT_JSON) {
        /* ImageCheck: optional members only when non-zero, as qemu-img */
        jv *o = jv_new(J_OBJ);
        jv_str(o, "filename", path);
        jv_str(o, "format", d->ops->name);
        jv_int(o, "check-errors", (long long)r.check_errors);
        if (r.image_end_offset)
            jv_int(o, "image-end-offset", (long long)r.image_end_offset);
        if (r.corruptions)
            jv_int(o, "corruptions", (long long)r.corruptions);
        if (r.leaks)
            jv_int(o, "leaks", (long long)r.leaks);
        if (r.total_clusters)
            jv_int(o, "total-clusters", (long long)r.total_clusters);
        if (r.allocated_clusters)
            jv_int(o, "allocated-clusters", (long long)r.allocated_clusters);
        if (r.fragmented_clusters)
            jv_int(o, "fragmented-clusters", (long long)r.fragmented_clusters);
        if (r.compressed_clusters)
            jv_int(o, "compressed-clusters", (long long)r.compressed_clusters);
        if (!quiet) {
            json_print(stdout, o, 0);
            printf("\n");
        }
        jv_free(o);
    } else if (!quiet) {
        if (!(r.corruptions || r.leaks || r.check_errors)) {
            printf("No errors were found on the image.\n");
        } else {
            if (r.corruptions)
                printf("\n%" PRIu64 " errors were found on the image.\n"
                       "Data may be corrupted, or further writes to the image may corrupt it.\n",
                       r.corruptions);
            if (r.leaks)
                printf("\n%" PRIu64 " leaked clusters were found on the image.\n"
                       "This means waste of disk space, but no harm to data.\n",
                       r.leaks);
            if (r.check_errors)
                printf("\n%" PRIu64 " internal errors have occurred during the check.\n", r.check_errors);
        }
        if (r.total_clusters && r.allocated_clusters)
            printf("%" PRIu64 "/%" PRIu64 " = %0.2f%% allocated, %0.2f%% fragmented, %0.2f%% compressed clusters\n",
                   r.allocated_clusters, r.total_clusters, r.allocated_clusters * 100.0 / r.total_clusters,
                   r.fragmented_clusters * 100.0 / r.allocated_clusters,
                   r.compressed_clusters * 100.0 / r.allocated_clusters);
        if (r.image_end_offset)
            printf("Image end offset: %" PRIu64 "\n", r.image_end_offset);
    }
    int rc = r.corruptions ? 2 : r.leaks ? 3 : 0;
    int errs = r.check_errors != 0;
    gk_check_result_free(&r);
    gk_dev_unref(d);
    if (errs)
        gk_die_status(1, "Check failed");
    return rc;
}

/* ------------------------------------------------------------------ */
/* Progress bar, as qemu-img -p: "    (12.34/100%)\r" */

struct progress {
    int on;
    double last;
};

static void progress_print(struct progress *p, double pct, int force)
{
    if (!p->on)
        return;
    if (pct > 100)
        pct = 100;
    if (!force && pct < p->last + 1.0)
        return;
    p->last = pct;
    printf("    (%3.2f/100%%)\r", pct);
    fflush(stdout);
}

static void progress_end(struct progress *p)
{
    if (!p->on)
        return;
    progress_print(p, 100.0, 1);
    printf("\n");
    fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* compare */

static int all_zero(const void *buf, size_t n)
{
    const unsigned char *p = buf;
    while (n && ((uintptr_t)p & 7)) {
        if (*p)
            return 0;
        p++, n--;
    }
    const uint64_t *q = (const uint64_t *)(const void *)p;
    for (; n >= 64; n -= 64, q += 8)
        if (q[0] | q[1] | q[2] | q[3] | q[4] | q[5] | q[6] | q[7])
            return 0;
    p = (const unsigned char *)q;
    while (n--)
        if (*p++)
            return 0;
    return 1;
}

/* Offset (within buf) of the first 512-byte sector holding a non-zero
 * byte, or -1: qemu-img's find_nonzero(). */
static int64_t find_nonzero(const unsigned char *buf, uint64_t n)
{
    for (uint64_t i = 0; i < n; i += 512) {
        uint64_t k = n - i < 512 ? n - i : 512;
        if (!all_zero(buf + i, k))
            return (int64_t)i;
    }
    return -1;
}

static void usage_compare(FILE *f)
{
    fprintf(f, "Usage: gimg compare [-f FMT] [-F FMT] [-s] [-p] [-q] [-U] [--untrusted] IMAGE1 IMAGE2\n"
               "Compare the guest-visible contents of two images (as qemu-img compare).\n"
               "Exit status: 0 identical, 1 different, 2 error.\n");
}

#define CMP_CHUNK (2ULL << 20)

static int cmd_compare(int argc, char **argv)
{
    static const struct option lo[] = {
        {"help", no_argument, 0, 'h'},
        {"force-share", no_argument, 0, 'U'},
        {"untrusted", no_argument, 0, 'u'},
        {0, 0, 0, 0}};
    const char *fmt1 = NULL, *fmt2 = NULL;
    int strict = 0, share = 0, quiet = 0, c;
    struct progress pr = {0};
    while ((c = getopt_long(argc, argv, "hf:F:spqU", lo, NULL)) != -1) {
        switch (c) {
        case 'h': usage_compare(stdout); return 0;
        case 'f': fmt1 = optarg; break;
        case 'F': fmt2 = optarg; break;
        case 's': strict = 1; break;
        case 'p': pr.on = 1; break;
        case 'q': quiet = 1; break;
        case 'U': share = 1; break;
        case 'u': untrusted = 1; break;
        default: usage_compare(stderr); return 2;
        }
    }
    if (quiet)
        pr.on = 0;
    if (optind != argc - 2)
        gk_die_status(2, "Expecting two image file names");
    const char *p1 = argv[optind], *p2 = argv[optind + 1];
    if (!fmt2)
        fmt2 = fmt1;
    gk_dev *d1 = open_image(p1, fmt1, share, NULL);
    if (!d1)
        gk_die_status(2, "%s", gk_errmsg());
    gk_dev *d2 = open_image(p2, fmt2, share, NULL);
    if (!d2)
        gk_die_status(2, "%s", gk_errmsg());
    struct chain c1, c2;
    chain_build(&c1, d1, p1);
    chain_build(&c2, d2, p2);
    uint64_t s1 = d1->size, s2 = d2->size, common = s1 < s2 ? s1 : s2;
    uint64_t total = s1 > s2 ? s1 : s2;
    unsigned char *b1 = gk_malloc(CMP_CHUNK), *b2 = gk_malloc(CMP_CHUNK);
    int rc = 0;

    if (strict && s1 != s2) {
        if (!quiet)
            printf("Strict mode: Image size mismatch!\n");
        rc = 1;
        goto out;
    }
    progress_print(&pr, 0, 1);
    for (uint64_t off = 0; off < common;) {
        map_entry m1, m2;
        if (chain_status(&c1, off, s1 - off, &m1) < 0 || chain_status(&c2, off, s2 - off, &m2) < 0)
            gk_die_status(2, "error while reading block status: %s", gk_errmsg());
        uint64_t n = m1.length < m2.length ? m1.length : m2.length;
        if (strict) {
            /* qemu compares bdrv_block_status_above() flags: data, zero,
             * offset-valid, allocated (zeros past a short backing file
             * count as allocated there) and end-of-file */
            int a1 = m1.present || m1.beyond, a2 = m2.present || m2.beyond;
            /* end-of-file: of the top image once allocated somewhere, else
             * of the bottom image that answered (qemu lets its flag through) */
            int e1 = off + m1.length == (a1 ? s1 : c1.dev[m1.depth]->size);
            int e2 = off + m2.length == (a2 ? s2 : c2.dev[m2.depth]->size);
            if (m1.data != m2.data || m1.zero != m2.zero || m1.has_offset != m2.has_offset || a1 != a2 ||
                e1 != e2) {
                if (!quiet)
                    printf("Strict mode: Offset %" PRIu64 " block status mismatch!\n", off);
                rc = 1;
                goto out;
            }
        }
        int z1 = m1.zero, z2 = m2.zero;
        if (n > CMP_CHUNK)
            n = CMP_CHUNK;
        if (n > common - off)
            n = common - off;
        if (!(z1 && z2)) {
            z1 = z1 && !m1.data;
            z2 = z2 && !m2.data;
            if (z1)
                memset(b1, 0, n);
            else if (gk_pread(d1, b1, n, off) < 0)
                gk_die_status(2, "error while reading offset %" PRIu64 " of %s: %s", off, p1, gk_errmsg());
            if (z2)
                memset(b2, 0, n);
            else if (gk_pread(d2, b2, n, off) < 0)
                gk_die_status(2, "error while reading offset %" PRIu64 " of %s: %s", off, p2, gk_errmsg());
            for (uint64_t i = 0; i < n; i += 512) {
                uint64_t k = n - i < 512 ? n - i : 512;
                if (memcmp(b1 + i, b2 + i, k) != 0) {
                    if (!quiet)
                        printf("Content mismatch at offset %" PRIu64 "!\n", off + i);
                    rc = 1;
                    goto out;
                }
            }
        }
        off += n;
        progress_print(&pr, (double)off * 100.0 / (double)total, 0);
    }
    if (s1 != s2) {
        gk_dev *big = s1 > s2 ? d1 : d2;
        struct chain *cb = s1 > s2 ? &c1 : &c2;
        const char *pb = s1 > s2 ? p1 : p2;
        if (!quiet)
            printf("Warning: Image size mismatch!\n");
        for (uint64_t off = common; off < total;) {
            map_entry m;
            uint64_t n = total - off < CMP_CHUNK ? total - off : CMP_CHUNK;
            if (chain_status(cb, off, n, &m) < 0)
                gk_die_status(2, "error while reading block status: %s", gk_errmsg());
            n = m.length;
            if (m.present && !(m.zero && !m.data)) {
                if (gk_pread(big, b1, n, off) < 0)
                    gk_die_status(2, "error while reading offset %" PRIu64 " of %s: %s", off, pb, gk_errmsg());
                int64_t i = find_nonzero(b1, n);
                if (i >= 0) {
                    if (!quiet)
                        printf("Content mismatch at offset %" PRIu64 "!\n", off + (uint64_t)i);
                    rc = 1;
                    goto out;
                }
            }
            off += n;
            progress_print(&pr, (double)off * 100.0 / (double)total, 0);
        }
    }
    progress_end(&pr);
    if (!quiet)
        printf("Images are identical.\n");
out:
    free(b1);
    free(b2);
    chain_free(&c1);
    chain_free(&c2);
    gk_dev_unref(d1);
    gk_dev_unref(d2);
    return rc;
}

/* ------------------------------------------------------------------ */
/* convert -O raw
 *
 * The source is read in windows of CONV_WIN bytes; block status tells
 * which runs read as zeros, those are skipped, the rest is read with one
 * large request per window.  N reader threads (-m N, default 4) each read
 * through their own open of the image (the driver keeps no shared state)
 * and hand filled buffers to the main thread, which writes them leaving out
 * all-zero 4 KiB blocks (qemu-img's default -S 4k), so the output is as
 * sparse as qemu-img's.  Writes to one file are serialised by the kernel
 * anyway; with a single writer a slow write never holds up the readers
 * while free buffers remain. */

#define CONV_WIN (2ULL << 20)
#define CONV_BLK 4096ULL
/* Default readers: decompression and page-cache copies are CPU work that
 * qemu-img spreads over its thread pool. */
#define CONV_THREADS 4

struct cbuf {
    unsigned char *p;
    uint64_t off, end;     /* the window                                 */
    uint64_t ds, de;       /* the part read into p; ds == de: all zeros  */
};

struct conv {
    gk_dev *dev[16];
    int nthreads;
    int fd;
    int sparse;            /* skip zeros (regular output file, -S not 0) */
    uint64_t size;
    pthread_mutex_t mu;
    pthread_cond_t freed, filled;
    struct cbuf *bufs;
    int nbufs;
    int *freelist, nfree;  /* buffers the readers may fill               */
    int *queue, qhead, qlen; /* filled buffers, for the writer           */
    int readers;           /* readers still running                      */
    uint64_t next_win;
    int failed;
    char err[4096];
};

static void conv_fail(struct conv *cv, const char *msg)
{
    pthread_mutex_lock(&cv->mu);
    if (!cv->failed) {
        cv->failed = 1;
        snprintf(cv->err, sizeof cv->err, "%s", msg);
    }
    pthread_cond_broadcast(&cv->freed);
    pthread_cond_broadcast(&cv->filled);
    pthread_mutex_unlock(&cv->mu);
}

static int write_all(int fd, const unsigned char *p, uint64_t n, uint64_t off)
{
    while (n) {
        ssize_t k = pwrite(fd, p, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += k;
        n -= (uint64_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

/* Write buf (guest range [start, end)) leaving out 4 KiB-aligned blocks
 * that are all zero. */
static int write_sparse(struct conv *cv, const unsigned char *buf, uint64_t start, uint64_t end)
{
    uint64_t run = UINT64_MAX; /* start of the pending non-zero run */
    uint64_t p = start;
    while (p < end) {
        uint64_t bend = (p / CONV_BLK + 1) * CONV_BLK;
        if (bend > end)
            bend = end;
        int zero = cv->sparse && all_zero(buf + (p - start), bend - p);
        if (!zero && run == UINT64_MAX)
            run = p;
        if (zero && run != UINT64_MAX) {
            if (write_all(cv->fd, buf + (run - start), p - run, run) < 0)
                return -1;
            run = UINT64_MAX;
        }
        p = bend;
    }
    if (run != UINT64_MAX && write_all(cv->fd, buf + (run - start), end - run, run) < 0)
        return -1;
    return 0;
}

/* Fill b with window [b->off, b->end) of d; 0 or -1 with gk_error. */
static int conv_read(struct conv *cv, gk_dev *d, gk_dev *backing, struct cbuf *b)
{
    uint64_t ds = UINT64_MAX, de = 0;
    if (!cv->sparse) {
        ds = b->off;
        de = b->end;
    } else {
        for (uint64_t p = b->off; p < b->end;) {
            gk_extent e;
            if (gk_block_status(d, p, b->end - p, &e) < 0)
                return -1;
            if (e.len == 0 || e.len > b->end - p) {
                gk_error("%s: block status at %" PRIu64 " returned a bad length", d->name, p);
                return -1;
            }
            int zero = (e.flags & GK_BS_ZERO) && !(e.flags & GK_BS_DATA);
            if (!(e.flags & (GK_BS_DATA | GK_BS_ZERO)) && !backing)
                zero = 1;
            if (!zero) {
                if (ds == UINT64_MAX)
                    ds = p;
                de = p + e.len;
            }
            p += e.len;
        }
    }
    if (ds == UINT64_MAX)
        ds = de = b->off;
    b->ds = ds;
    b->de = de;
    return ds < de ? gk_pread(d, b->p, de - ds, ds) : 0;
}

static void *conv_reader(void *arg)
{
    struct conv *cv = ((void **)arg)[0];
    gk_dev *d = ((void **)arg)[1];
    gk_dev *backing = gk_image_backing(d);
    pthread_mutex_lock(&cv->mu);
    for (;;) {
        while (!cv->failed && cv->nfree == 0)
            pthread_cond_wait(&cv->freed, &cv->mu);
        uint64_t off = cv->next_win * CONV_WIN;
        if (cv->failed || off >= cv->size)
            break;
        cv->next_win++;
        struct cbuf *b = &cv->bufs[cv->freelist[--cv->nfree]];
        pthread_mutex_unlock(&cv->mu);

        b->off = off;
        b->end = cv->size - off < CONV_WIN ? cv->size : off + CONV_WIN;
        int rc = conv_read(cv, d, backing, b);
        if (rc < 0)
            conv_fail(cv, gk_errmsg());

        pthread_mutex_lock(&cv->mu);
        if (rc < 0)
            break;
        cv->queue[(cv->qhead + cv->qlen++) % cv->nbufs] = (int)(b - cv->bufs);
        pthread_cond_signal(&cv->filled);
    }
    cv->readers--;
    pthread_cond_signal(&cv->filled);
    pthread_mutex_unlock(&cv->mu);
    return NULL;
}

/* The writer: the main thread. */
static void conv_run(struct conv *cv, struct progress *pr)
{
    cv->nbufs = 2 * cv->nthreads;
    cv->bufs = gk_calloc((size_t)cv->nbufs, sizeof *cv->bufs);
    cv->freelist = gk_calloc((size_t)cv->nbufs, sizeof *cv->freelist);
    cv->queue = gk_calloc((size_t)cv->nbufs, sizeof *cv->queue);
    for (int i = 0; i < cv->nbufs; i++) {
        if (posix_memalign((void **)&cv->bufs[i].p, 4096, CONV_WIN) != 0)
            gk_die_status(1, "out of memory");
        cv->freelist[cv->nfree++] = i;
    }
    pthread_mutex_init(&cv->mu, NULL);
    pthread_cond_init(&cv->freed, NULL);
    pthread_cond_init(&cv->filled, NULL);
    pthread_t th[16];
    void *args[16][2];
    cv->readers = cv->nthreads;
    for (int i = 0; i < cv->nthreads; i++) {
        args[i][0] = cv;
        args[i][1] = cv->dev[i];
        if (pthread_create(&th[i], NULL, conv_reader, args[i]) != 0)
            gk_die_status(1, "cannot start a thread: %s", strerror(errno));
    }
    uint64_t done = 0;
    pthread_mutex_lock(&cv->mu);
    for (;;) {
        while (!cv->failed && cv->qlen == 0 && cv->readers > 0)
            pthread_cond_wait(&cv->filled, &cv->mu);
        if (cv->failed || cv->qlen == 0)
            break;
        int i = cv->queue[cv->qhead];
        cv->qhead = (cv->qhead + 1) % cv->nbufs;
        cv->qlen--;
        pthread_mutex_unlock(&cv->mu);

        struct cbuf *b = &cv->bufs[i];
        if (b->ds < b->de && write_sparse(cv, b->p, b->ds, b->de) < 0) {
            char m[512];
            snprintf(m, sizeof m, "error while writing at byte %" PRIu64 ": %s", b->ds, strerror(errno));
            conv_fail(cv, m);
        }
        done += b->end - b->off;
        progress_print(pr, (double)done * 100.0 / (double)cv->size, 0);

        pthread_mutex_lock(&cv->mu);
        cv->freelist[cv->nfree++] = i;
        pthread_cond_signal(&cv->freed);
    }
    pthread_mutex_unlock(&cv->mu);
    for (int i = 0; i < cv->nthreads; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < cv->nbufs; i++)
        free(cv->bufs[i].p);
    free(cv->bufs);
    free(cv->freelist);
    free(cv->queue);
    pthread_cond_destroy(&cv->freed);
    pthread_cond_destroy(&cv->filled);
    pthread_mutex_destroy(&cv->mu);
}

static void usage_convert(FILE *f)
{
    fprintf(f, "Usage: gimg convert [-f FMT] -O raw [-s SNAPSHOT | -l SNAPSHOT_PARAM] [-S SIZE] [-m N]\n"
               "                    [-p] [-q] [-U] [--untrusted] SRC DST\n"
               "Copy the guest-visible contents of SRC into a sparse raw image DST\n"
               "(as qemu-img convert -O raw).  SNAPSHOT_PARAM is NAME or\n"
               "snapshot.id=ID[,snapshot.name=NAME].  -S 0 writes every byte; -m N reads\n"
               "with N threads (default 4, at most 16).\n");
}

/* -l snapshot.id=..,snapshot.name=.. (or a plain name). */
static void parse_snapshot_param(const char *arg, char **plain, char **id, char **name)
{
    if (strncmp(arg, "snapshot.", 9) != 0) {
        *plain = gk_strdup(arg); /* an id or a name, like -s */
        return;
    }
    char *s = gk_strdup(arg), *save = NULL;
    for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (strncmp(tok, "snapshot.id=", 12) == 0)
            *id = gk_strdup(tok + 12);
        else if (strncmp(tok, "snapshot.name=", 14) == 0)
            *name = gk_strdup(tok + 14);
        else
            gk_die_status(1, "Invalid parameter '%s'", tok);
    }
    free(s);
}

/* Resolve -l id/name to the id to open, checking both match when both are
 * given (qemu's bdrv_snapshot_load_tmp). */
static char *snapshot_lookup(const char *path, const char *fmt, int share, const char *id, const char *name)
{
    gk_dev *d = open_image(path, fmt, share, NULL);
    if (!d)
        gk_die_status(1, "%s", gk_errmsg());
    gk_image_info in;
    if (gk_image_info_get(d, &in) < 0)
        gk_die_status(1, "%s", gk_errmsg());
    char *found = NULL;
    for (int i = 0; i < in.nb_snapshots && !found; i++) {
        const gk_snapshot_info *s = &in.snapshots[i];
        if (id && (!s->id || strcmp(s->id, id) != 0))
            continue;
        if (name && (!s->name || strcmp(s->name, name) != 0))
            continue;
        found = gk_strdup(id ? s->id : s->name);
    }
    gk_image_info_free(&in);
    gk_dev_unref(d);
    if (!found)
        gk_die_status(1, "Failed to load snapshot: Can't find snapshot");
    return found;
}

static int cmd_convert(int argc, char **argv)
{
    static const struct option lo[] = {
        {"help", no_argument, 0, 'h'},
        {"force-share", no_argument, 0, 'U'},
        {"untrusted", no_argument, 0, 'u'},
        {0, 0, 0, 0}};
    const char *fmt = NULL, *ofmt = "raw", *snap = NULL;
    char *snap_id = NULL, *snap_name = NULL, *snap_plain = NULL;
    int share = 0, quiet = 0, nthreads = CONV_THREADS, c;
    uint64_t min_sparse = 4096;
    struct progress pr = {0};
    while ((c = getopt_long(argc, argv, "hf:O:s:l:S:m:pqUWt:T:", lo, NULL)) != -1) {
        switch (c) {
        case 'h': usage_convert(stdout); return 0;
        case 'f': fmt = optarg; break;
        case 'O': ofmt = optarg; break;
        case 's': snap = optarg; break;
        case 'l': parse_snapshot_param(optarg, &snap_plain, &snap_id, &snap_name); break;
        case 'S': min_sparse = parse_size(optarg, "buffer size for sparse output"); break;
        case 'm':
            nthreads = atoi(optarg);
            if (nthreads < 1 || nthreads > 16)
                gk_die_status(1, "Invalid number of coroutines. Allowed number of coroutines is between 1 and 16");
            break;
        case 'p': pr.on = 1; break;
        case 'q': quiet = 1; break;
        case 'U': share = 1; break;
        case 'W': case 't': case 'T': break; /* qemu tuning options: no effect here */
        case 'u': untrusted = 1; break;
        default: usage_convert(stderr); return 1;
        }
    }
    if (quiet)
        pr.on = 0;
    if (strcmp(ofmt, "raw") != 0)
        gk_die_status(1, "convert: output format '%s' is not supported (gimg writes raw only)", ofmt);
    if (optind != argc - 2)
        gk_die_status(1, "Expecting one source and one target file name");
    const char *src = argv[optind], *dst = argv[optind + 1];
    char *snapname = NULL;
    if (snap_plain)
        snap = snap_plain;
    if (snap && (snap_id || snap_name))
        gk_die_status(1, "-s and -l cannot be used together");
    if (snap)
        snapname = gk_strdup(snap);
    else if (snap_id || snap_name)
        snapname = snapshot_lookup(src, fmt, share, snap_id, snap_name);

    struct conv cv;
    memset(&cv, 0, sizeof cv);
    cv.nthreads = nthreads;
    for (int i = 0; i < nthreads; i++) {
        cv.dev[i] = open_image(src, fmt, share, snapname);
        if (!cv.dev[i])
            gk_die_status(1, "%s", gk_errmsg());
    }
    cv.size = cv.dev[0]->size;
    /* qemu-img convert -l keeps the image's current virtual size: a
     * snapshot taken before a resize reads as zeros past its end */
    uint64_t outsize = cv.size;
    if (snapname) {
        gk_dev *cur = open_image(src, fmt, share, NULL);
        if (!cur)
            gk_die_status(1, "%s", gk_errmsg());
        outsize = cur->size;
        if (cv.size > outsize)
            cv.size = outsize;
        gk_dev_unref(cur);
    }
    /* O_TRUNC on a file of the chain would destroy what we are reading */
    struct stat dst_st, img_st;
    if (stat(dst, &dst_st) == 0 && S_ISREG(dst_st.st_mode)) {
        for (gk_dev *d = cv.dev[0]; d; d = gk_image_backing(d))
            if (stat(d->name, &img_st) == 0 && img_st.st_dev == dst_st.st_dev && img_st.st_ino == dst_st.st_ino)
                gk_die_status(1, "%s: the target is %s, which is being read", dst, d->name);
    }
    cv.fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (cv.fd < 0)
        gk_die_status(1, "%s: %s", dst, strerror(errno));
    struct stat st;
    if (fstat(cv.fd, &st) < 0)
        gk_die_status(1, "%s: %s", dst, strerror(errno));
    cv.sparse = S_ISREG(st.st_mode) && min_sparse != 0;
    if (S_ISREG(st.st_mode) && ftruncate(cv.fd, (off_t)outsize) < 0)
        gk_die_status(1, "%s: %s", dst, strerror(errno));
    progress_print(&pr, 0, 1);
    conv_run(&cv, &pr);
    if (cv.failed)
        gk_die_status(1, "%s", cv.err);
    if (close(cv.fd) < 0)
        gk_die_status(1, "%s: %s", dst, strerror(errno));
    progress_end(&pr);
    for (int i = 0; i < nthreads; i++)
        gk_dev_unref(cv.dev[i]);
    free(snapname);
    free(snap_id);
    free(snap_name);
    free(snap_plain);
    return 0;
}

/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f, "Usage: gimg [--untrusted] COMMAND [OPTIONS] ...\n"
               "Inspect and read disk images (raw, qcow2) like qemu-img, without writing them.\n"
               "\n"
               "Commands:\n"
               "  info [--backing-chain] [--output=human|json] [-f FMT] [-U] IMAGE\n"
               "  map [--output=human|json] [-f FMT] [-U] IMAGE\n"
               "  check [--output=human|json] [-f FMT] [-U] IMAGE\n"
               "  snapshot -l [-f FMT] [-U] IMAGE\n"
               "  compare [-f FMT] [-F FMT] [-s] [-p] [-q] [-U] IMAGE1 IMAGE2\n"
               "  convert [-f FMT] -O raw [-s SNAPSHOT | -l SNAPSHOT_PARAM] [-p] [-m N] [-U] SRC DST\n"
               "\n"
               "Options for every command:\n"
               "  --untrusted   refuse backing files outside the image's directory and never probe\n"
               "                backing formats (also GUESTKIT_UNTRUSTED=1)\n"
               "  -U, --force-share  open images that qemu is using\n"
               "\n"
               "gimg COMMAND --help describes one command; see gimg(1).\n");
}

int main(int argc, char **argv)
{
    gk_progname = "gimg";
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            printf("gimg (guestkit) %s\n", GK_VERSION);
            return 0;
        } else if (strcmp(a, "--untrusted") == 0) {
            untrusted = 1;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            gk_verbose = 1;
        } else {
            usage(stderr);
            gk_die_status(1, "unknown option: %s", a);
        }
    }
    if (i >= argc) {
        usage(stderr);
        gk_die_status(1, "no command given");
    }
    const char *cmd = argv[i];
    /* getopt sees the command as argv[0] */
    argc -= i;
    argv += i;
    optind = 1;
    if (strcmp(cmd, "info") == 0)
        return cmd_info(argc, argv);
    if (strcmp(cmd, "map") == 0)
        return cmd_map(argc, argv);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc, argv);
    if (strcmp(cmd, "snapshot") == 0)
        return cmd_snapshot(argc, argv);
    if (strcmp(cmd, "compare") == 0)
        return cmd_compare(argc, argv);
    if (strcmp(cmd, "convert") == 0)
        return cmd_convert(argc, argv);
    if (strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    gk_die_status(1, "Command not found: %s", cmd);
}
