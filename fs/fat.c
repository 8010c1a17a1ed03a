/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* FAT12/16/32 with VFAT long names, read-only: the gk_fs_ops of the fat
 * driver (blkid types "vfat" and "msdos").
 *
 * What a file looks like follows the Linux vfat driver mounted read-only
 * with its defaults (uid=0, gid=0, umask 022, shortname=mixed, utf8 names),
 * the way libguestfs' appliance mounts it:
 * - names: the long (VFAT) name when its slots are complete and their
 *   checksum matches the short entry, else the 8.3 name with the NT
 *   lower-case flags applied; short names are codepage 437, long names
 *   UTF-16, both presented as UTF-8.  Lookups ignore ASCII case and
 *   trailing dots, and match the long or the short name, as vfat does.
 * - modes: directories 0755, files 0755, files with the read-only attribute
 *   0555; owner root.  Hidden/system attributes do not show.
 * - times: FAT stores local time without a zone.  We present the stored
 *   wall-clock time as UTC (what the kernel does with tz unset and sys_tz
 *   0, as in libguestfs' appliance): mtime from the write time (2 s
 *   steps), ctime = mtime, atime = the access date at 00:00, crtime the
 *   creation time with its 10 ms field.  The root directory has time 0.
 * - inode numbers: the device byte offset of the file's short directory
 *   entry (unique, stable); the root is 1.
 * - statvfs: block = cluster, blocks = data clusters, free clusters
 *   counted in the FAT at the first statvfs (the FAT32 FSInfo hint is
 *   ignored, as the kernel does before its own count); no inode counts;
 *   name length 1530 (vfat: 255 UTF-16 units, up to 6 bytes each).
 *
 * Untrusted input: the boot sector is checked the way the kernel checks
 * it at mount; a cluster chain is followed at most as many steps as the
 * filesystem has clusters (a longer one loops) and, for files, at most
 * the clusters the size needs; every next-cluster value is checked to lie
 * in the data area.  Directories are read up to 65536 entries (the FAT
 * limit; a longer chain is not followed).  Memory: a fixed FAT block cache
 * and the run list of one chain (at most 8 bytes per cluster of the file
 * read, so bounded by the 4 GiB file size limit).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "fs-int.h"

#define ROOT_INO 1
#define MAX_DIR_ENTRIES 65536          /* the FAT limit (2 MiB of entries)  */
#define FATCACHE_N 32                   /* FAT blocks cached                 */
#define FATCACHE_BS 4096
#define FILE_MODE 0755                  /* S_IRWXUGO & ~umask 022            */
#define DIR_MODE 0755

#define ATTR_RO 0x01
#define ATTR_VOLUME 0x08
#define ATTR_DIR 0x10
#define ATTR_LFN 0x0f

struct fatcache {
    uint64_t blk;                       /* block index + 1; 0 = empty        */
    uint8_t buf[FATCACHE_BS];
};

struct run { uint32_t clus, n; };       /* n clusters from clus on           */

struct fat {
    gk_dev *dev;
    unsigned bits;                      /* 12, 16, 32                        */
    uint32_t sec_size, clus_size;
    uint64_t fat_off, fat_len;          /* first FAT, bytes                  */
    uint64_t root_off;                  /* FAT12/16 root directory, bytes    */
    uint32_t root_entries;
    uint32_t root_clus;                 /* FAT32                             */
    uint64_t data_off;                  /* cluster 2                         */
    uint32_t nclusters;                 /* valid clusters: 2 .. nclusters+1  */
    uint32_t serial;
    int64_t free_clusters;              /* -1 until counted                  */
    struct fatcache *fc;                /* FATCACHE_N blocks                 */
    /* the chain of the last file read */
    uint32_t map_first;
    struct run *runs;
    size_t nruns;
    uint64_t map_clusters;              /* clusters in runs                  */
    int map_valid, map_complete;        /* complete: ended at end-of-chain   */
};

/* Record the message; return -eno (fs/fs-int.h's convention). */
static int fail(int eno, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int eno, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    gk_error("%s", what);
    return -eno;
}

/* ------------------------------------------------------------------ */
/* The FAT                                                             */

static int fat_byte(struct fat *f, uint64_t off, uint8_t *out)
{
    uint64_t blk = off / FATCACHE_BS;
    struct fatcache *c = &f->fc[blk % FATCACHE_N];
    if (c->blk != blk + 1) {
        uint64_t start = f->fat_off + blk * FATCACHE_BS;
        uint64_t n = f->fat_len - blk * FATCACHE_BS;
        if (n > FATCACHE_BS)
            n = FATCACHE_BS;
        memset(c->buf, 0, sizeof c->buf);
        c->blk = 0;
        if (gk_pread(f->dev, c->buf, n, start) < 0)
            return fail(EIO, "FAT: %s", gk_errmsg());
        c->blk = blk + 1;
    }
    *out = c->buf[off % FATCACHE_BS];
    return 0;
}

