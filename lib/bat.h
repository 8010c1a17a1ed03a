/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Block allocation tables, as VHD (lib/vhd.c), VDI (lib/vdi.c) and VHDX
 * (lib/vhdx.c) keep them: the disk cut into blocks of one size, a table in
 * the file with one entry per block saying where in the file its data is.
 * What they share is here: the table read as far as the format allows (the
 * entries kept as stored, so memory is the table's size in the file), the
 * lookup of a disk offset, reads and block status through it, blocks that
 * lie outside the file, and a new block appended with its entry updated in
 * crash-safe order.  How an entry encodes a block (its width, byte order,
 * states, units) stays in each format's file: its host/entry callbacks. */
#ifndef GK_BAT_H
#define GK_BAT_H

#include <stdint.h>

#include "blk-int.h"

/* What a format's host callback answers for a block that has no data in
 * the file (reads as zeros in this layer), and for one in a state the
 * format does not read (its refuse callback says why). */
#define GK_BAT_ABSENT UINT64_MAX
#define GK_BAT_BAD (UINT64_MAX - 1)

struct gk_bat;

struct gk_bat_ops {
    /* Where the data of the block of entry i (raw: the entry as stored,
     * decoded from its byte order) starts in the file, or GK_BAT_ABSENT,
     * or GK_BAT_BAD.  Formats that read entries of any value as qemu does
     * leave bounds to gk_bat_outside. */
    uint64_t (*host)(const struct gk_bat *b, uint64_t i, uint64_t raw);
    /* Why disk block blk (entry raw) is GK_BAT_BAD: -errno with gk_fail
     * (NULL: a general message). */
    int (*refuse)(const struct gk_bat *b, uint64_t blk, uint64_t raw);
    /* Writing only: the raw entry of a new block whose data starts at at. */
    uint64_t (*entry)(const struct gk_bat *b, uint64_t at);
};

struct gk_bat {
    const char *path;             /* for messages                          */
    const struct gk_bat_ops *ops;
    void *fmt;                    /* the format's state, for its callbacks */
    uint64_t block;               /* bytes of the disk per block           */
    uint64_t n;                   /* entries of the table                  */
    uint64_t have;                /* entries read; the rest read as raw 0  */
    uint64_t per_bitmap;          /* VHDX: a sector bitmap entry follows
                                   * every per_bitmap block entries; 0: no */
    unsigned width;               /* bytes per entry: 4 or 8               */
    int big_endian;
    uint8_t *raw;                 /* have entries, as stored               */
    uint64_t off;                 /* the table's place in the file         */
    uint64_t next;                /* writing: where the next block goes    */
    uint64_t align;               /* writing: new blocks aligned so        */
};

/* Entries of width bytes the file (of size fsize) holds from off. */
static inline uint64_t gk_bat_room(uint64_t fsize, uint64_t off, unsigned width)
{
    return off < fsize ? (fsize - off) / width : 0;
}

/* Read count (at most b->n) entries from b->off of file into b->raw (the
 * rest read as raw 0).  The caller has checked that the file holds them
 * (gk_bat_room).  0 or -errno with gk_error. */
int gk_bat_load(struct gk_bat *b, gk_dev *file, uint64_t count);
void gk_bat_clear(struct gk_bat *b);

/* Entry i as stored, decoded from its byte order (0 past what was read). */
uint64_t gk_bat_raw(const struct gk_bat *b, uint64_t i);

/* The entry index of disk block blk (sector bitmap entries skipped). */
static inline uint64_t gk_bat_index(const struct gk_bat *b, uint64_t blk)
{
    return b->per_bitmap ? blk + blk / b->per_bitmap : blk;
}

/* Where disk offset off is in the file, or GK_BAT_ABSENT (also for a block
 * past the table), or GK_BAT_BAD (no message: gk_bat_refuse). */
uint64_t gk_bat_lookup(const struct gk_bat *b, uint64_t off);

/* -errno with the message of why the block at disk offset off is
 * GK_BAT_BAD. */
int gk_bat_refuse(const struct gk_bat *b, uint64_t off);

/* Read [off, off+n) of the disk: blocks with data from file, absent ones
 * as zeros; 0 or -errno with gk_error. */
int gk_bat_pread(const struct gk_bat *b, gk_dev *file, void *buf, size_t n, uint64_t off);

/* Block status as qemu's VHD and VDI drivers answer it: one block with
 * data (flags GK_BS_DATA | GK_BS_OFFSET | data_flags, in file), or a run
 * of absent blocks reading as zeros. */
int gk_bat_block_status(const struct gk_bat *b, gk_dev *file, uint64_t off, uint64_t len, gk_extent *e,
                        unsigned data_flags);

/* The first entry from *i on with a block that does not lie in the first
 * fsize bytes of the file (it starts at or past fsize, or ends past it):
 * 1 with *i, the block's data start (*start) and end (*end, at most
 * UINT64_MAX), or 0 when there is none.  A block is b->block bytes from its
 * data start; with vsize non-zero, as qemu's VHDX check measures it, entry
 * i's is at most vsize - i * block bytes (the unsigned difference). */
int gk_bat_outside(const struct gk_bat *b, uint64_t fsize, uint64_t vsize, uint64_t *i, uint64_t *start,
                   uint64_t *end);

/* The end of the last block the table points at (0 if none). */
uint64_t gk_bat_blocks_end(const struct gk_bat *b);

/* Writing: give entry i a new block at b->next (aligned up to b->align):
 * the file grown to hold it first, so that it reads as zeros, then the
 * entry written in place.  A crash in between leaves an unreferenced block
 * at the end of the file, never an entry pointing past it.  0 or -errno
 * with gk_error. */
int gk_bat_append(struct gk_bat *b, gk_dev *file, uint64_t i);

#endif
