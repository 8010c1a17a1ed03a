/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The raw format: the file is the disk.  Every operation passes through to
 * the file device below (d->file), as qemu's raw format does to its file.
 *
 * One rule of its own, qemu's: when the format was guessed rather than
 * given, a write may not turn the first sector into another format's header
 * (a guest writing a qcow2 header with a backing file into its raw disk
 * would otherwise make the host read a file of its choosing at the next
 * open: CVE-2008-2004). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blk-int.h"

struct raw {
    int probed;
};

/* The public wrapper's -1/errno back into -errno. */
static int as_op(int r)
{
    return r < 0 ? -errno : 0;
}

static int raw_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    return as_op(gk_pread(d->file, buf, n, off));
}

/* A write into the first sector of a probed image must leave it raw. */
static int sector0_check(gk_dev *d, const void *buf, size_t n, uint64_t off)
{
    struct raw *r = d->priv;
    if (!r->probed || off >= 512)
        return 0;
    uint8_t s0[512];
    if (gk_pread(d->file, s0, sizeof s0, 0) < 0)
        return -errno;
    size_t k = n < 512 - off ? n : (size_t)(512 - off);
    memcpy(s0 + off, buf, k);
    const struct gk_format *f = gk_format_probe(s0, sizeof s0, d->name);
    if (f != &gk_raw_format)
        return gk_fail(EPERM, "%s: refusing to write a %s header into an image whose format was guessed "
                              "(give the format to write the first sector)", d->name, f->name);
    return 0;
}

static int raw_pwrite(gk_dev *d, const void *buf, size_t n, uint64_t off)
{
    int r = sector0_check(d, buf, n, off);
    return r < 0 ? r : as_op(gk_pwrite(d->file, buf, n, off));
}

static int raw_pwrite_zeroes(gk_dev *d, uint64_t off, uint64_t len, unsigned flags)
{
    return as_op(gk_pwrite_zeroes(d->file, off, len, flags));
}

static int raw_discard(gk_dev *d, uint64_t off, uint64_t len)
{
    return as_op(gk_discard(d->file, off, len));
}

static int raw_truncate(gk_dev *d, uint64_t size, enum gk_prealloc prealloc)
{
    if (gk_truncate(d->file, size, prealloc) < 0)
        return -errno;
    d->size = d->file->size;
    return 0;
}

static int raw_flush(gk_dev *d)
{
    return as_op(gk_flush(d->file));
}

static int raw_block_status(gk_dev *d, uint64_t off, uint64_t len, gk_extent *e)
{
    e->len = len;
    e->flags = GK_BS_RAW | GK_BS_OFFSET;
    e->host = d->file;
    e->host_off = off;
    return 0;
}

static void raw_close(gk_dev *d)
{
    free(d->priv);
}

static const struct gk_dev_ops raw_ops = {
    .name = "raw",
    .pread = raw_pread,
    .pwrite = raw_pwrite,
    .pwrite_zeroes = raw_pwrite_zeroes,
    .discard = raw_discard,
    .truncate = raw_truncate,
    .flush = raw_flush,
    .block_status = raw_block_status,
    .close = raw_close,
};

static int raw_probe(const uint8_t *buf, size_t len, const char *filename)
{
    (void)buf, (void)len, (void)filename;
    return 1; /* anything is a raw image */
}

static gk_dev *raw_open(gk_dev *file, gk_open_ctx *ctx)
{
    if (ctx->snapshot || ctx->snapshot_id || ctx->snapshot_name) {
        gk_error("%s: raw images have no snapshots", file->name);
        errno = ENOTSUP;
        return NULL;
    }
    /* qemu-img's warning (for gimg: other tools do not print it) */
    if (ctx->probed && ctx->readwrite && (ctx->flags & GK_OPEN_WARN_RAW))
        gk_warn("Image format was not specified for '%s' and probing guessed raw.\n"
                "         Automatically detecting the format is dangerous for raw images, write operations on "
                "block 0 will be restricted.\n"
                "         Specify the 'raw' format explicitly to remove the restrictions.", file->name);
    struct raw *r = gk_calloc(1, sizeof *r);
    r->probed = ctx->probed;
    gk_dev *d = gk_dev_new(&raw_ops, file->name, file->size, r);
    d->file = file;
    d->readonly = !ctx->readwrite;
    d->sector_size = file->sector_size;
    return d;
}

static int raw_info(gk_dev *d, gk_image_info *info)
{
    info->format = d->format ? d->format->name : "raw";
    info->filename = gk_strdup(d->name);
    info->virtual_size = d->size;
    if (d->file->ops->get_allocated)
        d->file->ops->get_allocated(d->file, &info->actual_size);
    return 0;
}

static const gk_create_opt raw_create_opts[] = {
    {"size", GK_OPT_SIZE, "Virtual disk size", NULL},
    {"preallocation", GK_OPT_STRING, "Preallocation mode (allowed values: off, falloc, full)", NULL},
    {NULL, 0, NULL, NULL},
};

