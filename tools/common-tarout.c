/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A guest directory as a tar archive, through libarchive: gtar-out and
 * gfsh's tar-out.  The shape is what guestfish's tar-out makes (GNU tar
 * -C DIR -cf - .): GNU format (pax when extended attributes are stored),
 * members "./", "./etc/", "./etc/passwd" in name order, hard links stored
 * once, sockets left out, owner names "root" for id 0 unless numeric. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common.h"
#include "extract.h"

#define DATA_CHUNK (256u * 1024)

static const char *const compressors[] = {"gzip", "bzip2", "xz", "zstd", "lzop", "compress", NULL};

int gk_tarout_compress_ok(const char *name)
{
    if (!name || !*name || strcasecmp(name, "none") == 0)
        return 1;
    for (int i = 0; compressors[i]; i++)
        if (strcasecmp(name, compressors[i]) == 0)
            return 1;
    return 0;
}

struct tctx {
    const gk_tarout_opts *o;
    int stopped;                  /* the writer asked to stop (closed pipe) */
    int failed;
};

static void treport(struct tctx *t, int warning, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void treport(struct tctx *t, int warning, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!warning)
        t->failed = 1;
    if (t->o->report) {
        t->o->report(t->o->ud, warning, msg);
        return;
    }
    fflush(stdout);
    fprintf(stderr, "%s: %s%s\n", gk_progname, warning ? "warning: " : "", msg);
}

static la_ssize_t cb_write(struct archive *a, void *ud, const void *buf, size_t len)
{
    struct tctx *t = ud;
    int r = t->o->write(t->o->ud, buf, len);
    if (r == 0)
        return (la_ssize_t)len;
    if (r > 0)
        t->stopped = 1;
    else
        t->failed = 1;
    archive_set_error(a, EIO, "output");
    return -1;
}

static int excluded(const gk_tarout_opts *o, const char *rel)
{
    if (!o->excludes)
        return 0;
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    for (int i = 0; o->excludes[i]; i++)
        if (fnmatch(o->excludes[i], rel, 0) == 0 || fnmatch(o->excludes[i], base, 0) == 0 ||
            (strncmp(rel, "./", 2) == 0 && fnmatch(o->excludes[i], rel + 2, 0) == 0))
            return 1;
    return 0;
}

static void add_xattrs(struct tctx *t, struct archive_entry *ae, gk_node *n, const char *path)
{
    ssize_t len = gk_node_listxattr(n, NULL, 0);
    if (len <= 0)
        return;
    char *names = gk_malloc((size_t)len);
    len = gk_node_listxattr(n, names, (size_t)len);
    for (ssize_t off = 0; len > 0 && off < len; off += (ssize_t)strlen(names + off) + 1) {
        const char *nm = names + off;
        ssize_t vl = gk_node_getxattr(n, nm, NULL, 0);
        if (vl < 0) {
            treport(t, 1, "%s: %s: %s", path, nm, gk_errmsg());
            continue;
        }
        char *val = gk_malloc((size_t)vl + 1);
        vl = gk_node_getxattr(n, nm, val, (size_t)vl);
        if (vl >= 0)
            archive_entry_xattr_add_entry(ae, nm, val, (size_t)vl);
        free(val);
    }
    free(names);
}

struct firstname { char *name; };

static void free_first(void *p)
{
    struct firstname *f = p;
    if (f)
        free(f->name);
    free(f);
}

