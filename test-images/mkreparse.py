#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Print the value of ntfs-3g's system.ntfs_reparse_data extended attribute
# (0x + hex) for a reparse point, to set with setfattr on an ntfs-3g mount:
#
#   mkreparse.py junction 'C:\Windows'      directory junction (\??\C:\Windows)
#   mkreparse.py symlink 'C:\Users'          absolute symlink (\??\C:\Users)
#   mkreparse.py relsymlink '..\Windows'     relative symlink (flag 1)
#   mkreparse.py lxsymlink 'target'          WSL symlink (UTF-8 target)
#   mkreparse.py tag 0x80000017 [HEXDATA]    any other tag (e.g. WOF)
#
# The layouts are Microsoft's REPARSE_DATA_BUFFER (MS-FSCC 2.1.2).
import struct
import sys


def utf16(s):
    return s.encode('utf-16-le')


def mount_point(subst, printn):
    s, p = utf16(subst), utf16(printn)
    body = struct.pack('<HHHH', 0, len(s), len(s) + 2, len(p)) + s + b'\0\0' + p + b'\0\0'
    return body


def symlink(subst, printn, flags):
    s, p = utf16(subst), utf16(printn)
    # print name first, as Windows' mklink writes it
    body = struct.pack('<HHHHI', len(p), len(s), 0, len(p), flags) + p + s
    return body


def reparse(tag, body):
    return struct.pack('<IHH', tag, len(body), 0) + body


def main():
    kind, arg = sys.argv[1], sys.argv[2]
    if kind == 'junction':
        data = reparse(0xA0000003, mount_point('\\??\\' + arg, arg))
    elif kind == 'symlink':
        data = reparse(0xA000000C, symlink('\\??\\' + arg, arg, 0))
    elif kind == 'relsymlink':
        data = reparse(0xA000000C, symlink(arg, arg, 1))
    elif kind == 'lxsymlink':
        data = reparse(0xA000001D, struct.pack('<I', 2) + arg.encode())
    elif kind == 'tag':
        body = bytes.fromhex(sys.argv[3]) if len(sys.argv) > 3 else b''
        data = reparse(int(arg, 0), body)
    else:
        sys.exit('mkreparse.py: unknown kind ' + kind)
    print('0x' + data.hex())


main()
