/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libcrypto's EVP layer loaded on first use: lib/ossl.h says why. */
#define GK_OSSL_IMPL
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "blk.h"
#include "ossl.h"

/* The library the headers we were built with belong to. */
#define GK_OSSL_SONAME "libcrypto.so." GK_OSSL_STR(OPENSSL_VERSION_MAJOR)
#define GK_OSSL_STR(x) GK_OSSL_STR2(x)
#define GK_OSSL_STR2(x) #x

/* Stand-ins while nothing is loaded: each fails as the real call can. */
static const EVP_MD *no_get_digestbyname(const char *n) { (void)n; return NULL; }
static int no_md_get_size(const EVP_MD *m) { (void)m; return -1; }
static EVP_MD_CTX *no_md_ctx_new(void) { return NULL; }
static void no_md_ctx_free(EVP_MD_CTX *c) { (void)c; }
static int no_digest_init(EVP_MD_CTX *c, const EVP_MD *m, ENGINE *e)
{ (void)c; (void)m; (void)e; return 0; }
static int no_digest_update(EVP_MD_CTX *c, const void *d, size_t n)
{ (void)c; (void)d; (void)n; return 0; }
static int no_digest_final(EVP_MD_CTX *c, unsigned char *o, unsigned int *n)
{ (void)c; (void)o; (void)n; return 0; }
static int no_digest(const void *d, size_t n, unsigned char *o, unsigned int *on, const EVP_MD *m,
                     ENGINE *e)
{ (void)d; (void)n; (void)o; (void)on; (void)m; (void)e; return 0; }
static EVP_CIPHER *no_cipher_fetch(OSSL_LIB_CTX *c, const char *a, const char *p)
{ (void)c; (void)a; (void)p; return NULL; }
static void no_cipher_free(EVP_CIPHER *c) { (void)c; }
static int no_cipher_iv_length(const EVP_CIPHER *c) { (void)c; return 0; }
static EVP_CIPHER_CTX *no_cipher_ctx_new(void) { return NULL; }
static void no_cipher_ctx_free(EVP_CIPHER_CTX *c) { (void)c; }
static int no_set_padding(EVP_CIPHER_CTX *c, int p) { (void)c; (void)p; return 0; }
static int no_cipher_init(EVP_CIPHER_CTX *c, const EVP_CIPHER *t, const unsigned char *k,
                          const unsigned char *iv, int enc, const OSSL_PARAM *p)
{ (void)c; (void)t; (void)k; (void)iv; (void)enc; (void)p; return 0; }
static int no_cipher_update(EVP_CIPHER_CTX *c, unsigned char *o, int *ol, const unsigned char *in,
                            int il)
{ (void)c; (void)o; (void)ol; (void)in; (void)il; return 0; }
static int no_encrypt_init(EVP_CIPHER_CTX *c, const EVP_CIPHER *t, const unsigned char *k,
                           const unsigned char *iv, const OSSL_PARAM *p)
{ (void)c; (void)t; (void)k; (void)iv; (void)p; return 0; }
static int no_pbkdf2(const char *pw, int pl, const unsigned char *s, int sl, int it,
                     const EVP_MD *m, int kl, unsigned char *o)
{ (void)pw; (void)pl; (void)s; (void)sl; (void)it; (void)m; (void)kl; (void)o; return 0; }
static int no_rand_bytes(unsigned char *b, int n) { (void)b; (void)n; return 0; }
static unsigned long no_get_error(void) { return 0; }
static void no_error_string_n(unsigned long e, char *b, size_t n)
{ (void)e; if (n) b[0] = 0; }
static void no_clear_error(void) {}

static const struct gk_ossl stand_ins = {
    .EVP_get_digestbyname = no_get_digestbyname,
    .EVP_MD_get_size = no_md_get_size,
    .EVP_MD_CTX_new = no_md_ctx_new,
    .EVP_MD_CTX_free = no_md_ctx_free,
    .EVP_DigestInit_ex = no_digest_init,
    .EVP_DigestUpdate = no_digest_update,
    .EVP_DigestFinal_ex = no_digest_final,
    .EVP_Digest = no_digest,
    .EVP_CIPHER_fetch = no_cipher_fetch,
    .EVP_CIPHER_free = no_cipher_free,
    .EVP_CIPHER_get_iv_length = no_cipher_iv_length,
    .EVP_CIPHER_CTX_new = no_cipher_ctx_new,
    .EVP_CIPHER_CTX_free = no_cipher_ctx_free,
    .EVP_CIPHER_CTX_set_padding = no_set_padding,
    .EVP_CipherInit_ex2 = no_cipher_init,
    .EVP_CipherUpdate = no_cipher_update,
    .EVP_EncryptInit_ex2 = no_encrypt_init,
    .EVP_EncryptUpdate = no_cipher_update,
    .PKCS5_PBKDF2_HMAC = no_pbkdf2,
    .RAND_bytes = no_rand_bytes,
    .ERR_get_error = no_get_error,
    .ERR_error_string_n = no_error_string_n,
    .ERR_clear_error = no_clear_error,
};

