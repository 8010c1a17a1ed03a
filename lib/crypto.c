/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Disk encryption primitives put together as dm-crypt and qemu do: sector
 * ciphers with their IV generators, PBKDF2 and Argon2, LUKS' AF splitter.
 * The primitives themselves are OpenSSL's (ciphers, hashes, PBKDF2) and
 * libargon2's; nothing here implements a cipher or a hash. */
#include <argon2.h> /* its types; the library: gk_argon2_lib (lib/ossl.h) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "blk-int.h"
#include "crypto.h"
#include "ossl.h"

/* ------------------------------------------------------------------ */
/* Memory for keys                                                     */

static size_t secret_len(size_t n)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    return n ? (n + pg - 1) / pg * pg : pg;
}

void *gk_secret_alloc(size_t n)
{
    size_t len = secret_len(n);
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        gk_error("cannot allocate %zu bytes for key material: %s", n, strerror(errno));
        abort();
    }
    /* best effort: unprivileged limits may refuse the lock */
    (void)mlock(p, len);
    (void)madvise(p, len, MADV_DONTDUMP);
    return p;
}

void gk_secret_free(void *p, size_t n)
{
    if (!p)
        return;
    size_t len = secret_len(n);
    OPENSSL_cleanse(p, len);
    munlock(p, len);
    munmap(p, len);
}

int gk_mem_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

static const char *ossl_err(void)
{
    if (gk_ossl_load_error())
        return gk_ossl_load_error();
    unsigned long e = ERR_get_error();
    static __thread char buf[256];
    if (!e)
        return "libcrypto error";
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return buf;
}

/* ------------------------------------------------------------------ */
/* Sector ciphers                                                      */

enum ivgen { IV_NONE, IV_PLAIN, IV_PLAIN64, IV_PLAIN64BE, IV_ESSIV };

struct gk_cipher {
    EVP_CIPHER *evp;
    EVP_CIPHER_CTX *ctx[2];    /* [0] decrypts, [1] encrypts (AES key
                                * schedules differ by direction)           */
    EVP_CIPHER_CTX *essiv;     /* IV_ESSIV: AES-ECB keyed with H(key)       */
    enum ivgen ivgen;
    unsigned ivlen;
    unsigned sector_size;
    unsigned iv_shift;
};

/* "aes" + "xts-plain64" + keylen -> the OpenSSL cipher name and the IV
 * generator; 0, or -1 with gk_error. */
static int parse_spec(const char *cipher, const char *mode, size_t keylen, char *evpname,
                      size_t evpsz, enum ivgen *iv, char *ivhash, size_t ivhashsz)
{
    if (strcasecmp(cipher, "aes") != 0)
        goto unsupported;
    char chain[16];
    const char *dash = strchr(mode, '-');
    size_t cl = dash ? (size_t)(dash - mode) : strlen(mode);
    if (cl == 0 || cl >= sizeof chain)
        goto unsupported;
    memcpy(chain, mode, cl);
    chain[cl] = 0;
    const char *gen = dash ? dash + 1 : "";
    ivhash[0] = 0;
    size_t bits;
    if (strcmp(chain, "xts") == 0) {
        if (keylen != 32 && keylen != 64)
            goto badkey;
        bits = keylen * 4;
    } else if (strcmp(chain, "cbc") == 0 || strcmp(chain, "ecb") == 0) {
        if (keylen != 16 && keylen != 24 && keylen != 32)
            goto badkey;
        bits = keylen * 8;
    } else
        goto unsupported;
    if (strcmp(chain, "ecb") == 0) {
        if (*gen)
            goto unsupported;
        *iv = IV_NONE;
    } else if (strcmp(gen, "plain64") == 0)
        *iv = IV_PLAIN64;
    else if (strcmp(gen, "plain64be") == 0)
        *iv = IV_PLAIN64BE;
    else if (strcmp(gen, "plain") == 0)
        *iv = IV_PLAIN;
    else if (strncmp(gen, "essiv:", 6) == 0 && strlen(gen + 6) < ivhashsz && gen[6]) {
        *iv = IV_ESSIV;
        strcpy(ivhash, gen + 6);
    } else
        goto unsupported;
    snprintf(evpname, evpsz, "AES-%zu-%s", bits, chain);
    return 0;
badkey:
    gk_error("cipher %s-%s: a %zu-bit key is not valid", cipher, mode, keylen * 8);
    return -1;
unsupported:
    gk_error("cipher %s-%s is not supported (guestkit reads aes in xts, cbc and ecb modes "
             "with plain, plain64 and essiv IVs)", cipher, mode);
    errno = ENOTSUP;
    return -1;
}

