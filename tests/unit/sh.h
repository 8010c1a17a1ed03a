/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shell commands of the C unit tests: the oracles (qemu-img, qemu-io,
 * mkfs, mount, ...) they compare against run through sh -c. */
#ifndef GK_UNIT_SH_H
#define GK_UNIT_SH_H
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

/* Where sh() runs: the test's scratch directory. */
static const char *sh_dir = ".";

static inline int sh_vrun(const char *in, const char *fmt, va_list ap)
{
    char cmd[4096], full[4200];
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    if (in)
        snprintf(full, sizeof full, "cd %s && (%s) >/dev/null 2>&1", in, cmd);
    int rc = system(in ? full : cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* The command's exit status; -1 if it did not exit. */
static inline int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int run(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = sh_vrun(NULL, fmt, ap);
    va_end(ap);
    return r;
}

/* The same in sh_dir, its output dropped. */
static inline int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int sh(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = sh_vrun(sh_dir, fmt, ap);
    va_end(ap);
    return r;
}
#endif
