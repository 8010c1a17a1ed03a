/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GUID partition tables (UEFI spec, chapter 5).  The primary header sits at
 * LBA 1, the backup at the last LBA; both carry a CRC32 of themselves and of
 * the partition entry array.  A damaged primary falls back to the backup
 * with a warning.  Disks with 4096-byte sectors are recognised by finding
 * the header at byte 4096 instead of 512.  Partition numbers are entry
 * indexes + 1, as the kernel numbers them. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "blk-int.h"

#define MAX_TABLE (1024 * 1024) /* bytes of entries we agree to read      */
#define MAX_PARTS 255           /* the kernel's limit (256 minors - disk) */

struct hdr {
    uint64_t my_lba, alt_lba, first_usable, last_usable, entries_lba;
    uint32_t nentries, entry_size, entries_crc;
    uint8_t disk_guid[16];
};

static const struct {
    const char *guid, *name;
} type_names[] = {
    {"C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "EFI System"},
    {"21686148-6449-6E6F-744E-656564454649", "BIOS boot"},
    {"024DEE41-33E7-11D3-9D69-0008C781F39F", "MBR partition scheme"},
    {"0FC63DAF-8483-4772-8E79-3D69D8477DE4", "Linux filesystem"},
    {"0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", "Linux swap"},
    {"E6D6D379-F507-44C2-A23C-238F2A3DF928", "Linux LVM"},
    {"A19D880F-05FC-4D3B-A006-743F0F84911E", "Linux RAID"},
    {"933AC7E1-2EB4-4F13-B844-0E14E2AEF915", "Linux /home"},
    {"3B8F8425-20E0-4F3B-907F-1A25A76F98E8", "Linux /srv"},
    {"BC13C2FF-59E6-4262-A352-B275FD6F7172", "Linux extended boot"},
    {"CA7D7CCB-63ED-4C53-861C-1742536059CC", "Linux LUKS"},
    {"8DA63339-0007-60C0-C436-083AC8230908", "Linux reserved"},
    {"44479540-F297-41B2-9AF7-D131D5F0458A", "Linux root (x86)"},
    {"4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "Linux root (x86-64)"},
    {"B921B045-1DF0-41C3-AF44-4C6F280D3FAE", "Linux root (ARM-64)"},
    {"69DAD710-2CE4-4E3C-B16C-21A1D49ABED3", "Linux root (ARM)"},
    {"8484680C-9521-48C6-9C11-B0720656F69E", "Linux /usr (x86-64)"},
    {"B0E01050-EE5F-4390-949A-9101B17104E9", "Linux /usr (ARM-64)"},
    {"4D21B016-B534-45C2-A9FB-5C16E091FD2D", "Linux /var"},
    {"7EC6F557-3BC5-4ACA-B293-16EF5DF639D1", "Linux /var/tmp"},
    {"EBD0A0A2-B9E5-4433-87C0-68B6B72699C7", "Microsoft basic data"},
    {"E3C9E316-0B5C-4DB8-817D-F92DF00215AE", "Microsoft reserved"},
    {"DE94BBA4-06D1-4D40-A16A-BFD50179D6AC", "Windows recovery environment"},
    {"5808C8AA-7E8F-42E0-85D2-E1E90434CFB3", "Windows LDM metadata"},
    {"AF9B60A0-1431-4F62-BC68-3311714A69AD", "Windows LDM data"},
    {"48465300-0000-11AA-AA11-00306543ECAC", "Apple HFS/HFS+"},
    {"7C3457EF-0000-11AA-AA11-00306543ECAC", "Apple APFS"},
    {"516E7CB4-6ECF-11D6-8FF8-00022D09712B", "FreeBSD data"},
    {"83BD6B9D-7F41-11DC-BE0B-001560B84F0F", "FreeBSD boot"},
    {"6A898CC3-1DD2-11B2-99A6-080020736631", "Solaris /usr & Apple ZFS"},
};

const char *gk_gpt_type_name(const char *guid)
{
    for (size_t i = 0; i < sizeof type_names / sizeof *type_names; i++)
        if (strcasecmp(type_names[i].guid, guid) == 0)
            return type_names[i].name;
    return NULL;
}

/* GUIDs are stored mixed-endian: the first three fields little-endian. */
static char *guid_str(const uint8_t *g, int upper)
{
    return gk_asprintf(upper ? "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X"
                             : "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                       gk_le32(g), gk_le16(g + 4), gk_le16(g + 6), g[8], g[9], g[10], g[11],
                       g[12], g[13], g[14], g[15]);
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* Partition names: up to 36 UTF-16LE code units, NUL-terminated if shorter. */
static char *utf16le_to_utf8(const uint8_t *p, size_t units)
{
    char *out = gk_malloc(units * 3 + 1), *o = out;
    for (size_t i = 0; i < units; i++) {
        uint32_t c = gk_le16(p + 2 * i);
        if (c == 0)
            break;
        if (c >= 0xd800 && c < 0xdc00 && i + 1 < units) {
            uint32_t lo = gk_le16(p + 2 * i + 2);
            if (lo >= 0xdc00 && lo < 0xe000) {
                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                i++;
            } else {
                c = 0xfffd;
            }
        } else if (c >= 0xd800 && c < 0xe000) {
            c = 0xfffd; /* lone surrogate */
        }
        if (c < 0x80) {
            *o++ = (char)c;
        } else if (c < 0x800) {
            *o++ = (char)(0xc0 | c >> 6);
            *o++ = (char)(0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            *o++ = (char)(0xe0 | c >> 12);
            *o++ = (char)(0x80 | (c >> 6 & 0x3f));
            *o++ = (char)(0x80 | (c & 0x3f));
        } else {
            *o++ = (char)(0xf0 | c >> 18);
            *o++ = (char)(0x80 | (c >> 12 & 0x3f));
            *o++ = (char)(0x80 | (c >> 6 & 0x3f));
            *o++ = (char)(0x80 | (c & 0x3f));
        }
    }
    *o = 0;
    return out;
}

/* Read and check the header at LBA lba (sector size ss) and its entry
 * array.  Returns 0 with *entries malloc'd, or -1 with the reason in
 * gk_error ("bad header CRC", ...). */
static int read_gpt(gk_dev *disk, uint64_t ss, uint64_t lba, struct hdr *h, uint8_t **entries)
{
    uint64_t nlba = disk->size / ss;
    uint8_t *sec = gk_malloc(ss);
    *entries = NULL;
    if (lba >= nlba || gk_pread(disk, sec, ss, lba * ss) < 0) {
        gk_error("cannot read the header at LBA %llu", (unsigned long long)lba);
        goto bad;
    }
    if (memcmp(sec, "EFI PART", 8) != 0) {
        gk_error("no GPT signature at LBA %llu", (unsigned long long)lba);
        goto bad;
    }
    uint32_t hsize = gk_le32(sec + 12);
    if (hsize < 92 || hsize > ss) {
        gk_error("bad header size %u", hsize);
        goto bad;
    }
    uint32_t crc = gk_le32(sec + 16);
    memset(sec + 16, 0, 4);
    if (gk_crc32(sec, hsize) != crc) {
        gk_error("bad header CRC");
        goto bad;
    }
    h->my_lba = gk_le64(sec + 24);
    h->alt_lba = gk_le64(sec + 32);
    h->first_usable = gk_le64(sec + 40);
    h->last_usable = gk_le64(sec + 48);
    memcpy(h->disk_guid, sec + 56, 16);
    h->entries_lba = gk_le64(sec + 72);
    h->nentries = gk_le32(sec + 80);
    h->entry_size = gk_le32(sec + 84);
    h->entries_crc = gk_le32(sec + 88);
    if (h->my_lba != lba) {
        gk_error("header at LBA %llu says it is at LBA %llu", (unsigned long long)lba,
                 (unsigned long long)h->my_lba);
        goto bad;
    }
    if (h->first_usable > h->last_usable || h->last_usable >= nlba) {
        gk_error("usable LBAs %llu-%llu are outside the disk (%llu sectors)",
                 (unsigned long long)h->first_usable, (unsigned long long)h->last_usable,
                 (unsigned long long)nlba);
        goto bad;
    }
    if (h->entry_size < 128 || h->entry_size % 128 != 0 || h->entry_size > 4096) {
        gk_error("bad partition entry size %u", h->entry_size);
        goto bad;
    }
    uint64_t tsize = (uint64_t)h->nentries * h->entry_size;
    if (tsize > MAX_TABLE) {
        gk_error("partition entry array too large (%u entries of %u bytes)", h->nentries,
                 h->entry_size);
        goto bad;
    }
    if (h->entries_lba >= nlba || !gk_range_ok(h->entries_lba * ss, tsize, disk->size)) {
        gk_error("partition entry array at LBA %llu is outside the disk",
                 (unsigned long long)h->entries_lba);
        goto bad;
    }
    *entries = gk_malloc(tsize ? tsize : 1);
    if (gk_pread(disk, *entries, tsize, h->entries_lba * ss) < 0) {
        gk_error("cannot read the partition entry array");
        goto bad;
    }
    if (gk_crc32(*entries, tsize) != h->entries_crc) {
        gk_error("bad partition entry array CRC");
        goto bad;
    }
    free(sec);
    return 0;
bad:
    free(sec);
    free(*entries);
    *entries = NULL;
    return -1;
}

int gk_gpt_scan(gk_devset *s, int di)
{
    gk_devent *de = gk_devset_disk(s, di);
    gk_dev *disk = de->dev;
    char *dname = gk_strdup(de->name); /* de moves when entries are appended */
    struct hdr h;
    uint8_t *ents = NULL;
    uint64_t ss = 0;
    char sig[8];
    int ret = -1;

    /* Which sector size: where the primary signature is. */
    if (disk->size >= 1024 && gk_pread(disk, sig, 8, 512) == 0 && memcmp(sig, "EFI PART", 8) == 0)
        ss = 512;
    else if (disk->size >= 8192 && gk_pread(disk, sig, 8, 4096) == 0 &&
             memcmp(sig, "EFI PART", 8) == 0)
        ss = 4096;

    char *why = NULL;
    if (ss && read_gpt(disk, ss, 1, &h, &ents) == 0)
        goto found;
    why = gk_strdup(ss ? gk_errmsg() : "no GPT signature at LBA 1");
    /* The backup header at the last LBA; with no primary signature to say
     * which sector size, try both. */
    for (uint64_t try = 512; try <= 4096; try *= 8) {
        if (ss && try != ss)
            continue;
        if (disk->size / try < 3)
            continue;
        if (read_gpt(disk, try, disk->size / try - 1, &h, &ents) == 0) {
            gk_warn("%s: GPT primary header is damaged (%s); using the backup header", disk->name, why);
            ss = try;
            goto found;
        }
    }
    gk_error("%s: GPT: %s, and no valid backup header", disk->name, why);
    goto out;

found:
    disk->sector_size = (unsigned)ss;
    uint64_t nlba = disk->size / ss;
    for (uint32_t i = 0; i < h.nentries; i++) {
        const uint8_t *p = ents + (size_t)i * h.entry_size;
        if (all_zero(p, 16))
            continue;
        if (i >= MAX_PARTS) {
            gk_warn("%s: GPT: partitions after number %d are ignored", disk->name, MAX_PARTS);
            break;
        }
        uint64_t first = gk_le64(p + 32), last = gk_le64(p + 40);
        if (first > last || last >= nlba) {
            gk_warn("%s%u: GPT partition %llu-%llu is %s; ignored", dname, i + 1,
                    (unsigned long long)first, (unsigned long long)last,
                    first > last ? "inverted" : "past the end of the disk");
            continue;
        }
        uint64_t start = first * ss, size = (last - first + 1) * ss;
        gk_devent *e = gk_part_add(s, di, (int)i + 1, start, size, size);
        e->part_type_guid = guid_str(p, 1);
        e->partuuid = guid_str(p + 16, 0);
        e->gpt_attrs = gk_le64(p + 48);
        e->partlabel = utf16le_to_utf8(p + 56, 36);
        if (!*e->partlabel) {
            free(e->partlabel);
            e->partlabel = NULL;
        }
    }
    ret = 0;
out:
    free(why);
    free(ents);
    free(dname);
    return ret;
}
