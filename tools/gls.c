/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gls: list directories of a disk image, like virt-ls (plain, -l, -R, -lR
 * with its machine-readable columns). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "ossl.h"
#include "common.h"
#include "each.h"

enum {
    OPT_CSV = 0x2000, OPT_UIDS, OPT_TIMES, OPT_TIME_T, OPT_TIME_REL, OPT_TIME_DAYS,
    OPT_EXTRA, OPT_CHECKSUM, OPT_LONG, OPT_RECURSIVE, OPT_HUMAN,
};

static const struct option longopts[] = {
    {"csv", no_argument, 0, OPT_CSV},
    {"uid", no_argument, 0, OPT_UIDS},
    {"uids", no_argument, 0, OPT_UIDS},
    {"time", no_argument, 0, OPT_TIMES},
    {"times", no_argument, 0, OPT_TIMES},
    {"time-t", no_argument, 0, OPT_TIME_T},
    {"time-relative", no_argument, 0, OPT_TIME_REL},
    {"time-days", no_argument, 0, OPT_TIME_DAYS},
    {"extra-stat", no_argument, 0, OPT_EXTRA},
    {"extra-stats", no_argument, 0, OPT_EXTRA},
    {"checksum", optional_argument, 0, OPT_CHECKSUM},
    {"checksums", optional_argument, 0, OPT_CHECKSUM},
    {"long", no_argument, 0, OPT_LONG},
    {"recursive", no_argument, 0, OPT_RECURSIVE},
    {"human-readable", no_argument, 0, OPT_HUMAN},
    {"json", no_argument, 0, GK_EACH_OPT_JSON},
    GK_EACH_LONGOPTS,
    {0, 0, 0, 0},
};

static struct {
    int l, R, csv, human, uids, times, time_t_out, time_rel, extra;
    const char *checksum;
    const EVP_MD *md;
    time_t now;
    gk_vfs *vfs;
    int errors;
    gk_each each;
} o;

static void usage(FILE *f)
{
    fprintf(f,
        "gls: list files in a disk image (like virt-ls)\n"
        "Usage:\n"
        "  gls [--options] -a IMAGE [-a IMAGE...] DIR [DIR...]\n"
        "  gls [--options] IMAGE [IMAGE...] DIR\n"
        "Options:\n"
        "  -a, --add IMAGE      add a disk image (repeat for every disk of the VM)\n"
        "  --format[=raw|..]    force the format of the following -a images\n"
        "  -m, --mount DEV[:MP[:OPTS[:TYPE]]]\n"
        "                       mount DEV on MP (default /) instead of inspecting\n"
        "  -l, --long           long listing (like ls -la; not for parsing)\n"
        "  -R, --recursive      list every file below DIR, one path per line\n"
        "  -lR                  one line per file: type, mode, size, [fields], path\n"
        "With -lR only:\n"
        "  --csv                comma-separated values\n"
        "  -h, --human-readable sizes like 1.5K, 12M\n"
        "  --uids               show UID and GID\n"
        "  --times              show atime, mtime, ctime\n"
        "  --time-t             ... as seconds since the epoch\n"
        "  --time-relative      ... as seconds before now\n"
        "  --time-days          ... as days before now\n"
        "  --extra-stats        device, inode, links, rdev, 512-byte blocks\n"
        "  --checksum[=TYPE]    checksum of regular files: md5 (default), sha1,\n"
        "                       sha224, sha256, sha384, sha512\n"
        "Fleet mode:\n"
        "  --each               each image a guest of its own: every line prefixed\n"
        "                       with the image and a tab (with --csv: a first field)\n"
        "  --from FILE          images listed in FILE, one a line (- for stdin)\n"
        "  --jobs N             N images at a time (default: the CPUs)\n"
        "  --timeout SECS       CPU seconds per image (default 300)\n"
        "  --memory MIB         memory per image (default 2048)\n"
        "  --json               one JSON object per image instead\n"
        "Common options: -i, -U, -v, -V, --help.\n");
}

