#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg check -r leaks|all against qemu-img check -r (the oracle): on copies
# of the same damaged image both print the same (stdout and stderr), exit
# the same, and leave images that qemu-img check finds as qemu's (clean
# when qemu's is), with the same guest content, that qemu-io writes into.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
command -v python3 >/dev/null || skip_all "needs python3"
dir=$(fixture qcow2-fixtures) || exit 1
cd "$T"

# set the 16-bit refcount of host cluster K of IMG to V (refcount block 0)
set_refcount() { # IMG K V
    python3 - "$@" <<'EOF'
import struct, sys
path, k, v = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, 'r+b') as f:
    h = f.read(104)
    rt = struct.unpack('>Q', h[48:56])[0]
    f.seek(rt)
    rb = struct.unpack('>Q', f.read(8))[0]
    f.seek(rb + 2 * k)
    f.write(struct.pack('>H', v))
EOF
}
# set incompatible feature bits
set_incompat() { # IMG BITS
    python3 - "$@" <<'EOF'
import struct, sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(72)
    v = struct.unpack('>Q', f.read(8))[0] | int(sys.argv[2])
    f.seek(72)
    f.write(struct.pack('>Q', v))
EOF
}

# refcount table entry I of IMG points to OFFSET
set_reftable() { # IMG I OFFSET
    python3 - "$@" <<'EOF'
import struct, sys
with open(sys.argv[1], 'r+b') as f:
    h = f.read(104)
    rt = struct.unpack('>Q', h[48:56])[0]
    f.seek(rt + 8 * int(sys.argv[2]))
    f.write(struct.pack('>Q', int(sys.argv[3], 0)))
EOF
}
# an image of BITS-bit refcounts with more than 65535 references to one
# cluster: every entry of its first L2 table points to its first data
# cluster, 129 L1 entries to that table; the table's refcount set to 129
# and the data cluster's to COUNT (right: 129 * 512 = 66048)
many_refs() { # IMG BITS COUNT
    rm -f "$1"
    qemu-img create -q -f qcow2 -o cluster_size=4k,refcount_bits="$2" "$1" 264M
    qemu-io -c 'write -P 5 0 4k' "$1" >/dev/null
    python3 - "$@" <<'EOF'
import struct, sys
path, bits, dcount = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, 'r+b') as f:
    h = f.read(104)
    cs = 1 << struct.unpack('>I', h[20:24])[0]
    l1off, rt = struct.unpack('>Q', h[40:48])[0], struct.unpack('>Q', h[48:56])[0]
    f.seek(l1off)
    t = struct.unpack('>Q', f.read(8))[0] & 0x00fffffffffffe00
    f.seek(t)
    d = struct.unpack('>Q', f.read(8))[0] & 0x00fffffffffffe00
    f.seek(t)
    f.write(struct.pack('>Q', d) * (cs // 8))
    f.seek(l1off)
    f.write(struct.pack('>Q', t) * 129)
    f.seek(rt)
    rb = struct.unpack('>Q', f.read(8))[0]
    for k, v in ((t // cs, 129), (d // cs, dcount)):
        f.seek(rb + k * bits // 8)
        f.write(struct.pack({16: '>H', 32: '>I', 64: '>Q'}[bits], min(v, (1 << bits) - 1)))
EOF
}

bits() { # IMG: the corrupt and dirty bits qemu-img info reports
    qemu-img info --output=json "$1" | grep -E '^ *"(corrupt|dirty-flag)":' | sed 's/,$//' | sort
}

# The output format changes only what is printed: the --output=json run
# must leave the same bytes as the human one (cmp), which was checked
# against qemu's repair in full.
repair_like() { # IMG MODE OUTPUT
    local img=$1 m=$2 o=$3 go qo gr=0 qr=0
    cp "$img" g.qcow2
    cp "$img" q.qcow2
    go=$(gimg check -r "$m" --output="$o" g.qcow2 2>&1) || gr=$?
    qo=$(qemu-img check -r "$m" --output="$o" q.qcow2 2>&1) || qr=$?
    go=${go//gimg:/qemu-img:}
    is "${go//g.qcow2/q.qcow2} [exit $gr]" "$qo [exit $qr]" "$(basename "$img"): check -r $m --output=$o: as qemu-img"
    if [ "$o" = json ] && [ -e "g-$m-human.qcow2" ]; then
        same_file g.qcow2 "g-$m-human.qcow2" "$(basename "$img"): check -r $m --output=json leaves what the human run leaves"
        return
    fi
    cp g.qcow2 "g-$m-$o.qcow2"
    local gc=0 qc=0
    qemu-img check -q g.qcow2 >/dev/null 2>&1 || gc=$?
    qemu-img check -q q.qcow2 >/dev/null 2>&1 || qc=$?
    is "$gc" "$qc" "$(basename "$img"): check -r $m: qemu-img check afterwards says what it says of qemu's ($qc)"
    if [ "$qc" = 0 ]; then
        # the same bytes are the same content: qemu-img compare of the
        # many*.qcow2 repairs costs 2-8 s of CPU each (66048 clusters, each
        # a request), half this test's time
        if cmp -s g.qcow2 q.qcow2; then
            _tap_result 0 "$(basename "$img"): check -r $m: same content as qemu's repair (the same bytes)"
        else
            ok "$(basename "$img"): check -r $m: same content as qemu's repair" qemu-img compare -q g.qcow2 q.qcow2
        fi
        is "$(bits g.qcow2)" "$(bits q.qcow2)" "$(basename "$img"): check -r $m: corrupt and dirty bits as qemu leaves them"
        ok "$(basename "$img"): check -r $m: qemu-io writes, check clean" \
            sh -c "qemu-io -c 'write -P 0x5a 0 200k' -c 'write -P 0x5b 3M 1M' g.qcow2 >/dev/null && qemu-img check -q g.qcow2"
    fi
}

# images: the fixtures' leak and lazy-refcount dirty image, and made here:
#  high.qcow2    a data cluster's refcount raised to 2 (a leak, and COPIED wrong)
#  low.qcow2     a data cluster shared with a snapshot lowered to 1 (corruption)
#  corrupt.qcow2 consistent, but the corrupt bit set
#  copied.qcow2  refcount 3 on a snapshot-shared cluster (leak) in a snapshot image
cp "$dir/leaky.qcow2" "$dir/lazy.qcow2" .
qemu-img create -q -f qcow2 high.qcow2 8M
qemu-io -c 'write -P 1 0 256k' -c 'write -P 2 4M 64k' high.qcow2 >/dev/null
cp high.qcow2 corrupt.qcow2
set_refcount high.qcow2 5 2
set_incompat corrupt.qcow2 2
qemu-img create -q -f qcow2 low.qcow2 8M
qemu-io -c 'write -P 1 0 256k' low.qcow2 >/dev/null
qemu-img snapshot -c s1 low.qcow2
cp low.qcow2 copied.qcow2
set_refcount low.qcow2 4 1
set_refcount copied.qcow2 4 3

# refcount blocks past the end of the file (qemu grows the file to hold
# them, then rebuilds; a block past 2^63 cannot be held):
#  outside.qcow2  block 1 (no cluster in use in its range) at 2 MiB
#  outside0.qcow2 block 0 (every cluster in use) at 3 MiB
#  far.qcow2      block 1 at 0xfffffffffff00000
# more than 65535 references to a cluster (counted exactly with 32 and 64
# bits): many{32,64}-{ok,low,high}.qcow2, the data cluster's refcount right,
# lowered by 48, raised to 70000
qemu-img create -q -f qcow2 outside.qcow2 8M
qemu-io -c 'write -P 1 0 256k' outside.qcow2 >/dev/null
cp outside.qcow2 outside0.qcow2
cp outside.qcow2 far.qcow2
set_reftable outside.qcow2 1 0x200000
set_reftable outside0.qcow2 0 0x300000
set_reftable far.qcow2 1 0xfffffffffff00000
imgs="outside.qcow2 outside0.qcow2 far.qcow2"
for b in 32 64; do
    many_refs many$b-ok.qcow2 $b 66048
    many_refs many$b-low.qcow2 $b 66000
    many_refs many$b-high.qcow2 $b 70000
    imgs="$imgs many$b-ok.qcow2 many$b-low.qcow2 many$b-high.qcow2"
done

for img in leaky.qcow2 lazy.qcow2 high.qcow2 low.qcow2 corrupt.qcow2 copied.qcow2; do
    rm -f g-*-human.qcow2
    for m in leaks all; do
        for o in human json; do
            repair_like "$img" $m $o
        done
    done
done
for img in $imgs; do
    for m in leaks all; do
        repair_like "$img" $m human
        cp "$img" g.qcow2
        cp "$img" q.qcow2
        gimg check -r $m g.qcow2 >/dev/null 2>&1
        qemu-img check -r $m q.qcow2 >/dev/null 2>&1
        same_file g.qcow2 q.qcow2 "$img: check -r $m: the same bytes as qemu-img's"
    done
done
# 16-bit refcounts cannot count them: qemu's overflow errors, its advice
# (naming its own tool), and no repair (stdout and stderr apart: qemu's
# stdout comes out at its exit)
many_refs many16.qcow2 16 66048
for m in none leaks all; do
    a=(-r $m)
    [ $m = none ] && a=()
    cp many16.qcow2 g.qcow2
    cp many16.qcow2 q.qcow2
    gr=0 qr=0
    gimg check "${a[@]}" g.qcow2 >g.out 2>g.err || gr=$?
    qemu-img check "${a[@]}" q.qcow2 >q.out 2>q.err || qr=$?
    is "$(sed 's/gimg/qemu-img/g; s/g\.qcow2/q.qcow2/g' g.out g.err) [exit $gr]" "$(cat q.out q.err) [exit $qr]" \
       "many16.qcow2: check ${a[*]}: as qemu-img (overflow)"
    same_file g.qcow2 q.qcow2 "many16.qcow2: check ${a[*]}: the same bytes as qemu-img's"
done

# -q and a clean image
qemu-img create -q -f qcow2 clean.qcow2 1M
like_qemu_img "check -r all on a clean image" check -r all clean.qcow2
cp leaky.qcow2 g.qcow2
ok "check -r leaks -q prints nothing on stdout" sh -c "[ -z \"\$(gimg check -q -r leaks g.qcow2 2>/dev/null)\" ]"

# errors
fails_cleanly "check -r foo" gimg check -r foo clean.qcow2
truncate -s 1M r.raw
is "$(gimg check -r all -f raw r.raw 2>&1; echo "exit $?")" \
   "$(qemu-img check -r all -f raw r.raw 2>&1 | sed 's/^qemu-img:/gimg:/'; echo "exit ${PIPESTATUS[0]}")" \
   "check -r on a raw image: as qemu-img (format without checks)"
# formats with checks but no repairs: qemu-img's message and status 63
for f in vdi vmdk vpc; do
    qemu-img create -q -f $f "x.$f" 4M
    is "$(gimg check -r all "x.$f" 2>&1; echo "exit $?")" \
       "$(qemu-img check -r all "x.$f" 2>&1 | sed 's/^qemu-img:/gimg:/'; echo "exit ${PIPESTATUS[0]}")" \
       "check -r all on $f: as qemu-img (no repairs)"
done
done_testing
