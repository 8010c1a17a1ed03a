#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg convert -O qcow2 [-c] and qemu's locks, with qemu as the oracle:
# every image gimg writes passes qemu-img check, qemu-img compare finds it
# equal to its source, qemu-io writes into it and the check stays clean.
# While gimg holds an image read-write, qemu refuses it; while a qemu
# holds one, gimg refuses to write it (and leaves it untouched).
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
dir=$(fixture qcow2-fixtures) || exit 1
cd "$dir"
H=${GK_UNIT:-$(dirname "$GK_BIN")/tests}/unit-qcow2-write

written_ok() { # IMG SRC DESC
    ok "$3: qemu-img check clean" qemu-img check -q "$1"
    ok "$3: qemu-img compare equal to the source" qemu-img compare -q "$2" "$1"
    ok "$3: qemu-io writes, check still clean" \
        sh -c "qemu-io -c 'write -P 0x5c 0 70k' -c 'write -P 0x5d 1M 300k' '$1' >/dev/null && qemu-img check -q '$1'"
}

# An image byte-identical to what qemu-img convert makes of the same source
# with the same options needs none of written_ok's qemu runs (HACKING.md,
# "CI time": what they would find is what they find of qemu's own image);
# one that differs gets them all.
for src in c64k.qcow2 c512.qcow2 zstd.qcow2 zlib.qcow2 zmix.qcow2 el2-ov.qcow2 qb-top.qcow2 snap.qcow2 src.raw; do
    for o in "" "-c" "-c -o compression_type=zstd" "-o cluster_size=4k,refcount_bits=1" \
             "-o extended_l2=on" "-o compat=0.10"; do
        rm -f "$T/out.qcow2" "$T/qout.qcow2"
        if gimg convert -O qcow2 $o "$src" "$T/out.qcow2" 2>"$T/err"; then
            if qemu-img convert -O qcow2 $o "$src" "$T/qout.qcow2" 2>/dev/null &&
                cmp -s "$T/out.qcow2" "$T/qout.qcow2"; then
                _tap_result 0 "convert $o $src: byte-identical to qemu-img convert's"
            else
                written_ok "$T/out.qcow2" "$src" "convert $o $src"
            fi
        else
            _tap_result 1 "convert $o $src"; diag "$(cat "$T/err")"
        fi
    done
done

# the file itself is qemu-img's, byte for byte: windows written in guest
# order, the clusters qemu-img's pieces of data touch (-S, its alignment)
# allocated, a run of new clusters with one write ending where qemu-img's
# request ends (L2 tables and refcount blocks land where qemu puts them:
# small clusters need refcount blocks every few MiB), compressed clusters
# packed as qemu packs them and the file padded to whole sectors after -c.
# qemu-img convert is deterministic (-c too: checked first, with -m 1 and
# the default 8 coroutines).  src.raw holds text, pseudo-random data,
# zeros written as data and holes.
for o in "-c" "-c -o compression_type=zstd"; do
    rm -f "$T/q1.qcow2" "$T/q2.qcow2"
    qemu-img convert -O qcow2 $o src.raw "$T/q1.qcow2"
    qemu-img convert -m 1 -O qcow2 $o src.raw "$T/q2.qcow2"
    same_file "$T/q1.qcow2" "$T/q2.qcow2" "qemu-img convert $o is deterministic (the oracle holds)"
done
ident() { # SRC OPTIONS...
    local src=$1; shift
    rm -f "$T/g.qcow2" "$T/q.qcow2"
    gimg convert -O qcow2 "$@" "$src" "$T/g.qcow2"
    qemu-img convert -O qcow2 "$@" "$src" "$T/q.qcow2"
    same_file "$T/g.qcow2" "$T/q.qcow2" "convert $* $src: byte-identical to qemu-img convert's"
}
for o in "" "-o cluster_size=4k" "-o cluster_size=2M" "-o compat=0.10" "-o extended_l2=on" \
         "-o refcount_bits=1,lazy_refcounts=on" "-S 0" "-S 1M" "-S 0 -o cluster_size=4k" \
         "-S 8k -o cluster_size=4k" "-o cluster_size=512" "-o extended_l2=on -S 16k" \
         "-c" "-c -o compression_type=zstd" "-c -o cluster_size=4k" "-c -o compat=0.10"; do
    # shellcheck disable=SC2086
    ident src.raw $o
