/* SPDX-License-Identifier: GPL-2.0-or-later */
/* checksum and checksums-out: OpenSSL digests and the POSIX cksum CRC. */
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


#include "ossl.h"
#include "cmds-int.h"

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

/* Read what is checksummed: regular file n, or with dev the whole device. */
struct src { const gfsh_cmd *cmd; const char *path; gk_node n; uint64_t size; gk_dev *dev; };

static int feed(struct src *s, sink_fn sink, void *ud)
{
    if (s->dev)
        return io_stream_dev(s->cmd, s->path, s->dev, sink, ud);
    return io_stream(s->cmd, s->path, &s->n, 0, s->size, sink, ud);
}

/* The checksum as text: hex for the digests, the decimal CRC for crc. */
static int digest_src(struct src *src, const char *type, char *out, size_t outsz)
{
    const gfsh_cmd *cmd = src->cmd;
    if (strcasecmp(type, "crc") == 0) {
        struct cksum *c = gk_malloc(sizeof *c);
        cksum_init(c);
        int r = feed(src, cksum_sink, c);
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
    int r = feed(src, evp_sink, ctx);
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

/* The checksum of regular file n (path, for messages). */
static int digest_node(const gfsh_cmd *cmd, const char *type, const char *path, gk_node *np,
                       const gk_stat *stp, char *out, size_t outsz)
{
    struct src s = {cmd, path, *np, stp->size, NULL};
    return digest_src(&s, type, out, outsz);
}

static int digest_file(gfsh *sh, const gfsh_cmd *cmd, const char *type, const char *path,
                       char *out, size_t outsz)
{
    gk_node n;
    gk_stat st;
    if (io_open_reg(sh, cmd, path, &n, &st) < 0)
        return -1;
    return digest_node(cmd, type, path, &n, &st, out, outsz);
}

int run_checksum(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    char sum[2 * EVP_MAX_MD_SIZE + 1];
    if (!checksum_type_ok(cmd, a->argv[0]))
        return -1;
    if (strcmp(cmd->name, "checksum-device") == 0) {
        gk_devent *e = gk_devset_find(sh->g->devs, a->argv[1]);
        if (!e || !e->dev) {
            gfsh_err(cmd, "%s", e ? (e->open_error ? e->open_error : "cannot be opened") : gk_errmsg());
            return -1;
        }
        struct src s = {cmd, e->name, {0}, e->dev->size, e->dev};
        if (digest_src(&s, a->argv[0], sum, sizeof sum) < 0)
            return -1;
    } else if (digest_file(sh, cmd, a->argv[0], a->argv[1], sum, sizeof sum) < 0) {
        return -1;
    }
    printf("%s\n", sum);
    return 0;
}

/* checksums-out: the output of `cd DIR && find -type f | xargs CSUMsum`
 * (cksum for crc), sorted by path, to a host file; streamed. */
struct sums { const gfsh_cmd *cmd; const char *type; FILE *fp; int crc; };

static int sums_one(void *ud, const char *rel, const gk_walk_ent *e)
{
    struct sums *s = ud;
    if (!S_ISREG(e->st.mode))
        return 0;
    /* the names of io_find start with "/" below a directory other than / */
    rel += rel[0] == '/';
    char sum[2 * EVP_MAX_MD_SIZE + 1];
    gk_node n = e->node;
    if (digest_node(s->cmd, s->type, e->path, &n, &e->st, sum, sizeof sum) < 0)
        return -1;
    FILE *fp = s->fp;
    if (s->crc)
        fprintf(fp, "%s %" PRIu64 " ./%s\n", sum, e->st.size, rel);
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
    return 0;
}

int run_checksums_out(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    const char *type = a->argv[0];
    if (!checksum_type_ok(cmd, type))
        return -1;
    char *dir = gk_strdup(a->argv[1]);
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dir[--dl] = 0;
    FILE *fp = io_open_out(cmd, a->argv[2]);
    if (!fp) {
        free(dir);
        return -1;
    }
    struct sums s = {cmd, type, fp, strcasecmp(type, "crc") == 0};
    int r = io_find(sh, cmd, dir, sums_one, &s);
    r = io_close_out(cmd, a->argv[2], fp, r < 0 ? -1 : 0);
    free(dir);
    return r < 0 ? -1 : 0;
}
