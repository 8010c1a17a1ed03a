#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Crash tests of the ext write side: a writer (gfsh running a script, or
# gcopy-in of a tree) is killed with SIGKILL part way, then the image must
# mount (the kernel replays the journal), e2fsck -fn must be clean, and
# tests/crash/check.py must find every file absent, complete, or (one file)
# a prefix of what was written -- never garbage.
#
#   run.sh WORKDIR WRITER FS ITERATIONS [SEED]
#     WRITER  gfsh | gcopy-in | gfsh-rm (rm of a file the image starts
#             with, large enough to be freed in several operations: it is
#             whole or gone after any kill, its name never left on a part)
#     FS      ext4 | ext3 | ext4-4k (mke2fs flavours, small journals so that
#             a run commits many transactions); ext4-frag (gfsh-rm only): a
#             1 KiB-block ext4 of 720 groups of 256 blocks whose /frag has
#             its 700 blocks in 700 groups (debugfs setb leaves one free
#             block per group while it writes the file), so that freeing it
#             writes more bitmaps than one transaction of its 1 MiB journal
#             holds: the run checks with dumpe2fs that several transactions
#             were committed (the journal's sequence); ext4-qcow2: the ext4 flavour
#             in a compressed qcow2 base under a qcow2 overlay that the
#             writer changes (qemu-img check may then find leaked clusters,
#             never errors; the base stays byte-identical; the chain is
#             read back through qemu-img convert); ext4-luks: the ext4
#             flavour in a LUKS1 file (cryptsetup's header with a fixed
#             volume key, the filesystem written in by qemu-img convert),
#             which the writer writes through the cipher (--key); it is
#             read back through qemu's decryption (qemu-img convert
#             --image-opts driver=luks), and its header must not change
#
# Kill points: an LD_PRELOAD shim (killafter.c) kills the writer just before
# its Nth write to the image; N is drawn at random over the whole run, and
# one run in four tears that write (half of it written); every fourth run
# draws N from the last 5% of the writes.  Every fourth iteration instead
# sends kill -9 after a random delay.  The journal is replayed by the
# kernel's mount, and in every fourth iteration (the third, seventh, ...)
# by e2fsck -fp instead, as a boot's fsck would.  Prints one line per
# iteration ("ok N ..." / "not ok N ...") and exits 1 if any failed.
# tests/72-crash.t runs a few iterations; bench-like long campaigns call it
# with thousands (tests/crash/campaign.sh).
set -u
W=$1 WRITER=$2 FS=$3 ITER=$4 SEED=${5:-$$}
HERE=$(cd "$(dirname "$0")" && pwd)
GK_BIN=${GK_BIN:-$HERE/../../build/bin}
export PATH="$GK_BIN:/usr/sbin:/sbin:$PATH"
RANDOM=$SEED
mkdir -p "$W/m"
SO=$W/killafter.so
[ "$SO" -nt "$HERE/killafter.c" ] || cc -shared -fPIC -O1 -o "$SO" "$HERE/killafter.c" -ldl || exit 2

# ---- the source tree: files named after their contents' seed ---------------
mksrc() {
    rm -rf "$W/src"
    if [ "$WRITER" = gfsh-rm ] && [ "$FS" = ext4-frag ]; then
        # 700 blocks of data, each after a hole (a single-block extent)
        mkdir -p "$W/src/keep" && echo kept >"$W/src/keep/small"
        python3 -c "
import random, sys
r = random.Random($SEED)
with open(sys.argv[1], 'wb') as f:
    for i in range(700):
        f.seek(2 * i * 1024)
        f.write(r.randbytes(1024))" "$W/src/frag"
        return
    fi
    if [ "$WRITER" = gfsh-rm ]; then
        mkdir -p "$W/src/keep" && echo kept >"$W/src/keep/small"
        python3 -c "import random, sys; sys.stdout.buffer.write(random.Random($SEED).randbytes(60 << 20))" \
            >"$W/src/huge"
        return
    fi
    # the tree is the seed's alone: with CRASH_SRC_CACHE (a directory) it
    # is made there once and copied for each run (72-crash.t runs six
    # writers on it; making it is 1-2 s of CPU, a copy 0.2 s)
    if [ -n "${CRASH_SRC_CACHE:-}" ]; then
        local c=$CRASH_SRC_CACHE/tree-$SEED
        if [ ! -d "$c" ]; then
            rm -rf "$c.part"
            mktree "$c.part" && mv "$c.part" "$c" || exit 2
        fi
        cp -a "$c" "$W/src" || exit 2
        return
    fi
    mktree "$W/src"
}

