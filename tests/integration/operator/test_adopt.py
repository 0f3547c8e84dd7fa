"""operator.adopt: a cluster with volumes made before CoucheStor. A volume whose StorageClass has no
poolHasTopologyKey for the placement label can be steered only by overwriting openebs.io/created-by on the
other pools (spec.createdBySteering); a volume made outside the CSI driver requires no pool label and
cannot be steered at all. Both are classified before a migration slot is taken: hotter unsteerable volumes
never keep a steerable one waiting, and the policy's Steerable condition and `couchestor plan` say why."""
import json
import subprocess
import unittest

import opworld as ow
from opworld import vol

FAST = "5s"
CREATED_BY = "openebs.io/created-by"
LEGACY = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "legacy"},
          "provisioner": "io.openebs.csi-mayastor", "parameters": {"repl": "1", "protocol": "nvmf"}}


def scenario():
    # All three of class legacy. "tiered" was given the placement key explicitly (as if made from a tiered
    # class); "raw" was made through the REST API (no pool topology). The two unsteerable ones are hotter,
    # so a plan that ranked before classifying would give them the policy's one slot.
    s = ow.small_scenario([vol("tiered", "pool-cold-1", 7000, storageClass="legacy",
                               inclusion={CREATED_BY: "operator-diskpool", ow.PLACEMENT: ""}),
                           vol("old", "pool-cold-2", 9000, storageClass="legacy"),
                           vol("raw", "pool-cold-3", 9500, storageClass="legacy", csi=False)],
                          tiers=("hot", "cold"),
                          # the cold pools have the most room: left to itself, Mayastor would put a new
                          # replica there, so a replica on hot shows the move was steered
                          capacity={"pool-cold-%d" % i: "1Ti" for i in (1, 2, 3)})
    s["storageClasses"] = s["storageClasses"] + [LEGACY]
    s["namespace"] = "openebs"  # as the OpenEBS umbrella chart installs it: DiskPools and api-rest there
    return s


class Adopt(ow.OperatorTest):
    def plan(self, w):
        env = dict(ow.os.environ)
        for k in ("KUBECONFIG", "PROMETHEUS_URL", "MAYASTOR_URL", "MAYASTOR_NAMESPACE"):
            env[k] = w.env[k]
        p = subprocess.run([ow.binary(), "plan", "--json"], env=env, capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, p.stderr)
        doc = json.loads(p.stdout)
        return doc, {w.names[v["volume"][4:]]: v for v in doc["volumes"]}

    def test_existing_volumes_classified_then_moved_with_created_by_steering(self):
        w = self.world(scenario())
        w.apply_policy(ow.policy(three_tier=False, samplingWindow=FAST, storageClassName="legacy",
                                 maxConcurrentMigrations=1))
        w.wait_prom(FAST)
        doc, by = self.plan(w)
        self.assertEqual(doc["steering"], {"placement-label": 1, "created-by": 1, "none": 1}, doc)
        self.assertEqual(by["tiered"]["action"], "move", by)
        self.assertEqual(by["old"]["reason"], "NeedsCreatedBySteering", by)
        self.assertIn("StorageClass legacy has no poolHasTopologyKey", by["old"]["detail"])
        self.assertEqual(by["raw"]["reason"], "NotSteerable", by)

        op = w.operator()
        self.wait_tiers(w, {"tiered": "hot"}, 90, ops=[op])
        cond = ow.poll(lambda: w.condition("demo", "Steerable"), 30, "the Steerable condition")
        self.assertEqual((cond["status"], cond["reason"]), ("False", "VolumesNotSteerable"), cond)
        self.assertIn("2 of 3 volumes cannot be moved", cond["message"])
        self.assertIn("StorageClass legacy without poolHasTopologyKey", cond["message"])
        self.assertEqual(w.tiers_of("old"), ["cold"])
        self.assertEqual(w.tiers_of("raw"), ["cold"])
        self.assertTrue(w.events(reason="NotSteerable", volume="raw"), "a Warning Event on the volume")

        # The policy allows created-by steering: the old volume moves; every pool gets its created-by value
        # back; the volume nothing can steer stays where it is.
        w.patch_sp("demo", {"createdBySteering": True})
        self.wait_tiers(w, {"old": "hot"}, 120, ops=[op])
        ow.poll(lambda: not w.journals(), 30, "no journal left")
        for pid, p in w.pools().items():
            self.assertEqual(p["spec"]["labels"].get(CREATED_BY), "operator-diskpool", pid)
        self.assertEqual(w.tiers_of("raw"), ["cold"])
        cond = ow.poll(lambda: (lambda c: c if c and "1 of 3" in c["message"] else None)(
            w.condition("demo", "Steerable")), 30, "the Steerable condition counting the raw volume only")
        self.assertIn("pool topology that requires no pool label", cond["message"])
        self.assertEqual(w.annotations("old").get("couchestor.io/last-migration-target", "")[:9], "pool-hot-")


