#!/usr/bin/env python3
"""deploy.kustomize: resolve deploy/'s kustomize layout and check what it makes (issue 19 part 2, issue 14 part 10).

1. Resolve, with the resolver in kustomize.py (no kustomize binary needed): the base deploy/operator, the
   overlays deploy/overlays/openebs and deploy/overlays/mayastor, and each overlay with the optional
   components monitoring and io-engine-monitoring added (as a user's overlay would).
2. Where `kubectl` is on PATH, `kubectl kustomize` of the same directories must give the same objects
   (order aside): the resolver's semantics are checked against kustomize's own.
3. Each resolved set: every object has apiVersion, kind and metadata.name, ids are unique; namespaced
   kinds carry a namespace and cluster-scoped ones none; the operator's objects are in the operator's
   namespace (deploy/operator/kustomization.yaml), the Mayastor-side ones in the overlay's; every
   RoleBinding/ClusterRoleBinding subject is the operator's ServiceAccount in the operator's namespace
   and every roleRef exists; the Deployment's MAYASTOR_NAMESPACE is the overlay's and LEASE_NAMESPACE
   comes from the pod's namespace; Service, ServiceMonitor and PodMonitor select what they should.
4. RBAC: the permissions the bindings grant, per scope (cluster, the operator's namespace, Mayastor's),
   equal the table REQUIRED below, and every resource the code in src/ requests is in that table.
5. Examples: the tiered StorageClass and the labelled DiskPools; every example StoragePolicy's pool
   selectors select example DiskPools.
6. The plain Prometheus scrape job: `promtool check config`, and its relabelling keeps the io-engine
   exporter's port only.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
DEPLOY = os.path.join(REPO, "deploy")
sys.path.insert(0, HERE)

import kustomize  # noqa: E402

# The two common installs and the namespace Mayastor lives in for each.
OVERLAYS = {"openebs": "openebs", "mayastor": "mayastor"}
OPTIONAL = ["components/monitoring", "components/io-engine-monitoring"]
SA = "couchestor-operator"

# What the operator's code requests, by scope; docs/operator.md ("Permissions") lists the same.
# (group, resource) -> verbs, with where the code asks.
REQUIRED = {
    "cluster": {
        ("storage.billyronks.io", "storagepolicies"): {"list", "watch"},         # informers, couchestor plan
        ("storage.billyronks.io", "erasurecodingpolicies"): {"list", "watch"},   # informers
        ("storage.billyronks.io", "storagepolicies/status"): {"patch"},          # cs_kube_patch_status
        ("storage.billyronks.io", "erasurecodingpolicies/status"): {"patch"},
        ("", "persistentvolumes"): {"list", "watch", "patch"},   # informer, /readyz probe, journal patches
        ("", "persistentvolumeclaims"): {"list", "watch"},       # informer (volumeSelector)
        ("", "namespaces"): {"list", "watch"},                   # informer (namespaceSelector)
        ("storage.k8s.io", "storageclasses"): {"list", "watch"},  # steerability (issue 14 part 1)
        ("events.k8s.io", "events"): {"create", "patch"},        # src/kube/events.c
        ("", "events"): {"create", "patch"},                     # the same, core/v1 fallback
        ("authorization.k8s.io", "selfsubjectaccessreviews"): {"create"},  # couchestor doctor
    },
    "operator": {
        ("coordination.k8s.io", "leases"): {"get", "create", "update"},  # src/kube/lease.c
    },
    "mayastor": {
        ("openebs.io", "diskpools"): {"list", "watch"},  # informer in mayastor_namespace, couchestor plan
        ("", "services"): {"list"},                      # api-rest discovery (src/mayastor/kube.c)
    },
}

failures = []


def check(ok, what, detail=""):
    print("%s %s%s" % ("ok  " if ok else "FAIL", what, (" — " + str(detail)) if detail and not ok else ""),
          flush=True)
    if not ok:
        failures.append(what)
    return ok


def operator_namespace():
    with open(os.path.join(DEPLOY, "operator", "kustomization.yaml")) as f:
        return yaml.safe_load(f)["namespace"]


def with_components(tmp, overlay):
    """A user's overlay: the given overlay plus the optional components, in a directory of its own."""
    d = os.path.join(tmp, "with-monitoring-" + overlay)
    os.makedirs(d)
    rel = os.path.relpath(DEPLOY, d)
    k = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
         "resources": ["%s/overlays/%s" % (rel, overlay)], "components": ["%s/%s" % (rel, c) for c in OPTIONAL]}
    with open(os.path.join(d, "kustomization.yaml"), "w") as f:
        yaml.safe_dump(k, f)
    return d


