/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gimg snapshot -l: the internal snapshot table (qemu-img snapshot -l), and
 * the table's lines and JSON that info shares. */
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

int cmd_snapshot(gimg_args *a)
{
    int list = 0;
    for (int i = 0; i < a->nopts; i++) {
        int c = a->opts[i].opt;
        if (c == 'l')
            list = 1;
        else
            gk_die_status(1, "snapshot -%c: gimg is read-only; only -l (list) is supported", c);
    }
    if (!list)
        gk_die_status(1, "snapshot: -l is required (gimg only lists snapshots)");
    if (a->nargs != 1)
        gimg_usage_error(a, "Expecting one image file name");
    /* qemu-img opens the whole image, backing chain included */
    gk_dev *d = gimg_open(a, a->args[0], a->fmt, 0, 1);
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
