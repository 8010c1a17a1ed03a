# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the sandbox tests (sourced after tests/lib.sh): a host file the
# attacks aim at, and the two checks.  The attacks live in the test
# binaries of build/selftest-bin only (tools/sandbox-selftest.c, make
# selftest); the oracles are the kernel's answers (EACCES/EPERM, death by
# SIGSYS) and the victim file's bytes and metadata before and after.
SB=${GK_SELFTEST_BIN:-$TOP/build/selftest-bin}
[ -x "$SB/gcat" ] || skip_all "needs the selftest binaries (make selftest)"
[ "$GK_SAN" = 1 ] && skip_all "sanitizer builds run without Landlock and seccomp"

victim=$T/victim
echo "host secret" > "$victim"
chmod 600 "$victim"
vstate() { sha256sum < "$victim"; stat -c '%a %u %g %s %Y %h' "$victim"; }
before=$(vstate)

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

