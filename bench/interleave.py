#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Millisecond commands measured side by side (bench/gcat.sh, sandbox.sh).

   printf 'LABEL|COMMAND\\n'... | bench/interleave.py RUNS [A,B,NAME]...

Runs every command once per round, RUNS rounds, so that a burst of load on
a shared machine hits them alike; each is spawned with posix_spawn and its
CPU time (user + sys) comes from wait4, so nothing of this process counts.
Prints per row the fastest and median wall time, the least and median CPU
time (ms) and the least CPU time over the first row's (the anchor, e.g.
/bin/true); then, for each A,B,NAME, what row A costs more than row B."""
import os, shlex, statistics, sys, time

runs = int(sys.argv[1])
rows = [l.rstrip("\n").split("|", 1) for l in sys.stdin if l.strip()]
cmds = [shlex.split(c) for _, c in rows]
wall = [[] for _ in rows]
cpu = [[] for _ in rows]
null = os.open(os.devnull, os.O_WRONLY)
for _ in range(runs):
    for i, c in enumerate(cmds):
        t0 = time.monotonic()
        pid = os.posix_spawnp(c[0], c, os.environ, file_actions=[
            (os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)])
        _, st, ru = os.wait4(pid, 0)
        wall[i].append((time.monotonic() - t0) * 1000)
        cpu[i].append((ru.ru_utime + ru.ru_stime) * 1000)
        if os.waitstatus_to_exitcode(st) != 0:
            sys.exit("%s: exit status %d" % (rows[i][0], os.waitstatus_to_exitcode(st)))
w = max([len("command (ms)")] + [len(label) for label, _ in rows])
anchor = min(cpu[0])
print("%-*s %9s %9s %9s %9s %9s" % (w, "command (ms)", "wall min", "wall med", "CPU min",
                                    "CPU med", "CPU/first"))
for i, (label, _) in enumerate(rows):
    print("%-*s %9.2f %9.2f %9.2f %9.2f %9.2f" % (
        w, label, min(wall[i]), statistics.median(wall[i]), min(cpu[i]),
        statistics.median(cpu[i]), min(cpu[i]) / anchor if anchor > 0 else 0))
for pair in sys.argv[2:]:
    a, b, name = pair.split(",", 2)
    a, b = int(a), int(b)
    print("%s: wall min %+.2f ms, wall median %+.2f ms, CPU median %+.2f ms" % (
        name, min(wall[a]) - min(wall[b]),
        statistics.median(wall[a]) - statistics.median(wall[b]),
        statistics.median(cpu[a]) - statistics.median(cpu[b])))
