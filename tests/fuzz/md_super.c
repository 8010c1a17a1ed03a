/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the input is an md superblock (each version's parser
 * is tried on it, checksums not required so that the fuzzer gets past
 * them); a parsed one is assembled into an array whose members are all a
 * zero device (one missing too) and read at its start, middle and end,
 * which exercises the address arithmetic of every level and layout. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blk-int.h"

static int zero_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    (void)d; (void)off;
    memset(buf, 0, n);
    return 0;
}

static const struct gk_dev_ops zero_ops = {.name = "zero", .pread = zero_pread};

static void try_array(const gk_md_super *sb, uint64_t devsize, int drop)
{
    int n = (int)sb->raid_disks;
    if (n > 16)
        return;
    gk_md_super sbs[16];
    gk_dev *m[16] = {0};
    gk_dev *z = gk_dev_new(&zero_ops, "zero", devsize, NULL);
    for (int r = 0; r < n; r++) {
        sbs[r] = *sb;
        m[r] = r == drop ? NULL : z;
    }
    gk_dev *a = gk_md_open(sbs, m, n, "/dev/md127");
    if (a) {
        static uint8_t buf[1 << 17];
        uint64_t len = a->size < sizeof buf ? a->size : sizeof buf;
        gk_pread(a, buf, (size_t)len, 0);
        gk_pread(a, buf, (size_t)len, a->size - len);
        gk_pread(a, buf, (size_t)(len / 2), a->size / 3);
        gk_dev_unref(a);
    }
    gk_dev_unref(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int minors[] = {0, 1, 2, 90};
    for (size_t i = 0; i < sizeof minors / sizeof *minors; i++) {
        gk_md_super sb;
        uint64_t devsize = 1ull << 30;       /* 1 GiB members */
        if (gk_md_super_parse(data, size, devsize, minors[i], 0, &sb) == 0) {
            try_array(&sb, devsize, -1);
            try_array(&sb, devsize, 0);
        }
    }
    return 0;
}
