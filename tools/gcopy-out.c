/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gcopy-out: copy files and directories out of a disk image, like
 * virt-copy-out.
 *
 * The guest decides every name, link target and mode we see, so the host
 * side trusts none of them: everything is created relative to a directory
 * fd we opened ourselves (openat/mkdirat/symlinkat/mknodat/linkat), new
 * files with O_CREAT|O_EXCL|O_NOFOLLOW, directories are entered with
 * O_NOFOLLOW|O_DIRECTORY, and a name that is empty, ".", ".." or holds a
 * "/" is refused.  A guest symlink is recreated as a symlink and never
 * followed on the host, so nothing is ever written outside LOCALDIR. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define BUFSZ (1 << 20)
#define MAXDEPTH 2000

static struct {
    gk_vfs *vfs;
    int root;              /* running as root: owners and device nodes      */
    int rootfd;            /* LOCALDIR                                      */
    gk_nodemap *links;     /* (mount, ino) -> first local path, hard links  */
    gk_nodemap *dirs;      /* directories copied, against cycles            */
    char *buf;
    int errors;
    int progress;          /* stderr is a terminal                          */
    uint64_t files, bytes;
    struct timespec last;
    int warned_special, warned_xattr;
} o;

static void usage(FILE *f)
{
    fprintf(f,
        "gcopy-out: copy files and directories out of a disk image (like virt-copy-out)\n"
        "Usage:\n"
        "  gcopy-out [--options] -a IMAGE [-a IMAGE...] GUESTPATH [GUESTPATH...] LOCALDIR\n"
        "  gcopy-out [--options] IMAGE GUESTPATH [GUESTPATH...] LOCALDIR\n"
        "Options:\n"
        "  -a, --add IMAGE      add a disk image (repeat for every disk of the VM)\n"
        "  --format[=raw|qcow2] force the format of the following -a images\n"
        "  -m, --mount DEV[:MP[:OPTS[:TYPE]]]\n"
        "                       mount DEV on MP (default /) instead of inspecting\n"
        "  -U, -v, -V, --help   as in the other tools\n"
        "Directories are copied recursively with modes, times, symlinks, hard\n"
        "links and holes; owners and device nodes only when run as root.\n"
        "Nothing is ever written outside LOCALDIR, whatever the guest holds.\n");
}

/* A path relative to LOCALDIR, for messages and for hard links. */
static char *lp_join(const char *dir, const char *name)
{
    return *dir ? gk_asprintf("%s/%s", dir, name) : gk_strdup(name);
}

