/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A tool linked as a static PIE hands over to its dynamic twin.
 *
 * The short read-only tools (Makefile, STATIC_TOOLS) are static PIEs: no
 * libc.so to map and relocate, no symbol to bind lazily, only the part of
 * libc they use, next to their own code; gcat of one file costs ~1.5 ms
 * less than the same program linked against libc.so (HACKING.md, "Linking
 * and start-up").  What such a program cannot do well is dlopen: the
 * library it loads brings a second libc, whose threads crash the process.
 * So the remote protocols' client libraries (libnbd, libcurl, librbd: all
 * threaded) are not loaded there: the program runs its twin, the same tool
 * linked dynamically (installed as ../libexec/guestkit/NAME next to it),
 * with the same arguments, as long as that is harmless: before it has read
 * a key or entered the sandbox (tools/common.c clears gk_twin_argv); later,
 * or without the twin, the open fails with a message (never a dlopen).
 * A fleet run (--each) is run by the twin from the start.
 * libcrypto and libargon2 are still dlopen'ed where they are needed (one
 * thread: lib/crypto.c runs Argon2 on one thread in a static program). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "blk-int.h"

char **gk_twin_argv;

int gk_static_program(void)
{
    return getauxval(AT_BASE) == 0; /* no program interpreter */
}

int gk_use_twin(const char *why)
{
    if (!gk_static_program())
        return 0;
    if (!gk_twin_argv)
        return gk_fail(ENOTSUP, "%s cannot be loaded by a static program at this point "
                       "(its dynamic twin could have)", why);
    char self[PATH_MAX], twin[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return gk_fail(ENOTSUP, "%s: cannot find this program's dynamic twin: /proc/self/exe: %s",
                       why, n < 0 ? strerror(errno) : "empty");
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (!slash)
        return gk_fail(ENOTSUP, "%s: cannot find this program's dynamic twin", why);
    *slash = 0;
    snprintf(twin, sizeof twin, "%s/../libexec/guestkit/%s", self, slash + 1);
    gk_debug("needs %s: running %s", why, twin);
    char **argv = gk_twin_argv;
    gk_twin_argv = NULL;
    execv(twin, argv);
    return gk_fail(ENOTSUP, "%s needs this program's dynamic twin: %s: %s", why, twin,
                   strerror(errno));
}