static int handler(int opt, const char *arg, void *ud)
{
    (void)ud;
    switch (opt) {
    case 'l': case OPT_LONG: o.l = 1; break;
    case 'R': case OPT_RECURSIVE: o.R = 1; break;
    case 'h': case OPT_HUMAN: o.human = 1; break;
    case OPT_CSV: o.csv = 1; break;
    case OPT_UIDS: o.uids = 1; break;
    case OPT_TIMES: o.times = 1; break;
    case OPT_TIME_T: o.times = o.time_t_out = 1; o.time_rel = 0; break;
    case OPT_TIME_REL: o.times = o.time_t_out = 1; o.time_rel = 1; break;
    case OPT_TIME_DAYS: o.times = o.time_t_out = 1; o.time_rel = 2; break;
    case OPT_EXTRA: o.extra = 1; break;
    case OPT_CHECKSUM: o.checksum = arg && *arg ? arg : "md5"; break;
    default: return gk_each_opt(&o.each, opt, arg);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* -lR output fields, the way virt-ls prints them                      */

static int field;

static void next_field(void)
{
    if (field++ > 0)
        putchar(o.csv ? ',' : ' ');
}

static void out_string(const char *s)
{
    next_field();
    if (o.csv) {
        char *e = gk_term_str(stdout, s);
        gk_csv_field(e);
        free(e);
    } else {
        gk_term_puts(stdout, s);
    }
}

static void out_size(uint64_t size)
{
    char buf[32];
    next_field();
    if (o.human)
        gk_human_size(size, buf, sizeof buf);
    else
        snprintf(buf, sizeof buf, "%" PRIu64, size);
    printf(o.csv ? "%s" : "%10s", buf);
}

static void out_time(int64_t secs)
{
    next_field();
    if (o.time_t_out) {
        if (o.time_rel == 0)
            printf("%10" PRIi64, secs);
        else if (o.time_rel == 1)
            printf("%8" PRIi64, (int64_t)o.now - secs);
        else
            printf("%3" PRIi64, ((int64_t)o.now - secs) / 86400);
        return;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    char buf[64];
    if (!localtime_r(&t, &tm) || !strftime(buf, sizeof buf, "%F %T", &tm))
        snprintf(buf, sizeof buf, "%" PRIi64, secs);
    fputs(buf, stdout);
}

static char type_char(uint32_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG: return '-';
    case S_IFDIR: return 'd';
    case S_IFCHR: return 'c';
    case S_IFBLK: return 'b';
    case S_IFIFO: return 'p';
    case S_IFLNK: return 'l';
    case S_IFSOCK: return 's';
    default: return 'u';
    }
}

/* Hex digest of a regular file, or NULL with the error set. */
static char *checksum_node(gk_node *n, const char *path)
{
    static char *buf;
    if (!buf)
        buf = gk_malloc(1 << 20);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, o.md, NULL)) {
        EVP_MD_CTX_free(ctx);
        gk_error("%s: cannot start the %s checksum", path, o.checksum);
        return NULL;
    }
    uint64_t off = 0;
    for (;;) {
        ssize_t r = gk_node_read(n, buf, 1 << 20, off);
        if (r < 0) {
            EVP_MD_CTX_free(ctx);
            gk_error_prefix("%s", path);
            return NULL;
        }
        if (r == 0)
            break;
        EVP_DigestUpdate(ctx, buf, (size_t)r);
        off += (uint64_t)r;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    char *hex = gk_malloc(mdlen * 2 + 1);
    for (unsigned i = 0; i < mdlen; i++)
        sprintf(hex + 2 * i, "%02x", md[i]);
    return hex;
}

static void show_file(const char *path, gk_node *n, const gk_stat *st)
{
    char t[2] = { type_char(st->mode), 0 }, buf[32];
    char *csum = NULL;
    if (o.checksum && S_ISREG(st->mode)) {
        csum = checksum_node(n, path);
        if (!csum) {
            gk_say("%s", gk_errmsg());
            o.errors++;
            return;
        }
    }
    char link[4097];
    ssize_t ll = -1;
    if (S_ISLNK(st->mode)) {
        ll = gk_node_readlink(n, link, sizeof link - 1);
        if (ll < 0) {
            gk_say("%s: %s", path, gk_errmsg());
            o.errors++;
        } else {
            link[ll] = 0;
        }
    }
    field = 0;
    out_string(t);
    next_field();
    printf("%04o", st->mode & 07777);
    out_size(st->size);
    if (o.uids) {
        next_field();
        printf("%4u", st->uid);
        next_field();
        printf("%4u", st->gid);
    }
    if (o.times) {
        out_time(st->atime.tv_sec);
        out_time(st->mtime.tv_sec);
        out_time(st->ctime.tv_sec);
    }
    if (o.extra) {
        next_field();
        printf("%u:%u", major(st->dev), minor(st->dev));
        next_field();
        printf("%" PRIu64, st->ino);
        next_field();
        printf("%u", st->nlink);
        next_field();
        printf("%u:%u", major(st->rdev), minor(st->rdev));
        next_field();
        printf("%" PRIu64, st->blocks);
    }
    if (o.checksum) {
        if (csum)
            out_string(csum);
        else if (o.csv)
            out_string("");
    }
    out_string(path);
    if (ll >= 0) {
        if (o.csv) {
            out_string(link);
        } else {
            next_field();
            fputs("-> ", stdout);
            gk_term_puts(stdout, link);
        }
    }
    putchar('\n');
    (void)buf;
    free(csum);
}

static void mode_string(uint32_t mode, char *s)
{
    s[0] = type_char(mode);
    if (s[0] == '-' && !S_ISREG(mode))
        s[0] = '?';
    const char *rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; i++)
        s[1 + i] = mode & (0400 >> i) ? rwx[i] : '-';
    if (mode & S_ISUID) s[3] = mode & 0100 ? 's' : 'S';
    if (mode & S_ISGID) s[6] = mode & 0010 ? 's' : 'S';
    if (mode & S_ISVTX) s[9] = mode & 0001 ? 't' : 'T';
    s[10] = 0;
}

