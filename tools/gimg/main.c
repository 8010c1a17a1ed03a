/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gimg: the command table, the one option parser every command goes
 * through, and what the commands share (opening images, sizes, progress). */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gimg.h"

int gimg_untrusted = -1; /* -1: from GUESTKIT_UNTRUSTED */
int gimg_no_sandbox;      /* --no-sandbox (or GUESTKIT_NO_SANDBOX=1) */

static const struct option info_lo[] = {
    {"backing-chain", no_argument, 0, 'b' | 0x1000},
    {0, 0, 0, 0}};
static const struct option map_lo[] = {
    {"start-offset", required_argument, 0, 's'},
    {"max-length", required_argument, 0, 'l'},
    {0, 0, 0, 0}};
static const struct option resize_lo[] = {
    {"shrink", no_argument, 0, 's' | 0x1000},
    {"preallocation", required_argument, 0, 'p' | 0x1000},
    {0, 0, 0, 0}};
static const struct option amend_lo[] = {
    {"force", no_argument, 0, 'F' | 0x1000},
    {0, 0, 0, 0}};
static const struct option measure_lo[] = {
    {"size", required_argument, 0, 'S' | 0x1000},
    {0, 0, 0, 0}};
static const struct option rebase_lo[] = {
    {"compress", no_argument, 0, 'c'},
    {0, 0, 0, 0}};
static const struct option convert_lo[] = {
    {"target-image-opts", no_argument, 0, 'T' | 0x1000},
    {0, 0, 0, 0}};
static const struct option check_lo[] = {
    {"repair", required_argument, 0, 'r'},
    {0, 0, 0, 0}};

