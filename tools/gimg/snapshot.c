/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gimg snapshot: list, create, apply and delete internal snapshots (qemu-img
 * snapshot -l/-c/-a/-d, with its messages), and the table's lines and JSON
 * that info shares. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gimg.h"

jv *snapshot_json(const gk_snapshot_info *s)
{
    /* SnapshotInfo's member order (matters only within a hash bucket) */
    jv *o = jv_new(J_OBJ);
    jv_str(o, "id", s->id ? s->id : "");
    jv_str(o, "name", s->name ? s->name : "");
    jv_int(o, "vm-state-size", (long long)s->vm_state_size);
    jv_int(o, "date-sec", s->date_sec);
    jv_int(o, "date-nsec", s->date_nsec);
    jv_int(o, "vm-clock-sec", (long long)(s->vm_clock_nsec / 1000000000ULL));
    jv_int(o, "vm-clock-nsec", (long long)(s->vm_clock_nsec % 1000000000ULL));
    if (s->icount != -1)
        jv_int(o, "icount", s->icount);
    return o;
}

void snapshot_header(void)
{
    printf("%-10s%-17s%8s%20s%13s%11s", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK", "ICOUNT");
}

void snapshot_line(const gk_snapshot_info *s)
{
    char date[128] = "", clk[128], icount[64] = "", size[64];
    time_t t = (time_t)s->date_sec;
    struct tm tm;
    if (localtime_r(&t, &tm))
        strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
    uint64_t secs = s->vm_clock_nsec / 1000000000ULL;
    snprintf(clk, sizeof clk, "%02d:%02d:%02d.%03d", (int)(secs / 3600), (int)((secs / 60) % 60),
             (int)(secs % 60), (int)((s->vm_clock_nsec / 1000000) % 1000));
    gk_human_size_qemu(s->vm_state_size, size, sizeof size);
    if (s->icount != -1)
        snprintf(icount, sizeof icount, "%" PRId64, s->icount);
    printf("%-9s %-16s %8s%20s%13s%11s", s->id ? s->id : "", s->name ? s->name : "", size, date, clk,
           icount);
}

static int list(gimg_args *a)
{
    /* qemu-img opens the whole image, backing chain included */
    gk_dev *d = gimg_open(a, a->args[0], a->fmt, 0, 1);
    gimg_sandbox(a, 1, 0, 0);
    gk_image_info in;
    if (gk_image_info_get(d, &in) < 0)
        gk_die_status(1, "%s", gk_errmsg());
    if (in.nb_snapshots > 0) {
        printf("Snapshot list:\n");
        snapshot_header();
        printf("\n");
        for (int i = 0; i < in.nb_snapshots; i++) {
            snapshot_line(&in.snapshots[i]);
            printf("\n");
        }
    }
    gk_image_info_free(&in);
    gk_dev_unref(d);
    return 0;
}

int cmd_snapshot(gimg_args *a)
{
    int action = 0;
    const char *name = NULL;
    for (int i = 0; i < a->nopts; i++) {
        int c = a->opts[i].opt;
        if (c != 'l' && c != 'c' && c != 'a' && c != 'd')
            continue;
        if (action)
            gimg_usage_error(a, "Cannot mix '-l', '-a', '-c', '-d'");
        action = c;
        name = a->opts[i].arg;
    }
    if (a->nargs != 1)
        gimg_usage_error(a, "Expecting one image file name");
    if (action == 'l')
        return list(a);
    if (a->share)
        gk_die_status(1, "Could not open '%s': force-share=on can only be used with read-only images", a->args[0]);
    gk_open_opts o = {.format = a->fmt, .readwrite = 1};
    gk_dev *d = gimg_open_opts(a, a->args[0], &o, 1);
    gimg_sandbox(a, 1, GK_SB_IMGWRITE, 0);
    int rc = 0;
    if (!action) {
        /* qemu-img 7.2 opens the image for writing and does nothing */
    } else if (action == 'c') {
        /* qemu-img keeps at most 255 bytes of the name */
        char tag[256];
        snprintf(tag, sizeof tag, "%s", name);
        if (gk_snapshot_create(d, tag) < 0) {
            int e = errno;
            gk_debug("%s", gk_errmsg());
            fprintf(stderr, "%s: Could not create snapshot '%s': %d (%s)\n", gk_progname, name, -e, strerror(e));
            rc = 1;
        }
    } else if (action == 'a') {
        if (gk_snapshot_goto(d, name) < 0) {
            const char *why = errno == ENOENT || errno == ENOTSUP ? strerror(errno) : gk_errmsg();
            fprintf(stderr, "%s: Could not apply snapshot '%s': Failed to load snapshot: %s\n", gk_progname, name,
                    why);
            rc = 1;
        }
    } else {
        /* qemu-img looks the snapshot up by name only (bdrv_snapshot_find),
         * then deletes the one with that ID and name */
        gk_image_info in;
        char *id = NULL;
        if (gk_image_info_get(d, &in) == 0) {
            for (int i = 0; i < in.nb_snapshots && !id; i++)
                if (in.snapshots[i].name && strcmp(in.snapshots[i].name, name) == 0)
                    id = gk_strdup(in.snapshots[i].id);
            gk_image_info_free(&in);
        }
        if (!id) {
            fprintf(stderr, "%s: Could not delete snapshot '%s': snapshot not found\n", gk_progname, name);
            rc = 1;
        } else if (gk_snapshot_delete(d, id, name) < 0) {
            fprintf(stderr, "%s: Could not delete snapshot '%s': %s\n", gk_progname, name, gk_errmsg());
            rc = 1;
        }
        free(id);
    }
    gk_dev_unref(d);
    return rc;
}
