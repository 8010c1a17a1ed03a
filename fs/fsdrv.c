/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The filesystem driver table and gk_fs_open_with: which driver opens a
 * device, and the small accessors of the opaque gk_fs. */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init: see gk_sha256 in fs-int.h */
#include <errno.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "fs-int.h"

void gk_sha256(const void *p, size_t n, uint8_t out[32])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, p, n);
    SHA256_Final(out, &c);
}

/* Every filesystem driver, one line each.  Order matters only for probing
 * a device blkid could not name. */
static const struct gk_fs_driver *const drivers[] = {
    &gk_fsdrv_ext,
    &gk_fsdrv_fat,
    &gk_fsdrv_btrfs,
    &gk_fsdrv_xfs,
    &gk_fsdrv_ntfs,
    &gk_fsdrv_bitlocker,
};
#define NDRIVERS (sizeof drivers / sizeof drivers[0])

static const struct gk_fs_driver *driver_for(const char *fstype)
{
    for (size_t i = 0; i < NDRIVERS; i++)
        for (const char *const *t = drivers[i]->types; *t; t++)
            if (strcmp(fstype, *t) == 0)
                return drivers[i];
    return NULL;
}

int gk_fs_supported(const char *fstype)
{
    return fstype && driver_for(fstype) != NULL;
}

gk_fs *gk_fs_alloc(const struct gk_fs_ops *ops, gk_dev *dev, const char *type, void *priv)
{
    gk_fs *fs = gk_calloc(1, sizeof *fs);
    fs->ops = ops;
    fs->dev = dev;
    gk_dev_ref(dev);
    fs->readonly = 1;
    fs->type = gk_strdup(type);
    fs->priv = priv;
    return fs;
}

gk_fs *gk_fs_open_with(gk_dev *dev, const gk_fs_open_args *a)
{
    const struct gk_fs_driver *drv = NULL;
    if (a->fstype && *a->fstype) {
        drv = driver_for(a->fstype);
        if (!drv) {
            gk_error("unsupported filesystem type %s", a->fstype);
            errno = ENOTSUP;
            return NULL;
        }
    } else {
        for (size_t i = 0; i < NDRIVERS && !drv; i++)
            if (drivers[i]->probe && drivers[i]->probe(dev) == 1)
                drv = drivers[i];
        if (!drv) {
            gk_error("unknown filesystem type");
            errno = EINVAL;
            return NULL;
        }
    }
    gk_fs *fs = NULL;
    int r = drv->open(dev, a, &fs);
    if (r < 0) {
        errno = -r;
        return NULL;
    }
    return fs;
}

gk_fs *gk_fs_open(gk_dev *dev, const char *fstype, int rw)
{
    gk_fs_open_args a = { .fstype = fstype, .rw = rw };
    return gk_fs_open_with(dev, &a);
}

void gk_fs_close(gk_fs *fs)
{
    if (!fs)
        return;
    if (fs->ops && fs->ops->close)
        fs->ops->close(fs);
    gk_dev_unref(fs->dev);
    free(fs->type);
    free(fs);
}

const char *gk_fs_type(const gk_fs *fs)
{
    return fs->type;
}

gk_dev *gk_fs_dev(const gk_fs *fs)
{
    return fs->dev;
}

int gk_fs_readonly(const gk_fs *fs)
{
    return fs->readonly;
}

int gk_fs_statvfs(gk_fs *fs, gk_statvfs *sv)
{
    memset(sv, 0, sizeof *sv);
    if (!fs->ops->statvfs) {
        gk_error("statvfs is not supported by %s", fs->ops->name);
        errno = ENOSYS;
        return -1;
    }
    int r = fs->ops->statvfs(fs, sv);
    if (r < 0) {
        errno = -r;
        return -1;
    }
    return 0;
}

int gk_fs_subvolumes(gk_fs *fs, gk_subvol **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!fs->ops->subvolumes)
        return 0;
    int r = fs->ops->subvolumes(fs, out, n);
    if (r < 0) {
        errno = -r;
        return -1;
    }
    return 0;
}

int gk_fs_sync(gk_fs *fs)
{
    if (fs->readonly || !fs->ops->sync)
        return 0;
    int r = fs->ops->sync(fs);
    if (r < 0) {
        errno = -r;
        return -1;
    }
    return 0;
}

void gk_subvols_free(gk_subvol *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].path);
    free(v);
}
