/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing raw images through the block layer (gk_pwrite, gk_pwrite_zeroes,
 * gk_discard, gk_truncate, gk_flush), against qemu-io doing the same
 * operations on a copy (the oracle): same bytes (qemu-img compare, cmp) and
 * the same holes (qemu-img map).  Then the contracts: read-only devices,
 * bounds, slices, and the probed-raw first-sector rule. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk-int.h"
#include "sh.h"
#include "tap.h"

static char dir[] = "/tmp/gkwrite.XXXXXX";

static gk_dev *open_rw(const char *name, const char *fmt)
{
    char *p = gk_asprintf("%s/%s", dir, name);
    gk_open_opts o = { .format = fmt, .readwrite = 1 };
    gk_dev *d = gk_open_image(p, &o);
    free(p);
    return d;
}

static void fill(unsigned char *b, size_t n, int v)
{
    memset(b, v, n);
}

int main(void)
{
    sh_dir = dir;
    if (!mkdtemp(dir))
        return 1;
    if (sh("command -v qemu-io && command -v qemu-img") != 0) {
        printf("1..0 # SKIP needs qemu-io and qemu-img\n");
        return 0;
    }
    /* two copies of a 16 MiB image with data everywhere */
    sh("qemu-img create -f raw a.raw 16M && qemu-io -f raw -c 'write -P 0x11 0 16M' a.raw && cp a.raw b.raw");

    gk_dev *d = open_rw("a.raw", "raw");
    ok(d && !d->readonly, "open a raw image read-write");
    if (!d)
        return done_testing();
    static unsigned char buf[1 << 20];

    fill(buf, 70000, 0x22);
    ok(gk_pwrite(d, buf, 70000, 12345) == 0, "pwrite 70000 bytes at 12345");
    sh("qemu-io -f raw -c 'write -P 0x22 12345 70000' b.raw");

    ok(gk_pwrite_zeroes(d, 1 << 20, 1 << 20, 0) == 0, "write zeroes (allocated) over 1 MiB");
    sh("qemu-io -f raw -c 'write -z 1M 1M' b.raw");

    ok(gk_pwrite_zeroes(d, 4 << 20, 2 << 20, GK_ZERO_MAY_UNMAP) == 0, "write zeroes with unmap over 2 MiB");
    sh("qemu-io -f raw -c 'write -z -u 4M 2M' b.raw");

    ok(gk_pwrite_zeroes(d, (8 << 20) + 100, 5000, GK_ZERO_MAY_UNMAP) == 0, "write zeroes, unaligned");
    sh("qemu-io -f raw -c 'write -z -u 8388708 5000' b.raw");

    ok(gk_discard(d, 10 << 20, 1 << 20) == 0, "discard 1 MiB");
    sh("qemu-io -f raw -c 'discard 10M 1M' b.raw");

    unsigned char got[70000];
    ok(gk_pread(d, got, 70000, 12345) == 0 && memcmp(got, buf, 70000) == 0, "what was written reads back");
    ok(gk_pread(d, got, 4096, 4 << 20) == 0 && got[0] == 0 && !memcmp(got, got + 1, 4095), "zeroed range reads zeros");
    ok(gk_flush(d) == 0, "flush");
    gk_dev_unref(d);

    ok(sh("cmp a.raw b.raw") == 0, "same bytes as qemu-io's");
    ok(sh("qemu-img compare -f raw -F raw a.raw b.raw") == 0, "qemu-img compare: identical");
    ok(sh("qemu-img map --output=json -f raw a.raw > ma.json && qemu-img map --output=json -f raw b.raw | "
          "sed 's/b.raw/a.raw/' > mb.json && cmp ma.json mb.json") == 0,
       "the same holes and data as qemu-io's (qemu-img map)");

    /* truncate: grow sparse, grow preallocated, shrink */
    d = open_rw("a.raw", "raw");
    ok(d && gk_truncate(d, 20 << 20, GK_PREALLOC_OFF) == 0 && d->size == 20 << 20, "grow to 20 MiB");
    ok(d && gk_pread(d, got, 4096, 19 << 20) == 0 && got[0] == 0 && !memcmp(got, got + 1, 4095),
       "the new space reads zeros");
    ok(d && gk_truncate(d, 24 << 20, GK_PREALLOC_FALLOC) == 0 && d->size == 24 << 20, "grow to 24 MiB, falloc");
    ok(d && gk_truncate(d, 6 << 20, GK_PREALLOC_OFF) == 0 && d->size == 6 << 20, "shrink to 6 MiB");
    if (d)
        gk_dev_unref(d);
    sh("qemu-img resize -f raw b.raw 20M && qemu-img resize -f raw --preallocation=falloc b.raw 24M && "
       "qemu-img resize -f raw --shrink b.raw 6M");
    ok(sh("cmp a.raw b.raw") == 0, "resized like qemu-img resize");
    struct stat sa, sb;
    char *pa = gk_asprintf("%s/a.raw", dir), *pb = gk_asprintf("%s/b.raw", dir);
    int sta = stat(pa, &sa), stb = stat(pb, &sb);
    ok(sta == 0 && stb == 0 && sa.st_size == sb.st_size, "same file size (%lld)", (long long)sa.st_size);

    /* contracts */
    gk_dev *r = gk_open_image(pa, &(gk_open_opts){ .format = "raw" });
    errno = 0;
    ok(r && gk_pwrite(r, buf, 10, 0) < 0 && errno == EROFS, "a read-only device refuses writes (EROFS)");
    errno = 0;
    ok(r && gk_pwrite_zeroes(r, 0, 10, 0) < 0 && errno == EROFS, "... and write zeroes");
    errno = 0;
    ok(r && gk_truncate(r, 1 << 20, GK_PREALLOC_OFF) < 0 && errno == EROFS, "... and truncate");
    if (r)
        gk_dev_unref(r);
    d = open_rw("a.raw", "raw");
    errno = 0;
    ok(d && gk_pwrite(d, buf, 10, (6 << 20) - 5) < 0 && errno == EIO, "a write past the end is refused (EIO)");
    ok(d && strstr(gk_errmsg(), "beyond the end"), "with a message: %s", gk_errmsg());
    gk_dev *s = d ? gk_dev_slice(d, 1 << 20, 1 << 20, "/dev/sda1") : NULL;
    fill(buf, 512, 0x5a);
    ok(s && !s->readonly && gk_pwrite(s, buf, 512, 512) == 0, "a slice writes through to its disk");
    ok(d && gk_pread(d, got, 512, (1 << 20) + 512) == 0 && memcmp(got, buf, 512) == 0, "at its offset");
    ok(s && gk_pwrite(s, buf, 512, (1 << 20) - 256) < 0 && errno == EIO, "but not past its end");
    if (s)
        gk_dev_unref(s);
    if (d)
        gk_dev_unref(d);

    /* a probed raw image may not be given another format's header */
    sh("qemu-img create -f raw p.raw 1M && qemu-img create -f qcow2 q.qcow2 1M");
    char *qpath = gk_asprintf("%s/q.qcow2", dir);
    int qfd = open(qpath, O_RDONLY);
    free(qpath);
    unsigned char qhdr[512];
    ok(qfd >= 0 && read(qfd, qhdr, 512) == 512, "a qcow2 header to write");
    d = open_rw("p.raw", NULL);
    errno = 0;
    ok(d && gk_pwrite(d, qhdr, 512, 0) < 0 && errno == EPERM, "probed raw: a qcow2 header is refused (EPERM)");
    ok(d && gk_pwrite(d, buf, 512, 0) == 0, "probed raw: other first sectors are written");
    if (d)
        gk_dev_unref(d);
    d = open_rw("p.raw", "raw");
    ok(d && gk_pwrite(d, qhdr, 512, 0) == 0, "format given: the header is written");
    if (d)
        gk_dev_unref(d);

    /* a raw file whose size is not a multiple of 512: qemu rounds it up */
    sh("head -c 1000 /dev/urandom > odd.raw");
    d = open_rw("odd.raw", "raw");
    ok(d && d->size == 1024, "a 1000-byte raw image is 1024 bytes, as qemu sees it");
    ok(d && gk_pread(d, got, 24, 1000) == 0 && got[0] == 0 && !memcmp(got, got + 1, 23), "its tail reads zeros");
    if (d)
        gk_dev_unref(d);

    sh("rm -f *.raw *.qcow2 *.json");
    rmdir(dir);
    free(pa);
    free(pb);
    return done_testing();
}
