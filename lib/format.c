/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The image formats: the list, probing, and opening an image or a backing
 * file through its protocol.  Nothing else in guestkit switches on a format
 * name; a new format is one file defining a struct gk_format and one line
 * in gk_formats[].
 *
 * Formats we recognise but do not read yet are listed with a probe and no
 * open: an image in one of them is refused by name instead of being read as
 * raw (issue 12 gives them an open; vmdk, vpc, vdi and vhdx have one: lib/vmdk.c, vhd.c, vdi.c, vhdx.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk-int.h"

/* ---- formats recognised by their magic only ---- */

static int magic_at(const uint8_t *buf, size_t len, size_t off, const char *magic, size_t n)
{
    return len >= off + n && memcmp(buf + off, magic, n) == 0 ? 100 : 0;
}

static int qed_probe(const uint8_t *b, size_t len, const char *name)
{
    (void)name;
    return magic_at(b, len, 0, "QED\0", 4);
}

static int qcow1_probe(const uint8_t *b, size_t len, const char *name)
{
    (void)name;
    return len >= 8 && magic_at(b, len, 0, "QFI\xfb", 4) && gk_be32(b + 4) == 1 ? 100 : 0;
}

static int parallels_probe(const uint8_t *b, size_t len, const char *name)
{
    (void)name;
    if (magic_at(b, len, 0, "WithoutFreeSpace", 16) || magic_at(b, len, 0, "WithouFreSpacExt", 16))
        return 100;
    return 0;
}

static int bochs_probe(const uint8_t *b, size_t len, const char *name)
{
    (void)name;
    return magic_at(b, len, 0, "Bochs Virtual HD Image", 22);
}

/* cloop (compressed loop images): the shell script they start with */
static int cloop_probe(const uint8_t *b, size_t len, const char *name)
{
    (void)name;
    static const char m[] = "#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0 && mount -r -t iso9660 /dev/cloop $1\n";
    return magic_at(b, len, 0, m, sizeof m - 1);
}

/* dmg (Apple disk images) have their header at the end of the file: qemu
 * goes by the name, and so do we (a weak score, above raw's). */
static int dmg_probe(const uint8_t *b, size_t len, const char *name)
{
    (void)b;
    (void)len;
    size_t n = name ? strlen(name) : 0;
    return n > 4 && strcmp(name + n - 4, ".dmg") == 0 ? 2 : 0;
}

static const struct gk_format qed_format = { .name = "qed", .probe = qed_probe };
static const struct gk_format qcow1_format = { .name = "qcow", .probe = qcow1_probe };
static const struct gk_format parallels_format = { .name = "parallels", .probe = parallels_probe };
static const struct gk_format bochs_format = { .name = "bochs", .probe = bochs_probe };
static const struct gk_format cloop_format = { .name = "cloop", .probe = cloop_probe };
static const struct gk_format dmg_format = { .name = "dmg", .probe = dmg_probe };

/* The list.  Order only matters between equal probe scores. */
const struct gk_format *const gk_formats[] = {
    &gk_raw_format,
    &gk_qcow2_format,
    &gk_vmdk_format,
    &gk_vdi_format,
    &gk_vhdx_format,
    &gk_vpc_format,
    &gk_luks_format,
    &gk_file_format,
    &qed_format,
    &qcow1_format,
    &parallels_format,
    &bochs_format,
    &cloop_format,
    &dmg_format,
    NULL,
};

const struct gk_format *gk_format_find(const char *name)
{
    for (int i = 0; gk_formats[i]; i++)
        if (strcmp(gk_formats[i]->name, name) == 0)
            return gk_formats[i];
    return NULL;
}

const char *gk_format_names(void)
{
    static char names[256];
    if (!names[0]) {
        size_t n = 0;
        for (int i = 0; gk_formats[i]; i++)
            if (gk_formats[i]->open && n + strlen(gk_formats[i]->name) + 3 < sizeof names)
                n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", n ? ", " : "", gk_formats[i]->name);
    }
    return names;
}

int gk_format_compresses(const char *name)
{
    const struct gk_format *f = gk_format_find(name);
    return f && f->open && f->compressed_writes;
}

int gk_format_check(const char *name)
{
    const struct gk_format *f = gk_format_find(name);
    if (!f) {
        gk_error("unknown format \"%s\" (guestkit reads %s)", name, gk_format_names());
        errno = EINVAL;
        return -1;
    }
    if (!f->open) {
        gk_error("%s images are not supported yet (guestkit reads %s)", name, gk_format_names());
        errno = ENOTSUP;
        return -1;
    }
    return 0;
}

const struct gk_format *gk_format_probe(const uint8_t *buf, size_t len, const char *filename)
{
    const struct gk_format *best = &gk_raw_format;
    int score = 0;
    for (int i = 0; gk_formats[i]; i++) {
        int s = gk_formats[i]->probe ? gk_formats[i]->probe(buf, len, filename) : 0;
        if (s > score) {
            score = s;
            best = gk_formats[i];
        }
    }
    return best;
}

/* ---- opening ---- */

/* Open the image stored in file with format fmt (NULL: probe).  Takes the
 * reference to file (dropped on failure). */
static gk_dev *open_on_file(gk_dev *file, const struct gk_format *fmt, gk_open_ctx *ctx)
{
    if (!fmt) {
        uint8_t buf[GK_PROBE_BYTES];
        size_t n = file->size < sizeof buf ? (size_t)file->size : sizeof buf;
        if (gk_pread(file, buf, n, 0) < 0) {
            gk_dev_unref(file);
            return NULL;
        }
        fmt = gk_format_probe(buf, n, file->name);
        ctx->probed = 1;
    }
    if (!fmt->open) {
        gk_error("%s: %s images are not supported yet (guestkit reads %s)", file->name, fmt->name,
                 gk_format_names());
        gk_dev_unref(file);
        errno = ENOTSUP;
        return NULL;
    }
    gk_dev *d = fmt->open(file, ctx);
    if (!d) {
        int e = errno ? errno : EIO;
        gk_dev_unref(file);
        errno = e;
        return NULL;
    }
    d->format = fmt;
    return d;
}

static void chain_clear(gk_chain *ch)
{
    for (int i = 0; i <= GK_MAX_CHAIN; i++)
        free(ch->ids[i]);
}

gk_dev *gk_open_image(const char *path, const gk_open_opts *opts)
{
    gk_open_opts o = { 0 };
    if (opts)
        o = *opts;
    if (o.untrusted < 0) {
        const char *e = getenv("GUESTKIT_UNTRUSTED");
        o.untrusted = e && *e && strcmp(e, "0") != 0;
    }
    const struct gk_format *fmt = NULL;
    if (o.format) {
        if (gk_format_check(o.format) < 0) {
            gk_error_prefix("%s", path);
            return NULL;
        }
        fmt = gk_format_find(o.format);
    }
    const struct gk_protocol *p = gk_protocol_for(path);
    gk_file_opts fo = {
        .readwrite = o.readwrite,
        .force_share = o.force_share,
        .growable = 1,
    };
    gk_dev *file = p->open(path, &fo);
    if (!file) {
        int e = errno;
        gk_error_prefix("%s", path);
        errno = e;
        return NULL;
    }
    file->protocol = p;
    gk_chain ch;
    memset(&ch, 0, sizeof ch);
    ch.top_file = file;
    if (file->ops->identity)
        ch.ids[0] = gk_strdup(file->ops->identity(file));
    gk_open_ctx ctx = {
        .readwrite = o.readwrite,
        .flags = o.flags,
        .untrusted = o.untrusted,
        .force_share = o.force_share,
        .snapshot = o.snapshot,
        .snapshot_id = o.snapshot_id,
        .snapshot_name = o.snapshot_name,
        .chain = &ch,
        .key = o.key,
        .keylen = o.keylen,
    };
    gk_dev *d = open_on_file(file, fmt, &ctx);
    int e = errno;
    chain_clear(&ch);
    errno = e;
    return d;
}

/* "json:{...}" or "proto:..." (a colon before any slash): qemu would parse
 * these as block-graph descriptions or protocol URLs. */
static int is_protocol_name(const char *name)
{
    if (strncmp(name, "json:", 5) == 0)
        return 1;
    const char *colon = strchr(name, ':');
    const char *slash = strchr(name, '/');
    return colon && (!slash || colon < slash);
}

/* Open the file a name in an image refers to: resolved by the image's
 * protocol, opened race-free, checked against --untrusted.  Errors are
 * "IMAGE: WHAT "NAME": reason". */
static gk_dev *open_named(gk_open_ctx *ctx, gk_dev *file, const char *name, const char *what, int rw,
                          char **location)
{
    const struct gk_protocol *bp = gk_dev_protocol(file) ? gk_dev_protocol(file) : &gk_file_protocol;
    char *loc = bp->resolve(file, name);
    /* a local image's names are local files, whatever they look like; a
     * remote image's may be other URIs or local paths (as qemu's) */
    const struct gk_protocol *p = !loc || bp == &gk_file_protocol ? bp : gk_protocol_for(loc);
    if (!loc) {
        gk_error_prefix("%s: %s \"%s\"", file->name, what, name);
        errno = EINVAL;
        return NULL;
    }
    gk_file_opts fo = {
        .readwrite = rw,
        .force_share = ctx->force_share,
        .nofollow = ctx->untrusted,
        .regular_only = 1,
        .growable = 1,
    };
    gk_dev *f = p->open(loc, &fo);
    if (!f) {
        int e = errno;
        gk_error_prefix("%s: %s \"%s\"", file->name, what, name);
        free(loc);
        errno = e;
        return NULL;
    }
    f->protocol = p;
    if (ctx->untrusted && ctx->chain->top_file) {
        const struct gk_protocol *tp = gk_dev_protocol(ctx->chain->top_file);
        if (!tp || tp != p || tp->within(ctx->chain->top_file, f) != 1) {
            if (tp == &gk_file_protocol)
                gk_error("%s: %s \"%s\" is outside the image's directory (refused for untrusted images)",
                         file->name, what, name);
            else
                gk_error("%s: %s \"%s\" is not beside the image on its server (refused for untrusted "
                         "images)", file->name, what, name);
            gk_dev_unref(f);
            free(loc);
            errno = EPERM;
            return NULL;
        }
    }
    if (location)
        *location = loc;
    else
        free(loc);
    return f;
}

gk_dev *gk_open_named_file(gk_open_ctx *ctx, gk_dev *file, const char *name, const char *what, char **location)
{
    /* qemu 7.2.13 and later take a data file name literally (no json:, no
     * protocol prefix): so do we */
    return open_named(ctx, file, name, what, ctx->readwrite, location);
}

gk_dev *gk_open_backing(gk_open_ctx *ctx, gk_dev *file, const char *name, const char *fmtname)
{
    gk_chain *ch = ctx->chain;
    const struct gk_protocol *bp = gk_dev_protocol(file);
    int remote_uri = bp && bp != &gk_file_protocol && gk_uri_has_scheme(name) > 1 &&
                     gk_protocol_for(name) != &gk_file_protocol;
    if (is_protocol_name(name) && !remote_uri) {
        gk_error("%s: backing file \"%s\": json: and protocol file names are not supported", file->name, name);
        errno = ENOTSUP;
        return NULL;
    }
    if (ch->depth >= GK_MAX_CHAIN) {
        gk_error("%s: backing chain is longer than %d images", file->name, GK_MAX_CHAIN);
        errno = ELOOP;
        return NULL;
    }
    const struct gk_format *fmt = NULL;
    if (fmtname) {
        fmt = gk_format_find(fmtname);
        if (!fmt) {
            gk_error("%s: backing file \"%s\": unsupported backing format \"%s\"", file->name, name, fmtname);
            errno = ENOTSUP;
            return NULL;
        }
    } else if (ctx->untrusted) {
        gk_error("%s: backing file \"%s\" has no backing format (format probing refused for untrusted images)",
                 file->name, name);
        errno = EPERM;
        return NULL;
    }
    gk_dev *bf = open_named(ctx, file, name, "backing file", 0, NULL);
    if (!bf)
        return NULL;
    const char *id = bf->ops->identity ? bf->ops->identity(bf) : bf->name;
    for (int i = 0; i <= ch->depth; i++) {
        if (ch->ids[i] && strcmp(ch->ids[i], id) == 0) {
            gk_error("%s: backing file \"%s\": backing chain loops", file->name, name);
            gk_dev_unref(bf);
            errno = ELOOP;
            return NULL;
        }
    }
    ch->depth++;
    ch->ids[ch->depth] = gk_strdup(id);
    gk_open_ctx bctx = {
        .flags = ctx->flags,
        .untrusted = ctx->untrusted,
        .force_share = ctx->force_share,
        .chain = ch,
        .key = ctx->key,
        .keylen = ctx->keylen,
    };
    gk_dev *d = open_on_file(bf, fmt, &bctx);
    int e = errno;
    free(ch->ids[ch->depth]);
    ch->ids[ch->depth] = NULL;
    ch->depth--;
    if (!d && ch->depth == 0) {
        /* only the top image adds its name: the inner message already names
         * the image whose backing file failed, and deep chains stay readable */
        gk_error_prefix("%s: backing file \"%s\"", file->name, name);
    }
    errno = e;
    return d;
}

/* ---- creating ---- */

const char *gk_create_get(const gk_create_args *a, const char *name)
{
    const char *v = NULL;
    for (int i = 0; i < a->nopts; i++)
        if (strcmp(a->names[i], name) == 0)
            v = a->values[i];
    return v;
}

int gk_opt_bool(const char *name, const char *v, int *out)
{
    if (strcmp(v, "on") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "y") == 0) {
        *out = 1;
        return 0;
    }
    if (strcmp(v, "off") == 0 || strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "n") == 0) {
        *out = 0;
        return 0;
    }
    return gk_fail(EINVAL, "Parameter '%s' expects 'on' or 'off'", name);
}

