/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gmount: the pieces of the FUSE daemon (tools/gmount/).
 *
 * main.c    options, the guest, fork / readiness, the FUSE session
 * fsops.c   the guest VFS as FUSE operations (-i / -m)
 * devops.c  the guest's block devices as files (--devices)
 *
 * Threads: fuse_loop_mt() serves requests from several threads, but a
 * gk_vfs, its gk_fs drivers and the gk_devs under them are used by one
 * thread at a time (HACKING, Threads): every operation that touches them
 * holds gm_lock.  Requests still overlap in the kernel and in libfuse
 * (copying, page cache), and a slow request never blocks the others'
 * replies that are already computed.  Reads of unchanged files are served
 * from the kernel's page cache on read-only mounts (kernel_cache), so most
 * repeated reads never reach us.
 */
#ifndef GK_GMOUNT_H
#define GK_GMOUNT_H

#define FUSE_USE_VERSION 312
#include <fuse.h>
#include <pthread.h>

#include "common.h"

extern pthread_mutex_t gm_lock;

typedef struct gm_state {
    gk_guest *g;
    int rw;
    int dirty;             /* a change since the last gk_vfs_sync          */
} gm_state;

extern gm_state gm;

/* The operation tables. */
extern const struct fuse_operations gm_fs_ops;
extern const struct fuse_operations gm_dev_ops;

/* --devices: build the table of device files from the launched guest. */
void gm_dev_setup(gk_guest *g);

/* Large reads: what both operation tables ask of the kernel at init. */
void gm_conn_init(struct fuse_conn_info *conn);

/* Commit pending changes (rw): called with gm_lock held. */
void gm_sync_locked(const char *why);

#endif
