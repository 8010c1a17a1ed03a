#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# VMDK, VHD, VHDX and VDI against qemu-img, both in the same run: reading
# (convert -O raw of an image qemu-img made) and writing (convert -O FMT of
# the raw disk, for the formats gimg writes) and converting each to qcow2
# (convert -O qcow2).  The disk (BENCH_SIZE MiB, default 4096) holds a
# quarter of seeded data in runs of 1-8 MiB, the rest holes; half the runs
# are random bytes, half random bytes over 16 letters (deflate makes about
# 60 % of them: grains that really decompress, as a guest's files do);
# built once in bench/out/formats (or $BENCH_DIR).  Output goes to
# /dev/shm.  $BENCH_RUNS (3) runs of each tool, interleaved (gimg, qemu-img,
# gimg, ...), or with BENCH_RACE=1 side by side (both started together, so
# both see the same load on a shared machine); the best of each by wall
# time.  Shown: wall and CPU (user+sys) seconds of each tool and the ratios
# gimg/qemu-img (below 1: gimg faster).  On a loaded machine CPU time is
# the steadier figure.  BENCH_ONLY=REGEX runs the rows it matches.
# BENCH_RT=1 runs both tools under `chrt -f 1` (SCHED_FIFO: the other
# processes of a shared machine no longer decide how much CPU each run
# gets, a stand-in for an idle machine); run it under the bench lock
# (flock /work/wt/.bench.lock) and keep it short (BENCH_SIZE, BENCH_ONLY).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
OUT=${BENCH_DIR:-$PWD/bench/out/formats}
RUNS=${BENCH_RUNS:-3}
SIZE=${BENCH_SIZE:-4096}
ONLY=${BENCH_ONLY:-}
RACE=${BENCH_RACE:-}
RT=()
[ -z "${BENCH_RT:-}" ] || RT=(chrt -f 1)
SHM=${BENCH_SHM:-/dev/shm}
need_time
need_tools gimg
need_cmds qemu-img
mkdir -p "$OUT"
if [ ! -e "$OUT/.done-$SIZE-v2" ]; then
    rm -f "$OUT"/*
    python3 - "$OUT/disk.raw" "$SIZE" <<'PY'
import random, sys
path, size = sys.argv[1], int(sys.argv[2]) << 20
r = random.Random(20261205)
letters = bytes(b"etaoinshrdlucmfw"[x & 15] for x in range(256))
with open(path, "wb") as f:
    f.truncate(size)
    done = k = 0
    while done < size // 4:
        n = r.randint(1, 8) << 20
        off = r.randrange(0, size - n) & ~0xffff
        data = r.randbytes(n)
        k += 1
        f.seek(off); f.write(data.translate(letters) if k % 2 else data); done += n
PY
    qemu-img convert -O vmdk "$OUT/disk.raw" "$OUT/disk.vmdk"
    qemu-img convert -O vmdk -o subformat=streamOptimized "$OUT/disk.raw" "$OUT/stream.vmdk"
    qemu-img convert -O vpc "$OUT/disk.raw" "$OUT/disk.vhd"
    qemu-img convert -O vhdx "$OUT/disk.raw" "$OUT/disk.vhdx"
    qemu-img convert -O vdi "$OUT/disk.raw" "$OUT/disk.vdi"
    touch "$OUT/.done-$SIZE-v2"
fi

# RUNS runs of each tool, interleaved (gimg, qemu-img, gimg, ...) so that
# both see the same load as it drifts; prints "WALL CPU WALL CPU": the best
# wall time of each (and that run's user+sys seconds), gimg first.
timed() { # VAR CMD...: "WALL CPU" of one run into VAR (and $SHM/gk-bench-q.r
          # for the qemu-img run of a race, which runs in a subshell)
    local v=$1 w u s out=${OUTF:-$SHM/gk-bench.out} tf=${TF:-$SHM/gk-bench.t}; shift
    rm -f "$out"
    "${RT[@]}" "$TIME" -f "%e %U %S" -o "$tf" "$@" >/dev/null 2>&1
    read -r w u s <"$tf"
    printf -v "$v" '%s %s' "$w" "$(echo "$u + $s" | bc)"
    [ "$v" != t2 ] || echo "${!v}" >"$SHM/gk-bench-q.r"
    rm -f "$out"
}
better() { [ -z "$1" ] || [ "$(echo "${2% *} < ${1% *}" | bc)" = 1 ]; }
row() { # NAME GIMG-ARGS... -- QEMU-ARGS...
    local name=$1; shift
    if [ -n "$ONLY" ] && ! [[ $name =~ $ONLY ]]; then return 0; fi
    local g=() q=() gr="" qr="" t
    while [ "$1" != -- ]; do g+=("$1"); shift; done; shift
    q=("$@")
    for _ in $(seq "$RUNS"); do
        if [ -n "$RACE" ]; then # side by side: the same load for both
            OUTF=$SHM/gk-bench-q.out TF=$SHM/gk-bench-q.t timed t2 qemu-img "${q[@]/gk-bench.out/gk-bench-q.out}" &
            timed t "$GK_BIN/gimg" "${g[@]}"
            wait
            read -r t2 <"$SHM/gk-bench-q.r"
            if better "$gr" "$t"; then gr=$t; fi
            if better "$qr" "$t2"; then qr=$t2; fi
            continue
        fi
        timed t "$GK_BIN/gimg" "${g[@]}"; if better "$gr" "$t"; then gr=$t; fi
        timed t qemu-img "${q[@]}"; if better "$qr" "$t"; then qr=$t; fi
    done
    rm -f "$SHM/gk-bench.out" "$SHM/gk-bench.t"
    printf "%-40s %6s %6s   %6s %6s   %5.2f %5.2f\n" "$name" ${gr% *} ${gr#* } ${qr% *} ${qr#* } \
        "$(echo "${gr% *} / ${qr% *}" | bc -l)" "$(echo "${gr#* } / ${qr#* }" | bc -l)"
}
echo "formats bench: ${SIZE} MiB disk, best of $RUNS$([ -n "$RACE" ] && echo ' side by side' || echo ' interleaved')${RT:+ under chrt -f 1}, load $(cut -d' ' -f1-3 /proc/loadavg), $(git rev-parse --short HEAD 2>/dev/null)"
printf "%-40s %6s %6s   %6s %6s   %5s %5s\n" "" "gimg" "" "qemu" "" "wall" "cpu"
printf "%-40s %6s %6s   %6s %6s   %5s %5s\n" "" "wall" "cpu" "wall" "cpu" "ratio" "ratio"
for f in disk.vmdk stream.vmdk disk.vhd disk.vhdx disk.vdi; do
    row "read $f (convert -O raw)" convert -O raw "$OUT/$f" "$SHM/gk-bench.out" -- \
        convert -O raw "$OUT/$f" "$SHM/gk-bench.out"
done
for f in disk.vmdk stream.vmdk disk.vhd disk.vhdx disk.vdi; do
    row "qcow2 from $f (convert -O qcow2)" convert -O qcow2 "$OUT/$f" "$SHM/gk-bench.out" -- \
        convert -O qcow2 "$OUT/$f" "$SHM/gk-bench.out"
done
row "write vmdk (convert -O vmdk)" convert -O vmdk "$OUT/disk.raw" "$SHM/gk-bench.out" -- \
    convert -O vmdk "$OUT/disk.raw" "$SHM/gk-bench.out"
row "write streamOptimized vmdk" convert -O vmdk -o subformat=streamOptimized "$OUT/disk.raw" "$SHM/gk-bench.out" -- \
    convert -O vmdk -o subformat=streamOptimized "$OUT/disk.raw" "$SHM/gk-bench.out"
row "write vhdx (convert -O vhdx)" convert -O vhdx "$OUT/disk.raw" "$SHM/gk-bench.out" -- \
    convert -O vhdx "$OUT/disk.raw" "$SHM/gk-bench.out"
