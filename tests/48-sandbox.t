#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The sandbox (issue 11): every tool, once its images and outputs are open,
# tries what a parser taken over by a crafted image would try, and the
# kernel must refuse each attempt.  The attacks live in the test binaries
# of build/selftest-bin only (tools/sandbox-selftest.c, make selftest);
# the oracles are the kernel's answers (EACCES/EPERM, death by SIGSYS),
# /proc/PID/status, and the victim file's bytes and metadata (sha256sum,
# stat) before and after.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-sandbox.sh"
G=$(fixture guests) || skip_all "guests fixture failed"
E=$(fixture ext-trees) || skip_all "ext-trees fixture failed"
IMG=$G/debian.qcow2          # a qcow2 with a backing file
cp "$E/ext4.img" "$T/rw.img"

# a TMPDIR of our own: the scratch directories made for ginspect are
# looked for at the end (other test runs share /tmp)
mkdir -p "$T/tmpdir" && export TMPDIR=$T/tmpdir

mkdir -p "$T/out" "$T/src/d" && echo hello > "$T/src/d/f"
tar -C "$T/src" -cf "$T/in.tar" d

gcat_args=("$SB/gcat" -a "$IMG" /etc/hostname)
attack gcat "${gcat_args[@]}"
# the seccomp program made at build time (tools/sandbox-bpfgen.c) and the
# one libseccomp makes at run time refuse the same; with -v the refused
# calls are reported (the build-time program's EPERM turned into a trap)
attack "gcat, libseccomp's program" env GK_SANDBOX_RUNTIME_FILTER=1 "${gcat_args[@]}"
attack "gcat -v" "$SB/gcat" -v -a "$IMG" /etc/hostname
ok "gcat -v: refused calls are named" grep -q '^gcat: sandbox: refused system call [a-z_0-9]* ([0-9]*)$' "$T/at.err"
killed "gcat, libseccomp's program" execve env GK_SANDBOX_RUNTIME_FILTER=1 "${gcat_args[@]}"
killed gcat execve "${gcat_args[@]}"
killed gcat ptrace "${gcat_args[@]}"
attack gls "$SB/gls" -a "$IMG" /etc
attack gdf "$SB/gdf" -a "$IMG"
attack gfilesystems "$SB/gfilesystems" -a "$IMG" --all
attack ginspect "$SB/ginspect" -a "$IMG"
attack gwinreg "$SB/gwinreg" -a "$IMG" 'HKLM\SYSTEM'
attack gtar-out "$SB/gtar-out" -a "$IMG" /etc "$T/out.tar"
killed gtar-out execve "$SB/gtar-out" -a "$IMG" /etc "$T/out.tar"
ok "gtar-out: a killed run leaves no archive" test ! -e "$T/out.tar"

# gcopy-out: writing beneath LOCALDIR works, beside it does not
attack gcopy-out "$SB/gcopy-out" -a "$IMG" /etc/hostname "$T/out"
grep -q '^sandbox-selftest: create inside the output directory: allowed$' "$T/at.err"
is "$?" 0 "gcopy-out: creating inside LOCALDIR is allowed"
is "$(grep -c '^sandbox-selftest: create beside the output directory: .*refused' "$T/at.err")" 4 \
   "gcopy-out: creating beside LOCALDIR is refused (file, dir, symlink, FIFO)"
ok "gcopy-out: nothing was made beside LOCALDIR" test ! -e "$T/gk-sandbox-escape"
killed gcopy-out ptrace "$SB/gcopy-out" -a "$IMG" /etc/hostname "$T/out"

# gimg: every command once its images are open; convert may write its
# target only (RLIMIT_FSIZE at the target's size)
attack "gimg info" "$SB/gimg" info --backing-chain "$IMG"
attack "gimg map" "$SB/gimg" map "$IMG"
attack "gimg check" "$SB/gimg" check "$IMG"
attack "gimg snapshot" "$SB/gimg" snapshot -l "$IMG"
attack "gimg compare" "$SB/gimg" compare "$IMG" "$IMG"
attack "gimg convert" "$SB/gimg" convert -O raw "$IMG" "$T/conv.raw"
killed "gimg info" execve "$SB/gimg" info "$IMG"
killed "gimg convert" ptrace "$SB/gimg" convert -O raw "$IMG" "$T/conv.raw"
rm -f "$T/conv.raw"
"$SB/gimg" convert -O raw "$IMG" "$T/conv.raw"
ok "gimg convert in the sandbox: qemu-img compare finds the copy identical" \
   qemu-img compare -q "$IMG" "$T/conv.raw"
