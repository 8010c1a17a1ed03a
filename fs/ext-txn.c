/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The transaction store of the ext write side, and its JBD2 writer.
 *
 * While a filesystem is open for writing, every block libext2fs writes
 * (inode tables, bitmaps, group descriptors, the superblock, directory,
 * extent, xattr and symlink blocks) lands here instead of on the device;
 * reads through the io_manager see it.  File data does not come here: the
 * write side writes it straight to blocks that are free in what is on the
 * device (ordered mode).
 *
 * An operation is bracketed by gk_txn_op_begin/end; a failed operation
 * puts back what it changed (an undo log of the blocks it touched first),
 * so nothing half-done is ever committed.  gk_txn_commit makes the store
 * durable, in this order, with a flush after each step:
 *   1. the file data already written,
 *   2. the journal: descriptor blocks and copies of the blocks (from the
 *      log's first block), and the journal superblock pointing at them,
 *   3. the commit block (from here on, replay gives the new state),
 *   4. the blocks in place (the checkpoint),
 *   5. the journal superblock marked empty.
 * The log never holds more than the one transaction being committed, so no
 * revoke records are needed.  needs_recovery stays set in the superblock
 * for the whole session (gk_txn_mark_recovery), so that the kernel and
 * e2fsck replay a committed transaction whatever step a crash interrupts.
 * Without a journal (ext2) step 2, 3 and 5 are skipped: best effort.
 *
 * Format: the kernel's Documentation/filesystems/ext4/journal.rst, the same
 * facts fs/journal.c reads with.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ext-int.h"
#include "jbd2.h"

/* What a transaction may hold in memory, whatever the journal allows. */
#define TXN_MEM_MAX (32u << 20)
/* A journal with room for fewer blocks than this is not worth using. */
#define TXN_MIN_BLOCKS 16

struct tblk {
    uint64_t blk;
    uint8_t *data;
    unsigned gen;                 /* the operation that saved its undo copy */
    struct tblk *next;            /* hash chain */
};

struct undo {
    uint64_t blk;
    uint8_t *old;                 /* NULL: the block was not in the store */
};

struct gk_txn {
    gk_dev *dev;
    unsigned bs;
    uint64_t nblocks;
    struct tblk **tab;
    size_t cap, n;
    unsigned gen;                 /* current operation's number */
    int in_op;
    struct undo *undo;
    size_t nundo, capundo;
    uint8_t *tmp;
    size_t capacity;
    /* what a block holds before the store: the device, with a journal
     * replayed in memory laid over it until it is written home */
    int (*base)(void *ud, uint64_t off, size_t len, void *buf);
    void *base_ud;
    /* the internal journal */
    int journal;
    ext2_ino_t jino;
    uint8_t *jsb;                 /* journal block 0, as on the device */
    uint64_t jsb_pblk;
    uint32_t first, last, seq;
    uint32_t compat, incompat;
    int csum;                     /* v2 or v3 */
    uint32_t seed;
    size_t tagsize;
    size_t tpd;                   /* tags per descriptor block */
    uint64_t *jmap;               /* log block first+i -> device block */
    uint32_t jmapn;
};

/* ------------------------------------------------------------------ */
/* The store                                                           */

static size_t hslot(const struct gk_txn *t, uint64_t blk)
{
    uint64_t h = blk * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 17) & (t->cap - 1);
}

static struct tblk *find(const struct gk_txn *t, uint64_t blk)
{
    for (struct tblk *x = t->tab[hslot(t, blk)]; x; x = x->next)
        if (x->blk == blk)
            return x;
    return NULL;
}

static void grow(struct gk_txn *t)
{
    size_t oldcap = t->cap;
    struct tblk **old = t->tab;
    t->cap *= 2;
    t->tab = gk_calloc(t->cap, sizeof *t->tab);
    for (size_t i = 0; i < oldcap; i++)
        for (struct tblk *x = old[i], *nx; x; x = nx) {
            nx = x->next;
            size_t s = hslot(t, x->blk);
            x->next = t->tab[s];
            t->tab[s] = x;
        }
    free(old);
}

