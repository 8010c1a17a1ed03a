/* SPDX-License-Identifier: GPL-2.0-or-later */
/* More of guestfish's read-only commands over guest files: file,
 * file-architecture, wc-*, pread(-device), is-zero(-device),
 * ls0, lstat(ns)list, readlinklist, lxattrlist,
 * glob-expand, tgz-out/txz-out. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <magic.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmds-int.h"

/* ------------------------------------------------------------------ */
/* file                                                                */

/* libmagic gets at most this much of a file (file(1)'s own default read
 * limit is 7 MiB in file 5.44; a bigger file is cut, its size kept). */
#define MAGIC_READ_MAX (7u << 20)

static magic_t m;

void gfsh_magic_preload(void)
{
    /* the sandboxed worker cannot read the database later (split.c) */
    if (!m && (m = magic_open(MAGIC_ERROR)) && magic_load(m, NULL) != 0) {
        magic_close(m);
        m = NULL;
    }
}

static magic_t the_magic(const gfsh_cmd *cmd)
{
    if (m)
        return m;
    m = magic_open(MAGIC_ERROR);
    if (!m || magic_load(m, NULL) != 0) {
        gfsh_err(cmd, "libmagic: %s", m ? magic_error(m) : "cannot start");
        if (m)
            magic_close(m);
        m = NULL;
    }
    return m;
}

static const char *type_name(uint32_t mode)
{
    return S_ISDIR(mode) ? "directory" : S_ISLNK(mode) ? "symbolic link" :
           S_ISCHR(mode) ? "character device" : S_ISBLK(mode) ? "block device" :
           S_ISFIFO(mode) ? "FIFO" : S_ISSOCK(mode) ? "socket" : "unknown";
}

struct fd_sink { int fd; uint64_t off; };

static int fd_sink_fn(void *ud, const void *buf, size_t n)
{
    struct fd_sink *s = ud;
    if (pwrite(s->fd, buf, n, (off_t)s->off) != (ssize_t)n)
        return -1;
    s->off += n;
    return 0;
}

/* libmagic wants a file: the guest file's first MAGIC_READ_MAX bytes in a
 * memfd of the file's size (holes stay holes). */
int run_file(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    const char *path = a->argv[0];
    gk_stat st;
    if (gk_vfs_lstat(sh->g->vfs, path, &st) < 0) {
        io_path_err(cmd, path);
        return -1;
    }
    if (!S_ISREG(st.mode)) {
        printf("%s\n", type_name(st.mode));
        return 0;
    }
    magic_t m = the_magic(cmd);
    if (!m)
        return -1;
    gk_node n;
    if (gk_vfs_resolve(sh->g->vfs, path, 0, &n) < 0) {
        io_path_err(cmd, path);
        return -1;
    }
    int fd = memfd_create("gfsh-file", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)st.size) < 0) {
        gfsh_err(cmd, "memfd: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct fd_sink s = {fd, 0};
    uint64_t want = st.size < MAGIC_READ_MAX ? st.size : MAGIC_READ_MAX;
    int r = io_stream(cmd, path, &n, 0, want, fd_sink_fn, &s);
    if (r != 0) {
        if (r > 0)
            gfsh_err(cmd, "memfd: %s", strerror(errno));
        close(fd);
        return -1;
    }
    /* file -z, as guestfish runs it, looks inside compressed files; but no
     * decompressor program may run on guest data: only for the formats
     * libmagic decompresses with its own libraries (zlib, libbz2, liblzma;
     * it does so in a child process) */
    unsigned char h[6] = {0};
    if (pread(fd, h, sizeof h, 0) < 0)
        memset(h, 0, sizeof h);
    int builtin = (h[0] == 0x1f && h[1] == 0x8b) || !memcmp(h, "BZh", 3) ||
                  !memcmp(h, "\xfd" "7zXZ\0", 6);
    magic_setflags(m, MAGIC_ERROR | (builtin ? MAGIC_COMPRESS : 0));
    const char *d = magic_descriptor(m, fd);
    close(fd);
    if (!d) {
        gfsh_err(cmd, "%s: %s", path, magic_error(m));
        return -1;
    }
    printf("%s\n", d);
    return 0;
}

int run_file_architecture(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_node n;
    gk_stat st;
    if (io_open_reg(sh, cmd, a->argv[0], &n, &st) < 0)
        return -1;
    unsigned char h[512];
    ssize_t got = gk_node_read(&n, h, sizeof h, 0);
    if (got < 0) {
        io_path_err(cmd, a->argv[0]);
        return -1;
    }
    const char *arch = gk_elf_arch(h, (size_t)got);
    /* PE: the COFF machine after the "PE\0\0" signature e_lfanew points to */
    if (!arch && got >= 64 && h[0] == 'M' && h[1] == 'Z') {
        uint32_t pe = gk_le32(h + 60);
        unsigned char p[6];
        if (pe < st.size && gk_node_read(&n, p, sizeof p, pe) == (ssize_t)sizeof p &&
            !memcmp(p, "PE\0\0", 4)) {
            unsigned mach = gk_le16(p + 4);
            arch = mach == 0x14c ? "i386" : mach == 0x8664 ? "x86_64" : mach == 0xaa64 ? "aarch64" :
                   mach == 0x1c4 ? "arm" : NULL;
        }
    }
    if (!arch) {
        gfsh_err(cmd, "%s: unknown architecture (not an ELF or PE binary guestkit knows)",
                 a->argv[0]);
        return -1;
    }
    printf("%s\n", arch);
    return 0;
}

/* ------------------------------------------------------------------ */
/* wc-l, wc-w, wc-c: counted while streaming, as wc counts             */

struct wc { uint64_t lines, words, bytes; int inword; };

static int wc_sink(void *ud, const void *buf, size_t n)
{
    struct wc *w = ud;
    const unsigned char *p = buf;
    w->bytes += n;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n')
            w->lines++;
        /* wc -w in the C locale: a word ends at white space */
        int space = p[i] == ' ' || (p[i] >= '\t' && p[i] <= '\r');
        if (!space && !w->inword)
            w->words++;
        w->inword = !space;
    }
    return 0;
}

