/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The device core: raw images, bounds checks, slices, block status. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk-int.h"
#include "tap.h"

int main(void)
{
    char dir[] = "/tmp/gkunit.XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char *path = gk_asprintf("%s/raw.img", dir);
    int fd = open(path, O_CREAT | O_RDWR, 0644);
    unsigned char buf[4096];
    for (int i = 0; i < 4096; i++)
        buf[i] = (unsigned char)i;
    /* data at 1 MiB, a hole before it, 2 MiB in all */
    ok(pwrite(fd, buf, 4096, 1 << 20) == 4096, "write test data");
    ok(ftruncate(fd, 2 << 20) == 0, "size the image");
    close(fd);

    gk_dev *d = gk_open_image(path, NULL);
    ok(d != NULL, "open raw image (probed)");
    is_int(d->size, 2 << 20, "size of raw image");
    unsigned char got[4096];
    ok(gk_pread(d, got, 4096, 1 << 20) == 0 && memcmp(got, buf, 4096) == 0, "read back data");
    ok(gk_pread(d, got, 2, (2 << 20) - 1) < 0, "read past the end refused");
    ok(strstr(gk_errmsg(), "beyond the end") != NULL, "with a message: %s", gk_errmsg());

    gk_extent e;
    ok(gk_block_status(d, 0, d->size, &e) == 0, "block status at 0");
    ok((e.flags & GK_BS_ZERO) && e.len == 1 << 20, "leading hole is zero, %llu bytes",
       (unsigned long long)e.len);
    ok(gk_block_status(d, 1 << 20, d->size - (1 << 20), &e) == 0 && (e.flags & GK_BS_DATA),
       "data after the hole");

    gk_dev *s = gk_dev_slice(d, (1 << 20) + 256, 1024, "/dev/sda1");
    ok(s != NULL, "slice");
    ok(gk_pread(s, got, 16, 0) == 0 && memcmp(got, buf + 256, 16) == 0, "slice reads its window");
    ok(gk_pread(s, got, 16, 1020) < 0, "slice refuses to read past its end");
    ok(gk_dev_slice(d, 2 << 20, 1, "x") == NULL, "slice outside the parent refused");
    gk_dev_unref(d);  /* the slice still holds the parent */
    ok(gk_pread(s, got, 16, 0) == 0 && memcmp(got, buf + 256, 16) == 0, "slice keeps parent alive");
    gk_dev_unref(s);

    ok(gk_open_image("/nonexistent/x.img", NULL) == NULL, "missing file");
    is_str(gk_errmsg(), "/nonexistent/x.img: No such file or directory", "message names the file");

    char hs[32];
    gk_human_size_qemu(196624, hs, sizeof hs);
    is_str(hs, "192 KiB", "qemu-style human size");
    gk_human_size_qemu(1073741824, hs, sizeof hs);
    is_str(hs, "1 GiB", "qemu-style human size, GiB");
    gk_human_size_qemu(1023 * 1024, hs, sizeof hs); /* qemu-img info of a 1023 KiB raw image */
    is_str(hs, "0.999 MiB", "qemu-style human size switches unit at 1000");
    gk_human_size_qemu(512, hs, sizeof hs);
    is_str(hs, "512 B", "qemu-style human size, bytes");

    unlink(path);
    rmdir(dir);
    free(path);
    return done_testing();
}
