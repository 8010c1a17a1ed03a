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

# One table: (name, offset, how, value).  how is a struct format (value is
# packed big-endian at offset) or the raw bytes to put there (value None);
# offset CUT cuts the file to value bytes.
CUT = None
cases = [
    # header fields
    ('backing-offset-past-eof', 8, 'Q', len(img) + 4 * cluster),
    ('backing-size-zero', 16, 'I', 0),
    ('backing-size-1024', 16, 'I', 1024),
    ('backing-size-past-cluster', 16, 'I', 1000),
    ('cluster-bits-8', 20, 'I', 8),
    ('cluster-bits-22', 20, 'I', 22),
    ('cluster-bits-21', 20, 'I', 21),
    ('size-zero', 24, 'Q', 0),
    ('size-odd', 24, 'Q', 4 * 1048576 + 1000),
    ('size-huge', 24, 'Q', 1 << 62),
    ('size-2-63', 24, 'Q', 1 << 63),
    ('size-grown', 24, 'Q', 64 << 30),
    ('crypt-aes', 32, 'I', 1),
    ('crypt-luks', 32, 'I', 2),
    ('crypt-unknown', 32, 'I', 3),
    ('l1-size-zero', 36, 'I', 0),
    ('l1-size-huge', 36, 'I', 0x2000000),
    ('l1-size-max', 36, 'I', 0xffffffff),
    ('l1-offset-unaligned', 40, 'Q', l1_off + 512),
    ('l1-offset-zero', 40, 'Q', 0),
    ('l1-offset-past-eof', 40, 'Q', 1 << 40),
    ('refcount-table-unaligned', 48, 'Q', rt_off + 8),
    ('refcount-table-zero', 48, 'Q', 0),
    ('refcount-table-past-eof', 48, 'Q', 1 << 40),
    ('refcount-clusters-zero', 56, 'I', 0),
    ('refcount-clusters-huge', 56, 'I', 0x1000000),
    ('snapshots-many', 60, 'I', 100),  # qemu-img takes 10 s CPU for 65536
    ('snapshots-too-many', 60, 'I', 70000),
    ('snapshots-past-eof', 64, 'Q', 1 << 40),
    ('snapshots-past-2-63', 64, 'Q', (1 << 63) - cluster),
    ('snapshots-unaligned', 64, 'Q', snap_off + 1),
    ('snapshots-zero-count', 60, 'I', 0),
    ('incompat-dirty', 72, 'Q', 1),
    ('incompat-corrupt', 72, 'Q', 2),
    ('incompat-data-file', 72, 'Q', 4),
    ('incompat-compression', 72, 'Q', 8),
    ('incompat-extended-l2', 72, 'Q', 16),
    ('incompat-unknown', 72, 'Q', 1 << 10),
    ('compat-lazy-refcounts', 80, 'Q', 1),
    ('compat-unknown', 80, 'Q', 1 << 20),
    ('autoclear-bitmaps', 88, 'Q', 1),
    ('autoclear-data-raw', 88, 'Q', 2),
    ('autoclear-unknown', 88, 'Q', 1 << 30),
    ('refcount-order-0', 96, 'I', 0),
    ('refcount-order-6', 96, 'I', 6),
    ('refcount-order-7', 96, 'I', 7),
    ('header-length-small', 100, 'I', 72),
    ('header-length-odd', 100, 'I', 105),
    ('header-length-big', 100, 'I', cluster + 8),
    ('version-1', 4, 'I', 1),
    ('version-2', 4, 'I', 2),
    ('version-4', 4, 'I', 4),
    # header extensions (they start at header_length)
    ('ext-unknown-type', hdr_len, 'I', 0x12345678),
    ('ext-length-past-cluster', hdr_len + 4, 'I', cluster),
    ('ext-backing-format-unknown', hdr_len + 8, b'qcowX', None),
    ('ext-end-missing', hdr_len, struct.pack('>II', 0x6803f857, 0x7fffffff), None),
    # tables
    ('l1-entry-past-eof', l1_off, 'Q', (1 << 63) | (1 << 40)),
    ('l1-entry-unaligned', l1_off, 'Q', (1 << 63) | (first_l2 + 512)),
    ('l2-entry-past-eof', first_l2, 'Q', (1 << 63) | (1 << 40)),
    ('refcount-block-past-eof', rt_off, 'Q', 1 << 40),
    ('refcount-block-zero', rt_off, 'Q', 0),
    ('refcount-block-unaligned', rt_off, 'Q', rb0 + 512),
    # a snapshot table entry: L1 offset and size, ID size, VM state size,
    # extra data size (version 3 needs 16 bytes or more)
    ('snapshot-l1-past-eof', snap_off, 'Q', 1 << 40),
    ('snapshot-l1-size-huge', snap_off + 8, 'I', 0x2000000),
    ('snapshot-id-size-huge', snap_off + 12, 'H', 0xffff),
    ('snapshot-vm-state-size-huge', snap_off + 32, 'I', 0xffffffff),
    ('snapshot-extra-size-huge', snap_off + 36, 'I', 0xffff0018),
    ('snapshot-extra-size-zero', snap_off + 36, 'I', 0),
    ('snapshot-extra-size-8', snap_off + 36, 'I', 8),
    # the file cut short
    ('cut-512', CUT, None, 512),
    ('cut-header', CUT, None, 104),
    ('cut-one-cluster', CUT, None, cluster),
    ('cut-before-data', CUT, None, 3 * cluster),
    ('cut-last-cluster', CUT, None, len(img) - cluster),
    ('cut-odd', CUT, None, len(img) - 1000),
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
