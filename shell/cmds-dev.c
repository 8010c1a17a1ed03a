/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Device, partition, LVM and mount commands, printed the way guestfish
 * prints the matching API results (string lists one per line, hashes as
 * "key: value", structs as "[N] = {" blocks). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmds-int.h"

static gk_devent *find_dev(gfsh *sh, const gfsh_cmd *cmd, const char *name)
{
    gk_devent *e = gk_devset_find(sh->g->devs, name);
    if (!e)
        gfsh_err_gk(cmd);
    return e;
}

static void list_kind(gfsh *sh, enum gk_devkind kind)
{
    gk_devset *s = sh->g->devs;
    for (int i = 0; i < s->nents; i++)
        if (s->ents[i].kind == kind)
            printf("%s\n", s->ents[i].name);
}

int run_list_devices(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)cmd; (void)a;
    list_kind(sh, GK_DISK);
    return 0;
}

int run_list_partitions(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)cmd; (void)a;
    list_kind(sh, GK_PART);
    return 0;
}

static int disk_has_parts(gk_devset *s, const gk_devent *disk)
{
    for (int i = 0; i < s->nents; i++)
        if (s->ents[i].kind == GK_PART && s->ents[i].disk_index == disk->disk_index)
            return 1;
    return 0;
}

/* MBR extended partition containers hold no filesystem. */
static int is_extended(const gk_devent *e)
{
    return e->kind == GK_PART && (e->mbr_type == 0x05 || e->mbr_type == 0x0f || e->mbr_type == 0x85);
}

int run_list_filesystems(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)cmd; (void)a;
    gk_devset *s = sh->g->devs;
    for (int i = 0; i < s->nents; i++) {
        gk_devent *e = &s->ents[i];
        if (e->kind == GK_DISK && disk_has_parts(s, e))
            continue;
        if (is_extended(e))
            continue;
        const char *t = gk_devent_probe(e)->type;
        if (t && (strcmp(t, "LVM2_member") == 0 || strcmp(t, "linux_raid_member") == 0))
            continue;
        printf("%s: %s\n", e->name, t && *t ? t : "unknown");
        int nsub;
        char **sub = gk_devset_subvolumes(s, e, &nsub);
        for (int k = 0; k < nsub; k++)
            printf("%s: btrfs\n", sub[k]);
        gk_names_free(sub, nsub);
    }
    return 0;
}

int run_lvs(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)cmd; (void)a;
    gk_devset *s = sh->g->devs;
    for (int i = 0; i < s->nlvs; i++)
        printf("/dev/%s/%s\n", s->lvs[i].vg, s->lvs[i].name);
    return 0;
}

int run_vgs(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)cmd; (void)a;
    gk_devset *s = sh->g->devs;
    for (int i = 0; i < s->nvgs; i++)
        printf("%s\n", s->vgs[i].name);
    return 0;
}

int run_pvs(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)cmd; (void)a;
    gk_devset *s = sh->g->devs;
    for (int i = 0; i < s->npvs; i++)
        printf("%s\n", s->pvs[i].name);
    return 0;
}

static int print_probe(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a, int field)
{
    char *subvol;
    gk_devent *e = gk_devset_find_mountable(sh->g->devs, a->argv[0], &subvol);
    free(subvol);
    if (!e) {
        gfsh_err_gk(cmd);
        return -1;
    }
    const gk_probe *p = gk_devent_probe(e);
    const char *v = field == 0 ? p->type : field == 1 ? p->uuid : p->label;
    printf("%s\n", v ? v : "");
    return 0;
}

int run_vfs_type(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a) { return print_probe(sh, cmd, a, 0); }
int run_vfs_uuid(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a) { return print_probe(sh, cmd, a, 1); }
int run_vfs_label(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a) { return print_probe(sh, cmd, a, 2); }

