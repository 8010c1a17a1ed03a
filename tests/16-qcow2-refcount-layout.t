#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Where gimg create and convert -O qcow2 put refcount blocks and refcount
# tables, against qemu-img on the same input: the whole file byte for byte
# (qemu-img create and convert are deterministic) and qemu-img check clean,
# for every cluster size (512 .. 2M) with every refcount width (1 .. 64).
# Small clusters with wide refcounts need a refcount block every few
# clusters and grow the refcount table; with 64-bit refcounts and 8 KiB or
# 16 KiB clusters a refcount block is due in the middle of a write that goes
# on from clusters mapped before (qemu puts it at the first cluster it
# covers, qcow2_alloc_clusters_at) or in one that allocates afresh (after
# the clusters taken).
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
cd "$T"

same_and_clean() { # GIMG_FILE QEMU_FILE DESC
    if cmp -s "$1" "$2" && qemu-img check -q "$1"; then
        _tap_result 0 "$3"
    else
        _tap_result 1 "$3"
        diag "$(cmp "$1" "$2" 2>&1 | head -n 3)" "$(qemu-img check "$1" 2>&1 | tail -n 3)"
    fi
}

# ~3.5 MiB of data in runs that start and end off cluster and 2 MiB
# boundaries, holes between them
truncate -s 12M small.raw
qemu-io -f raw -c 'write -P 0x41 0 1100k' -c 'write -P 0x42 1537k 900k' -c 'write -P 0x43 3000k 5k' \
    -c 'write -P 0x44 5123k 1200k' -c 'write -P 0x45 11M 300k' small.raw >/dev/null

for cs in 512 1k 2k 4k 8k 16k 32k 64k 128k 256k 512k 1M 2M; do
    for rb in 1 2 4 8 16 32 64; do
        o=cluster_size=$cs,refcount_bits=$rb
        rm -f g.qcow2 q.qcow2
        gimg create -q -f qcow2 -o "$o" g.qcow2 1G
        qemu-img create -q -f qcow2 -o "$o" q.qcow2 1G
        same_and_clean g.qcow2 q.qcow2 "create -o $o 1G: qemu-img's file"
        rm -f g.qcow2 q.qcow2
        gimg convert -O qcow2 -o "$o" small.raw g.qcow2
        qemu-img convert -O qcow2 -o "$o" small.raw q.qcow2
        same_and_clean g.qcow2 q.qcow2 "convert -o $o: qemu-img's file"
    done
done

# refcount blocks due inside qemu-img's writes: layouts where a write
# that goes on past an L2 table, or starts inside the cluster the write
# before ended in, or is cut by gimg's 2 MiB windows, needs one
layout() { # NAME QEMU-IO-WRITES...
    local name=$1; shift
    rm -f "$name.raw"
    truncate -s 48M "$name.raw"
    qemu-io -f raw "$@" "$name.raw" >/dev/null
}
layout a -c 'write -P 65 39771136 4376576' -c 'write -P 66 24826880 15906816'
layout b -c 'write -P 65 2186240 2024448' -c 'write -P 66 38794752 13824' -c 'write -P 67 31043072 3454464' \
    -c 'write -P 68 18624000 5376512' -c 'write -P 69 2308608 16444928'
layout c -c 'write -P 65 19512320 22953984' -c 'write -P 66 12463616 7736320' -c 'write -P 67 44706816 57344'
layout d -c 'write -P 65 41330688 9000960'
layout e -c 'write -P 65 5406720 3197440' -c 'write -P 66 17556992 512' -c 'write -P 67 9769472 19679232' \
    -c 'write -P 68 31558144 12521472' -c 'write -P 69 21433344 17920'
for src in a b c d e; do
    for o in cluster_size=8k,refcount_bits=64 cluster_size=8k,refcount_bits=32 cluster_size=16k,refcount_bits=64; do
        [ "$src" != e ] && [ "${o#cluster_size=16k}" != "$o" ] && continue
        rm -f g.qcow2 q.qcow2
        gimg convert -O qcow2 -o "$o" "$src.raw" g.qcow2
        qemu-img convert -O qcow2 -o "$o" "$src.raw" q.qcow2
        same_and_clean g.qcow2 q.qcow2 "convert -o $o of layout $src: qemu-img's file"
    done
done
done_testing
