/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Btrfs checksums: crc32c (our own table code: no Debian library exports
 * the Castagnoli polynomial), xxhash64 (libxxhash), sha256 (OpenSSL
 * libcrypto) and blake2b with a 256-bit digest (libb2: OpenSSL 3.0 only
 * has the 512-bit variant, and a shorter BLAKE2b is not a truncation). */
#include <pthread.h>
#include <string.h>

#include <blake2.h>
#include <xxhash.h>

#include "btrfs-int.h"

/* crc32c, reflected polynomial 0x82F63B78, eight tables ("slicing by 8"):
 * tree blocks are checksummed on every cache miss. */
static uint32_t crc_tab[8][256];

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
        crc_tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^ crc_tab[0][crc_tab[t - 1][i] & 0xff];
}

/* The raw register update (no pre/post inversion), as the kernel's
 * crc32c(seed, ...) is. */
uint32_t bt_crc32c(uint32_t crc, const void *buf, size_t n)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, crc_init);
    const uint8_t *p = buf;
    while (n >= 8) {
        uint32_t lo = crc ^ gk_le32(p), hi = gk_le32(p + 4);
        crc = crc_tab[7][lo & 0xff] ^ crc_tab[6][(lo >> 8) & 0xff] ^
              crc_tab[5][(lo >> 16) & 0xff] ^ crc_tab[4][lo >> 24] ^
              crc_tab[3][hi & 0xff] ^ crc_tab[2][(hi >> 8) & 0xff] ^
              crc_tab[1][(hi >> 16) & 0xff] ^ crc_tab[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = (crc >> 8) ^ crc_tab[0][(crc ^ *p++) & 0xff];
    return crc;
}

uint64_t bt_name_hash(const char *name, size_t len)
{
    return bt_crc32c(~1u, name, len);
}

const char *bt_csum_name(int type)
{
    switch (type) {
    case BT_CSUM_CRC32C: return "crc32c";
    case BT_CSUM_XXHASH: return "xxhash64";
    case BT_CSUM_SHA256: return "sha256";
    case BT_CSUM_BLAKE2: return "blake2b";
    default: return "unknown";
    }
}

int bt_csum_supported(int type)
{
    return type >= BT_CSUM_CRC32C && type <= BT_CSUM_BLAKE2;
}

void bt_csum(int type, const void *buf, size_t n, uint8_t out[BT_CSUM_SIZE])
{
    memset(out, 0, BT_CSUM_SIZE);
    switch (type) {
    case BT_CSUM_CRC32C: {
        gk_put_le32(out, ~bt_crc32c(~0u, buf, n));
        break;
    }
    case BT_CSUM_XXHASH: {
        gk_put_le64(out, XXH64(buf, n, 0));
        break;
    }
    case BT_CSUM_SHA256:
        gk_sha256(buf, n, out);
        break;
    case BT_CSUM_BLAKE2:
        blake2b(out, buf, NULL, 32, n, 0);
        break;
    }
}
