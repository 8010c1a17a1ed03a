/* Commands that read guest files and directories, through the guest VFS. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "gfsh.h"

/* Files read whole (head, tail, grep) must fit in this. */
#define READ_ALL_MAX (512u << 20)
#define CHUNK (256 * 1024)
/* Directory nesting beyond this is a corrupt (looping) filesystem. */
#define MAX_DEPTH 256

static void path_err(const gfsh_cmd *cmd, const char *path)
{
    gfsh_err_about(cmd, path);
}

static int interrupted(const gfsh_cmd *cmd)
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
static int out_write(gfsh *sh, const gfsh_cmd *cmd, FILE *fp, const void *buf, size_t n)
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
static int open_reg(gfsh *sh, const gfsh_cmd *cmd, const char *path, gk_node *n, gk_stat *st)
{
    if (gk_vfs_resolve(sh->g->vfs, path, 1, n) < 0 || gk_node_stat(n, st) < 0) {
        path_err(cmd, path);
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

typedef int (*sink_fn)(void *ud, const void *buf, size_t n);

/* Read [off, off+len) of a file in chunks into sink; checks Ctrl-C.
 * Returns 0, 1 if the sink asked to stop, -1 on error (printed). */
static int stream(const gfsh_cmd *cmd, const char *path, gk_node *n, uint64_t off,
                  uint64_t len, sink_fn sink, void *ud)
{
    char *buf = gk_malloc(CHUNK);
    int r = 0;
    while (len > 0) {
        if (interrupted(cmd)) {
            r = -1;
            break;
        }
        size_t want = len < CHUNK ? (size_t)len : CHUNK;
        ssize_t got = gk_node_read(n, buf, want, off);
        if (got < 0) {
            path_err(cmd, path);
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

struct out_sink { gfsh *sh; const gfsh_cmd *cmd; FILE *fp; };

static int out_sink_fn(void *ud, const void *buf, size_t n)
{
    struct out_sink *o = ud;
    int r = out_write(o->sh, o->cmd, o->fp, buf, n);
    if (r < 0 && gfsh_interrupted)
        return interrupted(o->cmd) ? -1 : -1;
    return r;
}

int run_cat(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_node n;
    gk_stat st;
    if (open_reg(sh, cmd, a->argv[0], &n, &st) < 0)
        return -1;
    struct out_sink o = {sh, cmd, stdout};
    int r = stream(cmd, a->argv[0], &n, 0, st.size, out_sink_fn, &o);
    return r < 0 ? -1 : 0;
}

int run_more(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    if (sh->in_pipe || !isatty(1))
        return run_cat(sh, cmd, a);
    gk_node n;
    gk_stat st;
    if (open_reg(sh, cmd, a->argv[0], &n, &st) < 0)
        return -1;
    char tmpl[] = "/tmp/gfsh-more.XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        gfsh_err(cmd, "temporary file: %s", strerror(errno));
        return -1;
    }
    FILE *fp = fdopen(fd, "w");
    struct out_sink o = {sh, cmd, fp};
    int r = stream(cmd, a->argv[0], &n, 0, st.size, out_sink_fn, &o);
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

struct mem_sink { char *buf; size_t len; };

static int mem_sink_fn(void *ud, const void *buf, size_t n)
{
    struct mem_sink *m = ud;
    memcpy(m->buf + m->len, buf, n);
    m->len += n;
    return 0;
}

/* A whole regular file in memory (NUL-terminated for convenience). */
static int read_all(gfsh *sh, const gfsh_cmd *cmd, const char *path, char **out, size_t *len)
{
    gk_node n;
    gk_stat st;
    if (open_reg(sh, cmd, path, &n, &st) < 0)
        return -1;
    if (st.size > READ_ALL_MAX) {
        gfsh_err(cmd, "%s: file too large for this command (%" PRIu64 " bytes)", path, st.size);
        return -1;
    }
    struct mem_sink m = {gk_malloc((size_t)st.size + 1), 0};
    if (stream(cmd, path, &n, 0, st.size, mem_sink_fn, &m) < 0) {
        free(m.buf);
        return -1;
    }
    m.buf[m.len] = 0;
    *out = m.buf;
    *len = m.len;
    return 0;
}

/* Split into lines (without their '\n'); a last line without '\n' counts. */
typedef struct lines { const char **p; size_t *len; size_t n; } lines;

static void split_lines(const char *buf, size_t len, lines *l)
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

static int print_lines(gfsh *sh, const gfsh_cmd *cmd, lines *l, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        int r = out_write(sh, cmd, stdout, l->p[i], l->len[i]);
        if (r == 0)
            r = out_write(sh, cmd, stdout, "\n", 1);
        if (r > 0)
            return 0;
        if (r < 0)
            return -1;
    }
    return 0;
}

static int head_tail(gfsh *sh, const gfsh_cmd *cmd, const char *path, int64_t n, int tail)
{
    char *buf;
    size_t len;
    if (read_all(sh, cmd, path, &buf, &len) < 0)
        return -1;
    lines l;
    split_lines(buf, len, &l);
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
    int r = print_lines(sh, cmd, &l, from, to);
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
    if (read_all(sh, cmd, a->argv[0], &buf, &len) < 0)
        return -1;
    lines l;
    split_lines(buf, len, &l);
    int r = print_lines(sh, cmd, &l, 0, l.n);
    free(l.p);
    free(l.len);
    free(buf);
    return r;
}

int run_filesize(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_stat st;
    if (gk_vfs_stat(sh->g->vfs, a->argv[0], &st) < 0) {
        path_err(cmd, a->argv[0]);
        return -1;
    }
    printf("%" PRIu64 "\n", st.size);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Directories                                                         */

typedef struct dent { char *name; int type; } dent;
typedef struct dlist { dent *v; size_t n, cap; } dlist;

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

static void dlist_free(dlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].name);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int read_dir(gfsh *sh, const gfsh_cmd *cmd, const char *path, dlist *l)
{
    memset(l, 0, sizeof *l);
    if (gk_vfs_readdir(sh->g->vfs, path, collect_cb, l) < 0) {
        path_err(cmd, path);
        dlist_free(l);
        return -1;
    }
    if (interrupted(cmd)) {
        dlist_free(l);
        return -1;
    }
    if (l->n > 1)
        qsort(l->v, l->n, sizeof *l->v, cmp_dent);
    return 0;
}

static char *join(const char *dir, const char *name)
{
    size_t dl = strlen(dir);
    return gk_asprintf("%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", name);
}

int run_ls(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    dlist l;
    if (read_dir(sh, cmd, a->argv[0], &l) < 0)
        return -1;
    for (size_t i = 0; i < l.n; i++)
        printf("%s\n", l.v[i].name);
    dlist_free(&l);
    return 0;
}

static void mode_string(uint32_t m, char *s)
{
    s[0] = S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' :
           S_ISFIFO(m) ? 'p' : S_ISSOCK(m) ? 's' : '-';
    const char *rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; i++)
        s[1 + i] = (m & (0400u >> i)) ? rwx[i] : '-';
    if (m & S_ISUID) s[3] = (m & 0100) ? 's' : 'S';
    if (m & S_ISGID) s[6] = (m & 0010) ? 's' : 'S';
    if (m & S_ISVTX) s[9] = (m & 0001) ? 't' : 'T';
    s[10] = 0;
}

struct ll_row { char mode[11]; char nlink[24], uid[24], gid[24], size[48], date[32]; char *name; };

int run_ll(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    const char *dir = a->argv[0];
    dlist l;
    if (read_dir(sh, cmd, dir, &l) < 0)
        return -1;
    size_t n = l.n + 2;
    struct ll_row *rows = gk_calloc(n, sizeof *rows);
    uint64_t total = 0;
    int w[5] = {0};
    time_t now = time(NULL);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = i == 0 ? "." : i == 1 ? ".." : l.v[i - 2].name;
        char *p = join(dir, name);
        gk_stat st;
        if (gk_vfs_lstat(sh->g->vfs, p, &st) < 0) {
            free(p);
            continue;
        }
        struct ll_row *r = &rows[k++];
        mode_string(st.mode, r->mode);
        snprintf(r->nlink, sizeof r->nlink, "%u", st.nlink);
        if (st.uid == 0) snprintf(r->uid, sizeof r->uid, "root");
        else snprintf(r->uid, sizeof r->uid, "%u", st.uid);
        if (st.gid == 0) snprintf(r->gid, sizeof r->gid, "root");
        else snprintf(r->gid, sizeof r->gid, "%u", st.gid);
        if (S_ISCHR(st.mode) || S_ISBLK(st.mode))
            snprintf(r->size, sizeof r->size, "%u, %u", (unsigned)((st.rdev >> 8) & 0xfff),
                     (unsigned)((st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)));
        else
            snprintf(r->size, sizeof r->size, "%" PRIu64, st.size);
        time_t t = st.mtime.tv_sec;
        struct tm tm;
        gmtime_r(&t, &tm);
        if (t > now - 15778476 && t <= now + 3600)
            strftime(r->date, sizeof r->date, "%b %e %H:%M", &tm);
        else
            strftime(r->date, sizeof r->date, "%b %e  %Y", &tm);
        total += st.blocks;
        if (S_ISLNK(st.mode)) {
            char target[4097];
            ssize_t tl = gk_vfs_readlink(sh->g->vfs, p, target, sizeof target - 1);
            target[tl > 0 ? tl : 0] = 0;
            r->name = gk_asprintf("%s -> %s", name, target);
        } else {
            r->name = gk_strdup(name);
        }
        int lens[5] = {(int)strlen(r->nlink), (int)strlen(r->uid), (int)strlen(r->gid),
                       (int)strlen(r->size), 0};
        for (int j = 0; j < 4; j++)
            if (lens[j] > w[j])
                w[j] = lens[j];
        free(p);
    }
    printf("total %" PRIu64 "\n", (total + 1) / 2);
    for (size_t i = 0; i < k; i++) {
        struct ll_row *r = &rows[i];
        printf("%s %*s %-*s %-*s %*s %s %s\n", r->mode, w[0], r->nlink, w[1], r->uid, w[2], r->gid,
               w[3], r->size, r->date, r->name);
        free(r->name);
    }
    free(rows);
    dlist_free(&l);
    return 0;
}

typedef struct pathv { char **v; size_t n, cap; } pathv;

static void pathv_add(pathv *p, char *s)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->v = gk_realloc(p->v, p->cap * sizeof *p->v);
    }
    p->v[p->n++] = s;
}

