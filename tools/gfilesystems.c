/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gfilesystems: list the filesystems, partitions, block devices and LVM
 * objects of a disk image, with the options and the output of
 * virt-filesystems(1): the same selection rules, column layout, CSV quoting
 * and ordering, so scripts written for one work with the other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

enum {
    OUT_FS = 1, OUT_FS_EXTRA = 2, OUT_PARTS = 4, OUT_BLKDEVS = 8,
    OUT_LVS = 16, OUT_VGS = 32, OUT_PVS = 64, OUT_ALL = 0x7fffffff,
};
enum {
    COL_NAME = 1, COL_TYPE = 2, COL_VFS = 4, COL_LABEL = 8, COL_MBR = 16,
    COL_SIZE = 32, COL_PARENT = 64, COL_UUID = 128, COL_FSVER = 256,
};
#define NCOLS 9

enum {
    O_ALL = 0x2000, O_BLKDEVS, O_CSV, O_EXTRA, O_FS, O_FSVER, O_LVS, O_NOTITLE,
    O_PARTS, O_PVS, O_UUID, O_VGS, O_BLOCKSIZE,
};

static const struct option longopts[] = {
    {"all", no_argument, 0, O_ALL},
    {"blkdevs", no_argument, 0, O_BLKDEVS},
    {"blocksize", optional_argument, 0, O_BLOCKSIZE},
    {"block-devices", no_argument, 0, O_BLKDEVS},
    {"csv", no_argument, 0, O_CSV},
    {"extra", no_argument, 0, O_EXTRA},
    {"filesystems", no_argument, 0, O_FS},
    {"fs-version", no_argument, 0, O_FSVER},
    {"fs-versions", no_argument, 0, O_FSVER},
    {"human-readable", no_argument, 0, 'h'},
    {"logical-volumes", no_argument, 0, O_LVS},
    {"logvols", no_argument, 0, O_LVS},
    {"long", no_argument, 0, 'l'},
    {"lvs", no_argument, 0, O_LVS},
    {"no-title", no_argument, 0, O_NOTITLE},
    {"parts", no_argument, 0, O_PARTS},
    {"partitions", no_argument, 0, O_PARTS},
    {"physical-volumes", no_argument, 0, O_PVS},
    {"physvols", no_argument, 0, O_PVS},
    {"pvs", no_argument, 0, O_PVS},
    {"uuid", no_argument, 0, O_UUID},
    {"uuids", no_argument, 0, O_UUID},
    {"vgs", no_argument, 0, O_VGS},
    {"volgroups", no_argument, 0, O_VGS},
    {"volume-groups", no_argument, 0, O_VGS},
    {0, 0, 0, 0},
};

struct opts {
    int output, csv, human, long_mode, uuid, fs_version, no_title;
};

