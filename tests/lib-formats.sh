# SPDX-License-Identifier: GPL-2.0-or-later
# Checks shared by the image format tests (tests/15-*.t): each compares gimg
# with qemu-img (the oracle) on one image.
#   same_as_qemu FMT IMG [OPTS]   with -f FMT (a fixed VHD is probed as raw
#                                 by both): convert -O raw: the same bytes; map
#                                 --output=json and text: the same runs; info
#                                 --output=json: the same fields (less
#                                 qemu's "format-specific" object)
#   info_fields                   stdin JSON without "format-specific"
#   same_sparse A B DESC          same_file for sparse files: the same size
#                                 and bytes, reading only where either one
#                                 holds data (SEEK_DATA; holes are zeros)

info_fields() {
    python3 -c '
import json, sys
j = json.load(sys.stdin)
for o in (j if isinstance(j, list) else [j]):
    o.pop("format-specific", None)
print(json.dumps(j, sort_keys=True, indent=1))'
}

# cmp of the 5 GiB raw copies of tests/15-vmdk.t's big.vmdk read 10 GiB of
# holes: 18 s of CPU, half that test
same_sparse() { # A B DESC
    if python3 - "$1" "$2" <<'EOF'
import os, sys
a, b = (os.open(p, os.O_RDONLY) for p in sys.argv[1:3])
size = os.fstat(a).st_size
if size != os.fstat(b).st_size:
    sys.exit('sizes %d and %d' % (size, os.fstat(b).st_size))
def data(fd):
    off = 0
    while off < size:
        try:
            start = os.lseek(fd, off, os.SEEK_DATA)
        except OSError:          # ENXIO: no data past off
            return
        off = os.lseek(fd, start, os.SEEK_HOLE)
        yield start, off
end = -1
for start, stop in sorted(list(data(a)) + list(data(b))):
    start = max(start, end)      # what an earlier range did not cover
    while start < stop:
        n = min(1 << 20, stop - start)
        if os.pread(a, n, start) != os.pread(b, n, start):
            sys.exit('differ in the MiB at byte %d' % start)
        start += n
    end = max(end, stop)
EOF
    then
        _tap_result 0 "$3"
    else
        _tap_result 1 "$3"
    fi
}

same_as_qemu() { # FMT IMG [GIMG-OPTS...]
    local fmt=$1 img=$2; shift 2
    rm -f "$T/q.raw" "$T/g.raw"
    qemu-img convert -f "$fmt" -O raw "$img" "$T/q.raw"
    ok "convert $img runs" gimg convert -f "$fmt" "$@" -O raw "$img" "$T/g.raw"
    same_sparse "$T/g.raw" "$T/q.raw" "convert $img: same bytes as qemu-img convert"
    is "$(gimg map -f "$fmt" "$@" --output=json "$img" 2>&1)" "$(qemu-img map -f "$fmt" --output=json "$img" 2>&1)" \
        "map $img: as qemu-img map"
    is "$(gimg map -f "$fmt" "$@" "$img" 2>/dev/null; echo "[exit $?]")" \
       "$(qemu-img map -f "$fmt" "$img" 2>/dev/null; echo "[exit $?]")" "map $img (text): as qemu-img map"
    is "$(gimg info -f "$fmt" "$@" --output=json "$img" | info_fields)" \
        "$(qemu-img info -f "$fmt" --output=json "$img" | info_fields)" "info $img: the fields of qemu-img info"
}
