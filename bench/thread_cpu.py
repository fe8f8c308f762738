#!/usr/bin/env python3
"""Per-thread CPU of a running process, every half second.

Usage: bench/thread_cpu.py PID [SECONDS]

For each thread name (threads of one name summed, their count after `x`)
it prints the cores' worth of time the threads ran (`run`) and the time
they were runnable but waited for a core (`wait`), from
/proc/PID/task/*/schedstat. Lines where no thread ran more than 5 % of a
core are left out. Run it beside `kesm-bench` to see, for example, whether
librdkafka's broker thread (`rdk:broker1`) waits for a core behind CAF's
workers (`caf.multiplexer`) or sits idle (docs/benchmarks.md, "Where the
time goes").
"""
import os
import sys
import time


def sample(pid):
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                run, wait, _ = map(int, f.read().split())
        except (OSError, ValueError):
            continue  # the thread ended meanwhile
        out[tid] = (comm, run, wait)
    return out


def main():
    if len(sys.argv) < 2 or not sys.argv[1].isdigit():
        sys.exit("usage: thread_cpu.py PID [SECONDS]: the process to watch "
                 "(for example $(pgrep -o kesm-bench))")
    pid = sys.argv[1]
    until = time.time() + float(sys.argv[2]) if len(sys.argv) > 2 else None
    if not os.path.exists(f"/proc/{pid}"):
        sys.exit(f"thread_cpu.py: no process {pid}: give the pid of a "
                 "running process")
    prev, prev_t = sample(pid), time.time()
    while os.path.exists(f"/proc/{pid}") and (until is None
                                              or time.time() < until):
        time.sleep(0.5)
        try:
            cur = sample(pid)
        except OSError:
            break  # the process ended
        now = time.time()
        dt = now - prev_t
        by_name = {}
        for tid, (comm, run, wait) in cur.items():
            if tid not in prev:
                continue
            agg = by_name.setdefault(comm, [0.0, 0.0, 0])
            agg[0] += (run - prev[tid][1]) / 1e9 / dt
            agg[1] += (wait - prev[tid][2]) / 1e9 / dt
            agg[2] += 1
        line = " ".join(f"{name}x{n}: run {run:.2f} wait {wait:.2f}"
                        for name, (run, wait, n) in sorted(by_name.items())
                        if run > 0.05)
        if line:
            print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)
        prev, prev_t = cur, now


if __name__ == "__main__":
    main()
