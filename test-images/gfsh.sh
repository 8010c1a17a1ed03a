#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gfsh.sh OUTDIR: a small guest for the gfsh tests.
#
#   OUTDIR/root/, OUTDIR/boot/   the trees (the oracle for file contents)
#   OUTDIR/disk.img   GPT: p1 /boot ext4 (label boot), p2 / ext4 (label
#                     root), p3 swap; fstab by UUID=; Debian 12 os-release
#   OUTDIR/disk.qcow2 the same disk as qcow2
#   OUTDIR/mbr.img    MBR: p1 ext2 (label data) holding a copy of root/data
#   OUTDIR/root/var/big.sparse is a 16 GiB file that is almost all hole (for
#   Ctrl-C during cat); it is stored sparse in the image.
#
# Deterministic: fixed UUIDs, hash seeds, timestamps.
set -euo pipefail
OUT=$(realpath "$1")
mkdir -p "$OUT"
cd "$OUT"
export E2FSPROGS_FAKE_TIME=1600000000 SOURCE_DATE_EPOCH=1600000000
PATH=/usr/sbin:/sbin:$PATH
STAMP="2021-02-03 04:05:06 UTC"
BOOT_UUID=6f5e0000-0000-4000-8000-000000000001
ROOT_UUID=6f5e0000-0000-4000-8000-000000000002
SWAP_UUID=6f5e0000-0000-4000-8000-000000000003
DATA_UUID=6f5e0000-0000-4000-8000-000000000004
SEED=01234567-0123-0123-0123-0123456789ab

rm -rf root boot ./*.img ./*.qcow2
mkdir -p root/{etc,bin,boot,var,tmp,data/sub,links,home/alice} boot/grub
echo gfsh-guest > root/etc/hostname
printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nID=debian\n' \
    > root/etc/os-release
echo 12.5 > root/etc/debian_version
cat > root/etc/fstab <<EOF
# /etc/fstab: static file system information.
UUID=$ROOT_UUID / ext4 errors=remount-ro 0 1
UUID=$BOOT_UUID /boot ext4 defaults 0 2
UUID=$SWAP_UUID none swap sw 0 0
EOF
cp /bin/bash root/bin/bash
printf 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\n' \
    > root/etc/passwd
seq 1 25 | sed 's/^/line /' > root/data/lines.txt
printf 'no newline at end' > root/data/nonl.txt
printf 'alpha\nBeta\ngamma\nALPHABET\nbeta-max\n' > root/data/words.txt
gzip -9n < root/data/words.txt > root/data/words.txt.gz
for f in a1 a2 b1; do echo "$f" > "root/data/$f.txt"; done
echo sub > root/data/sub/inner.txt
: > root/data/empty
python3 -c 'import random; r = random.Random(7); open("root/data/random.bin", "wb").write(bytes(r.getrandbits(8) for _ in range(300000)))'
echo 'hello from alice' > root/home/alice/notes.txt
chown -R 1000:1000 root/home/alice
chmod 0600 root/home/alice/notes.txt
ln -s /etc/hostname root/links/abs
ln -s ../data/lines.txt root/links/rel
ln -s /data root/links/datadir
ln -s /nonexistent root/links/dangling
mkfifo root/data/fifo
truncate -s 16G root/var/big.sparse
echo 'set timeout=5' > boot/grub/grub.cfg
echo 'not a kernel' > boot/vmlinuz-6.1.0
find root boot -depth -exec touch -h -d "$STAMP" {} +

# GPT, MiB: 1-17 /boot, 17-57 /, 57-63 swap
truncate -s 64M disk.img
mke2fs -q -F -t ext4 -U $BOOT_UUID -L boot -E offset=$((1 << 20)),hash_seed=$SEED \
    -d boot disk.img 16M
mke2fs -q -F -t ext4 -U $ROOT_UUID -L root -N 256 -E offset=$((17 << 20)),hash_seed=$SEED \
    -d root disk.img 40M
dd if=/dev/zero of=swap.tmp bs=1M count=6 status=none
mkswap -q -U $SWAP_UUID -L swap swap.tmp >/dev/null
dd if=swap.tmp of=disk.img bs=1M seek=57 conv=notrunc status=none
rm -f swap.tmp
# the table last: mke2fs clears the start of the image
sgdisk -U 6f5e0000-0000-4000-8000-0000000000ff \
    -n 1:1M:+16M -c 1:boot -t 1:8300 -u 1:6f5e0000-0000-4000-8000-0000000000a1 \
    -n 2:17M:+40M -c 2:root -t 2:8300 -u 2:6f5e0000-0000-4000-8000-0000000000a2 \
    -n 3:57M:+6M -c 3:swap -t 3:8200 -u 3:6f5e0000-0000-4000-8000-0000000000a3 disk.img >/dev/null
qemu-img convert -q -f raw -O qcow2 disk.img disk.qcow2

# MBR with one ext2 partition
truncate -s 12M mbr.img
printf 'label: dos\nlabel-id: 0x6f5e0001\nstart=2048, size=20480, type=83\n' | sfdisk -q mbr.img
mke2fs -q -F -t ext2 -U $DATA_UUID -L data -E offset=$((2048 * 512)),hash_seed=$SEED \
    -d root/data mbr.img 10M
echo done
