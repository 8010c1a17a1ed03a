/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Block status: one layer (gk_layer_status) and the walk down a backing
 * chain (gk_block_status_above), as qemu's bdrv_co_block_status() and
 * bdrv_co_common_block_status_above() decide them, so that gimg map,
 * compare and convert answer as qemu-img does.  Drivers report their own
 * layer only (blk-int.h); everything that concerns the chain is here. */
#include <errno.h>
#include <string.h>

#include "blk-int.h"

int gk_layer_status(gk_dev *d, uint64_t off, uint64_t len, gk_extent *e)
{
    memset(e, 0, sizeof *e);
    e->off = off;
    if (len > d->size - off)
        len = d->size - off;
    if (!d->ops->block_status) {
        e->len = len;
        e->flags = GK_BS_DATA;
    } else {
        int r = d->ops->block_status(d, off, len, e);
        if (r < 0)
            return r;
        if (e->len == 0 || e->len > len)
            return gk_fail(EIO, "%s: block status returned a bad length", d->name);
        e->off = off;
        e->flags &= GK_BS_DATA | GK_BS_ZERO | GK_BS_OFFSET | GK_BS_COMPRESSED | GK_BS_RAW | GK_BS_RECURSE;
    }
    if (e->flags & GK_BS_RAW) {
        /* a pass-through: the status is the host's at the mapped offset */
        gk_dev *h = e->host;
        uint64_t ho = e->host_off, n = e->len;
        if (!h || ho >= h->size) {
            e->flags = GK_BS_ZERO;
        } else {
            gk_extent he;
            if (gk_block_status_above(h, NULL, ho, n, &he) < 0)
                return -errno;
            e->len = he.len;
            e->flags = he.flags & (GK_BS_DATA | GK_BS_ZERO | GK_BS_OFFSET | GK_BS_COMPRESSED);
            e->host = he.host;
            e->host_off = he.host_off;
            e->host_file = he.host_file;
        }
    }
    if (e->flags & (GK_BS_DATA | GK_BS_ZERO)) {
        e->flags |= GK_BS_ALLOCATED;
    } else if (d->format && (!d->backing || off >= d->backing->size)) {
        /* unallocated with nothing below: zeros made up at this layer */
        e->flags |= GK_BS_ZERO;
    }
    if ((e->flags & GK_BS_RECURSE) && (e->flags & GK_BS_DATA) && !(e->flags & GK_BS_ZERO) &&
        (e->flags & GK_BS_OFFSET) && e->host && e->host != d) {
        /* a preallocated image: holes of the file under data clusters */
        if (e->host_off >= e->host->size) {
            e->flags |= GK_BS_ZERO;
        } else {
            gk_extent fe;
            if (gk_layer_status(e->host, e->host_off, e->len, &fe) == 0) {
                if ((fe.flags & GK_BS_EOF) && (fe.flags & GK_BS_ZERO)) {
                    e->flags |= GK_BS_ZERO;
                } else {
                    e->len = fe.len;
                    e->flags |= fe.flags & GK_BS_ZERO;
                }
            }
        }
    }
    e->flags &= ~GK_BS_RECURSE;
    if (e->flags & GK_BS_OFFSET)
        e->host_file = e->host ? e->host->name : NULL;
    else
        e->host = NULL, e->host_file = NULL, e->host_off = 0;
    if (off + e->len == d->size)
        e->flags |= GK_BS_EOF;
    e->depth = 0;
    return 0;
}

int gk_block_status_above(gk_dev *top, gk_dev *base, uint64_t off, uint64_t maxlen, gk_extent *e)
{
    if (off >= top->size || maxlen == 0) {
        gk_error("%s: block status at %llu is beyond the end of the device", top->name,
                 (unsigned long long)off);
        errno = EINVAL;
        return -1;
    }
    memset(e, 0, sizeof *e);
    e->off = off;
    if (top == base) {
        e->len = maxlen;
        return 0;
    }
    int r = gk_layer_status(top, off, maxlen, e);
    if (r < 0) {
        errno = -r;
        return -1;
    }
    if ((e->flags & GK_BS_ALLOCATED) || !top->backing || top->backing == base)
        return 0;
    uint64_t eof = (e->flags & GK_BS_EOF) ? off + e->len : 0;
    uint64_t bytes = e->len;
    gk_extent upper = *e;
    int depth = 0;
    for (gk_dev *p = top->backing; p && p != base; p = p->backing) {
        depth++;
        if (depth > GK_MAX_CHAIN + 1) {
            gk_error("%s: backing chain is too long", top->name);
            errno = ELOOP;
            return -1;
        }
        if (off >= p->size) {
            /* the layer above deferred to a shorter one: the zeros made up
             * past its end count as allocated there (qemu); we describe the
             * layer above and say so */
            *e = upper;
            e->len = bytes;
            e->flags = (upper.flags & ~(GK_BS_EOF | GK_BS_ALLOCATED)) | GK_BS_ZERO | GK_BS_BEYOND;
            e->depth = depth - 1;
            break;
        }
        gk_extent n;
        r = gk_layer_status(p, off, bytes, &n);
        if (r < 0) {
            errno = -r;
            return -1;
        }
        n.depth = depth;
        *e = n;
        if (n.flags & GK_BS_ALLOCATED) {
            e->flags &= ~GK_BS_EOF; /* the end of a lower layer is not ours */
            break;
        }
        upper = n;
        bytes = n.len;
    }
    if (eof && off + e->len == eof)
        e->flags |= GK_BS_EOF;
    e->off = off;
    return 0;
}

int gk_block_status(gk_dev *d, uint64_t off, uint64_t maxlen, gk_extent *e)
{
    return gk_block_status_above(d, NULL, off, maxlen, e);
}
