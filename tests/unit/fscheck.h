/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A filesystem driver against the kernel: fscheck_tree() walks a gk_fs and
 * the same filesystem mounted (read-only) by the kernel at a directory, and
 * compares every node reachable from the root:
 *   readdir    names, inode numbers and d_type (against readdir(3))
 *   lookup     every name finds the inode readdir gave
 *   getattr    against statx (mode, links, owner, size, blocks, rdev, the
 *              four timestamps to the nanosecond)
 *   read       whole files in odd-sized pieces, and past EOF
 *   fmap       the data runs against FIEMAP (unwritten extents are holes)
 *   readlink   against readlink(2)
 *   xattrs     llistxattr as sets, every value against lgetxattr
 * For the unit tests of each driver (tests/unit/NAME.c). */
#ifndef GK_FSCHECK_H
#define GK_FSCHECK_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs-int.h"

struct fscheck {
    int checked, bad_attr, bad_data, bad_dir, bad_link, bad_xattr, bad_lookup, bad_fmap;
    int reported;
};

static int fscheck_bad(struct fscheck *s) { return s->bad_attr + s->bad_data + s->bad_dir +
    s->bad_link + s->bad_xattr + s->bad_lookup + s->bad_fmap; }

#define FSCHECK_SAY(s, ...) do { if ((s)->reported++ < 30) printf("# " __VA_ARGS__); } while (0)

struct fsc_ent { char *name; uint64_t ino; int dt; };
struct fsc_names { struct fsc_ent *v; size_t n; };

static int fsc_collect(void *opaque, const char *name, uint64_t ino, int d_type)
{
    struct fsc_names *ns = opaque;
    ns->v = gk_realloc(ns->v, (ns->n + 1) * sizeof *ns->v);
    ns->v[ns->n].name = gk_strdup(name);
    ns->v[ns->n].ino = ino;
    ns->v[ns->n++].dt = d_type;
    return 0;
}

static void fsc_names_free(struct fsc_names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->v[i].name);
    free(ns->v);
    memset(ns, 0, sizeof *ns);
}

static int fsc_ts(struct timespec a, struct statx_timestamp b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == (long)b.tv_nsec;
}

/* The kernel's data runs: FIEMAP without unwritten extents, merged,
 * clipped to size. */
static size_t fsc_fiemap(const char *path, uint64_t size, gk_fmap **out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return (size_t)-1;
    size_t n = 0, cap = 0;
    uint64_t start = 0;
    enum { N = 512 };
    struct fiemap *fm = gk_calloc(1, sizeof *fm + N * sizeof(struct fiemap_extent));
    for (;;) {
        memset(fm, 0, sizeof *fm);
        fm->fm_start = start;
        fm->fm_length = FIEMAP_MAX_OFFSET - start;
        fm->fm_flags = FIEMAP_FLAG_SYNC;
        fm->fm_extent_count = N;
        if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0) {
            n = (size_t)-1;
            break;
        }
        int last = fm->fm_mapped_extents == 0;
        for (unsigned i = 0; i < fm->fm_mapped_extents; i++) {
            struct fiemap_extent *e = &fm->fm_extents[i];
            start = e->fe_logical + e->fe_length;
            if (e->fe_flags & FIEMAP_EXTENT_LAST)
                last = 1;
            if (e->fe_flags & FIEMAP_EXTENT_UNWRITTEN || e->fe_logical >= size)
                continue;
            uint64_t l = e->fe_length < size - e->fe_logical ? e->fe_length : size - e->fe_logical;
            if (n && (*out)[n - 1].logical + (*out)[n - 1].len == e->fe_logical) {
                (*out)[n - 1].len += l;
                continue;
            }
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                *out = gk_realloc(*out, cap * sizeof **out);
            }
            (*out)[n].logical = e->fe_logical;
            (*out)[n++].len = l;
        }
        if (last)
            break;
    }
    free(fm);
    close(fd);
    return n;
}

static void fsc_file(gk_fs *fs, const char *kp, const char *rel, uint64_t ino, const gk_stat *st,
                     struct fscheck *s)
{
    int fd = open(kp, O_RDONLY);
    uint8_t *ref = gk_malloc(st->size + 1), *got = gk_malloc(st->size + 1);
    size_t rlen = 0;
    ssize_t r;
    while (fd >= 0 && rlen < st->size && (r = read(fd, ref + rlen, st->size - rlen)) > 0)
        rlen += (size_t)r;
    if (fd >= 0)
        close(fd);
    uint64_t off = 0;
    /* odd-sized requests cross block and extent boundaries */
    size_t chunk = st->size > (1 << 20) ? (1 << 20) + 4097 : 3001;
    while (off < st->size) {
        r = fs->ops->read(fs, ino, got + off, chunk, off);
        if (r <= 0)
            break;
        off += (uint64_t)r;
    }
    uint8_t tail[16];
    ssize_t eof = fs->ops->read(fs, ino, tail, sizeof tail, st->size);
    if (off != st->size || rlen != st->size || memcmp(ref, got, rlen) != 0 || eof != 0) {
        FSCHECK_SAY(s, "%s: contents differ (%llu of %llu bytes read): %s\n", rel,
                    (unsigned long long)off, (unsigned long long)st->size, gk_errmsg());
        s->bad_data++;
    }
    gk_fmap *m = NULL, *k = NULL;
    size_t nm = 0;
    size_t nk = fsc_fiemap(kp, st->size, &k);
    int fb = fs->ops->fmap(fs, ino, &m, &nm) < 0 || nk == (size_t)-1 || nk != nm;
    for (size_t i = 0; !fb && i < nm; i++)
        fb = m[i].logical != k[i].logical || m[i].len != k[i].len;
    if (fb) {
        FSCHECK_SAY(s, "%s: fmap: %zu runs, FIEMAP %zd\n", rel, nm, (ssize_t)nk);
        s->bad_fmap++;
    }
    free(m);
    free(k);
    free(ref);
    free(got);
}

