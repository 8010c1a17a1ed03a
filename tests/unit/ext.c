/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The ext2/3/4 driver against real tools.
 *
 * A source tree (files of several sizes, a sparse file, a ~20 MB file,
 * fast/slow symlinks, hard links, a directory of 2000 entries, device
 * nodes, a fifo) is turned into images with mke2fs -d for several feature
 * sets; debugfs adds xattrs and timestamps with nanoseconds and epoch bits.
 * Oracles: the Linux kernel itself (the image mounted read-only through a
 * loop device: statx, readdir, readlink, l*xattr, statvfs), the source tree
 * (file contents) and dumpe2fs (when mounting is not possible).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "blk-int.h"
#include "fs-int.h"
#include "sh.h"
#include "tap.h"

static char top[64], src[128], img[128], mnt[128];

static char *slurp_cmd(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return gk_strdup("");
    size_t n = 0, cap = 4096;
    char *s = gk_malloc(cap);
    size_t r;
    while ((r = fread(s + n, 1, cap - n - 1, p)) > 0) {
        n += r;
        if (cap - n < 2) {
            cap *= 2;
            s = gk_realloc(s, cap);
        }
    }
    s[n] = 0;
    pclose(p);
    return s;
}

static void write_file(const char *path, const void *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, data, n) != (ssize_t)n)
        abort();
    close(fd);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint8_t rnd8(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint8_t)rng;
}

static void make_tree(void)
{
    char p[512];
    snprintf(p, sizeof p, "%s/many", src);
    mkdir(src, 0755);
    mkdir(p, 0755);
    for (int i = 0; i < 2000; i++) {
        snprintf(p, sizeof p, "%s/many/entry-with-a-longish-name-%04d", src, i);
        write_file(p, p, (size_t)(i % 7));
    }
    snprintf(p, sizeof p, "%s/small.txt", src);
    write_file(p, "hello, world\n", 13);
    snprintf(p, sizeof p, "%s/empty", src);
    write_file(p, "", 0);
    size_t sizes[] = {4096, 100000, 20u << 20};
    const char *names[] = {"block", "medium", "big"};
    for (int k = 0; k < 3; k++) {
        uint8_t *b = gk_malloc(sizes[k]);
        for (size_t i = 0; i < sizes[k]; i++)
            b[i] = rnd8();
        snprintf(p, sizeof p, "%s/%s", src, names[k]);
        write_file(p, b, sizes[k]);
        free(b);
    }
    /* sparse: data at 0, 5 MiB, 12 MiB + 100 and at the end (16 MiB); no
     * trailing hole: mke2fs 1.47.0 -d -O inline_data loses its size */
    snprintf(p, sizeof p, "%s/sparse", src);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    uint8_t blk[9000];
    for (size_t i = 0; i < sizeof blk; i++)
        blk[i] = rnd8() | 1;
    if (pwrite(fd, blk, 5000, 0) != 5000 || pwrite(fd, blk, 9000, 5 << 20) != 9000 ||
        pwrite(fd, blk, 100, (12 << 20) + 100) != 100 ||
        pwrite(fd, blk, 100, (16 << 20) - 100) != 100)
        abort();
    close(fd);
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/medium", src);
    snprintf(b, sizeof b, "%s/hardlink", src);
    if (link(a, b) != 0)
        abort();
    snprintf(b, sizeof b, "%s/fastlink", src);
    if (symlink("small.txt", b) != 0)
        abort();
    char longt[201];
    memset(longt, 'x', 200);
    memcpy(longt, "../", 3);
    longt[200] = 0;
    snprintf(b, sizeof b, "%s/slowlink", src);
    if (symlink(longt, b) != 0)
        abort();
    snprintf(b, sizeof b, "%s/sub", src);
    mkdir(b, 0700);
    snprintf(b, sizeof b, "%s/sub/dangling", src);
    if (symlink("/nonexistent/target", b) != 0)
        abort();
    snprintf(b, sizeof b, "%s/fifo", src);
    mkfifo(b, 0600);
    snprintf(b, sizeof b, "%s/chr", src);
    mknod(b, S_IFCHR | 0600, makedev(4, 65));
    snprintf(b, sizeof b, "%s/blk", src);
    mknod(b, S_IFBLK | 0600, makedev(259, 70000));
    run("chown -h 1234:5678 '%s/small.txt' '%s/fastlink'", src, src);
    run("touch -h -d '2021-03-04 05:06:07' '%s/medium' '%s/fastlink'", src, src);
}