static struct tblk *insert(struct gk_txn *t, uint64_t blk, const uint8_t *data)
{
    if ((t->n + 1) * 4 > t->cap * 3)
        grow(t);
    struct tblk *x = gk_malloc(sizeof *x);
    x->blk = blk;
    x->data = gk_malloc(t->bs);
    memcpy(x->data, data, t->bs);
    x->gen = t->gen;
    size_t s = hslot(t, blk);
    x->next = t->tab[s];
    t->tab[s] = x;
    t->n++;
    return x;
}

static void remove_blk(struct gk_txn *t, uint64_t blk)
{
    for (struct tblk **p = &t->tab[hslot(t, blk)]; *p; p = &(*p)->next)
        if ((*p)->blk == blk) {
            struct tblk *x = *p;
            *p = x->next;
            free(x->data);
            free(x);
            t->n--;
            return;
        }
}

static void clear_store(struct gk_txn *t)
{
    for (size_t i = 0; i < t->cap; i++) {
        for (struct tblk *x = t->tab[i], *nx; x; x = nx) {
            nx = x->next;
            free(x->data);
            free(x);
        }
        t->tab[i] = NULL;
    }
    t->n = 0;
}

static void push_undo(struct gk_txn *t, uint64_t blk, const uint8_t *old)
{
    if (!t->in_op)
        return;
    if (t->nundo == t->capundo) {
        t->capundo = t->capundo ? t->capundo * 2 : 64;
        t->undo = gk_realloc(t->undo, t->capundo * sizeof *t->undo);
    }
    uint8_t *copy = NULL;
    if (old) {
        copy = gk_malloc(t->bs);
        memcpy(copy, old, t->bs);
    }
    t->undo[t->nundo++] = (struct undo){blk, copy};
}

struct gk_txn *gk_txn_new(gk_dev *dev, unsigned bs, uint64_t nblocks)
{
    struct gk_txn *t = gk_calloc(1, sizeof *t);
    t->dev = dev;
    t->bs = bs;
    t->nblocks = nblocks;
    t->cap = 1024;
    t->tab = gk_calloc(t->cap, sizeof *t->tab);
    t->tmp = gk_malloc(bs);
    t->capacity = TXN_MEM_MAX / bs;
    return t;
}

void gk_txn_free(struct gk_txn *t)
{
    if (!t)
        return;
    clear_store(t);
    for (size_t i = 0; i < t->nundo; i++)
        free(t->undo[i].old);
    free(t->undo);
    free(t->tab);
    free(t->tmp);
    free(t->jsb);
    free(t->jmap);
    free(t);
}

void gk_txn_set_base(struct gk_txn *t, int (*base)(void *ud, uint64_t off, size_t len, void *buf),
                     void *ud)
{
    t->base = base;
    t->base_ud = ud;
}

size_t gk_txn_nblocks(struct gk_txn *t)
{
    return t->n;
}

size_t gk_txn_capacity(struct gk_txn *t)
{
    return t->capacity;
}

int gk_txn_has_journal(struct gk_txn *t)
{
    return t->journal;
}