rm -f "$T/conv.raw"
# create, commit and rebase open every file first (the backing file read,
# the new image made), then enter; qemu-img check and compare judge what
# they wrote inside
mkimg() { qemu-img create -q -f qcow2 "$@"; }
attack "gimg create" "$SB/gimg" create -q -f qcow2 -b "$IMG" -F qcow2 "$T/c1.qcow2"
killed "gimg create" execve "$SB/gimg" create -q -f qcow2 "$T/c2.qcow2" 1M
rm -f "$T/c1.qcow2" "$T/c2.qcow2"
for f in raw qcow2 vmdk; do
    "$SB/gimg" create -q -f $f "$T/c.$f" 4M && qemu-img info -f $f "$T/c.$f" >/dev/null
    is "$?:$(qemu-img info -f $f --output=json "$T/c.$f" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p' | head -n1)" \
       "0:4194304" "gimg create -f $f in the sandbox: qemu-img reads a 4 MiB image"
done
ok "... qemu-img check is clean (qcow2)" qemu-img check -q "$T/c.qcow2"
mkimg "$T/base.qcow2" 4M && qemu-io -c 'write -P 0x11 0 1M' "$T/base.qcow2" >/dev/null
mkimg -b base.qcow2 -F qcow2 "$T/top.qcow2" && qemu-io -c 'write -P 0x22 512k 1M' "$T/top.qcow2" >/dev/null
cp "$T/base.qcow2" "$T/base0.qcow2"; cp "$T/top.qcow2" "$T/top0.qcow2"
attack "gimg commit" "$SB/gimg" commit "$T/top.qcow2"
killed "gimg commit" ptrace "$SB/gimg" commit "$T/top.qcow2"
cmp -s "$T/base.qcow2" "$T/base0.qcow2"; is "$?" 0 "gimg commit: the attacks left the base unchanged"
"$SB/gimg" commit -q "$T/top.qcow2"
is "$?:$(qemu-io -c 'read -P 0x11 0 512k' -c 'read -P 0x22 512k 1M' "$T/base.qcow2" | grep -c '^read')" "0:2" \
   "gimg commit in the sandbox: qemu-io reads the committed data in the base"
ok "... qemu-img check is clean (base, top)" sh -c "qemu-img check -q '$T/base.qcow2' && qemu-img check -q '$T/top.qcow2'"
mkimg -b base0.qcow2 -F qcow2 "$T/nb.qcow2" && qemu-io -c 'write -P 0x33 0 64k' "$T/nb.qcow2" >/dev/null
attack "gimg rebase" "$SB/gimg" rebase -b nb.qcow2 -F qcow2 "$T/top0.qcow2"
killed "gimg rebase" execve "$SB/gimg" rebase -b nb.qcow2 -F qcow2 "$T/top0.qcow2"
qemu-img convert -O raw "$T/top0.qcow2" "$T/before.raw"
"$SB/gimg" rebase -b nb.qcow2 -F qcow2 "$T/top0.qcow2"
is "$?:$(qemu-img info --output=json "$T/top0.qcow2" | sed -n 's/.*"backing-filename": "\(.*\)".*/\1/p')" \
   "0:nb.qcow2" "gimg rebase in the sandbox: qemu-img info names the new backing file"
ok "... qemu-img compare: the image reads as before" qemu-img compare -q "$T/before.raw" "$T/top0.qcow2"
ok "... qemu-img check is clean" qemu-img check -q "$T/top0.qcow2"
"$SB/gimg" rebase -u -b base0.qcow2 -F qcow2 "$T/top0.qcow2"
is "$?:$(qemu-img info --output=json "$T/top0.qcow2" | sed -n 's/.*"backing-filename": "\(.*\)".*/\1/p')" \
   "0:base0.qcow2" "gimg rebase -u in the sandbox (qemu-img info)"
