#!/usr/bin/env python3
"""`couchestor doctor` against the test world (issue 14 part 11): the healthy world (exit 0, every check ok) and
a broken variant of each check (API unreachable, a denied verb, a CRD missing, Mayastor down, Mayastor 2.7.0, a pool
without tier labels, Prometheus down, metrics missing, series younger than the window), plus usage errors (exit 2).

One world serves every test: each breaks one thing, runs doctor and puts the thing back (in a finally), so the tests
run in the order of their names (unittest sorts them) and the healthy world comes last, once the IOPS series have
aged past the sampling window's coverage. Every wait polls with a deadline."""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.environ.get("CS_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(REPO, "tests", "integration", "operator"))
import opworld  # noqa: E402
from testworld.manifests import load_manifests  # noqa: E402

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
ECP_CRD = "erasurecodingpolicies.storage.billyronks.io"
DISKPOOLS = "/apis/openebs.io/v1beta2/namespaces/mayastor/diskpools"


class Doctor(unittest.TestCase):
    world = None

    @classmethod
    def setUpClass(cls):
        opworld.binary()
        cls.world = opworld.World(opworld.demo_scenario(), tag="doctor")
        try:
            # a 20 s window: the series cover its 80 % (the default coverage) 16 s after the first scrape
            code, out = cls.world.kube.post(opworld.SP, opworld.policy(samplingWindow="20s"))
            assert code == 201, (code, out)
        except BaseException:
            cls.world.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.world:
            cls.world.stop()

    def doctor(self, *args, env=None, json_out=True):
        e = {k: v for k, v in os.environ.items() if k not in ("COUCHESTOR_CONFIG", "LOG_LEVEL")}
        for k in ("KUBECONFIG", "MAYASTOR_URL", "PROMETHEUS_URL", "MAYASTOR_NAMESPACE"):
            e[k] = self.world.env[k]
        e.update(env or {})
        argv = [opworld.binary(), "doctor"] + (["--json"] if json_out else []) + list(args)
        r = subprocess.run(argv, capture_output=True, text=True, env=e, timeout=60)
        if not json_out:
            return r.returncode, r.stdout, r.stderr
        try:
            doc = json.loads(r.stdout)
        except ValueError:
            self.fail("doctor --json printed no JSON (exit %d): %s %s" % (r.returncode, r.stdout, r.stderr))
        self.assertEqual(doc["ok"], r.returncode == 0, doc)
        checks = {c["id"]: c for c in doc["checks"]}
        for c in doc["checks"]:
            self.assertIn(c["status"], ("ok", "warn", "fail", "skip"))
            if c["status"] in ("warn", "fail"):
                self.assertTrue(c["fix"], "a %s check without its fix: %s" % (c["status"], c))
        return r.returncode, checks

    def expect(self, checks, id_, status, *words):
        c = checks[id_]
        self.assertEqual(c["status"], status, c)
        for w in words:
            self.assertIn(w, c["detail"] + " " + (c["fix"] or ""), c)

    # -------------------------------------------------------------- first: the series are young
    def test_a_series_younger_than_the_window(self):
        # the world is seconds old: the series exist but cover little of the 20 s samplingWindow
        def series():
            rc, checks = self.doctor()
            return checks if checks["metrics"]["status"] != "fail" else None
        checks = opworld.poll(series, 20, "IOPS series in Prometheus")
        self.expect(checks, "coverage", "warn", "younger")

    # -------------------------------------------------------------- broken variants
    def test_b_api_unreachable(self):
        d = tempfile.mkdtemp(prefix="cs-doctor-")
        kc = os.path.join(d, "kubeconfig")
        with open(self.world.env["KUBECONFIG"]) as f:
            cfg = json.load(f)
        for c in cfg["clusters"]:
            c["cluster"]["server"] = "http://127.0.0.1:%d" % opworld.closed_port()
        with open(kc, "w") as f:
            json.dump(cfg, f)
        rc, checks = self.doctor(env={"KUBECONFIG": kc})
        self.assertEqual(rc, 1)
        self.expect(checks, "api", "fail", "kubeconfig")
        for skipped in ("rbac", "crds", "pool-tiers", "steering"):
            self.assertEqual(checks[skipped]["status"], "skip", checks[skipped])
        # Mayastor and Prometheus are still checked through their own URLs
        self.expect(checks, "mayastor", "ok")
        self.expect(checks, "prometheus", "ok")

    def test_c_denied_verb(self):
        w = self.world
        w.kctl.post("/access", {"verb": "patch", "group": "", "resource": "persistentvolumes"})
        try:
            rc, checks = self.doctor()
        finally:
            w.kctl.delete("/access")
        self.assertEqual(rc, 1)
        self.expect(checks, "rbac", "fail", "patch persistentvolumes", "deploy/operator/rbac.yaml",
                    'resources: ["persistentvolumes"], verbs: ["patch"]')
        # a denied Event write only warns: the operator works without
        w.kctl.post("/access", {"verb": "create", "group": "events.k8s.io", "resource": "events"})
        try:
            rc, checks = self.doctor()
        finally:
            w.kctl.delete("/access")
        self.expect(checks, "rbac", "warn", "create events.events.k8s.io in default")

    def test_d_crd_missing(self):
        w = self.world
        code, _ = w.kube.delete(CRDS + "/" + ECP_CRD)
        self.assertEqual(code, 200)
        try:
            rc, checks = self.doctor()
        finally:
            crd = load_manifests(os.path.join(REPO, "deploy", "crds", ECP_CRD + ".yaml"))[0]
            code, out = w.kube.post(CRDS, crd)
            self.assertEqual(code, 201, out)
        self.assertEqual(rc, 1)
        self.expect(checks, "crds", "fail", "erasurecodingpolicies.storage.billyronks.io", "deploy/crds")

    def test_e_mayastor_down(self):
        rc, checks = self.doctor(env={"MAYASTOR_URL": "http://127.0.0.1:%d" % opworld.closed_port()})
        self.assertEqual(rc, 1)
        self.expect(checks, "mayastor", "fail", "unreachable", "mayastor_url")
        self.assertEqual(checks["mayastor-labels"]["status"], "skip")
        self.assertEqual(checks["steering"]["status"], "skip")

    def test_f_mayastor_270(self):
        w = self.world
        w.control("POST", "/config", {"poolLabelRoutes": False})
        try:
            rc, checks = self.doctor()
        finally:
            w.control("POST", "/config", {"poolLabelRoutes": True})
        self.assertEqual(rc, 1)
        self.expect(checks, "mayastor", "ok")
        self.expect(checks, "mayastor-labels", "fail", "2.7.0 or older", "upgrade Mayastor to 2.7.1")

    def test_g_pool_without_tier_labels(self):
        w = self.world
        pool = "pool-hot-3"
        code, _ = w.sim.delete("/v0/pools/%s/label/storage-tier" % pool)
        self.assertEqual(code, 200)
        try:
            code, out = w.kube.patch(DISKPOOLS + "/" + pool, {"metadata": {"labels": {"storage-tier": None}},
                                                               "spec": {"topology": {"labelled": {"storage-tier": None}}}})
            self.assertEqual(code, 200, out)
            rc, checks = self.doctor()
        finally:
            w.sim.put("/v0/pools/%s/label/storage-tier=hot" % pool)
            w.kube.patch(DISKPOOLS + "/" + pool, {"metadata": {"labels": {"storage-tier": "hot"}},
                                                   "spec": {"topology": {"labelled": {"storage-tier": "hot"}}}})
        # the other hot pools still hold the tier: a warning naming the pool, nothing blocks
        self.expect(checks, "pool-tiers", "warn", "1 of 9 pools", pool, "storage-tier=")

    def test_h_prometheus_down(self):
        rc, checks = self.doctor(env={"PROMETHEUS_URL": "http://127.0.0.1:%d" % opworld.closed_port()})
        self.assertEqual(rc, 1)
        self.expect(checks, "prometheus", "fail", "unreachable", "--prometheus-url")
        self.assertEqual(checks["metrics"]["status"], "skip")
        self.expect(checks, "steering", "ok")

    def test_i_metrics_missing(self):
        rc, checks = self.doctor("--prometheus-iops-metrics", "nosuch_read_ops+nosuch_write_ops")
        self.assertEqual(rc, 1)
        self.expect(checks, "prometheus", "ok")
        self.expect(checks, "metrics", "fail", "0 of 11", "prometheus_iops_metrics")

    def test_j_usage_errors(self):
        rc, out, err = self.doctor("--frobnicate", json_out=False)
        self.assertEqual(rc, 2)
        self.assertIn("unknown argument '--frobnicate'", err)
        rc, out, err = self.doctor("--max-concurrent-migrations", "x", json_out=False)
        self.assertEqual(rc, 2)

    # -------------------------------------------------------------- last: healthy
    def test_z_healthy_world(self):
        def healthy():
            rc, checks = self.doctor()
            return (rc, checks) if all(c["status"] == "ok" for c in checks.values()) else None
        rc, checks = opworld.poll(healthy, 60, "every check ok (series covering the window)", interval=0.5)
        self.assertEqual(rc, 0)
        self.expect(checks, "steering", "ok", "11 watched volumes", "11 steerable")
        self.expect(checks, "metrics", "ok", "11 of 11")
        rc, out, err = self.doctor(json_out=False)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("[ OK ] Kubernetes API server reachable", out)
        self.assertIn("nothing blocks the operator", out)


if __name__ == "__main__":
    unittest.main()
