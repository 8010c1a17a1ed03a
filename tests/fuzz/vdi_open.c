/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: an arbitrary file opened as VDI (fmt-open.h). */
#define FUZZ_FORMAT "vdi"
#include "fmt-open.h"
