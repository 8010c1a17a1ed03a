#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A short run of the qcow2 crash test (tests/crash/qcow2-crash.sh): writers
# killed at random writes (some torn), then qemu-img check finds no
# corruption, flushed writes read back, qemu-io writes on.  Fixed seed: the
# same kill points in every run.  Long campaigns: run the script with more
# iterations and other seeds.
. "$(dirname "$0")/lib-qcow2-crash.sh"
qcow2_crash 8 4
