#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gfsh wall time: start-up to the point where the first command could run
# (gfsh -a IMAGE -i with an empty script: open, scan partitions/LVM, inspect,
# mount, exit) and a whole `gfsh -a IMAGE -i <<< 'cat /etc/hostname'`.
# Best of $BENCH_RUNS runs (default 20) with the peak RSS of that run, on the
# gfsh fixture (GPT, raw and qcow2) and the Debian phony guest (qcow2 chain,
# LVM).  Also the time to the interactive prompt on a terminal (tmux),
# measured by polling the screen (10 ms resolution).  Target: under 20 ms.
# (guestfish needs an appliance: 15 s under TCG on the reference host,
# /work/shared/reference/libguestfs-behaviour.md section 4.)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
GK_IMAGES=${GK_IMAGES:-$PWD/bench/out}
RUNS=${BENCH_RUNS:-20}
need_time
need_tools gfsh
./test-images/build-all.sh "$GK_IMAGES" gfsh guests
gdir=$GK_IMAGES/gfsh
ddir=$GK_IMAGES/guests

# Each run is timed from fork to exit; CPU (user + sys) and peak RSS come
# from wait4() for that very process.  Best of $RUNS by wall time.
RUNS=$RUNS G=$GK_BIN/gfsh GDIR=$gdir DDIR=$ddir python3 - <<'EOF'
import os, time
g, runs = os.environ["G"], int(os.environ["RUNS"])
gdir, ddir = os.environ["GDIR"], os.environ["DDIR"]

rssfile = "/tmp/gfsh-bench-rss.%d" % os.getpid()

def run(args, script):
    # through /usr/bin/time for the peak RSS: a child forked from Python
    # would report Python's own RSS
    r, w = os.pipe()
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(w)
        os.dup2(r, 0)
        null = os.open("/dev/null", os.O_WRONLY)
        os.dup2(null, 1)
        os.execv("/usr/bin/time", ["time", "-f", "%M", "-o", rssfile, g] + args)
    os.close(r)
    os.write(w, script.encode())
    os.close(w)
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    if status != 0:
        raise SystemExit("gfsh %s failed" % args)
    rss = int(open(rssfile).read().split()[-1])
    return wall, ru.ru_utime + ru.ru_stime, rss

print("%-52s %9s %7s %13s" % ("gfsh -i on", "best ms", "CPU ms", "peak RSS KiB"))
for img, what in ((gdir + "/disk.img", "gfsh disk.img (GPT raw)"),
                  (gdir + "/disk.qcow2", "gfsh disk.qcow2 (GPT qcow2)"),
                  (ddir + "/debian.qcow2", "debian.qcow2 (qcow2 chain, LVM)")):
    for script, label in (("", "start, empty script"), ("cat /etc/hostname\n", "<<< 'cat /etc/hostname'")):
        best = min(run(["-a", img, "-i"], script) for _ in range(runs))
        print("%-52s %9.3f %7.1f %13d" % (what + ": " + label, best[0] * 1000, best[1] * 1000, best[2]))
os.unlink(rssfile)
EOF

# time to the interactive prompt on a pseudo-terminal (readline, history,
# welcome text): fork on a pty, time until "><gfsh> " is read
RUNS=$RUNS G=$GK_BIN/gfsh IMG=$gdir/disk.img python3 - <<'EOF'
import os, pty, time
g, img, runs = os.environ["G"], os.environ["IMG"], int(os.environ["RUNS"])
best = 1e9
for _ in range(runs):
    t0 = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["HOME"] = "/nonexistent"
        os.execv(g, [g, "-a", img, "-i"])
    buf = b""
    while b"><gfsh> " not in buf:
        buf += os.read(fd, 4096)
    best = min(best, time.monotonic() - t0)
    os.write(fd, b"quit\n")
    try:
        while os.read(fd, 4096):
            pass
    except OSError:
        pass
    os.waitpid(pid, 0)
print("%-52s %9.3f %7s %13s" % ("gfsh disk.img: to the prompt on a pty", best * 1000, "-", "-"))
EOF
