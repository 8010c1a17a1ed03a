/* SPDX-License-Identifier: GPL-2.0-or-later */
/* LD_PRELOAD shim for the crash tests: SIGKILL the process just before its
 * Nth write to one file, as a `kill -9` landing exactly there would.
 *
 *   KILLAFTER_FILE=disk.img  the image (matched by device and inode)
 *   KILLAFTER_N=N            writes allowed before the kill (counting from 0)
 *   KILLAFTER_PARTIAL=1      the Nth write is torn: its first half (whole
 *                            512-byte sectors) is written, then the kill
 *   KILLAFTER_COUNT=FILE     keep the number of writes so far in FILE
 *                            (opened at start: the tools' sandbox lets no
 *                            file be opened later; rewritten after each
 *                            write, because a sandboxed worker ends with
 *                            _exit and runs no destructor; a process that
 *                            wrote nothing, such as a sandbox's front end,
 *                            leaves it alone)
 *   KILLAFTER_SIZE=1         ftruncate and (posix_)fallocate on that file
 *                            count as writes too (kill points between a
 *                            file's growth and the writes around it)
 *   KILLAFTER_SIZES=FILE     with KILLAFTER_SIZE: list in FILE the number
 *                            of each such call (one line each), so that a
 *                            test can kill just before and just after it
 *
 * Only pwrite/pwrite64/write on that file count (and with KILLAFTER_SIZE
 * the calls that change its size or allocation).  Built by
 * the test scripts with cc -shared (not part of guestkit). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static long limit = -1, count;
static int partial, ready, sizes;
static dev_t tdev;
static ino_t tino;

static void setup(void)
{
    const char *f = getenv("KILLAFTER_FILE"), *n = getenv("KILLAFTER_N");
    struct stat st;
    partial = getenv("KILLAFTER_PARTIAL") && *getenv("KILLAFTER_PARTIAL") == '1';
    sizes = getenv("KILLAFTER_SIZE") && *getenv("KILLAFTER_SIZE") == '1';
    if (f && stat(f, &st) == 0) {
        tdev = st.st_dev;
        tino = st.st_ino;
        limit = n ? atol(n) : -1;
    }
    ready = 1;
}

static int target(int fd)
{
    struct stat st;
    if (!ready)
        setup();
    return tino && fstat(fd, &st) == 0 && st.st_dev == tdev && st.st_ino == tino;
}

static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static int countfd = -1, sizesfd = -1;
static dev_t cdev, sdev;
static ino_t cino, sino;
static long nsizes;

/* the count into KILLAFTER_COUNT, if countfd is still that file (a
 * sandbox may have closed it and reused the number) */
static void store_count(void)
{
    struct stat st;
    char buf[32];
    if (countfd < 0 || fstat(countfd, &st) != 0 || st.st_dev != cdev || st.st_ino != cino)
        return;
    int n = snprintf(buf, sizeof buf, "%20ld\n", count);
    if (!real_pwrite)
        real_pwrite = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite64");
    if (real_pwrite(countfd, buf, (size_t)n, 0) != n)
        _exit(3);
}

/* 1: go on with the whole write; 0: the write was torn, now die */
static int before(int fd, const void *buf, size_t n, off_t off, int positional)
{
    if (!target(fd))
        return 1;
    if (limit >= 0 && count >= limit) {
        if (partial && positional && n >= 1024) {
            if (!real_pwrite)
                real_pwrite = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite64");
            real_pwrite(fd, buf, (n / 2) & ~(size_t)511, off);
        }
        kill(getpid(), SIGKILL);
        pause();
    }
    count++;
    store_count();
    return 1;
}

#define PW(name)                                                                        \
    ssize_t name(int fd, const void *buf, size_t n, off_t off)                          \
    {                                                                                   \
        static ssize_t (*real)(int, const void *, size_t, off_t);                       \
        if (!real)                                                                      \
            real = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, #name); \
        before(fd, buf, n, off, 1);                                                     \
        return real(fd, buf, n, off);                                                   \
    }
PW(pwrite)
PW(pwrite64)

ssize_t write(int fd, const void *buf, size_t n)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (!real)
        real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    before(fd, buf, n, 0, 0);
    return real(fd, buf, n);
}

/* KILLAFTER_SIZE: a kill point before each change of the file's size or
 * allocation (never torn: there is no half of one) */
static void before_size(int fd)
{
    struct stat st;
    char buf[32];
    if (!ready)
        setup();
    if (!sizes)
        return;
    if (target(fd) && sizesfd >= 0 && fstat(sizesfd, &st) == 0 && st.st_dev == sdev && st.st_ino == sino) {
        int n = snprintf(buf, sizeof buf, "%20ld\n", count);
        if (!real_pwrite)
            real_pwrite = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite64");
        if (real_pwrite(sizesfd, buf, (size_t)n, (off_t)nsizes++ * n) != n)
            _exit(3);
    }
    before(fd, NULL, 0, 0, 0);
}

#define TR(name)                                                                         \
    int name(int fd, off_t len)                                                          \
    {                                                                                    \
        static int (*real)(int, off_t);                                                  \
        if (!real)                                                                       \
            real = (int (*)(int, off_t))dlsym(RTLD_NEXT, #name);                         \
        before_size(fd);                                                                 \
        return real(fd, len);                                                            \
    }
TR(ftruncate)
TR(ftruncate64)

#define FA(name)                                                                         \
    int name(int fd, int mode, off_t off, off_t len)                                     \
    {                                                                                    \
        static int (*real)(int, int, off_t, off_t);                                      \
        if (!real)                                                                       \
            real = (int (*)(int, int, off_t, off_t))dlsym(RTLD_NEXT, #name);             \
        before_size(fd);                                                                 \
        return real(fd, mode, off, len);                                                 \
    }
FA(fallocate)
FA(fallocate64)

#define PFA(name)                                                                        \
    int name(int fd, off_t off, off_t len)                                               \
    {                                                                                    \
        static int (*real)(int, off_t, off_t);                                           \
        if (!real)                                                                       \
            real = (int (*)(int, off_t, off_t))dlsym(RTLD_NEXT, #name);                  \
        before_size(fd);                                                                 \
        return real(fd, off, len);                                                       \
    }
PFA(posix_fallocate)
PFA(posix_fallocate64)

__attribute__((constructor)) static void open_count(void)
{
    const char *c = getenv("KILLAFTER_COUNT"), *z = getenv("KILLAFTER_SIZES");
    struct stat st;
    if (!ready)
        setup();
    if (z && (sizesfd = open(z, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) >= 0 && fstat(sizesfd, &st) == 0) {
        sdev = st.st_dev;
        sino = st.st_ino;
    }
    if (c && (countfd = open(c, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) >= 0 &&
        fstat(countfd, &st) == 0) {
        cdev = st.st_dev;
        cino = st.st_ino;
    }
}
