/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LUKS1 and LUKS2 volumes: the headers cryptsetup writes, unlocking a
 * keyslot with a passphrase, and the decrypted data segment as a device.
 *
 * LUKS1 is a fixed 592-byte big-endian header (LUKS On-Disk Format
 * Specification 1.2.3).  LUKS2 is a 4096-byte binary header followed by a
 * JSON area (LUKS2 On-Disk Format Specification 1.1); the JSON is parsed by
 * json-c, the library cryptsetup itself parses it with, so that what we
 * accept matches what cryptsetup accepts; json-c's depth limit and the 4 MiB
 * bound of the area keep a hostile header small.  Only what unlocking and
 * reading needs is taken from it: one crypt segment, luks2 keyslots with
 * the luks1 AF and a raw area, pbkdf2 digests.  Anything else (several
 * segments as in a reencryption, integrity, tokens-only keyslots) is
 * refused or skipped with a message. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_Init: see header_sum */
#include <openssl/sha.h>

#include "ossl.h"

#include "luks.h"

static const uint8_t luks_magic1[6] = {'L', 'U', 'K', 'S', 0xba, 0xbe};
static const uint8_t luks_magic2[6] = {'S', 'K', 'U', 'L', 0xba, 0xbe};

int gk_luks_magic(const uint8_t *buf, size_t n)
{
    if (n < 8 || memcmp(buf, luks_magic1, 6) != 0)
        return 0;
    uint16_t v = gk_be16(buf + 6);
    return v == 1 || v == 2;
}

/* A fixed-size NUL-padded string field into out (NUL-terminated): 0, or -1
 * when it does not fit or holds bytes a name never has. */
static int field_str(const uint8_t *p, size_t n, char *out, size_t outsz)
{
    size_t len = strnlen((const char *)p, n);
    if (len >= outsz)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (p[i] < 0x20 || p[i] > 0x7e)
            return -1;
    memcpy(out, p, len);
    out[len] = 0;
    return 0;
}

/* "aes-xts-plain64" -> "aes" + "xts-plain64" */
static int split_spec(const char *spec, char *cipher, size_t csz, char *mode, size_t msz)
{
    const char *d = strchr(spec, '-');
    if (!d || (size_t)(d - spec) >= csz || strlen(d + 1) >= msz || d == spec || !d[1])
        return -1;
    memcpy(cipher, spec, (size_t)(d - spec));
    cipher[d - spec] = 0;
    strcpy(mode, d + 1);
    return 0;
}

/* Bytes of a keyslot's key material: keylen * stripes, whole sectors. */
static int slot_material(size_t keylen, unsigned stripes, uint64_t *out)
{
    uint64_t n = (uint64_t)keylen * stripes;
    *out = (n + 511) / 512 * 512;
    return 0;
}

static int check_slot(gk_luks *l, gk_luks_slot *s, uint64_t devsize)
{
    uint64_t need;
    if (s->stripes == 0 || s->stripes > GK_AF_MAX_STRIPES)
        return gk_error("keyslot %d: %u anti-forensic stripes", s->id, s->stripes), -1;
    slot_material(l->keylen, s->stripes, &need);
    if (need > s->area_len)
        return gk_error("keyslot %d: key material (%llu bytes) larger than its area (%llu)",
                        s->id, (unsigned long long)need, (unsigned long long)s->area_len), -1;
    if (!gk_range_ok(s->area_off, s->area_len, devsize) || s->area_off % 512)
        return gk_error("keyslot %d: area %llu+%llu outside the device", s->id,
                        (unsigned long long)s->area_off, (unsigned long long)s->area_len), -1;
    if (gk_cipher_check(s->area_cipher, s->area_mode, s->area_keylen) < 0)
        return gk_error_prefix("keyslot %d", s->id), -1;
    if (s->kdf == GK_KDF_PBKDF2 && !gk_digest_size(s->hash))
        return gk_error("keyslot %d: PBKDF2 hash %s is not supported", s->id, s->hash), -1;
    if (!gk_digest_size(s->af_hash))
        return gk_error("keyslot %d: AF hash %s is not supported", s->id, s->af_hash), -1;
    return 0;
}

