#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile qcow2 images (test-images/qcow2-hostile.sh): reading each is
# refused with a one-line "gimg: FILE: ..." error and exit status 1, never a
# crash or a sanitizer report; images that qemu-img itself opens but whose
# data is bad open here too and fail when the bad cluster is read.  gimg
# info, like qemu-img info, only reads the header: it describes what
# qemu-img info describes, the same way, and refuses what it refuses.
. "$(dirname "$0")/lib.sh"
[ -x "$GK_BIN/gimg" ] || skip_all "needs gimg"
dir=$(fixture qcow2-hostile) || exit 1
# a fixture cached by an older version of the script: make it again
if [ ! -e "$dir/snap-bad-l1.qcow2" ] || [ ! -e "$dir/read-truncated-deflate.qcow2" ]; then
    rm -f "$dir/.done"
    dir=$(fixture qcow2-hostile) || exit 1
fi
cd "$dir"

# the loops over every image: LeakSanitizer on a sample (lib.sh)
leak_sample 7
for f in open-*.qcow2; do
    # qemu-img info once, its status and its output the oracle (it takes 4 s
    # of CPU on open-snapshots-past-end.qcow2); as like_qemu_img otherwise
    sync -- "$f"
    qr=0; qo=$(qemu-img info "$f" 2>/dev/null) || qr=$?
    if [ "$qr" != 0 ]; then
        fails_cleanly "info refuses $f, as qemu-img info" gimg info "$f"
    else
        gr=0; go=$(gimg info "$f" 2>"$T/g.err") || gr=$?
        is "$go
[exit $gr]" "$qo
[exit $qr]" "info describes $f as qemu-img info"
    fi
    fails_cleanly "convert refuses $f" gimg convert -O raw "$f" "$T/out.raw"
done

for f in read-*.qcow2; do
    ok "qemu-img opens $f" qemu-img info "$f"
    ok "info opens $f" gimg info "$f"
    fails_cleanly "convert fails on $f" gimg convert -O raw "$f" "$T/out.raw"
    fails_cleanly "map or convert -S 0 fails on $f" gimg convert -S 0 -O raw "$f" "$T/out.raw"
    # check reports the damage exactly as qemu-img check does
    qrc=0; qemu-img check "$f" >"$T/q.out" 2>&1 || qrc=$?
    grc=0; gimg check "$f" >"$T/g.out" 2>&1 || grc=$?
    is "$grc $(cat "$T/g.out")" "$qrc $(cat "$T/q.out")" "check of $f matches qemu-img check"
done

for f in untrusted-*.qcow2; do
    ok "trusted: $f opens" gimg map "$f"
    fails_cleanly "GUESTKIT_UNTRUSTED=1 refuses $f" env GUESTKIT_UNTRUSTED=1 gimg map "$f"
    fails_cleanly "--untrusted refuses $f" gimg --untrusted convert -O raw "$f" "$T/out.raw"
done

leak_sample 1

# a snapshot whose L1 table is outside the file: the image opens, the snapshot does not
ok "qemu-img opens snap-bad-l1.qcow2" qemu-img info snap-bad-l1.qcow2
ok "info opens snap-bad-l1.qcow2" gimg info snap-bad-l1.qcow2
fails_cleanly "convert -l one refuses the bad snapshot" gimg convert -l one -O raw snap-bad-l1.qcow2 "$T/out.raw"
fails_cleanly "convert -l nosuch names a missing snapshot" gimg convert -l nosuch -O raw snap-bad-l1.qcow2 "$T/out.raw"

# the messages say which file and what is wrong (map opens the chain)
is "$(gimg info open-unknown-incompat.qcow2 2>&1)" \
   "gimg: open-unknown-incompat.qcow2: Unsupported qcow2 feature(s): evil feature" \
   "unknown feature named from the feature-name table"
is "$(gimg map open-backing-missing.qcow2 2>&1)" \
   "gimg: open-backing-missing.qcow2: backing file \"no-such-file.qcow2\": No such file or directory" \
   "missing backing file named"
is "$(gimg map open-backing-self.qcow2 2>&1 | grep -c loops)" 1 "self-referencing backing file is a loop"
is "$(gimg map open-backing-loop-a.qcow2 2>&1 | grep -c loops)" 1 "two-image backing loop"
is "$(gimg map open-backing-json.qcow2 2>&1 | grep -c 'json: and protocol')" 1 "json: backing refused"
is "$(gimg map open-encrypted-luks.qcow2 2>&1 | grep -c 'encrypted (luks) and no key was given')" 1 \
   "encrypted image without its key refused clearly"
is "$(GUESTKIT_UNTRUSTED=1 gimg map untrusted-no-backing-format.qcow2 2>&1 | grep -c 'no backing format')" 1 \
   "untrusted: no format probing"

done_testing
