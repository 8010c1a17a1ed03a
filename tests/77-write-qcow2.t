#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Writing guests held in qcow2 chains: gcopy-in, gfsh --rw, gtar-in and
# gfedit change an ext4 in the top image of a chain (a compressed base, an
# overlay with changes of its own, a new top; several cluster sizes), and
# the images below stay byte-identical.  Oracles: qemu-img check (the top
# is clean), qemu-img convert (qemu reads the whole chain) to a raw image
# that e2fsck -fn finds clean and the kernel mounts, showing the tree the
# same changes make through the kernel on a loop mount; for one variant
# also qemu-storage-daemon's FUSE export of the chain, loop-mounted.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root for loop mounts"
for t in gcopy-in gfsh gtar-in gfedit; do [ -x "$GK_BIN/$t" ] || skip_all "needs $t"; done
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
command -v perl >/dev/null || skip_all "needs perl"
mkdir -p "$T/m" "$T/s/etc" "$T/s/data"
export E2FSPROGS_FAKE_TIME=1700000000

# the guest's first contents (mke2fs -d) and what we copy in
printf 'root:x:0:0:root:/root:/bin/bash\nuser:x:1000:1000::/home/user:/bin/sh\n' >"$T/s/etc/passwd"
seeded_bytes 7 3000000 >"$T/s/data/old.bin"
mkdir -p "$T/in/tree/sub"
seeded_bytes 8 5000000 >"$T/in/tree/big"
printf 'small\n' >"$T/in/tree/sub/small"
ln -s sub/small "$T/in/tree/link"
chmod 0750 "$T/in/tree/sub"
mkdir -p "$T/tarsrc/t"
seeded_bytes 9 700000 >"$T/tarsrc/t/member"
tar -C "$T/tarsrc" -cf "$T/in.tar" t

listing() { # RAW-IMAGE: the tree through the kernel
    mount -o loop,ro "$1" "$T/m" || return 1
    python3 "$TOP/tests/treelist.py" "$T/m"
    umount "$T/m"
}

