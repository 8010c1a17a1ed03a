#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# phony.sh OUTDIR: guests shaped like libguestfs' own phony test guests
# (its test-data/phony-guests builds them with guestfish; these are built
# here with mke2fs -d, sgdisk/sfdisk, lvm2, rpm and mkfs.*, and their
# contents are our own), plus disks with layers guestkit cannot read
# (yet).  Everything is deterministic (fixed UUIDs, hash seeds, times), so
# the virt-inspector reports recorded in tests/data/virt-inspector/ stay
# valid.
#
#   coreos.img    GPT: EFI_SYSTEM (vfat), BIOS-BOOT (nothing), USR-A (ext4,
#                 label USR-A: bin, lib64, local, share/coreos, lib -> lib64,
#                 lib64/os-release), USR-B (nothing), ROOT (ext4, label ROOT:
#                 etc/coreos/update.conf, etc/os-release -> ../usr/lib/
#                 os-release, usr-merged links, no fstab)
#   debian.img    MBR: p1 /boot (ext2, LABEL=BOOT, /grub/grub.conf), p2 LVM
#                 PV of VG debian: root, usr, var, home (ext2); fstab by
#                 LABEL= and /dev/debian/*; debian_version 5.0.1; a dpkg
#                 status of three packages that say "Status: installed ok"
#   rpm.img       ext4 on the whole disk: a Fedora root whose rpmdb.sqlite
#                 (made by rpm) holds a gpg-pubkey (rpm --import of the
#                 Debian bookworm release key: no arch, no URL) and a
#                 package without a URL
#   noos.img      MBR p1 ext4 with files but no operating system
#   layers.img    GPT: p1 the Linux root (ext4) whose fstab mounts
#                 /boot/efi (p2 vfat, UUID=), /srv (p3 minix, /dev/vda3) and
#                 /data (p4 btrfs, UUID=); p5 swap
#   root-TYPE.img MBR p1 /boot (ext2, grub) and p2 the root on TYPE: btrfs
#                 (made with --rootdir: a full root), vfat, ntfs, minix,
#                 crypto_LUKS (the last ones empty): -i either finds the OS
#                 or names the layer it cannot read
#   *.tree/       the generated trees (oracle for file contents)
set -euo pipefail
. "$(dirname "$0")/lib-lvm.sh"
. "$(dirname "$0")/lib-fs.sh"
OUT=$(realpath "$1")
mkdir -p "$OUT"
cd "$OUT"
rm -rf ./*.img ./*.tree
export SOURCE_DATE_EPOCH=1700000000 E2FSPROGS_FAKE_TIME=1700000000
PATH=/usr/sbin:/sbin:$PATH
W=$(mktemp -d)
LOOPS=()
cleanup() {
    for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null || true; done
    rm -rf "$W"
}
trap cleanup EXIT
U=01234567-0123-0123-0123-0123456789   # + two digits

# start DISK N: first sector of partition N
start() { sfdisk --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["partitiontable"]["partitions"]['"$2"' - 1]["start"])'; }

# ------------------------------------------------------------------ coreos
R=$W/coreos-root
mkdir -p "$R"/{etc/coreos,usr,root,home}
ln -s usr/bin "$R/bin"
ln -s usr/lib64 "$R/lib64"
ln -s lib64 "$R/lib"
ln -s ../usr/lib/os-release "$R/etc/os-release"
echo "GROUP=stable" >"$R/etc/coreos/update.conf"
echo "coreos.phony" >"$R/etc/hostname"
mkext "$R" "$W/coreos-root.fs" 8 ext4 "${U}12" ROOT
cp -a "$R" coreos-root.tree
R=$W/coreos-usr
mkdir -p "$R"/{bin,lib64,local,share/coreos}
ln -s lib64 "$R/lib"
cat >"$R/lib64/os-release" <<'EOF'
NAME="Container Linux by CoreOS"
ID=coreos
VERSION=1235.12.0
VERSION_ID=1235.12.0
BUILD_ID=2017-02-22-0016
PRETTY_NAME="Container Linux by CoreOS 1235.12.0 (Ladybug)"
ANSI_COLOR="38;5;75"
HOME_URL="https://coreos.com/"
EOF
mkext "$R" "$W/coreos-usr.fs" 8 ext4 "${U}11" USR-A
cp -a "$R" coreos-usr.tree
mkfs.vfat -C -i 12345678 -n EFI-SYSTEM "$W/coreos-efi.fs" 4096 >/dev/null
truncate -s 40M coreos.img
sgdisk -U 01234567-0123-0123-0123-0123456789c0 \
    -n 1:2048:+4M -t 1:ef00 -c 1:EFI_SYSTEM -u 1:01234567-0123-0123-0123-0123456789c1 \
    -n 2:0:+1M -t 2:ef02 -c 2:BIOS-BOOT -u 2:01234567-0123-0123-0123-0123456789c2 \
    -n 3:0:+8M -t 3:8300 -c 3:USR-A -u 3:01234567-0123-0123-0123-0123456789c3 \
    -n 4:0:+8M -t 4:8300 -c 4:USR-B -u 4:01234567-0123-0123-0123-0123456789c4 \
    -n 5:0:0 -t 5:8300 -c 5:ROOT -u 5:01234567-0123-0123-0123-0123456789c5 coreos.img >/dev/null
place "$W/coreos-efi.fs" coreos.img "$(start coreos.img 1)"
place "$W/coreos-usr.fs" coreos.img "$(start coreos.img 3)"
place "$W/coreos-root.fs" coreos.img "$(start coreos.img 5)"

# ------------------------------------------------------------------ debian
R=$W/debian-root
mkdir -p "$R"/{bin,etc,boot,usr,var,home}
cat >"$R/etc/fstab" <<'EOF'
LABEL=BOOT /boot ext2 default 0 0
/dev/debian/root / ext2 default 0 0
/dev/debian/usr /usr ext2 default 1 2
/dev/debian/var /var ext2 default 1 2
/dev/debian/home /home ext2 default 1 2
EOF
echo 5.0.1 >"$R/etc/debian_version"
echo debian.phony >"$R/etc/hostname"
cp /bin/ls "$R/bin/ls"
mkext "$R" "$W/deb-root.fs" 8 ext2 "${U}22"
cp -a "$R" debian-root.tree
V=$W/debian-var
mkdir -p "$V"/{lib/dpkg,lib/urandom,log}
for p in alpha beta gamma; do
    cat <<EOF
Package: phony-$p
Status: installed ok
Priority: optional
Section: misc
Installed-Size: 42
Maintainer: Nobody <nobody@example.invalid>
Architecture: amd64
Source: phony-src
Version: 2.0.$p-3
Description: phony package $p for the inspection tests
 Its long description has two paragraphs.
 .
 This is the second one.
Homepage: https://example.invalid/phony

EOF
done >"$V/lib/dpkg/status"
echo "Jan  1 00:00:00 debian kernel: phony" >"$V/log/syslog"
mkext "$V" "$W/deb-var.fs" 8 ext2 "${U}24"
cp -a "$V" debian-var.tree
mkdir -p "$W/deb-usr/share" "$W/deb-home/user" "$W/deb-boot/grub"
: >"$W/deb-boot/grub/grub.conf"
mkext "$W/deb-usr" "$W/deb-usr.fs" 8 ext2 "${U}23"
mkext "$W/deb-home" "$W/deb-home.fs" 8 ext2 "${U}25"
mkext "$W/deb-boot" "$W/deb-boot.fs" 8 ext2 "${U}21" BOOT
truncate -s 64M debian.img
sfdisk -q debian.img <<'EOF'
label: dos
label-id: 0x0deb0005
start=2048, size=16384, type=83
start=18432, type=8e
EOF
place "$W/deb-boot.fs" debian.img 2048
L=$(losetup -f --show --offset $((18432 * 512)) debian.img)
LOOPS+=("$L")
lvm_private_config "$W" "$L"
lvm pvcreate -q --norestorefile -u phony1-0000-0000-0000-0000-0000-pv0001 "$L"
lvm vgcreate -q -s 1m debian "$L"
pe_start=$(lvm pvs --noheadings --units b --nosuffix -o pe_start "$L" | tr -d ' ')
for lv in root usr var home; do
    lvm lvcreate "${NOACT[@]}" -L 8m -n "$lv" debian
    r=$(lvm lvs --noheadings -o seg_pe_ranges "debian/$lv" | tr -d ' ')
    r=${r#*:}
    dd if="$W/deb-$lv.fs" of="$L" bs=1M seek=$(((pe_start + ${r%-*} * 1048576) / 1048576)) \
        conv=notrunc status=none
done
sync
losetup -d "$L"
LOOPS=()

# ------------------------------------------------------------------ rpm
R=$W/rpm-root
mkdir -p "$R"/{etc,usr/bin,usr/lib/rpm,var/lib/rpm,root}
ln -s usr/bin "$R/bin"
cp /bin/bash "$R/usr/bin/bash"
echo "127.0.0.1 localhost" >"$R/etc/hosts"
echo "Fedora release 39 (Phony)" >"$R/etc/redhat-release"
echo rpm.phony >"$R/etc/hostname"
# librpm inside libguestfs' appliance reads the guest's own configuration
printf '%%_dbpath /var/lib/rpm\n%%_db_backend sqlite\n' >"$R/usr/lib/rpm/macros"
: >"$R/usr/lib/rpm/rpmrc"
mkdir -p "$W/top/SPECS"
cat >"$W/top/SPECS/nourl.spec" <<'EOF'
Name: nourl
Version: 0.9
Release: 1.fc39
BuildArch: noarch
License: MIT
Summary: A package without a URL tag
%description
Nothing to see.
%files
EOF
rpmbuild -bb --quiet --define "_topdir $W/top" --define '_buildhost fixture' \
    "$W/top/SPECS/nourl.spec" >/dev/null 2>&1
rpm --define '_db_backend sqlite' --dbpath "$R/var/lib/rpm" --initdb
rpm --define '_db_backend sqlite' --dbpath "$R/var/lib/rpm" -i --justdb --nodeps --noscripts \
    "$W"/top/RPMS/*/*.rpm 2>/dev/null