static void err(const char *where, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void err(const char *where, const char *fmt, ...)
{
    va_list ap;
    if (o.progress)
        fputs("\r\033[K", stderr);
    fprintf(stderr, "gcopy-out: %s: ", where);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    o.errors++;
}

static void progress(int force)
{
    if (!o.progress)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (now.tv_sec - o.last.tv_sec) * 1000 + (now.tv_nsec - o.last.tv_nsec) / 1000000;
    if (!force && ms < 250)
        return;
    o.last = now;
    fprintf(stderr, "\rgcopy-out: %" PRIu64 " files, %.1f MiB", o.files, o.bytes / 1048576.0);
    fflush(stderr);
}

static int safe_name(const char *name)
{
    return *name && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
           strlen(name) <= NAME_MAX;
}

/* Open the directory at relative path rel under LOCALDIR one component at a
 * time, never following a symlink. */
static int open_rel_dir(const char *rel)
{
    int fd = dup(o.rootfd);
    char *copy = gk_strdup(rel), *save = NULL;
    for (char *c = strtok_r(copy, "/", &save); c && fd >= 0; c = strtok_r(NULL, "/", &save)) {
        int nfd = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(fd);
        fd = nfd;
    }
    free(copy);
    return fd;
}

static void set_times_fd(int fd, const gk_stat *st)
{
    struct timespec ts[2] = { st->atime, st->mtime };
    futimens(fd, ts);
}

static void set_owner_mode_fd(int fd, const gk_stat *st)
{
    if (o.root)
        if (fchown(fd, st->uid, st->gid) < 0) { /* reported by nothing: best effort */ }
    fchmod(fd, st->mode & 07777);
}

/* Metadata of something we cannot open (symlink, device, FIFO): by name
 * in its parent, never following a link. */
static void set_meta_at(int dirfd, const char *name, const gk_stat *st, int is_link)
{
    if (o.root)
        if (fchownat(dirfd, name, st->uid, st->gid, AT_SYMLINK_NOFOLLOW) < 0) { /* best effort */ }
    if (!is_link)
        fchmodat(dirfd, name, st->mode & 07777, AT_SYMLINK_NOFOLLOW);
    struct timespec ts[2] = { st->atime, st->mtime };
    utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

static void copy_xattrs(gk_node *n, int fd, const char *where)
{
    char list[8192];
    ssize_t len = gk_node_listxattr(n, list, sizeof list);
    if (len <= 0 || (size_t)len > sizeof list)
        return;
    for (ssize_t i = 0; i < len;) {
        const char *name = list + i;
        size_t nl = strnlen(name, (size_t)(len - i));
        i += (ssize_t)nl + 1;
        if (nl == 0 || (size_t)i > (size_t)len)
            break;
        /* user.* for everyone; security.* and trusted.* need root; never
         * system.* (the inline-data carrier, ACLs in their own format) */
        if (strncmp(name, "user.", 5) != 0 &&
            !(o.root && (strncmp(name, "security.", 9) == 0 || strncmp(name, "trusted.", 8) == 0)))
            continue;
        char val[65536];
        ssize_t vl = gk_node_getxattr(n, name, val, sizeof val);
        if (vl < 0 || (size_t)vl > sizeof val)
            continue;
        if (fsetxattr(fd, name, val, (size_t)vl, 0) < 0 && !o.warned_xattr) {
            gk_warn("%s: cannot set extended attribute %s: %s (further ones not reported)",
                    where, name, strerror(errno));
            o.warned_xattr = 1;
        }
    }
}

static int is_zero(const char *p, size_t n)
{
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* Large files: reading the image and writing the copy are two kernel
 * copies of every byte; a writer thread overlaps them.  Only the main
 * thread ever calls into the library; the writer only does pwrite.  The
 * queue has NBUF slots, slot i always using buffer i. */
#define NBUF 3
static struct {
    pthread_t th;
    int started, quit;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job { int fd; size_t len; uint64_t off; int sparse; } q[NBUF];
    char *bufs[NBUF];
    int head, count;
    int err;               /* errno of the first failed write since the last drain */
} wr = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static int write_chunks(int fd, const char *buf, size_t len, uint64_t off, int sparse)
{
    for (size_t done = 0; done < len;) {
        size_t chunk = len - done > 65536 ? 65536 : len - done;
        if (!(sparse && is_zero(buf + done, chunk))) {
            ssize_t w = pwrite(fd, buf + done, chunk, (off_t)(off + done));
            if (w != (ssize_t)chunk)
                return w < 0 ? errno : EIO;
        }
        done += chunk;
    }
    return 0;
}

static void *writer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&wr.mu);
    for (;;) {
        while (wr.count == 0 && !wr.quit)
            pthread_cond_wait(&wr.cv, &wr.mu);
        if (wr.count == 0)
            break;
        struct job j = wr.q[wr.head];
        char *buf = wr.bufs[wr.head];
        int failed = wr.err;   /* after a failure the rest of the file is dropped */
        pthread_mutex_unlock(&wr.mu);
        int e = failed ? 0 : write_chunks(j.fd, buf, j.len, j.off, j.sparse);
        pthread_mutex_lock(&wr.mu);
        if (e && !wr.err)
            wr.err = e;
        wr.head = (wr.head + 1) % NBUF;
        wr.count--;
        pthread_cond_broadcast(&wr.cv);
    }
    pthread_mutex_unlock(&wr.mu);
    return NULL;
}

/* A free buffer for the next job (waits for the writer if all are queued). */
static char *wr_slot(void)
{
    if (!wr.started) {
        for (int i = 0; i < NBUF; i++)
            wr.bufs[i] = gk_malloc(BUFSZ);
        if (pthread_create(&wr.th, NULL, writer, NULL) != 0)
            return NULL;
        wr.started = 1;
    }
    pthread_mutex_lock(&wr.mu);
    while (wr.count == NBUF)
        pthread_cond_wait(&wr.cv, &wr.mu);
    char *b = wr.bufs[(wr.head + wr.count) % NBUF];
    pthread_mutex_unlock(&wr.mu);
    return b;
}

static void wr_queue(int fd, size_t len, uint64_t off, int sparse)
{
    pthread_mutex_lock(&wr.mu);
    wr.q[(wr.head + wr.count) % NBUF] = (struct job){ fd, len, off, sparse };
    wr.count++;
    pthread_cond_broadcast(&wr.cv);
    pthread_mutex_unlock(&wr.mu);
}

/* Wait until every queued write is done; the first error, or 0. */
static int wr_drain(void)
{
    if (!wr.started)
        return 0;
    pthread_mutex_lock(&wr.mu);
    while (wr.count > 0)
        pthread_cond_wait(&wr.cv, &wr.mu);
    int e = wr.err;
    wr.err = 0;
    pthread_mutex_unlock(&wr.mu);
    return e;
}

static void wr_stop(void)
{
    if (!wr.started)
        return;
    pthread_mutex_lock(&wr.mu);
    wr.quit = 1;
    pthread_cond_broadcast(&wr.cv);
    pthread_mutex_unlock(&wr.mu);
    pthread_join(wr.th, NULL);
    for (int i = 0; i < NBUF; i++)
        free(wr.bufs[i]);
    wr.started = 0;
}

/* Copy the data runs of a regular file into fd, leaving holes. */
static int copy_data(gk_node *n, const gk_stat *st, int fd, const char *where)
{
    gk_fmap *runs = NULL;
    size_t nruns = 0;
    if (gk_node_fmap(n, &runs, &nruns) < 0) {
        err(where, "%s", gk_errmsg());
        return -1;
    }
    /* within a data run, whole zero chunks still become holes only when
     * the run is the entire file (a driver that knows no holes) */
    int sparse_by_zero = nruns == 1 && runs[0].logical == 0 && runs[0].len >= st->size &&
                         st->blocks * 512 < st->size;
    uint64_t data = 0;
    for (size_t i = 0; i < nruns; i++)
        data += runs[i].len;
    /* one buffer's worth is written at once: a thread hand-off per small
     * file would cost more than it saves */
    int async = data > BUFSZ;
    int rc = 0;
    uint64_t reached = 0;      /* end of the last byte range written */
    for (size_t i = 0; i < nruns && rc == 0; i++) {
        uint64_t off = runs[i].logical;
        if (off >= st->size)
            break;
        uint64_t end = runs[i].len > st->size - off ? st->size : off + runs[i].len;
        while (off < end) {
            size_t want = end - off > BUFSZ ? BUFSZ : (size_t)(end - off);
            char *buf = async ? wr_slot() : o.buf;
            if (!buf) {
                async = 0;
                buf = o.buf;
            }
            ssize_t r = gk_node_read(n, buf, want, off);
            if (r < 0) {
                err(where, "%s", gk_errmsg());
                rc = -1;
                break;
            }
            if (r == 0)
                break;      /* shorter than its size says: keep what we have */
            if (async) {
                wr_queue(fd, (size_t)r, off, sparse_by_zero);
            } else {
                int e = write_chunks(fd, buf, (size_t)r, off, sparse_by_zero);
                if (e) {
                    err(where, "write: %s", strerror(e));
                    rc = -1;
                    break;
                }
            }
            off += (uint64_t)r;
            reached = off;
            o.bytes += (uint64_t)r;
            progress(0);
        }
    }
    free(runs);
    int e = wr_drain();
    if (e && rc == 0) {
        err(where, "write: %s", strerror(e));
        rc = -1;
    }
    /* a trailing hole, zero chunks left out, or a short read: set the size */
    if (rc == 0 && (sparse_by_zero || reached != st->size) && ftruncate(fd, (off_t)st->size) < 0) {
        err(where, "truncate: %s", strerror(errno));
        rc = -1;
    }
    return rc;
}

/* Create name in dirfd with O_EXCL; a file or symlink already there (a
 * previous copy) is unlinked first, never followed. */
static int create_file(int dirfd, const char *name, mode_t mode)
{
    for (int tries = 0; tries < 2; tries++) {
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd >= 0 || errno != EEXIST || tries)
            return fd;
        if (unlinkat(dirfd, name, 0) < 0)
            return -1;
    }
    return -1;
}

