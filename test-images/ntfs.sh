#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# NTFS fixtures: mkntfs on a file, files written through ntfs-3g's FUSE
# mount (the reparse points through its system.ntfs_reparse_data
# attribute), then what ntfs-3g shows of them recorded from a read-only
# remount (the oracle; test-images/ntfs-oracle.py).
#
#   ntfs.img        96 MiB NTFS, serial 0123456789ABCDEF, label GKNTFS:
#                   a Windows-like tree, Unicode and 255-character names,
#                   names differing only in case, a DOS (8.3) name, hidden
#                   and system files (a zero-length system file: a FIFO to
#                   ntfs-3g), hard links, alternate data streams (one over
#                   64 KiB), a sparse file, compressed files (LZNT1, in a
#                   directory marked compressed), a directory of 600
#                   files (a multi-level index), deep directories, an
#                   Interix symlink (ln -s), junctions (on and off the
#                   volume), absolute and relative symbolic links, a WSL
#                   symlink and a reparse point of an unknown tag (WOF)
#   ntfs.oracle/    listing.csv (every file, gls -lR --csv layout),
#                   xattrs.txt (streams), statvfs.txt, and the files the
#                   tests compare byte for byte (big.bin, sparse.bin...)
#   small.img       3 MiB NTFS: the base of the corrupt-input tests
#   hiber.img       small NTFS with an active hiberfil.sys ("hibr")
#   dirty.img       small NTFS with the volume dirty flag set
#   bitlocker.img   a BitLocker boot sector ("-FVE-FS-"), nothing else
#   ntfs-mbr.img    MBR: p1 holds a copy of ntfs.img (for -a ... -m /dev/sda1)
set -euo pipefail
OUT=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
cd "$OUT"
rm -rf ./*.img ntfs.oracle
M=$(mktemp -d)
cleanup() {
    mountpoint -q "$M" && umount "$M"
    rm -rf "$M"
}
trap cleanup EXIT

mk() { # IMG SIZE_MIB LABEL SERIAL
    truncate -s "$2"M "$1"
    mkntfs -F -f -q -L "$3" -c 4096 "$1" >/dev/null 2>&1
    ntfslabel -q --new-serial="$4" "$1" >/dev/null
}
reparse() { # PATH KIND ARG...
    setfattr -h -n system.ntfs_reparse_data -v "$(python3 "$HERE/mkreparse.py" "${@:2}")" "$1"
}
attrib() { # PATH HEX: the Windows attributes (FILE_ATTRIBUTE_*)
    setfattr -h -n system.ntfs_attrib_be -v "$2" "$1"
}

mk ntfs.img 96 GKNTFS 0123456789ABCDEF
ntfs-3g -o compression ntfs.img "$M"
(
    cd "$M"
    mkdir -p Windows/System32/drivers/etc Windows/System32/config "Program Files/App" \
        "Users/Gäst/Документы" Case empty-dir compressed many
    printf '# hosts\r\n127.0.0.1 localhost\r\n' >Windows/System32/drivers/etc/hosts
    printf '; for 16-bit app support\r\n[fonts]\r\n[extensions]\r\n' >Windows/win.ini
    printf 'readme\n' >"Program Files/App/readme.txt"
    printf 'Unicode path\n' >"Users/Gäst/Документы/файл.txt"
    printf 'kana\n' >"Users/Gäst/日本語 テキスト.txt"
    long=$(printf 'L%.0s' $(seq 1 251)).txt                 # 255 characters
    printf 'long name\n' >"$long"
    printf 'upper\n' >Case/README.TXT
    printf 'lower\n' >Case/readme.txt
    printf 'dos name\n' >"Long File Name.txt"
    setfattr -h -n system.ntfs_dos_name -v "LONGFI~1.TXT" "Long File Name.txt"
    printf 'hidden\n' >hidden.txt
    attrib hidden.txt 0x00000022
    : >sysfile
    attrib sysfile 0x00000004
    head -c 3000000 /dev/urandom >big.bin
    ln big.bin hardlink.bin
    # streams: the Zone.Identifier Windows adds to downloads, a Unicode
    # name, and one over the 64 KiB an xattr value may have
    printf 'main stream\n' >ads.txt
    setfattr -n user.Zone.Identifier -v "$(printf '[ZoneTransfer]\r\nZoneId=3\r\n')" ads.txt
    setfattr -n user.ünïcødé -v "stream 2" ads.txt
    setfattr -n user.dirstream -v "on a directory" Windows
    printf 'two streams\n' >ads2.txt
    setfattr -n user.one -v 1 ads2.txt
    setfattr -n user.two -v "$(printf 'b\001i\002n')" ads2.txt
    # sparse: data at 0, 20 MiB and at the end of 64 MiB
    python3 - <<'EOF'
import os
with open("sparse.bin", "wb") as f:
    f.write(b"head" * 1024)
    f.seek(20 << 20); f.write(os.urandom(100000))
    f.seek((64 << 20) - 4096); f.write(b"tail" * 1024)
EOF
    # compressed (LZNT1): the directory's flag makes new files compressed
    attrib compressed 0x00000810
    seq 1 200000 >compressed/text.txt
    head -c 300000 /dev/urandom >compressed/random.bin
    python3 - <<'EOF'
with open("compressed/holes.bin", "wb") as f:
    f.write(b"x" * 70000)
    f.seek(1 << 20); f.write(b"y" * 5000)
EOF
    for i in $(seq 1 600); do printf '%d\n' "$i" >"many/file-$i.txt"; done
    d=deep; for i in $(seq 1 24); do d=$d/d$i; done; mkdir -p "$d"; echo bottom >"$d/file"
    ln -s ads.txt interix-link
    mkdir junction junction-other symlink-abs Windows/symlink-rel
    reparse junction junction 'C:\Windows\System32'
    reparse junction-other junction 'D:\Data'
    reparse symlink-abs symlink 'C:\Users'
    reparse Windows/symlink-rel relsymlink '..\Program Files'
    : >wsl-link
    reparse wsl-link lxsymlink Windows/win.ini
    printf 'x' >wof.bin
    reparse wof.bin tag 0x80000017 0100000002000000
    # a few fixed times (the rest is "now")
    touch -h -d @1700000000 Windows/win.ini ads.txt
    touch -h -d '@946684800.123456789' "Program Files/App/readme.txt"
)
umount "$M"
# a stream over 64 KiB cannot be set as an xattr: through the Windows-style
# "file:stream" names instead
ntfs-3g -o streams_interface=windows ntfs.img "$M"
head -c 100000 /dev/zero | tr '\0' B >"$M/ads.txt:big"
umount "$M"

# the oracle: what a read-only ntfs-3g mount shows
mkdir -p ntfs.oracle
ntfs-3g -o ro ntfs.img "$M"
python3 "$HERE/ntfs-oracle.py" "$M" >ntfs.oracle/listing.csv
python3 "$HERE/ntfs-oracle.py" --xattrs "$M" >ntfs.oracle/xattrs.txt
python3 "$HERE/ntfs-oracle.py" --statvfs "$M" >ntfs.oracle/statvfs.txt
for f in big.bin sparse.bin compressed/text.txt compressed/random.bin compressed/holes.bin; do
    cp "$M/$f" "ntfs.oracle/$(echo "$f" | tr / _)"
done
# lookups by DOS name work, listings do not show them
stat -c '%i' "$M/LONGFI~1.TXT" >ntfs.oracle/dosname-ino.txt
umount "$M"
# ntfs-3g's own case-insensitive lookup (lowntfs-3g -o ignore_case): the
# inode each of these paths reaches
lowntfs-3g -o ro,ignore_case ntfs.img "$M"
for p in /windows/SYSTEM32/drivers/ETC/Hosts /case/ReadMe.txt /CASE/readme.txt /Case/README.TXT \
    "/USERS/gäst/ДОКУМЕНТЫ/ФАЙЛ.TXT" "/program files/app/README.TXT" /longfi~1.txt; do
    printf '%s\t%s\n' "$p" "$(stat -c %i "$M$p")"
done >ntfs.oracle/nocase.txt
umount "$M"
# ntfs-3g refuses to mount a hibernated Windows read-write
ntfs-3g_refusal() { ntfs-3g "$1" "$M" 2>&1 && umount "$M"; true; }

# small.img: the base the corrupt-input tests mutate (and the fuzzer's
# seeds): index blocks, fragmented, compressed and sparse runlists,
# streams, reparse points, in 3 MiB
mk small.img 3 SMALL 3333333333333333
ntfs-3g -o compression small.img "$M"
(
    cd "$M"
    mkdir -p d c Windows/System32
    for i in $(seq 1 120); do printf '%d\n' "$i" >"d/file-with-a-longer-name-$i.txt"; done
    for i in $(seq 1 24); do
        head -c 4096 /dev/urandom >>frag.bin
        head -c 4096 /dev/urandom >>other.bin
    done
    attrib c 0x00000810
    seq 1 20000 >c/text.txt
    python3 -c 'f=open("sparse.bin","wb"); f.write(b"a"*5000); f.seek(600000); f.write(b"z"*3000)'
    echo win >Windows/win.ini
    echo ads >ads.txt
    setfattr -n user.s1 -v one ads.txt
    setfattr -n user.s2 -v two ads.txt
    ln ads.txt link.txt
    mkdir junction symlink
    reparse junction junction 'C:\Windows\System32'
    reparse symlink relsymlink 'Windows'
    ln -s ads.txt interix
)
umount "$M"

# Windows left these in states that need a word
mk hiber.img 8 HIBER 1111111111111111
ntfs-3g hiber.img "$M"
{ printf 'hibr'; head -c 8188 /dev/zero; } >"$M/hiberfil.sys"
echo data >"$M/file.txt"
umount "$M"
ntfs-3g_refusal hiber.img >hiber.ntfs-3g.txt

mk dirty.img 8 DIRTY 2222222222222222
ntfs-3g dirty.img "$M"
echo data >"$M/file.txt"
umount "$M"
python3 - dirty.img <<'EOF'
# set VOLUME_IS_DIRTY in $Volume's $VOLUME_INFORMATION (MFT record 3)
import struct, sys
f = open(sys.argv[1], 'r+b')
bs = f.read(512)
sec, spc = struct.unpack_from('<HB', bs, 11)
mft_lcn, = struct.unpack_from('<q', bs, 0x30)
c = struct.unpack_from('<b', bs, 0x40)[0]
rec = 1 << -c if c < 0 else c * sec * spc
off = mft_lcn * sec * spc + 3 * rec
f.seek(off); r = bytearray(f.read(rec))
a = struct.unpack_from('<H', r, 0x14)[0]
while True:
    t, l = struct.unpack_from('<II', r, a)
    if t == 0xffffffff: sys.exit('no $VOLUME_INFORMATION')
    if t == 0x70:
        v = a + struct.unpack_from('<H', r, a + 20)[0]
        flags = struct.unpack_from('<H', r, v + 10)[0]
        struct.pack_into('<H', r, v + 10, flags | 1)
        break
    a += l
f.seek(off); f.write(r)
# the first records are mirrored in $MFTMirr: keep the copy the same
mirr_lcn, = struct.unpack_from('<q', bs, 0x38)
f.seek(mirr_lcn * sec * spc + 3 * rec); f.write(r)
EOF

# BitLocker: only what blkid and we look at: the Windows 7 boot sector
# ("-FVE-FS-", the BitLocker GUID, the FVE metadata offset) and the FVE
# metadata block header there
python3 - <<'EOF'
import struct
b = bytearray(8 << 20)
b[0:11] = b'\xeb\x58\x90-FVE-FS-'
struct.pack_into('<HB', b, 11, 512, 8)
b[160:176] = bytes.fromhex('3bd6674961a8d64fa6ab4d9f6b2fdb5a')
struct.pack_into('<Q', b, 176, 1 << 20)
b[(1 << 20):(1 << 20) + 8] = b'-FVE-FS-'
struct.pack_into('<HH', b, (1 << 20) + 8, 64, 2)
b[510:512] = b'\x55\xaa'
open('bitlocker.img', 'wb').write(b)
EOF

# ntfs.img as the first partition of an MBR disk
truncate -s 100M ntfs-mbr.img
printf 'label: dos\nlabel-id: 0x4e544653\nstart=2048, type=7\n' | sfdisk -q ntfs-mbr.img
dd if=ntfs.img of=ntfs-mbr.img bs=512 seek=2048 conv=notrunc,sparse status=none
