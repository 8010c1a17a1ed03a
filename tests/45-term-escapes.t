#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Guest names reach a terminal quoted, as GNU ls -b quotes them (\033, \n,
# \\, \377), and a pipe raw, as virt-ls gives them: gls (plain, -l, -R,
# -lR, --csv), gfilesystems' labels, gfsh's ls, ll, find and its error
# messages.  The terminal is a pty from script(1); the oracle is GNU ls -b
# (terminal) and ls -A (pipe) on the same tree, in the same locale.
. "$(dirname "$0")/lib.sh"
command -v script >/dev/null || skip_all "script(1) not installed"
# script(1) runs its command with $SHELL -c; the commands below use bash
# quoting ($'...' from printf %q, <<<), and CI runs with SHELL=/bin/sh.
export SHELL=$BASH
export LC_ALL=C.UTF-8
locale -a 2>/dev/null | grep -qi '^c\.utf-\?8$' || skip_all "no C.UTF-8 locale"

R=$T/tree
mkdir -p "$R/d"
for n in $'evil\033]2;pwned\007' $'tab\tname' 'back\slash' $'utf8-\xc3\xa9' $'bad-\xff' $'nl\nname' plain; do
    echo x >"$R/d/$n"
done
ln -s $'/target\033[31mred' "$R/d/link"
mke2fs -q -F -t ext4 -L $'lab\033[1m' -d "$R" "$T/disk.img" 8M 2>/dev/null >/dev/null
IMG=$T/disk.img

# tty CMD...: run CMD with its stdout on a pseudo-terminal, output without \r
tty() { script -qec "$(printf '%q ' "$@")" /dev/null </dev/null | tr -d '\r'; }
esc=$'\033'

is "$(tty gls -a "$IMG" -m /dev/sda /d)" "$(cd "$R/d" && tty ls -b -1 -A)" \
   "gls on a terminal: names quoted as ls -b quotes them"
gls -a "$IMG" -m /dev/sda /d >"$T/pipe.out"
(cd "$R/d" && ls -A) >"$T/ls.out"
same_file "$T/pipe.out" "$T/ls.out" "gls to a pipe: the guest's bytes raw, as ls -A writes them"
for mode in -l -R -lR "-lR --csv"; do
    # shellcheck disable=SC2086
    out=$(tty gls $mode -a "$IMG" -m /dev/sda /d)
    is "$(printf '%s' "$out" | grep -c "$esc")" 0 "gls $mode on a terminal: no ESC byte"
    # shellcheck disable=SC2086
    ok "gls $mode to a pipe: the raw ESC byte is there" bash -c "gls $mode -a '$IMG' -m /dev/sda /d | grep -q \$'\\033'"
done
is "$(tty gls -l -a "$IMG" -m /dev/sda /d | sed -n 's/.* link -> //p')" '/target\033[31mred' \
   "gls -l on a terminal: the link target quoted too"
is "$(tty gls -R -a "$IMG" -m /dev/sda /d | grep -c '^/nl\\nname$')" 1 \
   "gls -R on a terminal: a newline in a name is \\n, one line per file"

is "$(tty gfilesystems -a "$IMG" -l --no-title | awk '{print $4}')" 'lab\033[1m' \
   "gfilesystems -l on a terminal: the label quoted"
is "$(gfilesystems -a "$IMG" --csv -l --no-title | cut -d, -f4)" "$(blkid -o value -s LABEL "$IMG")" \
   "gfilesystems --csv to a pipe: the label as blkid gives it"

G=(gfsh -a "$IMG" -m /dev/sda)
is "$(tty "${G[@]}" ls /d)" "$(cd "$R/d" && tty ls -b -1 -A)" "gfsh ls on a terminal: as ls -b"
"${G[@]}" ls /d >"$T/gls.out"
same_file "$T/gls.out" "$T/ls.out" "gfsh ls to a pipe: raw"
is "$(tty "${G[@]}" ll /d | grep -c "$esc")" 0 "gfsh ll on a terminal: no ESC byte"
is "$(tty "${G[@]}" ll /d | sed -n 's/.* link -> //p')" '/target\033[31mred' "gfsh ll: link target quoted"
is "$(tty "${G[@]}" find /d | grep -c "$esc")" 0 "gfsh find on a terminal: no ESC byte"
is "$(tty "${G[@]}" find /d | grep -c '^/evil\\033\]2;pwned\\a$')" 1 "gfsh find on a terminal: quoted as ls -b"
ok "gfsh find to a pipe: raw" bash -c "'${G[0]}' -a '$IMG' -m /dev/sda find /d | grep -q \$'\\033'"
ok "gfsh find ... | host command: raw (the pipe is not a terminal)" \
   bash -c "script -qec \"gfsh -a '$IMG' -m /dev/sda <<< 'find /d | od -c'\" /dev/null | grep -q ' 033 '"
# errors quote guest paths: stderr on the terminal too
is "$(tty gfsh -a "$IMG" -m /dev/sda cat $'/d/evil\033]2;pwned\007/x')" \
   'gfsh: cat: /d/evil\033]2;pwned\a/x: Not a directory' "gfsh's error naming a guest path: quoted on a terminal"
is "$(tty gcat -a "$IMG" -m /dev/sda $'/d/evil\033]2;pwned\007/x')" \
   'gcat: /d/evil\033]2;pwned\a/x: Not a directory' "gcat's error naming a guest path: quoted on a terminal"
is "$(tty gls -a "$IMG" -m /dev/sda $'/d/evil\033]2;pwned\007/x')" \
   'gls: /d/evil\033]2;pwned\a/x: Not a directory' "gls's error naming a guest path: quoted on a terminal"
# a warning about a guest name (an fstab entry that cannot be mounted)
mkdir -p "$T/w/etc" "$T/w/bin"
printf '/dev/sda / ext4 defaults 0 1\n/dev/sdz9 /mnt/\033[2Jx ext4 defaults 0 2\n' >"$T/w/etc/fstab"
echo "127.0.0.1 localhost" >"$T/w/etc/hosts"
mkdir -p "$T/w/mnt/"$'\033[2Jx'
mke2fs -q -F -t ext4 -d "$T/w" "$T/w.img" 8M >/dev/null 2>&1
out=$(tty gls -a "$T/w.img" /etc)
is "$(printf '%s' "$out" | grep -c "$esc")" 0 "a library warning naming a guest path: no ESC byte on a terminal"
is "$(printf '%s' "$out" | grep -c 'warning: /mnt/\\033\[2Jx: ')" 1 "... quoted as ls -b"

done_testing
