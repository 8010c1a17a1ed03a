#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Damaged and crafted btrfs images (test-images/btrfs-hostile.sh): tree
# blocks changed behind a valid checksum, checksum failures with and
# without a good DUP copy, broken superblocks, a garbled system chunk
# array, corrupt compressed extents.  gls -lR, gcat, gdf and gcopy-out
# must each end with exit 0 or 1 (a clear message), never a signal, a
# sanitizer report or a hang.
. "$(dirname "$0")/lib.sh"
G=$(fixture btrfs) || skip_all "fixture btrfs failed"
D=$(fixture btrfs-hostile) || skip_all "fixture btrfs-hostile failed"
# the overlays hold on the very base images they were made over: made
# again after the btrfs fixture was
if [ "$(stat -c '%n %s %Y' "$G/kern.img" "$G/rootdir.img")" != "$(cat "$D/base.stamp" 2>/dev/null)" ]; then
    rm -f "$D/.done"
    D=$(fixture btrfs-hostile) || skip_all "fixture btrfs-hostile failed"
fi
export LC_ALL=C
TMO=20
[ "$GK_SAN" = 1 ] && TMO=60
OUT=$T/out
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    OUT=$(mktemp -d /dev/shm/gkbtrfs.XXXXXX)
    trap 'rm -rf "$T" "$OUT"' EXIT
fi

# run LOG CMD...: 0 if CMD exited 0 or 1 in time without a sanitizer report,
# and a failure said something
run() {
    local log=$1; shift
    local rc=0
    leak_turn
    timeout -k 5 $TMO "$@" >"$log.out" 2>"$log.err" </dev/null || rc=$?
    if [ "$rc" -gt 1 ] || grep -qE 'Sanitizer|runtime error|Segmentation|Aborted' "$log.err" ||
        { [ "$rc" = 1 ] && ! grep -qE '^g[a-z-]+: ' "$log.err"; }; then
        diag "$* -> exit $rc" "$(head -n 8 "$log.err")"
        return 1
    fi
    return 0
}

check_image() { # IMAGE FILES-LIST QUICK
    local img=$1 list=$2 quick=$3 bad=0 l=$T/log
    run "$l.ls" gls -a "$img" -m /dev/sda -lR / || bad=1
    local files=()
    mapfile -t files < "$list"
    run "$l.cat" gcat -a "$img" -m /dev/sda -- "${files[@]:0:20}" || bad=1
    [ "$quick" = 1 ] && return $bad
    run "$l.df" gdf -a "$img" || bad=1
    rm -rf "$OUT" && mkdir -p "$OUT"
    run "$l.cp" gcopy-out -a "$img" -m /dev/sda / "$OUT" || bad=1
    rm -rf "$OUT"
    return $bad
}

n=0 failed=0
leak_sample 7
for img in "$D"/mut-*.qcow2; do
    n=$((n + 1))
    # under the sanitizers every third image gets the whole treatment
    quick=0
    [ "$GK_SAN" = 1 ] && [ $((n % 3)) != 0 ] && quick=1
    check_image "$img" "${img%.qcow2}.files" $quick || { failed=$((failed + 1)); diag "$(basename "$img")"; }
done
is "$failed" 0 "$n damaged images: every tool answers or refuses cleanly"
leak_sample 1

# a bad checksum in one DUP copy: the other copy is read, nothing is lost
f=$(awk -F'|' '$14 == "/plain/random.bin" { print $13 }' "$G/kern.oracle/list")
is "$(gcat -a "$D/csum-one-copy.qcow2" -m /dev/sda /plain/random.bin 2>"$T/e" | sha256sum | cut -d' ' -f1)" \
   "$f" "one DUP copy bad: contents read from the good copy"
is "$(cat "$T/e")" "" "... without a message"
fails_cleanly "both DUP copies bad: refused" gcat -a "$D/csum-both.qcow2" -m /dev/sda /plain/small
grep -q "checksum mismatch" "$T/fc.err"; is $? 0 "... saying checksum mismatch"

# superblocks
is "$(gcat -a "$D/super-primary.qcow2" -m /dev/sda /plain/random.bin 2>"$T/e" | sha256sum | cut -d' ' -f1)" \
   "$f" "primary superblock broken: read through the mirror at 64 MiB"
grep -q "primary btrfs superblock unusable.*using the copy at 67108864" "$T/e"; is $? 0 "... with a warning"
fails_cleanly "every superblock broken: refused" gcat -a "$D/super-all.qcow2" -m /dev/sda /plain/small
fails_cleanly "garbled system chunk array: refused" gcat -a "$D/sysarray.qcow2" -m /dev/sda /plain/small
grep -q "system chunk array" "$T/fc.err"; is $? 0 "... naming the system chunk array"

# an inline extent that claims 0 bytes is skipped (under ASan: nothing leaks)
check_image "$D/inline-zero.qcow2" "$D/inline-zero.files" 0; is $? 0 "an inline extent of 0 bytes: every tool copes"

# corrupt compressed extents: the decompressor says so
for alg in zstd zlib lzo; do
    fails_cleanly "$alg: corrupt compressed extent refused" gcat -a "$D/$alg-bad.qcow2" -m /dev/sda /$alg/text.txt
    grep -q "$alg: " "$T/fc.err"; is $? 0 "... naming $alg"
    check_image "$D/$alg-bad.qcow2" "$D/$alg-bad.files" 0; is $? 0 "$alg: the other tools cope"
done

done_testing
