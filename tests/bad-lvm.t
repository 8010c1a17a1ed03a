#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile LVM2 metadata (test-images/lvm-hostile.sh: real PVs whose text was
# edited and checksums fixed): every case is a warning that names the
# problem, the bad VG is left out, the good VG next to it still works, and
# nothing crashes (this file runs again under ASan+UBSan).
. "$(dirname "$0")/lib.sh"

H=${GK_UNIT:-$(dirname "$GK_BIN")/tests}/unit-lvm-devices
[ -x "$H" ] || skip_all "needs $H (make check-build)"
if ! dir=$(fixture lvm-hostile); then
    echo "not ok 1 - fixture lvm-hostile"
    echo "1..1"
    exit 1
fi
cd "$dir"

# The control: the unedited PV assembles, so a skip below is the edit's doing.
rc=0
"$H" list h.img good.img >"$T/out" 2>"$T/err" || rc=$?
is "$rc" 0 "unedited: exit status"
ok "unedited: vgh is listed" grep -q '^vg vgh ' "$T/out"
ok "unedited: /dev/vgh/a opens" grep -q '^dev /dev/vgh/a vgh [^ ]* 1048576' "$T/out"

# case|what the warning must say
while IFS='|' read -r case want; do
    rc=0
    "$H" list "bad-$case.img" good.img >"$T/out" 2>"$T/err" || rc=$?
    is "$rc" 0 "$case: list exits 0"
    ok "$case: warning says \"$want\"" grep -qF -- "$want" "$T/err"
    ok "$case: no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error' '$T/err'"
    ok "$case: vgh left out" bash -c "! grep -q '^vg vgh ' '$T/out' && ! grep -q '^dev /dev/vgh/' '$T/out'"
    ok "$case: vgok still listed" grep -q '^dev /dev/vgok/ok vgok [^ ]* 524288' "$T/out"
    fails_cleanly "$case: reading /dev/vgh/a fails cleanly" "$H" cat /dev/vgh/a "bad-$case.img" good.img
done <<'EOF2'
truncated|LVM metadata line
deep|nested more than
huge-number|is too large
unterminated|unterminated string
pv-twice|is named twice
pv-key-twice|is named twice
lv-twice|LV b is named twice
extents|are beyond the end of PV
extents-end|extents 11-12 are beyond the end of PV
overlap|segments overlap
gap|segments leave a gap
absurd-extents|are beyond the end of PV
absurd-segments|bad segment_count
absurd-stripes|bad stripe_count
stripes-short|bad stripe_count
stripe-size|bad stripe_size
zero-extent-size|bad extent_size
pe-count|do not fit on /dev/sda
unknown-pv|unknown PV "pv7"
not-a-section|physical_volumes
no-segtype|bad start_extent, extent_count or type
vg-name|invalid VG name
lv-name|invalid LV name "../../b"
bad-text-crc|metadata checksum mismatch
bad-label|bad checksum
locn-range|out of range
locn-size|out of range
EOF2

# The same PV on two disks: which copy is right is unknowable.
rc=0
"$H" list h.img dup.img good.img >"$T/out" 2>"$T/err" || rc=$?
is "$rc" 0 "duplicate PV: exit status"
ok "duplicate PV: warned" grep -q 'is on more than one device; skipped' "$T/err"
ok "duplicate PV: vgh left out" bash -c "! grep -q '^vg vgh ' '$T/out'"

# A missing PV (m2.img not given): the VG is listed with it, the LV wholly
# on m1 works, the one spanning both names the missing PV.
rc=0
"$H" list m1.img >"$T/out" 2>"$T/err" || rc=$?
is "$rc" 0 "missing PV: exit status"
m2=gkH000-mis2-0000-0000-0000-0000-000004
ok "missing PV: VG lists it" grep -q "^vg vgm .* 2 1 $m2\$" "$T/out"
ok "missing PV: warned" grep -q "PV $m2 is missing" "$T/err"
ok "missing PV: span names it" grep -q "^dev /dev/vgm/span .*error: PV $m2 is missing" "$T/out"
ok "missing PV: one opens" grep -q '^dev /dev/vgm/one vgm [^ ]* 524288' "$T/out"
fails_cleanly "missing PV: reading span fails cleanly" "$H" cat /dev/vgm/span m1.img
"$H" cat /dev/vgm/one m1.img >"$T/one" 2>"$T/err"
# one is extents 0-1 of m1 (lvm.sh put it there); pe_start of a fresh PV is 1 MiB
dd if=m1.img of="$T/exp" bs=512K skip=2 count=1 status=none
same_file "$T/one" "$T/exp" "missing PV: one reads its extents"
done_testing
