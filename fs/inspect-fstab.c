/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /etc/fstab of an inspected root and the mapping of the guest's device
 * names to ours, following libguestfs' inspect_fs_unix_fstab.ml:
 * UUID=/LABEL=/PARTUUID=/PARTLABEL= that cannot be found drop the entry;
 * a /dev/ path we cannot map is kept under its own (canonical) name, so
 * it shows in the filesystems list without a type; pseudo filesystems
 * (tmpfs, proc...) are ignored.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "inspect-int.h"

enum { BY_UUID, BY_LABEL, BY_PARTUUID, BY_PARTLABEL };

/* Does e match (the probe only for UUID= and LABEL=)? */
static int matches(gk_devent *e, int what, const char *val)
{
    const gk_probe *p = what == BY_UUID || what == BY_LABEL ? gk_devent_probe(e) : NULL;
    const char *have = what == BY_UUID ? p->uuid :
                       what == BY_LABEL ? p->label :
                       what == BY_PARTUUID ? e->partuuid : e->partlabel;
    if (!have)
        return 0;
    return (what == BY_UUID || what == BY_PARTUUID) ? strcasecmp(have, val) == 0 : strcmp(have, val) == 0;
}

/* findfs: the first device whose probe (or partition entry) matches.
 * Disks with partitions and LVM PVs come last: they hold no filesystem of
 * their own (see gk_inspect_os), and probing one reads both its ends. */
static gk_devent *find_by(gk_guest *g, int what, const char *val)
{
    if (!*val)
        return NULL;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < g->devs->nents; i++) {
            gk_devent *e = &g->devs->ents[i];
            int last = gk_devent_holds_no_fs(e);
            if (last == pass && matches(e, what, val))
                return e;
        }
    return NULL;
}

static gk_devent *find_name(gk_guest *g, const char *name)
{
    /* gk_devset_find records an error when it fails: that is not ours */
    return gk_devset_find(g->devs, name);
}

char *insp_canonical_name(const char *dev)
{
    /* /dev/hdX, /dev/vdX, /dev/xvdX -> /dev/sdX (the letters stay) */
    const char *rest = NULL;
    if (!strncmp(dev, "/dev/hd", 7) || !strncmp(dev, "/dev/vd", 7))
        rest = dev + 7;
    else if (!strncmp(dev, "/dev/xvd", 8))
        rest = dev + 8;
    if (rest && islower((unsigned char)*rest)) {
        const char *p = rest;
        while (islower((unsigned char)*p))
            p++;
        while (isdigit((unsigned char)*p))
            p++;
        if (!*p)
            return gk_asprintf("/dev/sd%s", rest);
    }
    return gk_strdup(dev);
}

/* /dev/mapper/VG-LV: LVM doubles the dashes inside names. */
static char *mapper_to_lv(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < n; i++) {
        if (name[i] != '-')
            continue;
        if (name[i + 1] == '-') {
            i++;
            continue;
        }
        if (i == 0 || i + 1 == n)
            return NULL;
        char *out = gk_malloc(n + 7), *w = out;
        w += sprintf(w, "/dev/");
        for (size_t j = 0; j < n; j++) {
            if (j == i) {
                *w++ = '/';
                continue;
            }
            *w++ = name[j];
            if (name[j] == '-' && name[j + 1] == '-')
                j++;
        }
        *w = 0;
        return out;
    }
    return NULL;
}

static void strip_dashes(const char *in, char *out, size_t outsz)
{
    size_t w = 0;
    for (; *in && w + 1 < outsz; in++)
        if (*in != '-')
            out[w++] = *in;
    out[w] = 0;
}

/* Resolve a /dev/ path from the guest.  Returns our name (resolved = 1),
 * or the canonical form of spec (resolved = 0). */
