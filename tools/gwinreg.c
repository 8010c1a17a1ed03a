/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gwinreg: export Windows Registry keys and values of a Windows guest, as
 * virt-win-reg does (its key names, hive files and .reg output, the
 * output of Win::Hivex::Regedit's reg_export; single values as hivexget
 * prints them).  Read-only: --merge is refused. */
#include <errno.h>
#include <hivex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"

enum { OPT_MERGE = 0x2000, OPT_ENCODING, OPT_UNSAFE_PRINT, OPT_DEBUG, OPT_CONNECT };

/* Registry keys nest at most 512 deep on Windows; a hive claiming more
 * (or looping) is corrupt. */
#define MAX_DEPTH 512

struct opts {
    int unsafe_print;
};

static void usage(FILE *f)
{
    fprintf(f,
        "gwinreg: export Windows Registry entries from a Windows guest (like virt-win-reg)\n"
        "Usage:\n"
        "  gwinreg [--options] -a disk.img [-a disk.img ...] 'HKLM\\Path\\To\\Subkey'\n"
        "  gwinreg [--options] -a disk.img 'HKLM\\Path\\To\\Subkey' name\n"
        "  gwinreg [--options] -a disk.img 'HKLM\\Path\\To\\Subkey' @\n"
        "  gwinreg [--options] disk.img 'HKLM\\Path\\To\\Subkey' [name]\n"
        "Keys: HKLM\\SAM, HKLM\\SECURITY, HKLM\\SOFTWARE, HKLM\\SYSTEM, HKU\\.DEFAULT,\n"
        "HKU\\S-1-5-..., HKU\\LocalSystem, HKU\\LocalService, HKU\\NetworkService,\n"
        "HKU\\username (HKEY_LOCAL_MACHINE and HKEY_USERS may be written out).\n"
        "Options:\n"
        "  -a|--add image       Add image\n"
        "  --format[=raw|..]    Force disk format for the following -a options\n"
        "  --unsafe-printable-strings\n"
        "                       Print REG_SZ / REG_EXPAND_SZ as UTF-8 strings\n"
        "  --merge              (not supported: gwinreg is read-only)\n"
        "  -d|--debug, -v       Debug messages\n"
        "  -V|--version         Display version and exit\n"
        "  --help               Display brief help\n"
        "For more information, see the manpage gwinreg(1).\n");
}

static int handler(int opt, const char *arg, void *ud)
{
    (void)arg;
    struct opts *o = ud;
    switch (opt) {
    case OPT_UNSAFE_PRINT: o->unsafe_print = 1; return 0;
    case 'd': case OPT_DEBUG: gk_verbose = 1; return 0;
    case OPT_MERGE:
        gk_die("--merge: writing the registry is not supported (gwinreg is read-only)");
    case OPT_ENCODING:
        return 0;                        /* only used by --merge */
    case 'c': case OPT_CONNECT:
        gk_die("-c/--connect: libvirt guests are not supported; give the disk images with -a");
    default:
        return -1;
    }
}

/* ------------------------------------------------------------------ */
/* Which hive, which path inside it (virt-win-reg's map_path_to_hive)   */

struct target {
    char *hivefile;            /* guest path, before case correction         */
    char *prefix;              /* printed before each key path              */
    char *path;                /* inside the hive, "\\" for its root         */
};

/* Does key start with "HKEY_LOCAL_MACHINE\\" or "HKLM\\" (root "HKLM" or
 * "HKU" style, ignoring case, an optional leading backslash)?  The rest. */
static const char *after_root(const char *key, const char *longname, const char *shortname)
{
    if (*key == '\\')
        key++;
    size_t l = strlen(longname), s = strlen(shortname);
    if (!strncasecmp(key, longname, l) && key[l] == '\\')
        return key + l + 1;
    if (!strncasecmp(key, shortname, s) && key[s] == '\\')
        return key + s + 1;
    return NULL;
}

/* rest is "NAME" or "NAME\\sub\\path": 1 if NAME matches ignoring case;
 * *sub then "\\sub\\path" or "\\". */
static int first_is(const char *rest, const char *name, const char **sub)
{
    size_t l = strlen(name);
    if (strncasecmp(rest, name, l) != 0 || (rest[l] && rest[l] != '\\'))
        return 0;
    *sub = rest[l] ? rest + l : "\\";
    return 1;
}

static char *hive_get_string(gk_vfs *v, const char *file, const char *path, const char *name);

