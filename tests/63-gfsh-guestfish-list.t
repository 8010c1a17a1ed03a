#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gfsh's command table against guestfish's: every command of `guestfish -h`
# (recorded once from guestfish 1.48.6 in tests/data/guestfish/commands.txt)
# is in gfsh (a name or an alias) or in tests/data/guestfish/not-in-gfsh.txt
# with the reason it is not.  The read-only commands still missing (the
# [later] groups of that list) are named in the diagnostics.
. "$(dirname "$0")/lib.sh"
G=$GK_BIN/gfsh
[ -x "$G" ] || skip_all "needs $G"
D=$TOP/tests/data/guestfish

# guestfish's names: the first column, without the header and footer
sed -e '/^#/d' -e '/^ /d' "$D/commands.txt" | awk '{print $1}' | LC_ALL=C sort -u >"$T/gf"
# gfsh's names and aliases, as its help lists them
"$G" help | sed -e '1d' -e '$d' | awk '{print $1}' | LC_ALL=C sort -u >"$T/gfsh"
# the list: group of each name
awk '/^#/ || /^$/ { next } /^\[/ { g = substr($1, 2, length($1) - 2); next }
     { for (i = 1; i <= NF; i++) print $i, g }' "$D/not-in-gfsh.txt" | LC_ALL=C sort >"$T/na"
cut -d' ' -f1 "$T/na" >"$T/na.names"

ok "guestfish's list was recorded ($(wc -l <"$T/gf") commands)" test "$(wc -l <"$T/gf")" -gt 500
is "$(LC_ALL=C comm -23 "$T/gf" "$T/gfsh" | LC_ALL=C comm -23 - "$T/na.names" | tr '\n' ' ')" "" \
   "every guestfish command is in gfsh or in not-in-gfsh.txt with a reason"
# the write commands land in their own time (issue 10): named, not failed
awk '$2 == "write" {print $1}' "$T/na" | LC_ALL=C sort >"$T/na.write"
is "$(LC_ALL=C comm -12 "$T/gfsh" "$T/na.names" | LC_ALL=C comm -23 - "$T/na.write" | tr '\n' ' ')" "" \
   "not-in-gfsh.txt names no read-only command gfsh has (remove what was implemented)"
w=$(LC_ALL=C comm -12 "$T/gfsh" "$T/na.write" | tr '\n' ' ')
[ -z "$w" ] || diag "write commands gfsh now has, to take off not-in-gfsh.txt: $w"
is "$(LC_ALL=C comm -13 "$T/gf" "$T/na.names" | tr '\n' ' ')" "" \
   "not-in-gfsh.txt names only guestfish commands"
is "$(uniq -d "$T/na.names" | tr '\n' ' ')" "" "not-in-gfsh.txt names each command once"
is "$(cut -d' ' -f2 "$T/na" | LC_ALL=C sort -u | tr '\n' ' ')" \
   "appliance deprecated fish later later-layer na write " "not-in-gfsh.txt: only the documented groups"
for g in later later-layer; do
    n=$(awk -v g="$g" '$2 == g' "$T/na" | wc -l)
    diag "read-only guestfish commands gfsh still lacks ([$g], $n): $(awk -v g="$g" '$2 == g {print $1}' "$T/na" | tr '\n' ' ')"
done
have=$(LC_ALL=C comm -12 "$T/gf" "$T/gfsh" | wc -l)
diag "gfsh has $have of guestfish's $(wc -l <"$T/gf") commands; $(wc -l <"$T/na") are listed as not applicable or later"
done_testing
