/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PBKDF2-HMAC over the SHA-1 and SHA-2 families, on the low-level SHA
 * functions (linked statically, no provider: lib/ossl.h) with the HMAC
 * pads hashed once: each iteration is a copy of a small state and two
 * compressions.  libcrypto's PKCS5_PBKDF2_HMAC goes through its EVP layer
 * for every HMAC and runs at about half this speed here, so an iteration
 * count timed with it (LUKS' iter-time) came out at half of qemu-img's
 * (qemu's gnutls/nettle runs at this speed); unlocking is faster too.  The
 * output is PKCS5_PBKDF2_HMAC's (tests/unit/crypto.c). */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init and co: see above */
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"

union sha_ctx {
    SHA_CTX s1;
    SHA256_CTX s256;
    SHA512_CTX s512;
};

struct sha_alg {
    const char *name;
    size_t dlen, blen;             /* digest and block bytes */
    int (*init)(union sha_ctx *);
    int (*update)(union sha_ctx *, const void *, size_t);
    int (*final)(uint8_t *, union sha_ctx *);
};

static int s1_init(union sha_ctx *c) { return SHA1_Init(&c->s1); }
static int s1_update(union sha_ctx *c, const void *p, size_t n) { return SHA1_Update(&c->s1, p, n); }
static int s1_final(uint8_t *o, union sha_ctx *c) { return SHA1_Final(o, &c->s1); }
static int s224_init(union sha_ctx *c) { return SHA224_Init(&c->s256); }
static int s256_init(union sha_ctx *c) { return SHA256_Init(&c->s256); }
static int s256_update(union sha_ctx *c, const void *p, size_t n) { return SHA256_Update(&c->s256, p, n); }
static int s256_final(uint8_t *o, union sha_ctx *c) { return SHA256_Final(o, &c->s256); }
static int s384_init(union sha_ctx *c) { return SHA384_Init(&c->s512); }
static int s512_init(union sha_ctx *c) { return SHA512_Init(&c->s512); }
static int s512_update(union sha_ctx *c, const void *p, size_t n) { return SHA512_Update(&c->s512, p, n); }
static int s512_final(uint8_t *o, union sha_ctx *c) { return SHA512_Final(o, &c->s512); }

static const struct sha_alg algs[] = {
    {"sha1", 20, 64, s1_init, s1_update, s1_final},
    {"sha224", 28, 64, s224_init, s256_update, s256_final},
    {"sha256", 32, 64, s256_init, s256_update, s256_final},
    {"sha384", 48, 128, s384_init, s512_update, s512_final},
    {"sha512", 64, 128, s512_init, s512_update, s512_final},
};

int gk_pbkdf2_sha(const char *hash, const void *pass, size_t passlen, const uint8_t *salt, size_t saltlen,
                  uint32_t iterations, uint8_t *out, size_t outlen)
{
    const struct sha_alg *a = NULL;
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        if (strcasecmp(hash, algs[i].name) == 0)
            a = &algs[i];
    if (!a)
        return 0;
    uint8_t key[128], pad[128], u[64], t[64];
    union sha_ctx in, outer, c;
    memset(key, 0, sizeof key);
    if (passlen > a->blen) {
        /* HMAC: a key longer than a block is hashed first */
        if (!a->init(&c) || !a->update(&c, pass, passlen) || !a->final(key, &c))
            return -1;
    } else if (passlen) {
        memcpy(key, pass, passlen);
    }
    for (size_t i = 0; i < a->blen; i++)
        pad[i] = key[i] ^ 0x36;
    int ok = a->init(&in) && a->update(&in, pad, a->blen);
    for (size_t i = 0; i < a->blen; i++)
        pad[i] = key[i] ^ 0x5c;
    ok = ok && a->init(&outer) && a->update(&outer, pad, a->blen);
    for (uint32_t blk = 1; ok && outlen; blk++) {
        uint8_t be[4] = {(uint8_t)(blk >> 24), (uint8_t)(blk >> 16), (uint8_t)(blk >> 8), (uint8_t)blk};
        c = in;
        ok = a->update(&c, salt, saltlen) && a->update(&c, be, 4) && a->final(u, &c);
        c = outer;
        ok = ok && a->update(&c, u, a->dlen) && a->final(u, &c);
        memcpy(t, u, a->dlen);
        for (uint32_t it = 1; ok && it < iterations; it++) {
            c = in;
            ok = a->update(&c, u, a->dlen) && a->final(u, &c);
            c = outer;
            ok = ok && a->update(&c, u, a->dlen) && a->final(u, &c);
            for (size_t j = 0; j < a->dlen; j++)
                t[j] ^= u[j];
        }
        size_t n = outlen < a->dlen ? outlen : a->dlen;
        memcpy(out, t, n);
        out += n;
        outlen -= n;
    }
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(pad, sizeof pad);
    OPENSSL_cleanse(u, sizeof u);
    OPENSSL_cleanse(t, sizeof t);
    OPENSSL_cleanse(&in, sizeof in);
    OPENSSL_cleanse(&outer, sizeof outer);
    OPENSSL_cleanse(&c, sizeof c);
    return ok ? 1 : -1;
}
