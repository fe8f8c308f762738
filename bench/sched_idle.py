#!/usr/bin/env python3
"""Busy and idle cores over time, from a scheduler trace.

Usage:
  perf record -e sched:sched_switch -a -o sched.data -- sleep 30
  perf script -i sched.data -F pid,tid,cpu,time,trace > sched.txt
  bench/sched_idle.py sched.txt [--bin MS] [--from S] [--to S] [--top N]

Every CPU runs one task at a time; `sched_switch` events say which from
when. For each bin (default 20 ms; times are seconds from the trace's
first event) it prints the cores' worth of time tasks ran, what was left
idle (`cores` minus that, `cores` being the CPUs seen in the trace), and
the `--top` busiest groups: a thread name in its process
(`kesm-bench[4711]/caf.multiplexer`; a process is named after its main
thread). Bins in which the fetch thread of a kesm run (`rdk:broker*`)
does not run show whether librdkafka's fetching sleeps; the summary
counts the CPUs' idle periods (time in the idle task, where the trace
shows both ends) and their lengths, to tell stalls (long periods) from
hand-off gaps (many short ones). Where an event does not follow on from
the one before on its CPU (a switch the trace lacks: on this project's
VM about half the idle task's switches out), the time between is
`unknown`, neither busy nor idle.
docs/benchmarks.md, "A sleeping fetch, and where the idle cores go".
"""
import argparse
import re
import sys
from collections import defaultdict

EVENT = re.compile(
    r"^\s*(\d+)/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(?:sched:sched_switch:\s+)?"
    r"prev_comm=(.*?) prev_pid=(\d+) .*?==> next_comm=(.*?) next_pid=(\d+)")
PERIODS = [(0, 50), (50, 200), (200, 1000), (1000, 10000), (10000, None)]


def parse(lines):
    """(cpu, time, prev tid, next tid) per event; the process (tgid) of
    every thread seen switched out, and every thread's name."""
    events, tgid, comm = [], {}, {}
    for line in lines:
        m = EVENT.match(line)
        if not m:
            continue
        pid, tid = int(m[1]), int(m[2])
        prev, nxt = int(m[6]), int(m[8])
        if tid == prev and tid != 0:
            tgid[tid] = pid
            comm[tid] = m[5]
        comm.setdefault(nxt, m[7])
        events.append((int(m[3]), float(m[4]), prev, nxt))
    return events, tgid, comm


def group_of(tid, tgid, comm):
    if tid == 0:
        return None  # the idle task
    pid = tgid.get(tid)
    name = comm.get(tid, "?")
    if pid is None:
        return name
    return f"{comm.get(pid, '?')}[{pid}]/{name}"


UNKNOWN = "(unknown)"


def analyse(events, tgid, comm, bin_s, start, end):
    """Per bin: {group: seconds run}, with UNKNOWN for time between two
    events that do not follow on (a switch the trace lacks); idle periods
    (seconds) that began in [start, end); the number of CPUs; how many
    events did not follow on from the one before on their CPU."""
    if not events:
        return {}, [], 0, 0
    t0 = events[0][1]
    cpus = {e[0] for e in events}
    bins = defaultdict(lambda: defaultdict(float))
    running = {}  # cpu -> (since, tid)
    idle = []
    gaps = 0
    for cpu, t, prev, nxt in events:
        rel = t - t0
        if cpu in running:
            since, tid = running[cpu]
            if tid != prev:
                # A switch in between is missing (on some VMs most of the
                # idle task's switches out): who ran when is unknown.
                gaps += 1
                g = UNKNOWN
            elif tid == 0:
                g = None
                if start <= since < end:
                    idle.append(rel - since)
            else:
                g = group_of(tid, tgid, comm)
            if g is not None:
                a = since
                while a < rel:
                    b = min(rel, (int(a / bin_s + 1e-9) + 1) * bin_s)
                    if b <= a:
                        b = rel
                    if start <= a < end:
                        bins[int(a / bin_s + 1e-9)][g] += b - a
                    a = b
        running[cpu] = (rel, nxt)
    return bins, idle, len(cpus), gaps


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="busy and idle cores over time from `perf script` of "
        "sched:sched_switch (see the module's help)")
    ap.add_argument("trace", help="perf script -F pid,tid,cpu,time,trace "
                    "output (- for standard input)")
    ap.add_argument("--bin", type=float, default=20, help="bin, ms (default 20)")
    ap.add_argument("--from", dest="start", type=float, default=0,
                    help="seconds from the trace's start (default 0)")
    ap.add_argument("--to", dest="end", type=float, default=float("inf"),
                    help="seconds from the trace's start (default: its end)")
    ap.add_argument("--top", type=int, default=5,
                    help="busiest groups shown a bin (default 5)")
    a = ap.parse_args(argv)
    if a.bin <= 0:
        ap.error(f"--bin {a.bin:g}: give the bin's length in ms, above 0")
    if a.end <= a.start:
        ap.error(f"--from {a.start:g} --to {a.end:g}: the window is empty; "
                 "give --to after --from")
    try:
        if a.trace == "-":
            events, tgid, comm = parse(sys.stdin)
        else:
            with open(a.trace) as f:
                events, tgid, comm = parse(f)
    except OSError as e:
        sys.exit(f"sched_idle.py: cannot read {a.trace}: {e.strerror}")
    if not events:
        sys.exit(f"sched_idle.py: no sched_switch events in {a.trace}: record "
                 "with -e sched:sched_switch -a and print with "
                 "perf script -F pid,tid,cpu,time,trace")
    bin_s = a.bin / 1000
    bins, idle, cores, gaps = analyse(events, tgid, comm, bin_s, a.start,
                                      a.end)
    print(f"{cores} CPUs; bins of {a.bin:g} ms; cores busy, unknown (a "
          "switch missing from the trace), idle, and the busiest groups")
    busy_sum, unknown_sum, n = 0.0, 0.0, 0
    for b in sorted(bins):
        groups = dict(bins[b])
        unknown = groups.pop(UNKNOWN, 0.0) / bin_s
        busy = sum(groups.values()) / bin_s
        busy_sum += busy
        unknown_sum += unknown
        n += 1
        top = sorted(groups.items(), key=lambda kv: -kv[1])[: a.top]
        idle_b = max(0.0, cores - busy - unknown)
        print(f"{b * bin_s:9.3f} s  busy {busy:4.2f}  unknown {unknown:4.2f}  "
              f"idle {idle_b:4.2f}  "
              + "  ".join(f"{g} {v / bin_s:.2f}" for g, v in top))
    if n:
        print(f"mean busy {busy_sum / n:.2f}, unknown {unknown_sum / n:.2f} "
              f"of {cores} cores over {n} bins")
    print(f"events that do not follow on from their CPU's last: {gaps} of "
          f"{len(events)}")
    seconds = n * bin_s
    idle.sort()
    if idle and seconds > 0:
        med = idle[len(idle) // 2]
        print(f"idle periods: {len(idle)}, {len(idle) / seconds:.0f} a second, "
              f"median {med * 1e6:.0f} us, {sum(idle) / seconds:.2f} cores in all")
        for lo, hi in PERIODS:
            sel = [p for p in idle
                   if p * 1e6 >= lo and (hi is None or p * 1e6 < hi)]
            span = f"{lo}-{hi} us" if hi else f">= {lo} us"
            print(f"  {span:>14}: {len(sel):6d} periods, "
                  f"{sum(sel) / seconds:.3f} cores")
    else:
        print("idle periods: none in the window")
    return 0


if __name__ == "__main__":
    sys.exit(main())
