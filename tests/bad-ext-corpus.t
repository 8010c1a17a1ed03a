#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# e2fsprogs' corrupt and unusual images (/work/shared/corpus/ext-corrupt),
# raw and wrapped in qcow2: gls -lR, gcat of every regular file, gdf and
# gcopy-out must each end with exit 0 or 1 (a clear error), never a signal,
# a sanitizer report or a hang (20 s of CPU each, 60 under the sanitizers).
# The plain stage runs every image raw with every tool, then as qcow2 with
# gls and gcat (gdf and gcopy-out read the same bytes through the same
# filesystem code whatever the image format); under the sanitizers (make
# check's ASan stage) each image takes one of the two ways, in turn.
# GK_LONG=1 runs both ways, with every tool, in both stages.  What the
# test costs is mostly process starts (375 images): the checks of a run's
# output are bash builtins, not a grep each.
. "$(dirname "$0")/lib.sh"

CORPUS=${GK_EXT_CORPUS:-/work/shared/corpus/ext-corrupt}
[ -d "$CORPUS" ] || skip_all "no corpus at $CORPUS"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"

# Some images hold 100 000+ files: copies go to tmpfs when there is one,
# and the sanitizer build gets more time (it is several times slower):
# CPU seconds, not wall time (see bounded in lib.sh).
TMO=20
[ "$GK_SAN" = 1 ] && TMO=60
OUT=$T/out
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    OUT=$(mktemp -d /dev/shm/gkcorpus.XXXXXX)
    trap 'rm -rf "$T" "$OUT"' EXIT
fi

# run LOG CMD...: 0 if CMD exited 0 or 1 without a sanitizer report in time
run() {
    local log=$1; shift
    local rc=0
    leak_turn
    bounded $TMO "$@" >"$log.out" 2>"$log.err" </dev/null || rc=$?
    local err=
    IFS= read -r -d '' err <"$log.err" || true
    if [ "$rc" -gt 1 ] || [[ $err =~ Sanitizer|runtime\ error|Segmentation|Aborted ]]; then
        diag "$* -> exit $rc" "$(head -n 12 "$log.err")"
        return 1
    fi
    return 0
}

# The regular files gls -lR listed: "- MODE SIZE PATH", the path from
# column 19 (a name with a newline is cut short: gcat then just fails).
# The first 200 (awk stops there itself: no head after it).
regular_files() { LC_ALL=C awk 'substr($0, 1, 2) == "- " { printf "%s%c", substr($0, 19), 0; if (++n == 200) exit }' "$1"; }

check_image() { # IMAGE FORMAT QUICK -> 0 if every tool behaved
    local img=$1 fmt=$2 quick=$3 bad=0 l=$T/log
    run "$l.ls" gls --format="$fmt" -a "$img" -m /dev/sda -lR / || bad=1
    local files=()
    if [ -s "$l.ls.out" ]; then
        mapfile -d '' -t files < <(regular_files "$l.ls.out")
    fi
    if [ ${#files[@]} -gt 0 ]; then
        run "$l.cat" gcat --format="$fmt" -a "$img" -m /dev/sda -- "${files[@]}" || bad=1
    else
        run "$l.cat" gcat --format="$fmt" -a "$img" -m /dev/sda /nonexistent || bad=1
    fi
    # gdf and gcopy-out read through the same filesystem code whatever
    # the image format: under the sanitizers the qcow2 pass stops here
    [ "$quick" = 1 ] && return $bad
    run "$l.df" gdf --format="$fmt" -a "$img" || bad=1
    # (the copy stays until the next image's; the EXIT trap removes the last)
    rm -rf "$OUT" && mkdir -p "$OUT"
    run "$l.cp" gcopy-out --format="$fmt" -a "$img" -m /dev/sda / "$OUT" || bad=1
    return $bad
}

both=1 quick=1
[ "$GK_SAN" = 1 ] && [ "${GK_LONG:-0}" != 1 ] && both=0
[ "${GK_LONG:-0}" = 1 ] && quick=0
i=0
leak_sample 7
for gz in "$CORPUS"/*.img.gz; do
    name=$(basename "$gz" .img.gz)
    i=$((i + 1))
    gunzip -c "$gz" > "$T/img.raw"
    if [ "$both" = 1 ] || [ $((i % 2)) = 1 ]; then
        rc=0; check_image "$T/img.raw" raw 0 || rc=$?
        _tap_result $rc "$name (raw)"
    fi
    rm -f "$T/img.qcow2"
    if { [ "$both" = 1 ] || [ $((i % 2)) = 0 ]; } &&
        qemu-img convert -q -f raw -O qcow2 "$T/img.raw" "$T/img.qcow2" 2>/dev/null; then
        rc=0; check_image "$T/img.qcow2" qcow2 "$quick" || rc=$?
        _tap_result $rc "$name (qcow2)"
    fi
    rm -f "$T/img.raw" "$T/img.qcow2"
done

# One error message must be the clear "PROG: message" kind.
gunzip -c "$CORPUS/f_desc_size_bad.img.gz" > "$T/d.raw" 2>/dev/null || true
if [ -s "$T/d.raw" ]; then
    run "$T/one" gcat -a "$T/d.raw" -m /dev/sda /nonexistent-file
    ok "error messages start with the tool name" grep -qE '^gcat: ' "$T/one.err"
fi

done_testing
