#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Phony guests for inspection (nothing is booted): filesystems made with
# mke2fs -d from generated trees, partitions with sfdisk/sgdisk, LVM with
# lvm2 over a loop device (no device-mapper: LVs inactive, written in
# place), the rpm database made by rpm itself.  Real host ELF binaries
# (/bin/bash) give the architecture.
#
#   debian.img     MBR: p1 ext2 /boot (UUID ...901, /grub/grub.conf),
#                  p2 PV of VG deb-vg: LVs root (ext4 ...902), var (ext4
#                  ...903, holds the dpkg status), swap (...904).  fstab by
#                  UUID=, /dev/mapper/deb--vg-root, /dev/deb-vg/var and (swap)
#                  /dev/disk/by-id/dm-uuid-LVM-<VG uuid><LV uuid>.  os-release says
#                  12 without a minor, debian_version 12.5.
#   debian-base.qcow2 + debian.qcow2  the same disk as a qcow2 chain
#   ubuntu.img     MBR p1 ext4: only /etc/lsb-release; fstab by
#                  /dev/disk/by-uuid/ plus entries that do not resolve; the
#                  build host's own dpkg status (copy in dpkg-host/status)
#   fedora.img     GPT BOOT + ROOT (LABEL=), usr-merged root (/bin ->
#                  usr/bin), /usr/bin/dnf, rpmdb.sqlite made by rpm,
#                  hostname in /etc/sysconfig/network
#   alpine.img     ext4 on the whole disk, apk installed db
#   arch.img       MBR p1, empty /etc/arch-release, pacman local db,
#                  fstab by /dev/vda1
#   usrsplit.img   GPT: root + separate /usr (PARTLABEL=, PARTUUID=), the
#                  root's os-release a link into /usr (RHEL 9.2)
#   neon.img       MBR p1: ID=neon (unknown) with ID_LIKE="ubuntu debian",
#                  fstab by /dev/disk/by-id/...-part1 (a single disk)
#   multiboot.img  MBR p1 Debian 11 (debian_version only), p2 openSUSE
#   distros.img    GPT with ten small roots, one per release-file flavour
#                  (CentOS 7, RHEL 6, Fedora 14, SLES 12 SP5, Rocky, Void,
#                  a redhat-based, Gentoo, Linux Mint, openSUSE 13.1)
#   rpmdb-wal/     copy of the Fedora guest's rpm database: rpmdb.sqlite and
#                  an rpmdb.sqlite-wal not checkpointed (oracle: rpm -qa)
#   rpmdb.sqlite   a database rpm made, all four packages (for rpmhdr tests)
#   dpkg/status    copy of the Debian guest's dpkg status (oracle: dpkg-query)
#   *.tree/        the generated trees (oracle for file contents)
set -euo pipefail
. "$(dirname "$0")/lib-lvm.sh"
. "$(dirname "$0")/lib-fs.sh"
OUT=$(realpath "$1")
mkdir -p "$OUT"
cd "$OUT"
rm -rf ./*.img ./*.qcow2 ./*.tree ./rpmdb.sqlite ./rpmdb-wal ./dpkg ./dpkg-host ./rpms ./distros.txt
export SOURCE_DATE_EPOCH=1700000000
W=$(mktemp -d)
LOOPS=()
cleanup() {
    for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null || true; done
    rm -rf "$W"
}
trap cleanup EXIT

U=01234567-0123-0123-0123-0123456789   # + two digits: fixed UUIDs


# A minimal Linux root: /etc, a real ELF /bin/bash, fstab, hostname.
mkroot() { # DIR HOSTNAME
    mkdir -p "$1"/{etc,bin,usr/bin,var,tmp,root,home,boot}
    cp /bin/bash "$1/bin/bash"
    echo "127.0.0.1 localhost" >"$1/etc/hosts"
    [ -n "$2" ] && printf '%s\n' "$2" >"$1/etc/hostname"
    return 0
}

dpkg_status() { # FILE: a status file with the cases the parser must get right
    cat >"$1" <<'EOF'
Package: bash
Essential: yes
Status: install ok installed
Priority: required
Section: shells
Installed-Size: 7164
Maintainer: Matthias Klose <doko@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 5.2.15-2+b2
Homepage: http://tiswww.case.edu/php/chet/bash/bashtop.html
Description: GNU Bourne Again SHell
 Bash is an sh-compatible command language interpreter that executes
 commands read from the standard input or from a file.
 .
 Bash can be configured to be POSIX-conformant by default.

Package: libc6
Status: install ok installed
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Priority: optional
Section: libs
Architecture: amd64
Multi-Arch: same
Source: glibc (2.36-9+deb12u4)
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.
Homepage: https://www.gnu.org/software/libc/libc.html

Package: openssh-client
Maintainer: Phony Maintainer <phony@example.invalid>
Status: install ok installed
Architecture: amd64
Source: openssh
Version: 1:9.2p1-2+deb12u2
Description: secure shell (SSH) client, for secure access to remote machines

Package: removed-pkg
Maintainer: Phony Maintainer <phony@example.invalid>
Status: deinstall ok config-files
Architecture: all
Version: 1.0-1
Description: only its configuration files are left

Package: broken-pkg
Maintainer: Phony Maintainer <phony@example.invalid>
Status: install reinstreq half-installed
Architecture: all
Version: 2.0-1
Description: half installed

Package: multi-dash
Maintainer: Phony Maintainer <phony@example.invalid>
Status: install ok installed
Architecture: all
Version: 1.2-3-4
Description: upstream version with a hyphen

Package: base-files
Maintainer: Phony Maintainer <phony@example.invalid>
Status: install ok installed
Architecture: amd64
Version: 12.4+deb12u5
Description: Debian base system miscellaneous files
EOF
}

# ------------------------------------------------------------------ debian
T=$W/debian-root
mkroot "$T" debian.invalid
cat >"$T/etc/os-release" <<'EOF'
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
EOF
echo 12.5 >"$T/etc/debian_version"
cat >"$T/etc/fstab" <<EOF
# /etc/fstab: static file system information.
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
/dev/mapper/deb--vg-root /               ext4    errors=remount-ro 0       1
UUID=${U}01 /boot           ext2    defaults        0       2
/dev/deb-vg/var /var            ext4    defaults        0       2
@SWAP@ none            swap    sw              0       0
proc            /proc           proc    defaults        0       0
/dev/sr0        /media/cdrom0   udf,iso9660 user,noauto     0       0
EOF
mkdir -p "$W/debian-var"/{lib/dpkg,log,cache}
dpkg_status "$W/debian-var/lib/dpkg/status"
mkdir -p "$OUT/dpkg" && cp "$W/debian-var/lib/dpkg/status" "$OUT/dpkg/status"
mkext "$W/debian-var" "$W/deb-var.fs" 8 ext4 "${U}03"
mkdir -p "$W/debian-boot/grub"
echo "# phony grub" >"$W/debian-boot/grub/grub.conf"
mkext "$W/debian-boot" "$W/deb-boot.fs" 8 ext2 "${U}01" BOOT
mkswap -q -U "${U}04" -L SWAP "$W/deb-swap.fs" 4M 2>/dev/null || {
    truncate -s 4M "$W/deb-swap.fs"; mkswap -U "${U}04" -L SWAP "$W/deb-swap.fs" >/dev/null; }

truncate -s 64M debian.img
sfdisk -q debian.img <<'EOF'
label: dos
label-id: 0x0deb1a00
start=2048, size=16384, type=83, bootable
start=18432, type=8e
EOF
place "$W/deb-boot.fs" debian.img 2048

L=$(losetup -f --show --offset $((18432 * 512)) debian.img)
LOOPS+=("$L")
lvm_private_config "$W" "$L"
lvm pvcreate -q --norestorefile -u gkdeb1-0000-0000-0000-0000-0000-pv0001 "$L"
lvm vgcreate -q -s 1m deb-vg "$L"
lvm lvcreate "${NOACT[@]}" -L 20m -n root deb-vg
lvm lvcreate "${NOACT[@]}" -L 8m -n var deb-vg
lvm lvcreate "${NOACT[@]}" -L 4m -n swap deb-vg
pe_start=$(lvm pvs --noheadings --units b --nosuffix -o pe_start "$L" | tr -d ' ')
lvstart() { # LV -> byte offset inside the PV
    local r
    r=$(lvm lvs --noheadings -o seg_pe_ranges "deb-vg/$1" | tr -d ' ')
    r=${r#*:}
    echo $((pe_start + ${r%-*} * 1048576))
}
# the swap LV by its LVM UUIDs, the way Ubuntu 22+ installers write it
vgu=$(lvm vgs --noheadings -o vg_uuid deb-vg | tr -d ' -')
lvu=$(lvm lvs --noheadings -o lv_uuid deb-vg/swap | tr -d ' -')
sed -i "s|@SWAP@|/dev/disk/by-id/dm-uuid-LVM-$vgu$lvu|" "$W/debian-root/etc/fstab"
mkext "$W/debian-root" "$W/deb-root.fs" 20 ext4 "${U}02"
cp -a "$W/debian-root" "$OUT/debian.tree"
for lv in root var swap; do
    dd if="$W/deb-$lv.fs" of="$L" bs=1M seek=$(($(lvstart $lv) / 1048576)) conv=notrunc status=none
done
sync
losetup -d "$L"
LOOPS=()
qemu-img convert -f raw -O qcow2 debian.img debian-base.qcow2
qemu-img create -q -f qcow2 -F qcow2 -b debian-base.qcow2 debian.qcow2

# ------------------------------------------------------------------ ubuntu
T=$W/ubuntu
mkroot "$T" ""
printf '# the name of this machine\n\nubuntu-host\nsecond-line\n' >"$T/etc/hostname"
cat >"$T/etc/lsb-release" <<'EOF'
DISTRIB_ID=Ubuntu
DISTRIB_RELEASE=22.04
DISTRIB_CODENAME=jammy
DISTRIB_DESCRIPTION="Ubuntu 22.04.3 LTS"
EOF
cat >"$T/etc/fstab" <<EOF
/dev/disk/by-uuid/${U}11 /   ext4 defaults 0 1
/dev/mapper/cryptswap1 none swap sw 0 0
UUID=deadbeef-0000-0000-0000-000000000000 /data ext4 defaults 0 2
LABEL=nosuchlabel /srv ext4 defaults 0 2
/dev/sdz3 /mnt/z ext4 defaults 0 2
/dev/vdb1 ///other//disk/ ext4 defaults 0 2
tmpfs /tmp tmpfs defaults 0 0
/dev/fd0 /mnt/floppy auto noauto 0 0
EOF
mkdir -p "$T/var/lib/dpkg" "$OUT/dpkg-host"
# a real status file: the build host's own (hundreds of packages)
if [ -s /var/lib/dpkg/status ]; then
    cp /var/lib/dpkg/status "$T/var/lib/dpkg/status"
else
    dpkg_status "$T/var/lib/dpkg/status"
fi
cp "$T/var/lib/dpkg/status" "$OUT/dpkg-host/status"
mkext "$T" "$W/ubuntu.fs" 24 ext4 "${U}11"
cp -a "$T" "$OUT/ubuntu.tree"
truncate -s 32M ubuntu.img
printf 'label: dos\nlabel-id: 0x0b0b0b0b\nstart=2048, type=83\n' | sfdisk -q ubuntu.img
place "$W/ubuntu.fs" ubuntu.img 2048

# ------------------------------------------------------------------ fedora
T=$W/fedora
mkdir -p "$T"/{etc/sysconfig,usr/bin,usr/lib,var/lib/rpm,boot,root,home}
ln -s usr/bin "$T/bin"
ln -s usr/lib "$T/lib"
cp /bin/bash "$T/usr/bin/bash"
printf '#!/bin/sh\n' >"$T/usr/bin/dnf"
cat >"$T/usr/lib/os-release" <<'EOF'
NAME="Fedora Linux"
VERSION="39 (Thirty Nine)"
ID=fedora
VERSION_ID=39
PRETTY_NAME="Fedora Linux 39 (Thirty Nine)"
EOF
ln -s ../usr/lib/os-release "$T/etc/os-release"
echo "Fedora release 39 (Thirty Nine)" >"$T/etc/fedora-release"
ln -s fedora-release "$T/etc/redhat-release"
printf 'NETWORKING=yes\nHOSTNAME="fedora.invalid"\n' >"$T/etc/sysconfig/network"
cat >"$T/etc/fstab" <<'EOF'
LABEL=ROOT / ext4 defaults 1 1
LABEL=BOOT /boot ext4 defaults 1 2
EOF
# packages made by rpmbuild, installed with rpm --justdb into a sqlite db
mkdir -p "$W/top/SPECS"
mkspec() { # name epoch version release arch url summary
    {
        echo "Name: $1"
        [ "$2" != 0 ] && echo "Epoch: $2"
        echo "Version: $3"
        echo "Release: $4"
        [ "$5" = noarch ] && echo "BuildArch: noarch"
        echo "License: MIT"
        [ -n "$6" ] && echo "URL: $6"
        echo "Summary: $7"
        printf '%%description\n%s, the long description.\nIt has a second line.\n\n%%files\n' "$7"
    } >"$W/top/SPECS/$1.spec"
    rpmbuild -bb --quiet --define "_topdir $W/top" --define '_buildhost fixture' \
        "$W/top/SPECS/$1.spec" >/dev/null 2>&1
}
mkspec hello 2 1.0 3.fc39 x86_64 https://example.org/hello "Says hello"
mkspec basesystem 0 11 13.fc39 noarch "" "The skeleton package which defines a simple Fedora system"
mkspec zlib-ng 0 2.1.3 1.fc39 x86_64 https://github.com/zlib-ng/zlib-ng "Zlib replacement with optimizations"
mkspec alternatives 0 1.26 1.fc39 x86_64 https://github.com/fedora-sysv/chkconfig "A tool to maintain symbolic links"
mkdir -p "$W/rpmdb" "$OUT/rpms"
cp "$W"/top/RPMS/*/*.rpm "$OUT/rpms/"
rpm --define '_db_backend sqlite' --dbpath "$W/rpmdb" --initdb
rpm --define '_db_backend sqlite' --dbpath "$W/rpmdb" -i --justdb --nodeps --noscripts \
    --ignorearch "$W"/top/RPMS/*/*.rpm 2>/dev/null
# As in the image of a running VM, the last transaction (basesystem
# erased) is still in rpmdb.sqlite-wal, not checkpointed: the pair is
# copied while the connection that wrote it is open.
mkdir -p "$OUT/rpmdb-wal"
python3 - "$W/rpmdb" "$OUT/rpmdb-wal" <<'PY'
import shutil, sqlite3, sys
src, dst = sys.argv[1], sys.argv[2]
c = sqlite3.connect(src + "/rpmdb.sqlite")
assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
c.execute("PRAGMA wal_autocheckpoint = 0")
hnum = None
for h, blob in c.execute("SELECT hnum, blob FROM Packages"):
    if b"basesystem\0" in blob:
        hnum = h
c.execute("DELETE FROM Packages WHERE hnum = ?", (hnum,))
c.commit()
for f in ("rpmdb.sqlite", "rpmdb.sqlite-wal"):
    shutil.copy(src + "/" + f, dst + "/" + f)
c.close()
PY
cp "$OUT/rpmdb-wal/rpmdb.sqlite" "$OUT/rpmdb-wal/rpmdb.sqlite-wal" "$T/var/lib/rpm/"
cp "$W/rpmdb/rpmdb.sqlite" "$OUT/rpmdb.sqlite"
mkext "$T" "$W/fedora-root.fs" 24 ext4 "${U}22" ROOT
mkdir -p "$W/fedora-boot/grub2"
echo "# phony" >"$W/fedora-boot/grub2/grub.cfg"
mkext "$W/fedora-boot" "$W/fedora-boot.fs" 8 ext4 "${U}21" BOOT
cp -a "$T" "$OUT/fedora.tree"
truncate -s 48M fedora.img
sgdisk -U 01234567-0123-0123-0123-0123456789f0 \
    -n 1:2048:+8M -t 1:8300 -u 1:01234567-0123-0123-0123-0123456789f1 -c 1:boot \
    -n 2:0:0 -t 2:8300 -u 2:01234567-0123-0123-0123-0123456789f2 -c 2:root fedora.img >/dev/null
place "$W/fedora-boot.fs" fedora.img 2048
place "$W/fedora-root.fs" fedora.img $((2048 + 16384))

# ------------------------------------------------------------------ alpine
T=$W/alpine
mkroot "$T" alpine.invalid
mkdir -p "$T/lib/apk/db"
cat >"$T/etc/os-release" <<'EOF'
NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.18.4
PRETTY_NAME="Alpine Linux v3.18"
HOME_URL="https://alpinelinux.org/"
EOF
echo 3.18.4 >"$T/etc/alpine-release"
echo "UUID=${U}31 / ext4 rw,relatime 0 1" >"$T/etc/fstab"
cat >"$T/lib/apk/db/installed" <<'EOF'
C:Q1abcdefghijklmnopqrstuvwxyz0123=
P:musl
V:1.2.4-r2
A:x86_64
S:383152
I:622592
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>
F:lib
R:ld-musl-x86_64.so.1

C:Q1bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb=
P:busybox
V:1.36.1-r5
A:x86_64
T:Size optimized toolbox of many common UNIX utilities
U:https://busybox.net/

C:Q1cccccccccccccccccccccccccccccccc=
P:alpine-baselayout
V:3.4.3-r1
A:x86_64
T:Alpine base dir structure and init scripts
U:https://git.alpinelinux.org/cgit/aports/tree/main/alpine-baselayout
EOF
mkext "$T" alpine.img 24 ext4 "${U}31"
cp -a "$T" "$OUT/alpine.tree"

# ------------------------------------------------------------------ arch
T=$W/arch
mkroot "$T" arch.invalid
: >"$T/etc/arch-release"
echo "/dev/vda1 / ext4 rw,relatime 0 1" >"$T/etc/fstab"
mkdir -p "$T/var/lib/pacman/local/test-package-1:0.1-1" "$T/var/lib/pacman/local/zlib-1:1.3-1"
echo 9 >"$T/var/lib/pacman/local/ALPM_DB_VERSION"
cat >"$T/var/lib/pacman/local/test-package-1:0.1-1/desc" <<'EOF'
%NAME%
test-package

%VERSION%
1:0.1-1

%DESC%
Dummy package

%URL%
http://www.example.com

%ARCH%
x86_64

EOF
cat >"$T/var/lib/pacman/local/zlib-1:1.3-1/desc" <<'EOF'
%NAME%
zlib

%VERSION%
1:1.3-1

%DESC%
Compression library implementing the deflate compression method found in gzip and PKZIP

%URL%
https://www.zlib.net/

%ARCH%
x86_64
EOF
mkext "$T" "$W/arch.fs" 24 ext4 "${U}41"
cp -a "$T" "$OUT/arch.tree"
truncate -s 32M arch.img
printf 'label: dos\nlabel-id: 0x0a0a0a0a\nstart=2048, type=83\n' | sfdisk -q arch.img
place "$W/arch.fs" arch.img 2048

# ------------------------------------------------------------------ usrsplit
T=$W/usrsplit-root
mkdir -p "$T"/{etc,usr,var,root}
ln -s usr/bin "$T/bin"
ln -s usr/lib "$T/lib"
ln -s ../usr/lib/os-release "$T/etc/os-release"
echo rhel.invalid >"$T/etc/hostname"
cat >"$T/etc/fstab" <<'EOF'
PARTLABEL=root / xfs defaults 0 0
PARTUUID=01234567-0123-0123-0123-0123456789e2 /usr xfs defaults 0 0
EOF
mkext "$T" "$W/usrsplit-root.fs" 8 ext4 "${U}51"
T=$W/usrsplit-usr
mkdir -p "$T"/{bin,lib,local,share,src,sbin}
cp /bin/bash "$T/bin/bash"
cat >"$T/lib/os-release" <<'EOF'
NAME="Red Hat Enterprise Linux"
VERSION="9.2 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.2"
PRETTY_NAME="Red Hat Enterprise Linux 9.2 (Plow)"
BUILD_ID="20230419.0"
EOF
mkext "$T" "$W/usrsplit-usr.fs" 16 ext4 "${U}52"
cp -a "$W/usrsplit-root" "$OUT/usrsplit.tree"
cp -a "$T" "$OUT/usrsplit-usr.tree"
truncate -s 32M usrsplit.img
sgdisk -U 01234567-0123-0123-0123-0123456789e0 \
    -n 1:2048:+8M -t 1:8300 -u 1:01234567-0123-0123-0123-0123456789e1 -c 1:root \
    -n 2:0:0 -t 2:8300 -u 2:01234567-0123-0123-0123-0123456789e2 -c 2:usr usrsplit.img >/dev/null
place "$W/usrsplit-root.fs" usrsplit.img 2048
place "$W/usrsplit-usr.fs" usrsplit.img $((2048 + 16384))

# ------------------------------------------------------------------ neon
T=$W/neon
mkroot "$T" neon.invalid
cat >"$T/etc/os-release" <<'EOF'
NAME="KDE neon"
VERSION="5.27"
ID=neon
ID_LIKE="ubuntu debian"
PRETTY_NAME="KDE neon 5.27"
VERSION_ID="22.04"
UBUNTU_CODENAME=jammy
EOF
printf 'DISTRIB_ID=neon\nDISTRIB_RELEASE=22.04\nDISTRIB_DESCRIPTION="KDE neon 5.27"\n' >"$T/etc/lsb-release"
echo "/dev/disk/by-id/virtio-neon0001-part1 / ext4 defaults 0 1" >"$T/etc/fstab"
mkext "$T" "$W/neon.fs" 16 ext4 "${U}61"
cp -a "$T" "$OUT/neon.tree"
truncate -s 24M neon.img
printf 'label: dos\nlabel-id: 0x0e0e0e0e\nstart=2048, type=83\n' | sfdisk -q neon.img
place "$W/neon.fs" neon.img 2048

# ------------------------------------------------------------------ multiboot
T=$W/mb1
mkroot "$T" bullseye.invalid
echo 11.9 >"$T/etc/debian_version"
echo "/dev/sda1 / ext4 defaults 0 1" >"$T/etc/fstab"
mkext "$T" "$W/mb1.fs" 12 ext4 "${U}71"
cp -a "$T" "$OUT/multiboot-1.tree"
T=$W/mb2
mkroot "$T" leap.invalid
cat >"$T/etc/os-release" <<'EOF'
NAME="openSUSE Leap"
VERSION="15.5"
ID="opensuse-leap"
ID_LIKE="suse opensuse"
VERSION_ID="15.5"
PRETTY_NAME="openSUSE Leap 15.5"
EOF
echo "/dev/sda2 / ext4 defaults 0 1" >"$T/etc/fstab"
mkext "$T" "$W/mb2.fs" 12 ext4 "${U}72"
cp -a "$T" "$OUT/multiboot-2.tree"
truncate -s 32M multiboot.img
sfdisk -q multiboot.img <<'EOF'
label: dos
label-id: 0x0bb00bb0
start=2048, size=24576, type=83
start=26624, type=83
EOF
place "$W/mb1.fs" multiboot.img 2048
place "$W/mb2.fs" multiboot.img 26624

# ------------------------------------------------------------------ distros
# One GPT disk, one small root per partition, each identified by a
# different release file (libguestfs' linux_root_tests): a multi-boot
# report with ten roots.  distros.txt: partition, then the release file.
DT=$W/distros
mkdistro() { # N RELFILE CONTENT [RELFILE CONTENT]...
    local n=$1 d=$DT/$1
    shift
    mkdir -p "$d"/{etc,bin,usr/bin}
    echo "127.0.0.1 localhost" >"$d/etc/hosts"
    echo "LABEL=root$n / ext4 defaults 0 1" >"$d/etc/fstab"
    while [ $# -ge 2 ]; do
        mkdir -p "$(dirname "$d/$1")"
        printf '%b' "$2" >"$d/$1"
        echo "$n $1" >>"$OUT/distros.txt"
        shift 2
    done
}
: >"$OUT/distros.txt"
mkdistro 1 etc/os-release 'ID="centos"\nVERSION_ID="7"\nPRETTY_NAME="CentOS Linux 7 (Core)"\n' \
           etc/centos-release 'CentOS Linux release 7.9.2009 (Core)\n'
mkdistro 2 etc/redhat-release 'Red Hat Enterprise Linux Server release 6.10 (Santiago)\n'
mkdistro 3 etc/redhat-release 'Fedora release 14 (Phony)\n'
mkdistro 4 etc/os-release 'ID="sles"\nVERSION_ID="12.5"\nPRETTY_NAME="SUSE Linux Enterprise Server 12 SP5"\n'
mkdistro 5 etc/os-release 'ID="rocky"\nVERSION_ID="9.3"\nPRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"\n'
mkdistro 6 etc/os-release 'NAME="Void"\nID="void"\nPRETTY_NAME="Void Linux"\n'
mkdistro 7 etc/redhat-release 'Foobar Linux release 1.2 (Test)\n'
mkdistro 8 etc/gentoo-release 'Gentoo Base System release 2.14\n'
mkdistro 9 etc/lsb-release 'DISTRIB_ID=LinuxMint\nDISTRIB_RELEASE=21.2\nDISTRIB_CODENAME=victoria\nDISTRIB_DESCRIPTION="Linux Mint 21.2 Victoria"\n'
mkdistro 10 etc/SuSE-release 'openSUSE 13.1 (x86_64)\nVERSION = 13.1\nCODENAME = Bottle\n'
cp -a "$DT" "$OUT/distros.tree"
truncate -s 80M distros.img
args=()
for n in $(seq 1 10); do
    args+=(-n "$n:0:+6M" -t "$n:8300" -u "$n:01234567-0123-0123-0123-0123456789$(printf %02d $((n + 80)))")
done
sgdisk -U 01234567-0123-0123-0123-012345678980 "${args[@]}" distros.img >/dev/null
for n in $(seq 1 10); do
    mkext "$DT/$n" "$W/distro$n.fs" 6 ext4 "${U}$(printf %02d $((n + 80)))" "root$n"
    start=$(sgdisk -i "$n" distros.img | awk '/^First sector/ {print $3}')
    place "$W/distro$n.fs" distros.img "$start"
done

ls -l
