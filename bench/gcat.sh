#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gcat wall time, CPU time and peak RSS: a small file from the 3 GiB guest
# of bench/guest.sh (a chain of three qcow2 images; GPT, /boot ext4, LVM PV
# with the ext4 root LV), with inspection (-i, the default) and with -m.
# Best wall time of $BENCH_RUNS runs (default 20) and the mean CPU time of
# as many more.  Target: under 10 ms.  Anchor: debugfs "cat" on the root
# LV's raw filesystem (no qcow2, no partitions, no LVM, no inspection).
set -euo pipefail
cd "$(dirname "$0")/.."
GK_BIN=${GK_BIN:-$PWD/build/bin}
G=${GK_BENCH_DIR:-$PWD/bench/out}/guest3g
RUNS=${BENCH_RUNS:-20}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "needs /usr/bin/time (Debian package time)" >&2; exit 1; }
[ -x "$GK_BIN/gcat" ] || { echo "no $GK_BIN/gcat: build first" >&2; exit 1; }
[ -e "$G/.done" ] || ./bench/guest.sh >&2

# best CMD...: "best_wall_ms mean_cpu_ms peak_rss_kib"
best() {
    local b=999999999 t0 t1 us cpu rss
    for _ in $(seq 1 "$RUNS"); do
        t0=$(date +%s%N)
        "$@" >/dev/null 2>&1
        t1=$(date +%s%N)
        us=$(((t1 - t0) / 1000))
        [ "$us" -lt "$b" ] && b=$us
    done
    cpu=$("$TIME" -f '%U %S' bash -c 'for i in $(seq 1 "$1"); do "${@:2}" >/dev/null 2>&1; done' \
        _ "$RUNS" "$@" 2>&1 | tail -n1 | awk -v n="$RUNS" '{printf "%.1f", ($1 + $2) * 1000 / n}')
    rss=$("$TIME" -f %M "$@" 2>&1 >/dev/null | tail -n1)
    printf '%d.%03d %s %s' $((b / 1000)) $((b % 1000)) "$cpu" "$rss"
}

want=$(cat "$G/hostname")
got=$("$GK_BIN/gcat" -a "$G/guest.qcow2" /etc/hostname)
[ "$got" = "$want" ] || { echo "gcat printed \"$got\", expected \"$want\"" >&2; exit 1; }

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs, best of $RUNS runs"
printf '%-52s %10s %8s %14s\n' "command" "wall ms" "cpu ms" "peak RSS KiB"
row() { local what=$1; shift; set -- $(best "$@"); printf '%-52s %10s %8s %14s\n' "$what" "$1" "$2" "$3"; }
row "gcat -a guest.qcow2 /etc/hostname (-i)" "$GK_BIN/gcat" -a "$G/guest.qcow2" /etc/hostname
row "gcat -a guest.qcow2 /boot/grub/grub.cfg (-i)" "$GK_BIN/gcat" -a "$G/guest.qcow2" /boot/grub/grub.cfg
row "gcat -a guest.qcow2 -m /dev/bench/root /etc/hostname" "$GK_BIN/gcat" -a "$G/guest.qcow2" -m /dev/bench/root /etc/hostname
row "debugfs -R 'cat /etc/hostname' root.raw (anchor)" debugfs -R "cat /etc/hostname" "$G/root.raw"
