#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg create -f vmdk and gimg convert -O vmdk (monolithicSparse): qemu-img
# reads back what we wrote (qemu-img check, compare, convert -O raw) and
# describes it as it describes its own.  streamOptimized output is not
# written yet: refused by name.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-formats.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
dir=$(fixture vmdk) || exit 1

ok "create -f vmdk" gimg create -q -f vmdk "$T/e.vmdk" 100M
ok "qemu-img check of an empty image" qemu-img check "$T/e.vmdk"
qemu-img create -q -f vmdk "$T/q.vmdk" 100M
is "$(qemu-img info --output=json "$T/e.vmdk" | info_fields | grep -v 'filename\|actual-size')" \
   "$(qemu-img info --output=json "$T/q.vmdk" | info_fields | grep -v 'filename\|actual-size')" \
   "qemu-img describes it as its own monolithicSparse image"

for src in "$dir/src.raw" "$dir/monolithicSparse.vmdk" "$dir/vmw.vmdk" "$dir/twoGbMaxExtentFlat.vmdk"; do
    n=$(basename "$src")
    rm -f "$T/o.vmdk"
    ok "convert -O vmdk $n" gimg convert -O vmdk "$src" "$T/o.vmdk"
    ok "qemu-img check of it" qemu-img check "$T/o.vmdk"
    ok "qemu-img compare: the same disk as $n" qemu-img compare "$src" "$T/o.vmdk"
done
rm -f "$T/z.vmdk"
ok "convert -O vmdk -o zeroed_grain=on" gimg convert -O vmdk -o zeroed_grain=on "$dir/zg.vmdk" "$T/z.vmdk"
ok "qemu-img compare zg.vmdk" qemu-img compare "$dir/zg.vmdk" "$T/z.vmdk"
fails_cleanly "streamOptimized output is refused (not written yet)" \
    gimg convert -O vmdk -o subformat=streamOptimized "$dir/src.raw" "$T/s.vmdk"

g=$(fixture guests) || exit 1
ok "convert a guest to vmdk" gimg convert -O vmdk "$g/debian.img" "$T/debian.vmdk"
ok "qemu-img check of the guest" qemu-img check "$T/debian.vmdk"
ok "qemu-img compare with the guest" qemu-img compare "$g/debian.img" "$T/debian.vmdk"
is "$(gcat -a "$T/debian.vmdk" /etc/fstab 2>&1)" "$(gcat -a "$g/debian.img" /etc/fstab 2>&1)" "gcat of it"
done_testing
