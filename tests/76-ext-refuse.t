#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What the ext write side refuses, and that a refusal changes nothing:
# filesystems with a feature guestkit cannot keep consistent (made by
# mke2fs -O FEATURE), errors recorded or orphans (set with debugfs), and,
# per inode, a verity file's data (the flag set with debugfs: this kernel
# may lack fs-verity) and an immutable file, whose metadata changes the
# kernel allows or refuses as checked here.  Every refusal names the
# feature, exits 1 and leaves the image byte-identical; every accepted
# change ends with e2fsck -fn clean and is read back with debugfs.
. "$(dirname "$0")/lib.sh"

[ -x "$GK_BIN/gfsh" ] || skip_all "needs gfsh"
export E2FSPROGS_FAKE_TIME=1700000000

mkimg() { # FILE MKE2FS-ARGS...
    local f=$1; shift
    rm -f "$f"
    truncate -s 32M "$f"
    mke2fs -q -F "$@" "$f" 2>"$T/mkfs.err"
}

# ---- features the whole filesystem is refused for ---------------------------
for feat in quota casefold ea_inode mmp; do
    if ! mkimg "$T/f.img" -t ext4 -O "$feat"; then
        diag "mke2fs -O $feat failed: $(head -c 200 "$T/mkfs.err")"
        continue
    fi
    before=$(sha256sum <"$T/f.img")
    rc=0; gfsh --rw -a "$T/f.img" -m /dev/sda mkdir /x 2>"$T/err" || rc=$?
    is "$rc" 1 "$feat: gfsh --rw mkdir refused (exit 1)"
    ok "... naming the feature: $(head -c 160 "$T/err")" grep -q "the $feat feature" "$T/err"
    is "$(sha256sum <"$T/f.img")" "$before" "$feat: the image is byte-identical"
    echo data >"$T/src"
    rc=0; gcopy-in -a "$T/f.img" -m /dev/sda "$T/src" / 2>"$T/err" || rc=$?
    is "$rc:$(sha256sum <"$T/f.img")" "1:$before" "$feat: gcopy-in refused too, byte-identical"
done

# an external journal (mke2fs -J device= on a loop device)
if [ "$(id -u)" = 0 ] && truncate -s 8M "$T/jdev.img" && mke2fs -q -F -O journal_dev -b 4096 "$T/jdev.img" &&
    loopdev=$(losetup -f --show "$T/jdev.img" 2>/dev/null); then
    rm -f "$T/x.img"; truncate -s 64M "$T/x.img"
    mke2fs -q -F -t ext4 -b 4096 -J device="$loopdev" "$T/x.img" >/dev/null 2>&1; mkrc=$?
    losetup -d "$loopdev"
    if [ $mkrc = 0 ]; then
        before=$(sha256sum <"$T/x.img")
        rc=0; gfsh --rw -a "$T/x.img" -m /dev/sda mkdir /x 2>"$T/err" || rc=$?
        is "$rc:$(sha256sum <"$T/x.img")" "1:$before" "external journal (mke2fs -J device=): refused, byte-identical"
        ok "... naming it: $(head -c 160 "$T/err")" grep -q "external journal" "$T/err"
    fi
fi

# ---- files in an encrypted directory (fscrypt v2, made by the kernel) --------
# Without the key nothing in it may change: new names would have to be
# encrypted, and its files' data is ciphertext.  Refusals name the feature;
# the files beside it stay writable.
if [ "$(id -u)" = 0 ] && mke2fs -q -F -t ext4 -O encrypt "$T/enc.img" 16M >/dev/null 2>&1 &&
    mkdir -p "$T/em" && mount -o loop "$T/enc.img" "$T/em" 2>/dev/null; then
    made=0
    python3 - "$T/em" >/dev/null 2>&1 <<'EOF' && made=1