static void pathv_free(pathv *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_dir_entry(gfsh *sh, const char *abs, int d_type)
{
    if (d_type == DT_DIR)
        return 1;
    if (d_type != DT_UNKNOWN)
        return 0;
    gk_stat st;
    return gk_vfs_lstat(sh->g->vfs, abs, &st) == 0 && S_ISDIR(st.mode);
}

static int find_walk(gfsh *sh, const gfsh_cmd *cmd, const char *abs, const char *rel,
                     int depth, pathv *out)
{
    if (depth > MAX_DEPTH) {
        gfsh_err(cmd, "%s: directories nested too deeply (a loop in a corrupt filesystem?)", abs);
        return -1;
    }
    dlist l;
    if (read_dir(sh, cmd, abs, &l) < 0)
        return -1;
    int r = 0;
    for (size_t i = 0; i < l.n && r == 0; i++) {
        size_t rl = strlen(rel);
        char *ra = gk_asprintf("%s%s%s", rel, rl && rel[rl - 1] != '/' ? "/" : "", l.v[i].name);
        char *aa = join(abs, l.v[i].name);
        pathv_add(out, ra);
        if (is_dir_entry(sh, aa, l.v[i].type))
            r = find_walk(sh, cmd, aa, ra, depth + 1, out);
        free(aa);
    }
    dlist_free(&l);
    return r;
}

static int find_all(gfsh *sh, const gfsh_cmd *cmd, const char *dir, pathv *out)
{
    gk_stat st;
    memset(out, 0, sizeof *out);
    if (gk_vfs_stat(sh->g->vfs, dir, &st) < 0) {
        path_err(cmd, dir);
        return -1;
    }
    if (!S_ISDIR(st.mode)) {
        gfsh_err(cmd, "%s: not a directory", dir);
        return -1;
    }
    /* guestfish strips the directory as given from find's output: the
     * names keep a leading '/' unless it ends with one (find / gives
     * "etc", find /etc gives "/passwd"). */
    size_t dl = strlen(dir);
    if (find_walk(sh, cmd, dir, dl && dir[dl - 1] == '/' ? "" : "/", 0, out) < 0) {
        pathv_free(out);
        return -1;
    }
    if (out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, cmp_strp);
    return 0;
}

int run_find(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    pathv p;
    if (find_all(sh, cmd, a->argv[0], &p) < 0)
        return -1;
    int r = 0;
    for (size_t i = 0; i < p.n && r == 0; i++) {
        r = out_write(sh, cmd, stdout, p.v[i], strlen(p.v[i]));
        if (r == 0)
            r = out_write(sh, cmd, stdout, "\n", 1);
    }
    pathv_free(&p);
    return r < 0 ? -1 : 0;
}

/* A host output file; "-" is the shell's output. */
static FILE *open_host_out(const gfsh_cmd *cmd, const char *name)
{
    if (strcmp(name, "-") == 0)
        return stdout;
    FILE *fp = fopen(name, "w");
    if (!fp)
        gfsh_err(cmd, "%s: %s", name, strerror(errno));
    return fp;
}

static int close_host_out(const gfsh_cmd *cmd, const char *name, FILE *fp, int r)
{
    if (fp == stdout)
        return r;
    if (fclose(fp) != 0 && r == 0) {
        gfsh_err(cmd, "%s: %s", name, strerror(errno));
        return -1;
    }
    return r;
}

int run_find0(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    pathv p;
    if (find_all(sh, cmd, a->argv[0], &p) < 0)
        return -1;
    FILE *fp = open_host_out(cmd, a->argv[1]);
    int r = fp ? 0 : -1;
    for (size_t i = 0; fp && i < p.n && r == 0; i++)
        r = out_write(sh, cmd, fp, p.v[i], strlen(p.v[i]) + 1);
    if (fp)
        r = close_host_out(cmd, a->argv[1], fp, r);
    pathv_free(&p);
    return r < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* stat and friends                                                    */

static int get_stat(gfsh *sh, const gfsh_cmd *cmd, const char *path, int follow, gk_stat *st)
{
    int r = follow ? gk_vfs_stat(sh->g->vfs, path, st) : gk_vfs_lstat(sh->g->vfs, path, st);
    if (r < 0)
        path_err(cmd, path);
    return r;
}

int run_stat(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_stat st;
    if (get_stat(sh, cmd, a->argv[0], cmd->name[0] != 'l', &st) < 0)
        return -1;
    printf("dev: %" PRIi64 "\nino: %" PRIi64 "\nmode: %" PRIi64 "\nnlink: %" PRIi64 "\n"
           "uid: %" PRIi64 "\ngid: %" PRIi64 "\nrdev: %" PRIi64 "\nsize: %" PRIi64 "\n"
           "blksize: %" PRIi64 "\nblocks: %" PRIi64 "\natime: %" PRIi64 "\nmtime: %" PRIi64 "\n"
           "ctime: %" PRIi64 "\n",
           (int64_t)st.dev, (int64_t)st.ino, (int64_t)st.mode, (int64_t)st.nlink,
           (int64_t)st.uid, (int64_t)st.gid, (int64_t)st.rdev, (int64_t)st.size,
           (int64_t)st.blksize, (int64_t)st.blocks, (int64_t)st.atime.tv_sec,
           (int64_t)st.mtime.tv_sec, (int64_t)st.ctime.tv_sec);
    return 0;
}

int run_statns(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_stat st;
    if (get_stat(sh, cmd, a->argv[0], cmd->name[0] != 'l', &st) < 0)
        return -1;
    printf("st_dev: %" PRIi64 "\nst_ino: %" PRIi64 "\nst_mode: %" PRIi64 "\nst_nlink: %" PRIi64 "\n"
           "st_uid: %" PRIi64 "\nst_gid: %" PRIi64 "\nst_rdev: %" PRIi64 "\nst_size: %" PRIi64 "\n"
           "st_blksize: %" PRIi64 "\nst_blocks: %" PRIi64 "\n"
           "st_atime_sec: %" PRIi64 "\nst_atime_nsec: %" PRIi64 "\n"
           "st_mtime_sec: %" PRIi64 "\nst_mtime_nsec: %" PRIi64 "\n"
           "st_ctime_sec: %" PRIi64 "\nst_ctime_nsec: %" PRIi64 "\n"
           "st_spare1: 0\nst_spare2: 0\nst_spare3: 0\nst_spare4: 0\nst_spare5: 0\nst_spare6: 0\n",
           (int64_t)st.dev, (int64_t)st.ino, (int64_t)st.mode, (int64_t)st.nlink,
           (int64_t)st.uid, (int64_t)st.gid, (int64_t)st.rdev, (int64_t)st.size,
           (int64_t)st.blksize, (int64_t)st.blocks,
           (int64_t)st.atime.tv_sec, (int64_t)st.atime.tv_nsec,
           (int64_t)st.mtime.tv_sec, (int64_t)st.mtime.tv_nsec,
           (int64_t)st.ctime.tv_sec, (int64_t)st.ctime.tv_nsec);
    return 0;
}

int run_readlink(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    char buf[4097];
    ssize_t n = gk_vfs_readlink(sh->g->vfs, a->argv[0], buf, sizeof buf - 1);
    if (n < 0) {
        path_err(cmd, a->argv[0]);
        return -1;
    }
    buf[n] = 0;
    printf("%s\n", buf);
    return 0;
}

int run_realpath(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    char *p = gk_vfs_realpath(sh->g->vfs, a->argv[0]);
    if (!p) {
        path_err(cmd, a->argv[0]);
        return -1;
    }
    printf("%s\n", p);
    free(p);
    return 0;
}

/* ------------------------------------------------------------------ */
/* checksum                                                            */

/* POSIX cksum: CRC-32 (polynomial 0x04C11DB7, MSB first) over the data
 * followed by its length, least significant byte first, inverted. */
struct cksum { uint32_t crc; uint64_t len; uint32_t table[256]; };

static void cksum_init(struct cksum *c)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t r = i << 24;
        for (int j = 0; j < 8; j++)
            r = (r & 0x80000000u) ? (r << 1) ^ 0x04C11DB7u : r << 1;
        c->table[i] = r;
    }
    c->crc = 0;
    c->len = 0;
}

