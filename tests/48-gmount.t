#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gmount (read-only) against the kernel: an ext4 image with every kind of
# file (hard links, short and long symlinks, xattrs, an ACL, a sparse file,
# device nodes, a FIFO, nanosecond times, other owners) is loop-mounted by
# the kernel and mounted by gmount, and find -printf, sha256sum, getfattr
# and df must agree; cp -a of the mount equals gcopy-out; 8 parallel
# readers equal sequential reads; -i on the LVM qcow2 chain fixture equals
# the kernel's mounts of its LVs (offsets from lvm2's own reports);
# --devices against qemu-img convert + dd and a loop mount of an LV;
# options, signals, kill -9, gumount's exit codes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-gmount.sh"
G=$(fixture guests) || exit 1

# ---- the ext4 image (deterministic content) ----
S=$T/src
mkdir -p "$S"/{etc,d/e/f,deep,sub1,sub2,sub3,sub4}
echo hello >"$S/etc/hostname"
printf 'x%.0s' $(seq 5000) >"$S/etc/long"
ln "$S/etc/hostname" "$S/etc/hard1"
ln "$S/etc/hostname" "$S/d/hard2"
ln -s hostname "$S/etc/short-link"
ln -s "/$(printf 'a%.0s' $(seq 100))/target" "$S/d/long-link"
ln -s ../etc "$S/d/dirlink"
setfattr -n user.colour -v blue "$S/etc/hostname"
setfattr -n user.big -v "$(printf 'v%.0s' $(seq 1000))" "$S/etc/long"
setfattr -n trusted.t -v 0x00ff10 "$S/d/e"
setfacl -m u:1234:r "$S/etc/long" 2>/dev/null || true
truncate -s 50M "$S/sparse"
printf 'end' | dd of="$S/sparse" bs=1 seek=$((30 * 1048576)) conv=notrunc status=none
mknod "$S/d/chr" c 1 3
mknod "$S/d/blk" b 7 0
mkfifo "$S/d/fifo"
chown 1000:1001 "$S/d/e/f"
chmod 4755 "$S/d/e"
chmod 1777 "$S/deep"
touch -d '2001-02-03 04:05:06.123456789' "$S/etc/long"
python3 - "$S" <<'PY'
import random, sys, os
r = random.Random(14)
for i in range(1, 5):
    with open(f"{sys.argv[1]}/big{i}", "wb") as f:
        f.write(r.randbytes(6 << 20))
    for j in range(150):
        p = f"{sys.argv[1]}/sub{i}/f{j:03d}"
        with open(p, "wb") as f:
            f.write(r.randbytes(r.randrange(0, 20000)))
d = sys.argv[1] + "/deep"
for k in range(40):
    d += "/level%d" % k
os.makedirs(d)
PY
IMG=$T/ext4.img
mke2fs -q -F -t ext4 -b 4096 -I 256 -d "$S" "$IMG" 96M >/dev/null 2>&1
sha_before=$(sha256sum <"$IMG")

K=$T/k M=$T/m
mkdir -p "$K" "$M"
mount -o loop,ro "$IMG" "$K" || skip_all "cannot loop-mount ext4"

rc=0; timeout 60 gmount -a "$IMG" -m /dev/sda "$M" || rc=$?
is "$rc" 0 "gmount -a IMG -m /dev/sda MOUNTDIR: exit 0 once mounted (background)"
ok "... a FUSE mount (fuse.gmount) is on MOUNTDIR" is_mounted "$M"
pid=$(gm_pid "$M")
ok "... its daemon is running" kill -0 "$pid"

is "$(listing "$M")" "$(listing "$K")" "find -printf (type mode size links owner times inode target) = kernel"
is "$(sums "$M")" "$(sums "$K")" "sha256sum of every file = kernel"
is "$(xattrs "$M")" "$(xattrs "$K")" "getfattr -d -m - of everything = kernel"
is "$(dfig "$M")" "$(dfig "$K")" "df (sizes, inodes) = kernel"
is "$(stat -c '%i %h' "$M/etc/hard1" "$M/d/hard2" "$M/etc/hostname")" \
   "$(stat -c '%i %h' "$K/etc/hard1" "$K/d/hard2" "$K/etc/hostname")" "hard links: one inode, three links"
