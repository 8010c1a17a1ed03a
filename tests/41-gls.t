#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gls (virt-ls modes) against the generated source tree, find, ls, numfmt,
# sha256sum/md5sum and debugfs.
. "$(dirname "$0")/lib.sh"
D=$(fixture ext-trees) || skip_all "fixture ext-trees failed"
export TZ=UTC LC_ALL=C
S=$D/src
IMG=$D/ext4.img
G() { gls -a "$IMG" -m /dev/sda "$@"; }

# The -lR listing virt-ls would print for the source tree (dir sizes
# blanked: the image's directories are sized by mke2fs, not the host).
expected_lR() { # DIR-IN-GUEST
    python3 - "$S" "$1" <<'EOF'
import os, stat, sys
src, top = sys.argv[1].encode(), sys.argv[2].encode()
out = sys.stdout.buffer
def t(m):
    for f, c in ((stat.S_ISREG, b'-'), (stat.S_ISDIR, b'd'), (stat.S_ISCHR, b'c'), (stat.S_ISBLK, b'b'),
                 (stat.S_ISFIFO, b'p'), (stat.S_ISLNK, b'l'), (stat.S_ISSOCK, b's')):
        if f(m): return c
    return b'u'
def line(gpath, hpath):
    st = os.lstat(hpath)
    size = b'DIRSIZE' if stat.S_ISDIR(st.st_mode) else b'%10d' % st.st_size
    s = b'%s %04o %s %s' % (t(st.st_mode), stat.S_IMODE(st.st_mode), size, gpath)
    if stat.S_ISLNK(st.st_mode):
        s += b' -> ' + os.readlink(hpath)
    out.write(s + b'\n')
def walk(gdir, hdir):
    for n in sorted(os.listdir(hdir)):
        g = (gdir if gdir == b'/' else gdir + b'/') + n
        h = os.path.join(hdir, n)
        line(g, h)
        if stat.S_ISDIR(os.lstat(h).st_mode):
            walk(g, h)
h = src + top
line(top, h)
walk(top, h)
EOF
}
blank_dirs() { sed -E 's/^d ([0-7]{4}) +[0-9]+ /d \1 DIRSIZE /' | grep -avE '^d 0700 DIRSIZE /lost\+found$'; }

# -lR of the whole tree, and of subdirectories, on every variant
for v in ext2 ext4 ext4-1k inline bigalloc; do
    gls -a "$D/$v.img" -m /dev/sda -lR / | blank_dirs > "$T/got"
    expected_lR / > "$T/want"
    if [ $v = inline ]; then
        # mke2fs -d stores sparse files of an inline_data fs with other
        # sizes than the source: debugfs is the oracle for those
        for f in /sparse/allhole.bin /sparse/holes.bin; do
            sz=$(debugfs -R "stat $f" "$D/$v.img" 2>/dev/null | sed -nE 's/.*Size: ([0-9]+).*/\1/p' | head -1)
            python3 - "$T/want" "$f" "$sz" <<'EOF2'
import sys
p, f, sz = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
lines = open(p, 'rb').read().split(b'\n')
lines = [l[:7] + b'%10d' % sz + l[17:] if l.endswith(b' ' + f) else l for l in lines]
open(p, 'wb').write(b'\n'.join(lines))
EOF2
        done
    fi
    same_file "$T/got" "$T/want" "$v: -lR / equals the source tree"
done
G -lR /links | blank_dirs > "$T/got"; expected_lR /links > "$T/want"
same_file "$T/got" "$T/want" "-lR /links: symlink targets"
G -lR /names | blank_dirs > "$T/got"; expected_lR /names > "$T/want"
same_file "$T/got" "$T/want" "-lR /names: odd names"

# directory sizes against debugfs
for d in / /etc /deep /names; do
    want=$(debugfs -R "stat $d" "$IMG" 2>/dev/null | sed -nE 's/.*Size: ([0-9]+).*/\1/p' | head -1)
    got=$(G -lR "$d" | head -1 | awk '{print $3}')
    is "$got" "$want" "size of directory $d as debugfs says"
