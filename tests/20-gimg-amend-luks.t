#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg amend of the LUKS keyslots of an encrypted qcow2 image
# (-o encrypt.state=active|inactive,encrypt.keyslot=,encrypt.new-secret=,
# encrypt.old-secret=,encrypt.iter-time=, --force) against qemu-img amend:
# - every refusal with qemu-img's message and exit status, the image left
#   byte for byte as it was;
# - each change made on a copy by both tools: qemu-img info shows the same
#   keyslot states, qemu-img compare reads the data with each passphrase a
#   keyslot now holds and fails to open with a removed one, qemu-img check
#   clean; cryptsetup luksDump of the header agrees and cryptsetup opens it
#   with the new passphrase;
# - killed before each of its writes (tests/crash/killafter.c), an amend
#   leaves an image that opens with the old passphrase, or with the new one
#   once the keyslot that holds it is marked active.
. "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip_all "needs qemu-img and qemu-io"
cd "$T" || exit 1

SEC=(--object secret,id=s0,data=first-pass --object secret,id=s1,data=second-pass
     --object secret,id=s2,data=third-pass)
opts() { echo "driver=qcow2,file.filename=$1,encrypt.key-secret=${2:-s0}"; }
fast=encrypt.iter-time=10

qemu-img create -q -f qcow2 "${SEC[@]}" -o encrypt.format=luks,encrypt.key-secret=s0,$fast o.qcow2 4M
qemu-io "${SEC[@]}" --image-opts "$(opts o.qcow2)" -c 'write -P 0x5a 0 1M' -c 'write -P 0xa5 3M 64k' >/dev/null
qemu-img convert "${SEC[@]}" --image-opts "$(opts o.qcow2)" -O raw data.raw

slots() { # IMG KEY: the active flags of the 8 keyslots, as qemu-img info shows them
    qemu-img info "${SEC[@]}" --image-opts "$(opts "$1" "$2")" | grep 'active:' | awk '{printf "%s ", $2}'
}
reads() { # IMG KEY: qemu-img compare (with that passphrase) finds the data
    qemu-img compare -q "${SEC[@]}" --image-opts "driver=raw,file.filename=data.raw" "$(opts "$1" "$2")"
}
both() { # DESC OPTIONS... (after -o): the same change by both tools on copies of g/q
    local desc=$1 go qo gr=0 qr=0; shift
    go=$(gimg amend "${SEC[@]}" "$@" --image-opts "$(opts g.qcow2 "$K")" 2>&1) || gr=$?
    qo=$(qemu-img amend "${SEC[@]}" "$@" --image-opts "$(opts q.qcow2 "$K")" 2>&1) || qr=$?
    is "${go//gimg:/qemu-img:} [exit $gr]" "$qo [exit $qr]" "$desc: as qemu-img"
}

# refusals: qemu-img's words, the image untouched
cp o.qcow2 g.qcow2
sum=$(sha256sum <g.qcow2)
K=s0
for o in encrypt.new-secret=s1 encrypt.state=active encrypt.state=ACTIVE,encrypt.new-secret=s1 \
         encrypt.state=active,encrypt.new-secret=s1,encrypt.old-secret=s0 \
         encrypt.state=active,encrypt.new-secret=s1,encrypt.keyslot=8 \
         encrypt.state=active,encrypt.new-secret=s1,encrypt.keyslot=-1 \
         encrypt.state=active,encrypt.new-secret=s1,encrypt.keyslot=4294967296 \
         encrypt.state=active,encrypt.new-secret=s1,encrypt.keyslot=18446744073709551615 \
         encrypt.state=active,encrypt.new-secret=s1,encrypt.keyslot=18446744073709551616 \
         encrypt.state=active,encrypt.new-secret=s1,encrypt.iter-time=x \
         encrypt.state=active,encrypt.new-secret=nosuch,$fast \
         encrypt.state=active,encrypt.new-secret=s1,encrypt.format=luks \
         encrypt.state=active,encrypt.new-secret=s1,encrypt.secret=s0 \
         encrypt.state=inactive encrypt.state=inactive,encrypt.new-secret=s1 encrypt.state=inactive,$fast \
         encrypt.state=inactive,encrypt.keyslot=2 encrypt.state=inactive,encrypt.keyslot=-1 \
         encrypt.state=inactive,encrypt.keyslot=0 encrypt.state=inactive,encrypt.old-secret=s0 \
         encrypt.state=inactive,encrypt.old-secret=s1 encrypt.state=inactive,encrypt.keyslot=2,encrypt.old-secret=s0 \
         encrypt.state=inactive,encrypt.keyslot=0,encrypt.old-secret=s1; do
    cp o.qcow2 q.qcow2
    both "refused: -o $o" -o "$o"
    is "$(sha256sum <g.qcow2)" "$sum" "refused: -o $o: the image is untouched"
