#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gcopy-out of the whole root filesystem (~2 GB: ~25 000 small files, four
# 200 MB files, a sparse 500 MB file) of the 3 GiB guest of bench/guest.sh,
# from the qcow2 chain through GPT and LVM, against the anchors in the same
# run: debugfs -R "rdump / DIR" on the root LV's raw filesystem, and 7-Zip
# (7zz x, which reads ext4 images) when it is installed.  Wall time, CPU
# time and peak RSS of each, best of $BENCH_RUNS runs (default 2), warm
# page cache; the copies are checked against each other with diff -r.
# The copies go to tmpfs (/dev/shm, or $BENCH_DEST): on a busy ext4 the
# host's inode allocator (recently_deleted scans after the previous copy
# was removed) dominates whichever tool runs second.
# Target: at least 2x faster than debugfs.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BD=${GK_BENCH_DIR:-$PWD/bench/out}
G=$BD/guest3g
RUNS=${BENCH_RUNS:-2}
need_time
need_tools gcopy-out
[ -e "$G/.done" ] || ./bench/guest.sh >&2
if [ -n "${BENCH_DEST:-}" ]; then W=$BENCH_DEST/gk-copy-bench
elif [ -d /dev/shm ] && [ -w /dev/shm ]; then W=/dev/shm/gk-copy-bench
else W=$BD/copy; fi
rm -rf "$W"; mkdir -p "$W"
trap 'rm -rf "$W"' EXIT
cat "$G/guest.qcow2" "$G/mid.qcow2" "$G/base.qcow2" "$G/root.raw" > /dev/null   # warm the cache

# a fresh, empty DIR before each run (best_of's PREP)
fresh() { rm -rf "$1"; mkdir -p "$1"; }

echo "load average: $(loadavg), $(nproc) CPUs, best of $RUNS runs, copies to $(df --output=fstype "$W" | tail -1) $W"
printf '%-58s %8s %8s %14s\n' "copy of the root filesystem" "wall s" "cpu s" "peak RSS KiB"
set -- $(best_of "$RUNS" wall 'fresh "$W/gk"' "$GK_BIN/gcopy-out" -a "$G/guest.qcow2" -m /dev/bench/root / "$W/gk")
gk=$1
printf '%-58s %8s %8s %14s\n' "gcopy-out -a guest.qcow2 -m /dev/bench/root / DIR" "$1" "$2" "$3"
set -- $(best_of "$RUNS" wall 'fresh "$W/dbg"' debugfs -R "rdump / $W/dbg" "$G/root.raw")
dbg=$1
printf '%-58s %8s %8s %14s\n' "debugfs -R 'rdump / DIR' root.raw" "$1" "$2" "$3"
if command -v 7zz >/dev/null; then
    set -- $(best_of "$RUNS" wall 'fresh "$W/7z"' 7zz x -y -bd -o"$W/7z" "$G/root.raw")
    printf '%-58s %8s %8s %14s\n' "7zz x root.raw" "$1" "$2" "$3"
    rm -rf "$W/7z"
else
    echo "(7zz not installed: Debian package 7zip)"
fi
awk -v a="$dbg" -v b="$gk" 'BEGIN{printf "gcopy-out is %.1fx faster than debugfs rdump\n", a / b}'
# the copies agree (debugfs puts the tree under DIR/ as-is)
if diff -r --no-dereference -x lost+found "$W/gk" "$W/dbg" >/dev/null 2>&1; then
    echo "diff -r gcopy-out debugfs: identical"
else
    echo "diff -r gcopy-out debugfs: DIFFERENT"; diff -rq --no-dereference -x lost+found "$W/gk" "$W/dbg" | head
fi
du -sk "$W/gk" "$W/dbg" | awk '{printf "disk use of %s: %d MiB\n", $2, $1 / 1024}'
