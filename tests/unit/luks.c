/* SPDX-License-Identifier: GPL-2.0-or-later */
/* LUKS headers, keyslots and sector decryption (lib/luks.c, lib/crypto.c).
 *
 * Without arguments: the AF splitter and the sector ciphers against
 * themselves in both directions (a merge undoes a split, a decryption an
 * encryption, ESSIV/plain64 IVs differ per sector).  The cryptsetup and qemu
 * oracles are in tests/80-luks.t, which runs this program as
 *   unit-luks dump IMAGE             header fields, one per line
 *   unit-luks key IMAGE PASSFILE     "slot N" and the volume key in hex
 *   unit-luks cat IMAGE PASSFILE     the decrypted data segment on stdout
 *   unit-luks write IMAGE PASSFILE OFF:LEN:BYTE...
 *                                    writes through the luks image format
 *                                    (qemu-io's write -P BYTE OFF LEN; the
 *                                    comparison with qemu-io is in
 *                                    tests/15-luks-file-write.t)
 * (PASSFILE holds the passphrase, all of its bytes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "luks.h"
#include "ossl.h"
#include "tap.h"

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    char *b = gk_malloc(4096);
    *n = fread(b, 1, 4096, f);
    fclose(f);
    return b;
}

static gk_dev *open_luks(const char *img, gk_luks *l)
{
    gk_open_opts o = {.format = "raw"};
    gk_dev *d = gk_open_image(img, &o);
    if (!d) {
        fprintf(stderr, "unit-luks: %s\n", gk_errmsg());
        exit(1);
    }
    int r = gk_luks_read(d, l);
    if (r != 0) {
        fprintf(stderr, "unit-luks: %s: %s\n", img, r > 0 ? "not LUKS" : gk_errmsg());
        exit(1);
    }
    return d;
}

static uint8_t *unlock(gk_dev *d, gk_luks *l, const char *passfile, int *slot)
{
    size_t pn;
    char *pass = slurp(passfile, &pn);
    uint8_t *key = gk_secret_alloc(GK_KEY_MAX);
    int r = gk_luks_unlock(d, l, pass, pn, key, slot);
    free(pass);
    if (r != 0) {
        fprintf(stderr, "unit-luks: %s\n", r > 0 ? "no keyslot opens with this passphrase" : gk_errmsg());
        exit(r > 0 ? 2 : 1);
    }
    return key;
}

/* Writes as qemu-io's "write -P BYTE OFF LEN" to a luks image, then a flush. */
static int write_image(int argc, char **argv)
{
    size_t pn;
    char *pass = slurp(argv[3], &pn);
    gk_open_opts o = {.format = "luks", .readwrite = 1, .key = pass, .keylen = pn};
    gk_dev *d = gk_open_image(argv[2], &o);
    free(pass);
    if (!d) {
        fprintf(stderr, "unit-luks: %s\n", gk_errmsg());
        return 1;
    }
    int rc = 0;
    for (int i = 4; i < argc && rc == 0; i++) {
        unsigned long long off, len;
        unsigned byte;
        if (sscanf(argv[i], "%llu:%llu:%x", &off, &len, &byte) != 3 || len > (64u << 20)) {
            fprintf(stderr, "unit-luks: bad write %s\n", argv[i]);
            rc = 1;
            break;
        }
        uint8_t *buf = gk_malloc(len ? (size_t)len : 1);
        memset(buf, (int)byte, (size_t)len);
        if (gk_pwrite(d, buf, (size_t)len, off) < 0) {
            fprintf(stderr, "unit-luks: %s\n", gk_errmsg());
            rc = 1;
        }
        free(buf);
    }
    if (rc == 0 && gk_flush(d) < 0) {
        fprintf(stderr, "unit-luks: %s\n", gk_errmsg());
        rc = 1;
    }
    gk_dev_unref(d);
    return rc;
}

