/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gtar-out: pack a guest directory into a tar archive, like virt-tar-out
 * (guestfish --ro -i tar-out).  Read-only; the archive is written through
 * libarchive (tools/common-tarout.c) to a host file opened safely (never
 * through a symlink, removed again on failure) or to stdout. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "extract.h"
#include "hostio.h"

enum { OPT_XZ = 0x2000, OPT_ZSTD, OPT_NUMERIC, OPT_XATTRS, OPT_EXCLUDE, OPT_COMPRESS };

static struct {
    const char *compress;
    int numeric, xattrs;
    char **excludes;
    size_t nexcludes;
} o;

static void usage(FILE *f)
{
    fprintf(f,
        "gtar-out: pack a directory of a disk image into a tarball (like virt-tar-out)\n"
        "Usage:\n"
        "  gtar-out [--options] -a IMAGE [-a IMAGE...] /DIR FILE.tar\n"
        "  gtar-out [--options] -a IMAGE /DIR - | gzip --best > files.tar.gz\n"
        "Options:\n"
        "  -a, --add IMAGE      add a disk image (repeat for every disk of the VM)\n"
        "  --format[=raw|..]    force the format of the following -a images\n"
        "  -m, --mount DEV[:MP[:OPTS[:TYPE]]]\n"
        "                       mount DEV on MP (default /) instead of inspecting\n"
        "  -z, --gzip           compress with gzip\n"
        "  -j, --bzip2          compress with bzip2\n"
        "  -J, --xz             compress with xz\n"
        "  --zstd               compress with zstd\n"
        "  --compress=TYPE      gzip, bzip2, xz, zstd, lzop, compress or none\n"
        "  --numeric-owner      no owner names (otherwise root for uid/gid 0)\n"
        "  --xattrs             store extended attributes (pax headers)\n"
        "  --exclude=PATTERN    leave out names matching the wildcard (repeatable)\n"
        "  -U, -v, -V, --help   as in the other tools\n"
        "The archive holds ./ and everything below /DIR, as tar -C /DIR -cf - .\n"
        "would make it (GNU format, hard links stored once, sockets left out).\n");
}

static int handler(int opt, const char *arg, void *ud)
{
    (void)ud;
    switch (opt) {
    case 'z': o.compress = "gzip"; return 0;
    case 'j': o.compress = "bzip2"; return 0;
    case 'J': case OPT_XZ: o.compress = "xz"; return 0;
    case OPT_ZSTD: o.compress = "zstd"; return 0;
    case OPT_COMPRESS: o.compress = arg; return 0;
    case OPT_NUMERIC: o.numeric = 1; return 0;
    case OPT_XATTRS: o.xattrs = 1; return 0;
    case OPT_EXCLUDE:
        o.excludes = gk_realloc(o.excludes, (o.nexcludes + 2) * sizeof *o.excludes);
        o.excludes[o.nexcludes++] = gk_strdup(arg);
        o.excludes[o.nexcludes] = NULL;
        return 0;
    }
    return -1;
}

