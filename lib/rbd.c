/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "rbd" protocol: a Ceph RBD image as a byte device, through librbd
 * (loaded when first needed, lib/remote.c).
 *
 * Locations:
 *   rbd://[USER@]POOL/IMAGE[@SNAP]           (the pool where a host goes)
 *   rbd://[USER@][MON[:PORT]]/POOL/IMAGE[@SNAP]   (libguestfs: monitors)
 *   rbd:POOL/IMAGE[@SNAP][:id=USER][:conf=FILE][:mon_host=MONS]   (qemu)
 * The cluster is found as the ceph tools find it: CEPH_CONF (set by
 * --rbd-conf), /etc/ceph/ceph.conf, ..., with the keyring that names.
 * Waits are bounded: the monitor and OSD operation timeouts are set to
 * GK_RBD_TIMEOUT seconds (or GUESTKIT_NET_TIMEOUT).
 * A snapshot is read-only.  Writes (--rw): rbd_write, rbd_discard,
 * rbd_flush; an RBD image has a fixed size here (a format that must grow
 * its file fails with ENOSPC).
 */
#include <errno.h>
#include <stdio.h>
#include <rbd/librbd.h>
#include <stdlib.h>
#include <string.h>

#include "blk-int.h"

#define GK_RBD_TIMEOUT 60

static struct {
    __typeof__(rados_create) *create;
    __typeof__(rados_conf_read_file) *conf_read_file;
    __typeof__(rados_conf_parse_env) *conf_parse_env;
    __typeof__(rados_conf_set) *conf_set;
    __typeof__(rados_connect) *connect;
    __typeof__(rados_shutdown) *shutdown;
    __typeof__(rados_ioctx_create) *ioctx_create;
    __typeof__(rados_ioctx_destroy) *ioctx_destroy;
    __typeof__(rbd_open) *open;
    __typeof__(rbd_open_read_only) *open_read_only;
    __typeof__(rbd_close) *close;
    __typeof__(rbd_get_size) *get_size;
    __typeof__(rbd_read) *read;
    __typeof__(rbd_write) *write;
    __typeof__(rbd_discard) *discard;
    __typeof__(rbd_flush) *flush;
} L;
static const char *const L_names[] = {
    "rados_create", "rados_conf_read_file", "rados_conf_parse_env", "rados_conf_set", "rados_connect",
    "rados_shutdown", "rados_ioctx_create", "rados_ioctx_destroy", "rbd_open", "rbd_open_read_only",
    "rbd_close", "rbd_get_size", "rbd_read", "rbd_write", "rbd_discard", "rbd_flush", NULL,
};
static const char *const L_sonames[] = {"librbd.so.1", NULL};

static struct gk_remote_lib lib = GK_REMOTE_LIB(L_sonames, L_names, &L, NULL);

struct where {
    char *user, *mon, *conf, *pool, *image, *snap;
};

static void where_clear(struct where *w)
{
    free(w->user);
    free(w->mon);
    free(w->conf);
    free(w->pool);
    free(w->image);
    free(w->snap);
    memset(w, 0, sizeof *w);
}

static int bad(const char *why)
{
    gk_error("%s (rbd://[USER@]POOL/IMAGE[@SNAP] or rbd:POOL/IMAGE[@SNAP])", why);
    errno = EINVAL;
    return -1;
}

/* IMAGE[@SNAP] */
static void split_snap(struct where *w, char *image)
{
    char *at = strchr(image, '@');
    if (at) {
        w->snap = gk_strdup(at + 1);
        *at = 0;
    }
    w->image = image;
}

static int parse(const char *loc, struct where *w)
{
    memset(w, 0, sizeof *w);
    if (strncmp(loc, "rbd://", 6) == 0) {
        gk_uri u;
        if (gk_uri_parse(loc, &u) < 0)
            return -1;
        char *path = gk_uri_decode(u.path, strlen(u.path));
        char *p = path && path[0] == '/' ? path + 1 : path;
        char *slash = p ? strchr(p, '/') : NULL;
        if (u.user)
            w->user = gk_strdup(u.user);
        if (p && slash && !strchr(slash + 1, '/')) {
            /* libguestfs: the host names monitors, the path the pool */
            *slash = 0;
            w->pool = gk_strdup(p);
            split_snap(w, gk_strdup(slash + 1));
            if (u.host && *u.host)
                w->mon = u.port > 0 ? gk_asprintf("%s:%d", u.host, u.port) : gk_strdup(u.host);
        } else if (p && !slash && u.host && *u.host) {
            w->pool = gk_strdup(u.host);
            split_snap(w, gk_strdup(p));
        }
        w->conf = gk_uri_query_get(&u, "conf");
        free(path);
        gk_uri_clear(&u);
    } else if (strncmp(loc, "rbd:", 4) == 0) {
        /* qemu: options after unescaped colons */
        char *s = gk_strdup(loc + 4), *opt = strchr(s, ':');
        if (opt)
            *opt++ = 0;
        char *slash = strchr(s, '/');
        if (slash) {
            *slash = 0;
            w->pool = gk_strdup(s);
            split_snap(w, gk_strdup(slash + 1));
        }
        while (opt && *opt) {
            char *next = strchr(opt, ':');
            if (next)
                *next++ = 0;
            char *eq = strchr(opt, '=');
            if (eq) {
                *eq++ = 0;
                if (strcmp(opt, "id") == 0)
                    w->user = gk_strdup(eq);
                else if (strcmp(opt, "conf") == 0)
                    w->conf = gk_strdup(eq);
                else if (strcmp(opt, "mon_host") == 0)
                    w->mon = gk_strdup(eq);
            }
            opt = next;
        }
        free(s);
    }
    if (!w->pool || !*w->pool || !w->image || !*w->image || (w->snap && !*w->snap)) {
        where_clear(w);
        return bad("no pool or image in the location");
    }
    if (w->user && strncmp(w->user, "client.", 7) == 0) {
        char *u = gk_strdup(w->user + 7);
        free(w->user);
        w->user = u;
    }
    return 0;
}

