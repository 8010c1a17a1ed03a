/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest's device set: disks named /dev/sda, /dev/sdb, ... in the order
 * they were added, their partitions, LVM logical volumes, and what libblkid
 * says each of them holds.  Names follow libguestfs, so a tool prints the
 * same /dev/sda2 that virt-filesystems would. */
#include <ctype.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blk-int.h"

gk_devset *gk_devset_new(void)
{
    return gk_calloc(1, sizeof(gk_devset));
}

static void devent_clear(gk_devent *e)
{
    free(e->name);
    if (e->dev)
        gk_dev_unref(e->dev);
    free(e->open_error);
    free(e->parent);
    free(e->part_type_guid);
    free(e->partuuid);
    free(e->partlabel);
    free(e->lv_uuid);
    for (int i = 0; i < e->nmd_members; i++)
        free(e->md_members[i]);
    free(e->md_members);
    free(e->md_uuid);
    free(e->md_name);
    gk_probe_free(&e->blkid);
    free(e->ptable);
}

/* What the LVM scan found: PVs, VGs, LVs (not the LV entries). */
static void lvm_clear(gk_devset *s)
{
    for (int i = 0; i < s->npvs; i++) {
        free(s->pvs[i].name);
        free(s->pvs[i].uuid);
        free(s->pvs[i].vg);
    }
    free(s->pvs);
    for (int i = 0; i < s->nvgs; i++) {
        free(s->vgs[i].name);
        free(s->vgs[i].uuid);
        for (int j = 0; j < s->vgs[i].nr_missing; j++)
            free(s->vgs[i].missing_pvs[j]);
        free(s->vgs[i].missing_pvs);
    }
    free(s->vgs);
    for (int i = 0; i < s->nlvs; i++) {
        free(s->lvs[i].vg);
        free(s->lvs[i].name);
        free(s->lvs[i].uuid);
        free(s->lvs[i].segtype);
    }
    free(s->lvs);
    s->pvs = NULL, s->vgs = NULL, s->lvs = NULL;
    s->npvs = s->nvgs = s->nlvs = 0;
}

void gk_devset_free(gk_devset *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->nents; i++)
        devent_clear(&s->ents[i]);
    free(s->ents);
    for (int i = 0; i < s->ndisks; i++)
        free(s->disk_parttype[i]);
    free(s->disk_parttype);
    lvm_clear(s);
    free(s);
}

gk_devent *gk_devset_append(gk_devset *s, const char *name, enum gk_devkind kind)
{
    s->ents = gk_realloc(s->ents, (size_t)(s->nents + 1) * sizeof *s->ents);
    gk_devent *e = &s->ents[s->nents++];
    memset(e, 0, sizeof *e);
    e->name = gk_strdup(name);
    e->kind = kind;
    e->disk_index = -1;
    e->mbr_type = -1;
    return e;
}

/* The kernel's sd naming: a..z, then aa..zz, then aaa...  (bijective
 * base 26), so disk 26 is /dev/sdaa. */
static void disk_letters(int index, char *buf, size_t bufsz)
{
    char tmp[16];
    int n = 0;
    unsigned v = (unsigned)index + 1;
    while (v > 0 && n < (int)sizeof tmp) {
        v--;
        tmp[n++] = (char)('a' + v % 26);
        v /= 26;
    }
    size_t k = 0;
    while (n > 0 && k + 1 < bufsz)
        buf[k++] = tmp[--n];
    buf[k] = 0;
}

/* Inverse of disk_letters: the index, or -1. */
static int letters_index(const char *p, size_t n)
{
    if (n == 0 || n > 4)
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 'a' || p[i] > 'z')
            return -1;
        v = v * 26 + (p[i] - 'a' + 1);
    }
    return (int)(v - 1);
}

int gk_devset_add_disk(gk_devset *s, gk_dev *disk)
{
    char letters[16], name[32];
    disk_letters(s->ndisks, letters, sizeof letters);
    snprintf(name, sizeof name, "/dev/sd%s", letters);
    gk_devent *e = gk_devset_append(s, name, GK_DISK);
    e->dev = disk;
    e->disk_index = s->ndisks;
    s->disk_parttype = gk_realloc(s->disk_parttype, (size_t)(s->ndisks + 1) * sizeof *s->disk_parttype);
    s->disk_parttype[s->ndisks] = NULL;
    s->ndisks++;
    return 0;
}

gk_devent *gk_devset_disk(gk_devset *s, int disk_index)
{
    for (int i = 0; i < s->nents; i++)
        if (s->ents[i].kind == GK_DISK && s->ents[i].disk_index == disk_index)
            return &s->ents[i];
    return NULL;
}

