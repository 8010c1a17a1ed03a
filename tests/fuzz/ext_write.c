/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the input is an ext2/3/4 image; open it read-write (on
 * a private in-memory copy) and make changes through the write side: files
 * created, written, truncated, renamed, removed, a directory made and
 * removed, xattrs, a symlink, then the commit at close.  Whatever the
 * image holds, nothing may crash or read/write out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "blk-int.h"
#include "fs-int.h"

static int mem_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    memcpy(buf, (const uint8_t *)d->priv + off, n);
    return 0;
}

static int mem_pwrite(gk_dev *d, const void *buf, size_t n, uint64_t off)
{
    memcpy((uint8_t *)d->priv + off, buf, n);
    return 0;
}

static int mem_flush(gk_dev *d)
{
    (void)d;
    return 0;
}

static const struct gk_dev_ops mem_ops = {
    .name = "mem", .pread = mem_pread, .pwrite = mem_pwrite, .flush = mem_flush,
};

struct names { char name[64][256]; uint64_t ino[64]; int n; };

static int collect(void *opaque, const char *name, uint64_t ino, int d_type)
{
    (void)d_type;
    struct names *e = opaque;
    if (e->n < 64 && strlen(name) < 256) {
        strcpy(e->name[e->n], name);
        e->ino[e->n++] = ino;
    }
    return e->n >= 64;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    gk_dev *d = gk_dev_new(&mem_ops, "fuzz.img", size, copy);
    d->readonly = 0;
    gk_fs *fs = gk_fs_open(d, NULL, 1);
    if (fs) {
        static uint8_t buf[20000];
        memset(buf, 'x', sizeof buf);
        uint64_t root = fs->root_ino, f = 0, dir = 0, ino;
        if (fs->ops->create(fs, root, "fz-file", 0644, 0, 0, &f) == 0) {
            fs->ops->write(fs, f, buf, sizeof buf, 0);
            fs->ops->write(fs, f, buf, 100, 3000);
            fs->ops->truncate(fs, f, 7000);
            fs->ops->setxattr(fs, f, "user.fz", "v", 1, 0);
            fs->ops->chmod(fs, f, 0600);
        }
        if (fs->ops->mkdir(fs, root, "fz-dir", 0755, 0, 0, &dir) == 0) {
            fs->ops->symlink(fs, dir, "ln", "../fz-file", 0, 0, &ino);
            fs->ops->rename(fs, root, "fz-file", dir, "moved", 0);
            fs->ops->link(fs, f, root, "fz-hard");
            fs->ops->unlink(fs, dir, "moved");
            fs->ops->unlink(fs, dir, "ln");
            fs->ops->rmdir(fs, root, "fz-dir");
        }
        /* what the image itself holds */
        struct names e = {.n = 0};
        fs->ops->readdir(fs, root, collect, &e);
        for (int i = 0; i < e.n && i < 8; i++) {
            gk_stat st;
            if (fs->ops->getattr(fs, e.ino[i], &st) < 0)
                continue;
            if (S_ISREG(st.mode)) {
                fs->ops->write(fs, e.ino[i], buf, 500, st.size / 2);
                fs->ops->truncate(fs, e.ino[i], st.size / 3);
                fs->ops->unlink(fs, root, e.name[i]);
            } else if (S_ISDIR(st.mode) && strcmp(e.name[i], "lost+found") != 0) {
                fs->ops->create(fs, e.ino[i], "fz-in", 0644, 0, 0, &ino);
                fs->ops->rename(fs, root, e.name[i], root, "fz-renamed", 0);
                fs->ops->rmdir(fs, root, "fz-renamed");
            }
        }
        fs->ops->sync(fs);
        gk_fs_close(fs);
    }
    gk_dev_unref(d);
    free(copy);
    return 0;
}