/* ProfileImagePath of a user SID, as a guest path (virt-win-reg's
 * lookup_pip_of_user_sid). */
static char *profile_dir(gk_vfs *v, const char *systemroot, const char *sid)
{
    char *hive = gk_asprintf("%s/system32/config/software", systemroot);
    char *key = gk_asprintf("\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\%s", sid);
    char *pip = hive_get_string(v, hive, key, "ProfileImagePath");
    free(hive);
    free(key);
    if (!pip)
        return NULL;
    /* %systemroot% (any case) -> systemroot, %systemdrive% and C: dropped,
     * backslashes to slashes */
    char *out = gk_calloc(1, strlen(pip) + strlen(systemroot) + 1), *w = out;
    for (const char *p = pip; *p;) {
        if (!strncasecmp(p, "%systemroot%", 12)) {
            w = stpcpy(w, systemroot);
            p += 12;
        } else if (!strncasecmp(p, "%systemdrive%", 13)) {
            p += 13;
        } else if (p == pip && !strncasecmp(p, "c:", 2)) {
            p += 2;
        } else {
            *w++ = *p == '\\' ? '/' : *p;
            p++;
        }
    }
    free(pip);
    return out;
}

static int is_dir_nocase(gk_vfs *v, const char *path)
{
    char *p = gk_vfs_case_sensitive_path(v, path);
    gk_stat st;
    int r = p && gk_vfs_stat(v, p, &st) == 0 && (st.mode & 0170000) == 0040000;
    free(p);
    return r;
}

static void map_key(gk_vfs *v, const char *systemroot, const char *key, struct target *t)
{
    const char *rest, *sub;
    memset(t, 0, sizeof *t);
    if ((rest = after_root(key, "HKEY_LOCAL_MACHINE", "HKLM"))) {
        static const char *const hives[][2] = {
            {"SAM", "sam"}, {"SECURITY", "security"}, {"SOFTWARE", "software"}, {"SYSTEM", "system"},
        };
        for (size_t i = 0; i < sizeof hives / sizeof hives[0]; i++)
            if (first_is(rest, hives[i][0], &sub)) {
                t->hivefile = gk_asprintf("%s/system32/config/%s", systemroot, hives[i][1]);
                t->prefix = gk_asprintf("HKEY_LOCAL_MACHINE\\%s", hives[i][0]);
                t->path = gk_strdup(sub);
                return;
            }
    } else if ((rest = after_root(key, "HKEY_USERS", "HKU"))) {
        if (first_is(rest, ".DEFAULT", &sub)) {
            t->hivefile = gk_asprintf("%s/system32/config/default", systemroot);
            /* sic: virt-win-reg prints HKEY_LOCAL_MACHINE here */
            t->prefix = gk_strdup("HKEY_LOCAL_MACHINE\\.DEFAULT");
            t->path = gk_strdup(sub);
            return;
        }
        size_t n = strcspn(rest, "\\");
        char *user = gk_strndup(rest, n);
        sub = rest[n] ? rest + n : "\\";
        const char *sid = NULL;
        if (!strncasecmp(user, "S-1-5-", 6) && user[6] && strspn(user + 6, "-0123456789") == strlen(user + 6))
            sid = user;
        else if (!strcasecmp(user, "LocalSystem"))
            sid = "S-1-5-18";
        else if (!strcasecmp(user, "LocalService"))
            sid = "S-1-5-19";
        else if (!strcasecmp(user, "NetworkService"))
            sid = "S-1-5-20";
        if (sid) {
            char *dir = profile_dir(v, systemroot, sid);
            if (!dir)
                gk_die("%s: %s", key, gk_errmsg());
            t->hivefile = gk_asprintf("%s/ntuser.dat", dir);
            t->prefix = gk_asprintf("HKEY_USERS\\%s", sid);
            free(dir);
        } else {
            char *u = gk_asprintf("/Users/%s", user), *d = gk_asprintf("/Documents and Settings/%s", user);
            if (is_dir_nocase(v, u))
                t->hivefile = gk_asprintf("%s/ntuser.dat", u);
            else if (is_dir_nocase(v, d))
                t->hivefile = gk_asprintf("%s/ntuser.dat", d);
            else
                gk_die("%s: cannot find user directory", user);
            free(u);
            free(d);
            t->prefix = gk_asprintf("HKEY_USERS\\%s", user);
        }
        t->path = gk_strdup(sub);
        free(user);
        return;
    }
    gk_die("%s: not a supported Windows Registry path", key);
}

