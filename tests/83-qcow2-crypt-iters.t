#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The PBKDF2 iteration counts of a LUKS-encrypted qcow2 gimg create makes
# (encrypt.iter-time), against qemu-img create's measured in the same run
# on this machine: qemu times PBKDF2 on its thread's CPU and scales the rate
# to iter-time ms (the volume key digest an eighth of that, at least 1000
# each), so the counts depend on how fast the PBKDF2 code is; gimg's must
# be qemu-img's within a factor of two (no timing assertion: a ratio of two
# counts taken side by side, each the sum of two creates).
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
cd "$T"
printf 'iter pass' >pass.txt
SEC=(--object secret,id=sec0,file=$T/pass.txt)

iters() { # TOOL: "KEYSLOT MASTERKEY" summed over two creates
    local ks=0 mk=0 i k m
    for i in 1 2; do
        rm -f "$1.qcow2"
        "$1" create -q -f qcow2 "${SEC[@]}" \
            -o encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=300 "$1.qcow2" 1M || return 1
        read -r k m < <(qemu-img info --output=json "$1.qcow2" | python3 -c '
import json, sys
e = json.load(sys.stdin)["format-specific"]["data"]["encrypt"]
print(e["slots"][0]["iters"], e["master-key-iters"])')
        ks=$((ks + k))
        mk=$((mk + m))
    done
    echo "$ks $mk"
}
read -r qk qm < <(iters qemu-img)
read -r gk gm < <(iters gimg)
diag "keyslot 0: qemu-img $qk, gimg $gk; volume key digest: qemu-img $qm, gimg $gm (sums of two)"
within() { # A B: A is B within a factor of two
    [ "$1" -gt 0 ] && [ "$2" -gt 0 ] && [ $(($1 * 2)) -ge "$2" ] && [ "$1" -le $(($2 * 2)) ]
}
ok "keyslot iterations: gimg's within 0.5x-2x of qemu-img's" within "$gk" "$qk"
ok "volume key digest iterations: gimg's within 0.5x-2x of qemu-img's" within "$gm" "$qm"
done_testing
