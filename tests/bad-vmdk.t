#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile VMDK images (test-images/vmdk-hostile.sh): what qemu-img refuses
# is refused with a one-line "gimg: FILE: ..." error and exit status 1
# (never a crash or a sanitizer report); what qemu-img reads reads the same
# bytes.  Where qemu-img itself crashes, loops or hangs (nested descriptors,
# parent loops, a megabyte of blank lines, thousands of extents) gimg
# refuses within bounded CPU time.  A descriptor naming a file by absolute
# path is followed like qemu, and refused with --untrusted.
. "$(dirname "$0")/lib.sh"
[ -x "$GK_BIN/gimg" ] || skip_all "needs gimg"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
dir=$(fixture vmdk-hostile) || exit 1
cd "$dir"

# qemu-img refuses these (to open, or to read them)
for f in h-version h-gtes h-gtes0 h-grain0 h-grainbig h-capacity h-overhead h-gdhuge \
         c-deflate c-footer c-footer-eos c-gtcomp c-size0 c-sizebig \
         d-notype d-custom d-nooffset d-negoffset d-bigsectors d-missing d-notsparse d-self d-json \
         d-proto d-sesparse p-missing; do
    if qemu-img convert -O raw $f.vmdk "$T/q.raw" >/dev/null 2>&1; then
        _tap_result 1 "qemu-img refuses $f.vmdk (the oracle changed?)"
        continue
    fi
    fails_cleanly "refuses $f.vmdk as qemu-img does" gimg convert -O raw $f.vmdk "$T/g.raw"
done
# seSparse extents qemu refuses (test-images/mkvmdk-sesparse.py, then a
# field changed): a journal to replay, a bad const header magic, an
# unsupported grain size (to open); a directory entry without its 0x1 tag,
# a grain table entry of an unknown kind (to read: check says where, as
# qemu-img check)
mkdir -p "$T/se"
qemu-img create -q -f raw "$T/se/src.raw" 4M
qemu-io -f raw -c 'write -P 0x41 0 64k' -c 'write -P 0x42 3M 8k' "$T/se/src.raw" >/dev/null
poke() { # FILE OFFSET BYTE
    printf "\\x$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
for c in dirty magic grain gd gt; do
    python3 "$TOP/test-images/mkvmdk-sesparse.py" "$T/se/src.raw" "$T/se/$c-s.vmdk" $([ $c = dirty ] && echo 1)
    case $c in
        magic) poke "$T/se/$c-s.vmdk" 0 00 ;;
        grain) poke "$T/se/$c-s.vmdk" 24 10 ;;
        gd) poke "$T/se/$c-s.vmdk" $((8 * 512 + 7)) 20 ;;
        gt) poke "$T/se/$c-s.vmdk" $((9 * 512 + 7)) 40 ;;
    esac
    printf '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="seSparse"\n\n# Extent description\nRW 8192 SESPARSE "%s-s.vmdk"\n' $c \
        >"$T/se/$c.vmdk"
    if qemu-img convert -O raw "$T/se/$c.vmdk" "$T/q.raw" >/dev/null 2>&1; then
        _tap_result 1 "qemu-img refuses seSparse $c.vmdk (the fixture changed?)"
        continue
    fi
    fails_cleanly "refuses seSparse $c.vmdk as qemu-img does" gimg convert -O raw "$T/se/$c.vmdk" "$T/g.raw"
    case $c in
        gd|gt) is "$(gimg check "$T/se/$c.vmdk" 2>&1 | sed 's/^gimg:/qemu-img:/'; echo "[exit ${PIPESTATUS[0]}]")" \
                  "$(qemu-img check "$T/se/$c.vmdk" 2>&1; echo "[exit $?]")" "  check $c.vmdk: as qemu-img check" ;;
    esac
done

# qemu-img crashes, loops or hangs on these, or reads them wrongly (a
# flat offset past 2^63 bytes): refused here
for f in d-nested p-self p-a p-b d-many d-blank d-bigoffset; do
    fails_cleanly "refuses $f.vmdk" gimg convert -O raw $f.vmdk "$T/g.raw"
