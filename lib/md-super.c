/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Linux md superblocks, versions 0.90 and 1.0/1.1/1.2, parsed from
 * untrusted bytes into a gk_md_super.
 *
 * Where they are: 1.1 at the start of the member, 1.2 4 KiB in, 1.0 at
 * ((size in sectors - 16) & ~7), 0.90 in the last 64 KiB-aligned 64 KiB
 * block (size & ~64K) - 64K.  1.x is little-endian; 0.90 is in the
 * writer's byte order (little-endian here, as on x86 and arm).
 *
 * Every field the assembly uses is checked here: level, layout, chunk
 * size, device count, this member's role and data area (inside the
 * member), checksum (as the kernel verifies it before using a member).
 */
#include <stdio.h>
#include <string.h>

#include "blk-int.h"

#define MD_MAGIC 0xa92b4efcu
#define SB1_SIZE 256
#define SB1_MAX_DEVS 384          /* the most 1.x roles we read (mdadm's max_dev) */
#define SB0_SIZE 4096
#define SB0_DISKS 27

static uint32_t fold(uint64_t sum)
{
    return (uint32_t)((sum & 0xffffffffu) + (sum >> 32));
}

/* Sectors per chunk must be a power of two from 4 KiB to 64 MiB for the
 * levels that stripe; linear and raid1 take 0 too. */
static int chunk_ok(int level, uint64_t chunk)
{
    if (level == 1)
        return 1;
    if (level == -1 && chunk == 0)
        return 1;
    return chunk >= 8 && chunk <= (1u << 17) && (chunk & (chunk - 1)) == 0;
}

static int level_ok(int32_t level)
{
    return level == -1 || level == 0 || level == 1 || level == 4 || level == 5 ||
           level == 6 || level == 10;
}

/* The geometry every level needs: device count, layout. */
static int check_geometry(gk_md_super *sb)
{
    if (!level_ok(sb->level)) {
        gk_error("md: unsupported RAID level %d", sb->level);
        return -1;
    }
    if (sb->raid_disks < 1 || sb->raid_disks > GK_MD_MAX_DEVS) {
        gk_error("md: bad number of devices %u", sb->raid_disks);
        return -1;
    }
    if (!chunk_ok(sb->level, sb->chunk)) {
        gk_error("md: bad chunk size %llu sectors", (unsigned long long)sb->chunk);
        return -1;
    }
    switch (sb->level) {
    case 4:
    case 5:
    case 6:
        if (sb->raid_disks < (sb->level == 6 ? 4u : 2u)) {
            gk_error("md: raid%d with %u devices", sb->level, sb->raid_disks);
            return -1;
        }
        if (sb->level != 4 && sb->layout > 5) {
            gk_error("md: unsupported raid%d layout %u", sb->level, sb->layout);
            return -1;
        }
        break;
    case 10: {
        unsigned near = sb->layout & 0xff, far = (sb->layout >> 8) & 0xff;
        if (near < 1 || far < 1 || (sb->layout >> 17) || near * far > sb->raid_disks) {
            gk_error("md: unsupported raid10 layout 0x%x", sb->layout);
            return -1;
        }
        break;
    }
    case 0:
        if (sb->layout > 2) {
            gk_error("md: unsupported raid0 layout %u", sb->layout);
            return -1;
        }
        break;
    }
    return 0;
}

