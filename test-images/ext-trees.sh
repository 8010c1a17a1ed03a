#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ext-trees.sh OUTDIR: ext2/3/4 filesystems made with `mke2fs -d` from a
# generated source tree, for gcat/gls/gdf/gcopy-out tests.
#
#   OUTDIR/src/            the tree (the oracle), OUTDIR/src.find its listing
#   OUTDIR/src-big/        src plus 10 000 files in one directory and a 1 GiB
#                          mostly-hole file (only in ext4-big.img)
#   OUTDIR/FEATURE.img     ext2 ext3 ext4 ext4-1k ext4-nocsum (no 64bit, no
#                          metadata_csum) inline bigalloc ext4-big
#   OUTDIR/disk.img        MBR: p1 /boot (ext4), p2 / (ext4) with /etc/fstab
#   OUTDIR/base.qcow2 <- OUTDIR/disk.qcow2   a qcow2 chain of disk.img, the
#                          top holding a changed /etc/hostname (disk2.img)
#   OUTDIR/sums            sha256 of every regular file of src (relative paths)
#
# Deterministic: fixed timestamps, UUIDs, hash seeds and E2FSPROGS_FAKE_TIME.
# Needs root (device nodes, owners).
set -euo pipefail
OUT=$1
mkdir -p "$OUT"
cd "$OUT"
export E2FSPROGS_FAKE_TIME=1600000000 SOURCE_DATE_EPOCH=1600000000
export MKE2FS_CONFIG=/etc/mke2fs.conf
PATH=/usr/sbin:/sbin:$PATH
STAMP="2021-02-03 04:05:06 UTC"