int run_blockdev_getsize64(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_devent *e = find_dev(sh, cmd, a->argv[0]);
    if (!e)
        return -1;
    uint64_t size = e->dev ? e->dev->size : e->kind == GK_PART ? e->part_size : 0;
    if (!e->dev && e->kind != GK_PART) {
        gfsh_err(cmd, "%s: %s", e->name, e->open_error ? e->open_error : "cannot be opened");
        return -1;
    }
    printf("%" PRIu64 "\n", size);
    return 0;
}

/* The device called name, if it is of the kind a command needs. */
static gk_devent *find_kind(gfsh *sh, const gfsh_cmd *cmd, const char *name,
                            enum gk_devkind kind, const char *what)
{
    gk_devent *e = find_dev(sh, cmd, name);
    if (e && e->kind != kind) {
        gfsh_err(cmd, "%s: %s", e->name, what);
        return NULL;
    }
    return e;
}

static gk_devent *find_disk(gfsh *sh, const gfsh_cmd *cmd, const char *name)
{
    return find_kind(sh, cmd, name, GK_DISK, "not a whole disk (use the disk, e.g. /dev/sda)");
}

static gk_devent *find_part(gfsh *sh, const gfsh_cmd *cmd, const char *name)
{
    return find_kind(sh, cmd, name, GK_PART, "not a partition");
}

static int cmp_partnum(const void *a, const void *b)
{
    const gk_devent *x = *(const gk_devent *const *)a, *y = *(const gk_devent *const *)b;
    return (x->partnum > y->partnum) - (x->partnum < y->partnum);
}

int run_part_list(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_devent *d = find_disk(sh, cmd, a->argv[0]);
    if (!d)
        return -1;
    gk_devset *s = sh->g->devs;
    if (d->disk_index < 0 || d->disk_index >= s->ndisks || !s->disk_parttype ||
        !s->disk_parttype[d->disk_index]) {
        gfsh_err(cmd, "%s: unrecognised disk label", d->name);
        return -1;
    }
    gk_devent **v = gk_malloc((size_t)(s->nents + 1) * sizeof *v);
    int n = 0;
    for (int i = 0; i < s->nents; i++)
        if (s->ents[i].kind == GK_PART && s->ents[i].disk_index == d->disk_index)
            v[n++] = &s->ents[i];
    qsort(v, (size_t)n, sizeof *v, cmp_partnum);
    for (int i = 0; i < n; i++) {
        printf("[%d] = {\n", i);
        printf("  part_num: %d\n", v[i]->partnum);
        printf("  part_start: %" PRIu64 "\n", v[i]->part_start);
        printf("  part_end: %" PRIu64 "\n", v[i]->part_start + v[i]->part_size - (v[i]->part_size > 0));
        printf("  part_size: %" PRIu64 "\n", v[i]->part_size);
        printf("}\n");
    }
    free(v);
    return 0;
}

int run_part_get_parttype(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_devent *d = find_disk(sh, cmd, a->argv[0]);
    if (!d)
        return -1;
    gk_devset *s = sh->g->devs;
    if (d->disk_index < 0 || d->disk_index >= s->ndisks || !s->disk_parttype ||
        !s->disk_parttype[d->disk_index]) {
        gfsh_err(cmd, "%s: unrecognised disk label", d->name);
        return -1;
    }
    printf("%s\n", s->disk_parttype[d->disk_index]);
    return 0;
}

