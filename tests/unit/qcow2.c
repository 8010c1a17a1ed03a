/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The qcow2 driver against qemu: images are made with qemu-img/qemu-io, read
 * through gk_open_image and compared byte for byte with `qemu-img convert -O
 * raw`; block status with `qemu-img map --output=json`; info fields with
 * `qemu-img info --output=json`; gk_image_check with `qemu-img check
 * --output=json`. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk.h"
#include "qcow2.h"
#include "tap.h"

static char dir[] = "/tmp/gkqcow2.XXXXXX";

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = NULL;
    if (vasprintf(&cmd, fmt, ap) < 0)
        abort();
    va_end(ap);
    char *full = gk_asprintf("cd %s && (%s) >/dev/null 2>&1", dir, cmd);
    int rc = system(full);
    if (rc != 0)
        printf("# command failed: %s\n", cmd);
    free(cmd);
    free(full);
    return rc;
}

static char *slurp(const char *name, size_t *len)
{
    char *p = gk_asprintf("%s/%s", dir, name);
    int fd = open(p, O_RDONLY);
    free(p);
    if (fd < 0)
        return NULL;
    struct stat st;
    fstat(fd, &st);
    char *b = gk_malloc((size_t)st.st_size + 1);
    size_t n = 0;
    while (n < (size_t)st.st_size) {
        ssize_t k = read(fd, b + n, (size_t)st.st_size - n);
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    b[n] = 0;
    close(fd);
    *len = n;
    return b;
}

static gk_dev *open_img(const char *name, const char *snap)
{
    char *p = gk_asprintf("%s/%s", dir, name);
    gk_open_opts o = { 0 };
    o.snapshot = snap;
    o.untrusted = -1;
    gk_dev *d = gk_open_image(p, &o);
    if (!d)
        printf("# open %s: %s\n", name, gk_errmsg());
    free(p);
    return d;
}

/* Every byte of NAME (as of SNAP) equals qemu-img convert -O raw; reads in
 * chunks of an odd size so that requests straddle clusters and L2 tables. */
static void same_as_qemu(const char *name, const char *snap, const char *desc)
{
    if (sh("qemu-img convert -O raw %s%s %s ref.raw", snap ? "-l " : "", snap ? snap : "", name) != 0) {
        ok(0, "%s: qemu-img convert", desc);
        return;
    }
    size_t rlen;
    char *ref = slurp("ref.raw", &rlen);
    gk_dev *d = open_img(name, snap);
    if (!d || !ref) {
        ok(0, "%s: open", desc);
        free(ref);
        return;
    }
    /* qemu-img convert -l keeps the current size; the snapshot has its own */
    int size_ok = snap ? d->size <= rlen : d->size == rlen;
    size_t chunk = (1 << 20) + 3 * 512 + 17;
    char *buf = gk_malloc(chunk);
    int same = size_ok;
    for (uint64_t off = 0; same && off < d->size; off += chunk) {
        size_t n = d->size - off < chunk ? (size_t)(d->size - off) : chunk;
        if (gk_pread(d, buf, n, off) < 0) {
            printf("# read at %llu: %s\n", (unsigned long long)off, gk_errmsg());
            same = 0;
        } else if (memcmp(buf, ref + off, n) != 0) {
            printf("# differs in [%llu, +%zu)\n", (unsigned long long)off, n);
            same = 0;
        }
    }
    ok(same, "%s: same bytes as qemu-img convert (%llu bytes)", desc, (unsigned long long)d->size);
    free(buf);
    free(ref);
    gk_dev_unref(d);
}

/* Our block status rendered like qemu-img map --output=json, entries merged
 * the way qemu-img merges them. */
static void same_map(const char *name, const char *desc)
{
    if (sh("qemu-img map --output=json %s > map.json", name) != 0) {
        ok(0, "%s: qemu-img map", desc);
        return;
    }
    size_t len;
    char *want = slurp("map.json", &len);
    gk_dev *d = open_img(name, NULL);
    if (!d || !want) {
        ok(0, "%s: open", desc);
        free(want);
        return;
    }
    size_t cap = 1 << 16, n = 0;
    char *got = gk_malloc(cap);
    gk_extent cur = { 0 };
    int have = 0, err = 0;
    got[0] = 0;
#define EMIT(e)                                                                                           \
    do {                                                                                                  \
        char line[256];                                                                                   \
        int k = snprintf(line, sizeof line,                                                               \
                         "%s{ \"start\": %llu, \"length\": %llu, \"depth\": %d, \"present\": %s, \"zero\": %s, " \
                         "\"data\": %s",                                                                  \
                         n ? ",\n" : "[", (unsigned long long)(e).off, (unsigned long long)(e).len, (e).depth, \
                         (e).flags & GK_BS_ALLOCATED ? "true" : "false",                                  \
                         (e).flags & GK_BS_ZERO ? "true" : "false", (e).flags & GK_BS_DATA ? "true" : "false"); \
        if ((e).flags & GK_BS_OFFSET)                                                                     \
            k += snprintf(line + k, sizeof line - (size_t)k, ", \"offset\": %llu", (unsigned long long)(e).host_off); \
        snprintf(line + k, sizeof line - (size_t)k, "}");                                                 \
        if (n + strlen(line) + 8 > cap)                                                                   \
            got = gk_realloc(got, cap *= 2);                                                              \
        n += (size_t)sprintf(got + n, "%s", line);                                                        \
    } while (0)
    for (uint64_t off = 0; off < d->size;) {
        gk_extent e;
        if (gk_block_status(d, off, d->size - off, &e) < 0) {
            printf("# block status: %s\n", gk_errmsg());
            err = 1;
            break;
        }
        unsigned mask = GK_BS_ALLOCATED | GK_BS_ZERO | GK_BS_DATA | GK_BS_OFFSET;
        if (have && (cur.flags & mask) == (e.flags & mask) && cur.depth == e.depth &&
            (!(e.flags & GK_BS_OFFSET) ||
             (cur.host_off + cur.len == e.host_off && strcmp(cur.host_file, e.host_file) == 0))) {
            cur.len += e.len;
        } else {
            if (have)
                EMIT(cur);
            cur = e;
            have = 1;
        }
        off += e.len;
    }
    if (have)
        EMIT(cur);
    n += (size_t)sprintf(got + n, "]\n");
    if (!ok(!err && strcmp(got, want) == 0, "%s: block status matches qemu-img map", desc))
        printf("# got:\n%s# want:\n%s", got, want);
    free(got);
    free(want);
    gk_dev_unref(d);
}

/* A "key": value pair of qemu-img info --output=json appears verbatim. */
static int info_has(const char *json, const char *key, const char *val)
{
    char *pat = gk_asprintf("\"%s\": %s", key, val);
    int r = strstr(json, pat) != NULL;
    if (!r)
        printf("# qemu-img info has no %s\n", pat);
    free(pat);
    return r;
}

static void same_check(const char *name, const char *desc)
{
    sh("qemu-img check --output=json %s > check.json; true", name);
    size_t len;
    char *want = slurp("check.json", &len);
    gk_dev *d = open_img(name, NULL);
    gk_check_result r;
    if (!d || !want || gk_image_check(d, &r) < 0) {
        ok(0, "%s: check ran", desc);
        free(want);
        if (d)
            gk_dev_unref(d);
        return;
    }
    char buf[64];
    int same = 1;
#define CK(key, field)                                                                         \
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)r.field);                           \
    if (r.field || strstr(want, "\"" key "\""))                                                \
        same &= info_has(want, key, buf);
    CK("image-end-offset", image_end_offset);
    CK("total-clusters", total_clusters);
    CK("check-errors", check_errors);
    CK("leaks", leaks);
    CK("corruptions", corruptions);
    CK("allocated-clusters", allocated_clusters);
    CK("fragmented-clusters", fragmented_clusters);
    CK("compressed-clusters", compressed_clusters);
    ok(same, "%s: check counts match qemu-img check (%llu leaks, %llu corruptions)", desc,
       (unsigned long long)r.leaks, (unsigned long long)r.corruptions);
    gk_check_result_free(&r);
    free(want);
    gk_dev_unref(d);
}

