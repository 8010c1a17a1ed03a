#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fleet inspection: `ginspect --each --jobs 2` over the 200 guests of
# test-images/mkfleet.sh (qcow2 overlays and links over the phony guests
# of test-images/guests.sh; 25 of them broken or missing), images per
# second, with and without --sqlite and --no-applications; against
# virt-inspector (libguestfs, LIBGUESTFS_BACKEND=direct, TCG: no KVM here),
# run on $BENCH_VI_RUNS (3) good guests of the fleet, one after the other,
# and extrapolated to the 200 (its mean time per guest times 200 / 2 jobs,
# as if two ran side by side with no loss, which flatters it).
# Environment: GK_BIN, GK_IMAGES (fixture cache), BENCH_RUNS (3: runs of
# ginspect --each, the best kept), BENCH_VI_RUNS (3, 0: no virt-inspector).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
GK_IMAGES=${GK_IMAGES:-$PWD/build/images}
RUNS=${BENCH_RUNS:-3}
VI_RUNS=${BENCH_VI_RUNS:-3}
N=200
need_time
need_tools ginspect
./test-images/build-all.sh "$GK_IMAGES" guests
W=$(mktemp -d "${TMPDIR:-/tmp}/gkfleet.XXXXXX")
trap 'rm -rf "$W"' EXIT
./test-images/mkfleet.sh "$W/fleet" "$GK_IMAGES/guests" "$N"
good=$(grep -c '	good:' "$W/fleet/expect")

echo "commit $(commit), $(nproc) CPUs," \
     "load average $(loadavg)"
echo "$N guests ($good good), --jobs 2, best of $RUNS runs (wall), CPU = user + sys of the run"
printf '%-44s %8s %8s %10s %12s\n' "run" "wall s" "CPU s" "images/s" "CPU ms/image"

# fleet LABEL ARGS...: the best wall time of $RUNS runs and its CPU time
fleet() {
    local label=$1 best="" cpu="" w c
    shift
    for _ in $(seq 1 "$RUNS"); do
        rm -f "$W/fleet.db"
        "$TIME" -f '%e %U %S' -o "$W/t" "$GK_BIN/ginspect" --each --jobs 2 \
            --from "$W/fleet/list" "$@" >"$W/out" 2>/dev/null || true
        [ "$(wc -l <"$W/out")" = "$N" ] || { echo "$label: $(wc -l <"$W/out") lines, not $N" >&2; exit 1; }
        read -r w u s < <(tail -n 1 "$W/t")
        c=$(echo "$u + $s" | bc)
        if [ -z "$best" ] || [ "$(echo "$w < $best" | bc)" = 1 ]; then
            best=$w cpu=$c
        fi
    done
    printf '%-44s %8.2f %8.2f %10.1f %12.1f\n' "$label" "$best" "$cpu" \
        "$(echo "$N / $best" | bc -l)" "$(echo "$cpu * 1000 / $N" | bc -l)"
    echo "$best" >"$W/best.$label"
}
fleet "ginspect --each" 
fleet "ginspect --each --sqlite" --sqlite "$W/fleet.db"
fleet "ginspect --each --no-applications" --no-applications

if [ "$VI_RUNS" -gt 0 ] && command -v virt-inspector >/dev/null; then
    export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
    total=0
    # the first good guests of three different bases (Debian LVM, the
    # qcow2 chain, Alpine; libguestfs' rpm cannot read the phony rpmdb)
    grep '	good:[014]$' "$W/fleet/expect" | sort -t: -k2 -u | cut -f1 | head -n "$VI_RUNS" >"$W/vi"
    while IFS= read -r img; do
        t0=$(date +%s.%N)
        virt-inspector -a "$img" >"$W/vi.xml" 2>"$W/vi.err" || {
            echo "virt-inspector failed on $img: $(tail -n 3 "$W/vi.err")" >&2; exit 1; }
        t1=$(date +%s.%N)
        t=$(echo "$t1 - $t0" | bc)
        printf '%-44s %8.2f\n' "virt-inspector $(basename "$img")" "$t"
        total=$(echo "$total + $t" | bc)
    done <"$W/vi"
    per=$(echo "$total / $VI_RUNS" | bc -l)
    est=$(echo "$per * $N / 2" | bc -l)
    printf '%-44s %8.0f %8s %10.3f\n' "virt-inspector x $N, 2 at a time (est.)" "$est" "" \
        "$(echo "$N / $est" | bc -l)"
    printf 'ginspect --each is %.0f times faster than the estimate\n' \
        "$(echo "$est / $(cat "$W/best.ginspect --each")" | bc -l)"
fi