static char *resolve_dev(gk_guest *g, const char *spec, const char *rootdev, int *resolved)
{
    gk_devent *e = NULL;
    *resolved = 1;
    if (!strcmp(spec, "/dev/root"))
        return gk_strdup(rootdev);
    if (!strncmp(spec, "/dev/mapper/", 12)) {
        char *lv = mapper_to_lv(spec + 12);
        if (lv)
            e = find_name(g, lv);
        free(lv);
        if (e && e->kind == GK_LV)
            return gk_strdup(e->name);
    } else if (!strncmp(spec, "/dev/disk/by-uuid/", 18)) {
        if ((e = find_by(g, BY_UUID, spec + 18)))
            return gk_strdup(e->name);
    } else if (!strncmp(spec, "/dev/disk/by-label/", 19)) {
        if ((e = find_by(g, BY_LABEL, spec + 19)))
            return gk_strdup(e->name);
    } else if (!strncmp(spec, "/dev/disk/by-partuuid/", 22)) {
        if ((e = find_by(g, BY_PARTUUID, spec + 22)))
            return gk_strdup(e->name);
    } else if (!strncmp(spec, "/dev/disk/by-partlabel/", 23)) {
        if ((e = find_by(g, BY_PARTLABEL, spec + 23)))
            return gk_strdup(e->name);
    } else if (!strncmp(spec, "/dev/disk/by-id/dm-uuid-LVM-", 28) && strlen(spec + 28) == 64) {
        const char *u = spec + 28;
        for (int i = 0; i < g->devs->nlvs; i++) {
            gk_lv *lv = &g->devs->lvs[i];
            char a[80], b[80];
            strip_dashes(lv->uuid ? lv->uuid : "", b, sizeof b);
            const char *vgu = NULL;
            for (int j = 0; j < g->devs->nvgs; j++)
                if (lv->vg && g->devs->vgs[j].name && !strcmp(g->devs->vgs[j].name, lv->vg))
                    vgu = g->devs->vgs[j].uuid;
            strip_dashes(vgu ? vgu : "", a, sizeof a);
            if (strlen(a) == 32 && strlen(b) == 32 && !strncmp(u, a, 32) && !strcmp(u + 32, b)) {
                char *name = gk_asprintf("/dev/%s/%s", lv->vg, lv->name);
                e = find_name(g, name);
                free(name);
                if (e)
                    return gk_strdup(e->name);
            }
        }
    } else if (!strncmp(spec, "/dev/disk/by-id/", 16)) {
        /* ...-partN: only meaningful with a single disk */
        const char *p = strstr(spec, "-part");
        const char *last = NULL;
        for (; p; p = strstr(p + 1, "-part"))
            last = p;
        if (last && g->devs->ndisks == 1 && last[5] && strspn(last + 5, "0123456789") == strlen(last + 5)) {
            char *name = gk_asprintf("/dev/sda%s", last + 5);
            e = find_name(g, name);
            free(name);
            if (e && e->kind == GK_PART)
                return gk_strdup(e->name);
        }
    } else {
        /* ^/dev/(h|s|v|xv)d([a-z]+)(\d*)$ */
        const char *p = NULL;
        if (!strncmp(spec, "/dev/hd", 7) || !strncmp(spec, "/dev/sd", 7) || !strncmp(spec, "/dev/vd", 7))
            p = spec + 7;
        else if (!strncmp(spec, "/dev/xvd", 8))
            p = spec + 8;
        if (p && islower((unsigned char)*p)) {
            const char *q = p;
            long idx = 0;
            while (islower((unsigned char)*q) && idx < 100000)
                idx = idx * 26 + (*q++ - 'a' + 1);
            idx--;
            const char *num = q;
            while (isdigit((unsigned char)*q))
                q++;
            if (!*q && idx < g->devs->ndisks) {
                char *name = gk_asprintf("/dev/sd%.*s%s", (int)(num - p), p, num);
                e = find_name(g, name);
                free(name);
                if (e && (e->kind == GK_PART || e->kind == GK_DISK))
                    return gk_strdup(e->name);
            }
        }
    }
    /* anything else that names one of our devices as it is: /dev/VG/LV */
    e = find_name(g, spec);
    if (e && strcmp(e->name, spec) == 0)
        return gk_strdup(e->name);
    *resolved = 0;
    return insp_canonical_name(spec);
}

static char *unquote(char *s)
{
    size_t n = strlen(s);
    if (n >= 2 && ((s[0] == '"' && s[n - 1] == '"') || (s[0] == '\'' && s[n - 1] == '\''))) {
        s[n - 1] = 0;
        return s + 1;
    }
    return s;
}

/* The device of an fstab spec: our name; NULL with *drop to ignore the
 * entry; *resolved says whether it names one of our devices. */
