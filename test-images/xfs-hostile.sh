#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Corrupt XFS images for tests/bad-xfs.t.  Two small filesystems are made
# (v5 through the kernel: every directory and attribute form, a bmap btree,
# a remote symlink; v4 from a protofile), then each case is a copy with one
# structure damaged by xfs_db -x (which recomputes v5 CRCs, so the
# structure checks behind the CRC are reached) or by a raw byte flip (which
# the CRC must catch).  cases.txt: IMAGE  what was done.  repair.txt:
# xfs_repair -n's exit status for each (1: it finds the damage too).
set -euo pipefail
OUT=$(realpath "$1")
mkdir -p "$OUT"
cd "$OUT"
rm -f ./*.img cases.txt repair.txt
W=$(mktemp -d)
MNT=$W/mnt
mkdir -p "$MNT"
cleanup() {
    mountpoint -q "$MNT" && umount "$MNT"
    rm -rf "$W"
}
trap cleanup EXIT

# ---------------------------------------------------------------- bases
truncate -s 300M "$W/v5.img"
mkfs.xfs -q -f -d agcount=2 -m uuid=5c000000-0000-4000-8000-0000000000b5 "$W/v5.img"
mount -o loop,nouuid "$W/v5.img" "$MNT"
mkdir "$MNT/sf" "$MNT/block" "$MNT/leaf" "$MNT/node"
echo hi >"$MNT/sf/a"
for i in $(seq 1 30); do : >"$MNT/block/f$i"; done
for i in $(seq 1 300); do : >"$MNT/leaf/file-number-$i"; done
echo x >"$MNT/node/file"
for i in $(seq 1 700); do ln "$MNT/node/file" "$MNT/node/link-with-long-name-$i"; done
python3 - "$MNT" <<'EOF'
import os, sys
m = sys.argv[1]
with open(m + '/ext.bin', 'wb') as f:
    for i in range(60):
        f.seek(i * 8192); f.write(b'E' * 4096)
os.symlink('short', m + '/sl')
os.symlink('z' * 600, m + '/long')
for n, attrs in [('attrs', [('user.sf', b'1')]),
                 ('leafattrs', [('user.l%d' % i, b'v' * 60) for i in range(40)]),
                 ('nodeattrs', [('user.n%d' % i, b'val%d' % i) for i in range(300)]),
                 ('remote', [('user.big', b'R' * 20000)])]:
    open(m + '/' + n, 'w').write(n + '\n')
    for k, v in attrs:
        os.setxattr(m + '/' + n, k, v)
EOF
umount "$MNT"
xfs_db -x -c logformat "$W/v5.img" >/dev/null

src=$W/v4src
mkdir -p "$src"
echo v4 >"$src/f"
{
    echo /dev/null; echo 0 0; echo d--755 0 0
    echo " f ---644 0 0 $src/f"
    echo " long l--777 0 0 $(printf 'q%.0s' $(seq 1 400))"
    echo " block d--755 0 0"
    for i in $(seq 1 30); do echo "  f$i ---644 0 0 $src/f"; done
    echo "  \$"
    echo " leaf d--755 0 0"
    for i in $(seq 1 300); do echo "  file-number-$i ---644 0 0 $src/f"; done
    echo "  \$"
    echo "\$"
} >"$W/v4.proto"
truncate -s 300M "$W/v4.img"
mkfs.xfs -q -f -m crc=0 -d agcount=2 -p "$W/v4.proto" "$W/v4.img" 2>/dev/null

# ---------------------------------------------------------------- cases
# case_db NAME BASE PROBE WHAT xfs_db-commands...  (PROBE: what must then
# fail, see tests/bad-xfs.t)
case_db() {
    local name=$1 base=$2 probe=$3 what=$4
    shift 4
    cp --sparse=always "$W/$base.img" "$name.img"
    local args=()
    # write -d: write invalid values anyway, with the CRC recomputed
    for c in "$@"; do args+=(-c "${c/#write /write -d }"); done
    xfs_db -x "${args[@]}" "$name.img" >"$W/db.out" 2>&1 || true
    if grep -qiE 'invalid|not found|bad |unknown|error' "$W/db.out"; then
        echo "case $name: xfs_db: $(head -3 "$W/db.out")" >&2
        exit 1
    fi
    printf '%s\t%s\t%s\n' "$name.img" "$probe" "$what" >>cases.txt
}
# case_flip NAME BASE PROBE WHAT PATH BLOCK-COMMAND: flip bytes 100..103 of
# the block xfs_db reaches, without fixing the CRC
case_flip() {
    local name=$1 base=$2 probe=$3 what=$4 path=$5 cmd=$6
    cp --sparse=always "$W/$base.img" "$name.img"
    local off
    off=$(xfs_db -r -c "path $path" -c "$cmd" -c "stack" "$name.img" |
        sed -nE 's/.*byte offset ([0-9]+).*/\1/p' | tail -1)
    [ -n "$off" ] || { echo "case $name: no offset" >&2; exit 1; }
    python3 - "$name.img" "$off" <<'EOF'
