/* SPDX-License-Identifier: GPL-2.0-or-later */
/* qcow2 write-zeroes and discard against qemu-io (the oracle): for image
 * layouts qemu-img makes (v3, v2 with and without a backing file, small
 * clusters over a qcow2 backing file, extended L2, compressed clusters,
 * clusters shared with a snapshot, external data files, raw and not), two
 * copies get the same series of zero writes (with and without unmap) and
 * discards, aligned and not, one through gk_pwrite_zeroes/gk_discard, the
 * other through qemu-io's write -z [-u] and discard.  Then qemu-img map
 * --output=json must give the same allocation (host offsets left out: a
 * fallback write may pick other free clusters), qemu-img compare the same
 * contents, and qemu-img check must be clean on both. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk.h"
#include "sh.h"
#include "tap.h"

static char dir[] = "/tmp/gkqz.XXXXXX";

/* stdout of a shell command in dir, host offsets taken out */
static char *map_of(const char *sub)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "cd %s/%s && qemu-img map --output=json img.qcow2 2>&1 | sed 's/, \"offset\": [0-9]*//'", dir,
             sub);
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *out = malloc(cap);
    size_t k;
    while ((k = fread(out + n, 1, cap - 1 - n, p)) > 0)
        n += k;
    out[n] = 0;
    pclose(p);
    return out;
}

struct op {
    char kind;         /* z: write zeroes, u: with unmap, d: discard */
    uint64_t off, len;
};

#define K 1024ULL
#define M (1024ULL * 1024)

/* in an 8 MiB disk holding data in its first 6 MiB (and a backing file's
 * where there is one) */
static const struct op ops[] = {
    {'z', 0, 64 * K},              /* a whole allocated cluster           */
    {'z', 100 * K, 20 * K},        /* inside a data cluster: written zeros */
    {'u', 128 * K, 256 * K},       /* whole clusters, freed               */
    {'z', M + 512, 4 * K},         /* unaligned, data                     */
    {'d', 2 * M, M},               /* whole clusters discarded            */
    {'d', 3 * M + 1000, 200 * K},  /* partial clusters left alone         */
    {'u', 6 * M + 32 * K, 96 * K}, /* unaligned head, aligned rest        */
    {'z', 6 * M + 520 * K, 8 * K}, /* where nothing is allocated          */
    {'z', 7 * M, M},               /* to the end of the disk              */
    {'u', 4 * M + 4 * K, 8 * K},   /* subclusters with extended L2        */
    {'z', 5 * M + 8 * K, 4 * K},
    {'d', 5 * M + 64 * K, 128 * K},
};

struct layout {
    const char *name;
    const char *prep;  /* shell, in dir/p: makes img.qcow2 (and what it names) */
};

#define DATA "qemu-io -c 'write -P 0x5a 0 6M' img.qcow2"
static const struct layout layouts[] = {
    {"v3, 64k", "qemu-img create -f qcow2 img.qcow2 8M && " DATA},
    {"v2, no backing file", "qemu-img create -f qcow2 -o compat=0.10 img.qcow2 8M && " DATA},
    {"v2 over a raw backing file",
     "truncate -s 8M b.raw && qemu-io -f raw -c 'write -P 0x11 0 8M' b.raw && "
     "qemu-img create -f qcow2 -o compat=0.10 -b b.raw -F raw img.qcow2 && "
     "qemu-io -c 'write -P 0x5a 0 3M' img.qcow2"},
    {"v3, 4k clusters over a qcow2 backing file",
     "qemu-img create -f qcow2 b.qcow2 8M && qemu-io -c 'write -P 0x11 1M 7M' b.qcow2 && "
     "qemu-img create -f qcow2 -o cluster_size=4k -b b.qcow2 -F qcow2 img.qcow2 && "
     "qemu-io -c 'write -P 0x5a 0 3M' -c 'write -P 0x5b 5M 16k' img.qcow2"},
    {"extended L2, 128k clusters over a backing file",
     "truncate -s 8M b.raw && qemu-io -f raw -c 'write -P 0x11 0 8M' b.raw && "
     "qemu-img create -f qcow2 -o extended_l2=on,cluster_size=128k -b b.raw -F raw img.qcow2 && "
     "qemu-io -c 'write -P 0x5a 0 3M' -c 'write -P 0x5b 4M 12k' -c 'write -P 0x5c 5M 4k' img.qcow2"},
    {"extended L2, 64k clusters",
     "qemu-img create -f qcow2 -o extended_l2=on img.qcow2 8M && " DATA},
    {"compressed clusters",
     "truncate -s 8M s.raw && qemu-io -f raw -c 'write -P 0x5a 0 6M' s.raw && "
     "qemu-img convert -c -O qcow2 s.raw img.qcow2"},
    {"clusters shared with a snapshot",
     "qemu-img create -f qcow2 img.qcow2 8M && " DATA " && qemu-img snapshot -c s img.qcow2"},
    {"external data file",
     "qemu-img create -f qcow2 -o data_file=img.dat img.qcow2 8M && " DATA},
    {"raw external data file",
     "qemu-img create -f qcow2 -o data_file=img.dat,data_file_raw=on img.qcow2 8M && " DATA},
};

