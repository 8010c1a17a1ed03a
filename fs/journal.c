/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JBD2 journal replay into memory.
 *
 * libext2fs has no replay function, and a file system with needs_recovery
 * read as it is on disk shows stale metadata.  We do what the kernel does
 * at mount time, but instead of writing the journalled blocks home we
 * return a map "filesystem block -> journal copy" that the io_manager in
 * fs/ext.c lays over the image.  The image is never written.
 *
 * Format: the kernel's Documentation/filesystems/ext4/journal.rst.  Three
 * passes over the circular log, as the kernel does: SCAN finds the last
 * complete transaction, REVOKE collects revoke records, REPLAY records the
 * latest copy of every block that was not revoked by the same or a later
 * transaction.  Everything read from the journal is bounds-checked; the
 * scan stops at a sequence gap, a bad magic or after one trip round the log.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ext-int.h"
#include "jbd2.h"
#include "u64map.h"

#define MAX_JOURNAL_BLOCKS 10240000u    /* the largest journal mke2fs -J size= makes */

enum pass { PASS_SCAN, PASS_REVOKE, PASS_REPLAY };

struct rec { uint64_t blk, src, order; int escaped; };

struct jr {
    ext2_filsys fs;
    gk_dev *dev;
    unsigned bs;
    uint64_t fsblocks;
    uint64_t *pmap;              /* journal block -> fs block */
    uint32_t nmap;
    uint32_t first, last;        /* the log is [first, last) */
    uint32_t incompat;
    int csum;                    /* v2 or v3 checksums */
    uint32_t csum_seed;
    size_t tagsize;
    uint32_t seq0, start, end_seq;
    uint8_t *buf;
    /* the revoke table: per filesystem block, the latest transaction
     * that revoked it */
    struct gk_u64map rev;
    struct rec *recs;
    size_t nrecs, caprecs;
    uint64_t bad_csum;
};

static int tid_geq(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) >= 0;
}

/* Map the journal's logical blocks from an inode (the journal inode, or
 * its backup in the superblock).  Indirect blocks are read directly: the
 * journal's own blocks are never journalled. */
static int map_indirect(struct jr *jr, uint64_t blk, int level, uint64_t *lblk)
{
    uint32_t per = jr->bs / 4;
    uint64_t span = 1;
    for (int i = 0; i < level; i++)
        span *= per;
    if (*lblk >= jr->nmap)
        return 0;
    if (blk == 0) {
        *lblk += span;
        return 0;
    }
    if (blk >= jr->fsblocks) {
        gk_error("journal indirect block %llu beyond the filesystem", (unsigned long long)blk);
        return -1;
    }
    uint8_t *b = gk_malloc(jr->bs);
    int rc = gk_pread(jr->dev, b, jr->bs, blk * jr->bs);
    for (uint32_t i = 0; rc == 0 && i < per && *lblk < jr->nmap; i++) {
        uint32_t e = gk_le32(b + 4 * i);
        if (level == 1) {
            jr->pmap[(*lblk)++] = e;
        } else {
            rc = map_indirect(jr, e, level - 1, lblk);
        }
    }
    free(b);
    return rc;
}

static int map_journal(struct jr *jr, ext2_ino_t ino, struct ext2_inode *in)
{
    uint64_t nblocks = EXT2_I_SIZE(in) / jr->bs;
    /* the journal lives inside the filesystem: it cannot be larger */
    if (nblocks < 2 || nblocks > MAX_JOURNAL_BLOCKS || nblocks > jr->fsblocks) {
        gk_error("journal inode %u has an unusable size (%llu blocks)", ino,
                 (unsigned long long)nblocks);
        return -1;
    }
    jr->nmap = (uint32_t)nblocks;
    free(jr->pmap);
    jr->pmap = gk_calloc(nblocks, sizeof *jr->pmap);
    if (in->i_flags & EXT4_EXTENTS_FL) {
        ext2_extent_handle_t h;
        errcode_t err = ext2fs_extent_open2(jr->fs, ino, in, &h);
        if (err) {
            gk_error("journal inode %u: %s", ino, error_message(err));
            return -1;
        }
        struct ext2fs_extent e;
        int op = EXT2_EXTENT_ROOT;
        uint64_t steps = 0, next = 0;
        while (++steps < 4 * (uint64_t)nblocks + 1024 && ext2fs_extent_get(h, op, &e) == 0) {
            op = EXT2_EXTENT_NEXT;
            if (!(e.e_flags & EXT2_EXTENT_FLAGS_LEAF) || (e.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT))
                continue;
            if (e.e_lblk < next)        /* out of order: a corrupt or looping tree */
                break;
            next = e.e_lblk + e.e_len;
            for (uint64_t k = 0; k < e.e_len && e.e_lblk + k < nblocks; k++)
                jr->pmap[e.e_lblk + k] = e.e_pblk + k;
        }
        ext2fs_extent_free(h);
        return 0;
    }
    uint64_t l = 0;
    for (int i = 0; i < EXT2_NDIR_BLOCKS && l < nblocks; i++)
        jr->pmap[l++] = in->i_block[i];
    for (int lvl = 1; lvl <= 3; lvl++)
        if (map_indirect(jr, in->i_block[EXT2_NDIR_BLOCKS + lvl - 1], lvl, &l) < 0)
            return -1;
    return 0;
}

