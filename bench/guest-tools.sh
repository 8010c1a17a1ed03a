#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The tools on the real-size guest of bench/guest.sh (3 GiB GPT disk, /boot
# partition, LVM root ext4 holding ~2 GB in ~55000 files, as a chain of
# three qcow2 images), against anchors measured in the same run:
#
#   gcat -a guest.qcow2 /etc/hostname       target < 10 ms   anchor virt-cat
#   ginspect -a guest.qcow2 (applications)  target < 100 ms  anchor virt-inspector
#   gfsh -a guest.qcow2 -i <<< 'cat /etc/hostname'
#                                           target < 20 ms   anchor guestfish
#   gcopy-out -a guest.qcow2 / DIR          target >= 2x faster than
#       debugfs -R "rdump / DIR" root.raw (the root LV's filesystem as a raw
#       file: debugfs reads no qcow2 and no LVM) and 7zz x root.raw
#       (7-Zip reads GPT and qcow2 but neither LVM nor backing files, so it
#       too gets the raw LV; -snld, else it drops every "../" symlink, and
#       it still skips 41 links through other links; [SYS] (the journal) is
#       excluded).  gcopy-out also copies /boot (6 MB more).
#
# The small tools: best of $BENCH_RUNS runs (default 20) by wall time, from
# a monotonic clock around fork/exec/wait (the 10 ms resolution of
# /usr/bin/time's %e is too coarse here) and the CPU time (user + sys) of
# that run from wait4(); the peak RSS of one more run from /usr/bin/time -f %M.
# The libguestfs anchors boot an appliance under TCG (no KVM here): they run
# $BENCH_VIRT_RUNS times (default 1; 0 skips them), timed by
# /usr/bin/time -f '%e %M %U %S' (their RSS is qemu's).
# The copies: best of $BENCH_COPY_RUNS runs (default 3) by wall time, with
# /usr/bin/time -f '%e %M %U %S', into each directory of $BENCH_DESTS
# (default /dev/shm: tmpfs measures the readers; the output is removed
# after each run, untimed).  On the host's ext4 the time is the kernel's:
# creating 55000 inodes right after an rm -rf of as many costs twice as
# much system time (debugfs into a fresh directory 12.4 s, gcopy-out after
# rm + sync 22.4 s, 21.6 of it sys), so whichever tool runs first wins.  The outputs are
# checked once: gcopy-out's against debugfs's (diff -r, /boot aside),
# gcat's and gfsh's against the hostname the image was made with, and
# ginspect's application count against dpkg-query on the guest's status.
#
# Everything is hot in the page cache (the images are read before timing).
# The machine is shared: the load average is printed with the results.
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
. bench/lib.sh
DIR=${GK_BENCH_DIR:-$PWD/bench/out}/guest3g
RUNS=${BENCH_RUNS:-20}
VRUNS=${BENCH_VIRT_RUNS:-1}
CRUNS=${BENCH_COPY_RUNS:-3}
DESTS=${BENCH_DESTS:-/dev/shm}
need_time
for t in gcat ginspect gfsh gcopy-out; do
    [ -x "$GK_BIN/$t" ] || { echo "no $GK_BIN/$t: build first" >&2; exit 1; }
done
if [ ! -e "$DIR/.done" ]; then
    echo "building the 3 GiB guest in $DIR (once, a few minutes) ..." >&2
    ./bench/guest.sh >"$DIR.log" 2>&1 || { tail "$DIR.log" >&2; exit 1; }
fi
IMG=$DIR/guest.qcow2
HOST=$(cat "$DIR/hostname")
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "guest-tools: $*" >&2; exit 1; }

