#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The tools on XFS images (test-images/xfs.sh) against what the kernel
# showed of the same images mounted read-only when the fixture was made:
# find -printf (types, modes, owners, sizes, links, inode numbers, blocks,
# times), sha256sum, getfattr, stat -f and df; blkid for gfilesystems;
# xfs_repair -n for the log verdict.  (Node-by-node driver checks against
# a live mount are in tests/unit/xfs.c.)
. "$(dirname "$0")/lib.sh"
D=$(fixture xfs) || skip_all "fixture xfs failed"
export LC_ALL=C TZ=UTC
K=$D/v5.kernel

# gls -lR with every field, as find would print them: TYPE MODE UID GID
# LINKS INODE BLOCKS MTIME ATIME CTIME SIZE PATH [-> TARGET]; and the
# checksums as sha256sum prints them
gls_as_find() { # IMAGE
    gls -a "$1" -m /dev/sda -lR --csv --uids --times --time-t --extra-stats --checksum=sha256 / |
        python3 -c '
import csv, sys
out = open(sys.argv[1], "w"); sums = open(sys.argv[2], "w")
t = {"-": "f", "d": "d", "l": "l", "c": "c", "b": "b", "p": "p", "s": "s"}
for r in csv.reader(sys.stdin):
    p = "." if r[14] == "/" else "." + r[14]
    size = "-" if r[0] == "d" else r[2]
    line = " ".join([t[r[0]], "%o" % int(r[1], 8), r[3].strip(), r[4].strip(), r[10], r[9], r[12],
                     r[6].strip(), r[5].strip(), r[7].strip(), size, p])
    if r[0] == "l":
        line += " -> " + r[15]
    out.write(line + "\n")
    if r[0] == "-":
        sums.write("%s  %s\n" % (r[13], p))
' "$T/gls.find" "$T/gls.sums"
}
find_fields() { # the same fields from the kernel's find -printf
    python3 -c '
import sys
for l in open(sys.argv[1], encoding="utf-8", errors="surrogateescape"):
    f = l.rstrip("\n").split(" ")
    rest = " ".join(f[11:])
    path, target = rest.split(" -> ", 1)
    size = "-" if f[0] == "d" else f[4]
    line = " ".join([f[0], f[1], f[2], f[3], f[5], f[6], f[7], f[8].split(".")[0],
                     f[9].split(".")[0], f[10].split(".")[0], size, path])
    if f[0] == "l":
        line += " -> " + target
    sys.stdout.write(line + "\n")
' "$1" | sort
}

for v in v5 v5-1k; do
    gls_as_find "$D/$v.img"
    sort "$T/gls.find" >"$T/got"
    find_fields "$D/$v.kernel/find.txt" >"$T/want"
    n=$(wc -l <"$T/want")
    ok "$v: gls -lR shows the $n files as the kernel's find" diff "$T/want" "$T/got"
    sort -k2 "$T/gls.sums" >"$T/got.sums"
    sort -k2 "$D/$v.kernel/sha256.txt" >"$T/want.sums"
    ok "$v: gls --checksum=sha256 of every file as sha256sum" diff "$T/want.sums" "$T/got.sums"
done

# gcat: holes, unwritten extents, bmap btrees of one and two levels
for f in data/holes.bin data/unwritten.bin data/prealloc-past-eof data/ext300.bin data/ext6000.bin \
         dirs/names/ünïcödé; do
    want=$(grep "  ./$f\$" "$K/sha256.txt" | cut -d' ' -f1)
    got=$(gcat -a "$D/v5.img" -m /dev/sda "/$f" 2>/dev/null | sha256sum | cut -d' ' -f1)
    is "$got" "$want" "gcat /$f"
done
# through symlinks, absolute ones resolved inside the guest
is "$(gcat -a "$D/v5.img" -m /dev/sda /links/absolute /links/todir/../hello.txt)" \
   "hello world
hello world" "gcat through symlinks"
fails_cleanly "gcat of a symlink loop fails (ELOOP)" gcat -a "$D/v5.img" -m /dev/sda /links/loop1

# gcopy-out: contents, links, holes kept as holes
out=$T/out
mkdir "$out"
ok "gcopy-out /data /links /dev exits 0" gcopy-out -a "$D/v5.img" -m /dev/sda /data /links /dev "$out"
(cd "$out" && find data links -type f -print0 | sort -z | xargs -0 sha256sum | sed 's|  |  ./|') >"$T/cp.sums"
grep -E '  \./(data|links)/' "$K/sha256.txt" | sort -k2 >"$T/want.cp"
ok "gcopy-out: every file as sha256sum" diff "$T/want.cp" "$T/cp.sums"
is "$(readlink "$out/links/long1023" | tr -d '\n' | wc -c) $(stat -c %h "$out/links/hard1") $(stat -c '%F %t %T' "$out/dev/sda")" \
   "1023 3 block special file 8 0" "gcopy-out: long symlink, hard links, device node"
is "$(( $(stat -c %b "$out/data/allhole.bin") + $(stat -c %b "$out/data/unwritten.bin") < 64 ))" 1 \
   "gcopy-out: holes and unwritten extents are written as holes"

