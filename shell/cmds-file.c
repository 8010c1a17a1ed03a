/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Commands that read guest files: cat, more, head, tail, read-lines,
 * filesize, read-file, hexdump, strings, download, copy-out. */
#include <dirent.h>
#include <errno.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmds-int.h"
#include "hostio.h"

int run_cat(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_node n;
    gk_stat st;
    if (io_open_reg(sh, cmd, a->argv[0], &n, &st) < 0)
        return -1;
    struct out_sink o = {sh, cmd, stdout};
    int r = io_stream(cmd, a->argv[0], &n, 0, st.size, io_out_sink, &o);
    return r < 0 ? -1 : 0;
}

int run_more(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    if (sh->in_pipe || !isatty(1))
        return run_cat(sh, cmd, a);
    gk_node n;
    gk_stat st;
    if (io_open_reg(sh, cmd, a->argv[0], &n, &st) < 0)
        return -1;
    if (gfsh_in_worker()) {
        /* the front end runs the pager on its own copy (split.c) */
        int mfd = memfd_create("gfsh-more", MFD_CLOEXEC);
        int dfd = mfd >= 0 ? dup(mfd) : -1;
        FILE *fp = dfd >= 0 ? fdopen(dfd, "w") : NULL;
        if (!fp) {
            gfsh_err(cmd, "temporary file: %s", strerror(errno));
            if (dfd >= 0)
                close(dfd);
            if (mfd >= 0)
                close(mfd);
            return -1;
        }
        struct out_sink o = {sh, cmd, fp};
        int r = io_stream(cmd, a->argv[0], &n, 0, st.size, io_out_sink, &o);
        if (fclose(fp) != 0 && r == 0) {
            gfsh_err(cmd, "temporary file: %s", strerror(errno));
            r = -1;
        }
        if (r == 0 && gfsh_worker_page(mfd) < 0)
            gfsh_err(cmd, "pager: %s", strerror(errno));
        close(mfd);
        return r < 0 ? -1 : 0;
    }
    char tmpl[] = "/tmp/gfsh-more.XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        gfsh_err(cmd, "temporary file: %s", strerror(errno));
        return -1;
    }
    FILE *fp = fdopen(fd, "w");
    struct out_sink o = {sh, cmd, fp};
    int r = io_stream(cmd, a->argv[0], &n, 0, st.size, io_out_sink, &o);
    if (fclose(fp) != 0 && r == 0) {
        gfsh_err(cmd, "temporary file: %s", strerror(errno));
        r = -1;
    }
    if (r == 0) {
        const char *pager = getenv("PAGER");
        char *c = gk_asprintf("%s '%s'", pager && *pager ? pager : "more", tmpl);
        fflush(stdout);
        if (system(c) == -1)
            gfsh_err(cmd, "%s: %s", c, strerror(errno));
        free(c);
    }
    unlink(tmpl);
    return r < 0 ? -1 : 0;
}

static int head_tail(gfsh *sh, const gfsh_cmd *cmd, const char *path, int64_t n, int tail)
{
    char *buf;
    size_t len;
    if (io_read_all(sh, cmd, path, &buf, &len) < 0)
        return -1;
    lines l;
    io_split_lines(buf, len, &l);
    size_t from = 0, to = l.n;
    uint64_t an = n < 0 ? (uint64_t)(-(n + 1)) + 1 : (uint64_t)n;
    if (!tail) {
        if (n >= 0)
            to = an < l.n ? (size_t)an : l.n;
        else
            to = an < l.n ? l.n - (size_t)an : 0;
    } else {
        if (n > 0)
            from = an < l.n ? l.n - (size_t)an : 0;
        else if (n < 0)
            from = an - 1 < l.n ? (size_t)(an - 1) : l.n;
        else
            from = l.n;
    }
    int r = io_print_lines(sh, cmd, &l, from, to);
    free(l.p);
    free(l.len);
    free(buf);
    return r;
}

int run_head(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    if (a->argc == 2)
        return head_tail(sh, cmd, a->argv[1], a->num[0], 0);
    return head_tail(sh, cmd, a->argv[0], 10, 0);
}

int run_tail(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    if (a->argc == 2)
        return head_tail(sh, cmd, a->argv[1], a->num[0], 1);
    return head_tail(sh, cmd, a->argv[0], 10, 1);
}

int run_read_lines(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    char *buf;
    size_t len;
    if (io_read_all(sh, cmd, a->argv[0], &buf, &len) < 0)
        return -1;
    lines l;
    io_split_lines(buf, len, &l);
    int r = io_print_lines(sh, cmd, &l, 0, l.n);
    free(l.p);
    free(l.len);
    free(buf);
    return r;
}

int run_filesize(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_stat st;
    if (gk_vfs_stat(sh->g->vfs, a->argv[0], &st) < 0) {
        io_path_err(cmd, a->argv[0]);
        return -1;
    }
    printf("%" PRIu64 "\n", st.size);
    return 0;
}

