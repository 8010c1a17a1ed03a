#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gmount of an NTFS filesystem against ntfs-3g's own FUSE mount of the
# same image, side by side: every file's type, mode, size, links, owner,
# times, inode and link target (ntfs-3g writes its mountpoint before an
# absolute target: guestkit gives it from the filesystem's root, see
# fs/ntfs.c), the contents, the streams as user.* xattrs, df.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lib-gmount.sh"
command -v ntfs-3g >/dev/null || skip_all "ntfs-3g not installed"
D=$(fixture ntfs) || exit 1
IMG=$D/ntfs.img
mkdir "$T/g" "$T/n"
ok "gmount -m /dev/sda of ntfs.img" timeout 60 gmount -a "$IMG" -m /dev/sda "$T/g"
ok "(ntfs-3g -o ro of the same image)" ntfs-3g -o ro "$IMG" "$T/n"
# ntfs-3g's /.NTFS-3G (its directory of other drives' junction targets) is
# hidden from listings by neither: left out of both
# (an absolute target ntfs-3g gives as MOUNTPOINT/x, and its size, are
# compared as /x)
view() {
    listing "$1" | grep -v '^\./\.NTFS-3G' |
        awk -F'|' -v OFS='|' -v m="$T/n" 'index($NF, m "/") == 1 { $NF = substr($NF, length(m) + 1); $4 -= length(m) } 1'
}
view "$T/g" >"$T/lg"
view "$T/n" >"$T/ln"
ok "(the listing has the fixture's files)" test "$(wc -l <"$T/ln")" -gt 600
same_file "$T/lg" "$T/ln" "every file: type, mode, size, links, owner, times, inode, link target = ntfs-3g's"
sums "$T/g" >"$T/sg"
sums "$T/n" >"$T/sn"
same_file "$T/sg" "$T/sn" "every file's contents (sha256) = ntfs-3g's"
# streams: those over 64 KiB cannot be read through either (E2BIG)
xattrs "$T/g" | grep -v '^\(# file: \)\?\./\.NTFS-3G' >"$T/xg"
xattrs "$T/n" | grep -v '^\(# file: \)\?\./\.NTFS-3G' >"$T/xn"
ok "(ntfs-3g shows streams as user.* xattrs)" grep -q '^user\.' "$T/xn"
same_file "$T/xg" "$T/xn" "streams as user.* xattrs = ntfs-3g's"
is "$(dfig "$T/g")" "$(dfig "$T/n")" "df (blocks and inodes) = ntfs-3g's"
is "$(cat "$T/g/Windows/win.ini" | md5sum)" "$(cat "$T/n/Windows/win.ini" | md5sum)" "a read through the mount"
ok "writing is refused (read-only mount)" sh -c "! touch '$T/g/newfile' 2>/dev/null"

# gmount -i of a Windows guest: C: on /, as guestmount -i
if W=$(fixture windows); then
    mkdir "$T/w"
    ok "gmount -i of win10.img" timeout 60 gmount -a "$W/win10.img" -i "$T/w"
    same_file "$T/w/Windows/System32/config/SOFTWARE" "$W/hives/win10.SOFTWARE" \
        "C: is on /: its SOFTWARE hive is the one the fixture wrote"
fi
done_testing