/* The commands, in the order --help lists them. */
static const struct gimg_cmd commands[] = {
    {"info", cmd_info,
     "info [--backing-chain] [--output=human|json] [-f FMT] [-U] IMAGE\n"
     "Print details of a disk image (as qemu-img info): what its header says, without\n"
     "opening the files it names (unless --backing-chain).\n",
     GO_FORMAT | GO_OUTPUT | GO_SHARE | GO_IMGOPTS, "", info_lo, 1},
    {"map", cmd_map,
     "map [--output=human|json] [-f FMT] [--start-offset=OFF] [--max-length=LEN] [-U] IMAGE\n"
     "Print the allocation map of an image (as qemu-img map).\n",
     GO_FORMAT | GO_OUTPUT | GO_SHARE | GO_IMGOPTS, "s:l:", map_lo, 1},
    {"check", cmd_check,
     "check [--output=human|json] [-f FMT] [-U] [-q] [-r leaks|all] IMAGE\n"
     "Check a qcow2 image for leaked and corrupt clusters (as qemu-img check); -r\n"
     "leaks frees leaked clusters, -r all also repairs refcounts that are too low,\n"
     "COPIED flags and the refcount structure.  Exit status (of the check after the\n"
     "repair): 0 clean, 2 corruptions, 3 leaks only, 63 the format has no checks\n"
     "(raw), 1 the check could not run.\n",
     GO_FORMAT | GO_OUTPUT | GO_SHARE | GO_QUIET | GO_IMGOPTS, "r:", check_lo, 1},
    {"snapshot", cmd_snapshot,
     "snapshot [-l | -c SNAPSHOT | -a SNAPSHOT | -d SNAPSHOT] [-f FMT] [-U] [-q] IMAGE\n"
     "List (-l, the default), create (-c NAME), apply (-a ID or NAME: the image becomes\n"
     "what the snapshot holds) or delete (-d NAME) the internal snapshots of a qcow2\n"
     "image (as qemu-img snapshot).  A kill at any moment leaves the image as it was\n"
     "or as it would be after the command.\n",
     GO_FORMAT | GO_SHARE | GO_QUIET | GO_IMGOPTS, "lc:a:d:", NULL, 1},
    {"compare", cmd_compare,
     "compare [-f FMT] [-F FMT] [-s] [-p] [-q] [-U] IMAGE1 IMAGE2\n"
     "Compare the guest-visible contents of two images (as qemu-img compare).  -f is\n"
     "the format of IMAGE1, -F that of IMAGE2 (each is probed when not given).\n"
     "Exit status: 0 identical, 1 different, 2 an image cannot be opened, 3 block\n"
     "status failed, 4 a read failed.\n",
     GO_FORMAT | GO_SHARE | GO_QUIET | GO_PROGRESS | GO_CACHE | GO_IMGOPTS, "F:s", NULL, 2},
    {"create", cmd_create,
     "create [-f FMT] [--object secret,...] [-b BACKING_FILE -F BACKING_FMT] [-u] [-o OPTIONS] [-q]\n"
     "       FILENAME [SIZE]\n"
     "Create a new disk image (as qemu-img create): the same options give the same\n"
     "bytes.  -o help lists the options of FMT (default raw).  An encrypted qcow2:\n"
     "--object secret,id=ID,... -o encrypt.format=luks,encrypt.key-secret=ID.\n",
     GO_FORMAT | GO_QUIET | GO_OBJECT, "b:F:uo:", NULL, 1},
    {"convert", cmd_convert,
     "convert [-f FMT] [-O OUTPUT_FMT] [-c] [-o OPTIONS] [-B BACKING -F BACKING_FMT] [-n]\n"
     "        [--target-image-opts] [-s SNAPSHOT | -l SNAPSHOT_PARAM] [-S SIZE] [-m N] [-p]\n"
     "        [-q] [-U] SRC DST\n"
     "Copy the guest-visible contents of SRC into a new image DST (as qemu-img\n"
     "convert): sparse raw, or qcow2 (-c: compressed clusters, with the image's\n"
     "compression_type; -o: create options; -B: DST gets BACKING as backing file and\n"
     "only what SRC holds above its own backing file is copied; -n: DST exists).\n"
     "SNAPSHOT_PARAM is snapshot.id=ID[,snapshot.name=NAME] or a snapshot ID or name.\n"
     "-S 0 writes every byte; -m N reads with N threads (default 4, at most 16).\n"
     "--target-image-opts (with -n): DST is an option list, as SRC with --image-opts\n"
     "(driver=luks,key-secret=ID,file.filename=FILE: written through its cipher).\n",
     GO_FORMAT | GO_SHARE | GO_QUIET | GO_PROGRESS | GO_CACHE | GO_IMGOPTS, "O:s:l:S:m:WcnB:F:o:", convert_lo, 1},
    {"commit", cmd_commit,
     "commit [-f FMT] [-b BASE] [-d] [-p] [-q] [-r RATE] IMAGE\n"
     "Write what IMAGE (and the images between it and BASE) holds into BASE, by default\n"
     "its backing file, then empty IMAGE so that it reads through to it (not with -d;\n"
     "-b implies -d), as qemu-img commit.\n",
     GO_FORMAT | GO_QUIET | GO_PROGRESS | GO_CACHE | GO_IMGOPTS, "b:dr:", NULL, 1},
    {"rebase", cmd_rebase,
     "rebase [-f FMT] [-u] [-c] -b BACKING [-F BACKING_FMT] [-p] [-q] [-U] IMAGE\n"
     "Make BACKING the backing file of IMAGE (\"\": none), as qemu-img rebase: where\n"
     "IMAGE holds nothing and the old and new backing files differ, the old data is\n"
     "copied into IMAGE first, so that it reads as before.  -u changes only the name.\n"
     "-c (--compress, as qemu-img 8.2's): the clusters copied are written whole and\n"
     "compressed.\n",
     GO_FORMAT | GO_SHARE | GO_QUIET | GO_PROGRESS | GO_CACHE | GO_IMGOPTS, "b:F:uc", rebase_lo, 1},
    {"resize", cmd_resize,
     "resize [--shrink] [--preallocation=off|metadata|falloc|full] [-f FMT] [-q] FILENAME [+|-]SIZE\n"
     "Change the disk size of an image (as qemu-img resize): SIZE, or the current size\n"
     "plus or minus SIZE.  Making it smaller needs --shrink and drops what is past\n"
     "the new end.  Preallocation: raw images (falloc, full), qcow2 (metadata).\n",
     GO_FORMAT | GO_QUIET | GO_RAW_LAST | GO_IMGOPTS, "", resize_lo, 1},
    {"amend", cmd_amend,
     "amend [-f FMT] [-p] [-q] -o OPTIONS FILENAME\n"
     "Change options of an existing image (as qemu-img amend): qcow2's compat,\n"
     "lazy_refcounts, refcount_bits and size; -o help lists them.\n",
     GO_FORMAT | GO_QUIET | GO_PROGRESS | GO_CACHE | GO_IMGOPTS, "o:", amend_lo, 1},
    {"measure", cmd_measure,
     "measure [--output=human|json] [-O FMT] [-o OPTIONS]\n"
     "        (--size SIZE | [-f FMT] [-l SNAPSHOT_PARAM] [-U] FILENAME)\n"
     "Print the file size a new image of format FMT (default raw) with OPTIONS needs to\n"
     "hold FILENAME's contents (as of an internal snapshot with -l), or a disk of SIZE\n"
     "(as qemu-img measure).\n",
     GO_FORMAT | GO_OUTPUT | GO_SHARE | GO_IMGOPTS, "O:o:l:", measure_lo, 1},
};
#define NCMDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "Usage: gimg [--untrusted] [-v] COMMAND [OPTIONS] ...\n"
               "Inspect, create, convert and change disk images (%s) like qemu-img.\n"
               "\n"
               "Commands:\n",
            gk_format_names());
    for (size_t i = 0; i < NCMDS; i++) {
        const char *u = commands[i].usage, *nl = strchr(u, '\n');
        fprintf(f, "  %.*s\n", (int)(nl ? nl - u : (long)strlen(u)), u);
    }
    fprintf(f, "\n"
               "Options for every command:\n"
               "  --untrusted   refuse backing files outside the image's directory (and symlinked\n"
               "                ones) and never probe backing formats (also GUESTKIT_UNTRUSTED=1)\n"
               "  -U, --force-share  open images that qemu is using\n"
               "  --object secret,id=ID,data=PASSPHRASE|file=FILE[,format=base64]\n"
               "  --image-opts  IMAGE is driver=qcow2,file.filename=FILE,encrypt.key-secret=ID\n"
               "                (encrypted qcow2, as qemu-img takes it)\n"
               "  --no-sandbox  do not confine gimg once the images are open (also\n"
               "                GUESTKIT_NO_SANDBOX=1; see gimg(1), SECURITY)\n"
               "\n"
               "gimg COMMAND --help describes one command; see gimg(1).\n");
}

