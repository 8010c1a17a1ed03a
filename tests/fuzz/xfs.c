/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: an XFS filesystem given as its non-zero sectors, since
 * mkfs.xfs makes nothing smaller than 300 MiB while the fuzzer's inputs are
 * at most 128 KiB (seeds-xfs.sh extracts them from real images):
 *   u64 LE  device size in bytes (at most 1 GiB)
 *   then records: u32 LE first sector, u16 LE count, count * 512 bytes
 * Everything else reads as zeros.  Open with the xfs driver, walk a bounded
 * part of the tree (fs-walk.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk-int.h"
#include "fs-int.h"
#include "fs-walk.h"

struct rec { uint64_t off, len; const uint8_t *p; };
struct sparse { struct rec r[512]; int n; };

static int sparse_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    struct sparse *s = d->priv;
    memset(buf, 0, n);
    for (int i = 0; i < s->n; i++) {
        const struct rec *r = &s->r[i];
        uint64_t a = off > r->off ? off : r->off;
        uint64_t b = off + n < r->off + r->len ? off + n : r->off + r->len;
        if (a < b)
            memcpy((uint8_t *)buf + (a - off), r->p + (a - r->off), b - a);
    }
    return 0;
}

static const struct gk_dev_ops sparse_ops = {.name = "sparse", .pread = sparse_pread};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    static struct sparse s;
    s.n = 0;
    uint64_t devsize = gk_le64(data);
    if (devsize > (1ull << 30))
        devsize = 1ull << 30;
    size_t pos = 8;
    while (pos + 6 <= size && s.n < 512) {
        uint64_t sect = gk_le32(data + pos), cnt = gk_le16(data + pos + 4);
        pos += 6;
        if (cnt * 512 > size - pos)
            cnt = (size - pos) / 512;
        s.r[s.n++] = (struct rec){sect * 512, cnt * 512, data + pos};
        pos += cnt * 512;
    }
    gk_dev *d = gk_dev_new(&sparse_ops, "fuzz.img", devsize, &s);
    gk_fs_open_args a = {.fstype = "xfs"};
    gk_fs *fs = gk_fs_open_with(d, &a);
    if (fs) {
        fuzz_fs_walk(fs, "..");
        gk_fs_close(fs);
    }
    gk_dev_unref(d);
    return 0;
}
