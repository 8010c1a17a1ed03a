#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A UEFI guest with its root on md RAID1, for inspection across FAT and md:
#   disk1.img  GPT: p1 EFI system partition (FAT32, serial 0BAD-CAFE,
#              EFI/BOOT/BOOTX64.EFI, EFI/debian/grub.cfg), p2 /boot (ext4,
#              UUID ...b1), p3 member 0 of RAID1 gk:root (metadata 1.2)
#   disk2.img  GPT: p1 member 1 of gk:root
# The array holds the root (ext4, UUID ...b2): Debian 12 os-release, a real
# /bin/bash, a dpkg status with one package, fstab: / on /dev/md0 (which
# mdadm.conf's ARRAY line ties to the array's UUID), /boot and /boot/efi by
# UUID=.
# tree-*/ are the sources (oracles for contents).
set -euo pipefail
OUT=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$OUT"
rm -rf ./*.img tree-*
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export TZ=UTC MTOOLS_SKIP_CHECK=1 LANG=C.UTF-8 LC_ALL=C.UTF-8
BOOTU=01234567-0123-0123-0123-0123456789b1
ROOTU=01234567-0123-0123-0123-0123456789b2
MDU=01234567-0123-0123-0123-0123456789b3

mkdir -p tree-root/{etc/mdadm,bin,boot,root,home,var,tmp,usr/bin} tree-boot/grub tree-esp/EFI/{BOOT,debian}
cp /bin/bash tree-root/bin/bash
cat >tree-root/etc/os-release <<'EOF'
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
ID=debian
EOF
echo 12.5 >tree-root/etc/debian_version
echo efiguest >tree-root/etc/hostname
mkdir -p tree-root/var/lib/dpkg
printf 'Package: base-files\nStatus: install ok installed\nVersion: 12.4+deb12u5\nArchitecture: amd64\n\n' \
    >tree-root/var/lib/dpkg/status
cat >tree-root/etc/fstab <<EOF
/dev/md0 / ext4 errors=remount-ro 0 1
UUID=$BOOTU /boot ext4 defaults 0 2
UUID=0BAD-CAFE /boot/efi vfat umask=0077 0 1
EOF
echo "ARRAY /dev/md0 metadata=1.2 UUID=01234567:01230123:01230123:456789b3 name=gk:root" \
    >tree-root/etc/mdadm/mdadm.conf
mkdir -p tree-root/boot/efi tree-boot/efi
printf 'menuentry "Debian" { linux /vmlinuz root=/dev/md127 }\n' >tree-boot/grub/grub.cfg
head -c 50000 /usr/bin/mtype >tree-esp/EFI/BOOT/BOOTX64.EFI
printf 'search.fs_uuid %s root\nconfigfile ($root)/grub/grub.cfg\n' "$BOOTU" >tree-esp/EFI/debian/grub.cfg
find tree-root tree-boot tree-esp -exec touch -h -d @1700000000 {} +

# the ESP (40 MiB FAT32), /boot (32 MiB), the array members (40 MiB each)
truncate -s 40M "$W/esp"
mkfs.vfat -F 32 -n EFI -i 0badcafe "$W/esp" >/dev/null
mcopy -s -m -i "$W/esp" tree-esp/EFI ::/
mke2fs -q -F -t ext4 -b 1024 -L boot -U "$BOOTU" -E hash_seed="$BOOTU" -d tree-boot "$W/boot" 32M
truncate -s 40M "$W/m0" "$W/m1"
size=$(python3 "$HERE/lib-md.py" - 1.2 raid1 0 0 $((40 << 20)) gk:root "$MDU" 20 "$W/m0" "$W/m1")
mke2fs -q -F -t ext4 -b 1024 -L root -U "$ROOTU" -E hash_seed="$ROOTU" -d tree-root "$W/root" \
    $((size / 1024))
python3 "$HERE/lib-md.py" "$W/root" 1.2 raid1 0 0 $((40 << 20)) gk:root "$MDU" 20 "$W/m0" "$W/m1" >/dev/null
mdadm --examine "$W/m0" >md-examine.txt

truncate -s 128M disk1.img
sgdisk -o -n 1:2048:+40M -t 1:ef00 -c 1:"EFI System Partition" -n 2:0:+32M -t 2:8300 \
    -n 3:0:+40M -t 3:fd00 -u 1:01234567-0123-0123-0123-0123456789e1 disk1.img >/dev/null
truncate -s 64M disk2.img
sgdisk -o -n 1:2048:+40M -t 1:fd00 disk2.img >/dev/null
start() { sgdisk -i "$2" "$1" | sed -n 's/^First sector: \([0-9]*\).*/\1/p'; }
put() { dd if="$1" of="$2" bs=512 seek="$3" conv=notrunc,sparse status=none; }
put "$W/esp" disk1.img "$(start disk1.img 1)"
put "$W/boot" disk1.img "$(start disk1.img 2)"
put "$W/m0" disk1.img "$(start disk1.img 3)"
put "$W/m1" disk2.img "$(start disk2.img 1)"
ls -l
