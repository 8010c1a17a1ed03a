#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ext edge cases decided by the kernel (loop mounts are the oracle): corrupt
# extent trees (out of order, huge or zero length, pointing into the inode
# table, an index block pointing to itself, too deep, a wrong first key, a
# root claiming 5 entries), absurd i_size values, a directory's i_size_high
# with and without large_dir, and df of filesystems grown by resize2fs or
# with a bogus s_overhead_clusters.  For each: does stat succeed, does a read
# succeed, and are no bytes printed where the kernel gives none.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root for loop mounts"
export LC_ALL=C
M=$T/mnt
mkdir "$M" "$T/src"
head -c 8192 /dev/zero | tr '\0' A >"$T/src/f"
for i in $(seq 512); do echo SECRET; done >"$T/src/secret"
mke2fs -q -F -t ext4 "$T/probe.img" 8M >/dev/null 2>&1
mount -o loop,ro "$T/probe.img" "$M" 2>/dev/null || skip_all "cannot loop-mount ext4"
umount "$M"

# kernel IMG PATH: "stat=RC read=RC bytes=N" as the kernel sees PATH
kernel() {
    mount -o loop,ro "$1" "$M" || { echo "mount failed"; return; }
    local s=0 r=0
    stat "$M$2" >/dev/null 2>&1 || s=1
    cat "$M$2" >"$T/k.out" 2>/dev/null || r=1
    umount "$M"
    echo "stat=$s read=$r bytes=$(wc -c <"$T/k.out")"
}
# ours IMG PATH: the same through gfsh stat and gcat
ours() {
    local s=0 r=0
    gfsh -a "$1" -m /dev/sda stat "$2" >/dev/null 2>"$T/s.err" || s=1
    gcat -a "$1" -m /dev/sda "$2" >"$T/g.out" 2>"$T/g.err" || r=1
    echo "stat=$s read=$r bytes=$(wc -c <"$T/g.out")"
}

for c in order hugelen metadata zerolen maxroot self depth6 childkey; do
    img=$T/$c.img
    mke2fs -q -F -t ext4 -O ^metadata_csum -b 4096 -d "$T/src" "$img" 8M >/dev/null 2>&1
    python3 "$TOP/tests/ext-craft.py" "$img" "$c"
    want=$(kernel "$img" /f)
    is "$(ours "$img" /f)" "$want" "extent tree $c: as the kernel ($want)"
    ok "... no SECRET from another file" bash -c "! grep -q SECRET '$T/g.out'"
    ok "... the message says it is corrupt" grep -q "corrupt" "$T/g.err"
done

# i_size the file cannot have: the kernel's iget refuses the inode
printf 'hello\n' >"$T/src/small"
for size in 0x7fffffffffffffff 0x100000000000 0x8000000000000000; do
    img=$T/size.img
    mke2fs -q -F -t ext4 -b 4096 -d "$T/src" "$img" 8M >/dev/null 2>&1
    debugfs -w -R "sif /small size $size" "$img" >/dev/null 2>&1
    want=$(kernel "$img" /small)
    rc=0; timeout 60 gcat -a "$img" -m /dev/sda /small >"$T/g.out" 2>"$T/g.err" || rc=$?
    is "$(ours "$img" /small)" "$want" "i_size $size: as the kernel ($want)"
    ok "... says why" grep -q "bad i_size value" "$T/g.err"
    is "$(grep -o 'inode [0-9]*:' "$T/g.err" | wc -l)" 1 "... naming the inode once (no repeated prefix)"
done
# the largest size an extent file may have is accepted (a sparse file)
img=$T/size.img
mke2fs -q -F -t ext4 -b 4096 -d "$T/src" "$img" 8M >/dev/null 2>&1
debugfs -w -R "sif /small size 0xfffffffe000" "$img" >/dev/null 2>&1
want=$(mount -o loop,ro "$img" "$M" && stat -c %s "$M/small"; umount "$M")
is "$(gfsh -a "$img" -m /dev/sda filesize /small 2>&1)" "$want" "i_size 16 TiB - 8 KiB: accepted, as the kernel"

# a directory's i_size_high counts only with large_dir
mkdir -p "$T/src2/d" && echo x >"$T/src2/d/x"
for feat in "" "-O large_dir"; do
    img=$T/dir.img
    mke2fs -q -F -t ext4 $feat -d "$T/src2" "$img" 8M >/dev/null 2>&1
    debugfs -w -R "sif /d size_hi 1" "$img" >/dev/null 2>&1
    want=$(mount -o loop,ro "$img" "$M" && stat -c %s "$M/d"; umount "$M")
    is "$(gfsh -a "$img" -m /dev/sda stat /d | sed -n 's/^size: //p')" "$want" \
       "directory i_size_high ${feat:-without large_dir}: size as the kernel ($want)"
    is "$(gls -a "$img" -m /dev/sda /d)" x "... and it lists"
done

# df: resize2fs leaves s_overhead_clusters at 0; a bogus one is ignored
for opts in "-b 4096" "-b 1024" "-b 1024 -O meta_bg,^resize_inode" "-b 4096 -E resize=1000000"; do
    img=$T/df.img
    rm -f "$img"; truncate -s 64M "$img"
    mke2fs -q -F -t ext4 $opts "$img" 16M >/dev/null 2>&1
    resize2fs -f "$img" 64M >/dev/null 2>&1
    want=$(mount -o loop,ro "$img" "$M" && df -k --output=size,used,avail "$M" | tail -1 | tr -s ' '; umount "$M")
    is "$(gdf -a "$img" | tail -1 | awk '{print " " $2 " " $3 " " $4}')" "$want" \
       "gdf of a filesystem grown by resize2fs ($opts) = df on the kernel's mount"
done
debugfs -w -R "ssv overhead_clusters 7" "$img" >/dev/null 2>&1
want=$(mount -o loop,ro "$img" "$M" && df -k --output=size,used,avail "$M" | tail -1 | tr -s ' '; umount "$M")
is "$(gdf -a "$img" | tail -1 | awk '{print " " $2 " " $3 " " $4}')" "$want" \
   "a bogus s_overhead_clusters is recounted, as the kernel does"

done_testing
