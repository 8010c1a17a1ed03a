/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The reference counts the checker computes from the metadata, one per host
 * cluster (qemu's in-memory refcount table).  Two bytes a cluster; a count
 * of 0xffff or more goes to a side table, so that images with 32- and
 * 64-bit refcounts are counted exactly without eight bytes a cluster.  The
 * side table grows with the counts that reached 0xffff, each of which took
 * 65535 references read from the image. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

#define BIG 0xffffu

/* Out of line: inlined, the map lookup costs the common path of
 * qcow2_refs_get (a two-byte count) register saves (callgrind, 6 M gets
 * and 0.4 M sets: 122 M instructions inlined, 86 M out of line, 98 M
 * with the table of its own this file had before). */
static __attribute__((noinline)) uint64_t get_big(const struct qcow2_refs *r, uint64_t k)
{
    const uint64_t *v = gk_u64map_get(&r->hi, k);
    return v ? *v : 0;
}

uint64_t qcow2_refs_get(const struct qcow2_refs *r, uint64_t k)
{
    if (k >= r->n)
        return 0;
    if (r->lo[k] != BIG)
        return r->lo[k];
    return get_big(r, k);
}

void qcow2_refs_set(struct qcow2_refs *r, uint64_t k, uint64_t v)
{
    if (k >= r->n)
        return;
    if (v < BIG) {
        if (r->lo[k] == BIG)
            gk_u64map_del(&r->hi, k);
        r->lo[k] = (uint16_t)v;
        return;
    }
    r->lo[k] = BIG;
    *gk_u64map_add(&r->hi, k, NULL) = v;
}

void qcow2_refs_resize(struct qcow2_refs *r, uint64_t n)
{
    if (n <= r->n)
        return;
    r->lo = gk_realloc(r->lo, n * sizeof *r->lo);
    memset(r->lo + r->n, 0, (n - r->n) * sizeof *r->lo);
    r->n = n;
}

void qcow2_refs_reset(struct qcow2_refs *r, uint64_t n)
{
    free(r->lo);
    gk_u64map_clear(&r->hi);
    memset(r, 0, sizeof *r);
    r->lo = gk_calloc(n ? n : 1, sizeof *r->lo);
    r->n = n;
}

void qcow2_refs_free(struct qcow2_refs *r)
{
    free(r->lo);
    gk_u64map_clear(&r->hi);
    memset(r, 0, sizeof *r);
}
