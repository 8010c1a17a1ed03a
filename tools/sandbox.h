/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sandbox (tools/common-sandbox.c): what every tool and gfsh enter
 * once their images and output locations are open, before they parse
 * anything an image decides.
 *
 * Inside it a process has no file system access at all except through the
 * descriptors it already holds (Landlock), and, for a tool that writes
 * copies onto the host, create/write access beneath its one output
 * directory; it runs with an allow-list of system calls (seccomp through
 * libseccomp: refused calls fail with EPERM, execve and ptrace kill the
 * process), no new privileges, RLIMIT_NOFILE (and RLIMIT_FSIZE where the
 * size of the output is known) and may not raise a limit again.
 *
 * A tool declares what it needs in one gk_sandbox record (gk_cli.sb, given
 * to gk_cli_launch, which enters the sandbox between opening the images
 * and scanning them).  HACKING.md, "The sandbox", says how to add a system
 * call to a profile and where each tool draws its line.
 */
#ifndef GK_TOOLS_SANDBOX_H
#define GK_TOOLS_SANDBOX_H

#include <stdint.h>

/* System-call groups beyond the base every tool gets (read the open
 * images, write to open descriptors, memory, threads, clocks).  Each is one
 * row of the profile table in tools/common-sandbox.c. */
enum {
    GK_SB_IMGWRITE = 1u << 0,   /* --rw and output images: sync, grow, discard  */
    GK_SB_HOSTWRITE = 1u << 1,  /* make files beneath outdir (needs outdir)    */
    GK_SB_BROKER = 1u << 2,     /* messages to the front end (privilege split) */
    GK_SB_NET = 1u << 3,        /* sockets: remote images (issue 17; no row yet) */
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
    /* The socket of GK_SB_BROKER (sendmsg/recvmsg allowed on it only). */
    int broker_fd;
    /* --no-sandbox or GUESTKIT_NO_SANDBOX=1 (gk_cli_parse sets it). */
    int off;
    /* The images given (for -v and the test hook). */
    const char *const *images;
    int nimages;
} gk_sandbox;

/* Enter the sandbox described by sb (once per process; later calls do
 * nothing).  Prints what was restricted with -v.  A kernel without
 * Landlock or seccomp is refused (exit 1, one line naming --no-sandbox);
 * any other failure to set it up exits 1 too: a tool never goes on
 * believing it is sandboxed when it is not. */
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
