#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile md superblocks (test-images/md-hostile.sh): each forged member
# is refused with a warning that says why, the array goes on from the
# sound member where it can, nothing crashes (also under ASan+UBSan).
# What the array holds comes from tree/, the source mke2fs -d was given.
. "$(dirname "$0")/lib.sh"
D=$(fixture md-hostile) || skip_all "fixture md-hostile failed"

sums() { (cd "$1" && find . -type f | sort | xargs sha256sum); }
sums "$D/tree" >"$T/want"
reads_tree() { # DESC IMAGES...
    local desc=$1; shift
    local A=() i
    for i in "$@"; do A+=(-a "$i"); done
    rm -rf "$T/out" && mkdir "$T/out"
    if gcopy-out "${A[@]}" -m /dev/md127 / "$T/out" 2>"$T/err" && sums "$T/out" | cmp -s - "$T/want" \
        && ! grep -qE 'Sanitizer|runtime error' "$T/err"; then
        _tap_result 0 "$desc"
    else
        _tap_result 1 "$desc"
        diag "$(head -n 5 "$T/err")"
    fi
}
reads_tree "sound raid1 reads" "$D/r1-0.img" "$D/r1-1.img"
for c in "csum:checksum mismatch" "disks0:bad number of devices 0" "disks-huge:bad number of devices" \
    "level7:unsupported RAID level 7" "off:outside the device" "reshape:reshape is in progress" \
    "maxdev:bad superblock size" "role:both claim slot 0" "mixed:disagrees with the array" \
    "chunk3:disagrees with the array"; do
    n=${c%%:*} why=${c#*:}
    gls -a "$D/$n-0.img" -a "$D/$n-1.img" -m /dev/md127 / >/dev/null 2>"$T/err"
    grep -q "$why" "$T/err"
    is "$?" 0 "$n: the warning says \"$why\""
    reads_tree "$n: the array reads from the sound member" "$D/$n-0.img" "$D/$n-1.img"
done
fails_cleanly "size: a component bigger than the members is refused" \
    gls -a "$D/size-0.img" -a "$D/size-1.img" -m /dev/md127 /
grep -q "component size" "$T/fc.err"
is "$?" 0 "size: the message names the component size"
reads_tree "raid5 with every member" "$D/r5-0.img" "$D/r5-1.img" "$D/r5-2.img"
for k in 0 1 2; do
    m=()
    for i in 0 1 2; do [ $i = $k ] || m+=("$D/r5-$i.img"); done
    reads_tree "raid5 without member $k: rebuilt from parity" "${m[@]}"
done
fails_cleanly "raid5 with two members missing" gls -a "$D/r5-1.img" -m /dev/md127 /
grep -q "raid5 with 2 of 3 members missing" "$T/fc.err"
is "$?" 0 "raid5 with two missing: says so"
done_testing