static void cksum_byte(struct cksum *c, uint8_t b)
{
    c->crc = (c->crc << 8) ^ c->table[((c->crc >> 24) ^ b) & 0xff];
}

static int cksum_sink(void *ud, const void *buf, size_t n)
{
    struct cksum *c = ud;
    const uint8_t *p = buf;
    for (size_t i = 0; i < n; i++)
        cksum_byte(c, p[i]);
    c->len += n;
    return 0;
}

static int evp_sink(void *ud, const void *buf, size_t n)
{
    return EVP_DigestUpdate(ud, buf, n) == 1 ? 0 : -1;
}

static int checksum_type_ok(const gfsh_cmd *cmd, const char *type)
{
    static const char *known[] = {"crc", "md5", "sha1", "sha224", "sha256", "sha384", "sha512"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcasecmp(type, known[i]) == 0)
            return 1;
    gfsh_err(cmd, "%.64s: unknown checksum type (crc, md5, sha1, sha224, sha256, sha384, sha512)", type);
    return 0;
}

/* The checksum of a regular file as text: hex for the digests, the decimal
 * CRC for crc.  *size is set to the file size. */
static int digest_file(gfsh *sh, const gfsh_cmd *cmd, const char *type, const char *path,
                       char *out, size_t outsz, uint64_t *size)
{
    gk_node n;
    gk_stat st;
    if (open_reg(sh, cmd, path, &n, &st) < 0)
        return -1;
    *size = st.size;
    if (strcasecmp(type, "crc") == 0) {
        struct cksum *c = gk_malloc(sizeof *c);
        cksum_init(c);
        int r = stream(cmd, path, &n, 0, st.size, cksum_sink, c);
        if (r == 0) {
            for (uint64_t l = c->len; l; l >>= 8)
                cksum_byte(c, (uint8_t)(l & 0xff));
            snprintf(out, outsz, "%" PRIu32, ~c->crc);
        }
        free(c);
        return r < 0 ? -1 : 0;
    }
    char lname[16];
    snprintf(lname, sizeof lname, "%s", type);
    for (char *p = lname; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    const EVP_MD *md = EVP_get_digestbyname(lname);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!md || !ctx || EVP_DigestInit_ex(ctx, md, NULL) != 1) {
        gfsh_err(cmd, "%s: digest not available in libcrypto", lname);
        EVP_MD_CTX_free(ctx);
        return -1;
    }
    int r = stream(cmd, path, &n, 0, st.size, evp_sink, ctx);
    if (r == 0) {
        unsigned char dig[EVP_MAX_MD_SIZE];
        unsigned int dl = 0;
        EVP_DigestFinal_ex(ctx, dig, &dl);
        for (unsigned i = 0; i < dl && 2 * i + 2 < outsz; i++)
            snprintf(out + 2 * i, outsz - 2 * i, "%02x", dig[i]);
    }
    EVP_MD_CTX_free(ctx);
    return r < 0 ? -1 : 0;
}

