#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg snapshot -c/-a/-d against qemu-img snapshot (the oracle): the same
# sequence of operations (and qemu-io writes between them) on two copies of
# images qemu made, one changed by gimg and one by qemu-img, must give the
# same guest contents (qemu-img compare), the same snapshot table (IDs and
# names, qemu-img snapshot -l) and the same contents in every snapshot
# (qemu-img convert -l).  After every gimg operation qemu-img check is
# clean.  Then the messages and exit statuses of qemu-img for bad requests.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip_all "needs qemu-img and qemu-io"

# layout NAME DIR: a qcow2 image DIR/img (and its base) with data, zero
# clusters, partly written clusters; deterministic patterns only
layout() {
    local n=$1 d=$2
    mkdir -p "$d"
    rm -f "$d"/*
    case $n in
        plain) qemu-img create -q -f qcow2 "$d/img" 8M ;;
        v2) qemu-img create -q -f qcow2 -o compat=0.10 "$d/img" 8M ;;
        c512) qemu-img create -q -f qcow2 -o cluster_size=512 "$d/img" 8M ;;
        extl2) qemu-img create -q -f qcow2 -o extended_l2=on "$d/img" 8M ;;
        rc64) qemu-img create -q -f qcow2 -o refcount_bits=64 "$d/img" 8M ;;
        rc4) qemu-img create -q -f qcow2 -o cluster_size=4k,refcount_bits=4 "$d/img" 8M ;;
        zlib|zstd)
            qemu-img create -q -f raw "$d/src" 8M
            qemu-io -f raw -c 'write -P 0x41 0 3M' -c 'write -P 0x42 6M 1M' "$d/src" >/dev/null
            qemu-img convert -c -O qcow2 -o compression_type=$n "$d/src" "$d/img"
            rm -f "$d/src" ;;
        overlay)
            qemu-img create -q -f raw "$d/base" 8M
            qemu-io -f raw -c 'write -P 0x51 0 8M' "$d/base" >/dev/null
            qemu-img create -q -f qcow2 -o cluster_size=16k -b base -F raw "$d/img" ;;
        hasnap)
            qemu-img create -q -f qcow2 "$d/img" 8M
            qemu-io -c 'write -P 0x61 1M 2M' "$d/img" >/dev/null
            qemu-img snapshot -c q0 "$d/img" ;;
    esac
    qemu-io -c 'write -P 1 0 1M' -c 'write -P 2 3M 64k' -c 'write -P 3 4100k 3k' "$d/img" >/dev/null
    [ "$n" = v2 ] || qemu-io -c 'write -z 5M 512k' "$d/img" >/dev/null
}

check_clean() { # DESC IMG
    local rc=0
    qemu-img check "$2" >"$T/check.out" 2>&1 || rc=$?
    is "$rc" 0 "$1: qemu-img check is clean"
    [ "$rc" = 0 ] || diag "$(head -n 5 "$T/check.out")"
}

ids_tags() { qemu-img snapshot -l "$1" | awk 'NR > 2 { print $1, $2 }'; }

# the two images hold the same: contents, snapshot IDs and names, and
# the contents of every snapshot
same_as_qemu() { # DESC [all: snapshot contents too | notable: not the tables]
    local why="" id
    qemu-img compare -q "$T/g/img" "$T/q/img" || why="contents differ"
    if [ "${2:-}" != notable ]; then
        [ "$(ids_tags "$T/g/img")" = "$(ids_tags "$T/q/img")" ] || why="$why; snapshot tables differ"
    fi
    [ "${2:-}" = all ] || { is "$why" "" "$1: same as qemu-img"; return; }
    for id in $(ids_tags "$T/q/img" | awk '{ print $1 }'); do
        qemu-img convert -O raw -l "snapshot.id=$id" "$T/g/img" "$T/g.raw"
        qemu-img convert -O raw -l "snapshot.id=$id" "$T/q/img" "$T/q.raw"
        cmp -s "$T/g.raw" "$T/q.raw" || why="$why; snapshot $id differs"
    done
    is "$why" "" "$1: same as qemu-img"
}

# qemu-io is deterministic: each layout is made once and copied for both
# tools.  Snapshot tables are compared after the steps that change them
# (-c, -d); GK_LONG=1 compares them after every step.  make check leaves
# out zlib (zstd has compressed clusters too) and 64-bit refcounts (rc4 has
# a width other than 16); GK_LONG=1 runs them.
layouts="plain v2 c512 extl2 rc4 zstd overlay hasnap"
[ "$GK_LONG" = 1 ] && layouts="plain v2 c512 extl2 rc64 rc4 zlib zstd overlay hasnap"
for n in $layouts; do
    layout $n "$T/L"
    rm -rf "$T/g" "$T/q"
    cp -r "$T/L" "$T/g"
    cp -r "$T/L" "$T/q"
    step=0
    while read -r how args; do
        step=$((step + 1))
        if [ "$how" = io ]; then
            qemu-io -c "$args" "$T/g/img" >/dev/null
            qemu-io -c "$args" "$T/q/img" >/dev/null
            continue
        fi
        # shellcheck disable=SC2086
        gr=0; gimg snapshot $args "$T/g/img" 2>"$T/g.err" || gr=$?
        # shellcheck disable=SC2086
        qr=0; qemu-img snapshot $args "$T/q/img" 2>"$T/q.err" || qr=$?
        is "$gr" "$qr" "$n: snapshot $args: exit status of qemu-img"
        check_clean "$n: snapshot $args" "$T/g/img"
        what=
        [ $step = 7 ] && what=all
        [ "$what" ] || [ "$GK_LONG" = 1 ] || [ "${args#-a}" = "$args" ] || what=notable
        same_as_qemu "$n: after step $step (snapshot $args)" $what
    done <<'EOF'
snap -c s1
io write -P 0x11 512k 1M
snap -c s2
io write -P 0x12 6M 64k
snap -a s1
io write -P 0x22 2M 700k
snap -c s1
snap -d s2
snap -a 1
snap -d s1
snap -d s1
EOF
    ok "$n: qemu-io writes into what gimg left, check clean" \
        sh -c "qemu-io -c 'write -P 0x33 0 5M' '$T/g/img' && qemu-img check '$T/g/img'"
done

# a snapshot qemu made, applied and deleted by gimg; one gimg made,
# applied and deleted by qemu-img
layout plain "$T/g"
qemu-img snapshot -c fromqemu "$T/g/img"
qemu-img convert -O raw "$T/g/img" "$T/at-q.raw"
qemu-io -c 'write -P 0x44 0 2M' "$T/g/img" >/dev/null
gimg snapshot -c fromgimg "$T/g/img"
qemu-img convert -O raw "$T/g/img" "$T/at-g.raw"
gimg snapshot -a fromqemu "$T/g/img"
qemu-img convert -O raw "$T/g/img" "$T/now.raw"
same_file "$T/now.raw" "$T/at-q.raw" "gimg applies qemu's snapshot"
qemu-img snapshot -a fromgimg "$T/g/img"
qemu-img convert -O raw "$T/g/img" "$T/now.raw"
same_file "$T/now.raw" "$T/at-g.raw" "qemu-img applies gimg's snapshot"
gimg snapshot -d fromqemu "$T/g/img"
qemu-img snapshot -d fromgimg "$T/g/img"
is "$(ids_tags "$T/g/img")" "" "each deletes the other's snapshot"
check_clean "snapshots exchanged with qemu-img" "$T/g/img"

# the snapshot records what qemu-img records (but the date)
layout plain "$T/g"
layout plain "$T/q"
gimg snapshot -c "a name with spaces" "$T/g/img"
qemu-img snapshot -c "a name with spaces" "$T/q/img"
is "$(qemu-img info --output=json "$T/g/img" | grep -vE '"date-(n?sec)"|actual-size|filename|dirty-flag')" \
   "$(qemu-img info --output=json "$T/q/img" | grep -vE '"date-(n?sec)"|actual-size|filename|dirty-flag')" \
   "qemu-img info shows the same snapshot fields"
long=$(printf 'n%.0s' $(seq 300))
gimg snapshot -c "$long" "$T/g/img"
qemu-img snapshot -c "$long" "$T/q/img"
is "$(ids_tags "$T/g/img")" "$(ids_tags "$T/q/img")" "a 300-byte name is cut to 255 bytes, as qemu-img does"

# bad requests: qemu-img's messages and exit statuses
err_like() { # DESC ARGS... (IMG is the last one, copied for each tool)
    local desc=$1; shift
    local gr=0 qr=0 ge qe
    gimg snapshot "$@" >/dev/null 2>"$T/g.err" || gr=$?
    qemu-img snapshot "$@" >/dev/null 2>"$T/q.err" || qr=$?
    ge=$(grep -v '^Try ' "$T/g.err" | sed 's/^gimg:/qemu-img:/')
    qe=$(grep -v '^Try ' "$T/q.err")
    is "$ge [exit $gr]" "$qe [exit $qr]" "$desc: qemu-img's message and exit status"
}
layout plain "$T/g"
qemu-img snapshot -c s1 "$T/g/img"
cp "$T/g/img" "$T/g/before"
err_like "-a of a missing snapshot" -a nosuch "$T/g/img"
err_like "-d of a missing snapshot" -d nosuch "$T/g/img"
err_like "-d looks names up, not IDs" -d 1 "$T/g/img"
err_like "two actions" -c x -d y "$T/g/img"
err_like "no image" -c x
err_like "two images" -c x "$T/g/img" "$T/g/img"
err_like "-U with -c" -U -c x "$T/g/img"
same_file "$T/g/img" "$T/g/before" "failed requests leave the image alone"
qemu-img create -q -f raw "$T/g/raw" 1M
gimg snapshot -c x "$T/g/raw" 2>"$T/g.err"; gr=$?
is "$(tail -n 1 "$T/g.err") [exit $gr]" "gimg: Could not create snapshot 'x': -95 (Operation not supported) [exit 1]" \
   "-c on a raw image: qemu-img's message"
# 1-bit refcounts cannot count a second owner: refused (qemu-img: -22),
# and gimg leaves the image as it was
qemu-img create -q -f qcow2 -o refcount_bits=1 "$T/g/r1" 1M
qemu-io -c 'write 0 64k' "$T/g/r1" >/dev/null
cp "$T/g/r1" "$T/g/r1.before"
gimg snapshot -c s "$T/g/r1" 2>"$T/g.err"; gr=$?
is "$(tail -n 1 "$T/g.err") [exit $gr]" "gimg: Could not create snapshot 's': -22 (Invalid argument) [exit 1]" \
   "-c with 1-bit refcounts: qemu-img's message"
same_file "$T/g/r1" "$T/g/r1.before" "-c with 1-bit refcounts leaves the image alone"
# no action: nothing, as qemu-img 7.2 does
cp "$T/g/img" "$T/g/before"
gimg snapshot "$T/g/img" >"$T/g.out"; gr=$?
is "$(cat "$T/g.out") [exit $gr]" "$(qemu-img snapshot "$T/g/before") [exit 0]" "no action: nothing, as qemu-img"
same_file "$T/g/img" "$T/g/before" "no action: the image is left alone"
done_testing