static void cmd_usage(const struct gimg_cmd *c, FILE *f)
{
    fprintf(f, "Usage: gimg %s", c->usage);
}

void gimg_usage_error(const gimg_args *a, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "%s: ", gk_progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'gimg %s --help' for more information.\n", a->cmd->name);
    exit(a->cmd->error_status);
}

enum { L_OUTPUT = 0x2000, L_UNTRUSTED, L_HELP, L_OBJECT, L_IMGOPTS, L_NO_SANDBOX };

/* The one option parser: the options a command takes from the common set
 * (c->common), then its own (c->shortopts, c->longopts), kept in order in
 * a->opts for the command to read. */
static void gimg_parse(gimg_args *a, const struct gimg_cmd *c, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    a->cmd = c;
    if (c->common & GO_RAW_LAST) {
        if (argc < 3)
            gimg_usage_error(a, "Not enough arguments");
        a->last = argv[--argc];
    }
    char sopts[64] = ":h";
    if (c->common & GO_FORMAT)
        strcat(sopts, "f:");
    if (c->common & GO_SHARE)
        strcat(sopts, "U");
    if (c->common & GO_QUIET)
        strcat(sopts, "q");
    if (c->common & GO_PROGRESS)
        strcat(sopts, "p");
    if (c->common & GO_CACHE)
        strcat(sopts, "t:T:");
    strncat(sopts, c->shortopts, sizeof sopts - strlen(sopts) - 1);

    struct option lo[32];
    int n = 0;
    lo[n++] = (struct option){"help", no_argument, 0, L_HELP};
    lo[n++] = (struct option){"untrusted", no_argument, 0, L_UNTRUSTED};
    lo[n++] = (struct option){"no-sandbox", no_argument, 0, L_NO_SANDBOX};
    if (c->common & GO_FORMAT)
        lo[n++] = (struct option){"format", required_argument, 0, 'f'};
    if (c->common & GO_OUTPUT)
        lo[n++] = (struct option){"output", required_argument, 0, L_OUTPUT};
    if (c->common & GO_SHARE)
        lo[n++] = (struct option){"force-share", no_argument, 0, 'U'};
    if (c->common & (GO_IMGOPTS | GO_OBJECT))
        lo[n++] = (struct option){"object", required_argument, 0, L_OBJECT};
    if (c->common & GO_IMGOPTS)
        lo[n++] = (struct option){"image-opts", no_argument, 0, L_IMGOPTS};
    for (int i = 0; c->longopts && c->longopts[i].name && n < 31; i++)
        lo[n++] = c->longopts[i];
    lo[n] = (struct option){0, 0, 0, 0};

    opterr = 0;
    optind = 1;
    int opt;
    while ((opt = getopt_long(argc, argv, sopts, lo, NULL)) != -1) {
        switch (opt) {
        case 'h':
        case L_HELP:
            cmd_usage(c, stdout);
            exit(0);
        case 'f':
            if (gk_format_check(optarg) < 0) {
                if (errno == ENOTSUP)
                    gk_die_status(c->error_status, "%s", gk_errmsg());
                gk_die_status(c->error_status, "Unknown file format '%s'", optarg);
            }
            a->fmt = optarg;
            break;
        case L_OUTPUT:
            if (strcmp(optarg, "human") == 0)
                a->output = OUT_HUMAN;
            else if (strcmp(optarg, "json") == 0)
                a->output = OUT_JSON;
            else
                gk_die_status(c->error_status, "--output must be used with human or json as argument.");
            break;
        case 'U': a->share = 1; break;
        case 'q': a->quiet = 1; break;
        case 'p': a->progress.on = 1; break;
        case 't': case 'T': break; /* qemu cache modes: nothing to choose here */
        case L_UNTRUSTED: gimg_untrusted = 1; break;
        case L_OBJECT: gimg_add_object(optarg); break;
        case L_IMGOPTS: a->image_opts = 1; break;
        case L_NO_SANDBOX: gimg_no_sandbox = 1; break;
        case ':':
            gimg_usage_error(a, "option '%s' needs an argument", argv[optind - 1]);
        case '?':
            if (optopt)
                gimg_usage_error(a, "unknown option '-%c'", optopt);
            gimg_usage_error(a, "unknown option '%s'", argv[optind - 1]);
        default:
            a->opts = gk_realloc(a->opts, (size_t)(a->nopts + 1) * sizeof *a->opts);
            a->opts[a->nopts++] = (struct gimg_opt){opt, optarg};
            break;
        }
    }
    if (a->quiet)
        a->progress.on = 0;
    a->args = argv + optind;
    a->nargs = argc - optind;
}

