"""Shared helpers of the operator integration suites (operator.*).

A World is the test world (tests/sandbox/sandbox run, in the foreground as our child, dying with us);
an Operator is one `couchestor operator` process against it. Everything waits with deadlines (poll),
never with bare sleeps that race, and every process started here is stopped by the test's cleanups,
also on failure (and by PR_SET_PDEATHSIG if the test runner itself dies).

Environment: CS_BINARY (the couchestor binary), CS_SOURCE_DIR (the repository), CS_BUILD_DIR.
"""
import copy
import ctypes
import datetime
import json
import os
import socket
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.environ.get("CS_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
SANDBOX = os.path.join(REPO, "tests", "sandbox", "sandbox")
SCENARIOS = os.path.join(REPO, "tests", "sandbox", "scenarios")
sys.path.insert(0, os.path.join(REPO, "tests", "fixtures"))
warnings.simplefilter("ignore", ResourceWarning)

from testworld.client import Client  # noqa: E402

GROUP = "/apis/storage.billyronks.io/v1"
SP = GROUP + "/storagepolicies"
ECP = GROUP + "/erasurecodingpolicies"
PVS = "/api/v1/persistentvolumes"
EVENTS = "/apis/events.k8s.io/v1/events"
ANN_JOURNAL = "couchestor.io/migration"
ANN_LAST = "couchestor.io/last-migration"
PLACEMENT = "couchestor.io/placement"
KEEP = os.environ.get("CS_KEEP_WORLDS") == "1"   # keep state dirs (logs) for debugging


def binary():
    b = os.environ.get("CS_BINARY")
    if not b:
        for cand in (os.path.join(os.environ.get("CS_BUILD_DIR", ""), "couchestor"), "/tmp/build-op/couchestor"):
            if cand and os.path.isfile(cand):
                return cand
        raise unittest.SkipTest("CS_BINARY is not set (run through ctest)")
    return b


def is_asan():
    return os.path.basename(os.path.normpath(os.environ.get("CS_BUILD_DIR", ""))) == "asan"


def skip_in_asan(reason):
    """Slow, timing-driven suites run once, in the normal build."""
    if is_asan():
        raise unittest.SkipTest("runs in the normal build only (ASan build: %s)" % reason)


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def _pdeathsig():
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL, 0, 0, 0)
    except OSError:
        pass


def closed_port():
    """A loopback port nothing listens on (bound, then released): an endpoint that refuses connections."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def poll(pred, timeout, what, interval=0.1, fail=None):
    """Calls pred until it returns a true value (returned) or the deadline passes (AssertionError).
    fail(): optional check run each round that raises when waiting is pointless."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = pred()
            last_exc = None
        except (OSError, ValueError, KeyError) as e:   # a transient HTTP/JSON hiccup counts as "not yet"
            v, last_exc = None, e
        if v:
            return v
        if fail:
            fail()
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0fs waiting for %s%s" % (
                timeout, what, " (last error: %s)" % last_exc if last_exc else ""))
        time.sleep(interval)


def hold(pred, seconds, what, interval=0.2):
    """Asserts pred() stays true for `seconds` (checked every interval)."""
    deadline = time.monotonic() + seconds
    while True:
        if not pred():
            raise AssertionError("%s stopped holding" % what)
        if time.monotonic() > deadline:
            return
        time.sleep(interval)


def rfc3339(s):
    s = s.replace("Z", "+00:00")
    if "." in s:
        head, frac = s.split(".", 1)
        tz = frac[frac.find("+"):] if "+" in frac else ""
        s = head + tz
    return datetime.datetime.fromisoformat(s).timestamp()


# ------------------------------------------------------------------------------ scenarios and policies
def load_scenario(name):
    with open(os.path.join(SCENARIOS, name + ".json")) as f:
        return json.load(f)