int run_checksum(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    char sum[2 * EVP_MAX_MD_SIZE + 1];
    uint64_t size;
    if (!checksum_type_ok(cmd, a->argv[0]) ||
        digest_file(sh, cmd, a->argv[0], a->argv[1], sum, sizeof sum, &size) < 0)
        return -1;
    printf("%s\n", sum);
    return 0;
}

static int find_all(gfsh *sh, const gfsh_cmd *cmd, const char *dir, pathv *out);

/* checksums-out: the output of `cd DIR && find -type f | xargs CSUMsum`
 * (cksum for crc), sorted by path, to a host file. */
int run_checksums_out(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    const char *type = a->argv[0];
    char *dir = gk_strdup(a->argv[1]);
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dir[--dl] = 0;
    pathv p;
    if (!checksum_type_ok(cmd, type) || find_all(sh, cmd, dir, &p) < 0) {
        free(dir);
        return -1;
    }
    FILE *fp = open_host_out(cmd, a->argv[2]);
    int r = fp ? 0 : -1;
    int crc = strcasecmp(type, "crc") == 0;
    for (size_t i = 0; fp && i < p.n && r == 0; i++) {
        /* find_all names start with "/" below a directory other than / */
        const char *rel = p.v[i] + (p.v[i][0] == '/');
        char *full = join(dir, rel);
        gk_stat st;
        if (gk_vfs_lstat(sh->g->vfs, full, &st) == 0 && S_ISREG(st.mode)) {
            char sum[2 * EVP_MAX_MD_SIZE + 1];
            uint64_t size;
            if (digest_file(sh, cmd, type, full, sum, sizeof sum, &size) < 0)
                r = -1;
            else if (crc)
                fprintf(fp, "%s %" PRIu64 " ./%s\n", sum, size, rel);
            else if (!strpbrk(rel, "\\\n\r"))
                fprintf(fp, "%s  ./%s\n", sum, rel);
            else {
                /* coreutils escapes such names and marks the line with '\' */
                fprintf(fp, "\\%s  ./", sum);
                for (const char *c = rel; *c; c++) {
                    if (*c == '\\' || *c == '\n' || *c == '\r') {
                        fputc('\\', fp);
                        fputc(*c == '\n' ? 'n' : *c == '\r' ? 'r' : '\\', fp);
                    } else {
                        fputc(*c, fp);
                    }
                }
                fputc('\n', fp);
            }
        }
        free(full);
    }
    if (fp)
        r = close_host_out(cmd, a->argv[2], fp, r);
    pathv_free(&p);
    free(dir);
    return r < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* download, copy-out                                                  */

static int download(gfsh *sh, const gfsh_cmd *cmd, const char *path, const char *dest,
                    uint64_t off, uint64_t len, int ranged)
{
    gk_node n;
    gk_stat st;
    if (open_reg(sh, cmd, path, &n, &st) < 0)
        return -1;
    if (!ranged)
        len = st.size;
    else if (off >= st.size)
        len = 0;
    else if (len > st.size - off)
        len = st.size - off;
    FILE *fp = open_host_out(cmd, dest);
    if (!fp)
        return -1;
    struct out_sink o = {sh, cmd, fp};
    int r = stream(cmd, path, &n, off, len, out_sink_fn, &o);
    r = close_host_out(cmd, dest, fp, r < 0 ? -1 : 0);
    if (r < 0 && fp != stdout)
        unlink(dest); /* no half-written file left behind */
    return r;
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

struct fd_sink { const gfsh_cmd *cmd; const char *name; int fd; };

static int fd_sink_fn(void *ud, const void *buf, size_t n)
{
    struct fd_sink *s = ud;
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(s->fd, p, n);
        if (w < 0) {
            if (errno == EINTR && !gfsh_interrupted)
                continue;
            gfsh_err(s->cmd, "%s: %s", s->name, strerror(errno));
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void set_times(const char *host, const gk_stat *st)
{
    struct timespec ts[2] = {st->atime, st->mtime};
    utimensat(AT_FDCWD, host, ts, AT_SYMLINK_NOFOLLOW);
}

static int copy_tree(gfsh *sh, const gfsh_cmd *cmd, const char *guest, const char *host, int depth);

static int copy_one(gfsh *sh, const gfsh_cmd *cmd, const char *guest, const char *host, int depth)
{
    gk_stat st;
    if (gk_vfs_lstat(sh->g->vfs, guest, &st) < 0) {
        path_err(cmd, guest);
        return -1;
    }
    if (S_ISDIR(st.mode))
        return copy_tree(sh, cmd, guest, host, depth);
    if (S_ISLNK(st.mode)) {
        char target[4097];
        ssize_t tl = gk_vfs_readlink(sh->g->vfs, guest, target, sizeof target - 1);
        if (tl < 0) {
            path_err(cmd, guest);
            return -1;
        }
        target[tl] = 0;
        unlink(host);
        if (symlink(target, host) < 0) {
            gfsh_err(cmd, "%s: %s", host, strerror(errno));
            return -1;
        }
        set_times(host, &st);
        return 0;
    }
    if (S_ISFIFO(st.mode)) {
        unlink(host);
        if (mkfifo(host, st.mode & 07777) < 0) {
            gfsh_err(cmd, "%s: %s", host, strerror(errno));
            return -1;
        }
        set_times(host, &st);
        return 0;
    }
    if (!S_ISREG(st.mode))
        return 0; /* device nodes and sockets are not copied */
    gk_node n;
    if (gk_vfs_resolve(sh->g->vfs, guest, 0, &n) < 0) {
        path_err(cmd, guest);
        return -1;
    }
    int fd = open(host, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        gfsh_err(cmd, "%s: %s", host, strerror(errno));
        return -1;
    }
    struct fd_sink s = {cmd, host, fd};
    int r = stream(cmd, guest, &n, 0, st.size, fd_sink_fn, &s);
    if (r == 0 && fchmod(fd, st.mode & 07777) < 0)
        r = -1;
    if (close(fd) < 0 && r == 0) {
        gfsh_err(cmd, "%s: %s", host, strerror(errno));
        r = -1;
    }
    if (r == 0)
        set_times(host, &st);
    return r < 0 ? -1 : 0;
}

static int copy_tree(gfsh *sh, const gfsh_cmd *cmd, const char *guest, const char *host, int depth)
{
    if (depth > MAX_DEPTH) {
        gfsh_err(cmd, "%s: directories nested too deeply", guest);
        return -1;
    }
    gk_stat st;
    if (gk_vfs_stat(sh->g->vfs, guest, &st) < 0) {
        path_err(cmd, guest);
        return -1;
    }
    if (mkdir(host, 0700) < 0 && errno != EEXIST) {
        gfsh_err(cmd, "%s: %s", host, strerror(errno));
        return -1;
    }
    dlist l;
    if (read_dir(sh, cmd, guest, &l) < 0)
        return -1;
    int r = 0;
    for (size_t i = 0; i < l.n && r == 0; i++) {
        char *g = join(guest, l.v[i].name), *h = join(host, l.v[i].name);
        r = copy_one(sh, cmd, g, h, depth + 1);
        free(g);
        free(h);
    }
    dlist_free(&l);
    chmod(host, st.mode & 07777);
    set_times(host, &st);
    return r;
}

int run_copy_out(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    const char *dest = a->argv[a->argc - 1];
    struct stat hst;
    if (stat(dest, &hst) < 0 || !S_ISDIR(hst.st_mode)) {
        gfsh_err(cmd, "target '%s' is not a directory", dest);
        return -1;
    }
    for (int i = 0; i < a->argc - 1; i++) {
        const char *g = a->argv[i];
        if (g[0] != '/') {
            gfsh_err(cmd, "%s: remote must be an absolute path (start with /)", g);
            return -1;
        }
        gk_stat st;
        if (gk_vfs_stat(sh->g->vfs, g, &st) < 0) {
            path_err(cmd, g);
            return -1;
        }
        /* the last component, as cp -r and guestfish name the copy */
        char *copy = gk_strdup(g);
        size_t len = strlen(copy);
        while (len > 1 && copy[len - 1] == '/')
            copy[--len] = 0;
        const char *base = strrchr(copy, '/') + 1;
        char *h = *base ? join(dest, base) : gk_strdup(dest);
        int r;
        if (S_ISDIR(st.mode)) {
            r = copy_tree(sh, cmd, g, h, 0);
        } else if (S_ISREG(st.mode)) {
            r = download(sh, cmd, g, h, 0, 0, 0);
        } else {
            gfsh_err(cmd, "%s: not a file or directory", g);
            r = -1;
        }
        free(h);
        free(copy);
        if (r < 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* grep                                                                */

static int gunzip(const gfsh_cmd *cmd, const char *path, char **buf, size_t *len)
{
    if (*len < 2 || (unsigned char)(*buf)[0] != 0x1f || (unsigned char)(*buf)[1] != 0x8b)
        return 0; /* not gzip: grep it as it is, like zgrep */
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        gfsh_err(cmd, "%s: zlib initialisation failed", path);
        return -1;
    }
    size_t cap = *len * 4 + 4096, n = 0;
    char *out = gk_malloc(cap + 1);
    z.next_in = (Bytef *)*buf;
    z.avail_in = (uInt)*len;
    int zr;
    do {
        if (n == cap) {
            if (cap >= READ_ALL_MAX) {
                gfsh_err(cmd, "%s: uncompressed data too large", path);
                inflateEnd(&z);
                free(out);
                return -1;
            }
            cap *= 2;
            out = gk_realloc(out, cap + 1);
        }
        z.next_out = (Bytef *)out + n;
        z.avail_out = (uInt)(cap - n);
        zr = inflate(&z, Z_NO_FLUSH);
        n = cap - z.avail_out;
        if (zr == Z_STREAM_END && z.avail_in > 0)
            zr = inflateReset(&z) == Z_OK ? Z_OK : Z_DATA_ERROR; /* concatenated members */
    } while (zr == Z_OK || (zr == Z_BUF_ERROR && n == cap));
    inflateEnd(&z);
    if (zr != Z_STREAM_END) {
        gfsh_err(cmd, "%s: corrupt gzip data", path);
        free(out);
        return -1;
    }
    out[n] = 0;
    free(*buf);
    *buf = out;
    *len = n;
    return 0;
}

int run_grep(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    int extended = 0, fixed = 0, icase = 0, compressed = 0;
    if (strcmp(cmd->name, "grep") == 0) {
        extended = a->set[0] && a->onum[0];
        fixed = a->set[1] && a->onum[1];
        icase = a->set[2] && a->onum[2];
        compressed = a->set[3] && a->onum[3];
    } else {
        extended = strcmp(cmd->name, "egrep") == 0;
        fixed = strcmp(cmd->name, "fgrep") == 0;
        icase = strcmp(cmd->name, "grepi") == 0;
        compressed = strcmp(cmd->name, "zgrep") == 0;
    }
    if (extended && fixed) {
        gfsh_err(cmd, "extended and fixed cannot both be true");
        return -1;
    }
    const char *pat = a->argv[0], *path = a->argv[1];
    regex_t re;
    if (!fixed) {
        int rc = regcomp(&re, pat, REG_NOSUB | (extended ? REG_EXTENDED : 0) | (icase ? REG_ICASE : 0));
        if (rc != 0) {
            char msg[256];
            regerror(rc, &re, msg, sizeof msg);
            gfsh_err(cmd, "%.128s: %s", pat, msg);
            return -1;
        }
    }
    char *buf;
    size_t len;
    int r = read_all(sh, cmd, path, &buf, &len);
    if (r == 0 && compressed)
        r = gunzip(cmd, path, &buf, &len);
    if (r < 0) {
        if (!fixed)
            regfree(&re);
        return -1;
    }
    lines l;
    split_lines(buf, len, &l);
    for (size_t i = 0; i < l.n && r == 0; i++) {
        char *line = gk_strndup(l.p[i], l.len[i]);
        int m = fixed ? (icase ? strcasestr(line, pat) != NULL : strstr(line, pat) != NULL)
                      : regexec(&re, line, 0, NULL, 0) == 0;
        if (m) {
            int w = print_lines(sh, cmd, &l, i, i + 1);
            if (w < 0)
                r = -1;
        }
        free(line);
        if (interrupted(cmd))
            r = -1;
    }
    free(l.p);
    free(l.len);
    free(buf);
    if (!fixed)
        regfree(&re);
    return r;
}

/* ------------------------------------------------------------------ */
/* tests: is-file, is-dir, ..., exists                                 */

int run_is(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    const char *what = cmd->name;
    int follow = strcmp(what, "exists") == 0 || (a->set[0] && a->onum[0]);
    gk_stat st;
    int r = follow ? gk_vfs_stat(sh->g->vfs, a->argv[0], &st) : gk_vfs_lstat(sh->g->vfs, a->argv[0], &st);
    if (r < 0) {
        if (errno == ENOENT || errno == ENOTDIR || (follow && errno == ELOOP)) {
            printf("false\n");
            return 0;
        }
        path_err(cmd, a->argv[0]);
        return -1;
    }
    int t;
    if (strcmp(what, "exists") == 0) t = 1;
    else if (strcmp(what, "is-file") == 0) t = S_ISREG(st.mode);
    else if (strcmp(what, "is-dir") == 0) t = S_ISDIR(st.mode);
    else if (strcmp(what, "is-symlink") == 0) t = S_ISLNK(st.mode);
    else if (strcmp(what, "is-blockdev") == 0) t = S_ISBLK(st.mode);
    else if (strcmp(what, "is-chardev") == 0) t = S_ISCHR(st.mode);
    else if (strcmp(what, "is-fifo") == 0) t = S_ISFIFO(st.mode);
    else t = S_ISSOCK(st.mode);
    printf("%s\n", t ? "true" : "false");
    return 0;
}

/* ------------------------------------------------------------------ */
/* du, df, statvfs                                                     */

typedef struct seen { uint64_t *dev, *ino; size_t n, cap; } seen;

static int seen_add(seen *s, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->dev[i] == dev && s->ino[i] == ino)
            return 0;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 32;
        s->dev = gk_realloc(s->dev, s->cap * sizeof *s->dev);
        s->ino = gk_realloc(s->ino, s->cap * sizeof *s->ino);
    }
    s->dev[s->n] = dev;
    s->ino[s->n++] = ino;
    return 1;
}

static int du_walk(gfsh *sh, const gfsh_cmd *cmd, const char *path, int depth, seen *s, uint64_t *blocks)
{
    gk_stat st;
    if (depth > MAX_DEPTH) {
        gfsh_err(cmd, "%s: directories nested too deeply", path);
        return -1;
    }
    if (gk_vfs_lstat(sh->g->vfs, path, &st) < 0) {
        path_err(cmd, path);
        return -1;
    }
    if (st.nlink > 1 && !S_ISDIR(st.mode) && !seen_add(s, st.dev, st.ino))
        return 0;
    *blocks += st.blocks;
    if (!S_ISDIR(st.mode))
        return 0;
    dlist l;
    if (read_dir(sh, cmd, path, &l) < 0)
        return -1;
    int r = 0;
    for (size_t i = 0; i < l.n && r == 0; i++) {
        char *p = join(path, l.v[i].name);
        r = du_walk(sh, cmd, p, depth + 1, s, blocks);
        free(p);
    }
    dlist_free(&l);
    return r;
}

int run_du(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    seen s = {0};
    uint64_t blocks = 0;
    int r = du_walk(sh, cmd, a->argv[0], 0, &s, &blocks);
    free(s.dev);
    free(s.ino);
    if (r < 0)
        return -1;
    printf("%" PRIu64 "\n", (blocks + 1) / 2);
    return 0;
}

int run_statvfs(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_statvfs sv;
    if (gk_vfs_statvfs(sh->g->vfs, a->argv[0], &sv) < 0) {
        path_err(cmd, a->argv[0]);
        return -1;
    }
    printf("bsize: %" PRIi64 "\nfrsize: %" PRIi64 "\nblocks: %" PRIi64 "\nbfree: %" PRIi64 "\n"
           "bavail: %" PRIi64 "\nfiles: %" PRIi64 "\nffree: %" PRIi64 "\nfavail: %" PRIi64 "\n"
           "fsid: %" PRIi64 "\nflag: %" PRIi64 "\nnamemax: %" PRIi64 "\n",
           (int64_t)sv.bsize, (int64_t)sv.frsize, (int64_t)sv.blocks, (int64_t)sv.bfree,
           (int64_t)sv.bavail, (int64_t)sv.files, (int64_t)sv.ffree, (int64_t)sv.favail,
           (int64_t)sv.fsid, (int64_t)sv.flag, (int64_t)sv.namemax);
    return 0;
}

/* df's columns: Filesystem, 1K-blocks|Size, Used, Available|Avail, Use%,
 * Mounted on; numbers right-aligned, widths fitted to the contents. */
int run_df(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)a;
    int human = strcmp(cmd->name, "df-h") == 0;
    gk_vfs *v = sh->g->vfs;
    int n = gk_vfs_nmounts(v);
    char (*cells)[6][64] = gk_calloc((size_t)n + 1, sizeof *cells);
    snprintf(cells[0][0], 64, "Filesystem");
    snprintf(cells[0][1], 64, human ? "Size" : "1K-blocks");
    snprintf(cells[0][2], 64, "Used");
    snprintf(cells[0][3], 64, human ? "Avail" : "Available");
    snprintf(cells[0][4], 64, "Use%%");
    snprintf(cells[0][5], 64, "Mounted on");
    int rows = 1;
    for (int i = 0; i < n; i++) {
        gk_mount *m = gk_vfs_mount_at(v, i);
        gk_statvfs sv;
        if (gk_vfs_statvfs(v, m->mountpoint, &sv) < 0) {
            path_err(cmd, m->mountpoint);
            continue;
        }
        uint64_t fr = sv.frsize ? sv.frsize : sv.bsize;
        uint64_t total = sv.blocks * fr, used = (sv.blocks - (sv.bfree < sv.blocks ? sv.bfree : sv.blocks)) * fr;
        uint64_t avail = sv.bavail * fr;
        char (*c)[64] = cells[rows++];
        snprintf(c[0], 64, "%.63s", m->device);
        if (human) {
            gk_human_size(total, c[1], 64);
            gk_human_size(used, c[2], 64);
            gk_human_size(avail, c[3], 64);
        } else {
            snprintf(c[1], 64, "%" PRIu64, total / 1024);
            snprintf(c[2], 64, "%" PRIu64, used / 1024);
            snprintf(c[3], 64, "%" PRIu64, avail / 1024);
        }
        uint64_t denom = used + avail;
        if (denom == 0)
            snprintf(c[4], 64, "-");
        else
            snprintf(c[4], 64, "%" PRIu64 "%%", (used * 100 + denom - 1) / denom);
        snprintf(c[5], 64, "%.63s", m->mountpoint);
    }
    int w[6] = {0};
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < 6; j++)
            if ((int)strlen(cells[r][j]) > w[j])
                w[j] = (int)strlen(cells[r][j]);
    for (int r = 0; r < rows; r++)
        printf("%-*s %*s %*s %*s %*s %s\n", w[0], cells[r][0], w[1], cells[r][1], w[2], cells[r][2],
               w[3], cells[r][3], w[4], cells[r][4], cells[r][5]);
    free(cells);
    return 0;
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
            r = out_write(h->sh, h->cmd, stdout, "*\n", 2);
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
    return out_write(h->sh, h->cmd, stdout, buf, (size_t)k);
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
    if (open_reg(sh, cmd, a->argv[0], &n, &st) < 0)
        return -1;
    struct hexdump *h = gk_calloc(1, sizeof *h);
    h->sh = sh;
    h->cmd = cmd;
    int r = stream(cmd, a->argv[0], &n, 0, st.size, hex_sink, h);
    if (r == 0 && h->n > 0)
        r = hex_line(h, 1);
    if (r == 0 && h->off > 0)
        printf("%08" PRIx64 "\n", h->off);
    free(h);
    return r < 0 ? -1 : 0;
}

/* strings -e s: runs of at least 4 printable 7-bit characters (or tabs). */
struct strs { gfsh *sh; const gfsh_cmd *cmd; char run[4096]; size_t n; int longrun; };

static int strs_flush(struct strs *s)
{
    int r = 0;
    if (s->n >= 4 || s->longrun) {
        r = out_write(s->sh, s->cmd, stdout, s->run, s->n);
        if (r == 0)
            r = out_write(s->sh, s->cmd, stdout, "\n", 1);
    }
    s->n = 0;
    s->longrun = 0;
    return r;
}

static int strs_sink(void *ud, const void *buf, size_t n)
{
    struct strs *s = ud;
    const unsigned char *p = buf;
    for (size_t i = 0; i < n; i++) {
        if ((p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\t') {
            if (s->n == sizeof s->run) {
                /* a long run goes out in pieces, as one line */
                if (out_write(s->sh, s->cmd, stdout, s->run, s->n))
                    return -1;
                s->n = 0;
                s->longrun = 1;
            }
            s->run[s->n++] = (char)p[i];
        } else if (s->n || s->longrun) {
            int r = strs_flush(s);
            if (r)
                return r;
        }
    }
    return 0;
}

int run_strings(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_node n;
    gk_stat st;
    if (open_reg(sh, cmd, a->argv[0], &n, &st) < 0)
        return -1;
    struct strs *s = gk_calloc(1, sizeof *s);
    s->sh = sh;
    s->cmd = cmd;
    int r = stream(cmd, a->argv[0], &n, 0, st.size, strs_sink, s);
    if (r == 0)
        r = strs_flush(s);
    free(s);
    return r < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* extended attributes                                                 */

#define XATTR_MAX (64 * 1024)

/* lgetxattrs/getxattrs: [N] = { attrname, attrval } blocks, the value
 * printed as guestfish prints buffers (printable bytes, others \xNN). */
int run_getxattrs(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    const char *path = a->argv[0];
    char *real = NULL;
    if (cmd->name[0] == 'g') { /* getxattrs follows symlinks */
        if (!(real = gk_vfs_realpath(sh->g->vfs, path))) {
            path_err(cmd, path);
            return -1;
        }
        path = real;
    }
    ssize_t len = gk_vfs_listxattr(sh->g->vfs, path, NULL, 0);
    char *names = NULL;
    if (len > 0) {
        names = gk_malloc((size_t)len + 1);
        len = gk_vfs_listxattr(sh->g->vfs, path, names, (size_t)len);
    }
    if (len < 0) {
        path_err(cmd, a->argv[0]);
        free(names);
        free(real);
        return -1;
    }
    char *val = gk_malloc(XATTR_MAX);
    int idx = 0, r = 0;
    for (ssize_t off = 0; off < len && r == 0;) {
        const char *name = names + off;
        size_t nl = strnlen(name, (size_t)(len - off));
        off += (ssize_t)nl + 1;
        if (nl == 0)
            continue;
        char *nm = gk_strndup(name, nl);
        ssize_t vl = gk_vfs_getxattr(sh->g->vfs, path, nm, val, XATTR_MAX);
        if (vl < 0) {
            path_err(cmd, a->argv[0]);
            r = -1;
        } else {
            if (vl > XATTR_MAX)
                vl = XATTR_MAX;
            printf("[%d] = {\n  attrname: %s\n  attrval: ", idx++, nm);
            for (ssize_t i = 0; i < vl; i++) {
                unsigned char c = (unsigned char)val[i];
                if (c >= 0x20 && c < 0x7f)
                    putchar(c);
                else
                    printf("\\x%02x", c);
            }
            printf("\n}\n");
        }
        free(nm);
    }
    free(val);
    free(names);
    free(real);
    return r;
}

/* getxattr/lgetxattr: the raw value. */
int run_getxattr(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    const char *path = a->argv[0];
    char *real = NULL;
    if (cmd->name[0] == 'g') {
        if (!(real = gk_vfs_realpath(sh->g->vfs, path))) {
            path_err(cmd, path);
            return -1;
        }
        path = real;
    }
    char *val = gk_malloc(XATTR_MAX);
    ssize_t vl = gk_vfs_getxattr(sh->g->vfs, path, a->argv[1], val, XATTR_MAX);
    int r = 0;
    if (vl < 0) {
        path_err(cmd, a->argv[0]);
        r = -1;
    } else {
        r = out_write(sh, cmd, stdout, val, (size_t)(vl > XATTR_MAX ? XATTR_MAX : vl)) < 0 ? -1 : 0;
    }
    free(val);
    free(real);
    return r;
}
