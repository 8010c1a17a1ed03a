#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# -a http://... (libcurl range requests): a local nginx on 127.0.0.1 (its
# own configuration in the test's directory, a free port) serving the
# remote fixture's qcow2 chain.  Oracles: the trees the ext4 was made of,
# qemu-img info of the same files, and nginx's access log (the bytes it
# sent and the connections it served, against what gcat -v reports).
# Bad servers (tests/http-bad.py): no range support, truncated bodies,
# the wrong range.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-remote.sh"
R=$(fixture remote) || exit 1

mkdir -p "$T/www/sub"
ln -s "$R"/top.qcow2 "$R"/base.qcow2 "$R"/top-raw.qcow2 "$R"/base.raw "$R"/solo.qcow2 "$T/www/"
cp "$R/top.qcow2" "$T/www/sub/up.qcow2"
qemu-img rebase -u -b ../base.qcow2 -F qcow2 "$T/www/sub/up.qcow2"
start_nginx "$T/www" "" "log_format bytes '\$connection \$status \$body_bytes_sent \$request_uri';
    access_log $T/ng/access.log bytes;" "disable_symlinks off;"
H="http://127.0.0.1:$port"

: >"$T/ng/access.log"
gcat -v -a "$H/top.qcow2" -m /dev/sda /etc/hostname >"$T/out" 2>"$T/err"
is "$(cat "$T/out")" "$(cat "$R/v2/etc/hostname")" "gcat over HTTP: a file of the chain's top layer"
stat=$(grep -o 'http: [0-9]* bytes fetched in [0-9]* requests over [0-9]* connections' "$T/err")
read -r _ bytes _ _ _ reqs _ _ conns _ <<<"$stat"
whole=$(($(stat -Lc %s "$R/top.qcow2") + $(stat -Lc %s "$R/base.qcow2")))
diag "$stat (the two images: $whole bytes)"
ok "-v reports the bytes fetched" test -n "$stat"
# nginx logs a request after sending its response, so the client may be
# done first: wait for as many lines as gcat made requests (10 s at most)
kill -USR1 "$(cat "$T/ng/nginx.pid")"
for _ in $(seq 100); do [ "$(wc -l <"$T/ng/access.log")" -ge "${reqs:-0}" ] && break; sleep 0.1; done
sent=$(awk '{s += $3} END {print s + 0}' "$T/ng/access.log")
nconn=$(awk '{print $1}' "$T/ng/access.log" | sort -u | wc -l)
is "$bytes" "$sent" "  the bytes reported are the bytes nginx sent"
is "$reqs $conns" "$(wc -l <"$T/ng/access.log") $nconn" "  requests and connections as nginx counted them"
ok "  a small fraction of the images (< 1/8: $bytes of $whole)" test $((bytes * 8)) -lt "$whole"
ok "  connections reused (two images, $conns connections, $reqs requests)" test "$conns" -le 2 -a "$reqs" -gt "$conns"

is "$(gcat -a "$H/top.qcow2" -m /dev/sda /data/noise.bin | md5sum)" "$(md5sum <"$R/v1/data/noise.bin")" \
    "6 MiB through the chain (more than the block cache holds)"
is "$(gls -a "$H/top.qcow2" -m /dev/sda /usr/share/doc/guest | sort)" \
    "$(ls -A "$R/v2/usr/share/doc/guest" | sort)" "gls over HTTP"
is "$(gcat -a "$H/top-raw.qcow2" -m /dev/sda /etc/motd)" "$(cat "$R/v2/etc/motd")" "a raw backing file over HTTP"
is "$(gcat --format=raw -a "$H/base.raw" -m /dev/sda /etc/hostname)" "$(cat "$R/v1/etc/hostname")" \
    "a raw image over HTTP, --format=raw"
for img in top.qcow2 solo.qcow2; do
    g=$(gimg info "$H/$img" | sed -e 's/^image: .*/image: X/' -e '/^disk size:/d' -e 's/ (actual path: .*)$//')
    q=$(cd "$R" && qemu-img info "$img" | sed -e 's/^image: .*/image: X/' -e '/^disk size:/d')
    is "$g" "$q" "gimg info over HTTP = qemu-img info of the file ($img; but name and disk size)"
done
is "$(gimg info "$H/top.qcow2" | grep -E '^(disk size|backing file):')" "disk size: unavailable
backing file: base.qcow2 (actual path: $H/base.qcow2)" "  the backing file is resolved against the URL"

gimg convert -O raw "$H/top.qcow2" "$T/conv.raw"
qemu-img convert -O raw "$R/top.qcow2" "$T/conv-q.raw"
same_file "$T/conv.raw" "$T/conv-q.raw" "gimg convert over HTTP = qemu-img convert of the file"
rm -f "$T/conv.raw" "$T/conv-q.raw"

# --untrusted
is "$(gcat --untrusted -a "$H/top.qcow2" -m /dev/sda /etc/hostname)" "$(cat "$R/v2/etc/hostname")" \
    "--untrusted: a backing file beside the image is read"
fails_cleanly "--untrusted: a backing file above the image's directory is refused" \
    gcat --untrusted -a "$H/sub/up.qcow2" -m /dev/sda /etc/hostname
grep -q 'not beside the image on its server' "$T/fc.err"
ok "  ... saying why" test $? = 0
is "$(gcat -a "$H/sub/up.qcow2" -m /dev/sda /etc/hostname)" "$(cat "$R/v2/etc/hostname")" \
    "trusted: ../base.qcow2 is read"

fails_cleanly "404: a clear error" gcat -a "$H/nosuch.qcow2" -m /dev/sda /x
grep -q 'HTTP status 404' "$T/fc.err"
ok "  ... naming the status" test $? = 0
fails_cleanly "--rw over HTTP is refused" gcat --rw -a "$H/top.qcow2" -m /dev/sda /etc/hostname
fails_cleanly "no server on the port" gcat -a "http://127.0.0.1:$(free_port)/x.qcow2" -m /dev/sda /x

# bad servers (one python process, the misbehaviour in the path)
bport=$(free_port)
serve_bg bp python3 "$TOP/tests/http-bad.py" "$R" "$bport"
wait_port "$bport" || exit 1
for mode in norange short wrong; do
    fails_cleanly "a server that answers $mode: refused clearly" \
        gcat -v -a "http://127.0.0.1:$bport/$mode/solo.qcow2" -m /dev/sda /x
    case $mode in
        norange) want='does not support range requests' ;;
        short) want='truncated response' ;;
        wrong) want='answered range' ;;
    esac
    grep -q "$want" "$T/fc.err"
    ok "  ... saying \"$want\"" test $? = 0
    if [ $mode = norange ]; then
        grep -q 'http: 0 bytes fetched' "$T/fc.err"
        ok "  ... without downloading the image" test $? = 0
    fi
done
done_testing