/* ---- walking our tree and the kernel's ---- */

struct names { char **v; uint64_t *ino; int *dt; size_t n; };

static int collect(void *opaque, const char *name, uint64_t ino, int d_type)
{
    struct names *ns = opaque;
    ns->v = gk_realloc(ns->v, (ns->n + 1) * sizeof *ns->v);
    ns->ino = gk_realloc(ns->ino, (ns->n + 1) * sizeof *ns->ino);
    ns->dt = gk_realloc(ns->dt, (ns->n + 1) * sizeof *ns->dt);
    ns->v[ns->n] = gk_strdup(name);
    ns->ino[ns->n] = ino;
    ns->dt[ns->n++] = d_type;
    return 0;
}

static void names_free(struct names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        free(ns->v[i]);
    free(ns->v);
    free(ns->ino);
    free(ns->dt);
    memset(ns, 0, sizeof *ns);
}

struct stats { int checked, bad_attr, bad_data, bad_dir, bad_link, bad_xattr, bad_lookup, bad_fmap; };

static int same_ts(struct timespec a, struct statx_timestamp b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == (long)b.tv_nsec;
}

/* Reference bytes of a file: the kernel's view when mounted, else the source. */
static uint8_t *ref_file(const char *rel, int mounted, size_t *len)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", mounted ? mnt : src, rel);
    int fd = open(p, O_RDONLY);
    if (fd < 0)
        return NULL;
    struct stat st;
    fstat(fd, &st);
    uint8_t *b = gk_malloc((size_t)st.st_size + 1);
    size_t n = 0;
    ssize_t r;
    while (n < (size_t)st.st_size && (r = read(fd, b + n, (size_t)st.st_size - n)) > 0)
        n += (size_t)r;
    close(fd);
    *len = n;
    return b;
}

