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

/* The slot of cluster k in the side table: its own, or the empty one it
 * would take (keys are k + 1; 0 is empty). */
static struct qcow2_ref_hi *slot(const struct qcow2_refs *r, uint64_t k)
{
    uint64_t mask = r->hcap - 1, i = (k * 0x9E3779B97F4A7C15ULL) >> 20 & mask;
    while (r->hi[i].k && r->hi[i].k != k + 1)
        i = (i + 1) & mask;
    return &r->hi[i];
}

uint64_t qcow2_refs_get(const struct qcow2_refs *r, uint64_t k)
{
    if (k >= r->n)
        return 0;
    if (r->lo[k] != BIG)
        return r->lo[k];
    return slot(r, k)->v;
}

void qcow2_refs_set(struct qcow2_refs *r, uint64_t k, uint64_t v)
{
    if (k >= r->n)
        return;
    if (v < BIG) {
        if (r->lo[k] == BIG) {
            /* out of the side table: the entries after it move up */
            struct qcow2_ref_hi *s = slot(r, k);
            s->k = 0;
            uint64_t mask = r->hcap - 1, i = (uint64_t)(s - r->hi);
            for (uint64_t j = (i + 1) & mask; r->hi[j].k; j = (j + 1) & mask) {
                struct qcow2_ref_hi e = r->hi[j];
                r->hi[j].k = 0;
                *slot(r, e.k - 1) = e;
            }
            r->hn--;
        }
        r->lo[k] = (uint16_t)v;
        return;
    }
    if (r->lo[k] != BIG) {
        if ((r->hn + 1) * 2 > r->hcap) {
            struct qcow2_ref_hi *old = r->hi;
            uint64_t oc = r->hcap;
            r->hcap = oc ? oc * 2 : 64;
            r->hi = gk_calloc(r->hcap, sizeof *r->hi);
            for (uint64_t i = 0; i < oc; i++)
                if (old[i].k)
                    *slot(r, old[i].k - 1) = old[i];
            free(old);
        }
        r->lo[k] = BIG;
        r->hn++;
        struct qcow2_ref_hi *s = slot(r, k);
        s->k = k + 1;
    }
    slot(r, k)->v = v;
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
    free(r->hi);
    memset(r, 0, sizeof *r);
    r->lo = gk_calloc(n ? n : 1, sizeof *r->lo);
    r->n = n;
}

void qcow2_refs_free(struct qcow2_refs *r)
{
    free(r->lo);
    free(r->hi);
    memset(r, 0, sizeof *r);
}
