#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ginspect (virt-inspector): the phony guests of test-images/guests.sh.
# Oracles: xmllint --relaxng against tools/ginspect.rng, rpm -qa on the same
# rpmdb.sqlite, dpkg-query on the same status file, the os-release /
# lsb-release / release files and fstabs we generated (read back by the
# shell), blkid -p on the partitions, uname -m for the host's /bin/bash.
. "$(dirname "$0")/lib.sh"
command -v ginspect >/dev/null || skip_all "ginspect not built"
command -v xmllint >/dev/null || skip_all "xmllint not installed"
command -v jq >/dev/null || skip_all "jq not installed"
dir=$(fixture guests) || exit 1
# a cache built by an older guests.sh: build it again
if [ ! -e "$dir/rpmdb-wal/rpmdb.sqlite-wal" ]; then
    rm -f "$dir/.done"
    dir=$(fixture guests) || exit 1
fi
RNG=$TOP/tools/ginspect.rng

xml() { ginspect -a "$dir/$1" "${@:2}"; }
js() { ginspect --json -a "$dir/$1" "${@:2}"; }
xp() { xmllint --xpath "$2" "$1" 2>/dev/null; }
# osrel FILE VAR: a variable of an os-release-style file, as a shell sees it
osrel() { (set +u; . "$1"; eval "printf '%s' \"\${$2}\""); }

# every guest: XML that validates, JSON that parses with the same content
for img in debian.img debian.qcow2 ubuntu.img fedora.img alpine.img arch.img \
           usrsplit.img neon.img multiboot.img distros.img; do
    ok "$img: ginspect exits 0" ginspect -a "$dir/$img"
    xml "$img" >"$T/$img.xml" 2>"$T/$img.err"
    ok "$img: XML validates against ginspect.rng" xmllint --noout --relaxng "$RNG" "$T/$img.xml"
    js "$img" >"$T/$img.json" 2>/dev/null
    ok "$img: --json parses" jq -e . "$T/$img.json"
    is "$(jq -r '[.operatingsystems[] | .root, .distro, .osinfo, .major_version, .minor_version,
                  (.applications | length), (.filesystems | length)] | join(" ")' "$T/$img.json")" \
       "$(for o in $(seq 1 "$(xp "$T/$img.xml" 'count(//operatingsystem)')"); do
            b="//operatingsystem[$o]"
            printf '%s ' "$(xp "$T/$img.xml" "string($b/root)")" "$(xp "$T/$img.xml" "string($b/distro)")" \
              "$(xp "$T/$img.xml" "string($b/osinfo)")" "$(xp "$T/$img.xml" "string($b/major_version)")" \
              "$(xp "$T/$img.xml" "string($b/minor_version)")" \
              "$(xp "$T/$img.xml" "count($b/applications/application)")" \
              "$(xp "$T/$img.xml" "count($b/filesystems/filesystem)")"
          done | sed 's/ $//')" "$img: JSON and XML say the same"
    is "$(cat "$T/$img.err")" "" "$img: no warnings"
done

# the virt-inspector layout: declaration, two-space indentation, element order
is "$(cat "$T/arch.img.xml")" '<?xml version="1.0"?>
<operatingsystems>
  <operatingsystem>
    <root>/dev/sda1</root>
    <name>linux</name>
    <arch>'"$(uname -m)"'</arch>
    <distro>archlinux</distro>
    <major_version>0</major_version>
    <minor_version>0</minor_version>
    <package_format>pacman</package_format>
    <package_management>pacman</package_management>
    <hostname>'"$(cat "$dir/arch.tree/etc/hostname")"'</hostname>
    <osinfo>archlinux</osinfo>
    <mountpoints>
      <mountpoint dev="/dev/sda1">/</mountpoint>
    </mountpoints>
    <filesystems>
      <filesystem dev="/dev/sda1">
        <type>ext4</type>
        <uuid>'"$(blkid -p -o value -s UUID -O $((2048 * 512)) "$dir/arch.img")"'</uuid>
      </filesystem>
    </filesystems>
    <applications>
      <application>
        <name>test-package</name>
        <epoch>1</epoch>
        <version>0.1</version>
        <release>1</release>
        <arch>x86_64</arch>
        <url>http://www.example.com</url>
        <description>Dummy package</description>
      </application>
      <application>
        <name>zlib</name>
        <epoch>1</epoch>
        <version>1.3</version>
        <release>1</release>
        <arch>x86_64</arch>
        <url>https://www.zlib.net/</url>
        <description>Compression library implementing the deflate compression method found in gzip and PKZIP</description>
      </application>
    </applications>
  </operatingsystem>
