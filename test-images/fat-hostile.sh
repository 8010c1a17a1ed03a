#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Corrupt FAT images for tests/bad-fat.t, each a mkfs.vfat + mcopy image
# with one thing broken by a patch (python3 reads the geometry):
#   base16.img, base32.img   the intact images (FAT16, FAT32, 512 B clusters)
#   loop-file.img            a.txt's second cluster points back at its first
#   loop-dir.img             sub/'s chain loops onto itself
#   cycle.img                sub/inner/ is sub/ again (a directory cycle)
#   badnext.img              a.txt's chain continues to cluster 0x0ffffff0
#   bignum.img               a.txt claims 4 GiB - 1 bytes
#   zero-start.img           a.txt has a size but no first cluster
#   badlfn.img               the long name's checksum is wrong
#   badroot32.img            FAT32 root cluster 1
#   bpb-*.img                boot sectors the kernel refuses (sector size 0,
#                            3 sectors per cluster, no FATs, cluster count
#                            bigger than the FAT, root entries not filling
#                            sectors)
#   truncated.img            base16 cut after its first FAT
#   flips-N.img              random bit flips in the FATs and directories
set -euo pipefail
OUT=$(realpath "$1")
cd "$OUT"
rm -f ./*.img
export MTOOLS_SKIP_CHECK=1 LANG=C.UTF-8 LC_ALL=C.UTF-8 TZ=UTC
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/src/sub/inner"
head -c 1500 /usr/bin/mdir >"$W/src/a.txt"
echo b >"$W/src/sub/b.txt"
echo c >"$W/src/sub/inner/c.txt"
echo long >"$W/src/A long name for a file.txt"
truncate -s 8M base16.img
mkfs.vfat -F 16 -s 1 -n HOSTILE base16.img >/dev/null
mcopy -s -i base16.img "$W/src"/* ::/
truncate -s 40M base32.img
mkfs.vfat -F 32 -s 1 -n HOSTILE32 base32.img >/dev/null
mcopy -s -i base32.img "$W/src"/* ::/

# patch.py IMG ACTION: finds entries by their 8.3 names and patches them
cat >"$W/patch.py" <<'EOF'
import struct, sys, random
img, action = sys.argv[1], sys.argv[2]
f = open(img, 'r+b')
b = f.read(512)
ss, spc = struct.unpack_from('<H', b, 11)[0], b[13]
res, nf = struct.unpack_from('<H', b, 14)[0], b[16]
rootent = struct.unpack_from('<H', b, 17)[0]
fl16 = struct.unpack_from('<H', b, 22)[0]
fat32 = fl16 == 0
fatlen = struct.unpack_from('<I', b, 36)[0] if fat32 else fl16
fat = res * ss
rootdir = (res + nf * fatlen) * ss
data = rootdir + (0 if fat32 else rootent * 32)
cs = ss * spc
def coff(c): return data + (c - 2) * cs
def rd(o, n): f.seek(o); return f.read(n)
def wr(o, x): f.seek(o); f.write(x)
def setfat(c, v):
    for k in range(nf):
        base = fat + k * fatlen * ss
        if fat32: wr(base + 4 * c, struct.pack('<I', v))
        else: wr(base + 2 * c, struct.pack('<H', v & 0xffff))
def dir_off(first):
    return rootdir if first == 0 and not fat32 else coff(first if first else struct.unpack_from('<I', b, 44)[0])
def find(first, name83):
    o = dir_off(first)
    for i in range(256):
        e = rd(o + 32 * i, 32)
        if e[:11] == name83: return o + 32 * i, e
    raise SystemExit('not found: %r' % name83)
def start(e): return struct.unpack_from('<H', e, 26)[0] | (struct.unpack_from('<H', e, 20)[0] << 16 if fat32 else 0)
ao, ae = find(0, b'A       TXT')
so, se = find(0, b'SUB        ')
io, ie = find(start(se), b'INNER      ')
if action == 'loop-file':
    setfat(start(ae) + 1, start(ae))
elif action == 'loop-dir':
    setfat(start(se), start(se))
elif action == 'cycle':
    e = bytearray(ie); e[26:28] = struct.pack('<H', start(se) & 0xffff); wr(io, bytes(e))
elif action == 'badnext':
    setfat(start(ae), 0x0ffffff0 if fat32 else 0xfff0)
elif action == 'bignum':
    wr(ao + 28, struct.pack('<I', 0xffffffff))
elif action == 'zero-start':
    wr(ao + 26, b'\0\0'); wr(ao + 20, b'\0\0')
elif action == 'badlfn':
    lo, le = find(0, b'ALONGN~1TXT'); wr(lo - 32 + 13, bytes([rd(lo - 32 + 13, 1)[0] ^ 0xff]))
elif action == 'badroot32':
    wr(44, struct.pack('<I', 1))
elif action == 'bpb-ss0':
    wr(11, b'\0\0')
elif action == 'bpb-spc3':
    wr(13, b'\3')
elif action == 'bpb-nofat':
    wr(16, b'\0')
elif action == 'bpb-toomany':
    wr(22, struct.pack('<H', 1))
elif action == 'bpb-rootent':
    wr(17, struct.pack('<H', 7))
elif action.startswith('flips'):
    random.seed(int(action[5:]))
    end = data + 64 * cs
    for _ in range(40):
        o = random.randrange(fat, end)
        wr(o, bytes([rd(o, 1)[0] ^ (1 << random.randrange(8))]))
else:
    raise SystemExit('unknown action ' + action)
EOF
p() { # NAME BASE ACTION
    cp "$2" "$1.img"
    python3 "$W/patch.py" "$1.img" "$3"
}
for a in loop-file loop-dir cycle badnext bignum zero-start badlfn bpb-ss0 bpb-spc3 bpb-nofat \
    bpb-toomany bpb-rootent; do
    p "$a" base16.img "$a"
done
p loop-file32 base32.img loop-file
p cycle32 base32.img cycle
p badroot32 base32.img badroot32
head -c $((512 * 40)) base16.img >truncated.img
for i in 1 2 3 4 5 6; do p "flips-16-$i" base16.img "flips$i"; p "flips-32-$i" base32.img "flips$i"; done
