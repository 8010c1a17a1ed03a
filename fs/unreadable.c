/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stand-in mounted where a filesystem of the guest could not be mounted
 * (a type no driver reads, a superblock the driver refuses).  Without it
 * the mountpoint shows the empty directory of the filesystem below and
 * `gls /boot/efi` would list nothing as if that were the truth.  Its root
 * is a read-only directory; looking inside it fails with the reason. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs-int.h"

#define ROOT_INO 1

static int fail(gk_fs *fs)
{
    gk_error("%s", (const char *)fs->priv);
    return -ENOTSUP;
}

static int un_getattr(gk_fs *fs, uint64_t ino, gk_stat *st)
{
    if (ino != ROOT_INO)
        return fail(fs);
    st->ino = ROOT_INO;
    st->mode = S_IFDIR | 0555;
    st->nlink = 2;
    st->blksize = 4096;
    return 0;
}

static int un_lookup(gk_fs *fs, uint64_t dir, const char *name, uint64_t *ino)
{
    (void)dir; (void)name; (void)ino;
    return fail(fs);
}

static int un_readdir(gk_fs *fs, uint64_t dir, gk_readdir_cb cb, void *opaque)
{
    (void)dir; (void)cb; (void)opaque;
    return fail(fs);
}

static ssize_t un_read(gk_fs *fs, uint64_t ino, void *buf, size_t n, uint64_t off)
{
    (void)ino; (void)buf; (void)n; (void)off;
    return fail(fs);
}

static ssize_t un_readlink(gk_fs *fs, uint64_t ino, char *buf, size_t bufsz)
{
    (void)ino; (void)buf; (void)bufsz;
    return fail(fs);
}

static int un_statvfs(gk_fs *fs, gk_statvfs *sv)
{
    (void)sv;
    return fail(fs);
}

static void un_close(gk_fs *fs)
{
    free(fs->priv);
}

static const struct gk_fs_ops unreadable_ops = {
    .name = "unreadable",
    .getattr = un_getattr,
    .lookup = un_lookup,
    .readdir = un_readdir,
    .read = un_read,
    .readlink = un_readlink,
    .statvfs = un_statvfs,
    .close = un_close,
};

gk_fs *gk_fs_unreadable(const char *type, const char *reason)
{
    gk_fs *fs = gk_calloc(1, sizeof *fs);
    fs->ops = &unreadable_ops;
    fs->root_ino = ROOT_INO;
    fs->readonly = 1;
    fs->type = gk_strdup(type && *type ? type : "unknown");
    fs->priv = gk_strdup(reason);
    return fs;
}