/* A journal whose block map names one block twice is corrupt (the kernel's
 * would be too), and it is how a small image multiplies the work of a
 * replay: refuse it, so that every pass reads each block of the journal at
 * most once and the work is bounded by the journal's real size. */
static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int check_map(struct jr *jr)
{
    uint64_t *v = gk_malloc((size_t)jr->nmap * sizeof *v);
    size_t n = 0;
    for (uint32_t i = 0; i < jr->nmap; i++)
        if (jr->pmap[i])
            v[n++] = jr->pmap[i];
    qsort(v, n, sizeof *v, u64_cmp);
    for (size_t i = 1; i < n; i++) {
        if (v[i] == v[i - 1]) {
            gk_error("journal block map uses filesystem block %llu twice (corrupt journal inode)",
                     (unsigned long long)v[i]);
            free(v);
            return -1;
        }
    }
    free(v);
    return 0;
}

/* Read journal block j into jr->buf. */
static int jread(struct jr *jr, uint32_t j, uint64_t *src)
{
    if (j >= jr->nmap || jr->pmap[j] == 0 || jr->pmap[j] >= jr->fsblocks) {
        gk_error("journal block %u is not mapped to the filesystem", j);
        return -1;
    }
    uint64_t off = jr->pmap[j] * jr->bs;
    if (src)
        *src = off;
    return gk_pread(jr->dev, jr->buf, jr->bs, off);
}

static uint32_t jnext(struct jr *jr, uint32_t j)
{
    j++;
    if (j >= jr->last)
        j -= jr->last - jr->first;
    return j;
}

static int commit_csum_ok(struct jr *jr)
{
    if (!jr->csum)
        return 1;
    return jbd2_csum_without(jr->csum_seed, jr->buf, jr->bs, 16) == gk_be32(jr->buf + 16);
}

/* Descriptor and revoke blocks end in a crc32c of the block (with that
 * field zeroed) when the journal has v2/v3 checksums. */
static int tail_csum_ok(struct jr *jr, uint8_t *b)
{
    if (!jr->csum)
        return 1;
    return jbd2_csum_without(jr->csum_seed, b, jr->bs, jr->bs - 4) == gk_be32(b + jr->bs - 4);
}

static int data_csum_ok(struct jr *jr, uint32_t seq, uint32_t tagcsum)
{
    if (!jr->csum)
        return 1;
    uint8_t s[4];
    gk_put_be32(s, seq);
    uint32_t c = ext2fs_crc32c_le(jr->csum_seed, s, 4);
    c = ext2fs_crc32c_le(c, jr->buf, jr->bs);
    if (jr->incompat & JF_CSUM_V3)
        return c == tagcsum;
    return (c & 0xffff) == (tagcsum & 0xffff);
}

static int is_revoked(struct jr *jr, uint64_t blk, uint32_t seq)
{
    const uint64_t *r = gk_u64map_get(&jr->rev, blk);
    return r && tid_geq((uint32_t)*r, seq);
}

/* One entry per filesystem block, whatever the journal repeats: the table
 * grows with the distinct blocks of the filesystem, never with the number
 * of records (a crafted log repeating one revoke block ~10^10 times). */
static void add_revoke(struct jr *jr, uint64_t blk, uint32_t seq)
{
    if (blk >= jr->fsblocks)
        return;                  /* never replayed anyway */
    int added;
    uint64_t *r = gk_u64map_add(&jr->rev, blk, &added);
    if (added || tid_geq(seq, (uint32_t)*r))
        *r = seq;
}

