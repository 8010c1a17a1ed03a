/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the input is the start of a FAT12/16/32 filesystem on
 * a 64 MiB device whose bytes beyond the input read as zeros (so FAT16/32
 * seeds fit the fuzzer's length limit); open it with the fat driver, walk
 * a bounded part of the tree, read files, statvfs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blk.h"
#include "fs-int.h"

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

struct ents { uint64_t ino[64]; int n; };

static int collect(void *opaque, const char *name, uint64_t ino, int d_type)
{
    (void)name; (void)d_type;
    struct ents *e = opaque;
    if (e->n < 64)
        e->ino[e->n++] = ino;
    return e->n >= 64;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mem m = {data, size};
    gk_dev *d = gk_dev_new(&mem_ops, "fuzz.img", 64u << 20, &m);
    gk_fs_open_args a = {.fstype = "vfat"};
    gk_fs *fs = gk_fs_open_with(d, &a);
    if (fs) {
        static uint8_t buf[70000];
        gk_statvfs sv;
        fs->ops->statvfs(fs, &sv);
        uint64_t queue[256];
        int head = 0, tail = 0, visited = 0;
        queue[tail++] = fs->root_ino;
        while (head < tail && visited++ < 200) {
            uint64_t ino = queue[head++];
            gk_stat st;
            if (fs->ops->getattr(fs, ino, &st) < 0)
                continue;
            if (S_ISDIR(st.mode)) {
                struct ents e = {.n = 0};
                fs->ops->readdir(fs, ino, collect, &e);
                uint64_t x;
                fs->ops->lookup(fs, ino, "EFI", &x);
                fs->ops->lookup(fs, ino, "a long name.txt..", &x);
                for (int i = 0; i < e.n && tail < 256; i++)
                    queue[tail++] = e.ino[i];
            } else if (S_ISREG(st.mode)) {
                fs->ops->read(fs, ino, buf, sizeof buf, 0);
                fs->ops->read(fs, ino, buf, 5000, st.size > 3000 ? st.size - 3000 : 0);
            }
        }
        gk_fs_close(fs);
    }
    gk_dev_unref(d);
    return 0;
}
