#!/usr/bin/env python3
"""The control plane against a hostile client: oversize and compressed
bodies, slow clients, cross-site requests, authentication (token, SigV4
with the real AWS CLI), error shapes, readiness. Each test fails if its
defect comes back. Usage: api_hardening_test.py PATH_TO_KESM"""
import gzip
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import zlib

KESM = sys.argv.pop(1) if len(sys.argv) > 1 else "build/cli/kesm"
ENV = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
           AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")
API = "/2015-03-31/event-source-mappings/"
# The memory bound of a refused body; ThreadSanitizer's shadow memory
# multiplies what any allocation costs (scripts/tsan.sh sets TSAN_OPTIONS).
RSS_BOUND_KB = (20 << 10) * (8 if "TSAN_OPTIONS" in os.environ else 1)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Kesm:
    """`kesm serve` as a child process on a free port."""

    def __init__(self, tmp, config, *extra, env=None):
        store = os.path.join(tmp, f"store-{time.monotonic_ns()}.db")
        self.err_path = os.path.join(tmp, f"err-{time.monotonic_ns()}.log")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen(
            [KESM, "serve", "--config", config, "--api", "127.0.0.1:0",
             "--store", "sqlite:" + store, *extra],
            stdout=subprocess.PIPE, stderr=self.err, text=True, env=env)
        line = self.proc.stdout.readline()
        assert "API on http://" in line, line
        self.url = line.split("API on ")[1].split("/2015")[0]
        self.port = int(self.url.rsplit(":", 1)[1])

    def request(self, method, path, body=None, headers=None, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, dict(resp.getheaders()), data

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=60)
        self.proc.stdout.close()
        self.err.close()
        return rc


