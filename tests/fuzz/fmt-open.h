/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The body of the image format fuzz targets (qcow2_open.c, vmdk_open.c,
 * ...): write the input to a private scratch directory, open it as
 * FUZZ_FORMAT (untrusted: nothing outside that directory is followed), read
 * a few ranges, walk block status, get its info, run its check.  A file the
 * input names (an extent, a parent) finds nothing beside it but itself.
 * A target may define FUZZ_SETUP() (run first) and FUZZ_AGAIN(path, o)
 * (run after a successful open, e.g. to open a snapshot: exercise() is
 * there to use). */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk.h"

static char *scratch(char **path)
{
    static const char *bases[] = { "/dev/shm", "/tmp" };
    for (int i = 0; i < 2; i++) {
        char *dir = gk_asprintf("%s/gkfuzz-" FUZZ_FORMAT ".XXXXXX", bases[i]);
        if (mkdtemp(dir)) {
            *path = gk_asprintf("%s/in." FUZZ_FORMAT, dir);
            return dir;
        }
        free(dir);
    }
    abort();
}

static void exercise(gk_dev *d)
{
    static uint8_t buf[70000];
    uint64_t offs[] = { 0, d->size / 2, d->size > 65536 ? d->size - 65536 : 0, 512 * 1023 + 17 };
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        uint64_t off = offs[i];
        if (off >= d->size)
            continue;
        size_t n = d->size - off < 65536 + 1000 ? (size_t)(d->size - off) : 65536 + 1000;
        (void)gk_pread(d, buf, n, off);
    }
    uint64_t off = 0;
    for (int i = 0; i < 64 && off < d->size; i++) {
        gk_extent e;
        if (gk_block_status(d, off, d->size - off, &e) < 0 || e.len == 0)
            break;
        off += e.len;
    }
}

#ifndef FUZZ_SETUP
#define FUZZ_SETUP() ((void)0)
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FUZZ_SETUP();
    char *path, *dir = scratch(&path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
    gk_open_opts o = { 0 };
    o.format = FUZZ_FORMAT;
    o.untrusted = 1;
    o.force_share = 1;
    gk_dev *d = gk_open_image(path, &o);
    if (d) {
        exercise(d);
        gk_image_info info;
        if (gk_image_info_get(d, &info) == 0)
            gk_image_info_free(&info);
        gk_check_result r;
        (void)gk_image_check(d, &r);
        gk_check_result_free(&r); /* a failed check may hold messages too */
        gk_dev_unref(d);
#ifdef FUZZ_AGAIN
        FUZZ_AGAIN(path, &o);
#endif
    }
    unlink(path);
    rmdir(dir);
    free(path);
    free(dir);
    return 0;
}
