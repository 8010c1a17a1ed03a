/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The filesystem driver interface (private to fs/).
 *
 * A driver is one struct gk_fs_driver in the table of fs/fsdrv.c: adding a
 * filesystem means one new file (fs/NAME.c, plus NAME-*.c for its parts)
 * and one line in that table.  gk_fs_open_with() picks the driver by the
 * blkid TYPE, or by asking each driver's probe when there is none.
 *
 * Conventions every driver follows:
 * - Operations return 0 (or a byte count / length) on success and a
 *   negative errno on failure, with the reason in gk_error() ("inode 12:
 *   extent tree: bad magic").  They do not need to set errno: the VFS turns
 *   the return value into errno for its callers.  A corrupt structure is
 *   -EIO (-EUCLEAN where the kernel says so); a name that is not there is
 *   -ENOENT, and so on, as the kernel's driver would answer.
 * - Every offset, length, count and pointer read from the device is
 *   untrusted: checked before use, loops bounded, memory bounded (see
 *   HACKING, "Resources").  Never trust an on-disk size for an allocation.
 * - Inode numbers are the driver's own 64-bit ids (root_ino is set by
 *   open); getattr's st->ino is what stat would show.
 * - Write operations may be NULL: the VFS answers EROFS.  A filesystem
 *   opened read-only (fs->readonly) never writes to its device, even to
 *   replay a journal (replay into memory instead).
 * - sync makes everything done so far durable and consistent on the device
 *   (for ext: the pending journal transaction committed and checkpointed);
 *   close implies sync on a read-write filesystem.
 * - Threading: one gk_fs is used by one thread at a time unless the driver
 *   says otherwise in its file header (gmount serialises or uses per-thread
 *   state as each driver documents).
 */
#ifndef GK_FS_INT_H
#define GK_FS_INT_H

#include "fs.h"

struct gk_fs_ops {
    const char *name;                                   /* "ext", "xfs", ...  */

    /* ---- reading ---- */
    int (*getattr)(gk_fs *fs, uint64_t ino, gk_stat *st);
    /* One name in directory dir: 0 and *ino, or -ENOENT, -ENOTDIR, ... */
    int (*lookup)(gk_fs *fs, uint64_t dir, const char *name, uint64_t *ino);
    /* Optional: the same ignoring case the way the filesystem's own OS
     * does: the first name in the directory's own order that matches
     * (NTFS: by the volume's $UpCase table).  NULL: the VFS takes the first
     * readdir name that matches ignoring ASCII case, as libguestfs does.
     * *realname: that entry's name as stored (malloc'd). */
    int (*lookup_nocase)(gk_fs *fs, uint64_t dir, const char *name, uint64_t *ino,
                         char **realname);
    /* cb for each entry except "." and ".."; cb returning non-zero stops
     * (readdir then returns 0). */
    int (*readdir)(gk_fs *fs, uint64_t dir, gk_readdir_cb cb, void *opaque);
    /* Up to n bytes at off: bytes read (0 at EOF), or -errno. */
    ssize_t (*read)(gk_fs *fs, uint64_t ino, void *buf, size_t n, uint64_t off);
    /* Symlink target (not NUL-terminated), like readlink(2): the bytes
     * copied, at most bufsz; or -errno. */
    ssize_t (*readlink)(gk_fs *fs, uint64_t ino, char *buf, size_t bufsz);
    int (*statvfs)(gk_fs *fs, gk_statvfs *sv);
    /* NUL-separated names ("user.foo\0security.selinux\0"): the total
     * length; with bufsz too small (0 included) the length needed and
     * nothing copied, like llistxattr(2) with a size query.  NULL: none. */
    ssize_t (*listxattr)(gk_fs *fs, uint64_t ino, char *buf, size_t bufsz);
    /* The value's full length (copied when it fits bufsz), -ENODATA. */
    ssize_t (*getxattr)(gk_fs *fs, uint64_t ino, const char *name, void *buf, size_t bufsz);
    /* Data runs of a regular file, in order; caller frees *out.  NULL op:
     * no holes known, the whole file is data. */
    int (*fmap)(gk_fs *fs, uint64_t ino, gk_fmap **out, size_t *n);
    /* Subvolumes (btrfs), see gk_fs_subvolumes.  NULL: none. */
    int (*subvolumes)(gk_fs *fs, gk_subvol **out, size_t *n);