static void check_node(gk_fs *fs, const char *rel, uint64_t ino, int dt, int mounted, struct stats *s)
{
    char kp[1024];
    snprintf(kp, sizeof kp, "%s/%s", mnt, rel);
    gk_stat st;
    s->checked++;
    if (fs->ops->getattr(fs, ino, &st) < 0) {
        printf("# %s: getattr: %s\n", rel, gk_errmsg());
        s->bad_attr++;
        return;
    }
    if (dt != DT_UNKNOWN && dt != (int)IFTODT(st.mode)) {
        printf("# %s: d_type %d vs mode 0%o\n", rel, dt, st.mode);
        s->bad_dir++;
    }
    if (mounted) {
        struct statx k;
        if (statx(AT_FDCWD, kp, AT_SYMLINK_NOFOLLOW, STATX_ALL | STATX_BTIME, &k) != 0) {
            printf("# %s: kernel statx failed\n", rel);
            s->bad_attr++;
        } else if (k.stx_ino != ino || k.stx_mode != st.mode || k.stx_nlink != st.nlink ||
                   k.stx_uid != st.uid || k.stx_gid != st.gid || k.stx_size != st.size ||
                   k.stx_blocks != st.blocks ||
                   makedev(k.stx_rdev_major, k.stx_rdev_minor) != st.rdev ||
                   !same_ts(st.atime, k.stx_atime) || !same_ts(st.mtime, k.stx_mtime) ||
                   !same_ts(st.ctime, k.stx_ctime) ||
                   ((k.stx_mask & STATX_BTIME) && !same_ts(st.crtime, k.stx_btime))) {
            printf("# %s: attrs differ: ino %llu/%llu mode %o/%o nlink %u/%u uid %u/%u gid %u/%u "
                   "size %llu/%llu blocks %llu/%llu rdev %llx/%llx mtime %lld.%09ld/%lld.%09u "
                   "atime %lld.%09ld/%lld.%09u crtime %lld.%09ld/%lld.%09u\n",
                   rel, (unsigned long long)ino, (unsigned long long)k.stx_ino, st.mode,
                   k.stx_mode, st.nlink, k.stx_nlink, st.uid, k.stx_uid, st.gid, k.stx_gid,
                   (unsigned long long)st.size, (unsigned long long)k.stx_size,
                   (unsigned long long)st.blocks, (unsigned long long)k.stx_blocks,
                   (unsigned long long)st.rdev,
                   (unsigned long long)makedev(k.stx_rdev_major, k.stx_rdev_minor),
                   (long long)st.mtime.tv_sec, st.mtime.tv_nsec, (long long)k.stx_mtime.tv_sec,
                   k.stx_mtime.tv_nsec, (long long)st.atime.tv_sec, st.atime.tv_nsec,
                   (long long)k.stx_atime.tv_sec, k.stx_atime.tv_nsec,
                   (long long)st.crtime.tv_sec, st.crtime.tv_nsec,
                   (long long)k.stx_btime.tv_sec, k.stx_btime.tv_nsec);
            s->bad_attr++;
        }
        /* xattrs */
        char kl[8192], ol[8192];
        ssize_t kn = llistxattr(kp, kl, sizeof kl);
        ssize_t on = fs->ops->listxattr(fs, ino, ol, sizeof ol);
        if (kn < 0)
            kn = 0;
        /* compare as sets: the order may differ */
        int xbad = on < 0 || on != kn;
        for (ssize_t i = 0; !xbad && i < kn; i += (ssize_t)strlen(kl + i) + 1) {
            int found = 0;
            for (ssize_t j = 0; j < on; j += (ssize_t)strlen(ol + j) + 1)
                found |= strcmp(kl + i, ol + j) == 0;
            char kv[8192], ov[8192];
            ssize_t kvn = lgetxattr(kp, kl + i, kv, sizeof kv);
            ssize_t ovn = fs->ops->getxattr(fs, ino, kl + i, ov, sizeof ov);
            if (!found || kvn != ovn || (kvn > 0 && memcmp(kv, ov, (size_t)kvn) != 0)) {
                printf("# %s: xattr %s differs (%zd vs %zd bytes)\n", rel, kl + i, ovn, kvn);
                xbad = 1;
            }
        }
        if (xbad) {
            printf("# %s: xattr lists differ (%zd vs %zd)\n", rel, on, kn);
            s->bad_xattr++;
        }
    }
    if (S_ISREG(st.mode)) {
        size_t rlen = 0;
        uint8_t *ref = ref_file(rel, mounted, &rlen);
        uint8_t *got = gk_malloc(st.size + 1);
        uint64_t off = 0;
        /* odd-sized requests cross block and extent boundaries */
        size_t chunk = st.size > (1 << 20) ? (1 << 20) + 4097 : 3001;
        while (off < st.size) {
            ssize_t r = fs->ops->read(fs, ino, got + off, chunk, off);
            if (r <= 0)
                break;
            off += (uint64_t)r;
        }
        ssize_t eof = fs->ops->read(fs, ino, got, 10, st.size);
        if (!ref || off != st.size || rlen != st.size || memcmp(ref, got, rlen) != 0 || eof != 0) {
            printf("# %s: contents differ (%llu of %llu bytes read): %s\n", rel,
                   (unsigned long long)off, (unsigned long long)st.size, gk_errmsg());
            s->bad_data++;
        }
        gk_fmap *m;
        size_t nm;
        if (fs->ops->fmap(fs, ino, &m, &nm) == 0) {
            /* runs are ordered, inside the file, and every non-zero byte is in one */
            uint64_t pos = 0;
            int fbad = 0;
            for (size_t i = 0; i < nm && ref; i++) {
                if (m[i].logical < pos || m[i].logical + m[i].len > st.size)
                    fbad = 1;
                for (uint64_t k = pos; k < m[i].logical && k < rlen && !fbad; k++)
                    fbad = ref[k] != 0;
                pos = m[i].logical + m[i].len;
            }
            for (uint64_t k = pos; k < rlen && !fbad; k++)
                fbad = ref[k] != 0;
            if (fbad) {
                printf("# %s: fmap misses data\n", rel);
                s->bad_fmap++;
            }
            if (strcmp(rel, "sparse") == 0) {
                uint64_t mapped = 0;
                for (size_t i = 0; i < nm; i++)
                    mapped += m[i].len;
                if (nm < 3 || mapped > (1 << 20)) {
                    printf("# sparse: %zu runs, %llu bytes mapped\n", nm, (unsigned long long)mapped);
                    s->bad_fmap++;
                }
            }
            free(m);
        } else {
            s->bad_fmap++;
        }
        free(ref);
        free(got);
    } else if (S_ISLNK(st.mode)) {
        char t[4096], r[4096];
        ssize_t n = fs->ops->readlink(fs, ino, t, sizeof t);
        char sp[1024];
        snprintf(sp, sizeof sp, "%s/%s", mounted ? mnt : src, rel);
        ssize_t rn = readlink(sp, r, sizeof r);
        if (n < 0 || n != rn || memcmp(t, r, (size_t)n) != 0) {
            printf("# %s: readlink differs\n", rel);
            s->bad_link++;
        }
    }
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walk dir (rel path) comparing with the kernel (or the source tree). */
static void walk(gk_fs *fs, const char *rel, uint64_t ino, int mounted, struct stats *s)
{
    struct names ns = {0};
    if (fs->ops->readdir(fs, ino, collect, &ns) < 0) {
        printf("# %s: readdir: %s\n", rel, gk_errmsg());
        s->bad_dir++;
        return;
    }
    /* kernel / source listing */
    char kp[1024];
    snprintf(kp, sizeof kp, "%s/%s", mounted ? mnt : src, rel);
    DIR *d = opendir(kp);
    char **kn = NULL;
    size_t nk = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (!mounted && !strcmp(de->d_name, "lost+found"))
            continue;
        kn = gk_realloc(kn, (nk + 1) * sizeof *kn);
        kn[nk++] = gk_strdup(de->d_name);
    }
    if (d)
        closedir(d);
    char **on = gk_malloc((ns.n + 1) * sizeof *on);
    size_t no = 0;
    for (size_t i = 0; i < ns.n; i++)
        if (mounted || strcmp(ns.v[i], "lost+found"))
            on[no++] = ns.v[i];
    if (nk)
        qsort(kn, nk, sizeof *kn, name_cmp);
    if (no)
        qsort(on, no, sizeof *on, name_cmp);
    int same = nk == no;
    for (size_t i = 0; same && i < nk; i++)
        same = strcmp(kn[i], on[i]) == 0;
    if (!same) {
        printf("# %s: directory listing differs (%zu vs %zu entries)\n", rel, no, nk);
        s->bad_dir++;
    }
    for (size_t i = 0; i < nk; i++)
        free(kn[i]);
    free(kn);
    free(on);
    for (size_t i = 0; i < ns.n; i++) {
        char child[1024];
        snprintf(child, sizeof child, "%s%s%s", rel, *rel ? "/" : "", ns.v[i]);
        uint64_t li = 0;
        if (fs->ops->lookup(fs, ino, ns.v[i], &li) < 0 || li != ns.ino[i]) {
            printf("# %s: lookup gives %llu, readdir %llu\n", child, (unsigned long long)li,
                   (unsigned long long)ns.ino[i]);
            s->bad_lookup++;
        }
        if (!mounted && !strcmp(ns.v[i], "lost+found"))
            continue;
        check_node(fs, child, ns.ino[i], ns.dt[i], mounted, s);
        if (ns.dt[i] == DT_DIR)
            walk(fs, child, ns.ino[i], mounted, s);
    }
    uint64_t x;
    if (fs->ops->lookup(fs, ino, "no-such-name", &x) != -ENOENT) {
        printf("# %s: lookup of a missing name\n", rel);
        s->bad_lookup++;
    }
    names_free(&ns);
}

