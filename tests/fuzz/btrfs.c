/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the btrfs driver.  A btrfs filesystem is at least
 * ~100 MiB, mostly zeros, so the input is a sparse image: a little-endian
 * u64 device size, then records (u64 offset, u16 length, bytes); the rest
 * of the device reads as zeros (tests/fuzz/seeds-btrfs.sh makes them from
 * mkfs.btrfs images).  Open it, statvfs, list subvolumes, and walk a
 * bounded part of the tree reading everything.
 *
 * Checksums would stop almost every mutation at the first tree block, so
 * the device recomputes them on the way out: the superblock's, and that of
 * every read that looks like a tree block of this filesystem (its fsid).
 * Checksum failures themselves are tested by tests/bad-btrfs.t. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blk-int.h"
#include "btrfs-int.h"
#include "fs-walk.h"

struct run { uint64_t off; const uint8_t *data; uint16_t len; };
struct sparse { struct run *runs; size_t n; uint8_t fsid[16]; int csum_type, have_fsid; };

static int sparse_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    const struct sparse *s = d->priv;
    memset(buf, 0, n);
    for (size_t i = 0; i < s->n; i++) {    /* later records win */
        const struct run *r = &s->runs[i];
        if (r->off >= off + n || r->off + r->len <= off)
            continue;
        uint64_t a = r->off > off ? r->off : off;
        uint64_t b = r->off + r->len < off + n ? r->off + r->len : off + n;
        memcpy((uint8_t *)buf + (a - off), r->data + (a - r->off), b - a);
    }
    struct sparse *w = d->priv;
    uint8_t *p = buf;
    if (off == BT_SUPER_OFF && n == BT_SUPER_SIZE) {
        w->csum_type = gk_le16(p + SB_CSUM_TYPE) & 3;
        memcpy(w->fsid, p + ((gk_le64(p + SB_INCOMPAT) & BT_INCOMPAT_METADATA_UUID) ?
                             SB_METADATA_UUID : SB_FSID), 16);
        w->have_fsid = 1;
        bt_csum(w->csum_type, p + BT_CSUM_SIZE, n - BT_CSUM_SIZE, p);
    } else if (w->have_fsid && n >= 4096 && n <= 65536 && !(n & (n - 1)) &&
               memcmp(p + HD_FSID, w->fsid, 16) == 0) {
        bt_csum(w->csum_type, p + BT_CSUM_SIZE, n - BT_CSUM_SIZE, p);
    }
    return 0;
}

static const struct gk_dev_ops sparse_ops = {.name = "sparse", .pread = sparse_pread};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    uint64_t devsize = gk_le64(data) & ((1ull << 40) - 1);
    struct sparse s = {0};
    s.runs = malloc((size / 10 + 1) * sizeof *s.runs);
    for (size_t p = 8; p + 10 <= size;) {
        uint64_t off = gk_le64(data + p);
        uint16_t len = gk_le16(data + p + 8);
        p += 10;
        if (len > size - p)
            len = (uint16_t)(size - p);
        if (off < devsize && len)
            s.runs[s.n++] = (struct run){off, data + p, len};
        p += len;
    }
    gk_dev *d = gk_dev_new(&sparse_ops, "fuzz.img", devsize, &s);
    gk_fs_open_args a = {.fstype = "btrfs"};
    gk_fs *fs = gk_fs_open_with(d, &a);
    if (fs) {
        gk_subvol *sub;
        size_t nsub;
        if (gk_fs_subvolumes(fs, &sub, &nsub) == 0)
            gk_subvols_free(sub, nsub);
        fuzz_fs_walk(fs, "hello.txt");
        gk_fs_close(fs);
    }
    gk_dev_unref(d);
    free(s.runs);
    return 0;
}
