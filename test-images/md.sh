#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Linux md RAID member images.  This machine has no md driver, so mdadm
# --create cannot write them: test-images/lib-md.py writes the superblocks
# and lays the data out; `mdadm --examine` must read every superblock back
# with the geometry asked for (md-examine/*.txt keeps what it said), and
# libguestfs' appliance kernel assembling the arrays is the recorded oracle
# for the data layout (tests/data/md).  Each array holds an ext4 filesystem
# made by mke2fs -d from tree/ (label = the array's short name, fixed UUID),
# except lvm-*, which holds an LVM PV (VG mdvg, LV data with ext4).
#
#   name     metadata level   layout             chunk  members (8 MiB disks)
#   r1       1.2      raid1   -                  -      r1-{0,1}.img, name gk:mirror
#   r0       0.90     raid0   -                  64K    r0-{0,1,2}.img
#   r5p      1.0      raid5   left-symmetric     64K    r5p-{0,1,2}.img: MBR p1 (from 1 MiB)
#   r6       1.1      raid6   left-symmetric     64K    r6-{0..3}.img
#   r10n     1.2      raid10  near=2             64K    r10n-{0..3}.img
#   r10f     1.2      raid10  far=2              64K    r10f-{0,1,2}.img
#   r10o     1.2      raid10  offset=2           64K    r10o-{0,1,2}.img
#   lin      1.2      linear  -                  -      lin-0.img 8 MiB, lin-1.img 12 MiB
#   r0z      1.2      raid0   alt multizone      64K    r0z-{0,1,2}.img 8, 8, 12 MiB
#   r5l{0,1,3,4,5} 1.2 raid5  that layout        16K    r5lN-{0,1,2}.img
#   r4       1.2      raid4   -                  16K    r4-{0,1,2}.img
#   r1s      0.90     raid1   -                  -      r1s-{0,1,2}.img; r1s-2 stale
#                                                       (older events, zeroed data)
#   lvm      1.2      raid1   -                  -      lvm-{0,1}.img, name gk:lvm
#   r6a      1.2      raid6   left-asymmetric    16K    r6a-{0..3}.img (Q's order is not the data's)
# The UUID of array X is 01234567-0123-0123-0123-0000000000NN (md-uuids.txt).
set -euo pipefail
. "$(dirname "$0")/lib-lvm.sh"
OUT=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$OUT"
rm -rf ./*.img tree md-examine md-uuids.txt sizes.txt
W=$(mktemp -d)
LOOPS=()
cleanup() {
    for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null || true; done
    rm -rf "$W"
}
trap cleanup EXIT
export TZ=UTC SOURCE_DATE_EPOCH=1700000000

mkdir -p tree/dir md-examine
printf 'hello from md\n' >tree/hello.txt
head -c 300000 /usr/sbin/mdadm >tree/dir/mdadm.part
seq 1 100000 >tree/dir/numbers.txt
find tree -exec touch -h -d @1700000000 {} +

n=0
# md NAME META LEVEL LAYOUT CHUNK_KIB NAMEFIELD [--sizes=...] [--stale=...] -- MEMBERS...
md() {
    local name=$1 meta=$2 level=$3 layout=$4 chunk=$5 sbname=$6
    shift 6
    local opts=()
    while [ "$1" != -- ]; do opts+=("$1"); shift; done
    shift
    n=$((n + 1))
    local uuid
    uuid=01234567-0123-0123-0123-0000000000$(printf '%02d' $n)
    local m sizes=()
    for m in "$@"; do [ -e "$m" ] || truncate -s 8M "$m"; done
    local size
    size=$(python3 "$HERE/lib-md.py" - "$meta" "$level" "$layout" "$chunk" $((8 << 20)) "$sbname" \
        "$uuid" 10 "$@" "${opts[@]}")
    local fsuuid=6d640000-0000-4000-8000-0000000000$(printf '%02d' $n)
    if [ "$name" = lvm ]; then
        lvm_payload "$W/payload" "$size"
    else
        rm -f "$W/payload"
        mke2fs -q -F -t ext4 -b 1024 -L "$name" -U "$fsuuid" -E hash_seed="$fsuuid" \
            -d tree "$W/payload" $((size / 1024))
        echo "$name $fsuuid" >>fs-uuids.txt
    fi
    python3 "$HERE/lib-md.py" "$W/payload" "$meta" "$level" "$layout" "$chunk" $((8 << 20)) \
        "$sbname" "$uuid" 10 "$@" "${opts[@]}" >/dev/null
    echo "$name $uuid" >>md-uuids.txt
    echo "$name $size" >>sizes.txt
    for m in "$@"; do mdadm --examine "$m" >"md-examine/$(basename "$m" .img).txt"; done
}

# An LVM PV of SIZE bytes in FILE: VG mdvg, LV data (ext4 from tree/)
lvm_payload() {
    rm -f "$1"
    truncate -s "$2" "$1"
    local l
    l=$(losetup -f --show "$1")
    LOOPS+=("$l")
    lvm_private_config "$W/lvm" "$l"
    lvm pvcreate -q -ff -y --uuid gkMDPV-0000-0000-0000-0000-0000-000001 --norestorefile "$l"
    lvm vgcreate -q -s 1m mdvg "$l"
    lvm lvcreate "${NOACT[@]}" -n data -L 4m mdvg
    local pe
    pe=$(lvm pvs --noheadings --units b --nosuffix -o pe_start "$l" | tr -d ' ')
    mke2fs -q -F -t ext4 -b 1024 -L mdlvm -U 6d640000-0000-4000-8000-000000000099 \
        -E hash_seed=6d640000-0000-4000-8000-000000000099 -d tree "$W/lv.img" 4096
    dd if="$W/lv.img" of="$l" bs=1024 seek=$((pe / 1024)) conv=notrunc status=none
    sync
    losetup -d "$l"
    echo "mdvg/data 6d640000-0000-4000-8000-000000000099" >>fs-uuids.txt
}

: >fs-uuids.txt
md r1 1.2 raid1 0 0 gk:mirror -- r1-0.img r1-1.img
md r0 0.90 raid0 0 64 "" -- r0-0.img r0-1.img r0-2.img
# members as partitions: built in plain files, then put in partition 1
truncate -s 7M "$W/p0" "$W/p1" "$W/p2"
md r5p 1.0 raid5 2 64 gk:r5p -- "$W/p0" "$W/p1" "$W/p2"
for i in 0 1 2; do
    truncate -s 10M r5p-$i.img
    printf 'label: dos\nstart=2048, size=14336, type=fd\n' | sfdisk -q r5p-$i.img
    dd if="$W/p$i" of=r5p-$i.img bs=512 seek=2048 conv=notrunc status=none
    mv "md-examine/p$i.txt" "md-examine/r5p-$i.txt"
done
md r6 1.1 raid6 2 64 gk:r6 -- r6-0.img r6-1.img r6-2.img r6-3.img
md r10n 1.2 raid10 $((0x102)) 64 gk:r10n -- r10n-0.img r10n-1.img r10n-2.img r10n-3.img
md r10f 1.2 raid10 $((0x201)) 64 gk:r10f -- r10f-0.img r10f-1.img r10f-2.img
md r10o 1.2 raid10 $((0x10201)) 64 gk:r10o -- r10o-0.img r10o-1.img r10o-2.img
truncate -s 12M lin-1.img
md lin 1.2 linear 0 0 gk:lin -- lin-0.img lin-1.img
truncate -s 12M r0z-2.img
md r0z 1.2 raid0 2 64 gk:r0z -- r0z-0.img r0z-1.img r0z-2.img
for l in 0 1 3 4 5; do
    md r5l$l 1.2 raid5 $l 16 gk:r5l$l -- r5l$l-0.img r5l$l-1.img r5l$l-2.img
done
md r4 1.2 raid4 5 16 gk:r4 -- r4-0.img r4-1.img r4-2.img
md r1s 0.90 raid1 0 0 "" --stale=2:5 -- r1s-0.img r1s-1.img r1s-2.img
md lvm 1.2 raid1 0 0 gk:lvm -- lvm-0.img lvm-1.img
md r6a 1.2 raid6 0 16 gk:r6a -- r6a-0.img r6a-1.img r6a-2.img r6a-3.img
cat md-uuids.txt sizes.txt