/* crc32 and size of the image, to prove we did not write to it. */
static char *image_sum(void)
{
    int fd = open(img, O_RDONLY);
    static uint8_t b[1 << 20];
    uint32_t crc = 0;
    uint64_t total = 0;
    ssize_t r;
    size_t have = 0;
    /* gk_crc32 has no running form: fold block crcs into a running one */
    while (fd >= 0 && (r = read(fd, b, sizeof b)) > 0) {
        uint32_t c = gk_crc32(b, (size_t)r);
        crc = crc * 31u + c;
        total += (uint64_t)r;
        have = 1;
    }
    if (fd >= 0)
        close(fd);
    return gk_asprintf("%08x/%llu/%zu", crc, (unsigned long long)total, have);
}

static uint64_t dumpe2fs_field(const char *out, const char *key)
{
    const char *p = strstr(out, key);
    if (!p)
        return (uint64_t)-1;
    p += strlen(key);
    while (*p == ' ' || *p == ':')
        p++;
    return strtoull(p, NULL, 10);
}

struct variant { const char *name, *mkfs; int inode_extra; };

static void test_variant(const struct variant *v, int can_mount)
{
    unlink(img);
    run("truncate -s 64M '%s'", img);
    if (run("mke2fs -q -F -U 6f1c3d2e-8f4b-4a5e-9c1d-2b3a4c5d6e7f "
            "-E hash_seed=6f1c3d2e-8f4b-4a5e-9c1d-2b3a4c5d6e7f %s -d '%s' '%s' >/dev/null 2>&1",
            v->mkfs, src, img) != 0) {
        ok(0, "%s: mke2fs", v->name);
        return;
    }
    /* xattrs (inline and in an xattr block) and timestamps with nanoseconds
     * and epoch bits, written by debugfs */
    char cmds[512], big[600];
    snprintf(cmds, sizeof cmds, "%s/cmds", top);
    snprintf(big, sizeof big, "%s/bigval", top);
    char val[700];
    memset(val, 'v', sizeof val);
    write_file(big, val, sizeof val);
    FILE *f = fopen(cmds, "w");
    fprintf(f, "ea_set /small.txt user.greeting hello\n");
    fprintf(f, "ea_set /small.txt trusted.t secret\n");
    fprintf(f, "ea_set -f %s /medium user.big\n", big);
    fprintf(f, "ea_set /sub security.selinux system_u:object_r:etc_t:s0\n");
    if (v->inode_extra) {
        fprintf(f, "sif /small.txt mtime_extra 0x1d6f3455\n");   /* .123456789 */
        fprintf(f, "sif /small.txt atime_extra 0x00000001\n");   /* +2^32 s */
        fprintf(f, "sif /block crtime_extra 0x00000ffe\n");
        fprintf(f, "sif /block ctime 0xfffffff0\n");             /* before 1970 */
    }
    fclose(f);
    run("debugfs -w -f '%s' '%s' >/dev/null 2>&1", cmds, img);
    char *sum0 = image_sum();

    int mounted = can_mount && run("mount -o ro,loop '%s' '%s' 2>/dev/null", img, mnt) == 0;
    gk_dev *d = gk_open_image(img, &(gk_open_opts){.format = "raw"});
    gk_fs *fs = d ? gk_fs_open(d, NULL, 0) : NULL;
    if (!ok(fs != NULL, "%s: open: %s", v->name, fs ? fs->type : gk_errmsg())) {
        if (mounted)
            run("umount '%s'", mnt);
        gk_dev_unref(d);
        return;
    }
    struct stats s = {0};
    walk(fs, "", fs->root_ino, mounted, &s);
    ok(s.checked > 2000 && !s.bad_attr && !s.bad_data && !s.bad_dir && !s.bad_link &&
       !s.bad_xattr && !s.bad_lookup && !s.bad_fmap,
       "%s: %d files compared with %s: attrs %d, data %d, dirs %d, links %d, xattrs %d, "
       "lookups %d, fmap %d differ", v->name, s.checked, mounted ? "the kernel" : "the source tree",
       s.bad_attr, s.bad_data, s.bad_dir, s.bad_link, s.bad_xattr, s.bad_lookup, s.bad_fmap);

    /* getxattr of ACL-free names and of a missing one */
    uint64_t ino;
    char buf[64];
    if (fs->ops->lookup(fs, fs->root_ino, "small.txt", &ino) == 0) {
        ssize_t n = fs->ops->getxattr(fs, ino, "user.greeting", buf, sizeof buf);
        ok(n == 5 && memcmp(buf, "hello", 5) == 0, "%s: getxattr user.greeting", v->name);
        ok(fs->ops->getxattr(fs, ino, "user.nope", buf, sizeof buf) == -ENODATA,
           "%s: getxattr of a missing name is ENODATA", v->name);
        ok(fs->ops->listxattr(fs, ino, NULL, 0) == (ssize_t)sizeof "user.greeting\0trusted.t",
           "%s: listxattr with a zero buffer returns the size", v->name);
    }

    gk_statvfs sv;
    ok(fs->ops->statvfs(fs, &sv) == 0, "%s: statvfs", v->name);
    if (mounted) {
        struct statvfs k;
        statvfs(mnt, &k);
        ok(sv.bsize == k.f_bsize && sv.blocks == k.f_blocks && sv.bfree == k.f_bfree &&
           sv.bavail == k.f_bavail && sv.files == k.f_files && sv.ffree == k.f_ffree &&
           sv.namemax == k.f_namemax && sv.fsid == k.f_fsid,
           "%s: statvfs as the kernel's: blocks %llu/%llu bfree %llu/%llu bavail %llu/%llu "
           "files %llu/%llu ffree %llu/%llu", v->name,
           (unsigned long long)sv.blocks, (unsigned long long)k.f_blocks,
           (unsigned long long)sv.bfree, (unsigned long long)k.f_bfree,
           (unsigned long long)sv.bavail, (unsigned long long)k.f_bavail,
           (unsigned long long)sv.files, (unsigned long long)k.f_files,
           (unsigned long long)sv.ffree, (unsigned long long)k.f_ffree);
        run("umount '%s'", mnt);
    } else {
        char *cmd = gk_asprintf("dumpe2fs -h '%s' 2>/dev/null", img);
        char *out = slurp_cmd(cmd);
        free(cmd);
        ok(sv.bfree == dumpe2fs_field(out, "Free blocks") &&
           sv.files == dumpe2fs_field(out, "Inode count") &&
           sv.ffree == dumpe2fs_field(out, "Free inodes") &&
           sv.bsize == dumpe2fs_field(out, "Block size"),
           "%s: statvfs counts as dumpe2fs -h", v->name);
        free(out);
    }
    gk_fs_close(fs);
    gk_dev_unref(d);
    char *sum1 = image_sum();
    is_str(sum1, sum0, "%s: the image is unchanged", v->name);
    free(sum0);
    free(sum1);
}

