#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg check against qemu-img check (the oracle): the same report (human
# and JSON), the same messages on stderr and the same exit status (0 clean,
# 2 corruptions, 3 leaks, 63 no checks for raw).  Nothing is normalised.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
dir=$(fixture qcow2-fixtures) || exit 1
cd "$dir"

both() { # DESC ARGS...: same stdout, stderr (program name aside) and status
    local desc=$1; shift
    local go qo gr=0 qr=0
    go=$(gimg "$@" 2>"$T/g.err") || gr=$?
    qo=$(qemu-img "$@" 2>"$T/q.err") || qr=$?
    is "$go
[exit $gr]
$(sed 's/^gimg: //' "$T/g.err")" "$qo
[exit $qr]
$(sed 's/^qemu-img: //' "$T/q.err")" "$desc"
}

for img in *.qcow2; do
    both "check $img" check "$img"
    both "check --output=json $img" check --output=json "$img"
done
for img in src.raw chbase.raw; do
    both "check $img: raw has no checks" check "$img"
done
gimg check lazy.qcow2 >/dev/null 2>&1; is "$?" 2 "check: corruptions exit 2"
gimg check leaky.qcow2 >/dev/null 2>&1; is "$?" 3 "check: leaks exit 3"
gimg check src.raw >/dev/null 2>&1; is "$?" 63 "check: raw exits 63"
both "check -q" check -q leaky.qcow2
both "check -f raw of a qcow2" check -f raw c64k.qcow2
fails_cleanly "check -r with an unknown mode is refused" gimg check -r bogus leaky.qcow2
fails_cleanly "check of a missing file" gimg check nosuch.qcow2

done_testing
