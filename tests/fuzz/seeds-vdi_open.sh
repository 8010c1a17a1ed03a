#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Seeds for the vdi_open fuzz target: a small dynamic and a static VDI made
# by qemu-img, written in places by qemu-io.
set -eu
c=${1:?usage: seeds-vdi_open.sh CORPUS}
command -v qemu-img >/dev/null || exit 0
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
cd "$w"
qemu-img create -q -f vdi d.vdi 3M
qemu-io -f vdi -c 'write -P 1 0 4k' -c 'write -P 2 2M 1k' d.vdi >/dev/null
head -c 4096 d.vdi >h.vdi
cp d.vdi h.vdi "$c/"
