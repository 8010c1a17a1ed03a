#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# mkvhdx-log.py IN.vhdx OUT.vhdx [badtail]: a VHDX left as a writer that
# stopped before applying its log leaves it (qemu-img cannot be stopped
# there on purpose): block 3 of a clean dynamic VHDX with 1 MiB blocks gets
# data appended to the file, and the BAT sector that would point at it,
# plus a zeroed 4 KiB of block 0, are only in one log entry; the current
# header names the log.  Written from the VHDX specification's layout
# (log entry header, data and zero descriptors, data sectors, CRC-32C).
# "badtail": the head's tail names a sector that holds no entry (qemu
# replays the head alone).
import struct, sys

def crc32c(data):
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    c = 0xFFFFFFFF
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF

src, dst = sys.argv[1], sys.argv[2]
badtail = len(sys.argv) > 3 and sys.argv[3] == "badtail"
f = bytearray(open(src, "rb").read())
MiB = 1 << 20
hdrs = [f[64 * 1024:64 * 1024 + 4096], f[128 * 1024:128 * 1024 + 4096]]
cur = 0 if struct.unpack_from("<Q", hdrs[0], 8)[0] > struct.unpack_from("<Q", hdrs[1], 8)[0] else 1
h = bytearray(hdrs[cur])
log_len, log_off = struct.unpack_from("<IQ", h, 68)
# the BAT region from the region table
rt = f[192 * 1024:256 * 1024]
bat_off = None
for i in range(struct.unpack_from("<I", rt, 8)[0]):
    e = rt[16 + 32 * i:48 + 32 * i]
    if e[:16] == bytes.fromhex("6677c22d23f600429d64115e9bfd4a08"):
        bat_off = struct.unpack_from("<Q", e, 16)[0]
blk = 3
ent = bat_off + blk * 8                       # chunk ratio is large: no bitmap entry before block 3
sec_off = ent // 4096 * 4096
sector = bytearray(f[sec_off:sec_off + 4096])
new_at = (len(f) + MiB - 1) // MiB * MiB
struct.pack_into("<Q", sector, ent - sec_off, new_at | 6)
f += bytes(new_at - len(f))
f += bytes((i * 7 + 3) & 0xFF for i in range(MiB))
b0 = struct.unpack_from("<Q", f, bat_off)[0] & ~0xFFFFF
seq = 0x1234
guid = bytes(range(16))
hdr = struct.pack("<4sIIIQII16sQQ", b"loge", 0, 8192, 0, seq, 2, 0, guid, len(f), len(f))
desc = struct.pack("<4sI8sQQ", b"desc", struct.unpack_from("<I", sector, 4092)[0], bytes(sector[:8]), sec_off, seq)
zero = struct.pack("<4sIQQQ", b"zero", 0, 4096, b0 + 8192, seq)
s0 = (hdr + desc + zero).ljust(4096, b"\0")
data = struct.pack("<4sI", b"data", seq >> 32) + bytes(sector[8:4092]) + struct.pack("<I", seq & 0xFFFFFFFF)
entry = bytearray(s0 + data)
struct.pack_into("<I", entry, 4, crc32c(entry))
f[log_off:log_off + 8192] = entry
if badtail:
    struct.pack_into("<I", f, log_off + 12, 8192)           # tail: nothing there
    struct.pack_into("<I", f, log_off + 4, 0)
    struct.pack_into("<I", f, log_off + 4, crc32c(f[log_off:log_off + 8192]))
# the header that names the log, newer than both
h[48:64] = guid
struct.pack_into("<Q", h, 8, max(struct.unpack_from("<Q", x, 8)[0] for x in hdrs) + 1)
struct.pack_into("<I", h, 4, 0)
struct.pack_into("<I", h, 4, crc32c(h))
other = 1 - cur
f[(other + 1) * 64 * 1024:(other + 1) * 64 * 1024 + 4096] = h
open(dst, "wb").write(f)