/* Symlinks whose length lies: an error, never a read past the target. */
static void test_bad_symlinks(void)
{
    unlink(img);
    run("truncate -s 64M '%s'", img);
    run("mke2fs -q -F -t ext4 -b 1024 -O inline_data -I 256 -d '%s' '%s' >/dev/null 2>&1", src, img);
    char *cmds = gk_asprintf("%s/cmds", top);
    FILE *f = fopen(cmds, "w");
    free(cmds);
    fprintf(f, "symlink /inl %0120d\n", 7);        /* inline-data symlink */
    fprintf(f, "sif /inl size 0\n");
    fprintf(f, "sif /slowlink size 5000\n");
    fprintf(f, "sif /fastlink size 59\n");
    fprintf(f, "sif /small.txt size 70000\n");    /* inline file grown past its data */
    fclose(f);
    run("debugfs -w -f '%s/cmds' '%s' >/dev/null 2>&1", top, img);
    gk_dev *d = gk_open_image(img, &(gk_open_opts){.format = "raw"});
    gk_fs *fs = gk_fs_open(d, NULL, 0);
    ok(fs != NULL, "corrupt symlinks: open");
    if (!fs) {
        gk_dev_unref(d);
        return;
    }
    uint64_t ino;
    char t[8192];
    ok(fs->ops->lookup(fs, 2, "inl", &ino) == 0 && fs->ops->readlink(fs, ino, t, sizeof t) == -EIO,
       "inline symlink with size 0: EIO (%s)", gk_errmsg());
    ok(fs->ops->lookup(fs, 2, "slowlink", &ino) == 0 && fs->ops->readlink(fs, ino, t, sizeof t) == -EIO,
       "slow symlink longer than a block: EIO (%s)", gk_errmsg());
    ssize_t n = -1;
    if (fs->ops->lookup(fs, 2, "fastlink", &ino) == 0)
        n = fs->ops->readlink(fs, ino, t, sizeof t);
    ok(n == -EIO || n == 59, "fast symlink with a size past its target: bounded (%zd)", n);
    uint8_t *b = gk_malloc(70000);
    ok(fs->ops->lookup(fs, 2, "small.txt", &ino) == 0 &&
       fs->ops->read(fs, ino, b, 70000, 0) == 70000 && memcmp(b, "hello, world\n", 13) == 0 &&
       b[13] == 0 && b[69999] == 0, "inline file with a size past its data reads zeros");
    free(b);
    gk_fs_close(fs);
    gk_dev_unref(d);
}

