#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Seeds for the vhdx_open fuzz target: a small dynamic VHDX made by
# qemu-img, and the same with a log to replay (test-images/mkvhdx-log.py).
# They are larger than run.sh's -max_len: libFuzzer mutates their heads.
set -eu
c=${1:?usage: seeds-vhdx_open.sh CORPUS}
here=$(cd "$(dirname "$0")/../../test-images" && pwd)
command -v qemu-img >/dev/null || exit 0
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
cd "$w"
qemu-img create -q -f vhdx -o block_size=1M d.vhdx 8M
qemu-io -f vhdx -c 'write -P 1 0 4k' -c 'write -P 2 3M 1k' d.vhdx >/dev/null
python3 "$here/mkvhdx-log.py" d.vhdx l.vhdx
cp d.vhdx l.vhdx "$c/"