def canon(objs):
    return sorted(json.dumps(o, sort_keys=True) for o in objs)


def compare_with_kubectl(name, d, objs):
    kubectl = shutil.which("kubectl")
    if not kubectl:
        print("skip kubectl kustomize %s: no kubectl on PATH (the resolver alone is checked)" % name, flush=True)
        return
    r = subprocess.run([kubectl, "kustomize", d], capture_output=True, text=True, timeout=120)
    if not check(r.returncode == 0, "kubectl kustomize %s succeeds" % name, r.stderr[-1500:]):
        return
    theirs = [o for o in yaml.safe_load_all(r.stdout) if o is not None]
    mine, got = canon(objs), canon(theirs)
    diff = ""
    if mine != got:
        only_m = sorted(set(mine) - set(got))
        only_k = sorted(set(got) - set(mine))
        diff = "resolver only: %s; kubectl only: %s" % ([x[:300] for x in only_m], [x[:300] for x in only_k])
    check(mine == got, "kubectl kustomize %s gives the resolver's %d objects" % (name, len(objs)), diff)


def selects(sel, labels):
    labels = labels or {}
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e["key"], e["operator"], e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and k in labels and labels[k] in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def validate(name, objs, op_ns, maya_ns):
    """Structure, namespaces, references; returns the RBAC grants by scope."""
    ids = [kustomize.object_id(o) for o in objs]
    check(len(ids) == len(set(ids)), "%s: object ids are unique" % name)
    bad = [kustomize.describe(o) for o in objs
           if not (o.get("apiVersion") and o.get("kind") and (o.get("metadata") or {}).get("name"))]
    check(not bad, "%s: every object has apiVersion, kind, metadata.name" % name, bad)
    by = {}
    for o in objs:
        by.setdefault(o["kind"], []).append(o)
    # the namespace of each object
    maya_side = {("RoleBinding", "couchestor-mayastor"), ("PodMonitor", "mayastor-io-engine")}
    wrong = []
    for o in objs:
        ns = o["metadata"].get("namespace")
        key = (o["kind"], o["metadata"]["name"])
        if o["kind"] in kustomize.CLUSTER_SCOPED:
            if ns:
                wrong.append("%s: cluster-scoped, has namespace %s" % (kustomize.describe(o), ns))
        elif key in maya_side:
            if maya_ns is None or ns != maya_ns:
                wrong.append("%s: want Mayastor's namespace %s" % (kustomize.describe(o), maya_ns))
        elif ns != op_ns:
            wrong.append("%s: want the operator's namespace %s" % (kustomize.describe(o), op_ns))
    check(not wrong, "%s: namespaced objects in %s (operator)%s, cluster-scoped ones in none"
          % (name, op_ns, ", %s (Mayastor)" % maya_ns if maya_ns else ""), wrong)
    nss = [o["metadata"]["name"] for o in by.get("Namespace", [])]
    check(nss == [op_ns], "%s: the one Namespace object is the operator's (%s)" % (name, op_ns), nss)
    if maya_ns is None:
        check(not any(k in maya_side for k in ((o["kind"], o["metadata"]["name"]) for o in objs)),
              "%s: the base has nothing in Mayastor's namespace" % name)
    # bindings: subjects and roleRefs
    sas = {(o["metadata"].get("namespace"), o["metadata"]["name"]) for o in by.get("ServiceAccount", [])}
    check(sas == {(op_ns, SA)}, "%s: one ServiceAccount, %s/%s" % (name, op_ns, SA), sas)
    grants = {"cluster": {}, "operator": {}, "mayastor": {}}
    for b in by.get("ClusterRoleBinding", []) + by.get("RoleBinding", []):
        subj = [(s.get("kind"), s.get("namespace"), s.get("name")) for s in b.get("subjects") or []]
        check(subj == [("ServiceAccount", op_ns, SA)],
              "%s: %s subjects: ServiceAccount %s/%s" % (name, kustomize.describe(b), op_ns, SA), subj)
        ref = b["roleRef"]
        if ref["kind"] == "ClusterRole":
            roles = [r for r in by.get("ClusterRole", []) if r["metadata"]["name"] == ref["name"]]
        else:
            roles = [r for r in by.get("Role", []) if r["metadata"]["name"] == ref["name"]
                     and r["metadata"].get("namespace") == b["metadata"].get("namespace")]
        if not check(len(roles) == 1, "%s: %s roleRef %s %s exists" % (name, kustomize.describe(b), ref["kind"],
                                                                       ref["name"])):
            continue
        if b["kind"] == "ClusterRoleBinding":
            scope = "cluster"
        else:
            bns = b["metadata"].get("namespace")
            scope = "operator" if bns == op_ns else "mayastor" if bns == maya_ns else "other:" + str(bns)
            grants.setdefault(scope, {})
        for rule in roles[0].get("rules", []):
            for g in rule.get("apiGroups", []):
                for res in rule.get("resources", []):
                    grants[scope].setdefault((g, res), set()).update(rule.get("verbs", []))
    # the Deployment
    deps = by.get("Deployment", [])
    if check(len(deps) == 1, "%s: one Deployment" % name):
        dep = deps[0]
        pod = dep["spec"]["template"]
        check(selects(dep["spec"]["selector"], pod["metadata"].get("labels")),
              "%s: Deployment selector matches its pod labels" % name)
        check(pod["spec"].get("serviceAccountName") == SA, "%s: pod runs as %s" % (name, SA))
        c = [x for x in pod["spec"]["containers"] if x["name"] == "operator"][0]
        env = {e["name"]: e for e in c.get("env", [])}
        want = {"name": "MAYASTOR_NAMESPACE", "value": maya_ns} if maya_ns else None
        check(env.get("MAYASTOR_NAMESPACE") == want,
              "%s: MAYASTOR_NAMESPACE %s" % (name, "is %s" % maya_ns if maya_ns else "unset (the built-in default)"),
              env.get("MAYASTOR_NAMESPACE"))
        check(env.get("LEASE_NAMESPACE", {}).get("valueFrom") == {"fieldRef": {"fieldPath": "metadata.namespace"}},
              "%s: LEASE_NAMESPACE is the pod's namespace (downward API)" % name, env.get("LEASE_NAMESPACE"))
        args = " ".join(c.get("args", []) + c.get("command", []))
        check("namespace" not in args, "%s: no namespace in the container's args" % name, args)
        ports = {p["name"] for p in c.get("ports", [])}
        for svc in by.get("Service", []):
            check(selects({"matchLabels": svc["spec"]["selector"]}, pod["metadata"]["labels"])
                  and all(p.get("targetPort") in ports for p in svc["spec"]["ports"]),
                  "%s: Service %s selects the operator's pods and named ports" % (name, svc["metadata"]["name"]))
    for sm in by.get("ServiceMonitor", []):
        svcs = [s for s in by.get("Service", []) if s["metadata"].get("namespace") == sm["metadata"].get("namespace")
                and selects(sm["spec"]["selector"], s["metadata"].get("labels"))]
        check(len(svcs) == 1 and all(any(p["name"] == e["port"] for p in svcs[0]["spec"]["ports"])
                                     for e in sm["spec"]["endpoints"]),
              "%s: ServiceMonitor %s selects the metrics Service and its port" % (name, sm["metadata"]["name"]))
    for pm in by.get("PodMonitor", []):
        # the io-engine pods of Mayastor's chart: label app=io-engine, exporter port "metrics" (9502)
        io_engine_pod = {"app": "io-engine", "openebs.io/release": "openebs", "openebs.io/logging": "true"}
        check(selects(pm["spec"]["selector"], io_engine_pod) and "namespaceSelector" not in pm["spec"]
              and [(e.get("port"), e.get("path")) for e in pm["spec"]["podMetricsEndpoints"]] == [("metrics", "/metrics")],
              "%s: PodMonitor %s selects io-engine pods in its namespace, port metrics, /metrics"
              % (name, pm["metadata"]["name"]))
    return grants