static char *resolve_spec(gk_guest *g, char *spec, const char *rootdev, int *resolved)
{
    static const struct { const char *pfx; int what; } ids[] = {
        {"UUID=", BY_UUID}, {"LABEL=", BY_LABEL},
        {"PARTUUID=", BY_PARTUUID}, {"PARTLABEL=", BY_PARTLABEL},
    };
    *resolved = 0;
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        size_t n = strlen(ids[i].pfx);
        if (strncmp(spec, ids[i].pfx, n) == 0) {
            gk_devent *e = find_by(g, ids[i].what, unquote(spec + n));
            if (!e)
                return NULL;
            *resolved = 1;
            return gk_strdup(e->name);
        }
    }
    if (strncmp(spec, "/dev/", 5) == 0)
        return resolve_dev(g, spec, rootdev, resolved);
    return NULL;    /* tmpfs, proc, /.swap... */
}

char *gk_inspect_resolve_fstab_dev(gk_guest *g, const char *spec)
{
    char *copy = gk_strdup(spec);
    int resolved;
    char *r = resolve_spec(g, copy, "/dev/root", &resolved);
    free(copy);
    if (r && resolved)
        return r;
    free(r);
    gk_error("%s: no such device in this guest", spec);
    return NULL;
}

/* "///usr//local//" -> "/usr/local" */
static void canonical_path(char *p)
{
    char *w = p;
    for (char *r = p; *r; r++)
        if (!(*r == '/' && w > p && w[-1] == '/'))
            *w++ = *r;
    *w = 0;
    if (w - p > 1 && w[-1] == '/')
        w[-1] = 0;
}

static int ignored_mp(const char *mp)
{
    static const char *const dirs[] = {"/dev", "/proc", "/selinux", "/sys"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        size_t n = strlen(dirs[i]);
        if (!strncmp(mp, dirs[i], n) && (mp[n] == 0 || mp[n] == '/'))
            return 1;
    }
    return !strncmp(mp, "/media/", 7);
}

static int ignored_spec(const char *s)
{
    if ((!strncmp(s, "/dev/fd", 7) || !strncmp(s, "/dev/cd", 7)) && isdigit((unsigned char)s[7]))
        return 1;
    return !strcmp(s, "/dev/floppy") || !strcmp(s, "/dev/cdrom") ||
           !strncmp(s, "/dev/iso9660/", 13);
}

void insp_fsinfo_fill(gk_guest *g, gk_fsinfo *f)
{
    char *subvol;      /* a btrfs subvolume is described by its device */
    gk_devent *e = gk_devset_find_mountable(g->devs, f->dev, &subvol);
    if (!e || (!subvol && strcmp(e->name, f->dev) != 0)) {
        free(subvol);
        return;
    }
    free(subvol);
    const gk_probe *p = gk_devent_probe(e);
    if (p->type && *p->type)
        f->type = gk_strdup(p->type);
    if (p->label && *p->label)
        f->label = gk_strdup(p->label);
    if (p->uuid && *p->uuid)
        f->uuid = gk_strdup(p->uuid);
}

/* Room for one more of n elements: the array doubles at powers of two (an
 * fstab of 100,000 lines must not copy its arrays 100,000 times). */
static void *grow(void *p, int n, size_t size)
{
    if (n == 0 || (n & (n - 1)) == 0)
        p = gk_realloc(p, (size_t)(n ? 2 * n : 1) * size);
    return p;
}

void insp_add(gk_guest *g, gk_os *os, const char *mp, const char *dev, int probed)
{
    if (mp) {
        os->mps = grow(os->mps, os->nmps, sizeof *os->mps);
        os->mps[os->nmps].mountpoint = gk_strdup(mp);
        os->mps[os->nmps].dev = gk_strdup(dev);
        os->nmps++;
    }
    os->fss = grow(os->fss, os->nfss, sizeof *os->fss);
    gk_fsinfo *f = &os->fss[os->nfss++];
    memset(f, 0, sizeof *f);
    f->dev = gk_strdup(dev);
    if (probed)
        insp_fsinfo_fill(g, f);
}

/* /dev/mdN in fstab: the array mdadm.conf gives that name, found by its
 * UUID among the arrays we assembled (libguestfs maps it the same way).
 * NULL when it is not there. */
