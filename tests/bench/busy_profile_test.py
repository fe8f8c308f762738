#!/usr/bin/env python3
"""bench/busy_profile.py on a made-up `perf script` output.

Two 100 ms windows: in the first the process ran 1.5 cores' worth (150
samples at 999 Hz), in the second 0.2 (20 samples) of another function.
With --cores 1.0 only the first may count; with --cores 0.1 both do. A
C++ symbol holding spaces keeps its whole name, a frame with no symbol
is named for its library, and a sched event's stack is not a sample.
"""
import subprocess
import sys

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
    p = subprocess.run([sys.executable, TOOL, "-", *args], input=text,
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"busy_profile failed ({p.returncode}): {p.stderr}")
    return p.stdout


def expect(cond, what, out):
    if not cond:
        sys.exit(f"FAILED: {what}\n--- output ---\n{out}")


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

p = subprocess.run([sys.executable, TOOL, "-", "--cores", "5"], input=text,
                   capture_output=True, text=True)
expect(p.returncode != 0 and "lower --cores" in p.stderr,
       "no busy window: a one-line error that says what to do", p.stderr)
p = subprocess.run([sys.executable, TOOL, "-", "--cores", "1", "--freq",
                    "1998"], input=text, capture_output=True, text=True)
expect(p.returncode != 0 and "the busiest had 0.75" in p.stderr,
       "--freq: 0.75 of a core is under 1", p.stderr)
p = subprocess.run([sys.executable, TOOL, "-"], input="nothing\n",
                   capture_output=True, text=True)
expect(p.returncode != 0 and "no cpu-clock samples" in p.stderr,
       "input without samples: a one-line error", p.stderr)
print("busy_profile: ok")
