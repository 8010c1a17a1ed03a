/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Making LUKS1 headers, laid out as qemu's LUKS driver lays them out (so
 * that an image we create differs from qemu-img's only in what is random:
 * the volume key, salts, UUID, iteration counts and keyslot material):
 *
 *   sectors 0-7      the 592-byte header, zero padded to 4 KiB
 *   8 keyslot areas  the AF-split key (4000 stripes of the key), each
 *                    rounded up to 4 KiB; keyslot 0 holds the passphrase,
 *                    1-7 are disabled but keep their place
 *   payload          right after the last area
 *
 * PBKDF2 iteration counts follow qemu's rule: what the given time (ms) of
 * this thread's CPU allows, the volume key digest an eighth of that, at
 * least 1000 each, at most guestkit's own reading bound (crypto.h).  The
 * speed is measured on a short sample with CLOCK_THREAD_CPUTIME_ID
 * (nanoseconds: qemu's getrusage sample sometimes measures 0 ms and fails
 * with "Unable to get accurate CPU usage"; qemu times at least 0.5 s, a
 * cost every create would pay for no better count).  The counts are
 * qemu-img's on the same machine because gk_pbkdf2 runs as fast as qemu's
 * PBKDF2 (lib/pbkdf2.c; tests/83-qcow2-crypt-iters.t). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "ossl.h"
#include "luks.h"

#define L1_HDR_BYTES 592
#define L1_ALIGN_SECTORS 8          /* keyslot areas start on 4 KiB */
#define L1_STRIPES 4000
#define L1_SALT 32
#define L1_DIGEST 20
#define L1_MIN_ITER 1000u
#define L1_SAMPLE_NS 20000000ull    /* 20 ms of CPU per speed sample */

static uint64_t thread_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int gk_pbkdf2_rate(const char *hash, size_t outlen, uint64_t *per_sec)
{
    uint8_t salt[L1_SALT] = {0}, buf[GK_KEY_MAX];
    uint64_t it = 1000, dt = 0;
    if (outlen > sizeof buf)
        return gk_error("a PBKDF2 output of %zu bytes", outlen), -1;
    for (int round = 0; round < 16; round++) {
        uint64_t t0 = thread_ns();
        if (gk_pbkdf2(hash, "guestkit", 8, salt, sizeof salt, (uint32_t)it, buf, outlen) < 0)
            return -1;
        dt = thread_ns() - t0;
        if (dt >= L1_SAMPLE_NS || it >= GK_KDF_PBKDF2_MAX_ITER / 2)
            break;
        uint64_t next = dt < L1_SAMPLE_NS / 100 ? it * 10 : it * (L1_SAMPLE_NS + L1_SAMPLE_NS / 4) / dt;
        it = next > GK_KDF_PBKDF2_MAX_ITER / 2 ? GK_KDF_PBKDF2_MAX_ITER / 2 : next;
    }
    if (dt == 0)
        dt = 1;
    *per_sec = (uint64_t)((long double)it * 1e9L / (long double)dt);
    return 0;
}

/* PBKDF2-hash iterations for iter_ms ms of CPU, with outlen bytes of
 * output (each extra digest-sized block costs as much again), at most the
 * reading bound. */
static int pbkdf2_iters(const char *hash, size_t outlen, unsigned iter_ms, uint32_t *out)
{
    uint64_t rate;
    if (gk_pbkdf2_rate(hash, outlen, &rate) < 0)
        return -1;
    long double n = (long double)rate * iter_ms / 1000.0L;
    *out = n > GK_KDF_PBKDF2_MAX_ITER ? GK_KDF_PBKDF2_MAX_ITER : (uint32_t)n;
    return 0;
}

/* A fixed-size NUL-padded string field: -1 if s does not fit. */
static int put_str(uint8_t *p, size_t n, const char *s)
{
    size_t len = strlen(s);
    if (len >= n)
        return -1;
    memcpy(p, s, len);
    return 0;
}

uint64_t gk_luks1_layout(size_t keylen, uint64_t *area_sectors)
{
    uint64_t sectors = ((uint64_t)keylen * L1_STRIPES + 511) / 512;
    sectors = (sectors + L1_ALIGN_SECTORS - 1) / L1_ALIGN_SECTORS * L1_ALIGN_SECTORS;
    if (area_sectors)
        *area_sectors = sectors;
    return (L1_ALIGN_SECTORS + 8 * sectors) * 512;
}

