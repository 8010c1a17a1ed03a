/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Device set unit tests: disk naming, device lookup by every name a guest
 * or a user may use, MBR/GPT parsing of tables built in memory (including
 * hostile ones).
 *
 * With arguments, "unit-devices --dump IMAGE..." prints one line per device
 * for tests/20-parts.t to compare against sfdisk --json, sgdisk and blkid:
 *   name|kind|start|size|devsize|mbr|typeguid|partuuid|partlabel|attrs|sector|TYPE|UUID|LABEL|VERSION|USAGE
 */
#include <stdlib.h>
#include <string.h>

#include "blk-int.h"
#include "tap.h"

/* ---- a disk in memory ---- */

struct mem {
    uint8_t *buf;
};

static int mem_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    struct mem *m = d->priv;
    memcpy(buf, m->buf + off, n);
    return 0;
}

static void mem_close(gk_dev *d)
{
    struct mem *m = d->priv;
    free(m->buf);
    free(m);
}

static const struct gk_dev_ops mem_ops = {.name = "mem", .pread = mem_pread, .close = mem_close};

static gk_dev *mem_disk(uint8_t *buf, uint64_t size)
{
    struct mem *m = gk_malloc(sizeof *m);
    m->buf = buf;
    return gk_dev_new(&mem_ops, "mem.img", size, m);
}


static void mbr_ent(uint8_t *sec, int i, int type, uint32_t start, uint32_t size)
{
    uint8_t *p = sec + 446 + 16 * i;
    p[4] = (uint8_t)type;
    gk_put_le32(p + 8, start);
    gk_put_le32(p + 12, size);
    sec[510] = 0x55;
    sec[511] = 0xaa;
}

static gk_devset *scan(uint8_t *buf, uint64_t size)
{
    gk_devset *s = gk_devset_new();
    gk_devset_add_disk(s, mem_disk(buf, size));
    gk_devset_scan(s);
    return s;
}

static int nparts(gk_devset *s)
{
    int n = 0;
    for (int i = 0; i < s->nents; i++)
        n += s->ents[i].kind == GK_PART;
    return n;
}

#define MiB (1024 * 1024)

static void test_naming(void)
{
    gk_devset *s = gk_devset_new();
    for (int i = 0; i < 703; i++)
        gk_devset_add_disk(s, mem_disk(gk_calloc(1, 512), 512));
    /* the kernel's sd_format_disk_name: sdz, sdaa, sdzz, sdaaa */
    is_str(s->ents[0].name, "/dev/sda", "disk 0");
    is_str(s->ents[25].name, "/dev/sdz", "disk 25");
    is_str(s->ents[26].name, "/dev/sdaa", "disk 26");
    is_str(s->ents[27].name, "/dev/sdab", "disk 27");
    is_str(s->ents[701].name, "/dev/sdzz", "disk 701");
    is_str(s->ents[702].name, "/dev/sdaaa", "disk 702");
    gk_devent *e = gk_devset_find(s, "/dev/vdab");
    ok(e && e->disk_index == 27, "/dev/vdab is disk 27");
    e = gk_devset_find(s, "/dev/xvdb");
    ok(e && e->disk_index == 1, "/dev/xvdb is disk 1");
    gk_devset_free(s);
}

static void test_find(void)
{
    uint8_t *buf = gk_calloc(1, 8 * MiB);
    mbr_ent(buf, 0, 0x83, 2048, 4096);
    mbr_ent(buf, 1, 0x83, 8192, 4096);
    gk_devset *s = scan(buf, 8 * MiB);
    gk_devent *lv = gk_devset_append(s, "/dev/my-vg/lv-1", GK_LV);
    lv->parent = gk_strdup("my-vg");
    is_int(nparts(s), 2, "two primaries");
    is_str(s->disk_parttype[0], "msdos", "msdos table");
    gk_devent *e;
    ok((e = gk_devset_find(s, "/dev/sda2")) && e->part_start == 8192 * 512ull, "/dev/sda2");
    ok((e = gk_devset_find(s, "/dev/vda1")) && e->partnum == 1, "/dev/vda1 -> sda1");
    ok((e = gk_devset_find(s, "/dev/hda2")) && e->partnum == 2, "/dev/hda2 -> sda2");
    ok((e = gk_devset_find(s, "/dev/xvda")) && e->kind == GK_DISK, "/dev/xvda -> sda");
    ok((e = gk_devset_find(s, "/dev/my-vg/lv-1")) && e->kind == GK_LV, "/dev/VG/LV");
    ok((e = gk_devset_find(s, "/dev/mapper/my--vg-lv--1")) && e->kind == GK_LV,
       "/dev/mapper/VG-LV with doubled dashes");
    ok(!gk_devset_find(s, "/dev/mapper/my-vg-lv-1"), "single dashes are not a mapper name");
    ok(!gk_devset_find(s, "/dev/sda3"), "no sda3");
    is_str(gk_errmsg(), "/dev/sda3: no such device", "error message");
    ok(!gk_devset_find(s, "/dev/sdb"), "no sdb");
    ok(!gk_devset_find(s, "/dev/sda01"), "no sda01");
    ok(!gk_devset_find(s, "sda1"), "no bare sda1");
    gk_devset_free(s);
}