static uint64_t size_suffix(char c)
{
    switch (c) {
    case 'b': case 'B': return 1;
    case 'k': case 'K': return 1ULL << 10;
    case 'm': case 'M': return 1ULL << 20;
    case 'g': case 'G': return 1ULL << 30;
    case 't': case 'T': return 1ULL << 40;
    case 'p': case 'P': return 1ULL << 50;
    case 'e': case 'E': return 1ULL << 60;
    }
    return 0;
}

int gk_parse_size(const char *s, uint64_t *out)
{
    /* qemu_strtosz: a decimal integer (or 0x hex, with no fraction), a
     * fraction only before a suffix, no exponent, no sign */
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || memchr(s, '-', (size_t)(end - s)))
        return -EINVAL;
    if (errno == ERANGE) /* with something after the digits: not a size */
        return *end ? -EINVAL : -ERANGE;
    double frac = 0;
    if (v == 0 && (*end == 'x' || *end == 'X')) {
        errno = 0;
        v = strtoull(s, &end, 16);
        if (errno == ERANGE)
            return *end ? -EINVAL : -ERANGE;
        if (*end == '.')
            return -EINVAL;
        if (size_suffix(*end)) /* qemu 7.2 still takes it, and says this */
            gk_warn("Using a multiplier suffix on hex numbers is deprecated: %s", s);
    } else if (*end == '.') {
        char *f = end;
        frac = strtod(f, &end);
        if (end == f)
            end++; /* "1." and "1.k": no digits after the point */
        else if (memchr(f, 'e', (size_t)(end - f)) || memchr(f, 'E', (size_t)(end - f)))
            return -EINVAL;
    }
    uint64_t mul = size_suffix(*end);
    if (mul)
        end++;
    else
        mul = 1;
    if (*end || (mul == 1 && frac != 0))
        return -EINVAL;
    uint64_t f = (uint64_t)(frac * (double)mul);
    if (v > (UINT64_MAX - f) / mul)
        return -ERANGE;
    *out = v * mul + f;
    return 0;
}

