# SPDX-License-Identifier: GPL-2.0-or-later
# lib-fslist.py DIR: every file below DIR (a kernel mount: the oracle) as
# gls -lR --csv --uids --time-t --extra-stats --checksum=sha256 prints it,
# less the device field, fields joined by "|":
#   type|mode|size|uid|gid|atime|mtime|ctime|ino|nlink|rdev|blocks|sha256|path[|target]
import hashlib, os, stat, sys
top = sys.argv[1].encode()
out = sys.stdout.buffer
def t(m):
    for f, c in ((stat.S_ISREG, b'-'), (stat.S_ISDIR, b'd'), (stat.S_ISCHR, b'c'), (stat.S_ISBLK, b'b'),
                 (stat.S_ISFIFO, b'p'), (stat.S_ISLNK, b'l'), (stat.S_ISSOCK, b's')):
        if f(m): return c
    return b'u'
def line(gpath, h):
    st = os.lstat(h)
    f = [t(st.st_mode), b'%04o' % stat.S_IMODE(st.st_mode), b'%d' % st.st_size,
         b'%d' % st.st_uid, b'%d' % st.st_gid,
         b'%d' % (st.st_atime_ns // 10**9), b'%d' % (st.st_mtime_ns // 10**9),
         b'%d' % (st.st_ctime_ns // 10**9), b'%d' % st.st_ino, b'%d' % st.st_nlink,
         b'%d:%d' % (os.major(st.st_rdev), os.minor(st.st_rdev)), b'%d' % st.st_blocks]
    if stat.S_ISREG(st.st_mode):
        hs = hashlib.sha256()
        with open(h, 'rb') as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b''):
                hs.update(chunk)
        f.append(hs.hexdigest().encode())
    else:
        f.append(b'')
    f.append(gpath)
    if stat.S_ISLNK(st.st_mode):
        f.append(os.readlink(h))
    out.write(b'|'.join(f) + b'\n')
def walk(g, h):
    for n in sorted(os.listdir(h)):
        gp = (g if g == b'/' else g + b'/') + n
        hp = os.path.join(h, n)
        line(gp, hp)
        if stat.S_ISDIR(os.lstat(hp).st_mode):
            walk(gp, hp)
line(b'/', top)
walk(b'/', top)
