/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small map from 64-bit keys to 64-bit values (internal): open
 * addressing with linear probing in a power-of-two array, at most half
 * full (it doubles before that).  Memory grows with the keys added, never
 * with the number of additions.  Used by the qcow2 checker's side table of
 * large refcounts (lib/qcow2-refs.c) and the JBD2 revoke table
 * (fs/journal.c).  Zero-initialised, it is empty. */
#ifndef GK_U64MAP_H
#define GK_U64MAP_H
#include <stdint.h>
#include <stdlib.h>

#include "blk.h"

struct gk_u64map {
    struct gk_u64map_ent { uint64_t k, v; } *e; /* k = key + 1; 0: free */
    uint64_t cap, n;                            /* cap: 0 or a power of two */
};

/* The entry of key, or the free one it would take (cap must not be 0). */
static inline struct gk_u64map_ent *gk_u64map_slot(const struct gk_u64map *m, uint64_t key)
{
    uint64_t h = (key + 1) * 0x9e3779b97f4a7c15ull, mask = m->cap - 1, i = (h ^ (h >> 29)) & mask;
    while (m->e[i].k && m->e[i].k != key + 1)
        i = (i + 1) & mask;
    return &m->e[i];
}

/* The value of key, or NULL when it is not in the map. */
static inline uint64_t *gk_u64map_get(const struct gk_u64map *m, uint64_t key)
{
    if (!m->n)
        return NULL;
    struct gk_u64map_ent *s = gk_u64map_slot(m, key);
    return s->k ? &s->v : NULL;
}

/* The value of key, added with the value 0 when it was not there (*added
 * says which, if added is not NULL). */
static inline uint64_t *gk_u64map_add(struct gk_u64map *m, uint64_t key, int *added)
{
    if ((m->n + 1) * 2 > m->cap) {
        struct gk_u64map_ent *old = m->e;
        uint64_t oc = m->cap;
        m->cap = oc ? oc * 2 : 64;
        m->e = gk_calloc(m->cap, sizeof *m->e);
        for (uint64_t i = 0; i < oc; i++)
            if (old[i].k)
                *gk_u64map_slot(m, old[i].k - 1) = old[i];
        free(old);
    }
    struct gk_u64map_ent *s = gk_u64map_slot(m, key);
    if (added)
        *added = !s->k;
    if (!s->k) {
        s->k = key + 1;
        s->v = 0;
        m->n++;
    }
    return &s->v;
}

/* Removes key if it is there; the entries probed past it move up. */
static inline void gk_u64map_del(struct gk_u64map *m, uint64_t key)
{
    if (!m->n)
        return;
    struct gk_u64map_ent *s = gk_u64map_slot(m, key);
    if (!s->k)
        return;
    s->k = 0;
    m->n--;
    uint64_t mask = m->cap - 1;
    for (uint64_t j = ((uint64_t)(s - m->e) + 1) & mask; m->e[j].k; j = (j + 1) & mask) {
        struct gk_u64map_ent e = m->e[j];
        m->e[j].k = 0;
        *gk_u64map_slot(m, e.k - 1) = e;
    }
}

static inline void gk_u64map_clear(struct gk_u64map *m)
{
    free(m->e);
    *m = (struct gk_u64map){0};
}
#endif
