"""operator.prometheus: Prometheus unreachable -> no volume moves (the original demoted every volume to cold),
MetricsAvailable False with reason PrometheusUnavailable from the first failed query, one warning per outage;
and it recovers when Prometheus is back. `couchestor plan` against a scripted Prometheus: the volume key
(PV name or CSI volume handle), fallback metric sets and sets that match nothing are said, and an unreadable
Prometheus is one message and exit 1."""
import http.server
import json
import os
import signal
import subprocess
import threading
import unittest
import urllib.parse

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
        # the policy's Event says so once, not every reconcile
        ev = ow.poll(lambda: w.events("PrometheusUnavailable"), 20, "a PrometheusUnavailable Event")
        self.assertEqual([(e["regarding"]["kind"], e["type"]) for e in ev], [("StoragePolicy", "Warning")], ev)
        self.assertEqual(ev[0].get("series", {}).get("count", 1), 1, ev)
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
        ow.skip_in_asan("waits out the operator's 10 s query timeout")
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

        # the first reconcile after the stop already says so: nothing answers from a cache of before
        w.wait_reconcile(ops=[op], timeout=40)
        cond = w.condition("demo", "MetricsAvailable")
        self.assertEqual((cond["status"], cond["reason"]), ("False", "PrometheusUnavailable"), cond)
        self.assert_nothing_moved(w, op, timeout=90)
        # one warning for the outage, however many reconciles it spans
        self.assertEqual(op.logtext(10 ** 7).count("Prometheus cannot be read"), 1, op.logtext())
        # back: the new loads are read and acted on
        os.kill(prom, signal.SIGCONT)
        w.stopped.remove(prom)
        w.wait_volume_iops("a", lambda x: x > 8000, FAST, 30)

        def available():
            w.kick()
            c = w.condition("demo", "MetricsAvailable")
            return c if c["status"] == "True" else None
        ow.poll(available, 60, "MetricsAvailable to turn True again", interval=2, fail=op.assert_alive)
        self.assertIn("Prometheus answers again", op.logtext(10 ** 7))
        self.wait_tiers(w, {"a": "hot", "b": "cold", "c": "cold", "d": "hot"}, 90, ops=[op])


class FakeProm:
    """A scripted Prometheus: each series set is keyed by the label pv_name; `answers` maps a metric name
    to {label value: IOPS}. Rate queries get the IOPS, coverage queries (`count by`) a 1 for each (every
    series covers the window), anything else nothing."""

    def __init__(self):
        self.answers = {}
        self.queries = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                q = form["query"][0]
                fake.queries.append(q)
                result = []
                for metric, by in fake.answers.items():
                    if metric in q:
                        result = [{"metric": {"pv_name": k}, "value": [1, "1" if q.startswith("count by") else
                                                                        str(v)]} for k, v in by.items()]
                        break
                body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class PlanMetrics(ow.OperatorTest):
    def plan(self, w, **env_over):
        env = dict(ow.os.environ)
        for k in ("KUBECONFIG", "MAYASTOR_URL", "MAYASTOR_NAMESPACE"):
            env[k] = w.env[k]
        env.update(env_over)
        return subprocess.run([ow.binary(), "plan", "--json"], env=env, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)

    def iops(self, p):
        self.assertEqual(p.returncode, 0, p.stderr)
        return {v["volume"]: v.get("iops") for v in json.loads(p.stdout)["volumes"]}

    def test_volume_key_fallbacks_and_unreadable(self):
        w = self.world(ow.small_scenario([vol("a", "pool-hot-1", 100), vol("b", "pool-cold-1", 100)]),
                       "--no-prometheus")
        w.apply_policy(ow.policy(samplingWindow=FAST))
        fake = FakeProm()
        self.addCleanup(fake.stop)
        uuids = {w.uuid_of[n]: n for n in ("a", "b")}
        # the exporter labels volumes with their CSI volume handle (the bare uuid)
        fake.answers = {"volume_num_read_ops": {u: 7000 if n == "a" else 3 for u, n in uuids.items()}}
        p = self.plan(w, PROMETHEUS_URL=fake.url, PROMETHEUS_VOLUME_KEY="volume-handle")
        got = self.iops(p)
        self.assertEqual(got, {"pvc-" + u: (7000 if n == "a" else 3) for u, n in uuids.items()}, p.stderr)
        self.assertNotIn("metrics", p.stderr)
        # the same exporter read by PV name: series exist, none for these volumes, and the key is named
        p = self.plan(w, PROMETHEUS_URL=fake.url)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("metrics NoSeriesForVolumes", p.stderr)
        self.assertIn("prometheus_volume_key", p.stderr)
        # the primary set matches nothing, the fallback answers: said
        fake.answers = {"fallback_ops": {"pvc-" + u: 42 for u in uuids}}
        p = self.plan(w, PROMETHEUS_URL=fake.url, PROMETHEUS_IOPS_FALLBACKS="fallback_ops")
        self.assertEqual(set(self.iops(p).values()), {42}, p.stderr)
        self.assertIn("metrics FallbackInUse", p.stderr)
        self.assertIn("primary metric set volume_num_read_ops+volume_num_write_ops matches no series", p.stderr)
        self.assertIn("fallback metric set fallback_ops answers 2 volumes", p.stderr)
        # nothing matches at all
        fake.answers = {}
        p = self.plan(w, PROMETHEUS_URL=fake.url, PROMETHEUS_IOPS_FALLBACKS="fallback_ops")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("metrics NoSeries:", p.stderr)
        # unreadable: one message, exit 1, no per-volume blame
        p = self.plan(w, PROMETHEUS_URL="http://127.0.0.1:9")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(p.stderr.count("cannot read Prometheus at http://127.0.0.1:9"), 1, p.stderr)
        self.assertNotIn("no IOPS sample", p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
