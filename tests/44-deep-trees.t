#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Deep trees made by the kernel (through relative paths, so deeper than
# PATH_MAX): gcopy-out and gfsh copy-out copy all of it, du counts all of
# it (= du -s on the kernel's mount), the walkers that print paths stop at
# 4096 bytes and say so, a chain of 255-byte names is answered within
# bounded memory, and the one depth limit (16384 levels) is reported by
# every walker that reaches it.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root for loop mounts"
export LC_ALL=C
M=$T/mnt
mkdir "$M"
# memory bound of a run (not under the sanitizers, which reserve terabytes)
vlimit() { [ "$GK_SAN" = 1 ] || ulimit -v "$1"; }

# build IMG SIZE MKFS-OPTS PYTHON: run PYTHON inside a kernel mount of a new ext4
build() {
    local img=$1 size=$2 opts=$3 code=$4
    truncate -s "$size" "$img"
    mke2fs -q -F -t ext4 $opts "$img" || return 1
    mount -o loop "$img" "$M" || return 1
    (cd "$M" && python3 -c "$code")
    local rc=$?
    umount "$M"
    return $rc
}

# 3000 levels, a file "z" in every level (written after the subtree, so the
# copy comes back to directories whose descriptors it had closed)
build "$T/deep.img" 64M "-N 8000" '
import os
for i in range(3000):
    os.mkdir("d")
    open("z", "w").write("%d\n" % i)
    os.chdir("d")
open("leaf", "w").write("bottom\n")
' || skip_all "cannot build a kernel-made image (loop mount)"
mount -o loop,ro "$T/deep.img" "$M"
kfind=$(cd "$M" && find . | wc -l)
kdu=$(du -s "$M" | cut -f1)
kz=$(cd "$M" && find . -name z -exec cat {} + | sort -n | md5sum)
umount "$M"
is "$kfind" 6003 "(the kernel's tree has 3000 levels)"

mkdir "$T/out"
rc=0; (vlimit 1048576; timeout 120 gcopy-out -a "$T/deep.img" -m /dev/sda / "$T/out") 2>"$T/err" || rc=$?
is "$rc" 0 "gcopy-out of a 3000-deep tree exits 0 (no crash)"
is "$(cd "$T/out" && find . -path ./lost+found -prune -o -print | wc -l)" "$((kfind - 1))" \
   "... and copies every file and directory"
is "$(cd "$T/out" && find . -name z -exec cat {} + | sort -n | md5sum)" "$kz" \
   "... the file of every level, written after its subtree"
is "$(cd "$T/out" && find . -name leaf -execdir cat leaf \;)" bottom "... down to the bottom"
rm -rf "$T/out"

mkdir "$T/gout"
rc=0; timeout 120 gfsh -a "$T/deep.img" -m /dev/sda copy-out /d "$T/gout" 2>"$T/err" || rc=$?
is "$rc" 0 "gfsh copy-out of the 3000-deep tree exits 0"
is "$(cd "$T/gout" && find . | wc -l)" "$((kfind - 2))" "... and copies all of it"
rm -rf "$T/gout"

is "$(gfsh -a "$T/deep.img" -m /dev/sda du / 2>&1)" "$kdu" "gfsh du / = du -s on the kernel mount"

# walkers that print paths: every path up to 4096 bytes, then a message
rc=0; (vlimit 1048576; timeout 60 gls -a "$T/deep.img" -m /dev/sda -R /) >"$T/ls" 2>"$T/err" || rc=$?
is "$rc" 1 "gls -R: exit 1 when paths exceed 4096 bytes"
ok "... says so" grep -q "File name too long" "$T/err"
is "$(awk '{ if (length($0) > 4096) n++ } END { print n + 0 }' "$T/ls")" 0 "... prints no longer path"
is "$(grep -c '/leaf$\|^leaf$' "$T/ls")" 0 "... (the bottom is out of reach)"
ok "... but every path up to the limit: d/z at depth 2000" grep -qx "$(printf 'd/%.0s' $(seq 2000))z" "$T/ls"
rc=0; timeout 60 gfsh -a "$T/deep.img" -m /dev/sda find / >"$T/find" 2>"$T/err" || rc=$?
is "$rc" 1 "gfsh find: exit 1 when paths exceed 4096 bytes, with a message"
same_file "$T/find" "$T/ls" "gfsh find prints what gls -R prints"

# a chain of 255-byte names: bounded, answered in seconds
build "$T/long.img" 48M "-b 1024 -N 4200" '
import os
n = "x" * 255
for i in range(2040):
    os.mkdir(n); os.chdir(n)
' || skip_all "cannot build the long-name image"
rc=0; (vlimit 524288; timeout 60 gls -a "$T/long.img" -m /dev/sda -R /) >"$T/ls" 2>"$T/err" || rc=$?
is "$rc" 1 "gls -R on 2040 levels of 255-byte names: an answer (exit 1), within 512 MiB"
is "$(grep -vc lost+found "$T/ls")" 16 "... the 16 paths that fit in 4096 bytes"
ok "... and a message for the rest" grep -q "File name too long" "$T/err"
rc=0; (vlimit 524288; timeout 60 gls -a "$T/long.img" -m /dev/sda -lR /) >"$T/ls" 2>"$T/err" || rc=$?
is "$rc" 1 "gls -lR: the same rule"

# the depth limit, the same for every walker
build "$T/deeper.img" 96M "-b 1024 -N 17000" '
import os
for i in range(16390):
    os.mkdir("d"); os.chdir("d")
' || skip_all "cannot build the 16390-level image"
# Without the sandbox: under Landlock every openat/mkdirat walks up from
# the new name to the output directory (the granted one), so a copy d
# levels deep costs kernel time in d^2 (77 s of system CPU at 16384
# levels, 0.6 s without).  The limit checked here is the walk's,
# the same with the sandbox; the sandboxed deep copy is the 3000-level one.
mkdir "$T/out"
rc=0; GUESTKIT_NO_SANDBOX=1 timeout 300 gcopy-out -a "$T/deeper.img" -m /dev/sda / "$T/out" 2>"$T/err" || rc=$?
is "$rc" 1 "gcopy-out below 16384 levels: exit 1"
ok "... with a message naming the limit" grep -q "more than 16384 levels" "$T/err"
is "$(cd "$T/out" && find . -name d | wc -l)" 16384 "... after copying the 16384 levels allowed"
rm -rf "$T/out"
rc=0; timeout 300 gfsh -a "$T/deeper.img" -m /dev/sda du / >/dev/null 2>"$T/err" || rc=$?
is "$rc" 1 "gfsh du: the same limit"
ok "... and the same message" grep -q "more than 16384 levels" "$T/err"

done_testing