int gk_opt_size(const char *name, const char *v, uint64_t *out)
{
    int r = gk_parse_size(v, out);
    if (r == -ERANGE)
        return gk_fail(EINVAL, "Value '%s' is out of range for parameter '%s'", v, name);
    if (r < 0)
        return gk_fail(EINVAL, "Parameter '%s' expects a non-negative number below 2^64\n"
                                     "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\n"
                                     "and exabytes, respectively.", name);
    return 0;
}

int gk_image_measure(const char *fmtname, gk_dev *src, uint64_t size, int n, const char **names,
                     const char **values, gk_measure *m)
{
    memset(m, 0, sizeof *m);
    const struct gk_format *fmt = gk_format_find(fmtname);
    if (!fmt || !fmt->measure) {
        gk_error("Block driver '%s' does not support size measurement", fmtname);
        errno = ENOTSUP;
        return -1;
    }
    for (int i = 0; i < n; i++) {
        const gk_create_opt *o = fmt->create_opts;
        while (o && o->name && strcmp(o->name, names[i]) != 0)
            o++;
        if (!o || !o->name) {
            gk_error("Invalid parameter '%s'", names[i]);
            errno = ENOENT;
            return -1;
        }
    }
    gk_create_args a = {.size = src && !size ? src->size : size, .size_given = src == NULL, .nopts = n,
                        .names = names, .values = values};
    int r = fmt->measure(src, &a, m);
    if (r < 0) {
        errno = -r;
        return -1;
    }
    return 0;
}

