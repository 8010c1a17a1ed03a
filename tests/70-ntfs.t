#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The NTFS driver (libntfs-3g over our devices) against ntfs-3g itself:
# the FUSE mount's view recorded by test-images/ntfs.sh (every file's type,
# mode, size, times, inode, links, blocks, sha256, link target; streams;
# statvfs; lowntfs-3g -o ignore_case lookups), and ntfsls, ntfscat,
# ntfsinfo and blkid run here on the same images.
. "$(dirname "$0")/lib.sh"
for t in ntfsls ntfscat ntfs-3g.probe; do
    command -v $t >/dev/null || skip_all "ntfs-3g ($t) not installed"
done
D=$(fixture ntfs) || exit 1
O=$D/ntfs.oracle
IMG=$D/ntfs.img
export LC_ALL=C.UTF-8
G() { gls -a "$IMG" -m /dev/sda "$@"; }
# gls -lR CSV with the device column blanked (the mount's means nothing)
listing() { # IMG DEV
    gls -a "$1" -m "$2" -lR --csv --uids --times --time-t --extra-stats --checksum=sha256 / |
        sed -E 's/^(([^,]*,){8})[^,]*,/\1,/'
}

# every file as ntfs-3g shows it, on the bare filesystem and in a partition
listing "$IMG" /dev/sda >"$T/l1" 2>"$T/l1.err"
ok "listing of ntfs.img: exit 0, no messages" test ! -s "$T/l1.err"
same_file "$T/l1" "$O/listing.csv" "gls -lR (types, modes, sizes, times, inodes, links, blocks, sha256, targets) = ntfs-3g"
listing "$D/ntfs-mbr.img" /dev/sda1 >"$T/l2" 2>&1
same_file "$T/l2" "$O/listing.csv" "the same through an MBR partition (/dev/sda1)"
is "$(grep -c '' "$O/listing.csv")" "$(grep -c '' "$T/l1")" "as many files as the FUSE mount lists"

# contents byte for byte: fragmented, sparse, compressed (LZNT1)
for f in big.bin sparse.bin compressed/text.txt compressed/random.bin compressed/holes.bin; do
    gcat -a "$IMG" -m /dev/sda "/$f" >"$T/c"
    same_file "$T/c" "$O/$(echo "$f" | tr / _)" "gcat /$f = the FUSE mount's copy"
done
ntfscat "$IMG" Windows/win.ini >"$T/w1" 2>/dev/null
gcat -a "$IMG" -m /dev/sda /Windows/win.ini >"$T/w2"
same_file "$T/w2" "$T/w1" "gcat /Windows/win.ini = ntfscat"
ntfscat "$IMG" "Users/Gäst/Документы/файл.txt" >"$T/u1" 2>/dev/null
gcat -a "$IMG" -m /dev/sda "/Users/Gäst/Документы/файл.txt" >"$T/u2"
same_file "$T/u2" "$T/u1" "Unicode path = ntfscat"

# names: ntfsls lists the root as ntfs-3g does (no $ files, no DOS names)
ntfsls "$IMG" 2>/dev/null | sort >"$T/n1"
G / 2>/dev/null | sort >"$T/n2"
same_file "$T/n2" "$T/n1" "gls / = ntfsls"
ntfsls "$IMG" -p /many 2>/dev/null | grep -vxE '\.\.?' | sort >"$T/m1"
G /many | sort >"$T/m2"
same_file "$T/m2" "$T/m1" "a 600-entry directory (index blocks) = ntfsls"
is "$(gfsh -a "$IMG" -m /dev/sda stat '/LONGFI~1.TXT' 2>&1 | sed -n 's/^ino: //p')" "$(cat "$O/dosname-ino.txt")" \
   "lookup by DOS (8.3) name reaches the file ntfs-3g reaches"
is "$(G / | grep -c '~')" 0 "DOS names are not listed"

# streams (alternate data streams) as user.* xattrs, like ntfs-3g
while read -r p name val; do
    got=$(gfsh -a "$IMG" -m /dev/sda getxattr "$p" "$name" 2>&1 | tr -d '\n')
    case $val in
    ERROR:*) is "$(echo "$got" | grep -c 'too long')" 1 "stream $p $name: too large for an xattr, as ntfs-3g says (E2BIG)" ;;
    *) is "$(gfsh -a "$IMG" -m /dev/sda getxattr "$p" "$name" | od -An -v -tx1 | tr -d ' \n')" "$val" "stream $p $name = ntfs-3g" ;;
    esac
