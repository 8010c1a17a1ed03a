#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg commit against qemu-img commit (the oracle): the same chains (qemu
# made them) are committed by each tool in its own directory; then the
# output and exit status, the bases' contents (qemu-img compare), the
# committed images' contents and maps (qemu-img map: what is left in them)
# must be the same, and qemu-img check clean on every qcow2 file.  Then
# commit killed before each of its writes (tests/crash/killafter.c): the
# image reads as before, the base holds old or new data in every sector,
# qemu-img check finds no corruption.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lib-gimg.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip_all "needs qemu-img and qemu-io"

chain() { # NAME DIR: DIR/top over DIR/base (and DIR/mid)
    local d=$2
    mkdir -p "$d"
    rm -f "$d"/*
    (
        cd "$d" || exit 1
        case $1 in
            raw)
                qemu-img create -q -f raw base 4M
                qemu-io -f raw -c 'write -P 0x11 0 4M' base >/dev/null
                qemu-img create -q -f qcow2 -b base -F raw top ;;
            qcow2)
                qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=4k base 4M
                qemu-io -c 'write -P 0x12 0 2M' base >/dev/null
                qemu-img create -q -f qcow2 -b base -F qcow2 top
                qemu-io -c 'write -z 1M 128k' top >/dev/null ;;
            three)
                qemu-img create -q -f qcow2 base 4M
                qemu-io -c 'write -P 0x13 0 4M' base >/dev/null
                qemu-img create -q -f qcow2 -o cluster_size=8k -b base -F qcow2 mid
                qemu-io -c 'write -P 0x14 1M 1M' mid >/dev/null
                qemu-img create -q -f qcow2 -b mid -F qcow2 top ;;
            grow)
                qemu-img create -q -f raw base 2M
                qemu-io -f raw -c 'write -P 0x15 0 2M' base >/dev/null
                qemu-img create -q -f qcow2 -b base -F raw top 6M
                qemu-io -c 'write -P 0x16 5M 64k' top >/dev/null ;;
            snap)
                qemu-img create -q -f qcow2 -o cluster_size=16k base 4M
                qemu-io -c 'write -P 0x17 0 3M' base >/dev/null
                qemu-img create -q -f qcow2 -b base -F qcow2 top
                qemu-io -c 'write -P 0x18 0 1M' top >/dev/null
                qemu-img snapshot -c s top ;;
            extl2)
                qemu-img create -q -f qcow2 -o extended_l2=on base 4M
                qemu-io -c 'write -P 0x19 0 4M' base >/dev/null
                qemu-img create -q -f qcow2 -o extended_l2=on -b base -F qcow2 top
                qemu-io -c 'write -P 0x1a 10k 3k' -c 'write -P 0x1b 2M 4k' top >/dev/null ;;
        esac
        qemu-io -c 'write -P 0x21 512k 1M' -c 'write -P 0x22 3M 5k' top >/dev/null
    )
}

qcow2_files_clean() { # DESC DIR
    local f why=""
    for f in "$2"/*; do
        [ "$(qemu-img info --output=json "$f" | grep -c '"format": "qcow2"')" = 0 ] && continue
        qemu-img check -q "$f" >/dev/null 2>&1 || why="$why $(basename "$f")"
    done
    is "$why" "" "$1: qemu-img check clean on every qcow2 file"
}

for n in raw qcow2 three grow snap extl2; do
    for args in "" "-d" "-b base"; do
        [ "$n" != three ] && [ "$args" = "-b base" ] && continue
        pair_of chain $n
        qemu-img convert -O raw "$T/q/top" "$T/view.raw"
        # shellcheck disable=SC2086
        go=$(cd "$T/g" && gimg commit $args top 2>&1); gr=$?
        # shellcheck disable=SC2086
        qo=$(cd "$T/q" && qemu-img commit $args top 2>&1); qr=$?
        is "$go [exit $gr]" "$qo [exit $qr]" "$n, commit $args: qemu-img's output and status"
        ok "$n, commit $args: the base holds what qemu-img's holds" qemu-img compare "$T/g/base" "$T/q/base"
        is "$(qemu-img info "$T/g/base" | grep 'virtual size')" "$(qemu-img info "$T/q/base" | grep 'virtual size')" \
           "$n, commit $args: the base's size is qemu-img's"
        ok "$n, commit $args: the image reads as before" qemu-img compare "$T/g/top" "$T/view.raw"
        # which file holds each run (where in the base depends on its allocator)
        is "$(cd "$T/g" && qemu-img map top | awk '{ print $1, $2, $4 }')" \
           "$(cd "$T/q" && qemu-img map top | awk '{ print $1, $2, $4 }')" \
           "$n, commit $args: qemu-img map of the image is what qemu-img leaves"
        qcow2_files_clean "$n, commit $args" "$T/g"
    done
done

# errors: qemu-img's messages and statuses
pair_of chain three
err_like commit "an image without a backing file" base
err_like commit "-b naming no image of the chain" -b nosuch top
err_like commit "-b naming the image itself" -b top top
err_like commit "two images" top base
err_like commit "no image"
same_file "$T/g/top" "$T/q/top" "failed commits leave the image alone"

# killed before its writes (to the base while copying, to the image while
# emptying it): 6 kill points each in make check, every write with GK_LONG=1
kill_shim || { done_testing; exit; }
for n in qcow2 raw; do
    chain $n "$T/p"
    qemu-img convert -O raw "$T/p/top" "$T/view.raw"
    qemu-img convert -O raw "$T/p/base" "$T/oldbase.raw"
    for target in base top; do
        rm -rf "$T/k"; cp -r "$T/p" "$T/k"
        total=$(( $(cd "$T/k" && writes_of "$T/k/$target" gimg commit top) ))
        for k in $(kill_points "$total" 6); do
            rm -rf "$T/k"; cp -r "$T/p" "$T/k"
            (cd "$T/k" && killed "$k" $((k % 2)) "$T/k/$target" gimg commit top)
            why=""
            for f in top base; do
                [ $f = base ] && [ $n = raw ] && continue
                why="$why$(sound "$T/k/$f")"
            done
            qemu-img compare -q "$T/k/top" "$T/view.raw" || why="$why the image reads differently;"
            qemu-img convert -O raw "$T/k/base" "$T/nowbase.raw"
            why="$why$(old_or_new "$T/nowbase.raw" "$T/oldbase.raw" "$T/view.raw")"
            is "$why" "" "$n: commit killed before write $k of $total to the $target$([ $((k % 2)) = 1 ] && echo ', torn')"
        done
    done
done
# the emptied top as qemu leaves it: a version 3 image cut to its header,
# refcount table and block and L1 table (qemu's make_completely_empty);
# version 2, snapshots, LUKS, a data file: every entry discarded, an empty
# L2 table made where there was none, freed clusters punched out (in the
# data file too).  The same bytes, image end offset and allocation as qemu's.
S="--object secret,id=s0,data=pw"
for c in v3: v2:compat=0.10,cluster_size=4k snap:cluster_size=4k luks:encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10 \
         data:data_file=t.raw; do
    n=${c%%:*} o=${c#*:}
    d=$T/e
    rm -rf "$d" "$T/e-q" "$T/e-g"
    mkdir -p "$d"
    (
        cd "$d" || exit 1
        qemu-img create -q -f qcow2 b.qcow2 8M
        qemu-img create -q -f qcow2 $S ${o:+-o "$o"} -b b.qcow2 -F qcow2 t.qcow2 8M
        qemu-io $S --image-opts "driver=qcow2,file.filename=t.qcow2${o:+,encrypt.key-secret=s0}" \
            -c 'write -P 3 0 1M' -c 'write -P 4 3M 64k' -c 'write -z 5M 64k' >/dev/null 2>&1 ||
            qemu-io -c 'write -P 3 0 1M' -c 'write -P 4 3M 64k' -c 'write -z 5M 64k' t.qcow2 >/dev/null
        if [ "$n" = snap ]; then
            qemu-img snapshot -c s1 t.qcow2
            qemu-io -c 'write -P 5 512k 1M' t.qcow2 >/dev/null
        fi
    )
    cp -a "$d" "$T/e-q"
    cp -a "$d" "$T/e-g"
    spec=driver=qcow2,file.filename=t.qcow2
    [ "$n" = luks ] && spec=$spec,encrypt.key-secret=s0
    (cd "$T/e-q" && qemu-img commit -q $S --image-opts "$spec")
    ok "[$n] gimg commit empties the top" sh -c "cd '$T/e-g' && gimg commit -q $S --image-opts '$spec'"
    same_file "$T/e-g/t.qcow2" "$T/e-q/t.qcow2" "[$n] the emptied top: the same bytes as qemu-img's"
    is "$(cd "$T/e-g" && qemu-img check t.qcow2 2>&1 | grep 'end offset')" \
       "$(cd "$T/e-q" && qemu-img check t.qcow2 2>&1 | grep 'end offset')" "[$n] its image end offset as qemu's"
    a=$(stat -c %b "$T/e-g/t.qcow2") b=$(stat -c %b "$T/e-q/t.qcow2")
    ok "[$n] its allocated blocks $a near qemu's $b" test $((a - b)) -le 256 -a $((b - a)) -le 256
    if [ "$n" = data ]; then
        same_file "$T/e-g/t.raw" "$T/e-q/t.raw" "[$n] the data file: as qemu's"
        is "$(stat -c %b "$T/e-g/t.raw")" 0 "[$n] the data file's clusters punched out, as qemu does"
    fi
done
done_testing
