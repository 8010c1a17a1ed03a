#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Resource bounds on small crafted images, each built here: every tool
# answers or refuses within seconds and bounded memory (timeout + ulimit;
# never a timing assertion).  A JBD2 journal whose block map repeats one
# revoke block, an fstab repeating a mountpoint 40,000 times and one naming
# 40,000 mountpoints (4,000 under the sanitizers), ext geometry forged against the device (the kernel's
# mount is the oracle where it can say), an rpmdb.sqlite with a generated
# column.  Runs again under ASan+UBSan.
. "$(dirname "$0")/lib.sh"
export LC_ALL=C
vlimit() { [ "$GK_SAN" = 1 ] || ulimit -v "$1"; }
# The sanitizer build is many times slower (and the machine may be busy):
# it gets smaller images and more time; the bound is a hang guard, never
# a speed assertion.
N=40000 TMO=60
[ "$GK_SAN" = 1 ] && N=4000 TMO=300
# capped CMD...: run with $TMO s and 512 MiB (not lib.sh's bounded, which fails_cleanly uses)
capped() {
    rc=0
    (vlimit 524288; exec timeout $TMO "$@") >"$T/out" 2>"$T/err" || rc=$?
}
clean() { ! grep -qE 'Sanitizer|runtime error|Segmentation' "$T/err"; }

# ------------------------------------------------------------------ journal
# ext3 (block-mapped journal), 1 KiB blocks, 8 MiB; the journal inode and
# its backup in the superblock map every logical block after the journal
# superblock onto one revoke block full of records.  JOURNAL_BLOCKS sets
# the size the inode claims.
evil_journal() { # IMG JOURNAL_BLOCKS
    mke2fs -q -F -t ext3 -b 1024 "$1" 8M >/dev/null 2>&1 || return 1
    python3 - "$1" "$2" <<'EOF'
import struct, sys
p, nblocks = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, 'rb').read())
BS = 1024
sb = 1024
u32 = lambda o: struct.unpack_from('<I', b, o)[0]
ipg, isz = u32(sb + 0x28), struct.unpack_from('<H', b, sb + 0x58)[0]
itable = u32(2 * BS + 8)
ino = itable * BS + (8 - 1) * isz
blk = [u32(ino + 0x28 + 4 * i) for i in range(15)]
jsb, rev, ind, dind = blk[0], blk[1], blk[12], blk[13]
# the journal superblock: the log starts at block 1
seq = struct.unpack_from('>I', b, jsb * BS + 24)[0]
struct.pack_into('>III', b, jsb * BS + 16, nblocks, 1, seq)
struct.pack_into('>I', b, jsb * BS + 28, 1)
# one revoke block: every record a different block
struct.pack_into('>IIII', b, rev * BS, 0xc03b3998, 5, seq, BS)
for i in range(16, BS, 4):
    struct.pack_into('>I', b, rev * BS + i, 100 + i)
# every logical block but 0 maps to the revoke block
for i in range(1, 12):
    struct.pack_into('<I', b, ino + 0x28 + 4 * i, rev)
for i in range(BS // 4):
    struct.pack_into('<I', b, ind * BS + 4 * i, rev)
    struct.pack_into('<I', b, dind * BS + 4 * i, ind)
size = nblocks * BS
struct.pack_into('<I', b, ino + 4, size & 0xffffffff)
struct.pack_into('<I', b, ino + 0x6c, size >> 32)
# the superblock's copy of the journal inode says the same
for i in range(15):
    struct.pack_into('<I', b, sb + 0x10c + 4 * i, u32(ino + 0x28 + 4 * i))
struct.pack_into('<II', b, sb + 0x10c + 60, size >> 32, size & 0xffffffff)
# needs_recovery
struct.pack_into('<I', b, sb + 0x60, u32(sb + 0x60) | 4)
open(p, 'wb').write(b)
EOF
}
if evil_journal "$T/j1.img" 8000; then
    capped gls -a "$T/j1.img" -m /dev/sda /
    is "$rc" 0 "journal map repeating a revoke block: answered"
    ok "... no sanitizer report" clean
    ok "... the map is refused, saying why" grep -q "uses filesystem block [0-9]* twice" "$T/err"
    ok "... and the unreplayed filesystem is read" grep -qx lost+found "$T/out"
    evil_journal "$T/j2.img" 10000000
    capped gls -a "$T/j2.img" -m /dev/sda /
    is "$rc" 0 "journal claiming 10M blocks on an 8 MiB filesystem: answered"
    ok "... refused as larger than the filesystem" grep -q "journal inode 8 has an unusable size" "$T/err"
