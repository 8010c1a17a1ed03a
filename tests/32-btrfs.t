#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The btrfs driver against what the kernel showed of the same images
# (test-images/btrfs.sh records it through read-only loop mounts): every
# file's type, mode, size, owner, times, inode, links, rdev, blocks,
# sha256 and symlink target (gls -lR), xattrs (gfsh lgetxattrs against
# getfattr), df (gdf), gcopy-out contents and holes, over mkfs.btrfs
# --rootdir images, kernel-written subvolumes, snapshots, zlib / lzo /
# zstd extents, holes, prealloc, every checksum type, mixed block groups,
# and the single, DUP, RAID0, RAID1, RAID10 and RAID5 profiles on one to
# four disks.
. "$(dirname "$0")/lib.sh"
D=$(fixture btrfs) || skip_all "fixture btrfs failed"
export LC_ALL=C TZ=UTC

# the kernel makes up the times of an empty subvolume placeholder (inode 2)
# when it is looked up
blank_placeholders() { awk -F'|' 'BEGIN { OFS = "|" } $9 == 2 && $1 == "d" { $6 = $7 = $8 = "T" } { print }'; }

disks() { # NAME: the -a options of an image set
    local f
    for f in "$D/$1".img "$D/$1"-[0-9].img; do
        [ -e "$f" ] && printf -- '-a\n%s\n' "$f"
    done
}

check_list() { # NAME ORACLE [-m SPEC]
    local name=$1 oracle=$2; shift 2
    local a
    mapfile -t a < <(disks "$name")
    gls "${a[@]}" "${@:--m/dev/sda}" -lR --csv --uids --time-t --extra-stats --checksum=sha256 / \
        2>"$T/err" | gls_csv_norm | blank_placeholders > "$T/got"
    blank_placeholders < "$D/$oracle.oracle/list" > "$T/want"
    same_file "$T/got" "$T/want" "$oracle: every file as the kernel shows it"
    [ -s "$T/err" ] && diag "$(head -n 5 "$T/err")"
    return 0
}

check_df() { # NAME
    local a got
    mapfile -t a < <(disks "$1")
    got=$(gdf "${a[@]}" --csv 2>&1 | tail -n 1 | awk -F, '{ print $3 * 1024, $4 * 1024, $5 * 1024 }')
    is "$got" "$(cat "$D/$1.oracle/df")" "$1: gdf size, used and available as the kernel's df"
}

for n in rootdir deep csum-xxhash csum-sha256 csum-blake2 mixed holes kern \
         raid1 raid1x3 raid1c3 raid0 raid10 raid5 dup; do
    check_list "$n" "$n"
    check_df "$n"
done

# a disk of the VM missing: RAID1 reads every file from the other copy (a
# warning names the missing device), RAID0 and RAID10 without a whole
# mirror refuse what lived there
gls -a "$D/raid1-1.img" -m /dev/sda -lR --csv --uids --time-t --extra-stats --checksum=sha256 / \
    2>"$T/err" | gls_csv_norm > "$T/got"
same_file "$T/got" "$D/raid1.oracle/list" "RAID1 with one disk missing: every file from the other copy"
grep -q "warning: btrfs device id 2 of this filesystem is not among the disks" "$T/err"
is $? 0 "... with a warning naming the missing device"
fails_cleanly "RAID0 with one disk missing: refused" gls -a "$D/raid0-2.img" -m /dev/sda -lR /
grep -q "device id 1 is missing" "$T/fc.err"; is $? 0 "... naming the missing device"
fails_cleanly "RAID10 without one mirror pair: a file there is refused" \
    gcat -a "$D/raid10-1.img" -a "$D/raid10-2.img" -m /dev/sda /file5

# subvolumes by mount option, as the kernel mounted them
check_list kern kern-top -m /dev/sda:/:subvolid=5
check_list kern kern-root -m /dev/sda:/:subvol=root
check_list kern kern-home -m /dev/sda:/:subvol=/home,noatime
check_list kern kern-root -m /dev/sda:/:subvol=root,subvolid=256
fails_cleanly "subvol= naming a directory that is not a subvolume" \
    gls -a "$D/kern.img" -m /dev/sda:/:subvol=root/etc /
fails_cleanly "subvol= and subvolid= that disagree" gls -a "$D/kern.img" -m /dev/sda:/:subvol=root,subvolid=257 /
fails_cleanly "an unknown mount option" gls -a "$D/kern.img" -m /dev/sda:/:subvol=root,frobnicate /

# subvolumes as libguestfs lists them (tests/data/btrfs): every one but the
# default, in id order
R=$TOP/tests/data/btrfs
is "$(gfilesystems -a "$D/kern.img" --all --long -h)" "$(cat "$R/kern.virt-filesystems")" \
   "gfilesystems --all --long -h as virt-filesystems"
