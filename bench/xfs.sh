#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# XFS: gls -lR and gcopy-out of a 1 GiB tree against the kernel reading the
# same raw image through a read-only loop mount, measured in the same run:
#
#   gls -a xfs.img -m /dev/sda -lR /      anchor  find MNT -ls
#   gcopy-out -a xfs.img -m /dev/sda / D  anchor  cp -a MNT/. D
#                                         target  within 2x of the kernel
#   virt-ls -lR, guestfish copy-out       ($BENCH_VIRT_RUNS runs, default
#                                         1; 0 skips them: TCG, minutes)
#
# The tree is a copy of the host's /usr/share (tens of thousands of files)
# topped up to 1 GiB with a few large files, put on a 2 GiB XFS (mkfs.xfs
# defaults) through the kernel once, in $GK_BENCH_DIR/xfs1g.  Best of $BENCH_RUNS (default 3)
# interleaved runs by wall time, from /usr/bin/time -f '%e %M %U %S'.
# Copies go to /dev/shm (tmpfs: the readers are measured, not the host
# filesystem) and are removed after each run, untimed.  Everything is hot
# in the page cache: the image file for gls/gcopy-out, the mounted tree
# for the kernel (both read once before timing).  The outputs are checked
# once: the same paths as find, and gcopy-out's tree against the kernel's
# (diff -r, then owners, modes and mtimes with find -printf).
# The machine is shared: the load average is printed with the results.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
DIR=${GK_BENCH_DIR:-$PWD/bench/out}/xfs1g
RUNS=${BENCH_RUNS:-3}
VRUNS=${BENCH_VIRT_RUNS:-1}
need_time
[ "$(id -u)" = 0 ] || { echo "needs root (loop mounts)" >&2; exit 1; }
IMG=$DIR/xfs.img
W=$(mktemp -d /dev/shm/gkbench.XXXXXX)
MNT=$W/mnt
mkdir -p "$MNT" "$DIR"
cleanup() {
    mountpoint -q "$MNT" && umount "$MNT"
    rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "xfs bench: $*" >&2; exit 1; }

if [ ! -e "$DIR/.done" ]; then
    echo "building the XFS image in $DIR (once) ..." >&2
    rm -f "$IMG"
    truncate -s 2G "$IMG"
    mkfs.xfs -q -f "$IMG"
    mount -o loop,nouuid "$IMG" "$MNT"
    cp -a /usr/share/. "$MNT/"
    # topped up to 1 GiB with a few large files of random bytes
    have=$(du -sb "$MNT" | cut -f1)
    n=0
    while [ "$have" -lt $((1 << 30)) ]; do
        head -c $((48 << 20)) /dev/urandom >"$MNT/large-$n.bin"
        have=$((have + (48 << 20)))
        n=$((n + 1))
    done
    umount "$MNT"
    touch "$DIR/.done"
fi
mount -o ro,loop,nouuid "$IMG" "$MNT"
GA=(--format=raw -a "$IMG" -m /dev/sda)
G() { "$GK_BIN/$1" "${GA[@]}" "${@:2}"; }

# warm both page caches
cat "$IMG" >/dev/null
(cd "$MNT" && find . -type f -print0 | xargs -0 cat >/dev/null)
nfiles=$(cd "$MNT" && find . | wc -l)
bytes=$(du -sb "$MNT" | cut -f1)

# --- correctness first --------------------------------------------------------
(cd "$MNT" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort) >"$W/find.paths"
G gls -R / | LC_ALL=C sort >"$W/gls.paths"
cmp -s "$W/find.paths" "$W/gls.paths" || fail "gls -R lists other paths than find"
mkdir "$W/copy"
G gcopy-out / "$W/copy"
diff -r --no-dereference "$MNT" "$W/copy" >/dev/null || fail "gcopy-out's tree differs (diff -r)"
listing() { # (directory sizes are each filesystem's own)
    (cd "$1" && find . -mindepth 1 -type d -printf '%y %m %U %G %T@ %p\n' -o -printf '%y %m %U %G %s %T@ %p -> %l\n' |
        LC_ALL=C sort)
}
[ "$(listing "$MNT")" = "$(listing "$W/copy")" ] || fail "gcopy-out's modes, owners or mtimes differ"
rm -rf "$W/copy"

# --- timings ----------------------------------------------------------------------
# tm NAME CMD...: one run, "wall rss_kib user sys" appended to $W/NAME
tm() {
    local name=$1
    shift
    "$TIME" -f '%e %M %U %S' -o "$W/t" "$@" >/dev/null 2>"$W/err" || { tail -n 5 "$W/err" >&2; fail "$name failed"; }
    tail -n 1 "$W/t" >>"$W/$name"
}
L0=$(loadavg)
for r in $(seq 1 "$RUNS"); do
    tm gls "$GK_BIN/gls" "${GA[@]}" -lR /
    tm find find "$MNT" -ls
    mkdir "$W/c1"
    tm gcopy "$GK_BIN/gcopy-out" "${GA[@]}" / "$W/c1"
    rm -rf "$W/c1"
    tm cp cp -a "$MNT/." "$W/c2"
    rm -rf "$W/c2"
done
L1=$(loadavg)

best() { sort -n "$W/$1" | head -n 1; }
echo "XFS, $nfiles paths, $((bytes >> 20)) MiB; best of $RUNS (load average $L0 -> $L1)"
echo "(ratio: time against the kernel's, measured in the same rounds)"
printf '%-48s %8s %8s %10s %8s\n' command "wall s" "CPU s" "peak RSS" ratio
row() { # NAME LABEL ANCHOR-NAME
    read -r w m u s < <(best "$1")
    local ratio=""
    if [ -n "${3:-}" ] && [ -s "$W/$3" ]; then
        read -r aw _ < <(best "$3")
        ratio=$(awk -v a="$w" -v b="$aw" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    fi
    printf '%-48s %8s %8s %7d MiB %8s\n' "$2" "$w" "$(awk -v u="$u" -v s="$s" 'BEGIN {print u + s}')" \
        $((m / 1024)) "$ratio"
}
row gls "gls -lR /" find
row find "find MNT -ls (kernel)"
row gcopy "gcopy-out / DIR" cp
row cp "cp -a MNT/. DIR (kernel)"

# libguestfs (an appliance under TCG here): virt-ls, and guestfish's
# copy-out, which is what virt-copy-out runs (virt-copy-out itself insists
# on inspection, and this disk has no operating system)
if [ "$VRUNS" -gt 0 ] && command -v virt-ls >/dev/null; then
    export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
    for r in $(seq 1 "$VRUNS"); do
        tm virtls virt-ls --format=raw -a "$IMG" -m /dev/sda -lR /
        mkdir -p "$W/c3"
        tm virtcopy guestfish --ro --format=raw -a "$IMG" -m /dev/sda copy-out / "$W/c3"
        rm -rf "$W/c3"
    done
    echo "libguestfs, $VRUNS run(s) (load average $(loadavg) at the end)"
    echo "(ratio: against gls -lR and gcopy-out above)"
    row virtls "virt-ls -lR / (TCG)" gls
    row virtcopy "guestfish copy-out / DIR (TCG)" gcopy
fi
exit 0
