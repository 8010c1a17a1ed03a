/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the NTFS driver (libntfs-3g over our device).  An NTFS
 * volume is at least 2 MiB, most of it zeros, 0xFF ($LogFile) or an
 * ascending table ($UpCase), so the input describes a 2 MiB image in
 * records (tests/fuzz/seeds-ntfs.sh encodes real mkntfs images this way):
 *   0, u32 offset, u16 length, bytes   raw bytes
 *   1, u32 offset, u32 length, u8 v    length bytes of value v
 *   2, u32 offset, u32 count, u16 v    count little-endian u16: v, v+1, ...
 * Offsets and lengths are cut to the image.  The volume is opened and
 * walked (fs-walk.h: a bounded part, every read op, lookups with and
 * without case). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blk-int.h"
#include "fs-walk.h"

#define IMG (2u << 20)

static int mem_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    memcpy(buf, (const uint8_t *)d->priv + off, n);
    return 0;
}

static const struct gk_dev_ops mem_ops = {.name = "mem", .pread = mem_pread};

static void decode(uint8_t *img, const uint8_t *p, size_t n)
{
    while (n >= 1) {
        uint8_t op = p[0];
        if (op == 0 && n >= 7) {
            uint32_t off = gk_le32(p + 1) % IMG;
            size_t len = gk_le16(p + 5);
            p += 7; n -= 7;
            if (len > n)
                len = n;
            size_t c = len > IMG - off ? IMG - off : len;
            memcpy(img + off, p, c);
            p += len; n -= len;
        } else if (op == 1 && n >= 10) {
            uint32_t off = gk_le32(p + 1) % IMG, len = gk_le32(p + 5);
            if (len > IMG - off)
                len = IMG - off;
            memset(img + off, p[9], len);
            p += 10; n -= 10;
        } else if (op == 2 && n >= 11) {
            uint32_t off = gk_le32(p + 1) % IMG, cnt = gk_le32(p + 5);
            uint16_t v = gk_le16(p + 9);
            for (uint32_t i = 0; i < cnt && off + 2 <= IMG; i++, off += 2, v++) {
                img[off] = (uint8_t)v;
                img[off + 1] = (uint8_t)(v >> 8);
            }
            p += 11; n -= 11;
        } else {
            break;
        }
    }
}

/* libntfs-3g leaks what it had allocated when ntfs_device_mount gives up on
 * a corrupt volume (its error paths, not ours): not reported. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libntfs-3g.so\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *img = calloc(1, IMG);
    if (!img)
        return 0;
    decode(img, data, size);
    gk_dev *d = gk_dev_new(&mem_ops, "fuzz.img", IMG, img);
    gk_fs *fs = gk_fs_open(d, "ntfs", 0);
    if (fs) {
        static uint8_t buf[4096];
        fuzz_fs_walk(fs, "WINDOWS");
        fs->ops->getxattr(fs, fs->root_ino, "system.ntfs_attrib", buf, sizeof buf);
        gk_fs_close(fs);
    }
    gk_dev_unref(d);
    free(img);
    return 0;
}
