/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "http" protocol: an image on an HTTP(S) server as a read-only byte
 * device, through libcurl range requests (libcurl is loaded when first
 * needed, lib/remote.c).
 *
 * - The server must answer ranges (206 with a Content-Range naming what
 *   was asked); a 200 to a range request is refused at once, before the
 *   body is read, and so is a response shorter than its range.
 * - Reads go through a cache of NBLOCKS blocks of BLOCK bytes (4 MiB,
 *   least recently used out): a miss fetches the run of missing blocks it
 *   needs, at most RUN blocks per request.  One curl handle per device, so
 *   requests reuse its connection.
 * - Every request is bounded: connecting takes at most 30 s, and a
 *   transfer slower than 1 byte/s for GK_HTTP_TIMEOUT seconds (or
 *   GUESTKIT_NET_TIMEOUT) is an error.  Redirects: at most 5, http(s) only.
 * - HTTPS certificates are verified (libcurl's default); CURL_CA_BUNDLE
 *   names another CA file, as for the curl tool.
 * - Names inside an image (backing files) resolve against its URL, as a
 *   browser resolves a relative link; --untrusted keeps them on the same
 *   server below the image's directory.
 * - Bytes fetched, requests and connections are counted (-v prints them).
 */
#define CURL_DISABLE_TYPECHECK 1
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blk-int.h"

#define BLOCK (32u << 10)
#define NBLOCKS 128
#define RUN 16
#define GK_HTTP_TIMEOUT 60

static struct {
    __typeof__(curl_global_init) *global_init;
    __typeof__(curl_easy_init) *init;
    __typeof__(curl_easy_setopt) *setopt;
    __typeof__(curl_easy_perform) *perform;
    __typeof__(curl_easy_getinfo) *getinfo;
    __typeof__(curl_easy_cleanup) *cleanup;
    __typeof__(curl_easy_strerror) *strerror;
} L;
static const char *const L_names[] = {
    "curl_global_init", "curl_easy_init", "curl_easy_setopt", "curl_easy_perform",
    "curl_easy_getinfo", "curl_easy_cleanup", "curl_easy_strerror", NULL,
};
static const char *const L_sonames[] = {"libcurl.so.4", "libcurl-gnutls.so.4", NULL};

/* curl_global_init is not thread-safe: it runs once, with the loading. */
static int init(void)
{
    if (L.global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
        return 0;
    gk_error("libcurl: initialisation failed");
    return EIO;
}
static struct gk_remote_lib lib = GK_REMOTE_LIB(L_sonames, L_names, &L, init);

struct block {
    uint64_t idx;
    uint64_t used;         /* LRU tick; 0: empty */
    char *data;
};

struct http {
    struct gk_remote rm;   /* id: the canonical URL, scope: its directory */
    CURL *c;
    uint64_t len;          /* the object's size */
    int len_known;
    struct block cache[NBLOCKS];
    uint64_t tick;
    /* the transfer in progress */
    char *dst;
    uint64_t off, want, got;
    int bad;               /* the write callback refused the response */
    long status;
    int have_range;
    uint64_t r_first, r_last, r_total; /* Content-Range */
    int total_unknown;
    char err[CURL_ERROR_SIZE];
};

static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
    struct http *h = ud;
    size_t len = size * n;
    if (len > 6 && strncmp(buf, "HTTP/", 5) == 0) { /* a new response (after a redirect) */
        h->have_range = 0;
        h->total_unknown = 0;
        return len;
    }
    if (len < 14 || strncasecmp(buf, "content-range:", 14) != 0)
        return len;
    char line[256];
    size_t k = len < sizeof line - 1 ? len : sizeof line - 1;
    memcpy(line, buf, k);
    line[k] = 0;
    const char *p = line + 14;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncasecmp(p, "bytes ", 6) != 0)
        return len;
    p += 6;
    unsigned long long a, b, t;
    if (sscanf(p, "%llu-%llu/%llu", &a, &b, &t) == 3 && a <= b && b < t) {
        h->have_range = 1;
        h->r_first = a;
        h->r_last = b;
        h->r_total = t;
    } else if (sscanf(p, "%llu-%llu/*", &a, &b) == 2 && a <= b) {
        h->total_unknown = 1;
    } else if (sscanf(p, "*/%llu", &t) == 1) {
        h->r_total = t; /* 416: the size alone */
        h->have_range = 2;
    }
    return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ud)
{
    struct http *h = ud;
    size_t len = size * n;
    if (!h->status)
        L.getinfo(h->c, CURLINFO_RESPONSE_CODE, &h->status);
    if (h->status != 206 || h->have_range != 1) {
        h->bad = 1; /* not a range answer: read none of it */
        return 0;
    }
    if (len > h->want - h->got) {
        h->bad = 2;
        return 0;
    }
    memcpy(h->dst + h->got, buf, len);
    h->got += len;
    return len;
}

