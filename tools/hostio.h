/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing guest data onto the host (tools/common-host.c), shared by the
 * tools and gfsh: one safe way to open a host output file, one copy engine.
 *
 * The guest decides every name, link target, mode and owner we see; the
 * host side trusts none of them.  Output files never follow a symlink in
 * their last component; copies create everything relative to directory
 * descriptors we opened ourselves, never following a symlink already
 * present in the destination, and never make a set-id file for an owner
 * other than the one the guest names. */
#ifndef GK_TOOLS_HOSTIO_H
#define GK_TOOLS_HOSTIO_H

#include <stdio.h>
#include <sys/types.h>
#include "fs.h"

/* ------------------------------------------------------------------ */
/* A host output file the user named (download, tar-out, find0, ...).  */

typedef struct gk_hostout {
    int fd;                /* -1 when closed                                 */
    FILE *fp;              /* set by gk_hostout_fp (then it owns fd)          */
    char *path;
    int regular;           /* a regular file: removed again on failure       */
    dev_t dev;
    ino_t ino;
} gk_hostout;

/* Open path for writing: created (0666 & ~umask) if missing, truncated if a
 * regular file; a FIFO or device (/dev/null) is written as it is.  A
 * symlink as the last component is refused, never followed (a planted
 * link in /tmp would otherwise redirect a root gfsh onto any file).
 * 0, or -1 with gk_error() ("PATH: reason"). */
int gk_hostout_open(gk_hostout *h, const char *path);
/* A stdio stream over the file (closed by gk_hostout_close). */
FILE *gk_hostout_fp(gk_hostout *h);
/* Close; with failed set, a regular file we wrote is removed (only if the
 * name still refers to it).  0, or -1 with gk_error() if closing (flushing)
 * failed. */
int gk_hostout_close(gk_hostout *h, int failed);

/* ------------------------------------------------------------------ */
/* Copying guest trees into a host directory (gcopy-out, gfsh copy-out). */

typedef struct gk_copyout gk_copyout;

typedef struct gk_copyout_opts {
    const char *hostdir;   /* the host directory as the user named it        */
    /* --xattrs: POSIX ACLs too, and security.* / trusted.* when owners are
     * kept (run as root).  user.* xattrs are always copied. */
    int xattrs;
    int progress;          /* a progress line on stderr (a terminal)         */
    /* Messages: warning or error text without the program name.  NULL:
     * "PROG: text" on stderr. */
    void (*report)(void *ud, int warning, const char *msg);
    /* Polled between files: non-zero stops the copy (Ctrl-C in gfsh). */
    int (*interrupted)(void *ud);
    void *ud;
} gk_copyout_opts;

/* A copy into the host directory dirfd (duplicated; the caller keeps its
 * own).  Owners, set-id bits and device nodes are kept only when running
 * as root. */
gk_copyout *gk_copyout_new(gk_vfs *v, int dirfd, const gk_copyout_opts *o);
/* Copy the tree at n (guest path gpath, for messages) into the host
 * directory as name; with name NULL, the contents of directory n go
 * straight into it.  Every file that could not be copied is reported;
 * 0 if nothing failed, else -1. */
int gk_copyout_tree(gk_copyout *c, const gk_node *n, const char *gpath, const char *name);
/* Files and bytes copied so far. */
void gk_copyout_counts(const gk_copyout *c, uint64_t *files, uint64_t *bytes);
void gk_copyout_free(gk_copyout *c);

#endif
