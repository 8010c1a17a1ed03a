#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile VHDX images for tests/bad-vhdx.t: a qemu-img-made dynamic image
# (1 MiB blocks) with one field changed by python, its CRC-32C recomputed
# unless the checksum is the point:
#   h-*.vhdx  headers: both checksums bad, a version 2, two different
#             headers with one sequence number, a log past the end, a log
#             version, an unaligned log, a log of 128 MiB
#   r-*.vhdx  region table: checksum, 3000 entries, the BAT twice, an
#             unknown required region, a region over the headers, no
#             metadata region
#   m-*.vhdx  metadata: signature, too many entries, a required item
#             missing, an unknown required item, block sizes 0, 3 MiB and
#             512 MiB, a 1024-byte sector, a parent (without and with a
#             parent locator item: differencing), an item past the region,
#             a disk of 2^50 bytes (the BAT too small)
#   b-*.vhdx  BAT entries: past the end of the file, over the headers,
#             over the metadata region, partially present, an invalid state
#   l-*.vhdx  a log GUID with nothing valid in the log (read as is)
set -euo pipefail
out=${1:?usage: vhdx-hostile.sh OUTDIR}
mkdir -p "$out"
cd "$out"
export LC_ALL=C
qemu-img create -q -f vhdx -o block_size=1M base.vhdx 8M
qemu-io -f vhdx -c 'write -P 0x11 0 1M' -c 'write -P 0x22 3M 64k' base.vhdx >/dev/null
python3 - <<'PY'
import struct
def crc32c(data, t=[]):
    if not t:
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            t.append(c)
    c = 0xFFFFFFFF
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF
K = 1024
base = bytes(open("base.vhdx", "rb").read())
def seal(f, off, n):
    struct.pack_into("<I", f, off + 4, 0)
    struct.pack_into("<I", f, off + 4, crc32c(f[off:off + n]))
def headers(f, fn, sealit=True):
    for off in (64 * K, 128 * K):
        h = bytearray(f[off:off + 4096]); fn(h); f[off:off + 4096] = h
        if sealit: seal(f, off, 4096)
def region(f, fn, sealit=True):
    fn(f, 192 * K)
    if sealit: seal(f, 192 * K, 64 * K)
def regions(f):
    n = struct.unpack_from("<I", f, 192 * K + 8)[0]
    return [(192 * K + 16 + 32 * i) for i in range(n)]
BAT = bytes.fromhex("6677c22d23f600429d64115e9bfd4a08")
META = bytes.fromhex("06a27c8b90479a4bb8fe575f050f886e")
def region_of(f, guid):
    for e in regions(f):
        if f[e:e + 16] == guid:
            return struct.unpack_from("<QI", f, e + 16)
meta_off, _ = region_of(bytearray(base), META)
bat_off, _ = region_of(bytearray(base), BAT)
def item(f, n):  # offset of the metadata item whose GUID starts with n
    cnt = struct.unpack_from("<H", f, meta_off + 10)[0]
    for i in range(cnt):
        e = meta_off + 32 + 32 * i
        if f[e:e + 4] == n:
            return e, meta_off + struct.unpack_from("<I", f, e + 16)[0]
PARAMS, VSIZE, LSS = bytes.fromhex("3767a1ca"), bytes.fromhex("2442a52f"), bytes.fromhex("1dbf4181")
def mk(name, fn):
    f = bytearray(base); fn(f); open(name, "wb").write(f)
mk("h-csum.vhdx", lambda f: headers(f, lambda h: h.__setitem__(200, 1), sealit=False))
mk("h-version.vhdx", lambda f: headers(f, lambda h: struct.pack_into("<H", h, 66, 2)))
def twoheads(f):
    headers(f, lambda h: struct.pack_into("<Q", h, 8, 9))
    h = bytearray(f[128 * K:128 * K + 4096]); h[16] ^= 1; f[128 * K:128 * K + 4096] = h; seal(f, 128 * K, 4096)
mk("h-sameseq.vhdx", twoheads)
def loghdr(guid, length=None, off=None, ver=None):
    def fn(h):
        h[48:64] = guid
        if length is not None: struct.pack_into("<I", h, 68, length)
        if off is not None: struct.pack_into("<Q", h, 72, off)
        if ver is not None: struct.pack_into("<H", h, 64, ver)
    return lambda f: headers(f, fn)
