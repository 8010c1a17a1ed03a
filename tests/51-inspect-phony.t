#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Inspection like virt-inspector on guests shaped like libguestfs' phony
# test guests (test-images/phony.sh), and what the tools say about layers
# guestkit cannot read.  Oracles: virt-inspector 1.48.6's reports of the
# same images (tests/data/virt-inspector, recorded once), rpm -qa on the
# guest's rpmdb.sqlite, the generated trees, blkid -p for filesystem types,
# mtools/the btrfs tree for the contents of layers once a driver reads them.
. "$(dirname "$0")/lib.sh"
command -v ginspect >/dev/null || skip_all "ginspect not built"
dir=$(fixture phony) || exit 1
REC=$TOP/tests/data/virt-inspector

# virt-inspector 1.48.6 has no build_id element (guestfs-tools 1.49.7 added
# it) and keeps dpkg's " ." description lines as "."; the rest must match
# byte for byte.  The recorded arch is the recording host's.
norm_ours() { grep -v '<build_id>'; }
norm_rec() { sed -e 's/^\.$//' -e "s|<arch>x86_64</arch>|<arch>$(uname -m)</arch>|"; }
for g in coreos debian rpm noos; do
    rc=0
    ginspect -a "$dir/$g.img" >"$T/$g.xml" 2>"$T/$g.err" || rc=$?
    is "$rc" 0 "$g: ginspect exits 0 (as virt-inspector)"
    is "$(norm_ours <"$T/$g.xml")" "$(norm_rec <"$REC/$g.xml")" "$g: the report virt-inspector 1.48.6 gives"
done

# ---- CoreOS: the OS is on USR-A, merged into the root; no fstab
osr=$dir/coreos-usr.tree/lib64/os-release
bid=$(. "$osr"; echo "$BUILD_ID")
is "$(xmllint --xpath 'string(//build_id)' "$T/coreos.xml")" "$bid" "coreos: build_id from USR-A's os-release"
is "$(gcat -a "$dir/coreos.img" /etc/hostname)" "$(cat "$dir/coreos-root.tree/etc/hostname")" \
   "coreos: gcat -i mounts ROOT on /"
is "$(gcat -a "$dir/coreos.img" /usr/lib/os-release)" "$(cat "$osr")" \
   "coreos: ... and USR-A on /usr (os-release through /etc/os-release's link target)"
is "$(gcat -a "$dir/coreos.img" /etc/os-release)" "$(cat "$osr")" "coreos: /etc/os-release, a link into /usr"

# ---- dpkg: "Status: installed ok" counts (3 packages, as virt-inspector)
is "$(xmllint --xpath 'count(//application)' "$T/debian.xml")" \
   "$(grep -c '^Status: installed ok$' "$dir/debian-var.tree/lib/dpkg/status")" \
   "debian: every 'Status: installed ok' package listed"

# ---- rpm: tags the header does not have are "(none)", as rpm prints them
mkdir -p "$T/rpmdb"
cp "$dir/rpm-root.tree/var/lib/rpm/rpmdb.sqlite" "$T/rpmdb/"
is "$(ginspect --json -a "$dir/rpm.img" | jq -r '.operatingsystems[0].applications[] | "\(.name) \(.version) \(.release) \(.arch) \(.url)"')" \
   "$(rpm -qa --dbpath "$T/rpmdb" --qf '%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{URL}\n' | LC_ALL=C sort)" \
   "rpm: name version release arch url = rpm -qa, (none) included"

# ---- no OS: an empty list, and the -i tools say there is none
is "$(cat "$T/noos.xml")" '<?xml version="1.0"?>
<operatingsystems/>' "noos: <operatingsystems/>"
is "$(cat "$T/noos.err")" "" "noos: nothing on stderr"
is "$(ginspect --json -a "$dir/noos.img" | jq -c .)" '{"operatingsystems":[]}' "noos: --json an empty list"
fails_cleanly "noos: gcat -i fails" gcat -a "$dir/noos.img" /etc/hostname
is "$(cat "$T/fc.err")" \
   "gcat: no operating system was found on the disk image(s); use -m DEV to mount a filesystem by hand (gfilesystems lists them)" \
   "noos: ... saying there is no OS (nothing it could not read)"

# ---- layers guestkit may not read (yet).  A device is readable when
# gls -m DEV / works; then its contents must be what was put there,
# otherwise every tool names it with blkid's type.
ptype() { # IMG PARTNUM: blkid's TYPE of that partition
    local start
    start=$(sfdisk --json "$1" | jq ".partitiontable.partitions[$(($2 - 1))].start")
    blkid -p -o value -s TYPE -O $((start * 512)) "$1"
}
readable() { gls -a "$1" -m "$2" / >/dev/null 2>&1; }
L=$dir/layers.img
gls -a "$L" / >"$T/ls.out" 2>"$T/ls.err"
is "$(cat "$T/ls.out")" "$({ ls -A "$dir/layers-root.tree"; echo lost+found; } | LC_ALL=C sort)" \
   "layers: / of the root lists (what cannot be mounted is a warning)"
