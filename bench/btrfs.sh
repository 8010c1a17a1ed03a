#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gls -lR and gcopy-out of a 1 GiB tree (files of /usr, as they come) on
# a zstd-compressed btrfs (written by the kernel with compress=zstd, as
# Fedora mounts it), against the kernel's own btrfs on a loop mount of the
# same raw image in the same run: find -ls, and cp -a to tmpfs.  The
# kernel is mounted afresh for every run (no page cache of decompressed
# data carried over); the image file itself is in the page cache for both.
# Wall time, CPU time (user+sys; the kernel's work for find and cp is
# their sys time) and peak RSS, best of $BENCH_RUNS runs (default 3).
# The copies are compared with diff -r.  Target: within 2x of the kernel.
# Needs root (loop devices, mount).  BENCH_LIBGUESTFS=1 also times virt-ls
# -lR and guestfish copy-out, what virt-copy-out runs (TCG here: slow).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BD=${GK_BENCH_DIR:-$PWD/bench/out}/btrfs
RUNS=${BENCH_RUNS:-3}
need_time
need_tools gcopy-out
[ "$(id -u)" = 0 ] || { echo "needs root (loop mounts)" >&2; exit 1; }
IMG=$BD/zstd.img
MNT=$BD/mnt
mkdir -p "$BD" "$MNT"
L=
# detach our loop device, if it still is ours (never someone else's that
# got the same number)
detach() {
    local i
    for i in 1 2 3 4 5; do      # the kernel may still hold it just after umount
        [ -n "$L" ] && [ "$(losetup -n -O BACK-FILE "$L" 2>/dev/null)" = "$(realpath "$IMG")" ] || break
        btrfs device scan --forget "$L" 2>/dev/null || true
        losetup -d "$L" 2>/dev/null && break
        sleep 1
    done
    L=
}
cleanup() {
    umount "$MNT" 2>/dev/null || true
    detach
    rm -rf "${W:-/nonexistent}"
}
trap cleanup EXIT

# The image: 1 GiB of /usr files (apparent size), written with compress=zstd.
if [ ! -e "$BD/.done" ]; then
    rm -f "$IMG"
    truncate -s 3G "$IMG"
    mkfs.btrfs -q -f "$IMG" >/dev/null
    L=$(losetup -f --show "$IMG")
    mount -t btrfs -o compress=zstd "$L" "$MNT"
    python3 - "$MNT/usr" <<'EOF'
import os, shutil, sys
dst = sys.argv[1]
total, limit = 0, 1 << 30
for top in ('/usr/share', '/usr/include', '/usr/bin', '/usr/lib'):
    for d, dirs, files in os.walk(top):
        dirs.sort()
        rel = os.path.relpath(d, '/usr')
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for f in sorted(files):
            s = os.path.join(d, f)
            t = os.path.join(dst, rel, f)
            try:
                st = os.lstat(s)
                if os.path.islink(s):
                    os.symlink(os.readlink(s), t)
                elif os.path.isfile(s):
                    shutil.copy2(s, t)
                    total += st.st_size
            except OSError:
                pass
            if total >= limit:
                sys.exit(0)
EOF
    umount "$MNT"
    detach
    touch "$BD/.done"
fi
if [ -n "${BENCH_DEST:-}" ]; then W=$BENCH_DEST/gk-btrfs-bench
elif [ -d /dev/shm ] && [ -w /dev/shm ]; then W=/dev/shm/gk-btrfs-bench
else W=$BD/copy; fi
rm -rf "$W"; mkdir -p "$W"
cat "$IMG" > /dev/null      # warm the page cache for the image file

# timed PREP CMD...: best_of in this shell (no subshell: PREP mounts and
# sets L), its "wall_s cpu_s rss_kib" in $best
timed() {
    best_of "$RUNS" wall "$@" >"$W/.best" || true
    best=$(cat "$W/.best")
}
fresh_mount() {
    umount "$MNT" 2>/dev/null || true
    detach
    L=$(losetup -r -f --show "$IMG")
    mount -t btrfs -o ro "$L" "$MNT"
}

