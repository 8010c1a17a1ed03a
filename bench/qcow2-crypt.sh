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
. bench/lib.sh
OUT=${BENCH_DIR:-$PWD/bench/out/qcow2-crypt}
RUNS=${BENCH_RUNS:-3}
MIB=${BENCH_MIB:-1024}
SHM=${BENCH_SHM:-/dev/shm}
need_time
need_tools gimg
need_cmds qemu-img
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

cat "$OUT"/*.qcow2 >/dev/null
echo "gimg ($(commit)), $(qemu-img --version | head -n 1), $MIB MiB images"
echo "$(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC'), load average at start: $(loadavg)"
vs_head 22 ""
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
    g=$(best_of "$RUNS" wall "rm -f $SHM/gk-bench.raw" \
        "$GK_BIN/gimg" convert "${SEC[@]}" --image-opts "$(opts "$f")" -O raw "$SHM/gk-bench.raw")
    q=$(best_of "$RUNS" wall "rm -f $SHM/gk-bench.raw" \
        qemu-img convert "${SEC[@]}" --image-opts "$(opts "$f")" -O raw "$SHM/gk-bench.raw")
    rm -f "$SHM/gk-bench.raw"
    vs_row 22 "convert $img.qcow2" "$g" "$q"
done
f=$OUT/luks.qcow2
g=$(best_of "$RUNS" wall "" "$GK_BIN/gimg" map --output=json "${SEC[@]}" --image-opts "$(opts "$f")")
q=$(best_of "$RUNS" wall "" qemu-img map --output=json "${SEC[@]}" --image-opts "$(opts "$f")")
vs_row 22 "key derivation (map)" "$g" "$q"
echo "load average at end: $(loadavg)"
