/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gtar-in: unpack a tar archive into a directory of a disk image, like
 * virt-tar-in (guestfish --rw -i tar-in).
 *
 * The archive is read with libarchive (any tar format, compression
 * detected) and is untrusted: a leading "/" is dropped, names with ".."
 * are refused, nothing is written through a symbolic link (not even one
 * the archive itself made), hard links must point at files extracted
 * inside the target, and a file that cannot fit is refused before it is
 * written.  Each file is atomic; a crash leaves it absent or complete (the
 * one being written: a prefix). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "extract.h"

enum { OPT_XATTRS = 0x2000, OPT_NOOWNER };

static int xattrs, noowner;

static void usage(FILE *f)
{
    fprintf(f,
        "gtar-in: unpack a tarball into a directory of a disk image (like virt-tar-in)\n"
        "Usage:\n"
        "  gtar-in [--options] -a IMAGE [-a IMAGE...] FILE.tar /DIR\n"
        "  zcat files.tar.gz | gtar-in [--options] -a IMAGE - /DIR\n"
        "Options:\n"
        "  -a, --add IMAGE      add a disk image (repeat for every disk of the VM)\n"
        "  --format[=raw|..]    force the format of the following -a images\n"
        "  -m, --mount DEV[:MP[:OPTS[:TYPE]]]\n"
        "                       mount DEV on MP (default /) instead of inspecting\n"
        "  --xattrs             set the extended attributes the archive stores\n"
        "                       (SELinux labels among them)\n"
        "  --no-same-owner      files belong to root instead of the archive's owners\n"
        "  -U, -v, -V, --help   as in the other tools\n"
        "The archive (any tar format; gzip, bzip2, xz, zstd... detected) is\n"
        "untrusted: nothing it holds is written outside /DIR.\n");
}

static int handler(int opt, const char *arg, void *ud)
{
    (void)arg; (void)ud;
    if (opt == OPT_XATTRS)
        xattrs = 1;
    else if (opt == OPT_NOOWNER)
        noowner = 1;
    else
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    gk_cli c;
    static const struct option longopts[] = {
        {"xattrs", no_argument, 0, OPT_XATTRS},
        {"no-same-owner", no_argument, 0, OPT_NOOWNER},
        {0, 0, 0, 0},
    };
    argv = gk_cli_permute(&argc, argv, NULL, longopts);
    gk_cli_parse(&c, "gtar-in", argc, argv, NULL, longopts, handler, NULL, usage);
    if (c.ndrives == 0 && c.nargs >= 3)
        gk_cli_positional_image(&c);
    while (c.nargs > 2 && strchr(c.args[c.nargs - 1], ':')) {
        const char *w = c.args[--c.nargs];
        if (strcmp(w, "xattrs:true") == 0 || strcmp(w, "selinux:true") == 0)
            xattrs = 1;
        else if (strncmp(w, "compress:", 9) != 0 && strncmp(w, "acls:", 5) != 0)
            gk_die("%s: unknown optional argument", w);
    }
    if (c.ndrives == 0 || c.nargs != 2) {
        fprintf(stderr, "gtar-in: usage: gtar-in -a IMAGE FILE.tar /DIR\n"
                        "Try 'gtar-in --help' for more information.\n");
        gk_cli_clear(&c);
        return 1;
    }
    const char *file = c.args[0], *dir = c.args[1];
    if (dir[0] != '/')
        gk_die("%s: the guest directory must be an absolute path", dir);
    /* the archive first: a missing file must not open the image for writing */
    int fd = strcmp(file, "-") == 0 ? 0 : open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        gk_die("%s: %s", file, strerror(errno));
    c.rw = 1;
    gk_guest *g = gk_cli_mount(&c);
    gk_node target;
    gk_stat st;
    if (gk_vfs_resolve(g->vfs, dir, 1, &target) < 0 || gk_node_stat(&target, &st) < 0 ||
        !S_ISDIR(st.mode)) {
        gk_guest_free(g);
        gk_die("target \u2018%s\u2019 is not a directory", dir);
    }
    gk_extract_opts eo = {.xattrs = xattrs, .keep_owner = !noowner};
    gk_extract *x = gk_extract_new(g->vfs, &target, dir, &eo);
    int rc = gk_extract_tar(x, fd, fd == 0 ? "stdin" : file) < 0;
    if (gk_extract_finish(x) < 0)
        rc = 1;
    gk_extract_free(x);
    if (fd > 0)
        close(fd);
    if (gk_vfs_sync(g->vfs) < 0) {
        gk_say("%s", gk_errmsg());
        rc = 1;
    }
    gk_guest_free(g);
    gk_cli_clear(&c);
    return rc;
}
