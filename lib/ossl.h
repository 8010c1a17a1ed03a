/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* OpenSSL's EVP layer (digests by name, ciphers, PBKDF2, random bytes),
 * loaded from the system's libcrypto with dlopen on first use.
 *
 * Why: linked into a position-independent tool, libcrypto's provider
 * tables are ~100 pages that ld.so writes at every start (HACKING,
 * "Linking and start-up"), and most runs (gcat of a plain image) never
 * hash or decrypt.  What needs no provider stays linked statically: the
 * low-level SHA functions (gk_sha256, the LUKS2 header checksum), base64,
 * OPENSSL_cleanse, CRYPTO_memcmp.
 *
 * Include this instead of <openssl/evp.h> and <openssl/rand.h>: the EVP
 * names below become calls through the table of the loaded library.
 * Inside the sandbox nothing can be loaded (no file access, no executable
 * mappings): a tool that may need these calls there says so before it
 * enters (gk_sandbox.crypto, tools/common-sandbox.c), which loads it. */
#ifndef GK_OSSL_H
#define GK_OSSL_H

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define GK_OSSL_FUNCS(X)                                                                    \
    X(EVP_get_digestbyname) X(EVP_MD_get_size) X(EVP_MD_CTX_new) X(EVP_MD_CTX_free)         \
    X(EVP_DigestInit_ex) X(EVP_DigestUpdate) X(EVP_DigestFinal_ex) X(EVP_Digest)            \
    X(EVP_CIPHER_fetch) X(EVP_CIPHER_free) X(EVP_CIPHER_get_iv_length)                      \
    X(EVP_CIPHER_CTX_new) X(EVP_CIPHER_CTX_free) X(EVP_CIPHER_CTX_set_padding)              \
    X(EVP_CipherInit_ex2) X(EVP_CipherUpdate) X(EVP_EncryptInit_ex2) X(EVP_EncryptUpdate)   \
    X(PKCS5_PBKDF2_HMAC) X(RAND_bytes) X(ERR_get_error) X(ERR_error_string_n)               \
    X(ERR_clear_error)

struct gk_ossl {
#define GK_OSSL_FIELD(f) __typeof__(f) *f;
    GK_OSSL_FUNCS(GK_OSSL_FIELD)
#undef GK_OSSL_FIELD
};

/* The table: the library's functions once loaded; if it cannot be loaded,
 * stand-ins that fail as the real ones fail (NULL, 0, no error queued). */
const struct gk_ossl *gk_ossl(void);

/* Load libcrypto now: 0, or -1 with gk_error ("libcrypto.so.3: ...").
 * Tried once; later calls give the same answer. */
int gk_ossl_load(void);

/* Why the last load failed, or NULL if it did not. */
const char *gk_ossl_load_error(void);

/* libargon2 (LUKS2's key derivation), loaded the same way and for the
 * same reason (a shared library ld.so would map and relocate at every
 * start); gk_ossl_load loads it too.  Its argon2_ctx and
 * argon2_error_message: 0, or -1 with gk_error. */
int gk_argon2_lib(int (**ctx)(argon2_context *, argon2_type), const char *(**msg)(int));

#ifndef GK_OSSL_IMPL
#define GK_OSSL_CALL(f) (gk_ossl()->f)
#define EVP_get_digestbyname GK_OSSL_CALL(EVP_get_digestbyname)
#define EVP_MD_get_size GK_OSSL_CALL(EVP_MD_get_size)
#define EVP_MD_CTX_new GK_OSSL_CALL(EVP_MD_CTX_new)
#define EVP_MD_CTX_free GK_OSSL_CALL(EVP_MD_CTX_free)
#define EVP_DigestInit_ex GK_OSSL_CALL(EVP_DigestInit_ex)
#define EVP_DigestUpdate GK_OSSL_CALL(EVP_DigestUpdate)
#define EVP_DigestFinal_ex GK_OSSL_CALL(EVP_DigestFinal_ex)
#define EVP_Digest GK_OSSL_CALL(EVP_Digest)
#define EVP_CIPHER_fetch GK_OSSL_CALL(EVP_CIPHER_fetch)
#define EVP_CIPHER_free GK_OSSL_CALL(EVP_CIPHER_free)
#define EVP_CIPHER_get_iv_length GK_OSSL_CALL(EVP_CIPHER_get_iv_length)
#define EVP_CIPHER_CTX_new GK_OSSL_CALL(EVP_CIPHER_CTX_new)
#define EVP_CIPHER_CTX_free GK_OSSL_CALL(EVP_CIPHER_CTX_free)
#define EVP_CIPHER_CTX_set_padding GK_OSSL_CALL(EVP_CIPHER_CTX_set_padding)
#define EVP_CipherInit_ex2 GK_OSSL_CALL(EVP_CipherInit_ex2)
#define EVP_CipherUpdate GK_OSSL_CALL(EVP_CipherUpdate)
#define EVP_EncryptInit_ex2 GK_OSSL_CALL(EVP_EncryptInit_ex2)
#define EVP_EncryptUpdate GK_OSSL_CALL(EVP_EncryptUpdate)
#define PKCS5_PBKDF2_HMAC GK_OSSL_CALL(PKCS5_PBKDF2_HMAC)
#define RAND_bytes GK_OSSL_CALL(RAND_bytes)
#define ERR_get_error GK_OSSL_CALL(ERR_get_error)
#define ERR_error_string_n GK_OSSL_CALL(ERR_error_string_n)
#define ERR_clear_error GK_OSSL_CALL(ERR_clear_error)
#endif

/* The size of the digest OpenSSL knows by this name (as
 * EVP_get_digestbyname, ignoring case), or 0: without loading libcrypto,
 * so that headers are checked where nothing can be loaded. */
int gk_digest_size(const char *name);

#endif
