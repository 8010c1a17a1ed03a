/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tar-out: a guest directory as a tar archive, the way guestfish's
 * tar-out makes one (GNU tar -C DIR -cf - .): GNU format, names "./..."
 * with ././@LongLink records for long names and link targets, hard links
 * stored once, sockets left out, optional gzip or zstd compression. */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "cmds-int.h"

#define BLOCK 512
#define RECORD (20 * BLOCK)    /* GNU tar's default blocking factor */

typedef struct tarw {
    gfsh *sh;
    const gfsh_cmd *cmd;
    FILE *fp;
    const char *fname;
    enum { TZ_NONE, TZ_GZIP, TZ_ZSTD } z;
    z_stream gz;
    ZSTD_CStream *zs;
    unsigned char *zbuf;
    size_t zbufsz;
    uint64_t written;          /* uncompressed bytes, for the final record */
    int numeric;
    char **excludes; int nexcludes;
    gk_nodemap *links;         /* hard links: node -> first archived name */
} tarw;

static int raw_out(tarw *t, const void *buf, size_t n)
{
    if (n && fwrite(buf, 1, n, t->fp) != n) {
        gfsh_err(t->cmd, "%s: %s", t->fname, strerror(errno));
        return -1;
    }
    return 0;
}

/* Everything the archive holds goes through here (and the compressor). */
static int tar_write(tarw *t, const void *buf, size_t n, int finish)
{
    t->written += n;
    if (t->z == TZ_NONE)
        return raw_out(t, buf, n);
    if (t->z == TZ_GZIP) {
        t->gz.next_in = (Bytef *)buf;
        t->gz.avail_in = (uInt)n;
        int zr;
        do {
            t->gz.next_out = t->zbuf;
            t->gz.avail_out = (uInt)t->zbufsz;
            zr = deflate(&t->gz, finish ? Z_FINISH : Z_NO_FLUSH);
            if (zr == Z_STREAM_ERROR) {
                gfsh_err(t->cmd, "gzip compression failed");
                return -1;
            }
            if (raw_out(t, t->zbuf, t->zbufsz - t->gz.avail_out) < 0)
                return -1;
        } while (t->gz.avail_out == 0 || (finish && zr != Z_STREAM_END));
        return 0;
    }
    ZSTD_inBuffer in = {buf, n, 0};
    for (;;) {
        ZSTD_outBuffer out = {t->zbuf, t->zbufsz, 0};
        size_t rem = ZSTD_compressStream2(t->zs, &out, &in, finish ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(rem)) {
            gfsh_err(t->cmd, "zstd compression failed: %s", ZSTD_getErrorName(rem));
            return -1;
        }
        if (raw_out(t, t->zbuf, out.pos) < 0)
            return -1;
        if (finish ? rem == 0 : in.pos == in.size)
            return 0;
    }
}

/* Numbers in octal, or GNU's base-256 when they do not fit. */
static void put_num(char *field, size_t len, uint64_t v)
{
    if (v < (1ull << (3 * (len - 1)))) {
        snprintf(field, len, "%0*" PRIo64, (int)len - 1, v);
        return;
    }
    memset(field, 0, len);
    field[0] = (char)0x80;
    for (size_t i = len - 1; i > 0 && v; i--, v >>= 8)
        field[i] = (char)(v & 0xff);
}

static int header(tarw *t, const char *name, char type, uint32_t mode, const gk_stat *st,
                  uint64_t size, const char *linkname)
{
    /* names and link targets that do not fit go in ././@LongLink records */
    if (strlen(name) >= 100 || (linkname && strlen(linkname) >= 100)) {
        const char *longs[2] = {strlen(name) >= 100 ? name : NULL,
                                linkname && strlen(linkname) >= 100 ? linkname : NULL};
        for (int k = 1; k >= 0; k--) {
            if (!longs[k])
                continue;
            size_t l = strlen(longs[k]) + 1;
            gk_stat z = {0};
            if (header(t, "././@LongLink", k ? 'K' : 'L', 0, &z, l, NULL) < 0)
                return -1;
            size_t padded = (l + BLOCK - 1) / BLOCK * BLOCK;
            char *data = gk_calloc(1, padded);
            memcpy(data, longs[k], l - 1);
            int r = tar_write(t, data, padded, 0);
            free(data);
            if (r < 0)
                return -1;
        }
    }
    unsigned char h[BLOCK];
    memset(h, 0, sizeof h);
    char *p = (char *)h;
    strncpy(p, name, 100);
    put_num(p + 100, 8, mode & 07777);
    put_num(p + 108, 8, st->uid);
    put_num(p + 116, 8, st->gid);
    put_num(p + 124, 12, size);
    put_num(p + 136, 12, st->mtime.tv_sec < 0 ? 0 : (uint64_t)st->mtime.tv_sec);
    memset(p + 148, ' ', 8);
    p[156] = type;
    if (linkname)
        strncpy(p + 157, linkname, 100);
    memcpy(p + 257, "ustar  ", 8); /* GNU magic and version */
    if (!t->numeric && type != 'L' && type != 'K') {
        /* gfsh has no guest user database: root is the name every system has */
        if (st->uid == 0)
            strcpy(p + 265, "root");
        if (st->gid == 0)
            strcpy(p + 297, "root");
    }
    if (type == '3' || type == '4') {
        put_num(p + 329, 8, major(st->rdev));
        put_num(p + 337, 8, minor(st->rdev));
    }
    unsigned sum = 0;
    for (int i = 0; i < BLOCK; i++)
        sum += h[i];
    snprintf(p + 148, 8, "%06o", sum);
    p[155] = ' ';
    return tar_write(t, h, BLOCK, 0);
}

