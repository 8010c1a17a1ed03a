# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers of the gimg write tests (source after tests/lib.sh): gimg and
# qemu-img each change their own copy of what qemu made, then the results
# are compared; and the kill -9 runs of the crash tests.
#
#   pair_of FUNC NAME        FUNC NAME DIR builds a fixture in DIR with
#                            qemu's tools: built in $T/g (for gimg) and
#                            $T/q (for qemu-img), each by qemu (a copy may
#                            make holes where qemu wrote zeros, and qemu's
#                            allocation and map output follow the holes)
#   err_like SUB DESC ARGS.. `gimg SUB ARGS` in $T/g and `qemu-img SUB ARGS`
#                            in $T/q print the same message (but the
#                            program name and "Try" lines) and exit alike
#   kill_shim                build $T/killafter.so and $T/oldnew (needs cc);
#                            returns 1 if it cannot
#   writes_of FILE CMD..     run CMD whole, print its number of writes to FILE
#   killed N TORN FILE CMD.. run CMD, SIGKILLed before its Nth write to FILE
#                            (TORN=1: that write half done); no output
#   kill_points TOTAL [MAX]  the write indices to kill at: MAX (4) spread
#                            over 0..TOTAL-1 in make check, all of them with
#                            GK_LONG=1
#   sound IMG                prints why not, if qemu-img check finds
#                            corruption (leaks, exit 3, are allowed)
#   old_or_new NOW OLD NEW   prints the first 512-byte sector of NOW that is
#                            neither OLD's (zeros past its end) nor NEW's

pair_of() {
    rm -rf "$T/g" "$T/q"
    mkdir -p "$T/g" "$T/q"
    "$1" "$2" "$T/g"
    "$1" "$2" "$T/q"
}

err_like() {
    local sub=$1 desc=$2; shift 2
    local gr=0 qr=0 ge qe
    ge=$(cd "$T/g" && gimg "$sub" "$@" 2>&1 >/dev/null) || gr=$?
    qe=$(cd "$T/q" && qemu-img "$sub" "$@" 2>&1 >/dev/null) || qr=$?
    ge=$(printf '%s\n' "$ge" | grep -v '^Try ' | sed 's/^gimg:/qemu-img:/')
    qe=$(printf '%s\n' "$qe" | grep -v '^Try ')
    is "$ge [exit $gr]" "$qe [exit $qr]" "$desc: qemu-img's message and exit status"
}

kill_shim() {
    [ -x "$T/oldnew" ] && return 0
    command -v cc >/dev/null || return 1
    cc -shared -fPIC -O1 -o "$T/killafter.so" "$TOP/tests/crash/killafter.c" -ldl &&
        cc -O1 -o "$T/oldnew" "$TOP/tests/crash/oldnew.c"
}

writes_of() {
    local f=$1; shift
    rm -f "$T/count"
    KILLAFTER_FILE=$f KILLAFTER_COUNT=$T/count LD_PRELOAD=$T/killafter.so "$@" >/dev/null 2>&1
    cat "$T/count" 2>/dev/null || echo 0
}

killed() {
    local n=$1 torn=$2 f=$3; shift 3
    { (KILLAFTER_FILE=$f KILLAFTER_N=$n KILLAFTER_PARTIAL=$torn LD_PRELOAD=$T/killafter.so \
        "$@" >/dev/null 2>&1); } 2>/dev/null
    return 0
}

kill_points() {
    local total=$1 max=${2:-4} i
    if [ "$GK_LONG" = 1 ] || [ "$total" -le "$max" ]; then
        seq 0 $((total - 1))
        return
    fi
    for ((i = 0; i < max; i++)); do echo $(( (total - 1) * i / (max - 1) )); done
}

sound() {
    local rc=0
    qemu-img check "$1" >"$T/sound.out" 2>&1 || rc=$?
    [ $rc = 0 ] || [ $rc = 3 ] || echo "qemu-img check exit $rc: $(grep -v '^$' "$T/sound.out" | head -n 3 | tr '\n' '|')"
}

old_or_new() { "$T/oldnew" "$@"; }