static const char *qemu_io_cmd(const struct op *o, char *buf, size_t n)
{
    snprintf(buf, n, " -c '%s %llu %llu'",
             o->kind == 'd' ? "discard" : o->kind == 'u' ? "write -z -u" : "write -z",
             (unsigned long long)o->off, (unsigned long long)o->len);
    return buf;
}

int main(void)
{
    gk_progname = "unit-qcow2-zero";
    gk_warn_hook = tap_warn;
    sh_dir = dir;
    if (!mkdtemp(dir)) {
        printf("1..0 # SKIP no temporary directory\n");
        return 0;
    }
    if (system("qemu-io --version >/dev/null 2>&1") != 0) {
        printf("1..0 # SKIP qemu-io not installed\n");
        rmdir(dir);
        return 0;
    }
    char cmds[4096];
    size_t cl = 0;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        char one[128];
        qemu_io_cmd(&ops[i], one, sizeof one);
        cl += (size_t)snprintf(cmds + cl, sizeof cmds - cl, "%s", one);
    }
    for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
        const struct layout *L = &layouts[l];
        if (getenv("GK_ONLY") && !strstr(L->name, getenv("GK_ONLY")))
            continue;
        sh("rm -rf p g q");
        if (!ok(sh("mkdir p && cd p && %s", L->prep) == 0 && sh("cp -a p g && cp -a p q") == 0,
                "%s: prepared with qemu-img", L->name))
            continue;
        char *img = gk_asprintf("%s/g/img.qcow2", dir);
        gk_open_opts o = {.format = "qcow2", .readwrite = 1};
        gk_dev *d = gk_open_image(img, &o);
        free(img);
        if (!ok(d != NULL, "%s: opened read-write", L->name)) {
            printf("# %s\n", gk_errmsg());
            continue;
        }
        int rc = 0;
        for (size_t i = 0; i < sizeof ops / sizeof ops[0] && rc == 0; i++) {
            const struct op *op = &ops[i];
            rc = op->kind == 'd' ? gk_discard(d, op->off, op->len)
                                 : gk_pwrite_zeroes(d, op->off, op->len, op->kind == 'u' ? GK_ZERO_MAY_UNMAP : 0);
            if (rc < 0)
                printf("# op %zu: %s\n", i, gk_errmsg());
        }
        ok(rc == 0, "%s: zero writes and discards", L->name);
        ok(gk_flush(d) == 0, "%s: flush", L->name);
        gk_dev_unref(d);
        is_int(sh("cd q && qemu-io%s img.qcow2", cmds), 0, "%s: qemu-io does the same", L->name);
        char *gm = map_of("g"), *qm = map_of("q");
        is_str(gm, qm, "%s: qemu-img map: qemu's allocation", L->name);
        free(gm);
        free(qm);
        /* (qemu opens a data file relative to the working directory) */
        is_int(sh("(cd g && qemu-img convert -O raw img.qcow2 ../g.raw) && (cd q && qemu-img convert -O raw "
                  "img.qcow2 ../q.raw) && cmp g.raw q.raw && rm g.raw q.raw"),
               0, "%s: qemu-img convert: qemu's contents", L->name);
        is_int(sh("cd g && qemu-img check img.qcow2"), 0, "%s: qemu-img check clean", L->name);
        if (strstr(L->prep, "data_file_raw"))
            is_int(sh("cmp g/img.dat q/img.dat"), 0, "%s: the raw data file holds qemu's bytes", L->name);
    }
    if (getenv("GK_ONLY")) /* debugging one layout: its images are kept */
        printf("# kept in %s\n", dir);
    else
        sh("rm -rf p g q"), rmdir(dir);
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}
