#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gtar-out and gtar-in (virt-tar-out/-in), and gfsh's tar-in.  Oracles:
# GNU tar (the listing of gtar-out's archive must be what tar --sort=name
# lists for the source tree; GNU tar's archives, compressed or not, sparse
# or not, must unpack into the tree the kernel then shows as the source),
# the kernel (loop mounts), e2fsck -fn.  Hostile archives (made with
# Python's tarfile) must leave nothing outside the target directory.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root for loop mounts"
for t in gtar-in gtar-out gfsh; do [ -x "$GK_BIN/$t" ] || skip_all "needs $t"; done
mkdir -p "$T/m"

S=$T/src
mkdir -p "$S/etc/sub" "$S/data" "$S/links"
printf 'root:x:0:0\n' >"$S/etc/passwd"
printf 'secret\n' >"$S/etc/shadow"; chmod 0600 "$S/etc/shadow"
seeded_bytes 75 300000 >"$S/data/random.bin"
: >"$S/data/empty"
ln "$S/data/random.bin" "$S/data/hard"
ln -s ../etc/passwd "$S/links/rel"
ln -s /etc/passwd "$S/links/abs"
mkfifo "$S/data/fifo"
mknod "$S/data/null" c 1 3
printf 'u' >"$S/data/owned"; chown 1000:1001 "$S/data/owned"
truncate -s 2M "$S/data/sparse"; printf 'end' >>"$S/data/sparse"
name255=$(printf 'n%.0s' $(seq 1 255)); printf 'long' >"$S/data/$name255"
setfattr -n user.colour -v blue "$S/etc/passwd"
touch -d '2021-02-03 04:05:06' "$S/etc/passwd" "$S/data/random.bin"

IMG=$T/disk.img
truncate -s 64M "$IMG"
mke2fs -q -F -t ext4 -d "$S" "$IMG"

# ---- gtar-out ---------------------------------------------------------------
listing_tar() { tar -tv --numeric-owner -f "$1" "${@:2}" | grep -v ' \./lost+found' | awk '{$4=""; print}'; }
gtar-out -a "$IMG" -m /dev/sda / "$T/out.tar"
is "$?" 0 "gtar-out: exit 0"
tar -C "$S" --sort=name -cf "$T/gnu.tar" . 2>/dev/null
is "$(listing_tar "$T/out.tar" | grep -v ' \./$')" "$(listing_tar "$T/gnu.tar" | grep -v ' \./$')" \
    "gtar-out: tar -tv lists what GNU tar --sort=name archives of the source"
mkdir "$T/x1"
tar -C "$T/x1" -xf "$T/out.tar"
# (mke2fs -d keeps whole seconds: compare seconds)
seconds() { sed -E 's/ m([0-9]+)[0-9]{9} / m\1 /'; }
is "$(python3 "$TOP/tests/treelist.py" "$T/x1" --mtime | grep -v ' lost+found' | seconds)" \
   "$(python3 "$TOP/tests/treelist.py" "$S" --mtime | sed 's/ x:user[^ ]*//' | seconds)" \
   "gtar-out: GNU tar extracts the source tree (contents, modes, owners, links, devices, mtimes)"
for z in "-z:gzip" "--xz:xz" "--zstd:zstd" "-j:bzip2"; do
    opt=${z%%:*}; prog=${z#*:}
    command -v $prog >/dev/null || continue
    gtar-out -a "$IMG" -m /dev/sda /etc "$T/etc.tar.x" $opt
    is "$(tar -tf "$T/etc.tar.x" --use-compress-program="$prog -d" | LC_ALL=C sort | tr '\n' ' ')" \
       "./ ./passwd ./shadow ./sub/ " "gtar-out $opt: GNU tar reads it ($prog)"
done
gtar-out -a "$IMG" -m /dev/sda /etc - --xattrs | tar -C "$T/x1" --xattrs --xattrs-include='*' -xf - ./passwd
is "$(getfattr -n user.colour --only-values "$T/x1/passwd")" "blue" "gtar-out --xattrs: GNU tar restores the xattr"
is "$(gtar-out -a "$IMG" -m /dev/sda /etc - --exclude='sha*' --numeric-owner | tar -tvf - | awk '{print $2, $6}' | tr '\n' ' ')" \
   "0/0 ./ 0/0 ./passwd 0/0 ./sub/ " "gtar-out --exclude, --numeric-owner"
rc=0; gtar-out -a "$IMG" -m /dev/sda /etc/passwd "$T/f.tar" 2>"$T/err" || rc=$?
is "$rc:$(cat "$T/err")" "1:gtar-out: /etc/passwd: Not a directory" "gtar-out of a file: refused"
ok "gtar-out: no half-written archive left" test ! -e "$T/f.tar"
before=$(sha256sum <"$IMG")
gtar-out -a "$IMG" -m /dev/sda / /dev/null
is "$(sha256sum <"$IMG")" "$before" "gtar-out: the image is only read"

# ---- gtar-in ------------------------------------------------------------------
fresh() { rm -f "$IMG"; truncate -s 64M "$IMG"; mke2fs -q -F -t ext4 "$IMG"; gfsh --rw -a "$IMG" -m /dev/sda mkdir /target; }
compare_target() { # DESC
    ok "$1: e2fsck -fn is clean" e2fsck -fn "$IMG"
    mount -o loop,ro "$IMG" "$T/m"
    is "$(python3 "$TOP/tests/treelist.py" "$T/m/target" --mtime)" \
       "$(python3 "$TOP/tests/treelist.py" "$S" --mtime)" "$1: the kernel shows the source tree"
    umount "$T/m"
}
for v in "plain:" "gzip:z" "xz:J" "zstd:-zstd" "sparse:S"; do
    label=${v%%:*}; flag=${v#*:}
    case $flag in -zstd) fl=(--zstd) ;; "") fl=() ;; *) fl=(-$flag) ;; esac
    command -v "${label}" >/dev/null || [ "$label" = plain ] || [ "$label" = sparse ] || continue
    tar -C "$S" --xattrs --xattrs-include='*' "${fl[@]}" -cf "$T/in.tar" . 2>/dev/null
    fresh
    ok "gtar-in of GNU tar's $label archive" gtar-in -a "$IMG" -m /dev/sda --xattrs "$T/in.tar" /target
    compare_target "gtar-in $label"
