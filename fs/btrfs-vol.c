/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Btrfs volumes: the superblock (primary, or the newest good mirror), the
 * devices of a filesystem that spans several of the VM's devices, and the
 * chunk map that turns logical addresses into (device, physical offset)
 * for every profile: single, DUP, RAID0, RAID1, RAID1C3/4, RAID10 and
 * RAID5/6 (read with all devices present; no parity reconstruction). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btrfs-int.h"

/* Superblock copies: 64 KiB, 64 MiB, 256 GiB. */
static const uint64_t super_offs[] = {65536ull, 64ull << 20, 256ull << 30};
#define NSUPERS (sizeof super_offs / sizeof super_offs[0])

/* Devices of one filesystem we look for (the kernel has no such limit;
 * a VM with more disks than this is not one we read). */
#define MAX_DEVS 256
/* Chunks: memory grows with the chunk items really read, but stops here. */
#define MAX_CHUNKS (1u << 20)

static int is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

int bt_super_check(const uint8_t *sb, uint64_t off, uint64_t devsize)
{
    if (gk_le64(sb + SB_MAGIC) != BT_MAGIC)
        return bt_fail(EINVAL, "no btrfs superblock at %llu", (unsigned long long)off);
    if (gk_le64(sb + SB_BYTENR) != off)
        return bt_fail(EINVAL, "superblock at %llu: wrong location %llu", (unsigned long long)off,
                       (unsigned long long)gk_le64(sb + SB_BYTENR));
    int ct = gk_le16(sb + SB_CSUM_TYPE);
    if (!bt_csum_supported(ct))
        return bt_fail(EINVAL, "superblock at %llu: unknown checksum type %d",
                       (unsigned long long)off, ct);
    uint8_t c[BT_CSUM_SIZE];
    bt_csum(ct, sb + BT_CSUM_SIZE, BT_SUPER_SIZE - BT_CSUM_SIZE, c);
    unsigned csz = ct == BT_CSUM_CRC32C ? 4 : ct == BT_CSUM_XXHASH ? 8 : 32;
    if (memcmp(c, sb + SB_CSUM, csz) != 0)
        return bt_fail(EINVAL, "superblock at %llu: %s checksum mismatch", (unsigned long long)off,
                       bt_csum_name(ct));
    uint32_t ss = gk_le32(sb + SB_SECTORSIZE), ns = gk_le32(sb + SB_NODESIZE);
    if (!is_pow2(ss) || ss < 4096 || ss > 65536)
        return bt_fail(EINVAL, "superblock: bad sector size %u", ss);
    if (!is_pow2(ns) || ns < ss || ns > 65536)
        return bt_fail(EINVAL, "superblock: bad node size %u", ns);
    if (gk_le32(sb + SB_SYS_ARRAY_SIZE) > BT_SYS_ARRAY_MAX)
        return bt_fail(EINVAL, "superblock: system chunk array too large");
    if (sb[SB_ROOT_LEVEL] >= BT_MAX_LEVEL || sb[SB_CHUNK_ROOT_LEVEL] >= BT_MAX_LEVEL ||
        sb[SB_LOG_ROOT_LEVEL] >= BT_MAX_LEVEL)
        return bt_fail(EINVAL, "superblock: bad tree level");
    uint64_t root = gk_le64(sb + SB_ROOT), chunk = gk_le64(sb + SB_CHUNK_ROOT);
    if (!root || !chunk || root % ss || chunk % ss)
        return bt_fail(EINVAL, "superblock: bad tree root address");
    if (gk_le64(sb + SB_NUM_DEVICES) == 0)
        return bt_fail(EINVAL, "superblock: no devices");
    (void)devsize;
    return 0;
}

/* Read copy i of the superblock of dev: 0, 1 if the device is too small
 * for it, or -errno. */
