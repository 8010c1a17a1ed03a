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

#include <openssl/evp.h>

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

/* The checksum of a regular file as text: hex for the digests, the decimal
 * CRC for crc.  *size is set to the file size. */
static int digest_file(gfsh *sh, const gfsh_cmd *cmd, const char *type, const char *path,
                       char *out, size_t outsz, uint64_t *size)
{
    gk_node n;
    gk_stat st;
    if (io_open_reg(sh, cmd, path, &n, &st) < 0)
        return -1;
    *size = st.size;
    if (strcasecmp(type, "crc") == 0) {
        struct cksum *c = gk_malloc(sizeof *c);
        cksum_init(c);
        int r = io_stream(cmd, path, &n, 0, st.size, cksum_sink, c);
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
    int r = io_stream(cmd, path, &n, 0, st.size, evp_sink, ctx);
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
    if (!checksum_type_ok(cmd, type) || io_find_all(sh, cmd, dir, &p) < 0) {
        free(dir);
        return -1;
    }
    FILE *fp = io_open_out(cmd, a->argv[2]);
    int r = fp ? 0 : -1;
    int crc = strcasecmp(type, "crc") == 0;
    for (size_t i = 0; fp && i < p.n && r == 0; i++) {
        /* io_find_all names start with "/" below a directory other than / */
        const char *rel = p.v[i] + (p.v[i][0] == '/');
        char *full = io_join(dir, rel);
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
        r = io_close_out(cmd, a->argv[2], fp, r);
    io_pathv_free(&p);
    free(dir);
    return r < 0 ? -1 : 0;
}
