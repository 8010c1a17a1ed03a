/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sandbox of every tool and of gfsh (see sandbox.h).
 *
 * Order of the steps, each needed by the next:
 *   1. load what libraries would load lazily from the host later (the time
 *      zone, the locale of a terminal);
 *   2. PR_SET_NO_NEW_PRIVS (Landlock and an unprivileged seccomp need it);
 *   3. Landlock: every file system right this kernel's ABI knows is
 *      handled, none granted, except the output directory's; TCP bind and
 *      connect (ABI 4) handled, none granted; signals and abstract Unix
 *      sockets scoped to the sandbox (ABI 6);
 *   4. resource limits, then
 *   5. the seccomp filter: it also forbids setrlimit and prlimit with a
 *      new limit, so the limits of step 4 stay.
 *
 * Landlock does not cover metadata (stat, chmod, chown, utimes, xattrs on
 * paths): the filter refuses the path forms of the calls that change
 * metadata; a tool that must set it on something it cannot open (a
 * symlink) asks its front end (privilege separation).  stat and access of
 * host paths stay possible (names, sizes and times, never contents).
 *
 * Under AddressSanitizer (make asan) only steps 1, 2 and 4 happen: the
 * sanitizer reads /proc/self/maps and runs llvm-symbolizer when it
 * reports, and reserves terabytes of address space. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <iconv.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "ossl.h"
#include "common.h"
#include "sandbox.h"
#include "sandbox-profile.h"

#if defined(__SANITIZE_ADDRESS__)
#define GK_SB_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GK_SB_SANITIZER 1
#endif
#endif
#ifndef GK_SB_SANITIZER
#define GK_SB_SANITIZER 0
#endif

/* ------------------------------------------------------------------ */
/* State                                                               */

static int sb_active;
static int sb_broker_fd = -1;       /* the worker's end of the socket */
static pid_t sb_front_end;          /* the front end's pid */
static int sb_warned_off;
static const char *sb_denied_names[512];   /* -v: names for the trap handler */

int gk_sandbox_active(void)
{
    return sb_active;
}

int gk_sandbox_env_off(void)
{
    const char *e = getenv("GUESTKIT_NO_SANDBOX");
    return e && *e && strcmp(e, "0") != 0;
}

void gk_sandbox_warn_off(void)
{
    if (sb_warned_off++)
        return;
    gk_warn("running without the sandbox (--no-sandbox or GUESTKIT_NO_SANDBOX): a flaw in a "
            "parser could reach the host");
}

static void __attribute__((noreturn, format(printf, 1, 2))) sb_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    gk_die("sandbox: %s", msg ? msg : fmt);
}

/* ------------------------------------------------------------------ */
/* Landlock (own definitions: the build machine's headers may be older  */
/* than the kernel we run on; we ask the kernel for its ABI)           */

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

struct ll_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

struct ll_path_beneath {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

#define LL_CREATE_VERSION (1u << 0)
#define LL_RULE_PATH_BENEATH 1
enum {
    LL_EXECUTE = 1ull << 0, LL_WRITE_FILE = 1ull << 1, LL_READ_FILE = 1ull << 2,
    LL_READ_DIR = 1ull << 3, LL_REMOVE_DIR = 1ull << 4, LL_REMOVE_FILE = 1ull << 5,
    LL_MAKE_CHAR = 1ull << 6, LL_MAKE_DIR = 1ull << 7, LL_MAKE_REG = 1ull << 8,
    LL_MAKE_SOCK = 1ull << 9, LL_MAKE_FIFO = 1ull << 10, LL_MAKE_BLOCK = 1ull << 11,
    LL_MAKE_SYM = 1ull << 12, LL_REFER = 1ull << 13, LL_TRUNCATE = 1ull << 14,
    LL_IOCTL_DEV = 1ull << 15,
};
#define LL_RULE_NET_PORT 2
struct ll_net_port {
    uint64_t allowed_access;
    uint64_t port;
};
#define LL_NET_BIND_TCP 1ull
#define LL_NET_CONNECT_TCP 2ull
#define LL_SCOPE_ABSTRACT_UNIX 1ull
#define LL_SCOPE_SIGNAL 2ull

/* Rights of the output directory: make anything in it, write and
 * truncate what we made, list and enter it, replace a file of an earlier
 * copy, hard links within it. */
#define LL_OUTDIR (LL_WRITE_FILE | LL_READ_DIR | LL_REMOVE_FILE | LL_MAKE_CHAR | LL_MAKE_DIR | \
                   LL_MAKE_REG | LL_MAKE_SOCK | LL_MAKE_FIFO | LL_MAKE_BLOCK | LL_MAKE_SYM | \
                   LL_REFER | LL_TRUNCATE)

static int landlock_abi(void)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_VERSION);
    return abi < 0 ? -1 : (int)abi;
}

static uint64_t ll_fs_rights(int abi)
{
    uint64_t r = (LL_MAKE_SYM << 1) - 1;            /* ABI 1 */
    if (abi >= 2)
        r |= LL_REFER;
    if (abi >= 3)
        r |= LL_TRUNCATE;
    if (abi >= 5)
        r |= LL_IOCTL_DEV;
    return r;
}

