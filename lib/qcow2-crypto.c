/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 encryption, read side, as qemu does it:
 * - crypt_method 1, the legacy "aes" format: AES-128-CBC, plain64 IVs
 *   from the guest offset, the key the passphrase's first 16 bytes padded
 *   with zeros (qemu warns this is insecure; so do we);
 * - crypt_method 2, "luks": a LUKS1 header stored in the image at the
 *   offset the encryption header extension names, whose volume key
 *   encrypts every data cluster with IVs from the host offset (qemu's
 *   crypt_physical_offset), 512-byte sectors.
 * Compressed clusters cannot be encrypted (qemu refuses to write them). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "luks.h"
#include "qcow2.h"

void qcow2_crypto_free(struct qcow2 *q)
{
    gk_cipher_free(q->crypt);
    q->crypt = NULL;
}

int qcow2_crypto_header(struct qcow2 *q, gk_dev **hdr)
{
    *hdr = NULL;
    if (!q->crypto_len || !gk_range_ok(q->crypto_off, q->crypto_len, q->file_size))
        return gk_fail(EINVAL, "%s: LUKS header %llu+%llu outside the image", q->path,
                       (unsigned long long)q->crypto_off, (unsigned long long)q->crypto_len);
    *hdr = gk_dev_slice(q->file, q->crypto_off, q->crypto_len, q->path);
    return *hdr ? 0 : -EIO;
}

int qcow2_crypto_open(struct qcow2 *q)
{
    if (!q->h.crypt_method || q->info_only)
        return 0;
    if (q->h.crypt_method != 1 && q->h.crypt_method != 2)
        return gk_fail(ENOTSUP, "%s: unknown encryption method %u", q->path, q->h.crypt_method);
    if (!q->key)
        return gk_fail(ENOKEY, "%s: the image is encrypted (%s) and no key was given", q->path,
                       q->h.crypt_method == 1 ? "aes" : "luks");
    if (q->h.crypt_method == 1) {
        static int warned; /* once, not once per thread's open */
        if (!warned++)
            gk_warn("%s: the legacy qcow2 AES encryption is insecure, and a wrong key is not "
                    "detected (it reads as garbage)", q->path);
        uint8_t k[16] = {0};
        memcpy(k, q->key, q->keylen < 16 ? q->keylen : 16);
        q->crypt = gk_cipher_new("aes", "cbc-plain64", k, 16, 512, 0);
        memset(k, 0, sizeof k);
        q->crypt_phys = 0;
        return q->crypt ? 0 : -EIO;
    }
    gk_dev *hdr;
    int rc = qcow2_crypto_header(q, &hdr);
    if (rc < 0)
        return rc;
    gk_luks l;
    uint8_t *key = gk_secret_alloc(GK_KEY_MAX);
    rc = gk_luks_open_key(hdr, q->path, "encryption header", 0, &l, q->key, q->keylen, key);
    if (rc == 0) {
        q->crypt = gk_cipher_new(l.cipher, l.mode, key, l.keylen, 512, 0);
        q->crypt_phys = 1;
        rc = q->crypt ? 0 : -EIO;
    }
    gk_secret_free(key, GK_KEY_MAX);
    gk_dev_unref(hdr);
    return rc;
}

int qcow2_crypto_decrypt(struct qcow2 *q, uint8_t *buf, size_t n, uint64_t guest, uint64_t host)
{
    uint64_t at = q->crypt_phys ? host : guest;
    if (at % 512 || n % 512)
        return gk_fail(EIO, "%s: encrypted read not aligned to sectors", q->path);
    return gk_cipher_decrypt(q->crypt, buf, n, at / 512) < 0 ? -EIO : 0;
}

void qcow2_crypto_info(struct qcow2 *q, gk_encrypt_info *e)
{
    memset(e, 0, sizeof *e);
    if (q->h.crypt_method == 1)
        e->format = "aes";
    if (q->h.crypt_method != 2)
        return;
    e->format = "luks";
    if (!q->crypto_len || !gk_range_ok(q->crypto_off, q->crypto_len, q->file_size))
        return;
    gk_dev *hdr = gk_dev_slice(q->file, q->crypto_off, q->crypto_len, q->path);
    if (!hdr)
        return;
    if (gk_luks1_info(hdr, e) < 0)
        gk_debug("%s: LUKS header not described: %s", q->path, gk_errmsg());
    gk_dev_unref(hdr);
}
