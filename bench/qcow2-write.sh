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
# -f '%e %U %S %M'), the median of $BENCH_RUNS (3) runs each, gimg's and
# qemu-img's runs interleaved so that both see the same load; ratios
# gimg/qemu (below 1: gimg is faster / smaller).  The machine is shared:
# CPU time is the steadier figure, wall time is printed with the load
# average; BENCH_RT=1 runs both under SCHED_FIFO (chrt -f 1, root), which
# stands in for an idle machine.  BENCH_CALLGRIND=1 adds instruction
# counts (valgrind --tool=callgrind, user space only, every thread) of
# both tools converting a 128 MiB slice of the disk: a ratio no load
# changes.
# Outputs go to $BENCH_SHM (/dev/shm), removed after each run.
# BENCH_JOBS picks rows (default "plain zlib zstd commit rebase");
# BENCH_LOCK=FILE takes that lock (flock) around each single run, so that
# SCHED_FIFO runs of several people never overlap (TEAM: the bench lock).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
IN=${BENCH_READ_DIR:-$PWD/bench/out/qcow2-read}
OUT=${BENCH_DIR:-$PWD/bench/out/qcow2-write}
RUNS=${BENCH_RUNS:-3}
RT=()
[ "${BENCH_RT:-0}" = 1 ] && RT=(chrt -f 1)
LOCK=()
[ -n "${BENCH_LOCK:-}" ] && LOCK=(flock "$BENCH_LOCK")
JOBS=" ${BENCH_JOBS:-plain zlib zstd commit rebase} "
want() { [[ $JOBS == *" $1 "* ]]; }
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

# one run: "wall cpu rss_kib" of CMD
one() {
    "${LOCK[@]}" "$TIME" -f '%e %U %S %M' "${RT[@]}" "$@" 2>&1 >/dev/null | tail -n 1 |
        awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }'
}

# median of each column of "wall cpu rss" lines on stdin
median() {
    awk '{ for (i = 1; i <= 3; i++) v[i, NR] = $i }
         END { for (i = 1; i <= 3; i++) {
                   for (a = 1; a <= NR; a++) c[a] = v[i, a]
                   for (a = 1; a <= NR; a++) for (b = a + 1; b <= NR; b++) if (c[b] + 0 < c[a] + 0) { t = c[a]; c[a] = c[b]; c[b] = t }
                   m[i] = NR % 2 ? c[(NR + 1) / 2] : (c[NR / 2] + c[NR / 2 + 1]) / 2 }
               printf "%s %s %s\n", m[1], m[2], m[3] }'
}

