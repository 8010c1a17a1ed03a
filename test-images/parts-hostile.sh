#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# parts-hostile.sh OUTDIR: damaged and hostile partition tables for
# tests/bad-parts.t.  Every disk is 8 MiB (sparse); where a partition is
# meant to survive, it holds an ext4 filesystem labelled "ok" so the test
# can see that the rest of the disk still works.
#
#   ebr-loop.img       extended partition whose second EBR links back to the first
#   ebr-self.img       an EBR that links to itself (link start 0)
#   ebr-outside.img    a logical partition outside its extended partition, and
#                      a link to an EBR past the end of the extended partition
#   ebr-long.img       a chain of 300 EBRs with one logical partition each
#   mbr-past-end.img   p2 runs past the end of the disk, p3 starts past it
#   mbr-overlap.img    p1 and p2 overlap
#   mbr-ext-past-end.img  the extended partition starts past the end of the disk
#   gpt-badcrc.img     GPT whose primary and backup header CRCs are both wrong
#   gpt-badentries.img GPT whose entry arrays (both copies) fail their CRC
#   gpt-huge.img       GPT header (valid CRC) claiming 2^31 entries of 128 bytes
#   gpt-entsize.img    GPT header (valid CRC) with an entry size of 100 bytes
#   gpt-entries-past-end.img  GPT entry array LBA past the end of the disk
#   gpt-part-past-end.img     GPT partition entries past the end, inverted,
#                             overlapping, beside a good one
#   tiny.img           300 bytes: smaller than one sector
set -euo pipefail
OUT=$1
mkdir -p "$OUT"
cd "$OUT"
export E2FSPROGS_FAKE_TIME=1600000000 SOURCE_DATE_EPOCH=1600000000
export MKE2FS_CONFIG=/etc/mke2fs.conf
PATH=/usr/sbin:/sbin:$PATH
rm -f ./*.img

# ext4 "ok" at sector 2048 (1 MiB), 2 MiB long, made in a file first
mke2fs -q -F -t ext4 -L ok -U 01234567-0123-0123-0123-0123456789ff \
    -E hash_seed=01234567-0123-0123-0123-0123456789ff fs.tmp 2M

python3 - <<'EOF'
import struct, zlib

SIZE = 8 << 20
fs = open("fs.tmp", "rb").read()

def disk(name, ss=512):
    d = bytearray(SIZE)
    return d

def mbr_ent(d, base, i, ptype, start, size):
    off = base + 446 + 16 * i
    d[off + 4] = ptype
    d[off + 8:off + 16] = struct.pack("<II", start, size)
    d[base + 510:base + 512] = b"\x55\xaa"

def put_fs(d, sector):
    d[sector * 512:sector * 512 + len(fs)] = fs

def save(name, d):
    with open(name, "wb") as f:
        f.write(d)

# ---- MBR chains ----
d = disk("ebr-loop")
put_fs(d, 2048)
mbr_ent(d, 0, 0, 0x83, 2048, 4096)              # sda1: ext4 ok
mbr_ent(d, 0, 1, 0x05, 8192, 4096)              # sda2: extended
mbr_ent(d, 8192 * 512, 0, 0x83, 1, 100)         # sda5
mbr_ent(d, 8192 * 512, 1, 0x05, 1024, 1024)     # -> EBR at 9216
mbr_ent(d, 9216 * 512, 0, 0x83, 1, 100)         # sda6
mbr_ent(d, 9216 * 512, 1, 0x05, 0, 1024)        # -> back to the first EBR
save("ebr-loop.img", d)

d = disk("ebr-self")
put_fs(d, 2048)
mbr_ent(d, 0, 0, 0x83, 2048, 4096)
mbr_ent(d, 0, 1, 0x0f, 8192, 4096)
mbr_ent(d, 8192 * 512, 0, 0x83, 1, 100)
mbr_ent(d, 8192 * 512, 1, 0x05, 0, 4096)        # links to itself
save("ebr-self.img", d)

d = disk("ebr-outside")
put_fs(d, 2048)
mbr_ent(d, 0, 0, 0x83, 2048, 4096)
mbr_ent(d, 0, 1, 0x05, 8192, 2048)
mbr_ent(d, 8192 * 512, 0, 0x83, 1, 5000)        # larger than the extended partition
mbr_ent(d, 8192 * 512, 1, 0x05, 100000, 10)     # next EBR far outside
save("ebr-outside.img", d)

d = disk("ebr-long")
put_fs(d, 2048)
mbr_ent(d, 0, 0, 0x83, 2048, 4096)
mbr_ent(d, 0, 1, 0x05, 8192, 4000)
for i in range(300):
    base = (8192 + 2 * i) * 512
    mbr_ent(d, base, 0, 0x83, 1, 1)
    if i < 299:
        mbr_ent(d, base, 1, 0x05, 2 * (i + 1), 2)
save("ebr-long.img", d)

d = disk("mbr-past-end")
put_fs(d, 2048)
mbr_ent(d, 0, 0, 0x83, 2048, 4096)
mbr_ent(d, 0, 1, 0x83, 8192, 100000)            # ends past the 16384-sector disk
mbr_ent(d, 0, 2, 0x83, 0xfffff000, 0x800)        # starts past it
save("mbr-past-end.img", d)

d = disk("mbr-overlap")
put_fs(d, 2048)
mbr_ent(d, 0, 0, 0x83, 2048, 4096)
mbr_ent(d, 0, 1, 0x83, 4096, 4096)
save("mbr-overlap.img", d)

d = disk("mbr-ext-past-end")
put_fs(d, 2048)
mbr_ent(d, 0, 0, 0x83, 2048, 4096)
mbr_ent(d, 0, 1, 0x05, 0x7fffffff, 0x1000)
save("mbr-ext-past-end.img", d)

# ---- GPT ----
def guid(s):
    import uuid
    return uuid.UUID(s).bytes_le

LINUX = guid("0FC63DAF-8483-4772-8E79-3D69D8477DE4")

def gpt(d, entries, nent=128, entsz=128, ent_lba=2, hdr_crc_ok=True, ent_crc_ok=True,
        backup=True, claim_nent=None, claim_entsz=None):
    nlba = SIZE // 512
    arr = bytearray(nent * entsz)
    for i, (first, last, name) in entries:
        e = bytearray(entsz)
        e[0:16] = LINUX
        e[16:32] = struct.pack("<IHH8s", 0xabcd0000 + i, 0, 0, b"\x80\x01\x02\x03\x04\x05\x06\x07")
        e[32:56] = struct.pack("<QQQ", first, last, 0)
        e[56:56 + 72] = name.encode("utf-16-le")[:72].ljust(72, b"\0")
        arr[i * entsz:(i + 1) * entsz] = e
    ecrc = zlib.crc32(arr) & 0xffffffff
    if not ent_crc_ok:
        ecrc ^= 1
    mbr_ent(d, 0, 0, 0xee, 1, min(nlba - 1, 0xffffffff))
    def header(my, alt, elba):
        h = bytearray(92)
        h[0:8] = b"EFI PART"
        struct.pack_into("<IIIIQQQQ", h, 8, 0x10000, 92, 0, 0, my, alt, 34, nlba - 34)
        h[56:72] = guid("11111111-2222-3333-4444-555555555555")
        struct.pack_into("<QIII", h, 72, elba,
                         claim_nent if claim_nent is not None else nent,
                         claim_entsz if claim_entsz is not None else entsz, ecrc)
        c = zlib.crc32(h) & 0xffffffff
        if not hdr_crc_ok:
            c ^= 1
        struct.pack_into("<I", h, 16, c)
        return h
    if ent_lba * 512 + len(arr) <= SIZE:
        d[ent_lba * 512:ent_lba * 512 + len(arr)] = arr
    d[512:512 + 92] = header(1, nlba - 1, ent_lba)
    if backup:
        belba = nlba - 1 - len(arr) // 512 if ent_lba == 2 else ent_lba
        if belba * 512 + len(arr) <= SIZE:
            d[belba * 512:belba * 512 + len(arr)] = arr
        d[(nlba - 1) * 512:(nlba - 1) * 512 + 92] = header(nlba - 1, 1, belba)

good = [(0, (2048, 6143, "ok"))]

d = disk("gpt-badcrc"); put_fs(d, 2048)
gpt(d, good, hdr_crc_ok=False)
save("gpt-badcrc.img", d)

d = disk("gpt-badentries"); put_fs(d, 2048)
gpt(d, good, ent_crc_ok=False)
save("gpt-badentries.img", d)

d = disk("gpt-huge"); put_fs(d, 2048)
gpt(d, good, claim_nent=0x80000000)
save("gpt-huge.img", d)

d = disk("gpt-entsize"); put_fs(d, 2048)
gpt(d, good, claim_entsz=100)
save("gpt-entsize.img", d)

d = disk("gpt-entries-past-end"); put_fs(d, 2048)
gpt(d, good, ent_lba=(SIZE // 512) + 100)
save("gpt-entries-past-end.img", d)

d = disk("gpt-part-past-end"); put_fs(d, 2048)
gpt(d, good + [(1, (8192, 99999999, "past")), (2, (9000, 8000, "inverted")),
               (3, (4096, 8191, "overlap"))])
save("gpt-part-past-end.img", d)

with open("tiny.img", "wb") as f:
    f.write(b"\x55\xaa" * 150)
EOF
rm -f fs.tmp
