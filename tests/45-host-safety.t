#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Host safety of everything that writes guest data onto the host: set-id
# bits only with their owner, security.*/trusted.* only when asked and
# owners are kept, POSIX ACLs with --xattrs (as cp -a), xattr name lists of
# any size, no symlink followed in a destination (gfsh download, tar-out,
# find0, checksums-out, copy-out), the host path named in permission
# errors.  Oracles: the source tree (stat, getfacl, getfattr) and debugfs.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root (owners, security.* and trusted.* xattrs)"
command -v setfacl >/dev/null && command -v getfattr >/dev/null || skip_all "needs acl and attr"
export LC_ALL=C
chmod 755 "$T"

S=$T/src
mkdir -p "$S/d" "$S/acldir"
echo suid > "$S/suid"; chown 1000:1000 "$S/suid"; chmod 4755 "$S/suid"
echo sgid > "$S/d/sgid"; chown 1000:1001 "$S/d/sgid"; chmod 2750 "$S/d/sgid"
echo acl > "$S/acl"; setfacl -m u:1234:rwx,g:77:r "$S/acl"
setfacl -d -m u:1234:rx "$S/acldir"
echo xa > "$S/xa"
echo cap > "$S/cap"; chown 1000:1000 "$S/cap"
HAVE_CAP=0
command -v setcap >/dev/null && setcap cap_net_raw+ep "$S/cap" 2>/dev/null && HAVE_CAP=1
setfattr -n user.colour -v blue "$S/xa"
setfattr -n security.label -v secret "$S/xa"
setfattr -n trusted.note -v trusted "$S/xa"
IMG=$T/img
mke2fs -q -F -t ext4 -d "$S" "$IMG" 32M >/dev/null || skip_all "mke2fs -d failed"
is "$(debugfs -R 'ea_list /xa' "$IMG" 2>/dev/null | grep -c 'security.label\|trusted.note\|user.colour')" 3 \
   "(the image holds the security, trusted and user xattrs)"

acl_of() { getfacl -cn "$1" 2>/dev/null; }
xattrs_of() { getfattr -d -m - --absolute-names "$1" 2>/dev/null | grep = | grep -v 'system.posix_acl'; }

# as root, without --xattrs: owners and set-id bits kept, user.* only
out=$T/r0; mkdir "$out"
ok "gcopy-out as root" gcopy-out -a "$IMG" -m /dev/sda / "$out"
is "$(stat -c '%a %u %g' "$out/suid")" "4755 1000 1000" "root: a set-uid file keeps its owner and its bit"
is "$(stat -c '%a %u %g' "$out/d/sgid")" "2750 1000 1001" "root: a set-gid file too"
is "$(xattrs_of "$out/xa")" "user.colour=\"blue\"" "root, no --xattrs: only user.* copied"
is "$(acl_of "$out/acl" | grep -c 1234)" 0 "root, no --xattrs: no ACL"

# as root with --xattrs: everything, as cp -a
out=$T/r1; mkdir "$out"
ok "gcopy-out --xattrs as root" gcopy-out --xattrs -a "$IMG" -m /dev/sda / "$out"
is "$(xattrs_of "$out/xa")" "$(xattrs_of "$S/xa")" "--xattrs as root: security.*, trusted.*, user.* as the source"
is "$(acl_of "$out/acl")" "$(acl_of "$S/acl")" "--xattrs: the access ACL = getfacl of the source"
is "$(getfacl -cnd "$out/acldir" 2>/dev/null)" "$(getfacl -cnd "$S/acldir" 2>/dev/null)" "--xattrs: the default ACL too"
if [ $HAVE_CAP = 1 ]; then
    is "$(getcap "$out/cap" | sed 's|.* ||')" "$(getcap "$S/cap" | sed 's|.* ||')" \
       "--xattrs as root: a file capability survives the chown to its owner"
    is "$(stat -c %u "$out/cap")" 1000 "... which is kept"
    is "$(getcap "$T/r0/cap")" "" "without --xattrs: no file capability"
