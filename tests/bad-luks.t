#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile LUKS headers (made from test-images/luks.sh's volumes): KDF costs
# over guestkit's bounds are refused naming the bound, offsets outside the
# device and damaged JSON are clear errors, a damaged LUKS2 primary header
# falls back to the secondary copy (as cryptsetup does), and seeded random
# mutations of headers and keyslots never crash or hang.
. "$(dirname "$0")/lib.sh"
D=$(fixture luks) || skip_all "fixture luks failed"
U=${GK_UNIT:-$TOP/build/tests}/unit-luks
P=$D/secret1.txt

# run_u DESC PATTERN ARGS...: unit-luks exits 1 with PATTERN in its message
refused() {
    local desc=$1 pat=$2 rc=0
    shift 2
    timeout 60 "$U" "$@" >"$T/out" 2>"$T/err" || rc=$?
    if [ "$rc" = 1 ] && grep -q -- "$pat" "$T/err" && [ ! -s "$T/out" ]; then
        _tap_result 0 "$desc"
    else
        _tap_result 1 "$desc"
        diag "rc $rc: $(head -c 600 "$T/err")"
    fi
}

# LUKS1: big-endian fields at fixed offsets
l1() { # OUT PYTHON-STATEMENTS on bytearray h (the whole image)
    python3 - "$D/l1-xts.img" "$1" "$2" <<'EOF'
import struct, sys
h = bytearray(open(sys.argv[1], "rb").read())
exec(sys.argv[3])
open(sys.argv[2], "wb").write(h)
EOF
}
l1 "$T/a.img" 'struct.pack_into(">I", h, 208 + 4, 0xffffffff)'
refused "LUKS1: 4G PBKDF2 iterations refused" "iterations refused (guestkit's limit is" key "$T/a.img" "$P"
l1 "$T/a.img" 'struct.pack_into(">I", h, 104, 0x7fffffff)'
refused "LUKS1: payload beyond the device" "outside the device" dump "$T/a.img"
l1 "$T/a.img" 'struct.pack_into(">I", h, 208 + 44, 0x7fffffff)'
refused "LUKS1: absurd AF stripes" "stripes" dump "$T/a.img"
l1 "$T/a.img" 'struct.pack_into(">I", h, 208 + 40, 0x7ffffff0)'
refused "LUKS1: key material outside the device" "outside the device" dump "$T/a.img"
l1 "$T/a.img" 'h[8:40] = b"serpent".ljust(32, b"\0")'
refused "LUKS1: a cipher guestkit cannot read is named" "serpent-xts-plain64 is not supported" dump "$T/a.img"
l1 "$T/a.img" 'struct.pack_into(">I", h, 108, 4096)'
refused "LUKS1: absurd key size" "volume key of 4096 bytes" dump "$T/a.img"

# the same headers as LUKS1 files (luks images, as qemu probes them):
# gimg info and convert refuse them clearly
for b in payload keybytes stripes; do
    case $b in
    payload) l1 "$T/f-$b.img" 'struct.pack_into(">I", h, 104, 0x7fffffff)' ;;
    keybytes) l1 "$T/f-$b.img" 'struct.pack_into(">I", h, 108, 4096)' ;;
    stripes) l1 "$T/f-$b.img" 'struct.pack_into(">I", h, 208 + 44, 0x7fffffff)' ;;
    esac
    fails_cleanly "LUKS1 file: a damaged header ($b) is refused by gimg info" gimg info "$T/f-$b.img"
    fails_cleanly "  and by gimg convert with a key" gimg convert --object secret,id=s,file="$P" \
        --image-opts "driver=luks,key-secret=s,file.filename=$T/f-$b.img" -O raw "$T/f.raw"
done
head -c 592 "$D/l1-xts.img" >"$T/short.img"
fails_cleanly "LUKS1 file: a header cut short is refused by gimg info" gimg info "$T/short.img"

