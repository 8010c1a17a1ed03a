/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Disk encryption primitives for lib/ (lib/crypto.c), private to lib/ and
 * the unit tests: the sector ciphers dm-crypt and qemu use, the key
 * derivation functions of LUKS, LUKS' anti-forensic splitter, and memory
 * for key material.  Every primitive is OpenSSL's libcrypto or libargon2;
 * this file only puts them together the way dm-crypt does.
 *
 * Key material lives in gk_secret_alloc() memory: locked in RAM where the
 * system allows it, left out of core dumps, wiped by gk_secret_free(). */
#ifndef GK_CRYPTO_H
#define GK_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "blk.h"

/* Bounds on what an (untrusted) header may ask of the key derivation;
 * HACKING "Resources".  Above them the keyslot is refused with a message. */
#define GK_KDF_PBKDF2_MAX_ITER 20000000u   /* ~ a few seconds of SHA-256 */
#define GK_KDF_ARGON2_MAX_KIB 1048576u     /* 1 GiB: cryptsetup's own maximum default */
#define GK_KDF_ARGON2_MAX_TIME 64u
#define GK_KDF_ARGON2_MAX_LANES 16u
#define GK_AF_MAX_STRIPES 65536u          /* LUKS uses 4000 */
#define GK_KEY_MAX 128u                   /* bytes of a volume key */

/* gk_secret_alloc / gk_secret_free: lib/blk.h */

/* A sector cipher: dm-crypt's "CIPHER-MODE-IVGEN[:IVHASH]" split as cipher
 * ("aes") and mode ("xts-plain64", "cbc-essiv:sha256", "cbc-plain64",
 * "cbc-plain", "xts-plain", "ecb").  sector_size is the unit of encryption
 * (512 .. 4096, a power of two); iv_shift divides the 512-byte sector
 * number given to decrypt before it becomes the IV (dm-crypt's
 * iv_large_sectors: log2(sector_size / 512); 0 otherwise). */
typedef struct gk_cipher gk_cipher;
/* NULL with gk_error ("cipher serpent-xts-plain64 is not supported") */
gk_cipher *gk_cipher_new(const char *cipher, const char *mode, const uint8_t *key,
                         size_t keylen, unsigned sector_size, unsigned iv_shift);
/* n bytes (a multiple of sector_size) in place; sector512 = the first
 * sector's number in 512-byte units as the IV generator counts it.
 * 0, or -1 with gk_error. */
int gk_cipher_decrypt(gk_cipher *c, uint8_t *buf, size_t n, uint64_t sector512);
int gk_cipher_encrypt(gk_cipher *c, uint8_t *buf, size_t n, uint64_t sector512);
void gk_cipher_free(gk_cipher *c);
/* 0 if the pair names something gk_cipher_new can make with keylen bytes,
 * -1 with gk_error otherwise (no key needed: headers are checked early). */
int gk_cipher_check(const char *cipher, const char *mode, size_t keylen);

/* PBKDF2-HMAC-hash ("sha1", "sha256", "sha512", ...): 0 or -1 + gk_error.
 * iterations are bounded by GK_KDF_PBKDF2_MAX_ITER. */
int gk_pbkdf2(const char *hash, const void *pass, size_t passlen, const uint8_t *salt,
              size_t saltlen, uint32_t iterations, uint8_t *out, size_t outlen);
/* gk_pbkdf2 for sha1, sha224, sha256, sha384 and sha512 on the low-level
 * SHA functions (lib/pbkdf2.c, at qemu's speed): 1 when done, 0 for
 * another hash, -1 on failure (no message). */
int gk_pbkdf2_sha(const char *hash, const void *pass, size_t passlen, const uint8_t *salt, size_t saltlen,
                  uint32_t iterations, uint8_t *out, size_t outlen);
/* Argon2i (id = 0) or Argon2id (id = 1), version 1.3 (cryptsetup's). */
int gk_argon2(int id, const void *pass, size_t passlen, const uint8_t *salt, size_t saltlen,
              uint32_t time, uint32_t mem_kib, uint32_t lanes, uint8_t *out, size_t outlen);

/* LUKS' anti-forensic merge: stripes blocks of keylen bytes -> key. */
int gk_af_merge(const uint8_t *src, size_t keylen, unsigned stripes, const char *hash,
                uint8_t *key);
/* The inverse (to make keyslots): random stripes - 1 blocks, then the last. */
int gk_af_split(const uint8_t *key, size_t keylen, unsigned stripes, const char *hash,
                uint8_t *dst);

/* Constant-time comparison: 1 if equal. */
int gk_mem_equal(const void *a, const void *b, size_t n);

#endif
