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
    /* inspection results are freed by their owner (fs/inspect.c) */
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
    gk_devent *e = gk_devset_find(g->devs, device);
    if (!e)
        return -1;
    if (!e->dev) {
        gk_error("%s: %s", e->name, e->open_error ? e->open_error : "cannot be opened");
        return -1;
    }
    gk_fs *fs = gk_fs_open(e->dev, e->probe.type, g->readwrite);
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
