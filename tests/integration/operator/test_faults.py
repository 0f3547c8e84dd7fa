"""operator.faults: a pool faults mid-migration, a rebuild stalls, the control plane places the new replica
elsewhere, the control plane's victim choice would remove the new replica; and a 2-replica volume."""
import json
import time
import unittest

import opworld as ow
from opworld import vol

FAST = "5s"
ANN_RETRY = "couchestor.io/retry-after"


def journal(w, name):
    j = w.annotations(name).get(ow.ANN_JOURNAL)
    return json.loads(j) if j else None


def new_replica_pool(w, name, old):
    topo = w.volume(name)["state"]["replica_topology"]
    new = [u for u in topo if u not in old]
    return (new[0], topo[new[0]]["pool"]) if new else (None, None)


class Faults(ow.OperatorTest):
    def assert_intact(self, w, name, old):
        v = w.volume(name)
        self.assertEqual(list(v["state"]["replica_topology"]), old)      # its old replica only
        self.assertEqual(v["spec"]["num_replicas"], len(old))
        self.assertEqual(v["state"]["status"], "Online")
        self.assertEqual(w.journals(), {})

    def test_target_pool_faults_mid_migration(self):
        w = self.world(ow.small_scenario([vol("busy", "pool-cold-1", 8000, size="8Gi")], tiers=("hot", "cold"),
                                         sim={"reconcilePeriod": 3}))
        w.apply_policy(ow.policy(three_tier=False, samplingWindow=FAST))
        w.wait_prom(FAST)
        old = list(w.volume("busy")["state"]["replica_topology"])
        w.track()
        op = w.operator()
        ow.poll(lambda: w.events("MigrationReplicaAdded", "busy"), 30, "the new replica", fail=op.assert_alive)
        _, target = new_replica_pool(w, "busy", old)
        self.assertTrue(target.startswith("pool-hot-"), target)
        w.control("POST", "/pools/" + target, {"status": "Faulted"})
        # the attempt fails and is rolled back: the volume keeps its old replica only
        st = ow.poll(lambda: (lambda s: s if s.get("failedMigrations") == 1 and not s.get("activeMigrations")
                              else None)(w.sp_status()), 60, "the failed attempt in the status",
                     fail=op.assert_alive)
        self.assertEqual([h["outcome"] for h in ow.history(st)], ["Failed"], ow.history(st))
        ow.poll(lambda: w.events("MigrationRollback", "busy"), 10, "the MigrationRollback Event")  # sent by its own thread
        self.assert_intact(w, "busy", old)
        # failed migrations back off (couchestor.io/retry-after): no retry meanwhile
        retry = w.annotations("busy").get(ANN_RETRY)
        self.assertIsNotNone(retry)
        self.assertGreater(ow.rfc3339(retry), time.time() + 60)
        w.wait_reconcile(ops=[op])
        self.assertEqual(len(w.events("MigrationStarted", "busy")), 1)
        # the back-off over (a person clears it): the retry goes to another, Online hot pool
        w.k("PATCH", ow.PVS + "/" + w.pv_name("busy"), {"metadata": {"annotations": {ANN_RETRY: None}}})
        self.wait_tiers(w, {"busy": "hot"}, 90, ops=[op], kick="demo")
        self.assertNotEqual(w.replica_pools("busy"), [target])
        st = ow.poll(lambda: (lambda s: s if s.get("totalMigrations", 0) >= 2 and not s.get("activeMigrations")
                              else None)(w.sp_status()), 30, "both attempts in the status")
        self.assertEqual([h["outcome"] for h in ow.history(st)], ["Failed", "Succeeded"], ow.history(st))
        self.assertEqual(st["failedMigrations"], 1)
        tr = w.tracked()["byName"]["busy"]
        self.assertEqual(tr["minHealthy"], 1)          # the old replica was never lost
        self.assertEqual(w.volume("busy")["spec"]["num_replicas"], 1)
        self.assertEqual(w.placement_labels(), {p: "eligible" for p in w.pools()})

    def test_rebuild_stalls_then_resumes(self):
        w = self.world(ow.small_scenario([vol("busy", "pool-cold-1", 8000, size="4Gi")], tiers=("hot", "cold")))
        w.apply_policy(ow.policy(three_tier=False, samplingWindow=FAST))
        w.wait_prom(FAST)
        u = w.uuid_of["busy"]
        old = list(w.volume("busy")["state"]["replica_topology"])
        w.control("POST", "/rebuild-faults", {"mode": "stall", "volume": u, "at": 40, "count": 1})
        op = w.operator()
        ow.poll(lambda: w.events("MigrationReplicaAdded", "busy"), 30, "the new replica", fail=op.assert_alive)
        new, _ = new_replica_pool(w, "busy", old)

        def progress():
            return w.volume("busy")["state"]["replica_topology"][new].get("rebuild-progress")
        ow.poll(lambda: progress() == 40, 20, "the rebuild to stall at 40 %")
        # stalled: the migration waits (journal at WaitSync, an active migration), nothing is removed
        ow.hold(lambda: progress() == 40 and journal(w, "busy")["step"] in ("WaitSync", "WAIT_SYNC", 2), 4,
                "the stalled migration waiting", interval=0.5)
        st = w.wait_reconcile(ops=[op])
        self.assertEqual(st["activeMigrations"], 1)
        self.assertEqual(sorted(w.volume("busy")["state"]["replica_topology"]), sorted(old + [new]))
        w.control("DELETE", "/rebuild-faults")
        self.wait_tiers(w, {"busy": "hot"}, 60, ops=[op])
        self.assertEqual(list(w.volume("busy")["state"]["replica_topology"]), [new])
        st = ow.poll(lambda: (lambda s: s if s.get("totalMigrations") == 1 else None)(w.sp_status()), 30,
                     "the migration in the status")
        self.assertEqual([h["outcome"] for h in ow.history(st)], ["Succeeded"])

    def test_control_plane_places_replica_elsewhere(self):
        w = self.world(ow.small_scenario([vol("busy", "pool-cold-1", 8000)], tiers=("hot", "cold")))
        w.apply_policy(ow.policy(three_tier=False, samplingWindow=FAST))
        w.wait_prom(FAST)
        old = list(w.volume("busy")["state"]["replica_topology"])
        # the scheduler ignores pool labels: the biggest free pool (a 2Ti cold one) wins over the steered target
        w.sim_config(ignoreTopology=True)
        w.track()
        op = w.operator()
        ev = ow.poll(lambda: w.events("MigrationRollback", "busy"), 30, "the rollback", fail=op.assert_alive)
        self.assertIn("placed the new replica on pool pool-cold-", ev[0]["note"])
        st = ow.poll(lambda: (lambda s: s if s.get("failedMigrations") == 1 and not s.get("activeMigrations")
                              else None)(w.sp_status()), 60, "the failed attempt in the status",
                     fail=op.assert_alive)
        h = ow.history(st)
        self.assertEqual([x["outcome"] for x in h], ["Failed"], h)
        self.assertIn("placed the new replica on pool pool-cold-", h[0].get("message", ""))
        self.assert_intact(w, "busy", old)
        self.assertIsNotNone(w.annotations("busy").get(ANN_RETRY))
        # placement works again and the back-off is cleared: the move succeeds
        w.sim_config(ignoreTopology=False)
        w.k("PATCH", ow.PVS + "/" + w.pv_name("busy"), {"metadata": {"annotations": {ANN_RETRY: None}}})
        self.wait_tiers(w, {"busy": "hot"}, 90, ops=[op], kick="demo")
        st = ow.poll(lambda: (lambda s: s if s.get("totalMigrations") == 2 and not s.get("activeMigrations")
                              else None)(w.sp_status()), 30, "the successful attempt in the status")
        self.assertEqual([x["outcome"] for x in ow.history(st)], ["Failed", "Succeeded"])
        self.assertEqual(st["failedMigrations"], 1)
        self.assertNotIn(old[0], w.volume("busy")["state"]["replica_topology"])
        tr = w.tracked()["byName"]["busy"]
        self.assertEqual((tr["minHealthy"], tr["maxReplicas"], tr["replicas"]), (1, 2, 1))
        self.assertEqual(w.placement_labels(), {p: "eligible" for p in w.pools()})

    def test_wrong_victim_newest_tiebreak(self):
        w = self.world(ow.small_scenario([vol("busy", "pool-cold-1", 8000), vol("idle", "pool-hot-1", 10)],
                                         tiers=("hot", "cold")))
        w.sim_config(victimTiebreak="newest")     # an undetached decrease would remove the NEW replica
        w.apply_policy(ow.policy(three_tier=False, samplingWindow=FAST))
        w.wait_prom(FAST)
        old = {n: list(w.volume(n)["state"]["replica_topology"]) for n in ("busy", "idle")}
        w.track()
        op = w.operator()
        self.wait_tiers(w, {"busy": "hot", "idle": "cold"}, 60, ops=[op])
        for n in ("busy", "idle"):
            topo = w.volume(n)["state"]["replica_topology"]
            self.assertEqual(len(topo), 1)
            self.assertNotIn(old[n][0], topo, n)                 # the old replica is the one removed
            self.assertEqual(w.events("MigrationWrongVictim", n), [])
            self.assertEqual(w.tracked()["byName"][n]["minHealthy"], 1)
        st = ow.poll(lambda: (lambda s: s if s.get("totalMigrations") == 2 else None)(w.sp_status()), 30,
                     "2 migrations in the status")
        self.assertEqual([h["outcome"] for h in ow.history(st)], ["Succeeded"] * 2)

    def test_two_replica_volume_moves_entirely(self):
        w = self.world(ow.small_scenario([vol("mirrored", ["pool-cold-1", "pool-cold-2"], 8000, size="2Gi")],
                                         tiers=("hot", "cold")))
        w.apply_policy(ow.policy(three_tier=False, samplingWindow=FAST))
        w.wait_prom(FAST)
        w.track()
        op = w.operator()
        tiers = w.pool_tier()

        def both_hot():
            w.kick()
            return w.tiers_of("mirrored", tiers) == ["hot", "hot"] and not w.journals()
        try:
            ow.poll(both_hot, 75, "both replicas of a 2-replica volume on hot", interval=3, fail=op.assert_alive)
        except AssertionError:
            raise AssertionError("a 2-replica volume did not move entirely: replicas on %s, status %s" % (
                w.tiers_of("mirrored", tiers), w.sp_status().get("message")))
        finally:
            tr = w.tracked()["byName"]["mirrored"]
            self.assertGreaterEqual(tr["minHealthy"], 2)
        self.assertEqual(w.volume("mirrored")["spec"]["num_replicas"], 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