static int handle(int opt, const char *arg, void *ud)
{
    struct opts *o = ud;
    (void)arg;
    switch (opt) {
    case O_ALL: o->output = OUT_ALL; break;
    case O_BLKDEVS: o->output |= OUT_BLKDEVS; break;
    case O_CSV: o->csv = 1; break;
    case O_EXTRA: o->output |= OUT_FS | OUT_FS_EXTRA; break;
    case O_FS: o->output |= OUT_FS; break;
    case O_FSVER: o->fs_version = 1; break;
    case O_LVS: o->output |= OUT_LVS; break;
    case O_NOTITLE: o->no_title = 1; break;
    case O_PARTS: o->output |= OUT_PARTS; break;
    case O_PVS: o->output |= OUT_PVS; break;
    case O_UUID: o->uuid = 1; break;
    case O_VGS: o->output |= OUT_VGS; break;
    case O_BLOCKSIZE:
        /* virt-filesystems' sector size for the following -a: accepted for
         * compatibility; we find 4K sectors from the GPT header itself */
        if (arg && strcmp(arg, "512") != 0 && strcmp(arg, "4096") != 0) {
            fprintf(stderr, "%s: --blocksize: %s: must be 512 or 4096\n", gk_progname, arg);
            return -1;
        }
        break;
    case 'h': o->human = 1; break;
    case 'l': o->long_mode = 1; break;
    default: return -1;
    }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
        "gfilesystems: list filesystems, partitions, block devices, LVM in a disk image\n"
        "Usage:\n"
        "  gfilesystems [--options] -a disk.img [-a disk.img ...]\n"
        "  gfilesystems [--options] disk.img\n"
        "Options:\n"
        "  -a|--add image       Add image\n"
        "  --all                Display everything\n"
        "  --blkdevs|--block-devices\n"
        "                       Display block devices\n"
        "  --blocksize[=512|4096]\n"
        "                       Accepted; the sector size is detected\n"
        "  --csv                Output as Comma-Separated Values\n"
        "  --extra              Display swap and data filesystems\n"
        "  --filesystems        Display mountable filesystems\n"
        "  --format[=raw|..]    Force disk format for -a option\n"
        "  --fs-version|--fs-versions\n"
        "                       Add filesystem version to --long output\n"
        "  -h|--human-readable  Human-readable sizes in --long output\n"
        "  --help               Display brief help\n"
        "  -l|--long            Long output\n"
        "  --lvs|--logvols|--logical-volumes\n"
        "                       Display LVM logical volumes\n"
        "  --no-title           No title in --long output\n"
        "  --parts|--partitions Display partitions\n"
        "  --pvs|--physvols|--physical-volumes\n"
        "                       Display LVM physical volumes\n"
        "  --uuid|--uuids       Add UUIDs to --long output\n"
        "  --key SELECTOR       LUKS key: ID:key:KEY_STRING or ID:file:FILENAME\n"
        "  -v|--verbose         Verbose messages\n"
        "  -V|--version         Display version and exit\n"
        "  --vgs|--volgroups|--volume-groups\n"
        "                       Display LVM volume groups\n"
        "For more information, see the manpage gfilesystems(1).\n");
}

/* ---- output: rows saved for column alignment, or CSV written at once ---- */

static struct opts o;
static int columns;
static char ***rows;
static int nrows;
static size_t max_width[NCOLS];

static void write_strings(const char **s, int n)
{
    if (o.csv) {
        for (int i = 0; i < n; i++) {
            if (i > 0)
                putchar(',');
            if (s[i]) {
                char *e = gk_term_str(stdout, s[i]);     /* labels are the guest's */
                gk_csv_field(e);
                free(e);
            }
        }
        putchar('\n');
        return;
    }
    char **row = gk_calloc(NCOLS, sizeof *row);
    for (int i = 0; i < n; i++) {
        if (!s[i])
            continue;
        row[i] = gk_term_str(stdout, s[i]);    /* labels are the guest's */
        size_t len = strlen(row[i]);
        if (len == 0)
            len = 1; /* "" prints as "-" */
        if (len > max_width[i])
            max_width[i] = len;
    }
    rows = gk_realloc(rows, (size_t)(nrows + 1) * sizeof *rows);
    rows[nrows++] = row;
}

/* virt-filesystems' layout: two spaces between columns unless that takes
 * the widths past 72 characters, then one; columns that are empty in every
 * row (title included) are left out; empty fields print as "-". */
static void output_end(void)
{
    if (o.csv)
        return;
    size_t total = 0, gap = 2;
    for (int j = 0; j < NCOLS; j++)
        total += max_width[j] + gap;
    if (total > 72)
        gap = 1;
    for (int i = 0; i < nrows; i++) {
        size_t pad = 0;
        for (int j = 0; j < NCOLS; j++) {
            if (max_width[j] == 0)
                continue;
            for (; pad > 0; pad--)
                putchar(' ');
            const char *v = rows[i][j];
            if (!v || !*v)
                v = "-";
            fputs(v, stdout);
            pad = max_width[j] - strlen(v) + gap;
            free(rows[i][j]);
        }
        putchar('\n');
        free(rows[i]);
    }
    free(rows);
}

