/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the input is the start of a FAT12/16/32 filesystem on
 * a 64 MiB device whose bytes beyond the input read as zeros (so FAT16/32
 * seeds fit the fuzzer's length limit); open it with the fat driver, walk
 * a bounded part of the tree, read files, statvfs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blk-int.h"
#include "fs-int.h"
#include "fs-walk.h"

struct mem { const uint8_t *data; size_t size; };

static int mem_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    struct mem *m = d->priv;
    memset(buf, 0, n);
    if (off < m->size)
        memcpy(buf, m->data + off, m->size - off < n ? m->size - off : n);
    return 0;
}

static const struct gk_dev_ops mem_ops = {.name = "mem", .pread = mem_pread};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mem m = {data, size};
    gk_dev *d = gk_dev_new(&mem_ops, "fuzz.img", 64u << 20, &m);
    gk_fs_open_args a = {.fstype = "vfat"};
    gk_fs *fs = gk_fs_open_with(d, &a);
    if (fs) {
        fuzz_fs_walk(fs, "a long name.txt..");
        uint64_t x;
        fs->ops->lookup(fs, fs->root_ino, "EFI", &x);
        gk_fs_close(fs);
    }
    gk_dev_unref(d);
    return 0;
}