gdf -a "$L" >"$T/df.out" 2>"$T/df.err"
for p in 2:/boot/efi 3:/srv 4:/data; do
    n=${p%%:*} mp=${p#*:} t=$(ptype "$L" "${p%%:*}")
    if readable "$L" "/dev/sda$n"; then
        ok "layers: $mp ($t, readable): gls lists it" gls -a "$L" "$mp"
        is "$(grep -c "/dev/sda$n" "$T/df.err")" 0 "layers: gdf: no warning about /dev/sda$n ($t)"
        is "$(grep -c "^layers.img:/dev/sda$n " "$T/df.out")" 1 "layers: gdf: a row for /dev/sda$n ($t)"
    else
        fails_cleanly "layers: gls $mp ($t, not readable) fails" gls -a "$L" "$mp"
        is "$(grep -v warning "$T/fc.err")" "gls: $mp: /dev/sda$n is $t, which guestkit cannot read" \
           "layers: ... saying why, not listing an empty directory"
        is "$(grep -c "^gls: warning: $mp: /dev/sda$n is $t, which guestkit cannot read (not mounted)$" "$T/ls.err")" 1 \
           "layers: -i warns once that $mp is not mounted"
        is "$(grep -c "/dev/sda$n" "$T/df.err")" 1 "layers: gdf warns once about /dev/sda$n ($t)"
        is "$(grep "/dev/sda$n" "$T/df.err")" "gdf: warning: /dev/sda$n is $t, which guestkit cannot read (skipped)" \
           "layers: ... naming the type"
    fi
done
is "$(ptype "$L" 3)" minix "layers: /srv is minix (blkid)"
ok "layers: minix has no driver, so the checks above saw a refusal" bash -c "! gls -a '$L' -m /dev/sda3 / 2>/dev/null"
if readable "$L" /dev/sda2; then
    is "$(gls -a "$L" -R /boot/efi 2>/dev/null | sed 's|^/||' | LC_ALL=C sort)" \
       "$(MTOOLS_SKIP_CHECK=1 mdir -/ -b -i "$L@@$(($(sfdisk --json "$L" | jq '.partitiontable.partitions[1].start') * 512))" ::/ | sed 's|^::/||; s|/$||' | LC_ALL=C sort)" \
       "layers: /boot/efi (vfat) = mdir"
fi
if readable "$L" /dev/sda4; then
    is "$(gcat -a "$L" /data/note.txt 2>/dev/null)" "$(cat "$dir/layers-data.tree/note.txt")" "layers: /data (btrfs) file = tree"
fi
is "$(grep -c '^layers.img:/dev/sda1 ' "$T/df.out")" 1 "layers: gdf still reports the root"
is "$(grep -c 'sda5' "$T/df.err")" 0 "layers: swap is not a filesystem gdf warns about"

# ---- a root on each layer: -i finds the OS, or names the layer
for t in btrfs vfat ntfs minix luks; do
    img=$dir/root-$t.img
    bt=$(ptype "$img" 2)
    rc=0
    gcat -a "$img" /etc/hostname >"$T/h.out" 2>"$T/h.err" || rc=$?
    if readable "$img" /dev/sda2; then
        if [ -s "$T/h.out" ]; then
            is "$(cat "$T/h.out")" "$(cat "$dir/root-layer.tree/etc/hostname")" "root on $bt (readable): gcat -i finds the OS"
        else
            is "$(grep -c 'cannot read' "$T/h.err")" 0 "root on $bt (readable, empty): the error does not blame the layer"
        fi
    else
        # a LUKS volume is readable with its key: the message asks for it
        why="$bt, which guestkit cannot read"
        [ "$bt" = crypto_LUKS ] && why="an encrypted LUKS volume: give its key with --key /dev/sda2:key:PASSPHRASE"
        is "$rc $(cat "$T/h.err")" \
           "1 gcat: no operating system was found on the disk image(s): /dev/sda2 is $why" \
           "root on $bt (not readable): -i names the layer"
        is "$(ginspect -a "$img" 2>&1 >/dev/null)" "ginspect: warning: /dev/sda2 is $why: not inspected" \
           "root on $bt: ginspect warns (its report may be incomplete)"
    fi
done
is "$(ptype "$dir/root-luks.img" 2)" crypto_LUKS "root-luks: blkid says crypto_LUKS"

done_testing
