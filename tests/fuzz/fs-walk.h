/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the filesystem fuzz targets do with a filesystem that opened: a
 * bounded breadth-first walk of its tree through the driver operations
 * (every read-side op the driver has), plus statvfs.  lookup_name (also
 * ignoring case, where the driver can) and the first names readdir gave are
 * looked up in each directory; every attribute listed is read. */
#ifndef GK_FUZZ_FS_WALK_H
#define GK_FUZZ_FS_WALK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs-int.h"

struct fuzz_ents { uint64_t ino[64]; char name[4][256]; int n; };

static int fuzz_collect(void *opaque, const char *name, uint64_t ino, int d_type)
{
    (void)d_type;
    struct fuzz_ents *e = opaque;
    if (e->n < 4)
        snprintf(e->name[e->n], sizeof e->name[0], "%s", name);
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
        static char names[4096];
        ssize_t nl = fs->ops->listxattr ? fs->ops->listxattr(fs, ino, names, sizeof names) : 0;
        if (nl > 0 && (size_t)nl <= sizeof names && names[nl - 1] == 0 && fs->ops->getxattr)
            for (ssize_t i = 0, k = 0; i < nl && k < 8; i += (ssize_t)strlen(names + i) + 1, k++)
                fs->ops->getxattr(fs, ino, names + i, buf, sizeof buf);
        if (S_ISDIR(st.mode)) {
            struct fuzz_ents e = {.n = 0};
            fs->ops->readdir(fs, ino, fuzz_collect, &e);
            uint64_t x;
            fs->ops->lookup(fs, ino, lookup_name, &x);
            char *real = NULL;
            if (fs->ops->lookup_nocase && fs->ops->lookup_nocase(fs, ino, lookup_name, &x, &real) == 0)
                free(real);
            for (int i = 0; i < e.n && i < 4; i++)
                fs->ops->lookup(fs, ino, e.name[i], &x);
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
