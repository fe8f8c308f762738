#!/usr/bin/env python3
"""bench/fault_times.py on a made-up `perf script` page-fault output.

Two broker threads (two copies' consumers): the first faults 80 times in
its first 100 ms and 20 times spread over the next 0.86 s; the second 10
times evenly over 0.91 s. A worker thread whose name holds a space faults 5
times. The counts per window, the share per thread name, the order of
the threads and the errors are checked.
"""
import sys

from tool_checks import expect, refused, run_ok

TOOL = sys.argv[1]


def fault(comm, tid, t):
    return (f"{comm} {tid} {t:.6f}: page-faults: \n"
            f"\t    7f00 __libc_recvmsg+0x10 (/usr/lib/libc.so.6)\n\n")


text = ""
for i in range(80):  # 10.000-10.079 s
    text += fault("rdk:broker1", 100, 10.0 + i * 0.001)
for i in range(20):  # 10.105-10.96 s
    text += fault("rdk:broker1", 100, 10.105 + i * 0.045)
for i in range(10):  # 12.0, then 12.11-12.91 s: evenly
    text += fault("rdk:broker1", 200, 12.0 + i * 0.1 + (0.01 if i else 0))
for i in range(5):
    text += fault("caf worker", 300, 11.0 + i * 0.01)


def run(*args):
    return run_ok(TOOL, ["-", *args], text)


out = run().stdout
expect("115 events over 2.91 s" in out, "the events and their span", out)
expect("rdk:broker1 95.7 %, caf worker 4.3 %" in out,
       "the share of each thread name, a name with a space kept whole", out)
lines = out.splitlines()
first = [l for l in lines if l.strip().startswith("100 ")]
second = [l for l in lines if l.strip().startswith("200 ")]
expect(len(first) == 1 and "100 0.96 s 80 (80 %) 85 (85 %)" in first[0],
       "the first broker thread: 80 faults in 100 ms, 85 in 300 ms", out)
expect(len(second) == 1 and "10 0.91 s 1 (10 %) 3 (30 %)" in second[0],
       "the second broker thread: faults spread evenly", out)
expect(out.index("  100 ") < out.index("  200 "),
       "threads listed in the order they first faulted", out)

out = run("--thread", "caf worker", "--early", "25").stdout
expect("  300 5 0.04 s 3 (60 %)" in out, "--thread and --early", out)

out = run("--thread", "nobody").stdout
expect("no thread named nobody" in out, "an absent thread is said", out)

refused(TOOL, ["-", "--early", "a,b"], text, "--early takes milliseconds",
        "a bad --early is refused in one line")
refused(TOOL, ["-", "--early", "0"], text, "at least one time above 0 ms",
        "--early of 0 is refused")
refused(TOOL, ["-"], "nothing here\n", "no events in the input",
        "an input without events is refused")
refused(TOOL, ["/nonexistent/pf.txt"], text, "cannot read /nonexistent/pf.txt",
        "a missing file is said in one line")
print("fault_times: all checks passed")
