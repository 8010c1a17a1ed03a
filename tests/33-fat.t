#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The FAT driver against its oracles: mtools (mdir for the names, mcopy -m
# for the contents, sizes and times, mattrib for attributes, minfo for the
# geometry), fsck.fat -n for the cluster counts, blkid for labels, and the
# output of libguestfs 1.48.6 (its appliance kernel's vfat) recorded once
# on these fixtures (tests/data/fat/).  This machine's kernel has no vfat:
# the loop mount is not available as a live oracle.
. "$(dirname "$0")/lib.sh"
command -v mdir >/dev/null || skip_all "mtools not installed"
D=$(fixture fat) || skip_all "fixture fat failed"
DATA=$TOP/tests/data/fat
export MTOOLS_SKIP_CHECK=1 LANG=C.UTF-8 LC_ALL=C.UTF-8 TZ=UTC

for v in fat12 fat16 fat32; do
    img=$D/$v.img
    sum_before=$(sha256sum <"$img")
    A=(-a "$img" -m /dev/sda)

    # names: every path mdir lists (hidden ones too), as gls -R lists them
    mdir -/ -a -b -i "$img" ::/ | sed 's|^::/||; s|/$||' | sort >"$T/mdir"
    gls "${A[@]}" -R / | sort >"$T/gls"
    same_file "$T/gls" "$T/mdir" "$v: gls -R = mdir -/ -a -b (long, Unicode, short names; deep tree)"
    is "$(wc -l <"$T/gls")" "$(find "$D/tree" -mindepth 1 | wc -l)" "$v: as many entries as the source tree"

    # contents, sizes, mtimes: mcopy -m extracts with the FAT times
    rm -rf "$T/x" && mkdir "$T/x"
    mcopy -s -n -m -i "$img" ::/ "$T/x/" 2>/dev/null
    (cd "$T/x" && find . -type f ! -name Mixed.Txt -printf '%s %T@ /%P\n' | sed 's/\.0* / /' | sort -k3) >"$T/want"
    gls "${A[@]}" -lR --time-t / | awk '$1 == "-" && $7 != "/Mixed.Txt" {
        p = $0; for (i = 0; i < 6; i++) sub(/^[^ ]+ +/, "", p); print $3, $6, p }' | sort -k3 >"$T/got"
    same_file "$T/got" "$T/want" "$v: file sizes and mtimes = mcopy -m (2107 aside: mtools gets it wrong)"
    (cd "$T/x" && find . -type f -printf '%P\0' | sort -z | xargs -0 sha256sum | sed 's|  |  /|') >"$T/want"
    gls "${A[@]}" -lR --checksum=sha256 / | awk '$1 == "-" {
        p = $0; for (i = 0; i < 4; i++) sub(/^[^ ]+ +/, "", p); print $4 "  " p }' | sort -k2 >"$T/got"
    sort -k2 "$T/want" >"$T/want2"
    same_file "$T/got" "$T/want2" "$v: every file's sha256 = mcopy's copy"
    rm -rf "$T/y" && mkdir "$T/y"
    ok "$v: gcopy-out of the whole tree" gcopy-out "${A[@]}" / "$T/y"
    ok "$v: gcopy-out = mcopy (diff -r)" diff -r "$T/x" "$T/y"

    # the recorded libguestfs listing (/frag is made by mmd at build time)
    if [ -e "$DATA/$v.virt-ls" ]; then
        gls "${A[@]}" -lR --times --checksum=sha256 / | grep -v ' /frag$' >"$T/got"
        grep -v ' /frag$' "$DATA/$v.virt-ls" >"$T/want"
        same_file "$T/got" "$T/want" "$v: gls -lR --times --checksum = virt-ls 1.48.6 (modes, nlink-free sizes, times)"
    fi

    # attributes: read-only files lose their write bits (mattrib says R)
    is "$(mattrib -i "$img" ::/readonly.txt | awk '{print $2}')" "R" "$v: mattrib: readonly.txt is R"
    is "$(gls "${A[@]}" -lR / | awk '$NF == "/readonly.txt" {print $2}')" "0555" "$v: read-only file is 0555"

    # vfat lookups: ASCII case does not matter, short names reach long files
    same_file <(gcat "${A[@]}" /DOCUMENTS/numbers.TXT) "$D/tree/Documents/numbers.txt" "$v: case-insensitive path"
    short=$(mdir -i "$img" ::/ | awk '/Long File Name With Spaces.text$/ {print $1 "." $2}')
    same_file <(gcat "${A[@]}" "/$short") "$D/tree/Long File Name With Spaces.text" "$v: the short name $short reaches the long file"
    same_file <(gcat "${A[@]}" "/日本語のファイル.txt") "$D/tree/日本語のファイル.txt" "$v: a CJK long name"
    same_file <(gcat "${A[@]}" "/deep/level01/level02/level03/level04/level05/level06/level07/level08/level09/level10/level11/level12/level13/level14/level15/level16/bottom.txt") \
        "$D/tree/deep/level01/level02/level03/level04/level05/level06/level07/level08/level09/level10/level11/level12/level13/level14/level15/level16/bottom.txt" \
        "$v: 16 levels deep"
    same_file <(gcat "${A[@]}" /frag/big.bin) "$D/tree/frag/big.bin" "$v: a fragmented file"
    fails_cleanly "$v: a missing file" gcat "${A[@]}" /no-such-file
    is "$(gcat "${A[@]}" /empty | wc -c)" 0 "$v: an empty file"

    # statvfs: clusters as fsck.fat counts them, cluster size from minfo
    cs=$(minfo -i "$img" | awk '/^sector size:/ {s = $3} /^cluster size:/ {c = $3} END {print s * c}')
    set -- $(fsck.fat -n "$img" | tail -1 | sed 's|.*, \([0-9]*\)/\([0-9]*\) clusters|\1 \2|')
    used=$1 total=$2
    pct=$(python3 -c "import math; print('%d%%' % math.ceil(100 - 100.0 * ($total - $used) / $total))")
    is "$(gdf -a "$img" | sed -n 2p)" \
       "$(printf '%-36s%10s %10s %10s %5s' "$v.img:/dev/sda" $((total * cs / 1024)) $((used * cs / 1024)) \
          $(((total - used) * cs / 1024)) "$pct")" "$v: gdf = fsck.fat's cluster counts x minfo's cluster size"
    free_bytes=$(mdir -i "$img" ::/ | awk '/bytes free/ {gsub(/[^0-9]/, ""); print}')
    is "$(((total - used) * cs))" "$free_bytes" "$v: and mdir's bytes free agrees"

    # blkid's type and label
    is "$(gfilesystems -a "$img" -l --csv --no-title | cut -d, -f1-4)" \
       "/dev/sda,filesystem,vfat,$(blkid -p -s LABEL -o value "$img")" "$v: gfilesystems: vfat and the label blkid reads"
    is "$(fsck.fat -n "$img" >/dev/null 2>&1; echo $?)" 0 "$v: fsck.fat -n still clean"
    is "$(sha256sum <"$img")" "$sum_before" "$v: image untouched"
