#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ext3/ext4 images whose journal needs recovery, written with debugfs's
# journal writer (jo / jw / jc), so that reading them without replay gives
# stale data.  Usage: ext-journal.sh OUTDIR
#
# For each image NAME.img the script also leaves:
#   NAME.replayed.img  the same image replayed by e2fsck -E journal_only (the oracle)
# and ext4-wrap.img / ext3-wrap.img (+ .replayed.img): the same journals moved
# so that the log wraps round the end of the circular journal.
#
# Transactions written into every image (file.txt spans 4 blocks B0..B3):
#   T1: B0, B1 <- "A" data; (ext images without metadata_csum) the block of /dir
#       with entry f1 renamed to g1
#   T2: B1 <- "B" data (a later copy wins), B2 <- a block starting with the
#       JBD2 magic (stored escaped), B3 <- "C" data
#   T3: (ext4, ext3) revokes B3 (T2's copy must not be replayed), B0 <- "D" data
#   T3: (ext4-csum) B1 <- "E" data, NOT committed (must not be replayed)
# (debugfs 1.47.0 does not account for the revoke block, so a transaction
# written after a revoking one overwrites its commit block: hence one or the
# other per image.)
set -euo pipefail
out=${1:?usage: ext-journal.sh OUTDIR}
mkdir -p "$out"
cd "$out"
export SOURCE_DATE_EPOCH=1700000000 E2FSPROGS_FAKE_TIME=1700000000
uuid=11111111-2222-3333-4444-555555555555

rm -rf src && mkdir -p src/dir
seq 1 3000 > src/file.txt            # 13893 bytes
for i in $(seq 1 20); do echo "entry $i" > "src/dir/f$i"; done
touch -d @1700000000 src/file.txt src/dir/* src/dir src

fill() { # CHAR BYTES -> stdout
    head -c "$2" /dev/zero | tr '\0' "$1"
}

make_one() { # NAME BLOCKSIZE JO_FLAGS revoke|uncommitted MKFS_ARGS...
    local name=$1 bs=$2 joflags=$3 last=$4
    shift 4
    local img=$name.img
    rm -f "$img" "$name".replayed.img
    truncate -s 16M "$img"
    mke2fs -q -F -b "$bs" -U "$uuid" -E hash_seed=$uuid "$@" -d src "$img"
    local blocks dirblk
    read -r -a blocks <<<"$(debugfs -R 'blocks /file.txt' "$img" 2>/dev/null)"
    dirblk=$(debugfs -R 'blocks /dir' "$img" 2>/dev/null | awk '{print $1}')
    [ "${#blocks[@]}" -ge 4 ] || { echo "unexpected block list: ${blocks[*]}" >&2; exit 1; }
    local b0=${blocks[0]} b1=${blocks[1]} b2=${blocks[2]} b3=${blocks[3]}

    fill A $((2 * bs)) > t1.bin
    local t1list=$b0,$b1
    if [ "$name" != ext4-csum ]; then
        # the directory block with "f1" renamed "g1" (same length, same slot)
        dd if="$img" bs="$bs" skip="$dirblk" count=1 status=none > dir.bin
        python3 - dir.bin <<'EOF'
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
off = 0
while off + 8 <= len(b):
    ino, rec, nl, ft = struct.unpack_from('<IHBB', b, off)
    if rec < 8:
        break
    if ino and b[off + 8:off + 8 + nl] == b'f1':
        b[off + 8] = ord('g')
        break
    off += rec
open(p, 'wb').write(b)
EOF
        cat dir.bin >> t1.bin
        t1list=$t1list,$dirblk
    fi
    fill B "$bs" > t2.bin
    { printf '\xc0\x3b\x39\x98'; fill M $((bs - 4)); } >> t2.bin
    fill C "$bs" >> t2.bin
    fill D "$bs" > t3.bin
    fill E "$bs" > t4.bin
    cat > cmds <<EOF
jo $joflags
jw -b $t1list t1.bin
jw -b $b1,$b2,$b3 t2.bin
EOF
    if [ "$last" = revoke ]; then
        echo "jw -b $b0 -r $b3 t3.bin" >> cmds
    else
        echo "jw -b $b1 -c t4.bin" >> cmds
    fi
    echo jc >> cmds
    debugfs -w -f cmds "$img" >/dev/null 2>&1
    dumpe2fs -h "$img" 2>/dev/null | grep -q needs_recovery ||
        { echo "$img: needs_recovery not set" >&2; exit 1; }
    cp "$img" "$name".replayed.img
    e2fsck -E journal_only -y "$name".replayed.img >/dev/null 2>&1 || true
    if dumpe2fs -h "$name".replayed.img 2>/dev/null | grep -q needs_recovery; then
        echo "$name.replayed.img: e2fsck did not replay" >&2
        exit 1
    fi
    rm -f t1.bin t2.bin t3.bin t4.bin dir.bin cmds
}

# NAME-wrap.img: the same log moved so that it wraps round the end of the
# circular journal (debugfs always starts writing at the log's first block).
make_wrap() { # NAME
    local name=$1
    cp "$name.img" "$name-wrap.img"
    debugfs -R "stat <8>" "$name-wrap.img" 2>/dev/null >jstat
    python3 - "$name-wrap.img" jstat <<'EOF2'
import re, struct, sys
img, jstat = sys.argv[1], open(sys.argv[2]).read()
body = jstat.split('BLOCKS:')[-1] if 'BLOCKS:' in jstat else jstat.split('EXTENTS:')[-1]
pmap = {}
for m in re.finditer(r'\((\d+)(?:-(\d+))?\):(\d+)(?:-(\d+))?', body):
    a, b, p = int(m.group(1)), int(m.group(2) or m.group(1)), int(m.group(3))
    for k in range(b - a + 1):
        pmap[a + k] = p + k
f = open(img, 'r+b')
f.seek(1024 + 24)
bs = 1024 << struct.unpack('<I', f.read(4))[0]
def rd(j):
    f.seek(pmap[j] * bs)
    return f.read(bs)
def wr(j, d):
    f.seek(pmap[j] * bs)
    f.write(d)
sb = bytearray(rd(0))
maxlen, first, seq, start = struct.unpack_from('>IIII', sb, 16)
n = maxlen - first
ring = [rd(first + i) for i in range(n)]
shift = n - 7                     # the log's 8th block lands on the ring's first
for i in range(n):
    wr(first + (i + shift) % n, ring[i])
struct.pack_into('>I', sb, 28, first + (start - first + shift) % n)
wr(0, bytes(sb))
f.close()
EOF2
    rm -f jstat
    cp "$name-wrap.img" "$name-wrap.replayed.img"
    e2fsck -E journal_only -y "$name-wrap.replayed.img" >/dev/null 2>&1 || true
}

make_one ext4 4096 "" revoke -t ext4 -O ^metadata_csum
make_one ext3 1024 "" revoke -t ext3
make_one ext4-csum 4096 "-c -v 3" uncommitted -t ext4 -O metadata_csum,64bit
make_wrap ext4
make_wrap ext3
rm -rf src