static int check_data(gk_luks *l, uint64_t devsize)
{
    if (l->keylen == 0 || l->keylen > GK_KEY_MAX)
        return gk_error("volume key of %zu bytes", l->keylen), -1;
    if (gk_cipher_check(l->cipher, l->mode, l->keylen) < 0)
        return -1;
    if (l->sector_size < 512 || l->sector_size > 4096 || (l->sector_size & (l->sector_size - 1)))
        return gk_error("sector size %u", l->sector_size), -1;
    if (l->data_off % l->sector_size || l->data_off > devsize ||
        (l->data_len && !gk_range_ok(l->data_off, l->data_len, devsize)) ||
        l->data_len % l->sector_size)
        return gk_error("data segment %llu+%llu outside the device (%llu bytes)",
                        (unsigned long long)l->data_off, (unsigned long long)l->data_len,
                        (unsigned long long)devsize), -1;
    if (l->dglen == 0 || l->dglen > sizeof l->digest || l->dg_iter == 0 ||
        l->dg_iter > GK_KDF_PBKDF2_MAX_ITER || !gk_digest_size(l->dg_hash))
        return gk_error("volume key digest (%s, %u iterations) is not usable", l->dg_hash,
                        l->dg_iter), -1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* LUKS1                                                               */

#define LUKS1_HDR 592
#define LUKS1_SLOT_ACTIVE 0x00AC71F3u
#define LUKS1_SLOT_INACTIVE 0x0000DEADu

static int parse1(const uint8_t *b, size_t n, uint64_t devsize, gk_luks *l)
{
    if (n < LUKS1_HDR)
        return gk_error("LUKS1 header truncated"), -1;
    l->version = 1;
    if (field_str(b + 8, 32, l->cipher, sizeof l->cipher) < 0 ||
        field_str(b + 40, 32, l->mode, sizeof l->mode) < 0 ||
        field_str(b + 72, 32, l->dg_hash, sizeof l->dg_hash) < 0 ||
        field_str(b + 168, 40, l->uuid, sizeof l->uuid) < 0)
        return gk_error("LUKS1 header: bad cipher, hash or UUID field"), -1;
    l->data_off = (uint64_t)gk_be32(b + 104) * 512;
    l->keylen = gk_be32(b + 108);
    memcpy(l->digest, b + 112, 20);
    l->dglen = 20;
    memcpy(l->dg_salt, b + 132, 32);
    l->dg_saltlen = 32;
    l->dg_iter = gk_be32(b + 164);
    l->sector_size = 512;
    if (check_data(l, devsize) < 0)
        return gk_error_prefix("LUKS1 header"), -1;
    for (int i = 0; i < 8; i++) {
        const uint8_t *k = b + 208 + 48 * i;
        uint32_t active = gk_be32(k);
        if (active == LUKS1_SLOT_INACTIVE)
            continue;
        if (active != LUKS1_SLOT_ACTIVE) {
            gk_warn("LUKS1 keyslot %d: unknown state 0x%08x, ignored", i, active);
            continue;
        }
        gk_luks_slot *s = &l->slots[l->nslots];
        memset(s, 0, sizeof *s);
        s->id = i;
        s->kdf = GK_KDF_PBKDF2;
        strcpy(s->hash, l->dg_hash);
        strcpy(s->af_hash, l->dg_hash);
        strcpy(s->area_cipher, l->cipher);
        strcpy(s->area_mode, l->mode);
        s->area_keylen = l->keylen;
        s->iterations = gk_be32(k + 4);
        memcpy(s->salt, k + 8, 32);
        s->saltlen = 32;
        s->area_off = (uint64_t)gk_be32(k + 40) * 512;
        s->stripes = gk_be32(k + 44);
        slot_material(l->keylen, s->stripes, &s->area_len);
        if (check_slot(l, s, devsize) < 0)
            return gk_error_prefix("LUKS1 header"), -1;
        /* the key material must not overlap the data it protects */
        if (s->area_off < LUKS1_HDR || s->area_off + s->area_len > l->data_off)
            return gk_error("LUKS1 header: keyslot %d overlaps the header or the data", i), -1;
        l->nslots++;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* LUKS2                                                               */

/* Integers in LUKS2 JSON: sizes and offsets are decimal strings (they may
 * exceed 2^53), others plain numbers.  0 and *out, or -1. */
static int j_u64(json_object *o, const char *key, uint64_t *out)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return -1;
    if (json_object_is_type(v, json_type_int)) {
        int64_t i = json_object_get_int64(v);
        if (i < 0)
            return -1;
        *out = (uint64_t)i;
        return 0;
    }
    if (!json_object_is_type(v, json_type_string))
        return -1;
    const char *s = json_object_get_string(v);
    if (!*s || strlen(s) > 20)
        return -1;
    uint64_t r = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || r > (UINT64_MAX - 9) / 10)
            return -1;
        r = r * 10 + (uint64_t)(*s - '0');
    }
    *out = r;
    return 0;
}