is "$(gdf -a "$D/kern.img" | awk 'NR > 1 && NF > 1 { print $1 } NF == 1 { print $1 }')" \
   "$(awk 'NR > 1 && NF > 1 { print $1 } NF == 1 { print $1 }' "$R/kern.virt-df")" \
   "gdf: the rows virt-df prints (the filesystem, then each subvolume)"
printf 'list-filesystems\nmount btrfsvol:/dev/sda/home /\nls /\nvfs-type btrfsvol:/dev/sda/root/nested\n' |
    gfsh -a "$D/kern.img" > "$T/gfsh" 2>&1
is "$(cat "$T/gfsh")" "$(awk '$2 == "filesystem" { print $1 ": " $3 }' "$R/kern.virt-filesystems")
alice
btrfs" "gfsh list-filesystems (the filesystems virt-filesystems lists), mount and vfs-type of btrfsvol: names"

# gfsh btrfs-subvolume-list against btrfs-progs' `btrfs subvolume list`
# (id, top level, path), btrfs-subvolume-get-default: @data, set as the
# default by the fixture
printf 'btrfs-subvolume-list /dev/sda\nmount /dev/sda /\nbtrfs-subvolume-get-default /\n' |
    gfsh -a "$D/kern.img" > "$T/gfsh" 2>&1
awk '{ printf "[%d] = {\n  btrfssubvolume_id: %s\n  btrfssubvolume_top_level_id: %s\n  btrfssubvolume_path: %s\n}\n", NR - 1, $2, $7, $9 }
     $9 == "@data" { def = $2 } END { print def }' "$D/kern.oracle/subvols" > "$T/want"
is "$(cat "$T/gfsh")" "$(cat "$T/want")" "gfsh btrfs-subvolume-list and -get-default as btrfs subvolume list"
fails_cleanly "btrfs-subvolume-list of a device that is not there: refused" \
    gfsh -a "$D/kern.img" -- btrfs-subvolume-list /dev/sdb

# xattrs: every file getfattr listed, through gfsh lgetxattrs
check_xattrs() { # NAME ORACLE
    local a
    mapfile -t a < <(disks "$1")
    sed -n 's/^# file: //p' "$D/$2.oracle/xattr" > "$T/xfiles"
    { echo "mount /dev/sda /"
      while IFS= read -r f; do printf 'echo "# file: %s"\nlgetxattrs "/%s"\n' "$f" "$f"; done < "$T/xfiles"
    } > "$T/x.gfsh"
    gfsh "${a[@]}" -f "$T/x.gfsh" 2>&1 | python3 -c '
import re, sys
out, names = [], []
def flush():
    out.extend(sorted(names)); names.clear()
name = None
for line in sys.stdin.read().split("\n"):
    if line.startswith("# file: "):
        flush()
        if out: out.append("")
        out.append(line)
    m = re.match(r"  attrname: (.*)", line)
    if m: name = m.group(1)
    m = re.match(r"  attrval: (.*)", line)
    if m:
        v = m.group(1).encode("latin-1", "surrogateescape")
        v = re.sub(rb"\\x([0-9a-f]{2})", lambda x: bytes([int(x.group(1), 16)]), v)
        names.append("%s=0x%s" % (name, v.hex()))
flush()
print("\n".join(out))' > "$T/xgot"
    python3 - "$D/$2.oracle/xattr" > "$T/xwant" <<'EOF'
import sys
out, names = [], []
for line in open(sys.argv[1]).read().split("\n"):
    if line.startswith("# file: "):
        out.extend(sorted(names)); names = []
        if out: out.append("")
        out.append(line)
    elif "=" in line:
        n, v = line.split("=", 1)
        names.append(n + "=" + (v if v.startswith("0x") else "0x"))
out.extend(sorted(names))
print("\n".join(out))
EOF
    same_file "$T/xgot" "$T/xwant" "$2: extended attributes and ACLs as getfattr shows them"
}
check_xattrs rootdir rootdir
check_xattrs kern kern

# gcopy-out: contents as the kernel read them, holes kept
out=$T/out
mkdir "$out"
ok "gcopy-out of the default subvolume" gcopy-out -a "$D/kern.img" -m /dev/sda / "$out"
awk -F'|' '$1 == "-" { print $13 "  ." $14 }' "$D/kern.oracle/list" > "$T/sums"
ok "copied files have the kernel's sha256" sh -c "cd '$out' && sha256sum --quiet -c '$T/sums'"
for f in plain/sparse plain/allhole plain/prealloc zstd/sparse-c; do
    b=$(stat -c %b "$out/$f") s=$(stat -c %s "$out/$f")
    ok "$f: copied sparse ($b blocks for $s bytes)" test $((b * 512)) -lt "$s"
done
is "$(stat -c '%F %t:%T' "$out/dev/big")" "character special file 12c:11170" "device numbers above 255 (300:70000)"

done_testing
