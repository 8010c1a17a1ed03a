/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Minimal TAP for the C unit tests: ok(), is_int(), is_str(), done_testing(). */
#ifndef GK_TAP_H
#define GK_TAP_H
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
static inline int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#include <stdarg.h>
static inline int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    printf("%s %d - ", pass ? "ok" : "not ok", ++tap_n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!pass) {
        tap_failed++;
        printf("#   failed at %s:%d\n", file, line);
    }
    fflush(stdout);
    return pass;
}

#define is_int(got, exp, ...) do { long long g_ = (long long)(got), e_ = (long long)(exp); \
    if (!ok(g_ == e_, __VA_ARGS__)) printf("#   got %lld, expected %lld\n", g_, e_); } while (0)
#define is_str(got, exp, ...) do { const char *g_ = (got), *e_ = (exp); \
    if (!ok(g_ && e_ && strcmp(g_, e_) == 0, __VA_ARGS__)) \
        printf("#   got \"%s\", expected \"%s\"\n", g_ ? g_ : "(null)", e_ ? e_ : "(null)"); } while (0)

/* Warnings the code under test prints on purpose (a corrupt table it is
 * fed) are TAP diagnostics: on stdout as "# warning: ...", which prove
 * shows with -v only, instead of noise on the terminal. */
#include "blk.h"
static void tap_warn(const char *msg)
{
    printf("# warning: %s\n", msg);
    fflush(stdout);
}
__attribute__((constructor)) static void tap_init(void)
{
    gk_warn_hook = tap_warn;
}

static inline int done_testing(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}
#endif