static int fd_write(void *ud, const void *buf, size_t len)
{
    int fd = *(int *)ud;
    const char *p = buf;
    while (len) {
        ssize_t k = write(fd, p, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            if (errno == EPIPE)
                return 1;
            gk_say("write: %s", strerror(errno));
            return -1;
        }
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

/* The archive named on the command line, opened before the sandbox. */
static gk_hostout out = {.fd = -1};
static int archive_done;

/* A failed run leaves no half-written archive: removed by the front end
 * outside the sandbox, or at exit when there is no sandbox. */
static void remove_on_failure(void *ud, int status)
{
    (void)ud;
    if (status != 0 && out.fd >= 0)
        gk_hostout_close(&out, 1);
}

static void remove_at_exit(void)
{
    if (!archive_done && out.fd >= 0 && !gk_sandbox_active())
        gk_hostout_close(&out, 1);
}

int main(int argc, char **argv)
{
    gk_cli c;
    static const struct option longopts[] = {
        {"gzip", no_argument, 0, 'z'},
        {"bzip2", no_argument, 0, 'j'},
        {"xz", no_argument, 0, OPT_XZ},
        {"zstd", no_argument, 0, OPT_ZSTD},
        {"compress", required_argument, 0, OPT_COMPRESS},
        {"numeric-owner", no_argument, 0, OPT_NUMERIC},
        {"xattrs", no_argument, 0, OPT_XATTRS},
        {"exclude", required_argument, 0, OPT_EXCLUDE},
        {0, 0, 0, 0},
    };
    argv = gk_cli_permute(&argc, argv, "zjJ", longopts);
    gk_cli_parse(&c, "gtar-out", argc, argv, "zjJ", longopts, handler, NULL, usage);
    if (c.ndrives == 0 && c.nargs >= 3)
        gk_cli_positional_image(&c);
    /* guestfish-style optional arguments after the file: compress:gzip ... */
    while (c.nargs > 2 && strchr(c.args[c.nargs - 1], ':')) {
        const char *w = c.args[--c.nargs];
        if (strncmp(w, "compress:", 9) == 0)
            o.compress = w + 9;
        else if (strcmp(w, "numericowner:true") == 0)
            o.numeric = 1;
        else if (strcmp(w, "xattrs:true") == 0)
            o.xattrs = 1;
        else
            gk_die("%s: unknown optional argument", w);
    }
    if (c.ndrives == 0 || c.nargs != 2) {
        fprintf(stderr, "gtar-out: usage: gtar-out -a IMAGE /DIR FILE.tar\n"
                        "Try 'gtar-out --help' for more information.\n");
        gk_cli_clear(&c);
        return 1;
    }
    const char *dir = c.args[0], *file = c.args[1];
    if (dir[0] != '/')
        gk_die("%s: the guest directory must be an absolute path", dir);
    if (!gk_tarout_compress_ok(o.compress))
        gk_die("--compress=%s: not supported (gzip, bzip2, xz, zstd, lzop, compress)", o.compress);
    c.rw = 0;
    /* the archive is opened before the sandbox is entered (and removed
     * again if the guest directory turns out to be missing) */
    int fd = 1;
    if (strcmp(file, "-") != 0) {
        if (gk_hostout_open(&out, file) < 0)
            gk_die_err();
        fd = out.fd;
        atexit(remove_at_exit);
    }
    /* a failed archive is removed by the front end outside the sandbox
     * (the worker may create nothing and remove nothing) */
    gk_broker fe = {.done = remove_on_failure};
    if (fd != 1)
        c.sb.broker = &fe;
    gk_guest *g = gk_cli_mount(&c);
    gk_node top;
    gk_stat st;
    if (gk_vfs_resolve(g->vfs, dir, 1, &top) < 0 || gk_node_stat(&top, &st) < 0)
        gk_die_err();
    if (!S_ISDIR(st.mode))
        gk_die("%s: %s", dir, strerror(ENOTDIR));
    char *real = gk_vfs_realpath(g->vfs, dir);
    gk_tarout_opts to = {
        .write = fd_write,
        .compress = o.compress,
        .numeric = o.numeric,
        .xattrs = o.xattrs,
        .excludes = (const char *const *)o.excludes,
        .ud = &fd,
    };
    int r = gk_tarout(g->vfs, &top, real ? real : dir, &to);
    free(real);
    int rc = r < 0;
    if (!rc)
        archive_done = 1;
    if (fd != 1 && gk_hostout_close(&out, rc && !gk_sandbox_active()) < 0 && !rc) {
        gk_say("%s", gk_errmsg());
        rc = 1;
    }
    for (size_t i = 0; i < o.nexcludes; i++)
        free(o.excludes[i]);
    free(o.excludes);
    gk_guest_free(g);
    gk_cli_clear(&c);
    return rc;
}