gk_devent *gk_part_add(gk_devset *s, int disk_index, int partnum,
                       uint64_t start, uint64_t size, uint64_t devsize)
{
    gk_devent *disk = gk_devset_disk(s, disk_index);
    char *name = gk_asprintf("%s%d", disk->name, partnum);
    gk_dev *dev = gk_dev_slice(disk->dev, start, devsize, name);
    char *parent = gk_strdup(disk->name);
    gk_devent *e = gk_devset_append(s, name, GK_PART); /* disk is stale now */
    free(name);
    e->dev = dev;
    if (!dev)
        e->open_error = gk_strdup(gk_errmsg());
    e->disk_index = disk_index;
    e->parent = parent;
    e->partnum = partnum;
    e->part_start = start;
    e->part_size = size;
    return e;
}

static int is_mbr_extended(int t)
{
    return t == 0x05 || t == 0x0f || t == 0x85;
}

/* Overlapping partitions are legal for the kernel (it exposes both) but
 * almost always a damaged or hostile table: say so. */
static void warn_overlaps(gk_devset *s, int first)
{
    int n = 0; /* a hostile table could make this quadratic in lines */
    for (int i = first; i < s->nents && n <= 10; i++) {
        gk_devent *a = &s->ents[i];
        if (is_mbr_extended(a->mbr_type))
            continue;
        for (int j = i + 1; j < s->nents; j++) {
            gk_devent *b = &s->ents[j];
            if (is_mbr_extended(b->mbr_type))
                continue;
            if (a->part_start < b->part_start + b->part_size &&
                b->part_start < a->part_start + a->part_size) {
                if (++n > 10) {
                    gk_warn("%s: more overlapping partitions", s->ents[first].parent);
                    break;
                }
                gk_warn("%s and %s overlap", a->name, b->name);
            }
        }
    }
}

int gk_part_scan_disk(gk_devset *s, int disk_index)
{
    gk_devent *disk = gk_devset_disk(s, disk_index);
    if (!disk || !disk->dev) {
        gk_error("disk %d: no such disk", disk_index);
        return -1;
    }
    uint8_t sec0[512];
    if (disk->dev->size < sizeof sec0)
        return 0; /* too small for any table */
    if (gk_pread(disk->dev, sec0, sizeof sec0, 0) < 0)
        return -1;
    if (sec0[510] != 0x55 || sec0[511] != 0xaa)
        return 0; /* no partition table: the disk itself may hold a filesystem */
    int first = s->nents, r;
    int gpt = 0;
    for (int i = 0; i < 4; i++)
        if (sec0[446 + 16 * i + 4] == 0xee)
            gpt = 1;
    const char *kind = gpt ? "gpt" : "msdos";
    r = gpt ? gk_gpt_scan(s, disk_index) : gk_mbr_scan(s, disk_index, sec0);
    if (r < 0)
        return -1;
    if (r == 1)
        return 0; /* the 0x55AA sector was not a partition table after all */
    free(s->disk_parttype[disk_index]);
    s->disk_parttype[disk_index] = gk_strdup(kind);
    disk = gk_devset_disk(s, disk_index);
    free(disk->ptable);
    disk->ptable = gk_strdup(kind);
    disk->partitioned = s->nents > first; /* the table scan appends only its partitions */
    warn_overlaps(s, first);
    return 0;
}

/* Probe e once; pt: its partition table type for the debug line, or NULL. */
static void probe_one(gk_devent *e, const char *pt)
{
    if (e->blkid_done)
        return;
    e->blkid_done = 1;
    if (!e->dev)
        return;
    gk_probe *p = &e->blkid;
    if (gk_probe_dev(e->dev, p) < 0) {
        gk_warn("%s: cannot probe contents: %s", e->name, gk_errmsg());
        gk_probe_free(p);
        return;
    }
    gk_debug("probe: %s: %s%s%s%s", e->name, p->type ? p->type : pt ? pt : "nothing recognised",
             !p->type && pt ? " partition table" : "", p->uuid ? " UUID=" : "", p->uuid ? p->uuid : "");
}

const gk_probe *gk_devent_probe(const gk_devent *e)
{
    /* the probe is a cache of the device's contents: filling it on the
     * first read does not change what the entry describes */
    probe_one((gk_devent *)e, e->kind == GK_DISK ? e->ptable : NULL);
    return &e->blkid;
}

int gk_devent_partitioned(const gk_devent *e)
{
    return e->kind == GK_DISK && e->partitioned;
}

int gk_devent_holds_no_fs(const gk_devent *e)
{
    return gk_devent_partitioned(e) || e->pv;
}

int gk_devent_md_member(const gk_devent *e)
{
    /* only libblkid's md prober says linux_raid_member, and it looks for
     * md's magic where gk_md_magic_present does: without the magic the
     * answer is known without the probe (which reads the device's ends
     * and many other places, and decompresses what they are in) */
    if (!e->dev || (!e->blkid_done && gk_md_magic_present(e->dev) == 0))
        return 0;
    const char *t = gk_devent_probe(e)->type;
    return t && strcmp(t, "linux_raid_member") == 0;
}