int run_wc(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_node n;
    gk_stat st;
    if (io_open_reg(sh, cmd, a->argv[0], &n, &st) < 0)
        return -1;
    struct wc w = {0};
    char what = cmd->name[3];
    if (what == 'c') {
        printf("%" PRIu64 "\n", st.size);
        return 0;
    }
    if (io_stream(cmd, a->argv[0], &n, 0, st.size, wc_sink, &w) != 0)
        return -1;
    printf("%" PRIu64 "\n", what == 'l' ? w.lines : w.words);
    return 0;
}

/* ------------------------------------------------------------------ */
/* pread, pread-device                                                 */

#define PREAD_MAX (2u << 20)

int run_pread(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    int64_t count = a->num[1], off = a->num[2];
    if (count < 0 || off < 0) {
        gfsh_err(cmd, "count and offset must not be negative");
        return -1;
    }
    if (count > PREAD_MAX) {
        gfsh_err(cmd, "count too large (at most %u bytes)", PREAD_MAX);
        return -1;
    }
    char *buf = gk_malloc((size_t)count + 1);
    size_t got = 0;
    if (strcmp(cmd->name, "pread-device") == 0) {
        gk_devent *e = gk_devset_find(sh->g->devs, a->argv[0]);
        if (!e || !e->dev) {
            if (e)
                gfsh_err(cmd, "%s: %s", e->name, e->open_error ? e->open_error : "cannot be opened");
            else
                gfsh_err_gk(cmd);
            free(buf);
            return -1;
        }
        uint64_t size = e->dev->size;
        got = (uint64_t)off >= size ? 0 : (uint64_t)count < size - (uint64_t)off ? (size_t)count :
              (size_t)(size - (uint64_t)off);
        if (got && gk_pread(e->dev, buf, got, (uint64_t)off) < 0) {
            gfsh_err_about(cmd, e->name);
            free(buf);
            return -1;
        }
    } else {
        gk_node n;
        gk_stat st;
        if (io_open_reg(sh, cmd, a->argv[0], &n, &st) < 0) {
            free(buf);
            return -1;
        }
        while (got < (size_t)count) {
            ssize_t r = gk_node_read(&n, buf + got, (size_t)count - got, (uint64_t)off + got);
            if (r < 0) {
                io_path_err(cmd, a->argv[0]);
                free(buf);
                return -1;
            }
            if (r == 0)
                break;
            got += (size_t)r;
        }
    }
    int r = io_write(sh, cmd, stdout, buf, got);
    free(buf);
    return r < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* is-zero, is-zero-device                                             */

static int zero_sink(void *ud, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    if (n && (p[0] != 0 || memcmp(p, p + 1, n - 1) != 0)) {
        *(int *)ud = 0;
        return 2;               /* stop: not zero */
    }
    return 0;
}

int run_is_zero(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    int zero = 1;
    if (strcmp(cmd->name, "is-zero-device") == 0) {
        gk_devent *e = gk_devset_find(sh->g->devs, a->argv[0]);
        if (!e || !e->dev) {
            gfsh_err(cmd, "%s", e ? (e->open_error ? e->open_error : "cannot be opened") : gk_errmsg());
            return -1;
        }
        /* what the image says is zero (holes, zero clusters) is not read */
        char *buf = gk_malloc(CHUNK);
        uint64_t off = 0, size = e->dev->size;
        int r = 0;
        while (off < size && zero && r == 0) {
            if (io_interrupted(cmd)) {
                r = -1;
                break;
            }
            gk_extent x;
            uint64_t len = size - off < (1u << 30) ? size - off : (1u << 30);
            if (gk_block_status(e->dev, off, len, &x) == 0 && (x.flags & GK_BS_ZERO)) {
                off += x.len;
                continue;
            }
            size_t n = len < CHUNK ? (size_t)len : CHUNK;
            if (gk_pread(e->dev, buf, n, off) < 0) {
                gfsh_err_about(cmd, e->name);
                r = -1;
                break;
            }
            zero_sink(&zero, buf, n);
            off += n;
        }
        free(buf);
        if (r < 0)
            return -1;
    } else {
        gk_node n;
        gk_stat st;
        if (io_open_reg(sh, cmd, a->argv[0], &n, &st) < 0)
            return -1;
        /* only the data runs: holes read as zeros */
        gk_fmap *runs = NULL;
        size_t nruns = 0;
        if (gk_node_fmap(&n, &runs, &nruns) < 0) {
            io_path_err(cmd, a->argv[0]);
            return -1;
        }
        for (size_t i = 0; i < nruns && zero; i++) {
            uint64_t end = runs[i].logical + runs[i].len;
            if (end > st.size)
                end = st.size;
            if (runs[i].logical >= end)
                continue;
            int r = io_stream(cmd, a->argv[0], &n, runs[i].logical, end - runs[i].logical,
                              zero_sink, &zero);
            if (r < 0) {
                free(runs);
                return -1;
            }
        }
        free(runs);
    }
    printf("%s\n", zero ? "true" : "false");
    return 0;
}

/* ------------------------------------------------------------------ */
/* ls0, lstatlist, lstatnslist, readlinklist, lxattrlist               */

struct ls0 { gfsh *sh; const gfsh_cmd *cmd; FILE *fp; int r; };

static int ls0_cb(void *opaque, const char *name, uint64_t ino, int d_type)
{
    (void)ino; (void)d_type;
    struct ls0 *l = opaque;
    if (gfsh_interrupted)
        return 1;
    l->r = io_write(l->sh, l->cmd, l->fp, name, strlen(name) + 1);
    return l->r != 0;
}

/* guestfish's ls0 is readdir's order, not sorted (unlike ls) */
int run_ls0(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_stat st;
    if (gk_vfs_stat(sh->g->vfs, a->argv[0], &st) < 0) {
        io_path_err(cmd, a->argv[0]);
        return -1;
    }
    FILE *fp = io_open_out(cmd, a->argv[1]);
    if (!fp)
        return -1;
    struct ls0 l = {sh, cmd, fp, 0};
    if (gk_vfs_readdir(sh->g->vfs, a->argv[0], ls0_cb, &l) < 0) {
        io_path_err(cmd, a->argv[0]);
        l.r = -1;
    }
    if (l.r == 0 && io_interrupted(cmd))
        l.r = -1;
    int r = io_close_out(cmd, a->argv[1], fp, l.r < 0 ? -1 : 0);
    return r < 0 ? -1 : 0;
}

/* names: a space-separated list, each one file name in dir */
static char **split_names(const gfsh_cmd *cmd, const char *names, int *n)
{
    char *copy = gk_strdup(names), *save = NULL;
    char **v = NULL;
    *n = 0;
    for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        if (strchr(w, '/')) {
            gfsh_err(cmd, "%s: names must be file names in the directory, without /", w);
            for (int i = 0; i < *n; i++)
                free(v[i]);
            free(v);
            free(copy);
            return NULL;
        }
        v = gk_realloc(v, (size_t)(*n + 1) * sizeof *v);
        v[(*n)++] = gk_strdup(w);
    }
    free(copy);
    return v ? v : gk_calloc(1, sizeof *v);
}

