#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gfsh's read-only guestfish commands added for issue 18, on the gfshro
# fixture, each against an oracle: file(1), wc, dd, cmp, cpio -it, readlink,
# base64, grep/zcat, strings, md5sum, tar, blkid -p, tune2fs -l, debugfs,
# sfdisk/sgdisk, qemu-img info, lvm2's own reports, the trees the fixture
# was made from, and guestfish 1.48.6's transcript of the same commands on
# the same image (tests/data/guestfish/transcript.txt, recorded once).
. "$(dirname "$0")/lib.sh"
G=$GK_BIN/gfsh
[ -x "$G" ] || skip_all "needs $G"
dir=$(fixture gfshro) || exit 1
cd "$dir"
R=root B=boot
TR=$TOP/tests/data/guestfish/transcript.txt
GS=("$G" -a disk.img -m /dev/sda2 -m /dev/sda1:/boot)
gs() { "${GS[@]}" "$@"; }
# rec CMD: what guestfish printed for CMD (a header may follow output
# that did not end with a newline)
rec() { perl -e 'my ($c, $f) = @ARGV; open my $h, "<", $f or die; local $/; my $t = <$h>;
                 my $q = quotemeta($c); print $1 if $t =~ /### $q\n(.*?)(?=### |\z)/s' "$1" "$TR"; }
off2=$((17 << 20))   # /dev/sda2 starts at 17 MiB, /dev/sda1 at 1 MiB
dd if=disk.img of="$T/sda2.fs" bs=1M skip=17 count=40 status=none
dd if=disk.img of="$T/sda1.fs" bs=1M skip=1 count=16 status=none

# ---- file: libmagic's answer, as file -zb gives it; other types by name
for f in /etc/hostname /bin/bash /data/empty /data/lines.txt.gz /data/utf16.txt \
         /usr/share/pixmaps/debian-logo.png /boot/initrd.img-6.1.0 /boot/initrd-xz.img; do
    case $f in /boot/*) h=$B/${f#/boot/} ;; *) h=$R$f ;; esac
    is "$(gs file "$f")" "$(file -zb "$h")" "file $f = file -zb"
done
for f in /data /links/abs; do
    is "$(gs file "$f")" "$(rec "file $f")" "file $f = guestfish's"
done
is "$(gs file-architecture /bin/bash)" "$(rec 'file-architecture /bin/bash' | sed "s/x86_64/$(uname -m)/")" \
   "file-architecture of the host's bash"

# ---- wc, pread, is-zero
for f in /data/lines.txt /data/words.txt /data/nonl.txt /data/empty; do
    is "$(gs wc-l $f : wc-w $f : wc-c $f)" "$(wc -l <$R$f)"$'\n'"$(wc -w <$R$f)"$'\n'"$(wc -c <$R$f)" "wc-l wc-w wc-c $f = wc"
done
gs pread /data/lines.txt 20 10 >"$T/pread"
dd if=$R/data/lines.txt of="$T/pread.dd" bs=1 skip=10 count=20 status=none
same_file "$T/pread" "$T/pread.dd" "pread = dd"
gs pread /data/lines.txt 100 4690 >"$T/pread2"
dd if=$R/data/lines.txt of="$T/pread2.dd" bs=1 skip=4690 count=100 status=none
same_file "$T/pread2" "$T/pread2.dd" "pread past the end: what there is"
gs pread-device /dev/sda2 8 1080 >"$T/preadd"
dd if=disk.img of="$T/preadd.dd" bs=1 skip=$((off2 + 1080)) count=8 status=none
same_file "$T/preadd" "$T/preadd.dd" "pread-device = dd on the image"
"$G" -a disk.img pread-device /dev/sda2 3000000 0 >/dev/null 2>&1
is "$?" 1 "pread-device: more than 2 MiB refused"
for f in /data/zero.bin /data/nulls.bin /data/sparse.bin /data/empty /data/lines.txt; do
    cmp -s -n "$(stat -c %s $R$f)" $R$f /dev/zero && z=true || z=false
    is "$(gs is-zero $f)" "$z" "is-zero $f = cmp with /dev/zero"
done
dd if=disk.img bs=1M skip=57 count=6 status=none | cmp -s - <(head -c 6M /dev/zero) && z=true || z=false
is "$(gs is-zero-device /dev/sda3)" "$z" "is-zero-device of the swap partition = cmp"
truncate -s 8M "$T/blank.img"
sgdisk -n 1:2048:+4M "$T/blank.img" >/dev/null
is "$("$G" -a "$T/blank.img" is-zero-device /dev/sda1)" true "is-zero-device of a partition never written"

# ---- initrd-list, initrd-cat: cpio(1) reads the same archive
(cd "$T" && cpio --quiet -it <"$dir/$B/initrd.cpio") >"$T/cpio.list"
for f in initrd.img-6.1.0 initrd-xz.img initrd-zstd.img initrd.cpio; do
    [ -e "$B/$f" ] || continue
    gs initrd-list /boot/$f >"$T/list" 2>&1
    same_file "$T/list" "$T/cpio.list" "initrd-list of $f (${f##*.}) = cpio -it"
done
is "$(gs initrd-cat /boot/initrd.img-6.1.0 etc/hostname)" "$(cat initrd/etc/hostname)" "initrd-cat etc/hostname"
gs initrd-cat /boot/initrd-xz.img bin/sh >"$T/sh"
same_file "$T/sh" initrd/bin/sh "initrd-cat of a binary from the xz initrd"
fails_cleanly "initrd-cat of a name not in the initrd" "${GS[@]}" initrd-cat /boot/initrd.img-6.1.0 etc/nosuch
fails_cleanly "initrd-list of a file that is no initrd" "${GS[@]}" initrd-list /etc/hostname
# an early uncompressed cpio (microcode) before the real, compressed one
mkdir -p "$T/early/kernel/x86/microcode" "$T/e"
echo ucode >"$T/early/kernel/x86/microcode/GenuineIntel.bin"
(cd "$T/early" && find . | LC_ALL=C sort | cpio --quiet -o -H newc) >"$T/e/combo.img"
gzip -9n <$B/initrd.cpio >>"$T/e/combo.img"
mke2fs -q -F -t ext4 -d "$T/e" "$T/combo.fs" 4M >/dev/null 2>&1
is "$("$G" -a "$T/combo.fs" -m /dev/sda initrd-list /combo.img)" "$(cat "$T/cpio.list")" \
   "initrd-list skips an early cpio and lists the real archive (as libguestfs)"

# ---- names: case-sensitive-path, ls0, readlinklist, glob-expand
for p in /DATA/mixedcase/subdir/file.txt /data/MIXEDCASE/newfile; do
    is "$(gs case-sensitive-path "$p")" "$(rec "case-sensitive-path $p" | tr -d '\n')" "case-sensitive-path $p = guestfish's"
done
is "$(gs ls0 /links - | tr '\0' '\n' | LC_ALL=C sort)" "$(ls -A $R/links | LC_ALL=C sort)" "ls0: the names = ls -A"
is "$(gs ls0 /links - | tr -cd '\0' | wc -c)" "$(ls -A $R/links | wc -l)" "ls0: each ended by a NUL"
is "$(gs readlinklist /links "abs rel dangling")" \
   "$(for l in abs rel dangling; do readlink $R/links/$l; done)" "readlinklist = readlink"
is "$(gs readlinklist /data "lines.txt")" "" "readlinklist: empty for a file that is no link"
is "$(gs glob-expand '/data/*.txt')" "$(rec 'glob-expand /data/*.txt' | tr -d '\r')" "glob-expand = guestfish's"
is "$(gs glob-expand '/data/Mixed*')" "/data/MixedCase/" "glob-expand: directories with a /"
is "$(gs glob-expand '/data/Mixed*' directoryslash:false)" "/data/MixedCase" "glob-expand directoryslash:false"

# ---- llz, lstatlist, lstatnslist, lxattrlist, readdir
for d in /etc /data; do
    is "$(gs llz $d)" "$(rec "llz $d")" "llz $d = guestfish's (SELinux contexts set by debugfs)"
done
# inode numbers and ctimes depend on the host that built the image:
# debugfs is their oracle; the rest must be guestfish's
strip() { grep -v -e 'dev:' -e 'ino:' -e 'ctime'; }
is "$(gs lstatlist /data "lines.txt empty" | strip)" "$(rec 'lstatlist /data "lines.txt empty"' | strip)" \
   "lstatlist = guestfish's (but dev, ino, ctime)"
is "$(gs lstatnslist /links "abs rel" | strip)" "$(rec 'lstatnslist /links "abs rel"' | strip)" \
   "lstatnslist = guestfish's (but dev, ino, ctime)"
is "$(gs lstatnslist /links "abs rel" | sed -n 's/^  st_ino: //p' | tr '\n' ' ')" \
   "$(for l in abs rel; do debugfs -R "stat /links/$l" "$T/sda2.fs" 2>/dev/null | sed -n 's/^Inode: \([0-9]*\).*/\1/p'; done | tr '\n' ' ')" \
   "lstatnslist inodes = debugfs"
is "$(gs lxattrlist /etc "hostname os-release")" "$(rec 'lxattrlist /etc "hostname os-release"')" "lxattrlist = guestfish's"
is "$(gs readdir /links | sed -n 's/^  name: //p' | tr '\n' ' ')" \
   "$(debugfs -R 'ls /links' "$T/sda2.fs" 2>/dev/null | tr -s ' ' '\n' | sed -n 's/^(\([0-9]*\))$/\1/;t;/^[^0-9(]/p' | tr '\n' ' ')" \
   "readdir: every name, . and .. first, in the directory's order (debugfs ls)"
is "$(gs readdir /links | sed -n 's/^  ino: //p' | tr '\n' ' ')" \
   "$(debugfs -R 'ls /links' "$T/sda2.fs" 2>/dev/null | tr -s ' ' '\n' | grep -E '^[0-9]+$' | tr '\n' ' ')" \
   "readdir: inode numbers = debugfs ls"

# ---- devices: blkid, tune2fs-l, partitions, findfs, blockdev-get*
for d in /dev/sda1 /dev/sda2 /dev/sda3 /dev/sda; do
    is "$(gs blkid $d)" "$(rec "blkid $d")" "blkid $d = guestfish's"
done
is "$(gs blkid /dev/sda2 | sed -n '/^LABEL\|^UUID\|^VERSION\|^BLOCK_SIZE\|^TYPE\|^USAGE/s/: /=/p')" \
   "$(blkid -p -o export "$T/sda2.fs" | grep -v '^DEVNAME')" "blkid's filesystem values = blkid -p -o export"
tune2fs -l "$T/sda2.fs" | sed 1d | awk -F: 'NF == 0 { next }
    { k = $1; v = substr($0, length(k) + 2); sub(/^[ \t]+/, "", v);
      if (v == "<none>" || v == "<not available>" || v == "(none)") v = ""; print k ": " v }' >"$T/tune2fs"
gs tune2fs-l /dev/sda2 >"$T/tune2fs.gfsh"
same_file "$T/tune2fs.gfsh" "$T/tune2fs" "tune2fs-l = tune2fs -l, split as libguestfs splits it"
is "$(grep -v -e '^Reserved blocks [ug]id' -e ' time:' -e 'Filesystem created' -e '^Lifetime writes' -e '^Last checked' "$T/tune2fs.gfsh")" \
   "$(rec 'tune2fs-l /dev/sda2' | grep -v -e '^Reserved blocks [ug]id' -e ' time:' -e 'Filesystem created' -e '^Lifetime writes' -e '^Last checked')" \
   "tune2fs-l = guestfish's (but user names and times, the host's)"
fails_cleanly "tune2fs-l of swap" "${GS[@]}" tune2fs-l /dev/sda3
boot() { sfdisk --json disk.img | jq -r ".partitiontable.partitions[$1].attrs // \"\"" | grep -q LegacyBIOSBootable &&
          echo true || echo false; }
is "$(gs part-get-bootable /dev/sda 1 : part-get-bootable /dev/sda 2 | tr '\n' ' ')" "$(boot 0) $(boot 1) " \
   "part-get-bootable (GPT legacy BIOS bootable) = sfdisk"
is "$(gs part-get-disk-guid /dev/sda)" "$(sgdisk -p disk.img | sed -n 's/^Disk identifier (GUID): //p')" "part-get-disk-guid = sgdisk"
is "$(gs part-get-mbr-part-type /dev/sda 1)" "primary" "part-get-mbr-part-type of a GPT partition: primary (guestfish's)"
if pdir=$(fixture parts 2>/dev/null); then
    j=$pdir/mbr.sfdisk.json
    for n in 1 2 3 4 5 6 7; do
        t=$(jq -r ".partitiontable.partitions[] | select(.node | test(\"[^0-9]$n\$\")) | .type" "$j")
        b=$(jq -r ".partitiontable.partitions[] | select(.node | test(\"[^0-9]$n\$\")) | .bootable // false" "$j")
        exp=$([ "$t" = 5 ] || [ "$t" = f ] && echo extended || { [ "$n" -ge 5 ] && echo logical || echo primary; })
        got=$("$G" -a "$pdir/mbr.img" part-get-mbr-part-type /dev/sda $n : part-get-bootable /dev/sda $n | tr '\n' ' ')
        is "$got" "$exp $([ "$b" = true ] && echo true || echo false) " "MBR partition $n (type $t): part-get-mbr-part-type, part-get-bootable = sfdisk"
    done
    is "$("$G" -a "$pdir/mbr.img" blkid /dev/sda1 | sed -n 's/^PART_ENTRY_\(SCHEME\|UUID\|TYPE\|FLAGS\|OFFSET\|SIZE\): /\1=/p')" \
       "$(blkid -p -o export "$pdir/mbr.img" >/dev/null; sfdisk --json "$pdir/mbr.img" | jq -r --arg id "$(sfdisk --json "$pdir/mbr.img" | jq -r .partitiontable.id | sed 's/^0x//')" \
           '.partitiontable.partitions[0] | "SCHEME=dos\nUUID=\($id)-01\nTYPE=0x\(.type)\nFLAGS=0x80\nOFFSET=\(.start)\nSIZE=\(.size)"')" \
       "blkid of an MBR partition: the PART_ENTRY values of sfdisk's table"
else
    _tap_result 1 "fixture parts"
fi
is "$(gs findfs-label root : findfs-uuid "$(blkid -o value -s UUID "$T/sda1.fs")")" "/dev/sda2"$'\n'"/dev/sda1" \
   "findfs-label, findfs-uuid (blkid's label and UUID)"
fails_cleanly "findfs-label of a label nobody has" "${GS[@]}" findfs-label nosuch
is "$(gs get-e2label /dev/sda2 : get-e2uuid /dev/sda2)" \
   "$(blkid -o value -s LABEL "$T/sda2.fs")"$'\n'"$(blkid -o value -s UUID "$T/sda2.fs")" "get-e2label, get-e2uuid = blkid"
is "$(gs device-index /dev/sda : nr-devices)" "0"$'\n'"1" "device-index, nr-devices"
is "$("$G" -a disk.img -a "$T/blank.img" device-index /dev/sdb : nr-devices)" "1"$'\n'"2" "... with two disks"
is "$(gs blockdev-getss /dev/sda : blockdev-getsz /dev/sda2 : blockdev-getro /dev/sda2)" \
   "512"$'\n'"$(( $(sfdisk --json disk.img | jq '.partitiontable.partitions[1].size') ))"$'\n'"true" \
   "blockdev-getss, -getsz (sfdisk), -getro (read-only gfsh)"
is "$(gs blockdev-getbsz /dev/sda2 : blockdev-getbsz /dev/sda3)" \
   "$(sed -n 's/^Block size: //p' "$T/tune2fs")"$'\n'"4096" "blockdev-getbsz: the mounted filesystem's block size, else 4096"
is "$(gs checksum-device md5 /dev/sda1)" "$(md5sum <"$T/sda1.fs" | cut -d' ' -f1)" "checksum-device = md5sum of the partition"
is "$(gs mountable-device /dev/sda2)" "/dev/sda2" "mountable-device (guestfish 1.48 says /dev/sdb2, its appliance's name)"
fails_cleanly "mountable-subvolume of a plain device" "${GS[@]}" mountable-subvolume /dev/sda2
is "$(gs filesystem-available ext4 : filesystem-available minix)" "true"$'\n'"false" "filesystem-available"
is "$(gs list-disk-labels)" "$(rec list-disk-labels)" "list-disk-labels: none (no labels given)"

# ---- filesystem-walk: debugfs's view of /boot (one directory level)
gs filesystem-walk /dev/sda1 >"$T/walk"
is "$(awk '/tsk_inode:/ {i = $2} /tsk_type:/ {t = $2} /tsk_size:/ {s = $2} /tsk_name:/ {n = $2}
           /tsk_nlink:/ {print n, i, t, s, $2}' "$T/walk" | LC_ALL=C sort)" \
   "$(debugfs -R 'ls -l /' "$T/sda1.fs" 2>/dev/null | awk 'NF >= 8 && $NF != ".." {
        t = substr($2, 1, 1) == "4" ? "d" : substr($2, 1, 1) == "1" && substr($2, 2, 1) == "0" ? "r" : "?";
        print $NF, $1, t, $6 }' | while read -r n i t s; do
        printf '%s %s %s %s %s\n' "$n" "$i" "$t" "$s" "$(debugfs -R "stat <$i>" "$T/sda1.fs" 2>/dev/null | sed -n 's/.*Links: \([0-9]*\).*/\1/p')"
      done | LC_ALL=C sort)" "filesystem-walk: name, inode, type, size, links = debugfs"
