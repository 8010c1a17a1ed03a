#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg create -f vmdk and gimg convert -O vmdk (monolithicSparse): qemu-img
# reads back what we wrote (qemu-img check, compare, convert -O raw) and
# describes it as it describes its own; streamOptimized output (compressed
# grains) as qemu-img writes it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-formats.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
dir=$(fixture vmdk) || exit 1

ok "create -f vmdk" gimg create -q -f vmdk "$T/e.vmdk" 100M
ok "qemu-img check of an empty image" qemu-img check "$T/e.vmdk"
qemu-img create -q -f vmdk "$T/q.vmdk" 100M
is "$(qemu-img info --output=json "$T/e.vmdk" | info_fields | grep -v 'filename\|actual-size')" \
   "$(qemu-img info --output=json "$T/q.vmdk" | info_fields | grep -v 'filename\|actual-size')" \
   "qemu-img describes it as its own monolithicSparse image"

for src in "$dir/src.raw" "$dir/monolithicSparse.vmdk" "$dir/vmw.vmdk" "$dir/twoGbMaxExtentFlat.vmdk"; do
    n=$(basename "$src")
    rm -f "$T/o.vmdk"
    ok "convert -O vmdk $n" gimg convert -O vmdk "$src" "$T/o.vmdk"
    ok "qemu-img check of it" qemu-img check "$T/o.vmdk"
    ok "qemu-img compare: the same disk as $n" qemu-img compare "$src" "$T/o.vmdk"
done
# the layout too: grains in disk order, as qemu-img converts; -c is taken
# (a monolithicSparse image stores grains as they are, as qemu's does)
for c in "" -c; do
    rm -f "$T/o.vmdk" "$T/q.vmdk"
    gimg convert $c -O vmdk "$dir/src.raw" "$T/o.vmdk"
    qemu-img convert $c -O vmdk "$dir/src.raw" "$T/q.vmdk"
    is "$(qemu-img map --output=json "$T/o.vmdk")" "$(qemu-img map --output=json "$T/q.vmdk")" \
       "convert $c -O vmdk src.raw: qemu-img map (host offsets too) as qemu's own conversion"
done
qr=0 gr=0
qe=$(qemu-img convert -c -O vhdx "$dir/src.raw" "$T/c.vhdx" 2>&1) || qr=$?
ge=$(gimg convert -c -O vhdx "$dir/src.raw" "$T/c.vhdx" 2>&1) || gr=$?
is "${ge/gimg:/qemu-img:} [$gr]" "$qe [$qr]" "convert -c -O vhdx: refused as qemu-img refuses it"
rm -f "$T/z.vmdk"
ok "convert -O vmdk -o zeroed_grain=on" gimg convert -O vmdk -o zeroed_grain=on "$dir/zg.vmdk" "$T/z.vmdk"
ok "qemu-img compare zg.vmdk" qemu-img compare "$dir/zg.vmdk" "$T/z.vmdk"

# streamOptimized: compressed grains behind markers, as qemu writes them
for src in "$dir/src.raw" "$dir/so.vmdk"; do
    n=$(basename "$src")
    rm -f "$T/s.vmdk" "$T/q.vmdk" "$T/g.raw" "$T/q.raw"
    ok "convert -O vmdk -o subformat=streamOptimized $n" \
        gimg convert -O vmdk -o subformat=streamOptimized "$src" "$T/s.vmdk"
    ok "  qemu-img check of it" qemu-img check "$T/s.vmdk"
    qemu-img convert -O raw "$src" "$T/q.raw"
    qemu-img convert -O raw "$T/s.vmdk" "$T/g.raw"
    same_file "$T/g.raw" "$T/q.raw" "  qemu-img convert -O raw of it: the bytes of $n"
    qemu-img convert -O vmdk -o subformat=streamOptimized "$src" "$T/q.vmdk"
    is "$(qemu-img map --output=json "$T/s.vmdk")" "$(qemu-img map --output=json "$T/q.vmdk")" \
       "  qemu-img map: as qemu's own streamOptimized conversion"
    is "$(qemu-img info --output=json "$T/s.vmdk" | grep -v 'cid\|actual-size\|filename')" \
       "$(qemu-img info --output=json "$T/q.vmdk" | grep -v 'cid\|actual-size\|filename')" \
       "  qemu-img info: as qemu's own (compressed extent, createType)"
done
(cd "$T" && rm -f sq.vmdk && qemu-img create -f vmdk -o subformat=streamOptimized,adapter_type=lsilogic sq.vmdk 3M \
    >"$T/q.out" 2>&1)
(cd "$T" && rm -f sq.vmdk && gimg create -f vmdk -o subformat=streamOptimized,adapter_type=lsilogic sq.vmdk 3M \
    >"$T/g.out" 2>&1)
is "$(cat "$T/g.out")" "$(cat "$T/q.out")" "create -o subformat=streamOptimized: qemu-img's line"
ok "  qemu-io writes a grain into it" qemu-io -f vmdk -c 'write -P 7 64k 64k' "$T/sq.vmdk"
fails_cleanly "  a grain written twice is refused (as qemu-io refuses it)" \
    gimg convert -n -O vmdk "$dir/src.raw" "$T/sq.vmdk"
