/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gimg compare: qemu-img compare's algorithm over lib's chain walk
 * (gk_block_status_above): runs both images call zero are skipped, runs
 * allocated in both are read and compared sector by sector, a run
 * allocated in one only must read as zeros there; in strict mode the
 * block status flags of both must be equal, as qemu sees them. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gimg.h"

#define CMP_CHUNK (2ULL << 20)

/* qemu's bdrv_block_status_above() flags: zeros past the end of a shorter
 * backing file count as allocated in it, without a host offset. */
static unsigned qemu_flags(const gk_extent *e)
{
    if (e->flags & GK_BS_BEYOND)
        return GK_BS_ZERO | GK_BS_ALLOCATED | (e->flags & GK_BS_EOF);
    return e->flags & (GK_BS_DATA | GK_BS_ZERO | GK_BS_OFFSET | GK_BS_ALLOCATED | GK_BS_EOF);
}

static unsigned status(gk_dev *d, const char *name, uint64_t off, uint64_t len, uint64_t *pnum)
{
    gk_extent e;
    if (gk_block_status_above(d, NULL, off, len, &e) < 0) {
        gk_warn("%s", gk_errmsg());
        gk_die_status(3, "Sector allocation test failed for %s", name);
    }
    *pnum = e.len;
    return qemu_flags(&e);
}

static void read_or_die(gk_dev *d, const char *name, unsigned char *buf, uint64_t n, uint64_t off)
{
    if (gk_pread(d, buf, n, off) < 0)
        gk_die_status(4, "Error while reading offset %" PRIu64 " of %s: %s", off, name, gk_errmsg());
}

/* qemu-img's check_empty_sectors(): 1 after printing the mismatch. */
static int not_empty(gk_dev *d, const char *name, unsigned char *buf, uint64_t off, uint64_t n, int quiet)
{
    read_or_die(d, name, buf, n, off);
    int64_t i = find_nonzero(buf, n);
    if (i < 0)
        return 0;
    if (!quiet)
        printf("Content mismatch at offset %" PRIu64 "!\n", off + (uint64_t)i);
    return 1;
}

int cmd_compare(gimg_args *a)
{
    const char *fmt2 = NULL;
    int strict = 0;
    for (int i = 0; i < a->nopts; i++) {
        if (a->opts[i].opt == 'F')
            fmt2 = a->opts[i].arg;
        else if (a->opts[i].opt == 's')
            strict = 1;
    }
    if (fmt2 && gk_format_check(fmt2) < 0)
        gk_die_status(2, "Unknown file format '%s'", fmt2);
    if (a->nargs != 2)
        gimg_usage_error(a, "Expecting two image file names");
    const char *p1 = a->args[0], *p2 = a->args[1];
    /* -f is the format of the first image only, -F of the second: an image
     * without one is probed (qemu-img 7.2) */
    gk_dev *d1 = gimg_open(a, p1, a->fmt, 0, 2);
    gk_dev *d2 = gimg_open(a, p2, fmt2, 0, 2);
    gimg_sandbox(a, 2, 0, 0);
    uint64_t s1 = d1->size, s2 = d2->size, total = s1 < s2 ? s1 : s2;
    uint64_t base = s1 > s2 ? s1 : s2;
    unsigned char *b1 = gk_malloc(CMP_CHUNK), *b2 = gk_malloc(CMP_CHUNK);
    struct progress *pr = &a->progress;
    int rc = 1;

    progress_print(pr, 0, 1);
    if (strict && s1 != s2) {
        if (!a->quiet)
            printf("Strict mode: Image size mismatch!\n");
        goto out;
    }
    uint64_t off = 0;
    while (off < total) {
        uint64_t n1, n2;
        unsigned st1 = status(d1, p1, off, s1 - off, &n1);
        unsigned st2 = status(d2, p2, off, s2 - off, &n2);
        int al1 = !!(st1 & GK_BS_ALLOCATED), al2 = !!(st2 & GK_BS_ALLOCATED);
        uint64_t chunk = n1 < n2 ? n1 : n2;
        if (strict && st1 != st2) {
            if (!a->quiet)
                printf("Strict mode: Offset %" PRIu64 " block status mismatch!\n", off);
            goto out;
        }
        if ((st1 & GK_BS_ZERO) && (st2 & GK_BS_ZERO)) {
            /* nothing to do */
        } else if (al1 == al2) {
            if (al1) {
                if (chunk > CMP_CHUNK)
                    chunk = CMP_CHUNK;
                read_or_die(d1, p1, b1, chunk, off);
                read_or_die(d2, p2, b2, chunk, off);
                /* qemu-img's compare_buffers(): the first sector that differs */
                for (uint64_t i = 0; i < chunk; i += 512) {
                    uint64_t k = chunk - i < 512 ? chunk - i : 512;
                    if (memcmp(b1 + i, b2 + i, k) != 0) {
                        if (!a->quiet)
                            printf("Content mismatch at offset %" PRIu64 "!\n", off + i);
                        goto out;
                    }
                }
            }
        } else {
            if (chunk > CMP_CHUNK)
                chunk = CMP_CHUNK;
            if (al1 ? not_empty(d1, p1, b1, off, chunk, a->quiet) : not_empty(d2, p2, b1, off, chunk, a->quiet))
                goto out;
        }
        off += chunk;
        progress_print(pr, (double)off * 100.0 / (double)base, 0);
    }
    if (s1 != s2) {
        gk_dev *over = s1 > s2 ? d1 : d2;
        const char *po = s1 > s2 ? p1 : p2;
        if (!a->quiet)
            printf("Warning: Image size mismatch!\n");
        while (off < base) {
            uint64_t chunk;
            unsigned st = status(over, po, off, base - off, &chunk);
            if ((st & GK_BS_ALLOCATED) && !(st & GK_BS_ZERO)) {
                if (chunk > CMP_CHUNK)
                    chunk = CMP_CHUNK;
                if (not_empty(over, po, b1, off, chunk, a->quiet))
                    goto out;
            }
            off += chunk;
            progress_print(pr, (double)off * 100.0 / (double)base, 0);
        }
    }
    progress_end(pr);
    if (!a->quiet)
        printf("Images are identical.\n");
    rc = 0;
out:
    free(b1);
    free(b2);
    gk_dev_unref(d1);
    gk_dev_unref(d2);
    return rc;
}
