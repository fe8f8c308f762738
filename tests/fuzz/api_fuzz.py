#!/usr/bin/env python3
"""Control-plane fuzzer: throws malformed and mutated requests at a
`kesm serve` it starts itself (127.0.0.1, a free port) for a while, and
fails when kesm crashes, hangs, answers 5xx, answers an error without
Lambda's shape (x-amzn-ErrorType and a JSON message), or grows past a
memory bound.

Usage: api_fuzz.py PATH_TO_KESM [--seconds N] [--seed S]
CI runs it for 20 s (tests/CMakeLists.txt); run it longer by hand."""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

API = "/2015-03-31/event-source-mappings/"
VALID = {
    "FunctionName": "fn", "Topics": ["orders"], "StartingPosition": "LATEST",
    "BatchSize": 10, "Enabled": False,
    "SelfManagedEventSource": {"Endpoints": {
        "KAFKA_BOOTSTRAP_SERVERS": ["127.0.0.1:9"]}},
    "FilterCriteria": {"Filters": [{"Pattern": "{\"value\":{\"a\":[1]}}"}]},
    "DestinationConfig": {"OnFailure": {"Destination": "kafka://dlq"}},
    "Tags": {"k": "v"},
}
WEIRD = [None, True, -1, 0, 2**63, -2**63, 1e308, "", "x" * 5000, [], {},
         [[[[[]]]]], {"a": {"b": {"c": {}}}}, "\u0000", "\udcff", "../..",
         "arn:aws:lambda:us-east-1:000000000000:function:fn:$LATEST",
         "arn:aws:kinesis:us-east-1:000000000000:stream/s", "127.0.0.1:99999"]


def mutate(rng, doc):
    doc = json.loads(json.dumps(doc))
    for _ in range(rng.randint(1, 4)):
        keys = list(doc.keys()) if isinstance(doc, dict) else []
        op = rng.random()
        if keys and op < 0.4:
            doc[rng.choice(keys)] = rng.choice(WEIRD)
        elif keys and op < 0.6:
            del doc[rng.choice(keys)]
        elif op < 0.8:
            doc[rng.choice(["Nope", "UUID", "State", "Queues", "x" * 300])] = \
                rng.choice(WEIRD)
        else:
            doc["SelfManagedEventSource"] = {"Endpoints": {
                "KAFKA_BOOTSTRAP_SERVERS": [rng.choice(WEIRD)]}}
    return doc


def random_request(rng, uuids):
    method = rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
                         "HEAD", "FROB", "G\x00T"])
    path = rng.choice([API, API[:-1], API + rng.choice(uuids or ["x"]),
                       API + "a/b", "/2017-03-31/tags/" + "x" * rng.randint(0, 300),
                       "/healthz", "/readyz", "/metrics", "/", "//..//",
                       API + "?MaxItems=" + rng.choice(["0", "5", "-1", "x"]),
                       API + "%00%ff", "/" + "a" * rng.randint(0, 20000)])
    body = b""
    headers = {"Host": "127.0.0.1"}
    r = rng.random()
    if r < 0.5:
        body = json.dumps(mutate(rng, VALID), ensure_ascii=rng.random() < 0.5,
                          ).encode("utf-8", "surrogatepass")
    elif r < 0.6:
        body = os.urandom(rng.randint(0, 4096))
    elif r < 0.7:
        body = b"[" * rng.randint(1, 100000)
    elif r < 0.75:
        body = b"{" + b"\"a\":1," * 20000 + b"\"b\":2}"
    chunked = rng.random() < 0.1
    if rng.random() < 0.1:
        headers["Content-Encoding"] = rng.choice(["gzip", "br", "x", ""])
    if rng.random() < 0.05:
        headers["Origin"] = "http://evil.example"
    if rng.random() < 0.05:
        headers["X-" + "h" * rng.randint(1, 9000)] = "v"
    head = f"{method} {path} HTTP/1.1\r\n".encode("latin-1", "replace")
    for k, v in headers.items():
        head += f"{k}: {v}\r\n".encode("latin-1", "replace")
    if chunked:
        head += b"Transfer-Encoding: chunked\r\n\r\n"
        data = head + (b"%x\r\n" % len(body) + body + b"\r\n" if body else b"") \
            + b"0\r\n\r\n"
    else:
        declared = len(body)
        if rng.random() < 0.05:
            declared = rng.choice([0, len(body) + 10, 2**40])
        head += f"Content-Length: {declared}\r\n\r\n".encode()
        data = head + body
    return method, data


