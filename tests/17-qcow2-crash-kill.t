#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A short run of tests/crash/gimg-kill.sh: gimg convert -O qcow2 (plain,
# -c zlib, -c zstd) and gimg snapshot -c/-d killed with kill -9 after a
# random delay, then qemu-img check finds no corruption (leaks are freed
# by gimg check -r leaks), what is complete reads back through qemu-img,
# qemu-io writes on.  Fixed seed for the delays; where a kill lands still
# depends on the machine's load, and every outcome must pass.  Long
# campaigns: tests/crash/campaign.sh.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip_all "needs qemu-img and qemu-io"
command -v python3 >/dev/null || skip_all "needs python3"
while read -r line; do
    case $line in
        "ok "*) _tap_result 0 "${line#ok [0-9]* - }" ;;
        "not ok "*) _tap_result 1 "${line#not ok [0-9]* - }" ;;
    esac
done < <("$TOP/tests/crash/gimg-kill.sh" "$T/w" 5 20261205 2>&1)
[ "$_tap_n" = 5 ] || _tap_result 1 "gimg-kill.sh ran 5 iterations (ran $_tap_n)"
done_testing
