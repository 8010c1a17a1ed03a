#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Rocky-Linux-like guest (test-images/rocky.sh: GPT, ESP on FAT, /boot
# on XFS, the root on XFS in LVM): inspection, gcat -i, gls -lR -i and gdf
# across its mounts.  Oracles: the trees the filesystems were made from,
# its fstab and os-release read back by the shell, blkid -p, rpm -qa on its
# database, df -k of the XFS filesystems kernel-mounted, xmllint against
# tools/ginspect.rng.
. "$(dirname "$0")/lib.sh"
D=$(fixture rocky) || skip_all "fixture rocky failed"
export LC_ALL=C TZ=UTC
IMG=$D/rocky.img
R=$D/tree-root
osrel() { (set +u; . "$1"; eval "printf '%s' \"\${$2}\""); }
start() { sgdisk -i "$1" "$IMG" | awk '/^First sector/ {print $3 * 512}'; }
blk() { blkid -p -o value -s "$2" -O "$(start "$1")" "$IMG"; }

# ---- inspection
ginspect -a "$IMG" >"$T/i.xml" 2>"$T/i.err"
ok "ginspect: XML validates" xmllint --noout --relaxng "$TOP/tools/ginspect.rng" "$T/i.xml"
is "$(cat "$T/i.err")" "" "ginspect: no warnings"
xp() { xmllint --xpath "$1" "$T/i.xml" 2>/dev/null; }
o=$R/usr/lib/os-release
is "$(xp 'string(//root)') $(xp 'string(//distro)') $(xp 'string(//major_version)').$(xp 'string(//minor_version)')" \
   "/dev/rl/root $(osrel "$o" ID) $(osrel "$o" VERSION_ID)" "ginspect: root in LVM, distro, version"
is "$(xp 'string(//product_name)')|$(xp 'string(//hostname)')|$(xp 'string(//package_format)')" \
   "$(osrel "$o" PRETTY_NAME)|$(cat "$R/etc/hostname")|rpm" "ginspect: product name, hostname, rpm"
# fstab: /dev/mapper/rl-root, UUID= of /boot, the ESP's serial
boot_uuid=$(awk '$2 == "/boot" {sub(/^UUID=/, "", $1); print $1}' "$R/etc/fstab")
esp_uuid=$(awk '$2 == "/boot/efi" {sub(/^UUID=/, "", $1); print $1}' "$R/etc/fstab")
bootdev=; espdev=
for n in 1 2; do
    [ "$(blk $n UUID)" = "$boot_uuid" ] && bootdev=/dev/sda$n
    [ "$(blk $n UUID)" = "$esp_uuid" ] && espdev=/dev/sda$n
