#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gfsh in script mode (stdin, -f, and commands on the command line) on the
# gfsh fixture, compared with oracles: the source tree (cat, checksum,
# find, head/tail, grep), stat(1) on the tree (statns), debugfs on the
# filesystem (ls, inode numbers, sizes), blkid -p (vfs-*), sfdisk --json
# (part-list, part-get-parttype), dumpe2fs (statvfs), lvm2's own reports
# (lvs/vgs/pvs) and the guest's fstab (inspect-get-mountpoints).
. "$(dirname "$0")/lib.sh"

G=$GK_BIN/gfsh
[ -x "$G" ] || skip_all "needs $G"
if ! dir=$(fixture gfsh); then
    echo "not ok 1 - fixture gfsh"; echo "1..1"; exit 1
fi
cd "$dir"
IMG=disk.img
R=root

# run a script on stdin: gfsh -a IMG -i <<< script
gs() { "$G" -a "$IMG" -i 2>&1; }

# --- devices -----------------------------------------------------------
is "$("$G" -a $IMG list-devices)" "/dev/sda" "list-devices"
is "$("$G" -a $IMG list-partitions)" "$(printf '/dev/sda1\n/dev/sda2\n/dev/sda3')" "list-partitions"
parts=$(sfdisk --json $IMG)
exp=""
for i in 0 1 2; do
    dev=/dev/sda$((i + 1))
    start=$(jq -r ".partitiontable.partitions[$i].start" <<<"$parts")
    t=$(blkid -p -o value -s TYPE -O $((start * 512)) $IMG)
    exp+="$dev: $t"$'\n'
done
is "$("$G" -a $IMG list-filesystems)" "${exp%$'\n'}" "list-filesystems: /dev/sdaN: TYPE as blkid -p sees them"

expl=""
for i in 0 1 2; do
    start=$(jq -r ".partitiontable.partitions[$i].start" <<<"$parts")
    size=$(jq -r ".partitiontable.partitions[$i].size" <<<"$parts")
    expl+="[$i] = {"$'\n'"  part_num: $((i + 1))"$'\n'"  part_start: $((start * 512))"$'\n'
    expl+="  part_end: $(((start + size) * 512 - 1))"$'\n'"  part_size: $((size * 512))"$'\n'"}"$'\n'
done
is "$("$G" -a $IMG part-list /dev/sda)" "${expl%$'\n'}" "part-list: [N] = { ... } blocks, bytes from sfdisk --json"
is "$("$G" -a $IMG part-get-parttype /dev/sda)" "$(jq -r .partitiontable.label <<<"$parts")" \
    "part-get-parttype gpt (sfdisk label)"
mlabel=$(sfdisk --json mbr.img | jq -r .partitiontable.label)
is "$("$G" -a mbr.img part-get-parttype /dev/sda)" "${mlabel/dos/msdos}" "part-get-parttype msdos (sfdisk: dos)"

for i in 0 1 2; do
    dev=/dev/sda$((i + 1))
    start=$(jq -r ".partitiontable.partitions[$i].start" <<<"$parts")
    size=$(jq -r ".partitiontable.partitions[$i].size" <<<"$parts")
    got=$("$G" -a $IMG vfs-type $dev : vfs-uuid $dev : vfs-label $dev : blockdev-getsize64 $dev)
    exp=$(for k in TYPE UUID LABEL; do blkid -p -o value -s $k -O $((start * 512)) $IMG; echo; done | sed '/^$/d')
    is "$got" "$exp"$'\n'"$((size * 512))" "vfs-type/uuid/label (blkid -p) and blockdev-getsize64 of $dev"
done
is "$("$G" -a $IMG blockdev-getsize64 /dev/sda)" "$(stat -c %s $IMG)" "blockdev-getsize64 of the disk"

