#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# -a rbd://[USER@]POOL/IMAGE[@SNAP] and rbd:POOL/IMAGE (librbd) against a
# real single-node Ceph cluster (tests/ceph-cluster.sh: ceph-mon and a
# memstore ceph-osd on 127.0.0.1, cephx), images put there with `rbd
# import`.  Oracles: the trees the ext4 was made of; after writes, `rbd
# export` checked with qemu-img check, e2fsck -fn and debugfs.  Skipped,
# saying why, where the Ceph daemons are not installed or do not start.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-remote.sh"
for p in ceph-mon ceph-osd ceph rbd monmaptool ceph-authtool; do
    command -v $p >/dev/null || skip_all "$p not installed (Debian: ceph-mon ceph-osd ceph-common)"
done
R=$(fixture remote) || exit 1

C=$T/ceph
port=$(free_port)
rc=0
timeout -k 5 180 "$TOP/tests/ceph-cluster.sh" "$C" "$port" >"$T/cluster.log" 2>&1 || rc=$?
[ -f "$C/pids" ] && for p in $(cat "$C/pids"); do serve_pid "$p"; done
if [ $rc != 0 ]; then
    skip_all "the Ceph cluster did not start here (exit $rc): $(tail -n 3 "$T/cluster.log" | tr '\n' ' ')"
fi
export CEPH_CONF=$C/ceph.conf
RBD=$(command -v rbd)
rbd() { timeout -k 5 120 "$RBD" "$@"; }
for img in top.qcow2 base.qcow2 solo.qcow2; do
    rbd import --no-progress "$R/$img" "rbd/$img" || exit 1
done

is "$(gcat -a rbd://rbd/solo.qcow2 -m /dev/sda /etc/hostname)" "$(cat "$R/v2/etc/hostname")" \
    "gcat of rbd://POOL/IMAGE (CEPH_CONF)"
is "$(gcat -a rbd://admin@rbd/top.qcow2 -m /dev/sda /etc/motd)" "$(cat "$R/v2/etc/motd")" \
    "rbd://USER@POOL/IMAGE, a qcow2 chain: the backing file is the pool's image of that name"
is "$(gcat -a rbd://rbd/top.qcow2 -m /dev/sda /data/noise.bin | md5sum)" "$(md5sum <"$R/v1/data/noise.bin")" \
    "6 MiB read through the chain from the base image"
is "$(env -u CEPH_CONF gcat --rbd-conf "$C/ceph.conf" -a rbd:rbd/top.qcow2 -m /dev/sda /etc/hostname)" \
    "$(cat "$R/v2/etc/hostname")" "rbd:POOL/IMAGE (qemu's form) with --rbd-conf"
is "$(env -u CEPH_CONF gcat -a "rbd:rbd/solo.qcow2:id=admin:conf=$C/ceph.conf" -m /dev/sda /etc/hostname)" \
    "$(cat "$R/v2/etc/hostname")" "rbd:POOL/IMAGE:id=USER:conf=FILE"
is "$(env -u CEPH_CONF gcat -a "rbd://127.0.0.1:$port/rbd/solo.qcow2?conf=$C/ceph.conf" -m /dev/sda /etc/hostname)" \
    "$(cat "$R/v2/etc/hostname")" "rbd://MON:PORT/POOL/IMAGE (libguestfs' form)"
g=$(gimg info rbd://rbd/top.qcow2 | sed -e 's/^image: .*/image: X/' -e '/^disk size:/d' -e 's/ (actual path: .*)$//')
q=$(cd "$R" && qemu-img info top.qcow2 | sed -e 's/^image: .*/image: X/' -e '/^disk size:/d')
is "$g" "$q" "gimg info over RBD = qemu-img info of the file imported (but name and disk size)"
is "$(gimg info rbd://rbd/top.qcow2 | grep '^backing file:')" \
    "backing file: base.qcow2 (actual path: rbd://rbd/base.qcow2)" "  the backing file is resolved in the pool"

# --untrusted: a local backing file of an RBD image is refused
qemu-img create -q -f qcow2 -u -b "$R/base.qcow2" -F qcow2 "$T/local.qcow2" 32M
rbd import --no-progress "$T/local.qcow2" rbd/local.qcow2
fails_cleanly "--untrusted: a local backing file of an RBD image is refused" \
    gcat --untrusted -a rbd://rbd/local.qcow2 -m /dev/sda /etc/hostname
is "$(gcat --untrusted -a rbd://rbd/top.qcow2 -m /dev/sda /etc/hostname)" "$(cat "$R/v2/etc/hostname")" \
    "--untrusted: a backing file in the same pool is read"

# writes (--rw) and snapshots: room after the qcow2 file's end (an RBD
# image does not grow by itself), a snapshot before the write
rbd snap create --no-progress rbd/solo.qcow2@before
rbd resize --size 16M rbd/solo.qcow2 >/dev/null 2>&1
printf 'written to RBD\n' >"$T/new.txt"
ok "gcopy-in into an RBD image" gcopy-in -a rbd://rbd/solo.qcow2 -m /dev/sda "$T/new.txt" /etc
is "$(gcat -a rbd://rbd/solo.qcow2 -m /dev/sda /etc/new.txt)" "written to RBD" "  read back"
fails_cleanly "  the snapshot taken before does not have it" gcat -a rbd://rbd/solo.qcow2@before -m /dev/sda /etc/new.txt
is "$(gcat -a rbd://rbd/solo.qcow2@before -m /dev/sda /etc/hostname)" "$(cat "$R/v2/etc/hostname")" \
    "  rbd://POOL/IMAGE@SNAP reads the snapshot"
rbd export --no-progress rbd/solo.qcow2 "$T/exported.qcow2"
ok "  qemu-img check of the exported image" qemu-img check -q "$T/exported.qcow2"
qemu-img convert -O raw "$T/exported.qcow2" "$T/exported.raw"
ok "  e2fsck -fn" e2fsck -fn "$T/exported.raw"
is "$(debugfs -R 'cat /etc/new.txt' "$T/exported.raw" 2>/dev/null)" "written to RBD" "  debugfs reads the file"
fails_cleanly "--rw on a snapshot is refused" gcopy-in -a rbd://rbd/solo.qcow2@before -m /dev/sda "$T/new.txt" /

fails_cleanly "no such image" gcat -a rbd://rbd/nosuch -m /dev/sda /x
grep -q 'image "nosuch" in pool "rbd": not found' "$T/fc.err"
ok "  ... named" test $? = 0
fails_cleanly "no such pool" gcat -a rbd://nopool/x -m /dev/sda /x
fails_cleanly "no image in the location" gcat -a rbd://rbd -m /dev/sda /x
fails_cleanly "a configuration file that does not exist" \
    env -u CEPH_CONF gcat --rbd-conf "$T/nosuch.conf" -a rbd://rbd/solo.qcow2 -m /dev/sda /x
done_testing