int gk_cipher_check(const char *cipher, const char *mode, size_t keylen)
{
    char evpname[32], ivhash[32];
    enum ivgen iv;
    if (parse_spec(cipher, mode, keylen, evpname, sizeof evpname, &iv, ivhash, sizeof ivhash) < 0)
        return -1;
    if (iv == IV_ESSIV) {
        /* by name: headers are checked where libcrypto cannot be loaded */
        int ds = gk_digest_size(ivhash);
        if (ds < 16 || ds % 8) {
            gk_error("cipher %s-%s: ESSIV hash %s is not supported", cipher, mode, ivhash);
            return -1;
        }
    }
    return 0;
}

gk_cipher *gk_cipher_new(const char *cipher, const char *mode, const uint8_t *key,
                         size_t keylen, unsigned sector_size, unsigned iv_shift)
{
    char evpname[32], ivhash[32];
    enum ivgen iv;
    if (sector_size < 512 || sector_size > 4096 || (sector_size & (sector_size - 1)) ||
        iv_shift > 3) {
        gk_error("sector size %u is not supported", sector_size);
        return NULL;
    }
    if (gk_cipher_check(cipher, mode, keylen) < 0 ||
        parse_spec(cipher, mode, keylen, evpname, sizeof evpname, &iv, ivhash, sizeof ivhash) < 0)
        return NULL;
    gk_cipher *c = gk_calloc(1, sizeof *c);
    c->ivgen = iv;
    c->sector_size = sector_size;
    c->iv_shift = iv_shift;
    c->evp = EVP_CIPHER_fetch(NULL, evpname, NULL);
    if (!c->evp)
        goto fail;
    c->ivlen = (unsigned)EVP_CIPHER_get_iv_length(c->evp);
    for (int enc = 0; enc < 2; enc++) {
        c->ctx[enc] = EVP_CIPHER_CTX_new();
        if (!c->ctx[enc] || !EVP_CipherInit_ex2(c->ctx[enc], c->evp, key, NULL, enc, NULL))
            goto fail;
        EVP_CIPHER_CTX_set_padding(c->ctx[enc], 0);
    }
    if (iv == IV_ESSIV) {
        uint8_t salt[EVP_MAX_MD_SIZE];
        unsigned saltlen = 0;
        const EVP_MD *md = EVP_get_digestbyname(ivhash);
        char ename[32];
        if (!md || !EVP_Digest(key, keylen, salt, &saltlen, md, NULL))
            goto fail;
        snprintf(ename, sizeof ename, "AES-%u-ECB", saltlen * 8 > 256 ? 256 : saltlen * 8);
        EVP_CIPHER *ecb = EVP_CIPHER_fetch(NULL, ename, NULL);
        c->essiv = EVP_CIPHER_CTX_new();
        int ok = ecb && c->essiv && EVP_EncryptInit_ex2(c->essiv, ecb, salt, NULL, NULL);
        EVP_CIPHER_free(ecb);
        OPENSSL_cleanse(salt, sizeof salt);
        if (!ok)
            goto fail;
        EVP_CIPHER_CTX_set_padding(c->essiv, 0);
    }
    return c;
fail:
    gk_error("cipher %s-%s: %s", cipher, mode, ossl_err());
    gk_cipher_free(c);
    return NULL;
}

void gk_cipher_free(gk_cipher *c)
{
    if (!c)
        return;
    EVP_CIPHER_CTX_free(c->ctx[0]);
    EVP_CIPHER_CTX_free(c->ctx[1]);
    EVP_CIPHER_CTX_free(c->essiv);
    EVP_CIPHER_free(c->evp);
    free(c);
}

static int make_iv(gk_cipher *c, uint64_t sector, uint8_t *iv)
{
    memset(iv, 0, 16);
    switch (c->ivgen) {
    case IV_NONE:
        return 0;
    case IV_PLAIN:
        gk_put_le32(iv, (uint32_t)sector);
        return 0;
    case IV_PLAIN64:
        gk_put_le64(iv, sector);
        return 0;
    case IV_PLAIN64BE:
        for (int i = 0; i < 8; i++)
            iv[c->ivlen - 1 - i] = (uint8_t)(sector >> (8 * i));
        return 0;
    case IV_ESSIV: {
        uint8_t in[16] = {0};
        int outl = 0;
        gk_put_le64(in, sector);
        return EVP_EncryptUpdate(c->essiv, iv, &outl, in, 16) && outl == 16 ? 0 : -1;
    }
    }
    return -1;
}

