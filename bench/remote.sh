#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gcat of one file from a qcow2 chain served over loopback HTTP (nginx)
# and NBD (nbdkit, TCP), against downloading the whole chain with curl in
# the same run: wall time (best of $BENCH_RUNS, default 5) and bytes
# transferred (gcat -v's count; curl's size_download).  The chain is
# test-images/remote.sh's at a larger size (REMOTE_DISK_MIB=256,
# REMOTE_NOISE_MIB=192: a 256 MiB ext4 with 192 MiB of noise in the base,
# a few changed clusters on top), built once in bench/out/remote/.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BD=${GK_BENCH_DIR:-$PWD/bench/out}
RUNS=${BENCH_RUNS:-5}
for p in nginx nbdkit curl; do
    command -v $p >/dev/null || [ -x /usr/sbin/$p ] || { echo "needs $p (make deps)" >&2; exit 1; }
done
export REMOTE_DISK_MIB=${REMOTE_DISK_MIB:-256} REMOTE_NOISE_MIB=${REMOTE_NOISE_MIB:-192}
if [ ! -e "$BD/remote/.done" ]; then
    mkdir -p "$BD/remote"
    test-images/remote.sh "$BD/remote" >"$BD/remote.log" 2>&1
    touch "$BD/remote/.done"
fi
R=$BD/remote
W=$(mktemp -d)
chmod 755 "$W"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$W"
}
trap cleanup EXIT
port() {
    local p
    for _ in $(seq 100); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}
listening() {
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done
    echo "nothing on port $1" >&2
    exit 1
}
hp=$(port)
cat >"$W/nginx.conf" <<EOF
daemon on;
user $(id -un);
pid $W/nginx.pid;
error_log $W/error.log;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $W; proxy_temp_path $W; fastcgi_temp_path $W; uwsgi_temp_path $W; scgi_temp_path $W;
    server { listen 127.0.0.1:$hp; root $R; }
}
EOF
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
"$NGINX" -p "$W" -c "$W/nginx.conf" -e "$W/error.log"
pids+=("$(cat "$W/nginx.pid")")
np=$(port)
nbdkit -f -i 127.0.0.1 -p "$np" file dir="$R" --readonly &
pids+=($!)
listening "$hp"
listening "$np"

want=$(cat "$R/v2/etc/hostname")
whole=$(($(stat -c %s "$R/top.qcow2") + $(stat -c %s "$R/base.qcow2")))
# best wall time of RUNS runs of "$@" (stdout to $W/out, stderr to $W/err)
best() {
    local b= t
    for _ in $(seq "$RUNS"); do
        local s=$(date +%s.%N)
        "$@" >"$W/out" 2>"$W/err"
        t=$(echo "$(date +%s.%N) - $s" | bc)
        if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
    done
    printf '%.3f' "$b"
}
t_http=$(best "$GK_BIN/gcat" -v -a "http://127.0.0.1:$hp/top.qcow2" -m /dev/sda /etc/hostname)
[ "$(cat "$W/out")" = "$want" ] || { echo "gcat over HTTP printed the wrong content" >&2; exit 1; }
b_http=$(grep -o 'http: [0-9]* bytes fetched' "$W/err" | awk '{print $2}')
r_http=$(grep -o 'in [0-9]* requests over [0-9]* connections' "$W/err")
t_nbd=$(best "$GK_BIN/gcat" -v -a "nbd://127.0.0.1:$np/top.qcow2" -m /dev/sda /etc/hostname)
[ "$(cat "$W/out")" = "$want" ] || { echo "gcat over NBD printed the wrong content" >&2; exit 1; }
b_nbd=$(grep -o 'nbd: [0-9]* bytes read' "$W/err" | awk '{print $2}')
t_local=$(best "$GK_BIN/gcat" -a "$R/top.qcow2" -m /dev/sda /etc/hostname)
t_curl=$(best curl -s -w '%{size_download}\n' -o /dev/null "http://127.0.0.1:$hp/top.qcow2" \
    -o /dev/null "http://127.0.0.1:$hp/base.qcow2")
b_curl=$(awk '{s += $1} END {printf "%d", s}' "$W/out")
[ "$b_curl" = "$whole" ] || { echo "curl fetched $b_curl bytes, not $whole" >&2; exit 1; }

ratio() { echo "scale=4; $1 / $2" | bc | sed 's/^\./0./'; }
echo "# bench/remote.sh: $(date -u '+%F %H:%M') UTC, commit $(commit), load $(loadavg)"
echo "# chain: top.qcow2 $(stat -c %s "$R/top.qcow2") + base.qcow2 $(stat -c %s "$R/base.qcow2") bytes ($REMOTE_DISK_MIB MiB ext4); best of $RUNS"
printf '| %-34s | %8s | %12s | %10s | %10s |\n' what "wall s" bytes "time/curl" "bytes/curl"
printf '|%s|%s|%s|%s|%s|\n' ------------------------------------ ---------: -------------: -----------: -----------:
printf '| %-34s | %8s | %12s | %10s | %10s |\n' "curl of the whole chain (HTTP)" "$t_curl" "$b_curl" 1 1
printf '| %-34s | %8s | %12s | %10s | %10s |\n' "gcat /etc/hostname over HTTP" "$t_http" "$b_http" \
    "$(ratio "$t_http" "$t_curl")" "$(ratio "$b_http" "$b_curl")"
printf '| %-34s | %8s | %12s | %10s | %10s |\n' "gcat /etc/hostname over NBD" "$t_nbd" "$b_nbd" \
    "$(ratio "$t_nbd" "$t_curl")" "$(ratio "$b_nbd" "$b_curl")"
printf '| %-34s | %8s | %12s | %10s | %10s |\n' "gcat /etc/hostname, local file" "$t_local" "-" \
    "$(ratio "$t_local" "$t_curl")" -
echo "# HTTP: $r_http"
