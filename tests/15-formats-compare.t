#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg convert -O qcow2 and gimg compare on VMDK, VDI, VHD and VHDX images
# (the fixtures of tests/15-{vmdk,vdi,vhd,vhdx}.t), with qemu-img 7.2 as the
# oracle: convert -O qcow2 writes the very bytes of qemu-img convert -O
# qcow2 of the same image, convert -c -O qcow2 the same allocation (qemu-img
# map less host offsets), a clean qemu-img check and qemu-img compare equal
# to the source; compare (and compare -s) of pairs across the formats prints
# qemu-img compare's line and exits with its status.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
for k in vmdk vdi vhd vhdx; do
    d=$(fixture $k) || exit 1
    ln -sfn "$d" "$T/$k"
done
cd "$T"

nomap() { qemu-img map --output=json "$1" | sed 's/, "offset": [0-9]*//'; }
for f in vmdk/monolithicSparse.vmdk vmdk/so.vmdk vmdk/vmw.vmdk vmdk/twoGbMaxExtentFlat.vmdk vmdk/child.vmdk \
         vmdk/zg.vmdk vdi/dynamic.vdi vdi/static.vdi vdi/vbox.vdi vhd/dynamic.vhd vhdx/dynamic.vhdx \
         vhdx/fixed.vhdx; do
    rm -f g.qcow2 q.qcow2
    ok "convert -O qcow2 $f" gimg convert -O qcow2 "$f" g.qcow2
    qemu-img convert -O qcow2 "$f" q.qcow2
    same_file g.qcow2 q.qcow2 "  the bytes of qemu-img convert -O qcow2"
    rm -f g.qcow2 q.qcow2
    ok "convert -c -O qcow2 $f" gimg convert -c -O qcow2 "$f" g.qcow2
    qemu-img convert -c -O qcow2 "$f" q.qcow2
    is "$(nomap g.qcow2)" "$(nomap q.qcow2)" "  qemu-img map: qemu-img's allocation"
    ok "  qemu-img check clean" qemu-img check -q g.qcow2
    ok "  qemu-img compare: equal to the source" qemu-img compare -q "$f" g.qcow2
done
# a fixed VHD is probed as raw (by qemu-img too): -f vpc
rm -f g.qcow2 q.qcow2
gimg convert -f vpc -O qcow2 vhd/fixed.vhd g.qcow2
qemu-img convert -f vpc -O qcow2 vhd/fixed.vhd q.qcow2
same_file g.qcow2 q.qcow2 "convert -f vpc -O qcow2 vhd/fixed.vhd: the bytes of qemu-img's"

# compare: identical disks in other formats, data against holes, other
# sizes, a child against its parent
for p in "vmdk/monolithicSparse.vmdk vmdk/twoGbMaxExtentSparse.vmdk" "vmdk/so.vmdk vmdk/vmw.vmdk" \
         "vmdk/so.vmdk vmdk/src.raw" "vdi/static.vdi vdi/dynamic.vdi" "vdi/dynamic.vdi vhdx/dynamic.vhdx" \
         "vhd/dynamic.vhd vhdx/dynamic.vhdx" "vmdk/monolithicSparse.vmdk vhdx/dynamic.vhdx" \
         "vmdk/child.vmdk vmdk/base.vmdk" "vdi/odd.vdi vdi/dynamic.vdi" "vhdx/fixed.vhdx vdi/vbox.vdi"; do
    # shellcheck disable=SC2086
    like_qemu_img "compare $p" compare $p
    # shellcheck disable=SC2086
    like_qemu_img "compare -s $p" compare -s $p
done
done_testing
