/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: the input is the start of a device (LUKS1 or LUKS2
 * header, JSON area, keyslots), the rest of a 20 MiB device reads as zeros.
 * A header that parses is unlocked with a passphrase (keyslots whose KDF
 * would take long are left out, to keep the fuzzer fast: their bounds are
 * checked by the parser and the unit test) and its data segment is read
 * with a made-up key at the start, middle and end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "luks.h"

static const uint8_t *in;
static size_t inlen;

static int mem_pread(gk_dev *d, void *buf, size_t n, uint64_t off)
{
    (void)d;
    memset(buf, 0, n);
    if (off < inlen)
        memcpy(buf, in + off, inlen - off < n ? inlen - off : n);
    return 0;
}

static const struct gk_dev_ops mem_ops = {.name = "mem", .pread = mem_pread};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    in = data;
    inlen = size;
    gk_dev *d = gk_dev_new(&mem_ops, "fuzz", 20u << 20, NULL);
    gk_luks l;
    if (gk_luks_read(d, &l) == 0) {
        int k = 0;
        for (int i = 0; i < l.nslots; i++) {
            gk_luks_slot *s = &l.slots[i];
            if (s->kdf == GK_KDF_PBKDF2 ? s->iterations <= 2000
                                        : s->iterations <= 2 && s->memory <= 256 && s->lanes <= 2)
                l.slots[k++] = *s;
        }
        l.nslots = k;
        if (l.dg_iter > 2000)
            l.nslots = 0;
        uint8_t *key = gk_secret_alloc(GK_KEY_MAX);
        int slot;
        gk_luks_unlock(d, &l, "fuzz", 4, key, &slot);
        memset(key, 0x11, GK_KEY_MAX);
        gk_dev *c = gk_luks_dev_new(d, &l, key, "/dev/mapper/fuzz");
        if (c) {
            static uint8_t buf[9000];
            uint64_t len = c->size < sizeof buf ? c->size : sizeof buf;
            gk_pread(c, buf, (size_t)len, 0);
            gk_pread(c, buf, (size_t)len, c->size - len);
            if (c->size > 1000)
                gk_pread(c, buf, 777, c->size / 3 + 5);
            gk_dev_unref(c);
        }
        gk_secret_free(key, GK_KEY_MAX);
    }
    gk_dev_unref(d);
    return 0;
}
