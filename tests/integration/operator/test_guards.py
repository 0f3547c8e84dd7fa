"""operator.guards: cooldown, concurrency limits (policy and global), dry run (spec and flag), preservation
mode and the migration timeout, each with exact expected outcomes."""
import time
import unittest

import opworld as ow
from opworld import vol

FAST = "5s"   # samplingWindow of these tests: Prometheus rate() over 5 s of 1 s scrapes


def started_times(w, name):
    return sorted(ow.rfc3339(e["eventTime"]) for e in w.events("MigrationStarted", name))


class Cooldown(ow.OperatorTest):
    def test_moved_volume_does_not_move_back_within_cooldown(self):
        w = self.world(ow.small_scenario([vol("busy", "pool-cold-1", 8000)]))
        w.apply_policy(ow.policy(samplingWindow=FAST, cooldownPeriod="10m"))
        w.wait_prom(FAST)
        w.track()
        op = w.operator()
        self.wait_tiers(w, {"busy": "hot"}, 60, ops=[op])
        ann = w.annotations("busy")
        self.assertIn(ow.ANN_LAST, ann)
        last = ow.rfc3339(ann[ow.ANN_LAST])
        self.assertLessEqual(abs(last - time.time()), 15)
        self.assertEqual(len(started_times(w, "busy")), 1)

        # now it wants cold, but it moved seconds ago: cooldownPeriod 10m
        w.set_load("busy", 10)
        w.wait_volume_iops("busy", lambda x: x < 500)
        w.wait_reconcile(ops=[op])
        w.wait_reconcile(ops=[op])
        reps = w.tracked()["byName"]["busy"]["changes"]
        ow.hold(lambda: w.tiers_of("busy") == ["hot"] and w.tracked()["byName"]["busy"]["changes"] == reps
                and ow.ANN_JOURNAL not in w.annotations("busy"), 5, "busy staying on hot during its cooldown")
        self.assertEqual(len(started_times(w, "busy")), 1)
        self.assertEqual(w.annotations("busy")[ow.ANN_LAST], ann[ow.ANN_LAST])

        # a short cooldown: it moves, but not before last-migration + cooldownPeriod
        w.patch_sp("demo", spec={"cooldownPeriod": "20s"})
        state = {"n": 0.0}

        def moved():
            if time.monotonic() > state["n"]:
                w.kick()
                state["n"] = time.monotonic() + 2
            return w.tiers_of("busy") == ["cold"] and not w.journals()
        ow.poll(moved, 60, "busy to move to cold after the cooldown", interval=0.3, fail=op.assert_alive)
        starts = started_times(w, "busy")
        self.assertEqual(len(starts), 2)
        self.assertGreaterEqual(starts[1], last + 20 - 1)   # eventTime has microseconds, the stamp whole seconds
        self.assertGreater(ow.rfc3339(w.annotations("busy")[ow.ANN_LAST]), last)


class Concurrency(ow.OperatorTest):
    def test_policy_limit_one(self):
        vols = [vol("v%d" % i, "pool-cold-%d" % (i % 3 + 1), 8000) for i in range(4)]
        w = self.world(ow.small_scenario(vols, tiers=("hot", "cold")))
        w.apply_policy(ow.policy(three_tier=False, samplingWindow=FAST, maxConcurrentMigrations=1))
        w.wait_prom(FAST)
        w.track()
        op = w.operator("--max-concurrent-migrations", "10")
        self.wait_tiers(w, {"v%d" % i: "hot" for i in range(4)}, 90, ops=[op])
        tr = w.tracked()
        self.assertEqual(tr["maxExtraVolumes"], 1, tr)       # never two volumes with an extra replica at once
        st = ow.poll(lambda: (lambda s: s if s.get("totalMigrations") == 4 else None)(w.sp_status()), 20,
                     "4 migrations in the status")
        self.assertEqual([h["outcome"] for h in ow.history(st)], ["Succeeded"] * 4)
        self.assertEqual(st["failedMigrations"], 0)

    def test_global_limit_across_policies(self):
        vols = [vol("a%d" % i, "pool-cold-%d" % (i % 3 + 1), 8000, app="a") for i in range(3)] + \
               [vol("b%d" % i, "pool-cold-%d" % (i % 3 + 1), 8000, app="b") for i in range(3)]
        w = self.world(ow.small_scenario(vols, tiers=("hot", "cold"), sim={"rebuildRate": "512Mi"}))
        for app in ("a", "b"):
            w.apply_policy(ow.policy(app, three_tier=False, samplingWindow=FAST, maxConcurrentMigrations=3,
                                     volumeSelector={"matchLabels": {"app": app}}))
        w.wait_prom(FAST)
        w.track()
        op = w.operator("--max-concurrent-migrations", "2")
        self.wait_tiers(w, {n["name"]: "hot" for n in vols}, 90, ops=[op])
        tr = w.tracked()
        self.assertEqual(tr["maxExtraVolumes"], 2, tr)       # the global limit, not 3 + 3
        for app in ("a", "b"):
            st = ow.poll(lambda: (lambda s: s if s.get("totalMigrations") == 3 else None)(w.sp_status(app)), 20,
                         "3 migrations of policy %s" % app)
            self.assertEqual(st["failedMigrations"], 0)


