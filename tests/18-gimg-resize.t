#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg resize against qemu-img resize (the oracle): the same image resized
# by both tools gives the same stdout, stderr and exit status; gimg's result
# passes qemu-img check, has qemu's virtual size, compares equal to qemu's
# (also as of its snapshots), and takes qemu-io writes.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
cd "$T"

# both tools on copies of IMG: same output and status, then the images
resize_like() { # IMG ARGS... SIZE
    local img=$1; shift
    local args=("$@") size=${*: -1}
    unset 'args[-1]'
    local go qo gr=0 qr=0
    go=$(gimg resize "${args[@]}" "g-$img" "$size" 2>&1) || gr=$?
    qo=$(qemu-img resize "${args[@]}" "q-$img" "$size" 2>&1) || qr=$?
    is "${go//gimg:/qemu-img:} [exit $gr]" "$qo [exit $qr]" "$img: resize ${args[*]} $size: as qemu-img"
}

vsize() { # FMT IMG: the virtual size qemu-img info gives (grep: a python3 per call costs more than the test)
    qemu-img info -f "$1" --output=json "$2" | grep -E '^ *"virtual-size":' | head -n 1
}

# gimg's copy is sound and holds what qemu's holds
same_image() { # IMG [FMT]
    local img=$1 fmt=${2:-qcow2}
    if [ "$fmt" = qcow2 ]; then
        ok "$img: qemu-img check clean" qemu-img check -q "g-$img"
    fi
    is "$(vsize "$fmt" "g-$img")" "$(vsize "$fmt" "q-$img")" "$img: the virtual size qemu-img gives"
    ok "$img: qemu-img compare equal to qemu-img's result" qemu-img compare -q -f "$fmt" -F "$fmt" "g-$img" "q-$img"
}

both() { # IMG: copy the prepared image for both tools
    cp "$1" "g-$1"
    cp "$1" "q-$1"
}

pattern() { # IMG: data over the whole 64 MiB
    qemu-io -c 'write -P 0x11 0 1M' -c 'write -P 0x22 5M 3M' -c 'write -P 0x33 20M 100k' \
        -c 'write -P 0x44 40M 24M' "$1" >/dev/null
}

# a sequence of resizes, qcow2 of several shapes.  qemu-img's own shrink
# costs seconds of CPU with 512-byte clusters (~7 s from 311 MiB): make
# check runs the sequence a quarter the size (16 MiB image, the same cuts
# relative to its data); GK_LONG=1 (tests/long/run.sh) at 64 MiB.
sizes=(16M +25M -512M 25M "--shrink 25M" "--shrink 7680k" "--shrink 5000000" "--shrink 1000" "--shrink 2560k"
       +75M -2G "-q +256k" "--shrink 2097152" "--shrink +0" 16M)
data=(-c 'write -P 0x11 0 256k' -c 'write -P 0x22 1280k 768k' -c 'write -P 0x33 5M 25k' -c 'write -P 0x44 10M 6M')
over='write -P 0x55 2M 5M'
if [ "$GK_LONG" = 1 ]; then
    sizes=(64M +100M -512M 100M "--shrink 100M" "--shrink 30M" "--shrink 20000000" "--shrink 1000" "--shrink 10M"
           +300M -2G "-q +1M" "--shrink 8388608" "--shrink +0" 64M)
    data=(-c 'write -P 0x11 0 1M' -c 'write -P 0x22 5M 3M' -c 'write -P 0x33 20M 100k' -c 'write -P 0x44 40M 24M')
    over='write -P 0x55 8M 20M'
fi
for o in "" cluster_size=512 cluster_size=2M cluster_size=4k,refcount_bits=1 extended_l2=on compat=0.10 \
         compression_type=zstd; do
    rm -f a.qcow2
    qemu-img create -q -f qcow2 ${o:+-o "$o"} a.qcow2 "${sizes[0]}"
    qemu-io "${data[@]}" a.qcow2 >/dev/null
    both a.qcow2
    for s in "${sizes[@]:1}"; do
        # shellcheck disable=SC2086
        resize_like a.qcow2 $s
    done
    same_image a.qcow2
    ok "${o:-defaults}: qemu-io writes over the grown part, check clean" \
        sh -c "qemu-io -c '$over' g-a.qcow2 >/dev/null && qemu-img check -q g-a.qcow2"
done

# compressed clusters cut off
rm -f src.raw c.qcow2
truncate -s 64M src.raw
qemu-io -f raw -c 'write -P 0x11 0 1M' -c 'write -P 0x44 40M 24M' src.raw >/dev/null
qemu-img convert -c -O qcow2 src.raw c.qcow2
both c.qcow2
resize_like c.qcow2 --shrink 41M
resize_like c.qcow2 +7M
same_image c.qcow2