is "$(stat -c '%s %b' "$M/sparse")" "$(stat -c '%s %b' "$K/sparse")" "sparse file: size and blocks = kernel"
is "$(readlink "$M/d/long-link")" "$(readlink "$K/d/long-link")" "a long symlink's target"
is "$(cat "$M/d/dirlink/hostname" 2>&1)" hello "a relative symlink to a directory is followed"
is "$(stat -c '%t:%T' "$M/d/chr" "$M/d/blk")" "$(stat -c '%t:%T' "$K/d/chr" "$K/d/blk")" "device numbers"
is "$(cd "$M" && getfacl -n etc/long 2>&1)" "$(cd "$K" && getfacl -n etc/long 2>&1)" "getfacl (the ACL xattr) = kernel"

# writes are refused, and nothing reaches the image
rc=0; touch "$M/new" 2>"$T/err" || rc=$?
ok "touch on a read-only mount fails" test "$rc" != 0
ok "... with EROFS" grep -q "Read-only file system" "$T/err"
rc=0; (echo x >>"$M/etc/hostname") 2>/dev/null || rc=$?
ok "appending to a file fails" test "$rc" != 0

# cp -a of the mount = gcopy-out of the same guest
mkdir "$T/cpa" "$T/gco"
timeout 300 cp -a "$M/." "$T/cpa/"
timeout 300 gcopy-out -a "$IMG" -m /dev/sda / "$T/gco" 2>/dev/null
# (the top directory is gcopy-out's own: it keeps its time)
is "$(NOINO=1 listing "$T/cpa" | grep -v '^\.|' | cut -d'|' -f1-8,10)" \
   "$(NOINO=1 listing "$T/gco" | grep -v '^\.|' | cut -d'|' -f1-8,10)" \
   "cp -a MOUNTDIR = gcopy-out (modes, sizes, links, owners, mtimes, targets)"
is "$(sums "$T/cpa")" "$(sums "$T/gco")" "... and contents"
rm -rf "$T/cpa" "$T/gco"

# 8 parallel readers (tar of subtrees, sha256sum of big files) = sequential
# reads of the kernel's mount
seq_out=$(for i in 1 2 3 4; do
    tar --sort=name -cf - -C "$K" "sub$i" | sha256sum
    sha256sum <"$K/big$i"
done)
for i in 1 2 3 4; do
    (timeout 120 tar --sort=name -cf - -C "$M" "sub$i" | sha256sum >"$T/par-tar$i") &
    (timeout 120 sha256sum <"$M/big$i" >"$T/par-sum$i") &
done
wait
par_out=$(for i in 1 2 3 4; do cat "$T/par-tar$i" "$T/par-sum$i"; done)
is "$par_out" "$seq_out" "8 parallel readers = sequential reads of the kernel's mount"

# SIGTERM unmounts cleanly
kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
ok "SIGTERM: the daemon exits" bash -c "! kill -0 $pid 2>/dev/null"
ok "... and the mount is gone" bash -c "! awk -v d='$M' '\$5 == d { f = 1 } END { exit !f }' /proc/self/mountinfo"
is "$(sha256sum <"$IMG")" "$sha_before" "the image is unchanged"

# --no-fork --fd --pid-file; -o uid=/gid= squashing; -o allow_other
mkfifo "$T/ready"
gmount --no-fork --fd=3 --pid-file "$T/pid" -o uid=4321,gid=8765 -o allow_other \
    -a "$IMG" -m /dev/sda "$M" 3>"$T/ready" &
