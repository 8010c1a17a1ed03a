# SPDX-License-Identifier: GPL-2.0-or-later
# What the bench scripts share, sourced by each from the top of the tree
# (after `set -euo pipefail; cd "$(dirname "$0")/.."`): the build measured
# (GK_BIN), checks for what a script needs, the load and commit for the
# heading, best-of-N timing under /usr/bin/time and the rows comparing two
# tools.  Millisecond commands run interleaved through bench/interleave.py.
GK_BIN=${GK_BIN:-$PWD/build/bin}
TIME=/usr/bin/time

need_time() { [ -x "$TIME" ] || { echo "needs /usr/bin/time (Debian package time)" >&2; exit 1; }; }
need_tools() { # TOOL...: built in $GK_BIN
    local t
    for t; do [ -x "$GK_BIN/$t" ] || { echo "no $GK_BIN/$t: build first" >&2; exit 1; }; done
}
need_cmds() { # CMD...: on $PATH
    local c
    for c; do command -v "$c" >/dev/null || { echo "needs $c" >&2; exit 1; }; done
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
commit() { git rev-parse --short HEAD 2>/dev/null || echo '?'; }

# best_of RUNS wall|cpu PREP CMD...: CMD (output dropped) RUNS times, PREP
# (shell code, may be "") before each; prints "WALL CPU RSS" of the run with
# the least wall or CPU time: seconds, user + sys seconds, peak KiB.
best_of() {
    local runs=$1 k=1 prep=$3 best="" t tf
    [ "$2" = cpu ] && k=2
    shift 3
    tf=$(mktemp "${TMPDIR:-/tmp}/gkbench.XXXXXX")
    for _ in $(seq "$runs"); do
        [ -z "$prep" ] || eval "$prep"
        "$TIME" -f '%e %U %S %M' -o "$tf" "$@" >/dev/null 2>&1 ||
            { echo "failed (status $?): $*" >&2; rm -f "$tf"; return 1; }
        t=$(tail -n 1 "$tf" | awk '{ printf "%s %.2f %s", $1, $2 + $3, $4 }')
        if [ -z "$best" ] || awk -v a="$(cut -d' ' -f$k <<<"$t")" -v b="$(cut -d' ' -f$k <<<"$best")" \
            'BEGIN { exit !(a < b) }'; then
            best=$t
        fi
    done
    rm -f "$tf"
    echo "$best"
}

# vs_head WIDTH FIRST / vs_row WIDTH NAME GIMG QEMU: a table of gimg against
# qemu-img, GIMG and QEMU being best_of results: wall, CPU and peak RSS of
# each and the ratios gimg/qemu-img (below 1: gimg does better).
vs_head() {
    printf "%-${1}s %8s %8s %6s %8s %8s %6s %10s %10s %6s\n" "$2" "gimg s" "qemu s" ratio \
        "gimg cpu" "qemu cpu" ratio "gimg RSS" "qemu RSS" ratio
}
vs_row() {
    local gt gc gm qt qc qm
    read -r gt gc gm <<<"$3"
    read -r qt qc qm <<<"$4"
    awk -v w="$1" -v n="$2" -v gt="$gt" -v qt="$qt" -v gc="$gc" -v qc="$qc" -v gm="$gm" -v qm="$qm" 'BEGIN {
        printf "%-*s %8.2f %8.2f %6.2f %8.2f %8.2f %6.2f %6.1f MiB %6.1f MiB %6.2f\n", w, n, gt, qt,
               (qt > 0 ? gt / qt : 0), gc, qc, (qc > 0 ? gc / qc : 0),
               gm / 1024, qm / 1024, (qm > 0 ? gm / qm : 0) }'
}
