/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Windows inspection, the rules of libguestfs (daemon/inspect_fs_windows.ml,
 * lib/inspect-osinfo.c, lib/inspect-apps.c), on our NTFS driver and hivex:
 *
 * - the systemroot is the first of /windows, /winnt, /win32, /win,
 *   /reactos (ignoring case) holding system32/config and system32/cmd.exe,
 *   else a path named by boot.ini's [operating systems];
 * - the architecture is cmd.exe's PE header (PE32 i386, PE32+ x86_64);
 * - HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion gives the product
 *   name, the version (CurrentMajor/MinorVersionNumber, else
 *   CurrentVersion), the variant (InstallationType) and the build
 *   (CurrentBuildNumber);
 * - HKLM\SYSTEM gives the current control set (Select\Current), the
 *   hostname (Services\Tcpip\Parameters\Hostname) and the drive letters
 *   (MountedDevices: MBR disk signature + partition offset, or a GPT
 *   partition GUID, matched against the disks);
 * - applications are the Uninstall keys (native and WOW6432Node) that
 *   have a DisplayName.
 * Registry values are untrusted like the rest: strings come from hivex
 * (which checks the cells), and the hives are opened through gk_hive_open
 * (size-capped).
 */
#include <ctype.h>
#include <errno.h>
#include <hivex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "inspect-int.h"

/* ------------------------------------------------------------------ */
/* Guest files, case-insensitively (libguestfs' *_nocase helpers)      */

static char *nocase(gk_vfs *v, const char *path)
{
    char *p = gk_vfs_case_sensitive_path(v, path);
    if (!p)
        gk_debug("inspect: %s: %s", path, gk_errmsg());
    return p;
}

static int lstat_nocase(gk_vfs *v, const char *path, gk_stat *st)
{
    char *p = nocase(v, path);
    int r = p ? gk_vfs_lstat(v, p, st) : -1;
    free(p);
    return r;
}

static int is_dir_nocase(gk_vfs *v, const char *path)
{
    gk_stat st;
    return lstat_nocase(v, path, &st) == 0 && S_ISDIR(st.mode);
}

static int is_file_nocase(gk_vfs *v, const char *path)
{
    gk_stat st;
    return lstat_nocase(v, path, &st) == 0 && S_ISREG(st.mode);
}

static int is_systemroot(gk_vfs *v, const char *root)
{
    char *a = gk_asprintf("%s/system32", root);
    char *b = gk_asprintf("%s/system32/config", root);
    char *c = gk_asprintf("%s/system32/cmd.exe", root);
    int r = is_dir_nocase(v, a) && is_dir_nocase(v, b) && is_file_nocase(v, c);
    free(a);
    free(b);
    free(c);
    return r;
}

/* boot.ini's "multi(0)disk(0)rdisk(0)partition(1)\WINDOWS=..." lines after
 * [operating systems]: the paths, backslashes turned into slashes.  Like
 * libguestfs, the partition is assumed to be this filesystem. */
static char *systemroot_from_boot_ini(gk_vfs *v)
{
    char *path = nocase(v, "/boot.ini");
    char *buf = NULL, *found = NULL;
    size_t len;
    if (!path || insp_read(v, path, INSP_SMALL_MAX, &buf, &len) != 0) {
        free(path);
        return NULL;
    }
    free(path);
    char *cur = buf, *line;
    int in_oses = 0;
    while (!found && (line = insp_next_line(&cur, NULL))) {
        if (!in_oses) {
            in_oses = strncmp(line, "[operating systems]", 19) == 0;
            continue;
        }
        if (strncmp(line, "multi(", 6) != 0 && strncmp(line, "scsi(", 5) != 0)
            break;
        unsigned a, b, c, d;
        int n = 0;
        char kind[8];
        if (sscanf(line, "%5[a-z](%u)disk(%u)rdisk(%u)partition(%u)%n", kind, &a, &b, &c, &d,
                   &n) < 5 || n == 0)
            continue;
        char *p = line + n, *eq = strchr(p, '=');
        if (!eq || eq == p)
            continue;
        *eq = 0;
        for (char *q = p; *q; q++)
            if (*q == '\\')
                *q = '/';
        if (is_systemroot(v, p))
            found = gk_strdup(p);
    }
    free(buf);
    return found;
}

