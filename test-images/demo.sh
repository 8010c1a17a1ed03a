#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make demo: build a small demo guest (GPT disk, /boot and / as ext4, an
# fstab by UUID) as a qcow2 overlay on a qcow2 base, then run the tools on it.
set -euo pipefail
B=${1:-build}
BIN=$B/bin
D=$B/demo
rm -rf "$D" && mkdir -p "$D/root/etc" "$D/root/boot" "$D/root/bin" "$D/boot/grub"
export PATH="/usr/sbin:/sbin:$PATH"

ROOT_UUID=5b1d0b1e-0000-4000-8000-00000000d001
BOOT_UUID=5b1d0b1e-0000-4000-8000-00000000d002
echo demo-guest > "$D/root/etc/hostname"
cat > "$D/root/etc/os-release" <<'OS'
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
ID=debian
OS
echo 12.5 > "$D/root/etc/debian_version"
cat > "$D/root/etc/fstab" <<FS
UUID=$ROOT_UUID / ext4 defaults 0 1
UUID=$BOOT_UUID /boot ext4 defaults 0 2
FS
cp /bin/ls "$D/root/bin/ls"
printf 'set timeout=5\nmenuentry "Debian" { linux /vmlinuz root=UUID=%s }\n' "$ROOT_UUID" > "$D/boot/grub/grub.cfg"

# Partition layout (MiB): 1-33 /boot, 33-127 /
truncate -s 128M "$D/disk.raw"
mke2fs -q -F -t ext4 -U "$BOOT_UUID" -L boot -d "$D/boot" -E offset=$((1 << 20)) "$D/disk.raw" 32M
mke2fs -q -F -t ext4 -U "$ROOT_UUID" -L root -d "$D/root" -E offset=$((33 << 20)) "$D/disk.raw" 94M
sgdisk -n 1:1M:+32M -c 1:boot -t 1:8300 -n 2:33M:+94M -c 2:root -t 2:8300 "$D/disk.raw" >/dev/null
qemu-img convert -q -f raw -O qcow2 "$D/disk.raw" "$D/base.qcow2"
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 "$D/disk.qcow2"
rm -f "$D/disk.raw"

run() { printf '\n$ %s\n' "$*"; "$@"; }
cd "$D"
run ../bin/gimg info disk.qcow2 --backing-chain
run ../bin/gfilesystems -a disk.qcow2 --long -h
run ../bin/gcat disk.qcow2 /etc/hostname
run ../bin/gcat -a disk.qcow2 /boot/grub/grub.cfg
run ../bin/gls -a disk.qcow2 -l /etc
run ../bin/gdf -a disk.qcow2 -h
run ../bin/ginspect -a disk.qcow2 --no-applications
printf '\n$ echo "cat /etc/hostname" | gfsh -a disk.qcow2 -i\n'
echo 'cat /etc/hostname' | ../bin/gfsh -a disk.qcow2 -i
cat <<EOF

The demo image is $D/disk.qcow2; try the tools on it.
The tools are in $BIN (make install puts them in /usr/local/bin); their man
pages read from the tree with: man -l man/gcat.1 (gfsh: man -l $B/man/gfsh.1).
Next: make check runs the build, the unit and bad-input tests under
ASan+UBSan, a short fuzz run, then every test through prove (README.md).
EOF