# the tree of gfsh and gcopy-in: 60 directories of 50 files of various
# sizes, symlinks, a 6 MiB file with a second name
mktree() { # ROOT
    python3 - "$1" "$SEED" <<'EOF'
import os, random, sys
root, seed = sys.argv[1], int(sys.argv[2])
r = random.Random(seed)
def blob(n):
    return r.randbytes(n)
os.makedirs(root)
for d in range(60):
    dd = os.path.join(root, 'dir%02d' % d, 'sub%d' % (d % 3))
    os.makedirs(dd)
    for f in range(50):
        n = r.choice([0, 1, 100, 1500, 4095, 4096, 5000, 20000, 70000])
        with open(os.path.join(dd, 'f%03d' % f), 'wb') as fp:
            fp.write(blob(n))
    os.symlink('f000', os.path.join(dd, 'link'))
    os.symlink('../../dir%02d/sub%d/f001' % (d, d % 3), os.path.join(dd, 'longer-symlink-' + 'x' * 70))
with open(os.path.join(root, 'big'), 'wb') as fp:
    fp.write(r.randbytes(6 << 20))
os.link(os.path.join(root, 'big'), os.path.join(root, 'big.hard'))
EOF
}

# the gfsh script: the tree, then second versions, renames and removals
mkscript() {
    local s=$W/script
    : >"$s"
    (cd "$W/src" && find . -mindepth 1 -type d | sort | sed 's|^\.||; s|^|mkdir-p |') >>"$s"
    (cd "$W/src" && find . -type f ! -name '*.v2' ! -name big.hard | sort | while read -r f; do
        echo "upload $W/src/${f#./} ${f#.}"; done) >>"$s"
    # the targets from find, not a readlink each (1.6 s of CPU)
    (cd "$W/src" && find . -type l -printf '%p\t%l\n' | sort | while IFS=$'\t' read -r f l; do
        echo "ln-s $l ${f#.}"; done) >>"$s"
    echo "ln /big /big.hard" >>"$s"
    # second versions of some files (write replaces, upload replaces)
    for d in 00 05 11; do
        local f=dir$d/sub$((10#$d % 3))/f002
        python3 -c "import random, sys; sys.stdout.buffer.write(random.Random($((SEED * 100 + 10#$d))).randbytes(3000))" >"$W/src/$f.v2"
        echo "upload $W/src/$f.v2 /$f" >>"$s"
    done
    # renames: the source holds the new name too (either may exist)
    cp "$W/src/dir01/sub1/f003" "$W/src/dir01/sub1/renamed"
    echo "mv /dir01/sub1/f003 /dir01/sub1/renamed" >>"$s"
    # removals: a tree, single files (the big one has a second name)
    echo "rm-rf /dir02" >>"$s"
    echo "rm /dir04/sub1/f010" >>"$s"
    echo "rm /big.hard" >>"$s"
}

# ext4-frag: /frag written by debugfs while every free block but the last
# of each group is marked in use (then free again), so that each of its
# blocks lands in a group of its own
mkfrag() {
    mkdir -p "$W/base/keep" && echo kept >"$W/base/keep/small"
    truncate -s 180M "$W/pristine.img"
    mke2fs -q -F -t ext4 -b 1024 -g 256 -N 4096 -J size=1 -I 256 -d "$W/base" "$W/pristine.img" ||
        exit 2
    dumpe2fs "$W/pristine.img" 2>/dev/null | python3 -c '
import re, sys
hold = []
for m in re.finditer(r"^  Free blocks: (.*)$", sys.stdin.read(), re.M):
    rs = [tuple(int(x) for x in (p.strip().split("-") * 2)[:2]) for p in m.group(1).split(",") if p.strip()]
    if rs:
        a, b = rs[-1]
        rs[-1] = (a, b - 1)          # the last free block of the group stays free
        hold += [r for r in rs if r[1] >= r[0]]
cmds = ["setb %d %d" % (a, b - a + 1) for a, b in hold] + ["write " + sys.argv[1] + " frag"]
print("\n".join(cmds + ["freeb %d %d" % (a, b - a + 1) for a, b in hold]))' "$W/src/frag" >"$W/frag.cmds"
    debugfs -w -f "$W/frag.cmds" "$W/pristine.img" >/dev/null 2>&1 || exit 2
    local groups
    groups=$(debugfs -R 'ex /frag' "$W/pristine.img" 2>/dev/null |
        awk '$1 ~ /^[0-9]+\/$/ && $1 == $2 "/" {print int(($8 - 1) / 256)}' | sort -u | wc -l)
    if [ "$groups" -lt 700 ] || ! e2fsck -fn "$W/pristine.img" >/dev/null 2>&1; then
        echo "not ok 0 - $WRITER $FS: the fragmented fixture ($groups groups)"; exit 1
    fi
}

mkimg() {
    rm -f "$W/pristine.img"
    [ "$FS" = ext4-frag ] && { mkfrag; return; }
    local d=()
    # gfsh-rm: the image starts with the tree (its big file to delete)
    [ "$WRITER" = gfsh-rm ] && d=(-d "$W/src")
    truncate -s "$([ "$WRITER" = gfsh-rm ] && echo 128M || echo 96M)" "$W/pristine.img"
    case $FS in
        ext4|ext4-qcow2|ext4-luks) mke2fs -q -F -t ext4 -b 1024 -J size=1 -I 256 "${d[@]}" "$W/pristine.img" ;;
        ext4-4k) mke2fs -q -F -t ext4 -b 4096 -J size=4 "$W/pristine.img" ;;
        ext3) mke2fs -q -F -t ext3 -b 1024 -J size=1 "$W/pristine.img" ;;
        *) echo "unknown FS $FS" >&2; exit 2 ;;
    esac
    if [ "$FS" = ext4-qcow2 ]; then
        rm -f "$W/base.qcow2"
        qemu-img convert -q -c -f raw -O qcow2 "$W/pristine.img" "$W/base.qcow2" || exit 2
        BASESUM=$(sha256sum <"$W/base.qcow2")
    fi
    if [ "$FS" = ext4-luks ]; then
        printf crashpass >"$W/pass"
        python3 -c 'import sys; sys.stdout.buffer.write(bytes((i * 11 + 5) & 255 for i in range(64)))' \
            >"$W/vk"
        rm -f "$W/pristine.luks"
        truncate -s 98M "$W/pristine.luks"
        cryptsetup luksFormat -q --type luks1 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
            --hash sha256 -c aes-xts-plain64 -s 512 --volume-key-file "$W/vk" --key-file "$W/pass" \
            "$W/pristine.luks" || exit 2
        qemu-img convert -n -f raw "$W/pristine.img" "${LUKS_SEC[@]}" \
            --target-image-opts "$(luks_opts "$W/pristine.luks")" || exit 2
        HDRSUM=$(head -c 2M "$W/pristine.luks" | sha256sum)
    fi
}
LUKS_SEC=(--object "secret,id=sec0,file=$W/pass")
luks_opts() { echo "driver=luks,key-secret=sec0,file.filename=$1"; }

