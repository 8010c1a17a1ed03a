#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Lazy refcounts and the dirty bit, as qemu keeps them (qemu-img and qemu-io
# 7.2 the oracles):
#   - an image qemu left dirty (qemu-io killed with lazy_refcounts=on: the
#     fixture lazy.qcow2) reads as qemu reads it and is not written by a
#     read; opened for writing (resize, amend) its refcounts are repaired
#     first, as qemu's open repairs them: qemu-img check clean, the dirty
#     bit clear, the same contents and info as qemu-img's run;
#   - gimg writing a lazy image sets the dirty bit (qemu-img info: dirty,
#     not corrupt, while the writer runs) and clears it on a clean close;
#     without lazy_refcounts the bit is never set;
#   - a writer killed at random writes leaves an image that is sound, or
#     dirty and not corrupt; its flushed writes read back; qemu-img check -r
#     all, qemu-io (its open repairs) and gimg (its open repairs) each leave
#     a clean image with the same contents.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lib-gimg.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip_all "needs qemu-img and qemu-io"
kill_shim || skip_all "needs cc for the kill shim"
H=${GK_UNIT:-$(dirname "$GK_BIN")/tests}/unit-qcow2-write
[ -x "$H" ] || skip_all "needs $H (make check-build)"
dir=$(fixture qcow2-fixtures) || exit 1
cd "$T" || exit 1

flags() { # IMG: qemu-img info's corrupt and dirty bits
    qemu-img info --output=json "$1" | grep -E '^ *"(corrupt|dirty-flag)":' | tr -d ' ,' | sort | tr '\n' ' '
}
spec() { # IMG
    qemu-img info --output=json "$1" | grep -E '^ *"(virtual-size|compat|lazy-refcounts|refcount-bits)":' |
        tr -d ' ,' | sort | tr '\n' ' '
}
clean() { # IMG: qemu-img check exit status and the bits
    local rc=0
    qemu-img check -q "$1" >/dev/null 2>&1 || rc=$?
    echo "check $rc $(flags "$1")"
}
CLEAN="check 0 \"corrupt\":false \"dirty-flag\":false "

# ---- qemu's dirty image ----
is "$(flags "$dir/lazy.qcow2")" '"corrupt":false "dirty-flag":true ' "the fixture is dirty, as qemu-io left it"
sum=$(sha256sum <"$dir/lazy.qcow2")
gimg convert -O raw "$dir/lazy.qcow2" g.raw
qemu-img convert -U -O raw "$dir/lazy.qcow2" q.raw
ok "a dirty image reads as qemu-img reads it" cmp -s g.raw q.raw
is "$(sha256sum <"$dir/lazy.qcow2")" "$sum" "  and reading leaves it untouched"
for cmd in "resize IMG +3M" "resize --shrink IMG 4M" "amend -o lazy_refcounts=off IMG" "amend -o compat=0.10 IMG"; do
    cp "$dir/lazy.qcow2" g.qcow2
    cp "$dir/lazy.qcow2" q.qcow2
    # shellcheck disable=SC2086
    set -- ${cmd/IMG/g.qcow2}
    gimg "$@" >/dev/null 2>g.err; gr=$?
    # shellcheck disable=SC2086
    set -- ${cmd/IMG/q.qcow2}
    qemu-img "$@" >/dev/null 2>&1; qr=$?
    is "$gr" "$qr" "$cmd on qemu's dirty image: exit status as qemu-img's"
    ok "  a warning says the refcounts were repaired" grep -q 'dirty.*repaired' g.err
    is "$(clean g.qcow2)" "$(clean q.qcow2)" "  qemu-img check clean, dirty bit clear (as qemu-img leaves it)"
    is "$(spec g.qcow2)" "$(spec q.qcow2)" "  qemu-img info as after qemu-img $1"
    ok "  contents as qemu-img's" qemu-img compare -q g.qcow2 q.qcow2
done
# every gimg write opens the same way: the unit writer's random writes
cp "$dir/lazy.qcow2" g.qcow2
"$H" writer g.qcow2 7 10 log >g.err 2>&1
ok "random writes into qemu's dirty image" test $? = 0
is "$(clean g.qcow2)" "$CLEAN" "  qemu-img check clean afterwards, dirty bit clear"

