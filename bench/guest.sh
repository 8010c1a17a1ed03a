#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The "3 GiB guest" of the benchmarks (bench/guest-tools.sh): a real-size
# Debian-like guest as a qcow2 chain, built once into
# ${GK_BENCH_DIR:-bench/out}/guest3g/ (re-running it does nothing once
# .done is there; BENCH_REBUILD=1 builds it again).
#
#   disk.raw      GPT, 3 GiB: p1 /boot ext4 256 MiB (grub.cfg, a 4 MiB
#                 vmlinuz), p2 an LVM PV: VG "bench" (4 MiB extents), LVs
#                 root (ext4, 2.5 GiB) and swap (mkswap, 128 MiB)
#   base.qcow2 mid.qcow2 guest.qcow2
#                 the same disk as a chain of three: base lacks /boot and
#                 the first 64 MiB of the root LV (superblock, group
#                 descriptors, the first inode tables: /etc is there),
#                 mid.qcow2 holds /boot, guest.qcow2 (the top) the root's
#                 first 64 MiB; so reading /etc/hostname goes through the
#                 whole chain
#   cbase.qcow2 cmid.qcow2 cguest.qcow2
#                 the same chain over a compressed base (`qemu-img convert
#                 -c` of base.qcow2; cmid and cguest are mid and guest
#                 rebased onto it), and flat.qcow2 the whole disk as one
#                 uncompressed qcow2 (issue 18's speed figures); added to a
#                 guest built before they existed on the next run
#   root.raw      the root LV's filesystem, dd'd back out of disk.raw (the
#                 anchor for debugfs rdump and 7zz x)
#   boot.raw      the /boot filesystem, likewise
#   root.uuid boot.uuid swap.uuid  the fixed UUIDs; hostname the hostname
#   lvs.json pvs.json  lvm's reports (the oracle for the layout)
#
# The root holds /etc (hostname, the host's os-release, fstab by UUID=),
# the host's /bin/bash and /bin/ls, the host's /var/lib/dpkg/status, and
# ~2 GB of data: copies of /usr/share/{doc,locale,man,i18n,zoneinfo,perl5,
# vim}, /usr/include, /usr/lib/{python3.11,gcc} (~55000 files, mostly
# small, some of several MB: ~1.3 GB), four 200 MB pseudo-random files (AES-CTR of
# zeros with a fixed key: the same bytes every time, incompressible) and a
# sparse 500 MB file with a little data at both ends.
#
# lvm2 runs over loop devices with a private configuration; there is no
# device-mapper here, so the LVs are made inactive (--driverloaded n -an
# -Zn) and the filesystems are written at their extents, as in
# test-images/lvm.sh.  Needs ~6 GB of disk while building, ~5 GB after.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${GK_BENCH_DIR:-$PWD/bench/out}/guest3g
compressed_chain() { # in $OUT, once base/mid/guest.qcow2 exist
    [ -e cguest.qcow2 ] && [ -e flat.qcow2 ] && return 0
    rm -f cbase.qcow2 cmid.qcow2 cguest.qcow2 flat.qcow2
    qemu-img convert -c -f qcow2 -O qcow2 base.qcow2 cbase.qcow2
    cp --sparse=always mid.qcow2 cmid.qcow2
    cp --sparse=always guest.qcow2 cguest.qcow2
    qemu-img rebase -u -f qcow2 -b cbase.qcow2 -F qcow2 cmid.qcow2
    qemu-img rebase -u -f qcow2 -b cmid.qcow2 -F qcow2 cguest.qcow2
    qemu-img convert -f qcow2 -O qcow2 guest.qcow2 flat.qcow2
    qemu-img compare -q -f qcow2 -F qcow2 guest.qcow2 cguest.qcow2
    qemu-img compare -q -f qcow2 -F qcow2 guest.qcow2 flat.qcow2
}
if [ -e "$OUT/.done" ] && [ -z "${BENCH_REBUILD:-}" ]; then
    cd "$OUT" && compressed_chain
    echo "$OUT: already built (BENCH_REBUILD=1 to build it again)"
    exit 0
