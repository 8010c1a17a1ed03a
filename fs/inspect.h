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
} gk_app;

typedef struct gk_fsinfo {         /* a filesystem seen by the OS            */
    char *dev, *type, *label, *uuid;
} gk_fsinfo;

typedef struct gk_mp {             /* mountpoint from fstab                  */
    char *mountpoint, *dev;
} gk_mp;

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
};


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
