/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gfsh for Windows guests: case-sensitive-path, guestfish's "win:" path
 * prefix, the drive mappings, and the hivex-* commands (read-only: one
 * hive open at a time, as in guestfish, its node and value handles the
 * hivex offsets). */
#include <ctype.h>
#include <errno.h>
#include <hivex.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmds-int.h"

int run_case_sensitive_path(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    char *p = gk_vfs_case_sensitive_path(sh->g->vfs, a->argv[0]);
    if (!p) {
        io_path_err(cmd, a->argv[0]);
        return -1;
    }
    printf("%s\n", p);
    free(p);
    return 0;
}

/* ------------------------------------------------------------------ */
/* "win:" paths                                                        */

int gfsh_is_win_path(const char *w)
{
    return strncasecmp(w, "win:", 4) == 0;
}

/* guestfish's win_prefix: "win:C:\path" is path on the filesystem of drive
 * C: where it is mounted now; "win:\path" a path of /; either way matched
 * ignoring case. */
static char *win_path(gfsh *sh, const gfsh_cmd *cmd, const char *word)
{
    const char *p = word + 4;
    char *path;
    if (isalpha((unsigned char)p[0]) && p[1] == ':') {
        char letter = (char)tolower((unsigned char)p[0]);
        gk_guest *g = sh->g;
        if (!g->inspected || g->noses == 0) {
            gfsh_err(cmd, "to use Windows drive letters, you must inspect the guest (\"-i\" option "
                          "or run \"inspect-os\" command)");
            return NULL;
        }
        gk_os *os = &g->oses[0];
        if (os->ndrives == 0) {
            gfsh_err(cmd, "to use Windows drive letters, this must be a Windows guest");
            return NULL;
        }
        const char *dev = NULL;
        for (int i = 0; i < os->ndrives && !dev; i++)
            if (tolower((unsigned char)os->drives[i].letter[0]) == letter && !os->drives[i].letter[1])
                dev = os->drives[i].dev;
        if (!dev) {
            gfsh_err(cmd, "drive '%c:' not found.  To list available drives do:\n"
                          "  inspect-get-drive-mappings %s", letter, os->root);
            return NULL;
        }
        const char *mp = NULL;
        for (int i = 0; i < gk_vfs_nmounts(g->vfs) && !mp; i++) {
            gk_mount *m = gk_vfs_mount_at(g->vfs, i);
            if (m->device && strcmp(m->device, dev) == 0)
                mp = m->mountpoint;
        }
        if (!mp) {
            gfsh_err(cmd, "to access '%c:', mount %s first.  One way to do this is:\n"
                          "  umount-all\n  mount %s /", letter, dev, dev);
            return NULL;
        }
        path = gk_asprintf("%s%s%s", mp, strcmp(mp, "/") ? "/" : "", p + 2);
    } else {
        path = gk_strdup(*p ? p : "/");
    }
    for (char *q = path; *q; q++)
        if (*q == '\\')
            *q = '/';
    char *r = gk_vfs_case_sensitive_path(sh->g->vfs, path);
    if (!r)
        io_path_err(cmd, path);
    free(path);
    return r;
}

int gfsh_win_paths(gfsh *sh, const gfsh_cmd *c, gfsh_args *a, char ***to_free)
{
    *to_free = NULL;
    int n = 0;
    for (int i = 0; i < a->argc && i < GFSH_MAXARGS && c->args[i].kind; i++)
        if ((c->args[i].kind == GA_PATH || c->args[i].kind == GA_DEVPATH) &&
            gfsh_is_win_path(a->argv[i]))
            n++;
    if (n == 0)
        return 0;
    char **v = gk_calloc((size_t)a->argc + 1, sizeof *v);
    char **fr = gk_calloc((size_t)a->argc + 2, sizeof *fr);
    fr[0] = (char *)v;                 /* the array itself, freed last */
    int nf = 1;
    for (int i = 0; i < a->argc; i++) {
        v[i] = a->argv[i];
        if (i < GFSH_MAXARGS && c->args[i].kind &&
            (c->args[i].kind == GA_PATH || c->args[i].kind == GA_DEVPATH) &&
            gfsh_is_win_path(a->argv[i])) {
            if (!(v[i] = win_path(sh, c, a->argv[i]))) {
                for (int k = 1; k < nf; k++)
                    free(fr[k]);
                free(fr);
                free(v);
                return -1;
            }
            fr[nf++] = v[i];
        }
    }
    a->argv = v;
    *to_free = fr;
    return 0;
}

void gfsh_win_paths_free(char **to_free)
{
    if (!to_free)
        return;
    for (int i = 1; to_free[i]; i++)
        free(to_free[i]);
    free(to_free[0]);
    free(to_free);
}

/* ------------------------------------------------------------------ */
/* hivex-*                                                             */

static hive_h *hive;

static hive_h *need_hive(const gfsh_cmd *cmd)
{
    if (!hive)
        gfsh_err(cmd, "no hive: use hivex-open first");
    return hive;
}

/* A node or value handle argument: a hivex offset. */
static int handle(const gfsh_cmd *cmd, gfsh_args *a, int i, size_t *out)
{
    if (a->num[i] <= 0) {
        gfsh_err(cmd, "%s: invalid handle %" PRIi64, cmd->args[i].name, a->num[i]);
        return -1;
    }
    *out = (size_t)a->num[i];
    return 0;
}

