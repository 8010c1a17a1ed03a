/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guest file I/O shared by the commands: streaming reads that check Ctrl-C,
 * output that tells a closed host pipe from an error, directory listings,
 * find, host output files. */
#include <dirent.h>
#include <errno.h>
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

void io_path_err(const gfsh_cmd *cmd, const char *path)
{
    gfsh_err_about(cmd, path);
}

int io_interrupted(const gfsh_cmd *cmd)
{
    if (!gfsh_interrupted)
        return 0;
    __fpurge(stdout); /* drop what is still buffered for the terminal */
    if (isatty(2))
        fputc('\n', stderr); /* after the terminal's ^C */
    gfsh_err(cmd, "interrupted");
    return 1;
}

/* Write to the output.  1 = stop quietly (the host pipe was closed), -1 =
 * error (printed), 0 = written. */
int io_write(gfsh *sh, const gfsh_cmd *cmd, FILE *fp, const void *buf, size_t n)
{
    if (n == 0 || fwrite(buf, 1, n, fp) == n)
        return 0;
    int e = errno;
    if (gfsh_interrupted)
        return -1;
    clearerr(fp);
    if (e == EPIPE && sh->in_pipe && !sh->pipe_error)
        return 1;
    gfsh_err(cmd, "write: %s", strerror(e));
    return -1;
}

/* Resolve path to a regular file (following links). */
int io_open_reg(gfsh *sh, const gfsh_cmd *cmd, const char *path, gk_node *n, gk_stat *st)
{
    if (gk_vfs_resolve(sh->g->vfs, path, 1, n) < 0 || gk_node_stat(n, st) < 0) {
        io_path_err(cmd, path);
        return -1;
    }
    if (S_ISDIR(st->mode)) {
        gfsh_err(cmd, "%s: Is a directory", path);
        return -1;
    }
    if (!S_ISREG(st->mode)) {
        gfsh_err(cmd, "%s: not a regular file", path);
        return -1;
    }
    return 0;
}


/* Read [off, off+len) of a file in chunks into sink; checks Ctrl-C.
 * Returns 0, 1 if the sink asked to stop, -1 on error (printed). */
int io_stream(const gfsh_cmd *cmd, const char *path, gk_node *n, uint64_t off,
                  uint64_t len, sink_fn sink, void *ud)
{
    char *buf = gk_malloc(CHUNK);
    int r = 0;
    while (len > 0) {
        if (io_interrupted(cmd)) {
            r = -1;
            break;
        }
        size_t want = len < CHUNK ? (size_t)len : CHUNK;
        ssize_t got = gk_node_read(n, buf, want, off);
        if (got < 0) {
            io_path_err(cmd, path);
            r = -1;
            break;
        }
        if (got == 0)
            break;
        int s = sink(ud, buf, (size_t)got);
        if (s != 0) {
            r = s;
            break;
        }
        off += (uint64_t)got;
        len -= (uint64_t)got;
    }
    free(buf);
    return r;
}


/* The whole of device dev (name, for messages) in chunks into sink. */
int io_stream_dev(const gfsh_cmd *cmd, const char *name, gk_dev *dev, sink_fn sink, void *ud)
{
    char *buf = gk_malloc(CHUNK);
    int r = 0;
    for (uint64_t off = 0; off < dev->size && r == 0;) {
        if (io_interrupted(cmd)) {
            r = -1;
            break;
        }
        size_t n = dev->size - off < CHUNK ? (size_t)(dev->size - off) : CHUNK;
        if (gk_pread(dev, buf, n, off) < 0) {
            gfsh_err_about(cmd, name);
            r = -1;
            break;
        }
        r = sink(ud, buf, n);
        off += n;
    }
    free(buf);
    return r;
}

int io_out_sink(void *ud, const void *buf, size_t n)
{
    struct out_sink *o = ud;
    int r = io_write(o->sh, o->cmd, o->fp, buf, n);
    if (r < 0 && gfsh_interrupted)
        return io_interrupted(o->cmd) ? -1 : -1;
    return r;
}

