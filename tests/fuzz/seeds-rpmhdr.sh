#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Seeds for the rpmhdr fuzz target: the header blobs of a database made by
# rpm itself (rpmbuild + rpm -i --justdb, sqlite backend).
set -eu
c=${1:?usage: seeds-rpmhdr.sh CORPUS}
command -v rpmbuild >/dev/null && command -v sqlite3 >/dev/null || exit 0
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
mkdir -p "$w/top/SPECS" "$w/db"
for p in "one 1.0" "two 2.5" "three 10"; do
    set -- $p
    printf 'Name: %s\nVersion: %s\nRelease: 1\nLicense: MIT\nURL: https://example.org/\nSummary: s\n%%description\nd\n%%files\n' \
        "$1" "$2" >"$w/top/SPECS/$1.spec"
    rpmbuild -bb --quiet --define "_topdir $w/top" "$w/top/SPECS/$1.spec" >/dev/null 2>&1
done
rpm --define '_db_backend sqlite' --dbpath "$w/db" --initdb
rpm --define '_db_backend sqlite' --dbpath "$w/db" -i --justdb --nodeps --noscripts \
    --ignorearch "$w"/top/RPMS/*/*.rpm >/dev/null 2>&1
sqlite3 "$w/db/rpmdb.sqlite" "SELECT writefile('$c/hdr' || hnum, blob) FROM Packages" >/dev/null
