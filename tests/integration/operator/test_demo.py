"""operator.demo: the demo world's volumes reach the tier their load says; status, Events and metrics agree."""
import unittest

import opworld as ow

# demo scenario with steady loads (opworld.demo_scenario): name -> (tier now, tier wanted by the demo policy)
DEMO = {
    "orders-db": ("cold", "hot"),        # 8000 IOPS
    "payments-db": ("cold", "hot"),      # 6000
    "search-index": ("warm", "hot"),     # 12000
    "audit-log": ("hot", "cold"),        # 50
    "archive-2023": ("hot", "cold"),     # 200
    "reports-db": ("hot", "warm"),       # 1000
    "crm-db": ("hot", "warm"),           # 1500
    "inventory-db": ("warm", "warm"),    # 3000: between warm and high, stays
    "sessions-db": ("hot", "hot"),       # 7000: already hot
    "analytics-db": ("warm", "hot"),     # 9000 (the step's final value)
    "backup-db": ("cold", "hot"),        # 6000 (the ramp's final value)
}


class Demo(ow.OperatorTest):
    def test_volumes_reach_their_tiers(self):
        w = self.world(ow.demo_scenario(), "--apply", ow.os.path.join(ow.REPO, "tests/sandbox/manifests/demo-policy.yaml"))
        w.wait_prom()
        tiers = w.pool_tier()
        for name, (now, _) in DEMO.items():
            self.assertEqual(w.tiers_of(name, tiers), [now], name)
        w.track()
        ow.log("operator starts")
        op = w.operator("--max-concurrent-migrations", "3")
        want = {n: t for n, (_, t) in DEMO.items()}
        want["scratch"] = "cold"      # app: batch, not selected: stays on cold although it does 9000 IOPS
        moved = sorted(n for n, (a, b) in DEMO.items() if a != b)
        self.assertEqual(len(moved), 9)
        self.wait_tiers(w, want, timeout=120, ops=[op])

        ow.log("tiers reached")
        # status: counts and history (written by the reconcile after the last migration ended)
        st = ow.poll(lambda: (lambda s: s if s.get("totalMigrations") == 9 and s.get("activeMigrations") == 0
                              else None)(w.sp_status()), 30, "status with 9 migrations")
        self.assertEqual(st["phase"], "Active")
        self.assertEqual((st["watchedVolumes"], st["hotVolumes"], st["warmVolumes"], st["coldVolumes"]),
                         (11, 6, 3, 2))
        self.assertEqual((st["totalMigrations"], st["failedMigrations"], st["activeMigrations"]), (9, 0, 0))
        self.assertEqual(st["observedGeneration"], w.sp()["metadata"]["generation"])
        hist = ow.history(st)
        self.assertEqual(sorted(h["volumeName"] for h in hist), sorted(w.pv_name(n) for n in moved))
        for h in hist:
            name = w.names[h["volumeName"][4:]]
            self.assertEqual((h["outcome"], h["fromTier"], h["toTier"]), ("Succeeded",) + DEMO[name], name)
            self.assertGreater(h["triggerIOPS"], 0)
        conds = {c["type"]: c for c in st["conditions"]}
        self.assertEqual(conds["Ready"]["status"], "True")
        self.assertEqual(conds["SpecValid"]["status"], "True")
        self.assertEqual((conds["MetricsAvailable"]["status"], conds["MetricsAvailable"]["reason"]),
                         ("True", "Available"))
        self.assertEqual(conds["Degraded"]["status"], "False")
        self.assertEqual(conds["ECPolicyResolved"]["status"], "True")
        self.assertEqual(st["ecPolicy"]["name"], "standard-ec")
        self.assertTrue(st["ecPolicy"]["resolved"])

        # each moved volume: one replica on the new tier, the cooldown stamp, the Events of every step
        for name in moved:
            ann = w.annotations(name)
            self.assertIn(ow.ANN_LAST, ann, name)
            self.assertNotIn(ow.ANN_JOURNAL, ann, name)
            # Events are sent from the recorder's own thread: the last may reach the API after the journal is gone.
            reasons = ow.poll(lambda: (lambda rs: rs if "MigrationCompleted" in rs else None)(w.event_reasons(name)),
                              10, "%s: MigrationCompleted Event" % name)
            for r in ("MigrationStarted", "MigrationReplicaAdded", "MigrationSynced", "MigrationCompleted"):
                self.assertEqual(reasons.count(r), 1, (name, reasons))
            self.assertEqual(w.volume(name)["spec"]["num_replicas"], 1)
        for name in ("inventory-db", "sessions-db", "scratch"):
            self.assertNotIn(ow.ANN_LAST, w.annotations(name), name)
            self.assertEqual([r for r in w.event_reasons(name) if r.startswith("Migration")], [], name)
        tr = w.tracked()
        for name in ("inventory-db", "sessions-db", "scratch"):
            self.assertEqual(tr["byName"][name]["changes"], 0, name)     # never touched
        for name in moved:
            self.assertEqual(tr["byName"][name]["maxReplicas"], 2, name)
            self.assertEqual(tr["byName"][name]["minHealthy"], 1, name)  # never fewer healthy replicas than before
        self.assertLessEqual(tr["maxExtraVolumes"], 3)                   # maxConcurrentMigrations 3

        # metrics agree with the status
        def metrics_settled():
            m = op.metrics()
            return m if m.get("couchestor_volumes", policy="demo", tier="hot") == 6 else None
        m = ow.poll(metrics_settled, 20, "couchestor_volumes to settle")
        successes = sum(1 for h in hist if h["outcome"] == "Succeeded")
        self.assertEqual(m.get("couchestor_migrations_total", status="success"), successes)
        self.assertEqual(m.get("couchestor_migrations_total", status="failed"), 0)
        self.assertEqual(m.get("couchestor_migrations_total", status="aborted"), 0)
        self.assertEqual(m.get("couchestor_active_migrations"), 0)
        self.assertEqual(m.get("couchestor_migration_duration_seconds_count"), successes)
        self.assertEqual((m.get("couchestor_volumes", policy="demo", tier="warm"),
                          m.get("couchestor_volumes", policy="demo", tier="cold")), (3, 2))
        self.assertGreaterEqual(m.get("couchestor_reconcile_total", kind="storagepolicy", result="success"), 2)
        self.assertEqual(m.get("couchestor_reconcile_total", kind="storagepolicy", result="error"), 0)
        self.assertGreaterEqual(m.get("couchestor_reconcile_total", kind="erasurecodingpolicy", result="success"), 1)
        self.assertEqual(m.get("couchestor_leader"), 1)
        self.assertEqual(m.get("couchestor_request_errors_total", target="prometheus"), 0)
        self.assertEqual(op.term(), 0)
        # the placement window put back every pool's placement label as it was
        self.assertEqual(w.placement_labels(), {p: "eligible" for p in w.pools()})
        # every Event about a PV names its uid: `kubectl describe pv` selects Events by
        # involvedObject.uid, and shows none that lack it
        uids = {pv["metadata"]["name"]: pv["metadata"]["uid"] for pv in w.k("GET", ow.PVS)["items"]}
        pv_events = [e for e in w.events() if (e.get("regarding") or {}).get("kind") == "PersistentVolume"]
        self.assertTrue(any(e["reason"] == "MigrationStarted" for e in pv_events))
        for e in pv_events:
            self.assertEqual(e["regarding"].get("uid"), uids[e["regarding"]["name"]], (e["reason"], e["regarding"]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