static int excluded(tarw *t, const char *rel)
{
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    for (int i = 0; i < t->nexcludes; i++)
        if (fnmatch(t->excludes[i], rel, 0) == 0 || fnmatch(t->excludes[i], base, 0) == 0 ||
            (strncmp(rel, "./", 2) == 0 && fnmatch(t->excludes[i], rel + 2, 0) == 0))
            return 1;
    return 0;
}

struct tsink { tarw *t; };

static int tar_sink(void *ud, const void *buf, size_t n)
{
    return tar_write(((struct tsink *)ud)->t, buf, n, 0) < 0 ? -1 : 0;
}

/* Archive entry e of the walk as archive name rel ("./etc/passwd"). */
static int add(tarw *t, const gk_walk_ent *e, const char *rel)
{
    const gk_stat *st = &e->st;
    gk_node n = e->node;
    const char *g = e->path;
    if (S_ISDIR(st->mode)) {
        char *dname = gk_asprintf("%s/", rel);
        int r = header(t, dname, '5', st->mode, st, 0, NULL);
        free(dname);
        return r;
    }
    if (S_ISSOCK(st->mode))
        return 0; /* tar: "socket ignored" */
    if (st->nlink > 1) {
        int isnew;
        void **slot = gk_nodemap_slot(t->links, &n, &isnew);
        if (!isnew)
            return header(t, rel, '1', st->mode, st, 0, *slot);
        *slot = gk_strdup(rel);
    }
    if (S_ISLNK(st->mode)) {
        char target[GK_PATH_MAX + 1];
        ssize_t tl = gk_node_readlink(&n, target, sizeof target - 1);
        if (tl < 0) {
            gfsh_err_about(t->cmd, g);
            return -1;
        }
        target[tl] = 0;
        return header(t, rel, '2', st->mode, st, 0, target);
    }
    if (S_ISCHR(st->mode) || S_ISBLK(st->mode) || S_ISFIFO(st->mode))
        return header(t, rel, S_ISCHR(st->mode) ? '3' : S_ISBLK(st->mode) ? '4' : '6', st->mode, st,
                      0, NULL);
    /* a regular file: header, data, padding */
    if (header(t, rel, '0', st->mode, st, st->size, NULL) < 0)
        return -1;
    struct tsink s = {t};
    uint64_t before = t->written;
    char *buf = gk_malloc(256 * 1024);
    uint64_t off = 0;
    int r = 0;
    while (off < st->size && r == 0) {
        if (gfsh_interrupted) {
            gfsh_err(t->cmd, "interrupted");
            r = -1;
            break;
        }
        size_t want = st->size - off < 256 * 1024 ? (size_t)(st->size - off) : 256 * 1024;
        ssize_t got = gk_node_read(&n, buf, want, off);
        if (got < 0) {
            gfsh_err_about(t->cmd, g);
            r = -1;
        } else if (got == 0) {
            /* shorter than its size (corrupt): pad with zeros, like tar does */
            memset(buf, 0, want);
            gfsh_err(t->cmd, "%s: file shrank by %" PRIu64 " bytes; padding with zeros", g,
                     st->size - off);
            r = tar_sink(&s, buf, want);
            off += want;
        } else {
            r = tar_sink(&s, buf, (size_t)got);
            off += (uint64_t)got;
        }
    }
    free(buf);
    if (r < 0)
        return -1;
    static const char zeros[BLOCK];
    uint64_t data = t->written - before;
    return tar_write(t, zeros, (size_t)((BLOCK - data % BLOCK) % BLOCK), 0);
}

/* The tree at guest path root, depth first with each directory sorted by
 * name (GNU tar --sort=name), through the walker every tool uses. */
