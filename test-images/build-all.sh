#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make images: build every fixture into OUTDIR, or only the NAMEs given
# (test-images/NAME.sh), each once: OUTDIR/NAME/.done marks a finished one
# and holds its key (test-images/lib-key.sh: a fixture whose script or
# helpers changed since is built again), and its log is OUTDIR/NAME.log.
# One build of NAME at a time: OUTDIR/.NAME.lock, held while it is checked
# and built (tests run in parallel; a fixture script builds the fixtures it
# starts from through this script).  The tests build the ones they need on
# demand through tests/lib.sh's `fixture`; the benchmarks call this.
set -euo pipefail
out=${1:-build/images}
shift || true
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/oracle-path.sh"
. "$here/lib-key.sh"
if [ $# -gt 0 ]; then
    names=("$@")
else
    names=()
    for s in "$here"/*.sh; do names+=("$(basename "$s" .sh)"); done
fi
for name in "${names[@]}"; do
    case $name in build-all|demo|lib-*) continue ;; esac
    fixture_key "$here" "$name"
    exec 9>"$out/.$name.lock"
    flock 9
    done_key=
    [ -e "$out/$name/.done" ] && { IFS= read -r done_key <"$out/$name/.done" || true; }
    if [ "$done_key" = "$FIXTURE_KEY" ]; then
        exec 9>&-
        continue
    fi
    echo "building $name in $out/$name (once) ..." >&2
    rm -rf "${out:?}/$name" && mkdir -p "$out/$name"
    "$here/$name.sh" "$out/$name" >"$out/$name.log" 2>&1 9>&- || {
        echo "$name failed; see $out/$name.log" >&2
        exit 1
    }
    # flushed, so that allocation is final: ext4 counts an extent block in
    # st_blocks only at writeback, and "disk size" is compared with qemu-img's
    find "$out/$name" -type f -exec sync -- {} +
    echo "$FIXTURE_KEY" >"$out/$name/.done"
    exec 9>&-
done