import sys
p, o = sys.argv[1], int(sys.argv[2])
with open(p, 'r+b') as f:
    f.seek(o + 100); b = bytearray(f.read(4))
    f.seek(o + 100); f.write(bytes(x ^ 0x5a for x in b))
EOF
    printf '%s\t%s\t%s\n' "$name.img" "$probe" "$what" >>cases.txt
}

case_db sb-agcount v5 open "superblock: no allocation groups" "sb 0" "write agcount 0"
case_db sb-blocksize v5 open "superblock: block size not a power of two" "sb 0" "write blocksize 3000"
case_db sb-rootino v5 open "superblock: root inode outside the filesystem" "sb 0" "write rootino 4000000000"
case_db sb-dblocks v5 open "superblock: larger than the device" "sb 0" "write dblocks 99999999" \
    "write agcount 5300"
case_db sb-incompat v5 open "superblock: unknown incompatible feature" "sb 0" "write features_incompat 0x80000000"
case_db ino-format v5 ls "inode: unknown data fork format" "path /sf" "write core.format 7"
case_db ino-magic v5 ls "inode: bad magic (CRC fixed)" "path /block" "write core.magic 0"
case_db ino-nextents v5 ls "inode: more extents than the fork holds" "path /block" "write core.nextents 200"
case_db ino-forkoff v5 ls "inode: attribute fork offset past the inode" "path /attrs" "write core.forkoff 60"
case_db ino-mode v5 ls "inode: no file type" "path /leaf" "write core.mode 0777"
case_db ino-size-link v5 ls "inode: symlink longer than its fork" "path /sl" "write core.size 5000"
case_db sfdir-count v5 ls "shortform directory: count past the end" "path /sf" "write u3.sfdir3.hdr.count 200"
case_db sfdir-namelen v5 ls "shortform directory: entry runs past the end" "path /sf" \
    "write u3.sfdir3.list[0].namelen 250"
case_db ext-outside v5 ls "extent outside the filesystem" "path /block" "write u3.bmx[0].startblock 99999999"
case_db ext-zero v5 ls "extent of no blocks" "path /block" "write u3.bmx[0].blockcount 0"
case_db bmbt-level v5 ls "bmap btree root: level 30" "path /ext.bin" "write u3.bmbt.level 30"
case_db bmbt-ptr v5 ls "bmap btree root points at the superblock" "path /ext.bin" "write u3.bmbt.ptrs[1] 0"
case_db bmbt-numrecs v5 ls "bmap btree leaf: too many records" "path /ext.bin" "addr u3.bmbt.ptrs[1]" \
    "write numrecs 5000"
case_db bmbt-order v5 ls "bmap btree leaf: records out of order" "path /ext.bin" "addr u3.bmbt.ptrs[1]" \
    "write recs[5].startoff 0"
case_db bmbt-owner v5 ls "bmap btree leaf: another inode's block" "path /ext.bin" "addr u3.bmbt.ptrs[1]" \
    "write owner 128"
case_db dirblk-namelen v5 ls "block directory: entry of no name" "path /block" "dblock 0" "write bu[3].namelen 0"
case_db dirblk-count v5 ls "block directory: hash count past the block" "path /block" "dblock 0" \
    "write btail.count 9999"
case_db dirdata-free v5 ls "data block: an entry's inode number out of range" "path /leaf" "dblock 0" \
    "write du[2].inumber 0xffff000300000000"
