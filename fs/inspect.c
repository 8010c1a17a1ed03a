/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OS inspection: find the operating systems on a guest's disks the way
 * libguestfs does (daemon/inspect*.ml), without an appliance.
 *
 * Every filesystem we can open is mounted read-only in a private VFS and
 * classified by the files it holds (Linux root, separate /usr, other).
 * A root is then described from its release files, its own binaries
 * (architecture), hostname files and /etc/fstab (fs/inspect-fstab.c).
 * Every guest file is read through insp_read(), which caps its size.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "inspect-int.h"

/* ------------------------------------------------------------------ */
/* Guest file helpers                                                  */

const char *insp_dev(gk_vfs *v)
{
    gk_mount *m = gk_vfs_nmounts(v) > 0 ? gk_vfs_mount_at(v, 0) : NULL;
    return m && m->device ? m->device : "guest";
}

int insp_is_file(gk_vfs *v, const char *path)
{
    gk_stat st;
    return gk_vfs_stat(v, path, &st) == 0 && S_ISREG(st.mode);
}

int insp_is_dir(gk_vfs *v, const char *path)
{
    gk_stat st;
    return gk_vfs_lstat(v, path, &st) == 0 && S_ISDIR(st.mode);
}

static int is_symlink(gk_vfs *v, const char *path)
{
    gk_stat st;
    return gk_vfs_lstat(v, path, &st) == 0 && S_ISLNK(st.mode);
}

int insp_read(gk_vfs *v, const char *path, size_t max, char **out, size_t *len)
{
    gk_node n;
    gk_stat st;
    *out = NULL;
    *len = 0;
    if (gk_vfs_resolve(v, path, 1, &n) < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 1;
        gk_warn("%s: %s (ignored)", insp_dev(v), gk_errmsg());
        return -1;
    }
    /* name the filesystem that holds the file: /var may be another one */
    const char *dev = n.mnt && n.mnt->device ? n.mnt->device : insp_dev(v);
    if (gk_node_stat(&n, &st) < 0) {
        gk_warn("%s: %s: %s (ignored)", dev, path, gk_errmsg());
        return -1;
    }
    if (!S_ISREG(st.mode))
        return 1;
    if (st.size > max) {
        gk_warn("%s: %s: file too large (%llu bytes, at most %zu read during inspection), ignored",
                dev, path, (unsigned long long)st.size, max);
        return -1;
    }
    char *buf = gk_malloc((size_t)st.size + 1);
    size_t got = 0;
    while (got < st.size) {
        ssize_t r = gk_node_read(&n, buf + got, (size_t)st.size - got, got);
        if (r < 0) {
            gk_warn("%s: %s: %s (ignored)", dev, path, gk_errmsg());
            free(buf);
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    buf[got] = 0;
    *out = buf;
    *len = got;
    return 0;
}

char *insp_next_line(char **cursor, int *truncated)
{
    char *s = *cursor;
    if (truncated)
        *truncated = 0;
    if (!s || !*s) {
        *cursor = NULL;
        return NULL;
    }
    char *nl = strchr(s, '\n');
    if (nl) {
        *nl = 0;
        *cursor = nl + 1;
    } else {
        *cursor = s + strlen(s);
    }
    size_t n = nl ? (size_t)(nl - s) : strlen(s);
    if (n > 0 && s[n - 1] == '\r')
        s[--n] = 0;
    if (n > INSP_LINE_MAX) {
        s[INSP_LINE_MAX] = 0;
        if (truncated)
            *truncated = 1;
    }
    return s;
}

char *insp_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

/* ------------------------------------------------------------------ */
/* What we learn about one filesystem                                  */

enum role { ROLE_OTHER, ROLE_ROOT, ROLE_USR };

typedef struct cand {
    int ent;               /* index in g->devs->ents                       */
    enum role role;
    gk_vfs *v;             /* the filesystem mounted alone on /            */
    gk_os os;              /* what we found (roots and /usr)               */
    int have_version;
    int coreos;            /* a CoreOS root or /usr (no fstab: merged by role) */
    int btrfs;             /* on btrfs (snapshots are compared by release) */
    int light;             /* only what mounting needs (gk_guest.inspect_for_mount) */
} cand;

static void set_str(char **dst, const char *s)
{
    char *copy = s ? gk_strdup(s) : NULL;   /* s may be *dst itself */
    free(*dst);
    *dst = copy;
}

/* libguestfs' parse_version_from_major_minor: the leftmost "N.M", else
 * the leftmost "N", anywhere in the string. */
static int clamp_int(long v)
{
    return v < 0 ? 0 : v > 0x7fffffff ? 0x7fffffff : (int)v;
}

int insp_parse_version(const char *s, int *major, int *minor)
{
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p) || (p > s && isdigit((unsigned char)p[-1])))
            continue;
        char *end;
        long a = strtol(p, &end, 10);
        if (*end == '.' && isdigit((unsigned char)end[1])) {
            *major = clamp_int(a);
            *minor = clamp_int(strtol(end + 1, NULL, 10));
            return 0;
        }
    }
    for (const char *p = s; *p; p++)
        if (isdigit((unsigned char)*p)) {
            *major = clamp_int(strtol(p, NULL, 10));
            *minor = 0;
            return 0;
        }
    gk_debug("inspect: cannot parse version string: %s", s);
    return -1;
}

static void parse_version(cand *c, const char *s)
{
    if (insp_parse_version(s, &c->os.major, &c->os.minor) == 0)
        c->have_version = 1;
}

