"""operator.sigkill: the invariant under SIGKILL at random moments of migrations.

Repeatedly: flip some volumes' loads so they want the other tier, start the operator, SIGKILL it after a
random delay (seeded RNG; the seed is printed), and start it again. Throughout, the simulator records each
volume's fewest healthy replicas after every state change (POST /_control/track), so transients between
two samples are not missed. At the end an operator runs undisturbed until every volume is on the tier its
load says; then:
  - no volume ever had fewer healthy replicas than before its migrations began (1),
  - every volume has exactly spec.num_replicas replicas and no journal annotation (nothing orphaned),
  - every pool carries its placement label (couchestor.io/placement) with its original value.

CS_SIGKILL_KILLS (default 20; `make soak` sets more) and CS_SIGKILL_SEED (default: time-based) tune it.
"""
import os
import random
import time
import unittest

import opworld as ow
from opworld import vol

HOT, COLD = 8000, 10


class SigkillInvariant(ow.OperatorTest):
    def test_random_kill_points(self):
        kills = int(os.environ.get("CS_SIGKILL_KILLS", "20"))
        seed = int(os.environ.get("CS_SIGKILL_SEED", str(int(time.time() * 1000) % 1000000)))
        print("\noperator.sigkill: seed %d, %d kill points (CS_SIGKILL_SEED=%d to replay)" % (seed, kills, seed),
              flush=True)
        rng = random.Random(seed)
        names = ["v%d" % i for i in range(6)]
        vols = [vol(n, "pool-%s-%d" % ("cold" if i % 2 == 0 else "hot", i % 3 + 1), HOT if i % 2 == 0 else COLD,
                    size="1Gi") for i, n in enumerate(names)]
        w = self.world(ow.small_scenario(vols, tiers=("hot", "cold"),
                                         sim={"rebuildRate": "512Mi", "rebuildMinSeconds": 1, "reconcilePeriod": 10}),
                       tag="sigkill")
        w.apply_policy(ow.policy(three_tier=False, samplingWindow="3s", cooldownPeriod="1s", migrationTimeout="2m",
                                 maxConcurrentMigrations=6))
        w.wait_prom("3s")
        w.track()
        load = {n: (HOT if i % 2 == 0 else COLD) for i, n in enumerate(names)}
        args = ("--max-concurrent-migrations", "6")
        steps = {}
        with_journal = 0
        for k in range(kills):
            # about half the volumes change their mind each round
            tiers = w.pool_tier()
            for n in names:
                if rng.random() < 0.5:
                    cur = w.tiers_of(n, tiers)
                    load[n] = COLD if cur == ["hot"] else HOT
                    w.set_load(n, load[n])
            op = w.operator(*args, tag="k%02d" % k)
            delay = rng.uniform(0.2, 2.5)
            time.sleep(delay)    # the random kill point itself; nothing waits on it
            op.assert_alive()
            js = w.journals()
            op.kill()
            op.stop()
            with_journal += bool(js)
            for j in js.values():
                s = ow.json.loads(j).get("step")
                steps[s] = steps.get(s, 0) + 1
            tr = w.tracked()
            low = {n: t["minHealthy"] for n, t in tr["byName"].items() if t["minHealthy"] < t["baseHealthy"]}
            self.assertEqual(low, {}, "fewer healthy replicas than before (kill %d, seed %d)" % (k, seed))
        print("operator.sigkill: %d of %d kills hit journaled migrations; journal steps at the kills: %s" % (
            with_journal, kills, steps), flush=True)
        self.assertGreaterEqual(with_journal, kills // 3, "too few kills landed in migrations (seed %d)" % seed)

        # undisturbed, in dry run: every interrupted migration is resumed or rolled back, and no new move
        # starts while the end state is checked (a new move would open a placement window of its own, and
        # "no journal" could hold in the instant before its first journal write)
        op = w.operator(*args, "--dry-run", tag="final")

        def settled():
            if w.journals():
                return False
            for n in names:
                v = w.volume(n)
                if len(v["state"]["replica_topology"]) != v["spec"]["num_replicas"] or v["state"]["status"] != "Online":
                    return False
            return True
        ow.poll(settled, 90, "every journal finished (seed %d)" % seed, interval=0.5, fail=op.assert_alive)
        tr = w.tracked()
        for n in names:
            t = tr["byName"][n]
            self.assertGreaterEqual(t["minHealthy"], t["baseHealthy"], (n, t, seed))
            v = w.volume(n)
            self.assertEqual(len(v["state"]["replica_topology"]), v["spec"]["num_replicas"], (n, v, seed))
            self.assertEqual(v["spec"]["num_replicas"], 1, (n, seed))
            self.assertEqual(v["state"]["status"], "Online", (n, seed))
        self.assertEqual(w.journals(), {})
        # no replica anywhere that no volume owns
        owned = {u for n in names for u in w.volume(n)["state"]["replica_topology"]}
        code, reps = w.sim.get("/v0/replicas")
        self.assertEqual({r["uuid"] for r in reps}, owned, "orphaned replicas (seed %d)" % seed)
        self.assertEqual(w.placement_labels(), {p: "eligible" for p in w.pools()}, "seed %d" % seed)
        # and the operator goes on to put every volume where its load says: an interrupted migration is
        # not a failed one (no back-off for a volume because the operator was killed)
        self.assertEqual(op.term(), 0)
        op = w.operator(*args, tag="moves")
        want = {n: ("hot" if load[n] >= 5000 else "cold") for n in names}
        self.wait_tiers(w, want, 60, ops=[op], kick="demo")
        op.term()


if __name__ == "__main__":
    unittest.main(verbosity=2)
