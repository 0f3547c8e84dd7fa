"""operator.pool_labels: a pool's tier label may sit in its DiskPool's metadata.labels, its DiskPool's
spec.topology.labelled (where Mayastor's documentation puts it) or only in Mayastor's own pool labels
(`kubectl mayastor label pool`). The operator reads all three (metadata.labels win, then the REST labels,
then spec.topology.labelled) and says in the condition PoolLabelsConsistent when they disagree."""
import json
import subprocess
import unittest

import opworld as ow
from opworld import vol

FAST = "5s"
PLACEMENT = "couchestor.io/placement"


def only_in(scenario, where):
    """Moves every pool's storage-tier label to one place: "topology" (the DiskPool's spec.topology.labelled)
    or "rest" (the Mayastor pool's labels); the other places keep media-type (and the REST pool the
    placement key, which Mayastor places by)."""
    for p in scenario["pools"]:
        full = dict(p["labels"])
        rest = {k: v for k, v in full.items() if k != "storage-tier"}
        p["diskpoolLabels"] = {"media-type": full["media-type"]}
        if where == "topology":
            p["labels"] = rest
            p["topologyLabels"] = full
        else:
            p["labels"] = full
            p["topologyLabels"] = rest
    return scenario


def hot_pools_of(w, name):
    return [p for p in w.replica_pools(name) if p.startswith("pool-hot-")]


class PoolLabelSources(ow.OperatorTest):
    def moves_to_hot(self, where):
        w = self.world(only_in(ow.small_scenario([vol("busy", "pool-cold-1", 8000)], tiers=("hot", "cold")), where))
        if where == "topology":
            self.assertEqual(set(w.pool_tier().values()), {None})   # Mayastor's pools do not carry the tier
        w.apply_policy(ow.policy(three_tier=False, samplingWindow=FAST))
        w.wait_prom(FAST)
        op = w.operator()
        ow.poll(lambda: len(w.replica_pools("busy")) == 1 and hot_pools_of(w, "busy") and not w.journals(), 60,
                "busy to move to a hot pool", interval=0.5, fail=op.assert_alive)
        self.assertIn(hot_pools_of(w, "busy")[0], ("pool-hot-2", "pool-hot-3"))
        st = w.wait_reconcile(ops=[op])
        self.assertEqual((st["watchedVolumes"], st["hotVolumes"], st["coldVolumes"]), (1, 1, 0))
        cond = w.condition("demo", "PoolLabelsConsistent")
        self.assertIsNotNone(cond)
        self.assertEqual((cond["status"], cond["reason"]), ("True", "PoolLabelsAgree"))

    def test_tier_only_in_spec_topology_labelled(self):
        self.moves_to_hot("topology")

    def test_tier_only_in_rest_pool_labels(self):
        self.moves_to_hot("rest")

    def test_sources_mixed_and_disagreeing(self):
        """The label-sources scenario: node-1's tiers only in spec.topology.labelled, node-2's only in REST,
        pool-hot-3's DiskPool metadata.labels say cold while Mayastor says hot."""
        w = self.world("label-sources")
        w.apply_policy(ow.policy(three_tier=False, samplingWindow=FAST))
        w.wait_prom(FAST)
        op = w.operator()
        ow.poll(lambda: w.replica_pools("busy-db") == ["pool-hot-2"] and not w.journals(), 60,
                "busy-db to move to pool-hot-2", interval=0.5, fail=op.assert_alive)
        st = w.wait_reconcile(ops=[op])
        self.assertEqual((st["watchedVolumes"], st["hotVolumes"], st["coldVolumes"]), (2, 1, 1))
        self.assertEqual(w.replica_pools("idle-db"), ["pool-cold-2"])
        cond = w.condition("demo", "PoolLabelsConsistent")
        self.assertIsNotNone(cond, st)
        self.assertEqual((cond["status"], cond["reason"]), ("False", "PoolLabelsDisagree"))
        self.assertIn("the labels of 1 pools disagree", cond["message"])
        self.assertIn("pool 'pool-hot-3': storage-tier (metadata.labels \"cold\", REST \"hot\", "
                      "spec.topology.labelled \"hot\")", cond["message"])
        self.assertLess(len(cond["message"]), 1024)
        # `couchestor plan` says the same on stderr
        env = dict(ow.os.environ)
        for k in ("KUBECONFIG", "PROMETHEUS_URL", "MAYASTOR_URL", "MAYASTOR_NAMESPACE"):
            env[k] = w.env[k]
        p = subprocess.run([ow.binary(), "plan", "--policy", "demo"], env=env, capture_output=True, text=True,
                           timeout=120, stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("couchestor plan: policy 'demo': the labels of 1 pools disagree", p.stderr)
        self.assertIn("pool 'pool-hot-3': storage-tier", p.stderr)
        # and in --json
        p = subprocess.run([ow.binary(), "plan", "--policy", "demo", "--json"], env=env, capture_output=True,
                           text=True, timeout=120, stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, p.stderr)
        dis = json.loads(p.stdout)["poolLabelDisagreements"]
        self.assertEqual(dis["pools"], 1)
        self.assertIn("pool 'pool-hot-3': storage-tier", dis["note"])


if __name__ == "__main__":
    unittest.main()
