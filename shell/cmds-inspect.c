/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Inspection commands: inspect-os and the inspect-get-* family. */
#include <stdlib.h>
#include <string.h>

#include "gfsh.h"

static int ensure_inspected(gfsh *sh, const gfsh_cmd *cmd)
{
    if (sh->g->inspected)
        return 0;
    if (gk_inspect_os(sh->g) < 0) {
        gfsh_err_gk(cmd);
        return -1;
    }
    return 0;
}

/* The OS whose root is name (any name gk_devset_find knows for it). */
gk_os *gfsh_find_os(gfsh *sh, const gfsh_cmd *cmd, const char *name)
{
    if (ensure_inspected(sh, cmd) < 0)
        return NULL;
    gk_devent *e = gk_devset_find(sh->g->devs, name);
    const char *canon = e ? e->name : name;
    for (int i = 0; i < sh->g->noses; i++)
        if (sh->g->oses[i].root && strcmp(sh->g->oses[i].root, canon) == 0)
            return &sh->g->oses[i];
    gfsh_err(cmd, "%s: no inspection data: not the root of an operating system found by inspect-os",
             name);
    return NULL;
}

static void print_roots(gfsh *sh)
{
    for (int i = 0; i < sh->g->noses; i++)
        printf("%s\n", sh->g->oses[i].root);
}

int run_inspect_os(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)a;
    if (ensure_inspected(sh, cmd) < 0)
        return -1;
    print_roots(sh);
    return 0;
}

int run_inspect_get_roots(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)a;
    if (ensure_inspected(sh, cmd) < 0)
        return -1;
    print_roots(sh);
    return 0;
}

static const char *or_unknown(const char *s)
{
    return s && *s ? s : "unknown";
}

int run_inspect_get(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_os *os = gfsh_find_os(sh, cmd, a->argv[0]);
    if (!os)
        return -1;
    const char *what = cmd->name + strlen("inspect-get-");
    if (strcmp(what, "type") == 0) printf("%s\n", or_unknown(os->type));
    else if (strcmp(what, "distro") == 0) printf("%s\n", or_unknown(os->distro));
    else if (strcmp(what, "arch") == 0) printf("%s\n", or_unknown(os->arch));
    else if (strcmp(what, "product-name") == 0) printf("%s\n", or_unknown(os->product_name));
    else if (strcmp(what, "product-variant") == 0) printf("%s\n", or_unknown(os->product_variant));
    else if (strcmp(what, "major-version") == 0) printf("%d\n", os->major);
    else if (strcmp(what, "minor-version") == 0) printf("%d\n", os->minor);
    else if (strcmp(what, "hostname") == 0) printf("%s\n", or_unknown(os->hostname));
    else if (strcmp(what, "package-format") == 0) printf("%s\n", or_unknown(os->package_format));
    else if (strcmp(what, "package-management") == 0) printf("%s\n", or_unknown(os->package_management));
    else if (strcmp(what, "osinfo") == 0) printf("%s\n", or_unknown(os->osinfo));
    else if (strcmp(what, "build-id") == 0) printf("%s\n", or_unknown(os->build_id));
    else if (strncmp(what, "windows-", 8) == 0) {
        const char *w = what + 8;
        const char *v = !strcmp(w, "systemroot") ? os->windows_systemroot :
                        !strcmp(w, "current-control-set") ? os->windows_current_control_set :
                        !strcmp(w, "software-hive") ? os->windows_software_hive :
                        !strcmp(w, "system-hive") ? os->windows_system_hive : NULL;
        if (!v) {
            gfsh_err(cmd, "not a Windows guest, or the %s could not be determined", w);
            return -1;
        }
        printf("%s\n", v);
    }
    else {
        gfsh_err(cmd, "not implemented");
        return -1;
    }
    return 0;
}

int run_inspect_get_mountpoints(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_os *os = gfsh_find_os(sh, cmd, a->argv[0]);
    if (!os)
        return -1;
    for (int i = 0; i < os->nmps; i++)
        printf("%s: %s\n", os->mps[i].mountpoint, os->mps[i].dev);
    return 0;
}

int run_inspect_get_filesystems(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_os *os = gfsh_find_os(sh, cmd, a->argv[0]);
    if (!os)
        return -1;
    for (int i = 0; i < os->nfss; i++)
        printf("%s\n", os->fss[i].dev);
    return 0;
}

static gk_os *os_with_apps(gfsh *sh, const gfsh_cmd *cmd, const char *root)
{
    gk_os *os = gfsh_find_os(sh, cmd, root);
    if (!os)
        return NULL;
    if (!os->apps_done && gk_inspect_apps(sh->g, os) < 0) {
        gfsh_err_gk(cmd);
        return NULL;
    }
    return os;
}

#define STR(x) ((x) ? (x) : "")

/* inspect-list-applications and its successor print the same struct; the
 * second has the field prefix "app2_", an arch and four spare fields. */
static int list_apps(gfsh *sh, const gfsh_cmd *cmd, const char *root, int v2)
{
    gk_os *os = os_with_apps(sh, cmd, root);
    if (!os)
        return -1;
    const char *f = v2 ? "app2_" : "app_";
    for (int i = 0; i < os->napps; i++) {
        gk_app *p = &os->apps[i];
        printf("[%d] = {\n", i);
        printf("  %sname: %s\n", f, STR(p->name));
        printf("  %sdisplay_name: %s\n", f, STR(p->display_name));
        printf("  %sepoch: %d\n", f, p->epoch);
        printf("  %sversion: %s\n", f, STR(p->version));
        printf("  %srelease: %s\n", f, STR(p->release));
        if (v2)
            printf("  %sarch: %s\n", f, STR(p->arch));
        printf("  %sinstall_path: \n", f);
        printf("  %strans_path: \n", f);
        printf("  %spublisher: \n", f);
        printf("  %surl: %s\n", f, STR(p->url));
        printf("  %ssource_package: %s\n", f, STR(p->source_package));
        printf("  %ssummary: %s\n", f, STR(p->summary));
        printf("  %sdescription: %s\n", f, STR(p->description));
        for (int k = 1; v2 && k <= 4; k++)
            printf("  %sspare%d: \n", f, k);
        printf("}\n");
    }
    return 0;
}

int run_inspect_list_apps(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    return list_apps(sh, cmd, a->argv[0], 0);
}

int run_inspect_list_apps2(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    return list_apps(sh, cmd, a->argv[0], 1);
}
