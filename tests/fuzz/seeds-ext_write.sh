#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Seeds for the ext write fuzz target: the ext target's (tiny mke2fs -d
# images; at most 128 KiB, too small for a journal: tests/bad-ext-write.t
# covers journals under ASan).
exec "$(dirname "$0")/seeds-ext.sh" "$@"
