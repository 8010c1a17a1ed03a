#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Partition tables and probing against the oracles: sfdisk --json (geometry,
# MBR type bytes, GPT type/unique GUIDs and names), sgdisk -i (attributes),
# blkid -p -O/-S (what each partition holds).  The qcow2 versions of every
# disk must give exactly what the raw ones give.
. "$(dirname "$0")/lib.sh"
dir=$(fixture parts) || exit 1
# a cache made before luks.img was added: build it again
[ -e "$dir/luks.img" ] || { rm -f "$dir/.done"; dir=$(fixture parts) || exit 1; }
UNIT=${GK_UNIT:-$TOP/build/tests}/unit-devices
[ -x "$UNIT" ] || { echo "Bail out! $UNIT not built"; exit 1; }

# expected partition lines from sfdisk's json:
#   name|start|size|mbrtype|typeguid|partuuid|partlabel   (bytes)
from_sfdisk() { # JSON DISKNAME
    python3 - "$1" "$2" <<'EOF'
import json, re, sys
pt = json.load(open(sys.argv[1]))["partitiontable"]
ss = pt.get("sectorsize", 512)
for p in pt["partitions"]:
    n = int(re.search(r"(\d+)$", p["node"]).group(1))
    if pt["label"] == "dos":
        mbr = "%02x" % int(p["type"], 16)
        guid = ""
        uuid = "%08x-%02x" % (int(pt["id"], 16), n)
        name = ""
    else:
        mbr = ""
        guid = p["type"].upper()
        uuid = p["uuid"].lower()
        name = p.get("name", "")
    print("%s%d|%d|%d|%s|%s|%s|%s" % (sys.argv[2], n, p["start"] * ss, p["size"] * ss, mbr, guid, uuid, name))
EOF
}
# the same fields from our dump
# The unit binary's warnings are TAP diagnostics on stdout ("# warning: ..."):
# collect them with whatever reaches stderr.
ours() {
    "$UNIT" --dump "$@" >"$T/dump" 2>"$T/warn"
    sed -n 's/^# warning: //p' "$T/dump" >>"$T/warn"
    awk -F'|' '$2 == "part" { print $1 "|" $3 "|" $4 "|" $6 "|" $7 "|" $8 "|" $9 }' "$T/dump"
}

for x in mbr gpt gpt4k luks; do
    if [ ! -s "$dir/$x.sfdisk.json" ]; then
        diag "$x: no sfdisk json (no 4K loop device when the fixture was made)"
        continue
    fi
    is "$(ours "$dir/$x.img")" "$(from_sfdisk "$dir/$x.sfdisk.json" /dev/sda)" "$x: geometry, types, GUIDs, names = sfdisk --json"
    is "$(ours "$dir/$x.qcow2")" "$(ours "$dir/$x.img")" "$x.qcow2: same as raw"
    is "$(ours "$dir/$x-top.qcow2")" "$(ours "$dir/$x.img")" "$x-top.qcow2 (overlay): same as raw"
done

# sector size detection
is "$("$UNIT" --dump "$dir/gpt4k.img" 2>/dev/null | awk -F'|' '$1 == "/dev/sda" { print $11 }')" 4096 "gpt4k: 4096-byte sectors detected"
is "$("$UNIT" --dump "$dir/gpt.img" 2>/dev/null | awk -F'|' '$1 == "/dev/sda" { print $11 }')" 512 "gpt: 512-byte sectors"

# GPT attributes, per sgdisk -i
for n in 1 2 3 4 6 7; do
    want=$(sgdisk -i $n "$dir/gpt.img" | sed -n 's/^Attribute flags: //p' | tr 'A-F' 'a-f')
    got=$("$UNIT" --dump "$dir/gpt.img" 2>/dev/null | awk -F'|' -v d=/dev/sda$n '$1 == d { print $10 }')
    is "$got" "$want" "gpt: partition $n attributes = sgdisk -i"
done

# a damaged primary GPT header: the backup gives the same partitions, with a warning
for x in gpt gpt4k; do
    is "$(ours "$dir/$x-smashed.img")" "$(ours "$dir/$x.img")" "$x-smashed: backup header gives the same table"
    ours "$dir/$x-smashed.img" >/dev/null
    ok "$x-smashed: warning about the backup" grep -q "GPT primary header is damaged.*using the backup header" "$T/warn"
done
ours "$dir/gpt.img" >/dev/null
is "$(cat "$T/warn")" "" "gpt: no warnings for a good table"

