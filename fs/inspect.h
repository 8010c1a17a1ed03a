/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OS inspection (public API): what virt-inspector reports. */
#ifndef GK_INSPECT_H
#define GK_INSPECT_H

#include "guest.h"

/* ------------------------------------------------------------------ */
/* Inspection (fs/inspect.c and friends)                               */

typedef struct gk_app {
    char *name, *display_name, *version, *release, *arch, *url, *summary,
         *description, *source_package;
    int epoch;
    char *install_path, *publisher;  /* Windows                          */
} gk_app;

typedef struct gk_fsinfo {         /* a filesystem seen by the OS            */
    char *dev, *type, *label, *uuid;
} gk_fsinfo;

typedef struct gk_mp {             /* mountpoint from fstab                  */
    char *mountpoint, *dev;
} gk_mp;

typedef struct gk_drive {          /* a Windows drive letter                 */
    char *letter, *dev;            /* "C", "/dev/sda2"                       */
} gk_drive;

struct gk_os {
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
    /* Windows (fs/inspect-windows.c) */
    char *windows_systemroot;      /* "/Windows", as the guest spells it     */
    char *windows_current_control_set; /* "ControlSet001"                    */
    char *windows_software_hive, *windows_system_hive; /* guest paths        */
    gk_drive *drives; int ndrives; /* HKLM\SYSTEM\MountedDevices, hive order */
};


/* Find operating systems (fills g->oses); 0 with g->noses == 0 if none. */
int gk_inspect_os(gk_guest *g);
/* Applications of one OS (fills os->apps). */
int gk_inspect_apps(gk_guest *g, gk_os *os);
/* Map a device name from a guest's fstab (UUID=, LABEL=, /dev/vda1, ...) to
 * our device name, or NULL. */
char *gk_inspect_resolve_fstab_dev(gk_guest *g, const char *spec);
/* Windows guests (fs/inspect-windows.c): is the inspected guest one
 * Windows OS?  And the guest path for a Windows path as virt-cat takes
 * it: "C:\Windows\win.ini" (the drive's filesystem mounted on / first,
 * from the drive mappings), "\Windows\WIN.INI" or "/windows/win.ini";
 * backslashes become slashes and each element is matched ignoring case
 * (gk_vfs_case_sensitive_path).  malloc'd, or NULL with gk_error. */
int gk_guest_is_windows(gk_guest *g);
char *gk_guest_windows_path(gk_guest *g, const char *path);
/* Free g->oses (inspection results); gk_guest_free may call it. */
void gk_inspect_free(gk_guest *g);
/* Free the strings of one application (not the struct itself). */
void gk_app_clear(gk_app *a);

/* Windows registry hives (fs/hive.c): open the hive at guest path (links
 * followed) with hivex, its flags (HIVEX_OPEN_UNSAFE...); the file, at
 * most GK_HIVE_MAX bytes, is copied into memory first.  NULL with
 * gk_error() and errno.  Close with gk_hive_close (NULL is fine). */
#define GK_HIVE_MAX (512u << 20)
struct hive_h;
struct hive_h *gk_hive_open(gk_vfs *v, const char *path, int flags);
void gk_hive_close(struct hive_h *h);

/* The architecture an ELF header (its first n bytes) is built for, with
 * libguestfs' names (x86_64, i386, aarch64, arm, ppc64le ...), or NULL. */
const char *gk_elf_arch(const unsigned char *h, size_t n);

/* RPM header blobs as rpmdb.sqlite stores them (fs/rpmhdr.c): a bounded
 * parser of the index + data store.  Fills name, epoch, version, release,
 * arch, url, summary, description (missing tags stay NULL/0).  Returns 0,
 * or -1 with gk_error() when the blob is malformed (no field is trusted). */
int gk_rpmhdr_parse(const void *blob, size_t len, gk_app *out);

#endif
