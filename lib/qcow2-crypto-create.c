/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Creating encrypted qcow2 images as qemu-img create 7.2 does with
 * -o encrypt.format=luks,encrypt.key-secret=ID[,encrypt.*]: once the image
 * has its size (header, refcounts, L1 table), the LUKS1 header
 * (lib/luks-create.c) goes into the next free clusters, zero filled to
 * their end, and a header rewrite sets crypt_method 2 and the crypto
 * header extension (before the feature name table, qemu's order).  The
 * legacy AES format (encrypt.format=aes, encryption=on) is refused: it is
 * insecure, and qemu's system emulators no longer open it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>


#include "ossl.h"
#include "luks.h"
#include "qcow2.h"

/* The encrypt options in the order qemu-img create prints them. */
static const char *const enc_names[] = {
    "encryption", "encrypt.format", "encrypt.key-secret", "encrypt.cipher-alg",
    "encrypt.cipher-mode", "encrypt.ivgen-alg", "encrypt.ivgen-hash-alg", "encrypt.hash-alg",
    "encrypt.iter-time",
};

char *qcow2_enc_summary(const gk_create_args *a)
{
    char *s = gk_strdup("");
    for (size_t i = 0; i < sizeof enc_names / sizeof enc_names[0]; i++) {
        const char *v = gk_create_get(a, enc_names[i]);
        if (v) {
            char *t = gk_asprintf("%s %s=%s", s, enc_names[i], v);
            free(s);
            s = t;
        }
    }
    return s;
}

/* The values qemu's QAPI enums take. */
static int one_of(const char *v, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(v, *list) == 0)
            return 1;
    return 0;
}

static const char *const hashes[] = {"md5", "sha1", "sha224", "sha256", "sha384", "sha512",
                                     "ripemd160", NULL};
static const char *const ciphers[] = {"aes-128", "aes-192", "aes-256", "des", "des-rfb", "3des",
                                      "cast5-128", "serpent-128", "serpent-192", "serpent-256",
                                      "twofish-128", "twofish-192", "twofish-256", "sm4", NULL};
static const char *const modes[] = {"ecb", "cbc", "xts", "ctr", NULL};
static const char *const ivgens[] = {"plain", "plain64", "essiv", NULL};

int qcow2_enc_parse(const gk_create_args *a, struct qcow2_enc *e)
{
    memset(e, 0, sizeof *e);
    const char *v = gk_create_get(a, "encrypt.iter-time");
    e->iter_ms = 2000;
    if (v) {
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 0);
        if (!*v || *end || errno)
            return gk_fail(EINVAL, "Parameter 'encrypt.iter-time' expects a number");
        if (n < 0)
            return gk_fail(EINVAL, "encrypt.iter-time=%s: the time must not be negative", v);
        e->iter_ms = n > 3600000 ? 3600000 : (unsigned)n;
    }
    return 0;
}