int gk_tarout(gk_vfs *v, const gk_node *top, const char *tpath, const gk_tarout_opts *o)
{
    struct tctx t = {o, 0, 0};
    if (!gk_tarout_compress_ok(o->compress)) {
        treport(&t, 0, "compress:%.32s: not supported (gzip, bzip2, xz, zstd, lzop, compress)",
                o->compress);
        return -1;
    }
    struct archive *a = archive_write_new();
    int r = o->xattrs ? archive_write_set_format_pax_restricted(a) : archive_write_set_format_gnutar(a);
    const char *z = o->compress && *o->compress ? o->compress : "none";
    if (r == ARCHIVE_OK && strcasecmp(z, "none") != 0)
        r = archive_write_add_filter_by_name(a, z);
    /* GNU tar's records: 20 blocks, the last one padded */
    if (r == ARCHIVE_OK)
        r = archive_write_set_bytes_per_block(a, 10240);
    /* a compressed stream is not padded (zstd refuses trailing zeros) */
    if (r == ARCHIVE_OK && strcasecmp(z, "none") != 0)
        r = archive_write_set_bytes_in_last_block(a, 1);
    if (r == ARCHIVE_OK)
        r = archive_write_open2(a, &t, NULL, cb_write, NULL, NULL);
    if (r != ARCHIVE_OK) {
        treport(&t, 0, "%s", archive_error_string(a) ? archive_error_string(a) : "libarchive");
        archive_write_free(a);
        return -1;
    }
    gk_nodemap *links = gk_nodemap_new();
    char *buf = gk_malloc(DATA_CHUNK);
    size_t toplen = strlen(tpath);
    gk_walk *w = gk_walk_new(v, top, tpath, 0);
    const gk_walk_ent *e;
    struct archive_entry *ae = archive_entry_new();
    while (!t.stopped && (e = gk_walk_next(w))) {
        if (o->interrupted && o->interrupted(o->ud)) {
            treport(&t, 0, "interrupted");
            break;
        }
        if (e->kind == GK_WALK_ERROR) {
            treport(&t, 0, "%s", e->msg);
            continue;
        }
        if (e->kind != GK_WALK_ENTRY)
            continue;
        const gk_stat *st = &e->st;
        /* the member name: "./" + the path below the top */
        const char *sub = e->path + (e->pathlen >= toplen ? toplen : e->pathlen);
        while (*sub == '/')
            sub++;
        char *rel = *sub ? gk_asprintf("./%s", sub) : gk_strdup(".");
        if (e->depth > 0 && excluded(o, rel)) {
            if (S_ISDIR(st->mode))
                gk_walk_prune(w);
            free(rel);
            continue;
        }
        if (S_ISSOCK(st->mode)) {
            free(rel);
            continue;                 /* tar: "socket ignored" */
        }
        gk_node n = e->node;
        archive_entry_clear(ae);
        char *name = S_ISDIR(st->mode) ? gk_asprintf("%s/", rel) : gk_strdup(rel);
        archive_entry_set_pathname(ae, name);
        archive_entry_set_mode(ae, st->mode);
        archive_entry_set_uid(ae, st->uid);
        archive_entry_set_gid(ae, st->gid);
        if (!o->numeric) {
            if (st->uid == 0)
                archive_entry_set_uname(ae, "root");
            if (st->gid == 0)
                archive_entry_set_gname(ae, "root");
        }
        archive_entry_set_mtime(ae, st->mtime.tv_sec, st->mtime.tv_nsec);
        if (S_ISCHR(st->mode) || S_ISBLK(st->mode)) {
            archive_entry_set_rdevmajor(ae, major(st->rdev));
            archive_entry_set_rdevminor(ae, minor(st->rdev));
        }
        int hardlinked = 0;
        if (!S_ISDIR(st->mode) && st->nlink > 1) {
            int isnew;
            void **slot = gk_nodemap_slot(links, &n, &isnew);
            if (!isnew && *slot) {
                archive_entry_set_hardlink(ae, ((struct firstname *)*slot)->name);
                archive_entry_set_size(ae, 0);
                hardlinked = 1;
            } else {
                struct firstname *f = gk_malloc(sizeof *f);
                f->name = gk_strdup(rel);
                *slot = f;
            }
        }
        char target[GK_PATH_MAX + 1];
        if (!hardlinked && S_ISLNK(st->mode)) {
            ssize_t tl = gk_node_readlink(&n, target, sizeof target - 1);
            if (tl < 0) {
                treport(&t, 0, "%s: %s", e->path, gk_errmsg());
                free(name);
                free(rel);
                continue;
            }
            target[tl] = 0;
            archive_entry_set_symlink(ae, target);
        }
        if (!hardlinked)
            archive_entry_set_size(ae, S_ISREG(st->mode) ? (la_int64_t)st->size : 0);
        if (o->xattrs && !hardlinked)
            add_xattrs(&t, ae, &n, e->path);
        if (archive_write_header(a, ae) < ARCHIVE_WARN) {
            if (!t.stopped)
                treport(&t, 0, "%s: %s", e->path, archive_error_string(a));
            free(name);
            free(rel);
            break;
        }
        if (!hardlinked && S_ISREG(st->mode)) {
            uint64_t off = 0;
            while (off < st->size && !t.stopped) {
                if (o->interrupted && o->interrupted(o->ud))
                    break;
                size_t want = st->size - off < DATA_CHUNK ? (size_t)(st->size - off) : DATA_CHUNK;
                ssize_t got = gk_node_read(&n, buf, want, off);
                if (got < 0) {
                    treport(&t, 0, "%s: %s", e->path, gk_errmsg());
                    break;
                }
                if (got == 0) {
                    /* shorter than its size (corrupt): libarchive pads with zeros */
                    treport(&t, 1, "%s: file shrank by %llu bytes; padding with zeros", e->path,
                            (unsigned long long)(st->size - off));
                    break;
                }
                if (archive_write_data(a, buf, (size_t)got) < 0) {
                    if (!t.stopped)
                        treport(&t, 0, "%s: %s", e->path, archive_error_string(a));
                    break;
                }
                off += (uint64_t)got;
            }
        }
        free(name);
        free(rel);
    }
    gk_walk_free(w);
    archive_entry_free(ae);
    if (archive_write_close(a) != ARCHIVE_OK && !t.stopped && !t.failed)
        treport(&t, 0, "%s", archive_error_string(a));
    archive_write_free(a);
    gk_nodemap_free(links, free_first);
    free(buf);
    if (t.stopped)
        return 1;
    return t.failed ? -1 : 0;
}