int gk_devset_scan(gk_devset *s)
{
    /* Disks are the first ndisks entries: partitions are appended behind. */
    int ndisks = s->ndisks;
    for (int i = 0; i < ndisks; i++)
        if (gk_part_scan_disk(s, i) < 0)
            gk_warn("%s", gk_errmsg());
    /* Nothing is probed here but what md and LVM assembly ask
     * (gk_devent_md_member); the rest when something asks. */
    if (gk_md_scan(s) < 0)
        gk_warn("md: %s", gk_errmsg());
    if (gk_lvm_scan(s) < 0)
        gk_warn("LVM: %s", gk_errmsg());
    return 0;
}

int gk_devset_rescan_lvm(gk_devset *s)
{
    int k = 0;
    for (int i = 0; i < s->nents; i++) {
        if (s->ents[i].kind == GK_LV) {
            devent_clear(&s->ents[i]);
        } else {
            s->ents[k] = s->ents[i];
            s->ents[k++].pv = 0; /* the scan below finds the PVs again */
        }
    }
    s->nents = k;
    lvm_clear(s);
    if (gk_lvm_scan(s) < 0)
        gk_warn("LVM: %s", gk_errmsg());
    return 0;
}

/* /dev/mapper/VG-LV: a single dash separates VG and LV, dashes inside the
 * names are doubled.  Returns "/dev/VG/LV" malloc'd, or NULL. */
static char *mapper_to_vglv(const char *m)
{
    size_t n = strlen(m);
    char *vg = gk_malloc(n + 1), *lv = gk_malloc(n + 1), *out = NULL;
    size_t nvg = 0, nlv = 0;
    const char *p = m;
    int split = 0;
    while (*p) {
        if (*p == '-') {
            if (p[1] == '-') {
                if (split) lv[nlv++] = '-'; else vg[nvg++] = '-';
                p += 2;
                continue;
            }
            if (split)
                goto out; /* a second single dash: not a VG-LV name */
            split = 1;
            p++;
            continue;
        }
        if (split) lv[nlv++] = *p; else vg[nvg++] = *p;
        p++;
    }
    vg[nvg] = lv[nlv] = 0;
    if (split && nvg > 0 && nlv > 0)
        out = gk_asprintf("/dev/%s/%s", vg, lv);
out:
    free(vg);
    free(lv);
    return out;
}

static gk_devent *find_exact(gk_devset *s, const char *name)
{
    for (int i = 0; i < s->nents; i++)
        if (strcmp(s->ents[i].name, name) == 0)
            return &s->ents[i];
    return NULL;
}

gk_devent *gk_devset_find(gk_devset *s, const char *name)
{
    gk_devent *e = find_exact(s, name);
    if (e)
        return e;

    /* The guest's own disk names: /dev/vda3, /dev/hdb, /dev/xvda1 map to
     * the disk with the same index letter. */
    static const char *prefixes[] = {"/dev/sd", "/dev/vd", "/dev/hd", "/dev/xvd"};
    for (size_t k = 0; k < sizeof prefixes / sizeof *prefixes; k++) {
        size_t pl = strlen(prefixes[k]);
        if (strncmp(name, prefixes[k], pl) != 0)
            continue;
        const char *p = name + pl, *q = p;
        while (*q >= 'a' && *q <= 'z')
            q++;
        int idx = letters_index(p, (size_t)(q - p));
        const char *num = q;
        while (isdigit((unsigned char)*q))
            q++;
        if (idx < 0 || *q || (*num == '0'))
            break;
        char letters[16];
        disk_letters(idx, letters, sizeof letters);
        char *canon = gk_asprintf("/dev/sd%s%s", letters, num);
        e = find_exact(s, canon);
        free(canon);
        if (e)
            return e;
        break;
    }

    /* /dev/md/NAME: the array whose superblock name is NAME or HOST:NAME */
    if (strncmp(name, "/dev/md/", 8) == 0)
        for (int i = 0; i < s->nents; i++) {
            const char *n = s->ents[i].md_name, *c = n ? strchr(n, ':') : NULL;
            if (s->ents[i].kind == GK_MD && n &&
                (strcmp(n, name + 8) == 0 || (c && strcmp(c + 1, name + 8) == 0)))
                return &s->ents[i];
        }

    if (strncmp(name, "/dev/mapper/", 12) == 0) {
        char *vglv = mapper_to_vglv(name + 12);
        if (vglv) {
            e = find_exact(s, vglv);
            free(vglv);
            if (e && e->kind == GK_LV)
                return e;
        }
    }
    gk_error("%s: no such device", name);
    errno = ENOENT;
    return NULL;
}
