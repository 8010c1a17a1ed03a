#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A guest whose root is LUKS2 -> LVM -> ext4 (test-images/luks.sh): keys
# given the libguestfs ways (--key DEV:key:, --key UUID:file:,
# --keys-from-stdin), the volume opened as /dev/mapper/luks-UUID, the LVM
# inside found, the OS inspected and read.  Oracles: the tree and LVM
# layout the fixture made with mke2fs -d and lvm2, the plaintext qemu
# encrypted (guest-pv.plain), and libguestfs 1.48's virt-inspector
# recorded on this image with the same key (tests/data/luks).
. "$(dirname "$0")/lib.sh"
D=$(fixture luks) || skip_all "fixture luks failed"
G=$D/guest.img
UUID=01234567-0123-0123-0123-0123456789c3
K=(--key /dev/sda2:key:guestpass)

is "$(gcat -a "$G" "${K[@]}" /etc/hostname 2>&1)" "luksguest.invalid" "gcat -i through LUKS2 and LVM"
is "$(gcat -a "$G" --key "$UUID:file:$D/guestpass.txt" /root/notes.txt 2>&1)" "secret root data" \
    "--key UUID:file:FILE"
is "$(echo guestpass | gcat -a "$G" --keys-from-stdin /etc/hostname 2>&1)" "luksguest.invalid" \
    "--keys-from-stdin"
is "$(gcat -a "$G" --key /dev/sdb9:key:x --key /dev/sda2:key:wrong --key /dev/sda2:key:guestpass /etc/hostname 2>&1)" \
    "luksguest.invalid" "several keys for one device: each is tried"

fails_cleanly "a wrong key is refused" gcat -a "$G" --key /dev/sda2:key:wrong-pass /etc/hostname
is "$(cat "$T/fc.err")" \
   "gcat: could not find key to open LUKS encrypted /dev/sda2 (1 key tried on 1 keyslot); try using --key on the command line" \
   "the wrong-key message names the device and what was tried"
is "$(cat "$T/fc.out")" "" "a wrong key prints nothing on stdout"
fails_cleanly "no key and no terminal: the OS is not found" gcat -a "$G" /etc/hostname </dev/null
grep -q "/dev/sda2 is an encrypted LUKS volume: give its key with --key" "$T/fc.err"
_tap_result $? "... and the message says the volume needs a key"
fails_cleanly "a bad --key selector" gcat -a "$G" --key /dev/sda2:pass:x /etc/hostname

# the passphrase never shows up, not even with -v -x
gcat -v -x -a "$G" --key /dev/sda2:key:guestpass /etc/hostname >"$T/v.out" 2>&1
! grep -q guestpass "$T/v.out"
_tap_result $? "-v -x output does not contain the passphrase"
grep -q "keyslot 0 opened" "$T/v.out"
_tap_result $? "-v says which keyslot opened"

# devices: the LV inside the LUKS volume, its PV is the mapper device
out=$(gfilesystems -a "$G" "${K[@]}" --all --long --uuid --no-title 2>&1)
is "$(awk '$1 == "/dev/gkluks/root" && $2 == "filesystem" {print $3, $4, $NF}' <<<"$out")" \
   "ext4 root 01234567-0123-0123-0123-0123456789c2" "gfilesystems: the root LV's filesystem"
is "$(awk '$2 == "pv" {print $1, $NF}' <<<"$out")" \
   "/dev/mapper/luks-$UUID gk00c1LUKSpv000001uuidfixd000001" "gfilesystems: the PV is /dev/mapper/luks-UUID"
is "$(gfilesystems -a "$G" --all 2>&1 | grep -c gkluks)" 0 "gfilesystems without a key does not open it"

# inspection as virt-inspector saw it (libguestfs 1.48, same key; recorded
# once: tests/data/luks/README)
REC=$TOP/tests/data/luks/virt-inspector.xml
rc=0; ginspect -a "$G" "${K[@]}" --no-applications >"$T/gi.xml" 2>"$T/err" || rc=$?
is "$rc" 0 "ginspect --key: exit 0"
is "$(cat "$T/gi.xml")" "$(cat "$REC")" "ginspect --key: virt-inspector's report, whole"
for x in distro product_name hostname root; do
    is "$(xmllint --xpath "string(//operatingsystem/$x)" "$T/gi.xml")" \
       "$(xmllint --xpath "string(//operatingsystem/$x)" "$REC")" "  ... $x"
done
ok "  ... the LV inside LUKS is /" grep -q '<mountpoint dev="/dev/gkluks/root">/</mountpoint>' "$T/gi.xml"
rc=0; ginspect -a "$G" --no-applications </dev/null >"$T/gi2.xml" 2>"$T/err" || rc=$?
ok "ginspect without the key: not virt-inspector's report" sh -c "! cmp -s '$T/gi2.xml' '$REC'"

done_testing
