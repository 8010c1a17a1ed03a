#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg info and check on damaged qcow2 images (issue 18: "info fails ... on
# 63 other damaged images qemu-img describes"): one image made by
# qemu-img/qemu-io (a backing file, data, an internal snapshot), then ~75
# copies each with one header field, header extension or table entry
# damaged or the file cut short (test-images/qcow2-damage.py,
# deterministic).  The oracle is qemu-img 7.2: info prints the same where
# it describes the image and refuses (exit 1, nothing on stdout) where it
# refuses; check (text and --output=json) prints the same messages, counts
# and exit status (0 clean, 2 corruptions, 3 leaks, 1 when the check could
# not run), and where qemu-img cannot open the image gimg refuses it with
# a one-line error, exit 1.  The images are 600 KiB: ~450 short runs.
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

# check as qemu-img check: where qemu cannot open the image ("Could not
# open"), a clean refusal in gimg's own words; otherwise the same output,
# messages (gimg where qemu names itself), counts and exit status (stdout and
# stderr apart: their interleaving is only stdio buffering)
check_like_qemu() { # IMAGE [OPTION]
    local go qo gr=0 qr=0
    qo=$(qemu-img check ${2:-} "$1" 2>"$T/q.err") || qr=$?
    case $qr:$(head -c 24 "$T/q.err") in
    "1:qemu-img: Could not open")
        fails_cleanly "check ${2:+$2 }$1: refused as qemu-img refuses it" gimg check ${2:-} "$1" ;;
    *)
        go=$(bounded 30 gimg check ${2:-} "$1" 2>"$T/g.err") || gr=$?
        is "$go
$(cat "$T/g.err")
[exit $gr]" "$qo
$(sed 's/qemu-img/gimg/g' "$T/q.err")
[exit $qr]" "check ${2:+$2 }$1: as qemu-img check" ;;
    esac
}
for n in $names; do
    check_like_qemu $n.qcow2
    check_like_qemu $n.qcow2 --output=json
done

# the data-file bit without a data file named: described from the header
# (qemu lists no snapshots then, and shows data-file-raw)
like_qemu_img "info --output=json of incompat-data-file.qcow2" info --output=json incompat-data-file.qcow2
done_testing