def check_rbac(name, grants):
    for scope, want in REQUIRED.items():
        got = grants.get(scope, {})
        if name.startswith("base") and scope == "mayastor":
            check(not got, "%s: the base grants nothing in a Mayastor namespace" % name, got)
            continue
        missing = {k: sorted(v - got.get(k, set())) for k, v in want.items() if v - got.get(k, set())}
        extra = {k: sorted(v - want.get(k, set())) for k, v in got.items() if v - want.get(k, set())}
        check(not missing, "%s: RBAC grants in scope %s everything the code requests" % (name, scope), missing)
        check(not extra, "%s: RBAC grants in scope %s nothing more (least privilege)" % (name, scope), extra)
    other = [s for s in grants if s not in REQUIRED]
    check(not other, "%s: no grants in any other namespace" % name, other)


# --- what the code requests ------------------------------------------------------------------------
CALL_VERBS = {"cs_kube_list": ["list"], "cs__informer": ["list", "watch"], "cs_informer_new": ["list", "watch"],
              "cs_kube_get": ["get"], "cs_kube_create": ["create"], "cs_kube_update": ["update"],
              "cs_kube_patch": ["patch"], "cs_kube_delete": ["delete"]}
SUBRESOURCE_CALLS = {"cs_kube_patch_status": ["patch"], "cs_kube_update_status": ["update"],
                     "cs__op_patch_status": ["patch"]}


