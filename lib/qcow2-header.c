/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The qcow2 header: one description of its fields (qcow2_header_fields)
 * drives both reading and writing it, so that a field added for one
 * direction cannot be forgotten in the other.  Extensions are kept as found
 * (unknown ones included) for the same reason: an image rewritten by
 * guestkit keeps what qemu put there. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "qcow2.h"

#define F(name, disk, size, ver) { #name, disk, size, ver, offsetof(struct qcow2_header, name) }

const struct qcow2_field qcow2_header_fields[] = {
    F(magic, 0, 4, 2),
    F(version, 4, 4, 2),
    F(backing_file_offset, 8, 8, 2),
    F(backing_file_size, 16, 4, 2),
    F(cluster_bits, 20, 4, 2),
    F(size, 24, 8, 2),
    F(crypt_method, 32, 4, 2),
    F(l1_size, 36, 4, 2),
    F(l1_table_offset, 40, 8, 2),
    F(refcount_table_offset, 48, 8, 2),
    F(refcount_table_clusters, 56, 4, 2),
    F(nb_snapshots, 60, 4, 2),
    F(snapshots_offset, 64, 8, 2),
    F(incompatible_features, 72, 8, 3),
    F(compatible_features, 80, 8, 3),
    F(autoclear_features, 88, 8, 3),
    F(refcount_order, 96, 4, 3),
    F(header_length, 100, 4, 3),
    F(compression_type, 104, 1, 3),
    { NULL, 0, 0, 0, 0 },
};

/* Is this field on disk for a header of this version and length? */
static int present(const struct qcow2_field *f, uint32_t version, uint32_t header_length)
{
    return version >= f->min_version && f->disk_off + f->size <= header_length;
}

int qcow2_header_decode(struct qcow2_header *h, const uint8_t *buf, size_t len, const char *name)
{
    memset(h, 0, sizeof *h);
    if (len < 72)
        return gk_fail(EINVAL, "%s: file too small for a qcow2 header", name);
    uint32_t version = gk_be32(buf + 4);
    uint32_t hlen = 72;
    if (version >= 3) {
        if (len < 104)
            return gk_fail(EINVAL, "%s: qcow2 header is truncated", name);
        hlen = gk_be32(buf + 100);
        if (hlen > len)
            hlen = (uint32_t)len; /* the caller checks header_length itself */
    }
    for (const struct qcow2_field *f = qcow2_header_fields; f->name; f++) {
        if (!present(f, version, hlen))
            continue;
        uint8_t *m = (uint8_t *)h + f->mem_off;
        switch (f->size) {
        case 1: *m = buf[f->disk_off]; break;
        case 4: { uint32_t v = gk_be32(buf + f->disk_off); memcpy(m, &v, 4); break; }
        case 8: { uint64_t v = gk_be64(buf + f->disk_off); memcpy(m, &v, 8); break; }
        }
    }
    if (version < 3) {
        h->refcount_order = 4;
        h->header_length = 72;
    }
    return 0;
}

static void put_be(uint8_t *p, uint64_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        p[i] = (uint8_t)(v >> (8 * (size - 1 - i)));
}

void qcow2_header_encode(const struct qcow2_header *h, uint8_t *buf)
{
    uint32_t hlen = h->version >= 3 ? h->header_length : 72;
    for (const struct qcow2_field *f = qcow2_header_fields; f->name; f++) {
        if (!present(f, h->version, hlen))
            continue;
        const uint8_t *m = (const uint8_t *)h + f->mem_off;
        uint64_t v = 0;
        switch (f->size) {
        case 1: v = *m; break;
        case 4: { uint32_t x; memcpy(&x, m, 4); v = x; break; }
        case 8: memcpy(&v, m, 8); break;
        }
        put_be(buf + f->disk_off, v, f->size);
    }
}

int qcow2_header_build(const struct qcow2 *q, uint8_t *buf, size_t bufsz)
{
    const struct qcow2_header *h = &q->h;
    uint64_t p = h->version >= 3 ? h->header_length : 72;
    if (p > bufsz)
        return -EINVAL;
    memset(buf, 0, p);
    qcow2_header_encode(h, buf);
    for (int i = 0; i < q->nexts; i++) {
        const struct qcow2_ext *x = &q->exts[i];
        uint64_t padded = ((uint64_t)x->len + 7) & ~7ULL;
        if (p + 8 + padded > bufsz)
            return -EINVAL;
        put_be(buf + p, x->type, 4);
        put_be(buf + p + 4, x->len, 4);
        memcpy(buf + p + 8, x->data, x->len);
        memset(buf + p + 8 + x->len, 0, padded - x->len);
        p += 8 + padded;
    }
    if (h->version >= 3 || q->nexts) {
        if (p + 8 > bufsz)
            return -EINVAL;
        memset(buf + p, 0, 8); /* end of the extensions */
        p += 8;
    }
    if (q->backing_name) {
        size_t n = strlen(q->backing_name);
        if (p + n > bufsz)
            return -EINVAL;
        memcpy(buf + p, q->backing_name, n);
        p += n;
    }
    return (int)p;
}