static const char *const roots[] = {"/windows", "/winnt", "/win32", "/win", "/reactos"};

static int names_root(void *opaque, const char *name, uint64_t ino, int d_type)
{
    (void)ino;
    (void)d_type;
    int *found = opaque;
    for (size_t i = 0; i < sizeof roots / sizeof roots[0] && !*found; i++)
        *found = strcasecmp(name, roots[i] + 1) == 0;
    *found = *found || strcasecmp(name, "boot.ini") == 0;
    return *found; /* nonzero stops the listing */
}

/* Could v hold a %SYSTEMROOT%?  Not unless its top directory has one of
 * the names find_systemroot looks for: one listing instead of six
 * case-insensitive lookups.  Only where names compare in ASCII case (all
 * but NTFS, whose $UpCase table folds more than ASCII): elsewhere yes. */
static int may_have_systemroot(gk_vfs *v, const char *fstype)
{
    if (!fstype || strcmp(fstype, "ntfs") == 0)
        return 1;
    int found = 0;
    if (gk_vfs_readdir(v, "/", names_root, &found) < 0 && !found)
        return 1; /* cannot tell: look */
    return found;
}

static char *find_systemroot(gk_vfs *v)
{
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        char *p = nocase(v, roots[i]);
        if (p && is_systemroot(v, p))
            return p;
        free(p);
    }
    return systemroot_from_boot_ini(v);
}

/* What file(1) calls cmd.exe, the way libguestfs maps it: "PE32" i386,
 * "PE32+" x86_64 (and, beyond libguestfs, an ARM64 PE32+ aarch64). */
