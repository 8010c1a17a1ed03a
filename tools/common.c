/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The shared virt-* option parser and guest setup for the tools and gfsh. */
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>
#include <wctype.h>

#include "common.h"

enum { OPT_FORMAT = 0x1000, OPT_RO, OPT_RW, OPT_HELP, OPT_UNTRUSTED, OPT_KEY, OPT_KEYS_STDIN,
       OPT_ECHO_KEYS, OPT_NO_SANDBOX, OPT_RBD_CONF };

static const struct option common_longopts[] = {
    {"add", required_argument, 0, 'a'},
    {"format", optional_argument, 0, OPT_FORMAT},
    {"mount", required_argument, 0, 'm'},
    {"inspector", no_argument, 0, 'i'},
    {"ro", no_argument, 0, OPT_RO},
    {"rw", no_argument, 0, OPT_RW},
    {"verbose", no_argument, 0, 'v'},
    {"version", no_argument, 0, 'V'},
    {"help", no_argument, 0, OPT_HELP},
    {"untrusted", no_argument, 0, OPT_UNTRUSTED},
    {"force-share", no_argument, 0, 'U'},
    {"key", required_argument, 0, OPT_KEY},
    {"keys-from-stdin", no_argument, 0, OPT_KEYS_STDIN},
    {"echo-keys", no_argument, 0, OPT_ECHO_KEYS},
    {"no-sandbox", no_argument, 0, OPT_NO_SANDBOX},
    {"rbd-conf", required_argument, 0, OPT_RBD_CONF},
};
#define NCOMMON (sizeof common_longopts / sizeof common_longopts[0])

int gk_term_is(FILE *out)
{
    static int locale_set;
    if (!out || !isatty(fileno(out)))
        return 0;
    /* what the terminal prints is the user's locale's business (UTF-8
     * names stay readable); only character classes are needed */
    if (!locale_set) {
        setlocale(LC_CTYPE, "");
        locale_set = 1;
    }
    return 1;
}

char *gk_term_str(FILE *out, const char *s)
{
    if (!gk_term_is(out))
        return gk_strdup(s);
    size_t n = strlen(s);
    char *r = gk_malloc(n * 4 + 1), *w = r;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    for (size_t i = 0; i < n;) {
        wchar_t wc;
        size_t k = mbrtowc(&wc, s + i, n - i, &st);
        if (k != (size_t)-1 && k != (size_t)-2 && k > 0 && wc != L'\\' && iswprint((wint_t)wc)) {
            memcpy(w, s + i, k);
            w += k;
            i += k;
            continue;
        }
        if (k == (size_t)-1 || k == (size_t)-2)
            memset(&st, 0, sizeof st);
        /* one byte, escaped (a whole non-printable character: each byte) */
        size_t len = k == (size_t)-1 || k == (size_t)-2 || k == 0 ? 1 : k;
        for (size_t j = 0; j < len; j++) {
            unsigned char c = (unsigned char)s[i + j];
            static const char named[] = "\a\b\t\n\v\f\r";
            const char *p = c ? strchr(named, (char)c) : NULL;
            if (c == '\\')
                w += sprintf(w, "\\\\");
            else if (p)
                w += sprintf(w, "\\%c", "abtnvfr"[p - named]);
            else
                w += sprintf(w, "\\%03o", c);
        }
        i += len;
    }
    *w = 0;
    return r;
}

void gk_term_puts(FILE *out, const char *s)
{
    if (!gk_term_is(out)) {
        fputs(s, out);
        return;
    }
    char *e = gk_term_str(out, s);
    fputs(e, out);
    free(e);
}

static void vsay(const char *fmt, va_list ap)
{
    fflush(stdout);
    /* messages quote guest names: no escape sequences on a terminal */
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    fprintf(stderr, "%s: ", gk_progname);
    if (msg)
        gk_term_puts(stderr, msg);
    fputc('\n', stderr);
    free(msg);
}

/* Library warnings quote guest names too: gk_warn_hook of every tool. */
static void warn_escaped(const char *msg)
{
    fprintf(stderr, "%s: warning: ", gk_progname);
    gk_term_puts(stderr, msg);
    fputc('\n', stderr);
}

