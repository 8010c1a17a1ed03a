/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gimg check [-r leaks|all]: qemu-img check (lib/qcow2-check.c does the work). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gimg.h"

static void print_messages(const gk_check_result *r)
{
    fflush(stdout);
    for (int i = 0; i < r->nmessages; i++)
        fprintf(stderr, "%s\n", r->messages[i]);
}

static void quiet(const char *msg)
{
    (void)msg;
}

/* A check that failed: what it found is printed, the image closed and the
 * result freed before gimg exits with qemu-img's message and status. */
static void __attribute__((noreturn)) check_failed(gk_dev *d, gk_check_result *r, int with_error)
{
    if (errno == ENOTSUP) { /* before the result was filled in */
        gk_dev_unref(d);
        gk_die_status(63, "This image format does not support checks");
    }
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", gk_errmsg());
    if (with_error && r->error) /* qemu's error_report, then its hints */
        fprintf(stderr, "%s: %s\n", gk_progname, r->error);
    print_messages(r); /* what the format found before it gave up (vmdk) */
    gk_check_result_free(r);
    gk_dev_unref(d);
    gk_die_status(1, "Check failed: %s", msg);
}

int cmd_check(gimg_args *a)
{
    unsigned fix = 0;
    for (int i = 0; i < a->nopts; i++)
        if (a->opts[i].opt == 'r') {
            if (strcmp(a->opts[i].arg, "leaks") == 0)
                fix = GK_REPAIR_LEAKS;
            else if (strcmp(a->opts[i].arg, "all") == 0)
                fix = GK_REPAIR_LEAKS | GK_REPAIR_ERRORS;
            else
                gimg_usage_error(a, "Unknown option value for -r (expecting 'leaks' or 'all'): %s", a->opts[i].arg);
        }
    if (a->nargs != 1)
        gimg_usage_error(a, "Expecting one image file name");
    const char *path = a->args[0];
    if (fix) {
        /* a format without repairs (vdi, raw) answers as qemu-img does,
         * whether or not it could be opened for writing */
        gk_open_opts ro = {.format = a->fmt, .flags = GK_OPEN_INFO | GK_OPEN_NO_BACKING | GK_OPEN_CHECK};
        void (*hook)(const char *) = gk_warn_hook;
        gk_warn_hook = quiet; /* the open for the repair warns, if need be */
        gk_dev *d = gimg_open_opts(a, path, &ro, 1);
        gk_warn_hook = hook;
        int can = gk_image_can_repair(d);
        gk_dev_unref(d);
        if (!can)
            gk_die_status(63, "This image format does not support checks");
    }
    gk_open_opts oo = {.format = a->fmt, .readwrite = fix != 0, .flags = fix ? GK_OPEN_REPAIR : GK_OPEN_CHECK};
    gk_dev *d = gimg_open_opts(a, path, &oo, 1);
    gimg_sandbox(a, 1, fix ? GK_SB_IMGWRITE : 0, 0);
    gk_check_result r;
    uint64_t leaks_fixed = 0, corruptions_fixed = 0;
    if (fix) {
        /* qemu-img check -r: repair, say what was repaired, check again */
        if (gk_image_repair(d, fix, &r) < 0)
            check_failed(d, &r, 0);
        leaks_fixed = r.leaks_fixed;
        corruptions_fixed = r.corruptions_fixed;
    }
    if (fix && (leaks_fixed || corruptions_fixed)) {
        print_messages(&r);
        gk_check_result_free(&r);
        if (a->output == OUT_HUMAN && !a->quiet)
            printf("The following inconsistencies were found and repaired:\n\n"
                   "    %" PRIu64 " leaked clusters\n"
                   "    %" PRIu64 " corruptions\n\n"
                   "Double checking the fixed image now...\n",
                   leaks_fixed, corruptions_fixed);
    }
    if ((!fix || leaks_fixed || corruptions_fixed) && gk_image_check(d, &r) < 0)
        check_failed(d, &r, 1);
    print_messages(&r);

    if (a->output == OUT_JSON) {
        /* ImageCheck: optional members only when non-zero, as qemu-img */
        jv *o = jv_new(J_OBJ);
        jv_str(o, "filename", path);
        jv_str(o, "format", gk_dev_format(d));
        jv_int(o, "check-errors", (long long)r.check_errors);
        if (r.image_end_offset)
            jv_int(o, "image-end-offset", (long long)r.image_end_offset);
        if (r.corruptions)
            jv_int(o, "corruptions", (long long)r.corruptions);
        if (r.leaks)
            jv_int(o, "leaks", (long long)r.leaks);
        if (leaks_fixed)
            jv_int(o, "leaks-fixed", (long long)leaks_fixed);
        if (corruptions_fixed)
            jv_int(o, "corruptions-fixed", (long long)corruptions_fixed);
        if (r.total_clusters)
            jv_int(o, "total-clusters", (long long)r.total_clusters);
        if (r.allocated_clusters)
            jv_int(o, "allocated-clusters", (long long)r.allocated_clusters);
        if (r.fragmented_clusters)
            jv_int(o, "fragmented-clusters", (long long)r.fragmented_clusters);
        if (r.compressed_clusters)
            jv_int(o, "compressed-clusters", (long long)r.compressed_clusters);
        if (!a->quiet) {
            json_print(stdout, o, 0);
            printf("\n");
        }
        jv_free(o);
    } else if (!a->quiet) {
        if (!(r.corruptions || r.leaks || r.check_errors)) {
            printf("No errors were found on the image.\n");
        } else {
            if (r.corruptions)
                printf("\n%" PRIu64 " errors were found on the image.\n"
                       "Data may be corrupted, or further writes to the image may corrupt it.\n",
                       r.corruptions);
            if (r.leaks)
                printf("\n%" PRIu64 " leaked clusters were found on the image.\n"
                       "This means waste of disk space, but no harm to data.\n",
                       r.leaks);
            if (r.check_errors)
                printf("\n%" PRIu64 " internal errors have occurred during the check.\n", r.check_errors);
        }
        if (r.total_clusters && r.allocated_clusters)
            printf("%" PRIu64 "/%" PRIu64 " = %0.2f%% allocated, %0.2f%% fragmented, %0.2f%% compressed clusters\n",
                   r.allocated_clusters, r.total_clusters, r.allocated_clusters * 100.0 / r.total_clusters,
                   r.fragmented_clusters * 100.0 / r.allocated_clusters,
                   r.compressed_clusters * 100.0 / r.allocated_clusters);
        if (r.image_end_offset)
            printf("Image end offset: %" PRIu64 "\n", r.image_end_offset);
    }
    int rc = r.corruptions ? 2 : r.leaks ? 3 : 0;
    int errs = r.check_errors != 0;
    gk_check_result_free(&r);
    gk_dev_unref(d);
    if (errs)
        gk_die_status(1, "Check failed");
    return rc;
}
