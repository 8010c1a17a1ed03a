/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target: an arbitrary file opened as VMDK (fmt-open.h). */
#define FUZZ_FORMAT "vmdk"
#include "fmt-open.h"
