#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# btrfs-hostile.sh OUTDIR: damaged and crafted copies of the btrfs fixture's
# images (test-images/btrfs.sh).  Tree blocks are found by scanning for
# blocks that carry the filesystem's fsid; after a change their crc32c is
# made right again (both DUP copies changed alike), so the parsers behind
# the checksum see the damage, as with a deliberately crafted image.
# Every image is a qcow2 overlay of the fixture's raw image holding only
# the changed blocks.
#
#   mut-NNN.qcow2     random damage (1 to 4 changes) to tree blocks of
#                    kern.img or rootdir.img: bit flips, item offsets and
#                    sizes, item counts, child pointers (to themselves, to
#                    their parent), keys, and fields of file extents, dir
#                    items, inodes, root items and chunk items
#   csum-one-copy.qcow2  one DUP copy of the fs tree root flipped, crc32c not
#                       fixed: the other copy must be read, silently
#   csum-both.qcow2   both copies flipped: a clear checksum error
#   super-primary.qcow2  the primary superblock broken: the 64 MiB mirror
#   super-all.qcow2   every superblock broken: refused
#   sysarray.qcow2    the system chunk array garbled (checksum fixed)
#   inline-zero.qcow2 an uncompressed inline extent of a small file of
#                    rootdir.img that claims 0 bytes (checksum fixed)
#   zstd-bad.qcow2 zlib-bad.qcow2 lzo-bad.qcow2   the compressed bytes of
#                    @data/ALG/text.txt overwritten: reading it fails
#   *.files          paths worth reading in each image
#   base.stamp       size and mtime of the base images: the overlays are
#                    only good over the very images they were made on
set -euo pipefail
OUT=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
"$here/build-all.sh" "$(dirname "$OUT")" btrfs >/dev/null
SRC=$(dirname "$OUT")/btrfs
mkdir -p "$OUT"
cd "$OUT"
rm -f ./*.qcow2 ./*.files ./*.patch ./*.blk
export LC_ALL=C PATH=/usr/sbin:/sbin:$PATH

# files to read in the images (regular files the kernel listed)
awk -F'|' '$1 == "-" && n++ < 60 { print $14 }' "$SRC/kern.oracle/list" > kern.files
awk -F'|' '$1 == "-" && $14 !~ /^\/many\// { print $14 }' "$SRC/rootdir.oracle/list" > rootdir.files

# physical offsets of the compressed extents of @data/ALG/text.txt
for alg in zstd zlib lzo; do
    ino=$(awk -F'|' -v p="/$alg/text.txt" '$14 == p { print $9 }' "$SRC/kern.oracle/list")
    btrfs inspect-internal dump-tree -t 258 "$SRC/kern.img" 2>/dev/null |
        awk -v ino="$ino" '$0 ~ "item [0-9]+ key \\(" ino " EXTENT_DATA" { f = 1; next }
             f && /disk byte/ { print $5; exit }' > "$alg.bytenr" || true
done

# the root of the @data subvolume's tree (258) now
root258=$(btrfs inspect-internal dump-tree -t 258 "$SRC/kern.img" 2>/dev/null | awk '/^(node|leaf) / { print $2; exit }' || true)

python3 - "$SRC" "$root258" <<'EOF'
import os, random, struct, sys
src = sys.argv[1]

T = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    T.append(c)
def crc32c(b, crc=0xffffffff):
    for x in b:
        crc = (crc >> 8) ^ T[(crc ^ x) & 0xff]
    return crc ^ 0xffffffff
def fixcsum(blk):
    return struct.pack('<I', crc32c(blk[32:])) + blk[4:]

class Patch:
    """The changes of one image: (physical offset, bytes), read back from
    the base where a later change of the same image overlaps."""
    def __init__(self, base, name):
        self.base, self.name, self.changes = base, name, {}
    def read(self, off, n):
        if off in self.changes:
            return self.changes[off]
        with open(self.base, 'rb') as f:
            f.seek(off); return f.read(n)
    def write(self, off, data):
        self.changes[off] = data
    def close(self):
        with open(self.name + '.patch', 'w') as lst:
            for i, (off, data) in enumerate(sorted(self.changes.items())):
                fn = '%s.%d.blk' % (self.name, i)
                open(fn, 'wb').write(data)
                lst.write('%s %d %s %d\n' % (os.path.basename(self.base), off, fn, len(data)))

def scan(path):
    """Tree blocks: {logical: [physical, ...]} and the geometry."""
    f = open(path, 'rb')
    f.seek(65536)
    sb = f.read(4096)
    fsid, nodesize = sb[32:48], struct.unpack_from('<I', sb, 148)[0]
    blocks = {}
    size = os.fstat(f.fileno()).st_size
    off = 0
    fd = f.fileno()
    while off < size:
        try:
            data_start = os.lseek(fd, off, os.SEEK_DATA)
        except OSError:
            break
        hole = os.lseek(fd, data_start, os.SEEK_HOLE)
        p = data_start - data_start % nodesize
        while p < hole:
            f.seek(p)
            b = f.read(nodesize)
            if len(b) == nodesize and b[32:48] == fsid and b[100] < 8:
                logical = struct.unpack_from('<Q', b, 48)[0]
                blocks.setdefault(logical, []).append(p)
            p += nodesize
        off = hole
    return nodesize, blocks

def items(b):
    n, level = struct.unpack_from('<I', b, 96)[0], b[100]
    return n, level

def mutate(b, rnd, nodesize):
    b = bytearray(b)
    n, level = items(b)
    kind = rnd.randrange(12)
    if kind == 0 or n == 0:                       # random byte flips anywhere past the csum
        for _ in range(rnd.randint(1, 8)):
            b[rnd.randrange(32, nodesize)] ^= 1 << rnd.randrange(8)
    elif kind == 1:                                # item count
        struct.pack_into('<I', b, 96, rnd.choice([0, n + 1, n * 2, 0xffffffff, nodesize // 25]))
    elif kind == 2:                                # level
        b[100] = rnd.choice([level + 1, max(level - 1, 0), 7, 8, 255])
    elif level == 0 and kind in (3, 4):            # item offset / size
        i = rnd.randrange(n)
        o = 101 + 25 * i
        field = 17 if kind == 3 else 21
        struct.pack_into('<I', b, o + field, rnd.choice([0, 1, nodesize, 0xffffffff,
                         struct.unpack_from('<I', b, o + field)[0] + rnd.randint(-40, 40) & 0xffffffff]))
    elif kind == 5:                                # keys out of order
        i = rnd.randrange(n)
        sz = 25 if level == 0 else 33
        o = 101 + sz * i
        b[o + rnd.randrange(17)] ^= 0xff
    elif level > 0 and kind in (6, 7):             # child pointers: self, garbage
        i = rnd.randrange(n)
        o = 101 + 33 * i + 17
        me = struct.unpack_from('<Q', b, 48)[0]
        struct.pack_into('<Q', b, o, rnd.choice([me, 0, 1, me + nodesize, 1 << 62]))
    elif level == 0:                               # item contents by type
        i = rnd.randrange(n)
        o = 101 + 25 * i
        typ = b[o + 8]
        off, size = struct.unpack_from('<II', b, o + 17)
        d = 101 + off
        if d + size > nodesize or size == 0:
            b[rnd.randrange(32, nodesize)] ^= 0x10
        elif typ == 108 and size >= 21:            # file extent
            fields = [(8, '<Q'), (16, 'B'), (20, 'B')] + ([(21, '<Q'), (29, '<Q'), (37, '<Q'), (45, '<Q')] if size >= 53 else [])
            fo, fmt = rnd.choice(fields)
            val = rnd.choice([0, 1, 3, 4, 255, 4096, 1 << 17, 1 << 40, (1 << 64) - 1])
            if fmt == 'B': val &= 0xff
            struct.pack_into(fmt, b, d + fo, val)
        elif typ in (84, 96, 24) and size >= 30:   # dir item / index / xattr
            fo = rnd.choice([25, 27, 29, 0, 8])
            if fo in (25, 27):
                struct.pack_into('<H', b, d + fo, rnd.choice([0, 255, 256, 4000, 65535]))
            else:
                b[d + fo] ^= rnd.choice([1, 0x80, 0xff])
        elif typ == 1 and size >= 160:             # inode
            fo, fmt = rnd.choice([(16, '<Q'), (24, '<Q'), (52, '<I'), (40, '<I'), (56, '<Q')])
            v = rnd.choice([0, 0o40755, 0o120777, 0o100644, 1 << 63, (1 << 64) - 1, 1 << 62])
            struct.pack_into(fmt, b, d + fo, v & (0xffffffff if fmt == '<I' else (1 << 64) - 1))
        elif typ == 132 and size >= 239:           # root item
            fo, fmt = rnd.choice([(176, '<Q'), (168, '<Q'), (238, 'B')])
            struct.pack_into(fmt, b, d + fo, rnd.choice([0, 1, 4096, 255, 1 << 50]) & (0xff if fmt == 'B' else (1 << 64) - 1))
        elif typ == 228 and size >= 80:            # chunk item
            fo, fmt = rnd.choice([(0, '<Q'), (16, '<Q'), (24, '<Q'), (44, '<H'), (48 + 8, '<Q')])
            struct.pack_into(fmt, b, d + fo, rnd.choice([0, 1, 3, 65536, 1 << 40, (1 << 16) - 1]) & ((1 << 16) - 1 if fmt == '<H' else (1 << 64) - 1))
        else:
            for _ in range(3):
                b[d + rnd.randrange(size)] ^= 1 << rnd.randrange(8)
    else:
        b[rnd.randrange(101, nodesize)] ^= 0x5a
    return fixcsum(bytes(b))

rnd = random.Random(20240613)
count = 0
for base, n in (('kern', 70), ('rootdir', 40)):
    path = os.path.join(src, base + '.img')
    nodesize, blocks = scan(path)
    logicals = sorted(blocks)
    for k in range(n):
        name = 'mut-%03d' % count
        pt = Patch(path, name)
        for _ in range(rnd.randint(1, 4)):
            lg = rnd.choice(logicals)
            b = mutate(pt.read(blocks[lg][0], nodesize), rnd, nodesize)
            for p in blocks[lg]:
                pt.write(p, b)
        pt.close()
        os.symlink(base + '.files', name + '.files')
        count += 1

# one copy / both copies of the fs tree root flipped, checksums left wrong
path = os.path.join(src, 'kern.img')
nodesize, blocks = scan(path)
lg = int(sys.argv[2])
for name, ncopies in (('csum-one-copy', 1), ('csum-both', 2)):
    pt = Patch(path, name)
    for p in blocks[lg][:ncopies]:
        b = bytearray(pt.read(p, nodesize)); b[200] ^= 0x20; pt.write(p, bytes(b))
    pt.close()
    os.symlink('kern.files', name + '.files')

# superblocks
for name, offs in (('super-primary', [65536]), ('super-all', [65536, 64 << 20])):
    pt = Patch(path, name)
    for o in offs:
        b = bytearray(pt.read(o, 4096)); b[64:72] = b'XXXXXXXX'; pt.write(o, bytes(b))
    pt.close()
    os.symlink('kern.files', name + '.files')
pt = Patch(path, 'sysarray')
sb = bytearray(pt.read(65536, 4096))
for i in range(811, 811 + 97):
    sb[i] ^= rnd.randrange(256)
pt.write(65536, fixcsum(bytes(sb)))
pt.close()
os.symlink('kern.files', 'sysarray.files')

# an inline extent of a regular file of rootdir.img claiming 0 bytes
path = os.path.join(src, 'rootdir.img')
files = {}
for line in open(os.path.join(src, 'rootdir.oracle', 'list')):
    f = line.rstrip('\n').split('|')
    if f[0] == '-' and 0 < int(f[2]) < 2000:
        files.setdefault(int(f[8]), f[13])
nodesize, blocks = scan(path)
done = False
for lg in sorted(blocks):
    with open(path, 'rb') as f:
        f.seek(blocks[lg][0])
        b = bytearray(f.read(nodesize))
    n, level = items(b)
    if level != 0 or struct.unpack_from('<Q', b, 88)[0] != 5:
        continue
    for i in range(min(n, nodesize // 25)):
        o = 101 + 25 * i
        objectid, typ = struct.unpack_from('<Q', b, o)[0], b[o + 8]
        off, size = struct.unpack_from('<II', b, o + 17)
        d = 101 + off
        if typ != 108 or size <= 21 or d + size > nodesize or objectid not in files:
            continue
        if b[d + 20] != 0 or b[d + 16] != 0:
            continue
        struct.pack_into('<Q', b, d + 8, 0)
        pt = Patch(path, 'inline-zero')
        for p in blocks[lg]:
            pt.write(p, fixcsum(bytes(b)))
        pt.close()
        with open('inline-zero.files', 'w') as f:
            f.write(files[objectid] + '\n')
        done = True
        break
    if done:
        break
if not done:
    sys.exit('btrfs-hostile: no inline extent found in rootdir.img')
EOF

# compressed bytes overwritten (data is not checksummed by us: the
# decompressor must notice)
for alg in zstd zlib lzo; do
    # the data chunks are single: physical = stripe offset + offset in the chunk
    phys=$(btrfs inspect-internal dump-tree -t chunk "$SRC/kern.img" 2>/dev/null |
        awk -v l="$(cat $alg.bytenr)" '/CHUNK_ITEM/ { s = $6 + 0; sub(/\)/, "", s) }
             /length/ { len = $2 } /stripe 0 devid/ { if (l >= s && l < s + len) { print $6 + (l - s); exit } }' || true)
    # never a fixture that quietly corrupts nothing (the test would then
    # fail, or worse pass, for the wrong reason)
    [ -n "$phys" ] || { echo "btrfs-hostile: no compressed extent found for /$alg/text.txt" >&2; exit 1; }
    if [ -n "$phys" ]; then
        # seeded, so every build of the fixture tests the same bytes
        python3 -c 'import random, sys; r = random.Random(sys.argv[1]); sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(3000)))' "$alg" > "$alg-bad.0.blk"
        echo "kern.img $((phys + 8)) $alg-bad.0.blk 3000" > "$alg-bad.patch"
    fi
    printf '/%s/text.txt\n' "$alg" > "$alg-bad.files"
    rm -f "$alg.bytenr"
done

# the overlays
for p in *.patch; do
    name=${p%.patch}
    base=$(awk '{ print $1; exit }' "$p")
    qemu-img create -q -f qcow2 -b "$SRC/$base" -F raw "$name.qcow2"
    cmds=()
    while read -r _ off blk len; do
        cmds+=(-c "write -s $blk $off $len")
    done < "$p"
    qemu-io -f qcow2 "${cmds[@]}" "$name.qcow2" >/dev/null
    rm -f "$name".*.blk "$p"
done
stat -c '%n %s %Y' "$SRC/kern.img" "$SRC/rootdir.img" > base.stamp
echo done
