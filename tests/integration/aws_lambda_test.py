"""kesm invoking "real" Lambda: a local fake of the Lambda Invoke API that
verifies every SigV4 signature with botocore, and a fake ECS credentials
endpoint whose credentials expire every few seconds.

Usage: aws_lambda_test.py path/to/kesm
"""
import datetime
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


import sigv4_check

KESM = sys.argv.pop(1)


def eventually(pred, timeout=40.0, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


class FakeAws:
    """Lambda Invoke (POST /2015-03-31/functions/{name}/invocations) and an
    ECS credentials endpoint (GET /creds) on 127.0.0.1."""

    def __init__(self):
        self.lock = threading.Lock()
        self.issued = {}  # access key -> (secret, token, expires)
        self.calls = []  # (time, function, access key, record count)
        self.bad_signatures = 0
        self.script = []  # answers to use before the default 200
        self.secrets = {}  # Secrets Manager: ARN -> SecretString
        self.secret_reads = 0
        self.brokers = {}  # MSK cluster ARN -> BootstrapBrokerStringSaslIam
        self.discoveries = 0
        self.tenants = set()
        self.invocation_types = set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                m = re.match(r"^/v1/clusters/([^/]+)/bootstrap-brokers$", self.path)
                if m:
                    return self.bootstrap_brokers(urllib.parse.unquote(m.group(1)))
                if self.path != "/creds" or self.headers.get("Authorization") != "ecs-token":
                    return self.answer(403, b"{}")
                with fake.lock:
                    n = len(fake.issued) + 1
                    key = "ASIAFAKE%04d" % n
                    # Inside kesm's 5-minute refresh margin after 3 s.
                    exp = datetime.datetime.utcnow() + datetime.timedelta(seconds=303)
                    fake.issued[key] = ("secret-%d" % n, "token-%d" % n, exp)
                body = json.dumps({"AccessKeyId": key, "SecretAccessKey": "secret-%d" % n,
                                   "Token": "token-%d" % n,
                                   "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ")})
                self.answer(200, body.encode())

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("X-Amz-Target") == "secretsmanager.GetSecretValue":
                    return self.get_secret_value(body)
                m = re.match(r"^/2015-03-31/functions/([^/]+)/invocations$", self.path)
                if not m or not fake.verify(self, body):
                    return self.answer(403, b'{"Type":"User","message":"The request signature we calculated does not match"}',
                                       {"X-Amzn-ErrorType": "InvalidSignatureException"})
                event = json.loads(body)
                n = sum(len(v) for v in event["records"].values())
                with fake.lock:
                    fake.calls.append((time.time(), m.group(1), self.key, n))
                    fake.tenants.add(self.headers.get("X-Tenant"))
                    fake.invocation_types.add(self.headers.get("X-Amz-Invocation-Type"))
                    step = fake.script.pop(0) if fake.script else None
                if step is None:
                    return self.answer(200, b"null", {"X-Amz-Executed-Version": "$LATEST"})
                status, payload, headers = step
                self.answer(status, payload, headers)

            def bootstrap_brokers(self, arn):
                if not fake.verify(self, b"", "kafka"):
                    return self.answer(403, b'{"message":"bad signature"}')
                with fake.lock:
                    fake.discoveries += 1
                    brokers = fake.brokers.get(arn)
                if brokers is None:
                    return self.answer(404, b'{"message":"Cluster not found"}')
                self.answer(200, json.dumps({"BootstrapBrokerStringSaslIam": brokers}).encode())

            def get_secret_value(self, body):
                if not fake.verify(self, body, "secretsmanager"):
                    return self.answer(400, b'{"__type":"InvalidSignatureException","Message":"bad signature"}')
                arn = json.loads(body)["SecretId"]
                with fake.lock:
                    fake.secret_reads += 1
                    text = fake.secrets.get(arn)
                if text is None:
                    return self.answer(400, json.dumps({"__type": "ResourceNotFoundException",
                                                        "Message": "Secrets Manager can't find the specified secret."}).encode())
                self.answer(200, json.dumps({"ARN": arn, "Name": arn.split(":")[-1], "SecretString": text}).encode())

            def answer(self, status, body, headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def verify(self, handler, body, want_service="lambda"):
        """Recomputes the signature with botocore from what was signed."""
        parsed = sigv4_check.parse(handler)
        ok = False
        if parsed:
            key, region, service, signed, sig = parsed
            handler.key = key
            with self.lock:
                secret, token, exp = self.issued.get(key, (None, None, None))
            if secret and exp > datetime.datetime.utcnow() and service == want_service:
                ok = (sigv4_check.expected(handler, body, signed, key, secret, token, region, service) == sig
                      and handler.headers.get("X-Amz-Security-Token") == token)
        if not ok:
            with self.lock:
                self.bad_signatures += 1
        return ok


def aws_env(fake, tmp, extra):
    """kesm's environment: no AWS_* of the caller's, ECS credentials from the
    fake, instance metadata off, HOME in `tmp`, then `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_CONTAINER_CREDENTIALS_FULL_URI": fake.url + "/creds",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ecs-token",
                "AWS_EC2_METADATA_DISABLED": "true", "HOME": tmp})
    env.update(extra)
    return env


def start_kesm(tmp, config, env):
    """`kesm serve` on `config` (a dict): the process, its stderr file, its
    API URL."""
    path = os.path.join(tmp, "kesm.json")
    with open(path, "w") as f:
        json.dump(config, f)
    err = open(os.path.join(tmp, "err"), "w+")
    kesm = subprocess.Popen([KESM, "serve", "--config", path, "--api", "127.0.0.1:0",
                             "--store", "sqlite:" + os.path.join(tmp, "db")],
                            stdout=subprocess.PIPE, stderr=err, text=True, env=env)
    line = kesm.stdout.readline()
    assert "API on http://" in line, line
    return kesm, err, line.split("API on ")[1].split("/2015")[0]


class LambdaTargetTest(unittest.TestCase):
    def stop_all(self, kesm, broker, err, fake):
        """Stops kesm (expecting exit 0), the broker and the fake; kesm's log."""
        kesm.send_signal(signal.SIGTERM)
        self.assertEqual(kesm.wait(timeout=60), 0)
        kesm.stdout.close()
        broker.send_signal(signal.SIGTERM)
        broker.wait(timeout=30)
        broker.stdout.close()
        err.seek(0)
        log = err.read()
        err.close()
        fake.server.shutdown()
        return log

    def test_invoke_api_outcomes_signatures_and_credential_refresh(self):
        tmp = tempfile.mkdtemp(prefix="kesm-lambda-")
        broker = subprocess.Popen([KESM, "dev-broker", "--topic", "orders:1"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        bootstrap = broker.stdout.readline().strip()
        fake = FakeAws()
        # 403 first (kesm's access: waits, spends no attempt), then a throttle
        # with Retry-After, then a function error, then success.
        fake.script = [
            (403, b'{"Type":"User","message":"User is not authorized to perform: lambda:InvokeFunction"}',
             {"X-Amzn-ErrorType": "AccessDeniedException"}),
            (429, b'{"Type":"User","message":"Rate exceeded"}',
             {"X-Amzn-ErrorType": "TooManyRequestsException", "Retry-After": "2"}),
            (200, b'{"errorMessage":"boom","errorType":"Error"}', {"X-Amz-Function-Error": "Unhandled"}),
        ]
        config = ({"kafka": {"session.timeout.ms": 6000},
                       "functions": {"fn": {"lambda": "arn:aws:lambda:eu-west-1:111122223333:function:orders-fn:live"}},
                       "mappings": [{"FunctionName": "fn", "Topics": ["orders"],
                                     "StartingPosition": "TRIM_HORIZON", "BatchSize": 10,
                                     "MaximumBatchingWindowInSeconds": 0,
                                     "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": [bootstrap]}}}]})
        env = aws_env(fake, tmp, {"AWS_ENDPOINT_URL_LAMBDA": fake.url})
        kesm, err, api = start_kesm(tmp, config, env)
        try:
            subprocess.run([KESM, "produce", "--bootstrap", bootstrap, "--topic", "orders",
                            "--count", "40", "--value", "v"], check=True, stdout=subprocess.DEVNULL)

            def mapping():
                import urllib.request
                with urllib.request.urlopen(api + "/2015-03-31/event-source-mappings/") as r:
                    return json.load(r)["EventSourceMappings"][0]

            def log():
                err.flush()
                with open(err.name) as f:
                    return f.read()

            eventually(lambda: "AccessDeniedException" in log(), what="the 403 as PROBLEM")
            self.assertIn("LastProcessingResult: PROBLEM: Lambda Invoke: AccessDeniedException: User is not"
                          " authorized to perform: lambda:InvokeFunction", log())
            delivered = lambda: sum(n for (t, fn, k, n) in fake.calls) - 30  # three scripted calls
            eventually(lambda: len(fake.script) == 0 and delivered() >= 40, what="all 40 records")
            # Keep records flowing across two credential refreshes.
            for _ in range(8):
                subprocess.run([KESM, "produce", "--bootstrap", bootstrap, "--topic", "orders",
                                "--count", "5", "--value", "later"], check=True, stdout=subprocess.DEVNULL)
                time.sleep(1)
            eventually(lambda: delivered() >= 80, what="the later records")
            with fake.lock:
                calls = list(fake.calls)
            self.assertEqual(fake.bad_signatures, 0)
            self.assertEqual(fake.invocation_types, {"RequestResponse"})
            self.assertEqual({fn for (_, fn, _, _) in calls},
                             {"arn%3Aaws%3Alambda%3Aeu-west-1%3A111122223333%3Afunction%3Aorders-fn%3Alive"})
            keys = [k for (_, _, k, _) in calls]
            self.assertGreaterEqual(len(set(keys)), 2, "credentials were never refreshed")
            # The throttle's Retry-After (2 s) was honoured.
            self.assertGreaterEqual(calls[2][0] - calls[1][0], 1.9)
            eventually(lambda: mapping()["LastProcessingResult"] == "OK", what="OK again")
        finally:
            log = self.stop_all(kesm, broker, err, fake)
        for secret in ("secret-1", "secret-2", "token-1", "token-2"):
            self.assertNotIn(secret, log)

    def test_a_signed_function_url_with_headers(self):
        tmp = tempfile.mkdtemp(prefix="kesm-url-")
        broker = subprocess.Popen([KESM, "dev-broker", "--topic", "urls:1"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        bootstrap = broker.stdout.readline().strip()
        fake = FakeAws()
        config = ({"kafka": {"session.timeout.ms": 6000},
                       "functions": {"fn": {"url": fake.url + "/2015-03-31/functions/url-fn/invocations",
                                            "sign": "lambda", "region": "eu-west-1",
                                            "headers": {"X-Tenant": "t1"}}},
                       "mappings": [{"FunctionName": "fn", "Topics": ["urls"],
                                     "StartingPosition": "TRIM_HORIZON",
                                     "MaximumBatchingWindowInSeconds": 0,
                                     "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": [bootstrap]}}}]})
        env = aws_env(fake, tmp, {})
        kesm, err, api = start_kesm(tmp, config, env)
        try:
            subprocess.run([KESM, "produce", "--bootstrap", bootstrap, "--topic", "urls", "--count", "5"],
                           check=True, stdout=subprocess.DEVNULL)
            eventually(lambda: sum(n for (_, _, _, n) in fake.calls) >= 5, what="5 records")
            self.assertEqual(fake.bad_signatures, 0)
            self.assertEqual(fake.tenants, {"t1"})
            self.assertEqual(fake.invocation_types, {None})  # a URL, not Invoke
        finally:
            self.stop_all(kesm, broker, err, fake)

    def test_secrets_manager_holds_the_kafka_password(self):
        tmp = tempfile.mkdtemp(prefix="kesm-sm-")
        broker = subprocess.Popen([KESM, "dev-broker", "--topic", "paid:1", "--tls",
                                   "--sasl", "scram-sha-512:alice:pw-from-sm"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        bootstrap = broker.stdout.readline().strip()
        ca = broker.stdout.readline().strip()
        fake = FakeAws()
        sm_arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:kafka-AbCdEf"
        ca_arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:kafka-ca"
        fake.secrets[sm_arn] = json.dumps({"username": "alice", "password": "pw-from-sm"})
        config = ({"kafka": {"session.timeout.ms": 6000}, "secrets_manager": True,
                       "secrets": {ca_arn: {"certificate": "file:" + ca}},
                       "functions": {"fn": {"lambda": "paid-fn", "region": "eu-west-1"}},
                       "mappings": [{"FunctionName": "fn", "Topics": ["paid"],
                                     "StartingPosition": "TRIM_HORIZON",
                                     "MaximumBatchingWindowInSeconds": 0,
                                     "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": [bootstrap]}},
                                     "SourceAccessConfigurations": [
                                         {"Type": "SASL_SCRAM_512_AUTH", "URI": sm_arn},
                                         {"Type": "SERVER_ROOT_CA_CERTIFICATE", "URI": ca_arn}]}]})
        env = aws_env(fake, tmp, {"AWS_ENDPOINT_URL": fake.url})
        kesm, err, api = start_kesm(tmp, config, env)
        try:
            subprocess.run([KESM, "produce", "--bootstrap", bootstrap, "--topic", "paid", "--count", "20",
                            "-X", "security.protocol=SASL_SSL", "-X", "ssl.ca.location=" + ca,
                            "-X", "sasl.mechanism=SCRAM-SHA-512", "-X", "sasl.username=alice",
                            "-X", "sasl.password=pw-from-sm"], check=True, stdout=subprocess.DEVNULL)
            eventually(lambda: sum(n for (_, _, _, n) in fake.calls) >= 20, what="20 records via SASL")
            self.assertGreaterEqual(fake.secret_reads, 1)
            self.assertEqual(fake.bad_signatures, 0)
        finally:
            log = self.stop_all(kesm, broker, err, fake)
        self.assertNotIn("pw-from-sm", log)

    def test_msk_iam_with_discovered_brokers_through_the_api(self):
        tmp = tempfile.mkdtemp(prefix="kesm-msk-")
        broker = subprocess.Popen([KESM, "dev-broker", "--topic", "iamt:1", "--tls", "--sasl", "oauthbearer"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        bootstrap = broker.stdout.readline().strip()
        ca = broker.stdout.readline().strip()
        plaintext = None
        while plaintext is None:
            line = broker.stderr.readline()
            if "plaintext" in line:
                plaintext = line.rsplit(" ", 1)[1].strip()
        fake = FakeAws()
        arn = "arn:aws:kafka:eu-west-1:111122223333:cluster/orders/6c1f0a2e-1234-4f0e-9a1b-7f1e2d3c4b5a-2"
        fake.brokers[arn] = bootstrap
        config = ({"kafka": {"session.timeout.ms": 6000, "ssl.ca.location": ca},
                       "msk_iam": True, "msk_discovery": True,
                       "functions": {"fn": {"lambda": "iam-fn", "region": "eu-west-1"}}})
        env = aws_env(fake, tmp, {"AWS_ENDPOINT_URL": fake.url})
        kesm, err, api = start_kesm(tmp, config, env)
        try:
            req = urllib.request.Request(api + "/2015-03-31/event-source-mappings/", method="POST",
                                         data=json.dumps({"EventSourceArn": arn, "FunctionName": "fn",
                                                          "Topics": ["iamt"], "StartingPosition": "TRIM_HORIZON",
                                                          "MaximumBatchingWindowInSeconds": 0}).encode(),
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req) as r:
                created = json.load(r)
            self.assertEqual(created["EventSourceArn"], arn)
            subprocess.run([KESM, "produce", "--bootstrap", plaintext, "--topic", "iamt", "--count", "10"],
                           check=True, stdout=subprocess.DEVNULL)
            eventually(lambda: sum(n for (_, _, _, n) in fake.calls) >= 10, what="10 records via MSK IAM")
            self.assertEqual(fake.discoveries, 1)
            self.assertEqual(fake.bad_signatures, 0)
        finally:
            broker.stderr.close()
            log = self.stop_all(kesm, broker, err, fake)
        self.assertIn("bootstrap servers from AWS", log)


if __name__ == "__main__":
    unittest.main()