/* Hostile MBRs: a loop in the EBR chain, logical partitions outside the
 * extended one, partitions past the end of the disk. */
static void test_mbr_hostile(void)
{
    uint64_t size = 8 * MiB;
    uint8_t *buf = gk_calloc(1, size);
    mbr_ent(buf, 0, 0x05, 2048, 8192);            /* extended at 1 MiB, 4 MiB */
    mbr_ent(buf, 1, 0x83, 10240, 100000);          /* past the end: truncated */
    mbr_ent(buf, 2, 0x83, 9000000, 10);            /* starts past the end */
    uint8_t *ebr1 = buf + 2048 * 512, *ebr2 = buf + 4096 * 512;
    mbr_ent(ebr1, 0, 0x83, 1, 100);                /* /dev/sda5 */
    mbr_ent(ebr1, 1, 0x05, 2048, 2048);            /* -> ebr2 */
    mbr_ent(ebr2, 0, 0x83, 1, 100000);             /* outside the extended: skipped */
    mbr_ent(ebr2, 1, 0x05, 0, 2048);               /* -> ebr1 again: a loop */
    gk_devset *s = scan(buf, size);
    ok(gk_devset_find(s, "/dev/sda1") != NULL, "extended partition listed");
    gk_devent *e = gk_devset_find(s, "/dev/sda1");
    ok(e && e->dev && e->dev->size == 1024, "extended partition device is 1 KiB like the kernel's");
    ok((e = gk_devset_find(s, "/dev/sda2")) && e->dev && e->dev->size == size - 10240 * 512ull,
       "partition past the end truncated");
    ok(!gk_devset_find(s, "/dev/sda3"), "partition starting past the end ignored");
    ok((e = gk_devset_find(s, "/dev/sda5")) && e->part_start == 2049 * 512ull, "logical 5");
    ok(!gk_devset_find(s, "/dev/sda6"), "logical outside the extended partition ignored");
    gk_devset_free(s);

    /* a chain of 300 EBRs each holding a partition stops at 128 logicals */
    size = 4 * MiB;
    buf = gk_calloc(1, size);
    mbr_ent(buf, 0, 0x0f, 1, 8000);
    for (int i = 0; i < 300; i++) {
        uint8_t *ebr = buf + (1 + 2 * i) * 512ull;
        mbr_ent(ebr, 0, 0x83, 1, 1);
        if (i < 299)
            mbr_ent(ebr, 1, 0x05, 2 * (i + 1), 2);
    }
    s = scan(buf, size);
    is_int(nparts(s), 1 + 128, "at most 128 logical partitions");
    gk_devset_free(s);

    /* a FAT boot sector is not a partition table */
    buf = gk_calloc(1, MiB);
    memcpy(buf + 0x36, "FAT16   ", 8);
    buf[446] = 0x12; /* boot code where entry 1's indicator would be */
    buf[510] = 0x55;
    buf[511] = 0xaa;
    s = scan(buf, MiB);
    is_int(nparts(s), 0, "FAT boot sector: no partitions");
    ok(s->disk_parttype[0] == NULL, "FAT boot sector: no table type");
    gk_devset_free(s);
}

/* ---- GPT built in memory ---- */