fi

# a journal transaction that replaces the superblock with a forged one:
# the geometry is checked again after replay
mke2fs -q -F -t ext4 -O ^metadata_csum,^64bit -b 4096 "$T/j3.img" 16M >/dev/null 2>&1
jblk() { debugfs -R "bmap <8> $1" "$T/j3.img" 2>/dev/null; }
python3 - "$T/j3.img" "$(jblk 0)" "$(jblk 1)" "$(jblk 2)" "$(jblk 3)" <<'EOF'
import struct, sys
p = sys.argv[1]
jsb, desc, data, commit = (int(x) for x in sys.argv[2:6])
b = bytearray(open(p, 'rb').read())
BS = 4096
seq = struct.unpack_from('>I', b, jsb * BS + 24)[0]
struct.pack_into('>I', b, jsb * BS + 28, 1)                  # s_start: log at block 1
struct.pack_into('>III', b, desc * BS, 0xc03b3998, 1, seq)   # descriptor
struct.pack_into('>IHH', b, desc * BS + 12, 0, 0, 0x2 | 0x8) # fs block 0, same uuid, last
b[data * BS:data * BS + BS] = b[0:BS]                        # block 0 with a forged superblock
struct.pack_into('<I', b, data * BS + 1024 + 0x04, 0xfffffff0)
struct.pack_into('>III', b, commit * BS, 0xc03b3998, 2, seq) # commit
struct.pack_into('<I', b, 1024 + 0x60, struct.unpack_from('<I', b, 1024 + 0x60)[0] | 4)
open(p, 'wb').write(b)
EOF
capped gls -a "$T/j3.img" -m /dev/sda /
is "$rc" 0 "journal replacing the superblock with a forged one: answered"
ok "... the replayed geometry is refused" grep -q "after journal replay: bad geometry" "$T/err"
ok "... and the unreplayed filesystem is read" grep -qx lost+found "$T/out"

# ------------------------------------------------------------------ fstab
mkroot() { # DIR
    mkdir -p "$1"/{etc,bin,usr/bin,var,root}
    cp /bin/bash "$1/bin/bash"
    echo "127.0.0.1 localhost" >"$1/etc/hosts"
    echo 12.4 >"$1/etc/debian_version"
}
R=$T/root
mkroot "$R"
mkdir "$R/mnt"
echo "inner" >"$R/mnt/file"
{ echo "/dev/sda / ext4 defaults 0 1"; for i in $(seq $N); do echo "/dev/sda /mnt ext4"; done; } >"$R/etc/fstab"
mke2fs -q -F -t ext4 -d "$R" "$T/fstab1.img" 16M >/dev/null 2>&1
capped gls -a "$T/fstab1.img" /mnt
is "$rc" 0 "$N fstab lines mounting /mnt: answered"
ok "... no sanitizer report" clean
is "$(tr '\n' ' ' <"$T/out")" "$( (ls -A "$R"; echo lost+found) | sort | tr '\n' ' ')" \
   "... /mnt shows the root filesystem"
# mounted once, not stacked up to the mount limit (whose listing would be
# the same): one mount per mountpoint, as libguestfs keeps its inspected
# mountpoints (a hash by mountpoint) and guestfish -i mounts them
ok "... no mount limit reached" sh -c "! grep -q 'filesystems to mount' '$T/err'"
capped gfsh -a "$T/fstab1.img" -i mountpoints
is "$rc $(sort "$T/out" | tr '\n' ' ')" "0 /dev/sda: / /dev/sda: /mnt " "... gfsh -i mountpoints: / and /mnt, once each"

rm "$R/mnt/file"
{ echo "/dev/sda / ext4 defaults 0 1"; for i in $(seq $N); do echo "/dev/sda /m$i ext4"; done; } >"$R/etc/fstab"
for i in $(seq 200); do mkdir "$R/m$i"; done
mke2fs -q -F -t ext4 -N 1024 -d "$R" "$T/fstab2.img" 16M >/dev/null 2>&1
capped gls -a "$T/fstab2.img" /
is "$rc" 0 "$N distinct mountpoints: answered"
ok "... no sanitizer report" clean
ok "... says it stopped at the limit" grep -q "more than 128 filesystems to mount" "$T/err"