/* qemu's file driver's, in the order its help lists them */
static const gk_create_opt file_create_opts[] = {
    {"extent_size_hint", GK_OPT_SIZE, "Extent size hint for the image file, 0 to disable", NULL},
    {"nocow", GK_OPT_BOOL, "Turn off copy-on-write (valid only on btrfs)", NULL},
    {"preallocation", GK_OPT_STRING, "Preallocation mode (allowed values: off, falloc, full)", NULL},
    {"size", GK_OPT_SIZE, "Virtual disk size", NULL},
    {NULL, 0, NULL, NULL},
};

/* The file's bytes with no format layer: raw's create and the file
 * driver's (qemu-img create -f file).  nocow= and extent_size_hint= (the
 * file driver's only) are hints qemu gives btrfs and XFS and ignores
 * where they fail; guestkit checks them as qemu does and gives no hint.
 * The summary and its errors come in qemu's order: a value that does not
 * parse before the "Formatting" line, an unsupported one after it. */
static int plain_create(const char *fmt, const char *location, gk_create_args *a)
{
    const char *v = gk_create_get(a, "size"), *pa = gk_create_get(a, "preallocation");
    const char *nocow = gk_create_get(a, "nocow"), *hint_s = gk_create_get(a, "extent_size_hint");
    uint64_t hint = 0;
    int r, on;
    if (v && (r = gk_opt_size("size", v, &a->size)) < 0)
        return r;
    if (nocow && (r = gk_opt_bool("nocow", nocow, &on)) < 0)
        return r;
    if (hint_s && (r = gk_opt_size("extent_size_hint", hint_s, &hint)) < 0)
        return r;
    if (!v && !a->size_given)
        return gk_fail(EINVAL, "Image creation needs a size parameter");
    char hint_txt[32] = "";
    if (hint_s)
        snprintf(hint_txt, sizeof hint_txt, " extent_size_hint=%llu", (unsigned long long)hint);
    a->summary = gk_asprintf("fmt=%s size=%llu%s%s%s%s%s", fmt, (unsigned long long)a->size,
                             nocow ? " nocow=" : "", nocow ? nocow : "", pa ? " preallocation=" : "",
                             pa ? pa : "", hint_txt);
    enum gk_prealloc mode = GK_PREALLOC_OFF;
    if (pa && strcmp(pa, "falloc") == 0)
        mode = GK_PREALLOC_FALLOC;
    else if (pa && strcmp(pa, "full") == 0)
        mode = GK_PREALLOC_FULL;
    else if (pa && strcmp(pa, "metadata") == 0)
        mode = GK_PREALLOC_METADATA; /* the file is made, then its size refused, as by qemu */
    else if (pa && strcmp(pa, "off") != 0)
        return gk_fail(EINVAL, "invalid parameter value: %s", pa);
    if (hint > UINT32_MAX)
        return gk_fail(EINVAL, "Extent size hint is too large");
    const struct gk_protocol *p = gk_protocol_for(location);
    if (!p->create)
        return gk_fail(ENOTSUP, "%s: cannot create images there", location);
    if ((r = p->create(location)) < 0)
        return r;
    gk_file_opts fo = {.readwrite = 1, .growable = 1, .quiet_in_use = 1};
    gk_dev *f = p->open(location, &fo);
    if (!f)
        return -errno;
    gk_create_opened();
    r = gk_truncate(f, a->size, mode) < 0 || gk_flush(f) < 0 ? -errno : 0;
    gk_dev_unref(f);
    return r;
}

static int raw_create(const char *location, gk_create_args *a)
{
    return plain_create("raw", location, a);
}

static int file_create(const char *location, gk_create_args *a)
{
    return plain_create("file", location, a);
}

/* qemu's raw_measure: the source's length, or the size in sectors. */
static int raw_measure(gk_dev *src, gk_create_args *a, gk_measure *m)
{
    const char *v = gk_create_get(a, "preallocation");
    if (v && strcmp(v, "off") && strcmp(v, "falloc") && strcmp(v, "full"))
        return gk_fail(EINVAL, "Invalid parameter '%s'", v);
    m->required = src ? a->size : (a->size + 511) & ~511ULL;
    m->fully_allocated = m->required;
    return 0;
}

const struct gk_format gk_raw_format = {
    .measure = raw_measure,
    .name = "raw",
    .probe = raw_probe,
    .open = raw_open,
    .create = raw_create,
    .create_opts = raw_create_opts,
    .info = raw_info,
};

/* qemu's "file" driver used as the image's format (qemu-img info
 * --image-opts driver=file,filename=F, or -f file / -O file): the file
 * itself, read and made as raw does, named "file".  Never probed. */
const struct gk_format gk_file_format = {
    .name = "file",
    .measure = raw_measure,
    .open = raw_open,
    .create = file_create,
    .create_opts = file_create_opts,
    .info = raw_info,
};