fi

# gfsh copy-out (guestfish pipes tar-out into tar -x: owners kept as root)
out=$T/g0; mkdir "$out"
ok "gfsh copy-out as root" gfsh -a "$IMG" -m /dev/sda copy-out /suid /d "$out"
is "$(stat -c '%a %u %g' "$out/suid")" "4755 1000 1000" "gfsh copy-out as root: set-uid with its owner"
is "$(stat -c '%a %u %g' "$out/d/sgid")" "2750 1000 1001" "gfsh copy-out as root: set-gid with its owner"

# unprivileged: no set-id bit for a file the user now owns, no security.*
if command -v setpriv >/dev/null; then
    asuser() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
    out=$T/u0; mkdir "$out"; chown 65534:65534 "$out"
    rc=0; asuser "$GK_BIN/gcopy-out" --xattrs -a "$IMG" -m /dev/sda / "$out" 2>"$T/err" || rc=$?
    is "$(stat -c '%a %u' "$out/suid")" "755 65534" "unprivileged gcopy-out: the set-uid bit is dropped"
    is "$(stat -c '%a %u' "$out/d/sgid")" "750 65534" "... the set-gid bit too"
    is "$(xattrs_of "$out/xa")" "user.colour=\"blue\"" "... no security.* or trusted.* even with --xattrs"
    [ $HAVE_CAP = 1 ] && is "$(getcap "$out/cap")" "" "... no file capability"
    is "$(acl_of "$out/acl")" "$(acl_of "$S/acl" | sed 's/^# owner: 0/# owner: 65534/; s/^# group: 0/# group: 65534/')" \
       "... ACLs copied onto the user's own file"
    out=$T/u1; mkdir "$out"; chown 65534:65534 "$out"
    asuser "$GK_BIN/gfsh" -a "$IMG" -m /dev/sda copy-out /suid "$out" 2>/dev/null
    is "$(stat -c '%a %u' "$out/suid")" "755 65534" "unprivileged gfsh copy-out: the set-uid bit is dropped"
    # a permission error names the host path
    mkdir "$T/ro"; chmod 555 "$T/ro"
    rc=0; asuser "$GK_BIN/gcopy-out" -a "$IMG" -m /dev/sda /acl "$T/ro" 2>"$T/err" || rc=$?
    is "$rc" 1 "permission denied on the host: exit 1"
    is "$(cat "$T/err")" "gcopy-out: $T/ro/acl: Permission denied" "... naming the host path"
fi

# nothing follows a symlink planted where the output goes
echo precious > "$T/victim"
for c in "download /acl" "tar-out /d" "find0 /d" "checksums-out md5 /d"; do
    ln -sf "$T/victim" "$T/link"
    rc=0; gfsh -a "$IMG" -m /dev/sda $c "$T/link" 2>"$T/err" || rc=$?
    is "$rc" 1 "gfsh ${c%% *} to a symlink: refused"
    ok "... saying so" grep -q "is a symbolic link" "$T/err"
    is "$(cat "$T/victim")" precious "... the file it points to is untouched"
done
gfsh -a "$IMG" -m /dev/sda download /acl /dev/null
is "$?" 0 "download to /dev/null still works"
ok "/dev/null is still a device" test -c /dev/null
out=$T/g1; mkdir -p "$out"
ln -s "$T/victim" "$out/suid"
mkdir "$T/elsewhere"; ln -s "$T/elsewhere" "$out/d"
rc=0; gfsh -a "$IMG" -m /dev/sda copy-out /suid /d "$out" 2>"$T/err" || rc=$?
is "$(cat "$T/victim")" precious "gfsh copy-out over a host symlink: the link is replaced, not followed"
is "$(ls -A "$T/elsewhere")" "" "gfsh copy-out into a symlinked directory: nothing written through it"
is "$rc" 1 "... which is an error"
ok "... saying why" grep -q "symlink is in the way" "$T/err"