done
# one run of data 30 MiB long that starts off any 2 MiB boundary: qemu-img
# copies it in 2 MiB requests counted from where the run starts, and with
# 4 KiB clusters (a refcount block for every 8 MiB of file) the refcount
# blocks go where those requests end, not where gimg's windows do (larger
# clusters, where a request starts inside the cluster the one before
# allocated: tests/16-qcow2-refcount-layout.t)
truncate -s 40M "$T/run.raw"
qemu-io -f raw -c 'write -P 0x41 1028k 30M' "$T/run.raw" >/dev/null
ident "$T/run.raw" -o cluster_size=4k
for src in c64k.qcow2 snap.qcow2 zmix.qcow2 el2-ov.qcow2; do
    for o in "" "-c" "-o cluster_size=2k,compat=0.10"; do
        # shellcheck disable=SC2086
        ident "$src" $o
    done
done

# into an image qemu-img made (-n), and with a backing file (-B)
for o in "" "-o cluster_size=4k"; do
    rm -f "$T/g.qcow2" "$T/q.qcow2"
    # shellcheck disable=SC2086
    qemu-img create -q -f qcow2 $o "$T/g.qcow2" "$(stat -c %s src.raw)"
    cp "$T/g.qcow2" "$T/q.qcow2"
    gimg convert -n -O qcow2 src.raw "$T/g.qcow2"
    qemu-img convert -n -O qcow2 src.raw "$T/q.qcow2"
    same_file "$T/g.qcow2" "$T/q.qcow2" "convert -n $o src.raw: byte-identical to qemu-img convert's"
    # shellcheck disable=SC2086
    ident qb-top.qcow2 -B "$dir/qb-mid.qcow2" -F qcow2 $o
done

# -c really compresses: qemu-img map says so
rm -f "$T/out.qcow2"
gimg convert -O qcow2 -c src.raw "$T/out.qcow2"
ok "convert -c: qemu-img check reports compressed clusters" \
    sh -c "qemu-img check '$T/out.qcow2' | grep -q 'compressed clusters'"

# -B: the target has the backing file, holds what is above it
rm -f "$T/out.qcow2"
ok "convert -B qb-mid.qcow2 -F qcow2 qb-top.qcow2 runs" \
    gimg convert -O qcow2 -B "$dir/qb-mid.qcow2" -F qcow2 qb-top.qcow2 "$T/out.qcow2"
is "$(qemu-img info --output=json "$T/out.qcow2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["backing-filename"])')" \
   "$dir/qb-mid.qcow2" "convert -B: qemu-img info shows the backing file"
written_ok "$T/out.qcow2" qb-top.qcow2 "convert -B"

# -n: into an existing image
rm -f "$T/out.qcow2"
qemu-img create -q -f qcow2 "$T/out.qcow2" "$(stat -c %s src.raw)"
ok "convert -n into an image qemu-img created" gimg convert -n -O qcow2 src.raw "$T/out.qcow2"
written_ok "$T/out.qcow2" src.raw "convert -n"

# what the target allocates is qemu-img's (qemu-img map, host offsets left
# out): zero runs of the source (zero clusters, data that is zeros) become
# zero clusters where the target does not read as zeros already (-B, -n
# over old data), what the backing file holds stays out of it (-B)
mkdir -p "$T/z"
(
    cd "$T/z" || exit 1
    qemu-img create -q -f qcow2 base.qcow2 4M
    qemu-io -c 'write -P 0x11 0 4M' base.qcow2 >/dev/null
    qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 top.qcow2
    qemu-io -c 'write -z 1M 128k' -c 'write -P 0 2M 64k' -c 'write -P 0x22 3M 64k' \
        -c 'write -z -u 3200k 64k' -c 'write -P 0 3400k 6k' -c 'write -P 0x23 3406k 2k' top.qcow2 >/dev/null
    qemu-img create -q -f qcow2 old.qcow2 4M
    qemu-io -c 'write -P 0x33 0 4M' old.qcow2 >/dev/null
)
nomap() { qemu-img map --output=json "$@" | sed 's/, "offset": [0-9]*//'; }
for o in "-B base.qcow2 -F qcow2" "-n" "-c" "" "-o extended_l2=on" "-o compat=0.10"; do
    for t in g q; do
        rm -f "$T/z/$t.qcow2"
        case $o in -n*) cp "$T/z/old.qcow2" "$T/z/$t.qcow2" ;; esac
    done
    # shellcheck disable=SC2086
    (cd "$T/z" && gimg convert -O qcow2 $o top.qcow2 g.qcow2 && qemu-img convert -O qcow2 $o top.qcow2 q.qcow2)
    is "$(nomap "$T/z/g.qcow2")" "$(nomap "$T/z/q.qcow2")" "convert $o: qemu-img map gives qemu-img's allocation"
    ok "convert $o: qemu-img compare equal to the source" qemu-img compare -q "$T/z/top.qcow2" "$T/z/g.qcow2"
    ok "convert $o: qemu-img check clean" qemu-img check -q "$T/z/g.qcow2"