static void write_row(const char *name, const char *type, const char *vfs, const char *label,
                      int mbr, int64_t size, const char *parents, const char *uuid,
                      const char *fsver)
{
    const char *s[NCOLS];
    char mbrs[16], sizes[64];
    int n = 0;
    s[n++] = name;
    if (columns & COL_TYPE)
        s[n++] = type;
    if (columns & COL_VFS)
        s[n++] = vfs;
    if (columns & COL_LABEL)
        s[n++] = label;
    if (columns & COL_MBR) {
        if (mbr >= 0) {
            snprintf(mbrs, sizeof mbrs, "%02x", (unsigned)mbr);
            s[n++] = mbrs;
        } else {
            s[n++] = NULL;
        }
    }
    if (columns & COL_SIZE) {
        if (size >= 0) {
            if (o.human)
                gk_human_size((uint64_t)size, sizes, sizeof sizes);
            else
                snprintf(sizes, sizeof sizes, "%lld", (long long)size);
            s[n++] = sizes;
        } else {
            s[n++] = NULL;
        }
    }
    if (columns & COL_PARENT)
        s[n++] = parents ? parents : "";
    if (columns & COL_UUID)
        s[n++] = uuid;
    if (columns & COL_FSVER)
        s[n++] = fsver;
    write_strings(s, n);
}

/* ---- the objects ---- */

static int disk_has_parts(gk_devset *s, int di)
{
    for (int i = 0; i < s->nents; i++)
        if (s->ents[i].kind == GK_PART && s->ents[i].disk_index == di)
            return 1;
    return 0;
}

/* libguestfs' list_filesystems leaves out partitions that cannot hold a
 * filesystem: MBR extended partitions, Windows LDM metadata/data,
 * Microsoft reserved and Windows snapshot partitions. */
static int part_can_hold_fs(const gk_devent *e)
{
    static const char *const no_fs[] = {
        "5808C8AA-7E8F-42E0-85D2-E1E90434CFB3", "AF9B60A0-1431-4F62-BC68-3311714A69AD",
        "E3C9E316-0B5C-4DB8-817D-F92DF00215AE", "CADDEBF1-4400-4DE8-B103-12117DCF3CCF",
    };
    if (e->mbr_type == 0x05 || e->mbr_type == 0x0f || e->mbr_type == 0x85)
        return 0;
    for (size_t i = 0; e->part_type_guid && i < sizeof no_fs / sizeof *no_fs; i++)
        if (strcmp(e->part_type_guid, no_fs[i]) == 0)
            return 0;
    return 1;
}

static gk_lv *find_lv(gk_devset *s, const char *name);

static int64_t fs_size(gk_devset *s, gk_devent *e, const char *vfs)
{
    /* virt-filesystems mounts the filesystem and reports statvfs
     * f_blocks * f_bsize; what cannot be mounted reports the device size. */
    if (e->dev && gk_fs_supported(vfs)) {
        gk_fs_open_args a = {.fstype = vfs, .devs = s};
        gk_fs *fs = gk_fs_open_with(e->dev, &a);
        if (fs) {
            gk_statvfs sv;
            int64_t r = -1;
            /* Linux cannot mount a filesystem whose block size is smaller
             * than the device's sector size (ext4 with 1 KiB blocks on a 4K
             * disk): virt-filesystems then falls back to the device size. */
            if (gk_fs_statvfs(fs, &sv) == 0 &&
                sv.bsize >= e->dev->sector_size)
                r = (int64_t)(sv.blocks * sv.bsize);
            gk_fs_close(fs);
            if (r >= 0)
                return r;
        }
    }
    if (e->dev)
        return (int64_t)e->dev->size;
    gk_lv *lv = e->kind == GK_LV ? find_lv(s, e->name) : NULL; /* e.g. a thin LV */
    return lv ? (int64_t)lv->size : -1;
}