static int j_u32(json_object *o, const char *key, uint32_t *out)
{
    uint64_t v;
    if (j_u64(o, key, &v) < 0 || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static const char *j_str(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static int j_strcpy(json_object *o, const char *key, char *out, size_t outsz)
{
    const char *s = j_str(o, key);
    if (!s || strlen(s) >= outsz)
        return -1;
    strcpy(out, s);
    return 0;
}

static json_object *j_obj(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object))
        return NULL;
    return v;
}

/* base64 (standard alphabet, padded) into out: 0 and *len, or -1. */
static int j_b64(json_object *o, const char *key, uint8_t *out, size_t outsz, size_t *len)
{
    const char *s = j_str(o, key);
    if (!s)
        return -1;
    size_t n = strlen(s);
    uint8_t tmp[96];
    if (n == 0 || n % 4 || n / 4 * 3 > sizeof tmp)
        return -1;
    int r = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
    if (r < 0)
        return -1;
    size_t pad = (s[n - 1] == '=') + (s[n - 2] == '=');
    if ((size_t)r < pad || (size_t)r - pad > outsz)
        return -1;
    *len = (size_t)r - pad;
    memcpy(out, tmp, *len);
    return 0;
}

/* 1 if the JSON array arr holds the string s. */
static int j_has(json_object *arr, const char *s)
{
    if (!arr || !json_object_is_type(arr, json_type_array))
        return 0;
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(arr, i);
        if (json_object_is_type(v, json_type_string) && strcmp(json_object_get_string(v), s) == 0)
            return 1;
    }
    return 0;
}

