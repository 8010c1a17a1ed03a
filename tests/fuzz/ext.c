/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the input is an ext2/3/4 image; open it with the ext
 * driver (journal replay included) and walk a bounded part of the tree. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blk-int.h"
#include "fs-int.h"
#include "fs-walk.h"

static int mem_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    memcpy(buf, (const uint8_t *)d->priv + off, n);
    return 0;
}

static const struct gk_dev_ops mem_ops = {.name = "mem", .pread = mem_pread};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gk_dev *d = gk_dev_new(&mem_ops, "fuzz.img", size, (void *)data);
    gk_fs *fs = gk_fs_open(d, NULL, 0);
    if (fs) {
        fuzz_fs_walk(fs, "lost+found");
        gk_fs_close(fs);
    }
    gk_dev_unref(d);
    return 0;
}