static int timeout_s(void)
{
    const char *e = getenv("GUESTKIT_NET_TIMEOUT");
    long s = e && *e ? strtol(e, NULL, 10) : GK_HTTP_TIMEOUT;
    return s <= 0 || s > 3600 ? GK_HTTP_TIMEOUT : (int)s;
}

/* Fetch [off, off+want) into dst; on the first request (len unknown) the
 * answer may be shorter when the object ends sooner.  0 or -errno. */
static int fetch(const char *name, struct http *h, char *dst, uint64_t off, uint64_t want)
{
    char range[64];
    snprintf(range, sizeof range, "%llu-%llu", (unsigned long long)off, (unsigned long long)(off + want - 1));
    L.setopt(h->c, CURLOPT_RANGE, range);
    h->dst = dst;
    h->off = off;
    h->want = want;
    h->got = 0;
    h->bad = 0;
    h->status = 0;
    h->have_range = 0;
    h->total_unknown = 0;
    h->err[0] = 0;
    CURLcode rc = L.perform(h->c);
    long conns = 0;
    L.getinfo(h->c, CURLINFO_NUM_CONNECTS, &conns);
    gk_remote_count(GK_REMOTE_HTTP, h->got, 1, conns > 0 ? (uint64_t)conns : 0);
    long status = 0;
    L.getinfo(h->c, CURLINFO_RESPONSE_CODE, &status);
    if (status == 416 && h->have_range == 2 && !h->len_known && h->r_total == 0)
        return 0; /* an empty object */
    if (h->bad == 1 || (rc == CURLE_OK && status != 206)) {
        if (status == 200)
            return gk_fail(ENOTSUP, "%s: the server does not support range requests (it answered 200 "
                                    "with the whole object; guestkit reads only the parts it needs)",
                           name);
        if (status == 206)
            return gk_fail(EPROTO, "%s: the server's 206 answer has %s Content-Range", name,
                           h->total_unknown ? "no total size in its" : "no usable");
        return gk_fail(status == 404 ? ENOENT : status == 401 || status == 403 ? EACCES : EIO,
                       "%s: HTTP status %ld", name, status);
    }
    if (h->bad == 2)
        return gk_fail(EPROTO, "%s: the server sent more than the %llu bytes asked at offset %llu", name,
                       (unsigned long long)want, (unsigned long long)off);
    if (rc != CURLE_OK)
        return gk_fail(rc == CURLE_OPERATION_TIMEDOUT ? ETIMEDOUT : EIO, "%s: %s at offset %llu: %s", name,
                       rc == CURLE_PARTIAL_FILE ? "truncated response" : "request failed",
                       (unsigned long long)off, h->err[0] ? h->err : L.strerror(rc));
    uint64_t expect = want;
    if (h->r_first != off)
        return gk_fail(EPROTO, "%s: the server answered range %llu-%llu for %llu-%llu", name,
                       (unsigned long long)h->r_first, (unsigned long long)h->r_last, (unsigned long long)off,
                       (unsigned long long)(off + want - 1));
    if (!h->len_known) {
        h->len = h->r_total;
        h->len_known = 1;
    } else if (h->r_total != h->len) {
        return gk_fail(ESTALE, "%s: the object changed size (%llu bytes, now %llu) while it was read", name,
                       (unsigned long long)h->len, (unsigned long long)h->r_total);
    }
    if (off + want > h->len)
        expect = h->len > off ? h->len - off : 0;
    if (h->r_last + 1 - off != expect || h->got != expect)
        return gk_fail(EPROTO, "%s: truncated response at offset %llu: %llu of %llu bytes", name,
                       (unsigned long long)off, (unsigned long long)h->got, (unsigned long long)expect);
    return 0;
}

