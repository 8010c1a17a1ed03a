#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ext3/ext4 with a journal that needs recovery: we replay it in memory.
# Oracle: the same image replayed by e2fsck -E journal_only, read with
# debugfs; and the unreplayed image must be byte-identical afterwards.
. "$(dirname "$0")/lib.sh"

[ -x "$GK_BIN/gcat" ] && [ -x "$GK_BIN/gls" ] || skip_all "needs gcat and gls"
dir=$(fixture ext-journal) || skip_all "fixture ext-journal failed"
if [ ! -e "$dir/ext3-wrap.replayed.img" ]; then   # made by an older fixture script
    rm -f "$dir/.done"
    dir=$(fixture ext-journal) || skip_all "fixture ext-journal failed"
fi

for n in ext4 ext3 ext4-csum ext4-wrap ext3-wrap; do
    img=$dir/$n.img
    rep=$dir/$n.replayed.img
    before=$(sha256sum <"$img")

    debugfs -R 'cat /file.txt' "$rep" >"$T/$n.exp" 2>/dev/null
    debugfs -R 'cat /file.txt' "$img" >"$T/$n.stale" 2>/dev/null
    ok "$n: the unreplayed image reads differently (test is meaningful)" \
        bash -c "! cmp -s '$T/$n.exp' '$T/$n.stale'"
    ok "$n: gcat reads the file" bash -c "gcat -a '$img' -m /dev/sda /file.txt >'$T/$n.got'"
    same_file "$T/$n.got" "$T/$n.exp" "$n: file contents as after e2fsck's replay"

    # directory listing (the /dir block is journalled in ext4 and ext3)
    debugfs -R 'ls /dir' "$rep" 2>/dev/null | tr -s ' ' '\n' |
        grep -E '^[a-z][0-9]+$' | sort >"$T/$n.lsexp"
    gls -a "$img" -m /dev/sda /dir | sort >"$T/$n.lsgot"
    same_file "$T/$n.lsgot" "$T/$n.lsexp" "$n: directory listing as after replay"

    # every file of /dir, read through the replayed directory
    fail=0
    while read -r f; do
        a=$(gcat -a "$img" -m /dev/sda "/dir/$f" 2>&1)
        b=$(debugfs -R "cat /dir/$f" "$rep" 2>/dev/null)
        [ "$a" = "$b" ] || { diag "/dir/$f: got '$a' expected '$b'"; fail=1; }
    done <"$T/$n.lsexp"
    is "$fail" 0 "$n: files under /dir match"

    is "$(sha256sum <"$img")" "$before" "$n: the image was not modified"
done

# qcow2 on top of the unreplayed image: same result through the qcow2 driver
if command -v qemu-img >/dev/null; then
    qemu-img convert -f raw -O qcow2 "$dir/ext4.img" "$T/ext4.qcow2"
    ok "qcow2: gcat reads the file" bash -c "gcat -a '$T/ext4.qcow2' -m /dev/sda /file.txt >'$T/q.got'"
    same_file "$T/q.got" "$T/ext4.exp" "qcow2: file contents as after replay"
fi

# e2fsprogs' journal test images (those that need recovery): every regular
# file read through our replay must match debugfs rdump of the copy that
# e2fsck replayed.  Not handled: fast-commit blocks (j_recover_fast_commit,
# not replayed, like debugfs) and external journals.
corpus=/work/shared/corpus/ext-corrupt
if [ -d "$corpus" ]; then
    for gz in "$corpus"/*.img.gz; do
        n=$(basename "$gz" .img.gz)
        case $n in j_recover_fast_commit|f_ext_journal) continue ;; esac
        # s_feature_incompat (byte 1120) has RECOVER (0x4)?
        inc=$(gzip -dc "$gz" 2>/dev/null | head -c 1124 | tail -c 4 | od -An -tu4 | tr -d ' ')
        [ -n "$inc" ] && [ $((inc & 4)) != 0 ] || continue
        gzip -dc "$gz" >"$T/c.img"
        cp "$T/c.img" "$T/r.img"
        e2fsck -E journal_only -y "$T/r.img" >/dev/null 2>&1
        rm -rf "$T/d" && mkdir "$T/d"
        debugfs -R "rdump / $T/d" "$T/r.img" >/dev/null 2>&1
        (cd "$T/d" && find . -type f -exec sha256sum {} + | sed 's| \./| /|' |
            awk '$2 != "/journal" {print $1, $2}' | sort -k2) >"$T/c.exp"
        gls -a "$T/c.img" -m /dev/sda -lR --checksum=sha256 / 2>/dev/null |
            awk '$1 == "-" && $5 != "/journal" {print $4, $5}' | sort -k2 >"$T/c.got"
        same_file "$T/c.got" "$T/c.exp" "corpus $n: $(wc -l <"$T/c.exp") files as after e2fsck's replay"
    done
fi

done_testing
