/* SPDX-License-Identifier: GPL-2.0-or-later */
/* For the filesystem fuzz targets: walk a bounded part of an opened gk_fs
 * through every read operation of its driver (statvfs; getattr, xattrs,
 * readdir and lookups of the names found and of a few others; reads at the
 * start and near the end of files; fmap; readlink).  Driver errors are the
 * expected outcome on mutated input: only crashes, hangs and leaks count. */
#ifndef GK_FSWALK_H
#define GK_FSWALK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs-int.h"

#define FSWALK_ENTS 64

struct fswalk_ents {
    uint64_t ino[FSWALK_ENTS];
    char name[4][256];
    int n;
};

static int fswalk_collect(void *opaque, const char *name, uint64_t ino, int d_type)
{
    (void)d_type;
    struct fswalk_ents *e = opaque;
    if (e->n < 4)
        snprintf(e->name[e->n], sizeof e->name[0], "%s", name);
    if (e->n < FSWALK_ENTS)
        e->ino[e->n++] = ino;
    return e->n >= FSWALK_ENTS;
}

/* extra: names worth looking up in every directory ("lost+found", ...). */
static void fswalk(gk_fs *fs, const char *const *extra)
{
    static uint8_t buf[70000];
    static char names[4096];
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
        if (fs->ops->listxattr) {
            ssize_t nl = fs->ops->listxattr(fs, ino, names, sizeof names);
            if (nl > 0 && (size_t)nl <= sizeof names && names[nl - 1] == 0)
                for (ssize_t i = 0; i < nl; i += (ssize_t)strlen(names + i) + 1)
                    fs->ops->getxattr(fs, ino, names + i, buf, sizeof buf);
        }
        if (S_ISDIR(st.mode)) {
            struct fswalk_ents e = {.n = 0};
            fs->ops->readdir(fs, ino, fswalk_collect, &e);
            uint64_t x;
            for (int i = 0; i < e.n && i < 4; i++)
                fs->ops->lookup(fs, ino, e.name[i], &x);
            for (int i = 0; extra && extra[i]; i++)
                fs->ops->lookup(fs, ino, extra[i], &x);
            for (int i = 0; i < e.n && tail < 256; i++)
                queue[tail++] = e.ino[i];
        } else if (S_ISREG(st.mode)) {
            fs->ops->read(fs, ino, buf, sizeof buf, 0);
            fs->ops->read(fs, ino, buf, 5000, st.size > 3000 ? st.size - 3000 : 0);
            gk_fmap *m;
            size_t n;
            if (fs->ops->fmap && fs->ops->fmap(fs, ino, &m, &n) == 0)
                free(m);
        } else if (S_ISLNK(st.mode)) {
            fs->ops->readlink(fs, ino, (char *)buf, 4096);
        }
    }
}

#endif
