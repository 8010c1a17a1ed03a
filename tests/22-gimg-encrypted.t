#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg resize, amend, measure, commit and rebase of LUKS-encrypted qcow2
# images, the key given as qemu-img takes it (--object secret,...
# --image-opts driver=qcow2,file.filename=F,encrypt.key-secret=ID), against
# qemu-img doing the same on copies (the oracle): the same output and exit
# status, then qemu-img compare (decrypting both) finds the same contents,
# qemu-img map --output=json the same allocation, and qemu-img check is
# clean.  Without the key every one refuses and leaves the image as it was.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip_all "needs qemu-img and qemu-io"
cd "$T"
printf 'qcow2 pass' >secret.txt
SEC=(--object "secret,id=sec0,file=$T/secret.txt")
B=,backing.encrypt.key-secret=sec0
opts() { echo "driver=qcow2,file.filename=$1,encrypt.key-secret=sec0${2:-}"; }
mkcrypt() { # IMG SIZE [qemu-img create args...]
    local img=$1 size=$2
    shift 2
    qemu-img create -q -f qcow2 "${SEC[@]}" \
        -o encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=10 "$@" "$img" "$size"
}
io() { # IMG EXTRA-OPTS qemu-io commands...
    local img=$1 x=$2 c a=()
    shift 2
    for c in "$@"; do a+=(-c "$c"); done
    qemu-io "${SEC[@]}" --image-opts "$(opts "$img" "$x")" "${a[@]}" >/dev/null
}

# base.qcow2 <- top.qcow2, both encrypted with the same secret
mkcrypt base.qcow2 4M || exit 1
io base.qcow2 "" 'write -P 0x11 0 3M' 'write -z 1M 64k' 'write -P 0x12 4090k 6k'
mkcrypt top.qcow2 4M -u -b base.qcow2 -F qcow2 || exit 1
io top.qcow2 "$B" 'write -P 0x22 512k 1M' 'write -P 0x33 3m 5k' 'write -z 2m 128k'
qemu-img create -q -f raw new.raw 4M
qemu-io -f raw -c 'write -P 0x11 0 1M' new.raw >/dev/null

fresh() { # copies for each tool: g/ for gimg, q/ for qemu-img
    rm -rf g q
    mkdir g q
    cp base.qcow2 top.qcow2 new.raw g/
    cp base.qcow2 top.qcow2 new.raw q/
}
# both tools, each in its own copy: the same stdout, stderr, exit status
both() { # DESC ARGS...
    local desc=$1 go qo gr=0 qr=0
    shift
    go=$(cd g && gimg "$@" 2>&1) || gr=$?
    qo=$(cd q && qemu-img "$@" 2>&1) || qr=$?
    is "${go//gimg:/qemu-img:} [exit $gr]" "$qo [exit $qr]" "$desc: qemu-img's output and status"
}
# the image in g/ reads, maps and checks as the one in q/
same() { # DESC IMG [EXTRA-OPTS]
    local desc=$1 img=$2 x=${3:-}
    ok "$desc: qemu-img compare finds qemu's contents" \
        qemu-img compare "${SEC[@]}" --image-opts "$(opts "g/$img" "$x")" "$(opts "q/$img" "$x")"
    is "$(qemu-img map --output=json "${SEC[@]}" --image-opts "$(opts "g/$img" "$x")" 2>&1)" \
        "$(qemu-img map --output=json "${SEC[@]}" --image-opts "$(opts "q/$img" "$x")" 2>&1)" \
        "$desc: qemu-img map gives qemu's allocation"
    is "$(qemu-img info "g/$img" | grep -E '^(virtual size|backing file)' | sed 's|g/||')" \
        "$(qemu-img info "q/$img" | grep -E '^(virtual size|backing file)' | sed 's|q/||')" \
        "$desc: qemu-img info gives qemu's size and backing file"
    ok "$desc: qemu-img check clean" qemu-img check -q "${SEC[@]}" --image-opts "$(opts "g/$img" "$x")"
}

fresh
both "resize +2M" resize "${SEC[@]}" --image-opts "$(opts base.qcow2)" +2M
same "resize +2M" base.qcow2
both "resize --shrink 3M" resize --shrink "${SEC[@]}" --image-opts "$(opts top.qcow2 "$B")" 3M
same "resize --shrink 3M" top.qcow2 "$B"
both "resize -f with --image-opts" resize -f qcow2 "${SEC[@]}" --image-opts "$(opts top.qcow2)" 5M

