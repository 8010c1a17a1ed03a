#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Writing ext2/3/4, across the feature matrix: ext2, ext3, ext4 (64bit and
# metadata_csum, or neither), 1 KiB and 4 KiB blocks, inline_data, bigalloc,
# no journal; then an htree directory of 50 000 entries and a nearly full
# filesystem.  The writers are gcopy-in (a tree with every file type, holes,
# hard links, long names, deep directories, xattrs including
# security.selinux, set-id bits, owners) and gfsh --rw (appends, truncates,
# renames, removals on top of it).  Oracles: the kernel (a loop mount of
# the image must show the tree that cp -a and coreutils make on the host),
# e2fsck -fn (clean after every write), debugfs (block maps, inline data).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root for loop mounts"
for t in gcopy-in gfsh; do [ -x "$GK_BIN/$t" ] || skip_all "needs $t"; done
mkdir -p "$T/m"

# ---- the source tree ------------------------------------------------------
S=$T/src
mkdir -p "$S"
python3 - "$S" <<'EOF'
import os, random, sys
S = sys.argv[1]
r = random.Random(10)
def blob(n): return bytes(r.getrandbits(8) for _ in range(min(n, 4096))) * (n // 4096 + 1)
def put(p, data, mode=0o644):
    with open(os.path.join(S, p), 'wb') as f: f.write(data[:len(data)])
    os.chmod(os.path.join(S, p), mode)
os.makedirs(os.path.join(S, 'files'))
for n in [0, 1, 60, 61, 4095, 4096, 4097, 70000, 1 << 20, 5 << 20]:
    d = blob(n)[:n]
    put('files/size%d' % n, d)
with open(os.path.join(S, 'files/sparse'), 'wb') as f:
    f.write(b'head'); f.seek(3 << 20); f.write(b'middle'); f.truncate(6 << 20)
put('files/setuid', b'#!/bin/sh\n', 0o4755)
put('files/setgid', b'x', 0o2750)
put('files/sticky-ro', b'x', 0o1400)
os.link(os.path.join(S, 'files/size4097'), os.path.join(S, 'files/hardlink'))
os.makedirs(os.path.join(S, 'links'))
os.symlink('../files/size1', os.path.join(S, 'links/fast'))
os.symlink('/' + 'long/' * 30 + 'target', os.path.join(S, 'links/slow'))
os.symlink('dangling', os.path.join(S, 'links/dangling'))
os.makedirs(os.path.join(S, 'special'))
os.mkfifo(os.path.join(S, 'special/fifo'), 0o600)
os.mknod(os.path.join(S, 'special/null'), 0o666 | 0o020000, os.makedev(1, 3))
os.mknod(os.path.join(S, 'special/sda'), 0o660 | 0o060000, os.makedev(8, 0))
os.mknod(os.path.join(S, 'special/big'), 0o600 | 0o020000, os.makedev(300, 70000))
deep = os.path.join(S, 'deep')
for i in range(40): deep = os.path.join(deep, 'level%02d' % i)
os.makedirs(deep)
put(os.path.relpath(os.path.join(deep, 'bottom'), S), b'bottom\n')
os.makedirs(os.path.join(S, 'names'))
put('names/' + 'n' * 255, b'long name\n')
put('names/with space', b's')
put('names/caf\xc3\xa9'.encode('latin-1').decode('utf-8'), b'utf8')
os.makedirs(os.path.join(S, 'many'))
for i in range(1500):
    put('many/entry-%05d' % i, b'%d\n' % i)
os.makedirs(os.path.join(S, 'owners'))
for u in [0, 1000, 65534, 100000]:
    put('owners/u%d' % u, b'o')
    os.lchown(os.path.join(S, 'owners/u%d' % u), u, u + 1)
put('xattrs', b'x')
os.setxattr(os.path.join(S, 'xattrs'), 'user.colour', b'blue')
os.setxattr(os.path.join(S, 'xattrs'), 'security.selinux', b'system_u:object_r:etc_t:s0\0')
os.setxattr(os.path.join(S, 'xattrs'), 'trusted.big', b'v' * 700)
EOF
touch -d '2020-01-02 03:04:05.123456789' "$S/files/size1"

# A canonical listing of a tree (tests/treelist.py): contents, modes,
# owners, links, devices, xattrs, mtimes of files.
listing() { python3 "$TOP/tests/treelist.py" "$1" --mtime; }
# 128-byte inodes keep whole seconds only
seconds() { sed -E 's/ m([0-9]+)[0-9]{9} / m\1000000000 /'; }

# the expected tree: cp -a, then what the gfsh script below does
E=$T/expected
cp -a "$S" "$E"
(
    cd "$E"
    printf 'appended' >>files/size4095
    truncate -s 5000 files/size70000
    truncate -s 100 files/size1048576
    printf '%s' new >files/size60
    mv files/size4096 files/renamed
    rm -rf deep/level00/level01/level02
    rm files/size0
    mkdir -p new/dir && printf 'hello' >new/dir/file && chmod 0600 new/dir/file
    ln -s ../files/renamed new/link
)
gscript='write-append /src/files/size4095 appended
truncate-size /src/files/size70000 5000
truncate-size /src/files/size1048576 100
write /src/files/size60 new
mv /src/files/size4096 /src/files/renamed
rm-rf /src/deep/level00/level01/level02
rm /src/files/size0
mkdir-p /src/new/dir
write /src/new/dir/file hello
chmod 0600 /src/new/dir/file
ln-s ../files/renamed /src/new/link'

# files the script changes get the time of the change: no mtime for them
unstamp() { sed -E 's/ m[0-9]+ (files\/size(4095|70000|1048576|60)|new\/dir\/file)$/ \1/'; }
listing "$E" | unstamp >"$T/expected.list"

check_image() { # NAME IMAGE
    ok "$1: e2fsck -fn is clean" e2fsck -fn "$2"
    if mount -o loop,ro "$2" "$T/m"; then
        listing "$T/m/src" | unstamp >"$T/got.list"
        umount "$T/m"
        cp "$T/expected.list" "$T/exp.list"
        if [ "$1" = ext4-128 ]; then
            seconds <"$T/expected.list" >"$T/exp.list"
        fi
        if cmp -s "$T/got.list" "$T/exp.list"; then
            _tap_result 0 "$1: the kernel sees the tree cp -a and coreutils make"
        else
            _tap_result 1 "$1: the kernel sees the tree cp -a and coreutils make"
            diag "$(diff "$T/exp.list" "$T/got.list" | cut -c1-300 | head -n 20)"
        fi
    else
        _tap_result 1 "$1: the kernel mounts the image"
    fi
}

for flavour in "ext2 -t ext2 -b 1024" "ext3 -t ext3 -b 4096" "ext3-1k -t ext3 -b 1024" \
    "ext4 -t ext4" "ext4-1k -t ext4 -b 1024" "ext4-old -t ext4 -O ^64bit,^metadata_csum" \
    "ext4-inline -t ext4 -O inline_data" "ext4-bigalloc -t ext4 -O bigalloc -C 16384" \
    "ext4-nojournal -t ext4 -O ^has_journal" "ext4-128 -t ext4 -I 128"; do
    set -- $flavour
    name=$1; shift
    img=$T/$name.img
    rm -f "$img"
    truncate -s 200M "$img"
    mke2fs -q -F "$@" "$img" 2>/dev/null || { _tap_result 1 "$name: mke2fs $*"; continue; }
    rc=0
    gcopy-in -a "$img" -m /dev/sda --xattrs "$S" / 2>"$T/err" || rc=$?
    grep -v 'has no journal' "$T/err" >"$T/err2"
    is "$rc:$(cat "$T/err2")" "0:" "$name: gcopy-in --xattrs of the tree"
    gfsh --rw -a "$img" -m /dev/sda <<<"$gscript" 2>"$T/err" || rc=$?
    grep -v 'has no journal' "$T/err" >"$T/err2"
    is "$rc:$(cat "$T/err2")" "0:" "$name: gfsh --rw changes on top"
    check_image "$name" "$img"
    case $name in
    ext4)
        # the sparse file's holes stay holes: a handful of blocks, not 6 MiB
        nb=$(debugfs -R 'stat /src/files/sparse' "$img" 2>/dev/null | sed -n 's/.*Blockcount: \([0-9]*\).*/\1/p')
        ok "ext4: debugfs: the sparse file keeps its holes ($nb sectors)" test "${nb:-99999}" -lt 100
        ;;
    ext4-inline)
        # mke2fs -d made inline files; gfsh changes them
        printf 'abc' >"$T/inl"; mkdir -p "$T/inldir"; printf 'tiny' >"$T/inldir/t1"; printf 'tiny2' >"$T/inldir/t2"
        truncate -s 64M "$T/inl.img"
        mke2fs -q -F -t ext4 -O inline_data -d "$T/inldir" "$T/inl.img"
        ok "ext4-inline: mke2fs -d stored t1 inline" bash -c "debugfs -R 'stat /t1' '$T/inl.img' 2>/dev/null | grep -q 'Size of inline data'"
        gfsh --rw -a "$T/inl.img" -m /dev/sda write-append /t1 "$(head -c 5000 /dev/zero | tr '\0' x)" : rm /t2 : write /t3 small 2>"$T/err"
        is "$?:$(cat "$T/err")" "0:" "ext4-inline: append past the inline area, rm, write"
        ok "ext4-inline: e2fsck -fn clean" e2fsck -fn "$T/inl.img"
        is "$(debugfs -R 'cat /t1' "$T/inl.img" 2>/dev/null | md5sum)" "$( (printf tiny; head -c 5000 /dev/zero | tr '\0' x) | md5sum)" \
            "ext4-inline: debugfs reads the grown file"
        ;;
    esac
