/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gimg resize: qemu-img resize [--shrink] [--preallocation=MODE] [-f FMT]
 * [-q] FILENAME [+|-]SIZE.  The image grows or shrinks through the format's
 * truncate (lib/qcow2-write.c, lib/raw.c); messages and exit codes are
 * qemu-img 7.2's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gimg.h"

static void bad_size(void)
{
    gk_die_status(1, "Parameter 'size' expects a non-negative number below 2^64\n"
                     "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\n"
                     "and exabytes, respectively.");
}

int cmd_resize(gimg_args *a)
{
    int shrink = 0;
    enum gk_prealloc prealloc = GK_PREALLOC_OFF;
    for (int i = 0; i < a->nopts; i++) {
        const char *v = a->opts[i].arg;
        switch (a->opts[i].opt) {
        case 's' | 0x1000:
            shrink = 1;
            break;
        case 'p' | 0x1000:
            if (strcmp(v, "off") == 0)
                prealloc = GK_PREALLOC_OFF;
            else if (strcmp(v, "falloc") == 0)
                prealloc = GK_PREALLOC_FALLOC;
            else if (strcmp(v, "full") == 0)
                prealloc = GK_PREALLOC_FULL;
            else if (strcmp(v, "metadata") == 0)
                prealloc = GK_PREALLOC_METADATA;
            else
                gk_die_status(1, "Invalid preallocation mode '%s'", v);
            break;
        }
    }
    /* the size was taken out of argv before parsing (see main.c) */
    if (a->nargs != 1)
        gimg_usage_error(a, "Expecting image file name");
    const char *path = a->args[0], *s = a->last;
    int rel = 0;
    if (*s == '+' || *s == '-')
        rel = *s++ == '+' ? 1 : -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0 || *s == '-' || *s == '+')
        bad_size();
    uint64_t mul = 1;
    switch (*end) {
    case 0: break;
    case 'b': case 'B': end++; break;
    case 'k': case 'K': mul = 1ULL << 10; end++; break;
    case 'M': mul = 1ULL << 20; end++; break;
    case 'G': mul = 1ULL << 30; end++; break;
    case 'T': mul = 1ULL << 40; end++; break;
    case 'P': mul = 1ULL << 50; end++; break;
    case 'E': mul = 1ULL << 60; end++; break;
    }
    if (*end || v * (double)mul >= 18446744073709551616.0)
        bad_size();
    uint64_t n = (uint64_t)(v * (double)mul);

    gk_open_opts o = {.format = a->fmt, .readwrite = 1};
    gk_dev *d = gimg_open_opts(a, path, &o, 1);
    gimg_sandbox(a, 1, GK_SB_IMGWRITE, 0);
    uint64_t cur = d->size, size;
    if (rel > 0) {
        size = cur + n;
        if (size < cur)
            gk_die_status(1, "Image size too large");
    } else if (rel < 0) {
        if (n >= cur)
            gk_die_status(1, "New image size must be positive");
        size = cur - n;
    } else {
        size = n;
    }
    if (size == 0)
        gk_die_status(1, "New image size must be positive");
    if (size <= cur && prealloc != GK_PREALLOC_OFF) {
        gk_dev_unref(d);
        gk_die_status(1, "Preallocation can only be used for growing images");
    }
    if (size < cur && !shrink) {
        gk_error("Use the --shrink option to perform a shrink operation.");
        fprintf(stderr, "%s: %s\n", gk_progname, gk_errmsg());
        gk_warn("Shrinking an image will delete all data beyond the shrunken image's end. Before performing "
                "such an operation, make sure there is no important data there.");
        gk_dev_unref(d);
        return 1;
    }
    if (gk_truncate(d, size, prealloc) < 0 || gk_flush(d) < 0)
        gk_die_status(1, "%s", gk_errmsg());
    gk_dev_unref(d);
    if (!a->quiet)
        printf("Image resized.\n");
    return 0;
}
