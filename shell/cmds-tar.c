/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tar-out, tar-in and copy-in: archives and host trees, through the code
 * gtar-out, gtar-in and gcopy-in use (tools/common-tarout.c,
 * tools/common-extract.c; libarchive underneath).  tar-out makes what
 * guestfish's does (GNU tar -C DIR -cf - .); tar-in and copy-in put
 * files into the guest as guestfish's do, with archive names confined to
 * the target directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmds-int.h"
#include "extract.h"

struct tout { gfsh *sh; const gfsh_cmd *cmd; FILE *fp; };

static int tout_write(void *ud, const void *buf, size_t len)
{
    struct tout *t = ud;
    return io_write(t->sh, t->cmd, t->fp, buf, len);
}

static void report(void *ud, int warning, const char *msg);

static void tout_report(void *ud, int warning, const char *msg)
{
    report((void *)((struct tout *)ud)->cmd, warning, msg);
}

static void report(void *ud, int warning, const char *msg)
{
    const gfsh_cmd *cmd = ud;
    if (warning)
        gfsh_err(cmd, "warning: %s", msg);
    else
        gfsh_err(cmd, "%s", msg);
}

static int interrupted(void *ud)
{
    (void)ud;
    return gfsh_interrupted != 0;
}

/* "PATTERN PATTERN ..." -> a NULL-terminated vector (free with free()). */
static char **split_words(const char *s)
{
    size_t n = 0;
    char **v = gk_calloc(1, sizeof *v);
    char *copy = gk_strdup(s), *save = NULL;
    for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        v = gk_realloc(v, (n + 2) * sizeof *v);
        v[n++] = gk_strdup(w);
        v[n] = NULL;
    }
    free(copy);
    return v;
}

static void free_words(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

int run_tar_out(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    const char *dir = a->argv[0], *fname = a->argv[1];
    gk_tarout_opts o = {0};
    o.compress = a->set[0] ? a->ostr[0] : NULL;
    o.numeric = a->set[1] && a->onum[1];
    char **ex = a->set[2] && a->ostr[2][0] ? split_words(a->ostr[2]) : NULL;
    o.excludes = (const char *const *)ex;
    o.xattrs = a->set[3] && a->onum[3];
    o.interrupted = interrupted;
    if (!gk_tarout_compress_ok(o.compress)) {
        gfsh_err(cmd, "compress:%.32s: not supported (gzip, bzip2, xz, zstd, lzop, compress)",
                 o.compress);
        free_words(ex);
        return -1;
    }
    gk_node top;
    gk_stat st;
    if (gk_vfs_resolve(sh->g->vfs, dir, 1, &top) < 0 || gk_node_stat(&top, &st) < 0) {
        io_path_err(cmd, dir);
        free_words(ex);
        return -1;
    }
    if (!S_ISDIR(st.mode)) {
        gfsh_err(cmd, "%s: not a directory", dir);
        free_words(ex);
        return -1;
    }
    /* the safe opener: never through a symlink; a half-written archive is
     * removed again, and only ever a regular file (not /dev/null) */
    FILE *fp = io_open_out(cmd, fname);
    if (!fp) {
        free_words(ex);
        return -1;
    }
    struct tout t = {sh, cmd, fp};
    o.write = tout_write;
    o.report = tout_report;
    o.ud = &t;
    char *root = gk_vfs_realpath(sh->g->vfs, dir);
    int r = gk_tarout(sh->g->vfs, &top, root ? root : dir, &o);
    free(root);
    free_words(ex);
    return io_close_out(cmd, fname, fp, r < 0 ? -1 : 0);
}

/* The guest directory dir, which must exist. */
static int target_dir(gfsh *sh, const gfsh_cmd *cmd, const char *dir, gk_node *n)
{
    gk_stat st;
    if (gk_vfs_resolve(sh->g->vfs, dir, 1, n) < 0 || gk_node_stat(n, &st) < 0 || !S_ISDIR(st.mode)) {
        gfsh_err(cmd, "target \u2018%s\u2019 is not a directory", dir);
        return -1;
    }
    return 0;
}

int run_tar_in(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    const char *fname = a->argv[0], *dir = a->argv[1];
    const char *compress = a->set[0] ? a->ostr[0] : NULL;
    if (compress && !gk_tarout_compress_ok(compress)) {
        gfsh_err(cmd, "compress:%.32s: not supported (gzip, bzip2, xz, zstd, lzop, compress)",
                 compress);
        return -1;
    }
    gk_node target;
    if (target_dir(sh, cmd, dir, &target) < 0)
        return -1;
    int fd = strcmp(fname, "-") == 0 ? 0 :
             gfsh_in_worker() ? gfsh_worker_open_in(fname) : open(fname, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        gfsh_err(cmd, "%s: %s", fname, strerror(errno));
        return -1;
    }
    /* xattrs:true, selinux:true (security.selinux is one of them) */
    gk_extract_opts eo = {.xattrs = (a->set[1] && a->onum[1]) || (a->set[2] && a->onum[2]),
                          .keep_owner = 1, .report = report, .interrupted = interrupted,
                          .ud = (void *)cmd};
    gk_extract *x = gk_extract_new(sh->g->vfs, &target, dir, &eo);
    int r = gk_extract_tar(x, fd, strcmp(fname, "-") == 0 ? "stdin" : fname);
    if (gk_extract_finish(x) < 0)
        r = -1;
    gk_extract_free(x);
    if (fd > 0)
        close(fd);
    return r < 0 ? -1 : 0;
}

int run_copy_in(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    const char *dir = a->argv[a->argc - 1];
    if (dir[0] != '/') {
        gfsh_err(cmd, "%s: remotedir must be an absolute path (start with /)", dir);
        return -1;
    }
    for (int i = 0; i < a->argc - 1; i++) {
        struct stat st;
        if (lstat(a->argv[i], &st) < 0) {
            gfsh_err(cmd, "source \u2018%s\u2019 does not exist (or cannot be read)", a->argv[i]);
            return -1;
        }
    }
    gk_node target;
    if (target_dir(sh, cmd, dir, &target) < 0)
        return -1;
    gk_extract_opts eo = {.keep_owner = 1, .report = report, .interrupted = interrupted,
                          .ud = (void *)cmd};
    gk_extract *x = gk_extract_new(sh->g->vfs, &target, dir, &eo);
    int r = 0;
    for (int i = 0; i < a->argc - 1 && r == 0; i++)
        r = gk_extract_host(x, a->argv[i]);
    if (gk_extract_finish(x) < 0)
        r = -1;
    gk_extract_free(x);
    return r < 0 ? -1 : 0;
}
