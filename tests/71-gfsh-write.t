#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gfsh's write commands (--rw).  Oracle: the kernel.  The same changes are
# made with coreutils on a loop mount of an identical image, and the two
# trees, read back through the kernel, must match (type, mode, owner, size,
# links, contents, symlink targets, xattrs); e2fsck -fn must be clean and
# debugfs must read what gfsh wrote.  Error messages are guestfish's
# (guestfish 1.48.6 recorded 2026-12-05 on a fresh ext4, see below).
. "$(dirname "$0")/lib.sh"

G=$GK_BIN/gfsh
[ -x "$G" ] || skip_all "needs $G"
[ "$(id -u)" = 0 ] || skip_all "needs root for loop mounts"
mkdir -p "$T/m" || exit 1

mkimg() { # FILE [MKFS ARGS] -- identical filesystems (fixed UUID, seed, time)
    local f=$1; shift
    rm -f "$f"
    truncate -s 64M "$f"
    E2FSPROGS_FAKE_TIME=1700000000 mke2fs -q -F -U 0c0c0c0c-1111-2222-3333-444455556666 \
        -E hash_seed=0c0c0c0c-1111-2222-3333-444455556666 "$@" "$f"
}

# A canonical listing of a tree through the kernel: everything but times.
listing() { # IMAGE
    mount -o loop,ro "$1" "$T/m" || return 1
    python3 "$TOP/tests/treelist.py" "$T/m"
    umount "$T/m"
}

for fs in "ext4" "ext4 -b 1024 -O ^metadata_csum" "ext3" "ext2"; do
    set -- $fs
    name=$*
    mkimg "$T/a.img" -t "$@"
    cp "$T/a.img" "$T/b.img"
    printf 'hello\n' >"$T/host.txt"
    # a host tree for copy-in (guestfish's copy-in keeps modes and owners)
    rm -rf "$T/cin"; mkdir -p "$T/cin/sub"
    printf 'copied\n' >"$T/cin/sub/file"; chmod 0604 "$T/cin/sub/file"; chown 5:6 "$T/cin/sub/file"
    ln -s sub/file "$T/cin/link"; chmod 0715 "$T/cin"
    # gfsh
    "$G" --rw -a "$T/a.img" -m /dev/sda >"$T/out" 2>"$T/err" <<EOF
