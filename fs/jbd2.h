/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The JBD2 journal format as fs/journal.c (replay) and fs/ext-txn.c (the
 * writer) both read it: block types, feature and tag flags, and the
 * computations that follow from the journal superblock alone.  Each file
 * keeps its own checks and messages.
 *
 * Format: the kernel's Documentation/filesystems/ext4/journal.rst. */
#ifndef GK_JBD2_H
#define GK_JBD2_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <ext2fs/ext2fs.h>
#include "blk.h"

#define JBD2_MAGIC 0xc03b3998u

/* block types (the big-endian word after the magic) */
enum { JT_DESCRIPTOR = 1, JT_COMMIT = 2, JT_SB_V1 = 3, JT_SB_V2 = 4, JT_REVOKE = 5 };

#define JC_CHECKSUM 0x1u                /* compat: CRC32 of the blocks in the commit */
#define JF_REVOKE 0x1u                  /* incompat */
#define JF_64BIT 0x2u
#define JF_ASYNC_COMMIT 0x4u
#define JF_CSUM_V2 0x8u
#define JF_CSUM_V3 0x10u
#define JF_FAST_COMMIT 0x20u
#define JF_KNOWN (JF_REVOKE | JF_64BIT | JF_ASYNC_COMMIT | JF_CSUM_V2 | JF_CSUM_V3 | JF_FAST_COMMIT)

/* descriptor tag flags */
#define TAG_ESCAPE 0x1u
#define TAG_SAME_UUID 0x2u
#define TAG_LAST 0x8u

/* Bytes of one descriptor tag (without the UUID that follows a tag
 * lacking TAG_SAME_UUID). */
static inline size_t jbd2_tag_size(uint32_t incompat)
{
    if (incompat & JF_CSUM_V3)
        return 16;
    size_t n = 12;
    if (incompat & JF_CSUM_V2)
        n += 2;
    if (!(incompat & JF_64BIT))
        n -= 4;
    return n;
}

/* The seed of v2/v3 checksums: crc32c of the journal's UUID. */
static inline uint32_t jbd2_csum_seed(const uint8_t *jsb)
{
    return ext2fs_crc32c_le(~0u, jsb + 48, 16);
}

/* crc32c (from seed) of b[0, len) read with its 4-byte checksum field at
 * offset at as zeros; b is left as it was. */
static inline uint32_t jbd2_csum_without(uint32_t seed, uint8_t *b, size_t len, size_t at)
{
    uint8_t save[4];
    memcpy(save, b + at, 4);
    memset(b + at, 0, 4);
    uint32_t c = ext2fs_crc32c_le(seed, b, len);
    memcpy(b + at, save, 4);
    return c;
}

/* Where the log of a journal of maxlen blocks whose log starts at first
 * ends: before the fast-commit area (256 blocks unless the superblock says
 * otherwise) when there is one.  -1 if that area leaves no log. */
static inline int jbd2_log_end(const uint8_t *jsb, uint32_t incompat, uint32_t first,
                               uint32_t maxlen, uint32_t *last)
{
    *last = maxlen;
    if (!(incompat & JF_FAST_COMMIT))
        return 0;
    uint32_t fc = gk_be32(jsb + 0x54);
    if (fc == 0)
        fc = 256;
    if (fc >= maxlen - first)
        return -1;
    *last = maxlen - fc;
    return 0;
}

#endif