/* Casefolded directories (+F) look names up case-insensitively, as the
 * kernel does (utf8 casefolding); other directories stay exact. */
static void test_casefold(void)
{
    unlink(img);
    run("rm -rf '%s/cf' && mkdir -p '%s/cf/d' '%s/cf/e' && echo x > '%s/cf/d/Hello.TXT' && "
        "echo y > '%s/cf/e/Hello.TXT'", top, top, top, top, top);
    run("truncate -s 8M '%s'", img);
    if (run("mke2fs -q -F -t ext4 -O casefold -d '%s/cf' '%s' >/dev/null 2>&1", top, img) != 0) {
        ok(1, "# SKIP mke2fs cannot make casefold filesystems");
        return;
    }
    run("debugfs -w -R 'sif /d flags 0x40080000' '%s' >/dev/null 2>&1", img);
    gk_dev *d = gk_open_image(img, &(gk_open_opts){.format = "raw"});
    gk_fs *fs = gk_fs_open(d, NULL, 0);
    uint64_t dir, a = 0, b = 1, c = 0;
    ok(fs && fs->ops->lookup(fs, 2, "d", &dir) == 0 &&
       fs->ops->lookup(fs, dir, "Hello.TXT", &a) == 0 && fs->ops->lookup(fs, dir, "hello.txt", &b) == 0 &&
       a == b, "casefold dir: hello.txt finds Hello.TXT");
    ok(fs && fs->ops->lookup(fs, 2, "e", &dir) == 0 && fs->ops->lookup(fs, dir, "Hello.TXT", &c) == 0 &&
       fs->ops->lookup(fs, dir, "hello.txt", &c) == -ENOENT,
       "plain dir: lookups stay case-sensitive");
    if (fs)
        gk_fs_close(fs);
    gk_dev_unref(d);
}

