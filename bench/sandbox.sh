#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What the sandbox (issue 11, tools/common-sandbox.c) costs: gcat with it
# and with --no-sandbox, same image, same run, interleaved.  Issue 11's
# target: at most 1 ms more for gcat.
#
# The image: a small ext4 filesystem made by mkfs.ext4 -d from a tree with
# /etc/hostname and /etc/os-release (so -i inspects it as a Linux root),
# as a qcow2 (qemu-img convert).  Rows: /bin/true (anchor: starting any
# process here), gcat --help (anchor: gcat's own start-up), then gcat -m
# and gcat -i, each with and without the sandbox.
#
# Each command runs $BENCH_RUNS times (default 60), all in turn; printed:
# the fastest wall time, the least and median CPU time (user + sys of the
# process and what it waited for: the sandbox's front end waits for its
# worker), and the difference of the medians with/without.  The load
# average is printed with the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
RUNS=${BENCH_RUNS:-60}
D=${GK_BENCH_DIR:-$PWD/bench/out}/sandbox
need_tools gcat
if [ ! -e "$D/.done" ]; then
    rm -rf "$D" && mkdir -p "$D/tree/etc"
    echo bench-sandbox > "$D/tree/etc/hostname"
    printf 'NAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' \
        > "$D/tree/etc/os-release"
    mkdir -p "$D/tree/bin" "$D/tree/usr" "$D/tree/var"
    truncate -s 64M "$D/fs.raw"
    mkfs.ext4 -q -F -d "$D/tree" -E root_owner=0:0 "$D/fs.raw"
    qemu-img convert -O qcow2 "$D/fs.raw" "$D/fs.qcow2"
    touch "$D/.done"
fi
IMG=$D/fs.qcow2
for s in "" --no-sandbox; do
    got=$("$GK_BIN/gcat" $s -a "$IMG" -m /dev/sda /etc/hostname 2>/dev/null)
    [ "$got" = bench-sandbox ] || { echo "gcat $s printed \"$got\"" >&2; exit 1; }
done

rows=("/bin/true (anchor)|/bin/true"
      "gcat --help (start-up, anchor)|$GK_BIN/gcat --help"
      "gcat -m, sandbox|$GK_BIN/gcat -a $IMG -m /dev/sda /etc/hostname"
      "gcat -m, --no-sandbox|$GK_BIN/gcat --no-sandbox -a $IMG -m /dev/sda /etc/hostname"
      "gcat -i, sandbox|$GK_BIN/gcat -a $IMG /etc/hostname"
      "gcat -i, --no-sandbox|$GK_BIN/gcat --no-sandbox -a $IMG /etc/hostname")
echo "sandbox cost: $(date -u '+%F %T') UTC, commit $(commit)," \
     "$(nproc) CPUs, load average $(loadavg), $RUNS runs each, interleaved"
printf '%s\n' "${rows[@]}" | python3 bench/interleave.py "$RUNS" \
    "2,3,sandbox cost, gcat -m" "4,5,sandbox cost, gcat -i"
echo "load average at the end: $(loadavg)"
