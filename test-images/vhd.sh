#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# VHD (vpc) fixtures, made with qemu-img/qemu-io, plus footers rewritten
# by python where another creator is needed:
#   dynamic.vhd fixed.vhd  8 MiB, scattered writes (patterns, zeroes, the end)
#   fs.vhd        dynamic with force_size=on (creator "qem2": current size)
#   hyperv.vhd    fixed.vhd with creator "win " and a current size that is
#                 not the geometry's (Hyper-V: the current size counts)
#   azure.vhd     the same with creator "wa\0\0" (qemu 7.2: the geometry)
#   diff.vhd      dynamic.vhd made a differencing disk (type 4, parent
#                 "parent.vhd" in its dynamic header, W2ru and W2ku parent
#                 locators in two sectors before the footer): qemu-img cannot
#                 make one, and qemu 7.2 reads it as dynamic
set -euo pipefail
out=${1:?usage: vhd.sh OUTDIR}
mkdir -p "$out"
cd "$out"
export LC_ALL=C
for s in dynamic fixed; do
    rm -f $s.vhd
    qemu-img create -q -f vpc -o subformat=$s $s.vhd 8M
    qemu-io -f vpc -c 'write -P 0xa1 0 100k' -c 'write -P 0xb2 1234k 3k' -c 'write -z 2M 64k' \
        -c 'write -P 0x5c 5M 1M' -c 'write -P 0x33 8000k 92k' -c 'write -P 0 3M 64k' $s.vhd >/dev/null
done
qemu-img create -q -f vpc -o subformat=dynamic,force_size=on fs.vhd 10000000
qemu-io -f vpc -c 'write -P 0x11 9000k 100k' fs.vhd >/dev/null
python3 - <<'PY'
import struct
def refoot(src, dst, app, size=None):
    b = bytearray(open(src, "rb").read())
    for at in (len(b) - 512,) + ((0,) if b[:8] == b"conectix" else ()):
        f = b[at:at + 512]
        f[28:32] = app
        if size is not None:
            struct.pack_into(">QQ", f, 40, size, size)
        f[64:68] = b"\0\0\0\0"
        struct.pack_into(">I", f, 64, ~sum(f) & 0xffffffff)
        b[at:at + 512] = f
    open(dst, "wb").write(b)
refoot("fixed.vhd", "hyperv.vhd", b"win ", 8 * 1024 * 1024 - 64 * 1024)
refoot("fixed.vhd", "azure.vhd", b"wa\0\0", 8 * 1024 * 1024 - 64 * 1024)

def differencing(src, dst, parent):
    b = bytearray(open(src, "rb").read())
    for at in (0, len(b) - 512):
        f = b[at:at + 512]
        struct.pack_into(">I", f, 60, 4)
        f[64:68] = b"\0\0\0\0"
        struct.pack_into(">I", f, 64, ~sum(f) & 0xffffffff)
        b[at:at + 512] = f
    doff = struct.unpack(">Q", b[16:24])[0]
    h = b[doff:doff + 1024]
    h[40:56] = bytes(range(16))                           # parent unique id
    h[64:576] = parent.encode("utf-16-be").ljust(512, b"\0")
    # two parent locators as Hyper-V writes them (W2ru: relative, W2ku:
    # absolute; UTF-16LE paths, one sector each) in sectors added before the
    # footer; qemu 7.2 never reads them
    foot = b[len(b) - 512:]
    del b[len(b) - 512:]
    for i, (code, path) in enumerate(((b"W2ru", ".\\" + parent), (b"W2ku", "C:\\vms\\" + parent))):
        data = path.encode("utf-16-le")
        struct.pack_into(">4sIIIQ", h, 576 + 24 * i, code, 512, len(data), 0, len(b))
        b += data.ljust(512, b"\0")
    b += foot
    h[36:40] = b"\0\0\0\0"
    struct.pack_into(">I", h, 36, ~sum(h) & 0xffffffff)
    b[doff:doff + 1024] = h
    open(dst, "wb").write(b)
differencing("dynamic.vhd", "diff.vhd", "parent.vhd")
PY
