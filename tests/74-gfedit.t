#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gfedit (virt-edit) and gfsh's edit.  Oracles: virt-edit 1.48.6's result
# for one expression (recorded 2026-12-05, below), debugfs and the kernel
# for contents, owner, mode and xattrs, e2fsck -fn, and sha256 of the image
# when nothing may change.
. "$(dirname "$0")/lib.sh"

[ -x "$GK_BIN/gfedit" ] || skip_all "needs gfedit"
command -v perl >/dev/null || skip_all "needs perl"

S=$T/src
mkdir -p "$S/etc" "$T/m"
printf 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/:/sbin/nologin\napache:x:48:48::/:/sbin/nologin\nuser:x:1000:1000::/home/user:/bin/bash\nnonl' >"$S/etc/passwd"
printf 'id:3:initdefault:\n' >"$S/etc/inittab"
ln -s passwd "$S/etc/plink"
printf 'secret\n' >"$S/etc/shadow"
chmod 0640 "$S/etc/shadow"
chown 0:42 "$S/etc/shadow"
setfattr -n security.selinux -v 'system_u:object_r:shadow_t:s0' "$S/etc/shadow" 2>/dev/null
setfattr -n user.note -v kept "$S/etc/shadow"
IMG=$T/disk.img
mkimage() {
    rm -f "$IMG"
    truncate -s 32M "$IMG"
    mke2fs -q -F -t ext4 -d "$S" "$IMG"
}
dcat() { debugfs -R "cat $1" "$IMG" 2>/dev/null; }
mkimage

# virt-edit -a ve.img -m /dev/sda /etc/passwd -e 's/^root:.*?:/root::/;
#   $_ = "" if /^apache:/; $_ .= "after$lineno\n" if $lineno == 2; s/nonl$/NONL/'
# left /etc/passwd as (debugfs cat):
cat >"$T/virt-edit.result" <<'EOF'
root::0:0:root:/root:/bin/bash
daemon:x:1:1::/:/sbin/nologin
after2
user:x:1000:1000::/home/user:/bin/bash
NONL
EOF
printf '%s' "$(cat "$T/virt-edit.result")" >"$T/virt-edit.result2"   # no final newline
gfedit -a "$IMG" -m /dev/sda /etc/passwd \
    -e 's/^root:.*?:/root::/; $_ = "" if /^apache:/; $_ .= "after$lineno\n" if $lineno == 2; s/nonl$/NONL/'
is "$?" 0 "gfedit -e: exit 0"
dcat /etc/passwd >"$T/got"
same_file "$T/got" "$T/virt-edit.result2" "-e: the file is what virt-edit makes of it"
ok "e2fsck -fn is clean" e2fsck -fn "$IMG"

# owner, mode, xattrs kept; -b keeps the original; -e after the file name
gfedit -a "$IMG" -m /dev/sda -b .orig /etc/shadow -e 's/secret/changed/'
is "$(dcat /etc/shadow)" "changed" "-b: the file changed"
is "$(dcat /etc/shadow.orig)" "secret" "-b: the original kept as FILE.orig"
mount -o loop,ro "$IMG" "$T/m"
is "$(stat -c '%a %u %g' "$T/m/etc/shadow")" "640 0 42" "owner and mode kept (the kernel's stat)"
is "$(getfattr -n user.note --only-values "$T/m/etc/shadow" 2>/dev/null)" "kept" "user.* xattr kept"
if getfattr -n security.selinux "$S/etc/shadow" >/dev/null 2>&1; then
    is "$(getfattr -n security.selinux --only-values "$T/m/etc/shadow" 2>/dev/null | tr -d '\0')" \
        "system_u:object_r:shadow_t:s0" "the SELinux label kept"
fi
umount "$T/m"
ok "e2fsck -fn is clean after -b" e2fsck -fn "$IMG"

# a symlink: the file it points to is edited, the link stays
gfedit -a "$IMG" -m /dev/sda /etc/plink -e 's/^daemon/DAEMON/'
is "$(dcat /etc/passwd | sed -n 2p)" "DAEMON:x:1:1::/:/sbin/nologin" "a symlink: its target is edited"
is "$(debugfs -R 'stat /etc/plink' "$IMG" 2>/dev/null | grep -c 'Type: symlink')" 1 "... and the link stays a link"

# nothing changes: the image is byte-identical (opened read-only)
before=$(sha256sum <"$IMG")
gfedit -a "$IMG" -m /dev/sda /etc/inittab -e 's/nomatch/x/'
is "$?:$(sha256sum <"$IMG")" "0:$before" "-e that changes nothing: exit 0, image byte-identical"
EDITOR=true gfedit -a "$IMG" -m /dev/sda /etc/inittab
is "$?:$(sha256sum <"$IMG")" "0:$before" "an editor that saves nothing: image byte-identical"
rc=0; gfedit -a "$IMG" -m /dev/sda /etc/inittab -e 'die "no\n" if /id/' 2>"$T/err" || rc=$?
is "$rc:$(sha256sum <"$IMG")" "1:$before" "die in the expression: exit 1, image byte-identical"
rc=0; gfedit -a "$IMG" -m /dev/sda /etc/inittab -e 's/(/' 2>"$T/err" || rc=$?
is "$rc:$(sha256sum <"$IMG")" "1:$before" "a syntax error in the expression: exit 1, image byte-identical"
rc=0; gfedit -a "$IMG" -m /dev/sda /etc/nothere -e 's/a/b/' 2>"$T/err" || rc=$?
is "$rc:$(cat "$T/err")" "1:gfedit: /etc/nothere: No such file or directory" "a missing file: the message"
rc=0; gfedit -a "$IMG" -m /dev/sda /etc -e 's/a/b/' 2>"$T/err" || rc=$?
is "$rc:$(cat "$T/err")" "1:gfedit: /etc: Is a directory" "a directory: the message"