static void fsc_xattrs(gk_fs *fs, const char *kp, const char *rel, uint64_t ino, struct fscheck *s)
{
    static char kl[1 << 16], ol[1 << 16];
    static uint8_t kv[1 << 16], ov[1 << 16];
    ssize_t kn = llistxattr(kp, kl, sizeof kl);
    ssize_t on = fs->ops->listxattr ? fs->ops->listxattr(fs, ino, ol, sizeof ol) : 0;
    ssize_t q = fs->ops->listxattr ? fs->ops->listxattr(fs, ino, NULL, 0) : 0;
    if (kn < 0)
        kn = 0;
    int bad = on < 0 || on != kn || q != on;
    for (ssize_t i = 0; !bad && i < kn; i += (ssize_t)strlen(kl + i) + 1) {
        int found = 0;
        for (ssize_t j = 0; j < on; j += (ssize_t)strlen(ol + j) + 1)
            found |= strcmp(kl + i, ol + j) == 0;
        ssize_t kvn = lgetxattr(kp, kl + i, kv, sizeof kv);
        ssize_t ovn = fs->ops->getxattr(fs, ino, kl + i, ov, sizeof ov);
        ssize_t oq = fs->ops->getxattr(fs, ino, kl + i, NULL, 0);
        if (!found || kvn != ovn || oq != ovn || (kvn > 0 && memcmp(kv, ov, (size_t)kvn) != 0)) {
            FSCHECK_SAY(s, "%s: xattr %s differs (%zd vs %zd bytes)\n", rel, kl + i, ovn, kvn);
            bad = 1;
        }
    }
    if (fs->ops->getxattr && fs->ops->getxattr(fs, ino, "user.no-such-attribute", ov, sizeof ov) !=
                                 -ENODATA)
        bad = 1;
    if (bad) {
        FSCHECK_SAY(s, "%s: xattr lists differ (%zd vs %zd bytes)\n", rel, on, kn);
        s->bad_xattr++;
    }
}

static void fsc_node(gk_fs *fs, const char *kp, const char *rel, uint64_t ino, int dt,
                     struct fscheck *s)
{
    gk_stat st;
    s->checked++;
    if (fs->ops->getattr(fs, ino, &st) < 0) {
        FSCHECK_SAY(s, "%s: getattr: %s\n", rel, gk_errmsg());
        s->bad_attr++;
        return;
    }
    if (dt != DT_UNKNOWN && dt != (int)IFTODT(st.mode)) {
        FSCHECK_SAY(s, "%s: d_type %d vs mode 0%o\n", rel, dt, st.mode);
        s->bad_dir++;
    }
    struct statx k;
    if (statx(AT_FDCWD, kp, AT_SYMLINK_NOFOLLOW, STATX_ALL | STATX_BTIME, &k) != 0) {
        FSCHECK_SAY(s, "%s: kernel statx failed\n", rel);
        s->bad_attr++;
        return;
    }
    if (k.stx_ino != ino || k.stx_mode != st.mode || k.stx_nlink != st.nlink ||
        k.stx_uid != st.uid || k.stx_gid != st.gid || k.stx_size != st.size ||
        k.stx_blocks != st.blocks || makedev(k.stx_rdev_major, k.stx_rdev_minor) != st.rdev ||
        !fsc_ts(st.atime, k.stx_atime) || !fsc_ts(st.mtime, k.stx_mtime) ||
        !fsc_ts(st.ctime, k.stx_ctime) ||
        ((k.stx_mask & STATX_BTIME) && !fsc_ts(st.crtime, k.stx_btime))) {
        FSCHECK_SAY(s, "%s: attrs differ: ino %llu/%llu mode %o/%o nlink %u/%u uid %u/%u gid %u/%u "
                    "size %llu/%llu blocks %llu/%llu rdev %llx/%llx mtime %lld.%09ld/%lld.%09u "
                    "atime %lld.%09ld/%lld.%09u btime %lld.%09ld/%lld.%09u\n",
                    rel, (unsigned long long)ino, (unsigned long long)k.stx_ino, st.mode,
                    k.stx_mode, st.nlink, k.stx_nlink, st.uid, k.stx_uid, st.gid, k.stx_gid,
                    (unsigned long long)st.size, (unsigned long long)k.stx_size,
                    (unsigned long long)st.blocks, (unsigned long long)k.stx_blocks,
                    (unsigned long long)st.rdev,
                    (unsigned long long)makedev(k.stx_rdev_major, k.stx_rdev_minor),
                    (long long)st.mtime.tv_sec, st.mtime.tv_nsec, (long long)k.stx_mtime.tv_sec,
                    k.stx_mtime.tv_nsec, (long long)st.atime.tv_sec, st.atime.tv_nsec,
                    (long long)k.stx_atime.tv_sec, k.stx_atime.tv_nsec, (long long)st.crtime.tv_sec,
                    st.crtime.tv_nsec, (long long)k.stx_btime.tv_sec, k.stx_btime.tv_nsec);
        s->bad_attr++;
    }
    fsc_xattrs(fs, kp, rel, ino, s);
    if (S_ISREG(st.mode)) {
        fsc_file(fs, kp, rel, ino, &st, s);
    } else if (S_ISLNK(st.mode)) {
        char t[8192], r[8192];
        ssize_t n = fs->ops->readlink(fs, ino, t, sizeof t);
        ssize_t rn = readlink(kp, r, sizeof r);
        ssize_t n5 = fs->ops->readlink(fs, ino, t + 4096, 5);
        if (n < 0 || n != rn || memcmp(t, r, (size_t)n) != 0 || n5 != (n < 5 ? n : 5) ||
            memcmp(t, t + 4096, (size_t)(n5 > 0 ? n5 : 0)) != 0) {
            FSCHECK_SAY(s, "%s: readlink differs\n", rel);
            s->bad_link++;
        }
    }
}

