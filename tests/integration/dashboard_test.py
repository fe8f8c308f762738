"""The dashboard at `/` in headless Chromium, `/kesm/status`, `kesm status`
and `kesm validate`, against a real `kesm serve` with a mapping created by
the AWS CLI while records flow.

Usage: dashboard_test.py path/to/kesm [screenshot.png]
The Chromium part is skipped (with a message) only where Chromium is not
installed or cannot start; KESM_REQUIRE_CHROMIUM=1 makes that a failure.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

from cdp import Browser
from kesm_stack import Stack

KESM = sys.argv.pop(1)
SCREENSHOT = sys.argv.pop(1) if len(sys.argv) > 1 else None
ENV = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
           AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="")


def eventually(pred, timeout=30.0, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        value = pred()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


class DashboardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kesm-dashboard-")
        cls.stack = Stack(KESM, cls.tmp, "clicks", partitions=3, mappings=False)
        cls.stop_producing = threading.Event()

    @classmethod
    def tearDownClass(cls):
        cls.stop_producing.set()
        cls.stack.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def status(self, query=""):
        with urllib.request.urlopen(self.stack.api + "/kesm/status" + query) as r:
            return json.load(r)

    def produce_steadily(self):
        while not self.stop_producing.is_set():
            try:
                self.stack.produce(300)
            except subprocess.CalledProcessError:
                if not self.stop_producing.is_set():
                    raise
                return  # the broker stopped under the last produce
            time.sleep(0.3)

    def test_validate_accepts_a_good_config_and_names_what_is_wrong(self):
        ok = subprocess.run([KESM, "validate", "--config", self.stack.config], capture_output=True, text=True)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertIn("OK (1 function(s), 0 mapping(s)", ok.stdout)
        bad = os.path.join(self.tmp, "bad.json")
        with open(bad, "w") as f:
            json.dump({"functions": {"fn": {"url": self.stack.fn_url}},
                       "mappings": [dict(self.stack.mapping(), FunctionName="nope")]}, f)
        out = subprocess.run([KESM, "validate", "--config", bad], capture_output=True, text=True)
        self.assertEqual(out.returncode, 2)
        self.assertEqual(out.stdout, "")
        lines = out.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, out.stderr)
        self.assertRegex(lines[0], r"^kesm validate: .*bad\.json: .*nope.*declare it under \"functions\"")
        # The same words as `kesm serve` says for the same file.
        serve = subprocess.run([KESM, "serve", "--config", bad, "--api", "127.0.0.1:0",
                                "--store", "sqlite:" + os.path.join(self.tmp, "x.db")],
                               capture_output=True, text=True, timeout=30)
        self.assertEqual(serve.returncode, 2)
        self.assertEqual(serve.stderr.split(": ", 1)[1], out.stderr.split(": ", 1)[1])
        missing = subprocess.run([KESM, "validate", "--config", os.path.join(self.tmp, "none.json")],
                                 capture_output=True, text=True)
        self.assertEqual(missing.returncode, 2)
        self.assertIn("cannot read", missing.stderr)
        with open(bad, "w") as f:
            f.write("{\"functions\": ")
        broken = subprocess.run([KESM, "validate", "--config", bad], capture_output=True, text=True)
        self.assertEqual(broken.returncode, 2)
        self.assertEqual(len(broken.stderr.strip().splitlines()), 1, broken.stderr)

    def test_status_unreachable_and_bad_address(self):
        out = subprocess.run([KESM, "status", "--api", "127.0.0.1:1"], capture_output=True, text=True)
        self.assertEqual(out.returncode, 1)
        self.assertIn("no answer from 127.0.0.1:1", out.stderr)
        out = subprocess.run([KESM, "status", "--api", "nowhere"], capture_output=True, text=True)
        self.assertEqual(out.returncode, 2)
        self.assertIn("use HOST:PORT", out.stderr)

    def test_a_token_guards_the_status_but_not_the_page(self):
        tmp = tempfile.mkdtemp(prefix="kesm-dashboard-token-")
        stack = Stack(KESM, tmp, "guarded", extra_args=("--api-token", "s3cret-token"))
        try:
            api = stack.api.replace("http://", "")
            with urllib.request.urlopen(stack.api + "/") as r:
                self.assertEqual(r.status, 200)  # static page, no data
            with self.assertRaises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(stack.api + "/kesm/status")
            self.assertIn(e.exception.code, (401, 403))
            out = subprocess.run([KESM, "status", "--api", api], capture_output=True, text=True,
                                 env={k: v for k, v in os.environ.items() if k != "KESM_API_TOKEN"})
            self.assertEqual(out.returncode, 1)
            self.assertRegex(out.stderr, r"refused the request \(HTTP 40[13]\); pass its token")
            self.assertNotIn("s3cret", out.stderr)
            out = subprocess.run([KESM, "status", "--api", api, "--token", "s3cret-token"],
                                 capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertRegex(out.stdout, r"\bfn +guarded ")
            out = subprocess.run([KESM, "status", "--api", api], capture_output=True, text=True,
                                 env=dict(os.environ, KESM_API_TOKEN="s3cret-token"))
            self.assertEqual(out.returncode, 0, out.stderr)
        finally:
            stack.stop()
            shutil.rmtree(tmp, ignore_errors=True)

    def test_b_status_signs_for_a_sigv4_guarded_kesm(self):
        tmp = tempfile.mkdtemp(prefix="kesm-dashboard-sigv4-")
        stack = Stack(KESM, tmp, "signed", extra_args=("--api-auth", "sigv4"),
                      extra_config={"api_access_keys": {"AKIDSTATUSTEST": "status-s3cret"}})
        try:
            api = stack.api.replace("http://", "")
            env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
            env.update(AWS_EC2_METADATA_DISABLED="true", HOME=tmp)
            out = subprocess.run([KESM, "status", "--api", api], capture_output=True, text=True, env=env)
            self.assertEqual(out.returncode, 1)
            self.assertIn("sign with --sigv4", out.stderr)
            env.update(AWS_ACCESS_KEY_ID="AKIDSTATUSTEST", AWS_SECRET_ACCESS_KEY="status-s3cret")
            out = subprocess.run([KESM, "status", "--api", api, "--sigv4"], capture_output=True, text=True,
                                 env=env)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertRegex(out.stdout, r"\bfn +signed ")
            env["AWS_SECRET_ACCESS_KEY"] = "wrong"
            out = subprocess.run([KESM, "status", "--api", api, "--sigv4"], capture_output=True, text=True,
                                 env=env)
            self.assertEqual(out.returncode, 1)
            self.assertNotIn("wrong", out.stderr)
        finally:
            stack.stop()
            shutil.rmtree(tmp, ignore_errors=True)

    def test_z_dashboard_and_status_follow_a_mapping_created_with_the_aws_cli(self):
        created = subprocess.run(
            ["aws", "lambda", "create-event-source-mapping", "--endpoint-url", self.stack.api,
             "--output", "json", "--function-name", "fn", "--topics", "clicks",
             "--starting-position", "TRIM_HORIZON", "--batch-size", "50",
             "--self-managed-event-source",
             json.dumps({"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": [self.stack.bootstrap]}})],
            env=ENV, capture_output=True, text=True)
        self.assertEqual(created.returncode, 0, created.stderr)
        uuid = json.loads(created.stdout)["UUID"]
        threading.Thread(target=self.produce_steadily, daemon=True).start()

        def invoked():
            m = [m for m in self.status()["mappings"] if m["UUID"] == uuid]
            return m and m[0]["Totals"]["Invoked"] > 0 and m[0]
        m = eventually(invoked, 60, "records invoked")
        self.assertEqual(m["FunctionName"], "fn")
        self.assertEqual(m["Topic"], "clicks")
        self.assertEqual(m["Source"], "api")
        self.assertEqual(m["BatchSize"], 50)
        self.assertGreaterEqual(m["Pollers"], 1)
        self.assertEqual(sorted(p["Partition"] for p in m["Partitions"]), [0, 1, 2])
        # Rates and the history come from samples a second apart.
        m = eventually(lambda: [x for x in self.status()["mappings"]
                                if x["UUID"] == uuid and x["Rates"]["InvokedPerSecond"] > 0
                                and len(x["History"]["t"]) >= 2], 30, "a rate")[0]
        h = m["History"]
        self.assertEqual({k: len(v) for k, v in h.items()}, {k: len(h["t"]) for k in h})
        self.assertGreater(m["Rates"]["InvocationMs"], 0)
        self.assertNotIn("History", self.status("?history=0")["mappings"][0])

        table = subprocess.run([KESM, "status", "--api", self.stack.api.replace("http://", "")],
                               capture_output=True, text=True)
        self.assertEqual(table.returncode, 0, table.stderr)
        header, row = table.stdout.splitlines()[:2]
        self.assertRegex(header, r"^UUID +FUNCTION +TOPIC +STATE +POLLERS +LAG +POLLED/S +INVOKED/S")
        self.assertTrue(row.startswith(uuid), row)
        self.assertRegex(row, r"\bfn +clicks +Enabled +\d+ +\d+ ")
        raw = subprocess.run([KESM, "status", "--json", "--api", self.stack.api.replace("http://", "")],
                             capture_output=True, text=True)
        self.assertEqual(json.loads(raw.stdout)["mappings"][0]["UUID"], uuid)

        with urllib.request.urlopen(self.stack.api + "/") as r:
            self.assertTrue(r.headers["Content-Type"].startswith("text/html"))
            page = r.read().decode()
        # Nothing fetched from elsewhere: no external script, style or font.
        self.assertIsNone(re.search(r"(src|href)=\"(https?:)?//", page))

        browser = Browser.start(self.stack.api + "/")
        if browser is None:
            if os.environ.get("KESM_REQUIRE_CHROMIUM") == "1":
                self.fail("Chromium did not start (KESM_REQUIRE_CHROMIUM=1)")
            self.skipTest("Chromium is not installed or cannot start here"
                          " (apt-get install chromium); the page was checked without it")
        with browser:
            page = browser.page
            eventually(lambda: uuid in (page.evaluate("document.body ? document.body.innerText : ''") or ""), 30,
                       "the mapping on the page")

            def shown_invoked():
                text = page.evaluate(
                    "document.querySelector('.card .muted') && document.querySelector('.card .muted').textContent")
                m = re.search(r"invoked ([\d.]+)( [kM])?", text or "")
                if not m:
                    return None
                scale = {" k": 1e3, " M": 1e6}.get(m.group(2), 1)
                return float(m.group(1)) * scale
            first = eventually(shown_invoked, 10, "an invoked total on the page")
            eventually(lambda: (shown_invoked() or 0) > first, 30, "the invoked total to move")
            state = page.evaluate(
                "document.querySelector('tr[data-uuid=\"%s\"] td.state-Enabled').textContent" % uuid)
            self.assertEqual(state, "Enabled")
            points = eventually(lambda: page.evaluate(
                "Math.min(...[...document.querySelectorAll('.card polyline')]"
                ".map(p => p.getAttribute('points').split(' ').length))"), 20, "a chart")
            self.assertGreaterEqual(points, 2)
            self.assertEqual(page.evaluate("document.querySelectorAll('.bars .bar').length"), 3)
            page.pump(1.5)
            if SCREENSHOT:
                browser.screenshot(SCREENSHOT)
                self.assertGreater(os.path.getsize(SCREENSHOT), 10000)
            self.assertEqual(page.console_errors(), [])


if __name__ == "__main__":
    unittest.main()