void gk_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
}

static void __attribute__((noreturn)) vdie(int status, const char *fmt, va_list ap)
{
    vsay(fmt, ap);
    exit(status);
}

void gk_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdie(1, fmt, ap);
}

void gk_die_status(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdie(status, fmt, ap);
}

/* Guest strings made valid UTF-8 that XML 1.0 allows (no control characters but tab and newline, no U+FFFE/U+FFFF),
 * replacing anything else with U+FFFD, so that the report always parses.
 * Returns a malloc'd copy. */
char *gk_utf8_clean(const char *in)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t n = strlen(in);
    char *out = gk_malloc(n * 3 + 1), *w = out;
    static const char repl[] = "\xef\xbf\xbd";
    while (*p) {
        unsigned c = *p, len, cp;
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n')
                goto bad;
            *w++ = (char)*p++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
        else goto bad;
        for (unsigned i = 1; i < len; i++) {
            if ((p[i] & 0xc0) != 0x80)
                goto bad;
            cp = cp << 6 | (p[i] & 0x3f);
        }
        /* overlong, surrogates, beyond U+10FFFF, the two non-characters */
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff) {
            memcpy(w, repl, 3);     /* one replacement for the whole sequence */
            w += 3;
            p += len;
            continue;
        }
        memcpy(w, p, len);
        w += len;
        p += len;
        continue;
    bad:
        memcpy(w, repl, 3);
        w += 3;
        p++;
    }
    *w = 0;
    return out;
}

void gk_csv_field(const char *s)
{
    if (!strpbrk(s, " \",\n")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

void gk_die_err(void)
{
    gk_die("%s", gk_errmsg());
}

void gk_cli_parse(gk_cli *c, const char *name, int argc, char **argv,
                  const char *shortopts, const struct option *longopts,
                  gk_cli_handler handler, void *ud, void (*usage)(FILE *))
{
    memset(c, 0, sizeof *c);
    gk_progname = name;
    gk_twin_argv = argv; /* until the sandbox or a key read: lib/twin.c */
    gk_warn_hook = warn_escaped;
    const char *env = getenv("GUESTKIT_UNTRUSTED");
    c->untrusted = env && *env && strcmp(env, "0") != 0;
    c->sb.off = gk_sandbox_env_off();

    size_t nextra = 0;
    while (longopts && longopts[nextra].name)
        nextra++;
    struct option *all = gk_calloc(NCOMMON + nextra + 1, sizeof *all);
    /* the tool's own options first, so a tool may redefine a common one */
    if (nextra)
        memcpy(all, longopts, nextra * sizeof *all);
    memcpy(all + nextra, common_longopts, sizeof common_longopts);
    char *sopts = gk_asprintf("+a:m:irwvVxU%s", shortopts ? shortopts : "");
    char *format = NULL;
    int opt;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, sopts, all, NULL)) != -1) {
        if (handler && opt != '?' && opt != ':' &&
            (opt >= 0x2000 || (shortopts && opt < 0x1000 && strchr(shortopts, opt)))) {
            if (handler(opt, optarg, ud) < 0)
                exit(1);
            continue;
        }
        switch (opt) {
        case 'a':
            /* every field set: key is read by gk_cli_add_drive */
            c->drives = gk_realloc(c->drives, (c->ndrives + 1) * sizeof *c->drives);
            c->drives[c->ndrives] = (gk_cli_drive){.path = optarg, .format = format};
            c->ndrives++;
            break;
        case OPT_FORMAT:
            if (optarg && *optarg && strcmp(optarg, "auto") != 0) {
                if (gk_format_check(optarg) < 0)
                    gk_die("--format: %s", gk_errmsg());
                format = optarg;
            } else {
                format = NULL;
            }
            c->format = format;
            break;
        case 'm': {
            /* DEV[:MOUNTPOINT[:OPTIONS[:FSTYPE]]], as libguestfs splits it */
            char *dev = gk_strdup(optarg), *part[3] = {0};
            char *p = dev;
            for (int k = 0; k < 3 && (p = strchr(p, ':')); k++) {
                *p++ = 0;
                part[k] = p;
            }
            if (part[2] && strchr(part[2], ':'))
                gk_die("-m %s: too many fields (DEV[:MOUNTPOINT[:OPTIONS[:FSTYPE]]])", optarg);
            if (!*dev)
                gk_die("-m %s: no device", optarg);
            c->mounts = gk_realloc(c->mounts, (c->nmounts + 1) * sizeof *c->mounts);
            gk_cli_mountopt *m = &c->mounts[c->nmounts++];
            m->dev = dev;
            m->mountpoint = part[0] && *part[0] ? part[0] : "/";
            m->options = part[1] && *part[1] ? part[1] : NULL;
            m->fstype = part[2] && *part[2] ? part[2] : NULL;
            break;
        }
        case 'i': c->inspector = 1; break;
        case 'r': case OPT_RO: c->rw = 0; break;
        case 'w': case OPT_RW: c->rw = 1; break;
        case 'v': gk_verbose = 1; break;
        case 'x': gk_trace = 1; break;
        case 'U': c->force_share = 1; break;
        case OPT_UNTRUSTED: c->untrusted = 1; break;
        case OPT_KEY: gk_cli_add_key(c, optarg); break;
        case OPT_KEYS_STDIN: c->keys_from_stdin = 1; break;
        case OPT_ECHO_KEYS: c->echo_keys = 1; break;
        case OPT_NO_SANDBOX: c->sb.off = 1; break;
        case OPT_RBD_CONF:
            /* what librados reads first (rbd: images, lib/rbd.c) */
            if (setenv("CEPH_CONF", optarg, 1) < 0)
                gk_die("--rbd-conf: %s", strerror(errno));
            break;
        case 'V':
            printf("%s %s (guestkit)\n", name, GK_VERSION);
            exit(0);
        case OPT_HELP:
            usage(stdout);
            exit(0);
        case ':':
            gk_die("option requires an argument: %s", argv[optind - 1]);
        default:
            if (optopt && optopt < 0x1000)
                fprintf(stderr, "%s: unknown option -%c\n", name, optopt);
            else
                fprintf(stderr, "%s: unknown option %s\n", name, argv[optind - 1]);
            fprintf(stderr, "Try '%s --help' for more information.\n", name);
            exit(1);
        }
    }
    free(sopts);
    free(all);
    c->args = argv + optind;
    c->nargs = argc - optind;
}