row() { printf '%-52s %8s %8s %14s\n' "$@"; }
echo "load average: $(loadavg), $(nproc) CPUs, best of $RUNS runs, copies to $(df --output=fstype "$W" | tail -1)"
fresh_mount
echo "tree: $(find "$MNT" -type f | wc -l) files, $(du -s --apparent-size -B1M "$MNT" | cut -f1) MiB; image: $(du -B1M "$IMG" | cut -f1) MiB on disk"
row "" "wall s" "cpu s" "peak RSS KiB"
timed "fresh_mount" find "$MNT" -ls; set -- $best
kls=$1; row "kernel: find MNT -ls" "$1" "$2" "$3"
timed "" "$GK_BIN/gls" -a "$IMG" -m /dev/sda -lR /; set -- $best
gls=$1; row "gls -a zstd.img -m /dev/sda -lR /" "$1" "$2" "$3"
timed 'fresh_mount; rm -rf "$W/k"; mkdir -p "$W/k"' cp -a "$MNT/." "$W/k/"; set -- $best
kcp=$1; row "kernel: cp -a MNT/. DIR" "$1" "$2" "$3"
timed 'rm -rf "$W/g"; mkdir -p "$W/g"' "$GK_BIN/gcopy-out" -a "$IMG" -m /dev/sda / "$W/g"; set -- $best
gcp=$1; row "gcopy-out -a zstd.img -m /dev/sda / DIR" "$1" "$2" "$3"
awk -v a="$gls" -v b="$kls" 'BEGIN{printf "gls -lR / kernel find -ls: %.2fx\n", a / b}'
awk -v a="$gcp" -v b="$kcp" 'BEGIN{printf "gcopy-out / kernel cp -a: %.2fx\n", a / b}'
if diff -r --no-dereference "$W/g" "$W/k" >/dev/null 2>&1; then
    echo "diff -r gcopy-out kernel: identical"
else
    echo "diff -r gcopy-out kernel: DIFFERENT"; diff -rq --no-dereference "$W/g" "$W/k" | head
fi
umount "$MNT"; detach
if [ "${BENCH_LIBGUESTFS:-0}" = 1 ]; then
    # -m /dev/sda: the image holds no operating system, so inspection (-i,
    # which virt-copy-out always asks for) would refuse it; guestfish
    # copy-out is what virt-copy-out runs.  One run each (TCG: minutes).
    export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
    RUNS=1
    echo "libguestfs (TCG), 1 run each; load average before: $(loadavg)"
    timed "" virt-ls --format=raw -a "$IMG" -m /dev/sda -lR /; set -- $best
    vls=$1; row "virt-ls -a zstd.img -m /dev/sda -lR /" "$1" "$2" "$3"
    timed 'rm -rf "$W/v"; mkdir -p "$W/v"' guestfish --ro --format=raw -a "$IMG" -m /dev/sda copy-out / "$W/v"; set -- $best
    vcp=$1; row "guestfish -m /dev/sda copy-out / DIR" "$1" "$2" "$3"
    echo "load average after: $(loadavg)"
    awk -v a="$vls" -v b="$gls" -v c="$kls" 'BEGIN{printf "virt-ls -lR / gls -lR: %.0fx; / kernel find -ls: %.0fx\n", a / b, a / c}'
    awk -v a="$vcp" -v b="$gcp" -v c="$kcp" 'BEGIN{printf "guestfish copy-out / gcopy-out: %.0fx; / kernel cp -a: %.1fx\n", a / b, a / c}'
    if diff -r --no-dereference "$W/v" "$W/k" >/dev/null 2>&1; then
        echo "diff -r guestfish-copy-out kernel: identical"
    else
        echo "diff -r guestfish-copy-out kernel: DIFFERENT"; diff -rq --no-dereference "$W/v" "$W/k" | head
    fi
fi
