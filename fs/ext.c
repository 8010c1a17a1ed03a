/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ext2/3/4 through libext2fs: the gk_fs_ops of the ext driver.
 *
 * libext2fs reads through our own io_manager over a gk_dev (fs/ext-io.c),
 * with journals needing recovery replayed into memory (fs/journal.c).
 *
 * We never call ext2fs_namei_follow/ext2fs_follow_link or
 * ext2fs_file_read/ext2fs_inline_data_get: they are unsafe or return wrong
 * lengths on crafted images (see the libext2fs notes).  File data is read
 * through the extent map (or the block map of ext2/3 files) in large
 * physically contiguous requests instead.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include <et/com_err.h>
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include "ext-int.h"
#include "fs-int.h"

/* ------------------------------------------------------------------ */
/* Driver state                                                        */

/* struct ext, struct run and struct dirhash are in ext-int.h (shared with
 * the write side, fs/ext-write.c). */

static void ext_init_errors(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, (void (*)(void))initialize_ext2_error_table);
}

/* Record "what: libext2fs message"; returns -eno (the driver convention,
 * fs/fs-int.h).  errno is set too, for the internal helpers that test it. */
static int vfail(errcode_t err, int eno, const char *fmt, va_list ap)
{
    char what[512];
    vsnprintf(what, sizeof what, fmt, ap);
    if (err)
        gk_error("%s: %s", what, error_message(err));
    else
        gk_error("%s", what);
    errno = eno;
    return -eno;
}

