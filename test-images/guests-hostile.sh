#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile guests for inspection: every file inspection reads is the
# guest's to make up.  Each image is a whole-disk ext4 root (no partition
# table) with a real /bin/bash, so it is still found as a Linux root.
#
#   big.img      /etc/os-release of 100 MB (sparse), debian_version 12.4,
#                a dpkg status whose second paragraph has a 10 MB line,
#                an /etc/fstab of 2 MB
#   links.img    /etc/os-release -> /../../../etc/os-release (a loop once
#                confined to the guest), /etc/lsb-release <-> /etc/lsb2 (a
#                loop), /etc/debian_version -> /../../../../etc/passwd (must
#                read the GUEST's passwd), /bin/bash -> /bin/bash2 -> /bin/bash,
#                /etc/hostname -> /proc/self/environ (not in the guest)
#   badutf8.img  release file, hostname and dpkg status with bytes that are
#                not UTF-8, control characters, U+FFFE, surrogates, overlongs
#   rpmtrunc.img a Fedora root whose rpmdb.sqlite is cut short
#   rpmlie.img   a Fedora root whose rpmdb.sqlite (made with the sqlite3
#                CLI) holds good headers from rpm and headers with lying
#                counts and offsets; good.txt lists the good packages
#   rpmview.img  rpmdb.sqlite whose Packages is a view that never ends
#   rpmvtab.img  rpmdb.sqlite whose Packages is an fts4 virtual table
#   rpmwal.img   a good rpmdb.sqlite with an rpmdb.sqlite-wal of garbage
#   rpmbdb.img   a root with only the old BerkeleyDB /var/lib/rpm/Packages
#   lie.sqlite   the lying database alone (for the unit test)
set -euo pipefail
OUT=$(realpath "$1")
mkdir -p "$OUT"
cd "$OUT"
rm -f ./*.img ./*.sqlite ./*.txt
export SOURCE_DATE_EPOCH=1700000000
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
U=01234567-0123-0123-0123-0123456789

mkfs() { # TREE IMG SIZE_MIB UUID
    find "$1" -exec touch -h -d @1700000000 {} +
    mke2fs -q -F -t ext4 -U "$4" -E hash_seed="$4" -d "$1" "$2" "$3"M
}
mkroot() { # DIR
    mkdir -p "$1"/{etc,bin,usr/bin,var/lib,root}
    cp /bin/bash "$1/bin/bash"
    echo "127.0.0.1 localhost" >"$1/etc/hosts"
}

# ---------------------------------------------------------------- big
T=$W/big
mkroot "$T"
truncate -s 100M "$T/etc/os-release"
echo 12.4 >"$T/etc/debian_version"
mkdir -p "$T/var/lib/dpkg"
{
    printf 'Package: small\nStatus: install ok installed\nVersion: 1.0-1\nDescription: fine\n\n'
    printf 'Package: huge\nStatus: install ok installed\nVersion: 2.0-1\nDescription: '
    head -c 10000000 /dev/zero | tr '\0' x
    printf '\n\nPackage: after\nStatus: install ok installed\nVersion: 3.0-1\nDescription: after the long line\n'
} >"$T/var/lib/dpkg/status"
{
    echo "UUID=${U}a1 / ext4 defaults 0 1"
    for i in $(seq 1 40000); do echo "/dev/sdq$i /mnt/$i ext4 defaults 0 0"; done
} >"$T/etc/fstab"
mkfs "$T" big.img 32 "${U}a1"

# ---------------------------------------------------------------- links
T=$W/links
mkroot "$T"
ln -s /../../../etc/os-release "$T/etc/os-release"
ln -s lsb2 "$T/etc/lsb-release"
ln -s lsb-release "$T/etc/lsb2"
ln -s /../../../../etc/passwd "$T/etc/debian_version"
echo "guest-passwd-line 7.3" >"$T/etc/passwd"
mv "$T/bin/bash" "$T/bin/ls"
ln -s /bin/bash2 "$T/bin/bash"
ln -s bash "$T/bin/bash2"
ln -s /proc/self/environ "$T/etc/hostname"
echo "UUID=${U}a2 / ext4 defaults 0 1" >"$T/etc/fstab"
mkfs "$T" links.img 8 "${U}a2"

# ---------------------------------------------------------------- badutf8
# strings that are not UTF-8, control characters, U+FFFE: the report must
# still be well-formed XML and strict JSON
T=$W/badutf8
mkroot "$T"
printf 'ID=debian\nVERSION_ID="12.1"\nPRETTY_NAME="Deb\xff\x02ian \xc3"\n' >"$T/etc/os-release"
printf 'host\x1bname\xfe\n' >"$T/etc/hostname"
mkdir -p "$T/var/lib/dpkg"
printf 'Package: latin1\nStatus: install ok installed\nVersion: 1.0-1\nDescription: caf\xe9 \x01ctl \xef\xbf\xbe \xed\xa0\x80 \xc0\xaf end\n more \xc3\n' \
    >"$T/var/lib/dpkg/status"
echo "UUID=${U}a9 / ext4 defaults 0 1" >"$T/etc/fstab"
mkfs "$T" badutf8.img 8 "${U}a9"

# ---------------------------------------------------------------- rpm
mkdir -p "$W/top/SPECS"
mkspec() { # name version
    printf 'Name: %s\nVersion: %s\nRelease: 1\nLicense: MIT\nSummary: %s package\n%%description\n%s\n%%files\n' \
        "$1" "$2" "$1" "$1" >"$W/top/SPECS/$1.spec"
    rpmbuild -bb --quiet --define "_topdir $W/top" --define '_buildhost fixture' \
        "$W/top/SPECS/$1.spec" >/dev/null 2>&1
}
mkspec alpha 1.0
mkspec beta 2.0
mkspec gamma 3.0
mkdir -p "$W/rpmdb"
rpm --define '_db_backend sqlite' --dbpath "$W/rpmdb" --initdb
rpm --define '_db_backend sqlite' --dbpath "$W/rpmdb" -i --justdb --nodeps --noscripts \
    --ignorearch "$W"/top/RPMS/*/*.rpm 2>/dev/null