static int parse_sb1(const uint8_t *b, size_t len, uint64_t devsecs, uint64_t at,
                     int check_csum, gk_md_super *sb)
{
    if (len < SB1_SIZE || gk_le32(b) != MD_MAGIC || gk_le32(b + 4) != 1)
        return 1;
    uint32_t max_dev = gk_le32(b + 220);
    if (max_dev > SB1_MAX_DEVS || SB1_SIZE + 2 * (size_t)max_dev > len) {
        gk_error("md: bad superblock size (max_dev %u)", max_dev);
        return -1;
    }
    if (check_csum) {
        uint64_t sum = 0;
        size_t n = SB1_SIZE + 2 * (size_t)max_dev;
        for (size_t i = 0; i + 4 <= n; i += 4)
            sum += i == 216 ? 0 : gk_le32(b + i);
        if (n % 4)
            sum += gk_le16(b + n - 2);
        if (fold(sum) != gk_le32(b + 216)) {
            gk_error("md: superblock checksum mismatch");
            return -1;
        }
    }
    uint32_t features = gk_le32(b + 8);
    /* bitmaps, recovery offsets, bad-block logs, replacements, journals,
     * PPL and the raid0 layout flag leave the data where it is; a reshape
     * in progress (4, 32, 64) does not */
    if (features & (4u | 32u | 64u)) {
        gk_error("md: a reshape is in progress (features 0x%x): not supported", features);
        return -1;
    }
    memset(sb, 0, sizeof *sb);
    sb->major = 1;
    memcpy(sb->uuid, b + 16, 16);
    memcpy(sb->name, b + 32, 32);
    sb->name[32] = 0;
    sb->level = (int32_t)gk_le32(b + 72);
    sb->layout = gk_le32(b + 76);
    sb->comp_size = gk_le64(b + 80);
    sb->chunk = gk_le32(b + 88);
    sb->raid_disks = gk_le32(b + 92);
    sb->data_offset = gk_le64(b + 128);
    sb->data_size = gk_le64(b + 136);
    uint64_t super_offset = gk_le64(b + 144);
    uint32_t dev_number = gk_le32(b + 160);
    sb->events = gk_le64(b + 200);
    sb->ctime = gk_le64(b + 64) & 0xffffffffffull;
    if (check_geometry(sb) < 0)
        return -1;
    if (super_offset != at) {
        gk_error("md: superblock says it is at sector %llu, found at %llu",
                 (unsigned long long)super_offset, (unsigned long long)at);
        return -1;
    }
    if (!gk_range_ok(sb->data_offset, sb->data_size, devsecs) || sb->data_size == 0) {
        gk_error("md: data area (%llu + %llu sectors) outside the device",
                 (unsigned long long)sb->data_offset, (unsigned long long)sb->data_size);
        return -1;
    }
    /* the data must not overlap the superblock */
    if (at >= sb->data_offset && at < sb->data_offset + sb->data_size) {
        gk_error("md: data area covers the superblock");
        return -1;
    }
    sb->role = -1;
    if (dev_number < max_dev) {
        uint16_t r = gk_le16(b + SB1_SIZE + 2 * (size_t)dev_number);
        if (r < sb->raid_disks)
            sb->role = (int)r;
    }
    return 0;
}

static int parse_sb0(const uint8_t *b, size_t len, uint64_t devsecs, uint64_t at,
                     int check_csum, gk_md_super *sb)
{
    if (len < SB0_SIZE || gk_le32(b) != MD_MAGIC)
        return 1;
    if (gk_le32(b + 4) != 0 || gk_le32(b + 8) != 90) {
        gk_error("md: unknown 0.%u superblock", gk_le32(b + 8));
        return -1;
    }
    if (check_csum) {
        uint64_t sum = 0;
        for (size_t i = 0; i < SB0_SIZE; i += 4)
            sum += i == 38 * 4 ? 0 : gk_le32(b + i);
        if (fold(sum) != gk_le32(b + 38 * 4)) {
            gk_error("md: superblock checksum mismatch");
            return -1;
        }
    }
    memset(sb, 0, sizeof *sb);
    sb->major = 0;
    /* uuid0 at word 5, uuid1-3 at words 13-15, each printed big-end first */
    const int words[4] = {5, 13, 14, 15};
    for (int i = 0; i < 4; i++) {
        gk_put_be32(sb->uuid + 4 * i, gk_le32(b + 4 * words[i]));
    }
    sb->ctime = gk_le32(b + 24);
    sb->level = (int32_t)gk_le32(b + 28);
    sb->comp_size = (uint64_t)gk_le32(b + 32) * 2;
    sb->raid_disks = gk_le32(b + 40);
    sb->md_minor = gk_le32(b + 44);
    sb->events = (uint64_t)gk_le32(b + 40 * 4) << 32 | gk_le32(b + 39 * 4);
    sb->layout = gk_le32(b + 64 * 4);
    sb->chunk = gk_le32(b + 65 * 4) / 512;
    if (sb->raid_disks > SB0_DISKS) {
        gk_error("md: bad number of devices %u", sb->raid_disks);
        return -1;
    }
    if (check_geometry(sb) < 0)
        return -1;
    /* the data runs from 0 to the superblock */
    sb->data_offset = 0;
    sb->data_size = at;
    if (at > devsecs)
        return -1;
    uint32_t raid_disk = gk_le32(b + 992 * 4 + 12), state = gk_le32(b + 992 * 4 + 16);
    sb->role = -1;
    /* active (bit 1) and in sync (bit 2), not faulty (bit 0) */
    if (raid_disk < sb->raid_disks && (state & 6) == 6 && !(state & 1))
        sb->role = (int)raid_disk;
    return 0;
}

