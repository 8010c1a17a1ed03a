#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Linux md RAID (test-images/md.sh): every level and metadata version
# assembled from the VM's disks and partitions, read whole and degraded,
# LVM on top.  Oracles: mdadm --examine (run on every member when the
# fixture was built: md-examine/), the tree mke2fs -d was given, and
# libguestfs 1.48.6 recorded once on these members (tests/data/md: what
# its appliance kernel read from each array: size, label, sha256 of the
# files; and virt-filesystems' listing).
. "$(dirname "$0")/lib.sh"
D=$(fixture md) || skip_all "fixture md failed"
DATA=$TOP/tests/data/md

sums() { (cd "$1" && find . -type f | sort | xargs sha256sum); }
sums "$D/tree" >"$T/tree.sum"
members() { ls "$D/$1"-*.img | sort -V; }
args() { local i; for i in "$@"; do printf -- '-a\n%s\n' "$i"; done; }
# reads_tree DESC IMAGES...: /dev/md127's filesystem holds tree/
reads_tree() {
    local desc=$1; shift
    local A
    mapfile -t A < <(args "$@")
    rm -rf "$T/out" && mkdir "$T/out"
    if gcopy-out "${A[@]}" -m /dev/md127 / "$T/out" 2>"$T/err" && sums "$T/out" | cmp -s - "$T/tree.sum"; then
        _tap_result 0 "$desc"
    else
        _tap_result 1 "$desc"
        diag "$(head -n 5 "$T/err")"
    fi
}
# exam ARRAY FIELD: what mdadm --examine said of member 0
exam() { sed -n "s/^ *$2 : //p" "$D/md-examine/$1-0.txt" | head -1; }

while read -r name size; do
    [ "$name" = lvm ] && continue
    mapfile -t M < <(members "$name")
    mapfile -t A < <(args "${M[@]}")
    reads_tree "$name: the filesystem on /dev/md127 holds the tree" "${M[@]}"
    is "$(gfsh --ro "${A[@]}" run : blockdev-getsize64 /dev/md127)" "$size" "$name: array size"
    # what mdadm --examine read from the superblocks we wrote
    det=$(gfsh --ro "${A[@]}" run : md-detail /dev/md127)
    is "$(printf '%s\n' "$det" | sed -n 's/^level: //p')" "$(exam "$name" 'Raid Level')" "$name: level = mdadm's"
    is "$(printf '%s\n' "$det" | sed -n 's/^devices: //p')" "$(exam "$name" 'Raid Devices')" "$name: devices = mdadm's"
    u=$(exam "$name" 'Array UUID')
    [ -n "$u" ] || u=$(exam "$name" 'UUID')
    is "$(printf '%s\n' "$det" | sed -n 's/^uuid: //p')" "$u" "$name: UUID = mdadm's"
    is "$(printf '%s\n' "$det" | sed -n 's/^name: //p')" "$(exam "$name" 'Name')" "$name: name = mdadm's"
    # members are no filesystems; the array is, with its label
    is "$(gfilesystems "${A[@]}" --csv -l --no-title 2>/dev/null | cut -d, -f1-4)" \
       "/dev/md127,filesystem,ext4,$name" "$name: gfilesystems lists the array only"
done <"$D/sizes.txt"

# names: /dev/md/NAME reaches an array whose superblock has a name
mapfile -t A < <(args $(members r1))
same_file <(gcat "${A[@]}" -m /dev/md/mirror /hello.txt) "$D/tree/hello.txt" "/dev/md/mirror (name gk:mirror)"
is "$(gfsh --ro "${A[@]}" run : vfs-label /dev/md/gk:mirror)" r1 "/dev/md/gk:mirror"
is "$(gfsh --ro "${A[@]}" run : list-md-devices : md-stat /dev/md127 | grep -E '^/dev|mdstat_device')" \
   "/dev/md127
  mdstat_device: /dev/sdb
  mdstat_device: /dev/sda" "gfsh list-md-devices, md-stat"
is "$(gfsh --ro "${A[@]}" run : list-filesystems : vfs-type /dev/md127 : mount /dev/md127 / : cat /hello.txt)" \
   "/dev/md127: ext4
ext4
$(cat "$D/tree/hello.txt")" "gfsh list-filesystems (no members), vfs-type, mount"

# two arrays in one VM: md127 for the first found, md126 for the next
mapfile -t A < <(args $(members r1) $(members r0))
is "$(gfsh --ro "${A[@]}" run : list-md-devices : vfs-label /dev/md127 : vfs-label /dev/md126)" \
   "/dev/md126
/dev/md127
r1
r0" "two arrays: /dev/md127 and /dev/md126"