</operatingsystems>' "Arch (empty arch-release, /dev/vda1 in fstab): the whole XML"

# ---- Debian on LVM: os-release without a minor -> debian_version wins
f=$T/debian.img.json
q() { jq -r ".operatingsystems[0].$1 // \"-\"" "$f"; }
is "$(q root)" "/dev/deb-vg/root" "debian: root is the LV"
is "$(q product_name)" "$(head -n1 "$dir/debian.tree/etc/debian_version")" \
   "debian: product name from debian_version (os-release VERSION_ID has no minor)"
is "$(q major_version).$(q minor_version)" "$(head -n1 "$dir/debian.tree/etc/debian_version")" \
   "debian: version from debian_version"
is "$(q osinfo)" "debian$(osrel "$dir/debian.tree/etc/os-release" VERSION_ID)" "debian: osinfo debianN"
is "$(q hostname)" "$(cat "$dir/debian.tree/etc/hostname")" "debian: hostname"
is "$(q arch)" "$(uname -m)" "debian: arch of the guest's /bin/bash"
is "$(q package_format)/$(q package_management)" "deb/apt" "debian: deb/apt"
is "$(jq -r '.operatingsystems[0].mountpoints[] | "\(.dev) \(.mountpoint)"' "$f")" \
"/dev/deb-vg/root /
/dev/deb-vg/var /var
/dev/sda1 /boot" "debian: mountpoints (mapper name with doubled dashes, /dev/VG/LV, UUID=), shortest first"
is "$(jq -r '.operatingsystems[0].filesystems[] | "\(.dev) \(.type) \(.uuid)"' "$f")" \
"/dev/deb-vg/root ext4 01234567-0123-0123-0123-012345678902
/dev/deb-vg/swap swap 01234567-0123-0123-0123-012345678904
/dev/deb-vg/var ext4 01234567-0123-0123-0123-012345678903
/dev/sda1 ext2 $(blkid -p -o value -s UUID -O $((2048 * 512)) "$dir/debian.img")" \
   "debian: filesystems with type and UUID (swap by dm-uuid-LVM- listed; proc and cdrom not)"
mkdir -p "$T/dpkg/updates" "$T/dpkg/info"
cp "$dir/dpkg/status" "$T/dpkg/status"
is "$(jq -r '.operatingsystems[0].applications[] |
      "\(if .epoch then "\(.epoch):" else "" end)\(.version)\(if .release then "-\(.release)" else "" end)" as $v |
      "\(.name) \($v)"' "$f")" \
   "$(dpkg-query --admindir="$T/dpkg" -W -f='${db:Status-Status} ${Package} ${Version}\n' 2>/dev/null |
      awk '$1 == "installed" { print $2, $3 }' | LC_ALL=C sort)" \
   "debian: installed packages and versions = dpkg-query (config-files, half-installed left out)"
is "$(jq -r '.operatingsystems[0].applications[] | "\(.name) \(.version)"' "$f")" \
   "$(dpkg-query --admindir="$T/dpkg" -W -f='${db:Status-Status} ${Package} ${source:Upstream-Version}\n' 2>/dev/null |
      awk '$1 == "installed" { print $2, $3 }' | LC_ALL=C sort)" \
   "debian: upstream version split at the last hyphen, as dpkg does"
is "$(jq -r '.operatingsystems[0].applications[] | select(.name == "libc6") | .source_package' "$f")" \
   "$(dpkg-query --admindir="$T/dpkg" -W -f='${source:Package}' libc6 2>/dev/null)" "debian: source package"