/* ------------------------------------------------------------------ */
/* download, copy-out                                                  */

static int download(gfsh *sh, const gfsh_cmd *cmd, const char *path, const char *dest,
                    uint64_t off, uint64_t len, int ranged)
{
    gk_node n;
    gk_stat st;
    if (io_open_reg(sh, cmd, path, &n, &st) < 0)
        return -1;
    if (!ranged)
        len = st.size;
    else if (off >= st.size)
        len = 0;
    else if (len > st.size - off)
        len = st.size - off;
    FILE *fp = io_open_out(cmd, dest);
    if (!fp)
        return -1;
    struct out_sink o = {sh, cmd, fp};
    int r = io_stream(cmd, path, &n, off, len, io_out_sink, &o);
    /* no half-written file is left behind */
    return io_close_out(cmd, dest, fp, r < 0 ? -1 : 0);
}

int run_download(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    return download(sh, cmd, a->argv[0], a->argv[1], 0, 0, 0);
}

int run_download_offset(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    if (a->num[2] < 0 || a->num[3] < 0) {
        gfsh_err(cmd, "offset and size must not be negative");
        return -1;
    }
    return download(sh, cmd, a->argv[0], a->argv[1], (uint64_t)a->num[2], (uint64_t)a->num[3], 1);
}

/* copy-out: guestfish pipes tar-out into the host's tar -x; we use the
 * copy engine gcopy-out uses (tools/hostio.h), which keeps what tar keeps
 * (owners, set-id bits and device nodes only as root) and never follows a
 * symlink already in the destination. */
static void copy_report(void *ud, int warning, const char *msg)
{
    const gfsh_cmd *cmd = ud;
    if (warning)
        gk_warn("%s: %s", cmd->name, msg);
    else
        gfsh_err(cmd, "%s", msg);
}

static int copy_interrupted(void *ud)
{
    (void)ud;
    return gfsh_interrupted != 0;
}

int run_copy_out(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    const char *dest = a->argv[a->argc - 1];
    int dfd = gfsh_in_worker() ? gfsh_worker_open_dir(dest) :
              open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        gfsh_err(cmd, "target '%s' is not a directory", dest);
        return -1;
    }
    gk_copyout_opts co = {
        .hostdir = dest,
        .report = copy_report,
        .interrupted = copy_interrupted,
        .ud = (void *)cmd,
    };
    gk_copyout *cp = gk_copyout_new(sh->g->vfs, dfd, &co);
    int r = 0;
    for (int i = 0; i < a->argc - 1 && r == 0; i++) {
        const char *g = a->argv[i];
        if (g[0] != '/') {
            gfsh_err(cmd, "%s: remote must be an absolute path (start with /)", g);
            r = -1;
            break;
        }
        gk_node n;
        gk_stat st;
        if (gk_vfs_resolve(sh->g->vfs, g, 1, &n) < 0 || gk_node_stat(&n, &st) < 0) {
            io_path_err(cmd, g);
            r = -1;
            break;
        }
        if (!S_ISDIR(st.mode) && !S_ISREG(st.mode)) {
            gfsh_err(cmd, "%s: not a file or directory", g);
            r = -1;
            break;
        }
        /* the last component, as cp -r and guestfish name the copy */
        char *copy = gk_strdup(g);
        size_t len = strlen(copy);
        while (len > 1 && copy[len - 1] == '/')
            copy[--len] = 0;
        const char *base = strrchr(copy, '/') + 1;
        r = gk_copyout_tree(cp, &n, g, *base ? base : NULL);
        free(copy);
    }
    gk_copyout_free(cp);
    close(dfd);
    if (io_interrupted(cmd))
        r = -1;
    return r;
}

/* ------------------------------------------------------------------ */
/* hexdump, strings, read-file                                         */

int run_read_file(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    return run_cat(sh, cmd, a);
}

/* hexdump -C: 16 bytes a line, repeated lines squeezed into "*". */
struct hexdump { gfsh *sh; const gfsh_cmd *cmd; uint64_t off; unsigned char line[16], prev[16];
                 size_t n; int have_prev, squeezing; };