static int archive(tarw *t, const char *root)
{
    gk_node top;
    if (gk_vfs_resolve(t->sh->g->vfs, root, 1, &top) < 0) {
        gfsh_err_about(t->cmd, root);
        return -1;
    }
    size_t strip = strlen(root);
    gk_walk *w = gk_walk_new(t->sh->g->vfs, &top, root, 0);
    const gk_walk_ent *e;
    int r = 0;
    while (r == 0 && (e = gk_walk_next(w))) {
        if (gfsh_interrupted) {
            gfsh_err(t->cmd, "interrupted");
            r = -1;
            break;
        }
        if (e->kind == GK_WALK_ERROR) {
            gfsh_err(t->cmd, "%s", e->msg);
            r = -1;
            break;
        }
        if (e->kind != GK_WALK_ENTRY)
            continue;
        const char *sub = e->path + (e->pathlen >= strip ? strip : e->pathlen);
        sub += *sub == '/';
        char *rel = e->depth == 0 ? gk_strdup(".") : gk_asprintf("./%s", sub);
        if (e->depth > 0 && excluded(t, rel)) {
            if (S_ISDIR(e->st.mode))
                gk_walk_prune(w);
        } else {
            r = add(t, e, rel);
            if (r == 0 && e->noenter) {
                gfsh_err(t->cmd, "%s", e->msg);
                r = -1;
            }
        }
        free(rel);
    }
    gk_walk_free(w);
    return r;
}

int run_tar_out(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    tarw t;
    memset(&t, 0, sizeof t);
    t.sh = sh;
    t.cmd = cmd;
    t.fname = a->argv[1];
    const char *compress = a->set[0] ? a->ostr[0] : NULL;
    t.numeric = a->set[1] && a->onum[1];
    if (compress && *compress) {
        if (strcasecmp(compress, "gzip") == 0) {
            t.z = TZ_GZIP;
        } else if (strcasecmp(compress, "zstd") == 0) {
            t.z = TZ_ZSTD;
        } else {
            gfsh_err(cmd, "compress:%.32s: not supported (gzip or zstd)", compress);
            return -1;
        }
    }
    if (a->set[2] && a->ostr[2][0]) {
        char *ex = gk_strdup(a->ostr[2]), *save = NULL;
        for (char *w = strtok_r(ex, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
            t.excludes = gk_realloc(t.excludes, (size_t)(t.nexcludes + 1) * sizeof *t.excludes);
            t.excludes[t.nexcludes++] = gk_strdup(w);
        }
        free(ex);
    }
    gk_stat st;
    if (gk_vfs_stat(sh->g->vfs, a->argv[0], &st) < 0) {
        gfsh_err_about(cmd, a->argv[0]);
        return -1;
    }
    if (!S_ISDIR(st.mode)) {
        gfsh_err(cmd, "%s: not a directory", a->argv[0]);
        return -1;
    }
    int r = 0;
    t.links = gk_nodemap_new();
    /* the safe opener: never through a symlink; a half-written archive is
     * removed again, and only ever a regular file (not /dev/null) */
    t.fp = io_open_out(cmd, t.fname);
    if (!t.fp) {
        r = -1;
        goto out;
    }
    t.zbufsz = 256 * 1024;
    t.zbuf = gk_malloc(t.zbufsz);
    if (t.z == TZ_GZIP && deflateInit2(&t.gz, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                                       Z_DEFAULT_STRATEGY) != Z_OK) {
        gfsh_err(cmd, "gzip initialisation failed");
        r = -1;
        goto out;
    }
    if (t.z == TZ_ZSTD && !(t.zs = ZSTD_createCStream())) {
        gfsh_err(cmd, "zstd initialisation failed");
        r = -1;
        goto out;
    }
    /* the directory itself is "." as in tar -C DIR . */
    char *root = gk_vfs_realpath(sh->g->vfs, a->argv[0]);
    r = archive(&t, root ? root : a->argv[0]);
    free(root);
    if (r == 0) {
        /* two zero blocks, then up to a whole record */
        uint64_t total = t.written + 2 * BLOCK;
        size_t pad = 2 * BLOCK + (size_t)((RECORD - total % RECORD) % RECORD);
        char *z = gk_calloc(1, pad);
        r = tar_write(&t, z, pad, 1);
        free(z);
    }
out:
    if (t.z == TZ_GZIP)
        deflateEnd(&t.gz);
    ZSTD_freeCStream(t.zs);
    free(t.zbuf);
    if (t.fp)
        r = io_close_out(cmd, t.fname, t.fp, r);
    gk_nodemap_free(t.links, free);
    for (int i = 0; i < t.nexcludes; i++)
        free(t.excludes[i]);
    free(t.excludes);
    return r;
}
