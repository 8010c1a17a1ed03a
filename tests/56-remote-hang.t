#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A server that stops answering in the middle of a read is an error after
# GUESTKIT_NET_TIMEOUT seconds, never a hang (bounded): an NBD server
# (nbdkit sh plugin) that stops itself (SIGSTOP) at the first read past
# 3 MiB, and an HTTP server that stops answering there.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-remote.sh"
command -v nbdkit >/dev/null || skip_all "nbdkit not installed (make deps)"
R=$(fixture remote) || exit 1
export GUESTKIT_NET_TIMEOUT=2

cat >"$T/stopping.sh" <<'EOF'
#!/bin/bash
case $1 in
    get_size) stat -c %s "$IMG" ;;
    pread)
        if [ "$4" -ge $((3 << 20)) ]; then kill -STOP "$(cat "$PIDF")"; fi
        dd if="$IMG" iflag=skip_bytes,count_bytes skip="$4" count="$3" status=none ;;
    thread_model) echo serialize_all_requests ;;
    open) echo h ;;
    can_write) exit 3 ;;
    close|can_flush|can_trim|can_zero) exit 0 ;;
    *) exit 2 ;;
esac
EOF
chmod +x "$T/stopping.sh"
IMG="$R/solo.qcow2" PIDF="$T/stopping.pid" serve_bg p nbdkit -f -U "$T/s.sock" -P "$T/stopping.pid" sh "$T/stopping.sh"
wait_socket "$T/s.sock" || exit 1
fails_cleanly "NBD: a server that stops answering mid-read: an error after the timeout" \
    gcat -a "nbd+unix:///?socket=$T/s.sock" -m /dev/sda /data/noise.bin
grep -q 'did not answer in 2 s' "$T/fc.err"
ok "  ... saying so: $(grep -m1 'did not answer' "$T/fc.err" | head -c 200)" test $? = 0
kill -9 "$(cat "$T/stopping.pid")" 2>/dev/null

port=$(free_port)
cat >"$T/hang.py" <<'EOF'
import http.server, os, re, sys, time
data = open(sys.argv[1], "rb").read()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        a, b = map(int, re.match(r"bytes=(\d+)-(\d+)", self.headers["Range"]).groups())
        if a >= 3 << 20:
            time.sleep(3600)
        body = data[a:b + 1]
        self.send_response(206)
        self.send_header("Content-Range", "bytes %d-%d/%d" % (a, a + len(body) - 1, len(data)))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[2])), H).serve_forever()
EOF
serve_bg p python3 "$T/hang.py" "$R/solo.qcow2" "$port"
wait_port "$port" || exit 1
fails_cleanly "HTTP: a server that stops answering mid-read: an error after the timeout" \
    gcat -a "http://127.0.0.1:$port/solo.qcow2" -m /dev/sda /data/noise.bin
grep -qi 'timeout\|timed out\|too slow' "$T/fc.err"
ok "  ... saying so: $(grep -m1 -i 'timeout\|timed out\|too slow' "$T/fc.err" | head -c 200)" test $? = 0
done_testing