def raw_exchange(port, data, timeout=10):
    """Sends raw bytes, returns everything the server answers."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out:
                head, _, rest = out.partition(b"\r\n\r\n")
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        if len(rest) >= int(line.split(b":")[1]):
                            return out
        return out
    finally:
        s.close()


class HardeningTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kesm-hard-")
        cls.config = os.path.join(cls.tmp, "kesm.json")
        with open(cls.config, "w") as f:
            json.dump({"functions": {"fn": {"url": "http://127.0.0.1:9/"}},
                       "api_access_keys": {"AKIDKESMTEST": "s3cret-key"}}, f)
        cls.kesm = Kesm(cls.tmp, cls.config)

    @classmethod
    def tearDownClass(cls):
        assert cls.kesm.stop() == 0
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def assert_error_shape(self, status, headers, body, want_status,
                           want_type=None):
        self.assertEqual(status, want_status, body[:300])
        lower = {k.lower(): v for k, v in headers.items()}
        self.assertIn("x-amzn-errortype", lower, headers)
        if want_type:
            self.assertEqual(lower["x-amzn-errortype"], want_type)
        doc = json.loads(body)
        self.assertIn("message", doc)
        self.assertLess(len(body), 4096, "the error echoes the request")

    def test_gzip_bomb_is_refused_without_growing(self):
        bomb = gzip.compress(b"{" + b" " * (200 << 20) + b"}", 9)
        self.assertLess(len(bomb), 400 << 10)
        before = rss_kb(self.kesm.proc.pid)
        status, headers, body = self.kesm.request(
            "POST", API, body=bomb,
            headers={"Content-Encoding": "gzip",
                     "Content-Type": "application/json"}, timeout=30)
        self.assert_error_shape(status, headers, body, 413,
                                "RequestTooLargeException")
        grew = rss_kb(self.kesm.proc.pid) - before
        self.assertLess(grew, RSS_BOUND_KB, f"RSS grew {grew} KB")

    def test_chunked_oversize_body_is_refused_without_growing(self):
        before = rss_kb(self.kesm.proc.pid)
        s = socket.create_connection(("127.0.0.1", self.kesm.port), timeout=10)
        s.sendall(f"POST {API} HTTP/1.1\r\nHost: x\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n".encode())
        chunk = b"%x\r\n" % (1 << 20) + b"a" * (1 << 20) + b"\r\n"
        answered = b""
        try:
            for _ in range(100):  # 100 MB, if it kept reading
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            answered = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            pass
        s.close()
        self.assertTrue(answered.startswith(b"HTTP/1.1 413 "), answered[:200])
        grew = rss_kb(self.kesm.proc.pid) - before
        self.assertLess(grew, RSS_BOUND_KB, f"RSS grew {grew} KB")

    def test_declared_oversize_body_and_unknown_encoding_are_refused(self):
        out = raw_exchange(self.kesm.port,
                           f"POST {API} HTTP/1.1\r\nHost: x\r\n"
                           "Content-Length: 2097152\r\n\r\n".encode())
        self.assertTrue(out.startswith(b"HTTP/1.1 413 "), out[:200])
        self.assertIn(b"RequestTooLargeException", out)
        status, headers, body = self.kesm.request(
            "POST", API, body=b"{}",
            headers={"Content-Encoding": "xz"})
        self.assert_error_shape(status, headers, body, 415,
                                "UnsupportedMediaTypeException")

    def test_slow_clients_do_not_lock_out_health_or_the_api(self):
        stop = threading.Event()
        closed_after = []

        def slowloris():
            s = socket.create_connection(("127.0.0.1", self.kesm.port))
            start = time.time()
            try:
                s.sendall(b"GET /healthz HTTP/1.1\r\n")
                while not stop.is_set():
                    s.sendall(b"X")
                    if stop.wait(3):
                        break
                    s.settimeout(0.01)
                    try:
                        if s.recv(65536) == b"":
                            closed_after.append(time.time() - start)
                            return
                    except socket.timeout:
                        pass
            except OSError:
                closed_after.append(time.time() - start)
            finally:
                s.close()

        threads = [threading.Thread(target=slowloris) for _ in range(8)]
        for t in threads:
            t.start()
        time.sleep(1)
        worst = 0.0
        for _ in range(10):
            t0 = time.time()
            status, _, _ = self.kesm.request("GET", "/healthz", timeout=5)
            worst = max(worst, time.time() - t0)
            self.assertEqual(status, 200)
            status, _, _ = self.kesm.request("GET", API, timeout=5)
            self.assertEqual(status, 200)
            time.sleep(0.5)
        self.assertLess(worst, 1.0, f"/healthz took {worst:.2f} s")
        # The request deadline (10 s) ends every slow connection.
        deadline = time.time() + 20
        while len(closed_after) < 8 and time.time() < deadline:
            time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join()
        self.assertEqual(len(closed_after), 8, closed_after)
        self.assertLess(max(closed_after), 16)

    def test_cross_site_requests_are_refused(self):
        doc = json.dumps({"FunctionName": "fn", "Topics": ["t"],
                          "StartingPosition": "LATEST",
                          "SelfManagedEventSource": {"Endpoints": {
                              "KAFKA_BOOTSTRAP_SERVERS": ["127.0.0.1:9"]}}})
        status, headers, body = self.kesm.request(
            "POST", API, body=doc,
            headers={"Content-Type": "text/plain",
                     "Origin": "http://evil.example"})
        self.assert_error_shape(status, headers, body, 403,
                                "AccessDeniedException")
        status, _, body = self.kesm.request("GET", API)
        self.assertEqual(json.loads(body)["EventSourceMappings"], [])
        # Same origin (a page served by kesm itself) is fine.
        status, _, _ = self.kesm.request(
            "GET", API, headers={"Origin": f"http://127.0.0.1:{self.kesm.port}",
                                 "Host": f"127.0.0.1:{self.kesm.port}"})
        self.assertEqual(status, 200)

    def test_every_error_has_lambdas_shape(self):
        k = self.kesm
        self.assert_error_shape(*k.request("POST", API, body=b""), 400)
        self.assert_error_shape(*k.request("PUT", API, body=b"{}"), 405)
        self.assert_error_shape(*k.request("DELETE", API), 405)
        self.assert_error_shape(*k.request("GET", "/nope"), 404)
        self.assert_error_shape(*k.request("GET", API + "x" * 100000), 414)
        out = raw_exchange(k.port, b"FROB / HTTP/1.1\r\nHost: x\r\n\r\n")
        head, _, body = out.partition(b"\r\n\r\n")
        self.assertIn(b"x-amzn-ErrorType", head, out[:300])
        self.assertIn(b"message", body)

    def test_kesm_refuses_what_it_cannot_run(self):
        import boto3
        from botocore.config import Config
        c = boto3.client("lambda", endpoint_url=self.kesm.url,
                         region_name="us-east-1", aws_access_key_id="x",
                         aws_secret_access_key="x",
                         config=Config(retries={"max_attempts": 1}))
        src = {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["127.0.0.1:9"]}}
        with self.assertRaises(c.exceptions.ResourceNotFoundException):
            c.create_event_source_mapping(
                FunctionName="arn:aws:lambda:eu-west-1:999999999999:function:fn",
                Topics=["t"], StartingPosition="LATEST",
                SelfManagedEventSource=src)
        with self.assertRaises(c.exceptions.InvalidParameterValueException) as e:
            c.create_event_source_mapping(
                FunctionName="fn", StartingPosition="LATEST",
                EventSourceArn="arn:aws:kinesis:us-east-1:000000000000:stream/s")
        self.assertIn("Only Kafka event sources", str(e.exception))
        with self.assertRaises(c.exceptions.InvalidParameterValueException) as e:
            c.create_event_source_mapping(
                FunctionName="fn", Topics=["t"], StartingPosition="LATEST",
                SelfManagedEventSource={"Endpoints": {
                    "KAFKA_BOOTSTRAP_SERVERS": ["127.0.0.1:99999"]}})
        self.assertIn("1 to 65535", str(e.exception))
        # ListTags answers the tags a mapping was created with.
        m = c.create_event_source_mapping(
            FunctionName="fn", Topics=["tagged"], StartingPosition="LATEST",
            Enabled=False, SelfManagedEventSource=src,
            Tags={"team": "payments", "env": "test"})
        tags = c.list_tags(Resource=m["EventSourceMappingArn"])["Tags"]
        self.assertEqual(tags, {"team": "payments", "env": "test"})
        c.delete_event_source_mapping(UUID=m["UUID"])


class PollerGroupTest(unittest.TestCase):
    """AWS's poller-group limits, with boto3."""

    def test_group_limits_are_refused_with_lambdas_errors(self):
        tmp = tempfile.mkdtemp(prefix="kesm-groups-")
        cfg = os.path.join(tmp, "kesm.json")
        with open(cfg, "w") as f:
            json.dump({"functions": {"fn": {"url": "http://127.0.0.1:9/"}}}, f)
        kesm = Kesm(tmp, cfg)
        try:
            import boto3
            c = boto3.client("lambda", endpoint_url=kesm.url,
                             region_name="us-east-1", aws_access_key_id="x",
                             aws_secret_access_key="x")
            src = {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["127.0.0.1:9"]}}

            def create(topic, group, max_pollers=10):
                return c.create_event_source_mapping(
                    FunctionName="fn", Topics=[topic], Enabled=False,
                    StartingPosition="LATEST", SelfManagedEventSource=src,
                    ProvisionedPollerConfig={"MinimumPollers": 1,
                                             "MaximumPollers": max_pollers,
                                             "PollerGroupName": group})

            big = create("t-big", "g1", 1500)
            with self.assertRaises(
                    c.exceptions.InvalidParameterValueException) as e:
                create("t-big2", "g1", 600)
            self.assertIn("at most 2000", str(e.exception))
            create("t-ok", "g1", 500)  # 2000 exactly
            # Moving a mapping out of the group frees its share.
            c.update_event_source_mapping(
                UUID=big["UUID"], ProvisionedPollerConfig={
                    "MinimumPollers": 1, "MaximumPollers": 1500,
                    "PollerGroupName": ""})
            create("t-big2", "g1", 600)
            # At most 100 mappings a group.
            for i in range(100):
                create(f"t{i}", "g2", 1)
            with self.assertRaises(
                    c.exceptions.InvalidParameterValueException) as e:
                create("t100", "g2", 1)
            self.assertIn("100 event source mappings", str(e.exception))
            with self.assertRaises(c.exceptions.ClientError):
                create("t-bad", "bad name!", 1)
        finally:
            self.assertEqual(kesm.stop(), 0)
            shutil.rmtree(tmp, ignore_errors=True)


