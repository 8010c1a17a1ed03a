#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Seeds for the xfs fuzz target: small trees made into XFS images by
# mkfs.xfs -p (no mount needed), attributes added with xfs_db, each image
# kept as its non-zero sectors (the format tests/fuzz/xfs.c reads).
set -eu
c=${1:?usage: seeds-xfs.sh CORPUS}
command -v mkfs.xfs >/dev/null && command -v xfs_db >/dev/null || exit 0
w=$(mktemp -d)
trap 'mountpoint -q "$w/mnt" 2>/dev/null && umount "$w/mnt"; rm -rf "$w"' EXIT
mkdir -p "$w/src"
echo hello >"$w/src/hello"
head -c 9000 /etc/services >"$w/src/text" 2>/dev/null || seq 1 2000 >"$w/src/text"
: >"$w/src/empty"
proto() {
{
    echo /dev/null; echo 0 0; echo d--755 0 0
    echo " hello ---644 0 0 $w/src/hello"
    echo " text ---600 1000 100 $w/src/text"
    echo " short l--777 0 0 hello"
    echo " long l--777 0 0 $(printf 'y%.0s' $(seq 1 500))"
    echo " null c--666 0 0 1 3"
    echo " fifo p--644 0 0"
    # a block-form directory; a leaf-form one (long names fill a block
    # quickly); with 512-byte directory blocks, the node form
    echo " block d--755 0 0"
    for k in $(seq 1 10); do echo "  f$k ---644 0 0 $w/src/empty"; done
    echo "  \$"
    echo " leaf d--755 0 0"
    for k in $(seq 1 24); do echo "  $(printf 'n%.0s' $(seq 1 180))$k ---644 0 0 $w/src/empty"; done
    echo "  \$"
    echo "\$"
} >"$w/proto"
}
n=0
# kept as the fuzz input format: u64 size, then (u32 sector, u16 count,
# data) for each run of non-zero sectors
sparse() { # IMAGE SEED
    python3 - "$1" "$2" <<'EOF'
import struct, sys, os
src, dst = sys.argv[1], sys.argv[2]
size = os.path.getsize(src)
out = [struct.pack('<Q', size)]
run = None
with open(src, 'rb') as f:
    sect = 0
    while True:
        chunk = f.read(1 << 20)
        if not chunk:
            break
        for k in range(0, len(chunk), 512):
            s = chunk[k:k + 512]
            if s.count(0) != len(s):
                if run and run[0] + len(run[1]) // 512 == sect and len(run[1]) < 65535 * 512:
                    run[1].extend(s)
                else:
                    if run:
                        out.append(struct.pack('<IH', run[0], len(run[1]) // 512) + bytes(run[1]))
                    run = [sect, bytearray(s)]
            sect += 1
if run:
    out.append(struct.pack('<IH', run[0], len(run[1]) // 512) + bytes(run[1]))
open(dst, 'wb').write(b''.join(out))
EOF
}
proto
n=0
for opts in "-m crc=1 -i nrext64=1" "-m crc=0 -b size=512" "-m crc=1 -b size=1024"; do
    rm -f "$w/img"
    truncate -s 300M "$w/img"
    mkfs.xfs -q -f $opts -d agcount=2 -p "$w/proto" "$w/img" >/dev/null 2>&1 || continue
    # (xfs_db 6.1 crashes on some of these with 512-byte blocks: no attributes then)
    (xfs_db -x -c "path /hello" -c "attr_set -v 5 a" -c "attr_set -r -v 3 t" \
        -c "path /text" -c "attr_set -v 3000 big" "$w/img") >/dev/null 2>&1 || true
    sparse "$w/img" "$c/seed$n"
    n=$((n + 1))
done
# node-form directory and attributes, through the kernel: one inode with
# many names keeps the image small
if [ "$(id -u)" = 0 ] && mkdir -p "$w/mnt" && rm -f "$w/img" && truncate -s 300M "$w/img" &&
    mkfs.xfs -q -f -d agcount=2 "$w/img" && mount -o loop "$w/img" "$w/mnt" 2>/dev/null; then
    mkdir "$w/mnt/node"
    echo x >"$w/mnt/node/file"
    for k in $(seq 1 600); do ln "$w/mnt/node/file" "$w/mnt/node/link-$k"; done
    for k in $(seq 1 150); do setfattr -n "user.attribute-$k" -v "value-$k" "$w/mnt/node/file"; done
    umount "$w/mnt"
    # a fresh log (the transactions above filled megabytes of it)
    xfs_db -x -c logformat "$w/img" >/dev/null
    sparse "$w/img" "$c/seed$n"
fi
