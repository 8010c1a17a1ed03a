/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* guestkit filesystems and the guest VFS (public API).
 *
 * A gk_fs is one opened filesystem (opaque: drivers live behind fs/fs-int.h);
 * the VFS mounts several of them into one guest tree and resolves guest
 * paths inside it: an absolute symlink resolves against the guest's root,
 * ".." stops at "/", at most GK_MAXSYMLINKS links are followed (ELOOP).
 *
 * Errors follow lib/blk.h: the public functions here return -1/NULL with
 * gk_error() and set errno (ENOENT, ENOTDIR, ELOOP, EIO, EISDIR, EINVAL,
 * EROFS, ...) so callers can tell guest conditions apart.  (Driver
 * operations underneath return -errno; see fs/fs-int.h.)
 */
#ifndef GK_VFS_H
#define GK_VFS_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include "blk.h"

#define GK_MAXSYMLINKS 40

/* ------------------------------------------------------------------ */
/* Filesystems (fs/fsdrv.c dispatches to the drivers)                  */

typedef struct gk_fs gk_fs;

typedef struct gk_stat {
    uint64_t dev;          /* filesystem id (makedev-like, per mount)         */
    uint64_t ino;
    uint32_t mode;         /* S_IFMT | permissions                            */
    uint32_t nlink, uid, gid;
    uint64_t rdev;         /* makedev(major, minor) for device nodes         */
    uint64_t size;
    uint64_t blocks;       /* 512-byte units                                  */
    uint64_t blksize;
    struct timespec atime, mtime, ctime, crtime;
} gk_stat;

typedef struct gk_statvfs {
    uint64_t bsize, frsize, blocks, bfree, bavail;
    uint64_t files, ffree, favail;
    uint64_t fsid, flag, namemax;
} gk_statvfs;

/* d_type values as in <dirent.h> (DT_REG, DT_DIR, DT_LNK, ...). */
typedef int (*gk_readdir_cb)(void *opaque, const char *name, uint64_t ino, int d_type);

/* One data run of a file, for sparse copies and large reads. */
typedef struct gk_fmap {
    uint64_t logical, len;  /* bytes, inside the file                         */
} gk_fmap;

/* How to open a filesystem. */
typedef struct gk_fs_open_args {
    const char *fstype;    /* blkid TYPE ("ext4", "xfs", "vfat", ...); NULL = probe */
    const char *options;   /* mount options, comma-separated ("subvol=@home"), or NULL;
                            * a driver refuses options it does not know (EINVAL) */
    int rw;                /* open for writing (drivers without writes: EROFS)  */
    gk_devset *devs;       /* the VM's devices, for filesystems that span several
                            * (btrfs RAID1 on sda2+sdb1), or NULL               */
} gk_fs_open_args;

/* Open the filesystem on dev (the device reference is taken).  NULL with
 * gk_error() and errno: ENOTSUP for a type no driver reads, EINVAL when
 * the contents are not a filesystem we recognise, EROFS when rw is asked of
 * a read-only driver.  A journal needing recovery is replayed into memory
 * when read-only, never onto the image. */
gk_fs *gk_fs_open_with(gk_dev *dev, const gk_fs_open_args *a);
/* Shorthand: no options, no device set. */
gk_fs *gk_fs_open(gk_dev *dev, const char *fstype, int rw);
void gk_fs_close(gk_fs *fs);
/* Is fstype (a blkid TYPE) one some driver can mount? */
int gk_fs_supported(const char *fstype);
/* The type of an open filesystem ("ext4", "xfs", ...), its device, and
 * whether it was opened read-only. */
const char *gk_fs_type(const gk_fs *fs);
gk_dev *gk_fs_dev(const gk_fs *fs);
int gk_fs_readonly(const gk_fs *fs);
int gk_fs_statvfs(gk_fs *fs, gk_statvfs *sv);
/* Subvolumes of a filesystem that has them (btrfs): every one except the
 * top level, by id, with its path from the top level ("root",
 * "home/.snapshots/1") as `btrfs subvolume list` prints it.  0 with
 * *n == 0 for filesystems without subvolumes.  Free with gk_subvols_free. */