class DryRun(ow.OperatorTest):
    def test_spec_dry_run_then_flag_then_real(self):
        vols = [vol("busy", "pool-cold-1", 8000), vol("idle", "pool-hot-2", 10), vol("fine", "pool-hot-3", 9000)]
        w = self.world(ow.small_scenario(vols, tiers=("hot", "cold")))
        w.apply_policy(ow.policy(three_tier=False, samplingWindow=FAST, dryRun=True))
        w.wait_prom(FAST)
        w.track()

        def only_dry_runs(n_ops):
            for name in ("busy", "idle"):
                ow.poll(lambda: len(w.events("DryRun", name)) >= n_ops, 30, "DryRun Events of %s" % name)
            st = w.wait_reconcile()
            tr = w.tracked()
            for name in ("busy", "idle", "fine"):
                self.assertEqual(tr["byName"][name]["changes"], 0, (name, tr))   # replica_count never changed
            self.assertEqual(w.journals(), {})
            self.assertEqual([e for e in w.events() if e["reason"].startswith("Migration")], [])
            self.assertEqual(w.events("DryRun", "fine"), [])
            self.assertIn("(dry run)", st["message"])
            self.assertEqual((st.get("totalMigrations", 0), st.get("activeMigrations", 0)), (0, 0))
            note = w.events("DryRun", "busy")[0]["note"]
            self.assertIn("hot", note)
            return st

        op = w.operator("--max-concurrent-migrations", "5")
        only_dry_runs(1)
        op.term()
        # the flag: the policy itself is no longer a dry run
        w.patch_sp("demo", spec={"dryRun": False})
        op = w.operator("--max-concurrent-migrations", "5", "--dry-run")
        only_dry_runs(2)
        op.term()
        # and for real: both move
        op = w.operator("--max-concurrent-migrations", "5")
        self.wait_tiers(w, {"busy": "hot", "idle": "cold", "fine": "hot"}, 60, ops=[op])


class Preservation(ow.OperatorTest):
    def test_old_replica_kept(self):
        w = self.world(ow.small_scenario([vol("busy", "pool-cold-1", 8000)], tiers=("hot", "cold")))
        w.apply_policy(ow.policy(three_tier=False, samplingWindow=FAST))
        w.wait_prom(FAST)
        old = list(w.volume("busy")["state"]["replica_topology"])
        w.track()
        op = w.operator("--preservation-mode")
        st = ow.poll(lambda: (lambda s: s if s.get("totalMigrations") == 1 else None)(w.sp_status()), 60,
                     "the migration to finish", fail=op.assert_alive)
        self.assertEqual([h["outcome"] for h in ow.history(st)], ["Succeeded"])
        v = w.volume("busy")
        topo = v["state"]["replica_topology"]
        self.assertEqual(v["spec"]["num_replicas"], 2)
        self.assertIn(old[0], topo)                                  # the old replica is kept
        self.assertEqual(sorted(w.tiers_of("busy")), ["cold", "hot"])  # one replica on each tier
        self.assertTrue(all(t["state"] == "Online" and t.get("child-status") == "Online" for t in topo.values()))
        self.assertEqual(w.journals(), {})
        self.assertIn(ow.ANN_LAST, w.annotations("busy"))
        w.wait_reconcile(ops=[op])
        ow.hold(lambda: w.tracked()["byName"]["busy"]["replicas"] == 2, 4, "both replicas kept")
        self.assertEqual(w.tracked()["byName"]["busy"]["maxReplicas"], 2)


class Timeout(ow.OperatorTest):
    def test_stalled_rebuild_rolled_back_after_migration_timeout(self):
        w = self.world(ow.small_scenario([vol("busy", "pool-cold-1", 8000, size="4Gi")]))
        w.apply_policy(ow.policy(samplingWindow=FAST, migrationTimeout="8s"))
        w.wait_prom(FAST)
        u = w.uuid_of["busy"]
        old = list(w.volume("busy")["state"]["replica_topology"])
        w.control("POST", "/rebuild-faults", {"mode": "stall", "volume": u, "at": 40, "count": 1})
        w.track()
        op = w.operator()
        ow.poll(lambda: w.events("MigrationReplicaAdded", "busy"), 30, "the new replica", fail=op.assert_alive)
        t_start = started_times(w, "busy")[0]
        # from now on the volume is in the band (3000 IOPS: between warm and high), so nothing retries it
        w.set_load("busy", 3000)
        st = ow.poll(lambda: (lambda s: s if s.get("failedMigrations") == 1 else None)(w.sp_status()), 60,
                     "the timed-out migration in the status", fail=op.assert_alive)
        h = ow.history(st)
        self.assertEqual([x["outcome"] for x in h], ["TimedOut"], h)
        self.assertIn("timeout", h[0].get("message", ""))
        self.assertEqual((st["totalMigrations"], st["failedMigrations"]), (1, 1))
        rb = ow.rfc3339(ow.poll(lambda: w.events("MigrationRollback", "busy"), 10,
                                "the MigrationRollback Event")[0]["eventTime"])  # sent by its own thread
        self.assertGreaterEqual(rb - t_start, 8 - 1)
        v = w.volume("busy")
        self.assertEqual(list(v["state"]["replica_topology"]), old)        # only its old replica
        self.assertEqual(v["spec"]["num_replicas"], 1)
        self.assertEqual(v["state"]["status"], "Online")
        self.assertEqual(w.journals(), {})
        self.assertNotIn(ow.ANN_LAST, w.annotations("busy"))                # a failed move starts no cooldown
        tr = w.tracked()["byName"]["busy"]
        self.assertEqual((tr["minHealthy"], tr["maxReplicas"], tr["replicas"]), (1, 2, 1))
        m = op.metrics()
        self.assertEqual((m.get("couchestor_migrations_total", status="failed"),
                          m.get("couchestor_migrations_total", status="success")), (1, 0))
        self.assertEqual(w.placement_labels(), {p: "eligible" for p in w.pools()})


if __name__ == "__main__":
    unittest.main(verbosity=2)