struct mem_sink { char *buf; size_t len; };

static int mem_sink_fn(void *ud, const void *buf, size_t n)
{
    struct mem_sink *m = ud;
    memcpy(m->buf + m->len, buf, n);
    m->len += n;
    return 0;
}

/* A whole regular file in memory (NUL-terminated for convenience). */
int io_read_all(gfsh *sh, const gfsh_cmd *cmd, const char *path, char **out, size_t *len)
{
    gk_node n;
    gk_stat st;
    if (io_open_reg(sh, cmd, path, &n, &st) < 0)
        return -1;
    if (st.size > READ_ALL_MAX) {
        gfsh_err(cmd, "%s: file too large for this command (%" PRIu64 " bytes)", path, st.size);
        return -1;
    }
    struct mem_sink m = {gk_malloc((size_t)st.size + 1), 0};
    if (io_stream(cmd, path, &n, 0, st.size, mem_sink_fn, &m) < 0) {
        free(m.buf);
        return -1;
    }
    m.buf[m.len] = 0;
    *out = m.buf;
    *len = m.len;
    return 0;
}

void io_split_lines(const char *buf, size_t len, lines *l)
{
    size_t cap = 64;
    l->p = gk_malloc(cap * sizeof *l->p);
    l->len = gk_malloc(cap * sizeof *l->len);
    l->n = 0;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(buf + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - buf) : len;
        if (l->n == cap) {
            cap *= 2;
            l->p = gk_realloc(l->p, cap * sizeof *l->p);
            l->len = gk_realloc(l->len, cap * sizeof *l->len);
        }
        l->p[l->n] = buf + i;
        l->len[l->n++] = e - i;
        i = e + 1;
    }
}

int io_print_lines(gfsh *sh, const gfsh_cmd *cmd, lines *l, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        int r = io_write(sh, cmd, stdout, l->p[i], l->len[i]);
        if (r == 0)
            r = io_write(sh, cmd, stdout, "\n", 1);
        if (r > 0)
            return 0;
        if (r < 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Directories                                                         */


static int collect_cb(void *opaque, const char *name, uint64_t ino, int d_type)
{
    (void)ino;
    dlist *l = opaque;
    if (gfsh_interrupted)
        return 1;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->v = gk_realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n].name = gk_strdup(name);
    l->v[l->n].type = d_type;
    l->n++;
    return 0;
}

static int cmp_dent(const void *a, const void *b)
{
    return strcmp(((const dent *)a)->name, ((const dent *)b)->name);
}

void io_dlist_free(dlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].name);
    free(l->v);
    memset(l, 0, sizeof *l);
}

int io_read_dir(gfsh *sh, const gfsh_cmd *cmd, const char *path, dlist *l)
{
    memset(l, 0, sizeof *l);
    if (gk_vfs_readdir(sh->g->vfs, path, collect_cb, l) < 0) {
        io_path_err(cmd, path);
        io_dlist_free(l);
        return -1;
    }
    if (io_interrupted(cmd)) {
        io_dlist_free(l);
        return -1;
    }
    if (l->n > 1)
        qsort(l->v, l->n, sizeof *l->v, cmp_dent);
    return 0;
}

char *io_join(const char *dir, const char *name)
{
    size_t dl = strlen(dir);
    return gk_asprintf("%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", name);
}


void io_pathv_add(pathv *p, char *s)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->v = gk_realloc(p->v, p->cap * sizeof *p->v);
    }
    p->v[p->n++] = s;
}

void io_pathv_free(pathv *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
}

/* Everything below dir in `find | sort` order, streamed to fn with the
 * name guestfish's find prints (the directory as given cut off the front:
 * find /etc gives "/passwd", find / and find /etc/ give "passwd").  What
 * cannot be listed is reported and the walk goes on; the result is then
 * -1.  fn returning non-zero stops the walk (that value is returned). */