typedef struct gk_subvol {
    uint64_t id;
    char *path;
    int is_default;        /* the default subvolume (what a plain mount shows) */
    uint64_t top_level;    /* the subvolume it is in (5: the top level)         */
} gk_subvol;
int gk_fs_subvolumes(gk_fs *fs, gk_subvol **out, size_t *n);
void gk_subvols_free(gk_subvol *v, size_t n);
/* Make the changes made so far durable (fs/fs-int.h's sync). */
int gk_fs_sync(gk_fs *fs);
/* NTFS (fs/ntfs.c), for gfsh's ntfs-3g-probe and ntfscat-i.
 * gk_ntfs_probe: what ntfs-3g.probe --readonly / --readwrite exits with
 * for dev (0 mountable, 12 not NTFS, 13 corrupt, 14 hibernated or Fast
 * Startup, 15 unclean journal...); nothing is written.
 * gk_ntfs_cat_inode: the unnamed data stream of inode ino handed to sink
 * in pieces, as `ntfscat -i` prints it ($MFT and $MFTMirr with their
 * fixups applied); 0, -1 with gk_error(), or -2 when sink failed (the
 * sink reports its own failures). */
int gk_ntfs_probe(gk_dev *dev, int rw);
int gk_ntfs_cat_inode(gk_dev *dev, uint64_t ino, int (*sink)(void *ud, const void *buf, size_t n),
                      void *ud);

/* ------------------------------------------------------------------ */
/* The guest VFS: a mount table of gk_fs and path resolution (fs/vfs.c) */

typedef struct gk_vfs gk_vfs;

typedef struct gk_node {   /* a resolved file: which mount, which inode       */
    struct gk_mount *mnt;
    uint64_t ino;
} gk_node;

typedef struct gk_mount {
    char *mountpoint;      /* "/", "/boot"                                    */
    char *device;          /* "/dev/sda1"                                     */
    gk_fs *fs;
    gk_node covered;       /* the directory it is mounted on (root: none)     */
    int index;             /* for gk_stat.dev                                 */
    gk_vfs *vfs;           /* the table it belongs to                         */
} gk_mount;

/* Mounts one VFS holds at most (each costs an open filesystem, up to a few
 * MiB: an fstab of 50,000 lines must not make 50,000). */
#define GK_VFS_MAX_MOUNTS 128

gk_vfs *gk_vfs_new(void);
/* -x: trace the path lookups of this VFS (gk_trace_call); the guest's own
 * VFS is traced, inspection's private ones are not. */
void gk_vfs_set_trace(gk_vfs *v, int on);
void gk_vfs_free(gk_vfs *v);                /* closes every mounted fs      */
/* Mount fs (takes ownership) at mountpoint, which must exist as a directory
 * in what is already mounted (except "/"). */
int gk_vfs_mount(gk_vfs *v, gk_fs *fs, const char *mountpoint, const char *device);
int gk_vfs_umount(gk_vfs *v, const char *mountpoint);
void gk_vfs_umount_all(gk_vfs *v);
/* Unmount what is mounted on mountpoint and return its filesystem, open,
 * to the caller (NULL if nothing is, or other mounts sit on it). */
gk_fs *gk_vfs_detach(gk_vfs *v, const char *mountpoint);
int gk_vfs_nmounts(gk_vfs *v);
gk_mount *gk_vfs_mount_at(gk_vfs *v, int i); /* in mount order               */

/* Resolve a guest path; follow the last component if it is a symlink when
 * follow != 0.  Intermediate symlinks are always followed, inside the guest. */
