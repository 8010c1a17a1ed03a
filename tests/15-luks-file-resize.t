#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg resize of a luks image (a LUKS1 file) against qemu-img resize
# --image-opts driver=luks (the oracle), which moves the end of the file:
# LUKS1 has no size in its header.  Each step runs both tools on copies of
# the same file: the same stdout, stderr and exit status, byte-identical
# files after it (header, keyslots, payload and size); the data written
# before decrypts unchanged (qemu-img convert), and the grown disk takes
# qemu-io writes.  LUKS2 files are refused by both (qemu 7.2's driver=luks
# reads LUKS1 only).  The files are cryptsetup's (cheap PBKDF2); their data
# is qemu-io's.
. "$(dirname "$0")/lib.sh"
for c in qemu-img qemu-io cryptsetup; do
    command -v $c >/dev/null || skip_all "needs $c"
done
cd "$T"
printf secret1 >pass
SEC=(--object secret,id=sec0,file=pass)
qopts() { echo "driver=luks,key-secret=sec0,file.filename=$1"; }
mkluks() { # FILE SIZE TYPE CIPHER KEYBITS
    rm -f "$1"
    truncate -s "$2" "$1"
    cryptsetup luksFormat -q --type "$3" --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --hash sha256 \
        -c "$4" -s "$5" --key-file pass "$1"
}
# both tools on copies g-IMG and q-IMG (made by both()); then the files
resize_like() { # IMG ARGS... SIZE
    local img=$1; shift
    local args=("$@") size=${*: -1} go qo gr=0 qr=0
    unset 'args[-1]'
    go=$(gimg resize "${args[@]}" "${SEC[@]}" --image-opts "$(qopts "g-$img")" "$size" 2>&1) || gr=$?
    qo=$(qemu-img resize "${args[@]}" "${SEC[@]}" --image-opts "$(qopts "q-$img")" "$size" 2>&1) || qr=$?
    is "${go//gimg:/qemu-img:} [exit $gr]" "$qo [exit $qr]" "$img: resize ${args[*]:+${args[*]} }$size: as qemu-img"
    same_file "g-$img" "q-$img" "  the file is byte-identical to qemu-img's ($(stat -c %s "q-$img") bytes)"
}
both() { cp "$1" "g-$1" && cp "$1" "q-$1"; }
decrypt() { # IMG OUT: qemu-img's decryption
    rm -f "$2"
    qemu-img convert "${SEC[@]}" --image-opts "$(qopts "$1")" -O raw "$2"
}

for v in "luks1 aes-xts-plain64 512" "luks1 aes-cbc-essiv:sha256 256"; do
    read -r type cipher bits <<<"$v"
    img=${cipher%%-plain64}.img
    img=${img/:/-}
    mkluks "$img" 4M "$type" "$cipher" "$bits"
    off=$(cryptsetup luksDump "$img" | awk '/^Payload offset:/ {print $3 * 512}')
    qemu-io "${SEC[@]}" --image-opts "$(qopts "$img")" -c 'write -q -P 0x5a 0 64k' \
        -c 'write -q -P 0xa5 1000k 48k' -c 'write -q -P 0x3c 2047k 1k'
    decrypt "$img" before.raw
    both "$img"
    # grow (relative, absolute, by an odd byte count: the file is not a
    # whole number of sectors then), no change, the shrinks qemu refuses
    # and those it makes, preallocation (the new bytes are the file's, not
    # encrypted zeros, as qemu leaves them)
    for s in +1M 5M +1000 "-q +0" +24 -1000 2M "--shrink -1000" "--shrink 3000k" "--shrink -3000k" \
             "--shrink 0" "--preallocation=full +64k" "--preallocation=falloc +64k" \
             "--preallocation=metadata +64k" "--preallocation=full 1M" "--shrink 2048k"; do
        # shellcheck disable=SC2086
        resize_like "$img" $s
    done
    like_qemu_img "$img: info after the resizes" info "g-$img"
    decrypt "g-$img" after.raw
    is "$(stat -c %s after.raw)" 2097152 "  qemu-img decrypts 2 MiB"
    same_file after.raw before.raw "  the data written before, unchanged"
    # grow, then write into the new part with qemu-io and read it with gimg
    resize_like "$img" +3M
    for f in "g-$img" "q-$img"; do
        qemu-io "${SEC[@]}" --image-opts "$(qopts "$f")" -c 'write -q -P 0x77 4000k 1000k'
    done
    same_file "g-$img" "q-$img" "  qemu-io writes into the grown disk alike"
    rm -f g.raw
    ok "  gimg convert decrypts it" gimg convert "${SEC[@]}" --image-opts "$(qopts "g-$img")" -O raw g.raw
    decrypt "q-$img" q.raw
    same_file g.raw q.raw "  the bytes qemu-img decrypts from its own"
done

# a file that ends at the payload offset (an empty disk), grown and shrunk
mkluks e.img 4M luks1 aes-xts-plain64 256
off=$(cryptsetup luksDump e.img | awk '/^Payload offset:/ {print $3 * 512}')
truncate -s "$off" e.img
both e.img
like_qemu_img "empty disk: info" info --output=json e.img
resize_like e.img +1M
resize_like e.img --shrink 512
resize_like e.img +1536
like_qemu_img "empty disk grown: info" info --output=json g-e.img

# LUKS2: refused by both, the file untouched
mkluks l2.img 20M luks2 aes-xts-plain64 512
cp l2.img g-l2.img
fails_cleanly "LUKS2: resize refused" gimg resize "${SEC[@]}" --image-opts "$(qopts g-l2.img)" +1M
grep -q "^gimg: g-l2.img: LUKS version 2 is not supported$" fc.err; is $? 0 "  in qemu's words"
qemu-img resize "${SEC[@]}" --image-opts "$(qopts l2.img)" +1M 2>q.err; is $? 1 "  (qemu-img refuses it too)"
grep -q "LUKS version 2 is not supported" q.err; is $? 0 "  (saying the same)"
same_file g-l2.img l2.img "  the file is unchanged"
done_testing
