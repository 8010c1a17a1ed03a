#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Damaged copies of one qcow2 image, for tests/15-gimg-damaged.t: each
# changes one header field, header extension or table entry to a value a
# damaged or hostile file may hold (or cuts the file short), the way issue
# 18's differential run against qemu-img found gimg info failing where
# qemu-img describes the image.  Deterministic: the same names and bytes
# every run.  Usage: qcow2-damage.py BASE.qcow2 OUTDIR; prints the names.
import os
import struct
import sys

base, out = sys.argv[1], sys.argv[2]
img = open(base, 'rb').read()

def be(fmt, off):
    return struct.unpack_from('>' + fmt, img, off)[0]

cluster = 1 << be('I', 20)
l1_off, rt_off, snap_off = be('Q', 40), be('Q', 48), be('Q', 64)
hdr_len = be('I', 100)
first_l2 = be('Q', l1_off) & 0x00fffffffffffe00
rb0 = be('Q', rt_off)

# One table of (name, offset, how, value).  how is a struct format (value
# is packed big-endian at offset) or the raw bytes to put there (value
# None); offset CUT cuts the file to value bytes.  Written a field at a
# time: at(OFFSET, FORMAT, PREFIX, (SUFFIX, VALUE), ...) is one case per
# value, named PREFIX-SUFFIX.
CUT = None


def at(off, how, prefix, *values):
    return [(prefix + '-' + suffix, off, how, value) for suffix, value in values]


eof = len(img)
cases = [
    # header fields
    *at(8, 'Q', 'backing-offset', ('past-eof', eof + 4 * cluster)),
    *at(16, 'I', 'backing-size', ('zero', 0), ('1024', 1024), ('past-cluster', 1000)),
    *at(20, 'I', 'cluster-bits', ('8', 8), ('22', 22), ('21', 21)),
    *at(24, 'Q', 'size', ('zero', 0), ('odd', 4 * 1048576 + 1000), ('huge', 1 << 62),
        ('2-63', 1 << 63), ('grown', 64 << 30)),
    *at(32, 'I', 'crypt', ('aes', 1), ('luks', 2), ('unknown', 3)),
    *at(36, 'I', 'l1-size', ('zero', 0), ('huge', 0x2000000), ('max', 0xffffffff)),
    *at(40, 'Q', 'l1-offset', ('unaligned', l1_off + 512), ('zero', 0), ('past-eof', 1 << 40)),
    *at(48, 'Q', 'refcount-table', ('unaligned', rt_off + 8), ('zero', 0), ('past-eof', 1 << 40)),
    *at(56, 'I', 'refcount-clusters', ('zero', 0), ('huge', 0x1000000)),
    # qemu-img takes 10 s CPU for 65536 snapshots: "many" is 100
    *at(60, 'I', 'snapshots', ('many', 100), ('too-many', 70000)),
    *at(64, 'Q', 'snapshots', ('past-eof', 1 << 40), ('past-2-63', (1 << 63) - cluster),
        ('unaligned', snap_off + 1)),
    *at(60, 'I', 'snapshots', ('zero-count', 0)),
    *at(72, 'Q', 'incompat', ('dirty', 1), ('corrupt', 2), ('data-file', 4), ('compression', 8),
        ('extended-l2', 16), ('unknown', 1 << 10)),
    *at(80, 'Q', 'compat', ('lazy-refcounts', 1), ('unknown', 1 << 20)),
    *at(88, 'Q', 'autoclear', ('bitmaps', 1), ('data-raw', 2), ('unknown', 1 << 30)),
    *at(96, 'I', 'refcount-order', ('0', 0), ('6', 6), ('7', 7)),
    *at(100, 'I', 'header-length', ('small', 72), ('odd', 105), ('big', cluster + 8)),
    *at(4, 'I', 'version', ('1', 1), ('2', 2), ('4', 4)),
    # header extensions (they start at header_length)
    *at(hdr_len, 'I', 'ext', ('unknown-type', 0x12345678)),
    *at(hdr_len + 4, 'I', 'ext', ('length-past-cluster', cluster)),
    *at(hdr_len + 8, b'qcowX', 'ext', ('backing-format-unknown', None)),
    *at(hdr_len, struct.pack('>II', 0x6803f857, 0x7fffffff), 'ext', ('end-missing', None)),
    # tables
    *at(l1_off, 'Q', 'l1-entry', ('past-eof', (1 << 63) | (1 << 40)),
        ('unaligned', (1 << 63) | (first_l2 + 512))),
    *at(first_l2, 'Q', 'l2-entry', ('past-eof', (1 << 63) | (1 << 40))),
    *at(rt_off, 'Q', 'refcount-block', ('past-eof', 1 << 40), ('zero', 0), ('unaligned', rb0 + 512)),
    # a snapshot table entry: L1 offset and size, ID size, VM state size,
    # extra data size (version 3 needs 16 bytes or more)
    *at(snap_off, 'Q', 'snapshot-l1', ('past-eof', 1 << 40)),
    *at(snap_off + 8, 'I', 'snapshot-l1-size', ('huge', 0x2000000)),
    *at(snap_off + 12, 'H', 'snapshot-id-size', ('huge', 0xffff)),
    *at(snap_off + 32, 'I', 'snapshot-vm-state-size', ('huge', 0xffffffff)),
    *at(snap_off + 36, 'I', 'snapshot-extra-size', ('huge', 0xffff0018), ('zero', 0), ('8', 8)),
    # the file cut short
    *at(CUT, None, 'cut', ('512', 512), ('header', 104), ('one-cluster', cluster),
        ('before-data', 3 * cluster), ('last-cluster', eof - cluster), ('odd', eof - 1000)),
]

os.makedirs(out, exist_ok=True)
for name, off, how, value in cases:
    if off is CUT:
        b = bytearray(img[:value])
    else:
        b = bytearray(img)
        data = struct.pack('>' + how, value) if isinstance(how, str) else how
        if off + len(data) > len(b):
            sys.exit('%s: patch outside the image' % name)
        b[off:off + len(data)] = data
    with open(os.path.join(out, name + '.qcow2'), 'wb') as f:
        f.write(b)
    print(name)
