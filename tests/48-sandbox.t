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

SB=${GK_SELFTEST_BIN:-$TOP/build/selftest-bin}
[ -x "$SB/gcat" ] || skip_all "needs the selftest binaries (make selftest)"
[ "$GK_SAN" = 1 ] && skip_all "sanitizer builds run without Landlock and seccomp"
G=$(fixture guests) || skip_all "guests fixture failed"
E=$(fixture ext-trees) || skip_all "ext-trees fixture failed"
IMG=$G/debian.qcow2          # a qcow2 with a backing file
cp "$E/ext4.img" "$T/rw.img"

# a TMPDIR of our own: the scratch directories made for ginspect are
# looked for at the end (other test runs share /tmp)
mkdir -p "$T/tmpdir" && export TMPDIR=$T/tmpdir

victim=$T/victim
echo "host secret" > "$victim"
chmod 600 "$victim"
vstate() { sha256sum < "$victim"; stat -c '%a %u %g %s %Y %h' "$victim"; }
before=$(vstate)

mkdir -p "$T/out" "$T/src/d" && echo hello > "$T/src/d/f"
tar -C "$T/src" -cf "$T/in.tar" d

# NAME ARGS...: the whole attack list must be refused
attack() {
    local name=$1; shift
    local rc=0
    GK_SANDBOX_SELFTEST=all GK_SANDBOX_SELFTEST_VICTIM=$victim "$@" </dev/null \
        >"$T/at.out" 2>"$T/at.err" || rc=$?
    if [ "$rc" = 0 ] && grep -q '^sandbox-selftest: done, 0 allowed$' "$T/at.err" &&
       ! grep -q 'ALLOWED\|FAILED' "$T/at.err"; then
        _tap_result 0 "$name: every attack refused"
    else
        _tap_result 1 "$name: every attack refused"
        diag "exit $rc" "$(grep -v ': refused' "$T/at.err" | head -n 20)"
    fi
    is "$(vstate)" "$before" "$name: the host file is unchanged"
}

# NAME WHAT ARGS...: execve / ptrace must kill the process (SIGSYS)
killed() {
    local name=$1 what=$2; shift 2
    local rc=0
    GK_SANDBOX_SELFTEST=$what "$@" </dev/null >/dev/null 2>"$T/k.err" || rc=$?
    is "$rc:$(grep -c 'ALLOWED\|not killed' "$T/k.err")" "159:0" "$name: $what kills it (SIGSYS)"
}

gcat_args=("$SB/gcat" -a "$IMG" /etc/hostname)
attack gcat "${gcat_args[@]}"
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

# the writers into guests: images opened read-write, sources read
attack gcopy-in "$SB/gcopy-in" -a "$T/rw.img" -m /dev/sda "$T/src/d" /
attack gtar-in "$SB/gtar-in" -a "$T/rw.img" -m /dev/sda "$T/in.tar" /
killed gcopy-in execve "$SB/gcopy-in" -a "$T/rw.img" -m /dev/sda "$T/src/d" /
ok "after the attacks: e2fsck -fn is clean" e2fsck -fn "$T/rw.img"

# /proc/PID/status of a sandboxed process
rm -f "$T/fifo" && mkfifo "$T/fifo"
GK_SANDBOX_SELFTEST=status "$SB/gcat" -a "$IMG" /etc/hostname <"$T/fifo" >/dev/null 2>"$T/st.err" &
bg=$!
exec 4>"$T/fifo"
pid=
for _ in $(seq 1 600); do
    pid=$(sed -n 's/^sandbox-selftest: status: pid \([0-9]*\)$/\1/p' "$T/st.err")
    [ -n "$pid" ] && break
    sleep 0.1
done
st=$( [ -n "$pid" ] && grep -E '^(Seccomp|NoNewPrivs):' "/proc/$pid/status" | tr -s '\t ' ' ' | tr '\n' ' ')
exec 4>&-
wait "$bg"
is "$st" "NoNewPrivs: 1 Seccomp: 2 " "gcat: /proc/PID/status shows NoNewPrivs 1 and Seccomp 2"

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