done <"$O/xattrs.txt"
is "$(gfsh -a "$IMG" -m /dev/sda getxattrs /ads2.txt 2>/dev/null | grep -c 'attrname: user\.')" \
   "$(grep -c '^/ads2.txt ' "$O/xattrs.txt")" "getxattrs /ads2.txt lists every stream ntfs-3g lists"
fails_cleanly "getxattrs of a file with a stream over 64 KiB fails (as guestfish's)" \
    gfsh -a "$IMG" -m /dev/sda getxattrs /ads.txt
ntfscat -a 0x80 -n big "$IMG" ads.txt 2>/dev/null | md5sum >"$T/b1"
head -c 100000 /dev/zero | tr '\0' B | md5sum >"$T/b2"
same_file "$T/b1" "$T/b2" "(ntfscat reads the 100000-byte stream the fixture wrote)"
is "$(gfsh -a "$IMG" -m /dev/sda lgetxattrs /junction 2>&1)" "" "no streams on a junction (ntfs-3g: none on links)"

# statvfs and gdf
read -r bsize frsize blocks bfree bavail files ffree namemax <"$O/statvfs.txt"
gfsh -a "$IMG" -m /dev/sda statvfs / >"$T/sv"
for k in bsize frsize blocks bfree bavail files ffree namemax; do
    is "$(sed -n "s/^$k: //p" "$T/sv")" "${!k}" "statvfs $k = ntfs-3g"
done
is "$(ntfsinfo -m "$IMG" 2>/dev/null | sed -n 's/.*Cluster Size: //p' | head -1)" "$bsize" "cluster size = ntfsinfo"
used=$(( (blocks - bfree) * frsize / 1024 )); size=$(( blocks * frsize / 1024 )); avail=$(( bavail * frsize / 1024 ))
is "$(gdf -a "$IMG" | awk 'NR==2 {print $2, $3, $4}')" "$size $used $avail" "gdf = ntfs-3g's statvfs in KiB"

# case-insensitive lookups as ntfs-3g's ignore_case mode finds them
while IFS=$'\t' read -r p ino; do
    cp=$(gfsh -a "$IMG" -m /dev/sda case-sensitive-path "$p" 2>&1)
    is "$(gfsh -a "$IMG" -m /dev/sda stat "$cp" 2>&1 | sed -n 's/^ino: //p')" "$ino" \
       "case-sensitive-path $p -> $cp: the inode lowntfs-3g -o ignore_case reaches"
done <"$O/nocase.txt"
is "$(gfsh -a "$IMG" -m /dev/sda case-sensitive-path /WINDOWS/system32/NEWFILE.TXT)" \
   "/Windows/System32/NEWFILE.TXT" "case-sensitive-path: a missing last element is kept as given"
fails_cleanly "case-sensitive-path: a missing directory fails" \
    gfsh -a "$IMG" -m /dev/sda case-sensitive-path /nodir/file
is "$(gfsh -a "$IMG" -m /dev/sda case-sensitive-path /junction/DRIVERS/etc)" "/junction/drivers/etc" \
   "case-sensitive-path follows a junction into its target"

# Windows' unfinished states: read with a warning (ntfs-3g refuses rw)
gcat -a "$D/hiber.img" -m /dev/sda /file.txt >"$T/h" 2>"$T/h.err"
is "$(cat "$T/h")" "data" "a hibernated volume is read"
ok "... with a warning that Windows is hibernated" grep -q 'warning: .*Windows is hibernated' "$T/h.err"
ok "... where ntfs-3g refuses a read-write mount" grep -q 'hibernated, refused to mount' "$D/hiber.ntfs-3g.txt"
ok "(ntfsinfo -f sees the dirty flag)" sh -c "ntfsinfo -f -m '$D/dirty.img' 2>/dev/null | grep -q 'Volume Flags:.*DIRTY'"
gcat -a "$D/dirty.img" -m /dev/sda /file.txt >"$T/d" 2>"$T/d.err"
is "$(cat "$T/d")" "data" "a volume marked dirty is read"
ok "... with a warning that it is dirty" grep -q 'warning: .*marked dirty' "$T/d.err"
is "$(gcat -a "$IMG" -m /dev/sda /Windows/win.ini 2>&1 >/dev/null)" "" "a clean volume: no warning"
fails_cleanly "ntfs is read-only: --rw is refused" gcat --rw -a "$IMG" -m /dev/sda /Windows/win.ini

