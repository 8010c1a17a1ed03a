#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg's whole-image writers killed with `kill -9` at a random moment (a
# random delay after the start, not at a chosen write: tests/crash/
# qcow2-crash.sh and tests/18-gimg-snapshot-crash.t kill at chosen writes),
# then:
#   - qemu-img check finds no corruption (exit 0, or 3: leaked clusters),
#     and gimg check -r leaks frees the leaks without changing the content;
#   - what is complete reads back (qemu-img is the reader):
#       convert -O qcow2 [-c zlib|zstd]: every range qemu-img map calls
#         data holds the source's bytes there (the rest reads as zeros);
#         a convert that finished is the source (qemu-img compare);
#       snapshot -c new: the active contents and snapshot "old" unchanged,
#         snapshot "new" absent or the active contents;
#       snapshot -d old: the active contents and snapshot "keep" unchanged,
#         snapshot "old" absent or what it was;
#   - qemu-io writes into the image and qemu-img check still finds no
#     corruption.
# The images are small (a 16 MiB source, snapshots over 512-byte clusters
# so that -c and -d rewrite hundreds of tables).  The delay is drawn (from
# SEED) between the tool's start-up time and the duration of a full run,
# both measured first; where the kill landed (before the first change,
# part way, after the end) is printed, never judged: the machine's load
# decides it.
#
#   gimg-kill.sh WORKDIR ITERATIONS [SEED]
# Iteration i runs mode i mod 5: convert, convert -c zlib, convert -c
# zstd, snapshot -c, snapshot -d; convert targets take 64 KiB clusters
# and 4 KiB clusters in turn.  Prints "ok N ..." / "not ok N ..." per
# iteration, exits 1 if any failed.  tests/17-qcow2-crash-kill.t runs one
# iteration of each mode; tests/crash/campaign.sh runs hundreds.
set -u
W=$1 ITER=$2 SEED=${3:-$$}
HERE=$(cd "$(dirname "$0")" && pwd)
GK_BIN=${GK_BIN:-$HERE/../../build/bin}
export PATH="$GK_BIN:/usr/sbin:/sbin:$PATH"
RANDOM=$SEED
mkdir -p "$W"

now_us() { local t=${EPOCHREALTIME/./}; echo "${t#0}"; }

# the convert source: patterns, seeded random bytes (incompressible), text
# (compressible), holes, a partly zero cluster, an odd tail
source_raw() {
    [ -e "$W/src.raw" ] && return
    python3 - "$W/src.raw" <<'EOF'
import random, sys
r = random.Random(20261205)
size = 16 << 20
with open(sys.argv[1], 'wb') as f:
    f.truncate(size)
    def put(off, data):
        f.seek(off); f.write(data)
    put(0, bytes([0x41]) * (2 << 20))
    put(3 << 20, r.randbytes(3 << 20))
    words = [b'qcow2', b'cluster', b'refcount', b'guest', b'kill', b'-9', b'\n']
    put(7 << 20, b' '.join(r.choice(words) for _ in range(500000))[: 4 << 20])
    put((12 << 20) + 4096, r.randbytes(4096))          # one 4 KiB block in a cluster
    put(13 << 20, r.randbytes(2 << 20))
    put(size - 12345, r.randbytes(12345))
EOF
}

# an 8 MiB image over 512-byte clusters with data, snapshots "keep" and
# "old" and newer active data; the expected contents as raw files
snap_image() {
    [ -e "$W/snap.qcow2" ] && return
    qemu-img create -q -f qcow2 -o cluster_size=512 "$W/snap.qcow2" 8M
    qemu-io -c 'write -P 0x21 0 4M' "$W/snap.qcow2" >/dev/null
    qemu-img snapshot -c keep "$W/snap.qcow2"
    qemu-io -c 'write -P 0x22 1M 2M' "$W/snap.qcow2" >/dev/null
    qemu-img snapshot -c old "$W/snap.qcow2"
    qemu-io -c 'write -P 0x23 2M 3M' -c 'write -P 0x24 6M 1M' "$W/snap.qcow2" >/dev/null
    qemu-img convert -O raw "$W/snap.qcow2" "$W/active.raw"
    qemu-img convert -O raw -l snapshot.name=keep "$W/snap.qcow2" "$W/keep.raw"
    qemu-img convert -O raw -l snapshot.name=old "$W/snap.qcow2" "$W/old.raw"
}