# snapshots: shrink and grow keep them (qemu 7.2 allows both)
rm -f s.qcow2
qemu-img create -q -f qcow2 s.qcow2 64M
pattern s.qcow2
qemu-img snapshot -c s1 s.qcow2
qemu-io -c 'write -P 0x66 30M 2M' s.qcow2 >/dev/null
both s.qcow2
resize_like s.qcow2 --shrink 25M
resize_like s.qcow2 +100M
same_image s.qcow2
qemu-img snapshot -a s1 g-s.qcow2
qemu-img snapshot -a s1 q-s.qcow2
same_image s.qcow2

# an overlay grown over a longer backing file: the new part reads as zeros
rm -f base.qcow2 o.qcow2
qemu-img create -q -f qcow2 base.qcow2 64M
pattern base.qcow2
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 o.qcow2 64M
qemu-io -c 'write -P 0x77 0 64k' o.qcow2 >/dev/null
both o.qcow2
resize_like o.qcow2 --shrink 30M
resize_like o.qcow2 +10M
resize_like o.qcow2 50000896
same_image o.qcow2

# metadata preallocation (qcow2): qemu's tables and clusters, the same bytes
for o in cluster_size=4k compat=0.10,cluster_size=4k extended_l2=on,cluster_size=16k; do
    rm -f p.qcow2
    qemu-img create -q -f qcow2 -o "$o" p.qcow2 1M
    qemu-io -c 'write -P 1 0 8k' -c 'write -P 2 1020k 8k' p.qcow2 >/dev/null
    both p.qcow2
    resize_like p.qcow2 --preallocation=metadata +3M
    resize_like p.qcow2 --preallocation=metadata 5000k
    resize_like p.qcow2 --preallocation=metadata --shrink 2M
    same_image p.qcow2
    same_file g-p.qcow2 q-p.qcow2 "[$o] resize --preallocation=metadata: the same bytes as qemu-img's"
    is "$(qemu-img map --output=json g-p.qcow2)" "$(qemu-img map --output=json q-p.qcow2)" \
       "[$o] resize --preallocation=metadata: qemu-img map as of qemu's"
    ok "[$o] qemu-io writes over the preallocated part, check clean" \
        sh -c "qemu-io -c 'write -P 0x5e 1M 3M' g-p.qcow2 >/dev/null && qemu-img check -q g-p.qcow2"
done

