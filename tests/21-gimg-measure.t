#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg measure against qemu-img measure (the oracle): the same sizes, the
# same output shapes (human and JSON), messages and exit codes, for disk
# sizes and for images (qcow2 of every shape, chains, raw), with qcow2's
# options; and an image converted with those options fits what was measured.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
dir=$(fixture qcow2-fixtures) || exit 1
cd "$dir"

measure_like() { # ARGS...
    local go qo gr=0 qr=0
    go=$(gimg measure "$@" 2>&1) || gr=$?
    qo=$(qemu-img measure "$@" 2>&1) || qr=$?
    is "${go//gimg:/qemu-img:} [exit $gr]" "$qo [exit $qr]" "measure $*: as qemu-img"
}

for s in 0 1000 1G 100T 3.5G; do
    measure_like --size $s
    for o in "" cluster_size=512 cluster_size=4k,refcount_bits=1 cluster_size=2M,refcount_bits=64 \
             extended_l2=on preallocation=full preallocation=metadata compat=0.10; do
        measure_like -O qcow2 ${o:+-o "$o"} --size $s
    done
done
measure_like --output=json -O qcow2 --size 10G
for img in c64k.qcow2 c512.qcow2 zstd.qcow2 zmix.qcow2 el2-ov.qcow2 qb-top.qcow2 snap.qcow2 v2.qcow2 src.raw; do
    measure_like "$img"
    measure_like -O qcow2 "$img"
    measure_like -O qcow2 --output=json "$img"
    measure_like -O qcow2 -o cluster_size=4k,extended_l2=off "$img"
    measure_like -O qcow2 -o cluster_size=2M,compat=0.10 "$img"
done

# -l: as of an internal snapshot, by ID or name, as convert takes it
for l in 1 s2 snapshot.id=2 snapshot.name=s1 snapshot.id=1,snapshot.name=s1 nosuch \
         snapshot.id=1,snapshot.name=s2 snapshot.name=s1,bogus=1; do
    measure_like -O qcow2 -l "$l" snap.qcow2
done
measure_like -O qcow2 --output=json -l s1 snap.qcow2
measure_like -l s1 --size 1G

# persistent dirty bitmaps (qemu-img bitmap --add): their clusters, tables
# and directory counted in the target's cluster size
qemu-img create -q -f qcow2 "$T/bm.qcow2" 64M
qemu-img bitmap --add "$T/bm.qcow2" b0
qemu-img bitmap --add -g 512 "$T/bm.qcow2" a-longer-bitmap-name
qemu-img bitmap --add -g 2M "$T/bm.qcow2" coarse
for o in "" cluster_size=4k cluster_size=512 compat=0.10; do
    measure_like -O qcow2 ${o:+-o "$o"} "$T/bm.qcow2"
done
measure_like -O qcow2 --output=json "$T/bm.qcow2"
measure_like -O raw "$T/bm.qcow2"

# what convert writes fits in what measure said
req=$(gimg measure -O qcow2 -o cluster_size=4k --output=json qb-top.qcow2 |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["required"])')
gimg convert -O qcow2 -o cluster_size=4k qb-top.qcow2 "$T/m.qcow2"
ok "the converted image ($(stat -c %s "$T/m.qcow2") bytes) fits in the required size ($req)" \
    test "$(stat -c %s "$T/m.qcow2")" -le "$req"

# errors
measure_like
measure_like --size 1G c64k.qcow2
measure_like --size foo
measure_like --size -1
measure_like -O vmdk --size 1G
measure_like -O foo --size 1G
measure_like -O qcow2 -o foo=bar --size 1G
measure_like -O raw -o foo=1 --size 1G
measure_like -O qcow2 -o cluster_size=3k --size 1G
measure_like -O qcow2 -o cluster_size=512 --size 100T
measure_like -f qcow2 --size 1G
fails_cleanly "measure of a missing image" gimg measure -O qcow2 missing.qcow2
done_testing