done
fresh
ok "gfsh tar-in (xattrs:true), from stdin" bash -c "tar -C '$S' --xattrs --xattrs-include='*' -cf - . | gfsh --rw -a '$IMG' -m /dev/sda tar-in - /target xattrs:true"
compare_target "gfsh tar-in"
fresh
gtar-in -a "$IMG" -m /dev/sda --no-same-owner "$T/in.tar" /target
is "$(debugfs -R 'stat /target/data/owned' "$IMG" 2>/dev/null | sed -n 's/.*User: *\([0-9]*\) *Group: *\([0-9]*\).*/\1:\2/p')" "0:0" \
   "gtar-in --no-same-owner: root owns the files"

# ---- hostile archives -----------------------------------------------------------
python3 - "$T/evil.tar" <<'EOF'
import io, sys, tarfile
t = tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT)
def add(name, data=b'x', **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items(): setattr(ti, k, v)
    if ti.type == tarfile.REGTYPE:
        ti.size = len(data); t.addfile(ti, io.BytesIO(data))
    else:
        t.addfile(ti)
add('ok.txt', b'fine')
add('../dotdot', b'evil')
add('/abs/file', b'absolute')
add('sub/../../dotdot2', b'evil')
add('esc', type=tarfile.SYMTYPE, linkname='/')
add('esc/outside1', b'through an absolute link')
add('up', type=tarfile.SYMTYPE, linkname='../..')
add('up/outside2', b'through a relative link')
add('dirlink', type=tarfile.SYMTYPE, linkname='..')
add('dirlink/outside3/x', b'through a link to a directory')
add('hard1', type=tarfile.LNKTYPE, linkname='../canary')
add('hard2', type=tarfile.LNKTYPE, linkname='/canary')
add('hard3', type=tarfile.LNKTYPE, linkname='ok.txt')
add('big', type=tarfile.REGTYPE, data=b'')
t.close()
EOF
fresh
gfsh --rw -a "$IMG" -m /dev/sda write /canary precious
rc=0; gtar-in -a "$IMG" -m /dev/sda "$T/evil.tar" /target 2>"$T/err" || rc=$?
is "$rc" 1 "hostile archive: exit 1 (members refused)"
ok "... saying why (..)" grep -q "contains '..'" "$T/err"
ok "... and (a symbolic link in the path)" grep -q "symbolic link" "$T/err"
ok "hostile archive: e2fsck -fn is clean" e2fsck -fn "$IMG"
mount -o loop,ro "$IMG" "$T/m"
is "$(cd "$T/m" && find . -path ./lost+found -prune -o -print | LC_ALL=C sort | tr '\n' ' ')" \
   ". ./canary ./target ./target/abs ./target/abs/file ./target/big ./target/dirlink ./target/esc ./target/hard3 ./target/ok.txt ./target/up " \
   "hostile archive: nothing outside the target (leading / dropped, links left as links)"
is "$(cat "$T/m/canary")" "precious" "hostile archive: the file outside is untouched"
is "$(stat -c %h "$T/m/target/ok.txt")" 2 "hostile archive: a hard link inside the target is made"
umount "$T/m"

# a member claiming more than the filesystem holds is refused before writing
python3 - "$T/huge.tar" <<'EOF'
import sys, tarfile
ti = tarfile.TarInfo('huge'); ti.size = 1 << 40
with open(sys.argv[1], 'wb') as f:
    f.write(ti.tobuf(tarfile.GNU_FORMAT)); f.write(b'\0' * 4096)
EOF
fresh
rc=0; gtar-in -a "$IMG" -m /dev/sda "$T/huge.tar" /target 2>"$T/err" || rc=$?
is "$rc" 1 "a 1 TiB member: refused"
ok "... No space left on device" grep -q "No space left on device" "$T/err"
ok "... e2fsck -fn is clean" e2fsck -fn "$IMG"
is "$(debugfs -R 'ls /target' "$IMG" 2>/dev/null | grep -c huge)" 0 "... nothing of it is left"

done_testing