has_snap() { qemu-img snapshot -l "$W/img.qcow2" | awk 'NR > 2 { print $2 }' | grep -qx "$1"; }
snap_is() { # NAME RAW: snapshot NAME holds RAW
    qemu-img convert -O raw -l "snapshot.name=$1" "$W/img.qcow2" "$W/s.raw" 2>/dev/null &&
        cmp -s "$W/s.raw" "$2"
}

# every range qemu-img map calls data holds the source's bytes
data_is_source() {
    qemu-img map --output=json "$W/img.qcow2" >"$W/map.json" || { echo "qemu-img map failed"; return; }
    python3 - "$W/map.json" "$W/got.raw" "$W/src.raw" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
got, src = open(sys.argv[2], 'rb'), open(sys.argv[3], 'rb')
for e in m:
    if not e['data']:
        continue
    got.seek(e['start']); src.seek(e['start'])
    a, b = got.read(e['length']), src.read(e['length'])
    if a != b:
        i = next(k for k in range(len(a)) if a[k] != b[k])
        print('data at %d differs from the source' % (e['start'] + i))
        break
EOF
}

verify() { # MODE FINISHED: echoes what is wrong
    local rc=0
    qemu-img check "$W/img.qcow2" >"$W/check.out" 2>&1 || rc=$?
    if [ $rc != 0 ] && [ $rc != 3 ]; then
        echo "qemu-img check exit $rc: $(grep -v '^$' "$W/check.out" | head -n 4 | tr '\n' '|')"; return
    fi
    cp "$W/check.out" "$W/check0.out"
    if [ $rc = 3 ]; then
        cp "$W/img.qcow2" "$W/rep.qcow2"
        if ! gimg check -q -r leaks "$W/rep.qcow2" >/dev/null 2>"$W/err" || ! qemu-img check -q "$W/rep.qcow2" ||
            ! qemu-img compare -q "$W/rep.qcow2" "$W/img.qcow2"; then
            echo "gimg check -r leaks did not leave a clean image: $(head -c 200 "$W/err")"; return
        fi
    fi
    qemu-img convert -O raw "$W/img.qcow2" "$W/got.raw" || { echo "qemu-img cannot read it"; return; }
    case $1 in
        convert*)
            if [ "$2" = 1 ]; then
                cmp -s "$W/got.raw" "$W/src.raw" || { echo "finished, but not the source"; return; }
            else
                local why; why=$(data_is_source)
                [ -z "$why" ] || { echo "$why"; return; }
            fi ;;
        snapshot-c)
            cmp -s "$W/got.raw" "$W/active.raw" || { echo "active contents changed"; return; }
            has_snap old && snap_is old "$W/old.raw" || { echo "snapshot old lost or changed"; return; }
            ! has_snap new || snap_is new "$W/active.raw" || { echo "snapshot new is not the active contents"; return; }
            [ "$2" = 0 ] || has_snap new || { echo "finished without snapshot new"; return; } ;;
        snapshot-d)
            cmp -s "$W/got.raw" "$W/active.raw" || { echo "active contents changed"; return; }
            has_snap keep && snap_is keep "$W/keep.raw" || { echo "snapshot keep lost or changed"; return; }
            ! has_snap old || snap_is old "$W/old.raw" || { echo "snapshot old is not what it was"; return; }
            [ "$2" = 0 ] || ! has_snap old || { echo "finished, snapshot old still there"; return; } ;;
    esac
    # a convert killed between the header and the resize leaves an empty
    # image, as qemu-img convert's create step does: nothing to write into
    [ "$(stat -c %s "$W/got.raw")" = 0 ] && return
    qemu-io -c 'write -P 0x7e 100k 1M' "$W/img.qcow2" >/dev/null 2>&1 || { echo "qemu-io cannot write"; return; }
    rc=0
    qemu-img check "$W/img.qcow2" >"$W/check.out" 2>&1 || rc=$?
    [ $rc = 0 ] || [ $rc = 3 ] || echo "after qemu-io: qemu-img check exit $rc"
}

