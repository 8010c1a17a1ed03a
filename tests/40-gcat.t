#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gcat against the generated source tree (test-images/ext-trees.sh) and
# debugfs: every file of every ext variant, binary safe, symlinks resolved
# inside the guest, -i on a partitioned qcow2 chain with /boot separate.
. "$(dirname "$0")/lib.sh"
D=$(fixture ext-trees) || skip_all "fixture ext-trees failed"
cd "$D/src" || exit 1

# every regular file of the tree, in every variant, byte for byte
for v in ext2 ext3 ext4 ext4-1k ext4-nocsum inline bigalloc; do
    bad=0 n=0
    while IFS= read -r -d '' f; do
        n=$((n + 1))
        gcat -a "$D/$v.img" -m /dev/sda "/${f#./}" > "$T/got" 2>"$T/err" || { bad=1; diag "$v: $f: $(cat "$T/err")"; }
        if ! cmp -s "$T/got" "$f"; then
            # mke2fs -d does not always store what the source holds (an
            # inline_data sparse file loses its tail): debugfs decides then
            debugfs -R "dump \"/${f#./}\" $T/dbg" "$D/$v.img" >/dev/null 2>&1
            if cmp -s "$T/got" "$T/dbg"; then
                diag "$v: $f: differs from the source but equals debugfs dump"
            else
                bad=1; diag "$v: $f differs"
            fi
        fi
    done < <(find . -type f -print0)
    is "$bad" 0 "$v: all $n regular files equal the source"
done

# several files are concatenated, in order
gcat -a "$D/ext4.img" -m /dev/sda /hello.txt /binary.bin /tiny /empty /zeros-and-nul.bin > "$T/got"
cat hello.txt binary.bin tiny empty zeros-and-nul.bin > "$T/want"
same_file "$T/got" "$T/want" "several files concatenated"

# the same through qcow2
gcat -a "$D/ext4.qcow2" -m /dev/sda /binary.bin > "$T/got"
same_file "$T/got" binary.bin "binary file through qcow2"

# odd names
gcat -a "$D/ext4.img" -m /dev/sda "/names/with space" "/names/new
line" "/names/ünïcödé-日本語" /names/-dash "/names/quote\"comma," > "$T/got"
cat "names/with space" "names/new
line" "names/ünïcödé-日本語" names/-dash "names/quote\"comma," > "$T/want"
same_file "$T/got" "$T/want" "names with spaces, newline, UTF-8, leading dash, quotes"

# symlinks resolve in the guest
gcat -a "$D/ext4.img" -m /dev/sda /links/abs /links/rel /links/chain1 > "$T/got"
cat hello.txt hello.txt hello.txt > "$T/want"
same_file "$T/got" "$T/want" "absolute, relative and chained symlinks"
gcat -a "$D/ext4.img" -m /dev/sda /links/etcdir/passwd /links/dotdot-escape > "$T/got"
cat etc/passwd etc/passwd > "$T/want"
same_file "$T/got" "$T/want" "/etc symlink and ../../.. stay in the guest"
gcat -a "$D/ext4.img" -m /dev/sda /links/deepdir/d00/../d00/d01/../../../hello.txt > "$T/got"
same_file "$T/got" hello.txt ".. through a symlinked directory"

# errors
fails_cleanly "missing file" gcat -a "$D/ext4.img" -m /dev/sda /nonexistent
is "$(cat "$T/fc.err")" "gcat: /nonexistent: No such file or directory" "ENOENT message"
fails_cleanly "symlink loop" gcat -a "$D/ext4.img" -m /dev/sda /links/loop1
grep -q "Too many levels of symbolic links" "$T/fc.err"; is $? 0 "ELOOP message"
fails_cleanly "self link" gcat -a "$D/ext4.img" -m /dev/sda /links/self
fails_cleanly "dangling symlink" gcat -a "$D/ext4.img" -m /dev/sda /links/dangling
fails_cleanly "directory" gcat -a "$D/ext4.img" -m /dev/sda /etc
grep -q "Is a directory" "$T/fc.err"; is $? 0 "EISDIR message"
fails_cleanly "file as directory" gcat -a "$D/ext4.img" -m /dev/sda /hello.txt/x
grep -q "Not a directory" "$T/fc.err"; is $? 0 "ENOTDIR message"
fails_cleanly "FIFO" gcat -a "$D/ext4.img" -m /dev/sda /dev/fifo
long=$(printf 'a%.0s' $(seq 300))
fails_cleanly "component too long" gcat -a "$D/ext4.img" -m /dev/sda "/$long"
grep -q "File name too long" "$T/fc.err"; is $? 0 "ENAMETOOLONG message"
fails_cleanly "missing image" gcat -a "$T/none.img" /x
fails_cleanly "no OS on a bare filesystem without -m" gcat -a "$D/ext4.img" /hello.txt
grep -q "no operating system" "$T/fc.err"; is $? 0 "no-OS message"
# one bad file among good ones: the good ones are still printed
rc=0; gcat -a "$D/ext4.img" -m /dev/sda /hello.txt /nonexistent /tiny > "$T/got" 2>/dev/null || rc=$?
cat hello.txt tiny > "$T/want"
is "$rc" 1 "a missing file among others: exit 1"
same_file "$T/got" "$T/want" "... and the others are printed"

