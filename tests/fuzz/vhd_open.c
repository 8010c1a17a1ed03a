/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: an arbitrary file opened as VHD (fmt-open.h). */
#define FUZZ_FORMAT "vpc"
#include "fmt-open.h"