is "$(jq -r '.operatingsystems[0].applications[] | select(.name == "bash") | .description' "$f")" \
   "$(awk '/^Package: bash$/{p=1} p && /^Description:/{d=1; next} d && /^ /{sub(/^ /,""); if ($0 == ".") $0 = ""; print; next} d{exit}' "$dir/dpkg/status")" \
   "debian: description continuation lines (' .' is an empty line)"
is "$(jq -c . "$T/debian.qcow2.json")" "$(jq -c . "$f")" "debian: the qcow2 chain gives the same report"

# ---- Ubuntu: lsb-release only; fstab entries that do not resolve
f=$T/ubuntu.img.json
lsb=$dir/ubuntu.tree/etc/lsb-release
is "$(q distro)" "ubuntu" "ubuntu: distro from DISTRIB_ID"
is "$(q product_name)" "$(osrel "$lsb" DISTRIB_DESCRIPTION)" "ubuntu: product name = DISTRIB_DESCRIPTION"
rel=$(osrel "$lsb" DISTRIB_RELEASE)
is "$(q major_version) $(q minor_version)" "$((10#${rel%%.*})) $((10#${rel#*.}))" "ubuntu: version from DISTRIB_RELEASE"
is "$(q osinfo)" "ubuntu$rel" "ubuntu: osinfo ubuntuN.MM"
is "$(q hostname)" "$(grep -v -e '^#' -e '^$' "$dir/ubuntu.tree/etc/hostname" | head -n1)" \
   "ubuntu: hostname skips comments and blank lines"
is "$(jq -r '.operatingsystems[0].mountpoints[] | "\(.dev) \(.mountpoint)"' "$f")" \
"/dev/sda1 /
/dev/sdz3 /mnt/z
/dev/sdb1 /other/disk" "ubuntu: by-uuid resolved, unknown /dev names kept (vdb1 -> sdb1), UUID=/LABEL= not found dropped, path canonical"
is "$(jq -r '.operatingsystems[0].filesystems[] | "\(.dev) \(.type // "-")"' "$f")" \
"/dev/mapper/cryptswap1 -
/dev/sda1 ext4
/dev/sdb1 -
/dev/sdz3 -" "ubuntu: unresolved entries listed without a type (tmpfs, floppy ignored)"

mkdir -p "$T/dpkg-host/updates" "$T/dpkg-host/info"
cp "$dir/dpkg-host/status" "$T/dpkg-host/status"
is "$(jq -r '.operatingsystems[0].applications[] |
      "\(if .epoch then "\(.epoch):" else "" end)\(.version)\(if .release then "-\(.release)" else "" end)" as $v |
      "\(.name) \($v) \(.arch)"' "$f")" \
   "$(dpkg-query --admindir="$T/dpkg-host" -W -f='${db:Status-Status} ${Package} ${Version} ${Architecture}\n' 2>/dev/null |
      awk '$1 == "installed" { print $2, $3, $4 }' | LC_ALL=C sort)" \
   "ubuntu: a real status file ($(grep -c '^Package:' "$dir/dpkg-host/status") paragraphs) = dpkg-query"
# ${source:Upstream-Version} is the upstream part of the SOURCE version: an
# oracle for our split where the source version is the binary's own
dpkg-query --admindir="$T/dpkg-host" -W \
    -f='${db:Status-Status} ${Package} ${Version} ${source:Version} ${source:Upstream-Version}\n' 2>/dev/null |
    awk '$1 == "installed" && $3 == $4 { print $2, $5 }' | LC_ALL=C sort >"$T/upstream.want"
jq -r '.operatingsystems[0].applications[] | "\(.name) \(.version)"' "$f" | LC_ALL=C sort >"$T/upstream.got"
is "$(LC_ALL=C comm -13 "$T/upstream.got" "$T/upstream.want")" "" \
   "ubuntu: real status file: upstream version = dpkg-query's for all $(wc -l <"$T/upstream.want") packages built from a same-version source"