mkdir /d
mkdir-p /d/e/f
write /d/f1 "abc"
write-append /d/f1 "def"
upload $T/host.txt /d/up
mv /d/up /d/e
cp /d/f1 /d/f1copy
cp-r /d/e /d/ecopy
cp-a /d/e /d/ecopy2
ln /d/f1 /d/hard
ln-s ../f1 /d/e/sym
ln-sf y /d/e/sym2
chmod 0640 /d/f1
chown 12 34 /d/f1
lchown 56 78 /d/e/sym
touch /d/new
truncate-size /d/new 8192
write /d/t "0123456789"
truncate-size /d/t 4
write /d/t0 "abc"
truncate /d/t0
setxattr user.foo bar 3 /d/f1
setxattr user.gone x 1 /d/f1
removexattr user.gone /d/f1
mknod 020644 1 3 /d/chr
mknod 060600 8 1 /d/blk
mknod 0644 0 0 /d/reg
mkfifo 0600 /d/fifo
mkdir /d/rmme
rmdir /d/rmme
rm /d/f1copy
rm-f /d/nothing
rm-rf /d/ecopy
mv /d/ecopy2 /d/moved
write /d/lf "replaced by a link"
ln-f /d/t /d/lf
ln-f /d/t /d/lf2
lsetxattr trusted.lt v 1 /d/e/sym
lsetxattr trusted.gone x 1 /d/e/sym
lremovexattr trusted.gone /d/e/sym
lsetxattr user.onfile yes 3 /d/t
lremovexattr user.foo /d/hard
setxattr user.foo bar 3 /d/f1
copy-in $T/cin /d
sync
EOF
    rc=$?
    note=""
    [ "$1" = ext2 ] && note="gfsh: warning: $T/a.img: the filesystem has no journal: changes are written in place, and a crash while writing can leave it inconsistent (run e2fsck then)"
    is "$rc:$(cat "$T/err")" "0:$note" "$name: gfsh --rw script runs without errors${note:+ (and says once that ext2 has no journal)}"
    # the kernel, with the same changes
    mount -o loop "$T/b.img" "$T/m"
    (
        cd "$T/m" && set -e
        mkdir d && mkdir -p d/e/f
        printf abc >d/f1 && printf def >>d/f1
        cp "$T/host.txt" d/up && mv d/up d/e
        cp d/f1 d/f1copy && cp -rP d/e d/ecopy && cp -a d/e d/ecopy2
        ln d/f1 d/hard && ln -s ../f1 d/e/sym && ln -sf y d/e/sym2
        chmod 0640 d/f1 && chown 12:34 d/f1 && chown -h 56:78 d/e/sym
        touch d/new && truncate -s 8192 d/new
        printf 0123456789 >d/t && truncate -s 4 d/t
        printf abc >d/t0 && truncate -s 0 d/t0
        setfattr -n user.foo -v bar d/f1
        mknod d/chr c 1 3 && chmod 0644 d/chr && mknod d/blk b 8 1 && chmod 0600 d/blk
        touch d/reg && mkfifo -m 0600 d/fifo
        rm d/f1copy && rm -rf d/ecopy && mv d/ecopy2 d/moved
        printf 'replaced by a link' >d/lf && ln -f d/t d/lf && ln -f d/t d/lf2
        setfattr -h -n trusted.lt -v v d/e/sym
        setfattr -h -n trusted.gone -v x d/e/sym && setfattr -h -x trusted.gone d/e/sym
        setfattr -h -n user.onfile -v yes d/t
        setfattr -h -x user.foo d/hard && setfattr -n user.foo -v bar d/f1
        cp -a "$T/cin" d/
    ) || diag "the kernel side failed"
    umount "$T/m"
    # cp -rP of a directory gives root-owned copies with the source modes:
    # the same as gfsh (the kernel side runs as root too)
    listing "$T/a.img" >"$T/la"; listing "$T/b.img" >"$T/lb"
    same_file "$T/la" "$T/lb" "$name: the tree as the kernel makes it" || diag "$(diff "$T/la" "$T/lb")"
    ok "$name: e2fsck -fn is clean" e2fsck -fn "$T/a.img"
    is "$(debugfs -R 'cat /d/f1' "$T/a.img" 2>/dev/null)" "abcdef" "$name: debugfs reads /d/f1"
    is "$(debugfs -R 'stat /d/f1' "$T/a.img" 2>/dev/null | sed -n 's/.*Links: \([0-9]*\).*/\1/p')" "2" \
        "$name: debugfs: /d/f1 has 2 links"
done

# Errors as guestfish gives them (recorded: libguestfs: error: CMD: ...).
mkimg "$T/a.img" -t ext4
"$G" --rw -a "$T/a.img" -m /dev/sda >"$T/out" 2>"$T/err" <<'EOF'
mkdir /d
write /d/f "x"
-mkdir /d
-mkdir /nope/x
-write /d "x"
-rm /d
-rm /nope
-rm-f /d
-rmdir /d
-rmdir /d/f
-touch /d
-touch /nope/x
-truncate /d
-mknod 0644 1 2 /d/f
-rm-rf /
-cp /d /d/copy
-mv /d /d/sub
-ln /d /d/dirlink
EOF
cat >"$T/exp" <<'EOF'
gfsh: mkdir: /d: File exists
gfsh: mkdir: /nope/x: No such file or directory
gfsh: write: /d: Is a directory
gfsh: rm: /d: Is a directory
gfsh: rm: /nope: No such file or directory
gfsh: rm-f: /d: Is a directory
gfsh: rmdir: /d: Directory not empty
gfsh: rmdir: /d/f: Not a directory
gfsh: touch: /d: touch can only be used on a regular files
gfsh: touch: /nope/x: No such file or directory
gfsh: truncate: /d: Is a directory
gfsh: mknod: /d/f: File exists
gfsh: rm-rf: cannot remove root directory
gfsh: cp: cp: -r not specified; omitting directory '/d'
gfsh: mv: cannot move '/d' to a subdirectory of itself, '/d/sub'
gfsh: ln: /d/dirlink: Operation not permitted
EOF
same_file "$T/err" "$T/exp" "error messages: guestfish's"
ok "after the errors: e2fsck -fn is clean" e2fsck -fn "$T/a.img"