fi
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
cd "$OUT"
rm -rf ./.done ./*.raw ./*.qcow2 ./*.json ./*.uuid ./hostname ./tree ./work
export SOURCE_DATE_EPOCH=1700000000
W=$OUT/work   # on the same disk as the images: the temporaries are big
mkdir -p "$W"
LOOPS=()
cleanup() {
    for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null || true; done
    rm -rf "$W"
}
trap cleanup EXIT

ROOT_UUID=67b3e5c0-0000-4000-8000-00000000b001
BOOT_UUID=67b3e5c0-0000-4000-8000-00000000b002
SWAP_UUID=67b3e5c0-0000-4000-8000-00000000b003
HOST=bench3g.example.org
MIB=1048576

# --- the root tree -----------------------------------------------------
T=$W/root
mkdir -p "$T"/{etc,bin,boot,dev,proc,sys,tmp,root,home,var/lib/dpkg,usr/share,data}
echo "$HOST" >"$T/etc/hostname"
cp -L /etc/os-release "$T/etc/os-release"
[ -e /etc/debian_version ] && cp /etc/debian_version "$T/etc/"
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$HOST" >"$T/etc/hosts"
cat >"$T/etc/fstab" <<EOF
# /etc/fstab: static file system information.
UUID=$ROOT_UUID / ext4 errors=remount-ro 0 1
UUID=$BOOT_UUID /boot ext4 defaults 0 2
/dev/mapper/bench-swap none swap sw 0 0
EOF
cp /bin/bash /bin/ls "$T/bin/"
cp /var/lib/dpkg/status "$T/var/lib/dpkg/status"
# many small files
for d in /usr/share/doc /usr/share/locale /usr/share/man /usr/include /usr/share/i18n \
         /usr/share/zoneinfo /usr/share/perl5 /usr/share/vim /usr/lib/python3.11 /usr/lib/gcc; do
    mkdir -p "$(dirname "$T$d")"
    cp -a "$d" "$T$d"
done
# a few large ones: incompressible, the same every time
rnd() { # FILE BYTES KEY: AES-128-CTR of BYTES zeros
    openssl enc -aes-128-ctr -nosalt -K "$3" -iv 00000000000000000000000000000000 \
        -in <(head -c "$2" /dev/zero) -out "$1"
}
for i in 1 2 3 4; do
    rnd "$T/data/random$i.bin" $((200 * 1000 * 1000)) 000102030405060708090a0b0c0d0e0$i
done
# sparse: 500 MB with 1 MiB of data at the start and 64 KiB at the end
head -c $MIB "$T/data/random1.bin" >"$T/data/sparse.img"
truncate -s $((500 * 1000 * 1000)) "$T/data/sparse.img"
dd if="$T/data/random2.bin" of="$T/data/sparse.img" bs=65536 count=1 \
    seek=$(((500 * 1000 * 1000 - 65536) / 65536)) conv=notrunc status=none
find "$T" -exec touch -h -d @1700000000 {} +
echo "root tree: $(du -sh --apparent-size "$T" | cut -f1) apparent, $(du -sh "$T" | cut -f1) allocated," \
     "$(find "$T" | wc -l) entries"

B=$W/boot
mkdir -p "$B/grub"
cat >"$B/grub/grub.cfg" <<EOF
set default=0
set timeout=5
menuentry 'Debian GNU/Linux' {
	search --no-floppy --fs-uuid --set=root $BOOT_UUID
	linux /vmlinuz-6.1.0-bench root=/dev/mapper/bench-root ro quiet
	initrd /initrd.img-6.1.0-bench
}
EOF
rnd "$B/vmlinuz-6.1.0-bench" $((4 * MIB)) 0f0e0d0c0b0a09080706050403020100
head -c $((2 * MIB)) "$B/vmlinuz-6.1.0-bench" >"$B/initrd.img-6.1.0-bench"
find "$B" -exec touch -h -d @1700000000 {} +

# --- the disk: GPT, p1 /boot, p2 the PV ------------------------------------
truncate -s $((3072 * MIB)) disk.raw
sgdisk -U 67b3e5c0-0000-4000-8000-0000000d15c0 \
    -n 1:2048:+256M -t 1:8300 -c 1:boot -u 1:67b3e5c0-0000-4000-8000-0000000a0001 \
    -n 2:0:0 -t 2:8e00 -c 2:lvm -u 2:67b3e5c0-0000-4000-8000-0000000a0002 disk.raw >/dev/null
p2start=$(sgdisk -i 2 disk.raw | awk '/^First sector/ {print $3}')
p2end=$(sgdisk -i 2 disk.raw | awk '/^Last sector/ {print $3}')

mke2fs -q -F -t ext4 -U "$BOOT_UUID" -E hash_seed="$BOOT_UUID" -L boot -d "$B" "$W/boot.fs" 256M
dd if="$W/boot.fs" of=disk.raw bs=$MIB seek=1 conv=notrunc,sparse status=none
rm -f "$W/boot.fs"

L=$(losetup -f --show --offset $((p2start * 512)) --sizelimit $(((p2end - p2start + 1) * 512)) disk.raw)
LOOPS+=("$L")
mkdir -p "$W/etc" "$W/lock"
cat >"$W/etc/lvm.conf" <<EOF
devices { filter = [ "a|^$L\$|", "r|.*|" ] use_devicesfile = 0 obtain_device_list_from_udev = 0 hints = "none" }
global { locking_dir = "$W/lock" }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
backup { backup = 0 archive = 0 }
EOF
export LVM_SYSTEM_DIR=$W/etc LVM_SUPPRESS_FD_WARNINGS=1
lvm() { command lvm "$@" 2> >(grep -v -e 'device-mapper' -e 'libdevmapper' -e 'mapper/control' \
    -e 'not zeroed' -e 'NOT backed up' -e 'Activation disabled' >&2); }
NOACT=(--driverloaded n -an -Zn -q)
lvm pvcreate -q --norestorefile -u gkBnch-0000-0000-0000-0000-0000-pv0001 "$L"
lvm vgcreate -q -s 4m bench "$L"
lvm lvcreate "${NOACT[@]}" -L 2560m -n root bench
lvm lvcreate "${NOACT[@]}" -L 128m -n swap bench
REPORT=(--reportformat json --units b --nosuffix)
lvm pvs "${REPORT[@]}" -o pv_name,vg_name,pv_size,pe_start,pv_pe_count | sed "s|$L|/dev/sda2|g" >pvs.json
lvm lvs --segments "${REPORT[@]}" -o vg_name,lv_name,lv_size,seg_pe_ranges,vg_extent_size |
    sed "s|$L|/dev/sda2|g" >lvs.json
pe_start=$(jq -r '.report[0].pv[0].pe_start' pvs.json)
esize=$(jq -r '.report[0].seg[0].vg_extent_size' lvs.json)
lvoff() { # LV: byte offset of its (single) segment within the PV
    local r
    r=$(jq -r --arg n "$1" '.report[0].seg[] | select(.lv_name == $n) | .seg_pe_ranges' lvs.json)
    r=${r#/dev/sda2:}
    echo $((pe_start + ${r%-*} * esize))
}
lvsize() { jq -r --arg n "$1" '.report[0].seg[] | select(.lv_name == $n) | .lv_size' lvs.json; }
root_off=$(lvoff root) root_size=$(lvsize root) swap_off=$(lvoff swap) swap_size=$(lvsize swap)

mke2fs -q -F -t ext4 -U "$ROOT_UUID" -E hash_seed="$ROOT_UUID" -L root -d "$T" "$W/root.fs" $((root_size / 1024))k
rm -rf "$T"
dd if="$W/root.fs" of="$L" bs=$MIB seek=$((root_off / MIB)) conv=notrunc,sparse status=none
rm -f "$W/root.fs"
truncate -s "$swap_size" "$W/swap"
mkswap -q -U "$SWAP_UUID" -L swap "$W/swap" >/dev/null
dd if="$W/swap" of="$L" bs=$MIB seek=$((swap_off / MIB)) conv=notrunc,sparse status=none
rm -f "$W/swap"
sync
losetup -d "$L"
LOOPS=()

# The filesystems back out of the disk: what the guest really holds (the
# anchors for debugfs and 7zz), checked by e2fsck.
disk_root=$((p2start * 512 + root_off))
[ $((disk_root % MIB)) = 0 ] && [ $((root_size % MIB)) = 0 ] || { echo "root LV not MiB-aligned" >&2; exit 1; }
dd if=disk.raw of=root.raw bs=$MIB skip=$((disk_root / MIB)) count=$((root_size / MIB)) conv=sparse status=none
dd if=disk.raw of=boot.raw bs=$MIB skip=1 count=256 conv=sparse status=none
for f in root.raw boot.raw; do
    e2fsck -fn "$f" >"$W/fsck" 2>&1 || { cat "$W/fsck" >&2; echo "$f: e2fsck -fn failed" >&2; exit 1; }
done

# The chain: base without /boot and the root's first 64 MiB; mid adds
# /boot; the top adds the root's head.
cp --sparse=always disk.raw "$W/holey.raw"
dd if=/dev/zero of="$W/holey.raw" bs=$MIB seek=1 count=256 conv=notrunc status=none
dd if=/dev/zero of="$W/holey.raw" bs=$MIB seek=$((disk_root / MIB)) count=64 conv=notrunc status=none
qemu-img convert -f raw -O qcow2 "$W/holey.raw" base.qcow2
rm -f "$W/holey.raw"
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 mid.qcow2
qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 guest.qcow2
qemu-io -f qcow2 -c "write -q -s boot.raw $MIB $((256 * MIB))" mid.qcow2
head -c $((64 * MIB)) root.raw >"$W/head"
qemu-io -f qcow2 -c "write -q -s $W/head $disk_root $((64 * MIB))" guest.qcow2
qemu-img compare -q -f raw -F qcow2 disk.raw guest.qcow2
compressed_chain

echo "$ROOT_UUID" >root.uuid
echo "$BOOT_UUID" >boot.uuid
echo "$SWAP_UUID" >swap.uuid
echo "$HOST" >hostname
touch .done
ls -ls
