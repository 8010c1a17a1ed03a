#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Windows guests and NTFS, against the anchors measured in the same run:
#
# 1. ginspect of the phony Windows guests of test-images/windows.sh (NTFS
#    through libntfs-3g, hives through hivex, applications included), best
#    of $BENCH_RUNS runs (default 20), CPU time and peak RSS, against one
#    run of virt-inspector on the same image (libguestfs' appliance;
#    LIBGUESTFS_BACKEND_SETTINGS=force_tcg unless $BENCH_KVM is set; skip
#    it with BENCH_VIRT=0).  Target: ginspect under 100 ms.
# 2. gcopy-out of a 1 GiB tree (a copy of the host's /usr/share, files of
#    every size, topped up with a few large files) from a raw NTFS image
#    built once through ntfs-3g (bench/out/ntfs1g), against mounting the
#    image with ntfs-3g's FUSE driver (read-only) and cp -a, both into
#    tmpfs (/dev/shm); best of $BENCH_COPY_RUNS runs (default 3); the two
#    copies are compared with diff -r.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
GK_IMAGES=${GK_IMAGES:-$PWD/bench/out}
BD=${GK_BENCH_DIR:-$PWD/bench/out}
RUNS=${BENCH_RUNS:-20}
CRUNS=${BENCH_COPY_RUNS:-3}
need_time
need_tools ginspect
./test-images/build-all.sh "$GK_IMAGES" windows
W=$GK_IMAGES/windows

echo "load average: $(loadavg), $(nproc) CPUs; commit $(commit)"

# ---- 1. ginspect vs virt-inspector ----
# best IMG: "best_wall_ms mean_cpu_ms peak_rss_kib"
best() {
    local img=$1 b=999999999 t0 t1 us cpu rss
    for _ in $(seq 1 "$RUNS"); do
        t0=$(date +%s%N)
        "$GK_BIN/ginspect" -a "$img" >/dev/null 2>&1
        t1=$(date +%s%N)
        us=$(((t1 - t0) / 1000))
        [ "$us" -lt "$b" ] && b=$us
    done
    cpu=$("$TIME" -f '%U %S' bash -c 'for i in $(seq 1 "$1"); do "${@:2}" >/dev/null 2>&1; done' \
        _ "$RUNS" "$GK_BIN/ginspect" -a "$img" 2>&1 | tail -n1 |
        awk -v n="$RUNS" '{printf "%.1f", ($1 + $2) * 1000 / n}')
    rss=$("$TIME" -f %M "$GK_BIN/ginspect" -a "$img" 2>&1 >/dev/null | tail -n1)
    printf '%d.%03d %s %s' $((b / 1000)) $((b % 1000)) "$cpu" "$rss"
}
printf '\n%-34s %10s %8s %12s %14s %8s\n' "ginspect (applications listed)" "wall ms" "cpu ms" "RSS KiB" "virt-insp. s" "ratio"
for img in win10.img win2022.qcow2; do
    set -- $(best "$W/$img")
    gk=$1 cpu=$2 rss=$3 vi=- ratio=-
    if [ "${BENCH_VIRT:-1}" != 0 ] && command -v virt-inspector >/dev/null; then
        settings=force_tcg
        [ -n "${BENCH_KVM:-}" ] && settings=
        t0=$(date +%s%N)
        if LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=$settings \
            virt-inspector -a "$W/$img" >/dev/null 2>&1; then
            t1=$(date +%s%N)
            vi=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", (b - a) / 1e9}')
            ratio=$(awk -v v="$vi" -v g="$gk" 'BEGIN{printf "%.0fx", v * 1000 / g}')
        else
            vi=failed
        fi
    fi
    printf '%-34s %10s %8s %12s %14s %8s\n' "$img" "$gk" "$cpu" "$rss" "$vi" "$ratio"
done

# ---- 2. gcopy-out vs ntfs-3g + cp -a ----
command -v ntfs-3g >/dev/null || { echo "no ntfs-3g: copy benchmark skipped"; exit 0; }
N=$BD/ntfs1g
if [ ! -e "$N/.done" ]; then
    echo "building $N/ntfs1g.img (once) ..." >&2
    rm -rf "$N"; mkdir -p "$N/mnt"
    truncate -s 1600M "$N/ntfs1g.img"
    mkntfs -F -f -q -L BENCH "$N/ntfs1g.img" >/dev/null 2>&1
    ntfs-3g "$N/ntfs1g.img" "$N/mnt"
    cp -r --no-preserve=ownership /usr/share "$N/mnt/share" 2>/dev/null || true
    used=$(du -sm "$N/mnt" | cut -f1)
    i=0
    while [ "$used" -lt 1024 ]; do
        head -c 64M /dev/urandom >"$N/mnt/big-$i.bin"
        i=$((i + 1)); used=$((used + 64))
    done
    umount "$N/mnt"
    touch "$N/.done"
fi
if [ -d /dev/shm ] && [ -w /dev/shm ]; then D=/dev/shm/gk-ntfs-bench; else D=$BD/copy; fi
rm -rf "$D"; mkdir -p "$D/mnt"
trap 'mountpoint -q "$D/mnt" && umount "$D/mnt"; rm -rf "$D"' EXIT
cat "$N/ntfs1g.img" >/dev/null      # warm the cache
fuse_cp() { ntfs-3g -o ro "$1" "$D/mnt" && cp -a "$D/mnt/." "$2" && umount "$D/mnt"; }
fresh() { rm -rf "$1"; mkdir -p "$1"; }   # best_of's PREP: an empty DIR
printf '\n%-50s %8s %8s %14s\n' "copy of a 1 GiB NTFS tree to tmpfs" "wall s" "cpu s" "peak RSS KiB"
set -- $(best_of "$CRUNS" wall 'fresh "$D/gk"' "$GK_BIN/gcopy-out" -a "$N/ntfs1g.img" -m /dev/sda / "$D/gk")
gk=$1
printf '%-50s %8s %8s %14s\n' "gcopy-out -a ntfs1g.img -m /dev/sda / DIR" "$1" "$2" "$3"
export -f fuse_cp; export D
set -- $(best_of "$CRUNS" wall 'fresh "$D/fuse"' bash -c 'fuse_cp "$1" "$2"' _ "$N/ntfs1g.img" "$D/fuse")
printf '%-50s %8s %8s %14s\n' "ntfs-3g -o ro + cp -a + umount (cpu: cp only)" "$1" "$2" "$3"
echo "gcopy-out is $(awk -v a="$1" -v b="$gk" 'BEGIN{printf "%.2f", a / b}')x as fast as ntfs-3g + cp -a"
if diff -r --no-dereference "$D/gk" "$D/fuse" >/dev/null 2>&1; then echo "the copies are the same (diff -r --no-dereference)"; else echo "THE COPIES DIFFER"; fi
