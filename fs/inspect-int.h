/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private helpers shared by fs/inspect*.c (not part of the public API). */
#ifndef GK_INSPECT_INT_H
#define GK_INSPECT_INT_H

#include "fs.h"

/* Size caps for guest files read during inspection: a hostile guest must
 * not make us read gigabytes (libguestfs caps Augeas files at 100 kB and
 * the package databases at 50 MB). */
#define INSP_SMALL_MAX   (64u << 10)     /* os-release, release files, hostname */
#define INSP_FSTAB_MAX   (1u << 20)
#define INSP_DB_MAX      (64u << 20)     /* dpkg status, apk installed */
#define INSP_DESC_MAX    (64u << 10)     /* one pacman desc file */
#define INSP_RPMDB_MAX   (512u << 20)    /* rpmdb.sqlite */
#define INSP_LINE_MAX    (64u << 10)     /* longest line we look at */

/* Read a whole regular guest file (symlinks followed inside the guest)
 * into a NUL-terminated buffer.  Returns 0; 1 if it does not exist or is
 * not a regular file (silently); -1 after a warning (too large, I/O error,
 * symlink loop...). */
int insp_read(gk_vfs *v, const char *path, size_t max, char **out, size_t *len);
int insp_is_file(gk_vfs *v, const char *path);   /* regular, links followed */
/* The device mounted on / of v, to name the filesystem in warnings. */
const char *insp_dev(gk_vfs *v);
int insp_is_dir(gk_vfs *v, const char *path);    /* directory, no final link */

/* Next line of buf (NUL-terminated, modified in place: the '\n' becomes
 * NUL); NULL at the end.  Lines longer than INSP_LINE_MAX are returned
 * truncated to that length (*truncated set) so no parser sees more. */
char *insp_next_line(char **cursor, int *truncated);
/* Strip leading and trailing blanks in place. */
char *insp_trim(char *s);

/* /etc/fstab of a root (fs/inspect-fstab.c): fills os->mps and os->fss. */
void insp_fstab(gk_guest *g, gk_vfs *v, gk_os *os);
/* Record a filesystem of the OS (dev, copied), mounted on mp unless NULL;
 * probed: fill its type/label/uuid from our device of that name. */
void insp_add(gk_guest *g, gk_os *os, const char *mp, const char *dev, int probed);
/* Fill type/label/uuid of a filesystem entry from the device probe. */
void insp_fsinfo_fill(gk_guest *g, gk_fsinfo *f);

/* libguestfs' parse_version_from_major_minor: the leftmost "N.M", else the
 * leftmost "N" (minor 0), anywhere in s; 0, or -1 (nothing set). */
int insp_parse_version(const char *s, int *major, int *minor);

/* Windows (fs/inspect-windows.c): 1 and os filled if v holds a Windows
 * systemroot; its osinfo ID (malloc'd, NULL if none); its applications
 * (the count, *apps malloc'd); free the Windows fields of os. */
int insp_windows_root(gk_guest *g, gk_vfs *v, gk_os *os);
char *insp_windows_osinfo(const gk_os *os);
int insp_windows_apps(gk_vfs *v, const gk_os *os, gk_app **apps);
void insp_windows_clear(gk_os *os);

/* libguestfs' canonical_device_name: /dev/vdX, /dev/hdX, /dev/xvdX ->
 * /dev/sdX, /dev/mapper/VG-LV -> /dev/VG/LV.  malloc'd. */
char *insp_canonical_name(const char *dev);

#endif