fg=$!
byte=$(timeout 30 head -c 1 "$T/ready" | xxd -p)
is "$byte" 00 "--fd: one byte once the mount is ready"
is "$(cat "$T/pid")" "$fg" "--pid-file: the pid of the daemon (--no-fork: this process)"
is "$(gm_pid "$M")" "$fg" "... the mount names it"
is "$(stat -c '%u:%g' "$M/d/e/f" "$M/etc")" "4321:8765
4321:8765" "-o uid=,gid=: every file shown as that owner"
ok "-o allow_other is in the mount's options" grep -q "$M .*allow_other" /proc/self/mountinfo
rc=0; timeout 60 gumount "$M" || rc=$?
is "$rc" 0 "gumount: exit 0"
rc=0; wait "$fg" || rc=$?
is "$rc" 0 "... and the --no-fork daemon has exited with 0"

# kill -9 leaves a dead mount that gumount removes; exit codes
timeout 60 gmount -a "$IMG" -i "$M" 2>/dev/null || timeout 60 gmount -a "$IMG" -m /dev/sda "$M"
pid=$(gm_pid "$M")
kill -9 "$pid"
# the mount answers until its last server process is gone, which a loaded
# machine may take a while to reap: wait for that (10 s at most), no fixed time
for _ in $(seq 100); do ls "$M" >/dev/null 2>&1 || break; sleep 0.1; done
ok "kill -9: the mount is dead (ENOTCONN)" bash -c "! ls '$M' 2>/dev/null"
rc=0; timeout 60 gumount "$M" || rc=$?
is "$rc" 0 "gumount removes a dead mount: exit 0"
ok "... gone" bash -c "! awk -v d='$M' '\$5 == d { f = 1 } END { exit !f }' /proc/self/mountinfo"
rc=0; timeout 60 gumount "$M" 2>"$T/err" || rc=$?
is "$rc" 3 "gumount of what is not mounted: exit 3 (guestunmount)"
ok "... and says so" grep -q "is not mounted" "$T/err"
timeout 60 gmount -a "$IMG" -m /dev/sda "$M"
# a process with its working directory in the mount until told to leave
# (no fixed delays: on a loaded machine the cd may come late, and the
# retries of gumount --retry=4 span 15 s)
( cd "$M/etc" && : >"$T/busy.in" &&
  for _ in $(seq 600); do [ -e "$T/busy.go" ] && break; sleep 0.1; done ) &
busy=$!
for _ in $(seq 300); do [ -e "$T/busy.in" ] && break; sleep 0.1; done
rc=0; timeout 60 gumount --no-retry "$M" 2>"$T/err" || rc=$?
is "$rc" 2 "gumount --no-retry of a busy mount: exit 2"
ok "... with fusermount3's reason" grep -q "busy" "$T/err"
( sleep 1; : >"$T/busy.go" ) &
go=$!
rc=0; timeout 60 gumount --retry=4 "$M" || rc=$?
is "$rc" 0 "gumount --retry=4: succeeds once the directory is let go"
wait "$busy" "$go"

# -x: a trace of the FUSE calls (and no fork); gumount --fd waits for the pipe
gmount -x -a "$IMG" -m /dev/sda "$M" 2>"$T/trace" &
fg=$!
for _ in $(seq 100); do is_mounted "$M" && break; sleep 0.1; done
cat "$M/etc/hostname" >/dev/null
mkfifo "$T/hold"
(exec 4>"$T/hold"; sleep 1) &
exec 5<"$T/hold"
rc=0; timeout 60 gumount --fd=5 "$M" || rc=$?
exec 5<&-
is "$rc" 0 "gumount --fd: unmounts once the pipe is closed"
wait "$fg"
ok "-x traces the calls (getattr, read of /etc/hostname)" grep -q 'trace: read "/etc/hostname"' "$T/trace"

# options: refused clearly
mkdir -p "$T/e"
fails_cleanly "--live is refused" gmount --live -a "$IMG" -i "$T/e"
fails_cleanly "-d DOMAIN is refused (no libvirt)" gmount -d guest -i "$T/e"
fails_cleanly "neither -i nor -m" gmount -a "$IMG" "$T/e"
fails_cleanly "a missing MOUNTDIR" gmount -a "$IMG" -i "$T/nonexistent"
fails_cleanly "an unknown FUSE option" gmount -o no_such_option -a "$IMG" -m /dev/sda "$T/e"
fails_cleanly "a device that is not there" gmount -a "$IMG" -m /dev/sdb "$T/e"
ok "... and nothing was left mounted" bash -c "! grep -q ' $T/e ' /proc/self/mountinfo"
umount "$K"

