/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: an arbitrary file opened as VHDX (fmt-open.h); the
 * structures sit at 64 KiB to 256 KiB and 1 MiB up, so the seeds are whole
 * small images. */
#define FUZZ_FORMAT "vhdx"
#include "fmt-open.h"
