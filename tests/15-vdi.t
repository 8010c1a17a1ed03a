#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# VDI read (test-images/vdi.sh): static and dynamic images qemu-img makes,
# an odd size, a VirtualBox-style image (out-of-order and discarded
# blocks), and a guest on VDI read by gcat/gls/ginspect.  Oracle: qemu-img
# convert/map (JSON and text)/info/check (text and JSON).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-formats.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
dir=$(fixture vdi) || exit 1
cd "$dir"

for f in static dynamic odd vbox; do
    same_as_qemu vdi $f.vdi
done
is "$(gimg info dynamic.vdi)" "$(qemu-img info dynamic.vdi)" "info (human) dynamic.vdi"
for f in static dynamic odd vbox; do
    like_qemu_img "check $f.vdi as qemu-img check" check $f.vdi
    like_qemu_img "check --output=json $f.vdi as qemu-img's" check --output=json $f.vdi
done
ok "probed as vdi" sh -c 'gimg info --output=json vbox.vdi | grep -q "\"format\": \"vdi\""'

g=$(fixture guests) || exit 1
qemu-img convert -O vdi "$g/debian.img" "$T/debian.vdi"
is "$(gcat -a "$T/debian.vdi" /etc/fstab 2>&1)" "$(gcat -a "$g/debian.img" /etc/fstab 2>&1)" "gcat of a VDI guest"
is "$(gls -a "$T/debian.vdi" -lR /etc 2>&1 | md5sum)" "$(gls -a "$g/debian.img" -lR /etc 2>&1 | md5sum)" \
   "gls -lR of a VDI guest"
is "$(ginspect -a "$T/debian.vdi" 2>&1 | md5sum)" "$(ginspect -a "$g/debian.img" 2>&1 | md5sum)" \
   "ginspect of a VDI guest"
done_testing
