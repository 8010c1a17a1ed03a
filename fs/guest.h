/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest session (public API): the disks of one VM, their devices,
 * the VFS of what is mounted, and inspection results.  Every tool and gfsh
 * starts from a gk_guest. */
#ifndef GK_GUEST_H
#define GK_GUEST_H

#include "vfs.h"

typedef struct gk_os gk_os; /* fs/inspect.h */
typedef struct gk_guest gk_guest;

struct gk_guest {
    gk_devset *devs;
    gk_vfs *vfs;
    int readwrite;
    int launched;                  /* devices scanned                        */
    gk_os *oses; int noses;        /* after gk_inspect_os                    */
    int inspected;                 /* 1: what mounting needs, 2: everything  */
    /* Set by a program that inspects only to mount the guest's filesystems
     * (gcat, gls, gcopy-out, gmount ...: virt-cat's inspect_mount_root):
     * gk_inspect_os then finds the roots, their fstab and Windows' drive
     * letters, and leaves out what only a report shows (release files but
     * for btrfs roots, architecture, hostname, packages, osinfo). */
    int inspect_for_mount;
    /* Filesystems inspection opened, read-only, kept for the mounts that
     * follow it (gk_guest_fs_open takes one instead of opening the device
     * again); closed by gk_guest_free. */
    struct gk_spare_fs { char *name; gk_fs *fs; } *spare;
    int nspare;
};

gk_guest *gk_guest_new(void);
void gk_guest_free(gk_guest *g);
/* Open an image as the next disk (before launch). */
int gk_guest_add_drive(gk_guest *g, const char *path, const gk_open_opts *opts);
/* Keep fs, opened read-only on device name with no options, for a later
 * gk_guest_fs_open of the same; takes fs (closed at once past a bound). */
void gk_guest_keep_fs(gk_guest *g, const char *name, gk_fs *fs);
/* Scan partitions, LVM, probe filesystems. */
int gk_guest_launch(gk_guest *g);
/* Mount device (any name gk_devset_find accepts) on mountpoint. */
int gk_guest_mount(gk_guest *g, const char *device, const char *mountpoint);
/* The same with mount options ("subvol=@home", "ro") and a filesystem type
 * that overrides probing (guestfish's mount-vfs; -m DEV:MP:OPTS:FSTYPE);
 * options and fstype may be NULL. */
int gk_guest_mount_opts(gk_guest *g, const char *device, const char *mountpoint,
                        const char *options, const char *fstype);
/* Open the filesystem of device (a name gk_guest_mount accepts, or a btrfs
 * subvolume as libguestfs names it, "btrfsvol:/dev/sda2/home"), with mount
 * options and fstype as gk_guest_mount_opts and the VM's other devices
 * (a btrfs filesystem may span several).  *devname (may be NULL) gets the
 * device's name, set once the device is found.  NULL with gk_error() and
 * errno (the message does not name the device). */
gk_fs *gk_guest_fs_open(gk_guest *g, const char *device, const char *options, const char *fstype,
                        int rw, const char **devname);
/* libguestfs names a btrfs subvolume "btrfsvol:/dev/sda2/PATH": the
 * device, then the subvolume's path from the top level.  The entry of
 * such a name (*subvol: its path, malloc'd) or of a plain device name
 * (*subvol NULL); NULL with gk_error() if there is none. */
gk_devent *gk_devset_find_mountable(gk_devset *s, const char *name, char **subvol);
/* The btrfs subvolumes of device entry e other than its default one, as
 * libguestfs lists them ("btrfsvol:/dev/sda2/root"), in id order; NULL
 * and *n = 0 for other filesystems or when they cannot be read (a debug
 * line says why).  Free with gk_names_free. */
char **gk_devset_subvolumes(gk_devset *s, const gk_devent *e, int *n);
void gk_names_free(char **v, int n);
/* Inspect and mount the single OS like libguestfs' -i: root first, then its
 * fstab entries shortest mountpoint first; entries that do not resolve or
 * cannot be mounted are warnings, and a filesystem that cannot be mounted
 * leaves a stand-in on its mountpoint whose listing fails with the reason
 * (gls /mnt: "/dev/sdb1 is minix, which guestkit cannot read").
 * Fails (with a message naming the roots) if several OSes, and when there
 * is none the message names the filesystems guestkit could not read. */
int gk_guest_mount_inspected(gk_guest *g);
/* Why the contents of a device cannot be read, or NULL when they can (or
 * there is nothing to read: no signature, swap, an LVM PV whose volume
 * group was assembled).  "DEV is TYPE, which guestkit cannot read" for a
 * blkid type no driver supports (gk_fs_supported); "DEV: REASON" when the
 * device itself cannot be opened.  malloc'd. */
char *gk_guest_unreadable(gk_guest *g, const gk_devent *e);

#endif