/* Unwritten extents (fallocate, written by the kernel itself) read as
 * zeros and are not data for fmap. */
static void test_unwritten(int can_mount)
{
    if (!can_mount) {
        ok(1, "# SKIP unwritten extents need a kernel mount");
        return;
    }
    unlink(img);
    run("truncate -s 16M '%s' && mke2fs -q -F -t ext4 '%s' >/dev/null 2>&1", img, img);
    if (run("mount -o loop '%s' '%s' 2>/dev/null", img, mnt) != 0) {
        ok(1, "# SKIP cannot mount read-write");
        return;
    }
    run("fallocate -l 1M '%s/pre' && printf 'middle' | dd of='%s/pre' bs=1 seek=300000 conv=notrunc "
        "status=none && fallocate -l 64k '%s/only' && sync", mnt, mnt, mnt);
    run("umount '%s'", mnt);
    gk_dev *d = gk_open_image(img, &(gk_open_opts){.format = "raw"});
    gk_fs *fs = gk_fs_open(d, NULL, 0);
    uint64_t ino;
    static uint8_t b[1 << 20];
    int good = 0;
    gk_fmap *m = NULL;
    size_t nm = 0;
    if (fs && fs->ops->lookup(fs, 2, "pre", &ino) == 0 &&
        fs->ops->read(fs, ino, b, sizeof b, 0) == (ssize_t)sizeof b) {
        good = memcmp(b + 300000, "middle", 6) == 0;
        for (size_t i = 0; i < sizeof b && good; i++)
            if ((i < 300000 || i >= 300006) && b[i])
                good = 0;
        if (fs->ops->fmap(fs, ino, &m, &nm) == 0)
            good = good && nm == 1 && m[0].logical <= 300000 && m[0].logical + m[0].len >= 300006 &&
                   m[0].len <= 8192;
        free(m);
    }
    ok(good, "fallocated file: unwritten extents read as zeros, fmap has only the written block");
    m = NULL;
    ok(fs && fs->ops->lookup(fs, 2, "only", &ino) == 0 && fs->ops->read(fs, ino, b, 65536, 0) == 65536 &&
       b[0] == 0 && b[65535] == 0 && fs->ops->fmap(fs, ino, &m, &nm) == 0 && nm == 0,
       "fully unwritten file: zeros, no data runs");
    free(m);
    if (fs)
        gk_fs_close(fs);
    gk_dev_unref(d);
}

