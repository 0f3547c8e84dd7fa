#!/usr/bin/env python3
"""deploy.manifests: validate what deploy/'s install overlays resolve to against the Kubernetes schemas, then apply
it to a Kubernetes API stand-in started for the test and check that it was stored.

For each install overlay (deploy/overlays/openebs, deploy/overlays/mayastor), with the optional monitoring
components added (resolved by kustomize.py, the resolver deploy.kustomize checks), plus deploy/examples
(namespaced examples in the overlay's Mayastor namespace, as `kubectl apply -n NS -f` puts them):
1. `npm ci` in tests/fixtures/node when a package the validator needs is missing;
2. validate_objects.mjs (kubernetes-models, @kubernetes-models/prometheus-operator, CRD openAPIV3Schema with
   ajv, including Mayastor's DiskPool CRD from the test world);
3. tests/fixtures/kube-apiserver on a free port: Mayastor's namespace and DiskPool CRD first (Mayastor is a
   prerequisite), then server-side apply (as `kubectl apply --server-side`, fieldValidation=Strict) of
   everything; read each object back and compare; a second apply must change nothing.
   ServiceMonitor and PodMonitor need the Prometheus Operator's CRDs, which the stand-in (like a cluster
   without it) does not have: the server must answer 404 for them, and they are checked by schema only.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
FIXTURES = os.path.join(REPO, "tests", "fixtures")
NODE_DIR = os.path.join(FIXTURES, "node")
sys.path.insert(0, os.path.join(FIXTURES, "tests"))
sys.path.insert(0, FIXTURES)
sys.path.insert(0, HERE)

import kustomize  # noqa: E402
from check_kustomize import OPTIONAL, OVERLAYS, with_components  # noqa: E402
from common import Kube  # noqa: E402
from testworld.mayastor import Sim as MayastorSim  # noqa: E402

NEEDED = ["kubernetes-models", "@kubernetes-models/prometheus-operator", "ajv", "yaml"]
KIND_ORDER = ["CustomResourceDefinition", "Namespace", "ServiceAccount", "ClusterRole", "Role"]
# Kinds a cluster has only with an add-on installed; applying them must fail with 404 here.
ADDON_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor"): "the Prometheus Operator",
               ("monitoring.coreos.com/v1", "PodMonitor"): "the Prometheus Operator"}
PLURALS = {"Namespace": "namespaces", "ServiceAccount": "serviceaccounts", "Service": "services",
           "Deployment": "deployments", "ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings",
           "Role": "roles", "RoleBinding": "rolebindings", "CustomResourceDefinition": "customresourcedefinitions",
           "ServiceMonitor": "servicemonitors", "PodMonitor": "podmonitors", "StorageClass": "storageclasses"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "StorageClass"}

failures = []


def check(ok, what, detail=""):
    print("%s %s%s" % ("ok  " if ok else "FAIL", what, (" — " + detail) if detail and not ok else ""), flush=True)
    if not ok:
        failures.append(what)


def ensure_node_modules():
    if all(os.path.isdir(os.path.join(NODE_DIR, "node_modules", p)) for p in NEEDED):
        return
    npm = shutil.which("npm")
    if not npm:
        sys.exit("npm missing: run scripts/install-deps.sh")
    print("npm ci --prefix %s" % NODE_DIR, flush=True)
    r = subprocess.run([npm, "ci", "--prefix", NODE_DIR, "--no-audit", "--no-fund"], capture_output=True, text=True,
                       timeout=600)
    if r.returncode != 0:
        sys.exit("npm ci failed: %s" % r.stderr[-2000:])


def path_for(obj, crds):
    """REST path of an object: built-in kinds from PLURALS, custom kinds from the CRDs in deploy/crds."""
    av, kind = obj["apiVersion"], obj["kind"]
    group, _, version = av.rpartition("/")
    name, ns = obj["metadata"]["name"], obj["metadata"].get("namespace")
    crd = crds.get((group, kind))
    if crd is not None:
        plural, namespaced = crd["spec"]["names"]["plural"], crd["spec"]["scope"] == "Namespaced"
    else:
        plural, namespaced = PLURALS[kind], kind not in CLUSTER_SCOPED
    base = "/api/%s" % version if group == "" else "/apis/%s/%s" % (group, version)
    if namespaced:
        base += "/namespaces/%s" % (ns or "default")
    return "%s/%s/%s" % (base, plural, urllib.parse.quote(name))


def contained(want, got, at=""):
    """First difference where `want` (the manifest) is not contained in `got` (the stored object), or None."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return "%s: stored %r" % (at or "/", got)
        for k, v in want.items():
            d = contained(v, got.get(k), "%s/%s" % (at, k)) if k in got else "%s/%s: missing" % (at, k)
            if d:
                return d
        return None
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return "%s: stored %r" % (at, got)
        for i, (w, g) in enumerate(zip(want, got)):
            d = contained(w, g, "%s/%d" % (at, i))
            if d:
                return d
        return None
    return None if want == got else "%s: manifest %r, stored %r" % (at, want, got)


