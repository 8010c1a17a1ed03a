/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "nbd" protocol: an NBD export as a byte device, through libnbd
 * (loaded when first needed, lib/remote.c).
 *
 * - Locations: nbd://HOST[:PORT]/EXPORT, nbds://... (TLS), and
 *   nbd+unix:///EXPORT?socket=PATH, as libguestfs and qemu write them;
 *   libnbd parses them.
 * - Every request waits at most GK_NBD_TIMEOUT seconds for the server
 *   (GUESTKIT_NET_TIMEOUT overrides): a server that stops answering is an
 *   error, never a hang; one that drops the connection is an error at once
 *   and every later request fails the same way.
 * - Names inside an image stored on an export (backing files) are other
 *   exports of the same server: relative to the export's name, with the
 *   same socket (qemu's path_combine on the URI).
 * - Writes (--rw): pwrite, zero, trim, flush as the server offers them;
 *   an export has a fixed size, so a format that must grow its file fails
 *   with ENOSPC, named.
 */
#include <errno.h>
#include <stdio.h>
#include <libnbd.h>
#include <stdlib.h>
#include <string.h>

#include "blk-int.h"

#define GK_NBD_TIMEOUT 60
#define CHUNK (4u << 20)       /* bytes per request (servers take 32 MiB) */

static struct {
    __typeof__(nbd_create) *create;
    __typeof__(nbd_close) *close;
    __typeof__(nbd_get_error) *get_error;
    __typeof__(nbd_get_errno) *get_errno;
    __typeof__(nbd_aio_connect_uri) *aio_connect_uri;
    __typeof__(nbd_aio_is_connecting) *aio_is_connecting;
    __typeof__(nbd_aio_is_ready) *aio_is_ready;
    __typeof__(nbd_aio_is_dead) *aio_is_dead;
    __typeof__(nbd_aio_is_closed) *aio_is_closed;
    __typeof__(nbd_poll) *poll;
    __typeof__(nbd_get_size) *get_size;
    __typeof__(nbd_is_read_only) *is_read_only;
    __typeof__(nbd_can_flush) *can_flush;
    __typeof__(nbd_can_zero) *can_zero;
    __typeof__(nbd_can_trim) *can_trim;
    __typeof__(nbd_aio_pread) *aio_pread;
    __typeof__(nbd_aio_pwrite) *aio_pwrite;
    __typeof__(nbd_aio_flush) *aio_flush;
    __typeof__(nbd_aio_zero) *aio_zero;
    __typeof__(nbd_aio_trim) *aio_trim;
    __typeof__(nbd_aio_command_completed) *aio_command_completed;
    __typeof__(nbd_shutdown) *shutdown;
} L;
static const char *const L_names[] = {
    "nbd_create", "nbd_close", "nbd_get_error", "nbd_get_errno", "nbd_aio_connect_uri",
    "nbd_aio_is_connecting", "nbd_aio_is_ready", "nbd_aio_is_dead", "nbd_aio_is_closed",
    "nbd_poll", "nbd_get_size", "nbd_is_read_only",
    "nbd_can_flush", "nbd_can_zero", "nbd_can_trim", "nbd_aio_pread", "nbd_aio_pwrite",
    "nbd_aio_flush", "nbd_aio_zero", "nbd_aio_trim", "nbd_aio_command_completed", "nbd_shutdown",
    NULL,
};
static const char *const L_sonames[] = {"libnbd.so.0", NULL};

static struct gk_remote_lib lib = GK_REMOTE_LIB(L_sonames, L_names, &L, NULL);

struct nbd {
    struct gk_remote rm;   /* id: SERVER/EXPORT, scope: SERVER/ */
    struct nbd_handle *h;
    uint64_t len;          /* the export's size */
    int can_flush, can_zero, can_trim;
    int dead;              /* the connection failed: every request fails */
};

static int timeout_ms(void)
{
    const char *e = getenv("GUESTKIT_NET_TIMEOUT");
    long s = e && *e ? strtol(e, NULL, 10) : GK_NBD_TIMEOUT;
    if (s <= 0 || s > 3600)
        s = GK_NBD_TIMEOUT;
    return (int)(s * 1000);
}

/* libnbd's last message, without the function name it starts with. */
static const char *nbd_msg(void)
{
    const char *m = L.get_error();
    if (!m)
        return "unknown error";
    const char *c = strstr(m, ": ");
    return c && strncmp(m, "nbd_", 4) == 0 ? c + 2 : m;
}

static int nbd_errno(void)
{
    int e = L.get_errno();
    return e > 0 ? e : EIO;
}

/* Run the event loop until cookie completes (or, cookie 0, the handle is
 * connected): 0, or -errno with the reason in gk_error (the caller says
 * which request). */
static int wait_for(struct nbd_handle *h, int64_t cookie)
{
    int ms = timeout_ms();
    for (;;) {
        if (cookie > 0) {
            int done = L.aio_command_completed(h, (uint64_t)cookie);
            if (done < 0)
                return gk_fail(nbd_errno(), "%s", nbd_msg());
            if (done)
                return 0;
        } else {
            if (L.aio_is_ready(h))
                return 0;
            if (!L.aio_is_connecting(h))
                return gk_fail(nbd_errno(), "%s", L.get_error() ? nbd_msg() : "connection closed");
        }
        int r = L.poll(h, ms);
        if (r < 0)
            return gk_fail(nbd_errno(), "%s", nbd_msg());
        if (r == 0)
            return gk_fail(ETIMEDOUT, "the server did not answer in %d s", ms / 1000);
    }
}

/* "NAME: WHAT at offset OFF: reason" for a request that failed. */
static int req_failed(gk_dev *d, int r, const char *what, uint64_t off)
{
    struct nbd *n = d->priv;
    /* an error the server answered leaves the connection usable; a
     * request still in flight (a timeout) or a lost connection does not */
    if (r == -ETIMEDOUT || L.aio_is_dead(n->h) || L.aio_is_closed(n->h))
        n->dead = 1;
    char *m = gk_strdup(gk_errmsg());
    const char *c = strstr(m, "command failed: ");
    gk_fail(-r, "%s: %s at offset %llu: %s%s", d->name, what, (unsigned long long)off,
            n->dead ? "the connection to the NBD server failed: " : "", c ? c + 16 : m);
    free(m);
    return r;
}

static int check_alive(gk_dev *d)
{
    struct nbd *n = d->priv;
    if (n->dead)
        return gk_fail(EIO, "%s: the connection to the NBD server was lost", d->name);
    return 0;
}

static int nbd_read(gk_dev *d, void *buf, size_t len, uint64_t off)
{
    struct nbd *n = d->priv;
    if (check_alive(d) < 0)
        return -EIO;
    char *p = buf;
    /* the device is rounded up to 512 bytes: zeros past the export's end */
    if (off >= n->len) {
        memset(p, 0, len);
        return 0;
    }
    if (len > n->len - off) {
        memset(p + (n->len - off), 0, len - (size_t)(n->len - off));
        len = (size_t)(n->len - off);
    }
    while (len > 0) {
        size_t k = len < CHUNK ? len : CHUNK;
        int64_t c = L.aio_pread(n->h, p, k, off, NBD_NULL_COMPLETION, 0);
        int r = c < 0 ? gk_fail(nbd_errno(), "%s", nbd_msg()) : wait_for(n->h, c);
        if (r < 0)
            return req_failed(d, r, "read", off);
        gk_remote_count(GK_REMOTE_NBD, k, 1, 0);
        p += k;
        len -= k;
        off += k;
    }
    return 0;
}

static int past_end(gk_dev *d, uint64_t off, uint64_t len)
{
    struct nbd *n = d->priv;
    if (!gk_range_ok(off, len, n->len))
        return gk_fail(ENOSPC, "%s: write of %llu bytes at offset %llu is past the end of the export "
                               "(%llu bytes; an NBD export cannot grow)",
                       d->name, (unsigned long long)len, (unsigned long long)off, (unsigned long long)n->len);
    return 0;
}

static int nbd_write(gk_dev *d, const void *buf, size_t len, uint64_t off)
{
    struct nbd *n = d->priv;
    if (check_alive(d) < 0)
        return -EIO;
    int r = past_end(d, off, len);
    if (r < 0)
        return r;
    const char *p = buf;
    while (len > 0) {
        size_t k = len < CHUNK ? len : CHUNK;
        int64_t c = L.aio_pwrite(n->h, p, k, off, NBD_NULL_COMPLETION, 0);
        r = c < 0 ? gk_fail(nbd_errno(), "%s", nbd_msg()) : wait_for(n->h, c);
        if (r < 0)
            return req_failed(d, r, "write", off);
        p += k;
        len -= k;
        off += k;
    }
    return 0;
}

static int nbd_zeroes(gk_dev *d, uint64_t off, uint64_t len, unsigned flags)
{
    struct nbd *n = d->priv;
    if (!n->can_zero)
        return -ENOTSUP;
    if (check_alive(d) < 0)
        return -EIO;
    int r = past_end(d, off, len);
    if (r < 0)
        return r;
    while (len > 0) {
        uint64_t k = len < CHUNK ? len : CHUNK;
        int64_t c = L.aio_zero(n->h, k, off, NBD_NULL_COMPLETION,
                               flags & GK_ZERO_MAY_UNMAP ? 0 : LIBNBD_CMD_FLAG_NO_HOLE);
        r = c < 0 ? gk_fail(nbd_errno(), "%s", nbd_msg()) : wait_for(n->h, c);
        if (r < 0)
            return req_failed(d, r, "zeroing", off);
        len -= k;
        off += k;
    }
    return 0;
}

static int nbd_discard(gk_dev *d, uint64_t off, uint64_t len)
{
    struct nbd *n = d->priv;
    if (!n->can_trim || off >= n->len)
        return -ENOTSUP;
    if (check_alive(d) < 0)
        return -EIO;
    if (len > n->len - off)
        len = n->len - off;
    while (len > 0) {
        uint64_t k = len < CHUNK ? len : CHUNK;
        int64_t c = L.aio_trim(n->h, k, off, NBD_NULL_COMPLETION, 0);
        if (c < 0)
            return -ENOTSUP;
        int r = wait_for(n->h, c);
        if (r < 0)
            return req_failed(d, r, "trim", off);
        len -= k;
        off += k;
    }
    return 0;
}

static int nbd_flush_op(gk_dev *d)
{
    struct nbd *n = d->priv;
    if (d->readonly)
        return 0;
    if (check_alive(d) < 0)
        return -EIO;
    if (!n->can_flush)
        return 0; /* the server writes through (it says so by not offering flush) */
    int64_t c = L.aio_flush(n->h, NBD_NULL_COMPLETION, 0);
    int r = c < 0 ? gk_fail(nbd_errno(), "%s", nbd_msg()) : wait_for(n->h, c);
    if (r < 0) {
        if (r == -ETIMEDOUT || L.aio_is_dead(n->h) || L.aio_is_closed(n->h))
            n->dead = 1;
        char *m = gk_strdup(gk_errmsg());
        gk_fail(-r, "%s: flush: %s", d->name, m);
        free(m);
    }
    return r;
}

static void nbd_close_op(gk_dev *d)
{
    struct nbd *n = d->priv;
    if (n->h) {
        if (!n->dead)
            L.shutdown(n->h, 0);
        L.close(n->h);
    }
    free(n->rm.id);
    free(n);
}

static const struct gk_dev_ops nbd_ops = {
    .name = "nbd",
    .pread = nbd_read,
    .pwrite = nbd_write,
    .pwrite_zeroes = nbd_zeroes,
    .discard = nbd_discard,
    .flush = nbd_flush_op,
    .identity = gk_remote_identity,
    .close = nbd_close_op,
};

static int nbd_claims(const char *loc)
{
    return strncmp(loc, "nbd://", 6) == 0 || strncmp(loc, "nbds://", 7) == 0 ||
           strncmp(loc, "nbd+unix://", 11) == 0 || strncmp(loc, "nbds+unix://", 12) == 0;
}

/* "nbd:HOST:PORT/EXPORT" or "nbd+unix:SOCKET/EXPORT": one export of one
 * server (loop detection, --untrusted). */
static char *server_of(const char *loc, char **export)
{
    gk_uri u;
    if (gk_uri_parse(loc, &u) < 0)
        return NULL;
    char *r = NULL;
    if (strstr(u.scheme, "+unix")) {
        char *sock = gk_uri_query_get(&u, "socket");
        if (!sock) {
            gk_error("no socket=PATH in the URI");
            errno = EINVAL;
            gk_uri_clear(&u);
            return NULL;
        }
        char *norm = gk_uri_normpath(sock);
        r = gk_asprintf("%s:%s", u.scheme, norm);
        free(norm);
        free(sock);
    } else {
        if (!u.host || !*u.host) {
            gk_error("no server in the URI");
            errno = EINVAL;
            gk_uri_clear(&u);
            return NULL;
        }
        r = gk_asprintf("%s:%s:%d", u.scheme, u.host, u.port > 0 ? u.port : 10809);
    }
    if (export) {
        const char *p = u.path[0] == '/' ? u.path + 1 : u.path;
        *export = gk_uri_decode(p, strlen(p));
        if (!*export) {
            gk_error("bad %%-escape in the export name");
            errno = EINVAL;
            free(r);
            r = NULL;
        }
    }
    gk_uri_clear(&u);
    return r;
}

static gk_dev *nbd_open(const char *loc, const gk_file_opts *o)
{
    if (gk_remote_lib_load(&lib) < 0)
        return NULL;
    char *export = NULL;
    char *server = server_of(loc, &export);
    if (!server)
        return NULL;
    gk_uri u;
    int port = 0;
    if (gk_uri_parse(loc, &u) == 0) {
        if (!strstr(u.scheme, "+unix"))
            port = u.port > 0 ? u.port : 10809;
        gk_uri_clear(&u);
    }
    struct nbd_handle *h = L.create();
    if (!h) {
        gk_error("%s", nbd_msg());
        free(server);
        free(export);
        errno = ENOMEM;
        return NULL;
    }
    int r = L.aio_connect_uri(h, loc) < 0 ? gk_fail(nbd_errno(), "%s", nbd_msg()) : wait_for(h, 0);
    int64_t size = r < 0 ? -1 : L.get_size(h);
    if (r == 0 && size < 0)
        r = gk_fail(nbd_errno(), "%s", nbd_msg());
    if (r == 0 && o->readwrite && L.is_read_only(h) == 1)
        r = gk_fail(EROFS, "the NBD export is read-only");
    if (r < 0) {
        L.close(h);
        free(server);
        free(export);
        errno = -r;
        return NULL;
    }
    gk_remote_note(port);
    struct nbd *n = gk_calloc(1, sizeof *n);
    n->h = h;
    n->len = (uint64_t)size;
    n->can_flush = L.can_flush(h) == 1;
    n->can_zero = L.can_zero(h) == 1;
    n->can_trim = L.can_trim(h) == 1;
    n->rm.id = gk_asprintf("%s/%s", server, export);
    n->rm.scope = strlen(server) + 1;
    free(server);
    free(export);
    gk_dev *d = gk_remote_dev(&nbd_ops, loc, n->len, n, o);
    gk_debug("nbd: %s: %llu bytes%s", loc, (unsigned long long)n->len, o->readwrite ? ", read-write" : "");
    return d;
}

static char *nbd_resolve(gk_dev *base, const char *name)
{
    return gk_uri_resolve(base->name, name, 1);
}

/* --untrusted: the same server (exports are flat names). */
static int nbd_within(gk_dev *top, gk_dev *child)
{
    return gk_remote_within(top, child, &nbd_ops);
}

const struct gk_protocol gk_nbd_protocol = {
    .name = "nbd",
    .claims = nbd_claims,
    .open = nbd_open,
    .resolve = nbd_resolve,
    .within = nbd_within,
};