static void ll_line(const char *name, gk_node *n, const gk_stat *st)
{
    char ms[11], tbuf[32], sz[32];
    mode_string(st->mode, ms);
    time_t t = st->mtime.tv_sec;
    struct tm tm;
    if (!localtime_r(&t, &tm))
        memset(&tm, 0, sizeof tm);
    /* like ls: the year instead of the time for files older than 6 months */
    if (t > o.now - 15778476 && t <= o.now + 3600)
        strftime(tbuf, sizeof tbuf, "%b %e %H:%M", &tm);
    else
        strftime(tbuf, sizeof tbuf, "%b %e  %Y", &tm);
    if (S_ISCHR(st->mode) || S_ISBLK(st->mode))
        snprintf(sz, sizeof sz, "%u, %u", major(st->rdev), minor(st->rdev));
    else
        snprintf(sz, sizeof sz, "%" PRIu64, st->size);
    printf("%s %3u %4u %4u %10s %s ", ms, st->nlink, st->uid, st->gid, sz, tbuf);
    gk_term_puts(stdout, name);
    if (S_ISLNK(st->mode)) {
        char link[4097];
        ssize_t ll = gk_node_readlink(n, link, sizeof link - 1);
        if (ll >= 0) {
            link[ll] = 0;
            fputs(" -> ", stdout);
            gk_term_puts(stdout, link);
        }
    }
    putchar('\n');
}

