/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Btrfs trees: checked, cached tree blocks and search paths.
 *
 * A block enters the cache only after every check that makes later use
 * safe: checksum, location, fsid, level, generation (against the parent
 * pointer), item count, item data inside the block, keys strictly
 * ascending.  A copy that fails is retried from the next mirror.
 *
 * The cache holds a fixed number of blocks (CACHE_BYTES of them); blocks
 * held by a live path are pinned and never evicted.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btrfs-int.h"

#define CACHE_BYTES (16u << 20)
#define CACHE_MIN 64

int bt_fail(int eno, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gk_error("%s", msg);
    return -eno;
}

int bt_key_cmp(const bt_key *a, const bt_key *b)
{
    if (a->objectid != b->objectid)
        return a->objectid < b->objectid ? -1 : 1;
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    if (a->offset != b->offset)
        return a->offset < b->offset ? -1 : 1;
    return 0;
}

void bt_key_read(bt_key *k, const uint8_t *p)
{
    k->objectid = gk_le64(p);
    k->type = p[8];
    k->offset = gk_le64(p + 9);
}

/* ------------------------------------------------------------------ */
/* The cache                                                           */

int bt_cache_init(btrfs *b)
{
    int n = (int)(CACHE_BYTES / b->nodesize);
    if (n < CACHE_MIN)
        n = CACHE_MIN;
    b->ncache = n;
    b->cache = gk_calloc((size_t)n, sizeof *b->cache);
    int h = 1;
    while (h < 2 * n)
        h <<= 1;
    b->nhash = h;
    b->hash = gk_malloc((size_t)h * sizeof *b->hash);
    for (int i = 0; i < h; i++)
        b->hash[i] = -1;
    return 0;
}

void bt_cache_free(btrfs *b)
{
    for (int i = 0; i < b->ncache; i++)
        free(b->cache[i].data);
    free(b->cache);
    free(b->hash);
    b->cache = NULL;
    b->hash = NULL;
    b->ncache = 0;
}

static unsigned hslot(const btrfs *b, uint64_t bytenr)
{
    return (unsigned)((bytenr * 0x9e3779b97f4a7c15ull) >> 32) & (unsigned)(b->nhash - 1);
}

static void hash_remove(btrfs *b, int idx)
{
    int *pp = &b->hash[hslot(b, b->cache[idx].bytenr)];
    while (*pp >= 0) {
        if (*pp == idx) {
            *pp = b->cache[idx].next;
            return;
        }
        pp = &b->cache[*pp].next;
    }
}

/* Checks of one copy of a tree block; 0 or -EIO with why. */
static int node_check(btrfs *b, const uint8_t *d, uint64_t bytenr, int level, uint64_t gen)
{
    uint32_t ns = b->nodesize;
    if (gk_le64(d + HD_BYTENR) != bytenr)
        return bt_fail(EIO, "tree block %llu: header says %llu", (unsigned long long)bytenr,
                       (unsigned long long)gk_le64(d + HD_BYTENR));
    uint8_t c[BT_CSUM_SIZE];
    bt_csum(b->csum_type, d + BT_CSUM_SIZE, ns - BT_CSUM_SIZE, c);
    if (memcmp(c, d, b->csum_size) != 0)
        return bt_fail(EIO, "tree block %llu: %s checksum mismatch", (unsigned long long)bytenr,
                       bt_csum_name(b->csum_type));
    if (memcmp(d + HD_FSID, b->meta_fsid, 16) != 0)
        return bt_fail(EIO, "tree block %llu: belongs to another filesystem",
                       (unsigned long long)bytenr);
    if (d[HD_LEVEL] != level)
        return bt_fail(EIO, "tree block %llu: level %u, expected %d", (unsigned long long)bytenr,
                       d[HD_LEVEL], level);
    if (gen && gk_le64(d + HD_GENERATION) != gen)
        return bt_fail(EIO, "tree block %llu: generation %llu, parent expects %llu",
                       (unsigned long long)bytenr, (unsigned long long)gk_le64(d + HD_GENERATION),
                       (unsigned long long)gen);
    uint32_t n = gk_le32(d + HD_NRITEMS);
    uint32_t area = ns - BT_HEADER_SIZE;
    bt_key prev = {0, 0, 0}, k;
    if (level == 0) {
        if (n > area / BT_ITEM_SIZE)
            return bt_fail(EIO, "tree block %llu: %u items do not fit", (unsigned long long)bytenr, n);
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *it = d + BT_HEADER_SIZE + (size_t)i * BT_ITEM_SIZE;
            bt_key_read(&k, it);
            uint32_t off = gk_le32(it + 17), sz = gk_le32(it + 21);
            if (off < n * BT_ITEM_SIZE || off > area || sz > area - off)
                return bt_fail(EIO, "tree block %llu: item %u out of the block",
                               (unsigned long long)bytenr, i);
            if (i && bt_key_cmp(&prev, &k) >= 0)
                return bt_fail(EIO, "tree block %llu: keys out of order", (unsigned long long)bytenr);
            prev = k;
        }
    } else {
        if (n == 0 || n > area / BT_KEYPTR_SIZE)
            return bt_fail(EIO, "tree block %llu: bad pointer count %u", (unsigned long long)bytenr, n);
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *it = d + BT_HEADER_SIZE + (size_t)i * BT_KEYPTR_SIZE;
            bt_key_read(&k, it);
            uint64_t ptr = gk_le64(it + 17);
            if (!ptr || ptr % b->sectorsize)
                return bt_fail(EIO, "tree block %llu: bad child pointer", (unsigned long long)bytenr);
            if (i && bt_key_cmp(&prev, &k) >= 0)
                return bt_fail(EIO, "tree block %llu: keys out of order", (unsigned long long)bytenr);
            prev = k;
        }
    }
    return 0;
}