prepare() { # MODE
    rm -f "$W/img.qcow2"
    case $1 in snapshot*) cp "$W/snap.qcow2" "$W/img.qcow2" ;; esac
}

run() { # MODE CS: exec the command (call it in a subshell)
    case $1 in
        convert) exec gimg convert -f raw -O qcow2 -o "cluster_size=$2" "$W/src.raw" "$W/img.qcow2" ;;
        convert-zlib|convert-zstd)
            exec gimg convert -f raw -O qcow2 -c -o "cluster_size=$2,compression_type=${1#convert-}" \
                "$W/src.raw" "$W/img.qcow2" ;;
        snapshot-c) exec gimg snapshot -c new "$W/img.qcow2" ;;
        snapshot-d) exec gimg snapshot -d old "$W/img.qcow2" ;;
    esac
}

declare -A full start
source_raw
snap_image
# start-up: a command that opens the source and writes nothing
t0=$(now_us); gimg info "$W/src.raw" >/dev/null; t1=$(now_us)
startup=$(( t1 - t0 ))

modes=(convert convert-zlib convert-zstd snapshot-c snapshot-d)
fails=0
for i in $(seq 1 "$ITER"); do
    mode=${modes[$(( (i - 1) % 5 ))]}
    cs=65536
    [ $(( (i - 1) / 5 % 2 )) = 1 ] && cs=4096
    key=$mode-$cs label=$mode
    case $mode in convert*) label="$mode (cluster_size=$cs)" ;; *) key=$mode ;; esac
    if [ -z "${full[$key]:-}" ]; then
        # a full run: its duration, and that it does what it should
        prepare "$mode"
        t0=$(now_us)
        if ! (run "$mode" "$cs") >/dev/null 2>"$W/err"; then
            echo "not ok $i - $label: the full run failed: $(head -c 300 "$W/err")"
            fails=$((fails + 1)); continue
        fi
        t1=$(now_us)
        full[$key]=$(( t1 - t0 ))
        why=$(verify "$mode" 1)
        if [ -n "$why" ]; then
            echo "not ok $i - $label, not killed: $why"; fails=$((fails + 1)); continue
        fi
    fi
    lo=$(( startup * 8 / 10 )) hi=${full[$key]}
    [ "$hi" -gt "$lo" ] || hi=$(( lo + 1000 ))
    delay=$(( lo + (RANDOM * 32768 + RANDOM) % (hi - lo) ))
    prepare "$mode"
    rm -f "$W/check0.out"
    [ "${mode%%-*}" = snapshot ] && cmp_before=1 || cmp_before=0
    (run "$mode" "$cs") >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '%d.%06d' $((delay / 1000000)) $((delay % 1000000)))"
    kill -9 "$pid" 2>/dev/null
    rc=0
    wait "$pid" 2>/dev/null || rc=$?
    finished=0 where="part way"
    if [ $rc = 0 ]; then
        finished=1 where="after the end"
    elif [ $cmp_before = 1 ] && cmp -s "$W/img.qcow2" "$W/snap.qcow2"; then
        where="before the first change"
    elif [ $cmp_before = 0 ] && [ "$(head -c 4 "$W/img.qcow2" 2>/dev/null | od -An -tx1 | tr -d ' ')" != 514649fb ]; then
        echo "ok $i - $label killed after $((delay / 1000)) ms of ~$((hi / 1000)): before the image had its header"
        continue
    fi
    [ "$where" = "part way" ] && [ $cmp_before = 0 ] &&
        qemu-img info "$W/img.qcow2" 2>/dev/null | grep -q '^virtual size: 0 B' && where="before the image had its size"
    how="$label killed after $((delay / 1000)) ms of ~$((hi / 1000)) ($where)"
    why=$(verify "$mode" $finished)
    if [ -n "$why" ]; then
        echo "not ok $i - $how: $why"; fails=$((fails + 1)); cp "$W/img.qcow2" "$W/failed-$i.qcow2"; continue
    fi
    echo "ok $i - $how$(grep -q Leaked "$W/check0.out" 2>/dev/null && echo ', leaked clusters freed by check -r leaks')"
done
[ $fails = 0 ]
