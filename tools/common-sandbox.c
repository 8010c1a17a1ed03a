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
#include <linux/fs.h>
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "common.h"
#include "sandbox.h"

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
/* The profile table                                                   */
/*
 * A group is a list of system calls by name; a name may carry a condition
 * after a colon, one of:
 *   noexec     the protection argument has no PROT_EXEC (mmap, mprotect)
 *   thread     clone that makes a thread (CLONE_THREAD), never a process
 *   self       the pid argument is our own (kill, tgkill)
 *   get        prlimit64 that only reads (no new limit)
 *   query      ioctl with one of the requests of ioctl_query below
 *   notpre     the descriptor was not open when the sandbox was entered
 *              (so never an image or stdin/stdout/stderr)
 *   fd         utimensat on a descriptor (no path)
 *   broker     on the front end's socket only
 * Adding a system call: append its name to the group that needs it (see
 * HACKING.md, "The sandbox").  A call no group names fails with EPERM.
 */
struct sb_group {
    unsigned bit;            /* 0: the base, always in */
    const char *name;
    const char *const *calls;
};

static const char *const calls_base[] = {
    /* I/O on descriptors already open; opening is Landlock's business */
    "read", "readv", "pread64", "preadv", "preadv2", "write", "writev", "pwrite64", "pwritev",
    "pwritev2", "lseek", "close", "dup", "dup2", "dup3", "fcntl", "fstat", "newfstatat",
    "statx", "fstatfs", "fadvise64", "readahead", "ftruncate", "openat", "getdents64",
    "access", "faccessat", "faccessat2", "getcwd", "ioctl:query",
    /* scratch files in memory (probe buffers, registry hives) */
    "memfd_create",
    /* memory */
    "brk", "mmap:noexec", "mprotect:noexec", "munmap", "mremap", "madvise",
    /* threads and signals */
    "clone:thread", "futex", "set_robust_list", "rseq", "sched_yield", "sched_getaffinity",
    "exit", "exit_group", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack",
    "restart_syscall", "tgkill:self", "kill:self", "getpid", "gettid",
    /* clocks, identity, limits (read only) */
    "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
    "getrandom", "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid",
    "getgroups", "uname", "sysinfo", "getrusage", "times", "prlimit64:get", "getrlimit",
    NULL,
};

static const char *const calls_imgwrite[] = {
    "fsync", "fdatasync", "fallocate", "sync_file_range", NULL,
};

static const char *const calls_hostwrite[] = {
    /* creation beneath the output directory (Landlock limits where) */
    "mkdirat", "symlinkat", "linkat", "mknodat", "unlinkat", "umask",
    /* metadata of what we created, by descriptor only */
    "fchmod:notpre", "fchown:notpre", "fsetxattr:notpre", "utimensat:fd",
    NULL,
};

static const char *const calls_broker[] = {
    "sendmsg:broker", "recvmsg:broker", NULL,
};

static const struct sb_group groups[] = {
    {0, "base", calls_base},
    {GK_SB_IMGWRITE, "image-write", calls_imgwrite},
    {GK_SB_HOSTWRITE, "host-write", calls_hostwrite},
    {GK_SB_BROKER, "broker", calls_broker},
    /* remote images (issue 17): one row {GK_SB_NET, "network", calls_net},
     * with socket/connect/sendto/recvfrom/poll/..., and a Landlock
     * CONNECT_TCP rule per port in landlock_enter() */
};

/* Never: the process is killed on the spot. */
static const char *const calls_kill[] = {
    "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev", NULL,
};

/* ioctl requests that only ask: isatty, terminal size, sizes of block
 * devices given as images.  (TIOCSTI, which would type into the user's
 * terminal, is not one of them.) */
static const unsigned long ioctl_query[] = {
    TCGETS, TIOCGWINSZ, TIOCGPGRP, FIONREAD, BLKGETSIZE64, BLKGETSIZE, BLKSSZGET, BLKPBSZGET,
    BLKBSZGET, BLKIOMIN, BLKIOOPT, BLKROGET,
};