class OldMayastor(ow.OperatorTest):
    def test_a_control_plane_without_pool_label_endpoints_moves_nothing_until_upgraded(self):
        # Mayastor 2.7.0: no PUT/DELETE /v0/pools/{id}/label/{key}. The operator probes once, says so in a
        # condition and one log line, and moves nothing (no refused migration per reconcile); after Mayastor
        # was unreachable (an upgrade restarts it) it probes again and moves.
        w = self.world(ow.small_scenario([vol("busy", "pool-cold-1", 8000)], tiers=("hot", "cold")))
        w.sim_config(poolLabelRoutes=False)
        w.apply_policy(ow.policy(three_tier=False, samplingWindow=FAST))
        w.wait_prom(FAST)
        op = w.operator()
        cond = ow.poll(lambda: (lambda c: c if c and c["reason"] == "NoPoolLabelEndpoints" else None)(
            w.condition("demo", "Degraded")), 40, "Degraded: NoPoolLabelEndpoints", fail=op.assert_alive)
        self.assertIn("upgrade Mayastor to 2.7.1", cond["message"])
        w.kick()
        w.wait_reconcile(ops=[op])
        self.assertEqual(w.tiers_of("busy"), ["cold"])
        self.assertEqual(op.logtext(200000).count("no pool-label endpoints"), 1, "one log line, not one per reconcile")
        self.assertFalse(w.events(reason="MigrationRefused"), "no migration was tried")

        # the upgrade: Mayastor is gone for a moment, then serves the endpoints
        w.sim_config(poolLabelRoutes=True)
        w.control("POST", "/faults", {"type": "error", "code": 503, "path": "^/v0/volumes($|[?])", "count": 2})
        w.kick()
        self.wait_tiers(w, {"busy": "hot"}, 90, ops=[op], kick=w.kick)

        # A newer policy that selects the same volume and would send it back to cold: the older one decides,
        # the newer says so, and the volume stays (no ping-pong).
        w.apply_policy(ow.policy("zz-newer", three_tier=False, samplingWindow=FAST, highWatermarkIOPS=100000,
                                 lowWatermarkIOPS=9000, cooldownPeriod="1s"))
        cond = ow.poll(lambda: w.condition("zz-newer", "OwnsSelectedVolumes"), 40, "the newer policy's condition",
                       fail=op.assert_alive)
        self.assertEqual((cond["status"], cond["reason"]), ("False", "OverlapsOlderPolicy"), cond)
        self.assertIn("older StoragePolicy (e.g. demo)", cond["message"])
        self.assertEqual(w.sp_status("zz-newer").get("watchedVolumes"), 0)
        self.assertEqual(w.condition("demo", "OwnsSelectedVolumes")["status"], "True")
        w.kick()
        w.wait_reconcile("zz-newer", ops=[op])
        self.assertEqual(w.tiers_of("busy"), ["hot"])
        self.assertEqual(w.sp_status("zz-newer").get("totalMigrations", 0), 0)


if __name__ == "__main__":
    unittest.main()