# user.* attributes only on regular files and directories: the kernel
# refuses them elsewhere (EPERM), trusted.* is fine
"$G" --rw -a "$T/a.img" -m /dev/sda ln-s f /d/sym : mkfifo 0600 /d/fifo
cp "$T/a.img" "$T/k.img"
mount -o loop "$T/k.img" "$T/m"
kerr=$( (setfattr -h -n user.a -v b "$T/m/d/sym"; setfattr -n user.a -v b "$T/m/d/fifo"; setfattr -h -x user.a "$T/m/d/sym") 2>&1 | sed 's/.*: //' | tr '\n' ' ')
umount "$T/m"
"$G" --rw -a "$T/a.img" -m /dev/sda >/dev/null 2>"$T/err" <<'EOF'
-lsetxattr user.a b 1 /d/sym
-setxattr user.a b 1 /d/fifo
-lremovexattr user.a /d/sym
lsetxattr trusted.a b 1 /d/sym
EOF
is "$(sed 's/.*: //' "$T/err" | tr '\n' ' ')" "$kerr" "user.* on a symlink or FIFO: the kernel's answer ($kerr)"
is "$(debugfs -R 'ea_get -V /d/sym trusted.a' "$T/a.img" 2>/dev/null)" "b" "trusted.* on a symlink: set (debugfs)"
ok "after the xattr refusals: e2fsck -fn is clean" e2fsck -fn "$T/a.img"

# a name of 256 bytes, a path component too long: the kernel's ENAMETOOLONG
long=$(printf 'n%.0s' $(seq 256))
cp "$T/a.img" "$T/k.img"
mount -o loop "$T/k.img" "$T/m"
kerr=$( (mkdir "$T/m/$long"; : >"$T/m/d/$long"; ln -s x "$T/m/$long") 2>&1 | sed 's/.*: //' | tr '\n' ' ')
umount "$T/m"
before=$(sha256sum <"$T/a.img")
"$G" --rw -a "$T/a.img" -m /dev/sda >/dev/null 2>"$T/err" <<EOF
-mkdir /$long
-write /d/$long x
-ln-s x /$long
EOF
is "$(sed 's/.*: //' "$T/err" | tr '\n' ' ')" "$kerr" "a 256-byte name: the kernel's answer ($kerr)"
is "$(head -c 30 "$T/err")" "gfsh: mkdir: /${long:0:16}" "... naming the path"
is "$(sha256sum <"$T/a.img")" "$before" "... the image byte-identical"

# sync: everything so far is on the image, consistent, while gfsh still
# has it open (e2fsck and debugfs read it meanwhile)
rm -f "$T/gin"; mkfifo "$T/gin"
"$G" --rw -a "$T/a.img" -m /dev/sda <"$T/gin" >"$T/gout" 2>&1 &
gpid=$!
exec 9>"$T/gin"
echo 'write /synced "after sync"' >&9
echo 'sync' >&9
# a host command after the sync says it is done: gfsh's stdout is a file
# here, fully buffered, so "echo synced" shows only when gfsh exits (the
# wait for it ran into its 60 s bound every time)
echo "!touch $T/synced.flag" >&9
echo 'echo synced' >&9
for _ in $(seq 600); do [ -e "$T/synced.flag" ] && break; sleep 0.1; done
ok "sync: e2fsck -fn is clean while gfsh holds the image" e2fsck -fn "$T/a.img"
is "$(debugfs -R 'cat /synced' "$T/a.img" 2>/dev/null)" "after sync" "sync: debugfs reads the file before gfsh exits"
exec 9>&-
wait "$gpid"
is "$?:$(cat "$T/gout")" "0:synced" "sync: gfsh exits 0"