int gk_image_create_help(const char *fmtname, FILE *f)
{
    const struct gk_format *fmt = gk_format_find(fmtname);
    if (!fmt || !fmt->create) {
        gk_error("Format driver '%s' does not support image creation", fmtname);
        errno = ENOTSUP;
        return -1;
    }
    static const char *const types[] = {"str", "bool (on/off)", "num", "size"};
    fprintf(f, "Supported %s options:\n", fmt->name);
    for (const gk_create_opt *o = fmt->create_opts; o && o->name; o++) {
        char left[64];
        snprintf(left, sizeof left, "%s=<%s>", o->name, types[o->type]);
        fprintf(f, "  %-22s - %s\n", left, o->help);
    }
    fprintf(f, "\nThe protocol level may support further options.\n"
               "Specify the target filename to include those options.\n");
    return 0;
}

int gk_image_amend_help(const char *fmtname, FILE *f)
{
    const struct gk_format *fmt = gk_format_find(fmtname);
    if (!fmt) {
        gk_error("Unknown file format '%s'", fmtname);
        errno = EINVAL;
        return -1;
    }
    if (!fmt->amend) {
        gk_error("Format driver '%s' does not support option amendment", fmtname);
        errno = ENOTSUP;
        return -1;
    }
    fprintf(f, "Amend options for '%s':\n%s", fmt->name, fmt->amend_help);
    return 0;
}