/* The hive at guest path file (matched ignoring case), opened as
 * virt-win-reg opens it (hivex's unsafe mode). */
static hive_h *open_hive(gk_vfs *v, const char *file)
{
    char *p = gk_vfs_case_sensitive_path(v, file);
    if (!p) {
        gk_error_prefix("%s: could not open registry file", file);
        return NULL;
    }
    hive_h *h = gk_hive_open(v, p, HIVEX_OPEN_UNSAFE | (gk_verbose ? HIVEX_OPEN_VERBOSE : 0));
    free(p);
    return h;
}

/* The node at a "\\a\\b" path (names compared ignoring case), or 0. */
static hive_node_h lookup(hive_h *h, const char *path)
{
    hive_node_h n = hivex_root(h);
    char *copy = gk_strdup(path), *save = NULL;
    int depth = 0;
    for (char *el = strtok_r(copy, "\\", &save); n && el; el = strtok_r(NULL, "\\", &save)) {
        if (++depth > MAX_DEPTH)
            n = 0;
        else
            n = hivex_node_get_child(h, n, el);
    }
    free(copy);
    return n;
}

static char *hive_get_string(gk_vfs *v, const char *file, const char *path, const char *name)
{
    hive_h *h = open_hive(v, file);
    if (!h)
        return NULL;
    hive_node_h n = lookup(h, path);
    hive_value_h val = n ? hivex_node_get_value(h, n, name) : 0;
    char *s = val ? hivex_value_string(h, val) : NULL;
    if (!s)
        gk_error("%s: %s\\%s: not found", file, path, name);
    hivex_close(h);
    return s;
}

/* ------------------------------------------------------------------ */
/* .reg output (Win::Hivex::Regedit's reg_export)                       */

/* UTF-16LE bytes to UTF-8 (U+FFFD for what does not decode). */
static char *utf16le_to_utf8(const unsigned char *b, size_t len, size_t *outlen)
{
    char *out = gk_malloc(len / 2 * 3 + 4), *w = out;
    size_t i = 0;
    while (i + 1 < len) {
        uint32_t c = (uint32_t)b[i] | (uint32_t)b[i + 1] << 8;
        i += 2;
        if (c >= 0xd800 && c <= 0xdbff && i + 1 < len) {
            uint32_t d = (uint32_t)b[i] | (uint32_t)b[i + 1] << 8;
            if (d >= 0xdc00 && d <= 0xdfff) {
                c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
                i += 2;
            } else {
                c = 0xfffd;
            }
        } else if (c >= 0xd800 && c <= 0xdfff) {
            c = 0xfffd;
        }
        if (c < 0x80) {
            *w++ = (char)c;
        } else if (c < 0x800) {
            *w++ = (char)(0xc0 | c >> 6);
            *w++ = (char)(0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            *w++ = (char)(0xe0 | c >> 12);
            *w++ = (char)(0x80 | ((c >> 6) & 0x3f));
            *w++ = (char)(0x80 | (c & 0x3f));
        } else {
            *w++ = (char)(0xf0 | c >> 18);
            *w++ = (char)(0x80 | ((c >> 12) & 0x3f));
            *w++ = (char)(0x80 | ((c >> 6) & 0x3f));
            *w++ = (char)(0x80 | (c & 0x3f));
        }
    }
    if (i < len)                          /* an odd last byte */
        w = stpcpy(w, "\xef\xbf\xbd");
    *outlen = (size_t)(w - out);
    return out;
}

struct val { char *key; hive_type t; char *data; size_t len; };

static int cmp_val(const void *a, const void *b)
{
    return strcmp(((const struct val *)a)->key, ((const struct val *)b)->key);
}

struct kid { char *name; hive_node_h node; };

static int cmp_kid(const void *a, const void *b)
{
    return strcmp(((const struct kid *)a)->name, ((const struct kid *)b)->name);
}

static void put_escaped(const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            putchar('\\');
        putchar(*s);
    }
}

