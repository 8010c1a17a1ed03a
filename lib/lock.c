/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemu's image locks (block/file-posix.c): qemu holds OFD read locks on
 * bytes 100+perm ("I hold perm") and 200+perm ("I do not share perm").
 * A process holding byte 101 has the image open for writing.
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

int gk_image_in_use_for_write(int fd)
{
#ifdef F_OFD_GETLK
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK; /* could we lock it exclusively? */
    fl.l_whence = SEEK_SET;
    fl.l_start = QEMU_LOCK_PERM_BASE + QEMU_PERM_WRITE;
    fl.l_len = 1;
    if (fcntl(fd, F_OFD_GETLK, &fl) < 0) {
        if (errno == EINVAL || errno == ENOTSUP)
            return 0; /* no OFD locks: qemu cannot have used them either */
        gk_error("lock test: %s", strerror(errno));
        return -1;
    }
    return fl.l_type != F_UNLCK;
#else
    (void)fd;
    return 0;
#endif
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
    if (force_share || gk_image_in_use_for_write(fd) <= 0)
        return 0;
    if (rw) {
        gk_error("image is in use by a process that writes to it (qemu?); refusing to write");
        return -1;
    }
    if (first_warning(fd))
        gk_warn("%s: image is in use by a process that writes to it (qemu?); what is read may be inconsistent",
                path);
    return 0;
}
