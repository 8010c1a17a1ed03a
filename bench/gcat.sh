#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gcat on the 3 GiB guest of bench/guest.sh (GPT, /boot ext4, LVM PV with
# the ext4 root LV and swap), issue 18's speed item: one small file, target
# 5 ms, on three forms of the same disk:
#   cguest.qcow2  a chain of three whose base is `qemu-img convert -c`
#                 (deflate) output: the compressed chain
#   guest.qcow2   the same chain over an uncompressed base
#   flat.qcow2    the whole disk as one uncompressed qcow2
# with inspection (-i, the default) and with -m /dev/bench/root.
#
# Anchors measured in the same run, interleaved with the rows: /bin/true
# (what starting any process costs here), `gcat --help` (gcat's own
# start-up), and debugfs -R 'cat /etc/hostname' on the root LV's raw
# filesystem (no qcow2, no partitions, no LVM, no inspection).  With
# GK_BASE_BIN=DIR the same gcat rows run with DIR/gcat too (an older build,
# for a before/after ratio measured under the same load).
#
# Each command runs $BENCH_RUNS times (default 40), all commands in turn so
# that a burst of load hits them alike; printed: the fastest run's wall
# time, the least and the median CPU time (user + sys from wait4; spawned
# with posix_spawn, so nothing of the parent is counted).  The peak RSS
# comes from one run under /usr/bin/time.  BENCH_RT=1 runs everything under
# `chrt -f 1` (the other processes of a loaded machine then no longer decide
# how much CPU each run gets).  The load average is printed: the machine is
# shared, and no figure here means much without it.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
G=${GK_BENCH_DIR:-$PWD/bench/out}/guest3g
RUNS=${BENCH_RUNS:-40}
need_time
need_tools gcat
./bench/guest.sh >&2 # builds the guest once, adds the compressed chain to an older one

want=$(cat "$G/hostname")
cat "$G"/*.qcow2 "$G/root.raw" >/dev/null # the page cache, warm
for img in cguest guest flat; do
    got=$("$GK_BIN/gcat" -a "$G/$img.qcow2" /etc/hostname)
    [ "$got" = "$want" ] || { echo "gcat $img.qcow2 printed \"$got\", expected \"$want\"" >&2; exit 1; }
done
got=$("$GK_BIN/gcat" -a "$G/cguest.qcow2" -m /dev/bench/root /etc/hostname)
[ "$got" = "$want" ] || { echo "gcat -m printed \"$got\", expected \"$want\"" >&2; exit 1; }

# label|command lines; the first three are the anchors
rows=("/bin/true (anchor)|/bin/true"
      "gcat --help (start-up, anchor)|$GK_BIN/gcat --help"
      "debugfs cat root.raw (anchor)|debugfs -R cat\ /etc/hostname $G/root.raw")
add() { # LABEL ARGS...: a gcat row, and the same with $GK_BASE_BIN/gcat
    local label=$1
    shift
    rows+=("gcat $label|$GK_BIN/gcat $*")
    [ -z "${GK_BASE_BIN:-}" ] || rows+=("  (base build) $label|$GK_BASE_BIN/gcat $*")
}
add "-a cguest.qcow2 /etc/hostname" -a "$G/cguest.qcow2" /etc/hostname
add "-a guest.qcow2 /etc/hostname" -a "$G/guest.qcow2" /etc/hostname
add "-a flat.qcow2 /etc/hostname" -a "$G/flat.qcow2" /etc/hostname
add "-a cguest.qcow2 -m /dev/bench/root" -a "$G/cguest.qcow2" -m /dev/bench/root /etc/hostname
add "-a guest.qcow2 -m /dev/bench/root" -a "$G/guest.qcow2" -m /dev/bench/root /etc/hostname

RT=()
[ -z "${BENCH_RT:-}" ] || RT=(chrt -f 1)
echo "gcat on the 3 GiB guest: $(date -u '+%F %T') UTC, commit $(git rev-parse --short HEAD)," \
     "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)," \
     "$RUNS runs each, interleaved${RT:+, under chrt -f 1}"
printf '%s\n' "${rows[@]}" | "${RT[@]}" python3 bench/interleave.py "$RUNS"
# BENCH_INSN=1: user-space instructions of one run of each row
# (callgrind: repeatable however loaded the machine is; gcat rows with
# --no-sandbox: valgrind 3.19 does not know the Landlock system calls)
if [ -n "${BENCH_INSN:-}" ] && command -v valgrind >/dev/null; then
    echo "user-space instructions (callgrind, one run each):"
    for r in "${rows[@]}"; do
        eval "set -- ${r#*|}"
        case $1 in */gcat) set -- "$1" --no-sandbox "${@:2}" ;; esac
        n=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
            sed -n 's/.*Collected : //p')
        printf '%-44s %12s\n' "${r%%|*}" "$n"
    done
fi
echo "peak RSS (KiB): cguest $("$TIME" -f %M "$GK_BIN/gcat" -a "$G/cguest.qcow2" /etc/hostname 2>&1 >/dev/null | tail -n1)," \
     "flat $("$TIME" -f %M "$GK_BIN/gcat" -a "$G/flat.qcow2" /etc/hostname 2>&1 >/dev/null | tail -n1)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
