/* libFuzzer target: open an arbitrary file as qcow2 (untrusted), read a few
 * ranges, walk block status, list info and run the checker. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk.h"

static char *path, *tmpdir;

static void cleanup(void)
{
    unlink(path);
    rmdir(tmpdir);
}

static void setup(void)
{
    /* tmpfs if there is one: the input is rewritten for every run */
    static char shm[] = "/dev/shm/gkfuzz-qcow2.XXXXXX", tmp[] = "/tmp/gkfuzz-qcow2.XXXXXX";
    char *dir = mkdtemp(shm);
    if (!dir && !(dir = mkdtemp(tmp)))
        abort();
    path = gk_asprintf("%s/in.qcow2", dir);
    tmpdir = dir;
    atexit(cleanup);
    /* never look outside this directory for backing or data files */
    setenv("GUESTKIT_L2_CACHE", "65536", 1);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path)
        setup();
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        abort();
    if (write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);

    gk_open_opts o = { 0 };
    o.format = "qcow2";
    o.untrusted = 1;
    o.force_share = 1;
    gk_dev *d = gk_open_image(path, &o);
    if (!d)
        return 0;
    exercise(d);
    gk_image_info info;
    if (gk_image_info_get(d, &info) == 0)
        gk_image_info_free(&info);
    gk_check_result r;
    if (gk_image_check(d, &r) == 0)
        gk_check_result_free(&r);
    gk_dev_unref(d);

    /* the first snapshot, if any */
    o.snapshot = "1";
    d = gk_open_image(path, &o);
    if (d) {
        exercise(d);
        gk_dev_unref(d);
    }
    return 0;
}