static int do_ls(const char *dir, int longfmt)
{
    gk_node n;
    if (gk_vfs_resolve(o.vfs, dir, 1, &n) < 0)
        return -1;
    gk_dirent *ents;
    size_t cnt;
    if (gk_node_list(&n, &ents, &cnt) < 0) {
        gk_error_prefix("%s", dir);
        return -1;
    }
    if (longfmt) {
        uint64_t total = 0;
        gk_stat *sts = gk_calloc(cnt + 1, sizeof *sts);
        gk_node *nodes = gk_calloc(cnt + 1, sizeof *nodes);
        for (size_t i = 0; i < cnt; i++) {
            nodes[i] = (gk_node){ n.mnt, ents[i].ino };
            gk_vfs_cross(o.vfs, &nodes[i]);
            if (gk_node_stat(&nodes[i], &sts[i]) < 0) {
                gk_say("%s%s%s: %s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", ents[i].name, gk_errmsg());
                o.errors++;
                sts[i].mode = 0;
                continue;
            }
            total += sts[i].blocks;
        }
        gk_stat self, parent;
        gk_node pn;
        int have_self = gk_node_stat(&n, &self) == 0;
        int have_parent = gk_vfs_child(o.vfs, &n, "..", &pn) == 0 && gk_node_stat(&pn, &parent) == 0;
        if (have_self) total += self.blocks;
        if (have_parent) total += parent.blocks;
        printf("total %" PRIu64 "\n", total / 2);
        if (have_self)
            ll_line(".", &n, &self);
        if (have_parent)
            ll_line("..", &pn, &parent);
        for (size_t i = 0; i < cnt; i++)
            if (sts[i].mode)
                ll_line(ents[i].name, &nodes[i], &sts[i]);
        free(sts);
        free(nodes);
    } else {
        for (size_t i = 0; i < cnt; i++) {
            gk_term_puts(stdout, ents[i].name);
            putchar('\n');
        }
    }
    gk_dirents_free(ents, cnt);
    return 0;
}

/* Print what a walk reports: entries go to fn, errors to stderr (counted);
 * a directory that is not entered says why. */
typedef void (*visit_fn)(const char *path, gk_node *n, const gk_stat *st);

static void walk(const char *dir, gk_node *top, unsigned flags, visit_fn fn)
{
    gk_walk *w = gk_walk_new(o.vfs, top, dir, flags);
    const gk_walk_ent *e;
    while ((e = gk_walk_next(w))) {
        if (e->kind == GK_WALK_ERROR) {
            fflush(stdout);
            gk_say("%s", e->msg);
            o.errors++;
            continue;
        }
        if (e->kind != GK_WALK_ENTRY || e->depth == 0)
            continue;
        gk_node n = e->node;
        fn(e->path, &n, &e->st);
        if (e->noenter) {
            fflush(stdout);
            gk_say("%s", e->msg);
            o.errors++;
        }
    }
    gk_walk_free(w);
}

/* -R: every path below dir in sorted order, with the directory's name as
 * given cut off the front like libguestfs' find ("/etc" -> "/passwd",
 * "/" and "/etc/" -> "passwd"). */
static size_t find_strip;

static void print_rel(const char *path, gk_node *n, const gk_stat *st)
{
    (void)n; (void)st;
    gk_term_puts(stdout, path + (strlen(path) >= find_strip ? find_strip : 0));
    putchar('\n');
}

static int do_ls_R(const char *dir)
{
    gk_node n;
    if (gk_vfs_resolve(o.vfs, dir, 1, &n) < 0)
        return -1;
    gk_stat st;
    if (gk_node_stat(&n, &st) < 0) {
        gk_error_prefix("%s", dir);
        return -1;
    }
    if (!S_ISDIR(st.mode)) {
        gk_error("%s: %s", dir, strerror(ENOTDIR));
        return -1;
    }
    find_strip = strlen(dir);
    walk(dir, &n, GK_WALK_PATHORDER | GK_WALK_PATHLIMIT, print_rel);
    return 0;
}

