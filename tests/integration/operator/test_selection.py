"""operator.selection: spec.volumeSelector matches a volume's bound PersistentVolumeClaim's labels (which
Kubernetes does not copy to the PV), and spec.namespaceSelector the labels of that claim's Namespace."""
import unittest

import opworld as ow
from opworld import vol

FAST = "5s"
PVCS = "/api/v1/namespaces/default/persistentvolumeclaims"


def claim(w, name, labels):
    """The bound claim of volume `name` (the simulator's PV names it in claimRef: default/<name>)."""
    return w.create(PVCS, {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                           "metadata": {"name": name, "namespace": "default", "labels": labels},
                           "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "mayastor",
                                    "resources": {"requests": {"storage": "2Gi"}},
                                    "volumeName": w.pv_name(name)}})


class ClaimLabels(ow.OperatorTest):
    def test_only_the_claim_carries_the_selected_label(self):
        # busy: the PV has no app label, its claim has app=database; stray: neither has it
        w = self.world(ow.small_scenario([vol("busy", "pool-cold-1", 8000, pvLabels={"owner": "x"}),
                                          vol("stray", "pool-cold-2", 8000, pvLabels={"owner": "x"})],
                                         tiers=("hot", "cold")))
        claim(w, "busy", {"app": "database"})
        claim(w, "stray", {"app": "web"})
        self.assertNotIn("app", w.pv("busy")["metadata"].get("labels", {}))
        w.apply_policy(ow.policy(three_tier=False, samplingWindow=FAST))
        w.wait_prom(FAST)
        op = w.operator()
        self.wait_tiers(w, {"busy": "hot"}, 90, ops=[op])
        st = ow.poll(lambda: (lambda s: s if s.get("totalMigrations") == 1 else None)(w.sp_status()), 30,
                     "one migration in the status")
        self.assertEqual(st["watchedVolumes"], 1)
        self.assertEqual([h["volumeName"] for h in ow.history(st)], [w.pv_name("busy")])
        self.assertEqual(w.tiers_of("stray"), ["cold"])


class NamespaceSelector(ow.OperatorTest):
    def test_namespace_selector_excludes_then_includes(self):
        w = self.world(ow.small_scenario([vol("busy", "pool-cold-1", 8000, pvLabels={"owner": "x"})],
                                         tiers=("hot", "cold")))
        claim(w, "busy", {"app": "database"})
        w.apply_policy(ow.policy(three_tier=False, samplingWindow=FAST,
                                 namespaceSelector={"matchLabels": {"team": "storage"}}))
        w.wait_prom(FAST)
        op = w.operator()
        # the claim's Namespace (default) lacks team=storage: the volume is not the policy's
        w.wait_reconcile(ops=[op])
        w.wait_reconcile(ops=[op])
        st = w.sp_status()
        self.assertEqual(st.get("watchedVolumes"), 0, st)
        self.assertEqual(st.get("totalMigrations", 0), 0, st)
        self.assertEqual(w.tiers_of("busy"), ["cold"])
        # labelling the Namespace selects it (a Namespace label change requeues the policy)
        w.k("PATCH", "/api/v1/namespaces/default", {"metadata": {"labels": {"team": "storage"}}})
        self.wait_tiers(w, {"busy": "hot"}, 90, ops=[op])
        self.assertEqual(w.sp_status()["watchedVolumes"], 1)


if __name__ == "__main__":
    unittest.main()