# Warm the page cache: every image file of the chain and the raw anchor.
cat "$DIR"/*.qcow2 "$DIR/root.raw" >/dev/null

# --- correctness first (a fast wrong answer is no result) -----------------
[ "$("$GK_BIN/gcat" -a "$IMG" /etc/hostname)" = "$HOST" ] || fail "gcat /etc/hostname is wrong"
[ "$("$GK_BIN/gfsh" -a "$IMG" -i <<<'cat /etc/hostname')" = "$HOST" ] || fail "gfsh cat /etc/hostname is wrong"
"$GK_BIN/ginspect" -a "$IMG" >"$W/inspect.xml" || fail "ginspect failed"
mkdir -p "$W/dpkg/updates"
"$GK_BIN/gcat" -a "$IMG" /var/lib/dpkg/status >"$W/dpkg/status"
want=$(dpkg-query --admindir="$W/dpkg" -W -f '${db:Status-Abbrev}\n' | grep -c '^ii')
got=$(xmllint --xpath 'count(//application)' "$W/inspect.xml")
[ "$got" = "$want" ] || fail "ginspect lists $got applications, dpkg-query $want"

# --- small tools ------------------------------------------------------------
# tm RUNS STDIN CMD...: "wall_ms rss_kib cpu_ms": wall and CPU time of the
# fastest run, and the peak RSS of a run under /usr/bin/time (wait4's
# ru_maxrss of a process spawned from Python counts Python's own pages from
# before the exec)
tm() {
    local r rss
    r=$(python3 - "$@" <<'EOF'
import os, sys, time
runs, stdin, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
best = None
for _ in range(runs):
    fd = os.open(stdin, os.O_RDONLY)
    null = os.open(os.devnull, os.O_WRONLY)
    t0 = time.monotonic()
    pid = os.posix_spawn(cmd[0], cmd, os.environ, file_actions=[
        (os.POSIX_SPAWN_DUP2, fd, 0), (os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)])
    _, status, ru = os.wait4(pid, 0)
    t = time.monotonic() - t0
    os.close(fd); os.close(null)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("%s exited with status %d" % (cmd[0], os.waitstatus_to_exitcode(status)))
    if best is None or t < best[0]:
        best = (t, ru.ru_utime + ru.ru_stime)
print("%.2f %.1f" % (best[0] * 1000, best[1] * 1000))
EOF
) || return 1
    rss=$("$TIME" -f '%M' "${@:3}" <"$2" 2>&1 >/dev/null | tail -n1)
    set -- $r
    echo "$1 $rss $2"
}
# vt STDIN CMD...: "wall_s rss_kib cpu_s" of the fastest of $VRUNS runs
vt() {
    local in=$1 b="" m
    shift
    for _ in $(seq 1 "$VRUNS"); do
        m=$("$TIME" -f '%e %M %U %S' "$@" <"$in" 2>&1 >/dev/null | tail -n1) ||
            { echo "failed - -"; return; }
        if [ -z "$b" ] || awk -v a="${m%% *}" -v b="${b%% *}" 'BEGIN {exit !(a < b)}'; then b=$m; fi
    done
    awk '{printf "%.2f %d %.2f", $1, $2, $3 + $4}' <<<"$b"
}
echo 'cat /etc/hostname' >"$W/fish"
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}

echo "3 GiB guest: $IMG (chain of 3 qcow2: GPT, /boot, LVM root ext4, swap)"
echo "$(date -u '+%F %T') UTC, commit $(git -C "$TOP" rev-parse --short HEAD), $(nproc) CPUs," \
     "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM, load average $(loadavg)"
echo "small tools: best of $RUNS runs (anchors: $VRUNS run(s), libguestfs appliance under TCG)"
printf '%-44s %10s %9s %10s | %-28s %9s %10s %8s %6s\n' \
    "command" "wall ms" "CPU ms" "RSS KiB" "anchor" "wall s" "RSS KiB" "ratio" "target"
small() { # LABEL TARGET_MS ANCHOR_LABEL "ANCHOR CMD" -- OUR CMD...
    local label=$1 target=$2 alabel=$3 acmd=$4 ours a met
    shift 5
    ours=$(tm "$RUNS" "$W/fish" "$@") || fail "$label: $ours"
    set -- $ours
    if [ "$VRUNS" -gt 0 ]; then
        a=$(vt "$W/fish" $acmd)
    else
        a="- - -"
    fi
    met=$(awk -v t="$1" -v m="$target" 'BEGIN {print (t < m) ? "met" : "MISSED"}')
    set -- $ours $a
    printf '%-44s %10s %9s %10s | %-28s %9s %10s %8s %6s\n' "$label" "$1" "$3" "$2" "$alabel" "$4" "$5" \
        "$(awk -v o="$1" -v a="$4" 'BEGIN {if (a !~ /^[0-9]/) print "-"; else printf "%.0fx", a * 1000 / o}')" \
        "<${target}ms $met"
}
small "gcat /etc/hostname" 10 "virt-cat" \
    "virt-cat --format=qcow2 -a $IMG /etc/hostname" -- "$GK_BIN/gcat" -a "$IMG" /etc/hostname
small "ginspect (with applications)" 100 "virt-inspector" \
    "virt-inspector --format=qcow2 -a $IMG" -- "$GK_BIN/ginspect" -a "$IMG"
small "gfsh -i <<< 'cat /etc/hostname'" 20 "guestfish --ro -i" \
    "guestfish --ro --format=qcow2 -a $IMG -i" -- "$GK_BIN/gfsh" -a "$IMG" -i
echo "load average after the small tools: $(loadavg)"

# --- gcopy-out of the whole tree ------------------------------------------
# The runs are interleaved (gcopy-out, debugfs, 7zz, gcopy-out, ...) so that
# a change in the load falls on all of them; before each, the output of the
# last is removed and synced, untimed (the host filesystem frees and
# discards the blocks of 2 GB of files: the next run would pay for it).
GK=("$GK_BIN/gcopy-out" -a "$IMG" / @OUT@)
DBG=(debugfs -R "rdump / @OUT@" "$DIR/root.raw")
SZ=(7zz x -snld -bd -y '-x![SYS]' -o@OUT@ "$DIR/root.raw")
TOOLS="GK DBG"
command -v 7zz >/dev/null && TOOLS="$TOOLS SZ"
declare -A BEST
# one DEST TOOL: time one run of TOOL into DEST/out, keep the fastest
one() {
    local dest=$1 t=$2 m st=0
    local -n c=$2
    rm -rf "$dest/out" && mkdir -p "$dest/out" && sync
    m=$("$TIME" -f '%e %M %U %S' "${c[@]//@OUT@/$dest/out}" 2>&1 >/dev/null | tail -n1) || st=$?
    if [ -z "${BEST[$t]:-}" ] || awk -v a="${m%% *}" -v b="${BEST[$t]%% *}" 'BEGIN {exit !(a < b)}'; then
        BEST[$t]="$m $st"
    fi
}
row() { # LABEL DEST TOOL: print the best run of TOOL, and its time over gcopy-out's
    set -- "$1" "$2" ${BEST[$3]} "${BEST[GK]%% *}"
    printf '%-44s %-20s %8.2f %8.2f %10d %7s\n' "$1" "$2" "$3" "$(awk -v u="$5" -v s="$6" 'BEGIN {print u + s}')" \
        "$4" "$(awk -v a="$3" -v g="$8" 'BEGIN {printf "%.2fx", a / g}')"
}
echo
echo "gcopy-out of / (~2 GB, ~55000 files; best of $CRUNS interleaved runs)"
printf '%-44s %-20s %8s %8s %10s %7s\n' "command" "into" "wall s" "CPU s" "RSS KiB" "vs gk"
checked=""
for d in $DESTS; do
    dest=$d/gk-guest-tools.$$
    mkdir -p "$dest"
    if [ -z "$checked" ]; then
        mkdir -p "$dest/g" "$dest/d"
        "$GK_BIN/gcopy-out" -a "$IMG" / "$dest/g"
        debugfs -R "rdump / $dest/d" "$DIR/root.raw" >/dev/null 2>&1
        rm -rf "$dest/g/boot"/* "$dest/d/boot"/*
        diff -r --no-dereference "$dest/g" "$dest/d" >"$W/diff" 2>&1 ||
            { head "$W/diff" >&2; rm -rf "$dest"; fail "gcopy-out and debugfs rdump differ"; }
        rm -rf "$dest/g" "$dest/d"
        checked=1
    fi
    BEST=()
    for _ in $(seq 1 "$CRUNS"); do
        for t in $TOOLS; do one "$dest" "$t"; done
    done
    rm -rf "$dest"
    [ "${BEST[GK]##* }" = 0 ] || fail "gcopy-out exited with status ${BEST[GK]##* }"
    row "gcopy-out -a guest.qcow2 / DIR" "$d" GK
    row "debugfs -R 'rdump / DIR' root.raw" "$d" DBG
    if [ -n "${BEST[SZ]:-}" ]; then
        row "7zz x -snld root.raw (exit ${BEST[SZ]##* })" "$d" SZ
    else
        echo "7zz: not installed (Debian package 7zip)"
    fi
done
echo "target: gcopy-out at least 2x faster than debugfs (the vs gk column >= 2.00x)"
echo "load average at the end: $(loadavg)"
