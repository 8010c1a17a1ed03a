#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# -a nbd://HOST:PORT/EXPORT and nbd+unix:///EXPORT?socket=PATH (libnbd):
# nbdkit (file dir=: one export per fixture file) and qemu-nbd on loopback
# serving the remote fixture's qcow2 chain.  Oracles: the trees the ext4
# was made of (test-images/remote.sh), qemu-img info over the same NBD
# URIs, qemu-img check, e2fsck and debugfs after writes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-remote.sh"
command -v nbdkit >/dev/null || skip_all "nbdkit not installed (make deps)"
command -v qemu-nbd >/dev/null || skip_all "qemu-nbd not installed (make deps)"
R=$(fixture remote) || exit 1

# nbdkit: every file of the fixture an export, on a socket and on TCP
serve_bg p nbdkit -f -U "$T/nbdkit.sock" file dir="$R" --readonly
port=$(free_port)
serve_bg p nbdkit -f -i 127.0.0.1 -p "$port" file dir="$R" --readonly
wait_socket "$T/nbdkit.sock" && wait_port "$port" || exit 1
U="nbd+unix:///top.qcow2?socket=$T/nbdkit.sock"
N="nbd://127.0.0.1:$port"

is "$(gcat -a "$U" -m /dev/sda /etc/hostname)" "$(cat "$R/v2/etc/hostname")" \
    "gcat over nbd+unix: a file of the top layer of the chain"
is "$(gcat -a "$N/top.qcow2" -m /dev/sda /etc/motd)" "$(cat "$R/v2/etc/motd")" "gcat over nbd:// (TCP)"
is "$(gcat -a "$N/top.qcow2" -m /dev/sda /data/noise.bin | md5sum)" "$(md5sum <"$R/v1/data/noise.bin")" \
    "6 MiB read through the chain from the base over NBD"
is "$(gls -a "$U" -m /dev/sda /usr/share/doc/guest | sort)" "$(ls -A "$R/v2/usr/share/doc/guest" | sort)" \
    "gls over NBD"
is "$(gcat -a "$N/top-raw.qcow2" -m /dev/sda /etc/hostname)" "$(cat "$R/v2/etc/hostname")" \
    "a raw backing file over NBD (backing_fmt raw)"
is "$(gcat -a "nbd+unix:///base.raw?socket=$T/nbdkit.sock" -m /dev/sda /etc/hostname)" \
    "$(cat "$R/v1/etc/hostname")" "a raw image over NBD"

# gimg info: as qemu-img says over the same URIs (qemu cannot resolve a
# relative backing name against an NBD URI; guestkit names the export)
like_qemu_img "gimg info over NBD = qemu-img info (no backing file)" info "$N/solo.qcow2"
like_qemu_img "gimg info --output=json over NBD" info --output=json "$N/solo.qcow2"
g=$(gimg info "$U" | sed 's/ (actual path: .*)$/ (cannot determine actual path)/')
q=$(qemu-img info "$U")
is "$g" "$q" "gimg info of the chain's top over NBD = qemu-img info (but the actual path)"
is "$(gimg info "$U" | grep '^backing file:')" \
    "backing file: base.qcow2 (actual path: nbd+unix:///base.qcow2?socket=$T/nbdkit.sock)" \
    "the backing file resolves to the export of that name on the same server"

gimg convert -O raw "$N/solo.qcow2" "$T/conv.raw"
qemu-img convert -O raw "$N/solo.qcow2" "$T/conv-q.raw"
same_file "$T/conv.raw" "$T/conv-q.raw" "gimg convert over NBD = qemu-img convert over NBD"
rm -f "$T/conv.raw" "$T/conv-q.raw"

# qemu-nbd: -f raw of the qcow2 file (guestkit's qcow2 driver reads over
# NBD), and -f qcow2 exporting the chain as a raw disk (--format=raw)
qport=$(free_port)
serve_bg p qemu-nbd -f raw -r -t -b 127.0.0.1 -p "$qport" -x solo "$R/solo.qcow2"
serve_bg p qemu-nbd -f qcow2 -r -t -k "$T/qemu.sock" -x disk "$R/top.qcow2"
wait_port "$qport" && wait_socket "$T/qemu.sock" || exit 1
is "$(gcat -a "nbd://127.0.0.1:$qport/solo" -m /dev/sda /etc/motd)" "$(cat "$R/v2/etc/motd")" \
    "qemu-nbd -f raw of a qcow2 file: read by guestkit's qcow2 driver"