static int read_super(gk_dev *dev, unsigned i, uint8_t *sb)
{
    uint64_t off = super_offs[i];
    if (!gk_range_ok(off, BT_SUPER_SIZE, dev->size))
        return 1;
    if (gk_pread(dev, sb, BT_SUPER_SIZE, off) < 0)
        return -EIO;
    return bt_super_check(sb, off, dev->size);
}

static void set_geometry(btrfs *b)
{
    const uint8_t *sb = b->sb;
    b->sectorsize = gk_le32(sb + SB_SECTORSIZE);
    b->nodesize = gk_le32(sb + SB_NODESIZE);
    b->csum_type = gk_le16(sb + SB_CSUM_TYPE);
    b->csum_size = b->csum_type == BT_CSUM_CRC32C ? 4 : b->csum_type == BT_CSUM_XXHASH ? 8 : 32;
    memcpy(b->fsid, sb + SB_FSID, 16);
    b->incompat = gk_le64(sb + SB_INCOMPAT);
    b->compat_ro = gk_le64(sb + SB_COMPAT_RO);
    if (b->incompat & BT_INCOMPAT_METADATA_UUID)
        memcpy(b->meta_fsid, sb + SB_METADATA_UUID, 16);
    else
        memcpy(b->meta_fsid, b->fsid, 16);
    b->generation = gk_le64(sb + SB_GENERATION);
    b->total_bytes = gk_le64(sb + SB_TOTAL_BYTES);
    b->num_devices = gk_le64(sb + SB_NUM_DEVICES);
}

/* The primary superblock, like the kernel; if it is damaged, the mirror
 * with the highest generation (what `btrfs rescue super-recover` would
 * write back), with a warning. */