# the parts fixture (ME=dev): MBR with extended/logical, GPT with 4K sectors
if pdir=$(fixture parts 2>/dev/null); then
    for d in mbr gpt gpt4k; do
        j=$pdir/$d.sfdisk.json
        exp=$(jq -r '.partitiontable as $t | ($t.sectorsize // 512) as $ss | [$t.partitions[]] | to_entries[] |
            "[\(.key)] = {\n  part_num: \(.value.node | capture("(?<n>[0-9]+)$").n)\n  part_start: \(.value.start * $ss)\n  part_end: \((.value.start + .value.size) * $ss - 1)\n  part_size: \(.value.size * $ss)\n}"' "$j")
        is "$("$G" -a "$pdir/$d.img" part-list /dev/sda)" "$exp" "part-list of parts/$d.img = sfdisk --json (sector size $(jq -r '.partitiontable.sectorsize // 512' "$j"))"
        lab=$(jq -r .partitiontable.label "$j")
        is "$("$G" -a "$pdir/$d.img" part-get-parttype /dev/sda)" "${lab/dos/msdos}" "part-get-parttype of parts/$d.img"
    done
    is "$("$G" -a "$pdir/mbr.img" list-filesystems | cut -d: -f1 | tr '\n' ' ')" \
        "$(jq -r '.partitiontable.partitions[] | select(.type != "5" and .type != "f" and .type != "85") | .node' "$pdir/mbr.sfdisk.json" | sed 's|.*mbr.img|/dev/sda|' | tr '\n' ' ')" \
        "list-filesystems leaves out the extended partition (sfdisk type 5)"
    is "$("$G" -a "$pdir/mbr.img" part-get-mbr-id /dev/sda 4 : part-get-mbr-id /dev/sda 7)" \
        "0x$(sfdisk --part-type "$pdir/mbr.img" 4 | tr -d " ")"$'\n'"0x$(sfdisk --part-type "$pdir/mbr.img" 7 | tr -d " ")" "part-get-mbr-id of an extended and a logical partition"
else
    _tap_result 1 "fixture parts"
fi

# --- the root filesystem through debugfs ---------------------------------
start2=$(jq -r ".partitiontable.partitions[1].start" <<<"$parts")
size2=$(jq -r ".partitiontable.partitions[1].size" <<<"$parts")
dd if=$IMG of="$T/root.fs" bs=512 skip="$start2" count="$size2" status=none
DBG() { debugfs -R "$1" "$T/root.fs" 2>/dev/null; }

# ls vs debugfs ls -p (/ino/mode/uid/gid/name/size/)
for d in / /data /etc /links; do
    exp=$(DBG "ls -p $d" | awk -F/ 'NF > 1 && $6 != "." && $6 != ".." {print $6}' | LC_ALL=C sort)
    is "$(printf 'ls %s\n' "$d" | gs)" "$exp" "ls $d = debugfs ls"
done
# statns: ino/mode/uid/gid/size from debugfs, mode/size/uid/gid/nlink/mtime from stat(1) on the tree
for f in /etc/hostname /data/random.bin /home/alice/notes.txt /data/sub /data/fifo; do
    out=$(printf 'statns %s\n' "$f" | gs)
    field() { awk -v k="$1:" '$1 == k {print $2}' <<<"$out"; }
    name=${f##*/}
    line=$(DBG "ls -p ${f%/*}" | awk -F/ -v n="$name" '$6 == n')
    ino=$(cut -d/ -f2 <<<"$line"); mode=$(cut -d/ -f3 <<<"$line")
    is "$(field st_ino) $(field st_mode)" "$ino $((8#$mode))" "statns $f: st_ino, st_mode = debugfs"
    # (directory sizes depend on the filesystem: compared with debugfs above)
    sz=$(field st_size); [ -d "$R$f" ] && sz=$(stat -c %s "$R$f")
    is "$(printf '%x %s %s %s %s %s' "$(field st_mode)" "$sz" "$(field st_uid)" "$(field st_gid)" \
        "$(field st_nlink)" "$(field st_mtime_sec)")" \
        "$(stat -c '%f %s %u %g %h %Y' "$R$f")" "statns $f: mode size uid gid nlink mtime = stat(1) on the tree"
done
out=$(printf 'statns /etc/hostname\n' | gs)
is "$(awk -F: '{print $1}' <<<"$out" | tr '\n' ' ')" \
    "st_dev st_ino st_mode st_nlink st_uid st_gid st_rdev st_size st_blksize st_blocks st_atime_sec st_atime_nsec st_mtime_sec st_mtime_nsec st_ctime_sec st_ctime_nsec st_spare1 st_spare2 st_spare3 st_spare4 st_spare5 st_spare6 " \
    "statns prints guestfish's fields in order"
lout=$(printf 'lstatns /links/rel\nstatns /links/rel\n' | gs)
is "$(awk '$1 == "st_size:" {print $2}' <<<"$lout" | tr '\n' ' ')" \
    "$(stat -c %s "$R/links/rel") $(stat -L -c %s "$R/links/rel") " "lstatns vs statns on a symlink (sizes as stat(1))"
is "$(printf 'stat /etc/hostname\n' | gs | awk -F: '{print $1}' | tr '\n' ' ')" \
    "dev ino mode nlink uid gid rdev size blksize blocks atime mtime ctime " "stat (deprecated) fields"

# cat vs debugfs cat and the tree
for f in /etc/hostname /data/random.bin /data/nonl.txt /data/empty /etc/passwd; do
    "$G" -a $IMG -i cat "$f" >"$T/cat.out"
    same_file "$T/cat.out" "$R$f" "cat $f = the source file"
done
DBG "cat /data/lines.txt" >"$T/dbg.cat"
printf 'cat /data/lines.txt\n' | "$G" -a $IMG -i >"$T/cat.out"
same_file "$T/cat.out" "$T/dbg.cat" "cat = debugfs cat"
is "$("$G" -a $IMG -i cat /links/rel | head -n 2)" "$(head -n 2 $R/data/lines.txt)" "cat follows a relative symlink"
is "$("$G" -a $IMG -i cat /boot/grub/grub.cfg)" "$(cat boot/grub/grub.cfg)" "cat across the /boot mount (-i)"

# checksums
for f in /data/random.bin /etc/hostname /data/empty; do
    is "$("$G" -a $IMG -i checksum sha256 "$f" : checksum md5 "$f" : checksum sha1 "$f" : checksum crc "$f")" \
        "$(sha256sum <"$R$f" | cut -d' ' -f1)"$'\n'"$(md5sum <"$R$f" | cut -d' ' -f1)"$'\n'"$(sha1sum <"$R$f" | cut -d' ' -f1)"$'\n'"$(cksum <"$R$f" | cut -d' ' -f1)" \
        "checksum sha256/md5/sha1/crc $f = sha256sum/md5sum/sha1sum/cksum"
done
is "$("$G" -a $IMG -i checksum sha512 /data/random.bin)" "$(sha512sum <$R/data/random.bin | cut -d' ' -f1)" "checksum sha512"

# find vs find(1) on the tree
# (guestfish strips the directory as typed: /data -> "/a1.txt", /data/ -> "a1.txt")
is "$("$G" -a $IMG -i find /data)" "$(cd $R/data && find . -mindepth 1 | sed 's|^\./|/|' | LC_ALL=C sort)" \
    "find /data = find(1), sorted, names start with /"
is "$("$G" -a $IMG -i find /data/)" "$(cd $R/data && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort)" \
    "find /data/ = find(1), sorted, relative"
is "$("$G" -a $IMG -i find /)" "$( (cd $R && find . -mindepth 1 | sed 's|^\./||'; echo lost+found
                                   cd ../boot && find . -mindepth 1 | sed 's|^\./|boot/|'; echo boot/lost+found) | LC_ALL=C sort)" \
    "find / crosses the /boot mount"
