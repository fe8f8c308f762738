#!/usr/bin/env python3
"""Where a profiled process spends its time while records flow, and only then.

Usage: bench/busy_profile.py PERF_SCRIPT [--cores C] [--freq F] [--top N]
                               [--inclusive]

PERF_SCRIPT is the output of
    perf record -e cpu-clock -F 999 -g -p PID -o perf.data -- sleep 15
    perf script -i perf.data -F comm,tid,time,event,ip,sym,dso > perf.txt
(`-` reads standard input). The samples are counted in 100 ms windows;
only the windows in which the process ran at least C cores' worth
(default 1.0; a core is F samples a second, default 999 as recorded
above) are kept, so a profile of `kesm-bench` shows the copies being
drained, not the seconds between them (the embedded broker holds each copy's group join for 3 s,
while the bench asks the mapping for its status every few milliseconds:
in a whole-process profile those waits put context switches at 18 % of
the samples, against 5-7 % while records flow; docs/benchmarks.md,
"Profiling only while records flow").

It prints the kept windows and cores, the samples per thread name, then
the top N (default 40) leaf functions per thread name as a share of the
kept samples; `--inclusive` counts each function once per sample in which
it is anywhere on the stack instead.
"""
import argparse
import collections
import sys

WINDOW = 0.1  # seconds


def read_samples(lines):
    """Yields (comm, time, [frames leaf first]) for each cpu-clock sample."""
    head, frames = None, []
    for line in lines:
        if not line.strip() or not line[0].isspace():
            # A blank line or the next event's line ends a sample.
            if head:
                yield head[0], head[1], frames
            head, frames = None, []
            if "cpu-clock" not in line:
                continue  # a blank line, or another event
            # "comm tid time: cpu-clock:" (comm may hold spaces)
            left = line.split("cpu-clock")[0].rstrip().rstrip(":")
            parts = left.split()
            try:
                head = (" ".join(parts[:-2]) or parts[0], float(parts[-1]))
            except (ValueError, IndexError):
                head = None
            continue
        if head:
            # "\t addr symbol+0xoff (dso)"; C++ symbols may hold spaces
            fields = line.strip().split(None, 1)
            if len(fields) < 2:
                continue
            sym, _, dso = fields[1].rpartition(" (")
            sym = sym.rsplit("+0x", 1)[0]
            dso = dso.rstrip(")").rsplit("/", 1)[-1]
            if sym == "[unknown]":
                sym = f"[{dso}]"
            elif "kernel" in dso:
                sym += " [k]"
            frames.append(sym)
    if head:
        yield head[0], head[1], frames


def main():
    ap = argparse.ArgumentParser(
        description="perf samples of the busy windows only, per thread name")
    ap.add_argument("perf_script", help="perf script output, or - for stdin")
    ap.add_argument("--cores", type=float, default=1.0,
                    help="keep 100 ms windows with at least this many cores busy")
    ap.add_argument("--freq", type=float, default=999,
                    help="the sampling frequency recorded with (perf record -F)")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--inclusive", action="store_true",
                    help="count a function wherever it is on the stack")
    args = ap.parse_args()
    if args.freq <= 0 or args.cores < 0:
        sys.exit("busy_profile: --freq must be above 0 and --cores at least 0")
    rate = args.freq
    try:
        src = sys.stdin if args.perf_script == "-" else open(args.perf_script)
    except OSError as e:
        sys.exit(f"busy_profile: cannot read {args.perf_script}: {e.strerror}")
    samples = list(read_samples(src))
    if not samples:
        sys.exit("busy_profile: no cpu-clock samples in the input; record with "
                 "`perf record -e cpu-clock -F 999 -g` and print with "
                 "`perf script -F comm,tid,time,event,ip,sym,dso`")
    per_window = collections.Counter(int(t / WINDOW) for _, t, _ in samples)
    need = args.cores * rate * WINDOW
    busy = {w for w, n in per_window.items() if n >= need}
    kept = [(c, f) for c, t, f in samples if int(t / WINDOW) in busy]
    if not kept:
        sys.exit(f"busy_profile: no 100 ms window had {args.cores} cores busy "
                 f"(the busiest had {max(per_window.values()) / rate / WINDOW:.2f});"
                 " lower --cores")
    n = len(kept)
    print(f"{len(busy)} of {len(per_window)} windows kept, {n} of "
          f"{len(samples)} samples, {n / rate / (len(busy) * WINDOW):.2f} cores")
    threads = collections.Counter(c for c, _ in kept)
    print("threads: " + ", ".join(f"{c} {100 * k / n:.1f} %"
                                  for c, k in threads.most_common()))
    funcs = collections.Counter()
    for comm, frames in kept:
        if args.inclusive:
            for f in set(frames):
                funcs[(comm, f)] += 1
        elif frames:
            funcs[(comm, frames[0])] += 1
    for (comm, f), k in funcs.most_common(args.top):
        print(f"{100 * k / n:5.1f} %  {comm:16s} {f}")


if __name__ == "__main__":
    main()
