#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# mkvmdk-stream.py RAW OUT.vmdk [GRAIN_SECTORS]: a streamOptimized VMDK laid
# out as VMware's exporters write it (qemu-img cannot): the header says the
# grain directory is at the end (gdOffset = -1), grains are deflate streams
# behind grain markers, each grain table and the directory behind their
# markers, then the footer (a copy of the header with the real gdOffset)
# and the end-of-stream marker.  All-zero grains are left out.  Written
# from the VMDK 1.1 specification's layout; content is whatever RAW holds.
import struct, sys, zlib

raw, out = sys.argv[1], sys.argv[2]
grain = int(sys.argv[3]) if len(sys.argv) > 3 else 128
data = open(raw, "rb").read()
capacity = (len(data) + 511) // 512
gtes = 512
ngt = (capacity + grain * gtes - 1) // (grain * gtes)
desc = ('# Disk DescriptorFile\nversion=1\nCID=1234abcd\nparentCID=ffffffff\n'
        'createType="streamOptimized"\n\n# Extent description\n'
        'RW %d SPARSE "stream.vmdk"\n\n# The Disk Data Base\n#DDB\n\n'
        'ddb.adapterType = "lsilogic"\n' % capacity).encode()
desc_sectors = 20
overhead = 1 + desc_sectors

def header(gd):
    h = struct.pack("<4sIIQQQQIQQQB4sH", b"KDMV", 3, 0x30001, capacity, grain, 1,
                    desc_sectors, gtes, 0, gd, overhead, 0, b"\n \r\n", 1)
    return h.ljust(512, b"\0")

def marker(val, typ):
    return struct.pack("<QII", val, 0, typ).ljust(512, b"\0")

f = open(out, "wb")
f.write(header(0xffffffffffffffff))
f.write(desc.ljust(desc_sectors * 512, b"\0"))
gts = [[0] * gtes for _ in range(ngt)]
gbytes = grain * 512
for g in range((capacity + grain - 1) // grain):
    chunk = data[g * gbytes:(g + 1) * gbytes]
    if chunk.count(0) == len(chunk):
        continue
    sec = f.tell() // 512
    z = zlib.compress(chunk.ljust(gbytes, b"\0"), 6)
    rec = struct.pack("<QI", g * grain, len(z)) + z
    f.write(rec.ljust((len(rec) + 511) // 512 * 512, b"\0"))
    gts[g // gtes][g % gtes] = sec
gd = []
for t in gts:
    f.write(marker(gtes * 4 // 512, 1))
    gd.append(f.tell() // 512)
    f.write(struct.pack("<%dI" % gtes, *t))
f.write(marker((len(gd) * 4 + 511) // 512, 2))
gdsec = f.tell() // 512
f.write(struct.pack("<%dI" % len(gd), *gd).ljust((len(gd) * 4 + 511) // 512 * 512, b"\0"))
f.write(marker(1, 3))
f.write(header(gdsec))
f.write(marker(0, 0))
f.close()
