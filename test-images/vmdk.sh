#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# VMDK fixtures, made with qemu-img/qemu-io (and one VMware-style stream
# written by mkvmdk-stream.py, which qemu-img cannot make):
#   SUB.vmdk     for SUB in monolithicSparse monolithicFlat twoGbMaxExtentSparse
#                twoGbMaxExtentFlat: 8 MiB, the same scattered writes
#                (patterns, zeroes, the last sector); flat ones with their
#                extent files beside them
#   zg.vmdk      monolithicSparse with zeroed_grain=on (zeroed grains)
#   so.vmdk      streamOptimized by qemu-img convert of src.raw
#   vmw.vmdk     streamOptimized as VMware writes it (grain directory at the
#                end, footer, markers) from src.raw
#   big.vmdk     twoGbMaxExtentSparse of 5 GiB: three extents, data in each
#                and across the 2 GiB boundaries
#   base.vmdk + child.vmdk   a parent link (parentFileNameHint), the child
#                written in places
#   cidbad.vmdk  a child whose parent was written after it was made (the
#                parent CID no longer matches: qemu refuses to read through)
#   sub/desc.vmdk  a monolithicFlat descriptor naming ../outside-flat.vmdk
#                (followed like qemu, refused with --untrusted)
#   src.raw      the source of the streams (text, pseudo-random, zeros, holes)
set -euo pipefail
out=${1:?usage: vmdk.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
cd "$out"
export LC_ALL=C

q() { qemu-io -f vmdk "$@" >/dev/null; }
scatter() {
    q -c 'write -P 0xa1 0 100k' -c 'write -P 0xb2 1234k 3k' -c 'write -z 2M 64k' \
      -c 'write -P 0 3M 128k' -c 'write -P 0x5c 5M 1M' -c 'write -P 0x33 8100k 92k' \
      -c 'write -P 0xe5 8388096 512' "$1"
}
for s in monolithicSparse monolithicFlat twoGbMaxExtentSparse twoGbMaxExtentFlat; do
    qemu-img create -q -f vmdk -o subformat=$s $s.vmdk 8M
    scatter $s.vmdk
done
qemu-img create -q -f vmdk -o zeroed_grain=on zg.vmdk 8M
scatter zg.vmdk
q -c 'write -z 5M 128k' zg.vmdk

python3 - <<'PY'
import random
r = random.Random(7)
size = 8 << 20
with open("src.raw", "wb") as f:
    f.truncate(size)
    text = "".join("line %06d: the quick brown fox jumps over the lazy dog\n" % i
                   for i in range(30000)).encode()
    f.seek(0); f.write(text[:1 << 20])
    f.seek(3 << 20); f.write(r.randbytes(300 << 10))
    f.seek((4 << 20) + 512); f.write(bytes(256 << 10))
    f.seek(5 << 20); f.write((b"\x11" * 4096 + b"\x00" * 4096) * 64)
    f.seek(size - 4096); f.write(b"end." * 1024)
PY
qemu-img convert -O vmdk -o subformat=streamOptimized src.raw so.vmdk
python3 "$here/mkvmdk-stream.py" src.raw vmw.vmdk

qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse big.vmdk 5G
q -c 'write -P 0x71 0 64k' -c 'write -P 0x72 2047M 2M' -c 'write -P 0x73 4095M 2M' \
  -c 'write -P 0x74 5119M 1M' big.vmdk

qemu-img create -q -f vmdk base.vmdk 8M
q -c 'write -P 0x61 0 1M' -c 'write -P 0x62 6M 2M' base.vmdk
qemu-img create -q -f vmdk -b base.vmdk -F vmdk child.vmdk
q -c 'write -P 0x63 512k 64k' -c 'write -P 0x64 7M 4k' child.vmdk

qemu-img create -q -f vmdk cidbase.vmdk 8M
qemu-img create -q -f vmdk -b cidbase.vmdk -F vmdk cidbad.vmdk
q -c 'write -P 0x65 0 64k' cidbase.vmdk

mkdir -p sub
qemu-img create -q -f raw outside-flat.vmdk 1M
qemu-io -f raw -c 'write -P 0x99 0 1M' outside-flat.vmdk >/dev/null
printf '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\nRW 2048 FLAT "../outside-flat.vmdk" 0\n' >sub/desc.vmdk