"$G" -a $IMG -i find0 /home "$T/f0"
is "$(tr '\0' '\n' <"$T/f0")" "$(cd $R/home && find . -mindepth 1 | sed 's|^\./|/|' | LC_ALL=C sort)" "find0 to a host file"

# head/tail
for n in 3 -3 0 30; do
    is "$("$G" -a $IMG -i head-n $n /data/lines.txt)" "$(head -n $n $R/data/lines.txt)" "head-n $n = head -n $n"
done
is "$("$G" -a $IMG -i tail-n 4 /data/lines.txt)" "$(tail -n 4 $R/data/lines.txt)" "tail-n 4 = tail -n 4"
is "$("$G" -a $IMG -i tail-n -22 /data/lines.txt)" "$(tail -n +22 $R/data/lines.txt)" "tail-n -22 = tail -n +22"
is "$("$G" -a $IMG -i head /data/lines.txt)" "$(head $R/data/lines.txt)" "head = head(1)"
is "$("$G" -a $IMG -i tail /data/lines.txt)" "$(tail $R/data/lines.txt)" "tail = tail(1)"
is "$("$G" -a $IMG -i tail-n 1 /data/nonl.txt)" "$(cat $R/data/nonl.txt)" "tail-n: a last line without newline"

# grep family vs grep(1)
W=$R/data/words.txt
is "$("$G" -a $IMG -i grep alpha /data/words.txt)" "$(grep alpha $W)" "grep"
is "$("$G" -a $IMG -i grep alpha /data/words.txt insensitive:true)" "$(grep -i alpha $W)" "grep insensitive:true"
is "$("$G" -a $IMG -i egrep 'a$|^B' /data/words.txt)" "$(grep -E 'a$|^B' $W)" "egrep"
is "$("$G" -a $IMG -i grep 'a$|^B' /data/words.txt extended:true)" "$(grep -E 'a$|^B' $W)" "grep extended:true"
is "$("$G" -a $IMG -i fgrep 'a-m' /data/words.txt)" "$(grep -F 'a-m' $W)" "fgrep"
is "$("$G" -a $IMG -i grepi beta /data/words.txt)" "$(grep -i beta $W)" "grepi"
is "$("$G" -a $IMG -i zgrep '^[ab]' /data/words.txt.gz)" "$(zgrep '^[ab]' $R/data/words.txt.gz)" "zgrep (gzip)"
is "$("$G" -a $IMG -i grep zzz /data/words.txt ; echo "rc=$?")" "rc=0" "grep with no match: empty, success"