done

# ---- an htree directory of 50 000 entries -----------------------------------
n=50000
[ "$GK_SAN" = 1 ] && n=5000
img=$T/htree.img
truncate -s 512M "$img"
mke2fs -q -F -t ext4 -N $((n * 3)) "$img"
mount -o loop "$img" "$T/m"
mkdir "$T/m/big"
(cd "$T/m/big" && seq -f 'kernel-entry-%06.0f' 1 $n | xargs touch)
umount "$T/m"
flags=$(debugfs -R 'stat /big' "$img" 2>/dev/null | sed -n 's/.*Flags: \(0x[0-9a-f]*\).*/\1/p')
ok "htree: the kernel made an indexed directory (flags $flags)" test $((flags & 0x1000)) != 0
mkdir "$T/more"
(cd "$T/more" && seq -f 'added-%06.0f' 1 $((n / 10)) | xargs touch)
ok "htree: gcopy-in adds $((n / 10)) names" gcopy-in -a "$img" -m /dev/sda "$T/more" /big
seq -f 'rm /big/kernel-entry-%06.0f' 1 7 $n >"$T/rmscript"
ok "htree: gfsh removes every 7th name" gfsh --rw -a "$img" -m /dev/sda -f "$T/rmscript"
ok "htree: e2fsck -fn is clean" e2fsck -fn "$img"
mount -o loop,ro "$img" "$T/m"
is "$(ls "$T/m/big" | wc -l)" "$((n - (n + 6) / 7 + 1))" "htree: the kernel lists every name left"
is "$(ls "$T/m/big/more" | wc -l)" "$((n / 10))" "htree: ... and the added ones"
ok "htree: the kernel finds an added name by lookup" test -e "$T/m/big/more/added-000042"
umount "$T/m"
# a new directory of the same size, made by us (linear, as libext2fs makes them)
mkdir "$T/flat"
(cd "$T/flat" && seq -f 'e%06.0f' 1 $n | xargs touch)
ok "flat: gcopy-in of a $n-entry directory" gcopy-in -a "$img" -m /dev/sda "$T/flat" /
ok "flat: e2fsck -fn is clean" e2fsck -fn "$img"
mount -o loop,ro "$img" "$T/m"
is "$(ls "$T/m/flat" | wc -l)" "$n" "flat: the kernel lists all $n"
umount "$T/m"

