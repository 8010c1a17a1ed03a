#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile LVM2 PVs: real PVs made by lvm2 over loop devices, then their
# metadata text edited in place with the checksums fixed (LVM's calc_crc:
# CRC-32 from 0xf597a6cf without the final inversion), so that only our
# checks stand between the bad text and a crash.
#
#   good.img        VG vgok, LV ok (listed next to every hostile one)
#   h.img           VG vgh: LVs a (4 extents) and b (2 extents), unedited
#   bad-NAME.img    h.img with the edit NAME (see EDITS below)
#   m1.img m2.img   VG vgm across both, LV span over both and LV one on m1;
#                   the tests use m1.img alone (a missing PV)
set -euo pipefail
. "$(dirname "$0")/lib-lvm.sh"
OUT=$(realpath "$1")
mkdir -p "$OUT"
cd "$OUT"
rm -f ./*.img
W=$(mktemp -d)
LOOPS=()
cleanup() {
    for l in "${LOOPS[@]}"; do losetup -d "$l" || true; done
    rm -rf "$W"
}
trap cleanup EXIT
attach() { L=$(losetup -f --show "$1"); LOOPS+=("$L"); }

for f in good h m2; do truncate -s 4M $f.img; done
yes "m1 data" | head -c 4M >m1.img || true  # not zeros, so a wrong offset shows
attach good.img; LG=$L
attach h.img; LH=$L
attach m1.img; LM1=$L
attach m2.img; LM2=$L

lvm_private_config "$W" "$LG" "$LH" "$LM1" "$LM2"

lvm pvcreate -q --norestorefile -u gkH000-good-0000-0000-0000-0000-000001 "$LG"
lvm pvcreate -q --norestorefile -u gkH000-host-0000-0000-0000-0000-000002 "$LH"
lvm pvcreate -q --norestorefile -u gkH000-mis1-0000-0000-0000-0000-000003 "$LM1"
lvm pvcreate -q --norestorefile -u gkH000-mis2-0000-0000-0000-0000-000004 "$LM2"
lvm vgcreate -q -s 256k vgok "$LG"
lvm lvcreate "${NOACT[@]}" -l 2 -n ok vgok
lvm vgcreate -q -s 256k vgh "$LH"
lvm lvcreate "${NOACT[@]}" -l 4 -n a vgh
lvm lvcreate "${NOACT[@]}" -l 2 -n b vgh
lvm vgcreate -q -s 256k vgm "$LM1" "$LM2"
lvm lvcreate "${NOACT[@]}" -l 2 -n one vgm "$LM1:0-1"
lvm lvcreate "${NOACT[@]}" -l 14 -n span vgm "$LM1:2-11" "$LM2:0-3"
for l in "${LOOPS[@]}"; do losetup -d "$l"; done
LOOPS=()

python3 - <<'EOF'
import re, shutil, struct, zlib

def crc(b):  # LVM's calc_crc
    return ~zlib.crc32(b, ~0xf597a6cf & 0xffffffff) & 0xffffffff

def locate(img):
    lab = img[512:1024]
    assert lab[:8] == b"LABELONE"
    p = struct.unpack_from("<I", lab, 20)[0] + 40
    while struct.unpack_from("<QQ", lab, p) != (0, 0): p += 16
    mda_off, mda_size = struct.unpack_from("<QQ", lab, p + 16)
    off, size = struct.unpack_from("<QQ", img, mda_off + 40)
    return mda_off, mda_size, off, size

def edit(name, fn, fix_crc=True, raw=None):
    img = bytearray(open("h.img", "rb").read())
    mda_off, mda_size, off, size = locate(img)
    text = bytes(img[mda_off + off: mda_off + off + size]).rstrip(b"\0").decode()
    if fn:
        new = fn(text).encode() + b"\0"
        assert off + len(new) <= mda_size
        img[mda_off + off: mda_off + off + len(new)] = new
        struct.pack_into("<Q", img, mda_off + 48, len(new))
        if fix_crc:
            struct.pack_into("<I", img, mda_off + 56, crc(new))
    if raw:
        raw(img, mda_off, mda_size)
    # the mda header checksum covers everything after itself
    struct.pack_into("<I", img, mda_off, crc(bytes(img[mda_off + 4: mda_off + 512])))
    open("bad-%s.img" % name, "wb").write(img)

def lv(text, name):  # (start, end) of LV name's section body
    m = re.search(r"\n\s*%s \{\n" % name, text)
    depth, i = 1, m.end()
    while depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0); i += 1
    return m.end(), i - 1

def set_lv_segments(text, name, segs):
    s, e = lv(text, name)
    body = re.sub(r"segment_count = \d+", "segment_count = %d" % len(segs), text[s:e])
    body = body[:body.index("segment1 {")]
    for i, (start, count, pe) in enumerate(segs):
        body += ('segment%d {\nstart_extent = %d\nextent_count = %d\ntype = "striped"\n'
                 'stripe_count = 1\nstripes = [\n"pv0", %d\n]\n}\n' % (i + 1, start, count, pe))
    return text[:s] + body + text[e:]

def sub(pat, rep, count=1):
    def f(t):
        n = re.subn(pat, rep, t, count=count)
        assert n[1] > 0, pat
        return n[0]
    return f

def pv_twice(t):
    s = t.index("pv0 {"); e = t.index("}", s) + 1
    return t[:e] + "\npv1 " + t[s + 4:e] + t[e:]

def lv_twice(t):
    s, e = lv(t, "b")
    m = re.search(r"\n\s*b \{\n", t)
    return t[:e + 1] + "\nb {\n" + t[s:e + 1] + t[e + 1:]

EDITS = {
    "truncated": lambda t: t[: len(t) // 2],
    "deep": lambda t: t.replace("logical_volumes {", "logical_volumes {\n" + "x {\n" * 1000 + "}\n" * 1000, 1),
    "pv-twice": pv_twice,
    "pv-key-twice": lambda t: pv_twice(t).replace("\npv1 {", "\npv0 {"),
    "lv-twice": lv_twice,
    "extents": sub(r'"pv0", 0\n', '"pv0", 1000\n'),
    "extents-end": sub(r'"pv0", 4\n', '"pv0", 11\n'),
    "overlap": lambda t: set_lv_segments(t, "a", [(0, 3, 0), (2, 2, 8)]),
    "gap": lambda t: set_lv_segments(t, "a", [(0, 2, 0), (3, 2, 8)]),
    "absurd-extents": lambda t: set_lv_segments(t, "a", [(0, 4611686018427387900, 0)]),
    "absurd-segments": sub(r"segment_count = 1", "segment_count = 1000000"),
    "absurd-stripes": sub(r"stripe_count = 1", "stripe_count = 100000"),
    "stripes-short": sub(r"stripe_count = 1", "stripe_count = 2"),
    "stripe-size": lambda t: sub(r'stripe_count = 1\n', 'stripe_count = 2\nstripe_size = 3\n')(
        sub(r'"pv0", 0\n', '"pv0", 0, "pv0", 6\n')(t)),
    "zero-extent-size": sub(r"extent_size = \d+", "extent_size = 0"),
    "pe-count": sub(r"pe_count = \d+", "pe_count = 1000000"),
    "unknown-pv": sub(r'"pv0", 0\n', '"pv7", 0\n'),
    "huge-number": sub(r"seqno = \d+", "seqno = 99999999999999999999999"),
    "unterminated": lambda t: t[: t.index('id = "') + 10],
    "not-a-section": sub(r"physical_volumes \{", "physical_volumes = 5\nxx {"),
    "no-segtype": sub(r'type = "striped"\n', ""),
    "vg-name": sub(r"\Avgh \{", "../vgh {"),
    "lv-name": sub(r"\n(\s*)b \{", r"\n\1../../b {"),
}
for name, fn in EDITS.items():
    edit(name, fn)
# Bytes changed behind the checksums' back.
edit("bad-text-crc", sub("vgh", "vgX"), fix_crc=False)
def bad_label(img, *_):
    img[512 + 100] ^= 0xff
edit("bad-label", None, raw=bad_label)
def locn_range(img, mda_off, mda_size):
    struct.pack_into("<Q", img, mda_off + 40, mda_size + 4096)
edit("locn-range", None, raw=locn_range)
def locn_size(img, mda_off, mda_size):
    struct.pack_into("<Q", img, mda_off + 48, 1 << 40)
edit("locn-size", None, raw=locn_size)
EOF
cp h.img dup.img  # the same PV on two disks
ls -l