def exchange(port, data, timeout, head_only=False):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        out = b""
        while True:  # the first answer only: head and Content-Length bytes
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
            head, sep, body = out.partition(b"\r\n\r\n")
            if sep:
                length = 0
                for h in head.split(b"\r\n")[1:]:
                    name, _, value = h.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if head_only or len(body) >= length:
                    return head + sep + body[:length]
        return out
    finally:
        s.close()


def check(out, method):
    """None when the answer is acceptable, else why not."""
    if not out:
        return None  # closed without an answer: malformed beyond HTTP
    line = out.split(b"\r\n", 1)[0]
    parts = line.split(b" ")
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        return f"not an HTTP answer: {line[:80]!r}"
    status = int(parts[1])
    if status >= 500 and status != 503:
        return f"server error {status}"
    head, _, body = out.partition(b"\r\n\r\n")
    if status >= 400:
        if b"x-amzn-errortype" not in head.lower():
            return f"{status} without x-amzn-ErrorType"
        if method != "HEAD":
            try:
                json.loads(body)["message"]
            except Exception:
                return f"{status} without a JSON message: {body[:80]!r}"
        if len(body) > 4096:
            return f"{status} body of {len(body)} bytes echoes the request"
    return None


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("kesm")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tmp = tempfile.mkdtemp(prefix="kesm-fuzz-")
    cfg = os.path.join(tmp, "kesm.json")
    with open(cfg, "w") as f:
        json.dump({"functions": {"fn": {"url": "http://127.0.0.1:9/"}}}, f)
    proc = subprocess.Popen(
        [args.kesm, "serve", "--config", cfg, "--api", "127.0.0.1:0",
         "--store", "sqlite:" + os.path.join(tmp, "m.db")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    port = int(line.split("API on http://127.0.0.1:")[1].split("/")[0])
    failures, sent, uuids = [], 0, []
    start_rss = rss_kb(proc.pid)
    peak = start_rss
    deadline = time.time() + args.seconds
    try:
        while time.time() < deadline and len(failures) < 10:
            method, data = random_request(rng, uuids)
            t0 = time.time()
            try:
                out = exchange(port, data, timeout=15,
                               head_only=method == "HEAD")
            except socket.timeout:
                failures.append(f"no answer within 15 s to {data[:120]!r}")
                continue
            if os.environ.get("FUZZ_DEBUG") and time.time() - t0 > 0.5:
                print(f"slow {time.time() - t0:.1f}s {data[:100]!r}")
            if time.time() - t0 > 12:
                failures.append(f"answer took {time.time() - t0:.1f} s")
            why = check(out, method)
            if why:
                failures.append(f"{why}; request {data[:160]!r}")
            if b" 202 " in out.split(b"\r\n", 1)[0]:
                try:
                    uuids.append(json.loads(out.partition(b"\r\n\r\n")[2])
                                 ["UUID"])
                except Exception:
                    pass
            sent += 1
            if proc.poll() is not None:
                failures.append(f"kesm exited with {proc.returncode}")
                break
            peak = max(peak, rss_kb(proc.pid))
        health = exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 5)
        if b" 200 " not in health.split(b"\r\n", 1)[0]:
            failures.append("/healthz does not answer after the run")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = "hung on SIGTERM"
        shutil.rmtree(tmp, ignore_errors=True)
    if rc != 0:
        failures.append(f"stop: exit {rc}")
    grew_mb = (peak - start_rss) / 1024
    if grew_mb > 200 * (8 if "TSAN_OPTIONS" in os.environ else 1):
        failures.append(f"RSS grew {grew_mb:.0f} MB")
    print(f"api_fuzz: seed {args.seed}, {sent} requests in {args.seconds:.0f} s,"
          f" RSS +{grew_mb:.0f} MB, {len(failures)} failures")
    for f in failures:
        print("  " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