static void copy_node(int dirfd, const char *dirrel, const char *name, gk_node *n, int depth);

static void copy_dir_contents(int fd, const char *rel, gk_node *n, int depth)
{
    gk_dirent *ents;
    size_t cnt;
    if (gk_node_list(n, &ents, &cnt) < 0) {
        err(*rel ? rel : ".", "%s", gk_errmsg());
        return;
    }
    for (size_t i = 0; i < cnt; i++) {
        gk_node child = { n->mnt, ents[i].ino };
        gk_vfs_cross(o.vfs, &child);
        copy_node(fd, rel, ents[i].name, &child, depth + 1);
    }
    gk_dirents_free(ents, cnt);
}

static void copy_node(int dirfd, const char *dirrel, const char *name, gk_node *n, int depth)
{
    char *rel = lp_join(dirrel, name);
    gk_stat st;
    if (!safe_name(name)) {
        err(rel, "unsafe file name in the guest (skipped)");
        goto out;
    }
    if (gk_node_stat(n, &st) < 0) {
        err(rel, "%s", gk_errmsg());
        goto out;
    }
    switch (st.mode & S_IFMT) {
    case S_IFREG: {
        if (st.nlink > 1) {
            int isnew;
            void **slot = gk_nodemap_slot(o.links, n, &isnew);
            if (!isnew && *slot) {
                /* a hard link to a file we already copied */
                const char *first = *slot, *slash = strrchr(first, '/');
                char *fdir = slash ? gk_strndup(first, (size_t)(slash - first)) : gk_strdup("");
                int sfd = open_rel_dir(fdir);
                free(fdir);
                if (sfd >= 0) {
                    int r = linkat(sfd, slash ? slash + 1 : first, dirfd, name, 0);
                    if (r < 0 && errno == EEXIST && unlinkat(dirfd, name, 0) == 0)
                        r = linkat(sfd, slash ? slash + 1 : first, dirfd, name, 0);
                    close(sfd);
                    if (r == 0) {
                        o.files++;
                        goto out;
                    }
                }
                /* fall back to a second copy */
            } else {
                *slot = gk_strdup(rel);
            }
        }
        /* the fd stays writable whatever the mode (umask is 0) */
        int fd = create_file(dirfd, name, st.mode & 0777);
        if (fd < 0) {
            err(rel, "%s", strerror(errno));
            goto out;
        }
        if (copy_data(n, &st, fd, rel) < 0) {
            close(fd);
            unlinkat(dirfd, name, 0);
            goto out;
        }
        copy_xattrs(n, fd, rel);
        if (o.root)
            set_owner_mode_fd(fd, &st);    /* chown clears set-id bits: mode again */
        else if (st.mode & 07000)
            fchmod(fd, st.mode & 07777);
        set_times_fd(fd, &st);
        close(fd);
        o.files++;
        break;
    }
    case S_IFDIR: {
        int isnew;
        gk_nodemap_slot(o.dirs, n, &isnew);
        if (!isnew) {
            err(rel, "directory loop in the filesystem (skipped)");
            goto out;
        }
        if (depth > MAXDEPTH) {
            err(rel, "%s", strerror(ENAMETOOLONG));
            goto out;
        }
        if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST) {
            err(rel, "%s", strerror(errno));
            goto out;
        }
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            struct stat hst;
            if ((e == ELOOP || e == ENOTDIR) &&
                fstatat(dirfd, name, &hst, AT_SYMLINK_NOFOLLOW) == 0)
                err(rel, "%s is in the way on the host (not followed, not replaced)",
                    S_ISLNK(hst.st_mode) ? "a symlink" : "a file that is not a directory");
            else
                err(rel, "%s", strerror(e));
            goto out;
        }
        /* owner-writable while we fill it; the guest's mode comes last */
        fchmod(fd, 0700);
        copy_dir_contents(fd, rel, n, depth);
        copy_xattrs(n, fd, rel);
        set_owner_mode_fd(fd, &st);
        set_times_fd(fd, &st);
        close(fd);
        break;
    }
    case S_IFLNK: {
        char target[PATH_MAX + 1];
        ssize_t tl = gk_node_readlink(n, target, sizeof target - 1);
        if (tl < 0) {
            err(rel, "%s", gk_errmsg());
            goto out;
        }
        target[tl] = 0;
        if (tl == 0 || strlen(target) != (size_t)tl) {
            err(rel, "symlink with an empty or binary target (skipped)");
            goto out;
        }
        if (symlinkat(target, dirfd, name) < 0) {
            if (errno != EEXIST || unlinkat(dirfd, name, 0) < 0 || symlinkat(target, dirfd, name) < 0) {
                err(rel, "%s", strerror(errno));
                goto out;
            }
        }
        set_meta_at(dirfd, name, &st, 1);
        o.files++;
        break;
    }
    case S_IFIFO: case S_IFCHR: case S_IFBLK: case S_IFSOCK: {
        int fifo = S_ISFIFO(st.mode);
        if (!o.root && !fifo) {
            if (!o.warned_special++)
                gk_warn("%s: device nodes and sockets are only recreated when run as root "
                        "(skipped; further ones not reported)", rel);
            goto out;
        }
        dev_t dev = makedev(major(st.rdev), minor(st.rdev));
        int r = mknodat(dirfd, name, (st.mode & S_IFMT) | 0600, fifo ? 0 : dev);
        if (r < 0 && errno == EEXIST && unlinkat(dirfd, name, 0) == 0)
            r = mknodat(dirfd, name, (st.mode & S_IFMT) | 0600, fifo ? 0 : dev);
        if (r < 0) {
            err(rel, "%s", strerror(errno));
            goto out;
        }
        set_meta_at(dirfd, name, &st, 0);
        o.files++;
        break;
    }
    default:
        err(rel, "unknown file type %06o (skipped)", st.mode & S_IFMT);
    }