done
# qemu's PBKDF scaling refusals name the measured rate: the words, not the number
cp o.qcow2 q.qcow2
for it in -1 99999999999; do
    gr=0
    go=$(gimg amend "${SEC[@]}" -o encrypt.state=active,encrypt.new-secret=s1,encrypt.iter-time=$it \
        --image-opts "$(opts g.qcow2)" 2>&1) || gr=$?
    qo=$(qemu-img amend "${SEC[@]}" -o encrypt.state=active,encrypt.new-secret=s1,encrypt.iter-time=$it \
        --image-opts "$(opts q.qcow2)" 2>&1)
    is "$(echo "${go//gimg:/qemu-img:} [exit $gr]" | sed 's/[0-9]\{5,\}/N/')" \
       "$(echo "$qo [exit 1]" | sed 's/[0-9]\{5,\}/N/')" \
       "refused: iter-time=$it: as qemu-img (but the measured rate)"
    is "$(sha256sum <g.qcow2)" "$sum" "refused: iter-time=$it: the image is untouched"
done
ok "after the refusals: qemu-img check clean" qemu-img check -q "${SEC[@]}" --image-opts "$(opts g.qcow2)"

# changes, by both tools in turn; after each: the same keyslot states, the
# data read with each passphrase held, qemu-img check clean
cp o.qcow2 g.qcow2
cp o.qcow2 q.qcow2
step() { # DESC KEY-TO-OPEN-WITH OPTIONS...
    local desc=$1; K=$2; shift 2
    both "$desc" "$@"
}
after() { # DESC KEY [KEY...]: the keys that must open it now
    local desc=$1 k; shift
    is "$(slots g.qcow2 "$1")" "$(slots q.qcow2 "$1")" "$desc: qemu-img info: qemu's keyslot states"
    for k in "$@"; do
        ok "$desc: reads with $k (qemu-img compare)" reads g.qcow2 "$k"
    done
    ok "$desc: qemu-img check clean" qemu-img check -q "${SEC[@]}" --image-opts "$(opts g.qcow2 "$1")"
}
closed() { # DESC KEY: that key opens nothing now, as on qemu's copy
    local desc=$1 go qo
    go=$(reads g.qcow2 "$2" 2>&1 | sed 's/g.qcow2/IMG/g')
    qo=$(reads q.qcow2 "$2" 2>&1 | sed 's/q.qcow2/IMG/g')
    ok "$desc: $2 opens no keyslot" grep -q "Invalid password, cannot unlock any keyslot" <<<"$go"
    is "$go" "$qo" "$desc: qemu-img compare's answer for $2 as on qemu's copy"
}
step "add s1 (first free keyslot)" s0 -o encrypt.state=active,encrypt.new-secret=s1,$fast
after "add s1" s0 s1
is "$(slots g.qcow2 s0)" "true true false false false false false false " "add s1: keyslot 1 active"
step "add s2 in keyslot 5" s1 -o encrypt.state=active,encrypt.new-secret=s2,encrypt.keyslot=5,$fast
after "add s2 in 5" s2 s0 s1
step "erase what s0 opens" s2 -o encrypt.state=inactive,encrypt.old-secret=s0
after "erase s0" s1 s2
closed "erase s0" s0
step "erase keyslot 5 holding s2" s1 -o encrypt.state=inactive,encrypt.keyslot=5,encrypt.old-secret=s2
after "erase 5" s1
closed "erase 5" s2
step "the last keyslot is not erased" s1 -o encrypt.state=inactive,encrypt.keyslot=1
step "nor all that s1 opens" s1 -o encrypt.state=inactive,encrypt.old-secret=s1
step "an active keyslot is not overwritten" s1 -o encrypt.state=active,encrypt.new-secret=s0,encrypt.keyslot=1,$fast
step "--force overwrites keyslot 1 with s0" s1 --force -o encrypt.state=active,encrypt.new-secret=s0,encrypt.keyslot=1,$fast
after "overwrite 1" s0
closed "overwrite 1" s1
step "--force erases an inactive keyslot" s0 --force -o encrypt.state=inactive,encrypt.keyslot=6
after "erase inactive 6" s0
step "add s2 (first free keyslot: 0)" s0 -o encrypt.state=active,encrypt.new-secret=s2,$fast
for i in 1 2 3 4 5 6; do
    gimg amend "${SEC[@]}" -o encrypt.state=active,encrypt.new-secret=s2,$fast --image-opts "$(opts g.qcow2)" \
        2>/dev/null || break
done
is "$(slots g.qcow2 s0)" "true true true true true true true true " "seven adds fill the keyslots"
is "$(gimg amend "${SEC[@]}" -o encrypt.state=active,encrypt.new-secret=s2,$fast \
    --image-opts "$(opts g.qcow2)" 2>&1; echo "exit $?")" \
   "gimg: Can't add a keyslot - all keyslots are in use
exit 1" "an eighth: qemu's refusal"
ok "full: reads with s2" reads g.qcow2 s2
ok "full: qemu-img check clean" qemu-img check -q "${SEC[@]}" --image-opts "$(opts g.qcow2)"
# and the last one erased with --force: nothing opens it any more
cp o.qcow2 g.qcow2
cp o.qcow2 q.qcow2
step "--force erases the last keyslot" s0 --force -o encrypt.state=inactive,encrypt.keyslot=0
is "$(qemu-img info g.qcow2 | grep -c 'active: true')" 0 "--force erase: no keyslot is active"
is "$(qemu-img info g.qcow2 | grep 'active:' | sort | uniq -c)" "$(qemu-img info q.qcow2 | grep 'active:' | sort | uniq -c)" \
    "--force erase: qemu-img info as qemu's"

# cryptsetup: the header gimg changed, cut out of the image
if command -v cryptsetup >/dev/null && command -v python3 >/dev/null; then
    cp o.qcow2 g.qcow2
    gimg amend "${SEC[@]}" -o encrypt.state=active,encrypt.new-secret=s1,encrypt.keyslot=3,$fast \
        --image-opts "$(opts g.qcow2)"
    gimg amend "${SEC[@]}" -o encrypt.state=inactive,encrypt.old-secret=s0 --image-opts "$(opts g.qcow2)"
    read -r hoff hlen < <(crypto_ext g.qcow2)
    dd if=g.qcow2 of=g.hdr bs=512 skip=$((hoff / 512)) count=$((hlen / 512)) status=none
    is "$(cryptsetup luksDump g.hdr | grep -E '^Key Slot [0-7]:')" "Key Slot 0: DISABLED
Key Slot 1: DISABLED
Key Slot 2: DISABLED
Key Slot 3: ENABLED
Key Slot 4: DISABLED
Key Slot 5: DISABLED
Key Slot 6: DISABLED
Key Slot 7: DISABLED" "cryptsetup luksDump: keyslot 3 alone enabled"
    printf %s second-pass >pass1
    printf %s first-pass >pass0
    ok "cryptsetup opens the header with the new passphrase" \
        cryptsetup luksDump --dump-volume-key --batch-mode --key-file pass1 g.hdr
    ok "cryptsetup does not open it with the removed one" \
        sh -c '! cryptsetup luksDump --dump-volume-key --batch-mode --key-file pass0 g.hdr' 
fi

# killed before each write: the image opens with the old passphrase, and
# with the new one where its keyslot is active; qemu-img check clean
# (not under the sanitizers: the shim cannot be preloaded before ASan's runtime)
if [ "$GK_SAN" = 0 ] && command -v cc >/dev/null && cc -shared -fPIC -O1 -o ka.so "$TOP/tests/crash/killafter.c" -ldl; then
    crash() { # DESC OLD NEW OPTIONS: kill before each write of the amend
        local desc=$1 old=$2 new=$3 o=$4 n total bad= st
        cp base.qcow2 g.qcow2
        rm -f count
        KILLAFTER_FILE=g.qcow2 KILLAFTER_COUNT=count LD_PRELOAD=$T/ka.so \
            gimg amend "${SEC[@]}" -o "$o" --image-opts "$(opts g.qcow2 "$old")" >/dev/null 2>&1
        total=$(($(cat count)))
        for n in $(seq 0 "$total"); do
            cp base.qcow2 g.qcow2
            { (KILLAFTER_FILE=g.qcow2 KILLAFTER_N=$n LD_PRELOAD=$T/ka.so \
                gimg amend "${SEC[@]}" -o "$o" --image-opts "$(opts g.qcow2 "$old")" >/dev/null 2>&1); } 2>/dev/null
            st=$(slots g.qcow2 "$old" 2>/dev/null)
            qemu-img check -q "${SEC[@]}" --image-opts "$(opts g.qcow2 "$old")" >/dev/null 2>&1 &&
                reads g.qcow2 "$old" || { bad+=" $n(old)"; continue; }
            if [ "$st" != "$(slots base.qcow2 "$old")" ]; then
                reads g.qcow2 "$new" || bad+=" $n(new, keyslots $st)"
            fi
        done
        is "${bad:-none}" none "$desc: killed before each of its $total writes: opens with the old key or the new"
        ok "$desc: the amend wrote $total times (at least a key and a header)" [ "$total" -ge 2 ]
    }
    cp o.qcow2 base.qcow2
    crash "add s1" s0 s1 encrypt.state=active,encrypt.new-secret=s1,$fast
    gimg amend "${SEC[@]}" -o encrypt.state=active,encrypt.new-secret=s1,$fast --image-opts "$(opts base.qcow2)"
    crash "erase s0" s1 s1 encrypt.state=inactive,encrypt.old-secret=s0
fi
done_testing