static __thread void (*create_ready)(void *);
static __thread void *create_ready_ud;

void gk_image_create_ready(void (*ready)(void *ud), void *ud)
{
    create_ready = ready;
    create_ready_ud = ud;
}

void gk_create_opened(void)
{
    void (*fn)(void *) = create_ready;
    create_ready = NULL;
    if (fn)
        fn(create_ready_ud);
}

int gk_image_create(const char *fmtname, const char *path, uint64_t size, int size_given, int nopts,
                    const char **names, const char **values, int unsafe, char **summary)
{
    const struct gk_format *fmt = gk_format_find(fmtname);
    if (!fmt || !fmt->create)
        create_ready = NULL;
    if (!fmt) {
        gk_error("Unknown file format '%s'", fmtname);
        errno = EINVAL;
        return -1;
    }
    if (!fmt->create) {
        gk_error("Format driver '%s' does not support image creation", fmtname);
        errno = ENOTSUP;
        return -1;
    }
    for (int i = 0; i < nopts; i++) {
        const gk_create_opt *o = fmt->create_opts;
        while (o && o->name && strcmp(o->name, names[i]) != 0)
            o++;
        if ((!o || !o->name) && (strcmp(names[i], "backing_file") == 0 || strcmp(names[i], "backing_fmt") == 0)) {
            gk_error("Backing file not supported for file format '%s'", fmt->name);
            errno = ENOTSUP;
            return -1;
        }
        if (!o || !o->name) {
            gk_error("Invalid parameter '%s'", names[i]);
            errno = EINVAL;
            return -1;
        }
    }
    gk_create_args a = {
        .size = size, .size_given = size_given, .nopts = nopts, .names = names, .values = values,
        .unsafe = unsafe,
    };
    int r = fmt->create(path, &a);
    create_ready = NULL;
    if (summary)
        *summary = a.summary;
    else
        free(a.summary);
    if (r < 0) {
        errno = -r;
        return -1;
    }
    return 0;
}
