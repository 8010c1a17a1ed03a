#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile VHD images for tests/bad-vhd.t: qemu-img-made dynamic and fixed
# disks with one footer or dynamic header field, or one table entry,
# changed by python (the footer checksum recomputed unless the checksum is
# the point):
#   f-*.vhd   footer: checksum, geometry/size past 2040 GiB, magic gone,
#             dynamic header offset past the end
#   h-*.vhd   dynamic header: magic, block size (0, not a power of two, 4 GiB
#             wrap), a table too small, too large, past the end
#   t-*.vhd   table entries: past the end, pointing at the header
set -euo pipefail
out=${1:?usage: vhd-hostile.sh OUTDIR}
mkdir -p "$out"
cd "$out"
export LC_ALL=C
qemu-img create -q -f vpc -o subformat=dynamic dyn.vhd 8M
qemu-io -f vpc -c 'write -P 0x11 0 100k' -c 'write -P 0x22 5M 64k' dyn.vhd >/dev/null
qemu-img create -q -f vpc -o subformat=fixed fix.vhd 1M
qemu-io -f vpc -c 'write -P 0x33 0 100k' fix.vhd >/dev/null
python3 - <<'PY'
import struct
dyn = open("dyn.vhd", "rb").read()
fix = open("fix.vhd", "rb").read()
def csum(f):
    f[64:68] = b"\0\0\0\0"
    struct.pack_into(">I", f, 64, ~sum(f) & 0xffffffff)
def footer(src, name, fn, fix_sum=True):
    b = bytearray(src)
    for at in (len(b) - 512,) + ((0,) if b[:8] == b"conectix" else ()):
        f = b[at:at + 512]
        fn(f)
        if fix_sum:
            csum(f)
        b[at:at + 512] = f
    open(name, "wb").write(b)
def poke(src, name, off, fmt, val):
    b = bytearray(src); struct.pack_into(fmt, b, off, val); open(name, "wb").write(b)
footer(dyn, "f-csum.vhd", lambda f: f.__setitem__(70, f[70] ^ 1), fix_sum=False)
footer(fix, "f-csum-fixed.vhd", lambda f: f.__setitem__(70, f[70] ^ 1), fix_sum=False)
def big(f):
    f[28:32] = b"win "; struct.pack_into(">QQ", f, 40, 1 << 50, 1 << 50)
footer(dyn, "f-size.vhd", big)
footer(fix, "f-size-fixed.vhd", big)
footer(dyn, "f-geom.vhd", lambda f: struct.pack_into(">HBB", f, 56, 65535, 16, 254))
footer(dyn, "f-dataoff.vhd", lambda f: struct.pack_into(">Q", f, 16, 1 << 40))
footer(dyn, "f-dataoff2.vhd", lambda f: struct.pack_into(">Q", f, 16, 0xfffffffffffffe00))
b = bytearray(fix); b[-512:-504] = b"XXXXXXXX"; open("f-magic.vhd", "wb").write(b)
poke(dyn, "h-magic.vhd", 512, "8s", b"cxsparsf")
poke(dyn, "h-bs0.vhd", 512 + 32, ">I", 0)
poke(dyn, "h-bs3.vhd", 512 + 32, ">I", 3 << 20)
poke(dyn, "h-bs256.vhd", 512 + 32, ">I", 256)
poke(dyn, "h-bsbig.vhd", 512 + 32, ">I", 1 << 31)
poke(dyn, "h-small.vhd", 512 + 28, ">I", 1)
poke(dyn, "h-huge.vhd", 512 + 28, ">I", 0x1fffffff)
poke(dyn, "h-huge2.vhd", 512 + 28, ">I", 0xffffffff)
poke(dyn, "h-batoff.vhd", 512 + 16, ">Q", 1 << 40)
poke(dyn, "h-batoff2.vhd", 512 + 16, ">Q", 0xfffffffffffffff0)
bat = struct.unpack_from(">Q", dyn, 512 + 16)[0]
poke(dyn, "t-past.vhd", bat, ">I", 0x7fffffff)
poke(dyn, "t-header.vhd", bat + 4, ">I", 0)
poke(dyn, "t-same.vhd", bat + 4, ">I", struct.unpack_from(">I", dyn, bat)[0])
PY