/* An md array's parents: its members, as virt-filesystems lists them from
 * md-stat (the members present, last slot first, as /proc/mdstat shows
 * them); "" for anything else. */
static char *md_parents(const gk_devent *e)
{
    size_t len = 1;
    for (int i = 0; e->kind == GK_MD && i < e->nmd_members; i++)
        len += strlen(e->md_members[i]) + 1;
    char *p = gk_calloc(1, len);
    for (int i = e->kind == GK_MD ? e->nmd_members - 1 : -1; i >= 0; i--) {
        if (!*e->md_members[i])
            continue;
        if (*p)
            strcat(p, ",");
        strcat(p, e->md_members[i]);
    }
    return p;
}

static void output_fs_one(gk_devset *s, gk_devent *e)
{
    const gk_probe *p = gk_devent_probe(e);
    const char *type = p->type;
    if (!type || !*type)
        type = "unknown";
    else if ((strlen(type) >= 7 && strcmp(type + strlen(type) - 7, "_member") == 0) ||
             strcmp(type, "crypto_LUKS") == 0 || strcmp(type, "BitLocker") == 0)
        return; /* containers (PVs, RAID members, LUKS), not filesystems */
    if (!(o.output & OUT_FS_EXTRA) && (strcmp(type, "swap") == 0 || strcmp(type, "unknown") == 0))
        return;
    int64_t size = (columns & COL_SIZE) ? fs_size(s, e, type) : -1;
    char *parents = md_parents(e);
    write_row(e->name, "filesystem", type, p->label ? p->label : "", -1, size, parents,
              p->uuid ? p->uuid : "", "");
    free(parents);
    /* btrfs subvolumes follow their device, without a size (virt-filesystems) */
    int nsub;
    char **sub = gk_devset_subvolumes(s, e, &nsub);
    for (int i = 0; i < nsub; i++)
        write_row(sub[i], "filesystem", type, p->label ? p->label : "", -1, -1, "",
                  p->uuid ? p->uuid : "", "");
    gk_names_free(sub, nsub);
}

static int cmp_ent_name(const void *a, const void *b)
{
    return strcmp((*(gk_devent *const *)a)->name, (*(gk_devent *const *)b)->name);
}

/* LVs sorted by name, as libguestfs' lvs() sorts "/dev/VG/LV". */
static gk_devent **sorted_lvs(gk_devset *s, int *n)
{
    gk_devent **v = gk_calloc((size_t)s->nents + 1, sizeof *v);
    *n = 0;
    for (int i = 0; i < s->nents; i++)
        if (s->ents[i].kind == GK_LV)
            v[(*n)++] = &s->ents[i];
    qsort(v, (size_t)*n, sizeof *v, cmp_ent_name);
    return v;
}

static void output_filesystems(gk_devset *s)
{
    for (int i = 0; i < s->nents; i++)
        if (s->ents[i].kind == GK_DISK && !disk_has_parts(s, s->ents[i].disk_index))
            output_fs_one(s, &s->ents[i]);
    for (int i = 0; i < s->nents; i++)
        if (s->ents[i].kind == GK_PART && part_can_hold_fs(&s->ents[i]))
            output_fs_one(s, &s->ents[i]);
    /* md arrays next, by name (libguestfs' list_filesystems order) */
    int nmd = 0;
    gk_devent **mds = gk_calloc((size_t)s->nents + 1, sizeof *mds);
    for (int i = 0; i < s->nents; i++)
        if (s->ents[i].kind == GK_MD)
            mds[nmd++] = &s->ents[i];
    qsort(mds, (size_t)nmd, sizeof *mds, cmp_ent_name);
    for (int i = 0; i < nmd; i++)
        output_fs_one(s, mds[i]);
    free(mds);
    int n;
    gk_devent **lvs = sorted_lvs(s, &n);
    for (int i = 0; i < n; i++)
        output_fs_one(s, lvs[i]);
    free(lvs);
}