int bt_super_load(btrfs *b, gk_dev *dev)
{
    uint8_t sb[BT_SUPER_SIZE];
    int r = read_super(dev, 0, sb);
    if (r == 0) {
        memcpy(b->sb, sb, sizeof sb);
        set_geometry(b);
        return 0;
    }
    if (r > 0)
        return bt_fail(EINVAL, "device too small for btrfs");
    char why[256];
    snprintf(why, sizeof why, "%s", gk_errmsg());
    uint64_t best_gen = 0;
    int best = -1;
    for (unsigned i = 1; i < NSUPERS; i++) {
        if (read_super(dev, i, sb) != 0)
            continue;
        if (memcmp(sb + SB_FSID, b->sb + SB_FSID, 16) != 0 && best >= 0)
            continue;
        if (best < 0 || gk_le64(sb + SB_GENERATION) > best_gen) {
            best = (int)i;
            best_gen = gk_le64(sb + SB_GENERATION);
            memcpy(b->sb, sb, sizeof sb);
        }
    }
    if (best < 0)
        return bt_fail(EINVAL, "%s", why);
    gk_warn("%s: primary btrfs superblock unusable (%s): using the copy at %llu", dev->name, why,
            (unsigned long long)super_offs[best]);
    set_geometry(b);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Devices                                                             */

static int dev_index(btrfs *b, uint64_t devid)
{
    for (int i = 0; i < b->ndevs; i++)
        if (b->devs[i].devid == devid)
            return i;
    return -1;
}

static struct bt_dev *dev_add(btrfs *b, uint64_t devid)
{
    b->devs = gk_realloc(b->devs, (size_t)(b->ndevs + 1) * sizeof *b->devs);
    struct bt_dev *d = &b->devs[b->ndevs++];
    memset(d, 0, sizeof *d);
    d->devid = devid;
    return d;
}

/* The other members of this filesystem among the VM's devices: same fsid
 * in a good superblock.  If one of them has a newer superblock (a member
 * that missed writes while the others went on), its superblock is the one
 * used, like the kernel's "latest device". */
static void find_members(btrfs *b, const gk_devset *set)
{
    struct bt_dev *self = dev_add(b, gk_le64(b->sb + SB_DEV_ITEM + DI_DEVID));
    memcpy(self->uuid, b->sb + SB_DEV_ITEM + DI_UUID, 16);
    self->dev = b->dev;
    gk_dev_ref(b->dev);
    self->name = gk_strdup(b->dev->name);
    if (!set || b->num_devices <= 1)
        return;
    uint8_t *sb = gk_malloc(BT_SUPER_SIZE);
    for (int i = 0; i < set->nents && b->ndevs < MAX_DEVS; i++) {
        const gk_devent *e = &set->ents[i];
        const char *t = e->dev && e->dev != b->dev ? gk_devent_probe(e)->type : NULL;
        if (!t || strcmp(t, "btrfs") != 0)
            continue;
        if (read_super(e->dev, 0, sb) != 0 || memcmp(sb + SB_FSID, b->fsid, 16) != 0)
            continue;
        uint64_t devid = gk_le64(sb + SB_DEV_ITEM + DI_DEVID);
        if (dev_index(b, devid) >= 0) {
            gk_warn("%s: btrfs device id %llu seen twice (a copied disk?): ignored", e->name,
                    (unsigned long long)devid);
            continue;
        }
        struct bt_dev *d = dev_add(b, devid);
        memcpy(d->uuid, sb + SB_DEV_ITEM + DI_UUID, 16);
        d->dev = e->dev;
        gk_dev_ref(e->dev);
        d->name = gk_strdup(e->name);
        if (gk_le64(sb + SB_GENERATION) > b->generation) {
            gk_debug("btrfs: %s has a newer superblock (generation %llu > %llu): using it", e->name,
                     (unsigned long long)gk_le64(sb + SB_GENERATION),
                     (unsigned long long)b->generation);
            memcpy(b->sb, sb, BT_SUPER_SIZE);
            set_geometry(b);
        }
    }
    free(sb);
}

/* ------------------------------------------------------------------ */
/* Chunks                                                              */

static uint64_t stripe_size(const struct bt_chunk *c)
{
    uint64_t t = c->type & BT_BG_PROFILES;
    unsigned n = c->num_stripes;
    if (t & BT_BG_RAID0)
        return c->length / n;
    if (t & BT_BG_RAID10)
        return c->length / (n / c->sub_stripes);
    if (t & BT_BG_RAID5)
        return c->length / (n - 1);
    if (t & BT_BG_RAID6)
        return c->length / (n - 2);
    return c->length;
}

/* Parse and check one chunk item (at logical), item bytes p[0..len). */
static int chunk_parse(btrfs *b, uint64_t logical, const uint8_t *p, size_t len,
                       struct bt_chunk *c)
{
    memset(c, 0, sizeof *c);
    if (len < CH_SIZE)
        return bt_fail(EIO, "chunk %llu: item too short", (unsigned long long)logical);
    c->logical = logical;
    c->length = gk_le64(p + CH_LENGTH);
    c->stripe_len = gk_le64(p + CH_STRIPE_LEN);
    c->type = gk_le64(p + CH_TYPE);
    c->num_stripes = gk_le16(p + CH_NUM_STRIPES);
    c->sub_stripes = gk_le16(p + CH_SUB_STRIPES);
    unsigned n = c->num_stripes;
    const char *bad = NULL;
    uint64_t prof = c->type & BT_BG_PROFILES;
    if (n == 0 || len != CH_SIZE + (size_t)n * ST_SIZE)
        bad = "bad number of stripes";
    else if (!c->length || c->length % b->sectorsize || logical % b->sectorsize ||
             !gk_range_ok(logical, c->length, UINT64_MAX))
        bad = "bad length";
    else if (!is_pow2(c->stripe_len) || c->stripe_len < 4096 || c->stripe_len > BT_STRIPE_LEN_MAX)
        bad = "bad stripe length";
    else if (prof & (prof - 1))
        bad = "several profiles";
    else if (!(c->type & (BT_BG_DATA | BT_BG_SYSTEM | BT_BG_METADATA)))
        bad = "no type";
    else if ((!prof && n != 1) || ((prof & (BT_BG_DUP | BT_BG_RAID1)) && n != 2) ||
             ((prof & BT_BG_RAID1C3) && n != 3) || ((prof & BT_BG_RAID1C4) && n != 4) ||
             ((prof & BT_BG_RAID10) && (c->sub_stripes != 2 || n < 2 || n % 2)) ||
             ((prof & BT_BG_RAID5) && n < 2) || ((prof & BT_BG_RAID6) && n < 3))
        bad = "stripes do not match the profile";
    if (bad)
        return bt_fail(EIO, "chunk %llu: %s", (unsigned long long)logical, bad);
    uint64_t ssize = stripe_size(c);
    c->stripes = gk_calloc(n, sizeof *c->stripes);
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *s = p + CH_SIZE + (size_t)i * ST_SIZE;
        c->stripes[i].devid = gk_le64(s + ST_DEVID);
        c->stripes[i].offset = gk_le64(s + ST_OFFSET);
        int d = dev_index(b, c->stripes[i].devid);
        if (d >= 0 && (!b->devs[d].dev || memcmp(b->devs[d].uuid, s + ST_UUID, 16) != 0))
            d = -1;             /* another device with the same id */
        c->stripes[i].dev = d;
        if (!gk_range_ok(c->stripes[i].offset, ssize, UINT64_MAX)) {
            free(c->stripes);
            c->stripes = NULL;
            return bt_fail(EIO, "chunk %llu: stripe %u out of range", (unsigned long long)logical, i);
        }
    }
    return 0;
}

