#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# parts.sh OUTDIR: partitioned disks for the device-layer tests
# (tests/20-parts.t, tests/21-gfilesystems.t).
#
#   mbr.img     32 MiB DOS table (id 0x1234abcd): p1 ext4 "boot", p2 swap
#               "swp", p3 empty, p4 extended holding p5 ext2 "data", p6 ext3
#               "my logs", p7 (type 8e) empty
#   gpt.img     32 MiB GPT: 1 EFI System (empty), 2 ext4 "root" named
#               "root fs", 3 swap, 4 ext4 "home" named "hömé", (no 5),
#               6 Microsoft reserved, 7 Linux LVM (empty); attribute bit 2 on 2
#   gpt-smashed.img   gpt.img with the primary GPT header zeroed
#   gpt4k.img   32 MiB GPT with 4096-byte sectors (made on a 4K loop device)
#   gpt4k-smashed.img gpt4k.img with the primary header zeroed
#   whole.img   16 MiB ext4 on the whole disk, no partition table
#   luks.img    8 MiB DOS table: p1 a LUKS1 header (written here: there is no
#               cryptsetup), p2 ext4 "plain"
#   X.qcow2 and X-top.qcow2 (overlay on X.qcow2) for X in mbr gpt gpt4k whole luks
#   X.sfdisk.json      `sfdisk --json` of each table (the 4K one read through a
#                      4K loop device) -- the geometry oracle
#   mbr.kernel-sizes   "N BYTES" per partition as the kernel exposes them
#                      (losetup -P, blockdev --getsize64), when loop devices work
#
# Filesystems are made first (mke2fs -E offset=, mkswap on a temporary file),
# the partition table last.  Fixed UUIDs, labels, hash seeds and times.
set -euo pipefail
OUT=$1
mkdir -p "$OUT"
cd "$OUT"
export E2FSPROGS_FAKE_TIME=1600000000 SOURCE_DATE_EPOCH=1600000000
export MKE2FS_CONFIG=/etc/mke2fs.conf
PATH=/usr/sbin:/sbin:$PATH
rm -f ./*.img ./*.qcow2 ./*.json ./*.kernel-sizes ./*.tmp

U=01234567-0123-0123-0123-0123456789
# mkfs IMG OFFSET_BYTES SIZE TYPE LABEL UUID
mkfs() {
    mke2fs -q -F -t "$4" -L "$5" -U "$6" -E "offset=$2,hash_seed=$6" "$1" "$3"
}
# swap IMG OFFSET_BYTES SIZE LABEL UUID
swap() {
    rm -f swap.tmp && truncate -s "$3" swap.tmp
    mkswap -q -L "$4" -U "$5" swap.tmp >/dev/null
    dd if=swap.tmp of="$1" bs=64K seek="$2" oflag=seek_bytes conv=notrunc,sparse status=none
    rm -f swap.tmp
}

# ---- MBR with an extended partition ----
truncate -s 32M mbr.img
mkfs mbr.img $((2048 * 512)) 8M ext4 boot ${U}01
swap mbr.img $((18432 * 512)) 4M swp ${U}02
mkfs mbr.img $((32768 * 512)) 8M ext2 data ${U}05
mkfs mbr.img $((51200 * 512)) 4M ext3 "my logs" ${U}06
sfdisk -q --wipe never --wipe-partitions never --no-reread --no-tell-kernel mbr.img <<'EOF'
label: dos
label-id: 0x1234abcd
start=2048, size=16384, type=83, bootable
start=18432, size=8192, type=82
start=26624, size=4096, type=83
start=30720, size=34816, type=5
start=32768, size=16384, type=83
start=51200, size=8192, type=83
start=61440, size=4096, type=8e
EOF

# ---- GPT with names, a gap in the numbering, a Microsoft reserved partition ----
truncate -s 32M gpt.img
mkfs gpt.img $((6144 * 512)) 10M ext4 root ${U}12
swap gpt.img $((26624 * 512)) 4M gswap ${U}13
mkfs gpt.img $((34816 * 512)) 8M ext4 home ${U}14
sgdisk -U 11111111-2222-3333-4444-555555555555 \
    -n 1:2048:6143 -t 1:ef00 -c 1:"EFI System" -u 1:AAAAAAAA-0000-0000-0000-000000000001 \
    -n 2:6144:26623 -t 2:8300 -c 2:"root fs" -u 2:AAAAAAAA-0000-0000-0000-000000000002 \
    -n 3:26624:34815 -t 3:8200 -c 3:swap -u 3:AAAAAAAA-0000-0000-0000-000000000003 \
    -n 4:34816:51199 -t 4:8302 -c 4:"hömé" -u 4:AAAAAAAA-0000-0000-0000-000000000004 \
    -n 6:51200:59391 -t 6:0c01 -c 6:"Microsoft reserved partition" -u 6:AAAAAAAA-0000-0000-0000-000000000006 \
    -n 7:59392:63487 -t 7:8e00 -c 7:lvm -u 7:AAAAAAAA-0000-0000-0000-000000000007 \
    -A 2:set:2 gpt.img >/dev/null
cp --sparse=always gpt.img gpt-smashed.img
dd if=/dev/zero of=gpt-smashed.img bs=512 seek=1 count=1 conv=notrunc status=none

# ---- GPT with 4096-byte sectors ----
truncate -s 32M gpt4k.img
mkfs gpt4k.img $((256 * 4096)) 8M ext4 root4k ${U}21
swap gpt4k.img $((2304 * 4096)) 4M swap4k ${U}22
mkfs gpt4k.img $((3328 * 4096)) 8M ext2 data4k ${U}23
SCRIPT4K='label: gpt
label-id: 22222222-3333-4444-5555-666666666666
start=256, size=2048, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="four k root", uuid=BBBBBBBB-0000-0000-0000-000000000001
start=2304, size=1024, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, name="swap4k", uuid=BBBBBBBB-0000-0000-0000-000000000002
start=3328, size=2048, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="data", uuid=BBBBBBBB-0000-0000-0000-000000000003'
if L=$(losetup --sector-size 4096 -f --show gpt4k.img 2>/dev/null); then
    trap 'losetup -d "$L" 2>/dev/null || true' EXIT
    printf '%s\n' "$SCRIPT4K" | sfdisk -q --wipe never --wipe-partitions never --no-reread --no-tell-kernel "$L"
    sfdisk --json "$L" >gpt4k.sfdisk.json
    losetup -d "$L"
    trap - EXIT
else
    # no loop devices: fdisk writes a 4K table (random GUIDs, no oracle json)
    printf 'g\nn\n1\n256\n2303\nn\n2\n2304\n3327\nt\n2\n19\nn\n3\n3328\n5375\nw\n' |
        fdisk -b 4096 gpt4k.img >/dev/null
fi
cp --sparse=always gpt4k.img gpt4k-smashed.img
dd if=/dev/zero of=gpt4k-smashed.img bs=4096 seek=1 count=1 conv=notrunc status=none

# ---- a filesystem on the whole disk ----
truncate -s 16M whole.img
mkfs whole.img 0 16M ext4 whole ${U}31

# ---- a LUKS container beside a filesystem ----
truncate -s 8M luks.img
mkfs luks.img $((6144 * 512)) 2M ext4 plain ${U}41
python3 - <<'EOF'
import struct
h = bytearray(592)                      # LUKS1 phdr, big-endian fields
h[0:6] = b"LUKS\xba\xbe"
struct.pack_into(">H", h, 6, 1)
h[8:40] = b"aes".ljust(32, b"\0")
h[40:72] = b"xts-plain64".ljust(32, b"\0")
h[72:104] = b"sha256".ljust(32, b"\0")
struct.pack_into(">II", h, 104, 4096, 64)   # payload offset, key bytes
h[168:208] = b"01234567-89ab-cdef-0123-456789abcd42".ljust(40, b"\0")
with open("luks.img", "r+b") as f:
    f.seek(2048 * 512)
    f.write(h)
EOF
sfdisk -q --wipe never --wipe-partitions never --no-reread --no-tell-kernel luks.img <<'EOF'
label: dos
label-id: 0x0badcafe
start=2048, size=4096, type=83
start=6144, size=4096, type=83
EOF

for x in mbr gpt gpt-smashed luks; do
    sfdisk --json $x.img >$x.sfdisk.json || true
done

# the sizes of the partition devices as the kernel makes them
if L=$(losetup -P -f --show mbr.img 2>/dev/null); then
    trap 'losetup -d "$L" 2>/dev/null || true' EXIT
    sleep 0.5
    for p in "$L"p*; do
        [ -b "$p" ] && echo "${p##*p} $(blockdev --getsize64 "$p")"
    done | sort -n >mbr.kernel-sizes.tmp || true
    losetup -d "$L"
    trap - EXIT
    if [ -s mbr.kernel-sizes.tmp ]; then
        mv mbr.kernel-sizes.tmp mbr.kernel-sizes
    else
        rm -f mbr.kernel-sizes.tmp
    fi
fi

for x in mbr gpt gpt4k whole luks; do
    qemu-img convert -f raw -O qcow2 $x.img $x.qcow2
    qemu-img create -q -f qcow2 -b $x.qcow2 -F qcow2 $x-top.qcow2
done
