#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# fedora-btrfs.sh OUTDIR: a Fedora Workstation-like guest (nothing is
# booted), laid out as the Fedora installer does it:
#
#   fedora-btrfs.img   1 GiB, GPT:
#     p1  EFI system partition, FAT32 (mkfs.vfat), /EFI/fedora/grub.cfg
#     p2  /boot, ext4 (mke2fs -d): grub2/grub.cfg, loader/entries
#     p3  btrfs labelled "fedora", written through the kernel with
#         compress=zstd:1: subvolumes "root" (the Fedora tree of the
#         guests fixture: os-release 39, rpmdb.sqlite made by rpm, a real
#         ELF /usr/bin/bash) and "home" (alice's files); the default
#         subvolume stays the top level, as on Fedora.  /etc/fstab
#         mounts them by UUID= with subvol=root / subvol=home.
#   root.oracle/ home.oracle/   what the kernel shows of each subvolume
#                   (the list format of test-images/btrfs.sh), df.oracle
#                   its df -B1 (size used avail)
#   boot.tree/ esp.tree/        the trees of p2 and p1
# Fixed UUIDs and times.  Needs root (loop devices, a kernel mount).
set -euo pipefail
OUT=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
"$here/build-all.sh" "$(dirname "$OUT")" guests >/dev/null
GUESTS=$(dirname "$OUT")/guests
mkdir -p "$OUT"
cd "$OUT"
export LC_ALL=C TZ=UTC PATH=/usr/sbin:/sbin:$PATH
rm -rf ./*.img ./*.fs ./*.oracle ./*.tree mnt
STAMP=@1700000000
BTRFS_UUID=0badf00d-0000-4000-8000-00000000b7f5
BOOT_UUID=0badf00d-0000-4000-8000-000000000b00
ESP_ID=ABCD1234
MNT=$OUT/mnt
mkdir "$MNT"
L=
cleanup() {
    umount "$MNT" 2>/dev/null || true
    if [ -n "$L" ]; then
        btrfs device scan --forget "$L" 2>/dev/null || true
        losetup -d "$L" 2>/dev/null || true
    fi
}
trap cleanup EXIT

# ---- the ESP ----
mkdir -p esp.tree/EFI/fedora esp.tree/EFI/BOOT
printf 'search --no-floppy --fs-uuid --set=dev %s\nset prefix=($dev)/grub2\nconfigfile $prefix/grub.cfg\n' \
    "$BOOT_UUID" > esp.tree/EFI/fedora/grub.cfg
printf 'phony shim\n' > esp.tree/EFI/BOOT/BOOTX64.EFI
truncate -s 64M esp.fs
mkfs.vfat -F 32 -s 1 -i "$ESP_ID" -n EFI esp.fs >/dev/null
mcopy -s -m -i esp.fs esp.tree/EFI ::/

# ---- /boot ----
mkdir -p boot.tree/grub2 boot.tree/loader/entries boot.tree/efi
printf 'set default=0\nblscfg\n' > boot.tree/grub2/grub.cfg
printf 'title Fedora Linux (6.5.6-300.fc39.x86_64) 39 (Workstation Edition)\nversion 6.5.6-300.fc39.x86_64\nlinux /vmlinuz-6.5.6-300.fc39.x86_64\noptions root=UUID=%s ro rootflags=subvol=root\n' \
    "$BTRFS_UUID" > boot.tree/loader/entries/fedora-6.5.6.conf
printf 'not a kernel\n' > boot.tree/vmlinuz-6.5.6-300.fc39.x86_64
find boot.tree -exec touch -h -d "$STAMP" {} +
truncate -s 128M boot.fs
mke2fs -q -F -t ext4 -U "$BOOT_UUID" -E hash_seed="$BOOT_UUID" -d boot.tree boot.fs

# ---- the btrfs root and home ----
truncate -s 800M btrfs.fs
mkfs.btrfs -q -f -U "$BTRFS_UUID" -L fedora btrfs.fs >/dev/null
L=$(losetup -f --show btrfs.fs)
mount -t btrfs -o compress=zstd:1 "$L" "$MNT"
btrfs -q subvolume create "$MNT/root"
btrfs -q subvolume create "$MNT/home"
cp -a "$GUESTS/fedora.tree/." "$MNT/root/"
mkdir -p "$MNT/root/home" "$MNT/root/boot/efi"
printf 'fedora-btrfs.invalid\n' > "$MNT/root/etc/hostname"
cat > "$MNT/root/etc/fstab" <<EOF
#
# /etc/fstab
# Created by anaconda
#
UUID=$BTRFS_UUID /                       btrfs   subvol=root,compress=zstd:1 0 0
UUID=$BOOT_UUID /boot                   ext4    defaults        1 2
UUID=${ESP_ID:0:4}-${ESP_ID:4:4}          /boot/efi               vfat    umask=0077,shortname=winnt 0 2
UUID=$BTRFS_UUID /home                   btrfs   subvol=home,compress=zstd:1 0 0
EOF
# something big enough to be compressed, and the usual /usr files
seq 1 50000 > "$MNT/root/usr/lib/numbers.txt"
mkdir -p "$MNT/home/alice/Documents"
printf 'Dear diary,\n' > "$MNT/home/alice/Documents/diary.txt"
head -c 200000 /usr/bin/bash > "$MNT/home/alice/Documents/bash-head.bin"
ln -s Documents/diary.txt "$MNT/home/alice/latest"
chown -R 1000:1000 "$MNT/home/alice"
find "$MNT/root" "$MNT/home" -exec touch -h -d "$STAMP" {} +
umount "$MNT"
losetup -d "$L"
L=

# what the kernel shows, through a read-only mount of a read-only device
L=$(losetup -r -f --show btrfs.fs)
for sv in root home; do
    mount -t btrfs -o ro,subvol=$sv "$L" "$MNT"
    mkdir -p $sv.oracle
    python3 "$here/lib-fslist.py" "$MNT" > $sv.oracle/list
    umount "$MNT"
done
losetup -d "$L"
L=$(losetup -f --show btrfs.fs)
mount -t btrfs -o ro,subvol=root "$L" "$MNT"
df -B1 --output=size,used,avail "$MNT" | tail -1 > df.oracle
umount "$MNT"
losetup -d "$L"
L=
rmdir "$MNT"

# ---- the disk ----
truncate -s 1G fedora-btrfs.img
sgdisk -U 0badf00d-0000-4000-8000-0000000d15c0 \
    -n 1:2048:+64M -t 1:ef00 -u 1:0badf00d-0000-4000-8000-0000000d15c1 -c 1:"EFI System Partition" \
    -n 2:0:+128M -t 2:8300 -u 2:0badf00d-0000-4000-8000-0000000d15c2 \
    -n 3:0:0 -t 3:8300 -u 3:0badf00d-0000-4000-8000-0000000d15c3 fedora-btrfs.img >/dev/null
dd if=esp.fs of=fedora-btrfs.img bs=512 seek=2048 conv=notrunc,sparse status=none
dd if=boot.fs of=fedora-btrfs.img bs=512 seek=$((2048 + 131072)) conv=notrunc,sparse status=none
dd if=btrfs.fs of=fedora-btrfs.img bs=512 seek=$((2048 + 131072 + 262144)) conv=notrunc,sparse status=none
rm -f esp.fs boot.fs btrfs.fs
echo done
