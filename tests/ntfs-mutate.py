#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Corrupt copies of an NTFS image for tests/bad-ntfs.t, deterministic:
#
#   ntfs-mutate.py BASE.img --count          number of variants
#   ntfs-mutate.py BASE.img N OUT.img        write variant N, print its name
#   ntfs-mutate.py BASE.img A B STEP DIR     write variants A, A+STEP... < B
#                                            as DIR/N.img, "N name" lines
#
# Variants: boot sector fields; MFT record headers and attributes
# (lengths, offsets, sizes, VCNs), with the update sequence (fixups)
# redone so that the library gets past it, records 0-3 changed in $MFTMirr
# too; runlists (mapping pairs); index blocks (INDX: entry and key
# lengths, child pointers that loop back or lead nowhere); random bytes in
# records and index blocks.
import random
import struct
import sys


class Vol:
    def __init__(self, b):
        self.b = b
        self.sec, spc = struct.unpack_from('<HB', b, 11)
        self.clus = self.sec * spc
        self.mft_lcn, self.mirr_lcn = struct.unpack_from('<qq', b, 0x30)
        c = struct.unpack_from('<b', b, 0x40)[0]
        self.rec = 1 << -c if c < 0 else c * self.clus
        c = struct.unpack_from('<b', b, 0x44)[0]
        self.idx = 1 << -c if c < 0 else c * self.clus

    def rec_off(self, n, mirror=False):
        return (self.mirr_lcn if mirror else self.mft_lcn) * self.clus + n * self.rec


def unfix(b, off):
    uo, uc = struct.unpack_from('<HH', b, off + 4)
    for i in range(1, uc):
        p = off + i * 512 - 2
        b[p:p + 2] = b[off + uo + 2 * i:off + uo + 2 * i + 2]


def fix(b, off):
    uo, uc = struct.unpack_from('<HH', b, off + 4)
    usn = b[off + uo:off + uo + 2]
    for i in range(1, uc):
        p = off + i * 512 - 2
        b[off + uo + 2 * i:off + uo + 2 * i + 2] = b[p:p + 2]
        b[p:p + 2] = usn


def attrs(b, off, size):
    """(offset, type, non_resident) of each attribute of the record at off."""
    a = off + struct.unpack_from('<H', b, off + 0x14)[0]
    out = []
    while a + 8 <= off + size:
        t, l = struct.unpack_from('<II', b, a)
        if t == 0xffffffff or l < 16 or a + l > off + size:
            break
        out.append((a, t, b[a + 8]))
        a += l
    return out


def in_use_records(v, lo, hi):
    r = []
    for n in range(lo, hi):
        o = v.rec_off(n)
        if o + v.rec <= len(v.b) and v.b[o:o + 4] == b'FILE' and v.b[o + 0x16] & 1:
            r.append(n)
    return r


def indx_blocks(v):
    return [o for o in range(0, len(v.b) - v.idx, v.clus) if v.b[o:o + 4] == b'INDX']


# ---- the variants: functions (name, fn(bytearray, Vol, rng)) ----

def boot(off, fmt, val):
    def f(b, v, r):
        struct.pack_into(fmt, b, off, val)
    return ('boot@%#x=%s' % (off, val), f)


def record(n, what, change, mirror_too=True):
    def f(b, v, r):
        offs = [v.rec_off(n)]
        if n < 4 and mirror_too:
            offs.append(v.rec_off(n, True))
        for o in offs:
            unfix(b, o)
            change(b, o, v, random.Random(r.random()))
            fix(b, o)
    return ('mft%d:%s' % (n, what), f)


def hdr(off, fmt, val):
    return lambda b, o, v, r: struct.pack_into(fmt, b, o + off, val)


def attr_field(idx, off, fmt, val, want_nonres=None):
    def c(b, o, v, r):
        al = attrs(b, o, v.rec)
        if want_nonres is not None:
            al = [x for x in al if x[2] == want_nonres]
        if al:
            a = al[idx % len(al)][0]
            struct.pack_into(fmt, b, a + off, val)
    return c


def runlist_bytes(b, o, v, r):
    al = [x for x in attrs(b, o, v.rec) if x[2]]
    if not al:
        return
    a = r.choice(al)[0]
    mp = a + struct.unpack_from('<H', b, a + 0x20)[0]
    end = a + struct.unpack_from('<I', b, a + 4)[0]
    for _ in range(r.randint(1, 4)):
        if mp < end:
            p = r.randrange(mp, end)
            b[p] = r.choice([0, 0xff, 0x80, 0x7f, 0x11, 0x48, r.randrange(256)])


def random_bytes(count):
    def c(b, o, v, r):
        for _ in range(count):
            b[o + r.randrange(0x30, v.rec - 2)] = r.randrange(256)
    return c


def indx(k, what, change):
    def f(b, v, r):
        blocks = indx_blocks(v)
        if not blocks:
            return
        o = blocks[k % len(blocks)]
        unfix(b, o)
        change(b, o, v, r, blocks)
        fix(b, o)
    return ('indx%d:%s' % (k, what), f)


def ientries(b, o):
    ih = o + 0x18
    eo, il = struct.unpack_from('<II', b, ih)
    p, out = ih + eo, []
    while p + 16 <= ih + il and len(out) < 400:
        l, kl, fl = struct.unpack_from('<HHH', b, p + 8)
        out.append((p, l, fl))
        if fl & 2 or l < 16:
            break
        p += l
    return out


def child_to(target):
    def c(b, o, v, r, blocks):
        own_vcn = struct.unpack_from('<q', b, o + 0x10)[0]
        for p, l, fl in ientries(b, o):
            if fl & 1 and l >= 24:
                vcn = own_vcn if target == 'self' else 0 if target == 'first' else 1 << 40
                struct.pack_into('<q', b, p + l - 8, vcn)
    return c


