#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Write a tiny Windows console executable (does nothing but return) for the
# phony Windows guests' cmd.exe, from the documented PE/COFF layout:
#
#   mkpe.py OUT i386|x86_64|aarch64
#
# i386: PE32 (optional header magic 0x10b), machine 0x14c; x86_64 and
# aarch64: PE32+ (0x20b), machines 0x8664 and 0xaa64.  file(1) calls them
# "PE32 executable (console) Intel 80386" and "PE32+ executable (console)
# x86-64" / "Aarch64".
import struct
import sys


def main():
    out, arch = sys.argv[1], sys.argv[2]
    machine = {'i386': 0x14c, 'x86_64': 0x8664, 'aarch64': 0xaa64}[arch]
    plus = arch != 'i386'
    dos = bytearray(0x80)
    dos[0:2] = b'MZ'
    struct.pack_into('<I', dos, 0x3c, 0x80)
    opt = bytearray()
    opt += struct.pack('<HBB', 0x20b if plus else 0x10b, 14, 0)
    opt += struct.pack('<IIIII', 0x200, 0, 0, 0x1000, 0x1000)    # code sizes, entry, base of code
    if not plus:
        opt += struct.pack('<I', 0x2000)                           # base of data
    opt += struct.pack('<Q' if plus else '<I', 0x140000000 if plus else 0x400000)
    opt += struct.pack('<II', 0x1000, 0x200)                       # section / file alignment
    opt += struct.pack('<HHHHHH', 6, 1, 0, 0, 6, 1)                # OS, image, subsystem versions
    opt += struct.pack('<IIII', 0, 0x2000, 0x200, 0)               # win32 ver, image size, headers, csum
    opt += struct.pack('<HH', 3, 0x8160 if plus else 0x8140)       # console; dll characteristics
    w = '<QQQQ' if plus else '<IIII'
    opt += struct.pack(w, 0x100000, 0x1000, 0x100000, 0x1000)      # stack and heap
    opt += struct.pack('<II', 0, 16) + b'\0' * 16 * 8              # loader flags, data directories
    coff = struct.pack('<HHIIIHH', machine, 1, 0, 0, 0, len(opt),
                       0x0022 if plus else 0x0102)
    sect = struct.pack('<8sIIIIIIHHI', b'.text', 0x100, 0x1000, 0x200, 0x200, 0, 0, 0, 0,
                       0x60000020)
    hdr = bytes(dos) + b'PE\0\0' + coff + bytes(opt) + sect
    hdr += b'\0' * (0x200 - len(hdr))
    code = b'\xc3' + b'\0' * 0x1ff
    with open(out, 'wb') as f:
        f.write(hdr + code)


main()
