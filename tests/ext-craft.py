#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Corrupt one ext4 image in place the way a crafted image would, for
# tests/34-ext-kernel.t: ext-craft.py IMAGE CASE rewrites the extent tree of
# /f (the kernel is the oracle of what each CASE must give).
import struct, subprocess, sys
img, case = sys.argv[1], sys.argv[2]
b = bytearray(open(img, 'rb').read())
u16 = lambda o: struct.unpack_from('<H', b, o)[0]
u32 = lambda o: struct.unpack_from('<I', b, o)[0]
sb = 1024
bs = 1024 << u32(sb + 0x18)
ipg = u32(sb + 0x28); isz = u16(sb + 0x58)
first = u32(sb + 0x14)
def dbg(cmd):
    return subprocess.run(['debugfs', '-R', cmd, img], capture_output=True, text=True).stdout
def ino_of(path):
    return int(dbg('stat ' + path).split('Inode: ')[1].split()[0])
def bmap(path, l):
    return int(dbg('bmap %s %d' % (path, l)).strip())
def inode_off(ino):
    g, i = (ino - 1) // ipg, (ino - 1) % ipg
    gd = (first + 1) * bs + g * (u16(sb + 0xfe) if u32(sb + 0x60) & 0x80 else 32)
    return u32(gd + 8) * bs + i * isz, u32(gd + 8)
f = ino_of('/f')
off, itable = inode_off(f)
P = bmap('/f', 0)
X = int(dbg('ffb 1 %d' % (P + 100)).split()[-1])
hdr = lambda n, mx, d: struct.pack('<HHHHI', 0xf30a, n, mx, d, 0)
leaf = lambda l, n, p: struct.pack('<IHHI', l, n, p >> 32, p & 0xffffffff)
idx = lambda l, p: struct.pack('<IIHH', l, p & 0xffffffff, p >> 32, 0)
perblk = (bs - 12) // 12
if case == 'order':
    root = hdr(2, 4, 0) + leaf(1, 1, P) + leaf(0, 1, P + 1)
elif case == 'hugelen':
    root = hdr(1, 4, 0) + leaf(0, 32768, P)
elif case == 'metadata':
    root = hdr(1, 4, 0) + leaf(0, 2, itable)
elif case == 'zerolen':
    root = hdr(1, 4, 0) + leaf(0, 0, P)
elif case == 'maxroot':
    root = hdr(1, 5, 0) + leaf(0, 2, P)
elif case == 'self':
    root = hdr(1, 4, 1) + idx(0, X)
    b[X * bs:X * bs + 24] = hdr(1, perblk, 1) + idx(0, X)
elif case == 'depth6':
    root = hdr(1, 4, 6) + idx(0, X)
    b[X * bs:X * bs + 24] = hdr(1, perblk, 5) + idx(0, X)
elif case == 'childkey':
    root = hdr(1, 4, 1) + idx(0, X)
    b[X * bs:X * bs + 24] = hdr(1, perblk, 0) + leaf(5, 1, P)
else:
    sys.exit('unknown case')
root = root + bytes(60 - len(root))
b[off + 0x28:off + 0x28 + 60] = root
open(img, 'wb').write(b)
