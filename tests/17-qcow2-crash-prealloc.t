#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Kill -9 during preallocation=falloc and =full (gimg resize --preallocation
# of an image with data and a snapshot, gimg create -o preallocation), at
# chosen writes, not after a delay: tests/crash/killafter.c kills the writer
# just before its Nth write, counting the file's fallocate and ftruncate
# calls too (KILLAFTER_SIZE), and lists where those are.  Kill points: the
# first write, just before and just after each change of the file's size,
# the last write (the header's new size), and for resize three seeded
# others, one of them torn.  Every state a kill can leave must pass:
#   - create: no qcow2 header yet, or an image of size 0 or the full size;
#   - resize: the old or the new size;
# and then qemu-img check finds no corruption (leaks allowed: gimg check -r
# leaks frees them, qemu-img check is then clean), the content is the
# original's (qemu-img compare; past the old size zeros), the snapshot's too,
# and qemu-io writes on with the check still clean.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip_all "needs qemu-img and qemu-io"
command -v cc >/dev/null || skip_all "needs cc for the kill shim"
SO=$T/killafter.so
cc -shared -fPIC -O1 -o "$SO" "$TOP/tests/crash/killafter.c" -ldl || skip_all "the kill shim does not build"
RANDOM=20261205
W=$T/w
mkdir -p "$W"

# the resize source: 4 KiB clusters (several refcount blocks to rebuild),
# data shared with a snapshot and copied on write after it
qemu-img create -q -f qcow2 -o cluster_size=4k "$W/pristine.qcow2" 16M
qemu-io -c 'write -P 0x31 0 6M' "$W/pristine.qcow2" >/dev/null
qemu-img snapshot -c s1 "$W/pristine.qcow2"
qemu-io -c 'write -P 0x32 4M 4M' -c 'write -P 0x33 13M 3M' "$W/pristine.qcow2" >/dev/null
qemu-img convert -O raw "$W/pristine.qcow2" "$W/pristine.raw"
qemu-img convert -l snapshot.name=s1 -O raw "$W/pristine.qcow2" "$W/s1.raw"
truncate -s 8M "$W/zero.raw"

vsize() { # the header's size field (qemu-img check has judged the header)
    echo $((16#$(od -An -tx1 -j 24 -N 8 "$1" | tr -d ' \n')))
}

# run JOB [N [TORN]]: the writer, killed before its Nth write when N is given
run() {
    local job=$1 n=${2-} torn=${3:-0}
    rm -f "$W/count" "$W/sizes"
    case $job in
        resize-*) cp "$W/pristine.qcow2" "$W/img.qcow2" ;;
        create-*) : >"$W/img.qcow2" ;;
    esac
    local env=(KILLAFTER_FILE="$W/img.qcow2" KILLAFTER_SIZE=1 KILLAFTER_COUNT="$W/count"
               KILLAFTER_SIZES="$W/sizes" KILLAFTER_PARTIAL="$torn" LD_PRELOAD="$SO")
    [ -n "$n" ] && env+=(KILLAFTER_N="$n")
    case $job in
        resize-*) env "${env[@]}" gimg resize -q --preallocation="${job#resize-}" "$W/img.qcow2" +24M ;;
        create-*) env "${env[@]}" gimg create -q -f qcow2 -o "preallocation=${job#create-},cluster_size=4k" \
                      "$W/img.qcow2" 8M ;;
    esac
}

