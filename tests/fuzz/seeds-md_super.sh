#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Seeds for the md_super fuzz target: the superblocks test-images/lib-md.py
# writes (0.90, 1.0, 1.1, 1.2; linear, raid0/1/5/6/10), cut out of members.
set -eu
c=${1:?usage: seeds-md_super.sh CORPUS}
here=$(cd "$(dirname "$0")/../../test-images" && pwd)
command -v python3 >/dev/null || exit 0
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
head -c 1048576 /dev/urandom >"$w/payload"
i=0
for spec in "1.2 raid1 0 0" "0.90 raid0 0 64" "1.0 raid5 2 64" "1.1 raid6 2 64" "1.2 raid10 258 64" \
    "1.2 raid10 66049 64" "1.2 linear 0 0" "1.2 raid5 0 16" "0.90 raid10 513 64"; do
    set -- $spec
    rm -f "$w"/m*
    truncate -s 4M "$w/m0" "$w/m1" "$w/m2" "$w/m3"
    python3 "$here/lib-md.py" "$w/payload" "$1" "$2" "$3" "$4" $((4 << 20)) gk:seed \
        01234567-0123-0123-0123-000000000001 10 "$w/m0" "$w/m1" "$w/m2" "$w/m3" >/dev/null
    case $1 in
    1.1) dd if="$w/m0" of="$c/seed$i" bs=1024 count=1 status=none ;;
    1.2) dd if="$w/m0" of="$c/seed$i" bs=1024 skip=4 count=1 status=none ;;
    1.0) dd if="$w/m0" of="$c/seed$i" bs=512 skip=$(((8192 - 16) & ~7)) count=2 status=none ;;
    0.90) dd if="$w/m0" of="$c/seed$i" bs=1024 skip=$((4096 - 64)) count=4 status=none ;;
    esac
    i=$((i + 1))
done