is "$(jq -r '.operatingsystems[0].applications[] | "\(.name) \(.source_package // .name)"' "$f")" \
   "$(dpkg-query --admindir="$T/dpkg-host" -W -f='${db:Status-Status} ${Package} ${source:Package}\n' 2>/dev/null |
      awk '$1 == "installed" { print $2, $3 }' | LC_ALL=C sort)" \
   "ubuntu: real status file: source packages = dpkg-query"

# ---- Fedora: rpmdb.sqlite vs rpm -qa, usr-merged root, dnf, sysconfig hostname
f=$T/fedora.img.json
osr=$dir/fedora.tree/usr/lib/os-release
is "$(q product_name)" "$(osrel "$osr" PRETTY_NAME)" "fedora: PRETTY_NAME through the /etc/os-release link"
is "$(q major_version)" "$(osrel "$osr" VERSION_ID)" "fedora: VERSION_ID"
is "$(q osinfo)" "fedora$(osrel "$osr" VERSION_ID)" "fedora: osinfo"
is "$(q package_format)/$(q package_management)" "rpm/dnf" "fedora >= 22 with /usr/bin/dnf: dnf"
is "$(q arch)" "$(uname -m)" "fedora: arch through /bin -> usr/bin"
is "$(q hostname)" "$(osrel "$dir/fedora.tree/etc/sysconfig/network" HOSTNAME)" \
   "fedora: hostname from /etc/sysconfig/network"
is "$(jq -r '.operatingsystems[0].filesystems[] | "\(.dev) \(.label) \(.uuid)"' "$f")" \
   "$(for p in 1 2; do
        start=$(sfdisk --json "$dir/fedora.img" | jq ".partitiontable.partitions[$((p - 1))].start")
        printf '/dev/sda%s %s %s\n' $p "$(blkid -p -o value -s LABEL -O $((start * 512)) "$dir/fedora.img")" \
          "$(blkid -p -o value -s UUID -O $((start * 512)) "$dir/fedora.img")"
      done)" "fedora: LABEL= resolved; labels and UUIDs = blkid -p"