/* The FAT entry of cluster cl (2 <= cl <= nclusters+1), as 32-bit value
 * with FAT12/16 end-of-chain and bad marks widened to FAT32's. */
static int fat_get(struct fat *f, uint32_t cl, uint32_t *next)
{
    uint8_t b[4] = {0};
    uint64_t off;
    int n;
    switch (f->bits) {
    case 12: off = (uint64_t)cl + cl / 2; n = 2; break;
    case 16: off = (uint64_t)cl * 2; n = 2; break;
    default: off = (uint64_t)cl * 4; n = 4; break;
    }
    if (off + (uint64_t)n > f->fat_len)
        return fail(EIO, "cluster %u: beyond the FAT", cl);
    for (int i = 0; i < n; i++)
        if (fat_byte(f, off + (uint64_t)i, &b[i]) < 0)
            return -EIO;
    uint32_t v;
    if (f->bits == 12) {
        v = gk_le16(b);
        v = (cl & 1) ? v >> 4 : v & 0xfff;
        if (v >= 0xff7)
            v |= 0x0ffff000;
    } else if (f->bits == 16) {
        v = gk_le16(b);
        if (v >= 0xfff7)
            v |= 0x0fff0000;
    } else {
        v = gk_le32(b) & 0x0fffffff;
    }
    *next = v;
    return 0;
}

static int is_eoc(uint32_t v)
{
    return v >= 0x0ffffff8;
}

static int valid_cluster(struct fat *f, uint32_t cl)
{
    return cl >= 2 && cl - 2 < f->nclusters;
}

static uint64_t clus_off(struct fat *f, uint32_t cl)
{
    return f->data_off + (uint64_t)(cl - 2) * f->clus_size;
}

/* Map the chain starting at first into f->runs, at most want clusters.
 * Cached for the last chain.  A chain ends early at an invalid next
 * cluster or when it gets longer than the filesystem's cluster count (it
 * loops): what was mapped before stays readable, reads beyond it fail. */
static int get_chain(struct fat *f, uint32_t first, uint64_t want)
{
    if (f->map_valid && f->map_first == first &&
        (f->map_complete || f->map_clusters >= want))
        return 0;
    f->map_valid = 0;
    f->nruns = 0;
    f->map_clusters = 0;
    f->map_complete = 0;
    size_t cap = 0;
    struct run *runs = f->runs;
    f->runs = NULL;
    uint32_t cl = first;
    int r = 0;
    if (!valid_cluster(f, cl)) {
        r = fail(EIO, "invalid start cluster %u", cl);
        goto out;
    }
    uint64_t count = 0;
    size_t n = 0;
    for (;;) {
        if (count >= f->nclusters) {
            gk_debug("cluster chain from %u loops", first);
            f->map_complete = 1;
            break;
        }
        count++;
        if (n && runs[n - 1].clus + runs[n - 1].n == cl) {
            runs[n - 1].n++;
        } else {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                runs = gk_realloc(runs, cap * sizeof *runs);
            }
            runs[n++] = (struct run){cl, 1};
        }
        if (count >= want)
            break;
        uint32_t next;
        if ((r = fat_get(f, cl, &next)) < 0)
            goto out;
        if (is_eoc(next)) {
            f->map_complete = 1;
            break;
        }
        if (!valid_cluster(f, next)) {
            /* what was mapped stays readable, as with the kernel */
            gk_debug("cluster chain from %u: invalid cluster %u after %u", first, next, cl);
            f->map_complete = 1;
            break;
        }
        cl = next;
    }
    f->runs = runs;
    f->nruns = n;
    f->map_clusters = count;
    f->map_first = first;
    f->map_valid = 1;
    return 0;
out:
    free(runs);
    return r;
}

/* Directories are read up to MAX_DIR_ENTRIES: a longer chain is not
 * followed further (its size shows as what was read). */
static uint64_t dir_max_clusters(struct fat *f)
{
    return ((uint64_t)MAX_DIR_ENTRIES * 32 + f->clus_size - 1) / f->clus_size;
}

/* Device offset of byte pos of the mapped chain, and how many bytes are
 * contiguous from there (within the mapped runs); 0 beyond them. */
