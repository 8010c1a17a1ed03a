/* SPDX-License-Identifier: GPL-2.0-or-later */
/* e2fsprogs' corrupt images: open each one and walk the whole tree through
 * the ext driver (readdir, getattr, read every file, readlink, xattrs,
 * fmap, statvfs).  Errors are expected; crashes, sanitizer reports and hangs
 * are not.  Bounded per image by entries, depth and time. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "blk.h"
#include "fs-int.h"
#include "tap.h"

#define CORPUS "/work/shared/corpus/ext-corrupt"
#define MAX_ENTRIES 20000
#define MAX_DEPTH 64
#define MAX_READ (64u << 20)
#define SECONDS_PER_IMAGE 20

static const char *current;
static char tmp_img[128], tmp_dir[64], tmp_mnt[128];

static void cleanup(void)
{
    /* async-signal-safe */
    if (tmp_mnt[0]) {
        umount2(tmp_mnt, MNT_DETACH);
        rmdir(tmp_mnt);
    }
    if (tmp_img[0])
        unlink(tmp_img);
    if (tmp_dir[0])
        rmdir(tmp_dir);
}

static void on_signal(int sig)
{
    cleanup();
    _exit(128 + sig);
}

static void on_alarm(int sig)
{
    (void)sig;
    cleanup();
    /* async-signal-safe: write(2) only */
    const char msg[] = "not ok - timeout walking ";
    if (write(1, msg, sizeof msg - 1) < 0 || write(1, current, strlen(current)) < 0 ||
        write(1, "\n", 1) < 0)
        _exit(2);
    _exit(1);
}

static int gunzip_to(const char *gz, const char *out)
{
    gzFile in = gzopen(gz, "rb");
    if (!in)
        return -1;
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        gzclose(in);
        return -1;
    }
    static char buf[1 << 16];
    int n, rc = 0;
    while ((n = gzread(in, buf, sizeof buf)) > 0)
        if (write(fd, buf, (size_t)n) != n) {
            rc = -1;
            break;
        }
    if (n < 0)
        rc = -1;
    gzclose(in);
    close(fd);
    return rc;
}

/* A set of visited inodes (open addressing). */
struct iset { uint64_t *v; size_t cap, n; };

static int iset_add(struct iset *s, uint64_t ino)
{
    if ((s->n + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 256;
        uint64_t *nv = calloc(ncap, sizeof *nv);
        for (size_t i = 0; i < s->cap; i++)
            if (s->v[i]) {
                size_t j = (s->v[i] * 0x9e3779b97f4a7c15ull) & (ncap - 1);
                while (nv[j])
                    j = (j + 1) & (ncap - 1);
                nv[j] = s->v[i];
            }
        free(s->v);
        s->v = nv;
        s->cap = ncap;
    }
    size_t j = (ino * 0x9e3779b97f4a7c15ull) & (s->cap - 1);
    while (s->v[j]) {
        if (s->v[j] == ino)
            return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->v[j] = ino;
    s->n++;
    return 1;
}

struct ent { uint64_t ino; int depth; };

static char first_err[300];
#define ERR(w) do { if (!(w)->errors++) snprintf(first_err, sizeof first_err, "%s", gk_errmsg()); } while (0)

struct walk {
    gk_fs *fs;
    struct ent *stack;
    size_t n, cap;
    size_t seen;
    int depth;
    unsigned long files, dirs, links, errors;
    uint64_t bytes;
};

static int collect(void *opaque, const char *name, uint64_t ino, int d_type)
{
    (void)d_type;
    struct walk *w = opaque;
    if (!*name || strchr(name, '/'))
        ERR(w);
    if (++w->seen > MAX_ENTRIES)
        return 1;
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 64;
        w->stack = realloc(w->stack, w->cap * sizeof *w->stack);
    }
    w->stack[w->n++] = (struct ent){ino, w->depth + 1};
    return 0;
}

static void visit(struct walk *w, uint64_t ino, char *buf)
{
    gk_fs *fs = w->fs;
    gk_stat st;
    if (fs->ops->getattr(fs, ino, &st) < 0) {
        ERR(w);
        return;
    }
    char names[4096];
    ssize_t nl = fs->ops->listxattr(fs, ino, names, sizeof names);
    if (nl < 0)
        ERR(w);
    else if ((size_t)nl <= sizeof names)
        for (ssize_t i = 0; i < nl;) {
            size_t l = strnlen(names + i, (size_t)(nl - i));
            if ((ssize_t)(i + l) >= nl)
                break;
            char val[1024];
            if (fs->ops->getxattr(fs, ino, names + i, val, sizeof val) < 0)
                ERR(w);
            i += (ssize_t)l + 1;
        }
    if (S_ISREG(st.mode)) {
        w->files++;
        uint64_t off = 0;
        while (off < st.size && off < MAX_READ) {
            ssize_t r = fs->ops->read(fs, ino, buf, 1 << 20, off);
            if (r < 0) {
                ERR(w);
                break;
            }
            if (r == 0)
                break;
            off += (uint64_t)r;
            w->bytes += (uint64_t)r;
        }
        gk_fmap *m;
        size_t nm;
        if (fs->ops->fmap(fs, ino, &m, &nm) == 0)
            free(m);
        else
            ERR(w);
    } else if (S_ISLNK(st.mode)) {
        w->links++;
        char t[4096];
        if (fs->ops->readlink(fs, ino, t, sizeof t) < 0)
            ERR(w);
    } else if (S_ISDIR(st.mode)) {
        w->dirs++;
        if (fs->ops->readdir(fs, ino, collect, w) < 0)
            ERR(w);
        /* also exercise lookup on "." and a missing name */
        uint64_t x;
        fs->ops->lookup(fs, ino, ".", &x);
        fs->ops->lookup(fs, ino, "no-such-name", &x);
    }
}

/* ---- the kernel as an oracle for directory listings of damaged images ---- */

/* Images with damaged directories that the kernel mounts; listings must
 * match its readdir (a bad entry hides the rest of its block, not the
 * whole directory). */
static const char *const kernel_list[] = {
    /* (not f_baddir, f_baddotdir: there the kernel's own readdir results
     * vary with its error handling: EIO, remount read-only) */
    "f_salvage_dir", "f_baddir2", "f_uninit_dir", "f_rebuild_csum_rootdir", "f_dup3",
    "f_hugedir_blocks", "f_holedir", "f_holedir2", "f_dir_bad_csum",
    "f_inlinedata_repair", "f_write_ea_no_extra_isize", "f_toobig_extent_dir", NULL,
};

struct plist { char **v; size_t n; };

static void padd(struct plist *l, const char *p)
{
    l->v = realloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n++] = gk_strdup(p);
}