int gk_cli_positional_image(gk_cli *c)
{
    if (c->ndrives > 0)
        return 0;
    if (c->nargs < 1)
        return -1;
    c->drives = gk_calloc(1, sizeof *c->drives);
    c->drives[0].path = c->args[0];
    c->ndrives = 1;
    c->args++;
    c->nargs--;
    return 0;
}

void gk_cli_clear(gk_cli *c)
{
    gk_cli_keys_free(c);
    for (int i = 0; i < c->nmounts; i++)
        free(c->mounts[i].dev); /* the other fields point into it */
    free(c->mounts);
    free(c->drives);
    free(c->sb_images);
    memset(c, 0, sizeof *c);
}

void gk_cli_sandbox(gk_cli *c)
{
    gk_twin_argv = NULL;
    gk_cli_keys_prepare(c);
    if (gk_cli_keys_possible(c))
        c->sb.crypto = 1;
    if (c->rw)
        c->sb.needs |= GK_SB_IMGWRITE;
    if (!c->sb.images) {
        const char **v = gk_calloc((size_t)c->ndrives + 1, sizeof *v);
        for (int i = 0; i < c->ndrives; i++)
            v[i] = c->drives[i].path;
        c->sb.images = v;
        c->sb.nimages = c->ndrives;
        c->sb_images = v;
    }
    gk_sandbox_enter(&c->sb);
}