errcode_t gk_txn_write(struct gk_txn *t, uint64_t off, size_t len, const void *buf)
{
    const uint8_t *src = buf;
    uint64_t bs = t->bs;
    if (!len)
        return 0;
    for (uint64_t b = off / bs; b <= (off + len - 1) / bs; b++) {
        uint64_t bstart = b * bs;
        uint64_t s = bstart > off ? bstart : off;
        uint64_t e = bstart + bs < off + len ? bstart + bs : off + len;
        const uint8_t *piece = src + (s - off);
        size_t at = (size_t)(s - bstart), plen = (size_t)(e - s);
        if (b >= t->nblocks)
            return EXT2_ET_SHORT_WRITE;
        struct tblk *x = find(t, b);
        if (!x) {
            /* what the block holds now: a write that changes nothing is
             * dropped (libext2fs rewrites whole tables and blocks) */
            if (t->base ? t->base(t->base_ud, bstart, bs, t->tmp) != 0
                        : gk_pread(t->dev, t->tmp, bs, bstart) < 0)
                return EXT2_ET_SHORT_READ;
            if (memcmp(t->tmp + at, piece, plen) == 0)
                continue;
            memcpy(t->tmp + at, piece, plen);
            insert(t, b, t->tmp);
            push_undo(t, b, NULL);
            continue;
        }
        if (memcmp(x->data + at, piece, plen) == 0)
            continue;
        if (t->in_op && x->gen != t->gen) {
            push_undo(t, b, x->data);
            x->gen = t->gen;
        }
        memcpy(x->data + at, piece, plen);
    }
    return 0;
}

void gk_txn_overlay(struct gk_txn *t, uint64_t off, size_t len, void *buf)
{
    if (!t->n || !len)
        return;
    uint64_t bs = t->bs;
    uint64_t first = off / bs, last = (off + len - 1) / bs;
    if (last - first > 4 * t->n) {
        /* a long read: walk the store instead of the range */
        for (size_t i = 0; i < t->cap; i++)
            for (struct tblk *x = t->tab[i]; x; x = x->next) {
                if (x->blk < first || x->blk > last)
                    continue;
                uint64_t bstart = x->blk * bs;
                uint64_t s = bstart > off ? bstart : off;
                uint64_t e = bstart + bs < off + len ? bstart + bs : off + len;
                memcpy((uint8_t *)buf + (s - off), x->data + (s - bstart), e - s);
            }
        return;
    }
    for (uint64_t b = first; b <= last; b++) {
        struct tblk *x = find(t, b);
        if (!x)
            continue;
        uint64_t bstart = b * bs;
        uint64_t s = bstart > off ? bstart : off;
        uint64_t e = bstart + bs < off + len ? bstart + bs : off + len;
        memcpy((uint8_t *)buf + (s - off), x->data + (s - bstart), e - s);
    }
}

void gk_txn_op_begin(struct gk_txn *t)
{
    t->gen++;
    t->in_op = 1;
    for (size_t i = 0; i < t->nundo; i++)
        free(t->undo[i].old);
    t->nundo = 0;
}

void gk_txn_op_end(struct gk_txn *t, int ok)
{
    /* newest first: a block the operation added and then changed is
     * restored by its first entry last */
    for (size_t i = t->nundo; i-- > 0;) {
        struct undo *u = &t->undo[i];
        if (!ok) {
            if (!u->old) {
                remove_blk(t, u->blk);
            } else {
                struct tblk *x = find(t, u->blk);
                if (x)
                    memcpy(x->data, u->old, t->bs);
            }
        }
        free(u->old);
    }
    t->nundo = 0;
    /* outside an operation nothing is undone */
    t->in_op = 0;
    t->gen++;
}

/* ------------------------------------------------------------------ */
/* The journal                                                         */