awk '/tsk_name: vmlinuz/ {p = 1} p' "$T/walk" | sed '/^}/q' | grep -v -e 'time' >"$T/walk1"
rec 'filesystem-walk /dev/sda1' | awk '/tsk_name: vmlinuz/ {p = 1} p' | sed '/^}/q' | grep -v -e 'time' >"$T/walk1.rec"
sed -i '/tsk_inode/d' "$T/walk1" "$T/walk1.rec"
same_file "$T/walk1" "$T/walk1.rec" "filesystem-walk: an entry as guestfish prints it"

# ---- LVM: the phony Debian guest; lvm2 reads the same PV through a loop device
if pdir=$(fixture phony 2>/dev/null) && L=$(losetup -f --show -r --offset $((18432 * 512)) "$pdir/debian.img" 2>/dev/null); then
    . "$TOP/test-images/lib-lvm.sh"
    lvm_private_config "$T/lvm" "$L"
    P=("$G" -a "$pdir/debian.img")
    is "$("${P[@]}" list-dm-devices)" "$(lvm lvs --noheadings -o vg_name,lv_name debian 2>/dev/null |
        awk '{gsub(/-/, "--", $1); gsub(/-/, "--", $2); print "/dev/mapper/" $1 "-" $2}' | LC_ALL=C sort)" \
       "list-dm-devices = lvs' names, dashes doubled"
    is "$("${P[@]}" vguuid debian)" "$(lvm vgs --noheadings -o vg_uuid debian 2>/dev/null | tr -d ' ')" "vguuid = vgs"
    is "$("${P[@]}" vglvuuids debian | LC_ALL=C sort)" "$(lvm lvs --noheadings -o lv_uuid debian 2>/dev/null | tr -d ' ' | LC_ALL=C sort)" \
       "vglvuuids = lvs"
    is "$("${P[@]}" vgpvuuids debian : pvuuid /dev/sda2)" \
       "$(lvm pvs --noheadings -o pv_uuid "$L" 2>/dev/null | tr -d ' ')"$'\n'"$(lvm pvs --noheadings -o pv_uuid "$L" 2>/dev/null | tr -d ' ')" \
       "vgpvuuids, pvuuid = pvs"
    is "$("${P[@]}" lvuuid /dev/debian/root : lvm-canonical-lv-name /dev/mapper/debian-root)" \
       "$(lvm lvs --noheadings -o lv_uuid debian/root 2>/dev/null | tr -d ' ')"$'\n'"/dev/debian/root" \
       "lvuuid = lvs; lvm-canonical-lv-name of /dev/mapper/VG-LV"
    losetup -d "$L"
