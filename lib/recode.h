/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iconv(3) for UTF-8, LATIN1 and UTF-16LE without gconv modules
 * (lib/recode.c); the statically linked hivex reaches it through
 * lib/recode-wrap.c. */
#ifndef GK_RECODE_H
#define GK_RECODE_H
#include <stddef.h>

/* iconv_open(to, from) for those three charsets (names as glibc spells
 * them, any case): a handle that needs no closing, or (void *)-1 with
 * errno EINVAL for any other. */
void *gk_iconv_open(const char *to, const char *from);
/* Whether cd is a handle of gk_iconv_open. */
int gk_iconv_ours(const void *cd);
/* iconv(3) with one of those handles: the same errno (E2BIG, EILSEQ,
 * EINVAL) and pointers as glibc's. */
size_t gk_iconv(void *cd, char **inbuf, size_t *inleft, char **outbuf, size_t *outleft);
#endif
