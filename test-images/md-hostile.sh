#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile md members for tests/bad-md.t: a good RAID1 (1.2) and RAID5
# (1.2, 3 members) made by lib-md.py, then copies with one superblock
# field forged and the checksum made right again (so that the parser's
# own checks are what refuses them):
#   csum-*        the checksum wrong
#   disks0-*      raid_disks 0          disks-huge-*  raid_disks 100000
#   chunk3-*      chunk of 3 sectors    level7-*      RAID level 7
#   off-*         data offset beyond the member
#   size-*        component size bigger than the data area
#   role-*        both RAID1 members claim slot 0
#   mixed-*       member 1 says raid5 where member 0 says raid1
#   reshape-*     a reshape in progress
#   maxdev-*      max_dev 100000
#   r5-*          a sound RAID5 (oracle: tree/)
set -euo pipefail
OUT=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$OUT"
rm -rf ./*.img tree
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p tree
printf 'hello from a hostile md\n' >tree/hello.txt
seq 1 50000 >tree/numbers.txt
mk() { # NAME LEVEL LAYOUT CHUNK MEMBERS...
    local name=$1 level=$2 layout=$3 chunk=$4
    shift 4
    local m
    for m in "$@"; do truncate -s 8M "$m"; done
    local size
    size=$(python3 "$HERE/lib-md.py" - 1.2 "$level" "$layout" "$chunk" $((8 << 20)) "gk:$name" \
        01234567-0123-0123-0123-0000000000aa 10 "$@")
    rm -f "$W/p"
    mke2fs -q -F -t ext4 -b 1024 -L "$name" -d tree "$W/p" $((size / 1024))
    python3 "$HERE/lib-md.py" "$W/p" 1.2 "$level" "$layout" "$chunk" $((8 << 20)) "gk:$name" \
        01234567-0123-0123-0123-0000000000aa 10 "$@" >/dev/null
}
mk r1 raid1 0 0 r1-0.img r1-1.img
mk r5 raid5 2 64 r5-0.img r5-1.img r5-2.img

cat >"$W/forge.py" <<'EOF'
import struct, sys
img, field, val = sys.argv[1], sys.argv[2], int(sys.argv[3], 0)
f = open(img, 'r+b')
f.seek(4096)
sb = bytearray(f.read(1024))
offs = {'disks': (92, '<I'), 'chunk': (88, '<I'), 'level': (72, '<i'), 'off': (128, '<Q'),
        'size': (80, '<Q'), 'role0': (256, '<H'), 'role1': (258, '<H'), 'features': (8, '<I'),
        'maxdev': (220, '<I'), 'csum': (216, '<I')}
o, fmt = offs[field]
struct.pack_into(fmt, sb, o, val)
if field != 'csum':
    n = 256 + 2 * min(struct.unpack_from('<I', sb, 220)[0], 384)
    s = sum(struct.unpack_from('<I', sb, i)[0] for i in range(0, n - n % 4, 4) if i != 216)
    struct.pack_into('<I', sb, 216, ((s & 0xffffffff) + (s >> 32)) & 0xffffffff)
f.seek(4096)
f.write(sb)
EOF
forge() { # NAME FIELD VALUE [MEMBER]: copies r1-0/r1-1 to NAME-0/1, forges member MEMBER (0)
    cp r1-0.img "$1-0.img"
    cp r1-1.img "$1-1.img"
    python3 "$W/forge.py" "$1-${4:-0}.img" "$2" "$3"
}
forge csum csum 0x12345678
forge disks0 disks 0
forge disks-huge disks 100000
forge chunk3 chunk 3
forge level7 level 7
forge off off 0x7fffffffffff
forge size size 0x7fffffffffff
forge role role1 0 1
forge reshape features 4
forge maxdev maxdev 100000
# member 1 claims raid5 (a consistent raid5 superblock, same UUID)
forge mixed level 5 1
python3 "$W/forge.py" mixed-1.img chunk 128
python3 "$W/forge.py" mixed-1.img size 8192