import fcntl, os, struct, sys
mnt = sys.argv[1]
key = bytes(range(64))
arg = bytearray(struct.pack('<II32sII32s', 2, 0, bytes(32), len(key), 0, bytes(32)) + key)
fcntl.ioctl(os.open(mnt, os.O_RDONLY), 0xC0506617, arg)          # FS_IOC_ADD_ENCRYPTION_KEY
d = os.path.join(mnt, 'secret')
os.mkdir(d)
pol = struct.pack('<BBBBB3s16s', 2, 1, 4, 0, 0, bytes(3), bytes(arg[8:24]))
fcntl.ioctl(os.open(d, os.O_RDONLY), 0x800C6613, bytearray(pol))  # FS_IOC_SET_ENCRYPTION_POLICY
open(os.path.join(d, 'hello.txt'), 'w').write('hello world\n')
os.mkdir(os.path.join(d, 'sub'))
EOF
    echo plain >"$T/em/plain"
    umount "$T/em"
    if [ $made = 1 ]; then
        f=$(gfsh -a "$T/enc.img" -m /dev/sda ls /secret | while read -r n; do
            [ "$(gfsh -a "$T/enc.img" -m /dev/sda is-file "/secret/$n")" = true ] && echo "$n"; done | head -n 1)
        before=$(sha256sum <"$T/enc.img")
        for c in "write /secret/new x" "mkdir /secret/newdir" "write /secret/$f x" "rm /secret/$f" \
            "chmod 0600 /secret/$f" "setxattr user.a b 1 /secret/$f" "mv /plain /secret/moved" "chmod 0700 /secret"; do
            rc=0; gfsh --rw -a "$T/enc.img" -m /dev/sda $c 2>"$T/err" || rc=$?
            is "$rc:$(sha256sum <"$T/enc.img")" "1:$before" "encrypted: ${c//$f/FILE}: refused, byte-identical"
            ok "... naming the feature" grep -q "(the encrypt feature)" "$T/err"
        done
        echo new >"$T/esrc"
        rc=0; gcopy-in -a "$T/enc.img" -m /dev/sda "$T/esrc" /secret 2>"$T/err" || rc=$?
        is "$rc:$(sha256sum <"$T/enc.img")" "1:$before" "encrypted: gcopy-in into the directory: refused, byte-identical"
        ok "encrypted: a file outside it is written" gfsh --rw -a "$T/enc.img" -m /dev/sda write /plain changed
        ok "encrypted: e2fsck -fn is clean" e2fsck -fn "$T/enc.img"
        is "$(debugfs -R 'cat /plain' "$T/enc.img" 2>/dev/null)" "changed" "encrypted: debugfs reads it"
    else
        diag "the kernel cannot make fscrypt directories here: skipped"
    fi
fi

# ---- a damaged filesystem: errors recorded, orphans -------------------------
mkimg "$T/e.img" -t ext4
debugfs -w -R "ssv state 3" "$T/e.img" >/dev/null 2>&1
before=$(sha256sum <"$T/e.img")
rc=0; gfsh --rw -a "$T/e.img" -m /dev/sda mkdir /x 2>"$T/err" || rc=$?
is "$rc:$(sha256sum <"$T/e.img")" "1:$before" "errors recorded (debugfs ssv state 3): refused, byte-identical"
ok "... saying to run e2fsck" grep -q "errors recorded (run e2fsck)" "$T/err"
mkimg "$T/o.img" -t ext4
debugfs -w -R "write /etc/hostname victim" "$T/o.img" >/dev/null 2>&1
debugfs -w -R "ssv last_orphan 12" "$T/o.img" >/dev/null 2>&1
before=$(sha256sum <"$T/o.img")
rc=0; gfsh --rw -a "$T/o.img" -m /dev/sda mkdir /x 2>"$T/err" || rc=$?
is "$rc:$(sha256sum <"$T/o.img")" "1:$before" "an orphan list (debugfs ssv last_orphan): refused, byte-identical"
ok "... saying it has orphaned inodes" grep -q "orphaned inodes" "$T/err"

# ---- a verity file: its data is sealed, its metadata is not -----------------
if mkimg "$T/v.img" -t ext4 -O verity; then
    printf 'sealed\n' >"$T/vsrc"
    debugfs -w -R "write $T/vsrc vf" "$T/v.img" >/dev/null 2>&1
    # EXT4_VERITY_FL | EXT4_EXTENTS_FL
    debugfs -w -R "set_inode_field vf flags 0x180000" "$T/v.img" >/dev/null 2>&1
    ok "verity: (the crafted image is e2fsck-clean)" e2fsck -fn "$T/v.img"
    for c in "write /vf changed" "write-append /vf more" "truncate /vf" "truncate-size /vf 100"; do
        before=$(sha256sum <"$T/v.img")
        rc=0; gfsh --rw -a "$T/v.img" -m /dev/sda $c 2>"$T/err" || rc=$?
        is "$rc:$(sha256sum <"$T/v.img")" "1:$before" "verity: $c: refused, byte-identical"
        ok "... naming the feature" grep -q "(the verity feature)" "$T/err"
    done
    # the kernel allows these on a verity file (fsverity.rst: only the data is read-only)
    ok "verity: chmod, chown, setxattr, ln, mv are allowed" gfsh --rw -a "$T/v.img" -m /dev/sda <<'EOF'
