#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gimg amend of a luks image (a LUKS1 file: -o state=active|inactive,
# keyslot=, new-secret=, old-secret=, iter-time=, --force) against qemu-img
# amend --image-opts driver=luks (the oracle; lib/luks-amend.c does the
# work, as for qcow2's encrypt.* options: tests/20-gimg-amend-luks.t):
# - every refusal with qemu-img's message and exit status, the file left
#   byte for byte as it was;
# - each change made on copies by both tools: cryptsetup luksDump of both
#   the same but for salts and iteration counts (random and timed), the
#   payload byte-identical; cryptsetup opens gimg's file with each
#   passphrase a keyslot holds (--test-passphrase) and not with a removed
#   one, and qemu-img decrypts the data with it;
# - -o help, -p, and a LUKS2 file (refused by both: qemu 7.2 reads LUKS1).
# The file is cryptsetup's (cheap PBKDF2); its data is qemu-io's.
. "$(dirname "$0")/lib.sh"
for c in qemu-img qemu-io cryptsetup; do
    command -v $c >/dev/null || skip_all "needs $c"
done
cd "$T" || exit 1
printf first-pass >p0
printf second-pass >p1
printf third-pass >p2
SEC=(--object secret,id=s0,file=p0 --object secret,id=s1,file=p1 --object secret,id=s2,file=p2)
opts() { echo "driver=luks,key-secret=${2:-s0},file.filename=$1"; }
fast=iter-time=10

truncate -s 4M o.img
cryptsetup luksFormat -q --type luks1 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --hash sha256 \
    -c aes-xts-plain64 -s 512 --key-file p0 o.img
off=$(cryptsetup luksDump o.img | awk '/^Payload offset:/ {print $3 * 512}')
qemu-io "${SEC[@]}" --image-opts "$(opts o.img)" -c 'write -q -P 0x5a 0 1M' -c 'write -q -P 0xa5 1536k 64k'
qemu-img convert "${SEC[@]}" --image-opts "$(opts o.img)" -O raw data.raw

both() { # DESC OPTIONS... (after -o): the same change by both tools on g.img and q.img, opened with $K
    local desc=$1 go qo gr=0 qr=0; shift
    go=$(gimg amend "${SEC[@]}" "$@" --image-opts "$(opts g.img "$K")" 2>&1) || gr=$?
    qo=$(qemu-img amend "${SEC[@]}" "$@" --image-opts "$(opts q.img "$K")" 2>&1) || qr=$?
    is "${go//gimg:/qemu-img:} [exit $gr]" "$qo [exit $qr]" "$desc: as qemu-img"
}
dump() { # IMG: luksDump without what differs between two runs (salts, timed iterations)
    cryptsetup luksDump "$1" | sed -e 1d -e '/^\s*Salt:/,/^[^ \t]/{/^\s*Salt:/d;/^\s\s*[0-9a-f][0-9a-f] /d}' \
        -e '/^\s*Iterations:/d'
}

# refusals: qemu-img's words, the file untouched
cp o.img g.img
sum=$(sha256sum <g.img)
K=s0
for o in new-secret=s1 state=active state=ACTIVE,new-secret=s1 state=active,new-secret=s1,old-secret=s0 \
         state=active,new-secret=s1,keyslot=8 state=active,new-secret=s1,keyslot=-1 \
         state=active,new-secret=s1,keyslot=x state=active,new-secret=s1,iter-time=x \
         state=active,new-secret=nosuch,$fast state=active,new-secret=s1,keyslot=0,$fast \
         state=active,new-secret=s1,cipher-alg=aes-128 state=active,new-secret=s1,key-secret=s0 \
         state=active,new-secret=s1,size=1M state=active,new-secret=s1,encrypt.format=luks \
         encrypt.state=active,encrypt.new-secret=s1 \
         state=inactive state=inactive,new-secret=s1 state=inactive,$fast state=inactive,keyslot=2 \
         state=inactive,keyslot=0 state=inactive,old-secret=s0 state=inactive,old-secret=s1 \
         state=inactive,keyslot=2,old-secret=s0 state=inactive,keyslot=0,old-secret=s1; do
    cp o.img q.img
    both "refused: -o $o" -o "$o"
    is "$(sha256sum <g.img)" "$sum" "  the file is untouched"
