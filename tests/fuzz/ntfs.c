/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the NTFS driver (libntfs-3g over our device).  An NTFS
 * volume is at least 2 MiB, most of it zeros, 0xFF ($LogFile) or an
 * ascending table ($UpCase), so the input describes a 2 MiB image in
 * records (tests/fuzz/seeds-ntfs.sh encodes real mkntfs images this way):
 *   0, u32 offset, u16 length, bytes   raw bytes
 *   1, u32 offset, u32 length, u8 v    length bytes of value v
 *   2, u32 offset, u32 count, u16 v    count little-endian u16: v, v+1, ...
 * Offsets and lengths are cut to the image.  The volume is opened,
 * walked (a bounded part), looked up with and without case, read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blk.h"
#include "fs-int.h"

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

struct ents { uint64_t ino[64]; char names[64][64]; int n; };

static int collect(void *opaque, const char *name, uint64_t ino, int d_type)
{
    (void)d_type;
    struct ents *e = opaque;
    if (e->n < 64) {
        strncpy(e->names[e->n], name, 63);
        e->names[e->n][63] = 0;
        e->ino[e->n++] = ino;
    }
    return e->n >= 64;
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
        static uint8_t buf[70000];
        gk_statvfs sv;
        fs->ops->statvfs(fs, &sv);
        uint64_t queue[256];
        int head = 0, tail = 0, visited = 0;
        queue[tail++] = fs->root_ino;
        while (head < tail && visited++ < 200) {
            uint64_t ino = queue[head++];
            gk_stat st;
            if (fs->ops->getattr(fs, ino, &st) < 0)
                continue;
            char names[1024];
            ssize_t nl = fs->ops->listxattr(fs, ino, names, sizeof names);
            if (nl > 0 && (size_t)nl <= sizeof names && names[nl - 1] == 0)
                fs->ops->getxattr(fs, ino, names, buf, sizeof buf);
            fs->ops->getxattr(fs, ino, "system.ntfs_reparse_data", buf, sizeof buf);
            if (S_ISDIR(st.mode)) {
                struct ents *e = calloc(1, sizeof *e);
                if (!e)
                    break;
                fs->ops->readdir(fs, ino, collect, e);
                uint64_t x;
                char *real = NULL;
                for (int i = 0; i < e->n && i < 4; i++) {
                    fs->ops->lookup(fs, ino, e->names[i], &x);
                    for (char *c = e->names[i]; *c; c++)
                        if (*c >= 'a' && *c <= 'z')
                            *c = (char)(*c - 32);
                    if (fs->ops->lookup_nocase(fs, ino, e->names[i], &x, &real) == 0)
                        free(real);
                    real = NULL;
                }
                for (int i = 0; i < e->n && tail < 256; i++)
                    queue[tail++] = e->ino[i];
                free(e);
            } else if (S_ISREG(st.mode)) {
                fs->ops->read(fs, ino, buf, sizeof buf, 0);
                fs->ops->read(fs, ino, buf, 5000, st.size > 3000 ? st.size - 3000 : 0);
                gk_fmap *m;
                size_t n;
                if (fs->ops->fmap(fs, ino, &m, &n) == 0)
                    free(m);
            } else if (S_ISLNK(st.mode)) {
                fs->ops->readlink(fs, ino, (char *)buf, 4096);
            }
        }
        gk_fs_close(fs);
    }
    gk_dev_unref(d);
    free(img);
    return 0;
}
