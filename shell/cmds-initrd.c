/* SPDX-License-Identifier: GPL-2.0-or-later */
/* initrd-list and initrd-cat: the files of an initrd image, read with
 * libarchive straight from the guest file.  As libguestfs does, any
 * uncompressed "early" cpio archives at the front (microcode) are skipped
 * and the real archive after them is the one listed; it may be compressed
 * with whatever libarchive decompresses itself (no external program ever
 * runs on guest data). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmds-int.h"

#define RBUF (64u << 10)

struct src {
    gk_node n;
    uint64_t off, end;     /* next byte to hand libarchive, end of file */
    char *buf;
    const gfsh_cmd *cmd;
    const char *path;
    int failed;
};

static la_ssize_t src_read(struct archive *a, void *ud, const void **out)
{
    (void)a;
    struct src *s = ud;
    if (gfsh_interrupted || s->off >= s->end)
        return 0;
    size_t want = s->end - s->off < RBUF ? (size_t)(s->end - s->off) : RBUF;
    ssize_t r = gk_node_read(&s->n, s->buf, want, s->off);
    if (r < 0) {
        io_path_err(s->cmd, s->path);
        s->failed = 1;
        return -1;
    }
    s->off += (uint64_t)r;
    *out = s->buf;
    return r;
}

/* A reader of the archive at off: cpio, with the decompressors libarchive
 * has built in (ARCHIVE_OK; ARCHIVE_WARN would mean an external program). */
static struct archive *open_at(struct src *s, uint64_t off, int compressed)
{
    struct archive *a = archive_read_new();
    archive_read_support_format_cpio(a);
    if (compressed) {
        int (*const filters[])(struct archive *) = {
            archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
            archive_read_support_filter_xz, archive_read_support_filter_lzma,
            archive_read_support_filter_zstd, archive_read_support_filter_lz4,
        };
        for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) {
            struct archive *probe = archive_read_new();
            int ok = filters[i](probe) == ARCHIVE_OK;
            archive_read_free(probe);
            if (ok)
                filters[i](a);
        }
    }
    s->off = off;
    if (archive_read_open2(a, s, NULL, src_read, NULL, NULL) != ARCHIVE_OK) {
        if (!s->failed)
            gfsh_err(s->cmd, "%s: not an initrd (%s)", s->path, archive_error_string(a));
        archive_read_free(a);
        return NULL;
    }
    return a;
}

static int is_cpio_magic(const char *m)
{
    return !memcmp(m, "070701", 6) || !memcmp(m, "070702", 6) || !memcmp(m, "070707", 6);
}

/* Where the real archive starts: past the uncompressed early archives,
 * each followed by zero padding. */
static int real_start(struct src *s, uint64_t *start)
{
    uint64_t off = 0;
    for (int narch = 0; narch < 64; narch++) {
        char m[6];
        if (s->end - off < sizeof m)
            break;
        ssize_t r = gk_node_read(&s->n, m, sizeof m, off);
        if (r < 0) {
            io_path_err(s->cmd, s->path);
            return -1;
        }
        if (r < (ssize_t)sizeof m || !is_cpio_magic(m))
            break;
        /* an uncompressed archive: the next one may follow it */
        struct archive *a = open_at(s, off, 0);
        if (!a)
            return -1;
        struct archive_entry *e;
        int rr;
        while ((rr = archive_read_next_header(a, &e)) == ARCHIVE_OK)
            if (archive_read_data_skip(a) != ARCHIVE_OK)
                break;
        int64_t used = archive_filter_bytes(a, 0);
        archive_read_free(a);
        if (s->failed || gfsh_interrupted)
            return -1;
        if (rr != ARCHIVE_EOF || used <= 0) {
            gfsh_err(s->cmd, "%s: damaged cpio archive at offset %" PRIu64, s->path, off);
            return -1;
        }
        uint64_t next = off + (uint64_t)used;
        /* skip the padding to what follows, in steps of the block read */
        while (next < s->end) {
            size_t want = s->end - next < RBUF ? (size_t)(s->end - next) : RBUF;
            ssize_t g = gk_node_read(&s->n, s->buf, want, next);
            if (g <= 0)
                break;
            size_t z = 0;
            while (z < (size_t)g && s->buf[z] == 0)
                z++;
            next += z;
            if (z < (size_t)g)
                break;
        }
        if (next >= s->end) {   /* nothing after it: this was the archive */
            *start = off;
            return 0;
        }
        off = next;
    }
    *start = off;
    return 0;
}

int run_initrd(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    int cat = strcmp(cmd->name, "initrd-cat") == 0;
    struct src s = {.cmd = cmd, .path = a->argv[0]};
    gk_stat st;
    if (io_open_reg(sh, cmd, a->argv[0], &s.n, &st) < 0)
        return -1;
    s.end = st.size;
    s.buf = gk_malloc(RBUF);
    uint64_t start = 0;
    int r = real_start(&s, &start);
    struct archive *ar = r == 0 ? open_at(&s, start, 1) : NULL;
    if (!ar)
        r = -1;
    const char *want = cat ? a->argv[1] : NULL;
    int found = 0;
    /* libarchive may still hold on to the buffer src_read handed it */
    char *obuf = cat ? gk_malloc(RBUF) : NULL;
    struct archive_entry *e;
    while (r == 0 && !found) {
        int h = archive_read_next_header(ar, &e);
        if (h == ARCHIVE_EOF)
            break;
        if (io_interrupted(cmd) || s.failed) {
            r = -1;
            break;
        }
        if (h != ARCHIVE_OK && h != ARCHIVE_WARN) {
            gfsh_err(cmd, "%s: %s", a->argv[0], archive_error_string(ar));
            r = -1;
            break;
        }
        const char *name = archive_entry_pathname(e);
        if (!name)
            continue;
        if (!cat) {
            if (io_write(sh, cmd, stdout, name, strlen(name)) != 0 ||
                io_write(sh, cmd, stdout, "\n", 1) != 0)
                break;
            continue;
        }
        /* "./etc/x" and "etc/x" name the same file */
        const char *n1 = name[0] == '.' && name[1] == '/' ? name + 2 : name;
        const char *n2 = want[0] == '.' && want[1] == '/' ? want + 2 : want;
        if (strcmp(n1, n2) != 0)
            continue;
        found = 1;
        if (archive_entry_filetype(e) != AE_IFREG) {
            gfsh_err(cmd, "%s: %s: not a regular file in the initrd", a->argv[0], want);
            r = -1;
            break;
        }
        for (;;) {
            la_ssize_t g = archive_read_data(ar, obuf, RBUF);
            if (g == 0)
                break;
            if (g < 0 || s.failed || io_interrupted(cmd)) {
                if (g < 0 && !s.failed)
                    gfsh_err(cmd, "%s: %s", a->argv[0], archive_error_string(ar));
                r = -1;
                break;
            }
            int w = io_write(sh, cmd, stdout, obuf, (size_t)g);
            if (w != 0) {
                r = w < 0 ? -1 : 0;
                break;
            }
        }
    }
    if (r == 0 && cat && !found) {
        gfsh_err(cmd, "%s: %s: no such file in the initrd", a->argv[0], want);
        r = -1;
    }
    if (ar)
        archive_read_free(ar);
    free(obuf);
    free(s.buf);
    return r;
}