done
# qemu's PBKDF scaling refusal names the measured rate: the words, not the number
cp o.img q.img
gr=0
go=$(gimg amend "${SEC[@]}" -o state=active,new-secret=s1,iter-time=-1 --image-opts "$(opts g.img)" 2>&1) || gr=$?
qo=$(qemu-img amend "${SEC[@]}" -o state=active,new-secret=s1,iter-time=-1 --image-opts "$(opts q.img)" 2>&1)
is "$(echo "${go//gimg:/qemu-img:} [exit $gr]" | sed 's/[0-9]\{5,\}/N/')" \
   "$(echo "$qo [exit 1]" | sed 's/[0-9]\{5,\}/N/')" "refused: iter-time=-1: as qemu-img (but the measured rate)"
is "$(sha256sum <g.img)" "$sum" "  the file is untouched"
fails_cleanly "refused: without the key" gimg amend -f luks -o state=active,new-secret=s1 g.img
is "$(sha256sum <g.img)" "$sum" "  the file is untouched"

# changes, by both tools in turn
cp o.img g.img
cp o.img q.img
after() { # DESC: the headers alike, the payload untouched; KEYS... open gimg's file, decrypting the data
    local desc=$1 k; shift
    is "$(dump g.img)" "$(dump q.img)" "$desc: cryptsetup luksDump as of qemu's file (but salts, iterations)"
    cmp -s <(tail -c +$((off + 1)) g.img) <(tail -c +$((off + 1)) o.img)
    is $? 0 "  the payload is untouched"
    for k in "$@"; do
        ok "  cryptsetup opens it with ${k/s/p}" cryptsetup open --test-passphrase --key-file "${k/s/p}" g.img
        rm -f d.raw
        qemu-img convert "${SEC[@]}" --image-opts "$(opts g.img "$k")" -O raw d.raw
        same_file d.raw data.raw "  qemu-img decrypts the data with $k"
    done
}
closed() { # DESC KEY: that key opens nothing now
    ok "$1: cryptsetup does not open it with $2" sh -c "! cryptsetup open --test-passphrase --key-file $2 g.img"
}
K=s0; both "add s1 (first free keyslot)" -o state=active,new-secret=s1,$fast
after "add s1" s0 s1
is "$(cryptsetup luksDump g.img | grep -c ': ENABLED')" 2 "  two keyslots enabled"
K=s1; both "add s2 in keyslot 5" -o state=active,new-secret=s2,keyslot=5,$fast
after "add s2 in 5" s2
K=s2; both "erase what s0 opens" -o state=inactive,old-secret=s0
after "erase s0" s1 s2
closed "erase s0" p0
K=s1; both "erase keyslot 5 holding s2" -o state=inactive,keyslot=5,old-secret=s2
after "erase 5" s1
closed "erase 5" p2
both "the last keyslot is not erased" -o state=inactive,keyslot=1
both "an active keyslot is not overwritten" -o state=active,new-secret=s0,keyslot=1,$fast
both "--force overwrites keyslot 1 with s0" --force -o state=active,new-secret=s0,keyslot=1,$fast
K=s0; after "overwrite 1" s0
closed "overwrite 1" p1
both "--force erases an inactive keyslot" --force -o state=inactive,keyslot=6
after "erase inactive 6"
both "-p: qemu-img's progress lines" -p -o state=active,new-secret=s2,$fast
after "add with -p" s2
both "--force erases the last keyslot but one, then the last" --force -o state=inactive,old-secret=s0
after "erase s0 again" s2
K=s2; both "--force erases the last keyslot" --force -o state=inactive,keyslot=0
is "$(cryptsetup luksDump g.img | grep -c ': ENABLED')" 0 "  no keyslot is enabled"
is "$(dump g.img)" "$(dump q.img)" "  cryptsetup luksDump as of qemu's file (but salts, iterations)"

# -o help: with -f luks, or probed (qemu opens the file for that: the key)
cp o.img g.img
like_qemu_img "-f luks -o help" amend -f luks -o help g.img
like_qemu_img "-o help of a probed luks file" amend "${SEC[@]}" -o help --image-opts "$(opts g.img)"
like_qemu_img "-f raw -o help: raw has no amend" amend -f raw -o help g.img
is "$(sed 's/^gimg:/qemu-img:/' g.err)" "$(cat q.err)" "  in qemu-img's words"

# LUKS2: refused by both, the file untouched
truncate -s 20M l2.img
cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file p0 l2.img
cp l2.img g-l2.img
fails_cleanly "LUKS2: amend refused" gimg amend "${SEC[@]}" -o state=active,new-secret=s1 \
    --image-opts "$(opts g-l2.img)"
grep -q "^gimg: g-l2.img: LUKS version 2 is not supported$" fc.err; is $? 0 "  in qemu's words"
qemu-img amend "${SEC[@]}" -o state=active,new-secret=s1 --image-opts "$(opts l2.img)" 2>q.err
is $? 1 "  (qemu-img refuses it too)"
grep -q "LUKS version 2 is not supported" q.err; is $? 0 "  (saying the same)"
same_file g-l2.img l2.img "  the file is unchanged"
done_testing