static uint64_t chain_locate(struct fat *f, uint64_t pos, uint64_t *dev_off)
{
    uint64_t ci = pos / f->clus_size, within = pos % f->clus_size;
    for (size_t i = 0; i < f->nruns; i++) {
        if (ci < f->runs[i].n) {
            *dev_off = clus_off(f, f->runs[i].clus) + ci * f->clus_size + within;
            return (f->runs[i].n - ci) * f->clus_size - within;
        }
        ci -= f->runs[i].n;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Directory entries                                                   */

/* A short entry as found: where it is and its 32 bytes. */
struct dent {
    uint64_t off;                       /* device offset = inode number      */
    uint8_t raw[32];
};

static uint32_t dent_start(struct fat *f, const uint8_t *e)
{
    uint32_t c = gk_le16(e + 26);
    if (f->bits == 32)
        c |= (uint32_t)gk_le16(e + 20) << 16;
    return c;
}

/* Codepage 437, 0x80..0xff, as Unicode. */
static const uint16_t cp437[128] = {
    0x00c7, 0x00fc, 0x00e9, 0x00e2, 0x00e4, 0x00e0, 0x00e5, 0x00e7, 0x00ea, 0x00eb, 0x00e8,
    0x00ef, 0x00ee, 0x00ec, 0x00c4, 0x00c5, 0x00c9, 0x00e6, 0x00c6, 0x00f4, 0x00f6, 0x00f2,
    0x00fb, 0x00f9, 0x00ff, 0x00d6, 0x00dc, 0x00a2, 0x00a3, 0x00a5, 0x20a7, 0x0192, 0x00e1,
    0x00ed, 0x00f3, 0x00fa, 0x00f1, 0x00d1, 0x00aa, 0x00ba, 0x00bf, 0x2310, 0x00ac, 0x00bd,
    0x00bc, 0x00a1, 0x00ab, 0x00bb, 0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562,
    0x2556, 0x2555, 0x2563, 0x2551, 0x2557, 0x255d, 0x255c, 0x255b, 0x2510, 0x2514, 0x2534,
    0x252c, 0x251c, 0x2500, 0x253c, 0x255e, 0x255f, 0x255a, 0x2554, 0x2569, 0x2566, 0x2560,
    0x2550, 0x256c, 0x2567, 0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256b,
    0x256a, 0x2518, 0x250c, 0x2588, 0x2584, 0x258c, 0x2590, 0x2580, 0x03b1, 0x00df, 0x0393,
    0x03c0, 0x03a3, 0x03c3, 0x00b5, 0x03c4, 0x03a6, 0x0398, 0x03a9, 0x03b4, 0x221e, 0x03c6,
    0x03b5, 0x2229, 0x2261, 0x00b1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00f7, 0x2248, 0x00b0,
    0x2219, 0x00b7, 0x221a, 0x207f, 0x00b2, 0x25a0, 0x00a0,
};

static size_t put_utf8(char *out, uint32_t c)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xc0 | c >> 6);
        out[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xe0 | c >> 12);
        out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        out[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | c >> 18);
    out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    out[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* Lower case in codepage 437 (its upper-case letters with a lower-case
 * form there), as the kernel's cp437 table lowers short names. */
static uint8_t cp437_lower(uint8_t b)
{
    static const uint8_t up[] = {0x80, 0x8e, 0x8f, 0x90, 0x92, 0x99, 0x9a, 0xa5};
    static const uint8_t lo[] = {0x87, 0x84, 0x86, 0x82, 0x91, 0x94, 0x81, 0xa4};
    if (b >= 'A' && b <= 'Z')
        return (uint8_t)(b + 32);
    for (size_t i = 0; i < sizeof up; i++)
        if (b == up[i])
            return lo[i];
    return b;
}

static size_t put_cp437(char *out, uint8_t b, int lower)
{
    if (lower)
        b = cp437_lower(b);
    if (b < 0x80) {
        out[0] = (char)b;
        return 1;
    }
    return put_utf8(out, cp437[b - 0x80]);
}

/* The 8.3 name of a short entry as UTF-8 (at most 11*3+1 bytes + NUL). */
static void short_name(const uint8_t *e, char *out)
{
    size_t n = 0;
    int lbase = e[12] & 0x08, lext = e[12] & 0x10;
    int blen = 8, elen = 3;
    while (blen > 0 && e[blen - 1] == ' ')
        blen--;
    while (elen > 0 && e[8 + elen - 1] == ' ')
        elen--;
    for (int i = 0; i < blen; i++)
        n += put_cp437(out + n, (i == 0 && e[0] == 0x05) ? 0xe5 : e[i], lbase);
    if (elen) {
        out[n++] = '.';
        for (int i = 0; i < elen; i++)
            n += put_cp437(out + n, e[8 + i], lext);
    }
    out[n] = 0;
}

static uint8_t lfn_checksum(const uint8_t *e)
{
    uint8_t s = 0;
    for (int i = 0; i < 11; i++)
        s = (uint8_t)(((s & 1) << 7) + (s >> 1) + e[i]);
    return s;
}

#define LFN_MAX 255                      /* UTF-16 units                     */
#define NAME_MAX_UTF8 (LFN_MAX * 3 + 1)  /* surrogate pairs: 4 bytes per 2  */

/* Long-name assembly while scanning a directory. */
struct lfn {
    uint16_t u[20 * 13];
    int expect;                          /* next sequence number wanted, 0: none */
    int nslots;
    uint8_t sum;
};

static void lfn_slot(struct lfn *l, const uint8_t *e)
{
    int ord = e[0] & 0x1f;
    if (e[0] & 0x40) {
        if (ord < 1 || ord > 20) {
            l->expect = 0;
            return;
        }
        l->nslots = ord;
        l->sum = e[13];
        l->expect = ord;
        for (int i = 0; i < 20 * 13; i++)
            l->u[i] = 0xffff;
    } else if (!l->expect || ord != l->expect || e[13] != l->sum) {
        l->expect = 0;
        return;
    }
    static const int pos[13] = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};
    for (int i = 0; i < 13; i++)
        l->u[(ord - 1) * 13 + i] = gk_le16(e + pos[i]);
    l->expect = ord - 1;                 /* 0 after slot 1: complete        */
    if (l->expect == 0)
        l->expect = -1;
}

/* The long name if complete and matching short entry e: 1 and out set. */
static int lfn_name(struct lfn *l, const uint8_t *e, char *out)
{
    if (l->expect != -1 || l->sum != lfn_checksum(e))
        return 0;
    int len = 0, total = l->nslots * 13;
    while (len < total && l->u[len] != 0)
        len++;
    if (len == 0 || len > LFN_MAX)
        return 0;
    size_t n = 0;
    for (int i = 0; i < len; i++) {
        uint32_t c = l->u[i];
        if (c >= 0xd800 && c < 0xdc00 && i + 1 < len && l->u[i + 1] >= 0xdc00 &&
            l->u[i + 1] < 0xe000) {
            c = 0x10000 + ((c - 0xd800) << 10) + (l->u[i + 1] - 0xdc00);
            i++;
        } else if (c >= 0xd800 && c < 0xe000) {
            c = 0xfffd;                  /* a lone surrogate               */
        }
        n += put_utf8(out + n, c);
    }
    out[n] = 0;
    return 1;
}

/* Called for each live entry: name (UTF-8), short-name form, the entry.
 * Non-zero stops the walk. */
typedef int (*dent_fn)(void *priv, const char *name, const char *sname, const struct dent *d);

/* Walk directory dir (ROOT_INO or a directory entry's first cluster,
 * first == 0 meaning the root) calling fn for every file and directory
 * entry except ".", ".." and the volume label.  Returns 1 if fn stopped,
 * 0 at the end, -errno. */
static int dir_walk(struct fat *f, uint32_t first, dent_fn fn, void *priv)
{
    int fixed_root = first == 0 && f->bits != 32;
    if (first == 0 && f->bits == 32)
        first = f->root_clus;
    uint64_t limit;                      /* bytes of directory              */
    if (fixed_root) {
        limit = (uint64_t)f->root_entries * 32;
    } else {
        int r = get_chain(f, first, dir_max_clusters(f));
        if (r < 0)
            return r;
        limit = f->map_clusters * f->clus_size;
    }
    if (limit > (uint64_t)MAX_DIR_ENTRIES * 32)
        limit = (uint64_t)MAX_DIR_ENTRIES * 32;
    /* our own copy of the runs: fn may read other chains */
    size_t nruns = fixed_root ? 0 : f->nruns;
    struct run *runs = NULL;
    if (nruns) {
        runs = gk_malloc(nruns * sizeof *runs);
        memcpy(runs, f->runs, nruns * sizeof *runs);
    }
    size_t bufsz = f->clus_size > 65536 ? 65536 : f->clus_size;
    if (fixed_root)
        bufsz = f->sec_size;
    uint8_t *buf = gk_malloc(bufsz);
    struct lfn *l = gk_calloc(1, sizeof *l);
    char *name = gk_malloc(NAME_MAX_UTF8 + 64), sname[64];
    int rc = 0;
    size_t ri = 0;
    uint64_t rpos = 0;                   /* byte within current run          */
    for (uint64_t pos = 0; pos < limit && rc == 0; pos += bufsz) {
        uint64_t dev_off;
        if (fixed_root) {
            dev_off = f->root_off + pos;
        } else {
            while (ri < nruns && rpos >= (uint64_t)runs[ri].n * f->clus_size) {
                ri++;
                rpos = 0;
            }
            if (ri >= nruns)
                break;
            dev_off = clus_off(f, runs[ri].clus) + rpos;
            rpos += bufsz;
        }
        if (gk_pread(f->dev, buf, bufsz, dev_off) < 0) {
            rc = fail(EIO, "directory: %s", gk_errmsg());
            break;
        }
        for (size_t k = 0; k + 32 <= bufsz; k += 32) {
            const uint8_t *e = buf + k;
            if (e[0] == 0) {
                rc = 2;                  /* end of directory                 */
                break;
            }
            if (e[0] == 0xe5) {
                l->expect = 0;
                continue;
            }
            if (e[11] == ATTR_LFN) {
                lfn_slot(l, e);
                continue;
            }
            if (e[11] & ATTR_VOLUME) {
                l->expect = 0;
                continue;
            }
            if (e[0] == '.' && (memcmp(e, ".          ", 11) == 0 ||
                                memcmp(e, "..         ", 11) == 0)) {
                l->expect = 0;
                continue;
            }
            short_name(e, sname);
            if (!lfn_name(l, e, name))
                strcpy(name, sname);
            l->expect = 0;
            struct dent d = {dev_off + k, {0}};
            memcpy(d.raw, e, 32);
            if (fn(priv, name, sname, &d)) {
                rc = 1;
                break;
            }
        }
    }
    free(name);
    free(l);
    free(buf);
    free(runs);
    return rc == 2 ? 0 : rc;
}

/* Read the short entry that inode ino names. */
static int read_dent(struct fat *f, uint64_t ino, uint8_t *e)
{
    if (ino % 32 || ino < 32 || !gk_range_ok(ino, 32, f->dev->size))
        return fail(ENOENT, "inode %llu: out of range", (unsigned long long)ino);
    if (gk_pread(f->dev, e, 32, ino) < 0)
        return fail(EIO, "inode %llu: %s", (unsigned long long)ino, gk_errmsg());
    if (e[0] == 0 || e[0] == 0xe5 || e[11] == ATTR_LFN || (e[11] & ATTR_VOLUME))
        return fail(EIO, "inode %llu: not a directory entry", (unsigned long long)ino);
    return 0;
}

/* The first cluster of directory ino: 0 for the root. */
static int dir_first(struct fat *f, uint64_t ino, uint32_t *first)
{
    if (ino == ROOT_INO) {
        *first = 0;
        return 0;
    }
    uint8_t e[32];
    int r = read_dent(f, ino, e);
    if (r < 0)
        return r;
    if (!(e[11] & ATTR_DIR))
        return fail(ENOTDIR, "inode %llu: not a directory", (unsigned long long)ino);
    *first = dent_start(f, e);
    if (*first == 0)
        return fail(EIO, "directory inode %llu: no clusters", (unsigned long long)ino);
    return 0;
}

/* ------------------------------------------------------------------ */
/* getattr                                                             */

/* The kernel's conversion of a FAT date and time (fields not range
 * checked: day 0 and month 0 count as 1, months 13-15 go on counting),
 * with the stored local time taken as UTC. */
static struct timespec fat_time(uint16_t date, uint16_t time, uint8_t cs)
{
    static const int cum[16] = {0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334,
                                365, 396, 424};
    int year = date >> 9;                /* since 1980                       */
    int month = (date >> 5) & 0xf, day = date & 0x1f;
    if (month < 1)
        month = 1;
    if (day < 1)
        day = 1;
    /* leap days before this year, 1980 being one; 2100 is not */
    int64_t leap = (year + 3) / 4;
    if (year > 120)
        leap--;
    if (year % 4 == 0 && year != 120 && month > 2)
        leap++;
    int64_t days = (int64_t)year * 365 + leap + cum[month] + (day - 1) + 3652;
    int64_t secs = days * 86400 + (time >> 11) * 3600 + ((time >> 5) & 0x3f) * 60 +
                   (time & 0x1f) * 2;
    struct timespec ts = {(time_t)secs, 0};
    if (cs) {
        ts.tv_sec += cs / 100;
        ts.tv_nsec = (long)(cs % 100) * 10000000L;
    }
    return ts;
}

struct count_ctx { uint32_t subdirs; };

static int count_fn(void *priv, const char *name, const char *sname, const struct dent *d)
{
    (void)name; (void)sname;
    struct count_ctx *c = priv;
    if (d->raw[11] & ATTR_DIR)
        c->subdirs++;
    return 0;
}

static uint64_t round_blocks(struct fat *f, uint64_t size)
{
    uint64_t cs = f->clus_size;
    return (size + cs - 1) / cs * cs / 512;
}

static int fat_getattr(gk_fs *gfs, uint64_t ino, gk_stat *st)
{
    struct fat *f = gfs->priv;
    memset(st, 0, sizeof *st);
    st->ino = ino;
    st->blksize = f->clus_size;
    if (ino == ROOT_INO) {
        struct count_ctx c = {0};
        int r = dir_walk(f, 0, count_fn, &c);
        if (r < 0)
            return r;
        st->mode = S_IFDIR | DIR_MODE;
        st->nlink = c.subdirs + 2;
        if (f->bits == 32) {
            if ((r = get_chain(f, f->root_clus, dir_max_clusters(f))) < 0)
                return r;
            st->size = f->map_clusters * f->clus_size;
        } else {
            st->size = (uint64_t)f->root_entries * 32;
        }
        st->blocks = round_blocks(f, st->size);
        return 0;
    }
    uint8_t e[32];
    int r = read_dent(f, ino, e);
    if (r < 0)
        return r;
    if (e[11] & ATTR_DIR) {
        uint32_t first = dent_start(f, e);
        if (first == 0)
            return fail(EIO, "directory inode %llu: no clusters", (unsigned long long)ino);
        struct count_ctx c = {0};
        r = dir_walk(f, first, count_fn, &c);
        if (r < 0)
            return r;
        /* "." and ".." are directories too */
        st->mode = S_IFDIR | DIR_MODE;
        st->nlink = c.subdirs + 2;
        if ((r = get_chain(f, first, dir_max_clusters(f))) < 0)
            return r;
        st->size = f->map_clusters * f->clus_size;
    } else {
        st->mode = S_IFREG | ((e[11] & ATTR_RO) ? FILE_MODE & ~0222 : FILE_MODE);
        st->nlink = 1;
        st->size = gk_le32(e + 28);
    }
    st->blocks = round_blocks(f, st->size);
    st->mtime = fat_time(gk_le16(e + 24), gk_le16(e + 22), 0);
    st->ctime = st->mtime;
    st->atime = fat_time(gk_le16(e + 18), 0, 0);
    st->crtime = fat_time(gk_le16(e + 16), gk_le16(e + 14), e[13] <= 199 ? e[13] : 0);
    return 0;
}

/* ------------------------------------------------------------------ */
/* readdir, lookup                                                     */

struct rd_ctx { gk_readdir_cb cb; void *opaque; };

static int rd_fn(void *priv, const char *name, const char *sname, const struct dent *d)
{
    (void)sname;
    struct rd_ctx *c = priv;
    if (strchr(name, '/'))
        return 0;                        /* no path could reach it           */
    return c->cb(c->opaque, name, d->off, (d->raw[11] & ATTR_DIR) ? DT_DIR : DT_REG);
}

static int fat_readdir(gk_fs *gfs, uint64_t dir, gk_readdir_cb cb, void *opaque)
{
    struct fat *f = gfs->priv;
    uint32_t first;
    int r = dir_first(f, dir, &first);
    if (r < 0)
        return r;
    struct rd_ctx c = {cb, opaque};
    r = dir_walk(f, first, rd_fn, &c);
    return r < 0 ? r : 0;
}

/* ASCII case-insensitive equality of a (length n) and NUL-terminated b. */
static int name_eq(const char *a, size_t n, const char *b)
{
    size_t i = 0;
    for (; i < n && b[i]; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y)
            return 0;
    }
    return i == n && b[i] == 0;
}

