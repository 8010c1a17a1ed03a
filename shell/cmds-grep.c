/* SPDX-License-Identifier: GPL-2.0-or-later */
/* grep and its variants, over a file read whole (gzip-compressed too). */
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

#include <regex.h>
#include <zlib.h>

#include "cmds-int.h"

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
        /* [z][e|f]grep[i]: compressed, extended or fixed, insensitive */
        const char *n = cmd->name;
        compressed = n[0] == 'z';
        if (compressed)
            n++;
        extended = n[0] == 'e';
        fixed = n[0] == 'f';
        icase = n[strlen(n) - 1] == 'i';
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
    int r = io_read_all(sh, cmd, path, &buf, &len);
    if (r == 0 && compressed)
        r = gunzip(cmd, path, &buf, &len);
    if (r < 0) {
        if (!fixed)
            regfree(&re);
        return -1;
    }
    lines l;
    io_split_lines(buf, len, &l);
    for (size_t i = 0; i < l.n && r == 0; i++) {
        char *line = gk_strndup(l.p[i], l.len[i]);
        int m = fixed ? (icase ? strcasestr(line, pat) != NULL : strstr(line, pat) != NULL)
                      : regexec(&re, line, 0, NULL, 0) == 0;
        if (m) {
            int w = io_print_lines(sh, cmd, &l, i, i + 1);
            if (w < 0)
                r = -1;
        }
        free(line);
        if (io_interrupted(cmd))
            r = -1;
    }
    free(l.p);
    free(l.len);
    free(buf);
    if (!fixed)
        regfree(&re);
    return r;
}