/* os-release ID= to libguestfs' distro names (inspect_fs_unix.ml). */
static const char *distro_of_id(const char *id)
{
    static const char *const map[][2] = {
        {"alpine", "alpinelinux"}, {"altlinux", "altlinux"}, {"arch", "archlinux"},
        {"centos", "centos"}, {"circle", "circle"}, {"coreos", "coreos"},
        {"debian", "debian"}, {"fedora", "fedora"}, {"frugalware", "frugalware"},
        {"gentoo", "gentoo"}, {"kali", "kalilinux"}, {"kylin", "kylin"},
        {"mageia", "mageia"}, {"neokylin", "neokylin"}, {"openEuler", "openeuler"},
        {"openmandriva", "openmandriva"}, {"opencloudos", "opencloudos"},
        {"tencentos", "tencentos"}, {"opensuse", "opensuse"}, {"pardus", "pardus"},
        {"pld", "pldlinux"}, {"rhel", "rhel"}, {"rocky", "rocky"}, {"sles", "sles"},
        {"sled", "sles"}, {"ubuntu", "ubuntu"}, {"void", "voidlinux"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(id, map[i][0]) == 0)
            return map[i][1];
    if (strncmp(id, "opensuse-", 9) == 0)
        return "opensuse";
    return NULL;
}

/* Shell unquoting as os-release(5) asks: '...' verbatim, "..." with
 * backslash escapes of \ " $ `. In place. */
static char *shell_unquote(char *s)
{
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '\'' && s[n - 1] == '\'') {
        s[n - 1] = 0;
        return s + 1;
    }
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s[n - 1] = 0;
        char *r = s + 1, *w = s + 1;
        for (; *r; r++) {
            if (*r == '\\' && r[1] && strchr("\\\"$`", r[1]))
                r++;
            *w++ = *r;
        }
        *w = 0;
        return s + 1;
    }
    return s;
}

static char *simple_unquote(char *s)
{
    size_t n = strlen(s);
    if (n >= 2 && ((s[0] == '"' && s[n - 1] == '"') || (s[0] == '\'' && s[n - 1] == '\''))) {
        s[n - 1] = 0;
        return s + 1;
    }
    return s;
}

/* Split "KEY=value" lines; calls fn for each.  Comments and blank lines
 * are skipped. */
typedef void (*kv_fn)(cand *c, const char *key, char *value, void *ud);
static void parse_kv(cand *c, char *buf, int shell, kv_fn fn, void *ud)
{
    char *cur = buf, *line;
    while ((line = insp_next_line(&cur, NULL))) {
        line = insp_trim(line);
        if (!*line || *line == '#')
            continue;
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = 0;
        char *key = insp_trim(line), *val = insp_trim(eq + 1);
        fn(c, key, shell ? shell_unquote(val) : simple_unquote(val), ud);
    }
}

struct osrel { const char *distro; char *id_like; };

static void osrel_kv(cand *c, const char *key, char *val, void *ud)
{
    struct osrel *o = ud;
    if (strcmp(key, "ID") == 0) {
        const char *d = distro_of_id(val);
        if (d)
            o->distro = d;
        else
            gk_debug("inspect: os-release: unknown ID=%s", val);
    } else if (strcmp(key, "ID_LIKE") == 0) {
        set_str(&o->id_like, val);
    } else if (strcmp(key, "PRETTY_NAME") == 0) {
        set_str(&c->os.product_name, val);
    } else if (strcmp(key, "VERSION_ID") == 0) {
        unsigned maj, min;
        char t;
        /* NeoKylin's "V7Update6" (RHBZ#1476081) */
        if (sscanf(val, "V%uUpdate%u%c", &maj, &min, &t) == 2) {
            c->os.major = (int)(maj & 0x7fffffff);
            c->os.minor = (int)(min & 0x7fffffff);
            c->have_version = 1;
        } else {
            parse_version(c, val);
        }
    } else if (strcmp(key, "BUILD_ID") == 0) {
        set_str(&c->os.build_id, val);
    }
}

