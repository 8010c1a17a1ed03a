/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gcat: print files of a disk image to stdout, like virt-cat. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "each.h"

#define BUFSZ (1 << 20)

static void usage(FILE *f)
{
    fprintf(f,
        "gcat: print files from a disk image (like virt-cat)\n"
        "Usage:\n"
        "  gcat [--options] -a IMAGE [-a IMAGE...] FILE [FILE...]\n"
        "  gcat [--options] IMAGE FILE [FILE...]\n"
        "Options:\n"
        "  -a, --add IMAGE      add a disk image (repeat for every disk of the VM)\n"
        "  --format[=raw|..]    force the format of the following -a images\n"
        "  -m, --mount DEV[:MP[:OPTS[:TYPE]]]\n"
        "                       mount DEV on MP (default /) instead of inspecting\n"
        "  -i, --inspector      inspect the image and mount it like the guest (default)\n"
        "  -U, --force-share    do not check whether qemu is using the image\n"
        "  --key ID:key:PASS | ID:file:FILE\n"
        "                       key of a LUKS volume (ID: device or LUKS UUID)\n"
        "  --keys-from-stdin    read keys from stdin, --echo-keys: show typed keys\n"
        "  -v, --verbose        debug messages\n"
        "  -x                   trace the calls of the guest session\n"
        "  -V, --version        print the version\n"
        "  --help               this help\n"
        "  --each               each image a guest of its own: every line of output\n"
        "                       prefixed with the image and a tab\n"
        "  --from FILE          with --each: images listed in FILE (- for stdin)\n"
        "  --jobs N             with --each: N images at a time (default: the CPUs)\n"
        "  --timeout SECS       with --each: CPU seconds per image (default 300)\n"
        "  --memory MIB         with --each: memory per image (default 2048)\n"
        "  --json               with --each: one JSON object per image instead\n"
        "Files are concatenated to stdout, byte for byte.  Paths are resolved in\n"
        "the guest: symlinks are followed inside the guest, never on the host.\n");
}

static int write_all(const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, buf, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* 0, -1 for a guest error (message set), -2 if stdout failed. */
static int cat_one(gk_vfs *v, const char *path, char *buf)
{
    gk_node n;
    gk_stat st;
    if (gk_vfs_resolve(v, path, 1, &n) < 0)
        return -1;
    if (gk_node_stat(&n, &st) < 0) {
        gk_error_prefix("%s", path);
        return -1;
    }
    if (S_ISDIR(st.mode)) {
        gk_error("%s: %s", path, strerror(EISDIR));
        return -1;
    }
    if (!S_ISREG(st.mode)) {
        /* a device or FIFO of the guest has no data in the image */
        gk_error("%s: not a regular file", path);
        return -1;
    }
    uint64_t off = 0;
    for (;;) {
        ssize_t r = gk_node_read(&n, buf, BUFSZ, off);
        if (r < 0) {
            gk_error_prefix("%s", path);
            return -1;
        }
        if (r == 0)
            break;
        if (write_all(buf, (size_t)r) < 0)
            return -2;
        off += (uint64_t)r;
    }
    return 0;
}

static int handler(int opt, const char *arg, void *ud)
{
    return gk_each_opt(ud, opt, arg);
}

int main(int argc, char **argv)
{
    gk_cli c;
    static const struct option longopts[] = {
        GK_EACH_LONGOPTS,
        {"json", no_argument, 0, GK_EACH_OPT_JSON},
        {0, 0, 0, 0},
    };
    gk_each e = {0};
    gk_cli_parse(&c, "gcat", argc, argv, NULL, longopts, handler, &e, usage);
    c.sb.needs |= GK_SB_NOTZ; /* prints no local time */
    gk_each_check(&e);
    if (e.on) {
        if (c.nargs < 1)
            gk_die("missing file name (with --each every argument is a guest file)");
        gk_each_run(&c, &e, gk_each_report_text, &e);
    }
    if (gk_cli_positional_image(&c) < 0 || c.nargs < 1) {
        fprintf(stderr, "gcat: missing %s\nTry 'gcat --help' for more information.\n",
                c.ndrives ? "file name" : "disk image and file name");
        gk_cli_clear(&c);
        return 1;
    }
    /* as virt-cat (libguestfs' download): guest paths are absolute.  Checked
     * before anything is opened, but after the image, so that swapped
     * arguments are reported as the image that is not one. */
    for (int i = 0; i < c.nargs; i++)
        if (c.args[i][0] != '/' && !gk_cli_windows_like(c.args[i])) {
            gk_cli_check_image(&c, gk_cli_launch(&c));
            gk_die("%s: path must start with a / character (guest paths are absolute)", c.args[i]);
        }
    gk_guest *g = gk_cli_mount(&c);
    char *buf = gk_malloc(BUFSZ);
    int status = 0;
    for (int i = 0; i < c.nargs; i++) {
        /* Windows guests (found by inspection): drive letters, backslashes
         * and names matched ignoring case, as virt-cat's windows_path */
        char *wp = NULL;
        if (gk_guest_is_windows(g) && !(wp = gk_guest_windows_path(g, c.args[i]))) {
            gk_say("%s: %s", c.args[i], gk_errmsg());
            status = 1;
            continue;
        }
        if (!wp && c.args[i][0] != '/') {
            gk_say("%s: path must start with a / character (guest paths are absolute)", c.args[i]);
            status = 1;
            continue;
        }
        int r = cat_one(g->vfs, wp ? wp : c.args[i], buf);
        free(wp);
        if (r == -2) {
            if (errno != EPIPE)
                fprintf(stderr, "gcat: write error: %s\n", strerror(errno));
            status = 1;
            break;
        }
        if (r < 0) {
            gk_say("%s", gk_errmsg());
            status = 1;
        }
    }
    free(buf);
    gk_guest_free(g);
    gk_cli_clear(&c);
    return status;
}
