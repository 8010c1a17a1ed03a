/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest session: the disks of one VM, their devices, and what is
 * mounted.  Every tool and gfsh starts here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

gk_guest *gk_guest_new(void)
{
    gk_guest *g = gk_calloc(1, sizeof *g);
    g->devs = gk_devset_new();
    g->vfs = gk_vfs_new();
    return g;
}

void gk_guest_free(gk_guest *g)
{
    if (!g)
        return;
    gk_vfs_free(g->vfs);
    gk_devset_free(g->devs);
    gk_inspect_free(g);        /* fs/inspect.c owns what it allocated */
    free(g);
}

int gk_guest_add_drive(gk_guest *g, const char *path, const gk_open_opts *opts)
{
    if (g->launched) {
        gk_error("%s: drives must be added before launch", path);
        return -1;
    }
    gk_dev *d = gk_open_image(path, opts);
    if (!d)
        return -1;
    return gk_devset_add_disk(g->devs, d);
}

int gk_guest_launch(gk_guest *g)
{
    if (g->launched)
        return 0;
    if (gk_devset_scan(g->devs) < 0)
        return -1;
    g->launched = 1;
    return 0;
}

int gk_guest_mount(gk_guest *g, const char *device, const char *mountpoint)
{
    return gk_guest_mount_opts(g, device, mountpoint, NULL, NULL);
}

int gk_guest_mount_opts(gk_guest *g, const char *device, const char *mountpoint,
                        const char *options, const char *fstype)
{
    gk_devent *e = gk_devset_find(g->devs, device);
    if (!e)
        return -1;
    if (!e->dev) {
        gk_error("%s: %s", e->name, e->open_error ? e->open_error : "cannot be opened");
        return -1;
    }
    gk_fs_open_args a = {
        .fstype = fstype && *fstype ? fstype : e->probe.type,
        .options = options,
        .rw = g->readwrite,
        .devs = g->devs,
    };
    gk_fs *fs = gk_fs_open_with(e->dev, &a);
    if (!fs) {
        gk_error_prefix("%s", e->name);
        return -1;
    }
    if (gk_vfs_mount(g->vfs, fs, mountpoint, e->name) < 0) {
        gk_fs_close(fs);
        return -1;
    }
    return 0;
}

/* libguestfs' -i mounts shortest mountpoint first, ties by name, so that
 * /usr is mounted before /usr/local. */
static int mp_cmp(const void *a, const void *b)
{
    const gk_mp *x = a, *y = b;
    size_t lx = strlen(x->mountpoint), ly = strlen(y->mountpoint);
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return strcmp(x->mountpoint, y->mountpoint);
}

int gk_guest_mount_inspected(gk_guest *g)
{
    if (gk_guest_launch(g) < 0)
        return -1;
    if (!g->inspected) {
        if (gk_inspect_os(g) < 0)
            return -1;
        g->inspected = 1;
    }
    if (g->noses == 0) {
        gk_error("no operating system was found on the disk image(s); "
                 "use -m DEV to mount a filesystem by hand (gfilesystems lists them)");
        return -1;
    }
    if (g->noses > 1) {
        size_t len = 0;
        for (int i = 0; i < g->noses; i++)
            len += strlen(g->oses[i].root ? g->oses[i].root : "?") + 2;
        char *roots = gk_calloc(1, len + 1);
        for (int i = 0; i < g->noses; i++) {
            if (i)
                strcat(roots, ", ");
            strcat(roots, g->oses[i].root ? g->oses[i].root : "?");
        }
        gk_error("multi-boot operating systems are not supported (roots: %s); "
                 "use -m DEV to choose one", roots);
        free(roots);
        return -1;
    }
    gk_os *os = &g->oses[0];
    if (!os->root) {
        gk_error("inspection found an operating system without a root device");
        return -1;
    }
    if (gk_guest_mount(g, os->root, "/") < 0)
        return -1;
    gk_mp *mps = NULL;
    if (os->nmps > 0) {
        mps = gk_malloc(os->nmps * sizeof *mps);
        memcpy(mps, os->mps, os->nmps * sizeof *mps);
        qsort(mps, os->nmps, sizeof *mps, mp_cmp);
    }
    for (int i = 0; i < os->nmps; i++) {
        const char *mp = mps[i].mountpoint, *dev = mps[i].dev;
        if (!mp || !dev || strcmp(mp, "/") == 0)
            continue;
        if (gk_guest_mount(g, dev, mp) < 0)
            gk_warn("%s on %s: %s (ignored)", dev, mp, gk_errmsg());
    }
    free(mps);
    return 0;
}
