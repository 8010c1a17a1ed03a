/* SPDX-License-Identifier: GPL-2.0-or-later */
/* More of guestfish's read-only commands about devices and disks: blkid,
 * tune2fs-l, disk-format/-virtual-size/-has-backing-file, device-index,
 * blockdev-get*, part-get-disk-guid, findfs-*, mountable-*, list-dm-devices,
 * filesystem-available, the LVM UUIDs, filesystem-walk, version,
 * ping-daemon, mount-options/mount-vfs. */
#include <ctype.h>
#include <errno.h>
#include <ext2fs/ext2fs.h>
#include <e2p/e2p.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cmds-int.h"

static gk_devent *open_dev(gfsh *sh, const gfsh_cmd *cmd, const char *name)
{
    gk_devent *e = gk_devset_find(sh->g->devs, name);
    if (!e) {
        gfsh_err_gk(cmd);
        return NULL;
    }
    if (!e->dev) {
        gfsh_err(cmd, "%s: %s", e->name, e->open_error ? e->open_error : "cannot be opened");
        return NULL;
    }
    return e;
}

/* The MBR entry of primary partition partnum (1-4) of its disk: 0, or -1
 * when there is none (GPT, a logical partition, a read error). */
static int mbr_entry(gfsh *sh, const gk_devent *part, uint8_t ent[16])
{
    gk_devset *s = sh->g->devs;
    if (part->partnum < 1 || part->partnum > 4 || !s->disk_parttype ||
        !s->disk_parttype[part->disk_index] || strcmp(s->disk_parttype[part->disk_index], "msdos"))
        return -1;
    gk_devent *d = gk_devset_disk(s, part->disk_index);
    uint8_t b[512];
    if (!d || !d->dev || d->dev->size < sizeof b || gk_pread(d->dev, b, sizeof b, 0) < 0)
        return -1;
    memcpy(ent, b + 446 + 16 * (part->partnum - 1), 16);
    return 0;
}

/* ------------------------------------------------------------------ */
/* blkid                                                               */