G = bytes(range(1, 17))
mk("h-logpast.vhdx", loghdr(G, off=1 << 40))
mk("h-logver.vhdx", loghdr(G, ver=1))
mk("h-logalign.vhdx", loghdr(G, off=3 * 1024 * 1024 + 4096))
mk("h-logbig.vhdx", loghdr(G, length=128 << 20))
mk("l-empty.vhdx", loghdr(G))
mk("r-csum.vhdx", lambda f: region(f, lambda f, o: f.__setitem__(o + 40, f[o + 40] ^ 1), sealit=False))
mk("r-count.vhdx", lambda f: region(f, lambda f, o: struct.pack_into("<I", f, o + 8, 3000)))
def dupbat(f, o):
    e = regions(f); f[e[1]:e[1] + 32] = f[e[0]:e[0] + 32]
mk("r-dup.vhdx", lambda f: region(f, dupbat))
def unknown_req(f, o):
    n = struct.unpack_from("<I", f, o + 8)[0]; e = o + 16 + 32 * n
    f[e:e + 16] = bytes(range(16)); struct.pack_into("<QII", f, e + 16, 64 << 20, 1 << 20, 1)
    struct.pack_into("<I", f, o + 8, n + 1)
mk("r-required.vhdx", lambda f: region(f, unknown_req))
def over_hdr(f, o):
    e = regions(f)[0]; struct.pack_into("<Q", f, e + 16, 0)
mk("r-overlap.vhdx", lambda f: region(f, over_hdr))
def nometa(f, o):
    for e in regions(f):
        if f[e:e + 16] == META: f[e:e + 16] = bytes(16)
mk("r-nometa.vhdx", lambda f: region(f, nometa))
mk("m-sig.vhdx", lambda f: f.__setitem__(meta_off, ord("M")))
mk("m-count.vhdx", lambda f: struct.pack_into("<H", f, meta_off + 10, 3000))
mk("m-missing.vhdx", lambda f: f.__setitem__(item(f, VSIZE)[0], 0))
def unknown_item(f):
    e, _ = item(f, VSIZE); cnt = struct.unpack_from("<H", f, meta_off + 10)[0]
    n = meta_off + 32 + 32 * cnt; f[n:n + 32] = f[e:e + 32]; f[n:n + 4] = b"\x99\x99\x99\x99"
    struct.pack_into("<I", f, n + 24, 4); struct.pack_into("<H", f, meta_off + 10, cnt + 1)
mk("m-required.vhdx", unknown_item)
for name, v in (("m-bs0", 0), ("m-bs3m", 3 << 20), ("m-bs512m", 512 << 20)):
    mk(name + ".vhdx", lambda f, v=v: struct.pack_into("<I", f, item(f, PARAMS)[1], v))
mk("m-lss.vhdx", lambda f: struct.pack_into("<I", f, item(f, LSS)[1], 1024))
mk("m-parent.vhdx", lambda f: struct.pack_into("<I", f, item(f, PARAMS)[1] + 4, 2))
def parentloc(f):  # has_parent and a parent locator item: a differencing disk
    struct.pack_into("<I", f, item(f, PARAMS)[1] + 4, 2)
    e, _ = item(f, VSIZE); cnt = struct.unpack_from("<H", f, meta_off + 10)[0]
    n = meta_off + 32 + 32 * cnt; f[n:n + 32] = f[e:e + 32]
    f[n:n + 16] = bytes.fromhex("2d5fd3a80bb34d45abf7d3d84834ab0c")
    struct.pack_into("<H", f, meta_off + 10, cnt + 1)
mk("m-parentloc.vhdx", parentloc)
mk("m-itempast.vhdx", lambda f: struct.pack_into("<I", f, item(f, VSIZE)[0] + 16, 0x7fffff00))
mk("m-vsize.vhdx", lambda f: struct.pack_into("<Q", f, item(f, VSIZE)[1], 1 << 50))
mk("b-past.vhdx", lambda f: struct.pack_into("<Q", f, bat_off + 8, (1 << 40) | 6))
mk("b-header.vhdx", lambda f: struct.pack_into("<Q", f, bat_off + 8, 6))
mk("b-meta.vhdx", lambda f: struct.pack_into("<Q", f, bat_off + 8, meta_off | 6))
mk("b-partial.vhdx", lambda f: struct.pack_into("<Q", f, bat_off, (struct.unpack_from("<Q", f, bat_off)[0] & ~7) | 7))
mk("b-state5.vhdx", lambda f: struct.pack_into("<Q", f, bat_off + 16, 5))
PY