static int do_mount(gfsh *sh, const gfsh_cmd *cmd, const char *device, const char *mp, int rw)
{
    /* a btrfs subvolume (btrfsvol:/dev/sda2/home) is checked when opened */
    if (strncmp(device, "btrfsvol:", 9) != 0) {
        gk_devent *e = find_dev(sh, cmd, device);
        if (!e)
            return -1;
        if (!e->dev) {
            gfsh_err(cmd, "%s: %s", e->name, e->open_error ? e->open_error : "cannot be opened");
            return -1;
        }
    }
    for (int i = 0; i < gk_vfs_nmounts(sh->g->vfs); i++) {
        gk_mount *m = gk_vfs_mount_at(sh->g->vfs, i);
        if (strcmp(m->mountpoint, mp) == 0) {
            gfsh_err(cmd, "%s: a filesystem is already mounted there (%s)", mp, m->device);
            return -1;
        }
    }
    const char *name = NULL;
    gk_fs *fs = gk_guest_fs_open(sh->g, device, NULL, NULL, rw, &name);
    if (!fs) {
        gfsh_err_about(cmd, name && strncmp(device, "btrfsvol:", 9) ? name : device);
        return -1;
    }
    if (gk_vfs_mount(sh->g->vfs, fs, mp, strncmp(device, "btrfsvol:", 9) ? name : device) < 0) {
        gk_fs_close(fs);
        gfsh_err_about(cmd, mp);
        return -1;
    }
    return 0;
}

int run_mount(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    return do_mount(sh, cmd, a->argv[0], a->argv[1], sh->cli.rw);
}

int run_mount_ro(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    return do_mount(sh, cmd, a->argv[0], a->argv[1], 0);
}

int run_umount(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    const char *what = a->argv[0];
    gk_vfs *v = sh->g->vfs;
    const char *mp = NULL;
    /* a device: find where it is mounted (by any of its names) */
    if (strncmp(what, "/dev/", 5) == 0) {
        gk_devent *e = gk_devset_find(sh->g->devs, what);
        for (int i = 0; e && i < gk_vfs_nmounts(v); i++) {
            gk_mount *m = gk_vfs_mount_at(v, i);
            if (strcmp(m->device, e->name) == 0)
                mp = m->mountpoint;
        }
    }
    if (!mp) {
        for (int i = 0; i < gk_vfs_nmounts(v); i++) {
            gk_mount *m = gk_vfs_mount_at(v, i);
            if (strcmp(m->mountpoint, what) == 0)
                mp = m->mountpoint;
        }
    }
    if (!mp) {
        gfsh_err(cmd, "%s: not mounted", what);
        return -1;
    }
    char *copy = gk_strdup(mp); /* the mount record goes away */
    int r = gk_vfs_umount(v, copy);
    if (r < 0)
        gfsh_err_about(cmd, copy);
    free(copy);
    return r;
}

int run_umount_all(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)cmd; (void)a;
    gk_vfs_umount_all(sh->g->vfs);
    return 0;
}

int run_mounts(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)cmd; (void)a;
    for (int i = 0; i < gk_vfs_nmounts(sh->g->vfs); i++)
        printf("%s\n", gk_vfs_mount_at(sh->g->vfs, i)->device);
    return 0;
}

