/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Errors, warnings, allocation and formatting helpers shared by every layer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "blk-int.h"

const char *gk_progname = "guestkit";
int gk_verbose;
int gk_trace;

/* The last error; thread-local so a future multi-threaded reader keeps
 * messages apart. */
static _Thread_local char errbuf[4096];

void gk_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    /* Not echoed with -v: most errors are probes that found nothing and
     * are handled by the caller; what was tried is the caller's gk_debug. */
}

void gk_error_prefix(const char *fmt, ...)
{
    char old[sizeof errbuf];
    va_list ap;
    memcpy(old, errbuf, sizeof old);
    va_start(ap, fmt);
    int n = vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof errbuf - 2) {
        errbuf[n] = ':';
        errbuf[n + 1] = ' ';
        size_t room = sizeof errbuf - (size_t)n - 2;
        size_t len = strnlen(old, room - 1);
        memcpy(errbuf + n + 2, old, len);
        errbuf[n + 2 + len] = 0;
    }
}

const char *gk_errmsg(void)
{
    return errbuf[0] ? errbuf : "unknown error";
}

void (*gk_warn_hook)(const char *msg);

void gk_warn(const char *fmt, ...)
{
    va_list ap;
    if (gk_warn_hook) {
        char msg[4096];
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        gk_warn_hook(msg);
        return;
    }
    fprintf(stderr, "%s: warning: ", gk_progname);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* "PROG: TAG...message" on stderr. */
static void vsay(const char *tag, const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: %s", gk_progname, tag);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void gk_trace_call(const char *fmt, ...)
{
    va_list ap;
    if (!gk_trace)
        return;
    va_start(ap, fmt);
    vsay("trace: ", fmt, ap);
    va_end(ap);
}

void gk_debug(const char *fmt, ...)
{
    va_list ap;
    if (!gk_verbose)
        return;
    va_start(ap, fmt);
    vsay("", fmt, ap);
    va_end(ap);
}

static void oom(size_t n)
{
    fprintf(stderr, "%s: out of memory (%zu bytes)\n", gk_progname, n);
    exit(1);
}

void *gk_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    gk_heap_grown();
    return p;
}

void *gk_calloc(size_t n, size_t m)
{
    void *p = calloc(n ? n : 1, m ? m : 1);
    if (!p)
        oom(n * m);
    gk_heap_grown();
    return p;
}

void *gk_realloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        oom(n);
    gk_heap_grown();
    return p;
}

char *gk_strdup(const char *s)
{
    return s ? gk_strndup(s, strlen(s)) : NULL;
}

char *gk_strndup(const char *s, size_t n)
{
    char *p = gk_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *gk_asprintf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        oom(0);
    va_end(ap);
    return s;
}

/* qemu's size_to_str(): powers of 1024 with three significant digits,
 * switching to the next unit once the value reaches 1000 of the current
 * one ("0.999 MiB", "1 GiB", "192 KiB", "512 B"). */
void gk_human_size_qemu(uint64_t val, char *buf, size_t n)
{
    static const char *const sfx[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    /* qemu takes frexp's exponent of val / (1000 / 1024.0); the same
     * comparison against exact powers of two in doubles, without libm (a
     * tool that loads libm for one call pays ~12 page faults at start). */
    double x = (double)val / (1000.0 / 1024.0), unit = 1024.0;
    int i = 0;
    while (i < 6 && x >= unit) {
        i++;
        unit *= 1024.0;
    }
    uint64_t div = 1ULL << (i * 10);
    snprintf(buf, n, "%0.3g %sB", (double)val / (double)div, sfx[i]);
}

/* gnulib's human_readable() with autoscale, powers of 1024 and no "iB":
 * integer arithmetic that tracks the tenths and the rounding of what was
 * divided away, so that 1.5 and 10 round the way the real tools print.
 * libguestfs' -h (virt-df, virt-filesystems, virt-ls) rounds to nearest;
 * coreutils' df -h (guestfish df-h) rounds up. */
static void human_readable(uint64_t amt, int ceiling, char *buf, size_t bufsz)
{
    static const char letters[] = "KMGTPEZY";
    const unsigned base = 1024;
    int exponent = 0, tenths = 0, rounding = 0, point = 0;
    if (amt >= base) {
        do {
            unsigned r10 = (unsigned)(amt % base) * 10 + (unsigned)tenths;
            unsigned r2 = (r10 % base) * 2 + (unsigned)(rounding >> 1);
            amt /= base;
            tenths = (int)(r10 / base);
            rounding = r2 < base ? (r2 + (unsigned)rounding) != 0
                                 : 2 + (base < r2 + (unsigned)rounding);
            exponent++;
        } while (amt >= base && exponent < 8);
        if (amt < 10) {
            if (ceiling ? 0 < rounding : 2 < rounding + (tenths & 1)) {
                tenths++;
                rounding = 0;
                if (tenths == 10) {
                    amt++;
                    tenths = 0;
                }
            }
            if (amt < 10) {
                point = 1;
                rounding = 0;
            }
        }
    }
    if (!point && (ceiling ? 0 < tenths + rounding
                           : 5 < tenths + (0 < rounding + (int)(amt & 1)))) {
        amt++;
        if (exponent > 0 && amt == base && exponent < 8) {
            exponent++;
            amt = 1;
            point = 1;
            tenths = 0;
        }
    }
    if (exponent == 0)
        snprintf(buf, bufsz, "%llu", (unsigned long long)amt);
    else if (point)
        snprintf(buf, bufsz, "%llu.%d%c", (unsigned long long)amt, tenths, letters[exponent - 1]);
    else
        snprintf(buf, bufsz, "%llu%c", (unsigned long long)amt, letters[exponent - 1]);
}

void gk_human_size(uint64_t n, char *buf, size_t bufsz)
{
    human_readable(n, 0, buf, bufsz);
}

void gk_human_size_ceil(uint64_t n, char *buf, size_t bufsz)
{
    human_readable(n, 1, buf, bufsz);
}

uint32_t gk_crc32(const void *buf, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    const Bytef *p = buf;
    while (n > 0) {
        uInt chunk = n > 0x40000000 ? 0x40000000 : (uInt)n;
        c = crc32(c, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return (uint32_t)c;
}