# ---- a journal that needs recovery ------------------------------------------
# (the ext-journal fixture: debugfs-written transactions, and the same
# images after e2fsck's replay as the oracle)
if jdir=$(fixture ext-journal 2>/dev/null); then
    for n in ext4 ext3 ext4-csum ext4-wrap; do
        cp "$jdir/$n.img" "$T/j.img"
        before=$(sha256sum <"$T/j.img")
        rc=0; gfsh --rw -a "$T/j.img" -m /dev/sda mkdir /dir 2>/dev/null || rc=$?
        is "$rc:$(sha256sum <"$T/j.img")" "1:$before" "recovery $n: a refused change (mkdir of an existing name): byte-identical"
        ok "recovery $n: a change" gfsh --rw -a "$T/j.img" -m /dev/sda write /new hello
        ok "recovery $n: e2fsck -fn is clean (no more recovery needed)" e2fsck -fn "$T/j.img"
        is "$(debugfs -R 'cat /file.txt' "$T/j.img" 2>/dev/null | md5sum)" \
           "$(debugfs -R 'cat /file.txt' "$jdir/$n.replayed.img" 2>/dev/null | md5sum)" \
           "recovery $n: the journal was replayed onto the image first (e2fsck's replay as the oracle)"
        is "$(debugfs -R 'ls /dir' "$T/j.img" 2>/dev/null | tr -s ' ' '\n' | grep -E '^[a-z][0-9]+$' | sort | tr '\n' ' ')" \
           "$(debugfs -R 'ls /dir' "$jdir/$n.replayed.img" 2>/dev/null | tr -s ' ' '\n' | grep -E '^[a-z][0-9]+$' | sort | tr '\n' ' ')" \
           "recovery $n: the replayed directory"
        is "$(debugfs -R 'cat /new' "$T/j.img" 2>/dev/null)" "hello" "recovery $n: and the change on top"
    done
