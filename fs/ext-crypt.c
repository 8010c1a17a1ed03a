/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Encrypted (fscrypt) directories read without their key, as the kernel
 * presents them (fs/crypto/fname.c): every name is a "no-key name", the
 * base64url encoding (RFC 4648, no padding) of
 *     le32 dirhash[2] | the ciphertext name (up to 149 bytes)
 *     [ | SHA-256 of the rest of a longer name ],
 * the hash being the one ext4's htree readdir computes over the ciphertext
 * (0 when the directory is read without htree).  Looking up such a name
 * finds the entry it was made from; symlink targets are shown the same way
 * (hash 0); file contents are refused with ENOKEY. */
#include <errno.h>
#include <string.h>

#include "ext-int.h"

#define NOKEY_BYTES 149          /* ciphertext bytes kept in a no-key name */
#define NOKEY_MAX (8 + NOKEY_BYTES + 32)
#define NOKEY_ENCODED_MAX 252    /* base64url of NOKEY_MAX bytes */

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = b64url[(acc >> bits) & 63];
        }
    }
    if (bits)
        out[o++] = b64url[(acc << (6 - bits)) & 63];
    out[o] = 0;
    return o;
}

/* -1 for a character outside the alphabet or leftover bits that are set,
 * as the kernel's decoder refuses them; out holds 3/4 of n bytes. */
static ssize_t b64_decode(const char *in, size_t n, uint8_t *out)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = memchr(b64url, in[i], 64);
        if (!p || !in[i])
            return -1;
        acc = (acc << 6) | (uint32_t)(p - b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (acc & ((1u << bits) - 1))
        return -1;
    return (ssize_t)o;
}

size_t gk_ext_nokey_name(const uint8_t *name, size_t len, uint32_t hash, uint32_t minor,
                         char out[GK_EXT_NOKEY_BUF])
{
    uint8_t raw[NOKEY_MAX];
    size_t n;
    for (int i = 0; i < 4; i++) {   /* the kernel's u32 array, little-endian here */
        raw[i] = (uint8_t)(hash >> (8 * i));
        raw[4 + i] = (uint8_t)(minor >> (8 * i));
    }
    if (len <= NOKEY_BYTES) {
        memcpy(raw + 8, name, len);
        n = 8 + len;
    } else {
        memcpy(raw + 8, name, NOKEY_BYTES);
        gk_sha256(name + NOKEY_BYTES, len - NOKEY_BYTES, raw + 8 + NOKEY_BYTES);
        n = NOKEY_MAX;
    }
    return b64_encode(raw, n, out);
}

int gk_ext_nokey_parse(const char *s, gk_ext_nokey *k)
{
    size_t n = strlen(s);
    uint8_t raw[NOKEY_ENCODED_MAX];
    if (n > NOKEY_ENCODED_MAX)
        return -1;
    ssize_t r = b64_decode(s, n, raw);
    if (r < 8 + 1 || (r > 8 + NOKEY_BYTES && r != NOKEY_MAX))
        return -1;
    k->len = (size_t)r - 8;
    k->longname = r == NOKEY_MAX;
    memcpy(k->bytes, raw + 8, r - 8);
    return 0;
}

int gk_ext_nokey_match(const gk_ext_nokey *k, const uint8_t *name, size_t len)
{
    if (!k->longname)
        return len == k->len && memcmp(name, k->bytes, len) == 0;
    if (len <= NOKEY_BYTES || memcmp(name, k->bytes, NOKEY_BYTES) != 0)
        return 0;
    uint8_t d[32];
    gk_sha256(name + NOKEY_BYTES, len - NOKEY_BYTES, d);
    return memcmp(d, k->bytes + NOKEY_BYTES, 32) == 0;
}

int gk_ext_crypt_hash(ext2_filsys fs, int version, const uint8_t *name, size_t len,
                      uint32_t *hash, uint32_t *minor)
{
    ext2_dirhash_t h = 0, m = 0;
    if (ext2fs_dirhash2(version, (const char *)name, (int)len, NULL, 0, fs->super->s_hash_seed,
                        &h, &m))
        return -1;
    /* the value kept for the end of an htree is never a name's hash */
    if (h == (0x7fffffffu << 1))
        h = (0x7fffffffu - 1) << 1;
    *hash = h;
    *minor = m;
    return 0;
}