int run_blkid(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_devent *e = open_dev(sh, cmd, a->argv[0]);
    if (!e)
        return -1;
    char **v = gk_probe_export(e->dev, e->kind == GK_DISK);
    if (!v) {
        gfsh_err_about(cmd, e->name);
        return -1;
    }
    /* blkid -p -i -o export: the superblock values, the I/O topology, then
     * the partition table's (a disk's PTTYPE, a partition's entry) */
    printf("DEVNAME: %s\n", e->name);
    int i = 0;
    for (; v[i] && strncmp(v[i], "PT", 2) != 0; i++) {
        char *eq = strchr(v[i], '=');
        printf("%.*s: %s\n", (int)(eq - v[i]), v[i], eq + 1);
    }
    unsigned ss = e->dev->sector_size ? e->dev->sector_size : 512;
    printf("MINIMUM_IO_SIZE: %u\nPHYSICAL_SECTOR_SIZE: %u\nLOGICAL_SECTOR_SIZE: %u\n", ss, ss, ss);
    for (; v[i]; i++) {
        char *eq = strchr(v[i], '=');
        printf("%.*s: %s\n", (int)(eq - v[i]), v[i], eq + 1);
    }
    for (i = 0; v[i]; i++)
        free(v[i]);
    free(v);
    if (e->kind != GK_PART)
        return 0;
    /* a partition: its entry, as libblkid reads it from the disk's table */
    const char *pt = sh->g->devs->disk_parttype ? sh->g->devs->disk_parttype[e->disk_index] : NULL;
    int gpt = pt && strcmp(pt, "gpt") == 0;
    printf("PART_ENTRY_SCHEME: %s\n", gpt ? "gpt" : "dos");
    if (gpt && e->partlabel && *e->partlabel)
        printf("PART_ENTRY_NAME: %s\n", e->partlabel);
    if (e->partuuid) {
        char *u = gk_strdup(e->partuuid);
        for (char *p = u; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        printf("PART_ENTRY_UUID: %s\n", u);
        free(u);
    }
    if (gpt && e->part_type_guid) {
        char *u = gk_strdup(e->part_type_guid);
        for (char *p = u; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        printf("PART_ENTRY_TYPE: %s\n", u);
        free(u);
    } else if (!gpt && e->mbr_type >= 0) {
        printf("PART_ENTRY_TYPE: 0x%x\n", (unsigned)e->mbr_type);
    }
    uint8_t ent[16];
    if (gpt && e->gpt_attrs)
        printf("PART_ENTRY_FLAGS: 0x%" PRIx64 "\n", e->gpt_attrs);
    else if (!gpt && mbr_entry(sh, e, ent) == 0 && ent[0])
        printf("PART_ENTRY_FLAGS: 0x%x\n", ent[0]);
    printf("PART_ENTRY_NUMBER: %d\nPART_ENTRY_OFFSET: %" PRIu64 "\nPART_ENTRY_SIZE: %" PRIu64 "\n"
           "PART_ENTRY_DISK: 8:%d\n", e->partnum, e->part_start / 512, e->part_size / 512,
           16 * e->disk_index);
    return 0;
}

/* ------------------------------------------------------------------ */
/* tune2fs-l: the superblock as libe2p lists it for tune2fs -l, split  */
/* into "key: value" as libguestfs splits tune2fs's output             */

int run_tune2fs_l(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_devent *e = open_dev(sh, cmd, a->argv[0]);
    if (!e)
        return -1;
    union { struct ext2_super_block sb; uint8_t b[SUPERBLOCK_SIZE]; } u;
    if (e->dev->size < SUPERBLOCK_OFFSET + SUPERBLOCK_SIZE ||
        gk_pread(e->dev, u.b, SUPERBLOCK_SIZE, SUPERBLOCK_OFFSET) < 0) {
        gfsh_err(cmd, "%s: cannot read an ext2/3/4 superblock", e->name);
        return -1;
    }
    if (gk_le16(u.b + 56) != EXT2_SUPER_MAGIC) {
        gfsh_err(cmd, "%s: Bad magic number in super-block (not an ext2/3/4 filesystem)", e->name);
        return -1;
    }
#ifdef WORDS_BIGENDIAN
    ext2fs_swap_super(&u.sb);
#endif
    char *text = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&text, &len);
    if (!mf) {
        gfsh_err(cmd, "%s", strerror(errno));
        return -1;
    }
    list_super2(&u.sb, mf);
    fclose(mf);
    for (char *p = text, *nl; p && *p; p = nl) {
        nl = strchr(p, '\n');
        if (nl)
            *nl++ = 0;
        if (!*p)
            continue;
        char *colon = strchr(p, ':');
        if (!colon) {
            printf("%s: \n", p);
            continue;
        }
        *colon++ = 0;
        while (*colon && isspace((unsigned char)*colon))
            colon++;
        if (!strcmp(colon, "<none>") || !strcmp(colon, "<not available>") || !strcmp(colon, "(none)"))
            colon = "";
        /* the host's name of the reserved uid/gid: in the sandboxed
         * worker the front end looks it up (split.c) */
        unsigned long id;
        char kind[8], name[256];
        if (gfsh_in_worker() && sscanf(colon, "%lu (%7[a-z] unknown)", &id, kind) == 2 &&
            (!strcmp(kind, "user") || !strcmp(kind, "group")) &&
            gfsh_worker_idname(kind[0] == 'g', id, name, sizeof name) == 0) {
            printf("%s: %lu (%s %s)\n", p, id, kind, name);
            continue;
        }
        printf("%s: %s\n", p, colon);
    }
    free(text);
    return 0;
}

/* ------------------------------------------------------------------ */
/* disk-format, disk-virtual-size, disk-has-backing-file (host files)  */

int run_disk_info(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_open_opts o = {.untrusted = sh->cli.untrusted, .force_share = 1};
    gk_dev *d = gk_open_image(a->argv[0], &o);
    gk_image_info info;
    memset(&info, 0, sizeof info);
    if (!d || gk_image_info_get(d, &info) < 0) {
        gfsh_err_gk(cmd);
        if (d)
            gk_dev_unref(d);
        return -1;
    }
    if (!strcmp(cmd->name, "disk-format"))
        printf("%s\n", info.format);
    else if (!strcmp(cmd->name, "disk-virtual-size"))
        printf("%" PRIu64 "\n", info.virtual_size);
    else
        printf("%s\n", info.backing_file ? "true" : "false");
    gk_image_info_free(&info);
    gk_dev_unref(d);
    return 0;
}

int run_list_disk_labels(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    /* gfsh's add has no label: option, so no disk has a label */
    (void)sh; (void)cmd; (void)a;
    return 0;
}

int run_device_index(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    if (!strcmp(cmd->name, "nr-devices")) {
        printf("%d\n", sh->g->devs->ndisks);
        return 0;
    }
    gk_devent *e = gk_devset_find(sh->g->devs, a->argv[0]);
    if (!e || e->kind != GK_DISK) {
        gfsh_err(cmd, "%s: not a disk (list-devices lists them)", a->argv[0]);
        return -1;
    }
    printf("%d\n", e->disk_index);
    return 0;
}

int run_blockdev_get(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_devent *e = open_dev(sh, cmd, a->argv[0]);
    if (!e)
        return -1;
    const char *what = cmd->name + strlen("blockdev-get");
    unsigned ss = e->dev->sector_size ? e->dev->sector_size : 512;
    if (!strcmp(what, "ss")) {
        printf("%u\n", ss);
    } else if (!strcmp(what, "sz")) {
        printf("%" PRIu64 "\n", e->dev->size / 512);
    } else if (!strcmp(what, "ro")) {
        printf("%s\n", sh->cli.rw ? "false" : "true");
    } else {
        /* the kernel's block size of the device: the filesystem's while
         * one is mounted from it, 4096 otherwise */
        uint64_t bsz = 4096;
        for (int i = 0; i < gk_vfs_nmounts(sh->g->vfs); i++) {
            gk_mount *m = gk_vfs_mount_at(sh->g->vfs, i);
            gk_statvfs sv;
            if (m->device && !strcmp(m->device, e->name) && gk_fs_statvfs(m->fs, &sv) == 0 &&
                sv.bsize)
                bsz = sv.bsize;
        }
        printf("%" PRIu64 "\n", bsz);
    }
    return 0;
}

int run_part_get_disk_guid(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_devent *e = open_dev(sh, cmd, a->argv[0]);
    if (!e)
        return -1;
    gk_devset *s = sh->g->devs;
    if (e->kind != GK_DISK || !s->disk_parttype[e->disk_index] ||
        strcmp(s->disk_parttype[e->disk_index], "gpt") != 0) {
        gfsh_err(cmd, "%s: not a disk with a GPT partition table", e->name);
        return -1;
    }
    /* the primary header, at LBA 1: signature, then the disk GUID at 56 */
    unsigned ss = e->dev->sector_size ? e->dev->sector_size : 512;
    uint8_t h[92];
    if (gk_pread(e->dev, h, sizeof h, ss) < 0 || memcmp(h, "EFI PART", 8) != 0) {
        gfsh_err(cmd, "%s: cannot read the GPT header", e->name);
        return -1;
    }
    const uint8_t *g = h + 56;
    printf("%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X\n", gk_le32(g), gk_le16(g + 4),
           gk_le16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
    return 0;
}

/* part-get-bootable and part-get-mbr-part-type (cmds-dev.c's run_part_get
 * dispatches here). */
int gfsh_part_get_more(gfsh *sh, const gfsh_cmd *cmd, gk_devent *p)
{
    const char *pt = sh->g->devs->disk_parttype[p->disk_index];
    int gpt = pt && !strcmp(pt, "gpt");
    if (!strcmp(cmd->name, "part-get-bootable")) {
        uint8_t ent[16];
        int boot = gpt ? (p->gpt_attrs & 4) != 0 : mbr_entry(sh, p, ent) == 0 && ent[0] == 0x80;
        printf("%s\n", boot ? "true" : "false");
        return 0;
    }
    int ext = p->mbr_type == 0x05 || p->mbr_type == 0x0f || p->mbr_type == 0x85;
    printf("%s\n", gpt || (p->partnum <= 4 && !ext) ? "primary" : ext ? "extended" : "logical");
    return 0;
}

int run_findfs(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    int label = !strcmp(cmd->name, "findfs-label");
    gk_devset *s = sh->g->devs;
    for (int i = 0; i < s->nents; i++) {
        const gk_probe *p = gk_devent_probe(&s->ents[i]);
        const char *v = label ? p->label : p->uuid;
        if (v && (label ? strcmp(v, a->argv[0]) : strcasecmp(v, a->argv[0])) == 0) {
            printf("%s\n", s->ents[i].name);
            return 0;
        }
    }
    gfsh_err(cmd, "unable to resolve '%s=%s'", label ? "LABEL" : "UUID", a->argv[0]);
    return -1;
}

int run_mountable(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_devent *e = gk_devset_find(sh->g->devs, a->argv[0]);
    if (!e) {
        gfsh_err_gk(cmd);
        return -1;
    }
    if (!strcmp(cmd->name, "mountable-subvolume")) {
        gfsh_err(cmd, "%s: mountable is not a btrfs subvolume", e->name);
        return -1;
    }
    printf("%s\n", e->name);
    return 0;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* VG-LV as device-mapper names it: dashes inside each name doubled */
static void dm_part(char **w, const char *s)
{
    for (; *s; s++) {
        if (*s == '-')
            *(*w)++ = '-';
        *(*w)++ = *s;
    }
}

int run_list_dm_devices(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)cmd; (void)a;
    gk_devset *s = sh->g->devs;
    char **v = gk_calloc((size_t)s->nlvs + 1, sizeof *v);
    for (int i = 0; i < s->nlvs; i++) {
        char *n = gk_malloc(12 + 2 * (strlen(s->lvs[i].vg) + strlen(s->lvs[i].name)) + 2), *w = n;
        w += sprintf(w, "/dev/mapper/");
        dm_part(&w, s->lvs[i].vg);
        *w++ = '-';
        dm_part(&w, s->lvs[i].name);
        *w = 0;
        v[i] = n;
    }
    qsort(v, (size_t)s->nlvs, sizeof *v, cmp_str);
    for (int i = 0; i < s->nlvs; i++) {
        printf("%s\n", v[i]);
        free(v[i]);
    }
    free(v);
    return 0;
}

int run_filesystem_available(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)sh; (void)cmd;
    printf("%s\n", gk_fs_supported(a->argv[0]) ? "true" : "false");
    return 0;
}

/* ------------------------------------------------------------------ */
/* LVM UUIDs                                                           */

int run_lvm_uuid(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_devset *s = sh->g->devs;
    const char *what = cmd->name;
    if (!strcmp(what, "lvuuid") || !strcmp(what, "pvuuid")) {
        gk_devent *e = gk_devset_find(s, a->argv[0]);
        const char *uuid = NULL;
        for (int i = 0; e && what[0] == 'l' && i < s->nlvs; i++) {
            char *n = gk_asprintf("/dev/%s/%s", s->lvs[i].vg, s->lvs[i].name);
            if (!strcmp(n, e->name))
                uuid = s->lvs[i].uuid;
            free(n);
        }
        for (int i = 0; e && what[0] == 'p' && i < s->npvs; i++)
            if (s->pvs[i].name && !strcmp(s->pvs[i].name, e->name))
                uuid = s->pvs[i].uuid;
        if (!uuid) {
            gfsh_err(cmd, "%s: not an LVM %s volume", a->argv[0], what[0] == 'l' ? "logical" : "physical");
            return -1;
        }
        printf("%s\n", uuid);
        return 0;
    }
    const gk_vg *vg = NULL;
    for (int i = 0; i < s->nvgs; i++)
        if (s->vgs[i].name && !strcmp(s->vgs[i].name, a->argv[0]))
            vg = &s->vgs[i];
    if (!vg) {
        gfsh_err(cmd, "%s: no such volume group", a->argv[0]);
        return -1;
    }
    if (!strcmp(what, "vguuid"))
        printf("%s\n", vg->uuid ? vg->uuid : "");
    for (int i = 0; !strcmp(what, "vglvuuids") && i < s->nlvs; i++)
        if (s->lvs[i].vg && !strcmp(s->lvs[i].vg, vg->name))
            printf("%s\n", s->lvs[i].uuid ? s->lvs[i].uuid : "");
    for (int i = 0; !strcmp(what, "vgpvuuids") && i < s->npvs; i++)
        if (s->pvs[i].vg && !strcmp(s->pvs[i].vg, vg->name))
            printf("%s\n", s->pvs[i].uuid ? s->pvs[i].uuid : "");
    return 0;
}

int run_lvm_canonical(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_devent *e = gk_devset_find(sh->g->devs, a->argv[0]);
    if (!e || e->kind != GK_LV) {
        gfsh_err(cmd, "%s: not a logical volume", a->argv[0]);
        return -1;
    }
    printf("%s\n", e->name);
    return 0;
}

/* ------------------------------------------------------------------ */
/* filesystem-walk                                                     */

static char tsk_type(uint32_t mode)
{
    return S_ISREG(mode) ? 'r' : S_ISDIR(mode) ? 'd' : S_ISLNK(mode) ? 'l' : S_ISCHR(mode) ? 'c' :
           S_ISBLK(mode) ? 'b' : S_ISFIFO(mode) ? 'p' : S_ISSOCK(mode) ? 'h' : 'u';
}

int run_filesystem_walk(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_devent *e = open_dev(sh, cmd, a->argv[0]);
    if (!e)
        return -1;
    gk_fs *fs = gk_fs_open(e->dev, gk_devent_probe(e)->type, 0);
    if (!fs) {
        gfsh_err_about(cmd, e->name);
        return -1;
    }
    gk_vfs *v = gk_vfs_new();
    gk_node top;
    if (gk_vfs_mount(v, fs, "/", e->name) < 0) {
        gfsh_err_about(cmd, e->name);
        gk_fs_close(fs);
        gk_vfs_free(v);
        return -1;
    }
    if (gk_vfs_resolve(v, "/", 1, &top) < 0) {
        gfsh_err_about(cmd, e->name);
        gk_vfs_free(v);
        return -1;
    }
    gk_walk *w = gk_walk_new(v, &top, "", 0);
    const gk_walk_ent *x;
    int n = 0, r = 0;
    while ((x = gk_walk_next(w))) {
        if (io_interrupted(cmd)) {
            r = -1;
            break;
        }
        if (x->kind == GK_WALK_ERROR) {
            gfsh_err(cmd, "%s", x->msg);
            r = -1;
            continue;
        }
        if (x->kind != GK_WALK_ENTRY)
            continue;
        const char *name = x->depth == 0 ? "." : x->path[0] == '/' ? x->path + 1 : x->path;
        char link[4097] = "";
        if (S_ISLNK(x->st.mode)) {
            gk_node ln = x->node;
            ssize_t l = gk_node_readlink(&ln, link, sizeof link - 1);
            link[l > 0 ? l : 0] = 0;
        }
        printf("[%d] = {\n  tsk_inode: %" PRIu64 "\n  tsk_type: %c\n  tsk_size: %" PRIi64 "\n"
               "  tsk_name: %s\n  tsk_flags: 1\n", n++, x->st.ino, tsk_type(x->st.mode),
               (int64_t)x->st.size, name);
        const struct timespec *t[] = {&x->st.atime, &x->st.mtime, &x->st.ctime, &x->st.crtime};
        const char *tn[] = {"atime", "mtime", "ctime", "crtime"};
        for (int i = 0; i < 4; i++)
            printf("  tsk_%s_sec: %" PRIi64 "\n  tsk_%s_nsec: %" PRIi64 "\n", tn[i],
                   (int64_t)t[i]->tv_sec, tn[i], (int64_t)t[i]->tv_nsec);
        printf("  tsk_nlink: %u\n  tsk_link: %s\n  tsk_spare1: 0\n}\n", x->st.nlink, link);
    }
    gk_walk_free(w);
    gk_vfs_free(v);
    return r;
}

/* ------------------------------------------------------------------ */
/* version, ping-daemon, mount-options, mount-vfs                      */

int run_version(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)sh; (void)cmd; (void)a;
    unsigned ma = 0, mi = 0, re = 0;
    int used = 0;
    sscanf(GK_VERSION, "%u.%u.%u%n", &ma, &mi, &re, &used);
    printf("major: %u\nminor: %u\nrelease: %u\nextra: %s\n", ma, mi, re, GK_VERSION + used);
    return 0;
}