# an xattr name list over 8 KiB (64 KiB blocks; debugfs is the oracle)
mkdir "$T/s2"; echo x > "$T/s2/f"
BIG=$T/big.img
if mke2fs -q -F -t ext4 -b 65536 -O ea_inode -d "$T/s2" "$BIG" 64M >/dev/null 2>&1; then
    for i in $(seq 1 80); do echo "ea_set /f user.$(printf 'n%0110d' "$i") v$i"; done > "$T/cmds"
    head -c 65536 /dev/urandom > "$T/v64"
    echo "ea_set -f $T/v64 /f user.big" >> "$T/cmds"
    debugfs -w -f "$T/cmds" "$BIG" >/dev/null 2>&1
    want=$(debugfs -R "ea_list /f" "$BIG" 2>/dev/null | grep -o 'user\.n[0-9]*' | sort)
    is "$(echo "$want" | wc -l)" 80 "(80 xattrs, names of 9 KiB in all)"
    # the copy goes to a tmpfs: an ext4 with 4 KiB blocks cannot hold that many
    out=$T/x; mkdir "$out"
    mount -t tmpfs -o size=16M tmpfs "$out" || diag "no tmpfs: the copy may run out of xattr space"
    ok "gcopy-out of a file with 9 KiB of xattr names" gcopy-out -a "$BIG" -m /dev/sda /f "$out"
    is "$(getfattr -d "$out/f" 2>/dev/null | grep -o 'user\.n[0-9]*' | sort)" "$want" "... every name copied"
    getfattr --only-values -n user.big "$out/f" > "$T/got" 2>/dev/null
    same_file "$T/got" "$T/v64" "... and the 64 KiB value"
    debugfs -R "ea_get -f $T/dbg /f user.big" "$BIG" >/dev/null 2>&1
    gfsh -a "$BIG" -m /dev/sda getxattr /f user.big > "$T/gfsh.val"
    same_file "$T/gfsh.val" "$T/dbg" "gfsh getxattr of a 64 KiB value = debugfs ea_get"
    is "$(gfsh -a "$BIG" -m /dev/sda lgetxattrs /f | grep -c attrname)" 81 "gfsh lgetxattrs lists all 81"
    umount "$out" 2>/dev/null
fi

# An image another process has open for writing (qemu-io holds qemu's
# locks while its input stays open): qemu-img refuses it without -U; gimg
# reads it with a warning, said once however many threads read (it was
# said once per reader thread)
if command -v qemu-io >/dev/null; then
    qemu-img create -q -f qcow2 "$T/busy.qcow2" 16M
    qemu-io -c 'write -P 7 0 4M' "$T/busy.qcow2" >/dev/null
    mkfifo "$T/busyin"
    qemu-io "$T/busy.qcow2" <"$T/busyin" >/dev/null 2>&1 &
    exec 7>"$T/busyin"
    if wait_lock "$T/busy.qcow2" 201; then
        ok "(qemu-img convert refuses the image in use)" sh -c "! qemu-img convert -O raw '$T/busy.qcow2' '$T/q.raw' 2>/dev/null"
        rc=0; gimg convert -m 8 -O raw "$T/busy.qcow2" "$T/g.raw" 2>"$T/err" || rc=$?
        is "$rc $(grep -c 'image is in use by a process that writes to it' "$T/err")" "0 1" \
           "gimg convert -m 8 of an image in use: read, the warning said once"
        qemu-img convert -U -O raw "$T/busy.qcow2" "$T/q.raw"
        same_file "$T/g.raw" "$T/q.raw" "... the bytes qemu-img convert -U reads"
    else
        diag "qemu-io took no lock: skipped"
    fi
    exec 7>&-
    wait
fi

done_testing
