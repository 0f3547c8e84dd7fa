"""operator.prometheus: Prometheus unreachable -> no volume moves (the original demoted every volume to cold),
MetricsAvailable False with reason PrometheusUnavailable; and it recovers when Prometheus is back."""
import os
import signal
import unittest

import opworld as ow
from opworld import vol

FAST = "5s"


def vols():
    # each would move if its IOPS were known; the idle ones would be demoted by an operator scoring 0 IOPS
    return [vol("busy", "pool-cold-1", 8000), vol("idle-hot", "pool-hot-2", 3000),
            vol("idle-warm", "pool-warm-3", 3000), vol("quiet", "pool-hot-1", 1000)]


class PrometheusDown(ow.OperatorTest):
    def assert_nothing_moved(self, w, op, timeout=40):
        # a reconcile waits out the Prometheus query timeout (10 s) when Prometheus hangs
        st = w.wait_reconcile(ops=[op], timeout=timeout)
        st = w.wait_reconcile(ops=[op], timeout=timeout)
        tr = w.tracked()
        self.assertEqual({n: t["changes"] for n, t in tr["byName"].items() if t["changes"]}, {})
        self.assertEqual(tr["maxExtraVolumes"], 0)
        self.assertEqual(w.journals(), {})
        self.assertEqual([e["reason"] for e in w.events() if e["reason"].startswith("Migration")], [])
        return st

    def test_unreachable_from_the_start(self):
        w = self.world(ow.small_scenario(vols()), "--no-prometheus")
        w.apply_policy(ow.policy(samplingWindow=FAST))
        w.track()
        op = w.operator(env={"PROMETHEUS_URL": "http://127.0.0.1:9"})   # discard port: nothing listens
        ow.poll(lambda: w.sp_status().get("watchedVolumes") == 4, 30, "a status that counts the 4 volumes",
                fail=op.assert_alive)
        cond = w.condition("demo", "MetricsAvailable")
        self.assertEqual((cond["status"], cond["reason"]), ("False", "PrometheusUnavailable"), cond)
        st = self.assert_nothing_moved(w, op)
        cond = w.condition("demo", "MetricsAvailable")
        self.assertEqual((cond["status"], cond["reason"]), ("False", "PrometheusUnavailable"), cond)
        self.assertIn("no volume is moved", cond["message"])
        # the volumes are still counted where they are
        self.assertEqual((st["watchedVolumes"], st["hotVolumes"], st["warmVolumes"], st["coldVolumes"]), (4, 2, 1, 1))
        self.assertEqual(st.get("totalMigrations", 0), 0)
        for n in ("busy", "idle-hot", "idle-warm", "quiet"):
            self.assertNotIn(ow.ANN_LAST, w.annotations(n))
        m = op.metrics()
        self.assertGreaterEqual(m.get("couchestor_request_errors_total", target="prometheus"), 1)
        self.assertEqual(m.get("couchestor_migrations_total", status="success"), 0)
        self.assertEqual(op.healthz()[0], 200)

    def test_stopped_while_running_then_back(self):
        ow.skip_in_asan("waits out the operator's 30 s IOPS cache and 10 s query timeout")
        # every volume starts where its load wants it (in place, or in the warm..high band)
        w = self.world(ow.small_scenario([vol("a", "pool-cold-1", 10), vol("b", "pool-hot-2", 9000),
                                          vol("c", "pool-warm-3", 1000), vol("d", "pool-hot-1", 3000)]))
        w.apply_policy(ow.policy(samplingWindow=FAST))
        w.wait_prom(FAST)
        w.track()
        op = w.operator()
        st = w.wait_reconcile(ops=[op])
        cond = w.condition("demo", "MetricsAvailable")
        self.assertEqual((cond["status"], cond["reason"]), ("True", "Available"))
        # every volume is where its load wants it (band / in place): nothing to do
        self.assertEqual(w.tracked()["maxExtraVolumes"], 0)
        # Prometheus stops answering (SIGSTOP: the process is there, its socket accepts, nothing replies)
        prom = w.pids()["prometheus"]
        os.kill(prom, signal.SIGSTOP)
        w.stopped.append(prom)
        for n, iops in (("a", 9000), ("b", 10), ("c", 10)):
            w.set_load(n, iops)

        def unavailable():
            w.kick()
            c = w.condition("demo", "MetricsAvailable")
            return c if c["status"] == "False" else None
        cond = ow.poll(unavailable, 90, "MetricsAvailable to turn False", interval=3, fail=op.assert_alive)
        self.assertEqual(cond["reason"], "PrometheusUnavailable")
        self.assert_nothing_moved(w, op, timeout=90)
        # back: the new loads are read and acted on
        os.kill(prom, signal.SIGCONT)
        w.stopped.remove(prom)
        w.wait_volume_iops("a", lambda x: x > 8000, FAST, 30)

        def available():
            w.kick()
            c = w.condition("demo", "MetricsAvailable")
            return c if c["status"] == "True" else None
        ow.poll(available, 60, "MetricsAvailable to turn True again", interval=2, fail=op.assert_alive)
        self.wait_tiers(w, {"a": "hot", "b": "cold", "c": "cold", "d": "hot"}, 90, ops=[op])


if __name__ == "__main__":
    unittest.main(verbosity=2)
