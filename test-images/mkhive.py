#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Write an empty Windows registry hive (one root key, nothing else) for
# hivexregedit --merge to fill:   mkhive.py OUT [ROOTNAME]
#
# The layout is the documented regf format: a 4 KiB base block ("regf",
# sequence numbers, root cell offset, size of the hive bins, checksum =
# XOR of its first 127 dwords), then one 4 KiB hive bin ("hbin") holding
# the root key cell ("nk"), its security cell ("sk", a minimal
# self-relative descriptor, referenced once) and one free cell.
import struct
import sys


def cell(payload, used=True):
    size = (4 + len(payload) + 7) & ~7
    return struct.pack('<i', -size if used else size) + payload + b'\0' * (size - 4 - len(payload))


def main():
    out = sys.argv[1]
    name = (sys.argv[2] if len(sys.argv) > 2 else 'ROOT').encode('latin-1')
    nk_off = 0x20
    nk_size = (4 + 76 + len(name) + 7) & ~7
    sk_off = nk_off + nk_size
    none = 0xffffffff
    nk = (b'nk' + struct.pack('<H', 0x2c) + struct.pack('<q', 0) +
          struct.pack('<IIIIIIIIII', 0, 0, 0, 0, none, none, 0, none, sk_off, none) +
          struct.pack('<HHIIII', 0, 0, 0, 0, 0, 0) +
          struct.pack('<HH', len(name), 0) + name)
    sd = struct.pack('<BBHIIII', 1, 0, 0x8000, 0, 0, 0, 0)    # revision 1, self-relative
    sk = b'sk' + struct.pack('<HIIII', 0, sk_off, sk_off, 1, len(sd)) + sd
    cells = cell(nk) + cell(sk)
    hbin_size = 4096
    free = hbin_size - 32 - len(cells)
    hbin = (b'hbin' + struct.pack('<II', 0, hbin_size) + b'\0' * 20 + cells +
            struct.pack('<i', free) + b'\0' * (free - 4))
    base = bytearray(4096)
    struct.pack_into('<4sIIqIIIIIII', base, 0, b'regf', 1, 1, 0, 1, 3, 0, 1, nk_off, hbin_size, 1)
    fname = 'guestkit'.encode('utf-16-le')
    base[0x30:0x30 + len(fname)] = fname
    csum = 0
    for i in range(127):
        csum ^= struct.unpack_from('<I', base, 4 * i)[0]
    struct.pack_into('<I', base, 0x1fc, csum)
    with open(out, 'wb') as f:
        f.write(bytes(base) + hbin)


main()