static void landlock_enter(const gk_sandbox *sb, int abi, int scratch_fd)
{
    struct ll_ruleset_attr attr = {0};
    size_t size = sizeof attr.handled_access_fs;
    attr.handled_access_fs = ll_fs_rights(abi);
    if (abi >= 4) {
        attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
        size = offsetof(struct ll_ruleset_attr, scoped);
    }
    if (abi >= 6) {
        attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
        size = sizeof attr;
    }
    int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (rs < 0)
        sb_fail("Landlock: %s", strerror(errno));
    if (sb->outdir && (sb->needs & GK_SB_HOSTWRITE)) {
        struct ll_path_beneath pb = {
            .allowed_access = LL_OUTDIR & attr.handled_access_fs,
            .parent_fd = sb->outdir_fd,
        };
        if (syscall(SYS_landlock_add_rule, rs, LL_RULE_PATH_BENEATH, &pb, 0) < 0)
            sb_fail("Landlock: %s: %s", sb->outdir, strerror(errno));
    }
    if (scratch_fd >= 0) {
        struct ll_path_beneath pb = {
            .allowed_access = (LL_WRITE_FILE | LL_READ_FILE | LL_READ_DIR | LL_REMOVE_DIR |
                               LL_REMOVE_FILE | LL_MAKE_DIR | LL_MAKE_REG | LL_TRUNCATE) &
                              attr.handled_access_fs,
            .parent_fd = scratch_fd,
        };
        if (syscall(SYS_landlock_add_rule, rs, LL_RULE_PATH_BENEATH, &pb, 0) < 0)
            sb_fail("Landlock: scratch directory: %s", strerror(errno));
        close(scratch_fd);
    }
    for (int i = 0; (sb->needs & GK_SB_NET) && abi >= 4 && i < sb->ntcp_ports; i++) {
        struct ll_net_port np = {.allowed_access = LL_NET_CONNECT_TCP, .port = (uint64_t)sb->tcp_ports[i]};
        if (syscall(SYS_landlock_add_rule, rs, LL_RULE_NET_PORT, &np, 0) < 0)
            sb_fail("Landlock: TCP port %d: %s", sb->tcp_ports[i], strerror(errno));
    }
    for (int i = 0; (sb->needs & GK_SB_HOSTREAD) && i < sb->nreadpaths; i++) {
        /* what the user named (a link to a tree: the tree); a dangling
         * link needs no rule, its target is never read */
        int fd = open(sb->readpaths[i], O_PATH | O_CLOEXEC);
        struct stat st;
        if (fd < 0)
            continue;
        if (fstat(fd, &st) < 0)
            sb_fail("Landlock: %s: %s", sb->readpaths[i], strerror(errno));
        struct ll_path_beneath pb = {
            .allowed_access = S_ISDIR(st.st_mode) ? LL_READ_FILE | LL_READ_DIR : LL_READ_FILE,
            .parent_fd = fd,
        };
        if (syscall(SYS_landlock_add_rule, rs, LL_RULE_PATH_BENEATH, &pb, 0) < 0)
            sb_fail("Landlock: %s: %s", sb->readpaths[i], strerror(errno));
        close(fd);
    }
    if (syscall(SYS_landlock_restrict_self, rs, 0) < 0)
        sb_fail("Landlock: %s", strerror(errno));
    close(rs);
}

/* ------------------------------------------------------------------ */
/* seccomp                                                             */

/* Descriptors open when the sandbox is entered (images, stdio, the
 * output directory): "notpre" calls may not touch them. */
typedef struct fdset {
    int *v, n, max;
} fdset;

static void fdset_scan(fdset *s)
{
    memset(s, 0, sizeof *s);
    s->max = -1;
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        /* no /proc: the first 64 descriptors, one by one */
        for (int fd = 0; fd < 64; fd++)
            if (fcntl(fd, F_GETFD) >= 0) {
                s->v = gk_realloc(s->v, (size_t)(s->n + 1) * sizeof *s->v);
                s->v[s->n++] = fd;
                s->max = fd;
            }
        return;
    }
    int self = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        int fd = atoi(e->d_name);
        if (fd == self)
            continue;
        s->v = gk_realloc(s->v, (size_t)(s->n + 1) * sizeof *s->v);
        s->v[s->n++] = fd;
        if (fd > s->max)
            s->max = fd;
    }
    closedir(d);
}

/* -v: a refused call is reported (once per call) and fails with EPERM, as
 * without -v.  The names were looked up before entering: nothing in the
 * handler allocates. */
static void sb_say_raw(const char *a, const char *b, long num)
{
    char buf[256], *p = buf, *end = buf + sizeof buf - 2;
    for (const char *s = gk_progname ? gk_progname : "guestkit"; *s && p < end; s++)
        *p++ = *s;
    for (const char *s = ": sandbox: refused system call "; *s && p < end; s++)
        *p++ = *s;
    for (const char *s = a; s && *s && p < end; s++)
        *p++ = *s;
    if (b) {
        char num_s[24], *q = num_s + sizeof num_s;
        *--q = 0;
        unsigned long u = (unsigned long)num;
        do {
            *--q = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        for (const char *s = b; *s && p < end; s++)
            *p++ = *s;
        for (; *q && p < end; q++)
            *p++ = *q;
        if (p < end)
            *p++ = ')';
    }
    *p++ = '\n';
    ssize_t w = write(2, buf, (size_t)(p - buf));
    (void)w;
}

static void on_sigsys(int sig, siginfo_t *si, void *uc_)
{
    (void)sig;
    ucontext_t *uc = uc_;
    int nr = si->si_syscall;
    static unsigned char seen[512];
    if (nr >= 0 && nr < 512) {
        if (!seen[nr]++)
            sb_say_raw(sb_denied_names[nr] ? sb_denied_names[nr] : "?", " (", nr);
    } else {
        sb_say_raw("?", " (", nr);
    }
#if defined(__x86_64__)
    uc->uc_mcontext.gregs[REG_RAX] = -EPERM;
#elif defined(__aarch64__)
    uc->uc_mcontext.regs[0] = (unsigned long long)-EPERM;
#else
    (void)uc;
#endif
}

static int trap_supported(void)
{
#if defined(__x86_64__) || defined(__aarch64__)
    return 1;
#else
    return 0;
#endif
}

/* The programs made at build time from the profile table by
 * tools/sandbox-bpfgen.c (gk_sb_bpfs[]: one per choice of the groups
 * gk_sb_static_groups() names), each checked there to be what libseccomp
 * makes at run time once the marks are replaced. */
#include "sandbox-bpf.inc"

/* Load the build-time program of the groups needs, with our pid and
 * the broker's descriptor in place of the marks, and, with -v, the trap
 * in place of EPERM.  0 if there is none for needs. */
static int seccomp_prebuilt(unsigned needs, int trap, int *nallowed)
{
    const struct gk_sb_bpf *b = NULL;
    for (size_t i = 0; i < sizeof gk_sb_bpfs / sizeof gk_sb_bpfs[0]; i++)
        if (gk_sb_bpfs[i].needs == needs)
            b = &gk_sb_bpfs[i];
    if (!b)
        return 0;
    struct sock_filter *p = gk_malloc(b->len * sizeof *p);
    memcpy(p, b->prog, b->len * sizeof *p);
    for (unsigned i = 0; i < b->len; i++) {
        if (p[i].code == (BPF_JMP | BPF_JEQ | BPF_K) && p[i].k == GK_SB_PID_MARK)
            p[i].k = (uint32_t)getpid();
        else if (p[i].code == (BPF_JMP | BPF_JEQ | BPF_K) && p[i].k == GK_SB_FD_MARK)
            p[i].k = (uint32_t)sb_broker_fd;
        else if (trap && p[i].code == (BPF_RET | BPF_K) &&
                 p[i].k == (SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)))
            p[i].k = SECCOMP_RET_TRAP;
    }
    struct sock_fprog fp = {.len = b->len, .filter = p};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp) < 0)
        sb_fail("seccomp: %s", strerror(errno));
    free(p);
    *nallowed = b->nallowed;
    return 1;
}

