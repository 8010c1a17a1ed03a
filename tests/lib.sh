# SPDX-License-Identifier: GPL-2.0-or-later
# TAP helpers for the shell integration tests: source it from tests/*.t.
#
#   ok DESC CMD...           pass if CMD exits 0
#   is GOT EXPECTED DESC     string equality (shows both on failure)
#   same_file A B DESC       byte-identical files (cmp)
#   fails_cleanly DESC CMD.. CMD exits 1 with a one-line "PROG: ..." error on
#                            stderr and no sanitizer report
#   like_qemu_img DESC ARGS.. `gimg ARGS` and `qemu-img ARGS` print the same
#                            stdout and exit with the same status
#   fixture NAME             build test-images/NAME.sh once, print its dir
#   skip_all REASON          plan 0 and leave
#   done_testing             print the plan, exit non-zero on failures
#   gls_csv_norm             gls -lR --csv --uids --time-t --extra-stats
#                            --checksum on stdin to the form of
#                            test-images/lib-fslist.py (kernel oracles)
#
# Environment: GK_BIN (tools), GK_IMAGES (fixture cache), GK_SAN (1 under
# ASan/UBSan: tests may reduce their sizes), GK_LONG (1: the long version
# of a test whose make-check run is a bounded sample; tests/long/run.sh).
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GK_BIN=${GK_BIN:-$TOP/build/bin}
GK_IMAGES=${GK_IMAGES:-$TOP/build/images}
GK_SAN=${GK_SAN:-0}
GK_LONG=${GK_LONG:-0}
export PATH="$GK_BIN:/usr/sbin:/sbin:$PATH"
. "$TOP/tests/oracle-path.sh"
. "$TOP/test-images/lib-key.sh"
# qemu-img: the real one, but for a command that can make a LUKS keyslot,
# which goes through tests/oracle-bin/qemu-img (it runs the command again
# after qemu's PBKDF timing flake): that wrapper is a bash start, ~5 ms of
# CPU, and the tests run qemu-img some thousands of times.  Commands run
# by another program (sh -c, timeout, env) find the wrapper on PATH.
if [ -n "${GK_QEMU_IMG:-}" ]; then
    qemu-img() {
        case "$*" in
            *encrypt*) command qemu-img "$@" ;;
            *) "$GK_QEMU_IMG" "$@" ;;
        esac
    }
fi
# A sanitizer report (a leak included) must never look like our own exit 1.
_asan_opts=${ASAN_OPTIONS:-}
export ASAN_OPTIONS="exitcode=99:detect_leaks=1:$_asan_opts"
export UBSAN_OPTIONS="halt_on_error=1:exitcode=98:print_stacktrace=1:${UBSAN_OPTIONS:-}"
mkdir -p "$GK_IMAGES"
T=$(mktemp -d "${TMPDIR:-/tmp}/gktest.XXXXXX")
trap 'rm -rf "$T"' EXIT
# python3 is Debian's (make deps installs python3-cryptography for it): a
# version manager's shim found first on PATH (pyenv's) costs 0.45 s of CPU
# per start against 0.03 s, and the tests and fixtures start python some
# thousand times (HACKING.md, "CI time")
if [ -x /usr/bin/python3 ] && [ "$(command -v python3)" != /usr/bin/python3 ]; then
    mkdir -p "$T/.bin" && ln -s /usr/bin/python3 "$T/.bin/python3" && export PATH="$T/.bin:$PATH"
fi
_tap_n=0
_tap_failed=0

_tap_result() { # STATUS DESC
    _tap_n=$((_tap_n + 1))
    if [ "$1" = 0 ]; then
        echo "ok $_tap_n - $2"
    else
        echo "not ok $_tap_n - $2"
        _tap_failed=$((_tap_failed + 1))
    fi
}

diag() { printf '# %s\n' "$@" >&2; }

# COUNT bytes of seeded pseudo-random data on stdout: fixtures must be the
# same in every run (never /dev/urandom).
seeded_bytes() { # SEED COUNT
    python3 -c 'import random, sys; sys.stdout.buffer.write(random.Random(int(sys.argv[1])).randbytes(int(sys.argv[2])))' "$1" "$2"
}

ok() {
    local desc=$1; shift
    local out
    if out=$("$@" 2>&1); then
        _tap_result 0 "$desc"
    else
        _tap_result 1 "$desc"
        diag "command: $*" "$(printf '%s' "$out" | tail -n 20)"
    fi
}

is() {
    if [ "$1" = "$2" ]; then
        _tap_result 0 "$3"
    else
        _tap_result 1 "$3"
        diag "got:      $(printf '%q' "$1" | head -c 2000)" "expected: $(printf '%q' "$2" | head -c 2000)"
    fi
}

same_file() {
    if cmp -s "$1" "$2"; then
        _tap_result 0 "$3"
    else
        _tap_result 1 "$3"
        diag "$(cmp "$1" "$2" 2>&1 | head -n 3)"
    fi
}

# bounded CPU_SECONDS CMD...: run CMD with a limit on the CPU time it uses
# (SIGXCPU past it: a loop is caught whatever the machine's load) and a
# wall-clock limit ten times longer, only for a CMD that blocks.  A hang
# check by wall time alone fails on a loaded machine for a program that
# is merely starved of CPU.
bounded() {
    local cpu=$1; shift
    ( ulimit -S -t "$cpu" && ulimit -H -t $((cpu + 5)) && exec timeout -k 5 $((cpu * 10)) "$@" )
}

