#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg map against qemu-img map (the oracle), JSON and human, for every
# fixture: same runs, depths, flags, offsets and file names, merged the
# same way.  Nothing is normalised.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
dir=$(fixture qcow2-fixtures) || exit 1
cd "$dir"

for img in *.qcow2 *.raw; do
    like_qemu_img "map --output=json $img" map --output=json "$img"
    like_qemu_img "map $img" map "$img"
    # compressed clusters: both refuse the human form with the same message
    is "$(sed 's/^gimg: //' "$T/g.err")" "$(sed 's/^qemu-img: //' "$T/q.err")" "map $img: same error output"
done
like_qemu_img "map -f raw of a qcow2 file" map -f raw --output=json c64k.qcow2
like_qemu_img "map --start-offset --max-length" map --output=json --start-offset=1M --max-length=3M ch16.qcow2
like_qemu_img "map --start-offset past a run start" map --output=json --start-offset=100k --max-length=7M c4k.qcow2
cd "$T"
like_qemu_img "map with a path names files by path" map "$dir/ch5.qcow2"
cd "$dir"
fails_cleanly "map of a missing file" gimg map nosuch.qcow2
fails_cleanly "map --output=yaml" gimg map --output=yaml c64k.qcow2

# A deep chain of empty overlays: each layer passes the question to its
# backing once (asking twice per layer was 2^depth calls: a hang at ~30).
mkdir -p "$T/deep" && (
    cd "$T/deep"
    qemu-img create -q -f qcow2 b0.qcow2 64M
    qemu-io -c 'write -P 1 0 1M' -c 'write -P 2 8M 1M' b0.qcow2 >/dev/null
    for i in $(seq 1 100); do qemu-img create -q -f qcow2 -b b$((i - 1)).qcow2 -F qcow2 b$i.qcow2; done
)
is "$(timeout 20 gimg map --output=json "$T/deep/b100.qcow2")" "$(qemu-img map --output=json "$T/deep/b100.qcow2")" \
    "map of a 100-deep chain of empty overlays = qemu-img's, in bounded time"

done_testing