# both tools RUNS times, interleaved: sets G and Q to the medians; PREPG
# and PREPQ (shell code) run before each run of gimg and qemu-img; CHECK
# (shell code) after the last pair
pair() { # PREPG PREPQ CHECK -- GIMG_CMD... -- QEMU_CMD...
    local pg=$1 pq=$2 ck=$3 gl="" ql=""; shift 4
    local gc=() qc=()
    while [ "$1" != -- ]; do gc+=("$1"); shift; done
    shift
    qc=("$@")
    for _ in $(seq "$RUNS"); do
        eval "$pg"; gl+="$(one "${gc[@]}")"$'\n'
        eval "$pq"; ql+="$(one "${qc[@]}")"$'\n'
    done
    eval "$ck"
    G=$(printf '%s' "$gl" | median)
    Q=$(printf '%s' "$ql" | median)
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
echo "$(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC'), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)${RT:+, both under ${RT[*]}}; median of $RUNS runs each"
printf '%-26s %8s %8s %6s %8s %8s %6s %10s %10s %6s\n' job "gimg s" "qemu s" ratio \
    "gimg cpu" "qemu cpu" ratio "gimg RSS" "qemu RSS" ratio

for c in "" zlib zstd; do
    want "${c:-plain}" || continue
    name="convert -O qcow2${c:+ -c $c}"
    opt=(); [ "$c" ] && opt=(-c -o "compression_type=$c")
    pair "rm -f $SHM/g.qcow2" "rm -f $SHM/q.qcow2" "same $SHM/g.qcow2 $SHM/q.qcow2 '$name'" -- \
        "$GK_BIN/gimg" convert -f raw -O qcow2 "${opt[@]}" "$IN/disk.raw" "$SHM/g.qcow2" -- \
        qemu-img convert -f raw -O qcow2 "${opt[@]}" "$IN/disk.raw" "$SHM/q.qcow2"
    rm -f "$SHM"/*.qcow2
    row "$name" "$G" "$Q"
done

# commit: fresh copies of the base and the overlay for each run
prep_commit() { # DIR
    rm -rf "$1"; mkdir -p "$1"
    cp --sparse=always "$IN/disk.qcow2" "$1/base.qcow2"
    cp --sparse=always "$OUT/top.qcow2" "$1/top.qcow2"
    qemu-img rebase -q -u -b base.qcow2 -F qcow2 "$1/top.qcow2"
}
want commit && pair "prep_commit $SHM/g" "prep_commit $SHM/q" "same $SHM/g/base.qcow2 $SHM/q/base.qcow2 commit" -- \
    "$GK_BIN/gimg" commit -d "$SHM/g/top.qcow2" -- qemu-img commit -d "$SHM/q/top.qcow2"
rm -rf "$SHM/g" "$SHM/q"
want commit && row "commit (1 GiB)" "$G" "$Q"

# rebase: chain7 onto chain0, safe mode
prep_rebase() { # DIR
    rm -rf "$1"; mkdir -p "$1"
    cp --sparse=always "$IN"/chain*.qcow2 "$1/"
}
want rebase && pair "prep_rebase $SHM/g" "prep_rebase $SHM/q" "same $SHM/g/chain7.qcow2 $SHM/q/chain7.qcow2 rebase" -- \
    "$GK_BIN/gimg" rebase -b chain0.qcow2 -F qcow2 "$SHM/g/chain7.qcow2" -- \
    qemu-img rebase -b chain0.qcow2 -F qcow2 "$SHM/q/chain7.qcow2"
rm -rf "$SHM/g" "$SHM/q"
want rebase && row "rebase (7 deep)" "$G" "$Q"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

[ "${BENCH_CALLGRIND:-0}" = 1 ] || exit 0
command -v valgrind >/dev/null || { echo "BENCH_CALLGRIND=1 needs valgrind" >&2; exit 1; }
# 128 MiB of the disk from 1 GiB on (data and holes), sparse
dd if="$IN/disk.raw" of="$SHM/slice.raw" bs=1M skip=1024 count=128 conv=sparse status=none
# (gimg without its sandbox: valgrind's own system calls are not in its
# seccomp allow-list)
irs() { # CMD...: instructions executed (every thread), from callgrind's summary
    GUESTKIT_NO_SANDBOX=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
        awk '/Collected :/ { print $NF }'
}
echo "callgrind, instructions in user space, converting a 128 MiB slice ($(du -m "$SHM/slice.raw" | cut -f1) MiB of data):"
printf '%-26s %14s %14s %6s\n' job gimg qemu-img ratio
for c in "" zlib zstd; do
    opt=(); [ "$c" ] && opt=(-c -o "compression_type=$c")
    rm -f "$SHM"/*.qcow2
    g=$(irs "$GK_BIN/gimg" convert -f raw -O qcow2 "${opt[@]}" "$SHM/slice.raw" "$SHM/g.qcow2")
    q=$(irs qemu-img convert -f raw -O qcow2 "${opt[@]}" "$SHM/slice.raw" "$SHM/q.qcow2")
    same "$SHM/g.qcow2" "$SHM/q.qcow2" "callgrind convert $c"
    awk -v n="convert -O qcow2${c:+ -c $c}" -v g="$g" -v q="$q" \
        'BEGIN { printf "%-26s %14.0f %14.0f %6.2f\n", n, g, q, (q > 0 ? g / q : 0) }'
done
rm -f "$SHM"/*.qcow2 "$SHM/slice.raw"