static int jfail(int eno, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int jfail(int eno, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gk_error("journal: %s", msg);
    return -eno;
}

/* The device block of journal block j (0 = the journal superblock). */
static int jmap(struct gk_txn *t, ext2_filsys fs, uint32_t j, uint64_t *pblk)
{
    if (j == 0) {
        *pblk = t->jsb_pblk;
        return 0;
    }
    if (j < t->first || j >= t->last)
        return jfail(EIO, "log block %u out of range", j);
    uint32_t i = j - t->first;
    if (i >= t->jmapn) {
        uint32_t n = t->last - t->first;
        t->jmap = gk_realloc(t->jmap, (size_t)n * sizeof *t->jmap);
        memset(t->jmap + t->jmapn, 0, (size_t)(n - t->jmapn) * sizeof *t->jmap);
        t->jmapn = n;
    }
    if (!t->jmap[i]) {
        blk64_t p = 0;
        errcode_t err = ext2fs_bmap2(fs, t->jino, NULL, NULL, 0, j, NULL, &p);
        if (err)
            return jfail(EIO, "block %u: %s", j, error_message(err));
        if (p == 0 || p >= t->nblocks)
            return jfail(EIO, "block %u is not mapped inside the filesystem", j);
        t->jmap[i] = p;
    }
    *pblk = t->jmap[i];
    return 0;
}

static uint32_t jsb_csum(struct gk_txn *t)
{
    return jbd2_csum_without(~0u, t->jsb, 1024, 0xfc);
}

static int write_jsb(struct gk_txn *t, uint32_t seq, uint32_t start)
{
    gk_put_be32(t->jsb + 24, seq);
    gk_put_be32(t->jsb + 28, start);
    if (t->csum)
        gk_put_be32(t->jsb + 0xfc, jsb_csum(t));
    if (gk_pwrite(t->dev, t->jsb, t->bs, t->jsb_pblk * t->bs) < 0)
        return -EIO;
    return 0;
}

int gk_txn_journal_load(struct gk_txn *t, ext2_filsys fs)
{
    struct ext2_super_block *sb = fs->super;
    t->journal = 0;
    if (!ext2fs_has_feature_journal(sb))
        return 0;
    static const uint8_t zero[16];
    if (!sb->s_journal_inum || sb->s_journal_dev || memcmp(sb->s_journal_uuid, zero, 16) != 0) {
        gk_error("the journal is on another device (external journal): writing is not supported");
        return -EOPNOTSUPP;
    }
    t->jino = sb->s_journal_inum;
    struct ext2_inode in;
    errcode_t err = ext2fs_read_inode(fs, t->jino, &in);
    if (err)
        return jfail(EIO, "inode %u: %s", t->jino, error_message(err));
    uint64_t isize = EXT2_I_SIZE(&in) / t->bs;
    if (!LINUX_S_ISREG(in.i_mode) || isize < 2)
        return jfail(EIO, "inode %u is not a usable journal", t->jino);
    blk64_t p = 0;
    err = ext2fs_bmap2(fs, t->jino, NULL, NULL, 0, 0, NULL, &p);
    if (err || p == 0 || p >= t->nblocks)
        return jfail(EIO, "superblock is not mapped");
    t->jsb_pblk = p;
    free(t->jsb);
    t->jsb = gk_malloc(t->bs);
    if (gk_pread(t->dev, t->jsb, t->bs, p * t->bs) < 0)
        return -EIO;
    const uint8_t *j = t->jsb;
    uint32_t type = gk_be32(j + 4);
    if (gk_be32(j) != JBD2_MAGIC || (type != JT_SB_V1 && type != JT_SB_V2))
        return jfail(EIO, "bad superblock magic (run e2fsck)");
    uint32_t bsz = gk_be32(j + 12), maxlen = gk_be32(j + 16);
    t->first = gk_be32(j + 20);
    t->seq = gk_be32(j + 24);
    uint32_t start = gk_be32(j + 28), jerrno = gk_be32(j + 32);
    if (bsz != t->bs || maxlen > isize || maxlen < 2 || t->first == 0 || t->first >= maxlen)
        return jfail(EIO, "corrupt superblock (block size %u, length %u, first block %u); run e2fsck",
                     bsz, maxlen, t->first);
    if (type == JT_SB_V2) {
        t->compat = gk_be32(j + 36);
        t->incompat = gk_be32(j + 40);
        uint32_t ro = gk_be32(j + 44);
        if ((t->incompat & ~JF_KNOWN) || ro)
            return jfail(EOPNOTSUPP, "unknown features (incompat 0x%x, ro_compat 0x%x)",
                         t->incompat & ~JF_KNOWN, ro);
        if (gk_be32(j + 64) > 1)
            return jfail(EOPNOTSUPP, "shared by %u filesystems", gk_be32(j + 64));
    } else {
        t->compat = t->incompat = 0;
    }
    if (jerrno)
        return jfail(EIO, "an error was recorded in the journal (errno %d): run e2fsck",
                     (int)jerrno);
    if (start && !ext2fs_has_feature_journal_needs_recovery(sb))
        return jfail(EIO, "the log is not empty but the filesystem is not marked for recovery: run e2fsck");
    if (jbd2_log_end(j, t->incompat, t->first, maxlen, &t->last) < 0)
        return jfail(EIO, "corrupt superblock (fast commit area)");
    if (!(t->incompat & JF_64BIT) && ext2fs_blocks_count(sb) > 0xffffffffull)
        return jfail(EOPNOTSUPP, "32-bit journal on a filesystem with more than 2^32 blocks");
    t->csum = !!(t->incompat & (JF_CSUM_V2 | JF_CSUM_V3));
    if (t->csum) {
        if (gk_be32(j + 0xfc) != jsb_csum(t))
            return jfail(EIO, "superblock checksum does not match: run e2fsck");
        t->seed = jbd2_csum_seed(j);
    }
    t->tagsize = jbd2_tag_size(t->incompat);
    size_t room = t->bs - 12 - (t->csum ? 4 : 0);
    t->tpd = 1 + (room - t->tagsize - 16) / t->tagsize;
    /* n blocks take n + ceil(n / tpd) descriptor blocks + 1 commit block */
    uint64_t space = t->last - t->first;
    uint64_t n = space > 1 ? (space - 1) * t->tpd / (t->tpd + 1) : 0;
    while (n && n + (n + t->tpd - 1) / t->tpd + 1 > space)
        n--;
    if (n < TXN_MIN_BLOCKS)
        return jfail(EOPNOTSUPP, "too small (%llu blocks)", (unsigned long long)space);
    if (n < t->capacity)
        t->capacity = (size_t)n;
    free(t->jmap);
    t->jmap = NULL;
    t->jmapn = 0;
    t->journal = 1;
    return 0;
}

static int sb_rmw(struct gk_txn *t, ext2_filsys fs, int on)
{
    uint8_t raw[SUPERBLOCK_SIZE];
    if (gk_pread(t->dev, raw, sizeof raw, SUPERBLOCK_OFFSET) < 0)
        return -EIO;
    struct ext2_super_block *sb = (struct ext2_super_block *)raw;
    if (sb->s_magic != EXT2_SUPER_MAGIC) {
        gk_error("superblock changed under us (bad magic)");
        return -EIO;
    }
    if (on)
        ext2fs_set_feature_journal_needs_recovery(sb);
    else
        ext2fs_clear_feature_journal_needs_recovery(sb);
    ext2fs_superblock_csum_set(fs, sb);
    if (gk_pwrite(t->dev, raw, sizeof raw, SUPERBLOCK_OFFSET) < 0 || gk_flush(t->dev) < 0)
        return -EIO;
    return 0;
}

int gk_txn_mark_recovery(struct gk_txn *t, ext2_filsys fs, int on)
{
    if (on)
        ext2fs_set_feature_journal_needs_recovery(fs->super);
    else
        ext2fs_clear_feature_journal_needs_recovery(fs->super);
    /* keep what the store holds of the superblock in step */
    struct tblk *x = find(t, SUPERBLOCK_OFFSET / t->bs);
    if (x) {
        struct ext2_super_block *sb =
            (struct ext2_super_block *)(x->data + SUPERBLOCK_OFFSET % t->bs);
        if (on)
            ext2fs_set_feature_journal_needs_recovery(sb);
        else
            ext2fs_clear_feature_journal_needs_recovery(sb);
        ext2fs_superblock_csum_set(fs, sb);
    }
    return sb_rmw(t, fs, on);
}

int gk_txn_replay_home(struct gk_txn *t, ext2_filsys fs, const gk_jblock *ovl, size_t n)
{
    (void)fs;
    for (size_t i = 0; i < n; i++) {
        if (ovl[i].blk >= t->nblocks)
            continue;
        if (gk_pread(t->dev, t->tmp, t->bs, ovl[i].src) < 0)
            return -EIO;
        if (ovl[i].escaped)
            gk_put_be32(t->tmp, JBD2_MAGIC);
        if (gk_pwrite(t->dev, t->tmp, t->bs, ovl[i].blk * t->bs) < 0)
            return -EIO;
    }
    if (gk_flush(t->dev) < 0)
        return -EIO;
    /* empty the log; later transactions must not be taken for the ones
     * just replayed, and there are at most (length / 2) of them */
    if (t->journal) {
        uint32_t maxlen = gk_be32(t->jsb + 16);
        t->seq = gk_be32(t->jsb + 24) + maxlen;
        if (write_jsb(t, t->seq, 0) < 0 || gk_flush(t->dev) < 0)
            return -EIO;
    }
    return 0;
}

static int cmp_tblk(const void *a, const void *b)
{
    const struct tblk *x = *(const struct tblk *const *)a, *y = *(const struct tblk *const *)b;
    return x->blk < y->blk ? -1 : x->blk > y->blk;
}

/* Step 2 and 3 of a commit: the log and its commit block. */
static int write_log(struct gk_txn *t, ext2_filsys fs, struct tblk **v, size_t n)
{
    uint32_t tid = t->seq;
    uint32_t pos = t->first;
    uint32_t crc1 = ~0u;                /* v1 (compat) checksum of the blocks */
    int v1 = !t->csum && (t->compat & JC_CHECKSUM);
    int has64 = !!(t->incompat & JF_64BIT), v3 = !!(t->incompat & JF_CSUM_V3);
    uint8_t *desc = gk_malloc(t->bs);
    uint8_t *copies = gk_malloc((size_t)t->tpd * t->bs);
    uint8_t seqbe[4];
    gk_put_be32(seqbe, tid);
    uint32_t seqcsum = t->csum ? ext2fs_crc32c_le(t->seed, seqbe, 4) : 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        size_t k = n - i < t->tpd ? n - i : t->tpd;
        memset(desc, 0, t->bs);
        gk_put_be32(desc, JBD2_MAGIC);
        gk_put_be32(desc + 4, JT_DESCRIPTOR);
        gk_put_be32(desc + 8, tid);
        size_t off = 12;
        for (size_t j = 0; j < k; j++) {
            const struct tblk *x = v[i + j];
            uint8_t *c = copies + j * t->bs;
            memcpy(c, x->data, t->bs);
            uint32_t flags = 0;
            if (gk_be32(c) == JBD2_MAGIC) {
                memset(c, 0, 4);        /* escaped: replay puts the magic back */
                flags |= TAG_ESCAPE;
            }
            if (j > 0)
                flags |= TAG_SAME_UUID;
            if (j == k - 1)
                flags |= TAG_LAST;
            uint32_t tc = t->csum ? ext2fs_crc32c_le(seqcsum, c, t->bs) : 0;
            uint8_t *tag = desc + off;
            gk_put_be32(tag, (uint32_t)x->blk);
            if (v3) {
                gk_put_be32(tag + 4, flags);
                gk_put_be32(tag + 8, (uint32_t)(x->blk >> 32));
                gk_put_be32(tag + 12, tc);
            } else {
                gk_put_be16(tag + 4, (uint16_t)tc);
                gk_put_be16(tag + 6, (uint16_t)flags);
                if (has64)
                    gk_put_be32(tag + 8, (uint32_t)(x->blk >> 32));
            }
            off += t->tagsize;
            if (j == 0) {
                memcpy(desc + off, t->jsb + 48, 16);
                off += 16;
            }
        }
        if (t->csum)
            gk_put_be32(desc + t->bs - 4, ext2fs_crc32c_le(t->seed, desc, t->bs));
        if (v1) {
            crc1 = ext2fs_crc32_be(crc1, desc, t->bs);
            for (size_t j = 0; j < k; j++)
                crc1 = ext2fs_crc32_be(crc1, copies + j * t->bs, t->bs);
        }
        uint64_t pb;
        if ((rc = jmap(t, fs, pos, &pb)) < 0)
            break;
        if (gk_pwrite(t->dev, desc, t->bs, pb * t->bs) < 0) {
            rc = -EIO;
            break;
        }
        pos++;
        for (size_t j = 0; j < k; j++, pos++) {
            if ((rc = jmap(t, fs, pos, &pb)) < 0)
                break;
            if (gk_pwrite(t->dev, copies + j * t->bs, t->bs, pb * t->bs) < 0) {
                rc = -EIO;
                break;
            }
        }
        i += k;
    }
    free(copies);
    /* the log is complete; now the superblock that points at it */
    if (rc == 0 && (write_jsb(t, tid, t->first) < 0 || gk_flush(t->dev) < 0))
        rc = -EIO;
    if (rc == 0) {
        memset(desc, 0, t->bs);
        gk_put_be32(desc, JBD2_MAGIC);
        gk_put_be32(desc + 4, JT_COMMIT);
        gk_put_be32(desc + 8, tid);
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        gk_put_be32(desc + 48, (uint32_t)((uint64_t)now.tv_sec >> 32));
        gk_put_be32(desc + 52, (uint32_t)now.tv_sec);
        gk_put_be32(desc + 56, (uint32_t)now.tv_nsec);
        if (t->csum) {
            gk_put_be32(desc + 16, ext2fs_crc32c_le(t->seed, desc, t->bs));
        } else if (v1) {
            desc[12] = 1;               /* JBD2_CRC32_CHKSUM */
            desc[13] = 4;
            gk_put_be32(desc + 16, crc1);
        }
        uint64_t pb;
        if ((rc = jmap(t, fs, pos, &pb)) == 0 &&
            (gk_pwrite(t->dev, desc, t->bs, pb * t->bs) < 0 || gk_flush(t->dev) < 0))
            rc = -EIO;
    }
    free(desc);
    return rc;
}

