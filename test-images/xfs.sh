#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# XFS images made by mkfs.xfs and filled through the kernel (a loop mount),
# except v4, which this kernel no longer mounts: mkfs.xfs -p protofile plus
# xfs_db -x for its attributes.
#
#   v5.img      mkfs.xfs defaults (crc, ftype, finobt, reflink, bigtime,
#               sparse inodes) + nrext64; the tree of populate() below:
#               directories in every form (shortform, block, leaf, node,
#               btree), files with holes, unwritten extents, 300 and 6000
#               extents (bmap btrees of one and two levels), reflinked
#               copies, hard links, local and remote symlinks, device nodes,
#               xattrs in every form (shortform, leaf, node, remote values,
#               trusted/security, POSIX ACLs), timestamps before 1970 and
#               after 2038
#   v5-1k.img   1 KiB blocks, 8 KiB directory blocks (several fs blocks per
#               directory block), the same tree, no nrext64/bigtime
#   big.img     4 TiB (sparse): 64-bit inode numbers in shortform directories
#   ci.img      v5 with ASCII case-insensitive names (-n version=ci), from a
#               protofile: this kernel does not mount those any more
#   dirty.img   v5 shut down with xfs_io "shutdown -f": the log needs
#               recovery (oracle: xfs_repair -n)
#   v4.img      -m crc=0 from v4.proto (source tree v4.tree/), attributes
#               set with xfs_db (v4-attrs.txt lists them as xfs_db printed)
#   v4-noftype.img  v4 without the directory file type
#   *.kernel/   what the kernel shows of each mounted image (find, sha256sum,
#               getfattr, stat -f, df), made read-only after unmounting
set -euo pipefail
OUT=$(realpath "$1")
mkdir -p "$OUT"
cd "$OUT"
rm -rf ./*.img ./*.kernel ./v4.tree ./v4.proto ./*.txt
W=$(mktemp -d)
MNT=$W/mnt
mkdir -p "$MNT"
cleanup() {
    mountpoint -q "$MNT" && umount "$MNT"
    rm -rf "$W"
}
trap cleanup EXIT
export SOURCE_DATE_EPOCH=1700000000 TZ=UTC LC_ALL=C

# populate DIR [nobig]: the test tree, through the kernel
populate() {
    python3 - "$1" "${2:-}" <<'EOF'
import os, sys, socket, random, subprocess
top, mode = sys.argv[1], sys.argv[2]
big = mode != 'nobig'
rnd = random.Random(1234)
def w(p, data):
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, 'wb') as f: f.write(data)
def j(*a): return os.path.join(top, *a)
w(j('hello.txt'), b'hello world\n')
w(j('empty'), b'')
w(j('data/random.bin'), rnd.randbytes(3 * 1024 * 1024 + 123))
# holes: data at 0, 5 MiB and the last byte of 10 MiB
with open(j('data/holes.bin'), 'wb') as f:
    f.write(b'A' * 5000); f.seek(5 << 20); f.write(b'B' * 70000); f.seek((10 << 20) - 1); f.write(b'Z')
with open(j('data/allhole.bin'), 'wb') as f: f.truncate(1 << 20)
def xio(path, *cmds):
    subprocess.run(['xfs_io', '-f'] + [a for c in cmds for a in ('-c', c)] + [path], check=True,
                   stdout=subprocess.DEVNULL)
# unwritten (preallocated) space: alone, partly written, and past EOF
xio(j('data/unwritten.bin'), 'falloc 0 1m', 'pwrite -S 0x61 256k 4k')
xio(j('data/fallocated'), 'falloc 0 64k')
xio(j('data/prealloc-past-eof'), 'pwrite -S 0x62 0 10000', 'falloc -k 16k 1m')
# many extents: every other block written, so none merge
def every_other(p, n):
    with open(p, 'wb') as f:
        for i in range(n):
            f.seek(i * 8192); f.write(rnd.randbytes(4096))
every_other(j('data/ext300.bin'), 300)
if big:
    every_other(j('data/ext6000.bin'), 6000)
# reflinked copy (shared extents)
if subprocess.run(['cp', '--reflink=always', j('data/random.bin'), j('data/reflinked.bin')],
                  stderr=subprocess.DEVNULL).returncode != 0:
    subprocess.run(['cp', j('data/random.bin'), j('data/reflinked.bin')], check=True)
# links
os.makedirs(j('links'))
w(j('links/target'), b'target\n')
os.link(j('links/target'), j('links/hard1'))
os.link(j('links/target'), j('links/hard2'))
os.symlink('target', j('links/short'))
os.symlink('/hello.txt', j('links/absolute'))
os.symlink('nowhere/at/all', j('links/dangling'))
os.symlink('../data', j('links/todir'))
os.symlink('d/' * 200 + 'end', j('links/long400'))       # remote with 512-byte inodes
os.symlink('x' * 1023, j('links/long1023'))              # the longest
os.symlink('loop2', j('links/loop1'))
os.symlink('loop1', j('links/loop2'))
# special files
os.makedirs(j('dev'))
os.mknod(j('dev/null'), 0o20666, os.makedev(1, 3))
os.mknod(j('dev/sda'), 0o60660, os.makedev(8, 0))
os.mknod(j('dev/big'), 0o20600, os.makedev(259, 65537))
os.mkfifo(j('dev/fifo'))
s = socket.socket(socket.AF_UNIX); s.bind(j('dev/sock')); s.close()
# directories of every size, some entries removed again (free space and
# stale hash entries)
def mkdir_n(name, n, width, drop=0):
    d = j('dirs', name)
    os.makedirs(d)
    for i in range(n):
        w(os.path.join(d, 'f%0*d' % (width, i)), b'')
    if drop:
        for i in range(0, n, drop):
            os.unlink(os.path.join(d, 'f%0*d' % (width, i)))
mkdir_n('sf', 3, 2)
mkdir_n('block', 40, 8)
mkdir_n('leaf', 400, 12, 7)
mkdir_n('node', 4000, 20, 9)
# a directory whose block map needs a btree: its blocks interleaved with
# preallocated file blocks
d = j('dirs', 'btree')
os.makedirs(d)
n = 12000 if big else 3000
for i in range(n):
    p = os.path.join(d, 'entry-with-a-longish-name-%06d' % i)
    if i % 60 == 0:
        xio(p, 'falloc 0 4k')
    else:
        open(p, 'wb').close()
os.makedirs(j('dirs/names'))
for nm in ['space in name', 'ünïcödé', '-dash', 'x' * 255, 'UPPER', 'upper',
           '.hidden', '...', 'a:b', '#hash']:
    w(j('dirs/names', nm), nm.encode() + b'\n')
os.makedirs(j('dirs/deep/' + '/'.join('d%d' % i for i in range(40))))
# attributes
os.makedirs(j('xattr'))
def sx(p, k, v):
    os.setxattr(p, k, v, follow_symlinks=False)
w(j('xattr/sf.txt'), b'sf\n')
sx(j('xattr/sf.txt'), 'user.a', b'1'); sx(j('xattr/sf.txt'), 'user.empty', b'')
w(j('xattr/leaf.txt'), b'leaf\n')
for i in range(40):
    sx(j('xattr/leaf.txt'), 'user.leaf%02d' % i, bytes([65 + i % 26]) * 50)
w(j('xattr/node.txt'), b'node\n')
for i in range(1500):
    sx(j('xattr/node.txt'), 'user.attribute_%d' % i, b'value_%d' % i)
w(j('xattr/remote.txt'), b'remote\n')
sx(j('xattr/remote.txt'), 'user.big', rnd.randbytes(30000))
sx(j('xattr/remote.txt'), 'user.max', rnd.randbytes(65536))
sx(j('xattr/remote.txt'), 'user.small', b'small')
w(j('xattr/ns.txt'), b'ns\n')
sx(j('xattr/ns.txt'), 'trusted.t', b'trusted value')
sx(j('xattr/ns.txt'), 'security.selinux', b'system_u:object_r:etc_t:s0\x00')
sx(j('xattr/ns.txt'), 'user.u', b'user value')
w(j('xattr/acl.txt'), b'acl\n')
os.makedirs(j('xattr/acldir'))
subprocess.run(['setfacl', '-m', 'u:1000:rw,g:100:r,m::rwx', j('xattr/acl.txt')], check=True)
subprocess.run(['setfacl', '-d', '-m', 'u:1001:rwx', j('xattr/acldir')], check=True)
os.symlink('sf.txt', j('xattr/link'))
sx(j('xattr/link'), 'trusted.onlink', b'on the link itself')
# owners, modes, times (before 1970, after 2038, nanoseconds)
os.makedirs(j('meta'))
for nm, m, u, g in [('suid', 0o4755, 0, 0), ('sticky', 0o1777, 0, 0), ('none', 0o000, 0, 0),
                    ('user', 0o640, 1000, 1000), ('nobody', 0o644, 65534, 65534),
                    ('big-ids', 0o600, 4000000000, 3000000000)]:
    w(j('meta', nm), b'')
    os.chown(j('meta', nm), u, g); os.chmod(j('meta', nm), m)
for nm, t in [('1950', -631152000), ('1901', -2147483000), ('2038', 2147483647), ('2100', 4102444800),
              ('2400', 13569465600), ('ns', 1700000000)]:
    w(j('meta', 'time-' + nm), b'')
    if big or abs(t) < 2**31:
        os.utime(j('meta', 'time-' + nm), ns=(t * 10**9 + 123456789, t * 10**9 + 987654321))
EOF
}

# kernel_view IMG NAME: what the kernel shows of the image, mounted read-only
kernel_view() {
    local k=$OUT/$2.kernel
    mkdir -p "$k"
    mount -o ro,loop,nouuid "$1" "$MNT"
    (
        cd "$MNT"
        find . -printf '%y %m %U %G %s %n %i %b %T@ %A@ %C@ %p -> %l\n' | LC_ALL=C sort -k12 >"$k/find.txt"
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum >"$k/sha256.txt"
        getfattr -R -P -d -m - -e hex . 2>/dev/null >"$k/getfattr.txt" || true
        find . -type c -o -type b | LC_ALL=C sort | while read -r f; do
            echo "$f $(stat -c '%t %T' "$f")"; done >"$k/rdev.txt"
        stat -f -c '%S %b %f %a %c %d' . >"$k/statfs.txt"
        df -k . | tail -n 1 | awk '{print $2, $3, $4}' >"$k/df.txt"
        df -i . | tail -n 1 | awk '{print $2, $3, $4}' >"$k/dfi.txt"
    )
    umount "$MNT"
}

U=5c000000-0000-4000-8000-0000000000

# ---------------------------------------------------------------- v5
truncate -s 400M v5.img
mkfs.xfs -q -f -m uuid=${U}05 -L v5 -i nrext64=1 v5.img
mount -o loop,nouuid v5.img "$MNT"
populate "$MNT"
umount "$MNT"
kernel_view v5.img v5

truncate -s 300M v5-1k.img
mkfs.xfs -q -f -m uuid=${U}51,bigtime=0 -b size=1024 -n size=8192 v5-1k.img
mount -o loop,nouuid v5-1k.img "$MNT"
populate "$MNT" nobig
umount "$MNT"
kernel_view v5-1k.img v5-1k

# ---------------------------------------------------------------- big
# 4 TiB (sparse): inode numbers of the upper allocation groups need more
# than 32 bits, so shortform directories store 8-byte inode numbers
truncate -s 4T big.img
mkfs.xfs -q -f -m uuid=${U}b1 -l size=64m big.img
mount -o loop,nouuid big.img "$MNT"
for i in $(seq 1 8); do
    mkdir "$MNT/ag$i"
    echo "file in directory $i" >"$MNT/ag$i/file"
    mkdir "$MNT/ag$i/sub"
    ln -s ../file "$MNT/ag$i/sub/link"
done
umount "$MNT"
kernel_view big.img big
xfs_db -r -c "path /" -c "print u3.sfdir3.hdr.i8count" big.img >big-i8.txt

# ---------------------------------------------------------------- ci
# this kernel no longer mounts ASCII-CI filesystems: a protofile, and
# xfs_db as the oracle
python3 - "$W/ci.proto" "$W/ci-src" <<'EOF'
import os, sys
proto, src = sys.argv[1], sys.argv[2]
os.makedirs(src)
def f(name, data):
    p = os.path.join(src, name)
    open(p, 'wb').write(data)
    return p
e = f('e', b'')
l = ['/dev/null', '0 0', 'd--755 0 0', ' Mixed d--755 0 0',
     '  ReadMe.TXT ---644 0 0 ' + f('r', b'readme\n'), '  Big d--755 0 0']
l += ['   Name%d ---644 0 0 %s' % (i, e) for i in range(2000)]
l += ['   ExactCase ---644 0 0 ' + f('x', b'exact\n'), '  $', ' $', '$']
open(proto, 'w').write('\n'.join(l) + '\n')
EOF
truncate -s 300M ci.img
mkfs.xfs -q -f -m uuid=${U}c1 -n version=ci -p "$W/ci.proto" ci.img
xfs_db -r -c "ls /Mixed" -c "ls /Mixed/Big" ci.img >ci-ls.txt

# ---------------------------------------------------------------- dirty
truncate -s 300M dirty.img
mkfs.xfs -q -f -m uuid=${U}d1 dirty.img
mount -o loop,nouuid dirty.img "$MNT"
mkdir -p "$MNT/before"
echo "written before the sync" >"$MNT/before/file"
sync
echo "written after the sync" >"$MNT/after"
mkdir "$MNT/newdir"
xfs_io -x -c "shutdown -f" "$MNT"
umount "$MNT"
# the oracle: xfs_repair's verdict on the log
if xfs_repair -n dirty.img >dirty-repair.txt 2>&1; then echo clean >dirty-log.txt; else echo dirty >dirty-log.txt; fi
xfs_repair -n v5.img >/dev/null 2>&1 && echo clean >v5-log.txt || echo dirty >v5-log.txt

# ---------------------------------------------------------------- v4
# mkfs.xfs -p: a protofile names every file with its type, mode, owner
# and source; the tree it reads is kept as the oracle for contents
T=$OUT/v4.tree
mkdir -p "$T"
python3 - "$T" "$OUT/v4.proto" <<'EOF'
import os, sys, random
top, proto = sys.argv[1], sys.argv[2]
rnd = random.Random(99)
lines = ['/dev/null', '0 0', 'd--755 0 0']
def f(name, data, mode='---644', uid=0, gid=0, ind=1):
    p = os.path.join(top, 'src-%d' % len(lines))
    open(p, 'wb').write(data)
    lines.append('%s%s %s %d %d %s' % (' ' * ind, name, mode, uid, gid, p))
def d(name, ind=1, mode='d--755', uid=0, gid=0):
    lines.append('%s%s %s %d %d' % (' ' * ind, name, mode, uid, gid))
def end(ind=1): lines.append(' ' * ind + '$')
f('hello.txt', b'hello world\n')
f('empty', b'')
f('random.bin', rnd.randbytes(2 * 1024 * 1024 + 77))
f('owned', b'owned\n', '---600', 1000, 100)
f('setuid', b'', '-u-755')
lines.append(' short l--777 0 0 hello.txt')
lines.append(' long l--777 0 0 ' + 'L' * 700)
lines.append(' null c--666 0 0 1 3')
lines.append(' sda b--660 0 6 8 0')
lines.append(' fifo p--644 0 0')
for nm, n, wd in [('sf', 3, 2), ('block', 40, 8), ('leaf', 400, 12), ('node', 5000, 20)]:
    d(nm)
    for i in range(n):
        f('f%0*d' % (wd, i), b'%d\n' % i if i % 50 == 0 else b'', ind=2)
    end(2)
d('attrs')
for nm in ['sf', 'leaf', 'node', 'remote']:
    f(nm, nm.encode() + b'\n', ind=2)
end(2)
end(0)
open(proto, 'w').write('\n'.join(lines) + '\n')
EOF
truncate -s 300M v4.img
mkfs.xfs -q -f -m crc=0,uuid=${U}04 -L v4 -p v4.proto v4.img 2>/dev/null
truncate -s 300M v4-noftype.img
mkfs.xfs -q -f -m crc=0,uuid=${U}40 -n ftype=0 -p v4.proto v4-noftype.img 2>/dev/null
# attributes with xfs_db (values are filled by xfs_db itself)
for img in v4.img v4-noftype.img; do
    cmds=(-c "path /attrs/sf" -c "attr_set -v 5 a" -c "attr_set -r -v 3 rootattr")
    cmds+=(-c "path /attrs/leaf")
    for i in $(seq 1 30); do cmds+=(-c "attr_set -v 40 leafattr$i"); done
    cmds+=(-c "path /attrs/node")
    for i in $(seq 1 400); do cmds+=(-c "attr_set -v 20 nodeattr$i"); done
    cmds+=(-c "path /attrs/remote" -c "attr_set -v 20000 big" -c "attr_set -s -v 7 secattr")
    xfs_db -x "${cmds[@]}" "$img" >/dev/null
done
# what xfs_db says is there (the oracle for v4 attributes)
for f in sf leaf node remote; do
    xfs_db -r -c "path /attrs/$f" -c "print core.aformat" -c "print core.forkoff" v4.img
done >v4-attrs.txt 2>&1
xfs_db -r -c "path /attrs/sf" -c "print a" v4.img >>v4-attrs.txt 2>&1 || true
for f in leaf remote; do xfs_db -r -c "path /attrs/$f" -c "ablock 0" -c "print" v4.img >>v4-attrs.txt 2>&1 || true; done
for img in v4 v4-noftype; do
    xfs_db -r -c "ls /" -c "ls /block" -c "ls /node" -c "ls /leaf" "$img.img" >"$img-ls.txt"
done

# formats reached, as xfs_db reports them (checked by the tests)
for d in /dirs/sf /dirs/block /dirs/leaf /dirs/node /dirs/btree /data/ext300.bin /data/ext6000.bin \
         /xattr/sf.txt /xattr/leaf.txt /xattr/node.txt /links/short /links/long400; do
    echo "$d $(xfs_db -r -c "path $d" -c "print core.format" -c "print core.aformat" v5.img | tr '\n' ' ')"
done >v5-formats.txt
# the directory forms: the magic of the block at the leaf offset (32 GiB)
for d in leaf node btree; do
    echo "/dirs/$d $(xfs_db -r -c "path /dirs/$d" -c "dblock 8388608" -c "print lhdr.info.hdr.magic" \
        -c "print nhdr.info.hdr.magic" v5.img 2>/dev/null | tr '\n' ' ')"
done >>v5-formats.txt
# and the attribute forms: the magic of attribute block 0 (leaf or node)
for f in leaf node remote; do
    echo "/xattr/$f.txt $(xfs_db -r -c "path /xattr/$f.txt" -c "ablock 0" -c "print hdr.info.hdr.magic" \
        v5.img 2>/dev/null)"
done >>v5-formats.txt
xfs_db -r -c "ls /" dirty.img >dirty-ls.txt
ls -l
