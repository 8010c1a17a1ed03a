#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Encrypted (fscrypt v2) directories read without their key, against the
# kernel mounting the same image without it: the same no-key names (short,
# 200-byte and in a 300-entry indexed directory, a subdirectory), the same
# symlink targets and sizes, lookups by no-key name, reads refused with
# ENOKEY, gcopy-out copying what the kernel would.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root for loop mounts"
export LC_ALL=C
M=$T/mnt
IMG=$T/enc.img
mkdir "$M"
mke2fs -q -F -t ext4 -O encrypt "$IMG" 16M >/dev/null 2>&1 || skip_all "mke2fs -O encrypt failed"
mount -o loop "$IMG" "$M" 2>/dev/null || skip_all "cannot loop-mount ext4"
# a v2 policy: the key lives in the filesystem's keyring, gone at umount
if ! python3 - "$M" >/dev/null 2>&1 <<'EOF'
import fcntl, os, struct, sys
mnt = sys.argv[1]
key = bytes(range(64))
fd = os.open(mnt, os.O_RDONLY)
arg = bytearray(struct.pack('<II32sII32s', 2, 0, bytes(32), len(key), 0, bytes(32)) + key)
fcntl.ioctl(fd, 0xC0506617, arg)                 # FS_IOC_ADD_ENCRYPTION_KEY
d = os.path.join(mnt, 'secret')
os.mkdir(d)
pol = struct.pack('<BBBBB3s16s', 2, 1, 4, 0, 0, bytes(3), bytes(arg[8:24]))
fcntl.ioctl(os.open(d, os.O_RDONLY), 0x800C6613, bytearray(pol))   # SET_ENCRYPTION_POLICY
open(os.path.join(d, 'hello.txt'), 'w').write('hello world\n')
os.mkdir(os.path.join(d, 'sub'))
open(os.path.join(d, 'sub', 'inner'), 'w').write('inner\n')
os.symlink('hello.txt', os.path.join(d, 'link'))
os.symlink('x' * 200, os.path.join(d, 'longlink'))
open(os.path.join(d, 'n' * 200), 'w').write('long name\n')
for i in range(300):
    open(os.path.join(d, 'file%04d' % i), 'w').write('%d\n' % i)
EOF
then
    umount "$M"
    skip_all "the kernel cannot make fscrypt directories here"
fi
mkdir "$M/plain" && echo plain >"$M/plain/file"
umount "$M"

# what the kernel shows without the key
mount -o loop,ro "$IMG" "$M"
ls -A "$M/secret" | sort >"$T/k.ls"
SUB=$(cd "$M/secret" && for f in *; do [ -d "$f" ] && echo "$f"; done)
ls -A "$M/secret/$SUB" >"$T/k.sub"
(cd "$M/secret" && for f in *; do [ -L "$f" ] && echo "l 0777 $(stat -c %s "$f") /secret/$f -> $(readlink "$f")"; done) | sort >"$T/k.links"
FILE=$(cd "$M/secret" && for f in *; do [ -f "$f" ] && echo "$f" && break; done)
krc=0; cat "$M/secret/$FILE" >/dev/null 2>"$T/k.err" || krc=$?
(cd "$M/secret" && find . -type d -o -type l) | sort >"$T/k.find"
umount "$M"
is "$(wc -l <"$T/k.ls")" 305 "(the kernel lists 305 no-key names)"
ok "(the kernel refuses reads: ENOKEY)" grep -q "Required key not available" "$T/k.err"

gls -a "$IMG" -m /dev/sda /secret >"$T/g.ls"
same_file "$T/g.ls" "$T/k.ls" "no-key names of an indexed directory = the kernel's (short and 200-byte names)"
is "$(gls -a "$IMG" -m /dev/sda "/secret/$SUB")" "$(cat "$T/k.sub")" "a subdirectory looked up by its no-key name, listed as the kernel"
gls -a "$IMG" -m /dev/sda -lR /secret | grep '^l' | sed 's/  */ /g' | sort >"$T/g.links"
same_file "$T/g.links" "$T/k.links" "symlinks: no-key targets and their sizes as the kernel's"
rc=0; gcat -a "$IMG" -m /dev/sda "/secret/$FILE" >"$T/out" 2>"$T/err" || rc=$?
is "$rc:$(wc -c <"$T/out")" "1:0" "reading a file without the key: refused, nothing printed"
ok "... ENOKEY, as the kernel" grep -q "Required key not available" "$T/err"
rc=0; gcat -a "$IMG" -m /dev/sda /secret/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA >/dev/null 2>"$T/err" || rc=$?
is "$rc" 1 "a no-key name that names nothing: not found"
ok "... ENOENT" grep -q "No such file or directory" "$T/err"
rc=0; gcat -a "$IMG" -m /dev/sda /secret/hello.txt >/dev/null 2>"$T/err" || rc=$?
ok "a plaintext name does not find the ciphertext entry" grep -q "No such file or directory" "$T/err"
is "$(gcat -a "$IMG" -m /dev/sda /plain/file)" plain "an unencrypted directory beside it reads as usual"

mkdir "$T/copy"
rc=0; gcopy-out -a "$IMG" -m /dev/sda /secret "$T/copy" 2>"$T/err" || rc=$?
is "$rc" 1 "gcopy-out of the encrypted directory: exit 1 (files cannot be read)"
ok "... saying why" grep -q "Required key not available" "$T/err"
is "$(cd "$T/copy/secret" && find . -type d -o -type l | sort)" "$(cat "$T/k.find")" \
   "... directories and symlinks copied under their no-key names"

done_testing
