#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gmount --ro over e2fsprogs' corrupt and unusual images
# (/work/shared/corpus/ext-corrupt): the daemon (in the foreground, its
# stderr kept, so sanitizer reports are seen) either refuses the image with
# exit 1 or serves it: find and cat of every file may fail file by file
# (EIO, EUCLEAN), but the daemon must not crash, the mount must still
# answer afterwards, and gumount must end it with the daemon exiting 0.
# Every step is under timeout; every mount is taken down on exit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-gmount.sh"

CORPUS=${GK_EXT_CORPUS:-/work/shared/corpus/ext-corrupt}
[ -d "$CORPUS" ] || skip_all "no corpus at $CORPUS"
TMO=20
[ "$GK_SAN" = 1 ] && TMO=60
# a fixed sample: every 10th image by name, every 25th under the
# sanitizers (GMOUNT_STEP=1: every one)
step=10
[ "$GK_SAN" = 1 ] && step=25
step=${GMOUNT_STEP:-$step}
M=$T/m
mkdir -p "$M"

n=0 served=0 refused=0
for gz in $(ls "$CORPUS"/*.img.gz | sort | awk -v s="$step" 'NR % s == 1'); do
    name=$(basename "$gz" .img.gz)
    gunzip -c "$gz" >"$T/img" 2>/dev/null || continue
    n=$((n + 1))
    gmount --no-fork --ro -a "$T/img" -m /dev/sda "$M" </dev/null 2>"$T/err" &
    pid=$!
    for _ in $(seq $((TMO * 10))); do
        is_mounted "$M" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if ! is_mounted "$M"; then
        rc=0; wait "$pid" || rc=$?
        if [ "$rc" = 1 ] && ! grep -qE 'Sanitizer|runtime error' "$T/err"; then
            refused=$((refused + 1))
        else
            _tap_result 1 "$name: refused with exit 1 and a message"
            diag "exit $rc" "$(head -n 12 "$T/err")"
        fi
        continue
    fi
    served=$((served + 1))
    timeout -k 5 $TMO find "$M" -printf '%p %s %l\n' >/dev/null 2>&1
    timeout -k 5 $TMO find "$M" -type f -exec cat {} + >/dev/null 2>&1
    timeout -k 5 $TMO getfattr -R -d -m - "$M" >/dev/null 2>&1
    alive=0; kill -0 "$pid" 2>/dev/null && timeout 10 stat "$M" >/dev/null 2>&1 && alive=1
    rc=0; timeout 60 gumount "$M" >/dev/null 2>&1 || rc=$?
    st=0; wait "$pid" || st=$?
    if [ "$alive" = 1 ] && [ "$rc" = 0 ] && [ "$st" = 0 ] && ! grep -qE 'Sanitizer|runtime error' "$T/err"; then
        :
    else
        _tap_result 1 "$name: served, still answering, unmounted cleanly"
        diag "alive=$alive gumount=$rc daemon exit=$st" "$(head -n 12 "$T/err")"
        fusermount3 -u -z "$M" 2>/dev/null
    fi
done
_tap_result 0 "$n corrupt images: $served served, $refused refused cleanly; no crash, every mount answered to the end"
ok "at least some of them were served (the daemon's error paths ran)" test "$served" -gt 3
done_testing
