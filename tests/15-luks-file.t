#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A file that is one LUKS volume (cryptsetup luksFormat of a file,
# test-images/luks.sh) is a "luks" image, as qemu 7.2 probes it: LUKS1
# only, so a LUKS2 file stays raw to both.  info (text and JSON) from the
# header alone; reading it takes the passphrase as qemu-img takes it
# (--object secret --image-opts driver=luks,key-secret=ID).  Oracle:
# qemu-img info, map, convert and check on the same files.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
D=$(fixture luks) || skip_all "fixture luks failed"
cd "$T"
cp "$D/l1-xts.img" "$D/l1-essiv.img" "$D/l2-512.img" "$D/secret1.txt" .
for v in l1-xts l1-essiv l2-512; do
    like_qemu_img "$v: info" info $v.img
    like_qemu_img "$v: info --output=json" info --output=json $v.img
done
for v in l1-xts l1-essiv; do
    O=(--object secret,id=sec0,file=secret1.txt --image-opts "driver=luks,key-secret=sec0,file.filename=$v.img")
    ok "$v: convert with its key" gimg convert "${O[@]}" -O raw g.raw
    qemu-img convert "${O[@]}" -O raw q.raw
    same_file g.raw q.raw "  the bytes qemu-img decrypts"
    same_file g.raw "$D/$v.plain" "  the plaintext the fixture wrote"
    like_qemu_img "$v: map" map "${O[@]}"
    is "$(sed 's/^gimg:/qemu-img:/' "$T/g.err")" "$(cat "$T/q.err")" "  and its message"
    like_qemu_img "$v: map --output=json" map --output=json "${O[@]}"
    like_qemu_img "$v: check" check "${O[@]}"
    is "$(sed 's/^gimg:/qemu-img:/' "$T/g.err")" "$(cat "$T/q.err")" "  and its message"
    fails_cleanly "$v: convert without its key is refused" gimg convert -O raw $v.img g.raw
    grep -q "$v.img: the image is encrypted (luks) and no key was given" fc.err; is $? 0 "  saying so"
    grep -q "driver=luks,file.filename=IMAGE,key-secret=sec0" fc.err; is $? 0 "  and how to give it"
    qemu-img convert -O raw $v.img q.raw 2>/dev/null; is $? 1 "  (qemu-img refuses it too)"
    fails_cleanly "$v: a wrong key is refused" gimg convert --object secret,id=s,data=wrong \
        --image-opts "driver=luks,key-secret=s,file.filename=$v.img" -O raw g.raw
    grep -q "$v.img: the key opens no keyslot (of [12]) of its LUKS header" fc.err; is $? 0 "  saying so"
    fails_cleanly "$v: -f luks resize without the key is refused" gimg resize -f luks $v.img +1M
    is "$(gcat --key $v.img:file:secret1.txt -a $v.img /x 2>&1 | head -n 1)" \
       "gcat: $v.img: does not look like a disk image (no partition table or filesystem in it)" \
       "  gcat opens it with the image's key (the fixture holds no file system)"
done
# key-secret is the luks driver's option only, as for qemu
fails_cleanly "key-secret with driver=qcow2 is refused" gimg info --object secret,id=s,data=x \
    --image-opts driver=qcow2,key-secret=s,file.filename=l1-xts.img
done_testing