static void gpt_header(uint8_t *disk, uint64_t size, unsigned ss, uint64_t lba, uint64_t alt,
                       uint64_t entlba, uint32_t nent, uint32_t entsz)
{
    uint8_t *h = disk + lba * ss;
    uint64_t nlba = size / ss;
    memset(h, 0, ss);
    memcpy(h, "EFI PART", 8);
    gk_put_le32(h + 8, 0x10000);
    gk_put_le32(h + 12, 92);
    gk_put_le64(h + 24, lba);
    gk_put_le64(h + 32, alt);
    gk_put_le64(h + 40, 34);
    gk_put_le64(h + 48, nlba - 34);
    gk_put_le64(h + 72, entlba);
    gk_put_le32(h + 80, nent);
    gk_put_le32(h + 84, entsz);
    if (gk_range_ok(entlba * ss, (uint64_t)nent * entsz, size)) /* else a bad table anyway */
        gk_put_le32(h + 88, gk_crc32(disk + entlba * ss, (size_t)nent * entsz));
    gk_put_le32(h + 16, gk_crc32(h, 92));
}

static void gpt_entry(uint8_t *ents, int i, uint64_t first, uint64_t last, const char *name)
{
    uint8_t *p = ents + 128 * i;
    /* Linux filesystem 0FC63DAF-8483-4772-8E79-3D69D8477DE4 */
    static const uint8_t type[16] = {0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
                                     0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4};
    memcpy(p, type, 16);
    for (int k = 0; k < 16; k++)
        p[16 + k] = (uint8_t)(0xa0 + i + k);
    gk_put_le64(p + 32, first);
    gk_put_le64(p + 40, last);
    gk_put_le64(p + 48, 4);
    for (int k = 0; name[k] && k < 36; k++)
        p[56 + 2 * k] = (uint8_t)name[k];
}

static uint8_t *gpt_disk(uint64_t size, unsigned ss, int backup_too)
{
    uint8_t *d = gk_calloc(1, size);
    uint64_t nlba = size / ss;
    mbr_ent(d, 0, 0xee, 1, (uint32_t)(nlba - 1));
    uint8_t *ents = d + 2 * ss;
    gpt_entry(ents, 0, 2048 * 512 / ss, 4095 * 512 / ss, "one");
    gpt_entry(ents, 2, 4096 * 512 / ss, 8191 * 512 / ss, "three");
    /* surrogate pair U+1F600 in the name of entry 3 */
    ents[2 * 128 + 56 + 10] = 0x3d; ents[2 * 128 + 56 + 11] = 0xd8;
    ents[2 * 128 + 56 + 12] = 0x00; ents[2 * 128 + 56 + 13] = 0xde;
    uint32_t tsz = 128 * 128;
    if (backup_too) {
        uint64_t bent = nlba - 1 - tsz / ss;
        memcpy(d + bent * ss, ents, tsz);
        gpt_header(d, size, ss, nlba - 1, 1, bent, 128, 128);
    }
    gpt_header(d, size, ss, 1, nlba - 1, 2, 128, 128);
    return d;
}

