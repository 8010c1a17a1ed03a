#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# FAT fixtures, made by mkfs.vfat and filled by mtools (mcopy -m keeps the
# source files' times, written as FAT local time with TZ=UTC):
#
#   fat12.img  2 MiB FAT12, label FAT12VOL, serial 1234-5678
#   fat16.img  32 MiB FAT16, 2 KiB clusters
#   fat32.img  64 MiB FAT32, 512-byte clusters (long chains, a root
#              directory of several clusters)
#   esp.img    GPT disk: p1 the EFI system partition (FAT32, 40 MiB)
#              holding EFI/BOOT/BOOTX64.EFI and EFI/debian/grub.cfg
#
# Each of the three holds the same tree (tree/ here, the oracle for
# contents): long names (multi-slot, 200 characters), Unicode names (BMP:
# accents, CJK), names that fit 8.3 in lower, upper and mixed case, an
# empty file, a read-only file, a hidden file, a 16-level deep directory
# chain, a directory of 300 entries, and fragmented files: frag/ is filled
# with small files, every other one deleted, then a big file copied over
# the holes.  fsck.fat -n must find each image clean.
set -euo pipefail
OUT=$(realpath "$1")
cd "$OUT"
rm -rf ./*.img tree
export MTOOLS_SKIP_CHECK=1 LANG=C.UTF-8 LC_ALL=C.UTF-8 TZ=UTC

T=tree
mkdir -p "$T"
printf 'hello\n' >"$T/readme.txt"
printf 'UPPER\n' >"$T/UPPER.TXT"
printf 'mixed\n' >"$T/Mixed.Txt"
printf 'eight\n' >"$T/abcdefgh.ijk"
: >"$T/empty"
printf 'A file whose name has spaces\n' >"$T/Long File Name With Spaces.text"
long=$(printf 'n%.0s' $(seq 1 190)).longname
printf 'long\n' >"$T/$long"
printf 'café\n' >"$T/café au lait.txt"
printf 'nihongo\n' >"$T/日本語のファイル.txt"
printf 'grüße\n' >"$T/Grüße aus Köln.md"
printf 'ro\n' >"$T/readonly.txt"
printf 'hidden\n' >"$T/hidden.dat"
mkdir -p "$T/Documents/Reports 2024"
head -c 70000 /usr/bin/mdir >"$T/Documents/Reports 2024/binary.bin"
seq 1 20000 >"$T/Documents/numbers.txt"
d="$T/deep"
for i in $(seq -w 1 16); do d="$d/level$i"; done
mkdir -p "$d"
printf 'bottom\n' >"$d/bottom.txt"
mkdir -p "$T/many"
for i in $(seq 1 300); do printf '%s\n' "$i" >"$T/many/entry number $i.txt"; done
mkdir -p "$T/frag"
for i in $(seq -w 1 30); do head -c 3000 /dev/zero | tr '\0' "$(printf "\\$(printf %o $((64 + 10#$i)))")" >"$T/frag/small$i"; done
head -c 100000 /usr/bin/mcopy >"$T/frag/big.bin"
# fixed times, 2-second aligned as FAT stores them
find "$T" -exec touch -h -d '2023-11-14 22:13:20' {} +
touch -d '2021-03-04 05:06:08' "$T/readme.txt"
touch -d '1999-12-31 23:59:58' "$T/UPPER.TXT"
touch -d '2107-12-31 23:59:58' "$T/Mixed.Txt" 2>/dev/null || true

fill() { # IMG
    local i=$1
    # everything but frag/, then frag's small files, delete every other
    # one, then the big file goes into the holes
    for f in "$T"/*; do
        case $(basename "$f") in frag) continue ;; esac
        mcopy -s -m -i "$i" "$f" ::/
    done
    mattrib -i "$i" +r ::/readonly.txt
    mattrib -i "$i" +h ::/hidden.dat
    mmd -i "$i" ::/frag
    for f in "$T"/frag/small*; do mcopy -m -i "$i" "$f" ::/frag/; done
    for n in $(seq -w 2 2 30); do mdel -i "$i" "::/frag/small$n"; done
    mcopy -m -i "$i" "$T/frag/big.bin" ::/frag/
    fsck.fat -n "$i"
}
truncate -s 2M fat12.img
mkfs.vfat -F 12 -n FAT12VOL -i 12345678 fat12.img
fill fat12.img
truncate -s 32M fat16.img
mkfs.vfat -F 16 -s 4 -n FAT16VOL -i 2345678a fat16.img
fill fat16.img
truncate -s 64M fat32.img
mkfs.vfat -F 32 -s 1 -n FAT32VOL -i 3456789b fat32.img
fill fat32.img
# the deleted small files are gone from the oracle tree too
for n in $(seq -w 2 2 30); do rm -f "$T/frag/small$n"; done

# An EFI system partition on a GPT disk
truncate -s 48M esp.img
sgdisk -o -n 1:2048:+40M -t 1:ef00 -c 1:"EFI System Partition" \
    -u 1:01234567-0123-0123-0123-0123456789e1 esp.img >/dev/null
truncate -s 40M esp.part
mkfs.vfat -F 32 -n ESP -i 0badcafe esp.part
mkdir -p esp/EFI/BOOT esp/EFI/debian
head -c 50000 /usr/bin/mtype >esp/EFI/BOOT/BOOTX64.EFI
printf 'set root=(hd0,gpt2)\nconfigfile /boot/grub/grub.cfg\n' >esp/EFI/debian/grub.cfg
find esp -exec touch -h -d '2023-11-14 22:13:20' {} +
mcopy -s -m -i esp.part esp/EFI ::/
fsck.fat -n esp.part
dd if=esp.part of=esp.img bs=512 seek=2048 conv=notrunc,sparse status=none
rm -f esp.part
