#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# qcow2 fixtures for gimg and the qcow2 driver, made with qemu-img/qemu-io:
#   OUTDIR/c512.qcow2 c4k.qcow2 c64k.qcow2 c2m.qcow2  each cluster size, the same
#        scattered writes (patterns, zero clusters, explicit zero data)
#   v2.qcow2            compat 0.10
#   zlib.qcow2 zstd.qcow2 zlib-c512.qcow2 zstd-c4k.qcow2 zlib-c2m.qcow2
#                        convert -c of src.raw (text, pseudo-random, zeros, holes)
#   zmix.qcow2          compressed, then overwritten in places (data and zeros)
#   el2.qcow2           extended_l2 with subcluster writes and zeros
#   el2-ov.qcow2        extended_l2 overlay: unallocated subclusters fall through
#   ch1.qcow2..ch16.qcow2  a chain of depth 1..16 on chbase.raw; every overlay is
#                        larger than its backing file, mixed cluster sizes
#   qb-base.qcow2 qb-mid.qcow2 qb-top.qcow2  qcow2 base, a mid layer SHORTER than
#                        its backing file, compat 0.10 in the middle
#   snap.qcow2          internal snapshots s1 (id 1) and s2 (id 2), grown after s1
#   datafile.qcow2      external data file datafile.data
#   datafile-raw.qcow2  external data file with data_file_raw=on
#   lazy.qcow2          lazy refcounts, left dirty by a killed qemu-io (check: 2)
#   leaky.qcow2         one leaked cluster (an L2 entry cleared by hand; check: 3)
#   src.raw, base.raw   raw images (source of the compressed ones; a raw fixture)
# Content is deterministic (patterns and a seeded generator); snapshot dates are
# whatever the clock says, so tests compare against qemu-img on the same files.
set -euo pipefail
out=${1:?usage: qcow2-fixtures.sh OUTDIR}
mkdir -p "$out"
cd "$out"
export LC_ALL=C

q() { qemu-io "$@" >/dev/null; }
mk() { # NAME SIZE [OPTIONS]
    local name=$1 size=$2; shift 2
    rm -f "$name"
    qemu-img create -q -f qcow2 "$@" "$name" "$size"
}

# The same scattered writes for each cluster size (8 MiB disk).
scatter() {
    q -c 'write -P 0xa1 0 100k' \
      -c 'write -P 0xb2 1234k 3k' \
      -c 'write -P 0xc3 448k 512k' \
      -c 'write -z 512k 256k' \
      -c 'write -P 0 3M 128k' \
      -c 'write -P 0x5a 5M 4k' \
      -c 'write -z 6M 1M' \
      -c 'write -P 0xd4 7M 64k' \
      -c 'write -P 0xe5 8388096 512' "$1"
}
for cs in 512 4k 64k 2M; do
    n=c$(echo "$cs" | tr 'KM' 'km').qcow2
    mk "$n" 8M -o cluster_size=$cs
    scatter "$n"
done
mk v2.qcow2 8M -o compat=0.10,cluster_size=4k
scatter v2.qcow2

# A source with text, pseudo-random bytes, explicit zeros and holes.
python3 - <<'EOF'
import random
r = random.Random(42)
size = 8 << 20
with open("src.raw", "wb") as f:
    f.truncate(size)
    text = "".join("line %06d: the quick brown fox jumps over the lazy dog\n" % i
                   for i in range(40000)).encode()
    f.seek(0); f.write(text[:2 << 20])
    f.seek(3 << 20); f.write(bytes(r.getrandbits(8) for _ in range(300 << 10)))
    f.seek((4 << 20) + 512); f.write(bytes(256 << 10))          # zeros written as data
    f.seek(5 << 20); f.write((b"\x11" * 4096 + b"\x00" * 4096) * 64)
    f.seek(size - 4096); f.write(b"end." * 1024)
EOF
cp --sparse=always src.raw base.raw
qemu-img convert -c -O qcow2 -o compression_type=zlib src.raw zlib.qcow2
qemu-img convert -c -O qcow2 -o compression_type=zstd src.raw zstd.qcow2
qemu-img convert -c -O qcow2 -o compression_type=zlib,cluster_size=512 src.raw zlib-c512.qcow2
qemu-img convert -c -O qcow2 -o compression_type=zstd,cluster_size=4k src.raw zstd-c4k.qcow2
qemu-img convert -c -O qcow2 -o compression_type=zlib,cluster_size=2M src.raw zlib-c2m.qcow2
cp zstd.qcow2 zmix.qcow2
q -c 'write -P 0x77 64k 64k' -c 'write -P 0x78 100k 8k' -c 'write -z 1M 128k' \
  -c 'write -P 0x79 7M 4k' zmix.qcow2

