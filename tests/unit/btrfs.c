/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The btrfs driver's small parts: crc32c (the catalogue's check value),
 * the directory name hash (against btrfs-progs' dump-tree of a real
 * filesystem), and the decompressors fed good, truncated and hostile
 * input (made here with zlib, zstd and liblzo2 themselves). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lzo/lzo1x.h>
#include <zlib.h>
#include <zstd.h>

#include "btrfs-int.h"
#include "tap.h"

static uint8_t plain[65536], packed[200000], out[65536 + 16];

/* btrfs' lzo framing of plain[0..n): total length, then one segment per
 * 4 KiB of input, headers never straddling a 4 KiB boundary. */
static size_t lzo_frame(size_t n)
{
    static uint8_t wrk[LZO1X_1_MEM_COMPRESS];
    size_t pos = 4;
    for (size_t in = 0; in < n; in += 4096) {
        if (4096 - pos % 4096 < 4)
            pos += 4096 - pos % 4096;       /* zero padding */
        lzo_uint clen = 0;
        lzo1x_1_compress(plain + in, n - in < 4096 ? n - in : 4096, packed + pos + 4, &clen, wrk);
        packed[pos] = (uint8_t)clen;
        packed[pos + 1] = (uint8_t)(clen >> 8);
        packed[pos + 2] = packed[pos + 3] = 0;
        pos += 4 + clen;
    }
    packed[0] = (uint8_t)pos;
    packed[1] = (uint8_t)(pos >> 8);
    packed[2] = (uint8_t)(pos >> 16);
    packed[3] = 0;
    return pos;
}

int main(void)
{
    is_int(~bt_crc32c(~0u, "123456789", 9), 0xE3069283u, "crc32c check value");
    /* dump-tree -t root of a kernel-made filesystem:
     * key (ROOT_TREE_DIR DIR_ITEM 2378154706) ... name: default */
    is_int(bt_name_hash("default", 7), 2378154706u, "name hash of \"default\" as btrfs-progs shows it");

    btrfs b;
    memset(&b, 0, sizeof b);
    b.sectorsize = 4096;
    for (size_t i = 0; i < sizeof plain; i++)
        plain[i] = (uint8_t)("btrfs decompression "[i % 20] + (i / 4096));
    lzo_init();

    /* zlib */
    uLongf zl = sizeof packed;
    compress2(packed, &zl, plain, sizeof plain, 6);
    is_int(bt_decompress(&b, 1, packed, zl, out, sizeof plain), 0, "zlib: decompresses");
    ok(memcmp(out, plain, sizeof plain) == 0, "zlib: the right bytes");
    is_int(bt_decompress(&b, 1, packed, zl / 2, out, sizeof plain), -EIO, "zlib: truncated stream refused");
    memset(out, 0xaa, sizeof out);
    is_int(bt_decompress(&b, 1, packed, zl, out, sizeof plain + 16), 0,
           "zlib: output longer than the stream (ram_bytes an upper bound)");
    ok(out[sizeof plain] == 0 && out[sizeof plain + 15] == 0, "... the rest is zeros");
    packed[zl / 2] ^= 0xff;
    ok(bt_decompress(&b, 1, packed, zl, out, sizeof plain) < 0 ||
       memcmp(out, plain, sizeof plain) != 0, "zlib: a damaged stream is refused or differs");

    /* zstd */
    size_t zs = ZSTD_compress(packed, sizeof packed, plain, sizeof plain, 3);
    is_int(bt_decompress(&b, 3, packed, zs, out, sizeof plain), 0, "zstd: decompresses");
    ok(memcmp(out, plain, sizeof plain) == 0, "zstd: the right bytes");
    is_int(bt_decompress(&b, 3, packed, zs / 2, out, sizeof plain), -EIO, "zstd: truncated frame refused");
    memset(packed + zs, 0, 4096);
    is_int(bt_decompress(&b, 3, packed, zs + 4096, out, sizeof plain), 0,
           "zstd: zero padding after the frame (the sector's tail)");
    /* a frame asking for a 128 MiB window: not the kernel's, not our memory */
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, 27);
    ZSTD_CCtx_setPledgedSrcSize(cc, ZSTD_CONTENTSIZE_UNKNOWN);
    ZSTD_inBuffer ib = {plain, 4096, 0};      /* size unknown when the header is written */
    ZSTD_outBuffer ob = {packed, sizeof packed, 0};
    ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_flush);
    ib = (ZSTD_inBuffer){plain + 4096, sizeof plain - 4096, 0};
    ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_end);
    ZSTD_freeCCtx(cc);
    is_int(bt_decompress(&b, 3, packed, ob.pos, out, sizeof plain), -EIO, "zstd: a 128 MiB window refused");

    /* lzo */
    size_t lz = lzo_frame(sizeof plain);
    is_int(bt_decompress(&b, 2, packed, lz, out, sizeof plain), 0, "lzo: decompresses");
    ok(memcmp(out, plain, sizeof plain) == 0, "lzo: the right bytes (segments, sector padding)");
    is_int(bt_decompress(&b, 2, packed, lz - 100, out, sizeof plain), -EIO,
           "lzo: total length beyond the extent refused");
    packed[3] = 0x80;
    is_int(bt_decompress(&b, 2, packed, lz, out, sizeof plain), -EIO, "lzo: huge total length refused");
    lzo_frame(sizeof plain);
    packed[5] = 0xff;              /* first segment: 64 KiB long */
    is_int(bt_decompress(&b, 2, packed, lz, out, sizeof plain), -EIO, "lzo: oversized segment refused");
    lzo_frame(sizeof plain);
    memset(packed + 8, 0x11, 64);
    ok(bt_decompress(&b, 2, packed, lz, out, sizeof plain) < 0 ||
       memcmp(out, plain, sizeof plain) != 0, "lzo: damaged data refused or differs");

    is_int(bt_decompress(&b, 4, packed, 10, out, 10), -EOPNOTSUPP, "unknown compression type");
    bt_data_close(&b);
    return done_testing();
}