struct lctx { struct plist *l; const char *prefix; struct ent sub[512]; char *subname[512]; int nsub; };

static int lcollect(void *opaque, const char *name, uint64_t ino, int d_type)
{
    struct lctx *c = opaque;
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", c->prefix, name);
    padd(c->l, p);
    if (d_type == DT_DIR && c->nsub < 512) {
        c->sub[c->nsub] = (struct ent){ino, 0};
        c->subname[c->nsub++] = gk_strdup(p);
    }
    return 0;
}

static void list_ours(gk_fs *fs, uint64_t ino, const char *prefix, struct plist *l, int depth,
                      struct iset *vis)
{
    if (depth > 32 || !iset_add(vis, ino))
        return;
    struct lctx *c = calloc(1, sizeof *c);
    c->l = l;
    c->prefix = prefix;
    fs->ops->readdir(fs, ino, lcollect, c);
    for (int i = 0; i < c->nsub; i++) {
        list_ours(fs, c->sub[i].ino, c->subname[i], l, depth + 1, vis);
        free(c->subname[i]);
    }
    free(c);
}

static void list_kernel(const char *dir, const char *prefix, struct plist *l, int depth)
{
    DIR *d = opendir(dir);
    if (!d || depth > 32) {
        if (d)
            closedir(d);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char p[4096], full[4096];
        snprintf(p, sizeof p, "%s/%s", prefix, de->d_name);
        snprintf(full, sizeof full, "%s/%s", dir, de->d_name);
        padd(l, p);
        struct stat st;
        if (de->d_type == DT_DIR || (de->d_type == DT_UNKNOWN && lstat(full, &st) == 0 && S_ISDIR(st.st_mode)))
            list_kernel(full, p, l, depth + 1);
    }
    closedir(d);
}

