#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# LVM2 volume groups and logical volumes, compared with what lvm2 itself
# reports (pvs/vgs/lvs --reportformat json, saved by test-images/lvm.sh) and
# with the bytes at the PV offsets lvs names, read from the image files.
. "$(dirname "$0")/lib.sh"

H=${GK_UNIT:-$(dirname "$GK_BIN")/tests}/unit-lvm-devices
[ -x "$H" ] || skip_all "needs $H (make check-build)"
if ! dir=$(fixture lvm); then
    echo "not ok 1 - fixture lvm"
    echo "1..1"
    exit 1
fi
cd "$dir"
RAW=(d1.img d2.img d3.img d4.img)
QCOW=(d1.qcow2 d2.qcow2 d3.qcow2 d4.qcow2)
# lvs prints one row per segment when segtype is asked for: one per LV.
LVS='[.report[0].lv[]] | unique_by([.vg_name, .lv_name])[]'

# --- listings: PVs, VGs, LVs as lvm2 reports them -------------------------
"$H" list "${RAW[@]}" >"$T/list" 2>"$T/list.err"
is "$?" 0 "list: exit status"
is "$(cat "$T/list.err")" "" "list: no warnings on good images"
# (pvs puts PVs in no VG last; guestkit sorts by device name: compare sorted)
is "$(grep '^pv ' "$T/list" | sort)" \
    "$(jq -r '.report[0].pv[] | "pv \(.pv_name) \(.pv_uuid) \(.vg_name | if . == "" then "-" else . end) \(.pv_size) \(.pe_start)"' pvs.json | sort)" \
    "PVs (one in no VG): name, uuid, VG, size, pe_start as pvs reports them"
is "$(grep '^vg ' "$T/list")" \
    "$(jq -r '.report[0].vg[] | "vg \(.vg_name) \(.vg_uuid) \(.vg_extent_size) \(.vg_size) \(.pv_count) \(.vg_missing_pv_count)"' vgs.json)" \
    "VGs: name, uuid, extent size, size, PV count as vgs reports them"
is "$(grep '^lv ' "$T/list")" \
    "$(jq -r "$LVS"' | "lv \(.vg_name) \(.lv_name) \(.lv_uuid) \(.segtype) \(.lv_size)"' lvs.json)" \
    "LVs (hidden ones left out): name, uuid, type, size as lvs reports them"

