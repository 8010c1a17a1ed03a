/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sandbox's test hook: linked only into the test binaries of
 * build/selftest-bin (make selftest), never into the installed tools.
 *
 * Once the sandbox is up, GK_SANDBOX_SELFTEST=all tries what a parser
 * taken over by a crafted image would try, and prints one line per attempt
 * on stderr:
 *     sandbox-selftest: NAME: refused (REASON)
 *     sandbox-selftest: NAME: ALLOWED
 * then exits 0 when every attempt was refused, 3 otherwise.  The attempts
 * that must kill the process (execve, ptrace) run alone:
 * GK_SANDBOX_SELFTEST=execve or =ptrace; the process must die of SIGSYS.
 * GK_SANDBOX_SELFTEST_VICTIM names a host file the test made: it is
 * attacked by path (read, write, chmod, chown, utimes, truncate, rename,
 * unlink, link) and must come out unchanged. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

#include "common.h"
#include "sandbox.h"

static int failures;

/* r: the call's result, e its errno. */
static void report(const char *name, long r, int e)
{
    if (r < 0)
        fprintf(stderr, "sandbox-selftest: %s: refused (%s)\n", name, strerror(e));
    else {
        fprintf(stderr, "sandbox-selftest: %s: ALLOWED\n", name);
        failures++;
    }
}

#define TRY(name, expr)                \
    do {                               \
        errno = 0;                     \
        long r_ = (long)(expr);        \
        report(name, r_, errno);       \
    } while (0)
/* The same for calls that make a descriptor (closed again). */
#define TRY_FD(name, expr)             \
    do {                               \
        errno = 0;                     \
        long r_ = (long)(expr);        \
        report(name, r_, errno);       \
        if (r_ >= 0)                   \
            close((int)r_);            \
    } while (0)

/* A path next to p: DIR(p)/gk-sandbox-escape. */
static char *beside(const char *p, const char *leaf)
{
    char *copy = gk_strdup(p);
    char *d = gk_asprintf("%s/%s", dirname(copy), leaf);
    free(copy);
    return d;
}

static void try_create(const char *label, const char *dir)
{
    char *f = gk_asprintf("%s/gk-sandbox-escape", dir);
    char *n = gk_asprintf("create %s: open O_CREAT", label);
    TRY_FD(n, open(f, O_WRONLY | O_CREAT | O_EXCL, 0600));
    free(n);
    n = gk_asprintf("create %s: mkdir", label);
    TRY(n, mkdir(f, 0700));
    free(n);
    n = gk_asprintf("create %s: symlink", label);
    TRY(n, symlink("/etc/shadow", f));
    free(n);
    n = gk_asprintf("create %s: mkfifo", label);
    TRY(n, mknod(f, S_IFIFO | 0600, 0));
    free(n);
    free(f);
}

/* The descriptors of the images: same device and inode as the paths. */
static void attack_images(const gk_sandbox *sb)
{
    for (int i = 0; i < sb->nimages; i++) {
        struct stat ist;
        if (stat(sb->images[i], &ist) < 0)
            continue;
        char *n = gk_asprintf("image %d: open O_RDWR", i);
        TRY_FD(n, open(sb->images[i], O_RDWR));
        free(n);
        n = gk_asprintf("image %d: open O_RDONLY again", i);
        TRY_FD(n, open(sb->images[i], O_RDONLY));
        free(n);
        for (int fd = 0; fd < 256; fd++) {
            struct stat st;
            if (fstat(fd, &st) < 0 || st.st_dev != ist.st_dev || st.st_ino != ist.st_ino)
                continue;
            int fl = fcntl(fd, F_GETFL);
            char *p = gk_asprintf("/proc/self/fd/%d", fd);
            n = gk_asprintf("image %d: reopen %s O_RDWR", i, p);
            TRY_FD(n, open(p, O_RDWR));
            free(n);
            free(p);
            n = gk_asprintf("image %d: fchmod", i);
            TRY(n, fchmod(fd, 06777));
            free(n);
            n = gk_asprintf("image %d: fchown", i);
            TRY(n, fchown(fd, 65534, 65534));
            free(n);
            n = gk_asprintf("image %d: fsetxattr", i);
            TRY(n, fsetxattr(fd, "user.gk-sandbox", "x", 1, 0));
            free(n);
            if ((fl & O_ACCMODE) == O_RDONLY) {
                char b = 0;
                n = gk_asprintf("image %d: pwrite (opened read-only)", i);
                TRY(n, pwrite(fd, &b, 1, 0));
                free(n);
                n = gk_asprintf("image %d: ftruncate (opened read-only)", i);
                TRY(n, ftruncate(fd, 0));
                free(n);
            }
        }
    }
}

