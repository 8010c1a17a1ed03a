/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the LVM2 metadata text parser, and behind it the VG
 * assembly and LV mapping.  The input is metadata text; it is parsed alone,
 * then also placed in the metadata area of a PV built in memory (label,
 * PV header and mda header with correct checksums, so the fuzzer need not
 * guess CRCs) and scanned like a guest disk, and every LV that opens is
 * read.  The seeds (seeds-lvm_meta.sh) name the in-memory PV's uuid. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "blk-int.h"

#define DISK_SIZE (256u << 10)
#define MDA_OFF 4096u
#define MDA_SIZE (60u << 10)
#define PE_START (64u << 10)
static const char PV_UUID[] = "Fuzz00PV000000000000000000000001"; /* 32 chars */

static uint32_t lvm_crc(const void *b, size_t n)
{
    return ~(uint32_t)crc32(~0xf597a6cfu & 0xffffffffu, b, (uInt)n);
}

static int mem_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    memcpy(buf, (uint8_t *)d->priv + off, n);
    return 0;
}

static void mem_close(gk_dev *d)
{
    free(d->priv);
}

static const struct gk_dev_ops mem_ops = { .name = "mem", .pread = mem_pread, .close = mem_close };

static gk_dev *make_pv(const uint8_t *text, size_t n)
{
    uint8_t *disk = calloc(1, DISK_SIZE);
    if (n > MDA_SIZE - 512)
        n = MDA_SIZE - 512;
    /* label in sector 1, PV header right after it */
    uint8_t *l = disk + 512;
    memcpy(l, "LABELONE", 8);
    gk_put_le64(l + 8, 1);
    gk_put_le32(l + 20, 32);
    memcpy(l + 24, "LVM2 001", 8);
    uint8_t *ph = l + 32;
    memcpy(ph, PV_UUID, 32);
    gk_put_le64(ph + 32, DISK_SIZE);
    gk_put_le64(ph + 40, PE_START);        /* data area */
    gk_put_le64(ph + 72, MDA_OFF);         /* metadata area (after the 0,0 end) */
    gk_put_le64(ph + 80, MDA_SIZE);
    gk_put_le32(l + 16, lvm_crc(l + 20, 512 - 20));
    /* mda header and the text */
    uint8_t *h = disk + MDA_OFF;
    memcpy(h + 4, " LVM2 x[5A%r0N*>", 16);
    gk_put_le32(h + 20, 1);
    gk_put_le64(h + 24, MDA_OFF);
    gk_put_le64(h + 32, MDA_SIZE);
    gk_put_le64(h + 40, 512);
    gk_put_le64(h + 48, n);
    gk_put_le32(h + 56, lvm_crc(text, n));
    memcpy(h + 512, text, n);
    gk_put_le32(h, lvm_crc(h + 4, 512 - 4));
    return gk_dev_new(&mem_ops, "fuzz.img", DISK_SIZE, disk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gk_lvm_node *t = gk_lvm_meta_parse((const char *)data, size);
    if (t) {
        for (const gk_lvm_node *vg = t->child; vg; vg = vg->next) {
            int64_t v;
            (void)gk_lvm_meta_int(vg, "extent_size", &v);
            (void)gk_lvm_meta_str(vg, "id");
            (void)gk_lvm_meta_has_flag(vg, "status", "VISIBLE");
        }
        gk_lvm_meta_free(t);
    }
    if (size == 0)
        return 0;

    gk_devset *s = gk_devset_new();
    gk_devent *e = gk_devset_append(s, "/dev/sda", GK_DISK);
    e->dev = make_pv(data, size);
    e->disk_index = 0;
    gk_lvm_scan(s);
    static uint8_t buf[4096];
    for (int i = 0; i < s->nents; i++) {
        gk_dev *d = s->ents[i].dev;
        if (s->ents[i].kind != GK_LV || !d)
            continue;
        for (uint64_t off = 0; off < d->size && off < (1u << 20); off += sizeof buf) {
            size_t n = d->size - off < sizeof buf ? (size_t)(d->size - off) : sizeof buf;
            if (gk_pread(d, buf, n, off) < 0)
                break;
        }
        /* and a read across a stripe/segment boundary at an odd offset */
        if (d->size > 1000)
            (void)gk_pread(d, buf, 1000, d->size / 3);
    }
    gk_devset_free(s);
    return 0;
}