rm -rf src src-big root boot root2
python3 - <<'EOF'
import os, random, socket, stat
def tree(top, big):
    os.makedirs(top)
    def w(path, data, mode=0o644):
        p = os.path.join(top, path)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, 'wb') as f:
            f.write(data)
        os.chmod(p, mode)
    rnd = random.Random(1234)
    w('hello.txt', b'hello, world\n')
    w('empty', b'')
    w('tiny', b'abc')                                   # inline with inline_data
    w('binary.bin', bytes(rnd.getrandbits(8) for _ in range(100000)))
    w('zeros-and-nul.bin', b'\0' * 5000 + b'x\0y\n' + b'\0' * 3000)
    w('block4096', bytes(rnd.getrandbits(8) for _ in range(4096)))
    w('etc/hostname', b'trees.example.org\n')
    w('etc/passwd', b'root:x:0:0:root:/root:/bin/sh\n')
    w('etc/shadow', b'root:*:18000:0:99999:7:::\n', 0o600)
    w('modes/setuid', b'#!/bin/sh\n', 0o4755)
    w('modes/none', b'secret\n', 0o000)
    w('modes/group-w', b'g\n', 0o664)
    os.makedirs(os.path.join(top, 'modes/sticky'))
    os.chmod(os.path.join(top, 'modes/sticky'), 0o1777)
    w('owners/alice', b'alice\n')
    os.chown(os.path.join(top, 'owners/alice'), 1000, 1000)
    w('owners/test3', b'test3\n', 0o600)
    os.chown(os.path.join(top, 'owners/test3'), 10, 11)
    os.makedirs(os.path.join(top, 'emptydir'))
    # odd names
    w('names/with space', b'space\n')
    w('names/new\nline', b'newline\n')
    w('names/ünïcödé-日本語', 'utf-8 ✓\n'.encode())
    w('names/-dash', b'dash\n')
    w('names/' + 'L' * 255, b'long name\n')
    w('names/quote"comma,', b'csv\n')
    # deep directories
    d = 'deep/' + '/'.join('d%02d' % i for i in range(40))
    w(d + '/bottom.txt', b'bottom\n')
    # symlinks
    L = lambda target, name: os.symlink(target, os.path.join(top, name))
    os.makedirs(os.path.join(top, 'links'))
    L('/hello.txt', 'links/abs')
    L('../hello.txt', 'links/rel')
    L('/etc', 'links/etcdir')
    L('../../../../../etc/passwd', 'links/dotdot-escape')
    L('/nonexistent/file', 'links/dangling')
    L('loop2', 'links/loop1')
    L('loop1', 'links/loop2')
    L('self', 'links/self')
    L('../deep', 'links/deepdir')
    L('/links/chain2', 'links/chain1')
    L('chain3', 'links/chain2')
    L('../hello.txt', 'links/chain3')
    L('/' + '/'.join(['x' * 50] * 4), 'links/slow')    # > 60 bytes: not a fast symlink
    # hard links
    w('hard/one', b'hard link content\n')
    os.link(os.path.join(top, 'hard/one'), os.path.join(top, 'hard/two'))
    os.makedirs(os.path.join(top, 'hard/sub'))
    os.link(os.path.join(top, 'hard/one'), os.path.join(top, 'hard/sub/three'))
    # special files
    os.makedirs(os.path.join(top, 'dev'))
    os.mkfifo(os.path.join(top, 'dev/fifo'), 0o644)
    os.mknod(os.path.join(top, 'dev/null'), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.mknod(os.path.join(top, 'dev/loop0'), 0o660 | stat.S_IFBLK, os.makedev(7, 0))
    s = socket.socket(socket.AF_UNIX)
    s.bind(os.path.join(top, 'dev/sock'))
    s.close()
    # sparse files: holes at the start, middle and end
    p = os.path.join(top, 'sparse/holes.bin')
    os.makedirs(os.path.dirname(p))
    with open(p, 'wb') as f:
        f.seek(1 << 20); f.write(b'D' * 8192)
        f.seek(3 << 20); f.write(b'E' * 4096)
        f.truncate(5 << 20)
    with open(os.path.join(top, 'sparse/allhole.bin'), 'wb') as f:
        f.truncate(2 << 20)
    # xattrs (mke2fs -d copies them)
    os.setxattr(os.path.join(top, 'hello.txt'), 'user.comment', b'a greeting')
    os.setxattr(os.path.join(top, 'hello.txt'), 'user.empty', b'')
    os.setxattr(os.path.join(top, 'etc/shadow'), 'security.selinux', b'system_u:object_r:shadow_t:s0\0')
    if big:
        for i in range(10000):
            w('many/f%05d' % i, b'%d\n' % i if i % 1000 == 0 else b'')
        with open(os.path.join(top, 'sparse/big-1g.bin'), 'wb') as f:
            for off in (0, 300 << 20, 700 << 20):
                f.seek(off); f.write(b'B' * 65536)
            f.truncate(1 << 30)
tree('src', False)
tree('src-big', True)
EOF

# fixed times, children before parents so directory times stick
for t in src src-big; do
    find "$t" -depth -exec touch -h -d "$STAMP" {} +
done
(cd src && find . -printf '%y %m %s %n %U %G %T@ %p -> %l\n' | LC_ALL=C sort) > src.find
(cd src && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) > sums

n=0
mkfs() { # NAME SIZE SRC OPTIONS...
    local name=$1 size=$2 src=$3; shift 3
    n=$((n + 1))
    rm -f "$name.img"
    mke2fs -q -F -U 01234567-89ab-cdef-0123-456789abcd$(printf %02x $n) \
        -E hash_seed=01234567-0123-0123-0123-0123456789ab,root_owner=0:0 \
        -L "$name" -d "$src" "$@" "$name.img" "$size"
}
mkfs ext2 24M src -t ext2 -N 512
mkfs ext3 24M src -t ext3 -b 4096 -N 512
mkfs ext4 24M src -t ext4 -b 4096 -N 512
mkfs ext4-1k 24M src -t ext4 -b 1024 -N 512
mkfs ext4-nocsum 24M src -t ext4 -b 4096 -O ^metadata_csum,^64bit -N 512
mkfs inline 24M src -t ext4 -b 4096 -O inline_data -I 512 -N 512
mkfs bigalloc 64M src -t ext4 -O bigalloc -C 16384 -N 512
mkfs ext4-big 96M src-big -t ext4 -N 12000 -O ^has_journal

# a partitioned guest: /boot separate, fstab, os-release; then a qcow2 chain
mkguest() { # DISK HOSTNAME
    local disk=$1 host=$2
    rm -rf root boot && mkdir -p root/etc root/bin root/boot root/usr/bin boot/grub
    printf '%s\n' "$host" > root/etc/hostname
    printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n' > root/etc/os-release
    echo 12.5 > root/etc/debian_version
    printf '# static file system information\nUUID=0badc0de-0000-4000-8000-000000000002 / ext4 errors=remount-ro 0 1\nUUID=0badc0de-0000-4000-8000-000000000001 /boot ext4 defaults 0 2\n' > root/etc/fstab
    printf '#!/bin/sh\n' > root/bin/sh && chmod 755 root/bin/sh
    printf 'set timeout=5\nmenuentry "Debian" {\n  linux /vmlinuz root=/dev/sda2\n}\n' > boot/grub/grub.cfg
    printf 'not the boot partition\n' > root/boot/placeholder
    find root boot -depth -exec touch -h -d "$STAMP" {} +
    rm -f "$disk"
    truncate -s 64M "$disk"
    printf 'label: dos\nlabel-id: 0x12345678\nstart=2048, size=30720, type=83\nstart=32768, type=83\n' \
        | sfdisk -q "$disk"
    mke2fs -q -F -t ext4 -U 0badc0de-0000-4000-8000-000000000001 -L boot \
        -E offset=$((2048 * 512)),hash_seed=01234567-0123-0123-0123-0123456789ab \
        -d boot "$disk" $((30720 / 2))k
    mke2fs -q -F -t ext4 -U 0badc0de-0000-4000-8000-000000000002 -L root \
        -E offset=$((32768 * 512)),hash_seed=01234567-0123-0123-0123-0123456789ab \
        -d root "$disk" $(((131072 - 32768) / 2))k
}
mkguest disk.img trees-guest
mkguest disk2.img trees-guest-v2
rm -f base.qcow2 disk.qcow2 ext4.qcow2
qemu-img convert -q -f raw -O qcow2 disk.img base.qcow2
# the top holds only the 64 KiB clusters where disk2.img differs
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 disk.qcow2
python3 - <<'EOF2' > diffs
a = open('disk.img', 'rb'); b = open('disk2.img', 'rb'); off = 0
while True:
    x = a.read(65536); y = b.read(65536)
    if not y: break
    if x != y: print(off)
    off += 65536
EOF2
while read -r off; do
    dd if=disk2.img of=chunk bs=64k skip=$((off / 65536)) count=1 status=none
    qemu-io -f qcow2 -c "write -s chunk $off 65536" disk.qcow2 >/dev/null
done < diffs
rm -f chunk diffs
qemu-img convert -q -f raw -O qcow2 ext4.img ext4.qcow2
rm -rf root boot
echo done
