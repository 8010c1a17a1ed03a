#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gfshro.sh OUTDIR: a guest for gfsh's read-only guestfish commands (file,
# wc-*, pread, is-zero, initrd-*, llz, lstatlist, case-sensitive-path,
# blkid, tune2fs-l, inspect-get-icon, filesystem-walk ...).  Deterministic:
# fixed UUIDs, hash seeds and times, so the guestfish transcript recorded in
# tests/data/guestfish/ stays valid.
#
#   disk.img    GPT: p1 /boot (ext2, label boot: initrd images as gzip, xz,
#               zstd and plain newc cpio made by cpio(1)), p2 / (ext4, label
#               root: a Debian-like root with a real ELF /bin/bash, text,
#               zero and sparse files, mixed-case names, symlinks, a PNG
#               /usr/share/pixmaps/debian-logo.png, security.selinux labels
#               set with debugfs), p3 swap
#   root/ boot/ initrd/   the trees (the oracle for contents)
set -euo pipefail
OUT=$(realpath "$1")
mkdir -p "$OUT"
cd "$OUT"
export E2FSPROGS_FAKE_TIME=1600000000 SOURCE_DATE_EPOCH=1600000000
PATH=/usr/sbin:/sbin:$PATH
STAMP="2021-02-03 04:05:06 UTC"
SEED=01234567-0123-0123-0123-0123456789ab
rm -rf root boot initrd ./*.img

mkdir -p root/{etc,bin,boot,usr/share/pixmaps,data/MixedCase/SubDir,links,tmp}
echo gfshro-guest >root/etc/hostname
printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n' \
    >root/etc/os-release
echo 12.5 >root/etc/debian_version
cat >root/etc/fstab <<'EOF'
LABEL=root / ext4 errors=remount-ro 0 1
LABEL=boot /boot ext2 defaults 0 2
EOF
cp /bin/bash root/bin/bash
seq 1 300 | sed 's/^/line number /' >root/data/lines.txt
printf 'no newline at end, five words' >root/data/nonl.txt
printf 'tab\tseparated words\n  leading blanks and   runs\n\n' >root/data/words.txt
head -c 8192 /dev/zero >root/data/zero.bin
truncate -s 1M root/data/sparse.bin
: >root/data/empty
printf 'not\0zero' >root/data/nulls.bin
echo "mixed case" >root/data/MixedCase/SubDir/File.TXT
printf 'UTF-16: \xff\xfeh\0i\0\n' >root/data/utf16.txt
gzip -9n <root/data/lines.txt >root/data/lines.txt.gz
ln -s /etc/hostname root/links/abs
ln -s ../data/lines.txt root/links/rel
ln -s /nonexistent root/links/dangling
# a small PNG (the icon inspection finds for Debian)
python3 - root/usr/share/pixmaps/debian-logo.png <<'PY'
import struct, sys, zlib
w = h = 32
raw = b"".join(b"\0" + bytes([200, 7, 80]) * w for _ in range(h))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
       chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
open(sys.argv[1], "wb").write(png)
PY

# initrd images: a newc cpio made by cpio(1), as dracut and
# initramfs-tools make them, plain and compressed
mkdir -p initrd/{bin,etc,lib/modules,scripts}
echo "initrd-hostname" >initrd/etc/hostname
cp /bin/bash initrd/bin/sh
printf '#!/bin/sh\necho init\n' >initrd/init
chmod 755 initrd/init
ln -s ../bin/sh initrd/scripts/shell
mkdir -p boot
find initrd root -depth -exec touch -h -d "$STAMP" {} +
(cd initrd && find . | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible) >boot/initrd.cpio
gzip -9n <boot/initrd.cpio >boot/initrd.img-6.1.0
xz -9 <boot/initrd.cpio >boot/initrd-xz.img
if command -v zstd >/dev/null; then zstd -q -19 <boot/initrd.cpio >boot/initrd-zstd.img; fi
echo 'not a kernel' >boot/vmlinuz-6.1.0
find boot -depth -exec touch -h -d "$STAMP" {} +

truncate -s 64M disk.img
mke2fs -q -F -t ext2 -U 6f5e0000-0000-4000-8000-0000000000b1 -L boot \
    -E offset=$((1 << 20)),hash_seed=$SEED -d boot disk.img 16M
mke2fs -q -F -t ext4 -U 6f5e0000-0000-4000-8000-0000000000b2 -L root -N 256 \
    -E offset=$((17 << 20)),hash_seed=$SEED -d root disk.img 40M
dd if=/dev/zero of=swap.tmp bs=1M count=6 status=none
mkswap -q -U 6f5e0000-0000-4000-8000-0000000000b3 -L swap swap.tmp >/dev/null
dd if=swap.tmp of=disk.img bs=1M seek=57 conv=notrunc status=none
rm -f swap.tmp
# SELinux labels (for llz), set in the filesystem itself
dd if=disk.img of=root.fs bs=1M skip=17 count=40 status=none
for f in /etc/hostname:etc_t /bin/bash:shell_exec_t /data:default_t; do
    debugfs -w -R "ea_set ${f%%:*} security.selinux system_u:object_r:${f#*:}:s0" root.fs >/dev/null 2>&1
done
dd if=root.fs of=disk.img bs=1M seek=17 conv=notrunc status=none
rm -f root.fs
# the table last: mke2fs clears the start of the image
sgdisk -U 6f5e0000-0000-4000-8000-0000000000bf \
    -n 1:1M:+16M -c 1:boot -t 1:8300 -u 1:6f5e0000-0000-4000-8000-0000000000c1 -A 1:set:2 \
    -n 2:17M:+40M -c 2:root -t 2:8300 -u 2:6f5e0000-0000-4000-8000-0000000000c2 \
    -n 3:57M:+6M -c 3:swap -t 3:8200 -u 3:6f5e0000-0000-4000-8000-0000000000c3 disk.img >/dev/null
echo done