int bt_node_get(btrfs *b, uint64_t bytenr, int level, uint64_t gen, struct bt_node **out)
{
    *out = NULL;
    if (level < 0 || level >= BT_MAX_LEVEL)
        return bt_fail(EIO, "tree block %llu: bad level %d", (unsigned long long)bytenr, level);
    for (int i = b->hash[hslot(b, bytenr)]; i >= 0; i = b->cache[i].next) {
        struct bt_node *n = &b->cache[i];
        if (n->bytenr != bytenr)
            continue;
        if (n->data[HD_LEVEL] != level)
            return bt_fail(EIO, "tree block %llu: level %u, expected %d", (unsigned long long)bytenr,
                           n->data[HD_LEVEL], level);
        if (gen && gk_le64(n->data + HD_GENERATION) != gen)
            return bt_fail(EIO, "tree block %llu: generation %llu, parent expects %llu",
                           (unsigned long long)bytenr,
                           (unsigned long long)gk_le64(n->data + HD_GENERATION),
                           (unsigned long long)gen);
        n->pins++;
        n->age = ++b->clock;
        *out = n;
        return 0;
    }
    if (bytenr % b->sectorsize)
        return bt_fail(EIO, "tree block %llu: misaligned", (unsigned long long)bytenr);
    /* the least recently used unpinned slot */
    int victim = -1;
    for (int i = 0; i < b->ncache; i++) {
        struct bt_node *n = &b->cache[i];
        if (n->pins)
            continue;
        if (!n->used) {
            victim = i;
            break;
        }
        if (victim < 0 || n->age < b->cache[victim].age)
            victim = i;
    }
    if (victim < 0)
        return bt_fail(ENOMEM, "tree block cache exhausted");
    struct bt_node *n = &b->cache[victim];
    if (n->used) {
        hash_remove(b, victim);
        n->used = 0;
    }
    if (!n->data)
        n->data = gk_malloc(b->nodesize);
    int copies = bt_num_copies(b, bytenr), r = -EIO;
    char first[512] = "";
    for (int m = 0; m < copies; m++) {
        r = bt_read_logical(b, bytenr, n->data, b->nodesize, m);
        if (r == 0)
            r = node_check(b, n->data, bytenr, level, gen);
        if (r == 0) {
            if (m > 0)
                gk_debug("btrfs: %s; copy %d is good", first, m + 1);
            break;
        }
        if (m == 0)
            snprintf(first, sizeof first, "%s", gk_errmsg());
    }
    if (r < 0) {
        if (copies > 1)
            gk_error("%s (and no good copy)", first);
        return r;
    }
    n->bytenr = bytenr;
    n->used = 1;
    n->pins = 1;
    n->age = ++b->clock;
    unsigned h = hslot(b, bytenr);
    n->next = b->hash[h];
    b->hash[h] = victim;
    *out = n;
    return 0;
}

void bt_node_put(struct bt_node *n)
{
    if (n && n->pins > 0)
        n->pins--;
}

/* ------------------------------------------------------------------ */
/* Paths                                                               */

static void node_key(const struct bt_node *n, uint32_t slot, bt_key *k)
{
    size_t sz = bt_level(n) ? BT_KEYPTR_SIZE : BT_ITEM_SIZE;
    bt_key_read(k, n->data + BT_HEADER_SIZE + slot * sz);
}

void bt_item(const bt_path *p, bt_key *key, const uint8_t **data, uint32_t *len)
{
    const struct bt_node *n = p->nodes[0];
    const uint8_t *it = n->data + BT_HEADER_SIZE + (size_t)p->slots[0] * BT_ITEM_SIZE;
    bt_key_read(key, it);
    *data = n->data + BT_HEADER_SIZE + gk_le32(it + 17);
    *len = gk_le32(it + 21);
}

void bt_path_release(bt_path *p)
{
    for (int l = 0; l < BT_MAX_LEVEL; l++) {
        bt_node_put(p->nodes[l]);
        p->nodes[l] = NULL;
    }
    p->nlev = 0;
}

/* Load the child of the node at level l+1 under its slot into level l;
 * rightmost: start at its last slot instead of the first. */
