/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ext driver's checks of inodes and extent trees, as the kernel makes
 * them (fs/ext4/inode.c __ext4_iget, fs/ext4/extents.c __ext4_ext_check,
 * fs/ext4/block_validity.c), so that what the kernel refuses as corrupt
 * (EUCLEAN, "Structure needs cleaning") we refuse too, instead of reading
 * the superblock, an inode table or another file's blocks as file data.
 *
 * - i_size: negative, or beyond what a file of that mapping can address
 *   (s_maxbytes for extents, the block-map limit otherwise);
 * - the extended attribute block and every block a file maps must lie
 *   inside the filesystem and outside its "system zone": superblocks and
 *   group descriptors, bitmaps, inode tables, the journal's blocks;
 * - extent tree nodes: magic, eh_max within the node, entries <= eh_max,
 *   eh_depth as expected (which also catches an index block pointing to
 *   itself), at most 5 levels, entries in logical order without overlap,
 *   no zero length, no wrap, the first key of a node equal to its parent's.
 *
 * The extent walk is ours (not ext2fs_extent_*), iterative, at most one
 * path of nodes in memory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ext-int.h"

#define EXT_MAGIC 0xf30a
#define EXT_MAX_DEPTH 5          /* the kernel's EXT4_MAX_EXTENT_DEPTH */
#define EXT_INIT_MAXLEN 32768u     /* longer: an unwritten extent */

/* ------------------------------------------------------------------ */
/* The system zone                                                     */

struct zone { uint64_t a, b; };   /* blocks [a, b) */

struct zlist { struct zone *v; size_t n, cap; };

/* Metadata, and the journal's blocks (which only the journal may map). */
struct gk_ext_zones {
    struct zlist meta, jnl;
    uint64_t jino;
};

static int zone_cmp(const void *x, const void *y)
{
    const struct zone *p = x, *q = y;
    return p->a < q->a ? -1 : p->a > q->a;
}

static void zadd(struct zlist *l, uint64_t a, uint64_t len)
{
    if (!len)
        return;
    if (l->n && l->v[l->n - 1].b == a) {
        l->v[l->n - 1].b += len;        /* contiguous (flex_bg packs them) */
        return;
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = gk_realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = (struct zone){a, a + len};
}

/* Sort, and merge what overlaps or touches. */
static void zfinish(struct zlist *l)
{
    if (l->n > 1)
        qsort(l->v, l->n, sizeof *l->v, zone_cmp);
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (k && l->v[i].a <= l->v[k - 1].b) {
            if (l->v[i].b > l->v[k - 1].b)
                l->v[k - 1].b = l->v[i].b;
        } else {
            l->v[k++] = l->v[i];
        }
    }
    l->n = k;
}

/* Does [start, end) overlap a zone of l? */
static int zhit(const struct zlist *l, uint64_t start, uint64_t end)
{
    size_t lo = 0, hi = l->n;           /* the first zone ending after start */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->v[mid].b <= start)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < l->n && l->v[lo].a < end;
}

struct jz { struct zlist *l; uint64_t steps, max; };

static int jz_cb(ext2_filsys fs, blk64_t *blocknr, e2_blkcnt_t blockcnt, blk64_t ref_blk,
                 int ref_offset, void *priv)
{
    (void)fs; (void)ref_blk; (void)ref_offset;
    struct jz *j = priv;
    if (++j->steps > j->max)
        return BLOCK_ABORT;
    if (blockcnt >= 0)
        zadd(j->l, *blocknr, 1);
    return 0;
}

/* The journal's blocks, an extent at a time: the same zones as a block
 * walk, which cost a callback per block (16,384 for a 64 MiB journal, a
 * quarter of a gcat's instructions, issue 18).  -1 (nothing added) when the
 * tree cannot be read: the block walk then decides. */
static int journal_extents(ext2_filsys fs, ext2_ino_t jino, struct ext2_inode *in, struct jz *j)
{
    ext2_extent_handle_t h;
    if (ext2fs_extent_open2(fs, jino, in, &h) != 0)
        return -1;
    struct zlist got = {0};
    struct ext2fs_extent e;
    errcode_t err = ext2fs_extent_get(h, EXT2_EXTENT_ROOT, &e);
    /* steps: blocks, bounded as the block walk's callbacks are; an index
     * entry or an empty extent counts as one */
    for (; !err && j->steps < j->max; err = ext2fs_extent_get(h, EXT2_EXTENT_NEXT, &e)) {
        uint64_t n = e.e_flags & EXT2_EXTENT_FLAGS_LEAF ? e.e_len : 0;
        if (n > j->max - j->steps)
            n = j->max - j->steps;
        zadd(&got, e.e_pblk, n);
        j->steps += n ? n : 1;
    }
    ext2fs_extent_free(h);
    if (err && err != EXT2_ET_EXTENT_NO_NEXT) {
        free(got.v);
        j->steps = 0;
        return -1;
    }
    free(j->l->v);
    *j->l = got;
    return 0;
}

