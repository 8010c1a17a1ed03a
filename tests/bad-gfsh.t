#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gfsh on bad input: broken syntax, unknown commands, wrong arguments, NUL
# and oversized input, bad images.  Each gets a "gfsh: ..." message and, in
# script mode, exit status 1 — never a crash or a sanitizer report (this
# file also runs under ASan+UBSan: make asan).
. "$(dirname "$0")/lib.sh"

G=$GK_BIN/gfsh
[ -x "$G" ] || skip_all "needs $G"
if ! dir=$(fixture gfsh); then
    echo "not ok 1 - fixture gfsh"; echo "1..1"; exit 1
fi
cd "$dir"
IMG=disk.img

# script SCRIPT: run it through stdin; it must fail cleanly (exit 1)
script() { # DESC SCRIPT
    printf '%s\n' "$2" >"$T/s"
    fails_cleanly "$1" "$G" -a "$IMG" -i -f "$T/s"
}

# --- syntax --------------------------------------------------------------
script "unterminated double quote" 'echo "abc'
script "unterminated single quote" "echo 'abc"
script "unterminated after a backslash" 'echo "abc\'
script "quoted word glued to the next" 'echo "a"b'
script "bad escape \\q" 'echo "\q"'
script "short hex escape \\x4" 'echo "\x4"'
script "short octal escape \\01" 'echo "\01"'
script "\\000 (NUL) is refused" 'cat "/etc/\000hostname"'
script "\\x00 (NUL) is refused" 'cat "/etc/hostname\x00"'
script "'-' with no command" '-'
script "'|' with no host command" 'cat /etc/hostname |'
printf 'cat /etc/host\0name\n' >"$T/nul"
fails_cleanly "a NUL byte in a script line" "$G" -a $IMG -i -f "$T/nul"
head -c $((1 << 20)) /dev/zero | tr '\0' a | sed 's|^|cat /|' >"$T/long"
fails_cleanly "a megabyte-long line" "$G" -a $IMG -i -f "$T/long"
fails_cleanly "a megabyte-long line on stdin" bash -c "'$G' -a $IMG -i <'$T/long'"
long=$(head -c 100000 /dev/zero | tr '\0' a)
fails_cleanly "a 100 KB path on the command line" "$G" -a $IMG -i cat "/$long"
fails_cleanly "a 100 KB device name" "$G" -a $IMG vfs-type "/dev/$long"
fails_cleanly "a 100 KB command name" "$G" "$long"
printf '<! cat %s\n' "$T/self" >"$T/self"
fails_cleanly "<! recursion is bounded" "$G" -f "$T/self"

# --- commands and arguments ------------------------------------------------
script "unknown command" 'frobnicate /etc'
script "no parameters given" 'cat'
script "too many parameters" 'cat /etc/hostname /etc/passwd'
script "parameters to a command that takes none" 'list-devices now'
script "relative guest path" 'cat etc/hostname'
script "not an integer" 'head-n ten /etc/hostname'
script "integer overflow" 'head-n 99999999999999999999 /etc/hostname'
script "integer suffix overflow" 'head-n 9E /etc/hostname'
script "unknown optional argument" 'grep a /etc/hostname bogus:true'
script "bad boolean" 'grep a /etc/hostname extended:maybe'
script "optional argument twice" 'grep a /etc/hostname fixed:true fixed:false'
script "extended and fixed together" 'grep a /etc/hostname extended:true fixed:true'
script "bad regular expression" 'grep "a[" /etc/hostname'
script "unknown checksum type" 'checksum md4 /etc/hostname'
script "missing file" 'cat /nonexistent'
script "cat of a directory" 'cat /data'
script "cat of a FIFO" 'cat /data/fifo'
script "a path through a regular file" 'ls /etc/hostname/x'
script "dangling symlink" 'cat /links/dangling'
script "readlink of a regular file" 'readlink /etc/hostname'
script "unknown device" 'vfs-type /dev/sdz9'
script "not a device name" 'vfs-type sda1'
script "part-list of a partition" 'part-list /dev/sda1'
script "mount on a file" 'mount-ro /dev/sda1 /etc/hostname'
script "mount of swap" 'mount-ro /dev/sda3 /mnt'
script "umount of something not mounted" 'umount /data'
script "umount below a mount" 'umount /'
script "negative download-offset" 'download-offset /etc/hostname - -1 10'
script "download into a missing directory" "download /etc/hostname $T/no/such/dir"
script "copy-out to a missing directory" "copy-out /data $T/no/such/dir"
script "find of a file" 'find /etc/hostname'
script "tar-out of a file" 'tar-out /etc/hostname -'
script "tar-out with an unknown compression" 'tar-out /data - compress:lzip'
script "help of an unknown command" 'help frobnicate'
script "inspect-get-type of a non-root" 'inspect-get-type /dev/sda1'
script "add after launch" "add $IMG"
fails_cleanly "a command needing disks without -a" "$G" list-devices
fails_cleanly "-i without -a" "$G" -i
fails_cleanly "missing image" "$G" -a /nonexistent/disk.img list-devices
fails_cleanly "unknown --format" "$G" --format=nosuchformat -a $IMG list-devices
fails_cleanly "unknown option" "$G" --frobnicate
fails_cleanly "-f missing script" "$G" -f /nonexistent/script
fails_cleanly "-i on a disk with no OS" "$G" -a mbr.img -i

# a command that may fail (-) does not stop the script; the next one does
printf -- '-cat /nonexistent\necho still here\ncat /nonexistent\necho not reached\n' >"$T/s"
out=$("$G" -a $IMG -i -f "$T/s" 2>/dev/null); rc=$?
is "$rc:$out" "1:still here" "-cmd may fail, the next failure stops the script"
# a closed host pipe is not an error
rc=0
echo 'cat /data/random.bin | head -c 3' | "$G" -a $IMG -i >"$T/p.out" 2>&1 || rc=$?
out=$(wc -c <"$T/p.out")
is "$rc $out" "0 3" "a host pipe that closes early is not an error"

# gfsh ... | head: the reader going away ends gfsh quietly, like cat
"$G" -a $IMG -i cat /var/big.sparse 2>"$T/sp.err" | head -c 10 >/dev/null
is "$(cat "$T/sp.err")" "" "gfsh | head: no error message when the reader quits"

# --- corrupt filesystems: whatever happens, no crash ------------------------
n=0
for gz in /work/shared/corpus/ext-corrupt/f_*.img.gz; do
    [ -e "$gz" ] || continue
    n=$((n + 1))
    [ "$GK_SAN" = 1 ] && [ $((n % 3)) != 0 ] && continue  # a third of them under ASan
    [ $n -gt 60 ] && break
    name=$(basename "$gz" .img.gz)
    gunzip -c "$gz" >"$T/c.img"
    rc=0
    timeout 60 "$G" -a "$T/c.img" --format=raw >"$T/c.out" 2>"$T/c.err" <<'EOF' || rc=$?
-mount-ro /dev/sda /
-find /
-du /
-ll /
-statvfs /
-glob cat /*
-glob checksum md5 /*/*
-checksums-out sha1 / -
-tar-out / -
-df
EOF
    if [ $rc -le 1 ] && ! grep -qE 'Sanitizer|runtime error' "$T/c.err"; then
        _tap_result 0 "corrupt $name: exit $rc, no crash"
    else
        _tap_result 1 "corrupt $name: exit $rc"
        diag "$(head -n 5 "$T/c.err")"
    fi
done

done_testing
