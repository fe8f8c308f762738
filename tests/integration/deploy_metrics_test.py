"""Every metric the Grafana dashboard and the Prometheus alert rules in
deploy/ name exists in a running kesm's /metrics (and, where promtool is
installed, the rules load).

Usage: deploy_metrics_test.py path/to/kesm
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

from kesm_stack import Stack

KESM = sys.argv.pop(1)
DEPLOY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy")


def names_in(path):
    with open(path) as f:
        return set(re.findall(r"\bkesm_[a-z_]+", f.read()))


class DeployMetricsTest(unittest.TestCase):
    def test_dashboard_and_alerts_name_only_real_metrics(self):
        tmp = tempfile.mkdtemp(prefix="kesm-deploy-")
        stack = Stack(KESM, tmp, "m")
        try:
            api = stack.api
            stack.produce(10)

            def metrics():
                with urllib.request.urlopen(api + "/metrics") as r:
                    return r.read().decode()

            def committed():
                m = re.search(r"^kesm_committed_event_count_total\{[^}]*\} (\S+)$", metrics(), re.M)
                return float(m.group(1)) if m else 0

            # The capacity gauge comes with the first scaling look, about
            # a second after the assignment.
            end = time.time() + 40
            while time.time() < end and (committed() < 10 or "\nkesm_event_poller_unit{" not in metrics()):
                time.sleep(0.1)
            self.assertEqual(committed(), 10)
            text = metrics()
        finally:
            stack.stop()
            shutil.rmtree(tmp, ignore_errors=True)
        types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
        self.assertIn("kesm_committed_event_count_total", types)

        def exists(name):
            if name in types:
                return True
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            return types.get(base) == "histogram"

        for path in (os.path.join(DEPLOY, "grafana", "kesm-dashboard.json"),
                     os.path.join(DEPLOY, "prometheus", "kesm-alerts.yml"),
                     os.path.join(DEPLOY, "k8s", "scaledobject.yaml")):
            named = names_in(path)
            self.assertGreater(len(named), 0 if "k8s" in path else 5, path)
            missing = sorted(n for n in named if not exists(n))
            self.assertEqual(missing, [], "%s names metrics kesm does not serve" % path)
        with open(os.path.join(DEPLOY, "grafana", "kesm-dashboard.json")) as f:
            self.assertEqual(json.load(f)["uid"], "kesm")
        promtool = shutil.which("promtool")
        if promtool:
            subprocess.run([promtool, "check", "rules", os.path.join(DEPLOY, "prometheus", "kesm-alerts.yml")],
                           check=True, stdout=subprocess.DEVNULL)


if __name__ == "__main__":
    unittest.main()