fi

# ---- a nearly full filesystem -----------------------------------------------
img=$T/full.img
truncate -s 24M "$img"
mke2fs -q -F -t ext4 -b 1024 "$img"
mkdir -p "$T/fill"
for i in 1 2 3 4 5 6; do seeded_bytes "$i" $((5 << 20)) >"$T/fill/big$i"; done
before=$(mktemp)
rc=0
gcopy-in -a "$img" -m /dev/sda "$T/fill" / 2>"$T/err" || rc=$?
is "$rc" 1 "full: gcopy-in fails when the filesystem fills up"
ok "full: ... saying 'No space left on device'" grep -q 'No space left on device' "$T/err"
ok "full: e2fsck -fn is clean" e2fsck -fn "$img"
mount -o loop,ro "$img" "$T/m"
bad=0
for f in "$T/m/fill"/*; do
    cmp -s "$f" "$T/fill/$(basename "$f")" || { diag "$f is not complete"; bad=1; }
done
is "$bad" 0 "full: every file left is complete (the one that did not fit was removed)"
umount "$T/m"
rc=0
gfsh --rw -a "$img" -m /dev/sda upload "$T/fill/big6" /again 2>"$T/err" || rc=$?
is "$rc:$(cat "$T/err")" "1:gfsh: upload: /again: No space left on device" "full: gfsh upload: ENOSPC, cleanly"
ok "full: e2fsck -fn is clean after that" e2fsck -fn "$img"
is "$(debugfs -R 'ls -l /' "$img" 2>/dev/null | grep -c again)" 0 "full: the failed upload left no file"

done_testing
