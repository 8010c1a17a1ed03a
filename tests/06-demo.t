#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make demo keeps working: the demo script builds its guest and every tool
# in the tour runs on it; what they print is what the script put there.
. "$(dirname "$0")/lib.sh"

B=$(dirname "$GK_BIN")
ok "test-images/demo.sh runs the whole tour" sh -c "'$TOP/test-images/demo.sh' '$B' > '$T/demo.out' 2>&1"
D=$B/demo
grep -A1 '^\$ ../bin/gcat disk.qcow2 /etc/hostname' "$T/demo.out" | tail -n 1 >"$T/hostname"
is "$(cat "$T/hostname")" "$(cat "$D/root/etc/hostname")" "gcat printed the guest's /etc/hostname"
ok "the tour ends saying where the tools are" grep -q "^The tools are in $B/bin" "$T/demo.out"
ok "... how to read a man page from the tree" grep -q 'man -l man/gcat.1' "$T/demo.out"
ok "... and what make check runs" grep -q '^Next: make check runs' "$T/demo.out"
ok "the man page the tour names renders" sh -c "MANWIDTH=80 man -l '$TOP/man/gcat.1' | grep -q virt-cat"
is "$(gcat -a "$D/disk.qcow2" /boot/grub/grub.cfg)" "$(cat "$D/boot/grub/grub.cfg")" "/boot is mounted from its own partition"
qemu-img convert -O raw "$D/disk.qcow2" "$T/disk.raw"
is "$(gfilesystems -a "$D/disk.qcow2" --csv --no-title -l | cut -d, -f1,3,4 | tr '\n' ' ')" \
   "/dev/sda1,ext4,boot /dev/sda2,ext4,root " "gfilesystems sees both partitions"
is "$(sgdisk -p "$T/disk.raw" | awk '/^ +[0-9]/ {print $1, $2, $3}' | tr '\n' ' ')" \
   "$(gfsh -a "$D/disk.qcow2" part-list /dev/sda | awk '/part_num/ {n=$2} /part_start/ {s=$2/512} /part_end/ {printf "%s %d %d ", n, s, ($2+1)/512-1}')" \
   "the partitions are where sgdisk put them"
done_testing
