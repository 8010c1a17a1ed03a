#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# LVM2 fixtures, made by lvm2 itself over loop devices (there is no
# device-mapper here: LVs are created inactive, -an -Zn --driverloaded n).
#
#   d1.img d2.img  VG vg0 on two whole disks (256 KiB extents):
#                    str  2 stripes of 64 KiB over both PVs
#                    fs   ext4 (written into its extents on d1)
#                    lin  linear, from the end of d1 onto d2
#                    zeros  segment type zero (no extents; reads zeros)
#                  (d2's PV has a second metadata area at its end)
#   d3.img         MBR: p1 (83) = a PV in no VG, p2 (8e) = PV of VG vgp (pe_start 64 KiB,
#                    a 60 KiB metadata area whose circular buffer has
#                    wrapped around), LV data
#   d4.img         VG vgthin: a thin pool and a thin LV, hidden _tmeta/
#                    _tdata/_pmspare LVs, and an old-style snapshot "snap"
#                    of LV "orig" (metadata restored with vgcfgrestore, since
#                    lvcreate needs device-mapper for these)
#   dN.qcow2       the same disks as qcow2
#   pvs.json vgs.json lvs.json segs.json   the oracles, from pvs/vgs/lvs
#                    --reportformat json, with the loop device names
#                    replaced by the guest's: d1=/dev/sda d2=/dev/sdb
#                    d3=/dev/sdc d4=/dev/sdd
#   missing-*.json the same reports when only d1 is visible (PV 2 missing)
#   fs.img         the filesystem written into vg0/fs, fs.uuid its UUID
#
# Every disk is filled first with a pattern naming the disk and sector, so
# a wrong mapping of an LV shows which bytes it read.
set -euo pipefail
. "$(dirname "$0")/lib-lvm.sh"
OUT=$(realpath "$1")
mkdir -p "$OUT"
cd "$OUT"
rm -f ./*.img ./*.qcow2 ./*.json
export SOURCE_DATE_EPOCH=1700000000
W=$(mktemp -d)
LOOPS=()
cleanup() {
    for l in "${LOOPS[@]}"; do losetup -d "$l" || true; done
    rm -rf "$W"
}
trap cleanup EXIT

pattern() { # FILE SIZE_MIB TAG
    python3 - "$@" <<'EOF'
import sys
path, mib, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path, "wb") as f:
    for s in range(mib * 2048):
        line = ("%s sector %08d\n" % (tag, s)).encode()
        f.write((line * (512 // len(line) + 1))[:512])
EOF
}
pattern d1.img 12 d1
pattern d2.img 12 d2
pattern d3.img 10 d3
truncate -s 8M d4.img

# d3: an MBR with the PV in partition 2.
sfdisk -q d3.img <<'EOF'
label: dos
label-id: 0x4c564d33
start=2048, size=4096, type=83
start=6144, type=8e
EOF

attach() { # FILE [losetup options]: sets $L (no subshell, so LOOPS is kept)
    L=$(losetup -f --show "${@:2}" "$1")
    LOOPS+=("$L")
}
attach d1.img; L1=$L
attach d2.img; L2=$L
attach d3.img --offset $((6144 * 512)); L3=$L
attach d4.img; L4=$L
attach d3.img --offset $((2048 * 512)) --sizelimit $((4096 * 512)); L5=$L

# A private LVM configuration: only our loop devices, no devices file, no
# backups, no udev, no hints under /run.
lvm_private_config "$W" "$L1" "$L2" "$L3" "$L4" "$L5"

# Fixed VG and LV uuids (lvcreate has no option for them): rewrite the ids
# in the metadata and restore it.  PV ids (set above) are kept.
fixids() { # VG N
    lvm vgcfgbackup -q -f "$W/$1.vg" "$1"
    python3 - "$W/$1.vg" "$2" <<'EOF'
import re, sys
path, n = sys.argv[1], int(sys.argv[2])
t = open(path).read()
i = t.index("logical_volumes {") if "logical_volumes {" in t else len(t)
head, tail = t[:i], t[i:]
head = re.sub(r'id = "[^"]*"', 'id = "gkVG%02d-0000-0000-0000-0000-0000-000000"' % n, head, count=1)
k = iter(range(1, 1000))
tail = re.sub(r'id = "[^"]*"', lambda m: 'id = "gkLV%02d-0000-0000-0000-0000-0000-%06d"' % (n, next(k)), tail)
open(path, "w").write(head + tail)
EOF
    lvm vgcfgrestore -q --force -f "$W/$1.vg" "$1"
}

lvm pvcreate -q --norestorefile -u gk0001-LVM1-disk-0001-uuid-fixd-000001 "$L1"
lvm pvcreate -q --norestorefile -u gk0002-LVM1-disk-0002-uuid-fixd-000002 --pvmetadatacopies 2 "$L2"
lvm pvcreate -q --norestorefile -u gk0003-LVM1-part-0003-uuid-fixd-000003 \
    --metadatasize 16k --dataalignment 64k "$L3"
lvm pvcreate -q --norestorefile -u gk0004-LVM1-thin-0004-uuid-fixd-000004 "$L4"
lvm pvcreate -q --norestorefile -u gk0005-LVM1-orph-0005-uuid-fixd-000005 "$L5"

lvm vgcreate -q -s 256k vg0 "$L1" "$L2"
lvm lvcreate "${NOACT[@]}" -l 8 -i 2 -I 64k -n str vg0
lvm lvcreate "${NOACT[@]}" -l 8 -n fs vg0 "$L1"
lvm lvcreate "${NOACT[@]}" -l 40 -n lin vg0 "$L1:12-43" "$L2:4-11"
lvm lvcreate "${NOACT[@]}" --type zero -l 4 -n zeros vg0
fixids vg0 1

# vgp: metadata rewritten until the circular buffer wraps around.
lvm vgcreate -q -s 1m vgp "$L3"
lvm lvcreate "${NOACT[@]}" -l 4 -n data vgp
fixids vgp 2
wrapped() {
    python3 - "$L3" <<'EOF'
import struct, sys
with open(sys.argv[1], "rb") as f:
    f.seek(512); lab = f.read(512)
    # PV header at the label's offset: uuid, size, data areas, then mdas
    p = 32 + 32 + 8
    while struct.unpack_from("<QQ", lab, p) != (0, 0): p += 16
    p += 16
    mda_off, mda_size = struct.unpack_from("<QQ", lab, p)
    f.seek(mda_off); h = f.read(512)
    off, size = struct.unpack_from("<QQ", h, 40)
    sys.exit(0 if off + size > mda_size else 1)
EOF
}
for i in $(seq 1 80); do
    wrapped && break
    lvm lvchange -q --addtag "tag$i-$(printf '%0100d' "$i")" vgp/data
done
wrapped || { echo "metadata of vgp did not wrap around" >&2; exit 1; }

# vgthin: component LVs made by lvcreate, then renamed, hidden and joined
# into a pool and a thin LV in the metadata text, restored by vgcfgrestore.
lvm vgcreate -q -s 256k vgthin "$L4"
lvm lvcreate "${NOACT[@]}" -l 2 -n tm vgthin
lvm lvcreate "${NOACT[@]}" -l 8 -n td vgthin
lvm lvcreate "${NOACT[@]}" -l 2 -n ps vgthin
lvm lvcreate "${NOACT[@]}" -l 4 -n orig vgthin
lvm lvcreate "${NOACT[@]}" -l 2 -n snap vgthin
lvm vgcfgbackup -q -f "$W/thin.vg" vgthin
python3 - "$W/thin.vg" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
def hide(t, old, new):
    m = re.search(r"\n(\s*)%s \{" % old, t)
    t = t[:m.start()] + "\n%s%s {" % (m.group(1), new) + t[m.end():]
    i = t.index("%s {" % new); j = t.index("status", i); k = t.index("]", j)
    return t[:j] + 'status = ["READ", "WRITE"' + t[k:]
t = hide(t, "tm", "pool_tmeta"); t = hide(t, "td", "pool_tdata"); t = hide(t, "ps", "lvol0_pmspare")
new = """
pool {
id = "gkP00l-0000-0000-0000-0000-0000-p00l01"
status = ["READ", "WRITE", "VISIBLE"]
flags = []
creation_time = 1700000000
creation_host = "fixture"
segment_count = 1
segment1 {
start_extent = 0
extent_count = 8
type = "thin-pool"
metadata = "pool_tmeta"
pool = "pool_tdata"
transaction_id = 1
chunk_size = 128
discards = "passdown"
zero_new_blocks = 0
}
}
thin {
id = "gkTh1n-0000-0000-0000-0000-0000-th1n01"
status = ["READ", "WRITE", "VISIBLE"]
flags = []
creation_time = 1700000000
creation_host = "fixture"
segment_count = 1
segment1 {
start_extent = 0
extent_count = 16
type = "thin"
thin_pool = "pool"
transaction_id = 0
device_id = 1
}
}
"""
new += """
snapshot0 {
id = "gkSnap-0000-0000-0000-0000-0000-snap01"
status = ["READ"]
flags = []
creation_time = 1700000000
creation_host = "fixture"
segment_count = 1
segment1 {
start_extent = 0
extent_count = 4
type = "snapshot"
chunk_size = 8
origin = "orig"
cow_store = "snap"
}
}
"""
i = t.index("logical_volumes {") + len("logical_volumes {")
open(sys.argv[1], "w").write(t[:i] + new + t[i:])
EOF
lvm vgcfgrestore -q --force -f "$W/thin.vg" vgthin
fixids vgthin 3

# The filesystem of vg0/fs, written at its place on d1 (pe_start + extent).
mkdir -p "$W/root/etc"
echo "hello from an LV" >"$W/root/etc/motd"
touch -d @1700000000 "$W/root/etc/motd" "$W/root/etc" "$W/root"
mke2fs -q -F -t ext4 -b 1024 -U 6c766d2d-6673-4000-8000-000000000001 \
    -E hash_seed=6c766d2d-6673-4000-8000-000000000002 -d "$W/root" fs.img 2048
echo 6c766d2d-6673-4000-8000-000000000001 >fs.uuid

REPORT=(--reportformat json --units b --nosuffix)
guestnames() { sed -e "s|$L1|/dev/sda|g" -e "s|$L2|/dev/sdb|g" -e "s|$L3|/dev/sdc2|g" -e "s|$L4|/dev/sdd|g" -e "s|$L5|/dev/sdc1|g"; }
report() { # PREFIX [--config ...]
    lvm pvs "${REPORT[@]}" "${@:2}" -o pv_name,vg_name,pv_uuid,pv_size,pe_start,dev_size,pv_pe_count |
        guestnames >"$1pvs.json"
    lvm vgs "${REPORT[@]}" "${@:2}" -o vg_name,vg_uuid,vg_extent_size,vg_size,pv_count,lv_count,vg_missing_pv_count |
        guestnames >"$1vgs.json"
    lvm lvs "${REPORT[@]}" "${@:2}" -o vg_name,lv_name,lv_uuid,lv_size,segtype,origin,lv_attr | guestnames >"$1lvs.json"
    lvm lvs -a --segments "${REPORT[@]}" "${@:2}" \
        -o vg_name,lv_name,segtype,seg_start_pe,seg_size_pe,seg_pe_ranges,stripes,stripe_size,devices |
        guestnames >"$1segs.json"
}
report ""
report missing- --config "devices { filter = [ \"a|^$L1\$|\", \"r|.*|\" ] }"

offset=$(jq -r '.report[0].pv[] | select(.pv_name == "/dev/sda") | .pe_start' pvs.json)
ext=$(jq -r '.report[0].seg[] | select(.lv_name == "fs") | .seg_pe_ranges' segs.json)
ext=${ext#/dev/sda:}
ext=${ext%-*}
dd if=fs.img of="$L1" bs=1024 seek=$(((offset + ext * 262144) / 1024)) conv=notrunc status=none
sync

for l in "${LOOPS[@]}"; do losetup -d "$l"; done
LOOPS=()
for d in d1 d2 d3 d4; do
    qemu-img convert -f raw -O qcow2 "$d.img" "$d.qcow2"
done
ls -l
