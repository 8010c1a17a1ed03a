#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg create against qemu-img create (the oracle): the same line on
# stdout, the same exit status and message, and byte-identical files for the
# same options; the files pass qemu-img check and take qemu-io writes.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
mkdir -p "$T/q" "$T/g"
qemu-img create -q -f qcow2 "$T/q/base.qcow2" 1G
cp "$T/q/base.qcow2" "$T/g/base.qcow2"
truncate -s 100M "$T/q/base.raw" "$T/g/base.raw"

create_like() { # SIZE ARGS...
    local size=$1; shift
    local qo go qr=0 gr=0
    rm -f "$T/q/img" "$T/g/img"
    qo=$(cd "$T/q" && qemu-img create "$@" img $size 2>&1) || qr=$?
    go=$(cd "$T/g" && gimg create "$@" img $size 2>&1) || gr=$?
    is "${go//gimg:/qemu-img:} [exit $gr]" "$qo [exit $qr]" "create $* $size: same output as qemu-img"
    if [ "$qr" = 0 ]; then
        same_file "$T/g/img" "$T/q/img" "create $* $size: same bytes as qemu-img"
    fi
}

for o in "" compat=0.10 cluster_size=512 cluster_size=4k cluster_size=8k cluster_size=2M extended_l2=on \
         compression_type=zstd lazy_refcounts=on refcount_bits=1 refcount_bits=8 refcount_bits=64 \
         cluster_size=16k,extended_l2=on,refcount_bits=2 compat=1.1,lazy_refcounts=off data_file=data.raw; do
    create_like 1G -f qcow2 ${o:+-o "$o"}
done
for s in 0 512 1000 1M 100T; do
    create_like $s -f qcow2
done
create_like 10G -f qcow2 -o cluster_size=1k
create_like 1G -f qcow2 -o cluster_size=512,refcount_bits=64
create_like "" -f qcow2 -b base.qcow2 -F qcow2
create_like 2G -f qcow2 -b base.qcow2 -F qcow2
create_like "" -f qcow2 -b base.raw -F raw -o cluster_size=4k
create_like "" -f qcow2 -o compat=0.10 -b base.qcow2 -F qcow2
create_like 1G -f qcow2 -u -b missing.qcow2 -F qcow2
create_like 1G -f raw
create_like 1M -f raw -o preallocation=full
create_like 1M
# qcow2 metadata preallocation (tables and host clusters, no data)
for o in preallocation=metadata preallocation=metadata,cluster_size=4k preallocation=metadata,compat=0.10 \
         preallocation=metadata,extended_l2=on preallocation=metadata,cluster_size=512,refcount_bits=1; do
    create_like 100M -f qcow2 -o "$o"
done
# falloc and full: the data clusters in the file too (fallocate, written
# zeros); qemu-img map the same; the allocated blocks near qemu's (the host
# filesystem decides: within 256 KiB); a data file gets the disk's size
blocks_near() { # FILE-A FILE-B NAME
    local a b
    a=$(stat -c %b "$1") b=$(stat -c %b "$2")
    ok "$3: allocated blocks $a near qemu's $b" test $((a - b)) -le 512 -a $((b - a)) -le 512
}
for o in preallocation=falloc preallocation=full preallocation=falloc,cluster_size=512,refcount_bits=1 \
         preallocation=full,extended_l2=on,compat=1.1 preallocation=falloc,data_file=data.raw; do
    create_like 3M -f qcow2 -o "$o"
    is "$(cd "$T/g" && qemu-img map --output=json img 2>&1)" "$(cd "$T/q" && qemu-img map --output=json img 2>&1)" \
       "create -o $o: qemu-img map as of qemu's"
    blocks_near "$T/g/img" "$T/q/img" "create -o $o"
    ok "create -o $o: qemu-img check clean" sh -c "cd '$T/g' && qemu-img check -q img"
done
is "$(stat -c %s "$T/g/data.raw")" "$(stat -c %s "$T/q/data.raw")" "create -o data_file=: the data file has the disk's size"
blocks_near "$T/g/data.raw" "$T/q/data.raw" "create -o preallocation=falloc,data_file=: the data file"