# ---- -i on the LVM qcow2 chain: the kernel mounts the LVs ----
RAW=$T/debian.raw
qemu-img convert -f qcow2 -O raw "$G/debian.qcow2" "$RAW"
. "$TOP/test-images/lib-lvm.sh"
L=$(losetup -r -f --show --offset $((18432 * 512)) "$RAW")
lvm_private_config "$T/lvm" "$L"
pe=$(lvm pvs --noheadings --units b --nosuffix -o pe_start "$L" | tr -d ' ')
lvoff() { local r; r=$(lvm lvs --noheadings -o seg_pe_ranges "deb-vg/$1" | tr -d ' '); r=${r#*:}; echo $((18432 * 512 + pe + ${r%-*} * 1048576)); }
lvsize() { lvm lvs --noheadings --units b --nosuffix -o lv_size "deb-vg/$1" | tr -d ' '; }
root_off=$(lvoff root) root_size=$(lvsize root) var_off=$(lvoff var) var_size=$(lvsize var)
losetup -d "$L"
mount -o loop,ro,offset="$root_off",sizelimit="$root_size" "$RAW" "$K"
mount -o loop,ro,offset=$((2048 * 512)),sizelimit=$((16384 * 512)) "$RAW" "$K/boot"
mount -o loop,ro,offset="$var_off",sizelimit="$var_size" "$RAW" "$K/var"
rc=0; timeout 60 gmount -a "$G/debian.qcow2" -i --ro "$M" || rc=$?
is "$rc" 0 "gmount -i on the LVM qcow2 chain"
is "$(NOINO=1 listing "$M")" "$(NOINO=1 listing "$K")" "... find -printf = the kernel's mounts of root, /boot, /var"
is "$(sums "$M")" "$(sums "$K")" "... sha256sum of every file"
is "$(dfig "$M/var")" "$(dfig "$K/var")" "... df of /var"
timeout 60 gumount "$M"
umount "$K/var" "$K/boot" "$K"

# ---- --devices ----
rc=0; timeout 60 gmount --devices -a "$G/debian.qcow2" "$M" || rc=$?
is "$rc" 0 "gmount --devices"
is "$(cd "$M" && find . | sort | tr '\n' ' ')" ". ./deb-vg ./deb-vg/root ./deb-vg/swap ./deb-vg/var ./sda ./sda1 ./sda2 " \
   "... disks, partitions, VG/LV (as the fixture made them)"
same_file "$M/sda" "$RAW" "... sda = qemu-img convert of the chain"
dd if="$RAW" of="$T/p1" bs=512 skip=2048 count=16384 status=none
same_file "$M/sda1" "$T/p1" "... sda1 = dd of the partition's sectors"
dd if="$RAW" of="$T/root.lv" bs=1M iflag=skip_bytes,count_bytes skip="$root_off" count="$root_size" status=none
same_file "$M/deb-vg/root" "$T/root.lv" "... deb-vg/root = dd of the LV's extents (lvm2's offsets)"
is "$(stat -c '%s %a' "$M/deb-vg/var")" "$var_size 444" "... an LV file: its size, read-only"
rc=0; mount -o loop,ro "$M/deb-vg/root" "$K" || rc=$?
is "$rc" 0 "mount -o loop,ro MOUNTDIR/deb-vg/root works"
is "$(ls -A "$K" 2>&1 | tr '\n' ' ')" "$(gls -a "$G/debian.qcow2" -m /dev/deb-vg/root / 2>&1 | tr '\n' ' ')" \
   "... and lists what gls lists"
umount "$K"
rc=0; (echo x >"$M/sda") 2>/dev/null || rc=$?
ok "... writing a device file fails" test "$rc" != 0
timeout 60 gumount "$M"
fails_cleanly "--devices --rw is refused" gmount --devices --rw -a "$IMG" "$T/e"

done_testing
