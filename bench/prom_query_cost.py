#!/usr/bin/env python3
"""IOPS query cost against a real Prometheus (docs/prometheus.md, "The queries"): the plain
`sum by (pv_name) (rate(r[w]) + rate(w[w]))` (baseline) against what the operator asks (the rates
summed per volume, then the coverage query), and the former max(rate, deriv) union; alternated,
median of ROUNDS rounds each. Not part of any test: start a world first, e.g.
    tests/sandbox/sandbox up scale-10k --dir /tmp/w && . /tmp/w/env   (wait a window or two)
    python3 bench/prom_query_cost.py $PROMETHEUS_URL 1m 0.8 15"""
import json, statistics, sys, time, urllib.parse, urllib.request

url, window, cov, rounds = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
def secs(w):
    return {"s": 1, "m": 60, "h": 3600}[w[-1]] * int(w[:-1])
W = secs(window)
rate = "sum by (pv_name) (rate(volume_num_read_ops[%s])) + sum by (pv_name) (rate(volume_num_write_ops[%s]))" % (window, window)
plain = "sum by (pv_name) (rate(volume_num_read_ops[%s]) + rate(volume_num_write_ops[%s]))" % (window, window)
coverq = "count by (pv_name) (volume_num_read_ops offset %ds)" % int(W * cov)
old = ("max by (pv_name) (label_replace(sum by (pv_name) (rate(volume_num_read_ops[{w}])) + sum by (pv_name) "
       "(rate(volume_num_write_ops[{w}])), \"cs_fn\", \"rate\", \"\", \"\") or (sum by (pv_name) "
       "(deriv(volume_num_read_ops[{w}])) + sum by (pv_name) (deriv(volume_num_write_ops[{w}]))))").format(w=window)

def ask(q):
    body = urllib.parse.urlencode({"query": q}).encode()
    t0 = time.perf_counter()
    with urllib.request.urlopen(url + "/api/v1/query", body, timeout=60) as r:
        doc = json.load(r)
    dt = time.perf_counter() - t0
    assert doc["status"] == "success", doc
    return dt, len(doc["data"]["result"])

for q in (plain, rate, coverq, old):  # warm up
    ask(q)
t = {"plain": [], "rate": [], "cover": [], "new": [], "old": []}
n = {}
for _ in range(rounds):
    a, n["plain"] = ask(plain); t["plain"].append(a)
    b, n["rate"] = ask(rate); c, n["cover"] = ask(coverq)
    t["rate"].append(b); t["cover"].append(c); t["new"].append(b + c)
    d, n["old"] = ask(old); t["old"].append(d)
med = {k: statistics.median(v) for k, v in t.items()}
for k in ("plain", "rate", "cover", "new", "old"):
    print("%-6s median %.3fs  series %s" % (k, med[k], n.get(k, "-")))
print("new/plain ratio %.2f   (rate+coverage over plain sum by (pv_name) (rate(...)))" % (med["new"] / med["plain"]))
print("new/rate  ratio %.2f   (the coverage query's share)" % (med["new"] / med["rate"]))
print("old/plain ratio %.2f   (the max(rate, deriv) union it replaces)" % (med["old"] / med["plain"]))

# the operator's steady state: the coverage of a volume found covered holds for (1-c)*w, so between
# two coverage queries a batch asks only for the rates (and Prometheus' start time, a small GET); a
# few new volumes have their coverage asked for by name
def get(path):
    t0 = time.perf_counter()
    with urllib.request.urlopen(url + path, timeout=60) as r:
        r.read()
    return time.perf_counter() - t0
names = sorted(json.loads(urllib.request.urlopen(url + "/api/v1/label/pv_name/values", timeout=60).read())["data"])[:5]
fewq = "count by (pv_name) (volume_num_read_ops{pv_name=~\"%s\"} offset %ds)" % ("|".join(names), int(W * cov))
tp, ts, tn = [], [], []
for _ in range(rounds):
    tp.append(ask(plain)[0])
    r = ask(rate)[0] + get("/api/v1/status/runtimeinfo")
    ts.append(r)
    tn.append(r + ask(fewq)[0])
mp, ms, mn = statistics.median(tp), statistics.median(ts), statistics.median(tn)
print("steady state (rates + start time)          %.3fs vs plain %.3fs: ratio %.2f" % (ms, mp, ms / mp))
print("with 5 new volumes (+ coverage by name)    %.3fs vs plain %.3fs: ratio %.2f" % (mn, mp, mn / mp))
print("amortised over (1-c)*w of 60 s reconciles, one full coverage query each: ratio %.2f" %
      ((ms * (max(1.0, (1 - cov) * W / 60) - 1) + med["new"]) / max(1.0, (1 - cov) * W / 60) / mp))
