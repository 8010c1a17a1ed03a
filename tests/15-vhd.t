#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# VHD (vpc) read (test-images/vhd.sh): fixed and dynamic disks qemu-img
# makes, the size rules of the creators (geometry or current size), a
# differencing disk with parent locators (read as qemu 7.2 reads it, without
# its parent, with a warning), and a
# guest on VHD read by gcat/gls/ginspect.  Oracle: qemu-img convert/map/info.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-formats.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
dir=$(fixture vhd) || exit 1
cd "$dir"

for f in dynamic fixed fs hyperv azure; do
    same_as_qemu vpc $f.vhd
done
# a differencing disk: read as qemu 7.2 reads it (dynamic, no parent), but
# with a warning naming the parent
qemu-img convert -O raw diff.vhd "$T/q.raw"
ok "convert diff.vhd runs" gimg convert -O raw diff.vhd "$T/g.raw"
same_file "$T/g.raw" "$T/q.raw" "convert diff.vhd: same bytes as qemu-img convert"
is "$(gimg map --output=json diff.vhd 2>/dev/null)" "$(qemu-img map --output=json diff.vhd)" "map diff.vhd: as qemu-img map"
is "$(gimg map diff.vhd 2>/dev/null)" "$(qemu-img map diff.vhd)" "map diff.vhd (text): as qemu-img map"
is "$(gimg info --output=json diff.vhd 2>/dev/null | info_fields)" "$(qemu-img info --output=json diff.vhd | info_fields)" \
   "info diff.vhd: the fields of qemu-img info"
gimg info diff.vhd >/dev/null 2>"$T/err"
grep -q 'differencing VHD: its parent "parent.vhd" is not read' "$T/err"; is $? 0 "diff.vhd: a warning names the parent"
is "$(qemu-img info --output=json diff.vhd | grep -c backing)" 0 "(qemu-img names no backing file for it)"
is "$(gimg info diff.vhd 2>/dev/null)" "$(qemu-img info diff.vhd)" "info (human) diff.vhd"
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
