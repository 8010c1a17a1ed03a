#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The long crash campaign (not part of make check; tests/72-crash.t runs a
# few iterations of the same thing, tests/17-qcow2-crash.t those of
# qcow2-crash.sh): every writer on every filesystem flavour and qcow2's
# writers, ITER kill points each, failures kept as images in WORKDIR.
# Then gimg convert -O qcow2 [-c] and snapshot -c/-d killed at ITER random
# moments (tests/crash/gimg-kill.sh), and gimg's image-level writers with a
# kill before every write (the
# GK_LONG=1 runs of tests/18-gimg-snapshot-crash.t: snapshot -c/-a/-d;
# 19-gimg-commit.t and 19-gimg-rebase.t: commit, rebase; 20-gimg-write-
# crash.t: resize, amend, check -r; 16-format-write-crash.t: convert -O
# vmdk and vhdx), their TAP kept in WORKDIR.
#
#   tests/crash/campaign.sh [ITER] [WORKDIR]
set -u
ITER=${1:-200}
W=${2:-/tmp/gk-crash-campaign}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$W"
fails=0
for run in "gfsh ext4" "gfsh ext3" "gcopy-in ext4" "gcopy-in ext3" "gcopy-in ext4-4k" \
    "gfsh ext4-qcow2" "gcopy-in ext4-qcow2" "gfsh ext4-luks" "gcopy-in ext4-luks" "gfsh-rm ext4" \
    "gfsh-rm ext4-frag"; do
    set -- $run
    seed=$RANDOM
    echo "== $1 on $2, $ITER kill points, seed $seed"
    "$HERE/run.sh" "$W/$1-$2" "$1" "$2" "$ITER" "$seed" | tee "$W/$1-$2.log" | grep -v '^ok ' || true
    f=$(grep -c '^not ok' "$W/$1-$2.log")
    echo "   $(grep -c '^ok' "$W/$1-$2.log") ok, $f failed"
    fails=$((fails + f))
done
# qcow2's writers (random writes on several image shapes, convert -O qcow2
# [-c]), killed at ITER points
seed=$RANDOM
echo "== qcow2 writers, $ITER kill points, seed $seed"
"$HERE/qcow2-crash.sh" "$W/qcow2" "$ITER" "$seed" | tee "$W/qcow2.log" | grep -v '^ok ' || true
f=$(grep -c '^not ok' "$W/qcow2.log")
echo "   $(grep -c '^ok' "$W/qcow2.log") ok, $f failed"
fails=$((fails + f))
# gimg convert -O qcow2 [-c zlib|zstd] and snapshot -c/-d killed with
# kill -9 after random delays (tests/17-qcow2-crash-kill.t runs 5)
seed=$RANDOM
echo "== gimg convert and snapshot, kill -9 at $ITER random moments, seed $seed"
"$HERE/gimg-kill.sh" "$W/gimg-kill" "$ITER" "$seed" | tee "$W/gimg-kill.log" | grep -v '^ok ' || true
f=$(grep -c '^not ok' "$W/gimg-kill.log")
echo "   $(grep -c '^ok' "$W/gimg-kill.log") ok, $f failed"
fails=$((fails + f))
# gimg snapshot, commit, rebase, resize, amend, check -r: every write a
# kill point (torn and not for snapshot, resize, amend, check -r)
TOP=$(cd "$HERE/../.." && pwd)
for t in 18-gimg-snapshot-crash 19-gimg-commit 19-gimg-rebase 20-gimg-write-crash 16-format-write-crash; do
    echo "== gimg: $t, a kill before every write"
    GK_LONG=1 bash "$TOP/tests/$t.t" >"$W/$t.tap" 2>&1 || true
    f=$(grep -c '^not ok' "$W/$t.tap")
    grep '^not ok' "$W/$t.tap" || true
    echo "   $(grep -c '^ok' "$W/$t.tap") ok, $f failed"
    fails=$((fails + f))
done
echo "campaign: $fails failures (images of failed runs: $W/*/failed-*.img)"
[ $fails = 0 ]
