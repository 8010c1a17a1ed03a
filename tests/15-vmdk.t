#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# VMDK read (test-images/vmdk.sh): every subformat qemu-img makes, streams
# as VMware writes them, several extents, parent links, extents named by a
# descriptor (followed like qemu, refused outside the image's directory
# with --untrusted), VMFS sparse (COWD) and ESXi seSparse extents, and a
# guest on VMDK read by gcat/gls/ginspect.
# Oracle: qemu-img convert/map/info on the same files.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-formats.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
dir=$(fixture vmdk) || exit 1
cd "$dir"

for f in monolithicSparse monolithicFlat twoGbMaxExtentSparse twoGbMaxExtentFlat zg so vmw big child; do
    same_as_qemu vmdk $f.vmdk
done
same_as_qemu vmdk sub/desc.vmdk
is "$(gimg info --output=json --backing-chain child.vmdk | info_fields)" \
   "$(qemu-img info --output=json --backing-chain child.vmdk | info_fields)" "info --backing-chain child.vmdk"
is "$(gimg info -f vmdk monolithicSparse.vmdk | head -n 5)" "$(qemu-img info monolithicSparse.vmdk | head -n 5)" \
   "info (human) monolithicSparse.vmdk"
# qemu's "format-specific" block (cid, parent-cid, create-type, extents),
# in JSON and human form, and check
for f in monolithicSparse monolithicFlat twoGbMaxExtentSparse twoGbMaxExtentFlat zg so vmw big child sub/desc; do
    is "$(gimg info --output=json $f.vmdk 2>&1)" "$(qemu-img info --output=json $f.vmdk 2>&1)" \
       "info --output=json $f.vmdk: all of qemu-img's, format-specific too"
    is "$(gimg info $f.vmdk 2>&1)" "$(qemu-img info $f.vmdk 2>&1)" "info $f.vmdk: qemu-img's text"
    is "$(gimg check --output=json $f.vmdk 2>&1)" "$(qemu-img check --output=json $f.vmdk 2>&1)" \
       "check $f.vmdk: as qemu-img check"
done
ok "probed as vmdk: a descriptor" sh -c 'gimg info --output=json monolithicFlat.vmdk | grep -q "\"format\": \"vmdk\""'

# the parent changed after the child was made: qemu refuses to read through
qemu-img convert -O raw cidbad.vmdk "$T/q.raw" 2>/dev/null && diag "qemu-img read cidbad.vmdk?"
fails_cleanly "a child whose parent CID does not match is not read" gimg convert -O raw cidbad.vmdk "$T/g.raw"
ok "... but what it holds itself is" gimg map cidbad.vmdk

# extents outside the image's directory: --untrusted refuses them
fails_cleanly "--untrusted refuses an extent in ../" gimg convert --untrusted -O raw sub/desc.vmdk "$T/g.raw"
grep -q 'outside the image' "$T/fc.err"; is $? 0 "... saying it is outside the image's directory"
ok "--untrusted reads extents beside the descriptor" gimg convert --untrusted -O raw twoGbMaxExtentFlat.vmdk "$T/g.raw"

# a vmfsSparse descriptor naming a COWD extent (ESX redo logs; written by
# test-images/mkvmdk-cowd.py from src.raw: qemu-img cannot make one), grains
# of 1 and 8 sectors, tables and grains stored out of order
mkdir -p "$T/cowd"
for g in 1 8; do
    python3 "$TOP/test-images/mkvmdk-cowd.py" src.raw "$T/cowd/c$g-s.vmdk" $g
    printf '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="vmfsSparse"\n\n# Extent description\nRW 16384 VMFSSPARSE "c%s-s.vmdk"\n' $g \
        >"$T/cowd/c$g.vmdk"
    same_as_qemu vmdk "$T/cowd/c$g.vmdk"
    is "$(gimg info --output=json "$T/cowd/c$g.vmdk" 2>&1)" "$(qemu-img info --output=json "$T/cowd/c$g.vmdk" 2>&1)" \
       "info --output=json c$g.vmdk (COWD): all of qemu-img's"
    is "$(gimg check "$T/cowd/c$g.vmdk" 2>&1)" "$(qemu-img check "$T/cowd/c$g.vmdk" 2>&1)" \
       "check c$g.vmdk (COWD): as qemu-img check"