rm -f "$T"/*.qcow2 "$T"/before.raw "$T"/c.*

# the writers into guests: images opened read-write, sources read
attack gcopy-in "$SB/gcopy-in" -a "$T/rw.img" -m /dev/sda "$T/src/d" /
attack gtar-in "$SB/gtar-in" -a "$T/rw.img" -m /dev/sda "$T/in.tar" /
killed gcopy-in execve "$SB/gcopy-in" -a "$T/rw.img" -m /dev/sda "$T/src/d" /
ok "after the attacks: e2fsck -fn is clean" e2fsck -fn "$T/rw.img"

# /proc/PID/status of a sandboxed process (for gfsh: its worker)
status_of() {
    local name=$1; shift
    rm -f "$T/fifo" && mkfifo "$T/fifo"
    GK_SANDBOX_SELFTEST=status "$@" <"$T/fifo" >/dev/null 2>"$T/st.err" &
    local bg=$! pid= st=
    exec 4>"$T/fifo"
    for _ in $(seq 1 600); do
        pid=$(sed -n 's/^sandbox-selftest: status: pid \([0-9]*\)$/\1/p' "$T/st.err")
        [ -n "$pid" ] && break
        sleep 0.1
    done
    st=$( [ -n "$pid" ] && grep -E '^(Seccomp|NoNewPrivs):' "/proc/$pid/status" | tr -s '\t ' ' ' | tr '\n' ' ')
    gconv=$( [ -n "$pid" ] && grep -c '/gconv/' "/proc/$pid/maps")
    exec 4>&-
    wait "$bg"
    is "$st" "NoNewPrivs: 1 Seccomp: 2 " "$name: /proc/PID/status shows NoNewPrivs 1 and Seccomp 2"
}
status_of gcat "$SB/gcat" -a "$IMG" /etc/hostname
# no gconv module is loaded (/proc/PID/maps): the static hivex's charsets
# are converted by lib/recode.c, so inspection needs none in the sandbox
# (tests/72-windows.t reads Windows hives there)
is "$gconv" 0 "gcat -i: no gconv module loaded"
status_of "gcat -m" "$SB/gcat" -a "$IMG" -m /dev/debian/root /etc/hostname
is "$gconv" 0 "gcat -m: no gconv module loaded"
# GK_SB_NOTZ: these tools do not read /etc/localtime before entering (the
# sandbox refuses it later), so neither they nor a library they load may
# format local time (it would come out as UTC): nm of what they link
notz=$(cd "$TOP/tools" && grep -l 'GK_SB_NOTZ;' g*.c | sed 's/\.c$//')
ok "some tools skip tzset" test -n "$notz"
for tool in $notz; do
    libs=$(ldd "$GK_BIN/$tool" | awk '$3 ~ /^\// && $1 !~ /^(libc|ld-linux)/ {print $3}')
    got=$({ nm -u "$GK_BIN/$tool"; for l in $libs; do nm -D --undefined-only "$l"; done; } |
          grep -Eo '\<(localtime|localtime_r|mktime|timelocal|strftime|strftime_l|ctime|ctime_r|asctime|asctime_r|getdate|strptime)@' |
          sort -u | tr '\n' ' ')
    is "$got" "" "$tool (GK_SB_NOTZ): no local-time function linked"
done
status_of "gfsh (its worker)" "$SB/gfsh" -a "$IMG" -i cat /etc/hostname

# gfsh: the guest is in a sandboxed worker; the front end opens only the
# host files named on the command line (the attacks include asking it for
# others)
attack "gfsh -i" "$SB/gfsh" -a "$IMG" -i cat /etc/hostname
attack "gfsh run" "$SB/gfsh" -a "$IMG" run
attack "gfsh --rw" "$SB/gfsh" --rw -a "$T/rw.img" -m /dev/sda ls /
killed gfsh execve "$SB/gfsh" -a "$IMG" -i cat /etc/hostname
killed gfsh ptrace "$SB/gfsh" -a "$IMG" run
ok "gfsh: nothing was made in the working directory" test ! -e gk-sandbox-escape
# what the front end opens for the worker: the same files as without the
# sandbox (whose commands the other gfsh tests check against guestfish)
gf_host() { # DIR [--no-sandbox]
    mkdir -p "$1/co"
    "$SB/gfsh" ${2:-} -a "$IMG" -i download /etc/hostname "$1/dl" : copy-out /etc "$1/co" : \
        tar-out /etc "$1/etc.tar" : checksums-out sha256 /etc "$1/sums" : cat /etc/hostname
}
rm -rf "$T/h1" "$T/h2"
out=$(gf_host "$T/h1" 2>"$T/h1.err"); rc=$?
out0=$(gf_host "$T/h2" --no-sandbox 2>/dev/null)
is "$rc:$out:$(cat "$T/h1.err")" "0:$out0:" "gfsh: download, copy-out, tar-out, checksums-out in the sandbox: exit 0, no message"
ok "gfsh: the files it wrote are those of --no-sandbox" \
   diff -r --no-dereference "$T/h1" "$T/h2"
printf 'upload %s /up\ncopy-in %s /\ncat /up\ncat /d/f\n' "$T/src/d/f" "$T/src/d" >"$T/up.gfsh"
is "$("$SB/gfsh" --rw -a "$T/rw.img" -m /dev/sda -f "$T/up.gfsh" 2>&1)" "hello
hello" "gfsh: upload and copy-in read their sources through the front end"
is "$(debugfs -R 'cat /up' "$T/rw.img" 2>/dev/null):$(debugfs -R 'cat /d/f' "$T/rw.img" 2>/dev/null)" \
   "hello:hello" "... debugfs reads what they wrote"
h=$(gcat -a "$IMG" /etc/hostname)
is "$(printf 'cat /etc/hostname | tr a-z A-Z\n!echo on the host\ncat /etc/hostname\n' | "$SB/gfsh" -a "$IMG" -i 2>&1)" \
   "$(echo "$h" | tr a-z A-Z)
on the host
$h" "gfsh: | hostcmd gets the worker's output, !cmd runs, the next output is the terminal's again"
EDITOR="sed -i s/hello/edited/" "$SB/gfsh" --rw -a "$T/rw.img" -m /dev/sda edit /up
is "$(debugfs -R 'cat /up' "$T/rw.img" 2>/dev/null)" "edited" "gfsh edit: the front end runs \$EDITOR (debugfs)"
ok "gfsh: e2fsck -fn is clean" e2fsck -fn "$T/rw.img"

# hard links survive a sandboxed copy-out (the front end makes them,
# gk_host_linkat): link counts and one shared inode, as cp -a makes them
mkdir -p "$T/hsrc/d/sub" && echo one >"$T/hsrc/d/a" && ln "$T/hsrc/d/a" "$T/hsrc/d/b" &&
    ln "$T/hsrc/d/a" "$T/hsrc/d/sub/c" && echo two >"$T/hsrc/d/x"
mke2fs -q -F -t ext4 -d "$T/hsrc" "$T/hl.img" 4M >/dev/null 2>&1
cp -a "$T/hsrc/d" "$T/hcp"
"$SB/gfsh" -a "$T/hl.img" -m /dev/sda copy-out /d "$T/out"
links() { (cd "$1" && find . -printf '%n %p\n' | sort -k2 && stat -c %i a b sub/c | uniq | wc -l); }
is "$(links "$T/out/d")" "$(links "$T/hcp")" \
   "gfsh copy-out in the sandbox: hard links as cp -a makes them (link counts, one inode)"

# a worker killed with -9: its front end ends as it did and removes the
# worker's TMPDIR
scratch() { find "$TMPDIR" -maxdepth 1 -name 'guestkit-sandbox.*' | wc -l; }
rm -f "$T/fifo" && mkfifo "$T/fifo"
"$SB/gfsh" -a "$IMG" -i <"$T/fifo" >/dev/null 2>&1 &
gp=$!
exec 5>"$T/fifo"
w=
for _ in $(seq 1 300); do
    w=$(cat "/proc/$gp/task/$gp/children" 2>/dev/null)
    [ -n "$w" ] && [ "$(scratch)" = 1 ] && break
    sleep 0.1
done
had=$(scratch)
kill -9 $w
exec 5>&-     # the front end notices at its next command (here: the end)
rc=0; wait "$gp" || rc=$?
is "$rc:$had:$(scratch)" "137:1:0" "gfsh: worker killed (-9): the front end exits as it did, its TMPDIR is gone"

# gfedit: one sandboxed worker (fetch read-only, then store through the
# images the front end opened read-write), the editor and perl run by the
# front end
attack gfedit "$SB/gfedit" -a "$T/rw.img" -m /dev/sda /up -e 's/edited/again/'
killed gfedit execve "$SB/gfedit" -a "$T/rw.img" -m /dev/sda /up -e 's/edited/again/'
"$SB/gfedit" -a "$T/rw.img" -m /dev/sda /up -e 's/edited/perl/'
is "$?:$(debugfs -R 'cat /up' "$T/rw.img" 2>/dev/null)" "0:perl" "gfedit -e in the sandbox (debugfs)"
EDITOR="sed -i s/perl/editor/" "$SB/gfedit" -a "$T/rw.img" -m /dev/sda /up
is "$?:$(debugfs -R 'cat /up' "$T/rw.img" 2>/dev/null)" "0:editor" "gfedit with \$EDITOR in the sandbox (debugfs)"
ok "gfedit: e2fsck -fn is clean" e2fsck -fn "$T/rw.img"
# a key typed once serves both opens (read-only, then read-write): the
# front end keeps what it was given (stdin holds it once)
if C=$(fixture qcow2-crypt); then
    cp "$C/fs.qcow2" "$T/enc.qcow2"
    dec() { qemu-img convert --object "secret,id=s,file=$C/secret.txt" -O raw --image-opts \
                "driver=qcow2,file.filename=$T/enc.qcow2,encrypt.key-secret=s" "$T/enc.raw" &&
            debugfs -R 'cat /hello.txt' "$T/enc.raw" 2>/dev/null; }
    want="X$(dec)"
    rc=0; printf 'qcow2 pass\n' | "$SB/gfedit" --keys-from-stdin -a "$T/enc.qcow2" -m /dev/sda /hello.txt \
        -e 's/^/X/' 2>"$T/key.err" || rc=$?
    is "$rc:$(cat "$T/key.err"):$(dec)" "0::$want" "gfedit --keys-from-stdin: one key for both opens (qemu-img convert + debugfs)"
    rm -f "$T/enc.qcow2" "$T/enc.raw"
else
    _tap_result 1 "qcow2-crypt fixture"
fi
status_of gfedit env EDITOR=true "$SB/gfedit" -a "$T/rw.img" -m /dev/sda /up

# the switches: no sandbox, no attacks run, one warning
rc=0; out=$(GK_SANDBOX_SELFTEST=all "$SB/gcat" --no-sandbox -a "$IMG" /etc/hostname 2>"$T/ns.err") || rc=$?
is "$rc:$out:$(grep -c sandbox-selftest "$T/ns.err"):$(grep -c 'warning: running without the sandbox' "$T/ns.err")" \
   "0:$(gcat -a "$IMG" /etc/hostname):0:1" "--no-sandbox: no sandbox, one warning"
rc=0; GUESTKIT_NO_SANDBOX=1 GK_SANDBOX_SELFTEST=all "$SB/gcat" -a "$IMG" /etc/hostname >/dev/null 2>"$T/ns.err" || rc=$?
is "$rc:$(grep -c sandbox-selftest "$T/ns.err"):$(grep -c 'warning: running without the sandbox' "$T/ns.err")" \
   "0:0:1" "GUESTKIT_NO_SANDBOX=1: the same"
rc=0; GUESTKIT_NO_SANDBOX=0 GK_SANDBOX_SELFTEST=all "$SB/gcat" -a "$IMG" /etc/hostname >/dev/null 2>"$T/ns.err" || rc=$?
is "$rc:$(grep -c 'done, 0 allowed' "$T/ns.err")" "0:1" "GUESTKIT_NO_SANDBOX=0 keeps the sandbox"

# a kernel without Landlock (simulated in the test binaries): one warning,
# seccomp still holds
rc=0; out=$(GK_SANDBOX_SELFTEST_NOLANDLOCK=1 "$SB/gcat" -a "$IMG" /etc/hostname 2>"$T/nl.err") || rc=$?
is "$rc:$out:$(wc -l < "$T/nl.err"):$(grep -c 'has no Landlock' "$T/nl.err")" \
   "0:$(gcat -a "$IMG" /etc/hostname):1:1" "no Landlock: the answer and one warning line"
killed "no Landlock" execve env GK_SANDBOX_SELFTEST_NOLANDLOCK=1 "${gcat_args[@]}"

# -v says what was restricted
gcat -v -a "$IMG" /etc/hostname 2>"$T/v.err" >/dev/null
is "$(grep -c '^gcat: sandbox: no new privileges; Landlock ABI [0-9]*: no file system access' "$T/v.err"):$(grep -c '^gcat: sandbox: seccomp profile base' "$T/v.err"):$(grep -c '^gcat: sandbox: RLIMIT_NOFILE' "$T/v.err")" \
   "1:1:1" "-v: what was restricted (Landlock, seccomp, limits)"
ok "no scratch directory left behind" test -z "$(find "$TMPDIR" -maxdepth 1 -name 'guestkit-sandbox.*')"

done_testing
