#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Crash safety of writes over NBD, as for local files (tests/72-crash.t):
# gcopy-in of an 8 MiB file into a qcow2 image that nbdkit serves (file
# plugin; guestkit's qcow2 and ext4 write over NBD) is killed with SIGKILL
# after a delay (a fixed list, so each run tries the same points), then:
# qemu-img check passes (leaks allowed), the ext4's journal replayed by
# e2fsck (-E journal_only) leaves e2fsck -fn clean, and the file is absent
# or a prefix of its data (debugfs dumps it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-remote.sh"
command -v nbdkit >/dev/null || skip_all "nbdkit not installed (make deps)"
R=$(fixture remote) || exit 1
seeded_bytes 55 $((8 << 20)) >"$T/big.bin"
delays=(0.05 0.1 0.2 0.3)
[ "$GK_SAN" = 1 ] && delays=(0.3)
mkdir "$T/w"
for d in "${delays[@]}"; do
    cp "$R/solo.qcow2" "$T/w/c.qcow2"
    truncate -s +16M "$T/w/c.qcow2"
    # a server per kill: the checks read the file once the server has
    # ended, so no write of the killed client is still in flight in it
    # (nbdkit finishes the requests it has read; under load that can be
    # after the client is gone)
    rm -f "$T/w.sock"
    serve_bg p nbdkit -f -U "$T/w.sock" file dir="$T/w"
    wait_socket "$T/w.sock" || exit 1
    gcopy-in -a "nbd+unix:///c.qcow2?socket=$T/w.sock" -m /dev/sda "$T/big.bin" / 2>/dev/null &
    pid=$!
    sleep "$d"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    stop "$p"
    rc=0
    qemu-img check -q "$T/w/c.qcow2" >"$T/check.out" 2>&1 || rc=$?
    ok "kill -9 after ${d}s: qemu-img check passes (exit $rc; 3 = leaks only)" test "$rc" = 0 -o "$rc" = 3
    qemu-img convert -O raw "$T/w/c.qcow2" "$T/c.raw"
    e2fsck -E journal_only -y "$T/c.raw" >/dev/null 2>&1
    ok "  e2fsck -fn is clean after the journal replay" e2fsck -fn "$T/c.raw"
    rm -f "$T/got"
    debugfs -R "dump /big.bin $T/got" "$T/c.raw" >/dev/null 2>&1
    if [ -e "$T/got" ]; then
        n=$(stat -c %s "$T/got")
        ok "  /big.bin is a prefix of its data ($n bytes)" cmp -n "$n" "$T/got" "$T/big.bin"
    else
        ok "  /big.bin is absent" true
    fi
done
done_testing
