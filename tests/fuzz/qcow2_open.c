/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: an arbitrary file opened as qcow2 (fmt-open.h), with a
 * small L2 cache, then its first snapshot, if any, opened and read too. */
#define FUZZ_FORMAT "qcow2"
#define FUZZ_SETUP() setenv("GUESTKIT_L2_CACHE", "65536", 1)
#define FUZZ_AGAIN(path, o) snapshot_too(path, o)
#include <stdint.h>

#include "blk.h"

static void exercise(gk_dev *d);

static void snapshot_too(const char *path, gk_open_opts *o)
{
    o->snapshot = "1";
    gk_dev *d = gk_open_image(path, o);
    if (d) {
        exercise(d);
        gk_dev_unref(d);
    }
}

#include "fmt-open.h"
