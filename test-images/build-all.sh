#!/bin/bash
# make images: build every fixture into OUTDIR (the tests build the ones
# they need on demand through tests/lib.sh's `fixture`).
set -euo pipefail
out=${1:-build/images}
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)
for s in "$here"/*.sh; do
    name=$(basename "$s" .sh)
    case $name in build-all|demo|lib-*) continue ;; esac
    [ -e "$out/$name/.done" ] && continue
    echo "building $name"
    rm -rf "${out:?}/$name" && mkdir -p "$out/$name"
    "$s" "$out/$name" && touch "$out/$name/.done"
done