static void print_value(const struct val *v, int unsafe_print)
{
    if (!*v->key) {
        fputs("@=", stdout);
    } else {
        putchar('"');
        put_escaped(v->key);
        fputs("\"=", stdout);
    }
    if (v->t == hive_t_REG_DWORD && v->len == 4) {
        printf("dword:%08x\n", gk_le32(v->data));
    } else if (unsafe_print && (v->t == hive_t_REG_SZ || v->t == hive_t_REG_EXPAND_SZ)) {
        size_t n;
        char *s = utf16le_to_utf8((const unsigned char *)v->data, v->len, &n);
        if (n > 0 && s[n - 1] == 0)     /* one final zero codepoint */
            n--;
        printf("str(%x):\"", (unsigned)v->t);
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '"')
                putchar('\\');
            putchar(s[i]);
        }
        fputs("\"\n", stdout);
        free(s);
    } else {
        printf("hex(%x):", (unsigned)v->t);
        for (size_t i = 0; i < v->len; i++)
            printf("%s%02x", i ? "," : "", (unsigned char)v->data[i]);
        putchar('\n');
    }
}

/* A node visited twice is a loop in a corrupt hive. */
struct seen { hive_node_h *v; size_t n, cap; };

static int seen_add(struct seen *s, hive_node_h n)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == n)
            return -1;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = gk_realloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = n;
    return 0;
}

/* The stack of ancestors is what a loop would revisit: checked against
 * it (depth-bounded), each key printed once as reg_export does. */
static void export_node(hive_h *h, hive_node_h node, const char *prefix, const char *path,
                        int depth, struct seen *stack, int unsafe_print)
{
    if (depth > MAX_DEPTH)
        gk_die("%s%s: registry keys nested deeper than %d levels (corrupt hive)", prefix, path,
               MAX_DEPTH);
    if (seen_add(stack, node) < 0)
        gk_die("%s%s: a key that contains itself (corrupt hive)", prefix, path);
    printf("[%s%s]\n", prefix, path);
    hive_value_h *vals = hivex_node_values(h, node);
    if (!vals)
        gk_die("%s%s: values: %s", prefix, path, strerror(errno ? errno : EINVAL));
    size_t nv = 0;
    while (vals[nv])
        nv++;
    struct val *vv = gk_calloc(nv + 1, sizeof *vv);
    for (size_t i = 0; i < nv; i++) {
        vv[i].key = hivex_value_key(h, vals[i]);
        vv[i].data = hivex_value_value(h, vals[i], &vv[i].t, &vv[i].len);
        if (!vv[i].key || !vv[i].data)
            gk_die("%s%s: value: %s", prefix, path, strerror(errno ? errno : EINVAL));
    }
    free(vals);
    qsort(vv, nv, sizeof *vv, cmp_val);
    for (size_t i = 0; i < nv; i++) {
        print_value(&vv[i], unsafe_print);
        free(vv[i].key);
        free(vv[i].data);
    }
    free(vv);
    putchar('\n');
    hive_node_h *kids = hivex_node_children(h, node);
    if (!kids)
        gk_die("%s%s: subkeys: %s", prefix, path, strerror(errno ? errno : EINVAL));
    size_t nk = 0;
    while (kids[nk])
        nk++;
    struct kid *kk = gk_calloc(nk + 1, sizeof *kk);
    for (size_t i = 0; i < nk; i++) {
        kk[i].node = kids[i];
        kk[i].name = hivex_node_name(h, kids[i]);
        if (!kk[i].name)
            gk_die("%s%s: subkey name: %s", prefix, path, strerror(errno ? errno : EINVAL));
    }
    free(kids);
    qsort(kk, nk, sizeof *kk, cmp_kid);
    for (size_t i = 0; i < nk; i++) {
        char *sub = gk_asprintf("%s%s%s", path, strcmp(path, "\\") ? "\\" : "", kk[i].name);
        export_node(h, kk[i].node, prefix, sub, depth + 1, stack, unsafe_print);
        free(sub);
        free(kk[i].name);
    }
    free(kk);
    stack->n--;
}

/* The canonical path of the node a lookup reached: the names as the hive
 * spells them. */
static char *canonical(hive_h *h, const char *path)
{
    hive_node_h n = hivex_root(h);
    char *out = gk_strdup("\\"), *copy = gk_strdup(path), *save = NULL;
    for (char *el = strtok_r(copy, "\\", &save); n && el; el = strtok_r(NULL, "\\", &save)) {
        n = hivex_node_get_child(h, n, el);
        char *name = n ? hivex_node_name(h, n) : NULL;
        if (!name)
            break;
        char *o = gk_asprintf("%s%s%s", out, strcmp(out, "\\") ? "\\" : "", name);
        free(out);
        free(name);
        out = o;
    }
    free(copy);
    return out;
}

