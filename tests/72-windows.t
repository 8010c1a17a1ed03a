#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Windows guests (test-images/windows.sh): ginspect against virt-inspector's
# XML recorded on the same images (tests/recorded/, field by field, with
# the differences ginspect(1) documents), the registry values against
# hivexget / hivexregedit / hivexsh on the same hive files, drive letters
# against the partition tables sfdisk and sgdisk wrote, files read through
# C:\ paths against ntfscat, gwinreg against hivexregedit --export and the
# recorded virt-win-reg output.
. "$(dirname "$0")/lib.sh"
for t in hivexget hivexregedit hivexsh ntfscat xmllint; do
    command -v $t >/dev/null || skip_all "$t not installed"
done
D=$(fixture windows) || exit 1
R=$TOP/tests/recorded
H=$D/hives
export LC_ALL=C.UTF-8
xp() { xmllint --xpath "$2" "$1" 2>/dev/null; }

# ---- ginspect = virt-inspector, field by field ----
for v in win7 win2012r2 win10 win11 win2022; do
    img=$D/$v.img
    [ $v = win2022 ] && img=$D/$v.qcow2
    ginspect -a "$img" >"$T/$v.xml" 2>"$T/$v.err"
    is "$(cat "$T/$v.err")" "" "$v: ginspect: no messages"
    ok "$v: XML validates against ginspect.rng" xmllint --noout --relaxng "$TOP/tools/ginspect.rng" "$T/$v.xml"
    # virt-inspector 1.48 predates <build_id> (newer versions print it)
    is "$(xp "$T/$v.xml" 'string(//build_id)')" "$(hivexget "$H/$v.SOFTWARE" 'Microsoft\Windows NT\CurrentVersion' CurrentBuildNumber)" \
       "$v: build_id = CurrentBuildNumber (hivexget)"
    grep -v '<build_id>' "$T/$v.xml" >"$T/$v.cmp"
    if [ $v = win11 ]; then
        # 1.48 says win10 for every 10.0 client; 1.56 tells 11 by the build
        is "$(xp "$T/$v.xml" 'string(//osinfo)')" win11 "win11: osinfo win11 (build >= 22000, as libguestfs 1.56)"
        is "$(xp "$R/virt-inspector-$v.xml" 'string(//osinfo)')" win10 "win11: (virt-inspector 1.48 said win10)"
        sed -i 's|<osinfo>win11</osinfo>|<osinfo>win10</osinfo>|' "$T/$v.cmp"
    fi
    same_file "$T/$v.cmp" "$R/virt-inspector-$v.xml" "$v: the rest = virt-inspector's XML"
done

# ---- the registry values inspection reads, from the hives themselves ----
cv='Microsoft\Windows NT\CurrentVersion'
for v in win7 win2012r2 win10 win11 win2022; do
    img=$D/$v.img
    [ $v = win2022 ] && img=$D/$v.qcow2
    root=$(xp "$T/$v.xml" 'string(//root)')
    g() { gfsh -a "$img" -i "$@" 2>&1; }
    is "$(g inspect-get-product-name "$root")" "$(hivexget "$H/$v.SOFTWARE" "$cv" ProductName)" \
       "$v: product name = hivexget ProductName"
    is "$(g inspect-get-product-variant "$root")" "$(hivexget "$H/$v.SOFTWARE" "$cv" InstallationType)" \
       "$v: product variant = hivexget InstallationType"
    cs=$(hivexget "$H/$v.SYSTEM" Select Current)
    ccs=$(printf 'ControlSet%03d' "$cs")
    is "$(g inspect-get-windows-current-control-set "$root")" "$ccs" "$v: control set = Select\\Current ($cs)"
    is "$(g inspect-get-hostname "$root")" \
       "$(hivexget "$H/$v.SYSTEM" "$ccs\\Services\\Tcpip\\Parameters" Hostname)" \
       "$v: hostname = hivexget $ccs\\...\\Tcpip\\Parameters Hostname"
    ver=$(hivexget "$H/$v.SOFTWARE" "$cv" CurrentMajorVersionNumber 2>/dev/null || true)
    [ -n "$ver" ] || ver=$(hivexget "$H/$v.SOFTWARE" "$cv" CurrentVersion | cut -d. -f1)
    is "$(g inspect-get-major-version "$root")" "$ver" "$v: major version = the registry's"
    is "$(g inspect-get-windows-software-hive "$root")" \
       "$(g inspect-get-windows-systemroot "$root")/System32/config/SOFTWARE" "$v: the SOFTWARE hive's path"