int run_mountpoints(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)cmd; (void)a;
    for (int i = 0; i < gk_vfs_nmounts(sh->g->vfs); i++) {
        gk_mount *m = gk_vfs_mount_at(sh->g->vfs, i);
        printf("%s: %s\n", m->device, m->mountpoint);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* device names and partition details                                  */

int run_canonical_device_name(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_devent *e = find_dev(sh, cmd, a->argv[0]);
    if (!e)
        return -1;
    printf("%s\n", e->name);
    return 0;
}

int run_part_to_dev(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_devent *e = find_part(sh, cmd, a->argv[0]);
    if (!e)
        return -1;
    gk_devent *disk = gk_devset_disk(sh->g->devs, e->disk_index);
    if (!disk) {
        gfsh_err(cmd, "%s: its disk is not known", e->name);
        return -1;
    }
    printf("%s\n", disk->name);
    return 0;
}

int run_part_to_partnum(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_devent *e = find_part(sh, cmd, a->argv[0]);
    if (!e)
        return -1;
    printf("%d\n", e->partnum);
    return 0;
}

int run_is_kind(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_devent *e = find_dev(sh, cmd, a->argv[0]);
    if (!e)
        return -1;
    int t = strcmp(cmd->name, "is-lv") == 0 ? e->kind == GK_LV : e->kind == GK_DISK;
    printf("%s\n", t ? "true" : "false");
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int run_list_md_devices(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)cmd; (void)a;
    gk_devset *s = sh->g->devs;
    char **v = gk_calloc((size_t)s->nents + 1, sizeof *v);
    size_t n = 0;
    for (int i = 0; i < s->nents; i++)
        if (s->ents[i].kind == GK_MD)
            v[n++] = s->ents[i].name;
    qsort(v, n, sizeof *v, cmp_str);
    for (size_t i = 0; i < n; i++)
        printf("%s\n", v[i]);
    free(v);
    return 0;
}

static gk_devent *find_md(gfsh *sh, const gfsh_cmd *cmd, const char *name)
{
    return find_kind(sh, cmd, name, GK_MD, "not an md device");
}

/* md-detail: what mdadm --detail --export says, as guestfish prints it */
int run_md_detail(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_devent *e = find_md(sh, cmd, a->argv[0]);
    if (!e)
        return -1;
    if (e->md_level < 0)
        printf("level: linear\n");
    else
        printf("level: raid%d\n", e->md_level);
    printf("devices: %d\n", e->nmd_members);
    if (e->md_name)
        printf("name: %s\n", e->md_name);
    printf("uuid: %s\n", e->md_uuid);
    return 0;
}

/* md-stat: the members present, as guestfish prints them */
int run_md_stat(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_devent *e = find_md(sh, cmd, a->argv[0]);
    if (!e)
        return -1;
    int k = 0;
    for (int r = e->nmd_members - 1; r >= 0; r--) {
        if (!*e->md_members[r])
            continue;
        printf("[%d] = {\n  mdstat_device: %s\n  mdstat_index: %d\n  mdstat_flags: \n}\n", k++,
               e->md_members[r], r);
    }
    return 0;
}

/* part-get-*: DEVICE PARTNUM */
int run_part_get(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_devent *d = find_disk(sh, cmd, a->argv[0]);
    if (!d)
        return -1;
    gk_devset *s = sh->g->devs;
    gk_devent *p = NULL;
    for (int i = 0; i < s->nents && !p; i++)
        if (s->ents[i].kind == GK_PART && s->ents[i].disk_index == d->disk_index &&
            s->ents[i].partnum == a->num[1])
            p = &s->ents[i];
    if (!p) {
        gfsh_err(cmd, "%s: no partition number %" PRId64, d->name, a->num[1]);
        return -1;
    }
    const char *pt = d->disk_index >= 0 && d->disk_index < s->ndisks && s->disk_parttype
                     ? s->disk_parttype[d->disk_index] : NULL;
    const char *what = cmd->name + strlen("part-get-");
    int gpt = pt && strcmp(pt, "gpt") == 0;
    if (strcmp(what, "bootable") == 0 || strcmp(what, "mbr-part-type") == 0)
        return gfsh_part_get_more(sh, cmd, p);
    if (strcmp(what, "mbr-id") == 0) {
        if (gpt || p->mbr_type < 0) {
            gfsh_err(cmd, "%s: not an MBR (msdos) partition", p->name);
            return -1;
        }
        printf("%s%x\n", p->mbr_type ? "0x" : "", (unsigned)p->mbr_type);
        return 0;
    }
    if (!gpt) {
        gfsh_err(cmd, "%s: not a GPT partition", p->name);
        return -1;
    }
    if (strcmp(what, "name") == 0)
        printf("%s\n", p->partlabel ? p->partlabel : "");
    else if (strcmp(what, "gpt-type") == 0)
        printf("%s\n", p->part_type_guid ? p->part_type_guid : "");
    else if (strcmp(what, "gpt-guid") == 0) {
        /* upper case, as sgdisk (and so guestfish) prints it */
        for (const char *c = p->partuuid ? p->partuuid : ""; *c; c++)
            putchar(*c >= 'a' && *c <= 'f' ? *c - 32 : *c);
        putchar('\n');
    }
    else if (strcmp(what, "gpt-attributes") == 0)
        printf("%" PRIu64 "\n", p->gpt_attrs);
    return 0;
}