done

# errors
fails_cleanly "convert -c -O raw" gimg convert -c -O raw src.raw "$T/x.raw"
fails_cleanly "convert -B without -F" gimg convert -O qcow2 -B c64k.qcow2 src.raw "$T/x.qcow2"
fails_cleanly "convert -O vdi (a format gimg reads, not writes)" gimg convert -O vdi src.raw "$T/x.vdi"

# locks: gimg holding an image read-write
rm -f "$T/held.qcow2"
gimg create -q -f qcow2 "$T/held.qcow2" 64M
coproc HOLD { "$H" hold "$T/held.qcow2"; }
read -r line <&"${HOLD[0]}"
is "$line" ready "an image opened read-write by guestkit"
ok "qemu-img info without -U is refused while guestkit writes" \
    sh -c "qemu-img info '$T/held.qcow2' 2>&1 | grep -q 'Failed to get shared \"write\" lock'"
ok "qemu-io cannot write it while guestkit writes" \
    sh -c "! qemu-io -c 'write 0 4k' '$T/held.qcow2' >/dev/null 2>&1"
ok "qemu-img info -U still reads it" qemu-img info -U "$T/held.qcow2"
exec {HOLD[1]}>&-
wait $HOLD_PID
ok "after guestkit closes it, qemu-io writes" qemu-io -c 'write 0 4k' "$T/held.qcow2"

# locks: a qemu holding an image
if command -v qemu-storage-daemon >/dev/null; then
    qemu-storage-daemon --blockdev driver=file,node-name=f,filename="$T/held.qcow2" \
        --blockdev driver=qcow2,node-name=q,file=f \
        --nbd-server addr.type=unix,addr.path="$T/nbd.sock" \
        --export type=nbd,id=e,node-name=q,writable=on &
    qsd=$!
    for i in $(seq 50); do [ -S "$T/nbd.sock" ] && break; sleep 0.1; done
    sum=$(sha256sum <"$T/held.qcow2")
    fails_cleanly "convert -n into an image qemu-storage-daemon writes is refused" \
        gimg convert -n -O qcow2 src.raw "$T/held.qcow2"
    fails_cleanly "the writer refuses it too" "$H" writer "$T/held.qcow2" 1 5 "$T/log"
    is "$(sha256sum <"$T/held.qcow2")" "$sum" "the held image is untouched"
    kill $qsd; wait $qsd 2>/dev/null
fi

# bad images are refused for writing and left untouched
hostile=$(fixture qcow2-hostile) || exit 1
for img in leaky.qcow2; do
    cp "$img" "$T/w.qcow2"
    ok "$img (leaks only) may be written" "$H" writer "$T/w.qcow2" 3 10 "$T/log"
    ok "$img: still clean but for leaks" sh -c "qemu-img check -q '$T/w.qcow2'; rc=\$?; [ \$rc = 0 ] || [ \$rc = 3 ]"
done
n=0
for img in "$hostile"/*.qcow2; do
    cp "$img" "$T/w.qcow2"
    sum=$(sha256sum <"$T/w.qcow2")
    rc=0
    case ${img##*/} in
    # qemu-img check of its 65536 snapshot entries takes 5-14 s of CPU (half
    # of this test's); its verdict, corrupt (exit 2), is the one of every
    # run, so it is not asked again.  Still written to below.
    open-snapshots-past-end.qcow2) rc=2 ;;
    *) qemu-img check -q "$T/w.qcow2" >/dev/null 2>&1 || rc=$? ;;
    esac
    [ "$rc" = 2 ] || continue   # only those qemu finds corrupt
    n=$((n + 1))
    rc=0; timeout 60 "$H" writer "$T/w.qcow2" 4 10 "$T/log" 2>"$T/err" || rc=$?
    is "$rc $(sha256sum <"$T/w.qcow2")" "1 $sum" "$(basename "$img") (qemu-img check: corrupt) is refused for writing, untouched"
done
diag "$n corrupt hostile images tried"
done_testing
