#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A campaign outside make check (it builds its own ThreadSanitizer tree,
# build-tsan/, a minute or more on 2 cores): gmount built with
# -fsanitize=thread serves 8 parallel readers (sha256sum of four 48 MiB
# files, tar of four subtrees) of an ext4 image; their results must equal
# the source tree's, and the daemon's stderr must hold no ThreadSanitizer
# report.  Run as root from the top of the tree: tests/gmount-tsan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "gmount-tsan: needs root" >&2; exit 1; }
make -s -j2 B=build-tsan CC=gcc CFLAGS="-O1 -g -fsanitize=thread" build-tsan/bin/gmount build-tsan/bin/gumount
W=$(mktemp -d)
M=$W/m
cleanup() { fusermount3 -u -z "$M" 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
mkdir -p "$W/src" "$M"
python3 - "$W/src" <<'PY'
import os, random, sys
r = random.Random(1414)
for i in range(1, 5):
    with open(f"{sys.argv[1]}/big{i}", "wb") as f:
        f.write(r.randbytes(48 << 20))
    os.makedirs(f"{sys.argv[1]}/sub{i}")
    for j in range(300):
        with open(f"{sys.argv[1]}/sub{i}/f{j}", "wb") as f:
            f.write(r.randbytes(r.randrange(0, 30000)))
PY
mke2fs -q -F -t ext4 -d "$W/src" "$W/img" 512M
TSAN_OPTIONS="halt_on_error=0 report_signal_unsafe=0" \
    build-tsan/bin/gmount --no-fork -v -a "$W/img" -m /dev/sda "$M" 2>"$W/log" &
pid=$!
for _ in $(seq 300); do grep -q " $M " /proc/self/mountinfo && break; sleep 0.1; done
for i in 1 2 3 4; do
    (timeout 600 sha256sum <"$M/big$i" >"$W/sum$i") &
    (timeout 600 tar --sort=name -cf - -C "$M" "sub$i" | sha256sum >"$W/tar$i") &
done
wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
build-tsan/bin/gumount "$M"
wait "$pid" || true
bad=0
for i in 1 2 3 4; do
    cmp -s "$W/sum$i" <(sha256sum <"$W/src/big$i") || { echo "big$i differs"; bad=1; }
    cmp -s "$W/tar$i" <(tar --sort=name -cf - -C "$W/src" "sub$i" | sha256sum) || { echo "sub$i differs"; bad=1; }
done
n=$(grep -c "WARNING: ThreadSanitizer" "$W/log" || true)
echo "gmount-tsan: sessions: $(grep -c 'session .* opened' "$W/log" || true) extra; ThreadSanitizer reports: $n"
[ "$n" = 0 ] || { grep -A 30 "WARNING: ThreadSanitizer" "$W/log" | head -80; bad=1; }
[ "$bad" = 0 ] && echo "gmount-tsan: ok"
exit $bad
