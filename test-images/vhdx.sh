#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# VHDX fixtures, made with qemu-img/qemu-io, and dirty logs written by
# mkvhdx-log.py (qemu-img cannot leave one on purpose):
#   dynamic.vhdx fixed.vhdx  8 MiB, scattered writes (patterns, zeroes, the end)
#   bs1.vhdx      300 MiB, 1 MiB blocks, a 2 MiB log, data far apart
#   c.vhdx        8 MiB, 1 MiB blocks: the clean source of the dirty ones
#   dirty.vhdx    c.vhdx with a log to replay (a new block, a zeroed sector)
#   badtail.vhdx  the same with the head entry's tail naming nothing
#   replayed.vhdx dirty.vhdx after qemu-img check -r all (the oracle)
set -euo pipefail
out=${1:?usage: vhdx.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
cd "$out"
export LC_ALL=C
for s in dynamic fixed; do
    rm -f $s.vhdx
    qemu-img create -q -f vhdx -o subformat=$s $s.vhdx 8M
    qemu-io -f vhdx -c 'write -P 0xa1 0 100k' -c 'write -P 0xb2 1234k 3k' -c 'write -z 2M 64k' \
        -c 'write -P 0x5c 5M 1M' -c 'write -P 0x33 8100k 92k' $s.vhdx >/dev/null
done
qemu-img create -q -f vhdx -o block_size=1M,log_size=2M bs1.vhdx 300M
qemu-io -f vhdx -c 'write -P 0x11 100M 3M' -c 'write -P 0x22 299M 1M' bs1.vhdx >/dev/null
qemu-img create -q -f vhdx -o block_size=1M c.vhdx 8M
qemu-io -f vhdx -c 'write -P 0x41 0 1M' -c 'write -P 0x42 5M 64k' c.vhdx >/dev/null
python3 "$here/mkvhdx-log.py" c.vhdx dirty.vhdx
python3 "$here/mkvhdx-log.py" c.vhdx badtail.vhdx badtail
cp dirty.vhdx replayed.vhdx
qemu-img check -q -r all replayed.vhdx || true
