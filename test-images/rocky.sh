#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A Rocky-Linux-like guest, laid out as its installer does (nothing is
# booted):
#   rocky.img  GPT: p1 EFI system partition (FAT32, serial 5EED-0009:
#              EFI/BOOT/BOOTX64.EFI, EFI/rocky/grub.cfg), p2 /boot (XFS,
#              UUID ...a2: vmlinuz, initramfs, grub2/grub.cfg, loader
#              entries), p3 the PV of VG "rl": LVs root (XFS, UUID ...a3)
#              and swap
# The root is filled through the kernel (a loop mount): Rocky 9.3's
# os-release and release files, a usr-merged tree with a real /usr/bin/bash,
# fstab as the installer writes it (/dev/mapper/rl-root, UUID= for /boot
# and /boot/efi), SELinux labels, the rpm database rpm made for the guests
# fixture, and the host's zoneinfo for bulk.
#   tree-root/ tree-boot/ tree-esp/  the sources (oracles for contents)
#   df-root.txt df-boot.txt  df -k of the XFS filesystems, kernel-mounted
#              (this kernel has no vfat)
#   rpm-qa.txt  rpm -qa on the guest's database
set -euo pipefail
OUT=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib-lvm.sh"
cd "$OUT"
rm -rf ./*.img tree-* ./*.txt
W=$(mktemp -d)
MNT=$W/mnt
mkdir -p "$MNT"
LOOPS=()
cleanup() {
    mountpoint -q "$MNT" && umount "$MNT"
    for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null || true; done
    rm -rf "$W"
}
trap cleanup EXIT
export TZ=UTC MTOOLS_SKIP_CHECK=1 LANG=C.UTF-8 LC_ALL=C.UTF-8
BOOTU=01234567-0123-0123-0123-0123456789a2
ROOTU=01234567-0123-0123-0123-0123456789a3

# the rpm database of the guests fixture (rpm made it; build-all.sh takes
# its lock)
IMAGES=$(dirname "$OUT")
"$HERE/build-all.sh" "$IMAGES" guests >/dev/null
RPMDB=$IMAGES/guests/rpmdb.sqlite
[ -s "$RPMDB" ]

# ---------------------------------------------------------------- trees
R=tree-root
mkdir -p $R/{etc/sysconfig,usr/bin,usr/sbin,usr/lib,usr/lib64,usr/share,var/lib/rpm,var/log,boot/efi,root,home/rocky,tmp,dev,proc,sys,run}
ln -s usr/bin $R/bin
ln -s usr/sbin $R/sbin
ln -s usr/lib $R/lib
ln -s usr/lib64 $R/lib64
cp /bin/bash $R/usr/bin/bash
printf '#!/bin/sh\n' >$R/usr/bin/dnf
cat >$R/usr/lib/os-release <<'EOF'
NAME="Rocky Linux"
VERSION="9.3 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
ANSI_COLOR="0;32"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:rocky:rocky:9::baseos"
HOME_URL="https://rockylinux.org/"
BUG_REPORT_URL="https://bugs.rockylinux.org/"
ROCKY_SUPPORT_PRODUCT="Rocky-Linux-9"
ROCKY_SUPPORT_PRODUCT_VERSION="9.3"
REDHAT_SUPPORT_PRODUCT="Rocky Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="9.3"
EOF
ln -s ../usr/lib/os-release $R/etc/os-release
echo "Rocky Linux release 9.3 (Blue Onyx)" >$R/etc/rocky-release
ln -s rocky-release $R/etc/redhat-release
ln -s rocky-release $R/etc/system-release
echo rocky.invalid >$R/etc/hostname
cat >$R/etc/fstab <<EOF

#
# /etc/fstab
# Created by anaconda on Tue Nov 21 12:00:00 2023
#
/dev/mapper/rl-root     /                       xfs     defaults        0 0
UUID=$BOOTU /boot                   xfs     defaults        0 0
UUID=5EED-0009          /boot/efi               vfat    umask=0077,shortname=winnt 0 2
/dev/mapper/rl-swap     none                    swap    defaults        0 0
EOF
printf 'SELINUX=enforcing\nSELINUXTYPE=targeted\n' >$R/etc/sysconfig/selinux
echo "rocky:x:1000:1000::/home/rocky:/bin/bash" >$R/etc/passwd
echo "# a log" >$R/var/log/messages
cp "$RPMDB" $R/var/lib/rpm/rpmdb.sqlite
mkdir -p "$W/rpmq"
cp "$RPMDB" "$W/rpmq/"
rpm --dbpath "$W/rpmq" -qa --qf '%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE}.%{ARCH}\n' | sort >rpm-qa.txt
[ -d /usr/share/zoneinfo ] && cp -a /usr/share/zoneinfo $R/usr/share/zoneinfo

B=tree-boot
K=5.14.0-362.8.1.el9_3.x86_64
mkdir -p $B/grub2 $B/loader/entries $B/efi
head -c 300000 /usr/bin/xfs_db >$B/vmlinuz-$K 2>/dev/null || head -c 300000 /bin/bash >$B/vmlinuz-$K
head -c 700000 /bin/bash >$B/initramfs-$K.img
printf 'set default=0\nblscfg\n' >$B/grub2/grub.cfg
cat >$B/loader/entries/0123456789abcdef-$K.conf <<EOF
title Rocky Linux ($K) 9.3 (Blue Onyx)
version $K
linux /vmlinuz-$K
initrd /initramfs-$K.img
options root=/dev/mapper/rl-root ro resume=/dev/mapper/rl-swap rd.lvm.lv=rl/root rd.lvm.lv=rl/swap
EOF

E=tree-esp
mkdir -p $E/EFI/BOOT $E/EFI/rocky
head -c 60000 /bin/bash >$E/EFI/BOOT/BOOTX64.EFI
printf 'search --no-floppy --fs-uuid --set=dev %s\nset prefix=($dev)/grub2\nconfigfile $prefix/grub.cfg\n' \
    "$BOOTU" >$E/EFI/rocky/grub.cfg
find $R $B $E -exec touch -h -d @1700000000 {} +

# ---------------------------------------------------------------- filesystems
# xfs_fill FSIMG SIZE UUID TREE [selinux]: mkfs.xfs, then the tree copied
# through the kernel
xfs_fill() {
    truncate -s "$2" "$1"
    mkfs.xfs -q -f -m uuid="$3" "$1"
    mount -o loop,nouuid "$1" "$MNT"
    cp -a "$4/." "$MNT/"
    if [ "${5:-}" = selinux ]; then
        find "$MNT/etc" "$MNT/usr/bin" -xdev -print0 |
            xargs -0 setfattr -h -n security.selinux -v system_u:object_r:etc_t:s0
    fi
    umount "$MNT"
    mount -o ro,loop,nouuid "$1" "$MNT"
    df -k "$MNT" | tail -n 1 | awk '{print $2, $3, $4}' >"df-$(basename "$1" .fs).txt"
    umount "$MNT"
}
xfs_fill "$W/boot.fs" 300M "$BOOTU" $B
xfs_fill "$W/root.fs" 320M "$ROOTU" $R selinux
truncate -s 100M "$W/esp.fs"
mkfs.vfat -F 32 -n ESP -i 5eed0009 "$W/esp.fs" >/dev/null
mcopy -s -m -i "$W/esp.fs" $E/EFI ::/
mkswap -q -L swap -U 01234567-0123-0123-0123-0123456789a4 "$W/swap.fs" 16M 2>/dev/null || {
    truncate -s 16M "$W/swap.fs"; mkswap -L swap -U 01234567-0123-0123-0123-0123456789a4 "$W/swap.fs" >/dev/null; }

# ---------------------------------------------------------------- the disk
truncate -s 800M rocky.img
sgdisk -U 01234567-0123-0123-0123-0123456789a0 \
    -n 1:2048:+100M -t 1:ef00 -c 1:"EFI System Partition" -u 1:01234567-0123-0123-0123-0123456789a1 \
    -n 2:0:+300M -t 2:8300 -u 2:01234567-0123-0123-0123-0123456789b2 \
    -n 3:0:0 -t 3:8e00 -u 3:01234567-0123-0123-0123-0123456789b3 rocky.img >/dev/null
start() { sgdisk -i "$1" rocky.img | awk '/^First sector/ {print $3}'; }
dd if="$W/esp.fs" of=rocky.img bs=512 seek="$(start 1)" conv=notrunc,sparse status=none
dd if="$W/boot.fs" of=rocky.img bs=512 seek="$(start 2)" conv=notrunc,sparse status=none
L=$(losetup -f --show --offset $(($(start 3) * 512)) rocky.img)
LOOPS+=("$L")
lvm_private_config "$W" "$L"
lvm pvcreate -q --norestorefile -u gkrock-0000-0000-0000-0000-0000-pv0001 "$L"
lvm vgcreate -q -s 4m rl "$L"
lvm lvcreate "${NOACT[@]}" -L 320m -n root rl
lvm lvcreate "${NOACT[@]}" -L 16m -n swap rl
pe_start=$(lvm pvs --noheadings --units b --nosuffix -o pe_start "$L" | tr -d ' ')
for lv in root swap; do
    r=$(lvm lvs --noheadings -o seg_pe_ranges "rl/$lv" | tr -d ' ')
    r=${r#*:}
    dd if="$W/$lv.fs" of="$L" bs=1M seek=$(((pe_start + ${r%-*} * 4194304) / 1048576)) \
        conv=notrunc,sparse status=none
done
sync
losetup -d "$L"
LOOPS=()
ls -l
