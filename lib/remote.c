/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the remote protocols (lib/nbd.c, http.c, rbd.c) share.
 *
 * - Their client libraries (libnbd, libcurl, librbd) are loaded with
 *   dlopen the first time a URI needs them: a tool reading a local file
 *   never loads them (libcurl alone brings some thirty libraries, more than
 *   gcat's whole work costs; bench/RESULTS.md).
 * - The end of their open (the device, its size rounded up to 512), their
 *   identity (a canonical id) and --untrusted's test (an id prefix).
 * - The TCP ports connected to, for the sandbox (Landlock allows
 *   connecting to these only, for a client library that reconnects).
 * - Transfer counts, printed with -v when the program ends.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk-int.h"

#define MAX_PORTS 16

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int ports[MAX_PORTS], nports, in_use;

static void *load(const char *const *sonames, const char *const *names, void **slots)
{
    void *h = NULL;
    const char *err = NULL;
    if (gk_use_twin(sonames[0]) < 0) { /* a static program: its twin loads it */
        errno = ENOTSUP;
        return NULL;
    }
    for (int i = 0; sonames[i] && !h; i++) {
        h = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
        if (!h && !err)
            err = dlerror();
    }
    if (!h) {
        gk_error("cannot load %s: %s", sonames[0], err ? err : "not found");
        errno = ENOTSUP;
        return NULL;
    }
    for (int i = 0; names[i]; i++) {
        slots[i] = dlsym(h, names[i]);
        if (!slots[i]) {
            gk_error("%s has no %s (too old?)", sonames[0], names[i]);
            errno = ENOTSUP;
            return NULL; /* the library stays loaded: harmless */
        }
    }
    return h;
}

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

int gk_remote_lib_load(struct gk_remote_lib *lib)
{
    pthread_mutex_lock(&load_lock);
    if (!lib->tried) {
        lib->tried = 1;
        if (!load(lib->sonames, lib->names, lib->slots))
            lib->failed = ENOTSUP;
        else if (lib->init)
            lib->failed = lib->init();
        if (lib->failed)
            snprintf(lib->error, sizeof lib->error, "%s", gk_errmsg());
    }
    int e = lib->failed;
    pthread_mutex_unlock(&load_lock);
    if (e) {
        gk_error("%s", lib->error);
        errno = e;
        return -1;
    }
    return 0;
}

gk_dev *gk_remote_dev(const struct gk_dev_ops *ops, const char *loc, uint64_t len, void *priv,
                      const gk_file_opts *o)
{
    gk_dev *d = gk_dev_new(ops, loc, len & 511 ? (len | 511) + 1 : len, priv);
    d->readonly = !o->readwrite;
    d->growable = o->growable;
    return d;
}

const char *gk_remote_identity(gk_dev *d)
{
    return ((struct gk_remote *)d->priv)->id;
}

int gk_remote_within(gk_dev *top, gk_dev *child, const struct gk_dev_ops *ops)
{
    if (top->ops != ops || child->ops != ops)
        return 0;
    const struct gk_remote *t = top->priv, *c = child->priv;
    return strncmp(c->id, t->id, t->scope) == 0;
}

void gk_remote_note(int tcp_port)
{
    pthread_mutex_lock(&lock);
    in_use = 1;
    int seen = 0;
    for (int i = 0; i < nports; i++)
        seen |= ports[i] == tcp_port;
    if (tcp_port > 0 && !seen && nports < MAX_PORTS)
        ports[nports++] = tcp_port;
    pthread_mutex_unlock(&lock);
}

static const char *unconfined;

void gk_remote_note_unconfined(const char *why)
{
    pthread_mutex_lock(&lock);
    in_use = 1;
    unconfined = why;
    pthread_mutex_unlock(&lock);
}

const char *gk_remote_unconfined(void)
{
    pthread_mutex_lock(&lock);
    const char *r = unconfined;
    pthread_mutex_unlock(&lock);
    return r;
}

int gk_remote_in_use(void)
{
    pthread_mutex_lock(&lock);
    int r = in_use;
    pthread_mutex_unlock(&lock);
    return r;
}

int gk_remote_tcp_ports(int *out, int max)
{
    pthread_mutex_lock(&lock);
    int n = nports < max ? nports : max;
    memcpy(out, ports, (size_t)n * sizeof *out);
    pthread_mutex_unlock(&lock);
    return n;
}

/* ---- transfer counts ---- */

static struct gk_remote_stats totals[3];
static const char *const proto_names[3] = {"nbd", "http", "rbd"};
static int report_registered;

static void report(void)
{
    for (int i = 0; i < 3; i++) {
        struct gk_remote_stats *s = &totals[i];
        if (!s->requests)
            continue;
        if (i == 1)
            gk_debug("%s: %llu bytes fetched in %llu requests over %llu connections", proto_names[i],
                     (unsigned long long)s->bytes, (unsigned long long)s->requests,
                     (unsigned long long)s->connections);
        else
            gk_debug("%s: %llu bytes read in %llu requests", proto_names[i], (unsigned long long)s->bytes,
                     (unsigned long long)s->requests);
    }
}

void gk_remote_count(int proto, uint64_t bytes, uint64_t requests, uint64_t connections)
{
    pthread_mutex_lock(&lock);
    if (!report_registered) {
        report_registered = 1;
        atexit(report);
    }
    totals[proto].bytes += bytes;
    totals[proto].requests += requests;
    totals[proto].connections += connections;
    pthread_mutex_unlock(&lock);
}

void gk_remote_get_stats(int proto, struct gk_remote_stats *out)
{
    pthread_mutex_lock(&lock);
    *out = totals[proto];
    pthread_mutex_unlock(&lock);
}
