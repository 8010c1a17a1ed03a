/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gmount: the pieces of the FUSE daemon (tools/gmount/).
 *
 * main.c    options, the guest, fork / readiness, the FUSE session
 * fsops.c   the guest VFS as FUSE operations (-i / -m)
 * devops.c  the guest's block devices as files (--devices)
 * pool.c    the guest sessions the FUSE threads share
 *
 * Threads: fuse_loop_mt() serves requests from several threads; a
 * gk_guest (VFS, drivers, devices) is used by one thread at a time
 * (HACKING, Threads), so each request takes a session of the pool for
 * itself (pool.c says how read-only mounts get several).  Reads of
 * unchanged files are served from the kernel's page cache on read-only
 * mounts (kernel_cache), so most repeated reads never reach us.
 */
#ifndef GK_GMOUNT_H
#define GK_GMOUNT_H

#define FUSE_USE_VERSION 312
#include <fuse.h>
#include <pthread.h>

#include "common.h"

/* The pool of guest sessions (pool.c): gm_take returns one for this
 * thread alone (slot: what gm_give takes back). */
#define GM_POOL_MAX 4
typedef struct gm_slot {
    pthread_mutex_t mu;
    gk_guest *g;
} gm_slot;
void gm_pool_init(gk_guest *first, int max, gk_guest *(*open_more)(void));
gk_guest *gm_take(int *slot);
void gm_give(int slot);
/* The first session (slot 0), taken: --rw has only this one. */
gk_guest *gm_take_first(void);
void gm_pool_free(void);

/* An open file or directory: the same in every session. */
typedef struct gm_fh {
    int mnt;               /* index in the VFS's mount table             */
    uint64_t ino;
} gm_fh;
int gm_mount_index(gk_guest *g, const gk_mount *m);
int gm_node_in(gk_guest *g, const gm_fh *fh, gk_node *out);

typedef struct gm_state {
    int rw;
    int dirty;             /* a change since the last gk_vfs_sync (slot 0) */
} gm_state;

extern gm_state gm;

/* The operation tables. */
extern const struct fuse_operations gm_fs_ops;
extern const struct fuse_operations gm_dev_ops;

/* --devices: build the table of device files from the launched guest. */
void gm_dev_setup(gk_guest *g);

/* Large reads: what both operation tables ask of the kernel at init. */
void gm_conn_init(struct fuse_conn_info *conn);

/* Commit pending changes (rw) of g, the session taken by the caller. */
void gm_sync_locked(gk_guest *g, const char *why);

#endif
