/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The qcow2 metadata cache: L2 tables and refcount blocks (qemu's
 * qcow2-cache.c, with a set-associative lookup).  Reads fill it; issue 9's
 * writer marks tables dirty and relies on the write-back order: a cache's
 * dependency is written and flushed before any of its own tables. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2.h"

#define WAYS 8
/* Each table buffer starts after a small header holding its entry index,
 * so that put and mark_dirty find the entry in constant time. */
#define HDR 64

struct entry {
    uint64_t off;          /* 0: empty (cluster 0 is the header, never a table) */
    uint8_t *table;        /* HDR bytes into its allocation                   */
    uint64_t used;         /* LRU tick                                        */
    int refs;              /* held between get and put                        */
    int dirty;
};

struct qcow2_cache {
    gk_dev *dev;
    const char *what;      /* "L2 table", "refcount block": for messages      */
    uint64_t table_size;
    struct entry **set;    /* the ways of each set, allocated on first use:
                            * a short run touches a few sets of a big cache  */
    unsigned sets, ways;
    uint64_t tick, misses;
    struct qcow2_cache *dep;
    gk_dev *first;         /* flushed before any table is written            */
    int dep_pending;       /* the dependency must be flushed before we write  */
};

struct qcow2_cache *qcow2_cache_new(gk_dev *dev, const char *what, uint64_t table_size, unsigned ntables)
{
    struct qcow2_cache *c = gk_calloc(1, sizeof *c);
    c->dev = dev;
    c->what = what;
    c->table_size = table_size;
    if (ntables < 1)
        ntables = 1;
    c->ways = ntables < WAYS ? ntables : WAYS;
    c->sets = ntables / c->ways;
    c->set = gk_calloc(c->sets, sizeof *c->set);
    return c;
}

/* Entry i (set * ways + way), or NULL when its set was never used. */
static struct entry *entry_at(const struct qcow2_cache *c, unsigned i)
{
    struct entry *w = c->set[i / c->ways];
    return w ? &w[i % c->ways] : NULL;
}

void qcow2_cache_free(struct qcow2_cache *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < c->sets * c->ways; i++) {
        struct entry *x = entry_at(c, i);
        if (!x)
            continue;
        if (x->dirty)
            gk_warn("%s: a dirty %s at offset %#llx was not written", c->dev->name, c->what,
                    (unsigned long long)x->off);
        if (x->table)
            free(x->table - HDR);
    }
    for (unsigned s = 0; s < c->sets; s++)
        free(c->set[s]);
    free(c->set);
    free(c);
}

static uint64_t set_index(const struct qcow2_cache *c, uint64_t off)
{
    uint64_t k = off / c->table_size;
    return (k * 0x9E3779B97F4A7C15ULL >> 32) % c->sets;
}

static struct entry *set_of(struct qcow2_cache *c, uint64_t off)
{
    uint64_t set = set_index(c, off);
    if (!c->set[set])
        c->set[set] = gk_calloc(c->ways, sizeof **c->set);
    return c->set[set];
}

static struct entry *find_table(struct qcow2_cache *c, void *table)
{
    uint32_t i;
    memcpy(&i, (uint8_t *)table - HDR, sizeof i);
    struct entry *x = i < c->sets * c->ways ? entry_at(c, i) : NULL;
    return x && x->table == table ? x : NULL;
}

static int write_entry(struct qcow2_cache *c, struct entry *x)
{
    if (!x->dirty)
        return 0;
    if (c->first && gk_flush(c->first) < 0)
        return -errno;
    if (c->dep) {
        int r = qcow2_cache_flush(c->dep);
        if (r < 0)
            return r;
    }
    if (gk_pwrite(c->dev, x->table, (size_t)c->table_size, x->off) < 0)
        return -errno;
    x->dirty = 0;
    return 0;
}

/* The way for off in its set: a hit, or the least recently used way that
 * is not held (written back first if dirty). */