# a fresh image to write: a copy of the pristine one, or a new overlay
fresh() {
    rm -f "$W/img"
    if [ "$FS" = ext4-qcow2 ]; then
        qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 "$W/img"
    elif [ "$FS" = ext4-luks ]; then
        cp "$W/pristine.luks" "$W/img"
    else
        cp --sparse=always "$W/pristine.img" "$W/img"
    fi
}

writer() { # the command that writes $W/img (exec: run it in a subshell)
    local k=()
    [ "$FS" = ext4-luks ] && k=(--key "$W/img:file:$W/pass")
    case $WRITER in
        gfsh) exec gfsh --rw "${k[@]}" -a "$W/img" -m /dev/sda -f "$W/script" ;;
        gcopy-in) exec gcopy-in "${k[@]}" -a "$W/img" -m /dev/sda "$W/src"/* / ;;
        gfsh-rm) exec gfsh --rw "${k[@]}" -a "$W/img" -m /dev/sda rm "/$(cd "$W/src" && ls | grep -v keep)" ;;
    esac
}

# After a crash: replay through the kernel, e2fsck, compare.  Echoes why not.
verify() {
    local R=$W/img
    if [ "$FS" = ext4-qcow2 ]; then
        local qrc=0
        qemu-img check "$W/img" >"$W/qcheck.out" 2>&1 || qrc=$?
        # leaks (exit 3) only after a kill; a complete run leaves none
        if [ $qrc != 0 ] && { [ $qrc != 3 ] || [ "${STRICT:-0}" = 1 ]; }; then
            echo "qemu-img check exit $qrc: $(head -n 5 "$W/qcheck.out" | tr '\n' '|')"; return 1
        fi
        [ "$(sha256sum <"$W/base.qcow2")" = "$BASESUM" ] || { echo "the backing image changed"; return 1; }
        R=$W/img.raw
        rm -f "$R"
        qemu-img convert -q -O raw "$W/img" "$R" || { echo "qemu-img convert failed"; return 1; }
    elif [ "$FS" = ext4-luks ]; then
        [ "$(head -c 2M "$W/img" | sha256sum)" = "$HDRSUM" ] || { echo "the LUKS header changed"; return 1; }
        R=$W/img.raw
        rm -f "$R"
        qemu-img convert -q "${LUKS_SEC[@]}" --image-opts "$(luks_opts "$W/img")" -O raw "$R" ||
            { echo "qemu-img convert (driver=luks) failed"; return 1; }
    fi
    local note=""
    if [ "${REPLAY:-kernel}" = e2fsck ]; then
        # e2fsck -p replays the journal and frees what the orphan list
        # holds, as a boot's fsck does; anything else it would fix is a
        # failure (exit 1 or more)
        if ! e2fsck -fp "$R" >"$W/replay.out" 2>&1; then
            echo "e2fsck -fp (replay): $(grep -v '^e2fsck 1' "$W/replay.out" | head -n 8 | tr '\n' '|')"; return 1
        fi
        grep -q 'Clearing orphaned inode' "$W/replay.out" && note=" (e2fsck freed the orphan)"
    else
        if ! mount -o loop "$R" "$W/m" 2>"$W/mount.err"; then
            echo "kernel mount failed: $(head -c 300 "$W/mount.err")"; return 1
        fi
        umount "$W/m" || { echo "umount failed"; return 1; }
    fi
    if ! e2fsck -fn "$R" >"$W/fsck.out" 2>&1; then
        echo "e2fsck -fn: $(grep -v '^Pass\|^e2fsck 1' "$W/fsck.out" | head -n 8 | tr '\n' '|')"; return 1
    fi
    mount -o loop,ro "$R" "$W/m" || { echo "ro mount failed"; return 1; }
    local out rc=0
    out=$(python3 "$HERE/check.py" "$W/m" "$W/src" $([ "$WRITER" = gfsh-rm ] && echo whole) 2>&1) || rc=1
    umount "$W/m"
    echo "${out##*$'\n'}$note"
    [ $rc = 0 ] || echo "$out" | head -n 10
    return $rc
}

mksrc
[ "$WRITER" = gfsh ] && mkscript
mkimg

# a full run: how many writes, and the final tree complete
fresh
rm -f "$W/count"
t0=$(date +%s%N)
(KILLAFTER_FILE=$W/img KILLAFTER_COUNT=$W/count LD_PRELOAD=$SO writer) >/dev/null 2>"$W/writer.err"
rc=$?
RUNMS=$(( ($(date +%s%N) - t0) / 1000000 + 1 ))
TOTAL=$(tr -d ' \n' <"$W/count" 2>/dev/null); TOTAL=${TOTAL:-0}
fails=0
if [ $rc != 0 ] || [ "$TOTAL" -lt 10 ]; then
    echo "not ok 0 - $WRITER $FS: the complete run failed (exit $rc, $TOTAL writes): $(head -c 300 "$W/writer.err")"
    exit 1
fi
# the journal's sequence: one more for each transaction committed
jseq() { local v; v=$(dumpe2fs -h "$1" 2>/dev/null | sed -n 's/^Journal sequence: *//p'); echo $((${v:-0})); }
NTXN=0
[ "$FS" = ext4-qcow2 ] || [ "$FS" = ext4-luks ] || NTXN=$(( $(jseq "$W/img") - $(jseq "$W/pristine.img") ))
# the log holds the last one (each starts at its first block): its number
LASTSEQ=$(debugfs -R 'logdump -O' "$W/img" 2>/dev/null |
    sed -n 's/^Found expected sequence \([0-9]*\), type 2 (commit block).*/\1/p' | tail -n 1)