struct find_ctx { const char *name; size_t len; uint64_t found; };

static int find_fn(void *priv, const char *name, const char *sname, const struct dent *d)
{
    struct find_ctx *c = priv;
    if (name_eq(c->name, c->len, name) || name_eq(c->name, c->len, sname)) {
        c->found = d->off;
        return 1;
    }
    return 0;
}

static int fat_lookup(gk_fs *gfs, uint64_t dir, const char *name, uint64_t *ino)
{
    struct fat *f = gfs->priv;
    size_t len = strlen(name);
    while (len > 0 && name[len - 1] == '.')
        len--;                           /* vfat ignores trailing dots       */
    if (len == 0 || strchr(name, '/'))
        return fail(ENOENT, "%s: No such file or directory", name);
    uint32_t first;
    int r = dir_first(f, dir, &first);
    if (r < 0)
        return r;
    struct find_ctx c = {name, len, 0};
    r = dir_walk(f, first, find_fn, &c);
    if (r < 0 && !c.found)
        return r;
    if (!c.found)
        return fail(ENOENT, "%s: No such file or directory", name);
    *ino = c.found;
    return 0;
}

/* ------------------------------------------------------------------ */
/* read                                                                */

static ssize_t fat_read(gk_fs *gfs, uint64_t ino, void *buf, size_t n, uint64_t off)
{
    struct fat *f = gfs->priv;
    if (ino == ROOT_INO)
        return fail(EISDIR, "root: is a directory");
    uint8_t e[32];
    int r = read_dent(f, ino, e);
    if (r < 0)
        return r;
    if (e[11] & ATTR_DIR)
        return fail(EISDIR, "inode %llu: is a directory", (unsigned long long)ino);
    uint64_t size = gk_le32(e + 28);
    if (off >= size || n == 0)
        return 0;
    if (n > size - off)
        n = (size_t)(size - off);
    uint32_t first = dent_start(f, e);
    if (first == 0)
        return fail(EIO, "inode %llu: size %llu but no clusters", (unsigned long long)ino,
                    (unsigned long long)size);
    /* map the whole file once: sequential readers come back for more */
    uint64_t want = (size + f->clus_size - 1) / f->clus_size;
    if ((r = get_chain(f, first, want)) < 0) {
        gk_error_prefix("inode %llu", (unsigned long long)ino);
        return r;
    }
    size_t done = 0;
    while (done < n) {
        uint64_t dev_off;
        uint64_t avail = chain_locate(f, off + done, &dev_off);
        if (avail == 0)
            return fail(EIO, "inode %llu: cluster chain ends or is broken before the end of the file",
                        (unsigned long long)ino);
        size_t chunk = n - done;
        if (chunk > avail)
            chunk = (size_t)avail;
        if (gk_pread(f->dev, (uint8_t *)buf + done, chunk, dev_off) < 0)
            return fail(EIO, "inode %llu: %s", (unsigned long long)ino, gk_errmsg());
        done += chunk;
    }
    return (ssize_t)done;
}