done
# gfsh's inspect-list-applications2: the applications virt-inspector listed
apps_xml() { # XML: "field: value" per non-empty field, as virt-inspector wrote it
    python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as E
for a in E.parse(sys.argv[1]).iter('application'):
    for f in ('name', 'display_name', 'version', 'install_path', 'publisher', 'url', 'description'):
        e = a.find(f)
        if e is not None and e.text:
            print('%s: %s' % (f, e.text))
    print('--')
PY
}
for v in win7 win10 win2022; do
    img=$D/$v.img
    [ $v = win2022 ] && img=$D/$v.qcow2
    root=$(xp "$R/virt-inspector-$v.xml" 'string(//root)')
    gfsh -a "$img" -i inspect-list-applications2 "$root" 2>&1 |
        sed -n -e 's/^  app2_\(name\|display_name\|version\|install_path\|publisher\|url\|description\): \(..*\)/\1: \2/p' \
               -e 's/^}$/--/p' >"$T/apps-$v"
    apps_xml "$R/virt-inspector-$v.xml" >"$T/apps-$v.x"
    ok "$v: virt-inspector lists applications" grep -q '^name: ' "$T/apps-$v.x"
    same_file "$T/apps-$v" "$T/apps-$v.x" "$v: inspect-list-applications2 = virt-inspector's <applications> (names, versions, paths, publishers, URLs)"
done
fails_cleanly "inspect-get-windows-systemroot on a Linux guest fails" \
    gfsh -a "$(fixture guests)/arch.img" -i inspect-get-windows-systemroot /dev/sda1

# ---- drive letters against the partition tables ----
# MBR: the disk signature sfdisk wrote and the partition offsets in bytes
sig=$(sfdisk --dump "$D/win10.img" | sed -n 's/^label-id: 0x//p')
hivexregedit --export --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' "$H/win10.SYSTEM" '\MountedDevices' >"$T/md"
for n in 2 3; do
    start=$(sfdisk --dump "$D/win10.img" | sed -n "s|.*win10.img$n : start= *\\([0-9]*\\),.*|\\1|p")
    blob=$(python3 -c "import struct,sys; print(','.join('%02x'%b for b in struct.pack('<IQ', int('$sig',16), $start*512)))")
    letter=$(grep -F "=hex(3):$blob" "$T/md" | sed -n 's/^"\\\\DosDevices\\\\\(.\):".*/\1/p')
    is "$(gfsh -a "$D/win10.img" -i inspect-get-drive-mappings /dev/sda2 | sed -n "s|^$letter: ||p")" \
       "/dev/sda$n" "win10: drive $letter: = the partition at sector $start of disk $sig (MountedDevices)"
done
# GPT: the partition GUID sgdisk wrote
guid=$(sgdisk -i 3 "$D/win11.img" | sed -n 's/^Partition unique GUID: //p' | tr A-Z a-z)
hivexregedit --export --prefix 'HKEY_LOCAL_MACHINE\SYSTEM' "$H/win11.SYSTEM" '\MountedDevices' >"$T/md11"
blob=$(python3 -c "import uuid; print(','.join('%02x'%b for b in b'DMIO:ID:'+uuid.UUID('$guid').bytes_le))")
ok "win11: MountedDevices C: holds DMIO:ID: + partition 3's GUID ($guid)" grep -qF '"\\DosDevices\\C:"=hex(3):'"$blob" "$T/md11"
is "$(gfsh -a "$D/win11.img" -i inspect-get-drive-mappings /dev/sda3)" "C: /dev/sda3" \
   "win11: C: is /dev/sda3 (E: names a GPT partition that is not there: left out)"
is "$(gfsh -a "$D/win7.img" -i inspect-get-drive-mappings /dev/sda2)" "C: /dev/sda2" \
   "win7: D: on a disk that is not attached is left out"

