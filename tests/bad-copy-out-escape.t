#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A hostile guest must not make gcopy-out write outside LOCALDIR: symlinks
# aiming at /etc, ../../.., the host path of a canary directory; directory
# entries patched to be "..", "." and "../../pwn"; a LOCALDIR that already
# holds a symlink where the guest has a directory.  Canary directories
# around LOCALDIR must be untouched.
. "$(dirname "$0")/lib.sh"
export LC_ALL=C
chmod 755 "$T"
# logs stay in $T; everything the copy could touch lives under $W
W=$T/w
mkdir "$W" && chmod 755 "$W"
CAN=$W/canary
mkdir -p "$CAN/inner" && echo "canary" > "$CAN/file" && echo "inner" > "$CAN/inner/file"
snapshot() { (cd "$W" && find . -mindepth 1 -path ./out -prune -o -path ./src -prune -o -path ./img -prune \
    -o -printf '%y %m %s %T@ %p\n' | sort; cat "$CAN/file" "$CAN/inner/file") }

# the hostile tree
S=$W/src
mkdir -p "$S/data" "$S/sub/deeper" "$S/etc"
echo pwned > "$S/data/pwn"
echo pwned > "$S/etc/passwd"
echo pwned > "$S/DOTDOTXXXX"
echo pwned > "$S/DOTXXXXXXX"
echo pwned > "$S/SLASHXXXXX"
mkdir "$S/DIRDOTDOTX"; echo pwned > "$S/DIRDOTDOTX/pwn"
ln -s /etc "$S/evil"
ln -s ../../../../../../../.. "$S/up"
ln -s ../canary "$S/sibling"
ln -s "$CAN" "$S/abs"
ln -s ../../canary/file "$S/sub/deeper/rel"
ln "$S/data/pwn" "$S/sub/hardlink"
mke2fs -q -F -t ext4 -O ^metadata_csum -b 1024 -d "$S" "$W/img" 4M >/dev/null 2>&1 || skip_all "mke2fs -d failed"

# patch names in place: name_len sits 2 bytes before the name
python3 - "$W/img" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
def patch(old, new):
    i = b.find(old)
    assert i > 0 and b.find(old, i + 1) < 0, old
    b[i - 2] = len(new)
    b[i:i + len(new)] = new
patch(b'DOTDOTXXXX', b'..')
patch(b'DOTXXXXXXX', b'.')
patch(b'SLASHXXXXX', b'../../pwn')
patch(b'DIRDOTDOTX', b'..')
open(p, 'wb').write(b)
EOF
ok "debugfs still reads the patched image" debugfs -R "ls -l /" "$W/img"
# a directory cycle: /sub/deeper/cycle is a second name of /sub
debugfs -w -R "ln /sub /sub/deeper/cycle" "$W/img" >/dev/null 2>&1
is "$(debugfs -R "stat /sub/deeper/cycle" "$W/img" 2>/dev/null | sed -nE 's/^Inode: ([0-9]+).*/\1/p')" \
   "$(debugfs -R "stat /sub" "$W/img" 2>/dev/null | sed -nE 's/^Inode: ([0-9]+).*/\1/p')" "(the image has a directory cycle)"
rc=0; timeout 20 gls -a "$W/img" -m /dev/sda -lR / > "$T/ls.out" 2>"$T/err" || rc=$?
is "$rc" 1 "gls -lR ends on a directory cycle with exit 1"
ok "... and says so" grep -q "directory loop" "$T/err"

before=$(snapshot)
[ -e "$W/../pwn" ] && pwn_existed=1 || pwn_existed=0

check() { # DESC
    local rc=$1 desc=$2
    ok "$desc: exit 0 or 1" test "$rc" -le 1
    ok "$desc: no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error' '$T/err'"
    is "$(snapshot)" "$before" "$desc: nothing outside LOCALDIR changed"
    is "$(find "$W" -name pwn ! -path "$W/out/*" ! -path "$W/src/*" | wc -l)" 0 "$desc: no pwn file outside LOCALDIR"
    if [ $pwn_existed = 0 ]; then ok "$desc: nothing in LOCALDIR's grandparent" test ! -e "$W/../pwn"; fi
}

mkdir "$W/out"
rc=0; gcopy-out -a "$W/img" -m /dev/sda / "$W/out" 2>"$T/err" || rc=$?
check $rc "copy of /"
ok "the directory cycle is reported" grep -q "directory loop" "$T/err"
is "$(readlink "$W/out/abs")" "$CAN" "guest symlink to the canary is a symlink, not followed"
is "$(readlink "$W/out/up")" "../../../../../../../.." "../ symlink kept as a symlink"
is "$(cat "$W/out/data/pwn")" pwned "ordinary files still copied"
ok "patched names are refused or ignored" test ! -e "$W/out/../pwn"

# again, over a LOCALDIR full of the guest's symlinks
rc=0; gcopy-out -a "$W/img" -m /dev/sda / "$W/out" 2>"$T/err" || rc=$?
check $rc "second copy over the first"

# LOCALDIR already holds symlinks where the guest has directories and files
rm -rf "$W/out" && mkdir "$W/out"
ln -s "$CAN" "$W/out/data"
ln -s "$CAN/inner" "$W/out/etc"
ln -s "$CAN/file" "$W/out/DIRDOTDOTX"
rc=0; gcopy-out -a "$W/img" -m /dev/sda / "$W/out" 2>"$T/err" || rc=$?
check $rc "host symlinks in the way"
is "$rc" 1 "... reported as errors"
ok "... the message says why" grep -q "symlink is in the way" "$T/err"

# guest paths that resolve through symlinks stay in the guest
rm -rf "$W/out" && mkdir "$W/out"
rc=0; gcopy-out -a "$W/img" -m /dev/sda /abs /abs/file /sibling/file /up/etc /evil/passwd "$W/out" 2>"$T/err" || rc=$?
check $rc "guest paths through hostile symlinks"
is "$(cat "$W/out/passwd" 2>/dev/null)" pwned "/evil/passwd is the guest's /etc/passwd"
ok "/up/etc is the guest's /etc" test -f "$W/out/etc/passwd"

# single files into a LOCALDIR with a symlink of the same name
rm -rf "$W/out" && mkdir "$W/out"
ln -s "$CAN/file" "$W/out/passwd"
rc=0; gcopy-out -a "$W/img" -m /dev/sda /etc/passwd "$W/out" 2>"$T/err" || rc=$?
check $rc "file over a host symlink"
ok "the symlink was replaced, not followed" test ! -L "$W/out/passwd"

done_testing
