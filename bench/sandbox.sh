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
GK_BIN=${GK_BIN:-$PWD/build/bin}
RUNS=${BENCH_RUNS:-60}
D=${GK_BENCH_DIR:-$PWD/bench/out}/sandbox
[ -x "$GK_BIN/gcat" ] || { echo "no $GK_BIN/gcat: build first" >&2; exit 1; }
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
echo "sandbox cost: $(date -u '+%F %T') UTC, commit $(git rev-parse --short HEAD)," \
     "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $RUNS runs each, interleaved"
printf '%s\n' "${rows[@]}" | python3 -c '
import os, shlex, statistics, sys, time
runs = int(sys.argv[1])
rows = [l.rstrip("\n").split("|", 1) for l in sys.stdin if l.strip()]
cmds = [shlex.split(c) for _, c in rows]
wall = [[] for _ in rows]; cpu = [[] for _ in rows]
null = os.open(os.devnull, os.O_WRONLY)
for _ in range(runs):
    for i, c in enumerate(cmds):
        t0 = time.monotonic()
        pid = os.posix_spawnp(c[0], c, os.environ, file_actions=[
            (os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)])
        _, st, ru = os.wait4(pid, 0)
        wall[i].append((time.monotonic() - t0) * 1000)
        cpu[i].append((ru.ru_utime + ru.ru_stime) * 1000)
        if os.waitstatus_to_exitcode(st) != 0:
            sys.exit("%s: exit status %d" % (rows[i][0], os.waitstatus_to_exitcode(st)))
print("%-32s %9s %9s %9s %9s" % ("command (ms)", "wall min", "wall med", "CPU min", "CPU med"))
for i, (label, _) in enumerate(rows):
    print("%-32s %9.2f %9.2f %9.2f %9.2f" % (label, min(wall[i]), statistics.median(wall[i]),
          min(cpu[i]), statistics.median(cpu[i])))
for a, b, name in ((2, 3, "-m"), (4, 5, "-i")):
    print("sandbox cost, gcat %s: wall min %+.2f ms, wall median %+.2f ms, CPU median %+.2f ms" % (
        name, min(wall[a]) - min(wall[b]), statistics.median(wall[a]) - statistics.median(wall[b]),
        statistics.median(cpu[a]) - statistics.median(cpu[b])))
' "$RUNS"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