ok "  qemu-img check of it" qemu-img check "$T/sq.vmdk"

# create -f vmdk with qemu-img's options: its line, status and message, and
# its file (the descriptor but the random CID: geometry by adapter, DDB)
mkdir -p "$T/cq" "$T/cg"
vmdk_like() { # SIZE OPTIONS
    local qo go qr=0 gr=0
    rm -f "$T/cq/img" "$T/cg/img"
    qo=$(cd "$T/cq" && qemu-img create -f vmdk ${2:+-o "$2"} img $1 2>&1) || qr=$?
    go=$(cd "$T/cg" && gimg create -f vmdk ${2:+-o "$2"} img $1 2>&1) || gr=$?
    is "${go//gimg:/qemu-img:} [exit $gr]" "$qo [exit $qr]" "create -f vmdk ${2:+-o $2 }$1: qemu-img's output"
    [ "$qr" = 0 ] && [ "$gr" = 0 ] || return 0
    # (qemu's CID is random and written without leading zeros)
    is "$(python3 - "$T/cg/img" "$T/cq/img" <<'PY'
import re, sys
def parts(path):
    b = open(path, "rb").read()
    return b[:512], re.sub(rb"\nCID=[0-9a-f]+\n", b"\nCID=\n", b[512:21 * 512].rstrip(b"\0")), b[21 * 512:]
g, q = parts(sys.argv[1]), parts(sys.argv[2])
print("same" if g == q else "header" if g[0] != q[0] else "descriptor" if g[1] != q[1] else "tables")
PY
)" same "  the bytes of qemu-img's file but the CID"
}
for s in 100M 10000 10G; do
    vmdk_like $s
done
for o in adapter_type=lsilogic adapter_type=buslogic,zeroed_grain=on adapter_type=legacyESX hwversion=7 \
         compat6=on toolsversion=99 subformat=streamOptimized,adapter_type=lsilogic,compat6=on \
         compat6=on,hwversion=7 compat6=bad adapter_type=bad subformat=bad subformat=vmfs; do
    vmdk_like 3G $o
done
vmdk_like ""

g=$(fixture guests) || exit 1
ok "convert a guest to vmdk" gimg convert -O vmdk "$g/debian.img" "$T/debian.vmdk"
ok "qemu-img check of the guest" qemu-img check "$T/debian.vmdk"
ok "qemu-img compare with the guest" qemu-img compare "$g/debian.img" "$T/debian.vmdk"
is "$(gcat -a "$T/debian.vmdk" /etc/fstab 2>&1)" "$(gcat -a "$g/debian.img" /etc/fstab 2>&1)" "gcat of it"
ok "convert a guest to streamOptimized" gimg convert -O vmdk -o subformat=streamOptimized "$g/debian.img" "$T/ds.vmdk"
ok "  qemu-img compare with the guest" qemu-img compare "$g/debian.img" "$T/ds.vmdk"
# the stream itself is qemu's, byte for byte (grains deflated alike, in
# disk order whatever the readers' order), but the CID (qemu's is random,
# written without leading zeros), its length too (zeros to a grain past the
# last grain's start; where the last grain does not compress, gimg's is one
# end-of-stream sector longer: not so for this disk).  The descriptor is
# compared as the C string qemu and VMware read: qemu rewrites it with a new
# random CID on its first write without clearing the old text's tail, so
# where the new CID is two or more digits shorter (about 1 run in 250) its
# sectors hold stale bytes past the terminating NUL.  Ours must be all zeros
# there.
mkdir -p "$T/sg" "$T/sq"
rm -f "$T/sg/s.vmdk" "$T/sq/s.vmdk"
ok "convert -m 8 to streamOptimized" gimg convert -m 8 -O vmdk -o subformat=streamOptimized "$dir/src.raw" "$T/sg/s.vmdk"
qemu-img convert -O vmdk -o subformat=streamOptimized "$dir/src.raw" "$T/sq/s.vmdk"
is "$(python3 - "$T/sg/s.vmdk" "$T/sq/s.vmdk" <<'PY'
import re, sys
def parts(path):
    b = open(path, "rb").read()
    text, _, pad = b[512:21 * 512].partition(b"\0")
    desc = re.sub(rb"\nCID=[0-9a-f]+\n", b"\nCID=\n", text, count=1)
    return b[:512], desc, b[21 * 512:], pad.strip(b"\0")
g, q = parts(sys.argv[1]), parts(sys.argv[2])
print("header" if g[0] != q[0] else "descriptor" if g[1] != q[1] else "padding" if g[3] else
      "grains" if q[2][:len(g[2])] != g[2] else "tail" if q[2][len(g[2]):].strip(b"\0") else
      "length %d, qemu's %d" % (len(g[2]), len(q[2])) if len(g[2]) != len(q[2]) else "same")
PY
)" same "  the bytes of qemu's own conversion but the CID, and its length"
done_testing