# is-* and exists vs test(1) on the tree
# (absolute links would resolve on the host: only relative ones here)
for p in /data/a1.txt /data /links/rel /links/dangling /data/fifo /nonexistent; do
    h=$R$p
    e=""
    for t in "-f" "-d" "-L" "-p" "-e"; do
        if [ "$t" = -f ] || [ "$t" = -d ]; then
            # without followsymlinks a link is neither a file nor a directory
            if [ -L "$h" ]; then e+="false "; continue; fi
        fi
        if test $t "$h"; then e+="true "; else e+="false "; fi
    done
    g=$("$G" -a $IMG -i is-file "$p" : is-dir "$p" : is-symlink "$p" : is-fifo "$p" : exists "$p" | tr '\n' ' ')
    is "$g" "$e" "is-file is-dir is-symlink is-fifo exists $p = test(1)"
done
is "$("$G" -a $IMG -i is-file /links/abs followsymlinks:true : is-dir /links/datadir followsymlinks:true)" \
    "$(printf 'true\ntrue')" "is-file/is-dir followsymlinks:true"
is "$("$G" -a $IMG -i readlink /links/rel : realpath /links/rel)" \
    "$(readlink $R/links/rel)"$'\n'"/data/lines.txt" "readlink (readlink(1)) and realpath"

# download, download-offset, copy-out
"$G" -a $IMG -i download /data/random.bin "$T/dl"
same_file "$T/dl" $R/data/random.bin "download"
"$G" -a $IMG -i download-offset /data/random.bin "$T/dlo" 1000 5k
dd if=$R/data/random.bin bs=1 skip=1000 count=5120 status=none >"$T/dlo.exp"
same_file "$T/dlo" "$T/dlo.exp" "download-offset 1000 5k (dd skip=1000 count=5120)"
"$G" -a $IMG -i download-offset /data/random.bin "$T/dlo2" 299990 100
is "$(stat -c %s "$T/dlo2")" 10 "download-offset past the end stops at the end"
mkdir "$T/co"
"$G" -a $IMG -i copy-out /data /etc/hostname "$T/co"
ok "copy-out /data: same tree as the source (diff -r)" diff -r --no-dereference -x fifo "$R/data" "$T/co/data"
same_file "$T/co/hostname" $R/etc/hostname "copy-out of a file"
is "$(cd "$T/co/data" && find . -printf '%y %m %TY-%Tm-%Td\n' | sort)" \
    "$(cd "$R/data" && find . -printf '%y %m %TY-%Tm-%Td\n' | sort)" "copy-out keeps types, modes, mtimes"

# statvfs vs dumpe2fs
out=$(printf 'statvfs /\n' | gs)
sv() { awk -v k="$1:" '$1 == k {print $2}' <<<"$out"; }
d2() { dumpe2fs -h "$T/root.fs" 2>/dev/null | awk -F: -v k="$1" '$1 == k {gsub(/ /, "", $2); print $2}'; }
is "$(sv bsize) $(sv files) $(sv ffree) $(sv bfree)" "$(d2 'Block size') $(d2 'Inode count') $(d2 'Free inodes') $(d2 'Free blocks')" \
    "statvfs bsize files ffree bfree = dumpe2fs"
is "$(awk -F: '{print $1}' <<<"$out" | tr '\n' ' ')" "bsize frsize blocks bfree bavail files ffree favail fsid flag namemax " \
    "statvfs fields"
df=$(printf 'df\n' | gs)
is "$(head -n 1 <<<"$df" | tr -s ' ')" "Filesystem 1K-blocks Used Available Use% Mounted on" "df header"
is "$(tail -n +2 <<<"$df" | awk '{print $1, $6}')" "$(printf '/dev/sda2 /\n/dev/sda1 /boot')" "df rows: device, mountpoint"
is "$(printf 'df-h\n' | gs | head -n 1 | tr -s ' ')" "Filesystem Size Used Avail Use% Mounted on" "df-h header"
du=$(printf 'du /data/random.bin\n' | gs)
is "$du" "$(( ($(DBG 'stat /data/random.bin' | sed -n 's/.*Blockcount: \([0-9]*\).*/\1/p') + 1) / 2 ))" \
    "du of a file = debugfs Blockcount / 2"

# hexdump, strings
"$G" -a $IMG -i hexdump /data/random.bin >"$T/hd"
hexdump -C $R/data/random.bin >"$T/hd.exp"
same_file "$T/hd" "$T/hd.exp" "hexdump = hexdump -C"
is "$("$G" -a $IMG -i hexdump /data/nonl.txt : hexdump /data/empty)" "$(hexdump -C $R/data/nonl.txt)" \
    "hexdump: a short last line; an empty file"
