#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg amend -o compat=0.10 on images with internal snapshots, against
# qemu-img (the oracle): zero clusters are expanded in every snapshot's
# tables as well (shared L2 tables in place, a new cluster of zeros counted
# once per table sharing it over a backing file).  The same messages and
# exit status as qemu-img amend on a copy, qemu-img check clean, qemu-img
# info alike, the active state and every snapshot (qemu-img convert -l)
# reading as before, and where qemu 7.2 gets it right, the same bytes as
# qemu-img's.  qemu 7.2 gets it wrong when a guest zeroed a cluster it
# shared with a snapshot (the "shared" shapes): it writes zeros over the
# snapshot's data; gimg drops that entry's reference instead.  Snapshots of
# another disk size are refused as qemu refuses them.  Then qemu-img
# snapshot -a and qemu-io work on the result.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip_all "needs qemu-img and qemu-io"
cd "$T" || exit 1

spec() { # IMG
    qemu-img info --output=json "$1" | grep -E '^ *"(virtual-size|compat|lazy-refcounts|refcount-bits)":' |
        tr -d ' ,' | sort | tr '\n' ' '
}
io() { qemu-io "$@" >/dev/null; }

make_img() { # SHAPE: a.qcow2 with snapshots s1, s2 and zero clusters in each state
    rm -f a.qcow2 base.qcow2 base.raw
    local b=()
    case $1 in
        overlay*|shared-overlay)
            qemu-img create -q -f qcow2 base.qcow2 8M; io -c 'write -P 7 0 8M' base.qcow2
            b=(-b base.qcow2 -F qcow2) ;;
    esac
    [ "$1" = overlay-raw ] && { qemu-img create -q -f raw base.raw 8M; io -f raw -c 'write -P 7 0 8M' base.raw
                                b=(-b base.raw -F raw); }
    qemu-img create -q -f qcow2 -o cluster_size=4k "${b[@]}" a.qcow2 8M
    # zeros plain (unallocated before) and preallocated (over data)
    io -c 'write -P 1 0 512k' -c 'write -z 1M 64k' -c 'write -P 2 2M 64k' -c 'write -z 2M 16k' \
       -c 'write -z -u 3M 8k' a.qcow2
    qemu-img snapshot -c s1 a.qcow2
    # s1's tables stay shared with the active ones where nothing changes
    io -c 'write -z 600k 32k' -c 'write -P 3 1M 4k' -c 'write -z 5M 12k' a.qcow2
    case $1 in shared*) io -c 'write -z 64k 32k' a.qcow2 ;; esac
    qemu-img snapshot -c s2 a.qcow2
    io -c 'write -z 6M 4k' -c 'write -P 4 7M 4k' a.qcow2
    case $1 in shared*) io -c 'write -z 0 8k' a.qcow2 ;; esac
    [ "$1" = resized ] && { qemu-img resize -q a.qcow2 12M; io -c 'write -z 9M 4k' a.qcow2; }
    return 0
}

as_before() { # IMG: every state reads as in a.qcow2 (echoes what does not)
    qemu-img compare -q "$1" a.qcow2 2>/dev/null || echo "the active state"
    for s in s1 s2; do
        qemu-img convert -l snapshot.name=$s -O raw "$1" x.raw
        qemu-img convert -l snapshot.name=$s -O raw a.qcow2 a.raw
        cmp -s x.raw a.raw || echo "snapshot $s"
    done
}

for shape in plain overlay overlay-raw shared shared-overlay resized; do
    make_img $shape
    cp a.qcow2 g.qcow2
    cp a.qcow2 q.qcow2
    gr=0 qr=0
    go=$(gimg amend -o compat=0.10 g.qcow2 2>&1) || gr=$?
    qo=$(qemu-img amend -o compat=0.10 q.qcow2 2>&1) || qr=$?
    is "${go//gimg:/qemu-img:} [exit $gr]" "$qo [exit $qr]" "[$shape] amend -o compat=0.10: as qemu-img"
    if [ "$shape" = resized ]; then
        same_file g.qcow2 a.qcow2 "[$shape] refused: the image is left as it was"
        continue
    fi
    ok "[$shape] qemu-img check clean" qemu-img check -q g.qcow2
    is "$(spec g.qcow2)" "$(spec q.qcow2)" "[$shape] qemu-img info as of qemu's"
    is "$(as_before g.qcow2)" "" "[$shape] the active state and every snapshot read as before"
    qbad=$(as_before q.qcow2; qemu-img check -q q.qcow2 >/dev/null 2>&1 || echo "qemu-img check")
    case $shape in
        shared*) ok "[$shape] (qemu 7.2's own run damages this image: ${qbad//$'\n'/, })" test -n "$qbad" ;;
        *) is "$qbad" "" "[$shape] (qemu 7.2's own run is right)"
           same_file g.qcow2 q.qcow2 "[$shape] the same bytes as qemu-img's" ;;
    esac
    ok "[$shape] qemu-img snapshot -a s1, then qemu-io writes: check clean" \
        sh -c "qemu-img snapshot -a s1 g.qcow2 && qemu-io -c 'write -P 9 0 2M' g.qcow2 >/dev/null &&
               qemu-img check -q g.qcow2"