# --ro (the default) refuses every write command as guestfish --ro does
# (recorded: "mkdir: /x: Read-only file system", "touch: open: /z: ...").
before=$(sha256sum <"$T/a.img")
"$G" -a "$T/a.img" -m /dev/sda >/dev/null 2>"$T/err" <<'EOF'
-mkdir /x
-write /y hello
-touch /z
-rm /d/f
-chmod 0700 /d
-setxattr user.a b 1 /d
-upload /etc/hostname /h
-mkdir-p /a/b
sync
EOF
cat >"$T/exp" <<'EOF'
gfsh: mkdir: /x: Read-only file system
gfsh: write: /y: Read-only file system
gfsh: touch: /z: Read-only file system
gfsh: rm: /d/f: Read-only file system
gfsh: chmod: /d: Read-only file system
gfsh: setxattr: /d: Read-only file system
gfsh: upload: /h: Read-only file system
gfsh: mkdir-p: /a/b: Read-only file system
EOF
same_file "$T/err" "$T/exp" "--ro: every write command says Read-only file system"
is "$(sha256sum <"$T/a.img")" "$before" "--ro: the image is byte-identical"
# every command that needs --rw (its help says so) is refused under --ro,
# before anything is opened for writing
cat >"$T/rocmds" <<'EOF'
write /y hello
write-append /y hello
upload /etc/hostname /h
copy-in /etc/hostname /
tar-in /dev/null /
mkdir /x
mkdir-p /a/b
rm /d/f
rm-f /d/f
rm-rf /d
rmdir /d
mv /d/f /g
cp /d/f /g
cp-a /d /e
cp-r /d /e
ln /d/f /g
ln-f /d/f /g
ln-s f /g
ln-sf f /g
chmod 0700 /d
chown 1 1 /d
lchown 1 1 /d
touch /z
truncate /d/f
truncate-size /d/f 0
setxattr user.a b 1 /d
lsetxattr user.a b 1 /d
removexattr user.a /d
lremovexattr user.a /d
mknod 0644 1 3 /n
mkfifo 0600 /p
edit /d/f
vi /d/f
emacs /d/f
EOF
# every command's help from one gfsh (a script of "echo @@ CMD" and "help
# CMD" lines), not a gfsh and a grep for each of its 251 commands (6 s of
# CPU)
"$G" help | sed -e '1d' -e '$d' | awk '{print "echo @@ " $1; print "help " $1}' | "$G" |
    awk '/^@@ / {c = $2; next} c != "" && /it needs --rw/ {print c; c = ""}' |
    grep -v '^hivex-' | LC_ALL=C sort >"$T/rw.help"
is "$(awk '{print $1}' "$T/rocmds" | LC_ALL=C sort | tr '\n' ' ')" "$(tr '\n' ' ' <"$T/rw.help")" \
    "--ro: the list below is every command whose help says it needs --rw (hivex-* aside)"
sed 's/^/-/' "$T/rocmds" | EDITOR=false "$G" -a "$T/a.img" -m /dev/sda >/dev/null 2>"$T/err"
is "$(grep -c ': Read-only file system$' "$T/err"):$(wc -l <"$T/err")" "$(wc -l <"$T/rocmds"):$(wc -l <"$T/rocmds")" \
    "--ro: each of the $(wc -l <"$T/rocmds") write commands says Read-only file system"
is "$(sha256sum <"$T/a.img")" "$before" "--ro: the image is still byte-identical"
# mount-ro under --rw: the same answer from the filesystem itself
"$G" --rw -a "$T/a.img" >/dev/null 2>"$T/err" <<'EOF'
mount-ro /dev/sda /
-mkdir /x
EOF
is "$(cat "$T/err")" "gfsh: mkdir: /x: Read-only file system" "mount-ro: EROFS from the filesystem"
is "$(sha256sum <"$T/a.img")" "$before" "--rw without changes leaves the image byte-identical"

done_testing