int gk_md_super_parse(const uint8_t *buf, size_t len, uint64_t devsize, int minor,
                      int check_csum, gk_md_super *out)
{
    uint64_t devsecs = devsize / 512, at;
    int r;
    switch (minor) {
    case 0:
        at = (devsecs - 16) & ~(uint64_t)7;
        if (devsecs < 16 + 8)
            return 1;
        r = parse_sb1(buf, len, devsecs, at, check_csum, out);
        break;
    case 1:
        at = 0;
        r = parse_sb1(buf, len, devsecs, at, check_csum, out);
        break;
    case 2:
        at = 8;
        r = parse_sb1(buf, len, devsecs, at, check_csum, out);
        break;
    case 90:
        if (devsize < 131072)
            return 1;
        at = ((devsize & ~(uint64_t)65535) - 65536) / 512;
        r = parse_sb0(buf, len, devsecs, at, check_csum, out);
        break;
    default:
        return 1;
    }
    if (r == 0)
        out->minor = minor;
    return r;
}

/* Where each version's superblock sits on a device of devsize bytes. */
static int sb_location(int minor, uint64_t devsize, uint64_t *off)
{
    uint64_t devsecs = devsize / 512;
    switch (minor) {
    case 1: *off = 0; return 0;
    case 2: *off = 4096; return 0;
    case 0:
        if (devsecs < 16 + 8)
            return -1;
        *off = ((devsecs - 16) & ~(uint64_t)7) * 512;
        return 0;
    case 90:
        if (devsize < 131072)
            return -1;
        *off = (devsize & ~(uint64_t)65535) - 65536;
        return 0;
    }
    return -1;
}

int gk_md_magic_present(gk_dev *d)
{
    /* 1.1, 1.2, then 0.90 and 1.0 where libblkid's md prober looks for
     * them (only on devices over 64 KiB) */
    uint64_t offs[4] = {0, 4096, 0, 0};
    int n = 2;
    if (d->size > 65536) {
        offs[n++] = (d->size & ~(uint64_t)65535) - 65536;
        offs[n++] = (d->size & ~(uint64_t)4095) - 8192;
    }
    for (int i = 0; i < n; i++) {
        uint8_t m[4];
        if (!gk_range_ok(offs[i], sizeof m, d->size))
            continue;
        if (gk_pread(d, m, sizeof m, offs[i]) < 0)
            return 1; /* the probe reports the error */
        if (gk_le32(m) == MD_MAGIC || gk_be32(m) == MD_MAGIC)
            return 1;
    }
    return 0;
}

int gk_md_read_super(gk_dev *d, gk_md_super *out)
{
    static const int order[] = {2, 1, 0, 90};
    uint8_t buf[SB0_SIZE];
    char why[256] = "";
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        uint64_t off;
        if (sb_location(order[i], d->size, &off) < 0 || !gk_range_ok(off, 1024, d->size))
            continue;
        size_t n = d->size - off < sizeof buf ? (size_t)(d->size - off) : sizeof buf;
        if (gk_pread(d, buf, n, off) < 0)
            return -1;
        int r = gk_md_super_parse(buf, n, d->size, order[i], 1, out);
        if (r == 0)
            return 0;
        if (r < 0 && !why[0])
            snprintf(why, sizeof why, "%s", gk_errmsg());
    }
    gk_error("%s", why[0] ? why : "md: no superblock");
    return 1;
}

void gk_md_uuid_str(const uint8_t *u, int colons, char *out)
{
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (colons && i && i % 4 == 0)
            out[o++] = ':';
        o += sprintf(out + o, "%02x", u[i]);
    }
    out[o] = 0;
}
