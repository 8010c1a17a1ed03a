/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the VHDX reader (lib/vhdx.c) and creator (lib/vhdx-create.c) share:
 * the GUIDs of the regions and metadata items, as stored (little-endian
 * fields), and the layout constants of the format. */
#ifndef GK_VHDX_H
#define GK_VHDX_H

#include <stdint.h>

#include "blk-int.h"

#define VHDX_KiB 1024ULL
#define VHDX_MiB (1024ULL * 1024)
#define BAT_NOT_PRESENT 0
#define BAT_ZERO 2
#define BAT_FULLY_PRESENT 6
#define BAT_PARTIALLY_PRESENT 7
#define BAT_OFF_MASK 0xfffffffffff00000ULL

enum { M_PARAMS, M_VSIZE, M_PAGE83, M_LSS, M_PSS, M_PARENT, M_N };
extern const uint8_t gk_vhdx_guid_bat[16], gk_vhdx_guid_meta[16], gk_vhdx_guid_items[M_N][16];

/* Entries of a BAT for a disk of data_blocks blocks: a sector bitmap entry
 * follows every chunk_ratio payload entries (none after the last). */
static inline uint64_t gk_vhdx_bat_entries(uint64_t data_blocks, uint64_t chunk_ratio)
{
    return data_blocks ? data_blocks + (data_blocks - 1) / chunk_ratio : 0;
}

/* gimg create -f vhdx (lib/vhdx-create.c). */
extern const gk_create_opt gk_vhdx_create_opts[];
int gk_vhdx_create(const char *location, gk_create_args *a);

#endif
