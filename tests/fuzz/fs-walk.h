/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the filesystem fuzz targets do with a filesystem that opened: a
 * bounded breadth-first walk of its tree through the driver operations
 * (every read-side op the driver has), plus statvfs.  lookup_name is
 * looked up in each directory (also ignoring case, where the driver can). */
#ifndef GK_FUZZ_FS_WALK_H
#define GK_FUZZ_FS_WALK_H

#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fs-int.h"

struct fuzz_ents { uint64_t ino[64]; int n; };

static int fuzz_collect(void *opaque, const char *name, uint64_t ino, int d_type)
{
    (void)name; (void)d_type;
    struct fuzz_ents *e = opaque;
    if (e->n < 64)
        e->ino[e->n++] = ino;
    return e->n >= 64;
}

static void fuzz_fs_walk(gk_fs *fs, const char *lookup_name)
{
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
        ssize_t nl = fs->ops->listxattr ? fs->ops->listxattr(fs, ino, names, sizeof names) : 0;
        if (nl > 0 && (size_t)nl <= sizeof names && names[nl - 1] == 0 && fs->ops->getxattr)
            fs->ops->getxattr(fs, ino, names, buf, sizeof buf);
        if (S_ISDIR(st.mode)) {
            struct fuzz_ents e = {.n = 0};
            fs->ops->readdir(fs, ino, fuzz_collect, &e);
            uint64_t x;
            fs->ops->lookup(fs, ino, lookup_name, &x);
            char *real = NULL;
            if (fs->ops->lookup_nocase && fs->ops->lookup_nocase(fs, ino, lookup_name, &x, &real) == 0)
                free(real);
            for (int i = 0; i < e.n && tail < 256; i++)
                queue[tail++] = e.ino[i];
        } else if (S_ISREG(st.mode)) {
            fs->ops->read(fs, ino, buf, sizeof buf, 0);
            fs->ops->read(fs, ino, buf, 5000, st.size > 3000 ? st.size - 3000 : 0);
            gk_fmap *m;
            size_t n;
            if (fs->ops->fmap && fs->ops->fmap(fs, ino, &m, &n) == 0)
                free(m);
        } else if (S_ISLNK(st.mode) && fs->ops->readlink) {
            fs->ops->readlink(fs, ino, (char *)buf, 4096);
        }
    }
}

#endif