static int pcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void pfree(struct plist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static void kernel_compare(const char *name, const char *img, const char *mnt)
{
    gk_dev *d = gk_open_image(img, &(gk_open_opts){.format = "raw"});
    gk_fs *fs = d ? gk_fs_open(d, NULL, 0) : NULL;
    struct plist ours = {0}, kern = {0};
    struct iset vis = {0};
    if (fs)
        list_ours(fs, fs->root_ino, "", &ours, 0, &vis);
    free(vis.v);
    if (fs)
        gk_fs_close(fs);
    gk_dev_unref(d);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mount -o ro,loop,noload '%s' '%s' 2>/dev/null || "
             "mount -o ro,loop '%s' '%s' 2>/dev/null", img, mnt, img, mnt);
    if (system(cmd) != 0) {
        ok(1, "%s: # SKIP the kernel does not mount it", name);
        pfree(&ours);
        return;
    }
    list_kernel(mnt, "", &kern, 0);
    snprintf(cmd, sizeof cmd, "umount '%s'", mnt);
    if (system(cmd) != 0)
        printf("# umount %s failed\n", mnt);
    if (ours.n)
        qsort(ours.v, ours.n, sizeof *ours.v, pcmp);
    if (kern.n)
        qsort(kern.v, kern.n, sizeof *kern.v, pcmp);
    int same = ours.n == kern.n;
    for (size_t i = 0; same && i < ours.n; i++)
        same = strcmp(ours.v[i], kern.v[i]) == 0;
    ok(same, "%s: %zu paths, as the kernel's readdir lists them (%zu)", name, ours.n, kern.n);
    if (!same) {
        for (size_t i = 0; i < ours.n; i++)
            printf("#   ours: %s\n", ours.v[i]);
        for (size_t i = 0; i < kern.n; i++)
            printf("#   kernel: %s\n", kern.v[i]);
    }
    pfree(&ours);
    pfree(&kern);
}

int main(int argc, char **argv)
{
    const char *pattern = argc > 1 ? argv[1] : CORPUS "/*.img.gz";
    glob_t g;
    if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
        printf("1..0 # SKIP no corpus at %s\n", pattern);
        return 0;
    }
    signal(SIGALRM, on_alarm);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, on_signal);
    char tmp[] = "/tmp/gkcorpus.XXXXXX";
    if (!mkdtemp(tmp))
        return 1;
    char *img = gk_asprintf("%s/image", tmp);
    snprintf(tmp_dir, sizeof tmp_dir, "%s", tmp);
    snprintf(tmp_img, sizeof tmp_img, "%s", img);
    char *buf = gk_malloc(1 << 20);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *gz = g.gl_pathv[i];
        const char *base = strrchr(gz, '/') ? strrchr(gz, '/') + 1 : gz;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(strlen(base) - strlen(".img.gz")), base);
        current = name;
        if (gunzip_to(gz, img) < 0) {
            ok(0, "%s: cannot gunzip", name);
            continue;
        }
        alarm(SECONDS_PER_IMAGE * 3);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        gk_open_opts o = {.format = "raw"};
        gk_dev *d = gk_open_image(img, &o);
        if (!d) {
            ok(0, "%s: gk_open_image: %s", name, gk_errmsg());
            continue;
        }
        struct stat sb0, sb1;
        stat(img, &sb0);
        gk_fs *fs = gk_fs_open(d, NULL, 0);
        if (!fs) {
            ok(1, "%s: refused: %s", name, gk_errmsg());
            gk_dev_unref(d);
            alarm(0);
            continue;
        }
        struct walk w = {.fs = fs};
        first_err[0] = 0;
        struct iset vis = {0};
        gk_statvfs sv;
        fs->ops->statvfs(fs, &sv);
        w.depth = 0;
        collect(&w, "root", fs->root_ino, DT_DIR);
        int timed_out = 0;
        while (w.n) {
            struct ent e = w.stack[--w.n];
            clock_gettime(CLOCK_MONOTONIC, &t1);
            if (t1.tv_sec - t0.tv_sec > SECONDS_PER_IMAGE) {
                timed_out = 1;
                break;
            }
            if (e.depth > MAX_DEPTH || !iset_add(&vis, e.ino))
                continue;
            w.depth = e.depth;
            visit(&w, e.ino, buf);
        }
        gk_fs_close(fs);
        gk_dev_unref(d);
        stat(img, &sb1);
        alarm(0);
        ok(sb0.st_mtime == sb1.st_mtime && sb0.st_size == sb1.st_size,
           "%s: opened%s: %lu dirs, %lu files, %lu symlinks, %llu bytes, %lu errors (first: %s)",
           name, timed_out ? " (walk stopped at the time limit)" : "", w.dirs, w.files, w.links,
           (unsigned long long)w.bytes, w.errors, w.errors ? first_err : "-");
        free(w.stack);
        free(vis.v);
        if (getuid() == 0 && !getenv("GK_NO_MOUNT"))
            for (int k = 0; kernel_list[k]; k++)
                if (strcmp(kernel_list[k], name) == 0) {
                    char *mnt = gk_asprintf("%s/mnt", tmp);
                    mkdir(mnt, 0755);
                    snprintf(tmp_mnt, sizeof tmp_mnt, "%s", mnt);
                    kernel_compare(name, img, mnt);
                    rmdir(mnt);
                    tmp_mnt[0] = 0;
                    free(mnt);
                }
    }
    unlink(img);
    rmdir(tmp);
    free(img);
    free(buf);
    globfree(&g);
    return done_testing();
}