/* After qemu-img's line: which encryption, and whether guestkit makes it. */
int qcow2_enc_check(const gk_create_args *a, struct qcow2_enc *e, const char *data_file, int measure)
{
    const char *old = gk_create_get(a, "encryption"), *fmt = gk_create_get(a, "encrypt.format");
    int on = 0, r;
    if (old && (r = gk_opt_bool("encryption", old, &on)) < 0)
        return r;
    if (old && fmt)
        return gk_fail(EINVAL, "'encrypt.format' and its alias 'encryption' can't be used at the same time");
    if (fmt && strcmp(fmt, "luks") != 0 && strcmp(fmt, "aes") != 0)
        return gk_fail(EINVAL, "Parameter 'format' does not accept value '%s'", fmt);
    if (!fmt && !on) {
        for (size_t i = 2; i < sizeof enc_names / sizeof enc_names[0]; i++)
            if (gk_create_get(a, enc_names[i]))
                return gk_fail(EINVAL, "Parameter 'encrypt.format' is missing");
        return 0;
    }
    if ((!fmt || strcmp(fmt, "aes") == 0) && measure)
        return 0; /* the legacy format adds nothing to measure */
    if (!fmt || strcmp(fmt, "aes") == 0)
        return gk_fail(ENOTSUP, "creating images with the legacy qcow2 AES encryption is not "
                       "supported: it is insecure (qemu's system emulators refuse to open it); "
                       "use encrypt.format=luks");
    const char *cipher = gk_create_get(a, "encrypt.cipher-alg");
    const char *mode = gk_create_get(a, "encrypt.cipher-mode");
    const char *ivgen = gk_create_get(a, "encrypt.ivgen-alg");
    const char *ivhash = gk_create_get(a, "encrypt.ivgen-hash-alg");
    const char *hash = gk_create_get(a, "encrypt.hash-alg");
    if (cipher && !one_of(cipher, ciphers))
        return gk_fail(EINVAL, "Parameter 'cipher-alg' does not accept value '%s'", cipher);
    if (mode && !one_of(mode, modes))
        return gk_fail(EINVAL, "Parameter 'cipher-mode' does not accept value '%s'", mode);
    if (ivgen && !one_of(ivgen, ivgens))
        return gk_fail(EINVAL, "Parameter 'ivgen-alg' does not accept value '%s'", ivgen);
    if (ivhash && !one_of(ivhash, hashes))
        return gk_fail(EINVAL, "Parameter 'ivgen-hash-alg' does not accept value '%s'", ivhash);
    if (hash && !one_of(hash, hashes))
        return gk_fail(EINVAL, "Parameter 'hash-alg' does not accept value '%s'", hash);
    const char *sid = gk_create_get(a, "encrypt.key-secret");
    if (!sid)
        return gk_fail(EINVAL, "Parameter 'encrypt.key-secret' is required for cipher");
    if (!(e->pass = gk_secret_find(sid, &e->passlen)))
        return -EINVAL;
    /* qemu's defaults: aes-256, xts, plain64, sha256 (essiv: sha256 too) */
    cipher = cipher ? cipher : "aes-256";
    mode = mode ? mode : "xts";
    ivgen = ivgen ? ivgen : "plain64";
    hash = hash ? hash : "sha256";
    if (!ivhash && strcmp(ivgen, "essiv") == 0)
        ivhash = "sha256";
    if (strncmp(cipher, "aes-", 4) != 0)
        return gk_fail(ENOTSUP, "encrypt.cipher-alg=%s is not supported (guestkit makes aes-128, "
                       "aes-192 and aes-256)", cipher);
    if (strcmp(mode, "xts") != 0 && strcmp(mode, "cbc") != 0)
        return gk_fail(ENOTSUP, "encrypt.cipher-mode=%s is not supported (guestkit makes xts and cbc)",
                       mode);
    if (ivhash && strcmp(ivgen, "essiv") != 0)
        return gk_fail(ENOTSUP, "encrypt.ivgen-hash-alg is only used with encrypt.ivgen-alg=essiv");
    if (data_file)
        return gk_fail(ENOTSUP, "encrypted images with an external data file are not supported");
    size_t bits = (size_t)atoi(cipher + 4);
    e->keylen = bits / 8 * (strcmp(mode, "xts") == 0 ? 2 : 1);
    /* qemu encrypts keyslots in whole sectors: 4000 stripes of a 24-byte
     * key are not (qemu 7.2 aborts making or opening them) */
    if (e->keylen * 4000 % 512)
        return gk_fail(ENOTSUP, "%s in %s mode is not supported: its keyslot material is not a "
                       "whole number of sectors, which qemu cannot read", cipher, mode);
    if (ivhash) {
        const EVP_MD *md = EVP_get_digestbyname(ivhash);
        int n = md ? EVP_MD_get_size(md) : 0;
        if (n != 16 && n != 24 && n != 32)
            return gk_fail(EINVAL, "No AES cipher with key size %d available", n);
    }
    snprintf(e->mode, sizeof e->mode, "%s-%s%s%s", mode, ivgen, ivhash ? ":" : "", ivhash ? ivhash : "");
    snprintf(e->hash, sizeof e->hash, "%s", hash);
    if (gk_cipher_check("aes", e->mode, e->keylen) < 0)
        return gk_fail(ENOTSUP, "%s in %s mode is not supported: %s", cipher, mode, gk_errmsg());
    if (!EVP_get_digestbyname(hash))
        return gk_fail(ENOTSUP, "encrypt.hash-alg=%s is not supported by this libcrypto", hash);
    e->on = 1;
    return 0;
}

int qcow2_enc_prepare(struct qcow2_enc *e)
{
    gk_luks1_spec s = {.cipher = "aes", .mode = e->mode, .keylen = e->keylen, .hash = e->hash,
                       .iter_ms = e->iter_ms};
    uint8_t *key = gk_secret_alloc(GK_KEY_MAX);
    int r = gk_luks1_format(&s, e->pass, e->passlen, &e->hdr, &e->hdrlen, key);
    gk_secret_free(key, GK_KEY_MAX); /* the new image holds no data yet */
    return r < 0 ? -EINVAL : 0;
}

void qcow2_enc_clear(struct qcow2_enc *e)
{
    free(e->hdr);
    e->hdr = NULL;
}

int qcow2_enc_setup(gk_dev *d, const struct qcow2_enc *e)
{
    struct qcow2 *q = d->priv;
    size_t len = e->hdrlen;
    int r;
    /* the header's clusters, zero filled to their end, counted before the
     * qcow2 header names them */
    uint64_t clen = (len + q->cluster_size - 1) / q->cluster_size * q->cluster_size;
    int64_t off = qcow2_alloc_clusters(q, clen);
    if (off < 0)
        return (int)off;
    uint8_t *buf = gk_calloc(1, (size_t)clen);
    memcpy(buf, e->hdr, len);
    r = 0;
    if (gk_pwrite(q->file, buf, (size_t)clen, (uint64_t)off) < 0 || gk_flush(d) < 0)
        r = -errno;
    free(buf);
    if (r < 0)
        return r;
    if (q->nexts >= QC_MAX_EXTS)
        return gk_fail(EINVAL, "%s: too many header extensions", q->path);
    int at = q->nexts;
    for (int i = 0; i < q->nexts; i++)
        if (q->exts[i].type == QC_EXT_FEATURE_TABLE || q->exts[i].type == QC_EXT_BITMAPS) {
            at = i;
            break;
        }
    memmove(&q->exts[at + 1], &q->exts[at], (size_t)(q->nexts - at) * sizeof q->exts[0]);
    q->nexts++;
    struct qcow2_ext *x = &q->exts[at];
    x->type = QC_EXT_CRYPTO;
    x->len = 16;
    x->data = gk_malloc(16);
    gk_put_be64(x->data, (uint64_t)off);
    gk_put_be64(x->data + 8, (uint64_t)len);
    q->crypto_off = (uint64_t)off;
    q->crypto_len = len;
    q->h.crypt_method = 2;
    return qcow2_write_header(q);
}