static int do_ls_lR(const char *dir)
{
    gk_node top, n;
    gk_stat st;
    if (gk_vfs_resolve(o.vfs, dir, 0, &top) < 0)
        return -1;
    if (gk_node_stat(&top, &st) < 0) {
        gk_error_prefix("%s", dir);
        return -1;
    }
    show_file(dir, &top, &st);
    if (gk_vfs_resolve(o.vfs, dir, 1, &n) < 0)
        return -1;
    if (gk_node_stat(&n, &st) < 0) {
        gk_error_prefix("%s", dir);
        return -1;
    }
    if (!S_ISDIR(st.mode))
        return 0;
    walk(dir, &n, GK_WALK_PATHLIMIT, show_file);
    return 0;
}

int main(int argc, char **argv)
{
    gk_cli c;
    o.now = time(NULL);
    gk_cli_parse(&c, "gls", argc, argv, "lRh", longopts, handler, NULL, usage);
    gk_each_check(&o.each);
    int lr = o.l && o.R;
    if (!lr && (o.csv || o.human || o.uids || o.times || o.extra || o.checksum))
        gk_die("used a flag which can only be combined with -lR mode");
    if (o.human && o.csv)
        gk_die("you cannot use -h and --csv options together");
    if (o.checksum) {
        static const char *ok[] = { "md5", "sha1", "sha224", "sha256", "sha384", "sha512" };
        int found_md = 0;
        for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
            if (strcmp(o.checksum, ok[i]) == 0)
                found_md = 1;
        if (!found_md || !(o.md = EVP_get_digestbyname(o.checksum)))
            gk_die("--checksum: unsupported checksum type \"%s\" "
                   "(md5, sha1, sha224, sha256, sha384, sha512)", o.checksum);
    }
    if (o.each.on) {
        if (c.nargs < 1)
            gk_die("missing directory name (with --each every argument is a guest directory)");
        o.each.csv = o.csv;
        gk_each_run(&c, &o.each, gk_each_report_text, &o.each);
    }
    if (c.ndrives == 0 && c.nargs >= 2) {
        /* old style: gls IMAGE... DIR */
        c.drives = gk_calloc(c.nargs - 1, sizeof *c.drives);
        for (int i = 0; i < c.nargs - 1; i++)
            c.drives[i].path = c.args[i];
        c.ndrives = c.nargs - 1;
        c.args += c.nargs - 1;
        c.nargs = 1;
    }
    if (c.nargs < 1 || c.ndrives == 0) {
        /* "gls disk.img": the one argument is the image when it is a file */
        if (c.ndrives)
            fprintf(stderr, "gls: missing directory name\n");
        else if (c.nargs == 0)
            fprintf(stderr, "gls: missing disk image and directory name\n");
        else if (access(c.args[0], F_OK) == 0)
            fprintf(stderr, "gls: missing directory name after the disk image %s\n", c.args[0]);
        else
            fprintf(stderr, "gls: missing directory name, or disk image: %s: %s\n", c.args[0],
                    strerror(errno));
        fprintf(stderr, "Usage: gls [-a] IMAGE DIR; try 'gls --help' for more information.\n");
        gk_cli_clear(&c);
        return 1;
    }
    gk_guest *g = gk_cli_mount(&c);
    o.vfs = g->vfs;
    for (int i = 0; i < c.nargs; i++) {
        const char *dir = c.args[i];
        int r;
        if (lr)
            r = do_ls_lR(dir);
        else if (o.R)
            r = do_ls_R(dir);
        else
            r = do_ls(dir, o.l);
        if (r < 0) {
            fflush(stdout);
            gk_say("%s", gk_errmsg());
            o.errors++;
        }
    }
    fflush(stdout);
    gk_guest_free(g);
    gk_cli_clear(&c);
    return o.errors ? 1 : 0;
}
