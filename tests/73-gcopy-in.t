#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gcopy-in (virt-copy-in): what it keeps, where it writes on a guest with
# several filesystems (-i), its refusals with guestfish's messages, and that
# a refused or failed command leaves the image byte-identical.  Oracles:
# the kernel (loop mounts), debugfs, e2fsck -fn, sha256, and qemu's own
# image lock (qemu-io holding the image).  guestfish's messages were
# recorded from guestfish 1.48.6 copy-in on 2026-12-05:
#   source ‘/tmp/lg/nope’ does not exist (or cannot be read)
#   target ‘/d/f1’ is not a directory
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root for loop mounts"
[ -x "$GK_BIN/gcopy-in" ] || skip_all "needs gcopy-in"
mkdir -p "$T/m" "$T/s/dir/sub"

IMG=$T/disk.img
fresh() { rm -f "$IMG"; truncate -s 64M "$IMG"; if [ $# = 0 ]; then set -- -t ext4; fi; mke2fs -q -F "$@" "$IMG"; }
fresh
printf 'one\n' >"$T/s/one"
printf 'deep\n' >"$T/s/dir/sub/deep"
ln "$T/s/one" "$T/s/dir/one-again"
ln -s ../one "$T/s/dir/rel"
chmod 0751 "$T/s/dir"
chown 123:456 "$T/s/dir/sub/deep"
setfattr -n user.colour -v red "$T/s/one"
touch -d '2019-09-09 09:09:09.123456789' "$T/s/one"

# ---- errors: nothing is written -------------------------------------------
before=$(sha256sum <"$IMG")
rc=0; gcopy-in -a "$IMG" -m /dev/sda "$T/nope" / 2>"$T/err" || rc=$?
is "$rc:$(cat "$T/err")" "1:gcopy-in: source ‘$T/nope’ does not exist (or cannot be read)" \
    "a missing source: guestfish's message"
gfsh --rw -a "$IMG" -m /dev/sda write /file x 2>/dev/null
before=$(sha256sum <"$IMG")
rc=0; gcopy-in -a "$IMG" -m /dev/sda "$T/s/one" /file 2>"$T/err" || rc=$?
is "$rc:$(cat "$T/err")" "1:gcopy-in: target ‘/file’ is not a directory" "a file as the target: guestfish's message"
is "$(sha256sum <"$IMG")" "$before" "... the image is byte-identical"
rc=0; gcopy-in -a "$IMG" -m /dev/sda "$T/s/one" /nowhere 2>"$T/err" || rc=$?
is "$rc:$(cat "$T/err")" "1:gcopy-in: target ‘/nowhere’ is not a directory" "a missing target"
is "$(sha256sum <"$IMG")" "$before" "... the image is byte-identical"

# ---- the copy -----------------------------------------------------------------
ok "gcopy-in of a file and a tree" gcopy-in -a "$IMG" -m /dev/sda "$T/s/one" "$T/s/dir" /
ok "e2fsck -fn is clean" e2fsck -fn "$IMG"
mount -o loop,ro "$IMG" "$T/m"
is "$(stat -c '%a %u %g %h' "$T/m/dir" "$T/m/dir/sub/deep" "$T/m/one" | tr '\n' ' ')" \
   "751 0 0 3 644 123 456 1 644 0 0 1 " "modes and numeric owners kept (the kernel's stat)"
is "$(stat -c %y "$T/m/one")" "2019-09-09 09:09:09.123456789 +0000" "mtime kept to the nanosecond"
is "$(readlink "$T/m/dir/rel")" "../one" "a symlink copied as a symlink"
is "$(getfattr -n user.colour --only-values "$T/m/one" 2>/dev/null)" "" "xattrs only with --xattrs"
umount "$T/m"
# hard links: within one LOCAL tree they are kept
is "$(debugfs -R 'stat /dir/one-again' "$IMG" 2>/dev/null | sed -n 's/.*Links: \([0-9]*\).*/\1/p')" "1" \
   "a hard link to a file outside the copied tree is a file of its own"
ln "$T/s/dir/sub/deep" "$T/s/dir/deep-link"
ok "again, replacing and merging" gcopy-in -a "$IMG" -m /dev/sda --xattrs "$T/s/one" "$T/s/dir" /
is "$(debugfs -R 'stat /dir/deep-link' "$IMG" 2>/dev/null | sed -n 's/.*Links: \([0-9]*\).*/\1/p')" "2" \
   "hard links inside the tree are kept (debugfs: 2 links)"
mount -o loop,ro "$IMG" "$T/m"
is "$(getfattr -n user.colour --only-values "$T/m/one" 2>/dev/null)" "red" "--xattrs copies user.*"
umount "$T/m"
ok "e2fsck -fn is clean after the second copy" e2fsck -fn "$IMG"

# ---- a large copy is many transactions ----------------------------------------
# 2000 files into an ext4 with the smallest journal (1 MiB): the copy
# commits several transactions (the journal's sequence number, dumpe2fs),
# none of which outgrew the journal (e2fsck -fn, the kernel's mount)
python3 - "$T/many" <<'EOF'
import os, random, sys
r = random.Random(73)
for d in range(20):
    os.makedirs(os.path.join(sys.argv[1], 'd%02d' % d))
    for f in range(100):
        with open(os.path.join(sys.argv[1], 'd%02d' % d, 'f%03d' % f), 'wb') as fp:
            fp.write(r.randbytes(r.choice([10, 1000, 3000])))
EOF
fresh -t ext4 -b 1024 -J size=1
jseq() { dumpe2fs -h "$IMG" 2>/dev/null | sed -n 's/^Journal sequence: *//p'; }
s0=$(jseq)
ok "2000 files into a 1 MiB journal" gcopy-in -a "$IMG" -m /dev/sda "$T/many" /
s1=$(jseq)
ok "... in several transactions (journal sequence $s0 -> $s1)" test $((s1 - s0)) -ge 2
ok "... e2fsck -fn is clean" e2fsck -fn "$IMG"
mount -o loop,ro "$IMG" "$T/m"
ok "... the kernel sees every file" diff -r "$T/many" "$T/m/many"
umount "$T/m"

# ---- ext2: said once ------------------------------------------------------------
fresh -t ext2
rc=0; gcopy-in -a "$IMG" -m /dev/sda "$T/s/one" "$T/s/dir" / 2>"$T/err" || rc=$?
is "$rc:$(grep -c 'has no journal' "$T/err"):$(wc -l <"$T/err")" "0:1:1" "ext2: one note that there is no journal"
ok "ext2: e2fsck -fn is clean" e2fsck -fn "$IMG"

# ---- a guest with several filesystems (-i): /boot is another one -----------
if dir=$(fixture gfsh 2>/dev/null); then
    cp --sparse=always "$dir/disk.img" "$T/g.img"
    ok "-i: gcopy-in into /boot (a filesystem of its own)" gcopy-in -a "$T/g.img" "$T/s/one" /boot
    start=$(sfdisk --json "$T/g.img" | jq -r '.partitiontable.partitions[0].start')
    dd if="$T/g.img" of="$T/boot.img" bs=512 skip="$start" \
       count="$(sfdisk --json "$T/g.img" | jq -r '.partitiontable.partitions[0].size')" status=none
    is "$(debugfs -R 'cat /one' "$T/boot.img" 2>/dev/null)" "one" "-i: the file is on the /boot partition (debugfs)"
    ok "-i: e2fsck -fn of the /boot partition" e2fsck -fn "$T/boot.img"
fi

# ---- images we may not write -------------------------------------------------------
fresh
before=$(sha256sum <"$IMG")
if command -v qemu-io >/dev/null; then
    # qemu-io holds the image open for writing (and qemu's OFD locks) while
    # its input stays open
    mkfifo "$T/qin"
    qemu-io -f raw "$IMG" <"$T/qin" >/dev/null 2>&1 &
    exec 7>"$T/qin"
    if wait_lock "$IMG" 101; then
        rc=0; gcopy-in -a "$IMG" -m /dev/sda "$T/s/one" / 2>"$T/err" || rc=$?
        is "$rc" 1 "an image qemu has open for writing: refused"
        ok "... saying it is in use" grep -q "in use" "$T/err"
    else
        diag "qemu-io took no lock: skipped"
    fi
    exec 7>&-
    wait
    is "$(sha256sum <"$IMG")" "$before" "... byte-identical"
fi
if command -v qemu-system-x86_64 >/dev/null; then
    # a VM (stopped at its first instruction) with the disk read-only:
    # qemu lets nobody else write (byte 201)
    qemu-system-x86_64 -S -display none -nodefaults -machine q35,accel=tcg -m 64 \
        -drive file="$IMG",format=raw,if=virtio,readonly=on >/dev/null 2>&1 &
    vm=$!
    if wait_lock "$IMG" 201; then
        rc=0; gcopy-in -a "$IMG" -m /dev/sda "$T/s/one" / 2>"$T/err" || rc=$?
        is "$rc:$(sha256sum <"$IMG")" "1:$before" "a VM with the disk read-only: refused, byte-identical"
        ok "... saying it is in use" grep -q "in use by a process that does not let others write" "$T/err"
        rc=0; gls -a "$IMG" -m /dev/sda / >/dev/null 2>&1 || rc=$?
        is "$rc" 0 "... reading it is fine"
    else
        diag "qemu-system took no lock: skipped"
    fi
    kill "$vm" 2>/dev/null; wait "$vm" 2>/dev/null
    # while gfsh --rw has the image, qemu refuses it (write or read-only)
    rm -f "$T/gin"; mkfifo "$T/gin"
    gfsh --rw -a "$IMG" -m /dev/sda <"$T/gin" >/dev/null 2>&1 &
    g=$!
    exec 8>"$T/gin"
    echo "write /held yes" >&8
    if wait_lock "$IMG" 201; then
        out=$(timeout 60 qemu-system-x86_64 -S -display none -nodefaults -machine q35,accel=tcg -m 64 \
            -drive file="$IMG",format=raw,if=virtio 2>&1 </dev/null)
        like() { case $1 in *"$2"*) return 0 ;; esac; return 1; }
        ok "gfsh --rw holds qemu's locks: a VM refuses the disk ($(echo "$out" | head -n 1))" \
            like "$out" 'Failed to get "write" lock'
        out=$(timeout 60 qemu-system-x86_64 -S -display none -nodefaults -machine q35,accel=tcg -m 64 \
            -drive file="$IMG",format=raw,if=virtio,readonly=on 2>&1 </dev/null)
        ok "... and with the disk read-only too" like "$out" 'Failed to get shared "write" lock'
    else
        _tap_result 1 "gfsh --rw took no qemu lock"
    fi
    exec 8>&-
    wait "$g"
    ok "after gfsh: e2fsck -fn is clean" e2fsck -fn "$IMG"
    is "$(debugfs -R 'cat /held' "$IMG" 2>/dev/null)" "yes" "... and debugfs reads what it wrote"
fi
qemu-img convert -f raw -O qcow2 "$IMG" "$T/disk.qcow2"
qbefore=$(sha256sum <"$T/disk.qcow2")
rc=0; gcopy-in -a "$T/disk.qcow2" -m /dev/sda "$T/s/one" / 2>"$T/err" || rc=$?
if [ $rc = 0 ]; then
    # qcow2 writing is there: the copy must be right
    ok "qcow2: qemu-img check is clean" qemu-img check -q "$T/disk.qcow2"
    qemu-img convert -f qcow2 -O raw "$T/disk.qcow2" "$T/q.raw"
    ok "qcow2: e2fsck -fn is clean" e2fsck -fn "$T/q.raw"
    is "$(debugfs -R 'cat /one' "$T/q.raw" 2>/dev/null)" "one" "qcow2: debugfs reads the copy"
else
    is "$rc:$(sha256sum <"$T/disk.qcow2")" "1:$qbefore" "qcow2 not writable yet: refused, the image byte-identical"
    diag "qcow2: $(cat "$T/err")"
fi

done_testing