case_db dirleaf-count v5 cat:/leaf "leaf block: count past the block" "path /leaf" "dblock 8388608" "write lhdr.count 9999"
case_db dirleaf-addr v5 cat:/leaf "leaf block: hash entries point nowhere" "path /leaf" "dblock 8388608" \
    "write lents[10].address 0xfffffff" "write lents[11].address 3" "write lents[12].address 0x1fffff"
case_db danode-loop v5 cat:/node "directory node points to itself" "path /node" "dblock 8388608" \
    "write nbtree[0].before 8388608" "write nbtree[1].before 8388608"
case_db danode-level v5 cat:/node "directory node: level 9" "path /node" "dblock 8388608" "write nhdr.level 9"
case_db leafn-forw v5 missing:/node "directory leaves: sibling loop" "path /node" "dblock 8388609" \
    "write lhdr.info.hdr.forw 8388609"
case_db attrsf-size v5 xattr:/attrs "shortform attributes: size past the fork" "path /attrs" "write a.sfattr.hdr.totsize 2000"
case_db attrsf-namelen v5 xattr:/attrs "shortform attributes: entry past the end" "path /attrs" \
    "write a.sfattr.list[0].namelen 200"
case_db attrleaf-count v5 xattr:/leafattrs "attribute leaf: count past the block" "path /leafattrs" "ablock 0" "write hdr.count 5000"
case_db attrleaf-idx v5 xattr:/leafattrs "attribute leaf: name at the end of the block" "path /leafattrs" "ablock 0" \
    "write entries[0].nameidx 4095"
case_db attrnode-loop v5 xattr:/nodeattrs "attribute node points to itself" "path /nodeattrs" "ablock 0" "write btree[0].before 0"
case_db attrrmt-blk v5 xattr:/remote "remote value in an unmapped block" "path /remote" "ablock 0" \
    "write nvlist[0].valueblk 999"
case_db attrrmt-len v5 xattr:/remote "remote value larger than 64 KiB" "path /remote" "ablock 0" \
    "write nvlist[0].valuelen 1000000"
case_db symlink-hdr v5 ls "remote symlink: header offset wrong" "path /long" "dblock 0" "write offset 7"
case_flip flip-inode v5 ls "inode: bytes flipped (CRC)" /block "print core.magic"
case_flip flip-dirblk v5 ls "block directory: bytes flipped (CRC)" /block "dblock 0"
case_flip flip-bmbt v5 ls "bmap btree leaf: bytes flipped (CRC)" /ext.bin "addr u3.bmbt.ptrs[1]"
case_flip flip-attr v5 xattr:/leafattrs "attribute leaf: bytes flipped (CRC)" /leafattrs "ablock 0"
case_flip flip-symlink v5 ls "remote symlink: bytes flipped (CRC)" /long "dblock 0"
# v4: no CRC, the structure checks alone
case_db v4-dirblk v4 ls "v4 block directory: entry of no name" "path /block" "dblock 0" "write bu[3].namelen 0"
case_db v4-dirleaf v4 cat:/leaf "v4 leaf block: count past the block" "path /leaf" "dblock 8388608" "write lhdr.count 9999"
case_db v4-ext v4 ls "v4 extent outside the filesystem" "path /f" "write u.bmx[0].startblock 99999999"
case_db v4-sfdir v4 ls "v4 root: shortform count past the end" "path /" "write u.sfdir3.hdr.count 200"
case_flip v4-flip-dirblk v4 ls "v4 block directory: bytes flipped" /block "dblock 0"
case_flip v4-flip-inode v4 none "v4 inode: bytes flipped" /f "print core.magic"
# the log: garbage over its start
cp --sparse=always "$W/v5.img" log-garbage.img
logstart=$(xfs_db -r -c "sb 0" -c "print logstart" log-garbage.img | sed -nE 's/.* = //p')
bs=$(xfs_db -r -c "sb 0" -c "print blocksize" log-garbage.img | sed -nE 's/.* = //p')
python3 - log-garbage.img "$logstart" "$bs" <<'EOF'
import sys, random
p, start, bs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
agblocks = None
r = random.Random(7)
with open(p, 'r+b') as f:
    # logstart is an fs block number (AG 0 here: the same as a block offset)
    f.seek(start * bs)
    for i in range(256):
        f.write(bytes([0xfe, 0xed, 0xba, 0xbe]) + r.randbytes(508))
