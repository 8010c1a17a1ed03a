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
static gk_os *find_os(gfsh *sh, const gfsh_cmd *cmd, const char *name)
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
    gk_os *os = find_os(sh, cmd, a->argv[0]);
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
    else {
        gfsh_err(cmd, "not implemented");
        return -1;
    }
    return 0;
}

int run_inspect_get_mountpoints(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_os *os = find_os(sh, cmd, a->argv[0]);
    if (!os)
        return -1;
    for (int i = 0; i < os->nmps; i++)
        printf("%s: %s\n", os->mps[i].mountpoint, os->mps[i].dev);
    return 0;
}

int run_inspect_get_filesystems(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_os *os = find_os(sh, cmd, a->argv[0]);
    if (!os)
        return -1;
    for (int i = 0; i < os->nfss; i++)
        printf("%s\n", os->fss[i].dev);
    return 0;
}

static gk_os *os_with_apps(gfsh *sh, const gfsh_cmd *cmd, const char *root)
{
    gk_os *os = find_os(sh, cmd, root);
    if (!os)
        return NULL;
    if (!os->apps_done && gk_inspect_apps(sh->g, os) < 0) {
        gfsh_err_gk(cmd);
        return NULL;
    }
    return os;
}

#define STR(x) ((x) ? (x) : "")

int run_inspect_list_apps(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_os *os = os_with_apps(sh, cmd, a->argv[0]);
    if (!os)
        return -1;
    for (int i = 0; i < os->napps; i++) {
        gk_app *p = &os->apps[i];
        printf("[%d] = {\n", i);
        printf("  app_name: %s\n", STR(p->name));
        printf("  app_display_name: %s\n", STR(p->display_name));
        printf("  app_epoch: %d\n", p->epoch);
        printf("  app_version: %s\n", STR(p->version));
        printf("  app_release: %s\n", STR(p->release));
        printf("  app_install_path: \n");
        printf("  app_trans_path: \n");
        printf("  app_publisher: \n");
        printf("  app_url: %s\n", STR(p->url));
        printf("  app_source_package: %s\n", STR(p->source_package));
        printf("  app_summary: %s\n", STR(p->summary));
        printf("  app_description: %s\n", STR(p->description));
        printf("}\n");
    }
    return 0;
}

int run_inspect_list_apps2(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_os *os = os_with_apps(sh, cmd, a->argv[0]);
    if (!os)
        return -1;
    for (int i = 0; i < os->napps; i++) {
        gk_app *p = &os->apps[i];
        printf("[%d] = {\n", i);
        printf("  app2_name: %s\n", STR(p->name));
        printf("  app2_display_name: %s\n", STR(p->display_name));
        printf("  app2_epoch: %d\n", p->epoch);
        printf("  app2_version: %s\n", STR(p->version));
        printf("  app2_release: %s\n", STR(p->release));
        printf("  app2_arch: %s\n", STR(p->arch));
        printf("  app2_install_path: \n");
        printf("  app2_trans_path: \n");
        printf("  app2_publisher: \n");
        printf("  app2_url: %s\n", STR(p->url));
        printf("  app2_source_package: %s\n", STR(p->source_package));
        printf("  app2_summary: %s\n", STR(p->summary));
        printf("  app2_description: %s\n", STR(p->description));
        printf("  app2_spare1: \n");
        printf("  app2_spare2: \n");
        printf("  app2_spare3: \n");
        printf("  app2_spare4: \n");
        printf("}\n");
    }
    return 0;
}
