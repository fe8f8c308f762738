"""What the bench tools' tests share: running a tool on made-up input,
a check that prints the tool's output when it fails, and a check that a
tool refuses its input with a one-line error."""
import subprocess
import sys


def run_tool(tool, args, stdin):
    """The tool's completed process (`-` in `args` reads `stdin`)."""
    return subprocess.run([sys.executable, tool, *args], input=stdin,
                          capture_output=True, text=True)


def run_ok(tool, args, stdin):
    """The tool's completed process; the test fails if the tool did."""
    p = run_tool(tool, args, stdin)
    if p.returncode != 0:
        sys.exit(f"{tool} failed ({p.returncode}): {p.stderr}")
    return p


def expect(cond, what, out):
    if not cond:
        sys.exit(f"FAILED: {what}\n--- output ---\n{out}")


def refused(tool, args, stdin, needle, what):
    """The tool exits non-zero with NEEDLE in its one-line error."""
    p = run_tool(tool, args, stdin)
    expect(p.returncode != 0 and needle in p.stderr, what, p.stderr)
