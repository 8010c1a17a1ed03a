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

cases = []

def field(name, fmt, off, value):
    cases.append((name, [(off, struct.pack('>' + fmt, value))], None))

def raw(name, off, data):
    cases.append((name, [(off, data)], None))

def cut(name, size):
    cases.append((name, [], size))

# header fields
field('backing-offset-past-eof', 'Q', 8, len(img) + 4 * cluster)
field('backing-size-zero', 'I', 16, 0)
field('backing-size-1024', 'I', 16, 1024)
field('backing-size-past-cluster', 'I', 16, 1000)
field('cluster-bits-8', 'I', 20, 8)
field('cluster-bits-22', 'I', 20, 22)
field('cluster-bits-21', 'I', 20, 21)
field('size-zero', 'Q', 24, 0)
field('size-odd', 'Q', 24, 4 * 1048576 + 1000)
field('size-huge', 'Q', 24, 1 << 62)
field('size-2-63', 'Q', 24, 1 << 63)
field('size-grown', 'Q', 24, 64 << 30)
field('crypt-aes', 'I', 32, 1)
field('crypt-luks', 'I', 32, 2)
field('crypt-unknown', 'I', 32, 3)
field('l1-size-zero', 'I', 36, 0)
field('l1-size-huge', 'I', 36, 0x2000000)
field('l1-size-max', 'I', 36, 0xffffffff)
field('l1-offset-unaligned', 'Q', 40, l1_off + 512)
field('l1-offset-zero', 'Q', 40, 0)
field('l1-offset-past-eof', 'Q', 40, 1 << 40)
field('refcount-table-unaligned', 'Q', 48, rt_off + 8)
field('refcount-table-zero', 'Q', 48, 0)
field('refcount-table-past-eof', 'Q', 48, 1 << 40)
field('refcount-clusters-zero', 'I', 56, 0)
field('refcount-clusters-huge', 'I', 56, 0x1000000)
field('snapshots-many', 'I', 60, 100)  # qemu-img takes 10 s CPU for 65536
field('snapshots-past-eof', 'Q', 64, 1 << 40)
field('snapshots-unaligned', 'Q', 64, snap_off + 1)
field('snapshots-zero-count', 'I', 60, 0)
field('incompat-dirty', 'Q', 72, 1)
field('incompat-corrupt', 'Q', 72, 2)
field('incompat-data-file', 'Q', 72, 4)
field('incompat-compression', 'Q', 72, 8)
field('incompat-extended-l2', 'Q', 72, 16)
field('incompat-unknown', 'Q', 72, 1 << 10)
field('compat-lazy-refcounts', 'Q', 80, 1)
field('compat-unknown', 'Q', 80, 1 << 20)
field('autoclear-bitmaps', 'Q', 88, 1)
field('autoclear-data-raw', 'Q', 88, 2)
field('autoclear-unknown', 'Q', 88, 1 << 30)
field('refcount-order-0', 'I', 96, 0)
field('refcount-order-6', 'I', 96, 6)
field('refcount-order-7', 'I', 96, 7)
field('header-length-small', 'I', 100, 72)
field('header-length-odd', 'I', 100, 105)
field('header-length-big', 'I', 100, cluster + 8)
field('version-1', 'I', 4, 1)
field('version-2', 'I', 4, 2)
field('version-4', 'I', 4, 4)
# header extensions (they start at header_length)
raw('ext-unknown-type', hdr_len, struct.pack('>I', 0x12345678))
raw('ext-length-past-cluster', hdr_len + 4, struct.pack('>I', cluster))
raw('ext-backing-format-unknown', hdr_len + 8, b'qcowX')
raw('ext-end-missing', hdr_len, struct.pack('>II', 0x6803f857, 0x7fffffff))
# tables
raw('l1-entry-past-eof', l1_off, struct.pack('>Q', (1 << 63) | (1 << 40)))
raw('l1-entry-unaligned', l1_off, struct.pack('>Q', (1 << 63) | (first_l2 + 512)))
raw('l2-entry-past-eof', first_l2, struct.pack('>Q', (1 << 63) | (1 << 40)))
raw('refcount-block-past-eof', rt_off, struct.pack('>Q', 1 << 40))
raw('refcount-block-zero', rt_off, struct.pack('>Q', 0))
raw('refcount-block-unaligned', rt_off, struct.pack('>Q', rb0 + 512))
raw('snapshot-id-size-huge', snap_off + 36, struct.pack('>H', 0xffff))
raw('snapshot-l1-past-eof', snap_off, struct.pack('>Q', 1 << 40))
raw('snapshot-l1-size-huge', snap_off + 8, struct.pack('>I', 0x2000000))
raw('snapshot-extra-size-huge', snap_off + 32, struct.pack('>I', 0xffffffff))
# the file cut short
cut('cut-512', 512)
cut('cut-header', 104)
cut('cut-one-cluster', cluster)
cut('cut-before-data', 3 * cluster)
cut('cut-last-cluster', len(img) - cluster)
cut('cut-odd', len(img) - 1000)

os.makedirs(out, exist_ok=True)
for name, patches, size in cases:
    b = bytearray(img if size is None else img[:size])
    for off, data in patches:
        if off + len(data) > len(b):
            sys.exit('%s: patch outside the image' % name)
        b[off:off + len(data)] = data
    with open(os.path.join(out, name + '.qcow2'), 'wb') as f:
        f.write(b)
    print(name)
