#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hand-crafted hostile qcow2 images: real qemu-img images with bytes poked in.
#   OUTDIR/open-*.qcow2   must be refused when opened (gimg info and convert fail)
#   OUTDIR/read-*.qcow2   open fine (qemu-img info works too) but reading the
#                         poked cluster must fail (gimg convert fails)
#   OUTDIR/untrusted-*.qcow2  fine when trusted, refused with GUESTKIT_UNTRUSTED=1
# Offsets are those of a fresh 64 KiB-cluster image made by qemu-img 7.2:
# header 0, refcount table 0x10000, refcount block 0x20000, L1 0x30000, the
# first L2 table 0x40000, the first data cluster 0x50000.
set -euo pipefail
out=${1:?usage: qcow2-hostile.sh OUTDIR}
mkdir -p "$out"
cd "$out"
export LC_ALL=C

poke() { # FILE OFFSET HEX
    printf "$(printf '%s' "$3" | sed 's/../\\x&/g')" | dd of="$1" bs=1 seek=$(($2)) conv=notrunc status=none
}
put32() { poke "$1" "$2" "$(printf '%08x' $(($3)))"; }
put64() { poke "$1" "$2" "$(printf '%016x' $(($3)))"; }

# A small image with data in the first cluster (L2 at 0x40000, data at 0x50000).
mkdata() { # NAME [qemu-img create options]
    rm -f "$1"
    qemu-img create -q -f qcow2 ${2:+-o "$2"} "$1" 1M
    qemu-io -c 'write -P 0x5a 0 64k' "$1" >/dev/null
}
mkcomp() { # NAME TYPE: one compressed cluster at 0 (its stream at 0x50000)
    rm -f "$1" src-$2.raw
    head -c 65536 /usr/bin/qemu-img >src-$2.raw
    truncate -s 1M src-$2.raw
    qemu-img convert -c -O qcow2 -o compression_type=$2 src-$2.raw "$1"
    rm -f src-$2.raw
}

# ---- the header ----
mkdata good.qcow2
head -c 50 good.qcow2 >open-truncated-header.qcow2
head -c 90 good.qcow2 >open-truncated-v3-header.qcow2
cp good.qcow2 open-version-4.qcow2;        put32 open-version-4.qcow2 4 4
cp good.qcow2 open-cluster-bits-30.qcow2;  put32 open-cluster-bits-30.qcow2 20 30
cp good.qcow2 open-cluster-bits-8.qcow2;   put32 open-cluster-bits-8.qcow2 20 8
cp good.qcow2 open-header-length-huge.qcow2; put32 open-header-length-huge.qcow2 100 0xffffffff
cp good.qcow2 open-header-length-short.qcow2; put32 open-header-length-short.qcow2 100 64
cp good.qcow2 open-refcount-order-7.qcow2; put32 open-refcount-order-7.qcow2 96 7
cp good.qcow2 open-size-huge.qcow2;        put64 open-size-huge.qcow2 24 0x4000000000000000
cp good.qcow2 open-l1-too-small.qcow2;     put64 open-l1-too-small.qcow2 24 0x100000000000
cp good.qcow2 open-compression-type-9.qcow2; poke open-compression-type-9.qcow2 104 09
# unknown incompatible bit 5, named in the feature-name table (first entry)
cp good.qcow2 open-unknown-incompat.qcow2
put64 open-unknown-incompat.qcow2 72 0x20
poke open-unknown-incompat.qcow2 0x78 0005$(printf 'evil feature' | xxd -p)00
# an incompatible bit nobody names
cp good.qcow2 open-unknown-incompat-unnamed.qcow2; put64 open-unknown-incompat-unnamed.qcow2 72 0x8000
# header extension longer than the cluster
cp good.qcow2 open-extension-too-large.qcow2; put32 open-extension-too-large.qcow2 0x74 0x7ffffff0

