/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lib/recode.c against glibc's iconv (the oracle, its gconv modules
 * loaded here, outside any sandbox): each way between UTF-8, LATIN1
 * and UTF-16LE on seeded random and crafted inputs, with output buffers of
 * every size up to what the input needs: the same return value, errno,
 * input consumed and output bytes. */
#include <dlfcn.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recode.h"
#include "tap.h"

/* glibc's own functions: in a program linked with -Wl,--wrap=iconv_open
 * the names would reach lib/recode-wrap.c */
static iconv_t (*g_open)(const char *, const char *);
static size_t (*g_iconv)(iconv_t, char **, size_t *, char **, size_t *);
static int (*g_close)(iconv_t);

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

static const char *const names[] = {"UTF-8", "LATIN1", "UTF-16LE"};
static long compared, differed, shown;

/* one conversion of in[0..n) into room bytes, both ways; 1 when they agree */
static int same(iconv_t g, void *o, const unsigned char *in, size_t n, size_t room, const char *what)
{
    unsigned char gout[256], oout[256];
    char *gi = (char *)in, *oi = (char *)in, *go = (char *)gout, *oo = (char *)oout;
    size_t gil = n, oil = n, gol = room, ool = room;
    g_iconv(g, NULL, NULL, NULL, NULL);
    errno = 0;
    size_t gr = g_iconv(g, &gi, &gil, &go, &gol);
    int ge = gr == (size_t)-1 ? errno : 0;
    errno = 0;
    size_t orr = gk_iconv(o, &oi, &oil, &oo, &ool);
    int oe = orr == (size_t)-1 ? errno : 0;
    compared++;
    if (gr == orr && ge == oe && gil == oil && gol == ool && memcmp(gout, oout, room - gol) == 0)
        return 1;
    if (differed++, shown++ < 10) {
        printf("# %s, %zu bytes in, room %zu:", what, n, room);
        for (size_t i = 0; i < n; i++)
            printf(" %02x", in[i]);
        printf("\n#   glibc: r %zd errno %d in left %zu out %zu; ours: r %zd errno %d in left %zu out %zu\n",
               (ssize_t)gr, ge, gil, room - gol, (ssize_t)orr, oe, oil, room - ool);
    }
    return 0;
}

/* every code point where the charsets' boundaries are (Latin-1, the
 * surrogates, the planes, glibc's dropped tag characters U+E0000..E007F),
 * one in 97 elsewhere */
static uint32_t step(uint32_t cp)
{
    return cp < 0x3000 || (cp >= 0xd700 && cp < 0xe100) || (cp >= 0xff00 && cp < 0x10100) ||
           (cp >= 0xdff00 && cp < 0xe0100) || cp >= 0x10ff00 ? 1 : 97;
}

/* a byte likely to matter to one of the charsets */
static unsigned char pick(void)
{
    static const unsigned char hot[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1,
                                        0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xf8, 0xfe,
                                        0xff, 0xd7, 0xd8, 0xdb, 0xdc, 0xdf, 0x90, 0xa8};
    return rnd() % 3 ? hot[rnd() % sizeof hot] : (unsigned char)rnd();
}

int main(void)
{
    g_open = (iconv_t(*)(const char *, const char *))dlsym(RTLD_NEXT, "iconv_open");
    g_iconv = (size_t(*)(iconv_t, char **, size_t *, char **, size_t *))dlsym(RTLD_NEXT, "iconv");
    g_close = (int (*)(iconv_t))dlsym(RTLD_NEXT, "iconv_close");
    if (!g_open || !g_iconv || !g_close) {
        printf("1..0 # SKIP glibc's iconv not found with dlsym\n");
        return 0;
    }
    is_int((intptr_t)gk_iconv_open("UTF-8", "ISO-8859-2"), -1, "another charset is not ours");
    ok(!gk_iconv_ours(NULL) && gk_iconv_ours(gk_iconv_open("utf-16le", "utf-8")),
       "names in any case; a handle is recognised as ours");
    for (int f = 0; f < 3; f++)
        for (int t = 0; t < 3; t++) {
            if (t == f) {
                is_int((intptr_t)gk_iconv_open(names[t], names[f]), -1, "%s to itself is glibc's", names[t]);
                continue;
            }
            iconv_t g = g_open(names[t], names[f]);
            void *o = gk_iconv_open(names[t], names[f]);
            char what[64];
            snprintf(what, sizeof what, "%s to %s", names[f], names[t]);
            if (!ok(g != (iconv_t)-1 && o != (void *)-1, "%s: opened by glibc and by us", what))
                continue;
            long before = differed, n0 = compared;
            shown = 0;
            unsigned char in[64];
            /* every code point of the planes that matter, as the source
             * charset writes it (UTF-8 and UTF-16LE by glibc itself) */
            iconv_t enc = g_open(names[f], "UTF-32LE");
            for (uint32_t cp = 0; cp < 0x110000; cp += step(cp)) {
                unsigned char u[4] = {(unsigned char)cp, (unsigned char)(cp >> 8), (unsigned char)(cp >> 16), 0};
                char *ui = (char *)u, *eo = (char *)in;
                size_t uil = 4, eol = sizeof in;
                g_iconv(enc, NULL, NULL, NULL, NULL);
                if (g_iconv(enc, &ui, &uil, &eo, &eol) == (size_t)-1)
                    continue;
                size_t n = sizeof in - eol;
                in[n] = 'x';
                same(g, o, in, n + 1, 16, what);
                same(g, o, in, n, n > 0 ? rnd() % n : 0, what); /* E2BIG or a tight fit */
            }
            g_close(enc);
            /* random bytes, mostly the ones each decoder treats specially */
            for (int k = 0; k < 40000; k++) {
                size_t n = rnd() % 12;
                for (size_t i = 0; i < n; i++)
                    in[i] = pick();
                same(g, o, in, n, rnd() % 2 ? 4 * n + 4 : rnd() % (4 * n + 5), what);
            }
            ok(differed == before, "%s: %ld conversions as glibc's", what, compared - n0);
            g_close(g);
        }
    return done_testing();
}
