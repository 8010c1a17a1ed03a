#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ginspect wall time, CPU time and peak RSS.  First the biggest guest: the
# 3 GiB guest of bench/guest.sh (a chain of three qcow2 images; GPT, /boot
# ext4, LVM PV with the ext4 root LV; the host's own dpkg status, so about
# as many packages as a real installation).  Then the phony guests of
# test-images/guests.sh: the Debian guest on LVM as a qcow2 chain (base +
# overlay; /boot partition, three LVs, dpkg status on the /var LV), the
# Fedora guest (rpmdb.sqlite copied out and read with SQLite), the
# multi-boot disk and the ten-root disk.  The load of the machine shows in
# the times: the best run is kept, and the load average is printed.  Best of $BENCH_RUNS runs (default 20), with and without
# applications.  Target: under 100 ms with applications.
# (virt-inspector needs an appliance: 15-30 s under TCG on the reference
# host, see /work/shared/reference/libguestfs-behaviour.md section 4.)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
GK_IMAGES=${GK_IMAGES:-$PWD/bench/out}
RUNS=${BENCH_RUNS:-20}
need_time
need_tools ginspect
G=${GK_BENCH_DIR:-$PWD/bench/out}/guest3g
[ -e "$G/.done" ] || ./bench/guest.sh >&2
dir=$GK_IMAGES/guests
./test-images/build-all.sh "$GK_IMAGES" guests

# best IMG ARGS...: "best_wall_ms cpu_ms peak_rss_kib": the best wall time
# of $RUNS runs, the mean CPU time (user + system: less sensitive to the
# load) of $RUNS more runs timed together, and the peak RSS of one run.
best() {
    local img=$1 b=999999 t0 t1 us cpu rss
    shift
    for _ in $(seq 1 "$RUNS"); do
        t0=$(date +%s%N)
        "$GK_BIN/ginspect" "$@" -a "$img" >/dev/null 2>&1
        t1=$(date +%s%N)
        us=$(((t1 - t0) / 1000))
        [ "$us" -lt "$b" ] && b=$us
    done
    cpu=$("$TIME" -f '%U %S' bash -c 'for i in $(seq 1 "$1"); do "${@:2}" >/dev/null 2>&1; done' \
        _ "$RUNS" "$GK_BIN/ginspect" "$@" -a "$img" 2>&1 | tail -n1 |
        awk -v n="$RUNS" '{printf "%.1f", ($1 + $2) * 1000 / n}')
    rss=$("$TIME" -f %M "$GK_BIN/ginspect" "$@" -a "$img" 2>&1 >/dev/null | tail -n1)
    printf '%d.%03d %s %s' $((b / 1000)) $((b % 1000)) "$cpu" "$rss"
}

echo "load average: $(loadavg), $(nproc) CPUs, best of $RUNS runs"
printf '%-40s %10s %8s %14s\n' "ginspect on" "wall ms" "cpu ms" "peak RSS KiB"
napps=$("$GK_BIN/ginspect" --json -a "$G/guest.qcow2" 2>/dev/null | jq '.operatingsystems[0].applications | length')
set -- $(best "$G/guest.qcow2")
printf '%-40s %10s %8s %14s\n' "guest3g chain ($napps packages)" "$1" "$2" "$3"
set -- $(best "$G/guest.qcow2" --no-applications)
printf '%-40s %10s %8s %14s\n' "guest3g chain --no-applications" "$1" "$2" "$3"
for spec in "debian.qcow2|LVM qcow2 chain, dpkg" "fedora.img|GPT, rpmdb.sqlite" \
            "multiboot.img|two roots" "distros.img|GPT, ten roots"; do
    img=${spec%%|*} what=${spec#*|}
    set -- $(best "$dir/$img")
    printf '%-40s %10s %8s %14s\n' "$img ($what)" "$1" "$2" "$3"
    set -- $(best "$dir/$img" --no-applications)
    printf '%-40s %10s %8s %14s\n' "$img --no-applications" "$1" "$2" "$3"
done
set -- $(best "$dir/debian.qcow2" --json)
printf '%-40s %10s %8s %14s\n' "debian.qcow2 --json" "$1" "$2" "$3"
