#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gcopy-in of a 1 GiB tree (30 000 files in 300 directories, sizes from 0
# to 1 MiB, a few symlinks and hard links) into a fresh 4 GiB ext4, in a
# raw image and in a qcow2 image (the issue's case: a qcow2 guest),
# against the anchors measured in the same run:
#   - the kernel: cp -a onto a loop mount of an identical image, then sync
#     (the tree durable on the image file, as gcopy-in leaves it);
#   - virt-copy-in (libguestfs; TCG here, minutes) when BENCH_VIRT=1: the
#     guestfish copy-in it runs, with -m (its -i needs an OS on the disk).
# Then gfedit -e of one file (one that changes, one that does not, and one
# that changes without the sandbox) against two anchors of the same run
# (perl -e 1, gcat of the same file), interleaved, the median of
# BENCH_EDITS runs each, in wall and in CPU time.  Best of $BENCH_RUNS runs (default 2) for the
# copies; the source lives in /dev/shm so that reading it costs little.
# The copies are checked: e2fsck -fn clean, and the trees equal (diff -r on
# loop mounts).  Targets: gcopy-in at least as fast as cp -a + sync; gfedit
# -e within 50 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
BD=${GK_BENCH_DIR:-$PWD/bench/out}
RUNS=${BENCH_RUNS:-2}
EDITS=${BENCH_EDITS:-15}
COPY=1
[ "${BENCH_PARTS:-copy,edit}" = edit ] && COPY=0
[ "$(id -u)" = 0 ] || { echo "needs root (loop mounts)" >&2; exit 1; }
need_time
need_tools gcopy-in
SRC=${BENCH_SRC:-/dev/shm/gk-copyin-src}
W=$BD/copyin
mkdir -p "$W/m"
trap 'umount "$W/m" 2>/dev/null || true' EXIT

TREE_VERSION=2    # bump when the tree below changes: a cached copy is remade
if [ "$(cat "$SRC/.done" 2>/dev/null)" != "$TREE_VERSION" ]; then
    echo "making the 1 GiB source tree in $SRC ..." >&2
    rm -rf "$SRC"
    python3 - "$SRC" <<'EOF'
