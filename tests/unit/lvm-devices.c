/* SPDX-License-Identifier: GPL-2.0-or-later */
/* LVM logical volumes as devices, end to end through gk_devset_scan.
 *
 * Run without arguments (as the unit tests are) it has nothing to read and
 * skips: the LVM fixtures are made by lvm2 over loop devices, which
 * tests/22-lvm.t and tests/bad-lvm.t do, and they run this program as
 *   unit-lvm-devices list IMAGE...        PVs, VGs, LVs and LV devices
 *   unit-lvm-devices cat DEVICE IMAGE...  the bytes of one device
 * and compare with what pvs/vgs/lvs and dd say. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk-int.h"

static gk_devset *open_set(char **images, int n)
{
    gk_devset *s = gk_devset_new();
    for (int i = 0; i < n; i++) {
        gk_dev *d = gk_open_image(images[i], NULL);
        if (!d) {
            fprintf(stderr, "%s: %s\n", gk_progname, gk_errmsg());
            exit(1);
        }
        gk_devset_add_disk(s, d);
    }
    if (gk_devset_scan(s) < 0) {
        fprintf(stderr, "%s: %s\n", gk_progname, gk_errmsg());
        exit(1);
    }
    return s;
}

static const char *str(const char *s)
{
    return s && *s ? s : "-";
}

static int list(gk_devset *s)
{
    for (int i = 0; i < s->npvs; i++)
        printf("pv %s %s %s %llu %llu\n", s->pvs[i].name, s->pvs[i].uuid, str(s->pvs[i].vg),
               (unsigned long long)s->pvs[i].size, (unsigned long long)s->pvs[i].pe_start);
    for (int i = 0; i < s->nvgs; i++) {
        gk_vg *v = &s->vgs[i];
        printf("vg %s %s %llu %llu %d %d", v->name, v->uuid, (unsigned long long)v->extent_size,
               (unsigned long long)v->size, v->nr_pvs, v->nr_missing);
        for (int j = 0; j < v->nr_missing; j++)
            printf(" %s", v->missing_pvs[j]);
        printf("\n");
    }
    for (int i = 0; i < s->nlvs; i++)
        printf("lv %s %s %s %s %llu\n", s->lvs[i].vg, s->lvs[i].name, s->lvs[i].uuid,
               s->lvs[i].segtype, (unsigned long long)s->lvs[i].size);
    for (int i = 0; i < s->nents; i++) {
        gk_devent *e = &s->ents[i];
        if (e->kind != GK_LV)
            continue;
        if (e->dev)
            printf("dev %s %s %s %llu %s\n", e->name, str(e->parent), str(e->lv_uuid),
                   (unsigned long long)e->dev->size, str(gk_devent_probe(e)->type));
        else
            printf("dev %s %s %s error: %s\n", e->name, str(e->parent), str(e->lv_uuid),
                   str(e->open_error));
    }
    return 0;
}

static int cat(gk_devset *s, const char *name)
{
    gk_devent *e = gk_devset_find(s, name);
    if (!e || !e->dev) {
        fprintf(stderr, "%s: %s: %s\n", gk_progname, name, e ? str(e->open_error) : gk_errmsg());
        return 1;
    }
    /* An odd read size, so that reads straddle stripe and segment ends. */
    static char buf[49999];
    for (uint64_t off = 0; off < e->dev->size;) {
        size_t n = e->dev->size - off < sizeof buf ? (size_t)(e->dev->size - off) : sizeof buf;
        if (gk_pread(e->dev, buf, n, off) < 0) {
            fprintf(stderr, "%s: %s\n", gk_progname, gk_errmsg());
            return 1;
        }
        if (fwrite(buf, 1, n, stdout) != n)
            return 1;
        off += n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    gk_progname = "unit-lvm-devices";
    if (argc < 2) {
        printf("1..0 # SKIP run by tests/22-lvm.t and tests/bad-lvm.t on lvm2-made images\n");
        return 0;
    }
    int rc;
    if (strcmp(argv[1], "list") == 0 && argc >= 3) {
        gk_devset *s = open_set(argv + 2, argc - 2);
        rc = list(s);
        gk_devset_free(s);
    } else if (strcmp(argv[1], "cat") == 0 && argc >= 4) {
        gk_devset *s = open_set(argv + 3, argc - 3);
        rc = cat(s, argv[2]);
        gk_devset_free(s);
    } else {
        fprintf(stderr, "usage: %s list IMAGE... | cat DEVICE IMAGE...\n", argv[0]);
        rc = 1;
    }
    return rc;
}
