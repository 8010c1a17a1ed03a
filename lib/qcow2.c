/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The qcow2 driver, read side: v2/v3 headers, L1/L2 translation with a
 * bounded L2 cache, zero clusters and subclusters (extended L2), deflate and
 * zstd compressed clusters, backing chains, external data files and opening
 * as of an internal snapshot.
 *
 * Images are untrusted input: every offset, size and count read from the
 * file is checked against qemu's own limits and against the file size before
 * it is used. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qcow2.h"

#define MAX_CHAIN 256
#define DEFAULT_L2_CACHE (8ULL << 20) /* covers 64 GiB of disk with 64 KiB clusters */

/* Backing chain being opened: for loop detection and --untrusted. */
struct chain {
    int depth;
    dev_t dev[MAX_CHAIN + 1];
    ino_t ino[MAX_CHAIN + 1];
    char *topdir;          /* realpath of the top image's directory */
    int untrusted, force_share;
};

static gk_dev *q_open(const char *path, const gk_open_opts *opts, struct chain *ch);

/* ---- host I/O ---- */

int gk_qcow2_host_read(struct qcow2 *q, int fd, const char *name, void *buf, size_t n, uint64_t off)
{
    char *p = buf;
    while (n > 0) {
        q->host_preads++;
        ssize_t k = pread(fd, p, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            gk_error("%s: read at offset %llu: %s", name, (unsigned long long)off, strerror(errno));
            return -1;
        }
        if (k == 0) { /* past the end of the file: zeros, as qemu reads them */
            memset(p, 0, n);
            return 0;
        }
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

uint64_t gk_qcow2_host_preads(gk_dev *d)
{
    if (d->ops != &gk_qcow2_ops)
        return 0;
    return ((struct qcow2 *)d->priv)->host_preads;
}

/* ---- L2 tables ---- */

static const uint8_t *l2_get(struct qcow2 *q, uint64_t l2off)
{
    if (l2off & (q->cluster_size - 1)) {
        gk_error("%s: L2 table offset 0x%llx is not cluster aligned (image corrupt)", q->path,
                 (unsigned long long)l2off);
        return NULL;
    }
    if (l2off < q->cluster_size || !gk_range_ok(l2off, q->cluster_size, q->file_size)) {
        gk_error("%s: L2 table offset 0x%llx is outside the image file (image corrupt)", q->path,
                 (unsigned long long)l2off);
        return NULL;
    }
    /* set-associative: a table can only live in the ways of its set, so a
     * lookup costs a few compares however big the cache is */
    q->tick++;
    uint64_t set = ((l2off >> q->cluster_bits) * 0x9E3779B97F4A7C15ULL >> 32) % q->l2c_sets;
    struct qcow2_l2c *ways = &q->l2c[set * q->l2c_ways], *victim = NULL;
    for (unsigned i = 0; i < q->l2c_ways; i++) {
        struct qcow2_l2c *c = &ways[i];
        if (c->tbl && c->off == l2off) {
            c->used = q->tick;
            return c->tbl;
        }
        if (!victim || !c->tbl || (victim->tbl && c->used < victim->used))
            victim = c;
    }
    if (!victim->tbl) {
        victim->tbl = gk_malloc(q->cluster_size);
        q->l2c_n++;
    }
    victim->off = 0; /* invalid until read */
    if (gk_qcow2_host_read(q, q->fd, q->path, victim->tbl, q->cluster_size, l2off) < 0)
        return NULL;
    victim->off = l2off;
    victim->used = q->tick;
    return victim->tbl;
}

/* ---- mapping guest ranges ---- */

enum { R_UNALLOC, R_ZERO, R_DATA, R_COMP };

struct qrun {
    int type;
    uint64_t len;
    int has_off;       /* host is valid (data, preallocated zero/unallocated) */
    uint64_t host;     /* host offset of the first byte of the run            */
    uint64_t desc;     /* R_COMP: the L2 descriptor                           */
};

/* Classify one unit (a cluster, or a subcluster with extended L2). */
static int classify(struct qcow2 *q, uint64_t guest_cluster_off, uint64_t e, uint64_t bm, unsigned sc,
                    int *type, int *has_off, uint64_t *host)
{
    uint64_t off = e & QC_OFFSET_MASK;
    int external = q->data_fd != q->fd;
    *has_off = 0;
    *host = 0;
    if (e & QC_OFLAG_COMPRESSED) {
        if (external) {
            gk_error("%s: compressed cluster with an external data file (image corrupt)", q->path);
            return -1;
        }
        *type = R_COMP;
        return 0;
    }
    if (!q->ext_l2 && (e & QC_OFLAG_ZERO)) {
        if (q->version < 3) {
            gk_error("%s: zero cluster entry found in a version 2 image (image corrupt)", q->path);
            return -1;
        }
        *type = R_ZERO;
        if (!off)
            return 0;
    } else if (!off && !(external && (e & QC_OFLAG_COPIED))) {
        /* cluster not allocated */
        if (q->ext_l2) {
            if (bm & 0xffffffffULL) {
                gk_error("%s: unallocated cluster with allocated subclusters (image corrupt)", q->path);
                return -1;
            }
            *type = (bm >> (32 + sc)) & 1 ? R_ZERO : R_UNALLOC;
        } else {
            *type = R_UNALLOC;
        }
        return 0;
    } else if (q->ext_l2) {
        if ((bm >> 32) & bm) {
            gk_error("%s: invalid subcluster bitmap 0x%llx (image corrupt)", q->path, (unsigned long long)bm);
            return -1;
        }
        if ((bm >> (32 + sc)) & 1)
            *type = R_ZERO;
        else if ((bm >> sc) & 1)
            *type = R_DATA;
        else
            *type = R_UNALLOC;
    } else {
        *type = R_DATA;
    }
    if (off & (q->cluster_size - 1)) {
        gk_error("%s: cluster offset 0x%llx is not cluster aligned (image corrupt)", q->path,
                 (unsigned long long)off);
        return -1;
    }
    if (external) {
        if (off != guest_cluster_off) {
            gk_error("%s: external data file offset 0x%llx does not match guest offset 0x%llx (image corrupt)",
                     q->path, (unsigned long long)off, (unsigned long long)guest_cluster_off);
            return -1;
        }
    } else if (*type == R_DATA && off >= q->file_size) {
        gk_error("%s: data cluster offset 0x%llx is past the end of the file (image corrupt)", q->path,
                 (unsigned long long)off);
        return -1;
    } else if (off < q->cluster_size) {
        gk_error("%s: data cluster overlaps the header (image corrupt)", q->path);
        return -1;
    }
    *has_off = 1;
    *host = off + ((uint64_t)sc << (q->cluster_bits - 5)) * (uint64_t)q->ext_l2;
    return 0;
}

/* The longest run from off (at most maxlen bytes, inside one L2 table) with
 * one type and, where there are host offsets, contiguous ones. */
static int q_map(struct qcow2 *q, uint64_t off, uint64_t maxlen, struct qrun *r)
{
    unsigned cb = q->cluster_bits;
    unsigned tshift = cb + q->l2_bits;        /* bytes mapped by one L2 table */
    uint64_t l1i = off >> tshift;
    uint64_t tend = (l1i + 1) << tshift;
    uint64_t lim = tend - off < maxlen ? tend - off : maxlen;
    memset(r, 0, sizeof *r);
    uint64_t l2off = l1i < q->l1_size ? q->l1[l1i] & QC_OFFSET_MASK : 0;
    if (!l2off) {
        r->type = R_UNALLOC;
        r->len = lim;
        return 0;
    }
    const uint8_t *tbl = l2_get(q, l2off);
    if (!tbl)
        return -1;
    unsigned ubits = q->ext_l2 ? cb - 5 : cb;  /* unit: subcluster or cluster */
    uint64_t usize = 1ULL << ubits;
    uint64_t u = (off & ((1ULL << tshift) - 1)) >> ubits;
    uint64_t nunits = (1ULL << tshift) >> ubits;
    uint64_t len = 0;
    for (; u < nunits && len < lim; u++) {
        uint64_t ci = u >> (cb - ubits);
        const uint8_t *ent = tbl + ci * q->l2_entry_size;
        uint64_t e = gk_be64(ent);
        uint64_t bm = q->ext_l2 ? gk_be64(ent + 8) : 0;
        unsigned sc = (unsigned)(u & ((1u << (cb - ubits)) - 1));
        uint64_t gco = ((l1i << q->l2_bits) + ci) << cb;
        int type, has_off;
        uint64_t host;
        if (classify(q, gco, e, bm, sc, &type, &has_off, &host) < 0)
            return -1;
        uint64_t in = len ? 0 : off & (usize - 1);
        if (len == 0) {
            r->type = type;
            r->has_off = has_off;
            r->host = host + in;
            if (type == R_COMP) {
                r->desc = e & ~QC_OFLAG_COPIED;
                /* one compressed cluster per run */
                uint64_t rest = q->cluster_size - (off & (q->cluster_size - 1));
                r->len = rest < lim ? rest : lim;
                return 0;
            }
        } else if (type != r->type || has_off != r->has_off || (has_off && host != r->host + len)) {
            break;
        }
        len += usize - in;
    }
    r->len = len < lim ? len : lim;
    return 0;
}

/* ---- compressed clusters ---- */

void gk_qcow2_compressed_range(const struct qcow2 *q, uint64_t desc, uint64_t *coff, uint64_t *csize)
{
    unsigned x = 62 - (q->cluster_bits - 8);
    *coff = desc & ((1ULL << x) - 1);
    uint64_t nb = ((desc >> x) & ((1ULL << (q->cluster_bits - 8)) - 1)) + 1;
    *csize = nb * 512 - (*coff & 511);
}

/* Decompress the cluster described by desc into out (cluster_size bytes). */
static int inflate_cluster(struct qcow2 *q, uint64_t desc, uint8_t *out)
{
    uint64_t coff, csize;
    gk_qcow2_compressed_range(q, desc, &coff, &csize);
    if (coff < q->cluster_size || coff >= q->file_size || coff > (1ULL << 56)) {
        gk_error("%s: compressed cluster at offset 0x%llx is outside the image file (image corrupt)", q->path,
                 (unsigned long long)coff);
        return -1;
    }
    if (csize > q->file_size - coff)
        csize = q->file_size - coff;
    /* the input buffer grows to the largest stream seen (at most 2 clusters) */
    if (csize > q->cbuf_size) {
        free(q->cbuf);
        q->cbuf = gk_malloc(csize);
        q->cbuf_size = csize;
    }
    if (gk_qcow2_host_read(q, q->fd, q->path, q->cbuf, csize, coff) < 0)
        return -1;
    if (q->compression_type == 0) {
        if (!q->zs_ok) {
            memset(&q->zs, 0, sizeof q->zs);
            if (inflateInit2(&q->zs, -15) != Z_OK) {
                gk_error("%s: cannot initialise zlib", q->path);
                return -1;
            }
            q->zs_ok = 1;
        } else {
            inflateReset(&q->zs);
        }
        q->zs.next_in = q->cbuf;
        q->zs.avail_in = (uInt)csize;
        q->zs.next_out = out;
        q->zs.avail_out = (uInt)q->cluster_size;
        int ret = inflate(&q->zs, Z_FINISH);
        /* the stream may end early in its last sector; what counts is a full cluster */
        if (q->zs.avail_out != 0 || (ret != Z_STREAM_END && ret != Z_BUF_ERROR && ret != Z_OK)) {
            gk_error("%s: compressed cluster at offset 0x%llx: invalid deflate data (image corrupt)", q->path,
                     (unsigned long long)coff);
            return -1;
        }
        return 0;
    }
    if (!q->zd) {
        q->zd = ZSTD_createDCtx();
        if (!q->zd) {
            gk_error("%s: cannot initialise zstd", q->path);
            return -1;
        }
        /* a cluster is at most 2 MiB: refuse frames asking for huge windows */
        ZSTD_DCtx_setParameter(q->zd, ZSTD_d_windowLogMax, 22);
    } else {
        ZSTD_DCtx_reset(q->zd, ZSTD_reset_session_only);
    }
    ZSTD_inBuffer in = { q->cbuf, csize, 0 };
    ZSTD_outBuffer o = { out, q->cluster_size, 0 };
    while (o.pos < o.size) {
        size_t ip = in.pos, op = o.pos;
        size_t r = ZSTD_decompressStream(q->zd, &o, &in);
        if (ZSTD_isError(r) || (in.pos <= ip && o.pos <= op)) {
            gk_error("%s: compressed cluster at offset 0x%llx: invalid zstd data%s%s (image corrupt)", q->path,
                     (unsigned long long)coff, ZSTD_isError(r) ? ": " : "", ZSTD_isError(r) ? ZSTD_getErrorName(r) : "");
            return -1;
        }
    }
    return 0;
}

/* A decompressed cluster from the small cache (for reads of part of one). */
static const uint8_t *decompress(struct qcow2 *q, uint64_t desc)
{
    struct qcow2_dc *dc = NULL;
    q->tick++;
    for (int i = 0; i < 2; i++) {
        if (q->dc[i].valid && q->dc[i].desc == desc) {
            q->dc[i].used = q->tick;
            return q->dc[i].buf;
        }
        if (!dc || (dc->valid && (!q->dc[i].valid || q->dc[i].used < dc->used)))
            dc = &q->dc[i];
    }
    if (!dc->buf)
        dc->buf = gk_malloc(q->cluster_size);
    dc->valid = 0;
    if (inflate_cluster(q, desc, dc->buf) < 0)
        return NULL;
    dc->desc = desc;
    dc->valid = 1;
    dc->used = q->tick;
    return dc->buf;
}

/* ---- the device ops ---- */

static int q_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    struct qcow2 *q = d->priv;
    uint8_t *p = buf;
    /* A pending host read that following data runs extend when their host
     * offsets and buffer positions are both contiguous. */
    uint8_t *pbuf = NULL;
    uint64_t phost = 0, plen = 0;
    int rc = 0;
    while (n > 0) {
        struct qrun r;
        if (q_map(q, off, n, &r) < 0) {
            rc = -1;
            break;
        }
        size_t len = (size_t)r.len;
        if (r.type == R_DATA) {
            if (pbuf && pbuf + plen == p && phost + plen == r.host) {
                plen += len;
            } else {
                if (pbuf && gk_qcow2_host_read(q, q->data_fd, q->data_path, pbuf, plen, phost) < 0) {
                    rc = -1;
                    break;
                }
                pbuf = p;
                phost = r.host;
                plen = len;
            }
        } else if (r.type == R_ZERO) {
            memset(p, 0, len);
        } else if (r.type == R_COMP && len == q->cluster_size) {
            /* a whole cluster: straight into the caller's buffer */
            if (inflate_cluster(q, r.desc, p) < 0) {
                rc = -1;
                break;
            }
        } else if (r.type == R_COMP) {
            const uint8_t *c = decompress(q, r.desc);
            if (!c) {
                rc = -1;
                break;
            }
            memcpy(p, c + (off & (q->cluster_size - 1)), len);
        } else {
            uint64_t bsize = q->backing ? q->backing->size : 0;
            size_t from_b = off >= bsize ? 0 : (bsize - off < len ? (size_t)(bsize - off) : len);
            if (from_b && gk_pread(q->backing, p, from_b, off) < 0) {
                rc = -1;
                break;
            }
            memset(p + from_b, 0, len - from_b);
        }
        p += len;
        off += len;
        n -= len;
    }
    if (rc == 0 && pbuf && gk_qcow2_host_read(q, q->data_fd, q->data_path, pbuf, plen, phost) < 0)
        rc = -1;
    return rc;
}

/* One extent of qemu-img map: this layer's status, or the backing's at
 * depth+1 where this layer is unallocated.  *final is set when the backing
 * ended the run inside this layer's unallocated range: the backing merges
 * its runs as far as they go, so what follows is known to differ and must
 * not be asked for again (each layer asking twice was 2^depth calls). */
static int q_status1(gk_dev *d, uint64_t off, uint64_t maxlen, gk_extent *e, int *final)
{
    struct qcow2 *q = d->priv;
    struct qrun r;
    if (q_map(q, off, maxlen, &r) < 0)
        return -1;
    memset(e, 0, sizeof *e);
    e->off = off;
    e->len = r.len;
    if (r.has_off) {
        e->flags |= GK_BS_OFFSET;
        e->host_off = r.host;
        e->host_file = q->data_path;
    }
    switch (r.type) {
    case R_DATA:
        e->flags |= GK_BS_DATA | GK_BS_ALLOCATED;
        break;
    case R_COMP:
        e->flags |= GK_BS_DATA | GK_BS_ALLOCATED | GK_BS_COMPRESSED;
        break;
    case R_ZERO:
        e->flags |= GK_BS_ZERO | GK_BS_ALLOCATED;
        break;
    default: {
        /* qemu sees a raw file's size rounded up to whole sectors */
        uint64_t bsize = q->backing ? q->backing->size : 0;
        if (q->backing && strcmp(q->backing->ops->name, "raw") == 0 && (bsize & 511))
            bsize = (bsize | 511) + 1;
        if (!q->backing || off >= bsize) {
            /* qemu synthesises zeros at this layer, not allocated */
            e->flags |= GK_BS_ZERO;
            break;
        }
        if (off >= q->backing->size) {
            /* the tail of the raw file's last sector: zeros read from it */
            e->len = bsize - off < e->len ? bsize - off : e->len;
            e->flags = GK_BS_ZERO | GK_BS_ALLOCATED | GK_BS_OFFSET;
            e->host_off = off;
            e->host_file = q->backing->name;
            e->depth = 1;
            break;
        }
        if (e->len > q->backing->size - off)
            e->len = q->backing->size - off;
        uint64_t asked = e->len;
        if (gk_block_status(q->backing, off, asked, e) < 0)
            return -1;
        if (e->len < asked)
            *final = 1;
        e->off = off;
        e->depth++;
        break;
    }
    }
    return 0;
}

static int q_block_status(gk_dev *d, uint64_t off, uint64_t maxlen, gk_extent *e)
{
    int final = 0;
    if (q_status1(d, off, maxlen, e, &final) < 0) {
        /* never hand back an empty run, even to a caller that forgets the -1 */
        memset(e, 0, sizeof *e);
        e->off = off;
        e->len = maxlen;
        return -1;
    }
    /* merge following runs with the same status and contiguous host offsets;
     * a bad entry further on ends the run here and is reported by the next call */
    while (!final && e->len < maxlen) {
        gk_extent n;
        if (q_status1(d, off + e->len, maxlen - e->len, &n, &final) < 0)
            break;
        if (n.flags != e->flags || n.depth != e->depth || n.host_file != e->host_file ||
            ((e->flags & GK_BS_OFFSET) && n.host_off != e->host_off + e->len))
            break;
        e->len += n.len;
    }
    return 0;
}

static gk_dev *q_backing(gk_dev *d)
{
    return ((struct qcow2 *)d->priv)->backing;
}

static int q_info(gk_dev *d, gk_image_info *info)
{
    struct qcow2 *q = d->priv;
    struct stat st;
    info->format = "qcow2";
    info->filename = gk_strdup(q->path);
    info->virtual_size = d->size;
    if (fstat(q->fd, &st) == 0)
        info->actual_size = (uint64_t)st.st_blocks * 512;
    if (q->data_fd != q->fd && fstat(q->data_fd, &st) == 0)
        info->actual_size += (uint64_t)st.st_blocks * 512;
    info->dirty = !!(q->incompat & QC_INCOMPAT_DIRTY);
    info->version = q->version;
    info->cluster_size = (uint32_t)q->cluster_size;
    info->backing_file = q->backing_name ? gk_strdup(q->backing_name) : NULL;
    info->full_backing_file = q->backing_full ? gk_strdup(q->backing_full) : NULL;
    info->backing_format = q->backing_format ? gk_strdup(q->backing_format) : NULL;
    info->data_file = q->data_file_name ? gk_strdup(q->data_file_name) : NULL;
    info->data_file_raw = !!(q->autoclear & 2);
    info->corrupt = !!(q->incompat & QC_INCOMPAT_CORRUPT);
    info->lazy_refcounts = !!(q->compat & 1);
    info->extended_l2 = q->ext_l2;
    info->refcount_bits = 1 << q->refcount_order;
    info->compression_type = q->compression_type ? "zstd" : "zlib";
    info->encrypted = q->crypt_method != 0;
    info->nb_bitmaps = q->nb_bitmaps;
    info->nb_snapshots = (int)q->nb_snapshots;
    if (q->nb_snapshots) {
        info->snapshots = gk_calloc(q->nb_snapshots, sizeof *info->snapshots);
        for (uint32_t i = 0; i < q->nb_snapshots; i++) {
            info->snapshots[i] = q->snaps[i];
            info->snapshots[i].id = gk_strdup(q->snaps[i].id);
            info->snapshots[i].name = gk_strdup(q->snaps[i].name);
        }
    }
    return 0;
}

static void q_free(struct qcow2 *q)
{
    if (!q)
        return;
    if (q->backing)
        gk_dev_unref(q->backing);
    if (q->data_fd >= 0 && q->data_fd != q->fd)
        close(q->data_fd);
    if (q->data_path != q->path)
        free(q->data_path);
    if (q->fd >= 0)
        close(q->fd);
    free(q->path);
    for (uint32_t i = 0; q->snaps && i < q->nb_snapshots; i++) {
        free(q->snaps[i].id);
        free(q->snaps[i].name);
    }
    free(q->snaps);
    free(q->backing_name);
    free(q->backing_full);
    free(q->backing_format);
    free(q->data_file_name);
    free(q->l1);
    for (unsigned i = 0; q->l2c && i < q->l2c_sets * q->l2c_ways; i++)
        free(q->l2c[i].tbl);
    free(q->l2c);
    for (int i = 0; i < 2; i++)
        free(q->dc[i].buf);
    free(q->cbuf);
    if (q->zs_ok)
        inflateEnd(&q->zs);
    if (q->zd)
        ZSTD_freeDCtx(q->zd);
    free(q);
}

static void q_close(gk_dev *d)
{
    q_free(d->priv);
}

const struct gk_dev_ops gk_qcow2_ops = {
    .name = "qcow2",
    .pread = q_pread,
    .block_status = q_block_status,
    .info = q_info,
    .backing = q_backing,
    .close = q_close,
};

/* ---- opening ---- */

/* Names of unknown incompatible features from the feature-name table. */
static void unsupported_features(struct qcow2 *q, const uint8_t *tbl, uint64_t tbl_len, uint64_t bits)
{
    char msg[1024];
    size_t m = 0;
    msg[0] = 0;
    for (uint64_t i = 0; i + 48 <= tbl_len && bits; i += 48) {
        const uint8_t *f = tbl + i;
        if (f[0] != 0 || f[1] > 63 || !(bits & (1ULL << f[1])))
            continue;
        bits &= ~(1ULL << f[1]);
        char name[47];
        memcpy(name, f + 2, 46);
        name[46] = 0;
        for (char *c = name; *c; c++)
            if ((unsigned char)*c < 32 || (unsigned char)*c > 126)
                *c = '?';
        m += (size_t)snprintf(msg + m, sizeof msg - m, "%s%s", m ? ", " : "", name);
        if (m >= sizeof msg)
            m = sizeof msg - 1;
    }
    if (bits)
        snprintf(msg + m, sizeof msg - m, "%sUnknown incompatible feature: %llx", m ? ", " : "",
                 (unsigned long long)bits);
    gk_error("%s: Unsupported qcow2 feature(s): %s", q->path, msg);
}

static char *ext_string(const uint8_t *p, uint32_t len)
{
    if (memchr(p, 0, len))
        return NULL;
    return gk_strndup((const char *)p, len);
}

/* Header extensions between header_length and end. */
static int read_extensions(struct qcow2 *q, const uint8_t *h, uint64_t start, uint64_t end,
                           const uint8_t **ftbl, uint64_t *ftbl_len)
{
    uint64_t p = start;
    uint32_t seen = 0;
    while (p + 8 <= end) {
        uint32_t type = gk_be32(h + p), len = gk_be32(h + p + 4);
        p += 8;
        if (type == 0)
            return 0;
        if (len > end - p) {
            gk_error("%s: header extension 0x%08x too large", q->path, type);
            return -1;
        }
        const uint8_t *data = h + p;
        switch (type) {
        case 0xE2792ACA: /* backing file format */
            if (seen & 1 || len >= 16 || !(q->backing_format = ext_string(data, len))) {
                gk_error("%s: invalid backing file format extension", q->path);
                return -1;
            }
            seen |= 1;
            break;
        case 0x6803F857: /* feature name table */
            *ftbl = data;
            *ftbl_len = len;
            break;
        case 0x23852875: /* bitmaps */
            if (len != 24 || seen & 2) {
                gk_error("%s: invalid bitmaps extension", q->path);
                return -1;
            }
            seen |= 2;
            if (q->autoclear & 1) { /* bitmaps consistent */
                q->nb_bitmaps = (int)(gk_be32(data) > 65535 ? 0 : gk_be32(data));
                q->bitmap_dir_size = gk_be64(data + 8);
                q->bitmap_dir_offset = gk_be64(data + 16);
            }
            break;
        case 0x0537BE77: /* full disk encryption header */
            if (len != 16) {
                gk_error("%s: invalid encryption header extension", q->path);
                return -1;
            }
            q->crypto_off = gk_be64(data);
            q->crypto_len = gk_be64(data + 8);
            break;
        case 0x44415441: /* external data file name */
            if (seen & 4 || len == 0 || len > 1023 || !(q->data_file_name = ext_string(data, len))) {
                gk_error("%s: invalid external data file name extension", q->path);
                return -1;
            }
            seen |= 4;
            break;
        default:
            break;
        }
        uint64_t padded = ((uint64_t)len + 7) & ~7ULL;
        p += padded < end - p ? padded : end - p;
    }
    return 0;
}

/* "proto:..." or "json:..." names: qemu would interpret them, we refuse. */
static int is_protocol_name(const char *name)
{
    const char *colon = strchr(name, ':');
    const char *slash = strchr(name, '/');
    return colon && (!slash || colon < slash);
}

/* qemu's path_combine: relative names are relative to the image's directory. */
static char *resolve_relative(const char *image, const char *name)
{
    if (name[0] == '/')
        return gk_strdup(name);
    const char *slash = strrchr(image, '/');
    if (!slash)
        return gk_strdup(name);
    return gk_asprintf("%.*s%s", (int)(slash - image + 1), image, name);
}

static char *dir_realpath(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? gk_strndup(path, slash == path ? 1 : (size_t)(slash - path)) : gk_strdup(".");
    char *r = realpath(dir, NULL);
    free(dir);
    return r;
}

/* Checks shared by backing and data files named inside an image. */
static int check_referenced_file(struct qcow2 *q, struct chain *ch, const char *what, const char *name,
                                 const char *full, struct stat *st)
{
    if (strncmp(name, "json:", 5) == 0 || is_protocol_name(name)) {
        gk_error("%s: %s \"%s\": json: and protocol file names are not supported", q->path, what, name);
        return -1;
    }
    if (stat(full, st) < 0) {
        gk_error("%s: %s \"%s\": %s", q->path, what, name, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        gk_error("%s: %s \"%s\": not a regular file", q->path, what, name);
        return -1;
    }
    if (ch->untrusted) {
        char *real = realpath(full, NULL);
        size_t n = ch->topdir ? strlen(ch->topdir) : 0;
        int inside = real && ch->topdir &&
                     (strcmp(ch->topdir, "/") == 0 ? 1 : strncmp(real, ch->topdir, n) == 0 && real[n] == '/');
        free(real);
        if (!inside) {
            gk_error("%s: %s \"%s\" is outside the image's directory (refused for untrusted images)", q->path,
                     what, name);
            return -1;
        }
    }
    return 0;
}

static int open_backing(struct qcow2 *q, struct chain *ch)
{
    const char *name = q->backing_name;
    q->backing_full = resolve_relative(q->path, name);
    struct stat st;
    if (check_referenced_file(q, ch, "backing file", name, q->backing_full, &st) < 0)
        return -1;
    for (int i = 0; i <= ch->depth; i++) {
        if (ch->dev[i] == st.st_dev && ch->ino[i] == st.st_ino) {
            gk_error("%s: backing file \"%s\": backing chain loops", q->path, name);
            return -1;
        }
    }
    if (ch->depth >= MAX_CHAIN) {
        gk_error("%s: backing chain is longer than %d images", q->path, MAX_CHAIN);
        return -1;
    }
    const char *fmt = q->backing_format;
    if (!fmt) {
        if (ch->untrusted) {
            gk_error("%s: backing file \"%s\" has no backing format (format probing refused for untrusted images)",
                     q->path, name);
            return -1;
        }
        int fd = open(q->backing_full, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            gk_error("%s: backing file \"%s\": %s", q->path, name, strerror(errno));
            return -1;
        }
        fmt = gk_probe_format(fd);
        close(fd);
    }
    gk_open_opts bo = { 0 };
    bo.untrusted = ch->untrusted;
    bo.force_share = ch->force_share;
    if (strcmp(fmt, "raw") == 0) {
        q->backing = gk_raw_open(q->backing_full, &bo);
    } else if (strcmp(fmt, "qcow2") == 0) {
        bo.format = "qcow2";
        ch->depth++;
        ch->dev[ch->depth] = st.st_dev;
        ch->ino[ch->depth] = st.st_ino;
        q->backing = q_open(q->backing_full, &bo, ch);
        ch->depth--;
    } else {
        gk_error("%s: backing file \"%s\": unsupported backing format \"%s\"", q->path, name, fmt);
        return -1;
    }
    if (!q->backing) {
        /* only the top image adds its name: the inner message already names
         * the image whose backing file failed, and deep chains stay readable */
        if (ch->depth == 0)
            gk_error_prefix("%s: backing file \"%s\"", q->path, name);
        return -1;
    }
    return 0;
}

static int open_data_file(struct qcow2 *q, struct chain *ch)
{
    if (!q->data_file_name) {
        gk_error("%s: image needs an external data file but names none", q->path);
        return -1;
    }
    char *full = resolve_relative(q->path, q->data_file_name);
    struct stat st;
    if (check_referenced_file(q, ch, "data file", q->data_file_name, full, &st) < 0) {
        free(full);
        return -1;
    }
    q->data_fd = open(full, O_RDONLY | O_CLOEXEC);
    if (q->data_fd < 0) {
        gk_error("%s: data file \"%s\": %s", q->path, q->data_file_name, strerror(errno));
        free(full);
        return -1;
    }
    q->data_path = full;
    return 0;
}

/* A window on the snapshot table: entries are read a few hundred KiB at a
 * time instead of allocating the whole (up to 64 MiB) table. */
struct win {
    uint8_t *buf;
    uint64_t off, len, cap;
};

static const uint8_t *win_get(struct qcow2 *q, struct win *w, uint64_t pos, uint64_t n, uint64_t avail)
{
    if (!gk_range_ok(pos, n, avail)) {
        gk_error("%s: snapshot table is past the end of the file", q->path);
        return NULL;
    }
    if (w->buf && pos >= w->off && pos + n <= w->off + w->len)
        return w->buf + (pos - w->off);
    uint64_t want = n > (256 << 10) ? n : 256 << 10;
    if (want > avail - pos)
        want = avail - pos;
    if (want > w->cap) {
        free(w->buf);
        w->buf = gk_malloc(want);
        w->cap = want;
    }
    w->off = pos;
    w->len = 0;
    if (gk_qcow2_host_read(q, q->fd, q->path, w->buf, want, q->snapshots_offset + pos) < 0)
        return NULL;
    w->len = want;
    return w->buf;
}

/* Snapshot table: ids, names, sizes; every field bounded. */
static int read_snapshots(struct qcow2 *q)
{
    if (!q->nb_snapshots)
        return 0;
    if (q->nb_snapshots > QC_MAX_SNAPSHOTS) {
        gk_error("%s: too many snapshots (%u)", q->path, q->nb_snapshots);
        return -1;
    }
    if (q->snapshots_offset & (q->cluster_size - 1) || q->snapshots_offset < q->cluster_size ||
        q->snapshots_offset >= q->file_size) {
        gk_error("%s: invalid snapshot table offset 0x%llx", q->path, (unsigned long long)q->snapshots_offset);
        return -1;
    }
    /* the table is read through a window, bounded by the limit and the file */
    uint64_t avail = q->file_size - q->snapshots_offset;
    if (avail > QC_MAX_SNAPSHOTS_BYTES)
        avail = QC_MAX_SNAPSHOTS_BYTES;
    if ((uint64_t)q->nb_snapshots * 40 > avail) {
        gk_error("%s: snapshot table is past the end of the file", q->path);
        return -1;
    }
    struct win w = { 0 };
    q->snaps = gk_calloc(q->nb_snapshots, sizeof *q->snaps);
    uint64_t p = 0;
    const uint8_t *e;
    for (uint32_t i = 0; i < q->nb_snapshots; i++) {
        gk_snapshot_info *s = &q->snaps[i];
        if (!(e = win_get(q, &w, p, 40, avail)))
            goto fail;
        s->l1_offset = gk_be64(e);
        s->l1_size = gk_be32(e + 8);
        uint16_t idlen = gk_be16(e + 12), namelen = gk_be16(e + 14);
        s->date_sec = gk_be32(e + 16);
        s->date_nsec = gk_be32(e + 20);
        s->vm_clock_nsec = gk_be64(e + 24);
        s->vm_state_size = gk_be32(e + 32);
        uint32_t extra = gk_be32(e + 36);
        if (extra > QC_MAX_EXTRA_DATA) {
            gk_error("%s: snapshot %u: too much extra data", q->path, i);
            goto fail;
        }
        p += 40;
        if (!(e = win_get(q, &w, p, (uint64_t)extra + idlen + namelen, avail)))
            goto fail;
        s->disk_size = q->header_size;
        s->icount = -1;
        if (extra >= 8)
            s->vm_state_size = gk_be64(e);
        if (extra >= 16)
            s->disk_size = gk_be64(e + 8);
        if (extra >= 24)
            s->icount = (int64_t)gk_be64(e + 16);
        s->id = gk_strndup((const char *)e + extra, idlen);
        s->name = gk_strndup((const char *)e + extra + idlen, namelen);
        p += (uint64_t)extra + idlen + namelen;
        p = (p + 7) & ~7ULL;
    }
    q->snapshots_size = p;
    free(w.buf);
    return 0;
fail:
    free(w.buf);
    return -1;
}

/* Load an L1 table (active or a snapshot's) after checking it. */
static int load_l1(struct qcow2 *q, uint64_t off, uint32_t size, uint64_t vsize, const char *what)
{
    uint64_t bytes = (uint64_t)size * 8;
    if (bytes > QC_MAX_L1_BYTES) {
        gk_error("%s: %s L1 table is too large (%u entries)", q->path, what, size);
        return -1;
    }
    unsigned shift = q->cluster_bits + q->l2_bits;
    uint64_t need = (vsize >> shift) + !!(vsize & ((1ULL << shift) - 1));
    if (need > size && strcmp(what, "active") == 0) {
        gk_error("%s: L1 table is too small (%u entries for %llu bytes)", q->path, size,
                 (unsigned long long)vsize);
        return -1;
    }
    if (size && (off & (q->cluster_size - 1) || off < q->cluster_size || !gk_range_ok(off, bytes, q->file_size))) {
        gk_error("%s: %s L1 table offset 0x%llx is invalid or outside the image file", q->path, what,
                 (unsigned long long)off);
        return -1;
    }
    free(q->l1);
    q->l1 = gk_malloc(bytes ? bytes : 8);
    q->l1_size = size;
    if (bytes && gk_qcow2_host_read(q, q->fd, q->path, q->l1, bytes, off) < 0)
        return -1;
    for (uint32_t i = 0; i < size; i++)
        q->l1[i] = gk_be64(&q->l1[i]);
    return 0;
}

static int parse_header(struct qcow2 *q, const gk_open_opts *opts, struct chain *ch)
{
    uint8_t h72[72];
    if (q->file_size < 72) {
        gk_error("%s: file too small for a qcow2 header", q->path);
        return -1;
    }
    if (gk_qcow2_host_read(q, q->fd, q->path, h72, 72, 0) < 0)
        return -1;
    if (memcmp(h72, "QFI\xfb", 4) != 0) {
        gk_error("%s: not a qcow2 image", q->path);
        return -1;
    }
    q->version = (int)gk_be32(h72 + 4);
    if (q->version != 2 && q->version != 3) {
        gk_error("%s: unsupported qcow2 version %u", q->path, gk_be32(h72 + 4));
        return -1;
    }
    uint64_t bf_off = gk_be64(h72 + 8);
    uint32_t bf_len = gk_be32(h72 + 16);
    q->cluster_bits = gk_be32(h72 + 20);
    if (q->cluster_bits < 9 || q->cluster_bits > 21) {
        gk_error("%s: unsupported cluster size: 2^%u", q->path, gk_be32(h72 + 20));
        return -1;
    }
    q->cluster_size = 1ULL << q->cluster_bits;
    q->header_size = gk_be64(h72 + 24);
    q->crypt_method = gk_be32(h72 + 32);
    q->hdr_l1_size = gk_be32(h72 + 36);
    q->hdr_l1_offset = gk_be64(h72 + 40);
    q->reft_offset = gk_be64(h72 + 48);
    q->reft_clusters = gk_be32(h72 + 56);
    q->nb_snapshots = gk_be32(h72 + 60);
    q->snapshots_offset = gk_be64(h72 + 64);

    /* the whole of cluster 0 (header, extensions, backing name) */
    uint64_t hlen = q->cluster_size < q->file_size ? q->cluster_size : q->file_size;
    uint8_t *h = gk_malloc(hlen);
    int rc = -1;
    if (gk_qcow2_host_read(q, q->fd, q->path, h, hlen, 0) < 0)
        goto out;
    q->refcount_order = 4;
    q->header_length = 72;
    if (q->version == 3) {
        if (hlen < 104) {
            gk_error("%s: qcow2 header is truncated", q->path);
            goto out;
        }
        q->incompat = gk_be64(h + 72);
        q->compat = gk_be64(h + 80);
        q->autoclear = gk_be64(h + 88);
        q->refcount_order = gk_be32(h + 96);
        q->header_length = gk_be32(h + 100);
        if (q->header_length < 104) {
            gk_error("%s: qcow2 header too short", q->path);
            goto out;
        }
        if (q->header_length > q->cluster_size) {
            gk_error("%s: qcow2 header exceeds cluster size", q->path);
            goto out;
        }
        if (q->header_length > hlen) {
            gk_error("%s: qcow2 header is truncated", q->path);
            goto out;
        }
        if (q->header_length > 104)
            q->compression_type = h[104];
    }
    if (q->refcount_order > 6) {
        gk_error("%s: invalid refcount order %u", q->path, q->refcount_order);
        goto out;
    }
    if (bf_off > q->cluster_size) {
        gk_error("%s: invalid backing file offset 0x%llx", q->path, (unsigned long long)bf_off);
        goto out;
    }
    if (bf_off && bf_len) { /* an empty name means no backing file, as in qemu */
        if (bf_len > 1023 || bf_len > q->cluster_size - bf_off) {
            gk_error("%s: backing file name is invalid or does not fit in the first cluster", q->path);
            goto out;
        }
        if (bf_off + bf_len > hlen) {
            gk_error("%s: backing file name is past the end of the file", q->path);
            goto out;
        }
        if (!(q->backing_name = ext_string(h + bf_off, bf_len))) {
            gk_error("%s: backing file name contains a NUL byte", q->path);
            goto out;
        }
    }
    const uint8_t *ftbl = NULL;
    uint64_t ftbl_len = 0;
    uint64_t ext_end = bf_off ? bf_off : hlen;
    if (ext_end > q->header_length &&
        read_extensions(q, h, q->header_length, ext_end, &ftbl, &ftbl_len) < 0)
        goto out;
    if (q->incompat & ~0x1FULL) {
        unsupported_features(q, ftbl, ftbl_len, q->incompat & ~0x1FULL);
        goto out;
    }
    if (q->crypt_method) {
        gk_error("%s: encrypted images are not supported (%s encryption)", q->path,
                 q->crypt_method == 1 ? "AES" : q->crypt_method == 2 ? "LUKS" : "unknown");
        goto out;
    }
    if (q->compression_type > 1) {
        gk_error("%s: unknown compression type %d", q->path, q->compression_type);
        goto out;
    }
    if (!!q->compression_type != !!(q->incompat & QC_INCOMPAT_COMPRESSION)) {
        gk_error("%s: compression type and its incompatible feature bit disagree", q->path);
        goto out;
    }
    q->ext_l2 = !!(q->incompat & QC_INCOMPAT_EXTL2);
    if (q->ext_l2 && q->cluster_bits < 14) {
        gk_error("%s: unsupported subcluster size (extended L2 needs clusters of 16 KiB or more)", q->path);
        goto out;
    }
    q->l2_entry_size = q->ext_l2 ? 16 : 8;
    q->l2_bits = q->cluster_bits - (q->ext_l2 ? 4 : 3);
    q->l2_entries = 1ULL << q->l2_bits;
    if (q->header_size > (1ULL << 62)) {
        gk_error("%s: image is too big", q->path);
        goto out;
    }
    /* refcount table: not needed to read, but qemu refuses a bad one */
    if (q->reft_clusters == 0 || (uint64_t)q->reft_clusters << q->cluster_bits > QC_MAX_REFT_BYTES) {
        gk_error("%s: invalid refcount table size (%u clusters)", q->path, q->reft_clusters);
        goto out;
    }
    if (q->reft_offset & (q->cluster_size - 1) || q->reft_offset < q->cluster_size ||
        q->reft_offset > (1ULL << 56)) {
        gk_error("%s: invalid refcount table offset 0x%llx%s", q->path, (unsigned long long)q->reft_offset,
                 q->reft_offset < q->cluster_size ? " (overlaps the header)" : "");
        goto out;
    }
    if (q->hdr_l1_size && q->hdr_l1_offset < q->cluster_size) {
        gk_error("%s: L1 table overlaps the header", q->path);
        goto out;
    }
    if (q->incompat & QC_INCOMPAT_DATA_FILE) {
        if (q->nb_snapshots) {
            gk_error("%s: internal snapshots with an external data file (image corrupt)", q->path);
            goto out;
        }
        if (open_data_file(q, ch) < 0)
            goto out;
    } else if (q->data_file_name) {
        /* a name without the feature bit is ignored, as qemu does */
        free(q->data_file_name);
        q->data_file_name = NULL;
    }
    if (read_snapshots(q) < 0)
        goto out;
    if (load_l1(q, q->hdr_l1_offset, q->hdr_l1_size, q->header_size, "active") < 0)
        goto out;
    uint64_t vsize = q->header_size;
    if (opts->snapshot) {
        gk_snapshot_info *s = NULL;
        for (uint32_t i = 0; i < q->nb_snapshots && !s; i++)
            if (strcmp(q->snaps[i].id, opts->snapshot) == 0)
                s = &q->snaps[i];
        for (uint32_t i = 0; i < q->nb_snapshots && !s; i++)
            if (strcmp(q->snaps[i].name, opts->snapshot) == 0)
                s = &q->snaps[i];
        if (!s) {
            gk_error("%s: snapshot \"%s\" not found", q->path, opts->snapshot);
            goto out;
        }
        if (s->disk_size > (1ULL << 62)) {
            gk_error("%s: snapshot \"%s\": invalid disk size", q->path, opts->snapshot);
            goto out;
        }
        if (load_l1(q, s->l1_offset, s->l1_size, s->disk_size, "snapshot") < 0)
            goto out;
        vsize = s->disk_size;
    }
    q->size = vsize;
    rc = 0;
    if (q->backing_name) {
        if (q->data_fd != q->fd && (q->autoclear & 2)) {
            gk_error("%s: a raw external data file cannot have a backing file", q->path);
            rc = -1;
        } else {
            rc = open_backing(q, ch);
        }
    }
out:
    free(h);
    return rc;
}

static gk_dev *q_open(const char *path, const gk_open_opts *opts, struct chain *ch)
{
    struct qcow2 *q = gk_calloc(1, sizeof *q);
    q->fd = q->data_fd = -1;
    q->path = gk_strdup(path);
    q->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (q->fd < 0) {
        gk_error("%s: %s", path, strerror(errno));
        goto fail;
    }
    q->data_fd = q->fd;
    q->data_path = q->path;
    struct stat st;
    if (fstat(q->fd, &st) < 0) {
        gk_error("%s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        gk_error("%s: not a regular file", path);
        goto fail;
    }
    q->file_size = (uint64_t)st.st_size;
    q->st_dev = st.st_dev;
    q->st_ino = st.st_ino;
    if (ch->depth == 0) {
        ch->dev[0] = st.st_dev;
        ch->ino[0] = st.st_ino;
    }
    gk_image_check_in_use(q->fd, path, 0, ch->force_share);
    if (opts->readwrite) {
        gk_error("%s: qcow2 images can only be opened read-only", path);
        goto fail;
    }
    if (parse_header(q, opts, ch) < 0)
        goto fail;
    if (q->incompat & QC_INCOMPAT_CORRUPT)
        gk_warn("%s: image is marked corrupt; reading it anyway (read-only)", path);

    uint64_t cache = DEFAULT_L2_CACHE;
    const char *env = getenv("GUESTKIT_L2_CACHE");
    if (env && *env)
        cache = strtoull(env, NULL, 0);
    if (cache > (256ULL << 20))
        cache = 256ULL << 20;
    uint64_t cap = cache / q->cluster_size;
    if (cap < 1)
        cap = 1;
    q->l2c_ways = cap < 8 ? (unsigned)cap : 8;
    q->l2c_sets = (unsigned)(cap / q->l2c_ways);
    q->l2c = gk_calloc((size_t)q->l2c_sets * q->l2c_ways, sizeof *q->l2c);

    gk_dev *d = gk_dev_new(&gk_qcow2_ops, path, q->size, q);
    d->readonly = 1;
    return d;
fail:
    q_free(q);
    return NULL;
}

gk_dev *gk_qcow2_open(const char *path, const gk_open_opts *opts)
{
    gk_open_opts o = { 0 };
    if (opts)
        o = *opts;
    if (o.untrusted < 0) {
        const char *e = getenv("GUESTKIT_UNTRUSTED");
        o.untrusted = e && *e && strcmp(e, "0") != 0;
    }
    struct chain *ch = gk_calloc(1, sizeof *ch);
    ch->untrusted = o.untrusted;
    ch->force_share = o.force_share;
    if (ch->untrusted)
        ch->topdir = dir_realpath(path);
    gk_dev *d = q_open(path, &o, ch);
    free(ch->topdir);
    free(ch);
    return d;
}
