#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Corrupt FAT images (test-images/fat-hostile.sh): every tool answers with
# a clear message or reads what is readable, never crashes or hangs (this
# test also runs under ASan+UBSan).  What a sound image holds comes from
# mtools (mcopy) on the intact base image.
. "$(dirname "$0")/lib.sh"
D=$(fixture fat-hostile) || skip_all "fixture fat-hostile failed"
export MTOOLS_SKIP_CHECK=1 LANG=C.UTF-8 LC_ALL=C.UTF-8 TZ=UTC

# rc_clean DESC CMD...: exit 0 or 1, no sanitizer report, within 60 s
rc_clean() {
    local desc=$1; shift
    local rc=0
    timeout 60 "$@" >/dev/null 2>"$T/rc.err" || rc=$?
    if { [ "$rc" = 0 ] || [ "$rc" = 1 ]; } && ! grep -qE 'Sanitizer|runtime error' "$T/rc.err"; then
        _tap_result 0 "$desc"
    else
        _tap_result 1 "$desc"
        diag "exit status $rc" "$(head -n 15 "$T/rc.err")"
    fi
}
M=(-m /dev/sda)

mcopy -n -i "$D/base16.img" ::/a.txt "$T/a.txt"
same_file <(gcat -a "$D/base16.img" "${M[@]}" /a.txt) "$T/a.txt" "intact base image reads as mcopy does"

for i in bpb-rootent bpb-toomany badroot32 truncated; do
    fails_cleanly "$i: refused at open" gcat -a "$D/$i.img" "${M[@]}" /a.txt
    grep -q 'not a FAT filesystem' "$T/fc.err"
    is "$?" 0 "$i: the message says why"
done
for i in bpb-ss0 bpb-spc3 bpb-nofat; do
    fails_cleanly "$i: not mountable" gls -a "$D/$i.img" "${M[@]}" /
done
for i in badnext bignum zero-start; do
    fails_cleanly "$i: a.txt's broken chain is an error" gcat -a "$D/$i.img" "${M[@]}" /a.txt
    is "$(gcat -a "$D/$i.img" "${M[@]}" /sub/b.txt)" "b" "$i: other files still read"
done
# a chain looping back within the file's own length is read as the kernel
# would (the size bounds it); a loop in a directory chain ends the walk
rc_clean "loop-file: bounded" gcat -a "$D/loop-file.img" "${M[@]}" /a.txt
is "$(gcat -a "$D/loop-file.img" "${M[@]}" /a.txt | wc -c)" 1500 "loop-file: the size bounds the read"
rc_clean "loop-file32: bounded" gcat -a "$D/loop-file32.img" "${M[@]}" /a.txt
is "$(gls -a "$D/loop-dir.img" "${M[@]}" /sub | tr '\n' ' ')" "b.txt inner " "loop-dir: the looping directory lists once"
for i in cycle cycle32; do
    fails_cleanly "$i: the directory cycle is reported" gls -a "$D/$i.img" "${M[@]}" -lR /
    grep -q 'directory loop' "$T/fc.err"
    is "$?" 0 "$i: named as a directory loop"
done
is "$(gls -a "$D/badlfn.img" "${M[@]}" / | tr '\n' ' ')" "ALONGN~1.TXT a.txt sub " \
   "badlfn: a long name whose checksum is wrong gives way to the short name (as vfat)"
for f in "$D"/flips-*.img; do
    n=$(basename "$f" .img)
    rc_clean "$n: gls -lR" gls -a "$f" "${M[@]}" -lR --checksum=sha256 /
    rc_clean "$n: gdf" gdf -a "$f"
    rc_clean "$n: gcopy-out" bash -c 'rm -rf "$1" && mkdir "$1" && gcopy-out -a "$2" -m /dev/sda / "$1"' _ "$T/co" "$f"
done
done_testing
