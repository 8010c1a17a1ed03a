/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest session: the disks of one VM, their devices, and what is
 * mounted.  Every tool and gfsh starts here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs-int.h"

gk_guest *gk_guest_new(void)
{
    gk_heap_huge(); /* a session reads images: its heap on huge pages */
    gk_guest *g = gk_calloc(1, sizeof *g);
    g->devs = gk_devset_new();
    g->vfs = gk_vfs_new();
    return g;
}

void gk_guest_free(gk_guest *g)
{
    if (!g)
        return;
    gk_vfs_free(g->vfs);
    for (int i = 0; i < g->nspare; i++) {
        gk_fs_close(g->spare[i].fs);
        free(g->spare[i].name);
    }
    free(g->spare);
    gk_devset_free(g->devs);
    gk_inspect_free(g);        /* fs/inspect.c owns what it allocated */
    free(g);
}

int gk_guest_add_drive(gk_guest *g, const char *path, const gk_open_opts *opts)
{
    if (g->launched) {
        gk_error("%s: drives must be added before launch", path);
        return -1;
    }
    gk_dev *d = gk_open_image(path, opts);
    int e = errno;
    gk_trace_call("add_drive \"%s\" format:%s readonly:%s = %s", path,
                  opts && opts->format ? opts->format : "auto",
                  opts && opts->readwrite ? "false" : "true", d ? "0" : gk_errmsg());
    if (!d) {
        errno = e; /* ENOKEY: the tool may ask for the key and try again */
        return -1;
    }
    return gk_devset_add_disk(g->devs, d);
}

int gk_guest_launch(gk_guest *g)
{
    if (g->launched)
        return 0;
    if (gk_devset_scan(g->devs) < 0) {
        gk_trace_call("launch = %s", gk_errmsg());
        return -1;
    }
    g->launched = 1;
    gk_trace_call("launch = 0 (%d devices)", g->devs->nents);
    return 0;
}

int gk_guest_mount(gk_guest *g, const char *device, const char *mountpoint)
{
    return gk_guest_mount_opts(g, device, mountpoint, NULL, NULL);
}

/* Options the kernel's VFS or mount(8) handle for every filesystem: they
 * never reach a driver.  Only "ro"/"rw" mean something offline. */
static int vfs_option(const char *o)
{
    static const char *const names[] = {
        "defaults", "atime", "noatime", "relatime", "norelatime", "strictatime",
        "nostrictatime", "diratime", "nodiratime", "lazytime", "nolazytime", "dev", "nodev",
        "suid", "nosuid", "exec", "noexec", "sync", "async", "dirsync", "silent", "loud",
        "auto", "noauto", "user", "nouser", "users", "owner", "group", "nofail", "_netdev",
        "mand", "nomand", "iversion", "noiversion",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(o, names[i]) == 0)
            return 1;
    /* userspace-only options (x-systemd.*, comment=) */
    return strncmp(o, "x-", 2) == 0 || strncmp(o, "comment=", 8) == 0;
}

gk_devent *gk_devset_find_mountable(gk_devset *s, const char *device, char **subvol)
{
    *subvol = NULL;
    if (strncmp(device, "btrfsvol:", 9) != 0)
        return gk_devset_find(s, device);
    const char *spec = device + 9;
    /* the longest prefix that names a device: /dev/VG/LV has slashes too */
    for (size_t n = strlen(spec); n > 0; n--) {
        if (spec[n] != '/' && spec[n] != 0)
            continue;
        char *dev = gk_strndup(spec, n);
        gk_devent *e = gk_devset_find(s, dev);
        free(dev);
        if (e) {
            *subvol = gk_strdup(spec[n] ? spec + n + 1 : "");
            return e;
        }
    }
    gk_error("%s: no such device", device);
    return NULL;
}

/* Open filesystems kept, at most: each holds its caches (a few MiB at most) */
#define GUEST_SPARE_MAX 16

void gk_guest_keep_fs(gk_guest *g, const char *name, gk_fs *fs)
{
    if (!fs)
        return;
    if (g->nspare >= GUEST_SPARE_MAX) {
        gk_fs_close(fs);
        return;
    }
    if (!g->spare)
        g->spare = gk_calloc(GUEST_SPARE_MAX, sizeof *g->spare);
    g->spare[g->nspare].name = gk_strdup(name);
    g->spare[g->nspare++].fs = fs;
}