# the 1 GiB mostly-hole file
gcat -a "$D/ext4-big.img" -m /dev/sda /sparse/big-1g.bin | sha256sum > "$T/got"
(cd "$D/src-big" && sha256sum < sparse/big-1g.bin) > "$T/want"
same_file "$T/got" "$T/want" "1 GiB sparse file"

# -i: the partitioned guest in a qcow2 chain, /boot on its own partition
want=$(debugfs -R "cat /etc/hostname" "$D/disk2.img?offset=$((32768 * 512))" 2>/dev/null)
is "$(gcat -a "$D/disk.qcow2" /etc/hostname)" "$want" "-i: /etc/hostname from the top of the qcow2 chain"
is "$(gcat "$D/disk.qcow2" /etc/hostname)" "$want" "old positional form: gcat IMAGE FILE"
debugfs -R "cat /grub/grub.cfg" "$D/disk.img?offset=$((2048 * 512))" > "$T/want" 2>/dev/null
gcat -a "$D/disk.qcow2" -i /boot/grub/grub.cfg > "$T/got"
same_file "$T/got" "$T/want" "-i mounts /boot from fstab: /boot/grub/grub.cfg"
gcat -a "$D/disk.qcow2" -m /dev/sda2 /boot/placeholder > "$T/got"
debugfs -R "cat /boot/placeholder" "$D/disk.img?offset=$((32768 * 512))" > "$T/want" 2>/dev/null
same_file "$T/got" "$T/want" "-m /dev/sda2 alone: /boot is the root's own directory"
gcat -a "$D/disk.qcow2" -m /dev/sda2 -m /dev/sda1:/boot /boot/grub/grub.cfg > "$T/got"
debugfs -R "cat /grub/grub.cfg" "$D/disk.img?offset=$((2048 * 512))" > "$T/want" 2>/dev/null
same_file "$T/got" "$T/want" "-m DEV:/boot"
# ".." crosses back over a mountpoint to the directory the mount covers
is "$(gcat -a "$D/disk.qcow2" /boot/../etc/hostname)" "$want" "/boot/../etc/hostname crosses back over the mountpoint"
is "$(gcat -a "$D/disk.qcow2" /boot/grub/../../../../etc/hostname)" "$want" ".. stops at / across a mount"
gcat -a "$D/disk.qcow2" /boot/../boot/./grub//grub.cfg > "$T/got"
debugfs -R "cat /grub/grub.cfg" "$D/disk.img?offset=$((2048 * 512))" > "$T/want" 2>/dev/null
same_file "$T/got" "$T/want" "/boot/../boot/./grub//grub.cfg"
fails_cleanly "-m on a missing mountpoint" gcat -a "$D/disk.qcow2" -m /dev/sda2 -m /dev/sda1:/nope /etc/hostname

# libcrypto is loaded only by a run that may decrypt or hash (lib/ossl.h):
# not by a gcat of a plain image; with a key given, before the sandbox
# (tests/80-luks.t and 81-luks-guest.t read through it).  setsid: no
# terminal, so no key prompt is possible.  The files it opens, seen by
# strace: gcat is a static program (lib/twin.c), LD_DEBUG does not apply.
setsid -w strace -f -qq -e trace=openat -o "$T/ld" gcat -a "$D/disk.qcow2" /etc/hostname >/dev/null
is "$(grep -c 'libcrypto\.so' "$T/ld")" 0 "a plain image: libcrypto not loaded"
setsid -w strace -f -qq -e trace=openat -o "$T/ld" gcat --key /dev/sda2:key:x -a "$D/disk.qcow2" \
    /etc/hostname >/dev/null
ok "a key given: libcrypto loaded" grep -q 'libcrypto\.so' "$T/ld"

# A static gcat (Makefile STATIC_TOOLS; not the sanitizer build) runs its
# dynamic twin for a remote image (lib/twin.c): -v says so, and the twin
# then fails to connect (port 1: nothing listens); without its twin the
# open fails with a message, not a crash.
if ! readelf -lW "$GK_BIN/gcat" | grep -q INTERP; then
    gcat -v -a nbd://127.0.0.1:1/x /etc/hostname > /dev/null 2> "$T/twin.err"
    ok "static gcat: runs its twin for nbd://" grep -q 'needs libnbd.*: running .*libexec/guestkit/gcat' "$T/twin.err"
    ok "... and the twin tried to connect" grep -q 'connect' "$T/twin.err"
    mkdir -p "$T/lone"
    cp "$GK_BIN/gcat" "$T/lone/gcat"
    fails_cleanly "static gcat without its twin: nbd:// refused" "$T/lone/gcat" -a nbd://127.0.0.1:1/x /etc/hostname
    ok "... naming the twin" grep -q 'dynamic twin' "$T/fc.err"
fi

done_testing
