#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Formats guestkit recognises but does not read are refused by name, never
# read as raw: qed, qcow (v1) and parallels made by qemu-img, whose info
# names the format we name; bochs and cloop headers and a .dmg name, which
# qemu-img also takes for those formats (its probe; it then fails on our
# stand-in files with a message of that driver).  Oracle: qemu-img's probe.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
cd "$T"
for f in qed qcow parallels; do
    qemu-img create -q -f $f img.$f 1M
    is "$(qemu-img info --output=json img.$f | python3 -c 'import json,sys; print(json.load(sys.stdin)["format"])')" \
       $f "(qemu-img probes img.$f as $f)"
done
printf 'Bochs Virtual HD Image\0' >img.bochs
printf '#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0 && mount -r -t iso9660 /dev/cloop $1\n' >img.cloop
truncate -s 1M img.bochs img.cloop img.dmg img.raw
qemu-img info img.cloop 2>&1 | grep -q 'block_size cannot be zero'; is $? 0 "(qemu-img takes img.cloop for cloop)"
qemu-img info img.dmg 2>&1 | grep -q 'UDIF trailer'; is $? 0 "(qemu-img takes img.dmg for dmg)"
for f in qed qcow parallels bochs cloop dmg; do
    fails_cleanly "gimg info img.$f is refused" gimg info img.$f
    grep -q "img.$f: $f images are not supported" "$T/fc.err"; is $? 0 "  by name ($f)"
    fails_cleanly "gcat -a img.$f is refused" gcat -a img.$f /etc/hostname
    grep -q "$f images are not supported" "$T/fc.err"; is $? 0 "  by name ($f)"
    fails_cleanly "-f $f is refused" gimg convert -f $f -O raw img.raw out.raw
    grep -q "$f images are not supported" "$T/fc.err"; is $? 0 "  by name ($f)"
done
done_testing