# probing: every device against blkid -p at the same offset and size
for x in mbr gpt gpt4k whole luks; do
    "$UNIT" --dump "$dir/$x.img" 2>/dev/null >"$T/dump"
    bad=
    while IFS='|' read -r name kind start size devsize _ _ _ _ _ _ type uuid label version usage; do
        [ "$kind" = disk ] && { start=0; size=$devsize; }
        [ "$devsize" -lt "$size" ] && size=$devsize
        exp=$(blkid -p -O "$start" -S "$size" -o export "$dir/$x.img" 2>/dev/null |
              grep -E '^(TYPE|UUID|LABEL|VERSION|USAGE)=' | sed 's/\\ / /g' | sort | tr '\n' ' ')
        got=$(for kv in "TYPE=$type" "UUID=$uuid" "LABEL=$label" "VERSION=$version" "USAGE=$usage"; do
                  [ "${kv#*=}" ] && echo "$kv"; done | sort | tr '\n' ' ')
        if [ "$exp" != "$got" ]; then
            bad="$bad $name"
            diag "$x $name: blkid: $exp" "$x $name: ours:  $got"
        fi
    done <"$T/dump"
    is "$bad" "" "$x: TYPE/UUID/LABEL/VERSION/USAGE of every device = blkid -p"
done
is "$("$UNIT" --dump "$dir/luks.img" 2>/dev/null | awk -F'|' '$1 == "/dev/sda1" { print $12, $16 }')" "crypto_LUKS crypto" \
   "luks: the LUKS container is reported as crypto_LUKS (usage crypto)"
"$UNIT" --dump "$dir/mbr.qcow2" 2>/dev/null | cut -d'|' -f12- >"$T/q"
"$UNIT" --dump "$dir/mbr.img" 2>/dev/null | cut -d'|' -f12- >"$T/r"
same_file "$T/q" "$T/r" "mbr.qcow2: probing through the qcow2 driver = raw"

# gfilesystems --parts --long: sizes are the partition devices' sizes.  The
# MBR extended partition is a 1 KiB device, as the kernel makes it
# (block/partitions/msdos.c); mbr.kernel-sizes holds blockdev --getsize64 of
# the kernel's own partition devices when the fixture could make them.
want=$(python3 - "$dir/mbr.sfdisk.json" <<'EOF'
import json, re, sys
pt = json.load(open(sys.argv[1]))["partitiontable"]
ss = pt["sectorsize"]
for p in pt["partitions"]:
    n = int(re.search(r"(\d+)$", p["node"]).group(1))
    size = p["size"] * ss
    t = int(p["type"], 16)
    if t in (0x05, 0x0f, 0x85):
        size = min(size, max(ss, 1024))
    print("/dev/sda%d,partition,%02x,%d,/dev/sda," % (n, t, size))  # empty UUID last
EOF
)
is "$(gfilesystems --parts --long --uuid --csv --no-title "$dir/mbr.img")" "$want" "mbr: gfilesystems --parts --long --csv"
if [ -s "$dir/mbr.kernel-sizes" ]; then
    is "$(gfilesystems --parts --long --csv --no-title "$dir/mbr.img" | awk -F, '{ sub("/dev/sda", "", $1); print $1, $4 }')" \
       "$(cat "$dir/mbr.kernel-sizes")" "mbr: partition sizes = the kernel's (losetup -P)"
fi
for x in mbr gpt gpt4k whole; do
    is "$(gfilesystems --all --long --uuid --csv "$dir/$x-top.qcow2" 2>&1)" \
       "$(gfilesystems --all --long --uuid --csv "$dir/$x.img" 2>&1)" "$x: gfilesystems --all on the qcow2 chain = raw"
done

# several disks: sda, sdb, ... in the order given
is "$(gfilesystems --parts -a "$dir/whole.img" -a "$dir/mbr.img" -a "$dir/gpt4k.qcow2" | tr '\n' ' ')" \
   "/dev/sdb1 /dev/sdb2 /dev/sdb3 /dev/sdb4 /dev/sdb5 /dev/sdb6 /dev/sdb7 /dev/sdc1 /dev/sdc2 /dev/sdc3 " \
   "three disks: partitions named by disk order"
is "$(gfilesystems --blkdevs -a "$dir/whole.img" -a "$dir/mbr.img" -a "$dir/gpt4k.qcow2" | tr '\n' ' ')" \
   "/dev/sda /dev/sdb /dev/sdc " "three disks: block devices"
done_testing
