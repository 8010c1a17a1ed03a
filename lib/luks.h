/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LUKS1 and LUKS2 headers (lib/luks.c), private to lib/, the unit tests
 * and the fuzz target.  A header is read into one gk_luks whatever its
 * version: the data segment, the usable keyslots and the volume key digest.
 * Everything in it came from an untrusted device and was checked: offsets
 * and sizes lie inside the device, KDF costs inside the bounds of crypto.h. */
#ifndef GK_LUKS_H
#define GK_LUKS_H

#include "blk-int.h"
#include "crypto.h"

#define GK_LUKS_MAX_SLOTS 32           /* LUKS1 has 8, LUKS2 at most 32 */
#define GK_LUKS2_MAX_HDR (4u << 20)    /* LUKS2 header + JSON area, bytes */

enum gk_luks_kdf { GK_KDF_PBKDF2, GK_KDF_ARGON2I, GK_KDF_ARGON2ID };

typedef struct gk_luks_slot {
    int id;                        /* keyslot number as luksDump prints it */
    enum gk_luks_kdf kdf;
    char hash[32];                 /* PBKDF2's hash                          */
    uint32_t iterations;           /* PBKDF2 iterations / Argon2 time        */
    uint32_t memory, lanes;        /* Argon2: KiB, parallel lanes            */
    uint8_t salt[64];
    size_t saltlen;
    uint64_t area_off, area_len;   /* bytes from the start of the device    */
    char area_cipher[32], area_mode[48];
    size_t area_keylen;            /* key of the area cipher (= KDF output)  */
    unsigned stripes;
    char af_hash[32];
} gk_luks_slot;

typedef struct gk_luks {
    int version;                   /* 1 or 2                                 */
    char uuid[40];
    char label[49];                /* LUKS2, may be empty                    */
    char cipher[32], mode[48];     /* data: "aes", "xts-plain64"             */
    size_t keylen;                 /* volume key bytes                       */
    uint64_t data_off;             /* bytes                                  */
    uint64_t data_len;             /* bytes; 0 = up to the end of the device  */
    unsigned sector_size;          /* 512 .. 4096                            */
    uint64_t iv_tweak;             /* added to the 512-byte sector number    */
    int nslots;                    /* usable keyslots (active, bound to the
                                    * data segment's digest)                 */
    gk_luks_slot slots[GK_LUKS_MAX_SLOTS];
    /* the volume key digest: PBKDF2(hash, key, salt, iter) == digest */
    char dg_hash[32];
    uint32_t dg_iter;
    uint8_t dg_salt[64];
    size_t dg_saltlen;
    uint8_t digest[64];
    size_t dglen;
} gk_luks;

/* 1 if buf (at least 8 bytes) starts a LUKS header (either version). */
int gk_luks_magic(const uint8_t *buf, size_t n);
/* Parse a header from the first n bytes of a device of devsize bytes (a
 * LUKS2 header needs its whole hdr_size; the secondary LUKS2 header is not
 * looked at).  0, 1 if it is not LUKS, -1 with gk_error for a bad one. */
int gk_luks_parse(const uint8_t *buf, size_t n, uint64_t devsize, gk_luks *l);
/* Read and parse the header of a device (a LUKS2 primary header that fails
 * its checksum falls back to the secondary one).  0, 1, -1 as above. */
int gk_luks_read(gk_dev *d, gk_luks *l);
/* Try a passphrase on every usable keyslot.  0 and the volume key in key
 * (GK_KEY_MAX bytes of gk_secret_alloc memory, l->keylen used) and *slot,
 * 1 if no keyslot opens with it, -1 with gk_error when something else
 * failed (a read error, a keyslot refused for its KDF cost). */
int gk_luks_unlock(gk_dev *d, const gk_luks *l, const void *pass, size_t passlen,
                   uint8_t *key, int *slot);
/* What opening a LUKS volume does, for each user (a luks image, a qcow2
 * image's encryption, a guest's LUKS device): read the header of d into
 * *l and, given a passphrase, try it on every usable keyslot.  0 with the
 * volume key in key (as gk_luks_unlock; pass NULL: the header only, key
 * untouched).  Otherwise a negative errno, the message in gk_error naming
 * name (and, for the header, what: "NAME: WHAT: why" when what is given):
 *   -EINVAL        not a LUKS header ("not a LUKS1 header" when version is
 *                  1 and it is not one), or a bad one;
 *   -EKEYREJECTED  no keyslot opens with pass ("NAME: the key opens no
 *                  keyslot (of N) of its LUKS header");
 *   -EIO           something else failed (a read, a keyslot refused for
 *                  its KDF cost). */
int gk_luks_open_key(gk_dev *d, const char *name, const char *what, int version, gk_luks *l,
                     const void *pass, size_t passlen, uint8_t *key);
