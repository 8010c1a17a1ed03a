/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: RPM header blobs as rpmdb.sqlite stores them
 * (fs/rpmhdr.c).  Seeds: tests/fuzz/seeds-rpmhdr.sh (headers rpm made). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, so a read past the end is seen */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    gk_app a;
    if (gk_rpmhdr_parse(copy, size, &a) == 0) {
        /* a success must give strings we can walk */
        size_t n = strlen(a.name);
        if (a.version)
            n += strlen(a.version);
        if (a.description)
            n += strlen(a.description);
        if (n == (size_t)-1)
            abort();
        gk_app_clear(&a);
    }
    free(copy);
    return 0;
}