/* One value, as hivexget (hivexsh's lsval) prints it. */
static int print_one(hive_h *h, hive_node_h node, const char *name)
{
    hive_value_h v = hivex_node_get_value(h, node, !strcmp(name, "@") ? "" : name);
    if (!v)
        gk_die("%s: key not found", name);
    hive_type t;
    size_t len;
    if (hivex_value_type(h, v, &t, &len) < 0)
        gk_die("%s: %s", name, strerror(errno ? errno : EINVAL));
    switch (t) {
    case hive_t_REG_SZ: case hive_t_REG_EXPAND_SZ: case hive_t_REG_LINK: {
        char *s = hivex_value_string(h, v);
        if (!s)
            gk_die("%s: %s", name, strerror(errno ? errno : EINVAL));
        puts(s);
        free(s);
        break;
    }
    case hive_t_REG_DWORD: case hive_t_REG_DWORD_BIG_ENDIAN:
        printf("%d\n", (int)hivex_value_dword(h, v));
        break;
    case hive_t_REG_QWORD:
        printf("%lld\n", (long long)hivex_value_qword(h, v));
        break;
    case hive_t_REG_MULTI_SZ: {
        char **ss = hivex_value_multiple_strings(h, v);
        if (!ss)
            gk_die("%s: %s", name, strerror(errno ? errno : EINVAL));
        for (size_t i = 0; ss[i]; i++) {
            puts(ss[i]);
            free(ss[i]);
        }
        free(ss);
        break;
    }
    default: {
        char *d = hivex_value_value(h, v, &t, &len);
        if (!d)
            gk_die("%s: %s", name, strerror(errno ? errno : EINVAL));
        fwrite(d, 1, len, stdout);
        free(d);
    }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"merge", no_argument, 0, OPT_MERGE},
        {"encoding", required_argument, 0, OPT_ENCODING},
        {"unsafe-printable-strings", no_argument, 0, OPT_UNSAFE_PRINT},
        {"debug", no_argument, 0, OPT_DEBUG},
        {"connect", required_argument, 0, OPT_CONNECT},
        {0, 0, 0, 0},
    };
    struct opts o = {0};
    gk_cli c;
    gk_cli_parse(&c, "gwinreg", argc, argv, "dc:", longopts, handler, &o, usage);
    c.sb.needs |= GK_SB_NOTZ; /* prints no local time */
    /* -d is --debug here, as in virt-win-reg (not -d DOMAIN) */
    if (gk_cli_positional_image(&c) < 0)
        gk_die("no disk image given: use -a IMAGE (see --help)");
    if (c.nargs < 1 || c.nargs > 2)
        gk_die("expecting 1 or 2 more parameters, subkey path and optionally the value to export");
    if (c.nmounts > 0)
        gk_die("-m cannot be used: gwinreg inspects the guest");
    c.sb.needs |= GK_SB_HIVES;
    gk_guest *g = gk_cli_launch(&c);
    if (gk_inspect_os(g) < 0)
        gk_die_err();
    if (g->noses == 0)
        gk_die("No operating system could be detected inside this disk image.");
    if (g->noses > 1)
        gk_die("multiboot operating systems are not supported.");
    gk_os *os = &g->oses[0];
    if (!os->windows_systemroot)
        gk_die("%s: not a Windows guest (no systemroot)", os->root);
    if (gk_guest_mount_inspected(g) < 0)
        gk_die_err();
    struct target t;
    map_key(g->vfs, os->windows_systemroot, c.args[0], &t);
    gk_debug("%s: hive %s, path %s, prefix %s", c.args[0], t.hivefile, t.path, t.prefix);
    hive_h *h = open_hive(g->vfs, t.hivefile);
    if (!h)
        gk_die_err();
    hive_node_h node = lookup(h, t.path);
    if (!node)
        gk_die("%s: path not found in this hive", t.path);
    if (c.nargs == 2) {
        print_one(h, node, c.args[1]);
    } else {
        char *path = canonical(h, t.path);
        struct seen stack = {0};
        export_node(h, node, t.prefix, path, 0, &stack, o.unsafe_print);
        free(stack.v);
        free(path);
    }
    if (fflush(stdout) != 0 || ferror(stdout))
        gk_die("error writing standard output");
    hivex_close(h);
    free(t.hivefile);
    free(t.prefix);
    free(t.path);
    gk_guest_free(g);
    gk_cli_clear(&c);
    return 0;
}
