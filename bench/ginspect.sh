#!/bin/bash
# ginspect wall time and peak RSS on the phony guests of
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
GK_BIN=${GK_BIN:-$PWD/build/bin}
GK_IMAGES=${GK_IMAGES:-$PWD/bench/out}
RUNS=${BENCH_RUNS:-20}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "needs /usr/bin/time (Debian package time)" >&2; exit 1; }
[ -x "$GK_BIN/ginspect" ] || { echo "no $GK_BIN/ginspect: build first" >&2; exit 1; }
dir=$GK_IMAGES/guests
if [ ! -e "$dir/.done" ] || [ ! -e "$dir/distros.img" ]; then
    echo "building the guests in $dir (once) ..." >&2
    rm -rf "$dir" && mkdir -p "$dir"
    ./test-images/guests.sh "$dir" >"$GK_IMAGES/guests.log" 2>&1
    touch "$dir/.done"
fi

# best IMG ARGS...: "best_ms peak_rss_kib" over $RUNS runs
best() {
    local img=$1 b=999999 rss=0 t0 t1 ms m
    shift
    for _ in $(seq 1 "$RUNS"); do
        t0=$(date +%s%N)
        m=$("$TIME" -f %M "$GK_BIN/ginspect" "$@" -a "$img" 2>&1 >/dev/null | tail -n1)
        t1=$(date +%s%N)
        ms=$(((t1 - t0) / 1000))
        if [ "$ms" -lt "$b" ]; then b=$ms; rss=$m; fi
    done
    printf '%d.%03d %s' $((b / 1000)) $((b % 1000)) "$rss"
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs, best of $RUNS runs"
printf '%-40s %10s %14s\n' "ginspect on" "best ms" "peak RSS KiB"
for spec in "debian.qcow2|LVM qcow2 chain, dpkg" "fedora.img|GPT, rpmdb.sqlite" \
            "multiboot.img|two roots" "distros.img|GPT, ten roots"; do
    img=${spec%%|*} what=${spec#*|}
    set -- $(best "$dir/$img")
    printf '%-40s %10s %14s\n' "$img ($what)" "$1" "$2"
    set -- $(best "$dir/$img" --no-applications)
    printf '%-40s %10s %14s\n' "$img --no-applications" "$1" "$2"
done
set -- $(best "$dir/debian.qcow2" --json)
printf '%-40s %10s %14s\n' "debian.qcow2 --json" "$1" "$2"
