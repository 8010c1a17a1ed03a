/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Named secrets (blk.h gk_secret_define): the tool that parsed them keeps
 * the key material in gk_secret_alloc memory; this table only maps names
 * to it, so that creation options can name a secret as qemu's do.  Few
 * entries (one per --object): a list searched linearly. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "blk.h"

struct named {
    char *id;
    const void *data;
    size_t len;
};

static struct named *table;
static size_t ntable;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

int gk_secret_define(const char *id, const void *data, size_t len)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < ntable; i++)
        if (strcmp(table[i].id, id) == 0) {
            pthread_mutex_unlock(&lock);
            gk_error("attempt to add duplicate property '%s'", id);
            errno = EEXIST;
            return -1;
        }
    table = gk_realloc(table, (ntable + 1) * sizeof *table);
    table[ntable++] = (struct named){gk_strdup(id), data, len};
    pthread_mutex_unlock(&lock);
    return 0;
}

const void *gk_secret_find(const char *id, size_t *len)
{
    const void *r = NULL;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < ntable && !r; i++)
        if (strcmp(table[i].id, id) == 0) {
            r = table[i].data;
            *len = table[i].len;
        }
    pthread_mutex_unlock(&lock);
    if (!r) {
        gk_error("No secret with id '%s'", id);
        errno = ENOENT;
    }
    return r;
}
