#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A short run of the qcow2 crash test on LUKS-encrypted images
# (tests/crash/qcow2-crash.sh with CRASH_CRYPT=1): writers that write
# through the key killed at random writes (some torn), then qemu-img check
# with the key finds no corruption, flushed writes read back through
# qemu's decryption, qemu-io writes on.  One iteration per layout and one
# gimg convert -O qcow2 -o encrypt.*; fixed seed.  Longer campaigns: run
# the script with more iterations and other seeds.
. "$(dirname "$0")/lib-qcow2-crash.sh"
export CRASH_CRYPT=1
qcow2_crash 5 3