"$G" -a $IMG -i strings /bin/bash >"$T/str"
strings -a -e s $R/bin/bash >"$T/str.exp"
same_file "$T/str" "$T/str.exp" "strings = strings -a -e s"
"$G" -a $IMG -i read-file /data/random.bin >"$T/rf"
same_file "$T/rf" $R/data/random.bin "read-file"

# partition details vs sgdisk -i / sfdisk
for n in 1 2 3; do
    info=$(sgdisk -i $n $IMG)
    exp="$(sed -n "s/^Partition name: '\(.*\)'$/\1/p" <<<"$info")"$'\n'
    exp+="$(sed -n 's/^Partition GUID code: \([^ ]*\).*/\1/p' <<<"$info")"$'\n'
    exp+="$(sed -n 's/^Partition unique GUID: \([^ ]*\).*/\1/p' <<<"$info")"$'\n'
    exp+="$((16#$(sed -n 's/^Attribute flags: \([0-9a-f]*\).*/\1/p' <<<"$info")))"
    is "$("$G" -a $IMG part-get-name /dev/sda $n : part-get-gpt-type /dev/sda $n : part-get-gpt-guid /dev/sda $n : part-get-gpt-attributes /dev/sda $n)" \
        "$exp" "part-get-name/gpt-type/gpt-guid/gpt-attributes $n = sgdisk -i $n"
done
is "$("$G" -a mbr.img part-get-mbr-id /dev/sda 1)" "0x$(sfdisk --part-type mbr.img 1)" "part-get-mbr-id = sfdisk --part-type"
is "$("$G" -a $IMG part-to-dev /dev/sda2 : part-to-partnum /dev/sda2 : canonical-device-name /dev/vda3 : canonical-device-name /dev/xvda1 : is-whole-device /dev/sda : is-whole-device /dev/sda1 : is-lv /dev/sda1 : list-md-devices)" \
    "$(printf '/dev/sda\n2\n/dev/sda3\n/dev/sda1\ntrue\nfalse\nfalse')" "part-to-dev, part-to-partnum, canonical-device-name, is-whole-device, is-lv"

# extended attributes (ext-trees fixture: mke2fs -d copied them) vs getfattr
if edir=$(fixture ext-trees 2>/dev/null); then
    E=(-a "$edir/ext4.img" -m /dev/sda)
    is "$("$G" "${E[@]}" hexdump /zeros-and-nul.bin)" "$(hexdump -C "$edir/src/zeros-and-nul.bin")" \
        "hexdump squeezes repeated lines (*) like hexdump -C"
    for f in /hello.txt /etc/shadow /etc/hostname; do
        is "$("$G" "${E[@]}" lgetxattrs $f | sed -n 's/^  attrname: //p' | LC_ALL=C sort)" \
            "$(getfattr -d -m - --absolute-names "$edir/src$f" 2>/dev/null | sed -n 's/^\([^#=][^=]*\)=.*/\1/p' | LC_ALL=C sort)" \
            "lgetxattrs $f: names = getfattr"
    done
    # tar-out: the same listing as GNU tar --sort=name of the source tree;
    # extracted, the same tree as the source (find -printf of ext-trees)
    "$G" "${E[@]}" tar-out / "$T/t.tar"
    is "$(tar -tv --numeric-owner -f "$T/t.tar" | grep -v ' \./$' | grep -v lost+found)" \
        "$(tar -C "$edir/src" --sort=name -cf - . 2>/dev/null | tar -tv --numeric-owner -f - | grep -v ' \./$')" \
        "tar-out: tar -tv listing = GNU tar --sort=name of the source tree"
    mkdir "$T/tx"
    tar -C "$T/tx" -xf "$T/t.tar"
    is "$(cd "$T/tx" && find . -printf '%y %m %s %n %U %G %T@ %p -> %l\n' | grep -v '^d\|lost+found' | LC_ALL=C sort)" \
        "$(grep -v '^d\|^s ' "$edir/src.find")" "tar-out extracted: files, links, devices = the source (src.find)"
    is "$("$G" "${E[@]}" tar-out /etc - compress:gzip | tar -tzf - | LC_ALL=C sort)" \
        "$( (echo ./; cd "$edir/src/etc" && find . -mindepth 1) | LC_ALL=C sort)" "tar-out compress:gzip"
    "$G" "${E[@]}" tar-out /etc "$T/e.tar.zst" compress:zstd 'excludes:shadow host*' numericowner:true
    is "$(tar --zstd -tvf "$T/e.tar.zst" | awk '{print $2, $6}')" "$(printf '0/0 ./\n0/0 ./passwd')" \
        "tar-out compress:zstd, excludes:, numericowner:true"
    "$G" "${E[@]}" checksums-out sha256 / "$T/sums"
    same_file "$T/sums" "$edir/sums" "checksums-out sha256 / = sha256sum of every file (escaped names too)"
    is "$("$G" "${E[@]}" checksums-out crc /names -)" "$(cd "$edir/src/names" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 cksum)" \
        "checksums-out crc = cksum"
    is "$("$G" "${E[@]}" checksums-out md5 /etc/ -)" "$(cd "$edir/src/etc" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum)" \
        "checksums-out md5 = md5sum"
    "$G" "${E[@]}" getxattr /etc/shadow security.selinux >"$T/xa"
    getfattr --only-values -n security.selinux --absolute-names "$edir/src/etc/shadow" >"$T/xa.exp"
    same_file "$T/xa" "$T/xa.exp" "getxattr: the raw value (with its NUL) = getfattr --only-values"
    is "$("$G" "${E[@]}" lgetxattrs /etc/shadow | sed -n 's/^  attrval: //p')" \
        "$(getfattr --only-values -n security.selinux --absolute-names "$edir/src/etc/shadow" | tr -d '\0')\\x00" \
        "lgetxattrs prints a NUL as \\x00"
    is "$("$G" "${E[@]}" getxattrs /links/abs | sed -n 's/^  attrname: //p' | LC_ALL=C sort)" \
       "$(getfattr -d -m - --absolute-names "$edir/src/hello.txt" | sed -n 's/^\([^#=][^=]*\)=.*/\1/p' | LC_ALL=C sort)" \
       "getxattrs follows a symlink (/links/abs -> /hello.txt)"
