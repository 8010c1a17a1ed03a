#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Creating encrypted qcow2 images (gimg create / convert -O qcow2 with
# --object secret and -o encrypt.format=luks,...) against qemu-img create
# with the same options: the same line, the same file byte for byte except
# what is random (the LUKS header's digest, salts, iteration counts, UUID
# and keyslot 0's material), the same qemu-img info but for those, qemu-img
# check clean with the key; cryptsetup luksDump shows the same header as
# for qemu's (masking the same fields) and opens keyslot 0 with the
# passphrase; qemu-img convert with the key decrypts what gimg convert
# wrote to the source's bytes.  Options qemu refuses: its messages; the
# legacy AES format and what guestkit cannot make: a clear refusal.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || skip_all "needs qemu-img"
mkdir -p "$T/q" "$T/g"
cd "$T"
printf 'create pass' >pass.txt
SEC=(--object secret,id=sec0,file=$T/pass.txt)
B=encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10
iopts() { echo "driver=qcow2,file.filename=$1,encrypt.key-secret=sec0"; }

qemu_create() { # DIR ARGS...: qemu-img create's output
    local d=$1; shift
    (cd "$d" && qemu-img create "$@" 2>&1)
}

# The random fields of a LUKS1 header at offset H of file F zeroed, and
# keyslot 0's material (K bytes at H + 4096).
mask() { # FILE H K
    python3 - "$@" <<'EOF'
import sys
f, h, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
b = bytearray(open(f, 'rb').read())
for off, n in ((112, 20), (132, 32), (164, 4), (168, 40), (212, 4), (216, 32), (4096, k)):
    b[h + off:h + off + n] = bytes(n)
open(f, 'wb').write(b)
EOF
}
norm_info() { # the random fields of qemu-img info --output=json
    sed -E 's/"(uuid)": "[^"]*"/"\1": "U"/; s/"(iters|master-key-iters)": [0-9]+/"\1": N/'
}

create_like() { # KEYBYTES SIZE OPTIONS...
    local kb=$1 size=$2 qo go gr=0; shift 2
    rm -f q/img g/img
    qo=$(qemu_create q "${SEC[@]}" "$@" img $size) || { ok "qemu-img create $* (skipped: $qo)" true; return; }
    go=$(cd g && gimg create "${SEC[@]}" "$@" img $size 2>&1) || gr=$?
    is "$go [exit $gr]" "$qo [exit 0]" "create $*: qemu-img's line"
    local q=($(crypto_ext q/img)) g=($(crypto_ext g/img))
    is "${g[*]}" "${q[*]}" "  ... the LUKS header where qemu puts it (${q[*]})"
    is "$(gimg info --output=json g/img | norm_info | sed 's/g\/img/IMG/')" \
        "$(qemu-img info --output=json q/img | norm_info | sed 's/q\/img/IMG/')" \
        "  ... qemu-img info: the same but for the random fields"
    ok "  ... qemu-img check with the key is clean" qemu-img check "${SEC[@]}" --image-opts "$(iopts g/img)"
    if [ -n "${g[0]}" ]; then
        dd if=g/img of=g.hdr bs=512 skip=$((g[0] / 512)) count=$((g[1] / 512)) status=none
        dd if=q/img of=q.hdr bs=512 skip=$((q[0] / 512)) count=$((q[1] / 512)) status=none
        ok "  ... cryptsetup opens keyslot 0 with the passphrase" \
            cryptsetup luksDump --dump-volume-key --batch-mode --key-file pass.txt g.hdr
        local dm='/^(MK digest|MK salt|MK iter|UUID|LUKS header info)/d; /^\t(Iterations|Salt)/d; /^[ \t]+[0-9a-f]{2} /d'
        is "$(cryptsetup luksDump g.hdr | sed -E "$dm")" "$(cryptsetup luksDump q.hdr | sed -E "$dm")" \
            "  ... cryptsetup luksDump: qemu's header but for the random fields"
        mask g/img "${g[0]}" $((kb * 4000))
        mask q/img "${q[0]}" $((kb * 4000))
    fi
    same_file g/img q/img "  ... qemu-img's bytes but for the random fields"
}

create_like 64 4M -f qcow2 -o $B
create_like 16 4M -f qcow2 -o "$B,encrypt.cipher-alg=aes-128,encrypt.cipher-mode=cbc,encrypt.ivgen-alg=essiv,encrypt.hash-alg=sha1,cluster_size=4k,compat=0.10"
create_like 64 0 -f qcow2 -o "$B,extended_l2=on,cluster_size=128k,lazy_refcounts=on"

