/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing qcow2 images through the block layer, with qemu as the oracle.
 *
 * Without arguments (the unit test): for several image layouts (cluster
 * sizes, v2/v3, extended L2, refcount widths, a backing file, snapshots
 * made by qemu-img, compressed clusters made by qemu-img), a seeded series
 * of random writes goes through gk_pwrite while the same bytes go into a
 * raw mirror; then qemu-img check must be clean, qemu-img compare must find
 * the image equal to the mirror, qemu-io must write into it and the check
 * stay clean.
 *
 * With arguments, the halves of the crash test (tests/16-qcow2-crash.t,
 * tests/crash/qcow2-crash.sh):
 *   writer IMG SEED NOPS LOG   the ops of SEED on IMG; after every flush
 *                              "K" (ops done) is appended to LOG, fsynced;
 *                              CRASH_KEY in the environment: the passphrase
 *                              of an encrypted IMG
 *   verify IMG.raw BASE.raw SEED NOPS K
 *                              IMG.raw (qemu-img convert of the image after
 *                              the kill) must equal BASE.raw with ops 1..K
 *                              applied, except where ops after K wrote
 *   hold IMG                   open IMG read-write, print "ready", wait
 *                              until stdin closes (lock tests) */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk.h"
#include "sh.h"
#include "tap.h"

static char dir[] = "/tmp/gkqw.XXXXXX";

/* ---- the ops of a seed ---- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

struct op {
    uint64_t off, len;
    uint8_t fill;          /* pattern seed                       */
};

/* Op i of seed: offsets anywhere (a hot first quarter gets half of them, so
 * that clusters are rewritten), lengths up to 200 KiB. */
static void op_of(uint64_t seed, uint64_t i, uint64_t size, struct op *o)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + i * 0xBF58476D1CE4E5B9ULL + 1;
    for (int k = 0; k < 4; k++)
        rng_next(&s);
    o->len = 1 + rng_next(&s) % (200u << 10);
    if (rng_next(&s) % 4 == 0)
        o->len &= ~511ULL, o->len += 512;
    uint64_t span = rng_next(&s) % 2 ? size / 4 : size;
    if (o->len > span)
        o->len = span;
    o->off = rng_next(&s) % (span - o->len + 1);
    o->fill = (uint8_t)(rng_next(&s) | 1);
}

static void op_data(const struct op *o, uint8_t *buf)
{
    for (uint64_t j = 0; j < o->len; j++)
        buf[j] = (uint8_t)(o->fill * (uint8_t)(j + 1) + (uint8_t)(j >> 9));
}

/* ---- the unit test ---- */

static int random_writes(gk_dev *d, const char *mirror, uint64_t seed, int nops)
{
    int fd = open(mirror, O_WRONLY);
    if (fd < 0)
        return -1;
    uint8_t *buf = malloc(200u << 10);
    int rc = 0;
    for (int i = 1; i <= nops && rc == 0; i++) {
        struct op o;
        op_of(seed, (uint64_t)i, d->size, &o);
        op_data(&o, buf);
        if (gk_pwrite(d, buf, o.len, o.off) < 0) {
            printf("# op %d: %s\n", i, gk_errmsg());
            rc = -1;
        } else if (pwrite(fd, buf, o.len, (off_t)o.off) != (ssize_t)o.len) {
            rc = -1;
        }
        if (i % 7 == 0 && gk_flush(d) < 0)
            rc = -1;
    }
    free(buf);
    close(fd);
    return rc;
}

struct layout {
    const char *name;
    const char *prep;      /* shell, in dir: makes img.qcow2 and mirror.raw */
    const char *key;       /* encrypted (LUKS) with this passphrase, or NULL */
};

#define UNIT_SECRET "--object secret,id=s,data=unitpw "
#define UNIT_IMGOPTS "--image-opts driver=qcow2,file.filename=img.qcow2,encrypt.key-secret=s"