EOF
printf '%s\t%s\t%s\n' log-garbage.img none "log: record magics over random bytes" >>cases.txt

# random damage: bytes changed in metadata blocks (the non-zero ones of the
# small bases), then on v5 the CRCs of the damaged inodes, directory,
# attribute, bmap btree and symlink blocks recomputed so that the checks
# behind them are reached
python3 - "$W/v5.img" "$W/v4.img" >>cases.txt <<'EOF'
import random, struct, sys

def crc32c_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t
T = crc32c_table()
def crc32c(b):
    c = 0xffffffff
    for x in b:
        c = T[(c ^ x) & 0xff] ^ (c >> 8)
    return c ^ 0xffffffff

def fix_crc(img, off, bs):
    """recompute the CRC of the v5 structure at off, if it is one we know"""
    img.seek(off); b = bytearray(img.read(bs))
    m32 = b[0:4]; m16 = b[8:10]
    if b[0:2] == b'IN' and b[4] == 3:
        ln, co = 512, 100
    elif m32 in (b'XDB3', b'XDD3', b'XDF3'):
        ln, co = bs, 4
    elif m16 in (b'\x3e\xbe', b'\x3d\xf1', b'\x3d\xff', b'\x3b\xee'):
        ln, co = bs, 12
    elif m32 == b'BMA3':
        ln, co = bs, 64
    elif m32 in (b'XSLM', b'XARM'):
        ln, co = bs, 12
    else:
        return
    b[co:co + 4] = b'\0\0\0\0'
    b[co:co + 4] = struct.pack('<I', crc32c(bytes(b[:ln])))
    img.seek(off); img.write(bytes(b[:ln]))

for base, tag, crc in ((sys.argv[1], 'v5', True), (sys.argv[2], 'v4', False)):
    data = open(base, 'rb').read()
    # 512-byte units that hold something, outside the superblocks' sector
    used = [i for i in range(1, len(data) // 512) if data[i * 512:(i + 1) * 512].count(0) != 512]
    for n in range(16):
        r = random.Random(1000 * n + (5 if crc else 4))
        name = 'mut-%s-%02d.img' % (tag, n)
        with open(name, 'wb') as img:           # a sparse copy
            img.truncate(len(data))
            for i in used + [0]:
                img.seek(i * 512); img.write(data[i * 512:(i + 1) * 512])
        with open(name, 'r+b') as img:
            touched = set()
            for _ in range(r.choice((1, 3, 12))):
                sect = r.choice(used)
                off = sect * 512 + r.randrange(512)
                img.seek(off); v = img.read(1)[0]
                img.seek(off); img.write(bytes([v ^ (1 << r.randrange(8)) if r.random() < .7 else r.randrange(256)]))
                touched.add(sect)
            if crc:
                for sect in touched:
                    # the inode holding the byte, or the 4 KiB block
                    fix_crc(img, sect * 512, 512)
                    fix_crc(img, sect * 512 // 4096 * 4096, 4096)
        print('%s\tnone\trandom bytes changed%s' % (name, ', CRCs recomputed' if crc else ''))
EOF

for f in $(cut -f1 cases.txt); do
    rc=0
    (xfs_repair -n "$f") >/dev/null 2>&1 || rc=$?
    printf '%s\t%s\n' "$f" "$rc" >>repair.txt
done
# names that hash past every entry of /node (for a lookup that walks on
# along the leaves), by xfs_db's own hash
max=$(xfs_db -r -c "ls /node" "$W/v5.img" | awk '{print $4}' | grep '^0x' | sort | tail -n 1)
args=()
for i in $(seq 800 830); do args+=(-c "hash name-$i-a"); done
xfs_db -r "${args[@]}" "$W/v5.img" | paste - <(seq 800 830) |
    while read -r h k; do if (( h > max )); then echo "name-$k-a"; fi; done >high-names.txt
[ -s high-names.txt ]
cp --sparse=always "$W/v5.img" base-v5.img
cp --sparse=always "$W/v4.img" base-v4.img
ls -ls
