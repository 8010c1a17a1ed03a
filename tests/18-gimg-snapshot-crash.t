#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg snapshot -c/-a/-d killed before each of its writes to the image (one
# kill in two tears that write: tests/crash/killafter.c), then:
#   - qemu-img check finds no corruption (exit 0, or 3: leaked clusters);
#   - the image is what it was or what the command makes of it: the active
#     contents, the snapshot table and every snapshot's contents (qemu-img
#     convert, qemu-img snapshot -l are the oracles);
#   - qemu-io writes into it and qemu-img check still finds no corruption.
# make check kills at 4 fixed points spread over each command's writes;
# GK_LONG=1 (tests/long/run.sh) before every write, torn and not.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip_all "needs qemu-img and qemu-io"
command -v cc >/dev/null || skip_all "needs cc for the kill shim"
SO=$T/killafter.so
cc -shared -fPIC -O1 -o "$SO" "$TOP/tests/crash/killafter.c" -ldl || skip_all "cannot build the kill shim"

W=$T/w
mkdir -p "$W"

pristine() { # CLUSTER_SIZE: $W/pristine with a snapshot "old", active data that differs
    rm -f "$W"/pristine "$W"/*.raw
    qemu-img create -q -f qcow2 -o cluster_size=$1 "$W/pristine" 2M
    qemu-io -c 'write -P 0x21 0 1M' "$W/pristine" >/dev/null
    qemu-img snapshot -c old "$W/pristine"
    qemu-io -c 'write -P 0x22 256k 512k' -c 'write -P 0x23 1500k 100k' "$W/pristine" >/dev/null
    qemu-img convert -O raw "$W/pristine" "$W/active.raw"
    qemu-img convert -O raw -l old "$W/pristine" "$W/old.raw"
}

# 0 if snapshot NAME of $W/img is absent, or present and holds RAW
snap_is() { # NAME RAW
    qemu-img snapshot -l "$W/img" | awk 'NR > 2 { print $2 }' | grep -qx "$1" || return 0
    qemu-img convert -O raw -l "snapshot.name=$1" "$W/img" "$W/s.raw" && cmp -s "$W/s.raw" "$2"
}
has_snap() { qemu-img snapshot -l "$W/img" | awk 'NR > 2 { print $2 }' | grep -qx "$1"; }

# what the image may be after a kill, per operation: echoes why not
verify() { # OP
    local rc=0
    qemu-img check "$W/img" >"$W/check.out" 2>&1 || rc=$?
    if [ $rc != 0 ] && [ $rc != 3 ]; then
        echo "qemu-img check exit $rc: $(grep -v '^$' "$W/check.out" | head -n 3 | tr '\n' '|')"; return
    fi
    qemu-img convert -O raw "$W/img" "$W/now.raw" || { echo "cannot read the image"; return; }
    case $1 in
        -c) cmp -s "$W/now.raw" "$W/active.raw" || { echo "active contents changed"; return; }
            snap_is new "$W/active.raw" || { echo "snapshot new is not the active contents"; return; } ;;
        -a) cmp -s "$W/now.raw" "$W/active.raw" || cmp -s "$W/now.raw" "$W/old.raw" ||
                { echo "active contents neither before nor after"; return; } ;;
        -d) cmp -s "$W/now.raw" "$W/active.raw" || { echo "active contents changed"; return; } ;;
    esac
    if [ "$1" != -d ] && ! has_snap old; then echo "snapshot old lost"; return; fi
    snap_is old "$W/old.raw" || { echo "snapshot old changed"; return; }
    qemu-io -c 'write -P 0x7e 100k 1M' "$W/img" >/dev/null 2>&1 || { echo "qemu-io cannot write"; return; }
    rc=0
    qemu-img check "$W/img" >"$W/check.out" 2>&1 || rc=$?
    [ $rc = 0 ] || [ $rc = 3 ] || echo "after qemu-io: qemu-img check exit $rc"
}

for cs in 64k 4k 512; do
    pristine $cs
    for op in "-c new" "-a old" "-d old"; do
        # shellcheck disable=SC2086
        set -- $op
        cp "$W/pristine" "$W/img"
        rm -f "$W/count"
        KILLAFTER_FILE=$W/img KILLAFTER_COUNT=$W/count LD_PRELOAD=$SO gimg snapshot $op "$W/img" 2>"$W/err"
        total=$(cat "$W/count" 2>/dev/null || echo 0)
        why=$(verify "$1")
        is "$why" "" "cluster_size=$cs, snapshot $op, not killed ($total writes)"
        # make check: 4 kill points spread over the writes, torn at every
        # other one; GK_LONG=1: every write, torn and not
        step=$(( total > 4 ? total / 4 : 1 )) parts="0 1" k=0
        [ "$GK_LONG" = 1 ] && step=1
        for ((n = 0; n < total; n += step)); do
            k=$((k + 1))
            [ "$GK_LONG" = 1 ] || parts=$((k % 2))
            for partial in $parts; do
                cp "$W/pristine" "$W/img"
                { KILLAFTER_FILE=$W/img KILLAFTER_N=$n KILLAFTER_PARTIAL=$partial LD_PRELOAD=$SO \
                    gimg snapshot $op "$W/img" >/dev/null 2>&1; } 2>/dev/null
                why=$(verify "$1")
                is "$why" "" "cluster_size=$cs, snapshot $op killed before write $n of $total$([ $partial = 1 ] && echo ', torn')"
            done
        done
    done
done
done_testing
