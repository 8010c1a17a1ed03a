#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# An ESXi seSparse extent (qemu-img cannot make one; the layout is the one
# qemu 7.2's block/vmdk.c reads) holding what SRC holds:
#   mkvmdk-sesparse.py SRC OUT [DIRTY]
# Sector 0: the const header (magic 0xcafebabe, version 0x200000001,
# capacity, 8-sector grains, 64-sector grain tables, the offsets and sizes
# of the areas, in sectors); sector 1: the volatile header (0xcafecafe;
# DIRTY=1 sets replay_journal); the grain directory (64-bit entries:
# 0x1000000000000000 | table number, 0 for none); grain tables of 4096
# 64-bit entries: 0 unallocated, 0x1... unmapped and 0x2... zero grains
# (both read as zeros), 0x3... allocated, the grain number split as qemu
# reads it (bits 48-59 its low 12 bits, bits 0-47 the rest).  Grains all
# zeros get the three kinds in turn; a directory entry whose 16 MiB hold
# only zeros has no table.  Data grains are numbered from 4090 down the
# disk backwards (out of order, numbers past 4095 use both parts), the
# area before grain 4090 a hole.
import struct, sys
src, out = sys.argv[1], sys.argv[2]
dirty = len(sys.argv) > 3 and sys.argv[3] == "1"
data = open(src, "rb").read()
GRAIN, GTES = 8, 4096                    # sectors per grain, entries per table
gbytes = GRAIN * 512
sectors = (len(data) + gbytes - 1) // gbytes * GRAIN
data = data.ljust(sectors * 512, b"\0")
ngd = (sectors + GTES * GRAIN - 1) // (GTES * GRAIN)
gd_off, gd_size = 8, (ngd * 8 + 511) // 512
nonzero = [i for i in range(sectors // GRAIN) if data[i * gbytes:(i + 1) * gbytes].strip(b"\0")]
used_tables = [t for t in range(ngd)  # once per table, not once per grain
               if data[t * GTES * gbytes:(t + 1) * GTES * gbytes].strip(b"\0")]
gt_off = gd_off + gd_size
gt_size = len(used_tables) * 64
grains_off = gt_off + gt_size
base = 4090
ngrains = base + len(nonzero)
gd = [0] * ngd
tables = {}
for k, t in enumerate(used_tables):
    gd[t] = 0x1000000000000000 | k
    tables[t] = [0] * GTES
number = {g: base + n for n, g in enumerate(reversed(nonzero))}
for t in used_tables:
    for j in range(GTES):
        i = t * GTES + j
        if i >= sectors // GRAIN:
            break
        if i in number:
            n = number[i]
            tables[t][j] = 0x3000000000000000 | ((n & 0xfff) << 48) | (n >> 12)
        else:
            tables[t][j] = (0, 0x2000000000000000, 0x1000000000000000)[i % 3]
h = bytearray(512)
struct.pack_into("<26Q", h, 0,
                 0xcafebabe, 0x0000000200000001, sectors, GRAIN, 64, 0, 0, 0, 0, 0,
                 1, 1,                       # volatile header
                 2, 2, 4, 4,                 # journal header, journal (empty)
                 gd_off, gd_size, gt_off, gt_size,
                 0, 0, 0, 0,                 # free bitmap, backmap: none
                 grains_off, ngrains * GRAIN)
vh = bytearray(512)
struct.pack_into("<4Q", vh, 0, 0xcafecafe, len(used_tables), 1, 1 if dirty else 0)
with open(out, "wb") as f:
    f.write(h)
    f.write(vh)
    f.seek(gd_off * 512)
    f.write(struct.pack("<%dQ" % ngd, *gd))
    for k, t in enumerate(used_tables):
        f.seek((gt_off + k * 64) * 512)
        f.write(struct.pack("<%dQ" % GTES, *tables[t]))
    for i, n in number.items():
        f.seek((grains_off + n * GRAIN) * 512)
        f.write(data[i * gbytes:(i + 1) * gbytes])
    f.truncate((grains_off + ngrains * GRAIN) * 512)