is "$(gcat --format=raw -a "nbd+unix:///disk?socket=$T/qemu.sock" -m /dev/sda /etc/hostname)" \
    "$(cat "$R/v2/etc/hostname")" "qemu-nbd -f qcow2 (the chain as a raw disk), --format=raw"
like_qemu_img "gimg info of qemu-nbd's raw export = qemu-img info" info "nbd+unix:///disk?socket=$T/qemu.sock"

# --untrusted: backing files on the same server only
mkdir "$T/ex"
cp "$R/top.qcow2" "$T/ex/same.qcow2"
cp "$R/base.qcow2" "$T/ex/base.qcow2"
qemu-img create -q -f qcow2 -u -b "$R/base.qcow2" -F qcow2 "$T/ex/local.qcow2" 32M
qemu-img create -q -f qcow2 -u -b "$N/base.qcow2" -F qcow2 "$T/ex/other.qcow2" 32M
# no backing format: the name put into the header by hand (qemu-img 7.2
# no longer writes such images)
qemu-img create -q -f qcow2 "$T/ex/nofmt.qcow2" 32M
printf '\0\0\0\0\0\0\17\240\0\0\0\12' | dd of="$T/ex/nofmt.qcow2" bs=1 seek=8 conv=notrunc status=none
printf 'base.qcow2' | dd of="$T/ex/nofmt.qcow2" bs=1 seek=4000 conv=notrunc status=none
serve_bg p nbdkit -f -U "$T/ex.sock" file dir="$T/ex" --readonly
wait_socket "$T/ex.sock" || exit 1
X() { printf 'nbd+unix:///%s?socket=%s' "$1" "$T/ex.sock"; }
is "$(gcat --untrusted -a "$(X same.qcow2)" -m /dev/sda /etc/hostname)" "$(cat "$R/v2/etc/hostname")" \
    "--untrusted: a backing file beside the image on its server is read"
fails_cleanly "--untrusted: a local backing file of a remote image is refused" \
    gcat --untrusted -a "$(X local.qcow2)" -m /dev/sda /etc/hostname
grep -q 'backing file ".*base.qcow2" is not beside the image on its server (refused for untrusted images)' \
    "$T/fc.err"
ok "  ... and the message says why" test $? = 0
fails_cleanly "--untrusted: a backing file on another server is refused" \
    gcat --untrusted -a "$(X other.qcow2)" -m /dev/sda /etc/hostname
fails_cleanly "--untrusted: a backing file without a format is refused" \
    gcat --untrusted -a "$(X nofmt.qcow2)" -m /dev/sda /etc/hostname
is "$(gcat -a "$(X local.qcow2)" -m /dev/sda /etc/hostname)" "$(cat "$R/v1/etc/hostname")" \
    "trusted: a remote image's absolute backing name is a local file (as qemu)"
is "$(gcat -a "$(X other.qcow2)" -m /dev/sda /etc/hostname)" "$(cat "$R/v1/etc/hostname")" \
    "trusted: a backing file that is another NBD URI is read from there"

# bad locations and servers: one clear line, exit 1
fails_cleanly "no such export" gcat -a "nbd+unix:///nosuch.qcow2?socket=$T/nbdkit.sock" -m /dev/sda /x
fails_cleanly "no server on the port" gcat -a "nbd://127.0.0.1:$(free_port)/x" -m /dev/sda /x
fails_cleanly "nbd+unix without socket=" gcat -a "nbd+unix:///top.qcow2" -m /dev/sda /x
fails_cleanly "bad port" gcat -a "nbd://127.0.0.1:99999/x" -m /dev/sda /x
fails_cleanly "--rw on a read-only export" gcat --rw -a "$U" -m /dev/sda /etc/hostname

# a server killed in the middle of a read: an error, no hang (an nbdkit sh
# plugin that serves solo.qcow2 and kills its server at the first read
# past 3 MiB, inside the noise file's data)
cat >"$T/dying.sh" <<'EOF'
#!/bin/bash
case $1 in
    get_size) stat -c %s "$IMG" ;;
    pread)
        if [ "$4" -ge $((3 << 20)) ]; then kill -9 "$(cat "$PIDF")"; exit 1; fi
        dd if="$IMG" iflag=skip_bytes,count_bytes skip="$4" count="$3" status=none ;;
    thread_model) echo serialize_all_requests ;;
    open|close|can_write|can_flush|can_trim|can_zero) [ "$1" = open ] && echo h; [ "$1" = can_write ] && exit 3; exit 0 ;;
    *) exit 2 ;;
