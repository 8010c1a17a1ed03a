#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# A canonical listing of a tree for the write tests: one line per entry,
# sorted by path, with type, mode, owner, link count, size, contents hash
# (regular files), link target, device numbers, extended attributes and,
# for regular files (and with --mtime), the modification time in ns.
# Access and change times are left out: they change as trees are read or
# written.  lost+found at the top is skipped.
#
#   treelist.py DIR [--mtime] [--no-nlink]
import hashlib, os, stat, sys

top = sys.argv[1]
want_mtime = '--mtime' in sys.argv
no_nlink = '--no-nlink' in sys.argv
out = []
for root, dirs, files in os.walk(top):
    if root == top and 'lost+found' in dirs:
        dirs.remove('lost+found')
    for n in dirs + files:
        p = os.path.join(root, n)
        rel = os.path.relpath(p, top)
        st = os.lstat(p)
        t = stat.S_IFMT(st.st_mode)
        kind = {stat.S_IFREG: 'f', stat.S_IFDIR: 'd', stat.S_IFLNK: 'l', stat.S_IFCHR: 'c',
                stat.S_IFBLK: 'b', stat.S_IFIFO: 'p', stat.S_IFSOCK: 's'}.get(t, '?')
        line = '%s %o %d:%d' % (kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
        if not no_nlink or kind == 'd':
            line += ' n%d' % st.st_nlink
        if kind == 'f':
            h = hashlib.sha256()
            with open(p, 'rb') as f:
                for b in iter(lambda: f.read(1 << 20), b''):
                    h.update(b)
            line += ' %d %s' % (st.st_size, h.hexdigest()[:16])
            if want_mtime:
                line += ' m%d' % st.st_mtime_ns
        elif kind == 'l':
            line += ' -> %s' % os.readlink(p)
        elif kind in 'cb':
            line += ' dev %d:%d' % (os.major(st.st_rdev), os.minor(st.st_rdev))
        try:
            xs = sorted(os.listxattr(p, follow_symlinks=False))
        except OSError:
            xs = []
        for x in xs:
            try:
                v = os.getxattr(p, x, follow_symlinks=False)
            except OSError:
                continue
            line += ' x:%s=%s' % (x, v.hex())
        out.append((rel, line))
for rel, line in sorted(out):
    print('%s %s' % (line, rel))
