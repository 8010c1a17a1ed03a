#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile encrypted qcow2 images: luks.qcow2 of test-images/qcow2-crypt.sh
# with its encryption header extension, its LUKS header (inside the image)
# or its encryption method changed.  Every read is refused with a one-line
# message (a KDF cost over the bounds of HACKING "Resources" is refused
# before it is paid), within bounded CPU time, and info never crashes.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
D=$(fixture qcow2-crypt) || exit 1
SEC=(--object secret,id=sec0,file="$D/secret.txt")

# mutate NAME PYTHON: $T/NAME.qcow2 = luks.qcow2 changed by PYTHON, which
# sees the image as bytearray b, the header extension's data offset as
# ext, the LUKS header's offset as lh, and be32/be64 writers
mutate() {
    python3 - "$D/luks.qcow2" "$T/$1.qcow2" "$2" <<'EOF'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
hl = struct.unpack_from(">I", b, 100)[0]
p, ext = hl, None
while p + 8 <= 65536:
    t, n = struct.unpack_from(">II", b, p)
    if t == 0:
        break
    if t == 0x0537be77:
        ext = p + 8
    p += 8 + (n + 7) // 8 * 8
lh = struct.unpack_from(">Q", b, ext)[0]
def be32(o, v): struct.pack_into(">I", b, o, v)
def be64(o, v): struct.pack_into(">Q", b, o, v)
exec(sys.argv[3])
open(sys.argv[2], "wb").write(b)
EOF
}
refused() { # NAME DESCRIPTION [EXPECTED TEXT]
    local img=$T/$1.qcow2
    fails_cleanly "$2: convert refused" gimg convert "${SEC[@]}" --image-opts \
        "driver=qcow2,file.filename=$img,encrypt.key-secret=sec0" -O raw "$T/out.raw"
    [ -z "${3:-}" ] || ok "  ... saying: $3" grep -qF -- "$3" "$T/fc.err"
    local rc=0
    bounded 20 gimg info "$img" >/dev/null 2>"$T/info.err" || rc=$?
    ok "  ... and info answers without crashing (exit $rc)" test "$rc" -le 1
}

mutate method3 'be32(32, 3)'
refused method3 "encryption method 3" "unsupported encryption method 3"
mutate aes-with-ext 'be32(32, 1)'
refused aes-with-ext "AES with a LUKS header extension" "encryption header extension without LUKS"
mutate ext-past-end 'be64(ext, len(b) + 65536)'
refused ext-past-end "LUKS header offset past the end" "outside the image"
mutate ext-len0 'be64(ext + 8, 0)'
refused ext-len0 "LUKS header length 0"
mutate ext-len-huge 'be64(ext + 8, 1 << 62)'
refused ext-len-huge "LUKS header length 2^62" "outside the image"
mutate ext-wrap 'be64(ext, (1 << 64) - 512); be64(ext + 8, 4096)'
refused ext-wrap "LUKS header offset wrapping around" "outside the image"
mutate ext-short 'be64(ext + 8, 100)'
refused ext-short "LUKS header area shorter than a LUKS1 header"
mutate magic 'b[lh:lh + 6] = b"XXXXXX"'
refused magic "no LUKS magic" "not a LUKS header"
mutate slot-iter 'be32(lh + 208 + 4, 0xffffffff)'
refused slot-iter "keyslot PBKDF2 iterations 2^32-1" "20000000"
mutate mk-iter 'be32(lh + 164, 0xffffffff)'
refused mk-iter "digest iterations 2^32-1" "4294967295 iterations"
mutate stripes 'be32(lh + 208 + 44, 0xffffffff)'
refused stripes "AF stripes 2^32-1"
mutate keymat 'be32(lh + 208 + 40, 0x7fffffff)'
refused keymat "key material past the LUKS area"
mutate keybytes 'be32(lh + 108, 4096)'
refused keybytes "a 4096-byte volume key"
mutate keybytes0 'be32(lh + 108, 0)'
refused keybytes0 "a 0-byte volume key"
mutate cipher 'b[lh + 8:lh + 40] = b"nosuchcipher".ljust(32, b"\0")'
refused cipher "an unknown cipher" "nosuchcipher"
mutate mode 'b[lh + 40:lh + 72] = b"xts-benbi".ljust(32, b"\0")'
refused mode "an unknown IV generator"
mutate noslot 'be32(lh + 208, 0xdead)'
refused noslot "no active keyslot"
# an L2 entry of the first data cluster marked compressed: encrypted
# images have none (qemu never writes them)
mutate compressed '
l1 = struct.unpack_from(">Q", b, 40)[0]
l2 = struct.unpack_from(">Q", b, l1)[0] & 0x00fffffffffffe00
e = struct.unpack_from(">Q", b, l2)[0]
be64(l2, e | (1 << 62))'
refused compressed "a compressed cluster" "compressed cluster in an encrypted image"

