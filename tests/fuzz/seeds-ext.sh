#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Seeds for the ext fuzz target: tiny ext2/ext4 images made by mke2fs -d
# (the fuzzer's inputs are at most 128 KiB).
set -eu
c=${1:?usage: seeds-ext.sh CORPUS}
command -v mke2fs >/dev/null || exit 0
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
mkdir -p "$w/src/dir"
echo hello >"$w/src/small"
head -c 5000 /etc/services >"$w/src/dir/file" 2>/dev/null || seq 1 900 >"$w/src/dir/file"
ln -s small "$w/src/link"
ln -s "$(printf 'x%.0s' $(seq 1 80))" "$w/src/dir/longlink"
i=0
for opts in "-t ext2" "-t ext4 -O ^has_journal" "-t ext4 -O ^has_journal,inline_data -I 256" \
    "-t ext4 -O ^has_journal,metadata_csum,64bit"; do
    truncate -s 128k "$w/img"
    mke2fs -q -F -b 1024 -N 32 $opts -d "$w/src" "$w/img" >/dev/null 2>&1 || continue
    cp "$w/img" "$c/seed$i"
    i=$((i + 1))
    rm -f "$w/img"
done
