#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Encrypted qcow2 (test-images/qcow2-crypt.sh: LUKS with xts and
# cbc-essiv, extended L2, legacy AES, an encrypted backing chain, ext4
# inside): gimg info and map print what qemu-img prints with the same
# arguments, gimg convert decrypts to the bytes qemu-img convert gives, the
# secret given as qemu-img takes it (--object secret data=/file=/base64,
# --image-opts) and the virt-* tools' way (--key IMAGE:key|file:,
# --keys-from-stdin); missing and wrong keys refused clearly, with nothing
# written.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
D=$(fixture qcow2-crypt) || exit 1
cd "$D"
SEC=(--object secret,id=sec0,file=secret.txt)
opts() { echo "driver=qcow2,file.filename=$1,encrypt.key-secret=sec0${2:-}"; }

for img in luks essiv ext-l2 aes top; do
    x=
    [ $img = top ] && x=,backing.encrypt.key-secret=sec0
    like_qemu_img "info $img (no key needed)" info $img.qcow2
    like_qemu_img "info --output=json $img" info --output=json $img.qcow2
    # qemu names an image opened with a key secret json:{...}
    like_qemu_img "info --image-opts $img" info "${SEC[@]}" --image-opts "$(opts $img.qcow2)"
    like_qemu_img "map $img" map "${SEC[@]}" --image-opts "$(opts $img.qcow2 $x)"
    like_qemu_img "map --output=json $img" map --output=json "${SEC[@]}" --image-opts "$(opts $img.qcow2 $x)"
    rm -f "$T/out.raw"
    gimg convert "${SEC[@]}" --image-opts "$(opts $img.qcow2 $x)" -O raw "$T/out.raw" 2>"$T/err"
    same_file "$T/out.raw" $img.raw "convert $img: qemu-img's plaintext"
done
like_qemu_img "info --backing-chain top" info --backing-chain top.qcow2
like_qemu_img "info --output=json --image-opts luks: json:{...} as the filename" \
    info --output=json "${SEC[@]}" --image-opts "$(opts luks.qcow2),encrypt.format=luks"
like_qemu_img "info --backing-chain --image-opts top" \
    info --backing-chain "${SEC[@]}" --image-opts "$(opts top.qcow2)"
# without options that a file name cannot carry: the file name
like_qemu_img "info --image-opts base: the file name" \
    info --image-opts driver=qcow2,file.driver=file,file.filename="$PWD/base.qcow2"
like_qemu_img "info --image-opts, format probed" info --image-opts file.filename=base.qcow2

# the secret in every form qemu-img takes
rm -f "$T/out.raw"
gimg convert --object secret,id=s,data='qcow2 pass' --image-opts \
    driver=qcow2,file.filename=luks.qcow2,encrypt.key-secret=s -O raw "$T/out.raw"
same_file "$T/out.raw" luks.raw "secret data="
rm -f "$T/out.raw"
gimg convert --object secret,id=s,file=secret.b64,format=base64 --image-opts \
    file.filename=essiv.qcow2,encrypt.key-secret=s,driver=qcow2 -O raw "$T/out.raw"
same_file "$T/out.raw" essiv.raw "secret file= format=base64"
rm -f "$T/out.raw"
gimg convert -m 1 "${SEC[@]}" --image-opts "$(opts luks.qcow2)" -O raw "$T/out.raw"
same_file "$T/out.raw" luks.raw "convert -m 1"
ok "compare: identical to qemu's plaintext" gimg compare "${SEC[@]}" --image-opts \
    "$(opts ext-l2.qcow2)" driver=raw,file.filename=ext-l2.raw
like_qemu_img "compare against the plaintext" compare "${SEC[@]}" --image-opts \
    "$(opts aes.qcow2)" driver=raw,file.filename=aes.raw

# no key, a wrong key: a clear message, nothing written
rm -f "$T/out.raw"
fails_cleanly "convert without a key" gimg convert -O raw luks.qcow2 "$T/out.raw"
ok "  ... says how to give it" grep -q "encrypted (luks) and no key was given (give it as qemu-img" "$T/fc.err"
ok "  ... and writes nothing" test ! -e "$T/out.raw"
fails_cleanly "convert with a wrong key" gimg convert --object secret,id=sec0,data=nope \
    --image-opts "$(opts luks.qcow2)" -O raw "$T/out.raw"
is "$(cat "$T/fc.err")" "gimg: luks.qcow2: the key opens no keyslot (of 1) of its LUKS header" \
    "  ... names the image and the keyslots tried"
ok "  ... and writes nothing" test ! -e "$T/out.raw"
ok "  ... and never shows the key" sh -c "! grep -q nope '$T/fc.err'"
fails_cleanly "an unknown secret id" gimg convert "${SEC[@]}" --image-opts \
    driver=qcow2,file.filename=luks.qcow2,encrypt.key-secret=other -O raw "$T/out.raw"