/* 1 if key (l->keylen bytes) passes the header's digest. */
int gk_luks_key_ok(const gk_luks *l, const uint8_t *key);
/* The decrypted data segment of d as a device of its own (takes a
 * reference on d; key is copied).  Read-only; a caller that clears its
 * readonly writes through the cipher into d (whole sectors, each in place).
 * NULL with gk_error. */
gk_dev *gk_luks_dev_new(gk_dev *d, const gk_luks *l, const uint8_t *key, const char *name);
/* The same for a luks image (lib/luks-image.c; LUKS1, its payload up to
 * the end of d): an empty payload is an empty disk, as qemu opens it, and
 * gk_truncate of it moves the end of d, as qemu-img resize does. */
gk_dev *gk_luks_image_dev_new(gk_dev *d, const gk_luks *l, const uint8_t *key, const char *name);

/* The LUKS1 header on d as qemu-img info describes it (QCryptoBlockInfoLUKS,
 * every slot, active or not: lib/luks-image.c).  0, or -1 with gk_error
 * when d holds no LUKS1 header we read. */
int gk_luks1_info(gk_dev *d, gk_encrypt_info *e);

/* Making a LUKS1 header (lib/luks-create.c), laid out as qemu lays it out:
 * the header in the first 4 KiB, 8 keyslot areas of the AF-split key
 * (4000 stripes, each area a multiple of 4 KiB), the payload after them;
 * keyslot 0 opens with the passphrase, 1-7 are disabled. */
typedef struct gk_luks1_spec {
    const char *cipher;            /* "aes"                                  */
    const char *mode;              /* "xts-plain64", "cbc-essiv:sha256"      */
    size_t keylen;                 /* volume key bytes (64: aes-256 in xts)  */
    const char *hash;              /* PBKDF2 and AF hash: "sha256"           */
    unsigned iter_ms;              /* ms of PBKDF2 for the keyslot (the key
                                    * digest gets an eighth), as qemu's
                                    * iter-time; at least 1000 iterations   */
} gk_luks1_spec;
/* PBKDF2-hash iterations per second of this thread's CPU with outlen
 * bytes of output (qemu's qcrypto_pbkdf2_count_iters), measured on a
 * sample of ~20 ms.  0, or -1 with gk_error. */
int gk_pbkdf2_rate(const char *hash, size_t outlen, uint64_t *per_sec);
/* Bytes of the header and its 8 keyslot areas (= the payload offset) for
 * a volume key of keylen bytes; *area_sectors: 512-byte sectors per area. */
uint64_t gk_luks1_layout(size_t keylen, uint64_t *area_sectors);
/* A new header with a random volume key: *hdr (malloc'd, *len bytes:
 * gk_luks1_layout's, zeros where no keyslot is), the key into key
 * (s->keylen bytes of gk_secret_alloc memory).  0, or -1 with gk_error. */
int gk_luks1_format(const gk_luks1_spec *s, const void *pass, size_t passlen, uint8_t **hdr,
                    size_t *len, uint8_t *key);

/* LUKS1 keyslot changes (lib/luks-amend.c), qemu's amend of
 * QCryptoBlockAmendOptionsLUKS.  Secrets are named by id (gk_secret_find). */
typedef struct gk_luks_amend {
    int state;                     /* 1 active (add), 0 inactive (erase)     */
    const char *new_secret, *old_secret;   /* ids, NULL: not given           */
    int has_keyslot, keyslot;
    int has_iter_time;
    uint64_t iter_time;            /* ms                                     */
    int force;                     /* qemu-img amend --force                 */
} gk_luks_amend;
/* The -o names beginning with prefix ("encrypt.") parsed as qemu's QAPI
 * visitor parses them (the last of each name wins).  0 or -errno. */
int gk_luks_amend_parse(int n, const char **names, const char **values, const char *prefix, gk_luks_amend *o);
/* qemu-img's own check of a number option (keyslot, iter-time) as -o is
 * parsed; name is the option as given.  0 or -errno. */
int gk_luks_amend_number(const char *name, const char *value);
/* qemu-img amend's check of one -o name before the image changes: 1 if
 * name is one of the keyslot options (prefix "encrypt." for qcow2, "" for
 * luks images) and its value passes gk_luks_amend_number where it is a
 * number, 0 if it is not one of them, -errno. */
int gk_luks_amend_name(const char *name, const char *value, const char *prefix);
/* The keyslot change the -o options beginning with prefix ask for, made
 * on the LUKS1 header at the start of d (parse, then gk_luks1_amend; force:
 * qemu-img amend --force; pass NULL: the image was opened without its
 * key, refused).  0 or -errno with qemu's message in gk_error. */
int gk_luks_amend_opts(gk_dev *d, int n, const char **names, const char **values, const char *prefix,
                       int force, const void *pass, size_t passlen);
/* Make the change on the LUKS1 header at the start of d (read-write),
 * the volume key found with pass (the passphrase the image opened with).
 * 0, or -errno with qemu's message in gk_error. */
int gk_luks1_amend(gk_dev *d, const gk_luks_amend *o, const void *pass, size_t passlen);

#endif