static int parse_os_release(cand *c, const char *path)
{
    char *buf;
    size_t len;
    if (insp_read(c->v, path, INSP_SMALL_MAX, &buf, &len) != 0)
        return 0;
    struct osrel o = {0};
    if (c->os.distro)
        o.distro = c->os.distro; /* a /usr merged later keeps what it had */
    parse_kv(c, buf, 1, osrel_kv, &o);
    free(buf);
    /* Beyond libguestfs: an unknown ID falls back to the first ID_LIKE we
     * know (a derivative such as KDE neon: "ubuntu debian"). */
    if (!o.distro && o.id_like) {
        char *save, *w;
        for (w = strtok_r(o.id_like, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
            if ((o.distro = distro_of_id(w)))
                break;
    }
    free(o.id_like);
    if (o.distro)
        set_str(&c->os.distro, o.distro);
    if (!c->os.distro || !c->os.product_name)
        return 0;
    const char *d = c->os.distro;
    /* Debian, CentOS and Rocky only give the major version: the release
     * files are better. */
    if ((!strcmp(d, "debian") || !strcmp(d, "centos") || !strcmp(d, "rocky")) &&
        c->have_version && c->os.minor == 0)
        return 0;
    if (!c->have_version) {
        if (!strcmp(d, "archlinux") || !strcmp(d, "gentoo") || !strcmp(d, "voidlinux")) {
            c->os.major = c->os.minor = 0;
            c->have_version = 1;
            return 1;
        }
        return 0;
    }
    return 1;
}

static void lsb_kv(cand *c, const char *key, char *val, void *ud)
{
    int *ok = ud;
    if (strcmp(key, "DISTRIB_ID") == 0) {
        const char *d = !strcmp(val, "CoreOS") ? "coreos" :
                        !strcmp(val, "LinuxMint") ? "linuxmint" :
                        !strcmp(val, "Mageia") ? "mageia" :
                        !strcmp(val, "Ubuntu") ? "ubuntu" : NULL;
        if (d) {
            *ok = 1;
            set_str(&c->os.distro, d);
        }
    } else if (strcmp(key, "DISTRIB_RELEASE") == 0) {
        parse_version(c, val);
    } else if (strcmp(key, "DISTRIB_DESCRIPTION") == 0) {
        *ok = 1;
        set_str(&c->os.product_name, val);
    }
}

static int parse_lsb_release(cand *c, const char *path)
{
    char *buf;
    size_t len;
    if (insp_read(c->v, path, INSP_SMALL_MAX, &buf, &len) != 0)
        return 0;
    int ok = 0;
    parse_kv(c, buf, 0, lsb_kv, &ok);
    free(buf);
    return ok;
}

/* How one release-file test of the table below decides. */
enum rf_kind {
    RF_GENERIC,        /* first line is the product name, version if any   */
    RF_RELEASE_N,      /* PREFIX.*release N                                */
    RF_RELEASE_NM,     /* PREFIX.*release N.M                              */
    RF_RELEASE_UPDATE, /* PREFIX.*release N.*Update M                      */
    RF_PRESENT,        /* the file's presence is enough                    */
    RF_SUSE,           /* SuSE-release: name, VERSION =, PATCHLEVEL =      */
    RF_BR,             /* br-version: cirros or buildroot                  */
    RF_CONTAINS,       /* generic, but the first line must contain PREFIX  */
};

/* A tiny matcher for the release-file regexes of libguestfs: the text
 * must contain prefix, then anything, then "release N", followed by ".M"
 * (RF_RELEASE_NM) or by anything and "Update M" (RF_RELEASE_UPDATE). */
static int match_release(const char *s, const char *prefix, enum rf_kind want, int *maj, int *min)
{
    const char *p = strstr(s, prefix);
    if (!p)
        return 0;
    /* try every "release " after the prefix, like the greedy .* would
     * backtrack to one that works */
    for (const char *r = p + strlen(prefix); (r = strstr(r, "release ")); r++) {
        const char *q = r + 8;
        if (!isdigit((unsigned char)*q))
            continue;
        char *end;
        long a = strtol(q, &end, 10);
        if (want == RF_RELEASE_N) {
            *maj = (int)(a & 0x7fffffff);
            *min = 0;
            return 1;
        }
        if (want == RF_RELEASE_NM) {
            if (*end == '.' && isdigit((unsigned char)end[1])) {
                *maj = (int)(a & 0x7fffffff);
                *min = (int)(strtol(end + 1, NULL, 10) & 0x7fffffff);
                return 1;
            }
            continue;
        }
        const char *u = strstr(end, "Update ");
        if (u && isdigit((unsigned char)u[7])) {
            *maj = (int)(a & 0x7fffffff);
            *min = (int)(strtol(u + 7, NULL, 10) & 0x7fffffff);
            return 1;
        }
    }
    return 0;
}

/* parse_generic: the product name is the first line; with a regex
 * (prefix and a RF_RELEASE_* kind) it must match and gives the version. */
static int parse_generic(cand *c, const char *path, const char *distro,
                         const char *prefix, enum rf_kind want)
{
    char *buf;
    size_t len;
    if (insp_read(c->v, path, INSP_SMALL_MAX, &buf, &len) != 0)
        return 0;
    char *cur = buf, *first = insp_next_line(&cur, NULL);
    if (!first || !*first) {
        free(buf);
        return 0;
    }
    set_str(&c->os.product_name, first);
    set_str(&c->os.distro, distro);
    int ok = 1;
    if (prefix) {
        int maj, min;
        if (match_release(first, prefix, want, &maj, &min)) {
            c->os.major = maj;
            c->os.minor = min;
            c->have_version = 1;
        } else {
            ok = 0;
        }
    } else {
        parse_version(c, first);
    }
    free(buf);
    return ok;
}

/* The release-file tests of libguestfs' linux_root_tests, in order; the
 * first that succeeds wins, but what a failed one set stays. */
static void check_release_files(cand *c)
{
    gk_vfs *v = c->v;
    gk_stat st;
    if (is_symlink(v, "/etc/os-release") && gk_vfs_stat(v, "/etc/os-release", &st) < 0 &&
        errno == ELOOP)
        gk_warn("%s: %s (ignored)", c->os.root, gk_errmsg());
    if (insp_is_file(v, "/etc/os-release") && parse_os_release(c, "/etc/os-release"))
        return;
    /* beyond libguestfs: systemd's fallback location */
    if (!insp_is_file(v, "/etc/os-release") && insp_is_file(v, "/usr/lib/os-release") &&
        parse_os_release(c, "/usr/lib/os-release"))
        return;
    if (insp_is_file(v, "/etc/lsb-release") && parse_lsb_release(c, "/etc/lsb-release"))
        return;
    static const struct rf {
        const char *path, *distro, *prefix;
        enum rf_kind kind;
    } tests[] = {
        {"/etc/openmandriva-release", "openmandriva", "OpenMandriva", RF_RELEASE_NM},
        {"/etc/oracle-release", "oraclelinux", "Oracle Linux", RF_RELEASE_UPDATE},
        {"/etc/oracle-release", "oraclelinux", "Oracle Linux", RF_RELEASE_NM},
        {"/etc/oracle-release", "oraclelinux", "Oracle Linux", RF_RELEASE_N},
        {"/etc/centos-release", "centos", "CentOS", RF_RELEASE_UPDATE},
        {"/etc/centos-release", "centos", "CentOS", RF_RELEASE_NM},
        {"/etc/centos-release", "centos", "CentOS", RF_RELEASE_N},
        {"/etc/rocky-release", "rocky", "Rocky Linux", RF_RELEASE_NM},
        {"/etc/rocky-release", "rocky", "Rocky Linux", RF_RELEASE_N},
        {"/etc/altlinux-release", "altlinux", NULL, RF_GENERIC},
        {"/etc/redhat-release", "fedora", "Fedora", RF_RELEASE_N},
        {"/etc/redhat-release", "rhel", "Red Hat", RF_RELEASE_UPDATE},
        {"/etc/redhat-release", "rhel", "Red Hat", RF_RELEASE_NM},
        {"/etc/redhat-release", "rhel", "Red Hat", RF_RELEASE_N},
        {"/etc/redhat-release", "centos", "CentOS", RF_RELEASE_UPDATE},
        {"/etc/redhat-release", "centos", "CentOS", RF_RELEASE_NM},
        {"/etc/redhat-release", "centos", "CentOS", RF_RELEASE_N},
        {"/etc/redhat-release", "rocky", "Rocky Linux", RF_RELEASE_NM},
        {"/etc/redhat-release", "rocky", "Rocky Linux", RF_RELEASE_N},
        {"/etc/redhat-release", "scientificlinux", "Scientific Linux", RF_RELEASE_UPDATE},
        {"/etc/redhat-release", "scientificlinux", "Scientific Linux", RF_RELEASE_NM},
        {"/etc/redhat-release", "scientificlinux", "Scientific Linux", RF_RELEASE_N},
        {"/etc/redhat-release", "redhat-based", NULL, RF_GENERIC},
        {"/etc/redhat-release", "redhat-based", NULL, RF_PRESENT},   /* always true */
        {"/etc/debian_version", "debian", NULL, RF_GENERIC},
        {"/etc/pardus-release", "pardus", NULL, RF_GENERIC},
        {"/etc/arch-release", "archlinux", NULL, RF_PRESENT},
        {"/etc/gentoo-release", "gentoo", NULL, RF_GENERIC},
        {"/etc/meego-release", "meego", NULL, RF_GENERIC},
        {"/etc/slackware-version", "slackware", NULL, RF_GENERIC},
        {"/etc/ttylinux-target", "ttylinux", NULL, RF_GENERIC},
        {"/etc/SuSE-release", "suse-based", NULL, RF_SUSE},        /* parse_suse_release */
        {"/etc/SuSE-release", "suse-based", NULL, RF_PRESENT},
        {"/etc/cirros/version", "cirros", NULL, RF_GENERIC},
        {"/etc/br-version", "buildroot", NULL, RF_BR},
        {"/etc/alpine-release", "alpinelinux", NULL, RF_GENERIC},
        {"/etc/frugalware-release", "frugalware", "Frugalware", RF_CONTAINS},
        {"/etc/pld-release", "pldlinux", "PLD Linux", RF_CONTAINS},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        const struct rf *t = &tests[i];
        if (!insp_is_file(v, t->path))
            continue;
        int ok;
        if (t->kind == RF_PRESENT) {
            set_str(&c->os.distro, t->distro);
            ok = 1;
        } else if (t->kind == RF_SUSE) {
            char *buf;
            size_t len;
            ok = 0;
            if (insp_read(v, t->path, INSP_SMALL_MAX, &buf, &len) == 0) {
                char *cur = buf, *l1 = insp_next_line(&cur, NULL);
                char *l2 = insp_next_line(&cur, NULL), *l3 = insp_next_line(&cur, NULL);
                if (l1 && *l1) {
                    ok = 1;
                    set_str(&c->os.product_name, l1);
                    unsigned a;
                    if (!strncmp(l1, "SUSE Linux Enterprise ", 22) ||
                        !strncmp(l1, "SUSE LINUX Enterprise ", 22) ||
                        !strncmp(l1, "Novell Linux Desktop ", 21)) {
                        set_str(&c->os.distro, "sles");
                        if (l2 && sscanf(l2, "VERSION = %u", &a) == 1) {
                            c->os.major = (int)(a & 0x7fffffff);
                            c->os.minor = 0;
                            c->have_version = 1;
                            if (l3 && sscanf(l3, "PATCHLEVEL = %u", &a) == 1)
                                c->os.minor = (int)(a & 0x7fffffff);
                        }
                    } else if (!strncmp(l1, "openSUSE ", 9) || !strncmp(l1, "SuSE Linux ", 11) ||
                               !strncmp(l1, "SUSE LINUX ", 11)) {
                        if (l2)
                            parse_version(c, l2);
                        set_str(&c->os.distro, "opensuse");
                    }
                }
                free(buf);
            }
        } else if (t->kind == RF_BR) {
            ok = parse_generic(c, t->path,
                               insp_is_file(v, "/usr/share/cirros/logo") ? "cirros" : "buildroot",
                               NULL, RF_GENERIC);
        } else if (t->kind == RF_CONTAINS) {
            /* "Frugalware N.M", "N.M PLD Linux": version next to a word */
            ok = parse_generic(c, t->path, t->distro, NULL, RF_GENERIC);
            if (ok && c->os.product_name && !strstr(c->os.product_name, t->prefix))
                ok = 0;
        } else {
            ok = parse_generic(c, t->path, t->distro, t->prefix, t->kind);
        }
        if (ok)
            return;
    }
}

/* ------------------------------------------------------------------ */
/* Architecture from an ELF header                                     */

const char *gk_elf_arch(const unsigned char *h, size_t n)
{
    if (n < 20 || memcmp(h, "\177ELF", 4) != 0)
        return NULL;
    int cls = h[4], le = h[5] == 1;
    if ((cls != 1 && cls != 2) || (h[5] != 1 && h[5] != 2))
        return NULL;
    unsigned m = le ? gk_le16(h + 18) : gk_be16(h + 18);
    int b64 = cls == 2;
    switch (m) {
    case 3: case 6: return "i386";              /* EM_386, EM_486 */
    case 62: return "x86_64";
    case 183: return "aarch64";
    case 40: return "arm";                      /* libguestfs' name for 32-bit ARM */
    case 20: return "ppc";
    case 21: return le ? "ppc64le" : "ppc64";
    case 22: return b64 ? "s390x" : "s390";
    case 243: return b64 ? "riscv64" : "riscv32";
    case 2: case 18: return "sparc";
    case 43: return "sparc64";
    case 50: return "ia64";
    case 8: return b64 ? "mips64" : "mips";
    case 258: return "loongarch64";
    default: return NULL;
    }
}

static void check_arch(cand *c)
{
    /* libguestfs' list, then the usr-merged locations; links followed
     * inside the guest. */
    static const char *const bins[] = {
        "/bin/bash", "/bin/ls", "/bin/echo", "/bin/rm", "/bin/sh",
        "/usr/bin/bash", "/usr/bin/ls", "/usr/bin/sh",
    };
    for (size_t i = 0; i < sizeof bins / sizeof bins[0]; i++) {
        gk_node n;
        gk_stat st;
        unsigned char h[64];
        if (gk_vfs_resolve(c->v, bins[i], 1, &n) < 0 || gk_node_stat(&n, &st) < 0 ||
            !S_ISREG(st.mode))
            continue;
        ssize_t r = gk_node_read(&n, h, sizeof h, 0);
        const char *a = r > 0 ? gk_elf_arch(h, (size_t)r) : NULL;
        if (a) {
            set_str(&c->os.arch, a);
            return;
        }
        gk_debug("inspect: %s: not an ELF binary we know", bins[i]);
    }
}

/* ------------------------------------------------------------------ */
/* Hostname                                                            */

static int hostname_from_file(cand *c, const char *path)
{
    char *buf;
    size_t len;
    if (insp_read(c->v, path, INSP_SMALL_MAX, &buf, &len) != 0)
        return 0;
    char *cur = buf, *line;
    int found = 0;
    while ((line = insp_next_line(&cur, NULL)))
        if (*line && *line != '#') {
            set_str(&c->os.hostname, line);
            found = 1;
            break;
        }
    free(buf);
    return found;
}

static void hostname_kv(cand *c, const char *key, char *val, void *ud)
{
    (void)ud;
    if (strcmp(key, "HOSTNAME") == 0 && *val)
        set_str(&c->os.hostname, val);
}

static void check_hostname(cand *c)
{
    if (hostname_from_file(c, "/etc/HOSTNAME") || hostname_from_file(c, "/etc/hostname"))
        return;
    char *buf;
    size_t len;
    if (insp_read(c->v, "/etc/sysconfig/network", INSP_SMALL_MAX, &buf, &len) == 0) {
        parse_kv(c, buf, 1, hostname_kv, NULL);
        free(buf);
    }
}

/* ------------------------------------------------------------------ */
/* Package format / manager, osinfo (inspect_fs.ml, inspect-osinfo.c)   */

static int in_list(const char *s, const char *const *l)
{
    for (; *l; l++)
        if (strcmp(s, *l) == 0)
            return 1;
    return 0;
}

static void check_packages(cand *c, gk_vfs *usr)
{
    const char *d = c->os.distro;
    free(c->os.package_format);
    free(c->os.package_management);
    c->os.package_format = c->os.package_management = NULL;
    if (!d)
        return;
    /* circle, openeuler, opencloudos and tencentos: the RHEL family in
     * newer libguestfs */
    static const char *const rpm[] = {"altlinux", "centos", "rocky", "fedora", "mageia",
        "mandriva", "meego", "neokylin", "openmandriva", "opensuse", "oraclelinux",
        "redhat-based", "rhel", "scientificlinux", "sles", "suse-based",
        "circle", "openeuler", "opencloudos", "tencentos", NULL};
    static const char *const deb[] = {"debian", "kalilinux", "kylin", "linuxmint", "ubuntu", NULL};
    static const char *const rhel[] = {"centos", "rocky", "oraclelinux", "redhat-based",
        "rhel", "scientificlinux", "circle", "openeuler", "opencloudos", "tencentos", NULL};
    const char *fmt = in_list(d, rpm) ? "rpm" : in_list(d, deb) ? "deb" :
        !strcmp(d, "archlinux") ? "pacman" : !strcmp(d, "gentoo") ? "ebuild" :
        !strcmp(d, "pardus") ? "pisi" : !strcmp(d, "alpinelinux") ? "apk" :
        !strcmp(d, "voidlinux") ? "xbps" : NULL;
    const char *mgr = NULL;
    int major = c->os.major;
    if (!strcmp(d, "meego"))
        mgr = "yum";
    else if (!strcmp(d, "fedora")) {
        int dnf = insp_is_file(c->v, "/usr/bin/dnf") || (usr && insp_is_file(usr, "/bin/dnf"));
        mgr = major >= 22 && dnf ? "dnf" : major >= 1 ? "yum" : NULL;
    } else if (!strcmp(d, "neokylin") || !strcmp(d, "openmandriva"))
        mgr = "dnf";
    else if (in_list(d, rhel))
        mgr = major >= 8 ? "dnf" : major >= 5 ? "yum" : major >= 2 ? "up2date" : NULL;
    else if (!strcmp(d, "altlinux") || in_list(d, deb))
        mgr = "apt";
    else if (!strcmp(d, "archlinux"))
        mgr = "pacman";
    else if (!strcmp(d, "gentoo"))
        mgr = "portage";
    else if (!strcmp(d, "pardus"))
        mgr = "pisi";
    else if (!strcmp(d, "mageia") || !strcmp(d, "mandriva"))
        mgr = "urpmi";
    else if (!strcmp(d, "opensuse") || !strcmp(d, "sles") || !strcmp(d, "suse-based"))
        mgr = "zypper";
    else if (!strcmp(d, "alpinelinux"))
        mgr = "apk";
    else if (!strcmp(d, "voidlinux"))
        mgr = "xbps";
    set_str(&c->os.package_format, fmt);
    set_str(&c->os.package_management, mgr);
}

static char *osinfo(const gk_os *os)
{
    if (os->type && strcmp(os->type, "windows") == 0)
        return insp_windows_osinfo(os);
    const char *d = os->distro;
    int ma = os->major, mi = os->minor;
    if (!d)
        return NULL;
    if (!strcmp(d, "centos")) {
        if (ma >= 8) return gk_asprintf("%s%d", d, ma);
        if (ma == 7) return gk_asprintf("%s%d.0", d, ma);
        if (ma == 6) return gk_asprintf("%s%d.%d", d, ma, mi);
    } else if (!strcmp(d, "circle") || !strcmp(d, "rocky")) {
        if (ma >= 8) return gk_asprintf("%s%d", d, ma);
    } else if (!strcmp(d, "debian")) {
        if (ma >= 4) return gk_asprintf("%s%d", d, ma);
    } else if (!strcmp(d, "fedora") || !strcmp(d, "mageia")) {
        return gk_asprintf("%s%d", d, ma);
    } else if (!strcmp(d, "sles")) {
        return mi == 0 ? gk_asprintf("%s%d", d, ma) : gk_asprintf("%s%dsp%d", d, ma, mi);
    } else if (!strcmp(d, "ubuntu")) {
        return gk_asprintf("%s%d.%02d", d, ma, mi);
    } else if (!strcmp(d, "archlinux") || !strcmp(d, "gentoo") || !strcmp(d, "voidlinux")) {
        return gk_strdup(d);
    } else if (!strcmp(d, "altlinux")) {
        return ma >= 8 ? gk_asprintf("alt%d.%d", ma, mi) : gk_asprintf("%s%d.%d", d, ma, mi);
    }
    if (ma > 0 || mi > 0)
        return gk_asprintf("%s%d.%d", d, ma, mi);
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Classification (inspect_fs.ml check_filesystem)                      */

static void matched(const cand *c, const char *what)
{
    gk_debug("inspect: %s: %s", c->os.root, what);
}

static void classify(gk_guest *g, cand *c)
{
    gk_vfs *v = c->v;
    if (insp_is_file(v, "/grub/menu.lst") || insp_is_file(v, "/grub/grub.conf") ||
        insp_is_file(v, "/grub2/grub.cfg")) {
        matched(c, "Grub /boot");
        return;
    }
    /* Linux root.  libguestfs wants /bin a directory or a link to usr/bin
     * and /etc/fstab or /etc/hosts; we also take any /bin link that leads
     * to a directory (or /usr/bin) and an os-release, so that minimal
     * usr-merged images count. */
    int bin = insp_is_dir(v, "/bin") || insp_is_dir(v, "/usr/bin");
    if (!bin && is_symlink(v, "/bin")) {
        gk_stat st;
        bin = gk_vfs_stat(v, "/bin", &st) == 0 && S_ISDIR(st.mode);
        if (!bin) {
            char t[16];
            ssize_t n = gk_vfs_readlink(v, "/bin", t, sizeof t);
            bin = n == 7 && memcmp(t, "usr/bin", 7) == 0;
        }
    }
    if (insp_is_dir(v, "/etc") && bin &&
        (insp_is_file(v, "/etc/fstab") || insp_is_file(v, "/etc/hosts") ||
         insp_is_file(v, "/etc/os-release") || insp_is_file(v, "/usr/lib/os-release"))) {
        matched(c, "Linux root");
        c->role = ROLE_ROOT;
        set_str(&c->os.type, "linux");
        if (!c->light || c->btrfs)  /* a btrfs snapshot is told apart by them */
            check_release_files(c);
        if (!c->light)
            check_arch(c);
        insp_fstab(g, v, &c->os);
        if (!c->light)
            check_hostname(c);
        return;
    }
    /* CoreOS root: only the hostname is here; the OS (os-release, the
     * binaries) is on a /usr partition, merged in gk_inspect_os. */
    if (insp_is_dir(v, "/etc") && insp_is_dir(v, "/root") && insp_is_dir(v, "/home") &&
        insp_is_dir(v, "/usr") && insp_is_file(v, "/etc/coreos/update.conf")) {
        matched(c, "CoreOS root");
        c->role = ROLE_ROOT;
        c->coreos = 1;
        set_str(&c->os.type, "linux");
        set_str(&c->os.distro, "coreos");
        if (!c->light)
            check_hostname(c);
        insp_add(g, &c->os, "/", c->os.root, 1);   /* no fstab */
        return;
    }
    if (insp_is_dir(v, "/etc") && insp_is_dir(v, "/bin") && insp_is_dir(v, "/share") &&
        !insp_is_dir(v, "/local") && !insp_is_file(v, "/etc/fstab")) {
        matched(c, "Linux /usr/local");
        return;
    }
    if (insp_is_dir(v, "/bin") && insp_is_dir(v, "/local") && insp_is_dir(v, "/share") &&
        insp_is_dir(v, "/src") && !insp_is_file(v, "/etc/fstab")) {
        matched(c, "Linux /usr");
        c->role = ROLE_USR;
        set_str(&c->os.type, "linux");
        if (c->light)
            return;
        if (insp_is_file(v, "/lib/os-release"))
            parse_os_release(c, "/lib/os-release");
        check_arch(c);
        return;
    }
    if (insp_is_dir(v, "/bin") && insp_is_dir(v, "/share") && insp_is_dir(v, "/local") &&
        insp_is_dir(v, "/share/coreos")) {
        matched(c, "CoreOS /usr");
        c->role = ROLE_USR;
        c->coreos = 1;
        set_str(&c->os.type, "linux");
        set_str(&c->os.distro, "coreos");
        if (insp_is_file(v, "/lib/os-release"))
            parse_os_release(c, "/lib/os-release");
        else if (insp_is_file(v, "/share/coreos/lsb-release"))
            parse_lsb_release(c, "/share/coreos/lsb-release");
        if (!c->light)
            check_arch(c);
        return;
    }
    if (insp_windows_root(g, v, &c->os)) {
        matched(c, "Windows root");
        c->role = ROLE_ROOT;
        return;
    }
    matched(c, "nothing (not a root, not a /usr)");
}

static void os_clear(gk_os *os)
{
    free(os->root); free(os->type); free(os->distro); free(os->product_name);
    free(os->product_variant); free(os->arch); free(os->hostname);
    free(os->package_format); free(os->package_management); free(os->osinfo);
    free(os->build_id);
    for (int i = 0; i < os->nmps; i++) {
        free(os->mps[i].mountpoint);
        free(os->mps[i].dev);
    }
    free(os->mps);
    for (int i = 0; i < os->nfss; i++) {
        free(os->fss[i].dev); free(os->fss[i].type);
        free(os->fss[i].label); free(os->fss[i].uuid);
    }
    free(os->fss);
    for (int i = 0; i < os->napps; i++)
        gk_app_clear(&os->apps[i]);
    free(os->apps);
    insp_windows_clear(os);
    memset(os, 0, sizeof *os);
}

void gk_inspect_free(gk_guest *g)
{
    for (int i = 0; i < g->noses; i++)
        os_clear(&g->oses[i]);
    free(g->oses);
    g->oses = NULL;
    g->noses = 0;
    g->inspected = 0;
}

/* Does the root's fstab name this device (for a separate /usr)? */
static int fstab_names(const gk_os *os, const char *dev)
{
    for (int i = 0; i < os->nmps; i++)
        if (os->mps[i].dev && strcmp(os->mps[i].dev, dev) == 0)
            return 1;
    return 0;
}

#define FILL(f) do { if (!r->os.f && u->os.f) r->os.f = gk_strdup(u->os.f); } while (0)

/* CoreOS (libguestfs' collect_coreos_inspection_info): the root has no
 * fstab; the /usr partition with the highest version (USR-A or USR-B,
 * one of them possibly empty) fills what the root cannot tell and is
 * mounted on /usr.  Several CoreOS roots cannot be told apart: refused. */
static int merge_coreos(gk_guest *g, cand *cs, int nc)
{
    cand *r = NULL, *u = NULL;
    for (int i = 0; i < nc; i++) {
        cand *c = &cs[i];
        if (!c->coreos)
            continue;
        if (c->role == ROLE_ROOT) {
            if (r) {
                gk_error("multiple CoreOS root filesystems found (%s, %s)", r->os.root, c->os.root);
                return -1;
            }
            r = c;
        } else if (c->role == ROLE_USR) {
            /* the higher version wins; on a tie the later device, as
             * libguestfs' stable sort of its reversed list does */
            int ma = c->have_version ? c->os.major : 0, mi = c->have_version ? c->os.minor : 0;
            int ua = u && u->have_version ? u->os.major : 0, ui = u && u->have_version ? u->os.minor : 0;
            if (!u || ma > ua || (ma == ua && mi >= ui))
                u = c;
        }
    }
    if (!r || !u)
        return 0;
    gk_debug("inspect: CoreOS: %s is /usr of %s", u->os.root, r->os.root);
    FILL(distro); FILL(product_name); FILL(product_variant); FILL(arch); FILL(hostname);
    FILL(build_id); FILL(package_format); FILL(package_management);
    if (!r->have_version && u->have_version) {
        r->os.major = u->os.major;
        r->os.minor = u->os.minor;
        r->have_version = 1;
    }
    insp_add(g, &r->os, "/usr", u->os.root, 1);
    return 0;
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Snapshots (btrfs subvolumes) of a root that is also found on the whole
 * btrfs device are not roots of their own: libguestfs drops a subvolume
 * root whose type, distro, product name and version equal such a root's. */
static void drop_btrfs_snapshots(cand *cs, int *nc)
{
    int w = 0;
    for (int i = 0; i < *nc; i++) {
        cand *c = &cs[i];
        int drop = 0;
        for (int j = 0; j < *nc && !drop && c->role == ROLE_ROOT &&
                        !strncmp(c->os.root, "btrfsvol:", 9); j++) {
            const cand *r = &cs[j];
            drop = r->role == ROLE_ROOT && strncmp(r->os.root, "btrfsvol:", 9) != 0 &&
                   same_str(r->os.type, c->os.type) && same_str(r->os.distro, c->os.distro) &&
                   same_str(r->os.product_name, c->os.product_name) &&
                   r->os.major == c->os.major && r->os.minor == c->os.minor;
        }
        if (drop) {
            gk_debug("inspect: %s: a snapshot of a btrfs root, not a root of its own", c->os.root);
            os_clear(&c->os);
            gk_vfs_free(c->v);
            continue;
        }
        cs[w++] = *c;
    }
    *nc = w;
}

/* A program that mounts what inspection found gets the filesystems it
 * opened (gk_guest_keep_fs): the mounts then open nothing again. */
static void keep_fs(gk_guest *g, cand *c)
{
    if (!c->light || g->readwrite || !c->v || !c->os.root || !strncmp(c->os.root, "btrfsvol:", 9))
        return;
    gk_guest_keep_fs(g, c->os.root, gk_vfs_detach(c->v, "/"));
}

int gk_inspect_os(gk_guest *g)
{
    if (!g->launched) {
        gk_error("inspection needs a launched guest");
        return -1;
    }
    int light = g->inspect_for_mount && !gk_trace; /* -x names each root's distro */
    if (g->inspected == 2 || (g->inspected == 1 && light))
        return 0;
    if (g->inspected)
        gk_inspect_free(g); /* what mounting needed; now all of it */
    gk_devset *s = g->devs;
    size_t cap = (size_t)s->nents + 1;
    cand *cs = gk_calloc(cap, sizeof *cs);
    int nc = 0;
    for (int i = 0; i < s->nents; i++) {
        gk_devent *e = &s->ents[i];
        /* a disk with partitions and an LVM PV hold no filesystem of
         * their own, as libguestfs' list_filesystems has it: not probed
         * (a probe reads the device's ends, decompressing what they are
         * in, to find what is known already) */
        if (gk_devent_holds_no_fs(e))
            continue;
        const char *t = gk_devent_probe(e)->type;
        if (!e->dev || !t || !gk_fs_supported(t))
            continue;
        /* the other devices of a multi-device btrfs are the same filesystem */
        int seen = 0;
        for (int j = 0; j < i && !seen && strcmp(t, "btrfs") == 0; j++) {
            const gk_probe *pj = gk_devent_probe(&s->ents[j]), *pe = gk_devent_probe(e);
            seen = s->ents[j].dev && pj->type && pe->uuid && strcmp(pj->type, t) == 0 && pj->uuid &&
                   strcmp(pj->uuid, pe->uuid) == 0;
        }
        if (seen)
            continue;
        /* the filesystem, then each btrfs subvolume but the default one
         * (libguestfs' list_filesystems): "btrfsvol:/dev/sda2/root" */
        int nsub;
        char **sub = gk_devset_subvolumes(s, e, &nsub);
        for (int k = -1; k < nsub; k++) {
            const char *name = k < 0 ? e->name : sub[k];
            gk_fs *fs = gk_guest_fs_open(g, name, NULL, NULL, 0, NULL);
            if (!fs) {
                gk_warn("inspection: %s: %s (skipped)", name, gk_errmsg());
                continue;
            }
            gk_vfs *v = gk_vfs_new();
            if (gk_vfs_mount(v, fs, "/", name) < 0) {
                gk_warn("inspection: %s: %s (skipped)", name, gk_errmsg());
                gk_fs_close(fs);
                gk_vfs_free(v);
                continue;
            }
            if ((size_t)nc + 1 >= cap) {
                cap *= 2;
                cs = gk_realloc(cs, cap * sizeof *cs);
            }
            cand *c = &cs[nc++];
            memset(c, 0, sizeof *c);
            c->ent = i;
            c->v = v;
            c->light = light;
            c->btrfs = strcmp(t, "btrfs") == 0;
            c->os.root = gk_strdup(name);
            gk_debug("inspect: checking %s (%s)", name, t);
            classify(g, c);
            if (c->role == ROLE_OTHER) {
                keep_fs(g, c);
                gk_vfs_free(v);
                c->v = NULL;
                os_clear(&c->os);
                nc--;
            }
        }
        gk_names_free(sub, nsub);
    }
    drop_btrfs_snapshots(cs, &nc);

    if (merge_coreos(g, cs, nc) < 0) {
        for (int i = 0; i < nc; i++) {
            os_clear(&cs[i].os);
            gk_vfs_free(cs[i].v);
        }
        free(cs);
        return -1;
    }

    /* A separate /usr is merged into the root whose fstab names it; it
     * fills what the root could not tell (a usr-merged root whose
     * os-release link points into /usr). */
    for (int i = 0; i < nc; i++) {
        cand *r = &cs[i];
        if (r->role != ROLE_ROOT)
            continue;
        gk_vfs *usrv = NULL;
        for (int j = 0; j < nc; j++) {
            cand *u = &cs[j];
            if (u->role != ROLE_USR || !fstab_names(&r->os, u->os.root))
                continue;
            usrv = u->v;
            FILL(distro); FILL(product_name); FILL(arch); FILL(build_id);
            if (!r->have_version && u->have_version) {
                r->os.major = u->os.major;
                r->os.minor = u->os.minor;
                r->have_version = 1;
            }
        }
        if (!light) {
            check_packages(r, usrv);
            r->os.osinfo = osinfo(&r->os);
        }
    }

    g->oses = NULL;
    g->noses = 0;
    for (int i = 0; i < nc; i++) {
        cand *c = &cs[i];
        keep_fs(g, c); /* before os_clear: it needs the root's name */
        if (c->role == ROLE_ROOT) {
            g->oses = gk_realloc(g->oses, (size_t)(g->noses + 1) * sizeof *g->oses);
            gk_os *os = &g->oses[g->noses++];
            *os = c->os;
            /* no fstab at all (or nothing usable): / is the root itself */
            if (os->nmps == 0 && os->nfss == 0)
                insp_add(g, os, "/", os->root, 1);
        } else {
            os_clear(&c->os);
        }
        gk_vfs_free(c->v);
    }
    free(cs);
    g->inspected = light ? 1 : 2;
    return 0;
}