/* Load the library lib (what: its name in messages, why: what it is for)
 * and look up the n functions names[i] into *slots[i], all or none:
 * RTLD_LOCAL, so its symbols stay its own (the static low-level SHA
 * functions of the tools are not exported, nothing mixes).  0, or -1 with
 * the reason in err. */
static int dl_load(const char *lib, const char *what, const char *why, const char *const *names,
                   void **const *slots, size_t n, char *err, size_t errlen)
{
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(err, errlen, "cannot load %s (%s): %s", what, why, e ? e : "unknown error");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!(*slots[i] = dlsym(h, names[i]))) {
            snprintf(err, errlen, "%s has no %s", what, names[i]);
            for (size_t j = 0; j < i; j++)
                *slots[j] = NULL;
            dlclose(h);
            return -1;
        }
    return 0;
}

static struct gk_ossl loaded;
static const struct gk_ossl *table;
static char load_err[256];

/* libargon2 */
#define GK_ARGON2_SONAME "libargon2.so.1"
static int a2_state; /* 0: not tried, 1: loaded, -1: failed */
static int (*a2_ctx)(argon2_context *, argon2_type);
static const char *(*a2_msg)(int);
static char a2_err[256];

static void argon2_load(void)
{
    static const char *const names[] = {"argon2_ctx", "argon2_error_message"};
    void **const slots[] = {(void **)&a2_ctx, (void **)&a2_msg};
    if (!a2_state)
        a2_state = dl_load(GK_ARGON2_SONAME, GK_ARGON2_SONAME, "Argon2", names, slots, 2, a2_err,
                           sizeof a2_err) == 0 ? 1 : -1;
}

int gk_argon2_lib(int (**ctx)(argon2_context *, argon2_type), const char *(**msg)(int))
{
    argon2_load();
    if (a2_state < 0) {
        gk_error("%s", a2_err);
        return -1;
    }
    *ctx = a2_ctx;
    *msg = a2_msg;
    return 0;
}

static int load(void)
{
    argon2_load(); /* best effort: gk_argon2_lib reports it */
#define GK_OSSL_NAME(f) #f,
#define GK_OSSL_SLOT(f) (void **)&loaded.f,
    static const char *const names[] = {GK_OSSL_FUNCS(GK_OSSL_NAME)};
    void **const slots[] = {GK_OSSL_FUNCS(GK_OSSL_SLOT)};
#undef GK_OSSL_NAME
#undef GK_OSSL_SLOT
    return dl_load(GK_OSSL_SONAME, "OpenSSL's " GK_OSSL_SONAME, "hashes and ciphers", names, slots,
                   sizeof names / sizeof *names, load_err, sizeof load_err);
}

const struct gk_ossl *gk_ossl(void)
{
    if (!table)
        table = load() == 0 ? &loaded : &stand_ins;
    return table;
}

int gk_ossl_load(void)
{
    if (gk_ossl() == &stand_ins) {
        gk_error("%s", load_err);
        return -1;
    }
    return 0;
}

const char *gk_ossl_load_error(void)
{
    return table == &stand_ins ? load_err : NULL;
}

/* The digests of OpenSSL 3's default provider that a disk header may
 * name, with their sizes. */
static const struct {
    const char *name;
    int size;
} digests[] = {
    {"sha1", 20}, {"sha224", 28}, {"sha256", 32}, {"sha384", 48}, {"sha512", 64},
    {"sha2-224", 28}, {"sha2-256", 32}, {"sha2-384", 48}, {"sha2-512", 64},
    {"sha512-224", 28}, {"sha512-256", 32}, {"sha3-224", 28}, {"sha3-256", 32},
    {"sha3-384", 48}, {"sha3-512", 64}, {"ripemd160", 20}, {"blake2b512", 64},
    {"blake2s256", 32}, {"sm3", 32}, {"md5", 16},
};

int gk_digest_size(const char *name)
{
    for (size_t i = 0; i < sizeof digests / sizeof digests[0]; i++)
        if (strcasecmp(name, digests[i].name) == 0)
            return digests[i].size;
    return 0;
}
