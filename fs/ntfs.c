/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NTFS through libntfs-3g: the gk_fs_ops of the ntfs driver (read-only).
 *
 * libntfs-3g reads our gk_dev through its device-operations hook
 * (fs/ntfs-io.c).  What a file looks like follows the ntfs-3g FUSE driver
 * with its default options, since that is what libguestfs mounts:
 * owner root, mode 0777, metadata files ($MFT...) hidden from listings,
 * DOS (8.3) names hidden, names case-sensitive, named data streams
 * (alternate data streams) as extended attributes "user.NAME", junctions
 * and symbolic links (reparse points) as symlinks whose target
 * libntfs-3g translates (absolute targets are given from the root of this
 * filesystem, "/Users/x", where ntfs-3g prefixes its mountpoint), Interix
 * (SFU) FIFOs, sockets, devices and symlinks, WSL special files, and
 * "unsupported reparse tag 0xTAG" for reparse points nobody decodes.
 * Case-insensitive lookup (lookup_nocase) uses the volume's $UpCase
 * table, as Windows does.
 *
 * A hibernated volume (hiberfil.sys active), one with an unclean journal
 * (Windows Fast Startup, a crash) or the dirty flag set is read as it is
 * on disk, with a warning, like ntfs-3g's read-only fallback.  BitLocker
 * volumes are refused with a message saying so.
 *
 * Bounds: libntfs-3g checks the boot sector, MFT records (fixups, attribute
 * offsets), runlists and index blocks it reads; on top of that every device
 * read is checked against the device, reads of Interix and reparse data
 * are capped (at most 16 KiB), extended attribute values (streams) are
 * capped at the kernel's 64 KiB like the FUSE mount, and one open stream
 * (the file being read) is kept between read calls.
 *
 * Threading: one gk_fs per thread; libntfs-3g keeps no global state we
 * change besides its log handler, set once.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "ntfs-int.h"

/* What ntfs-3g shows as the target of a reparse point it cannot decode. */
#define BAD_REPARSE_FMT "unsupported reparse tag 0x%08lx"
#define BAD_REPARSE_LEN ((int)sizeof BAD_REPARSE_FMT + 2)
/* Linux's XATTR_SIZE_MAX: the FUSE mount cannot return larger values. */
#define XATTR_VALUE_MAX 65536
#define XATTR_USER "user."

struct ntfs {
    ntfs_volume *vol;
    void *iopriv;               /* freed after the volume                  */
    gk_dev *dev;
    /* the stream being read, kept open between read calls */
    uint64_t rd_ino;
    ntfs_inode *rd_ni;
    ntfs_attr *rd_na;
    int free_known;             /* free clusters counted (statvfs)          */
    uint64_t serial;            /* volume serial number (boot sector)       */
};

/* Record "what: reason" and return -eno (the driver convention). */
static int fail(int eno, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int eno, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (eno <= 0)
        eno = EIO;
    gk_error("%s: %s", what, gk_ntfs_reason(eno));
    return -eno;
}

/* errno after a failed libntfs-3g call, as the VFS should see it: what a
 * corrupt structure gives internally (EINVAL, ERANGE, ENOMEM on a
 * nonsense size...) is EIO to our callers. */
static int lib_errno(void)
{
    int e = errno;
    switch (e) {
    case ENOENT: case ENOTDIR: case EISDIR: case EACCES: case ENAMETOOLONG:
    case EOPNOTSUPP: case EILSEQ: case ELOOP: case ENODATA:
        return e;
    default:
        return EIO;
    }
}

static ntfs_inode *iget(struct ntfs *nt, uint64_t ino)
{
    if (ino > MFT_REF_MASK_CPU) {
        errno = ENOENT;
        return NULL;
    }
    ntfs_inode *ni = ntfs_inode_open(nt->vol, (MFT_REF)ino);
    if (!ni && errno != ENOENT)
        errno = EIO;
    return ni;
}

static void iput(ntfs_inode *ni)
{
    if (ni)
        ntfs_inode_close(ni);
}

static int is_dir(ntfs_inode *ni)
{
    return (ni->mrec->flags & MFT_RECORD_IS_DIRECTORY) != 0;
}