fresh
both "amend lazy_refcounts=on" amend -o lazy_refcounts=on "${SEC[@]}" --image-opts "$(opts base.qcow2)"
both "amend compat=0.10" amend -o compat=0.10 "${SEC[@]}" --image-opts "$(opts top.qcow2 "$B")"
is "$(qemu-img info g/top.qcow2 | grep -E 'compat|lazy')" "$(qemu-img info q/top.qcow2 | grep -E 'compat|lazy')" \
    "amend: qemu-img info shows qemu's compat and lazy refcounts"
same "amend" base.qcow2
# qemu 7.2's downgrade writes the zeros of zero clusters unencrypted (its
# expand_zero_clusters bypasses the encryption: they then read as garbage):
# its reading of the image before the downgrade is the oracle there
ok "amend compat=0.10: qemu-img compare finds what the image held" \
    qemu-img compare "${SEC[@]}" --image-opts "$(opts g/top.qcow2 "$B")" "$(opts top.qcow2 "$B")"
is "$(qemu-img map --output=json "${SEC[@]}" --image-opts "$(opts g/top.qcow2 "$B")" 2>&1)" \
    "$(qemu-img map --output=json "${SEC[@]}" --image-opts "$(opts q/top.qcow2 "$B")" 2>&1)" \
    "amend compat=0.10: qemu-img map gives qemu's allocation"
ok "amend compat=0.10: qemu-img check clean" qemu-img check -q "${SEC[@]}" --image-opts "$(opts g/top.qcow2 "$B")"

both "measure" measure -O qcow2 "${SEC[@]}" --image-opts "$(opts base.qcow2)"
both "measure --output=json of a chain" measure --output=json -O qcow2 "${SEC[@]}" \
    --image-opts "$(opts top.qcow2 "$B")"
both "measure --size with --image-opts" measure --size 1M --image-opts

fresh
both "commit" commit "${SEC[@]}" --image-opts "$(opts top.qcow2 "$B")"
same "commit: the base" base.qcow2
same "commit: the emptied image" top.qcow2 "$B"
fresh
both "commit -d" commit -d "${SEC[@]}" --image-opts "$(opts top.qcow2 "$B")"
same "commit -d: the base" base.qcow2
same "commit -d: the image" top.qcow2 "$B"

fresh
both "rebase -b '' (flatten)" rebase -b "" "${SEC[@]}" --image-opts "$(opts top.qcow2 "$B")"
same "rebase -b ''" top.qcow2
# qemu resolves no relative backing name against a json: image name
fresh
(cd g && gimg rebase -b "$T/g/new.raw" -F raw "${SEC[@]}" --image-opts "$(opts top.qcow2 "$B")")
(cd q && qemu-img rebase -b "$T/q/new.raw" -F raw "${SEC[@]}" --image-opts "$(opts top.qcow2 "$B")")
same "rebase onto raw" top.qcow2
fresh
both "rebase -u" rebase -u -b new.raw -F raw "${SEC[@]}" --image-opts "$(opts top.qcow2)"
same "rebase -u" top.qcow2

# no key (gimg says how to give it), a wrong one: nothing changes
fresh
sum=$(cat g/base.qcow2 g/top.qcow2 | sha256sum)
fails_cleanly "resize without the key" gimg resize g/base.qcow2 +1M
ok "  ... says how to give it" grep -q -- "--image-opts driver=qcow2" "$T/fc.err"
fails_cleanly "amend with a wrong key" gimg amend -o lazy_refcounts=on \
    --object secret,id=sec0,data=nope --image-opts "$(opts g/base.qcow2)"
fails_cleanly "commit without the key" gimg commit g/top.qcow2
fails_cleanly "rebase with a wrong key" gimg rebase -b "" --object secret,id=sec0,data=nope \
    --image-opts "$(opts g/top.qcow2)"
fails_cleanly "measure without the key" gimg measure -O qcow2 g/top.qcow2
is "$(cat g/base.qcow2 g/top.qcow2 | sha256sum)" "$sum" "  ... and the images are untouched"

done_testing
