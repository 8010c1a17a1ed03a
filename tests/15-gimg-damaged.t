#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg info on damaged qcow2 images (issue 18: "info fails ... on 63 other
# damaged images qemu-img describes"): one image made by qemu-img/qemu-io
# (a backing file, data, an internal snapshot), then ~70 copies each with
# one header field, header extension or table entry damaged or the file cut
# short (test-images/qcow2-damage.py, deterministic).  The oracle is
# qemu-img 7.2's info: the same output where it describes the image, a
# refusal (exit 1, nothing on stdout) where it refuses.  info reads the
# header only, so this stays cheap (~140 short runs).
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip_all "needs qemu-img and qemu-io"
cd "$T"

qemu-img create -q -f qcow2 b.qcow2 1M
qemu-img create -q -f qcow2 -b b.qcow2 -F qcow2 base.qcow2 4M
qemu-io -c 'write -P 7 0 128k' base.qcow2 >/dev/null
qemu-img snapshot -c s1 base.qcow2
mkdir d && cp b.qcow2 d/
names=$(python3 "$TOP/test-images/qcow2-damage.py" base.qcow2 d) || { echo "Bail out! qcow2-damage.py failed"; exit 1; }
cd d
for n in $names; do
    case $n in
    crypt-luks)
        # qemu-img 7.2 dies of SIGSEGV on a LUKS image without its
        # encryption header extension: a clear refusal instead
        fails_cleanly "info of $n.qcow2: refused" gimg info $n.qcow2 ;;
    *)
        like_qemu_img "info of $n.qcow2" info $n.qcow2 ;;
    esac
done

# the data-file bit without a data file named: described from the header
# (qemu lists no snapshots then, and shows data-file-raw)
like_qemu_img "info --output=json of incompat-data-file.qcow2" info --output=json incompat-data-file.qcow2
done_testing