int gk_vfs_resolve(gk_vfs *v, const char *path, int follow, gk_node *out);
/* Canonical absolute guest path of path (all links followed), malloc'd. */
char *gk_vfs_realpath(gk_vfs *v, const char *path);
/* libguestfs' case_sensitive_path: path (absolute, no "." or ".."
 * elements) with each element replaced by the directory entry it matches
 * ignoring case, as Windows finds it (the filesystem's own rule where the
 * driver has one: NTFS's $UpCase table; else ASCII case, first readdir
 * match).  The last element may be missing (kept as given); links are
 * followed into directories.  malloc'd, or NULL with errno (ENOENT,
 * ENOTDIR, EINVAL). */
char *gk_vfs_case_sensitive_path(gk_vfs *v, const char *path);

int gk_vfs_stat(gk_vfs *v, const char *path, gk_stat *st);
int gk_vfs_lstat(gk_vfs *v, const char *path, gk_stat *st);
int gk_vfs_readdir(gk_vfs *v, const char *path, gk_readdir_cb cb, void *opaque);
ssize_t gk_vfs_readlink(gk_vfs *v, const char *path, char *buf, size_t bufsz);
int gk_vfs_statvfs(gk_vfs *v, const char *path, gk_statvfs *sv);
ssize_t gk_vfs_listxattr(gk_vfs *v, const char *path, char *buf, size_t bufsz);
ssize_t gk_vfs_getxattr(gk_vfs *v, const char *path, const char *name, void *buf, size_t bufsz);
/* Whole file into memory, at most maxsize bytes (error EFBIG beyond). */
int gk_vfs_read_file(gk_vfs *v, const char *path, size_t maxsize, char **out, size_t *len);

/* Node-level operations (after gk_vfs_resolve); readdir on a node sees the
 * mount covering a directory entry when the caller asks gk_vfs_child. */
int gk_node_stat(gk_node *n, gk_stat *st);
ssize_t gk_node_read(gk_node *n, void *buf, size_t len, uint64_t off);
ssize_t gk_node_readlink(gk_node *n, char *buf, size_t bufsz);
int gk_node_readdir(gk_node *n, gk_readdir_cb cb, void *opaque);
/* The data runs of a regular file, in order; *nruns == 0 (and *out NULL)
 * means no data at all (all holes).  For a driver without fmap, one run
 * covering the whole file.  Caller frees *out. */
int gk_node_fmap(gk_node *n, gk_fmap **out, size_t *nruns);
/* The node for entry name in directory dir, crossing mountpoints, without
 * following a final symlink. */
int gk_vfs_child(gk_vfs *v, gk_node *dir, const char *name, gk_node *out);
/* Step onto the root of the filesystem mounted on *n, if one is: for
 * walkers that build child nodes from readdir's inode numbers. */
void gk_vfs_cross(gk_vfs *v, gk_node *n);
/* Every entry of directory n, sorted by name (strcmp), without "." and
 * "..".  Names a corrupt image may hold that no path could reach (empty,
 * containing "/") are left out.  Free with gk_dirents_free. */
typedef struct gk_dirent {
    char *name;
    uint64_t ino;
    int d_type;
} gk_dirent;
int gk_node_list(gk_node *n, gk_dirent **out, size_t *count);
void gk_dirents_free(gk_dirent *e, size_t count);

/* A hash map keyed by (mount, inode): tree walkers guard against directory
 * cycles of a corrupt image with it, gcopy-out maps hard links.  The slot
 * for node n (a new one holds NULL; *isnew tells). */
typedef struct gk_nodemap gk_nodemap;
gk_nodemap *gk_nodemap_new(void);
void **gk_nodemap_slot(gk_nodemap *m, const gk_node *n, int *isnew);
void gk_nodemap_free(gk_nodemap *m, void (*free_val)(void *));

/* Extended attributes of a node (no path resolution): as listxattr(2)
 * and getxattr(2), including the size query with bufsz 0. */
ssize_t gk_node_listxattr(gk_node *n, char *buf, size_t bufsz);
ssize_t gk_node_getxattr(gk_node *n, const char *name, void *buf, size_t bufsz);

/* ------------------------------------------------------------------ */
/* Tree walks (fs/walk.c): the one walker every tool uses              */

/* The longest guest path, as the kernel's PATH_MAX: what the VFS resolves,
 * and what a walk that prints paths descends to (GK_WALK_PATHLIMIT). */
