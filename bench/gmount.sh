#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gmount on the 3 GiB guest of bench/guest.sh, against the anchors measured
# in the same run:
#
#   time to a usable mount: gmount -a guest.qcow2 -i --ro DIR until
#       stat DIR/etc/hostname answers        target < 20 ms, anchor guestmount
#   find DIR | wc -l         (root LV: -m /dev/bench/root)
#   tar cf - DIR | wc -c     (the same tree, every file read)
#   cat of the largest file (by blocks: 200 MB, pseudo-random) > /dev/null
#       for these three the anchor is the kernel's own ext4 on a loop mount
#       of root.raw (the root LV's filesystem as a raw file: the physical
#       limit, no qcow2, no LVM, no FUSE); target within 2x of it for tar
#       and the read
#
# Each gmount and kernel figure: best of $BENCH_RUNS runs (default 3) by wall
# time, each on a fresh mount (so neither the kernel's dentry and attribute
# caches nor FUSE's page cache help; the image files themselves are hot in
# the host's page cache, read once before timing).  guestmount (libguestfs,
# an appliance under TCG: no KVM here) runs $BENCH_VIRT_RUNS times (default 1;
# 0 skips it): its mount time, and find (tar would take many minutes).
# Outputs are checked first: the same find listing and tar byte count
# through gmount and through the kernel.  The load average is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
DIR=${GK_BENCH_DIR:-$PWD/bench/out}/guest3g
RUNS=${BENCH_RUNS:-3}
VRUNS=${BENCH_VIRT_RUNS:-1}
[ "$(id -u)" = 0 ] || { echo "gmount bench: needs root (loop mounts)" >&2; exit 1; }
for t in gmount gumount; do
    [ -x "$GK_BIN/$t" ] || { echo "no $GK_BIN/$t: build first" >&2; exit 1; }
done
if [ ! -e "$DIR/.done" ]; then
    echo "building the 3 GiB guest in $DIR (once, a few minutes) ..." >&2
    ./bench/guest.sh >"$DIR.log" 2>&1 || { tail "$DIR.log" >&2; exit 1; }
fi
IMG=$DIR/guest.qcow2
W=$(mktemp -d)
M=$W/m
mkdir -p "$M"
cleanup() {
    umount -l "$M" 2>/dev/null || true
    fusermount3 -u -z "$M" 2>/dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT
now() { date +%s%N; }
ms() { echo $((($2 - $1) / 1000000)); }

cat "$DIR"/*.qcow2 "$DIR/root.raw" >/dev/null

mount_gm() { "$GK_BIN/gmount" -a "$IMG" -m /dev/bench/root --ro "$M"; }
mount_k() { mount -o loop,ro "$DIR/root.raw" "$M"; }
umount_gm() { "$GK_BIN/gumount" "$M" >/dev/null; }
umount_k() { umount "$M"; }
BIG=$(mount_k && (cd "$M" && find . -type f -printf '%b %p\n' | sort -n | tail -n 1 | cut -d' ' -f2-); umount_k)

# --- correctness first ------------------------------------------------------
mount_k; (cd "$M" && find . | LC_ALL=C sort) >"$W/k.find"; ktar=$(tar cf - -C "$M" . | wc -c); umount_k
mount_gm; (cd "$M" && find . | LC_ALL=C sort) >"$W/g.find"; gtar=$(tar cf - -C "$M" . | wc -c); umount_gm
cmp -s "$W/k.find" "$W/g.find" || { echo "gmount bench: find listings differ" >&2; exit 1; }
[ "$ktar" = "$gtar" ] || { echo "gmount bench: tar sizes differ ($gtar, kernel $ktar)" >&2; exit 1; }
nfiles=$(wc -l <"$W/k.find")

# best MOUNT UMOUNT CMD: best wall ms of $RUNS runs of CMD on a fresh mount
best() {
    local mnt=$1 umnt=$2 b= t0 t1 i; shift 2
    for i in $(seq "$RUNS"); do
        $mnt
        t0=$(now); (cd "$M" && eval "$*") >/dev/null; t1=$(now)
        $umnt
        t=$(ms "$t0" "$t1")
        [ -z "$b" ] || [ "$t" -lt "$b" ] && b=$t
    done
    echo "$b"
}

echo "# gmount bench: $(date -u '+%F %H:%M') UTC, commit $(commit), load $(loadavg)"
echo "# guest: $IMG ($nfiles entries in the root LV, tar $((ktar / 1048576)) MiB), largest file $BIG"

# time to a usable mount
bm=
for i in $(seq "$RUNS"); do
    t0=$(now); "$GK_BIN/gmount" -a "$IMG" -i --ro "$M"; stat "$M/etc/hostname" >/dev/null; t1=$(now)
    umount_gm
    t=$(ms "$t0" "$t1"); [ -z "$bm" ] || [ "$t" -lt "$bm" ] && bm=$t
done
vm=- vf=-
if [ "$VRUNS" -gt 0 ] && command -v guestmount >/dev/null; then
    export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
    for i in $(seq "$VRUNS"); do
        t0=$(now); guestmount -a "$IMG" -i --ro "$M" && stat "$M/etc/hostname" >/dev/null; t1=$(now)
        vm=$(ms "$t0" "$t1")
        t0=$(now); (cd "$M" && find . | wc -l) >/dev/null; t1=$(now)
        vf=$(ms "$t0" "$t1")
        guestunmount "$M" || fusermount3 -u "$M"
    done
fi
gf=$(best mount_gm umount_gm 'find . | wc -l')
kf=$(best mount_k umount_k 'find . | wc -l')
gt=$(best mount_gm umount_gm 'tar cf - . | wc -c')
kt=$(best mount_k umount_k 'tar cf - . | wc -c')
gr=$(best mount_gm umount_gm "cat '$BIG' >/dev/null")
kr=$(best mount_k umount_k "cat '$BIG' >/dev/null")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
printf '%-34s %10s %12s %12s %8s\n' "measure (best of $RUNS, ms)" gmount kernel guestmount "gm/kern"
printf '%-34s %10s %12s %12s %8s\n' "mount -i until stat answers" "$bm" - "$vm" -
printf '%-34s %10s %12s %12s %8s\n' "find | wc -l" "$gf" "$kf" "$vf" "$(ratio "$gf" "$kf")"
printf '%-34s %10s %12s %12s %8s\n' "tar cf - | wc -c" "$gt" "$kt" - "$(ratio "$gt" "$kt")"
printf '%-34s %10s %12s %12s %8s\n' "cat the largest file" "$gr" "$kr" - "$(ratio "$gr" "$kr")"
echo "# load at the end: $(loadavg)"