static struct block *slot_for(struct http *h, uint64_t idx, int take)
{
    struct block *old = NULL;
    for (int i = 0; i < NBLOCKS; i++) {
        struct block *b = &h->cache[i];
        if (b->used && b->idx == idx) {
            b->used = ++h->tick;
            return b;
        }
        if (!old || b->used < old->used)
            old = b;
    }
    if (!take)
        return NULL;
    if (!old->data)
        old->data = gk_malloc(BLOCK);
    old->idx = idx;
    old->used = 0;
    return old;
}

static int http_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    struct http *h = d->priv;
    char *out = buf;
    /* the device is rounded up to 512 bytes: zeros past the object's end */
    if (off >= h->len) {
        memset(out, 0, n);
        return 0;
    }
    if (n > h->len - off) {
        memset(out + (h->len - off), 0, n - (size_t)(h->len - off));
        n = (size_t)(h->len - off);
    }
    uint64_t last = (off + n - 1) / BLOCK;
    char *tmp = NULL;
    for (uint64_t bi = off / BLOCK; bi <= last; bi++) {
        struct block *b = slot_for(h, bi, 0);
        if (!b) {
            /* the run of missing blocks from here, RUN at most */
            uint64_t end = bi + 1;
            while (end <= last && end - bi < RUN && !slot_for(h, end, 0))
                end++;
            uint64_t start = bi * BLOCK, stop = end * BLOCK < h->len ? end * BLOCK : h->len;
            if (!tmp)
                tmp = gk_malloc((size_t)RUN * BLOCK);
            int r = fetch(d->name, h, tmp, start, stop - start);
            if (r < 0) {
                free(tmp);
                return r;
            }
            for (uint64_t k = bi; k < end; k++) {
                struct block *nb = slot_for(h, k, 1);
                uint64_t from = (k - bi) * BLOCK, have = stop - start - from;
                memcpy(nb->data, tmp + from, have < BLOCK ? have : BLOCK);
                nb->used = ++h->tick;
            }
            b = slot_for(h, bi, 0);
        }
        uint64_t bstart = bi * BLOCK;
        uint64_t from = off > bstart ? off - bstart : 0;
        uint64_t to = off + n < bstart + BLOCK ? off + n - bstart : BLOCK;
        memcpy(out + (bstart + from - off), b->data + from, (size_t)(to - from));
    }
    free(tmp);
    return 0;
}

static void http_close(gk_dev *d)
{
    struct http *h = d->priv;
    if (h->c)
        L.cleanup(h->c);
    for (int i = 0; i < NBLOCKS; i++)
        free(h->cache[i].data);
    free(h->rm.id);
    free(h);
}

static const struct gk_dev_ops http_ops = {
    .name = "http",
    .pread = http_pread,
    .identity = gk_remote_identity,
    .close = http_close,
};

static int http_claims(const char *loc)
{
    return strncasecmp(loc, "http://", 7) == 0 || strncasecmp(loc, "https://", 8) == 0;
}

/* scheme://host:port and the normalised path: the object, for loop
 * detection and --untrusted. */