# degraded: any one member of raid1/4/5/6/10 may be missing
for name in r1 r5p r6 r6a r10n r10f r10o r5l0 r5l1 r5l3 r5l4 r5l5 r4; do
    mapfile -t M < <(members "$name")
    for k in $(seq 0 $((${#M[@]} - 1))); do
        S=()
        for i in "${!M[@]}"; do [ "$i" = "$k" ] || S+=("${M[$i]}"); done
        reads_tree "$name without member $k" "${S[@]}"
    done
done
grep -q 'degraded, 1 of' "$T/err"
is "$?" 0 "a degraded array is a warning"
mapfile -t A < <(args $(members r10n | sed -n '2p;4p'))
reads_tree "r10n (near=2) without members 0 and 2: each chunk still has a copy" $(members r10n | sed -n '2p;4p')
# raid6: any two members missing (data and data, data and P or Q, P and
# Q): rebuilt from P and Q; the whole array reads as with every member
for name in r6 r6a; do
    mapfile -t M < <(members "$name")
    mapfile -t A < <(args "${M[@]}")
    full=$(gfsh --ro "${A[@]}" run : checksum-device sha256 /dev/md127)
    for p in "0 1" "0 2" "0 3" "1 2" "1 3" "2 3"; do
        set -- $p
        S=()
        for i in "${!M[@]}"; do [ "$i" = "$1" ] || [ "$i" = "$2" ] || S+=("${M[$i]}"); done
        reads_tree "$name without members $1 and $2" "${S[@]}"
        mapfile -t A < <(args "${S[@]}")
        is "$(gfsh --ro "${A[@]}" run : checksum-device sha256 /dev/md127 2>/dev/null)" "$full" \
           "$name without members $1 and $2: the whole array as with all four"
    done
done
grep -q 'degraded, 2 of 4' "$T/err"
is "$?" 0 "raid6 missing two: a warning"
for c in "r0:raid0 with 1 of 3" "lin:linear with 1 of 2" "r6:raid6 with 3 of 4"; do
    name=${c%%:*}
    case $name in
    r0) mapfile -t A < <(args $(members "$name" | head -n 2)) ;;
    lin) mapfile -t A < <(args $(members "$name" | tail -n 1)) ;;
    *) mapfile -t A < <(args $(members "$name" | tail -n 1)) ;;
    esac
    fails_cleanly "$name: too few members is an error" gcat "${A[@]}" -m /dev/md127 /hello.txt
    grep -q "${c#*:}" "$T/fc.err"
    is "$?" 0 "$name: the message says ${c#*:} missing"
done
# a stale member (older events) is left out, as mdadm does
mapfile -t A < <(args $(members r1s))
gls "${A[@]}" -m /dev/md127 / >/dev/null 2>"$T/err"
grep -q '/dev/sdc is stale' "$T/err"
is "$?" 0 "r1s: the stale member is named"
reads_tree "r1s: read from the current members" $(members r1s)

# LVM on md
mapfile -t A < <(args $(members lvm))
same_file <(gcat "${A[@]}" -m /dev/mdvg/data /dir/numbers.txt) "$D/tree/dir/numbers.txt" "LVM on md: the LV reads"
is "$(gfsh --ro "${A[@]}" run : pvs : lvs)" "/dev/md127
/dev/mdvg/data" "LVM on md: the PV is the array"
is "$(gfilesystems "${A[@]}" --csv --no-title -l | cut -d, -f1-4)" "/dev/mdvg/data,filesystem,ext4,mdlvm" \
   "LVM on md: gfilesystems"

# byuuid UUID: the fixture's array of that mdadm UUID
byuuid() {
    awk -v u="$1" '{ v = $2; gsub(/-/, "", v); w = u; gsub(/:/, "", w) } v == w {print $1}' "$D/md-uuids.txt"
}
# libguestfs' appliance kernel on the same members (recorded): every
# array's size, label and file checksums
if [ -e "$DATA/kernel.txt" ]; then
    while read -r uuid size label f1 f2 f3; do
        name=$(byuuid "$uuid")
        [ -n "$name" ] || { _tap_result 1 "recorded array $uuid is in the fixture"; continue; }
        mapfile -t A < <(args $(members "$name"))
        ours=$(gfsh --ro "${A[@]}" run : blockdev-getsize64 /dev/md127 : vfs-label /dev/md127 : mount /dev/md127 / \
            : checksum sha256 /hello.txt : checksum sha256 /dir/mdadm.part : checksum sha256 /dir/numbers.txt | tr '\n' ' ')
        is "$ours" "$size $label $f1 $f2 $f3 " "$name: size, label, sha256s = what the kernel read"
    done < <(grep -v '^#' "$DATA/kernel.txt")
fi
# and its kernel started r6 and r6a with each pair of members missing
# (recorded): the files it read
if [ -e "$DATA/kernel-raid6.txt" ]; then
    while read -r uuid _ a b f1 f2 f3; do
        b=${b%:}
        name=$(byuuid "$uuid")
        [ -n "$name" ] || { _tap_result 1 "recorded array $uuid is in the fixture"; continue; }
        mapfile -t M < <(members "$name")
        S=()
        for i in "${!M[@]}"; do [ "$i" = "$a" ] || [ "$i" = "$b" ] || S+=("${M[$i]}"); done
        mapfile -t A < <(args "${S[@]}")
        ours=$(gfsh --ro "${A[@]}" run : mount /dev/md127 / : checksum sha256 /hello.txt \
            : checksum sha256 /dir/mdadm.part : checksum sha256 /dir/numbers.txt 2>/dev/null | tr '\n' ' ')
        is "$ours" "$f1 $f2 $f3 " "$name without members $a and $b: the files as the kernel read them"
    done < <(grep -v '^#' "$DATA/kernel-raid6.txt")
fi
done_testing