int gk_txn_commit(struct gk_txn *t, ext2_filsys fs)
{
    if (!t->n)
        return 0;
    if (t->journal && t->n > t->capacity) {
        gk_error("journal: a transaction of %zu blocks does not fit (%zu)", t->n, t->capacity);
        return -ENOSPC;
    }
    struct tblk **v = gk_malloc(t->n * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < t->cap; i++)
        for (struct tblk *x = t->tab[i]; x; x = x->next)
            v[n++] = x;
    qsort(v, n, sizeof *v, cmp_tblk);
    int rc = 0;
    /* 1: the data the new metadata points at */
    if (gk_flush(t->dev) < 0)
        rc = -EIO;
    /* 2, 3: the log */
    if (rc == 0 && t->journal)
        rc = write_log(t, fs, v, n);
    /* 4: in place, runs of neighbouring blocks in one write */
    uint8_t *run = rc == 0 ? gk_malloc((size_t)64 * t->bs) : NULL;
    for (size_t i = 0; i < n && rc == 0;) {
        size_t k = 1;
        memcpy(run, v[i]->data, t->bs);
        while (i + k < n && k < 64 && v[i + k]->blk == v[i]->blk + k) {
            memcpy(run + k * t->bs, v[i + k]->data, t->bs);
            k++;
        }
        if (gk_pwrite(t->dev, run, k * t->bs, v[i]->blk * t->bs) < 0)
            rc = -EIO;
        i += k;
    }
    free(run);
    free(v);
    if (rc == 0 && gk_flush(t->dev) < 0)
        rc = -EIO;
    /* 5: the log is no longer needed */
    if (rc == 0 && t->journal) {
        t->seq++;
        if (write_jsb(t, t->seq, 0) < 0 || gk_flush(t->dev) < 0)
            rc = -EIO;
    }
    if (rc == 0)
        clear_store(t);
    else
        gk_error_prefix("commit");
    return rc;
}
