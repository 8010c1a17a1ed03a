#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Phony Windows guests for inspection (nothing is booted): NTFS made by
# mkntfs with a Windows-like tree written through ntfs-3g's FUSE mount,
# registry hives made by hivexregedit --merge from the .reg text of
# test-images/windows-reg.py (into an empty hive from mkhive.py), cmd.exe a
# minimal PE executable (mkpe.py).  Fixed disk signatures, GPT GUIDs and
# NTFS serial numbers, so that recorded virt-inspector outputs stay valid.
#
#   win7.img       MBR 0x1e0b7e57: p1 "System Reserved", p2 C: (32-bit,
#                  PE32 cmd.exe); MountedDevices also names a D: on a disk
#                  that is not there
#   win2012r2.img  MBR 0x20122012: p1 C: with its systemroot spelt
#                  \WINDOWS; Select\Current = 2 (ControlSet002)
#   win10.img      MBR 0x10101010: p1 System Reserved, p2 C:, p3 D: (data,
#                  "Program Files" and "System Volume Information")
#   win11.img      GPT: ESP (FAT), MSR, C:, Recovery; C: by partition GUID
#   win2022.qcow2  GPT (as qcow2): ESP, MSR, C:
#   *.software.reg, *.system.reg   the .reg text each hive was made from
#   hives/         copies of the hives (oracle: hivexget, hivexregedit)
set -euo pipefail
OUT=$(realpath "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
cd "$OUT"
rm -rf ./*.img ./*.qcow2 ./*.reg hives
mkdir hives
W=$(mktemp -d)
M=$W/mnt
mkdir "$M"
cleanup() {
    mountpoint -q "$M" && umount "$M"
    rm -rf "$W"
}
trap cleanup EXIT

MiB=$((1024 * 1024))
# Partition starts (sectors) and sizes (MiB) shared by the layouts.
P1=2048

hive() { # NAME PREFIX REGFILE OUT
    python3 "$HERE/mkhive.py" "$4" "$1"
    hivexregedit --merge --prefix "$2" "$4" "$3"
}

ntfs() { # IMG SIZE_MIB LABEL SERIAL
    truncate -s "$2"M "$1"
    mkntfs -F -f -q -L "$3" -c 4096 "$1" >/dev/null 2>&1
    ntfslabel -q --new-serial="$4" "$1" >/dev/null
}

# A Windows C: drive: VERSION ARCH SYSTEMROOT SERIAL MOUNTED...
cdrive() {
    local v=$1 arch=$2 sr=$3 serial=$4
    shift 4
    python3 "$HERE/windows-reg.py" software "$v" >"$v.software.reg"
    python3 "$HERE/windows-reg.py" system "$v" "$@" >"$v.system.reg"
    hive SOFTWARE 'HKEY_LOCAL_MACHINE\SOFTWARE' "$v.software.reg" "hives/$v.SOFTWARE"
    hive SYSTEM 'HKEY_LOCAL_MACHINE\SYSTEM' "$v.system.reg" "hives/$v.SYSTEM"
    printf 'Windows Registry Editor Version 5.00\n\n[HKEY_USERS\\.DEFAULT\\Control Panel]\n\n[HKEY_USERS\\.DEFAULT\\Control Panel\\Desktop]\n"Wallpaper"=""\n"ScreenSaveActive"="1"\n' >"$W/default.reg"
    hive DEFAULT 'HKEY_USERS\.DEFAULT' "$W/default.reg" "hives/$v.DEFAULT"
    ntfs "$W/$v-c.fs" 64 "" "$serial"
    ntfs-3g "$W/$v-c.fs" "$M"
    mkdir -p "$M/$sr/System32/config" "$M/$sr/System32/drivers/etc" "$M/Program Files/7-Zip" \
        "$M/Users/Administrator/Documents" "$M/System Volume Information"
    cp "hives/$v.SOFTWARE" "$M/$sr/System32/config/SOFTWARE"
    cp "hives/$v.SYSTEM" "$M/$sr/System32/config/SYSTEM"
    cp "hives/$v.DEFAULT" "$M/$sr/System32/config/DEFAULT"
    python3 "$HERE/mkpe.py" "$M/$sr/System32/cmd.exe" "$arch"
    cp "$M/$sr/System32/cmd.exe" "$M/Program Files/7-Zip/7z.exe"
    printf '; for 16-bit app support\r\n[fonts]\r\n[extensions]\r\n[mci extensions]\r\n[files]\r\n[Mail]\r\nMAPI=1\r\n' \
        >"$M/$sr/win.ini"
    printf '# Copyright (c) 1993-2009 Microsoft Corp.\r\n127.0.0.1 localhost\r\n' \
        >"$M/$sr/System32/drivers/etc/hosts"
    printf 'notes of %s\r\n' "$v" >"$M/Users/Administrator/Documents/notes.txt"
    [ "$arch" = i386 ] || mkdir -p "$M/Program Files (x86)"
    umount "$M"
}
# A drive that is not C: (System Reserved, D:, Recovery): IMG SIZE LABEL SERIAL [data]
otherdrive() {
    ntfs "$1" "$2" "$3" "$4"
    if [ "${5:-}" = data ]; then
        ntfs-3g "$1" "$M"
        mkdir -p "$M/Program Files/App" "$M/System Volume Information" "$M/Data"
        echo "data drive" >"$M/Data/readme.txt"
        umount "$M"
    fi
}
place() { dd if="$1" of="$2" bs=512 seek="$3" conv=notrunc,sparse status=none; }
start_of() { echo $(( $1 * 512 )); }

# ---- Windows 7, 32-bit: System Reserved + C: on MBR ----
C=$((P1 + 16 * 2048))
cdrive win7 i386 Windows 7A7A7A7A7A7A7A7A C=mbr:1e0b7e57:$(start_of $C) D=mbr:deadbeef:1048576
otherdrive "$W/win7-sr.fs" 16 "System Reserved" 7B7B7B7B7B7B7B7B
truncate -s 96M win7.img
printf 'label: dos\nlabel-id: 0x1e0b7e57\nstart=%d, size=%d, type=7, bootable\nstart=%d, size=%d, type=7\n' \
    $P1 $((16 * 2048)) $C $((64 * 2048)) | sfdisk -q win7.img
place "$W/win7-sr.fs" win7.img $P1
place "$W/win7-c.fs" win7.img $C

# ---- Windows Server 2012 R2: one C: on MBR, \WINDOWS ----
cdrive win2012r2 x86_64 WINDOWS 2012201220122012 C=mbr:20122012:$(start_of $P1)
truncate -s 80M win2012r2.img
printf 'label: dos\nlabel-id: 0x20122012\nstart=%d, size=%d, type=7, bootable\n' $P1 $((64 * 2048)) |
    sfdisk -q win2012r2.img
place "$W/win2012r2-c.fs" win2012r2.img $P1

# ---- Windows 10: System Reserved + C: + D: on MBR ----
C=$((P1 + 16 * 2048)); D=$((C + 64 * 2048))
cdrive win10 x86_64 Windows 1010101010101010 C=mbr:10101010:$(start_of $C) D=mbr:10101010:$(start_of $D)
otherdrive "$W/win10-sr.fs" 16 "System Reserved" 10A010A010A010A0
otherdrive "$W/win10-d.fs" 16 Data 10D010D010D010D0 data
truncate -s 112M win10.img
printf 'label: dos\nlabel-id: 0x10101010\nstart=%d, size=%d, type=7, bootable\nstart=%d, size=%d, type=7\nstart=%d, size=%d, type=7\n' \
    $P1 $((16 * 2048)) $C $((64 * 2048)) $D $((16 * 2048)) | sfdisk -q win10.img
place "$W/win10-sr.fs" win10.img $P1
place "$W/win10-c.fs" win10.img $C
place "$W/win10-d.fs" win10.img $D

# ---- GPT layouts: ESP, MSR, C: (, Recovery) ----
ESP=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
MSR=E3C9E316-0B5C-4DB8-817D-F92DF00215AE
BASIC=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7
RECOVERY=DE94BBA4-06D1-4D40-A16A-BFD50179D6AC
esp() { # IMG
    truncate -s 16M "$1"
    mkfs.vfat -n SYSTEM -i 11EF0001 "$1" >/dev/null
}
gpt() { # IMG SIZE_MIB DISKGUID PARTGUID-PREFIX WITH_RECOVERY
    truncate -s "$2"M "$1"
    local args=(-U "$3"
        -n 1:2048:+16M -t 1:$ESP -c 1:"EFI system partition" -u 1:"$4"-000000000001
        -n 2:0:+16M -t 2:$MSR -c 2:"Microsoft reserved partition" -u 2:"$4"-000000000002
        -n 3:0:+64M -t 3:$BASIC -c 3:"Basic data partition" -u 3:"$4"-000000000003)
    [ "$5" = 1 ] && args+=(-n 4:0:+16M -t 4:$RECOVERY -c 4:"Recovery" -u 4:"$4"-000000000004)
    sgdisk "${args[@]}" "$1" >/dev/null
}
G11=11111111-2222-3333-4444
cdrive win11 x86_64 Windows 1111AAAA1111AAAA C=gpt:$G11-000000000003 E=gpt:$G11-00000000ffff
esp "$W/esp11.fs"
otherdrive "$W/win11-rec.fs" 16 Recovery 1111BBBB1111BBBB
gpt win11.img 120 11111111-0000-0000-0000-000000000011 $G11 1
place "$W/esp11.fs" win11.img 2048
place "$W/win11-c.fs" win11.img $((2048 + 32 * 2048))
place "$W/win11-rec.fs" win11.img $((2048 + 96 * 2048))

G22=22222222-2222-3333-4444
cdrive win2022 x86_64 Windows 2022AAAA2022AAAA C=gpt:$G22-000000000003
esp "$W/esp22.fs"
gpt "$W/win2022.raw" 100 22222222-0000-0000-0000-000000000022 $G22 0
place "$W/esp22.fs" "$W/win2022.raw" 2048
place "$W/win2022-c.fs" "$W/win2022.raw" $((2048 + 32 * 2048))
qemu-img convert -O qcow2 "$W/win2022.raw" win2022.qcow2