static int lookup(struct qcow2_cache *c, uint64_t off, struct entry **out, int *hit)
{
    struct entry *ways = set_of(c, off), *victim = NULL;
    c->tick++;
    for (unsigned i = 0; i < c->ways; i++) {
        struct entry *x = &ways[i];
        if (x->off == off && x->off) {
            x->used = c->tick;
            *out = x;
            *hit = 1;
            return 0;
        }
        if (x->refs)
            continue;
        if (!victim || !x->off || (victim->off && x->used < victim->used))
            victim = x;
    }
    if (!victim)
        return gk_fail(ENOMEM, "%s: every %s of the cache is in use", c->dev->name, c->what);
    int r = write_entry(c, victim);
    if (r < 0)
        return r;
    if (!victim->table) {
        uint8_t *m = gk_malloc(c->table_size + HDR);
        uint32_t i = (uint32_t)((uint64_t)(set_index(c, off) * c->ways) + (uint64_t)(victim - ways));
        memcpy(m, &i, sizeof i);
        victim->table = m + HDR;
    }
    victim->off = 0;
    *out = victim;
    *hit = 0;
    return 0;
}

int qcow2_cache_get(struct qcow2_cache *c, uint64_t off, void **table)
{
    struct entry *x;
    int hit, r = lookup(c, off, &x, &hit);
    if (r < 0)
        return r;
    if (!hit) {
        c->misses++;
        if (gk_pread(c->dev, x->table, (size_t)c->table_size, off) < 0)
            return -errno;
        x->off = off;
        x->used = c->tick;
    }
    x->refs++;
    *table = x->table;
    return 0;
}

int qcow2_cache_get_empty(struct qcow2_cache *c, uint64_t off, void **table)
{
    struct entry *x;
    int hit, r = lookup(c, off, &x, &hit);
    if (r < 0)
        return r;
    x->off = off;
    x->used = c->tick;
    x->refs++;
    *table = x->table;
    return 0;
}

void qcow2_cache_put(struct qcow2_cache *c, void *table)
{
    struct entry *x = find_table(c, table);
    if (x && x->refs > 0)
        x->refs--;
}

void qcow2_cache_mark_dirty(struct qcow2_cache *c, void *table)
{
    struct entry *x = find_table(c, table);
    if (x)
        x->dirty = 1;
}

void qcow2_cache_flush_first(struct qcow2_cache *c, gk_dev *dev)
{
    c->first = dev;
}

void qcow2_cache_set_dependency(struct qcow2_cache *c, struct qcow2_cache *dep)
{
    c->dep = dep;
}

int qcow2_cache_write(struct qcow2_cache *c)
{
    int dirty = 0;
    for (unsigned i = 0; i < c->sets * c->ways; i++)
        dirty |= entry_at(c, i) && entry_at(c, i)->dirty;
    if (!dirty)
        return 0;
    if (c->first && gk_flush(c->first) < 0)
        return -errno;
    if (c->dep) {
        int r = qcow2_cache_flush(c->dep);
        if (r < 0)
            return r;
    }
    for (unsigned i = 0; i < c->sets * c->ways; i++) {
        struct entry *x = entry_at(c, i);
        if (x && x->dirty) {
            if (gk_pwrite(c->dev, x->table, (size_t)c->table_size, x->off) < 0)
                return -errno;
            x->dirty = 0;
        }
    }
    return 0;
}

int qcow2_cache_flush(struct qcow2_cache *c)
{
    int r = qcow2_cache_write(c);
    if (r < 0)
        return r;
    return gk_flush(c->dev) < 0 ? -errno : 0;
}

void qcow2_cache_discard(struct qcow2_cache *c, uint64_t off)
{
    struct entry *ways = set_of(c, off);
    for (unsigned i = 0; i < c->ways; i++) {
        if (ways[i].off == off && off) {
            ways[i].off = 0;
            ways[i].dirty = 0;
        }
    }
}

int qcow2_cache_empty(struct qcow2_cache *c)
{
    for (unsigned i = 0; i < c->sets * c->ways; i++) {
        struct entry *x = entry_at(c, i);
        if (x && (x->dirty || x->refs))
            return gk_fail(EBUSY, "%s: a %s is still dirty or in use", c->dev->name, c->what);
    }
    for (unsigned i = 0; i < c->sets * c->ways; i++)
        if (entry_at(c, i))
            entry_at(c, i)->off = 0;
    return 0;
}

uint64_t qcow2_cache_misses(const struct qcow2_cache *c)
{
    return c->misses;
}