# verify JOB WHAT: every legitimate state after a kill (or the full run)
verify() {
    local job=$1 what=$2 rc=0 sz want res=
    if [[ $job = create-* ]] && [ "$(head -c 4 "$W/img.qcow2" | od -An -tx1 | tr -d ' ')" != 514649fb ]; then
        _tap_result 0 "$what: killed before the image had its header"
        return
    fi
    qemu-img check "$W/img.qcow2" >"$W/check.out" 2>&1 || rc=$?
    if [ $rc != 0 ] && [ $rc != 3 ]; then
        _tap_result 1 "$what: qemu-img check exit $rc"; diag "$(head -n 8 "$W/check.out")"; return
    fi
    sz=$(vsize "$W/img.qcow2")
    case $job in
        resize-*) want="16777216 41943040" ;;
        create-*) want="0 8388608" ;;
    esac
    if [[ " $want " != *" $sz "* ]]; then
        _tap_result 1 "$what: virtual size $sz (expected one of $want)"; return
    fi
    if [ $rc = 3 ]; then
        cp "$W/img.qcow2" "$W/rep.qcow2"
        if ! gimg check -q -r leaks "$W/rep.qcow2" >/dev/null 2>"$W/err" || ! qemu-img check -q "$W/rep.qcow2" ||
           ! qemu-img compare -q "$W/rep.qcow2" "$W/img.qcow2"; then
            _tap_result 1 "$what: gimg check -r leaks did not leave a clean image"; diag "$(head -c 300 "$W/err")"; return
        fi
        res="leaks freed by check -r leaks, "
    fi
    case $job in
        resize-*)
            if ! qemu-img compare -q -f raw "$W/pristine.raw" "$W/img.qcow2" 2>/dev/null; then
                _tap_result 1 "$what: content differs from the original's"; return
            fi
            qemu-img convert -l snapshot.name=s1 -O raw "$W/img.qcow2" "$W/got-s1.raw"
            if ! qemu-img compare -q -f raw -F raw "$W/s1.raw" "$W/got-s1.raw" 2>/dev/null; then
                _tap_result 1 "$what: snapshot s1 differs from the original's"; return
            fi ;;
        create-*)
            if ! qemu-img compare -q -f raw "$W/zero.raw" "$W/img.qcow2" 2>/dev/null; then
                _tap_result 1 "$what: does not read as zeros"; return
            fi ;;
    esac
    if [ "$sz" != 0 ]; then
        if ! qemu-io -c 'write -P 0x7e 1M 2M' "$W/img.qcow2" >/dev/null 2>"$W/err"; then
            _tap_result 1 "$what: qemu-io afterwards: $(head -c 200 "$W/err")"; return
        fi
        rc=0
        qemu-img check "$W/img.qcow2" >"$W/check.out" 2>&1 || rc=$?
        if [ $rc != 0 ] && [ $rc != 3 ]; then
            _tap_result 1 "$what: qemu-img check after qemu-io exit $rc"; diag "$(head -n 8 "$W/check.out")"; return
        fi
    fi
    _tap_result 0 "$what: size $sz, ${res}check clean, content as before"
}

for job in resize-falloc resize-full create-falloc create-full; do
    # the full run: counts the writes, lists the size changes
    if ! run $job >/dev/null 2>"$W/err"; then
        _tap_result 1 "$job: the complete run failed: $(head -c 300 "$W/err")"; continue
    fi
    total=$(($(cat "$W/count" 2>/dev/null || echo 0)))
    sizes=$(cat "$W/sizes" 2>/dev/null)
    [ -n "$sizes" ] || _tap_result 1 "$job: the complete run changed the file's size nowhere"
    rc=0
    qemu-img check "$W/img.qcow2" >"$W/check.out" 2>&1 || rc=$?
    is "$rc" 0 "$job: the complete run leaves qemu-img check clean"
    verify $job "$job complete ($total writes)"
    points="0 $((total - 1))"
    for s in $sizes; do points+=" $s $((s + 1))"; done
    if [[ $job = resize-* ]]; then
        for k in 1 2; do points+=" $(( (RANDOM * 32768 + RANDOM) % total ))"; done
        points+=" t$(( (RANDOM * 32768 + RANDOM) % total ))"
    fi
    for p in $(printf '%s\n' $points | sort -u); do
        n=${p#t} torn=0
        [ "$p" != "$n" ] && torn=1
        [ "$n" -ge "$total" ] && continue
        run $job "$n" "$torn" >/dev/null 2>&1
        verify $job "$job killed before write $n of $total$([ $torn = 1 ] && echo ' (torn)')"
    done
done
done_testing