struct rbd {
    struct gk_remote rm;   /* id: rbd:CONF:MON:USER:POOL/IMAGE@SNAP, scope: to POOL/ */
    rados_t cluster;
    rados_ioctx_t io;
    rbd_image_t img;
    uint64_t len;
};

static int rbd_pread_op(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    struct rbd *r = d->priv;
    char *p = buf;
    if (off >= r->len) {
        memset(p, 0, n);
        return 0;
    }
    if (n > r->len - off) {
        memset(p + (r->len - off), 0, n - (size_t)(r->len - off));
        n = (size_t)(r->len - off);
    }
    while (n > 0) {
        size_t k = n < (4u << 20) ? n : (4u << 20);
        ssize_t got = L.read(r->img, off, k, p);
        if (got < 0)
            return gk_fail((int)-got, "%s: read at offset %llu: %s", d->name, (unsigned long long)off,
                           strerror((int)-got));
        if (got == 0) {
            memset(p, 0, n);
            break;
        }
        gk_remote_count(GK_REMOTE_RBD, (uint64_t)got, 1, 0);
        p += got;
        n -= (size_t)got;
        off += (uint64_t)got;
    }
    return 0;
}

static int rbd_pwrite_op(gk_dev *d, const void *buf, size_t n, uint64_t off)
{
    struct rbd *r = d->priv;
    if (!gk_range_ok(off, n, r->len))
        return gk_fail(ENOSPC, "%s: write of %zu bytes at offset %llu is past the end of the image (%llu bytes)",
                       d->name, n, (unsigned long long)off, (unsigned long long)r->len);
    const char *p = buf;
    while (n > 0) {
        size_t k = n < (4u << 20) ? n : (4u << 20);
        ssize_t w = L.write(r->img, off, k, p);
        if (w < 0)
            return gk_fail((int)-w, "%s: write at offset %llu: %s", d->name, (unsigned long long)off,
                           strerror((int)-w));
        if (w == 0)
            return gk_fail(EIO, "%s: write at offset %llu wrote nothing", d->name, (unsigned long long)off);
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

static int rbd_discard_op(gk_dev *d, uint64_t off, uint64_t len)
{
    struct rbd *r = d->priv;
    if (off >= r->len)
        return -ENOTSUP;
    if (len > r->len - off)
        len = r->len - off;
    int e = L.discard(r->img, off, len);
    return e < 0 ? -ENOTSUP : 0;
}

static int rbd_flush_op(gk_dev *d)
{
    struct rbd *r = d->priv;
    if (d->readonly)
        return 0;
    int e = L.flush(r->img);
    if (e < 0)
        return gk_fail(-e, "%s: flush: %s", d->name, strerror(-e));
    return 0;
}

static void rbd_close_op(gk_dev *d)
{
    struct rbd *r = d->priv;
    if (r->img)
        L.close(r->img);
    if (r->io)
        L.ioctx_destroy(r->io);
    if (r->cluster)
        L.shutdown(r->cluster);
    free(r->rm.id);
    free(r);
}

static const struct gk_dev_ops rbd_ops = {
    .name = "rbd",
    .pread = rbd_pread_op,
    .pwrite = rbd_pwrite_op,
    .discard = rbd_discard_op,
    .flush = rbd_flush_op,
    .identity = gk_remote_identity,
    .close = rbd_close_op,
};

static int rbd_claims(const char *loc)
{
    return strncmp(loc, "rbd:", 4) == 0;
}

static gk_dev *rbd_open_loc(const char *loc, const gk_file_opts *o)
{
    struct where w;
    if (parse(loc, &w) < 0)
        return NULL;
    if (o->readwrite && w.snap) {
        where_clear(&w);
        gk_error("a snapshot is read-only");
        errno = EROFS;
        return NULL;
    }
    if (gk_remote_lib_load(&lib) < 0) {
        where_clear(&w);
        return NULL;
    }
    struct rbd *r = gk_calloc(1, sizeof *r);
    const char *step = "cluster handle";
    int e = L.create(&r->cluster, w.user);
    if (e == 0) {
        step = w.conf ? w.conf : "ceph configuration";
        e = L.conf_read_file(r->cluster, w.conf);
        if (e == -ENOENT && !w.conf && w.mon)
            e = 0; /* monitors given: a configuration file is optional */
    }
    if (e == 0) {
        step = "CEPH_ARGS";
        e = L.conf_parse_env(r->cluster, NULL);
    }
    if (e == 0 && w.mon) {
        step = "mon_host";
        e = L.conf_set(r->cluster, "mon_host", w.mon);
    }
    if (e == 0) {
        const char *t = getenv("GUESTKIT_NET_TIMEOUT");
        char secs[16];
        snprintf(secs, sizeof secs, "%d", t && atoi(t) > 0 && atoi(t) <= 3600 ? atoi(t) : GK_RBD_TIMEOUT);
        L.conf_set(r->cluster, "client_mount_timeout", secs);
        L.conf_set(r->cluster, "rados_mon_op_timeout", secs);
        L.conf_set(r->cluster, "rados_osd_op_timeout", secs);
        L.conf_set(r->cluster, "log_to_stderr", "false");
        L.conf_set(r->cluster, "err_to_stderr", "false");
        step = "connecting to the cluster";
        e = L.connect(r->cluster);
        if (e < 0) {
            L.shutdown(r->cluster);
            r->cluster = NULL;
        }
    }
    if (e == 0) {
        step = "pool";
        e = L.ioctx_create(r->cluster, w.pool, &r->io);
    }
    if (e == 0) {
        step = "image";
        e = o->readwrite ? L.open(r->io, w.image, &r->img, NULL)
                         : L.open_read_only(r->io, w.image, &r->img, w.snap);
    }
    if (e == 0) {
        step = "size";
        e = L.get_size(r->img, &r->len);
    }
    if (e < 0) {
        if (e == -ENOENT && strcmp(step, "pool") == 0)
            gk_error("pool \"%s\": no such pool", w.pool);
        else if (e == -ENOENT && strcmp(step, "image") == 0)
            gk_error("image \"%s\"%s%s%s in pool \"%s\": not found", w.image, w.snap ? " (snapshot \"" : "",
                     w.snap ? w.snap : "", w.snap ? "\")" : "", w.pool);
        else
            gk_error("%s: %s", step, strerror(-e));
        rbd_close_op(&(gk_dev){.priv = r});
        where_clear(&w);
        errno = -e;
        return NULL;
    }
    gk_remote_note_unconfined("an RBD image: librados talks to the monitors and OSDs the cluster map "
                              "names, from threads of its own");
    char *pool = gk_asprintf("rbd:%s:%s:%s:%s/", w.conf ? w.conf : "", w.mon ? w.mon : "", w.user ? w.user : "",
                             w.pool);
    r->rm.scope = strlen(pool);
    r->rm.id = gk_asprintf("%s%s@%s", pool, w.image, w.snap ? w.snap : "");
    free(pool);
    gk_dev *d = gk_remote_dev(&rbd_ops, loc, r->len, r, o);
    gk_debug("rbd: %s: pool %s, image %s%s%s, %llu bytes", loc, w.pool, w.image, w.snap ? "@" : "",
             w.snap ? w.snap : "", (unsigned long long)r->len);
    where_clear(&w);
    return d;
}

static char *rbd_resolve(gk_dev *base, const char *name)
{
    if (strncmp(base->name, "rbd://", 6) == 0)
        return gk_uri_resolve(base->name, name, 1);
    if (gk_uri_has_scheme(name) > 1 || name[0] == '/')
        return gk_strdup(name);
    /* rbd:POOL/IMAGE[:opts]: the same pool and options */
    const char *rest = base->name + 4;
    const char *slash = strchr(rest, '/');
    const char *opts = strchr(rest, ':');
    if (!slash || (opts && opts < slash)) {
        gk_error("%s: no pool in the location", base->name);
        return NULL;
    }
    return gk_asprintf("rbd:%.*s%s%s", (int)(slash - base->name - 4 + 1), rest, name, opts ? opts : "");
}

/* --untrusted: the same cluster and pool. */
static int rbd_within(gk_dev *top, gk_dev *child)
{
    return gk_remote_within(top, child, &rbd_ops);
}

const struct gk_protocol gk_rbd_protocol = {
    .name = "rbd",
    .claims = rbd_claims,
    .open = rbd_open_loc,
    .resolve = rbd_resolve,
    .within = rbd_within,
};
