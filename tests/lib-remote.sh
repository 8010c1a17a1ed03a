# SPDX-License-Identifier: GPL-2.0-or-later
# Servers for the remote-image tests (tests/5[2-4]-*.t), sourced after
# tests/lib.sh: each is started in the background on loopback, its pid
# recorded, and every one is killed when the test ends (trap EXIT).
#
#   free_port                 a free TCP port on 127.0.0.1
#   serve_bg PIDVAR CMD...    start CMD, remember its pid for the cleanup
#   wait_socket PATH          wait (bounded) for a Unix socket to appear
#   wait_port PORT            wait (bounded) for a TCP port to accept
#   stop PID                  SIGTERM, then wait (bounded) until it is gone

_remote_pids=()
_remote_cleanup() {
    local p
    for p in "${_remote_pids[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${_remote_pids[@]}"; do
        # at most 5 s each, then for good
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap _remote_cleanup EXIT

# (bash's /dev/tcp, no python: a python start costs seconds on a loaded
# machine)
free_port() {
    local p
    for _ in $(seq 100); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
    done
    return 1
}

serve_bg() { # PIDVAR CMD...
    local var=$1; shift
    "$@" &
    local pid=$!
    disown "$pid" # no "Killed" notices from bash; waited for by kill -0
    _remote_pids+=("$pid")
    printf -v "$var" '%s' "$pid"
}

# remember a pid started otherwise (a daemon's pid file)
serve_pid() { _remote_pids+=("$1"); }

stop() {
    kill "$1" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$1" 2>/dev/null
    return 1
}

wait_socket() {
    for _ in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.1; done
    echo "no socket $1" >&2
    return 1
}

wait_port() {
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on port $1" >&2
    return 1
}
