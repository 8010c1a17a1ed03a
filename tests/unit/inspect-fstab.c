/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fstab device mapping (fs/inspect-fstab.c, gk_inspect_resolve_fstab_dev)
 * on a hand-made device set: the rules of libguestfs'
 * inspect_fs_unix_fstab.ml (checked there, see the reference notes 3.6). */
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "blk-int.h"
#include "tap.h"

static gk_guest *g;

static void res(const char *spec, const char *want, const char *desc)
{
    char *got = gk_inspect_resolve_fstab_dev(g, spec);
    if (want) {
        is_str(got, want, "%s: %s", spec, desc);
    } else {
        ok(got == NULL, "%s: %s", spec, desc);
        if (got)
            printf("#   got \"%s\"\n", got);
    }
    free(got);
}

int main(void)
{
    g = gk_guest_new();
    gk_devset *s = g->devs;
    gk_devent *e;
    gk_devset_append(s, "/dev/sda", GK_DISK);
    gk_devset_append(s, "/dev/sdb", GK_DISK);
    s->ndisks = 2;
    s->disk_parttype = calloc(2, sizeof *s->disk_parttype);
    e = gk_devset_append(s, "/dev/sda1", GK_PART);
    e->blkid.uuid = strdup("01234567-89ab-cdef-0123-456789abcdef");
    e->blkid.label = strdup("BOOT");
    e->partuuid = strdup("AAAAAAAA-0000-0000-0000-000000000001");
    e->partlabel = strdup("efi system");
    e = gk_devset_append(s, "/dev/sda2", GK_PART);
    e->blkid.type = strdup("LVM2_member");
    e = gk_devset_append(s, "/dev/sdb1", GK_PART);
    e->blkid.label = strdup("DATA");
    e = gk_devset_append(s, "/dev/my-vg/root", GK_LV);
    e->blkid.uuid = strdup("11111111-2222-3333-4444-555555555555");
    e = gk_devset_append(s, "/dev/my-vg/lv-x", GK_LV);
    s->vgs = calloc(1, sizeof *s->vgs);
    s->vgs[0].name = strdup("my-vg");
    s->vgs[0].uuid = strdup("abcdef-0123-4567-89ab-cdef-0123-456789");
    s->nvgs = 1;
    s->lvs = calloc(1, sizeof *s->lvs);
    s->lvs[0].vg = strdup("my-vg");
    s->lvs[0].name = strdup("lv-x");
    s->lvs[0].uuid = strdup("ABCDEF-0123-4567-89ab-cdef-0123-456789");
    s->nlvs = 1;
    g->launched = 1;

    res("UUID=01234567-89ab-cdef-0123-456789abcdef", "/dev/sda1", "filesystem UUID");
    res("UUID=01234567-89AB-CDEF-0123-456789ABCDEF", "/dev/sda1", "UUID case does not matter");
    res("UUID=\"11111111-2222-3333-4444-555555555555\"", "/dev/my-vg/root", "quoted UUID of an LV");
    res("UUID=99999999-2222-3333-4444-555555555555", NULL, "unknown UUID: not ours");
    res("LABEL=DATA", "/dev/sdb1", "label");
    res("LABEL=data", NULL, "labels are case-sensitive");
    res("PARTUUID=aaaaaaaa-0000-0000-0000-000000000001", "/dev/sda1", "GPT partition UUID");
    res("PARTLABEL=\"efi system\"", "/dev/sda1", "partition label with a space, quoted");
    res("/dev/vda1", "/dev/sda1", "virtio name of disk a");
    res("/dev/hdb1", "/dev/sdb1", "IDE name of disk b");
    res("/dev/xvdb1", "/dev/sdb1", "Xen name of disk b");
    res("/dev/sda", "/dev/sda", "a whole disk");
    res("/dev/vdc1", NULL, "a third disk that was not given");
    res("/dev/sda9", NULL, "a partition that does not exist");
    res("/dev/mapper/my--vg-root", "/dev/my-vg/root", "mapper name, doubled dash in the VG");
    res("/dev/mapper/my--vg-lv--x", "/dev/my-vg/lv-x", "mapper name, doubled dashes in both");
    res("/dev/mapper/cryptswap1", NULL, "mapper name that is no LV");
    res("/dev/my-vg/root", "/dev/my-vg/root", "/dev/VG/LV");
    res("/dev/disk/by-uuid/01234567-89ab-cdef-0123-456789abcdef", "/dev/sda1", "by-uuid");
    res("/dev/disk/by-label/DATA", "/dev/sdb1", "by-label");
    res("/dev/disk/by-partuuid/AAAAAAAA-0000-0000-0000-000000000001", "/dev/sda1", "by-partuuid");
    res("/dev/disk/by-id/dm-uuid-LVM-abcdef0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789",
        "/dev/my-vg/lv-x", "by-id dm-uuid-LVM-<VG uuid><LV uuid>");
    res("/dev/disk/by-id/dm-uuid-LVM-abcdef0123456789abcdef0123456789ABCDEF0123456789abcdef012345678",
        NULL, "by-id dm-uuid-LVM- with a short LV uuid");
    res("/dev/disk/by-id/ata-QEMU_HARDDISK-part1", NULL, "by-id -partN with two disks: ambiguous");
    res("tmpfs", NULL, "pseudo filesystem");
    res("/dev/root", "/dev/root", "/dev/root means the root itself");

    s->ndisks = 1;
    res("/dev/disk/by-id/ata-QEMU_HARDDISK-part1", "/dev/sda1", "by-id -partN with one disk");
    s->ndisks = 2;

    gk_guest_free(g);
    return done_testing();
}