out:
    free(rel);
}

static void free_str(void *p)
{
    free(p);
}

/* Copy one GUESTPATH into LOCALDIR. */
static int copy_out(const char *gpath)
{
    gk_node n;
    char *real = NULL;
    if (gk_vfs_resolve(o.vfs, gpath, 1, &n) < 0 || !(real = gk_vfs_realpath(o.vfs, gpath))) {
        fprintf(stderr, "gcopy-out: %s\n", gk_errmsg());
        o.errors++;
        return -1;
    }
    /* the name in LOCALDIR: the last component as given, else as resolved */
    char *given = gk_strdup(gpath);
    size_t l = strlen(given);
    while (l > 1 && given[l - 1] == '/')
        given[--l] = 0;
    const char *slash = strrchr(given, '/');
    const char *base = slash ? slash + 1 : given;
    if (!safe_name(base)) {
        slash = strrchr(real, '/');
        base = slash ? slash + 1 : real;
    }
    int rc = 0;
    if (strcmp(real, "/") == 0 || !*base) {
        /* the whole guest: its contents go straight into LOCALDIR */
        gk_stat st;
        if (gk_node_stat(&n, &st) < 0) {
            err(gpath, "%s", gk_errmsg());
            rc = -1;
        } else {
            int isnew;
            gk_nodemap_slot(o.dirs, &n, &isnew);
            copy_dir_contents(o.rootfd, "", &n, 0);
        }
    } else {
        copy_node(o.rootfd, "", base, &n, 0);
    }
    free(given);
    free(real);
    return rc;
}

