/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gdf: filesystem usage of a disk image, like virt-df.  Every -a image
 * belongs to one guest, named after the first image ("+" for each more). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

enum { OPT_CSV = 0x2000, OPT_INODES, OPT_HUMAN, OPT_ONE, OPT_UUID };

static const struct option longopts[] = {
    {"csv", no_argument, 0, OPT_CSV},
    {"inodes", no_argument, 0, OPT_INODES},
    {"human-readable", no_argument, 0, OPT_HUMAN},
    {"one-per-guest", no_argument, 0, OPT_ONE},
    {"uuid", no_argument, 0, OPT_UUID},
    {0, 0, 0, 0},
};

static int csv, inodes, human;

static void usage(FILE *f)
{
    fprintf(f,
        "gdf: display free space on the filesystems of a disk image (like virt-df)\n"
        "Usage:\n"
        "  gdf [--options] -a IMAGE [-a IMAGE...]\n"
        "  gdf [--options] IMAGE [IMAGE...]\n"
        "Options:\n"
        "  -a, --add IMAGE      add a disk image (every image is one guest)\n"
        "  --format[=raw|..]    force the format of the following -a images\n"
        "  --csv                comma-separated values\n"
        "  -h, --human-readable sizes like 1.5G\n"
        "  -i, --inodes         inode usage instead of blocks\n"
        "  --one-per-guest      accepted for compatibility (the default)\n"
        "  -U, -v, -V, --help   as in the other tools\n");
}

static int handler(int opt, const char *arg, void *ud)
{
    (void)arg; (void)ud;
    switch (opt) {
    case OPT_CSV: csv = 1; break;
    case 'h': case OPT_HUMAN: human = 1; break;
    case OPT_INODES: inodes = 1; break;
    case OPT_ONE: break;
    case OPT_UUID:
        /* virt-df prints a libvirt domain's UUID in place of its name; disk
         * images given with -a have none (virt-df prints the name then, so
         * the option would do nothing here): refused rather than ignored */
        fprintf(stderr, "gdf: --uuid: images given with -a have no UUID to print "
                        "(virt-df takes it from a libvirt domain, -d, which gdf does not read)\n");
        return -1;
    default: return -1;
    }
    return 0;
}

/* n blocks of from bytes in units of to bytes, the way virt-df scales. */
static uint64_t scale(uint64_t n, uint64_t from, uint64_t to)
{
    if (from >= to)
        return n * (from / to);
    return n / (to / from);
}

static void print_title(void)
{
    const char *c[6] = { "VirtualMachine", "Filesystem",
        inodes ? "Inodes" : human ? "Size" : "1K-blocks",
        inodes ? "IUsed" : "Used", inodes ? "IFree" : "Available",
        inodes ? "IUse%" : "Use%" };
    if (!csv) {
        printf("%-36s%10s %10s %10s %5s\n", c[1], c[2], c[3], c[4], c[5]);
        return;
    }
    for (int i = 0; i < 6; i++) {
        if (i)
            putchar(',');
        gk_csv_field(c[i]);
    }
    putchar('\n');
}

static void print_stat(const char *name, const char *dev, const gk_statvfs *s)
{
    char b[4][64];
    float percent;   /* as virt-df: computed in double, kept in float */
    uint64_t bsize = s->bsize ? s->bsize : 1024;
    if (!inodes) {
        if (!human) {
            snprintf(b[0], sizeof b[0], "%" PRIu64, scale(s->blocks, bsize, 1024));
            snprintf(b[1], sizeof b[1], "%" PRIu64, scale(s->blocks - s->bfree, bsize, 1024));
            snprintf(b[2], sizeof b[2], "%" PRIu64, scale(s->bavail, bsize, 1024));
        } else {
            gk_human_size(s->blocks * bsize, b[0], sizeof b[0]);
            gk_human_size((s->blocks - s->bfree) * bsize, b[1], sizeof b[1]);
            gk_human_size(s->bavail * bsize, b[2], sizeof b[2]);
        }
        /* virt-df computes in float */
        percent = s->blocks ? (float)(100. - 100. * (double)s->bfree / (double)s->blocks) : 0;
    } else {
        snprintf(b[0], sizeof b[0], "%" PRIu64, s->files);
        snprintf(b[1], sizeof b[1], "%" PRIu64, s->files - s->ffree);
        snprintf(b[2], sizeof b[2], "%" PRIu64, s->ffree);
        percent = s->files ? (float)(100. - 100. * (double)s->ffree / (double)s->files) : 0;
    }
    if (!csv)
        snprintf(b[3], sizeof b[3], "%3.0f%%", ceil((double)percent));
    else
        snprintf(b[3], sizeof b[3], "%.1f", (double)percent);
    if (!csv) {
        size_t len = strlen(name) + strlen(dev) + 1;
        printf("%s:%s", name, dev);
        if (len <= 36)
            printf("%*s", (int)(36 - len), "");
        else
            printf("\n%36s", "");
        printf("%10s %10s %10s %5s\n", b[0], b[1], b[2], b[3]);
    } else {
        gk_csv_field(name);
        putchar(',');
        gk_csv_field(dev);
        for (int i = 0; i < 4; i++) {
            putchar(',');
            gk_csv_field(b[i]);
        }
        putchar('\n');
    }
}