# LUKS2: rewrite the JSON (and the checksum of the header it is in)
l2() { # OUT PYTHON-STATEMENTS on dict j; BOTH=1 also the secondary header
    python3 - "$D/l2-512.img" "$1" "$2" "${BOTH:-1}" <<'EOF'
import hashlib, json, struct, sys
h = bytearray(open(sys.argv[1], "rb").read())
hs = struct.unpack_from(">Q", h, 8)[0]
for base in ([0, hs] if sys.argv[4] == "1" else [0]):
    j = json.loads(bytes(h[base + 4096:base + hs]).rstrip(b"\0"))
    exec(sys.argv[3])
    t = json.dumps(j).encode()
    assert len(t) < hs - 4096
    h[base + 4096:base + hs] = t.ljust(hs - 4096, b"\0")
    h[base + 448:base + 512] = bytes(64)
    h[base + 448:base + 480] = hashlib.sha256(h[base:base + hs]).digest()
open(sys.argv[2], "wb").write(h)
EOF
}
l2 "$T/b.img" 'j["keyslots"]["0"]["kdf"]["memory"] = 4194304'
refused "LUKS2: 4 GiB of Argon2 memory refused" "guestkit's limits are" key "$T/b.img" "$P"
l2 "$T/b.img" 'j["keyslots"]["0"]["kdf"]["time"] = 100000'
refused "LUKS2: Argon2 time cost refused" "guestkit's limits are" key "$T/b.img" "$P"
l2 "$T/b.img" 'j["digests"]["0"]["iterations"] = 4000000000'
refused "LUKS2: digest iterations refused" "not usable" dump "$T/b.img"
l2 "$T/b.img" 'j["segments"]["1"] = dict(j["segments"]["0"])'
refused "LUKS2: two segments (reencryption) refused" "2 data segments" dump "$T/b.img"
l2 "$T/b.img" 'j["segments"]["0"]["offset"] = "9000000000"'
refused "LUKS2: segment offset beyond the device" "outside the device" dump "$T/b.img"
l2 "$T/b.img" 'j["keyslots"]["0"]["area"]["offset"] = "4096"'
refused "LUKS2: keyslot area inside the header" "overlaps the header" dump "$T/b.img"
l2 "$T/b.img" 'j["segments"]["0"]["integrity"] = {"type": "hmac(sha256)"}'
refused "LUKS2: integrity refused" "integrity protection" dump "$T/b.img"
l2 "$T/b.img" 'j["keyslots"]["0"]["kdf"]["type"] = "scrypt"'
refused "LUKS2: unknown KDF named" "KDF scrypt is not supported" dump "$T/b.img"
# deep nesting: json-c's depth limit
python3 - "$D/l2-512.img" "$T/b.img" <<'EOF'
import hashlib, struct, sys
h = bytearray(open(sys.argv[1], "rb").read())
hs = struct.unpack_from(">Q", h, 8)[0]
for base in (0, hs):
    t = b'{"x":' * 2000 + b'1' + b'}' * 2000
    h[base + 4096:base + hs] = t.ljust(hs - 4096, b"\0")
    h[base + 448:base + 512] = bytes(64)
    h[base + 448:base + 480] = hashlib.sha256(h[base:base + hs]).digest()
open(sys.argv[2], "wb").write(h)
EOF
refused "LUKS2: JSON nested 2000 deep refused" "JSON area" dump "$T/b.img"
# the primary header damaged: the secondary one is used, with a warning
BOTH=0 l2 "$T/b.img" 'pass'
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(5000); f.write(b"garbage")' "$T/b.img"
is "$("$U" key "$T/b.img" "$P" 2>&1 | tail -n 1)" "$(cat "$D/l2-512.vk")" \
    "LUKS2: a damaged primary header falls back to the secondary"
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(16384 + 5000); f.write(b"garbage")' "$T/b.img"
refused "LUKS2: both headers damaged" "checksum mismatch" dump "$T/b.img"

# seeded random mutations of the headers and the first keyslot
crashes=0 slow=0
n=15; [ "$GK_SAN" = 1 ] && n=5
for v in l1-xts l2-512; do
    for seed in $(seq 1 "$n"); do
        python3 - "$D/$v.img" "$T/m.img" "$seed" <<'EOF'
import random, sys
h = bytearray(open(sys.argv[1], "rb").read())
r = random.Random(int(sys.argv[3]))
limit = 592 if h[7] == 1 else 16384
for _ in range(r.randint(1, 8)):
    i = r.randrange(0, limit) if r.random() < 0.8 else r.randrange(4096, 40000)
    h[i] = r.randrange(256)
open(sys.argv[2], "wb").write(h)
EOF
        rc=0
        timeout 30 "$U" cat "$T/m.img" "$P" >/dev/null 2>"$T/err" || rc=$?
        case $rc in 0|1|2) ;; 124) slow=$((slow + 1)) ;; *) crashes=$((crashes + 1)); diag "$v seed $seed: rc $rc";; esac
    done
done
is "$crashes:$slow" "0:0" "mutated headers: no crash, no hang"

# through a tool: a damaged header inside a guest is a clear error
python3 - "$D/guest.img" "$T/g.img" <<'EOF'
import sys
h = bytearray(open(sys.argv[1], "rb").read())
i = h.index(b"LUKS\xba\xbe\x00\x02")
h[i + 4096:i + 4106] = b"[[[[[[[[[["
h[i + 16384 + 4096:i + 16384 + 4106] = b"[[[[[[[[[["
open(sys.argv[2], "wb").write(h)
EOF
fails_cleanly "gcat: a guest LUKS header damaged is a clear error" gcat -a "$T/g.img" --key /dev/sda2:key:guestpass /etc/hostname
grep -q "/dev/sda2: LUKS2 header checksum mismatch" "$T/fc.err"
_tap_result $? "... naming the device and what is wrong"

done_testing
