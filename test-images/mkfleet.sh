#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# mkfleet.sh OUTDIR GUESTS-DIR [N]: a fleet of N (200) small guests for
# fleet mode (tests/57-fleet.t, bench/fleet.sh), made in seconds from the
# phony guests of test-images/guests.sh (GUESTS-DIR, their fixture):
#
#   OUTDIR/ref/I.qcow2  one qcow2 overlay per base (4 KiB clusters, about
#                       20 KiB): 0 debian.img (LVM, dpkg), 1 debian.qcow2
#                       (a qcow2 chain), 2 fedora.img (rpmdb.sqlite),
#                       3 usrsplit.img (RHEL-like), 4 alpine.img, 5 arch.img,
#                       6 ubuntu.img
#   OUTDIR/gNNN[ vm].qcow2|.img  the guests: copies of those overlays, every
#                       10th good one a symbolic link to its raw base; every
#                       7th name has a space in it; every 8th guest is bad,
#                       in turn: missing (never made), truncated qcow2, an
#                       unsupported qcow2 version, a missing backing file
#   OUTDIR/list         the N names, one a line (ginspect --each --from)
#   OUTDIR/expect       NAME<TAB>good:I (the base) or bad:KIND, one a line
# Deterministic: the same N give the same fleet.
set -euo pipefail
out=$(realpath "$1") dir=$(realpath "$2") n=${3:-200}
mkdir -p "$out/ref"
rm -f "$out"/g[0-9]* "$out/list" "$out/expect"
bases=(debian.img:raw debian.qcow2:qcow2 fedora.img:raw usrsplit.img:raw alpine.img:raw
       arch.img:raw ubuntu.img:raw)
nb=${#bases[@]}
for i in "${!bases[@]}"; do
    b=${bases[$i]}
    rm -f "$out/ref/$i.qcow2"
    qemu-img create -q -f qcow2 -o cluster_size=4096 -b "$dir/${b%%:*}" -F "${b#*:}" \
        "$out/ref/$i.qcow2"
done
rm -f "$out/ref/nobacking.qcow2"
qemu-img create -q -f qcow2 -o cluster_size=4096 -u -b "$out/gone.img" -F raw \
    "$out/ref/nobacking.qcow2" 64M
head -c 300 "$out/ref/0.qcow2" >"$out/ref/trunc.qcow2"
cp "$out/ref/0.qcow2" "$out/ref/badver.qcow2"
printf '\0\0\0\x09' | dd of="$out/ref/badver.qcow2" bs=1 seek=4 conv=notrunc status=none

: >"$out/list"
: >"$out/expect"
for k in $(seq 1 "$n"); do
    name=$(printf 'g%03d' "$k")
    [ $((k % 7)) = 0 ] && name="$name vm"
    img=$out/$name.qcow2
    if [ $((k % 8)) = 0 ]; then
        case $(( (k / 8) % 4 )) in
        0) kind=missing ;;
        1) kind=trunc; cp "$out/ref/trunc.qcow2" "$img" ;;
        2) kind=badver; cp "$out/ref/badver.qcow2" "$img" ;;
        3) kind=nobacking; cp "$out/ref/nobacking.qcow2" "$img" ;;
        esac
        printf '%s\tbad:%s\n' "$img" "$kind" >>"$out/expect"
    else
        b=$((k % nb))
        base=${bases[$b]}
        if [ $((k % 10)) = 1 ] && [ "${base#*:}" = raw ]; then
            img=$out/$name.img
            ln -s "$dir/${base%%:*}" "$img"
        else
            cp "$out/ref/$b.qcow2" "$img"
        fi
        printf '%s\tgood:%s\n' "$img" "$b" >>"$out/expect"
    fi
    printf '%s\n' "$img" >>"$out/list"
done