class SecretsTest(unittest.TestCase):
    """SourceAccessConfigurations with the config's secrets: checked at
    create, used at connect, never printed."""

    def test_secrets_are_checked_at_create_and_never_printed(self):
        tmp = tempfile.mkdtemp(prefix="kesm-secrets-")
        broker = subprocess.Popen([KESM, "dev-broker", "--topic", "sec:1"],
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        bootstrap = broker.stdout.readline().strip()
        password = "sup3r-s3cret-pw-4711"
        good = "arn:aws:secretsmanager:us-east-1:111122223333:secret:kafka-AbCdEf"
        half = "arn:aws:secretsmanager:us-east-1:111122223333:secret:half-AbCdEf"
        bad_cert = "arn:aws:secretsmanager:us-east-1:111122223333:secret:cert-AbCdEf"
        cfg = os.path.join(tmp, "kesm.json")
        with open(cfg, "w") as f:
            json.dump({"functions": {"fn": {"url": "http://127.0.0.1:9/"}},
                       "secrets": {good: {"username": "alice",
                                          "password": "${KESM_TEST_PW}"},
                                   half: {"username": "alice"},
                                   bad_cert: {"certificate": "not a PEM",
                                              "privateKey": "nor this"}}},
                      f)
        env = dict(os.environ, KESM_TEST_PW=password)
        kesm = Kesm(tmp, cfg, env=env)
        try:
            import boto3
            c = boto3.client("lambda", endpoint_url=kesm.url,
                             region_name="us-east-1", aws_access_key_id="x",
                             aws_secret_access_key="x")
            src = {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": [bootstrap]}}

            def create(uri, kind="SASL_SCRAM_512_AUTH"):
                return c.create_event_source_mapping(
                    FunctionName="fn", Topics=["sec"],
                    StartingPosition="TRIM_HORIZON",
                    SelfManagedEventSource=src,
                    SourceAccessConfigurations=[{"Type": kind, "URI": uri}])

            with self.assertRaises(
                    c.exceptions.InvalidParameterValueException) as e:
                create(good.replace("kafka", "nope"))
            self.assertIn("nope", str(e.exception))
            with self.assertRaises(
                    c.exceptions.InvalidParameterValueException) as e:
                create(half)
            self.assertIn('"password"', str(e.exception))
            with self.assertRaises(
                    c.exceptions.InvalidParameterValueException) as e:
                create(bad_cert, "CLIENT_CERTIFICATE_TLS_AUTH")
            self.assertIn("refused", str(e.exception))
            self.assertNotIn("nor this", str(e.exception))
            m = create(good)
            # SASL_SSL against the plaintext embedded broker: a visible
            # problem, not a silent plaintext connection.
            deadline = time.time() + 30
            got = {}
            while time.time() < deadline:
                got = c.get_event_source_mapping(UUID=m["UUID"])
                if got["LastProcessingResult"].startswith("PROBLEM"):
                    break
                time.sleep(0.3)
            print("\n  LastProcessingResult:", got["LastProcessingResult"][:200])
            self.assertTrue(got["LastProcessingResult"].startswith("PROBLEM"),
                            got["LastProcessingResult"])
            self.assertNotIn(password, json.dumps(got, default=str))
            _, _, metrics = kesm.request("GET", "/metrics")
            self.assertNotIn(password.encode(), metrics)
            c.delete_event_source_mapping(UUID=m["UUID"])
        finally:
            self.assertEqual(kesm.stop(), 0)
            broker.send_signal(signal.SIGTERM)
            broker.wait(timeout=30)
            broker.stdout.close()
        with open(kesm.err_path) as f:
            log = f.read()
        self.assertNotIn(password, log)
        self.assertIn("PROBLEM", log)
        shutil.rmtree(tmp, ignore_errors=True)


class AuthAndHealthTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="kesm-auth-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def config(self, **extra):
        path = os.path.join(self.tmp, "kesm.json")
        doc = {"functions": {"fn": {"url": "http://127.0.0.1:9/"}}}
        doc.update(extra)
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    def aws(self, kesm, key, secret, *args):
        env = dict(ENV, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)
        out = subprocess.run(["aws", "lambda", *args, "--endpoint-url",
                              kesm.url, "--output", "json"], env=env,
                             capture_output=True, text=True)
        return out.returncode, out.stdout, out.stderr

    def test_sigv4_accepts_the_aws_cli_with_a_configured_key_only(self):
        env = dict(os.environ, KESM_TEST_SECRET="s3cret-key")
        kesm = Kesm(self.tmp, self.config(
            api_access_keys={"AKIDKESMTEST": "${KESM_TEST_SECRET}"}),
            "--api-auth", "sigv4", env=env)
        try:
            rc, out, err = self.aws(kesm, "AKIDKESMTEST", "s3cret-key",
                                    "list-event-source-mappings")
            self.assertEqual(rc, 0, err)
            rc, out, err = self.aws(
                kesm, "AKIDKESMTEST", "s3cret-key",
                "create-event-source-mapping", "--function-name", "fn",
                "--topics", "a/b?c d", "--starting-position", "LATEST",
                "--self-managed-event-source",
                '{"Endpoints":{"KAFKA_BOOTSTRAP_SERVERS":["127.0.0.1:9"]}}')
            self.assertIn("InvalidParameterValueException", err)  # signed ok
            rc, out, err = self.aws(kesm, "AKIDKESMTEST", "wrong",
                                    "list-event-source-mappings")
            self.assertNotEqual(rc, 0)
            self.assertIn("InvalidSignatureException", err)
            rc, out, err = self.aws(kesm, "AKIDOTHER", "s3cret-key",
                                    "list-event-source-mappings")
            self.assertIn("UnrecognizedClientException", err)
            status, _, _ = kesm.request("GET", API)
            self.assertEqual(status, 403)
            status, _, _ = kesm.request("GET", "/healthz")
            self.assertEqual(status, 200)
        finally:
            self.assertEqual(kesm.stop(), 0)
        with open(kesm.err_path) as f:
            self.assertNotIn("s3cret-key", f.read())

    def test_token_is_required_where_set(self):
        kesm = Kesm(self.tmp, self.config(), "--api-token", "tok-123")
        try:
            self.assertEqual(kesm.request("GET", API)[0], 403)
            self.assertEqual(kesm.request(
                "GET", API, headers={"Authorization": "Bearer tok-123"})[0],
                200)
            self.assertEqual(kesm.request("GET", "/readyz")[0], 200)
        finally:
            self.assertEqual(kesm.stop(), 0)

    def test_readiness_and_polling_errors_follow_an_unreachable_broker(self):
        with socket.socket() as s:  # a port nothing listens on
            s.bind(("127.0.0.1", 0))
            dead = s.getsockname()[1]
        mapping = {"FunctionName": "fn", "Topics": ["t"],
                   "StartingPosition": "LATEST",
                   "SelfManagedEventSource": {"Endpoints": {
                       "KAFKA_BOOTSTRAP_SERVERS": [f"127.0.0.1:{dead}"]}}}
        kesm = Kesm(self.tmp, self.config(mappings=[mapping]))
        try:
            deadline = time.time() + 30
            status = 200
            while time.time() < deadline and status == 200:
                status, _, body = kesm.request("GET", "/readyz")
                time.sleep(0.2)
            self.assertEqual(status, 503, body)
            self.assertIn("Connection error", json.loads(body)
                          ["cannotPoll"][0]["LastProcessingResult"])
            _, _, metrics = kesm.request("GET", "/metrics")
            counts = [float(line.split()[-1]) for line in
                      metrics.decode().splitlines()
                      if line.startswith("kesm_polling_error_count_total")]
            self.assertTrue(counts and max(counts) > 0, metrics[:2000])
        finally:
            self.assertEqual(kesm.stop(), 0)
        with open(kesm.err_path) as f:
            log = f.read()
        # librdkafka's own lines in kesm's format, named by the mapping.
        self.assertRegex(log, r"(ERROR|WARN) mapping [0-9a-f-]{36}: Kafka ")

    def test_allowed_clusters_refuse_other_hosts(self):
        kesm = Kesm(self.tmp, self.config(allowed_clusters=["*.kafka.internal",
                                                            "127.0.0.1:9092"]))
        try:
            import boto3
            c = boto3.client("lambda", endpoint_url=kesm.url,
                             region_name="us-east-1", aws_access_key_id="x",
                             aws_secret_access_key="x")
            with self.assertRaises(
                    c.exceptions.InvalidParameterValueException) as e:
                c.create_event_source_mapping(
                    FunctionName="fn", Topics=["t"], StartingPosition="LATEST",
                    SelfManagedEventSource={"Endpoints": {
                        "KAFKA_BOOTSTRAP_SERVERS": ["10.1.2.3:9092"]}})
            self.assertIn("allowed_clusters", str(e.exception))
            m = c.create_event_source_mapping(
                FunctionName="fn", Topics=["t"], StartingPosition="LATEST",
                Enabled=False, SelfManagedEventSource={"Endpoints": {
                    "KAFKA_BOOTSTRAP_SERVERS": ["b-1.kafka.internal:9096"]}})
            c.delete_event_source_mapping(UUID=m["UUID"])
        finally:
            self.assertEqual(kesm.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