mkdir -p "$T/rpmdb"
cp "$dir/rpmdb-wal/"* "$T/rpmdb/"
is "$(jq -r '.operatingsystems[0].applications[] | "\(.name) \(.epoch // "(none)") \(.version) \(.release) \(.arch) \(.url // "(none)")"' "$f")" \
   "$(rpm -qa --dbpath "$T/rpmdb" --qf '%{NAME} %{EPOCH} %{VERSION} %{RELEASE} %{ARCH} %{URL}\n' | LC_ALL=C sort)" \
   "fedora: packages = rpm -qa on the same rpmdb.sqlite + -wal (sorted by name)"
mkdir -p "$T/rpmdb-nowal"
cp "$dir/rpmdb-wal/rpmdb.sqlite" "$T/rpmdb-nowal/"
is "$(rpm -qa --dbpath "$T/rpmdb-nowal" | wc -l) $(jq '.operatingsystems[0].applications | length' "$f")" "4 3" \
   "fedora: the erase still in rpmdb.sqlite-wal is seen (rpm -qa without the WAL: 4 packages)"
is "$(jq -r '.operatingsystems[0].applications[] | select(.name == "hello") | .summary, .description' "$f")" \
   "$(rpm -q --dbpath "$T/rpmdb" --qf '%{SUMMARY}\n%{DESCRIPTION}\n' hello)" "fedora: summary and description = rpm -q"

# ---- Alpine: whole-disk filesystem, apk db
f=$T/alpine.img.json
osr=$dir/alpine.tree/etc/os-release
v=$(osrel "$osr" VERSION_ID)
is "$(q root)" "/dev/sda" "alpine: filesystem on the whole disk"
is "$(q product_name)" "$(osrel "$osr" PRETTY_NAME)" "alpine: PRETTY_NAME"
is "$(q major_version).$(q minor_version)" "$(echo "$v" | cut -d. -f1-2)" "alpine: version"
is "$(q osinfo)" "alpinelinux$(echo "$v" | cut -d. -f1-2)" "alpine: osinfo"
is "$(jq -r '.operatingsystems[0].applications[] | "\(.name) \(.version)-r\(.release) \(.arch) \(.url)"' "$f")" \
   "$(awk -F: '/^P:/{p=$2} /^V:/{v=$2} /^A:/{a=$2} /^U:/{u=substr($0,3)} /^$/{if(p!="")print p, v, a, u; p=""} END{if(p!="")print p, v, a, u}' \
      "$dir/alpine.tree/lib/apk/db/installed" | LC_ALL=C sort)" "alpine: apk packages = the installed db"

# ---- split /usr: os-release and arch come from the /usr filesystem
f=$T/usrsplit.img.json
osr=$dir/usrsplit-usr.tree/lib/os-release
is "$(q distro) $(q product_name)" "$(osrel "$osr" ID) $(osrel "$osr" PRETTY_NAME)" "usrsplit: distro from /usr's os-release"
is "$(q major_version).$(q minor_version)" "$(osrel "$osr" VERSION_ID)" "usrsplit: version"
is "$(q build_id)" "$(osrel "$osr" BUILD_ID)" "usrsplit: BUILD_ID"
is "$(q osinfo)" "rhel$(osrel "$osr" VERSION_ID)" "usrsplit: osinfo rhelN.M"
is "$(q arch)" "$(uname -m)" "usrsplit: arch from /usr/bin/bash"
is "$(jq -r '.operatingsystems[0].mountpoints[] | "\(.dev) \(.mountpoint)"' "$f")" \
"/dev/sda1 /
/dev/sda2 /usr" "usrsplit: PARTLABEL= and PARTUUID= resolved"

# ---- a derivative: unknown ID, known ID_LIKE (beyond libguestfs)
f=$T/neon.img.json
osr=$dir/neon.tree/etc/os-release
is "$(q distro)" "$(osrel "$osr" ID_LIKE | cut -d' ' -f1)" "neon: unknown ID falls back to ID_LIKE"
is "$(q product_name)" "$(osrel "$osr" PRETTY_NAME)" "neon: PRETTY_NAME"
is "$(q osinfo)" "ubuntu$(osrel "$osr" VERSION_ID)" "neon: osinfo"
is "$(jq -r '.operatingsystems[0].mountpoints[] | "\(.dev) \(.mountpoint)"' "$f")" "/dev/sda1 /" \
   "neon: /dev/disk/by-id/...-part1 is partition 1 of the only disk"

# ---- multi-boot: two roots
f=$T/multiboot.img.json
is "$(jq -r '[.operatingsystems[] | "\(.root)=\(.distro)"] | join(" ")' "$f")" \
   "/dev/sda1=debian /dev/sda2=opensuse" "multiboot: both roots reported"
is "$(jq -r '.operatingsystems[0].product_name' "$f")" "$(cat "$dir/multiboot-1.tree/etc/debian_version")" \
   "multiboot: first root's product (debian_version)"
is "$(jq -r '.operatingsystems[1].product_name' "$f")" "$(osrel "$dir/multiboot-2.tree/etc/os-release" PRETTY_NAME)" \
   "multiboot: second root's product (os-release, ID=opensuse-leap)"

# ---- ten release-file flavours on one disk.  Product names come from the
# files (first line, PRETTY_NAME or DISTRIB_DESCRIPTION); distro, version,
# osinfo and package manager follow libguestfs' rules (inspect_fs_unix.ml,
# inspect_fs.ml, inspect-osinfo.c; the Fedora 14 row is the one of
# guestfs-tools' expected-fedora.img.xml).
f=$T/distros.img.json
dt=$dir/distros.tree
while read -r n distro ver osinfo fmt mgr prodsrc; do
    case $prodsrc in
        os-release) prod=$(osrel "$dt/$n/etc/os-release" PRETTY_NAME) ;;
        lsb-release) prod=$(osrel "$dt/$n/etc/lsb-release" DISTRIB_DESCRIPTION) ;;
        *) prod=$(head -n1 "$dt/$n/etc/$prodsrc") ;;
    esac
    is "$(jq -r --arg r "/dev/sda$n" '.operatingsystems[] | select(.root == $r) |
          "\(.distro) \(.major_version).\(.minor_version) \(.osinfo) \(.package_format) \(.package_management // "-") \(.product_name)"' "$f")" \
       "$distro $ver $osinfo $fmt $mgr $prod" "distros: /dev/sda$n ($(grep "^$n " "$dir/distros.txt" | cut -d' ' -f2 | tr '\n' ' '))"