static int hive_fail(const gfsh_cmd *cmd, const char *what)
{
    int e = errno ? errno : EINVAL;
    gfsh_err(cmd, "%s: %s", what, strerror(e));
    return -1;
}

int run_hivex_open(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    int flags = 0;
    if (a->set[0] && a->onum[0])
        flags |= HIVEX_OPEN_VERBOSE;
    if (a->set[1] && a->onum[1])
        flags |= HIVEX_OPEN_DEBUG;
    if (a->set[2] && a->onum[2]) {
        gfsh_err(cmd, "write:true: writing registry hives is not supported (gfsh opens them "
                      "read-only)");
        return -1;
    }
    if (a->set[3] && a->onum[3])
        flags |= HIVEX_OPEN_UNSAFE;
    if (hive) {
        gk_hive_close(hive);
        hive = NULL;
    }
    hive = gk_hive_open(sh->g->vfs, a->argv[0], flags);
    if (!hive) {
        io_path_err(cmd, a->argv[0]);
        return -1;
    }
    return 0;
}

int run_hivex_close(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)sh; (void)a;
    if (!need_hive(cmd))
        return -1;
    gk_hive_close(hive);
    hive = NULL;
    return 0;
}

int run_hivex_root(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)sh; (void)a;
    if (!need_hive(cmd))
        return -1;
    errno = 0;
    hive_node_h r = hivex_root(hive);
    if (!r)
        return hive_fail(cmd, "root");
    printf("%zu\n", r);
    return 0;
}

/* hivex-node-name, -node-parent, -node-children, -node-values,
 * -node-get-child, -node-get-value: the command name says which. */
int run_hivex_node(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)sh;
    size_t node;
    if (!need_hive(cmd) || handle(cmd, a, 0, &node) < 0)
        return -1;
    const char *what = cmd->name + strlen("hivex-node-");
    errno = 0;
    if (!strcmp(what, "name")) {
        char *s = hivex_node_name(hive, node);
        if (!s)
            return hive_fail(cmd, "node name");
        printf("%s\n", s);
        free(s);
    } else if (!strcmp(what, "parent")) {
        hive_node_h p = hivex_node_parent(hive, node);
        if (!p)
            return hive_fail(cmd, "parent");
        printf("%zu\n", p);
    } else if (!strcmp(what, "children") || !strcmp(what, "values")) {
        int kids = what[0] == 'c';
        size_t *v = kids ? hivex_node_children(hive, node) : hivex_node_values(hive, node);
        if (!v)
            return hive_fail(cmd, kids ? "children" : "values");
        for (size_t i = 0; v[i]; i++)
            printf("[%zu] = {\n  %s: %zu\n}\n", i, kids ? "hivex_node_h" : "hivex_value_h", v[i]);
        free(v);
    } else if (!strcmp(what, "get-child")) {
        hive_node_h c = hivex_node_get_child(hive, node, a->argv[1]);
        if (!c && errno)
            return hive_fail(cmd, a->argv[1]);
        printf("%zu\n", c);
    } else {                               /* get-value */
        hive_value_h v = hivex_node_get_value(hive, node, a->argv[1]);
        if (!v && errno)
            return hive_fail(cmd, a->argv[1]);
        printf("%zu\n", v);
    }
    return 0;
}

/* hivex-value-key, -value-type, -value-value, -value-string (and its old
 * name -value-utf8). */
int run_hivex_value(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)sh;
    size_t val;
    if (!need_hive(cmd) || handle(cmd, a, 0, &val) < 0)
        return -1;
    const char *what = cmd->name + strlen("hivex-value-");
    errno = 0;
    if (!strcmp(what, "key")) {
        char *s = hivex_value_key(hive, val);
        if (!s)
            return hive_fail(cmd, "key");
        printf("%s\n", s);
        free(s);
    } else if (!strcmp(what, "type")) {
        hive_type t;
        size_t len;
        if (hivex_value_type(hive, val, &t, &len) < 0)
            return hive_fail(cmd, "type");
        printf("%d\n", (int)t);
    } else if (!strcmp(what, "value")) {
        hive_type t;
        size_t len;
        char *b = hivex_value_value(hive, val, &t, &len);
        if (!b)
            return hive_fail(cmd, "value");
        int r = io_write(sh, cmd, stdout, b, len);
        free(b);
        return r < 0 ? -1 : 0;
    } else {
        char *s = hivex_value_string(hive, val);
        if (!s)
            return hive_fail(cmd, "value");
        printf("%s\n", s);
        free(s);
    }
    return 0;
}

/* The hivex-* commands that write: a clear refusal. */
int run_hivex_write(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)sh; (void)a;
    gfsh_err(cmd, "writing registry hives is not supported (hives are opened read-only)");
    return -1;
}

/* ------------------------------------------------------------------ */
/* Inspection of Windows guests                                        */

int run_inspect_get_drive_mappings(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_os *os = gfsh_find_os(sh, cmd, a->argv[0]);
    if (!os)
        return -1;
    for (int i = 0; i < os->ndrives; i++)
        printf("%s: %s\n", os->drives[i].letter, os->drives[i].dev);
    return 0;
}