static gk_lv *find_lv(gk_devset *s, const char *name)
{
    for (int i = 0; i < s->nlvs; i++) {
        char *n = gk_asprintf("/dev/%s/%s", s->lvs[i].vg, s->lvs[i].name);
        int eq = strcmp(n, name) == 0;
        free(n);
        if (eq)
            return &s->lvs[i];
    }
    return NULL;
}

static void output_lvs(gk_devset *s)
{
    int n;
    gk_devent **lvs = sorted_lvs(s, &n);
    for (int i = 0; i < n; i++) {
        gk_devent *e = lvs[i];
        gk_lv *lv = find_lv(s, e->name);
        int64_t size = e->dev ? (int64_t)e->dev->size : lv ? (int64_t)lv->size : -1;
        const char *uuid = e->lv_uuid ? e->lv_uuid : lv ? lv->uuid : NULL;
        char *parent = gk_strdup(e->name);
        char *slash = strrchr(parent, '/');
        if (slash)
            *slash = 0;
        write_row(e->name, "lv", NULL, NULL, -1, size, parent, uuid, NULL);
        free(parent);
    }
    free(lvs);
}

/* libguestfs' vgs_full/pvs_full carry UUIDs as 32 characters, no dashes. */
static char *undash(const char *u)
{
    if (!u)
        return NULL;
    char *r = gk_malloc(strlen(u) + 1), *p = r;
    for (; *u; u++)
        if (*u != '-')
            *p++ = *u;
    *p = 0;
    return r;
}

static int cmp_str_idx_vg(const void *a, const void *b, void *s)
{
    gk_devset *d = s;
    return strcmp(d->vgs[*(const int *)a].name, d->vgs[*(const int *)b].name);
}

static int cmp_str_idx_pv(const void *a, const void *b, void *s)
{
    gk_devset *d = s;
    return strcmp(d->pvs[*(const int *)a].name, d->pvs[*(const int *)b].name);
}

static int *sorted_idx(gk_devset *s, int n, int (*cmp)(const void *, const void *, void *))
{
    int *v = gk_calloc((size_t)n + 1, sizeof *v);
    for (int i = 0; i < n; i++)
        v[i] = i;
    qsort_r(v, (size_t)n, sizeof *v, cmp, s);
    return v;
}

static void output_vgs(gk_devset *s)
{
    int *idx = sorted_idx(s, s->nvgs, cmp_str_idx_vg);
    for (int k = 0; k < s->nvgs; k++) {
        gk_vg *vg = &s->vgs[idx[k]];
        char *name = gk_asprintf("/dev/%s", vg->name);
        /* parents: the PVs of the VG, then UUIDs of PVs that are missing */
        size_t cap = 1;
        for (int i = 0; i < s->npvs; i++)
            cap += strlen(s->pvs[i].name) + 1;
        for (int i = 0; i < vg->nr_missing; i++)
            cap += strlen(vg->missing_pvs[i]) + 1;
        char *parents = gk_calloc(1, cap);
        for (int i = 0; i < s->npvs; i++) {
            if (!s->pvs[i].vg || strcmp(s->pvs[i].vg, vg->name) != 0)
                continue;
            if (*parents)
                strcat(parents, ",");
            strcat(parents, s->pvs[i].name);
        }
        for (int i = 0; i < vg->nr_missing; i++) {
            char *u = undash(vg->missing_pvs[i]);
            if (*parents)
                strcat(parents, ",");
            strcat(parents, u);
            free(u);
        }
        char *uuid = undash(vg->uuid);
        write_row(name, "vg", NULL, NULL, -1, (int64_t)vg->size, parents, uuid, NULL);
        free(uuid);
        free(parents);
        free(name);
    }
    free(idx);
}