done
is "$(xp '//mountpoints' | grep -o 'dev="[^"]*">[^<]*' | sed 's/dev="//; s/">/ /' | tr '\n' ';')" \
   "/dev/rl/root /;$bootdev /boot;$espdev /boot/efi;" "ginspect: the three mountpoints of the fstab"
is "$(xp '//filesystem[@dev="/dev/sda1"]/type/text()') $(xp '//filesystem[@dev="/dev/sda2"]/type/text()') $(xp '//filesystem[@dev="/dev/rl/root"]/type/text()') $(xp '//filesystem[@dev="/dev/rl/swap"]/type/text()')" \
   "$(blk 1 TYPE) $(blk 2 TYPE) xfs swap" "ginspect: filesystem types as blkid"
is "$(xp '//filesystem[@dev="/dev/sda2"]/uuid/text()') $(xp '//filesystem[@dev="/dev/sda1"]/uuid/text()')" \
   "$(blk 2 UUID) $(blk 1 UUID)" "ginspect: /boot and ESP UUIDs as blkid"
is "$(xp '//application/name/text()' | tr '\n' ' ')" "$(cut -d' ' -f1 "$D/rpm-qa.txt" | tr '\n' ' ')" \
   "ginspect: the applications rpm -qa lists"

# ---- gfsh: the filesystems with blkid's types (the LVs as rocky.sh made
# them), -i mounts as the fstab says
is "$(gfsh --ro -a "$IMG" run : list-filesystems)" "/dev/sda1: $(blk 1 TYPE)
/dev/sda2: $(blk 2 TYPE)
/dev/rl/root: xfs
/dev/rl/swap: swap" "gfsh list-filesystems: ESP, /boot, root and swap LVs"
is "$(gfsh --ro -a "$IMG" -i run : mountpoints : vfs-type /dev/rl/root : vfs-uuid "$bootdev")" \
   "/dev/rl/root: /
$bootdev: /boot
$espdev: /boot/efi
xfs
$boot_uuid" "gfsh -i: the fstab's mounts; vfs-type, vfs-uuid"

# ---- gcat -i on each filesystem
entry=$(cd "$D/tree-boot/loader/entries" && ls)
is "$(gcat -a "$IMG" -i /etc/redhat-release "/boot/loader/entries/$entry" /boot/efi/EFI/rocky/grub.cfg)" \
   "$(cat "$R/etc/rocky-release" "$D/tree-boot/loader/entries/$entry" "$D/tree-esp/EFI/rocky/grub.cfg")" \
   "gcat -i: the root (XFS on LVM), /boot (XFS) and /boot/efi (FAT)"
is "$(gcat -a "$IMG" -i /usr/bin/bash | sha256sum)" "$(sha256sum <"$R/usr/bin/bash")" "gcat -i /usr/bin/bash"

# ---- gls -lR -i: every file of the three trees, each on its mountpoint
expected() {
    python3 - "$R" "$D/tree-boot" "$D/tree-esp" <<'EOF'
import os, stat, sys
root, boot, esp = sys.argv[1:4]
def t(m):
    for f, c in ((stat.S_ISREG, '-'), (stat.S_ISDIR, 'd'), (stat.S_ISLNK, 'l')):
        if f(m): return c
    return '?'
out = []
def walk(g, h, fat):
    for n in sorted(os.listdir(h)):
        gp, hp = (g.rstrip('/') + '/' + n), os.path.join(h, n)
        if gp == '/boot':
            hp, sub = boot, False
        elif gp == '/boot/efi':
            hp, sub = esp, True
        else:
            sub = fat
        st = os.lstat(hp)
        # FAT has no modes or links: its entries by type, size and path
        mode = '----' if sub else '%04o' % stat.S_IMODE(st.st_mode)
        size = '-' if stat.S_ISDIR(st.st_mode) else str(st.st_size)
        line = '%s %s %s %s' % (t(st.st_mode), mode, size, gp)
        if stat.S_ISLNK(st.st_mode):
            line += ' -> ' + os.readlink(hp)
        out.append(line)
        if stat.S_ISDIR(st.st_mode):
            walk(gp, hp, sub)
walk('/', root, False)
print('\n'.join(out))
EOF
}
gls -a "$IMG" -i -lR / | tail -n +2 |
    sed -E 's/^(d) ([0-7]{4}) +[0-9]+ /\1 \2 - /; s/^([-dl]) ([0-7]{4}) +/\1 \2 /' |
    awk '{ if ($4 ~ "^/boot/efi(/|$)") $2 = "----"; print }' >"$T/got"
expected >"$T/want"
ok "gls -lR -i: $(wc -l <"$T/want") files across the root, /boot and /boot/efi" diff "$T/want" "$T/got"

# ---- gdf: the XFS filesystems as df -k, the ESP listed
gdf -a "$IMG" >"$T/df"
is "$(awk '$1 ~ /:\/dev\/sda2$/ {print $2, $3, $4}' "$T/df")" "$(cat "$D/df-boot.txt")" "gdf: /boot as df -k"
is "$(awk '$1 ~ /:\/dev\/rl\/root$/ {print $2, $3, $4}' "$T/df")" "$(cat "$D/df-root.txt")" \
   "gdf: the root LV as df -k"
ok "gdf: the ESP is listed" grep -q ':/dev/sda1 ' "$T/df"
done_testing
