#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg compare and gimg snapshot -l against qemu-img (the oracle): same
# message and exit status for identical and different pairs, strict mode,
# size differences; the same snapshot table (dates come from the image).
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
dir=$(fixture qcow2-fixtures) || exit 1
cd "$dir"

pairs="c512.qcow2:c64k.qcow2 c64k.qcow2:c2m.qcow2 c4k.qcow2:v2.qcow2 zlib.qcow2:src.raw
zstd.qcow2:zlib.qcow2 zmix.qcow2:zstd.qcow2 ch15.qcow2:ch16.qcow2 ch1.qcow2:chbase.raw
ch16.qcow2:ch16.qcow2 qb-top.qcow2:qb-mid.qcow2 qb-mid.qcow2:qb-base.qcow2 el2.qcow2:el2-ov.qcow2
el2-ov.qcow2:c64k.qcow2 snap.qcow2:src.raw datafile.qcow2:datafile-raw.qcow2 base.raw:src.raw
chbase.raw:ch1.qcow2 zlib.qcow2:zlib.qcow2 qb-top.qcow2:qb-top.qcow2 el2-ov.qcow2:el2-ov.qcow2
zstd-c4k.qcow2:zlib-c512.qcow2 zlib-c2m.qcow2:src.raw lazy.qcow2:leaky.qcow2"
for p in $pairs; do
    a=${p%%:*} b=${p#*:}
    like_qemu_img "compare $a $b" compare "$a" "$b"
    like_qemu_img "compare -s $a $b" compare -s "$a" "$b"
done
# sizes differ: the extra part must read as zeros
cp --sparse=always src.raw "$T/long.raw"
truncate -s 12M "$T/long.raw"
like_qemu_img "compare with a longer all-zero tail" compare src.raw "$T/long.raw"
like_qemu_img "compare -s with a longer tail" compare -s src.raw "$T/long.raw"
printf 'x' | dd of="$T/long.raw" bs=1 seek=$((10 * 1024 * 1024 + 700)) conv=notrunc status=none
like_qemu_img "compare with data in the longer tail" compare "$T/long.raw" src.raw
# a backing file shorter than its overlay: qemu counts the zeros past its
# end as allocated in strict mode
qemu-img create -q -f qcow2 "$T/sbbase.qcow2" 4M
qemu-img create -q -f qcow2 -b sbbase.qcow2 -F qcow2 "$T/sbtop.qcow2" 8M
qemu-img create -q -f qcow2 "$T/sbempty.qcow2" 8M
like_qemu_img "compare -s over a short backing file" compare -s "$T/sbtop.qcow2" "$T/sbempty.qcow2"
like_qemu_img "compare -s over a short backing file, swapped" compare -s "$T/sbempty.qcow2" "$T/sbtop.qcow2"
like_qemu_img "compare over a short backing file" compare "$T/sbtop.qcow2" "$T/sbempty.qcow2"
like_qemu_img "compare -f qcow2 -F raw" compare -f qcow2 -F raw zlib.qcow2 src.raw
like_qemu_img "compare -q" compare -q c4k.qcow2 c64k.qcow2
like_qemu_img "compare -q, different" compare -q ch1.qcow2 ch2.qcow2

# Errors exit 2
rc=0; gimg compare c4k.qcow2 nosuch.qcow2 >/dev/null 2>"$T/err" || rc=$?
is "$rc" 2 "compare with a missing file exits 2"
grep -q '^gimg: .*nosuch.qcow2' "$T/err" && _tap_result 0 "... with a gimg: message" ||
    { _tap_result 1 "... with a gimg: message"; diag "$(cat "$T/err")"; }
rc=0; gimg compare c4k.qcow2 >/dev/null 2>&1 || rc=$?
is "$rc" 2 "compare with one image exits 2"

# snapshot -l
for img in *.qcow2 src.raw; do
    like_qemu_img "snapshot -l $img" snapshot -l "$img"
done
# -c/-a/-d write (tests/18-gimg-snapshot-write.t): only ever on a copy, the
# fixture is shared
cp snap.qcow2 "$T/snapw.qcow2"
ok "snapshot -c on a copy" gimg snapshot -c new "$T/snapw.qcow2"
ok "snapshot -d on a copy" gimg snapshot -d new "$T/snapw.qcow2"
like_qemu_img "snapshot without an action does nothing" snapshot "$T/snapw.qcow2"
fails_cleanly "snapshot -a of a missing snapshot" gimg snapshot -a nosuch "$T/snapw.qcow2"

done_testing
