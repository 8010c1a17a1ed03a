#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# qcow2 write speed: gimg against qemu-img, measured in the same run, on
# the 4 GiB guest-like disk of bench/qcow2-read.sh (built by it once, in
# bench/out/qcow2-read/ or $BENCH_READ_DIR):
#   convert -O qcow2        disk.raw -> qcow2
#   convert -O qcow2 -c     zlib and zstd
#   commit                  a 1 GiB overlay (128 runs of 8 MiB over the
#                           disk) into a copy of disk.qcow2
#   rebase                  chain7.qcow2 (7 overlays deep) onto chain0.qcow2
#                           in safe mode: copies what chain1..6 changed
# Each result is checked first (qemu-img compare of both tools' outputs).
# Figures per tool: wall s, CPU s (user+sys) and peak RSS (/usr/bin/time
# -f '%e %U %S %M'), best of $BENCH_RUNS (1) by CPU time; ratios gimg/qemu
# (below 1: gimg is faster / smaller).  The machine is shared: CPU time is
# the figure to trust, wall time is printed with the load average.
# Outputs go to $BENCH_SHM (/dev/shm), removed after each run.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
IN=${BENCH_READ_DIR:-$PWD/bench/out/qcow2-read}
OUT=${BENCH_DIR:-$PWD/bench/out/qcow2-write}
RUNS=${BENCH_RUNS:-1}
SHM=${BENCH_SHM:-/dev/shm}/gk-bench-w
need_time
need_tools gimg
need_cmds qemu-img
if [ ! -e "$IN/.done" ]; then
    echo "building bench/qcow2-read.sh's images first ..." >&2
    BENCH_DIR=$IN BENCH_RUNS=1 bench/qcow2-read.sh >/dev/null
fi
mkdir -p "$OUT" "$SHM"
trap 'rm -rf "$SHM"' EXIT
if [ ! -e "$OUT/.done" ]; then
    echo "building the 1 GiB overlay in $OUT (once) ..." >&2
    rm -f "$OUT"/*.qcow2
    qemu-img create -q -f qcow2 -b "$IN/disk.qcow2" -F qcow2 "$OUT/top.qcow2"
    cmds=()
    for k in $(seq 0 127); do
        cmds+=(-c "write -P $((k % 200 + 1)) $((k * 32))M 8M")
    done
    qemu-io "${cmds[@]}" "$OUT/top.qcow2" >/dev/null
    touch "$OUT/.done"
fi

# "wall cpu rss_kib" of CMD, best of RUNS by CPU; PREP runs before each
best() { # PREP CMD...
    local prep=$1 b="" t; shift
    for _ in $(seq "$RUNS"); do
        eval "$prep"
        t=$("$TIME" -f '%e %U %S %M' "$@" 2>&1 >/dev/null | tail -n 1 | awk '{ printf "%s %.2f %s", $1, $2 + $3, $4 }')
        if [ -z "$b" ] || awk -v a="$(echo "$t" | cut -d' ' -f2)" -v c="$(echo "$b" | cut -d' ' -f2)" 'BEGIN { exit !(a < c) }'; then
            b=$t
        fi
    done
    echo "$b"
}

row() { # NAME GIMG_RESULT QEMU_RESULT
    read -r gt gc gm <<<"$2"
    read -r qt qc qm <<<"$3"
    awk -v n="$1" -v gt="$gt" -v qt="$qt" -v gm="$gm" -v qm="$qm" -v gc="$gc" -v qc="$qc" 'BEGIN {
        printf "%-26s %8.2f %8.2f %6.2f %8.2f %8.2f %6.2f %6.1f MiB %6.1f MiB %6.2f\n", n, gt, qt,
               (qt > 0 ? gt / qt : 0), gc, qc, (qc > 0 ? gc / qc : 0),
               gm / 1024, qm / 1024, (qm > 0 ? gm / qm : 0) }'
}

same() { # A B WHAT
    qemu-img compare -q "$1" "$2" || { echo "$3: gimg's and qemu-img's results differ" >&2; exit 1; }
}

echo "gimg ($(git rev-parse --short HEAD 2>/dev/null || echo '?')), $(qemu-img --version | head -n 1)"
echo "$(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC'), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-26s %8s %8s %6s %8s %8s %6s %10s %10s %6s\n' job "gimg s" "qemu s" ratio \
    "gimg cpu" "qemu cpu" ratio "gimg RSS" "qemu RSS" ratio

for c in "" zlib zstd; do
    name="convert -O qcow2${c:+ -c $c}"
    opt=(); [ "$c" ] && opt=(-c -o "compression_type=$c")
    g=$(best "rm -f $SHM/g.qcow2" "$GK_BIN/gimg" convert -f raw -O qcow2 "${opt[@]}" "$IN/disk.raw" "$SHM/g.qcow2")
    q=$(best "rm -f $SHM/q.qcow2" qemu-img convert -f raw -O qcow2 "${opt[@]}" "$IN/disk.raw" "$SHM/q.qcow2")
    same "$SHM/g.qcow2" "$SHM/q.qcow2" "$name"
    rm -f "$SHM"/*.qcow2
    row "$name" "$g" "$q"
done

# commit: fresh copies of the base and the overlay for each run
prep_commit() { # DIR
    rm -rf "$1"; mkdir -p "$1"
    cp --sparse=always "$IN/disk.qcow2" "$1/base.qcow2"
    cp --sparse=always "$OUT/top.qcow2" "$1/top.qcow2"
    qemu-img rebase -q -u -b base.qcow2 -F qcow2 "$1/top.qcow2"
}
g=$(best "prep_commit $SHM/g" "$GK_BIN/gimg" commit -d "$SHM/g/top.qcow2")
q=$(best "prep_commit $SHM/q" qemu-img commit -d "$SHM/q/top.qcow2")
same "$SHM/g/base.qcow2" "$SHM/q/base.qcow2" commit
rm -rf "$SHM/g" "$SHM/q"
row "commit (1 GiB)" "$g" "$q"

# rebase: chain7 onto chain0, safe mode
prep_rebase() { # DIR
    rm -rf "$1"; mkdir -p "$1"
    cp --sparse=always "$IN"/chain*.qcow2 "$1/"
}
g=$(best "prep_rebase $SHM/g" "$GK_BIN/gimg" rebase -b chain0.qcow2 -F qcow2 "$SHM/g/chain7.qcow2")
q=$(best "prep_rebase $SHM/q" qemu-img rebase -b chain0.qcow2 -F qcow2 "$SHM/q/chain7.qcow2")
same "$SHM/g/chain7.qcow2" "$SHM/q/chain7.qcow2" rebase
rm -rf "$SHM/g" "$SHM/q"
row "rebase (7 deep)" "$g" "$q"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
