#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Whole-image read speed: gimg convert -O raw against qemu-img convert -O raw.
#
# Builds (once, in bench/out/ or $BENCH_DIR) a 4 GiB guest-like disk: about
# 1 GiB of real data taken from /usr files in runs of 1-16 MiB at scattered
# offsets, explicit zero runs, the rest holes.  Then the same disk as raw,
# qcow2, deflate-compressed qcow2 and an 8-deep qcow2 chain (the base plus 7
# overlays that each write patterns and zeros over it).  Each image is read
# in full by both tools into a file on /dev/shm (removed after each run);
# the best of $BENCH_RUNS runs (by wall time) is shown with the CPU time
# (user+sys) and peak RSS of that run, and the ratios gimg/qemu-img (below
# 1 means gimg is faster / smaller).  On a loaded machine wall time mostly
# measures how much CPU the scheduler grants each program (qemu-img runs
# many short-lived pool threads); CPU time is the steadier figure then, so
# the load average is printed too.  BENCH_RT=1 runs both programs under
# SCHED_FIFO (chrt -f 1, needs root), which stands in for an idle machine:
# the other processes on it no longer decide how much CPU each one gets.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
OUT=${BENCH_DIR:-$PWD/bench/out/qcow2-read}
RUNS=${BENCH_RUNS:-3}
SHM=${BENCH_SHM:-/dev/shm}
RT=()
[ "${BENCH_RT:-0}" = 1 ] && RT=(chrt -f 1)
need_time
need_tools gimg
need_cmds qemu-img
mkdir -p "$OUT"

if [ ! -e "$OUT/.done" ]; then
    echo "building the images in $OUT (once) ..." >&2
    rm -f "$OUT"/*.raw "$OUT"/*.qcow2
    python3 - "$OUT/disk.raw" <<'EOF'
import os, random, sys
path = sys.argv[1]
size = 4 << 30
r = random.Random(20261121)
files = []
for root, dirs, names in os.walk("/usr"):
    dirs.sort()
    for n in sorted(names):
        p = os.path.join(root, n)
        try:
            if os.path.isfile(p) and not os.path.islink(p) and os.path.getsize(p) >= 4096:
                files.append(p)
        except OSError:
            pass
def data(n):
    """n bytes of real file content, files concatenated in a fixed order"""
    out = bytearray()
    while len(out) < n:
        p = files[data.i % len(files)]; data.i += 1
        try:
            with open(p, "rb") as f:
                out += f.read(n - len(out))
        except OSError:
            pass
    return bytes(out)
data.i = 0
with open(path, "wb") as f:
    f.truncate(size)
    off, written = 0, 0
    while off < size - (16 << 20) and written < (1 << 30):
        off += r.randrange(0, 24 << 20) & ~0xfff          # a hole
        n = r.randrange(1 << 20, 16 << 20) & ~0xfff
        f.seek(off)
        if r.random() < 0.1:
            f.write(bytes(n))                              # zeros written as data
        else:
            f.write(data(n)); written += n
        off += n
EOF
    qemu-img convert -O qcow2 "$OUT/disk.raw" "$OUT/disk.qcow2"
    qemu-img convert -c -O qcow2 -o compression_type=zlib "$OUT/disk.raw" "$OUT/deflate.qcow2"
    cp --sparse=always "$OUT/disk.qcow2" "$OUT/chain0.qcow2"
    for i in 1 2 3 4 5 6 7; do
        qemu-img create -q -f qcow2 -b chain$((i - 1)).qcow2 -F qcow2 "$OUT/chain$i.qcow2"
        cmds=()
        for k in 0 1 2 3 4 5 6 7; do
            cmds+=(-c "write -P $((i * 16 + k)) $(( (k * 512 + i * 40) ))M 8M")
        done
        cmds+=(-c "write -z $((i * 300))M 32M")
        qemu-io "${cmds[@]}" "$OUT/chain$i.qcow2" >/dev/null
    done
    touch "$OUT/.done"
fi

cat "$OUT"/*.qcow2 >/dev/null 2>&1 || true # warm the page cache
echo "gimg $("$GK_BIN/gimg" -V | awk '{print $3}') ($(commit)), $(qemu-img --version | head -n 1)"
echo "$(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC'), load average at start: $(loadavg)${RT:+, both under ${RT[*]}}"
vs_head 14 image
for img in disk.raw disk.qcow2 deflate.qcow2 chain7.qcow2; do
    f=$OUT/$img
    fmt=qcow2; [ "$img" = disk.raw ] && fmt=raw
    # the outputs must be the same before the times mean anything
    "$GK_BIN/gimg" convert -f "$fmt" -O raw "$f" "$SHM/gk-bench-g.raw"
    qemu-img convert -f "$fmt" -O raw "$f" "$SHM/gk-bench-q.raw"
    if ! cmp -s "$SHM/gk-bench-g.raw" "$SHM/gk-bench-q.raw"; then
        echo "$img: gimg and qemu-img outputs differ" >&2
        rm -f "$SHM/gk-bench-g.raw" "$SHM/gk-bench-q.raw"
        exit 1
    fi
    rm -f "$SHM/gk-bench-g.raw" "$SHM/gk-bench-q.raw"
    g=$(best_of "$RUNS" wall "rm -f $SHM/gk-bench.raw" "${RT[@]}" \
        "$GK_BIN/gimg" convert -f "$fmt" -O raw ${GIMG_OPTS:-} "$f" "$SHM/gk-bench.raw")
    q=$(best_of "$RUNS" wall "rm -f $SHM/gk-bench.raw" "${RT[@]}" \
        qemu-img convert -f "$fmt" -O raw "$f" "$SHM/gk-bench.raw")
    rm -f "$SHM/gk-bench.raw"
    vs_row 14 "$img" "$g" "$q"
done
echo "load average at end: $(loadavg)"