int gk_cli_add_drive(gk_cli *c, gk_guest *g, const char *path, gk_open_opts *o)
{
    gk_cli_drive *dr = NULL;
    for (int i = 0; i < c->ndrives && !dr; i++)
        if (strcmp(c->drives[i].path, path) == 0)
            dr = &c->drives[i];
    if (dr && dr->key && !o->key) {
        /* opened before (another session): the same key, no prompt */
        o->key = dr->key;
        o->keylen = dr->keylen;
        int r = gk_guest_add_drive(g, path, o);
        o->key = NULL;
        o->keylen = 0;
        return r;
    }
    if (gk_guest_add_drive(g, path, o) == 0)
        return 0;
    if (errno != ENOKEY)
        return -1;
    /* an encrypted image: its key, then once more */
    char *err = gk_strdup(gk_errmsg()), *sec;
    size_t len;
    if (!gk_cli_drive_key(c, path, &sec, &len)) {
        gk_error("%s: give its key with --key %s:key:PASSPHRASE (or :file:FILE, or "
                 "--keys-from-stdin)", err, path);
        free(err);
        return -1;
    }
    free(err);
    o->key = sec;
    o->keylen = len;
    int r = gk_guest_add_drive(g, path, o);
    if (r == 0 && dr && !dr->key) {
        dr->key = sec;
        dr->keylen = len;
    } else {
        gk_secret_free(sec, len + 1);
    }
    o->key = NULL;
    o->keylen = 0;
    return r;
}

/* A guest with every -a image added (opened read-write with --rw), not
 * launched yet. */
gk_guest *gk_cli_add_drives(gk_cli *c)
{
    gk_guest *g = gk_guest_new();
    g->readwrite = c->rw;
    gk_vfs_set_trace(g->vfs, gk_trace);
    for (int i = 0; i < c->ndrives; i++) {
        gk_open_opts o = {
            .format = c->drives[i].format,
            .readwrite = c->rw,
            .untrusted = c->untrusted,
            .force_share = c->force_share,
        };
        if (gk_cli_add_drive(c, g, c->drives[i].path, &o) < 0)
            gk_die_err();
    }
    return g;
}

gk_guest *gk_cli_launch(gk_cli *c)
{
    if (c->ndrives == 0)
        gk_die("no disk image given: use -a IMAGE (see --help)");
    gk_guest *g = gk_cli_add_drives(c);
    gk_cli_sandbox(c);
    if (gk_guest_launch(g) < 0)
        gk_die_err();
    gk_cli_decrypt(c, g);
    return g;
}

void gk_cli_check_image(gk_cli *c, gk_guest *g)
{
    /* nothing at all on any disk: most likely not a disk image (a guest
     * file given where the image goes, "gcat /etc/hostname disk.img"),
     * and saying so helps more than "no OS" */
    if (g->devs->nents != g->devs->ndisks || c->ndrives == 0)
        return;
    for (int i = 0; i < g->devs->ndisks; i++)
        if (gk_devent_probe(&g->devs->ents[i])->type || g->devs->disk_parttype[i])
            return;
    gk_die("%s: does not look like a disk image (no partition table or filesystem in it)",
           c->drives[0].path);
}

int gk_cli_mount_list(gk_cli *c, gk_guest *g)
{
    for (int i = 0; i < c->nmounts; i++) {
        gk_cli_mountopt *m = &c->mounts[i];
        if (gk_guest_mount_opts(g, m->dev, m->mountpoint, m->options, m->fstype) < 0)
            return -1;
    }
    return 0;
}

gk_guest *gk_cli_mount(gk_cli *c)
{
    if (c->nmounts == 0)
        c->sb.needs |= GK_SB_HIVES;     /* inspection: a Windows guest's registry */
    gk_guest *g = gk_cli_launch(c);
    gk_cli_mount_launched(c, g);
    return g;
}

void gk_cli_mount_launched(gk_cli *c, gk_guest *g)
{
    g->inspect_for_mount = 1; /* -i here only mounts (gk_guest.inspect_for_mount) */
    if (c->nmounts > 0) {
        if (gk_cli_mount_list(c, g) < 0)
            gk_die_err();
    } else if (gk_guest_mount_inspected(g) < 0) {
        /* "not a disk image" explains more than "no operating system" */
        char *err = gk_strdup(gk_errmsg());
        gk_cli_check_image(c, g);
        gk_die("%s", err);
    }
}

int gk_cli_windows_like(const char *p)
{
    return (isalpha((unsigned char)p[0]) && p[1] == ':') || p[0] == '\\';
}