# ---- the dirty bit while gimg writes ----
qemu-img create -q -f qcow2 -o lazy_refcounts=on,cluster_size=4k pristine.qcow2 16M
qemu-io -c 'write -P 0x31 0 2M' -c 'write -P 0x32 6M 1M' pristine.qcow2 >/dev/null
qemu-img check -q pristine.qcow2 || BAIL_OUT "qemu-io left a dirty image"
qemu-img convert -O raw pristine.qcow2 pristine.raw
qemu-img create -q -f qcow2 -o cluster_size=4k eager.qcow2 16M
NOPS=20
cp pristine.qcow2 w.qcow2
total=$(( $(writes_of "$T/w.qcow2" "$H" writer "$T/w.qcow2" 11 $NOPS "$T/log") ))
is "$(clean w.qcow2)" "$CLEAN" "a whole run of writes ($total) on a lazy image leaves it clean"
killed $((total - 1)) 0 "$T/eager.qcow2" "$H" writer "$T/eager.qcow2" 11 $NOPS "$T/log"
is "$(flags eager.qcow2)" '"corrupt":false "dirty-flag":false ' "without lazy refcounts, a killed writer never leaves the bit set"
cp pristine.qcow2 w.qcow2
killed $((total - 1)) 0 "$T/w.qcow2" "$H" writer "$T/w.qcow2" 11 $NOPS "$T/log"
is "$(flags w.qcow2)" '"corrupt":false "dirty-flag":true ' "a lazy writer killed before its last write leaves the bit set"

# ---- killed at random writes ----
verify_killed() { # SEED: echoes why not
    local rc=0 k
    qemu-img check -q img.qcow2 >/dev/null 2>&1 || rc=$?
    if [ $rc != 0 ] && [ $rc != 3 ]; then
        [ "$(flags img.qcow2)" = '"corrupt":false "dirty-flag":true ' ] ||
            { echo "qemu-img check exit $rc and not dirty: $(flags img.qcow2)"; return; }
    fi
    k=$(tail -n 1 log 2>/dev/null); k=${k:-0}
    qemu-img convert -U -O raw img.qcow2 got.raw
    "$H" verify got.raw pristine.raw "$1" $NOPS "$k" >/dev/null 2>&1 ||
        { echo "flushed writes (1..$k) lost"; return; }
    cp img.qcow2 a.qcow2; cp img.qcow2 b.qcow2; cp img.qcow2 c.qcow2
    qemu-img check -q -r all a.qcow2 >/dev/null 2>&1
    qemu-io -c 'read 0 4k' b.qcow2 >/dev/null 2>&1 || { echo "qemu-io cannot open it"; return; }
    gimg resize c.qcow2 +0 >/dev/null 2>&1 || gimg resize c.qcow2 16M >/dev/null 2>&1 ||
        { echo "gimg cannot open it for writing"; return; }
    for x in a b c; do
        [ "$(clean $x.qcow2)" = "$CLEAN" ] || { echo "$x: $(clean $x.qcow2)"; return; }
        qemu-img compare -q $x.qcow2 img.qcow2 2>/dev/null || { echo "$x: contents changed"; return; }
    done
}
RANDOM=20261205
n=4
[ "$GK_SAN" = 1 ] && n=2
for i in $(seq 1 $n); do
    s=$((7000 + i))
    cp pristine.qcow2 img.qcow2
    rm -f log
    total=$(( $(writes_of "$T/img.qcow2" "$H" writer "$T/img.qcow2" $s $NOPS "$T/log") ))
    cp pristine.qcow2 img.qcow2
    rm -f log
    at=$(( (RANDOM * 32768 + RANDOM) % total ))
    torn=$(( i % 3 == 0 ))
    killed $at $torn "$T/img.qcow2" "$H" writer "$T/img.qcow2" $s $NOPS "$T/log"
    is "$(verify_killed $s)" "" "writer $s killed before write $at of $total$([ $torn = 1 ] && echo ', torn'): $(flags img.qcow2)"
done
done_testing
