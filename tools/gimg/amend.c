/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gimg amend: qemu-img amend [-f FMT] [-q] [-p] -o OPTIONS FILENAME
 * (the format's amend does the work: lib/qcow2-amend.c, lib/luks-image.c;
 * messages and exit codes are qemu-img 7.2's). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gimg.h"

/* qemu-img's amend_status_cb and qemu_progress_print (min_skip 1.0): in
 * single precision, a line when the value moved by more than one point
 * either way, or is 0 or 100. */
struct shown {
    struct progress *p;
    float last;
    int started; /* qemu-img's first line, 0, is out */
};

static void show(uint64_t done, uint64_t total, void *opaque)
{
    struct shown *s = opaque;
    if (!s->started) {
        s->started = 1;
        progress_print(s->p, 0, 1);
    }
    float cur = total ? 100.f * (float)done / (float)total : 0.f;
    if (cur > 100)
        cur = 100;
    if (cur > s->last + 1.0f || cur < s->last - 1.0f || cur == 100 || cur == 0) {
        s->last = cur;
        progress_print(s->p, cur, 1);
    }
}

static void free_opts(const char **names, const char **values, int n)
{
    for (int i = 0; i < n; i++) {
        free((char *)names[i]);
        free((char *)values[i]);
    }
    free(names);
    free(values);
}

int cmd_amend(gimg_args *a)
{
    const char **names = NULL, **values = NULL;
    int n = 0, help = 0;
    unsigned flags = 0;
    for (int i = 0; i < a->nopts; i++) {
        if (a->opts[i].opt == ('F' | 0x1000))
            flags |= GK_AMEND_FORCE;
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
        int r = gk_image_amend_help(f ? f : "raw", stdout);
        if (d)
            gk_dev_unref(d);
        free_opts(names, values, n);
        if (r < 0) {
            fflush(stdout);
            fprintf(stderr, "%s: %s\n", gk_progname, gk_errmsg());
            return 1;
        }
        return 0;
    }
    gk_open_opts o = {.format = a->fmt, .readwrite = 1};
    gk_dev *d = gimg_open_opts(a, path, &o, 1);
    gimg_sandbox(a, 1, GK_SB_IMGWRITE, 0);
    /* qemu-img's lines: 0, the steps, 100, a newline; an option it refuses
     * while parsing, or a format without amend, before any of them (the
     * newline still comes, after the message) */
    struct shown sh = {.p = &a->progress};
    int r = gk_image_amend_flags(d, n, names, values, flags, a->progress.on ? show : NULL, &sh);
    free_opts(names, values, n);
    int early = r < 0 && (strstr(gk_errmsg(), "does not support option amendment") ||
                          strncmp(gk_errmsg(), "Invalid parameter", 17) == 0 ||
                          /* -o's own number syntax (qemu's QemuOpts) */
                          (strncmp(gk_errmsg(), "Parameter 'encrypt.", 19) == 0 &&
                           strstr(gk_errmsg(), "' expects a number")) ||
                          (strncmp(gk_errmsg(), "Value '", 7) == 0 &&
                           strstr(gk_errmsg(), "' is too large for parameter '")));
    if (!early && !sh.started)
        progress_print(&a->progress, 0, 1);
    if (!early)
        progress_print(&a->progress, 100, 1);
    if (r < 0) {
        fflush(stdout);
        fprintf(stderr, "%s: %s\n", gk_progname, gk_errmsg());
        if (a->progress.on)
            printf("\n");
        gk_dev_unref(d);
        return 1;
    }
    if (a->progress.on) {
        printf("\n");
        fflush(stdout);
    }
    if (gk_flush(d) < 0)
        gk_die_status(1, "%s", gk_errmsg());
    gk_dev_unref(d);
    return 0;
}
