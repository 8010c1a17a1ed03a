#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Corrupt NTFS and corrupt registry hives.  Every variant that
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
    leak_turn
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
# every fifth variant in the plain run, every eleventh under the
# sanitizers (slower), the two samples apart (the sanitizer run starts at
# the second variant); GK_BAD_STEP=1 runs them all (tests/long/run.sh)
step=5 first=0
[ "$GK_SAN" = 1 ] && step=11 first=1
[ -z "${GK_BAD_STEP:-}" ] || step=$GK_BAD_STEP first=0
batch=24
leak_sample 7
for ((a = first; a < n; a += batch * step)); do
    rm -f "$T"/*.img
    python3 "$MUT" "$BASE" "$a" $((a + batch * step)) "$step" "$T" >"$T/names"
    while read -r i name; do
        survives "$name: gfsh lists and reads everything" \
            gfsh -a "$T/$i.img" -m /dev/sda -f "$T/script"
        survives "$name: gfsh ntfs-3g-probe, ntfscat-i of \$MFT, \$UpCase" \
            gfsh -a "$T/$i.img" -- ntfs-3g-probe true /dev/sda : ntfscat-i /dev/sda 0 /dev/null : \
            ntfscat-i /dev/sda 10 /dev/null
    done <"$T/names"
done
leak_sample 1
ok "the unchanged image reads cleanly" gls -a "$BASE" -m /dev/sda -lR --checksum /

# ---- registry hives: each variant of tests/hive-mutate.py applied to the
# SOFTWARE and SYSTEM hives of a Windows tree (on ext4, made by mke2fs -d:
# inspection only needs the files), then inspected, exported by gwinreg
# and walked by gfsh's hivex-* commands
if command -v mke2fs >/dev/null && W=$(fixture windows); then
    HMUT=$TOP/tests/hive-mutate.py
    C=$T/win/Windows/System32/config
    mkdir -p "$C"
    python3 "$TOP/test-images/mkpe.py" "$T/win/Windows/System32/cmd.exe" x86_64
    cat >"$T/hscript" <<'EOF'
-hivex-open /Windows/System32/config/SOFTWARE unsafe:true
-hivex-root
-hivex-node-children 4128
-hivex-node-values 4128
-hivex-open /Windows/System32/config/SYSTEM
-hivex-root
-inspect-os
EOF
    hn=$(python3 "$HMUT" "$W/hives/win10.SOFTWARE" --count)
    leak_sample 7
    for i in $(seq "$first" "$step" $((hn - 1))); do
        name=$(python3 "$HMUT" "$W/hives/win10.SOFTWARE" "$i" "$C/SOFTWARE")
        python3 "$HMUT" "$W/hives/win10.SYSTEM" "$i" "$C/SYSTEM" >/dev/null
        rm -f "$T/hive.img"
        mke2fs -q -F -t ext4 -d "$T/win" "$T/hive.img" 8M
        survives "hive $name: ginspect" ginspect -a "$T/hive.img"
        survives "hive $name: gwinreg HKLM\\SOFTWARE" gwinreg -a "$T/hive.img" 'HKLM\SOFTWARE'
        survives "hive $name: gwinreg HKLM\\SYSTEM" gwinreg -a "$T/hive.img" 'HKLM\SYSTEM'
        survives "hive $name: gfsh hivex-*" gfsh -a "$T/hive.img" -m /dev/sda -f "$T/hscript"
    done
fi

done_testing