static int chunk_add(btrfs *b, struct bt_chunk *c)
{
    for (size_t i = 0; i < b->nchunks; i++)
        if (b->chunks[i].logical == c->logical) {   /* sys array + chunk tree */
            free(c->stripes);
            return 0;
        }
    if (b->nchunks >= MAX_CHUNKS) {
        free(c->stripes);
        return bt_fail(EFBIG, "more than %u chunks", MAX_CHUNKS);
    }
    b->chunks = gk_realloc(b->chunks, (b->nchunks + 1) * sizeof *b->chunks);
    /* keep sorted: chunk items arrive in key (= logical) order */
    size_t i = b->nchunks;
    while (i > 0 && b->chunks[i - 1].logical > c->logical) {
        b->chunks[i] = b->chunks[i - 1];
        i--;
    }
    b->chunks[i] = *c;
    b->nchunks++;
    if ((i > 0 && b->chunks[i - 1].logical + b->chunks[i - 1].length > c->logical) ||
        (i + 1 < b->nchunks && c->logical + c->length > b->chunks[i + 1].logical))
        return bt_fail(EIO, "chunk %llu overlaps another", (unsigned long long)c->logical);
    return 0;
}

const struct bt_chunk *bt_chunk_find(btrfs *b, uint64_t logical)
{
    size_t lo = 0, hi = b->nchunks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->chunks[mid].logical <= logical)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const struct bt_chunk *c = &b->chunks[lo - 1];
    return logical - c->logical < c->length ? c : NULL;
}

static int sys_array_load(btrfs *b)
{
    uint32_t n = gk_le32(b->sb + SB_SYS_ARRAY_SIZE);
    const uint8_t *p = b->sb + SB_SYS_ARRAY;
    uint32_t pos = 0;
    while (pos < n) {
        if (n - pos < 17 + CH_SIZE)
            return bt_fail(EIO, "system chunk array: truncated");
        bt_key k;
        bt_key_read(&k, p + pos);
        if (k.type != BT_CHUNK_ITEM)
            return bt_fail(EIO, "system chunk array: item of type %u", k.type);
        pos += 17;
        unsigned ns = gk_le16(p + pos + CH_NUM_STRIPES);
        size_t len = CH_SIZE + (size_t)ns * ST_SIZE;
        if (ns == 0 || len > n - pos)
            return bt_fail(EIO, "system chunk array: truncated chunk");
        struct bt_chunk c;
        if (chunk_parse(b, k.offset, p + pos, len, &c) < 0 || chunk_add(b, &c) < 0) {
            gk_error_prefix("system chunk array");
            return -EIO;
        }
        pos += (uint32_t)len;
    }
    if (!b->nchunks)
        return bt_fail(EIO, "system chunk array is empty");
    return 0;
}

