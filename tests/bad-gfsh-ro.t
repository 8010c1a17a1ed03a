#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gfsh's read-only guestfish commands on hostile guest data (also run
# under ASan+UBSan): initrd images that are truncated, garbage, or early
# cpio archives with absurd headers; file on random bytes; a superblock
# with the ext magic and nonsense everywhere else for tune2fs-l; blkid
# of garbage; icons that lie about their size.  Each gets an answer or a
# one-line error, never a crash or a hang.
. "$(dirname "$0")/lib.sh"
G=$GK_BIN/gfsh
[ -x "$G" ] || skip_all "needs $G"
mkdir -p "$T/t/usr/share/pixmaps" "$T/t/etc" "$T/t/bin"
head -c 100000 /dev/urandom >"$T/t/random.bin"
seq 1 5000 | (mkdir -p "$T/c" && cd "$T/c" && for i in a b c; do seq 1 2000 >$i; done &&
    find . | cpio --quiet -o -H newc) >"$T/good.cpio"
gzip -9n <"$T/good.cpio" >"$T/t/good.img"
head -c $(($(stat -c %s "$T/t/good.img") / 2)) "$T/t/good.img" >"$T/t/truncated.img"
head -c 20000 "$T/good.cpio" >"$T/t/truncated.cpio"
# an early archive whose header claims a 4 GiB name and a 4 GiB file
{ printf '070701'; printf '%08X' 1 33188 0 0 1 0 4294967295 0 0 0 0 4294967295 0; printf 'x\0'; } >"$T/t/absurd.img"
cat "$T/t/good.img" >>"$T/t/absurd.img"
# an early archive then nothing but zeros
{ cat "$T/good.cpio"; head -c 100000 /dev/zero; } >"$T/t/zeros.img"
# an "initrd" that is a gzip bomb of zeros (work proportional to what is asked)
head -c 50M /dev/zero | gzip -1 >"$T/t/bomb.img"
# a PNG over the size libguestfs allows for the Debian logo (2 KiB)
{ printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x02\0\0\0'; head -c 3000 /dev/zero; } \
    >"$T/t/usr/share/pixmaps/debian-logo.png"
printf 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="x"\n' >"$T/t/etc/os-release"
echo 12.5 >"$T/t/etc/debian_version"
echo "127.0.0.1 localhost" >"$T/t/etc/hosts"
cp /bin/true "$T/t/bin/true"
mke2fs -q -F -t ext4 -d "$T/t" "$T/fs.img" 64M >/dev/null 2>&1
# a superblock with the right magic and garbage around it
head -c 4M /dev/urandom >"$T/sb.img"
printf '\x53\xef' | dd of="$T/sb.img" bs=1 seek=$((1024 + 56)) conv=notrunc status=none
head -c 1M /dev/urandom >"$T/garbage.img"

GS=("$G" -a "$T/fs.img" -m /dev/sda)
for f in truncated.img truncated.cpio random.bin absurd.img; do
    fails_cleanly "initrd-list of $f: an error" "${GS[@]}" initrd-list /$f
done
rc=0; timeout 60 "${GS[@]}" initrd-list /zeros.img >"$T/z.out" 2>"$T/z.err" || rc=$?
is "$rc $(wc -l <"$T/z.out")" "0 $(cpio --quiet -it <"$T/good.cpio" | wc -l)" \
   "an uncompressed archive followed by zeros: listed"
rc=0; timeout 60 "${GS[@]}" initrd-cat /bomb.img x >/dev/null 2>"$T/b.err" || rc=$?
is "$rc" 1 "initrd-cat in a gzip bomb: a clean refusal, not a hang ($(head -c 80 "$T/b.err"))"
ok "file on random bytes answers" "${GS[@]}" file /random.bin
ok "file on a truncated gzip answers" "${GS[@]}" file /truncated.img
fails_cleanly "file-architecture of random bytes" "${GS[@]}" file-architecture /random.bin
rc=0; "$G" -a "$T/sb.img" tune2fs-l /dev/sda >/dev/null 2>"$T/t.err" || rc=$?
ok "tune2fs-l of a garbage superblock: an answer or a clean error ($rc)" \
   bash -c "[ $rc = 0 ] || [ $rc = 1 ] && ! grep -qE 'Sanitizer|runtime error' '$T/t.err'"
ok "blkid of garbage answers" "$G" -a "$T/garbage.img" blkid /dev/sda
is "$("$G" -a "$T/fs.img" -i inspect-get-icon /dev/sda | wc -c)" 0 "an icon over the size allowed for its place: none"
fails_cleanly "pread with a negative count" "${GS[@]}" pread /random.bin -1 0
fails_cleanly "lstatlist with a / in a name" "${GS[@]}" lstatlist / "etc/os-release"
fails_cleanly "case-sensitive-path through a missing directory" "${GS[@]}" case-sensitive-path /nosuch/dir/x
done_testing