static void test_gpt(void)
{
    uint64_t size = 8 * MiB;
    for (unsigned ss = 512; ss <= 4096; ss *= 8) {
        gk_devset *s = scan(gpt_disk(size, ss, 1), size);
        is_str(s->disk_parttype[0], "gpt", "%u: gpt table", ss);
        is_int(nparts(s), 2, "%u: two partitions", ss);
        is_int(s->ents[0].dev->sector_size, ss, "%u: sector size detected", ss);
        gk_devent *e = gk_devset_find(s, "/dev/sda3");
        ok(e && e->part_start == 4096 * 512ull && e->part_size == 4096 * 512ull,
           "%u: sda3 geometry", ss);
        if (e) {
            is_str(e->part_type_guid, "0FC63DAF-8483-4772-8E79-3D69D8477DE4", "%u: type GUID", ss);
            is_str(e->partuuid, "a5a4a3a2-a7a6-a9a8-aaab-acadaeafb0b1", "%u: unique GUID", ss);
            is_str(e->partlabel, "three\xf0\x9f\x98\x80", "%u: UTF-16 name with a surrogate pair", ss);
            is_int(e->gpt_attrs, 4, "%u: attributes", ss);
        }
        is_str(gk_gpt_type_name("0fc63daf-8483-4772-8e79-3d69d8477de4"), "Linux filesystem", "type name");
        gk_devset_free(s);

        /* primary damaged: backup used */
        uint8_t *d = gpt_disk(size, ss, 1);
        d[ss + 16] ^= 1;
        s = scan(d, size);
        is_int(nparts(s), 2, "%u: backup header used when the primary CRC is bad", ss);
        gk_devset_free(s);

        /* entry array damaged, no backup: no partitions */
        d = gpt_disk(size, ss, 0);
        d[2 * ss + 40] ^= 1;
        s = scan(d, size);
        is_int(nparts(s), 0, "%u: bad entry CRC, no backup: no partitions", ss);
        ok(s->disk_parttype[0] == NULL, "%u: no table type", ss);
        gk_devset_free(s);
    }

    /* huge entry count / entry size / entries outside the disk */
    uint8_t *d = gpt_disk(size, 512, 0);
    gpt_header(d, size, 512, 1, size / 512 - 1, 2, 0x10000000, 128);
    gk_devset *s = scan(d, size);
    is_int(nparts(s), 0, "huge entry count refused");
    gk_devset_free(s);
    d = gpt_disk(size, 512, 0);
    gpt_header(d, size, 512, 1, size / 512 - 1, 2, 128, 100);
    s = scan(d, size);
    is_int(nparts(s), 0, "entry size not a multiple of 128 refused");
    gk_devset_free(s);
    d = gpt_disk(size, 512, 0);
    gpt_header(d, size, 512, 1, size / 512 - 1, size / 512 - 2, 128, 128);
    s = scan(d, size);
    is_int(nparts(s), 0, "entry array past the end refused");
    gk_devset_free(s);

    /* partitions past the end, inverted, overlapping */
    d = gpt_disk(size, 512, 0);
    uint8_t *ents = d + 1024;
    gpt_entry(ents, 3, 100, 50, "inverted");
    gpt_entry(ents, 4, 2048, 99999999, "past");
    gpt_entry(ents, 5, 3000, 5000, "overlap");
    gpt_header(d, size, 512, 1, size / 512 - 1, 2, 128, 128);
    s = scan(d, size);
    is_int(nparts(s), 3, "inverted and past-the-end entries skipped, overlapping kept");
    ok(gk_devset_find(s, "/dev/sda6") != NULL, "overlapping partition 6 listed");
    gk_devset_free(s);

    /* 200 entries over the same sectors: all listed, warnings bounded */
    d = gpt_disk(size, 512, 0);
    ents = d + 1024;
    for (int i = 0; i < 200; i++)
        gpt_entry(ents, i, 2048, 2055, "same");
    gpt_header(d, size, 512, 1, size / 512 - 1, 2, 200, 128);
    s = scan(d, size);
    is_int(nparts(s), 200, "200 overlapping partitions listed");
    gk_devset_free(s);
}

static const char *nz(const char *s) { return s ? s : ""; }

static int dump(int argc, char **argv)
{
    gk_progname = "unit-devices";
    gk_devset *s = gk_devset_new();
    for (int i = 0; i < argc; i++) {
        gk_dev *d = gk_open_image(argv[i], NULL);
        if (!d) {
            fprintf(stderr, "%s\n", gk_errmsg());
            return 1;
        }
        gk_devset_add_disk(s, d);
    }
    gk_devset_scan(s);
    for (int i = 0; i < s->nents; i++) {
        gk_devent *e = &s->ents[i];
        printf("%s|%s|%llu|%llu|%llu|", e->name,
               e->kind == GK_DISK ? "disk" : e->kind == GK_PART ? "part" : "lv",
               (unsigned long long)e->part_start, (unsigned long long)e->part_size,
               (unsigned long long)(e->dev ? e->dev->size : 0));
        if (e->mbr_type >= 0)
            printf("%02x", e->mbr_type);
        printf("|%s|%s|%s|%016llx|%u|%s|%s|%s|%s|%s\n", nz(e->part_type_guid), nz(e->partuuid),
               nz(e->partlabel), (unsigned long long)e->gpt_attrs,
               e->dev ? e->dev->sector_size : 0, nz(gk_devent_probe(e)->type), nz(gk_devent_probe(e)->uuid),
               nz(gk_devent_probe(e)->label), nz(gk_devent_probe(e)->version), nz(gk_devent_probe(e)->usage));
    }
    gk_devset_free(s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--dump") == 0)
        return dump(argc - 2, argv + 2);
    gk_progname = "unit-devices";
    test_naming();
    test_find();
    test_mbr_hostile();
    test_gpt();
    return done_testing();
}
