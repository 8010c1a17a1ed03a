#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fleet mode: ginspect/gcat/gls --each over 200 small guests (made by
# test-images/mkfleet.sh).  The guests
# are qcow2 overlays (4 KiB clusters: ~20 KiB each) and links over the
# phony guests of test-images/guests.sh (Debian with LVM, a qcow2 chain,
# Fedora and RHEL-like rpm guests, Alpine, Arch, Ubuntu), mixed with
# broken ones (truncated qcow2, an unsupported version, a missing backing
# file) and names that do not exist.  Oracles: for every good guest the
# single-image `ginspect --json` of the same base (itself checked against
# virt-inspector's layout and rpm/dpkg in 50-ginspect.t), for every bad one
# the single-image run's error message; the SQLite output read back with
# the sqlite3 program; gcat and gls against their single-image output; an
# NBD URI (nbdkit) against the same image read locally.
. "$(dirname "$0")/lib.sh"
for t in ginspect gcat gls jq sqlite3 qemu-img; do
    command -v $t >/dev/null || skip_all "$t not found"
done
dir=$(fixture guests) || exit 1
F=$T/fleet
"$TOP/test-images/mkfleet.sh" "$F" "$dir" 200
ngood=$(grep -c '	good:' "$F/expect")
nbad=$(grep -c '	bad:' "$F/expect")
diag "$ngood good guests, $nbad bad ones, $(du -sh "$F" | cut -f1) of overlays"

# the single-image reports (the oracle), one per base
declare -A ref
for r in "$F"/ref/[0-9]*.qcow2; do
    i=$(basename "$r" .qcow2)
    ref[$i]=$(ginspect --json -a "$r" | jq -c .)
done

rc=0
t0=$(date +%s)
bounded 600 ginspect --each --jobs 2 --from "$F/list" --sqlite "$T/fleet.db" \
    >"$T/out" 2>"$T/err" || rc=$?
diag "ginspect --each over 200 guests: $(( $(date +%s) - t0 )) s"
is "$rc" 1 "ginspect --each: exit status 1 (some images failed)"
is "$(cat "$T/err")" "" "nothing on stderr (not a terminal: no progress line)"
is "$(wc -l <"$T/out")" 200 "one line per image"
ok "every line is one JSON object" jq -e 'type == "object"' "$T/out"
is "$(jq -r .image "$T/out" | sort)" "$(sort "$F/list")" "every image reported once, none lost"

# each image against its oracle (the reports compared as jq writes them,
# members in the order ginspect gives them)
# (from a file, which bash reads by blocks, not from a pipe byte by byte)
declare -A got_st got_insp
jq -r '[.image, .status + "|" + (.error | tostring), (.inspection | tojson)] | join("\t")' \
    "$T/out" >"$T/rows"
while IFS=$'\t' read -r img st insp; do
    got_st[$img]=$st
    got_insp[$img]=$insp