static const struct layout layouts[] = {
    {"v3 64k", "qemu-img create -f qcow2 img.qcow2 64M && truncate -s 64M mirror.raw", NULL},
    {"v2", "qemu-img create -f qcow2 -o compat=0.10 img.qcow2 64M && truncate -s 64M mirror.raw", NULL},
    {"512-byte clusters, 1-bit refcounts",
     "qemu-img create -f qcow2 -o cluster_size=512,refcount_bits=1 img.qcow2 64M && truncate -s 64M mirror.raw", NULL},
    {"4k clusters, 64-bit refcounts",
     "qemu-img create -f qcow2 -o cluster_size=4k,refcount_bits=64 img.qcow2 64M && truncate -s 64M mirror.raw", NULL},
    {"extended L2",
     "qemu-img create -f qcow2 -o extended_l2=on,cluster_size=128k img.qcow2 64M && truncate -s 64M mirror.raw", NULL},
    {"raw backing file",
     "truncate -s 64M base.raw && qemu-io -f raw -c 'write -P 0x11 0 40M' base.raw && "
     "qemu-img create -f qcow2 -b base.raw -F raw img.qcow2 && cp base.raw mirror.raw", NULL},
    {"qcow2 backing file, 8k clusters",
     "qemu-img create -f qcow2 base.qcow2 64M && qemu-io -c 'write -P 0x22 1M 20M' base.qcow2 && "
     "qemu-img create -f qcow2 -o cluster_size=8k -b base.qcow2 -F qcow2 img.qcow2 && "
     "qemu-img convert -O raw img.qcow2 mirror.raw", NULL},
    {"snapshot made by qemu-img",
     "qemu-img create -f qcow2 img.qcow2 64M && qemu-io -c 'write -P 0x33 0 30M' img.qcow2 && "
     "qemu-img snapshot -c s1 img.qcow2 && qemu-img convert -O raw img.qcow2 mirror.raw", NULL},
    {"compressed clusters made by qemu-img",
     "truncate -s 64M src.raw && qemu-io -f raw -c 'write -P 0x44 0 30M' src.raw && "
     "qemu-img convert -c -O qcow2 src.raw img.qcow2 && cp src.raw mirror.raw", NULL},
    {"zstd compressed clusters",
     "truncate -s 64M src.raw && qemu-io -f raw -c 'write -P 0x45 0 30M' src.raw && "
     "qemu-img convert -c -O qcow2 -o compression_type=zstd src.raw img.qcow2 && cp src.raw mirror.raw", NULL},
    /* writes of any length and alignment through the encryption: partial
     * sectors become whole-cluster rewrites */
    {"LUKS encrypted, 64k",
     "qemu-img create -q -f qcow2 " UNIT_SECRET "-o encrypt.format=luks,encrypt.key-secret=s,"
     "encrypt.iter-time=10 img.qcow2 64M && truncate -s 64M mirror.raw", "unitpw"},
    {"LUKS encrypted, cbc-essiv, 4k clusters, extended L2 over an encrypted backing file",
     "qemu-img create -q -f qcow2 " UNIT_SECRET "-o encrypt.format=luks,encrypt.key-secret=s,"
     "encrypt.iter-time=10 base.qcow2 64M && qemu-io " UNIT_SECRET "-c 'write -P 0x55 1M 20M' "
     "--image-opts driver=qcow2,file.filename=base.qcow2,encrypt.key-secret=s >/dev/null && "
     "qemu-img create -q -f qcow2 " UNIT_SECRET "-u -b base.qcow2 -F qcow2 -o encrypt.format=luks,"
     "encrypt.key-secret=s,encrypt.iter-time=10,encrypt.cipher-alg=aes-128,encrypt.cipher-mode=cbc,"
     "encrypt.ivgen-alg=essiv,encrypt.ivgen-hash-alg=sha256,cluster_size=32k,extended_l2=on "
     "img.qcow2 64M && qemu-img convert " UNIT_SECRET UNIT_IMGOPTS ",backing.encrypt.key-secret=s "
     "-O raw mirror.raw", "unitpw"},
};

static int unit(void)
{
    sh_dir = dir;
    if (!mkdtemp(dir)) {
        printf("1..0 # SKIP no temporary directory\n");
        return 0;
    }
    if (system("qemu-img --version >/dev/null 2>&1") != 0) {
        printf("1..0 # SKIP qemu-img not installed\n");
        return 0;
    }
    gk_warn_hook = tap_warn;
    for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
        const struct layout *L = &layouts[l];
        /* qemu's PBKDF benchmark fails now and then ("Unable to get
         * accurate CPU usage"): make check runs this binary directly, not
         * through tests/lib.sh and its tests/oracle-bin/qemu-img, so a
         * failed preparation is retried here, from an empty directory */
        int prep = 1;
        for (int t = 0; t < 5 && prep != 0; t++) {
            if (t)
                sleep(1);
            sh("rm -f *");
            prep = sh("%s", L->prep);
        }
        if (!ok(prep == 0, "%s: prepared with qemu-img", L->name))
            continue;
        char *img = gk_asprintf("%s/img.qcow2", dir), *mirror = gk_asprintf("%s/mirror.raw", dir);
        gk_open_opts o = {.format = "qcow2", .readwrite = 1, .key = L->key,
                          .keylen = L->key ? strlen(L->key) : 0};
        gk_dev *d = gk_open_image(img, &o);
        if (ok(d != NULL, "%s: opened read-write", L->name)) {
            ok(random_writes(d, mirror, 1000 + l, 60) == 0, "%s: 60 random writes", L->name);
            ok(gk_flush(d) == 0, "%s: flush", L->name);
            gk_dev_unref(d);
        } else {
            printf("# %s\n", gk_errmsg());
        }
        /* encrypted: qemu opens it (and its backing file) with the key */
        const char *sec = L->key ? UNIT_SECRET : "";
        const char *spec = L->key ? UNIT_IMGOPTS ",backing.encrypt.key-secret=s" : "img.qcow2";
        const char *q2 = L->key ? "" : "-F qcow2 ";
        const char *m = L->key ? "--image-opts driver=raw,file.filename=mirror.raw" : "-f raw mirror.raw";
        if (L->key && !strstr(L->prep, "base.qcow2"))
            spec = UNIT_IMGOPTS;
        is_int(sh("qemu-img check %s%s", sec, spec), 0,
               "%s: qemu-img check clean", L->name);
        is_int(sh("qemu-img compare %s%s %s%s", sec, m, q2, spec), 0,
               "%s: qemu-img compare: the image holds what was written", L->name);
        is_int(sh("qemu-io %s-c 'write -P 0x77 3M 1M' -c 'write -P 0x78 40000 70000' %s >/dev/null && "
                  "qemu-io -f raw -c 'write -P 0x77 3M 1M' -c 'write -P 0x78 40000 70000' mirror.raw >/dev/null && "
                  "qemu-img check %s%s && qemu-img compare %s%s %s%s",
                  sec, spec, sec, spec, sec, m, q2, spec),
               0, "%s: qemu-io writes into it, still clean and equal", L->name);
        free(img);
        free(mirror);
    }
    sh("rm -f *");
    rmdir(dir);
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