done

# plain listing: names, sorted, like ls -A
G /etc > "$T/got"; ls -A "$S/etc" > "$T/want"
same_file "$T/got" "$T/want" "plain listing of /etc"
G / | grep -v '^lost+found$' > "$T/got"; ls -A "$S" > "$T/want"
same_file "$T/got" "$T/want" "plain listing of /"

# -R: every path below, with the directory name cut off like guestfs find
G -R /deep > "$T/got"
(cd "$S/deep" && find . -mindepth 1 | sed 's|^\.||' | sort) > "$T/want"
same_file "$T/got" "$T/want" "-R /deep"
G -R / | grep -av '^lost+found' | sort > "$T/got"
(cd "$S" && find . -mindepth 1 | sed 's|^\./||' | sort) > "$T/want"
same_file "$T/got" "$T/want" "-R / (relative paths)"

# -l: ls -la style; mode strings, links and names as ls shows them
G -l /etc | awk 'NR > 1 {print $1, $2, $NF}' > "$T/got"
ls -la "$S/etc" | awk 'NR > 1 && $NF != "." && $NF != ".." {sub(/\.$/, "", $1); print $1, $2, $NF}' > "$T/want.body"
{ G -l /etc | awk 'NR > 1 && ($NF == "." || $NF == "..") {print $1, $2, $NF}'; cat "$T/want.body"; } > "$T/want"
same_file "$T/got" "$T/want" "-l /etc: modes, links, names like ls -la"
G -l /modes | awk '$NF == "setuid" || $NF == "sticky" || $NF == "none" {print $1, $NF}' > "$T/got"
ls -la "$S/modes" | awk '$NF == "setuid" || $NF == "sticky" || $NF == "none" {sub(/\.$/, "", $1); print $1, $NF}' > "$T/want"
same_file "$T/got" "$T/want" "-l: setuid, sticky and 0000 mode strings"
is "$(G -l /etc | head -1 | cut -c1-6)" "total " "-l starts with a total line"

# --uids, --times, --time-t, --time-days
is "$(G -lR --uids /owners | grep -a ' /owners/test3$' | awk '{print $4, $5}')" "10 11" "--uids of owners/test3"
is "$(G -lR --uids /owners/test3 | cut -c 19-27)" "  10   11" "--uids are padded to 4 like virt-ls"
mt=$(stat -c %Y "$S/hello.txt")
is "$(G -lR --times /hello.txt | awk '{print $6, $7}')" "$(date -u -d @"$mt" '+%F %T')" "--times: mtime as YYYY-MM-DD HH:MM:SS"
is "$(G -lR --time-t /hello.txt | awk '{print $5}')" "$mt" "--time-t: mtime in seconds"
days=$(( ($(date +%s) - mt) / 86400 ))
is "$(G -lR --time-days /hello.txt | awk '{print $5}')" "$days" "--time-days"

# --extra-stats against debugfs: inode, links, rdev, blocks
for f in /hello.txt /hard/one /sparse/holes.bin /binary.bin; do
    st=$(debugfs -R "stat $f" "$IMG" 2>/dev/null)
    ino=$(printf '%s\n' "$st" | sed -nE 's/^Inode: ([0-9]+).*/\1/p')
    links=$(printf '%s\n' "$st" | sed -nE 's/.*Links: ([0-9]+).*/\1/p')
    blocks=$(printf '%s\n' "$st" | sed -nE 's/.*Blockcount: ([0-9]+).*/\1/p')
    is "$(G -lR --extra-stats "$f" | awk '{print $5, $6, $8}')" "$ino $links $blocks" "--extra-stats $f: inode, links, blocks"
done
is "$(G -lR --extra-stats /dev/null | awk '{print $7}')" "1:3" "--extra-stats: rdev of a char device"
is "$(G -lR --extra-stats /dev/loop0 | awk '{print $7}')" "7:0" "--extra-stats: rdev of a block device"