static void seccomp_enter(const gk_sandbox *sb, unsigned needs, int verbose_trap, int *nallowed)
{
    if (verbose_trap) {
        for (int i = 0; i < 512; i++)
            sb_denied_names[i] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, i);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_sigsys;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGSYS, &sa, NULL);
    }
    int prebuilt = !(needs & ~gk_sb_static_groups());
#ifdef GK_SANDBOX_SELFTEST
    /* tests/48-sandbox.t runs the attacks against libseccomp's own
     * program too */
    if (getenv("GK_SANDBOX_RUNTIME_FILTER"))
        prebuilt = 0;
#endif
    if (prebuilt && seccomp_prebuilt(needs, verbose_trap, nallowed))
        return;
    /* host-write: the rules name the descriptors open now */
    fdset pre = {.max = -1};
    if (needs & GK_SB_HOSTWRITE) {
        fdset_scan(&pre);
        /* the output directory itself counts as made by us: its copies
         * and what is made beneath it are the copy's */
        for (int i = 0; i < pre.n; i++)
            if (pre.v[i] == sb->outdir_fd)
                pre.v[i] = -1;
        pre.max = -1;
        for (int i = 0; i < pre.n; i++)
            if (pre.v[i] > pre.max)
                pre.max = pre.v[i];
    }
    gk_sb_filter_in in = {
        .needs = needs,
        .refuse = verbose_trap ? SCMP_ACT_TRAP : SCMP_ACT_ERRNO(EPERM),
        .pid = (long)getpid(),
        .broker_fd = sb_broker_fd,
        .pre = pre.v,
        .npre = pre.n,
        .premax = pre.max,
    };
    char err[256];
    scmp_filter_ctx f = gk_sb_filter_build(&in, nallowed, err, sizeof err);
    if (!f)
        sb_fail("%s", err);
    int r = seccomp_load(f);
    if (r < 0)
        sb_fail("seccomp: %s", strerror(-r));
    seccomp_release(f);
    free(pre.v);
}

/* ------------------------------------------------------------------ */
/* Resource limits                                                     */

static int highest_fd(void)
{
    fdset s;
    fdset_scan(&s);
    free(s.v);
    return s.max;
}

static void limit(int res, const char *name, uint64_t v)
{
    struct rlimit rl;
    if (getrlimit(res, &rl) < 0)
        sb_fail("%s: %s", name, strerror(errno));
    /* lower only: a limit already below ours stays */
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < v)
        v = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max = (rlim_t)v;
    if (setrlimit(res, &rl) < 0)
        sb_fail("%s: %s", name, strerror(errno));
}

static uint64_t nofile_limit(const gk_sandbox *sb)
{
    uint64_t n = sb->nofile > 0 ? (uint64_t)sb->nofile : 256;
    int hi = highest_fd();
    if (hi >= 0 && (uint64_t)hi + 64 > n)
        n = (uint64_t)hi + 64;
    return n;
}

/* ------------------------------------------------------------------ */

/* glibc loads iconv's tables and modules from the host on first use
 * (hivex turns UTF-16 and Latin-1 registry strings into UTF-8): load the
 * ones used now and keep them, so they are never unloaded and reloaded.
 * Only for a hivex that reaches glibc's iconv (a shared libhivex,
 * STATIC_DEPS=0): the static one is linked with lib/recode-wrap.c, which
 * converts those charsets itself, and the weak reference says so. */
iconv_t __wrap_iconv_open(const char *to, const char *from) __attribute__((weak));
static void preload_iconv(void)
{
    if (__wrap_iconv_open)
        return;
    static const char *const pairs[][2] = {
        {"UTF-8", "UTF-16LE"}, {"UTF-16LE", "UTF-8"}, {"UTF-8", "LATIN1"}, {"LATIN1", "UTF-8"},
    };
    static iconv_t keep[sizeof pairs / sizeof pairs[0]];
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (!keep[i])
            keep[i] = iconv_open(pairs[i][0], pairs[i][1]);
}

/* ------------------------------------------------------------------ */
/* Privilege separation: the front end                                 */

static pid_t fe_worker;

static void fe_forward(int sig)
{
    if (fe_worker > 0)
        kill(fe_worker, sig);
}

