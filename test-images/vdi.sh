#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# VDI fixtures, made with qemu-img/qemu-io, and one written by python the
# way VirtualBox lays images out (qemu-img cannot):
#   static.vdi dynamic.vdi  8 MiB, scattered writes (patterns, zeroes, the end)
#   odd.vdi       a size that is not a multiple of 1 MiB (5000000 bytes)
#   vbox.vdi      VirtualBox's text and header size, blocks stored out of
#                 order, a discarded block (0xfffffffe), an odd disk size
#                 (VBoxManage convertfromraw leaves those: qemu rounds up)
set -euo pipefail
out=${1:?usage: vdi.sh OUTDIR}
mkdir -p "$out"
cd "$out"
export LC_ALL=C
for s in static dynamic; do
    o=""; [ $s = static ] && o="-o static=on"
    rm -f $s.vdi
    qemu-img create -q -f vdi $o $s.vdi 8M
    qemu-io -f vdi -c 'write -P 0xa1 0 100k' -c 'write -P 0xb2 1234k 3k' -c 'write -z 2M 64k' \
        -c 'write -P 0x5c 5M 1M' -c 'write -P 0x33 8100k 92k' -c 'write -P 0 3M 64k' $s.vdi >/dev/null
done
qemu-img create -q -f vdi odd.vdi 5000000
qemu-io -f vdi -c 'write -P 0x44 4M 64k' odd.vdi >/dev/null
python3 - <<'PY'
import random, struct
r = random.Random(11)
B = 1 << 20
size = 6 * B + 777            # odd, as convertfromraw leaves it
blocks = 7
text = b"<<< Oracle VM VirtualBox Disk Image >>>\n".ljust(64, b"\0")
bmap_off, data_off = 0x200, 0x200000
# logical block -> stored block; 2 unallocated, 4 discarded
order = {0: 3, 1: 0, 3: 1, 5: 2, 6: 4}
bmap = [0xffffffff] * blocks
bmap[4] = 0xfffffffe
for lb, sb in order.items():
    bmap[lb] = sb
h = bytearray(512)
h[0:64] = text
struct.pack_into("<IIIII", h, 0x40, 0xbeda107f, 0x00010001, 0x190, 1, 0)
struct.pack_into("<II", h, 0x154, bmap_off, data_off)
struct.pack_into("<IIII", h, 0x15c, 0, 0, 0, 512)
struct.pack_into("<QIIII", h, 0x170, size, B, 0, blocks, len(order))
h[0x188:0x198] = bytes(r.getrandbits(8) for _ in range(16))
with open("vbox.vdi", "wb") as f:
    f.write(h)
    f.seek(bmap_off); f.write(struct.pack("<%dI" % blocks, *bmap))
    for lb, sb in order.items():
        f.seek(data_off + sb * B)
        f.write(bytes([lb * 16 + 1]) * 4096 + r.randbytes(B - 8192) + bytes([lb]) * 4096)
PY