done <<'EOF'
1 centos 7.9 centos7.0 rpm yum centos-release
2 rhel 6.10 rhel6.10 rpm yum redhat-release
3 fedora 14.0 fedora14 rpm yum redhat-release
4 sles 12.5 sles12sp5 rpm zypper os-release
5 rocky 9.3 rocky9 rpm dnf os-release
6 voidlinux 0.0 voidlinux xbps xbps os-release
7 redhat-based 1.2 redhat-based1.2 rpm - redhat-release
8 gentoo 2.14 gentoo ebuild portage gentoo-release
9 linuxmint 21.2 linuxmint21.2 deb apt lsb-release
10 opensuse 13.1 opensuse13.1 rpm zypper SuSE-release
EOF

# ---- two disks: the Ubuntu fstab's /dev/vdb1 is now partition 1 of the
# second disk, and gets its type and UUID from probing
ginspect --json -a "$dir/ubuntu.img" -a "$dir/arch.img" >"$T/two.json"
is "$(jq -r '.operatingsystems[0].filesystems[] | select(.dev == "/dev/sdb1") | "\(.type) \(.uuid)"' "$T/two.json")" \
   "ext4 $(blkid -p -o value -s UUID -O $((2048 * 512)) "$dir/arch.img")" \
   "two disks: /dev/vdb1 in fstab resolves to the second disk's partition"
is "$(jq -r '[.operatingsystems[].root] | join(" ")' "$T/two.json")" "/dev/sda1 /dev/sdb1" \
   "two disks: both roots, disks named in the order given"

# ---- options
xml debian.img --no-applications >"$T/noapps.xml"
is "$(xp "$T/noapps.xml" 'count(//applications)')" "0" "--no-applications: no applications element"
ok "--no-applications output validates" xmllint --noout --relaxng "$RNG" "$T/noapps.xml"
is "$(ginspect --no-icon "$dir/alpine.img" | xp /dev/stdin 'string(//root)')" "/dev/sda" \
   "old style: image as a positional argument (--no-icon accepted)"

# ---- --xpath: a query over a report on stdin, against xmllint --xpath
x=$T/fedora.img.xml
is "$(ginspect --xpath 'string(//operatingsystem/distro)' <"$x")" "$(xmllint --xpath 'string(//operatingsystem/distro)' "$x")" \
   "--xpath string() = xmllint"
is "$(ginspect --xpath 'count(//application)' <"$x")" "$(xmllint --xpath 'count(//application)' "$x")" "--xpath count() = xmllint"
ginspect --xpath '//application[name="hello"]' <"$x" >"$T/xp.xml"
is "$(xmllint --xpath 'string(/application/release)' "$T/xp.xml")" "$(xmllint --xpath 'string(//application[name="hello"]/release)' "$x")" \
   "--xpath node set: the matching element as XML"
fails_cleanly "--xpath with -a refused" ginspect --xpath //x -a "$dir/fedora.img"
fails_cleanly "--xpath on input that is not XML" bash -c 'echo "<x" | ginspect --xpath /x'

# ---- no OS
truncate -s 8M "$T/empty.img"
mke2fs -q -F -t ext4 "$T/empty.img"
rc=0
out=$(ginspect -a "$T/empty.img" 2>"$T/empty.err") || rc=$?
is "$rc $out" '0 <?xml version="1.0"?>
<operatingsystems/>' "a filesystem without an OS: an empty report, exit 0 (as virt-inspector: tests/data/virt-inspector/noos.xml)"
fails_cleanly "no -a: exit 1" ginspect
fails_cleanly "missing image: exit 1" ginspect -a "$T/nonexistent.img"
done_testing