static const char *pe_arch(gk_vfs *v, const char *file)
{
    gk_node n;
    unsigned char h[4096];
    if (gk_vfs_resolve(v, file, 1, &n) < 0)
        return NULL;
    ssize_t r = gk_node_read(&n, h, sizeof h, 0);
    if (r < 0x40 || h[0] != 'M' || h[1] != 'Z')
        return NULL;
    uint32_t pe = gk_le32(h + 0x3c);
    if (pe > (size_t)r || (size_t)r - pe < 24 + 2 || memcmp(h + pe, "PE\0\0", 4) != 0)
        return NULL;
    unsigned machine = gk_le16(h + pe + 4), magic = gk_le16(h + pe + 24);
    if (magic == 0x10b)
        return "i386";
    if (magic == 0x20b)
        return machine == 0xaa64 ? "aarch64" : "x86_64";
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The registry                                                        */

/* The node at a path of keys below node (hivex compares names ignoring
 * case), or 0. */
static hive_node_h node_at(hive_h *h, hive_node_h node, const char *const *path)
{
    for (; node && *path; path++)
        node = hivex_node_get_child(h, node, *path);
    return node;
}

/* The value named exactly key (libguestfs compares value names as they
 * are), or 0. */
static hive_value_h value_exact(hive_h *h, hive_node_h node, const char *key)
{
    hive_value_h *vals = hivex_node_values(h, node), found = 0;
    for (size_t i = 0; vals && vals[i] && !found; i++) {
        char *k = hivex_value_key(h, vals[i]);
        if (k && strcmp(k, key) == 0)
            found = vals[i];
        free(k);
    }
    free(vals);
    return found;
}

static char *string_of(hive_h *h, hive_value_h v)
{
    return v ? hivex_value_string(h, v) : NULL;
}

static int dword_of(hive_h *h, hive_value_h v, int32_t *out)
{
    if (!v)
        return -1;
    errno = 0;
    int32_t d = hivex_value_dword(h, v);
    if (d == -1 && errno)
        return -1;
    *out = d;
    return 0;
}

static void software_hive(gk_vfs *v, gk_os *os)
{
    hive_h *h = gk_hive_open(v, os->windows_software_hive, 0);
    if (!h) {
        gk_warn("%s: %s (ignored)", os->root, gk_errmsg());
        return;
    }
    static const char *const cv[] = {"Microsoft", "Windows NT", "CurrentVersion", NULL};
    hive_node_h n = node_at(h, hivex_root(h), cv);
    if (!n) {
        gk_debug("inspect: cannot locate HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion");
        gk_hive_close(h);
        return;
    }
    char *s = string_of(h, value_exact(h, n, "ProductName"));
    if (s) {
        free(os->product_name);
        os->product_name = s;
    }
    int32_t ma, mi;
    if (dword_of(h, value_exact(h, n, "CurrentMajorVersionNumber"), &ma) == 0 &&
        dword_of(h, value_exact(h, n, "CurrentMinorVersionNumber"), &mi) == 0) {
        os->major = ma < 0 ? 0 : ma;
        os->minor = mi < 0 ? 0 : mi;
    } else if ((s = string_of(h, value_exact(h, n, "CurrentVersion")))) {
        insp_parse_version(s, &os->major, &os->minor);
        free(s);
    }
    if ((s = string_of(h, value_exact(h, n, "InstallationType")))) {
        free(os->product_variant);
        os->product_variant = s;
    }
    if ((s = string_of(h, value_exact(h, n, "CurrentBuildNumber")))) {
        free(os->build_id);
        os->build_id = s;
    }
    gk_hive_close(h);
}

/* ---- drive letters (HKLM\SYSTEM\MountedDevices) ---- */

/* An MBR disk whose signature (at 0x1b8) is sig, and its partition that
 * starts at off bytes: its name, or NULL. */
static const char *mbr_partition(gk_guest *g, const uint8_t sig[4], uint64_t off)
{
    gk_devset *s = g->devs;
    for (int d = 0; d < s->ndisks; d++) {
        if (!s->disk_parttype || !s->disk_parttype[d] || strcmp(s->disk_parttype[d], "msdos"))
            continue;
        gk_devent *disk = gk_devset_disk(s, d);
        uint8_t id[4];
        if (!disk || !disk->dev || gk_pread(disk->dev, id, 4, 0x1b8) < 0 || memcmp(id, sig, 4))
            continue;
        for (int i = 0; i < s->nents; i++) {
            gk_devent *e = &s->ents[i];
            if (e->kind == GK_PART && e->disk_index == d && e->part_start == off)
                return e->name;
        }
    }
    return NULL;
}

/* The GPT partition whose unique GUID is guid (lower case), or NULL. */
static const char *gpt_partition(gk_guest *g, const char *guid)
{
    gk_devset *s = g->devs;
    for (int i = 0; i < s->nents; i++) {
        gk_devent *e = &s->ents[i];
        if (e->kind != GK_PART || !e->partuuid || e->disk_index < 0 ||
            e->disk_index >= s->ndisks || !s->disk_parttype || !s->disk_parttype[e->disk_index] ||
            strcmp(s->disk_parttype[e->disk_index], "gpt"))
            continue;
        if (strcasecmp(e->partuuid, guid) == 0)
            return e->name;
    }
    return NULL;
}

static void add_drive(gk_os *os, const char *letter, const char *dev)
{
    os->drives = gk_realloc(os->drives, (size_t)(os->ndrives + 1) * sizeof *os->drives);
    os->drives[os->ndrives].letter = gk_strdup(letter);
    os->drives[os->ndrives].dev = gk_strdup(dev);
    os->ndrives++;
}

static void drive_mappings(gk_guest *g, hive_h *h, gk_os *os)
{
    static const char *const md[] = {"MountedDevices", NULL};
    hive_node_h n = node_at(h, hivex_root(h), md);
    if (!n) {
        gk_debug("inspect: cannot find drive mappings (HKLM\\SYSTEM\\MountedDevices)");
        return;
    }
    hive_value_h *vals = hivex_node_values(h, n);
    /* a drive letter is one of 26: a hive listing more values is read up
     * to its first 4096 */
    for (size_t i = 0; vals && vals[i] && i < 4096; i++) {
        char *key = hivex_value_key(h, vals[i]);
        if (!key || strlen(key) < 14 || strncasecmp(key, "\\dosdevices\\", 12) != 0 ||
            !isalpha((unsigned char)key[12]) || key[13] != ':') {
            free(key);
            continue;
        }
        hive_type t;
        size_t len;
        char *blob = hivex_value_value(h, vals[i], &t, &len);
        const char *dev = NULL;
        if (blob && t == hive_t_REG_BINARY) {
            const uint8_t *b = (const uint8_t *)blob;
            if (len >= 24 && memcmp(b, "DMIO:ID:", 8) == 0) {
                char guid[40];
                snprintf(guid, sizeof guid, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                         gk_le32(b + 8), gk_le16(b + 12), gk_le16(b + 14), b[16], b[17], b[18],
                         b[19], b[20], b[21], b[22], b[23]);
                dev = gpt_partition(g, guid);
                gk_debug("inspect: drive %c: GPT partition %s: %s", key[12], guid,
                         dev ? dev : "not found");
            } else if (len == 12) {
                dev = mbr_partition(g, b, gk_le64(b + 4));
                gk_debug("inspect: drive %c: MBR disk %02x%02x%02x%02x offset %llu: %s", key[12],
                         b[0], b[1], b[2], b[3], (unsigned long long)gk_le64(b + 4),
                         dev ? dev : "not found");
            }
        }
        if (dev) {
            char letter[2] = {key[12], 0};
            add_drive(os, letter, dev);
        }
        free(blob);
        free(key);
    }
    free(vals);
}

static void system_hive(gk_guest *g, gk_vfs *v, gk_os *os)
{
    hive_h *h = gk_hive_open(v, os->windows_system_hive, 0);
    if (!h) {
        gk_warn("%s: %s (ignored)", os->root, gk_errmsg());
        return;
    }
    drive_mappings(g, h, os);
    static const char *const sel[] = {"Select", NULL};
    hive_node_h n = node_at(h, hivex_root(h), sel);
    int32_t cur;
    if (!n || dword_of(h, hivex_node_get_value(h, n, "Current"), &cur) < 0) {
        gk_debug("inspect: cannot locate HKLM\\SYSTEM\\Select");
        gk_hive_close(h);
        return;
    }
    os->windows_current_control_set = gk_asprintf("ControlSet%03d", cur);
    const char *const tcp[] = {os->windows_current_control_set, "Services", "Tcpip", "Parameters",
                               NULL};
    n = node_at(h, hivex_root(h), tcp);
    char *host = n ? string_of(h, value_exact(h, n, "Hostname")) : NULL;
    if (host) {
        free(os->hostname);
        os->hostname = host;
    } else {
        gk_debug("inspect: cannot locate HKLM\\SYSTEM\\%s\\Services\\Tcpip\\Parameters\\Hostname",
                 os->windows_current_control_set);
    }
    gk_hive_close(h);
}

/* A hive file below the systemroot, if it is a regular file. */
static char *hive_path(gk_vfs *v, const char *root, const char *name)
{
    char *want = gk_asprintf("%s/system32/config/%s", root, name);
    char *p = nocase(v, want);
    free(want);
    if (p && insp_is_file(v, p))
        return p;
    free(p);
    return NULL;
}

int insp_windows_root(gk_guest *g, gk_vfs *v, gk_os *os)
{
    /* (a btrfsvol: name is not found: the lookups are made then) */
    const gk_devent *e = os->root ? gk_devset_find(g->devs, os->root) : NULL;
    if (!may_have_systemroot(v, e && e->dev ? gk_devent_probe(e)->type : NULL))
        return 0;
    char *root = find_systemroot(v);
    if (!root)
        return 0;
    gk_debug("inspect: %s: Windows %%SYSTEMROOT%% = %s", os->root, root);
    free(os->type);
    free(os->distro);
    os->type = gk_strdup("windows");
    os->distro = gk_strdup("windows");
    os->windows_systemroot = root;
    char *cmd = gk_asprintf("%s/system32/cmd.exe", root), *cmdp = nocase(v, cmd);
    const char *arch = cmdp ? pe_arch(v, cmdp) : NULL;
    if (arch) {
        free(os->arch);
        os->arch = gk_strdup(arch);
    } else {
        gk_debug("inspect: %s: not a PE executable we know", cmd);
    }
    free(cmd);
    free(cmdp);
    os->windows_software_hive = hive_path(v, root, "software");
    os->windows_system_hive = hive_path(v, root, "system");
    gk_debug("inspect: software hive: %s, system hive: %s",
             os->windows_software_hive ? os->windows_software_hive : "none",
             os->windows_system_hive ? os->windows_system_hive : "none");
    if (os->windows_software_hive && os->windows_system_hive) {
        software_hive(v, os);
        system_hive(g, v, os);
    }
    return 1;
}

/* libosinfo's short IDs, as libguestfs' inspect-osinfo.c (1.56) gives
 * them: Windows 10 and 11 share 10.0 and differ by build number. */
char *insp_windows_osinfo(const gk_os *os)
{
    const char *name = os->product_name ? os->product_name : "";
    const char *var = os->product_variant ? os->product_variant : "";
    int server = strstr(var, "Server") != NULL;
    switch (os->major) {
    case 5:
        if (os->minor == 1)
            return gk_strdup("winxp");
        if (os->minor == 2)
            return gk_strdup(strstr(name, "XP") ? "winxp" : strstr(name, "R2") ? "win2k3r2" : "win2k3");
        break;
    case 6:
        switch (os->minor) {
        case 0: return gk_strdup(server ? "win2k8" : "winvista");
        case 1: return gk_strdup(server ? "win2k8r2" : "win7");
        case 2: return gk_strdup(server ? "win2k12" : "win8");
        case 3: return gk_strdup(server ? "win2k12r2" : "win8.1");
        }
        break;
    case 10:
        if (os->minor != 0)
            break;
        if (server)
            return gk_strdup(strstr(name, "2025") ? "win2k25" : strstr(name, "2022") ? "win2k22" :
                             strstr(name, "2019") ? "win2k19" : "win2k16");
        if (os->build_id) {
            char *end;
            long b = strtol(os->build_id, &end, 10);
            if (end != os->build_id && !*end && b >= 0)
                return gk_strdup(b >= 22000 ? "win11" : "win10");
        }
        return NULL;
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Applications: the Uninstall keys                                    */

static void uninstall_key(hive_h *h, const char *const *path, gk_app **apps, int *n)
{
    hive_node_h node = node_at(h, hivex_root(h), path);
    if (!node)
        return;
    hive_node_h *kids = hivex_node_children(h, node);
    for (size_t i = 0; kids && kids[i]; i++) {
        char *name = hivex_node_name(h, kids[i]);
        char *display = name ? string_of(h, hivex_node_get_value(h, kids[i], "DisplayName")) : NULL;
        if (!display) {
            free(name);
            continue;
        }
        *apps = gk_realloc(*apps, (size_t)(*n + 1) * sizeof **apps);
        gk_app *a = &(*apps)[(*n)++];
        memset(a, 0, sizeof *a);
        a->name = name;
        a->display_name = display;
        a->version = string_of(h, hivex_node_get_value(h, kids[i], "DisplayVersion"));
        a->install_path = string_of(h, hivex_node_get_value(h, kids[i], "InstallLocation"));
        a->publisher = string_of(h, hivex_node_get_value(h, kids[i], "Publisher"));
        a->url = string_of(h, hivex_node_get_value(h, kids[i], "URLInfoAbout"));
        a->description = string_of(h, hivex_node_get_value(h, kids[i], "Comments"));
    }
    free(kids);
}

int insp_windows_apps(gk_vfs *v, const gk_os *os, gk_app **apps)
{
    *apps = NULL;
    if (!os->windows_software_hive)
        return 0;
    /* libguestfs lists applications from a hive hivex opens leniently */
    hive_h *h = gk_hive_open(v, os->windows_software_hive, HIVEX_OPEN_UNSAFE);
    if (!h) {
        gk_warn("%s: %s (no applications listed)", os->root, gk_errmsg());
        return 0;
    }
    static const char *const native[] = {"Microsoft", "Windows", "CurrentVersion", "Uninstall", NULL};
    static const char *const wow[] = {"WOW6432node", "Microsoft", "Windows", "CurrentVersion",
                                      "Uninstall", NULL};
    int n = 0;
    uninstall_key(h, native, apps, &n);
    uninstall_key(h, wow, apps, &n);
    gk_hive_close(h);
    return n;
}

void insp_windows_clear(gk_os *os)
{
    free(os->windows_systemroot);
    free(os->windows_current_control_set);
    free(os->windows_software_hive);
    free(os->windows_system_hive);
    for (int i = 0; i < os->ndrives; i++) {
        free(os->drives[i].letter);
        free(os->drives[i].dev);
    }
    free(os->drives);
    os->windows_systemroot = os->windows_current_control_set = NULL;
    os->windows_software_hive = os->windows_system_hive = NULL;
    os->drives = NULL;
    os->ndrives = 0;
}

/* ------------------------------------------------------------------ */
/* C:\ paths (virt-cat's windows_path)                                 */

int gk_guest_is_windows(gk_guest *g)
{
    return g->inspected && g->noses == 1 && g->oses[0].type &&
           strcmp(g->oses[0].type, "windows") == 0;
}

char *gk_guest_windows_path(gk_guest *g, const char *path)
{
    char *p;
    if (isalpha((unsigned char)path[0]) && path[1] == ':') {
        gk_os *os = g->noses == 1 ? &g->oses[0] : NULL;
        if (!os || !os->ndrives) {
            gk_error("to use Windows drive letters, this must be a Windows guest");
            errno = EINVAL;
            return NULL;
        }
        const char *dev = NULL;
        for (int i = 0; i < os->ndrives && !dev; i++)
            if (tolower((unsigned char)os->drives[i].letter[0]) == tolower((unsigned char)path[0]) &&
                !os->drives[i].letter[1])
                dev = os->drives[i].dev;
        if (!dev) {
            gk_error("drive '%c:' not found", tolower((unsigned char)path[0]));
            errno = ENOENT;
            return NULL;
        }
        /* that drive on /, as virt-cat remounts it (nothing to do when it
         * is the one mounted there already) */
        gk_mount *m = gk_vfs_nmounts(g->vfs) > 0 ? gk_vfs_mount_at(g->vfs, 0) : NULL;
        if (!m || !m->device || strcmp(m->device, dev) != 0 || gk_vfs_nmounts(g->vfs) != 1) {
            gk_vfs_umount_all(g->vfs);
            if (gk_guest_mount(g, dev, "/") < 0)
                return NULL;
        }
        p = gk_strdup(*(path + 2) ? path + 2 : "/");
    } else {
        p = gk_strdup(*path ? path : "/");
    }
    for (char *q = p; *q; q++)
        if (*q == '\\')
            *q = '/';
    if (p[0] != '/') {
        char *abs = gk_asprintf("/%s", p);
        free(p);
        p = abs;
    }
    char *r = gk_vfs_case_sensitive_path(g->vfs, p);
    free(p);
    return r;
}
