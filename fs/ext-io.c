/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The libext2fs io_manager of the ext driver: libext2fs reads a gk_dev
 * through it.  Every request is bounds-checked against the device, a small
 * direct-mapped block cache absorbs the library's re-reads of the same
 * metadata blocks, and an optional overlay makes replayed journal blocks
 * (fs/journal.c) shadow the image, which is never written by a read-only
 * filesystem.  Writes are refused (EROFS) unless the write side attached a
 * transaction store (fs/ext-txn.c): then libext2fs's writes go there, and
 * reads see them, until the store commits them to the device. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ext-int.h"

#define CACHE_SLOTS 256          /* direct-mapped, one block each */
#define CACHE_BYTES (1u << 20)   /* at most: 64 KiB blocks get 16 slots */

struct gkio {
    gk_dev *dev;
    unsigned id;
    /* journal overlay, sorted by blk, in units of ovl_bs */
    gk_jblock *ovl;
    size_t novl;
    unsigned ovl_bs;
    uint8_t *ovl_buf;
    /* block cache, valid for blocks of cache_bs bytes */
    unsigned cache_bs, cache_slots;
    uint64_t cache_off[CACHE_SLOTS];
    uint8_t cache_ok[CACHE_SLOTS];
    /* each slot's block, allocated when first filled: the blocks a short
     * run reads land in a few dense heap pages (lib/heap.c populates those
     * in one call), not spread over a 1 MiB buffer a fault per page */
    uint8_t *cache[CACHE_SLOTS];
    uint8_t *bounce;             /* page-aligned, BOUNCE bytes */
    struct gk_txn *txn;          /* write side: where writes go */
};

/* The kernel copies from the page cache to a destination that is not
 * page-aligned several times slower (measured: 1 GiB in 1.9 s instead of
 * 0.5 s); large reads into such buffers go through an aligned one. */
#define BOUNCE (1u << 20)
#define BOUNCE_MIN (64u << 10)

/* ext2fs_open2 hands the io_manager nothing but a name, so each gkio is
 * registered under "gk:ID" for the duration of the filesystem. */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gkio **reg;
static size_t nreg;
static unsigned next_id = 1;

static void reg_add(struct gkio *io)
{
    pthread_mutex_lock(&reg_lock);
    io->id = next_id++;
    reg = gk_realloc(reg, (nreg + 1) * sizeof *reg);
    reg[nreg++] = io;
    pthread_mutex_unlock(&reg_lock);
}

static void reg_del(struct gkio *io)
{
    pthread_mutex_lock(&reg_lock);
    for (size_t i = 0; i < nreg; i++)
        if (reg[i] == io) {
            reg[i] = reg[--nreg];
            break;
        }
    pthread_mutex_unlock(&reg_lock);
}

static struct gkio *reg_find(const char *name)
{
    unsigned id;
    char extra;
    struct gkio *io = NULL;
    if (sscanf(name, "gk:%u%c", &id, &extra) != 1)
        return NULL;
    pthread_mutex_lock(&reg_lock);
    for (size_t i = 0; i < nreg; i++)
        if (reg[i]->id == id)
            io = reg[i];
    pthread_mutex_unlock(&reg_lock);
    return io;
}

static void cache_free(struct gkio *io)
{
    for (unsigned i = 0; i < CACHE_SLOTS; i++) {
        free(io->cache[i]);
        io->cache[i] = NULL;
    }
}

static void cache_reset(struct gkio *io, unsigned bs)
{
    if (io->cache_bs != bs) {
        cache_free(io);
        io->cache_slots = CACHE_BYTES / bs < CACHE_SLOTS ? CACHE_BYTES / bs : CACHE_SLOTS;
        io->cache_bs = bs;
    }
    memset(io->cache_ok, 0, sizeof io->cache_ok);
}

/* Read len bytes at byte offset off of the device, with the journal overlay
 * applied.  Returns 0 or an errno value. */