static char *canonical(const char *loc)
{
    gk_uri u;
    if (gk_uri_parse(loc, &u) < 0)
        return NULL;
    if (!u.host || !*u.host) {
        gk_uri_clear(&u);
        gk_error("no server in the URL");
        errno = EINVAL;
        return NULL;
    }
    for (char *p = u.host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    int port = u.port > 0 ? u.port : strcmp(u.scheme, "https") == 0 ? 443 : 80;
    char *dec = gk_uri_decode(u.path, strlen(u.path));
    char *path = gk_uri_normpath(dec ? dec : u.path);
    char *r = gk_asprintf("%s://%s:%d%s%s", u.scheme, u.host, port, path[0] == '/' ? "" : "/", path);
    free(dec);
    free(path);
    gk_uri_clear(&u);
    return r;
}

static gk_dev *http_open(const char *loc, const gk_file_opts *o)
{
    if (o->readwrite) {
        gk_error("HTTP images are read-only");
        errno = EROFS;
        return NULL;
    }
    if (gk_remote_lib_load(&lib) < 0)
        return NULL;
    char *id = canonical(loc);
    if (!id)
        return NULL;
    struct http *h = gk_calloc(1, sizeof *h);
    h->rm.id = id;
    h->rm.scope = (size_t)(strrchr(id, '/') - id + 1);
    h->c = L.init();
    if (!h->c) {
        free(id);
        free(h);
        gk_error("libcurl: cannot make a handle");
        errno = ENOMEM;
        return NULL;
    }
    CURL *c = h->c;
    L.setopt(c, CURLOPT_URL, loc);
    L.setopt(c, CURLOPT_NOSIGNAL, 1L);
    L.setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    L.setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    L.setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    L.setopt(c, CURLOPT_MAXREDIRS, 5L);
    L.setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    L.setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    L.setopt(c, CURLOPT_LOW_SPEED_TIME, (long)timeout_s());
    L.setopt(c, CURLOPT_DNS_CACHE_TIMEOUT, -1L); /* never resolve again (the sandbox) */
    L.setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    L.setopt(c, CURLOPT_ACCEPT_ENCODING, NULL);  /* ranges of the object itself */
    L.setopt(c, CURLOPT_USERAGENT, "guestkit/" GK_VERSION);
    /* the CA to trust instead of the system's, as for the curl tool */
    const char *ca = getenv("CURL_CA_BUNDLE");
    if (ca && *ca)
        L.setopt(c, CURLOPT_CAINFO, ca);
    L.setopt(c, CURLOPT_ERRORBUFFER, h->err);
    L.setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    L.setopt(c, CURLOPT_HEADERDATA, h);
    L.setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    L.setopt(c, CURLOPT_WRITEDATA, h);
    /* the first block: the size, range support, and what a probe reads */
    char *first = gk_malloc(BLOCK);
    int r = fetch(loc, h, first, 0, BLOCK);
    if (r < 0) {
        /* "loc: ..." is added by the caller */
        const char *m = gk_errmsg();
        size_t ll = strlen(loc);
        char *msg = gk_strdup(strncmp(m, loc, ll) == 0 && m[ll] == ':' ? m + ll + 2 : m);
        gk_error("%s", msg);
        free(msg);
        free(first);
        L.cleanup(h->c);
        free(h->rm.id);
        free(h);
        errno = -r;
        return NULL;
    }
    if (h->len > 0) {
        struct block *b = slot_for(h, 0, 1);
        memcpy(b->data, first, h->len < BLOCK ? h->len : BLOCK);
        b->used = ++h->tick;
    }
    free(first);
    long port = 0;
    L.getinfo(c, CURLINFO_PRIMARY_PORT, &port);
    gk_remote_note((int)port);
    gk_dev *d = gk_remote_dev(&http_ops, loc, h->len, h, o); /* read-only: o->readwrite refused */
    gk_debug("http: %s: %llu bytes", loc, (unsigned long long)h->len);
    return d;
}

static char *http_resolve(gk_dev *base, const char *name)
{
    return gk_uri_resolve(base->name, name, 0);
}

/* --untrusted: the same server, beside or below the top image. */
static int http_within(gk_dev *top, gk_dev *child)
{
    return gk_remote_within(top, child, &http_ops);
}

const struct gk_protocol gk_http_protocol = {
    .name = "http",
    .claims = http_claims,
    .open = http_open,
    .resolve = http_resolve,
    .within = http_within,
};