static int chunk_tree_load(btrfs *b)
{
    bt_path p;
    bt_key k = {0, 0, 0};
    int r = bt_search(b, gk_le64(b->sb + SB_CHUNK_ROOT), b->sb[SB_CHUNK_ROOT_LEVEL], &k, &p);
    while (r > 0) {
        const uint8_t *d;
        uint32_t len;
        bt_item(&p, &k, &d, &len);
        if (k.type == BT_DEV_ITEM && k.objectid == BT_DEV_ITEMS) {
            if (len < DI_SIZE) {
                r = bt_fail(EIO, "chunk tree: short device item");
                break;
            }
            int i = dev_index(b, gk_le64(d + DI_DEVID));
            if (i >= 0 && memcmp(b->devs[i].uuid, d + DI_UUID, 16) == 0) {
                b->devs[i].total_bytes = gk_le64(d + DI_TOTAL_BYTES);
                b->devs[i].bytes_used = gk_le64(d + DI_BYTES_USED);
                b->devs[i].have_item = 1;
            } else if (i < 0 && b->ndevs < MAX_DEVS) {
                struct bt_dev *m = dev_add(b, gk_le64(d + DI_DEVID));
                memcpy(m->uuid, d + DI_UUID, 16);
                m->total_bytes = gk_le64(d + DI_TOTAL_BYTES);
                m->bytes_used = gk_le64(d + DI_BYTES_USED);
                m->have_item = 1;
            }
        } else if (k.type == BT_CHUNK_ITEM) {
            struct bt_chunk c;
            if ((r = chunk_parse(b, k.offset, d, len, &c)) < 0 || (r = chunk_add(b, &c)) < 0)
                break;
        }
        r = bt_next(b, &p);
    }
    bt_path_release(&p);
    if (r < 0) {
        gk_error_prefix("chunk tree");
        return r;
    }
    return 0;
}

int bt_volumes_open(btrfs *b, const gk_devset *set)
{
    find_members(b, set);
    int r = sys_array_load(b);
    if (r < 0)
        return r;
    if ((r = chunk_tree_load(b)) < 0)
        return r;
    /* stripes of the system array were matched before the dev items: the
     * uuids came from the superblocks, which is what the kernel trusts */
    int missing = 0;
    for (int i = 0; i < b->ndevs; i++)
        if (!b->devs[i].dev) {
            missing++;
            gk_warn("btrfs device id %llu of this filesystem is not among the disks: "
                    "reading from the remaining copies", (unsigned long long)b->devs[i].devid);
        }
    if (!missing && (uint64_t)b->ndevs < b->num_devices)
        gk_warn("btrfs: %llu device(s) of this filesystem are not among the disks",
                (unsigned long long)(b->num_devices - (uint64_t)b->ndevs));
    for (size_t i = 0; i < b->nchunks; i++) {
        struct bt_chunk *c = &b->chunks[i];
        uint64_t ss = stripe_size(c);
        for (unsigned s = 0; s < c->num_stripes; s++) {
            int d = c->stripes[s].dev;
            if (d >= 0 && !gk_range_ok(c->stripes[s].offset, ss, b->devs[d].dev->size)) {
                gk_debug("btrfs: chunk %llu: stripe %u beyond the end of %s",
                         (unsigned long long)c->logical, s, b->devs[d].name);
                c->stripes[s].dev = -1;
            }
        }
    }
    return 0;
}