    /* ---- writing (NULL: EROFS); names are single components ---- */
    /* New regular file; *ino set.  -EEXIST if the name exists. */
    int (*create)(gk_fs *fs, uint64_t dir, const char *name, uint32_t mode, uint32_t uid,
                  uint32_t gid, uint64_t *ino);
    /* Bytes written (all of n unless an error), or -errno (-ENOSPC, -EFBIG). */
    ssize_t (*write)(gk_fs *fs, uint64_t ino, const void *buf, size_t n, uint64_t off);
    int (*truncate)(gk_fs *fs, uint64_t ino, uint64_t size);
    int (*mkdir)(gk_fs *fs, uint64_t dir, const char *name, uint32_t mode, uint32_t uid,
                 uint32_t gid, uint64_t *ino);
    int (*rmdir)(gk_fs *fs, uint64_t dir, const char *name);       /* -ENOTEMPTY */
    int (*unlink)(gk_fs *fs, uint64_t dir, const char *name);      /* not dirs   */
    /* flags as renameat2 (RENAME_NOREPLACE); replaces a target otherwise. */
    int (*rename)(gk_fs *fs, uint64_t olddir, const char *oldname, uint64_t newdir,
                  const char *newname, unsigned flags);
    int (*link)(gk_fs *fs, uint64_t ino, uint64_t newdir, const char *newname);
    int (*symlink)(gk_fs *fs, uint64_t dir, const char *name, const char *target,
                   uint32_t uid, uint32_t gid, uint64_t *ino);
    /* Device nodes, FIFOs, sockets: mode carries S_IFMT. */
    int (*mknod)(gk_fs *fs, uint64_t dir, const char *name, uint32_t mode, uint64_t rdev,
                 uint32_t uid, uint32_t gid, uint64_t *ino);
    int (*chmod)(gk_fs *fs, uint64_t ino, uint32_t mode);        /* permission bits */
    int (*chown)(gk_fs *fs, uint64_t ino, uint32_t uid, uint32_t gid); /* (uint32_t)-1: keep */
    /* times[0] atime, times[1] mtime; tv_nsec UTIME_OMIT / UTIME_NOW as utimensat. */
    int (*utimens)(gk_fs *fs, uint64_t ino, const struct timespec times[2]);
    /* flags XATTR_CREATE / XATTR_REPLACE as setxattr(2). */
    int (*setxattr)(gk_fs *fs, uint64_t ino, const char *name, const void *val, size_t len,
                    int flags);
    int (*removexattr)(gk_fs *fs, uint64_t ino, const char *name);
    int (*sync)(gk_fs *fs);

    void (*close)(gk_fs *fs);
};

struct gk_fs {
    const struct gk_fs_ops *ops;
    gk_dev *dev;           /* reference held                                  */
    uint64_t root_ino;
    int readonly;
    char *type;            /* "ext4", "xfs", "vfat", ... (as blkid names it)   */
    void *priv;
};

struct gk_fs_driver {
    const char *name;              /* "ext", "xfs", "btrfs", "vfat", "ntfs"   */
    const char *const *types;      /* blkid TYPEs it mounts, NULL-terminated  */
    /* When blkid found no type: 1 if dev looks like ours (a magic check;
     * cheap, bounded).  NULL: only by type. */
    int (*probe)(gk_dev *dev);
    /* Open dev (a->fstype is one of types, or NULL after probe).  Fill a
     * new gk_fs from gk_fs_alloc(); 0, or -errno with gk_error().
     * Options the driver does not know: -EINVAL naming them. */
    int (*open)(gk_dev *dev, const gk_fs_open_args *a, gk_fs **out);
};

/* A zeroed gk_fs holding a reference to dev, type copied. */
gk_fs *gk_fs_alloc(const struct gk_fs_ops *ops, gk_dev *dev, const char *type, void *priv);

/* A stand-in for a filesystem that could not be mounted (fs/unreadable.c):
 * its root is an empty read-only directory, and looking inside it fails
 * (ENOTSUP) with reason as the message.  type is what blkid said. */
gk_fs *gk_fs_unreadable(const char *type, const char *reason);

/* SHA-256 of n bytes, for drivers that check or derive with it (fs/fsdrv.c:
 * OpenSSL's plain SHA-256, not EVP, whose provider tables cost a short-lived
 * tool more to relocate at start-up than the digest ever does). */
void gk_sha256(const void *p, size_t n, uint8_t out[32]);

/* The drivers (one line each in fs/fsdrv.c's table). */
extern const struct gk_fs_driver gk_fsdrv_ext;
extern const struct gk_fs_driver gk_fsdrv_fat;
extern const struct gk_fs_driver gk_fsdrv_btrfs;
extern const struct gk_fs_driver gk_fsdrv_xfs;
extern const struct gk_fs_driver gk_fsdrv_ntfs;
extern const struct gk_fs_driver gk_fsdrv_bitlocker;

#endif