static ssize_t fat_readlink(gk_fs *gfs, uint64_t ino, char *buf, size_t bufsz)
{
    (void)gfs; (void)buf; (void)bufsz;
    return fail(EINVAL, "inode %llu: not a symbolic link", (unsigned long long)ino);
}

/* ------------------------------------------------------------------ */
/* statvfs                                                             */

static int count_free(struct fat *f, uint64_t *out)
{
    uint64_t nfree = 0;
    if (f->bits == 12) {
        for (uint32_t cl = 2; cl - 2 < f->nclusters; cl++) {
            uint32_t v;
            int r = fat_get(f, cl, &v);
            if (r < 0)
                return r;
            nfree += v == 0;
        }
        *out = nfree;
        return 0;
    }
    /* FAT16/32: stream the FAT in big reads instead of entry by entry */
    unsigned esz = f->bits / 8;
    uint64_t first = 2 * (uint64_t)esz, end = (2 + (uint64_t)f->nclusters) * esz;
    if (end > f->fat_len)
        end = f->fat_len;
    size_t bufsz = 1 << 20;
    uint8_t *buf = gk_malloc(bufsz);
    for (uint64_t pos = first; pos < end;) {
        size_t chunk = end - pos < bufsz ? (size_t)(end - pos) : bufsz;
        if (gk_pread(f->dev, buf, chunk, f->fat_off + pos) < 0) {
            free(buf);
            return fail(EIO, "FAT: %s", gk_errmsg());
        }
        for (size_t k = 0; k + esz <= chunk; k += esz)
            nfree += esz == 2 ? gk_le16(buf + k) == 0 : (gk_le32(buf + k) & 0x0fffffff) == 0;
        pos += chunk;
    }
    free(buf);
    *out = nfree;
    return 0;
}