/* ------------------------------------------------------------------ */
/* State                                                               */

static int sb_active;
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

static void landlock_enter(const gk_sandbox *sb, int abi)
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

static int fdset_has(const fdset *s, int fd)
{
    for (int i = 0; i < s->n; i++)
        if (s->v[i] == fd)
            return 1;
    return 0;
}

struct sb_ctx {
    scmp_filter_ctx f;
    const gk_sandbox *sb;
    fdset pre;
    int nallowed;
};

static void rule(struct sb_ctx *c, uint32_t action, int nr, const char *name, unsigned n,
                 const struct scmp_arg_cmp *cmp)
{
    int r = seccomp_rule_add_array(c->f, action, nr, n, cmp);
    if (r < 0)
        sb_fail("seccomp: %s: %s", name, strerror(-r));
}

static void add_call(struct sb_ctx *c, const char *spec)
{
    char name[64];
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    if (len >= sizeof name)
        sb_fail("seccomp: bad profile entry %s", spec);
    memcpy(name, spec, len);
    name[len] = 0;
    const char *cond = colon ? colon + 1 : "";
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR || nr < 0)
        return;                     /* not a call of this architecture */
    c->nallowed++;
    const uint32_t A = SCMP_ACT_ALLOW;
    if (!*cond) {
        rule(c, A, nr, name, 0, NULL);
    } else if (!strcmp(cond, "noexec")) {
        struct scmp_arg_cmp a = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
        rule(c, A, nr, name, 1, &a);
    } else if (!strcmp(cond, "thread")) {
        struct scmp_arg_cmp a = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
        rule(c, A, nr, name, 1, &a);
    } else if (!strcmp(cond, "self")) {
        struct scmp_arg_cmp a = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid());
        rule(c, A, nr, name, 1, &a);
    } else if (!strcmp(cond, "get")) {
        struct scmp_arg_cmp a = SCMP_A2(SCMP_CMP_EQ, 0);
        rule(c, A, nr, name, 1, &a);
    } else if (!strcmp(cond, "query")) {
        for (size_t i = 0; i < sizeof ioctl_query / sizeof ioctl_query[0]; i++) {
            struct scmp_arg_cmp a = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu,
                                            (scmp_datum_t)(ioctl_query[i] & 0xffffffffu));
            rule(c, A, nr, name, 1, &a);
        }
    } else if (!strcmp(cond, "notpre")) {
        /* above the highest, or one of the free numbers below it */
        struct scmp_arg_cmp a = SCMP_A0(SCMP_CMP_GT, (scmp_datum_t)c->pre.max);
        rule(c, A, nr, name, 1, &a);
        for (int fd = 0; fd < c->pre.max; fd++)
            if (!fdset_has(&c->pre, fd)) {
                struct scmp_arg_cmp b = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fd);
                rule(c, A, nr, name, 1, &b);
            }
    } else if (!strcmp(cond, "fd")) {
        struct scmp_arg_cmp a = SCMP_A1(SCMP_CMP_EQ, 0);
        rule(c, A, nr, name, 1, &a);
    } else if (!strcmp(cond, "broker")) {
        struct scmp_arg_cmp a = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)c->sb->broker_fd);
        rule(c, A, nr, name, 1, &a);
    } else {
        sb_fail("seccomp: unknown condition in profile entry %s", spec);
    }
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

