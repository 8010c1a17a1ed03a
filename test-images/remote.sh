#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A qcow2 chain of an ext4 disk for the remote-image tests (NBD, HTTP, RBD):
#   OUTDIR/v1/, v2/        the two trees (the oracle: what gcat must print)
#   OUTDIR/base.qcow2      ext4 of v1 (32 MiB; 6 MiB of seeded noise in it;
#                          REMOTE_DISK_MIB and REMOTE_NOISE_MIB for bench/)
#   OUTDIR/top.qcow2       v2 over base.qcow2 (backing_fmt qcow2, a relative
#                          name): only the clusters where v2 differs
#   OUTDIR/top-raw.qcow2   the same over base.raw (backing_fmt raw)
#   OUTDIR/base.raw        the raw ext4 of v1
#   OUTDIR/solo.qcow2      v2 alone (no backing file)
# Deterministic: fixed times, UUID and hash seed, seeded noise.
set -euo pipefail
out=${1:?usage: remote.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib-fs.sh"
mkdir -p "$out"
cd "$out"
export LC_ALL=C E2FSPROGS_FAKE_TIME=1700000000
uuid=5d1c3a62-5a7e-4c1f-9a0b-17a0b0c0d0e1
rm -rf v1 v2
mkdir -p v1/etc v1/data v1/usr/share/doc/guest
printf 'remote-v1\n' >v1/etc/hostname
printf 'NAME="Remote Test"\nID=remotetest\nVERSION_ID=1\n' >v1/etc/os-release
disk=${REMOTE_DISK_MIB:-32} noise=${REMOTE_NOISE_MIB:-6}
python3 -c 'import random, sys; r = random.Random(17); open("v1/data/noise.bin", "wb").write(r.randbytes(int(sys.argv[1]) << 20))' "$noise"
for i in $(seq 1 40); do printf 'doc %d\n' "$i" >"v1/usr/share/doc/guest/f$i.txt"; done
cp -a v1 v2
printf 'remote-v2\n' >v2/etc/hostname
printf 'served over the network\n' >v2/etc/motd
mkext v1 base.raw "$disk" ext4 "$uuid" remote
mkext v2 v2.raw "$disk" ext4 "$uuid" remote
qemu-img convert -f raw -O qcow2 base.raw base.qcow2
qemu-img convert -f raw -O qcow2 v2.raw solo.qcow2
# the overlays hold only the 64 KiB clusters where v2 differs from v1
# (qemu-io writes each from a copy of it)
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 top.qcow2
qemu-img create -q -f qcow2 -b base.raw -F raw top-raw.qcow2
mkdir -p delta
python3 - <<'PY'
a = open("base.raw", "rb").read()
b = open("v2.raw", "rb").read()
cmds = []
for off in range(0, len(b), 65536):
    if a[off:off + 65536] != b[off:off + 65536]:
        name = "delta/%d" % off
        open(name, "wb").write(b[off:off + 65536])
        cmds.append("write -q -s %s %d 65536" % (name, off))
open("delta/cmds", "w").write("\n".join(cmds) + "\n")
PY
for img in top.qcow2 top-raw.qcow2; do
    args=()
    while read -r c; do args+=(-c "$c"); done <delta/cmds
    qemu-io -f qcow2 "${args[@]}" "$img"
done
qemu-img compare -q -f qcow2 -F raw top.qcow2 v2.raw
qemu-img compare -q -f qcow2 -F raw top-raw.qcow2 v2.raw
rm -rf delta v2.raw
qemu-img check top.qcow2
qemu-img info --backing-chain top.qcow2
