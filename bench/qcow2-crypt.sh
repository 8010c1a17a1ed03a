#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Encrypted qcow2 reads: gimg convert -O raw against qemu-img convert -O raw
# with the same --object secret and --image-opts, both through libcrypto's
# AES (AES-NI where the CPU has it: qemu-img is built with gnutls/nettle or
# gcrypt, gimg with OpenSSL).
#
# Builds (once, in bench/out/qcow2-crypt/ or $BENCH_DIR) a raw disk of
# $BENCH_MIB MiB (default 1024) filled with seeded pseudo-random data in
# runs of 1-8 MiB with holes between (about two thirds data), and from it
# with qemu-img convert: luks.qcow2 (aes-256-xts-plain64, encrypt.iter-time
# 200 ms) and aes.qcow2 (the legacy format).  Each is read in full by both
# tools into /dev/shm; the outputs are compared first.  Shown: best wall
# time of $BENCH_RUNS runs, its CPU time, the ratios gimg/qemu-img (below 1:
# gimg is faster), and separately the key derivation, measured as the time
# of `map --output=json` on the image (an open with the key and a few
# L2 lookups: the PBKDF2 of the keyslot and the digest dominate it).
set -euo pipefail
cd "$(dirname "$0")/.."
GK_BIN=${GK_BIN:-$PWD/build/bin}
OUT=${BENCH_DIR:-$PWD/bench/out/qcow2-crypt}
RUNS=${BENCH_RUNS:-3}
MIB=${BENCH_MIB:-1024}
SHM=${BENCH_SHM:-/dev/shm}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "needs /usr/bin/time (Debian package time)" >&2; exit 1; }
[ -x "$GK_BIN/gimg" ] || { echo "no $GK_BIN/gimg: build first" >&2; exit 1; }
command -v qemu-img >/dev/null || { echo "needs qemu-img" >&2; exit 1; }
mkdir -p "$OUT"
printf 'bench pass' >"$OUT/pass.txt"
SEC=(--object "secret,id=sec0,file=$OUT/pass.txt")
opts() { echo "driver=qcow2,file.filename=$1,encrypt.key-secret=sec0"; }

if [ ! -e "$OUT/.done-$MIB" ]; then
    echo "building the images in $OUT (once) ..." >&2
    rm -f "$OUT"/*.raw "$OUT"/*.qcow2 "$OUT"/.done-*
    python3 - "$OUT/disk.raw" "$MIB" <<'EOF'
import random, sys
path, size = sys.argv[1], int(sys.argv[2]) << 20
r = random.Random(20261205)
with open(path, "wb") as f:
    f.truncate(size)
    off = 0
    while True:
        off += r.randrange(0, 4 << 20) & ~0xfff
        n = r.randrange(1 << 20, 8 << 20) & ~0xfff
        if off + n > size:
            break
        f.seek(off)
        f.write(r.randbytes(n))
        off += n
EOF
    qemu-img convert -f raw "$OUT/disk.raw" "${SEC[@]}" -O qcow2 \
        -o encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=200 "$OUT/luks.qcow2"
    qemu-img convert -f raw "$OUT/disk.raw" "${SEC[@]}" -O qcow2 \
        -o encrypt.format=aes,encrypt.key-secret=sec0 "$OUT/aes.qcow2"
    rm -f "$OUT/disk.raw"
    touch "$OUT/.done-$MIB"
fi

# best of RUNS: "wall_seconds cpu_seconds"
measure() { # CMD...
    local best="" t
    for _ in $(seq "$RUNS"); do
        rm -f "$SHM/gk-bench.raw"
        t=$("$TIME" -f '%e %U %S' "$@" 2>&1 >/dev/null | tail -n 1 | awk '{ printf "%s %.2f", $1, $2 + $3 }')
        rm -f "$SHM/gk-bench.raw"
        if [ -z "$best" ] || awk -v a="${t%% *}" -v b="${best%% *}" 'BEGIN { exit !(a < b) }'; then
            best=$t
        fi
    done
    echo "$best"
}
row() { # NAME GIMG_RESULT QEMU_RESULT
    read -r gt gc <<<"$2"
    read -r qt qc <<<"$3"
    awk -v n="$1" -v gt="$gt" -v qt="$qt" -v gc="$gc" -v qc="$qc" 'BEGIN {
        printf "%-22s %8.2f %8.2f %6.2f %8.2f %8.2f %6.2f\n", n, gt, qt, (qt > 0 ? gt / qt : 0),
               gc, qc, (qc > 0 ? gc / qc : 0) }'
}

cat "$OUT"/*.qcow2 >/dev/null
echo "gimg ($(git rev-parse --short HEAD 2>/dev/null || echo '?')), $(qemu-img --version | head -n 1), $MIB MiB images"
echo "$(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC'), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-22s %8s %8s %6s %8s %8s %6s\n' "" "gimg s" "qemu s" ratio "gimg cpu" "qemu cpu" ratio
for img in luks aes; do
    f=$OUT/$img.qcow2
    "$GK_BIN/gimg" convert "${SEC[@]}" --image-opts "$(opts "$f")" -O raw "$SHM/gk-bench-g.raw" 2>/dev/null
    qemu-img convert "${SEC[@]}" --image-opts "$(opts "$f")" -O raw "$SHM/gk-bench-q.raw"
    if ! cmp -s "$SHM/gk-bench-g.raw" "$SHM/gk-bench-q.raw"; then
        echo "$img: gimg and qemu-img outputs differ" >&2
        rm -f "$SHM/gk-bench-g.raw" "$SHM/gk-bench-q.raw"
        exit 1
    fi
    rm -f "$SHM/gk-bench-g.raw" "$SHM/gk-bench-q.raw"
    g=$(measure "$GK_BIN/gimg" convert "${SEC[@]}" --image-opts "$(opts "$f")" -O raw "$SHM/gk-bench.raw")
    q=$(measure qemu-img convert "${SEC[@]}" --image-opts "$(opts "$f")" -O raw "$SHM/gk-bench.raw")
    row "convert $img.qcow2" "$g" "$q"
done
f=$OUT/luks.qcow2
g=$(measure "$GK_BIN/gimg" map --output=json "${SEC[@]}" --image-opts "$(opts "$f")")
q=$(measure qemu-img map --output=json "${SEC[@]}" --image-opts "$(opts "$f")")
row "key derivation (map)" "$g" "$q"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
