/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sandbox's system-call profile: the table of groups, and the rules
 * libseccomp makes of it (see sandbox-profile.h).  This file is linked into
 * the tools and into the build-time generator tools/sandbox-bpfgen.c: the
 * table here is the only place a system call is allowed. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <termios.h>

#include "sandbox.h"
#include "sandbox-profile.h"

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
 *   nodup      with host-write: no copy of a descriptor that was open
 *              before (a copy would pass for a new one)
 *   ro         openat for reading only (no O_WRONLY/O_RDWR/O_CREAT/O_TRUNC)
 *   excl       openat that creates a new file (O_CREAT|O_EXCL)
 *   fd         utimensat on a descriptor (no path) not open before
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
    "pwritev2", "lseek", "close", "dup:nodup", "dup2:nodup", "dup3:nodup", "fcntl:nodup", "fstat",
    "newfstatat", "statx", "fstatfs", "fadvise64", "readahead", "ftruncate", "openat:ro",
    "getdents64",
    "access", "faccessat", "faccessat2", "getcwd", "ioctl:query",
    /* scratch files in memory (probe buffers, registry hives) */
    "memfd_create",
    /* memory */
    "brk", "mmap:noexec", "mprotect:noexec", "munmap", "mremap", "madvise", "mlock", "munlock",
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

/* the private scratch directory (TMPDIR inside the sandbox: sqlite's
 * copy of an rpm database) */
static const char *const calls_scratch[] = {
    "openat", "mkdirat", "mkdir", "unlinkat", "unlink", "rmdir", "fsync", "fdatasync", NULL,
};

static const char *const calls_imgwrite[] = {
    "fsync", "fdatasync", "fallocate", "sync_file_range", NULL,
};

static const char *const calls_hostwrite[] = {
    /* creation beneath the output directory (Landlock limits where):
     * new files only, never an existing one opened for writing */
    "openat:excl", "mkdirat", "symlinkat", "linkat", "unlinkat", "umask",
    /* metadata of what we created, by descriptor only (the path forms are
     * the front end's, gk_sandbox_meta_at) */
    "fchmod:notpre", "fchown:notpre", "fsetxattr:notpre", "utimensat:fd",
    NULL,
};

static const char *const calls_hostread[] = {
    /* reading host trees (Landlock limits where): links, extended attributes */
    "readlinkat", "readlink", "lgetxattr", "llistxattr", "getxattr", "listxattr", "fgetxattr",
    "flistxattr", NULL,
};

static const char *const calls_broker[] = {
    "sendmsg:broker", "recvmsg:broker", NULL,
};

/* remote images (lib/nbd.c, http.c): I/O on their connections, made
 * before entering; a client that reconnects (libcurl, after a server
 * closed a kept-alive connection) makes IP sockets only, and Landlock
 * lets them reach the ports connected to before */
static const char *const calls_net[] = {
    "sendto", "recvfrom", "poll", "ppoll", "shutdown", "socket:inet", "connect", "getsockopt",
    "setsockopt", "getsockname", "getpeername", NULL,
};

static const struct sb_group groups[] = {
    {0, "base", calls_base},
    {GK_SB_SCRATCH, "scratch", calls_scratch},
    {GK_SB_IMGWRITE, "image-write", calls_imgwrite},
    {GK_SB_HOSTWRITE, "host-write", calls_hostwrite},
    {GK_SB_BROKER, "broker", calls_broker},
    {GK_SB_HOSTREAD, "host-read", calls_hostread},
    {GK_SB_NET, "network", calls_net},
};

/* Never: the process is killed on the spot. */
static const char *const calls_kill[] = {
    "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev", NULL,
};

/* ioctl requests that only ask: isatty, terminal size, sizes of block
 * devices given as images; terminal modes (no echo while a LUKS passphrase
 * is typed).  (TIOCSTI, which would type into the user's
 * terminal, is not one of them.) */
static const unsigned long ioctl_query[] = {
    TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGWINSZ, TIOCGPGRP, FIONREAD, BLKGETSIZE64, BLKGETSIZE, BLKSSZGET, BLKPBSZGET,
    BLKBSZGET, BLKIOMIN, BLKIOOPT, BLKROGET,
};

struct sb_ctx {
    scmp_filter_ctx f;
    const gk_sb_filter_in *in;
    int nallowed;
    char *err;
    size_t errlen;
    int failed;
};

static void __attribute__((format(printf, 2, 3))) sb_err(struct sb_ctx *c, const char *fmt, ...)
{
    if (c->failed++)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
}

static int fd_pre(const gk_sb_filter_in *in, int fd)
{
    for (int i = 0; i < in->npre; i++)
        if (in->pre[i] == fd)
            return 1;
    return 0;
}

static void rule(struct sb_ctx *c, uint32_t action, int nr, const char *name, unsigned n,
                 const struct scmp_arg_cmp *cmp)
{
    int r = seccomp_rule_add_array(c->f, action, nr, n, cmp);
    if (r < 0)
        sb_err(c, "seccomp: %s: %s", name, strerror(-r));
}