static int dev_read(struct gkio *io, uint64_t off, size_t len, void *buf)
{
    if (!gk_range_ok(off, len, io->dev->size))
        return ERANGE;
    if (len == 0)
        return 0;
    if (((uintptr_t)buf & 4095) && len >= BOUNCE_MIN) {
        if (!io->bounce && posix_memalign((void **)&io->bounce, 4096, BOUNCE) != 0)
            io->bounce = NULL;
        for (size_t done = 0; io->bounce && done < len;) {
            size_t n = len - done < BOUNCE ? len - done : BOUNCE;
            if (gk_pread(io->dev, io->bounce, n, off + done) < 0)
                return EIO;
            memcpy((uint8_t *)buf + done, io->bounce, n);
            done += n;
        }
        if (!io->bounce && gk_pread(io->dev, buf, len, off) < 0)
            return EIO;
    } else if (gk_pread(io->dev, buf, len, off) < 0) {
        return EIO;
    }
    if (!io->novl)
        return 0;
    uint64_t bs = io->ovl_bs, first = off / bs, last = (off + len - 1) / bs;
    size_t lo = 0, hi = io->novl;
    while (lo < hi) {                   /* first overlay block >= first */
        size_t mid = lo + (hi - lo) / 2;
        if (io->ovl[mid].blk < first)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < io->novl && io->ovl[i].blk <= last; i++) {
        const gk_jblock *j = &io->ovl[i];
        if (gk_pread(io->dev, io->ovl_buf, bs, j->src) < 0)
            return EIO;
        if (j->escaped) {
            static const uint8_t magic[4] = {0xc0, 0x3b, 0x39, 0x98};
            memcpy(io->ovl_buf, magic, 4);
        }
        uint64_t bstart = j->blk * bs;
        uint64_t s = bstart > off ? bstart : off;
        uint64_t e = bstart + bs < off + len ? bstart + bs : off + len;
        memcpy((uint8_t *)buf + (s - off), io->ovl_buf + (s - bstart), e - s);
    }
    return 0;
}

int gkio_read_base(void *io, uint64_t off, size_t len, void *buf)
{
    return dev_read(io, off, len, buf);
}

/* Reads see what the transaction store holds. */
int gkio_read(struct gkio *io, uint64_t off, size_t len, void *buf)
{
    int e = dev_read(io, off, len, buf);
    if (!e && io->txn)
        gk_txn_overlay(io->txn, off, len, buf);
    return e;
}

static void cache_forget(struct gkio *io, uint64_t off, uint64_t len)
{
    if (!io->cache_bs || !len)
        return;
    uint64_t bs = io->cache_bs, first = off / bs, last = (off + len - 1) / bs;
    if (last - first >= io->cache_slots) {
        memset(io->cache_ok, 0, sizeof io->cache_ok);
        return;
    }
    for (uint64_t b = first; b <= last; b++) {
        unsigned slot = (unsigned)(b % io->cache_slots);
        if (io->cache_ok[slot] && io->cache_off[slot] == b * bs)
            io->cache_ok[slot] = 0;
    }
}

void gkio_cache_drop(struct gkio *io)
{
    memset(io->cache_ok, 0, sizeof io->cache_ok);
}

void gkio_set_txn(struct gkio *io, struct gk_txn *t)
{
    io->txn = t;
    gkio_cache_drop(io);
}

int gkio_write_direct(struct gkio *io, uint64_t off, size_t len, const void *buf)
{
    if (!gk_range_ok(off, len, io->dev->size))
        return ERANGE;
    cache_forget(io, off, len);
    return gk_pwrite(io->dev, buf, len, off) < 0 ? EIO : 0;
}

const gk_jblock *gkio_overlay(struct gkio *io, size_t *n, unsigned *bs)
{
    *n = io->novl;
    *bs = io->ovl_bs;
    return io->ovl;
}

static struct struct_io_manager gk_io_manager;

static errcode_t gkio_open(const char *name, int flags, io_channel *channel)
{
    struct gkio *io = reg_find(name);
    if (!io)
        return ENOENT;
    if ((flags & IO_FLAG_RW) && !io->txn)
        return EROFS;
    io_channel ch = gk_calloc(1, sizeof *ch);
    ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
    ch->manager = &gk_io_manager;
    ch->name = gk_strdup(name);
    ch->block_size = 1024;
    ch->refcount = 1;
    ch->private_data = io;
    cache_reset(io, 1024);
    *channel = ch;
    return 0;
}

static errcode_t gkio_close(io_channel ch)
{
    if (--ch->refcount > 0)
        return 0;
    free(ch->name);
    free(ch);
    return 0;
}

static errcode_t gkio_set_blksize(io_channel ch, int blksize)
{
    if (blksize < 512 || blksize > 65536)
        return EXT2_ET_INVALID_ARGUMENT;
    ch->block_size = blksize;
    cache_reset(ch->private_data, (unsigned)blksize);
    return 0;
}

