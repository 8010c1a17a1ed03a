#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Writing to corrupt filesystems: every image of the corrupt corpus
# (e2fsprogs' test images, /work/shared/corpus/ext-corrupt) is opened
# read-write and changed (gfsh --rw mkdir, then a file).  Each run must end
# with exit 0 or a clean exit 1 (no crash, no sanitizer report, within the
# time limit); a refused change must leave the image byte-identical; an
# accepted one must not make e2fsck -fn find more than before (we repair
# nothing and spread nothing).  Also under ASan+UBSan (make check).
. "$(dirname "$0")/lib.sh"

corpus=${GK_EXT_CORPUS:-/work/shared/corpus/ext-corrupt}
[ -d "$corpus" ] || skip_all "no corpus at $corpus"
[ -x "$GK_BIN/gfsh" ] || skip_all "needs gfsh"

# The checks of a run's stderr are bash builtins, not a grep or two per
# image (375 images, each run twice: plain and under ASan).
crash_re='Sanitizer|runtime error|Segmentation|Aborted'
sane() { # RC ERRFILE: exit 0/1, no sanitizer or crash
    [ "$1" = 0 ] || [ "$1" = 1 ] || return 1
    local err=
    if IFS= read -r -d '' err <"$2"; then
        ! grep -qaE "$crash_re" "$2"     # a NUL byte, where read stops
    else
        [[ ! $err =~ $crash_re ]]
    fi
}
why() { # ERRFILE: its first 120 bytes but "no journal" lines, one line
    local LC_ALL=C line out= err=
    IFS= read -r -d '' err <"$1" || true
    while IFS= read -r line; do
        [[ $line == *"no journal"* ]] || out+=$line$'\n'
    done <<<"$err"
    out=${out:0:120}
    while [[ $out == *$'\n' ]]; do out=${out%$'\n'}; done
    printf '%s' "$out"
}
refused=0 accepted=0
leak_sample 7
for gz in "$corpus"/*.img.gz; do
    n=${gz##*/} n=${n%.img.gz}
    gzip -dc "$gz" >"$T/c.img" 2>/dev/null || continue
    before=$(sha256sum <"$T/c.img")
    leak_turn
    rc=0; timeout 60 gfsh --rw -a "$T/c.img" -m /dev/sda mkdir /gk-probe >/dev/null 2>"$T/err" || rc=$?
    if ! sane $rc "$T/err"; then
        _tap_result 1 "$n: mkdir: exit $rc"
        diag "$(head -n 5 "$T/err")"
        continue
    fi
    if [ $rc = 1 ]; then
        is "$(sha256sum <"$T/c.img")" "$before" "$n: refused ($(why "$T/err")): byte-identical"
        refused=$((refused + 1))
        continue
    fi
    accepted=$((accepted + 1))
    # a file too, after which e2fsck may find no more than it did before
    cp "$T/c.img" "$T/mid.img"
    leak_turn
    rc=0; timeout 60 gfsh --rw -a "$T/c.img" -m /dev/sda write /gk-probe/f hello >/dev/null 2>"$T/err" || rc=$?
    if ! sane $rc "$T/err"; then
        _tap_result 1 "$n: write: exit $rc"
        diag "$(head -n 5 "$T/err")"
        continue
    fi
    [ $rc = 1 ] && is "$(sha256sum <"$T/c.img")" "$(sha256sum <"$T/mid.img")" "$n: write refused: byte-identical"
    [ "$GK_SAN" = 1 ] && continue      # e2fsck's verdicts need no sanitizer
    gzip -dc "$gz" >"$T/orig.img"
    fb=0; timeout 30 e2fsck -fn "$T/orig.img" >/dev/null 2>&1 || fb=$?
    fa=0; timeout 30 e2fsck -fn "$T/c.img" >/dev/null 2>&1 || fa=$?
    if [ $fb -ge 124 ] || [ $fa -ge 124 ]; then
        diag "$n: e2fsck took too long (skipped)"
        continue
    fi
    ok "$n: written; e2fsck -fn exit $fa, before $fb: not worse" test $((fa & 12)) -le $((fb & 12)) -a \( $fb != 0 -o $fa = 0 \)
done
diag "corpus: $refused refused, $accepted accepted"
done_testing