# gimg convert into an encrypted image: qemu decrypts the source's bytes;
# gimg reads them back with the key, and writes no plaintext
seeded_bytes 83 $((3 << 20)) >src.raw
truncate -s 5M src.raw
ok "convert -O qcow2 -o encrypt.format=luks" \
    gimg convert -f raw src.raw "${SEC[@]}" -O qcow2 -o "$B,cluster_size=32k" enc.qcow2
ok "  ... qemu-img check with the key is clean" qemu-img check "${SEC[@]}" --image-opts "$(iopts enc.qcow2)"
qemu-img convert "${SEC[@]}" --image-opts "$(iopts enc.qcow2)" -O raw back.raw
same_file back.raw src.raw "  ... qemu-img convert with the key gives the source's bytes"
ok "  ... gimg compare with the key: identical" \
    gimg compare "${SEC[@]}" --image-opts "$(iopts enc.qcow2)" driver=raw,file.filename=src.raw
ok "  ... no plaintext cluster in the file" python3 -c "
import sys
s = open('src.raw', 'rb').read(32768)
sys.exit(s in open('enc.qcow2', 'rb').read())"

# measure: the LUKS header's clusters counted, as qemu-img counts them
# (qemu-img measure runs its PBKDF benchmark for LUKS: two cases only)
for o in "$B,encrypt.cipher-alg=aes-128,cluster_size=4k" encrypt.format=aes,encrypt.key-secret=sec0; do
    is "$(gimg measure "${SEC[@]}" -O qcow2 -o "$o" --size 100M 2>&1)" \
       "$(qemu-img measure "${SEC[@]}" -O qcow2 -o "$o" --size 100M 2>&1)" "measure -o $o: qemu-img's sizes"
done
is "$(gimg measure "${SEC[@]}" -O qcow2 -o "$B" -f raw src.raw 2>&1)" \
   "$(qemu-img measure "${SEC[@]}" -O qcow2 -o "$B" -f raw src.raw 2>&1)" "measure of an image: qemu-img's sizes"

# what qemu refuses: its message
refuse_like() { # OPTIONS
    local qo go gr=0 qr=0
    rm -f q/img g/img
    qo=$(cd q && qemu-img create -f qcow2 "${SEC[@]}" -o "$1" img 1M 2>&1) || qr=$?
    go=$(cd g && gimg create -f qcow2 "${SEC[@]}" -o "$1" img 1M 2>&1) || gr=$?
    is "${go//gimg:/qemu-img:} [exit $gr]" "$qo [exit $qr]" "create -o $1: qemu-img's refusal"
}
refuse_like encrypt.format=luks
refuse_like encrypt.format=luks,encrypt.key-secret=nosuch
refuse_like encrypt.format=foo,encrypt.key-secret=sec0
refuse_like encrypt.key-secret=sec0
refuse_like encryption=on,encrypt.format=luks
refuse_like "$B,encrypt.hash-alg=md4"
refuse_like "$B,encrypt.cipher-alg=aes-333"
refuse_like "$B,encrypt.iter-time=soon"
refuse_like "$B,encrypt.cipher-mode=cbc,encrypt.ivgen-alg=essiv,encrypt.ivgen-hash-alg=sha1"

# what guestkit does not make: said clearly, no file left
for o in encrypt.format=aes,encrypt.key-secret=sec0 encryption=on,encrypt.key-secret=sec0 \
         "$B,encrypt.cipher-alg=twofish-256" "$B,encrypt.cipher-mode=ecb" \
         "$B,encrypt.cipher-alg=aes-192,encrypt.cipher-mode=cbc" "$B,encrypt.ivgen-hash-alg=sha256" \
         "$B,data_file=data.raw"; do
    rm -f g/img
    fails_cleanly "create -o $o: refused" gimg create -q -f qcow2 "${SEC[@]}" -o "$o" g/img 1M
    ok "  ... no image left" test ! -e g/img
done
fails_cleanly "encrypt.format=aes: refused" gimg create -q -f qcow2 "${SEC[@]}" \
    -o encrypt.format=aes,encrypt.key-secret=sec0 g/img 1M
ok "  ... saying why and what to use" grep -q "legacy qcow2 AES encryption is not supported.*encrypt.format=luks" "$T/fc.err"
fails_cleanly "convert -c into an encrypted image: refused" \
    gimg convert -c -f raw src.raw "${SEC[@]}" -O qcow2 -o "$B" c.qcow2

done_testing
