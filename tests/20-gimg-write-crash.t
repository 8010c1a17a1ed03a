#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg resize, amend (compat=0.10 also with a snapshot) and check -r
# killed before their writes to the image (kill -9 at a write, torn at
# every other kill point: tests/crash/killafter.c), then, with qemu's tools as the oracles:
#   - qemu-img check finds no corruption (exit 0, or 3: leaks; a repair of
#     a dirty lazy-refcount image may leave it dirty, as it was);
#   - the guest contents (qemu-img convert) are those before the command or
#     those qemu-img's own run of it gives, and so is what qemu-img info
#     says of the virtual size, compat and refcount width; a shrink may
#     also leave the old size with zeros in place of some of the clusters
#     it drops (qemu's order, which gimg follows: discard, then the size);
#   - qemu-io writes into the image and qemu-img check stays free of
#     corruption; a killed check -r, run again whole, leaves it clean.
# make check: 4 kill points per command; GK_LONG=1 (tests/long/run.sh):
# every write.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lib-gimg.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip_all "needs qemu-img and qemu-io"
kill_shim || skip_all "needs cc for the kill shim"
dir=$(fixture qcow2-fixtures) || exit 1
W=$T/w
mkdir -p "$W"

# the image each case starts from, in $W/before
prepare() { # CASE
    rm -f "$W"/before "$W"/base
    case $1 in
        grow|shrink|rc4|v2)
            qemu-img create -q -f qcow2 -o cluster_size=4k "$W/before" 8M
            qemu-io -c 'write -P 0x31 0 1M' -c 'write -z 1M 256k' -c 'write -P 0x32 3M 64k' \
                -c 'write -P 0x33 6M 2M' "$W/before" >/dev/null ;;
        v2-overlay)
            qemu-img create -q -f raw "$W/base" 4M
            qemu-io -f raw -c 'write -P 0x34 0 4M' "$W/base" >/dev/null
            qemu-img create -q -f qcow2 -o cluster_size=4k -b base -F raw "$W/before"
            qemu-io -c 'write -z 512k 256k' -c 'write -P 0x35 2M 64k' "$W/before" >/dev/null ;;
        v2-snap)
            # zeros over clusters shared with a snapshot: their references go
            qemu-img create -q -f qcow2 -o cluster_size=4k "$W/before" 4M
            qemu-io -c 'write -P 0x36 0 1M' -c 'write -z 1M 64k' "$W/before" >/dev/null
            qemu-img snapshot -c s1 "$W/before"
            qemu-io -c 'write -z 64k 64k' -c 'write -z 2M 8k' "$W/before" >/dev/null ;;
        leaks) cp "$dir/leaky.qcow2" "$W/before" ;;
        all) cp "$dir/lazy.qcow2" "$W/before" ;;
    esac
}

args_of() { # CASE: the subcommand and its arguments (the image is last)
    case $1 in
        grow) echo resize IMG +40M ;;
        shrink) echo resize --shrink IMG 3M ;;
        rc4) echo amend -o refcount_bits=4 IMG ;;
        v2|v2-overlay|v2-snap) echo amend -o compat=0.10 IMG ;;
        leaks) echo check -r leaks IMG ;;
        all) echo check -r all IMG ;;
    esac
}

spec() { # IMG
    qemu-img info --output=json "$1" | grep -E '^ *"(virtual-size|compat|refcount-bits)":' | sed 's/,$//' | sort
}

# what may be found after a kill: echoes why not
verify() { # CASE
    local why rc=0
    why=$(sound "$W/img")
    if [ "$why" ] && [ "$1" = all ] && qemu-img info "$W/img" 2>/dev/null | grep -q 'corrupt: false' &&
       qemu-img info --output=json "$W/img" | grep -q '"dirty-flag": true'; then
        why=""   # still the dirty lazy-refcount image it was: qemu repairs it on opening
    fi
    [ "$why" ] && { echo "$why"; return; }
    qemu-img convert -O raw "$W/img" "$W/now.raw" 2>/dev/null || { echo "qemu-img cannot read it"; return; }
    if ! cmp -s "$W/now.raw" "$W/before.raw" && ! cmp -s "$W/now.raw" "$W/after.raw"; then
        if [ "$1" != shrink ]; then echo "contents are neither those before nor after"; return; fi
        why=$(old_or_new "$W/now.raw" "$W/before.raw" "$W/dropped.raw") ||
            { echo "shrink: $why (before's or dropped)"; return; }
    fi
    if [ "$1" = v2-snap ]; then
        qemu-img convert -l snapshot.name=s1 -O raw "$W/img" "$W/s1.raw" 2>/dev/null &&
            qemu-img convert -l snapshot.name=s1 -O raw "$W/before" "$W/s1-before.raw" &&
            cmp -s "$W/s1.raw" "$W/s1-before.raw" || { echo "snapshot s1 does not read as before"; return; }
    fi
    local s
    s=$(spec "$W/img")
    [ "$s" = "$(spec "$W/before")" ] || [ "$s" = "$(spec "$W/after")" ] ||
        { echo "qemu-img info neither before nor after: $(echo $s)"; return; }
    if [ "$1" = leaks ] || [ "$1" = all ]; then
        # a repair killed halfway is repaired by running it again
        gimg check -q -r "$1" "$W/img" >/dev/null 2>&1
        qemu-img check -q "$W/img" >/dev/null 2>&1 || rc=$?
        [ $rc = 0 ] || { echo "check -r $1 run again: qemu-img check exit $rc"; return; }
    fi
    qemu-io -c 'write -P 0x7e 100k 1M' "$W/img" >/dev/null 2>&1 || { echo "qemu-io cannot write"; return; }
    sound "$W/img"
}

for c in grow shrink rc4 v2 v2-overlay v2-snap leaks all; do
    prepare $c
    # shellcheck disable=SC2046
    set -- $(args_of $c)
    sub=$1; shift
    # qemu-img's own run gives "after"
    cp "$W/before" "$W/q"
    qemu-img "$sub" "${@/IMG/$W/q}" >/dev/null 2>&1
    cp "$W/q" "$W/after"
    qemu-img convert -O raw "$W/before" "$W/before.raw"
    qemu-img convert -O raw "$W/after" "$W/after.raw"
    cp "$W/after.raw" "$W/dropped.raw"
    truncate -s "$(stat -c %s "$W/before.raw")" "$W/dropped.raw"
    cp "$W/before" "$W/img"
    total=$(( $(writes_of "$W/img" gimg "$sub" "${@/IMG/$W/img}") ))
    is "$(verify $c)" "" "$c: gimg $sub ${*/IMG/img}, not killed ($total writes)"
    k=0
    for n in $(kill_points "$total"); do
        k=$((k + 1))
        for torn in $([ "$GK_LONG" = 1 ] && echo 0 1 || echo $((k % 2))); do
            cp "$W/before" "$W/img"
            killed "$n" "$torn" "$W/img" gimg "$sub" "${@/IMG/$W/img}"
            is "$(verify $c)" "" "$c: gimg $sub ${*/IMG/img} killed before write $n of $total$([ "$torn" = 1 ] && echo ', torn')"
        done
    done
done
done_testing