# falloc and full (qcow2): the refcount structure rebuilt past the end, the
# data clusters in the file (fallocate, written zeros), the L2 entries;
# the same bytes as qemu-img's, the allocated blocks near qemu's
for o in falloc:cluster_size=4k full:extended_l2=on,cluster_size=16k falloc:cluster_size=512,refcount_bits=1; do
    m=${o%%:*} o=${o#*:}
    rm -f p.qcow2
    qemu-img create -q -f qcow2 -o "$o" p.qcow2 1000k
    qemu-io -c 'write -P 1 0 8k' -c 'write -P 2 996k 4k' p.qcow2 >/dev/null
    [ "$m" = full ] && qemu-img snapshot -c s1 p.qcow2
    both p.qcow2
    resize_like p.qcow2 --preallocation=$m +3M
    resize_like p.qcow2 --preallocation=$m 4M
    same_image p.qcow2
    same_file g-p.qcow2 q-p.qcow2 "[$o] resize --preallocation=$m: the same bytes as qemu-img's"
    is "$(qemu-img map --output=json g-p.qcow2)" "$(qemu-img map --output=json q-p.qcow2)" \
       "[$o] resize --preallocation=$m: qemu-img map as of qemu's"
    a=$(stat -c %b g-p.qcow2) b=$(stat -c %b q-p.qcow2)
    ok "[$o] allocated blocks $a near qemu's $b" test $((a - b)) -le 512 -a $((b - a)) -le 512
done
# over a longer backing file (extended L2: the new subclusters allocated)
rm -f b.qcow2 p.qcow2
qemu-img create -q -f qcow2 b.qcow2 3M
qemu-io -c 'write -P 7 0 3M' b.qcow2 >/dev/null
qemu-img create -q -f qcow2 -o extended_l2=on -b b.qcow2 -F qcow2 p.qcow2 1M
both p.qcow2
resize_like p.qcow2 --preallocation=falloc 3M
same_file g-p.qcow2 q-p.qcow2 "resize --preallocation=falloc over a longer backing file: qemu's bytes"
# an external data file grows, preallocated as asked
rm -f g-p.qcow2 q-p.qcow2 g-p.raw q-p.raw
qemu-img create -q -f qcow2 -o data_file=g-p.raw g-p.qcow2 1M
qemu-img create -q -f qcow2 -o data_file=q-p.raw q-p.qcow2 1M
resize_like p.qcow2 --preallocation=full +2M
is "$(qemu-img map --output=json g-p.qcow2)" "$(qemu-img map --output=json q-p.qcow2 | sed 's/q-p/g-p/g')" \
   "data file, resize --preallocation=full: qemu-img map as of qemu's"
is "$(stat -c %s g-p.raw)" "$(stat -c %s q-p.raw)" "data file, resize --preallocation=full: its size"
a=$(stat -c %b g-p.raw) b=$(stat -c %b q-p.raw)
ok "data file, resize --preallocation=full: its allocated blocks $a near qemu's $b" \
    test $((a - b)) -le 512 -a $((b - a)) -le 512 -a "$a" -ge 4096
resize_like p.qcow2 +1M
is "$(stat -c %s g-p.raw)" "$(stat -c %s q-p.raw)" "data file, resize: it grows with the disk"
resize_like p.qcow2 --preallocation=falloc --shrink 1M

# raw, with -f raw, and probed (qemu-img warns that writes to block 0 are
# restricted: so does gimg, with its own prefix)
rm -f r.raw pr.raw
truncate -s 1M pr.raw
both pr.raw
go=$(gimg resize g-pr.raw +1M 2>&1) && gr=0 || gr=$?
qo=$(qemu-img resize q-pr.raw +1M 2>&1) && qr=0 || qr=$?
is "${go//gimg: warning: /WARNING: } [exit $gr]" "${qo//q-pr/g-pr} [exit $qr]" \
   "probed raw: resize warns as qemu-img does"
rm -f r.raw
truncate -s 1M r.raw
qemu-io -f raw -c 'write -P 0x12 0 1M' r.raw >/dev/null
both r.raw
for s in +1M 100k "--shrink 100k" "--shrink 100001" "--preallocation=full +1M" "--preallocation=falloc +64k" \
         "--preallocation=off 5M" "--preallocation=bogus 6M" "--preallocation=metadata 7M" -- -10M; do
    resize_like r.raw -f raw $s
done
same_image r.raw raw

# errors: qemu-img's messages and status
rm -f e.qcow2
qemu-img create -q -f qcow2 e.qcow2 1M
both e.qcow2
resize_like e.qcow2 foo
resize_like e.qcow2 1.5Q
fails_cleanly "resize without a size" gimg resize e.qcow2
fails_cleanly "resize of a missing file" gimg resize missing.qcow2 1G

# huge, negative and odd sizes, on raw, qcow2 and luks: qemu-img 7.2's
# messages at each step (the size's syntax, "not positive" in its signed
# arithmetic, the largest length any layer takes, the format's and the
# file's own refusals) and the file left as qemu leaves it.  No size here
# makes either tool write much (qcow2 at 1P would: its L1 table).
rm -f h.raw h.qcow2 h.luks
qemu-img create -q -f raw h.raw 1M
qemu-img create -q -f qcow2 h.qcow2 1M
qemu-img create -q -f luks --object secret,id=s,data=pw -o key-secret=s,iter-time=10 h.luks 1M
huge_like() { # TOOL IMG SIZE ARGS...: output, status and the file's size after
    local tool=$1 img=$2 size=$3; shift 3
    local fmt=${img##*.} o r=0
    if [ "$fmt" = luks ]; then
        o=$($tool resize "$@" --object secret,id=s,data=pw \
            --image-opts driver=luks,key-secret=s,file.filename="$img" -- "$size" 2>&1) || r=$?
    else
        o=$($tool resize "$@" -f "$fmt" "$img" -- "$size" 2>&1) || r=$?
    fi
    echo "${o//gimg:/qemu-img:} [exit $r] $(stat -c %s "$img")"
}
for img in h.raw h.qcow2 h.luks; do
    for s in 8E 4E 1E 8191P 9223372036854775807 9223372036854775808 9223372035781033984 9223372035781033985 \
             18446744073709551615 16E 18446744073709551616 99999999999999999999999 99999999999999999999999k \
             +8E +9223372036854775807 +8191P -8E -1M -2M 0 1e3 1.5 0x2M 0x1.5 1.5M; do
        both $img
        is "$(huge_like gimg g-$img $s --shrink)" "$(huge_like qemu-img q-$img $s --shrink)" \
           "$img: resize --shrink $s: as qemu-img"
    done
    for s in 8E 9223372035781033985 +8E; do
        both $img
        is "$(huge_like gimg g-$img $s --preallocation=falloc)" \
           "$(huge_like qemu-img q-$img $s --preallocation=falloc)" "$img: resize --preallocation=falloc $s: as qemu-img"
    done
done
done_testing
