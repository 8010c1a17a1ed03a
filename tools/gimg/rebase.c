/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gimg rebase: point an image at another backing file (qemu-img rebase).
 *
 * Safe mode: where the image itself holds nothing, what the old backing
 * chain reads and what the new backing file reads are compared sector by
 * sector, and where they differ the old data is written into the image (a
 * partial cluster is completed from the old backing file by the write's
 * copy-on-write).  Runs both chains call zero are skipped unread; when the
 * new backing file is in the old chain, only what lies above it is
 * compared (lib's one chain walk, gk_block_status_above).  Then the header
 * changes in one write.  A kill at any moment leaves the image reading as
 * before: the copied clusters hold what the old chain held.
 * Unsafe mode (-u): only the header changes.
 * -c (qemu-img 8.2's --compress; 7.2 has none): the copy goes by whole
 * clusters of the image, as qemu's then aligns its writes: a cluster the
 * image does not hold at all, where the old and the new backing file
 * differ anywhere, is written whole and compressed with the old chain's
 * data (zeros, not compressed, where it lies past the old chain's end);
 * a cluster the image holds in part (extended L2) gets the plain copy.
 * An image qemu cannot write compressed clusters into (an external data
 * file: qemu 8.2 fails its first write with ENOTSUP; encrypted: qemu's
 * convert refuses -c, and we do not write clusters in the clear) is
 * refused before anything is written, and only when something would be
 * copied (qemu succeeds when nothing is): a first pass that writes nothing
 * stops at the first write the copy would make. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gimg.h"

#define REBASE_CHUNK (1ULL << 20)

/* the pass that writes nothing: set dry, and found says a write was due */
static int dry, found;

/* name as qemu-img opens it: relative to the directory of the image */
static char *beside(const char *image, const char *name)
{
    const char *slash = strrchr(image, '/');
    if (name[0] == '/' || !slash)
        return gk_strdup(name);
    return gk_asprintf("%.*s/%s", (int)(slash - image), image, name);
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Bytes from off (at most n) that read as zeros in d (past its end: all),
 * or 0 if the run at off may hold data. */
static uint64_t zero_run(gk_dev *d, uint64_t off, uint64_t n)
{
    if (!d || off >= d->size)
        return n;
    gk_extent e;
    if (gk_block_status(d, off, n, &e) < 0)
        gk_die_status(1, "error while reading image metadata: %s", gk_errmsg());
    return (e.flags & GK_BS_ZERO) ? e.len : 0;
}

/* n bytes of what d reads at off, zeros past its end. */
static void read_side(gk_dev *d, const char *what, unsigned char *buf, uint64_t n, uint64_t off)
{
    uint64_t have = !d || off >= d->size ? 0 : d->size - off < n ? d->size - off : n;
    if (have && gk_pread(d, buf, have, off) < 0)
        gk_die_status(1, "error while reading from %s backing file: %s", what, gk_errmsg());
    memset(buf + have, 0, n - have);
}

/* The old chain's data into top where top holds nothing in [off, end) and
 * the two backing sides differ, sector by sector (bo, bn: REBASE_CHUNK
 * bytes each); progress when a is given. */
static void copy_range(gimg_args *a, gk_dev *top, gk_dev *old, gk_dev *new, gk_dev *prefix, uint64_t off,
                       uint64_t end, unsigned char *bo, unsigned char *bn)
{
    uint64_t size = top->size;
    while (off < end) {
        uint64_t n = end - off < REBASE_CHUNK ? end - off : REBASE_CHUNK;
        gk_extent e;
        /* what the image itself holds stays */
        if (gk_block_status_above(top, old, off, n, &e) < 0)
            gk_die_status(1, "error while reading image metadata: %s", gk_errmsg());
        n = e.len;
        if (e.flags & GK_BS_ALLOCATED) {
            off += n;
            continue;
        }
        /* the new backing file is below the old one: only what lies above
         * it in the old chain can differ */
        if (prefix && off < old->size) {
            if (gk_block_status_above(old, prefix, off, n < old->size - off ? n : old->size - off, &e) < 0)
                gk_die_status(1, "error while reading image metadata: %s", gk_errmsg());
            if (!(e.flags & GK_BS_ALLOCATED) && !(e.flags & GK_BS_BEYOND)) {
                off += e.len;
                continue;
            }
            n = e.len;
        }
        uint64_t zo = zero_run(old, off, n), zn = zo ? zero_run(new, off, zo) : 0;
        if (zn) {
            off += zn;
            continue;
        }
        read_side(old, "old", bo, n, off);
        read_side(new, "new", bn, n, off);
        for (uint64_t i = 0; i < n;) {
            uint64_t k = n - i < 512 ? n - i : 512;
            if (memcmp(bo + i, bn + i, k) == 0) {
                i += k;
                continue;
            }
            uint64_t j = i + k;
            while (j < n) {
                uint64_t m = n - j < 512 ? n - j : 512;
                if (memcmp(bo + j, bn + j, m) == 0)
                    break;
                j += m;
            }
            if (dry) {
                found = 1;
                return;
            }
            if (gk_pwrite(top, bo + i, j - i, off + i) < 0)
                gk_die_status(1, "error while writing to COW image: %s", gk_errmsg());
            i = j;
        }
        off += n;
        if (a)
            progress_print(&a->progress, 100.0 * (double)off / (double)size, 0);
    }
}

/* 1 if old and new may differ in the cluster [off, off+n) that top does
 * not hold: the cheap answers first (nothing above the new backing file in
 * the old chain; zeros on both sides). */
static int may_differ(gk_dev *old, gk_dev *new, gk_dev *prefix, uint64_t off, uint64_t n)
{
    gk_extent e;
    if (prefix && off < old->size) {
        uint64_t k = n < old->size - off ? n : old->size - off;
        if (gk_block_status_above(old, prefix, off, k, &e) < 0)
            gk_die_status(1, "error while reading image metadata: %s", gk_errmsg());
        if (!(e.flags & GK_BS_ALLOCATED) && !(e.flags & GK_BS_BEYOND) && e.len >= n)
            return 0;
    }
    return !(zero_run(old, off, n) >= n && zero_run(new, off, n) >= n);
}

static void copy_compressed(gimg_args *a, gk_dev *top, gk_dev *old, gk_dev *new, gk_dev *prefix, uint64_t cs)
{
    unsigned char *bo = gk_malloc(REBASE_CHUNK > cs ? REBASE_CHUNK : cs);
    unsigned char *bn = gk_malloc(REBASE_CHUNK > cs ? REBASE_CHUNK : cs);
    uint64_t size = top->size, oldsize = old ? old->size : 0;
    for (uint64_t off = 0; off < size && !found; off += cs) {
        uint64_t n = size - off < cs ? size - off : cs;
        gk_extent e;
        if (gk_block_status_above(top, old, off, n, &e) < 0)
            gk_die_status(1, "error while reading image metadata: %s", gk_errmsg());
        if (e.flags & GK_BS_ALLOCATED) {
            if (e.len < n) /* held in part: the rest as without -c */
                copy_range(NULL, top, old, new, prefix, off + e.len, off + n, bo, bn);
        } else if (e.len < n) {
            copy_range(NULL, top, old, new, prefix, off, off + n, bo, bn);
        } else if (may_differ(old, new, prefix, off, n)) {
            read_side(old, "old", bo, n, off);
            read_side(new, "new", bn, n, off);
            int r = 0;
            if (memcmp(bo, bn, n) == 0)
                r = 0;
            else if (dry)
                found = 1;
            else if (off >= oldsize)
                r = gk_pwrite_zeroes(top, off, n, 0);
            else
                r = gk_pwrite_compressed(top, bo, n, off);
            if (r < 0)
                gk_die_status(1, "error while writing to COW image: %s", gk_errmsg());
        }
        if (!dry)
            progress_print(&a->progress, 100.0 * (double)(off + n) / (double)size, 0);
    }
    free(bo);
    free(bn);
}

static void copy_differences(gimg_args *a, gk_dev *top, gk_dev *old, gk_dev *new, gk_dev *prefix, uint64_t zcs,
                             const char *refuse)
{
    progress_print(&a->progress, 0, 1);
    if (zcs && refuse) {
        dry = 1;
        copy_compressed(a, top, old, new, prefix, zcs);
        dry = 0;
        if (found)
            gk_die_status(1, "%s", refuse);
        return; /* nothing to copy */
    }
    if (zcs) {
        copy_compressed(a, top, old, new, prefix, zcs);
    } else {
        unsigned char *bo = gk_malloc(REBASE_CHUNK), *bn = gk_malloc(REBASE_CHUNK);
        copy_range(a, top, old, new, prefix, 0, top->size, bo, bn);
        free(bo);
        free(bn);
    }
    if (gk_flush(top) < 0)
        gk_die_status(1, "error while writing to COW image: %s", gk_errmsg());
}

int cmd_rebase(gimg_args *a)
{
    const char *bfile = NULL, *bfmt = NULL;
    int unsafe = 0, compress = 0;
    for (int i = 0; i < a->nopts; i++) {
        switch (a->opts[i].opt) {
        case 'c': compress = 1; break;
        case 'b': bfile = a->opts[i].arg; break;
        case 'F': bfmt = a->opts[i].arg; break;
        case 'u': unsafe = 1; break;
        }
    }
    if (!unsafe && !bfile)
        gimg_usage_error(a, "Must specify backing file (-b) or use unsafe mode (-u)");
    if (a->nargs != 1)
        gimg_usage_error(a, "Expecting one image file name");
    if (bfmt && gk_format_check(bfmt) < 0)
        gk_die_status(1, "Invalid format name: '%s'", bfmt);
    if (!bfile)
        bfile = "";
    const char *path = a->args[0];
    /* qemu-img 7.2 copies first and then refuses; refusing first leaves
     * the image alone */
    if (*bfile && !bfmt)
        gk_die_status(1, "Could not change the backing file to '%s': backing format must be specified", bfile);
    gk_open_opts o = {.format = a->fmt, .readwrite = 1, .flags = unsafe ? GK_OPEN_NO_BACKING : 0};
    gk_dev *top = gimg_open_opts(a, path, &o, 1);
    /* qemu 8.2: after opening the image, before anything else */
    uint64_t zcs = 0;
    const char *refuse = NULL;
    if (compress) {
        gk_image_info inf;
        memset(&inf, 0, sizeof inf);
        int can = gk_image_info_get(top, &inf) == 0 && gk_format_compresses(inf.format) && inf.cluster_size;
        zcs = can ? inf.cluster_size : 0;
        if (can && inf.data_file)
            refuse = "error while writing to COW image: Operation not supported";
        else if (can && inf.encrypted)
            refuse = "Compression and encryption not supported at the same time";
        gk_image_info_free(&inf);
        if (!can)
            gk_die_status(1, "Compression not supported for this file format");
    }
    if (!gk_image_can_set_backing(top))
        gk_die_status(1, "Could not change the backing file to '%s': %s", bfile, strerror(ENOTSUP));
    gk_dev *nb = NULL, *nbprefix = NULL;
    if (!unsafe) {
        gk_dev *old = gk_image_backing(top);
        if (*bfile) {
            char *loc = beside(path, bfile);
            /* an encrypted new backing file opens with the image's key,
             * as its backing chain does */
            gk_open_opts no = {.format = bfmt, .untrusted = gimg_untrusted, .force_share = a->share,
                               .key = o.key, .keylen = o.keylen};
            nb = gk_open_image(loc, &no);
            if (!nb)
                gk_die_status(1, "Could not open new backing file '%s': %s", loc, gk_errmsg());
            for (gk_dev *p = old; p; p = gk_image_backing(p))
                if (same_file(gk_image_location(p), loc)) {
                    nbprefix = p;
                    break;
                }
            free(loc);
        }
    }
    /* every file is open: from here on only they (the sandbox) */
    gimg_sandbox(a, 1, GK_SB_IMGWRITE, 0);
    if (!unsafe) {
        copy_differences(a, top, gk_image_backing(top), nb, nbprefix, zcs, refuse);
        if (nb)
            gk_dev_unref(nb);
    }
    if (gk_image_set_backing(top, bfile, bfmt) < 0)
        gk_die_status(1, "Could not change the backing file to '%s': %s", bfile, gk_errmsg());
    progress_end(&a->progress);
    gk_dev_unref(top);
    return 0;
}