done
# compat=1.1 on a version 2 image whose snapshot entries are short (no
# extra data, as qemu before 1.1 wrote them): qemu writes the table again
# in version 3 entries; the same bytes, snapshot list and check as qemu's,
# and each snapshot reads as before
rm -f v2.qcow2
qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=4k v2.qcow2 4M
io -c 'write -P 1 0 64k' v2.qcow2
qemu-img snapshot -c s1 v2.qcow2
io -c 'write -P 2 0 64k' -c 'write -z 1M 64k' v2.qcow2
qemu-img snapshot -c second v2.qcow2
python3 - v2.qcow2 <<'PY'
import struct, sys
# the snapshot table in place with no extra data, fixed dates
f = open(sys.argv[1], 'r+b'); d = f.read()
nb, off = struct.unpack('>IQ', d[60:72]); p = off; out = b''
for i in range(nb):
    l1o, l1s, idl, nl, ds, dn, vc, vs, ex = struct.unpack('>QIHHIIQII', d[p:p + 40])
    e = struct.pack('>QIHHIIQII', l1o, l1s, idl, nl, 1700000000 + i, 0, vc, vs, 0)
    e += d[p + 40 + ex:p + 40 + ex + idl + nl]
    out += e + b'\0' * (-len(e) % 8)
    p = (p + 40 + ex + idl + nl + 7) & ~7
f.seek(off); f.write(out + b'\0' * (p - off - len(out)))
PY
cp v2.qcow2 g.qcow2
cp v2.qcow2 q.qcow2
gr=0 qr=0
go=$(gimg amend -p -o compat=1.1 g.qcow2 2>&1 | tr '\r' '\n') || gr=$?
qo=$(qemu-img amend -p -o compat=1.1 q.qcow2 2>&1 | tr '\r' '\n') || qr=$?
is "$go [exit $gr]" "$qo [exit $qr]" "[v2, short entries] amend -p -o compat=1.1: qemu-img's progress"
same_file g.qcow2 q.qcow2 "[v2, short entries] the same bytes as qemu-img's"
is "$(qemu-img snapshot -l g.qcow2)" "$(qemu-img snapshot -l q.qcow2)" "[v2, short entries] qemu-img snapshot -l as of qemu's"
ok "[v2, short entries] qemu-img check clean" qemu-img check -q g.qcow2
for s in s1 second; do
    qemu-img convert -O raw -l "$s" v2.qcow2 x.raw
    qemu-img convert -O raw -l "$s" g.qcow2 y.raw
    same_file y.raw x.raw "[v2, short entries] snapshot $s reads as before"
done

# amend -p: qemu-img's steps (each L1 entry of a downgrade, the refcount
# table walks of a width change, the upgrade's three), the same lines
rm -f p.qcow2 r.qcow2
qemu-img create -q -f qcow2 -o cluster_size=512 p.qcow2 4M
io -c 'write -z 0 1M' -c 'write -P 5 2M 64k' p.qcow2
qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=4k r.qcow2 16M
for c in p.qcow2:compat=0.10 r.qcow2:compat=1.1,refcount_bits=8 p.qcow2:refcount_bits=4 r.qcow2:refcount_bits=4; do
    img=${c%%:*} o=${c#*:}
    cp "$img" g.qcow2
    cp "$img" q.qcow2
    go=$(gimg amend -p -o "$o" g.qcow2 2>&1 | tr '\r' '\n')
    is "${go//gimg:/qemu-img:}" "$(qemu-img amend -p -o "$o" q.qcow2 2>&1 | tr '\r' '\n')" \
       "amend -p -o $o ($img): qemu-img's progress lines"
    ok "amend -p -o $o: qemu-img check clean, the same content" \
        sh -c "qemu-img check -q g.qcow2 && qemu-img compare -q g.qcow2 q.qcow2"
done
done_testing
