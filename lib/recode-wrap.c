/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The statically linked hivex's iconv_open, iconv and iconv_close
 * (-Wl,--wrap, see the Makefile) go to lib/recode.c for the charsets it
 * uses, to glibc for any other.  Linked only where the wrap is in force:
 * common-sandbox.c then loads no gconv module before entering. */
#include <iconv.h>

#include "recode.h"

iconv_t __real_iconv_open(const char *to, const char *from);
size_t __real_iconv(iconv_t cd, char **in, size_t *inl, char **out, size_t *outl);
int __real_iconv_close(iconv_t cd);

iconv_t __wrap_iconv_open(const char *to, const char *from);
iconv_t __wrap_iconv_open(const char *to, const char *from)
{
    void *cd = gk_iconv_open(to, from);
    return cd != (void *)-1 ? (iconv_t)cd : __real_iconv_open(to, from);
}

size_t __wrap_iconv(iconv_t cd, char **in, size_t *inl, char **out, size_t *outl);
size_t __wrap_iconv(iconv_t cd, char **in, size_t *inl, char **out, size_t *outl)
{
    return gk_iconv_ours(cd) ? gk_iconv(cd, in, inl, out, outl) : __real_iconv(cd, in, inl, out, outl);
}

int __wrap_iconv_close(iconv_t cd);
int __wrap_iconv_close(iconv_t cd)
{
    return gk_iconv_ours(cd) ? 0 : __real_iconv_close(cd);
}