# --checksum (md5 by default) against md5sum / sha256sum of the source
bad=0
cd "$S"
while IFS= read -r -d '' f; do
    for sum in md5 sha256 sha512; do
        want=$(${sum}sum < "$f" | cut -d' ' -f1)
        opt=--checksum=$sum; [ $sum = md5 ] && opt=--checksum
        got=$(G -lR $opt "/${f#./}" | awk '{print $4}')
        [ "$got" = "$want" ] || { bad=1; diag "$sum $f: $got != $want"; }
    done
done < <(find . -type f ! -name '*
*' ! -name '* *' -print0)
cd - >/dev/null
is "$bad" 0 "--checksum md5, sha256, sha512 of every regular file"

# --csv: field order, quoting
row=$(G -lR --csv --uids --times --time-t --extra-stats --checksum=sha1 /hello.txt)
is "$(printf '%s\n' "$row" | python3 -c 'import csv,sys; r=next(csv.reader(sys.stdin)); print(len(r), r[0], r[1], r[2], r[3], r[13]==sys.argv[1], r[14])' "$(sha1sum < "$S/hello.txt" | cut -d' ' -f1)")" \
   "15 - 0644 13    0 True /hello.txt" \
   "--csv with every field: type,mode,size,uid,gid,atime,mtime,ctime,dev,ino,nlink,rdev,blocks,checksum,path"
is "$(G -lR --csv --checksum /links/abs)" "l,0777,10,,/links/abs,/hello.txt" "--csv: empty checksum for a symlink, target as a field"
is "$(G -lR --csv '/names/quote"comma,')" '-,0644,4,"/names/quote""comma,"' "--csv quotes commas and doubles quotes"
is "$(G -lR --csv '/names/with space')" '-,0644,6,"/names/with space"' "--csv quotes spaces"

# -h: sizes like numfmt --to=iec --round=nearest
for f in binary.bin block4096 sparse/holes.bin hello.txt; do
    want=$(numfmt --to=iec --round=nearest "$(stat -c %s "$S/$f")")
    is "$(G -lR -h "/$f" | awk '{print $3}')" "$want" "-h size of $f like numfmt"
done

# flags that need -lR, -h with --csv
fails_cleanly "--csv without -lR" gls -a "$IMG" -m /dev/sda --csv /
fails_cleanly "-h without -lR" gls -a "$IMG" -m /dev/sda -l -h /
fails_cleanly "-h with --csv" gls -a "$IMG" -m /dev/sda -lR -h --csv /
fails_cleanly "unknown checksum" gls -a "$IMG" -m /dev/sda -lR --checksum=crc7 /
fails_cleanly "missing directory" gls -a "$IMG" -m /dev/sda /nonexistent
fails_cleanly "listing a file" gls -a "$IMG" -m /dev/sda /hello.txt

# following links to directories, crossing mountpoints
G /links/etcdir > "$T/got"; ls -A "$S/etc" > "$T/want"
same_file "$T/got" "$T/want" "plain listing through a symlink to a directory"
is "$(gls -a "$D/disk.qcow2" /boot/grub)" "grub.cfg" "-i: /boot is the /boot partition"
is "$(gls -a "$D/disk.qcow2" -lR /boot | awk 'NR > 1 {print $4}' | grep -v lost+found | tr '\n' ' ')" "/boot/grub /boot/grub/grub.cfg " "-lR crosses into the /boot mount"
is "$(gls "$D/disk.qcow2" /etc | tr '\n' ' ')" "debian_version fstab hostname os-release " "old style: gls IMAGE DIR"

# the 10 000-file directory
is "$(gls -a "$D/ext4-big.img" -m /dev/sda /many | wc -l)" 10000 "10 000 files in one directory"
gls -a "$D/ext4-big.img" -m /dev/sda /many > "$T/got"; ls -A "$D/src-big/many" > "$T/want"
same_file "$T/got" "$T/want" "... named and sorted like the source"

done_testing