for variant in "64k:cluster_size=65536" "4k:cluster_size=4096" "2M:cluster_size=2097152" \
    "l2ext:extended_l2=on,cluster_size=65536"; do
    v=${variant%%:*} o=${variant#*:}
    rm -f "$T"/*.qcow2 "$T/base.raw"
    truncate -s 128M "$T/base.raw"
    mke2fs -q -F -t ext4 -d "$T/s" "$T/base.raw"
    qemu-img convert -q -c -f raw -O qcow2 -o "$o" "$T/base.raw" "$T/base.qcow2"
    qemu-img create -q -f qcow2 -o "$o" -b base.qcow2 -F qcow2 "$T/mid.qcow2"
    # the overlay gets changes of its own (gfsh), then is frozen under a new top
    if ! gfsh --rw -a "$T/mid.qcow2" -m /dev/sda write /etc/hostname mid : rm /data/old.bin 2>"$T/err"; then
        _tap_result 1 "$v: gfsh --rw into a one-level overlay: $(head -c 300 "$T/err")"
        continue
    fi
    ok "$v: the overlay: qemu-img check is clean" qemu-img check -q "$T/mid.qcow2"
    qemu-img create -q -f qcow2 -o "$o" -b mid.qcow2 -F qcow2 "$T/top.qcow2"
    below=$(cat "$T/base.qcow2" "$T/mid.qcow2" | sha256sum)

    # the same changes through the kernel, on a raw copy of the chain
    qemu-img convert -q -O raw "$T/mid.qcow2" "$T/k.raw"
    mount -o loop "$T/k.raw" "$T/m"
    cp -a "$T/in/tree" "$T/m/"
    mkdir "$T/m/new" && printf 'hello' >"$T/m/new/file" && chmod 0600 "$T/m/new/file"
    mv "$T/m/etc/hostname" "$T/m/etc/hostname.old"
    tar -C "$T/m/new" -xf "$T/in.tar"
    sed -i 's/^user:/USER:/' "$T/m/etc/passwd"
    umount "$T/m"

    rc=0
    gcopy-in -a "$T/top.qcow2" -m /dev/sda "$T/in/tree" / 2>"$T/err" || rc=$?
    gfsh --rw -a "$T/top.qcow2" -m /dev/sda mkdir /new : write /new/file hello : chmod 0600 /new/file : \
        mv /etc/hostname /etc/hostname.old 2>>"$T/err" || rc=$?
    gtar-in -a "$T/top.qcow2" -m /dev/sda "$T/in.tar" /new 2>>"$T/err" || rc=$?
    gfedit -a "$T/top.qcow2" -m /dev/sda /etc/passwd -e 's/^user:/USER:/' 2>>"$T/err" || rc=$?
    is "$rc:$(cat "$T/err")" "0:" "$v: gcopy-in, gfsh --rw, gtar-in, gfedit into the top of base <- mid <- top"
    is "$(cat "$T/base.qcow2" "$T/mid.qcow2" | sha256sum)" "$below" "$v: the backing images are byte-identical"
    ok "$v: qemu-img check of the top is clean" qemu-img check -q "$T/top.qcow2"
    is "$(qemu-img info --output=json "$T/top.qcow2" | jq -r '."backing-filename"')" "mid.qcow2" \
        "$v: the top still names its backing file"
    qemu-img convert -q -O raw "$T/top.qcow2" "$T/g.raw"
    ok "$v: e2fsck -fn of the chain as qemu reads it is clean" e2fsck -fn "$T/g.raw"
    listing "$T/g.raw" >"$T/g.list"; listing "$T/k.raw" >"$T/k.list"
    same_file "$T/g.list" "$T/k.list" "$v: the kernel sees the tree the same changes make through it" ||
        diag "$(diff "$T/k.list" "$T/g.list" | head -n 10)"
    # the issue's read-back oracle as well (one variant: CI time): qemu-
    # storage-daemon exports the written chain over FUSE, no copy made, and
    # the kernel loop-mounts the export
    if [ "$v" = 64k ] && command -v qemu-storage-daemon >/dev/null; then
        : >"$T/qsd.raw"
        if qemu-storage-daemon --blockdev driver=file,node-name=f,filename="$T/top.qcow2",read-only=on \
               --blockdev driver=qcow2,node-name=q,file=f,read-only=on \
               --export type=fuse,id=e,node-name=q,mountpoint="$T/qsd.raw",writable=off \
               --daemonize --pidfile "$T/qsd.pid" 2>"$T/qsd.err"; then
            listing "$T/qsd.raw" >"$T/q.list"
            same_file "$T/q.list" "$T/k.list" \
                "$v: through qemu-storage-daemon's FUSE export + a loop mount, the kernel sees the same tree" ||
                diag "$(diff "$T/k.list" "$T/q.list" | head -n 10)"
            kill "$(cat "$T/qsd.pid")"
            for _ in $(seq 1 100); do grep -q " $T/qsd.raw " /proc/self/mountinfo || break; sleep 0.1; done
        else
            _tap_result 1 "$v: qemu-storage-daemon FUSE export of the top: $(head -c 300 "$T/qsd.err")"
        fi
    fi
    # a refused change leaves the whole chain byte-identical
    all=$(cat "$T/base.qcow2" "$T/mid.qcow2" "$T/top.qcow2" | sha256sum)
    rc=0; gfsh --rw -a "$T/top.qcow2" -m /dev/sda mkdir /new 2>/dev/null || rc=$?
    is "$rc:$(cat "$T/base.qcow2" "$T/mid.qcow2" "$T/top.qcow2" | sha256sum)" "1:$all" \
        "$v: a refused change (mkdir of an existing name): the chain byte-identical"
done

done_testing
