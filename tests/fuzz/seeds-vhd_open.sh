#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Seeds for the vhd_open fuzz target: small dynamic and fixed VHDs made by
# qemu-img, written in places by qemu-io.
set -eu
c=${1:?usage: seeds-vhd_open.sh CORPUS}
command -v qemu-img >/dev/null || exit 0
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
cd "$w"
qemu-img create -q -f vpc -o subformat=dynamic d.vhd 4M
qemu-io -f vpc -c 'write -P 1 0 4k' -c 'write -P 2 3M 1k' d.vhd >/dev/null
qemu-img create -q -f vpc -o subformat=fixed f.vhd 64k
qemu-io -f vpc -c 'write -P 3 0 4k' f.vhd >/dev/null
cp d.vhd f.vhd "$c/"