static int fat_statvfs(gk_fs *gfs, gk_statvfs *sv)
{
    struct fat *f = gfs->priv;
    if (f->free_clusters < 0) {
        uint64_t n = 0;
        int r = count_free(f, &n);
        if (r < 0)
            return r;
        f->free_clusters = (int64_t)n;
    }
    memset(sv, 0, sizeof *sv);
    sv->bsize = sv->frsize = f->clus_size;
    sv->blocks = f->nclusters;
    sv->bfree = sv->bavail = (uint64_t)f->free_clusters;
    sv->fsid = f->serial;
    sv->flag = ST_RDONLY;
    sv->namemax = strcmp(gfs->type, "msdos") == 0 ? 12 : 1530;
    return 0;
}

static int fat_fmap(gk_fs *gfs, uint64_t ino, gk_fmap **out, size_t *n)
{
    gk_stat st;
    int r = fat_getattr(gfs, ino, &st);
    if (r < 0)
        return r;
    *out = NULL;
    *n = 0;
    if (st.size) {
        *out = gk_malloc(sizeof **out);
        (*out)[0] = (gk_fmap){0, st.size};
        *n = 1;
    }
    return 0;
}

static void fat_close(gk_fs *gfs)
{
    struct fat *f = gfs->priv;
    if (!f)
        return;
    free(f->fc);
    free(f->runs);
    free(f);
    gfs->priv = NULL;
}

