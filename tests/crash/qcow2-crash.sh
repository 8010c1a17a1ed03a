#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Crash tests of the qcow2 write side: a writer is SIGKILLed just before
# its Nth write to the image (tests/crash/killafter.c; one run in four tears
# that write), then
#   - qemu-img check must find no corruption (exit 0, or 3: leaks only),
#   - every write flushed before the kill must read back (qemu-img convert
#     of the image against the seed's ops up to the last flush, except
#     where later ops wrote: tests/unit/qcow2-write.c verify),
#   - qemu-io must write into the image and the check stay free of
#     corruption,
#   - leaks left are freed by gimg check -r leaks (then qemu-img check is
#     clean and the content unchanged).
# Writers: random writes (unit-qcow2-write writer) on an image with a
# snapshot and data (copy-on-write of shared clusters), on an overlay of a
# raw base with 8 KiB clusters, on 512-byte clusters with 1-bit refcounts
# (refcount blocks and table growth); and gimg convert -O qcow2 [-c].
# With CRASH_CRYPT=1 every image is LUKS-encrypted (made by gimg create,
# which tests/83-qcow2-crypt-create.t holds to qemu-img's; data written by
# qemu-io with the key; no snapshot, no compression: qemu makes neither
# with encryption), the writers write through the key, qemu reads with it,
# and leaks are reported but not repaired (gimg check -r does not write
# encrypted images).
#
#   [CRASH_CRYPT=1] qcow2-crash.sh WORKDIR ITERATIONS [SEED]
# Prints "ok N ..." / "not ok N ..." per iteration; exit 1 on a failure.
# tests/17-qcow2-crash.t runs a few iterations; long campaigns call it with
# hundreds.
set -u
W=$1 ITER=$2 SEED=${3:-$$}
HERE=$(cd "$(dirname "$0")" && pwd)
GK_BIN=${GK_BIN:-$HERE/../../build/bin}
H=${GK_UNIT:-$(dirname "$GK_BIN")/tests}/unit-qcow2-write
export PATH="$GK_BIN:/usr/sbin:/sbin:$PATH"
RANDOM=$SEED
NOPS=60
mkdir -p "$W"
SO=$W/killafter.so
[ -e "$SO" ] || cc -shared -fPIC -O1 -o "$SO" "$HERE/killafter.c" -ldl || exit 2
CRYPT=${CRASH_CRYPT:-0}
SEC=() ENC= CO=
if [ "$CRYPT" = 1 ]; then
    printf 'crash pass' >"$W/pass"
    SEC=(--object "secret,id=s,file=$W/pass")
    ENC=encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=10
    CO="-o $ENC"
    export CRASH_KEY='crash pass'   # unit-qcow2-write writer's passphrase
fi
# img FILE: the arguments naming a qcow2 image to qemu-img and qemu-io (an
# encrypted one as an option list with the key), in the array IA
img() {
    if [ "$CRYPT" = 1 ] && [ "$(od -An -tx1 -j 32 -N 4 "$1" | tr -d ' ')" = 00000002 ]; then
        IA=("${SEC[@]}" --image-opts "driver=qcow2,file.filename=$1,encrypt.key-secret=s")
    else
        IA=("$1")
    fi
}

layout() { # N: make $W/pristine.qcow2 and $W/pristine.raw (its content)
    rm -f "$W"/pristine.* "$W"/base.raw
    if [ "$CRYPT" = 1 ]; then
        local p=$W/pristine.qcow2
        case $(( $1 % 4 )) in
            0|3) gimg create -q -f qcow2 "${SEC[@]}" -o "$ENC$([ $(( $1 % 4 )) = 3 ] && echo ,cluster_size=4k)" "$p" 32M
               img "$p"; qemu-io "${IA[@]}" -c 'write -P 0x31 0 12M' -c 'write -P 0x34 20M 1M' >/dev/null ;;
            1) truncate -s 32M "$W/base.raw"
               qemu-io -f raw -c 'write -P 0x32 4M 20M' "$W/base.raw" >/dev/null
               gimg create -q -f qcow2 "${SEC[@]}" -o "$ENC,cluster_size=8k" -b base.raw -F raw "$p" ;;
            2) gimg create -q -f qcow2 "${SEC[@]}" -o "$ENC,cluster_size=512,refcount_bits=1" "$p" 32M ;;
        esac
        img "$p"
        qemu-img convert "${IA[@]}" -O raw "$W/pristine.raw"
        return
    fi
    case $(( $1 % 4 )) in
        0) qemu-img create -q -f qcow2 "$W/pristine.qcow2" 32M
           qemu-io -c 'write -P 0x31 0 12M' "$W/pristine.qcow2" >/dev/null
           qemu-img snapshot -c s1 "$W/pristine.qcow2" ;;
        1) truncate -s 32M "$W/base.raw"
           qemu-io -f raw -c 'write -P 0x32 4M 20M' "$W/base.raw" >/dev/null
           qemu-img create -q -f qcow2 -o cluster_size=8k -b base.raw -F raw "$W/pristine.qcow2" ;;
        2) qemu-img create -q -f qcow2 -o cluster_size=512,refcount_bits=1 "$W/pristine.qcow2" 32M ;;
        3) truncate -s 32M "$W/src.raw"
           qemu-io -f raw -c 'write -P 0x33 0 8M' "$W/src.raw" >/dev/null
           qemu-img convert -c -O qcow2 "$W/src.raw" "$W/pristine.qcow2" ;;
    esac
    qemu-img convert -O raw "$W/pristine.qcow2" "$W/pristine.raw"
}

