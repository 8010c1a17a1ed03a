/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sandbox (tools/common-sandbox.c): what every tool and gfsh enter
 * once their images and output locations are open, before they parse
 * anything an image decides.
 *
 * Inside it a process has no file system access at all except through the
 * descriptors it already holds (Landlock), and, for a tool that writes
 * copies onto the host, create/write access beneath its one output
 * directory; it runs with an allow-list of system calls (seccomp: refused
 * calls fail with EPERM, execve and ptrace kill the process; the BPF is
 * made from the profile table at build time, or by libseccomp at run time
 * for host-write, whose rules name the descriptors open then), no new
 * privileges, RLIMIT_NOFILE (and RLIMIT_FSIZE where the size of the output
 * is known) and may not raise a limit again.
 *
 * A tool declares what it needs in one gk_sandbox record (gk_cli.sb, given
 * to gk_cli_launch, which enters the sandbox between opening the images
 * and scanning them).  HACKING.md, "The sandbox", says how to add a system
 * call to a profile and where each tool draws its line.
 */
#ifndef GK_TOOLS_SANDBOX_H
#define GK_TOOLS_SANDBOX_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* System-call groups beyond the base every tool gets (read the open
 * images, write to open descriptors, memory, threads, clocks).  Each is one
 * row of the profile table in tools/common-sandbox-profile.c. */
enum {
    GK_SB_IMGWRITE = 1u << 0,   /* --rw and output images: sync, grow, discard  */
    GK_SB_HOSTWRITE = 1u << 1,  /* make files beneath outdir (needs outdir)    */
    GK_SB_BROKER = 1u << 2,     /* messages to the front end (privilege split) */
    GK_SB_NET = 1u << 3,        /* remote images: their connections (tcp_ports) */
    GK_SB_HOSTREAD = 1u << 4,   /* read host trees beneath readpaths (copy-in)  */
    GK_SB_SCRATCH = 1u << 5,    /* a private TMPDIR (removed by a front end)    */
    /* Not a group of system calls: the run may read registry hives
     * (inspection, gwinreg, gfsh).  hivex converts UTF-16 and Latin-1
     * names with iconv; the static hivex reaches lib/recode.c, which needs
     * nothing loaded; a shared one (STATIC_DEPS=0) reaches glibc, whose
     * modules are then loaded before entering (from the host on first
     * use otherwise), and only for runs with this flag. */
    GK_SB_HIVES = 1u << 6,
    /* Not a group either: the tool formats no local time (neither it nor
     * a library it loads calls localtime_r, strftime, mktime, ctime: the
     * nm check of tests/48-sandbox.t), so /etc/localtime, which the
     * sandbox would refuse later, is not read before entering (tzset: 7
     * system calls at every start). */
    GK_SB_NOTZ = 1u << 7,
};

typedef struct gk_sandbox {
    unsigned needs;          /* GK_SB_* groups                               */
    /* The one host directory written beneath (GK_SB_HOSTWRITE): its name
     * for messages and a descriptor of it opened by the tool. */
    const char *outdir;
    int outdir_fd;
    /* RLIMIT_FSIZE when the size of what is written is known (0: none). */
    uint64_t fsize;
    /* RLIMIT_NOFILE: 0 for the default (256, or more when more are open). */
    int nofile;
    /* Privilege separation (GK_SB_BROKER, set with it): see gk_broker. */
    const struct gk_broker *broker;
    /* Host files and directories read beneath (GK_SB_HOSTREAD: the sources
     * of gcopy-in), as the user named them. */
    const char *const *readpaths;
    int nreadpaths;
    /* --no-sandbox or GUESTKIT_NO_SANDBOX=1 (gk_cli_parse sets it). */
    int off;
    /* Why this tool does not enter the sandbox (yet): a -v line instead. */
    const char *skip;
    /* GK_SB_NET: the TCP ports a client may connect to again. */
    const int *tcp_ports;
    int ntcp_ports;
    /* The images given (for -v and the test hook). */
    const char *const *images;
    int nimages;
    /* Load libcrypto before entering (lib/ossl.h: nothing can be loaded
     * inside): set when a key is given or may be asked for, or when the
     * tool hashes or creates encrypted images. */
    int crypto;
} gk_sandbox;

/* Privilege separation.  With sb->broker set, gk_sandbox_enter forks: the
 * parent stays outside the sandbox as a small front end that never looks
 * at guest data; the child (the worker) goes on, enters the sandbox and
 * parses.  The front end answers the worker's requests (gk_broker_call)
 * one at a time until the worker ends, then calls done() and exits as the
 * worker did (same status, same signal).  SIGTERM, SIGHUP and SIGALRM sent
 * to the front end go to the worker; SIGINT and SIGQUIT from the terminal
 * reach both, the front end ignores them.  Messages are at most
 * GK_BROKER_MSG bytes (SOCK_SEQPACKET), each may carry one descriptor. */
#define GK_BROKER_MSG 8192
typedef struct gk_broker {
    /* One request of len bytes (fd_in: a descriptor that came with it, or
     * -1; the front end closes it after).  Writes the reply into rep (at
     * most GK_BROKER_MSG bytes) and may set *fd_out to a descriptor to
     * send with it (closed after sending).  Returns the reply's length, or
     * -1 to refuse the worker altogether (it is killed). */
    ssize_t (*serve)(void *ud, const char *req, size_t len, int fd_in, char *rep, int *fd_out);
    /* After the worker ended (status as from waitpid), in the front end. */
    void (*done)(void *ud, int status);
    void *ud;
} gk_broker;

