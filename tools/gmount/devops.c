/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gmount --devices: the guest's block devices as read-only files.
 * /dev/sda -> DIR/sda, /dev/sda1 -> DIR/sda1, /dev/md127 -> DIR/md127,
 * /dev/VG/LV -> DIR/VG/LV: the bytes any host tool (fsck -n, mount -o
 * loop,ro, sha256sum) can read, through the qcow2 chain, partition table,
 * LVM mapping or md layout.  A read takes a session of the pool like
 * every gmount call (the same device is entry idx in each). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "gmount.h"

typedef struct dfile {
    char *path;            /* "/sda1", "/vg0/root"; directories too: "/vg0" */
    int ent;               /* its entry in g->devs; -1 for a directory      */
    uint64_t size;
} dfile;

static dfile *files;
static size_t nfiles;
static struct timespec t0;

static dfile *find(const char *path)
{
    for (size_t i = 0; i < nfiles; i++)
        if (strcmp(files[i].path, path) == 0)
            return &files[i];
    return NULL;
}

static void add(const char *path, int ent, uint64_t size)
{
    if (find(path))
        return;
    files = gk_realloc(files, (nfiles + 1) * sizeof *files);
    files[nfiles].path = gk_strdup(path);
    files[nfiles].ent = ent;
    files[nfiles].size = size;
    nfiles++;
}

void gm_dev_setup(gk_guest *g)
{
    clock_gettime(CLOCK_REALTIME, &t0);
    add("/", -1, 0);
    for (int i = 0; i < g->devs->nents; i++) {
        gk_devent *e = &g->devs->ents[i];
        if (!e->dev) {
            gk_warn("%s: not shown: %s", e->name, e->open_error ? e->open_error : "cannot be opened");
            continue;
        }
        const char *n = strncmp(e->name, "/dev/", 5) == 0 ? e->name + 4 : e->name;
        /* an LV: its VG is a directory */
        const char *slash = strchr(n + 1, '/');
        if (slash) {
            char *d = gk_strndup(n, (size_t)(slash - n));
            add(d, -1, 0);
            free(d);
        }
        add(n, i, e->dev->size);
    }
}

static void fill_stat(const dfile *f, struct stat *st)
{
    memset(st, 0, sizeof *st);
    st->st_ino = (ino_t)(f - files) + 1;
    st->st_mode = f->ent >= 0 ? S_IFREG | 0444 : S_IFDIR | 0555;
    st->st_nlink = f->ent >= 0 ? 1 : 2;
    st->st_size = (off_t)f->size;
    st->st_blocks = (blkcnt_t)((st->st_size + 511) / 512);
    st->st_blksize = 65536;
    st->st_atim = st->st_mtim = st->st_ctim = t0;
}

static int d_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    (void)fi;
    dfile *f = find(path);
    if (!f)
        return -ENOENT;
    fill_stat(f, st);
    return 0;
}

static int d_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                     struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    (void)off;
    (void)fi;
    (void)flags;
    dfile *d = find(path);
    if (!d)
        return -ENOENT;
    if (d->ent >= 0)
        return -ENOTDIR;
    size_t plen = strcmp(path, "/") == 0 ? 0 : strlen(path);
    fill(buf, ".", NULL, 0, 0);
    fill(buf, "..", NULL, 0, 0);
    for (size_t i = 0; i < nfiles; i++) {
        const char *p = files[i].path;
        if (strncmp(p, path, plen) != 0 || p[plen] != '/' || !p[plen + 1] ||
            strchr(p + plen + 1, '/'))
            continue;
        struct stat st;
        fill_stat(&files[i], &st);
        if (fill(buf, p + plen + 1, &st, 0, 0))
            break;
    }
    return 0;
}

static int d_open(const char *path, struct fuse_file_info *fi)
{
    dfile *f = find(path);
    if (!f)
        return -ENOENT;
    if (f->ent < 0)
        return -EISDIR;
    if ((fi->flags & O_ACCMODE) != O_RDONLY)
        return -EROFS;
    fi->fh = (uintptr_t)f;
    fi->keep_cache = 1;
    return 0;
}

static int d_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    const dfile *f = (const dfile *)(uintptr_t)fi->fh;
    if (off < 0)
        return -EINVAL;
    if ((uint64_t)off >= f->size)
        return 0;
    if (size > f->size - (uint64_t)off)
        size = (size_t)(f->size - (uint64_t)off);
    int slot, r = -1;
    gk_guest *g = gm_take(&slot);
    if (f->ent < g->devs->nents && g->devs->ents[f->ent].dev &&
        g->devs->ents[f->ent].dev->size == f->size)
        r = gk_pread(g->devs->ents[f->ent].dev, buf, size, (uint64_t)off);
    if (r < 0)
        gk_debug("read %s: %s", path, gk_errmsg());
    gm_give(slot);
    if (gk_trace)
        gk_trace_call("read \"%s\" %zu@%jd = %d", path, size, (intmax_t)off, r < 0 ? -1 : (int)size);
    return r < 0 ? -EIO : (int)size;
}

static int d_statfs(const char *path, struct statvfs *sv)
{
    (void)path;
    memset(sv, 0, sizeof *sv);
    sv->f_bsize = sv->f_frsize = 512;
    sv->f_namemax = 255;
    return 0;
}

static void *d_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    (void)cfg;
    gm_conn_init(conn);
    return NULL;
}

const struct fuse_operations gm_dev_ops = {
    .init = d_init,
    .getattr = d_getattr,
    .readdir = d_readdir,
    .open = d_open,
    .read = d_read,
    .statfs = d_statfs,
};
