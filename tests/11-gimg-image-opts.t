#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --image-opts lists that qemu-img 7.2 takes and gimg used to refuse,
# against qemu-img on the same files (stdout and exit status, and the
# message where both refuse; qemu's "Could not open 'LIST': " is gimg's
# "gimg: "):
# - driver=file,filename=F: qemu's file driver as the image (format
#   "file"), for info, map, check and convert; its refusals;
# - a key secret no --object defined: qemu looks it up only when the image
#   needs its key, so info (header only) and any command on an image that is
#   not encrypted go on; the name info prints holds it (also key-secret of
#   driver=luks: json:{...} in qemu's order).
. "$(dirname "$0")/lib.sh"
for c in qemu-img cryptsetup; do
    command -v $c >/dev/null || skip_all "needs $c"
done
cd "$T" || exit 1
printf secret1 >pass
SEC=(--object secret,id=s0,file=pass)
qemu-img create -q -f qcow2 p.qcow2 4M
qemu-io -c 'write -P 0x5a 0 64k' -c 'write -P 0xa5 1M 64k' p.qcow2 >/dev/null
qemu-img create -q -f qcow2 "${SEC[@]}" -o encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10 e.qcow2 2M
truncate -s 4M l.img
cryptsetup luksFormat -q --type luks1 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file pass l.img

as_qemu() { # DESCRIPTION LIST COMMAND ARGS... (the list last, after --image-opts)
    local desc=$1 io=$2 g q gr=0 qr=0
    shift 2
    g=$(gimg "$@" --image-opts "$io" 2>&1) || gr=$?
    q=$(qemu-img "$@" --image-opts "$io" 2>&1) || qr=$?
    q=${q/#"qemu-img: Could not open '$io': "/gimg: }
    is "$g [exit $gr]" "${q/#qemu-img: /gimg: } [exit $qr]" "$desc"
}

# qemu's file driver as the image
for f in p.qcow2 l.img; do
    io="driver=file,filename=$f"
    as_qemu "$io: info" "$io" info
    as_qemu "$io: info --output=json" "$io" info --output=json
    as_qemu "$io: map" "$io" map
    as_qemu "$io: map --output=json" "$io" map --output=json
    as_qemu "$io: check" "$io" check
done
like_qemu_img "-f file: info" info -f file p.qcow2
rm -f g.raw
ok "driver=file: convert" gimg convert --image-opts driver=file,filename=p.qcow2 -O raw g.raw
same_file g.raw p.qcow2 "  the file's own bytes, as qemu's file driver reads them"
for io in driver=file driver=file,file.filename=p.qcow2 driver=file,filename=p.qcow2,encrypt.key-secret=s0 \
          driver=file,filename=p.qcow2,file.driver=file; do
    as_qemu "refused: $io" "$io" info "${SEC[@]}"
done
fails_cleanly "refused: driver=file,filename=nonexist" gimg info --image-opts driver=file,filename=nonexist

# key secrets no --object defined
for io in driver=qcow2,file.filename=p.qcow2,encrypt.key-secret=nosuch \
          driver=qcow2,file.filename=e.qcow2,encrypt.key-secret=nosuch \
          file.filename=e.qcow2,encrypt.key-secret=nosuch driver=luks,file.filename=l.img,key-secret=nosuch; do
    as_qemu "undefined secret: info $io" "$io" info
    as_qemu "  info --output=json" "$io" info --output=json
    as_qemu "  map" "$io" map
done
as_qemu "undefined secret: check of an image that is not encrypted" \
    driver=qcow2,file.filename=p.qcow2,encrypt.key-secret=nosuch check
rm -f g.raw q.raw
io=driver=qcow2,file.filename=p.qcow2,encrypt.key-secret=nosuch
ok "undefined secret: convert of an image that is not encrypted" gimg convert --image-opts "$io" -O raw g.raw
qemu-img convert --image-opts "$io" -O raw q.raw
same_file g.raw q.raw "  the bytes qemu-img reads"
io=driver=qcow2,file.filename=e.qcow2,encrypt.key-secret=nosuch
fails_cleanly "undefined secret: convert of an encrypted image refused" gimg convert --image-opts "$io" -O raw g.raw
is "$(cat fc.err)" "$(qemu-img convert --image-opts "$io" -O raw q.raw 2>&1 | sed "s/^qemu-img: Could not open '$io': /gimg: /")" \
    "  in qemu-img's words"
# a defined secret: the names info prints (json:{...} for both formats)
as_qemu "luks key-secret: info names the image as qemu" driver=luks,file.filename=l.img,key-secret=s0 \
    info "${SEC[@]}"
as_qemu "qcow2 encrypt.key-secret: info names the image as qemu" \
    driver=qcow2,file.filename=e.qcow2,encrypt.key-secret=s0 info "${SEC[@]}"
done_testing
