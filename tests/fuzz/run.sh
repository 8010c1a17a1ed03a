#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Run every libFuzzer target built in DIR for SECONDS each, from a seed
# corpus, and fail if any finds a crash:   tests/fuzz/run.sh DIR SECONDS
# FUZZ_JOBS targets run at once (default: the number of CPUs, at most 2 as
# make check's -j2), each a single process on one CPU: the same
# SECONDS per target, in half the time on two.
# Seeds: small qemu-img images for qcow2_open and qcow2_write; tests/fuzz/seeds-NAME.sh CORPUS
# for any other target that provides one (else an empty corpus).
#   run.sh --seeds DIR   only makes the seeds, kept in DIR/seeds/NAME
# (make check does it in the background of its ASan stage); a run copies
# the kept ones that are newer than their script and makes the others.
set -u
seeds_only=0
[ "${1:-}" = --seeds ] && { seeds_only=1; shift; }
dir=${1:?usage: run.sh [--seeds] DIR SECONDS}
# absolute: the seed scripts cd to a work directory before they copy into
# the corpus (a relative one left vdi, vhd, vhdx and vmdk without seeds)
dir=$(cd "$dir" && pwd) || exit 1
secs=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gkfuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

qcow2_seeds() { # CORPUS
    local c=$1 w=$tmp/qw
    mkdir -p "$w"
    (
        cd "$w" || exit 1
        q() { qemu-io "$@" >/dev/null 2>&1; }
        qemu-img create -q -f qcow2 -o cluster_size=512 a.qcow2 64k
        q -c 'write -P 1 0 4k' -c 'write -z 8k 4k' -c 'write -P 2 60k 1k' a.qcow2
        qemu-img create -q -f qcow2 -o cluster_size=512,compat=0.10 b.qcow2 64k
        q -c 'write -P 3 1k 3k' b.qcow2
        head -c 16384 /usr/bin/qemu-img >src.raw; truncate -s 64k src.raw
        qemu-img convert -c -O qcow2 -o cluster_size=512 src.raw z.qcow2
        qemu-img convert -c -O qcow2 -o cluster_size=1k,compression_type=zstd src.raw s.qcow2
        qemu-img create -q -f qcow2 -o cluster_size=16k,extended_l2=on e.qcow2 256k
        q -c 'write -P 4 0 1k' -c 'write -z 2k 1k' e.qcow2
        qemu-img create -q -f qcow2 -o cluster_size=512 sn.qcow2 64k
        q -c 'write -P 5 0 2k' sn.qcow2
        qemu-img snapshot -c one sn.qcow2
        q -c 'write -P 6 1k 2k' sn.qcow2
        qemu-img create -q -f qcow2 -o cluster_size=512 -b a.qcow2 -F qcow2 ov.qcow2 64k
    )
    for f in "$w"/*.qcow2; do cp "$f" "$c/"; done
}

# leaks inside the libraries we link (not ours): tests/fuzz/lsan.supp.
# libntfs-3g is built without frame pointers, so its allocations need the
# slow unwinder for a suppression to see who called them (ntfs only).
lsan_base="suppressions=$here/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$jobs" -gt 2 ] && [ -z "${FUZZ_JOBS:-}" ] && jobs=2
[ "$jobs" -ge 1 ] || jobs=1

# fuzz NAME BIN: one target; its report goes to $tmp/NAME.out, its status
# to $tmp/NAME.rc
fuzz() {
    local name=$1 bin=$2 corpus=$tmp/corpus-$1 rc=0
    export LSAN_OPTIONS=$lsan_base
    [ "$name" = ntfs ] && LSAN_OPTIONS=$lsan_base:fast_unwind_on_malloc=0
    {
        echo "fuzz: $name for ${secs}s ($(ls "$corpus" | wc -l) seeds)"
        if ! "$bin" -max_total_time="$secs" -max_len=131072 -rss_limit_mb=1024 -timeout=20 \
            -artifact_prefix="$tmp/$name-" -print_final_stats=0 "$corpus" >"$tmp/$name.log" 2>&1; then
            rc=1
            echo "fuzz: $name FAILED"
            grep -E 'ERROR|SUMMARY|Test unit written' "$tmp/$name.log" | head -n 20
            for a in "$tmp/$name-"*; do
                [ -e "$a" ] && cp "$a" "${TMPDIR:-/tmp}/" && echo "fuzz: crash input kept in ${TMPDIR:-/tmp}/$(basename "$a")"
            done
        else
            tail -n 1 "$tmp/$name.log"
        fi
    } >"$tmp/$name.out" 2>&1
    echo "$rc" >"$tmp/$name.rc"
}

names=()
running=0
for bin in "$dir"/*; do
    [ -f "$bin" ] && [ -x "$bin" ] || continue
    name=$(basename "$bin")
    corpus=$tmp/corpus-$name
    kept=$dir/seeds/$name
    script=$here/seeds-$name.sh
    [ -e "$script" ] || script=$here/run.sh
    if [ "$seeds_only" = 1 ]; then
        [ "$kept/.done" -nt "$script" ] && continue
        rm -rf "$kept"
        corpus=$kept.tmp
        rm -rf "$corpus"
    fi
    mkdir -p "$corpus"
    if [ "$seeds_only" = 0 ] && [ "$kept/.done" -nt "$script" ]; then
        cp -p "$kept"/* "$corpus"/ 2>/dev/null
    elif [ "$name" = qcow2_open ] || [ "$name" = qcow2_write ]; then
        qcow2_seeds "$corpus"
    elif [ -x "$script" ]; then
        "$script" "$corpus"
    fi
    if [ "$seeds_only" = 1 ]; then
        mv "$corpus" "$kept" && touch "$kept/.done"
        continue
    fi
    names+=("$name")
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
    fuzz "$name" "$bin" &
    running=$((running + 1))
done
wait
status=0
for name in "${names[@]}"; do
    cat "$tmp/$name.out"
    [ "$(cat "$tmp/$name.rc" 2>/dev/null)" = 0 ] || status=1
done
[ "$seeds_only" = 1 ] && exit 0
[ "${#names[@]}" -gt 0 ] || echo "fuzz: no targets in $dir"
exit $status
