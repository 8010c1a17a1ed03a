/* guestkit filesystem layer: filesystem drivers, the guest VFS, the guest
 * session (disks + mounts) and OS inspection.
 *
 * Tools and gfsh only ever talk to this header: they never call libext2fs.
 * Paths given to gk_vfs_* are guest paths, resolved inside the guest: an
 * absolute symlink resolves against the guest's root, ".." stops at "/",
 * at most GK_MAXSYMLINKS links are followed (ELOOP).
 *
 * Errors follow lib/blk.h: -1/NULL with gk_error(); functions that fail
 * because of a guest condition also set errno (ENOENT, ENOTDIR, ELOOP, EIO,
 * EISDIR, EINVAL, EROFS, ...) so callers can tell them apart.
 */
#ifndef GK_FS_H
#define GK_FS_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include "blk.h"

#define GK_MAXSYMLINKS 40

/* ------------------------------------------------------------------ */
/* Filesystem drivers (fs/ext.c)                                       */

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

struct gk_fs_ops {
    const char *name;                                   /* "ext4", ...        */
    int (*getattr)(gk_fs *fs, uint64_t ino, gk_stat *st);
    /* Look up one name in directory dir: 0 and *ino, or -1 (errno ENOENT...). */
    int (*lookup)(gk_fs *fs, uint64_t dir, const char *name, uint64_t *ino);
    /* Calls cb for each entry except "." and ".."; cb returning non-zero stops. */
    int (*readdir)(gk_fs *fs, uint64_t dir, gk_readdir_cb cb, void *opaque);
    /* Read up to n bytes at off; returns bytes read (0 at EOF), -1 on error. */
    ssize_t (*read)(gk_fs *fs, uint64_t ino, void *buf, size_t n, uint64_t off);
    /* Symlink target (not NUL-terminated in the fs); returns its length,
     * truncated to bufsz; -1 on error. */
    ssize_t (*readlink)(gk_fs *fs, uint64_t ino, char *buf, size_t bufsz);
    int (*statvfs)(gk_fs *fs, gk_statvfs *sv);
    /* NUL-separated list of names ("user.foo\0security.selinux\0"); returns
     * total length, or needed length if bufsz is too small (like llistxattr). */
    ssize_t (*listxattr)(gk_fs *fs, uint64_t ino, char *buf, size_t bufsz);
    ssize_t (*getxattr)(gk_fs *fs, uint64_t ino, const char *name, void *buf, size_t bufsz);
    /* Data runs of a regular file, in order; *n set; caller frees *out.
     * NULL means "no holes known": treat the whole file as data. */
    int (*fmap)(gk_fs *fs, uint64_t ino, gk_fmap **out, size_t *n);
    void (*close)(gk_fs *fs);
    /* Write operations come later; keep the slots so the table has a place. */
};

struct gk_fs {
    const struct gk_fs_ops *ops;
    gk_dev *dev;           /* reference held                                  */
    uint64_t root_ino;
    int readonly;
    char *type;            /* "ext2", "ext3", "ext4"                          */
    void *priv;
};

/* Open the filesystem on dev; fstype as blkid reports it (NULL = probe).
 * Read-only unless rw.  ext2/3/4 with a journal needing recovery is replayed
 * into memory, never onto the image. */
gk_fs *gk_fs_open(gk_dev *dev, const char *fstype, int rw);
void gk_fs_close(gk_fs *fs);
/* Is fstype one we can mount? ("ext2", "ext3", "ext4") */
int gk_fs_supported(const char *fstype);

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
} gk_mount;

gk_vfs *gk_vfs_new(void);
void gk_vfs_free(gk_vfs *v);                /* closes every mounted fs      */
/* Mount fs (takes ownership) at mountpoint, which must exist as a directory
 * in what is already mounted (except "/"). */
int gk_vfs_mount(gk_vfs *v, gk_fs *fs, const char *mountpoint, const char *device);
int gk_vfs_umount(gk_vfs *v, const char *mountpoint);
void gk_vfs_umount_all(gk_vfs *v);
int gk_vfs_nmounts(gk_vfs *v);
gk_mount *gk_vfs_mount_at(gk_vfs *v, int i); /* in mount order               */