static int crypt_sectors(gk_cipher *c, uint8_t *buf, size_t n, uint64_t sector512, int enc)
{
    if (n % c->sector_size) {
        gk_error("encrypted I/O of %zu bytes is not a whole number of %u-byte sectors", n,
                 c->sector_size);
        return -1;
    }
    unsigned per = c->sector_size / 512;
    uint8_t iv[16];
    for (size_t o = 0; o < n; o += c->sector_size, sector512 += per) {
        int outl = 0;
        if (make_iv(c, sector512 >> c->iv_shift, iv) < 0 ||
            !EVP_CipherInit_ex2(c->ctx[enc], NULL, NULL, c->ivgen == IV_NONE ? NULL : iv, enc,
                                NULL) ||
            !EVP_CipherUpdate(c->ctx[enc], buf + o, &outl, buf + o, (int)c->sector_size) ||
            outl != (int)c->sector_size) {
            gk_error("cannot %scrypt sector %llu: %s", enc ? "en" : "de",
                     (unsigned long long)sector512, ossl_err());
            return -1;
        }
    }
    return 0;
}

int gk_cipher_decrypt(gk_cipher *c, uint8_t *buf, size_t n, uint64_t sector512)
{
    return crypt_sectors(c, buf, n, sector512, 0);
}

int gk_cipher_encrypt(gk_cipher *c, uint8_t *buf, size_t n, uint64_t sector512)
{
    return crypt_sectors(c, buf, n, sector512, 1);
}

/* ------------------------------------------------------------------ */
/* Key derivation                                                      */

int gk_pbkdf2(const char *hash, const void *pass, size_t passlen, const uint8_t *salt,
              size_t saltlen, uint32_t iterations, uint8_t *out, size_t outlen)
{
    const EVP_MD *md = EVP_get_digestbyname(hash);
    if (!md) {
        gk_error("PBKDF2 hash %s is not supported", hash);
        return -1;
    }
    if (iterations == 0 || iterations > GK_KDF_PBKDF2_MAX_ITER) {
        gk_error("PBKDF2 with %u iterations refused (guestkit's limit is %u)", iterations,
                 GK_KDF_PBKDF2_MAX_ITER);
        return -1;
    }
    int fast = gk_pbkdf2_sha(hash, pass, passlen, salt, saltlen, iterations, out, outlen);
    if (fast > 0)
        return 0;
    if (fast < 0) {
        gk_error("PBKDF2-%s failed", hash);
        return -1;
    }
    if (passlen > INT32_MAX || saltlen > INT32_MAX || outlen > INT32_MAX ||
        !PKCS5_PBKDF2_HMAC(pass, (int)passlen, salt, (int)saltlen, (int)iterations, md,
                           (int)outlen, out)) {
        gk_error("PBKDF2: %s", ossl_err());
        return -1;
    }
    return 0;
}

