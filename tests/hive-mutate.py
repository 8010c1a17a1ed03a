#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Corrupt copies of a registry hive for tests/bad-ntfs.t, deterministic:
#
#   hive-mutate.py BASE --count        number of variants
#   hive-mutate.py BASE N OUT          write variant N, print its name
#
# Variants: the base block (root offset, size of the bins, checksum,
# version), hive bin headers, cell sizes, and the records hivex walks:
# nk (counts, list offsets that point nowhere, at themselves or at their
# parent, name lengths), lf/lh/li/ri subkey lists (counts, entries that
# loop back; an ri list holding itself), vk (name and data lengths, data
# offsets), sk, plus random bytes in the bins.
import random
import struct
import sys


def cells(b):
    """(offset, size, used, id) of every cell of every bin"""
    out = []
    off = 0x1000
    while off + 32 <= len(b) and b[off:off + 4] == b'hbin':
        size = struct.unpack_from('<I', b, off + 8)[0]
        if size < 32 or off + size > len(b):
            break
        c = off + 32
        while c + 4 <= off + size:
            sl = struct.unpack_from('<i', b, c)[0]
            n = abs(sl)
            if n < 8 or c + n > off + size:
                break
            out.append((c, n, sl < 0, bytes(b[c + 4:c + 6])))
            c += n
        off += size
    return out


def rel(off):
    return off - 0x1000


def field(ident, off, fmt, val, pick=0):
    def f(b, cs, r):
        sel = [c for c in cs if c[2] and c[3] == ident]
        if sel:
            c = sel[pick % len(sel)]
            v = val(c, cs, r) if callable(val) else val
            struct.pack_into(fmt, b, c[0] + 4 + off, v)
    return f


def at(off, fmt, val):
    def f(b, cs, r):
        struct.pack_into(fmt, b, off, val)
    return f


def both(f, g):
    def h(b, cs, r):
        f(b, cs, r)
        g(b, cells(b), r)
    return h


def random_bytes(n):
    def f(b, cs, r):
        for _ in range(n):
            b[r.randrange(0x1000 + 32, len(b))] = r.randrange(256)
    return f


def own(c, cs, r):
    return rel(c[0])


def first_nk(c, cs, r):
    nks = [x for x in cs if x[3] == b'nk']
    return rel(nks[0][0]) if nks else 0


def a_vk(c, cs, r):
    vks = [x for x in cs if x[3] == b'vk']
    return rel(vks[0][0]) if vks else 0


def variants():
    vs = [
        ('root_offset=0', at(0x24, '<I', 0)),
        ('root_offset=huge', at(0x24, '<I', 0x7ffffff0)),
        ('root_offset=odd', at(0x24, '<I', 0x21)),
        ('bins_size=0', at(0x28, '<I', 0)),
        ('bins_size=huge', at(0x28, '<I', 0xfffff000)),
        ('checksum', at(0x1fc, '<I', 0x12345678)),
        ('major=2', at(0x14, '<I', 2)),
        ('sequence', at(0x4, '<I', 7)),
        ('hbin_magic', at(0x1000, '4s', b'xbin')),
        ('hbin_size=0', at(0x1008, '<I', 0)),
        ('hbin_size=huge', at(0x1008, '<I', 0x7ffff000)),
        ('hbin_offset', at(0x1004, '<I', 0x5000)),
    ]
    for k in range(3):
        vs += [
            ('nk%d:nr_subkeys' % k, field(b'nk', 0x14, '<I', 0xffffffff, k)),
            ('nk%d:subkey_list=self' % k, field(b'nk', 0x1c, '<I', own, k)),
            ('nk%d:subkey_list=nowhere' % k, field(b'nk', 0x1c, '<I', 0x7ffffff0, k)),
            ('nk%d:subkey_list=vk' % k, field(b'nk', 0x1c, '<I', a_vk, k)),
            ('nk%d:nr_values' % k, field(b'nk', 0x24, '<I', 0x7fffffff, k)),
            ('nk%d:value_list=self' % k, field(b'nk', 0x28, '<I', own, k)),
            ('nk%d:value_list=nowhere' % k, field(b'nk', 0x28, '<I', 0xfffffff0, k)),
            ('nk%d:parent=self' % k, field(b'nk', 0x10, '<I', own, k)),
            ('nk%d:name_len' % k, field(b'nk', 0x48, '<H', 0xffff, k)),
            ('nk%d:sk' % k, field(b'nk', 0x2c, '<I', 0x12345678, k)),
            ('nk%d:classname' % k, field(b'nk', 0x30, '<I', 0x7ffffff0, k)),
            ('nk%d:seg_len=0' % k, field(b'nk', -4, '<i', 0, k)),
            ('nk%d:seg_len=huge' % k, field(b'nk', -4, '<i', -0x7ffffff0, k)),
        ]
    # hivex writes lh subkey lists; the other kinds (lf, li, ri: a list of
    # lists) are made from them
    for k in range(3):
        vs += [
            ('lh%d:nr_keys' % k, field(b'lh', 2, '<H', 0xffff, k)),
            ('lh%d:entry=root' % k, field(b'lh', 4, '<I', first_nk, k)),
            ('lh%d:entry=self' % k, field(b'lh', 4, '<I', own, k)),
            ('lh%d:entry=nowhere' % k, field(b'lh', 4, '<I', 0x7ffffff0, k)),
            ('lh%d:as_li' % k, field(b'lh', 0, '2s', b'li', k)),
            ('lh%d:as_lf' % k, field(b'lh', 0, '2s', b'lf', k)),
            ('lh%d:as_ri_self' % k, both(field(b'lh', 4, '<I', own, k),
                                          field(b'lh', 0, '2s', b'ri', k))),
            ('lh%d:as_ri' % k, field(b'lh', 0, '2s', b'ri', k)),
        ]
    for k in range(4):
        vs += [
            ('vk%d:name_len' % k, field(b'vk', 2, '<H', 0xffff, k)),
            ('vk%d:data_len=huge' % k, field(b'vk', 4, '<I', 0x7ffffff0, k)),
            ('vk%d:data_len=inline5' % k, field(b'vk', 4, '<I', 0x80000005, k)),
            ('vk%d:data_off=nowhere' % k, field(b'vk', 8, '<I', 0x7ffffff0, k)),
            ('vk%d:data_off=self' % k, field(b'vk', 8, '<I', own, k)),
            ('vk%d:type' % k, field(b'vk', 12, '<I', 0xffffffff, k)),
        ]
    vs += [('sk:refcount', field(b'sk', 12, '<I', 0)),
           ('sk:next', field(b'sk', 4, '<I', 0x7ffffff0)),
           ('vk0:as_db', field(b'vk', 0, '2s', b'db'))]
    vs += [('random%d' % i, random_bytes(40)) for i in range(12)]
    return vs


def main():
    base = bytearray(open(sys.argv[1], 'rb').read())
    vs = variants()
    if sys.argv[2] == '--count':
        print(len(vs))
        return
    n = int(sys.argv[2])
    name, f = vs[n]
    b = bytearray(base)
    f(b, cells(b), random.Random(n))
    open(sys.argv[3], 'wb').write(b)
    print(name)


main()
