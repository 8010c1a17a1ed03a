#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A throw-away single-node Ceph cluster for the RBD tests: one ceph-mon and
# one ceph-osd (memstore: the objects live in the OSD's memory) on
# 127.0.0.1, cephx on, everything (configuration, keyrings, data, logs,
# sockets) in DIR.  Prints nothing on success; DIR/ceph.conf is the
# configuration, DIR/pids the daemons' pids (kill them to stop the cluster).
# Usage: ceph-cluster.sh DIR PORT
set -euo pipefail
D=$1 port=$2
mkdir -p "$D/mon" "$D/osd0" "$D/run"
fsid=$(uuidgen)
cat >"$D/ceph.conf" <<CONF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$port
mon initial members = a
public network = 127.0.0.1/32
ms bind msgr2 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $D/\$name.keyring
run dir = $D/run
admin socket = $D/run/\$name.asok
log file = $D/\$name.log
pid file = $D/run/\$name.pid
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon allow pool delete = true
mon warn on insecure global id reclaim allowed = false
osd crush chooseleaf type = 0
osd objectstore = memstore
memstore device bytes = 268435456
osd data = $D/osd\$id
mon data = $D/mon
osd max object name len = 256
osd max object namespace len = 64
mon osd full ratio = .99
mon osd nearfull ratio = .99
osd memory target = 536870912
CONF
C=(-c "$D/ceph.conf")
ceph-authtool --create-keyring "$D/mon.a.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool --create-keyring "$D/client.admin.keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
ceph-authtool "$D/mon.a.keyring" --import-keyring "$D/client.admin.keyring" >/dev/null
monmaptool --create --fsid "$fsid" --addv a "[v1:127.0.0.1:$port]" "$D/monmap" >/dev/null
ceph-mon "${C[@]}" --mkfs -i a --monmap "$D/monmap" --keyring "$D/mon.a.keyring"
ceph-mon "${C[@]}" -i a
for _ in $(seq 100); do [ -s "$D/run/mon.a.pid" ] && break; sleep 0.1; done
cat "$D/run/mon.a.pid" >"$D/pids"
T=(timeout 60)
id=$("${T[@]}" ceph "${C[@]}" osd create)
ceph-osd "${C[@]}" -i "$id" --mkfs --mkkey --no-mon-config --osd-uuid "$(uuidgen)" >/dev/null 2>&1
"${T[@]}" ceph "${C[@]}" auth add "osd.$id" osd 'allow *' mon 'allow profile osd' -i "$D/osd.$id.keyring" >/dev/null
ceph-osd "${C[@]}" -i "$id"
for _ in $(seq 100); do [ -s "$D/run/osd.$id.pid" ] && break; sleep 0.1; done
cat "$D/run/osd.$id.pid" >>"$D/pids"
"${T[@]}" ceph "${C[@]}" osd crush add "osd.$id" 1.0 host=localhost root=default >/dev/null 2>&1 || true
for _ in $(seq 300); do
    "${T[@]}" ceph "${C[@]}" osd stat 2>/dev/null | grep -q '1 up' && break
    sleep 0.2
done
"${T[@]}" ceph "${C[@]}" osd pool create rbd 8 >/dev/null 2>&1
"${T[@]}" ceph "${C[@]}" osd pool set rbd size 1 --yes-i-really-mean-it >/dev/null 2>&1 || true
"${T[@]}" rbd "${C[@]}" pool init rbd