fedora() { # DIR
    mkroot "$1"
    mkdir -p "$1/var/lib/rpm"
    printf 'ID=fedora\nVERSION_ID=39\nPRETTY_NAME="Fedora Linux 39"\n' >"$1/etc/os-release"
}
T=$W/rpmtrunc
fedora "$T"
head -c 40000 "$W/rpmdb/rpmdb.sqlite" >"$T/var/lib/rpm/rpmdb.sqlite"
echo "UUID=${U}a3 / ext4 defaults 0 1" >"$T/etc/fstab"
mkfs "$T" rpmtrunc.img 8 "${U}a3"

# The lying database: good blobs from rpm, then mutated copies of alpha's.
good=$(sqlite3 "$W/rpmdb/rpmdb.sqlite" "SELECT hex(blob) FROM Packages ORDER BY hnum LIMIT 1")
python3 - "$good" >"$W/lie.sql" <<'EOF'
import struct, sys
b = bytes.fromhex(sys.argv[1])
il, dl = struct.unpack(">II", b[:8])
def entry(i): return 8 + 16 * i
def find(tag):
    for i in range(il):
        if struct.unpack(">I", b[entry(i):entry(i) + 4])[0] == tag: return entry(i)
def patch(off, val):
    return b[:off] + struct.pack(">I", val) + b[off + 4:]
name = find(1000)
bad = [
    patch(0, 0x7fffffff),                       # il huge
    patch(4, 0x7fffffff),                       # dl huge
    patch(0, il + 1),                           # one entry more than there is
    patch(name + 8, dl),                        # NAME offset at the end of the store
    patch(name + 8, 0xfffffff0),                # NAME offset far outside
    patch(name + 4, 4),                         # NAME typed INT32
    patch(name + 12, 0),                        # NAME count 0
    b[:len(b) - 1],                             # cut short by one byte
    b[:8],                                      # header only
    b[:8 + 16 * il] + b"\xff" * dl,             # no NUL anywhere in the store
    b"",                                        # empty
    b"\x8e\xad\xe8\x01\0\0\0\0" + b[:20],       # magic, then too short
]
print("PRAGMA journal_mode=DELETE;")
print("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);")
for x in bad:
    print("INSERT INTO Packages (blob) VALUES (X'%s');" % x.hex())
print("INSERT INTO Packages (blob) VALUES ('a text, not a blob');")
EOF
sqlite3 "$W/rpmdb/rpmdb.sqlite" "SELECT 'INSERT INTO Packages (blob) VALUES (X''' || hex(blob) || ''');' FROM Packages ORDER BY hnum" >>"$W/lie.sql"
sqlite3 lie.sqlite <"$W/lie.sql" >/dev/null
rpm -qa --dbpath "$W/rpmdb" --qf '%{NAME} %{VERSION} %{RELEASE}\n' | LC_ALL=C sort >good.txt
T=$W/rpmlie
fedora "$T"
cp lie.sqlite "$T/var/lib/rpm/rpmdb.sqlite"
echo "UUID=${U}a4 / ext4 defaults 0 1" >"$T/etc/fstab"
mkfs "$T" rpmlie.img 8 "${U}a4"

# "Packages" a view over a query that never ends, and a virtual table
T=$W/rpmview
fedora "$T"
sqlite3 "$T/var/lib/rpm/rpmdb.sqlite" "CREATE VIEW Packages AS WITH RECURSIVE c(x) AS
    (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT zeroblob(64) AS blob FROM c;" >/dev/null
echo "UUID=${U}a6 / ext4 defaults 0 1" >"$T/etc/fstab"
mkfs "$T" rpmview.img 8 "${U}a6"
T=$W/rpmvtab
fedora "$T"
sqlite3 "$T/var/lib/rpm/rpmdb.sqlite" "CREATE VIRTUAL TABLE Packages USING fts4(blob);
    INSERT INTO Packages VALUES ('x');" >/dev/null
echo "UUID=${U}a7 / ext4 defaults 0 1" >"$T/etc/fstab"
mkfs "$T" rpmvtab.img 8 "${U}a7"

# a WAL of garbage next to a good database: its frames fail their
# checksums, sqlite must ignore them
T=$W/rpmwal
fedora "$T"
cp "$W/rpmdb/rpmdb.sqlite" "$T/var/lib/rpm/rpmdb.sqlite"
{ printf '\x37\x7f\x06\x82\x00\x2d\xe2\x18'; head -c 200000 /dev/urandom; } >"$T/var/lib/rpm/rpmdb.sqlite-wal"
echo "UUID=${U}a8 / ext4 defaults 0 1" >"$T/etc/fstab"
mkfs "$T" rpmwal.img 8 "${U}a8"

T=$W/rpmbdb
fedora "$T"
head -c 8192 /dev/zero >"$T/var/lib/rpm/Packages"
echo "UUID=${U}a5 / ext4 defaults 0 1" >"$T/etc/fstab"
mkfs "$T" rpmbdb.img 8 "${U}a5"
ls -l
