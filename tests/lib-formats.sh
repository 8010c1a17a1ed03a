# SPDX-License-Identifier: GPL-2.0-or-later
# Checks shared by the image format tests (tests/15-*.t): each compares gimg
# with qemu-img (the oracle) on one image.
#   same_as_qemu FMT IMG [OPTS]   with -f FMT (a fixed VHD is probed as raw
#                                 by both): convert -O raw: the same bytes; map
#                                 --output=json: the same runs; info
#                                 --output=json: the same fields (less
#                                 qemu's "format-specific" object)
#   info_fields                   stdin JSON without "format-specific"

info_fields() {
    python3 -c '
import json, sys
j = json.load(sys.stdin)
for o in (j if isinstance(j, list) else [j]):
    o.pop("format-specific", None)
print(json.dumps(j, sort_keys=True, indent=1))'
}

same_as_qemu() { # FMT IMG [GIMG-OPTS...]
    local fmt=$1 img=$2; shift 2
    rm -f "$T/q.raw" "$T/g.raw"
    qemu-img convert -f "$fmt" -O raw "$img" "$T/q.raw"
    ok "convert $img runs" gimg convert -f "$fmt" "$@" -O raw "$img" "$T/g.raw"
    same_file "$T/g.raw" "$T/q.raw" "convert $img: same bytes as qemu-img convert"
    is "$(gimg map -f "$fmt" "$@" --output=json "$img" 2>&1)" "$(qemu-img map -f "$fmt" --output=json "$img" 2>&1)" \
        "map $img: as qemu-img map"
    is "$(gimg info -f "$fmt" "$@" --output=json "$img" | info_fields)" \
        "$(qemu-img info -f "$fmt" --output=json "$img" | info_fields)" "info $img: the fields of qemu-img info"
}