else
    _tap_result 1 "fixture ext-trees"
fi

# --- mounts and inspection ---------------------------------------------------
fst=$R/etc/fstab
uuid_dev() { # UUID -> /dev/sdaN by blkid on each partition
    for i in 0 1 2; do
        s=$(jq -r ".partitiontable.partitions[$i].start" <<<"$parts")
        [ "$(blkid -p -o value -s UUID -O $((s * 512)) $IMG)" = "$1" ] && echo /dev/sda$((i + 1))
    done
}
exp=$(awk '$1 ~ /^UUID=/ && $2 ~ /^\// {print $2}' $fst | while read -r mp; do
    u=$(awk -v m="$mp" '$2 == m {sub(/^UUID=/, "", $1); print $1}' $fst)
    echo "$mp: $(uuid_dev "$u")"; done | sort)
is "$("$G" -a $IMG inspect-os : inspect-get-mountpoints /dev/sda2 | tail -n +2 | sort)" "$exp" \
    "inspect-get-mountpoints: 'mountpoint: device', the fstab through blkid"
is "$("$G" -a $IMG inspect-os)" "$(uuid_dev "$(awk '$2 == "/" {sub(/^UUID=/, "", $1); print $1}' $fst)")" "inspect-os: the root"
is "$("$G" -a $IMG -i inspect-get-type /dev/sda2 : inspect-get-distro /dev/sda2 : inspect-get-hostname /dev/sda2 : inspect-get-major-version /dev/sda2 : inspect-get-package-format /dev/sda2)" \
    "$(printf 'linux\n%s\n%s\n%s\ndeb' "$(. $R/etc/os-release; echo "$ID")" "$(cat $R/etc/hostname)" "$(. $R/etc/os-release; echo "$VERSION_ID")")" \
    "inspect-get-type/distro/hostname/major-version/package-format (os-release, hostname)"
is "$("$G" -a $IMG -i inspect-get-arch /dev/sda2)" "$(uname -m)" "inspect-get-arch (the guest's /bin/bash is the host's)"
is "$("$G" -a $IMG -i mountpoints : mounts)" "$(printf '/dev/sda2: /\n/dev/sda1: /boot\n/dev/sda2\n/dev/sda1')" "mountpoints and mounts after -i"
is "$(gs <<'EOF'
umount /boot
ls /boot
mounts
mount-ro /dev/sda1 /boot
ls /boot
umount-all
mounts
mount /dev/sda1 /
is-file /vmlinuz-6.1.0
EOF
)" "$(printf '/dev/sda2\n%s\ntrue' "$( (cd boot && ls -A; echo lost+found) | LC_ALL=C sort)")" \
    "umount, mount-ro, umount-all, mount"
is "$("$G" -a $IMG -m /dev/sda2 -m /dev/sda1:/boot ls /boot/grub)" "grub.cfg" "-m dev and -m dev:mountpoint"
is "$("$G" -a disk.qcow2 -i cat /etc/hostname)" "$(cat $R/etc/hostname)" "qcow2 image"
is "$("$G" -a mbr.img -m /dev/sda1 cat /a1.txt : list-filesystems)" "$(cat $R/data/a1.txt)"$'\n'"/dev/sda1: ext2" \
    "MBR disk, -m /dev/sda1"

