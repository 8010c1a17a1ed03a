#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Corrupt XFS images (test-images/xfs-hostile.sh: damage made with xfs_db
# and random bytes; xfs_repair -n finds each): reading them never crashes
# (this test also runs under ASan+UBSan) or hangs, and what reads the
# damaged structure refuses with a one-line "PROG: ..." message.
. "$(dirname "$0")/lib.sh"
D=$(fixture xfs-hostile) || skip_all "fixture xfs-hostile failed"
cd "$D" || exit 1

# Every read the tools do, in one gfsh session: commands prefixed with "-"
# go on after an error, as in guestfish.
survey() { # IMAGE
    cat >"$T/script" <<'EOF'
-find /
-ls /leaf
-ls /node
-cat /f
-cat /sf/a
-cat /ext.bin
-readlink /long
-lgetxattrs /attrs
-lgetxattrs /leafattrs
-lgetxattrs /nodeattrs
-lgetxattrs /remote
-statvfs /
EOF
    timeout 120 gfsh --format=raw -a "$1" -m /dev/sda -f "$T/script" >/dev/null 2>"$T/survey.err"
}

clean_exit() { # STATUS ERRFILE: 0 or 1, no sanitizer, every message "PROG: ..."
    [ "$1" = 0 ] || [ "$1" = 1 ] || return 1
    ! grep -qE 'Sanitizer|runtime error|Segmentation' "$2" || return 1
    ! grep -qvE '^[a-z-]+: ' "$2"
}

leak_sample 7
while IFS=$'\t' read -r img probe what; do
    rc=0
    leak_turn
    survey "$img" || rc=$?
    if clean_exit "$rc" "$T/survey.err"; then
        _tap_result 0 "$img: every read ends cleanly ($what)"
    else
        _tap_result 1 "$img: every read ends cleanly ($what)"
        diag "gfsh exit status $rc" "$(head -n 8 "$T/survey.err")"
    fi
    case $probe in
    open) fails_cleanly "$img: refused at mount" gls --format=raw -a "$img" -m /dev/sda / ;;
    ls) fails_cleanly "$img: gls -lR says where" gls --format=raw -a "$img" -m /dev/sda -lR --checksum / ;;
    cat:*)
        d=${probe#cat:}
        # every name of the directory: one of them goes through the damage
        mapfile -t names < <(gls --format=raw -a base-v5.img -m /dev/sda "$d" 2>/dev/null | sed "s|^|$d/|")
        fails_cleanly "$img: gcat of the ${#names[@]} names of $d says where" \
            gcat --format=raw -a "$img" -m /dev/sda "${names[@]}" ;;
    xattr:*)
        p=${probe#xattr:}
        printf 'lgetxattrs %s\n' "$p" >"$T/x"
        fails_cleanly "$img: lgetxattrs $p says where" gfsh --format=raw -a "$img" -m /dev/sda -f "$T/x" ;;
    missing:*)
        # names that are not there, hashing past every entry (xfs_db's hash,
        # see the fixture): the lookup walks on along the leaves
        d=${probe#missing:}
        timeout 60 gcat --format=raw -a "$img" -m /dev/sda $(sed "s|^|$d/|" high-names.txt) \
            >/dev/null 2>"$T/m.err"
        ok "$img: a lookup past the last leaf says where" \
            sh -c "grep -v 'No such file or directory' '$T/m.err' | grep -q '^gcat: '" ;;
    none) ;;
    esac
done <cases.txt
leak_sample 1

# the oracle saw the damage too: xfs_repair -n exits non-zero on each
# image damaged on purpose (random bytes may land where nothing reads them)
bad=$(awk -F'\t' '$2 == 0 && $1 !~ /^mut-/ {print $1}' repair.txt | tr '\n' ' ')
is "$bad" "" "xfs_repair -n finds the damage in every image damaged on purpose"
# and the bases are sound, so the failures above come from the damage
ok "base images read without error" sh -c "gls --format=raw -a base-v5.img -m /dev/sda -lR --checksum / >/dev/null && gls --format=raw -a base-v4.img -m /dev/sda -lR --checksum / >/dev/null"
done_testing