gk_dev *gimg_open_opts(const gimg_args *a, const char *path, gk_open_opts *o, int status)
{
    o->untrusted = gimg_untrusted;
    o->force_share = a->share;
    if (o->readwrite)
        o->flags |= GK_OPEN_WARN_RAW;
    const char *name = gimg_image_opts(a, path, o);
    gk_dev *d = gk_open_image(name, o);
    if (name != path) { /* --image-opts: the device keeps a copy of the name */
        int e = errno;
        free((char *)name);
        errno = e;
    }
    if (!d && errno == ENOKEY)
        gimg_image_opts_nokey(status);
    if (!d && errno == ENOKEY)
        gk_die_status(status, "%s (give it as qemu-img takes it: --object secret,id=sec0,file=KEYFILE "
                      "--image-opts driver=qcow2,file.filename=IMAGE,encrypt.key-secret=sec0, "
                      "or driver=luks,file.filename=IMAGE,key-secret=sec0 for a LUKS file)",
                      gk_errmsg());
    if (!d)
        gk_die_status(status, "%s", gk_errmsg());
    gimg_image_opts_unused(d, status);
    return d;
}

gk_dev *gimg_open(const gimg_args *a, const char *path, const char *fmt, unsigned flags, int status)
{
    gk_open_opts o = {.format = fmt, .flags = flags};
    return gimg_open_opts(a, path, &o, status);
}

void gimg_sandbox(const gimg_args *a, int nimages, unsigned needs, uint64_t fsize)
{
    gk_sandbox sb;
    memset(&sb, 0, sizeof sb);
    sb.needs = needs;
    sb.crypto = 1; /* secrets, encrypted images made or opened */
    sb.outdir_fd = -1;
    sb.fsize = fsize;
    sb.off = gimg_no_sandbox || gk_sandbox_env_off();
    sb.images = (const char *const *)a->args;
    sb.nimages = nimages < a->nargs ? nimages : a->nargs;
    gk_sandbox_enter(&sb);
}