int gk_luks1_format(const gk_luks1_spec *s, const void *pass, size_t passlen, uint8_t **hdrp,
                    size_t *lenp, uint8_t *key)
{
    *hdrp = NULL;
    if (s->keylen == 0 || s->keylen > GK_KEY_MAX)
        return gk_error("a volume key of %zu bytes", s->keylen), -1;
    if (gk_cipher_check(s->cipher, s->mode, s->keylen) < 0)
        return -1;
    if (!EVP_get_digestbyname(s->hash))
        return gk_error("hash %s is not supported", s->hash), -1;
    uint64_t area;
    size_t len = (size_t)gk_luks1_layout(s->keylen, &area);
    size_t split = s->keylen * L1_STRIPES, splitpad = (split + 511) / 512 * 512;
    uint8_t *h = gk_calloc(1, len);
    uint8_t *slotkey = gk_secret_alloc(s->keylen);
    uint8_t *km = gk_secret_alloc(splitpad);
    gk_cipher *c = NULL;
    int r = -1;
    static const uint8_t magic[8] = {'L', 'U', 'K', 'S', 0xba, 0xbe, 0, 1};
    memcpy(h, magic, 8);
    if (put_str(h + 8, 32, s->cipher) < 0 || put_str(h + 40, 32, s->mode) < 0 ||
        put_str(h + 72, 32, s->hash) < 0) {
        gk_error("cipher %s-%s or hash %s: name too long for a LUKS1 header", s->cipher, s->mode,
                 s->hash);
        goto out;
    }
    gk_put_be32(h + 104, (uint32_t)(len / 512));
    gk_put_be32(h + 108, (uint32_t)s->keylen);
    /* the volume key, its digest */
    uint32_t mk_iter, slot_iter;
    if (RAND_bytes(key, (int)s->keylen) != 1 || RAND_bytes(h + 132, L1_SALT) != 1) {
        gk_error("no random bytes for the volume key");
        goto out;
    }
    if (pbkdf2_iters(s->hash, L1_DIGEST, s->iter_ms, &mk_iter) < 0)
        goto out;
    mk_iter /= 8; /* qemu's (and cryptsetup's) share for the digest */
    if (mk_iter < L1_MIN_ITER)
        mk_iter = L1_MIN_ITER;
    gk_put_be32(h + 164, mk_iter);
    if (gk_pbkdf2(s->hash, key, s->keylen, h + 132, L1_SALT, mk_iter, h + 112, L1_DIGEST) < 0)
        goto out;
    /* a random (version 4) UUID */
    uint8_t u[16];
    if (RAND_bytes(u, sizeof u) != 1) {
        gk_error("no random bytes for the UUID");
        goto out;
    }
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    char uuid[37];
    snprintf(uuid, sizeof uuid,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
             u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
             u[15]);
    memcpy(h + 168, uuid, 36);
    /* the keyslot table: 8 places, slot 0 active */
    for (int i = 0; i < 8; i++) {
        uint8_t *k = h + 208 + 48 * i;
        gk_put_be32(k, 0x0000DEADu);
        gk_put_be32(k + 40, (uint32_t)(L1_ALIGN_SECTORS + (uint64_t)i * area));
        gk_put_be32(k + 44, L1_STRIPES);
    }
    uint8_t *k0 = h + 208;
    if (RAND_bytes(k0 + 8, L1_SALT) != 1) {
        gk_error("no random bytes for the keyslot salt");
        goto out;
    }
    if (pbkdf2_iters(s->hash, s->keylen, s->iter_ms, &slot_iter) < 0)
        goto out;
    if (slot_iter < L1_MIN_ITER)
        slot_iter = L1_MIN_ITER;
    gk_put_be32(k0 + 4, slot_iter);
    if (gk_pbkdf2(s->hash, pass, passlen, k0 + 8, L1_SALT, slot_iter, slotkey, s->keylen) < 0)
        goto out;
    /* the split key, encrypted with the passphrase's key as 512-byte
     * sectors from 0; a partial last sector (cbc, 24-byte keys: cryptsetup
     * makes them, qemu cannot) is encrypted as far as it goes, the rest of
     * the area stays zero */
    if (gk_af_split(key, s->keylen, L1_STRIPES, s->hash, km) < 0)
        goto out;
    memset(km + split, 0, splitpad - split);
    c = gk_cipher_new(s->cipher, s->mode, slotkey, s->keylen, 512, 0);
    if (!c || gk_cipher_encrypt(c, km, splitpad, 0) < 0)
        goto out;
    memcpy(h + (uint64_t)L1_ALIGN_SECTORS * 512, km, split);
    gk_put_be32(k0, 0x00AC71F3u);
    *hdrp = h;
    *lenp = len;
    h = NULL;
    r = 0;
out:
    if (r < 0)
        gk_error_prefix("making a LUKS header");
    gk_cipher_free(c);
    gk_secret_free(km, splitpad);
    gk_secret_free(slotkey, s->keylen);
    free(h);
    return r;
}