static void seccomp_enter(const gk_sandbox *sb, int verbose_trap, int *nallowed)
{
    struct sb_ctx c = {0};
    c.sb = sb;
    if (sb->needs & GK_SB_HOSTWRITE)
        fdset_scan(&c.pre);
    else
        c.pre.max = -1;
    c.f = seccomp_init(verbose_trap ? SCMP_ACT_TRAP : SCMP_ACT_ERRNO(EPERM));
    if (!c.f)
        sb_fail("seccomp: cannot start a filter");
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        if (groups[g].bit && !(sb->needs & groups[g].bit))
            continue;
        for (const char *const *p = groups[g].calls; *p; p++)
            add_call(&c, *p);
    }
    for (const char *const *p = calls_kill; *p; p++) {
        int nr = seccomp_syscall_resolve_name(*p);
        if (nr != __NR_SCMP_ERROR && nr >= 0)
            rule(&c, SCMP_ACT_KILL_PROCESS, nr, *p, 0, NULL);
    }
    /* glibc makes threads with clone3 first and falls back to clone only
     * on ENOSYS: clone3's flags are in memory, out of the filter's reach */
    int nr = seccomp_syscall_resolve_name("clone3");
    if (nr != __NR_SCMP_ERROR && nr >= 0)
        rule(&c, SCMP_ACT_ERRNO(ENOSYS), nr, "clone3", 0, NULL);
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
    int r = seccomp_load(c.f);
    if (r < 0)
        sb_fail("seccomp: %s", strerror(-r));
    seccomp_release(c.f);
    free(c.pre.v);
    *nallowed = c.nallowed;
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

void gk_sandbox_enter(const gk_sandbox *sb)
{
    static int entered;
    if (entered++)
        return;
    if (sb->off) {
        gk_sandbox_warn_off();
        return;
    }
    /* 1. what would be loaded lazily from the host later */
    tzset();
    gk_term_is(stdout);
    gk_term_is(stderr);

    int abi = GK_SB_SANITIZER ? 0 : landlock_abi();
    if (!GK_SB_SANITIZER) {
        if (abi < 1)
            gk_die("sandbox: this kernel has no Landlock (%s): use --no-sandbox to run without "
                   "the sandbox", strerror(errno == EOPNOTSUPP ? EOPNOTSUPP : ENOSYS));
        if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0 && errno == EINVAL)
            gk_die("sandbox: this kernel has no seccomp: use --no-sandbox to run without the "
                   "sandbox");
    }
    /* 2. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        sb_fail("no_new_privs: %s", strerror(errno));
    /* 3. */
    if (!GK_SB_SANITIZER)
        landlock_enter(sb, abi);
    /* 4. */
    uint64_t nofile = nofile_limit(sb);
    limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", nofile);
    if (sb->fsize) {
        /* a write past the limit fails with EFBIG instead of a signal */
        signal(SIGXFSZ, SIG_IGN);
        limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", sb->fsize);
    }
    /* 5. */
    int nallowed = 0;
    int trap = gk_verbose && trap_supported();
    if (!GK_SB_SANITIZER)
        seccomp_enter(sb, trap, &nallowed);
    sb_active = 1;

    if (gk_verbose) {
        if (GK_SB_SANITIZER) {
            gk_debug("sandbox: sanitizer build: no Landlock, no seccomp; no new privileges, "
                     "RLIMIT_NOFILE %llu", (unsigned long long)nofile);
        } else {
            char groupnames[128] = "base";
            for (size_t g = 1; g < sizeof groups / sizeof groups[0]; g++)
                if (sb->needs & groups[g].bit)
                    snprintf(groupnames + strlen(groupnames),
                             sizeof groupnames - strlen(groupnames), "+%s", groups[g].name);
            gk_debug("sandbox: no new privileges; Landlock ABI %d: no file system access%s%s%s, "
                     "no TCP%s", abi,
                     sb->outdir && (sb->needs & GK_SB_HOSTWRITE) ? " except writing beneath " : "",
                     sb->outdir && (sb->needs & GK_SB_HOSTWRITE) ? sb->outdir : "",
                     " (open descriptors stay usable)",
                     abi >= 6 ? ", no signals or abstract sockets outside the sandbox" : "");
            gk_debug("sandbox: seccomp profile %s: %d system calls allowed, others fail with "
                     "EPERM (reported here), execve/execveat/ptrace/process_vm_* kill", groupnames,
                     nallowed);
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
}
