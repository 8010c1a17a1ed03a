#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A UEFI guest (test-images/efi-guest.sh): the EFI system partition (FAT32)
# on /boot/efi, /boot ext4, the root on md RAID1 over partitions of two
# disks.  -i inspection must mount all three like libguestfs does.
# Oracles: the source trees, mtools reading the ESP in place, and the
# outputs of virt-inspector, virt-filesystems, virt-ls and virt-df 1.48.6
# recorded once on this fixture (tests/data/efi-guest).
. "$(dirname "$0")/lib.sh"
D=$(fixture efi-guest) || skip_all "fixture efi-guest failed"
DATA=$TOP/tests/data/efi-guest
export MTOOLS_SKIP_CHECK=1 LANG=C.UTF-8 LC_ALL=C.UTF-8 TZ=UTC
A=(-a "$D/disk1.img" -a "$D/disk2.img")

x=$(ginspect "${A[@]}" 2>"$T/err")
is "$(cat "$T/err")" "" "ginspect: no warnings (md members are not unreadable layers)"
is "$(printf '%s\n' "$x" | xmllint --xpath '//root/text()' -)" "/dev/md127" "root on /dev/md127"
is "$(printf '%s\n' "$x" | xmllint --xpath '//mountpoint' - | sed 's|</mountpoint>|&\n|g' | grep .)" \
   '<mountpoint dev="/dev/md127">/</mountpoint>
<mountpoint dev="/dev/sda2">/boot</mountpoint>
<mountpoint dev="/dev/sda1">/boot/efi</mountpoint>' "mountpoints: / (fstab /dev/md0, mdadm.conf's ARRAY by UUID), /boot, /boot/efi"
is "$(printf '%s\n' "$x" | xmllint --xpath 'string(//filesystem[@dev="/dev/sda1"]/type)' -)" vfat "the ESP is vfat"
is "$(printf '%s\n' "$x" | xmllint --xpath 'string(//filesystem[@dev="/dev/sda1"]/uuid)' -)" \
   "$(blkid -p -s UUID -o value -O $((2048 * 512)) "$D/disk1.img")" "the ESP's UUID is blkid's"
if [ -e "$DATA/virt-inspector.xml" ]; then
    same_file <(printf '%s\n' "$x") "$DATA/virt-inspector.xml" "ginspect = virt-inspector"
fi

# /boot/efi through -i: the listing and the files, as mtools reads the ESP
off=$((2048 * 512))
mdir -/ -b -i "$D/disk1.img@@$off" ::/ | sed 's|^::|/boot/efi|; s|/$||' | sort >"$T/want"
gls "${A[@]}" -R /boot/efi | sed 's|^|/boot/efi|' | sort >"$T/got"
same_file "$T/got" "$T/want" "gls -R /boot/efi = mdir on the ESP"
same_file <(gcat "${A[@]}" /boot/efi/EFI/BOOT/BOOTX64.EFI) "$D/tree-esp/EFI/BOOT/BOOTX64.EFI" "gcat from the ESP"
same_file <(gcat "${A[@]}" /boot/grub/grub.cfg) "$D/tree-boot/grub/grub.cfg" "gcat from /boot"
same_file <(gcat "${A[@]}" /etc/fstab) "$D/tree-root/etc/fstab" "gcat from the root on md"
if [ -e "$DATA/virt-ls" ]; then
    same_file <(gls "${A[@]}" -lR --times /boot/efi) "$DATA/virt-ls" "gls -lR --times /boot/efi = virt-ls"
fi
if [ -e "$DATA/virt-df" ]; then
    same_file <(gdf "${A[@]}") "$DATA/virt-df" "gdf = virt-df"
fi
if [ -e "$DATA/virt-filesystems" ]; then
    same_file <(gfilesystems "${A[@]}" --all --long --uuid) "$DATA/virt-filesystems" \
        "gfilesystems --all --long --uuid = virt-filesystems (md with its members as parents)"
fi
is "$(gfsh --ro -i "${A[@]}" mountpoints 2>/dev/null | sort)" "/dev/md127: /
/dev/sda1: /boot/efi
/dev/sda2: /boot" "gfsh -i mounts all three"
done_testing