# Extended L2: 32 subclusters per cluster.
mk el2.qcow2 8M -o extended_l2=on,cluster_size=64k
q -c 'write -P 0x31 0 4k' -c 'write -z 8k 2k' -c 'write -P 0x32 62k 4k' \
  -c 'write -P 0x33 1M 2k' -c 'write -z 2M 128k' -c 'write -P 0x34 4M 64k' \
  -c 'write -z 4M 32k' el2.qcow2
mk el2-ov.qcow2 8M -o extended_l2=on,cluster_size=64k -b c64k.qcow2 -F qcow2
q -c 'write -P 0x41 2k 2k' -c 'write -z 64k 8k' -c 'write -P 0x42 452k 6k' \
  -c 'write -z 7M 2k' el2-ov.qcow2

# A chain 16 deep on a raw base; overlay i is 1 MiB longer than its backing.
rm -f chbase.raw
truncate -s 4M chbase.raw
q -f raw -c 'write -P 0x10 0 256k' -c 'write -P 0x1f 3M 1M' chbase.raw
prev=chbase.raw pfmt=raw
for i in $(seq 1 16); do
    cs=64k; [ $((i % 3)) = 0 ] && cs=4k; [ $((i % 5)) = 0 ] && cs=512
    mk ch$i.qcow2 $((4 + i))M -o cluster_size=$cs -b "$prev" -F $pfmt
    cmds=(-c "write -P $((i * 7 + 1)) $((i * 1024 + i * 4))k $((64 + i))k")
    [ $((i % 3)) = 0 ] && cmds+=(-c "write -z $(((i - 1) * 1024))k 32k")
    [ $((i % 4)) = 0 ] && cmds+=(-c "write -P $((i + 100)) $((3 + i))M 8k")
    [ $((i % 2)) = 0 ] && cmds+=(-c "write -z $((i * 64))k 4k")
    q "${cmds[@]}" ch$i.qcow2
    prev=ch$i.qcow2 pfmt=qcow2
done

# qcow2 base, a mid layer shorter than its backing file, a longer top.
mk qb-base.qcow2 8M
q -c 'write -P 0x61 0 1M' -c 'write -P 0x62 6M 2M' qb-base.qcow2
mk qb-mid.qcow2 6M -o compat=0.10 -b qb-base.qcow2 -F qcow2
q -c 'write -P 0x63 512k 64k' qb-mid.qcow2
mk qb-top.qcow2 12M -b qb-mid.qcow2 -F qcow2
q -c 'write -P 0x64 5M 2M' -c 'write -z 0 64k' qb-top.qcow2

# Internal snapshots, with writes between them and a resize after s1.
mk snap.qcow2 8M
q -c 'write -P 0x81 0 1M' -c 'write -P 0x82 4M 64k' snap.qcow2
qemu-img snapshot -c s1 snap.qcow2
qemu-img resize -q snap.qcow2 10M
q -c 'write -P 0x83 512k 1M' -c 'write -z 4M 64k' -c 'write -P 0x84 9M 64k' snap.qcow2
qemu-img snapshot -c s2 snap.qcow2
q -c 'write -P 0x85 0 64k' snap.qcow2

# External data files.
rm -f datafile.data datafile-raw.data
mk datafile.qcow2 8M -o data_file=datafile.data
q -c 'write -P 0x91 0 128k' -c 'write -P 0x92 3M 64k' -c 'write -z 64k 64k' datafile.qcow2
mk datafile-raw.qcow2 8M -o data_file=datafile-raw.data,data_file_raw=on
q -c 'write -P 0x93 1M 128k' datafile-raw.qcow2

# Lazy refcounts and a crash: the dirty bit stays set, refcounts are stale.
mk lazy.qcow2 8M -o lazy_refcounts=on
( qemu-io -c 'write -P 0xa5 0 64k' -c 'write -P 0xa6 2M 64k' -c 'sigraise 9' lazy.qcow2 ) \
    >/dev/null 2>&1 || true

# A leaked cluster: guest cluster 1's L2 entry (L2 table at 0x40000) cleared.
mk leaky.qcow2 8M
q -c 'write -P 1 0 64k' -c 'write -P 2 64k 64k' -c 'write -P 3 1M 64k' leaky.qcow2
dd if=/dev/zero of=leaky.qcow2 bs=1 seek=$((0x40008)) count=8 conv=notrunc status=none
qemu-img check leaky.qcow2 >/dev/null 2>&1 && { echo "leaky.qcow2 has no leak" >&2; exit 1; } || true