/* -l's snapshot.id=ID,snapshot.name=NAME, parsed as qemu's QemuOpts do:
 * ",," is a comma, a key alone means "on", the last value of a key wins,
 * an unknown key is an error. */
void gimg_parse_snapshot_opts(const char *arg, char **id, char **name)
{
    size_t n = strlen(arg);
    char *tok = gk_malloc(n + 1);
    const char *p = arg;
    while (*p) {
        size_t k = 0;
        while (*p && !(*p == ',' && p[1] != ',')) {
            if (*p == ',')
                p++; /* ",," */
            tok[k++] = *p++;
        }
        tok[k] = 0;
        if (*p == ',')
            p++;
        char *eq = strchr(tok, '=');
        const char *val = "on";
        if (eq) {
            *eq = 0;
            val = eq + 1;
        }
        char **slot = strcmp(tok, "snapshot.id") == 0 ? id : strcmp(tok, "snapshot.name") == 0 ? name : NULL;
        if (!slot) {
            fflush(stdout);
            fprintf(stderr, "%s: Invalid parameter '%s'\n", gk_progname, tok);
            gk_die_status(1, "Failed in parsing snapshot param '%s'", arg);
        }
        free(*slot);
        *slot = gk_strdup(val);
    }
    free(tok);
}

uint64_t gimg_parse_size(const char *s, const char *what)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        gk_die_status(1, "Invalid %s specified: %s", what, s);
    uint64_t mul = 1;
    switch (*end) {
    case 0: break;
    case 'b': case 'B': end++; break;
    case 'k': case 'K': mul = 1ULL << 10; end++; break;
    case 'M': mul = 1ULL << 20; end++; break;
    case 'G': mul = 1ULL << 30; end++; break;
    case 'T': mul = 1ULL << 40; end++; break;
    case 'P': mul = 1ULL << 50; end++; break;
    case 'E': mul = 1ULL << 60; end++; break;
    }
    if (*end || v * (double)mul >= 18446744073709551616.0)
        gk_die_status(1, "Invalid %s specified: %s", what, s);
    return (uint64_t)(v * (double)mul);
}

void progress_print(struct progress *p, double pct, int force)
{
    if (!p->on)
        return;
    if (pct > 100)
        pct = 100;
    if (!force && pct < p->last + 1.0)
        return;
    p->last = pct;
    printf("    (%3.2f/100%%)\r", pct);
    fflush(stdout);
}

void progress_end(struct progress *p)
{
    if (!p->on)
        return;
    progress_print(p, 100.0, 1);
    printf("\n");
    fflush(stdout);
}

int all_zero(const void *buf, size_t n)
{
    const unsigned char *p = buf;
    /* memcmp against itself shifted by one is vectorised by libc */
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

int64_t find_nonzero(const unsigned char *buf, uint64_t n)
{
    for (uint64_t i = 0; i < n; i += 512) {
        uint64_t k = n - i < 512 ? n - i : 512;
        if (!all_zero(buf + i, k))
            return (int64_t)i;
    }
    return -1;
}

int main(int argc, char **argv)
{
    gk_progname = "gimg";
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(o, "-V") == 0 || strcmp(o, "--version") == 0) {
            printf("gimg (guestkit) %s\n", GK_VERSION);
            return 0;
        } else if (strcmp(o, "--untrusted") == 0) {
            gimg_untrusted = 1;
        } else if (strcmp(o, "--no-sandbox") == 0) {
            gimg_no_sandbox = 1;
        } else if (strcmp(o, "-v") == 0 || strcmp(o, "--verbose") == 0) {
            gk_verbose = 1;
        } else {
            usage(stderr);
            gk_die_status(1, "unknown option: %s", o);
        }
    }
    if (i >= argc) {
        usage(stderr);
        gk_die_status(1, "no command given");
    }
    const char *name = argv[i];
    if (strcmp(name, "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t k = 0; k < NCMDS; k++) {
        if (strcmp(name, commands[k].name) == 0) {
            gimg_args a;
            /* getopt sees the command as argv[0] */
            gimg_parse(&a, &commands[k], argc - i, argv + i);
            gk_heap_huge(); /* the command reads images: its heap on huge pages */
            int rc = commands[k].run(&a);
            free(a.opts);
            return rc;
        }
    }
    gk_die_status(1, "Command not found: %s", name);
}
