/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Windows registry hives in a guest, through hivex.
 *
 * hivex opens a file by name, so a hive is first copied out of the guest
 * into an anonymous memory file (memfd; a deleted temporary file where
 * there is none) and hivex is given its /proc/self/fd name.  The copy is
 * capped (GK_HIVE_MAX): a hive is hostile input like the rest of the
 * image, and hivex maps it whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <hivex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"

#define CHUNK (1u << 20)

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A file to copy the hive into: a memfd when /proc can name it, else a
 * temporary file (*tmpname, removed once hivex has opened it). */
static int scratch_fd(char **tmpname)
{
    *tmpname = NULL;
    if (access("/proc/self/fd", X_OK) == 0) {
        int fd = memfd_create("guestkit-hive", MFD_CLOEXEC);
        if (fd >= 0)
            return fd;
    }
    const char *dir = getenv("TMPDIR");
    char *name = gk_asprintf("%s/guestkit-hive.XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkostemp(name, O_CLOEXEC);
    if (fd < 0) {
        free(name);
        return -1;
    }
    *tmpname = name;
    return fd;
}

hive_h *gk_hive_open(gk_vfs *v, const char *path, int flags)
{
    gk_node n;
    gk_stat st;
    if (gk_vfs_resolve(v, path, 1, &n) < 0)
        return NULL;
    if (gk_node_stat(&n, &st) < 0) {
        gk_error_prefix("%s", path);
        return NULL;
    }
    if (!S_ISREG(st.mode)) {
        gk_error("%s: not a regular file", path);
        errno = EINVAL;
        return NULL;
    }
    if (st.size > GK_HIVE_MAX) {
        gk_error("%s: registry hive too large (%llu bytes, at most %u read)", path,
                 (unsigned long long)st.size, GK_HIVE_MAX);
        errno = EFBIG;
        return NULL;
    }
    char *tmpname;
    int fd = scratch_fd(&tmpname);
    if (fd < 0) {
        gk_error("%s: cannot make a scratch file for the hive: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = gk_malloc(CHUNK);
    uint64_t off = 0;
    int err = 0;
    while (off < st.size) {
        size_t want = st.size - off < CHUNK ? (size_t)(st.size - off) : CHUNK;
        ssize_t r = gk_node_read(&n, buf, want, off);
        if (r < 0) {
            gk_error_prefix("%s", path);
            err = 1;
            break;
        }
        if (r == 0)
            break;
        if (write_all(fd, buf, (size_t)r) < 0) {
            gk_error("%s: copying the hive: %s", path, strerror(errno));
            err = 1;
            break;
        }
        off += (uint64_t)r;
    }
    free(buf);
    hive_h *h = NULL;
    if (!err) {
        char name[64];
        snprintf(name, sizeof name, "/proc/self/fd/%d", fd);
        errno = 0;
        h = hivex_open(tmpname ? tmpname : name, flags);
        if (!h) {
            int e = errno;
            if (e == ENOTSUP)
                gk_error("%s: not a Windows registry hive", path);
            else
                gk_error("%s: registry hive: %s", path,
                         e == EINVAL || e == EFAULT || e == 0 ? "corrupt hive" : strerror(e));
            errno = e ? e : EINVAL;
        }
    }
    close(fd);
    if (tmpname) {
        unlink(tmpname);
        free(tmpname);
    }
    return h;
}

void gk_hive_close(hive_h *h)
{
    if (h)
        hivex_close(h);
}
