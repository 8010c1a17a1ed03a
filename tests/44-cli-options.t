#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The options every tool shares and the checks of their arguments: -v
# (debug lines, no "error:" lines for probes), -x (a trace of the guest
# session), -m DEV:MOUNTPOINT:OPTIONS:FSTYPE, options that would do nothing
# are refused (gdf --uuid), gcat's guest paths and swapped arguments, gls
# without a directory.  Oracles: the phony guests' trees and fstabs,
# gfilesystems' device list, and virt-cat's / virt-ls' messages recorded
# from libguestfs 1.48.6 (quoted below).
. "$(dirname "$0")/lib.sh"
command -v gcat >/dev/null || skip_all "tools not built"
dir=$(fixture phony) || exit 1
D=$dir/debian.img
host=$(cat "$dir/debian-root.tree/etc/hostname")

# ---- -v: what was probed, as debug lines
gcat -v -a "$D" /etc/hostname >"$T/v.out" 2>"$T/v.err"
is "$(cat "$T/v.out")" "$host" "-v: the output is unchanged"
is "$(grep -c 'error:' "$T/v.err")" 0 "-v: no 'error:' lines for the probes that found nothing"
# inspection looks for filesystems where libguestfs' list_filesystems does:
# every device gfilesystems lists but disks with partitions and LVM PVs
gfilesystems -a "$D" --partitions --lvs --blkdevs --no-title | LC_ALL=C sort -u >"$T/devs"
gfilesystems -a "$D" --pvs --no-title | LC_ALL=C sort -u >"$T/pvs"
gfilesystems -a "$D" --partitions --no-title | sed 's/[0-9]*$//' | LC_ALL=C sort -u >"$T/pdisks"
is "$(sed -n 's/^gcat: probe: \([^:]*\):.*/\1/p' "$T/v.err" | LC_ALL=C sort)" \
   "$(cat "$T/pvs" "$T/pdisks" | LC_ALL=C sort -u | LC_ALL=C comm -23 "$T/devs" -)" \
   "-v: one probe line per device that can hold a filesystem (no partitioned disk, no PV)"
is "$(grep -c '^gcat: probe: ' "$T/v.err")" "$(sed -n 's/^gcat: probe: \([^:]*\):.*/\1/p' "$T/v.err" | sort -u | wc -l)" \
   "-v: each device probed once"
is "$(grep -c '^gcat: inspect: /dev/debian/root: Linux root$' "$T/v.err")" 1 "-v: which role inspection gave the root"
is "$(grep -c '^gcat: inspect: /dev/sda1: Grub /boot$' "$T/v.err")" 1 "-v: ... and /boot"
is "$(gcat -a "$D" /etc/hostname 2>&1)" "$host" "without -v: nothing but the file"

# ---- -x: the guest session's calls, as libguestfs' trace
gcat -x -a "$D" /etc/hostname 2>"$T/x.err" >/dev/null
is "$(grep -c "^gcat: trace: add_drive \"$D\" format:auto readonly:true = 0$" "$T/x.err")" 1 "-x: add_drive"
is "$(grep -c '^gcat: trace: launch = 0' "$T/x.err")" 1 "-x: launch"
is "$(sed -n 's/^gcat: trace: mount "\([^"]*\)" "\([^"]*\)" = 0$/\2 \1/p' "$T/x.err" | LC_ALL=C sort)" \
   "$(awk '$1 !~ /^#/ && $2 ~ /^\// { print $2, $1 }' "$dir/debian-root.tree/etc/fstab" |
      sed 's| LABEL=BOOT| /dev/sda1|' | LC_ALL=C sort)" "-x: one mount per fstab entry (LABEL=BOOT is /dev/sda1)"
is "$(grep -c '^gcat: trace: resolve "/etc/hostname" = 0$' "$T/x.err")" 1 "-x: the path the tool looked up"
is "$(grep -c 'trace: resolve "/etc/debian_version"' "$T/x.err")" 0 "-x: inspection's own lookups are not traced"

# ---- -m DEV:MOUNTPOINT:OPTIONS:FSTYPE
R=$dir/rpm.img
rh=$(cat "$dir/rpm-root.tree/etc/hostname")
is "$(gcat -a "$R" -m /dev/sda:/:ro,noatime,nodev:ext4 /etc/hostname 2>&1)" "$rh" \
   "-m DEV:/:ro,noatime,nodev:ext4 (VFS options and the type of the device)"
is "$(gcat -a "$R" -m /dev/sda::: /etc/hostname 2>&1)" "$rh" "-m DEV::: (empty fields are the defaults)"
fails_cleanly "-m with a type that is not the device's" gcat -a "$R" -m /dev/sda:/::squashfs /etc/hostname
is "$(cat "$T/fc.err")" "gcat: /dev/sda: unsupported filesystem type squashfs" "... says which type"
fails_cleanly "-m option rw on read-only disks" gcat -a "$R" -m /dev/sda:/:rw /etc/hostname
is "$(cat "$T/fc.err")" "gcat: /dev/sda: mount option rw: the disks were opened read-only" "... says why"
fails_cleanly "-m with an option the driver does not know" gcat -a "$R" -m /dev/sda:/:frobnicate=1 /etc/hostname
grep -q 'frobnicate=1' "$T/fc.err"
is "$?" 0 "... names the option"
fails_cleanly "-m with five fields" gcat -a "$R" -m /dev/sda:/:ro:ext4:more /etc/hostname
fails_cleanly "-m with no device" gcat -a "$R" -m :/ /etc/hostname

# ---- options that would do nothing are refused
fails_cleanly "gdf --uuid (virt-df prints a libvirt UUID; -a images have none)" gdf --uuid -a "$R"
grep -q 'no UUID' "$T/fc.err"
is "$?" 0 "... and says why"

# ---- gcat: guest paths are absolute (virt-cat 1.48.6: "libguestfs: error:
# download: download_stub: path must start with a / character")
fails_cleanly "gcat a relative guest path" gcat -a "$R" etc/hostname
is "$(cat "$T/fc.err")" "gcat: etc/hostname: path must start with a / character (guest paths are absolute)" \
   "... refused as virt-cat does"
fails_cleanly "gcat FILE IMAGE (swapped)" gcat /etc/hostname "$R"
is "$(cat "$T/fc.err")" "gcat: /etc/hostname: does not look like a disk image (no partition table or filesystem in it)" \
   "... says the first file is not a disk image"
head -c 1M /dev/zero >"$T/zero.img"
fails_cleanly "an image with nothing in it" gcat -a "$T/zero.img" /etc/hostname
is "$(cat "$T/fc.err")" "gcat: $T/zero.img: does not look like a disk image (no partition table or filesystem in it)" \
   "... is named (virt-cat: no operating system was found)"

# ---- gls IMAGE without a directory (virt-ls 1.48.6 says "you must
# specify at least one -a or -d option")
fails_cleanly "gls IMAGE" gls "$R"
is "$(head -n1 "$T/fc.err")" "gls: missing directory name after the disk image $R" "... says the directory is missing"
fails_cleanly "gls -a IMAGE" gls -a "$R"
is "$(head -n1 "$T/fc.err")" "gls: missing directory name" "... with -a too"
fails_cleanly "gls NOSUCHFILE" gls "$T/nosuch.img"
is "$(head -n1 "$T/fc.err")" "gls: missing directory name, or disk image: $T/nosuch.img: No such file or directory" \
   "... or that the one argument is not a file either"

done_testing
