#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Seeds for the gfsh_parse fuzz target: lines in every syntax gfsh knows.
set -eu
c=${1:?usage: seeds-gfsh_parse.sh CORPUS}
i=0
while IFS= read -r line; do
    i=$((i + 1))
    printf '%s' "$line" >"$c/line$i"
done <<'LINES'
cat /etc/hostname
  -cat "/etc/host\x41\101\t\\\"" 'single \t'
echo ~ ~root/x "~"
cat /etc/passwd | grep root
!echo host
<! printf 'echo x\n'
# comment
grep a /x extended:true insensitive:false
echo "unterminated
LINES