fails_cleanly "map without a key" gimg map top.qcow2
gimg convert --object secret,id=sec0,data=nope --image-opts "$(opts aes.qcow2)" -O raw "$T/out.raw" \
    2>"$T/err"
ok "legacy AES: a wrong key is not detectable, and the warning says so" \
    grep -q "insecure, and a wrong key is not detected" "$T/err"

# the virt-* tools: --key IMAGE:..., --keys-from-stdin
is "$(gcat -a fs.qcow2 -m /dev/sda --key fs.qcow2:file:secret.txt /hello.txt)" \
    "$(debugfs -R 'cat /hello.txt' fs.ext4 2>/dev/null)" "gcat --key IMAGE:file:FILE (debugfs reads the plaintext)"
is "$(gcat -a fs.qcow2 -m /dev/sda --key 'fs.qcow2:key:qcow2 pass' /etc/hostname)" cryptguest \
    "gcat --key IMAGE:key:PASSPHRASE"
is "$(gcat -a fs.qcow2 -m /dev/sda --keys-from-stdin /etc/hostname <secret.txt)" cryptguest \
    "gcat --keys-from-stdin"
is "$(gls -a fs.qcow2 -m /dev/sda --key fs.qcow2:file:secret.txt / | sort | tr '\n' ' ')" \
    "etc hello.txt lost+found " "gls on an encrypted qcow2"
is "$(gfilesystems -a fs.qcow2 --key fs.qcow2:file:secret.txt)" /dev/sda "gfilesystems"
fails_cleanly "gcat without a key or a terminal" gcat -a fs.qcow2 -m /dev/sda /hello.txt </dev/null
ok "  ... tells how to give the key" grep -q -- "--key fs.qcow2:key:PASSPHRASE" "$T/fc.err"
fails_cleanly "gcat with a wrong key" gcat -a fs.qcow2 -m /dev/sda --key fs.qcow2:key:nope /hello.txt
ok "  ... no output" test ! -s "$T/fc.out"

# writing: gcopy-in --key into a copy of fs.qcow2; qemu-img decrypts it,
# qemu-img check and e2fsck find it clean, debugfs reads the new files
cp fs.qcow2 "$T/w.qcow2"
echo "written through the encryption" >"$T/new.txt"
seq 1 30000 >"$T/big.txt"
ok "gcopy-in --key into an encrypted qcow2" \
    gcopy-in -a "$T/w.qcow2" -m /dev/sda --key "$T/w.qcow2:file:secret.txt" "$T/new.txt" "$T/big.txt" /etc
ok "  ... qemu-img check is clean" qemu-img check "${SEC[@]}" --image-opts "$(opts "$T/w.qcow2")"
qemu-img convert "${SEC[@]}" --image-opts "$(opts "$T/w.qcow2")" -O raw "$T/w.raw"
ok "  ... e2fsck -fn of qemu's plaintext is clean" e2fsck -fn "$T/w.raw"
is "$(debugfs -R 'cat /etc/new.txt' "$T/w.raw" 2>/dev/null)" "written through the encryption" \
    "  ... debugfs reads the new file from qemu's plaintext"
debugfs -R 'cat /etc/big.txt' "$T/w.raw" >"$T/big.out" 2>/dev/null
same_file "$T/big.out" "$T/big.txt" "  ... and the 170 KB one"
ok "  ... hello.txt is still there" sh -c "debugfs -R 'cat /hello.txt' '$T/w.raw' 2>/dev/null | grep -q 'encrypted qcow2'"
ok "  ... and qemu's reading is gimg's" gimg compare "${SEC[@]}" --image-opts "$(opts "$T/w.qcow2")" \
    "driver=raw,file.filename=$T/w.raw"
cp fs.qcow2 "$T/e.qcow2"
ok "gfedit -e --key on an encrypted qcow2" \
    gfedit -a "$T/e.qcow2" -m /dev/sda --key "$T/e.qcow2:file:secret.txt" -e 's/hello/HELLO/' /hello.txt
qemu-img convert "${SEC[@]}" --image-opts "$(opts "$T/e.qcow2")" -O raw "$T/e.raw"
is "$(debugfs -R 'cat /hello.txt' "$T/e.raw" 2>/dev/null)" "HELLO from an encrypted qcow2" \
    "  ... debugfs reads the edit from qemu-img's plaintext"
is "$(gfsh -a fs.qcow2 -m /dev/sda --ro --key fs.qcow2:file:secret.txt cat /etc/hostname)" cryptguest \
    "gfsh --key on an encrypted qcow2"
fails_cleanly "gfsh without the key" gfsh -a fs.qcow2 -m /dev/sda --ro cat /etc/hostname
cp aes.qcow2 "$T/a.qcow2"
fails_cleanly "writing the legacy AES format is refused" \
    gcopy-in -a "$T/a.qcow2" -m /dev/sda --key "$T/a.qcow2:file:secret.txt" "$T/new.txt" /
ok "  ... saying why" grep -q "legacy (insecure) AES encryption is not supported" "$T/fc.err"

done_testing
