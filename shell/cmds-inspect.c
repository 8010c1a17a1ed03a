/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Inspection commands: inspect-os and the inspect-get-* family. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmds-int.h"

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
        printf("  %sinstall_path: %s\n", f, STR(p->install_path));
        printf("  %strans_path: \n", f);
        printf("  %spublisher: %s\n", f, STR(p->publisher));
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

/* ------------------------------------------------------------------ */
/* inspect-get-icon: where libguestfs looks (lib/inspect-icon.c), a PNG  */
/* of 16x16 to 1024x1024 and not bigger than the limit of its place     */

struct icon_place { const char *distro, *path; size_t max; };

static const struct icon_place icon_places[] = {
    {"fedora", "/usr/share/icons/hicolor/96x96/apps/fedora-logo-icon.png", 0},
    {"debian", "/usr/share/pixmaps/debian-logo.png", 2048},
    {"ubuntu", "/usr/share/icons/gnome/24x24/places/ubuntu-logo.png", 2048},
    {"ubuntu", "/usr/share/help/C/ubuntu-help/figures/ubuntu-logo.png", 2048},
    {"mageia", "/usr/share/icons/mageia.png", 10240},
    {"opensuse", "/usr/share/icons/hicolor/48x48/apps/distributor.png", 10240},
    {"opensuse", "/usr/share/icons/hicolor/24x24/apps/distributor.png", 10240},
    {"voidlinux", "/usr/share/void-artwork/void-logo.png", 20480},
    {"altlinux", "/usr/share/icons/hicolor/48x48/apps/altlinux.png", 20480},
    {"gentoo", "/usr/share/icons/gentoo/48x48/gentoo.png", 10240},
    {"openmandriva", "/usr/share/icons/large/mandriva.png", 10240},
    {"openmandriva", "/usr/share/icons/mandriva.png", 10240},
};

/* The icon at path if it passes libguestfs' checks: 1 written, 0 not
 * there or not acceptable, -1 error. */
static int try_icon(gfsh *sh, const gfsh_cmd *cmd, const char *path, size_t max)
{
    gk_node n;
    gk_stat st;
    if (gk_vfs_resolve(sh->g->vfs, path, 1, &n) < 0 || gk_node_stat(&n, &st) < 0 ||
        !S_ISREG(st.mode))
        return 0;
    unsigned char h[24];
    if (gk_node_read(&n, h, sizeof h, 0) != (ssize_t)sizeof h ||
        memcmp(h, "\x89PNG\r\n\x1a\n", 8) != 0 || memcmp(h + 12, "IHDR", 4) != 0)
        return 0;
    uint32_t w = gk_be32(h + 16), ht = gk_be32(h + 20);
    if (w < 16 || ht < 16 || w > 1024 || ht > 1024)
        return 0;
    if (max == 0)
        max = 4 * (size_t)w * ht;
    if (st.size > max)
        return 0;
    struct out_sink o = {sh, cmd, stdout};
    return io_stream(cmd, path, &n, 0, st.size, io_out_sink, &o) < 0 ? -1 : 1;
}

static int is_rhel_like(const char *d)
{
    static const char *const l[] = {"rhel", "redhat-based", "centos", "circle", "rocky",
                                    "scientificlinux", "oraclelinux"};
    for (size_t i = 0; i < sizeof l / sizeof l[0]; i++)
        if (!strcmp(d, l[i]))
            return 1;
    return 0;
}

int run_inspect_get_icon(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_os *os = gfsh_find_os(sh, cmd, a->argv[0]);
    if (!os)
        return -1;
    int favicon = !a->set[0] || a->onum[0], high = a->set[1] && a->onum[1];
    if (high)
        favicon = 0;    /* favicons are never high quality */
    int r = 0;
    if (favicon)
        r = try_icon(sh, cmd, "/etc/favicon.png", 0);
    const char *d = os->distro ? os->distro : "";
    if (r == 0 && is_rhel_like(d))
        r = try_icon(sh, cmd, os->major < 7 ? "/usr/share/pixmaps/redhat/shadowman-transparent.png"
                                            : "/usr/share/icons/hicolor/96x96/apps/system-logo-icon.png",
                     102400);
    const char *fam = !strcmp(d, "suse-based") || !strcmp(d, "sles") ? "opensuse" : d;
    for (size_t i = 0; r == 0 && i < sizeof icon_places / sizeof icon_places[0]; i++)
        if (!strcmp(icon_places[i].distro, fam) && !(high && !strcmp(fam, "ubuntu")))
            r = try_icon(sh, cmd, icon_places[i].path, icon_places[i].max);
    return r < 0 ? -1 : 0;
}

/* The deprecated install-disk queries: answers for installed guests. */
int run_inspect_deprecated(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_os *os = gfsh_find_os(sh, cmd, a->argv[0]);
    if (!os)
        return -1;
    if (!strcmp(cmd->name, "inspect-get-format"))
        printf("installed\n");
    else
        printf("false\n");         /* inspect-is-live, -netinst, -multipart */
    return 0;
}