/* Allow nr when argument 0 is a descriptor opened after entering, and the
 * comparison extra (if any) holds. */
static void rule_notpre(struct sb_ctx *c, int nr, const char *name, const struct scmp_arg_cmp *extra)
{
    struct scmp_arg_cmp a[2];
    unsigned n = extra ? 2 : 1;
    if (extra)
        a[1] = *extra;
    /* above the highest, or one of the free numbers below it */
    a[0] = SCMP_A0(SCMP_CMP_GT, (scmp_datum_t)c->in->premax);
    rule(c, SCMP_ACT_ALLOW, nr, name, n, a);
    for (int fd = 0; fd < c->in->premax; fd++)
        if (!fd_pre(c->in, fd)) {
            a[0] = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fd);
            rule(c, SCMP_ACT_ALLOW, nr, name, n, a);
        }
}

/* fcntl commands that make no descriptor */
static const int fcntl_safe[] = {
    F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK,
    F_OFD_SETLKW, F_GETPIPE_SZ, F_ADD_SEALS, F_GET_SEALS,
};

static void add_call(struct sb_ctx *c, const char *spec)
{
    char name[64];
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    if (len >= sizeof name) {
        sb_err(c, "seccomp: bad profile entry %s", spec);
        return;
    }
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
        struct scmp_arg_cmp a = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)c->in->pid);
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
        rule_notpre(c, nr, name, NULL);
    } else if (!strcmp(cond, "nodup")) {
        if (!(c->in->needs & GK_SB_HOSTWRITE)) {
            rule(c, A, nr, name, 0, NULL);
        } else {
            rule_notpre(c, nr, name, NULL);
            for (size_t i = 0; !strcmp(name, "fcntl") && i < sizeof fcntl_safe / sizeof *fcntl_safe; i++) {
                struct scmp_arg_cmp a = SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)fcntl_safe[i]);
                rule(c, A, nr, name, 1, &a);
            }
        }
    } else if (!strcmp(cond, "inet")) {
        struct scmp_arg_cmp a4 = SCMP_A0(SCMP_CMP_EQ, AF_INET), a6 = SCMP_A0(SCMP_CMP_EQ, AF_INET6);
        rule(c, A, nr, name, 1, &a4);
        rule(c, A, nr, name, 1, &a6);
    } else if (!strcmp(cond, "ro")) {
        struct scmp_arg_cmp a = SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC, 0);
        rule(c, A, nr, name, 1, &a);
    } else if (!strcmp(cond, "excl")) {
        struct scmp_arg_cmp a = SCMP_A2(SCMP_CMP_MASKED_EQ, O_CREAT | O_EXCL, O_CREAT | O_EXCL);
        rule(c, A, nr, name, 1, &a);
    } else if (!strcmp(cond, "fd")) {
        struct scmp_arg_cmp a = SCMP_A1(SCMP_CMP_EQ, 0);
        rule_notpre(c, nr, name, &a);
    } else if (!strcmp(cond, "broker")) {
        struct scmp_arg_cmp a = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)c->in->broker_fd);
        rule(c, A, nr, name, 1, &a);
    } else {
        sb_err(c, "seccomp: unknown condition in profile entry %s", spec);
    }
}


scmp_filter_ctx gk_sb_filter_build(const gk_sb_filter_in *in, int *nallowed, char *err,
                                   size_t errlen)
{
    struct sb_ctx c = {.in = in, .err = err, .errlen = errlen};
    c.f = seccomp_init(in->refuse);
    if (!c.f) {
        snprintf(err, errlen, "seccomp: cannot start a filter");
        return NULL;
    }
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        if (groups[g].bit && !(in->needs & groups[g].bit))
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
    if (c.failed) {
        seccomp_release(c.f);
        return NULL;
    }
    *nallowed = c.nallowed;
    return c.f;
}

/* Conditions that compare with something only known at run time other
 * than the pid and the broker's descriptor. */
static int cond_dynamic(const char *spec)
{
    const char *colon = strchr(spec, ':');
    return colon && (!strcmp(colon + 1, "notpre") || !strcmp(colon + 1, "fd"));
}

unsigned gk_sb_static_groups(void)
{
    unsigned bits = 0;
    for (size_t g = 1; g < sizeof groups / sizeof groups[0]; g++) {
        int dyn = groups[g].bit == GK_SB_HOSTWRITE;     /* "nodup" depends on it */
        for (const char *const *p = groups[g].calls; *p; p++)
            dyn |= cond_dynamic(*p);
        if (!dyn)
            bits |= groups[g].bit;
    }
    return bits;
}

unsigned gk_sb_all_groups(void)
{
    unsigned bits = 0;
    for (size_t g = 1; g < sizeof groups / sizeof groups[0]; g++)
        bits |= groups[g].bit;
    return bits;
}

void gk_sb_group_names(unsigned needs, char *buf, size_t len)
{
    snprintf(buf, len, "base");
    for (size_t g = 1; g < sizeof groups / sizeof groups[0]; g++)
        if (needs & groups[g].bit)
            snprintf(buf + strlen(buf), len - strlen(buf), "+%s", groups[g].name);
}