# errors: same message and status
create_like "" -f qcow2
create_like 1G -f qcow2 -o cluster_size=1000
create_like 1G -f qcow2 -o foo=bar
create_like 1G -f qcow2 -o compat=0.10,lazy_refcounts=on
create_like 1G -f qcow2 -o cluster_size=4k,extended_l2=on
create_like 1G -f qcow2 -b base.qcow2

# what gimg created, qemu checks and writes
for o in "" compat=0.10 cluster_size=512,refcount_bits=1 extended_l2=on compression_type=zstd; do
    rm -f "$T/g/img"
    gimg create -q -f qcow2 ${o:+-o "$o"} "$T/g/img" 64M
    ok "create -o '$o': qemu-io writes, qemu-img check is clean" \
        sh -c "qemu-io -c 'write -P 7 1M 3M' '$T/g/img' && qemu-img check '$T/g/img'"
done

# a file a qemu holds is not replaced
if command -v qemu-storage-daemon >/dev/null; then
    gimg create -q -f qcow2 "$T/held.qcow2" 64M
    qemu-storage-daemon --blockdev driver=file,node-name=f,filename="$T/held.qcow2" \
        --blockdev driver=qcow2,node-name=q,file=f \
        --nbd-server addr.type=unix,addr.path="$T/nbd.sock" \
        --export type=nbd,id=e,node-name=q,writable=on &
    qsd=$!
    for i in $(seq 50); do [ -S "$T/nbd.sock" ] && break; sleep 0.1; done
    sum=$(sha256sum <"$T/held.qcow2")
    fails_cleanly "create over an image qemu-storage-daemon holds is refused" gimg create -q -f qcow2 "$T/held.qcow2" 1G
    is "$(sha256sum <"$T/held.qcow2")" "$sum" "the held image is untouched"
    kill $qsd; wait $qsd 2>/dev/null
fi
# -f file: qemu's file driver as the format (a raw file, named "file"):
# its options, their refusals in qemu's order (a value that does not parse
# before the "Formatting" line, an unsupported one after it)
for o in "" preallocation=full preallocation=falloc preallocation=metadata preallocation=foo nocow=on \
         nocow=bad extent_size_hint=1M extent_size_hint=bad extent_size_hint=5G cluster_size=4k \
         extent_size_hint=64k,nocow=off,preallocation=full size=2M; do
    create_like 1M -f file ${o:+-o "$o"}
    is "$(stat -c %s "$T/g/img" 2>/dev/null || echo none)" "$(stat -c %s "$T/q/img" 2>/dev/null || echo none)" \
       "create -f file ${o:+-o $o}: the file left as qemu-img's"
done
create_like "" -f file
create_like "" -f file -o size=2M
create_like 1M -f raw -o size=2M
create_like 1M -f file -b base.raw -F raw
is "$(gimg create -f file -o help 2>&1) [exit $?]" "$(qemu-img create -f file -o help 2>&1) [exit $?]" \
   "create -f file -o help: as qemu-img"
# convert -O file / -f file, info -f file: the same files and lines
rm -f "$T/q/src.qcow2"
qemu-img create -q -f qcow2 "$T/q/src.qcow2" 3M
qemu-io -c 'write -P 7 64k 1M' "$T/q/src.qcow2" >/dev/null
for o in "" -o\ preallocation=full -o\ cluster_size=4k; do
    rm -f "$T/q/out" "$T/g/out"
    qo=$(cd "$T/q" && qemu-img convert -O file $o src.qcow2 out 2>&1) qr=$?
    go=$(cd "$T/q" && gimg convert -O file $o src.qcow2 ../g/out 2>&1) gr=$?
    is "${go//gimg:/qemu-img:} [exit $gr]" "$qo [exit $qr]" "convert -O file $o: same output as qemu-img"
    [ "$qr" = 0 ] && same_file "$T/g/out" "$T/q/out" "convert -O file $o: same bytes as qemu-img"
    [ -z "$o" ] && cp "$T/q/out" "$T/q/plain"
done
like_qemu_img "info -f file" info -f file "$T/q/plain"
like_qemu_img "info -f file --output=json" info -f file --output=json "$T/q/plain"
qemu-img convert -f file -O qcow2 "$T/q/plain" "$T/q/back.qcow2"
gimg convert -f file -O qcow2 "$T/q/plain" "$T/g/back.qcow2"
same_file "$T/g/back.qcow2" "$T/q/back.qcow2" "convert -f file -O qcow2: same bytes as qemu-img"
done_testing
