#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile VDI images for tests/bad-vdi.t: a qemu-img-made dynamic image with
# one header field or block map entry changed (python): signature, version,
# unaligned map/data offsets, sector and block sizes, a disk larger than
# the map, link and parent UUIDs (differencing images), too many blocks,
# a size past the maximum, a map past the end of the file, entries pointing
# past the end.
set -euo pipefail
out=${1:?usage: vdi-hostile.sh OUTDIR}
mkdir -p "$out"
cd "$out"
export LC_ALL=C
qemu-img create -q -f vdi dyn.vdi 4M
qemu-io -f vdi -c 'write -P 0x11 0 100k' -c 'write -P 0x22 3M 64k' dyn.vdi >/dev/null
python3 - <<'PY'
import struct
b = open("dyn.vdi", "rb").read()
def poke(name, off, fmt, val):
    d = bytearray(b); struct.pack_into(fmt, d, off, val); open(name, "wb").write(d)
poke("h-sig.vdi", 0x40, "<I", 0xbeda1070)
poke("h-version.vdi", 0x44, "<I", 0x00010002)
poke("h-bmapoff.vdi", 0x154, "<I", 0x201)
poke("h-dataoff.vdi", 0x158, "<I", 0x100001)
poke("h-sector.vdi", 0x168, "<I", 4096)
poke("h-bs.vdi", 0x178, "<I", 2 << 20)
poke("h-size.vdi", 0x170, "<Q", 5 << 20)
poke("h-sizemax.vdi", 0x170, "<Q", 1 << 62)
poke("h-link.vdi", 0x1a8, "<I", 1)
poke("h-parent.vdi", 0x1b8, "<I", 1)
poke("h-blocks.vdi", 0x180, "<I", 0x20000000)
poke("h-blocks2.vdi", 0x180, "<I", 0x1fffff80)
poke("h-bmappast.vdi", 0x154, "<I", 0x7ffffe00)
bmap = struct.unpack_from("<I", b, 0x154)[0]
poke("t-past.vdi", bmap, "<I", 0xfffffff0)
poke("t-big.vdi", bmap + 4, "<I", 0x7fffffff)
poke("t-same.vdi", bmap + 12, "<I", 0)
PY
