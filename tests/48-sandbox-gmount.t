#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gmount in the sandbox (issue 11): the worker that reads the guest and
# serves FUSE is confined once the images are open; its front end (the
# pid of the pid file and of fsname gmount:PID) mounts FUSE, hands the
# worker /dev/fuse and unmounts when the worker ends.  Oracles: the
# kernel's answers to the attacks, /proc/PID/status, a kernel loop mount of
# the same image (what the sandboxed pool serves from parallel readers),
# debugfs and e2fsck after a --rw mount, /proc/self/mountinfo.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-sandbox.sh"
. "$(dirname "$0")/lib-gmount.sh"
E=$(fixture ext-trees) || skip_all "ext-trees fixture failed"
G=$(fixture guests) || skip_all "guests fixture failed"
cp "$E/ext4.img" "$T/ro.img"
cp "$E/ext4.img" "$T/rw.img"
M=$T/m K=$T/k
mkdir -p "$M" "$K"

attack gmount "$SB/gmount" --no-fork -a "$G/debian.qcow2" -i "$M"
is_mounted "$M"; is "$?" 1 "gmount: nothing is mounted after the attacks"
killed gmount execve "$SB/gmount" --no-fork -a "$T/ro.img" -m /dev/sda "$M"
killed "gmount --rw" ptrace "$SB/gmount" --no-fork --rw -a "$T/rw.img" -m /dev/sda "$M"
is_mounted "$M"; is "$?" 1 "... nothing is mounted after the kills"

# a live read-only mount: the worker confined, the front end not
mount -o loop,ro "$T/ro.img" "$K" || skip_all "cannot loop-mount ext4"
rc=0; timeout 60 "$SB/gmount" -v --pid-file "$T/pid" -a "$T/ro.img" -m /dev/sda "$M" 2>"$T/v.err" || rc=$?
fe=$(cat "$T/pid" 2>/dev/null)
is "$rc:$fe" "0:$(gm_pid "$M")" "gmount: mounted; the pid file names the front end (fsname gmount:PID)"
w=$(echo $(cat "/proc/$fe/task/$fe/children" 2>/dev/null))
# gone, or a zombie nobody reaped yet
alive() { [ -e "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" | cut -c1)" != Z ]; }
st() { grep -E '^(Seccomp|NoNewPrivs):' "/proc/$1/status" | tr -s '\t ' ' ' | tr '\n' ' '; }
is "$(st "$w")" "NoNewPrivs: 1 Seccomp: 2 " "gmount: /proc/PID/status of its worker shows NoNewPrivs 1 and Seccomp 2"
is "$(st "$fe")" "NoNewPrivs: 0 Seccomp: 0 " "... the front end is not confined (it never reads the guest)"
# parallel readers make the pool open more sessions inside the sandbox
for i in 1 2 3 4; do sums "$M" >"$T/sums.$i" & done; wait
want=$(sums "$K")
for i in 1 2 3 4; do is "$(cat "$T/sums.$i")" "$want" "parallel reader $i: sha256sum of every file = kernel"; done
if [ "$(nproc)" -ge 2 ]; then
    ok "... the pool opened more sessions in the sandbox (-v)" grep -q 'session 2 of' "$T/v.err"
fi
# (libfuse opens /dev/null read-write before it takes the descriptor: refused, harmless)
is "$(grep 'refused system call' "$T/v.err" | grep -vc 'openat')" 0 "... no other system call refused (-v)"
timeout 60 gumount "$M"; rc=$?
is "$rc:$(alive "$fe" && echo alive)" "0:" "gumount: exit 0, the front end has exited"
is_mounted "$M"; is "$?" 1 "... not mounted any more"

# the worker killed: the front end takes the mount down and leaves
timeout 60 "$SB/gmount" --pid-file "$T/pid" -a "$T/ro.img" -m /dev/sda "$M"
fe=$(cat "$T/pid"); w=$(echo $(cat "/proc/$fe/task/$fe/children" 2>/dev/null))
kill -9 "$w"
for _ in $(seq 1 100); do alive "$fe" || break; sleep 0.1; done
alive "$fe"; is "$?" 1 "kill -9 of the worker: the front end exits"
is_mounted "$M"; is "$?" 1 "... and no dead mount is left on MOUNTDIR"
umount "$K"

# --rw: writes in the sandbox, read back by debugfs; the worker ends
# cleanly (its threads cancelled, the last commit made) and so does the
# front end
"$SB/gmount" --no-fork --rw -a "$T/rw.img" -m /dev/sda "$M" 2>"$T/rw.err" &
gp=$!
for _ in $(seq 1 300); do is_mounted "$M" && break; sleep 0.1; done
echo "written in the sandbox" >"$M/sandboxed" && mkdir "$M/sbdir"
timeout 60 gumount "$M"
wait "$gp"
is "$?:$(cat "$T/rw.err")" "0:" "gmount --rw --no-fork: exit 0, no message, after gumount"
is "$(debugfs -R 'cat /sandboxed' "$T/rw.img" 2>/dev/null)" "written in the sandbox" \
   "gmount --rw: a file written through the sandboxed worker (debugfs)"
ok "... e2fsck -fn is clean" e2fsck -fn "$T/rw.img"

done_testing