int gk_argon2(int id, const void *pass, size_t passlen, const uint8_t *salt, size_t saltlen,
              uint32_t time, uint32_t mem_kib, uint32_t lanes, uint8_t *out, size_t outlen)
{
    const char *name = id ? "argon2id" : "argon2i";
    if (time == 0 || time > GK_KDF_ARGON2_MAX_TIME || mem_kib > GK_KDF_ARGON2_MAX_KIB ||
        lanes == 0 || lanes > GK_KDF_ARGON2_MAX_LANES) {
        gk_error("%s with time %u, memory %u KiB, %u threads refused (guestkit's limits are "
                 "time %u, memory %u KiB, %u threads)", name, time, mem_kib, lanes,
                 GK_KDF_ARGON2_MAX_TIME, GK_KDF_ARGON2_MAX_KIB, GK_KDF_ARGON2_MAX_LANES);
        return -1;
    }
    argon2_context ctx = {
        .out = out, .outlen = (uint32_t)outlen,
        .pwd = (uint8_t *)pass, .pwdlen = (uint32_t)passlen,
        .salt = (uint8_t *)salt, .saltlen = (uint32_t)saltlen,
        .t_cost = time, .m_cost = mem_kib, .lanes = lanes,
        /* two cores are plenty: the lanes are what the result depends on;
         * one thread in a static program, where the library and the
         * threads it starts belong to a second libc (lib/twin.c) */
        .threads = lanes < 2 || gk_static_program() ? 1 : 2,
        .version = ARGON2_VERSION_13,
        .flags = ARGON2_DEFAULT_FLAGS,
    };
    if (passlen > UINT32_MAX || saltlen > UINT32_MAX || outlen > UINT32_MAX) {
        gk_error("%s: parameters out of range", name);
        return -1;
    }
    int (*run)(argon2_context *, argon2_type);
    const char *(*msg)(int);
    if (gk_argon2_lib(&run, &msg) < 0) {
        gk_error_prefix("%s", name);
        return -1;
    }
    int r = run(&ctx, id ? Argon2_id : Argon2_i);
    if (r != ARGON2_OK) {
        gk_error("%s: %s", name, msg(r));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Anti-forensic splitter (LUKS1 spec, section 2.4)                    */

/* Every digest-sized piece i of the block becomes H(be32(i) || piece),
 * the last one cut to its length. */
static int diffuse(const EVP_MD *md, uint8_t *blk, size_t len)
{
    size_t ds = (size_t)EVP_MD_get_size(md);
    uint8_t h[EVP_MAX_MD_SIZE];
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    if (!mc)
        return -1;
    int ok = 1;
    for (size_t i = 0, off = 0; off < len && ok; i++, off += ds) {
        size_t n = len - off < ds ? len - off : ds;
        uint8_t be[4];
        gk_put_be32(be, (uint32_t)i);
        ok = EVP_DigestInit_ex(mc, md, NULL) && EVP_DigestUpdate(mc, be, 4) &&
             EVP_DigestUpdate(mc, blk + off, n) && EVP_DigestFinal_ex(mc, h, NULL);
        memcpy(blk + off, h, n);
    }
    EVP_MD_CTX_free(mc);
    OPENSSL_cleanse(h, sizeof h);
    return ok ? 0 : -1;
}

static const EVP_MD *af_md(const char *hash, unsigned stripes, size_t keylen)
{
    const EVP_MD *md = EVP_get_digestbyname(hash);
    if (!md) {
        gk_error("anti-forensic hash %s is not supported", hash);
        return NULL;
    }
    if (stripes == 0 || stripes > GK_AF_MAX_STRIPES || keylen == 0 || keylen > GK_KEY_MAX) {
        gk_error("anti-forensic split of %u stripes of %zu bytes refused", stripes, keylen);
        return NULL;
    }
    return md;
}

int gk_af_merge(const uint8_t *src, size_t keylen, unsigned stripes, const char *hash,
                uint8_t *key)
{
    const EVP_MD *md = af_md(hash, stripes, keylen);
    if (!md)
        return -1;
    memset(key, 0, keylen);
    for (unsigned s = 0; s + 1 < stripes; s++) {
        for (size_t i = 0; i < keylen; i++)
            key[i] ^= src[(size_t)s * keylen + i];
        if (diffuse(md, key, keylen) < 0) {
            gk_error("anti-forensic merge: %s", ossl_err());
            return -1;
        }
    }
    for (size_t i = 0; i < keylen; i++)
        key[i] ^= src[(size_t)(stripes - 1) * keylen + i];
    return 0;
}

int gk_af_split(const uint8_t *key, size_t keylen, unsigned stripes, const char *hash,
                uint8_t *dst)
{
    const EVP_MD *md = af_md(hash, stripes, keylen);
    if (!md)
        return -1;
    uint8_t *acc = gk_secret_alloc(keylen);
    int r = -1;
    if (stripes > 1 && RAND_bytes(dst, (int)((stripes - 1) * keylen)) != 1)
        goto out;
    for (unsigned s = 0; s + 1 < stripes; s++) {
        for (size_t i = 0; i < keylen; i++)
            acc[i] ^= dst[(size_t)s * keylen + i];
        if (diffuse(md, acc, keylen) < 0)
            goto out;
    }
    for (size_t i = 0; i < keylen; i++)
        dst[(size_t)(stripes - 1) * keylen + i] = acc[i] ^ key[i];
    r = 0;
out:
    if (r < 0)
        gk_error("anti-forensic split: %s", ossl_err());
    gk_secret_free(acc, keylen);
    return r;
}