def resource_macros():
    """CS_..._RESOURCE / CS_KUBE_RES_... macro -> (group, plural), from the public headers."""
    out = {}
    for fn in os.listdir(os.path.join(REPO, "include", "couchestor")):
        with open(os.path.join(REPO, "include", "couchestor", fn)) as f:
            text = f.read()
        for m in re.finditer(r'#define\s+(CS_\w+)\s+(?:\\\s*)?CS_KUBE_RES\(\s*"([^"]*)",\s*"[^"]*",\s*"([^"]+)"', text):
            out[m.group(1)] = (m.group(2), m.group(3))
    return out


def code_requests():
    """(group, resource, verb) the operator and the CLI request, found in src/controller and src/cli, plus the
    requests of the library code they use (each checked to still be in its file)."""
    macros = resource_macros()
    found = set()
    for sub in ("controller", "cli"):
        d = os.path.join(REPO, "src", sub)
        for fn in sorted(os.listdir(d)):
            if not fn.endswith(".c"):
                continue
            with open(os.path.join(d, fn)) as f:
                text = f.read()
            for m in re.finditer(r"\b(cs_\w+|cs__\w+)\(([^;()]*?,)?\s*(CS_\w+)\b", text):
                fn_name, macro = m.group(1), m.group(3)
                if macro not in macros:
                    continue
                g, plural = macros[macro]
                for v in CALL_VERBS.get(fn_name, []):
                    found.add((g, plural, v))
                for v in SUBRESOURCE_CALLS.get(fn_name, []):
                    found.add((g, plural + "/status", v))
            for m in re.finditer(r'"/api/v1/(persistentvolumes)\?', text):
                found.add(("", m.group(1), "list"))
    library = [  # file, marker that must still be there, the requests it stands for
        ("src/kube/lease.c", '"leases"', [("coordination.k8s.io", "leases", v) for v in ("get", "create", "update")]),
        ("src/kube/events.c", "cs_kube_create(", [(g, "events", v) for g in ("", "events.k8s.io")
                                                  for v in ("create", "patch")]),
        ("src/kube/access.c", "selfsubjectaccessreviews", [("authorization.k8s.io", "selfsubjectaccessreviews",
                                                            "create")]),
        ("src/mayastor/kube.c", "/services?labelSelector=", [("", "services", "list")]),
    ]
    for path, marker, reqs in library:
        with open(os.path.join(REPO, path)) as f:
            present = marker in f.read()
        check(present, "code: %s still requests %s" % (path, ", ".join(sorted({r[1] for r in reqs}))))
        found.update(reqs)
    return found