# ---- L1 ----
cp good.qcow2 open-l1-size-huge.qcow2;     put32 open-l1-size-huge.qcow2 36 0x7fffffff
cp good.qcow2 open-l1-past-end.qcow2;      put64 open-l1-past-end.qcow2 40 0x7fff0000
cp good.qcow2 open-l1-unaligned.qcow2;     put64 open-l1-unaligned.qcow2 40 0x30008
cp good.qcow2 open-l1-over-header.qcow2;   put64 open-l1-over-header.qcow2 40 0

# ---- refcount table ----
cp good.qcow2 open-reftable-over-header.qcow2; put64 open-reftable-over-header.qcow2 48 0
cp good.qcow2 open-reftable-huge.qcow2;    put32 open-reftable-huge.qcow2 56 0xffffffff
cp good.qcow2 open-reftable-zero.qcow2;    put32 open-reftable-zero.qcow2 56 0
cp good.qcow2 open-reftable-unaligned.qcow2; put64 open-reftable-unaligned.qcow2 48 0x10200

# ---- snapshots ----
cp good.qcow2 open-snapshots-huge-count.qcow2
put32 open-snapshots-huge-count.qcow2 60 0xffffffff; put64 open-snapshots-huge-count.qcow2 64 0x10000
cp good.qcow2 open-snapshots-past-end.qcow2
put32 open-snapshots-past-end.qcow2 60 65536; put64 open-snapshots-past-end.qcow2 64 0x60000
cp good.qcow2 open-snapshots-unaligned.qcow2
put32 open-snapshots-unaligned.qcow2 60 1; put64 open-snapshots-unaligned.qcow2 64 0x10010

# a snapshot whose L1 table lies past the end (refused when that snapshot is opened)
cp good.qcow2 snap-bad-l1.qcow2
qemu-img snapshot -c one snap-bad-l1.qcow2
so=$((0x$(xxd -s 64 -l 8 -p snap-bad-l1.qcow2)))
put64 snap-bad-l1.qcow2 $so 0x7fff0000

# ---- L2 and data clusters (found when reading) ----
cp good.qcow2 read-l2-past-end.qcow2;      put64 read-l2-past-end.qcow2 0x30000 0x800000007fff0000
cp good.qcow2 read-l2-unaligned.qcow2;     put64 read-l2-unaligned.qcow2 0x30000 0x8000000000040200
cp good.qcow2 read-data-past-end.qcow2;    put64 read-data-past-end.qcow2 0x40000 0x800000007fff0000
cp good.qcow2 read-data-unaligned.qcow2;   put64 read-data-unaligned.qcow2 0x40000 0x8000000000050200
# a zero flag in a version 2 image
rm -f v2.qcow2; mkdata v2.qcow2 compat=0.10
cp v2.qcow2 read-zero-flag-in-v2.qcow2;    put64 read-zero-flag-in-v2.qcow2 0x40000 0x8000000000050001
rm -f v2.qcow2
# extended L2: a subcluster both allocated and zero
mkdata el2.qcow2 extended_l2=on
cp el2.qcow2 read-extl2-bad-bitmap.qcow2;  put64 read-extl2-bad-bitmap.qcow2 0x40008 0x00000001ffffffff
cp el2.qcow2 read-extl2-alloc-no-offset.qcow2; put64 read-extl2-alloc-no-offset.qcow2 0x40000 0
rm -f el2.qcow2

# ---- compressed clusters ----
mkcomp zlib.qcow2 zlib
mkcomp zstd.qcow2 zstd
# descriptor: compressed bit, one extra sector, host offset far past the end
cp zlib.qcow2 read-compressed-past-end.qcow2
put64 read-compressed-past-end.qcow2 0x40000 $(( (1 << 62) | (1 << 54) | 0x7fff0000 ))
cp zlib.qcow2 read-compressed-over-header.qcow2
put64 read-compressed-over-header.qcow2 0x40000 $(( (1 << 62) | (1 << 54) | 0x100 ))
cp zlib.qcow2 read-garbage-deflate.qcow2
poke read-garbage-deflate.qcow2 0x50000 ffffffffffffffffffffffffffffffffffffffffffffffff
# a deflate stream cut short: the file ends 64 bytes into it
cp zlib.qcow2 read-truncated-deflate.qcow2
truncate -s $((0x50000 + 64)) read-truncated-deflate.qcow2
cp zstd.qcow2 read-garbage-zstd.qcow2
poke read-garbage-zstd.qcow2 0x50000 28b52ffd00ffffffffffffffffffffffffffffffffffffff
cp zstd.qcow2 read-truncated-zstd.qcow2
truncate -s $((0x50000 + 64)) read-truncated-zstd.qcow2
rm -f zlib.qcow2 zstd.qcow2