int io_find(gfsh *sh, const gfsh_cmd *cmd, const char *dir, io_find_fn fn, void *ud)
{
    gk_node top;
    gk_stat st;
    if (gk_vfs_resolve(sh->g->vfs, dir, 1, &top) < 0 || gk_node_stat(&top, &st) < 0) {
        io_path_err(cmd, dir);
        return -1;
    }
    if (!S_ISDIR(st.mode)) {
        gfsh_err(cmd, "%s: not a directory", dir);
        return -1;
    }
    size_t strip = strlen(dir);
    gk_walk *w = gk_walk_new(sh->g->vfs, &top, dir, GK_WALK_PATHORDER | GK_WALK_PATHLIMIT);
    const gk_walk_ent *e;
    int r = 0, failed = 0;
    while (r == 0 && (e = gk_walk_next(w))) {
        if (io_interrupted(cmd)) {
            r = -1;
            break;
        }
        if (e->kind == GK_WALK_ERROR) {
            gfsh_err(cmd, "%s", e->msg);
            failed = 1;
            continue;
        }
        if (e->kind != GK_WALK_ENTRY || e->depth == 0)
            continue;
        r = fn(ud, e->path + (e->pathlen >= strip ? strip : e->pathlen), e);
    }
    gk_walk_free(w);
    return r ? r : failed ? -1 : 0;
}

static int collect_path(void *ud, const char *rel, const gk_walk_ent *e)
{
    (void)e;
    io_pathv_add(ud, gk_strdup(rel));
    return 0;
}

int io_find_all(gfsh *sh, const gfsh_cmd *cmd, const char *dir, pathv *out)
{
    memset(out, 0, sizeof *out);
    if (io_find(sh, cmd, dir, collect_path, out) < 0) {
        io_pathv_free(out);
        return -1;
    }
    return 0;
}

/* Host output files ("-" is the shell's output) through the one safe
 * opener (tools/hostio.h): never through a symlink, removed again when a
 * command fails half way.  gfsh is single-threaded; a few may be open. */
#define NOUT 4
static gk_hostout outs[NOUT];

FILE *io_open_out(const gfsh_cmd *cmd, const char *name)
{
    if (strcmp(name, "-") == 0)
        return stdout;
    if (gfsh_in_worker()) {
        /* the front end opens it (split.c) */
        FILE *fp;
        if (gfsh_worker_open_out(name, &fp) < 0)
            gfsh_err(cmd, "%s", gk_errmsg());
        return fp;
    }
    for (int i = 0; i < NOUT; i++) {
        if (outs[i].path)
            continue;
        FILE *fp = NULL;
        if (gk_hostout_open(&outs[i], name) == 0 && !(fp = gk_hostout_fp(&outs[i])))
            gk_hostout_close(&outs[i], 1);
        if (!fp)
            gfsh_err(cmd, "%s", gk_errmsg());
        return fp;
    }
    gfsh_err(cmd, "%s: too many output files open", name);
    return NULL;
}

int io_close_out(const gfsh_cmd *cmd, const char *name, FILE *fp, int r)
{
    if (fp == stdout)
        return r;
    if (gfsh_in_worker()) {
        if (gfsh_worker_close_out(name, fp, r < 0) < 0 && r == 0) {
            gfsh_err(cmd, "%s", gk_errmsg());
            return -1;
        }
        return r;
    }
    for (int i = 0; i < NOUT; i++) {
        if (outs[i].fp != fp)
            continue;
        if (gk_hostout_close(&outs[i], r < 0) < 0 && r == 0) {
            gfsh_err(cmd, "%s", gk_errmsg());
            return -1;
        }
        return r;
    }
    if (fclose(fp) != 0 && r == 0) {
        gfsh_err(cmd, "%s: %s", name, strerror(errno));
        return -1;
    }
    return r;
}