static void attack_victim(const char *v)
{
    TRY_FD("victim: open O_RDONLY", open(v, O_RDONLY));
    TRY_FD("victim: open O_WRONLY", open(v, O_WRONLY));
    TRY("victim: chmod", chmod(v, 06777));
    TRY("victim: fchmodat", fchmodat(AT_FDCWD, v, 06777, 0));
    TRY("victim: chown", chown(v, 65534, 65534));
    TRY("victim: lchown", lchown(v, 65534, 65534));
    struct timespec ts[2] = {{0, 0}, {0, 0}};
    TRY("victim: utimensat", utimensat(AT_FDCWD, v, ts, 0));
    TRY("victim: truncate", truncate(v, 0));
    TRY("victim: setxattr", setxattr(v, "user.gk-sandbox", "x", 1, 0));
    char *other = beside(v, "gk-sandbox-renamed");
    TRY("victim: rename", rename(v, other));
    TRY("victim: link", link(v, other));
    free(other);
    TRY("victim: unlink", unlink(v));
    int fd = open(v, O_PATH);
    if (fd >= 0) {
        TRY("victim: fchownat on an O_PATH descriptor", fchownat(fd, "", 65534, 65534, AT_EMPTY_PATH));
        close(fd);
    }
}

static void attack_all(const gk_sandbox *sb)
{
    TRY_FD("open /etc/shadow", open("/etc/shadow", O_RDONLY));
    TRY_FD("open /etc/passwd", open("/etc/passwd", O_RDONLY));
    const char *home = getenv("HOME");
    if (!home || !*home)
        home = "/root";
    char *n = gk_asprintf("open $HOME (%s)", home);
    TRY_FD(n, open(home, O_RDONLY | O_DIRECTORY));
    free(n);
    char *hf = gk_asprintf("%s/.bashrc", home);
    struct stat st;
    if (stat(hf, &st) == 0) {
        n = gk_asprintf("open %s", hf);
        TRY_FD(n, open(hf, O_RDONLY));
        free(n);
    }
    free(hf);
    TRY_FD("open /proc/self/mem", open("/proc/self/mem", O_RDWR));
    TRY_FD("open /dev/tty", open("/dev/tty", O_RDWR));

    /* creating files: beside the output directory, beside the images, in
     * the working directory; inside the output directory it must work */
    if (sb->outdir) {
        char *up = gk_asprintf("%s/..", sb->outdir);
        try_create("beside the output directory", up);
        free(up);
        char *in = gk_asprintf("%s/gk-sandbox-inside", sb->outdir);
        int fd = open(in, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd >= 0) {
            close(fd);
            unlink(in);
            fprintf(stderr, "sandbox-selftest: create inside the output directory: allowed\n");
        } else {
            fprintf(stderr, "sandbox-selftest: create inside the output directory: FAILED (%s)\n",
                    strerror(errno));
            failures++;
        }
        free(in);
    }
    for (int i = 0; i < sb->nimages; i++) {
        char *d = gk_strdup(sb->images[i]);
        char *lbl = gk_asprintf("beside image %d", i);
        try_create(lbl, dirname(d));
        free(lbl);
        free(d);
    }
    try_create("in the working directory", ".");
    try_create("in /tmp", "/tmp");

    attack_images(sb);
    const char *victim = getenv("GK_SANDBOX_SELFTEST_VICTIM");
    if (victim && *victim)
        attack_victim(victim);

    /* a worker with no file system rights of its own (gfsh, gfedit) asks
     * its front end, which must refuse what the command line did not name */
    if (gk_sandbox_proxied()) {
        TRY_FD("front end: open /etc/shadow", gk_host_open_read("/etc/shadow", O_RDONLY));
        TRY_FD("front end: open $HOME", gk_host_open_read(home, O_RDONLY | O_DIRECTORY));
        TRY_FD("front end: create in the working directory",
               gk_host_openat(AT_FDCWD, "gk-sandbox-escape", O_WRONLY | O_CREAT | O_EXCL, 0600));
        TRY("front end: mkdir in the working directory",
            gk_host_mkdirat(AT_FDCWD, "gk-sandbox-escape", 0700));
        TRY("front end: symlink in /tmp", gk_host_symlinkat("/etc/shadow", open("/tmp", O_PATH),
                                                             "gk-sandbox-escape"));
        if (victim && *victim) {
            TRY_FD("front end: open the victim", gk_host_open_read(victim, O_RDONLY));
            char *vd = gk_strdup(victim);
            int dfd = open(dirname(vd), O_PATH | O_DIRECTORY);
            free(vd);
            char *vb = gk_strdup(victim);
            TRY("front end: unlink the victim", gk_host_unlinkat(dfd, basename(vb), 0));
            free(vb);
            if (dfd >= 0)
                close(dfd);
        }
    }

    /* network */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) {
        report("socket AF_INET", -1, errno);
    } else {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(22),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        TRY("connect 127.0.0.1:22", connect(s, (struct sockaddr *)&a, sizeof a));
        close(s);
    }
    TRY_FD("socket AF_UNIX", socket(AF_UNIX, SOCK_STREAM, 0));

    /* limits */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    struct rlimit up = {rl.rlim_max + 1, rl.rlim_max + 1};
    TRY("setrlimit NOFILE up", setrlimit(RLIMIT_NOFILE, &up));
    struct rlimit inf = {RLIM_INFINITY, RLIM_INFINITY};
    TRY("prlimit FSIZE unlimited", prlimit(0, RLIMIT_FSIZE, &inf, NULL));
    TRY("setrlimit AS unlimited", setrlimit(RLIMIT_AS, &inf));

    /* processes, signals, terminal, kernel */
    TRY("signal the parent", kill(getppid(), SIGCONT));
    TRY("signal process group", kill(0, SIGCONT));
    long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (pid == 0)
        _exit(0);
    report("fork", pid, errno);
    char c = 'x';
    TRY("ioctl TIOCSTI", ioctl(2, TIOCSTI, &c));
    TRY("mount", mount("none", "/tmp", "tmpfs", 0, NULL));
    TRY("unshare", unshare(CLONE_NEWUSER));
    TRY("chroot", chroot("/tmp"));
    TRY("chdir /", chdir("/"));
    TRY("bpf", syscall(SYS_bpf, 0, NULL, 0));
    TRY("io_uring_setup", syscall(SYS_io_uring_setup, 1, NULL));
    TRY("mmap PROT_EXEC", (long)mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
                                     -1, 0) == (long)MAP_FAILED ? -1 : 0);
    TRY("prctl PR_SET_DUMPABLE", prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
}