else
    diag "no loop device for lvm2: LVM checks skipped"
fi

# ---- inspection extras
is "$("$G" -a disk.img -i inspect-get-icon /dev/sda2 | md5sum)" "$(md5sum <$R/usr/share/pixmaps/debian-logo.png)" \
   "inspect-get-icon: the Debian logo, byte for byte"
is "$("$G" -a disk.img -i inspect-get-icon /dev/sda2 favicon:false highquality:true | md5sum)" \
   "$(md5sum <$R/usr/share/pixmaps/debian-logo.png)" "inspect-get-icon highquality:true"
for c in inspect-get-format inspect-is-live inspect-is-netinst inspect-is-multipart inspect-get-drive-mappings; do
    is "$("$G" -a disk.img -i $c /dev/sda2)" "$(rec "$c /dev/sda2")" "$c = guestfish's"
done

# ---- files: equal, base64-out, grep variants, strings-e, tgz-out, txz-out
is "$(gs equal /etc/hostname /data/MixedCase/SubDir/File.TXT : equal /data/lines.txt /links/rel)" \
   "$(cmp -s $R/etc/hostname $R/data/MixedCase/SubDir/File.TXT && echo true || echo false)"$'\n'"true" "equal = cmp"
gs base64-out /data/lines.txt.gz "$T/b64"
same_file "$T/b64" <(base64 $R/data/lines.txt.gz) "base64-out = base64"
for g in egrepi:-Ei fgrepi:-Fi zegrep:-E zegrepi:-Ei zfgrep:-F zfgrepi:-Fi zgrepi:-i; do
    c=${g%%:*} o=${g#*:}
    case $c in z*) f=/data/lines.txt.gz src="zcat $R/data/lines.txt.gz" ;; *) f=/data/lines.txt src="cat $R/data/lines.txt" ;; esac
    pat='LINE NUMBER 1[0-9]$'
    case $o in *F*) pat='NUMBER 29' ;; esac
    case $o in *i*) ;; *) pat=$(echo "$pat" | tr A-Z a-z) ;; esac
    is "$(gs $c "$pat" $f)" "$($src | grep $o -- "$pat")" "$c = grep $o"