/* The filesystem kept for device name, taken out of the spares, or NULL. */
static gk_fs *take_spare(gk_guest *g, const char *name)
{
    for (int i = 0; i < g->nspare; i++) {
        if (strcmp(g->spare[i].name, name) != 0)
            continue;
        gk_fs *fs = g->spare[i].fs;
        free(g->spare[i].name);
        g->spare[i] = g->spare[--g->nspare];
        return fs;
    }
    return NULL;
}

gk_fs *gk_guest_fs_open(gk_guest *g, const char *device, const char *options, const char *fstype,
                        int rw, const char **devname)
{
    char *subvol;
    gk_devent *e = gk_devset_find_mountable(g->devs, device, &subvol);
    if (!e)
        return NULL;
    if (devname)
        *devname = e->name;
    if (!e->dev) {
        gk_error("%s", e->open_error ? e->open_error : "cannot be opened");
        free(subvol);
        return NULL;
    }
    /* opened already by inspection, as this asks: read-only, no options */
    gk_fs *kept = !subvol && !rw && !(options && *options) && !(fstype && *fstype) ? take_spare(g, e->name)
                                                                                : NULL;
    if (kept) {
        gk_debug("open: %s (the filesystem inspection opened)", e->name);
        return kept;
    }
    /* split the VFS's own flags from what the driver gets */
    size_t cap = (options ? strlen(options) : 0) + (subvol ? strlen(subvol) + 8 : 0) + 1;
    char *rest = gk_calloc(1, cap);
    size_t len = 0;
    if (subvol)
        len += (size_t)sprintf(rest, "subvol=%s", subvol);
    free(subvol);
    if (options && *options) {
        char *copy = gk_strdup(options), *save = NULL;
        for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
            if (strcmp(o, "ro") == 0) {
                rw = 0;
            } else if (strcmp(o, "rw") == 0) {
                if (!g->readwrite) {
                    gk_error("mount option rw: the disks were opened read-only");
                    free(copy);
                    free(rest);
                    errno = EROFS;
                    return NULL;
                }
                rw = 1;
            } else if (!vfs_option(o)) {
                len += (size_t)sprintf(rest + len, "%s%s", len ? "," : "", o);
            }
        }
        free(copy);
    }
    gk_fs_open_args a = {
        .fstype = fstype && *fstype ? fstype : gk_devent_probe(e)->type,
        .options = *rest ? rest : NULL,
        .rw = rw,
        .devs = g->devs,
    };
    gk_debug("open: %s%s%s%s%s", e->name, a.fstype ? " type " : "", a.fstype ? a.fstype : "",
             a.options ? " options " : "", a.options ? a.options : "");
    gk_fs *fs = gk_fs_open_with(e->dev, &a);
    free(rest);
    return fs;
}

char **gk_devset_subvolumes(gk_devset *s, const gk_devent *e, int *n)
{
    *n = 0;
    const char *t = e->dev ? gk_devent_probe(e)->type : NULL;
    if (!t || strcmp(t, "btrfs") != 0)
        return NULL;
    gk_fs_open_args a = {.fstype = t, .devs = s};
    gk_fs *fs = gk_fs_open_with(e->dev, &a);
    gk_subvol *v = NULL;
    size_t nv = 0;
    if (!fs || gk_fs_subvolumes(fs, &v, &nv) < 0) {
        gk_debug("%s: subvolumes: %s", e->name, gk_errmsg());
        gk_fs_close(fs);
        return NULL;
    }
    gk_fs_close(fs);
    char **names = gk_calloc(nv + 1, sizeof *names);
    for (size_t i = 0; i < nv; i++)
        if (!v[i].is_default)
            names[(*n)++] = gk_asprintf("btrfsvol:%s/%s", e->name, v[i].path);
    gk_subvols_free(v, nv);
    return names;
}

