/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Btrfs, read-only: the gk_fs_ops of the btrfs driver.
 *
 * One gk_fs is one mount: the subvolume asked for (subvol=, subvolid=, or
 * the default subvolume), with the subvolumes below it reachable as
 * directories the way the kernel shows them.  Inode ids are
 * (index of the subvolume in b->roots) << 48 | objectid, so that inode 257
 * of two snapshots are two files; stat shows the objectid.
 *
 * Mount options: subvol=, subvolid= (and the options of the kernel driver
 * that change nothing for a read-only reader are accepted).  A log tree
 * (fsync log) is not replayed: a warning says so.
 *
 * Parts: btrfs-vol.c (superblock, devices, chunks), btrfs-tree.c (tree
 * blocks, search), btrfs-data.c (file extents, compression),
 * btrfs-csum.c.  One gk_fs is used by one thread at a time.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "btrfs-int.h"

#define MAX_SUBVOL_DEPTH 256          /* nested subvolumes / directories in a path */

/* ------------------------------------------------------------------ */
/* Subvolume roots                                                     */

static int roots_find(btrfs *b, uint64_t id)
{
    if (!b->roots_hcap)
        return -1;
    size_t m = (size_t)b->roots_hcap - 1;
    for (size_t j = (size_t)(id * 0x9e3779b97f4a7c15ull >> 20) & m;; j = (j + 1) & m) {
        int i = b->roots_hash[j];
        if (i < 0)
            return -1;
        if (b->roots[i].id == id)
            return i;
    }
}

static int roots_add(btrfs *b, const struct bt_root *r)
{
    if (b->nroots >= BT_MAX_ROOTS)
        return bt_fail(EMFILE, "more than %d subvolumes entered", BT_MAX_ROOTS);
    if ((b->nroots + 1) * 2 > b->roots_hcap) {
        int cap = b->roots_hcap ? b->roots_hcap * 2 : 16;
        free(b->roots_hash);
        b->roots_hash = gk_malloc((size_t)cap * sizeof *b->roots_hash);
        for (int i = 0; i < cap; i++)
            b->roots_hash[i] = -1;
        b->roots_hcap = cap;
        for (int i = 0; i < b->nroots; i++) {
            size_t j = (size_t)(b->roots[i].id * 0x9e3779b97f4a7c15ull >> 20) & (size_t)(cap - 1);
            while (b->roots_hash[j] >= 0)
                j = (j + 1) & (size_t)(cap - 1);
            b->roots_hash[j] = i;
        }
    }
    b->roots = gk_realloc(b->roots, (size_t)(b->nroots + 1) * sizeof *b->roots);
    b->roots[b->nroots] = *r;
    size_t m = (size_t)b->roots_hcap - 1;
    size_t j = (size_t)(r->id * 0x9e3779b97f4a7c15ull >> 20) & m;
    while (b->roots_hash[j] >= 0)
        j = (j + 1) & m;
    b->roots_hash[j] = b->nroots;
    return b->nroots++;
}

/* The ROOT_ITEM of tree id: 1 and *r, 0 if there is none, -errno. */
static int root_item(btrfs *b, uint64_t id, struct bt_root *r)
{
    bt_path p;
    bt_key k = {id, BT_ROOT_ITEM, 0};
    int rc = bt_search(b, b->root_bytenr, b->root_level, &k, &p);
    if (rc > 0) {
        const uint8_t *d;
        uint32_t len;
        bt_item(&p, &k, &d, &len);
        if (k.objectid != id || k.type != BT_ROOT_ITEM) {
            rc = 0;
        } else if (len < RI_MIN) {
            rc = bt_fail(EIO, "root item %llu: too short", (unsigned long long)id);
        } else {
            r->id = id;
            r->bytenr = gk_le64(d + RI_BYTENR);
            r->level = d[RI_LEVEL];
            r->dirid = gk_le64(d + RI_ROOT_DIRID);
            if (!r->bytenr || r->bytenr % b->sectorsize || r->level >= BT_MAX_LEVEL)
                rc = bt_fail(EIO, "root item %llu: corrupt", (unsigned long long)id);
        }
    }
    bt_path_release(&p);
    return rc;
}

/* The index of subvolume id in b->roots, loading it on first use. */
static int root_get(btrfs *b, uint64_t id)
{
    int i = roots_find(b, id);
    if (i >= 0)
        return i;
    struct bt_root r;
    int rc = root_item(b, id, &r);
    if (rc == 0)
        return bt_fail(ENOENT, "subvolume %llu does not exist", (unsigned long long)id);
    if (rc < 0)
        return rc;
    if (r.dirid < BT_FIRST_FREE || r.dirid > BT_INO_MASK)
        return bt_fail(EIO, "subvolume %llu: bad root directory %llu", (unsigned long long)id,
                       (unsigned long long)r.dirid);
    return roots_add(b, &r);
}

static inline uint64_t mkid(int idx, uint64_t objectid)
{
    return (uint64_t)idx << BT_INO_SHIFT | objectid;
}

