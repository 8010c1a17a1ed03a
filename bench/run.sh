#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Run every benchmark in bench/ (each prints its own table of times, peak
# RSS and ratios against the anchors measured in the same run).
set -euo pipefail
cd "$(dirname "$0")/.."
export GK_BIN=${GK_BIN:-$PWD/build/bin}
for b in bench/*.sh; do
    [ "$b" = bench/run.sh ] && continue
    echo "== $b"
    "$b" || echo "$b failed with status $?"
done
