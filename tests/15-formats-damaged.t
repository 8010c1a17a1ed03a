#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg info and check on damaged VMDK, VHD, VDI and VHDX images (issue 18:
# info describes what qemu-img describes, as tests/15-gimg-damaged.t does
# for qcow2).  The images are the hostile fixtures of tests/bad-*.t (one
# header field, table entry or descriptor line changed by python in a
# qemu-img-made image: test-images/{vmdk,vhd,vdi,vhdx}-hostile.sh).  The
# oracle is qemu-img 7.2: info (text and --output=json) prints the same
# and exits the same; check (text and --output=json) prints the same and
# exits the same, or, where qemu cannot open the image, gimg refuses it
# with a one-line error.  qemu opens an image for check in check mode:
# VHDX blocks past the end of the file or over the headers, a VMDK flat
# extent starting past 2^63 bytes or a sparse capacity whose L1 size
# overflows 32 bits are then reported by the check, not refused.
# Where qemu-img itself crashes or does not finish (listed below, found by
# running it under timeout 20), gimg answers or refuses cleanly in bounded
# CPU time; qemu-img is not run on those.
. "$(dirname "$0")/lib.sh"
[ -x "$GK_BIN/gimg" ] || skip_all "needs gimg"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"

# qemu-img 7.2 info: SIGSEGV on a descriptor naming a descriptor, no answer
# within 20 s on 5000 extents, a megabyte of blank lines, a field spread
# over 400000 lines, a VDI claiming 2^31 blocks
qemu_crashes="vmdk-hostile/d-nested.vmdk vmdk-hostile/d-many.vmdk vmdk-hostile/d-blank.vmdk
              vmdk-hostile/d-spaces.vmdk vdi-hostile/h-blocks2.vdi"
# qemu-img 7.2 check loops on parent links that loop
check_loops="vmdk-hostile/p-self.vmdk vmdk-hostile/p-a.vmdk vmdk-hostile/p-b.vmdk"

info_like_qemu() { # FMT IMAGE [OPTION]
    local go qo gr=0 qr=0
    go=$(bounded 30 gimg info -f $1 ${3:-} "$2" 2>/dev/null) || gr=$?
    qo=$(qemu-img info -f $1 ${3:-} "$2" 2>/dev/null) || qr=$?
    is "$go
[exit $gr]" "$qo
[exit $qr]" "info ${3:+$3 }$2: as qemu-img info"
}

# stderr read and matched by bash itself (a grep, a sed and a cat a check
# were a quarter of the processes this test started)
slurp() { # FILE: its text in $REPLY
    REPLY=
    IFS= read -r -d '' REPLY <"$1" || true
}
check_like_qemu() { # FMT IMAGE [OPTION]
    local go qo gr=0 qr=0 qe ge
    qo=$(qemu-img check -f $1 ${3:-} "$2" 2>"$T/q.err") || qr=$?
    slurp "$T/q.err"; qe=$REPLY
    if [[ $qr = 1 && $'\n'$qe == *$'\nqemu-img: Could not open'* ]]; then
        fails_cleanly "check ${3:+$3 }$2: refused as qemu-img refuses it" gimg check -f $1 ${3:-} "$2"
    else
        go=$(bounded 30 gimg check -f $1 ${3:-} "$2" 2>"$T/g.err") || gr=$?
        slurp "$T/g.err"; ge=$'\n'$REPLY
        ge=${ge//$'\n'gimg:/$'\n'qemu-img:}
        # $(...) dropped the trailing newlines of the files the old form read
        ge=${ge#$'\n'} qe=$qe
        while [[ $ge == *$'\n' ]]; do ge=${ge%$'\n'}; done
        while [[ $qe == *$'\n' ]]; do qe=${qe%$'\n'}; done
        is "$go
$ge
[exit $gr]" "$qo
$qe
[exit $qr]" "check ${3:+$3 }$2: as qemu-img check"
    fi
}

qemu_crashes=" $(echo $qemu_crashes) " check_loops=" $check_loops "
for kind in vmdk vhd vdi vhdx; do
    dir=$(fixture $kind-hostile) || exit 1
    fmt=$kind
    [ $kind = vhd ] && fmt=vpc
    cd "$dir/.."
    for f in $kind-hostile/*.$kind; do
        case $qemu_crashes in
        *" $f "*)
            rc=0
            bounded 30 gimg info -f $fmt "$f" >/dev/null 2>"$T/e" || rc=$?
            if [ $rc = 0 ]; then
                _tap_result 0 "info $f: described (qemu-img crashes or hangs)"
            else
                fails_cleanly "info $f: refused cleanly (qemu-img crashes or hangs)" gimg info -f $fmt "$f"
            fi
            continue ;;
        esac
        info_like_qemu $fmt "$f"
        info_like_qemu $fmt "$f" --output=json
        case $check_loops in
        *" $f "*)
            fails_cleanly "check $f: refused (qemu-img check loops)" gimg check -f $fmt "$f"
            continue ;;
        esac
        check_like_qemu $fmt "$f"
        check_like_qemu $fmt "$f" --output=json
    done
done
done_testing
