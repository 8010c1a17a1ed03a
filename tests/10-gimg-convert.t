#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg convert -O raw against qemu-img convert -O raw (the oracle): the same
# bytes for every fixture and snapshot, and no data where qemu-img's output
# has a hole (qemu-img also allocates the first 4 KiB of a new raw file, so
# gimg's output may be sparser, never denser).
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
dir=$(fixture qcow2-fixtures) || exit 1
cd "$dir"

# Data segments (SEEK_DATA/SEEK_HOLE) of G must lie inside those of Q.
sparse_ok() { # G Q
    python3 - "$1" "$2" <<'PY'
import os, sys
def segs(p):
    fd = os.open(p, os.O_RDONLY); size = os.fstat(fd).st_size; off = 0; out = []
    while off < size:
        try: d = os.lseek(fd, off, os.SEEK_DATA)
        except OSError: break
        h = os.lseek(fd, d, os.SEEK_HOLE); out.append((d, h)); off = h
    return out
q = segs(sys.argv[2])
for s, e in segs(sys.argv[1]):
    if not any(qs <= s and e <= qe for qs, qe in q):
        print("gimg has data at %d-%d where qemu-img has a hole" % (s, e)); sys.exit(1)
PY
}

for img in *.qcow2 *.raw; do
    qemu-img convert -O raw "$img" "$T/q.raw"
    rm -f "$T/g.raw"
    ok "convert $img runs" gimg convert -O raw "$img" "$T/g.raw"
    same_file "$T/g.raw" "$T/q.raw" "convert $img: same bytes as qemu-img convert"
    ok "convert $img: at least as sparse as qemu-img's output" sparse_ok "$T/g.raw" "$T/q.raw"
done

# -f raw reads a qcow2 file as a raw disk
qemu-img convert -f raw -O raw c64k.qcow2 "$T/q.raw"
rm -f "$T/g.raw"
gimg convert -f raw -O raw c64k.qcow2 "$T/g.raw"
same_file "$T/g.raw" "$T/q.raw" "convert -f raw of a qcow2 file"

# Internal snapshots: -s and -l against qemu-img convert -l
for s in s1 s2 1 2 snapshot.id=1 snapshot.name=s2 snapshot.id=2,snapshot.name=s2; do
    qemu-img convert -O raw -l "$s" snap.qcow2 "$T/q.raw"
    rm -f "$T/g.raw"
    gimg convert -O raw -l "$s" snap.qcow2 "$T/g.raw"
    same_file "$T/g.raw" "$T/q.raw" "convert -l $s snap.qcow2"
done
for s in s1 2; do
    qemu-img convert -O raw -l "$s" snap.qcow2 "$T/q.raw"
    rm -f "$T/g.raw"
    gimg convert -O raw -s "$s" snap.qcow2 "$T/g.raw"
    same_file "$T/g.raw" "$T/q.raw" "convert -s $s snap.qcow2"
done
# A snapshot named "1" that is not the snapshot with ID 1: the bare form
# is ID first, snapshot.name= by name only, snapshot.id= by ID only.
qemu-img create -q -f qcow2 "$T/num.qcow2" 1M
for p in 1 2 3; do
    qemu-io -c "write -P $p 0 64k" "$T/num.qcow2" >/dev/null
    case $p in 1) qemu-img snapshot -c a "$T/num.qcow2" ;; 2) qemu-img snapshot -c 1 "$T/num.qcow2" ;; esac
done
for s in 1 2 a snapshot.name=1 snapshot.id=1 snapshot.id=2 snapshot.id=2,snapshot.name=1; do
    qemu-img convert -O raw -l "$s" "$T/num.qcow2" "$T/q.raw"
    rm -f "$T/g.raw"
    gimg convert -O raw -l "$s" "$T/num.qcow2" "$T/g.raw"
    same_file "$T/g.raw" "$T/q.raw" "convert -l $s with a snapshot named 1 (ID 2)"
done
fails_cleanly "convert -l snapshot.name=2 (there is only an ID 2)" \
    gimg convert -O raw -l snapshot.name=2 "$T/num.qcow2" "$T/g.raw"
