"""deploy/ and the Dockerfile hold together: Kubernetes manifests (labels,
selectors, ports, probes, KEDA target, the ConfigMap's config accepted by
`kesm validate`, `kubectl kustomize` where kubectl exists), the Dockerfile
(stages, non-root user, health check, ports, files it copies and runs),
and the EC2 cloud-init (its config validates; its installer, run dry
against a .deb CPack builds, resolves the package with apt).

Usage: deploy_files_test.py path/to/kesm BUILD_DIR
"""
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

KESM = sys.argv.pop(1)
BUILD = sys.argv.pop(1)
ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
K8S = os.path.join(ROOT, "deploy", "k8s")


def validate(test, config_text, name):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write(config_text)
    try:
        out = subprocess.run([KESM, "validate", "--config", f.name], capture_output=True, text=True)
        test.assertEqual(out.returncode, 0, "%s: %s" % (name, out.stderr))
    finally:
        os.unlink(f.name)


def dockerfile():
    """Instructions as (KEYWORD, text), continuation lines joined."""
    with open(os.path.join(ROOT, "Dockerfile")) as f:
        text = re.sub(r"\\\n", " ", f.read())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


class KubernetesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.docs = {}
        for path in sorted(glob.glob(os.path.join(K8S, "*.yaml"))):
            with open(path) as f:
                for doc in yaml.safe_load_all(f):
                    cls.docs[doc["kind"]] = doc

    def test_every_kind_is_there_and_kustomization_lists_the_files(self):
        self.assertEqual(set(self.docs), {"ConfigMap", "Deployment", "Service", "PodMonitor",
                                          "ScaledObject", "Kustomization"})
        listed = self.docs["Kustomization"]["resources"]
        on_disk = {os.path.basename(p) for p in glob.glob(os.path.join(K8S, "*.yaml"))} - {"kustomization.yaml"}
        self.assertEqual(set(listed), on_disk)
        kubectl = shutil.which("kubectl")
        if kubectl:
            out = subprocess.run([kubectl, "kustomize", K8S], capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(len(list(yaml.safe_load_all(out.stdout))), 5)

    def test_selectors_ports_and_probes_line_up(self):
        dep = self.docs["Deployment"]
        pod = dep["spec"]["template"]
        labels = pod["metadata"]["labels"]
        self.assertEqual(dep["spec"]["selector"]["matchLabels"], labels)
        container = pod["spec"]["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        args = container["args"]
        api = args[args.index("--api") + 1]
        self.assertEqual(api, "0.0.0.0:%d" % ports["http"])
        svc = self.docs["Service"]["spec"]
        self.assertTrue(set(svc["selector"].items()) <= set(labels.items()))
        self.assertIn(svc["ports"][0]["targetPort"], ports)
        mon = self.docs["PodMonitor"]["spec"]
        self.assertTrue(set(mon["selector"]["matchLabels"].items()) <= set(labels.items()))
        self.assertEqual(mon["podMetricsEndpoints"][0]["path"], "/metrics")
        self.assertIn(mon["podMetricsEndpoints"][0]["port"], ports)
        self.assertEqual(container["readinessProbe"]["httpGet"]["path"], "/readyz")
        self.assertEqual(container["livenessProbe"]["httpGet"]["path"], "/healthz")
        for probe in ("readinessProbe", "livenessProbe"):
            self.assertIn(container[probe]["httpGet"]["port"], ports)

    def test_runs_non_root_read_only_and_stops_after_the_grace(self):
        pod = self.docs["Deployment"]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        self.assertTrue(pod["securityContext"]["runAsNonRoot"])
        self.assertGreater(pod["securityContext"]["runAsUser"], 0)
        self.assertTrue(container["securityContext"]["readOnlyRootFilesystem"])
        self.assertFalse(container["securityContext"]["allowPrivilegeEscalation"])
        args = container["args"]
        grace = int(args[args.index("--shutdown-grace") + 1])
        self.assertGreater(pod["terminationGracePeriodSeconds"], grace + 15)
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        store = args[args.index("--store") + 1]
        self.assertTrue(store.startswith("sqlite:/var/lib/kesm/"))
        self.assertIn("/var/lib/kesm", mounts)  # writable despite the read-only root
        config = args[args.index("--config") + 1]
        self.assertIn(os.path.dirname(config), mounts)
        volumes = {v["name"]: v for v in pod["volumes"]}
        cm = volumes[mounts[os.path.dirname(config)]]["configMap"]["name"]
        self.assertEqual(cm, self.docs["ConfigMap"]["metadata"]["name"])
        self.assertIn(os.path.basename(config), self.docs["ConfigMap"]["data"])

    def test_the_configmap_is_a_valid_kesm_config(self):
        validate(self, self.docs["ConfigMap"]["data"]["kesm.json"], "configmap.yaml")
        cfg = json.loads(self.docs["ConfigMap"]["data"]["kesm.json"])
        for m in cfg["mappings"]:
            # Replicas share partitions only through one named group.
            self.assertTrue(m["SelfManagedKafkaEventSourceConfig"]["ConsumerGroupId"])

    def test_keda_scales_the_deployment_on_kesm_lag(self):
        so = self.docs["ScaledObject"]["spec"]
        dep = self.docs["Deployment"]
        self.assertEqual(so["scaleTargetRef"]["name"], dep["metadata"]["name"])
        self.assertEqual(so["scaleTargetRef"].get("kind", "Deployment"), "Deployment")
        self.assertGreaterEqual(so["maxReplicaCount"], so["minReplicaCount"])
        trigger = so["triggers"][0]
        self.assertEqual(trigger["type"], "prometheus")
        self.assertIn("kesm_offset_lag", trigger["metadata"]["query"])
        self.assertGreater(float(trigger["metadata"]["threshold"]), 0)


class DockerfileTest(unittest.TestCase):
    def test_multi_stage_bookworm_non_root_with_a_health_check(self):
        ins = dockerfile()
        froms = [rest for word, rest in ins if word == "FROM"]
        self.assertEqual(len(froms), 2)
        for f in froms:
            self.assertRegex(f, r"^debian:bookworm(-slim)?( AS \w+)?$")
        final = ins[max(i for i, (w, _) in enumerate(ins) if w == "FROM"):]
        users = [rest for word, rest in final if word == "USER"]
        self.assertTrue(users and users[-1].split(":")[0] not in ("0", "root"))
        with open(os.path.join(K8S, "deployment.yaml")) as f:
            pod = yaml.safe_load(f)["spec"]["template"]["spec"]
        self.assertEqual(int(users[-1].split(":")[0]), pod["securityContext"]["runAsUser"])
        expose = [rest for word, rest in final if word == "EXPOSE"][0]
        health = [rest for word, rest in final if word == "HEALTHCHECK"][0]
        self.assertIn("http://127.0.0.1:%s/healthz" % expose, health)
        cmd = json.loads([rest for word, rest in final if word == "CMD"][0])
        self.assertEqual(cmd[cmd.index("--api") + 1], "0.0.0.0:" + expose)
        entry = json.loads([rest for word, rest in final if word == "ENTRYPOINT"][0])
        self.assertEqual(entry, ["/usr/bin/kesm", "serve"])

    def test_what_it_copies_and_runs_exists(self):
        ins = dockerfile()
        for word, rest in ins:
            if word == "RUN":
                for script in re.findall(r"scripts/[\w.-]+\.sh", rest):
                    self.assertTrue(os.path.exists(os.path.join(ROOT, script)), script)
                    subprocess.run(["bash", "-n", os.path.join(ROOT, script)], check=True)
            if word == "COPY" and "--from" not in rest:
                for src in shlex.split(rest)[:-1]:
                    self.assertTrue(os.path.exists(os.path.join(ROOT, src)), src)
        self.assertIn(("RUN", "bash scripts/install-deps.sh --build-only && bash scripts/package.sh"),
                      [(w, re.sub(r"\s+", " ", r)) for w, r in ins])
        with open(os.path.join(ROOT, ".dockerignore")) as f:
            self.assertIn("build", f.read().split())


class CloudInitTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        path = os.path.join(ROOT, "deploy", "ec2", "cloud-init.yaml")
        with open(path) as f:
            text = f.read()
        assert text.startswith("#cloud-config\n")
        cls.doc = yaml.safe_load(text)
        cls.files = {f["path"]: f for f in cls.doc["write_files"]}

    def test_it_writes_a_valid_config_and_a_sound_installer(self):
        validate(self, self.files["/etc/kesm/kesm.json"]["content"], "cloud-init kesm.json")
        installer = self.files["/usr/local/sbin/kesm-install"]
        self.assertEqual(installer["permissions"], "0755")
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write(installer["content"])
        try:
            subprocess.run(["sh", "-n", f.name], check=True)
            out = subprocess.run(["sh", f.name], capture_output=True, text=True,
                                 env=dict(os.environ, KESM_DEB="", KESM_SOURCE=""))
            self.assertEqual(out.returncode, 2)
            self.assertIn("set KESM_DEB or KESM_SOURCE", out.stderr)
            if os.getuid() != 0:
                return
            # The .deb path, dry: CPack's package fetched by URL and
            # resolved by apt (simulated), nothing installed or started.
            tmp = tempfile.mkdtemp(prefix="kesm-cloudinit-")
            try:
                subprocess.run(["cpack", "-G", "DEB", "-B", tmp], cwd=BUILD, check=True,
                               stdout=subprocess.DEVNULL)
                deb = glob.glob(os.path.join(tmp, "kesm_*_amd64.deb"))[0]
                out = subprocess.run(["sh", f.name], capture_output=True, text=True,
                                     env=dict(os.environ, KESM_DEB="file://" + deb, KESM_APT_FLAGS="-s",
                                              KESM_NO_START="1"))
                self.assertEqual(out.returncode, 0, out.stderr)
                self.assertIn("Inst kesm ", out.stdout)
                self.assertIn("kesm-install: done", out.stdout)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        finally:
            os.unlink(f.name)
        self.assertIn("/usr/local/sbin/kesm-install", json.dumps(self.doc["runcmd"]))


if __name__ == "__main__":
    unittest.main()