/* Resolve a guest path; follow the last component if it is a symlink when
 * follow != 0.  Intermediate symlinks are always followed, inside the guest. */
int gk_vfs_resolve(gk_vfs *v, const char *path, int follow, gk_node *out);
/* Canonical absolute guest path of path (all links followed), malloc'd. */
char *gk_vfs_realpath(gk_vfs *v, const char *path);

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

/* ------------------------------------------------------------------ */
/* Inspection (fs/inspect.c and friends)                               */

typedef struct gk_app {
    char *name, *display_name, *version, *release, *arch, *url, *summary,
         *description, *source_package;
    int epoch;
} gk_app;

typedef struct gk_fsinfo {         /* a filesystem seen by the OS            */
    char *dev, *type, *label, *uuid;
} gk_fsinfo;

typedef struct gk_mp {             /* mountpoint from fstab                  */
    char *mountpoint, *dev;
} gk_mp;

typedef struct gk_os {
    char *root;                    /* device of the root filesystem          */
    char *type;                    /* "linux"                                */
    char *distro;                  /* "debian", "fedora", ...                */
    char *product_name;
    char *product_variant;
    int major, minor;
    char *arch;                    /* "x86_64", "aarch64", "i386", ...       */
    char *hostname;
    char *package_format;          /* "deb", "rpm", "apk", "pacman"          */
    char *package_management;      /* "apt", "dnf", "yum", "apk", "pacman"   */
    char *osinfo;                  /* "debian12"                             */
    char *build_id;
    gk_mp *mps; int nmps;          /* sorted as libguestfs returns them      */
    gk_fsinfo *fss; int nfss;
    gk_app *apps; int napps; int apps_done;
} gk_os;

typedef struct gk_guest gk_guest;

/* ------------------------------------------------------------------ */
/* The guest session (fs/guest.c): what every tool and gfsh start from */

struct gk_guest {
    gk_devset *devs;
    gk_vfs *vfs;
    int readwrite;
    int launched;                  /* devices scanned                        */
    gk_os *oses; int noses;        /* after gk_inspect_os                    */
    int inspected;
};

gk_guest *gk_guest_new(void);
void gk_guest_free(gk_guest *g);
/* Open an image as the next disk (before launch). */
int gk_guest_add_drive(gk_guest *g, const char *path, const gk_open_opts *opts);
/* Scan partitions, LVM, probe filesystems. */
int gk_guest_launch(gk_guest *g);
/* Mount device (any name gk_devset_find accepts) on mountpoint. */
int gk_guest_mount(gk_guest *g, const char *device, const char *mountpoint);
/* Inspect and mount the single OS like libguestfs' -i: root first, then its
 * fstab entries shortest mountpoint first; entries that do not resolve are
 * warnings.  Fails (with a message naming the roots) if several OSes. */
int gk_guest_mount_inspected(gk_guest *g);

/* Find operating systems (fills g->oses); 0 with g->noses == 0 if none. */
int gk_inspect_os(gk_guest *g);
/* Applications of one OS (fills os->apps). */
int gk_inspect_apps(gk_guest *g, gk_os *os);
/* Map a device name from a guest's fstab (UUID=, LABEL=, /dev/vda1, ...) to
 * our device name, or NULL. */
char *gk_inspect_resolve_fstab_dev(gk_guest *g, const char *spec);
/* Free g->oses (inspection results); gk_guest_free may call it. */
void gk_inspect_free(gk_guest *g);
/* Free the strings of one application (not the struct itself). */
void gk_app_clear(gk_app *a);

/* RPM header blobs as rpmdb.sqlite stores them (fs/rpmhdr.c): a bounded
 * parser of the index + data store.  Fills name, epoch, version, release,
 * arch, url, summary, description (missing tags stay NULL/0).  Returns 0,
 * or -1 with gk_error() when the blob is malformed (no field is trusted). */
int gk_rpmhdr_parse(const void *blob, size_t len, gk_app *out);

#endif
