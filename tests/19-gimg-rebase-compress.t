#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg rebase -c (qemu-img 8.2's --compress; the qemu-img 7.2 here has no
# -c, so the expected lines are those qemu 8.2 printed for the same steps
# in its iotest 314: "qemu-img check" of each result, with the image end
# offset, which says the compressed clusters were placed as qemu places
# them).  The chains are made by qemu-img and qemu-io 7.2; the results are
# read back by qemu-io (read -P), compared with what the chain read before
# (qemu-img compare), checked by qemu-img check, and written on by qemu-io.
# Then an extended-L2 top (qemu's iotest 271: a whole cluster compressed
# where a subcluster differs), -c with -u (nothing copied) and a kill
# before each write of a rebase -c.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip_all "needs qemu-img and qemu-io"
cd "$T" || exit 1
size=$((48 * 1024 * 1024)) half=$((24 * 1024 * 1024)) third=$((16 * 1024 * 1024))

# after REBASE-DESC: qemu-io reads back the patterns "P OFF LEN ...",
# qemu-img check prints what qemu 8.2 printed (CHECK), the content is
# before.raw's, qemu-io writes on and the check stays clean
after() { # DESC CHECK READS...
    local desc=$1 want=$2 cmds=() rc=0; shift 2
    while [ $# -gt 0 ]; do cmds+=(-c "read -P $1 $2 $3"); shift 3; done
    ok "$desc: qemu-io reads the data back" sh -c '! qemu-io "$@" t.qcow2 | grep -q "Pattern verification failed"' sh "${cmds[@]}"
    is "$(qemu-img check t.qcow2 2>&1)" "$want" "$desc: qemu-img check as qemu 8.2's rebase -c left it"
    ok "$desc: reads as before (qemu-img compare)" qemu-img compare -q -f raw -F qcow2 before.raw t.qcow2
    qemu-io -c 'write -P 0x7e 8k 16k' t.qcow2 >/dev/null 2>&1 && qemu-img check -q t.qcow2 || rc=$?
    is "$rc" 0 "$desc: qemu-io writes on, qemu-img check clean"
}

qemu-img create -q -f raw t.raw "$size"
fails_cleanly "rebase -c of a raw image: Compression not supported" gimg rebase -c -f raw -b "" t.raw
is "$(cat "$T/fc.err")" "gimg: Compression not supported for this file format" "the message is qemu 8.2's"

# onto no backing file: the base's half and the top's, both compressed
qemu-img create -q -f qcow2 t.base "$size"
qemu-img create -q -f qcow2 -b t.base -F qcow2 t.qcow2 "$size"
qemu-io -c "write -c -P 0xaa 0 $half" t.base >/dev/null
qemu-io -c "write -c -P 0xbb $half $half" t.qcow2 >/dev/null
qemu-img convert -O raw t.qcow2 before.raw
ok "rebase -c -b '' (qcow2 base)" gimg rebase -c -f qcow2 -b "" t.qcow2
after "onto nothing" "No errors were found on the image.
768/768 = 100.00% allocated, 100.00% fragmented, 100.00% compressed clusters
Image end offset: 458752" 0xaa 0 $half 0xbb $half $half

# a raw backing file (its data was never compressed)
rm -f t.base t.qcow2
qemu-img create -q -f raw t.base "$half"
qemu-img create -q -f qcow2 -b t.base -F raw t.qcow2 "$size"
qemu-io -f raw -c "write -P 0xaa 0 $half" t.base >/dev/null
qemu-io -c "write -c -P 0xbb $half $half" t.qcow2 >/dev/null
qemu-img convert -O raw t.qcow2 before.raw
ok "rebase -c -b '' (raw base)" gimg rebase -c -f qcow2 -b "" t.qcow2
after "raw base" "No errors were found on the image.
768/768 = 100.00% allocated, 100.00% fragmented, 100.00% compressed clusters
Image end offset: 458752" 0xaa 0 $half 0xbb $half $half

# one image of three taken out of the chain
rm -f t.base t.qcow2
qemu-img create -q -f qcow2 t.base "$size"
qemu-img create -q -f qcow2 -b t.base -F qcow2 t.itmd "$size"
qemu-img create -q -f qcow2 -b t.itmd -F qcow2 t.qcow2 "$size"
qemu-io -c "write -c -P 0xaa 0 $third" t.base >/dev/null
qemu-io -c "write -c -P 0xbb $third $third" t.itmd >/dev/null
qemu-io -c "write -c -P 0xcc $((third * 2)) $third" t.qcow2 >/dev/null
qemu-img convert -O raw t.qcow2 before.raw
ok "rebase -c -b base (itmd out)" gimg rebase -c -f qcow2 -b t.base -F qcow2 t.qcow2
after "itmd out" "No errors were found on the image.
512/768 = 66.67% allocated, 100.00% fragmented, 100.00% compressed clusters
Image end offset: 458752" 0xaa 0 $third 0xbb $third $third 0xcc $((third * 2)) $third
is "$(qemu-img info t.qcow2 | grep '^backing file:')" "backing file: t.base" "itmd out: the backing file is t.base"

# half a cluster less a byte of data: the whole cluster compressed
rm -f t.base t.itmd t.qcow2
qemu-img create -q -f qcow2 t.base 65536
qemu-img create -q -f qcow2 -b t.base -F qcow2 t.qcow2 65536
qemu-io -c "write -P 0xaa 0 32767" t.base >/dev/null
qemu-img convert -O raw t.qcow2 before.raw
ok "rebase -c -b '' (one unaligned piece)" gimg rebase -c -f qcow2 -b "" t.qcow2
after "unaligned piece" "No errors were found on the image.
1/1 = 100.00% allocated, 100.00% fragmented, 100.00% compressed clusters
Image end offset: 393216" 0xaa 0 32767 0 32767 32769

# extended L2: one subcluster of the base differs, the top's cluster is
# written whole, compressed; a cluster the top holds in part keeps its
# own subclusters and gets the rest plainly
rm -f t.base t.qcow2
qemu-img create -q -f qcow2 t.base 1M
qemu-img create -q -f qcow2 -o extended_l2=on -b t.base -F qcow2 t.qcow2 1M
qemu-io -c 'write -P 0xaa 2k 2k' -c 'write -P 0xab 128k 64k' t.base >/dev/null
qemu-io -c 'write -P 0xcc 132k 4k' t.qcow2 >/dev/null
qemu-img convert -O raw t.qcow2 before.raw
ok "rebase -c -b '' (extended L2)" gimg rebase -c -f qcow2 -b "" t.qcow2
ok "extended L2: reads as before" qemu-img compare -q -f raw -F qcow2 before.raw t.qcow2
ok "extended L2: qemu-img check clean" qemu-img check -q t.qcow2
is "$(qemu-img check t.qcow2 | grep compressed)" \
    "2/16 = 12.50% allocated, 50.00% fragmented, 50.00% compressed clusters" \
    "extended L2: two clusters, one compressed"
is "$(qemu-img map --output=json t.qcow2 | grep '"present": true' | grep -c '"offset"')" 1 \
    "extended L2: the partly held cluster is not the compressed one (it has a host offset)"

# -u: nothing is copied, -c changes nothing: byte for byte qemu-img
# rebase -u's result
qemu-img create -q -f qcow2 t.base 1M
qemu-io -c 'write -P 0xaa 0 64k' t.base >/dev/null
qemu-img create -q -f qcow2 -b t.base -F qcow2 t.qcow2 1M
cp t.qcow2 q.qcow2
qemu-img rebase -u -f qcow2 -b "" q.qcow2
ok "rebase -c -u" gimg rebase -c -u -f qcow2 -b "" t.qcow2
same_file t.qcow2 q.qcow2 "-c -u: the file qemu-img rebase -u makes"

# images qemu cannot write compressed clusters into: an external data file
# (qemu 8.2's first compressed write fails with ENOTSUP), an encrypted image
# (qemu-img convert refuses -c with encryption; we do not write clusters in
# the clear).  Refused before anything is written when something would be
# copied, and done (only the backing file changes) when nothing would.
rm -f t.base t.qcow2
qemu-img create -q -f qcow2 t.base 4M
qemu-io -c 'write -P 0xaa 0 1M' t.base >/dev/null
qemu-img create -q -f qcow2 -o data_file=t.data -b t.base -F qcow2 t.qcow2 4M
qemu-io -c 'write -P 0xcc 2M 64k' t.qcow2 >/dev/null
sum=$(cat t.qcow2 t.data | sha256sum)
fails_cleanly "rebase -c of a data-file image that needs a copy" gimg rebase -c -f qcow2 -b "" t.qcow2
is "$(cat "$T/fc.err")" "gimg: error while writing to COW image: Operation not supported" \
    "data file: qemu 8.2's message"
is "$(cat t.qcow2 t.data | sha256sum)" "$sum" "data file: the image and its data file are untouched"
ok "data file: qemu-img check clean after the refusal" qemu-img check -q t.qcow2
qemu-img create -q -f qcow2 t.zbase 4M
qemu-img rebase -u -f qcow2 -b t.zbase -F qcow2 t.qcow2
qemu-img convert -O raw t.qcow2 before.raw
ok "rebase -c of a data-file image over zeros (nothing to copy)" gimg rebase -c -f qcow2 -b "" t.qcow2
is "$(qemu-img info t.qcow2 | grep -c '^backing file')" 0 "data file, nothing to copy: the backing file is gone"
ok "data file, nothing to copy: reads as before (qemu-img compare)" qemu-img compare -q -f raw before.raw t.qcow2
ok "data file, nothing to copy: qemu-img check clean" qemu-img check -q t.qcow2

sec="--object secret,id=s0,data=rebase-key"
eopts() { echo "driver=qcow2,file.filename=$1,encrypt.key-secret=s0"; }
rm -f t.qcow2 t.data
qemu-img create -q -f qcow2 $sec -o encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10 \
    -b t.base -F qcow2 t.qcow2 4M
qemu-io $sec --image-opts "$(eopts t.qcow2)" -c 'write -P 0xcc 2M 64k' >/dev/null
sum=$(sha256sum <t.qcow2)
fails_cleanly "rebase -c of an encrypted image that needs a copy" \
    gimg rebase $sec -c -b "" --image-opts "$(eopts t.qcow2)"
is "$(cat "$T/fc.err")" "gimg: Compression and encryption not supported at the same time" \
    "encrypted: qemu-img convert's message for -c with encryption"
is "$(sha256sum <t.qcow2)" "$sum" "encrypted: the image is untouched"
ok "encrypted: qemu-img check clean after the refusal" qemu-img check -q $sec --image-opts "$(eopts t.qcow2)"
qemu-img rebase $sec -u -b t.zbase -F qcow2 --image-opts "$(eopts t.qcow2)"
qemu-img convert $sec --image-opts "$(eopts t.qcow2)" -O raw before.raw
ok "rebase -c of an encrypted image over zeros (nothing to copy)" \
    gimg rebase $sec -c -b "" --image-opts "$(eopts t.qcow2)"
is "$(qemu-img info t.qcow2 | grep -c '^backing file')" 0 "encrypted, nothing to copy: the backing file is gone"
ok "encrypted, nothing to copy: reads as before (qemu-img compare)" \
    qemu-img compare $sec -q --image-opts "driver=raw,file.filename=before.raw" "$(eopts t.qcow2)"
ok "encrypted, nothing to copy: qemu-img check clean" qemu-img check -q $sec --image-opts "$(eopts t.qcow2)"

# killed before each write (the shim: tests/crash/killafter.c): the image
# reads as before, qemu-img check finds no corruption
if command -v cc >/dev/null && cc -shared -fPIC -O1 -o ka.so "$TOP/tests/crash/killafter.c" -ldl; then
    qemu-img create -q -f qcow2 t.base 4M
    qemu-img create -q -f qcow2 -b t.base -F qcow2 k.qcow2 4M
    qemu-io -c 'write -P 0xaa 0 1M' -c 'write -P 0xab 3M 64k' t.base >/dev/null
    qemu-io -c 'write -P 0xcc 512k 64k' k.qcow2 >/dev/null
    qemu-img convert -O raw k.qcow2 before.raw
    cp k.qcow2 t.qcow2
    KILLAFTER_FILE=t.qcow2 KILLAFTER_COUNT=count LD_PRELOAD=$T/ka.so gimg rebase -c -f qcow2 -b "" t.qcow2
    total=$(($(cat count)))
    bad=
    for n in $(seq 0 $((total - 1))); do
        cp k.qcow2 t.qcow2
        { (KILLAFTER_FILE=t.qcow2 KILLAFTER_N=$n LD_PRELOAD=$T/ka.so gimg rebase -c -f qcow2 -b "" t.qcow2 \
            >/dev/null 2>&1); } 2>/dev/null
        rc=0
        qemu-img check t.qcow2 >/dev/null 2>&1 || rc=$?
        { [ $rc = 0 ] || [ $rc = 3 ]; } && qemu-img compare -q -f raw before.raw t.qcow2 2>/dev/null ||
            bad+=" $n(check $rc)"
    done
    is "${bad:-none}" none "rebase -c killed before each of its $total writes: reads as before, no corruption"
fi
done_testing
