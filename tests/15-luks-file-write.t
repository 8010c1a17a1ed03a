#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Writing a luks image (a LUKS1 file, lib/luks-image.c) with its key, as
# qemu's driver=luks writes it: through the cipher, sector by sector in
# place; and LUKS1 files whose size is not a multiple of 512.  The files
# are cryptsetup's (luksFormat with a fixed volume key, cheap PBKDF2).
# cryptsetup open needs device-mapper, which this machine lacks, so qemu
# is the oracle:
#   - writes at aligned and unaligned offsets (unit-luks write) leave the
#     file byte-identical to a copy qemu-io wrote the same way (same key,
#     same IVs), also in the last, partial sector of an odd-sized file;
#   - gcopy-in, gfsh --rw and gfedit into the ext4 inside: qemu-img convert
#     --image-opts decrypts it, e2fsck -fn is clean, debugfs reads the files;
#   - odd sizes: info (text, JSON), map and convert as qemu-img's, the
#     virtual size rounded up to whole sectors as qemu rounds the file.
# Crash safety: tests/72-crash.t (gcopy-in ext4-luks).
. "$(dirname "$0")/lib.sh"
for c in qemu-img qemu-io cryptsetup mke2fs debugfs e2fsck; do
    command -v $c >/dev/null || skip_all "needs $c"
done
U=${GK_UNIT:-$TOP/build/tests}/unit-luks
[ -x "$U" ] || skip_all "needs unit-luks"
cd "$T"
printf secret1 >pass
python3 -c 'import sys; sys.stdout.buffer.write(bytes((i * 5 + 1) & 255 for i in range(64)))' >vk
SEC=(--object secret,id=sec0,file=pass)
qopts() { echo "driver=luks,key-secret=sec0,file.filename=$1"; }
mkluks() { # FILE SIZE
    rm -f "$1"
    truncate -s "$2" "$1"
    cryptsetup luksFormat -q --type luks1 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --hash sha256 \
        -c aes-xts-plain64 -s 512 --volume-key-file vk --key-file pass "$1"
}
# qemu-io's writes and ours: "OFF:LEN:BYTE" each
both_write() { # DESC FILE WRITES...
    local desc=$1 f=$2 w q=() o n b
    shift 2
    cp "$f" q-"$f"
    for w in "$@"; do
        IFS=: read -r o n b <<<"$w"
        q+=(-c "write -q -P 0x$b $o $n")
    done
    qemu-io "${SEC[@]}" --image-opts "$(qopts q-"$f")" "${q[@]}"
    ok "$desc" "$U" write "$f" pass "$@"
    same_file "$f" q-"$f" "  the file is byte-identical to qemu-io's"
}

# ---- writes at the device ----
mkluks a.img 4M
off=$(cryptsetup luksDump a.img | awk '/^Payload offset:/ {print $3 * 512}')
is "$off" 2097152 "the payload starts at 2 MiB (cryptsetup's layout for a 512-bit key)"
# whole sectors, one byte, within one sector, across sectors and across
# the 256 KiB bounce buffer with partial ends, the last sector
both_write "writes through the cipher, aligned and not" a.img 0:65536:41 512:1:5a 70001:3:7e \
    70400:3000:7f 1048575:2:c3 100000:300000:22 600001:600000:33 2096640:512:11
fails_cleanly "a write past the end is refused" "$U" write a.img pass 2097000:153:1
grep -q "beyond the end of the device" fc.err; is $? 0 "  saying so"
fails_cleanly "a wrong key is refused" "$U" write a.img vk 0:512:1
grep -q "the key opens no keyslot" fc.err; is $? 0 "  saying so"

# ---- LUKS1 files whose size is not a multiple of 512 ----
# the payload offset plus: 1000 (the last sector partly in the file), 1,
# 0 (an empty disk), -1 (rounded up: empty); -600 (the payload past the
# end: refused by both)
for add in 1000 1 0 -1 -600; do
    cp a.img odd.img
    truncate -s $((off + add)) odd.img
    O=("${SEC[@]}" --image-opts "$(qopts odd.img)")
    like_qemu_img "payload + $add bytes: info" info odd.img
    if [ "$add" = -600 ]; then
        grep -q "odd.img: .*data segment $off+0 outside the device ($((off - 512)) bytes)" "$T/g.err"
        is $? 0 "  saying the payload is past the end of the file"
        fails_cleanly "  convert with the key refused too" gimg convert "${O[@]}" -O raw g.raw
        continue
    fi
    like_qemu_img "  info --output=json" info --output=json odd.img
    like_qemu_img "  map --output=json with the key" map --output=json "${O[@]}"
    rm -f g.raw q.raw
    ok "  convert with the key" gimg convert "${O[@]}" -O raw g.raw
    qemu-img convert "${O[@]}" -O raw q.raw
    same_file g.raw q.raw "  the bytes qemu-img decrypts"
done
cp a.img odd.img
truncate -s $((off + 2097152 + 1000)) odd.img
both_write "odd size: writes in the last sector, partly past the end of the file" odd.img \
    2098100:76:99 2097700:10:aa

# ---- the tools, into the ext4 inside ----
truncate -s 8M fs.raw
mke2fs -q -F -t ext4 -b 1024 -U 01234567-0123-0123-0123-0123456789e1 \
    -E hash_seed=01234567-0123-0123-0123-0123456789e2 fs.raw
mkluks f.img 10M
qemu-img convert -n -f raw fs.raw "${SEC[@]}" --target-image-opts "$(qopts f.img)"
hdr=$(head -c "$off" f.img | sha256sum)
mkdir -p src/d
printf 'one\n' >src/one
seeded_bytes 12 300000 >src/d/big
K=(--key f.img:file:pass -a f.img -m /dev/sda)
check() { # DESC: qemu's decryption, e2fsck, then the files as debugfs reads them
    rm -f out.raw
    qemu-img convert "${SEC[@]}" --image-opts "$(qopts f.img)" -O raw out.raw
    ok "$1: e2fsck -fn clean on what qemu-img decrypts" e2fsck -fn out.raw
}
before=$(sha256sum <f.img)
fails_cleanly "gcopy-in without the key is refused" gcopy-in -a f.img -m /dev/sda src/one /
is "$(sha256sum <f.img)" "$before" "  the image is byte-identical"
ok "gcopy-in with the key" gcopy-in "${K[@]}" src/one src/d /
check "gcopy-in"
is "$(debugfs -R 'cat /one' out.raw 2>/dev/null)" "one" "  debugfs: /one"
debugfs -R 'cat /d/big' out.raw 2>/dev/null | cmp -s - src/d/big
is $? 0 "  debugfs: /d/big, 300000 bytes"
ok "gfsh --rw write" gfsh --rw "${K[@]}" write /hello "hello luks"
check "gfsh --rw"
is "$(debugfs -R 'cat /hello' out.raw 2>/dev/null)" "hello luks" "  debugfs: /hello"
ok "gfedit -e" gfedit "${K[@]}" /one -e 's/one/ONE/'
check "gfedit"
is "$(debugfs -R 'cat /one' out.raw 2>/dev/null)" "ONE" "  debugfs: /one edited"
is "$(head -c "$off" f.img | sha256sum)" "$hdr" "the header and keyslots are never written"
done_testing