# Every LV lvs lists is a device /dev/VG/LV; thin ones and snapshots (attr
# "s": their own extents are the COW store) cannot be opened.
exp_dev=$(jq -r "$LVS"' | "dev /dev/\(.vg_name)/\(.lv_name) \(.vg_name) \(.lv_uuid) " +
    (if (.lv_attr | startswith("s")) then "error: segment type snapshot is not supported"
     elif (.segtype == "linear" or .segtype == "striped" or .segtype == "zero") then .lv_size
     else "error: segment type \(.segtype) is not supported" end)' lvs.json)
is "$(grep '^dev ' "$T/list" | sed -E 's/^(dev .* [0-9]+) [^ ]+$/\1/')" "$exp_dev" \
    "LV devices: names, VG, uuid, size or why not"

# --- contents: the LV read through guestkit = the PV extents lvs names ----
# expected.py VG LV OUT: assemble the LV from segs.json/pvs.json/vgs.json
# by reading the image files at pe_start + extent * extent_size (striped:
# stripe_size chunks taken from each stripe in turn).
cat >"$T/expected.py" <<'EOF'
import json, subprocess, sys
vg, lv, out = sys.argv[1:4]
def rep(f, k): return json.load(open(f))["report"][0][k]
es = int([v for v in rep("vgs.json", "vg") if v["vg_name"] == vg][0]["vg_extent_size"])
pe_start = {p["pv_name"]: int(p["pe_start"]) for p in rep("pvs.json", "pv")}
parts = json.loads(subprocess.check_output(["sfdisk", "--json", "d3.img"]))["partitiontable"]["partitions"]
where = {"/dev/sda": ("d1.img", 0), "/dev/sdb": ("d2.img", 0), "/dev/sdd": ("d4.img", 0),
         "/dev/sdc2": ("d3.img", parts[1]["start"] * 512)}
def read(pv, off, n):
    f, base = where[pv]
    with open(f, "rb") as fh:
        fh.seek(base + pe_start[pv] + off)
        return fh.read(n)
data = b""
for s in sorted((s for s in rep("segs.json", "seg") if s["vg_name"] == vg and s["lv_name"] == lv),
                key=lambda s: int(s["seg_start_pe"])):
    assert int(s["seg_start_pe"]) * es == len(data)
    areas = [(r.rsplit(":", 1)[0], int(r.rsplit(":", 1)[1].split("-")[0])) for r in s["seg_pe_ranges"].split()]
    size = int(s["seg_size_pe"]) * es
    if s["segtype"] == "zero":
        data += bytes(size)
    elif len(areas) == 1:
        data += read(areas[0][0], areas[0][1] * es, size)
    else:
        ss = int(s["stripe_size"]); n = len(areas)
        for chunk in range(size // ss):
            pv, ext = areas[chunk % n]
            data += read(pv, ext * es + (chunk // n) * ss, ss)
open(out, "wb").write(data)
EOF
for vglv in $(jq -r "$LVS"' | select((.segtype == "linear" or .segtype == "striped" or .segtype == "zero") and (.lv_attr | startswith("s") | not)) |
        "\(.vg_name)/\(.lv_name)"' lvs.json); do
    python3 "$T/expected.py" "${vglv%/*}" "${vglv#*/}" "$T/exp" || echo "expected.py failed" >&2
    "$H" cat "/dev/$vglv" "${RAW[@]}" >"$T/got" 2>"$T/err"
    same_file "$T/got" "$T/exp" "read /dev/$vglv (raw) = PV extents named by lvs"
    "$H" cat "/dev/$vglv" "${QCOW[@]}" >"$T/got" 2>"$T/err"
    same_file "$T/got" "$T/exp" "read /dev/$vglv (qcow2) = PV extents named by lvs"
done
# The expected data really is the patterned disks, not zeros or garbage.
python3 "$T/expected.py" vg0 lin "$T/exp"
is "$(head -c 32 "$T/exp" | head -n 1)" "d1 sector $(printf '%08d' $(((1048576 + 12 * 262144) / 512)))" \
    "vg0/lin starts on d1 at pe_start + 12 extents (pattern)"
is "$(tail -c 512 "$T/exp" | head -n 1)" "d2 sector $(printf '%08d' $(((1048576 + 12 * 262144) / 512 - 1)))" \
    "vg0/lin ends on d2 at extent 11 (pattern)"

# /dev/mapper/VG-LV names the same device.
"$H" cat /dev/mapper/vg0-str "${RAW[@]}" >"$T/got" 2>"$T/err"
python3 "$T/expected.py" vg0 str "$T/exp"
same_file "$T/got" "$T/exp" "/dev/mapper/vg0-str"

# The ext4 written into vg0/fs: the same bytes, and e2fsck/blkid agree.
"$H" cat /dev/vg0/fs "${QCOW[@]}" >"$T/fs" 2>"$T/err"
same_file "$T/fs" fs.img "vg0/fs holds the filesystem written there"
ok "e2fsck -fn on vg0/fs read through guestkit" e2fsck -fn "$T/fs"
is "$(blkid -p -s UUID -o value "$T/fs")" "$(cat fs.uuid)" "blkid UUID of vg0/fs"
is "$(grep '^dev /dev/vg0/fs ' "$T/list" | awk '{print $NF}')" "$(blkid -p -s TYPE -o value "$T/fs")" \
    "probed type of /dev/vg0/fs = blkid's"

# --- a missing PV: only d1 of vg0 ------------------------------------------
"$H" list d1.qcow2 >"$T/list" 2>"$T/list.err"
is "$?" 0 "missing PV: list still works"
missing=$(jq -r '.report[0].pv[] | select(.pv_name == "[unknown]") | .pv_uuid' missing-pvs.json)
is "$(grep '^vg ' "$T/list")" \
    "$(jq -r '.report[0].vg[] | "vg \(.vg_name) \(.vg_uuid) \(.vg_extent_size) \(.vg_size) \(.pv_count) \(.vg_missing_pv_count)"' missing-vgs.json) $missing" \
    "missing PV: VG listed with the missing PV's uuid (vgs: vg_missing_pv_count)"
ok "missing PV: warning names it" grep -q "PV $missing is missing" "$T/list.err"
is "$(grep '^lv ' "$T/list")" \
    "$(jq -r "$LVS"' | "lv \(.vg_name) \(.lv_name) \(.lv_uuid) \(.segtype) \(.lv_size)"' missing-lvs.json)" \
    "missing PV: LVs as lvs lists them"
for lv in $(jq -r '.report[0].seg[] | select(.devices | contains("[unknown]")) | .lv_name' missing-segs.json | sort -u); do
    ok "missing PV: vg0/$lv names the missing PV" grep -q "^dev /dev/vg0/$lv .*error: PV $missing is missing" "$T/list"
    fails_cleanly "missing PV: reading vg0/$lv fails cleanly" "$H" cat "/dev/vg0/$lv" d1.qcow2
done
"$H" cat /dev/vg0/fs d1.img >"$T/fs" 2>"$T/err"
same_file "$T/fs" fs.img "missing PV: vg0/fs, wholly on d1, still reads"

# --- the tools, once they exist ----------------------------------------------
if [ -x "$GK_BIN/gfilesystems" ]; then
    gfilesystems --lvs "${RAW[@]/#/-a}" >"$T/gfs" 2>"$T/gfs.err"
    is "$(sort "$T/gfs")" "$(jq -r "$LVS"' | "/dev/\(.vg_name)/\(.lv_name)"' lvs.json | sort)" \
        "gfilesystems --lvs lists the LVs lvs lists"
    gfilesystems --vgs "${RAW[@]/#/-a}" >"$T/gfs" 2>"$T/gfs.err"
    is "$(sort "$T/gfs")" "$(jq -r '.report[0].vg[] | "/dev/\(.vg_name)"' vgs.json | sort)" \
        "gfilesystems --vgs lists the VGs vgs lists"
    gfilesystems --pvs "${QCOW[@]/#/-a}" >"$T/gfs" 2>"$T/gfs.err"
    is "$(sort "$T/gfs")" "$(jq -r '.report[0].pv[] | .pv_name' pvs.json | sort)" \
        "gfilesystems --pvs lists the PVs pvs lists"
else
    echo "ok $((_tap_n + 1)) # SKIP gfilesystems not built yet"
    _tap_n=$((_tap_n + 1))
fi
if [ -x "$GK_BIN/gfsh" ]; then
    gfsh "${QCOW[@]/#/-a}" run : lvs : echo -- : vgs : echo -- : pvs : echo -- : \
        blockdev-getsize64 /dev/vg0/lin : blockdev-getsize64 /dev/mapper/vgp-data >"$T/gfsh" 2>"$T/gfsh.err"
    is "$(awk 'BEGIN{RS="--\n"} NR==1' "$T/gfsh")" \
        "$(jq -r "$LVS"' | "/dev/\(.vg_name)/\(.lv_name)"' lvs.json)" "gfsh lvs = lvs"
    is "$(awk 'BEGIN{RS="--\n"} NR==2' "$T/gfsh")" "$(jq -r '.report[0].vg[] | .vg_name' vgs.json)" "gfsh vgs = vgs"
    is "$(awk 'BEGIN{RS="--\n"} NR==3' "$T/gfsh" | grep . | sort)" "$(jq -r '.report[0].pv[] | .pv_name' pvs.json | sort)" \
        "gfsh pvs = pvs"
    is "$(awk 'BEGIN{RS="--\n"} NR==4' "$T/gfsh")" \
        "$(jq -r "$LVS"' | select(.lv_name == "lin" or .lv_name == "data") | .lv_size' lvs.json)" \
        "gfsh blockdev-getsize64 of /dev/vg0/lin and /dev/mapper/vgp-data = lv_size"
else
    echo "ok $((_tap_n + 1)) # SKIP gfsh not built yet"
    _tap_n=$((_tap_n + 1))
fi
if [ -x "$GK_BIN/gcat" ]; then
    is "$(gcat "${QCOW[@]/#/-a}" -m /dev/vg0/fs /etc/motd 2>&1)" "$(debugfs -R 'cat /etc/motd' fs.img 2>/dev/null)" \
        "gcat -m /dev/vg0/fs /etc/motd = debugfs cat"
    fails_cleanly "gcat -m on a thin LV fails cleanly" gcat "${QCOW[@]/#/-a}" -m /dev/vgthin/thin /etc/motd
    ok "and says why" grep -q 'segment type thin is not supported' "$T/fc.err"
else
    echo "ok $((_tap_n + 1)) # SKIP gcat not built yet"
    _tap_n=$((_tap_n + 1))
fi
done_testing