static const struct gk_fs_ops fat_ops = {
    .name = "fat",
    .getattr = fat_getattr,
    .lookup = fat_lookup,
    .readdir = fat_readdir,
    .read = fat_read,
    .readlink = fat_readlink,
    .statvfs = fat_statvfs,
    .fmap = fat_fmap,
    .close = fat_close,
};

/* ------------------------------------------------------------------ */
/* The boot sector                                                     */

/* Check the BIOS parameter block the way the kernel does at mount and fill
 * f; -EINVAL with a message when this is no FAT filesystem we can read. */
static int parse_bpb(const uint8_t *b, uint64_t devsize, struct fat *f)
{
    uint32_t ss = gk_le16(b + 11), spc = b[13], reserved = gk_le16(b + 14), nfats = b[16];
    uint32_t root_entries = gk_le16(b + 17), media = b[21];
    uint64_t total = gk_le16(b + 19);
    if (!total)
        total = gk_le32(b + 32);
    uint64_t fatlen = gk_le16(b + 22);
    int fat32 = 0;
    if (!fatlen && gk_le32(b + 36)) {
        fatlen = gk_le32(b + 36);
        fat32 = 1;
    }
    if (ss < 512 || ss > 4096 || (ss & (ss - 1)))
        return fail(EINVAL, "bogus sector size %u", ss);
    if (!spc || (spc & (spc - 1)))
        return fail(EINVAL, "bogus sectors per cluster %u", spc);
    if (!reserved)
        return fail(EINVAL, "bogus number of reserved sectors");
    if (!nfats)
        return fail(EINVAL, "bogus number of FATs");
    if (media != 0xf0 && media < 0xf8)
        return fail(EINVAL, "invalid media value 0x%02x", media);
    if (!total)
        return fail(EINVAL, "no sector count");
    if (!fatlen)
        return fail(EINVAL, "bogus FAT length");
    if (!fat32 && (root_entries * 32) % ss)
        return fail(EINVAL, "bogus number of directory entries (%u)", root_entries);
    if (fat32 && gk_le16(b + 42) != 0)
        return fail(EINVAL, "unknown FAT32 version %u", gk_le16(b + 42));
    uint64_t root_secs = fat32 ? 0 : (uint64_t)root_entries * 32 / ss;
    uint64_t fat_start = reserved;
    uint64_t data_start = fat_start + (uint64_t)nfats * fatlen + root_secs;
    if (data_start >= total)
        return fail(EINVAL, "no data area (%llu sectors of %llu)", (unsigned long long)data_start,
                    (unsigned long long)total);
    uint64_t clusters = (total - data_start) / spc;
    unsigned bits = fat32 ? 32 : clusters > 0xff4 ? 16 : 12;
    uint64_t maxc = bits == 32 ? 0x0ffffff6 : bits == 16 ? 0xfff4 : 0xff4;
    if (clusters > maxc)
        return fail(EINVAL, "count of clusters too big (%llu)", (unsigned long long)clusters);
    if (!clusters)
        return fail(EINVAL, "no clusters");
    uint64_t fat_entries = fatlen * ss * 8 / bits;
    if (clusters + 2 > fat_entries)
        return fail(EINVAL, "count of clusters too big for the FAT (%llu)",
                    (unsigned long long)clusters);
    if (!gk_range_ok(0, data_start * ss, devsize))
        return fail(EINVAL, "FAT and root directory beyond the end of the device");
    f->bits = bits;
    f->sec_size = ss;
    f->clus_size = ss * spc;
    f->fat_off = fat_start * ss;
    f->fat_len = fatlen * ss;
    f->root_off = (fat_start + (uint64_t)nfats * fatlen) * ss;
    f->root_entries = fat32 ? 0 : root_entries;
    f->data_off = data_start * ss;
    f->nclusters = (uint32_t)clusters;
    f->root_clus = fat32 ? gk_le32(b + 44) : 0;
    f->serial = gk_le32(b + (fat32 ? 67 : 39));
    if (fat32 && !valid_cluster(f, f->root_clus))
        return fail(EINVAL, "invalid root directory cluster %u", f->root_clus);
    return 0;
}