static void write_pattern_file(const char *name, size_t size)
{
    char *p = gk_asprintf("%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    uint32_t x = 12345;
    for (size_t i = 0; i < size; i++) {
        x = x * 1103515245 + 12345;
        /* runs of zeros so compression and zero detection have work */
        fputc((i / 65536) % 5 == 3 ? 0 : (int)(x >> 16) & 0xff, f);
    }
    fclose(f);
    free(p);
}

int main(void)
{
    gk_progname = "unit-qcow2";
    if (!mkdtemp(dir))
        return 1;
    if (system("qemu-img --version >/dev/null 2>&1") != 0) {
        printf("1..0 # SKIP qemu-img not installed\n");
        return 0;
    }
    write_pattern_file("pat.raw", 3 << 20);

    /* every cluster size, plain, zlib and zstd */
    static const char *sizes[] = { "512", "4k", "64k", "2M" };
    for (int i = 0; i < 4; i++) {
        const char *cs = sizes[i];
        char *n = gk_asprintf("plain-%s.qcow2", cs);
        sh("qemu-img create -f qcow2 -o cluster_size=%s %s 5M && "
           "qemu-io -c 'write -P 0x11 0 100k' -c 'write -P 0x22 1000k 1200k' -c 'write -z 2100k 600k' "
           "-c 'write -P 0x33 4607k 1k' -c 'write -P 0x44 5119k 1k' %s", cs, n, n);
        same_as_qemu(n, NULL, n);
        same_map(n, n);
        free(n);
        n = gk_asprintf("zlib-%s.qcow2", cs);
        sh("qemu-img convert -c -O qcow2 -o cluster_size=%s pat.raw %s", cs, n);
        same_as_qemu(n, NULL, n);
        same_check(n, n);
        free(n);
        n = gk_asprintf("zstd-%s.qcow2", cs);
        sh("qemu-img convert -c -O qcow2 -o cluster_size=%s,compression_type=zstd pat.raw %s", cs, n);
        same_as_qemu(n, NULL, n);
        free(n);
    }

    /* compat 0.10 (v2): no zero clusters on disk */
    sh("qemu-img create -f qcow2 -o compat=0.10 v2.qcow2 4M && "
       "qemu-io -c 'write -P 5 64k 64k' -c 'write -z 1M 128k' -c 'write -P 6 3M 1k' v2.qcow2");
    same_as_qemu("v2.qcow2", NULL, "compat 0.10");
    same_map("v2.qcow2", "compat 0.10");

    /* extended L2: subcluster writes and zeroes */
    sh("qemu-img create -f qcow2 -o extended_l2=on,cluster_size=64k e.qcow2 4M && "
       "qemu-io -c 'write -P 7 0 4k' -c 'write -z 8k 2k' -c 'write -P 8 100k 3k' -c 'write -z 1M 64k' "
       "-c 'write -z 2M 100k' e.qcow2");
    same_as_qemu("e.qcow2", NULL, "extended L2");
    same_map("e.qcow2", "extended L2");
    same_check("e.qcow2", "extended L2");

    /* backing chains: a raw base shorter than the overlays, a qcow2 middle,
     * an extended-L2 top whose unallocated subclusters fall through */
    write_pattern_file("base.raw", 3000000);
    sh("qemu-img create -f qcow2 -b base.raw -F raw mid.qcow2 8M && "
       "qemu-io -c 'write -P 0x44 1M 64k' -c 'write -z 2M 64k' mid.qcow2 && "
       "qemu-img create -f qcow2 -o extended_l2=on -b mid.qcow2 -F qcow2 top.qcow2 10M && "
       "qemu-io -c 'write -P 0x55 2100k 4k' -c 'write -z 1040k 2k' -c 'write -P 0x66 9M 4k' top.qcow2");
    same_as_qemu("top.qcow2", NULL, "backing chain qcow2 -> qcow2 -> short raw");
    same_map("top.qcow2", "backing chain qcow2 -> qcow2 -> short raw");
    sh("qemu-img create -f qcow2 qbase.qcow2 2M && qemu-io -c 'write -P 1 0 2M' qbase.qcow2 && "
       "qemu-img create -f qcow2 -b qbase.qcow2 -F qcow2 qmid.qcow2 4M && qemu-io -c 'write -P 2 1M 64k' qmid.qcow2 && "
       "qemu-img create -f qcow2 -b qmid.qcow2 -F qcow2 qtop.qcow2 6M && qemu-io -c 'write -P 3 3M 64k' qtop.qcow2");
    same_as_qemu("qtop.qcow2", NULL, "qcow2 chain of three");
    same_map("qtop.qcow2", "qcow2 chain of three (depths)");
    gk_dev *d = open_img("qtop.qcow2", NULL);
    ok(d && gk_image_backing(d) && gk_image_backing(gk_image_backing(d)) &&
       !gk_image_backing(gk_image_backing(gk_image_backing(d))), "chain has two backing images");
    if (d)
        gk_dev_unref(d);

    /* internal snapshots by id and by name; the second one is bigger */
    sh("qemu-img create -f qcow2 sn.qcow2 4M && qemu-io -c 'write -P 1 0 1M' sn.qcow2 && "
       "qemu-img snapshot -c first sn.qcow2 && qemu-io -c 'write -P 2 512k 1M' sn.qcow2 && "
       "qemu-img resize sn.qcow2 6M && qemu-img snapshot -c second sn.qcow2 && "
       "qemu-io -c 'write -P 3 0 64k' sn.qcow2");
    same_as_qemu("sn.qcow2", NULL, "snapshot image, active state");
    same_as_qemu("sn.qcow2", "1", "snapshot by id 1");
    same_as_qemu("sn.qcow2", "first", "snapshot by name first");
    same_as_qemu("sn.qcow2", "second", "snapshot by name second");
    d = open_img("sn.qcow2", "first");
    is_int(d ? d->size : 0, 4 << 20, "snapshot has its own disk size");
    if (d)
        gk_dev_unref(d);
    ok(open_img("sn.qcow2", "nosuch") == NULL && strstr(gk_errmsg(), "not found"), "unknown snapshot refused");
    same_check("sn.qcow2", "snapshots");

    /* info fields against qemu-img info */
    d = open_img("sn.qcow2", NULL);
    size_t len;
    sh("qemu-img info --output=json sn.qcow2 > info.json");
    char *js = slurp("info.json", &len);
    gk_image_info info;
    if (d && js && gk_image_info_get(d, &info) == 0) {
        char b[64];
        snprintf(b, sizeof b, "%llu", (unsigned long long)info.virtual_size);
        ok(info_has(js, "virtual-size", b), "info: virtual size");
        snprintf(b, sizeof b, "%u", info.cluster_size);
        ok(info_has(js, "cluster-size", b), "info: cluster size");
        snprintf(b, sizeof b, "%llu", (unsigned long long)info.actual_size);
        ok(info_has(js, "actual-size", b), "info: actual size");
        ok(info.nb_snapshots == 2 && info_has(js, "name", "\"second\"") &&
           strcmp(info.snapshots[1].name, "second") == 0 && info.snapshots[0].disk_size == 4 << 20,
           "info: snapshots");
        snprintf(b, sizeof b, "%u", info.snapshots[1].date_sec);
        ok(info_has(js, "date-sec", b), "info: snapshot date");
        ok(info_has(js, "compression-type", "\"zlib\"") && strcmp(info.compression_type, "zlib") == 0,
           "info: compression type");
        gk_image_info_free(&info);
    } else {
        ok(0, "info");
    }
    free(js);
    if (d)
        gk_dev_unref(d);
    d = open_img("top.qcow2", NULL);
    if (d && gk_image_info_get(d, &info) == 0) {
        is_str(info.backing_file, "mid.qcow2", "info: backing file");
        is_str(info.backing_format, "qcow2", "info: backing format");
        ok(info.extended_l2 && info.version == 3 && info.refcount_bits == 16, "info: extended L2, v3, 16-bit");
        gk_image_info_free(&info);
        gk_dev_unref(d);
    }

    /* external data file */
    sh("qemu-img create -f qcow2 -o data_file=df.raw df.qcow2 4M && "
       "qemu-io -c 'write -P 5 1M 64k' -c 'write -z 2M 64k' -c 'write -P 6 3M 4k' df.qcow2");
    same_as_qemu("df.qcow2", NULL, "external data file");
    same_map("df.qcow2", "external data file");
    same_check("df.qcow2", "external data file");

    /* dirty bit after a crash with lazy refcounts: readable, check errors */
    sh("qemu-img create -f qcow2 -o lazy_refcounts=on dirty.qcow2 4M && "
       "(qemu-io -c 'write -P 9 0 256k' -c 'sigraise 9' dirty.qcow2; true)");
    d = open_img("dirty.qcow2", NULL);
    ok(d && gk_image_info_get(d, &info) == 0 && info.dirty && info.lazy_refcounts, "dirty bit seen");
    if (d) {
        gk_image_info_free(&info);
        gk_dev_unref(d);
    }
    same_as_qemu("dirty.qcow2", NULL, "dirty image");
    same_check("dirty.qcow2", "dirty image");

    /* leaked and missing refcounts, poked into the refcount block at 0x20000 */
    sh("qemu-img create -f qcow2 leak.qcow2 4M && qemu-io -c 'write -P 1 0 256k' leak.qcow2 && "
       "printf '\\000\\001' | dd of=leak.qcow2 bs=1 seek=$((0x20000 + 30*2)) conv=notrunc && "
       "printf '\\000\\002' | dd of=leak.qcow2 bs=1 seek=$((0x20000 + 5*2)) conv=notrunc && "
       "printf '\\000\\000' | dd of=leak.qcow2 bs=1 seek=$((0x20000 + 4*2)) conv=notrunc");
    same_check("leak.qcow2", "leaks and corruptions");
    d = open_img("leak.qcow2", NULL);
    gk_check_result cr;
    if (d && gk_image_check(d, &cr) == 0) {
        int found = 0;
        for (int i = 0; i < cr.nmessages; i++)
            found |= strcmp(cr.messages[i], "Leaked cluster 5 refcount=2 reference=1") == 0;
        ok(found, "leak message in qemu's words");
        gk_check_result_free(&cr);
    }
    if (d)
        gk_dev_unref(d);
    d = open_img("pat.raw", NULL);
    ok(d && gk_image_check(d, &cr) < 0 && strstr(gk_errmsg(), "format raw does not support checks"),
       "raw: no check");
    if (d)
        gk_dev_unref(d);

    /* persistent bitmaps (their tables are referenced clusters) and narrow refcounts */
    sh("qemu-img create -f qcow2 -o refcount_bits=1 bm.qcow2 16M && qemu-io -c 'write -P 1 0 3M' bm.qcow2 && "
       "qemu-img bitmap --add bm.qcow2 b0 && qemu-img bitmap --add -g 1M bm.qcow2 b1 && "
       "qemu-io -c 'write -P 2 8M 1M' bm.qcow2");
    d = open_img("bm.qcow2", NULL);
    ok(d && gk_image_info_get(d, &info) == 0 && info.nb_bitmaps == 2 && info.refcount_bits == 1,
       "info: two bitmaps, 1-bit refcounts");
    if (d) {
        gk_image_info_free(&info);
        gk_dev_unref(d);
    }
    same_as_qemu("bm.qcow2", NULL, "image with bitmaps");
    same_check("bm.qcow2", "image with bitmaps and 1-bit refcounts");

    /* a tiny L2 cache (one table) still reads right: 512-byte clusters, 64 L2 tables */
    setenv("GUESTKIT_L2_CACHE", "1", 1);
    same_as_qemu("plain-512.qcow2", NULL, "L2 cache of one table");
    same_as_qemu("zlib-512.qcow2", NULL, "L2 cache of one table, compressed");
    unsetenv("GUESTKIT_L2_CACHE");

    /* merged reads: a sequentially written image reads in a few preads */
    sh("qemu-img create -f qcow2 seq.qcow2 16M && qemu-io -c 'write -P 3 0 16M' seq.qcow2");
    d = open_img("seq.qcow2", NULL);
    if (d) {
        char *b = gk_malloc(16 << 20);
        uint64_t before = gk_qcow2_host_preads(d);
        ok(gk_pread(d, b, 16 << 20, 0) == 0, "read 16 MiB in one request");
        uint64_t n = gk_qcow2_host_preads(d) - before;
        ok(n <= 3, "256 contiguous clusters in %llu host reads", (unsigned long long)n);
        free(b);
        gk_dev_unref(d);
    }

    /* a chain deeper than 256 images is refused: c000 -> c001 -> ... -> c299,
     * copies of one template whose backing names all have the same length */
    sh("qemu-img create -f qcow2 -u -b c001.qcow2 -F qcow2 tmpl.qcow2 1M");
    size_t tlen;
    char *tmpl = slurp("tmpl.qcow2", &tlen);
    char *at = tmpl ? memmem(tmpl, tlen, "c001.qcow2", 10) : NULL;
    for (int i = 0; at && i < 300; i++) {
        char name[32], *p;
        snprintf(name, sizeof name, "c%03d.qcow2", i + 1);
        memcpy(at, name, 10);
        p = gk_asprintf("%s/c%03d.qcow2", dir, i);
        FILE *f = fopen(p, "w");
        fwrite(tmpl, 1, tlen, f);
        fclose(f);
        free(p);
    }
    free(tmpl);
    ok(!open_img("c000.qcow2", NULL) && strstr(gk_errmsg(), "longer than 256"), "chain of 300 refused");
    d = open_img("c100.qcow2", NULL);
    ok(!d, "chain of 200 then a missing file: %s", gk_errmsg());
    d = open_img("c290.qcow2", NULL);
    ok(!d && strstr(gk_errmsg(), "c300.qcow2\": No such file"), "chain of 10 names the missing file");

    /* the corrupt bit: read-only with a warning; unknown autoclear bits ignored */
    sh("cp seq.qcow2 corrupt.qcow2 && printf '\\002' | dd of=corrupt.qcow2 bs=1 seek=79 conv=notrunc && "
       "printf '\\200' | dd of=corrupt.qcow2 bs=1 seek=95 conv=notrunc");
    d = open_img("corrupt.qcow2", NULL);
    ok(d && gk_image_info_get(d, &info) == 0 && info.corrupt, "corrupt image opens read-only");
    if (d) {
        gk_image_info_free(&info);
        ok(gk_pwrite(d, "x", 1, 0) < 0, "and refuses writes");
        gk_dev_unref(d);
    }

    /* an image qemu holds open for writing: a warning, unless force_share */
    sh("qemu-img create -f qcow2 busy.qcow2 1M");
    {
        char *cmd = gk_asprintf("cd %s && (qemu-io -c 'sleep 4000' busy.qcow2 >/dev/null 2>&1 & echo $! >qemu.pid)",
                                dir);
        if (system(cmd) != 0)
            printf("# could not start qemu-io\n");
        free(cmd);
        char *p = gk_asprintf("%s/busy.qcow2", dir), *errf = gk_asprintf("%s/stderr.txt", dir);
        int fd = open(p, O_RDONLY), held = 0;
        for (int i = 0; i < 60 && fd >= 0 && !(held = gk_image_in_use_for_write(fd) > 0); i++)
            usleep(50000);
        if (fd >= 0)
            close(fd);
        fflush(stderr);
        /* this one checks the warning itself, as a tool prints it */
        void (*hook)(const char *) = gk_warn_hook;
        gk_warn_hook = NULL;
        int saved = dup(2), ef = open(errf, O_CREAT | O_TRUNC | O_WRONLY, 0644);
        dup2(ef, 2);
        gk_open_opts o = { 0 };
        gk_dev *b1 = gk_open_image(p, &o);
        o.force_share = 1;
        fprintf(stderr, "--\n");
        gk_dev *b2 = gk_open_image(p, &o);
        /* a second reader (gimg convert opens once per thread): no second warning */
        o.force_share = 0;
        gk_dev *b4 = gk_open_image(p, &o);
        gk_open_opts w = { .format = "raw", .readwrite = 1 };
        errno = 0;
        gk_dev *b3 = gk_open_image(p, &w);
        int b3err = errno;
        char b3msg[512];
        snprintf(b3msg, sizeof b3msg, "%s", gk_errmsg());
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        close(ef);
        gk_warn_hook = hook;
        size_t elen;
        char *e = slurp("stderr.txt", &elen);
        ok(held, "qemu-io holds the image for writing");
        ok(b1 && b2 && e && strstr(e, "in use") && strstr(e, "in use") < strstr(e, "--") &&
           !strstr(strstr(e, "--"), "in use"), "warned about the image in use once, not with force_share");
        ok(!b3 && b3err == EBUSY && strstr(b3msg, "refusing to write"), "writing it is refused: %s", b3msg);
        if (b4)
            gk_dev_unref(b4);
        if (b1)
            gk_dev_unref(b1);
        if (b2)
            gk_dev_unref(b2);
        free(e);
        free(p);
        free(errf);
        /* stop the qemu-io we started, by its pid */
        char *pidtxt = slurp("qemu.pid", &elen);
        if (pidtxt && atoi(pidtxt) > 0)
            kill(atoi(pidtxt), SIGTERM);
        free(pidtxt);
    }

    /* errors name the file and what failed */
    sh("qemu-img create -f qcow2 gone.qcow2 1M && qemu-img create -f qcow2 -b gone.qcow2 -F qcow2 orphan.qcow2 && "
       "rm gone.qcow2");
    ok(!open_img("orphan.qcow2", NULL), "missing backing file refused");
    char *want = gk_asprintf("%s/orphan.qcow2: backing file \"gone.qcow2\": No such file or directory", dir);
    is_str(gk_errmsg(), want, "message names image, backing file and cause");
    free(want);

    /* --untrusted: no backing outside the directory, no probing */
    sh("mkdir -p sub && qemu-img create -f qcow2 -b ../qbase.qcow2 -F qcow2 sub/out.qcow2 && "
       "qemu-img create -f qcow2 -b qbase.qcow2 -F qcow2 in.qcow2 && "
       "qemu-img create -f qcow2 -b qbase.qcow2 -F qcow2 nofmt.qcow2 && "
       "printf '\\000\\000\\000\\000' | dd of=nofmt.qcow2 bs=1 seek=$((0x70)) conv=notrunc");
    d = open_img("sub/out.qcow2", NULL);
    ok(d != NULL, "backing outside the directory: fine when trusted");
    if (d)
        gk_dev_unref(d);
    d = open_img("nofmt.qcow2", NULL);
    ok(d != NULL, "no backing format: probed when trusted");
    if (d)
        gk_dev_unref(d);
    setenv("GUESTKIT_UNTRUSTED", "1", 1);
    ok(!open_img("nofmt.qcow2", NULL) && strstr(gk_errmsg(), "no backing format"), "untrusted: no probing");
    ok(!open_img("sub/out.qcow2", NULL) && strstr(gk_errmsg(), "outside"), "untrusted: backing outside refused");
    d = open_img("in.qcow2", NULL);
    ok(d != NULL, "untrusted: backing in the same directory allowed");
    if (d)
        gk_dev_unref(d);
    unsetenv("GUESTKIT_UNTRUSTED");

    sh("rm -rf %s", dir);
    return done_testing();
}
