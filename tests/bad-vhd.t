#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile VHD images (test-images/vhd-hostile.sh), opened with -f vpc:
# what qemu-img refuses is refused with a one-line "gimg: FILE: ..." error
# and exit status 1 (never a crash or a sanitizer report), what it reads
# reads the same bytes, in bounded time and memory (a table claiming 2^29
# entries is never allocated unless the file holds it).
. "$(dirname "$0")/lib.sh"
[ -x "$GK_BIN/gimg" ] || skip_all "needs gimg"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
dir=$(fixture vhd-hostile) || exit 1
cd "$dir"

for f in [fht]-*.vhd; do
    if qemu-img convert -f vpc -O raw "$f" "$T/q.raw" >/dev/null 2>&1; then
        rm -f "$T/g.raw"
        ok "reads $f as qemu-img does" bounded 30 gimg convert -f vpc -O raw "$f" "$T/g.raw"
        same_file "$T/g.raw" "$T/q.raw" "$f: the bytes qemu-img reads"
    else
        fails_cleanly "refuses $f as qemu-img does" gimg convert -f vpc -O raw "$f" "$T/g.raw"
        fails_cleanly "info refuses $f too" gimg info -f vpc "$f"
    fi
done
# memory: a table of 2^29 entries (2 GiB) the file does not hold (address-
# space limits mean nothing under ASan)
if [ "$GK_SAN" != 1 ]; then
    ( ulimit -v 600000; gimg info -f vpc h-huge.vhd ) >/dev/null 2>"$T/e"
    grep -q 'past the end of the file' "$T/e"; is $? 0 "a huge table is refused before it is allocated"
fi
done_testing
