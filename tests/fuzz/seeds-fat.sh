#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Seeds for the fat fuzz target: FAT12, FAT16 and FAT32 images made by
# mkfs.vfat and filled by mcopy (long and short names, a subdirectory, a
# file of several clusters), cut to their first 128 KiB (the target reads
# zeros beyond its input).
set -eu
c=${1:?usage: seeds-fat.sh CORPUS}
command -v mkfs.vfat >/dev/null && command -v mcopy >/dev/null || exit 0
export MTOOLS_SKIP_CHECK=1 LANG=C.UTF-8 LC_ALL=C.UTF-8
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
mkdir -p "$w/src/Sub dir"
echo hello >"$w/src/readme.txt"
echo long >"$w/src/A long file name.text"
echo accent >"$w/src/Grüße.md"
seq 1 2000 >"$w/src/Sub dir/numbers"
i=0
for spec in "128k -F 12 -s 1" "128k -F 12 -s 4 -r 16" "8M -F 16 -s 4 -r 64" "40M -F 32 -s 1 -f 1 -R 2"; do
    set -- $spec
    sz=$1; shift
    rm -f "$w/img"
    truncate -s "$sz" "$w/img"
    mkfs.vfat "$@" -n SEED "$w/img" >/dev/null 2>&1 || continue
    mcopy -s -i "$w/img" "$w/src"/* ::/ >/dev/null 2>&1 || true
    head -c 131072 "$w/img" >"$c/seed$i"
    i=$((i + 1))
done
