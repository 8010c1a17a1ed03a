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
#   start_nginx ROOT [LISTEN] [HTTP] [SERVER]
#                             nginx serving ROOT on 127.0.0.1:$port (a free
#                             port, set here), its configuration, pid file
#                             and logs in $T/ng; LISTEN is appended to the
#                             listen line (ssl), HTTP and SERVER are lines of
#                             those blocks; skips the test if nginx is
#                             missing or does not start

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

start_nginx() { # ROOT [LISTEN] [HTTP-LINES] [SERVER-LINES]
    local nginx
    nginx=$(command -v nginx || echo /usr/sbin/nginx)
    [ -x "$nginx" ] || skip_all "nginx not installed (make deps)"
    mkdir -p "$T/ng"
    port=$(free_port) || skip_all "no free port"
    cat >"$T/ng/nginx.conf" <<EOF
daemon on;
user $(id -un);
pid $T/ng/nginx.pid;
error_log $T/ng/error.log;
worker_processes 1;
events { worker_connections 64; }
http {
    ${3:-access_log off;}
    client_body_temp_path $T/ng; proxy_temp_path $T/ng; fastcgi_temp_path $T/ng;
    uwsgi_temp_path $T/ng; scgi_temp_path $T/ng;
    server {
        listen 127.0.0.1:$port${2:+ $2};
        root $1;
        $4
    }
}
EOF
    "$nginx" -p "$T/ng" -c "$T/ng/nginx.conf" -e "$T/ng/error.log" || skip_all "nginx does not start here"
    serve_pid "$(cat "$T/ng/nginx.pid")"
    wait_port "$port" || exit 1
}