# amend of keyslots on hostile headers: an inactive keyslot whose area lies
# in the payload, over another keyslot's, or has no stripes is not written
# (the message names it), the image is left byte for byte as it was
IO="driver=qcow2,file.filename=$T/AM.qcow2,encrypt.key-secret=sec0"
amend_refused() { # NAME DESCRIPTION OPTIONS TEXT
    local sum
    sum=$(sha256sum <"$T/$1.qcow2")
    fails_cleanly "$2: amend refused" gimg amend "${SEC[@]}" --object secret,id=n,data=new -o "$3" \
        --image-opts "${IO/AM/$1}"
    ok "  ... saying: $4" grep -qF -- "$4" "$T/fc.err"
    is "$(sha256sum <"$T/$1.qcow2")" "$sum" "  ... the image is untouched"
}
mutate am-payload 'be32(lh + 208 + 48 * 3 + 40, struct.unpack_from(">I", b, lh + 104)[0] - 8)'
amend_refused am-payload "amend into a keyslot whose area reaches the payload" \
    encrypt.state=active,encrypt.new-secret=n,encrypt.keyslot=3,encrypt.iter-time=10 "overlapping with the encrypted payload"
mutate am-overlap 'be32(lh + 208 + 48 * 3 + 40, struct.unpack_from(">I", b, lh + 208 + 40)[0] + 8)'
amend_refused am-overlap "amend into a keyslot over keyslot 0's area" \
    encrypt.state=active,encrypt.new-secret=n,encrypt.keyslot=3,encrypt.iter-time=10 "Keyslots 0 and 3 are overlapping"
mutate am-stripes 'be32(lh + 208 + 48 * 2 + 44, 0)'
amend_refused am-stripes "amend into a keyslot of 0 stripes" \
    encrypt.state=active,encrypt.new-secret=n,encrypt.keyslot=2,encrypt.iter-time=10 "0 stripes"
mutate am-stripes-huge 'be32(lh + 208 + 48 * 2 + 44, 0xffffffff)'
amend_refused am-stripes-huge "--force erase of a keyslot of 2^32-1 stripes" \
    encrypt.state=inactive,encrypt.keyslot=2 "already erased"
fails_cleanly "  ... and with --force" gimg amend "${SEC[@]}" --force -o encrypt.state=inactive,encrypt.keyslot=2 \
    --image-opts "${IO/AM/am-stripes-huge}"
ok "  ... saying: 4294967295 stripes" grep -qF "4294967295 stripes" "$T/fc.err"

# bad --object and --image-opts: one line, exit 1
L=$D/luks.qcow2
for o in secret secret,id=a secret,id=a,data=x,data=y secret,id=a,file=/nonexistent \
    secret,id=a,data=abc,format=base64 secret,id=a,data=x,format=hex foo,id=a ,,,, \
    secret,id=a,data=x,keyid=k; do
    fails_cleanly "--object $o refused" gimg map --object "$o" --image-opts "driver=qcow2,file.filename=$L"