def demo_scenario(steady=True):
    """The demo scenario; with steady=True its two time-varying loads are replaced by their final values
    (analytics-db: step 1000 -> 9000 at 60 s, backup-db: ramp 100 -> 6000 over 120 s), so that a test
    does not wait minutes for the step and the ramp."""
    s = load_scenario("demo")
    if steady:
        for v in s["volumes"]:
            if v["name"] == "analytics-db":
                v["load"] = {"kind": "steady", "iops": 9000}
            elif v["name"] == "backup-db":
                v["load"] = {"kind": "steady", "iops": 6000}
    return s


def small_scenario(volumes, name="optest", tiers=("hot", "warm", "cold"), nodes=3, sim=None, capacity=None,
                   faults=None):
    """The demo's nodes and pools (tiers per node) with the given volumes
    ({name, size, pools, load, pvLabels, replicas, ...})."""
    base = load_scenario("demo")
    pools = [p for p in base["pools"] if p["labels"]["storage-tier"] in tiers
             and int(p["node"].split("-")[1]) <= nodes]
    if capacity:
        for p in pools:
            p["capacity"] = capacity.get(p["id"], p["capacity"])
    out = {"name": name, "namespace": "mayastor", "nodes": base["nodes"][:nodes], "pools": pools,
           "storageClasses": base["storageClasses"], "volumes": volumes, "apply": ["deploy/crds/*.yaml"],
           "createPVCs": False, "sim": dict({"rebuildRate": "1Gi", "reconcilePeriod": 10}, **(sim or {}))}
    if faults:
        out["faults"] = faults
    return out


def vol(name, pool, iops, size="2Gi", app="database", **kw):
    d = {"name": name, "size": size, "pools": [pool] if isinstance(pool, str) else list(pool),
         "load": {"kind": "steady", "iops": iops}, "pvLabels": {"app": app}}
    if not isinstance(pool, str):
        d["replicas"] = len(pool)
    d.update(kw)
    return d


def policy(name="demo", three_tier=True, **spec):
    """The demo policy (tests/sandbox/manifests/demo-policy.yaml) with spec overrides; three_tier=False
    turns the warm tier off."""
    s = {"highWatermarkIOPS": 5000, "warmWatermarkIOPS": 2000, "lowWatermarkIOPS": 500, "samplingWindow": "30s",
         "cooldownPeriod": "10m", "storageClassName": "mayastor",
         "volumeSelector": {"matchLabels": {"app": "database"}},
         "hotPoolSelector": {"matchLabels": {"storage-tier": "hot"}},
         "warmPoolSelector": {"matchLabels": {"storage-tier": "warm"}},
         "coldPoolSelector": {"matchLabels": {"storage-tier": "cold"}},
         "maxConcurrentMigrations": 3, "migrationTimeout": "5m"}
    if not three_tier:
        s["warmWatermarkIOPS"] = 0
        del s["warmPoolSelector"]
    for k, v in spec.items():
        if v is None:
            s.pop(k, None)
        else:
            s[k] = v
    return {"apiVersion": "storage.billyronks.io/v1", "kind": "StoragePolicy", "metadata": {"name": name},
            "spec": s}