def resolve(tmp, overlay, maya_ns):
    """[{where, object}]: the overlay with the optional components, then the examples."""
    objs = kustomize.build(with_components(tmp, overlay))
    docs = [{"where": "overlays/%s+%s" % (overlay, "+".join(os.path.basename(c) for c in OPTIONAL)),
             "object": o} for o in objs]
    ex = os.path.join(REPO, "deploy", "examples")
    for fn in sorted(os.listdir(ex)):
        if fn.endswith(".yaml"):
            for i, o in enumerate(kustomize.load_documents(os.path.join(ex, fn))):
                if o["kind"] not in CLUSTER_SCOPED and o["kind"] not in ("StoragePolicy", "ErasureCodingPolicy"):
                    o["metadata"].setdefault("namespace", maya_ns)   # kubectl apply -n MAYA_NS -f ...
                docs.append({"where": "examples/%s#%d" % (fn, i + 1), "object": o})
    return docs


def main():
    if not shutil.which("node"):
        sys.exit("node missing: run scripts/install-deps.sh")
    ensure_node_modules()
    tmp = tempfile.mkdtemp(prefix="deploy-manifests-")
    try:
        for overlay, maya_ns in OVERLAYS.items():
            print("=== deploy/overlays/%s (Mayastor in %s)" % (overlay, maya_ns), flush=True)
            try:
                docs = resolve(tmp, overlay, maya_ns)
            except kustomize.KustomizeError as e:
                check(False, "resolve overlays/%s" % overlay, e)
                continue
            # Mayastor is a prerequisite: its DiskPool CRD (the test world's) validates the example DiskPools.
            prereq = [{"where": "prerequisite (Mayastor)", "object": MayastorSim.diskpool_crd(None)}]
            in_file, out_file = os.path.join(tmp, "in.json"), os.path.join(tmp, "out.json")
            with open(in_file, "w") as f:
                json.dump(prereq + docs, f)
            print("--- schema validation (validate_objects.mjs)", flush=True)
            r = subprocess.run(["node", os.path.join(HERE, "validate_objects.mjs"), in_file, out_file], timeout=120)
            check(r.returncode == 0, "validate_objects.mjs exit status 0 (overlays/%s)" % overlay)
            if r.returncode != 0 or not os.path.exists(out_file):
                continue
            with open(out_file) as f:
                validated = json.load(f)
            apply_all(validated[len(prereq):], prereq[0]["object"], maya_ns)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("deploy.manifests: %d failure(s)" % len(failures))
    return 1 if failures else 0