done
# qemu-img opens a COWD extent only through a descriptor
qemu-img info "$T/cowd/c8-s.vmdk" >/dev/null 2>&1 && diag "qemu-img opened a bare COWD extent?"
fails_cleanly "a bare COWD extent is refused, as qemu-img refuses it" gimg info -f vmdk "$T/cowd/c8-s.vmdk"

# an ESXi seSparse extent behind a seSparse descriptor (written by
# test-images/mkvmdk-sesparse.py: qemu-img cannot make one; the layout is
# the one qemu reads): 40 MiB, data in two of its three grain tables (the
# middle one absent), zero, unmapped and unallocated grains, grain numbers
# past 4095, stored out of order.  The fixture is what it means to be when
# qemu-img convert reads the source back from it byte for byte.
mkdir -p "$T/se"
qemu-img create -q -f raw "$T/se/src.raw" 40M
qemu-io -f raw -c 'write -P 0x41 0 1M' -c 'write -P 0x42 1100k 300k' -c 'write -P 0x43 4M 1500k' \
    -c 'write -P 0x44 6100k 44k' -c 'write -P 0x45 33M 100k' -c 'write -P 0x46 40956k 4k' \
    "$T/se/src.raw" >/dev/null
python3 "$TOP/test-images/mkvmdk-sesparse.py" "$T/se/src.raw" "$T/se/se-s.vmdk"
sedesc() { # EXTENT: a seSparse descriptor naming it
    printf '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="seSparse"\n\n# Extent description\nRW 81920 SESPARSE "%s"\n' "$1"
}
sedesc se-s.vmdk >"$T/se/se.vmdk"
qemu-img convert -O raw "$T/se/se.vmdk" "$T/se/q.raw"
same_file "$T/se/q.raw" "$T/se/src.raw" "seSparse fixture: qemu-img reads the source back from it"
same_as_qemu vmdk "$T/se/se.vmdk"
is "$(gimg info --output=json "$T/se/se.vmdk" 2>&1)" "$(qemu-img info --output=json "$T/se/se.vmdk" 2>&1)" \
   "info --output=json se.vmdk (seSparse): all of qemu-img's"
is "$(gimg info "$T/se/se.vmdk" 2>&1)" "$(qemu-img info "$T/se/se.vmdk" 2>&1)" "info se.vmdk: qemu-img's text"
is "$(gimg check "$T/se/se.vmdk" 2>&1)" "$(qemu-img check "$T/se/se.vmdk" 2>&1)" "check se.vmdk: as qemu-img check"
fails_cleanly "a seSparse image is not written (qemu has no write support either)" \
    gimg convert -n -f raw -O vmdk "$T/se/src.raw" "$T/se/se.vmdk"

# a guest on VMDK, as on its raw disk
g=$(fixture guests) || exit 1
for sub in monolithicSparse streamOptimized twoGbMaxExtentFlat; do
    mkdir -p "$T/$sub"
    qemu-img convert -O vmdk -o subformat=$sub "$g/debian.img" "$T/$sub/debian.vmdk"
    is "$(gcat -a "$T/$sub/debian.vmdk" /etc/fstab 2>&1)" "$(gcat -a "$g/debian.img" /etc/fstab 2>&1)" \
       "gcat of a $sub guest"
    is "$(gls -a "$T/$sub/debian.vmdk" -lR /etc 2>&1 | md5sum)" "$(gls -a "$g/debian.img" -lR /etc 2>&1 | md5sum)" \
       "gls -lR of a $sub guest"
    is "$(ginspect -a "$T/$sub/debian.vmdk" 2>&1 | md5sum)" "$(ginspect -a "$g/debian.img" 2>&1 | md5sum)" \
       "ginspect of a $sub guest"
done
done_testing
