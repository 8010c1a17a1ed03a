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
static const char *sh_dir __attribute__((unused)) = ".";

/* Runs the command (through sh -c) and gives its exit status, -1 if it
 * did not exit; with IN, in directory IN with its output dropped.  Called
 * as run(FMT, ...) (here, output kept) or sh(FMT, ...) (in sh_dir). */
static inline int sh_run(const char *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int sh_run(const char *in, const char *fmt, ...)
{
    char cmd[4096], full[4200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (in)
        snprintf(full, sizeof full, "cd %s && (%s) >/dev/null 2>&1", in, cmd);
    int rc = system(in ? full : cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}
#define run(...) sh_run(NULL, __VA_ARGS__)
#define sh(...) sh_run(sh_dir, __VA_ARGS__)
#endif
