/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gimg amend: qemu-img amend [-f FMT] [-q] [-p] -o OPTIONS FILENAME
 * (lib/qcow2-amend.c does the work; messages and exit codes are qemu-img
 * 7.2's). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gimg.h"

static void amend_help(const char *fmt)
{
    if (strcmp(fmt, "qcow2") != 0) {
        printf("This format does not support any options.\n");
        return;
    }
    printf("Amend options for 'qcow2':\n"
           "  backing_file=<str>     - File name of a base image\n"
           "  backing_fmt=<str>      - Image format of the base image\n"
           "  compat=<str>           - Compatibility level (v2 [0.10] or v3 [1.1])\n"
           "  data_file=<str>        - File name of an external data file\n"
           "  data_file_raw=<bool (on/off)> - The external data file must stay valid as a raw image\n"
           "  lazy_refcounts=<bool (on/off)> - Postpone refcount updates\n"
           "  refcount_bits=<num>    - Width of a reference count entry in bits\n"
           "  size=<size>            - Virtual disk size\n");
}

int cmd_amend(gimg_args *a)
{
    const char **names = NULL, **values = NULL;
    int n = 0, help = 0;
    for (int i = 0; i < a->nopts; i++) {
        if (a->opts[i].opt != 'o')
            continue;
        if (strcmp(a->opts[i].arg, "help") == 0 || strcmp(a->opts[i].arg, "?") == 0)
            help = 1;
        else
            gimg_split_opts(a->opts[i].arg, &names, &values, &n);
    }
    if (!n && !help)
        gimg_usage_error(a, "Must specify options (-o)");
    if (a->nargs != 1)
        gimg_usage_error(a, "Expecting one image file name");
    const char *path = a->args[0];
    if (help) {
        const char *f = a->fmt;
        gk_dev *d = NULL;
        if (!f) {
            d = gimg_open(a, path, NULL, GK_OPEN_INFO | GK_OPEN_NO_BACKING, 1);
            f = gk_dev_format(d);
        }
        amend_help(f ? f : "raw");
        if (d)
            gk_dev_unref(d);
        free(names);
        free(values);
        return 0;
    }
    gk_open_opts o = {.format = a->fmt, .readwrite = 1};
    gk_dev *d = gimg_open_opts(a, path, &o, 1);
    gimg_sandbox(a, 1, GK_SB_IMGWRITE, 0);
    progress_print(&a->progress, 0, 1);
    int r = gk_image_amend(d, n, names, values);
    if (r == 0)
        progress_end(&a->progress);
    free(names);
    free(values);
    if (r < 0) {
        if (errno == ENOTSUP && strstr(gk_errmsg(), "does not support option amendment"))
            gk_die_status(1, "%s", gk_errmsg());
        gk_die_status(1, "%s", gk_errmsg());
    }
    if (gk_flush(d) < 0)
        gk_die_status(1, "%s", gk_errmsg());
    gk_dev_unref(d);
    return 0;
}
