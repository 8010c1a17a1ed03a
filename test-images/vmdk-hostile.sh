#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile VMDK images for tests/bad-vmdk.t: qemu-img-made images with one
# header field, table entry, grain or descriptor line changed (python), and
# descriptors that name files they should not.
#   h-*.vmdk     one field of a monolithicSparse header (version, grain
#                table size, grain size, capacity, overhead, grain directory
#                offset, flags)
#   t-*.vmdk     a grain directory or grain table entry past the end, or
#                pointing at the header
#   c-*.vmdk     a streamOptimized grain: bad marker size, broken deflate;
#                a VMware-style stream with a broken footer
#   d-*.vmdk     descriptors: no createType, an unknown one, a FLAT line
#                without offset, an extent that is missing, not a VMDK, the
#                descriptor itself, json:, a SESPARSE extent that is a file
#                of zeros (no seSparse header: refused as qemu refuses it),
#                5000 extents, a megabyte of blank lines, a nested descriptor
#   p-*.vmdk     parent links: to itself, a loop of two, a missing parent
#   u-abs.vmdk   an extent by absolute path (/etc/hostname): refused with
#                --untrusted
set -euo pipefail
out=${1:?usage: vmdk-hostile.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
cd "$out"
export LC_ALL=C
qemu-img create -q -f vmdk base.vmdk 1M
qemu-io -f vmdk -c 'write -P 0x11 0 200k' -c 'write -P 0x22 700k 64k' base.vmdk >/dev/null
python3 -c 'import random,sys; sys.stdout.buffer.write(random.Random(5).randbytes(300000))' >src.raw
truncate -s 1M src.raw
qemu-img convert -O vmdk -o subformat=streamOptimized src.raw so.vmdk
python3 "$here/mkvmdk-stream.py" src.raw vmw.vmdk
python3 - <<'PY'
import struct
b = open("base.vmdk", "rb").read()
def put(name, data, off, fmt, val):
    d = bytearray(data); struct.pack_into(fmt, d, off, val); open(name, "wb").write(d)
put("h-version.vmdk", b, 4, "<I", 4)
put("h-gtes.vmdk", b, 44, "<I", 1024)
put("h-gtes0.vmdk", b, 44, "<I", 0)
put("h-grain0.vmdk", b, 20, "<Q", 0)
put("h-grainbig.vmdk", b, 20, "<Q", 0x400000)
put("h-capacity.vmdk", b, 12, "<Q", 1 << 60)
put("h-capacity2.vmdk", b, 12, "<Q", 1 << 40)
put("h-overhead.vmdk", b, 64, "<Q", 1 << 40)
put("h-gdoff.vmdk", b, 56, "<Q", 1 << 50)
put("h-gdhuge.vmdk", b, 56, "<Q", 0xfffffffffffffff0)
put("h-flags.vmdk", b, 8, "<I", 0xffffffff)
gd = struct.unpack_from("<Q", b, 56)[0] * 512
gt = struct.unpack_from("<I", b, gd)[0] * 512
put("t-gdpast.vmdk", b, gd, "<I", 0x7fffffff)
put("t-gtpast.vmdk", b, gt, "<I", 0xfffffff0)
put("t-gthdr.vmdk", b, gt, "<I", 0)
put("t-gtone.vmdk", b, gt + 4, "<I", 1)
s = open("so.vmdk", "rb").read()
sgd = struct.unpack_from("<Q", s, 56)[0] * 512
sgt = struct.unpack_from("<I", s, sgd)[0] * 512
g0 = struct.unpack_from("<I", s, sgt)[0] * 512
put("c-size0.vmdk", s, g0 + 8, "<I", 0)
put("c-sizebig.vmdk", s, g0 + 8, "<I", 0x7fffffff)
d = bytearray(s); d[g0 + 12:g0 + 40] = b"\xff" * 28; open("c-deflate.vmdk", "wb").write(d)
put("c-gtcomp.vmdk", s, sgt, "<I", 1)
v = open("vmw.vmdk", "rb").read()
put("c-footer.vmdk", v, len(v) - 1024, "<I", 0x12345678)
put("c-footer-eos.vmdk", v, len(v) - 500, "<I", 7)
put("c-footer-gd.vmdk", v, len(v) - 1024 + 56, "<Q", 1 << 40)
PY
hdr='# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n'
truncate -s 1M flat.bin
printf "$hdr"'\nRW 2048 FLAT "flat.bin" 0\n' >d-notype.vmdk
printf "$hdr"'createType="custom"\nRW 2048 FLAT "flat.bin" 0\n' >d-custom.vmdk
printf "$hdr"'createType="monolithicFlat"\nRW 2048 FLAT "flat.bin"\n' >d-nooffset.vmdk
printf "$hdr"'createType="monolithicFlat"\nRW 2048 FLAT "flat.bin" -5\n' >d-negoffset.vmdk
printf "$hdr"'createType="monolithicFlat"\nRW 2048 FLAT "flat.bin" 9223372036854775807\n' >d-bigoffset.vmdk
printf "$hdr"'createType="monolithicFlat"\nRW 9223372036854775807 FLAT "flat.bin" 0\n' >d-bigsectors.vmdk
printf "$hdr"'createType="monolithicFlat"\nRW 2048 FLAT "missing.bin" 0\n' >d-missing.vmdk
printf "$hdr"'createType="twoGbMaxExtentSparse"\nRW 2048 SPARSE "flat.bin"\n' >d-notsparse.vmdk
printf "$hdr"'createType="twoGbMaxExtentSparse"\nRW 2048 SPARSE "d-self.vmdk"\n' >d-self.vmdk
printf "$hdr"'createType="monolithicFlat"\nRW 2048 FLAT "json:{\\"driver\\":\\"file\\",\\"filename\\":\\"flat.bin\\"}" 0\n' >d-json.vmdk
printf "$hdr"'createType="monolithicFlat"\nRW 2048 FLAT "nbd:localhost:10809" 0\n' >d-proto.vmdk
printf "$hdr"'createType="seSparse"\nRW 2048 SESPARSE "flat.bin"\n' >d-sesparse.vmdk
printf "$hdr"'createType="monolithicFlat"\nRW 2048 ZERO\nRW 2048 FLAT "flat.bin" 0\n' >d-zero.vmdk
printf "$hdr"'createType="monolithicFlat"\nRDONLY 2048 FLAT "flat.bin" 0\nRW 2048 FLAT "flat.bin" 0\n' >d-rdonly.vmdk
{ printf "$hdr"'createType="monolithicFlat"\n'; for i in $(seq 5000); do echo 'RW 1 FLAT "flat.bin" 0'; done; } >d-many.vmdk
python3 - "$hdr" <<'PY'
import sys
hdr = sys.argv[1].replace("\\n", "\n")
open("d-blank.vmdk", "w").write(hdr + 'createType="monolithicFlat"\n' + "\n" * 1000000 + 'RW 2048 FLAT "flat.bin" 0\n')
open("d-spaces.vmdk", "w").write(hdr + 'createType="monolithicFlat"\nRW' + " \n" * 400000 + '2048 FLAT "flat.bin" 0\n')
PY
# a sparse file whose header says "descriptor inside", naming itself
python3 - <<'PY'
import struct
desc = b'# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType="twoGbMaxExtentSparse"\nRW 2048 SPARSE "d-nested.vmdk"\n'
h = struct.pack("<4sIIQQQQIQQQ", b"KDMV", 1, 3, 0, 128, 1, 20, 512, 0, 0, 0).ljust(512, b"\0")
open("d-nested.vmdk", "wb").write(h + desc.ljust(20 * 512, b"\0"))
PY
# parents
cp base.vmdk p-self.vmdk
python3 - <<'PY'
def setparent(src, dst, parent):
    b = bytearray(open(src, "rb").read())
    d = b[512:512 + 10240]
    d = d.replace(b"parentCID=ffffffff\n", b"parentCID=ffffffff\nparentFileNameHint=\"%s\"\n" % parent.encode())
    b[512:512 + 10240] = d[:10240]
    open(dst, "wb").write(b)
setparent("base.vmdk", "p-self.vmdk", "p-self.vmdk")
setparent("base.vmdk", "p-a.vmdk", "p-b.vmdk")
setparent("base.vmdk", "p-b.vmdk", "p-a.vmdk")
setparent("base.vmdk", "p-missing.vmdk", "nothere.vmdk")
PY
printf "$hdr"'createType="monolithicFlat"\nRW 8 FLAT "/etc/hostname" 0\n' >u-abs.vmdk