rpm --define '_db_backend sqlite' --dbpath "$R/var/lib/rpm" \
    --import /etc/apt/trusted.gpg.d/debian-archive-bookworm-stable.asc
# a checkpointed database, no -wal or -shm beside it
python3 - "$R/var/lib/rpm/rpmdb.sqlite" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
c.execute("PRAGMA journal_mode = DELETE")
c.close()
PY
rm -f "$R"/var/lib/rpm/rpmdb.sqlite-*
mkext "$R" rpm.img 24 ext4 "${U}31"
cp -a "$R" rpm-root.tree

# ------------------------------------------------------------------ noos
R=$W/noos
mkdir -p "$R/data"
echo "just data" >"$R/data/readme.txt"
mkext "$R" "$W/noos.fs" 8 ext4 "${U}41"
truncate -s 16M noos.img
printf 'label: dos\nlabel-id: 0x0000a005\nstart=2048, type=83\n' | sfdisk -q noos.img
place "$W/noos.fs" noos.img 2048

# ------------------------------------------------------------------ layers
# A Linux root: ELF /bin/bash, hostname, fstab with other filesystems
mkroot() { # DIR HOSTNAME
    mkdir -p "$1"/{etc,bin,usr/bin,var,tmp,root,home,boot}
    cp /bin/bash "$1/bin/bash"
    echo "127.0.0.1 localhost" >"$1/etc/hosts"
    echo "$2" >"$1/etc/hostname"
    printf 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' >"$1/etc/os-release"
    echo 12.5 >"$1/etc/debian_version"
}
R=$W/layers
mkroot "$R" layers.phony
mkdir -p "$R"/{boot/efi,srv,data}
cat >"$R/etc/fstab" <<'EOF'
UUID=01234567-0123-0123-0123-012345678951 / ext4 defaults 0 1
UUID=5A5A-0052 /boot/efi vfat umask=0077 0 1
/dev/vda3 /srv minix defaults 0 2
UUID=01234567-0123-0123-0123-012345678954 /data btrfs defaults 0 2
UUID=01234567-0123-0123-0123-012345678955 none swap sw 0 0
EOF
mkext "$R" "$W/layers-root.fs" 12 ext4 "${U}51"
cp -a "$R" layers-root.tree
mkdir -p "$W/efi/EFI/debian"
echo "phony efi loader" >"$W/efi/EFI/debian/grubx64.efi"
mkfs.vfat -C -i 5A5A0052 -n EFI "$W/layers-efi.fs" 4096 >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -s -m -i "$W/layers-efi.fs" "$W/efi/EFI" ::/
cp -a "$W/efi" layers-efi.tree
truncate -s 4M "$W/layers-srv.fs"
mkfs.minix -3 "$W/layers-srv.fs" >/dev/null
mkdir -p "$W/btrfs-data"
echo "data on btrfs" >"$W/btrfs-data/note.txt"
truncate -s 128M "$W/layers-data.fs"
mkfs.btrfs -q -U "${U}54" -L data --rootdir "$W/btrfs-data" "$W/layers-data.fs" >/dev/null
cp -a "$W/btrfs-data" layers-data.tree
truncate -s 4M "$W/layers-swap.fs"
mkswap -q -U "${U}55" "$W/layers-swap.fs" >/dev/null
truncate -s 200M layers.img
sgdisk -U 01234567-0123-0123-0123-0123456789d0 \
    -n 1:2048:+12M -t 1:8300 -u 1:01234567-0123-0123-0123-0123456789d1 \
    -n 2:0:+4M -t 2:ef00 -u 2:01234567-0123-0123-0123-0123456789d2 \
    -n 3:0:+4M -t 3:8300 -u 3:01234567-0123-0123-0123-0123456789d3 \
    -n 4:0:+128M -t 4:8300 -u 4:01234567-0123-0123-0123-0123456789d4 \
    -n 5:0:0 -t 5:8200 -u 5:01234567-0123-0123-0123-0123456789d5 layers.img >/dev/null