/* Split an inode id: the tree and the objectid. */
static int split_id(btrfs *b, uint64_t id, const struct bt_root **r, uint64_t *objectid)
{
    uint64_t idx = id >> BT_INO_SHIFT;
    *r = NULL;
    *objectid = 0;
    if (idx >= (uint64_t)b->nroots)
        return bt_fail(ENOENT, "inode %llx: no such subvolume", (unsigned long long)id);
    *r = &b->roots[idx];
    *objectid = id & BT_INO_MASK;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Inodes                                                              */

/* The inode item (II_LEN bytes) of id.  The placeholder of a subvolume a
 * snapshot does not contain (objectid 2) is an empty directory, as the
 * kernel shows it. */
static int read_inode(btrfs *b, uint64_t id, uint8_t *ii)
{
    const struct bt_root *r;
    uint64_t obj;
    int rc = split_id(b, id, &r, &obj);
    if (rc < 0)
        return rc;
    memset(ii, 0, II_LEN);
    if (obj == BT_EMPTY_SUBVOL_DIR) {
        /* the kernel makes it up at lookup: 0755, times of now (its atime
         * is the parent's, which the id does not tell us) */
        ii[II_MODE] = 0xed;             /* S_IFDIR | 0755 */
        ii[II_MODE + 1] = 0x41;
        ii[II_NLINK] = 1;
        uint64_t now = (uint64_t)time(NULL);
        for (int i = 0; i < 8; i++)
            ii[II_ATIME + i] = ii[II_MTIME + i] = ii[II_CTIME + i] = (uint8_t)(now >> (8 * i));
        return 0;
    }
    uint8_t *d;
    uint32_t len;
    bt_key k = {obj, BT_INODE_ITEM, 0};
    rc = bt_lookup_item(b, r->bytenr, r->level, &k, &d, &len);
    /* (callers and the VFS name the inode: the messages do not) */
    if (rc < 0)
        return rc;
    if (rc == 0)
        return bt_fail(ENOENT, "no inode item (subvolume %llu)", (unsigned long long)r->id);
    if (len < II_LEN) {
        free(d);
        return bt_fail(EIO, "inode item too short (subvolume %llu)", (unsigned long long)r->id);
    }
    memcpy(ii, d, II_LEN);
    free(d);
    return 0;
}

static struct timespec ts_of(const uint8_t *p)
{
    struct timespec t;
    t.tv_sec = (time_t)(int64_t)gk_le64(p);
    uint32_t ns = gk_le32(p + 8);
    t.tv_nsec = ns < 1000000000u ? (long)ns : 0;
    return t;
}

static int bt_getattr(gk_fs *fs, uint64_t id, gk_stat *st)
{
    btrfs *b = fs->priv;
    uint8_t ii[II_LEN];
    int rc = read_inode(b, id, ii);
    if (rc < 0)
        return rc;
    memset(st, 0, sizeof *st);
    st->ino = id & BT_INO_MASK;
    st->mode = gk_le32(ii + II_MODE);
    st->nlink = gk_le32(ii + II_NLINK);
    st->uid = gk_le32(ii + II_UID);
    st->gid = gk_le32(ii + II_GID);
    st->size = gk_le64(ii + II_SIZE);
    uint64_t nbytes = gk_le64(ii + II_NBYTES), ss = b->sectorsize;
    st->blocks = (nbytes / ss + (nbytes % ss != 0)) * (ss / 512);
    st->blksize = b->sectorsize;
    if (S_ISCHR(st->mode) || S_ISBLK(st->mode)) {
        /* the kernel's own dev_t: 12 bits of major above 20 of minor */
        uint64_t rdev = gk_le64(ii + II_RDEV);
        st->rdev = makedev((unsigned)(rdev >> 20) & 0xfff, (unsigned)rdev & 0xfffff);
    }
    st->atime = ts_of(ii + II_ATIME);
    st->mtime = ts_of(ii + II_MTIME);
    st->ctime = ts_of(ii + II_CTIME);
    st->crtime = ts_of(ii + II_OTIME);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Directories                                                         */

/* One directory item (also the entries of an xattr item) at d: name,
 * location, type and value; its whole length, or 0 if it does not fit in
 * left bytes. */
static size_t dir_entry(const uint8_t *d, size_t left, bt_key *loc, const char **name,
                        size_t *nlen, const uint8_t **val, size_t *vlen, int *type)
{
    if (left < DIR_SIZE)
        return 0;
    size_t nl = gk_le16(d + DIR_NAME_LEN), dl = gk_le16(d + DIR_DATA_LEN);
    if (nl + dl > left - DIR_SIZE)
        return 0;
    bt_key_read(loc, d + DIR_LOC);
    *name = (const char *)d + DIR_SIZE;
    *nlen = nl;
    *val = d + DIR_SIZE + nl;
    *vlen = dl;
    *type = d[DIR_TYPE];
    return DIR_SIZE + nl + dl;
}

static int ft_to_dt(int ft)
{
    switch (ft & 0x7f) {
    case BT_FT_REG_FILE: return DT_REG;
    case BT_FT_DIR: return DT_DIR;
    case BT_FT_CHRDEV: return DT_CHR;
    case BT_FT_BLKDEV: return DT_BLK;
    case BT_FT_FIFO: return DT_FIFO;
    case BT_FT_SOCK: return DT_SOCK;
    case BT_FT_SYMLINK: return DT_LNK;
    default: return DT_UNKNOWN;
    }
}

/* Does the root tree link subvolume child under (parent tree, dirid, name)?
 * The kernel shows a subvolume entry without that link (what a snapshot
 * holds for a subvolume below the snapshotted one) as an empty directory. */
static int root_ref_ok(btrfs *b, uint64_t parent, uint64_t dirid, uint64_t child,
                       const char *name, size_t nlen)
{
    uint8_t *d;
    uint32_t len;
    bt_key k = {parent, BT_ROOT_REF, child};
    int rc = bt_lookup_item(b, b->root_bytenr, b->root_level, &k, &d, &len);
    if (rc <= 0)
        return rc;
    int ok = len >= RR_SIZE && gk_le64(d + RR_DIRID) == dirid &&
             gk_le16(d + RR_NAME_LEN) == nlen && nlen <= len - RR_SIZE &&
             memcmp(d + RR_SIZE, name, nlen) == 0;
    free(d);
    return ok;
}

/* The inode id a directory entry of tree r (index ridx) in directory
 * dirobj leads to. */
static int entry_target(btrfs *b, int ridx, uint64_t dirobj, const bt_key *loc, const char *name,
                        size_t nlen, uint64_t *id)
{
    if (loc->type == BT_INODE_ITEM) {
        if (loc->objectid > BT_INO_MASK || loc->objectid < BT_FIRST_FREE)
            return bt_fail(EIO, "directory %llu: entry with bad inode number %llu",
                           (unsigned long long)dirobj, (unsigned long long)loc->objectid);
        *id = mkid(ridx, loc->objectid);
        return 0;
    }
    if (loc->type != BT_ROOT_ITEM)
        return bt_fail(EIO, "directory %llu: entry of unknown kind %u", (unsigned long long)dirobj,
                       loc->type);
    uint64_t parent = b->roots[ridx].id;
    int ok = root_ref_ok(b, parent, dirobj, loc->objectid, name, nlen);
    if (ok < 0)
        return ok;
    if (!ok) {
        *id = mkid(ridx, BT_EMPTY_SUBVOL_DIR);
        return 0;
    }
    int c = root_get(b, loc->objectid);
    if (c < 0)
        return c;
    *id = mkid(c, b->roots[c].dirid);
    return 0;
}

static int is_dir(btrfs *b, uint64_t id)
{
    uint8_t ii[II_LEN];
    int rc = read_inode(b, id, ii);
    if (rc < 0)
        return rc;
    if (!S_ISDIR(gk_le32(ii + II_MODE)))
        return bt_fail(ENOTDIR, "inode %llu: not a directory", (unsigned long long)(id & BT_INO_MASK));
    return 0;
}

static int bt_lookup(gk_fs *fs, uint64_t dir, const char *name, uint64_t *out)
{
    btrfs *b = fs->priv;
    size_t nlen = strlen(name);
    if (nlen == 0 || nlen > BT_NAME_LEN || strchr(name, '/'))
        return bt_fail(ENOENT, "%s: invalid name", name);
    int rc = is_dir(b, dir);
    if (rc < 0)
        return rc;
    const struct bt_root *r;
    uint64_t obj;
    split_id(b, dir, &r, &obj);
    if (obj == BT_EMPTY_SUBVOL_DIR)
        return bt_fail(ENOENT, "%s: No such file or directory", name);
    int ridx = (int)(dir >> BT_INO_SHIFT);
    uint8_t *d;
    uint32_t len;
    bt_key k = {obj, BT_DIR_ITEM, bt_name_hash(name, nlen)};
    rc = bt_lookup_item(b, r->bytenr, r->level, &k, &d, &len);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return bt_fail(ENOENT, "%s: No such file or directory", name);
    rc = bt_fail(ENOENT, "%s: No such file or directory", name);
    for (size_t pos = 0; pos < len;) {
        bt_key loc;
        const char *n;
        const uint8_t *v;
        size_t nl, vl;
        int t;
        size_t step = dir_entry(d + pos, len - pos, &loc, &n, &nl, &v, &vl, &t);
        if (!step) {
            rc = bt_fail(EIO, "directory %llu: corrupt entry", (unsigned long long)obj);
            break;
        }
        if (nl == nlen && memcmp(n, name, nlen) == 0) {
            rc = entry_target(b, ridx, obj, &loc, n, nl, out);
            break;
        }
        pos += step;
    }
    free(d);
    return rc;
}

static int bt_readdir(gk_fs *fs, uint64_t dir, gk_readdir_cb cb, void *opaque)
{
    btrfs *b = fs->priv;
    int rc = is_dir(b, dir);
    if (rc < 0)
        return rc;
    const struct bt_root *r;
    uint64_t obj;
    split_id(b, dir, &r, &obj);
    if (obj == BT_EMPTY_SUBVOL_DIR)
        return 0;
    int ridx = (int)(dir >> BT_INO_SHIFT);
    uint64_t rbytenr = r->bytenr;       /* b->roots may move while we walk */
    int rlevel = r->level;
    bt_path p;
    bt_key k = {obj, BT_DIR_INDEX, 0};
    rc = bt_search(b, rbytenr, rlevel, &k, &p);
    while (rc > 0) {
        const uint8_t *d;
        uint32_t len;
        bt_item(&p, &k, &d, &len);
        if (k.objectid != obj || k.type != BT_DIR_INDEX)
            break;
        bt_key loc;
        const char *n;
        const uint8_t *v;
        size_t nl, vl;
        int t;
        if (!dir_entry(d, len, &loc, &n, &nl, &v, &vl, &t)) {
            rc = bt_fail(EIO, "directory %llu: corrupt entry", (unsigned long long)obj);
            break;
        }
        if (nl == 0 || memchr(n, '/', nl) || memchr(n, 0, nl) ||
            (nl <= 2 && memcmp(n, "..", nl) == 0)) {
            gk_debug("btrfs: directory %llu: entry with an impossible name skipped",
                     (unsigned long long)obj);
        } else {
            /* entry_target may load subvolumes (b->roots moves; the leaf
             * stays pinned), cb may do anything: work on copies */
            char nm[BT_NAME_LEN + 1];
            size_t l = nl > BT_NAME_LEN ? BT_NAME_LEN : nl;
            memcpy(nm, n, l);
            nm[l] = 0;
            bt_key lc = loc;
            int ft = t;
            uint64_t id;
            rc = entry_target(b, ridx, obj, &lc, nm, l, &id);
            if (rc < 0)
                break;
            int dt = ft_to_dt(ft);
            if ((id & BT_INO_MASK) == BT_EMPTY_SUBVOL_DIR)
                dt = DT_DIR;
            if (cb(opaque, nm, id, dt)) {
                rc = 0;
                break;
            }
        }
        rc = bt_next(b, &p);
    }
    bt_path_release(&p);
    return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------------ */
/* File data                                                           */

static int map_for(btrfs *b, uint64_t id, const uint8_t *ii)
{
    const struct bt_root *r;
    uint64_t obj;
    int rc = split_id(b, id, &r, &obj);
    if (rc < 0)
        return rc;
    return bt_file_map(b, r, id, gk_le64(ii + II_SIZE));
}

static ssize_t bt_read(gk_fs *fs, uint64_t id, void *buf, size_t n, uint64_t off)
{
    btrfs *b = fs->priv;
    uint8_t ii[II_LEN];
    int rc = read_inode(b, id, ii);
    if (rc < 0)
        return rc;
    uint32_t mode = gk_le32(ii + II_MODE);
    if (S_ISDIR(mode))
        return bt_fail(EISDIR, "inode %llu: is a directory", (unsigned long long)(id & BT_INO_MASK));
    uint64_t size = gk_le64(ii + II_SIZE);
    if (off >= size || n == 0)
        return 0;
    if (n > size - off)
        n = (size_t)(size - off);
    if (n > (size_t)SSIZE_MAX)
        n = (size_t)SSIZE_MAX;
    if ((rc = map_for(b, id, ii)) < 0)
        return rc;
    return bt_file_read(b, id, buf, n, off);
}

static ssize_t bt_readlink(gk_fs *fs, uint64_t id, char *buf, size_t bufsz)
{
    btrfs *b = fs->priv;
    uint8_t ii[II_LEN];
    int rc = read_inode(b, id, ii);
    if (rc < 0)
        return rc;
    if (!S_ISLNK(gk_le32(ii + II_MODE)))
        return bt_fail(EINVAL, "inode %llu: not a symbolic link", (unsigned long long)(id & BT_INO_MASK));
    uint64_t size = gk_le64(ii + II_SIZE);
    if (size == 0 || size > 4095)
        return bt_fail(EIO, "inode %llu: corrupt symlink (length %llu)",
                       (unsigned long long)(id & BT_INO_MASK), (unsigned long long)size);
    char target[4096];
    if ((rc = map_for(b, id, ii)) < 0)
        return rc;
    ssize_t got = bt_file_read(b, id, (uint8_t *)target, size, 0);
    if (got < 0)
        return got;
    if (memchr(target, 0, size))
        return bt_fail(EIO, "inode %llu: corrupt symlink (NUL in target)",
                       (unsigned long long)(id & BT_INO_MASK));
    size_t n = size < bufsz ? size : bufsz;
    memcpy(buf, target, n);
    return (ssize_t)n;
}

static int bt_fmap(gk_fs *fs, uint64_t id, gk_fmap **out, size_t *nout)
{
    btrfs *b = fs->priv;
    *out = NULL;
    *nout = 0;
    uint8_t ii[II_LEN];
    int rc = read_inode(b, id, ii);
    if (rc < 0)
        return rc;
    uint64_t size = gk_le64(ii + II_SIZE);
    if (size == 0)
        return 0;
    if (!S_ISREG(gk_le32(ii + II_MODE))) {
        *out = gk_malloc(sizeof **out);
        (*out)[0] = (gk_fmap){0, size};
        *nout = 1;
        return 0;
    }
    if ((rc = map_for(b, id, ii)) < 0)
        return rc;
    gk_fmap *v = NULL;
    size_t nv = 0;
    for (size_t i = 0; i < b->nmap; i++) {
        const struct bt_fext *e = &b->map[i];
        if (e->type >= 2)
            continue;
        if (nv && v[nv - 1].logical + v[nv - 1].len == e->off) {
            v[nv - 1].len += e->len;
        } else {
            v = gk_realloc(v, (nv + 1) * sizeof *v);
            v[nv++] = (gk_fmap){e->off, e->len};
        }
    }
    *out = v;
    *nout = nv;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Extended attributes                                                 */

static ssize_t bt_listxattr(gk_fs *fs, uint64_t id, char *buf, size_t bufsz)
{
    btrfs *b = fs->priv;
    const struct bt_root *r;
    uint64_t obj;
    int rc = split_id(b, id, &r, &obj);
    if (rc < 0)
        return rc;
    if (obj == BT_EMPTY_SUBVOL_DIR)
        return 0;
    size_t total = 0;
    bt_path p;
    bt_key k = {obj, BT_XATTR_ITEM, 0};
    rc = bt_search(b, r->bytenr, r->level, &k, &p);
    while (rc > 0) {
        const uint8_t *d;
        uint32_t len;
        bt_item(&p, &k, &d, &len);
        if (k.objectid != obj || k.type != BT_XATTR_ITEM)
            break;
        for (size_t pos = 0; pos < len;) {
            bt_key loc;
            const char *n;
            const uint8_t *v;
            size_t nl, vl;
            int t;
            size_t step = dir_entry(d + pos, len - pos, &loc, &n, &nl, &v, &vl, &t);
            if (!step) {
                rc = bt_fail(EIO, "inode %llu: corrupt xattr item", (unsigned long long)obj);
                break;
            }
            if (nl && !memchr(n, 0, nl)) {
                if (total + nl + 1 <= bufsz) {
                    memcpy(buf + total, n, nl);
                    buf[total + nl] = 0;
                }
                total += nl + 1;
            }
            pos += step;
        }
        if (rc < 0)
            break;
        rc = bt_next(b, &p);
    }
    bt_path_release(&p);
    if (rc < 0)
        return rc;
    return (ssize_t)total;
}

static ssize_t bt_getxattr(gk_fs *fs, uint64_t id, const char *name, void *buf, size_t bufsz)
{
    btrfs *b = fs->priv;
    const struct bt_root *r;
    uint64_t obj;
    int rc = split_id(b, id, &r, &obj);
    if (rc < 0)
        return rc;
    size_t nlen = strlen(name);
    if (obj == BT_EMPTY_SUBVOL_DIR || nlen == 0 || nlen > 65535)
        return bt_fail(ENODATA, "%s: No data available", name);
    uint8_t *d;
    uint32_t len;
    bt_key k = {obj, BT_XATTR_ITEM, bt_name_hash(name, nlen)};
    rc = bt_lookup_item(b, r->bytenr, r->level, &k, &d, &len);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return bt_fail(ENODATA, "%s: No data available", name);
    ssize_t ret = bt_fail(ENODATA, "%s: No data available", name);
    for (size_t pos = 0; pos < len;) {
        bt_key loc;
        const char *n;
        const uint8_t *v;
        size_t nl, vl;
        int t;
        size_t step = dir_entry(d + pos, len - pos, &loc, &n, &nl, &v, &vl, &t);
        if (!step) {
            ret = bt_fail(EIO, "inode %llu: corrupt xattr item", (unsigned long long)obj);
            break;
        }
        if (nl == nlen && memcmp(n, name, nlen) == 0) {
            if (vl && vl <= bufsz)
                memcpy(buf, v, vl);
            ret = (ssize_t)vl;
            break;
        }
        pos += step;
    }
    free(d);
    return ret;
}

/* ------------------------------------------------------------------ */
/* statvfs, as the kernel's btrfs_statfs computes it                    */

/* The kernel's btrfs_raid_array, in its order (RAID10, RAID1, DUP, RAID0,
 * SINGLE, RAID5, RAID6, RAID1C3, RAID1C4): devices needed, copies kept,
 * stripes per device.  statfs divides by the copies of the last data
 * profile in that order. */
static const struct raid_attr { uint64_t flag; int devs_min, ncopies, dev_stripes; } raid_attrs[] = {
    {BT_BG_RAID10, 2, 2, 1}, {BT_BG_RAID1, 2, 2, 1}, {BT_BG_DUP, 1, 2, 2},
    {BT_BG_RAID0, 1, 1, 1}, {0, 1, 1, 1}, {BT_BG_RAID5, 2, 1, 1}, {BT_BG_RAID6, 3, 1, 1},
    {BT_BG_RAID1C3, 3, 3, 1}, {BT_BG_RAID1C4, 4, 4, 1},
};
#define NRAID (sizeof raid_attrs / sizeof raid_attrs[0])

static size_t raid_index(uint64_t type)
{
    uint64_t prof = type & BT_BG_PROFILES;
    for (size_t i = 0; i < NRAID; i++)
        if (raid_attrs[i].flag == prof)
            return i;
    return 4;
}

static int cmp_u64_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The kernel's btrfs_calc_avail_data_space: how much more data the
 * unallocated space of the devices would hold in the data profile (the
 * most redundant one the data chunks use that the devices allow). */
static uint64_t avail_data_space(btrfs *b, uint64_t data_bits)
{
    static const uint64_t order[] = {BT_BG_RAID1C4, BT_BG_RAID6, BT_BG_RAID1C3, BT_BG_RAID5,
                                     BT_BG_RAID10, BT_BG_RAID1, BT_BG_DUP, BT_BG_RAID0};
    int ndev = 0;
    for (int i = 0; i < b->ndevs; i++)
        if (b->devs[i].dev && b->devs[i].have_item)
            ndev++;
    uint64_t prof = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if ((data_bits & order[i]) && raid_attrs[raid_index(order[i])].devs_min <= ndev) {
            prof = order[i];
            break;
        }
    const struct raid_attr *ra = &raid_attrs[raid_index(prof)];
    int num_stripes = 1;
    if (prof & BT_BG_RAID0)
        num_stripes = ndev;
    else if (prof & (BT_BG_RAID1 | BT_BG_RAID1C3 | BT_BG_RAID1C4))
        num_stripes = ra->ncopies;
    else if (prof & BT_BG_RAID10)
        num_stripes = 4;
    uint64_t min_stripe = (uint64_t)ra->dev_stripes * 65536;
    uint64_t *avail = gk_calloc((size_t)(ndev ? ndev : 1), sizeof *avail);
    int n = 0;
    for (int i = 0; i < b->ndevs; i++) {
        const struct bt_dev *d = &b->devs[i];
        if (!d->dev || !d->have_item)
            continue;
        uint64_t a = d->total_bytes > d->bytes_used ? d->total_bytes - d->bytes_used : 0;
        a -= a % 65536;
        if (a <= (1u << 20) + min_stripe)
            continue;
        avail[n++] = a - (1u << 20);
    }
    qsort(avail, (size_t)n, sizeof *avail, cmp_u64_desc);
    uint64_t total = 0;
    for (int i = n - 1, nr = n; nr >= ra->devs_min && i >= 0; i--, nr--) {
        if (num_stripes > nr)
            num_stripes = nr;
        if (avail[i] >= min_stripe) {
            uint64_t sz = avail[i];
            total += sz * (uint64_t)num_stripes;
            for (int j = i + 1 - num_stripes; j <= i; j++)
                if (j >= 0)
                    avail[j] -= sz;
        }
    }
    free(avail);
    return total;
}

static uint64_t root_bytes_used(btrfs *b, uint64_t id)
{
    uint8_t *d;
    uint32_t len;
    bt_key k = {id, BT_ROOT_ITEM, 0};
    uint64_t v = 0;
    if (bt_lookup_item(b, b->root_bytenr, b->root_level, &k, &d, &len) > 0) {
        if (len >= RI_MIN)
            v = gk_le64(d + RI_BYTES_USED);
        free(d);
    }
    return v;
}

/* The global block reserve the kernel sets up at mount
 * (btrfs_update_global_block_rsv), which statfs counts as used. */
static uint64_t global_rsv(btrfs *b)
{
    uint64_t bytes = 0;
    unsigned items = 1;
    static const uint64_t trees[] = {BT_EXTENT_TREE, BT_CSUM_TREE, BT_FREE_SPACE_TREE};
    for (size_t i = 0; i < sizeof trees / sizeof trees[0]; i++) {
        struct bt_root r;
        if (root_item(b, trees[i], &r) > 0) {
            bytes += root_bytes_used(b, trees[i]);
            items++;
        }
    }
    if (b->compat_ro & BT_COMPAT_RO_BLOCK_GROUP_TREE) {
        bytes += root_bytes_used(b, BT_BLOCK_GROUP_TREE);
        items++;
    }
    items += 6;                         /* BTRFS_UNLINK_METADATA_UNITS */
    uint64_t unit = (uint64_t)b->nodesize * BT_MAX_LEVEL * 2;
    uint64_t refs = unit * 6;
    if (gk_le64(b->sb + SB_COMPAT_RO) & 1)      /* free space tree */
        refs *= 2;
    uint64_t min = unit * items + refs;
    if (bytes < min)
        bytes = min;
    return bytes < (512u << 20) ? bytes : (512u << 20);
}

static int bt_statvfs(gk_fs *fs, gk_statvfs *sv)
{
    btrfs *b = fs->priv;
    /* block group items: extent tree, or the block group tree */
    struct bt_root bgr;
    uint64_t bgtree = (b->compat_ro & BT_COMPAT_RO_BLOCK_GROUP_TREE) ? BT_BLOCK_GROUP_TREE
                                                                      : BT_EXTENT_TREE;
    int rc = root_item(b, bgtree, &bgr);
    if (rc <= 0)
        return rc < 0 ? rc : bt_fail(EIO, "no %s tree", bgtree == BT_EXTENT_TREE ? "extent" : "block group");
    /* space infos by type: data, metadata, system, mixed */
    uint64_t used = 0, free_data = 0, data_bits = 0;
    int have_raid[NRAID] = {0};
    for (size_t i = 0; i < b->nchunks; i++) {
        const struct bt_chunk *c = &b->chunks[i];
        uint8_t *d = NULL;
        uint32_t len;
        bt_key k = {c->logical, BT_BLOCK_GROUP_ITEM, c->length};
        rc = bt_lookup_item(b, bgr.bytenr, bgr.level, &k, &d, &len);
        if (rc < 0)
            return rc;
        if (rc == 0 || len < BG_SIZE) {
            free(d);
            return bt_fail(EIO, "chunk %llu has no block group item", (unsigned long long)c->logical);
        }
        uint64_t u = gk_le64(d + BG_USED), flags = gk_le64(d + BG_FLAGS);
        free(d);
        size_t ri = raid_index(flags);
        uint64_t f = (uint64_t)raid_attrs[ri].ncopies;
        used += u * f;
        if (flags & BT_BG_DATA) {
            have_raid[ri] = 1;
            data_bits |= flags & BT_BG_PROFILES;
            free_data += (c->length > u ? c->length - u : 0) * f;
        }
    }
    uint64_t factor = 1;
    for (size_t i = 0; i < NRAID; i++)
        if (have_raid[i])
            factor = (uint64_t)raid_attrs[i].ncopies;
    unsigned bits = 0;
    while ((1u << bits) < b->sectorsize)
        bits++;
    memset(sv, 0, sizeof *sv);
    sv->bsize = sv->frsize = b->sectorsize;
    sv->blocks = (gk_le64(b->sb + SB_TOTAL_BYTES) / factor) >> bits;
    uint64_t usedb = (used / factor) >> bits;
    sv->bfree = sv->blocks > usedb ? sv->blocks - usedb : 0;
    uint64_t rsv = global_rsv(b) >> bits;
    sv->bfree = sv->bfree >= rsv ? sv->bfree - rsv : 0;
    /* the free space inside data chunks, and what the unallocated space
     * would hold (a libguestfs appliance's disks are writable overlays: its
     * block groups are writable even on a read-only mount) */
    sv->bavail = (free_data / factor + avail_data_space(b, data_bits) / factor) >> bits;
    const uint8_t *u = b->fsid;
    const struct bt_root *mr = &b->roots[fs->root_ino >> BT_INO_SHIFT];
    uint32_t f0 = gk_be32(u) ^ gk_be32(u + 8), f1 = gk_be32(u + 4) ^ gk_be32(u + 12);
    f0 ^= (uint32_t)(mr->id >> 32);
    f1 ^= (uint32_t)mr->id;
    sv->fsid = (uint64_t)f1 << 32 | f0;
    sv->flag = ST_RDONLY;
    sv->namemax = BT_NAME_LEN;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Subvolumes                                                          */

/* Path of directory dirid inside tree r, from its root directory ("" for
 * the root itself, else "a/b/"): INODE_REF items upwards. */
static int dir_path(btrfs *b, const struct bt_root *r, uint64_t dirid, char *out, size_t outsz)
{
    char tmp[4096];
    size_t len = 0;
    tmp[0] = 0;
    for (int depth = 0; dirid != r->dirid; depth++) {
        if (depth > 4096)
            return bt_fail(ELOOP, "subvolume %llu: directory loop", (unsigned long long)r->id);
        bt_path p;
        bt_key k = {dirid, BT_INODE_REF, 0};
        int rc = bt_search(b, r->bytenr, r->level, &k, &p);
        const uint8_t *d;
        uint32_t l;
        if (rc > 0)
            bt_item(&p, &k, &d, &l);
        if (rc <= 0 || k.objectid != dirid || k.type != BT_INODE_REF || l < 10 ||
            gk_le16(d + 8) > l - 10 || k.offset == dirid) {
            bt_path_release(&p);
            return rc < 0 ? rc : bt_fail(EIO, "subvolume %llu: directory %llu has no name",
                                         (unsigned long long)r->id, (unsigned long long)dirid);
        }
        size_t nl = gk_le16(d + 8);
        if (len + nl + 1 >= sizeof tmp) {
            bt_path_release(&p);
            return bt_fail(ENAMETOOLONG, "subvolume path too long");
        }
        memmove(tmp + nl + 1, tmp, len + 1);
        memcpy(tmp, d + 10, nl);
        tmp[nl] = '/';
        len += nl + 1;
        dirid = k.offset;
        bt_path_release(&p);
    }
    if (len + 1 > outsz)
        return bt_fail(ENAMETOOLONG, "subvolume path too long");
    memcpy(out, tmp, len + 1);
    return 0;
}

struct sv_ent { uint64_t id, parent, dirid; char *name; };

static int sv_cmp(const void *a, const void *b)
{
    const struct sv_ent *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static const struct sv_ent *sv_find(const struct sv_ent *v, size_t n, uint64_t id)
{
    struct sv_ent key = {id, 0, 0, NULL};
    return bsearch(&key, v, n, sizeof *v, sv_cmp);
}

static uint64_t default_subvol(btrfs *b);

/* Every subvolume with a path from the top level, like `btrfs subvolume
 * list`: ROOT_BACKREF items give the parent and the name, INODE_REFs the
 * directories in between. */
static int bt_subvolumes(gk_fs *fs, gk_subvol **out, size_t *nout)
{
    btrfs *b = fs->priv;
    *out = NULL;
    *nout = 0;
    struct sv_ent *v = NULL;
    size_t n = 0;
    bt_path p;
    bt_key k = {BT_FIRST_FREE, BT_ROOT_BACKREF, 0};
    int rc = bt_search(b, b->root_bytenr, b->root_level, &k, &p);
    while (rc > 0) {
        const uint8_t *d;
        uint32_t len;
        bt_item(&p, &k, &d, &len);
        if (k.objectid > BT_LAST_FREE)
            break;
        if (k.type == BT_ROOT_BACKREF && len >= RR_SIZE &&
            gk_le16(d + RR_NAME_LEN) <= len - RR_SIZE && gk_le16(d + RR_NAME_LEN) > 0 &&
            gk_le16(d + RR_NAME_LEN) <= BT_NAME_LEN && (!n || v[n - 1].id != k.objectid)) {
            v = gk_realloc(v, (n + 1) * sizeof *v);
            v[n].id = k.objectid;
            v[n].parent = k.offset;
            v[n].dirid = gk_le64(d + RR_DIRID);
            v[n].name = gk_strndup((const char *)d + RR_SIZE, gk_le16(d + RR_NAME_LEN));
            n++;
        }
        rc = bt_next(b, &p);
    }
    bt_path_release(&p);
    gk_subvol *res = NULL;
    size_t nres = 0;
    uint64_t def = rc >= 0 ? default_subvol(b) : 0;
    for (size_t i = 0; i < n && rc >= 0; i++) {
        /* walk up to the top level: at most n steps, or a loop */
        char path[4096] = "";
        const struct sv_ent *e = &v[i];
        size_t steps = 0;
        int ok = 1;
        while (e && ok) {
            if (++steps > n || steps > MAX_SUBVOL_DEPTH) {
                ok = 0;
                break;
            }
            char dp[4096];
            int pi = root_get(b, e->parent);
            if (pi < 0 || dir_path(b, &b->roots[pi], e->dirid, dp, sizeof dp) < 0) {
                ok = 0;
                break;
            }
            char joined[4096];
            int w = snprintf(joined, sizeof joined, "%s%s%s%s", dp, e->name, *path ? "/" : "", path);
            if (w < 0 || (size_t)w >= sizeof joined) {
                ok = 0;
                break;
            }
            memcpy(path, joined, (size_t)w + 1);
            if (e->parent == BT_FS_TREE)
                break;
            e = sv_find(v, n, e->parent);
            if (!e)
                ok = 0;                 /* parent deleted or unreachable */
        }
        if (!ok) {
            gk_debug("btrfs: subvolume %llu: no path from the top level (%s), not listed",
                     (unsigned long long)v[i].id, gk_errmsg());
            continue;
        }
        res = gk_realloc(res, (nres + 1) * sizeof *res);
        res[nres].id = v[i].id;
        res[nres].path = gk_strdup(path);
        res[nres].is_default = v[i].id == def;
        res[nres].top_level = v[i].parent;
        nres++;
    }
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
    if (rc < 0) {
        gk_subvols_free(res, nres);
        return rc;
    }
    *out = res;
    *nout = nres;
    return 0;
}

/* The default subvolume: the "default" entry of the root tree directory. */
static uint64_t default_subvol(btrfs *b)
{
    uint8_t *d;
    uint32_t len;
    bt_key k = {BT_ROOT_TREE_DIR, BT_DIR_ITEM, bt_name_hash("default", 7)};
    uint64_t id = BT_FS_TREE;
    if (bt_lookup_item(b, b->root_bytenr, b->root_level, &k, &d, &len) > 0) {
        bt_key loc;
        const char *n;
        const uint8_t *val;
        size_t nl, vl;
        int t;
        for (size_t pos = 0, step; pos < len; pos += step) {
            if (!(step = dir_entry(d + pos, len - pos, &loc, &n, &nl, &val, &vl, &t)))
                break;
            if (nl == 7 && memcmp(n, "default", 7) == 0) {
                id = loc.objectid;
                break;
            }
        }
        free(d);
    }
    return id;
}

/* ------------------------------------------------------------------ */
/* Open, close, options                                                */

static void bt_free(btrfs *b)
{
    if (!b)
        return;
    bt_data_close(b);
    bt_cache_free(b);
    bt_volumes_close(b);
    free(b->roots);
    free(b->roots_hash);
    free(b);
}

static void bt_close(gk_fs *fs)
{
    bt_free(fs->priv);
    fs->priv = NULL;
}

static const struct gk_fs_ops btrfs_ops = {
    .name = "btrfs",
    .getattr = bt_getattr,
    .lookup = bt_lookup,
    .readdir = bt_readdir,
    .read = bt_read,
    .readlink = bt_readlink,
    .statvfs = bt_statvfs,
    .listxattr = bt_listxattr,
    .getxattr = bt_getxattr,
    .fmap = bt_fmap,
    .subvolumes = bt_subvolumes,
    .close = bt_close,
};

/* Options of the kernel driver (and generic mount options) that change
 * nothing for a read-only reader. */
static int harmless_option(const char *o)
{
    static const char *const flags[] = {
        "ro", "rw", "defaults", "noatime", "atime", "relatime", "norelatime", "strictatime",
        "nodiratime", "diratime", "lazytime", "nolazytime", "auto", "noauto", "nofail", "user",
        "nouser", "users", "owner", "group", "nosuid", "suid", "nodev", "dev", "noexec", "exec",
        "sync", "async", "dirsync", "_netdev", "silent", "loud", "iversion", "noiversion",
        "mand", "nomand", "compress", "compress-force", "ssd", "nossd", "ssd_spread",
        "nossd_spread", "discard", "nodiscard", "space_cache", "nospace_cache", "clear_cache",
        "autodefrag", "noautodefrag", "degraded", "acl", "noacl", "datacow", "nodatacow",
        "datasum", "nodatasum", "barrier", "nobarrier", "flushoncommit", "noflushoncommit",
        "treelog", "notreelog", "skip_balance", "user_subvol_rm_allowed", "usebackuproot",
        "nologreplay", "norecovery", "recovery", "enospc_debug", "noenospc_debug",
        "rescan_uuid_tree", "inode_cache", "noinode_cache", "check_int", "check_int_data",
    };
    static const char *const keyed[] = {
        "compress=", "compress-force=", "discard=", "space_cache=", "commit=", "device=",
        "thread_pool=", "max_inline=", "metadata_ratio=", "fatal_errors=", "rescue=",
        "subvolrootid=", "check_int_print_mask=", "x-", "context=", "fscontext=",
        "defcontext=", "rootcontext=", "comment=", "uid=", "gid=", "mode=",
    };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (strcmp(o, flags[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof keyed / sizeof keyed[0]; i++)
        if (strncmp(o, keyed[i], strlen(keyed[i])) == 0)
            return 1;
    return 0;
}

/* subvol=PATH from the top level: a subvolume's root directory. */
static int subvol_by_path(btrfs *b, gk_fs *fs, const char *path, uint64_t *out)
{
    int top = root_get(b, BT_FS_TREE);
    if (top < 0)
        return top;
    uint64_t cur = mkid(top, b->roots[top].dirid);
    char comp[BT_NAME_LEN + 1];
    int depth = 0;
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, "/");
        if (n > BT_NAME_LEN)
            return bt_fail(ENAMETOOLONG, "subvol=%s: name too long", path);
        memcpy(comp, p, n);
        comp[n] = 0;
        p += n;
        if (strcmp(comp, ".") == 0)
            continue;
        if (strcmp(comp, "..") == 0 || ++depth > 4096)
            return bt_fail(EINVAL, "subvol=%s: bad path", path);
        int rc = bt_lookup(fs, cur, comp, &cur);
        if (rc < 0) {
            gk_error("subvol=%s: %s", path, rc == -ENOENT ? "No such file or directory" : gk_errmsg());
            return rc;
        }
    }
    const struct bt_root *r;
    uint64_t obj;
    split_id(b, cur, &r, &obj);
    if (obj != r->dirid)
        return bt_fail(EINVAL, "subvol=%s: not a subvolume", path);
    *out = cur;
    return 0;
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno || end == s || *end || *s == '-')
        return -1;
    *v = x;
    return 0;
}

static int apply_options(btrfs *b, gk_fs *fs, const char *opts)
{
    char *subvol = NULL;
    uint64_t subvolid = 0;
    int have_id = 0, rc = 0;
    if (opts && *opts) {
        char *copy = gk_strdup(opts), *save = NULL;
        for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
            if (strncmp(o, "subvol=", 7) == 0) {
                free(subvol);
                subvol = gk_strdup(o + 7);
            } else if (strncmp(o, "subvolid=", 9) == 0) {
                if (parse_u64(o + 9, &subvolid) < 0) {
                    rc = bt_fail(EINVAL, "bad mount option \"%s\"", o);
                    break;
                }
                have_id = 1;
            } else if (!harmless_option(o)) {
                rc = bt_fail(EINVAL, "unknown mount option \"%s\"", o);
                break;
            }
        }
        free(copy);
    }
    if (rc == 0) {
        uint64_t root = 0;
        if (have_id && subvolid == 0)
            subvolid = BT_FS_TREE;          /* like the kernel: 0 means the top level */
        if (subvol && *subvol) {
            rc = subvol_by_path(b, fs, subvol, &root);
            if (rc == 0 && have_id && b->roots[root >> BT_INO_SHIFT].id != subvolid)
                rc = bt_fail(EINVAL, "subvol=%s is not subvolid=%llu", subvol,
                             (unsigned long long)subvolid);
        } else {
            uint64_t id = have_id ? subvolid : default_subvol(b);
            int i = root_get(b, id);
            if (i < 0) {
                rc = i;
            } else {
                root = mkid(i, b->roots[i].dirid);
            }
        }
        if (rc == 0) {
            uint8_t ii[II_LEN];
            rc = read_inode(b, root, ii);
            if (rc == 0 && !S_ISDIR(gk_le32(ii + II_MODE)))
                rc = bt_fail(EIO, "the root of the subvolume is not a directory");
            fs->root_ino = root;
        }
    }
    free(subvol);
    return rc;
}

static const uint64_t supported_incompat =
    BT_INCOMPAT_MIXED_BACKREF | BT_INCOMPAT_DEFAULT_SUBVOL | BT_INCOMPAT_MIXED_GROUPS |
    BT_INCOMPAT_COMPRESS_LZO | BT_INCOMPAT_COMPRESS_ZSTD | BT_INCOMPAT_BIG_METADATA |
    BT_INCOMPAT_EXTENDED_IREF | BT_INCOMPAT_RAID56 | BT_INCOMPAT_SKINNY_METADATA |
    BT_INCOMPAT_NO_HOLES | BT_INCOMPAT_METADATA_UUID | BT_INCOMPAT_RAID1C34 |
    BT_INCOMPAT_SIMPLE_QUOTA;

/* The magic of the primary superblock, or of the first mirror (blkid
 * names nothing when the primary is damaged; open then uses the mirror). */
static int btrfs_probe(gk_dev *dev)
{
    static const uint64_t offs[] = {BT_SUPER_OFF, 64ull << 20};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        uint8_t m[8], at[8];
        if (gk_range_ok(offs[i], BT_SUPER_SIZE, dev->size) &&
            gk_pread(dev, m, 8, offs[i] + SB_MAGIC) == 0 && gk_le64(m) == BT_MAGIC &&
            gk_pread(dev, at, 8, offs[i] + SB_BYTENR) == 0 && gk_le64(at) == offs[i])
            return 1;
    }
    return 0;
}

static int btrfs_open(gk_dev *dev, const gk_fs_open_args *a, gk_fs **out)
{
    if (a->rw) {
        gk_error("%s: writing btrfs filesystems is not supported", dev->name);
        return -EROFS;
    }
    btrfs *b = gk_calloc(1, sizeof *b);
    b->dev = dev;
    int rc = bt_super_load(b, dev);
    if (rc < 0)
        goto fail;
    if (b->incompat & ~supported_incompat) {
        uint64_t x = b->incompat & ~supported_incompat;
        const char *what = (x & BT_INCOMPAT_ZONED) ? " (zoned)" :
                           (x & BT_INCOMPAT_EXTENT_TREE_V2) ? " (extent tree v2)" :
                           (x & BT_INCOMPAT_RAID_STRIPE) ? " (raid stripe tree)" :
                           (x & BT_INCOMPAT_REMAP_TREE) ? " (remap tree)" : "";
        rc = bt_fail(EINVAL, "unsupported btrfs features 0x%llx%s", (unsigned long long)x, what);
        goto fail;
    }
    bt_cache_init(b);
    if ((rc = bt_volumes_open(b, a->devs)) < 0)
        goto fail;
    b->root_bytenr = gk_le64(b->sb + SB_ROOT);
    b->root_level = b->sb[SB_ROOT_LEVEL];
    if (gk_le64(b->sb + SB_LOG_ROOT))
        gk_warn("%s: btrfs log tree not replayed: changes fsync'ed after the last commit "
                "are not shown", dev->name);
    gk_fs *fs = gk_fs_alloc(&btrfs_ops, dev, "btrfs", b);
    rc = apply_options(b, fs, a->options);
    if (rc < 0) {
        fs->priv = NULL;
        gk_fs_close(fs);
        goto fail;
    }
    *out = fs;
    return 0;
fail:
    bt_free(b);
    return rc < 0 ? rc : -EIO;
}

static const char *const btrfs_types[] = {"btrfs", NULL};

const struct gk_fs_driver gk_fsdrv_btrfs = {
    .name = "btrfs",
    .types = btrfs_types,
    .probe = btrfs_probe,
    .open = btrfs_open,
};
