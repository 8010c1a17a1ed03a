#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Crash safety of the ext write side (bounded; tests/crash/campaign.sh is
# the long run): gfsh --rw scripts, gcopy-in of a 3000-file tree (also
# into a qcow2 overlay) and gfsh rm of a file scattered over 700 block
# groups (its delete commits several transactions: checked with dumpe2fs
# and debugfs logdump) are killed (SIGKILL before a random write to the
# image, sometimes tearing it, or kill -9 after a random delay), then the
# kernel mounts the image (its journal replay; in some runs e2fsck -fp
# replays it instead), e2fsck -fn must be clean, and every file must be
# absent, complete, or (one, never the removed one) a prefix of its data;
# a qcow2 top must pass qemu-img check (leaks allowed) and its base stay
# byte-identical; a LUKS1 file written through its key is read through
# qemu's decryption, its header unchanged.  See tests/crash/run.sh.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root for loop mounts"
command -v cc >/dev/null || skip_all "needs cc for the kill shim"
[ -x "$GK_BIN/gfsh" ] && [ -x "$GK_BIN/gcopy-in" ] || skip_all "needs gfsh and gcopy-in"
n=${GK_CRASH_ITER:-4}
[ "$GK_SAN" = 1 ] && n=1
runs=("gfsh ext4" "gcopy-in ext4" "gcopy-in ext3" "gcopy-in ext4-4k" "gfsh-rm ext4-frag")
# the same in the top image of a qcow2 chain (qemu-img checks and reads it)
command -v qemu-img >/dev/null && runs+=("gcopy-in ext4-qcow2")
# through the cipher of a LUKS1 file (qemu-img decrypts it for the checks)
command -v qemu-img >/dev/null && command -v cryptsetup >/dev/null && runs+=("gcopy-in ext4-luks")
for run in "${runs[@]}"; do
    set -- $run
    k=$n
    # one short command: fewer kill points (the third replayed by e2fsck)
    [ "$1" = gfsh-rm ] && [ "$k" -gt 3 ] && k=3
    # the luks layer has no metadata of its own: two kills at chosen
    # writes (the second torn), the other runs cover the rest
    [ "$2" = ext4-luks ] && [ "$k" -gt 2 ] && k=2
    out=$(GK_BIN=$GK_BIN CRASH_SRC_CACHE=$T "$TOP/tests/crash/run.sh" "$T/$1-$2" "$1" "$2" "$k" "${GK_CRASH_SEED:-1205}" 2>&1)
    while IFS= read -r line; do
        case $line in
            "ok "*) _tap_result 0 "${line#ok * - }" ;;
            "not ok "*) _tap_result 1 "${line#not ok * - }" ;;
            *) diag "$line" ;;
        esac
    done <<<"$out"
done
done_testing
