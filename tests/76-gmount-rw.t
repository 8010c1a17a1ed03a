#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gmount --rw: the same changes (create, write, append, overwrite in place,
# mkdir, rmdir, unlink, rename, hard and symbolic links, chmod, chown,
# utimens, truncate, xattrs, mknod, mkfifo, rm -r) are made through a
# kernel rw loop mount of one copy of an ext4 image and through gmount --rw
# on another; after unmounting both, the kernel's view of the two must
# agree (find -printf, sha256sum, getfattr), e2fsck -fn must be clean, and
# debugfs must see the changes.  Then gmount is killed with -9 in the
# middle of writes: after the kernel's journal replay e2fsck -fn is clean.
# Without --rw nothing is written; filesystems guestkit cannot write are
# refused with --rw.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-gmount.sh"

S=$T/src
mkdir -p "$S"/{etc,d/e/f,sub1/x}
echo hello >"$S/etc/hostname"
printf 'y%.0s' $(seq 3000) >"$S/etc/long"
ln "$S/etc/hostname" "$S/etc/hard1"
setfattr -n user.colour -v blue "$S/etc/hostname"
for i in $(seq 50); do echo "$i" >"$S/sub1/x/f$i"; done
python3 -c 'import random, sys; sys.stdout.buffer.write(random.Random(76).randbytes(24 << 20))' >"$T/data"
IMG=$T/base.img
mke2fs -q -F -t ext4 -b 4096 -d "$S" "$IMG" 128M >/dev/null 2>&1
cp "$IMG" "$T/a.img"
cp "$IMG" "$T/b.img"
K=$T/k M=$T/m
mkdir -p "$K" "$M"
mount -o loop "$T/a.img" "$K" || skip_all "cannot loop-mount ext4 read-write"

changes() {
    local d=$1
    mkdir -p "$d/new/sub" &&
    echo content >"$d/new/file" &&
    head -c 5000000 "$T/data" >"$d/new/big" &&
    cp "$T/data" "$d/new/data" &&
    ln "$d/new/file" "$d/new/hard" &&
    ln -s ../etc/hostname "$d/new/sym" &&
    ln -s "/$(printf 'b%.0s' $(seq 200))" "$d/new/longsym" &&
    mv "$d/etc/long" "$d/new/moved" &&
    chmod 640 "$d/new/file" &&
    chown 1234:5678 "$d/new/big" &&
    truncate -s 1000 "$d/new/big" &&
    truncate -s 20000000 "$d/new/sparse" &&
    setfattr -n user.k -v val "$d/new/file" &&
    setfattr -n trusted.t -v 0x0102 "$d/new/sub" &&
    setfattr -x user.colour "$d/etc/hostname" &&
    rm "$d/etc/hard1" &&
    rmdir "$d/d/e/f" &&
    mkfifo "$d/new/fifo" &&
    mknod "$d/new/chr" c 1 5 &&
    printf XYZ | dd of="$d/etc/hostname" bs=1 seek=2 conv=notrunc status=none &&
    echo more >>"$d/new/file" &&
    touch -d '2010-01-02 03:04:05.5' "$d/new/file" &&
    mv "$d/new/sub" "$d/d/renamed" &&
    rm -r "$d/sub1"
}

rc=0; changes "$K" || rc=$?
is "$rc" 0 "the changes, through the kernel's rw mount (the oracle)"
umount "$K"

rc=0; timeout 60 gmount --rw -a "$T/b.img" -m /dev/sda "$M" || rc=$?
is "$rc" 0 "gmount --rw"
rc=0; timeout 300 bash -c "$(declare -f changes); T='$T'; changes '$M'" || rc=$?
is "$rc" 0 "... the same changes through gmount"
is "$(stat -c '%h' "$M/new/file")" 2 "... a hard link counts at once"
rc=0; timeout 120 gumount "$M" || rc=$?
is "$rc" 0 "gumount: exit 0 (the daemon has committed and exited)"

ok "e2fsck -fn: clean" e2fsck -fn "$T/b.img"
mount -o loop,ro "$T/a.img" "$K"
mount -o loop,ro "$T/b.img" "$M"
fields() { NOINO=1 listing "$1" | awk -F'|' '{ t = ($1 == "./new/file") ? $8 : "-"; print $1 "|" $2 "|" $3 "|" $4 "|" $5 "|" $6 "|" $7 "|" t "|" $10 }'; }
is "$(fields "$M")" "$(fields "$K")" "the kernel sees the same tree (type mode size links owner target, set mtime)"
is "$(sums "$M")" "$(sums "$K")" "... the same contents"
is "$(xattrs "$M")" "$(xattrs "$K")" "... the same xattrs"
umount "$K" "$M"
is "$(debugfs -R 'cat /new/file' "$T/b.img" 2>/dev/null)" "content
more" "debugfs: the appended file"
is "$(debugfs -R 'stat /new/big' "$T/b.img" 2>/dev/null | grep -o 'User: *[0-9]*   Group: *[0-9]*' | tr -s ' ')" \
   "User: 1234 Group: 5678" "debugfs: the owner set by chown"
is "$(debugfs -R 'ls /d' "$T/b.img" 2>/dev/null | grep -c renamed)" 1 "debugfs: the renamed directory"

# ---- kill -9 in the middle of writes ----
for round in 1 2 3; do
    cp "$IMG" "$T/c.img"
    timeout 60 gmount --rw -a "$T/c.img" -m /dev/sda "$M"
    pid=$(gm_pid "$M")
    ( for i in 1 2 3 4 5 6; do cp "$T/data" "$M/w$i" 2>/dev/null || break; mkdir "$M/dir$i" 2>/dev/null; done ) &
    writer=$!
    # the writes are under way: a few (seeded) moments in
    sleep "0.$((round * 3))"
    kill -9 "$pid"
    wait "$writer" 2>/dev/null
    umount -l "$M" 2>/dev/null || fusermount3 -u -z "$M"
    # the kernel replays the journal, as a booting guest would
    rc=0; mount -o loop "$T/c.img" "$K" || rc=$?
    is "$rc" 0 "kill -9 round $round: the kernel mounts the image"
    umount "$K" 2>/dev/null
    ok "... and e2fsck -fn is clean after its replay" e2fsck -fn "$T/c.img"
done

# ---- no --rw: nothing is written ----
cp "$IMG" "$T/d.img"
before=$(sha256sum <"$T/d.img")
timeout 60 gmount -a "$T/d.img" -m /dev/sda "$M"
rc=0; (echo x >"$M/etc/new"; mkdir "$M/dd"; rm "$M/etc/hostname"; chmod 777 "$M/etc") 2>/dev/null || rc=$?
ok "without --rw every change fails" test "$rc" != 0
timeout 60 gumount "$M"
is "$(sha256sum <"$T/d.img")" "$before" "... and the image is byte-for-byte unchanged"

# ---- --rw of a filesystem guestkit only reads ----
mkfs.vfat -C "$T/fat.img" 4096 >/dev/null
fails_cleanly "--rw on FAT is refused" gmount --rw -a "$T/fat.img" -m /dev/sda "$M"
ok "... saying only ext2/3/4 can be written" grep -q "only ext2/3/4" "$T/fc.err"
ok "... nothing mounted" bash -c "! is_mounted '$M' 2>/dev/null; ! grep -q ' $M ' /proc/self/mountinfo"

done_testing
