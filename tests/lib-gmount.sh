# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the gmount tests (sourced after tests/lib.sh): needs root,
# /dev/fuse and fusermount3; every mount made under $T is taken down on
# exit, whatever happened (daemons killed, FUSE and loop mounts detached),
# and commands that read a mount run under timeout so a stuck daemon fails
# the test instead of hanging it.
[ "$(id -u)" = 0 ] || skip_all "needs root (loop mounts)"
[ -c /dev/fuse ] || skip_all "no /dev/fuse"
command -v fusermount3 >/dev/null || skip_all "no fusermount3 (Debian package fuse3)"
export LC_ALL=C

# The gmount daemons and mounts under $T, newest first.
gm_cleanup() {
    local d pid
    for pid in $(awk -v t="$T/" 'index($5, t) == 1 && $0 ~ / - fuse\.gmount gmount:/ {
                     for (i = 1; i <= NF; i++) if ($i == "-") { sub("gmount:", "", $(i+2)); print $(i+2) } }' \
                 /proc/self/mountinfo); do
        kill -9 "$pid" 2>/dev/null
    done
    for d in $(awk -v t="$T/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
        umount -l "$d" 2>/dev/null || fusermount3 -u -z "$d" 2>/dev/null
    done
    rm -rf "$T"
}
trap gm_cleanup EXIT

# The pid of the gmount daemon serving DIR (from its fsname gmount:PID).
gm_pid() {
    awk -v d="$(cd "$1" 2>/dev/null && pwd -P || echo "$1")" '$5 == d {
        for (i = 1; i <= NF; i++) if ($i == "-") { sub("gmount:", "", $(i+2)); print $(i+2) } }' \
        /proc/self/mountinfo | tail -n 1
}

is_mounted() { awk -v d="$1" '$5 == d { f = 1 } END { exit !f }' /proc/self/mountinfo; }

# What find sees under DIR, sorted: path, type, mode, size, links, owner,
# times with nanoseconds, inode (unless NOINO=1), link target.
listing() {
    local fmt='%p|%y|%m|%s|%n|%U|%G|%T@|%A@|%i|%l\n'
    [ "${NOINO:-0}" = 1 ] && fmt='%p|%y|%m|%s|%n|%U|%G|%T@|%A@|%l\n'
    (cd "$1" && timeout 120 find . -printf "$fmt" | sort)
}

# sha256 of every regular file under DIR, by path.
sums() {
    (cd "$1" && timeout 300 find . -type f -print0 | sort -z | xargs -0r sha256sum)
}

# Every extended attribute of everything under DIR (hex values), path order.
xattrs() {
    (cd "$1" && timeout 120 find . -print0 | sort -z | xargs -0r getfattr -h -d -m - -e hex -- 2>&1)
}

# df's figures for DIR: sizes in 1K blocks and inodes.
dfig() {
    timeout 60 df -k --output=size,used,avail,itotal,iused,iavail "$1" | tail -n 1 | tr -s ' '
}
