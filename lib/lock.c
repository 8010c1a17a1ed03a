/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemu's image locks (block/file-posix.c): qemu holds OFD read locks on
 * bytes 100+perm ("I hold perm") and 200+perm ("I do not share perm").
 * A process holding byte 101 has the image open for writing. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "blk.h"

#define QEMU_LOCK_PERM_BASE 100
#define QEMU_PERM_WRITE 1

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

int gk_image_check_in_use(int fd, const char *path, int rw, int force_share)
{
    if (force_share || gk_image_in_use_for_write(fd) <= 0)
        return 0;
    if (rw) {
        gk_error("%s: image is in use by a process that writes to it (qemu?); refusing to write", path);
        return -1;
    }
    gk_warn("%s: image is in use by a process that writes to it (qemu?); what is read may be inconsistent",
            path);
    return 0;
}
