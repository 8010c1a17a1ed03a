#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make images: build every fixture into OUTDIR, or only the NAMEs given
# (test-images/NAME.sh), each once: OUTDIR/NAME/.done marks a finished one,
# and its log is OUTDIR/NAME.log.  The tests build the ones they need on
# demand through tests/lib.sh's `fixture`; the benchmarks call this.
set -euo pipefail
out=${1:-build/images}
shift || true
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/oracle-path.sh"
if [ $# -gt 0 ]; then
    names=("$@")
else
    names=()
    for s in "$here"/*.sh; do names+=("$(basename "$s" .sh)"); done
fi
for name in "${names[@]}"; do
    case $name in build-all|demo|lib-*) continue ;; esac
    [ -e "$out/$name/.done" ] && continue
    echo "building $name in $out/$name (once) ..." >&2
    rm -rf "${out:?}/$name" && mkdir -p "$out/$name"
    "$here/$name.sh" "$out/$name" >"$out/$name.log" 2>&1 || {
        echo "$name failed; see $out/$name.log" >&2
        exit 1
    }
    # flushed, so that allocation is final: ext4 counts an extent block in
    # st_blocks only at writeback, and "disk size" is compared with qemu-img's
    find "$out/$name" -type f -exec sync -- {} +
    touch "$out/$name/.done"
done