def apply_all(docs, diskpool_crd, maya_ns):
    print("--- apply to the Kubernetes API stand-in (tests/fixtures/kube-apiserver)", flush=True)
    docs.sort(key=lambda d: (d["where"].startswith("examples/"),
                             KIND_ORDER.index(d["object"]["kind"]) if d["object"]["kind"] in KIND_ORDER else 99))
    crds = {(d["object"]["spec"]["group"], d["object"]["spec"]["names"]["kind"]): d["object"]
            for d in docs if d["object"]["kind"] == "CustomResourceDefinition"}
    crds[("openebs.io", "DiskPool")] = diskpool_crd
    k = Kube()
    try:
        c = k.client()
        # Prerequisite (the RoleBinding and DiskPools in its namespace): Mayastor is installed.
        code, out = c.post("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                  "metadata": {"name": maya_ns}})
        check(code == 201, "prerequisite Namespace %s created" % maya_ns, "%s %s" % (code, out))
        code, out = c.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", diskpool_crd)
        check(code == 201, "prerequisite CRD diskpools.openebs.io created", "%s %s" % (code, out))
        applied = []
        for d in docs:
            obj, where = d["object"], d["where"]
            what = "%s %s/%s" % (where, obj["kind"], obj["metadata"]["name"])
            path = path_for(obj, crds)
            code, out = c.req("PATCH", path + "?fieldManager=deploy-test&fieldValidation=Strict", obj,
                              ctype="application/apply-patch+yaml")
            addon = ADDON_KINDS.get((obj["apiVersion"], obj["kind"]))
            if addon:
                check(code == 404, "skip %s: needs %s (not installed in the stand-in; the server answers %s, "
                      "checked by schema only)" % (what, addon, code), "%s %s" % (code, out))
                continue
            check(code in (200, 201), "apply %s (HTTP %s)" % (what, code), json.dumps(out)[:600])
            if code in (200, 201):
                applied.append((d, path))
        # stored as written (custom resources: as defaulted by their CRD's schema)
        rvs = {}
        for d, path in applied:
            obj = d["object"]
            what = "%s %s/%s" % (d["where"], obj["kind"], obj["metadata"]["name"])
            code, got = c.get(path)
            if code != 200:
                check(False, "stored %s" % what, "GET %s: %s %s" % (path, code, got))
                continue
            rvs[path] = got["metadata"]["resourceVersion"]
            diff = contained(d.get("defaulted") or obj, got)
            extra = ""
            if obj["kind"] == "CustomResourceDefinition":
                est = [x for x in got.get("status", {}).get("conditions", []) if x["type"] == "Established"]
                if not est or est[0]["status"] != "True":
                    diff = diff or "not Established"
                extra = ", Established"
            elif d.get("defaulted"):
                extra = ", CRD defaults applied"
            check(diff is None, "stored %s (GET %s matches the manifest%s)" % (what, path, extra), diff or "")
        # the custom resources are listed through their CRDs
        for (group, kind), crd in sorted(crds.items()):
            want = sorted(d["object"]["metadata"]["name"] for d in docs
                          if d["object"]["kind"] == kind and d["object"]["apiVersion"].startswith(group + "/"))
            ver = [v["name"] for v in crd["spec"]["versions"] if v.get("storage")][0]
            code, out = c.get("/apis/%s/%s/%s" % (group, ver, crd["spec"]["names"]["plural"]))
            names = sorted(i["metadata"]["name"] for i in (out or {}).get("items", [])) if code == 200 else None
            check(names == want, "list %s: %s" % (crd["metadata"]["name"], ", ".join(want)), "got %s %s" % (code, names))
        # re-applying unchanged manifests is a no-op
        changed = []
        for d, path in applied:
            c.req("PATCH", path + "?fieldManager=deploy-test", d["object"], ctype="application/apply-patch+yaml")
            code, got = c.get(path)
            if code != 200 or got["metadata"]["resourceVersion"] != rvs.get(path):
                changed.append(path)
        check(not changed, "second apply of %d objects changes nothing" % len(applied), ", ".join(changed))
    finally:
        k.stop()


if __name__ == "__main__":
    sys.exit(main())