static void output_pvs(gk_devset *s)
{
    int *idx = sorted_idx(s, s->npvs, cmp_str_idx_pv);
    for (int k = 0; k < s->npvs; k++) {
        gk_pv *pv = &s->pvs[idx[k]];
        char *uuid = undash(pv->uuid);
        write_row(pv->name, "pv", NULL, NULL, -1, (int64_t)pv->size, "", uuid, NULL);
        free(uuid);
    }
    free(idx);
}

static void output_partitions(gk_devset *s)
{
    for (int i = 0; i < s->nents; i++) {
        gk_devent *e = &s->ents[i];
        if (e->kind != GK_PART)
            continue;
        const char *pt = s->disk_parttype[e->disk_index];
        int mbr = pt && strcmp(pt, "msdos") == 0 ? e->mbr_type : -1;
        int64_t size = e->dev ? (int64_t)e->dev->size : (int64_t)e->part_size;
        write_row(e->name, "partition", NULL, NULL, mbr, size, e->parent, NULL, NULL);
    }
}

static void output_blockdevs(gk_devset *s)
{
    for (int i = 0; i < s->nents; i++) {
        gk_devent *e = &s->ents[i];
        if (e->kind == GK_DISK)
            write_row(e->name, "device", NULL, NULL, -1, (int64_t)e->dev->size, "", NULL, NULL);
    }
}

int main(int argc, char **argv)
{
    gk_cli c;
    gk_cli_parse(&c, "gfilesystems", argc, argv, "hl", longopts, handle, &o, usage);
    c.sb.needs |= GK_SB_NOTZ; /* prints no local time */
    c.no_key_prompt = 1; /* virt-filesystems never asks for keys */
    if (gk_cli_positional_image(&c) < 0)
        gk_die("you must specify at least one -a option or a disk image");
    if (c.nargs > 0)
        gk_die("extra argument '%s' on command line", c.args[0]);
    if (o.human && o.csv)
        gk_die("you cannot use -h and --csv options together.");
    if (o.output == 0)
        o.output = OUT_FS;

    columns = COL_NAME;
    if (o.long_mode) {
        columns |= COL_TYPE | COL_SIZE | COL_PARENT;
        if (o.output & OUT_FS)
            columns |= COL_VFS | COL_LABEL;
        if (o.output & OUT_PARTS)
            columns |= COL_MBR;
        if (o.uuid)
            columns |= COL_UUID;
        if (o.fs_version)
            columns |= COL_FSVER;
    }

    gk_guest *g = gk_cli_launch(&c);
    gk_devset *s = g->devs;

    if (o.long_mode && !o.no_title) {
        const char *t[NCOLS];
        int n = 0;
        t[n++] = "Name";
        if (columns & COL_TYPE) t[n++] = "Type";
        if (columns & COL_VFS) t[n++] = "VFS";
        if (columns & COL_LABEL) t[n++] = "Label";
        if (columns & COL_MBR) t[n++] = "MBR";
        if (columns & COL_SIZE) t[n++] = "Size";
        if (columns & COL_PARENT) t[n++] = "Parent";
        if (columns & COL_UUID) t[n++] = "UUID";
        if (columns & COL_FSVER) t[n++] = "FSVersion";
        write_strings(t, n);
    }
    /* most specific first, as virt-filesystems orders them */
    if (o.output & OUT_FS)
        output_filesystems(s);
    if (o.output & OUT_LVS)
        output_lvs(s);
    if (o.output & OUT_VGS)
        output_vgs(s);
    if (o.output & OUT_PVS)
        output_pvs(s);
    if (o.output & OUT_PARTS)
        output_partitions(s);
    if (o.output & OUT_BLKDEVS)
        output_blockdevs(s);
    output_end();
    if (fflush(stdout) != 0 || ferror(stdout))
        gk_die("write error on standard output");
    gk_guest_free(g);
    gk_cli_clear(&c);
    return 0;
}