# ------------------------------------------------------------------------------ the world
class World:
    """A test world from a scenario dict (or name), started with `sandbox run` as our child."""

    def __init__(self, scenario, *extra, timeout=120, tag="world"):
        self.dir = tempfile.mkdtemp(prefix="cs-optest-%s-" % tag)
        if isinstance(scenario, dict):
            path = os.path.join(self.dir, "scenario-in.json")
            with open(path, "w") as f:
                json.dump(scenario, f)
            self.scenario = scenario
        else:
            path = scenario
            self.scenario = load_scenario(scenario)
        self.out = open(os.path.join(self.dir, "sandbox.out"), "wb")
        t0 = time.monotonic()
        self.p = subprocess.Popen([sys.executable, SANDBOX, "run", path, "--dir", self.dir] + list(extra),
                                  stdout=self.out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  preexec_fn=_pdeathsig)
        self.operators = []
        self.stopped = []   # pids SIGSTOPped by a test (continued at stop)
        try:
            def ready():
                if self.p.poll() is not None:
                    raise AssertionError("sandbox exited %s: %s" % (self.p.returncode, self.output()))
                return os.path.exists(os.path.join(self.dir, "ready"))
            poll(ready, timeout, "the test world to start", interval=0.1)
        except BaseException:
            self.stop()
            raise
        self.env = {}
        with open(os.path.join(self.dir, "env")) as f:
            for line in f:
                k, v = line[len("export "):].rstrip("\n").split("=", 1)
                self.env[k] = v.strip("'")
        log("world %s ready in %.1fs (%s)" % (tag, time.monotonic() - t0, self.dir))
        self.kube = Client(self.env["KUBE_URL"], self.env["KUBE_TOKEN"])
        self.kctl = Client(self.env["KUBE_CONTROL_URL"])
        self.sim = Client(self.env["MAYASTOR_URL"])
        self.ctl = Client(self.env["MAYASTOR_CONTROL_URL"])
        self.prom_url = self.env.get("PROMETHEUS_URL", "")
        st = self.state()
        self.uuid_of = {v["name"]: u for u, v in self._by_uuid(st).items()}   # scenario name -> uuid
        self.names = {u: n for n, u in self.uuid_of.items()}

    def output(self):
        try:
            with open(os.path.join(self.dir, "sandbox.out")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def stop(self):
        for op in list(getattr(self, "operators", [])):
            op.stop()
        for pid in getattr(self, "stopped", []):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.out.close()
        if not KEEP:
            shutil.rmtree(self.dir, ignore_errors=True)

    def pids(self):
        out = {}
        try:
            with open(os.path.join(self.dir, "pids")) as f:
                for line in f:
                    name, pid = line.split()
                    out[name] = int(pid)
        except FileNotFoundError:
            pass
        return out

    # -------------------------------------------------------------- Mayastor simulator
    def _by_uuid(self, st):
        out = {}
        names = {}
        for i, v in enumerate(self.scenario.get("volumes", [])):
            names[v.get("uuid") or _volume_uuid(self.scenario.get("name", "scenario"), i)] = v.get("name")
        for v in st["volumes"]:
            u = v["spec"]["uuid"]
            out[u] = dict(v, name=names.get(u, u))
        return out

    def state(self):
        code, st = self.ctl.get("/state")
        assert code == 200, (code, st)
        return st

    def volumes(self):
        """uuid -> simulator volume JSON (+ name, load, nexusInfo)."""
        return self._by_uuid(self.state())

    def volume(self, name_or_uuid):
        u = self.uuid_of.get(name_or_uuid, name_or_uuid)
        code, v = self.sim.get("/v0/volumes/" + u)
        assert code == 200, (code, v)
        return v

    def pools(self):
        code, ps = self.sim.get("/v0/pools")
        assert code == 200, (code, ps)
        return {p["id"]: p for p in ps}

    def pool_tier(self):
        return {pid: p["spec"]["labels"].get("storage-tier") for pid, p in self.pools().items()}

    def replica_pools(self, name_or_uuid):
        v = self.volume(name_or_uuid)
        return sorted(t["pool"] for t in v["state"]["replica_topology"].values())

    def tiers_of(self, name_or_uuid, tiers=None):
        tiers = tiers or self.pool_tier()
        return sorted(tiers[p] for p in self.replica_pools(name_or_uuid))

    def control(self, method, path, body=None):
        code, out = self.ctl.req(method, path, body)
        assert code == 200, (method, path, code, out)
        return out

    def set_load(self, name_or_uuid, iops):
        u = self.uuid_of.get(name_or_uuid, name_or_uuid)
        prof = iops if isinstance(iops, dict) else {"kind": "steady", "iops": iops}
        return self.control("POST", "/load", {"volume": u, "profile": prof})

    def track(self, names=None):
        """Starts the simulator's replica tracking (min healthy, max replicas, max extra volumes at once)."""
        uu = [self.uuid_of.get(n, n) for n in names] if names else None
        return self.control("POST", "/track", {"volumes": uu} if uu else {})

    def tracked(self):
        rep = self.control("GET", "/track")
        rep["byName"] = {self.names.get(u, u): t for u, t in rep["volumes"].items()}
        return rep

    def sim_config(self, **kw):
        return self.control("POST", "/config", kw)

    # -------------------------------------------------------------- Kubernetes
    def k(self, method, path, body=None, ok=(200, 201)):
        code, out = self.kube.req(method, path, body,
                                  ctype="application/merge-patch+json" if method == "PATCH" else "application/json")
        assert code in ok, (method, path, code, out)
        return out

    def apply_policy(self, obj):
        code, out = self.kube.post(SP, obj)
        assert code == 201, (code, out)
        return out

    def create(self, path, obj):
        code, out = self.kube.post(path, obj)
        assert code == 201, (code, out)
        return out

    def sp(self, name="demo"):
        return self.k("GET", SP + "/" + name)

    def sp_status(self, name="demo"):
        return self.sp(name).get("status") or {}

    def patch_sp(self, name, spec=None, annotations=None):
        body = {}
        if spec:
            body["spec"] = spec
        if annotations:
            body["metadata"] = {"annotations": annotations}
        return self.k("PATCH", SP + "/" + name, body)

    def kick(self, name="demo"):
        """Makes the operator reconcile its policies soon rather than at its 60 s requeue: a change of a
        PersistentVolume's labels (a change of what the plan reads of a PV enqueues every policy; other
        PV changes, and an update of the policy object that does not change its generation, do not)."""
        self._kicks = getattr(self, "_kicks", 0) + 1
        pv = "pvc-" + sorted(self.names)[0]
        return self.k("PATCH", PVS + "/" + pv,
                      {"metadata": {"labels": {"test.couchestor.io/kick": str(self._kicks)}}})

    def condition(self, name, ctype):
        for c in self.sp_status(name).get("conditions") or []:
            if c["type"] == ctype:
                return c
        return None

    def pv(self, name_or_uuid):
        u = self.uuid_of.get(name_or_uuid, name_or_uuid)
        return self.k("GET", PVS + "/pvc-" + u)

    def pv_name(self, name_or_uuid):
        return "pvc-" + self.uuid_of.get(name_or_uuid, name_or_uuid)

    def annotations(self, name_or_uuid):
        return self.pv(name_or_uuid)["metadata"].get("annotations") or {}

    def events(self, reason=None, volume=None):
        items = self.k("GET", EVENTS)["items"]
        out = []
        for e in items:
            if reason and e.get("reason") != reason:
                continue
            if volume and (e.get("regarding") or {}).get("name") != self.pv_name(volume):
                continue
            out.append(e)
        return out

    def event_reasons(self, volume):
        return [e["reason"] for e in sorted(self.events(volume=volume), key=lambda e: e.get("eventTime") or "")]

    def journals(self):
        """PV name -> journal annotation, for every PV that has one."""
        out = {}
        for pv in self.k("GET", PVS)["items"]:
            j = (pv["metadata"].get("annotations") or {}).get(ANN_JOURNAL)
            if j:
                out[pv["metadata"]["name"]] = j
        return out

    def placement_labels(self):
        return {pid: p["spec"]["labels"].get(PLACEMENT) for pid, p in self.pools().items()}

    # -------------------------------------------------------------- Prometheus
    def prom_iops(self, window="30s"):
        """pv_name -> IOPS as the operator's query computes it."""
        q = "sum by (pv_name) (rate(volume_num_read_ops[%s]) + rate(volume_num_write_ops[%s]))" % (window, window)
        with urllib.request.urlopen(self.prom_url + "/api/v1/query?query=" + urllib.parse.quote(q), timeout=5) as r:
            d = json.load(r)
        return {s["metric"].get("pv_name"): float(s["value"][1]) for s in d["data"]["result"]}

    def wait_prom(self, window="30s", timeout=30, tolerance=0.15):
        """Waits until Prometheus gives every published volume its scripted IOPS (within tolerance), so
        that the operator's first reconcile already sees them."""
        want = {}
        for u, v in self.volumes().items():
            ld = v.get("load") or {}
            if v["spec"].get("target") and ld.get("kind", "steady") == "steady":
                want["pvc-" + u] = float(ld.get("iops", 0) or (ld.get("read_iops", 0) + ld.get("write_iops", 0)))

        def good():
            got = self.prom_iops(window)
            return all(k in got and abs(got[k] - w) <= max(5.0, w * tolerance) for k, w in want.items())
        poll(good, timeout, "Prometheus to report the scripted IOPS", interval=0.5)

    def wait_volume_iops(self, name, pred, window="5s", timeout=30):
        pv = self.pv_name(name)
        return poll(lambda: (lambda g: pred(g[pv]) if pv in g else False)(self.prom_iops(window)), timeout,
                    "Prometheus IOPS of %s" % name, interval=0.5)

    def wait_reconcile(self, policy_name="demo", timeout=40, ops=()):
        """Kicks the policy until a reconcile that started after now has written its status."""
        after = int(time.time()) + 1
        state = {"next": 0.0}

        def done():
            if time.monotonic() >= state["next"]:
                self.kick(policy_name)
                state["next"] = time.monotonic() + 2.0
            t = self.sp_status(policy_name).get("lastReconcileTime")
            return t and rfc3339(t) >= after

        def fail():
            for op in ops:
                op.assert_alive()
        poll(done, timeout, "a reconcile of %s" % policy_name, interval=0.2, fail=fail)
        return self.sp_status(policy_name)

    # -------------------------------------------------------------- operators
    def operator(self, *args, **kw):
        op = Operator(self, *args, **kw)
        self.operators.append(op)
        return op


def _volume_uuid(scenario, i):
    import uuid as _uuid
    return str(_uuid.uuid5(_uuid.UUID("6c1a2f5e-8e4b-4c0e-9a55-0c0c5e5e7a11"), "%s/volume/%d" % (scenario, i)))


# ------------------------------------------------------------------------------ the operator
class Operator:
    """`couchestor operator` against a world. Default flags: loopback ports chosen by the kernel, no leader
    election, 1 s sync poll."""

    DEFAULTS = ("--metrics-addr", "127.0.0.1:0", "--health-addr", "127.0.0.1:0", "--sync-poll-interval-seconds", "1")

    def __init__(self, world, *args, env=None, leader_election=False, wait_ports=True, tag="op"):
        self.world = world
        self.n = len(world.operators)
        self.log_path = os.path.join(world.dir, "operator-%d-%s.log" % (self.n, tag))
        e = dict(os.environ)
        for k in ("KUBECONFIG", "PROMETHEUS_URL", "MAYASTOR_URL", "MAYASTOR_NAMESPACE"):
            e[k] = world.env[k]
        e.update(env or {})
        argv = [binary(), "operator"] + list(self.DEFAULTS)
        if not leader_election:
            argv.append("--leader-election=false")
        argv += list(args)
        self.argv = argv
        self.logf = open(self.log_path, "ab")
        self.p = subprocess.Popen(argv, stdout=self.logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  env=e, preexec_fn=_pdeathsig, cwd=world.dir)
        self.pid = self.p.pid
        self.metrics_port = self.health_port = None
        if wait_ports:
            m = poll(lambda: self._ports() or self._dead(), 30, "the operator to serve metrics", interval=0.05)
            if m is True:
                raise AssertionError("operator exited %s: %s" % (self.p.returncode, self.logtext()))

    def _dead(self):
        return self.p.poll() is not None

    def _ports(self):
        m = re.search(rb"metrics_port=(\d+) health_port=(\d+)", self._read())
        if m:
            self.metrics_port, self.health_port = int(m.group(1)), int(m.group(2))
            return m
        return None

    def _read(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()
        except OSError:
            return b""

    def logtext(self, tail=6000):
        return self._read().decode(errors="replace")[-tail:]

    def alive(self):
        return self.p.poll() is None

    def assert_alive(self):
        if not self.alive():
            raise AssertionError("operator exited %s:\n%s" % (self.p.returncode, self.logtext()))

    def _get(self, port, path, timeout=3):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def healthz(self):
        return self._get(self.health_port, "/healthz")

    def readyz(self):
        return self._get(self.health_port, "/readyz")

    def metrics(self):
        """{(name, frozenset(labels.items())): value}, plus .get(name, **labels)."""
        code, text = self._get(self.metrics_port, "/metrics")
        assert code == 200, (code, text)
        return Metrics(text)

    def kill(self):
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
            self.p.wait()

    def term(self, timeout=30):
        """SIGTERM and wait: returns the exit code."""
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                raise AssertionError("operator did not stop within %ds of SIGTERM" % timeout)
        return self.p.returncode

    def stop(self):
        try:
            if self.alive():
                self.term(20)
        except AssertionError:
            pass
        finally:
            if self.alive():
                self.p.kill()
                self.p.wait()
            self.logf.close()
            if self in self.world.operators:
                self.world.operators.remove(self)


class Metrics:
    LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')

    def __init__(self, text):
        self.text = text
        self.samples = []
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            m = self.LINE.match(line)
            if not m:
                continue
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
            self.samples.append((m.group(1), labels, float(m.group(4))))

    def get(self, name, **labels):
        for n, l, v in self.samples:
            if n == name and all(l.get(k) == str(val) for k, val in labels.items()):
                return v
        return None


# ------------------------------------------------------------------------------ test case base
class OperatorTest(unittest.TestCase):
    """Base: self.world(...) and self.op(...) register their cleanups; failures print the logs."""

    def world(self, scenario, *extra, tag=None):
        w = World(scenario, *extra, tag=tag or self._testMethodName.replace("test_", "")[:24])
        self.addCleanup(w.stop)
        self._worlds = getattr(self, "_worlds", []) + [w]
        return w

    def _dump(self):
        for w in getattr(self, "_worlds", []):
            for op in list(w.operators):
                sys.stderr.write("---- %s (%s)\n%s\n" % (op.log_path, " ".join(op.argv[2:]), op.logtext(4000)))

    def tearDown(self):
        outcome = getattr(self, "_outcome", None)
        res = getattr(outcome, "result", None)
        failed = not getattr(outcome, "success", True) or any(
            t is self for t, _ in list(getattr(res, "failures", [])) + list(getattr(res, "errors", [])))
        if failed or os.environ.get("CS_VERBOSE") == "1":
            self._dump()

    def wait_tiers(self, w, want, timeout=90, ops=(), kick=None):
        """Waits until each named volume has exactly one replica, on the wanted tier, and no journal.
        kick: a policy name to kick every 3 s (a retry after a failed attempt otherwise waits for the
        operator's 60 s requeue)."""
        nxt = [time.monotonic() + 3]

        def fail():
            for op in ops:
                op.assert_alive()
            if kick and time.monotonic() > nxt[0]:
                w.kick(kick)
                nxt[0] = time.monotonic() + 3

        def done():
            tiers = w.pool_tier()
            for name, t in want.items():
                if w.tiers_of(name, tiers) != [t]:
                    return False
            return not w.journals()
        try:
            poll(done, timeout, "volumes to reach their tiers", interval=0.5, fail=fail)
        except AssertionError:
            tiers = w.pool_tier()
            now = {n: w.tiers_of(n, tiers) for n in want}
            anns = {n: {k: v for k, v in w.annotations(n).items() if k.startswith("couchestor.io/")}
                    for n in want if now[n] != [want[n]]}
            raise AssertionError("volumes did not reach their tiers within %ds: want %s, have %s, journals %s; "
                                 "annotations of the others: %s" % (timeout, want, now, list(w.journals()), anns))


def history(status):
    return status.get("migrationHistory") or []