done <"$T/rows"
bad_good=0 bad_bad=0
while IFS=$'\t' read -r img what; do
    case $what in
    good:*)
        want=${ref[${what#good:}]}
        if [ "${got_insp[$img]}" != "$want" ] || [ "${got_st[$img]}" != "ok|null" ]; then
            bad_good=$((bad_good + 1))
            [ $bad_good -le 3 ] && diag "$img: ${got_st[$img]}: $(head -c 300 <<<"${got_insp[$img]}")"
        fi ;;
    bad:*)
        want=$(ginspect --json -a "$img" 2>&1 >/dev/null | sed 's/^ginspect: //')
        if [ -z "$want" ] || [ "${got_st[$img]}|${got_insp[$img]}" != "error|$want|null" ]; then
            bad_bad=$((bad_bad + 1))
            [ $bad_bad -le 3 ] && diag "$img: got ${got_st[$img]}, single run said: $want"
        fi ;;
    esac
done <"$F/expect"
is "$bad_good" 0 "all $ngood good guests: the report of single-image ginspect --json"
is "$bad_bad" 0 "all $nbad bad guests: an error line with the single-image run's message"
is "$(jq -r 'select(.status == "error") | .image' "$T/out" | sort)" \
   "$(grep '	bad:' "$F/expect" | cut -f1 | sort)" "exactly the bad ones failed"

# SQLite: the same facts, queried with sqlite3
q() { sqlite3 -batch -noheader "$T/fleet.db" "$1"; }
is "$(q 'SELECT count(*), count(DISTINCT image), min(position), max(position) FROM images')" \
   "200|200|1|200" "sqlite: 200 images, each once, positions 1..200"
is "$(q "SELECT image FROM images WHERE status = 'error' ORDER BY image")" \
   "$(grep '	bad:' "$F/expect" | cut -f1 | LC_ALL=C sort)" "sqlite: the failed images"
is "$(q "SELECT image, error FROM images WHERE status = 'error' ORDER BY image")" \
   "$(jq -r 'select(.status == "error") | .image + "|" + .error' "$T/out" | LC_ALL=C sort)" \
   "sqlite: their errors"
is "$(q 'SELECT i.image, o.root, o.distro, o.major_version, o.minor_version, o.hostname
         FROM operating_systems o JOIN images i USING (image_id) ORDER BY 1, 2')" \
   "$(jq -r '.image as $i | .inspection.operatingsystems[]? |
             [$i, .root, .distro, .major_version, .minor_version, .hostname] | join("|")' \
         "$T/out" | LC_ALL=C sort)" "sqlite: operating systems"
is "$(q 'SELECT i.image, count(*) FROM applications a JOIN images i USING (image_id)
         GROUP BY i.image ORDER BY 1')" \
   "$(jq -r '.image as $i | [.inspection.operatingsystems[]?.applications[]?] |
             select(length > 0) | $i + "|" + (length | tostring)' "$T/out" | LC_ALL=C sort)" \
   "sqlite: applications per image"
is "$(q "SELECT DISTINCT i.image FROM applications a JOIN images i USING (image_id)
         WHERE a.name = 'test-package' AND a.epoch = 1 ORDER BY 1")" \
   "$(jq -r 'select(.inspection.operatingsystems[]?.applications[]? |
                    .name == "test-package" and .epoch == 1) | .image' "$T/out" | LC_ALL=C sort -u)" \
   "sqlite: which images ship a package (with its epoch)"
is "$(q 'SELECT i.image, f.dev, f.type, ifnull(f.uuid, "") FROM filesystems f
         JOIN images i USING (image_id) ORDER BY 1, 2')" \
   "$(jq -r '.image as $i | .inspection.operatingsystems[]?.filesystems[] |
             [$i, .dev, .type, (.uuid // "")] | join("|")' "$T/out" | LC_ALL=C sort)" \
   "sqlite: filesystems"
rc=0
ginspect --each -a "$dir/alpine.img" --sqlite "$T/fleet.db" >/dev/null 2>"$T/err" || rc=$?
is "$rc:$(grep -c 'File exists' "$T/err")" "1:1" "--sqlite never appends to an existing file"

# -a and --from - (stdin), one at a time; old-style positional images
head -n 16 "$F/list" | tail -n 8 >"$T/list8"
ginspect --each --jobs 1 --from - <"$T/list8" >"$T/o1" 2>/dev/null
is "$(jq -r .image "$T/o1")" "$(cat "$T/list8")" "--jobs 1 --from -: input order"
ginspect --each "$dir/fedora.img" "$dir/arch.img" >"$T/o2"
is "$(jq -r .image "$T/o2" | sort)" "$dir/arch.img
$dir/fedora.img" "images as arguments (the old form)"

# URIs in the list: an export of nbdkit (read with libnbd) gives the
# local image's report; an export that does not exist, an error line
if command -v nbdkit >/dev/null; then
    . "$(dirname "$0")/lib-remote.sh"
    serve_bg p nbdkit -f -U "$T/nbd.sock" file dir="$dir" --readonly 2>/dev/null
    if wait_socket "$T/nbd.sock"; then
        printf '%s\n' "nbd+unix:///debian.img?socket=$T/nbd.sock" \
            "nbd+unix:///nope.img?socket=$T/nbd.sock" >"$T/uris"
        ginspect --each --from "$T/uris" >"$T/o4" 2>/dev/null
        is "$(jq -c 'select(.image | test("debian")) | .inspection' "$T/o4")" "${ref[0]}" \
           "an NBD URI in the list: the report of the same image read locally"
        is "$(jq -r 'select(.image | test("nope")) | .status' "$T/o4")" error \
           "an NBD export that does not exist: an error line"
    fi
fi

# a worker over --memory fails on its own (an error line, no crash)
ginspect --each --memory 20 -a "$(sed -n 3p "$F/list")" >"$T/o5" 2>/dev/null
is "$(jq -r '.status + " " + (.error | test("signal") | tostring)' "$T/o5")" "error false" \
   "--memory: a worker over it is an error line"

# a hostile image stalling on CPU (LUKS keyslots at the PBKDF2 bound of
# 20,000,000 iterations: tens of seconds for a wrong key) is stopped at
# --timeout and reported; the other image is not held up (a LUKS1 file is a
# luks image, as qemu probes it: its key is given for the image)
if L=$(fixture luks 2>/dev/null); then
    cp "$L/l1-xts.img" "$T/slow.img"
    for k in $(seq 0 7); do      # keyslot k's iterations: big-endian at 212 + 48k
        printf '\x01\x31\x2d\x00' | dd of="$T/slow.img" bs=1 seek=$((212 + 48 * k)) \
            conv=notrunc status=none
    done
    rc=0
    bounded 60 ginspect --each --timeout 1 --key "$T/slow.img:key:wrong" -a "$T/slow.img" \
        -a "$dir/alpine.img" >"$T/o3" 2>&1 || rc=$?
    is "$rc" 1 "CPU limit: exit status 1"
    is "$(jq -r '.status + " " + .error' <<<"$(grep slow.img "$T/o3")")" \
       "error $T/slow.img: stopped at the CPU time limit (--timeout 1)" "CPU limit: an error line"
    is "$(jq -r .status <<<"$(grep alpine.img "$T/o3")")" ok "CPU limit: the other image reported"
else
    _tap_result 0 "# SKIP fixture luks failed: CPU limit not checked"
fi

# gcat: one file from every image, lines prefixed with the image and a tab
sub=$(sed -n '1,12p' "$F/list")
exp=$(while read -r img; do
        gcat -a "$img" /etc/hostname 2>/dev/null | sed "s|^|$img\t|"
      done <<<"$sub" | sort)
rc=0
gcat --each --jobs 2 --from - /etc/hostname <<<"$sub" >"$T/g" 2>"$T/gerr" || rc=$?
is "$(sort "$T/g")" "$exp" "gcat --each: every image's file, prefixed"
is "$rc" 1 "gcat --each: exit 1 (a bad image among them)"
is "$(sort "$T/gerr")" "$(while read -r img; do
        gcat -a "$img" /etc/hostname 2>&1 >/dev/null | sed "s|^gcat: \($img: \)\{0,1\}|gcat: $img: |"
      done <<<"$sub" | sort)" "gcat --each: errors on stderr, each naming its image"
gcat --each --json --from - /etc/hostname <<<"$sub" >"$T/gj" 2>/dev/null
is "$(jq -r '.image as $i | .output | rtrimstr("\n") | select(. != "") | split("\n")[] |
             $i + "\t" + .' "$T/gj" | sort)" "$exp" "gcat --each --json: the same output"
is "$(jq -r 'select(.status != "ok") | .image' "$T/gj" | sort)" \
   "$(while read -r img; do gcat -a "$img" /etc/hostname >/dev/null 2>&1 || echo "$img"; done <<<"$sub" |
      sort)" "gcat --each --json: the images a single gcat fails on are errors"
# gls: plain and --csv -lR (the image as a first CSV field)
g1=$(sed -n 3p "$F/list") g2=$(sed -n 5p "$F/list")
gls --each -a "$g1" -a "$g2" /etc >"$T/l"
is "$(sort "$T/l")" "$( (gls -a "$g1" /etc | sed "s|^|$g1\t|"; gls -a "$g2" /etc | sed "s|^|$g2\t|") | sort)" \
   "gls --each: both listings, prefixed"
gls --each --csv -lR --time-t -a "$g1" /etc >"$T/l"
is "$(cat "$T/l")" "$(gls --csv -lR --time-t -a "$g1" /etc | sed "s|^|$g1,|")" \
   "gls --each --csv: the image is the first field"
# on a terminal (script(1) gives it one): a progress line on stderr only
if command -v script >/dev/null; then
    script -qec "ginspect --each --jobs 1 -a '$g1' -a '$g2' >'$T/tty.out'" /dev/null \
        </dev/null >"$T/tty" 2>&1
    ok "a terminal gets a progress line" grep -q "ginspect: 1/2 images done, 0 failed, 1 running" "$T/tty"
    is "$(jq -r .status "$T/tty.out")" "ok
ok" "... and standard output the JSON lines"
fi
fails_cleanly "--each options without --each are refused" gls --jobs 2 -a "$g1" /
fails_cleanly "--each with --xml is refused" ginspect --each --xml -a "$g1"
diag "$SECONDS s in all"
done_testing
