#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gmount of a LUKS-encrypted qcow2 (made by qemu-img convert with a
# secret) with --key IMAGE:file:FILE and --keys-from-stdin, against the
# kernel's loop mount of qemu-img's decryption: find -printf and sha256sum
# agree; 8 parallel readers (more sessions, each opening the image with
# the key) equal sequential reads; a wrong or missing key is refused
# clearly and nothing is mounted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-gmount.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"

S=$T/src
mkdir -p "$S"/{etc,sub1,sub2,sub3,sub4}
echo cryptmount >"$S/etc/hostname"
ln -s hostname "$S/etc/link"
for i in 1 2 3 4; do
    seeded_bytes $((84 + i)) $((2 << 20)) >"$S/big$i"
    for j in $(seq 1 20); do echo "file $i.$j" >"$S/sub$i/f$j"; done
done
touch -d '2001-02-03 04:05:06.123456789' "$S/etc/hostname"
mke2fs -q -F -t ext4 -b 4096 -E root_owner=0:0 -d "$S" "$T/fs.ext4" 24M >/dev/null 2>&1
printf 'mount pass' >"$T/pass"
SEC=(--object "secret,id=s,file=$T/pass")
IMG=$T/enc.qcow2
qemu-img convert -f raw "$T/fs.ext4" "${SEC[@]}" -O qcow2 \
    -o encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=10 "$IMG" 2>/dev/null ||
    skip_all "qemu-img could not make the encrypted image"
qemu-img convert "${SEC[@]}" --image-opts "driver=qcow2,file.filename=$IMG,encrypt.key-secret=s" \
    -O raw "$T/dec.raw"
sha_before=$(sha256sum <"$IMG")

K=$T/k M=$T/m
mkdir -p "$K" "$M"
mount -o loop,ro "$T/dec.raw" "$K" || skip_all "cannot loop-mount ext4"

# --key IMAGE:file:FILE, in the foreground with -v (the log names the
# sessions opened)
mkfifo "$T/ready"
gmount --no-fork --fd=3 -v -a "$IMG" --key "$IMG:file:$T/pass" -m /dev/sda "$M" \
    3>"$T/ready" 2>"$T/log" &
fg=$!
byte=$(timeout 60 head -c 1 "$T/ready" | xxd -p)
is "$byte" 00 "gmount --key IMAGE:file:FILE of an encrypted qcow2: mounted"
is "$(listing "$M")" "$(listing "$K")" "find -printf = the kernel's mount of qemu's decryption"
is "$(sums "$M")" "$(sums "$K")" "sha256sum of every file = kernel"
seq_out=$(for i in 1 2 3 4; do
    tar --sort=name -cf - -C "$K" "sub$i" | sha256sum
    sha256sum <"$K/big$i"
done)
for i in 1 2 3 4; do
    (timeout 120 tar --sort=name -cf - -C "$M" "sub$i" | sha256sum >"$T/par-tar$i") &
    (timeout 120 sha256sum <"$M/big$i" >"$T/par-sum$i") &
done
wait_readers() { local p; for p in $(jobs -p); do [ "$p" = "$fg" ] || wait "$p"; done; }
wait_readers
par_out=$(for i in 1 2 3 4; do cat "$T/par-tar$i" "$T/par-sum$i"; done)
is "$par_out" "$seq_out" "8 parallel readers = sequential reads of the kernel's mount"
rc=0; timeout 60 gumount "$M" || rc=$?
is "$rc" 0 "gumount: exit 0"
wait "$fg"
if grep -q "session [2-9] of" "$T/log"; then
    ok "more sessions were opened with the image's key" true
else
    # a single CPU (or readers served in turn) needs no second session
    ok "more sessions with the key # SKIP no second session was needed" true
fi
ok "... and none failed" sh -c "! grep -q 'no more sessions' '$T/log'"
ok "the key is not in the log" sh -c "! grep -q 'mount pass' '$T/log'"

# --keys-from-stdin, the daemon in the background
rc=0; timeout 60 gmount -a "$IMG" --keys-from-stdin -m /dev/sda "$M" <"$T/pass" || rc=$?
is "$rc" 0 "gmount --keys-from-stdin: mounted"
is "$(sums "$M")" "$(sums "$K")" "... sha256sum of every file = kernel"
timeout 60 gumount "$M"

# a wrong key, no key: refused, nothing mounted
fails_cleanly "a wrong key" gmount -a "$IMG" --key "$IMG:key:nope" -m /dev/sda "$M"
ok "... names the image and the keyslots" grep -q "the key opens no keyslot" "$T/fc.err"
ok "... nothing mounted" sh -c "! awk -v d='$M' '\$5 == d { f = 1 } END { exit !f }' /proc/self/mountinfo"
fails_cleanly "no key (and no terminal)" setsid -w gmount -a "$IMG" -m /dev/sda "$M" </dev/null
ok "... says how to give it" grep -q -- "--key $IMG:key:PASSPHRASE" "$T/fc.err"
ok "... nothing mounted" sh -c "! awk -v d='$M' '\$5 == d { f = 1 } END { exit !f }' /proc/self/mountinfo"

umount "$K"
is "$(sha256sum <"$IMG")" "$sha_before" "the image is unchanged"
done_testing
