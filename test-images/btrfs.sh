#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# btrfs.sh OUTDIR: Btrfs filesystems made by mkfs.btrfs and by the kernel,
# and what the kernel shows of each, recorded through a read-only mount of
# a read-only loop device (the way a libguestfs appliance sees its disks).
#
#   rootdir.img     mkfs.btrfs --rootdir src (odd names, modes, owners,
#                   links, devices, sparse files, xattrs, a 3000-entry
#                   directory); nodesize 16K, DUP metadata
#   deep.img        the same with --nodesize 4096 (trees of several levels)
#   csum-xxhash.img csum-sha256.img csum-blake2.img   --rootdir small, the
#                   other checksum types
#   mixed.img       --mixed block groups, --rootdir small
#   kern.img        made through the kernel: subvolumes root, home, @data
#                   (the default subvolume), root/nested, snapshots
#                   snap-root (holds an empty placeholder for nested) and
#                   home-ro (read-only); files written with compress-force=
#                   zlib, lzo, zstd (inline and regular extents, extents
#                   split by overwrites), holes, punched holes, prealloc
#                   (fallocate) extents, reflinks, fragmented files, ACLs,
#                   xattrs, devices, hard links, 2000 entries in one dir
#   holes.img       -O ^no-holes: explicit hole extents, written by the kernel
#   raid1-{1,2}.img raid1x3-{1..3}.img raid1c3-{1..3}.img raid0-{1,2}.img
#   raid10-{1..4}.img raid5-{1..3}.img
#   dup.img         multi-device profiles (data and metadata), and -d dup,
#                   written by the kernel (some files zstd)
#   NAME.oracle/    for every image (and kern.img per mount: kern-top = subvolid=5,
#                   kern-root = subvol=root, kern-home = subvol=/home, kern =
#                   the default subvolume):
#                     list   one line per file: type|mode|size|uid|gid|atime|
#                            mtime|ctime|ino|nlink|rdev|blocks|sha256|path[|target]
#                            (what gls -lR --csv --uids --time-t --extra-stats
#                            --checksum=sha256 prints, less the device field)
#                     xattr  getfattr -R -d -m - -e hex of the tree
#                     df     df -B1 --output=size,used,avail (writable loop
#                            devices, read-only mount, as in a libguestfs appliance)
#                     subvols  btrfs subvolume list (top mounts only)
#   src/, small/    the trees given to --rootdir
# Needs root: loop devices and kernel mounts.
set -euo pipefail
OUT=$(realpath "$1")
mkdir -p "$OUT"
here=$(cd "$(dirname "$0")" && pwd)
cd "$OUT"
PATH=/usr/sbin:/sbin:$PATH
export LC_ALL=C TZ=UTC
rm -rf ./*.img ./*.oracle src small mnt
mkdir mnt
MNT=$OUT/mnt
LOOPS=()
cleanup() {
    umount "$MNT" 2>/dev/null || true
    for l in "${LOOPS[@]}"; do
        btrfs device scan --forget "$l" 2>/dev/null || true
        losetup -d "$l" 2>/dev/null || true
    done
}
trap cleanup EXIT

# attach [-r] IMG: a loop device for IMG in $L
attach() {
    L=$(losetup -f --show "$@")
    LOOPS+=("$L")
}
detach() { # LOOP...
    for l in "$@"; do
        btrfs device scan --forget "$l" 2>/dev/null || true
        losetup -d "$l"
        local keep=()
        for x in "${LOOPS[@]}"; do [ "$x" = "$l" ] || keep+=("$x"); done
        LOOPS=("${keep[@]}")
    done
}

# The trees for --rootdir.
python3 - <<'EOF'
import os, random, socket, stat
def tree(top, full):
    os.makedirs(top)
    def w(path, data, mode=0o644):
        p = os.path.join(top, path)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, 'wb') as f:
            f.write(data)
        os.chmod(p, mode)
    rnd = random.Random(4321)
    rb = lambda n: bytes(rnd.getrandbits(8) for _ in range(n))
    w('hello.txt', b'hello, btrfs\n')
    w('empty', b'')
    w('tiny', b'abc')
    w('inline-max', b'i' * 2048)                 # the largest inline file
    w('inline-plus1', b'j' * 2049)               # one byte too many: an extent
    w('binary.bin', rb(300000))
    w('text.txt', b''.join(b'line %06d of some text\n' % i for i in range(20000)))
    w('etc/hostname', b'btrfs.example.org\n')
    w('etc/shadow', b'root:*:18000:0:99999:7:::\n', 0o600)
    w('modes/setuid', b'#!/bin/sh\n', 0o4755)
    w('modes/none', b'secret\n', 0o000)
    os.makedirs(os.path.join(top, 'modes/sticky'))
    os.chmod(os.path.join(top, 'modes/sticky'), 0o1777)
    w('owners/alice', b'alice\n')
    os.chown(os.path.join(top, 'owners/alice'), 1000, 1000)
    w('names/with space', b'space\n')
    w('names/ünïcödé-日本語', 'utf-8 ✓\n'.encode())
    w('names/-dash', b'dash\n')
    w('names/' + 'L' * 255, b'long name\n')
    d = 'deep/' + '/'.join('d%02d' % i for i in range(30))
    w(d + '/bottom.txt', b'bottom\n')
    L = lambda target, name: os.symlink(target, os.path.join(top, name))
    os.makedirs(os.path.join(top, 'links'))
    L('/hello.txt', 'links/abs')
    L('../hello.txt', 'links/rel')
    L('/nonexistent/file', 'links/dangling')
    L('/' + '/'.join(['y' * 200] * 10), 'links/long')
    w('hard/one', b'hard link content\n')
    os.link(os.path.join(top, 'hard/one'), os.path.join(top, 'hard/two'))
    os.makedirs(os.path.join(top, 'hard/sub'))
    os.link(os.path.join(top, 'hard/one'), os.path.join(top, 'hard/sub/three'))
    os.makedirs(os.path.join(top, 'dev'))
    os.mkfifo(os.path.join(top, 'dev/fifo'), 0o644)
    s = socket.socket(socket.AF_UNIX)
    s.bind(os.path.join(top, 'dev/sock'))
    s.close()
    p = os.path.join(top, 'sparse/holes.bin')
    os.makedirs(os.path.dirname(p))
    with open(p, 'wb') as f:
        f.seek(1 << 20); f.write(b'D' * 8192)
        f.seek(3 << 20); f.write(b'E' * 4096)
        f.truncate(5 << 20)
    with open(os.path.join(top, 'sparse/allhole.bin'), 'wb') as f:
        f.truncate(2 << 20)
    for name, val in (('user.comment', b'a greeting'), ('user.empty', b''),
                      ('user.big', bytes(range(256)) * 12)):
        try:
            os.setxattr(os.path.join(top, 'hello.txt'), name, val)
        except OSError:
            pass
    if full:
        for i in range(3000):
            w('many/f%05d' % i, b'%d\n' % i if i % 100 == 0 else b'')
tree('src', True)
tree('small', False)
EOF
find src small -depth -exec touch -h -d "2021-02-03 04:05:06 UTC" {} +

# record NAME OPTIONS IMG...: mount the image(s) read-only from read-only
# loop devices and write NAME.oracle/; df comes from a read-only mount of
# writable loop devices, which is what a libguestfs appliance does (its
# disks are writable overlays) and what virt-df reports: the kernel then
# counts the free space inside allocated data chunks.
record() {
    local name=$1 opts=$2 loops=() i
    shift 2
    for i in "$@"; do attach -r "$i"; loops+=("$L"); done
    [ $# -gt 1 ] && btrfs device scan "${loops[@]}" >/dev/null
    mkdir -p "$name.oracle"
    mount -t btrfs -o "ro${opts:+,$opts}" "${loops[0]}" "$MNT"
    python3 "$here/lib-fslist.py" "$MNT" > "$name.oracle/list"
    (cd "$MNT" && getfattr -R -d -m - -e hex -h . 2>/dev/null) > "$name.oracle/xattr" || true
    btrfs subvolume list "$MNT" > "$name.oracle/subvols" 2>/dev/null || true
    umount "$MNT"
    detach "${loops[@]}"
    loops=()
    for i in "$@"; do attach "$i"; loops+=("$L"); done
    [ $# -gt 1 ] && btrfs device scan "${loops[@]}" >/dev/null
    mount -t btrfs -o "ro${opts:+,$opts}" "${loops[0]}" "$MNT"
    df -B1 --output=size,used,avail "$MNT" | tail -1 > "$name.oracle/df"
    umount "$MNT"
    detach "${loops[@]}"
}

# rootdir-made images: IMG SIZE TREE MKFS-OPTIONS...
rootdir() {
    local img=$1 size=$2 src=$3; shift 3
    truncate -s "$size" "$img.img"
    mkfs.btrfs -q -f -L "$img" --rootdir "$src" "$@" "$img.img" >/dev/null
    record "$img" "" "$img.img"
}
rootdir rootdir 256M src
rootdir deep 256M src --nodesize 4096
rootdir csum-xxhash 128M small --csum xxhash
rootdir csum-sha256 128M small --csum sha256
rootdir csum-blake2 128M small --csum blake2
rootdir mixed 128M small --mixed

# ---- kern.img: through the kernel ----
truncate -s 512M kern.img
mkfs.btrfs -q -f -L kern kern.img >/dev/null
attach kern.img
mount -t btrfs "$L" "$MNT"
M=$MNT
btrfs -q subvolume create "$M/root"
btrfs -q subvolume create "$M/home"
btrfs -q subvolume create "$M/@data"
mkdir -p "$M/root/etc" "$M/root/bin" "$M/home/alice/docs"
echo kern.example.org > "$M/root/etc/hostname"
printf 'top-level file\n' > "$M/toplevel.txt"
btrfs -q subvolume create "$M/root/nested"
echo inner > "$M/root/nested/inner.txt"
echo 'alice notes' > "$M/home/alice/docs/notes.txt"
chown -R 1000:1000 "$M/home/alice"
python3 - "$M/@data" <<'EOF'
import os, random, sys
top = sys.argv[1]
rnd = random.Random(99)
def w(path, data):
    p = os.path.join(top, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, 'wb') as f:
        f.write(data)
os.makedirs(os.path.join(top, 'plain'))
w('plain/random.bin', bytes(rnd.getrandbits(8) for _ in range(1 << 20)))
w('plain/small', b'small inline file\n')
# holes: data at 0, a hole, data at 1 MiB + 100, a hole to the end
with open(os.path.join(top, 'plain/sparse'), 'wb') as f:
    f.write(b'S' * 5000)
    f.seek((1 << 20) + 100); f.write(b'T' * 70000)
    f.truncate(8 << 20)
with open(os.path.join(top, 'plain/allhole'), 'wb') as f:
    f.truncate(3 << 20)
# many directory entries
for i in range(2000):
    w('bigdir/entry-%04d' % i, b'%d\n' % i)
EOF
# prealloc: all unwritten, written in the middle, past EOF (keep size)
fallocate -l 1M "$M/@data/plain/prealloc"
fallocate -l 1M "$M/@data/plain/prealloc-mixed"
dd if=/dev/urandom of="$M/@data/plain/prealloc-mixed" bs=4096 seek=64 count=4 conv=notrunc status=none
echo 'short' > "$M/@data/plain/prealloc-keep"
fallocate -n -o 4096 -l 1M "$M/@data/plain/prealloc-keep"
# a punched hole in a written file
head -c 600000 /dev/urandom > "$M/@data/plain/punched"
fallocate -p -o 131072 -l 200000 "$M/@data/plain/punched"
# a fragmented file: writes interleaved with another file, each synced
for i in $(seq 0 99); do
    dd if=/dev/urandom of="$M/@data/plain/frag" bs=4096 seek=$((i * 2)) count=1 conv=notrunc oflag=sync status=none
    dd if=/dev/urandom of="$M/@data/plain/frag-other" bs=4096 seek=$i count=1 conv=notrunc oflag=sync status=none
done
# reflinks, then a partial overwrite of the copy
cp --reflink=always "$M/@data/plain/random.bin" "$M/@data/plain/reflink.bin"
dd if=/dev/zero of="$M/@data/plain/reflink.bin" bs=4096 seek=10 count=3 conv=notrunc status=none
sync
# compression: each algorithm forced, then an overwrite inside a compressed
# extent (the file extent then points into the middle of the old one)
for alg in zlib lzo zstd; do
    mount -o remount,compress-force=$alg "$M"
    python3 - "$M/@data/$alg" <<'EOF'
import os, random, sys
top = sys.argv[1]
os.makedirs(top)
rnd = random.Random(7)
def w(name, data):
    with open(os.path.join(top, name), 'wb') as f:
        f.write(data)
w('text.txt', b''.join(b'%06d the quick brown fox jumps over the lazy dog\n' % i for i in range(40000)))
w('small.txt', b'compressible ' * 100)             # inline, compressed
w('random.bin', bytes(rnd.getrandbits(8) for _ in range(300000)))   # does not compress
w('mixed.bin', b''.join((bytes(rnd.getrandbits(8) for _ in range(4096)) if i % 3 == 0 else b'Z' * 4096)
                        for i in range(200)))
with open(os.path.join(top, 'sparse-c'), 'wb') as f:
    f.write(b'A' * 300000)
    f.seek(2 << 20); f.write(b'B' * 200000)
EOF
    sync
    dd if=/dev/zero of="$M/@data/$alg/text.txt" bs=4096 seek=40 count=2 conv=notrunc status=none
    sync
done
mount -o remount,compress=no "$M"
# xattrs and ACLs, devices, links
setfattr -n user.colour -v blue "$M/@data/plain/small"
setfattr -n user.big -v "0x$(head -c 3000 /dev/zero | tr '\0' 'q' | xxd -p | tr -d '\n')" "$M/@data/plain/small"
setfattr -n trusted.secret -v hidden "$M/@data/plain/small"
setfattr -n security.selinux -v "system_u:object_r:etc_t:s0" "$M/root/etc/hostname"
setfacl -m u:1000:rw "$M/@data/plain/random.bin" 2>/dev/null || true
setfacl -d -m g:100:rx "$M/@data/plain" 2>/dev/null || true
mkdir "$M/@data/dev"
mknod "$M/@data/dev/null" c 1 3
mknod "$M/@data/dev/sda1" b 8 1
mknod "$M/@data/dev/big" c 300 70000
mkfifo "$M/@data/dev/fifo"
ln "$M/@data/plain/small" "$M/@data/plain/small-link1"
ln "$M/@data/plain/small" "$M/@data/dev/small-link2"
ln -s ../plain/small "$M/@data/dev/symlink"
# snapshots: snap-root has an empty placeholder where root/nested is
btrfs -q subvolume snapshot "$M/root" "$M/snap-root"
btrfs -q subvolume snapshot -r "$M/home" "$M/home-ro"
echo 'changed after the snapshot' > "$M/root/etc/hostname"
btrfs -q subvolume set-default "$M/@data"
umount "$M"
detach "$L"
record kern "" kern.img
record kern-top subvolid=5 kern.img
record kern-root subvol=root kern.img
record kern-home subvol=/home kern.img

# ---- explicit hole extents (no NO_HOLES) ----
truncate -s 128M holes.img
mkfs.btrfs -q -f -O ^no-holes holes.img >/dev/null
attach holes.img
mount -t btrfs "$L" "$MNT"
python3 - "$MNT" <<'EOF'
import os, sys
top = sys.argv[1]
with open(os.path.join(top, 'holes.bin'), 'wb') as f:
    f.seek(65536); f.write(b'H' * 10000)
    f.seek(1 << 20); f.write(b'I' * 4096)
    f.truncate(3 << 20)
with open(os.path.join(top, 'grown'), 'wb') as f:
    f.write(b'g' * 100)
    f.truncate(1 << 20)
EOF
umount "$MNT"
detach "$L"
record holes "" holes.img

# ---- profiles over several devices ----
# multi NAME NDEV SIZE MKFS-OPTIONS...
multi() {
    local name=$1 n=$2 size=$3; shift 3
    local imgs=() loops=()
    for i in $(seq 1 "$n"); do
        truncate -s "$size" "$name-$i.img"
        imgs+=("$name-$i.img")
    done
    for i in "${imgs[@]}"; do attach "$i"; loops+=("$L"); done
    mkfs.btrfs -q -f -L "$name" "$@" "${loops[@]}" >/dev/null
    btrfs device scan "${loops[@]}" >/dev/null
    mount -t btrfs "${loops[0]}" "$MNT"
    python3 - "$MNT" <<'EOF'
import os, random, sys
top = sys.argv[1]
rnd = random.Random(5)
for i, n in enumerate((10, 4096, 65536, 200000, 3 << 20, 12 << 20)):
    with open(os.path.join(top, 'file%d' % i), 'wb') as f:
        f.write(bytes(rnd.getrandbits(8) for _ in range(n)) if n < 300000 else os.urandom(n))
os.makedirs(os.path.join(top, 'dir'))
for i in range(300):
    with open(os.path.join(top, 'dir', 'f%03d' % i), 'wb') as f:
        f.write(b'x' * i)
EOF
    mount -o remount,compress-force=zstd "$MNT"
    seq 1 200000 > "$MNT/zstd.txt"
    umount "$MNT"
    detach "${loops[@]}"
    record "$name" "" "${imgs[@]}"
}
multi raid1 2 256M -d raid1 -m raid1
multi raid0 2 256M -d raid0 -m raid0
multi raid1x3 3 256M -d raid1 -m raid1
multi raid1c3 3 256M -d raid1c3 -m raid1c3
multi raid10 4 256M -d raid10 -m raid10
multi raid5 3 256M -d raid5 -m raid1
multi dup 1 256M -d dup -m dup
rmdir mnt
echo done
