/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Between the parts of the NTFS driver (fs/ntfs.c, fs/ntfs-io.c). */
#ifndef GK_NTFS_INT_H
#define GK_NTFS_INT_H

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/device.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/ea.h>
#include <ntfs-3g/index.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/logfile.h>
#include <ntfs-3g/logging.h>
#include <ntfs-3g/reparse.h>
#include <ntfs-3g/unistr.h>
#include <ntfs-3g/volume.h>
#include <ntfs-3g/cache.h>

#include "fs-int.h"

/* A libntfs-3g device reading dev (no reference taken: the gk_fs holds
 * one).  Read-only: opening it for writing fails with EROFS. */
struct ntfs_device *gk_ntfs_device_new(gk_dev *dev);
/* Free what gk_ntfs_device_new allocated besides the ntfs_device itself
 * (which ntfs_umount, or ntfs_device_free, frees). */
void gk_ntfs_device_free_private(struct ntfs_device *nd);
void *gk_ntfs_device_private(struct ntfs_device *nd);

/* Route libntfs-3g's log to us (once per process). */
void gk_ntfs_init(void);
/* The reason of the last failure on this thread: the first error
 * libntfs-3g logged since gk_ntfs_clear(), else strerror(eno). */
const char *gk_ntfs_reason(int eno);
void gk_ntfs_clear(void);
void gk_ntfs_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