def entry_field(off, fmt, val):
    def c(b, o, v, r, blocks):
        es = ientries(b, o)
        if es:
            p = es[r.randrange(len(es))][0]
            struct.pack_into(fmt, b, p + off, val)
    return c


def iheader(off, fmt, val):
    return lambda b, o, v, r, blocks: struct.pack_into(fmt, b, o + 0x18 + off, val)


def indx_random(b, o, v, r, blocks):
    for _ in range(16):
        b[o + r.randrange(0x18, v.idx - 2)] = r.randrange(256)


def root_child_loop(b, v, r):
    """the root's INDEX_ROOT: every child pointer to the first block"""
    o = v.rec_off(5)
    unfix(b, o)
    for a, t, nr in attrs(b, o, v.rec):
        if t == 0x90:
            val = a + struct.unpack_from('<H', b, a + 0x14)[0]
            ih = val + 16
            eo, il = struct.unpack_from('<II', b, ih)
            p = ih + eo
            while p + 16 <= ih + il:
                l, kl, fl = struct.unpack_from('<HHH', b, p + 8)
                if fl & 1 and l >= 24:
                    struct.pack_into('<q', b, p + l - 8, 0)
                if fl & 2 or l < 16:
                    break
                p += l
    fix(b, o)


def variants(v):
    vs = [boot(11, '<H', x) for x in (0, 1, 4096, 0xffff)]
    vs += [boot(13, 'B', x) for x in (0, 3, 0x80, 0xf4)]
    vs += [boot(0x28, '<q', x) for x in (0, 1 << 62)]
    vs += [boot(0x30, '<q', x) for x in (0, 1 << 40, -5, 2)]
    vs += [boot(0x38, '<q', 1 << 40)]
    vs += [boot(0x40, 'b', x) for x in (0, 127, -31, -8, 1)]
    vs += [boot(0x44, 'b', x) for x in (0, -31, 127, -9)]
    users = in_use_records(v, 16, 200)
    recs = [0, 1, 2, 3, 5, 6, 9, 10, 11] + users[:2] + users[-2:]
    for n in recs:
        vs += [record(n, 'usa_ofs', hdr(4, '<H', 0xfff0)),
               record(n, 'attrs_offset', hdr(0x14, '<H', 0x3f0)),
               record(n, 'attrs_offset0', hdr(0x14, '<H', 0)),
               record(n, 'bytes_in_use', hdr(0x18, '<I', 0xffffffff)),
               record(n, 'flags', hdr(0x16, '<H', 3)),
               record(n, 'attr_len0', attr_field(1, 4, '<I', 0)),
               record(n, 'attr_lenbig', attr_field(2, 4, '<I', 0xfff8)),
               record(n, 'name_off', attr_field(1, 0x0a, '<H', 0xfff0)),
               record(n, 'name_len', attr_field(0, 9, 'B', 0xff)),
               record(n, 'value_len', attr_field(0, 0x10, '<I', 0xffffff00, 0)),
               record(n, 'value_off', attr_field(1, 0x14, '<H', 0xfff0, 0)),
               record(n, 'lowest_vcn', attr_field(0, 0x10, '<q', -1, 1)),
               record(n, 'highest_vcn', attr_field(0, 0x18, '<q', 1 << 50, 1)),
               record(n, 'mp_off', attr_field(0, 0x20, '<H', 0xfff0, 1)),
               record(n, 'cunit', attr_field(0, 0x22, 'B', 31, 1)),
               record(n, 'alloc0', attr_field(0, 0x28, '<q', 0, 1)),
               record(n, 'size_neg', attr_field(0, 0x30, '<q', -4096, 1)),
               record(n, 'size_huge', attr_field(0, 0x30, '<q', 1 << 60, 1)),
               record(n, 'init_gt', attr_field(0, 0x38, '<q', 1 << 40, 1)),
               record(n, 'runlist', runlist_bytes),
               record(n, 'runlist2', runlist_bytes),
               record(n, 'random', random_bytes(24))]
    for k in range(3):
        vs += [indx(k, 'child_self', child_to('self')),
               indx(k, 'child_first', child_to('first')),
               indx(k, 'child_far', child_to('far')),
               indx(k, 'entries_off', iheader(0, '<I', 0xfff0)),
               indx(k, 'entries_off0', iheader(0, '<I', 0)),
               indx(k, 'index_len', iheader(4, '<I', 0xffffffff)),
               indx(k, 'entry_len0', entry_field(8, '<H', 0)),
               indx(k, 'entry_len8', entry_field(8, '<H', 8)),
               indx(k, 'entry_lenbig', entry_field(8, '<H', 0xfff8)),
               indx(k, 'key_len', entry_field(10, '<H', 0xfff0)),
               indx(k, 'fname_len', entry_field(16 + 64, 'B', 0xff)),
               indx(k, 'vcn', hdr_indx_vcn),
               indx(k, 'random', indx_random)]
    vs.append(('root:child_loop', root_child_loop))
    return vs


def hdr_indx_vcn(b, o, v, r, blocks):
    struct.pack_into('<q', b, o + 0x10, 12345)


def main():
    base = bytearray(open(sys.argv[1], 'rb').read())
    vs = variants(Vol(base))
    if sys.argv[2] == '--count':
        print(len(vs))
        return
    def write(n, out):
        name, f = vs[n]
        b = bytearray(base)
        f(b, Vol(b), random.Random(n))
        open(out, 'wb').write(b)
        return name
    if len(sys.argv) == 4:
        print(write(int(sys.argv[2]), sys.argv[3]))
        return
    a, z, step, d = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    for n in range(a, min(z, len(vs)), step):
        print(n, write(n, '%s/%d.img' % (d, n)))


main()