/* In the worker: send a request (with fd_in unless it is -1), wait for
 * the reply (at most cap bytes into rep; *fd_out: a descriptor sent with
 * it, or -1).  Returns the reply's length, or -1 with gk_error() when there
 * is no front end or it went away. */
ssize_t gk_broker_call(const void *req, size_t len, int fd_in, void *rep, size_t cap, int *fd_out);

/* Metadata of something beneath the output directory that cannot be
 * opened (a symlink, device, FIFO), by name in its parent directory dirfd,
 * never following a link: with chown set, the owner uid:gid first; then
 * the mode (mode_kept if the owner was set, else mode_other; not for a
 * link); then the times ts.  Inside the sandbox the front end does it
 * (name one component, dirfd beneath the output directory); without it,
 * this process.  Returns 1 if the owner was set, else 0. */
int gk_sandbox_meta_at(int dirfd, const char *name, int chown, uid_t uid, gid_t gid,
                       mode_t mode_kept, mode_t mode_other, int is_link,
                       const struct timespec ts[2]);

/* mknodat(dirfd, name, mode, dev) beneath the output directory: inside
 * the sandbox the front end makes the node (the worker itself may make
 * none, so that it can never open a device node it made).  0, or -1 with
 * errno. */
int gk_sandbox_mknodat(int dirfd, const char *name, mode_t mode, dev_t dev);

/* The one-byte kind of a worker's final answer to its front end
 * (gk_sandbox_answer); a tool's own requests start below 0xe0 as well. */
#define GK_SB_DONE 0xff

/* Privilege separation that the caller drives (gfsh, gfedit): fork; the
 * child, the worker, enters the sandbox of sb (give GK_SB_BROKER in needs)
 * and returns 0; the parent stays outside as the front end and returns the
 * worker's pid (it may fork another worker after gk_sandbox_end_worker).
 * A worker has no file system rights of its own: it opens, creates and
 * links on the host through the front end (gk_host_*), which does so
 * only beneath what it granted for the command at hand. */
pid_t gk_sandbox_fork(const gk_sandbox *sb);
/* Front end: send one message (with fd unless -1) to the worker, serve
 * its requests (the sandbox's own, and b's) until its GK_SB_DONE answer,
 * which is copied into rep (at most cap bytes; *fd_out a descriptor sent
 * with it, or -1).  The answer's length, or -1 if the worker is gone or
 * broke the protocol (it is killed then). */
ssize_t gk_sandbox_ask_worker(const void *msg, size_t len, int fd, void *rep, size_t cap,
                              int *fd_out, const gk_broker *b);
/* Front end: a message needing no answer.  0 or -1. */
int gk_sandbox_tell_worker(const void *msg, size_t len, int fd);
/* Front end: what the worker may create beneath (a directory the front end
 * opened; -1: nothing) and read beneath (host paths the user named; n 0:
 * nothing), for the command at hand. */
void gk_sandbox_grant_outdir(int dirfd);
void gk_sandbox_grant_read(const char *const *paths, int n);
/* Front end: close the socket, wait for the worker (it ends when it reads
 * the end), remove its scratch directory.  Its wait status. */
int gk_sandbox_end_worker(void);
/* Exit as a child with wait status st did (same code, same signal). */
void gk_sandbox_exit_as(int st) __attribute__((noreturn));
/* Worker: the next message of the front end (0 at its end), and the
 * final answer to it (rep[0] GK_SB_DONE). */
ssize_t gk_sandbox_next_request(void *buf, size_t cap, int *fd);
int gk_sandbox_answer(const void *rep, size_t len, int fd);
/* 1 in a worker of gk_sandbox_fork (host operations go to the front end). */
int gk_sandbox_proxied(void);

/* Host file system operations of the copy engines: the system calls
 * themselves, or in a worker of gk_sandbox_fork the front end's (new files
 * with O_CREAT|O_EXCL and directories with O_DIRECTORY only, one name
 * component, beneath the granted directory; gk_host_open_read beneath the
 * granted trees).  As the system calls: -1 with errno. */
int gk_host_openat(int dirfd, const char *name, int flags, mode_t mode);
int gk_host_mkdirat(int dirfd, const char *name, mode_t mode);
int gk_host_symlinkat(const char *target, int dirfd, const char *name);
int gk_host_unlinkat(int dirfd, const char *name, int flags);
int gk_host_linkat(int olddirfd, const char *oldname, int newdirfd, const char *newname);
int gk_host_open_read(const char *path, int flags);

/* Enter the sandbox described by sb (once per process; later calls do
 * nothing).  Prints what was restricted with -v.  A kernel without
 * Landlock gets one warning and runs with the rest (seccomp, no new
 * privileges, limits); a kernel without seccomp is refused (exit 1, one
 * line naming --no-sandbox); any other failure to set it up exits 1 too:
 * a tool never goes on believing it is sandboxed when it is not. */
void gk_sandbox_enter(const gk_sandbox *sb);

/* 1 once this process is inside the sandbox. */
int gk_sandbox_active(void);

/* The warning of --no-sandbox / GUESTKIT_NO_SANDBOX=1, printed once. */
void gk_sandbox_warn_off(void);

/* Whether GUESTKIT_NO_SANDBOX asks for no sandbox. */
int gk_sandbox_env_off(void);

#ifdef GK_SANDBOX_SELFTEST
/* Test binaries only (build/selftest-bin, tools/sandbox-selftest.c): with
 * GK_SANDBOX_SELFTEST=all (or one attack's name) in the environment, try
 * what a compromised parser would, report each outcome on stderr and exit;
 * called by gk_sandbox_enter once the sandbox is up. */
void gk_sandbox_selftest(const gk_sandbox *sb);
#endif

#endif
