/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private interface between fs/ext.c (the libext2fs driver and its
 * io_manager) and fs/journal.c (JBD2 replay into an in-memory overlay). */
#ifndef GK_EXT_INT_H
#define GK_EXT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <ext2fs/ext2fs.h>
#include "blk.h"

/* One replayed block: filesystem block blk reads as the journal block that
 * sits at byte offset src of the device; escaped blocks had their first four
 * bytes replaced (JBD2_FLAG_ESCAPE) and get the JBD2 magic back. */
typedef struct gk_jblock {
    uint64_t blk;
    uint64_t src;
    int escaped;
} gk_jblock;

/* Replay the internal journal of fs (opened read-only on dev, unreplayed)
 * into a sorted, duplicate-free list of overlay blocks.  Returns 0 with
 * *n == 0 when there is nothing to replay, -1 with gk_error() when the
 * journal cannot be used (the caller then reads the unreplayed state). */
int gk_journal_replay(ext2_filsys fs, gk_dev *dev, gk_jblock **out, size_t *n);

/* The io_manager over a gk_dev (fs/ext-io.c).  ext2fs_open2 passes only a
 * name, so each gkio is registered under the name gkio_name() gives. */
struct gkio;
extern io_manager gk_ext_io_manager;
struct gkio *gkio_new(gk_dev *dev);
void gkio_free(struct gkio *io);
void gkio_name(struct gkio *io, char *buf, size_t n);
/* Install (takes ownership) or, with NULL, drop the journal overlay. */
void gkio_set_overlay(struct gkio *io, gk_jblock *ovl, size_t n, unsigned bs);
/* Read len bytes at byte offset off, overlay applied: 0 or an errno value. */
int gkio_read(struct gkio *io, uint64_t off, size_t len, void *buf);

#endif