esac
EOF
chmod +x "$T/dying.sh"
IMG="$R/solo.qcow2" PIDF="$T/dying.pid" serve_bg p nbdkit -f -U "$T/dying.sock" -P "$T/dying.pid" sh "$T/dying.sh"
wait_socket "$T/dying.sock" || exit 1
fails_cleanly "a server killed mid-read: a clear error, bounded" \
    gcat -a "nbd+unix:///?socket=$T/dying.sock" -m /dev/sda /data/noise.bin
grep -qiE 'connection|server|closed|reset' "$T/fc.err"
ok "  ... naming the connection: $(head -c 300 "$T/fc.err")" test $? = 0

# writes (--rw): qemu-nbd -f qcow2 of a copy of the chain (the server's
# qcow2 driver writes), and nbdkit serving a qcow2 file guestkit's qcow2
# driver writes over NBD (slack after its end: an export cannot grow)
mkdir "$T/w"
cp "$R/top.qcow2" "$R/base.qcow2" "$T/w/"
printf 'written over NBD\n' >"$T/new.txt"
serve_bg qn qemu-nbd -f qcow2 -t -k "$T/w.sock" "$T/w/top.qcow2"
wait_socket "$T/w.sock" || exit 1
ok "gcopy-in over NBD (qemu-nbd -f qcow2)" \
    gcopy-in --format=raw -a "nbd+unix:///?socket=$T/w.sock" -m /dev/sda "$T/new.txt" /etc
stop "$qn"
ok "  qemu-img check after the NBD writes" qemu-img check -q "$T/w/top.qcow2"
qemu-img convert -O raw "$T/w/top.qcow2" "$T/w/disk.raw"
ok "  e2fsck -fn after the NBD writes" e2fsck -fn "$T/w/disk.raw"
is "$(debugfs -R 'cat /etc/new.txt' "$T/w/disk.raw" 2>/dev/null)" "written over NBD" "  debugfs reads the file"

cp "$R/solo.qcow2" "$T/w/solo.qcow2"
truncate -s +8M "$T/w/solo.qcow2"
serve_bg p nbdkit -f -U "$T/w2.sock" file dir="$T/w"
wait_socket "$T/w2.sock" || exit 1
ok "gcopy-in over NBD into a qcow2 file (guestkit's qcow2 driver writes)" \
    gcopy-in -a "nbd+unix:///solo.qcow2?socket=$T/w2.sock" -m /dev/sda "$T/new.txt" /etc
ok "  qemu-img check" qemu-img check -q "$T/w/solo.qcow2"
qemu-img convert -O raw "$T/w/solo.qcow2" "$T/w/solo.raw"
ok "  e2fsck -fn" e2fsck -fn "$T/w/solo.raw"
is "$(debugfs -R 'cat /etc/new.txt' "$T/w/solo.raw" 2>/dev/null)" "written over NBD" "  debugfs reads the file"
# gfedit of a remote image: two sandboxed workers (a connection is no
# descriptor to hand over); the front end's copy of the first worker's
# connection must stay open until that worker is done
ok "gfedit -e over NBD" \
    gfedit -a "nbd+unix:///solo.qcow2?socket=$T/w2.sock" -m /dev/sda /etc/new.txt -e 's/NBD/NBD, edited/'
ok "  qemu-img check" qemu-img check -q "$T/w/solo.qcow2"
qemu-img convert -O raw "$T/w/solo.qcow2" "$T/w/solo.raw"
ok "  e2fsck -fn" e2fsck -fn "$T/w/solo.raw"
is "$(debugfs -R 'cat /etc/new.txt' "$T/w/solo.raw" 2>/dev/null)" "written over NBD, edited" "  debugfs reads the edit"
cp "$R/solo.qcow2" "$T/w/full.qcow2"
seeded_bytes 52 $((2 << 20)) >"$T/big.bin"
fails_cleanly "a qcow2 file that must grow past the export's end: a clear error" \
    gcopy-in -a "nbd+unix:///full.qcow2?socket=$T/w2.sock" -m /dev/sda "$T/big.bin" /
grep -q 'an NBD export cannot grow' "$T/fc.err"
ok "  ... saying an export cannot grow" test $? = 0
ok "  and the image is still consistent" qemu-img check -q "$T/w/full.qcow2"
done_testing
