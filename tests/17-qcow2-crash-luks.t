#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A short run of the qcow2 crash test on LUKS-encrypted images
# (tests/crash/qcow2-crash.sh with CRASH_CRYPT=1): writers that write
# through the key killed at random writes (some torn), then qemu-img check
# with the key finds no corruption, flushed writes read back through
# qemu's decryption, qemu-io writes on.  One iteration per layout and one
# gimg convert -O qcow2 -o encrypt.*; fixed seed.  Longer campaigns: run
# the script with more iterations and other seeds.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
command -v cc >/dev/null || skip_all "needs cc for the kill shim"
n=5
[ "$GK_SAN" = 1 ] && n=3
while read -r line; do
    case $line in
        "ok "*) _tap_result 0 "${line#ok [0-9]* - }" ;;
        "not ok "*) _tap_result 1 "${line#not ok [0-9]* - }" ;;
    esac
done < <(CRASH_CRYPT=1 "$TOP/tests/crash/qcow2-crash.sh" "$T/w" $n 20261205 2>&1)
done_testing