done

# virt-df on all four images (recorded): the same figures
if [ -e "$DATA/virt-df" ]; then
    gdf -a "$D/fat12.img" -a "$D/fat16.img" -a "$D/fat32.img" -a "$D/esp.img" >"$T/got"
    same_file "$T/got" "$DATA/virt-df" "gdf = virt-df 1.48.6 on the four images"
    gdf -h -a "$D/fat12.img" -a "$D/fat16.img" -a "$D/fat32.img" -a "$D/esp.img" >"$T/got"
    same_file "$T/got" "$DATA/virt-df-h" "gdf -h = virt-df -h"
fi
if [ -e "$DATA/virt-filesystems" ]; then
    gfilesystems -a "$D/esp.img" -a "$D/fat12.img" --all --long --uuid >"$T/got"
    same_file "$T/got" "$DATA/virt-filesystems" "gfilesystems --all --long --uuid = virt-filesystems (ESP on GPT, FAT12 disk)"
fi

# the ESP on a GPT disk, as a guest has it
E=(-a "$D/esp.img" -m /dev/sda1)
same_file <(gcat "${E[@]}" /EFI/BOOT/BOOTX64.EFI) "$D/esp/EFI/BOOT/BOOTX64.EFI" "ESP: BOOTX64.EFI"
same_file <(gcat "${E[@]}" /efi/debian/grub.cfg) "$D/esp/EFI/debian/grub.cfg" "ESP: grub.cfg, lower-case path"
is "$(gfsh --ro -a "$D/esp.img" run : vfs-type /dev/sda1 : list-filesystems)" "vfat
/dev/sda1: vfat" "gfsh: vfs-type, list-filesystems"
is "$(gfsh --ro -a "$D/esp.img" run : mount /dev/sda1 / : ls /EFI)" "BOOT
debian" "gfsh: mount a vfat filesystem and ls"

done_testing
