#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Seeds for the btrfs fuzz target: small mkfs.btrfs --rootdir images in
# its sparse form (u64 device size, then (u64 offset, u16 length, bytes)
# for every run of non-zero bytes; zero runs of 32 bytes or more dropped).
set -eu
c=${1:?usage: seeds-btrfs.sh CORPUS}
command -v mkfs.btrfs >/dev/null || exit 0
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
mkdir -p "$w/src/dir/sub"
echo hello >"$w/src/hello.txt"
seq 1 3000 >"$w/src/dir/numbers"
head -c 9000 /dev/zero | tr '\0' 'z' >"$w/src/dir/sub/zzz"
ln -s hello.txt "$w/src/link"
ln "$w/src/hello.txt" "$w/src/hard"
python3 -c 'import os,sys; os.setxattr(sys.argv[1], "user.x", b"value")' "$w/src/hello.txt" 2>/dev/null || true
python3 - "$w/src/sparse" <<'EOF'
import sys
with open(sys.argv[1], 'wb') as f:
    f.write(b'a' * 100); f.seek(1 << 20); f.write(b'b' * 100)
EOF
i=0
for opts in "-m single -d single --nodesize 4096" "-m dup --nodesize 4096" \
    "-m single --nodesize 4096 --csum xxhash" "-m single --nodesize 4096 --mixed"; do
    truncate -s 128M "$w/img"
    # shellcheck disable=SC2086
    mkfs.btrfs -q -f $opts --rootdir "$w/src" "$w/img" >/dev/null 2>&1 || { rm -f "$w/img"; continue; }
    python3 - "$w/img" "$c/seed$i" <<'EOF'
import re, struct, sys
src, dst = sys.argv[1], sys.argv[2]
data = open(src, 'rb').read()
out = [struct.pack('<Q', len(data))]
for m in re.finditer(rb'[^\x00](?:\x00{0,31}[^\x00])*', data):
    for i in range(m.start(), m.end(), 65000):
        j = min(m.end(), i + 65000)
        out.append(struct.pack('<QH', i, j - i) + data[i:j])
open(dst, 'wb').write(b''.join(out))
EOF
    i=$((i + 1))
    rm -f "$w/img"
done
