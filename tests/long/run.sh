#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The long versions of the tests whose make-check run is a bounded sample
# (not part of make check; GK_LONG=1 selects them, see each test's header):
# the whole snapshot and resize matrices, amend on qemu's default cluster
# size, every write a kill point in the gimg crash tests, every corrupt NTFS
# image and registry hive of bad-ntfs.t; then the crash
# campaign (tests/crash/campaign.sh, ITER kill points per writer; it runs
# the gimg crash tests with GK_LONG=1 again, on top of the others).
#
#   nice tests/long/run.sh [ITER]       (hours on a shared machine)
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 2
rc=0
GK_LONG=1 prove tests/18-gimg-snapshot-write.t tests/18-gimg-resize.t tests/20-gimg-amend.t || rc=1
GK_BAD_STEP=1 prove tests/bad-ntfs.t || rc=1
tests/crash/campaign.sh "${1:-200}" || rc=1
exit $rc