/* A boot sector starts with a jump instruction. */
static int looks_like_fat(const uint8_t *b)
{
    return b[0] == 0xe9 || b[0] == 0xeb;
}

static int fat_probe(gk_dev *dev)
{
    uint8_t b[512];
    struct fat f;
    if (dev->size < 512 || gk_pread(dev, b, sizeof b, 0) < 0 || !looks_like_fat(b))
        return 0;
    return parse_bpb(b, dev->size, &f) == 0;
}

static const char *const fat_types[] = {"vfat", "msdos", NULL};

static int fat_open(gk_dev *dev, const gk_fs_open_args *a, gk_fs **out)
{
    if (a->rw) {
        gk_error("%s: writing FAT filesystems is not supported", dev->name);
        return -EROFS;
    }
    if (a->options && *a->options) {
        gk_error("%s: unknown mount options \"%s\"", dev->name, a->options);
        return -EINVAL;
    }
    uint8_t b[512];
    if (dev->size < 512 || gk_pread(dev, b, sizeof b, 0) < 0)
        return fail(EINVAL, "%s: too small for a FAT filesystem", dev->name);
    struct fat *f = gk_calloc(1, sizeof *f);
    int r = parse_bpb(b, dev->size, f);
    if (r < 0) {
        gk_error_prefix("%s: not a FAT filesystem", dev->name);
        free(f);
        return r;
    }
    f->dev = dev;
    f->free_clusters = -1;
    f->fc = gk_calloc(FATCACHE_N, sizeof *f->fc);
    const char *type = a->fstype && *a->fstype ? a->fstype : "vfat";
    gk_fs *g = gk_fs_alloc(&fat_ops, dev, type, f);
    g->root_ino = ROOT_INO;
    /* the root directory must be readable, as at mount */
    struct count_ctx c = {0};
    r = dir_walk(f, 0, count_fn, &c);
    if (r < 0) {
        gk_error_prefix("%s: root directory", dev->name);
        gk_fs_close(g);
        return r;
    }
    *out = g;
    return 0;
}

const struct gk_fs_driver gk_fsdrv_fat = {
    .name = "fat",
    .types = fat_types,
    .probe = fat_probe,
    .open = fat_open,
};