int run_ping_daemon(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    (void)sh; (void)cmd; (void)a;
    return 0;
}

int run_mount_vfs(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    int vfs = !strcmp(cmd->name, "mount-vfs");
    const char *dev = a->argv[vfs ? 2 : 1], *mp = a->argv[vfs ? 3 : 2];
    if (gk_guest_mount_opts(sh->g, dev, mp, a->argv[0], vfs ? a->argv[1] : NULL) < 0) {
        gfsh_err_gk(cmd);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* ntfs-3g-probe, ntfscat-i                                            */

int run_ntfs_3g_probe(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    int rw = gfsh_parse_bool(a->argv[0]);
    if (rw < 0) {
        gfsh_err(cmd, "%s: rw must be true or false", a->argv[0]);
        return -1;
    }
    gk_devent *e = open_dev(sh, cmd, a->argv[1]);
    if (!e)
        return -1;
    printf("%d\n", gk_ntfs_probe(e->dev, rw));
    return 0;
}

int run_ntfscat_i(gfsh *sh, const gfsh_cmd *cmd, gfsh_args *a)
{
    gk_devent *e = open_dev(sh, cmd, a->argv[0]);
    if (!e)
        return -1;
    if (a->num[1] < 0) {
        gfsh_err(cmd, "%s: inode must not be negative", a->argv[1]);
        return -1;
    }
    /* ntfscat refuses a mounted volume (and so guestfish's ntfscat-i) */
    for (int i = 0; i < gk_vfs_nmounts(sh->g->vfs); i++) {
        gk_mount *m = gk_vfs_mount_at(sh->g->vfs, i);
        if (m->device && !strcmp(m->device, e->name)) {
            gfsh_err(cmd, "%s: the filesystem is mounted on %s: unmount it first", e->name,
                     m->mountpoint);
            return -1;
        }
    }
    FILE *fp = io_open_out(cmd, a->argv[2]);
    if (!fp)
        return -1;
    struct out_sink o = {sh, cmd, fp};
    int r = gk_ntfs_cat_inode(e->dev, (uint64_t)a->num[1], io_out_sink, &o);
    if (r == -1)
        gfsh_err_about(cmd, e->name);
    return io_close_out(cmd, a->argv[2], fp, r < 0 ? -1 : 0);
}