# applications of the Debian phony guest (LVM, qcow2 chain) vs dpkg-query
if gdir=$(fixture guests 2>/dev/null); then
    root=$("$G" -a "$gdir/debian.qcow2" -i inspect-get-roots)
    is "$root" "/dev/deb-vg/root" "inspect-get-roots of the Debian guest (root LV)"
    got=$("$G" -a "$gdir/debian.qcow2" -i inspect-list-applications2 "$root" | awk '
        $1 == "app2_name:" {n = $2} $1 == "app2_epoch:" {e = $2} $1 == "app2_version:" {v = $2}
        $1 == "app2_release:" {r = $2} $1 == "app2_arch:" {a = $2}
        $1 == "}" {print n, (e > 0 ? e ":" : "") v (r != "" ? "-" r : ""), a}')
    exp=$(dpkg-query --admindir="$gdir/dpkg" -W -f '${db:Status-Abbrev} ${Package} ${Version} ${Architecture}\n' |
          awk '$1 ~ /^ii/ {print $2, $3, $4}' | LC_ALL=C sort)
    is "$got" "$exp" "inspect-list-applications2: name, version, arch = dpkg-query"
    is "$("$G" -a "$gdir/debian.qcow2" -i inspect-list-applications "$root" | grep -c '^\[')" \
        "$(wc -l <<<"$exp")" "inspect-list-applications: one block per package"
else
    _tap_result 1 "fixture guests"
fi

# LVM (lvm fixture, oracles from lvm2's reports)
if ldir=$(fixture lvm 2>/dev/null); then
    L=(-a "$ldir/d1.img" -a "$ldir/d2.img" -a "$ldir/d3.img" -a "$ldir/d4.img")
    LVS='[.report[0].lv[]] | unique_by([.vg_name, .lv_name])[]'
    is "$("$G" "${L[@]}" lvs | sort)" "$(jq -r "$LVS"' | "/dev/\(.vg_name)/\(.lv_name)"' "$ldir/lvs.json" | sort)" "lvs = lvs --reportformat json"
    is "$("$G" "${L[@]}" vgs | sort)" "$(jq -r '.report[0].vg[].vg_name' "$ldir/vgs.json" | sort)" "vgs = vgs"
    is "$("$G" "${L[@]}" pvs | sort)" "$(jq -r '.report[0].pv[].pv_name' "$ldir/pvs.json" | sort)" "pvs = pvs"
else
    _tap_result 1 "fixture lvm"
fi

# --- the shell syntax -----------------------------------------------------
is "$("$G" <<'EOF'
echo plain   words  here
echo "a\tb\x41\101\\\"" 'single \t "quoted"'
# a comment
   # an indented comment

echo ~ ~/x "~"
echo a ; echo b
EOF
)" "$(printf 'plain words here\na\tbAA\\" single \\t "quoted"\n%s %s/x ~\na ; echo b' "$HOME" "$HOME")" \
    "echo: quotes, C escapes in double quotes only, comments, ~, ; is not a separator"
is "$("$G" -a $IMG -i 2>&1 <<'EOF'
cat /etc/hostname | tr a-z A-Z
!echo from the host
<! printf 'echo generated\n'
-cat /nonexistent
echo after the failure
EOF
)" "$(printf '%s\nfrom the host\ngenerated\ngfsh: cat: /nonexistent: No such file or directory\nafter the failure' "$(tr a-z A-Z <$R/etc/hostname)")" \
    "| host pipe, !host, <! host commands, -cmd may fail"
printf 'cat /etc/hostname\ncat /nonexistent\necho not reached\n' >"$T/script"
out=$("$G" -a $IMG -i -f "$T/script" 2>"$T/err"); rc=$?
is "$rc $out" "1 $(cat $R/etc/hostname)" "-f script stops at the first error with exit 1"
is "$(cat "$T/err")" "gfsh: cat: /nonexistent: No such file or directory" "  ... and says why"
out=$("$G" -a $IMG -i <"$T/script" 2>/dev/null); rc=$?
is "$rc $out" "1 $(cat $R/etc/hostname)" "stdin script stops at the first error with exit 1"
out=$("$G" -a $IMG -i cat /etc/hostname : cat /nope : echo not reached 2>/dev/null); rc=$?
is "$rc $out" "1 $(cat $R/etc/hostname)" "':' separated commands stop at the first error"
is "$("$G" -a $IMG -i -x echo hi 2>&1 >/dev/null)" "+ echo hi" "-x echoes each command (stderr)"
is "$("$G" -a $IMG -i glob echo '/data/[ab]*.txt' '/etc/host*')" \
    "$(cd $R && for a in data/[ab]*.txt; do for b in etc/host*; do echo "/$a /$b"; done; done)" \
    "glob: guest wildcards, cartesian product"
