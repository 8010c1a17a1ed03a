/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Putting files into a guest (tools/common-extract.c), shared by gcopy-in,
 * gtar-in and gfsh's copy-in, tar-in and upload; and guest trees as tar
 * archives (tools/common-tarout.c) for gtar-out and gfsh tar-out.
 *
 * Extraction follows GNU tar's rules as guestfish's tar-in applies them: a
 * file replaces what was at its name, a directory merges into an existing
 * one and gets the archive's mode, owner and time (set when the walk is
 * done), hard links point at earlier entries.  Entry names are untrusted
 * (an archive is hostile input): a leading "/" is dropped, names with ".."
 * are refused, and nothing is ever written through a symbolic link: every
 * component of a name is looked up under the target directory without
 * following links, so an archive cannot reach outside it (not even with a
 * link it made itself one entry earlier). */
#ifndef GK_TOOLS_EXTRACT_H
#define GK_TOOLS_EXTRACT_H

#include <stdio.h>
#include <sys/types.h>
#include "fs.h"

typedef struct gk_extract gk_extract;

typedef struct gk_extract_opts {
    int xattrs;            /* set the entries' extended attributes             */
    int numeric;           /* (informational: owners are always numeric)       */
    int keep_owner;        /* 1: the entries' uid/gid; 0: root                  */
    /* Messages (warning or error text without the program name); NULL:
     * "PROG: text" on stderr. */
    void (*report)(void *ud, int warning, const char *msg);
    int (*interrupted)(void *ud);   /* polled: non-zero stops */
    void *ud;
} gk_extract_opts;

/* One entry to create (a file, directory, link, device...). */
typedef struct gk_xentry {
    const char *path;      /* as the source names it, relative to the target  */
    uint32_t mode;         /* S_IFMT and permission bits                      */
    uint32_t uid, gid;
    uint64_t size;         /* regular files: the bytes the reader will give   */
    uint64_t rdev;         /* makedev() for device nodes                      */
    struct timespec atime, mtime;
    const char *symlink;   /* target of a symbolic link                       */
    const char *hardlink;  /* a hard link to this earlier entry's path        */
    size_t nxattrs;
    const char *const *xnames;
    const void *const *xvals;
    const size_t *xlens;
} gk_xentry;

/* The data of a regular file, block by block: 1 and a block (its offset
 * in the file: gaps are holes), 0 at the end, -1 on error with gk_error(). */
typedef int (*gk_xdata)(void *ud, const void **buf, size_t *len, uint64_t *off);

/* Extract into the directory at target (guest path tpath, for messages).
 * The filesystem must be writable. */
gk_extract *gk_extract_new(gk_vfs *v, const gk_node *target, const char *tpath,
                           const gk_extract_opts *o);
/* Create one entry.  0 done, 1 skipped (reported: an unsafe name, a
 * socket...), -1 failed (reported; what the entry had begun is removed:
 * nothing is left half-written), -2 failed in a way that stops everything
 * (ENOSPC, EROFS, EIO, interrupted). */
int gk_extract_entry(gk_extract *x, const gk_xentry *e, gk_xdata data, void *dud);
/* Apply the deferred directory attributes.  0, or -1 if something failed
 * (every failure was reported). */
int gk_extract_finish(gk_extract *x);
/* Entries and bytes done so far. */
void gk_extract_counts(const gk_extract *x, uint64_t *entries, uint64_t *bytes);
void gk_extract_free(gk_extract *x);

/* Copy host paths (files, or directories recursively) into the target,
 * each under its own last name, as `tar -C DIR -cf - NAME` then extraction
 * would: symlinks are copied as links, hard links kept, sockets skipped,
 * xattrs with o->xattrs.  0, or -1 (reported). */
int gk_extract_host(gk_extract *x, const char *hostpath);
/* Extract a tar archive (any tar format libarchive reads; compression
 * detected) read from fd.  name is the archive's name for messages. */
int gk_extract_tar(gk_extract *x, int fd, const char *name);

/* ------------------------------------------------------------------ */
/* Guest trees as tar archives (tools/common-tarout.c)                 */

typedef struct gk_tarout_opts {
    /* Where the archive goes: 0, or -1 (an error, already reported), or 1
     * (stop quietly: a closed pipe). */
    int (*write)(void *ud, const void *buf, size_t len);
    const char *compress;  /* NULL/"none", "gzip", "bzip2", "xz", "zstd", "lzop", "compress" */
    int numeric;           /* no owner names (otherwise "root" for id 0)      */
    int xattrs;            /* store extended attributes (and SELinux labels)  */
    const char *const *excludes;   /* fnmatch patterns, NULL-terminated       */
    void (*report)(void *ud, int warning, const char *msg);
    int (*interrupted)(void *ud);
    void *ud;
} gk_tarout_opts;

/* Write the directory at top (guest path tpath) as a GNU tar archive (pax
 * with xattrs) through o->write, as `tar -C tpath -cf - .` names its
 * members ("./", "./etc/"...): sorted by name, hard links stored once,
 * sockets left out.  0, 1 (stopped by the writer), or -1 (reported). */
int gk_tarout(gk_vfs *v, const gk_node *top, const char *tpath, const gk_tarout_opts *o);
/* Is name a compression gk_tarout knows? */
int gk_tarout_compress_ok(const char *name);

#endif
