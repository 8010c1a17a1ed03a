/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gmount: the pool of guest sessions the FUSE threads share.
 *
 * A gk_guest (its images, devices, VFS and filesystem drivers, with their
 * caches) is used by one thread at a time (HACKING, Threads).  So that
 * readers really run in parallel, a read-only mount opens the same images
 * again, up to GM_POOL_MAX times, when every session is busy: each session
 * is a slot with its own lock, a request takes any free slot (or waits for
 * one), and what it resolves stays inside that session.  An open file
 * keeps (mount number, inode), which means the same file in every session:
 * the sessions are opened with the same options, so their mount tables are
 * built in the same order.  A --rw mount has one session (the writes and
 * every cache must be one).  A session that cannot be opened again (an
 * image gone) just leaves the pool smaller. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gmount.h"

static gm_slot pool[GM_POOL_MAX];
static int npool;                  /* slots published (atomic)          */
static int maxpool = 1;
static pthread_mutex_t grow_mu = PTHREAD_MUTEX_INITIALIZER;
static gk_guest *(*opener)(void);
static __thread unsigned hint;

void gm_pool_init(gk_guest *first, int max, gk_guest *(*open_more)(void))
{
    pthread_mutex_init(&pool[0].mu, NULL);
    pool[0].g = first;
    __atomic_store_n(&npool, 1, __ATOMIC_RELEASE);
    maxpool = max < 1 ? 1 : max > GM_POOL_MAX ? GM_POOL_MAX : max;
    opener = open_more;
}

gk_guest *gm_take(int *slot)
{
    int n = __atomic_load_n(&npool, __ATOMIC_ACQUIRE);
    for (int k = 0; k < n; k++) {
        int i = (int)((hint + (unsigned)k) % (unsigned)n);
        if (pthread_mutex_trylock(&pool[i].mu) == 0) {
            hint = (unsigned)i;
            *slot = i;
            return pool[i].g;
        }
    }
    /* all busy: one more session, if there may be more (one opener at a
     * time; the others wait for a slot meanwhile) */
    if (n < maxpool && opener && pthread_mutex_trylock(&grow_mu) == 0) {
        n = __atomic_load_n(&npool, __ATOMIC_ACQUIRE);
        gk_guest *g = n < maxpool ? opener() : NULL;
        if (g) {
            pthread_mutex_init(&pool[n].mu, NULL);
            pthread_mutex_lock(&pool[n].mu);
            pool[n].g = g;
            __atomic_store_n(&npool, n + 1, __ATOMIC_RELEASE);
            pthread_mutex_unlock(&grow_mu);
            gk_debug("session %d of %d opened (the others were busy)", n + 1, maxpool);
            *slot = n;
            return g;
        }
        maxpool = n;               /* it failed once: stay at n */
        pthread_mutex_unlock(&grow_mu);
    }
    int i = (int)(hint % (unsigned)n);
    pthread_mutex_lock(&pool[i].mu);
    *slot = i;
    return pool[i].g;
}

void gm_give(int slot)
{
    pthread_mutex_unlock(&pool[slot].mu);
}

gk_guest *gm_take_first(void)
{
    pthread_mutex_lock(&pool[0].mu);
    return pool[0].g;
}

void gm_pool_free(void)
{
    int n = __atomic_load_n(&npool, __ATOMIC_ACQUIRE);
    for (int i = n - 1; i >= 0; i--) {
        pthread_mutex_lock(&pool[i].mu);
        gk_guest_free(pool[i].g);
        pool[i].g = NULL;
        pthread_mutex_unlock(&pool[i].mu);
    }
    __atomic_store_n(&npool, 0, __ATOMIC_RELEASE);
}

int gm_mount_index(gk_guest *g, const gk_mount *m)
{
    int n = gk_vfs_nmounts(g->vfs);
    for (int i = 0; i < n; i++)
        if (gk_vfs_mount_at(g->vfs, i) == m)
            return i;
    return -1;
}

int gm_node_in(gk_guest *g, const gm_fh *fh, gk_node *out)
{
    if (fh->mnt < 0 || fh->mnt >= gk_vfs_nmounts(g->vfs))
        return -ESTALE;
    out->mnt = gk_vfs_mount_at(g->vfs, fh->mnt);
    out->ino = fh->ino;
    return 0;
}
