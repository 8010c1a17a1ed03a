#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg info against qemu-img info (the oracle), human and JSON, with and
# without --backing-chain.  Nothing is normalised: both tools run in the
# fixture directory with the same arguments, so file names, actual sizes
# (st_blocks of the same files) and snapshot dates are the same.  JSON is
# compared as text (qemu-img's QDict key order) and as parsed data.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
dir=$(fixture qcow2-fixtures) || exit 1
cd "$dir"

# Run gimg and qemu-img with the same arguments: same stdout, same status.
json_same() { # DESC ARGS...: parsed JSON equal
    local desc=$1; shift
    gimg "$@" >"$T/g.json" 2>/dev/null
    qemu-img "$@" >"$T/q.json" 2>/dev/null
    ok "$desc" python3 -c '
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
if a != b:
    print("gimg:", a); print("qemu-img:", b); sys.exit(1)' "$T/g.json" "$T/q.json"
}

for img in *.qcow2 *.raw; do
    like_qemu_img "info $img" info "$img"
    like_qemu_img "info --output=json $img (text)" info --output=json "$img"
    json_same "info --output=json $img (parsed)" info --output=json "$img"
done
for img in ch1.qcow2 ch2.qcow2 ch7.qcow2 ch16.qcow2 qb-top.qcow2 qb-mid.qcow2 el2-ov.qcow2 snap.qcow2 \
           datafile.qcow2 c64k.qcow2 src.raw; do
    like_qemu_img "info --backing-chain $img" info --backing-chain "$img"
    like_qemu_img "info --backing-chain --output=json $img" info --backing-chain --output=json "$img"
done
json_same "info --backing-chain --output=json ch16.qcow2 (parsed)" info --backing-chain --output=json ch16.qcow2

# Sizes where qemu's size_to_str() switches units (at 1000, not 1024)
truncate -s 1047552 "$T/odd.raw"
qemu-img create -q -f qcow2 "$T/odd.qcow2" 1023k
like_qemu_img "info of a 1023 KiB raw image (0.999 MiB)" info "$T/odd.raw"
like_qemu_img "info of a 1023 KiB qcow2 image" info "$T/odd.qcow2"

# Other spellings and names
like_qemu_img "info -f raw of a qcow2 file" info -f raw c64k.qcow2
like_qemu_img "info -f qcow2 -U" info -f qcow2 -U el2.qcow2
like_qemu_img "info --output human" info --output human snap.qcow2
cd "$T"
like_qemu_img "info with a path: backing file shows its actual path" info "$dir/ch3.qcow2"
like_qemu_img "info --backing-chain with a path" info --backing-chain --output=json "$dir/qb-top.qcow2"
cd "$dir"

# A data file name extension without the data file bit: qemu shows the
# name in info but never opens it (check calls the image clean); the raw
# bit with it is refused by everything but info.
cd "$T"
qemu-img create -q -f qcow2 -o data_file=dd.raw dx.qcow2 1M
rm dd.raw
python3 -c '
import sys
f = open(sys.argv[1], "r+b")
f.seek(79); b = f.read(1)[0]; f.seek(79); f.write(bytes([b & ~4]))
f.close()
f = open(sys.argv[2], "wb"); f.write(open(sys.argv[1], "rb").read()); f.seek(95); f.write(bytes([2]))
' dx.qcow2 dy.qcow2
for img in dx.qcow2 dy.qcow2; do
    like_qemu_img "info, data file name without the bit: $img" info "$img"
    like_qemu_img "info --output=json, data file name without the bit: $img" info --output=json "$img"
done
like_qemu_img "check, data file name without the bit: clean" check dx.qcow2
like_qemu_img "map, data file name without the bit: the image's own clusters" map --output=json dx.qcow2
fails_cleanly "check, raw bit without a data file: refused as qemu-img does" gimg check dy.qcow2
qemu-img check dy.qcow2 >/dev/null 2>&1 && diag "qemu-img check accepted dy.qcow2"
cd "$dir"

# Errors, help, version
fails_cleanly "info of a missing file" gimg info nosuch.qcow2
fails_cleanly "info -f qcow2 of a raw file" gimg info -f qcow2 src.raw
fails_cleanly "info -f vmdk" gimg info -f vmdk src.raw
fails_cleanly "info --output=xml" gimg info --output=xml src.raw
fails_cleanly "info with two images" gimg info src.raw base.raw
fails_cleanly "unknown command" gimg frobnicate src.raw
ok "gimg --help" gimg --help
ok "gimg info --help" gimg info --help
like() { case "$1" in *"$2"*) _tap_result 0 "$3" ;; *) _tap_result 1 "$3"; diag "got: $1" ;; esac; }
like "$(gimg --help)" "convert" "--help lists the commands"
like "$(gimg -V)" "gimg (guestkit)" "-V prints the version"
like "$(gimg --version)" "gimg (guestkit)" "--version prints the version"

done_testing