# ---- files by Windows path (virt-cat) against ntfscat ----
part() { # IMG N OUT: partition N of IMG as a file
    local s n
    s=$(sfdisk --dump "$1" | sed -n "s|.*$(basename "$1")$2 : start= *\\([0-9]*\\), size= *\\([0-9]*\\).*|\\1 \\2|p")
    n=${s#* }; s=${s% *}
    dd if="$1" of="$3" bs=512 skip="$s" count="$n" status=none
}
part "$D/win10.img" 2 "$T/c.fs"
part "$D/win10.img" 3 "$T/d.fs"
ntfscat "$T/c.fs" Windows/win.ini >"$T/w1" 2>/dev/null
gcat -a "$D/win10.img" 'C:\Windows\win.ini' >"$T/w2"
same_file "$T/w2" "$T/w1" "gcat 'C:\\Windows\\win.ini' = ntfscat"
gcat -a "$D/win10.img" 'c:\WINDOWS\SYSTEM32\drivers\ETC\HOSTS' >"$T/h2"
ntfscat "$T/c.fs" Windows/System32/drivers/etc/hosts >"$T/h1" 2>/dev/null
same_file "$T/h2" "$T/h1" "gcat with any case and backslashes (case-sensitive-path)"
gcat -a "$D/win10.img" '/windows/system32/Drivers/etc/hosts' >"$T/h3"
same_file "$T/h3" "$T/h1" "gcat of a /path of a Windows guest matches ignoring case too"
ntfscat "$T/d.fs" Data/readme.txt >"$T/r1" 2>/dev/null
gcat -a "$D/win10.img" 'D:\data\README.TXT' >"$T/r2"
same_file "$T/r2" "$T/r1" "gcat 'D:\\...': drive D: (the third partition) mounted for it"
fails_cleanly "gcat E:\\x: no drive E:" gcat -a "$D/win10.img" 'E:\x'
ok "... saying so" sh -c "gcat -a '$D/win10.img' 'E:\\x' 2>&1 | grep -q \"drive 'e:' not found\""
fails_cleanly "gcat C:\\x of a Linux guest: not a Windows path" gcat -a "$(fixture guests)/arch.img" 'C:\x'

# gfedit (virt-edit) takes the same paths; NTFS is read-only here, so a
# change is refused and the image is left as it was
cp --sparse=always "$D/win10.img" "$T/e.img"
sum0=$(md5sum <"$T/e.img")
is "$(gfedit -a "$T/e.img" -e 'print STDERR "line: $_" if /MAPI/' 'c:\windows\WIN.INI' 2>&1)" \
   "line: $(grep MAPI "$T/w1")" "gfedit 'c:\windows\WIN.INI' edits the file ntfscat shows (its MAPI line)"
fails_cleanly "gfedit of a Windows path: a change is refused (NTFS is read-only)" \
    gfedit -a "$T/e.img" -e 's/MAPI/X/' 'C:\Windows\win.ini'
ok "... saying so" sh -c "gfedit -a '$T/e.img' -e 's/MAPI/X/' 'C:\\Windows\\win.ini' 2>&1 | grep -q 'writing NTFS filesystems is not supported'"
fails_cleanly "gfedit E:\\x: no drive E:" gfedit -a "$T/e.img" -e 1 'E:\x'
is "$(md5sum <"$T/e.img")" "$sum0" "the image is unchanged"
fails_cleanly "gfedit C:\\x of a Linux guest: not a Windows path" gfedit -a "$(fixture guests)/arch.img" -e 1 'C:\x'
rm -f "$T/e.img"

# gfsh's win: prefix
is "$(gfsh -a "$D/win10.img" -i cat 'win:C:\windows\win.ini')" "$(cat "$T/w1")" "gfsh cat win:C:\\windows\\win.ini"
is "$(gfsh -a "$D/win10.img" -i is-dir 'win:\program files\7-ZIP')" true "gfsh is-dir win:\\program files\\7-ZIP"
fails_cleanly "gfsh win:D:... when D: is not mounted" gfsh -a "$D/win10.img" -i ls 'win:D:\'
is "$(gfsh -a "$D/win10.img" -i <<'EOF' 2>&1
umount-all
mount /dev/sda3 /
cat win:d:\data\readme.txt
EOF
)" "$(cat "$T/r1")" "gfsh win:d:\\... once D: is mounted"