static int load_child(btrfs *b, bt_path *p, int l, int rightmost)
{
    const struct bt_node *par = p->nodes[l + 1];
    const uint8_t *kp = par->data + BT_HEADER_SIZE + (size_t)p->slots[l + 1] * BT_KEYPTR_SIZE;
    bt_key pk, ck;
    bt_key_read(&pk, kp);
    bt_node_put(p->nodes[l]);
    p->nodes[l] = NULL;
    struct bt_node *c;
    int r = bt_node_get(b, gk_le64(kp + 17), l, gk_le64(kp + 25), &c);
    if (r < 0)
        return r;
    p->nodes[l] = c;
    if (bt_nritems(c) == 0)
        return bt_fail(EIO, "tree block %llu: empty block below the root",
                       (unsigned long long)c->bytenr);
    node_key(c, 0, &ck);
    if (bt_key_cmp(&ck, &pk) != 0)
        return bt_fail(EIO, "tree block %llu: first key does not match its parent",
                       (unsigned long long)c->bytenr);
    p->slots[l] = rightmost ? (int)bt_nritems(c) - 1 : 0;
    return 0;
}

/* The item under the path must come after (dir > 0) or before (dir < 0)
 * the last one returned: a block reached twice cannot make a walk loop. */
static int order_check(bt_path *p, int dir)
{
    bt_key k;
    node_key(p->nodes[0], (uint32_t)p->slots[0], &k);
    if (p->have_last && bt_key_cmp(&k, &p->last) * dir <= 0)
        return bt_fail(EIO, "tree block %llu: keys out of order across blocks",
                       (unsigned long long)p->nodes[0]->bytenr);
    p->last = k;
    p->have_last = 1;
    return 1;
}

/* Past the end of a leaf: step to the first item of the next one. */
static int fix_end(btrfs *b, bt_path *p)
{
    while ((uint32_t)p->slots[0] >= bt_nritems(p->nodes[0])) {
        int l = 1;
        while (l < p->nlev && (uint32_t)p->slots[l] + 1 >= bt_nritems(p->nodes[l]))
            l++;
        if (l >= p->nlev)
            return 0;
        p->slots[l]++;
        for (int j = l - 1; j >= 0; j--) {
            int r = load_child(b, p, j, 0);
            if (r < 0)
                return r;
        }
    }
    return order_check(p, 1);
}

int bt_search(btrfs *b, uint64_t root, int level, const bt_key *key, bt_path *p)
{
    memset(p, 0, sizeof *p);
    if (level < 0 || level >= BT_MAX_LEVEL)
        return bt_fail(EIO, "tree root %llu: bad level %d", (unsigned long long)root, level);
    p->nlev = level + 1;
    struct bt_node *n;
    int r = bt_node_get(b, root, level, 0, &n);
    if (r < 0)
        return r;
    p->nodes[level] = n;
    for (int l = level;; l--) {
        n = p->nodes[l];
        uint32_t nr = bt_nritems(n);
        /* first slot whose key is > key (leaf: >= key) */
        uint32_t lo = 0, hi = nr;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            bt_key k;
            node_key(n, mid, &k);
            int c = bt_key_cmp(&k, key);
            if (c < 0 || (c == 0 && l > 0))
                lo = mid + 1;
            else
                hi = mid;
        }
        if (l == 0) {
            p->slots[0] = (int)lo;
            break;
        }
        p->slots[l] = lo > 0 ? (int)lo - 1 : 0;
        if ((r = load_child(b, p, l - 1, 0)) < 0)
            return r;
    }
    return fix_end(b, p);
}

int bt_next(btrfs *b, bt_path *p)
{
    if (!p->nodes[0])
        return 0;
    p->slots[0]++;
    return fix_end(b, p);
}

int bt_prev(btrfs *b, bt_path *p)
{
    if (!p->nodes[0])
        return 0;
    if (p->slots[0] > 0) {
        p->slots[0]--;
    } else {
        int l = 1;
        while (l < p->nlev && p->slots[l] == 0)
            l++;
        if (l >= p->nlev)
            return 0;
        p->slots[l]--;
        for (int j = l - 1; j >= 0; j--) {
            int r = load_child(b, p, j, 1);
            if (r < 0)
                return r;
        }
    }
    /* keys must now go down */
    bt_key k;
    node_key(p->nodes[0], (uint32_t)p->slots[0], &k);
    if (p->have_last && bt_key_cmp(&k, &p->last) >= 0)
        return bt_fail(EIO, "tree block %llu: keys out of order across blocks",
                       (unsigned long long)p->nodes[0]->bytenr);
    p->last = k;
    p->have_last = 1;
    return 1;
}

int bt_lookup_item(btrfs *b, uint64_t root, int level, const bt_key *key, uint8_t **data,
                   uint32_t *len)
{
    bt_path p;
    int r = bt_search(b, root, level, key, &p);
    if (r > 0) {
        bt_key k;
        const uint8_t *d;
        uint32_t n;
        bt_item(&p, &k, &d, &n);
        if (bt_key_cmp(&k, key) == 0) {
            *data = gk_malloc(n ? n : 1);
            memcpy(*data, d, n);
            *len = n;
        } else {
            r = 0;
        }
    }
    bt_path_release(&p);
    return r;
}