# gdf against df; gfilesystems against blkid
read -r kb ku ka <"$K/df.txt"
read -r ki kiu kif <"$K/dfi.txt"
is "$(gdf -a "$D/v5.img" | awk 'NR == 2 {print $2, $3, $4}')" "$kb $ku $ka" "gdf as df"
is "$(gdf -i -a "$D/v5.img" | awk 'NR == 2 {print $2, $3, $4}')" "$ki $kiu $kif" "gdf -i as df -i"
read -r k1 _ <"$D/v5-1k.kernel/df.txt"
is "$(gdf -a "$D/v5-1k.img" | awk 'NR == 2 {print $2, $3, $4}')" "$(cat "$D/v5-1k.kernel/df.txt")" \
   "gdf as df (1 KiB blocks)"
eval "$(blkid -p -o export "$D/v5.img" | grep -E '^(TYPE|LABEL|UUID)=')"
is "$(gfilesystems -a "$D/v5.img" -l --uuid --csv --no-title | cut -d, -f1,3,4,7)" \
   "/dev/sda,$TYPE,$LABEL,$UUID" "gfilesystems: type, label and UUID as blkid"

# gfsh: list-filesystems, vfs-type/-label/-uuid as blkid, mount and a
# checksum as the kernel's sha256sum (v4: of the protofile's source);
# statvfs as the kernel's stat -f
for v in v5 v4 v4-noftype; do
    TYPE= LABEL= UUID=
    eval "$(blkid -p -o export "$D/$v.img" | grep -E '^(TYPE|LABEL|UUID)=')"
    if [ "$v" = v5 ]; then
        sum=$(awk '$2 == "./hello.txt" {print $1}' "$K/sha256.txt")
    else
        sum=$(awk '$1 == "hello.txt" {print $5}' "$D/v4.proto" | xargs cat | sha256sum | cut -d' ' -f1)
    fi
    gfsh --ro -a "$D/$v.img" run : list-filesystems : vfs-type /dev/sda : vfs-label /dev/sda : \
        vfs-uuid /dev/sda : mount /dev/sda / : checksum sha256 /hello.txt >"$T/g" 2>&1
    is "$(cat "$T/g")" "/dev/sda: $TYPE
$TYPE
$LABEL
$UUID
$sum" "$v: gfsh list-filesystems, vfs-type, vfs-label, vfs-uuid, mount, checksum"
done
read -r fb fblocks ffree favail ffiles fffree <"$K/statfs.txt"
is "$(gfsh --ro -a "$D/v5.img" -m /dev/sda statvfs / | awk '$1 ~ /^(frsize|blocks|bfree|bavail|files|ffree):$/ {printf "%s ", $2}')" \
   "$fb $fblocks $ffree $favail $ffiles $fffree " "gfsh statvfs as the kernel's stat -f"

# extended attributes against getfattr (values in hex)
gfsh -a "$D/v5.img" -m /dev/sda lgetxattrs /xattr/ns.txt >"$T/x" 2>&1
for a in trusted.t security.selinux user.u; do
    want=$(awk -v f="# file: xattr/ns.txt" '$0 == f {on = 1; next} /^# file:/ {on = 0} on' "$K/getfattr.txt" |
        sed -n "s/^$a=0x//p")
    got=$(awk -v a="$a" '$1 == "attrname:" {n = $2} $1 == "attrval:" && n == a {sub(/^ *attrval: /, ""); print}' "$T/x" |
        tr -d '\n' | sed 's/\\x00$//' | od -An -tx1 | tr -d ' \n')
    [ "$a" = security.selinux ] && got=${got}00
    is "$got" "$want" "lgetxattrs: $a as getfattr"
done

# the log: a warning exactly where xfs_repair -n says it needs recovery
for v in dirty v5; do
    gls -a "$D/$v.img" -m /dev/sda / >/dev/null 2>"$T/w"
    got=$(grep -q 'log needs recovery' "$T/w" && echo dirty || echo clean)
    is "$got" "$(cat "$D/$v-log.txt")" "$v: log verdict as xfs_repair -n"
done

# mount options (-m DEV:MP:OPTIONS): the kernel's XFS options are taken,
# others refused, as the kernel's own mount does
mnt=$T/mnt
mkdir "$mnt"
for o in norecovery,inode64,logbsize=256k,noquota nosuchoption; do
    k=refused
    if mount -o "ro,loop,nouuid,$o" "$D/v5.img" "$mnt" 2>/dev/null; then k=taken; umount "$mnt"; fi
    g=refused
    gcat -a "$D/v5.img" -m "/dev/sda:/:$o" /hello.txt >/dev/null 2>&1 && g=taken
    is "$g" "$k" "mount options $o: $k as by the kernel"
done

# v4 (which this kernel does not mount): gcat against the protofile's source
is "$(gcat -a "$D/v4.img" -m /dev/sda /random.bin | sha256sum)" \
   "$(grep ' random.bin ' "$D/v4.proto" | awk '{print $5}' | xargs cat | sha256sum)" "v4: gcat /random.bin"
done_testing
