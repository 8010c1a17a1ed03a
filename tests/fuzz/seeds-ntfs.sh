#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Seeds for the ntfs fuzz target: 2 MiB volumes made by mkntfs (files put
# in with ntfscp, no mount needed), encoded as the target's records (raw
# bytes, fills, ascending u16 runs; see tests/fuzz/ntfs.c).
set -eu
c=${1:?usage: seeds-ntfs.sh CORPUS}
command -v mkntfs >/dev/null || exit 0
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
encode() { # IMG OUT
    python3 - "$1" "$2" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()[:2 << 20]
out = bytearray()
w = len(b) // 2
words = struct.unpack('<%dH' % w, b[:2 * w])
i = 0
raw = None
def flush():
    global raw
    if raw is not None:
        start, data = raw
        for k in range(0, len(data), 60000):
            out.extend(struct.pack('<BIH', 0, start + k, len(data[k:k + 60000])) + data[k:k + 60000])
        raw = None
while i < w:
    j = i
    while j < w and words[j] == words[i]:
        j += 1
    if j - i >= 8 and (words[i] & 0xff) == (words[i] >> 8):
        flush()                         # a fill (zeros: nothing to write)
        if words[i]:
            out.extend(struct.pack('<BIIB', 1, 2 * i, 2 * (j - i), words[i] & 0xff))
        i = j
        continue
    j = i + 1
    while j < w and words[j] == (words[j - 1] + 1) & 0xffff:
        j += 1
    if j - i >= 8:
        flush()
        out.extend(struct.pack('<BIIH', 2, 2 * i, j - i, words[i]))
        i = j
        continue
    if raw is None or raw[0] + len(raw[1]) != 2 * i:
        flush()
        raw = (2 * i, bytearray())
    raw[1].extend(b[2 * i:2 * i + 2])
    i += 1
flush()
open(sys.argv[2], 'wb').write(out)
PY
}
i=0
for opts in "-c 512 -s 512" "-c 4096" "-c 1024 -s 512"; do
    rm -f "$w/img"
    truncate -s 2M "$w/img"
    mkntfs -F -f -q $opts "$w/img" >/dev/null 2>&1 || continue
    encode "$w/img" "$c/empty$i"
    seq 1 3000 >"$w/text"
    printf 'hello\n' >"$w/small"
    if command -v ntfscp >/dev/null; then
        ntfscp -f "$w/img" "$w/small" small.txt >/dev/null 2>&1 || true
        ntfscp -f "$w/img" "$w/text" "Long Name With Spaces.txt" >/dev/null 2>&1 || true
        encode "$w/img" "$c/files$i"
    fi
    i=$((i + 1))
done
