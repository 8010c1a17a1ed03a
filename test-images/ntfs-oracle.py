#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Record what ntfs-3g's FUSE mount shows of a tree (the oracle of the NTFS
# tests), in the layout of `gls -lR --csv --uids --times --time-t
# --extra-stats --checksum=sha256` with the device field left empty (the
# mount's device number means nothing to us):
#
#   ntfs-oracle.py MOUNTPOINT > listing.csv      every file below the root
#   ntfs-oracle.py --xattrs MOUNTPOINT > x.txt   PATH NAME HEXVALUE lines
#                                                (user.* only: streams)
#   ntfs-oracle.py --statvfs MOUNTPOINT          the statvfs fields
#
# Absolute link targets name the mountpoint: it is cut off, so that they
# read "/Windows/System32" as the guest sees them (and the size of such a
# link, the length of its target, is taken from what is left).
import hashlib
import os
import stat
import sys

TYPES = ((stat.S_ISREG, '-'), (stat.S_ISDIR, 'd'), (stat.S_ISCHR, 'c'), (stat.S_ISBLK, 'b'),
         (stat.S_ISFIFO, 'p'), (stat.S_ISLNK, 'l'), (stat.S_ISSOCK, 's'))


def csv(s):
    if any(c in s for c in ' ",\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def ftype(m):
    for f, c in TYPES:
        if f(m):
            return c
    return 'u'


def line(mnt, gpath):
    h = mnt + gpath if gpath != '/' else mnt
    st = os.lstat(h)
    t = ftype(st.st_mode)
    size = st.st_size
    target = None
    if t == 'l':
        target = os.readlink(h)
        if target.startswith(mnt + '/'):
            target = target[len(mnt):]
            size = len(target.encode())
    csum = ''
    if t == '-':
        hs = hashlib.sha256()
        with open(h, 'rb') as f:
            for b in iter(lambda: f.read(1 << 20), b''):
                hs.update(b)
        csum = hs.hexdigest()
    f = [t, '%04o' % stat.S_IMODE(st.st_mode), str(size), '%4d' % st.st_uid, '%4d' % st.st_gid,
         '%10d' % st.st_atime, '%10d' % st.st_mtime, '%10d' % st.st_ctime, '',
         str(st.st_ino), str(st.st_nlink),
         '%d:%d' % (os.major(st.st_rdev), os.minor(st.st_rdev)), str(st.st_blocks), csum,
         csv(gpath)]
    if target is not None:
        f.append(csv(target))
    print(','.join(f))


def walk(mnt, gdir):
    for n in sorted(os.listdir(mnt + gdir if gdir != '/' else mnt)):
        g = (gdir if gdir == '/' else gdir + '/') + n
        line(mnt, g)
        if stat.S_ISDIR(os.lstat(mnt + g).st_mode):
            walk(mnt, g)


def xattrs(mnt, gdir):
    for n in sorted(os.listdir(mnt + gdir if gdir != '/' else mnt)):
        g = (gdir if gdir == '/' else gdir + '/') + n
        h = mnt + g
        try:
            names = sorted(os.listxattr(h, follow_symlinks=False))
        except OSError:
            names = []
        for x in names:
            try:
                v = os.getxattr(h, x, follow_symlinks=False).hex()
            except OSError as e:
                v = 'ERROR:' + os.strerror(e.errno)
            print('%s %s %s' % (g, x, v))
        if stat.S_ISDIR(os.lstat(h).st_mode):
            xattrs(mnt, g)


def main():
    if sys.argv[1] == '--xattrs':
        xattrs(os.path.abspath(sys.argv[2]), '/')
    elif sys.argv[1] == '--statvfs':
        s = os.statvfs(sys.argv[2])
        print(s.f_bsize, s.f_frsize, s.f_blocks, s.f_bfree, s.f_bavail, s.f_files, s.f_ffree,
              s.f_namemax)
    else:
        mnt = os.path.abspath(sys.argv[1])
        line(mnt, '/')
        walk(mnt, '/')


main()