done
fails_cleanly "info refuses a parent loop" gimg info --backing-chain p-a.vmdk
grep -q 'loops' "$T/fc.err"; is $? 0 "... saying the chain loops"

# qemu-img reads these: the same bytes
for f in h-flags h-gdoff t-gdpast t-gtpast t-gthdr t-gtone c-footer-gd d-rdonly d-zero u-abs; do
    qemu-img convert -O raw $f.vmdk "$T/q.raw"
    rm -f "$T/g.raw"
    ok "reads $f.vmdk" bounded 30 gimg convert -O raw $f.vmdk "$T/g.raw"
    same_file "$T/g.raw" "$T/q.raw" "$f.vmdk: the bytes qemu-img reads"
done
# qemu-img check of these: the same messages (grains past the end of the
# file fail the check), the same status
check_like() { # FILE
    local go qo gr=0 qr=0
    go=$(bounded 30 gimg check "$1" 2>&1) || gr=$?
    qo=$(qemu-img check "$1" 2>&1) || qr=$?
    is "${go//gimg:/qemu-img:} [exit $gr]" "$qo [exit $qr]" "check $1: as qemu-img check"
}
for f in h-flags h-gdoff h-capacity2 t-gdpast t-gtpast t-gthdr t-gtone c-footer-gd c-gtcomp d-rdonly d-zero; do
    check_like $f.vmdk
done
ok "a field spread over 400000 lines is read in bounded time" bounded 30 gimg convert -O raw d-spaces.vmdk "$T/g.raw"

# VMFS sparse (COWD) extents with a header field changed: a granularity of 0
# (qemu-img dies of SIGFPE) or too big, a grain directory too big or not
# covering the disk: refused cleanly; a grain table past the end reads as
# qemu reads it
python3 -c 'import random,sys; sys.stdout.buffer.write(random.Random(5).randbytes(300000))' >"$T/cs.raw"
truncate -s 1M "$T/cs.raw"
python3 "$TOP/test-images/mkvmdk-cowd.py" "$T/cs.raw" "$T/cowd.bin" 8
python3 - "$T" <<'PY'
import struct, sys
d = sys.argv[1]
b = open(d + "/cowd.bin", "rb").read()
for name, off, val in (("g0", 16, 0), ("gbig", 16, 0x400000), ("l1big", 24, 0xffffffff), ("l1small", 24, 0),
                       ("cap", 12, 0xffffffff), ("gdpast", 20, 0xfffffff0)):
    c = bytearray(b)
    struct.pack_into("<I", c, off, val)
    open("%s/%s-s.vmdk" % (d, name), "wb").write(c)
    open("%s/%s.vmdk" % (d, name), "w").write('# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n'
        'createType="vmfsSparse"\n\n# Extent description\nRW 2048 VMFSSPARSE "%s-s.vmdk"\n' % name)
PY
for f in g0 gbig l1big l1small cap; do
    fails_cleanly "refuses COWD $f.vmdk" gimg convert -O raw "$T/$f.vmdk" "$T/g.raw"
done
rm -f "$T/g.raw"
qemu-img convert -O raw "$T/gdpast.vmdk" "$T/q.raw"
ok "reads COWD gdpast.vmdk" bounded 30 gimg convert -O raw "$T/gdpast.vmdk" "$T/g.raw"
same_file "$T/g.raw" "$T/q.raw" "gdpast.vmdk: the bytes qemu-img reads"

fails_cleanly "--untrusted refuses an extent by absolute path" gimg convert --untrusted -O raw u-abs.vmdk "$T/g.raw"
grep -q 'outside the image' "$T/fc.err"; is $? 0 "... saying it is outside the image's directory"
GUESTKIT_UNTRUSTED=1 bounded 30 gimg info u-abs.vmdk >/dev/null 2>"$T/e"
grep -q 'outside the image' "$T/e"; is $? 0 "GUESTKIT_UNTRUSTED=1: info refuses it too"
done_testing
