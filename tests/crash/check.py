#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# After a crash: check a guest tree (a kernel mount of the image, after its
# journal replay) against the source tree the writer copied from.
#
#   check.py GUESTDIR SRCDIR [whole]
#
# Every guest file must have a source of the same relative path, with the
# same type; a regular file must hold the whole contents of one version of
# it (SRC/p, SRC/p.v2, ...) or, for at most one file (the one being
# written at the crash), a prefix of one: never a byte that was not
# written.  Symlinks point where the source's do.  With "whole" no file
# may be partly written (a removal: the file is whole or gone).  Exit 0 if
# all is well.
import os, stat, sys

guest, src = sys.argv[1], sys.argv[2]
whole = len(sys.argv) > 3 and sys.argv[3] == 'whole'
bad, partial, files = [], [], 0

def versions(rel):
    base = os.path.join(src, rel)
    out = []
    for v in [base] + [base + '.v%d' % i for i in range(2, 10)]:
        if os.path.lexists(v) and stat.S_ISREG(os.lstat(v).st_mode):
            with open(v, 'rb') as f:
                out.append(f.read())
    return out

for root, dirs, names in os.walk(guest):
    rel_root = os.path.relpath(root, guest)
    if rel_root == '.' and 'lost+found' in dirs:
        dirs.remove('lost+found')
    for n in dirs + names:
        rel = os.path.normpath(os.path.join(rel_root, n))
        g = os.path.join(guest, rel)
        s = os.path.join(src, rel)
        gs = os.lstat(g)
        if not os.path.lexists(s):
            bad.append('%s: not in the source' % rel)
            continue
        ss = os.lstat(s)
        if stat.S_IFMT(gs.st_mode) != stat.S_IFMT(ss.st_mode):
            bad.append('%s: type %o, source %o' % (rel, stat.S_IFMT(gs.st_mode), stat.S_IFMT(ss.st_mode)))
        elif stat.S_ISLNK(gs.st_mode):
            if os.readlink(g) != os.readlink(s):
                bad.append('%s: link to %r, source %r' % (rel, os.readlink(g), os.readlink(s)))
        elif stat.S_ISREG(gs.st_mode):
            files += 1
            with open(g, 'rb') as f:
                data = f.read()
            vs = versions(rel)
            if any(data == v for v in vs):
                continue
            if any(v.startswith(data) for v in vs):
                partial.append('%s (%d bytes)' % (rel, len(data)))
            else:
                bad.append('%s: %d bytes that are no version of the source (garbage)' % (rel, len(data)))
if whole and partial:
    bad.append('partly there (a removal must leave it whole or gone): %s' % ', '.join(partial))
elif len(partial) > 1:
    bad.append('more than one file partly written: %s' % ', '.join(partial))
for b in bad:
    print(b)
print('%d files, %d partly written%s' % (files, len(partial), ': ' + partial[0] if partial else ''))
sys.exit(1 if bad else 0)
