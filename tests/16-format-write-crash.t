#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The VMDK (monolithicSparse, streamOptimized) and VHDX writers killed
# part way: gimg convert -O FMT of a small disk, SIGKILLed before one of
# its writes to the new image (torn at every other kill point:
# tests/crash/killafter.c), then, with qemu's tools as the oracles:
#   - qemu-img check finds no corruption (exit 0, or 3: leaks);
#   - qemu-img convert -O raw of it reads, sector by sector, either zeros
#     (not written yet) or the source's bytes;
#   - qemu-io writes into it (where the source is zero: a streamOptimized
#     grain is written once) and qemu-img check stays clean.
# The kill points are the writes after the image is created (a file that
# is still being created is no image yet, for qemu-img convert as well).
# make check: 4 kill points per format; GK_LONG=1: every write.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lib-gimg.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip_all "needs qemu-img and qemu-io"
kill_shim || skip_all "needs cc for the kill shim"
W=$T/w
mkdir -p "$W"

# 6 MiB: data in whole and part grains and blocks, a zero run, a tail
qemu-img create -q -f raw "$W/src.raw" 6M
qemu-io -f raw -c 'write -P 0x41 0 1M' -c 'write -P 0x42 1100k 300k' -c 'write -P 0x43 4M 1500k' \
    -c 'write -P 0x44 6100k 44k' "$W/src.raw" >/dev/null
qemu-img create -q -f raw "$W/zero.raw" 6M

opts_of() { # CASE: -O FMT and its options
    case $1 in
        sparse) echo -O vmdk ;;
        stream) echo -O vmdk -o subformat=streamOptimized ;;
        vhdx) echo -O vhdx -o block_size=1M,log_size=1M ;;
    esac
}

# what may be found after a kill: echoes why not
verify() { # FMT
    local why
    why=$(sound "$W/img")
    [ "$why" ] && { echo "$why"; return; }
    qemu-img convert -O raw "$W/img" "$W/now.raw" 2>/dev/null || { echo "qemu-img cannot read it"; return; }
    why=$(old_or_new "$W/now.raw" "$W/zero.raw" "$W/src.raw") ||
        { echo "$why (neither zeros nor the source's)"; return; }
    qemu-io -f "$1" -c 'write -P 0x7e 2M 64k' "$W/img" >/dev/null 2>&1 || { echo "qemu-io cannot write"; return; }
    sound "$W/img"
}

for c in sparse stream vhdx; do
    # shellcheck disable=SC2046
    set -- $(opts_of $c)
    fmt=$2
    shift 2
    rm -f "$W/img"
    : >"$W/img"
    created=$(( $(writes_of "$W/img" gimg create -f "$fmt" "$@" "$W/img" 6M) ))
    : >"$W/img"
    total=$(( $(writes_of "$W/img" gimg convert -O "$fmt" "$@" "$W/src.raw" "$W/img") ))
    ok "$c: gimg convert -O $fmt${*:+ $*}, not killed: qemu-img compare with the source" \
        qemu-img compare "$W/src.raw" "$W/img"
    diag "$c: $total writes, $created of them to create the image"
    is "$(verify "$fmt")" "" "$c: ... and the checks after a kill hold for it"
    [ "$total" -gt "$created" ] || { _tap_result 1 "$c: convert writes after creating the image"; continue; }
    k=0
    for n in $(kill_points $((total - created))); do
        n=$((n + created))
        k=$((k + 1))
        for torn in $([ "$GK_LONG" = 1 ] && echo 0 1 || echo $((k % 2))); do
            : >"$W/img"
            killed "$n" "$torn" "$W/img" gimg convert -O "$fmt" "$@" "$W/src.raw" "$W/img"
            is "$(verify "$fmt")" "" "$c: killed before write $n of $total$([ "$torn" = 1 ] && echo ', torn')"
        done
    done
done
done_testing