/* Never leave the image mounted, even when killed (e.g. by a timeout). */
static void on_signal(int sig)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "umount -l '%s' 2>/dev/null; rm -rf '%s'", mnt, top);
    if (system(cmd) < 0)
        _exit(128 + sig);
    _exit(128 + sig);
}

int main(void)
{
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGHUP, on_signal);
    snprintf(top, sizeof top, "/tmp/gkext.XXXXXX");
    if (!mkdtemp(top))
        return 1;
    snprintf(src, sizeof src, "%s/src", top);
    snprintf(img, sizeof img, "%s/fs.img", top);
    snprintf(mnt, sizeof mnt, "%s/mnt", top);
    mkdir(mnt, 0755);
    make_tree();
    int can_mount = getuid() == 0 && !getenv("GK_NO_MOUNT");
    static const struct variant variants[] = {
        {"ext2", "-t ext2 -b 4096", 1},
        {"ext3-1k", "-t ext3 -b 1024", 1},
        {"ext4", "-t ext4", 1},
        {"ext4-1k", "-t ext4 -b 1024", 1},
        {"ext4-64bit-csum", "-t ext4 -O 64bit,metadata_csum", 1},
        {"ext4-inline", "-t ext4 -O inline_data -I 256", 1},
        {"ext4-bigalloc", "-t ext4 -O bigalloc -C 16384", 1},
        {"ext4-128", "-t ext4 -I 128", 0},
        {"ext2-nofiletype", "-t ext2 -O ^filetype", 1},
    };
    for (size_t i = 0; i < sizeof variants / sizeof *variants; i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        test_variant(&variants[i], can_mount);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("# %s: %.1f s\n", variants[i].name,
               (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    }
    test_bad_symlinks();
    test_casefold();
    test_unwritten(can_mount);

    ok(gk_fs_supported("ext4") && gk_fs_supported("ext2") && !gk_fs_supported("hfsplus"),
       "gk_fs_supported");
    gk_dev *d = gk_open_image(img, &(gk_open_opts){.format = "raw"});
    ok(gk_fs_open(d, "hfsplus", 0) == NULL && strstr(gk_errmsg(), "hfsplus"),
       "unsupported type refused: %s", gk_errmsg());
    gk_dev_unref(d);

    run("umount '%s' 2>/dev/null", mnt);
    run("rm -rf '%s'", top);
    return done_testing();
}
