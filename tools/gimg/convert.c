/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gimg convert -O raw.
 *
 * The source is read in windows of CONV_WIN bytes; block status tells
 * which runs read as zeros, those are skipped, the rest is read with one
 * large request per window.  N reader threads (-m N, default 4) each read
 * through their own open of the image (the driver keeps no shared state)
 * and hand filled buffers to the main thread, which writes them leaving out
 * all-zero 4 KiB blocks (qemu-img's default -S 4k), so the output is as
 * sparse as qemu-img's.  Writes to one file are serialised by the kernel
 * anyway; with a single writer a slow write never holds up the readers
 * while free buffers remain.  Compressed targets (-c, and images that take
 * only compressed writes: a streamOptimized VMDK) are compressed by the
 * readers too, cluster by cluster (gk_compress), so the writer only places
 * what they made, as qemu-img compresses in its thread pool. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gimg.h"

#define CONV_WIN (2ULL << 20)
#define CONV_BLK 4096ULL
/* Default readers: decompression and page-cache copies are CPU work that
 * qemu-img spreads over its thread pool. */
#define CONV_THREADS 4

/* What a run of the source is for the target (qemu-img's BLK_*). */
enum { CX_DATA, CX_ZERO, CX_BACKING };

struct cext {
    uint64_t off, len;
    int kind;              /* CX_*                                       */
    int st;                /* the source's status (CX_*: before -S 0 makes
                            * zeros data), which qemu-img's runs follow */
    int cont;              /* split_requests: it starts inside one of
                            * qemu-img's requests, in the window before */
};

struct cbuf {
    unsigned char *p;
    uint64_t off, end;     /* the window                                 */
    uint64_t ds, de;       /* the part read into p; ds == de: all zeros  */
    struct cext *x;        /* the window's runs, in order                */
    int nx, capx;
    /* compressed targets: what each target cluster of the window becomes
     * (CA_*), in order, and the compressed ones                         */
    signed char *act;
    gk_zbuf *z;
    int nk, capk;
};

/* A target cluster of a compressed copy: nothing to write but zero runs
 * (and backing runs left alone), all-zero data (zeroed), compressed (z),
 * or written as it is (a part of a cluster). */
enum { CA_NODATA, CA_ZERO, CA_Z, CA_PLAIN };

struct conv {
    gk_dev *dev[16];
    int nthreads;
    int fd;
    gk_dev *out;           /* an image target (qcow2), or NULL: fd        */
    uint64_t chunk;        /* its cluster size                           */
    int compress;          /* -c, or a target that takes only compressed
                            * writes (needs_compressed_writes)          */
    gk_dev *base;          /* -B (non-NULL): copy only what is allocated above
                            * the source's backing file                  */
    int sparse;            /* skip zeros (regular output file, -S not 0) */
    uint64_t wend;         /* write_fresh: the end of the clusters written, */
    uint64_t pend;         /* and of the last piece of data               */
    unsigned char *carry;  /* write_fresh: the piece held back at a window's */
    uint64_t carry_s, carry_e, carry_cap; /* end: [carry_s, carry_e)     */
    int carry_more;        /* and how it is written                       */
    uint64_t reqmax;       /* qemu-img's requests of data: its buffer    */
    uint64_t qs, qe;       /* the writer: where qemu-img's status run of the
                            * last run written starts, where that ends  */
    int qst;               /* and its status                             */
    struct cext *sx;       /* split_requests' scratch                    */
    int capsx;
    uint64_t min_sparse;   /* -S in sectors, and the alignment qemu-img
                            * gives the ends of data runs (sectors)     */
    uint64_t align;
    int zero_init;         /* the target reads as zeros (a new image without
                            * a backing file): zeros need no writing    */
    int fresh;             /* zero_init, sparse, whole clusters: write_fresh */
    uint64_t size;
    pthread_mutex_t mu;
    pthread_cond_t freed, filled;
    struct cbuf *bufs;
    int nbufs;
    int *freelist, nfree;  /* buffers the readers may fill               */
    int *queue, qlen;      /* filled buffers, for the writer (any order) */
    int readers;           /* readers still running                      */
    uint64_t next_win;
    int failed;
    char err[4096];
};

static void conv_fail(struct conv *cv, const char *msg)
{
    pthread_mutex_lock(&cv->mu);
    if (!cv->failed) {
        cv->failed = 1;
        snprintf(cv->err, sizeof cv->err, "%s", msg);
    }
    pthread_cond_broadcast(&cv->freed);
    pthread_cond_broadcast(&cv->filled);
    pthread_mutex_unlock(&cv->mu);
}

static int write_all(int fd, const unsigned char *p, uint64_t n, uint64_t off)
{
    while (n) {
        ssize_t k = pwrite(fd, p, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += k;
        n -= (uint64_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

/* Write buf (guest range [start, end)) leaving out 4 KiB-aligned blocks
 * that are all zero. */
static int write_sparse(struct conv *cv, const unsigned char *buf, uint64_t start, uint64_t end)
{
    uint64_t run = UINT64_MAX; /* start of the pending non-zero run */
    uint64_t p = start;
    while (p < end) {
        uint64_t bend = (p / CONV_BLK + 1) * CONV_BLK;
        if (bend > end)
            bend = end;
        int zero = cv->sparse && all_zero(buf + (p - start), bend - p);
        if (!zero && run == UINT64_MAX)
            run = p;
        if (zero && run != UINT64_MAX) {
            if (write_all(cv->fd, buf + (run - start), p - run, run) < 0)
                return -1;
            run = UINT64_MAX;
        }
        p = bend;
    }
    if (run != UINT64_MAX && write_all(cv->fd, buf + (run - start), end - run, run) < 0)
        return -1;
    return 0;
}

/* The pieces of a data run that qemu-img convert writes, sector by sector
 * as its is_allocated_sectors_min decides: a piece starts with a data
 * sector and goes on over zero runs shorter than -S; the ends of runs are
 * aligned to cv->align sectors (a zero run ending short of the next
 * boundary is data, a data run is extended to it).  Which target clusters
 * are allocated follows from these pieces, so gimg's image is qemu-img's.
 *
 * sector_state: 1 if sector k of [p, p+len) (512 bytes, less at the end)
 * holds data. */
static int sector_state(const unsigned char *p, uint64_t len, uint64_t k)
{
    uint64_t o = k * 512;
    return !all_zero(p + o, len - o < 512 ? len - o : 512);
}

/* qemu-img's is_allocated_sectors: the run of n sectors at p (the first
 * is sector sec of the disk) in the state of its first sector, its end
 * aligned; *pnum its length in sectors; 1 for data. */
static int run_state(const struct conv *cv, const unsigned char *p, uint64_t len, uint64_t n, uint64_t sec,
                     uint64_t *pnum)
{
    int data = sector_state(p, len, 0);
    uint64_t i = 1;
    while (i < n && sector_state(p, len, i) == data)
        i++;
    if (i < n) {
        uint64_t tail = (sec + i) & (cv->align - 1);
        if (tail) {
            if (!data && i <= tail)
                data = 1;   /* the next data rewrites this tail anyway */
            if (data)
                i = i + cv->align - tail < n ? i + cv->align - tail : n;
            else
                i -= tail;
        }
    }
    *pnum = i;
    return data;
}

/* qemu-img's is_allocated_sectors_min over [off, off+len) of buf (off
 * sector aligned): the length in bytes of the first piece, *data 1 when it
 * is written as data, 0 when it is zeros. */
static uint64_t next_piece(const struct conv *cv, const unsigned char *buf, uint64_t off, uint64_t len, int *data)
{
    uint64_t n = (len + 511) / 512, sec = off / 512, k;
    uint64_t min = cv->min_sparse < n ? cv->min_sparse : n;
    *data = run_state(cv, buf, len, n, sec, &k);
    if (!*data)
        return k * 512 < len ? k * 512 : len;
    uint64_t used = k, checked = k;
    while (checked < n) {
        int d = run_state(cv, buf + checked * 512, len - checked * 512, n - checked, sec + checked, &k);
        checked += k;
        if (d)
            used = checked;
        else if (k >= min)
            break;
    }
    return used * 512 < len ? used * 512 : len;
}

/* [off, off+len) of an image target must read as zeros: nothing to do on
 * a new image, else qemu-img's write-zeroes with unmap (zero clusters). */
static int zero_image(struct conv *cv, uint64_t off, uint64_t len)
{
    return cv->zero_init || len == 0 ? 0 : gk_pwrite_zeroes(cv->out, off, len, GK_ZERO_MAY_UNMAP);
}

/* Compressed targets, in the reader: decide what each target cluster of
 * window b becomes and compress those with data (c: the reader's own
 * compressor).  Whole clusters with data are compressed, all-zero ones
 * zeroed; clusters without data get their zero runs zeroed, what the
 * backing file holds is left to it. */
static int plan_compressed(struct conv *cv, struct cbuf *b, gk_compressor *c)
{
    int xi = 0;
    b->nk = 0;
    for (uint64_t p = b->off; p < b->end;) {
        uint64_t ce = (p / cv->chunk + 1) * cv->chunk;
        if (ce > b->end)
            ce = b->end;
        while (xi < b->nx && b->x[xi].off + b->x[xi].len <= p)
            xi++;
        int data = 0;
        for (int i = xi; i < b->nx && b->x[i].off < ce; i++)
            data |= b->x[i].kind == CX_DATA;
        if (b->nk == b->capk) {
            b->capk = b->capk ? 2 * b->capk : 64;
            b->act = gk_realloc(b->act, (size_t)b->capk);
            b->z = gk_realloc(b->z, (size_t)b->capk * sizeof *b->z);
            memset(b->z + b->nk, 0, (size_t)(b->capk - b->nk) * sizeof *b->z);
        }
        int k = b->nk++;
        const unsigned char *q = b->p + (p - b->ds);
        if (!data)
            b->act[k] = CA_NODATA;
        else if (cv->sparse && all_zero(q, ce - p))
            b->act[k] = CA_ZERO;
        else if (p % cv->chunk)
            b->act[k] = CA_PLAIN;
        else if (gk_compress(c, q, ce - p, p, &b->z[k]) < 0)
            return -1;
        else
            b->act[k] = CA_Z;
        p = ce;
    }
    return 0;
}

/* Compressed targets, in the writer: window b as plan_compressed decided. */
static int write_compressed(struct conv *cv, const struct cbuf *b)
{
    int xi = 0, k = 0;
    for (uint64_t p = b->off; p < b->end; k++) {
        uint64_t ce = (p / cv->chunk + 1) * cv->chunk;
        if (ce > b->end)
            ce = b->end;
        while (xi < b->nx && b->x[xi].off + b->x[xi].len <= p)
            xi++;
        const unsigned char *q = b->p + (p - b->ds);
        int r = 0;
        switch (k < b->nk ? b->act[k] : -1) {
        case CA_NODATA:
            for (int i = xi; i < b->nx && b->x[i].off < ce; i++) {
                uint64_t s = b->x[i].off > p ? b->x[i].off : p, e = b->x[i].off + b->x[i].len;
                if (b->x[i].kind == CX_ZERO && zero_image(cv, s, (e < ce ? e : ce) - s) < 0)
                    return -1;
            }
            break;
        case CA_ZERO: r = zero_image(cv, p, ce - p); break;
        case CA_Z: r = gk_pwrite_precompressed(cv->out, q, ce - p, p, &b->z[k]); break;
        case CA_PLAIN: r = gk_pwrite(cv->out, q, ce - p, p); break;
        default: gk_error("%s: internal error: window at %" PRIu64 " not planned", cv->out->name, b->off); r = -1;
        }
        if (r < 0)
            return -1;
        p = ce;
    }
    return 0;
}

/* Write the piece held back at a window's end (write_fresh). */
static int flush_carry(struct conv *cv)
{
    uint64_t n = cv->carry_e - cv->carry_s;
    if (!n)
        return 0;
    cv->carry_e = cv->carry_s;
    return cv->carry_more ? gk_pwrite_more(cv->out, cv->carry, n, cv->carry_s)
                          : gk_pwrite(cv->out, cv->carry, n, cv->carry_s);
}

/* A new image without a backing file (it reads as zeros) and without
 * subclusters: the clusters qemu-img's pieces of data touch (next_piece)
 * are written whole (a new cluster is written whole anyway, the zeros in
 * it included), each piece with one write as qemu-img writes it, which
 * the driver maps onto contiguous new clusters as qemu maps that write.
 * Where a refcount block is due, that places it where qemu does: after the
 * clusters of a write that needed it, or at the first cluster it covers
 * when a write goes on from clusters mapped before (qemu's
 * qcow2_alloc_clusters_at).  So a piece that starts inside the cluster the
 * write before ended in goes on from there (gk_pwrite_more), and a piece
 * cut by a window's end is held back (copied) and written whole with the
 * rest of it from the next window.  The other clusters are left
 * unallocated. */
static int write_fresh(struct conv *cv, const struct cbuf *b)
{
    uint64_t cs = cv->chunk;
    int held = 0; /* a piece of this window was held back */
    for (int i = 0; i < b->nx; i++) {
        const struct cext *x = &b->x[i];
        if (x->kind != CX_DATA)
            continue;
        for (uint64_t p = x->off, xe = x->off + x->len; p < xe;) {
            int data;
            uint64_t n = next_piece(cv, b->p + (p - b->ds), p, xe - p, &data);
            if (data) {
                uint64_t s = p / cs * cs, e = (p + n + cs - 1) / cs * cs;
                int more = 0, joined = 0;
                if (e > b->de)
                    e = b->de;
                if (cv->carry_e > cv->carry_s && !held) {
                    /* the held piece goes on here, or was whole */
                    if (p == x->off && x->cont && cv->pend == p && s == cv->carry_e)
                        joined = 1;
                    else if (flush_carry(cv) < 0)
                        return -1;
                }
                if (!joined && s < cv->wend) {
                    s = cv->wend; /* written whole already */
                    more = 1;
                }
                if (s < e) {
                    const unsigned char *src = b->p + (s - b->ds);
                    if (joined || (p + n == b->end && b->end < cv->size)) {
                        /* held back: it may go on in the next window */
                        uint64_t have = joined ? cv->carry_e - cv->carry_s : 0;
                        if (have + (e - s) > cv->carry_cap) {
                            cv->carry_cap = have + (e - s);
                            cv->carry = gk_realloc(cv->carry, cv->carry_cap);
                        }
                        memcpy(cv->carry + have, src, e - s);
                        if (!joined) {
                            cv->carry_s = s;
                            cv->carry_more = more;
                        }
                        cv->carry_e = e;
                        held = 1;
                        if (p + n != b->end || b->end >= cv->size) {
                            if (flush_carry(cv) < 0)
                                return -1;
                            held = 0;
                        }
                    } else if ((more ? gk_pwrite_more(cv->out, src, e - s, s) : gk_pwrite(cv->out, src, e - s, s)) <
                               0) {
                        return -1;
                    }
                    cv->wend = e;
                }
                cv->pend = p + n;
            }
            p += n;
        }
    }
    /* a held piece that nothing in this window went on with */
    if (!held && flush_carry(cv) < 0)
        return -1;
    return 0;
}

/* qemu-img's largest block status request (BDRV_REQUEST_MAX_SECTORS) */
#define QEMU_REQ_MAX 0x7ffffe00ULL

/* Cut the runs of window b where qemu-img convert's requests end, in the
 * writer (it sees the windows in order).  qemu-img asks for the block
 * status where its last run ended and gets a run of one status (at most
 * QEMU_REQ_MAX bytes); it copies a run of data in requests of its buffer
 * (cv->reqmax), counted from the run's start, wherever that is.  A
 * request is what qcow2 allocates at once (within one L2 table), so where
 * a refcount block goes, between two requests or after the one that
 * needed it, follows from these ends: with 4 KiB clusters (a refcount
 * block for every 8 MiB) a run that does not start on a 2 MiB boundary
 * moved refcount blocks when the windows' own ends were taken instead.
 * A run continues across a window's start when the window before ended
 * inside it (the same status up to the boundary); write_fresh writes such
 * a request's piece whole (cont marks where it goes on). */
static void split_requests(struct conv *cv, struct cbuf *b)
{
    int n = 0;
    for (int i = 0; i < b->nx; i++) {
        const struct cext *x = &b->x[i];
        uint64_t s = x->off, p = x->off, end = x->off + x->len;
        int on = x->off == b->off && b->off && cv->qe == b->off && cv->qst == x->st;
        if (on)
            s = cv->qs; /* the run goes on from the window before */
        int bydata = x->kind == CX_DATA; /* data, or zeros under -S 0 */
        while (p < end) {
            while (p >= s + QEMU_REQ_MAX)
                s += QEMU_REQ_MAX;
            uint64_t cut = s + QEMU_REQ_MAX;
            if (bydata && s + ((p - s) / cv->reqmax + 1) * cv->reqmax < cut)
                cut = s + ((p - s) / cv->reqmax + 1) * cv->reqmax;
            if (cut > end)
                cut = end;
            if (n == cv->capsx) {
                cv->capsx = cv->capsx ? 2 * cv->capsx : 32;
                cv->sx = gk_realloc(cv->sx, (size_t)cv->capsx * sizeof *cv->sx);
            }
            /* the first piece goes on with a request of the window
             * before when that request started before the window */
            uint64_t rq = bydata ? s + (p - s) / cv->reqmax * cv->reqmax : s;
            cv->sx[n++] = (struct cext){p, cut - p, x->kind, x->st, on && p == x->off && rq < p};
            p = cut;
        }
        cv->qs = s;
        cv->qe = end;
        cv->qst = x->st;
    }
    if (n > b->capx) {
        b->capx = n;
        b->x = gk_realloc(b->x, (size_t)n * sizeof *b->x);
    }
    memcpy(b->x, cv->sx, (size_t)n * sizeof *b->x);
    b->nx = n;
}

/* Write window b into the image target as qemu-img convert does: data
 * runs written, leaving out all-zero 4 KiB blocks (which are zeroed where
 * the target does not read as zeros already), zero runs zeroed, runs of
 * the backing file (-B) left alone. */
static int write_image(struct conv *cv, struct cbuf *b)
{
    if (cv->compress)
        return write_compressed(cv, b);
    split_requests(cv, b);
    if (cv->fresh)
        return write_fresh(cv, b);
    for (int i = 0; i < b->nx; i++) {
        const struct cext *x = &b->x[i];
        uint64_t xe = x->off + x->len;
        if (x->kind == CX_BACKING)
            continue;
        if (x->kind == CX_ZERO) {
            if (zero_image(cv, x->off, x->len) < 0)
                return -1;
            continue;
        }
        if (!cv->sparse) {
            if (gk_pwrite(cv->out, b->p + (x->off - b->ds), x->len, x->off) < 0)
                return -1;
            continue;
        }
        for (uint64_t p = x->off; p < xe;) {
            int data;
            uint64_t n = next_piece(cv, b->p + (p - b->ds), p, xe - p, &data);
            int r = data ? gk_pwrite(cv->out, b->p + (p - b->ds), n, p) : zero_image(cv, p, n);
            if (r < 0)
                return -1;
            p += n;
        }
    }
    return 0;
}

/* merge: join a run to the one before of the same kind (an image target
 * keeps them apart: each is a request of qemu-img's, whose bounds decide
 * where qcow2 puts a refcount block it needs between two runs of data) */
static void add_ext(struct cbuf *b, uint64_t off, uint64_t len, int kind, int st, int merge)
{
    if (merge && b->nx && b->x[b->nx - 1].kind == kind && b->x[b->nx - 1].off + b->x[b->nx - 1].len == off) {
        b->x[b->nx - 1].len += len;
        return;
    }
    if (b->nx == b->capx) {
        b->capx = b->capx ? 2 * b->capx : 16;
        b->x = gk_realloc(b->x, (size_t)b->capx * sizeof *b->x);
    }
    b->x[b->nx++] = (struct cext){off, len, kind, st, 0};
}

/* Fill b with window [b->off, b->end) of d (and compress it for the
 * target with c, when it is compressed); 0 or -1 with gk_error. */
static int conv_read(struct conv *cv, gk_dev *d, gk_compressor *c, struct cbuf *b)
{
    uint64_t ds = UINT64_MAX, de = 0;
    b->nx = 0;
    if (!cv->sparse && !cv->out) {
        ds = b->off;
        de = b->end;
        add_ext(b, ds, de - ds, CX_DATA, CX_DATA, 1);
    } else {
        gk_dev *base = cv->base ? gk_image_backing(d) : NULL;
        for (uint64_t p = b->off; p < b->end;) {
            gk_extent e;
            if (gk_block_status_above(d, base, p, b->end - p, &e) < 0)
                return -1;
            if (e.len == 0 || e.len > b->end - p) {
                gk_error("%s: block status at %" PRIu64 " returned a bad length", d->name, p);
                return -1;
            }
            int kind = (e.flags & GK_BS_ZERO) && !(e.flags & GK_BS_DATA) ? CX_ZERO : CX_DATA;
            if (base && !(e.flags & GK_BS_ALLOCATED)) /* -B: the backing file's */
                kind = CX_BACKING;
            int st = kind;
            if (!cv->sparse && kind == CX_ZERO) /* -S 0: zeros are written */
                kind = CX_DATA;
            add_ext(b, p, e.len, kind, st, !cv->out);
            if (kind == CX_DATA) {
                if (ds == UINT64_MAX)
                    ds = p;
                de = p + e.len;
            }
            p += e.len;
        }
    }
    if (ds == UINT64_MAX)
        ds = de = b->off;
    if (cv->out && ds < de) { /* whole clusters of the target */
        ds -= (ds - b->off) % cv->chunk;
        de = de + cv->chunk - 1 - (de - b->off + cv->chunk - 1) % cv->chunk;
        if (de > b->end)
            de = b->end;
    }
    b->ds = ds;
    b->de = de;
    if (ds < de && gk_pread(d, b->p, de - ds, ds) < 0)
        return -1;
    return c ? plan_compressed(cv, b, c) : 0;
}

static void *conv_reader(void *arg)
{
    struct conv *cv = ((void **)arg)[0];
    gk_dev *d = ((void **)arg)[1];
    gk_compressor *c = ((void **)arg)[2];
    pthread_mutex_lock(&cv->mu);
    for (;;) {
        while (!cv->failed && cv->nfree == 0)
            pthread_cond_wait(&cv->freed, &cv->mu);
        uint64_t off = cv->next_win * CONV_WIN;
        if (cv->failed || off >= cv->size)
            break;
        cv->next_win++;
        struct cbuf *b = &cv->bufs[cv->freelist[--cv->nfree]];
        pthread_mutex_unlock(&cv->mu);

        b->off = off;
        b->end = cv->size - off < CONV_WIN ? cv->size : off + CONV_WIN;
        int rc = conv_read(cv, d, c, b);
        if (rc < 0)
            conv_fail(cv, gk_errmsg());

        pthread_mutex_lock(&cv->mu);
        if (rc < 0)
            break;
        cv->queue[cv->qlen++] = (int)(b - cv->bufs);
        pthread_cond_signal(&cv->filled);
    }
    cv->readers--;
    pthread_cond_signal(&cv->filled);
    pthread_mutex_unlock(&cv->mu);
    return NULL;
}

/* The writer: the main thread. */
static void conv_run(struct conv *cv, struct progress *pr)
{
    cv->nbufs = 2 * cv->nthreads;
    cv->bufs = gk_calloc((size_t)cv->nbufs, sizeof *cv->bufs);
    cv->freelist = gk_calloc((size_t)cv->nbufs, sizeof *cv->freelist);
    cv->queue = gk_calloc((size_t)cv->nbufs, sizeof *cv->queue);
    for (int i = 0; i < cv->nbufs; i++) {
        if (posix_memalign((void **)&cv->bufs[i].p, 4096, CONV_WIN) != 0)
            gk_die_status(1, "out of memory");
        cv->freelist[cv->nfree++] = i;
    }
    pthread_mutex_init(&cv->mu, NULL);
    pthread_cond_init(&cv->freed, NULL);
    pthread_cond_init(&cv->filled, NULL);
    pthread_t th[16];
    void *args[16][3];
    cv->readers = cv->nthreads;
    for (int i = 0; i < cv->nthreads; i++) {
        args[i][0] = cv;
        args[i][1] = cv->dev[i];
        args[i][2] = NULL;
        if (cv->out && cv->compress && !(args[i][2] = gk_compressor_new(cv->out)))
            gk_die_status(1, "%s", gk_errmsg());
        if (pthread_create(&th[i], NULL, conv_reader, args[i]) != 0)
            gk_die_status(1, "cannot start a thread: %s", strerror(errno));
    }
    /* windows are written in order (as qemu-img without -W): the file
     * layout follows the disk, and a streamOptimized stream ascends.  The
     * next window is always held by a reader, so the wait ends. */
    uint64_t done = 0;
    pthread_mutex_lock(&cv->mu);
    for (;;) {
        int qi = -1;
        for (;;) {
            for (int k = 0; k < cv->qlen && qi < 0; k++)
                if (cv->bufs[cv->queue[k]].off == done)
                    qi = k;
            if (cv->failed || qi >= 0 || cv->readers == 0)
                break;
            pthread_cond_wait(&cv->filled, &cv->mu);
        }
        if (!cv->failed && qi < 0 && done < cv->size) {
            pthread_mutex_unlock(&cv->mu);
            conv_fail(cv, "internal error: a window was never read");
            pthread_mutex_lock(&cv->mu);
        }
        if (cv->failed || qi < 0)
            break;
        int i = cv->queue[qi];
        cv->queue[qi] = cv->queue[--cv->qlen];
        pthread_mutex_unlock(&cv->mu);

        struct cbuf *b = &cv->bufs[i];
        if (cv->out && write_image(cv, b) < 0) {
            conv_fail(cv, gk_errmsg());
        } else if (b->ds < b->de && !cv->out && write_sparse(cv, b->p, b->ds, b->de) < 0) {
            char m[512];
            snprintf(m, sizeof m, "error while writing at byte %" PRIu64 ": %s", b->ds, strerror(errno));
            conv_fail(cv, m);
        }
        done += b->end - b->off;
        progress_print(pr, (double)done * 100.0 / (double)cv->size, 0);

        pthread_mutex_lock(&cv->mu);
        cv->freelist[cv->nfree++] = i;
        pthread_cond_signal(&cv->freed);
    }
    pthread_mutex_unlock(&cv->mu);
    if (cv->out && !cv->failed && flush_carry(cv) < 0)
        conv_fail(cv, gk_errmsg());
    free(cv->carry);
    cv->carry = NULL;
    cv->carry_cap = 0;
    for (int i = 0; i < cv->nthreads; i++) {
        pthread_join(th[i], NULL);
        gk_compressor_free(args[i][2]);
    }
    for (int i = 0; i < cv->nbufs; i++) {
        free(cv->bufs[i].p);
        free(cv->bufs[i].x);
        for (int k = 0; k < cv->bufs[i].capk; k++)
            gk_zbuf_clear(&cv->bufs[i].z[k]);
        free(cv->bufs[i].z);
        free(cv->bufs[i].act);
    }
    free(cv->bufs);
    free(cv->freelist);
    free(cv->queue);
    free(cv->sx);
    pthread_cond_destroy(&cv->freed);
    pthread_cond_destroy(&cv->filled);
    pthread_mutex_destroy(&cv->mu);
}


int cmd_convert(gimg_args *a)
{
    const char *ofmt = "raw", *snap = NULL;
    char *snap_id = NULL, *snap_name = NULL;
    int nthreads = CONV_THREADS, by_opts = 0, compress = 0, no_create = 0, tgt_opts = 0, ofmt_given = 0;
    uint64_t min_sparse = 4096;
    const char *backing = NULL, *backing_fmt = NULL;
    const char **onames = NULL, **ovalues = NULL;
    int nonames = 0;
    for (int i = 0; i < a->nopts; i++) {
        const char *arg = a->opts[i].arg;
        switch (a->opts[i].opt) {
        case 'O': ofmt = arg; ofmt_given = 1; break;
        case 'T' | 0x1000: tgt_opts = 1; break;
        case 's': snap = arg; break;
        case 'l':
            if (strncmp(arg, "snapshot.", 9) == 0) {
                gimg_parse_snapshot_opts(arg, &snap_id, &snap_name);
                by_opts = 1;
            } else {
                snap = arg; /* an ID or a name, ID first */
            }
            break;
        case 'S': min_sparse = gimg_parse_size(arg, "buffer size for sparse output"); break;
        case 'm':
            nthreads = atoi(arg);
            if (nthreads < 1 || nthreads > 16)
                gk_die_status(1, "Invalid number of coroutines. Allowed number of coroutines is between 1 and 16");
            break;
        case 'W': break; /* out-of-order writes: ours are in order anyway */
        case 'c': compress = 1; break;
        case 'n': no_create = 1; break;
        case 'B': backing = arg; break;
        case 'F': backing_fmt = arg; break;
        case 'o': gimg_split_opts(arg, &onames, &ovalues, &nonames); break;
        }
    }
    /* qemu-img's checks of -n, before anything is opened */
    if (tgt_opts && !no_create)
        gk_die_status(1, "--target-image-opts requires use of -n flag");
    if (no_create && nonames)
        gk_die_status(1, "-o has no effect when skipping image creation");
    if (gk_format_check(ofmt) < 0)
        gk_die_status(1, "Unknown file format '%s'", ofmt);
    int image_out = strcmp(ofmt, "raw") != 0 || backing || no_create;
    /* a target given by options: its format is known once it is open */
    if (compress && !tgt_opts && !gk_format_compresses(ofmt))
        gk_die_status(1, "Compression not supported for this file format");
    if (backing && !backing_fmt)
        gk_die_status(1, "Backing file specified without backing format");
    for (int i = 0; compress && i < nonames; i++)
        if (strcmp(onames[i], "encrypt.format") == 0 || strcmp(onames[i], "encryption") == 0)
            gk_die_status(1, "Compression and encryption not supported at the same time");
    if (a->nargs != 2)
        gimg_usage_error(a, "Expecting one source and one target file name");
    const char *src = a->args[0], *dst = a->args[1];
    /* qemu-img: -l snapshot.*= takes precedence over a bare -l / -s */
    if (by_opts)
        snap = NULL;

    struct conv cv;
    memset(&cv, 0, sizeof cv);
    cv.nthreads = nthreads;
    for (int i = 0; i < nthreads; i++) {
        gk_open_opts o = {.format = a->fmt, .snapshot = snap, .snapshot_id = snap_id, .snapshot_name = snap_name};
        if (by_opts && !snap_id && !snap_name)
            gk_die_status(1, "Failed to load snapshot: snapshot_id and name are both NULL");
        cv.dev[i] = gimg_open_opts(a, src, &o, 1);
    }
    cv.size = cv.dev[0]->size;
    /* qemu-img convert -l keeps the image's current virtual size: a
     * snapshot taken before a resize reads as zeros past its end */
    uint64_t outsize = cv.size;
    if (snap || by_opts) {
        gk_dev *cur = gimg_open(a, src, a->fmt, 0, 1);
        outsize = cur->size;
        if (cv.size > outsize)
            cv.size = outsize;
        gk_dev_unref(cur);
    }
    /* --target-image-opts: DST is an option list naming the file, its
     * format (-O is refused then, as qemu-img refuses --format with
     * --image-opts) and its key */
    gk_open_opts oo = {.format = ofmt, .readwrite = 1, .flags = GK_OPEN_NO_BACKING};
    char *tname = NULL;
    if (tgt_opts) {
        gimg_args ta = *a;
        ta.image_opts = 1;
        ta.fmt = ofmt_given ? ofmt : NULL;
        oo.format = NULL;
        dst = tname = (char *)gimg_image_opts(&ta, dst, &oo);
    }
    /* O_TRUNC on a file the source reads would destroy what we are reading */
    int probe = open(dst, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (probe >= 0) {
        int used = gk_image_uses_file(cv.dev[0], probe);
        close(probe);
        if (used)
            gk_die_status(1, "%s: the target is a file of the image being read", dst);
    }
    uint64_t fsize = 0;
    if (image_out) {
        if (!no_create) {
            if (backing) {
                onames = gk_realloc(onames, (size_t)(nonames + 2) * sizeof *onames);
                ovalues = gk_realloc(ovalues, (size_t)(nonames + 2) * sizeof *ovalues);
                onames[nonames] = gk_strdup("backing_file");
                ovalues[nonames++] = gk_strdup(backing);
                onames[nonames] = gk_strdup("backing_fmt");
                ovalues[nonames++] = gk_strdup(backing_fmt);
            }
            if (gk_image_create(ofmt, dst, outsize, 1, nonames, onames, ovalues, 0, NULL) < 0)
                gk_die_status(1, "%s", gk_errmsg());
        }
        /* a target made encrypted (-o encrypt.key-secret=ID) is written
         * with that secret */
        for (int i = 0; i < nonames; i++)
            if (strcmp(onames[i], "encrypt.key-secret") == 0 &&
                !(oo.key = (const char *)gk_secret_find(ovalues[i], &oo.keylen)))
                gk_die_status(1, "%s", gk_errmsg());
        cv.out = gk_open_image(dst, &oo);
        if (!cv.out && errno == ENOKEY && tgt_opts)
            gimg_image_opts_nokey(1);
        if (!cv.out)
            gk_die_status(1, "%s", gk_errmsg());
        if (tgt_opts) {
            gimg_image_opts_unused(cv.out, 1);
            if (compress && !gk_format_compresses(gk_dev_format(cv.out)))
                gk_die_status(1, "Compression not supported for this file format");
        }
        gk_image_info inf;
        memset(&inf, 0, sizeof inf);
        cv.chunk = gk_image_info_get(cv.out, &inf) == 0 && inf.cluster_size ? inf.cluster_size : 65536;
        int subclusters = inf.extended_l2;
        /* qemu-img: a target that takes only compressed writes gets them */
        cv.compress = compress || inf.needs_compressed_writes;
        gk_image_info_free(&inf);
        cv.base = backing ? cv.dev[0] : NULL; /* a flag: each reader asks its own device */
        /* qemu-img's buffer: 2 MiB, or the target's discard alignment if
         * larger (a qcow2 cluster is at most 2 MiB) */
        cv.reqmax = 2ULL << 20;
        cv.sparse = min_sparse != 0;
        /* qemu-img: -S in sectors; the ends of data runs aligned to its
         * largest power of two (our targets take any alignment) */
        cv.min_sparse = (min_sparse + 511) / 512;
        for (cv.align = 1; cv.align * 2 <= cv.min_sparse; cv.align *= 2)
            ;
        cv.zero_init = !no_create && !backing;
        /* with subclusters, zero 4 KiB blocks stay unallocated as qemu-img
         * leaves them: written as write_image splits them; so do clusters
         * larger than a window (VHDX blocks of 1-256 MiB, which the driver
         * allocates by growing the file: zeros in them cost no write) */
        cv.fresh = cv.zero_init && cv.sparse && !subclusters && cv.chunk <= CONV_WIN;
        if (cv.size > cv.out->size)
            gk_die_status(1, "output file is smaller than input file");
    } else {
        cv.fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (cv.fd < 0)
            gk_die_status(1, "%s: %s", dst, strerror(errno));
        struct stat st;
        if (fstat(cv.fd, &st) < 0)
            gk_die_status(1, "%s: %s", dst, strerror(errno));
        cv.sparse = S_ISREG(st.st_mode) && min_sparse != 0;
        if (S_ISREG(st.st_mode) && ftruncate(cv.fd, (off_t)outsize) < 0)
            gk_die_status(1, "%s: %s", dst, strerror(errno));
        if (S_ISREG(st.st_mode))
            fsize = outsize;
    }
    /* the target is open (and sized, or made): from here on only the
     * open files; a raw target cannot grow past its size */
    gimg_sandbox(a, 1, GK_SB_IMGWRITE, fsize);
    progress_print(&a->progress, 0, 1);
    conv_run(&cv, &a->progress);
    if (cv.failed)
        gk_die_status(1, "%s", cv.err);
    if (cv.out) {
        /* qemu-img convert -c: the end of the compressed stream */
        if (cv.compress && gk_compressed_end(cv.out) < 0)
            gk_die_status(1, "%s", gk_errmsg());
        if (gk_flush(cv.out) < 0)
            gk_die_status(1, "%s", gk_errmsg());
        gk_dev_unref(cv.out);
    } else if (close(cv.fd) < 0) {
        gk_die_status(1, "%s: %s", dst, strerror(errno));
    }
    for (int i = 0; i < nonames; i++) {
        free((char *)onames[i]);
        free((char *)ovalues[i]);
    }
    free(onames);
    free(ovalues);
    progress_end(&a->progress);
    for (int i = 0; i < nthreads; i++)
        gk_dev_unref(cv.dev[i]);
    free(snap_id);
    free(snap_name);
    free(tname);
    return 0;
}