res=$(STRICT=1 verify)
vrc=$?
VICTIM=/$(cd "$W/src" && ls | grep -v keep)
# what debugfs reads: the image, or what verify made of a qcow2 or luks one
PLAIN=$W/img
case $FS in ext4-qcow2|ext4-luks) PLAIN=$W/img.raw ;; esac
if [ $vrc = 0 ] && [ "$WRITER" = gfsh-rm ] && [ -n "$(debugfs -R "stat $VICTIM" "$PLAIN" 2>/dev/null)" ]; then
    echo "not ok 0 - $WRITER $FS: complete run: $VICTIM is still there (debugfs)"
    fails=$((fails + 1))
elif [ "$FS" = ext4-frag ] && { [ "$NTXN" -lt 3 ] || [ "$LASTSEQ" != $(( $(jseq "$W/pristine.img") + NTXN - 1 )) ]; }; then
    echo "not ok 0 - $WRITER $FS: complete run: $NTXN transactions by the journal's sequence (dumpe2fs), the last in the log ${LASTSEQ:-none} (debugfs logdump -O): not several"
    fails=$((fails + 1))
elif [ $vrc = 0 ] && [[ $res == *" 0 partly written"* ]]; then
    echo "ok 0 - $WRITER $FS: complete run ($TOTAL writes to the image, $NTXN transactions): $res"
