"""operator.defects: each known defect of the original operator (issue 9, "Defects of the original not to
repeat") is a test here. Prometheus failure -> nothing moves is in operator.prometheus; metrics that move
are checked in operator.demo (and here for the slow migration)."""
import json
import time
import unittest

import opworld as ow
from opworld import vol

FAST = "5s"
CRD = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/storagepolicies.storage.billyronks.io"


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class Defects(ow.OperatorTest):
    def test_watermark_field_names(self):
        """highWatermarkIOPS is read (the original read highWatermarkIops); a misspelt field is an Error."""
        w = self.world(ow.small_scenario([vol("busy", "pool-cold-1", 4000), vol("mid", "pool-cold-2", 2000),
                                          vol("other", "pool-cold-3", 4000, app="typo")], tiers=("hot", "cold")))
        w.apply_policy(ow.policy(three_tier=False, samplingWindow=FAST, highWatermarkIOPS=3000))
        # an API server that keeps unknown fields (no structural pruning, e.g. an older CRD): the typo arrives
        crd = w.k("GET", CRD)
        spec_schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
        spec_schema["x-kubernetes-preserve-unknown-fields"] = True
        w.k("PUT", CRD, crd)
        typo = ow.policy("typo", three_tier=False, samplingWindow=FAST, volumeSelector={"matchLabels": {"app": "typo"}},
                         highWatermarkIOPS=None)
        typo["spec"]["highWatermarkIops"] = 3000
        created = w.apply_policy(typo)
        self.assertEqual(created["spec"].get("highWatermarkIops"), 3000)
        w.wait_prom(FAST)
        w.track()
        op = w.operator()
        # 4000 >= 3000: hot (with the default 5000 it would stay in the band); 2000 stays
        self.wait_tiers(w, {"busy": "hot", "mid": "cold", "other": "cold"}, 60, ops=[op])
        st = ow.poll(lambda: (lambda s: s if s.get("phase") == "Error" else None)(w.sp_status("typo")), 30,
                     "phase Error of the misspelt policy")
        self.assertIn("highWatermarkIops", st["message"])
        self.assertIn("highWatermarkIOPS", st["message"])         # "did you mean"
        conds = {c["type"]: c for c in st["conditions"]}
        self.assertEqual(conds["SpecValid"]["status"], "False")
        self.assertEqual(conds["Ready"]["status"], "False")
        w.wait_reconcile("demo", ops=[op])
        tr = w.tracked()["byName"]
        self.assertEqual((tr["other"]["changes"], tr["mid"]["changes"]), (0, 0))

    def test_cooldown_annotation_honoured_and_in_place_not_moved(self):
        w = self.world(ow.small_scenario([vol("recent", "pool-cold-1", 8000), vol("stale", "pool-cold-2", 8000),
                                          vol("inplace", "pool-hot-3", 9000), vol("coldok", "pool-cold-3", 10)],
                                         tiers=("hot", "cold")))
        now = time.time()
        # stamps as a previous operator (or replica) wrote them
        w.k("PATCH", ow.PVS + "/" + w.pv_name("recent"), {"metadata": {"annotations": {ow.ANN_LAST: iso(now - 60)}}})
        w.k("PATCH", ow.PVS + "/" + w.pv_name("stale"), {"metadata": {"annotations": {ow.ANN_LAST: iso(now - 7200)}}})
        w.apply_policy(ow.policy(three_tier=False, samplingWindow=FAST, cooldownPeriod="1h"))
        w.wait_prom(FAST)
        w.track()
        op = w.operator()
        self.wait_tiers(w, {"stale": "hot"}, 60, ops=[op])
        self.assertGreater(ow.rfc3339(w.annotations("stale")[ow.ANN_LAST]), now - 30)   # written anew
        w.wait_reconcile(ops=[op])
        w.wait_reconcile(ops=[op])
        tr = w.tracked()["byName"]
        for n in ("recent", "inplace", "coldok"):
            self.assertEqual(tr[n]["changes"], 0, n)
            self.assertEqual([e["reason"] for e in w.events(volume=n) if e["reason"].startswith("Migration")], [], n)
        self.assertEqual(w.tiers_of("recent"), ["cold"])
        self.assertEqual(w.annotations("recent")[ow.ANN_LAST], iso(now - 60))
        st = w.sp_status()
        self.assertEqual((st["hotVolumes"], st["coldVolumes"], st["totalMigrations"]), (2, 2, 1))

    def test_migration_runs_outside_the_reconcile_and_old_replica_removed(self):
        w = self.world(ow.small_scenario([vol("slow", "pool-cold-1", 8000, size="4Gi")], tiers=("hot", "cold")))
        w.apply_policy(ow.policy(three_tier=False, samplingWindow=FAST))
        w.wait_prom(FAST)
        u = w.uuid_of["slow"]
        old = list(w.volume("slow")["state"]["replica_topology"])
        w.control("POST", "/rebuild-faults", {"mode": "stall", "volume": u, "at": 30, "count": 1})
        op = w.operator()
        ow.poll(lambda: w.events("MigrationReplicaAdded", "slow"), 30, "the new replica", fail=op.assert_alive)
        r0 = op.metrics().get("couchestor_reconcile_total", kind="storagepolicy", result="success")
        t1 = ow.rfc3339(w.wait_reconcile(ops=[op])["lastReconcileTime"])
        st = w.wait_reconcile(ops=[op])
        self.assertGreater(ow.rfc3339(st["lastReconcileTime"]), t1)
        self.assertEqual(st["activeMigrations"], 1)
        self.assertIsNotNone(w.annotations("slow").get(ow.ANN_JOURNAL))      # still migrating
        m = op.metrics()
        self.assertGreater(m.get("couchestor_reconcile_total", kind="storagepolicy", result="success"), r0)
        self.assertEqual(m.get("couchestor_active_migrations"), 1)
        w.control("DELETE", "/rebuild-faults")
        self.wait_tiers(w, {"slow": "hot"}, 60, ops=[op])
        topo = w.volume("slow")["state"]["replica_topology"]
        self.assertEqual(len(topo), 1)
        self.assertNotIn(old[0], topo)                                       # the old replica is the one removed
        ow.poll(lambda: op.metrics().get("couchestor_active_migrations") == 0, 20, "active migrations 0")
        self.assertEqual(op.metrics().get("couchestor_migrations_total", status="success"), 1)

    def test_diskpools_read_in_their_namespace(self):
        w = self.world(ow.small_scenario([vol("busy", "pool-cold-1", 8000), vol("idle", "pool-hot-1", 10)],
                                         tiers=("hot", "cold")))
        w.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
        dp = "/apis/openebs.io/v1beta2/namespaces/other/diskpools"
        # same name as a real cold pool but labelled hot, and a hot pool Mayastor does not have
        for name, node in (("pool-cold-1", "node-1"), ("pool-hot-9", "node-2")):
            w.create(dp, {"apiVersion": "openebs.io/v1beta2", "kind": "DiskPool",
                          "metadata": {"name": name, "namespace": "other",
                                       "labels": {"storage-tier": "hot", "media-type": "nvme"}},
                          "spec": {"node": node, "disks": ["/dev/nvme9n1"],
                                   "topology": {"labelled": {"storage-tier": "hot"}}}})
        w.apply_policy(ow.policy(three_tier=False, samplingWindow=FAST))
        w.wait_prom(FAST)
        op = w.operator()
        st = w.wait_reconcile(ops=[op])
        self.wait_tiers(w, {"busy": "hot", "idle": "cold"}, 60, ops=[op])
        for n in ("busy", "idle"):
            self.assertNotIn("pool-hot-9", w.replica_pools(n))
        st = ow.poll(lambda: (lambda s: s if s.get("totalMigrations") == 2 else None)(w.sp_status()), 30,
                     "2 migrations in the status")
        self.assertEqual([h["outcome"] for h in ow.history(st)], ["Succeeded"] * 2)
        self.assertEqual((st["hotVolumes"], st["coldVolumes"]), (1, 1))
        self.assertEqual([e for e in w.events() if "pool-hot-9" in (e.get("note") or "")], [])

    def test_readyz(self):
        w = self.world(ow.small_scenario([vol("idle", "pool-cold-1", 10)], tiers=("hot", "cold")), "--no-prometheus")
        w.apply_policy(ow.policy(three_tier=False, samplingWindow=FAST))
        # 1. API server unreachable at start: alive, never ready
        dead = ow.os.path.join(w.dir, "dead-kubeconfig")
        kc = json.load(open(w.env["KUBECONFIG"]))
        kc["clusters"][0]["cluster"]["server"] = "http://127.0.0.1:9"
        json.dump(kc, open(dead, "w"))
        op = w.operator(env={"KUBECONFIG": dead, "PROMETHEUS_URL": "http://127.0.0.1:9"}, tag="dead")
        ow.poll(lambda: op.healthz()[0] == 200, 10, "/healthz")
        ow.hold(lambda: op.readyz()[0] == 503 and op.alive(), 4, "/readyz 503 without an API server")
        self.assertEqual(op.term(), 0)
        # 2. before the caches sync: 503; after: 200
        w.k("POST", "/_control/faults", {"type": "delay", "seconds": 4, "method": "GET", "path": "persistentvolumes",
                                         "count": 1})
        op = w.operator(env={"PROMETHEUS_URL": "http://127.0.0.1:9"}, tag="slowlist")
        code, body = op.readyz()
        self.assertEqual(code, 503, body)
        self.assertEqual(op.healthz()[0], 200)
        ow.poll(lambda: op.readyz()[0] == 200, 20, "/readyz 200 once the caches synced", fail=op.assert_alive)
        # 3. the API server becomes unreachable: no longer ready
        w.k("POST", "/_control/faults", {"type": "error", "code": 503, "count": -1, "path": "^/(api|apis)/"})
        w.k("POST", "/_control/drop-watches", {"mode": "close"})
        ow.poll(lambda: op.readyz()[0] == 503, 30, "/readyz 503 while the API server fails every request",
                fail=op.assert_alive)
        w.k("DELETE", "/_control/faults")
        ow.poll(lambda: op.readyz()[0] == 200, 30, "/readyz 200 again", fail=op.assert_alive)

    def test_erasure_coding_policy_is_only_reported(self):
        w = self.world(ow.small_scenario([vol("big-cold", "pool-cold-1", 10, size="20Gi"),
                                          vol("hot-one", "pool-hot-2", 9000)], tiers=("hot", "cold")))
        w.create(ow.ECP, {"apiVersion": "storage.billyronks.io/v1", "kind": "ErasureCodingPolicy",
                          "metadata": {"name": "good"}, "spec": {"dataShards": 4, "parityShards": 2}})
        code, out = w.kube.post(ow.ECP, {"apiVersion": "storage.billyronks.io/v1", "kind": "ErasureCodingPolicy",
                                         "metadata": {"name": "bad"}, "spec": {"dataShards": 200, "parityShards": 100}})
        self.assertIn(code, (201, 422), out)
        bad_stored = code == 201
        w.apply_policy(ow.policy(three_tier=False, samplingWindow=FAST, ecPolicyRef="good", ecMinVolumeSizeBytes=1))
        w.apply_policy(ow.policy("refs-missing", three_tier=False, samplingWindow=FAST, ecPolicyRef="nope",
                                 volumeSelector={"matchLabels": {"app": "nothing"}}))
        w.wait_prom(FAST)
        w.track()
        op = w.operator()
        good = ow.poll(lambda: (w.k("GET", ow.ECP + "/good").get("status") or {}).get("phase"), 30,
                       "status of ErasureCodingPolicy good")
        gst = w.k("GET", ow.ECP + "/good")["status"]
        self.assertEqual(good, "Ready")
        self.assertAlmostEqual(gst["storageEfficiency"], 4 / 6, places=3)
        self.assertEqual(gst["observedGeneration"], w.k("GET", ow.ECP + "/good")["metadata"]["generation"])
        if bad_stored:
            bst = ow.poll(lambda: w.k("GET", ow.ECP + "/bad").get("status"), 30, "status of ErasureCodingPolicy bad")
            self.assertEqual(bst["phase"], "Invalid")
            self.assertIn("255", bst["message"])
            self.assertEqual(bst.get("storageEfficiency", 0), 0)
        st = w.wait_reconcile(ops=[op])
        st = w.wait_reconcile(ops=[op])
        self.assertEqual(st["phase"], "Active")
        self.assertEqual((st["ecPolicy"]["name"], st["ecPolicy"]["resolved"]), ("good", True))
        ec = w.condition("demo", "ECPolicyResolved")
        self.assertEqual(ec["status"], "True")
        miss = ow.poll(lambda: w.condition("refs-missing", "ECPolicyResolved"), 30, "ECPolicyResolved of refs-missing")
        self.assertEqual(miss["status"], "False")
        self.assertEqual(w.sp_status("refs-missing")["phase"], "Active")      # reported, not an error
        # nothing was "migrated" to erasure coding: no replica changes, no history, no Events, no counters
        tr = w.tracked()
        self.assertEqual({n: t["changes"] for n, t in tr["byName"].items() if t["changes"]}, {})
        self.assertEqual(ow.history(st), [])
        self.assertEqual(st.get("totalMigrations", 0), 0)
        self.assertEqual([e["reason"] for e in w.events() if e["reason"].startswith("Migration")], [])
        m = op.metrics()
        for s in ("success", "failed", "aborted"):
            self.assertEqual(m.get("couchestor_migrations_total", status=s), 0, s)


if __name__ == "__main__":
    unittest.main(verbosity=2)