check_img() { # echoes why not
    local rc=0
    img "$W/img.qcow2"
    qemu-img check "${IA[@]}" >"$W/check.out" 2>&1 || rc=$?
    if [ $rc != 0 ] && [ $rc != 3 ]; then
        echo "qemu-img check exit $rc: $(grep -v '^$' "$W/check.out" | head -n 5 | tr '\n' '|')"; return 1
    fi
    [ $rc = 3 ] && echo -n "(leaks) "
    return 0
}

fails=0
for i in $(seq 1 "$ITER"); do
    s=$((SEED * 1000 + i))
    layout $i
    mode=random
    [ $((i % 5)) = 0 ] && mode=convert
    writer() {
        if [ $mode = convert ]; then
            exec gimg convert "${SEC[@]}" -O qcow2 $CO $([ $((i % 10)) = 0 ] && [ "$CRYPT" = 0 ] && echo -c) \
                "$W/pristine.raw" "$W/img.qcow2"
        else
            exec "$H" writer "$W/img.qcow2" $s $NOPS "$W/log"
        fi
    }
    # a full run counts the writes (the convert creates the file: the shim
    # finds it at its first write)
    rm -f "$W/img.qcow2" "$W/count" "$W/log"
    [ $mode = random ] && cp "$W/pristine.qcow2" "$W/img.qcow2"
    [ $mode = convert ] && : >"$W/img.qcow2"
    (KILLAFTER_FILE=$W/img.qcow2 KILLAFTER_COUNT=$W/count LD_PRELOAD=$SO writer) >/dev/null 2>"$W/err"
    total=$(cat "$W/count" 2>/dev/null || echo 0)
    if [ "$total" -lt 5 ]; then
        echo "not ok $i - the complete run failed ($total writes): $(head -c 300 "$W/err")"; fails=$((fails + 1)); continue
    fi
    # then the killed run
    cp "$W/pristine.qcow2" "$W/img.qcow2"
    [ $mode = convert ] && : >"$W/img.qcow2"
    rm -f "$W/log"
    n=$(( (RANDOM * 32768 + RANDOM) % total ))
    partial=$(( RANDOM % 4 == 0 ))
    how="layout $((i % 4)): killed before write $n of $total$([ $partial = 1 ] && echo ' (torn)')"
    [ $mode = convert ] && how="convert $([ $((i % 10)) = 0 ] && echo '-c ')killed before write $n of $total$([ $partial = 1 ] && echo ' (torn)')"
    { (KILLAFTER_FILE=$W/img.qcow2 KILLAFTER_N=$n KILLAFTER_PARTIAL=$partial LD_PRELOAD=$SO writer) \
        >/dev/null 2>&1; } 2>/dev/null
    k=$(tail -n 1 "$W/log" 2>/dev/null); k=${k:-0}
    if [ $mode = convert ] && [ "$(head -c 4 "$W/img.qcow2" | od -An -tx1 | tr -d ' ')" != 514649fb ]; then
        echo "ok $i - $how: killed before the image had its header"; continue
    fi
    if ! res=$(check_img); then
        echo "not ok $i - $how: $res"; fails=$((fails + 1)); cp "$W/img.qcow2" "$W/failed-$i.qcow2"; continue
    fi
    # leaks: gimg check -r leaks frees them and changes nothing else
    if [ "$res" = "(leaks) " ] && [ "$CRYPT" = 0 ]; then
        cp "$W/img.qcow2" "$W/rep.qcow2"
        if ! gimg check -q -r leaks "$W/rep.qcow2" >/dev/null 2>"$W/err" || ! qemu-img check -q "$W/rep.qcow2" ||
           ! qemu-img compare -q "$W/rep.qcow2" "$W/img.qcow2"; then
            echo "not ok $i - $how: gimg check -r leaks did not leave a clean image: $(head -c 200 "$W/err")"
            fails=$((fails + 1)); cp "$W/img.qcow2" "$W/failed-$i.qcow2"; continue
        fi
        res="(leaks, freed by check -r leaks) "
    fi
    if [ $mode = convert ]; then
        echo "ok $i - $how: $res"; continue
    fi
    img "$W/img.qcow2"
    qemu-img convert "${IA[@]}" -O raw "$W/got.raw"
    if ! out=$("$H" verify "$W/got.raw" "$W/pristine.raw" $s $NOPS "$k" 2>&1); then
        echo "not ok $i - $how: flushed data (op $k) lost: $out"; fails=$((fails + 1)); cp "$W/img.qcow2" "$W/failed-$i.qcow2"; continue
    fi
    if ! qemu-io "${IA[@]}" -c 'write -P 0x7e 1M 2M' >/dev/null 2>"$W/err" || ! res2=$(check_img); then
        echo "not ok $i - $how: qemu-io afterwards: $(head -c 200 "$W/err") $res2"; fails=$((fails + 1)); continue
    fi
    echo "ok $i - $how: ${res}flushed ops 1..$k read back"
done
[ $fails = 0 ]