static int tool(int argc, char **argv)
{
    if (strcmp(argv[1], "write") == 0 && argc >= 4)
        return write_image(argc, argv);
    gk_luks l;
    gk_dev *d = open_luks(argv[2], &l);
    if (strcmp(argv[1], "dump") == 0) {
        printf("version %d\nuuid %s\ncipher %s-%s\nkey_bits %zu\noffset %llu\nsector %u\n",
               l.version, l.uuid, l.cipher, l.mode, l.keylen * 8,
               (unsigned long long)l.data_off, l.sector_size);
        for (int i = 0; i < l.nslots; i++) {
            gk_luks_slot *s = &l.slots[i];
            printf("slot %d %s", s->id, s->kdf == GK_KDF_PBKDF2 ? "pbkdf2" :
                   s->kdf == GK_KDF_ARGON2I ? "argon2i" : "argon2id");
            if (s->kdf == GK_KDF_PBKDF2)
                printf(" %s %u", s->hash, s->iterations);
            else
                printf(" %u %u %u", s->iterations, s->memory, s->lanes);
            printf(" %u %s %llu\n", s->stripes, s->af_hash, (unsigned long long)s->area_off);
        }
    } else if (strcmp(argv[1], "key") == 0 && argc == 4) {
        int slot;
        uint8_t *key = unlock(d, &l, argv[3], &slot);
        printf("slot %d\n", slot);
        for (size_t i = 0; i < l.keylen; i++)
            printf("%02x", key[i]);
        printf("\n");
        gk_secret_free(key, GK_KEY_MAX);
    } else if (strcmp(argv[1], "cat") == 0 && argc == 4) {
        int slot;
        uint8_t *key = unlock(d, &l, argv[3], &slot);
        gk_dev *c = gk_luks_dev_new(d, &l, key, "/dev/mapper/luks");
        gk_secret_free(key, GK_KEY_MAX);
        if (!c) {
            fprintf(stderr, "unit-luks: %s\n", gk_errmsg());
            return 1;
        }
        /* odd-sized reads at odd offsets exercise the unaligned path */
        static uint8_t buf[300000];
        for (uint64_t off = 0; off < c->size;) {
            size_t n = c->size - off < 299999 ? (size_t)(c->size - off) : 299999;
            if (gk_pread(c, buf, n, off) < 0) {
                fprintf(stderr, "unit-luks: %s\n", gk_errmsg());
                return 1;
            }
            fwrite(buf, 1, n, stdout);
            off += n;
        }
        gk_dev_unref(c);
    } else {
        fprintf(stderr, "usage: unit-luks dump|key|cat|write IMAGE [PASSFILE [OFF:LEN:BYTE...]]\n");
        return 1;
    }
    gk_dev_unref(d);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return tool(argc, argv);

    /* AF: a merge undoes a split, for key sizes that are and are not a
     * multiple of the digest */
    static const size_t keylens[] = {16, 32, 33, 64};
    static const char *hashes[] = {"sha1", "sha256", "sha512"};
    for (size_t k = 0; k < 4; k++)
        for (size_t h = 0; h < 3; h++) {
            uint8_t key[64], back[64];
            for (size_t i = 0; i < keylens[k]; i++)
                key[i] = (uint8_t)(i * 13 + k);
            uint8_t *st = gk_malloc(keylens[k] * 4000);
            ok(gk_af_split(key, keylens[k], 4000, hashes[h], st) == 0 &&
               gk_af_merge(st, keylens[k], 4000, hashes[h], back) == 0 &&
               memcmp(key, back, keylens[k]) == 0, "AF merge undoes split (%zu bytes, %s)",
               keylens[k], hashes[h]);
            st[7] ^= 1;
            ok(gk_af_merge(st, keylens[k], 4000, hashes[h], back) == 0 &&
               memcmp(key, back, keylens[k]) != 0, "a flipped stripe bit changes the key");
            free(st);
        }
    ok(gk_af_merge((uint8_t[4]){0}, 4, 0, "sha256", (uint8_t[4]){0}) < 0, "0 stripes refused");

    /* ciphers: decrypt(encrypt(x)) == x, and IVs differ per sector */
    static const struct { const char *mode; size_t keylen; unsigned ss; } cs[] = {
        {"xts-plain64", 64, 512}, {"xts-plain64", 32, 4096}, {"cbc-essiv:sha256", 32, 512},
        {"cbc-plain64", 16, 512}, {"cbc-plain", 32, 512}, {"ecb", 16, 512},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        uint8_t key[64], buf[8192], orig[8192];
        for (size_t j = 0; j < sizeof key; j++)
            key[j] = (uint8_t)(j * 31 + 7);
        memset(orig, 0x5a, sizeof orig);
        memcpy(buf, orig, sizeof buf);
        gk_cipher *c = gk_cipher_new("aes", cs[i].mode, key, cs[i].keylen, cs[i].ss, 0);
        ok(c != NULL, "aes-%s %zu-bit made", cs[i].mode, cs[i].keylen * 8);
        if (!c)
            continue;
        ok(gk_cipher_encrypt(c, buf, sizeof buf, 8) == 0 && memcmp(buf, orig, sizeof buf) != 0,
           "aes-%s encrypts", cs[i].mode);
        int differ = memcmp(buf, buf + cs[i].ss, cs[i].ss) != 0;
        ok(strcmp(cs[i].mode, "ecb") == 0 ? !differ : differ,
           "aes-%s: equal sectors encrypt %s", cs[i].mode,
           strcmp(cs[i].mode, "ecb") == 0 ? "equally" : "differently");
        ok(gk_cipher_decrypt(c, buf, sizeof buf, 8) == 0 && memcmp(buf, orig, sizeof buf) == 0,
           "aes-%s decrypts back", cs[i].mode);
        ok(gk_cipher_decrypt(c, buf, 100, 8) < 0, "a partial sector is refused");
        gk_cipher_free(c);
    }
    uint8_t key[64] = {0};
    ok(!gk_cipher_new("serpent", "xts-plain64", key, 64, 512, 0) &&
       strstr(gk_errmsg(), "serpent-xts-plain64 is not supported"), "serpent refused: %s",
       gk_errmsg());
    ok(!gk_cipher_new("aes", "xts-plain64", key, 48, 512, 0), "a 384-bit XTS key refused");
    ok(!gk_cipher_new("aes", "cbc-essiv:nohash", key, 32, 512, 0), "unknown ESSIV hash refused");
    uint8_t out[32];
    ok(gk_pbkdf2("sha256", "p", 1, key, 16, GK_KDF_PBKDF2_MAX_ITER + 1, out, 32) < 0 &&
       strstr(gk_errmsg(), "limit"), "PBKDF2 over the iteration bound refused: %s", gk_errmsg());
    /* PBKDF2 on the low-level SHA functions (lib/pbkdf2.c): RFC 6070's
     * vectors, then libcrypto's PKCS5_PBKDF2_HMAC (the output every LUKS
     * header was made with) for each hash, keys shorter and longer than a
     * block, outputs of several blocks */
    uint8_t v[25];
    ok(gk_pbkdf2("sha1", "password", 8, (const uint8_t *)"salt", 4, 4096, v, 20) == 0 &&
       memcmp(v, "\x4b\x00\x79\x01\xb7\x65\x48\x9a\xbe\xad\x49\xd9\x26\xf7\x21\xd0\x65\xa4\x29\xc1", 20) == 0,
       "PBKDF2-sha1: RFC 6070 vector, 4096 iterations");
    ok(gk_pbkdf2("sha1", "passwordPASSWORDpassword", 24, (const uint8_t *)"saltSALTsaltSALTsaltSALTsaltSALTsalt", 36,
                 4096, v, 25) == 0 &&
       memcmp(v, "\x3d\x2e\xec\x4f\xe4\x1c\x84\x9b\x80\xc8\xd8\x36\x62\xc0\xe4\x4a\x8b\x29\x1a\x96"
                 "\x4c\xf2\xf0\x70\x38", 25) == 0,
       "PBKDF2-sha1: RFC 6070 vector, two blocks");
    static const char *const kdf_hashes[] = {"sha1", "sha224", "sha256", "sha384", "sha512", "SHA256"};
    static const size_t passlens[] = {0, 7, 64, 200};
    uint8_t pw[200], fast[150], ref[150];
    for (size_t i = 0; i < sizeof pw; i++)
        pw[i] = (uint8_t)(i * 37 + 11);
    for (size_t h = 0; h < sizeof kdf_hashes / sizeof kdf_hashes[0]; h++) {
        const EVP_MD *md = EVP_get_digestbyname(kdf_hashes[h]);
        for (size_t p = 0; p < sizeof passlens / sizeof passlens[0]; p++) {
            int same = md != NULL;
            for (uint32_t it = 1; it <= 1001 && same; it += 1000) {
                same = gk_pbkdf2(kdf_hashes[h], pw, passlens[p], key, 32, it, fast, sizeof fast) == 0 &&
                       PKCS5_PBKDF2_HMAC((const char *)pw, (int)passlens[p], key, 32, (int)it, md, sizeof ref, ref) &&
                       memcmp(fast, ref, sizeof ref) == 0;
            }
            ok(same, "PBKDF2-%s, %zu-byte passphrase: libcrypto's output", kdf_hashes[h], passlens[p]);
        }
    }
    ok(gk_argon2(1, "p", 1, key, 16, 4, GK_KDF_ARGON2_MAX_KIB * 2, 1, out, 32) < 0 &&
       strstr(gk_errmsg(), "limits"), "Argon2 over the memory bound refused: %s", gk_errmsg());
    ok(gk_argon2(1, "p", 1, key, 16, 1000, 1024, 1, out, 32) < 0, "Argon2 over the time bound refused");
    return done_testing();
}
