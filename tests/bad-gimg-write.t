#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Damaged images given to gimg's writing commands (snapshot -c/-a/-d,
# commit, rebase): each is refused with a one-line message and exit 1, no
# sanitizer report, and every file is left byte for byte as it was
# (sha256 before and after).  The damage is made with a few byte patches
# of images qemu-img made; qemu-img check reports each as corruption.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip_all "needs qemu-img and qemu-io"
cd "$T" || exit 1

# patch FILE WHAT: damage a 64 KiB-cluster qcow2 image with refcount_bits=16
patch() {
    python3 - "$@" <<'PY'
import struct, sys
path, what = sys.argv[1], sys.argv[2]
f = open(path, 'r+b')
h = f.read(104)
be = lambda b, o, n: int.from_bytes(b[o:o + n], 'big')
l1off, reftoff, nsnap, snapoff = be(h, 40, 8), be(h, 48, 8), be(h, 60, 4), be(h, 64, 8)
f.seek(l1off); l2off = be(f.read(8), 0, 8) & 0x00fffffffffffe00
f.seek(l2off); data = be(f.read(8), 0, 8) & 0x00fffffffffffe00
f.seek(reftoff); rb = be(f.read(8), 0, 8)
if what == 'refcount0':       # the first data cluster counted 0 times
    f.seek(rb + 2 * (data >> 16)); f.write(b'\0\0')
elif what == 'overlap':       # the first data cluster is the L1 table
    f.seek(l2off); f.write(struct.pack('>Q', l1off | (1 << 63)))
elif what == 'snapl1':        # the snapshot's L1 table far past the end
    f.seek(snapoff); f.write(struct.pack('>Q', 1 << 40))
PY
}

make_img() { # NAME: img.qcow2 (with a snapshot s) over base.qcow2
    rm -f base.qcow2 img.qcow2 new.raw
    qemu-img create -q -f qcow2 base.qcow2 4M
    qemu-io -c 'write -P 1 0 2M' base.qcow2 >/dev/null
    qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 img.qcow2
    qemu-io -c 'write -P 2 0 1M' img.qcow2 >/dev/null
    qemu-img snapshot -c s img.qcow2
    qemu-io -c 'write -P 3 1M 64k' img.qcow2 >/dev/null
    qemu-img create -q -f raw new.raw 4M
}

sums() { sha256sum base.qcow2 img.qcow2 new.raw; }

for damage in refcount0 overlap snapl1; do
    for target in img base; do
        [ $target = base ] && [ $damage = snapl1 ] && continue
        make_img
        patch $target.qcow2 $damage
        rc=0; qemu-img check $target.qcow2 >/dev/null 2>&1 || rc=$?
        is "$rc" 2 "$damage in $target: qemu-img check reports corruption"
        before=$(sums)
        cmds=("gimg commit img.qcow2" "gimg commit -d img.qcow2")
        if [ $target = img ]; then
            cmds+=("gimg snapshot -c x img.qcow2" "gimg snapshot -a s img.qcow2" "gimg snapshot -d s img.qcow2"
                   "gimg rebase -b new.raw -F raw img.qcow2" "gimg rebase -u -b new.raw -F raw img.qcow2")
        fi
        for c in "${cmds[@]}"; do
            # shellcheck disable=SC2086
            fails_cleanly "$damage in $target: $c is refused" $c
            is "$(sums)" "$before" "$damage in $target: $c leaves every file as it was"
        done
    done
done

# a snapshot name that is not one, an image that is not an image
make_img
before=$(sums)
fails_cleanly "snapshot -a of a snapshot that is not there" gimg snapshot -a nosuch img.qcow2
printf 'not an image at all' >junk
fails_cleanly "commit of a file with no backing file" gimg commit junk
fails_cleanly "rebase of a raw file" gimg rebase -f raw -b new.raw -F raw junk
is "$(sums)" "$before" "... and nothing else is touched"
done_testing