# ------------------------------------------------------------------ geometry
# a filesystem larger than its device: the kernel refuses to mount it
mke2fs -q -F -t ext4 "$T/g.img" 8M >/dev/null 2>&1
truncate -s 4M "$T/g.img"
if [ "$(id -u)" = 0 ] && mkdir -p "$T/mnt" && ! mount -o loop,ro "$T/g.img" "$T/mnt" 2>/dev/null; then
    capped gls -a "$T/g.img" -m /dev/sda /
    is "$rc" 1 "fs larger than its device: refused, as the kernel does"
    n=$(dumpe2fs -h "$T/g.img" 2>/dev/null | sed -n 's/^Block count: *//p')
    bs=$(dumpe2fs -h "$T/g.img" 2>/dev/null | sed -n 's/^Block size: *//p')
    ok "... saying why" grep -q "bad geometry: block count $n exceeds size of device ($((4194304 / bs)) blocks)" "$T/err"
else
    umount "$T/mnt" 2>/dev/null
fi
# a root inode that is not a directory: e2fsck says so, the kernel's ext4
# refuses the mount ("corrupt root inode, run e2fsck"), and so do we; the
# open fails after the inode checks built their caches (a leak under ASan
# once, found by the ext fuzz target)
mke2fs -q -F -t ext4 "$T/r.img" 8M >/dev/null 2>&1
debugfs -w -R "sif <2> mode 0100644" "$T/r.img" >/dev/null 2>&1
ok "(e2fsck -fn: root inode is not a directory)" sh -c "e2fsck -fn '$T/r.img' 2>&1 | grep -q 'Root inode is not a directory'"
fails_cleanly "root inode not a directory: refused" gls -a "$T/r.img" -m /dev/sda /
ok "... saying why" grep -q "corrupt root inode, run e2fsck" "$T/fc.err"
fails_cleanly "... also for writing" gfsh --rw -a "$T/r.img" -m /dev/sda mkdir /x

# a small qcow2 claiming 64M block groups (4 GiB of group descriptors)
mke2fs -q -F -t ext4 -b 1024 -O 64bit,^resize_inode,^has_journal "$T/f.raw" 1M >/dev/null 2>&1
python3 - "$T/f.raw" <<'EOF'
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
sb = 1024
groups = 1 << 26
blocks = groups * 8192
struct.pack_into('<I', b, sb + 0x04, blocks & 0xffffffff)      # s_blocks_count
struct.pack_into('<I', b, sb + 0x150, blocks >> 32)            # s_blocks_count_hi
struct.pack_into('<I', b, sb + 0x20, 8192)                     # blocks per group
struct.pack_into('<I', b, sb + 0x24, 8192)                     # clusters per group
struct.pack_into('<I', b, sb + 0x28, 32)                       # inodes per group
struct.pack_into('<I', b, sb + 0x00, groups * 32)              # s_inodes_count
open(p, 'wb').write(b)
EOF
qemu-img convert -q -f raw -O qcow2 -o cluster_size=2M "$T/f.raw" "$T/f.qcow2"
qemu-img resize -q -f qcow2 "$T/f.qcow2" 512T
capped gls -a "$T/f.qcow2" -m /dev/sda /
is "$rc" 1 "64M block groups on a small qcow2: refused"
ok "... no sanitizer report" clean
ok "... saying why" grep -q "67108864 block groups: their descriptors (4096 MiB) are more than guestkit reads" "$T/err"

# ------------------------------------------------------------------ rpmdb
F=$T/fedora
mkroot "$F"
rm "$F/etc/debian_version"
mkdir -p "$F/var/lib/rpm"
printf 'ID=fedora\nVERSION_ID=39\nPRETTY_NAME="Fedora Linux 39"\n' >"$F/etc/os-release"
echo "/dev/sda / ext4 defaults 0 1" >"$F/etc/fstab"
sqlite3 "$F/var/lib/rpm/rpmdb.sqlite" "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY,
    blob BLOB AS (zeroblob(200000000)));
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $((N * 5 / 2)))
    INSERT INTO Packages (hnum) SELECT x FROM c;" >/dev/null
mke2fs -q -F -t ext4 -d "$F" "$T/rpm.img" 32M >/dev/null 2>&1
capped ginspect -a "$T/rpm.img"
is "$rc" 0 "rpmdb.sqlite with a generated blob column ($((N * 5 / 2)) rows of 200 MB): answered"
ok "... no sanitizer report" clean
ok "... the column is refused, saying why" grep -q 'column "blob" of Packages is generated or hidden' "$T/err"
ok "... the rest of the report is there" grep -q '<distro>fedora</distro>' "$T/out"

done_testing
