/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What a device holds, asked of libblkid.  libblkid reads from a file
 * descriptor (lseek, then read), but our devices may be partitions inside
 * a qcow2 chain or LVs.  So it gets a memfd of its own, and its reads of
 * that descriptor are answered from the device itself (__wrap_read below):
 * libblkid sees the whole device and reads only the bytes it asks for.
 * Where that does not work (a shared libblkid, a program linked without
 * -Wl,--wrap=read), the memfd is filled instead with the head and the tail
 * of the device, where every superblock libblkid knows lives (ext at 1 KiB,
 * swap at the end of the first page, btrfs at 64 KiB, iso9660 at 32 KiB,
 * md 0.90 and others near the end). */
#include <blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "blk-int.h"

#define HEAD (2u << 20)
#define TAIL (1u << 20)
#define CHUNK (256u << 10)
/* Nearly every signature lives in the first 72 KiB (btrfs, ReiserFS, GFS2
 * and UFS2 at 64 KiB are the farthest) or the last 136 KiB (md 0.90 and
 * the firmware RAID labels): the windows of the first pass when the memfd
 * is filled (see gk_probe_dev). */
#define NARROW_HEAD (72u << 10)
#define NARROW_TAIL (136u << 10)

void gk_probe_free(gk_probe *p)
{
    free(p->type);
    free(p->uuid);
    free(p->label);
    free(p->version);
    free(p->usage);
    memset(p, 0, sizeof *p);
}

/* The descriptor libblkid is probing in this thread, answered from
 * lazy_dev.  The Makefile links every program with -Wl,--wrap=read and
 * -Wl,--wrap=lseek when libblkid is linked statically, so libblkid's
 * read() and lseek() (and those of the program's own objects) come here
 * first; a descriptor that is not the probe's goes to the kernel as is. */
static __thread int lazy_fd = -1;
static __thread gk_dev *lazy_dev;
static __thread unsigned long lazy_reads; /* reads answered from lazy_dev  */
static __thread int lazy_failed;          /* a read of the head failed     */
static __thread uint64_t lazy_pos;        /* the descriptor's offset       */

/* libblkid seeks before every read: the probe's descriptor keeps its
 * offset here (-Wl,--wrap=lseek), without a system call. */
off_t __wrap_lseek(int fd, off_t off, int whence);
off_t __wrap_lseek(int fd, off_t off, int whence)
{
    if (fd < 0 || fd != lazy_fd)
        return (off_t)syscall(SYS_lseek, fd, off, whence);
    uint64_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? lazy_pos
                  : whence == SEEK_END ? lazy_dev->size : UINT64_MAX;
    if (base == UINT64_MAX || (off < 0 && (uint64_t)-off > base) ||
        (off > 0 && (uint64_t)off > (uint64_t)INT64_MAX - base)) {
        errno = EINVAL;
        return -1;
    }
    lazy_pos = base + (uint64_t)off;
    return (off_t)lazy_pos;
}

ssize_t __wrap_read(int fd, void *buf, size_t n);
ssize_t __wrap_read(int fd, void *buf, size_t n)
{
    if (fd < 0 || fd != lazy_fd)
        return syscall(SYS_read, fd, buf, n);
    gk_dev *d = lazy_dev;
    uint64_t pos = lazy_pos;
    lazy_reads++;
    if (pos >= d->size)
        return 0;
    if (n > d->size - pos)
        n = (size_t)(d->size - pos);
    if (n > SSIZE_MAX)
        n = SSIZE_MAX;
    if (gk_pread(d, buf, n, pos) < 0) {
        /* As the window copy had it: a read error in the first bytes fails
         * the probe (the message stays in gk_error), one further on (the
         * rare signatures at the end) is zeros and a debug line. */
        if (pos < NARROW_HEAD) {
            lazy_failed = 1;
            errno = EIO;
            return -1;
        }
        gk_debug("%s: probing without bytes %llu..%llu: %s", d->name, (unsigned long long)pos,
                 (unsigned long long)pos + n, gk_errmsg());
        memset(buf, 0, n);
    }
    lazy_pos = pos + n;
    return (ssize_t)n;
}

