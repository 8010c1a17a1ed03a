/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gcopy-out: copy files and directories out of a disk image, like
 * virt-copy-out.
 *
 * The copy itself is the shared engine of tools/common-host.c (gfsh's
 * copy-out uses it too): it never writes outside LOCALDIR, whatever names,
 * links and modes the guest holds, and walks trees of any depth. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "hostio.h"

enum { OPT_XATTRS = 0x2000 };

static struct {
    gk_vfs *vfs;
    gk_copyout *cp;
    const char *localdir;
    int xattrs;
    int errors;
} o;

static void usage(FILE *f)
{
    fprintf(f,
        "gcopy-out: copy files and directories out of a disk image (like virt-copy-out)\n"
        "Usage:\n"
        "  gcopy-out [--options] -a IMAGE [-a IMAGE...] GUESTPATH [GUESTPATH...] LOCALDIR\n"
        "  gcopy-out [--options] IMAGE GUESTPATH [GUESTPATH...] LOCALDIR\n"
        "Options:\n"
        "  -a, --add IMAGE      add a disk image (repeat for every disk of the VM)\n"
        "  --format[=raw|..]    force the format of the following -a images\n"
        "  -m, --mount DEV[:MP[:OPTS[:TYPE]]]\n"
        "                       mount DEV on MP (default /) instead of inspecting\n"
        "  --xattrs             also copy POSIX ACLs, and (as root) security.* and\n"
        "                       trusted.* extended attributes\n"
        "  -U, -v, -V, --help   as in the other tools\n"
        "Directories are copied recursively with modes, times, symlinks, hard\n"
        "links, holes and user.* extended attributes; owners, set-id bits and\n"
        "device nodes only when run as root.\n"
        "Nothing is ever written outside LOCALDIR, whatever the guest holds.\n");
}

static int handler(int opt, const char *arg, void *ud)
{
    (void)arg; (void)ud;
    if (opt != OPT_XATTRS)
        return -1;
    o.xattrs = 1;
    return 0;
}

static int safe_base(const char *name)
{
    return *name && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* Copy one GUESTPATH into LOCALDIR. */
static int copy_out(const char *gpath)
{
    gk_node n;
    char *real = NULL;
    if (gk_vfs_resolve(o.vfs, gpath, 1, &n) < 0 || !(real = gk_vfs_realpath(o.vfs, gpath))) {
        gk_say("%s", gk_errmsg());
        o.errors++;
        return -1;
    }
    /* the name in LOCALDIR: the last component as given, else as resolved */
    char *given = gk_strdup(gpath);
    size_t l = strlen(given);
    while (l > 1 && given[l - 1] == '/')
        given[--l] = 0;
    const char *slash = strrchr(given, '/');
    const char *base = slash ? slash + 1 : given;
    if (!safe_base(base)) {
        slash = strrchr(real, '/');
        base = slash ? slash + 1 : real;
    }
    /* the whole guest: its contents go straight into LOCALDIR */
    int whole = strcmp(real, "/") == 0 || !*base;
    if (gk_copyout_tree(o.cp, &n, gpath, whole ? NULL : base) < 0)
        o.errors++;
    free(given);
    free(real);
    return 0;
}

int main(int argc, char **argv)
{
    gk_cli c;
    static const struct option longopts[] = {
        {"xattrs", no_argument, 0, OPT_XATTRS},
        {0, 0, 0, 0},
    };
    gk_cli_parse(&c, "gcopy-out", argc, argv, NULL, longopts, handler, NULL, usage);
    c.sb.needs |= GK_SB_NOTZ; /* prints no local time */
    if (c.ndrives == 0 && c.nargs >= 3)
        gk_cli_positional_image(&c);
    if (c.ndrives == 0 || c.nargs < 2) {
        fprintf(stderr, "gcopy-out: usage: gcopy-out -a IMAGE GUESTPATH... LOCALDIR\n"
                        "Try 'gcopy-out --help' for more information.\n");
        gk_cli_clear(&c);
        return 1;
    }
    o.localdir = c.args[c.nargs - 1];
    int rootfd = open(o.localdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        gk_die("%s: %s (LOCALDIR must be an existing directory)", o.localdir, strerror(errno));
    umask(0);      /* modes come from the guest, set explicitly anyway */
    /* the sandbox: make things beneath LOCALDIR, nowhere else */
    c.sb.needs |= GK_SB_HOSTWRITE;
    c.sb.outdir = o.localdir;
    c.sb.outdir_fd = rootfd;
    gk_guest *g = gk_cli_mount(&c);
    o.vfs = g->vfs;
    gk_copyout_opts co = {
        .hostdir = o.localdir,
        .xattrs = o.xattrs,
        .progress = isatty(2),
    };
    o.cp = gk_copyout_new(o.vfs, rootfd, &co);
    for (int i = 0; i < c.nargs - 1; i++)
        copy_out(c.args[i]);
    gk_copyout_free(o.cp);
    close(rootfd);
    gk_guest_free(g);
    gk_cli_clear(&c);
    return o.errors ? 1 : 0;
}
