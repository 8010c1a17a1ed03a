/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* URIs of remote images (RFC 3986, the subset libguestfs' -a accepts):
 * scheme://[user@]host[:port]/path[?query], IPv6 hosts in brackets;
 * and how names found inside a remote image (backing files) resolve
 * against the URI it was read from. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blk-int.h"

#define URI_MAX 8192

void gk_uri_clear(gk_uri *u)
{
    free(u->scheme);
    free(u->user);
    free(u->host);
    free(u->path);
    free(u->query);
    memset(u, 0, sizeof *u);
    u->port = -1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

char *gk_uri_decode(const char *s, size_t n)
{
    char *r = gk_malloc(n + 1), *w = r;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            *w++ = s[i];
            continue;
        }
        if (i + 2 >= n) {
            free(r);
            return NULL;
        }
        int a = hexval((unsigned char)s[i + 1]), b = hexval((unsigned char)s[i + 2]);
        if (a < 0 || b < 0 || (a == 0 && b == 0)) { /* bad escape, or a NUL inside a name */
            free(r);
            return NULL;
        }
        *w++ = (char)(a * 16 + b);
        i += 2;
    }
    *w = 0;
    return r;
}

/* Characters kept as they are when a name goes into a URI path. */
static int path_safe(unsigned char c)
{
    return isalnum(c) || strchr("-._~!$&'()*+,;=:@/", c);
}

static char *encode_path(const char *s)
{
    size_t n = strlen(s);
    char *r = gk_malloc(n * 3 + 1), *w = r;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (path_safe(c)) {
            *w++ = (char)c;
        } else {
            static const char hx[] = "0123456789ABCDEF";
            *w++ = '%';
            *w++ = hx[c >> 4];
            *w++ = hx[c & 15];
        }
    }
    *w = 0;
    return r;
}

int gk_uri_has_scheme(const char *s)
{
    if (!isalpha((unsigned char)s[0]))
        return 0;
    size_t i = 1;
    while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    return s[i] == ':' ? (int)i : 0;
}

int gk_uri_parse(const char *s, gk_uri *u)
{
    memset(u, 0, sizeof *u);
    u->port = -1;
    size_t len = strlen(s);
    if (len > URI_MAX) {
        gk_error("URI longer than %d bytes", URI_MAX);
        errno = EINVAL;
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f) {
            gk_error("URI contains a space or control character (encode it as %%XX)");
            errno = EINVAL;
            return -1;
        }
    }
    int sl = gk_uri_has_scheme(s);
    if (!sl) {
        gk_error("not a URI (no scheme)");
        errno = EINVAL;
        return -1;
    }
    u->scheme = gk_strndup(s, (size_t)sl);
    for (char *p = u->scheme; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    const char *p = s + sl + 1;
    const char *q = strpbrk(p, "?#");
    const char *end = q ? q : s + len;
    if (q && *q == '?') {
        const char *hash = strchr(q + 1, '#');
        u->query = gk_strndup(q + 1, hash ? (size_t)(hash - q - 1) : strlen(q + 1));
    }
    if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
        p += 2;
        const char *aend = p;
        while (aend < end && *aend != '/')
            aend++;
        const char *at = memrchr(p, '@', (size_t)(aend - p));
        if (at) {
            u->user = gk_uri_decode(p, (size_t)(at - p));
            if (!u->user)
                goto bad;
            p = at + 1;
        }
        const char *hend, *colon = NULL;
        if (p < aend && *p == '[') {
            const char *rb = memchr(p, ']', (size_t)(aend - p));
            if (!rb)
                goto bad;
            u->host = gk_strndup(p + 1, (size_t)(rb - p - 1));
            hend = rb + 1;
            if (hend < aend && *hend != ':')
                goto bad;
            colon = hend < aend ? hend : NULL;
        } else {
            colon = memchr(p, ':', (size_t)(aend - p));
            hend = colon ? colon : aend;
            u->host = gk_uri_decode(p, (size_t)(hend - p));
            if (!u->host)
                goto bad;
        }
        if (colon && colon + 1 < aend) {
            long port = 0;
            for (const char *d = colon + 1; d < aend; d++) {
                if (!isdigit((unsigned char)*d) || (port = port * 10 + (*d - '0')) > 65535)
                    goto badport;
            }
            if (port == 0)
                goto badport;
            u->port = (int)port;
        }
        p = aend;
    }
    u->path = gk_strndup(p, (size_t)(end - p));
    return 0;
badport:
    gk_error("bad port in URI");
    gk_uri_clear(u);
    errno = EINVAL;
    return -1;
bad:
    gk_error("malformed URI");
    gk_uri_clear(u);
    errno = EINVAL;
    return -1;
}

char *gk_uri_query_get(const gk_uri *u, const char *key)
{
    if (!u->query)
        return NULL;
    size_t kl = strlen(key);
    for (const char *p = u->query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n > kl && strncmp(p, key, kl) == 0 && p[kl] == '=')
            return gk_uri_decode(p + kl + 1, n - kl - 1);
        p = amp ? amp + 1 : NULL;
    }
    return NULL;
}

/* The path with "." and ".." segments removed (RFC 3986 5.2.4); ".."
 * never climbs above the root. */
char *gk_uri_normpath(const char *path)
{
    size_t n = strlen(path);
    char *out = gk_malloc(n + 2);
    size_t w = 0;
    const char *p = path;
    while (*p) {
        const char *seg = p;
        while (*p && *p != '/')
            p++;
        size_t sl = (size_t)(p - seg);
        int more = *p == '/';
        if (more)
            p++;
        if (sl == 1 && seg[0] == '.') {
            if (!more && w && out[w - 1] != '/')
                out[w++] = '/';
            continue;
        }
        if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
            if (w > 0 && out[w - 1] == '/')
                w--;
            while (w > 0 && out[w - 1] != '/')
                w--;
            if (w == 0 && path[0] == '/')
                out[w++] = '/';
            continue;
        }
        memcpy(out + w, seg, sl);
        w += sl;
        if (more)
            out[w++] = '/';
    }
    out[w] = 0;
    return out;
}

char *gk_uri_resolve(const char *base, const char *name, int keep_query)
{
    if (gk_uri_has_scheme(name) > 1 || name[0] == '/')
        return gk_strdup(name); /* another URI, or a local file (qemu's path_combine) */
    gk_uri u;
    if (gk_uri_parse(base, &u) < 0)
        return NULL;
    /* base without its query: everything up to the path's last slash */
    const char *q = strpbrk(base, "?#");
    size_t blen = q ? (size_t)(q - base) : strlen(base);
    size_t plen = strlen(u.path);
    const char *pstart = base + blen - plen;
    const char *slash = plen ? memrchr(pstart, '/', plen) : NULL;
    size_t keep = slash ? (size_t)(slash - base + 1) : blen;
    char *enc = encode_path(name);
    char *r = gk_asprintf("%.*s%s%s%s%s", (int)keep, base, slash ? "" : "/", enc,
                          keep_query && u.query ? "?" : "", keep_query && u.query ? u.query : "");
    free(enc);
    gk_uri_clear(&u);
    return r;
}
