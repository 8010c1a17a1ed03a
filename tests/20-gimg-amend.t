#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg amend against qemu-img amend (the oracle): a sequence of amends on
# copies of the same image, each with the same output and exit status as
# qemu-img's; after each, gimg's copy passes qemu-img check, holds what
# qemu's holds, and qemu-img info reports the same compat, lazy refcounts
# and refcount width.  Header-only changes give the same bytes as qemu's.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
cd "$T"

spec() { # IMG: what qemu-img info says of the qcow2 options
    qemu-img info --output=json "$1" |
        grep -E '^ *"(virtual-size|compat|lazy-refcounts|refcount-bits|compression-type)":' | sed 's/,$//' | sort
}

amend_like() { # OPTIONS
    local go qo gr=0 qr=0
    go=$(gimg amend -o "$1" g.qcow2 2>&1) || gr=$?
    qo=$(qemu-img amend -o "$1" q.qcow2 2>&1) || qr=$?
    is "${go//gimg:/qemu-img:} [exit $gr]" "$qo [exit $qr]" "[$shape] amend -o $1: as qemu-img"
    ok "[$shape] amend -o $1: qemu-img check clean" qemu-img check -q g.qcow2
    ok "[$shape] amend -o $1: same content as qemu's" qemu-img compare -q g.qcow2 q.qcow2
    is "$(spec g.qcow2)" "$(spec q.qcow2)" "[$shape] amend -o $1: qemu-img info as of qemu's"
}

# qemu-img's own refcount_bits change costs ~12 s of CPU for 1 -> 16 bits with
# 64 KiB clusters (it walks every entry of a refcount block): make check
# runs the shapes on small clusters (qemu's default cluster size is the
# cluster_size=4k shape again, at 12 s), GK_LONG=1 on qemu's defaults.
shapes=(compat=0.10,cluster_size=4k cluster_size=4k compression_type=zstd,cluster_size=4k
        extended_l2=on,cluster_size=16k)
[ "$GK_LONG" = 1 ] && shapes=("" compat=0.10 cluster_size=4k compression_type=zstd extended_l2=on)
for shape in "${shapes[@]}"; do
    rm -f a.qcow2
    qemu-img create -q -f qcow2 ${shape:+-o "$shape"} a.qcow2 64M
    qemu-io -c 'write -P 1 0 1M' -c 'write -z 2M 1M' -c 'write -P 3 5M 64k' -c 'write -z -u 7M 64k' a.qcow2 >/dev/null 2>&1 ||
        qemu-io -c 'write -P 1 0 1M' -c 'write -z 2M 1M' -c 'write -P 3 5M 64k' a.qcow2 >/dev/null
    cp a.qcow2 g.qcow2
    cp a.qcow2 q.qcow2
    # header-only changes first: the same bytes as qemu's
    for o in compat=0.10 compat=1.1 lazy_refcounts=on lazy_refcounts=off compat=v3; do
        amend_like "$o"
    done
    same_file g.qcow2 q.qcow2 "[$shape] compat and lazy_refcounts changes: the same bytes as qemu-img's"
    for o in compat=0.10,lazy_refcounts=on refcount_bits=64 refcount_bits=1 compat=0.10 \
             compat=v2,refcount_bits=16 size=100M compat=1.1,refcount_bits=2 \
             cluster_size=4k foo=bar backing_file=b.qcow2,backing_fmt=qcow2 lazy_refcounts=maybe; do
        amend_like "$o"
    done
    ok "[$shape] qemu-io writes into the amended image, check clean" \
        sh -c "qemu-io -c 'write -P 0x5c 0 3M' -c 'write -P 0x5d 20M 1M' g.qcow2 >/dev/null && qemu-img check -q g.qcow2"
done

# an overlay: zero clusters over a backing file are written out on downgrade
rm -f base.qcow2 o.qcow2
qemu-img create -q -f qcow2 base.qcow2 16M
qemu-io -c 'write -P 7 0 16M' base.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 o.qcow2 16M
qemu-io -c 'write -z 1M 2M' -c 'write -P 8 8M 64k' o.qcow2 >/dev/null
cp o.qcow2 g.qcow2
cp o.qcow2 q.qcow2
shape=overlay
amend_like compat=0.10
amend_like backing_file=base.qcow2,backing_fmt=qcow2
amend_like backing_file=other.qcow2

# data_file, data_file_raw and encryption options: qemu-img's answers, and
# where it changes the header, the same bytes
mkdir -p "$T/df"
(
    cd "$T/df" || exit 1
    qemu-img create -q -f qcow2 plain.qcow2 4M
    qemu-img create -q -f qcow2 -o data_file=d.dat df.qcow2 4M
    qemu-img create -q -f qcow2 -o data_file=r.dat,data_file_raw=on raw.qcow2 4M
)
for img in plain df raw; do
    for o in data_file=new.dat data_file= data_file_raw=on data_file_raw=off data_file=n2.dat,data_file_raw=off \
             encrypt.format=luks encrypt.key-secret=s encrypt.new-secret=s cluster_size=4k; do
        cp "$T/df/$img.qcow2" "$T/df/g.qcow2"
        cp "$T/df/$img.qcow2" "$T/df/q.qcow2"
        gr=0; qr=0
        go=$(cd "$T/df" && gimg amend -o "$o" g.qcow2 2>&1) || gr=$?
        qo=$(cd "$T/df" && qemu-img amend -o "$o" q.qcow2 2>&1) || qr=$?
        is "${go//gimg:/qemu-img:} [exit $gr]" "$qo [exit $qr]" "[$img] amend -o $o: as qemu-img"
        same_file "$T/df/g.qcow2" "$T/df/q.qcow2" "[$img] amend -o $o: qemu-img's bytes"
    done
done

# usage and formats without options
like_qemu_img "amend without -o" amend g.qcow2
fails_cleanly "amend without -o fails cleanly" gimg amend g.qcow2
truncate -s 1M r.raw
is "$(gimg amend -f raw -o size=2M r.raw 2>&1; echo "exit $?")" \
   "$(qemu-img amend -f raw -o size=2M r.raw 2>&1 | sed 's/^qemu-img:/gimg:/'; echo "exit ${PIPESTATUS[0]}")" \
   "amend of a raw image: as qemu-img"
done_testing
