#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg convert -n --target-image-opts: the target given as an option list
# (driver=luks,key-secret=ID,file.filename=F; driver=qcow2,
# encrypt.key-secret=ID,...; driver=raw,...), as qemu-img convert takes it.
# Oracle: qemu-img convert with the same arguments into a copy of the same
# target: byte-identical files (the encrypted ones too: the same volume key
# and IVs), the data read back by qemu-img; qemu-img's refusals (without
# -n, with -O, with -o, -c into raw, a smaller target) in its words.
. "$(dirname "$0")/lib.sh"
for c in qemu-img cryptsetup; do
    command -v $c >/dev/null || skip_all "needs $c"
done
cd "$T" || exit 1
printf secret1 >pass
SEC=(--object secret,id=s0,file=pass)
# a 2 MiB source: data, a zero run, data
seeded_bytes 7 2097152 >src.raw
dd if=/dev/zero of=src.raw bs=64k seek=3 count=5 conv=notrunc status=none

both() { # DESC TARGET-OPTS (g- and q- copies of the file in F=): both tools, then the files
    local desc=$1 go qo gr=0 qr=0
    go=$(gimg convert -n -f raw src.raw "${SEC[@]}" --target-image-opts "${2//@/g-$F}" 2>&1) || gr=$?
    qo=$(qemu-img convert -n -f raw src.raw "${SEC[@]}" --target-image-opts "${2//@/q-$F}" 2>&1) || qr=$?
    is "${go//gimg:/qemu-img:} [exit $gr]" "$qo [exit $qr]" "$desc: as qemu-img"
    same_file "g-$F" "q-$F" "  byte-identical to qemu-img's"
}
reads() { # DESC IMAGE-OPTS: qemu-img finds the source's bytes in the target
    ok "$1" qemu-img compare -q "${SEC[@]}" --image-opts driver=raw,file.filename=src.raw "$2"
}

# a LUKS1 file (a luks image): written through its cipher
truncate -s 4M l.img
cryptsetup luksFormat -q --type luks1 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --hash sha256 \
    -c aes-xts-plain64 -s 512 --key-file pass l.img
F=l.img
cp l.img g-l.img
cp l.img q-l.img
both "luks target" "driver=luks,key-secret=s0,file.filename=@"
reads "  qemu-img decrypts the source's bytes" "driver=luks,key-secret=s0,file.filename=g-l.img"
fails_cleanly "luks target, a wrong key: refused" gimg convert -n -f raw src.raw \
    --object secret,id=w,data=wrong --target-image-opts "driver=luks,key-secret=w,file.filename=g-l.img"
grep -q "the key opens no keyslot" fc.err; is $? 0 "  saying so"
same_file g-l.img q-l.img "  the file is untouched"

# an encrypted qcow2 image qemu-img made
qemu-img create -q -f qcow2 "${SEC[@]}" -o encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10 e.qcow2 2M
F=e.qcow2
cp e.qcow2 g-e.qcow2
cp e.qcow2 q-e.qcow2
both "encrypted qcow2 target" "driver=qcow2,encrypt.key-secret=s0,file.filename=@"
ok "  qemu-img check clean" qemu-img check -q "${SEC[@]}" --image-opts "driver=qcow2,encrypt.key-secret=s0,file.filename=g-e.qcow2"

# plain qcow2 (the format probed when driver= is left out) and raw
qemu-img create -q -f qcow2 p.qcow2 3M
F=p.qcow2
cp p.qcow2 g-p.qcow2
cp p.qcow2 q-p.qcow2
both "qcow2 target" "driver=qcow2,file.filename=@"
cp p.qcow2 g-p.qcow2
cp p.qcow2 q-p.qcow2
both "qcow2 target, its format probed" "file.filename=@"
reads "  qemu-img reads the source's bytes" "driver=qcow2,file.filename=g-p.qcow2"
truncate -s 2M r.raw
F=r.raw
cp r.raw g-r.raw
cp r.raw q-r.raw
both "raw target" "driver=raw,file.filename=@"
same_file g-r.raw src.raw "  the source's bytes"

# refusals, in qemu-img's words, the targets untouched
truncate -s 2M c.raw
truncate -s 1M small.raw
sum=$(cat p.qcow2 c.raw small.raw 2>/dev/null | sha256sum)
refused() { # DESC ARGS...
    local desc=$1 go qo gr=0 qr=0; shift
    go=$(gimg convert "$@" 2>&1) || gr=$?
    qo=$(qemu-img convert "$@" 2>&1) || qr=$?
    is "${go//gimg:/qemu-img:} [exit $gr]" "$qo [exit $qr]" "$desc: as qemu-img"
}
refused "without -n" --target-image-opts src.raw driver=qcow2,file.filename=p.qcow2
refused "with -O" -n -O qcow2 --target-image-opts src.raw driver=qcow2,file.filename=p.qcow2
refused "with -o" -n -o cluster_size=4k --target-image-opts src.raw driver=qcow2,file.filename=p.qcow2
refused "-o with -n, no option list either" -n -O qcow2 -o cluster_size=4k src.raw p.qcow2
refused "-c into raw" -n -c --target-image-opts src.raw driver=raw,file.filename=c.raw
refused "a smaller target" -n --target-image-opts src.raw driver=raw,file.filename=small.raw
fails_cleanly "an option the format does not take" gimg convert -n --target-image-opts src.raw \
    driver=qcow2,file.filename=p.qcow2,bogus=1
qemu-img convert -n --target-image-opts src.raw driver=qcow2,file.filename=p.qcow2,bogus=1 2>/dev/null
is $? 1 "  (qemu-img refuses it too)"
is "$(cat p.qcow2 c.raw small.raw | sha256sum)" "$sum" "the refused targets are untouched"
done_testing
