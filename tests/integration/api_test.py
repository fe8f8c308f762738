#!/usr/bin/env python3
"""Control-plane integration test: the real AWS CLI and boto3 against
`kesm serve`, with the embedded broker (`kesm dev-broker`) and an HTTP
function on 127.0.0.1. Usage: api_test.py PATH_TO_KESM"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KESM = sys.argv.pop(1) if len(sys.argv) > 1 else "build/cli/kesm"
ENV = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
           AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")


def eventually(pred, timeout=30.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Function:
    """An HTTP function that records the (partition, offset) of every record."""

    def __init__(self):
        self.seen = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                event = json.loads(body)
                with outer.lock:
                    for records in event["records"].values():
                        for r in records:
                            outer.seen.append((r["topic"], r["partition"],
                                               r["offset"]))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self, topic):
        with self.lock:
            return sum(1 for t, _, _ in self.seen if t == topic)

    def offsets(self, topic):
        with self.lock:
            return sorted((p, o) for t, p, o in self.seen if t == topic)


class Kesm:
    """`kesm serve` as a child process on a free port."""

    def __init__(self, config, store):
        self.proc = subprocess.Popen(
            [KESM, "serve", "--config", config, "--api", "127.0.0.1:0",
             "--store", "sqlite:" + store, "--account", "111122223333"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        assert "API on http://" in line, line
        self.url = line.split("API on ")[1].split("/2015")[0]

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=60)
        self.proc.stdout.close()
        return rc


class ControlPlaneTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kesm-api-")
        cls.broker = subprocess.Popen(
            [KESM, "dev-broker", "--topic", "orders:2", "--topic", "audit:1"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        cls.bootstrap = cls.broker.stdout.readline().strip()
        cls.fn = Function()
        cls.config = os.path.join(cls.tmp, "kesm.json")
        with open(cls.config, "w") as f:
            json.dump({"kafka": {"session.timeout.ms": 6000},
                       "functions": {"fn": {"url": cls.fn.url}}}, f)
        cls.store = os.path.join(cls.tmp, "mappings.db")

    @classmethod
    def tearDownClass(cls):
        cls.broker.send_signal(signal.SIGTERM)
        cls.broker.wait(timeout=30)
        cls.broker.stdout.close()
        cls.fn.server.shutdown()
        cls.fn.server.server_close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def produce(self, topic, count, value):
        subprocess.run([KESM, "produce", "--bootstrap", self.bootstrap,
                        "--topic", topic, "--count", str(count),
                        "--value", value], check=True,
                       stdout=subprocess.DEVNULL)

    def aws(self, kesm, *args):
        out = subprocess.run(["aws", "lambda", *args, "--endpoint-url",
                              kesm.url, "--output", "json"], env=ENV,
                             capture_output=True, text=True)
        return out.returncode, out.stdout, out.stderr

    def client(self, kesm, validate=True):
        import boto3
        from botocore.config import Config
        return boto3.client("lambda", endpoint_url=kesm.url,
                            region_name="us-east-1",
                            aws_access_key_id="test",
                            aws_secret_access_key="test",
                            config=Config(parameter_validation=validate,
                                          retries={"max_attempts": 1}))

    def test_lifecycle_with_the_aws_cli_and_boto3(self):
        kesm = Kesm(self.config, self.store)
        try:
            self.produce("orders", 40, "first")
            rc, out, err = self.aws(
                kesm, "create-event-source-mapping", "--function-name", "fn",
                "--topics", "orders", "--starting-position", "TRIM_HORIZON",
                "--batch-size", "10", "--self-managed-event-source",
                json.dumps({"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS":
                                          [self.bootstrap.split(",")[0]]}}))
            self.assertEqual(rc, 0, err)
            created = json.loads(out)
            uuid = created["UUID"]
            self.assertEqual(created["State"], "Creating")
            self.assertEqual(created["FunctionArn"],
                             "arn:aws:lambda:us-east-1:111122223333:function:fn")
            self.assertEqual(created["EventSourceMappingArn"],
                             "arn:aws:lambda:us-east-1:111122223333:"
                             f"event-source-mapping:{uuid}")
            eventually(lambda: self.fn.count("orders") >= 40, what="delivery")

            lam = self.client(kesm)
            eventually(lambda: lam.get_event_source_mapping(UUID=uuid)["State"]
                       == "Enabled", what="Enabled")
            self.assertEqual(lam.get_event_source_mapping(UUID=uuid)
                             ["LastProcessingResult"], "OK")

            # Health, metrics, and a clear 4xx for anything else.
            import urllib.request
            import urllib.error
            with urllib.request.urlopen(kesm.url + "/healthz") as r:
                self.assertEqual(r.status, 200)
                self.assertEqual(len(r.headers["x-amzn-RequestId"]), 36)
            with urllib.request.urlopen(kesm.url + "/metrics") as r:
                text = r.read().decode()
            committed = [line for line in text.splitlines() if line.startswith(
                f'kesm_committed_event_count_total{{uuid="{uuid}"}}')]
            self.assertEqual(len(committed), 1, text)
            self.assertGreaterEqual(float(committed[0].split()[-1]), 40)
            self.assertIn(f'kesm_polled_event_count_total{{uuid="{uuid}"}}',
                          text)
            with self.assertRaises(urllib.error.HTTPError) as bad:
                urllib.request.urlopen(kesm.url + "/2015-03-31/functions")
            self.assertEqual(bad.exception.code, 404)
            self.assertEqual(bad.exception.headers["x-amzn-ErrorType"],
                             "ResourceNotFoundException")

            # Update BatchSize live.
            up = lam.update_event_source_mapping(
                UUID=uuid, BatchSize=5, MaximumRetryAttempts=3,
                BisectBatchOnFunctionError=True,
                FunctionResponseTypes=["ReportBatchItemFailures"],
                DestinationConfig={"OnFailure": {
                    "Destination": "kafka://orders-dlq"}})
            self.assertEqual(up["BatchSize"], 5)
            self.assertEqual(up["State"], "Updating")
            self.assertEqual(up["MaximumRetryAttempts"], 3)
            self.assertTrue(up["BisectBatchOnFunctionError"])
            self.assertEqual(up["FunctionResponseTypes"],
                             ["ReportBatchItemFailures"])
            self.assertEqual(up["DestinationConfig"]["OnFailure"]["Destination"],
                             "kafka://orders-dlq")
            eventually(lambda: lam.get_event_source_mapping(UUID=uuid)["State"]
                       == "Enabled", what="Enabled after update")
            # Applied live: the same consumer keeps its partitions, so new
            # records arrive without a rejoin (which takes seconds here).
            before = self.fn.count("orders")
            t0 = time.monotonic()
            self.produce("orders", 10, "after-update")
            eventually(lambda: self.fn.count("orders") >= before + 10,
                       what="delivery after the live update")
            self.assertLess(time.monotonic() - t0, 2.5)

            # Disable: delivery stops, offsets kept.
            lam.update_event_source_mapping(UUID=uuid, Enabled=False)
            eventually(lambda: lam.get_event_source_mapping(UUID=uuid)["State"]
                       == "Disabled", what="Disabled")
            before = self.fn.count("orders")
            self.produce("orders", 20, "while-disabled")
            time.sleep(2)
            self.assertEqual(self.fn.count("orders"), before)

            # Enable: resumes where it stopped, nothing skipped.
            lam.update_event_source_mapping(UUID=uuid, Enabled=True)
            eventually(lambda: self.fn.count("orders") >= before + 20,
                       what="delivery after enabling")
            offsets = set(self.fn.offsets("orders"))
            for p in (0, 1):
                high = max(o for q, o in offsets if q == p)
                missing = [o for o in range(high + 1) if (p, o) not in offsets]
                self.assertEqual(missing, [], f"partition {p} skipped")

            # Create-only fields cannot be updated; bounds are checked.
            with self.assertRaises(lam.exceptions.InvalidParameterValueException):
                self.client(kesm, validate=False).update_event_source_mapping(
                    UUID=uuid, BatchSize=0)
            raw = self.client(kesm, validate=False)
            with self.assertRaises(raw.exceptions.InvalidParameterValueException):
                raw.create_event_source_mapping(
                    FunctionName="fn", Topics=["a", "b"],
                    StartingPosition="LATEST",
                    SelfManagedEventSource={"Endpoints": {
                        "KAFKA_BOOTSTRAP_SERVERS": ["127.0.0.1:1"]}})
            with self.assertRaises(lam.exceptions.ResourceNotFoundException):
                lam.create_event_source_mapping(
                    FunctionName="missing", Topics=["audit"],
                    StartingPosition="LATEST",
                    SelfManagedEventSource={"Endpoints": {
                        "KAFKA_BOOTSTRAP_SERVERS": ["127.0.0.1:1"]}})
            with self.assertRaises(lam.exceptions.ResourceConflictException):
                lam.create_event_source_mapping(
                    FunctionName="fn", Topics=["audit"],
                    StartingPosition="LATEST",
                    SelfManagedKafkaEventSourceConfig={"ConsumerGroupId": uuid},
                    SelfManagedEventSource={"Endpoints": {
                        "KAFKA_BOOTSTRAP_SERVERS": ["127.0.0.1:1"]}})

            # List with paging: three mappings, one a page.
            for i in range(2):
                lam.create_event_source_mapping(
                    FunctionName="fn", Topics=["audit"],
                    StartingPosition="LATEST", Enabled=False,
                    SelfManagedEventSource={"Endpoints": {
                        "KAFKA_BOOTSTRAP_SERVERS": [self.bootstrap.split(",")[0]]}})
            page = lam.list_event_source_mappings(MaxItems=1)
            self.assertEqual(len(page["EventSourceMappings"]), 1)
            self.assertIn("NextMarker", page)
            seen = [m["UUID"] for m in lam.get_paginator(
                "list_event_source_mappings").paginate(
                    PaginationConfig={"PageSize": 1}).search(
                        "EventSourceMappings[]")]
            self.assertEqual(len(seen), 3)
            self.assertEqual(seen[0], uuid)
            rc, out, err = self.aws(kesm, "list-event-source-mappings",
                                    "--function-name", "fn")
            self.assertEqual(rc, 0, err)
            self.assertEqual(len(json.loads(out)["EventSourceMappings"]), 3)
        finally:
            self.assertEqual(kesm.stop(signal.SIGKILL), -signal.SIGKILL)

        # kill -9, restart: the mapping is still there and still running.
        kesm = Kesm(self.config, self.store)
        try:
            lam = self.client(kesm)
            got = lam.get_event_source_mapping(UUID=uuid)
            self.assertEqual(got["BatchSize"], 5)
            before = self.fn.count("orders")
            self.produce("orders", 10, "after-restart")
            eventually(lambda: self.fn.count("orders") >= before + 10,
                       timeout=45, what="delivery after restart")
            # Delete: gone.
            gone = lam.delete_event_source_mapping(UUID=uuid)
            self.assertEqual(gone["State"], "Deleting")
            with self.assertRaises(lam.exceptions.ResourceNotFoundException):
                lam.get_event_source_mapping(UUID=uuid)
            rc, _, err = self.aws(kesm, "get-event-source-mapping", "--uuid",
                                  uuid)
            self.assertNotEqual(rc, 0)
            self.assertIn("ResourceNotFoundException", err)
        finally:
            self.assertEqual(kesm.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