static char *md_from_conf(gk_guest *g, gk_vfs *v, const char *spec)
{
    const char *p = spec + 7;
    if (strncmp(spec, "/dev/md", 7) != 0 || !*p || strspn(p, "0123456789") != strlen(p))
        return NULL;
    char *buf, *res = NULL;
    size_t len;
    if (insp_read(v, "/etc/mdadm.conf", INSP_FSTAB_MAX, &buf, &len) != 0 &&
        insp_read(v, "/etc/mdadm/mdadm.conf", INSP_FSTAB_MAX, &buf, &len) != 0)
        return NULL;
    char *cur = buf, *line;
    while (!res && (line = insp_next_line(&cur, NULL))) {
        char *save, *w = strtok_r(line, " \t", &save);
        if (!w || strcmp(w, "ARRAY") != 0 || !(w = strtok_r(NULL, " \t", &save)) ||
            strcmp(w, spec) != 0)
            continue;
        char want[40];
        want[0] = 0;
        while ((w = strtok_r(NULL, " \t", &save)))
            if (strncasecmp(w, "UUID=", 5) == 0)
                strip_dashes(w + 5, want, sizeof want);
        for (int i = 0; want[0] && i < g->devs->nents; i++) {
            const gk_devent *e = &g->devs->ents[i];
            char have[40];
            if (e->kind != GK_MD || !e->md_uuid)
                continue;
            strip_dashes(e->md_uuid, have, sizeof have);
            if (strcasecmp(have, want) == 0)
                res = gk_strdup(e->name);
        }
    }
    free(buf);
    return res;
}

/* The value of option key ("subvol=") in a comma-separated list, malloc'd. */
static char *fstab_option(const char *opts, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = opts; p && *p;) {
        size_t n = strcspn(p, ",");
        if (n > kl && strncmp(p, key, kl) == 0)
            return gk_strndup(p + kl, n - kl);
        p += n + (p[n] == ',');
    }
    return NULL;
}

/* A btrfs entry with subvol= (libguestfs) or subvolid= (resolved to the
 * subvolume's path) names the subvolume: "btrfsvol:/dev/sda2/root".
 * Takes ownership of dev. */
static char *btrfs_mountable(gk_guest *g, char *dev, const char *opts)
{
    char *sv = fstab_option(opts, "subvol=");
    if (!sv) {
        char *id = fstab_option(opts, "subvolid="), *end;
        unsigned long long n = id ? strtoull(id, &end, 0) : 0;
        if (id && *id && !*end && n != 5 && n != 0) {
            gk_fs *fs = gk_guest_fs_open(g, dev, NULL, "btrfs", 0, NULL);
            gk_subvol *v = NULL;
            size_t nv = 0;
            if (fs && gk_fs_subvolumes(fs, &v, &nv) == 0)
                for (size_t i = 0; i < nv && !sv; i++)
                    if (v[i].id == n)
                        sv = gk_strdup(v[i].path);
            if (!sv)
                gk_debug("inspect: fstab: %s subvolid=%s: no such subvolume", dev, id);
            gk_subvols_free(v, nv);
            gk_fs_close(fs);
        }
        free(id);
    }
    if (!sv)
        return dev;
    const char *path = sv;
    while (*path == '/')
        path++;
    char *m = *path ? gk_asprintf("btrfsvol:%s/%s", dev, path) : gk_strdup(dev);
    free(sv);
    free(dev);
    return m;
}

void insp_fstab(gk_guest *g, gk_vfs *v, gk_os *os)
{
    char *buf;
    size_t len;
    if (insp_read(v, "/etc/fstab", INSP_FSTAB_MAX, &buf, &len) != 0)
        return;
    char *cur = buf, *line;
    int have_root = 0, nlines = 0;
    while ((line = insp_next_line(&cur, NULL)) && nlines++ < 100000) {
        char *save, *spec, *mp, *type, *opts;
        if (!(spec = strtok_r(line, " \t", &save)) || *spec == '#')
            continue;
        if (!(mp = strtok_r(NULL, " \t", &save)) || !(type = strtok_r(NULL, " \t", &save)))
            continue;   /* Augeas' lens wants spec, file and vfstype */
        opts = strtok_r(NULL, " \t", &save);
        if (ignored_spec(spec))
            continue;
        canonical_path(mp);
        if (ignored_mp(mp))
            continue;
        int resolved = 1;
        char *dev = md_from_conf(g, v, spec);
        if (!dev)
            dev = resolve_spec(g, spec, os->root, &resolved);
        if (!dev) {
            gk_debug("inspect: fstab: %s %s: not one of our devices, ignored", spec, mp);
            continue;
        }
        if (resolved && !strcmp(type, "btrfs"))
            dev = btrfs_mountable(g, dev, opts);
        if (!strcmp(mp, "/")) {
            if (have_root) {       /* the first / wins */
                gk_warn("%s: /etc/fstab: several entries for /, using the first", os->root);
                free(dev);
                continue;
            }
            have_root = 1;
        }
        insp_add(g, os, mp[0] == '/' ? mp : NULL, dev, resolved);
        free(dev);
    }
    free(buf);
}
