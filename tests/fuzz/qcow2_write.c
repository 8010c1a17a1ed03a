/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target, the qcow2 write path: open an arbitrary file as qcow2
 * read-write (untrusted, in a private tmpfs directory), write data, zeros,
 * a discard and a compressed cluster at a few places, flush, and require:
 *   - every write either fails (a refusal, with a message) or reads back;
 *   - an image the checker found free of corruption before the writes is
 *     still free of it after them (a hostile image is refused or kept
 *     consistent; leaks are allowed, as after a crash).
 * Either violation aborts (a finding).  The input's last byte chooses
 * where the writes go, so the fuzzer steers them too. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk.h"

static char *scratch(char **path)
{
    static const char *bases[] = { "/dev/shm", "/tmp" };
    for (int i = 0; i < 2; i++) {
        char *dir = gk_asprintf("%s/gkfuzz-qcow2w.XXXXXX", bases[i]);
        if (mkdtemp(dir)) {
            *path = gk_asprintf("%s/in.qcow2", dir);
            return dir;
        }
        free(dir);
    }
    abort();
}

/* corruptions the checker finds (-1: it could not check) */
static long long corruptions(const char *path)
{
    gk_open_opts o = { 0 };
    o.format = "qcow2";
    o.untrusted = 1;
    o.force_share = 1;
    gk_dev *d = gk_open_image(path, &o);
    if (!d)
        return -1;
    gk_check_result r;
    long long n = -1;
    if (gk_image_check(d, &r) == 0) {
        n = (long long)(r.corruptions + r.check_errors);
        gk_check_result_free(&r);
    }
    gk_dev_unref(d);
    return n;
}

#define NW 6
struct wr {
    uint64_t off;
    size_t len;
    int kind;  /* 0 data, 1 zeroes, 2 discard (reads back as zeros or old data), 3 compressed */
    int done;
};

static uint8_t pat[NW][70000], got[70000];

static void fill(int i, size_t n)
{
    for (size_t k = 0; k < n; k++)
        pat[i][k] = (uint8_t)(0x41 + i + k * 7);
}

/* later writes that overlap write i change what it reads back; a later
 * write that failed may have changed part of its range before it failed
 * (a failed write leaves its range undefined, as pwrite's does), so it
 * counts too */
static int overlapped(const struct wr *w, int i)
{
    for (int j = i + 1; j < NW; j++)
        if (w[j].off < w[i].off + w[i].len && w[i].off < w[j].off + w[j].len)
            return 1;
    return 0;
}

static void writes(gk_dev *d, uint8_t steer)
{
    uint64_t sz = d->size;
    if (sz < 512)
        return;
    uint64_t mid = (sz / 2) & ~(uint64_t)511, unit = 65536;
    struct wr w[NW] = {
        { 0, 4096, 0, 0 },
        { 512 * (uint64_t)(steer % 64) + 17, 3000, 0, 0 },
        { mid, 65536 + 1000, 0, 0 },
        { mid + 512 * (uint64_t)(steer % 8), 8192, 1, 0 },
        { sz > unit ? (sz - unit) & ~(unit - 1) : 0, unit, 3, 0 },
        { sz > 8192 ? sz - 8192 : 0, 4096, 2, 0 },
    };
    for (int i = 0; i < NW; i++) {
        if (w[i].off >= sz)
            continue;
        if (w[i].len > sz - w[i].off)
            w[i].len = (size_t)(sz - w[i].off);
        int rc;
        switch (w[i].kind) {
        case 0: fill(i, w[i].len); rc = gk_pwrite(d, pat[i], w[i].len, w[i].off); break;
        case 1: memset(pat[i], 0, w[i].len); rc = gk_pwrite_zeroes(d, w[i].off, w[i].len, 0); break;
        case 2: rc = gk_discard(d, w[i].off, w[i].len); break;
        default: fill(i, w[i].len); rc = gk_pwrite_compressed(d, pat[i], w[i].len, w[i].off); break;
        }
        w[i].done = rc == 0;
    }
    if (gk_flush(d) < 0)
        return;
    for (int i = 0; i < NW; i++) {
        if (!w[i].done || w[i].kind == 2 || overlapped(w, i))
            continue;
        if (gk_pread(d, got, w[i].len, w[i].off) < 0)
            continue;  /* a read refused (corrupt metadata met) is not a wrong read */
        if (memcmp(got, pat[i], w[i].len) != 0) {
            fprintf(stderr, "qcow2_write: write %d (%zu bytes at %llu, kind %d) does not read back\n", i,
                    w[i].len, (unsigned long long)w[i].off, w[i].kind);
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setenv("GUESTKIT_L2_CACHE", "65536", 1);
    char *path, *dir = scratch(&path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);

    long long before = corruptions(path);
    gk_open_opts o = { 0 };
    o.format = "qcow2";
    o.untrusted = 1;
    o.readwrite = 1;
    o.flags = GK_OPEN_NO_BACKING;
    gk_dev *d = gk_open_image(path, &o);
    if (d) {
        writes(d, size ? data[size - 1] : 0);
        gk_dev_unref(d);
        long long after = corruptions(path);
        if (before == 0 && after != 0) {
            fprintf(stderr, "qcow2_write: a consistent image is %s after the writes\n",
                    after < 0 ? "no longer checkable" : "corrupt");
            abort();
        }
    }
    unlink(path);
    rmdir(dir);
    free(path);
    free(dir);
    return 0;
}
