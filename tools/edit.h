/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Editing a guest file on the host (tools/common-edit.c), shared by gfedit
 * and gfsh's edit, vi and emacs: what virt-edit and guestfish do.
 *
 * The file (symlinks followed: the file they point to is edited) is copied
 * to a host temporary file, changed there by an editor or by a Perl
 * expression applied to each line, and written back only if its contents
 * changed: to a new file of a random name in the same guest directory,
 * which takes the original's mode, owner and extended attributes (SELinux
 * label included) and is then renamed over it, so the guest sees the old
 * or the new file, never a mixture. */
#ifndef GK_TOOLS_EDIT_H
#define GK_TOOLS_EDIT_H

#include "fs.h"

typedef struct gk_edit {
    char *guestpath;       /* the file as resolved (links followed)          */
    char *tmpfile;         /* the host copy                                   */
    uint64_t size;         /* of the original                                 */
    unsigned char sum[32]; /* its SHA-256                                     */
    /* In a sandboxed worker (gk_sandbox_proxied) the copy is a memfd, and
     * the front end runs the editor on a host copy of it (gk_edit_serve). */
    int fd, has_fd;
} gk_edit;

/* The request a worker sends its front end to have its copy edited: one
 * byte, the copy's descriptor with it.  The front end answers with
 * gk_edit_serve. */
#define GK_EDIT_REQ 0xe0

/* Copy the regular file at path to a host temporary file.  0, or -1 with
 * gk_error(). */
int gk_edit_fetch(gk_vfs *v, const char *path, gk_edit *e);
/* Change the copy: with perl_expr, through `perl` applying it to each line
 * ($_ the line, $lineno its number, die aborts); otherwise with editor (a
 * command line, the file name appended; NULL: $EDITOR, else vi).  Sets
 * *changed.  0, or -1 with gk_error() (the editor or perl failed). */
int gk_edit_run(gk_edit *e, const char *editor, const char *perl_expr, int *changed);
/* Has the guest file changed since gk_edit_fetch (contents)?  1 yes, 0 no,
 * -1 error. */
int gk_edit_changed_in_guest(gk_vfs *v, const gk_edit *e);
/* Write the copy back (see above); with backup_ext, the original is kept
 * as PATH+EXT.  0, or -1 with gk_error() (nothing of the new file is left
 * in the guest then). */
int gk_edit_store(gk_vfs *v, const gk_edit *e, const char *backup_ext);
/* Front end: edit the contents of fd_in (a worker's copy) with editor
 * or perl_expr as gk_edit_run does, on a temporary host file; the answer
 * for the worker goes into rep (an int32 0 or 1, then the error message),
 * and *fd_out is the edited contents.  Returns the answer's length. */
ssize_t gk_edit_serve(int fd_in, const char *editor, const char *perl_expr, char *rep, size_t cap,
                      int *fd_out);
/* Remove the host copy, free e's members. */
void gk_edit_clear(gk_edit *e);

#endif