static int fail(errcode_t err, int eno, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(errcode_t err, int eno, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vfail(err, eno, fmt, ap);
    va_end(ap);
    return r;
}

int gk_ext_fail(errcode_t err, int eno, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vfail(err, eno, fmt, ap);
    va_end(ap);
    return r;
}

/* Pass on a failure an internal helper reported through fail(). */
static int ext_err(void)
{
    return errno > 0 ? -errno : -EIO;
}

/* The size as the kernel reads it (ext4_isize): i_size_high counts for
 * regular files, and for directories only with large_dir. */
static uint64_t ext_isize(const struct ext *ex, const struct ext2_inode_large *in)
{
    if (LINUX_S_ISREG(in->i_mode) || ext2fs_has_feature_largedir(ex->fs->super))
        return EXT2_I_SIZE(in);
    return in->i_size;
}

/* The kernel's system zone of this filesystem, made on first use. */
static const struct gk_ext_zones *zones(struct ext *ex)
{
    if (!ex->zones)
        ex->zones = gk_ext_zones_new(ex->fs);
    return ex->zones;
}

/* The inode as it is on disk (bytes past i_extra_isize zeroed). */
static int read_inode_raw(struct ext *ex, uint64_t ino, struct ext2_inode_large *in)
{
    if (ino == 0 || ino > ex->fs->super->s_inodes_count)
        return fail(0, ENOENT, "inode %llu out of range", (unsigned long long)ino);
    memset(in, 0, sizeof *in);
    errcode_t err = ext2fs_read_inode_full(ex->fs, (ext2_ino_t)ino, (struct ext2_inode *)in,
                                           sizeof *in);
    if (err && err != EXT2_ET_INODE_CSUM_INVALID)
        return fail(err, EIO, "inode %llu", (unsigned long long)ino);
    /* Only 128 + i_extra_isize bytes are meaningful; the rest of our buffer
     * may hold the next fields of the on-disk inode slot or nothing at all. */
    unsigned isz = EXT2_INODE_SIZE(ex->fs->super);
    unsigned extra = isz > EXT2_GOOD_OLD_INODE_SIZE ? in->i_extra_isize : 0;
    if (extra > isz - EXT2_GOOD_OLD_INODE_SIZE)
        extra = isz - EXT2_GOOD_OLD_INODE_SIZE;
    if (extra > sizeof *in - EXT2_GOOD_OLD_INODE_SIZE)
        extra = sizeof *in - EXT2_GOOD_OLD_INODE_SIZE;
    in->i_extra_isize = (uint16_t)extra;
    memset((char *)in + EXT2_GOOD_OLD_INODE_SIZE + extra, 0,
           sizeof *in - EXT2_GOOD_OLD_INODE_SIZE - extra);
    return 0;
}

/* The inode, refused (EUCLEAN) when the kernel's iget would refuse it: a
 * size beyond what the file can address, block references outside the
 * filesystem or into its metadata, a corrupt extent tree root. */
static int read_inode(struct ext *ex, uint64_t ino, struct ext2_inode_large *in)
{
    int r = read_inode_raw(ex, ino, in);
    if (r < 0)
        return r;
    r = gk_ext_check_inode(ex->fs, zones(ex), ino, in, ext_isize(ex, in));
    if (r < 0)
        errno = -r;
    return r;
}

/* ------------------------------------------------------------------ */
/* getattr                                                             */

#define FITS(in, field) \
    (offsetof(struct ext2_inode_large, field) + sizeof((in)->field) <= \
     EXT2_GOOD_OLD_INODE_SIZE + (size_t)(in)->i_extra_isize)

/* The kernel's rule: signed 32-bit seconds, plus the two epoch bits of the
 * extra field as bits 32-33, nanoseconds in the upper 30 bits. */
static struct timespec xtime(uint32_t base, int has_extra, uint32_t extra)
{
    struct timespec ts;
    int64_t sec = (int32_t)base;
    long nsec = 0;
    if (has_extra) {
        sec += (int64_t)(extra & 3) << 32;
        nsec = (long)(extra >> 2);
    }
    ts.tv_sec = (time_t)sec;
    ts.tv_nsec = nsec;
    return ts;
}

static int link_target(struct ext *ex, uint64_t ino, struct ext2_inode_large *in,
                       char target[4096], size_t *len);

static int ext_getattr(gk_fs *gfs, uint64_t ino, gk_stat *st)
{
    struct ext *ex = gfs->priv;
    struct ext2_inode_large in;
    if (read_inode(ex, ino, &in) < 0)
        return ext_err();
    if (in.i_links_count == 0 && in.i_mode == 0)
        return fail(0, EIO, "inode %llu: deleted inode referenced", (unsigned long long)ino);
    memset(st, 0, sizeof *st);
    st->ino = ino;
    st->mode = in.i_mode;
    st->nlink = in.i_links_count;
    st->uid = inode_uid(in);
    st->gid = inode_gid(in);
    st->size = ext_isize(ex, &in);
    if ((in.i_flags & EXT4_ENCRYPT_FL) && LINUX_S_ISLNK(in.i_mode)) {
        /* the length of what readlink shows, as the kernel's getattr */
        char target[4096];
        size_t len;
        if (link_target(ex, ino, &in, target, &len) < 0)
            return ext_err();
        st->size = len;
    }
    st->blocks = ext2fs_get_stat_i_blocks(ex->fs, (struct ext2_inode *)&in);
    st->blksize = ex->bs;
    /* like the kernel: inline data counts as sectors, so that tools do not
     * take such files for entirely sparse ones */
    if ((in.i_flags & EXT4_INLINE_DATA_FL) && LINUX_S_ISREG(in.i_mode))
        st->blocks += (st->size + 511) >> 9;
    if (LINUX_S_ISCHR(in.i_mode) || LINUX_S_ISBLK(in.i_mode)) {
        uint32_t old = in.i_block[0], new = in.i_block[1];
        if (old)
            st->rdev = makedev((old >> 8) & 0xff, old & 0xff);
        else
            st->rdev = makedev((new >> 8) & 0xfff, (new & 0xff) | ((new >> 12) & 0xfff00));
    }
    st->atime = xtime(in.i_atime, FITS(&in, i_atime_extra), in.i_atime_extra);
    st->mtime = xtime(in.i_mtime, FITS(&in, i_mtime_extra), in.i_mtime_extra);
    st->ctime = xtime(in.i_ctime, FITS(&in, i_ctime_extra), in.i_ctime_extra);
    if (FITS(&in, i_crtime))
        st->crtime = xtime(in.i_crtime, FITS(&in, i_crtime_extra), in.i_crtime_extra);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Directories                                                         */

static int ft_to_dt(int ft)
{
    switch (ft) {
    case EXT2_FT_REG_FILE: return DT_REG;
    case EXT2_FT_DIR: return DT_DIR;
    case EXT2_FT_CHRDEV: return DT_CHR;
    case EXT2_FT_BLKDEV: return DT_BLK;
    case EXT2_FT_FIFO: return DT_FIFO;
    case EXT2_FT_SOCK: return DT_SOCK;
    case EXT2_FT_SYMLINK: return DT_LNK;
    default: return DT_UNKNOWN;
    }
}

/* Directory entries are handed to a dirent_fn: name (not NUL-terminated),
 * its length, the inode and the dirent file type; non-zero stops. */
typedef int (*dirent_fn)(void *priv, const char *name, size_t len, uint32_t ino, int ft);
static int dir_walk(struct ext *ex, uint64_t dir, struct ext2_inode_large *in, dirent_fn fn,
                    void *priv);

struct rd_ctx {
    struct ext *ex;
    gk_readdir_cb cb;
    void *opaque;
    int enc;                     /* encrypted directory: no-key names */
    int dx;                      /* ... read through htree (hashes in the names) */
    int hver;                    /* ... with this hash */
    int err;                     /* a name the kernel's readdir fails on */
};

static int rd_fn(void *priv, const char *dname, size_t len, uint32_t ino, int ft)
{
    struct rd_ctx *c = priv;
    if (len == 0 || (len == 1 && dname[0] == '.') || (len == 2 && dname[0] == '.' && dname[1] == '.'))
        return 0;
    char name[GK_EXT_NOKEY_BUF > EXT2_NAME_LEN + 1 ? GK_EXT_NOKEY_BUF : EXT2_NAME_LEN + 1];
    if (c->enc) {
        /* fscrypt's shortest ciphertext name is 16 bytes: the kernel's
         * readdir fails on a shorter one */
        if (len < 16) {
            c->err = fail(0, EUCLEAN, "encrypted name of %zu bytes (corrupt directory)", len);
            return 1;
        }
        uint32_t h = 0, m = 0;
        if (c->dx && gk_ext_crypt_hash(c->ex->fs, c->hver, (const uint8_t *)dname, len, &h, &m) < 0)
            h = m = 0;
        gk_ext_nokey_name((const uint8_t *)dname, len, h, m, name);
    } else {
        if (memchr(dname, '/', len) || memchr(dname, 0, len)) {
            gk_debug("directory entry with '/' or NUL in its name skipped");
            return 0;
        }
        memcpy(name, dname, len);
        name[len] = 0;
    }
    int dt = ext2fs_has_feature_filetype(c->ex->fs->super) ? ft_to_dt(ft) : DT_UNKNOWN;
    if (dt == DT_UNKNOWN) {
        struct ext2_inode_large in;
        if (read_inode_raw(c->ex, ino, &in) == 0)
            dt = IFTODT(in.i_mode);
    }
    return c->cb(c->opaque, name, ino, dt);
}

static int read_data(struct ext *ex, uint64_t ino, struct ext2_inode_large *in, uint8_t *buf,
                     size_t n, uint64_t off);

/* How the kernel reads encrypted directory dir: through htree (one block,
 * or indexed, with dir_index) the no-key names carry each name's hash, with
 * the hash version of the index root or the superblock's default. */
static void crypt_dir(struct ext *ex, uint64_t dir, struct ext2_inode_large *in, struct rd_ctx *c)
{
    struct ext2_super_block *sb = ex->fs->super;
    c->enc = 1;
    c->dx = ext2fs_has_feature_dir_index(sb) &&
            ((in->i_flags & EXT2_INDEX_FL) || ext_isize(ex, in) == ex->bs ||
             (in->i_flags & EXT4_INLINE_DATA_FL));
    c->hver = sb->s_def_hash_version;
    if (c->dx && (in->i_flags & EXT2_INDEX_FL)) {
        uint8_t *b = gk_malloc(ex->bs);
        if (ext_isize(ex, in) >= ex->bs && read_data(ex, dir, in, b, ex->bs, 0) == 0)
            c->hver = b[0x1c];          /* dx_root: the hash version */
        free(b);
    }
    if (c->hver <= EXT2_HASH_TEA && (sb->s_flags & EXT2_FLAGS_UNSIGNED_HASH))
        c->hver += 3;
}

static int ext_readdir(gk_fs *gfs, uint64_t dir, gk_readdir_cb cb, void *opaque)
{
    struct ext *ex = gfs->priv;
    struct ext2_inode_large in;
    if (read_inode(ex, dir, &in) < 0)
        return ext_err();
    if (!LINUX_S_ISDIR(in.i_mode))
        return fail(0, ENOTDIR, "inode %llu: not a directory", (unsigned long long)dir);
    struct rd_ctx c = {ex, cb, opaque, 0, 0, 0, 0};
    if (in.i_flags & EXT4_ENCRYPT_FL)
        crypt_dir(ex, dir, &in, &c);
    if (dir_walk(ex, dir, &in, rd_fn, &c) < 0)
        return -1;
    return c.err;
}

static uint32_t name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;           /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static void dh_free(struct dirhash *d)
{
    free(d->tab);
    free(d->names);
    memset(d, 0, sizeof *d);
}

static int dh_insert(void *priv, const char *name, size_t len, uint32_t ino, int ft)
{
    (void)ft;
    struct dirhash *d = priv;
    if (!len)
        return 0;
    if ((d->n + 1) * 2 > d->cap) {
        size_t ncap = d->cap ? d->cap * 2 : 64;
        struct dent *nt = gk_calloc(ncap, sizeof *nt);
        for (size_t i = 0; i < d->cap; i++)
            if (d->tab[i].ino) {
                size_t j = d->tab[i].hash & (ncap - 1);
                while (nt[j].ino)
                    j = (j + 1) & (ncap - 1);
                nt[j] = d->tab[i];
            }
        free(d->tab);
        d->tab = nt;
        d->cap = ncap;
    }
    if (d->names_len + len > d->names_cap) {
        d->names_cap = (d->names_cap + len) * 2;
        d->names = gk_realloc(d->names, d->names_cap);
    }
    uint32_t h = name_hash(name, len);
    size_t j = h & (d->cap - 1);
    while (d->tab[j].ino) {
        struct dent *e = &d->tab[j];
        if (e->hash == h && e->len == len && memcmp(d->names + e->off, name, len) == 0)
            return 0;                   /* first entry of a name wins, like a scan */
        j = (j + 1) & (d->cap - 1);
    }
    memcpy(d->names + d->names_len, name, len);
    d->tab[j] = (struct dent){h, ino, (uint32_t)d->names_len, (uint16_t)len};
    d->names_len += len;
    d->n++;
    return 0;
}

/* The cached name table of a big directory, built on first use: lookups
 * would otherwise scan the whole directory each time (no htree use), and
 * listing a directory of 10 000 entries with attributes would be quadratic. */
static struct dirhash *dir_table(struct ext *ex, uint64_t dir, struct ext2_inode_large *in)
{
    struct dirhash *victim = &ex->dc[0];
    for (int i = 0; i < DIRCACHE_N; i++) {
        if (ex->dc[i].tab && ex->dc[i].ino == dir) {
            ex->dc[i].age = ++ex->dc_clock;
            return &ex->dc[i];
        }
        if (!ex->dc[i].tab || ex->dc[i].age < victim->age)
            victim = &ex->dc[i];
    }
    dh_free(victim);
    victim->ino = dir;
    if (dir_walk(ex, dir, in, dh_insert, victim) < 0 || !victim->tab) {
        dh_free(victim);
        return NULL;
    }
    victim->age = ++ex->dc_clock;
    return victim;
}

struct find_ctx {
    const struct ext2fs_nls_table *enc;   /* casefolded directory, or NULL */
    const char *name;
    size_t len;
    uint32_t found;
};

static int find_fn(void *priv, const char *name, size_t len, uint32_t ino, int ft)
{
    (void)ft;
    struct find_ctx *c = priv;
    int r = -1;
    if (c->enc)
        r = ext2fs_casefold_cmp(c->enc, (const unsigned char *)name, len,
                                (const unsigned char *)c->name, c->len);
    if (r < 0)                          /* exact, or not valid UTF-8 */
        r = len != c->len || memcmp(name, c->name, len) != 0;
    if (r == 0) {
        c->found = ino;
        return 1;
    }
    return 0;
}

struct crypt_find { gk_ext_nokey k; uint32_t found; };

static int crypt_find_fn(void *priv, const char *name, size_t len, uint32_t ino, int ft)
{
    (void)ft;
    struct crypt_find *c = priv;
    if (gk_ext_nokey_match(&c->k, (const uint8_t *)name, len)) {
        c->found = ino;
        return 1;
    }
    return 0;
}

static int lookup_in(struct ext *ex, uint64_t dir, const char *name, uint64_t *ino)
{
    size_t len = strlen(name);
    if (len == 0 || len > EXT2_NAME_LEN || strchr(name, '/'))
        return fail(0, ENOENT, "%s: invalid name", name);
    struct ext2_inode_large in;
    if (read_inode(ex, dir, &in) < 0)
        return ext_err();
    if (!LINUX_S_ISDIR(in.i_mode))
        return fail(0, ENOTDIR, "inode %llu: not a directory", (unsigned long long)dir);
    if (in.i_flags & EXT4_ENCRYPT_FL) {
        /* only a no-key name can name an entry without the key */
        struct crypt_find cf;
        memset(&cf, 0, sizeof cf);
        if (gk_ext_nokey_parse(name, &cf.k) < 0)
            return fail(0, ENOENT, "%s: No such file or directory", name);
        if (dir_walk(ex, dir, &in, crypt_find_fn, &cf) < 0 && !cf.found)
            return ext_err();
        if (!cf.found)
            return fail(0, ENOENT, "%s: No such file or directory", name);
        *ino = cf.found;
        return 0;
    }
    int casefold = (in.i_flags & EXT4_CASEFOLD_FL) && ex->fs->encoding;
    if (!casefold && ext_isize(ex, &in) >= (uint64_t)DIRCACHE_MIN_BLOCKS * ex->bs &&
        !(in.i_flags & EXT4_INLINE_DATA_FL)) {
        struct dirhash *d = dir_table(ex, dir, &in);
        if (d) {
            uint32_t h = name_hash(name, len);
            for (size_t j = h & (d->cap - 1); d->tab[j].ino; j = (j + 1) & (d->cap - 1)) {
                struct dent *e = &d->tab[j];
                if (e->hash == h && e->len == len && memcmp(d->names + e->off, name, len) == 0) {
                    *ino = e->ino;
                    return 0;
                }
            }
            return fail(0, ENOENT, "%s: No such file or directory", name);
        }
    }
    /* casefolded directories match names case-insensitively, like the kernel */
    struct find_ctx c = {casefold ? ex->fs->encoding : NULL, name, len, 0};
    if (dir_walk(ex, dir, &in, find_fn, &c) < 0 && !c.found)
        return ext_err();
    if (!c.found)
        return fail(0, ENOENT, "%s: No such file or directory", name);
    *ino = c.found;
    return 0;
}

static int ext_lookup(gk_fs *gfs, uint64_t dir, const char *name, uint64_t *ino)
{
    return lookup_in(gfs->priv, dir, name, ino);
}

/* ------------------------------------------------------------------ */
/* File maps                                                           */

struct map_ctx {
    struct run *runs;
    size_t n, cap;
    uint64_t limit;              /* logical blocks that matter (i_size) */
    uint64_t steps, max_steps;
    uint64_t mapped, max_mapped; /* a file cannot map more blocks than the fs has */
    uint64_t next_lblk;          /* extents come in increasing logical order */
    const char *corrupt;         /* why the map was abandoned */
    struct ext *ex;
    uint64_t ino;
};

static void add_run(struct map_ctx *m, uint64_t lblk, uint64_t pblk, uint64_t len, int uninit);

static int extent_fn(void *priv, uint64_t lblk, uint64_t pblk, uint64_t len, int uninit)
{
    struct map_ctx *m = priv;
    if (lblk < m->next_lblk) {
        gk_error("inode %llu: extents out of order (corrupt extent tree)",
                 (unsigned long long)m->ino);
        return -EIO;
    }
    m->next_lblk = lblk + len;
    add_run(m, lblk, pblk, len, uninit);
    if (m->corrupt) {
        gk_error("inode %llu: corrupt block map (%s)", (unsigned long long)m->ino, m->corrupt);
        return -EIO;
    }
    return 0;
}

static void add_run(struct map_ctx *m, uint64_t lblk, uint64_t pblk, uint64_t len, int uninit)
{
    if (len == 0 || lblk >= m->limit)
        return;
    m->mapped += len;
    if (m->mapped > m->max_mapped) {
        m->corrupt = "more blocks than the filesystem has";
        return;
    }
    if (len > m->limit - lblk)
        len = m->limit - lblk;
    if (m->n) {
        struct run *r = &m->runs[m->n - 1];
        if (r->uninit == uninit && r->lblk + r->len == lblk && r->pblk + r->len == pblk) {
            r->len += len;
            return;
        }
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 16;
        m->runs = gk_realloc(m->runs, m->cap * sizeof *m->runs);
    }
    m->runs[m->n++] = (struct run){lblk, pblk, len, uninit};
}

/* Block-mapped files: every block, data or indirect, must be one the
 * kernel would accept (inside the filesystem, not its metadata). */
static int blk_cb(ext2_filsys fs, blk64_t *blocknr, e2_blkcnt_t blockcnt, blk64_t ref_blk,
                  int ref_offset, void *priv)
{
    (void)fs; (void)ref_blk; (void)ref_offset;
    struct map_ctx *m = priv;
    if (++m->steps > m->max_steps || m->corrupt)
        return BLOCK_ABORT;
    if (!gk_ext_block_valid(fs, zones(m->ex), m->ino, *blocknr, 1)) {
        m->corrupt = "a block outside the filesystem or in its metadata";
        return BLOCK_ABORT;
    }
    if (blockcnt < 0)
        return 0;
    if ((uint64_t)blockcnt >= m->limit)
        return BLOCK_ABORT;              /* the block map is in logical order */
    add_run(m, (uint64_t)blockcnt, *blocknr, 1, 0);
    return 0;
}


/* Map of inode ino (regular file, symlink or directory with blocks), cached
 * for the last file asked. */
static int get_map(struct ext *ex, uint64_t ino, struct ext2_inode_large *in)
{
    if (ex->map_valid && ex->map_ino == ino)
        return 0;
    ex->map_valid = 0;
    free(ex->runs);
    ex->runs = NULL;
    ex->nruns = 0;
    uint64_t size = ext_isize(ex, in);
    struct map_ctx m = {0};
    m.ex = ex;
    m.ino = ino;
    m.limit = size / ex->bs + (size % ex->bs != 0);
    m.max_steps = 4 * m.limit + 1024;
    m.max_mapped = ex->nblocks;
    errcode_t err = 0;
    if (in->i_flags & EXT4_EXTENTS_FL) {
        /* our walk, with the kernel's checks of every node */
        int r = gk_ext_extents(ex->fs, ex->io, zones(ex), ino, in, m.limit, m.max_steps,
                               extent_fn, &m);
        if (r < 0) {
            free(m.runs);
            errno = -r;
            return r;
        }
    } else if (m.limit) {
        m.ex = ex;
        m.ino = ino;
        err = ext2fs_block_iterate3(ex->fs, (ext2_ino_t)ino, BLOCK_FLAG_READ_ONLY, NULL, blk_cb, &m);
    }
    if (err || m.corrupt) {
        free(m.runs);
        if (m.corrupt)
            return fail(0, EIO, "inode %llu: corrupt block map (%s)", (unsigned long long)ino,
                        m.corrupt);
        return fail(err, EIO, "inode %llu: block map", (unsigned long long)ino);
    }
    ex->runs = m.runs;
    ex->nruns = m.n;
    ex->map_ino = ino;
    ex->map_valid = 1;
    return 0;
}

/* The run containing lblk, or NULL; *next is the start of the next run
 * after lblk (UINT64_MAX if none). */
static const struct run *find_run(struct ext *ex, uint64_t lblk, uint64_t *next)
{
    size_t lo = 0, hi = ex->nruns;
    while (lo < hi) {                   /* first run with lblk > target */
        size_t mid = lo + (hi - lo) / 2;
        if (ex->runs[mid].lblk <= lblk)
            lo = mid + 1;
        else
            hi = mid;
    }
    *next = lo < ex->nruns ? ex->runs[lo].lblk : UINT64_MAX;
    if (lo > 0) {
        const struct run *r = &ex->runs[lo - 1];
        if (lblk - r->lblk < r->len)
            return r;
    }
    return NULL;
}

struct inl_ctx { dirent_fn fn; void *priv; int stopped; };

static int inl_cb(ext2_ino_t dir, int entry, struct ext2_dir_entry *de, int offset, int blocksize,
                  char *buf, void *priv)
{
    (void)dir; (void)entry; (void)offset; (void)blocksize; (void)buf;
    struct inl_ctx *c = priv;
    if (!de->inode)
        return 0;
    if (c->fn(c->priv, de->name, (size_t)ext2fs_dirent_name_len(de), de->inode,
              ext2fs_dirent_file_type(de))) {
        c->stopped = 1;
        return DIRENT_ABORT;
    }
    return 0;
}

/* Every entry of directory dir.  Block directories are parsed here, the way
 * the kernel's readdir does: a block holding a malformed entry is skipped
 * from that entry on (with a debug message) and the walk goes on with the
 * next block, where libext2fs would give up on the whole directory.
 * Inline-data directories go through libext2fs.  Returns 1 if fn stopped
 * the walk, 0 at the end, -1 if the directory cannot be read at all. */
static int dir_walk(struct ext *ex, uint64_t dir, struct ext2_inode_large *in, dirent_fn fn,
                    void *priv)
{
    if (in->i_flags & EXT4_INLINE_DATA_FL) {
        struct inl_ctx c = {fn, priv, 0};
        errcode_t err = ext2fs_dir_iterate2(ex->fs, (ext2_ino_t)dir, 0, NULL, inl_cb, &c);
        if (c.stopped)
            return 1;
        if (err)
            return fail(err, EIO, "directory inode %llu", (unsigned long long)dir);
        return 0;
    }
    if (get_map(ex, dir, in) < 0)
        return ext_err();
    /* our own copy: fn may read other files, which replaces the cached map */
    size_t nruns = ex->nruns;
    struct run *runs = gk_malloc((nruns ? nruns : 1) * sizeof *runs);
    if (nruns)
        memcpy(runs, ex->runs, nruns * sizeof *runs);
    unsigned bs = ex->bs;
    uint32_t ninodes = ex->fs->super->s_inodes_count;
    int filetype = ext2fs_has_feature_filetype(ex->fs->super);
    uint8_t *b = gk_malloc(bs);
    int rc = 0, bad = 0, readable = 0;
    /* (an unwritten flag on a directory extent is ignored, as the kernel does) */
    for (size_t r = 0; r < nruns && rc == 0; r++) {
        for (uint64_t k = 0; k < runs[r].len && rc == 0; k++) {
            uint64_t pblk = runs[r].pblk + k;
            if (pblk >= ex->nblocks || gkio_read_block(ex->io, pblk, bs, b) != 0) {
                bad++;
                continue;
            }
            readable++;
            for (size_t off = 0; off + 8 <= bs;) {
                uint32_t ino = gk_le32(b + off);
                size_t rec = gk_le16(b + off + 4);
                if (bs >= 65536 && (rec == 65535 || rec == 0))
                    rec = 65536;
                else if (bs >= 65536)
                    rec = (rec & 65532) | ((rec & 3) << 16);
                size_t nlen = b[off + 6];
                int ft = filetype ? b[off + 7] : 0;
                if (rec < 12 || rec % 4 || rec > bs - off || nlen + 8 > rec || ino > ninodes) {
                    gk_debug("directory inode %llu: bad entry at offset %zu of block %llu",
                             (unsigned long long)dir, off, (unsigned long long)pblk);
                    bad++;
                    break;
                }
                if (ino && nlen && fn(priv, (const char *)b + off + 8, nlen, ino, ft)) {
                    rc = 1;
                    break;
                }
                off += rec;
            }
        }
    }
    free(b);
    free(runs);
    if (rc == 0 && bad && !readable)
        return fail(0, EIO, "directory inode %llu: corrupt directory", (unsigned long long)dir);
    return rc;
}

/* Inline data: the 60 bytes of i_block followed by the system.data xattr.
 * Returns a malloc'd buffer and its length. */
static int inline_data(struct ext *ex, uint64_t ino, struct ext2_inode_large *in, char **out,
                       size_t *len)
{
    size_t n = sizeof in->i_block;
    char *buf = gk_malloc(n);
    memcpy(buf, in->i_block, n);
    struct ext2_xattr_handle *h = NULL;
    errcode_t err = ext2fs_xattrs_open(ex->fs, (ext2_ino_t)ino, &h);
    if (!err)
        err = ext2fs_xattrs_read(h);    /* reads the whole on-disk inode: in-inode EAs */
    if (!err) {
        void *val = NULL;
        size_t vlen = 0;
        errcode_t e2 = ext2fs_xattr_get(h, "system.data", &val, &vlen);
        if (!e2 && vlen > 0 && vlen <= 65536) {
            buf = gk_realloc(buf, n + vlen);
            memcpy(buf + n, val, vlen);
            n += vlen;
        }
        if (!e2)
            ext2fs_free_mem(&val);
    }
    if (h)
        ext2fs_xattrs_close(&h);
    if (err && err != EXT2_ET_MISSING_EA_FEATURE) {
        free(buf);
        return fail(err, EIO, "inode %llu: inline data", (unsigned long long)ino);
    }
    *out = buf;
    *len = n;
    return 0;
}

/* Read [off, off+n) of the file (already clamped to i_size). */
static int read_data(struct ext *ex, uint64_t ino, struct ext2_inode_large *in, uint8_t *buf,
                     size_t n, uint64_t off)
{
    if (in->i_flags & EXT4_INLINE_DATA_FL) {
        char *data = NULL;
        size_t dlen = 0;
        if (inline_data(ex, ino, in, &data, &dlen) < 0)
            return ext_err();
        memset(buf, 0, n);
        if (off < dlen)
            memcpy(buf, data + off, dlen - off < n ? dlen - off : n);
        free(data);
        return 0;
    }
    if (get_map(ex, ino, in) < 0)
        return ext_err();
    uint64_t bs = ex->bs, pos = off, end = off + n;
    while (pos < end) {
        uint64_t lblk = pos / bs, next;
        const struct run *r = find_run(ex, lblk, &next);
        uint64_t stop;
        if (!r || r->uninit) {           /* holes and unwritten extents read as zeros */
            stop = r ? (r->lblk + r->len) * bs : (next == UINT64_MAX ? end : next * bs);
            if (stop > end || stop <= pos)
                stop = end;
            memset(buf + (pos - off), 0, stop - pos);
        } else {
            stop = (r->lblk + r->len) * bs;
            if (stop > end)
                stop = end;
            uint64_t pblk = r->pblk + (lblk - r->lblk);
            uint64_t nb = (stop - lblk * bs + bs - 1) / bs;
            if (pblk >= ex->nblocks || nb > ex->nblocks - pblk)
                return fail(0, EIO, "inode %llu: data block %llu beyond the end of the filesystem",
                            (unsigned long long)ino, (unsigned long long)pblk);
            int e = gkio_read(ex->io, pblk * bs + pos % bs, stop - pos, buf + (pos - off));
            if (e)
                return fail(0, EIO, "inode %llu: read error at block %llu: %s",
                            (unsigned long long)ino, (unsigned long long)pblk,
                            e == EIO ? gk_errmsg() : strerror(e));
        }
        pos = stop;
    }
    return 0;
}

static ssize_t ext_read(gk_fs *gfs, uint64_t ino, void *buf, size_t n, uint64_t off)
{
    struct ext *ex = gfs->priv;
    struct ext2_inode_large in;
    if (read_inode(ex, ino, &in) < 0)
        return ext_err();
    if (LINUX_S_ISDIR(in.i_mode))
        return fail(0, EISDIR, "inode %llu: is a directory", (unsigned long long)ino);
    if ((in.i_flags & EXT4_ENCRYPT_FL) && LINUX_S_ISREG(in.i_mode))
        return fail(0, ENOKEY, "inode %llu: encrypted: %s", (unsigned long long)ino, strerror(ENOKEY));
    uint64_t size = ext_isize(ex, &in);
    if (off >= size || n == 0)
        return 0;
    if (n > size - off)
        n = (size_t)(size - off);
    if (n > SSIZE_MAX)
        n = SSIZE_MAX;
    if (read_data(ex, ino, &in, buf, n, off) < 0)
        return ext_err();
    return (ssize_t)n;
}

/* The target of symlink ino as readlink shows it: the no-key form of an
 * encrypted one (we have no key), as the kernel shows it then. */
static int link_target(struct ext *ex, uint64_t ino, struct ext2_inode_large *in,
                       char target[4096], size_t *len)
{
    uint64_t size = ext_isize(ex, in);
    if (size == 0 || size >= ex->bs || size > 4095)
        return fail(0, EIO, "inode %llu: corrupt symlink (length %llu)", (unsigned long long)ino,
                    (unsigned long long)size);
    if (!(in->i_flags & (EXT4_INLINE_DATA_FL | EXT4_EXTENTS_FL)) && size < sizeof in->i_block &&
        ext2fs_is_fast_symlink((struct ext2_inode *)in)) {
        memcpy(target, in->i_block, size);
    } else if ((in->i_flags & EXT4_EXTENTS_FL) && size < sizeof in->i_block &&
               ext2fs_inode_data_blocks2(ex->fs, (struct ext2_inode *)in) == 0) {
        /* a fast symlink on an extent fs never has the extents flag, but
         * be lenient like the kernel when it has no data blocks */
        memcpy(target, in->i_block, size);
    } else {
        if (read_data(ex, ino, in, (uint8_t *)target, size, 0) < 0)
            return ext_err();
    }
    if (in->i_flags & EXT4_ENCRYPT_FL) {
        /* le16 length, then the ciphertext */
        size_t clen = size >= 2 ? gk_le16(target) : 0;
        if (clen == 0 || clen + 2 > size)
            return fail(0, EUCLEAN, "inode %llu: corrupt encrypted symlink",
                        (unsigned long long)ino);
        char nk[GK_EXT_NOKEY_BUF];
        size = gk_ext_nokey_name((const uint8_t *)target + 2, clen, 0, 0, nk);
        memcpy(target, nk, size);
    }
    if (memchr(target, 0, size))
        return fail(0, EIO, "inode %llu: corrupt symlink (NUL in target)", (unsigned long long)ino);
    *len = size;
    return 0;
}

static ssize_t ext_readlink(gk_fs *gfs, uint64_t ino, char *buf, size_t bufsz)
{
    struct ext *ex = gfs->priv;
    struct ext2_inode_large in;
    if (read_inode(ex, ino, &in) < 0)
        return ext_err();
    if (!LINUX_S_ISLNK(in.i_mode))
        return fail(0, EINVAL, "inode %llu: not a symbolic link", (unsigned long long)ino);
    char target[4096];
    size_t size;
    if (link_target(ex, ino, &in, target, &size) < 0)
        return ext_err();
    if (bufsz)
        memcpy(buf, target, size < bufsz ? size : bufsz);
    return (ssize_t)(size < bufsz ? size : bufsz);
}

/* ------------------------------------------------------------------ */
/* statvfs                                                             */

struct ival { uint64_t a, b; };  /* [a, b) in clusters */

static int ival_cmp(const void *x, const void *y)
{
    const struct ival *p = x, *q = y;
    return p->a < q->a ? -1 : p->a > q->a;
}

/* Blocks the kernel's statfs does not count as the filesystem's size (its
 * default "bsddf" behaviour): everything before s_first_data_block, the
 * superblock and descriptor copies, bitmaps, inode tables and the internal
 * journal.  s_overhead_clusters wins when the superblock has it. */
static uint64_t compute_overhead(struct ext *ex)
{
    ext2_filsys fs = ex->fs;
    struct ext2_super_block *sb = fs->super;
    unsigned cbits = (unsigned)fs->cluster_ratio_bits;
    uint64_t ov;
    /* like the kernel: the superblock's figure only with bigalloc (without,
     * it recounts: resize2fs leaves a stale or zero s_overhead_clusters) */
    if (cbits && sb->s_overhead_clusters &&
        sb->s_overhead_clusters < ext2fs_blocks_count(sb) >> cbits)
        return (uint64_t)sb->s_overhead_clusters << cbits;
    uint64_t itb = fs->inode_blocks_per_group;
    if (!cbits) {
        ov = sb->s_first_data_block;
        for (dgrp_t g = 0; g < fs->group_desc_count; g++) {
            int has_super = ext2fs_bg_has_super(fs, g);
            uint64_t gdb = gk_ext_num_gdb(fs, g);
            /* reserved GDT blocks follow each superblock copy too */
            ov += (uint64_t)has_super + gdb + itb + 2 +
                  (has_super ? sb->s_reserved_gdt_blocks : 0);
        }
    } else {
        /* bigalloc: count clusters, metadata of several groups may share one */
        size_t n = 0, cap = (size_t)fs->group_desc_count * 4 + 1;
        struct ival *v = gk_malloc(cap * sizeof *v);
        v[n++] = (struct ival){0, ((uint64_t)sb->s_first_data_block + (1u << cbits) - 1) >> cbits};
        for (dgrp_t g = 0; g < fs->group_desc_count; g++) {
            blk64_t super = 0, old_desc = 0, new_desc = 0;
            blk_t used = 0;
            ext2fs_super_and_bgd_loc2(fs, g, &super, &old_desc, &new_desc, &used);
            uint64_t first = ext2fs_group_first_block2(fs, g);
            if (used)
                v[n++] = (struct ival){first >> cbits, (first + used + (1u << cbits) - 1) >> cbits};
            uint64_t bb = ext2fs_block_bitmap_loc(fs, g), ib = ext2fs_inode_bitmap_loc(fs, g);
            uint64_t it = ext2fs_inode_table_loc(fs, g);
            v[n++] = (struct ival){bb >> cbits, (bb >> cbits) + 1};
            v[n++] = (struct ival){ib >> cbits, (ib >> cbits) + 1};
            v[n++] = (struct ival){it >> cbits, (it + itb + (1u << cbits) - 1) >> cbits};
        }
        qsort(v, n, sizeof *v, ival_cmp);
        ov = 0;
        uint64_t cur_a = v[0].a, cur_b = v[0].b;
        for (size_t i = 1; i < n; i++) {
            if (v[i].a <= cur_b) {
                if (v[i].b > cur_b)
                    cur_b = v[i].b;
            } else {
                ov += cur_b - cur_a;
                cur_a = v[i].a;
                cur_b = v[i].b;
            }
        }
        ov += cur_b - cur_a;
        free(v);
        ov <<= cbits;
    }
    /* the internal journal, loaded or not */
    if (ext2fs_has_feature_journal(sb) && sb->s_journal_inum && !sb->s_journal_dev) {
        struct ext2_inode_large in;
        if (read_inode_raw(ex, sb->s_journal_inum, &in) == 0) {
            uint64_t jb = EXT2_I_SIZE(&in) / ex->bs;
            ov += ((jb + (1u << cbits) - 1) >> cbits) << cbits;
        }
    }
    return ov;
}

static int ext_statvfs(gk_fs *gfs, gk_statvfs *sv)
{
    struct ext *ex = gfs->priv;
    ext2_filsys fs = ex->fs;
    struct ext2_super_block *sb = fs->super;
    unsigned cbits = (unsigned)fs->cluster_ratio_bits;
    memset(sv, 0, sizeof *sv);
    sv->bsize = sv->frsize = ex->bs;
    uint64_t total = ext2fs_blocks_count(sb);
    sv->blocks = total > ex->overhead ? total - ex->overhead : 0;
    /* Like the kernel at mount time: the sums of the group descriptors. */
    uint64_t freec = 0, freei = 0;
    for (dgrp_t g = 0; g < fs->group_desc_count; g++) {
        freec += ext2fs_bg_free_blocks_count(fs, g);
        freei += ext2fs_bg_free_inodes_count(fs, g);
    }
    sv->bfree = freec << cbits;
    uint64_t resv = 0;
    if (ext2fs_has_feature_extents(sb)) {
        resv = (total >> cbits) / 50;
        if (resv > 4096)
            resv = 4096;
    }
    uint64_t reserved = ext2fs_r_blocks_count(sb) + (resv << cbits);
    sv->bavail = sv->bfree > reserved ? sv->bfree - reserved : 0;
    sv->files = sb->s_inodes_count;
    sv->ffree = sv->favail = freei;
    uint64_t u0 = gk_le64(sb->s_uuid), u1 = gk_le64(sb->s_uuid + 8);
    sv->fsid = u0 ^ u1;
    sv->flag = ex->w ? 0 : ST_RDONLY;
    sv->namemax = EXT2_NAME_LEN;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Extended attributes                                                 */

struct xl_ctx {
    char *buf;
    size_t bufsz, len;
};

static int xl_cb(char *name, char *value, size_t value_len, void *priv)
{
    (void)value; (void)value_len;
    struct xl_ctx *c = priv;
    if (strcmp(name, "system.data") == 0)   /* the inline-data carrier is not an xattr */
        return 0;
    size_t n = strlen(name) + 1;
    if (c->len + n <= c->bufsz)
        memcpy(c->buf + c->len, name, n);
    c->len += n;
    return 0;
}

static int xattrs_open(struct ext *ex, uint64_t ino, struct ext2_xattr_handle **h)
{
    struct ext2_inode_large in;
    if (read_inode(ex, ino, &in) < 0)
        return ext_err();
    *h = NULL;
    errcode_t err = ext2fs_xattrs_open(ex->fs, (ext2_ino_t)ino, h);
    if (err == EXT2_ET_MISSING_EA_FEATURE)
        return 1;                       /* no xattrs on this filesystem */
    if (!err)
        err = ext2fs_xattrs_read(*h);   /* the whole on-disk inode, for in-inode EAs */
    if (err) {
        if (*h)
            ext2fs_xattrs_close(h);
        return fail(err, EIO, "inode %llu: extended attributes", (unsigned long long)ino);
    }
    return 0;
}

static ssize_t ext_listxattr(gk_fs *gfs, uint64_t ino, char *buf, size_t bufsz)
{
    struct ext *ex = gfs->priv;
    struct ext2_xattr_handle *h;
    int r = xattrs_open(ex, ino, &h);
    if (r)
        return r > 0 ? 0 : -1;
    struct xl_ctx c = {buf, bufsz, 0};
    errcode_t err = ext2fs_xattrs_iterate(h, xl_cb, &c);
    ext2fs_xattrs_close(&h);
    if (err)
        return fail(err, EIO, "inode %llu: extended attributes", (unsigned long long)ino);
    return (ssize_t)c.len;
}

static ssize_t ext_getxattr(gk_fs *gfs, uint64_t ino, const char *name, void *buf, size_t bufsz)
{
    struct ext *ex = gfs->priv;
    if (strcmp(name, "system.data") == 0)
        return fail(0, ENODATA, "%s: No data available", name);
    struct ext2_xattr_handle *h;
    int r = xattrs_open(ex, ino, &h);
    if (r > 0)
        return fail(0, ENODATA, "%s: No data available", name);
    if (r < 0)
        return ext_err();
    void *val = NULL;
    size_t len = 0;
    /* ext2fs_xattr_get converts ACLs to the Linux xattr format, as
     * getxattr(2) returns them. */
    errcode_t err = ext2fs_xattr_get(h, name, &val, &len);
    ext2fs_xattrs_close(&h);
    if (err == EXT2_ET_EA_KEY_NOT_FOUND)
        return fail(0, ENODATA, "%s: No data available", name);
    if (err)
        return fail(err, EIO, "inode %llu: %s", (unsigned long long)ino, name);
    if (len && len <= bufsz)
        memcpy(buf, val, len);
    ext2fs_free_mem(&val);
    return (ssize_t)len;
}

/* ------------------------------------------------------------------ */
/* fmap, close, open                                                   */

static int ext_fmap(gk_fs *gfs, uint64_t ino, gk_fmap **out, size_t *n)
{
    struct ext *ex = gfs->priv;
    struct ext2_inode_large in;
    *out = NULL;
    *n = 0;
    if (read_inode(ex, ino, &in) < 0)
        return ext_err();
    if ((in.i_flags & EXT4_ENCRYPT_FL) && LINUX_S_ISREG(in.i_mode))
        return fail(0, ENOKEY, "inode %llu: encrypted: %s", (unsigned long long)ino, strerror(ENOKEY));
    uint64_t size = ext_isize(ex, &in);
    if (size == 0)
        return 0;
    if (in.i_flags & EXT4_INLINE_DATA_FL || !LINUX_S_ISREG(in.i_mode)) {
        *out = gk_malloc(sizeof **out);
        (*out)[0] = (gk_fmap){0, size};
        *n = 1;
        return 0;
    }
    if (get_map(ex, ino, &in) < 0)
        return ext_err();
    gk_fmap *v = NULL;
    size_t nv = 0;
    uint64_t bs = ex->bs, end = 0;
    for (size_t i = 0; i < ex->nruns; i++) {
        const struct run *r = &ex->runs[i];
        if (r->uninit)
            continue;
        uint64_t a = r->lblk * bs, b = (r->lblk + r->len) * bs;
        if (b > size)
            b = size;
        if (a < end)                    /* overlapping runs of a corrupt map */
            a = end;
        if (a >= b)
            continue;
        if (nv && v[nv - 1].logical + v[nv - 1].len == a) {
            v[nv - 1].len += b - a;
        } else {
            v = gk_realloc(v, (nv + 1) * sizeof *v);
            v[nv++] = (gk_fmap){a, b - a};
        }
        end = b;
    }
    *out = v;
    *n = nv;
    return 0;
}

/* The caches read_inode and the lookups fill (sanity_check at open already
 * fills the system zone), and the struct itself; not fs or io. */
static void ext_free(struct ext *ex)
{
    gk_ext_zones_free(ex->zones);
    free(ex->runs);
    for (int i = 0; i < DIRCACHE_N; i++)
        dh_free(&ex->dc[i]);
    free(ex);
}

static void ext_close(gk_fs *gfs)
{
    struct ext *ex = gfs->priv;
    if (!ex)
        return;
    /* the write side commits what is pending and leaves the filesystem clean */
    if (ex->w)
        gk_extw_close(ex);
    /* ext2fs_free, not ext2fs_close: the write side has written everything
     * through its own transactions, and a read-only handle has nothing. */
    if (ex->fs)
        ext2fs_free(ex->fs);
    gkio_free(ex->io);
    ext_free(ex);
    gfs->priv = NULL;
}

static const struct gk_fs_ops ext_ops = {
    .name = "ext",
    .getattr = ext_getattr,
    .lookup = ext_lookup,
    .readdir = ext_readdir,
    .read = ext_read,
    .readlink = ext_readlink,
    .statvfs = ext_statvfs,
    .listxattr = ext_listxattr,
    .getxattr = ext_getxattr,
    .fmap = ext_fmap,
    .close = ext_close,
};

/* The same with the write operations (fs/ext-write.c). */
static const struct gk_fs_ops ext_rw_ops = {
    .name = "ext",
    .getattr = ext_getattr,
    .lookup = ext_lookup,
    .readdir = ext_readdir,
    .read = ext_read,
    .readlink = ext_readlink,
    .statvfs = ext_statvfs,
    .listxattr = ext_listxattr,
    .getxattr = ext_getxattr,
    .fmap = ext_fmap,
    .create = gk_extw_create,
    .write = gk_extw_write,
    .truncate = gk_extw_truncate,
    .mkdir = gk_extw_mkdir,
    .rmdir = gk_extw_rmdir,
    .unlink = gk_extw_unlink,
    .rename = gk_extw_rename,
    .link = gk_extw_link,
    .symlink = gk_extw_symlink,
    .mknod = gk_extw_mknod,
    .chmod = gk_extw_chmod,
    .chown = gk_extw_chown,
    .utimens = gk_extw_utimens,
    .setxattr = gk_extw_setxattr,
    .removexattr = gk_extw_removexattr,
    .sync = gk_extw_sync,
    .close = ext_close,
};

/* ---- for the write side (fs/ext-int.h) ---- */

int gk_ext_read_inode(struct ext *ex, uint64_t ino, struct ext2_inode_large *in)
{
    return read_inode(ex, ino, in);
}

void gk_ext_dir_changed(struct ext *ex, uint64_t dir, const char *name, uint32_t ino)
{
    ex->map_valid = 0;              /* the directory may have grown */
    for (int i = 0; i < DIRCACHE_N; i++) {
        struct dirhash *d = &ex->dc[i];
        if (!d->tab || (dir && d->ino != dir))
            continue;
        if (!name) {
            dh_free(d);
            continue;
        }
        size_t len = strlen(name);
        uint32_t h = name_hash(name, len);
        struct dent *found = NULL;
        for (size_t j = h & (d->cap - 1); d->tab[j].ino; j = (j + 1) & (d->cap - 1)) {
            struct dent *e = &d->tab[j];
            if (e->hash == h && e->len == len && memcmp(d->names + e->off, name, len) == 0) {
                found = e;
                break;
            }
        }
        if (found && ino)
            found->ino = ino;         /* the name points elsewhere now */
        else if (found)
            found->len = UINT16_MAX;  /* removed: a length no name has */
        else if (ino)
            dh_insert(d, name, len, ino, 0);
    }
}

int gk_ext_lookup(struct ext *ex, uint64_t dir, const char *name, uint64_t *ino)
{
    return lookup_in(ex, dir, name, ino);
}

void gk_ext_map_changed(struct ext *ex)
{
    ex->map_valid = 0;
}

errcode_t gk_ext_open_fs(struct gkio *io, int flags, ext2_filsys *fs)
{
    char name[32];
    gkio_name(io, name, sizeof name);
    return ext2fs_open2(name, NULL, EXT2_FLAG_64BITS | flags, 0, 0, gk_ext_io_manager, fs);
}

static errcode_t open_fs(struct gkio *io, ext2_filsys *fs)
{
    /* Checksum errors are reported per object where they matter; we read
     * what is there, like debugfs -n. */
    return gk_ext_open_fs(io, EXT2_FLAG_IGNORE_CSUM_ERRORS, fs);
}

/* What blkid would call this filesystem. */
static const char *ext_kind(struct ext2_super_block *sb)
{
    if ((sb->s_feature_incompat & ~(uint32_t)(EXT2_FEATURE_INCOMPAT_FILETYPE |
                                              EXT3_FEATURE_INCOMPAT_RECOVER |
                                              EXT2_FEATURE_INCOMPAT_META_BG)) ||
        (sb->s_feature_ro_compat & ~(uint32_t)(EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER |
                                               EXT2_FEATURE_RO_COMPAT_LARGE_FILE |
                                               0x0004 /* btree_dir */)))
        return "ext4";
    if (sb->s_feature_compat & EXT3_FEATURE_COMPAT_HAS_JOURNAL)
        return "ext3";
    return "ext2";
}

/* The kernel refuses to mount a filesystem whose group descriptors place
 * bitmaps or inode tables outside the filesystem, or whose root inode is
 * not a directory ("corrupt root inode, run e2fsck"); so do we, with the
 * same advice, rather than fail on every path later. */
static int sanity_check(struct ext *ex)
{
    ext2_filsys fs = ex->fs;
    uint64_t first = fs->super->s_first_data_block, last = ex->nblocks;
    uint64_t itb = fs->inode_blocks_per_group;
    for (dgrp_t g = 0; g < fs->group_desc_count; g++) {
        uint64_t bb = ext2fs_block_bitmap_loc(fs, g), ib = ext2fs_inode_bitmap_loc(fs, g);
        uint64_t it = ext2fs_inode_table_loc(fs, g);
        const char *what = NULL;
        if (bb < first || bb >= last)
            what = "block bitmap";
        else if (ib < first || ib >= last)
            what = "inode bitmap";
        else if (it < first || it >= last || itb > last - it)
            what = "inode table";
        if (what)
            return fail(0, EIO, "corrupt group descriptors: %s for group %u not in the filesystem, run e2fsck",
                        what, g);
    }
    struct ext2_inode_large root;
    if (read_inode(ex, EXT2_ROOT_INO, &root) < 0)
        return ext_err();
    if (!LINUX_S_ISDIR(root.i_mode) || ext_isize(ex, &root) == 0 ||
        (!root.i_blocks && !(root.i_flags & EXT4_INLINE_DATA_FL)))
        return fail(0, EIO, "corrupt root inode, run e2fsck");
    return 0;
}

/* Group descriptors we read at most (libext2fs loads them all at open):
 * an ext4 of 128 TiB with 4 KiB blocks and 64-byte descriptors. */
#define EXT_MAX_DESC_BYTES (64u << 20)

/* The superblock's geometry, checked against the device before libext2fs
 * sees it, the way the kernel's mount does: a 384 KiB image claiming 64M
 * block groups would otherwise make ext2fs_open2 allocate and read
 * gigabytes of group descriptors before failing.  0, or -EINVAL/-EUCLEAN
 * with the reason. */
static int check_geometry(struct gkio *io, gk_dev *dev)
{
    struct ext2_super_block sb;
    /* through io: a replayed journal may carry another superblock */
    if (dev->size < 2048 || gkio_read(io, 1024, sizeof sb, &sb) != 0)
        return 0;                /* libext2fs says what is wrong */
    if (ext2fs_le16_to_cpu(sb.s_magic) != EXT2_SUPER_MAGIC)
        return 0;
    uint32_t log = ext2fs_le32_to_cpu(sb.s_log_block_size);
    if (log > EXT2_MAX_BLOCK_LOG_SIZE - EXT2_MIN_BLOCK_LOG_SIZE) {
        gk_error("bad geometry: block size 2^%u KiB", log);
        return -EUCLEAN;
    }
    uint64_t bs = 1024ull << log;
    uint32_t incompat = ext2fs_le32_to_cpu(sb.s_feature_incompat);
    uint64_t blocks = ext2fs_le32_to_cpu(sb.s_blocks_count);
    if (incompat & EXT4_FEATURE_INCOMPAT_64BIT)
        blocks |= (uint64_t)ext2fs_le32_to_cpu(sb.s_blocks_count_hi) << 32;
    uint64_t devblocks = dev->size / bs;
    if (blocks > devblocks) {
        gk_error("bad geometry: block count %llu exceeds size of device (%llu blocks)",
                 (unsigned long long)blocks, (unsigned long long)devblocks);
        return -EUCLEAN;
    }
    uint64_t first = ext2fs_le32_to_cpu(sb.s_first_data_block);
    int bigalloc = !!(ext2fs_le32_to_cpu(sb.s_feature_ro_compat) & EXT4_FEATURE_RO_COMPAT_BIGALLOC);
    /* with 1 KiB blocks the superblock is block 1 (unless clusters are larger) */
    if (first >= blocks || (first == 0 && bs == 1024 && !bigalloc)) {
        gk_error("bad geometry: first data block %llu, %llu blocks of %llu bytes",
                 (unsigned long long)first, (unsigned long long)blocks, (unsigned long long)bs);
        return -EUCLEAN;
    }
    uint64_t bpg = ext2fs_le32_to_cpu(sb.s_blocks_per_group);
    uint64_t ipg = ext2fs_le32_to_cpu(sb.s_inodes_per_group);
    /* a group's bitmap is one block: bigalloc counts clusters in it */
    uint64_t per = bpg;
    if (bigalloc)
        per = ext2fs_le32_to_cpu(sb.s_clusters_per_group);
    if (bpg == 0 || per == 0 || per > 8 * bs || ipg == 0 || ipg > 8 * bs) {
        gk_error("bad geometry: %llu blocks and %llu inodes per group",
                 (unsigned long long)bpg, (unsigned long long)ipg);
        return -EUCLEAN;
    }
    uint64_t groups = (blocks - first + bpg - 1) / bpg;
    if (groups * ipg != ext2fs_le32_to_cpu(sb.s_inodes_count)) {
        gk_error("bad geometry: %llu groups of %llu inodes, but an inodes count of %u",
                 (unsigned long long)groups, (unsigned long long)ipg,
                 ext2fs_le32_to_cpu(sb.s_inodes_count));
        return -EUCLEAN;
    }
    uint64_t dsz = EXT2_MIN_DESC_SIZE;
    if (incompat & EXT4_FEATURE_INCOMPAT_64BIT) {
        dsz = ext2fs_le16_to_cpu(sb.s_desc_size);
        if (dsz < EXT2_MIN_DESC_SIZE_64BIT || dsz > EXT2_MAX_DESC_SIZE || (dsz & (dsz - 1))) {
            gk_error("bad geometry: group descriptor size %llu", (unsigned long long)dsz);
            return -EUCLEAN;
        }
    }
    if (groups * dsz > EXT_MAX_DESC_BYTES) {
        gk_error("%llu block groups: their descriptors (%llu MiB) are more than guestkit reads "
                 "(%u MiB)", (unsigned long long)groups,
                 (unsigned long long)(groups * dsz >> 20), EXT_MAX_DESC_BYTES >> 20);
        return -EFBIG;
    }
    return 0;
}

static const char *const ext_types[] = {"ext2", "ext3", "ext4", "ext4dev", NULL};

/* The ext superblock magic at byte 1080. */
static int ext_probe(gk_dev *dev)
{
    uint8_t m[2];
    return dev->size >= 2048 && gk_pread(dev, m, 2, 1024 + 56) == 0 && gk_le16(m) == 0xef53;
}

static int ext_open(gk_dev *dev, const gk_fs_open_args *a, gk_fs **out)
{
    const char *fstype = a->fstype;
    if (a->options && *a->options) {
        gk_error("%s: unknown mount options \"%s\"", dev->name, a->options);
        return -EINVAL;
    }
    ext_init_errors();
    struct gkio *io = gkio_new(dev);
    int gr = check_geometry(io, dev);
    if (gr < 0) {
        gkio_free(io);
        return gr;
    }
    ext2_filsys fs = NULL;
    errcode_t err = open_fs(io, &fs);
    if (err) {
        gk_error("%s", error_message(err));
        errno = EINVAL;
        goto fail;
    }
    struct ext2_super_block *sb = fs->super;
    if (ext2fs_has_feature_journal_needs_recovery(sb)) {
        if (!ext2fs_has_feature_journal(sb) || !sb->s_journal_inum || sb->s_journal_dev) {
            gk_warn("%s: the journal needs recovery but is external: reading the unreplayed filesystem",
                    dev->name);
        } else {
            gk_jblock *ovl = NULL;
            size_t novl = 0;
            unsigned bs = (unsigned)fs->blocksize;
            if (gk_journal_replay(fs, dev, &ovl, &novl) < 0) {
                gk_warn("%s: %s: reading the unreplayed filesystem", dev->name, gk_errmsg());
            } else if (novl) {
                ext2fs_free(fs);
                fs = NULL;
                gkio_set_overlay(io, ovl, novl, bs);
                gr = check_geometry(io, dev);
                err = gr < 0 ? EXT2_ET_CORRUPT_SUPERBLOCK : open_fs(io, &fs);
                if (err) {
                    gk_warn("%s: after journal replay: %s: reading the unreplayed filesystem",
                            dev->name, gr < 0 ? gk_errmsg() : error_message(err));
                    gkio_set_overlay(io, NULL, 0, 0);
                    err = open_fs(io, &fs);
                    if (err) {
                        gk_error("%s", error_message(err));
                        errno = EINVAL;
                        goto fail;
                    }
                }
            } else {
                free(ovl);
            }
        }
    }
    struct ext *ex = gk_calloc(1, sizeof *ex);
    ex->fs = fs;
    ex->io = io;
    ex->bs = (unsigned)fs->blocksize;
    ex->nblocks = ext2fs_blocks_count(fs->super);
    if (sanity_check(ex) < 0) {
        ext_free(ex);
        goto fail;
    }
    ex->overhead = compute_overhead(ex);
    if (a->rw) {
        /* checks what can be kept consistent, reopens read-write; the
         * device is not written before the first change */
        int r = gk_extw_open(ex, dev);
        if (r < 0) {
            fs = ex->fs;
            ext_free(ex);
            errno = -r;
            goto fail;
        }
        fs = ex->fs;
    }
    gk_fs *g = gk_fs_alloc(a->rw ? &ext_rw_ops : &ext_ops, dev,
                           fstype && *fstype ? fstype : ext_kind(fs->super), ex);
    g->root_ino = EXT2_ROOT_INO;
    g->readonly = !a->rw;
    *out = g;
    return 0;
fail:;
    int r = ext_err();
    if (fs)
        ext2fs_free(fs);
    gkio_free(io);
    return r;
}

const struct gk_fs_driver gk_fsdrv_ext = {
    .name = "ext",
    .types = ext_types,
    .probe = ext_probe,
    .open = ext_open,
};