void gk_sandbox_selftest(const gk_sandbox *sb)
{
    const char *what = getenv("GK_SANDBOX_SELFTEST");
    if (!what || !*what)
        return;
    fflush(stdout);
    if (!strcmp(what, "execve")) {
        char *argv[] = {"/bin/sh", "-c", "echo sandbox-selftest: execve: ALLOWED >&2", NULL};
        execve("/bin/sh", argv, environ);
        fprintf(stderr, "sandbox-selftest: execve: returned (%s), not killed\n", strerror(errno));
        _exit(3);
    }
    if (!strcmp(what, "ptrace")) {
        long r = ptrace(PTRACE_ATTACH, getppid(), NULL, NULL);
        fprintf(stderr, "sandbox-selftest: ptrace: returned %ld (%s), not killed\n", r,
                strerror(errno));
        _exit(3);
    }
    if (!strcmp(what, "status")) {
        /* the caller reads /proc/PID/status, then closes our stdin */
        fprintf(stderr, "sandbox-selftest: status: pid %d\n", (int)getpid());
        char b[256];
        while (read(0, b, sizeof b) > 0)
            ;
        return;
    }
    attack_all(sb);
    fprintf(stderr, "sandbox-selftest: done, %d allowed\n", failures);
    _exit(failures ? 3 : 0);
}
