/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whole-image changes (snapshots, the backing file, emptying): the public
 * entry points, each one slot of the image's format (lib/blk-int.h). */
#include <errno.h>

#include "blk-int.h"

static int call_result(int r)
{
    if (r < 0) {
        errno = -r;
        return -1;
    }
    return 0;
}

static int writable_image(gk_dev *d, const void *slot)
{
    if (!d->format) {
        gk_error("%s: not an image", d->name);
        errno = EINVAL;
        return -1;
    }
    if (!slot) {
        gk_error("%s: Operation not supported", d->name);
        errno = ENOTSUP;
        return -1;
    }
    if (d->readonly) {
        gk_error("%s: image is not open for writing", d->name);
        errno = EROFS;
        return -1;
    }
    return 0;
}

int gk_snapshot_create(gk_dev *d, const char *name)
{
    if (writable_image(d, d->format ? (const void *)d->format->snapshot_create : NULL) < 0)
        return -1;
    return call_result(d->format->snapshot_create(d, name));
}

int gk_snapshot_goto(gk_dev *d, const char *id_or_name)
{
    if (writable_image(d, d->format ? (const void *)d->format->snapshot_goto : NULL) < 0)
        return -1;
    return call_result(d->format->snapshot_goto(d, id_or_name));
}

int gk_snapshot_delete(gk_dev *d, const char *id, const char *name)
{
    if (writable_image(d, d->format ? (const void *)d->format->snapshot_delete : NULL) < 0)
        return -1;
    return call_result(d->format->snapshot_delete(d, id, name));
}

int gk_image_set_backing(gk_dev *d, const char *name, const char *fmt)
{
    if (writable_image(d, d->format ? (const void *)d->format->set_backing : NULL) < 0)
        return -1;
    return call_result(d->format->set_backing(d, name && *name ? name : NULL, name && *name ? fmt : NULL));
}

int gk_image_can_set_backing(gk_dev *d)
{
    return d->format && d->format->set_backing;
}

int gk_image_can_repair(gk_dev *d)
{
    return d->format && d->format->repair;
}

int gk_image_make_empty(gk_dev *d)
{
    if (writable_image(d, d->format ? (const void *)d->format->make_empty : NULL) < 0)
        return -1;
    return call_result(d->format->make_empty(d));
}

const char *gk_image_location(gk_dev *d)
{
    return d->file ? d->file->name : d->name;
}
