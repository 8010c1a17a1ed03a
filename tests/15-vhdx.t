#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# VHDX read (test-images/vhdx.sh): fixed and dynamic disks qemu-img makes,
# 1 MiB blocks over a large disk, and logs left to replay: replayed in
# memory (the file is never written) to what qemu-img check -r all makes of
# it, and into the file by gimg check -r as by qemu-img check -r; a guest
# on VHDX read by gcat/gls/ginspect.  Oracle: qemu-img.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-formats.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
dir=$(fixture vhdx) || exit 1
cd "$dir"

for f in dynamic fixed bs1 c; do
    same_as_qemu vhdx $f.vhdx
done
is "$(gimg info dynamic.vhdx)" "$(qemu-img info dynamic.vhdx)" "info (human) dynamic.vhdx"
for f in dynamic fixed bs1 c; do
    is "$(gimg check --output=json $f.vhdx 2>&1)" "$(qemu-img check --output=json $f.vhdx 2>&1)" \
       "check $f.vhdx: as qemu-img check"
done
gimg check dirty.vhdx >/dev/null 2>"$T/err"; is $? 1 "check dirty.vhdx fails, as qemu-img check (it cannot open it)"
grep -q 'log needs replaying' "$T/err"; is $? 0 "  saying the log needs replaying"
# map opens it read-only as qemu-img map does: refused before any output
for f in dirty badtail; do
    for o in human json; do
        like_qemu_img "map --output=$o $f.vhdx: refused, nothing printed, as qemu-img" map --output=$o $f.vhdx
        is "$(sed 's/^gimg:/qemu-img:/' "$T/g.err")" "$(cat "$T/q.err")" "  and its message"
    done
done

# a log to replay: qemu-img refuses to read it until check -r all writes
# the replay into the file; we replay it in memory
qemu-img info dirty.vhdx >/dev/null 2>&1; is $? 1 "qemu-img refuses dirty.vhdx read-only (as expected)"
qemu-img convert -O raw replayed.vhdx "$T/q.raw"
before=$(md5sum <dirty.vhdx)
for f in dirty badtail; do
    rm -f "$T/g.raw"
    gimg convert -O raw $f.vhdx "$T/g.raw" 2>"$T/err"
    same_file "$T/g.raw" "$T/q.raw" "$f.vhdx: the log replayed in memory, as qemu-img check -r all replays it"
    grep -q 'replayed in memory' "$T/err"; is $? 0 "$f.vhdx: a warning says the log was replayed"
done
is "$(md5sum <dirty.vhdx)" "$before" "dirty.vhdx is not written"
qemu-img convert -O raw c.vhdx "$T/c.raw"
cmp -s "$T/c.raw" "$T/q.raw"; is $? 1 "(the replay changes what the disk reads)"

# check -r (leaks or all) writes the replay into the file, as qemu-img
# check -r does: the same output and status, the result reads as qemu's,
# qemu-img check is clean and qemu opens it read-only again
for f in dirty badtail; do
    for m in leaks all; do
        cp $f.vhdx "$T/g.vhdx"
        cp $f.vhdx "$T/q.vhdx"
        gr=0 qr=0
        go=$(gimg check -r $m "$T/g.vhdx" 2>&1) || gr=$?
        qo=$(qemu-img check -r $m "$T/q.vhdx" 2>&1) || qr=$?
        is "$go [$gr]" "$qo [$qr]" "check -r $m $f.vhdx: the log replayed into the file, as qemu-img says"
        ok "  reads as qemu's replay" qemu-img compare -q -f vhdx -F vhdx "$T/g.vhdx" "$T/q.vhdx"
        ok "  qemu-img check clean, qemu opens it read-only" \
            sh -c "qemu-img check -q '$T/g.vhdx' && qemu-img info '$T/g.vhdx' >/dev/null"
    done
done
cp dirty.vhdx "$T/g.vhdx"
cp dirty.vhdx "$T/q.vhdx"
is "$(gimg check --output=json -r all "$T/g.vhdx" 2>&1 | sed 's/g\.vhdx/x/')" \
   "$(qemu-img check --output=json -r all "$T/q.vhdx" 2>&1 | sed 's/q\.vhdx/x/')" "check -r all --output=json dirty.vhdx: as qemu-img"

# a truncated image (its last blocks past the end of the file): opening
# refuses it, qemu-img check counts each block, with qemu's messages
qemu-img create -q -f vhdx -o block_size=1M "$T/t.vhdx" 8M
qemu-io -f vhdx -c 'write -P 0x61 0 8M' "$T/t.vhdx" >/dev/null
full=$(stat -c %s "$T/t.vhdx")
for cut in 512k 3076k; do
    truncate -s $(( full - $(numfmt --from=iec "${cut^^}") )) "$T/t.vhdx"
    gr=0 qr=0
    ge=$(gimg check "$T/t.vhdx" 2>&1) || gr=$?
    qe=$(qemu-img check "$T/t.vhdx" 2>&1) || qr=$?
    is "${ge//gimg:/qemu-img:} [$gr]" "$qe [$qr]" "check of a VHDX cut by $cut: qemu-img check's errors and status"
    is "$(gimg check --output=json "$T/t.vhdx" 2>/dev/null)" "$(qemu-img check --output=json "$T/t.vhdx" 2>/dev/null)" \
       "  and its JSON"
    gr=0 qr=0
    ge=$(gimg check -r all "$T/t.vhdx" 2>&1) || gr=$?
    qe=$(qemu-img check -r all "$T/t.vhdx" 2>&1) || qr=$?
    is "${ge//gimg:/qemu-img:} [$gr]" "$qe [$qr]" "  check -r all: nothing repaired, the same errors and status"
    fails_cleanly "  not read" gimg convert -O raw "$T/t.vhdx" "$T/t.raw"
done

g=$(fixture guests) || exit 1
for sub in dynamic fixed; do
    qemu-img convert -O vhdx -o subformat=$sub "$g/debian.img" "$T/debian-$sub.vhdx"
    is "$(gcat -a "$T/debian-$sub.vhdx" /etc/fstab 2>&1)" "$(gcat -a "$g/debian.img" /etc/fstab 2>&1)" \
       "gcat of a $sub VHDX guest"
    is "$(gls -a "$T/debian-$sub.vhdx" -lR /etc 2>&1 | md5sum)" "$(gls -a "$g/debian.img" -lR /etc 2>&1 | md5sum)" \
       "gls -lR of a $sub VHDX guest"
    is "$(ginspect -a "$T/debian-$sub.vhdx" 2>&1 | md5sum)" "$(ginspect -a "$g/debian.img" 2>&1 | md5sum)" \
       "ginspect of a $sub VHDX guest"
done
done_testing
