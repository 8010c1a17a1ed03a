/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemu's image locks (block/file-posix.c): qemu holds OFD read locks on
 * bytes 100+perm ("I hold perm") and 200+perm ("I do not share perm").
 * A process holding byte 101 has the image open for writing; one holding
 * byte 201 (a running qemu, even with a read-only drive) lets nobody else
 * write.  A writer checks both and then takes 100, 101 and 201 itself, as
 * qemu does for a writable drive, so that qemu refuses the image ("Failed
 * to get "write" lock") while we write; the locks go with the descriptor.
 *
 * The "in use" warning is given once per file and process: gimg convert
 * opens an image once per reader thread, and each open must not repeat it.
 * The list of files warned about is shared by all threads (a mutex). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>

#include "blk-int.h"

#define QEMU_LOCK_PERM_BASE 100
#define QEMU_PERM_WRITE 1
#define MAX_WARNED 256

#define QEMU_LOCK_SHARED_BASE 200
#define QEMU_PERM_CONSISTENT_READ 0

/* 1 if another open file description holds a lock on byte off, 0 if not
 * (or the filesystem has no OFD locks: qemu cannot have used them either),
 * -1 on error. */
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
            return 0;
        gk_error("lock test: %s", strerror(errno));
        return -1;
    }
    return fl.l_type != F_UNLCK;
#else
    (void)fd;
    (void)off;
    return 0;
#endif
}

int gk_image_in_use_for_write(int fd)
{
    return byte_held(fd, QEMU_LOCK_PERM_BASE + QEMU_PERM_WRITE);
}

/* A writer's locks (shared locks on 100, 101, 201).  Best effort: a
 * filesystem without OFD locks has no qemu locks to respect either. */
static void take_write_locks(int fd)
{
#ifdef F_OFD_SETLK
    static const off_t bytes[] = {QEMU_LOCK_PERM_BASE + QEMU_PERM_CONSISTENT_READ,
                                  QEMU_LOCK_PERM_BASE + QEMU_PERM_WRITE,
                                  QEMU_LOCK_SHARED_BASE + QEMU_PERM_WRITE};
    for (size_t i = 0; i < sizeof bytes / sizeof bytes[0]; i++) {
        struct flock fl;
        memset(&fl, 0, sizeof fl);
        fl.l_type = F_RDLCK;
        fl.l_whence = SEEK_SET;
        fl.l_start = bytes[i];
        fl.l_len = 1;
        if (fcntl(fd, F_OFD_SETLK, &fl) < 0)
            gk_debug("qemu lock byte %lld: %s", (long long)bytes[i], strerror(errno));
    }
#else
    (void)fd;
#endif
}

/* Take qemu's locks for a writer that shares nothing but reading, as
 * qemu-io or a VM holding an image read-write: after checking that no one
 * holds write or resize (bytes 101, 103) and no one refuses to share
 * consistent-read, write or resize (200, 201, 203), hold 100, 101, 103,
 * 201 and 203.  OFD locks belong to the open file: they go with its last
 * descriptor. */
int gk_image_lock_write(int fd)
{
#ifdef F_OFD_GETLK
    static const int test[] = {101, 103, 200, 201, 203};
    static const int take[] = {100, 101, 103, 201, 203};
    for (size_t i = 0; i < sizeof test / sizeof test[0]; i++) {
        struct flock fl;
        memset(&fl, 0, sizeof fl);
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        fl.l_start = test[i];
        fl.l_len = 1;
        if (fcntl(fd, F_OFD_GETLK, &fl) < 0) {
            if (errno == EINVAL || errno == ENOTSUP)
                return 0;
            gk_error("lock test: %s", strerror(errno));
            return -1;
        }
        if (fl.l_type != F_UNLCK) {
            gk_error("Failed to get \"%s\" lock: is another process using the image?",
                     test[i] % 100 == 3 ? "resize" : test[i] % 100 == 0 ? "consistent read" : "write");
            errno = EBUSY;
            return -1;
        }
    }
    for (size_t i = 0; i < sizeof take / sizeof take[0]; i++) {
        struct flock fl;
        memset(&fl, 0, sizeof fl);
        fl.l_type = F_RDLCK;
        fl.l_whence = SEEK_SET;
        fl.l_start = take[i];
        fl.l_len = 1;
        if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
            int e = errno;
            gk_error("Failed to lock byte %d: %s", take[i], strerror(e));
            errno = e == EAGAIN || e == EACCES ? EBUSY : e;
            return -1;
        }
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

int gk_image_check_in_use(int fd, const char *path, int rw, int force_share)
{
    if (rw && !force_share) {
        int r = byte_held(fd, QEMU_LOCK_SHARED_BASE + QEMU_PERM_WRITE);
        if (r < 0)
            return -1;
        if (r > 0) {
            gk_error("image is in use by a process that does not let others write to it (qemu?); "
                     "refusing to write");
            return -1;
        }
    }
    if (force_share || gk_image_in_use_for_write(fd) <= 0) {
        if (rw && !force_share)
            take_write_locks(fd);
        return 0;
    }
    if (rw) {
        gk_error("image is in use by a process that writes to it (qemu?); refusing to write");
        return -1;
    }
    if (first_warning(fd))
        gk_warn("%s: image is in use by a process that writes to it (qemu?); what is read may be inconsistent",
                path);
    return 0;
}
