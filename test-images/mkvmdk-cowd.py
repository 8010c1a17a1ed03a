#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# A VMFS sparse extent (COWD, as ESX writes redo logs; qemu-img cannot make
# one) holding what SRC holds: mkvmdk-cowd.py SRC OUT [GRANULARITY]
# Header: "COWD", version 1, flags 3, capacity, granularity (sectors per
# grain), grain directory sector and entries; grain tables of 4096 entries.
# Grains that are all zeros are left out; tables and grains are stored
# from the end of the disk backwards (out of order, as a redo log fills).
import struct, sys
src, out = sys.argv[1], sys.argv[2]
gran = int(sys.argv[3]) if len(sys.argv) > 3 else 8
data = open(src, "rb").read()
sectors = (len(data) + 511) // 512
data = data.ljust(sectors * 512, b"\0")
gbytes, gtes = gran * 512, 4096
ngd = (sectors + gtes * gran - 1) // (gtes * gran)
gd_sec = 4
nxt = gd_sec + (ngd * 4 + 511) // 512
gd, tables, body = [0] * ngd, {}, []
grains = [(i, data[i * gbytes:(i + 1) * gbytes]) for i in range(sectors // gran)]
for i, g in reversed(grains):
    if not g.strip(b"\0"):
        continue
    t = i // gtes
    if t not in tables:
        tables[t] = [0] * gtes
        gd[t] = nxt
        body.append((nxt, None, t))
        nxt += gtes * 4 // 512
    tables[t][i % gtes] = nxt
    body.append((nxt, g, None))
    nxt += gran
h = bytearray(512)
h[0:4] = b"COWD"
struct.pack_into("<IIIIIII", h, 4, 1, 3, sectors, gran, gd_sec, ngd, nxt)
with open(out, "wb") as f:
    f.write(h)
    f.seek(gd_sec * 512)
    f.write(struct.pack("<%dI" % ngd, *gd))
    for sec, g, t in body:
        f.seek(sec * 512)
        f.write(g if g is not None else struct.pack("<%dI" % gtes, *tables[t]))
    f.truncate(nxt * 512)