static void lazy_begin(int fd, gk_dev *d)
{
    lazy_fd = fd;
    lazy_dev = d;
    lazy_pos = 0;
    lazy_reads = 0;
    lazy_failed = 0;
}

static void lazy_end(void)
{
    lazy_fd = -1;
    lazy_dev = NULL;
}

static int make_fd(void)
{
    int fd = memfd_create("guestkit-probe", MFD_CLOEXEC);
    if (fd < 0) /* old kernels: an unnamed temporary file */
        fd = open(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
    return fd;
}

/* A run of zeros?  memcmp against itself shifted by one is vectorised by
 * libc, where a byte loop over the mostly empty head of a device was most of
 * a gcat's time. */
static int all_zero(const uint8_t *p, size_t n)
{
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static int write_all(gk_dev *d, int fd, const uint8_t *p, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t k = pwrite(fd, p, n, (off_t)off);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            gk_error("%s: probe buffer: %s", d->name, strerror(errno));
            return -1;
        }
        p += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

/* Copy [off, off+len) of d into fd at the same offset.  Ranges the device
 * reports as zero are not read at all, and all-zero pages of what is read
 * stay holes in the memfd (fewer pages for the kernel to allocate). */
static int copy_range(gk_dev *d, int fd, uint8_t *buf, uint64_t off, uint64_t len)
{
    const size_t page = 4096;
    while (len > 0) {
        gk_extent e;
        if (gk_block_status(d, off, len, &e) == 0 && (e.flags & GK_BS_ZERO) && e.len > 0) {
            uint64_t skip = e.len < len ? e.len : len;
            off += skip;
            len -= skip;
            continue;
        }
        size_t n = len > CHUNK ? CHUNK : (size_t)len;
        if (gk_pread(d, buf, n, off) < 0)
            return -1;
        size_t i = 0;
        while (i < n) {
            size_t step = n - i < page ? n - i : page;
            if (all_zero(buf + i, step)) {
                i += step;
                continue;
            }
            size_t j = i + step; /* extend the run over non-zero pages */
            while (j < n) {
                size_t st = n - j < page ? n - j : page;
                if (all_zero(buf + j, st))
                    break;
                j += st;
            }
            if (write_all(d, fd, buf + i, j - i, off + i) < 0)
                return -1;
            i = j;
        }
        off += n;
        len -= n;
    }
    return 0;
}

static char *lookup(blkid_probe pr, const char *name)
{
    const char *v = NULL;
    if (blkid_probe_lookup_value(pr, name, &v, NULL) == 0 && v)
        return gk_strdup(v);
    return NULL;
}

/* Copy what is still missing of the device's first head and last tail
 * bytes into fd; *have_head and *have_tail say how much is there already. */
static int copy_window(gk_dev *d, int fd, uint8_t *buf, uint64_t head, uint64_t tail,
                       uint64_t *have_head, uint64_t *have_tail)
{
    if (head > d->size)
        head = d->size;
    if (head > *have_head && copy_range(d, fd, buf, *have_head, head - *have_head) < 0)
        return -1;
    *have_head = head;
    if (tail > d->size - head)
        tail = d->size - head;
    if (tail > *have_tail) {
        /* the signatures that live at the end are rare: a read error there
         * should not hide the filesystem at the start */
        if (copy_range(d, fd, buf, d->size - tail, tail - *have_tail) < 0)
            gk_debug("%s: probing without the end of the device: %s", d->name, gk_errmsg());
        *have_tail = tail;
    }
    return 0;
}

/* Two probers read a megabyte where the others read a few sectors: ZFS
 * (four 256 KiB labels) and the XFS external log (the first 256 KiB, for
 * log records).  They were most of a gcat's probing time (issue 18), so a
 * first pass leaves them out; they run in the full pass, when the first
 * found nothing.  (A device holding one of these besides a filesystem the
 * first pass recognises is taken as that filesystem, where blkid -p would
 * call it ambivalent.) */
static const char *const heavy[] = {"zfs_member", "xfs_external_log", NULL};

/* libblkid's verdict on fd: 0 found (out filled), 1 nothing, -2 several
 * signatures, -1 error.  light leaves the heavy probers out. */
static int probe_fd(gk_dev *d, int fd, gk_probe *out, int light)
{
    blkid_probe pr = blkid_new_probe();
    if (!pr || blkid_probe_set_device(pr, fd, 0, (blkid_loff_t)d->size) < 0) {
        if (pr)
            blkid_free_probe(pr);
        gk_error("%s: libblkid cannot probe the device", d->name);
        return -1;
    }
    blkid_probe_enable_partitions(pr, 0);
    blkid_probe_enable_superblocks(pr, 1);
    blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID |
                                              BLKID_SUBLKS_TYPE | BLKID_SUBLKS_VERSION |
                                              BLKID_SUBLKS_USAGE);
    if (light)
        blkid_probe_filter_superblocks_type(pr, BLKID_FLTR_NOTIN, (char **)heavy);
    /* safeprobe like "blkid -p": two different signatures are no answer.
     * libblkid's probers answer "nothing here" when an allocation of
     * theirs fails; under a memory limit (ginspect --each --memory) that
     * would drop filesystems silently, so a failed allocation is what it
     * is anywhere else: out of memory, the end of the run */
    errno = 0;
    int r = blkid_do_safeprobe(pr);
    if (errno == ENOMEM) {
        fprintf(stderr, "%s: %s: libblkid: out of memory\n", gk_progname, d->name);
        exit(1);
    }
    if (r == 0) {
        gk_probe_free(out);
        out->type = lookup(pr, "TYPE");
        out->uuid = lookup(pr, "UUID");
        out->label = lookup(pr, "LABEL");
        out->version = lookup(pr, "VERSION");
        out->usage = lookup(pr, "USAGE");
    }
    blkid_free_probe(pr);
    return r < -1 ? -2 : r;
}


/* libblkid takes a FAT volume label from the root directory, which on a
 * FAT32 (or a big FAT16) lies beyond the windows copied above: copy its
 * first 64 KiB too.  The boot sector gives where it is; libblkid checks
 * the rest.  0 copied, 1 nothing to copy, -1 error. */
static int copy_fat_root(gk_dev *d, int fd, uint8_t *buf)
{
    uint8_t b[512];
    if (d->size < sizeof b || gk_pread(d, b, sizeof b, 0) < 0)
        return -1;
    uint64_t ss = gk_le16(b + 11), spc = b[13], reserved = gk_le16(b + 14), nfats = b[16];
    uint64_t fatlen = gk_le16(b + 22), root;
    if (ss < 512 || ss > 4096 || !spc)
        return 1;
    if (fatlen) {
        root = (reserved + nfats * fatlen) * ss;
    } else {
        uint64_t clus = gk_le32(b + 44);
        if (clus < 2)
            return 1;
        root = (reserved + nfats * gk_le32(b + 36) + (clus - 2) * spc) * ss;
    }
    uint64_t len = 64u << 10;
    if (root >= d->size)
        return 1;
    if (len > d->size - root)
        len = d->size - root;
    return copy_range(d, fd, buf, root, len) < 0 ? -1 : 0;
}

/* With reads answered from the device, a first pass runs without the
 * heavy probers, a second with them only when the first found nothing (or
 * several signatures).  Filling the memfd instead, the first pass sees the
 * narrow windows only (copying the wide window was most of a gcat's time),
 * the second the wide one: UDF anchors, VMFS at 1 MiB, LUKS2 secondary
 * headers and the like. */
int gk_probe_dev(gk_dev *d, gk_probe *out)
{
    memset(out, 0, sizeof *out);
    if (d->size == 0)
        return 0;
    int fd = make_fd();
    if (fd < 0) {
        gk_error("%s: cannot create a probe buffer: %s", d->name, strerror(errno));
        return -1;
    }
    int ret = -1, r;
    uint8_t *buf = NULL;
    uint64_t have_head = 0, have_tail = 0;
    /* libblkid takes the size of a regular file from the file */
    if (ftruncate(fd, (off_t)d->size) < 0) {
        gk_error("%s: probe buffer of %llu bytes: %s", d->name, (unsigned long long)d->size,
                 strerror(errno));
        goto out;
    }
    lazy_begin(fd, d);
    r = probe_fd(d, fd, out, 1);
    lazy_end();
    if (lazy_failed)
        goto out;
    int lazy = lazy_reads > 0;
    if (!lazy) {
        /* libblkid read the memfd itself (or nothing at all): fill it */
        buf = gk_malloc(CHUNK);
        if (copy_window(d, fd, buf, NARROW_HEAD, NARROW_TAIL, &have_head, &have_tail) < 0)
            goto out;
        r = probe_fd(d, fd, out, 1);
    }
    /* Nothing found on a device whose first sector ends in 0x55AA (a
     * partition table or boot code): the partitions hold the filesystems,
     * and the wide window and the heavy probers (most of a partitioned
     * disk's probing time) are skipped; libblkid ignores signatures that
     * partitions cover anyway. */
    if (r == 1 && d->size >= 512) {
        uint8_t sig[2];
        if (gk_pread(d, sig, 2, 510) == 0 && sig[0] == 0x55 && sig[1] == 0xaa)
            goto done;
    }
    if (r != 0 && r != -1) {
        if (lazy) {
            lazy_begin(fd, d);
            r = probe_fd(d, fd, out, 0);
            lazy_end();
            if (lazy_failed)
                goto out;
        } else {
            if (have_head < d->size && (HEAD > have_head || TAIL > have_tail) &&
                copy_window(d, fd, buf, HEAD, TAIL, &have_head, &have_tail) < 0)
                goto out;
            r = probe_fd(d, fd, out, 0);
        }
    }
    if (!lazy && r == 0 && out->type && strcmp(out->type, "vfat") == 0 && !out->label &&
        copy_fat_root(d, fd, buf) == 0)
        r = probe_fd(d, fd, out, 1);
    if (r == -1)
        goto out;
    if (r == -2)
        gk_debug("%s: ambivalent probing result (several signatures)", d->name);
done:
    ret = 0;
out:
    free(buf);
    close(fd);
    return ret;
}

/* gfsh's blkid: every value libblkid finds in the same windows as above,
 * with the flags blkid -p uses, and with parts the partition-table chain
 * too (PTTYPE, PTUUID of a disk). */
char **gk_probe_export(gk_dev *d, int parts)
{
    char **v = gk_calloc(1, sizeof *v);
    if (d->size == 0)
        return v;
    int fd = make_fd();
    if (fd < 0) {
        gk_error("%s: cannot create a probe buffer: %s", d->name, strerror(errno));
        free(v);
        return NULL;
    }
    uint8_t *buf = gk_malloc(CHUNK);
    uint64_t have_head = 0, have_tail = 0;
    blkid_probe pr = NULL;
    int ok = ftruncate(fd, (off_t)d->size) == 0 &&
             copy_window(d, fd, buf, HEAD, TAIL, &have_head, &have_tail) == 0;
    if (ok)
        copy_fat_root(d, fd, buf);
    if (ok && (!(pr = blkid_new_probe()) ||
               blkid_probe_set_device(pr, fd, 0, (blkid_loff_t)d->size) < 0)) {
        gk_error("%s: libblkid cannot probe the device", d->name);
        ok = 0;
    }
    if (ok) {
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID |
                                                  BLKID_SUBLKS_TYPE | BLKID_SUBLKS_SECTYPE |
                                                  BLKID_SUBLKS_USAGE | BLKID_SUBLKS_VERSION);
        blkid_probe_enable_partitions(pr, parts);
        if (blkid_do_safeprobe(pr) == 0) {
            int n = blkid_probe_numof_values(pr);
            v = gk_realloc(v, (size_t)(n > 0 ? n + 1 : 1) * sizeof *v);
            int k = 0;
            for (int i = 0; i < n; i++) {
                const char *name, *data;
                size_t len;
                if (blkid_probe_get_value(pr, i, &name, &data, &len) == 0 && name && data)
                    v[k++] = gk_asprintf("%s=%.*s", name, (int)strnlen(data, len), data);
            }
            v[k] = NULL;
        }
    }
    if (pr)
        blkid_free_probe(pr);
    free(buf);
    close(fd);
    if (!ok) {
        for (char **p = v; *p; p++)
            free(*p);
        free(v);
        return NULL;
    }
    return v;
}
