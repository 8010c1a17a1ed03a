#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Inspection of hostile guests (test-images/guests-hostile.sh): huge and
# looping release files, links pointing out of the guest, a truncated and
# a lying rpmdb.sqlite, the BerkeleyDB rpm database; then e2fsprogs'
# corrupt images.  Clear warnings, a report of what could be read, never a
# crash (this file runs again under ASan+UBSan).
. "$(dirname "$0")/lib.sh"
command -v ginspect >/dev/null || skip_all "ginspect not built"
command -v jq >/dev/null || skip_all "jq not installed"
dir=$(fixture guests-hostile) || exit 1
# a cache built by an older guests-hostile.sh: build it again
if [ ! -e "$dir/badutf8.img" ]; then
    rm -f "$dir/.done"
    dir=$(fixture guests-hostile) || exit 1
fi

# run IMG: JSON on $T/out.json, stderr on $T/err, status in $rc
run() {
    rc=0
    timeout 120 ginspect --json -a "$dir/$1" >"$T/out.json" 2>"$T/err" || rc=$?
}
q() { jq -r ".operatingsystems[0].$1 // \"-\"" "$T/out.json"; }
clean() { ! grep -qE 'Sanitizer|runtime error|Segmentation' "$T/err"; }

run big.img
is "$rc" 0 "big: exit 0"
ok "big: no sanitizer report" clean
ok "big: os-release of 100 MB refused with a warning" grep -q '^ginspect: warning: /dev/sda: /etc/os-release: file too large' "$T/err"
is "$(q product_name)" "12.4" "big: falls back to /etc/debian_version"
ok "big: 10 MB dpkg line truncated with a warning" grep -q 'dpkg/status: line longer than' "$T/err"
is "$(jq -r '[.operatingsystems[0].applications[].name] | join(" ")' "$T/out.json")" "after huge small" \
   "big: packages before and after the long line still listed"
ok "big: 2 MB fstab refused with a warning" grep -q '/etc/fstab: file too large' "$T/err"
is "$(jq -r '[.operatingsystems[0].mountpoints[] | "\(.dev)=\(.mountpoint)"] | join(" ")' "$T/out.json")" \
   "/dev/sda=/" "big: without a usable fstab the root is /"

run links.img
is "$rc" 0 "links: exit 0"
ok "links: no sanitizer report" clean
ok "links: os-release link loop warned" grep -q '/etc/os-release: Too many levels of symbolic links' "$T/err"
is "$(q product_name)" "guest-passwd-line 7.3" \
   "links: /../../../../etc/passwd resolved inside the guest, not on the host"
is "$(q major_version).$(q minor_version)" "7.3" "links: version from the guest's file"
is "$(q arch)" "$(uname -m)" "links: /bin/bash loops, /bin/ls gives the arch"
is "$(q hostname)" "-" "links: hostname link to /proc/self/environ (not in the guest) ignored"

run badutf8.img
is "$rc" 0 "badutf8: exit 0"
ok "badutf8: no sanitizer report" clean
ok "badutf8: JSON is strict UTF-8 JSON" python3 -c 'import json, sys; json.load(open(sys.argv[1], encoding="utf-8"))' "$T/out.json"
is "$(q product_name)" "Deb$(printf '\xef\xbf\xbd\xef\xbf\xbd')ian $(printf '\xef\xbf\xbd')" \
   "badutf8: invalid bytes and control characters become U+FFFD"
timeout 60 ginspect -a "$dir/badutf8.img" >"$T/u8.xml" 2>/dev/null
ok "badutf8: XML is well-formed and valid" xmllint --noout --relaxng "$TOP/tools/ginspect.rng" "$T/u8.xml"

run rpmtrunc.img
is "$rc" 0 "rpmtrunc: exit 0"
ok "rpmtrunc: no sanitizer report" clean
ok "rpmtrunc: clear warning about the rpm database" grep -q 'rpmdb.sqlite: .*malformed\|rpmdb.sqlite: cannot read\|rpmdb.sqlite: reading' "$T/err"
is "$(q distro)" "fedora" "rpmtrunc: the OS is still reported"
is "$(jq '.operatingsystems[0].applications | length' "$T/out.json")" "0" "rpmtrunc: no applications"

run rpmlie.img
is "$rc" 0 "rpmlie: exit 0"
ok "rpmlie: no sanitizer report" clean
is "$(jq -r '.operatingsystems[0].applications[] | "\(.name) \(.version) \(.release)"' "$T/out.json")" \
   "$(cat "$dir/good.txt")" "rpmlie: the good headers = rpm -qa on the db they came from"
ok "rpmlie: lying headers warned" grep -q 'package 1: RPM header: bad sizes' "$T/err"
ok "rpmlie: warning about an offset outside the data store" grep -q 'outside the .*-byte data store' "$T/err"
ok "rpmlie: total count of bad headers" grep -q '13 bad package headers in all' "$T/err"

run rpmview.img
is "$rc" 0 "rpmview: exit 0 (no endless query)"
ok "rpmview: a view named Packages refused with a warning" grep -q '"Packages" is a view, not a table' "$T/err"
is "$(q distro)" "fedora" "rpmview: the OS is still reported"

run rpmvtab.img
is "$rc" 0 "rpmvtab: exit 0"
ok "rpmvtab: a virtual table named Packages refused" grep -q '"Packages" is a virtual table' "$T/err"

run rpmwal.img
is "$rc" 0 "rpmwal: exit 0"
ok "rpmwal: no sanitizer report" clean
is "$(jq -r '.operatingsystems[0].applications[] | "\(.name) \(.version) \(.release)"' "$T/out.json")" \
   "$(cat "$dir/good.txt")" "rpmwal: a WAL of garbage is ignored, the database read"

run rpmbdb.img
is "$rc" 0 "rpmbdb: exit 0"
ok "rpmbdb: BerkeleyDB: not supported yet" grep -q 'BerkeleyDB rpm database is not supported yet' "$T/err"

# e2fsprogs' corrupt images: no OS in them, so exit 1 with a message, or
# exit 0; never a crash or a hang.
corpus=/work/shared/corpus/ext-corrupt
if [ -d "$corpus" ]; then
    n=0 bad=0
    leak_sample 7
    for gz in "$corpus"/*.img.gz; do
        n=$((n + 1))
        [ "$GK_SAN" = 1 ] && [ $((n % 4)) != 0 ] && continue
        gunzip -c "$gz" >"$T/c.img" 2>/dev/null || continue
        rc=0
        leak_turn
        timeout 60 ginspect -a "$T/c.img" >/dev/null 2>"$T/err" || rc=$?
        if { [ "$rc" != 0 ] && [ "$rc" != 1 ]; } || ! clean; then
            bad=$((bad + 1))
            diag "$(basename "$gz"): exit $rc: $(head -n 3 "$T/err")"
        fi
    done
    is "$bad" 0 "e2fsprogs corrupt images: ginspect exits 0 or 1, no sanitizer report"
fi
done_testing
