# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced (not run) by the fixture scripts that put ext filesystems made
# from trees into disk images.

# mkext TREE IMG SIZE_MIB TYPE UUID [LABEL]: a deterministic ext2/3/4 of
# TREE (fixed times, UUID, hash seed)
mkext() {
    find "$1" -exec touch -h -d @1700000000 {} +
    local lab=()
    [ $# -ge 6 ] && lab=(-L "$6")
    mke2fs -q -F -t "$4" -U "$5" -E hash_seed="$5" "${lab[@]}" -d "$1" "$2" "$3"M
}
# place FSIMG DISK START_SECTOR
place() { dd if="$1" of="$2" bs=512 seek="$3" conv=notrunc,sparse status=none; }
