"""operator.failover: two replicas with leader election on one Lease; the leader is SIGKILLed mid-migration;
the standby takes the Lease when it expires (15 s) and finishes the journaled migration; never two leaders."""
import threading
import time
import unittest

import opworld as ow
from opworld import vol

LEASE = ("--lease-namespace", "mayastor", "--lease-name", "optest-leader")


class Failover(ow.OperatorTest):
    def test_standby_resumes_migration_after_leader_sigkill(self):
        ow.skip_in_asan("waits out a 15 s Lease")
        w = self.world(ow.small_scenario([vol("busy", "pool-cold-1", 8000, size="24Gi")], tiers=("hot", "cold")))
        w.apply_policy(ow.policy(three_tier=False, samplingWindow="5s"))
        w.wait_prom("5s")
        old = list(w.volume("busy")["state"]["replica_topology"])
        w.track()
        a = w.operator(*LEASE, leader_election=True, tag="a")
        b = w.operator(*LEASE, leader_election=True, tag="b")
        samples = {"n": 0, "max_leaders": 0, "bad": []}
        stop = threading.Event()

        def sampler():
            while not stop.is_set():
                leaders = 0
                for op in (a, b):
                    if op.alive():
                        try:
                            leaders += int(op.metrics().get("couchestor_leader") or 0)
                        except (OSError, AssertionError):
                            pass
                samples["n"] += 1
                samples["max_leaders"] = max(samples["max_leaders"], leaders)
                if leaders > 1:
                    samples["bad"].append(time.time())
                stop.wait(0.2)
        t = threading.Thread(target=sampler, daemon=True)
        t.start()
        self.addCleanup(stop.set)

        def leader():
            for op in (a, b):
                if op.alive() and op.metrics().get("couchestor_leader") == 1:
                    return op
            return None
        first = ow.poll(leader, 30, "a leader")
        standby = b if first is a else a
        ow.poll(lambda: w.events("MigrationReplicaAdded", "busy"), 40, "the migration's new replica",
                fail=first.assert_alive)
        self.assertEqual(standby.metrics().get("couchestor_leader"), 0)
        self.assertIsNotNone(w.annotations("busy").get(ow.ANN_JOURNAL))
        killed_at = time.monotonic()
        first.kill()
        ow.poll(lambda: standby.metrics().get("couchestor_leader") == 1, 40, "the standby to take the Lease",
                fail=standby.assert_alive)
        took = time.monotonic() - killed_at
        self.assertLess(took, 30)
        self.wait_tiers(w, {"busy": "hot"}, 60, ops=[standby])
        stop.set()
        t.join(5)
        self.assertGreater(samples["n"], 20)
        self.assertEqual(samples["max_leaders"], 1, samples["bad"][:5])
        ow.poll(lambda: w.events("MigrationResumed", "busy"), 10, "the MigrationResumed Event")  # sent by its own thread
        self.assertEqual(len(w.events("MigrationStarted", "busy")), 1)     # resumed, not started again
        topo = w.volume("busy")["state"]["replica_topology"]
        self.assertEqual(len(topo), 1)
        self.assertNotIn(old[0], topo)
        tr = w.tracked()["byName"]["busy"]
        self.assertEqual((tr["minHealthy"], tr["maxReplicas"]), (1, 2))      # no second scale-up
        st = ow.poll(lambda: (lambda s: s if s.get("totalMigrations") == 1 else None)(w.sp_status()), 30,
                     "the resumed migration in the status")
        self.assertEqual([h["outcome"] for h in ow.history(st)], ["Succeeded"])
        m = standby.metrics()
        self.assertEqual(m.get("couchestor_migrations_total", status="success"), 1)
        self.assertEqual(standby.term(), 0)
        self.assertEqual(w.placement_labels(), {p: "eligible" for p in w.pools()})


if __name__ == "__main__":
    unittest.main(verbosity=2)