place "$W/layers-root.fs" layers.img "$(start layers.img 1)"
place "$W/layers-efi.fs" layers.img "$(start layers.img 2)"
place "$W/layers-srv.fs" layers.img "$(start layers.img 3)"
place "$W/layers-data.fs" layers.img "$(start layers.img 4)"
place "$W/layers-swap.fs" layers.img "$(start layers.img 5)"

# ------------------------------------------------------------------ root-TYPE
mkdir -p "$W/rt-boot/grub"
echo "# phony" >"$W/rt-boot/grub/grub.conf"
mkext "$W/rt-boot" "$W/rt-boot.fs" 8 ext2 "${U}61" BOOT
R=$W/rt-root
mkroot "$R" root-on-layer.phony
echo "LABEL=BOOT /boot ext2 defaults 0 2" >"$R/etc/fstab"
cp -a "$R" root-layer.tree
rootdisk() { # TYPE FSIMG
    truncate -s 160M "root-$1.img"
    printf 'label: dos\nlabel-id: 0x0000b%03d\nstart=2048, size=16384, type=83\nstart=18432, type=83\n' \
        "${#1}" | sfdisk -q "root-$1.img"
    place "$W/rt-boot.fs" "root-$1.img" 2048
    place "$2" "root-$1.img" 18432
}
truncate -s 140M "$W/rt-btrfs.fs"
mkfs.btrfs -q -U "${U}62" --rootdir "$R" "$W/rt-btrfs.fs" >/dev/null
rootdisk btrfs "$W/rt-btrfs.fs"
mkfs.vfat -C -i 5A5A0063 "$W/rt-vfat.fs" 16384 >/dev/null
rootdisk vfat "$W/rt-vfat.fs"
truncate -s 16M "$W/rt-ntfs.fs"
mkntfs -q -F -f -U "$W/rt-ntfs.fs" >/dev/null 2>&1 || mkfs.ntfs -q -F -f "$W/rt-ntfs.fs" >/dev/null
rootdisk ntfs "$W/rt-ntfs.fs"
truncate -s 8M "$W/rt-minix.fs"
mkfs.minix -3 "$W/rt-minix.fs" >/dev/null
rootdisk minix "$W/rt-minix.fs"
truncate -s 32M "$W/rt-luks.fs"
printf 'phony-passphrase' | cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
    --uuid "${U}65" --key-file - "$W/rt-luks.fs"
rootdisk luks "$W/rt-luks.fs"
ls -l
