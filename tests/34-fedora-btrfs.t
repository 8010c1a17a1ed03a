#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Fedora-like guest (test-images/fedora-btrfs.sh): ESP (FAT32), /boot
# ext4, / and /home from the btrfs subvolumes root and home that its fstab
# names with subvol=.  -i must mount all four: gcat, gls -lR (against what
# the kernel showed of each subvolume), gdf (against the kernel's df),
# ginspect, gfilesystems and gdf against what virt-inspector,
# virt-filesystems and virt-df printed for the same image
# (tests/data/btrfs/), gfsh -i.
. "$(dirname "$0")/lib.sh"
D=$(fixture fedora-btrfs) || skip_all "fixture fedora-btrfs failed"
R=$TOP/tests/data/btrfs
export LC_ALL=C TZ=UTC
IMG=$D/fedora-btrfs.img
# the recorded outputs, with libguestfs' untranslated subvolume device
# name put right (tests/data/btrfs/README)
for f in virt-inspector.xml virt-filesystems virt-ls virt-df; do
    sed 's|btrfsvol:/dev/sdb3/|btrfsvol:/dev/sda3/|g' "$R/fedora-btrfs.$f" > "$T/$f"
done

# the oracle of a subvolume seen at MOUNTPOINT: paths moved below it
under() { # MOUNTPOINT ORACLE
    awk -F'|' -v mp="$1" 'BEGIN { OFS = "|" } { $14 = ($14 == "/") ? mp : mp $14; print }' "$2"
}
LR=(-lR --csv --uids --time-t --extra-stats --checksum=sha256)

# gcat -i: a file from each of the four filesystems
is "$(gcat -a "$IMG" -i /etc/hostname)" fedora-btrfs.invalid "/etc/hostname from the root subvolume"
is "$(gcat -a "$IMG" -i /home/alice/Documents/diary.txt)" "Dear diary," "/home from the home subvolume"
is "$(gcat -a "$IMG" -i /boot/grub2/grub.cfg)" "$(cat "$D/boot.tree/grub2/grub.cfg")" "/boot from the ext4 partition"
is "$(gcat -a "$IMG" -i /boot/efi/EFI/fedora/grub.cfg)" "$(cat "$D/esp.tree/EFI/fedora/grub.cfg")" \
   "/boot/efi from the FAT32 ESP"

# gls -lR: each subvolume as the kernel showed it
gls -a "$IMG" -i "${LR[@]}" /home | gls_csv_norm > "$T/got"
under /home "$D/home.oracle/list" > "$T/want"
same_file "$T/got" "$T/want" "gls -i -lR /home: the home subvolume as the kernel shows it"
gls -a "$IMG" -m /dev/sda3:/:subvol=root "${LR[@]}" / | gls_csv_norm > "$T/got"
same_file "$T/got" "$D/root.oracle/list" "gls -m /dev/sda3:/:subvol=root -lR /: the root subvolume"
# the whole guest across its four mounts, as virt-ls -lR (without the
# times, inode numbers and devices of this build of the fixture, nor the
# checksums of the rpm database: rpm writes install times into it and
# sqlite a random salt into its WAL, new with every build of the fixture)
cols() {
    cut -d, -f1-5,11- | sed -E 's/^(([^,]*,){5})[^,]*,/\1/' |
        awk -F, 'BEGIN { OFS = "," } $9 ~ "^/var/lib/rpm/rpmdb[.]sqlite" { $8 = "-" } { print }'
}
rc=0; gls -a "$IMG" -i "${LR[@]}" / > "$T/all" 2> "$T/all.err" || rc=$?
is "$rc $(cat "$T/all.err")" "0 " "gls -i -lR / walks every mount without a message"
cols < "$T/all" > "$T/got"
cols < "$T/virt-ls" > "$T/want"
same_file "$T/got" "$T/want" "gls -i -lR / as virt-ls -lR (types, modes, sizes, owners, links, blocks, sha256)"

# gdf: the kernel's df for the filesystem and each subvolume; the rows
# virt-df prints
read -r size used avail < "$D/df.oracle"
gdf -a "$IMG" --csv > "$T/df"
for fs in /dev/sda3 btrfsvol:/dev/sda3/root btrfsvol:/dev/sda3/home; do
    got=$(awk -F, -v fs="$fs" '$2 == fs { print $3 * 1024, $4 * 1024, $5 * 1024 }' "$T/df")
    is "$got" "$size $used $avail" "gdf $fs: size, used and available as the kernel's df"
done
is "$(gdf -a "$IMG" | awk 'NR > 1 && NF > 1 { print $1 } NF == 1 { print $1 }')" \
   "$(awk 'NR > 1 && NF > 1 { print $1 } NF == 1 { print $1 }' "$T/virt-df")" \
   "gdf: the filesystems virt-df lists, in its order"

# gfilesystems as virt-filesystems
is "$(gfilesystems -a "$IMG" --all --long --uuid)" "$(cat "$T/virt-filesystems")" \
   "gfilesystems --all --long --uuid as virt-filesystems"

# ginspect: root, mountpoints and filesystems as virt-inspector
ginspect -a "$IMG" --no-applications > "$T/i.xml"
xp() { xmllint --xpath "$2" "$1" 2>/dev/null; }
for q in 'string(//root)' 'string(//distro)' 'string(//osinfo)' 'string(//hostname)' \
         'string(//package_format)'; do
    is "$(xp "$T/i.xml" "$q")" "$(xp "$T/virt-inspector.xml" "$q")" "ginspect $q as virt-inspector"
done
mps() { xp "$1" '//mountpoint' | sed 's/></>\n</g'; }
is "$(mps "$T/i.xml")" "$(mps "$T/virt-inspector.xml")" "ginspect mountpoints as virt-inspector"
fss() { xp "$1" '//filesystems' | tr -d ' \n'; }
is "$(fss "$T/i.xml")" "$(fss "$T/virt-inspector.xml")" "ginspect filesystems as virt-inspector"
is "$(xp "$T/i.xml" 'count(//operatingsystem)')" 1 "one operating system (the top level is not a root)"

# gfsh -i: the mounts, by their libguestfs names
printf 'mounts\ncat /home/alice/Documents/diary.txt\n' | gfsh -a "$IMG" -i > "$T/gfsh" 2>&1
is "$(cat "$T/gfsh")" "btrfsvol:/dev/sda3/root
/dev/sda2
btrfsvol:/dev/sda3/home
/dev/sda1
Dear diary," "gfsh -i: mounts by their libguestfs names, a file of /home"

done_testing