else
    echo "not ok 0 - $WRITER $FS: complete run: $res"
    fails=$((fails + 1))
fi

for i in $(seq 1 "$ITER"); do
    fresh
    n=$(( (RANDOM * 32768 + RANDOM) % TOTAL ))
    # one run in four kills within the last 5% of the writes, where the
    # script's replacements, renames and removals are
    [ $((i % 4)) = 2 ] && n=$(( TOTAL - 1 - (RANDOM * 32768 + RANDOM) % (TOTAL / 20 + 1) ))
    # a removal's e2fsck run: in its middle third, between transactions,
    # where an orphan is left for e2fsck to free
    [ $((i % 4)) = 3 ] && [ "$WRITER" = gfsh-rm ] &&
        n=$(( TOTAL / 3 + (RANDOM * 32768 + RANDOM) % (TOTAL / 3 + 1) ))
    how="kill before write $n of $TOTAL"
    partial=0
    if [ $((i % 4)) = 0 ]; then
        # a plain kill -9 after a random delay
        ms=$(( (RANDOM * 32768 + RANDOM) % RUNMS ))
        how="kill -9 after ${ms} ms"
        (writer) >/dev/null 2>&1 &
        pid=$!
        sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
        kill -9 $pid 2>/dev/null
        wait $pid 2>/dev/null
    else
        [ $((RANDOM % 4)) = 0 ] && { partial=1; how="$how (torn)"; }
        { (KILLAFTER_FILE=$W/img KILLAFTER_N=$n KILLAFTER_PARTIAL=$partial LD_PRELOAD=$SO \
            writer) >/dev/null 2>&1; } 2>/dev/null
    fi
    replay=kernel
    [ $((i % 4)) = 3 ] && { replay=e2fsck; how="$how, e2fsck replays"; }
    if res=$(REPLAY=$replay verify); then
        echo "ok $i - $WRITER $FS: $how: $res"
    else
        echo "not ok $i - $WRITER $FS: $how: $(echo "$res" | tr '\n' ' ' | head -c 600)"
        fails=$((fails + 1))
        cp --sparse=always "$W/img" "$W/failed-$i.img" 2>/dev/null
    fi
done
[ $fails = 0 ]
