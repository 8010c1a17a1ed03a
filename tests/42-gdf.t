#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gdf (virt-df output) against the kernel: each image is loop-mounted
# read-only and df/stat -f give the oracle figures; numfmt for -h.
. "$(dirname "$0")/lib.sh"
D=$(fixture ext-trees) || skip_all "fixture ext-trees failed"
export LC_ALL=C
MNT=$T/mnt
mkdir -p "$MNT"
trap 'umount "$MNT" 2>/dev/null; rm -rf "$T"' EXIT

# kdf IMAGE [OFFSET]: "1K-blocks used avail use% inodes iused ifree iuse%"
# as virt-df would compute them from the kernel's statfs
kdf() {
    mount -o loop,ro${2:+,offset=$2} "$1" "$MNT" 2>/dev/null || return 1
    set -- $(stat -f -c '%b %f %a %S %c %d' "$MNT")
    umount "$MNT"
    python3 - "$@" <<'EOF'
import math, sys
b, f, a, s, files, ffree = map(int, sys.argv[1:])
pct = lambda free, tot: 100.0 - 100.0 * free / tot if tot else 0.0
print(b * s // 1024, (b - f) * s // 1024, a * s // 1024, '%d%%' % math.ceil(pct(f, b)),
      files, files - ffree, ffree, '%d%%' % math.ceil(pct(ffree, files)))
EOF
}
kdf "$D/ext4.img" >/dev/null || skip_all "cannot loop-mount images here (the oracle)"

for v in ext2 ext3 ext4 ext4-1k ext4-nocsum inline bigalloc; do
    set -- $(kdf "$D/$v.img")
    out=$(gdf -a "$D/$v.img")
    is "$(printf '%s\n' "$out" | head -1)" \
       "$(printf '%-36s%10s %10s %10s %5s' Filesystem 1K-blocks Used Available Use%)" "$v: title"
    is "$(printf '%s\n' "$out" | sed -n 2p)" \
       "$(printf '%-36s%10s %10s %10s %5s' "$v.img:/dev/sda" "$1" "$2" "$3" "$4")" "$v: figures as the kernel's statfs"
    is "$(gdf -a "$D/$v.img" --inodes | sed -n 2p)" \
       "$(printf '%-36s%10s %10s %10s %5s' "$v.img:/dev/sda" "$5" "$6" "$7" "$8")" "$v: --inodes as the kernel's"
done

# a partitioned guest through a qcow2 chain: one line per filesystem
set -- $(kdf "$D/disk2.img" $((2048 * 512)))
l1=$(printf '%-36s%10s %10s %10s %5s' "disk.qcow2:/dev/sda1" "$1" "$2" "$3" "$4")
set -- $(kdf "$D/disk2.img" $((32768 * 512)))
l2=$(printf '%-36s%10s %10s %10s %5s' "disk.qcow2:/dev/sda2" "$1" "$2" "$3" "$4")
is "$(gdf -a "$D/disk.qcow2" | tail -n +2)" "$l1
$l2" "qcow2 chain with two partitions"

# -h: human sizes as numfmt rounds them; Size replaces 1K-blocks
set -- $(kdf "$D/ext4.img")
h() { numfmt --to=iec --round=nearest $(($1 * 1024)); }
is "$(gdf -h -a "$D/ext4.img")" "$(printf '%-36s%10s %10s %10s %5s\n%-36s%10s %10s %10s %5s' \
    Filesystem Size Used Available Use% "ext4.img:/dev/sda" "$(h $1)" "$(h $2)" "$(h $3)" "$4")" "-h"

# --csv: separate name and device columns, one-decimal percentage
mount -o loop,ro "$D/ext4.img" "$MNT" && bf=$(stat -f -c '%b %f' "$MNT") && umount "$MNT"
pct=$(python3 -c 'import struct, sys; b, f = map(int, sys.argv[1:]); p = struct.unpack("f", struct.pack("f", 100.0 - 100.0 * f / b))[0]; print("%.1f" % p)' $bf)
set -- $(kdf "$D/ext4.img")
is "$(gdf --csv -a "$D/ext4.img")" "VirtualMachine,Filesystem,1K-blocks,Used,Available,Use%
ext4.img,/dev/sda,$1,$2,$3,$pct" "--csv"

# several images: one guest named after the first, "+" for each other
out=$(gdf -a "$D/ext4.img" -a "$D/ext2.img" | tail -n +2 | cut -c1-36 | sed 's/ *$//')
is "$out" "ext4.img+:/dev/sda
ext4.img+:/dev/sdb" "two -a images: one guest \"ext4.img+\""
is "$(gdf "$D/ext4.img" | tail -n +2 | cut -c1-17)" "ext4.img:/dev/sda" "old style: gdf IMAGE"

# a long name wraps onto its own line, figures on the next
ln -s "$D/ext4.img" "$T/a-rather-long-image-name-for-the-wrap-test.img"
out=$(gdf -a "$T/a-rather-long-image-name-for-the-wrap-test.img" | tail -n +2)
is "$(printf '%s\n' "$out" | head -1)" "a-rather-long-image-name-for-the-wrap-test.img:/dev/sda" "long names wrap"
is "$(printf '%s\n' "$out" | sed -n 2p | cut -c1-36 | tr -d ' ')" "" "... figures indented by 36 columns"

# swap and unformatted partitions are not listed
truncate -s 40M "$T/mixed.img"
printf 'label: dos\nstart=2048, size=20480, type=82\nstart=22528, size=20480, type=83\nstart=43008, type=83\n' | sfdisk -q "$T/mixed.img"
truncate -s 10M "$T/swap"; chmod 600 "$T/swap"; mkswap -q "$T/swap" >/dev/null 2>&1
dd if="$T/swap" of="$T/mixed.img" bs=512 seek=2048 conv=notrunc status=none
is "$(blkid -p -o value -s TYPE -O $((2048 * 512)) "$T/mixed.img")" swap "(blkid sees the swap partition)"
mke2fs -q -F -t ext4 -E offset=$((22528 * 512)) "$T/mixed.img" 10M
is "$(gdf -a "$T/mixed.img" | tail -n +2 | cut -c1-20 | sed 's/ *$//')" "mixed.img:/dev/sda2" "swap and empty partitions are skipped"

fails_cleanly "-h with --csv" gdf -h --csv -a "$D/ext4.img"
fails_cleanly "missing image" gdf -a "$T/none.img"
fails_cleanly "extra argument" gdf -a "$D/ext4.img" /etc

done_testing