done
is "$(gs strings-e S /bin/bash | md5sum)" "$(strings -a -e S $R/bin/bash | md5sum)" "strings-e S = strings -e S"
is "$(gs strings-e l /data/utf16.txt)" "$(strings -a -e l $R/data/utf16.txt)" "strings-e l = strings -e l"
fails_cleanly "strings-e with an unknown encoding" "${GS[@]}" strings-e x /etc/hostname
is "$(gs tgz-out /data - | tar -tz | sed 's|/$||' | LC_ALL=C sort)" "$(cd $R/data && find . | LC_ALL=C sort)" \
   "tgz-out: a gzip tar of the directory (tar -tz = find)"
if gs txz-out /data - 2>"$T/xz.err" | tar -tJ >/dev/null 2>&1; then
    ok "txz-out: an xz tar (tar -tJ)" true
else
    echo "not ok $((_tap_n + 1)) - txz-out: an xz tar # TODO tar-out has no xz until it moves to libarchive (issue 10): $(head -c 200 "$T/xz.err")"
    _tap_n=$((_tap_n + 1))
fi

# ---- mounting with options; disk-*; session no-ops
is "$("$G" -a disk.img mount-options ro,noatime /dev/sda2 / : cat /etc/hostname)" "$(cat $R/etc/hostname)" "mount-options ro,noatime"
is "$("$G" -a disk.img mount-vfs ro ext4 /dev/sda2 / : cat /etc/hostname)" "$(cat $R/etc/hostname)" "mount-vfs ro ext4"
fails_cleanly "mount-vfs with a type no driver reads" "$G" -a disk.img mount-vfs "" minix /dev/sda2 /
qemu-img create -q -f qcow2 -b "$dir/disk.img" -F raw "$T/top.qcow2"
for img in disk.img "$T/top.qcow2"; do
    j=$(qemu-img info --output=json "$img")
    is "$("$G" disk-format "$img" : disk-virtual-size "$img" : disk-has-backing-file "$img")" \
       "$(jq -r '.format' <<<"$j")"$'\n'"$(jq -r '."virtual-size"' <<<"$j")"$'\n'"$(jq -r 'if ."backing-filename" then "true" else "false" end' <<<"$j")" \
       "disk-format, disk-virtual-size, disk-has-backing-file of $(basename "$img") = qemu-img info"
done
is "$("$G" ping-daemon : echo-daemon hello world : sleep 0 : echo done)" "hello world"$'\n'"done" "ping-daemon, echo-daemon, sleep"
is "$("$G" -a disk.img -i run : launch : run : cat /etc/hostname)" "$(cat $R/etc/hostname)" "run and launch when launched: no-ops"
is "$("$G" add-ro disk.img : add-drive-ro "$T/blank.img" : nr-devices)" "2" "add-ro, add-drive-ro"
is "$("$G" version | cut -d: -f1 | tr '\n' ' ')" "major minor release extra " "version: guestfish's fields"
is "$("$G" version | sed -n 's/^major: //p').$("$G" version | sed -n 's/^minor: //p').$("$G" version | sed -n 's/^release: //p')" \
   "$("$G" --version | awk '{print $2}')" "version = gfsh --version"
done_testing