import os, random, sys
root = sys.argv[1]
r = random.Random(30000)
pool = r.randbytes(4 << 20)
total = 0
for d in range(300):
    dd = os.path.join(root, 'd%03d' % (d // 30), 'sub%03d' % d)
    os.makedirs(dd)
    for f in range(100):
        # mostly small files, some large: about 1 GiB over 30 000 files
        n = int(r.paretovariate(1.2) * 2000) if r.random() < 0.955 else r.randint(200000, 1 << 20)
        n = min(n, 1 << 20)
        off = r.randrange(0, len(pool) - n)
        with open(os.path.join(dd, 'f%03d' % f), 'wb') as fp:
            fp.write(pool[off:off + n])
        total += n
    os.symlink('f000', os.path.join(dd, 'link'))
    os.link(os.path.join(dd, 'f001'), os.path.join(dd, 'hard'))
print('%d files, %d MiB' % (300 * 100, total >> 20), file=sys.stderr)
EOF
    echo "$TREE_VERSION" >"$SRC/.done"
fi
FILES=$(find "$SRC" -type f ! -name .done | wc -l)
MIB=$(du -sm --exclude=.done "$SRC" | cut -f1)

mkimg() { rm -f "$1"; truncate -s 4G "$1"; mke2fs -q -F -t ext4 "$1"; }
now() { date +%s.%N; }

# best_of's PREPs (not timed): a fresh ext4 for each run, on a loop mount
# for the kernel, in a qcow2 image (qemu-img convert of a fresh raw one)
# for the qcow2 case
kernel_prep() {
    umount "$W/m" 2>/dev/null || true
    mkimg "$W/k.img"
    mount -o loop "$W/k.img" "$W/m"
    sync
}
gkq_prep() {
    mkimg "$W/q.raw"
    rm -f "$W/q.qcow2"
    qemu-img convert -q -f raw -O qcow2 "$W/q.raw" "$W/q.qcow2"
    rm -f "$W/q.raw"
    sync
}
wall() { best_of "$RUNS" wall "$@" | cut -d' ' -f1; }

if [ "$COPY" = 1 ]; then
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs, best of $RUNS runs; $FILES files, $MIB MiB; images on $(df --output=fstype "$W" | tail -1) $W"
# the kernel: cp -a, then sync (the tree durable on the image file)
kt=$(wall kernel_prep sh -c 'cp -a "$1"/d* "$2"/ && sync' _ "$SRC" "$W/m")
umount "$W/m"
gt=$(wall 'mkimg "$W/g.img"; sync' "$GK_BIN/gcopy-in" -a "$W/g.img" -m /dev/sda "$SRC"/d* /)
qt=$(wall gkq_prep "$GK_BIN/gcopy-in" -a "$W/q.qcow2" -m /dev/sda "$SRC"/d* /)
printf '%-52s %8.2f s\n' "cp -a onto a loop mount + sync (kernel)" "$kt" "gcopy-in -a g.img -m /dev/sda SRC/* /" "$gt" \
    "gcopy-in -a q.qcow2 -m /dev/sda SRC/* / (qcow2)" "$qt"
awk -v k="$kt" -v g="$gt" 'BEGIN{printf "gcopy-in / kernel: %.2fx the time (%s)\n", g / k, g <= k ? "at least as fast" : "slower"}'
awk -v k="$kt" -v g="$qt" 'BEGIN{printf "gcopy-in into qcow2 / kernel: %.2fx the time (%s)\n", g / k, g <= k ? "at least as fast" : "slower"}'
qemu-img check -q "$W/q.qcow2" && echo "qemu-img check of the qcow2 image: clean" || echo "qemu-img check of the qcow2 image: ERRORS"
qemu-img convert -q -O raw "$W/q.qcow2" "$W/q.raw"
e2fsck -fn "$W/q.raw" >/dev/null 2>&1 && echo "e2fsck -fn of the qcow2 image's ext4: clean" || echo "e2fsck -fn of the qcow2 image's ext4: ERRORS"
rm -f "$W/q.raw"
e2fsck -fn "$W/g.img" >/dev/null 2>&1 && echo "e2fsck -fn of gcopy-in's image: clean" || echo "e2fsck -fn of gcopy-in's image: ERRORS"
mount -o loop,ro "$W/g.img" "$W/m"
if diff -r --no-dereference "$SRC" "$W/m" -x lost+found -x .done >/dev/null 2>&1; then
    echo "diff -r source, gcopy-in's copy (kernel mount): identical"
else
    echo "diff -r source, gcopy-in's copy: DIFFERENT"
fi
umount "$W/m"
if [ "${BENCH_VIRT:-0}" = 1 ] && command -v guestfish >/dev/null; then
    # virt-copy-in is "guestfish --rw -i copy-in": -i needs an operating
    # system, so the anchor runs the same copy-in with the filesystem
    # mounted by -m
    mkimg "$W/v.img"
    t0=$(now)
    LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg \
        guestfish --rw -a "$W/v.img" -m /dev/sda copy-in "$SRC"/d* /
    t1=$(now)
    vt=$(awk -v a="$t1" -v b="$t0" 'BEGIN{printf "%.3f", a - b}')
    printf '%-52s %8.2f s\n' "virt-copy-in's guestfish copy-in (libguestfs, TCG)" "$vt"
    awk -v v="$vt" -v g="$gt" 'BEGIN{printf "gcopy-in is %.0fx faster than virt-copy-in\n", v / g}'
    e2fsck -fn "$W/v.img" >/dev/null && echo "e2fsck -fn of libguestfs' image: clean" || echo "e2fsck -fn of libguestfs' image: ERRORS"
fi
fi

# gfedit -e of one file
mkdir -p "$W/e/etc"
head -c 3000 /etc/services >"$W/e/etc/services" 2>/dev/null || seq 1 300 >"$W/e/etc/services"
rm -f "$W/e.img"; truncate -s 512M "$W/e.img"; mke2fs -q -F -t ext4 -d "$W/e" "$W/e.img"
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
# wall ms and CPU ms (user + sys): on a loaded machine the wall time is
# mostly waiting for a CPU, so both are printed
run() { # wall and CPU of one command (its children's rusage: gfedit, its
         # worker and the perl it runs)
    python3 -c '
import os, subprocess, sys, time
t = time.perf_counter()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, st, r = os.wait4(p.pid, 0)
w = time.perf_counter() - t
assert os.waitstatus_to_exitcode(st) == 0
print("%.1f %.1f" % (w * 1000, (r.ru_utime + r.ru_stime) * 1000))' "$@"
}
ed() { run "$GK_BIN/gfedit" "$@" -a "$W/e.img" -m /dev/sda /etc/services; }
# interleaved, so that the load weighs on each alike; the anchors: perl
# starting with nothing to do (gfedit -e runs perl once) and gcat of the
# same file (a read-only tool's whole run)
: >"$W/ch"; : >"$W/nc"; : >"$W/ns"; : >"$W/perl"; : >"$W/gcat"
for i in $(seq 1 "$EDITS"); do
    ed -e "s/^#.*/# edit $i/" >>"$W/ch"
    ed -e 's/^NOMATCH//' >>"$W/nc"
    ed --no-sandbox -e "s/^#.*/# plain $i/" >>"$W/ns"
    run perl -e 1 >>"$W/perl"
    run "$GK_BIN/gcat" -a "$W/e.img" -m /dev/sda /etc/services >>"$W/gcat"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (gfedit runs, median of $EDITS each, interleaved)"
for f in ch:"gfedit -e (the file changes), sandbox" nc:"gfedit -e (nothing changes: read-only)" \
         ns:"gfedit -e (the file changes), --no-sandbox" perl:"perl -e 1 (anchor)" \
         gcat:"gcat -m /dev/sda /etc/services (anchor)"; do
    printf '%-52s %8.1f ms (CPU %.1f ms)\n' "${f#*:}" "$(cut -d' ' -f1 "$W/${f%%:*}" | median)" \
        "$(cut -d' ' -f2 "$W/${f%%:*}" | median)"
done
ch=$(cut -d' ' -f1 "$W/ch" | median) chc=$(cut -d' ' -f2 "$W/ch" | median)
awk -v c="$ch" -v u="$chc" 'BEGIN{printf "gfedit -e target 50 ms: %s in wall time, %s in CPU time\n",
    c <= 50 ? "met" : "missed", u <= 50 ? "met" : "missed"}'
e2fsck -fn "$W/e.img" >/dev/null 2>&1 && echo "e2fsck -fn after the edits: clean" || echo "e2fsck -fn after the edits: ERRORS"