int main(int argc, char **argv)
{
    gk_cli c;
    /* an empty table, not NULL: the parser copies it */
    static const struct option no_longopts[] = { {0, 0, 0, 0} };
    gk_cli_parse(&c, "gcopy-out", argc, argv, NULL, no_longopts, NULL, NULL, usage);
    if (c.ndrives == 0 && c.nargs >= 3)
        gk_cli_positional_image(&c);
    if (c.ndrives == 0 || c.nargs < 2) {
        fprintf(stderr, "gcopy-out: usage: gcopy-out -a IMAGE GUESTPATH... LOCALDIR\n"
                        "Try 'gcopy-out --help' for more information.\n");
        return 1;
    }
    const char *localdir = c.args[c.nargs - 1];
    o.rootfd = open(localdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (o.rootfd < 0)
        gk_die("%s: %s (LOCALDIR must be an existing directory)", localdir, strerror(errno));
    o.root = geteuid() == 0;
    o.progress = isatty(2);
    clock_gettime(CLOCK_MONOTONIC, &o.last);
    /* one descriptor per directory level while copying a deep tree */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    umask(0);      /* modes come from the guest, set explicitly anyway */
    gk_guest *g = gk_cli_mount(&c);
    o.vfs = g->vfs;
    o.links = gk_nodemap_new();
    o.dirs = gk_nodemap_new();
    o.buf = gk_malloc(BUFSZ);
    for (int i = 0; i < c.nargs - 1; i++)
        copy_out(c.args[i]);
    wr_stop();
    progress(1);
    if (o.progress)
        fputc('\n', stderr);
    gk_nodemap_free(o.links, free_str);
    gk_nodemap_free(o.dirs, NULL);
    free(o.buf);
    close(o.rootfd);
    gk_guest_free(g);
    return o.errors ? 1 : 0;
}
