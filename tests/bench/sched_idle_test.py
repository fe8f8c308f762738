#!/usr/bin/env python3
"""bench/sched_idle.py on a made-up `perf script` of sched_switch events.

Two CPUs, 45 ms, bins of 20 ms. CPU 0: a worker runs 0-10 ms, idles 2 ms,
runs 12-30 ms, hands over to the fetch thread (30-40 ms), which goes
idle; the idle task's switch back to the worker is missing, so 40-45 ms
is unknown. CPU 1: the main thread runs 0-40 ms, idles 5 ms. The busy,
unknown and idle cores per bin, the groups' names, the idle periods and
the errors are checked.
"""
import sys

from tool_checks import expect, refused, run_tool

TOOL = sys.argv[1]


def switch(cpu, t, prev_pid, prev_tid, prev_comm, next_tid, next_comm):
    return (f" {prev_pid}/{prev_tid}  [{cpu:03d}] {100 + t / 1000:.6f}: "
            f"prev_comm={prev_comm} prev_pid={prev_tid} prev_prio=120 "
            f"prev_state=S ==> next_comm={next_comm} next_pid={next_tid} "
            f"next_prio=120\n")


text = "".join([
    switch(0, 0, 0, 0, "swapper/0", 11, "worker"),
    switch(1, 0, 0, 0, "swapper/1", 10, "bench"),
    switch(0, 10, 10, 11, "worker", 0, "swapper/0"),
    switch(0, 12, 0, 0, "swapper/0", 11, "worker"),
    switch(0, 30, 10, 11, "worker", 12, "rdk:broker1"),
    switch(0, 40, 10, 12, "rdk:broker1", 0, "swapper/0"),
    switch(1, 40, 10, 10, "bench", 0, "swapper/1"),
    # missing: swapper/0 -> worker on CPU 0
    switch(0, 45, 10, 11, "worker", 0, "swapper/0"),
    switch(1, 45, 0, 0, "swapper/1", 10, "bench"),
])


p = run_tool(TOOL, ["-"], text)
out = p.stdout
expect(p.returncode == 0, "runs", p.stderr)
lines = out.splitlines()
bins = [l for l in lines if l.lstrip().startswith("0.0")]
expect(len(bins) == 3, "three bins of 20 ms", out)
expect("busy 1.90  unknown 0.00  idle 0.10" in bins[0],
       "bin 0: worker 18 ms + main 20 ms busy, 2 ms idle", out)
expect("bench[10]/bench 1.00  bench[10]/worker 0.90" in bins[0],
       "groups named thread in process, busiest first", out)
expect("busy 2.00  unknown 0.00  idle 0.00" in bins[1]
       and "bench[10]/rdk:broker1 0.50" in bins[1],
       "bin 1: all busy, the fetch thread half a core", out)
expect("busy 0.00  unknown 0.25  idle 1.75" in bins[2],
       "bin 2: the 5 ms after a missing switch are unknown, not busy", out)
expect("events that do not follow on from their CPU's last: 1 of 9" in out,
       "the missing switch is counted", out)
expect("idle periods: 2, 33 a second, median 5000 us, 0.12 cores in all"
       in out, "idle periods with both ends recorded", out)
expect("1000-10000 us:      2 periods" in out, "their lengths", out)

out = run_tool(TOOL, ["-", "--from", "0.02", "--to", "0.04"], text).stdout
expect("over 1 bins" in out and "idle periods: none in the window" in out,
       "--from/--to keep one bin and no idle period", out)


refused(TOOL, ["-", "--bin", "0"], text,
        "--bin 0: give the bin's length in ms, above 0",
        "a bin of 0 is refused in one line")
refused(TOOL, ["-", "--from", "2", "--to", "1"], text, "the window is empty",
        "an empty window is refused")
refused(TOOL, ["-"], "nothing here\n", "no sched_switch events",
        "an input without events is refused")
print("sched_idle: all checks passed")
