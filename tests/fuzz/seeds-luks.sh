#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Seeds for the luks fuzz target: the first 64 KiB of LUKS1 and LUKS2
# volumes cryptsetup formats (cheap KDFs, so that unlocking runs).
set -eu
c=${1:?usage: seeds-luks.sh CORPUS}
command -v cryptsetup >/dev/null || exit 0
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
printf fuzz >"$w/pass"
i=0
for opts in "--type luks1 --pbkdf-force-iterations 1000 -c aes-xts-plain64 -s 256" \
    "--type luks1 --pbkdf-force-iterations 1000 -c aes-cbc-essiv:sha256 -s 128 --hash sha1" \
    "--type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000" \
    "--type luks2 --pbkdf argon2id --pbkdf-force-iterations 4 --pbkdf-memory 32 --pbkdf-parallel 1 --sector-size 4096"; do
    truncate -s 20M "$w/v"
    # shellcheck disable=SC2086
    cryptsetup luksFormat -q --key-file "$w/pass" $opts "$w/v" 2>/dev/null || continue
    head -c 65536 "$w/v" >"$c/seed$i"
    rm -f "$w/v"
    i=$((i + 1))
done