/* Descriptor blocks that follow the superblock of group g (the kernel's
 * ext4_bg_num_gdb; reserved GDT blocks are not part of it). */
uint64_t gk_ext_num_gdb(ext2_filsys fs, dgrp_t g)
{
    struct ext2_super_block *sb = fs->super;
    if (!ext2fs_has_feature_meta_bg(sb))
        return ext2fs_bg_has_super(fs, g) ? fs->desc_blocks : 0;
    dgrp_t per = EXT2_DESC_PER_BLOCK(sb);
    if (g / per < sb->s_first_meta_bg)
        return ext2fs_bg_has_super(fs, g) ? sb->s_first_meta_bg : 0;
    dgrp_t r = g % per;
    return r == 0 || r == 1 || r == per - 1;
}

struct gk_ext_zones *gk_ext_zones_new(ext2_filsys fs)
{
    struct ext2_super_block *sb = fs->super;
    struct gk_ext_zones *z = gk_calloc(1, sizeof *z);
    uint64_t flex = ext2fs_has_feature_flex_bg(sb) && sb->s_log_groups_per_flex < 31
                        ? 1ull << sb->s_log_groups_per_flex : 1;
    /* as ext4_setup_system_zone: superblock and descriptors of the first
     * groups and of each flex group's first, bitmaps and inode tables */
    for (dgrp_t g = 0; g < fs->group_desc_count; g++) {
        if (ext2fs_bg_has_super(fs, g) && (g < 5 || g % flex == 0))
            zadd(&z->meta, ext2fs_group_first_block2(fs, g), gk_ext_num_gdb(fs, g) + 1);
        zadd(&z->meta, ext2fs_block_bitmap_loc(fs, g), 1);
        zadd(&z->meta, ext2fs_inode_bitmap_loc(fs, g), 1);
        zadd(&z->meta, ext2fs_inode_table_loc(fs, g), fs->inode_blocks_per_group);
    }
    zfinish(&z->meta);
    /* the internal journal's blocks belong to the journal inode only */
    ext2_ino_t jino = sb->s_journal_inum;
    if (ext2fs_has_feature_journal(sb) && jino && !sb->s_journal_dev) {
        struct ext2_inode in;
        if (ext2fs_read_inode(fs, jino, &in) == 0 &&
            EXT2_I_SIZE(&in) / fs->blocksize <= ext2fs_blocks_count(sb)) {
            struct jz j = {&z->jnl, 0, 4 * (EXT2_I_SIZE(&in) / fs->blocksize) + 1024};
            if (!(in.i_flags & EXT4_EXTENTS_FL) || journal_extents(fs, jino, &in, &j) < 0)
                ext2fs_block_iterate3(fs, jino, BLOCK_FLAG_READ_ONLY | BLOCK_FLAG_DATA_ONLY, NULL,
                                      jz_cb, &j);
            z->jino = jino;
        }
    }
    zfinish(&z->jnl);
    return z;
}

void gk_ext_zones_free(struct gk_ext_zones *z)
{
    if (z) {
        free(z->meta.v);
        free(z->jnl.v);
        free(z);
    }
}

int gk_ext_block_valid(ext2_filsys fs, const struct gk_ext_zones *z, uint64_t ino,
                       uint64_t start, uint64_t count)
{
    uint64_t first = fs->super->s_first_data_block, total = ext2fs_blocks_count(fs->super);
    if (start <= first || start + count < start || start + count > total)
        return 0;
    if (!z)
        return 1;
    if (zhit(&z->meta, start, start + count))
        return 0;
    return ino == z->jino || !zhit(&z->jnl, start, start + count);
}

/* ------------------------------------------------------------------ */
/* i_size limits                                                       */

/* The kernel's ext4_max_size: extent-mapped files. */
uint64_t gk_ext_maxbytes(ext2_filsys fs)
{
    unsigned bits = (unsigned)(fs->super->s_log_block_size + 10);
    uint64_t upper = (uint64_t)INT64_MAX;     /* MAX_LFS_FILESIZE */
    if (!ext2fs_has_feature_huge_file(fs->super)) {
        upper = (1ull << 32) - 1;
        upper >>= bits - 9;
        upper <<= bits;
    }
    uint64_t res = ((1ull << 32) - 1) << bits;
    return res < upper ? res : upper;
}

