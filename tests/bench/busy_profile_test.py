#!/usr/bin/env python3
"""bench/busy_profile.py on a made-up `perf script` output.

Two 100 ms windows: in the first the process ran 1.5 cores' worth (150
samples at 999 Hz), in the second 0.2 (20 samples) of another function.
With --cores 1.0 only the first may count; with --cores 0.1 both do. A
C++ symbol holding spaces keeps its whole name, a frame with no symbol
is named for its library, and a sched event's stack is not a sample.
"""
import sys

from tool_checks import expect, refused, run_ok

TOOL = sys.argv[1]


def sample(comm, tid, t, frames):
    out = f"{comm} {tid} {t:.6f}: cpu-clock: \n"
    for addr, sym, dso in frames:
        out += f"\t    {addr:x} {sym} ({dso})\n"
    return out + "\n"


ENCODE = ("kesm::codecs::event_writer::write_at(std::string&, unsigned long)"
          "+0x1f", "/work/kesm-bench")
CALLER = ("caf::trivial_match_case<kesm::actors::batcher(caf::stateful_actor"
          "<kesm::actors::batcher_state, caf::event_based_actor>*)>+0x40",
          "/work/kesm-bench")
text = ""
t = 100.0
for i in range(150):  # busy window: 100.0-100.1 s
    if i % 3 == 0:
        frames = [(0x1000, *ENCODE), (0x2000, *CALLER)]
        text += sample("caf.multiplexer", 11, t + i * 0.0006, frames)
    else:
        frames = [(0x3000, "[unknown]",
                   "/usr/lib/x86_64-linux-gnu/librdkafka.so.1")]
        text += sample("rdk:broker1", 12, t + i * 0.0006, frames)
# a scheduler event in the busy window: its stack is not a sample
text += ("caf.multiplexer 11 100.050000: sched:sched_switch: prev=1\n"
         "\t    ffff finish_task_switch.isra.0+0x10 ([kernel.kallsyms])\n\n")
for i in range(20):  # idle window: 100.5-100.6 s
    frames = [(0x4000, "clear_page_erms+0x5", "[kernel.kallsyms]")]
    text += sample("kesm-bench", 13, 100.5 + i * 0.004, frames)


def run(*args):
    return run_ok(TOOL, ["-", *args], text).stdout


out = run("--cores", "1.0")
expect("1 of 2 windows kept, 150 of 170 samples" in out,
       "only the busy window is kept", out)
expect("clear_page_erms" not in out and "kesm-bench" not in out,
       "the idle window's samples are left out", out)
expect("finish_task_switch" not in out, "a sched event is not a sample", out)
expect("33.3 %  caf.multiplexer  kesm::codecs::event_writer::write_at("
       "std::string&, unsigned long)" in out,
       "a C++ symbol keeps its spaces, and its share", out)
expect("66.7 %  rdk:broker1      [librdkafka.so.1]" in out,
       "an unnamed frame is named for its library", out)
expect("caf::trivial_match_case" not in out,
       "leaf mode counts only the leaf", out)

out = run("--cores", "1.0", "--inclusive")
expect("33.3 %  caf.multiplexer  caf::trivial_match_case<" in out,
       "inclusive mode counts callers", out)

# Recorded at 1,998 Hz, the same 150 samples are 0.75 of a core.
out = run("--cores", "0.5", "--freq", "1998")
expect("1 of 2 windows kept, 150 of 170 samples, 0.75 cores" in out,
       "--freq scales the cores", out)

out = run("--cores", "0.1")
expect("2 of 2 windows kept, 170 of 170 samples" in out,
       "a lower threshold keeps both windows", out)
expect("clear_page_erms [k]" in out, "kernel frames are marked [k]", out)

refused(TOOL, ["-", "--cores", "5"], text, "lower --cores",
        "no busy window: a one-line error that says what to do")
refused(TOOL, ["-", "--cores", "1", "--freq", "1998"], text,
        "the busiest had 0.75", "--freq: 0.75 of a core is under 1")
refused(TOOL, ["-"], "nothing\n", "no cpu-clock samples",
        "input without samples: a one-line error")
print("busy_profile: ok")