/* Is this device one libguestfs' list-filesystems would offer?  Not a
 * partitioned disk, not an extended partition, not a PV or RAID member. */
static int listable(gk_devset *s, gk_devent *e)
{
    if (e->kind == GK_DISK) {
        for (int i = 0; i < s->nents; i++)
            if (s->ents[i].kind == GK_PART && s->ents[i].disk_index == e->disk_index)
                return 0;
        if (e->disk_index >= 0 && e->disk_index < s->ndisks && s->disk_parttype &&
            s->disk_parttype[e->disk_index])
            return 0;
    }
    if (e->kind == GK_PART && (e->mbr_type == 0x05 || e->mbr_type == 0x0f || e->mbr_type == 0x85))
        return 0;
    const char *t = gk_devent_probe(e)->type;
    if (!t || !*t || strcmp(t, "swap") == 0 || strcmp(t, "unknown") == 0)
        return 0;
    size_t l = strlen(t);
    if (l >= 7 && strcmp(t + l - 7, "_member") == 0)
        return 0;
    if (strcmp(t, "crypto_LUKS") == 0 || strcmp(t, "BitLocker") == 0)
        return 0;
    return 1;
}

static char *display_name(gk_cli *c)
{
    const char *first = c->drives[0].path, *slash = strrchr(first, '/');
    const char *base = slash ? slash + 1 : first;
    size_t len = strlen(base);
    char *name = gk_malloc(len + (size_t)c->ndrives);
    memcpy(name, base, len);
    for (int i = 1; i < c->ndrives; i++)
        name[len++] = '+';
    name[len] = 0;
    return name;
}

int main(int argc, char **argv)
{
    gk_cli c;
    /* -i is --inodes here, as in virt-df, not --inspector */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "-i") == 0)
            argv[i] = "--inodes";
    }
    gk_cli_parse(&c, "gdf", argc, argv, "h", longopts, handler, NULL, usage);
    c.sb.needs |= GK_SB_NOTZ; /* prints no local time */
    if (c.ndrives == 0) {
        if (c.nargs == 0) {
            fprintf(stderr, "gdf: no disk image given\nTry 'gdf --help' for more information.\n");
            gk_cli_clear(&c);
            return 1;
        }
        c.drives = gk_calloc(c.nargs, sizeof *c.drives);
        for (int i = 0; i < c.nargs; i++)
            c.drives[i].path = c.args[i];
        c.ndrives = c.nargs;
        c.nargs = 0;
    }
    if (c.nargs > 0)
        gk_die("extra arguments on the command line: %s", c.args[0]);
    if (human && csv)
        gk_die("you cannot use -h and --csv options together");
    if (c.nmounts > 0)
        gk_die("-m is not used by gdf: every filesystem is shown");

    gk_guest *g = gk_cli_launch(&c);
    char *name = display_name(&c);
    print_title();
    gk_devset *s = g->devs;
    for (int i = 0; i < s->nents; i++) {
        gk_devent *e = &s->ents[i];
        if (!listable(s, e))
            continue;
        char *why = gk_guest_unreadable(g, e);
        if (why) {
            gk_warn("%s (skipped)", why);
            free(why);
            continue;
        }
        /* the filesystem, then its btrfs subvolumes as virt-df lists them */
        int nsub;
        char **sub = gk_devset_subvolumes(s, e, &nsub);
        for (int k = -1; k < nsub; k++) {
            const char *fsname = k < 0 ? e->name : sub[k];
            gk_fs *fs = gk_guest_fs_open(g, fsname, NULL, NULL, 0, NULL);
            if (!fs) {
                gk_warn("%s: %s", fsname, gk_errmsg());
                continue;
            }
            gk_statvfs sv;
            memset(&sv, 0, sizeof sv);
            if (gk_fs_statvfs(fs, &sv) < 0)
                gk_warn("%s: statvfs: %s", fsname, gk_errmsg());
            else
                print_stat(name, fsname, &sv);
            gk_fs_close(fs);
        }
        gk_names_free(sub, nsub);
    }
    fflush(stdout);
    free(name);
    gk_guest_free(g);
    gk_cli_clear(&c);
    return 0;
}
