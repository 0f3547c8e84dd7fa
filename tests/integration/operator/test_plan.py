"""operator.plan: `couchestor plan` reads the cluster the operator reads (the same clients and the same
gather step) and prints the decision the operator would take, changing nothing."""
import json
import subprocess

import opworld as ow
from test_demo import DEMO


class Plan(ow.OperatorTest):
    def plan(self, w, *args):
        env = dict(ow.os.environ)
        for k in ("KUBECONFIG", "PROMETHEUS_URL", "MAYASTOR_URL", "MAYASTOR_NAMESPACE"):
            env[k] = w.env[k]
        return subprocess.run([ow.binary(), "plan"] + list(args), env=env, capture_output=True, text=True,
                              timeout=120, stdin=subprocess.DEVNULL)

    def test_plan_of_the_demo(self):
        w = self.world(ow.demo_scenario(), "--apply", ow.os.path.join(ow.REPO, "tests/sandbox/manifests/demo-policy.yaml"))
        w.wait_prom()
        w.track()
        p = self.plan(w, "--json", "--policy", "demo", "--max-concurrent-migrations", "10")
        self.assertEqual(p.returncode, 0, p.stderr)
        doc = json.loads(p.stdout)
        self.assertEqual(doc["policy"], "demo")
        now = [t for t, _ in DEMO.values()]
        counts = (now.count("hot"), now.count("warm"), now.count("cold"))
        self.assertEqual(counts, (5, 3, 3))
        self.assertEqual((doc["watched"], doc["hot"], doc["warm"], doc["cold"]), (11,) + counts)
        by_name = {w.names[v["volume"][4:]]: v for v in doc["volumes"]}
        self.assertNotIn("scratch", by_name)       # app: batch, outside volumeSelector
        moving = sorted(n for n, (a, b) in DEMO.items() if a != b)
        for name, (now, want) in DEMO.items():
            v = by_name[name]
            self.assertEqual(v["currentTier"], now, name)
            self.assertGreater(v["iops"], 0, name)
            if name in moving:
                self.assertEqual(v["wantedTier"], want, name)
            else:
                self.assertEqual(v["action"], "stay", (name, v))
        # the policy's maxConcurrentMigrations 3 (the operator's limit is 10 here): three moves now, the
        # others wait for a slot
        moves = [n for n in moving if by_name[n]["action"] == "move"]
        self.assertEqual(len(moves), 3, doc)
        self.assertEqual(doc["moves"], 3)
        for n in moving:
            if n not in moves:
                self.assertEqual((by_name[n]["action"], by_name[n]["reason"]), ("skip", "PolicyLimit"), n)
        for n in moves:
            self.assertTrue(by_name[n]["targetPool"].startswith("pool-%s-" % DEMO[n][1]), by_name[n])

        # the table for people: a header and one line per volume; the operator-wide limit (default 2) binds
        p = self.plan(w)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(lines[0], "policy demo: 11 volumes (hot 5, warm 3, cold 3), 2 to move now")
        self.assertEqual(sum(" GlobalLimit: " in line for line in lines), len(moving) - 2, lines)
        self.assertEqual(lines[1], "steering: 11 by the placement label, 0 by created-by (needs createdBySteering), "
                                   "0 not steerable")
        self.assertEqual(lines[3].split()[:6], ["VOLUME", "IOPS", "CURRENT", "WANTED", "ACTION", "WHY"])
        self.assertEqual(len(lines), 4 + 11)

        # it changed nothing
        self.assertEqual(sum(t["changes"] for t in w.tracked()["byName"].values()), 0)
        for name in DEMO:
            self.assertNotIn(ow.ANN_JOURNAL, w.annotations(name), name)

    def test_unknown_policy_and_unreachable_mayastor(self):
        w = self.world(ow.demo_scenario(), "--apply", ow.os.path.join(ow.REPO, "tests/sandbox/manifests/demo-policy.yaml"))
        p = self.plan(w, "--policy", "nope")
        self.assertEqual(p.returncode, 1)
        self.assertIn("StoragePolicy 'nope' not found", p.stderr)
        # Mayastor unreachable: said so, nothing would move, exit 0 (the plan is printed)
        p = self.plan(w, "--json", "--mayastor-url", "http://127.0.0.1:9")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Mayastor unreachable, no volume would move", p.stderr)
        doc = json.loads(p.stdout)
        self.assertEqual(doc["moves"], 0)
        self.assertTrue(all(v["action"] != "move" for v in doc["volumes"]), doc)


if __name__ == "__main__":
    ow.unittest.main()
