/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gimg resize: qemu-img resize [--shrink] [--preallocation=MODE] [-f FMT]
 * [-q] FILENAME [+|-]SIZE.  The image grows or shrinks through the format's
 * truncate (lib/qcow2-write.c, lib/raw.c); messages and exit codes are
 * qemu-img 7.2's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gimg.h"

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
    uint64_t n;
    int pr = gk_parse_size(s, &n);
    if (pr == -ERANGE)
        gk_die_status(1, "Value '%s' is out of range for parameter 'size'", s);
    if (pr < 0)
        gk_die_status(1, "Parameter 'size' expects a non-negative number below 2^64\n"
                         "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\n"
                         "and exabytes, respectively.");

    gk_open_opts o = {.format = a->fmt, .readwrite = 1};
    gk_dev *d = gimg_open_opts(a, path, &o, 1);
    gimg_sandbox(a, 1, GK_SB_IMGWRITE, 0);
    uint64_t cur = d->size;
    /* qemu-img's arithmetic: a signed 64-bit size, wrapping, so that 8E,
     * +8E or a relative size past the end come out "not positive" */
    int64_t total = (int64_t)(rel > 0 ? cur + n : rel < 0 ? cur - n : n);
    if (total <= 0)
        gk_die_status(1, "New image size must be positive");
    uint64_t size = (uint64_t)total;
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