static int fail(int eno, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int lib_errno(void);

/* Inode ino opened into *out: 0, or -errno with the reason recorded
 * (-ENOTDIR when want_dir and it is not a directory). */
static int inode_get(struct ntfs *nt, uint64_t ino, int want_dir, ntfs_inode **out)
{
    gk_ntfs_clear();
    ntfs_inode *ni = iget(nt, ino);
    if (!ni)
        return fail(lib_errno(), "inode %llu", (unsigned long long)ino);
    if (want_dir && !is_dir(ni)) {
        iput(ni);
        return -ENOTDIR;
    }
    *out = ni;
    return 0;
}

/* ntfs-3g's ntfs2timespec without its signed overflow on absurd dates:
 * seconds truncated towards zero, negative nanoseconds shown as 0. */
static struct timespec ntime(sle64 t)
{
    __int128 d = (__int128)sle64_to_cpu(t) - NTFS_TIME_OFFSET;
    __int128 sec = d / 10000000;
    __int128 nsec = (d - sec * 10000000) * 100;
    struct timespec ts;
    ts.tv_sec = sec > INT64_MAX ? INT64_MAX : sec < INT64_MIN ? INT64_MIN : (time_t)sec;
    ts.tv_nsec = nsec < 0 || nsec > 999999999 ? 0 : (long)nsec;
    return ts;
}

/* ------------------------------------------------------------------ */
/* File types                                                          */

/* The reparse point of ni (libntfs-3g checks its consistency), or NULL. */
static REPARSE_POINT *reparse_of(ntfs_inode *ni)
{
    return ntfs_get_reparse_point(ni);
}

/* Target of a junction or symlink as ntfs-3g gives it (malloc'd), or NULL
 * with errno EOPNOTSUPP when it cannot be translated. */
static char *make_link(ntfs_inode *ni)
{
    errno = 0;
    char *t = ntfs_make_symlink(ni, "");
    if (!t && !errno)
        errno = EOPNOTSUPP;
    return t;
}

static uint64_t blocks_of(s64 allocated)
{
    return allocated > 0 ? ((uint64_t)allocated + 511) >> 9 : 0;
}

/* What ntfs-3g's reparse plugins (internal ones only: junctions,
 * symlinks, WSL links and special files) make of a reparse point: the
 * type and size in st.  Anything they cannot decode is a symlink to
 * "unsupported reparse tag 0xTAG". */
static void reparse_stat(ntfs_inode *ni, gk_stat *st)
{
    REPARSE_POINT *rp = reparse_of(ni);
    le32 tag = rp ? rp->reparse_tag : 0;
    le32 sel = tag & IO_REPARSE_PLUGIN_SELECT;
    st->mode = S_IFLNK;
    st->size = BAD_REPARSE_LEN;
    st->blocks = blocks_of(ni->allocated_size);
    if (rp && (sel == IO_REPARSE_TAG_MOUNT_POINT || sel == IO_REPARSE_TAG_SYMLINK ||
               sel == IO_REPARSE_TAG_LX_SYMLINK)) {
        char *t = make_link(ni);
        if (t)
            st->size = strlen(t);
        free(t);
    } else if (rp && (sel == IO_REPARSE_TAG_AF_UNIX || sel == IO_REPARSE_TAG_LX_FIFO ||
                      sel == IO_REPARSE_TAG_LX_CHR || sel == IO_REPARSE_TAG_LX_BLK)) {
        if (ntfs_reparse_check_wsl(ni, rp) == 0) {
            dev_t rdev = 0;
            int r = 0;
            st->size = 0;
            st->blocks = 0;
            if (sel == IO_REPARSE_TAG_AF_UNIX) {
                st->mode = S_IFSOCK;
            } else if (sel == IO_REPARSE_TAG_LX_FIFO) {
                st->mode = S_IFIFO;
            } else {
                st->mode = sel == IO_REPARSE_TAG_LX_CHR ? S_IFCHR : S_IFBLK;
                r = ntfs_ea_check_wsldev(ni, &rdev);
                st->rdev = rdev;
            }
            if (r) {
                st->mode = S_IFLNK;
                st->size = BAD_REPARSE_LEN;
                st->rdev = 0;
            }
        }
    }
    free(rp);
}

/* An Interix (Services for Unix) file: the INTX header of its data. */
#define INTX_MAX (sizeof(INTX_FILE_TYPES) + sizeof(ntfschar) * 4096)

/* The UTF-16 target of an Interix symlink (f is malloc'd: aligned). */
static const ntfschar *intx_target(const INTX_FILE *f)
{
    return (const ntfschar *)(const void *)((const u8 *)f + offsetof(INTX_FILE, target));
}

static int intx_target_len(const ntfs_attr *na)
{
    return (int)((na->data_size - (s64)offsetof(INTX_FILE, target)) / 2);
}

static int intx_read(ntfs_attr *na, INTX_FILE **out)
{
    *out = NULL;
    if ((u64)na->data_size <= sizeof(INTX_FILE_TYPES) || (u64)na->data_size > INTX_MAX)
        return 0;
    INTX_FILE *f = gk_malloc((size_t)na->data_size);
    if (ntfs_attr_pread(na, 0, na->data_size, f) != na->data_size) {
        free(f);
        return -1;
    }
    *out = f;
    return 1;
}

static int nt_getattr_ni(struct ntfs *nt, ntfs_inode *ni, gk_stat *st)
{
    (void)nt;
    memset(st, 0, sizeof *st);
    st->nlink = le16_to_cpu(ni->mrec->link_count);
    st->blksize = 4096;
    if (ni->flags & FILE_ATTR_REPARSE_POINT) {
        reparse_stat(ni, st);             /* only symlinks get 0777 below */
    } else if (is_dir(ni)) {
        st->mode = S_IFDIR | 0777;
        s64 size = ni->data_size, alloc = ni->allocated_size;
        ntfs_attr *na = ntfs_attr_open(ni, AT_INDEX_ALLOCATION, NTFS_INDEX_I30, 4);
        if (na) {
            size = na->data_size;
            alloc = na->allocated_size;
            ntfs_attr_close(na);
        }
        st->size = size > 0 ? (uint64_t)size : 0;
        st->blocks = alloc > 0 ? (uint64_t)alloc >> 9 : 0;
        st->nlink = 1;                    /* as ntfs-3g: find(1) must work */
    } else {
        st->mode = S_IFREG;
        st->size = ni->data_size > 0 ? (uint64_t)ni->data_size : 0;
        st->blocks = blocks_of(ni->allocated_size);
        if (ni->flags & FILE_ATTR_SYSTEM) {
            ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
            if (!na)
                goto nodata;             /* ntfs-3g: no permission bits */
            if (!(ni->flags & FILE_ATTR_HIDDEN)) {
                if (na->data_size == 0)
                    st->mode = S_IFIFO;
                else if (na->data_size == 1)
                    st->mode = S_IFSOCK;
            }
            INTX_FILE *f;
            int r = intx_read(na, &f);
            if (r < 0) {
                int e = lib_errno();
                ntfs_attr_close(na);
                return fail(e, "inode %llu: Interix data", (unsigned long long)ni->mft_no);
            }
            if (r > 0) {
                if ((f->magic == INTX_BLOCK_DEVICE || f->magic == INTX_CHARACTER_DEVICE) &&
                    na->data_size == (s64)offsetof(INTX_FILE, device_end)) {
                    st->mode = f->magic == INTX_BLOCK_DEVICE ? S_IFBLK : S_IFCHR;
                    st->rdev = makedev((unsigned)le64_to_cpu(f->major),
                                       (unsigned)le64_to_cpu(f->minor));
                }
                if (f->magic == INTX_SYMBOLIC_LINK) {
                    char *t = NULL;
                    int len = ntfs_ucstombs(intx_target(f), intx_target_len(na), &t, 0);
                    free(t);
                    if (len < 0) {
                        free(f);
                        ntfs_attr_close(na);
                        return fail(EIO, "inode %llu: Interix symlink",
                                    (unsigned long long)ni->mft_no);
                    }
                    st->mode = S_IFLNK;
                    st->size = (uint64_t)len;
                }
                free(f);
            }
            ntfs_attr_close(na);
        }
        st->mode |= 0777;
    }
    if (S_ISLNK(st->mode))
        st->mode |= 0777;
nodata:
    st->ino = ni->mft_no;
    st->atime = ntime(ni->last_access_time);
    st->mtime = ntime(ni->last_data_change_time);
    st->ctime = ntime(ni->last_mft_change_time);
    st->crtime = ntime(ni->creation_time);
    return 0;
}

static int nt_getattr(gk_fs *fs, uint64_t ino, gk_stat *st)
{
    struct ntfs *nt = fs->priv;
    ntfs_inode *ni = NULL;
    int r = inode_get(nt, ino, 0, &ni);
    if (r < 0)
        return r;
    r = nt_getattr_ni(nt, ni, st);
    iput(ni);
    return r;
}

/* ------------------------------------------------------------------ */
/* Directories                                                         */

/* Look uname up in the $I30 index of directory dni.  Exact: the name as
 * it is (DOS names included).  nocase: the first name in the index's
 * order that matches ignoring case by the volume's $UpCase table, as
 * Windows and ntfs-3g's ignore_case mode find it: names are sorted by
 * their upper-case form first, so the smallest case variant of uname sits
 * just before every name equal to it but for case.  ntfs_index_lookup
 * bounds its descent (MAX_PARENT_VCN levels), unlike
 * ntfs_inode_lookup_by_name, so a looping index cannot hang us.
 * Returns 0 and *mref (and *realname, the name found, if asked), -ENOENT,
 * or -errno after fail(). */
static int index_find(ntfs_inode *dni, ntfschar *uname, int ulen, int nocase, u64 *mref,
                      char **realname)
{
    ntfs_volume *vol = dni->vol;
    size_t klen = sizeof(FILE_NAME_ATTR) + (size_t)ulen * sizeof(ntfschar);
    FILE_NAME_ATTR *key = gk_calloc(1, klen);
    ntfschar *kname = (ntfschar *)(void *)((u8 *)key + offsetof(FILE_NAME_ATTR, file_name));
    key->file_name_length = (u8)ulen;
    for (int i = 0; i < ulen; i++) {
        u32 c = le16_to_cpu(uname[i]);
        if (nocase && c < vol->upcase_len && le16_to_cpu(vol->upcase[c]) < c)
            kname[i] = vol->upcase[c];
        else
            kname[i] = uname[i];
    }
    int r = -ENOENT;
    ntfs_index_context *icx = ntfs_index_ctx_get(dni, NTFS_INDEX_I30, 4);
    if (!icx) {
        free(key);
        return fail(EIO, "directory inode %llu: index", (unsigned long long)dni->mft_no);
    }
    errno = 0;
    int lk = ntfs_index_lookup(key, (int)klen, icx);
    int e = errno;
    INDEX_ENTRY *hit = NULL;
    if (lk == 0 && icx->entry) {
        hit = icx->entry;
    } else if (e != ENOENT) {
        errno = e;
        r = fail(lib_errno(), "directory inode %llu: index", (unsigned long long)dni->mft_no);
    } else if (nocase && icx->entry) {
        INDEX_ENTRY *ie = icx->entry;
        if (ie->ie_flags & INDEX_ENTRY_END)
            ie = ntfs_index_next(ie, icx);
        if (ie && !(ie->ie_flags & INDEX_ENTRY_END) &&
            le16_to_cpu(ie->key_length) >= sizeof(FILE_NAME_ATTR) &&
            le16_to_cpu(ie->key_length) >= sizeof(FILE_NAME_ATTR) +
                                            ie->key.file_name.file_name_length * sizeof(ntfschar) &&
            ntfs_names_are_equal(kname, (size_t)ulen,
                                 (ntfschar *)(void *)((u8 *)&ie->key.file_name +
                                                      offsetof(FILE_NAME_ATTR, file_name)),
                                 ie->key.file_name.file_name_length, IGNORE_CASE, vol->upcase,
                                 vol->upcase_len))
            hit = ie;
    }
    if (hit) {
        *mref = le64_to_cpu(hit->indexed_file);
        r = 0;
        if (realname) {
            *realname = NULL;
            if (ntfs_ucstombs((ntfschar *)(void *)((u8 *)&hit->key.file_name +
                                                   offsetof(FILE_NAME_ATTR, file_name)),
                              hit->key.file_name.file_name_length, realname, 0) < 0) {
                free(*realname);
                *realname = NULL;
                r = -ENOENT;              /* a name no path can hold */
            }
        }
    }
    ntfs_index_ctx_put(icx);
    free(key);
    return r;
}

static int lookup_common(struct ntfs *nt, uint64_t dir, const char *name, uint64_t *ino,
                         int nocase, char **realname)
{
    ntfs_inode *dni = NULL;
    int r = inode_get(nt, dir, 1, &dni);
    if (r < 0)
        return r;
    ntfschar *uname = NULL;
    int ulen = ntfs_mbstoucs(name, &uname);
    if (ulen <= 0 || ulen > NTFS_MAX_NAME_LEN) {
        free(uname);
        iput(dni);
        return ulen > NTFS_MAX_NAME_LEN ? -ENAMETOOLONG : -ENOENT;
    }
    u64 mref = 0;
    r = index_find(dni, uname, ulen, nocase, &mref, realname);
    free(uname);
    iput(dni);
    if (r == 0)
        *ino = MREF(mref);
    return r;
}

static int nt_lookup(gk_fs *fs, uint64_t dir, const char *name, uint64_t *ino)
{
    return lookup_common(fs->priv, dir, name, ino, 0, NULL);
}

static int nt_lookup_nocase(gk_fs *fs, uint64_t dir, const char *name, uint64_t *ino,
                            char **realname)
{
    return lookup_common(fs->priv, dir, name, ino, 1, realname);
}

struct rd_ctx {
    struct ntfs *nt;
    gk_readdir_cb cb;
    void *opaque;
    int stopped;
    int bad;                     /* names that could not be decoded */
};

/* A dirent type for an entry libntfs-3g flags as a reparse point (or an
 * Interix file): what getattr will say. */
static int dt_of_inode(struct ntfs *nt, uint64_t ino)
{
    ntfs_inode *ni = iget(nt, ino);
    if (!ni)
        return DT_UNKNOWN;
    gk_stat st;
    int r = nt_getattr_ni(nt, ni, &st);
    iput(ni);
    return r < 0 ? DT_UNKNOWN : IFTODT(st.mode);
}

static int rd_fill(void *dirent, const ntfschar *name, const int name_len, const int name_type,
                   const s64 pos, const MFT_REF mref, const unsigned dt_type)
{
    (void)pos;
    struct rd_ctx *c = dirent;
    if (name_type == FILE_NAME_DOS)
        return 0;
    char *u = NULL;
    if (ntfs_ucstombs(name, name_len, &u, 0) < 0) {
        /* Windows allows names that are not valid UTF-16 (a lone
         * surrogate); no path can reach them here */
        c->bad++;
        gk_debug("ntfs: inode %llu: a name that is not valid UTF-16 (skipped)",
                 (unsigned long long)MREF(mref));
        free(u);
        return 0;
    }
    if (!strcmp(u, ".") || !strcmp(u, "..") || strchr(u, '/')) {
        free(u);
        return 0;
    }
    int dt;
    switch (dt_type) {
    case NTFS_DT_DIR: dt = DT_DIR; break;
    case NTFS_DT_LNK: dt = DT_LNK; break;
    case NTFS_DT_FIFO: dt = DT_FIFO; break;
    case NTFS_DT_SOCK: dt = DT_SOCK; break;
    case NTFS_DT_BLK: dt = DT_BLK; break;
    case NTFS_DT_CHR: dt = DT_CHR; break;
    case NTFS_DT_REPARSE: dt = dt_of_inode(c->nt, MREF(mref)); break;
    default: dt = DT_REG; break;
    }
    int r = c->cb(c->opaque, u, MREF(mref), dt);
    free(u);
    if (r) {
        c->stopped = 1;
        return 1;
    }
    return 0;
}

static int nt_readdir(gk_fs *fs, uint64_t dir, gk_readdir_cb cb, void *opaque)
{
    struct ntfs *nt = fs->priv;
    ntfs_inode *dni = NULL;
    int r = inode_get(nt, dir, 1, &dni);
    if (r < 0)
        return r;
    struct rd_ctx c = {.nt = nt, .cb = cb, .opaque = opaque};
    s64 pos = 0;
    r = ntfs_readdir(dni, &pos, &c, rd_fill);
    int e = errno;
    iput(dni);
    if (r && !c.stopped) {
        errno = e;
        return fail(lib_errno(), "directory inode %llu", (unsigned long long)dir);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Data                                                                */

static void rd_close(struct ntfs *nt)
{
    if (nt->rd_na)
        ntfs_attr_close(nt->rd_na);
    iput(nt->rd_ni);
    nt->rd_na = NULL;
    nt->rd_ni = NULL;
}

/* The unnamed data stream of ino, kept open for the next call. */
static int rd_open(struct ntfs *nt, uint64_t ino, ntfs_attr **out)
{
    if (nt->rd_na && nt->rd_ino == ino) {
        *out = nt->rd_na;
        return 0;
    }
    rd_close(nt);
    ntfs_inode *ni = NULL;
    int gr = inode_get(nt, ino, 0, &ni);
    if (gr < 0)
        return gr;
    if (is_dir(ni) && !(ni->flags & FILE_ATTR_REPARSE_POINT)) {
        iput(ni);
        return -EISDIR;
    }
    ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
    if (!na) {
        int e = errno == ENOENT ? ENOENT : lib_errno();
        iput(ni);
        if (e == ENOENT)
            return fail(EIO, "inode %llu: no data stream", (unsigned long long)ino);
        return fail(e, "inode %llu: data stream", (unsigned long long)ino);
    }
    nt->rd_ino = ino;
    nt->rd_ni = ni;
    nt->rd_na = na;
    *out = na;
    return 0;
}

/* Read [off, off+n) of a stream, short only at its end. */
static ssize_t stream_read(ntfs_attr *na, void *buf, size_t n, uint64_t off, uint64_t ino)
{
    if (na->data_size < 0 || off >= (uint64_t)na->data_size)
        return 0;
    if (n > (uint64_t)na->data_size - off)
        n = (size_t)((uint64_t)na->data_size - off);
    if (n > SSIZE_MAX)
        n = SSIZE_MAX;
    size_t done = 0;
    while (done < n) {
        s64 r = ntfs_attr_pread(na, (s64)(off + done), (s64)(n - done), (char *)buf + done);
        if (r < 0) {
            if (errno == EACCES && (na->data_flags & ATTR_IS_ENCRYPTED))
                return fail(EACCES, "inode %llu: encrypted file (EFS): its data cannot be read",
                            (unsigned long long)ino);
            return fail(lib_errno(), "inode %llu: reading at %llu", (unsigned long long)ino,
                        (unsigned long long)(off + done));
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    return (ssize_t)done;
}

static ssize_t nt_read(gk_fs *fs, uint64_t ino, void *buf, size_t n, uint64_t off)
{
    struct ntfs *nt = fs->priv;
    gk_ntfs_clear();
    ntfs_attr *na;
    int r = rd_open(nt, ino, &na);
    if (r < 0)
        return r;
    ssize_t got = stream_read(na, buf, n, off, ino);
    if (got < 0)
        rd_close(nt);                     /* do not keep a failing stream */
    return got;
}

static ssize_t nt_readlink(gk_fs *fs, uint64_t ino, char *buf, size_t bufsz)
{
    struct ntfs *nt = fs->priv;
    ntfs_inode *ni = NULL;
    int gr = inode_get(nt, ino, 0, &ni);
    if (gr < 0)
        return gr;
    char *t = NULL;
    int r = 0;
    if (ni->flags & FILE_ATTR_REPARSE_POINT) {
        REPARSE_POINT *rp = reparse_of(ni);
        le32 sel = rp ? rp->reparse_tag & IO_REPARSE_PLUGIN_SELECT : 0;
        if (rp && (sel == IO_REPARSE_TAG_MOUNT_POINT || sel == IO_REPARSE_TAG_SYMLINK ||
                   sel == IO_REPARSE_TAG_LX_SYMLINK))
            t = make_link(ni);
        if (!t)
            t = gk_asprintf(BAD_REPARSE_FMT, (long)(rp ? le32_to_cpu(rp->reparse_tag) : 0));
        free(rp);
    } else if ((ni->flags & FILE_ATTR_SYSTEM) && !is_dir(ni)) {
        ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
        INTX_FILE *f = NULL;
        int ir = na ? intx_read(na, &f) : -1;
        if (ir > 0 && f->magic == INTX_SYMBOLIC_LINK) {
            if (ntfs_ucstombs(intx_target(f), intx_target_len(na), &t, 0) < 0) {
                free(t);
                t = NULL;
                r = fail(EIO, "inode %llu: Interix symlink", (unsigned long long)ino);
            }
        } else {
            r = -EINVAL;
        }
        free(f);
        if (na)
            ntfs_attr_close(na);
    } else {
        r = -EINVAL;
    }
    iput(ni);
    if (r < 0)
        return r;
    size_t len = strlen(t);
    if (len > bufsz)
        len = bufsz;
    memcpy(buf, t, len);
    free(t);
    return (ssize_t)len;
}

/* ------------------------------------------------------------------ */
/* statvfs                                                             */

static int nt_statvfs(gk_fs *fs, gk_statvfs *sv)
{
    struct ntfs *nt = fs->priv;
    ntfs_volume *vol = nt->vol;
    gk_ntfs_clear();
    /* counting free clusters reads the whole $Bitmap: only when asked */
    if (!nt->free_known) {
        if (ntfs_volume_get_free_space(vol) < 0)
            return fail(lib_errno(), "counting free space");
        nt->free_known = 1;
    }
    memset(sv, 0, sizeof *sv);
    sv->bsize = sv->frsize = vol->cluster_size;
    sv->blocks = vol->nr_clusters > 0 ? (uint64_t)vol->nr_clusters : 0;
    s64 size = vol->free_clusters < 0 ? 0 : vol->free_clusters;
    sv->bfree = sv->bavail = (uint64_t)size;
    /* ntfs-3g's arithmetic: free MFT records on the free space, plus
     * those the MFT bitmap already has */
    int delta = (int)vol->cluster_size_bits - (int)vol->mft_record_size_bits;
    uint64_t fsize = (uint64_t)size;
    if (delta >= 0)
        fsize = delta < 63 && fsize <= (UINT64_MAX >> delta) ? fsize << delta : UINT64_MAX;
    else
        fsize = -delta < 64 ? fsize >> -delta : 0;
    uint64_t bm = vol->mftbmp_na && vol->mftbmp_na->allocated_size > 0 ?
                  (uint64_t)vol->mftbmp_na->allocated_size : 0;
    sv->files = (bm << 3) + fsize;
    uint64_t ffree = fsize + (vol->free_mft_records > 0 ? (uint64_t)vol->free_mft_records : 0);
    sv->ffree = sv->favail = ffree;
    sv->fsid = nt->serial;
    sv->flag = ST_RDONLY;
    sv->namemax = NTFS_MAX_NAME_LEN;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Extended attributes: named data streams as user.NAME, plus a few of
 * ntfs-3g's system.ntfs_* attributes (readable, never listed)          */

/* ntfs-3g offers user xattrs on regular files, directories and the root,
 * not on symlinks, special files or metadata files. */
static int user_xattrs_allowed(struct ntfs *nt, ntfs_inode *ni)
{
    if (!(ni->flags & (FILE_ATTR_SYSTEM | FILE_ATTR_REPARSE_POINT)) || ni->mft_no == FILE_root)
        return 1;
    if (ni->mft_no < FILE_first_user && !(ni->flags & FILE_ATTR_REPARSE_POINT))
        return 0;
    gk_stat st;
    if (nt_getattr_ni(nt, ni, &st) < 0)
        return 0;
    if (ni->flags & FILE_ATTR_REPARSE_POINT) {
        /* only what a plugin decodes as a file or directory (none of the
         * internal ones do) */
        return 0;
    }
    return S_ISREG(st.mode) || S_ISDIR(st.mode);
}

static ssize_t nt_listxattr(gk_fs *fs, uint64_t ino, char *buf, size_t bufsz)
{
    struct ntfs *nt = fs->priv;
    ntfs_inode *ni = NULL;
    int gr = inode_get(nt, ino, 0, &ni);
    if (gr < 0)
        return gr;
    if (!user_xattrs_allowed(nt, ni)) {
        iput(ni);
        return 0;
    }
    ntfs_attr_search_ctx *ctx = ntfs_attr_get_search_ctx(ni, NULL);
    if (!ctx) {
        iput(ni);
        return fail(EIO, "inode %llu", (unsigned long long)ino);
    }
    size_t total = 0;
    int fits = 1;
    /* a record holds a bounded number of attributes; the attribute list
     * bounds the extents: the library's lookup walks each once */
    while (!ntfs_attr_lookup(AT_DATA, NULL, 0, CASE_SENSITIVE, 0, NULL, 0, ctx)) {
        ATTR_RECORD *a = ctx->attr;
        if (!a->name_length)
            continue;
        char *n = NULL;
        if (ntfs_ucstombs((ntfschar *)((u8 *)a + le16_to_cpu(a->name_offset)), a->name_length,
                          &n, 0) < 0) {
            free(n);
            continue;
        }
        /* ntfs-3g keeps its own "$XATTR_..." style streams out of the list */
        size_t l = strlen(n);
        if (l > 0) {
            size_t need = sizeof XATTR_USER - 1 + l + 1;
            if (fits && bufsz >= total + need) {
                memcpy(buf + total, XATTR_USER, sizeof XATTR_USER - 1);
                memcpy(buf + total + sizeof XATTR_USER - 1, n, l + 1);
            } else {
                fits = 0;
            }
            total += need;
        }
        free(n);
    }
    int e = errno;
    ntfs_attr_put_search_ctx(ctx);
    iput(ni);
    if (e != ENOENT) {
        errno = e;
        return fail(lib_errno(), "inode %llu: attributes", (unsigned long long)ino);
    }
    return (ssize_t)total;
}

/* Copy a value of len bytes the getxattr(2) way. */
static ssize_t xval(const void *v, size_t len, void *buf, size_t bufsz)
{
    if (bufsz == 0)
        return (ssize_t)len;
    if (bufsz < len) {
        gk_error("%s", strerror(ERANGE));
        return -ERANGE;
    }
    memcpy(buf, v, len);
    return (ssize_t)len;
}

static ssize_t system_xattr(struct ntfs *nt, ntfs_inode *ni, const char *name, void *buf,
                            size_t bufsz)
{
    (void)nt;
    if (!strcmp(name, "system.ntfs_attrib") || !strcmp(name, "system.ntfs_attrib_be")) {
        uint32_t a = le32_to_cpu(ni->flags);
        if (is_dir(ni))
            a |= 0x10;                      /* FILE_ATTRIBUTE_DIRECTORY */
        uint8_t v[4];
        int be = name[strlen(name) - 1] == 'e';
        for (int i = 0; i < 4; i++)
            v[i] = (uint8_t)(a >> (be ? 24 - 8 * i : 8 * i));
        return xval(v, 4, buf, bufsz);
    }
    if (!strcmp(name, "system.ntfs_crtime") || !strcmp(name, "system.ntfs_crtime_be")) {
        uint64_t t = (uint64_t)sle64_to_cpu(ni->creation_time);
        uint8_t v[8];
        int be = name[strlen(name) - 1] == 'e';
        for (int i = 0; i < 8; i++)
            v[i] = (uint8_t)(t >> (be ? 56 - 8 * i : 8 * i));
        return xval(v, 8, buf, bufsz);
    }
    if (!strcmp(name, "system.ntfs_reparse_data")) {
        if (!(ni->flags & FILE_ATTR_REPARSE_POINT))
            return -ENODATA;
        s64 len = 0;
        void *v = ntfs_attr_readall(ni, AT_REPARSE_POINT, NULL, 0, &len);
        if (!v)
            return fail(lib_errno(), "inode %llu: reparse data", (unsigned long long)ni->mft_no);
        ssize_t r = len > XATTR_VALUE_MAX ? fail(E2BIG, "%s", name) : xval(v, (size_t)len, buf, bufsz);
        free(v);
        return r;
    }
    return -ENODATA;
}

static ssize_t nt_getxattr(gk_fs *fs, uint64_t ino, const char *name, void *buf, size_t bufsz)
{
    struct ntfs *nt = fs->priv;
    ntfs_inode *ni = NULL;
    int gr = inode_get(nt, ino, 0, &ni);
    if (gr < 0)
        return gr;
    ssize_t r;
    if (!strncmp(name, "system.", 7)) {
        r = system_xattr(nt, ni, name, buf, bufsz);
        iput(ni);
        return r;
    }
    if (strncmp(name, XATTR_USER, sizeof XATTR_USER - 1) != 0 ||
        !name[sizeof XATTR_USER - 1] || !user_xattrs_allowed(nt, ni)) {
        iput(ni);
        return -ENODATA;
    }
    ntfschar *sname = NULL;
    int slen = ntfs_mbstoucs(name + sizeof XATTR_USER - 1, &sname);
    if (slen <= 0) {
        free(sname);
        iput(ni);
        return -ENODATA;
    }
    ntfs_attr *na = ntfs_attr_open(ni, AT_DATA, sname, (u32)slen);
    free(sname);
    if (!na) {
        iput(ni);
        return -ENODATA;
    }
    if (na->data_size < 0) {
        r = fail(EIO, "inode %llu: stream %s: negative size", (unsigned long long)ino, name);
    } else if (na->data_size > XATTR_VALUE_MAX) {
        /* what reading it through the FUSE mount gives */
        gk_error("%s: %s (a %lld-byte stream: more than an extended attribute holds)", name,
                 strerror(E2BIG), (long long)na->data_size);
        r = -E2BIG;
    } else if (bufsz == 0) {
        r = (ssize_t)na->data_size;
    } else if (bufsz < (size_t)na->data_size) {
        gk_error("%s: %s", name, strerror(ERANGE));
        r = -ERANGE;
    } else {
        r = stream_read(na, buf, (size_t)na->data_size, 0, ino);
    }
    ntfs_attr_close(na);
    iput(ni);
    return r;
}

/* ------------------------------------------------------------------ */
/* Extents (for sparse copies)                                         */

static int nt_fmap(gk_fs *fs, uint64_t ino, gk_fmap **out, size_t *n)
{
    struct ntfs *nt = fs->priv;
    gk_ntfs_clear();
    *out = NULL;
    *n = 0;
    ntfs_attr *na;
    int r = rd_open(nt, ino, &na);
    if (r < 0)
        return r;
    uint64_t size = na->data_size > 0 ? (uint64_t)na->data_size : 0;
    if (size == 0)
        return 0;
    /* Resident, compressed or encrypted data: one run, the reader sorts
     * the rest out (a compression unit's holes need decompression). */
    if (!NAttrNonResident(na) || (na->data_flags & (ATTR_COMPRESSION_MASK | ATTR_IS_ENCRYPTED))) {
        *out = gk_malloc(sizeof **out);
        (*out)[0] = (gk_fmap){0, size};
        *n = 1;
        return 0;
    }
    if (ntfs_attr_map_whole_runlist(na) < 0) {
        int e = lib_errno();
        rd_close(nt);
        return fail(e, "inode %llu: runlist", (unsigned long long)ino);
    }
    uint64_t cs = nt->vol->cluster_size;
    uint64_t init = na->initialized_size > 0 ? (uint64_t)na->initialized_size : 0;
    if (init > size)
        init = size;
    gk_fmap *v = NULL;
    size_t nv = 0, cap = 0;
    /* the runlist is as long as the attribute's mapping pairs: bounded by
     * the MFT records that hold them */
    for (runlist_element *rl = na->rl; rl && rl->length; rl++) {
        if (rl->lcn < 0 || rl->vcn < 0 || rl->length < 0)
            continue;                      /* a hole (or not mapped: none left) */
        if ((uint64_t)rl->vcn > UINT64_MAX / cs || (uint64_t)rl->length > UINT64_MAX / cs)
            break;
        uint64_t a = (uint64_t)rl->vcn * cs, len = (uint64_t)rl->length * cs;
        if (a >= init)
            break;                         /* beyond what was written: zeros */
        uint64_t b = len > init - a ? init : a + len;
        if (nv && v[nv - 1].logical + v[nv - 1].len == a) {
            v[nv - 1].len += b - a;
            continue;
        }
        if (nv == cap) {
            cap = cap ? cap * 2 : 16;
            v = gk_realloc(v, cap * sizeof *v);
        }
        v[nv++] = (gk_fmap){a, b - a};
    }
    *out = v;
    *n = nv;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Open and close                                                      */

static void nt_close(gk_fs *fs)
{
    struct ntfs *nt = fs->priv;
    if (!nt)
        return;
    rd_close(nt);
    if (nt->vol)
        ntfs_umount(nt->vol, FALSE);
    free(nt->iopriv);
    free(nt);
    fs->priv = NULL;
}

static const struct gk_fs_ops ntfs_ops = {
    .name = "ntfs",
    .getattr = nt_getattr,
    .lookup = nt_lookup,
    .lookup_nocase = nt_lookup_nocase,
    .readdir = nt_readdir,
    .read = nt_read,
    .readlink = nt_readlink,
    .statvfs = nt_statvfs,
    .listxattr = nt_listxattr,
    .getxattr = nt_getxattr,
    .fmap = nt_fmap,
    .close = nt_close,
};

/* Warn once per device and process (inspection opens a filesystem, then
 * mounting opens it again). */
static int first_warning(gk_dev *dev)
{
    static gk_dev *seen[32];
    static unsigned nseen;
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    int first = 1;
    pthread_mutex_lock(&lock);
    for (unsigned i = 0; i < nseen && i < 32; i++)
        if (seen[i] == dev)
            first = 0;
    if (first)
        seen[nseen++ % 32] = dev;
    pthread_mutex_unlock(&lock);
    return first;
}

/* Is Windows hibernated?  What ntfs_volume_check_hiberfile looks at (the
 * first 4 KiB of /hiberfil.sys: "hibr"/"HIBR", or too short on a
 * non-system volume), found with our bounded lookup. */
static int hibernated(struct ntfs *nt)
{
    ntfs_inode *root = iget(nt, FILE_root);
    if (!root)
        return 0;
    ntfschar *u = NULL;
    int ul = ntfs_mbstoucs("hiberfil.sys", &u);
    u64 mref = 0;
    int found = ul > 0 && index_find(root, u, ul, 0, &mref, NULL) == 0;
    free(u);
    iput(root);
    if (!found)
        return 0;
    ntfs_inode *ni = iget(nt, MREF(mref));
    ntfs_attr *na = ni ? ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0) : NULL;
    int hib = 0;
    if (na) {
        char buf[4096];
        s64 r = ntfs_attr_pread(na, 0, sizeof buf, buf);
        if (r >= 0 && r < (s64)sizeof buf)
            hib = 1;
        else if (r == (s64)sizeof buf && (!memcmp(buf, "hibr", 4) || !memcmp(buf, "HIBR", 4)))
            hib = 1;
        ntfs_attr_close(na);
    }
    iput(ni);
    return hib;
}

/* How Windows left the volume, in the order libntfs-3g checks before a
 * read-write mount (ntfs_volume_check_hiberfile, then
 * ntfs_volume_check_logfile). */
enum vol_state {
    VOL_CLEAN,
    VOL_HIBERNATED,     /* /hiberfil.sys active                         */
    VOL_CACHED,         /* $LogFile restart page 2.0: Fast Startup      */
    VOL_UNCLEAN,        /* $LogFile not clean                           */
    VOL_NOLOG,          /* $LogFile or its data cannot be opened        */
};

static enum vol_state vol_state(struct ntfs *nt)
{
    if (hibernated(nt))
        return VOL_HIBERNATED;
    int unclean = 0, cached = 0;
    ntfs_inode *ni = iget(nt, FILE_LogFile);
    ntfs_attr *na = ni ? ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0) : NULL;
    if (na) {
        RESTART_PAGE_HEADER *rp = NULL;
        if (!ntfs_check_logfile(na, &rp) || !ntfs_is_logfile_clean(na, rp))
            unclean = 1;
        /* version 2.0 restart pages: Windows kept metadata in its cache
         * (Fast Startup) */
        if (rp && rp->major_ver == const_cpu_to_le16(2) && rp->minor_ver == const_cpu_to_le16(0))
            cached = 1;
        free(rp);
        ntfs_attr_close(na);
    }
    iput(ni);
    return !na ? VOL_NOLOG : cached ? VOL_CACHED : unclean ? VOL_UNCLEAN : VOL_CLEAN;
}

/* Windows left the volume in a state where the disk is not the whole
 * truth: say so (ntfs-3g refuses to mount such a volume read-write and
 * falls back to read-only with a message). */
static void check_state(struct ntfs *nt)
{
    const char *name = nt->dev->name;
    if (!first_warning(nt->dev))
        return;
    gk_ntfs_clear();
    switch (vol_state(nt)) {
    case VOL_HIBERNATED:
        gk_warn("%s: Windows is hibernated: reading the NTFS filesystem as it was when "
                "Windows hibernated (what Windows held in memory is missing); resume and "
                "shut down Windows fully for a consistent view", name);
        return;
    case VOL_CACHED:
        gk_warn("%s: Windows kept NTFS metadata in its cache (Fast Startup or hibernation): "
                "reading the filesystem as it is on disk, recent changes may be missing", name);
        return;
    case VOL_UNCLEAN:
        gk_warn("%s: the NTFS journal ($LogFile) is not clean (Windows was not shut down "
                "cleanly): reading the filesystem as it is on disk, recent changes may be missing",
                name);
        return;
    case VOL_CLEAN:
    case VOL_NOLOG:
        break;
    }
    if (nt->vol->flags & VOLUME_IS_DIRTY)
        gk_warn("%s: the NTFS volume is marked dirty (Windows wants chkdsk to run on it): reading "
                "it as it is", name);
}

/* ------------------------------------------------------------------ */
/* The root index must be a tree                                       */

/* libntfs-3g looks names up in the root directory (and in /.NTFS-3G, for
 * link targets on other drives) with ntfs_inode_lookup_by_name, whose
 * descent has no bound: a child pointer leading back up would loop for
 * ever.  So those two indexes are walked once at mount, each block at
 * most once, at most MAX_PARENT_VCN deep. */
#define TREE_MAX_BLOCKS (1u << 16)

/* Collect the child VCNs of the entries in ih (avail bytes from ih). */
static int tree_entries(const INDEX_HEADER *ih, size_t avail, VCN **kids, size_t *nkids,
                        size_t *cap)
{
    size_t off = le32_to_cpu(ih->entries_offset), end = le32_to_cpu(ih->index_length);
    if (end > avail || off < sizeof(INDEX_HEADER) || off > end)
        return -1;
    while (off + sizeof(INDEX_ENTRY_HEADER) <= end) {
        const INDEX_ENTRY *ie = (const INDEX_ENTRY *)(const void *)((const u8 *)ih + off);
        size_t len = le16_to_cpu(ie->length);
        if (len < sizeof(INDEX_ENTRY_HEADER) || len > end - off || (len & 7))
            return -1;
        if (ie->ie_flags & INDEX_ENTRY_NODE) {
            if (len < sizeof(INDEX_ENTRY_HEADER) + sizeof(VCN))
                return -1;
            if (*nkids == *cap) {
                *cap = *cap ? *cap * 2 : 16;
                *kids = gk_realloc(*kids, *cap * sizeof **kids);
            }
            (*kids)[(*nkids)++] = sle64_to_cpu(*(const sle64 *)(const void *)((const u8 *)ie + len - 8));
        }
        if (ie->ie_flags & INDEX_ENTRY_END)
            return 0;
        off += len;
    }
    return -1;                              /* no end entry */
}

static int index_tree_ok(struct ntfs *nt, ntfs_inode *ni)
{
    s64 irlen = 0;
    INDEX_ROOT *ir = ntfs_attr_readall(ni, AT_INDEX_ROOT, NTFS_INDEX_I30, 4, &irlen);
    if (!ir || irlen < (s64)sizeof(INDEX_ROOT)) {
        free(ir);
        return -1;
    }
    VCN *kids = NULL;
    size_t nkids = 0, cap = 0;
    int ok = tree_entries(&ir->index, (size_t)irlen - offsetof(INDEX_ROOT, index), &kids,
                          &nkids, &cap) == 0;
    u32 bs = le32_to_cpu(ir->index_block_size);
    free(ir);
    if (!ok || nkids == 0) {
        free(kids);
        return ok ? 0 : -1;
    }
    ntfs_attr *na = ntfs_attr_open(ni, AT_INDEX_ALLOCATION, NTFS_INDEX_I30, 4);
    unsigned bits = nt->vol->cluster_size <= bs ? nt->vol->cluster_size_bits : NTFS_BLOCK_SIZE_BITS;
    uint64_t nblocks = na && bs >= NTFS_BLOCK_SIZE && bs <= 65536 && !(bs & (bs - 1)) &&
                       na->data_size > 0 ? (uint64_t)na->data_size / bs : 0;
    if (!na || nblocks == 0 || nblocks > TREE_MAX_BLOCKS) {
        if (na)
            ntfs_attr_close(na);
        free(kids);
        return -1;
    }
    uint8_t *seen = gk_calloc((size_t)(nblocks + 7) / 8, 1);
    INDEX_BLOCK *ib = gk_malloc(bs);
    /* breadth first, level by level: kids[lo, hi) is the current level */
    size_t lo = 0;
    for (int depth = 1; ok && lo < nkids; depth++) {
        size_t hi = nkids;
        if (depth > MAX_PARENT_VCN)
            ok = 0;
        for (size_t i = lo; ok && i < hi; i++) {
            VCN vcn = kids[i];
            if (vcn < 0 || (uint64_t)vcn > (UINT64_MAX >> bits) ||
                (((uint64_t)vcn << bits) % bs) || ((uint64_t)vcn << bits) / bs >= nblocks) {
                ok = 0;
                break;
            }
            uint64_t b = ((uint64_t)vcn << bits) / bs;
            if (seen[b / 8] & (1u << (b % 8))) {
                ok = 0;                     /* reached twice: not a tree */
                break;
            }
            seen[b / 8] |= (uint8_t)(1u << (b % 8));
            if (ntfs_attr_mst_pread(na, (s64)((uint64_t)vcn << bits), 1, bs, ib) != 1 ||
                ntfs_index_block_inconsistent(ib, bs, ni->mft_no, vcn) ||
                tree_entries(&ib->index, bs - offsetof(INDEX_BLOCK, index), &kids, &nkids,
                             &cap) < 0)
                ok = 0;
        }
        lo = hi;
    }
    free(ib);
    free(seen);
    free(kids);
    ntfs_attr_close(na);
    return ok ? 0 : -1;
}

/* The root index, and /.NTFS-3G's when there is one. */
static int indexes_ok(struct ntfs *nt, ntfs_inode *root)
{
    if (index_tree_ok(nt, root) < 0)
        return fail(EIO, "root directory: its index is not a tree (corrupt)");
    ntfschar *u = NULL;
    int ul = ntfs_mbstoucs(".NTFS-3G", &u);
    u64 mref = 0;
    int found = ul > 0 && index_find(root, u, ul, 0, &mref, NULL) == 0;
    free(u);
    if (!found)
        return 0;
    ntfs_inode *ni = iget(nt, MREF(mref));
    int r = ni && is_dir(ni) && index_tree_ok(nt, ni) < 0 ? -1 : 0;
    iput(ni);
    if (r < 0)
        return fail(EIO, "/.NTFS-3G: its index is not a tree (corrupt)");
    return 0;
}

/* "-FVE-FS-" where NTFS has "NTFS    ": a BitLocker volume. */
static int boot_oem(gk_dev *dev, char oem[8])
{
    return dev->size >= 512 && gk_pread(dev, oem, 8, 3) == 0 ? 0 : -1;
}

static int nt_probe(gk_dev *dev)
{
    char oem[8];
    return boot_oem(dev, oem) == 0 && memcmp(oem, "NTFS    ", 8) == 0;
}

static int bitlocker_refusal(gk_dev *dev)
{
    (void)dev;
    gk_error("BitLocker-encrypted volume: guestkit cannot unlock BitLocker (yet); "
             "unlock it in Windows or decrypt the image first");
    return -ENOTSUP;
}

/* libntfs-3g's read-only volume on dev into nt (vol, iopriv, dev): 0, or
 * -errno as libntfs-3g left it (EINVAL: not NTFS, EIO: corrupt...). */
static int vol_mount(gk_dev *dev, struct ntfs *nt)
{
    gk_ntfs_init();
    gk_ntfs_clear();
    struct ntfs_device *nd = gk_ntfs_device_new(dev);
    if (!nd)
        return -ENOMEM;
    void *iopriv = gk_ntfs_device_private(nd);
    ntfs_volume *vol = ntfs_device_mount(nd, NTFS_MNT_RDONLY);
    if (!vol) {
        int e = errno ? errno : EIO;
        ntfs_device_free(nd);
        free(iopriv);
        return -e;
    }
    nt->vol = vol;
    nt->iopriv = iopriv;
    nt->dev = dev;
    return 0;
}

static void vol_unmount(struct ntfs *nt)
{
    ntfs_umount(nt->vol, FALSE);
    free(nt->iopriv);
    nt->vol = NULL;
    nt->iopriv = NULL;
}

static int nt_open(gk_dev *dev, const gk_fs_open_args *a, gk_fs **out)
{
    if (a->rw) {
        gk_error("writing NTFS filesystems is not supported (the ntfs driver is read-only)");
        return -EROFS;
    }
    if (a->options && *a->options && strcmp(a->options, "ro") != 0) {
        gk_error("unknown mount options \"%s\"", a->options);
        return -EINVAL;
    }
    char oem[8];
    if (boot_oem(dev, oem) == 0 && memcmp(oem, "-FVE-FS-", 8) == 0)
        return bitlocker_refusal(dev);
    struct ntfs *nt = gk_calloc(1, sizeof *nt);
    int mr = vol_mount(dev, nt);
    if (mr < 0) {
        if (mr == -EINVAL && memcmp(oem, "NTFS    ", 8) != 0)
            gk_error("not an NTFS filesystem");
        else
            gk_error("NTFS: %s", gk_ntfs_reason(-mr));
        free(nt);
        return -EINVAL;
    }
    ntfs_volume *vol = nt->vol;
    void *iopriv = nt->iopriv;
    ntfs_create_lru_caches(vol);
    /* ntfs-3g's defaults: metafiles hidden, hidden files shown, names
     * starting with a dot not hidden; absolute link targets from our root */
    ntfs_set_shown_files(vol, FALSE, TRUE, FALSE);
    vol->abs_mnt_point = "";
    uint8_t serial[8];
    if (gk_pread(dev, serial, 8, 0x48) == 0)
        nt->serial = gk_le64(serial);
    /* The root must be a directory, or every path fails later. */
    ntfs_inode *root = iget(nt, FILE_root);
    if (!root || !is_dir(root)) {
        int e = root ? EIO : lib_errno();
        iput(root);
        fail(e, "root directory");
        ntfs_umount(vol, FALSE);
        free(iopriv);
        free(nt);
        return -EIO;
    }
    int ir = indexes_ok(nt, root);
    iput(root);
    if (ir < 0) {
        ntfs_umount(vol, FALSE);
        free(iopriv);
        free(nt);
        return -EIO;
    }
    check_state(nt);
    gk_fs *g = gk_fs_alloc(&ntfs_ops, dev, "ntfs", nt);
    g->root_ino = FILE_root;
    *out = g;
    return 0;
}

static const char *const ntfs_types[] = {"ntfs", NULL};

const struct gk_fs_driver gk_fsdrv_ntfs = {
    .name = "ntfs",
    .types = ntfs_types,
    .probe = nt_probe,
    .open = nt_open,
};

/* BitLocker (blkid's TYPE): nothing to mount without a key, but a clear
 * word for whoever tries. */
static int bl_open(gk_dev *dev, const gk_fs_open_args *a, gk_fs **out)
{
    (void)a; (void)out;
    return bitlocker_refusal(dev);
}

static const char *const bitlocker_types[] = {"BitLocker", NULL};

const struct gk_fs_driver gk_fsdrv_bitlocker = {
    .name = "bitlocker",
    .types = bitlocker_types,
    .open = bl_open,
};

/* ------------------------------------------------------------------ */
/* ntfs-3g.probe and ntfscat -i (gfsh's ntfs-3g-probe and ntfscat-i)    */

int gk_ntfs_probe(gk_dev *dev, int rw)
{
    struct ntfs nt = {0};
    int r = vol_mount(dev, &nt);
    if (r < 0)
        return ntfs_volume_error(-r);
    int code = NTFS_VOLUME_OK;
    if (rw) {
        /* what a read-write mount refuses, found with our bounded lookups
         * (the root index checked to be a tree first) */
        ntfs_inode *root = iget(&nt, FILE_root);
        if (!root || !is_dir(root) || indexes_ok(&nt, root) < 0)
            code = NTFS_VOLUME_CORRUPT;
        iput(root);
        if (code == NTFS_VOLUME_OK) {
            switch (vol_state(&nt)) {
            case VOL_HIBERNATED: case VOL_CACHED: code = NTFS_VOLUME_HIBERNATED; break;
            case VOL_UNCLEAN: code = NTFS_VOLUME_UNCLEAN_UNMOUNT; break;
            case VOL_NOLOG: code = NTFS_VOLUME_CORRUPT; break;
            case VOL_CLEAN: break;
            }
        }
    }
    vol_unmount(&nt);
    return code;
}

int gk_ntfs_cat_inode(gk_dev *dev, uint64_t ino, int (*sink)(void *ud, const void *buf, size_t n),
                      void *ud)
{
    struct ntfs nt = {0};
    int r = vol_mount(dev, &nt);
    if (r < 0) {
        gk_error("NTFS: %s", gk_ntfs_reason(-r));
        return -1;
    }
    ntfs_inode *ni = NULL;
    ntfs_attr *na = NULL;
    char *buf = NULL;
    int sinkfail = 0;
    r = inode_get(&nt, ino, 0, &ni);
    if (r == 0) {
        na = ntfs_attr_open(ni, AT_DATA, AT_UNNAMED, 0);
        if (!na && errno == ENOENT) {
            gk_error("inode %llu has no data (no unnamed $DATA attribute)",
                     (unsigned long long)ino);
            r = -ENOENT;
        } else if (!na) {
            r = fail(lib_errno(), "inode %llu: data", (unsigned long long)ino);
        }
    }
    /* $MFT and $MFTMirr come out with their fixups applied, record by
     * record, as ntfscat prints them; other data as it is */
    u32 rec = ino < 2 ? nt.vol->mft_record_size : 0;
    size_t bufsz = rec > 65536 ? rec : 65536;
    if (r == 0)
        buf = gk_malloc(bufsz);
    for (s64 off = 0; r == 0;) {
        s64 got = rec ? ntfs_attr_mst_pread(na, off, (s64)(bufsz / rec), rec, buf)
                      : ntfs_attr_pread(na, off, (s64)bufsz, buf);
        if (got < 0) {
            r = fail(lib_errno(), "inode %llu: reading at %lld", (unsigned long long)ino,
                     (long long)off);
            break;
        }
        if (rec)
            got *= rec;
        if (got == 0)
            break;
        if (sink(ud, buf, (size_t)got) < 0) {
            sinkfail = 1;
            break;
        }
        off += got;
    }
    free(buf);
    if (na)
        ntfs_attr_close(na);
    iput(ni);
    vol_unmount(&nt);
    return r < 0 ? -1 : sinkfail ? -2 : 0;
}