#define GK_PATH_MAX 4096
/* Directory levels below the top of a walk.  Deeper directories are
 * reported (ELOOP) and not entered, by every walker alike.  Legitimate
 * trees made through relative paths can be thousands of levels deep. */
#define GK_WALK_MAXDEPTH 16384

enum {
    GK_WALK_PATHORDER = 1, /* all paths in strcmp order, as `find | sort`;
                            * otherwise depth first, each directory sorted */
    GK_WALK_PATHLIMIT = 2, /* a path longer than GK_PATH_MAX is an error
                            * (ENAMETOOLONG), neither reported nor entered */
};

enum gk_walk_kind {
    GK_WALK_ENTRY = 1,     /* a file or directory (the top first, depth 0)  */
    GK_WALK_DIR_END,       /* a directory entered is done                   */
    GK_WALK_ERROR,         /* msg says what failed; the walk goes on        */
};

typedef struct gk_walk_ent {
    int kind;
    int depth;             /* 0: the top                                    */
    const char *path;      /* the top's path as given, then "/" and names   */
    size_t pathlen;
    const char *name;      /* ENTRY: the last component ("" for the top)    */
    gk_node node;          /* ENTRY, DIR_END (mounts already crossed)       */
    gk_stat st;
    /* ENTRY of a directory that will not be entered (a loop, too deep),
     * and ERROR: the reason (errno, message naming the path). */
    int noenter;
    int err;
    const char *msg;
} gk_walk_ent;

typedef struct gk_walk gk_walk;
/* Walk the tree at top (a resolved node) whose path is toppath.  Memory
 * grows with the entries of the directories open at once, never with the
 * whole tree; directories are entered once (cycles are reported). */
gk_walk *gk_walk_new(gk_vfs *v, const gk_node *top, const char *toppath, unsigned flags);
/* The next event, valid until the next call; NULL at the end. */
const gk_walk_ent *gk_walk_next(gk_walk *w);
/* After an ENTRY of a directory: do not enter it (no DIR_END follows). */
void gk_walk_prune(gk_walk *w);
void gk_walk_free(gk_walk *w);

/* ------------------------------------------------------------------ */
/* Writing (fs/vfs-write.c)                                            */
/* Each call is one atomic change of the filesystem: on ext3/4 it lands in
 * a journal transaction with the changes before it, so a crash leaves the
 * filesystem before or after it, never between (large writes and deletes
 * are several steps; see each call).  Nothing reaches the image before the
 * first change, and everything is durable after gk_vfs_sync (or when the
 * filesystem is unmounted).  Paths resolve inside the guest exactly as
 * reads do; calls that create or remove a name do not follow a final
 * symbolic link, calls that change attributes say whether they do.
 * Errors: -1, gk_error() "PATH: message" and errno: EROFS (mounted
 * read-only, or a filesystem without writes), ENOENT, EEXIST, ENOTDIR,
 * EISDIR, ENOTEMPTY, ENOSPC, ENAMETOOLONG, EXDEV, EBUSY (a mountpoint),
 * EINVAL, EPERM, EOPNOTSUPP (a feature we cannot write), EIO.
 * New files belong to uid/gid 0, as libguestfs creates them. */

enum {
    GK_WR_CREATE = 1,      /* create the file if it does not exist           */
    GK_WR_EXCL = 2,        /* ... and fail (EEXIST) if it does               */
    GK_WR_TRUNC = 4,       /* empty an existing file                         */
};
/* The regular file at path (final symlink followed unless GK_WR_EXCL, a
 * dangling one creates its target like open(2)), created with mode
 * (permission bits) when GK_WR_CREATE. */
