#!/usr/bin/env python3
"""`kubectl couchestor` (issue 19 part 3): the couchestor binary run under the name kubectl-couchestor, as kubectl
runs a plugin found on PATH, against one test world: status (table, wide, json, yaml, one policy), plan and doctor
with kubectl's -o and -n, --context with a kubeconfig of two contexts, and `move`, which is not available yet and
says so (exit 2). The policy's status is written through the status subresource, so the test needs no operator."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.environ.get("CS_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "integration", "operator"))
import opworld  # noqa: E402

STATUS = {
    "phase": "Active", "message": "2 volumes cannot be moved", "watchedVolumes": 7, "hotVolumes": 2,
    "warmVolumes": 1, "coldVolumes": 4, "activeMigrations": 1, "totalMigrations": 12, "failedMigrations": 3,
    "lastReconcileTime": "2025-01-02T03:04:05Z", "observedGeneration": 1,
    "conditions": [
        {"type": "Ready", "status": "True", "reason": "Reconciled", "message": "ok",
         "lastTransitionTime": "2025-01-02T03:04:05Z"},
        {"type": "Degraded", "status": "False", "reason": "Healthy", "message": "",
         "lastTransitionTime": "2025-01-02T03:04:05Z"},
        {"type": "Steerable", "status": "False", "reason": "VolumesNotSteerable", "message": "2 of 7",
         "lastTransitionTime": "2025-01-02T03:04:05Z"}],
}


class Plugin(unittest.TestCase):
    world = None

    @classmethod
    def setUpClass(cls):
        binary = os.path.abspath(opworld.binary())
        cls.bindir = tempfile.mkdtemp(prefix="cs-plugin-")
        os.symlink(binary, os.path.join(cls.bindir, "kubectl-couchestor"))
        cls.world = opworld.World(opworld.demo_scenario(), tag="plugin")
        try:
            cls.world.apply_policy(opworld.policy(name="demo"))
            cls.world.apply_policy(opworld.policy(name="archive"))
            cls.world.k("PATCH", opworld.SP + "/demo/status", {"status": STATUS})
        except BaseException:
            cls.world.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.world:
            cls.world.stop()
        shutil.rmtree(cls.bindir, ignore_errors=True)

    def run_plugin(self, *args, env=None):
        e = {k: v for k, v in os.environ.items() if k not in ("COUCHESTOR_CONFIG", "LOG_LEVEL")}
        for k in ("KUBECONFIG", "MAYASTOR_URL", "PROMETHEUS_URL", "MAYASTOR_NAMESPACE"):
            e[k] = self.world.env[k]
        e["PATH"] = self.bindir + os.pathsep + e.get("PATH", "")
        e.update(env or {})
        # by name through PATH, as kubectl runs it
        return subprocess.run(["kubectl-couchestor"] + list(args), capture_output=True, text=True, env=e,
                              timeout=120)

    def test_help_and_version(self):
        p = self.run_plugin("--help")
        self.assertEqual(p.returncode, 0, p.stderr)
        for word in ("status", "plan", "doctor", "move", "--context", "-n, --namespace", "-o, --output"):
            self.assertIn(word, p.stdout)
        p = self.run_plugin("--version")
        self.assertRegex(p.stdout, r"^kubectl-couchestor \d+\.\d+\.\d+")

    def test_move_is_not_available(self):
        p = self.run_plugin("move", "pvc-x", "--to", "hot")
        self.assertEqual(p.returncode, 2)
        self.assertIn("not available yet", p.stderr)
        self.assertEqual(p.stdout, "")

    def test_unknown_command_and_operator_is_not_a_plugin_command(self):
        for cmd in ("frobnicate", "operator", "discover"):
            p = self.run_plugin(cmd)
            self.assertEqual(p.returncode, 2, cmd)
            self.assertIn("unknown command", p.stderr)

    def test_status_table(self):
        p = self.run_plugin("status")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertRegex(lines[0], r"^NAME +PHASE +WATCHED +HOT +WARM +COLD +ACTIVE +MOVED +FAILED +PROBLEMS$")
        self.assertEqual([ln.split()[0] for ln in lines[1:]], ["archive", "demo"])   # sorted by name
        self.assertEqual(lines[2].split(), ["demo", "Active", "7", "2", "1", "4", "1", "12", "3",
                                            "Steerable=False(VolumesNotSteerable)"])
        self.assertEqual(lines[1].split()[:3], ["archive", "-", "-"])   # no status yet

    def test_status_wide_and_one_policy(self):
        p = self.run_plugin("status", "demo", "-o", "wide")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("2025-01-02T03:04:05Z", p.stdout)
        self.assertIn("Ready=True(Reconciled),Degraded=False(Healthy),Steerable=False(VolumesNotSteerable)", p.stdout)
        self.assertIn("message: 2 volumes cannot be moved", p.stdout)
        self.assertNotIn("archive", p.stdout)
        p = self.run_plugin("status", "nosuch")
        self.assertEqual(p.returncode, 1)
        self.assertIn("StoragePolicy 'nosuch' not found", p.stderr)

    def test_status_json_and_yaml(self):
        p = self.run_plugin("status", "-ojson")
        self.assertEqual(p.returncode, 0, p.stderr)
        doc = json.loads(p.stdout)
        self.assertEqual(doc["kind"], "List")
        by_name = {i["name"]: i["status"] for i in doc["items"]}
        self.assertEqual(by_name["demo"], STATUS)
        self.assertEqual(by_name["archive"], {})
        p = self.run_plugin("status", "demo", "--output=yaml")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('"kind": "List"', p.stdout)
        self.assertIn('- "name": "demo"', p.stdout)
        self.assertIn('    "watchedVolumes": 7', p.stdout)
        self.assertIn('      - "type": "Ready"', p.stdout)
        p = self.run_plugin("status", "-o", "table")
        self.assertEqual(p.returncode, 2)

    def test_context(self):
        d = tempfile.mkdtemp(prefix="cs-plugin-kc-")
        try:
            kc = os.path.join(d, "kubeconfig")
            user = {"name": "u", "user": {"token": self.world.env["KUBE_TOKEN"]}}
            with open(kc, "w") as f:
                json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "down",
                           "clusters": [{"name": "world", "cluster": {"server": self.world.env["KUBE_URL"]}},
                                        {"name": "down", "cluster": {"server": "http://127.0.0.1:%d" % opworld.closed_port()}}],
                           "users": [user],
                           "contexts": [{"name": "world", "context": {"cluster": "world", "user": "u"}},
                                        {"name": "down", "context": {"cluster": "down", "user": "u"}}]}, f)
            p = self.run_plugin("status", "--kubeconfig", kc, "--context", "world")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("demo", p.stdout)
            p = self.run_plugin("status", "--kubeconfig", kc, "--context=nosuch")
            self.assertEqual(p.returncode, 1)
            self.assertIn("nosuch", p.stderr)
            p = self.run_plugin("status", "--kubeconfig", kc)   # current-context: the closed port
            self.assertEqual(p.returncode, 1)
            # plan reads the cluster the context names too (its current-context is a closed port)
            p = self.run_plugin("plan", "--kubeconfig", kc, "--context", "world", "-o", "json")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn('"policy"', p.stdout)
            p = self.run_plugin("plan", "--kubeconfig", kc)
            self.assertNotEqual(p.returncode, 0)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_plan_and_doctor_with_kubectl_flags(self):
        p = self.run_plugin("plan", "-o", "json", "--policy", "demo")
        self.assertIn(p.returncode, (0, 1), p.stderr)
        if p.returncode == 0:
            self.assertIsInstance(json.loads(p.stdout), dict)
        p = self.run_plugin("doctor", "-o", "json")
        self.assertIn(p.returncode, (0, 1), p.stderr)
        self.assertIn("checks", json.loads(p.stdout))
        p = self.run_plugin("plan", "-o", "yaml")
        self.assertEqual(p.returncode, 2)
        self.assertIn("only -o json", p.stderr)
        # -n is Mayastor's namespace: an invalid one is refused by the configuration, naming the flag
        p = self.run_plugin("doctor", "-n", "Not_A_Namespace")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--mayastor-namespace", p.stderr)
        p = self.run_plugin("doctor", "-n")
        self.assertEqual(p.returncode, 2)
        self.assertIn("-n needs a value", p.stderr)


if __name__ == "__main__":
    unittest.main()