# ---- backing files ----
qemu-img create -q -f qcow2 base.qcow2 1M
rebase() { # NAME BACKING FORMAT
    rm -f "$1"
    qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 "$1" 1M
    qemu-img rebase -u -b "$2" -F "$3" "$1"
}
rebase open-backing-self.qcow2 open-backing-self.qcow2 qcow2
rebase open-backing-loop-a.qcow2 open-backing-loop-b.qcow2 qcow2
rebase open-backing-loop-b.qcow2 open-backing-loop-a.qcow2 qcow2
rebase open-backing-json.qcow2 'json:{"driver":"raw","file":{"driver":"file","filename":"/etc/passwd"}}' raw
rebase open-backing-nbd.qcow2 'nbd://localhost:10809/disk' raw
rebase open-backing-http.qcow2 'http://example.com/disk.img' raw
rebase open-backing-directory.qcow2 . raw
rebase open-backing-dev-zero.qcow2 /dev/zero raw
rebase open-backing-missing.qcow2 no-such-file.qcow2 qcow2
rebase open-backing-format-vmdk.qcow2 base.qcow2 vmdk
# backing name running past the first cluster
cp good.qcow2 open-backing-name-past-cluster.qcow2
put64 open-backing-name-past-cluster.qcow2 8 0xfff0; put32 open-backing-name-past-cluster.qcow2 16 100
cp good.qcow2 open-backing-name-past-eof.qcow2
put64 open-backing-name-past-eof.qcow2 8 0xfff0; put32 open-backing-name-past-eof.qcow2 16 8
truncate -s $((0xfff4)) open-backing-name-past-eof.qcow2
# a chain deeper than any sane one would be refused too, but costs too much
# disk to build here; the depth limit is checked by the unit test instead.

# ---- encryption ----
rm -f open-encrypted-luks.qcow2 open-encrypted-aes.qcow2
qemu-img create -q -f qcow2 --object secret,id=sec0,data=hostile \
    -o encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=50 open-encrypted-luks.qcow2 1M
cp good.qcow2 open-encrypted-aes.qcow2; put32 open-encrypted-aes.qcow2 32 1

# ---- external data files ----
rm -f df.qcow2 df.raw
qemu-img create -q -f qcow2 -o data_file=df.raw df.qcow2 1M
cp df.qcow2 open-datafile-missing.qcow2
# rename the data file in the extension ("df.raw" -> "dX.raw")
off=$(grep -obUa 'df\.raw' open-datafile-missing.qcow2 | head -n1 | cut -d: -f1)
poke open-datafile-missing.qcow2 $((off + 1)) 58
cp df.qcow2 read-datafile-compressed.qcow2
qemu-io -c 'write -P 1 0 64k' read-datafile-compressed.qcow2 >/dev/null
l2=$(xxd -s 0x30000 -l 8 -p read-datafile-compressed.qcow2)
put64 read-datafile-compressed.qcow2 $((0x${l2} & 0xffffffffffff)) $(( (1 << 62) | 0x50000 ))
rm -f df.qcow2

# ---- refused only for untrusted images ----
# a regular file outside OUTDIR, by absolute name (readable as raw when trusted)
rebase untrusted-backing-outside.qcow2 /usr/bin/qemu-img raw
rebase untrusted-no-backing-format.qcow2 base.qcow2 qcow2
# drop the backing-format extension: its type becomes the end marker
put32 untrusted-no-backing-format.qcow2 0x70 0
rm -f good.qcow2