static int rec_cmp(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;
    if (x->blk != y->blk)
        return x->blk < y->blk ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* One pass over the log.  Returns 0, or -1 on an error that makes the
 * journal unusable (only possible before anything is replayed). */
static int do_pass(struct jr *jr, enum pass pass)
{
    uint32_t seq = jr->seq0, j = jr->start;
    uint64_t budget = (uint64_t)(jr->last - jr->first);  /* one trip round the log */
    uint64_t order = 0;
    size_t tail = jr->csum ? 4 : 0;
    for (;;) {
        if (pass != PASS_SCAN && tid_geq(seq, jr->end_seq))
            break;
        if (budget-- == 0)
            break;
        if (jread(jr, j, NULL) < 0) {
            if (pass == PASS_SCAN)
                break;
            return -1;
        }
        const uint8_t *b = jr->buf;
        if (gk_be32(b) != JBD2_MAGIC || gk_be32(b + 8) != seq)
            break;
        uint32_t type = gk_be32(b + 4);
        j = jnext(jr, j);
        if (type == JT_DESCRIPTOR) {
            /* A descriptor that fails its checksum is stale or torn: like
             * the kernel's scan, the log ends before its transaction. */
            if (pass == PASS_SCAN && !tail_csum_ok(jr, jr->buf))
                break;
            /* Copy the tags first: reading the data blocks reuses buf. */
            size_t limit = jr->bs - tail;
            uint8_t *desc = gk_malloc(jr->bs);
            memcpy(desc, b, jr->bs);
            size_t off = 12;
            int stop = 0;
            while (!stop && off + jr->tagsize <= limit) {
                const uint8_t *t = desc + off;
                uint64_t blk = gk_be32(t);
                uint32_t flags, tcsum;
                if (jr->incompat & JF_CSUM_V3) {
                    flags = gk_be32(t + 4);
                    tcsum = gk_be32(t + 12);
                } else {
                    flags = gk_be16(t + 6);
                    tcsum = gk_be16(t + 4);
                }
                if (jr->incompat & JF_64BIT)
                    blk |= (uint64_t)gk_be32(t + 8) << 32;
                off += jr->tagsize;
                if (!(flags & TAG_SAME_UUID))
                    off += 16;
                stop = !!(flags & TAG_LAST);
                if (budget-- == 0)
                    break;
                if (pass == PASS_REPLAY && !is_revoked(jr, blk, seq)) {
                    uint64_t src;
                    if (jread(jr, j, &src) < 0) {
                        free(desc);
                        return -1;
                    }
                    if (blk >= jr->fsblocks) {
                        gk_debug("journal: block %llu beyond the filesystem skipped",
                                 (unsigned long long)blk);
                    } else if (!data_csum_ok(jr, seq, tcsum)) {
                        jr->bad_csum++;
                    } else {
                        if (jr->nrecs == jr->caprecs) {
                            jr->caprecs = jr->caprecs ? jr->caprecs * 2 : 64;
                            jr->recs = gk_realloc(jr->recs, jr->caprecs * sizeof *jr->recs);
                        }
                        jr->recs[jr->nrecs++] = (struct rec){blk, src, order++, !!(flags & TAG_ESCAPE)};
                    }
                }
                j = jnext(jr, j);
            }
            free(desc);
        } else if (type == JT_COMMIT) {
            if (pass == PASS_SCAN && !commit_csum_ok(jr) && !(jr->incompat & JF_ASYNC_COMMIT))
                break;                  /* a torn commit ends the log */
            seq++;
        } else if (type == JT_REVOKE) {
            if (pass == PASS_REVOKE && !tail_csum_ok(jr, jr->buf)) {
                gk_error("a revoke block of transaction %u fails its checksum", seq);
                return -1;              /* the kernel refuses to recover */
            }
            if (pass == PASS_REVOKE) {
                size_t rcount = gk_be32(b + 12);
                size_t rs = (jr->incompat & JF_64BIT) ? 8 : 4;
                if (rcount > jr->bs - tail)
                    rcount = jr->bs - tail;
                for (size_t off = 16; off + rs <= rcount; off += rs) {
                    uint64_t blk = rs == 8 ? gk_be64(b + off) : gk_be32(b + off);
                    add_revoke(jr, blk, seq);
                }
            }
        } else {
            break;
        }
    }
    if (pass == PASS_SCAN)
        jr->end_seq = seq;
    return 0;
}

/* Map the journal from inode in and read its superblock into jr->buf. */
static int try_map(struct jr *jr, ext2_ino_t ino, struct ext2_inode *in)
{
    if (map_journal(jr, ino, in) < 0 || check_map(jr) < 0)
        return -1;
    if (jread(jr, 0, NULL) < 0) {
        gk_error_prefix("journal superblock");
        return -1;
    }
    if (gk_be32(jr->buf) != JBD2_MAGIC) {
        gk_error("journal superblock is corrupt (bad magic)");
        return -1;
    }
    return 0;
}

static int load_journal(struct jr *jr)
{
    ext2_filsys fs = jr->fs;
    struct ext2_inode inode;
    ext2_ino_t ino = fs->super->s_journal_inum;
    errcode_t err = ext2fs_read_inode(fs, ino, &inode);
    int ok = 0;
    if (err)
        gk_error("journal inode %u: %s", ino, error_message(err));
    else
        ok = try_map(jr, ino, &inode) == 0;
    if (!ok && fs->super->s_jnl_backup_type == EXT3_JNL_BACKUP_BLOCKS) {
        /* Like e2fsck: the superblock keeps a copy of the journal inode's
         * block map and size for when the inode table is damaged. */
        memset(&inode, 0, sizeof inode);
        memcpy(inode.i_block, fs->super->s_jnl_blocks, sizeof inode.i_block);
        inode.i_size_high = fs->super->s_jnl_blocks[15];
        inode.i_size = fs->super->s_jnl_blocks[16];
        inode.i_links_count = 1;
        inode.i_mode = LINUX_S_IFREG | 0600;
        if (gk_le16(inode.i_block) == 0xf30a)
            inode.i_flags |= EXT4_EXTENTS_FL;
        gk_debug("journal inode %u unusable, trying the superblock's backup", ino);
        ok = try_map(jr, ino, &inode) == 0;
    }
    if (!ok)
        return -1;
    const uint8_t *b = jr->buf;
    uint32_t type = gk_be32(b + 4);
    if (gk_be32(b) != JBD2_MAGIC || (type != JT_SB_V1 && type != JT_SB_V2)) {
        gk_error("journal superblock is corrupt (bad magic)");
        return -1;
    }
    uint32_t bsz = gk_be32(b + 12), maxlen = gk_be32(b + 16);
    jr->first = gk_be32(b + 20);
    jr->seq0 = gk_be32(b + 24);
    jr->start = gk_be32(b + 28);
    jr->incompat = type == JT_SB_V2 ? gk_be32(b + 40) : 0;
    if (bsz != jr->bs || maxlen > jr->nmap || jr->first == 0 || jr->first >= maxlen) {
        gk_error("journal superblock is corrupt (block size %u, length %u, first %u)", bsz, maxlen,
                 jr->first);
        return -1;
    }
    if (jr->incompat & ~JF_KNOWN) {
        gk_error("journal has unknown incompatible features 0x%x", jr->incompat & ~JF_KNOWN);
        return -1;
    }
    /* fast-commit blocks sit at the end of the journal; they are not
     * replayed (debugfs does not either) */
    if (jbd2_log_end(b, jr->incompat, jr->first, maxlen, &jr->last) < 0) {
        gk_error("journal superblock is corrupt (fast commit area)");
        return -1;
    }
    if (jr->start && (jr->start < jr->first || jr->start >= jr->last)) {
        gk_error("journal superblock is corrupt (log start %u)", jr->start);
        return -1;
    }
    jr->csum = !!(jr->incompat & (JF_CSUM_V2 | JF_CSUM_V3));
    if (jr->csum)
        jr->csum_seed = jbd2_csum_seed(b);
    jr->tagsize = jbd2_tag_size(jr->incompat);
    return 0;
}

int gk_journal_replay(ext2_filsys fs, gk_dev *dev, gk_jblock **out, size_t *n)
{
    struct jr jr = {0};
    int rc = -1;
    *out = NULL;
    *n = 0;
    jr.fs = fs;
    jr.dev = dev;
    jr.bs = (unsigned)fs->blocksize;
    jr.fsblocks = ext2fs_blocks_count(fs->super);
    jr.buf = gk_malloc(jr.bs);
    if (load_journal(&jr) < 0)
        goto out;
    if (jr.start == 0) {                 /* clean journal */
        rc = 0;
        goto out;
    }
    if (do_pass(&jr, PASS_SCAN) < 0 || do_pass(&jr, PASS_REVOKE) < 0 ||
        do_pass(&jr, PASS_REPLAY) < 0) {
        gk_error_prefix("journal replay");
        goto out;
    }
    if (jr.bad_csum)
        gk_warn("%s: journal: %llu blocks with bad checksums not replayed", dev->name,
                (unsigned long long)jr.bad_csum);
    /* Latest copy wins: sort by block, then by log order, keep the last. */
    if (jr.nrecs)
        qsort(jr.recs, jr.nrecs, sizeof *jr.recs, rec_cmp);
    gk_jblock *v = gk_malloc((jr.nrecs ? jr.nrecs : 1) * sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < jr.nrecs; i++) {
        if (i + 1 < jr.nrecs && jr.recs[i + 1].blk == jr.recs[i].blk)
            continue;
        v[k++] = (gk_jblock){jr.recs[i].blk, jr.recs[i].src, jr.recs[i].escaped};
    }
    gk_debug("%s: journal: replayed transactions %u..%u, %zu blocks", dev->name, jr.seq0,
             jr.end_seq, k);
    *out = v;
    *n = k;
    rc = 0;
out:
    free(jr.buf);
    free(jr.pmap);
    gk_u64map_clear(&jr.rev);
    free(jr.recs);
    return rc;
}
