#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Writes and reads through the ext driver's block cache on every block size
# mke2fs makes (1 KiB to 64 KiB): gcopy-in of a tree with a directory of
# several hundred entries, then the tree read back.  With 64 KiB blocks the
# cache has 16 slots, not 256: a write must forget the slot a read fills
# (it forgot another one, and files vanished from the directories being
# filled).  Oracles: e2fsck -fn, and debugfs rdump of the image against the
# source tree (diff -r).
. "$(dirname "$0")/lib.sh"
[ -x "$GK_BIN/gcopy-in" ] || skip_all "needs gcopy-in"
command -v debugfs >/dev/null || skip_all "needs debugfs"

S=$T/src
mkdir -p "$S/many" "$S/big/sub"
for i in $(seq 1 300); do echo "file $i" >"$S/many/f$i"; done
for i in $(seq 1 20); do head -c $((70000 + i)) /dev/zero | tr '\0' "$(printf '\\%03o' $((97 + i % 26)))" >"$S/big/sub/b$i"; done

for bs in 1024 4096 65536; do
    IMG=$T/fs-$bs.img
    truncate -s 128M "$IMG"
    mke2fs -q -F -t ext4 -b "$bs" "$IMG" 2>/dev/null
    rc=0; gcopy-in -a "$IMG" -m /dev/sda "$S/many" "$S/big" / 2>"$T/err" || rc=$?
    is "$rc:$(head -c 300 "$T/err")" "0:" "$bs-byte blocks: gcopy-in of 320 files"
    ok "... e2fsck -fn finds the filesystem clean" e2fsck -fn "$IMG"
    rm -rf "$T/out" && mkdir "$T/out"
    debugfs -R "rdump /many /big $T/out" "$IMG" >/dev/null 2>&1
    ok "... debugfs reads back the tree that was copied in" diff -r "$S" "$T/out"
    is "$(gcat -a "$IMG" -m /dev/sda /many/f300 /big/sub/b20 | md5sum)" \
       "$(cat "$S/many/f300" "$S/big/sub/b20" | md5sum)" "... and gcat reads it"
done
done_testing