# leak_sample N: from here on, under the sanitizers, LeakSanitizer checks
# every Nth command run through fails_cleanly or leak_turn (the 1st, the
# N+1th, ...; N odd, so that a loop running 2 or 4 tools an input samples
# each tool) and no other command; leak_sample 1: every command again (the
# default).  Its scan at exit costs ~50 ms of CPU a run, mostly page faults
# (it reads the 12 MB of the sanitizer runtimes' .bss): a quarter of a
# short ASan tool run.  The long bad-input tests, which run tools on
# hundreds of inputs, take the sample; every tool keeps whole leak checks
# in the other bad-input tests, and the fuzz targets check leaks on every
# input (HACKING.md, "CI time").
_leak_every=1 _leak_n=0
leak_sample() {
    _leak_every=$1 _leak_n=0
    local on=0
    [ "$1" = 1 ] && on=1
    [ "$GK_SAN" = 1 ] && export ASAN_OPTIONS="exitcode=99:detect_leaks=$on:$_asan_opts"
    return 0
}
leak_turn() {
    if [ "$_leak_every" = 1 ] || [ "$GK_SAN" != 1 ]; then return 0; fi
    local on=0
    [ $((_leak_n % _leak_every)) = 0 ] && on=1
    _leak_n=$((_leak_n + 1))
    export ASAN_OPTIONS="exitcode=99:detect_leaks=$on:$_asan_opts"
}

# The checks of stderr are bash's own (read, [[ =~ ]]): a wc and two greps
# a call were most of what a bad-input test's loop spent beside the tool
# (HACKING.md, "CI time").  A stderr with a NUL byte in it, which read
# stops at, goes to grep.
_fc_line=$'(^|\n)[a-z-]+: ' _fc_crash='Sanitizer|runtime error|Segmentation'
fails_cleanly() {
    local desc=$1; shift
    leak_turn
    local rc=0 err= clean=0
    bounded 30 "$@" >"$T/fc.out" 2>"$T/fc.err" || rc=$?
    if IFS= read -r -d '' err <"$T/fc.err"; then
        [ "$(wc -l <"$T/fc.err")" -ge 1 ] && ! grep -qaE "$_fc_crash" "$T/fc.err" \
            && grep -qaE '^[a-z-]+: ' "$T/fc.err" && clean=1
    elif [[ $err == *$'\n'* && ! $err =~ $_fc_crash && $err =~ $_fc_line ]]; then
        clean=1
    fi
    if [ "$rc" = 1 ] && [ "$clean" = 1 ]; then
        _tap_result 0 "$desc"
    else
        _tap_result 1 "$desc"
        diag "exit status $rc (expected 1)" "$(head -n 15 "$T/fc.err")"
    fi
}

like_qemu_img() {
    local desc=$1; shift
    local go qo gr=0 qr=0 a
    # "disk size" is st_blocks, final only once the file is written back
    # (ext4 adds an extent block then): flush the files named first
    for a in "$@"; do [ -f "$a" ] && sync -- "$a"; done
    go=$(gimg "$@" 2>"$T/g.err") || gr=$?
    qo=$(qemu-img "$@" 2>"$T/q.err") || qr=$?
    is "$go
[exit $gr]" "$qo
[exit $qr]" "$desc"
}

# wait_lock FILE BYTE: wait (60 s at most) until some process holds an
# OFD lock covering byte BYTE of FILE (qemu's image locks, from /proc/locks)
wait_lock() {
    local ino i
    ino=$(stat -c %i "$1")
    for i in $(seq 600); do
        awk -v ino=":$ino" -v b="$2" '$2 == "OFDLCK" && index($6, ino) && $7 <= b && ($8 == "EOF" || $8 >= b) {f = 1} END {exit !f}' /proc/locks && return 0
        sleep 0.1
    done
    return 1
}

skip_all() {
    echo "1..0 # SKIP $*"
    exit 0
}

# A cached fixture is used when its .done holds the key of the scripts that
# build it now (test-images/lib-key.sh); otherwise build-all.sh builds it
# again, under its lock.
fixture() {
    local name=$1 dir="$GK_IMAGES/$1" done_key=
    fixture_key "$TOP/test-images" "$name"
    [ -e "$dir/.done" ] && { IFS= read -r done_key <"$dir/.done" || true; }
    if [ "$done_key" != "$FIXTURE_KEY" ]; then
        if ! "$TOP/test-images/build-all.sh" "$GK_IMAGES" "$name" 2>/dev/null; then
            echo "fixture $name failed; see $GK_IMAGES/$name.log" >&2
            tail -n 20 "$GK_IMAGES/$name.log" >&2
            return 1
        fi
    fi
    printf '%s\n' "$dir"
}

done_testing() {
    echo "1..$_tap_n"
    [ "$_tap_failed" = 0 ]
}

gls_csv_norm() {
    python3 -c '
import csv, io, sys
data = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
for row in csv.reader(io.StringIO(data, newline="")):
    row = [x.strip() for x in row]
    del row[8]        # the device: the oracle has none
    sys.stdout.buffer.write("|".join(row).encode("utf-8", "surrogateescape") + b"\n")'
}

# The LUKS header of an encrypted qcow2 FILE: its offset and length, read
# from the crypto header extension here (not by the tools under test).
crypto_ext() { # FILE: the LUKS header's offset and length (crypto header extension)
    python3 - "$1" <<'EOF'
import struct, sys
b = open(sys.argv[1], 'rb').read(65536)
p = struct.unpack('>I', b[100:104])[0] if struct.unpack('>I', b[4:8])[0] >= 3 else 72
while p + 8 <= len(b):
    t, n = struct.unpack('>II', b[p:p + 8])
    if t == 0:
        break
    if t == 0x0537be77:
        print(*struct.unpack('>QQ', b[p + 8:p + 24]))
        break
    p += 8 + (n + 7) // 8 * 8
EOF
}
