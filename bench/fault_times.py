#!/usr/bin/env python3
"""When in a thread's life its page faults fall.

Usage: bench/fault_times.py PERF_SCRIPT [--thread NAME] [--early MS,MS]

PERF_SCRIPT is the output of a page-fault profile, every fault recorded:
    perf record -e page-faults -c 1 -g -a -o pf.data -- sleep 6
    perf script -i pf.data --pid PID -F comm,tid,time,event,ip,sym,dso > pf.txt
(`-` reads standard input). It prints the faults per thread name, then,
for each thread called NAME (default rdk:broker1, librdkafka's broker
thread), its faults, how long it was seen faulting, and how many of its
faults fell in the first MS milliseconds after its first one (default
100 and 300 ms).

Why: the bench consumes each copy of its data with a fresh consumer
group, so each copy has a new librdkafka client, a new broker thread and
a new allocator heap. A thread whose faults crowd into its first few
hundred milliseconds is faulting its working set in, once; one whose
faults spread evenly over its life is faulting all along
(docs/benchmarks.md, "Where the time goes now, and a fresh consumer per
copy").
"""
import argparse
import collections
import sys


def read_events(lines):
    """Yields (comm, tid, time) for each event's header line."""
    for line in lines:
        if not line.strip() or line[0].isspace():
            continue  # a blank line or a stack frame
        # "comm tid time: event:" (comm may hold spaces)
        left = line.split(": ", 1)[0].rstrip(":")
        parts = left.split()
        if len(parts) < 3:
            continue
        try:
            tid, t = int(parts[-2]), float(parts[-1])
        except ValueError:
            continue
        yield " ".join(parts[:-2]), tid, t


def main():
    ap = argparse.ArgumentParser(
        description="when in a thread's life its page faults fall")
    ap.add_argument("perf_script", help="perf script output, or - for stdin")
    ap.add_argument("--thread", default="rdk:broker1",
                    help="the thread name to follow (default rdk:broker1)")
    ap.add_argument("--early", default="100,300",
                    help="milliseconds after a thread's first fault to count "
                         "(default 100,300)")
    args = ap.parse_args()
    try:
        early = [float(v) for v in args.early.split(",") if v.strip()]
    except ValueError:
        sys.exit(f"fault_times: --early takes milliseconds separated by "
                 f"commas, such as 100,300; got '{args.early}'")
    if not early or min(early) <= 0:
        sys.exit("fault_times: --early needs at least one time above 0 ms")
    try:
        src = sys.stdin if args.perf_script == "-" else open(
            args.perf_script, encoding="utf-8", errors="replace")
    except OSError as e:
        sys.exit(f"fault_times: cannot read {args.perf_script}: "
                 f"{e.strerror}")
    names = collections.Counter()
    times = collections.defaultdict(list)  # tid -> times
    comm = {}
    with src:
        for name, tid, t in read_events(src):
            names[name] += 1
            times[tid].append(t)
            comm[tid] = name
    total = sum(names.values())
    if total == 0:
        sys.exit("fault_times: no events in the input; record with "
                 "`perf record -e page-faults -c 1` and print with "
                 "`perf script -F comm,tid,time,event,ip,sym,dso`")
    first = min(min(v) for v in times.values())
    last = max(max(v) for v in times.values())
    print(f"{total} events over {last - first:.2f} s")
    print("threads: " + ", ".join(
        f"{n} {100.0 * c / total:.1f} %" for n, c in names.most_common()))
    followed = sorted((tid for tid in times if comm[tid] == args.thread),
                      key=lambda tid: min(times[tid]))
    if not followed:
        print(f"no thread named {args.thread}")
        return
    heads = " ".join(f"first {ms:g} ms" for ms in early)
    print(f"{args.thread}: tid, events, seen for, {heads}")
    for tid in followed:
        ts = sorted(times[tid])
        start = ts[0]
        cells = []
        for ms in early:
            n = sum(1 for t in ts if t - start < ms / 1000.0)
            cells.append(f"{n} ({100.0 * n / len(ts):.0f} %)")
        print(f"  {tid} {len(ts)} {ts[-1] - start:.2f} s " + " ".join(cells))


if __name__ == "__main__":
    main()
