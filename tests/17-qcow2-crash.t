#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A short run of the qcow2 crash test (tests/crash/qcow2-crash.sh): writers
# killed at random writes (some torn), then qemu-img check finds no
# corruption, flushed writes read back, qemu-io writes on.  Fixed seed: the
# same kill points in every run.  Long campaigns: run the script with more
# iterations and other seeds.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
command -v cc >/dev/null || skip_all "needs cc for the kill shim"
n=8
[ "$GK_SAN" = 1 ] && n=4
while read -r line; do
    case $line in
        "ok "*) _tap_result 0 "${line#ok [0-9]* - }" ;;
        "not ok "*) _tap_result 1 "${line#not ok [0-9]* - }" ;;
    esac
done < <("$TOP/tests/crash/qcow2-crash.sh" "$T/w" $n 20261205 2>&1)
done_testing
