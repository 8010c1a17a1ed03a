#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# LUKS volumes and a guest with its root in LUKS2 -> LVM -> ext4.
#
# Headers and keyslots are cryptsetup's (luksFormat on files, cheap KDFs);
# the encrypted data is written by qemu (qemu-io / qemu-img convert through
# qemu's driver=luks, which reads and writes LUKS1) and decrypted by
# qemu-img convert for the expected plaintext.  This machine has no
# device-mapper, so dm-crypt cannot be the oracle: a LUKS2 volume gets the
# ciphertext of a LUKS1 volume made with the same volume key (--volume-key-file)
# and data offset, which dm-crypt decrypts identically (same cipher, same
# 512-byte IVs); the 4096-byte-sector one is encrypted sector by sector with
# python3-cryptography (IV = the 512-byte sector number, as LUKS counts).
#
#   l1-xts.img    LUKS1 aes-xts-plain64 512-bit, pbkdf2-sha256; keyslots 0
#                 ("secret1") and 3 ("second key"); data by qemu-io
#   l1-essiv.img  LUKS1 aes-cbc-essiv:sha256 256-bit, pbkdf2-sha1; qemu-io
#   l2-512.img    LUKS2 argon2id, sector 512, l1-xts's key and ciphertext
#   l2-4k.img     LUKS2 argon2i, sector 4096, l1-xts's key and plaintext
#   l2-pbkdf2.img LUKS2 pbkdf2-sha512, aes-cbc-essiv:sha256 (header only)
#   X.plain       what X decrypts to; X.dump luksDump; X.vk the volume key
#   guest.img     GPT: p1 ext4 /boot, p2 LUKS2 ("guestpass") holding an LVM
#                 PV (VG gkluks, LV root: ext4 with a small Linux tree)
# Passphrases are in PASS.txt files beside them (no newline).
set -euo pipefail
. "$(dirname "$0")/lib-lvm.sh"
. "$(dirname "$0")/lib-fs.sh"
OUT=$(realpath "$1")
cd "$OUT"
rm -rf ./*.img ./*.plain ./*.dump ./*.vk ./*.txt
W=$(mktemp -d)
LOOPS=()
cleanup() {
    for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null || true; done
    rm -rf "$W"
}
trap cleanup EXIT

python3 -c 'import sys; sys.stdout.buffer.write(bytes((i * 7 + 3) & 255 for i in range(64)))' >"$W/vk64"
printf secret1 >secret1.txt
printf 'second key' >second.txt
printf guestpass >guestpass.txt
FAST1=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)

fmt() { # IMG PASSFILE OPTIONS...
    local img=$1 pf=$2
    shift 2
    cryptsetup luksFormat -q --key-file "$pf" "$@" "$img"
}
dumpkey() { # IMG PASSFILE: the volume key in hex, as cryptsetup decrypts it
    cryptsetup luksDump --dump-volume-key -q --key-file "$2" "$1" |
        sed -n '/MK dump:/,$p' | sed 's/MK dump://' | tr -d ' \t\n'
    echo
}
qluks() { # IMG PASSFILE: qemu --image-opts of a LUKS1 file
    echo "driver=luks,key-secret=sec0,file.filename=$1"
}
qsecret() { echo "secret,id=sec0,file=$1"; }
plain() { # IMG PASSFILE: qemu's decryption into IMG.plain
    qemu-img convert --object "$(qsecret "$2")" --image-opts "$(qluks "$1" "$2")" \
        -O raw "${1%.img}.plain"
}
patterns() { # IMG PASSFILE
    qemu-io --object "$(qsecret "$2")" --image-opts "$(qluks "$1" "$2")" \
        -c 'write -q -P 0x41 0 64k' -c 'write -q -P 0x7e 70000 3000' \
        -c 'write -q -P 0xc3 1m 4k' -c 'write -q -P 0x11 2093056 4096' \
        -c 'write -q -P 0x5a 512 1'
}

# ---- LUKS1, written by qemu ----
truncate -s 4M l1-xts.img l1-essiv.img
fmt l1-xts.img secret1.txt --type luks1 "${FAST1[@]}" --hash sha256 -c aes-xts-plain64 \
    -s 512 --volume-key-file "$W/vk64"
cryptsetup luksAddKey -q "${FAST1[@]}" --key-file secret1.txt --key-slot 3 l1-xts.img second.txt
patterns l1-xts.img secret1.txt
plain l1-xts.img secret1.txt
fmt l1-essiv.img secret1.txt --type luks1 "${FAST1[@]}" --hash sha1 -c aes-cbc-essiv:sha256 -s 256
patterns l1-essiv.img secret1.txt
plain l1-essiv.img secret1.txt

# ---- LUKS2 with l1-xts's key and data ----
off=$(cryptsetup luksDump l1-xts.img | awk '/^Payload offset/ {print $3}')
truncate -s 4M l2-512.img l2-4k.img
fmt l2-512.img secret1.txt --type luks2 --pbkdf argon2id --pbkdf-force-iterations 4 \
    --pbkdf-memory 32768 --pbkdf-parallel 2 --sector-size 512 --offset "$off" \
    -c aes-xts-plain64 -s 512 --volume-key-file "$W/vk64"
dd if=l1-xts.img of=l2-512.img bs=512 skip="$off" seek="$off" conv=notrunc status=none
cp l1-xts.plain l2-512.plain
fmt l2-4k.img secret1.txt --type luks2 --pbkdf argon2i --pbkdf-force-iterations 4 \
    --pbkdf-memory 32768 --pbkdf-parallel 1 --sector-size 4096 --offset "$off" \
    -c aes-xts-plain64 -s 512 --volume-key-file "$W/vk64"
python3 - "$W/vk64" l1-xts.plain "$W/4k.enc" <<'EOF'
import sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
key = open(sys.argv[1], "rb").read()
data = open(sys.argv[2], "rb").read()
out = bytearray()
for i in range(0, len(data), 4096):
    iv = (i // 512).to_bytes(16, "little")      # LUKS: 512-byte sector numbers
    enc = Cipher(algorithms.AES(key), modes.XTS(iv)).encryptor()
    out += enc.update(data[i:i + 4096]) + enc.finalize()
open(sys.argv[3], "wb").write(out)
EOF
dd if="$W/4k.enc" of=l2-4k.img bs=512 seek="$off" conv=notrunc status=none
cp l1-xts.plain l2-4k.plain
truncate -s 4M l2-pbkdf2.img
fmt l2-pbkdf2.img second.txt --type luks2 --pbkdf pbkdf2 --hash sha512 \
    --pbkdf-force-iterations 1000 -c aes-cbc-essiv:sha256 -s 256 --offset "$off"

for i in l1-xts l1-essiv l2-512 l2-4k; do
    cryptsetup luksDump "$i.img" >"$i.dump"
    dumpkey "$i.img" secret1.txt >"$i.vk"
done
cryptsetup luksDump l2-pbkdf2.img >l2-pbkdf2.dump
dumpkey l2-pbkdf2.img second.txt >l2-pbkdf2.vk

# ---- the guest: GPT, /boot, LUKS2 -> LVM -> root ----
R=$W/root B=$W/boot
mkdir -p $R/{etc,usr/bin,usr/lib,var/lib,root,home,tmp,boot,bin} $B/grub
cat >$R/etc/os-release <<'EOF'
NAME="Fedora Linux"
VERSION="39 (Server Edition)"
ID=fedora
VERSION_ID=39
PRETTY_NAME="Fedora Linux 39 (Server Edition)"
EOF
echo "Fedora release 39 (Thirty Nine)" >$R/etc/fedora-release
echo luksguest.invalid >$R/etc/hostname
cat >$R/etc/fstab <<'EOF'
/dev/mapper/gkluks-root /     ext4 defaults 1 1
UUID=01234567-0123-0123-0123-0123456789c1 /boot ext4 defaults 1 2
EOF
echo "root:x:0:0:root:/root:/bin/bash" >$R/etc/passwd
echo "secret root data" >$R/root/notes.txt
echo "set timeout=5" >$B/grub/grub.cfg
mkext "$B" "$W/boot.ext4" 8 ext4 01234567-0123-0123-0123-0123456789c1 boot
mkext "$R" "$W/root.ext4" 12 ext4 01234567-0123-0123-0123-0123456789c2 root

# the plaintext of p2: an LVM PV with the root LV at a known place
truncate -s 16M "$W/pv.img"
L=$(losetup -f --show "$W/pv.img"); LOOPS+=("$L")
lvm_private_config "$W" "$L"
lvm pvcreate -q --norestorefile -u gk00c1-LUKS-pv00-0001-uuid-fixd-000001 "$L"
lvm vgcreate -q -s 1m gkluks "$L"
lvm lvcreate "${NOACT[@]}" -l 12 -n root gkluks
pe=$(lvm pvs --noheadings --units b --nosuffix -o pe_start "$L" | tr -d ' ')
losetup -d "$L"; LOOPS=()
dd if="$W/root.ext4" of="$W/pv.img" bs=1M seek=$((pe / 1048576)) conv=notrunc status=none
# encrypt it: LUKS1 by cryptsetup with a fixed key, data written by qemu,
# then the same ciphertext under a LUKS2 header with that key
truncate -s 18M "$W/p2-l1.img" p2.img
fmt "$W/p2-l1.img" guestpass.txt --type luks1 "${FAST1[@]}" -c aes-xts-plain64 -s 512 \
    --volume-key-file "$W/vk64"
poff=$(cryptsetup luksDump "$W/p2-l1.img" | awk '/^Payload offset/ {print $3}')
qemu-img convert -n -f raw "$W/pv.img" --object "$(qsecret guestpass.txt)" \
    --target-image-opts "$(qluks "$W/p2-l1.img" guestpass.txt)"
fmt p2.img guestpass.txt --type luks2 --pbkdf argon2id --pbkdf-force-iterations 4 \
    --pbkdf-memory 32768 --pbkdf-parallel 1 --sector-size 512 --offset "$poff" \
    -c aes-xts-plain64 -s 512 --volume-key-file "$W/vk64" \
    --uuid 01234567-0123-0123-0123-0123456789c3
dd if="$W/p2-l1.img" of=p2.img bs=512 skip="$poff" seek="$poff" conv=notrunc status=none
cp "$W/pv.img" guest-pv.plain

truncate -s 30M guest.img
sgdisk -o -n 1:2048:+8M -t 1:8300 -u 1:01234567-0123-0123-0123-0123456789d1 \
    -n 2:0:+18M -t 2:8309 -u 2:01234567-0123-0123-0123-0123456789d2 \
    -U 01234567-0123-0123-0123-0123456789d0 guest.img >/dev/null
start() { sgdisk -i "$1" guest.img | awk '/^First sector/ {print $3}'; }
place "$W/boot.ext4" guest.img "$(start 1)"
place p2.img guest.img "$(start 2)"
rm p2.img
