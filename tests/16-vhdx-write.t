#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg create -f vhdx and gimg convert -O vhdx (dynamic, fixed): qemu-img
# reads back what we wrote (check, compare, convert -O raw byte-identical to
# its own conversion of the source), describes it as it describes its own,
# and writes into it (qemu-io); create prints qemu-img's line and refuses
# what it refuses with its message.  Oracle: qemu-img 7.2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-formats.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
dir=$(fixture vhdx) || exit 1
mkdir -p "$T/q" "$T/g"

fields() { qemu-img info --output=json "$1" | info_fields | grep -v 'filename\|actual-size'; }

create_like() { # SIZE ARGS...
    local size=$1; shift
    local qo go qr=0 gr=0
    rm -f "$T/q/img" "$T/g/img"
    qo=$(cd "$T/q" && qemu-img create -f vhdx "$@" img $size 2>&1) || qr=$?
    go=$(cd "$T/g" && gimg create -f vhdx "$@" img $size 2>&1) || gr=$?
    is "${go//gimg:/qemu-img:} [exit $gr]" "$qo [exit $qr]" "create -f vhdx $* $size: qemu-img's output"
    if [ "$qr" = 0 ] && [ "$gr" = 0 ]; then
        ok "  qemu-img check of it" qemu-img check -q "$T/g/img"
        is "$(fields "$T/g/img")" "$(fields "$T/q/img")" "  qemu-img describes it as its own"
    fi
}
create_like 100M
create_like 10000
create_like 3G
create_like 101G
create_like 10M -o subformat=fixed
create_like 300M -o block_size=1M,log_size=2M
create_like 10M -o block_state_zero=off,subformat=dynamic,block_size=2M,log_size=2M
create_like 10M -o block_size=512M
create_like 10M -o block_size=3M
create_like 10M -o subformat=bad
create_like 65T
create_like 10M -b base.vhdx -F vhdx
create_like ""

# convert: the same disk as the source, read back by qemu-img
python3 -c '
import random, sys
r = random.Random(12)
with open(sys.argv[1], "wb") as f:
    f.truncate(40 << 20)
    for off, n in ((0, 300000), (9 << 20, 1 << 20), (25 << 20, 4096), ((40 << 20) - 70000, 70000)):
        f.seek(off); f.write(r.randbytes(n))
' "$T/src.raw"
for case in src.raw: src.raw:subformat=fixed src.raw:block_size=1M,block_state_zero=off dynamic.vhdx: bs1.vhdx:; do
    o=${case#*:} src=$dir/${case%%:*}
    [ "${case%%:*}" = src.raw ] && src=$T/src.raw
    {
        n="$(basename "$src")${o:+ -o $o}"
        rm -f "$T/o.vhdx" "$T/q.raw" "$T/g.raw"
        ok "convert -O vhdx $n" gimg convert -O vhdx ${o:+-o $o} "$src" "$T/o.vhdx"
        ok "  qemu-img check" qemu-img check -q "$T/o.vhdx"
        qemu-img convert -O raw "$src" "$T/q.raw"
        qemu-img convert -O raw "$T/o.vhdx" "$T/g.raw"
        same_file "$T/g.raw" "$T/q.raw" "  qemu-img convert -O raw of it: the bytes of the source"
    }
done

# qemu writes into what we made; we write into what qemu made
gimg convert -O vhdx "$T/src.raw" "$T/o.vhdx"
qemu-io -f vhdx -c 'write -P 0x5a 30M 1M' -c 'write -z 0 64k' -c 'write -P 0x3c 39M 8k' "$T/o.vhdx" >/dev/null
ok "qemu-io writes into it, qemu-img check" qemu-img check -q "$T/o.vhdx"
same_as_qemu vhdx "$T/o.vhdx"
qemu-img create -q -f vhdx "$T/qm.vhdx" 40M
ok "convert -n -O vhdx into qemu's image" gimg convert -n -O vhdx "$T/src.raw" "$T/qm.vhdx"
ok "  qemu-img check" qemu-img check -q "$T/qm.vhdx"
ok "  qemu-img compare" qemu-img compare -q "$T/src.raw" "$T/qm.vhdx"
cp "$dir/dirty.vhdx" "$T/dirty.vhdx"
fails_cleanly "a log to replay: not written" gimg convert -n -O vhdx "$T/src.raw" "$T/dirty.vhdx"
same_file "$T/dirty.vhdx" "$dir/dirty.vhdx" "  and left as it was"

g=$(fixture guests) || exit 1
ok "convert a guest to vhdx" gimg convert -O vhdx "$g/debian.img" "$T/debian.vhdx"
ok "  qemu-img check" qemu-img check -q "$T/debian.vhdx"
ok "  qemu-img compare" qemu-img compare -q "$g/debian.img" "$T/debian.vhdx"
is "$(gcat -a "$T/debian.vhdx" /etc/fstab 2>&1)" "$(gcat -a "$g/debian.img" /etc/fstab 2>&1)" "  gcat of it"
done_testing