int gk_vfs_open_file(gk_vfs *v, const char *path, uint32_t mode, int how, gk_node *out);
/* Create or replace path's contents (guestfish's write); append adds. */
int gk_vfs_write_file(gk_vfs *v, const char *path, const void *buf, size_t len, int append);
int gk_vfs_mkdir(gk_vfs *v, const char *path, uint32_t mode);
/* mkdir -p: every missing parent; an existing directory is not an error. */
int gk_vfs_mkdir_p(gk_vfs *v, const char *path, uint32_t mode);
int gk_vfs_rmdir(gk_vfs *v, const char *path);
int gk_vfs_unlink(gk_vfs *v, const char *path);
/* rename(2) on guest paths; flags: RENAME_NOREPLACE. */
int gk_vfs_rename(gk_vfs *v, const char *from, const char *to, unsigned flags);
int gk_vfs_link(gk_vfs *v, const char *target, const char *newpath);
int gk_vfs_symlink(gk_vfs *v, const char *target, const char *linkpath);
/* mode carries S_IFMT (S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK; 0 or S_IFREG:
 * an empty regular file), rdev makedev(major, minor). */
int gk_vfs_mknod(gk_vfs *v, const char *path, uint32_t mode, uint64_t rdev);
int gk_vfs_chmod(gk_vfs *v, const char *path, uint32_t mode, int follow);
/* (uint32_t)-1 keeps the uid or gid. */
int gk_vfs_chown(gk_vfs *v, const char *path, uint32_t uid, uint32_t gid, int follow);
/* times[0] atime, times[1] mtime; tv_nsec UTIME_NOW / UTIME_OMIT. */
int gk_vfs_utimens(gk_vfs *v, const char *path, const struct timespec times[2], int follow);
int gk_vfs_truncate(gk_vfs *v, const char *path, uint64_t size);
/* flags XATTR_CREATE / XATTR_REPLACE. */
int gk_vfs_setxattr(gk_vfs *v, const char *path, const char *name, const void *val, size_t len,
                    int flags, int follow);
int gk_vfs_removexattr(gk_vfs *v, const char *path, const char *name, int follow);
/* Make every change durable on every mounted filesystem (for ext3/4: the
 * last transaction committed and the journal left empty). */
int gk_vfs_sync(gk_vfs *v);
/* Is the filesystem holding n writable? */
int gk_node_writable(const gk_node *n);

/* The same on nodes; name is one component, created objects are returned
 * in *out (may be NULL). */
int gk_node_create(gk_node *dir, const char *name, uint32_t mode, uint32_t uid, uint32_t gid,
                   gk_node *out);
int gk_node_mkdir(gk_node *dir, const char *name, uint32_t mode, uint32_t uid, uint32_t gid,
                  gk_node *out);
int gk_node_symlink(gk_node *dir, const char *name, const char *target, uint32_t uid,
                    uint32_t gid, gk_node *out);
int gk_node_mknod(gk_node *dir, const char *name, uint32_t mode, uint64_t rdev, uint32_t uid,
                  uint32_t gid, gk_node *out);
int gk_node_link(gk_node *n, gk_node *dir, const char *name);
int gk_node_unlink(gk_node *dir, const char *name);
int gk_node_rmdir(gk_node *dir, const char *name);
int gk_node_rename(gk_node *olddir, const char *oldname, gk_node *newdir, const char *newname,
                   unsigned flags);
/* Bytes written (all of len unless an error part way: then what was
 * written, or -1).  A large write is several transactions: after a crash
 * the file holds a prefix of the data, never unwritten blocks. */
ssize_t gk_node_write(gk_node *n, const void *buf, size_t len, uint64_t off);
int gk_node_truncate(gk_node *n, uint64_t size);
int gk_node_chmod(gk_node *n, uint32_t mode);
int gk_node_chown(gk_node *n, uint32_t uid, uint32_t gid);
int gk_node_utimens(gk_node *n, const struct timespec times[2]);
int gk_node_setxattr(gk_node *n, const char *name, const void *val, size_t len, int flags);
int gk_node_removexattr(gk_node *n, const char *name);
/* Remove dir/name and everything below it (rm -rf of one entry); a
 * missing name is not an error.  Mountpoints below are EBUSY. */
int gk_node_remove_tree(gk_vfs *v, gk_node *dir, const char *name);

#endif
