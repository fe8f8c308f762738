"""Processes the Python integration tests share: an embedded broker
(`kesm dev-broker`), a function answering every call with 200, and
`kesm serve` on port 0.
"""
import json
import os
import signal
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.server.calls += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


class Stack:
    """Broker, function and `kesm serve`; `stop()` ends them in reverse."""

    def __init__(self, kesm, tmp, topic, partitions=1, mappings=True, extra_args=(), extra_config=None):
        self.kesm_bin = kesm
        self.tmp = tmp
        self.topic = topic
        self.fn = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
        self.fn.calls = 0
        threading.Thread(target=self.fn.serve_forever, daemon=True).start()
        self.fn_url = "http://127.0.0.1:%d/" % self.fn.server_address[1]
        self.broker = subprocess.Popen([kesm, "dev-broker", "--topic", "%s:%d" % (topic, partitions)],
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.bootstrap = self.broker.stdout.readline().strip()
        self.config = os.path.join(tmp, "kesm.json")
        cfg = {"functions": {"fn": {"url": self.fn_url}}}
        if mappings:
            cfg["mappings"] = [self.mapping()]
        cfg.update(extra_config or {})
        with open(self.config, "w") as f:
            json.dump(cfg, f)
        self.kesm = subprocess.Popen([kesm, "serve", "--config", self.config, "--api", "127.0.0.1:0",
                                      "--store", "sqlite:" + os.path.join(tmp, "db"), *extra_args],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.kesm.stdout.readline()
        if "API on " not in line:
            self.stop()
            raise RuntimeError("kesm serve did not start: %r" % line)
        self.api = line.split("API on ")[1].split("/2015")[0]

    def mapping(self):
        return {"FunctionName": "fn", "Topics": [self.topic], "StartingPosition": "TRIM_HORIZON",
                "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": [self.bootstrap]}}}

    def produce(self, count, partition=-1):
        subprocess.run([self.kesm_bin, "produce", "--bootstrap", self.bootstrap, "--topic", self.topic,
                        "--count", str(count), "--partition", str(partition)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        for proc in (getattr(self, "kesm", None), self.broker):
            if proc is None:
                continue
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
            proc.stdout.close()
        self.fn.shutdown()