int run_statlist(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    int n;
    char **names = split_names(cmd, a->argv[1], &n);
    if (!names)
        return -1;
    int ns = strcmp(cmd->name, "lstatnslist") == 0, r = 0;
    gk_stat *sts = gk_calloc((size_t)n + 1, sizeof *sts);
    for (int i = 0; i < n && r == 0; i++) {
        char *p = io_join(a->argv[0], names[i]);
        if (gk_vfs_lstat(sh->g->vfs, p, &sts[i]) < 0) {
            io_path_err(cmd, p);
            r = -1;
        }
        free(p);
    }
    for (int i = 0; i < n && r == 0; i++) {
        printf("[%d] = {\n", i);
        gfsh_print_stat(stdout, &sts[i], ns, "  ");
        printf("}\n");
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(sts);
    return r;
}

int run_readlinklist(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    int n;
    char **names = split_names(cmd, a->argv[1], &n);
    if (!names)
        return -1;
    for (int i = 0; i < n; i++) {
        char *p = io_join(a->argv[0], names[i]);
        char buf[4097];
        /* guestfish: an empty string for what is not a link */
        ssize_t l = gk_vfs_readlink(sh->g->vfs, p, buf, sizeof buf - 1);
        buf[l > 0 ? l : 0] = 0;
        printf("%s\n", buf);
        free(p);
        free(names[i]);
    }
    free(names);
    return 0;
}

static void print_xattr(int i, const char *name, const char *val, size_t len)
{
    printf("[%d] = {\n  attrname: %s\n  attrval: ", i, name);
    for (size_t j = 0; j < len; j++) {
        unsigned char c = (unsigned char)val[j];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    printf("\n}\n");
}

int run_lxattrlist(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    int n, k = 0, r = 0;
    char **names = split_names(cmd, a->argv[1], &n);
    if (!names)
        return -1;
    for (int i = 0; i < n && r == 0; i++) {
        char *p = io_join(a->argv[0], names[i]);
        gk_node node;
        char *list = NULL;
        ssize_t len = -1;
        if (gk_vfs_resolve(sh->g->vfs, p, 0, &node) == 0) {
            len = gk_node_listxattr(&node, NULL, 0);
            if (len > 0) {
                list = gk_malloc((size_t)len);
                len = gk_node_listxattr(&node, list, (size_t)len);
            }
        }
        if (len < 0) {
            io_path_err(cmd, p);
            r = -1;
        } else {
            /* guestfish's layout: an entry with no name whose value is the
             * count (with its NUL), then the attributes */
            int cnt = 0;
            for (ssize_t j = 0; j < len; j += (ssize_t)strlen(list + j) + 1)
                cnt++;
            char c[24];
            int cl = snprintf(c, sizeof c, "%d", cnt);
            print_xattr(k++, "", c, (size_t)cl + 1);
            for (ssize_t j = 0; j < len; j += (ssize_t)strlen(list + j) + 1) {
                ssize_t vl = gk_node_getxattr(&node, list + j, NULL, 0);
                char *v = vl > 0 ? gk_malloc((size_t)vl) : NULL;
                if (vl > 0)
                    vl = gk_node_getxattr(&node, list + j, v, (size_t)vl);
                print_xattr(k++, list + j, v ? v : "", vl > 0 ? (size_t)vl : 0);
                free(v);
            }
        }
        free(list);
        free(p);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return r;
}

/* ------------------------------------------------------------------ */
/* glob-expand                                                         */

int run_glob_expand(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)cmd;
    char **m = NULL;
    int n = gfsh_guest_glob(sh, a->argv[0], &m);
    int slash = !a->set[0] || a->onum[0];
    for (int i = 0; i < n; i++) {
        gk_stat st;
        size_t l = strlen(m[i]);
        int dir = slash && l > 1 && m[i][l - 1] != '/' && gk_vfs_stat(sh->g->vfs, m[i], &st) == 0 &&
                  S_ISDIR(st.mode);
        printf("%s%s\n", m[i], dir ? "/" : "");
        free(m[i]);
    }
    free(m);
    return 0;
}

/* ------------------------------------------------------------------ */
/* tgz-out, txz-out: tar-out with the compression of their name        */

int run_tar_out_z(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gfsh_args b = *a;
    memset(b.set, 0, sizeof b.set);
    b.set[0] = 1;
    b.ostr[0] = strcmp(cmd->name, "txz-out") == 0 ? "xz" : "gzip";
    return run_tar_out(sh, cmd, &b);
}

/* ------------------------------------------------------------------ */
/* add-ro, equal, readdir, base64-out, sleep                           */

int run_add_ro(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gfsh_args b = *a;
    b.set[1] = 1;
    b.onum[1] = 1;
    return run_add(sh, cmd, &b);
}

struct cmp_src { gfsh *sh; const gfsh_cmd *cmd; const char *path; gk_node n; uint64_t off; int differ; };

static int cmp_sink(void *ud, const void *buf, size_t len)
{
    struct cmp_src *c = ud;
    char other[CHUNK];
    size_t got = 0;
    while (got < len) {
        ssize_t r = gk_node_read(&c->n, other + got, len - got, c->off + got);
        if (r < 0) {
            io_path_err(c->cmd, c->path);
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    c->off += got;
    if (got != len || memcmp(buf, other, len) != 0) {
        c->differ = 1;
        return 2;
    }
    return 0;
}

int run_equal(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_node n1;
    gk_stat s1, s2;
    struct cmp_src c = {sh, cmd, a->argv[1], {0}, 0, 0};
    if (io_open_reg(sh, cmd, a->argv[0], &n1, &s1) < 0 || io_open_reg(sh, cmd, a->argv[1], &c.n, &s2) < 0)
        return -1;
    if (s1.size != s2.size) {
        printf("false\n");
        return 0;
    }
    if (io_stream(cmd, a->argv[0], &n1, 0, s1.size, cmp_sink, &c) < 0)
        return -1;
    printf("%s\n", c.differ ? "false" : "true");
    return 0;
}

static char ftyp(int d_type)
{
    switch (d_type) {
    case DT_REG: return 'r';
    case DT_DIR: return 'd';
    case DT_LNK: return 'l';
    case DT_CHR: return 'c';
    case DT_BLK: return 'b';
    case DT_FIFO: return 'f';
    case DT_SOCK: return 's';
    case DT_UNKNOWN: return 'u';
    default: return '?';
    }
}

struct rd { int n; };

static int rd_cb(void *opaque, const char *name, uint64_t ino, int d_type)
{
    struct rd *r = opaque;
    if (gfsh_interrupted)
        return 1;
    printf("[%d] = {\n  ino: %" PRIu64 "\n  ftyp: %c\n  name: ", r->n++, ino, ftyp(d_type));
    gk_term_puts(stdout, name);
    printf("\n}\n");
    return 0;
}

/* guestfish's readdir: every entry, . and .. first, in the directory's own
 * order, as readdir(3) returns them */
int run_readdir(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_node dir, parent;
    gk_stat st, pst;
    if (gk_vfs_resolve(sh->g->vfs, a->argv[0], 1, &dir) < 0 || gk_node_stat(&dir, &st) < 0) {
        io_path_err(cmd, a->argv[0]);
        return -1;
    }
    if (!S_ISDIR(st.mode)) {
        gfsh_err(cmd, "%s: Not a directory", a->argv[0]);
        return -1;
    }
    struct rd r = {0};
    rd_cb(&r, ".", st.ino, DT_DIR);
    if (gk_vfs_child(sh->g->vfs, &dir, "..", &parent) == 0 && gk_node_stat(&parent, &pst) == 0)
        rd_cb(&r, "..", pst.ino, DT_DIR);
    if (gk_node_readdir(&dir, rd_cb, &r) < 0) {
        io_path_err(cmd, a->argv[0]);
        return -1;
    }
    return io_interrupted(cmd) ? -1 : 0;
}

/* base64 as coreutils' base64 writes it: 76 characters a line */
struct b64 { gfsh *sh; const gfsh_cmd *cmd; FILE *fp; unsigned char in[57]; size_t n; };

static int b64_line(struct b64 *b)
{
    unsigned char out[80];
    int len = EVP_EncodeBlock(out, b->in, (int)b->n);
    out[len++] = '\n';
    b->n = 0;
    return io_write(b->sh, b->cmd, b->fp, out, (size_t)len);
}

static int b64_sink(void *ud, const void *buf, size_t n)
{
    struct b64 *b = ud;
    const unsigned char *p = buf;
    for (size_t i = 0; i < n; i++) {
        b->in[b->n++] = p[i];
        if (b->n == sizeof b->in) {
            int r = b64_line(b);
            if (r)
                return r;
        }
    }
    return 0;
}

int run_base64_out(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_node n;
    gk_stat st;
    if (io_open_reg(sh, cmd, a->argv[0], &n, &st) < 0)
        return -1;
    FILE *fp = io_open_out(cmd, a->argv[1]);
    if (!fp)
        return -1;
    struct b64 b = {sh, cmd, fp, {0}, 0};
    int r = io_stream(cmd, a->argv[0], &n, 0, st.size, b64_sink, &b);
    if (r == 0 && b.n)
        r = b64_line(&b);
    r = io_close_out(cmd, a->argv[1], fp, r < 0 ? -1 : 0);
    return r < 0 ? -1 : 0;
}

int run_sleep(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)sh;
    for (int64_t i = 0; i < a->num[0] * 10; i++) {
        if (io_interrupted(cmd))
            return -1;
        usleep(100000);
    }
    return 0;
}