/* The kernel's ext4_max_bitmap_size: block-mapped files. */
uint64_t gk_ext_bitmap_maxbytes(ext2_filsys fs)
{
    unsigned bits = (unsigned)(fs->super->s_log_block_size + 10);
    uint64_t ppb = 1ull << (bits - 2), res = EXT2_NDIR_BLOCKS, upper, meta;
    if (!ext2fs_has_feature_huge_file(fs->super))
        upper = ((1ull << 32) - 1) >> (bits - 9);
    else
        upper = (1ull << 48) - 1;
    res += ppb + ppb * ppb + ppb * ppb * ppb;
    meta = 1 + (1 + ppb) + (1 + ppb + ppb * ppb);
    if (res + meta > upper) {
        res = upper;
        upper -= EXT2_NDIR_BLOCKS;
        meta = 1;
        upper -= ppb;
        if (upper < ppb * ppb) {
            meta += 1 + (upper + ppb - 1) / ppb;
            res -= meta;
        } else {
            meta += 1 + ppb;
            upper -= ppb * ppb;
            meta += 1 + (upper + ppb - 1) / ppb + (upper + ppb * ppb - 1) / (ppb * ppb);
            res -= meta;
        }
    }
    if (res > ((uint64_t)INT64_MAX >> bits))
        return (uint64_t)INT64_MAX;
    return res << bits;
}

/* ------------------------------------------------------------------ */
/* Extent nodes                                                        */

struct node {                    /* a parsed header */
    unsigned entries, max, depth;
    const uint8_t *e;            /* the first entry */
};

/* Check one node as __ext4_ext_check does: NULL, or why it is corrupt.
 * size: bytes of the node (60 in the inode, a block otherwise); depth: the
 * depth it must have (-1 for the root: its own); lblk: the first key its
 * parent gave it (root: none). */
static const char *check_node(ext2_filsys fs, const struct gk_ext_zones *z, uint64_t ino,
                              const uint8_t *p, size_t size, int depth, int root, uint32_t lblk,
                              struct node *out)
{
    if (gk_le16(p) != EXT_MAGIC)
        return "invalid magic";
    out->entries = gk_le16(p + 2);
    out->max = gk_le16(p + 4);
    out->depth = gk_le16(p + 6);
    out->e = p + 12;
    if (!root && (int)out->depth != depth)
        return "unexpected eh_depth";
    if (out->max == 0)
        return "invalid eh_max";
    if (out->max > (size - 12) / 12)
        return "too large eh_max";
    if (out->entries > out->max)
        return "invalid eh_entries";
    if (out->entries == 0 && out->depth > 0)
        return "eh_entries is 0 but eh_depth is > 0";
    uint64_t cur = 0;
    for (unsigned i = 0; i < out->entries; i++) {
        const uint8_t *e = out->e + 12 * i;
        uint32_t key = gk_le32(e);
        if (i == 0 && !root && key != lblk)
            return "invalid extent entries";
        if (out->depth == 0) {
            unsigned len = gk_le16(e + 4);
            if (len > EXT_INIT_MAXLEN)
                len -= EXT_INIT_MAXLEN;
            uint64_t pblk = gk_le32(e + 8) | (uint64_t)gk_le16(e + 6) << 32;
            if ((uint64_t)key + len <= key || (uint64_t)key + len > (1ull << 32) ||
                !gk_ext_block_valid(fs, z, ino, pblk, len) || key < cur)
                return "invalid extent entries";
            cur = (uint64_t)key + len;
        } else {
            uint64_t pblk = gk_le32(e + 4) | (uint64_t)gk_le16(e + 8) << 32;
            if (!gk_ext_block_valid(fs, z, ino, pblk, 1) || key < cur)
                return "invalid extent entries";
            cur = (uint64_t)key + 1;
        }
    }
    if (out->depth > 32)
        return "too large eh_depth";
    return NULL;
}

/* ------------------------------------------------------------------ */
/* What iget checks                                                    */