/* A message with up to two descriptors (fd2 only with fd). */
static ssize_t msg_send2(int s, const void *buf, size_t len, int fd, int fd2)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    union {
        char b[CMSG_SPACE(2 * sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd >= 0) {
        int fds[2] = {fd, fd2};
        size_t n = fd2 >= 0 ? 2 : 1;
        memset(&u, 0, sizeof u);
        m.msg_control = u.b;
        m.msg_controllen = CMSG_SPACE(n * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(n * sizeof(int));
        memcpy(CMSG_DATA(c), fds, n * sizeof(int));
    }
    ssize_t r;
    while ((r = sendmsg(s, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    return r;
}

static ssize_t msg_send(int s, const void *buf, size_t len, int fd)
{
    return msg_send2(s, buf, len, fd, -1);
}

/* One message into buf (cap bytes); fd[0], fd[1] the descriptors with it
 * or -1.  0 at the end, -1 on errors (a truncated message is one). */
static ssize_t msg_recv2(int s, void *buf, size_t cap, int fd[2])
{
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    union {
        char b[CMSG_SPACE(2 * sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
                       .msg_controllen = sizeof u.b};
    fd[0] = fd[1] = -1;
    ssize_t r;
    while ((r = recvmsg(s, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    if (r < 0)
        return -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
            c->cmsg_len >= CMSG_LEN(sizeof(int))) {
            size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            int got[2] = {-1, -1};
            memcpy(got, CMSG_DATA(c), (n > 2 ? 2 : n) * sizeof(int));
            for (size_t i = 0; i < n && i < 2; i++)
                fd[i] = got[i];
        }
    if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        for (int i = 0; i < 2; i++)
            if (fd[i] >= 0)
                close(fd[i]);
        fd[0] = fd[1] = -1;
        errno = EMSGSIZE;
        return -1;
    }
    return r;
}

static ssize_t msg_recv(int s, void *buf, size_t cap, int *fd)
{
    int fds[2];
    ssize_t r = msg_recv2(s, buf, cap, fds);
    if (fds[1] >= 0)
        close(fds[1]);
    *fd = fds[0];
    return r;
}

/* Requests the sandbox itself serves (first byte; a tool's own start
 * lower).  FE_OPENAT..FE_LINKAT make things beneath the directory the
 * front end granted (gk_sandbox_grant_outdir), FE_OPENR opens for reading
 * beneath the trees it granted (gk_sandbox_grant_read): the host side of
 * a worker that has no file system rights of its own (gk_sandbox_fork). */
enum { FE_META = 0xf0, FE_MKNOD, FE_OPENAT, FE_MKDIRAT, FE_SYMLINKAT, FE_UNLINKAT, FE_LINKAT,
       FE_OPENR };

struct meta_req {
    uint8_t op, chown, is_link, pad;
    uint32_t uid, gid, mode_kept, mode_other;
    struct timespec ts[2];
    /* then the name: 1 to 255 bytes, no NUL */
};

static int do_meta(int dirfd, const char *name, int chown, uid_t uid, gid_t gid, mode_t mode_kept,
                   mode_t mode_other, int is_link, const struct timespec ts[2])
{
    int kept = chown && fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) == 0;
    if (!is_link)
        fchmodat(dirfd, name, kept ? mode_kept : mode_other, AT_SYMLINK_NOFOLLOW);
    utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW);
    return kept;
}

static struct {
    const gk_broker *tool;
    char *outdir;             /* realpath of the output directory */
    char *scratch;            /* the worker's TMPDIR, removed at the end */
    char **readroots;         /* realpaths of the trees FE_OPENR may open */
    int nreadroots;
} fe;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

/* After the worker: its scratch directory goes, whatever it left there
 * (never following a link it made). */
static void fe_cleanup(void)
{
    if (fe.scratch)
        nftw(fe.scratch, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* Is the directory of fd the output directory or beneath it?  The worker
 * cannot move anything out of it (Landlock) nor open anything elsewhere. */
/* Directories the front end opened by one name beneath the granted one
 * (gk_sandbox_fork's workers): known to be beneath it however deep, where
 * /proc/self/fd names stop at 4096 bytes.  Open addressing on (dev, ino);
 * grows with the directories of the copy. */
static struct fe_dir {
    dev_t dev;
    ino_t ino;
    int used;
} *fe_dirs;
static size_t fe_ndirs, fe_capdirs;

static size_t fe_dir_hash(dev_t d, ino_t i)
{
    return (size_t)((uint64_t)i * 0x9e3779b97f4a7c15ull ^ (uint64_t)d);
}

static int fe_dir_known(const struct stat *st)
{
    for (size_t h = fe_capdirs ? fe_dir_hash(st->st_dev, st->st_ino) % fe_capdirs : 0, n = 0;
         n < fe_capdirs && fe_dirs[h].used; h = (h + 1) % fe_capdirs, n++)
        if (fe_dirs[h].dev == st->st_dev && fe_dirs[h].ino == st->st_ino)
            return 1;
    return 0;
}

static void fe_dir_add(const struct stat *st)
{
    if (fe_dir_known(st))
        return;
    if (2 * (fe_ndirs + 1) > fe_capdirs) {
        struct fe_dir *old = fe_dirs;
        size_t oldcap = fe_capdirs;
        fe_capdirs = oldcap ? 2 * oldcap : 64;
        fe_dirs = gk_calloc(fe_capdirs, sizeof *fe_dirs);
        fe_ndirs = 0;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].used) {
                struct stat t = {.st_dev = old[i].dev, .st_ino = old[i].ino};
                fe_dir_add(&t);
            }
        free(old);
    }
    size_t h = fe_dir_hash(st->st_dev, st->st_ino) % fe_capdirs;
    while (fe_dirs[h].used)
        h = (h + 1) % fe_capdirs;
    fe_dirs[h] = (struct fe_dir){st->st_dev, st->st_ino, 1};
    fe_ndirs++;
}

static void fe_dirs_clear(void)
{
    free(fe_dirs);
    fe_dirs = NULL;
    fe_ndirs = fe_capdirs = 0;
}

static int fe_beneath_outdir(int fd)
{
    struct stat st;
    if (!fe.outdir || fd < 0 || fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
        return 0;
    if (fe_dir_known(&st))
        return 1;
    char p[64], buf[4096 + 1];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(p, buf, sizeof buf - 1);
    if (n <= 0 || n >= (ssize_t)sizeof buf - 1)
        return 0;
    buf[n] = 0;
    size_t l = strlen(fe.outdir);
    if (strncmp(buf, fe.outdir, l) != 0)
        return 0;
    return buf[l] == 0 || buf[l] == '/' || (l == 1 && fe.outdir[0] == '/');
}

static int fe_name_ok(const char *name, size_t nl)
{
    return nl > 0 && strlen(name) == nl && !strchr(name, '/') && strcmp(name, ".") != 0 &&
           strcmp(name, "..") != 0;
}

struct mknod_req {
    uint8_t op, pad[3];
    uint32_t mode;
    uint64_t dev;
    /* then the name */
};

static ssize_t fe_mknod(const char *req, size_t len, int fd_in, char *rep)
{
    struct mknod_req m;
    if (len <= sizeof m || len > sizeof m + 255)
        return -1;
    memcpy(&m, req, sizeof m);
    char name[256];
    size_t nl = len - sizeof m;
    memcpy(name, req + sizeof m, nl);
    name[nl] = 0;
    int32_t r = EACCES;
    mode_t t = m.mode & S_IFMT;
    if (fe_name_ok(name, nl) && fe_beneath_outdir(fd_in) &&
        (t == S_IFCHR || t == S_IFBLK || t == S_IFIFO || t == S_IFSOCK))
        r = mknodat(fd_in, name, m.mode & (S_IFMT | 0777), (dev_t)m.dev) == 0 ? 0 : errno;
    memcpy(rep, &r, sizeof r);
    return sizeof r;
}

int gk_sandbox_mknodat(int dirfd, const char *name, mode_t mode, dev_t dev)
{
    size_t nl = strlen(name);
    if (sb_broker_fd < 0 || !sb_active || nl == 0 || nl > 255)
        return mknodat(dirfd, name, mode, dev);
    char buf[sizeof(struct mknod_req) + 255];
    struct mknod_req m = {.op = FE_MKNOD, .mode = mode, .dev = dev};
    memcpy(buf, &m, sizeof m);
    memcpy(buf + sizeof m, name, nl);
    int32_t e = EIO;
    int fd = -1;
    if (gk_broker_call(buf, sizeof m + nl, dirfd, &e, sizeof e, &fd) != sizeof e)
        e = EIO;
    if (fd >= 0)
        close(fd);
    if (e) {
        errno = e;
        return -1;
    }
    return 0;
}

/* Host operations of a worker without file system rights.  A request is
 * a struct host_req, then its strings (each NUL-terminated, at most two);
 * the reply an int32 errno (0: done), with a descriptor for the opens. */
struct host_req {
    uint8_t op, pad[3];
    int32_t flags;
    uint32_t mode;
};

static int fe_is_beneath(const char *root, const char *p)
{
    size_t l = strlen(root);
    if (strncmp(p, root, l) != 0)
        return 0;
    return p[l] == 0 || p[l] == '/' || (l == 1 && root[0] == '/');
}

static char *fd_path(int fd)
{
    char p[64], buf[4096 + 1];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(p, buf, sizeof buf - 1);
    if (n <= 0 || n >= (ssize_t)sizeof buf - 1)
        return NULL;
    buf[n] = 0;
    return gk_strdup(buf);
}

static ssize_t fe_host(const char *req, size_t len, int fd_in, int fd_in2, char *rep, int *fd_out)
{
    struct host_req h;
    int32_t e = EACCES;
    if (len <= sizeof h || req[len - 1] != 0)
        return -1;
    memcpy(&h, req, sizeof h);
    const char *s1 = req + sizeof h, *s2 = NULL;
    size_t l1 = strlen(s1);
    if (sizeof h + l1 + 1 < len) {
        s2 = s1 + l1 + 1;
        if (sizeof h + l1 + 1 + strlen(s2) + 1 != len)
            return -1;
    }
    if (h.op == FE_OPENR) {
        /* for reading only, beneath a tree the user named */
        int extra = h.flags & ~(O_NOFOLLOW | O_DIRECTORY | O_NONBLOCK);
        if (extra == O_RDONLY && fe.nreadroots > 0 && !s2) {
            int fd = open(s1, h.flags | O_CLOEXEC | O_NOCTTY);
            if (fd < 0) {
                e = errno;
            } else {
                char *rp = fd_path(fd);
                int okr = 0;
                for (int i = 0; rp && i < fe.nreadroots && !okr; i++)
                    okr = fe_is_beneath(fe.readroots[i], rp);
                free(rp);
                if (okr) {
                    *fd_out = fd;
                    e = 0;
                } else {
                    close(fd);
                }
            }
        }
    } else if (fe_beneath_outdir(fd_in)) {
        int dotdot = strcmp(s1, "..") == 0;
        switch (h.op) {
        case FE_OPENAT: {
            int f = h.flags & ~(O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
            if (s2 || (!fe_name_ok(s1, l1) && !(dotdot && f == (O_RDONLY | O_DIRECTORY))))
                break;
            if (f != (O_WRONLY | O_CREAT | O_EXCL) && f != (O_RDONLY | O_DIRECTORY))
                break;
            int fd = openat(fd_in, s1, f | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, h.mode & 0777);
            struct stat st;
            if (fd < 0) {
                e = errno;
            } else if ((f & O_DIRECTORY) && !dotdot && fstat(fd, &st) == 0) {
                /* one name, not followed, in a directory beneath it */
                fe_dir_add(&st);
                *fd_out = fd;
                e = 0;
            } else if ((f & O_DIRECTORY) && !fe_beneath_outdir(fd)) {
                close(fd);
            } else {
                *fd_out = fd;
                e = 0;
            }
            break;
        }
        case FE_MKDIRAT:
            if (!s2 && fe_name_ok(s1, l1))
                e = mkdirat(fd_in, s1, h.mode & 0777) == 0 ? 0 : errno;
            break;
        case FE_SYMLINKAT:
            /* s1 the target (any text: never followed here), s2 the name */
            if (s2 && fe_name_ok(s2, strlen(s2)))
                e = symlinkat(s1, fd_in, s2) == 0 ? 0 : errno;
            break;
        case FE_UNLINKAT:
            if (!s2 && fe_name_ok(s1, l1) && (h.flags == 0 || h.flags == AT_REMOVEDIR))
                e = unlinkat(fd_in, s1, h.flags) == 0 ? 0 : errno;
            break;
        case FE_LINKAT:
            if (s2 && fe_name_ok(s1, l1) && fe_name_ok(s2, strlen(s2)) &&
                fe_beneath_outdir(fd_in2))
                e = linkat(fd_in, s1, fd_in2, s2, 0) == 0 ? 0 : errno;
            break;
        default:
            return -1;
        }
    } else if (h.op < FE_OPENAT || h.op > FE_OPENR) {
        return -1;
    }
    memcpy(rep, &e, sizeof e);
    return sizeof e;
}

static ssize_t fe_serve2(const gk_broker *b, const char *req, size_t len, int fd_in, int fd_in2,
                         char *rep, int *fd_out)
{
    if (len == 0)
        return -1;
    if ((uint8_t)req[0] < FE_META)
        return b && b->serve ? b->serve(b->ud, req, len, fd_in, rep, fd_out) : -1;
    if ((uint8_t)req[0] == FE_MKNOD)
        return fe_mknod(req, len, fd_in, rep);
    if ((uint8_t)req[0] >= FE_OPENAT && (uint8_t)req[0] <= FE_OPENR)
        return fe_host(req, len, fd_in, fd_in2, rep, fd_out);
    if ((uint8_t)req[0] != FE_META || len <= sizeof(struct meta_req) ||
        len > sizeof(struct meta_req) + 255)
        return -1;
    struct meta_req m;
    memcpy(&m, req, sizeof m);
    char name[256];
    size_t nl = len - sizeof m;
    memcpy(name, req + sizeof m, nl);
    name[nl] = 0;
    int32_t kept = -EACCES;
    if (strlen(name) == nl && !strchr(name, '/') && strcmp(name, ".") != 0 &&
        strcmp(name, "..") != 0 && fe_beneath_outdir(fd_in))
        kept = do_meta(fd_in, name, m.chown, m.uid, m.gid, m.mode_kept & 07777,
                       m.mode_other & 07777, m.is_link, m.ts);
    memcpy(rep, &kept, sizeof kept);
    return sizeof kept;
}

int gk_sandbox_meta_at(int dirfd, const char *name, int chown, uid_t uid, gid_t gid,
                       mode_t mode_kept, mode_t mode_other, int is_link,
                       const struct timespec ts[2])
{
    size_t nl = strlen(name);
    if (sb_broker_fd < 0 || !sb_active || nl == 0 || nl > 255)
        return do_meta(dirfd, name, chown, uid, gid, mode_kept, mode_other, is_link, ts);
    char buf[sizeof(struct meta_req) + 255];
    struct meta_req m = {
        .op = FE_META, .chown = !!chown, .is_link = !!is_link,
        .uid = uid, .gid = gid, .mode_kept = mode_kept, .mode_other = mode_other,
        .ts = {ts[0], ts[1]},
    };
    memcpy(buf, &m, sizeof m);
    memcpy(buf + sizeof m, name, nl);
    int32_t kept = 0;
    int fd = -1;
    if (gk_broker_call(buf, sizeof m + nl, dirfd, &kept, sizeof kept, &fd) != sizeof kept)
        kept = 0;
    if (fd >= 0)
        close(fd);
    return kept > 0;
}

/* The front end: serve until the worker ends, then leave as it did. */
static void __attribute__((noreturn)) front_end(const gk_broker *b, int s, pid_t worker)
{
    fe_worker = worker;
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fe_forward;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    static char req[GK_BROKER_MSG], rep[GK_BROKER_MSG];
    for (;;) {
        int fd_in[2];
        ssize_t n = msg_recv2(s, req, sizeof req, fd_in);
        if (n <= 0)
            break;
        int fd_out = -1;
        ssize_t rn = fe_serve2(b, req, (size_t)n, fd_in[0], fd_in[1], rep, &fd_out);
        for (int i = 0; i < 2; i++)
            if (fd_in[i] >= 0)
                close(fd_in[i]);
        if (rn < 0 || rn > GK_BROKER_MSG) {
            /* a worker that breaks the protocol is not trusted further */
            kill(worker, SIGKILL);
            break;
        }
        if (msg_send(s, rep, (size_t)rn, fd_out) < 0) {
            if (fd_out >= 0)
                close(fd_out);
            break;
        }
        if (fd_out >= 0)
            close(fd_out);
    }
    close(s);
    int st = 0;
    while (waitpid(worker, &st, 0) < 0)
        if (errno != EINTR) {
            st = 1 << 8;
            break;
        }
    fe_cleanup();
    if (b && b->done)
        b->done(b->ud, st);
    gk_sandbox_exit_as(st);
}

void gk_sandbox_exit_as(int st)
{
    if (WIFEXITED(st))
        _exit(WEXITSTATUS(st));
    int sig = WTERMSIG(st);
    if (sig == SIGSYS)
        gk_say("sandbox: killed for a forbidden system call (see -v)");
    /* die of the same signal, without a core of our own */
    struct rlimit no = {0, 0};
    setrlimit(RLIMIT_CORE, &no);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig);
}

/* A split the caller drives (gk_sandbox_fork): the front end's end of
 * the socket and the worker; in the worker, host operations go to it. */
static int sb_manual_sock = -1;
static pid_t sb_manual_worker;
static int sb_proxy;

/* Fork: the parent becomes the front end and never returns, unless
 * manual: then it returns the worker's pid (the worker returns 0). */
static pid_t broker_split(const gk_broker *b, int manual)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        sb_fail("socketpair: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        sb_fail("fork: %s", strerror(errno));
    if (pid > 0) {
        close(sv[1]);
        fe_worker = pid;
        if (manual) {
            sb_manual_sock = sv[0];
            sb_manual_worker = pid;
            return pid;
        }
        front_end(b, sv[0], pid);
    }
    close(sv[0]);
    sb_broker_fd = sv[1];
    sb_front_end = getppid();
    sb_proxy = manual;
    /* the worker does not outlive its front end */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    return 0;
}

/* ---- the caller-driven split: front end side ---- */

void gk_sandbox_grant_outdir(int dirfd)
{
    free(fe.outdir);
    fe.outdir = NULL;
    fe_dirs_clear();
    struct stat st;
    if (dirfd >= 0 && (fe.outdir = fd_path(dirfd)) && fstat(dirfd, &st) == 0)
        fe_dir_add(&st);
}

void gk_sandbox_grant_read(const char *const *paths, int n)
{
    for (int i = 0; i < fe.nreadroots; i++)
        free(fe.readroots[i]);
    free(fe.readroots);
    fe.readroots = NULL;
    fe.nreadroots = 0;
    if (n <= 0)
        return;
    fe.readroots = gk_calloc((size_t)n, sizeof *fe.readroots);
    for (int i = 0; i < n; i++) {
        /* a link the user named: its target, as they meant it */
        char *rp = realpath(paths[i], NULL);
        if (rp)
            fe.readroots[fe.nreadroots++] = rp;
    }
}

ssize_t gk_sandbox_ask_worker(const void *msg, size_t len, int fd, void *rep, size_t cap,
                              int *fd_out, const gk_broker *b)
{
    static char req[GK_BROKER_MSG], rep2[GK_BROKER_MSG];
    *fd_out = -1;
    if (sb_manual_sock < 0 || len > GK_BROKER_MSG || msg_send(sb_manual_sock, msg, len, fd) < 0)
        return -1;
    for (;;) {
        int fds[2];
        ssize_t n = msg_recv2(sb_manual_sock, req, sizeof req, fds);
        if (n <= 0)
            return -1;
        if ((uint8_t)req[0] == GK_SB_DONE) {
            memcpy(rep, req, (size_t)n < cap ? (size_t)n : cap);
            *fd_out = fds[0];
            if (fds[1] >= 0)
                close(fds[1]);
            return n;
        }
        int fo = -1;
        ssize_t rn = fe_serve2(b, req, (size_t)n, fds[0], fds[1], rep2, &fo);
        for (int i = 0; i < 2; i++)
            if (fds[i] >= 0)
                close(fds[i]);
        if (rn < 0 || rn > GK_BROKER_MSG) {
            /* a worker that breaks the protocol is not trusted further */
            kill(sb_manual_worker, SIGKILL);
            return -1;
        }
        ssize_t w = msg_send(sb_manual_sock, rep2, (size_t)rn, fo);
        if (fo >= 0)
            close(fo);
        if (w < 0)
            return -1;
    }
}

int gk_sandbox_tell_worker(const void *msg, size_t len, int fd)
{
    if (sb_manual_sock < 0 || len > GK_BROKER_MSG)
        return -1;
    return msg_send(sb_manual_sock, msg, len, fd) < 0 ? -1 : 0;
}

int gk_sandbox_end_worker(void)
{
    if (sb_manual_sock < 0)
        return 0;
    close(sb_manual_sock);
    sb_manual_sock = -1;
    int st = 0;
    while (waitpid(sb_manual_worker, &st, 0) < 0)
        if (errno != EINTR) {
            st = 1 << 8;
            break;
        }
    fe_cleanup();
    free(fe.scratch);
    fe.scratch = NULL;
    gk_sandbox_grant_outdir(-1);
    gk_sandbox_grant_read(NULL, 0);
    return st;
}

/* ---- the caller-driven split: worker side ---- */

ssize_t gk_sandbox_next_request(void *buf, size_t cap, int *fd)
{
    if (sb_broker_fd < 0) {
        *fd = -1;
        return 0;
    }
    return msg_recv(sb_broker_fd, buf, cap, fd);
}

int gk_sandbox_answer(const void *rep, size_t len, int fd)
{
    if (sb_broker_fd < 0 || len > GK_BROKER_MSG)
        return -1;
    return msg_send(sb_broker_fd, rep, len, fd) < 0 ? -1 : 0;
}

/* One host operation through the front end: 0 (with *fd_out for the
 * opens) or -1 with errno. */
static int host_call(uint8_t op, int32_t flags, uint32_t mode, const char *s1, const char *s2,
                     int fd, int fd2, int *fd_out)
{
    static char buf[GK_BROKER_MSG];
    size_t l1 = strlen(s1), l2 = s2 ? strlen(s2) + 1 : 0;
    struct host_req h = {.op = op, .flags = flags, .mode = mode};
    if (sizeof h + l1 + 1 + l2 > sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, &h, sizeof h);
    memcpy(buf + sizeof h, s1, l1 + 1);
    if (s2)
        memcpy(buf + sizeof h + l1 + 1, s2, l2);
    int32_t e = EIO;
    int fo = -1;
    if (msg_send2(sb_broker_fd, buf, sizeof h + l1 + 1 + l2, fd, fd2) < 0 ||
        msg_recv(sb_broker_fd, &e, sizeof e, &fo) != sizeof e)
        e = EIO;
    if (fd_out)
        *fd_out = fo;
    else if (fo >= 0)
        close(fo);
    if (e) {
        if (fo >= 0 && fd_out) {
            close(fo);
            *fd_out = -1;
        }
        errno = e;
        return -1;
    }
    return 0;
}

int gk_host_openat(int dirfd, const char *name, int flags, mode_t mode)
{
    if (!sb_proxy)
        return openat(dirfd, name, flags, mode);
    int fd = -1;
    if (host_call(FE_OPENAT, flags, mode, name, NULL, dirfd, -1, &fd) < 0)
        return -1;
    if (fd < 0)
        errno = EIO;
    return fd;
}

int gk_host_mkdirat(int dirfd, const char *name, mode_t mode)
{
    if (!sb_proxy)
        return mkdirat(dirfd, name, mode);
    return host_call(FE_MKDIRAT, 0, mode, name, NULL, dirfd, -1, NULL);
}

int gk_host_symlinkat(const char *target, int dirfd, const char *name)
{
    if (!sb_proxy)
        return symlinkat(target, dirfd, name);
    return host_call(FE_SYMLINKAT, 0, 0, target, name, dirfd, -1, NULL);
}

int gk_host_unlinkat(int dirfd, const char *name, int flags)
{
    if (!sb_proxy)
        return unlinkat(dirfd, name, flags);
    return host_call(FE_UNLINKAT, flags, 0, name, NULL, dirfd, -1, NULL);
}

int gk_host_linkat(int olddirfd, const char *oldname, int newdirfd, const char *newname)
{
    if (!sb_proxy)
        return linkat(olddirfd, oldname, newdirfd, newname, 0);
    return host_call(FE_LINKAT, 0, 0, oldname, newname, olddirfd, newdirfd, NULL);
}

int gk_host_open_read(const char *path, int flags)
{
    if (!sb_proxy)
        return open(path, flags, 0);
    int fd = -1;
    if (host_call(FE_OPENR, flags & ~O_CLOEXEC, 0, path, NULL, -1, -1, &fd) < 0)
        return -1;
    if (fd < 0)
        errno = EIO;
    return fd;
}

int gk_sandbox_proxied(void)
{
    return sb_proxy;
}

ssize_t gk_broker_call(const void *req, size_t len, int fd_in, void *rep, size_t cap, int *fd_out)
{
    *fd_out = -1;
    if (sb_broker_fd < 0) {
        gk_error("sandbox: no front end to ask");
        return -1;
    }
    if (len > GK_BROKER_MSG || msg_send(sb_broker_fd, req, len, fd_in) < 0) {
        gk_error("sandbox: front end: %s", strerror(len > GK_BROKER_MSG ? EMSGSIZE : errno));
        return -1;
    }
    ssize_t n = msg_recv(sb_broker_fd, rep, cap, fd_out);
    if (n <= 0) {
        gk_error("sandbox: front end: %s", n == 0 ? "gone" : strerror(errno));
        return -1;
    }
    return n;
}

/* ------------------------------------------------------------------ */

static pid_t sandbox_enter(const gk_sandbox *sb, int manual);

void gk_sandbox_enter(const gk_sandbox *sb)
{
    sandbox_enter(sb, 0);
}

pid_t gk_sandbox_fork(const gk_sandbox *sb)
{
    return sandbox_enter(sb, 1);
}

static pid_t sandbox_enter(const gk_sandbox *sb_in, int manual)
{
    static int entered;
    if (entered++)
        return 0;
    /* remote images (lib/remote.c): their connections stay usable */
    static gk_sandbox remote;
    static int ports[16];
    const gk_sandbox *sb = sb_in;
    if (gk_remote_in_use()) {
        remote = *sb_in;
        remote.needs |= GK_SB_NET;
        remote.tcp_ports = ports;
        remote.ntcp_ports = gk_remote_tcp_ports(ports, 16);
        if (!remote.skip)
            remote.skip = gk_remote_unconfined();
        sb = &remote;
    }
    if (sb->off) {
        gk_sandbox_warn_off();
        return 0;
    }
    if (sb->skip) {
        gk_debug("sandbox: not entered: %s", sb->skip);
        return 0;
    }
    /* 1. what would be loaded lazily from the host later */
    if (!(sb->needs & GK_SB_NOTZ))
        tzset();
    gk_term_is(stdout);
    gk_term_is(stderr);
    if (sb->needs & GK_SB_HIVES)
        preload_iconv();
    if (sb->crypto && gk_ossl_load() < 0)
        gk_debug("sandbox: %s", gk_errmsg());
    int abi = GK_SB_SANITIZER ? 0 : landlock_abi();
#ifdef GK_SANDBOX_SELFTEST
    /* the test of a kernel without Landlock (tests/48-sandbox.t) */
    if (getenv("GK_SANDBOX_SELFTEST_NOLANDLOCK")) {
        abi = -1;
        errno = EOPNOTSUPP;
    }
#endif
    if (!GK_SB_SANITIZER) {
        if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL)
            gk_die("sandbox: this kernel has no seccomp: use --no-sandbox (or "
                   "GUESTKIT_NO_SANDBOX=1) to run without the sandbox");
        if (abi < 1) {
            /* Debian 12's stock kernel has Landlock built in but not enabled
             * (lsm=): refusing would refuse every tool there */
            gk_warn("sandbox: this kernel has no Landlock (%s): host files are not confined, "
                    "only system calls and limits are (--no-sandbox turns the rest off too)",
                    errno == EOPNOTSUPP ? "disabled at boot" : "too old");
        }
    }
    /* the front end, if any, stays out of everything below: a tool's own,
     * or the one that sets metadata by name beneath the output directory */
    /* a private TMPDIR (rpm inspection copies the database for sqlite),
     * removed by the front end at the end */
    int scratch_fd = -1;
    if (!GK_SB_SANITIZER && abi >= 1 && (sb->needs & GK_SB_SCRATCH)) {
        const char *t = getenv("TMPDIR");
        char *tmpl = gk_asprintf("%s/guestkit-sandbox.XXXXXX", t && *t ? t : "/tmp");
        if (mkdtemp(tmpl)) {
            fe.scratch = tmpl;
            scratch_fd = open(tmpl, O_PATH | O_DIRECTORY | O_CLOEXEC);
        } else {
            free(tmpl);
        }
    }
    int split = manual || sb->broker != NULL || (sb->needs & GK_SB_HOSTWRITE) || fe.scratch;
    if (split && (sb->needs & GK_SB_HOSTWRITE) && sb->outdir_fd >= 0) {
        char p[64];
        snprintf(p, sizeof p, "/proc/self/fd/%d", sb->outdir_fd);
        fe.outdir = realpath(p, NULL);
    }
    if (split) {
        pid_t pid = broker_split(sb->broker, manual);
        if (pid > 0) {
            /* the front end stays as it was; it may fork another worker */
            if (scratch_fd >= 0)
                close(scratch_fd);
            entered = 0;
            return pid;
        }
    }
    if (fe.scratch)
        setenv("TMPDIR", fe.scratch, 1);

    /* 2. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        sb_fail("no_new_privs: %s", strerror(errno));
    uint64_t nofile = nofile_limit(sb);    /* reads /proc/self/fd */
    /* 3. */
    if (!GK_SB_SANITIZER && abi >= 1)
        landlock_enter(sb, abi, scratch_fd);
    /* 4. */
    limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", nofile);
    if (sb->fsize) {
        /* a write past the limit fails with EFBIG instead of a signal */
        signal(SIGXFSZ, SIG_IGN);
        limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", sb->fsize);
    }
    /* 5. */
    int nallowed = 0;
    int trap = gk_verbose && trap_supported();
    unsigned needs = (sb->needs | (sb->broker || (sb->needs & GK_SB_HOSTWRITE) ? GK_SB_BROKER : 0)) &
                     gk_sb_all_groups();
    if (!GK_SB_SANITIZER)
        seccomp_enter(sb, needs, trap, &nallowed);
    sb_active = 1;

    if (gk_verbose) {
        if (GK_SB_SANITIZER) {
            gk_debug("sandbox: sanitizer build: no Landlock, no seccomp; no new privileges, "
                     "RLIMIT_NOFILE %llu", (unsigned long long)nofile);
        } else {
            char groupnames[128];
            gk_sb_group_names(needs, groupnames, sizeof groupnames);
            if (abi < 1)
                gk_debug("sandbox: no new privileges; no Landlock: host files not confined");
            else
                gk_debug("sandbox: no new privileges; Landlock ABI %d: no file system access%s%s%s%s, "
                         "%s%s", abi,
                         sb->outdir && (sb->needs & GK_SB_HOSTWRITE) ? " except writing beneath " : "",
                         sb->outdir && (sb->needs & GK_SB_HOSTWRITE) ? sb->outdir : "",
                         (sb->needs & GK_SB_HOSTREAD) && sb->nreadpaths ? ", reading the sources named" : "",
                         " (open descriptors stay usable)",
                         sb->needs & GK_SB_NET ? "TCP only to the images' ports" : "no TCP",
                         abi >= 6 ? ", no signals or abstract sockets outside the sandbox" : "");
            gk_debug("sandbox: seccomp profile %s: %d system calls allowed, others fail with "
                     "EPERM (reported here), execve/execveat/ptrace/process_vm_* kill", groupnames,
                     nallowed);
            if (sb_broker_fd >= 0)
                gk_debug("sandbox: the front end (pid %d) stays outside, this worker asks it",
                         (int)sb_front_end);
            if (sb->fsize)
                gk_debug("sandbox: RLIMIT_NOFILE %llu, RLIMIT_FSIZE %llu, limits cannot be raised",
                         (unsigned long long)nofile, (unsigned long long)sb->fsize);
            else
                gk_debug("sandbox: RLIMIT_NOFILE %llu, limits cannot be raised",
                         (unsigned long long)nofile);
        }
    }
#ifdef GK_SANDBOX_SELFTEST
    gk_sandbox_selftest(sb);
#endif
    return 0;
}
