#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Seeds for the vmdk_open fuzz target: small images of each subformat
# qemu-img writes with one file (monolithicSparse, streamOptimized, a
# descriptor), and a VMware-style stream (test-images/mkvmdk-stream.py).
set -eu
c=${1:?usage: seeds-vmdk_open.sh CORPUS}
here=$(cd "$(dirname "$0")/../../test-images" && pwd)
command -v qemu-img >/dev/null || exit 0
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
cd "$w"
python3 -c 'import random,sys; sys.stdout.buffer.write(random.Random(3).randbytes(20000))' >src.raw
truncate -s 256k src.raw
qemu-img create -q -f vmdk -o zeroed_grain=on a.vmdk 256k
qemu-io -f vmdk -c 'write -P 1 0 4k' -c 'write -z 64k 64k' -c 'write -P 2 200k 1k' a.vmdk >/dev/null
qemu-img convert -O vmdk -o subformat=streamOptimized src.raw s.vmdk
python3 "$here/mkvmdk-stream.py" src.raw v.vmdk 8
qemu-img create -q -f vmdk -o subformat=monolithicFlat d.vmdk 64k
cp a.vmdk s.vmdk v.vmdk d.vmdk "$c/"