static int fsc_cmp(const void *a, const void *b)
{
    return strcmp(((const struct fsc_ent *)a)->name, ((const struct fsc_ent *)b)->name);
}

static void fsc_walk(gk_fs *fs, const char *mnt, const char *rel, uint64_t ino, struct fscheck *s,
                     int depth)
{
    char kp[8192];
    snprintf(kp, sizeof kp, "%s/%s", mnt, rel);
    struct fsc_names ns = {0}, kn = {0};
    if (fs->ops->readdir(fs, ino, fsc_collect, &ns) < 0) {
        FSCHECK_SAY(s, "%s: readdir: %s\n", rel, gk_errmsg());
        s->bad_dir++;
        return;
    }
    DIR *d = opendir(kp);
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            fsc_collect(&kn, de->d_name, de->d_ino, de->d_type);
    if (d)
        closedir(d);
    if (ns.n > 1)
        qsort(ns.v, ns.n, sizeof *ns.v, fsc_cmp);
    if (kn.n > 1)
        qsort(kn.v, kn.n, sizeof *kn.v, fsc_cmp);
    int same = ns.n == kn.n;
    for (size_t i = 0; same && i < ns.n; i++)
        same = !strcmp(ns.v[i].name, kn.v[i].name) && ns.v[i].ino == kn.v[i].ino &&
               (kn.v[i].dt == DT_UNKNOWN || ns.v[i].dt == DT_UNKNOWN || ns.v[i].dt == kn.v[i].dt);
    if (!same) {
        FSCHECK_SAY(s, "%s: directory differs: %zu entries, kernel %zu\n", rel, ns.n, kn.n);
        s->bad_dir++;
    }
    for (size_t i = 0; i < ns.n; i++) {
        const struct fsc_ent *e = &ns.v[i];
        char child[4096], ckp[8192];
        snprintf(child, sizeof child, "%s%s%s", rel, *rel ? "/" : "", e->name);
        snprintf(ckp, sizeof ckp, "%s/%s", mnt, child);
        uint64_t li = 0;
        if (fs->ops->lookup(fs, ino, e->name, &li) < 0 || li != e->ino) {
            FSCHECK_SAY(s, "%s: lookup gives %llu, readdir %llu: %s\n", child,
                        (unsigned long long)li, (unsigned long long)e->ino, gk_errmsg());
            s->bad_lookup++;
        }
        fsc_node(fs, ckp, child, e->ino, e->dt, s);
        gk_stat st;
        if (depth < 64 && fs->ops->getattr(fs, e->ino, &st) == 0 && S_ISDIR(st.mode))
            fsc_walk(fs, mnt, child, e->ino, s, depth + 1);
    }
    uint64_t li;
    if (fs->ops->lookup(fs, ino, "no such name, surely", &li) != -ENOENT) {
        FSCHECK_SAY(s, "%s: lookup of a missing name did not say ENOENT\n", rel);
        s->bad_lookup++;
    }
    fsc_names_free(&ns);
    fsc_names_free(&kn);
}

static void fscheck_tree(gk_fs *fs, const char *mnt, struct fscheck *s)
{
    memset(s, 0, sizeof *s);
    fsc_node(fs, mnt, "/", fs->root_ino, DT_DIR, s);
    fsc_walk(fs, mnt, "", fs->root_ino, s, 0);
}

#endif
