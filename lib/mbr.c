/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* DOS (MBR) partition tables: four primary entries, and logical
 * partitions in a chain of extended boot records (EBRs) inside an extended
 * partition.  Numbering and sizes follow the Linux kernel (block/partitions/
 * msdos.c), since that is what libguestfs sees: logical partitions are
 * numbered from 5 in chain order, the extended partition itself is a device
 * of at most 1 KiB (one sector on 4K disks). */
#include <stdlib.h>
#include <string.h>

#include "blk-int.h"

#define MAX_LOGICAL 128   /* partitions 5..132; the kernel stops at 256 minors */
#define MAX_EBRS 1024     /* chain links followed, counting empty EBRs */

static int is_extended(int t)
{
    return t == 0x05 || t == 0x0f || t == 0x85;
}

struct ent {
    int type;
    uint64_t start, size; /* sectors */
};

static void get_ent(const uint8_t *sec, int i, struct ent *e)
{
    const uint8_t *p = sec + 446 + 16 * i;
    e->type = p[4];
    e->start = gk_le32(p + 8);
    e->size = gk_le32(p + 12);
}

/* A sector with 0x55AA is also what a FAT boot sector looks like: the
 * boot indicators tell them apart (blkid and the kernel do the same). */
static int looks_like_table(const uint8_t *sec)
{
    for (int i = 0; i < 4; i++) {
        uint8_t b = sec[446 + 16 * i];
        if (b != 0 && b != 0x80)
            return 0;
    }
    if (memcmp(sec + 0x36, "FAT", 3) == 0 || memcmp(sec + 0x52, "FAT32", 5) == 0)
        return 0;
    /* an NTFS or BitLocker boot sector on the whole disk (blkid's dos
     * prober gives way to NTFS too) */
    if (memcmp(sec + 3, "NTFS    ", 8) == 0 || memcmp(sec + 3, "-FVE-FS-", 8) == 0)
        return 0;
    return 1;
}

/* Add one partition after checking it against the disk; returns the entry
 * or NULL if it was skipped. */
static gk_devent *add(gk_devset *s, int di, gk_dev *disk, const char *dname, int num,
                      int type, uint64_t start_lba, uint64_t nsect, uint32_t sig)
{
    uint64_t ss = disk->sector_size;
    uint64_t start = start_lba * ss, size = nsect * ss;
    if (start >= disk->size) {
        gk_warn("%s%d: partition starts past the end of the disk (sector %llu); ignored",
                dname, num, (unsigned long long)start_lba);
        return NULL;
    }
    uint64_t devsize = size;
    if (size > disk->size - start) {
        gk_warn("%s%d: partition extends past the end of the disk; truncated", dname, num);
        devsize = disk->size - start;
    }
    if (is_extended(type)) {
        uint64_t n = ss > 1024 ? ss : 1024;
        if (devsize > n)
            devsize = n;
    }
    gk_devent *e = gk_part_add(s, di, num, start, size, devsize);
    e->mbr_type = type;
    if (sig)
        e->partuuid = gk_asprintf("%08x-%02x", sig, (unsigned)num);
    return e;
}

/* Follow the EBR chain of the extended partition [ext, ext+extsize)
 * (sectors); *next is the next logical partition number. */
static void scan_logical(gk_devset *s, int di, gk_dev *disk, const char *dname,
                         uint64_t ext, uint64_t extsize, uint32_t sig, int *next)
{
    uint64_t ss = disk->sector_size;
    uint64_t this = ext;
    uint64_t *seen = gk_malloc(MAX_EBRS * sizeof *seen);
    int nseen = 0;
    uint8_t *sec = gk_malloc(ss);

    for (;;) {
        for (int k = 0; k < nseen; k++)
            if (seen[k] == this) {
                gk_warn("%s: loop in the chain of logical partitions at sector %llu; stopped",
                        disk->name, (unsigned long long)this);
                goto out;
            }
        if (nseen == MAX_EBRS) {
            gk_warn("%s: more than %d extended boot records; stopped", disk->name, MAX_EBRS);
            goto out;
        }
        seen[nseen++] = this;
        if (this > UINT64_MAX / ss || !gk_range_ok(this * ss, ss, disk->size)) {
            gk_warn("%s: extended boot record at sector %llu is past the end of the disk; stopped",
                    disk->name, (unsigned long long)this);
            goto out;
        }
        if (gk_pread(disk, sec, ss, this * ss) < 0) {
            gk_warn("%s", gk_errmsg());
            goto out;
        }
        if (sec[510] != 0x55 || sec[511] != 0xaa)
            goto out; /* end of chain, as the kernel sees it */

        /* data partitions: relative to this EBR */
        for (int i = 0; i < 4; i++) {
            struct ent e;
            get_ent(sec, i, &e);
            if (e.size == 0 || is_extended(e.type))
                continue;
            uint64_t st = this + e.start;
            if (st < ext || st + e.size > ext + extsize) {
                gk_warn("%s: logical partition at sector %llu (%llu sectors) is outside the "
                        "extended partition; ignored", disk->name, (unsigned long long)st,
                        (unsigned long long)e.size);
                continue;
            }
            if (*next >= 5 + MAX_LOGICAL) {
                gk_warn("%s: more than %d logical partitions; the rest are ignored", disk->name,
                        MAX_LOGICAL);
                goto out;
            }
            if (add(s, di, disk, dname, *next, e.type, st, e.size, sig))
                (*next)++;
        }
        /* the link to the next EBR: relative to the extended partition */
        int link = -1;
        for (int i = 0; i < 4 && link < 0; i++) {
            struct ent e;
            get_ent(sec, i, &e);
            if (e.size != 0 && is_extended(e.type))
                link = i;
        }
        if (link < 0)
            goto out;
        struct ent e;
        get_ent(sec, link, &e);
        if (e.start >= extsize) { /* start 0 loops back: the seen list catches it */
            gk_warn("%s: link to the next extended boot record points outside the extended "
                    "partition; stopped", disk->name);
            goto out;
        }
        this = ext + e.start;
    }
out:
    free(sec);
    free(seen);
}

int gk_mbr_scan(gk_devset *s, int di, const uint8_t *sec0)
{
    if (!looks_like_table(sec0))
        return 1;
    gk_devent *de = gk_devset_disk(s, di);
    gk_dev *disk = de->dev;
    char *dname = gk_strdup(de->name); /* de moves when entries are appended */
    uint32_t sig = gk_le32(sec0 + 440);
    int next = 5;
    for (int i = 0; i < 4; i++) {
        struct ent e;
        get_ent(sec0, i, &e);
        if (e.size == 0)
            continue;
        gk_devent *pe = add(s, di, disk, dname, i + 1, e.type, e.start, e.size, sig);
        if (pe && is_extended(e.type))
            scan_logical(s, di, disk, dname, e.start, e.size, sig, &next);
    }
    free(dname);
    return 0;
}
