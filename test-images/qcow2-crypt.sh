#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Encrypted qcow2 images, every one made and written by qemu (qemu-img
# create/convert with --object secret, qemu-io patterns), decrypted by
# qemu-img convert into X.raw for the expected contents.
#
#   luks.qcow2     encrypt.format=luks defaults (aes-256-xts-plain64, sha256)
#   essiv.qcow2    luks aes-128-cbc-essiv:sha256, hash sha1, 4 KiB clusters
#   ext-l2.qcow2   luks with extended L2 entries (128 KiB clusters, subclusters)
#   aes.qcow2      the legacy encrypt.format=aes (AES-128-CBC, plain64 IVs)
#   base.qcow2 <- top.qcow2: both luks with the same secret, top partly
#                  overwrites base
#   fs.qcow2       luks, holding an ext4 filesystem (hello.txt, etc/os-release)
#                  converted from fs.ext4 (kept: the plaintext)
# The secret is secret.txt ("qcow2 pass", no newline); secret.b64 in base64.
# Patterns: whole clusters, unaligned runs across cluster edges, zero writes,
# discards, the last sector.  The KDF and salts are qemu's (random), so the
# images differ between builds; every expected file is qemu's own reading.
set -euo pipefail
. "$(dirname "$0")/lib-fs.sh"
OUT=$(realpath "$1")
cd "$OUT"
rm -rf ./*.qcow2 ./*.raw ./*.ext4 ./*.txt ./*.b64
printf 'qcow2 pass' >secret.txt
printf 'qcow2 pass' | base64 -w0 >secret.b64
SEC=(--object secret,id=sec0,file=secret.txt)
iopts() { echo "driver=qcow2,file.filename=$1,encrypt.key-secret=sec0"; }
create() { # IMG SIZE OPTIONS
    qemu-img create -q -f qcow2 "${SEC[@]}" \
        -o "encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10${3:+,$3}" "$1" "$2"
}
io() { # IMG qemu-io commands...
    local img=$1 a=()
    shift
    for c in "$@"; do a+=(-c "$c"); done
    qemu-io "${SEC[@]}" --image-opts "$(iopts "$img")${IOX:-}" "${a[@]}" >/dev/null
}
patterns() { # IMG SIZE_BYTES
    io "$1" 'write -P 0x41 0 64k' 'write -P 0x7e 70000 3000' 'write -P 0xc3 1m 4k' \
        'write -P 0x5a 131071 2' 'write -P 0x99 200k 300k' 'write -z 260k 8k' \
        'discard 448k 64k' "write -P 0x11 $(($2 - 512)) 512" 'write -P 0x22 3m 4097'
}
decrypt() { # IMG [extra image opts]
    qemu-img convert "${SEC[@]}" --image-opts "$(iopts "$1")${2:-}" -O raw "${1%.qcow2}.raw"
}

create luks.qcow2 4M
patterns luks.qcow2 $((4 << 20))
decrypt luks.qcow2

create essiv.qcow2 4M "encrypt.cipher-alg=aes-128,encrypt.cipher-mode=cbc,encrypt.ivgen-alg=essiv,encrypt.ivgen-hash-alg=sha256,encrypt.hash-alg=sha1,cluster_size=4096"
patterns essiv.qcow2 $((4 << 20))
decrypt essiv.qcow2

create ext-l2.qcow2 4M "cluster_size=131072,extended_l2=on"
patterns ext-l2.qcow2 $((4 << 20))
decrypt ext-l2.qcow2

qemu-img create -q -f qcow2 "${SEC[@]}" -o encrypt.format=aes,encrypt.key-secret=sec0 aes.qcow2 4M
patterns aes.qcow2 $((4 << 20))
decrypt aes.qcow2

create base.qcow2 4M
patterns base.qcow2 $((4 << 20))
qemu-img create -q -f qcow2 "${SEC[@]}" -u -b base.qcow2 -F qcow2 \
    -o encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10 top.qcow2 4M
IOX=,backing.encrypt.key-secret=sec0 io top.qcow2 'write -P 0xee 60k 8k' 'write -z 1m 512' 'write -P 0x33 2m 64k'
qemu-img convert "${SEC[@]}" --image-opts \
    "$(iopts top.qcow2),backing.encrypt.key-secret=sec0" -O raw top.raw

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/etc"
echo "hello from an encrypted qcow2" >"$T/hello.txt"
printf 'NAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' \
    >"$T/etc/os-release"
echo cryptguest >"$T/etc/hostname"
mkext "$T" fs.ext4 8 ext4 01234567-0123-0123-0123-0123456789e1 cryptroot
qemu-img convert -f raw fs.ext4 "${SEC[@]}" -O qcow2 \
    -o encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10 fs.qcow2
