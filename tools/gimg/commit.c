/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gimg commit: merge an image into its backing file (qemu-img commit, the
 * offline blockcommit).  What the image and the images between it and the
 * base hold (lib's one chain walk, gk_block_status_above) is written into
 * the base, opened read-write for this, which grows first if it is the
 * smaller; the base is flushed; then, unless -d (or -b, which implies it),
 * the image is emptied so that it reads through to the base.
 *
 * A kill at any moment: the image reads as before throughout (the base
 * holds a mix of old and committed clusters until the copy ends, each one
 * whole, as with qemu), and both pass qemu-img check. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gimg.h"

#define COMMIT_CHUNK (1ULL << 20)

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The image of top's backing chain that base names (as a path from here,
 * or from the top image's directory), or NULL. */
static gk_dev *find_base(gk_dev *top, const char *path, const char *base)
{
    const char *slash = strrchr(path, '/');
    char *rel = base[0] != '/' && slash ? gk_asprintf("%.*s/%s", (int)(slash - path), path, base) : NULL;
    gk_dev *found = NULL;
    for (gk_dev *p = gk_image_backing(top); p && !found; p = gk_image_backing(p))
        if (same_file(gk_image_location(p), base) || (rel && same_file(gk_image_location(p), rel)))
            found = p;
    free(rel);
    return found;
}

int cmd_commit(gimg_args *a)
{
    const char *basename = NULL;
    int drop = 0;
    for (int i = 0; i < a->nopts; i++) {
        switch (a->opts[i].opt) {
        case 'b': basename = a->opts[i].arg; drop = 1; break;
        case 'd': drop = 1; break;
        case 'r': gimg_parse_size(a->opts[i].arg, "rate limit"); break; /* offline: nothing to limit */
        }
    }
    if (a->nargs != 1)
        gimg_usage_error(a, "Expecting one image file name");
    const char *path = a->args[0];
    /* the image is written only to empty it */
    gk_open_opts o = {.format = a->fmt, .readwrite = !drop};
    gk_dev *top = gimg_open_opts(a, path, &o, 1);
    if (!gk_image_backing(top))
        gk_die_status(1, "Image does not have a backing file");
    gk_dev *base = gk_image_backing(top);
    if (basename && !(base = find_base(top, path, basename)))
        gk_die_status(1, "Did not find '%s' in the backing chain of '%s'", basename, path);
    /* the base again, read-write (the chain holds it read-only): the last
     * file opened; from here on only the open images (the sandbox) */
    gk_open_opts bo = {.format = gk_dev_format(base), .readwrite = 1, .untrusted = gimg_untrusted,
                       .key = o.key, .keylen = o.keylen}; /* the image's key, as the chain's */
    gk_dev *bw = gk_open_image(gk_image_location(base), &bo);
    if (!bw)
        gk_die_status(1, "%s", gk_errmsg());
    gimg_sandbox(a, 1, GK_SB_IMGWRITE, 0);
    /* what is committed is read from the images above the base: damaged
     * ones (overlapping metadata, wrong refcounts) are refused as for
     * writing, before anything is written (the image itself is checked by
     * its read-write open unless -d) */
    for (gk_dev *p = drop ? top : gk_image_backing(top); p && p != base; p = gk_image_backing(p)) {
        gk_check_result cr;
        memset(&cr, 0, sizeof cr);
        if (gk_image_check(p, &cr) == 0 && (cr.corruptions || cr.check_errors))
            gk_die_status(1, "%s: image has %llu inconsistencies in its metadata; refusing to commit it "
                             "('gimg check' lists them)", gk_image_location(p),
                          (unsigned long long)(cr.corruptions + cr.check_errors));
        gk_check_result_free(&cr);
    }
    if (bw->size < top->size && gk_truncate(bw, top->size, GK_PREALLOC_OFF) < 0)
        gk_die_status(1, "Could not resize the backing file: %s", gk_errmsg());
    unsigned char *buf = gk_malloc(COMMIT_CHUNK);
    uint64_t size = top->size;
    progress_print(&a->progress, 0, 1);
    for (uint64_t off = 0; off < size;) {
        uint64_t n = size - off < COMMIT_CHUNK ? size - off : COMMIT_CHUNK;
        gk_extent e;
        if (gk_block_status_above(top, base, off, n, &e) < 0)
            gk_die_status(1, "Block job failed: %s", gk_errmsg());
        n = e.len;
        if (e.flags & GK_BS_ALLOCATED) {
            int r;
            if (e.flags & GK_BS_ZERO)
                r = gk_pwrite_zeroes(bw, off, n, GK_ZERO_MAY_UNMAP);
            else
                r = gk_pread(top, buf, n, off) < 0 ? -1 : gk_pwrite(bw, buf, n, off);
            if (r < 0)
                gk_die_status(1, "Block job failed: %s", gk_errmsg());
        }
        off += n;
        progress_print(&a->progress, 100.0 * (double)off / (double)size, 0);
    }
    free(buf);
    if (gk_flush(bw) < 0)
        gk_die_status(1, "Block job failed: %s", gk_errmsg());
    gk_dev_unref(bw);
    if (!drop && gk_image_make_empty(top) < 0)
        gk_die_status(1, "Could not empty %s: %s", path, gk_errmsg());
    gk_dev_unref(top);
    progress_end(&a->progress);
    if (!a->quiet)
        printf("Image committed.\n");
    return 0;
}
