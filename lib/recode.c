/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iconv for the three charsets hivex converts registry names and values
 * between (UTF-8, LATIN1, UTF-16LE), without glibc's gconv modules.
 * glibc loads UTF-16 and ISO-8859-1 as modules from the host on first use,
 * which the sandbox forbids, so they had to be loaded before entering by
 * every run that might read a hive (~20 system calls and ~30 page faults
 * for each inspection, Windows guest or not).  The statically linked hivex
 * calls these instead (lib/recode-wrap.c); they answer as glibc does, errno
 * and pointers included (tests/unit/recode.c compares them with glibc). */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "recode.h"

enum { CS_UTF8, CS_LATIN1, CS_UTF16LE, CS_N };

struct gk_iconv {
    int from, to;
};

/* the handles: one per pair, never freed */
static const struct gk_iconv convs[CS_N][CS_N] = {
    {{0, 0}, {0, 1}, {0, 2}}, {{1, 0}, {1, 1}, {1, 2}}, {{2, 0}, {2, 1}, {2, 2}},
};

static int charset(const char *name)
{
    static const char *const names[CS_N] = {"UTF-8", "LATIN1", "UTF-16LE"};
    for (int i = 0; i < CS_N; i++)
        if (strcasecmp(name, names[i]) == 0)
            return i;
    return -1;
}

void *gk_iconv_open(const char *to, const char *from)
{
    int t = charset(to), f = charset(from);
    if (t < 0 || f < 0 || t == f) { /* glibc's UTF-8 to UTF-8 is its own */
        errno = EINVAL;
        return (void *)-1;
    }
    return (void *)&convs[f][t];
}

int gk_iconv_ours(const void *cd)
{
    const char *p = cd, *base = (const char *)convs;
    return p >= base && p < base + sizeof convs;
}

/* One character of in[0..n): its length, or -EILSEQ, or -EINVAL when the
 * input ends inside it. */
static int decode(int cs, const unsigned char *in, size_t n, uint32_t *cp)
{
    if (cs == CS_LATIN1) {
        *cp = in[0];
        return 1;
    }
    if (cs == CS_UTF16LE) {
        if (n < 2)
            return -EINVAL;
        uint32_t u = in[0] | (uint32_t)in[1] << 8;
        if (u >= 0xdc00 && u < 0xe000)
            return -EILSEQ;
        if (u < 0xd800 || u >= 0xe000) {
            *cp = u;
            return 2;
        }
        if (n < 4)
            return -EINVAL;
        uint32_t l = in[2] | (uint32_t)in[3] << 8;
        if (l < 0xdc00 || l >= 0xe000)
            return -EILSEQ;
        *cp = 0x10000 + ((u - 0xd800) << 10) + (l - 0xdc00);
        return 4;
    }
    /* UTF-8: glibc reads the 5- and 6-byte forms' lead bytes too, so that
     * the input ending inside one is EINVAL (incomplete), as is any lead
     * followed only by continuation bytes up to the end; a complete
     * sequence is checked (overlong, surrogate, past U+10FFFF: EILSEQ) */
    uint32_t c = in[0], min;
    int len;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c < 0xe0)
        len = 2, c &= 0x1f, min = 0x80;
    else if (c >= 0xe0 && c < 0xf0)
        len = 3, c &= 0x0f, min = 0x800;
    else if (c >= 0xf0 && c < 0xf8)
        len = 4, c &= 0x07, min = 0x10000;
    else if (c >= 0xf8 && c < 0xfe)
        len = c < 0xfc ? 5 : 6, min = UINT32_MAX;
    else
        return -EILSEQ;
    int i;
    for (i = 1; i < len && (size_t)i < n; i++) {
        if ((in[i] & 0xc0) != 0x80)
            return -EILSEQ;
        c = c << 6 | (in[i] & 0x3f);
    }
    if (i < len)
        return -EINVAL;
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
        return -EILSEQ;
    *cp = c;
    return len;
}

/* cp as cs into out (room bytes): its length (0: a character glibc
 * drops), -E2BIG when it does not fit, -EILSEQ when cs cannot hold it. */
static int encode(int cs, uint32_t cp, unsigned char *out, size_t room)
{
    if (cs == CS_LATIN1) { /* glibc: E2BIG first; tag characters dropped */
        if (room < 1)
            return -E2BIG;
        if (cp >> 7 == 0xe0000 >> 7)
            return 0;
        if (cp > 0xff)
            return -EILSEQ;
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cs == CS_UTF16LE) {
        if (cp < 0x10000) {
            if (room < 2)
                return -E2BIG;
            out[0] = (unsigned char)cp, out[1] = (unsigned char)(cp >> 8);
            return 2;
        }
        if (room < 4)
            return -E2BIG;
        uint32_t h = 0xd800 + ((cp - 0x10000) >> 10), l = 0xdc00 + (cp & 0x3ff);
        out[0] = (unsigned char)h, out[1] = (unsigned char)(h >> 8);
        out[2] = (unsigned char)l, out[3] = (unsigned char)(l >> 8);
        return 4;
    }
    int len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (room < (size_t)len)
        return -E2BIG;
    if (len == 1) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    static const unsigned char lead[] = {0, 0, 0xc0, 0xe0, 0xf0};
    for (int i = len - 1; i > 0; i--, cp >>= 6)
        out[i] = (unsigned char)(0x80 | (cp & 0x3f));
    out[0] = (unsigned char)(lead[len] | cp);
    return len;
}

size_t gk_iconv(void *cd, char **inbuf, size_t *inleft, char **outbuf, size_t *outleft)
{
    const struct gk_iconv *c = cd;
    if (!inbuf || !*inbuf)
        return 0; /* reset: no shift state in these charsets */
    const unsigned char *in = (const unsigned char *)*inbuf;
    unsigned char *out = (unsigned char *)*outbuf;
    size_t inl = *inleft, outl = *outleft;
    int err = 0;
    while (inl > 0) {
        uint32_t cp;
        int n = decode(c->from, in, inl, &cp);
        if (n < 0) {
            err = -n;
            break;
        }
        int m = encode(c->to, cp, out, outl);
        if (m < 0) {
            err = -m;
            break;
        }
        in += n, inl -= (size_t)n;
        out += m, outl -= (size_t)m;
    }
    *inbuf = (char *)in, *inleft = inl;
    *outbuf = (char *)out, *outleft = outl;
    if (err) {
        errno = err;
        return (size_t)-1;
    }
    return 0;
}
