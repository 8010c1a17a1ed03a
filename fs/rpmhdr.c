/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A bounded parser of RPM header blobs, as rpm's sqlite backend stores
 * them in rpmdb.sqlite (table Packages, column blob).
 *
 * Layout (all big-endian): il (number of index entries), dl (size of the
 * data store), il entries of {tag, type, offset, count}, then dl bytes of
 * data.  Headers read from a .rpm file carry an 8-byte magic first; we
 * accept both.  Everything comes from the guest, so every count and offset
 * is checked against the blob before it is used, and strings must end
 * inside the data store.
 */
#include <stdlib.h>
#include <string.h>

#include "fs.h"

enum {
    RPM_INT32 = 4,
    RPM_STRING = 6,
    RPM_STRING_ARRAY = 8,
    RPM_I18NSTRING = 9,
};

enum {
    TAG_NAME = 1000, TAG_VERSION = 1001, TAG_RELEASE = 1002, TAG_EPOCH = 1003,
    TAG_SUMMARY = 1004, TAG_DESCRIPTION = 1005, TAG_URL = 1020, TAG_ARCH = 1022,
};

/* rpm's own limits (lib/header.c): more than this is not a header. */
#define HDR_TAGS_MAX 0xffffu
#define HDR_DATA_MAX 0x0fffffffu

void gk_app_clear(gk_app *a)
{
    free(a->name); free(a->display_name); free(a->version); free(a->release);
    free(a->arch); free(a->url); free(a->summary); free(a->description);
    free(a->source_package); free(a->install_path); free(a->publisher);
    memset(a, 0, sizeof *a);
}

static const unsigned char hdr_magic[8] = {0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0};

/* The first string at off in the data store, or NULL if it does not end
 * inside it. */
static char *data_string(const unsigned char *data, uint32_t dl, uint32_t off)
{
    if (off >= dl)
        return NULL;
    const unsigned char *nul = memchr(data + off, 0, dl - off);
    if (!nul)
        return NULL;
    return gk_strndup((const char *)data + off, (size_t)(nul - (data + off)));
}

int gk_rpmhdr_parse(const void *blob, size_t len, gk_app *out)
{
    const unsigned char *p = blob;
    memset(out, 0, sizeof *out);
    if (len >= 8 && memcmp(p, hdr_magic, 8) == 0) {
        p += 8;
        len -= 8;
    }
    if (len < 8) {
        gk_error("RPM header: too short (%zu bytes)", len);
        return -1;
    }
    uint32_t il = gk_be32(p), dl = gk_be32(p + 4);
    if (il == 0 || il > HDR_TAGS_MAX || dl > HDR_DATA_MAX) {
        gk_error("RPM header: bad sizes (%u entries, %u data bytes)", il, dl);
        return -1;
    }
    uint64_t need = 8 + (uint64_t)il * 16 + dl;
    if (need > len) {
        gk_error("RPM header: %u entries and %u data bytes do not fit in %zu bytes",
                 il, dl, len);
        return -1;
    }
    const unsigned char *idx = p + 8, *data = idx + (size_t)il * 16;

    for (uint32_t i = 0; i < il; i++) {
        const unsigned char *e = idx + (size_t)i * 16;
        uint32_t tag = gk_be32(e), type = gk_be32(e + 4);
        uint32_t off = gk_be32(e + 8), count = gk_be32(e + 12);
        char **dst = NULL;
        switch (tag) {
        case TAG_NAME: dst = &out->name; break;
        case TAG_VERSION: dst = &out->version; break;
        case TAG_RELEASE: dst = &out->release; break;
        case TAG_SUMMARY: dst = &out->summary; break;
        case TAG_DESCRIPTION: dst = &out->description; break;
        case TAG_URL: dst = &out->url; break;
        case TAG_ARCH: dst = &out->arch; break;
        case TAG_EPOCH:
            if (type != RPM_INT32 || count < 1 || !gk_range_ok(off, 4, dl)) {
                gk_error("RPM header: bad EPOCH entry (type %u, offset %u, count %u)",
                         type, off, count);
                goto bad;
            }
            {
                uint32_t ep = gk_be32(data + off);
                out->epoch = ep > 0x7fffffff ? 0x7fffffff : (int)ep;
            }
            continue;
        default:
            continue;   /* tags we do not report are not even looked at */
        }
        /* Strings: STRING (count 1); I18NSTRING (count = locales, the first
         * is the C locale, the one rpm -q prints); a STRING_ARRAY is odd
         * here but harmless: take its first element. */
        if ((type != RPM_STRING && type != RPM_I18NSTRING && type != RPM_STRING_ARRAY) ||
            count < 1) {
            gk_error("RPM header: tag %u has type %u, count %u (expected a string)",
                     tag, type, count);
            goto bad;
        }
        char *s = data_string(data, dl, off);
        if (!s) {
            gk_error("RPM header: tag %u: offset %u outside the %u-byte data store"
                     " or string not terminated", tag, off, dl);
            goto bad;
        }
        free(*dst);     /* a repeated tag: the last one wins, no leak */
        *dst = s;
    }
    if (!out->name || !*out->name) {
        gk_error("RPM header: no package name");
        goto bad;
    }
    return 0;
bad:
    gk_app_clear(out);
    return -1;
}
