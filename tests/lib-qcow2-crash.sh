# SPDX-License-Identifier: GPL-2.0-or-later
# The bounded runs of the qcow2 crash test (tests/crash/qcow2-crash.sh)
# inside make check, shared by tests/17-qcow2-crash*.t: sourced after
# lib.sh's place in the test, it skips without qemu-img or a C compiler
# (the kill shim); qcow2_crash ITER SAN_ITER runs ITER iterations (SAN_ITER
# under the sanitizers) with a fixed seed, so the same kill points in every
# run, and relays the script's TAP.  Long campaigns: run the script with
# more iterations and other seeds.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
command -v cc >/dev/null || skip_all "needs cc for the kill shim"

qcow2_crash() { # ITER SAN_ITER
    local n=$1 line
    [ "$GK_SAN" = 1 ] && n=$2
    while read -r line; do
        case $line in
            "ok "*) _tap_result 0 "${line#ok [0-9]* - }" ;;
            "not ok "*) _tap_result 1 "${line#not ok [0-9]* - }" ;;
        esac
    done < <("$TOP/tests/crash/qcow2-crash.sh" "$T/w" "$n" 20261205 2>&1)
    done_testing
}