def check_code_vs_required(found):
    table = {(g, r, v) for scope in REQUIRED.values() for (g, r), vs in scope.items() for v in vs}
    missing = sorted(found - table)
    check(not missing, "every request of the code (%d found in src/) is in the RBAC table" % len(found), missing)
    for must in [("", "persistentvolumes", "patch"), ("openebs.io", "diskpools", "watch"),
                 ("storage.billyronks.io", "storagepolicies/status", "patch")]:
        check(must in found, "the code scan finds %s %s" % (must[2], must[1]))


# --- examples and the scrape job -------------------------------------------------------------------
def check_examples():
    ex = os.path.join(DEPLOY, "examples")
    docs = []
    for fn in sorted(os.listdir(ex)):
        if fn.endswith(".yaml"):
            docs += [(fn, d) for d in kustomize.load_documents(os.path.join(ex, fn))]
    scs = [d for _, d in docs if d["kind"] == "StorageClass"]
    check(len(scs) == 1, "examples: one StorageClass")
    for sc in scs:
        p = sc.get("parameters", {})
        check(sc["apiVersion"] == "storage.k8s.io/v1" and sc["provisioner"] == "io.openebs.csi-mayastor"
              and p.get("protocol") == "nvmf" and p.get("repl", "").isdigit()
              and p.get("poolHasTopologyKey") == "couchestor.io/placement",
              "examples: StorageClass %s: io.openebs.csi-mayastor, repl, nvmf, poolHasTopologyKey couchestor.io/placement"
              % sc["metadata"]["name"], sc)
    dps = [d for _, d in docs if d["kind"] == "DiskPool"]
    check(len(dps) >= 2, "examples: labelled DiskPools (%d)" % len(dps))
    for dp in dps:
        lab = dp["spec"].get("topology", {}).get("labelled", {})
        check(dp["apiVersion"] == "openebs.io/v1beta2" and "namespace" not in dp["metadata"]
              and lab.get("storage-tier") in ("hot", "warm", "cold") and lab.get("couchestor.io/placement")
              and all(dp["metadata"].get("labels", {}).get(k) == lab[k] for k in ("storage-tier", "media-type")),
              "examples: DiskPool %s: v1beta2, no namespace, storage-tier and couchestor.io/placement in "
              "spec.topology.labelled, the tier also in metadata.labels" % dp["metadata"]["name"], dp)
    for fn, sp in [(f, d) for f, d in docs if d["kind"] == "StoragePolicy"]:
        for key in ("hotPoolSelector", "warmPoolSelector", "coldPoolSelector"):
            sel = sp["spec"].get(key)
            if sel is None or (key == "warmPoolSelector" and not sp["spec"].get("warmWatermarkIOPS")):
                continue
            hit = [dp["metadata"]["name"] for dp in dps if selects(sel, dp["metadata"].get("labels"))]
            check(len(hit) >= 1, "examples: %s %s selects an example DiskPool (%s)" % (fn, key, ", ".join(hit)))


