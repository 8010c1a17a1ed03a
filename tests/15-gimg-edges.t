#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg on the edge cases issue 18's differential run against qemu-img found
# (~600 generated images), each made here with qemu-img/qemu-io and
# compared with qemu-img 7.2's output and exit status (the oracle):
# info without the backing or data file it names, sizes that are not a
# multiple of 512 (raw rounds up, qcow2 down), zero-size images, map of
# metadata-preallocated and discarded images (refcounts, holes under data),
# compare -s on an empty 512-byte-cluster overlay of a zeroed image, and
# compare -f applying to the first image only.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip_all "needs qemu-img and qemu-io"
cd "$T"

# ---- info needs nothing but the header
qemu-img create -q -f qcow2 base.qcow2 1M
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 top.qcow2
rm base.qcow2
like_qemu_img "info, backing file missing" info top.qcow2
like_qemu_img "info --output=json, backing file missing" info --output=json top.qcow2
qemu-img create -q -f qcow2 -o data_file=data.raw df.qcow2 1M
rm data.raw
like_qemu_img "info, data file missing" info df.qcow2
like_qemu_img "map, backing file missing: refused" map top.qcow2

# ---- sizes that are not a multiple of 512, and zero
for n in 1 1000 513; do
    head -c $n /dev/zero | tr '\0' x >r$n.raw
    like_qemu_img "info of a $n-byte raw file" info r$n.raw
    like_qemu_img "map of a $n-byte raw file" map --output=json r$n.raw
    like_qemu_img "check of a $n-byte raw file" check r$n.raw
    qemu-img convert -O raw r$n.raw q$n.raw
    gimg convert -O raw r$n.raw g$n.raw
    same_file g$n.raw q$n.raw "convert of a $n-byte raw file"
done
qemu-img create -q -f qcow2 o.qcow2 1000
like_qemu_img "info of a 1000-byte qcow2 image" info o.qcow2
like_qemu_img "map of a 1000-byte qcow2 image" map --output=json o.qcow2
like_qemu_img "check of a 1000-byte qcow2 image" check o.qcow2
qemu-img create -q -f raw z.raw 0
qemu-img create -q -f qcow2 z.qcow2 0
for i in z.raw z.qcow2; do
    like_qemu_img "map of a zero-size image ($i)" map --output=json $i
    like_qemu_img "info of a zero-size image ($i)" info $i
done

# ---- map: preallocation is judged by refcounts; holes under data
qemu-img create -q -f qcow2 -o preallocation=metadata pm.qcow2 4M
qemu-io -c 'write -P 5 0 1M' -c 'discard 256k 128k' -c 'write -z 2M 64k' pm.qcow2 >/dev/null
qemu-img create -q -f qcow2 -o preallocation=falloc pf.qcow2 4M
qemu-io -c 'discard 0 1M' pf.qcow2 >/dev/null
qemu-img create -q -f qcow2 -o preallocation=full pu.qcow2 2M
for i in pm pf pu; do
    like_qemu_img "map --output=json of $i.qcow2" map --output=json $i.qcow2
    like_qemu_img "map of $i.qcow2" map $i.qcow2
done

# ---- compare -s: an empty overlay with 512-byte clusters over zeros
qemu-img create -q -f qcow2 zb.qcow2 4M
qemu-io -c 'write -z 0 4M' zb.qcow2 >/dev/null
qemu-img create -q -f qcow2 -o cluster_size=512 -b zb.qcow2 -F qcow2 ov.qcow2
qemu-img create -q -f qcow2 e.qcow2 4M
for p in "ov.qcow2 e.qcow2" "e.qcow2 ov.qcow2" "ov.qcow2 zb.qcow2" "zb.qcow2 ov.qcow2"; do
    like_qemu_img "compare -s $p" compare -s $p
done
# -f names the first image's format only; the second is probed
like_qemu_img "compare -f qcow2 A B: B probed (raw)" compare -f qcow2 ov.qcow2 r1000.raw
like_qemu_img "compare -f raw A B: B probed (qcow2)" compare -f raw r1000.raw ov.qcow2
done_testing
