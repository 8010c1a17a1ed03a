/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemu's image locks (block/file-posix.c), one routine for every open.
 * qemu holds OFD read locks on bytes 100+perm ("I hold perm") and 200+perm
 * ("I do not share perm"), perm 0 consistent read, 1 write, 3 resize; it
 * tests a byte by asking whether an exclusive lock could be taken there.
 *
 * A writer here locks as qemu-io does for a read-write image (it shares
 * consistent read only): it takes 100, 101, 103, 201 and 203 first, then
 * tests 200, 201, 203 (someone refuses to share what it wants) and 101,
 * 103 (someone holds what it does not share), in qemu's order and with
 * qemu's messages, so that a qemu started on an image being written refuses
 * it ("Failed to get "write" lock") and a write to an image a qemu holds is
 * refused.  The locks go with the descriptor (OFD locks belong to the open
 * file).  A reader takes no lock: it only warns when byte 101 says someone
 * writes (once per file and process: gimg convert opens an image once per
 * reader thread; the list of files warned about is shared by all threads,
 * under a mutex).  --force-share (-U) tests and takes nothing. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#include "blk-int.h"

#define PERM_BASE 100           /* qemu's RAW_LOCK_PERM_BASE   */
#define SHARED_BASE 200         /* qemu's RAW_LOCK_SHARED_BASE */
enum { PERM_CONSISTENT_READ = 0, PERM_WRITE = 1, PERM_RESIZE = 3 };
#define MAX_WARNED 256

/* 1 if another open file description holds a lock on byte off, 0 if not,
 * -1 on error; -2 if the filesystem (or the system) has no OFD locks, in
 * which case qemu cannot have used them either. */
static int byte_held(int fd, off_t off)
{
#ifdef F_OFD_GETLK
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK; /* could we lock it exclusively? */
    fl.l_whence = SEEK_SET;
    fl.l_start = off;
    fl.l_len = 1;
    if (fcntl(fd, F_OFD_GETLK, &fl) < 0) {
        if (errno == EINVAL || errno == ENOTSUP)
            return -2;
        gk_error("lock test: %s", strerror(errno));
        return -1;
    }
    return fl.l_type != F_UNLCK;
#else
    (void)fd;
    (void)off;
    return -2;
#endif
}

int gk_image_in_use_for_write(int fd)
{
    int r = byte_held(fd, PERM_BASE + PERM_WRITE);
    return r == -2 ? 0 : r;
}

static const char *perm_name(int perm)
{
    return perm == PERM_WRITE ? "write" : perm == PERM_RESIZE ? "resize" : "consistent read";
}

/* The writer's locks: 0, -1 with gk_error (errno EBUSY when a qemu holds
 * or refuses them). */
static int lock_write(int fd)
{
#ifdef F_OFD_SETLK
    static const int take[] = {PERM_BASE + PERM_CONSISTENT_READ, PERM_BASE + PERM_WRITE, PERM_BASE + PERM_RESIZE,
                               SHARED_BASE + PERM_WRITE, SHARED_BASE + PERM_RESIZE};
    static const int test[] = {SHARED_BASE + PERM_CONSISTENT_READ, SHARED_BASE + PERM_WRITE,
                               SHARED_BASE + PERM_RESIZE, PERM_BASE + PERM_WRITE, PERM_BASE + PERM_RESIZE};
    for (size_t i = 0; i < sizeof take / sizeof take[0]; i++) {
        struct flock fl;
        memset(&fl, 0, sizeof fl);
        fl.l_type = F_RDLCK;
        fl.l_whence = SEEK_SET;
        fl.l_start = take[i];
        fl.l_len = 1;
        if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
            int e = errno;
            if (e == EINVAL || e == ENOTSUP)
                return 0; /* no OFD locks here: none of qemu's either */
            if (e == EAGAIN || e == EACCES) {
                /* someone holds it exclusively: not qemu, but in use */
                gk_error("Failed to lock byte %d: is another process using the image?", take[i]);
                errno = EBUSY;
            } else {
                gk_error("Failed to lock byte %d: %s", take[i], strerror(e));
                errno = e;
            }
            return -1;
        }
    }
    /* the bytes are ours before they are tested (qemu's order): of two
     * writers starting at once, at least one sees the other */
    for (size_t i = 0; i < sizeof test / sizeof test[0]; i++) {
        int r = byte_held(fd, test[i]);
        if (r == -2)
            return 0;
        if (r < 0)
            return -1;
        if (r == 0)
            continue;
        int perm = test[i] % 100;
        if (test[i] == SHARED_BASE + PERM_WRITE)
            gk_error("Failed to get \"write\" lock: image is in use by a process that does not let others write "
                     "to it (qemu?); refusing to write");
        else if (test[i] == PERM_BASE + PERM_WRITE)
            gk_error("Failed to get shared \"write\" lock: image is in use by a process that writes to it (qemu?); "
                     "refusing to write");
        else
            gk_error("Failed to get %s\"%s\" lock: is another process using the image?",
                     test[i] < SHARED_BASE ? "shared " : "", perm_name(perm));
        errno = EBUSY;
        return -1;
    }
#else
    (void)fd;
#endif
    return 0;
}

/* 1 the first time a file is seen (then remembered), 0 after. */
static int first_warning(int fd)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static struct { dev_t dev; ino_t ino; } seen[MAX_WARNED];
    static int nseen;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return 1;
    int first = 1;
    pthread_mutex_lock(&mu);
    for (int i = 0; i < nseen && first; i++)
        if (seen[i].dev == st.st_dev && seen[i].ino == st.st_ino)
            first = 0;
    if (first && nseen < MAX_WARNED) {
        seen[nseen].dev = st.st_dev;
        seen[nseen].ino = st.st_ino;
        nseen++;
    }
    pthread_mutex_unlock(&mu);
    return first;
}

int gk_image_lock(int fd, const char *path, int rw, int force_share, int quiet)
{
    if (force_share)
        return 0;
    if (rw)
        return lock_write(fd);
    /* a reader only warns: a failed test is no reason not to read */
    int r = byte_held(fd, PERM_BASE + PERM_WRITE);
    if (r == 1 && !quiet && first_warning(fd))
        gk_warn("%s: image is in use by a process that writes to it (qemu?); what is read may be inconsistent",
                path);
    return 0;
}
