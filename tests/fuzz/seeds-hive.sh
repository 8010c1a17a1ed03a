#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Seeds for the hive fuzz target: small hives made by hivexregedit --merge
# from the .reg text of the phony Windows guests (test-images/).
set -eu
c=${1:?usage: seeds-hive.sh CORPUS}
command -v hivexregedit >/dev/null || exit 0
here=$(cd "$(dirname "$0")/../../test-images" && pwd)
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
python3 "$here/mkhive.py" "$c/empty"
python3 "$here/windows-reg.py" software win10 >"$w/sw.reg"
python3 "$here/windows-reg.py" system win11 C=gpt:11111111-2222-3333-4444-000000000003 \
    D=mbr:10101010:1048576 >"$w/sys.reg"
python3 "$here/mkhive.py" "$c/software"
hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SOFTWARE' "$c/software" "$w/sw.reg"
python3 "$here/mkhive.py" "$c/system"
hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' "$c/system" "$w/sys.reg"
