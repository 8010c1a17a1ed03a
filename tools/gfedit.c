/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gfedit: edit a file in a disk image, like virt-edit (not "gedit": that is
 * GNOME's editor).
 *
 * The image is opened read-only to fetch the files; only if an edit
 * changed one is it opened again, for writing, and the file replaced (see
 * tools/edit.h: a new file with the original's owner, mode and xattrs,
 * renamed over it, -b keeping the original).  A file that changed in the
 * guest meanwhile is not overwritten. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "edit.h"

static const char *backup, *expr;

static void usage(FILE *f)
{
    fprintf(f,
        "gfedit: edit a file in a disk image (like virt-edit)\n"
        "Usage:\n"
        "  gfedit [--options] -a IMAGE [-a IMAGE...] FILE [FILE...]\n"
        "  gfedit [--options] -a IMAGE FILE -e 'EXPR'\n"
        "  gfedit [--options] IMAGE FILE\n"
        "Options:\n"
        "  -a, --add IMAGE      add a disk image (repeat for every disk of the VM)\n"
        "  --format[=raw|qcow2] force the format of the following -a images\n"
        "  -m, --mount DEV[:MP[:OPTS[:TYPE]]]\n"
        "                       mount DEV on MP (default /) instead of inspecting\n"
        "  -b, --backup EXT     keep the original in the guest as FILE+EXT\n"
        "  -e, --edit, --expr EXPR\n"
        "                       apply the Perl expression EXPR to each line ($_ the\n"
        "                       line, $lineno its number) instead of running $EDITOR\n"
        "  -U, -v, -V, --help   as in the other tools\n"
        "The file is written back only if its contents changed; it keeps its\n"
        "owner, mode and extended attributes (SELinux label).\n");
}

static int handler(int opt, const char *arg, void *ud)
{
    (void)ud;
    if (opt == 'b')
        backup = arg;
    else if (opt == 'e')
        expr = arg;
    else
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    gk_cli c;
    static const struct option longopts[] = {
        {"backup", required_argument, 0, 'b'},
        {"edit", required_argument, 0, 'e'},
        {"expr", required_argument, 0, 'e'},
        {0, 0, 0, 0},
    };
    /* virt-edit takes -e and -b after the file names too */
    argv = gk_cli_permute(&argc, argv, "b:e:", longopts);
    gk_cli_parse(&c, "gfedit", argc, argv, "b:e:", longopts, handler, NULL, usage);
    if (c.ndrives == 0 && c.nargs >= 2)
        gk_cli_positional_image(&c);
    if (c.ndrives == 0 || c.nargs < 1) {
        fprintf(stderr, "gfedit: usage: gfedit -a IMAGE FILE [-e EXPR]\n"
                        "Try 'gfedit --help' for more information.\n");
        return 1;
    }
    for (int i = 0; i < c.nargs; i++)
        if (c.args[i][0] != '/' && !gk_cli_windows_like(c.args[i]))
            gk_die("%s: the file must be an absolute path (start with /)", c.args[i]);
    if (backup && (!*backup || strchr(backup, '/')))
        gk_die("-b %s: the extension must not be empty or hold a '/'", backup);
    /* read-only first */
    c.rw = 0;
    /* the editor and perl run on the host and the images are opened again
     * for writing: no sandbox until gfedit is split in two (issue 11) */
    c.sb.skip = "gfedit runs $EDITOR or perl on the host and reopens the images";
    gk_guest *g = gk_cli_mount(&c);
    int n = c.nargs, rc = 0, nchanged = 0;
    /* Windows guests (found by inspection): drive letters, backslashes and
     * names matched ignoring case, as virt-edit's windows_path */
    char **winpath = gk_calloc((size_t)n, sizeof *winpath);
    for (int i = 0; i < n; i++) {
        if (gk_guest_is_windows(g)) {
            if (!(winpath[i] = gk_guest_windows_path(g, c.args[i])))
                gk_die("%s: %s", c.args[i], gk_errmsg());
            c.args[i] = winpath[i];
        } else if (c.args[i][0] != '/') {
            gk_die("%s: the file must be an absolute path (start with /)", c.args[i]);
        }
    }
    gk_edit *e = gk_calloc((size_t)n, sizeof *e);
    int *changed = gk_calloc((size_t)n, sizeof *changed);
    for (int i = 0; i < n && rc == 0; i++)
        if (gk_edit_fetch(g->vfs, c.args[i], &e[i]) < 0 ||
            gk_edit_run(&e[i], NULL, expr, &changed[i]) < 0) {
            gk_say("%s", gk_errmsg());
            rc = 1;
        } else {
            nchanged += changed[i];
        }
    if (rc == 0 && nchanged) {
        /* what was mounted where, to mount it again read-write */
        int nm = gk_vfs_nmounts(g->vfs);
        char **dev = gk_calloc((size_t)nm, sizeof *dev), **mp = gk_calloc((size_t)nm, sizeof *mp);
        for (int i = 0; i < nm; i++) {
            gk_mount *m = gk_vfs_mount_at(g->vfs, i);
            dev[i] = gk_strdup(m->device);
            mp[i] = gk_strdup(m->mountpoint);
        }
        gk_guest_free(g);
        c.rw = 1;
        g = gk_cli_launch(&c);
        for (int i = 0; i < nm; i++)
            if (gk_guest_mount(g, dev[i], mp[i]) < 0)
                gk_die_err();
        for (int i = 0; i < nm; i++) {
            free(dev[i]);
            free(mp[i]);
        }
        free(dev);
        free(mp);
        for (int i = 0; i < n && rc == 0; i++) {
            if (!changed[i])
                continue;
            int ch = gk_edit_changed_in_guest(g->vfs, &e[i]);
            if (ch != 0) {
                if (ch > 0)
                    gk_say("%s: changed in the guest while it was edited: not written",
                           e[i].guestpath);
                else
                    gk_say("%s", gk_errmsg());
                rc = 1;
            } else if (gk_edit_store(g->vfs, &e[i], backup) < 0) {
                gk_say("%s", gk_errmsg());
                rc = 1;
            }
        }
        if (gk_vfs_sync(g->vfs) < 0) {
            gk_say("%s", gk_errmsg());
            rc = 1;
        }
    }
    for (int i = 0; i < n; i++)
        gk_edit_clear(&e[i]);
    free(e);
    free(changed);
    for (int i = 0; i < n; i++)
        free(winpath[i]);
    free(winpath);
    gk_guest_free(g);
    return rc;
}