# $EDITOR, several files, -e with $lineno
EDITOR="sed -i s/initdefault/INIT/" gfedit -a "$IMG" -m /dev/sda /etc/inittab /etc/shadow
is "$(dcat /etc/inittab)" "id:3:INIT:" "\$EDITOR runs on each file (1)"
is "$(dcat /etc/shadow)" "changed" "... (2: unchanged by it)"
gfedit -a "$IMG" -m /dev/sda /etc/passwd -e '$_ = "" unless $lineno == 1'
is "$(dcat /etc/passwd)" "root::0:0:root:/root:/bin/bash" "\$lineno counts from 1"
ok "e2fsck -fn is clean at the end" e2fsck -fn "$IMG"

# gfsh edit / vi / emacs
mkimage
EDITOR="sed -i s/secret/gfsh/" gfsh --rw -a "$IMG" -m /dev/sda edit /etc/shadow
is "$(dcat /etc/shadow)" "gfsh" "gfsh edit: \$EDITOR"
is "$(debugfs -R 'stat /etc/shadow' "$IMG" 2>/dev/null | sed -n 's/.*Mode: *\(0[0-7]*\).*/\1/p')" "0640" "gfsh edit: the mode kept (debugfs)"
rc=0; gfsh -a "$IMG" -m /dev/sda edit /etc/shadow 2>"$T/err" || rc=$?
is "$rc:$(cat "$T/err")" "1:gfsh: edit: /etc/shadow: Read-only file system" "gfsh edit without --rw: guestfish's message"
ok "gfsh edit: e2fsck -fn is clean" e2fsck -fn "$IMG"
# vi and emacs run those editors whatever $EDITOR says (guestfish's
# aliases): stand-ins on PATH that change the file
mkdir -p "$T/bin"
printf '#!/bin/sh\nsed -i s/gfsh/vi/ "$1"\n' >"$T/bin/vi"
printf '#!/bin/sh\nsed -i s/vi/emacs/ "$1"\n' >"$T/bin/emacs"
chmod +x "$T/bin/vi" "$T/bin/emacs"
PATH=$T/bin:$PATH EDITOR=false gfsh --rw -a "$IMG" -m /dev/sda vi /etc/shadow
is "$?:$(dcat /etc/shadow)" "0:vi" "gfsh vi: runs vi, not \$EDITOR"
PATH=$T/bin:$PATH EDITOR=false gfsh --rw -a "$IMG" -m /dev/sda emacs /etc/shadow
is "$?:$(dcat /etc/shadow)" "0:emacs" "gfsh emacs: runs emacs"
st=$(debugfs -R 'stat /etc/shadow' "$IMG" 2>/dev/null)
is "$(echo "$st" | sed -n 's/.*User: *\([0-9]*\) *Group: *\([0-9]*\).*/\1:\2/p'):$(echo "$st" | sed -n 's/.*Mode: *\(0[0-7]*\).*/\1/p')" \
    "0:42:0640" "gfsh vi/emacs: owner and mode kept (debugfs)"
rc=0; gfsh -a "$IMG" -m /dev/sda vi /etc/shadow 2>"$T/err" || rc=$?
is "$rc:$(cat "$T/err")" "1:gfsh: vi: /etc/shadow: Read-only file system" "gfsh vi without --rw: refused"
ok "gfsh vi/emacs: e2fsck -fn is clean" e2fsck -fn "$IMG"

# ---- the images are opened for writing only once a file changed --------------
# Oracle: qemu's own lock.  While qemu-io holds the image open for writing,
# an edit that changes nothing runs (it only read), one that changes a file
# is refused when it opens the image for writing, and nothing is written.
if command -v qemu-io >/dev/null; then
    before=$(sha256sum <"$IMG")
    mkfifo "$T/qin"
    qemu-io -f raw "$IMG" <"$T/qin" >/dev/null 2>&1 &
    qio=$!
    exec 7>"$T/qin"
    if wait_lock "$IMG" 101; then
        for sb in "" --no-sandbox; do
            rc=0; gfedit $sb -a "$IMG" -m /dev/sda /etc/inittab -e 's/NOMATCH//' 2>"$T/err" || rc=$?
            is "$rc" 0 "qemu-io writes the image: gfedit ${sb:-(sandbox)} changing nothing runs (read-only)"
            rc=0; gfedit $sb -a "$IMG" -m /dev/sda /etc/inittab -e 's/3/5/' 2>"$T/err" || rc=$?
            is "$rc:$(grep -c 'in use by a process that writes to it (qemu?); refusing to write' "$T/err")" \
                "1:1" "... changing a file: refused when it opens the image for writing"
        done
    else
        diag "qemu-io took no lock: skipped"
    fi
    exec 7>&-
    wait "$qio"
    is "$(sha256sum <"$IMG")" "$before" "... the image byte-identical"
fi

done_testing
