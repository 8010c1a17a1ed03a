/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the input is an ext2/3/4 image; open it with the ext
 * driver (journal replay included) and walk a bounded part of the tree. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blk.h"
#include "fs-int.h"

static int mem_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    memcpy(buf, (const uint8_t *)d->priv + off, n);
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
    gk_dev *d = gk_dev_new(&mem_ops, "fuzz.img", size, (void *)data);
    gk_fs *fs = gk_fs_open(d, NULL, 0);
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
            char names[1024];
            ssize_t nl = fs->ops->listxattr(fs, ino, names, sizeof names);
            if (nl > 0 && (size_t)nl <= sizeof names && names[nl - 1] == 0)
                fs->ops->getxattr(fs, ino, names, buf, sizeof buf);
            if (S_ISDIR(st.mode)) {
                struct ents e = {.n = 0};
                fs->ops->readdir(fs, ino, collect, &e);
                uint64_t x;
                fs->ops->lookup(fs, ino, "lost+found", &x);
                for (int i = 0; i < e.n && tail < 256; i++)
                    queue[tail++] = e.ino[i];
            } else if (S_ISREG(st.mode)) {
                fs->ops->read(fs, ino, buf, sizeof buf, 0);
                fs->ops->read(fs, ino, buf, 5000, st.size > 3000 ? st.size - 3000 : 0);
                gk_fmap *m;
                size_t n;
                if (fs->ops->fmap(fs, ino, &m, &n) == 0)
                    free(m);
            } else if (S_ISLNK(st.mode)) {
                fs->ops->readlink(fs, ino, (char *)buf, 4096);
            }
        }
        gk_fs_close(fs);
    }
    gk_dev_unref(d);
    return 0;
}