void gk_names_free(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int gk_guest_mount_opts(gk_guest *g, const char *device, const char *mountpoint,
                        const char *options, const char *fstype)
{
    const char *name = NULL;
    gk_fs *fs = gk_guest_fs_open(g, device, options, fstype, g->readwrite, &name);
    if (!fs) {
        /* a subvolume is named by its btrfsvol: name, like libguestfs */
        if (name) {
            const char *who = strncmp(device, "btrfsvol:", 9) ? name : device;
            size_t nl = strlen(who);
            const char *m = gk_errmsg();
            if (strncmp(m, who, nl) != 0 || m[nl] != ':')    /* not named twice */
                gk_error_prefix("%s", who);
        }
        gk_trace_call("mount \"%s\" \"%s\" = %s", name ? name : device, mountpoint, gk_errmsg());
        return -1;
    }
    const char *shown = strncmp(device, "btrfsvol:", 9) ? name : device;
    if (gk_vfs_mount(g->vfs, fs, mountpoint, shown) < 0) {
        gk_fs_close(fs);
        return -1;
    }
    gk_trace_call("mount \"%s\" \"%s\" = 0", shown, mountpoint);
    return 0;
}

/* A member of a container guestkit assembled (an LVM PV of a volume group
 * it found, an md RAID member) is read through what it assembled. */
static int member_assembled(gk_guest *g, const gk_devent *e)
{
    const char *t = gk_devent_probe(e)->type;
    if (strcmp(t, "LVM2_member") == 0) {
        for (int i = 0; i < g->devs->npvs; i++)
            if (g->devs->pvs[i].name && strcmp(g->devs->pvs[i].name, e->name) == 0)
                return g->devs->pvs[i].vg != NULL;
    }
    /* an md member: the array's entry says whether it could be read */
    if (strcmp(t, "linux_raid_member") == 0)
        for (int i = 0; i < g->devs->nents; i++) {
            const gk_devent *md = &g->devs->ents[i];
            for (int r = 0; md->kind == GK_MD && r < md->nmd_members; r++)
                if (strcmp(md->md_members[r], e->name) == 0)
                    return 1;
        }
    /* a LUKS volume that was opened: read through /dev/mapper/luks-UUID */
    if (strcmp(t, "crypto_LUKS") == 0)
        for (int i = 0; i < g->devs->nents; i++)
            if (g->devs->ents[i].kind == GK_LUKS && g->devs->ents[i].parent &&
                strcmp(g->devs->ents[i].parent, e->name) == 0)
                return 1;
    return 0;
}

char *gk_guest_unreadable(gk_guest *g, const gk_devent *e)
{
    if (!e->dev)
        return gk_asprintf("%s: %s", e->name, e->open_error ? e->open_error : "cannot be opened");
    /* a partitioned disk is read through its partitions (and not probed) */
    if (gk_devent_partitioned(e))
        return NULL;
    const char *t = gk_devent_probe(e)->type;
    if (!t || !*t || strcmp(t, "swap") == 0 || gk_fs_supported(t) || member_assembled(g, e))
        return NULL;
    if (strcmp(t, "crypto_LUKS") == 0)
        return gk_asprintf("%s is an encrypted LUKS volume: give its key with --key %s:key:PASSPHRASE",
                           e->name, e->name);
    return gk_asprintf("%s is %s, which guestkit cannot read", e->name, t);
}

/* "; "-separated reasons of every device that cannot be read (at most a
 * few named), or NULL. */
static char *unreadable_list(gk_guest *g)
{
    char *list = NULL;
    int n = 0;
    for (int i = 0; i < g->devs->nents; i++) {
        char *r = gk_guest_unreadable(g, &g->devs->ents[i]);
        if (!r)
            continue;
        if (n < 4) {
            char *l = gk_asprintf("%s%s%s", list ? list : "", list ? "; " : "", r);
            free(list);
            list = l;
        }
        n++;
        free(r);
    }
    if (n > 4) {
        char *l = gk_asprintf("%s; and %d more", list, n - 4);
        free(list);
        list = l;
    }
    return list;
}

/* A mountpoint without repeated or trailing slashes ("//boot/" -> "/boot"). */
static char *mp_normalise(const char *mp)
{
    char *n = gk_malloc(strlen(mp) + 2), *q = n;
    for (const char *p = mp; *p; p++)
        if (*p != '/' || q == n || q[-1] != '/')
            *q++ = *p;
    if (q > n + 1 && q[-1] == '/')
        q--;
    *q = 0;
    return n;
}

/* libguestfs' -i mounts shortest mountpoint first, ties by name, so that
 * /usr is mounted before /usr/local; equal mountpoints in fstab order. */
struct mp_ent { char *norm; int idx; };

static int mp_cmp(const void *a, const void *b)
{
    const struct mp_ent *x = a, *y = b;
    size_t lx = strlen(x->norm), ly = strlen(y->norm);
    if (lx != ly)
        return lx < ly ? -1 : 1;
    int c = strcmp(x->norm, y->norm);
    return c ? c : x->idx - y->idx;
}

int gk_guest_mount_inspected(gk_guest *g)
{
    if (gk_guest_launch(g) < 0)
        return -1;
    if (gk_inspect_os(g) < 0) /* once: it keeps what it found */
        return -1;
    for (int i = 0; i < g->noses; i++)
        gk_trace_call("inspect_os: root %s (%s)", g->oses[i].root ? g->oses[i].root : "?",
                      g->oses[i].distro ? g->oses[i].distro : "unknown");
    if (g->noses == 0) {
        char *why = unreadable_list(g);
        if (why)
            gk_error("no operating system was found on the disk image(s): %s", why);
        else
            gk_error("no operating system was found on the disk image(s); "
                     "use -m DEV to mount a filesystem by hand (gfilesystems lists them)");
        free(why);
        return -1;
    }
    if (g->noses > 1) {
        size_t len = 0;
        for (int i = 0; i < g->noses; i++)
            len += strlen(g->oses[i].root ? g->oses[i].root : "?") + 2;
        char *roots = gk_calloc(1, len + 1);
        for (int i = 0; i < g->noses; i++) {
            if (i)
                strcat(roots, ", ");
            strcat(roots, g->oses[i].root ? g->oses[i].root : "?");
        }
        gk_error("multi-boot operating systems are not supported (roots: %s); "
                 "use -m DEV to choose one", roots);
        free(roots);
        return -1;
    }
    gk_os *os = &g->oses[0];
    if (!os->root) {
        gk_error("inspection found an operating system without a root device");
        return -1;
    }
    if (gk_guest_mount(g, os->root, "/") < 0)
        return -1;
    struct mp_ent *order = gk_calloc((size_t)os->nmps + 1, sizeof *order);
    int n = 0;
    for (int i = 0; i < os->nmps; i++) {
        if (!os->mps[i].mountpoint || !os->mps[i].dev)
            continue;
        order[n].norm = mp_normalise(os->mps[i].mountpoint);
        order[n++].idx = i;
    }
    if (n > 1)
        qsort(order, (size_t)n, sizeof *order, mp_cmp);
    int tries = 0;
    for (int k = 0; k < n; k++) {
        const char *mp = order[k].norm, *dev = os->mps[order[k].idx].dev;
        if (strcmp(mp, "/") == 0)
            continue;
        /* A mountpoint named twice is mounted once (the first entry, as
         * for "/"): an fstab repeating a line 50,000 times must not stack
         * 50,000 filesystems. */
        if (k > 0 && strcmp(order[k - 1].norm, mp) == 0) {
            gk_debug("%s: mountpoint listed again in fstab (%s ignored)", mp, dev);
            continue;
        }
        /* every attempt opens a filesystem: bounded, like the mounts */
        if (gk_vfs_nmounts(g->vfs) >= GK_VFS_MAX_MOUNTS || ++tries > 4 * GK_VFS_MAX_MOUNTS) {
            gk_warn("more than %d filesystems to mount: %s and the rest are not mounted",
                    GK_VFS_MAX_MOUNTS, mp);
            break;
        }
        /* a device we know we cannot read is not tried */
        gk_devent *e = gk_devset_find(g->devs, dev);
        char *why = e ? gk_guest_unreadable(g, e) : NULL;
        if (!why && gk_guest_mount(g, dev, mp) >= 0)
            continue;
        if (!why)
            why = gk_strdup(gk_errmsg());
        gk_warn("%s: %s (not mounted)", mp, why);
        /* keep the reason on the mountpoint: listing it says why */
        gk_fs *fs = gk_fs_unreadable(e ? gk_devent_probe(e)->type : NULL, why);
        free(why);
        if (gk_vfs_mount(g->vfs, fs, mp, e ? e->name : dev) < 0)
            gk_fs_close(fs);
    }
    for (int k = 0; k < n; k++)
        free(order[k].norm);
    free(order);
    return 0;
}
