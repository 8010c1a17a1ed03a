#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile and damaged partition tables (test-images/parts-hostile.sh): each
# gives a one-line warning naming the problem and the rest of the disk
# still works; nothing crashes (this file runs again under ASan+UBSan).
#
# Which partitions survive: partx --show (libblkid) is the oracle where it
# and the kernel agree (loops, overlaps); where libblkid is lenient the
# kernel's rules (block/partitions/msdos.c, efi.c) are: a partition that
# starts past the end of the disk is dropped, one that runs past it is
# truncated; a GPT entry past the last LBA or inverted is dropped; a GPT
# with no valid header or entry array is no table at all.
. "$(dirname "$0")/lib.sh"
dir=$(fixture parts-hostile) || exit 1
good=$(fixture parts) || exit 1

# run gfilesystems: exit 0 and no sanitizer report; stderr kept in $T/err
gfs() {
    local rc=0
    timeout 60 gfilesystems "$@" >"$T/out" 2>"$T/err" || rc=$?
    if [ "$rc" != 0 ] || grep -qE 'Sanitizer|runtime error' "$T/err"; then
        diag "gfilesystems $* exited $rc" "$(head -5 "$T/err")"
        echo "EXIT $rc"
    fi
    cat "$T/out"
}
parts() { gfs --parts "$dir/$1.img" | tr '\n' ' '; }
partx_parts() { partx --show -g -o NR "$dir/$1.img" | awk '{printf "/dev/sda%s ", $1}'; }
warned() { # DESC REGEX: exactly one warning line, matching
    if [ "$(grep -c . "$T/err")" = 1 ] && grep -qE "^gfilesystems: warning: (.*/)?$2" "$T/err"; then
        ok "$1" true
    else
        ok "$1" false
        diag "stderr: $(cat "$T/err")"
    fi
}

for x in ebr-loop ebr-self mbr-overlap; do
    is "$(parts $x)" "$(partx_parts $x)" "$x: partitions = partx --show"
done
parts ebr-loop >/dev/null
warned "ebr-loop: one warning" "ebr-loop.img: loop in the chain of logical partitions at sector 8192; stopped"
parts ebr-self >/dev/null
warned "ebr-self: one warning" "ebr-self.img: loop in the chain"
parts mbr-overlap >/dev/null
warned "mbr-overlap: one warning" "/dev/sda1 and /dev/sda2 overlap"

is "$(parts ebr-outside)" "/dev/sda1 /dev/sda2 " "ebr-outside: the logical partition outside the extended one is dropped"
grep -q "outside the extended partition; ignored" "$T/err" && grep -q "points outside the extended partition; stopped" "$T/err"
ok "ebr-outside: both problems named" test $? = 0
is "$(parts ebr-long | wc -w)" $((2 + 128)) "ebr-long: at most 128 logical partitions"
warned "ebr-long: one warning" "ebr-long.img: more than 128 logical partitions"
is "$(parts mbr-past-end)" "/dev/sda1 /dev/sda2 " "mbr-past-end: p3 (starts past the end) dropped"
is "$(gfs --parts -l --csv "$dir/mbr-past-end.img" | awk -F, '$1 == "/dev/sda2" {print $4}')" $(((16384 - 8192) * 512)) \
   "mbr-past-end: p2 truncated at the end of the disk"
is "$(parts mbr-ext-past-end)" "/dev/sda1 " "mbr-ext-past-end: extended partition past the end dropped"
warned "mbr-ext-past-end: one warning" "/dev/sda2: partition starts past the end of the disk"

is "$(parts gpt-part-past-end)" "/dev/sda1 /dev/sda4 " "gpt-part-past-end: past-the-end and inverted entries dropped"
for w in "/dev/sda2: GPT partition 8192-99999999 is past the end of the disk; ignored" \
         "/dev/sda3: GPT partition 9000-8000 is inverted; ignored" "/dev/sda1 and /dev/sda4 overlap"; do
    ok "gpt-part-past-end: warns \"$w\"" grep -qF "gfilesystems: warning: $w" "$T/err"
done

for x in "gpt-badcrc:bad header CRC" "gpt-badentries:bad partition entry array CRC" \
         "gpt-huge:partition entry array too large \(2147483648 entries of 128 bytes\)" "gpt-entsize:bad partition entry size 100" \
         "gpt-entries-past-end:partition entry array at LBA [0-9]+ is outside the disk"; do
    img=${x%%:*} why=${x#*:}
    is "$(parts "$img")" "" "$img: no partitions"
    warned "$img: one warning" "$img.img: GPT: $why, and no valid backup header"
    is "$(gfs --extra "$dir/$img.img")" "/dev/sda" "$img: the disk itself is listed (unknown)"
    fails_cleanly "$img: /dev/sda1 cannot be mounted" gls -a "$dir/$img.img" -m /dev/sda1 /
    ok "$img: \"no such device\"" grep -q "^gls: /dev/sda1: no such device" "$T/fc.err"
done

# sfdisk/blkid agree that these have no usable GPT
is "$(blkid -p -o value -s PTTYPE "$dir/gpt-badcrc.img")" "PMBR" "gpt-badcrc: blkid sees only the protective MBR, no GPT either"

# a damaged primary with a good backup: a warning, and everything works
is "$(gfs --all -l "$good/gpt-smashed.img")" "$(gfs --all -l "$good/gpt.img")" "gpt-smashed: same listing as gpt.img"
gfs --all -l "$good/gpt-smashed.img" >/dev/null
warned "gpt-smashed: one warning" "gpt-smashed.img: GPT primary header is damaged \(no GPT signature at LBA 1\); using the backup header"

is "$(gls -a "$good/gpt-smashed.img" -m /dev/sda2 / 2>/dev/null)" "$(gls -a "$good/gpt.img" -m /dev/sda2 /)" \
   "gpt-smashed: the filesystem of /dev/sda2 reads through the backup table"

# virt-filesystems 1.48.2 (recorded): qemu counts whole sectors, so the
# guest sees a 300-byte file as a 512-byte disk
is "$(gfs --all -l --csv --no-title "$dir/tiny.img")" "/dev/sda,filesystem,unknown,,,512,
/dev/sda,device,,,,512," "tiny.img (300 bytes): the disk as qemu shows it, no table"

# files that are not disks
fails_cleanly "missing image" gfilesystems "$T/none.img"
fails_cleanly "a directory" gfilesystems "$T"
: >"$T/empty.img"
is "$(gfs --all "$T/empty.img" | tr '\n' ' ')" "/dev/sda /dev/sda " "empty image: an unknown filesystem on a device, nothing else"
done_testing