chmod 0600 /vf
chown 7 8 /vf
setxattr user.note yes 3 /vf
ln /vf /vf2
mv /vf2 /vf3
EOF
    ok "verity: e2fsck -fn is clean" e2fsck -fn "$T/v.img"
    st=$(debugfs -R "stat /vf3" "$T/v.img" 2>/dev/null)
    ok "verity: debugfs: mode 0600, owner 7:8, 2 links" sh -c "echo \"\$1\" | grep -q 'Mode:  0600' && echo \"\$1\" | grep -q 'User:     7   Group:     8' && echo \"\$1\" | grep -q 'Links: 2'" _ "$st"
    ok "verity: debugfs: the verity flag is kept" sh -c "echo \"\$1\" | grep -q 'Flags: 0x180000'" _ "$st"
    is "$(debugfs -R 'cat /vf3' "$T/v.img" 2>/dev/null)" "sealed" "verity: debugfs reads the data unchanged"
    # gfedit writes a new file and renames it over the old one (as
    # virt-edit does; the kernel allows that rename): /vf becomes a plain
    # file, its other name keeps the sealed one
    ok "verity: gfedit -e replaces the file by a new one" gfedit -a "$T/v.img" -m /dev/sda /vf -e 's/sealed/open/'
    is "$(debugfs -R 'cat /vf' "$T/v.img" 2>/dev/null):$(debugfs -R 'cat /vf3' "$T/v.img" 2>/dev/null)" "open:sealed" \
        "verity: debugfs: /vf is the edited copy, /vf3 still the sealed file"
    ok "verity: e2fsck -fn is clean after gfedit" e2fsck -fn "$T/v.img"
    ok "verity: rm of a verity file is allowed" gfsh --rw -a "$T/v.img" -m /dev/sda rm /vf3
    ok "verity: e2fsck -fn is clean after the removal" e2fsck -fn "$T/v.img"
else
    diag "mke2fs -O verity failed: $(head -c 200 "$T/mkfs.err")"
fi

# ---- an immutable file: nothing changes (EPERM, as the kernel) --------------
mkimg "$T/i.img" -t ext4
printf 'fixed\n' >"$T/isrc"
debugfs -w -R "write $T/isrc imm" "$T/i.img" >/dev/null 2>&1
debugfs -w -R "set_inode_field imm flags 0x80010" "$T/i.img" >/dev/null 2>&1
before=$(sha256sum <"$T/i.img")
for c in "write /imm x:/imm" "chmod 0600 /imm:/imm" "setxattr user.a b 1 /imm:/imm" "rm /imm:/imm" "ln /imm /imm2:/imm2"; do
    rc=0; gfsh --rw -a "$T/i.img" -m /dev/sda ${c%:*} 2>"$T/err" || rc=$?
    is "$rc:$(cat "$T/err")" "1:gfsh: ${c%% *}: ${c#*:}: Operation not permitted" "immutable: ${c%:*}: Operation not permitted"
done
is "$(sha256sum <"$T/i.img")" "$before" "immutable: the image is byte-identical"

# ---- filesystems guestkit does not write: refused, untouched ----------------
for mk in "vfat:mkfs.vfat" "xfs:mkfs.xfs -q -f" "btrfs:mkfs.btrfs -q -f"; do
    t=${mk%%:*}
    rm -f "$T/o.img"; truncate -s 300M "$T/o.img"
    if ! ${mk#*:} "$T/o.img" >/dev/null 2>&1; then
        diag "${mk#*:} failed: skipped"
        continue
    fi
    before=$(sha256sum <"$T/o.img")
    rc=0; gfsh --rw -a "$T/o.img" -m /dev/sda mkdir /x 2>"$T/err" || rc=$?
    is "$rc:$(sha256sum <"$T/o.img")" "1:$before" "$t: gfsh --rw mkdir refused, byte-identical"
    ok "... saying it is not supported: $(head -c 120 "$T/err")" grep -qi "not supported\|read-only file system" "$T/err"
    rc=0; gcopy-in -a "$T/o.img" -m /dev/sda "$T/isrc" / 2>/dev/null || rc=$?
    is "$rc:$(sha256sum <"$T/o.img")" "1:$before" "$t: gcopy-in refused, byte-identical"
done

done_testing