# ---- gfsh hivex-* against hivexsh ----
S="$H/win10.SOFTWARE"
hx() { gfsh -a "$D/win10.img" -i "$@" 2>&1; }
root=$(hx hivex-open /Windows/System32/config/SOFTWARE : hivex-root)
ok "hivex-root prints a node handle" test "$root" -gt 0
kids=$(hx hivex-open /Windows/System32/config/SOFTWARE : hivex-node-children "$root" | sed -n 's/.*hivex_node_h: //p')
names=$(for k in $kids; do hx hivex-open /Windows/System32/config/SOFTWARE : hivex-node-name "$k"; done | sort)
is "$names" "$(printf 'load %s\nls\n' "$S" | hivexsh | sort)" "hivex-node-children + hivex-node-name = hivexsh ls"
cvn=$(gfsh -a "$D/win10.img" -i <<EOF 2>&1 | tail -1
hivex-open /Windows/System32/config/SOFTWARE
hivex-node-get-child $root Microsoft
EOF
)
cvn=$(hx hivex-open /Windows/System32/config/SOFTWARE : hivex-node-get-child "$cvn" 'windows nt')
cvn=$(hx hivex-open /Windows/System32/config/SOFTWARE : hivex-node-get-child "$cvn" currentversion)
vals=$(hx hivex-open /Windows/System32/config/SOFTWARE : hivex-node-values "$cvn" | sed -n 's/.*hivex_value_h: //p')
keys=$(for x in $vals; do hx hivex-open /Windows/System32/config/SOFTWARE : hivex-value-key "$x"; done | sort)
is "$keys" "$(hivexget "$S" "$cv" | sed 's/^"\([^"]*\)"=.*/\1/' | sort)" "hivex-node-values + hivex-value-key = hivexget's value names"
pv=$(hx hivex-open /Windows/System32/config/SOFTWARE : hivex-node-get-value "$cvn" productname)
is "$(hx hivex-open /Windows/System32/config/SOFTWARE : hivex-value-string "$pv")" "$(hivexget "$S" "$cv" ProductName)" \
   "hivex-node-get-value + hivex-value-string = hivexget ProductName"
is "$(hx hivex-open /Windows/System32/config/SOFTWARE : hivex-value-utf8 "$pv")" "$(hivexget "$S" "$cv" ProductName)" \
   "hivex-value-utf8 (the old name) = hivexget ProductName"
is "$(hx hivex-open /Windows/System32/config/SOFTWARE : hivex-value-type "$pv")" 1 "hivex-value-type: REG_SZ is 1"
mv=$(hx hivex-open /Windows/System32/config/SOFTWARE : hivex-node-get-value "$cvn" CurrentMajorVersionNumber)
is "$(hx hivex-open /Windows/System32/config/SOFTWARE : hivex-value-value "$mv" | od -An -tx1 | tr -d ' ')" \
   "$(hivexregedit --export "$S" '\Microsoft\Windows NT\CurrentVersion' | sed -n 's/^"CurrentMajorVersionNumber"=dword:\(..\)\(..\)\(..\)\(..\)/\4\3\2\1/p')" \
   "hivex-value-value: the raw dword, as hivexregedit exports it"
par=$(hx hivex-open /Windows/System32/config/SOFTWARE : hivex-node-parent "$cvn")
is "$(hx hivex-open /Windows/System32/config/SOFTWARE : hivex-node-name "$par")" "Windows NT" \
   "hivex-node-parent of CurrentVersion is Windows NT"
fails_cleanly "hivex-open write:true is refused" gfsh -a "$D/win10.img" -i hivex-open /Windows/System32/config/SOFTWARE write:true
fails_cleanly "hivex-commit is refused (read-only)" gfsh --rw -a "$D/win10.img" -i hivex-commit /x
fails_cleanly "hivex-root without hivex-open" gfsh -a "$D/win10.img" -i hivex-root
fails_cleanly "hivex-open of a file that is not a hive" gfsh -a "$D/win10.img" -i hivex-open /Windows/win.ini

# ---- gwinreg against hivexregedit --export and virt-win-reg ----
exportof() { # HIVE PREFIX KEY [--unsafe-printable-strings]: reg_export's output, no header
    hivexregedit --export ${4:-} --prefix "$2" "$1" "$3" | sed '1{/^Windows Registry Editor/d}' | sed '1{/^$/d}'
}
gwinreg -a "$D/win10.img" 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion' >"$T/g1"
exportof "$S" 'HKEY_LOCAL_MACHINE\SOFTWARE' '\Microsoft\Windows NT\CurrentVersion' >"$T/e1"
same_file "$T/g1" "$T/e1" "gwinreg HKLM\\SOFTWARE\\...\\CurrentVersion = hivexregedit --export"
while IFS='|' read -r k hv p sub; do
    gwinreg -a "$D/win10.img" "$k" >"$T/g2"
    exportof "$H/$hv" "$p" "$sub" >"$T/e2"
    # hivexregedit writes key names through Perl as Latin-1 (Ünïcødé as
    # \xdc...): compare the other lines
    nonascii='Uninstall\\.\{1,2\}n.\{1,2\}c.\{1,2\}d.\{1,2\}\]$'
    LC_ALL=C grep -av "$nonascii" "$T/g2" >"$T/g2a"; LC_ALL=C grep -av "$nonascii" "$T/e2" >"$T/e2a"
    same_file "$T/g2a" "$T/e2a" "gwinreg '$k' = hivexregedit --export (key names in UTF-8)"
done <<'EOF'
HKLM\SYSTEM|win10.SYSTEM|HKEY_LOCAL_MACHINE\SYSTEM|\
HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft|win10.SOFTWARE|HKEY_LOCAL_MACHINE\SOFTWARE|\Microsoft
hklm\system\mountedDEVICES|win10.SYSTEM|HKEY_LOCAL_MACHINE\SYSTEM|\MountedDevices
\HKU\.default\control panel|win10.DEFAULT|HKEY_LOCAL_MACHINE\.DEFAULT|\Control Panel
EOF
gwinreg --unsafe-printable-strings -a "$D/win10.img" 'HKLM\SYSTEM' >"$T/g3"
exportof "$H/win10.SYSTEM" 'HKEY_LOCAL_MACHINE\SYSTEM' '\' --unsafe-printable-strings >"$T/e3"
same_file "$T/g3" "$T/e3" "gwinreg --unsafe-printable-strings = hivexregedit's"
for name in ProductName CurrentMajorVersionNumber CurrentBuildNumber; do
    is "$(gwinreg -a "$D/win10.img" 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion' $name)" \
       "$(hivexget "$S" "$cv" $name)" "gwinreg ... $name = hivexget"
done
gwinreg "$D/win10.img" 'HKLM\SYSTEM\MountedDevices' '\DosDevices\C:' >"$T/b1"
hivexget "$H/win10.SYSTEM" MountedDevices '\DosDevices\C:' >"$T/b2"
same_file "$T/b1" "$T/b2" "gwinreg IMAGE KEY binary-value (old-style arguments) = hivexget, raw bytes"
# virt-win-reg 1.48 on the same image (recorded)
for k in 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion' 'HKU\.DEFAULT' 'HKLM\SYSTEM\MountedDevices'; do
    sed -n "/^### $(printf '%s' "$k" | sed 's/\\/\\\\/g')\$/,/^### rc=/p" "$R/virt-win-reg-win10.txt" | sed '1d;$d' >"$T/vw"
    gwinreg -a "$D/win10.img" "$k" >"$T/gw"
    same_file "$T/gw" "$T/vw" "gwinreg '$k' = virt-win-reg (recorded)"
done
sed -n '/^### --unsafe-printable-strings/,/^### rc=/p' "$R/virt-win-reg-win10.txt" | sed '1d;$d' |
    LC_ALL=C grep -av '[^ -~]' >"$T/vw"
gwinreg --unsafe-printable-strings -a "$D/win10.img" 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall' |
    LC_ALL=C grep -av '[^ -~]' >"$T/gw"
same_file "$T/gw" "$T/vw" "gwinreg --unsafe-printable-strings = virt-win-reg (recorded; lines with non-ASCII text aside)"
# ---- gwinreg HKU\SID, HKU\LocalSystem, HKU\user: user hives (ntuser.dat)
# found through ProfileList or the Users directory, against hivexregedit
# --export (a Windows tree on ext4 made by mke2fs -d: gwinreg reads files)
U=$T/u
C=$U/Windows/System32/config
mkdir -p "$C/systemprofile" "$U/Users/Alice"
python3 "$TOP/test-images/mkpe.py" "$U/Windows/System32/cmd.exe" x86_64
cp "$H/win10.SYSTEM" "$C/SYSTEM"
cp "$H/win10.SOFTWARE" "$C/SOFTWARE"
expand_sz() { python3 -c "import sys; print('hex(2):' + ','.join('%02x' % b for b in (sys.argv[1] + '\0').encode('utf-16-le')))" "$1"; }
pl='HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList'
printf 'Windows Registry Editor Version 5.00\n\n[%s]\n\n[%s\\S-1-5-18]\n"ProfileImagePath"=%s\n\n[%s\\S-1-5-21-111-222-333-1001]\n"ProfileImagePath"=%s\n"Flags"=dword:00000000\n' \
    "$pl" "$pl" "$(expand_sz '%systemroot%\system32\config\systemprofile')" \
    "$pl" "$(expand_sz 'C:\Users\Alice')" >"$T/pl.reg"
ok "(hivexregedit --merge: ProfileList into SOFTWARE)" hivexregedit --merge --prefix 'HKEY_LOCAL_MACHINE\SOFTWARE' "$C/SOFTWARE" "$T/pl.reg"
userhive() { # OUT WHO
    python3 "$TOP/test-images/mkhive.py" "$1" ntuser.dat
    printf 'Windows Registry Editor Version 5.00\n\n[HKEY_USERS\\X\\Software]\n\n[HKEY_USERS\\X\\Software\\Example]\n"Owner"="%s"\n"Count"=dword:0000002a\n\n[HKEY_USERS\\X\\Environment]\n"TEMP"=%s\n' \
        "$2" "$(expand_sz '%USERPROFILE%\AppData\Local\Temp')" >"$T/u.reg"
    ok "(hivexregedit --merge: $2's ntuser.dat)" hivexregedit --merge --prefix 'HKEY_USERS\X' "$1" "$T/u.reg"
}
userhive "$U/Users/Alice/NTUSER.DAT" Alice
userhive "$C/systemprofile/ntuser.dat" SYSTEM
mke2fs -q -F -t ext4 -d "$U" "$T/u.img" 16M >/dev/null
while IFS='|' read -r k hv p sub; do
    gwinreg -a "$T/u.img" "$k" >"$T/g4" 2>&1
    exportof "$hv" "$p" "$sub" >"$T/e4"
    same_file "$T/g4" "$T/e4" "gwinreg '$k' = hivexregedit --export of the user's ntuser.dat"
done <<EOF
HKU\\S-1-5-21-111-222-333-1001|$U/Users/Alice/NTUSER.DAT|HKEY_USERS\\S-1-5-21-111-222-333-1001|\\
HKEY_USERS\\s-1-5-21-111-222-333-1001\\software\\EXAMPLE|$U/Users/Alice/NTUSER.DAT|HKEY_USERS\\s-1-5-21-111-222-333-1001|\\Software\\Example
HKU\\LocalSystem\\Environment|$C/systemprofile/ntuser.dat|HKEY_USERS\\S-1-5-18|\\Environment
HKU\\alice|$U/Users/Alice/NTUSER.DAT|HKEY_USERS\\alice|\\
EOF
is "$(gwinreg -a "$T/u.img" 'HKU\Alice\Software\Example' Owner)" "$(hivexget "$U/Users/Alice/NTUSER.DAT" 'Software\Example' Owner)" \
   "gwinreg HKU\\Alice ... Owner = hivexget ($(hivexget "$U/Users/Alice/NTUSER.DAT" 'Software\Example' Owner))"
fails_cleanly "gwinreg HKU\\S-... of a SID without a profile" gwinreg -a "$T/u.img" 'HKU\S-1-5-21-9-9-9-500'
fails_cleanly "gwinreg HKU\\user without a user directory" gwinreg -a "$T/u.img" 'HKU\Bob'
ok "... saying so" sh -c "gwinreg -a '$T/u.img' 'HKU\\Bob' 2>&1 | grep -q 'cannot find user directory'"

fails_cleanly "gwinreg: an unknown root key" gwinreg -a "$D/win10.img" 'HKCU\Software'
fails_cleanly "gwinreg: a key that is not there" gwinreg -a "$D/win10.img" 'HKLM\SOFTWARE\Nope'
fails_cleanly "gwinreg: a value that is not there" gwinreg -a "$D/win10.img" 'HKLM\SOFTWARE\Microsoft' Nope
fails_cleanly "gwinreg --merge is refused (read-only)" gwinreg --merge -a "$D/win10.img" /dev/null
fails_cleanly "gwinreg on a Linux guest" gwinreg -a "$(fixture guests)/arch.img" 'HKLM\SOFTWARE'

done_testing