static int hex_line(struct hexdump *h, int last)
{
    char buf[128];
    if (!last && h->n == 16 && h->have_prev && memcmp(h->line, h->prev, 16) == 0) {
        int r = 0;
        if (!h->squeezing)
            r = io_write(h->sh, h->cmd, stdout, "*\n", 2);
        h->squeezing = 1;
        h->off += 16;
        h->n = 0;
        return r;
    }
    h->squeezing = 0;
    int k = snprintf(buf, sizeof buf, "%08" PRIx64 "  ", h->off);
    for (size_t i = 0; i < 16; i++) {
        if (i < h->n)
            k += snprintf(buf + k, sizeof buf - (size_t)k, "%02x ", h->line[i]);
        else
            k += snprintf(buf + k, sizeof buf - (size_t)k, "   ");
        if (i == 7)
            buf[k++] = ' ';
    }
    buf[k++] = ' ';
    buf[k++] = '|';
    for (size_t i = 0; i < h->n; i++)
        buf[k++] = h->line[i] >= 0x20 && h->line[i] < 0x7f ? (char)h->line[i] : '.';
    buf[k++] = '|';
    buf[k++] = '\n';
    memcpy(h->prev, h->line, 16);
    h->have_prev = h->n == 16;
    h->off += h->n;
    h->n = 0;
    return io_write(h->sh, h->cmd, stdout, buf, (size_t)k);
}

static int hex_sink(void *ud, const void *buf, size_t n)
{
    struct hexdump *h = ud;
    const unsigned char *p = buf;
    for (size_t i = 0; i < n; i++) {
        h->line[h->n++] = p[i];
        if (h->n == 16) {
            int r = hex_line(h, 0);
            if (r)
                return r;
        }
    }
    return 0;
}

int run_hexdump(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_node n;
    gk_stat st;
    if (io_open_reg(sh, cmd, a->argv[0], &n, &st) < 0)
        return -1;
    struct hexdump *h = gk_calloc(1, sizeof *h);
    h->sh = sh;
    h->cmd = cmd;
    int r = io_stream(cmd, a->argv[0], &n, 0, st.size, hex_sink, h);
    if (r == 0 && h->n > 0)
        r = hex_line(h, 1);
    if (r == 0 && h->off > 0)
        printf("%08" PRIx64 "\n", h->off);
    free(h);
    return r < 0 ? -1 : 0;
}

/* strings -e ENC: runs of at least 4 printable characters (or tabs);
 * characters are 1, 2 or 4 bytes (s/S, b/l, B/L), printable 7-bit, or
 * also 8-bit for S. */
struct strs {
    gfsh *sh; const gfsh_cmd *cmd; char run[4096]; size_t n; int longrun;
    int unit, be, eight;
    unsigned char part[4]; int npart;
};

static int strs_flush(struct strs *s)
{
    int r = 0;
    if (s->n >= 4 || s->longrun) {
        r = io_write(s->sh, s->cmd, stdout, s->run, s->n);
        if (r == 0)
            r = io_write(s->sh, s->cmd, stdout, "\n", 1);
    }
    s->n = 0;
    s->longrun = 0;
    return r;
}

static int strs_char(struct strs *s, uint32_t c)
{
    if ((c >= 0x20 && c < 0x7f) || c == '\t' || (s->eight && c >= 0x80 && c <= 0xff)) {
        if (s->n == sizeof s->run) {
            /* a long run goes out in pieces, as one line */
            if (io_write(s->sh, s->cmd, stdout, s->run, s->n))
                return -1;
            s->n = 0;
            s->longrun = 1;
        }
        s->run[s->n++] = (char)c;
    } else if (s->n || s->longrun) {
        return strs_flush(s);
    }
    return 0;
}

static int strs_sink(void *ud, const void *buf, size_t n)
{
    struct strs *s = ud;
    const unsigned char *p = buf;
    for (size_t i = 0; i < n; i++) {
        s->part[s->npart++] = p[i];
        if (s->npart < s->unit)
            continue;
        uint32_t c = 0;
        for (int k = 0; k < s->unit; k++)
            c |= (uint32_t)s->part[s->be ? s->unit - 1 - k : k] << (8 * k);
        s->npart = 0;
        int r = strs_char(s, c);
        if (r)
            return r;
    }
    return 0;
}

int run_strings(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_node n;
    gk_stat st;
    const char *path = a->argv[strcmp(cmd->name, "strings-e") == 0 ? 1 : 0];
    if (io_open_reg(sh, cmd, path, &n, &st) < 0)
        return -1;
    struct strs *s = gk_calloc(1, sizeof *s);
    s->sh = sh;
    s->cmd = cmd;
    s->unit = 1;
    if (strcmp(cmd->name, "strings-e") == 0) {
        const char *e = a->argv[0];
        if (strlen(e) != 1 || !strchr("sSbBlL", e[0])) {
            gfsh_err(cmd, "%.32s: encoding must be one of s S b B l L (as strings -e)", e);
            free(s);
            return -1;
        }
        s->eight = e[0] == 'S';
        s->unit = e[0] == 'b' || e[0] == 'l' ? 2 : e[0] == 'B' || e[0] == 'L' ? 4 : 1;
        s->be = e[0] == 'b' || e[0] == 'B';
    }
    int r = io_stream(cmd, path, &n, 0, st.size, strs_sink, s);
    if (r == 0)
        r = strs_flush(s);
    free(s);
    return r < 0 ? -1 : 0;
}