# s1 was taken before the disk grew from 8 to 10 MiB: qemu-img keeps the
# current size and reads zeros past the snapshot's end (checked above).
qemu-img convert -O raw -l s1 snap.qcow2 "$T/q.raw"
is "$(stat -c %s "$T/q.raw")" 10485760 "qemu-img convert -l s1 is 10 MiB (the current size)"
if qemu-img convert -O raw -l snapshot.id=1,snapshot.name=s2 snap.qcow2 "$T/q.raw" 2>/dev/null; then
    diag "qemu-img accepted a mismatched id and name"
fi
fails_cleanly "convert -l with a mismatched id and name" \
    gimg convert -O raw -l snapshot.id=1,snapshot.name=s2 snap.qcow2 "$T/g.raw"
fails_cleanly "convert -s of a missing snapshot" gimg convert -O raw -s nosuch snap.qcow2 "$T/g.raw"

# Threads, -S 0, progress
for img in zlib.qcow2 ch16.qcow2 el2-ov.qcow2 c512.qcow2; do
    qemu-img convert -O raw "$img" "$T/q.raw"
    rm -f "$T/g.raw"
    gimg convert -m 3 -O raw "$img" "$T/g.raw"
    same_file "$T/g.raw" "$T/q.raw" "convert -m 3 $img"
done
rm -f "$T/g.raw"
gimg convert -S 0 -O raw c64k.qcow2 "$T/g.raw"
qemu-img convert -O raw c64k.qcow2 "$T/q.raw"
same_file "$T/g.raw" "$T/q.raw" "convert -S 0: same bytes"
is "$(du -B1 --apparent-size "$T/g.raw" | cut -f1)" "$(( $(stat -c %b "$T/g.raw") * 512 ))" \
    "convert -S 0 writes every block"
out=$(gimg convert -p -O raw zstd.qcow2 "$T/g.raw" | od -An -c | tr -d ' \n')
case "$out" in
    *'(0.00/100%)\r'*'(100.00/100%)\r\n') _tap_result 0 "convert -p prints qemu-img's progress bar" ;;
    *) _tap_result 1 "convert -p prints qemu-img's progress bar"; diag "got: $out" ;;
esac
is "$(gimg convert -O raw zstd.qcow2 "$T/g.raw")" "" "convert without -p prints nothing"

# Errors
fails_cleanly "convert of a missing file" gimg convert -O raw nosuch.qcow2 "$T/g.raw"
fails_cleanly "convert -O vdi is refused (gimg writes raw, qcow2 and vmdk)" gimg convert -O vdi c64k.qcow2 "$T/g.vdi"
cp ch1.qcow2 chbase.raw "$T/"
fails_cleanly "convert onto its own source is refused" gimg convert -O raw "$T/ch1.qcow2" "$T/ch1.qcow2"
fails_cleanly "convert onto its backing file is refused" gimg convert -O raw "$T/ch1.qcow2" "$T/chbase.raw"
same_file "$T/chbase.raw" chbase.raw "... and the backing file is intact"
fails_cleanly "convert to an unwritable place" gimg convert -O raw c64k.qcow2 /nonexistent/dir/x.raw
mkdir -p "$T/lone" && cp ch2.qcow2 "$T/lone/"
fails_cleanly "convert with a missing backing file" gimg convert -O raw "$T/lone/ch2.qcow2" "$T/g.raw"
grep -q ch1.qcow2 "$T/fc.err" && _tap_result 0 "the error names the backing file" ||
    { _tap_result 1 "the error names the backing file"; diag "$(cat "$T/fc.err")"; }
qemu-img create -q -f qcow2 -b "$dir/chbase.raw" -F raw "$T/abs.qcow2"
ok "a backing file elsewhere is read normally" gimg convert -O raw "$T/abs.qcow2" "$T/g.raw"
fails_cleanly "--untrusted refuses a backing file outside the image's directory" \
    gimg convert --untrusted -O raw "$T/abs.qcow2" "$T/g.raw"
fails_cleanly "GUESTKIT_UNTRUSTED=1 does the same" env GUESTKIT_UNTRUSTED=1 gimg convert -O raw "$T/abs.qcow2" "$T/g.raw"
ok "--untrusted reads a chain inside one directory" gimg --untrusted convert -O raw ch3.qcow2 "$T/g.raw"

done_testing