int gkio_read_block(struct gkio *io, uint64_t block, unsigned bs, void *buf)
{
    if (io->cache_bs != bs || block > UINT64_MAX / bs)
        return block > UINT64_MAX / bs ? ERANGE : gkio_read(io, block * bs, bs, buf);
    uint64_t off = block * bs;
    unsigned slot = (unsigned)(block % io->cache_slots);
    if (!io->cache[slot])
        io->cache[slot] = gk_malloc(bs);
    uint8_t *c = io->cache[slot];
    if (!io->cache_ok[slot] || io->cache_off[slot] != off) {
        io->cache_ok[slot] = 0;
        int e = gkio_read(io, off, bs, c);
        if (e)
            return e;
        io->cache_ok[slot] = 1;
        io->cache_off[slot] = off;
    }
    memcpy(buf, c, bs);
    return 0;
}

static errcode_t gkio_read_blk64(io_channel ch, unsigned long long block, int count, void *data)
{
    struct gkio *io = ch->private_data;
    uint64_t bs = (uint64_t)ch->block_size;
    uint64_t size = count < 0 ? (uint64_t)-(int64_t)count : (uint64_t)count * bs;
    if (block > UINT64_MAX / bs || size > SIZE_MAX) {
        return EXT2_ET_SHORT_READ;
    }
    uint64_t off = block * bs;
    if (!gk_range_ok(off, size, io->dev->size)) {
        /* Like unix_io on a short read: zeros and an error. */
        memset(data, 0, size);
        return EXT2_ET_SHORT_READ;
    }
    int e = size == bs ? gkio_read_block(io, block, (unsigned)bs, data)
                       : gkio_read(io, off, size, data);
    if (e)
        memset(data, 0, size);
    return e;
}

static errcode_t gkio_read_blk(io_channel ch, unsigned long block, int count, void *data)
{
    return gkio_read_blk64(ch, block, count, data);
}

static errcode_t txn_write(struct gkio *io, uint64_t off, uint64_t size, const void *data)
{
    if (!io->txn)
        return EROFS;
    if (!gk_range_ok(off, size, io->dev->size) || size > SIZE_MAX)
        return EXT2_ET_SHORT_WRITE;
    cache_forget(io, off, size);
    return gk_txn_write(io->txn, off, (size_t)size, data);
}

static errcode_t gkio_write_blk64(io_channel ch, unsigned long long block, int count, const void *data)
{
    uint64_t bs = (uint64_t)ch->block_size;
    uint64_t size = count < 0 ? (uint64_t)-(int64_t)count : (uint64_t)count * bs;
    if (block > UINT64_MAX / bs)
        return EXT2_ET_SHORT_WRITE;
    return txn_write(ch->private_data, block * bs, size, data);
}

static errcode_t gkio_write_blk(io_channel ch, unsigned long block, int count, const void *data)
{
    return gkio_write_blk64(ch, block, count, data);
}

static errcode_t gkio_write_byte(io_channel ch, unsigned long off, int count, const void *data)
{
    if (count < 0)
        return EXT2_ET_INVALID_ARGUMENT;
    return txn_write(ch->private_data, off, (uint64_t)count, data);
}

static errcode_t gkio_flush(io_channel ch)
{
    (void)ch;
    return 0;
}

static struct struct_io_manager gk_io_manager = {
    .magic = EXT2_ET_MAGIC_IO_MANAGER,
    .name = "guestkit I/O manager",
    .open = gkio_open,
    .close = gkio_close,
    .set_blksize = gkio_set_blksize,
    .read_blk = gkio_read_blk,
    .write_blk = gkio_write_blk,
    .flush = gkio_flush,
    .write_byte = gkio_write_byte,
    .read_blk64 = gkio_read_blk64,
    .write_blk64 = gkio_write_blk64,
};

io_manager gk_ext_io_manager = &gk_io_manager;

struct gkio *gkio_new(gk_dev *dev)
{
    struct gkio *io = gk_calloc(1, sizeof *io);
    io->dev = dev;
    reg_add(io);
    return io;
}

void gkio_free(struct gkio *io)
{
    if (!io)
        return;
    reg_del(io);
    free(io->ovl);
    free(io->ovl_buf);
    cache_free(io);
    free(io->bounce);
    free(io);
}

void gkio_name(struct gkio *io, char *buf, size_t n)
{
    snprintf(buf, n, "gk:%u", io->id);
}

void gkio_set_overlay(struct gkio *io, gk_jblock *ovl, size_t n, unsigned bs)
{
    free(io->ovl);
    free(io->ovl_buf);
    io->ovl = ovl;
    io->novl = ovl ? n : 0;
    io->ovl_bs = bs;
    io->ovl_buf = ovl ? gk_malloc(bs) : NULL;
    if (io->cache_bs)
        cache_reset(io, io->cache_bs);
}