int gk_ext_check_inode(ext2_filsys fs, const struct gk_ext_zones *z, uint64_t ino,
                       const struct ext2_inode_large *in, uint64_t size)
{
    const struct ext2_inode *i = (const struct ext2_inode *)in;
    uint64_t max = (in->i_flags & EXT4_EXTENTS_FL) ? gk_ext_maxbytes(fs) : gk_ext_bitmap_maxbytes(fs);
    if (size > max) {
        gk_error("inode %llu: bad i_size value %llu (corrupt inode)", (unsigned long long)ino,
                 (unsigned long long)size);
        return -EUCLEAN;
    }
    blk64_t acl = ext2fs_file_acl_block(fs, i);
    if (acl && !gk_ext_block_valid(fs, z, ino, acl, 1)) {
        gk_error("inode %llu: bad extended attribute block %llu (corrupt inode)",
                 (unsigned long long)ino, (unsigned long long)acl);
        return -EUCLEAN;
    }
    if (in->i_flags & EXT4_INLINE_DATA_FL)
        return 0;
    if (!LINUX_S_ISREG(in->i_mode) && !LINUX_S_ISDIR(in->i_mode) &&
        !(LINUX_S_ISLNK(in->i_mode) && !ext2fs_is_fast_symlink((struct ext2_inode *)i)))
        return 0;
    if (in->i_flags & EXT4_EXTENTS_FL) {
        struct node n;
        const char *why = check_node(fs, z, ino, (const uint8_t *)in->i_block, sizeof in->i_block,
                                     -1, 1, 0, &n);
        if (why) {
            gk_error("inode %llu: extent tree: %s (corrupt inode)", (unsigned long long)ino, why);
            return -EUCLEAN;
        }
        return 0;
    }
    for (int k = 0; k < EXT2_N_BLOCKS; k++) {
        uint32_t b = in->i_block[k];
        if (b && !gk_ext_block_valid(fs, z, ino, b, 1)) {
            gk_error("inode %llu: invalid block %u (corrupt inode)", (unsigned long long)ino, b);
            return -EUCLEAN;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* The walk                                                            */

int gk_ext_extents(ext2_filsys fs, struct gkio *io, const struct gk_ext_zones *z, uint64_t ino,
                   const struct ext2_inode_large *in, uint64_t limit, uint64_t max_nodes,
                   gk_ext_extent_fn fn, void *priv)
{
    unsigned bs = (unsigned)fs->blocksize;
    struct node lv[EXT_MAX_DEPTH + 1];
    unsigned idx[EXT_MAX_DEPTH + 1];
    uint8_t *buf[EXT_MAX_DEPTH + 1] = {0};
    const char *why = check_node(fs, z, ino, (const uint8_t *)in->i_block, sizeof in->i_block,
                                 -1, 1, 0, &lv[0]);
    uint64_t bad = 0, nodes = 0;
    int rc = 0, top = 0;
    if (!why && lv[0].depth > EXT_MAX_DEPTH)
        why = "invalid extent depth";
    if (why)
        goto corrupt;
    idx[0] = 0;
    while (top >= 0) {
        struct node *n = &lv[top];
        if (n->depth == 0) {
            for (unsigned i = 0; i < n->entries; i++) {
                const uint8_t *e = n->e + 12 * i;
                uint32_t key = gk_le32(e);
                if (key >= limit)
                    goto done;          /* in order: the rest is past i_size */
                unsigned len = gk_le16(e + 4);
                int uninit = len > EXT_INIT_MAXLEN;
                if (uninit)
                    len -= EXT_INIT_MAXLEN;
                uint64_t pblk = gk_le32(e + 8) | (uint64_t)gk_le16(e + 6) << 32;
                if ((rc = fn(priv, key, pblk, len, uninit)) != 0)
                    goto done;
            }
            top--;
            continue;
        }
        if (idx[top] == n->entries) {
            top--;
            continue;
        }
        const uint8_t *e = n->e + 12 * idx[top]++;
        uint32_t key = gk_le32(e);
        if (key >= limit) {
            top--;                      /* this subtree and the rest are past i_size */
            continue;
        }
        bad = gk_le32(e + 4) | (uint64_t)gk_le16(e + 8) << 32;
        if (++nodes > max_nodes) {
            why = "more nodes than the file can need";
            goto corrupt;
        }
        if (!buf[top + 1])
            buf[top + 1] = gk_malloc(bs);
        int err = gkio_read(io, bad * bs, bs, buf[top + 1]);
        if (err) {
            gk_error("inode %llu: extent tree block %llu: %s", (unsigned long long)ino,
                     (unsigned long long)bad, err == EIO ? gk_errmsg() : strerror(err));
            rc = -EIO;
            goto done;
        }
        why = check_node(fs, z, ino, buf[top + 1], bs, (int)n->depth - 1, 0, key, &lv[top + 1]);
        if (why)
            goto corrupt;
        top++;
        idx[top] = 0;
    }
    goto done;
corrupt:
    /* the kernel's iget accepted the inode: reading it is an I/O error */
    if (bad)
        gk_error("inode %llu: extent tree block %llu: %s (corrupt extent tree)",
                 (unsigned long long)ino, (unsigned long long)bad, why);
    else
        gk_error("inode %llu: extent tree: %s (corrupt inode)", (unsigned long long)ino, why);
    rc = -EIO;
done:
    for (int i = 0; i <= EXT_MAX_DEPTH; i++)
        free(buf[i]);
    return rc;
}