is "$("$G" -a $IMG -i glob ls '/nomatch*' 2>&1)" "gfsh: ls: /nomatch*: No such file or directory" "glob: no match passes the pattern"
ok "time: elapsed time: N.NN seconds" bash -c "'$G' -a $IMG -i time cat /etc/hostname | grep -qxE 'elapsed time: [0-9]+\.[0-9]{2} seconds'"
is "$("$G" echo a : quit : echo b)" "a" "quit stops"
is "$("$G" help | head -n 1)" "    Command              Description" "help: the list header"
ok "help lists every command of the man page" bash -c "
    for c in \$('$G' --man-commands | sed -n 's/^\.SS \([^,]*\).*/\1/p' | sed 's/\\\\-/-/g'); do
        '$G' help | grep -q \"^\$c \" || '$G' help \$c >/dev/null || exit 1; done"
is "$("$G" help cat | sed -n 2p)" "    cat - list the contents of a file" "help cat"
is "$("$G" -h cat | sed -n 5p)" "     cat path" "gfsh -h cat: synopsis"
is "$("$G" help head-n | sed -n 5p)" "     head-n nrlines path" "help: synopsis from the table"
is "$("$G" help grep | sed -n 5p)" "     grep regex path [extended:true|false] [fixed:true|false] [insensitive:true|false] [compressed:true|false]" \
    "help: optional arguments"
ok "gfsh --man-commands is roff that man(1) renders" bash -c "'$G' --man-commands | grep -q '^\.SS cat' && \
    { sed '/@COMMANDS@/,\$d' '$TOP/man/gfsh.1.in'; '$G' --man-commands; sed '1,/@COMMANDS@/d' '$TOP/man/gfsh.1.in'; } | MANWIDTH=80 man -l - 2>&1 | grep -q 'statns'"
is "$("$G" -a $IMG -i CAT /etc/hostname : head_n 1 /etc/hostname)" "$(cat $R/etc/hostname)"$'\n'"$(cat $R/etc/hostname)" \
    "command names: any case, _ for -"
is "$("$G" add $IMG : run : list-devices)" "/dev/sda" "add and run"
is "$("$G" add $IMG format:raw readonly:true : list-devices)" "/dev/sda" "add with format: and readonly: (launch on first use)"
"$G" -a $IMG -i more /data/lines.txt >"$T/more"
same_file "$T/more" $R/data/lines.txt "more (less) on a pipe is cat"
is "$("$G" -a $IMG -i read-lines /data/nonl.txt : filesize /data/random.bin : filesize /links/rel)" \
    "$(cat $R/data/nonl.txt)"$'\n'"$(stat -c %s $R/data/random.bin)"$'\n'"$(stat -L -c %s $R/links/rel)" \
    "read-lines adds the missing newline; filesize (follows links) = stat"
mkdir -p "$T/lcd"
"$G" -a $IMG -i lcd "$T/lcd" : download /etc/hostname hn
same_file "$T/lcd/hn" $R/etc/hostname "lcd: relative host names from the new directory"
ok "gfsh --version" bash -c "'$G' --version | grep -q '^gfsh '"
ok "gfsh --help" bash -c "'$G' --help | grep -q -- '--inspector'"
is "$("$G" -a $IMG -i head-n 1k /data/lines.txt | wc -l)" "$(wc -l <$R/data/lines.txt)" "integers with suffixes (1k)"
is "$("$G" -a $IMG -i download-offset /data/lines.txt - 0x10 010)" "$(dd if=$R/data/lines.txt bs=1 skip=16 count=8 status=none)" \
    "integers: 0x hex, 0 octal; - is stdout"

# inspect-list-applications(2) on the Debian phony guest: names and full
# versions as dpkg-query reads the same status file.
if gdir=$(fixture guests 2>/dev/null); then
    mkdir -p "$T/dpkg/updates" "$T/dpkg/info"
    cp "$gdir/dpkg/status" "$T/dpkg/status"
    exp=$(dpkg-query --admindir="$T/dpkg" -W -f='${db:Status-Status} ${Package} ${Version}\n' 2>/dev/null |
          awk '$1 == "installed" { print $2, $3 }' | LC_ALL=C sort)
    for v in "" 2; do
        f=app${v}_
        got=$("$G" -a "$gdir/debian.qcow2" --ro <<EOF | awk -v f="$f" '
            $1 == f"name:" { n = $2 } $1 == f"epoch:" { e = $2 } $1 == f"version:" { ver = $2 }
            $1 == f"release:" { r = $2; printf "%s %s%s%s\n", n, (e != "0" ? e ":" : ""), ver, (r != "" ? "-" r : "") }'
run
inspect-list-applications$v /dev/deb-vg/root
EOF
)
        ok "dpkg-query lists packages" test -n "$exp"
        is "$got" "$exp" "inspect-list-applications$v = dpkg-query on the same status file"
    done
fi

done_testing
