/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gcopy-in: copy local files and directories into a disk image, like
 * virt-copy-in (guestfish --rw -i copy-in).
 *
 * The image is opened for writing only after every LOCAL path was found;
 * the copy is the extraction engine of tools/common-extract.c (modes,
 * owners, times, symlinks, hard links, holes; xattrs with --xattrs), and
 * every change it makes is atomic: on ext3/4 a crash leaves each file
 * absent or complete (the one being written: a prefix of it). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "extract.h"

enum { OPT_XATTRS = 0x2000 };

static int xattrs;

static void usage(FILE *f)
{
    fprintf(f,
        "gcopy-in: copy files and directories into a disk image (like virt-copy-in)\n"
        "Usage:\n"
        "  gcopy-in [--options] -a IMAGE [-a IMAGE...] LOCAL [LOCAL...] /GUESTDIR\n"
        "Options:\n"
        "  -a, --add IMAGE      add a disk image (repeat for every disk of the VM)\n"
        "  --format[=raw|..]    force the format of the following -a images\n"
        "  -m, --mount DEV[:MP[:OPTS[:TYPE]]]\n"
        "                       mount DEV on MP (default /) instead of inspecting\n"
        "  -i, --inspector      inspect the guest and mount it (the default)\n"
        "  --xattrs             also copy extended attributes (user.*, security.*\n"
        "                       such as SELinux labels, trusted.*)\n"
        "  -U, -v, -V, --help   as in the other tools\n"
        "Each LOCAL (a file, or a directory copied recursively) lands in /GUESTDIR\n"
        "under its own name, with its mode, owner, times, symlinks and hard links;\n"
        "existing files of the same name are replaced, directories merged.\n");
}

static int handler(int opt, const char *arg, void *ud)
{
    (void)arg; (void)ud;
    if (opt != OPT_XATTRS)
        return -1;
    xattrs = 1;
    return 0;
}

int main(int argc, char **argv)
{
    gk_cli c;
    static const struct option longopts[] = {
        {"xattrs", no_argument, 0, OPT_XATTRS},
        {0, 0, 0, 0},
    };
    argv = gk_cli_permute(&argc, argv, NULL, longopts);
    gk_cli_parse(&c, "gcopy-in", argc, argv, NULL, longopts, handler, NULL, usage);
    if (c.ndrives == 0 && c.nargs >= 3)
        gk_cli_positional_image(&c);
    if (c.ndrives == 0 || c.nargs < 2) {
        fprintf(stderr, "gcopy-in: usage: gcopy-in -a IMAGE LOCAL... /GUESTDIR\n"
                        "Try 'gcopy-in --help' for more information.\n");
        gk_cli_clear(&c);
        return 1;
    }
    const char *gdir = c.args[c.nargs - 1];
    if (gdir[0] != '/')
        gk_die("%s: the guest directory must be an absolute path", gdir);
    /* every source first: a typo must not open the image for writing */
    for (int i = 0; i < c.nargs - 1; i++) {
        struct stat st;
        if (lstat(c.args[i], &st) < 0)
            gk_die("source \u2018%s\u2019 does not exist (or cannot be read)", c.args[i]);
    }
    c.rw = 1;
    /* the sandbox: read the sources named, nothing else on the host */
    c.sb.needs |= GK_SB_HOSTREAD;
    c.sb.readpaths = (const char *const *)c.args;
    c.sb.nreadpaths = c.nargs - 1;
    gk_guest *g = gk_cli_mount(&c);
    gk_node target;
    gk_stat st;
    if (gk_vfs_resolve(g->vfs, gdir, 1, &target) < 0 || gk_node_stat(&target, &st) < 0 ||
        !S_ISDIR(st.mode)) {
        gk_guest_free(g);
        gk_die("target \u2018%s\u2019 is not a directory", gdir);
    }
    gk_extract_opts eo = {.xattrs = xattrs, .keep_owner = 1};
    gk_extract *x = gk_extract_new(g->vfs, &target, gdir, &eo);
    int rc = 0;
    for (int i = 0; i < c.nargs - 1 && rc == 0; i++)
        if (gk_extract_host(x, c.args[i]) < 0)
            rc = 1;
    if (gk_extract_finish(x) < 0)
        rc = 1;
    gk_extract_free(x);
    /* durable, or an error */
    if (gk_vfs_sync(g->vfs) < 0) {
        gk_say("%s", gk_errmsg());
        rc = 1;
    }
    gk_guest_free(g);
    gk_cli_clear(&c);
    return rc;
}
