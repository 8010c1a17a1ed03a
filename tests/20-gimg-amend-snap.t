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
done_testing