done
fails_cleanly "two secrets with one id" gimg map --object secret,id=a,data=x --object secret,id=a,data=y \
    --image-opts "driver=qcow2,file.filename=$L,encrypt.key-secret=a"
for io in "" driver=qcow2 "file.filename=$L,encrypt.key-secret=nosuch" "driver=nosuch,file.filename=$L" \
    "$L" "driver=qcow2,file.filename=$L,encrypt.format=rot13" "driver=qcow2,file.filename=$L,evil=1" \
    "driver=qcow2,file.filename=$L,file.driver=nbd"; do
    fails_cleanly "--image-opts '$io' refused" gimg map "${SEC[@]}" --image-opts "$io"
done
fails_cleanly "a backing key other than the image's" gimg map "${SEC[@]}" --object secret,id=b,data=other \
    --image-opts "driver=qcow2,file.filename=$D/top.qcow2,encrypt.key-secret=sec0,backing.encrypt.key-secret=b"

# lists qemu-img 7.2 refuses: its message (gimg's name where qemu says
# "qemu-img: Could not open 'LIST': ") and its exit status.  The list is $io.
as_qemu() { # DESCRIPTION COMMAND ARGS...
    local desc=$1 g q gr=0 qr=0
    shift
    g=$(gimg "$@" 2>&1 >/dev/null) || gr=$?
    q=$(qemu-img "$@" 2>&1 >/dev/null) || qr=$?
    q=${q/#"qemu-img: Could not open '$io': "/gimg: }
    is "$g [exit $gr]" "${q/#qemu-img: /gimg: } [exit $qr]" "$desc"
}
Top=$D/top.qcow2
for io in "filename=$L" "filename=$L,encrypt.key-secret=sec0" "driver=qcow2,filename=$L" \
    "driver=luks,filename=$L" "driver=qcow2,file.driver=file,filename=$L" "file.driver=file" \
    driver=qcow2 "" "driver=qcow2,file.filename=$L,filename=$L" "file.filename=$L,filename=$L" \
    "driver=qcow2,file.filename=$Top,encrypt.key-secret=sec0,backing.encrypt.key-secret=sec0" \
    "file.filename=$Top,backing.encrypt.key-secret=sec0"; do
    as_qemu "info --image-opts '$io': as qemu-img" info "${SEC[@]}" --image-opts "$io"
done
io="driver=qcow2,file.filename=$Top,backing.encrypt.key-secret=sec0"
as_qemu "-f with a bad list: as qemu-img" info -f qcow2 --image-opts "filename=$L"
as_qemu "info --backing-chain with a backing key: as qemu-img" info --backing-chain "${SEC[@]}" --image-opts "$io"
cp "$Top" "$T/rb.qcow2"
io="driver=qcow2,file.filename=$T/rb.qcow2,encrypt.key-secret=sec0,backing.encrypt.key-secret=sec0"
as_qemu "rebase -u with a backing key: as qemu-img" rebase -u -b "$D/base.qcow2" -F qcow2 "${SEC[@]}" --image-opts "$io"
ok "  ... the image left as it was" cmp -s "$Top" "$T/rb.qcow2"

# No key given: every tool names the missing key, whatever the heap held
# (MALLOC_PERTURB_ fills new allocations: a -a drive's kept key was left
# uninitialized once, and its garbage was taken for a key)
for img in luks aes; do
    [ -e "$D/$img.qcow2" ] || continue
    for t in gcat ginspect; do
        set -- /etc/hostname
        [ $t = ginspect ] && set --
        MALLOC_PERTURB_=85 fails_cleanly "$img, no key, $t: refused" $t -a "$D/$img.qcow2" "$@"
        is "$(grep -c 'no key was given' "$T/fc.err")" 1 "$img, no key, $t: the message names the missing key"
    done
done
done_testing
