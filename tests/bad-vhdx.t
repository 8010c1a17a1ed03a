#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile VHDX images (test-images/vhdx-hostile.sh), opened with -f vhdx:
# what qemu-img refuses is refused with a one-line "gimg: FILE: ..." error
# and exit status 1 (never a crash or a sanitizer report), what it reads
# reads the same bytes.  One difference on purpose: a BAT entry placing a
# block over the headers (qemu 7.2 reads the headers as data) is refused.
. "$(dirname "$0")/lib.sh"
[ -x "$GK_BIN/gimg" ] || skip_all "needs gimg"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
dir=$(fixture vhdx-hostile) || exit 1
cd "$dir"

for f in [hrmbl]-*.vhdx; do
    if [ $f = b-header.vhdx ]; then
        fails_cleanly "refuses $f (a block over the headers)" gimg convert -f vhdx -O raw "$f" "$T/g.raw"
    elif qemu-img convert -f vhdx -O raw "$f" "$T/q.raw" >/dev/null 2>&1; then
        rm -f "$T/g.raw"
        ok "reads $f as qemu-img does" bounded 60 gimg convert -f vhdx -O raw "$f" "$T/g.raw"
        same_file "$T/g.raw" "$T/q.raw" "$f: the bytes qemu-img reads"
    else
        fails_cleanly "refuses $f as qemu-img does" gimg convert -f vhdx -O raw "$f" "$T/g.raw"
    fi
done
# differencing disks: qemu 7.2 refuses them (ENOTSUP with a parent
# locator, EINVAL without one), in info as in convert: so do we, saying so
for f in m-parentloc m-parent; do
    qemu-img info -f vhdx $f.vhdx >/dev/null 2>&1; is $? 1 "(qemu-img info refuses $f.vhdx)"
    fails_cleanly "info refuses $f.vhdx as qemu-img does" gimg info -f vhdx $f.vhdx
    fails_cleanly "  and probed" gimg info $f.vhdx
done
grep -q "m-parent.vhdx: VHDX says it has a parent but has no parent locator" "$T/fc.err"; is $? 0 "  no locator: saying so"
gimg convert -O raw m-parentloc.vhdx "$T/g.raw" 2>"$T/err"
grep -q "m-parentloc.vhdx: differencing VHDX images (with a parent) are not supported" "$T/err"; is $? 0 \
    "  a differencing VHDX: saying so"
done_testing
