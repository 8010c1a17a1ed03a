#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile and broken archives for gtar-in (also under ASan+UBSan): names
# escaping the target, links out of it, absurd sizes and owners, truncated
# and garbage input.  Each run ends with exit 0 or a clean exit 1, nothing
# lands outside the target, a file cut short is not left half-written, and
# e2fsck -fn stays clean.
. "$(dirname "$0")/lib.sh"

[ -x "$GK_BIN/gtar-in" ] || skip_all "needs gtar-in"
IMG=$T/disk.img
fresh() { rm -f "$IMG"; truncate -s 32M "$IMG"; mke2fs -q -F -t ext4 "$IMG"; gfsh --rw -a "$IMG" -m /dev/sda mkdir /t : write /canary precious; }
outside() { debugfs -R 'ls /' "$IMG" 2>/dev/null | tr -s ' ' '\n' | grep -vE '^(\.|\.\.|lost\+found|t|canary|[0-9]+|\([0-9]+\)|)$' | tr '\n' ' '; }

python3 - "$T" <<'EOF2'
import io, os, random, sys, tarfile
rnd = random.Random(1205)
T = sys.argv[1]
def mk(name, entries, fmt=tarfile.GNU_FORMAT):
    t = tarfile.open(os.path.join(T, name), 'w', format=fmt)
    for e in entries:
        ti, data = e
        t.addfile(ti, io.BytesIO(data) if data is not None else None)
    t.close()
def reg(name, data=b'x', **kw):
    ti = tarfile.TarInfo(name); ti.size = len(data)
    for k, v in kw.items(): setattr(ti, k, v)
    return ti, data
def oth(name, **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items(): setattr(ti, k, v)
    return ti, None
mk('escape.tar', [reg('../../up'), reg('/etc/abs'), reg('a/../../b'), reg('./../c'),
                  oth('l1', type=tarfile.SYMTYPE, linkname='/'), reg('l1/via-abs-link'),
                  oth('l2', type=tarfile.SYMTYPE, linkname='..'), reg('l2/via-dotdot-link'),
                  oth('d', type=tarfile.DIRTYPE), oth('d/l3', type=tarfile.SYMTYPE, linkname='../..'),
                  reg('d/l3/deeper/x'), oth('h1', type=tarfile.LNKTYPE, linkname='../canary'),
                  oth('h2', type=tarfile.LNKTYPE, linkname='/canary'), oth('h3', type=tarfile.LNKTYPE, linkname='nothere'),
                  oth('h4', type=tarfile.LNKTYPE, linkname='l1'), reg('ok')])
mk('names.tar', [reg('x' * 300), reg('/'.join(['dd'] * 2100)), reg('a' * 255 + '/b'),
                 reg('\n\x1b[31mred'), reg('sp ace'), reg('')], tarfile.PAX_FORMAT)
mk('owners.tar', [reg('o1', uid=2**31 + 5, gid=7), reg('o2', uid=0, gid=0, mode=0o7777),
                  oth('dev', type=tarfile.CHRTYPE, devmajor=4095, devminor=2**20 - 1),
                  oth('fifo', type=tarfile.FIFOTYPE), reg('mt', mtime=2**33)], tarfile.PAX_FORMAT)
ti = tarfile.TarInfo('xa'); ti.size = 1
ti.pax_headers = {'SCHILY.xattr.user.a': 'v', 'SCHILY.xattr.bogus': 'v', 'SCHILY.xattr.security.selinux': 'x' * 70000}
mk('xattrs.tar', [(ti, b'1')], tarfile.PAX_FORMAT)
# a member whose data is cut short, and random garbage
big = reg('big', rnd.randbytes(200000))
mk('full.tar', [reg('first', b'1'), big, reg('after', b'2')])
data = open(os.path.join(T, 'full.tar'), 'rb').read()
open(os.path.join(T, 'cut.tar'), 'wb').write(data[:100000])
open(os.path.join(T, 'garbage.tar'), 'wb').write(rnd.randbytes(50000))
open(os.path.join(T, 'gzjunk.tar.gz'), 'wb').write(b'\x1f\x8b\x08\x00' + rnd.randbytes(5000))
open(os.path.join(T, 'empty.tar'), 'wb').write(b'')
# a header with a bad checksum and a size field of nines
h = bytearray(tarfile.TarInfo('bad').tobuf(tarfile.USTAR_FORMAT))
h[124:136] = b'77777777777\0'
open(os.path.join(T, 'badsum.tar'), 'wb').write(bytes(h) + b'\0' * 1024)
EOF2

for a in escape names owners xattrs cut garbage gzjunk empty badsum; do
    f=$T/$a.tar
    [ -e "$f" ] || f=$T/$a.tar.gz
    fresh
    rc=0; timeout 60 gtar-in -a "$IMG" -m /dev/sda --xattrs "$f" /t >"$T/out" 2>"$T/err" || rc=$?
    if { [ $rc = 0 ] || [ $rc = 1 ]; } && ! grep -qE 'Sanitizer|runtime error|Segmentation' "$T/err"; then
        _tap_result 0 "$a: exit $rc, cleanly"
    else
        _tap_result 1 "$a: exit $rc"
        diag "$(head -n 8 "$T/err")"
    fi
    is "$(outside)" "" "$a: nothing outside the target"
    is "$(debugfs -R 'cat /canary' "$IMG" 2>/dev/null)" "precious" "$a: the file outside is untouched"
    ok "$a: e2fsck -fn is clean" e2fsck -fn "$IMG"
    case $a in
    escape)
        is "$(debugfs -R 'ls /t' "$IMG" 2>/dev/null | tr -s ' ' '\n' | grep -E '^(etc|ok|l1|l2|d)$' | sort | tr '\n' ' ')" \
           "d etc l1 l2 ok " "escape: the safe members are there (links as links)" ;;
    cut)
        is "$rc" 1 "cut: a truncated archive is an error"
        is "$(debugfs -R 'ls /t' "$IMG" 2>/dev/null | grep -c big)" 0 "cut: the member cut short is not left half-written"
        is "$(debugfs -R 'cat /t/first' "$IMG" 2>/dev/null)" "1" "cut: the member before it is there" ;;
    garbage|gzjunk|badsum)
        is "$rc" 1 "$a: refused" ;;
    esac
done
done_testing
