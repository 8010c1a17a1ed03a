#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fleet mode on bad input (also under ASan+UBSan): every hostile qcow2
# image of test-images/qcow2-hostile.sh in one ginspect --each run gives
# one JSON line each, with the message a single run gives, and no worker
# crashes; bad lists and option values are refused with one line.
# Oracle: the single-image ginspect run on each image.
. "$(dirname "$0")/lib.sh"
for t in ginspect gcat jq; do
    command -v $t >/dev/null || skip_all "$t not found"
done
H=$(fixture qcow2-hostile) || exit 1
ls "$H"/*.qcow2 >"$T/list"
n=$(wc -l <"$T/list")

rc=0
bounded 300 ginspect --each --jobs 2 --no-applications --from "$T/list" >"$T/out" 2>"$T/err" || rc=$?
is "$rc" 1 "hostile qcow2 images: exit status 1"
is "$(cat "$T/err")" "" "nothing on stderr"
is "$(jq -r .image "$T/out" | sort)" "$(sort "$T/list")" "hostile qcow2 images: one line each ($n)"
mism=0
while read -r img; do
    rc=0
    want=$(ginspect --json --no-applications -a "$img" 2>&1 >/dev/null) || rc=$?
    if [ "$rc" = 0 ]; then
        want="ok|null"
    else
        want="error|$(sed -n '$s/^ginspect: //p' <<<"$want")"
    fi
    got=$(jq -r --arg i "$img" 'select(.image == $i) | .status + "|" + (.error | tostring)' "$T/out")
    if [ "$got" != "$want" ]; then
        mism=$((mism + 1))
        diag "$img: got $got, a single run: $want"
    fi
done <"$T/list"
is "$mism" 0 "each the single run's status and message"
is "$(grep -c -E 'Sanitizer|runtime error|signal' "$T/out")" 0 "no worker crashed"

# bad lists and option values
printf '%s\n' "$H/base.qcow2" >"$T/l1"
printf 'a\0b\n' >"$T/nul"
fails_cleanly "--from a missing list" ginspect --each --from "$T/nope"
fails_cleanly "--from a list with a NUL byte" ginspect --each --from "$T/nul"
fails_cleanly "--from an empty list" ginspect --each --from /dev/null
fails_cleanly "--jobs 0" ginspect --each --jobs 0 --from "$T/l1"
fails_cleanly "--jobs x" ginspect --each --jobs x --from "$T/l1"
fails_cleanly "--timeout -1" ginspect --each --timeout -1 --from "$T/l1"
fails_cleanly "--memory 99999999999" ginspect --each --memory 99999999999 --from "$T/l1"
fails_cleanly "--from twice" ginspect --each --from "$T/l1" --from "$T/l1"
fails_cleanly "--sqlite without --each" ginspect --sqlite "$T/db" -a "$H/base.qcow2"
fails_cleanly "--sqlite into a directory" ginspect --each --sqlite "$T" --from "$T/l1"
# a failed run leaves no database it made (nor SQLite's companions), and
# never removes a file that was there
gone() { ! ls "$1"* >/dev/null 2>&1; }
fails_cleanly "--sqlite, --from a missing list" ginspect --each --sqlite "$T/dbm" --from "$T/nope"
ok "  ... the database it made is removed" gone "$T/dbm"
echo old >"$T/dbo"
fails_cleanly "--sqlite into an existing file" ginspect --each --sqlite "$T/dbo" --from "$T/l1"
is "$(cat "$T/dbo")" old "  ... which is left as it was"
fails_cleanly "--each --keys-from-stdin" ginspect --each --keys-from-stdin --from "$T/l1"
# SQLite failing (a file size limit: the write fails with EFBIG), while
# making the tables and while adding an image: one line, everything freed
# (LeakSanitizer checks the front end's exit), no worker report of a leak
for _ in $(seq 20); do printf '%s\n' "$H/base.qcow2"; done >"$T/l20"
fsize=(sh -c 'trap "" XFSZ; ulimit -f "$1"; shift; exec "$@"' sh) # KIB CMD...
fails_cleanly "--sqlite: SQLite fails making the tables" \
    "${fsize[@]}" 8 ginspect --each --no-applications --sqlite "$T/db8" --from "$T/l1"
ok "  ... named: making the tables" grep -q 'sqlite .*/db8: creating the tables: ' "$T/fc.err"
ok "  ... the database it made is removed" gone "$T/db8"
fails_cleanly "--sqlite: SQLite fails adding an image" \
    "${fsize[@]}" 100 ginspect --each --no-applications --sqlite "$T/db100" --from "$T/l20"
is "$(grep -c -E 'Sanitizer' "$T/fc.out")" 0 "  ... no worker leaked the front end's database"
ok "  ... the database it made is removed" gone "$T/db100"
rc=0
ginspect --each --no-applications --sqlite "$T/db" --from "$T/l1" >"$T/out" 2>&1 || rc=$?
is "$rc:$(grep -c -E 'Sanitizer' "$T/out")" "0:0" "--sqlite: the worker leaves the front end's database alone"
ok "  ... and a run that succeeds keeps it" test -s "$T/db"
fails_cleanly "gcat --json without --each" gcat --json -a "$H/base.qcow2" /etc/hostname
fails_cleanly "gcat --each without a file name" gcat --each -a "$H/base.qcow2"
done_testing