def relabel_keep(cfg, labels):
    """Prometheus relabelling of one target, `keep` and `replace` actions (enough for the snippet)."""
    labels = dict(labels)
    for r in cfg.get("relabel_configs", []):
        val = r.get("separator", ";").join(labels.get(s, "") for s in r.get("source_labels", []))
        rx = re.fullmatch(r.get("regex", "(.*)"), val)
        action = r.get("action", "replace")
        if action == "keep":
            if not rx:
                return None
        elif action == "replace":
            if rx:
                labels[r["target_label"]] = rx.expand(r.get("replacement", "$1").replace("$1", r"\1"))
        else:
            raise ValueError("relabel action %s not simulated" % action)
    return labels


def check_scrape_config(tmp):
    path = os.path.join(DEPLOY, "prometheus", "io-engine-scrape-config.yaml")
    with open(path) as f:
        snippet = yaml.safe_load(f)
    jobs = snippet.get("scrape_configs") or []
    check(len(jobs) == 1 and jobs[0].get("kubernetes_sd_configs") == [{"role": "pod"}]
          and jobs[0].get("metrics_path") == "/metrics",
          "scrape job: one job, Kubernetes pod discovery in every namespace, /metrics", jobs)
    if not jobs:
        return
    job = jobs[0]
    pod = {"__meta_kubernetes_namespace": "openebs", "__meta_kubernetes_pod_name": "openebs-io-engine-x1",
           "__meta_kubernetes_pod_label_app": "io-engine"}
    kept = relabel_keep(job, dict(pod, __meta_kubernetes_pod_container_port_name="metrics"))
    check(kept is not None and kept.get("namespace") == "openebs" and kept.get("pod") == "openebs-io-engine-x1",
          "scrape job keeps the io-engine exporter's port (namespace and pod labels set)", kept)
    check(relabel_keep(job, dict(pod, __meta_kubernetes_pod_container_port_name="io-engine")) is None,
          "scrape job drops the io-engine's gRPC port")
    check(relabel_keep(job, dict(pod, __meta_kubernetes_pod_label_app="api-rest",
                                 __meta_kubernetes_pod_container_port_name="metrics")) is None,
          "scrape job drops other pods' metrics ports")
    promtool = shutil.which("promtool")
    if not promtool:
        print("skip promtool check config: no promtool on PATH", flush=True)
        return
    # Debian's Prometheus is built without Kubernetes discovery: check the rest with a static target.
    job2 = dict(job)
    del job2["kubernetes_sd_configs"]
    job2["static_configs"] = [{"targets": ["127.0.0.1:9502"]}]
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        yaml.safe_dump({"scrape_configs": [job2]}, f)
    r = subprocess.run([promtool, "check", "config", cfg], capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "promtool check config of the scrape job (kubernetes_sd_configs replaced by a static "
          "target)", r.stdout + r.stderr)


def main():
    op_ns = operator_namespace()
    tmp = tempfile.mkdtemp(prefix="deploy-kustomize-")
    try:
        targets = [("base (deploy/operator)", os.path.join(DEPLOY, "operator"), None)]
        for o, ns in OVERLAYS.items():
            targets.append(("overlays/" + o, os.path.join(DEPLOY, "overlays", o), ns))
            targets.append(("overlays/%s + optional components" % o, with_components(tmp, o), ns))
        for name, d, maya_ns in targets:
            print("--- %s" % name, flush=True)
            try:
                objs = kustomize.build(d)
            except kustomize.KustomizeError as e:
                check(False, "%s resolves" % name, e)
                continue
            check(True, "%s resolves: %s" % (name, ", ".join(kustomize.describe(o) for o in objs)))
            compare_with_kubectl(name, d, objs)
            grants = validate(name, objs, op_ns, maya_ns)
            check_rbac(name, grants)
            kinds = {o["kind"] for o in objs}
            optional = "optional" in name
            check(optional == bool(kinds & {"ServiceMonitor", "PodMonitor"}),
                  "%s: %s the Prometheus Operator's kinds" % (name, "has" if optional else "needs none of"))
        print("--- code", flush=True)
        check_code_vs_required(code_requests())
        print("--- examples, scrape job", flush=True)
        check_examples()
        check_scrape_config(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("deploy.kustomize: %d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