/* ---- the crash test's halves ---- */

static int writer(const char *img, uint64_t seed, int nops, const char *log)
{
    const char *key = getenv("CRASH_KEY");
    gk_open_opts o = {.format = "qcow2", .readwrite = 1, .key = key, .keylen = key ? strlen(key) : 0};
    gk_dev *d = gk_open_image(img, &o);
    if (!d) {
        fprintf(stderr, "writer: %s\n", gk_errmsg());
        return 1;
    }
    int lfd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    uint8_t *buf = malloc(200u << 10);
    for (int i = 1; i <= nops; i++) {
        struct op op;
        op_of(seed, (uint64_t)i, d->size, &op);
        op_data(&op, buf);
        if (gk_pwrite(d, buf, op.len, op.off) < 0) {
            fprintf(stderr, "writer: op %d: %s\n", i, gk_errmsg());
            return 1;
        }
        if (i % 5 == 0 || i == nops) {
            if (gk_flush(d) < 0) {
                fprintf(stderr, "writer: flush: %s\n", gk_errmsg());
                return 1;
            }
            char line[32];
            int n = snprintf(line, sizeof line, "%d\n", i);
            if (write(lfd, line, (size_t)n) != n || fsync(lfd) < 0)
                return 1;
        }
    }
    free(buf);
    close(lfd);
    gk_dev_unref(d);
    return 0;
}

static int verify(const char *got, const char *base, uint64_t seed, int nops, int k)
{
    FILE *fg = fopen(got, "rb"), *fb = fopen(base, "rb");
    if (!fg || !fb) {
        fprintf(stderr, "verify: cannot open the images\n");
        return 2;
    }
    struct stat st;
    fstat(fileno(fb), &st);
    uint64_t size = (uint64_t)st.st_size;
    uint8_t *want = malloc(size), *have = malloc(size), *mask = calloc(size / 512 + 1, 1);
    uint8_t *buf = malloc(200u << 10);
    if (fread(want, 1, size, fb) != size || fread(have, 1, size, fg) != size) {
        fprintf(stderr, "verify: short image\n");
        return 2;
    }
    for (int i = 1; i <= nops; i++) {
        struct op o;
        op_of(seed, (uint64_t)i, size, &o);
        if (i <= k) {
            op_data(&o, buf);
            memcpy(want + o.off, buf, o.len);
        } else {
            for (uint64_t s = o.off / 512; s <= (o.off + o.len - 1) / 512; s++)
                mask[s] = 1;
        }
    }
    for (uint64_t s = 0; s < size / 512; s++) {
        if (!mask[s] && memcmp(want + s * 512, have + s * 512, 512) != 0) {
            fprintf(stderr, "verify: sector %llu differs from the state after op %d (flushed)\n",
                    (unsigned long long)s, k);
            return 1;
        }
    }
    return 0;
}

static int hold(const char *img)
{
    gk_open_opts o = {.format = "qcow2", .readwrite = 1};
    gk_dev *d = gk_open_image(img, &o);
    if (!d) {
        fprintf(stderr, "hold: %s\n", gk_errmsg());
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    char c;
    while (read(0, &c, 1) > 0)
        ;
    gk_dev_unref(d);
    return 0;
}

int main(int argc, char **argv)
{
    gk_progname = "unit-qcow2-write";
    if (argc == 6 && strcmp(argv[1], "writer") == 0)
        return writer(argv[2], strtoull(argv[3], NULL, 0), atoi(argv[4]), argv[5]);
    if (argc == 7 && strcmp(argv[1], "verify") == 0)
        return verify(argv[2], argv[3], strtoull(argv[4], NULL, 0), atoi(argv[5]), atoi(argv[6]));
    if (argc == 3 && strcmp(argv[1], "hold") == 0)
        return hold(argv[2]);
    return unit();
}
