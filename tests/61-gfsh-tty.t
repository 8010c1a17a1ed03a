#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gfsh on a real terminal (tmux): the prompt, tab completion of command
# names and guest paths, errors that do not end the session, Ctrl-C during
# a long cat, and readline history that survives a restart.
. "$(dirname "$0")/lib.sh"

G=$GK_BIN/gfsh
[ -x "$G" ] || skip_all "needs $G"
command -v tmux >/dev/null || skip_all "needs tmux"
if ! dir=$(fixture gfsh); then
    echo "not ok 1 - fixture gfsh"; echo "1..1"; exit 1
fi
cd "$dir"
S=gfsh-test-$$
export HOME=$T/home
mkdir -p "$HOME"
trap 'tmux -L "$S" kill-server 2>/dev/null; rm -rf "$T"' EXIT

start() { # start gfsh in a fresh 120x40 session
    tmux -L "$S" kill-server 2>/dev/null
    for _ in $(seq 50); do tmux -L "$S" ls >/dev/null 2>&1 || break; sleep 0.1; done
    for _ in 1 2 3; do
        tmux -L "$S" -f /dev/null new-session -d -x 120 -y 40 -c "$dir" \
            "env HOME='$HOME' TERM=screen INPUTRC=/dev/null '$G' -a disk.img -i; sleep 30" && return
        sleep 0.5
    done
}
keys() { tmux -L "$S" send-keys "$@"; }
screen() { tmux -L "$S" capture-pane -p 2>/dev/null; }
# wait_for REGEX: poll the screen for up to 30 s (a loaded machine can take
# seconds to start gfsh; the polls end as soon as the screen shows it)
wait_for() {
    for _ in $(seq 300); do
        screen | grep -qE -- "$1" && return 0
        sleep 0.1
    done
    return 1
}
check() { # DESC REGEX
    if wait_for "$2"; then
        _tap_result 0 "$1"
    else
        _tap_result 1 "$1"
        diag "screen:" "$(screen | grep -v '^$' | tail -n 8)"
    fi
}
# the line being edited at the prompt (the last prompt line)
prompt_line() { screen | grep '^><gfsh> ' | tail -n 1; }
check_line() { # DESC EXPECTED
    local got=""
    for _ in $(seq 300); do
        got=$(prompt_line)
        [ "$got" = "$2" ] && break
        sleep 0.1
    done
    is "$got" "$2" "$1"
}
clear_screen() { keys C-u; keys -R; tmux -L "$S" clear-history; keys C-l; sleep 0.2; }

start
check "the prompt" '^><gfsh>$'
check "-i says what it mounted, like guestfish" '^/dev/sda1 mounted on /boot$'

# (capture-pane drops trailing blanks: a typed '#' shows what Tab appended)
keys 'cat /etc/hostn' Tab '#'
check_line "Tab completes a guest path" "><gfsh> cat /etc/hostname #"
keys BSpace Enter
check "  ... which runs" "^$(cat root/etc/hostname)\$"

clear_screen
keys 'ls /da' Tab '#'
check_line "a directory completes with its / and no space" "><gfsh> ls /data/#"
keys C-u
keys 'cat /data/a' Tab Tab
check "Tab Tab lists the candidates" '/data/a1\.txt +/data/a2\.txt'
keys C-u

clear_screen
keys 'list-fi' Tab '#'
check_line "Tab completes a command name" "><gfsh> list-filesystems #"
keys C-u 'inspect-get-ho' Tab '#'
check_line "  ... a long one" "><gfsh> inspect-get-hostname #"
keys C-u 'cat /links/datad' Tab '#'
check_line "a symlink to a directory completes like a directory" "><gfsh> cat /links/datadir/#"
keys C-u 'time list-dev' Tab '#'
check_line "the word after time is a command" "><gfsh> time list-devices #"
keys C-u 'download /etc/hostname disk.q' Tab '#'
check_line "a word not starting with / completes a host file name" "><gfsh> download /etc/hostname disk.qcow2 #"
keys C-u

clear_screen
keys 'echo discarded'
sleep 0.3
keys C-c
keys 'echo kept' Enter
check "Ctrl-C at the prompt discards the line" '^kept$'
if screen | grep -q '^discarded'; then _tap_result 1 "  ... which does not run"; else _tap_result 0 "  ... which does not run"; fi

clear_screen
keys 'cat /nonexistent' Enter
check "an error is reported" '^gfsh: cat: /nonexistent: No such file or directory'
keys 'echo still alive' Enter
check "  ... and the session goes on" '^still alive$'

clear_screen
# Ctrl-C once cat is copying: gfsh clears its interrupt flag when a command
# starts, so a ^C that comes before (a loaded machine can take seconds to
# get there) would be lost.  Wait until the pane's processes have written
# 1 MiB more (/proc/PID/io), then press it.  (16 GiB through the terminal
# takes far longer than any of this.)
wrote() { # bytes written so far by the processes of the pane's session
    local s=0 p w
    for p in $(ps -o pid= -s "$(tmux -L "$S" display -p '#{pane_pid}')"); do
        w=$(awk '$1 == "wchar:" { print $2 }' "/proc/$p/io" 2>/dev/null)
        s=$((s + ${w:-0}))
    done
    echo "$s"
}
w0=$(wrote)
keys 'cat /var/big.sparse' Enter
for _ in $(seq 300); do [ "$(wrote)" -gt $((w0 + 1048576)) ] && break; sleep 0.1; done
keys C-c
check "Ctrl-C stops cat of a 16 GiB file" 'gfsh: cat: interrupted'
keys 'echo back at the prompt' Enter
check "  ... and returns to the prompt" '^back at the prompt$'

keys 'quit' Enter
for _ in $(seq 50); do [ -s "$HOME/.gfsh_history" ] && break; sleep 0.1; done
is "$(tail -n 3 "$HOME/.gfsh_history")" "$(printf 'cat /var/big.sparse\necho back at the prompt\nquit')" \
    "history saved in ~/.gfsh_history at quit"

start
check "restarted" '^><gfsh>$'
keys Up Up
check_line "history survives a restart (Up Up)" "><gfsh> echo back at the prompt"
keys Enter
check "  ... and the recalled line runs" '^back at the prompt$'
keys C-d
for _ in $(seq 50); do [ "$(tail -n 1 "$HOME/.gfsh_history")" = "echo back at the prompt" ] && break; sleep 0.1; done
is "$(tail -n 1 "$HOME/.gfsh_history")" "echo back at the prompt" "history saved at end of input (Ctrl-D)"

done_testing