# BitLocker: blkid knows it, we say what it is
ok "(blkid -p: TYPE=BitLocker)" sh -c "blkid -p -o value -s TYPE '$D/bitlocker.img' | grep -qx BitLocker"
fails_cleanly "mounting a BitLocker volume fails" gcat -a "$D/bitlocker.img" -m /dev/sda /x
ok "... saying it is BitLocker-encrypted" sh -c "gcat -a '$D/bitlocker.img' -m /dev/sda /x 2>&1 | grep -q 'BitLocker-encrypted'"
is "$(gfilesystems -a "$D/bitlocker.img" --extra 2>&1)" "" \
   "gfilesystems: a BitLocker volume is no filesystem (libguestfs' list_filesystems skips it)"

# gfsh ntfs-3g-probe = ntfs-3g.probe's exit status (run on a copy: a
# read-write probe may write)
for f in ntfs.img hiber.img dirty.img small.img bitlocker.img ntfs-mbr.img; do
    cp --sparse=always "$D/$f" "$T/p.img"
    for rw in false true; do
        opt=--readonly
        [ $rw = true ] && opt=--readwrite
        want=0
        ntfs-3g.probe $opt "$T/p.img" >/dev/null 2>&1 || want=$?
        is "$(gfsh -a "$D/$f" ntfs-3g-probe $rw /dev/sda 2>&1)" "$want" \
           "ntfs-3g-probe $rw on $f = ntfs-3g.probe $opt ($want)"
    done
done
rm -f "$T/p.img"
fails_cleanly "ntfs-3g-probe: rw must be a boolean" gfsh -a "$IMG" ntfs-3g-probe maybe /dev/sda

# gfsh ntfscat-i = ntfscat -i: metadata files ($MFT with its fixups
# applied, $LogFile, $AttrDef, $Secure, $UpCase) and files by number
fino=$(gfsh -a "$IMG" -m /dev/sda stat /Windows/win.ini | sed -n 's/^ino: //p')
for i in 0 1 2 4 9 10 "$fino"; do
    ntfscat -i "$i" "$IMG" >"$T/i1" 2>/dev/null
    gfsh -a "$IMG" ntfscat-i /dev/sda "$i" "$T/i2"
    same_file "$T/i2" "$T/i1" "ntfscat-i inode $i = ntfscat -i $i ($(stat -c %s "$T/i1") bytes)"
done
ok "(ntfscat -i 5 fails: the root has no data)" sh -c "! ntfscat -i 5 '$IMG' >/dev/null 2>&1"
fails_cleanly "ntfscat-i of the root directory fails too" gfsh -a "$IMG" ntfscat-i /dev/sda 5 "$T/i3"
ok "... and leaves no file behind" test ! -e "$T/i3"
fails_cleanly "ntfscat-i of an inode past the MFT" gfsh -a "$IMG" ntfscat-i /dev/sda 99999999 "$T/i3"
fails_cleanly "ntfscat-i of a mounted filesystem is refused (as ntfscat's)" \
    gfsh -a "$IMG" -m /dev/sda ntfscat-i /dev/sda 0 "$T/i3"
fails_cleanly "ntfscat-i of a BitLocker volume" gfsh -a "$D/bitlocker.img" ntfscat-i /dev/sda 0 "$T/i3"

# gcopy-out: the tree as the FUSE mount has it (sparse file kept sparse)
mkdir "$T/out"
gcopy-out -a "$IMG" -m /dev/sda /compressed /sparse.bin /Users "$T/out" 2>"$T/co.err"
ok "gcopy-out exits cleanly" test ! -s "$T/co.err"
same_file "$T/out/compressed/text.txt" "$O/compressed_text.txt" "gcopy-out: compressed file"
same_file "$T/out/sparse.bin" "$O/sparse.bin" "gcopy-out: sparse file"
ok "gcopy-out: the sparse file stays sparse" test "$(stat -c %b "$T/out/sparse.bin")" -lt 8192
same_file "$T/out/Users/Gäst/Документы/файл.txt" /dev/stdin "gcopy-out: Unicode path" \
    < <(ntfscat "$IMG" "Users/Gäst/Документы/файл.txt" 2>/dev/null)

done_testing
