#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Corrupt NTFS (and, below, corrupt registry hives): every variant that
# tests/ntfs-mutate.py makes of a small ntfs-3g-written image (boot sector,
# MFT records and attributes, runlists, index blocks with looping child
# pointers, random bytes) is listed, read whole, stat'ed and searched:
# each run must end within seconds, exit 0 or 1, with a "PROG: ..." message
# when it fails and no sanitizer report (this test also runs under
# ASan+UBSan in make check).
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"
D=$(fixture ntfs) || exit 1
BASE=$D/small.img
MUT=$TOP/tests/ntfs-mutate.py

# survives DESC CMD...: exit 0, or 1 with a message; no sanitizer report,
# no hang
survives() {
    local desc=$1; shift
    local rc=0
    timeout 60 "$@" >/dev/null 2>"$T/s.err" || rc=$?
    if { [ "$rc" = 0 ] || { [ "$rc" = 1 ] && grep -qE '^[a-z-]+: ' "$T/s.err"; }; } &&
        ! grep -qE 'Sanitizer|runtime error|Segmentation' "$T/s.err"; then
        _tap_result 0 "$desc"
    else
        _tap_result 1 "$desc"
        diag "exit status $rc" "$(head -n 12 "$T/s.err")"
    fi
}

# one gfsh run per variant: stat, list and read everything, look things
# up ignoring case, streams, links
cat >"$T/script" <<'EOF'
-statvfs /
-find /
-checksums-out md5 / /dev/null
-case-sensitive-path /D/FILE-WITH-A-LONGER-NAME-7.TXT
-case-sensitive-path /windows/SYSTEM32
-getxattrs /ads.txt
-lgetxattrs /d
-readlink /junction
-readlink /symlink
-readlink /interix
-ll /
EOF

n=$(python3 "$MUT" "$BASE" --count)
# every variant in the plain run, every third under the sanitizers (slower)
step=1
[ "$GK_SAN" = 1 ] && step=3
batch=24
for ((a = 0; a < n; a += batch * step)); do
    rm -f "$T"/*.img
    python3 "$MUT" "$BASE" "$a" $((a + batch * step)) "$step" "$T" >"$T/names"
    while read -r i name; do
        survives "$name: gfsh lists and reads everything" \
            gfsh -a "$T/$i.img" -m /dev/sda -f "$T/script"
    done <"$T/names"
done
ok "the unchanged image reads cleanly" gls -a "$BASE" -m /dev/sda -lR --checksum /

done_testing
