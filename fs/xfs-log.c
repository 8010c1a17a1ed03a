/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* XFS: does the internal log need recovery?
 *
 * The log is a ring of records; every 512-byte log block carries the
 * cycle number of the pass that wrote it (a record header holds it after
 * its magic, data blocks hold it in their first word).  The head is where
 * the cycle drops; the log is clean when the last record before the head
 * is a lone unmount record.  We look, as xfs_db and the kernel's mount do,
 * but never replay: fs/xfs.c warns and reads what is on disk.
 */
#include <errno.h>
#include <string.h>

#include "xfs-int.h"

#define LOG_MAGIC 0xfeedbabeu
#define LOG_UNMOUNT_TRANS 0x20
#define LOG_MAX_RECORD (256u << 10)
#define LOG_HEADER_CYCLE_SIZE 32768u

struct lg {
    struct xfs *x;
    uint64_t start;       /* byte offset of the log */
    uint64_t nbb;         /* 512-byte blocks */
    uint8_t b[512];
};

static int bb_read(struct lg *l, uint64_t bb)
{
    return gk_pread(l->x->dev, l->b, 512, l->start + (bb % l->nbb) * 512) < 0 ? -1 : 0;
}

static int bb_cycle(struct lg *l, uint64_t bb, uint32_t *cycle)
{
    if (bb_read(l, bb) < 0)
        return -1;
    *cycle = gk_be32(l->b) == LOG_MAGIC ? gk_be32(l->b + 4) : gk_be32(l->b);
    return 0;
}

int xfs_log_clean(struct xfs *x)
{
    struct lg l = {.x = x, .nbb = (uint64_t)x->logblocks << (x->blocklog - 9)};
    if (xfs_fsb_byte(x, x->logstart, x->logblocks, &l.start) < 0)
        return -1;
    uint32_t first, last, c;
    if (bb_cycle(&l, 0, &first) < 0 || bb_cycle(&l, l.nbb - 1, &last) < 0)
        return -1;
    if (first == 0)
        return 1;                 /* never written: nothing to recover */
    /* the head: the first block of the lower cycle (binary search on
     * the single drop); the whole log in one cycle puts it at the end */
    uint64_t head = l.nbb;
    if (first != last) {
        uint64_t lo = 0, hi = l.nbb - 1;   /* cycle(lo) == first, cycle(hi) != first */
        while (hi - lo > 1) {
            uint64_t mid = lo + (hi - lo) / 2;
            if (bb_cycle(&l, mid, &c) < 0)
                return -1;
            if (c == first)
                lo = mid;
            else
                hi = mid;
        }
        head = hi;
    }
    /* the last record header before the head */
    uint64_t limit = LOG_MAX_RECORD / 512 * 2 + 64, rh = 0;
    int found = 0;
    for (uint64_t k = 1; k <= limit && k <= l.nbb; k++) {
        uint64_t bb = (head + l.nbb - k) % l.nbb;
        if (bb_read(&l, bb) < 0)
            return -1;
        if (gk_be32(l.b) == LOG_MAGIC) {
            rh = bb;
            found = 1;
            break;
        }
    }
    if (!found) {
        gk_error("no log record found before the head");
        return -1;
    }
    uint32_t hlen = gk_be32(l.b + 12), nops = gk_be32(l.b + 40);
    uint32_t ver = gk_be32(l.b + 8), hsize = gk_be32(l.b + 320);
    uint64_t hblks = 1;
    if ((ver & 2) && hsize > LOG_HEADER_CYCLE_SIZE)
        hblks = (hsize + LOG_HEADER_CYCLE_SIZE - 1) / LOG_HEADER_CYCLE_SIZE;
    if (hlen > LOG_MAX_RECORD)
        return 0;
    uint64_t after = (rh + hblks + (hlen + 511) / 512) % l.nbb;
    if (after != head % l.nbb || nops != 1)
        return 0;
    /* the one operation: its header's flags say unmount */
    if (bb_read(&l, rh + hblks) < 0)
        return -1;
    return (l.b[9] & LOG_UNMOUNT_TRANS) ? 1 : 0;
}
