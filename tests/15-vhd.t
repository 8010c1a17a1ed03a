#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# VHD (vpc) read (test-images/vhd.sh): fixed and dynamic disks qemu-img
# makes, the size rules of the creators (geometry or current size), and a
# guest on VHD read by gcat/gls/ginspect.  Oracle: qemu-img convert/map/info.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-formats.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
dir=$(fixture vhd) || exit 1
cd "$dir"

for f in dynamic fixed fs hyperv azure; do
    same_as_qemu vpc $f.vhd
done
is "$(gimg info -f vpc fixed.vhd)" "$(qemu-img info -f vpc fixed.vhd)" "info (human) fixed.vhd"
is "$(gimg info dynamic.vhd)" "$(qemu-img info dynamic.vhd)" "info (human) dynamic.vhd"
ok "-f vpc is accepted" gimg info -f vpc dynamic.vhd

g=$(fixture guests) || exit 1
for sub in dynamic fixed; do
    qemu-img convert -O vpc -o subformat=$sub "$g/debian.img" "$T/debian-$sub.vhd"
    is "$(gcat --format=vpc -a "$T/debian-$sub.vhd" /etc/fstab 2>&1)" "$(gcat -a "$g/debian.img" /etc/fstab 2>&1)" \
       "gcat of a $sub VHD guest"
    is "$(gls --format=vpc -a "$T/debian-$sub.vhd" -lR /etc 2>&1 | md5sum)" "$(gls -a "$g/debian.img" -lR /etc 2>&1 | md5sum)" \
       "gls -lR of a $sub VHD guest"
    is "$(ginspect --format=vpc -a "$T/debian-$sub.vhd" 2>&1 | md5sum)" "$(ginspect -a "$g/debian.img" 2>&1 | md5sum)" \
       "ginspect of a $sub VHD guest"
done
done_testing