/* Object member names of LUKS2 are decimal ids "0".."31". */
static int j_id(const char *key, int max)
{
    if (!*key || strlen(key) > 2)
        return -1;
    int v = 0;
    for (const char *p = key; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v < max ? v : -1;
}

static int parse2_slot(gk_luks *l, int id, json_object *ks, uint64_t devsize, uint64_t hdr_end)
{
    gk_luks_slot *s = &l->slots[l->nslots];
    memset(s, 0, sizeof *s);
    s->id = id;
    const char *type = j_str(ks, "type");
    if (!type || strcmp(type, "luks2") != 0) {
        gk_debug("LUKS2 keyslot %d: type %s, not used", id, type ? type : "(none)");
        return 0;
    }
    uint32_t prio = 1;
    json_object *pv;
    if (json_object_object_get_ex(ks, "priority", &pv) && j_u32(ks, "priority", &prio) == 0 &&
        prio == 0) {
        gk_debug("LUKS2 keyslot %d: priority ignore, not used", id);
        return 0;
    }
    uint32_t ksize;
    json_object *af = j_obj(ks, "af"), *area = j_obj(ks, "area"), *kdf = j_obj(ks, "kdf");
    const char *aft = af ? j_str(af, "type") : NULL, *at = area ? j_str(area, "type") : NULL;
    const char *kt = kdf ? j_str(kdf, "type") : NULL, *enc = area ? j_str(area, "encryption") : NULL;
    if (j_u32(ks, "key_size", &ksize) < 0 || !aft || !at || !kt || !enc)
        return gk_error("keyslot %d: missing fields", id), -1;
    if (ksize != l->keylen) {
        gk_debug("LUKS2 keyslot %d: key of %u bytes, the segment's is %zu: not used", id, ksize,
                 l->keylen);
        return 0;
    }
    if (strcmp(aft, "luks1") != 0 || strcmp(at, "raw") != 0)
        return gk_error("keyslot %d: AF %s / area %s is not supported", id, aft, at), -1;
    uint32_t akey;
    if (j_u32(af, "stripes", &s->stripes) < 0 || j_strcpy(af, "hash", s->af_hash, sizeof s->af_hash) < 0 ||
        j_u64(area, "offset", &s->area_off) < 0 || j_u64(area, "size", &s->area_len) < 0 ||
        j_u32(area, "key_size", &akey) < 0 ||
        split_spec(enc, s->area_cipher, sizeof s->area_cipher, s->area_mode, sizeof s->area_mode) < 0 ||
        j_b64(kdf, "salt", s->salt, sizeof s->salt, &s->saltlen) < 0)
        return gk_error("keyslot %d: bad af, area or kdf fields", id), -1;
    s->area_keylen = akey;
    if (akey == 0 || akey > GK_KEY_MAX)
        return gk_error("keyslot %d: area key of %u bytes", id, akey), -1;
    if (strcmp(kt, "pbkdf2") == 0) {
        s->kdf = GK_KDF_PBKDF2;
        if (j_strcpy(kdf, "hash", s->hash, sizeof s->hash) < 0 ||
            j_u32(kdf, "iterations", &s->iterations) < 0)
            return gk_error("keyslot %d: bad pbkdf2 parameters", id), -1;
    } else if (strcmp(kt, "argon2i") == 0 || strcmp(kt, "argon2id") == 0) {
        s->kdf = strcmp(kt, "argon2id") == 0 ? GK_KDF_ARGON2ID : GK_KDF_ARGON2I;
        if (j_u32(kdf, "time", &s->iterations) < 0 || j_u32(kdf, "memory", &s->memory) < 0 ||
            j_u32(kdf, "cpus", &s->lanes) < 0)
            return gk_error("keyslot %d: bad %s parameters", id, kt), -1;
    } else
        return gk_error("keyslot %d: KDF %s is not supported", id, kt), -1;
    if (check_slot(l, s, devsize) < 0)
        return -1;
    if (s->area_off < hdr_end || (s->area_off < l->data_off && s->area_off + s->area_len > l->data_off))
        return gk_error("keyslot %d overlaps the header or the data", id), -1;
    l->nslots++;
    return 0;
}

static int parse2_json(gk_luks *l, const char *text, size_t n, uint64_t devsize, uint64_t hdr_end)
{
    json_tokener *tok = json_tokener_new_ex(16);
    if (!tok)
        return gk_error("out of memory"), -1;
    json_object *top = json_tokener_parse_ex(tok, text, (int)n);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    json_tokener_free(tok);
    if (!top || jerr != json_tokener_success || !json_object_is_type(top, json_type_object)) {
        json_object_put(top);
        return gk_error("JSON area: %s", top ? "not an object" : json_tokener_error_desc(jerr)), -1;
    }
    int r = -1;
    json_object *segs = j_obj(top, "segments"), *digs = j_obj(top, "digests"),
                *kss = j_obj(top, "keyslots");
    if (!segs || !digs || !kss) {
        gk_error("JSON area: no segments, digests or keyslots");
        goto out;
    }
    /* the data segment */
    const char *segkey = NULL;
    json_object *seg = NULL;
    int nseg = 0;
    json_object_object_foreach(segs, sk, sv) {
        if (j_id(sk, 64) < 0 || !json_object_is_type(sv, json_type_object)) {
            gk_error("JSON area: bad segment %.20s", sk);
            goto out;
        }
        nseg++;
        segkey = sk;
        seg = sv;
    }
    if (nseg != 1) {
        gk_error("%d data segments (a reencryption in progress?) are not supported", nseg);
        goto out;
    }
    const char *st = j_str(seg, "type"), *enc = j_str(seg, "encryption");
    if (!st || strcmp(st, "crypt") != 0 || !enc) {
        gk_error("segment %s: type %s is not supported", segkey, st ? st : "(none)");
        goto out;
    }
    if (j_obj(seg, "integrity")) {
        gk_error("segment %s: integrity protection (dm-integrity) is not supported", segkey);
        goto out;
    }
    const char *size = j_str(seg, "size");
    if (j_u64(seg, "offset", &l->data_off) < 0 || j_u64(seg, "iv_tweak", &l->iv_tweak) < 0 ||
        j_u32(seg, "sector_size", &l->sector_size) < 0 || !size ||
        split_spec(enc, l->cipher, sizeof l->cipher, l->mode, sizeof l->mode) < 0 ||
        (strcmp(size, "dynamic") != 0 && j_u64(seg, "size", &l->data_len) < 0)) {
        gk_error("segment %s: bad offset, size, iv_tweak, sector_size or encryption", segkey);
        goto out;
    }
    if (l->data_off < hdr_end) {
        gk_error("segment %s starts inside the header", segkey);
        goto out;
    }
    /* the digest of that segment, and the keyslots it covers */
    json_object *dig = NULL;
    json_object_object_foreach(digs, dk, dv) {
        if (j_id(dk, 64) < 0 || !json_object_is_type(dv, json_type_object)) {
            gk_error("JSON area: bad digest %.20s", dk);
            goto out;
        }
        json_object *dsegs;
        if (json_object_object_get_ex(dv, "segments", &dsegs) && j_has(dsegs, segkey))
            dig = dv;
    }
    const char *dt = dig ? j_str(dig, "type") : NULL;
    if (!dt || strcmp(dt, "pbkdf2") != 0) {
        gk_error("segment %s: %s", segkey, dt ? "digest type is not pbkdf2" : "no digest");
        goto out;
    }
    if (j_strcpy(dig, "hash", l->dg_hash, sizeof l->dg_hash) < 0 ||
        j_u32(dig, "iterations", &l->dg_iter) < 0 ||
        j_b64(dig, "salt", l->dg_salt, sizeof l->dg_salt, &l->dg_saltlen) < 0 ||
        j_b64(dig, "digest", l->digest, sizeof l->digest, &l->dglen) < 0) {
        gk_error("digest: bad hash, iterations, salt or digest");
        goto out;
    }
    /* the volume key size is the keyslots' key_size; take the first bound one */
    json_object *dks;
    json_object_object_get_ex(dig, "keyslots", &dks);
    l->keylen = 0;
    json_object_object_foreach(kss, kk, kv) {
        uint32_t ksz;
        if (j_has(dks, kk) && json_object_is_type(kv, json_type_object) &&
            j_u32(kv, "key_size", &ksz) == 0) {
            l->keylen = ksz;
            break;
        }
    }
    if (check_data(l, devsize) < 0)
        goto out;
    json_object_object_foreach(kss, kk2, kv2) {
        int id = j_id(kk2, GK_LUKS_MAX_SLOTS);
        if (id < 0 || !json_object_is_type(kv2, json_type_object)) {
            gk_error("JSON area: bad keyslot %.20s", kk2);
            goto out;
        }
        if (!j_has(dks, kk2))
            continue;
        if (parse2_slot(l, id, kv2, devsize, hdr_end) < 0) {
            gk_error_prefix("LUKS2");
            goto out;
        }
    }
    r = 0;
out:
    json_object_put(top);
    return r;
}

/* The LUKS2 header's checksum (alg over the hs bytes at b, the 64 bytes of
 * the checksum field read as zeros) into sum: 0, or -1.  SHA-256 (what
 * cryptsetup writes), SHA-512 and SHA-1 by OpenSSL's low-level functions,
 * linked in: a probe of a LUKS device needs no libcrypto loaded (it runs
 * in the sandbox, lib/ossl.h).  Others through EVP. */
static int header_sum(const char *alg, const uint8_t *b, uint64_t hs, uint8_t *sum)
{
    static const uint8_t zero[64];
    if (strcasecmp(alg, "sha256") == 0 || strcasecmp(alg, "sha2-256") == 0) {
        SHA256_CTX c;
        return SHA256_Init(&c) && SHA256_Update(&c, b, 448) && SHA256_Update(&c, zero, 64) &&
                       SHA256_Update(&c, b + 512, hs - 512) && SHA256_Final(sum, &c)
                   ? 0
                   : -1;
    }
    if (strcasecmp(alg, "sha512") == 0 || strcasecmp(alg, "sha2-512") == 0) {
        SHA512_CTX c;
        return SHA512_Init(&c) && SHA512_Update(&c, b, 448) && SHA512_Update(&c, zero, 64) &&
                       SHA512_Update(&c, b + 512, hs - 512) && SHA512_Final(sum, &c)
                   ? 0
                   : -1;
    }
    if (strcasecmp(alg, "sha1") == 0) {
        SHA_CTX c;
        return SHA1_Init(&c) && SHA1_Update(&c, b, 448) && SHA1_Update(&c, zero, 64) &&
                       SHA1_Update(&c, b + 512, hs - 512) && SHA1_Final(sum, &c)
                   ? 0
                   : -1;
    }
    const EVP_MD *md = EVP_get_digestbyname(alg);
    EVP_MD_CTX *mc = md ? EVP_MD_CTX_new() : NULL;
    int ok = mc && EVP_DigestInit_ex(mc, md, NULL) && EVP_DigestUpdate(mc, b, 448) &&
             EVP_DigestUpdate(mc, zero, 64) && EVP_DigestUpdate(mc, b + 512, hs - 512) &&
             EVP_DigestFinal_ex(mc, sum, NULL);
    EVP_MD_CTX_free(mc);
    return ok ? 0 : -1;
}

/* The binary header at off (where buf starts): 0 with hdr_size checked and
 * the checksum right, 1 if not a LUKS2 header, -1 with gk_error. */
static int parse2_bin(const uint8_t *b, size_t n, uint64_t devsize, const uint8_t *magic,
                      uint64_t *hdr_size)
{
    if (n < 4096 || memcmp(b, magic, 6) != 0 || gk_be16(b + 6) != 2)
        return 1;
    uint64_t hs = gk_be64(b + 8);
    if (hs < 16384 || hs > GK_LUKS2_MAX_HDR || (hs & (hs - 1)) || hs > devsize)
        return gk_error("LUKS2 header size %llu", (unsigned long long)hs), -1;
    if (hs > n)
        return gk_error("LUKS2 header truncated"), -1;
    char alg[33];
    if (field_str(b + 72, 32, alg, sizeof alg) < 0)
        return gk_error("LUKS2 header: bad checksum algorithm"), -1;
    int ds = gk_digest_size(alg);
    if (ds <= 0 || ds > 64)
        return gk_error("LUKS2 header: checksum algorithm %s is not supported", alg), -1;
    /* the checksum covers the whole header with its own field zeroed */
    uint8_t sum[64];
    int r = header_sum(alg, b, hs, sum);
    if (r < 0)
        return gk_error("LUKS2 header: checksum (%s): %s", alg,
                        gk_ossl_load_error() ? gk_ossl_load_error() : "libcrypto error"), -1;
    if (memcmp(sum, b + 448, (size_t)ds) != 0)
        return gk_error("LUKS2 header checksum mismatch"), -1;
    *hdr_size = hs;
    return 0;
}

static int parse2(const uint8_t *b, size_t n, uint64_t devsize, gk_luks *l, uint64_t hs)
{
    l->version = 2;
    if (field_str(b + 168, 40, l->uuid, sizeof l->uuid) < 0 ||
        field_str(b + 24, 48, l->label, sizeof l->label) < 0)
        return gk_error("LUKS2 header: bad UUID or label"), -1;
    /* the JSON area of both copies: the data must start after both */
    const char *json = (const char *)b + 4096;
    size_t jn = strnlen(json, (size_t)hs - 4096);
    (void)n;
    if (parse2_json(l, json, jn, devsize, 2 * hs) < 0)
        return gk_error_prefix("LUKS2 header"), -1;
    return 0;
}

int gk_luks_parse(const uint8_t *buf, size_t n, uint64_t devsize, gk_luks *l)
{
    memset(l, 0, sizeof *l);
    if (!gk_luks_magic(buf, n))
        return 1;
    if (gk_be16(buf + 6) == 1)
        return parse1(buf, n, devsize, l);
    uint64_t hs;
    int r = parse2_bin(buf, n, devsize, luks_magic1, &hs);
    if (r != 0)
        return r < 0 ? -1 : 1;
    return parse2(buf, n, devsize, l, hs);
}

int gk_luks_read(gk_dev *d, gk_luks *l)
{
    uint8_t first[4096];
    memset(l, 0, sizeof *l);
    if (d->size < sizeof first)
        return 1;
    if (gk_pread(d, first, sizeof first, 0) < 0)
        return -1;
    if (!gk_luks_magic(first, sizeof first))
        return 1;
    if (gk_be16(first + 6) == 1)
        return parse1(first, sizeof first, d->size, l);
    /* LUKS2: read the whole primary header; if it is damaged, the
     * secondary copy sits at one of the sizes a header may have */
    uint64_t hs = gk_be64(first + 8), got;
    static const uint64_t offs[] = {0, 16384, 32768, 65536, 131072, 262144, 524288,
                                    1048576, 2097152, 4194304};
    int r = -1, found = 0;
    char *firsterr = NULL;
    for (size_t i = 0; i < sizeof offs / sizeof offs[0] && r < 0; i++) {
        uint64_t off = offs[i], want = i == 0 ? hs : off;
        if (i > 0 && off == 0)
            continue;
        if (want < 16384 || want > GK_LUKS2_MAX_HDR || !gk_range_ok(off, want, d->size))
            continue;
        uint8_t *b = gk_malloc((size_t)want);
        if (gk_pread(d, b, (size_t)want, off) == 0) {
            int pr = parse2_bin(b, (size_t)want, d->size, i == 0 ? luks_magic1 : luks_magic2, &got);
            if (pr == 0 && got == want) {
                found = 1;
                if (i > 0)
                    gk_warn("%s: LUKS2 primary header damaged (%s); using the secondary header",
                            d->name, firsterr ? firsterr : "bad");
                memset(l, 0, sizeof *l);
                r = parse2(b, (size_t)want, d->size, l, got);
                if (r < 0) {
                    free(b);
                    break;
                }
            } else if (pr < 0 && i == 0)
                firsterr = gk_strdup(gk_errmsg());
        }
        free(b);
    }
    if (r < 0 && !found)
        gk_error("%s", firsterr ? firsterr : "LUKS2 header unreadable");
    free(firsterr);
    return r;
}

/* ------------------------------------------------------------------ */
/* Keys                                                                */

int gk_luks_key_ok(const gk_luks *l, const uint8_t *key)
{
    uint8_t dg[64];
    if (gk_pbkdf2(l->dg_hash, key, l->keylen, l->dg_salt, l->dg_saltlen, l->dg_iter, dg,
                  l->dglen) < 0)
        return 0;
    return gk_mem_equal(dg, l->digest, l->dglen);
}

/* One keyslot: 0 and the key, 1 wrong passphrase, -1 error. */
static int try_slot(gk_dev *d, const gk_luks *l, const gk_luks_slot *s, const void *pass,
                    size_t passlen, uint8_t *key)
{
    uint64_t mat;
    slot_material(l->keylen, s->stripes, &mat);
    uint8_t *dk = gk_secret_alloc(s->area_keylen);
    uint8_t *km = gk_secret_alloc((size_t)mat);
    gk_cipher *c = NULL;
    int r = -1;
    if (s->kdf == GK_KDF_PBKDF2) {
        if (gk_pbkdf2(s->hash, pass, passlen, s->salt, s->saltlen, s->iterations, dk,
                      s->area_keylen) < 0)
            goto out;
    } else if (gk_argon2(s->kdf == GK_KDF_ARGON2ID, pass, passlen, s->salt, s->saltlen,
                         s->iterations, s->memory, s->lanes, dk, s->area_keylen) < 0)
        goto out;
    if (gk_pread(d, km, (size_t)mat, s->area_off) < 0)
        goto out;
    c = gk_cipher_new(s->area_cipher, s->area_mode, dk, s->area_keylen, 512, 0);
    if (!c || gk_cipher_decrypt(c, km, (size_t)mat, 0) < 0)
        goto out;
    if (gk_af_merge(km, l->keylen, s->stripes, s->af_hash, key) < 0)
        goto out;
    r = gk_luks_key_ok(l, key) ? 0 : 1;
out:
    if (r < 0)
        gk_error_prefix("keyslot %d", s->id);
    gk_cipher_free(c);
    gk_secret_free(km, (size_t)mat);
    gk_secret_free(dk, s->area_keylen);
    return r;
}

int gk_luks_unlock(gk_dev *d, const gk_luks *l, const void *pass, size_t passlen,
                   uint8_t *key, int *slot)
{
    int err = 0;
    char *msg = NULL;
    for (int i = 0; i < l->nslots; i++) {
        int r = try_slot(d, l, &l->slots[i], pass, passlen, key);
        if (r == 0) {
            *slot = l->slots[i].id;
            free(msg);
            return 0;
        }
        if (r < 0 && !err) {
            err = 1;
            msg = gk_strdup(gk_errmsg());
        }
    }
    OPENSSL_cleanse(key, GK_KEY_MAX);
    if (err) {
        gk_error("%s", msg);
        free(msg);
        return -1;
    }
    return 1;
}

int gk_luks_open_key(gk_dev *d, const char *name, const char *what, int version, gk_luks *l,
                     const void *pass, size_t passlen, uint8_t *key)
{
    /* a LUKS header of another version is refused before it is parsed,
     * in qemu's words (driver=luks reads LUKS1 only) */
    uint8_t m[8];
    if (version && d->size >= sizeof m && gk_pread(d, m, sizeof m, 0) == 0 &&
        gk_luks_magic(m, sizeof m) && gk_be16(m + 6) != version) {
        gk_error("LUKS version %u is not supported", gk_be16(m + 6));
        if (what)
            gk_error_prefix("%s", what);
        gk_error_prefix("%s", name);
        return -EINVAL;
    }
    int r = gk_luks_read(d, l);
    if (r == 0 && version && l->version != version)
        r = 1;
    if (r != 0) {
        if (r > 0 && version)
            gk_error("not a LUKS%d header", version);
        else if (r > 0)
            gk_error("not a LUKS header");
        if (what)
            gk_error_prefix("%s", what);
        gk_error_prefix("%s", name);
        return -EINVAL;
    }
    if (!pass)
        return 0;
    int slot;
    r = gk_luks_unlock(d, l, pass, passlen, key, &slot);
    if (r > 0)
        return gk_fail(EKEYREJECTED, "%s: the key opens no keyslot (of %d) of its LUKS header",
                       name, l->nslots);
    if (r < 0) {
        gk_error_prefix("%s", name);
        return -EIO;
    }
    gk_debug("%s: LUKS%d keyslot %d opened", name, l->version, slot);
    return 0;
}

/* ------------------------------------------------------------------ */
/* The data segment as a device                                        */

#define LUKS_BOUNCE (256u << 10)

struct luksdev {
    gk_dev *parent;
    gk_cipher *c;
    uint64_t off;          /* data segment start in parent           */
    unsigned ss;           /* encryption sector size                 */
    uint64_t iv_tweak;     /* 512-byte sectors                       */
    uint8_t *bounce;       /* LUKS_BOUNCE bytes for unaligned reads  */
    int image;             /* a luks image's payload: may be empty, resizes */
};

/* 0 or -errno */
static int luks_read_aligned(struct luksdev *m, uint8_t *buf, size_t n, uint64_t off)
{
    if (gk_pread(m->parent, buf, n, m->off + off) < 0)
        return errno ? -errno : -EIO;
    return gk_cipher_decrypt(m->c, buf, n, m->iv_tweak + off / 512) < 0 ? -EIO : 0;
}

static int luks_pread(gk_dev *d, void *vbuf, size_t n, uint64_t off)
{
    struct luksdev *m = d->priv;
    uint8_t *buf = vbuf;
    int err = 0;
    while (n > 0) {
        uint64_t start = off / m->ss * m->ss;
        size_t head = (size_t)(off - start);
        if (head == 0 && n >= m->ss) {
            size_t chunk = n / m->ss * m->ss;
            if ((err = luks_read_aligned(m, buf, chunk, off)) < 0)
                goto fail;
            buf += chunk, off += chunk, n -= chunk;
            continue;
        }
        size_t span = (head + n + m->ss - 1) / m->ss * m->ss;
        if (span > LUKS_BOUNCE)
            span = LUKS_BOUNCE;
        if ((err = luks_read_aligned(m, m->bounce, span, start)) < 0)
            goto fail;
        size_t take = span - head < n ? span - head : n;
        memcpy(buf, m->bounce + head, take);
        buf += take, off += take, n -= take;
    }
    return 0;
fail:
    gk_error_prefix("%s", d->name);
    return err;
}

/* Writes go through the cipher as qemu's driver=luks writes them: whole
 * encryption sectors, in place.  A sector only partly written is read and
 * decrypted first; the span (at most LUKS_BOUNCE) is encrypted in the bounce
 * buffer and written with one write, so a kill leaves each sector old or
 * new, as a raw image's. */
static int luks_pwrite(gk_dev *d, const void *vbuf, size_t n, uint64_t off)
{
    struct luksdev *m = d->priv;
    const uint8_t *buf = vbuf;
    int err = 0;
    while (n > 0) {
        uint64_t start = off / m->ss * m->ss;
        size_t head = (size_t)(off - start);
        size_t span = (head + n + m->ss - 1) / m->ss * m->ss;
        if (span > LUKS_BOUNCE)
            span = LUKS_BOUNCE;
        size_t take = span - head < n ? span - head : n;
        if (head && (err = luks_read_aligned(m, m->bounce, m->ss, start)) < 0)
            goto fail;
        if ((head + take) % m->ss && (span > m->ss || !head) &&
            (err = luks_read_aligned(m, m->bounce + span - m->ss, m->ss, start + span - m->ss)) < 0)
            goto fail;
        memcpy(m->bounce + head, buf, take);
        if (gk_cipher_encrypt(m->c, m->bounce, span, m->iv_tweak + start / 512) < 0) {
            err = -EIO;
            goto fail;
        }
        if (gk_pwrite(m->parent, m->bounce, span, m->off + start) < 0) {
            err = errno ? -errno : -EIO;
            goto fail;
        }
        buf += take, off += take, n -= take;
    }
    return 0;
fail:
    gk_error_prefix("%s", d->name);
    return err;
}

static int luks_flush(gk_dev *d)
{
    struct luksdev *m = d->priv;
    return gk_flush(m->parent) < 0 ? -errno : 0;
}

/* A luks image's payload runs to the end of the file (LUKS1 has no size
 * in its header), so resizing it is moving the end of the file, as qemu's
 * driver=luks does (block/crypto.c): the new bytes are what the file's
 * preallocation puts there, not encrypted zeros. */
static int luks_truncate(gk_dev *d, uint64_t size, enum gk_prealloc prealloc)
{
    struct luksdev *m = d->priv;
    if (!m->image)
        return gk_fail(ENOTSUP, "%s: a LUKS volume in a guest cannot be resized", d->name);
    if (size > (uint64_t)INT64_MAX - m->off)
        return gk_fail(EFBIG, "The new size is too large");
    if (gk_truncate(m->parent, m->off + size, prealloc) < 0)
        return -errno;
    d->size = (m->parent->size - m->off) / m->ss * m->ss;
    return 0;
}

static void luks_close(gk_dev *d)
{
    struct luksdev *m = d->priv;
    gk_cipher_free(m->c);
    gk_dev_unref(m->parent);
    free(m->bounce);
    free(m);
}

static const struct gk_dev_ops luks_ops = {
    .name = "luks",
    .pread = luks_pread,
    .pwrite = luks_pwrite,
    .flush = luks_flush,
    .truncate = luks_truncate,
    .close = luks_close,
};

static gk_dev *dev_new(gk_dev *d, const gk_luks *l, const uint8_t *key, const char *name, int image)
{
    uint64_t len = l->data_len ? l->data_len : (d->size - l->data_off) / l->sector_size * l->sector_size;
    if (!gk_range_ok(l->data_off, len, d->size) || (len == 0 && !image)) {
        gk_error("%s: the data segment is outside the device", d->name);
        return NULL;
    }
    /* LUKS counts IVs in 512-byte sectors whatever the encryption sector
     * size (cryptsetup sets dm-crypt's iv_large_sectors for plain and
     * BitLocker mappings only) */
    gk_cipher *c = gk_cipher_new(l->cipher, l->mode, key, l->keylen, l->sector_size, 0);
    if (!c)
        return NULL;
    struct luksdev *m = gk_calloc(1, sizeof *m);
    m->parent = d;
    gk_dev_ref(d);
    m->c = c;
    m->off = l->data_off;
    m->ss = l->sector_size;
    m->iv_tweak = l->iv_tweak;
    m->bounce = gk_malloc(LUKS_BOUNCE);
    m->image = image;
    gk_dev *nd = gk_dev_new(&luks_ops, name, len, m);
    nd->readonly = 1;
    nd->sector_size = 512;
    return nd;
}

gk_dev *gk_luks_dev_new(gk_dev *d, const gk_luks *l, const uint8_t *key, const char *name)
{
    return dev_new(d, l, key, name, 0);
}

gk_dev *gk_luks_image_dev_new(gk_dev *d, const gk_luks *l, const uint8_t *key, const char *name)
{
    return dev_new(d, l, key, name, 1);
}
