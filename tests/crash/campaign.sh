#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The long crash campaign (not part of make check; tests/72-crash.t runs a
# few iterations of the same thing, tests/17-qcow2-crash.t those of
# qcow2-crash.sh): every writer on every filesystem flavour and qcow2's
# writers, ITER kill points each, failures kept as images in WORKDIR.
#
#   tests/crash/campaign.sh [ITER] [WORKDIR]
set -u
ITER=${1:-200}
W=${2:-/tmp/gk-crash-campaign}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$W"
fails=0
for run in "gfsh ext4" "gfsh ext3" "gcopy-in ext4" "gcopy-in ext3" "gcopy-in ext4-4k" \
    "gfsh ext4-qcow2" "gcopy-in ext4-qcow2"; do
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
echo "campaign: $fails failures (images of failed runs: $W/*/failed-*.img)"
[ $fails = 0 ]
