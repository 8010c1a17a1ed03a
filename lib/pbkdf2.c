/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PBKDF2-HMAC (RFC 8018 section 5.2) over libcrypto's hash functions, for
 * gk_pbkdf2 (lib/crypto.c).  OpenSSL 3's PKCS5_PBKDF2_HMAC duplicates a
 * provider HMAC context for every iteration, which costs more than the
 * two hash compressions an iteration needs: 2.5 times nettle's PBKDF2
 * (qemu's) for SHA-256 here (bench/RESULTS.md, qcow2-crypt).  Here the
 * HMAC inner and outer states after the key block are computed once and
 * copied as plain structures each iteration; the hash itself is
 * libcrypto's (its SHA_CTX / SHA256_CTX / SHA512_CTX functions, deprecated
 * in OpenSSL 3 but kept; nothing of a hash is written here).  Hashes
 * without such functions go to PKCS5_PBKDF2_HMAC.  The unit test
 * (tests/unit/pbkdf2.c) holds the result to PKCS5_PBKDF2_HMAC's. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "crypto.h"

union hctx {
    SHA_CTX s1;
    SHA256_CTX s256;
    SHA512_CTX s512;
};

struct hash {
    const char *name;
    size_t block, len;
    int (*init)(union hctx *);
    int (*update)(union hctx *, const void *, size_t);
    int (*final)(unsigned char *, union hctx *);
};

#define HASH(NAME, CTX, FIELD, BLOCK, LEN, INIT, UPDATE, FINAL)                                     \
    static int NAME##_init(union hctx *c) { return INIT(&c->FIELD); }                              \
    static int NAME##_update(union hctx *c, const void *p, size_t n) { return UPDATE(&c->FIELD, p, n); } \
    static int NAME##_final(unsigned char *md, union hctx *c) { return FINAL(md, &c->FIELD); }
HASH(sha1, SHA_CTX, s1, 64, 20, SHA1_Init, SHA1_Update, SHA1_Final)
HASH(sha224, SHA256_CTX, s256, 64, 28, SHA224_Init, SHA224_Update, SHA224_Final)
HASH(sha256, SHA256_CTX, s256, 64, 32, SHA256_Init, SHA256_Update, SHA256_Final)
HASH(sha384, SHA512_CTX, s512, 128, 48, SHA384_Init, SHA384_Update, SHA384_Final)
HASH(sha512, SHA512_CTX, s512, 128, 64, SHA512_Init, SHA512_Update, SHA512_Final)
#undef HASH

static const struct hash hashes[] = {
    {"sha1", 64, 20, sha1_init, sha1_update, sha1_final},
    {"sha224", 64, 28, sha224_init, sha224_update, sha224_final},
    {"sha256", 64, 32, sha256_init, sha256_update, sha256_final},
    {"sha384", 128, 48, sha384_init, sha384_update, sha384_final},
    {"sha512", 128, 64, sha512_init, sha512_update, sha512_final},
};

int gk_pbkdf2_fast(const char *hash, const void *pass, size_t passlen, const uint8_t *salt,
                   size_t saltlen, uint32_t iterations, uint8_t *out, size_t outlen)
{
    const struct hash *h = NULL;
    for (size_t i = 0; i < sizeof hashes / sizeof hashes[0]; i++)
        if (strcasecmp(hash, hashes[i].name) == 0)
            h = &hashes[i];
    if (!h || iterations == 0)
        return 1;
    /* HMAC's key block: the passphrase, or its hash when longer */
    uint8_t key[128] = {0}, pad[128], u[64], t[64];
    union hctx in, outer, c;
    int ok = 1;
    if (passlen > h->block) {
        ok &= h->init(&c) && h->update(&c, pass, passlen) && h->final(key, &c);
    } else {
        memcpy(key, pass, passlen);
    }
    for (size_t i = 0; i < h->block; i++)
        pad[i] = key[i] ^ 0x36;
    ok &= h->init(&in) && h->update(&in, pad, h->block);
    for (size_t i = 0; i < h->block; i++)
        pad[i] = key[i] ^ 0x5c;
    ok &= h->init(&outer) && h->update(&outer, pad, h->block);
    for (uint32_t blk = 1; ok && outlen > 0; blk++) {
        uint8_t be[4] = {(uint8_t)(blk >> 24), (uint8_t)(blk >> 16), (uint8_t)(blk >> 8), (uint8_t)blk};
        /* U1 = HMAC(P, S || INT(i)), T = U1 ^ U2 ^ ... */
        c = in;
        ok &= h->update(&c, salt, saltlen) && h->update(&c, be, 4) && h->final(u, &c);
        c = outer;
        ok &= h->update(&c, u, h->len) && h->final(u, &c);
        memcpy(t, u, h->len);
        for (uint32_t j = 1; ok && j < iterations; j++) {
            c = in;
            ok &= h->update(&c, u, h->len) && h->final(u, &c);
            c = outer;
            ok &= h->update(&c, u, h->len) && h->final(u, &c);
            for (size_t k = 0; k < h->len; k++)
                t[k] ^= u[k];
        }
        size_t n = outlen < h->len ? outlen : h->len;
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
    return ok ? 0 : -1;
}