void bt_volumes_close(btrfs *b)
{
    for (int i = 0; i < b->ndevs; i++) {
        if (b->devs[i].dev)
            gk_dev_unref(b->devs[i].dev);
        free(b->devs[i].name);
    }
    free(b->devs);
    b->devs = NULL;
    b->ndevs = 0;
    for (size_t i = 0; i < b->nchunks; i++)
        free(b->chunks[i].stripes);
    free(b->chunks);
    b->chunks = NULL;
    b->nchunks = 0;
}

/* ------------------------------------------------------------------ */
/* Mapping                                                             */

int bt_num_copies(btrfs *b, uint64_t logical)
{
    const struct bt_chunk *c = bt_chunk_find(b, logical);
    if (!c)
        return 1;
    uint64_t t = c->type;
    if (t & (BT_BG_DUP | BT_BG_RAID1 | BT_BG_RAID1C3 | BT_BG_RAID1C4))
        return c->num_stripes;
    if (t & BT_BG_RAID10)
        return c->sub_stripes;
    return 1;
}

/* Where copy `mirror` of logical lives: device index, physical offset and
 * how many bytes from there are contiguous. */
static int map_one(const struct bt_chunk *c, uint64_t logical, int mirror, int *dev,
                   uint64_t *phys, uint64_t *maxlen)
{
    uint64_t off = logical - c->logical, sl = c->stripe_len;
    uint64_t t = c->type & BT_BG_PROFILES;
    unsigned n = c->num_stripes, idx;
    uint64_t sn = off / sl, so = off % sl, base;
    if (t & BT_BG_RAID0) {
        if (mirror > 0)
            return -ENOENT;
        idx = (unsigned)(sn % n);
        base = (sn / n) * sl + so;
        *maxlen = sl - so;
    } else if (t & BT_BG_RAID10) {
        unsigned factor = n / c->sub_stripes;
        if (mirror >= c->sub_stripes)
            return -ENOENT;
        idx = (unsigned)(sn % factor) * c->sub_stripes + (unsigned)mirror;
        base = (sn / factor) * sl + so;
        *maxlen = sl - so;
    } else if (t & (BT_BG_RAID5 | BT_BG_RAID6)) {
        unsigned ndata = n - ((t & BT_BG_RAID6) ? 2 : 1);
        if (mirror > 0)
            return -ENOENT;
        uint64_t full = sn / ndata;
        idx = (unsigned)((full + sn % ndata) % n);
        base = full * sl + so;
        *maxlen = sl - so;
    } else {
        if ((unsigned)mirror >= n)
            return -ENOENT;
        idx = (unsigned)mirror;
        base = off;
        *maxlen = c->length - off;
    }
    if (*maxlen > c->length - off)
        *maxlen = c->length - off;
    *dev = c->stripes[idx].dev;
    *phys = c->stripes[idx].offset + base;
    if (*dev < 0)
        return bt_fail(ENODEV, "logical %llu: btrfs device id %llu is missing",
                       (unsigned long long)logical, (unsigned long long)c->stripes[idx].devid);
    return 0;
}

int bt_read_logical(btrfs *b, uint64_t logical, void *buf, size_t n, int mirror)
{
    uint8_t *p = buf;
    while (n > 0) {
        const struct bt_chunk *c = bt_chunk_find(b, logical);
        if (!c)
            return bt_fail(EIO, "logical address %llu is in no chunk", (unsigned long long)logical);
        int d;
        uint64_t phys, max;
        int r = map_one(c, logical, mirror, &d, &phys, &max);
        if (r < 0)
            return r;
        size_t k = n < max ? n : (size_t)max;
        if (gk_pread(b->devs[d].dev, p, k, phys) < 0) {
            gk_error_prefix("%s", b->devs[d].name);
            return -EIO;
        }
        p += k;
        n -= k;
        logical += k;
    }
    return 0;
}
