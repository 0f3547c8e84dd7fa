#!/usr/bin/env python3
"""deploy.discover: the optional component deploy/components/discover (issue 19 part 4), added to each install
overlay as a user's overlay would, resolved with kustomize.py (and `kubectl kustomize` where there is one), and
its Job and DaemonSet checked for exactly the privileges `couchestor discover` needs:
- the host's /sys, /dev, /proc/1 (its init's mount table, at <proc-root>/self) and /proc/swaps, each a hostPath
  mounted read-only, and no other hostPath; no hostPID, hostNetwork or hostIPC; no service account token;
- the discover container: privileged (documented in the manifest: the device cgroup), root, read-only root
  filesystem; every other container non-root, no privilege escalation, all capabilities dropped;
- its arguments: --diskpools, --node from the downward API, the roots matching the mounts; MAYASTOR_NAMESPACE
  set to the overlay's Mayastor namespace; in the operator's namespace;
- the DaemonSet's nodeSelector (openebs.io/engine: mayastor) and tolerations, the Job's node, documented in
  docs/discover.md."""
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kustomize  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
DEPLOY = os.path.join(REPO, "deploy")
OVERLAYS = {"openebs": "openebs", "mayastor": "mayastor"}
HOST_PATHS = {"/sys": "/host/sys", "/dev": "/host/dev", "/proc/1": "/host/proc/self", "/proc/swaps": "/host/proc/swaps"}
failures = []


def check(ok, what, detail=""):
    print("%s: %s%s" % ("ok" if ok else "FAIL", what, (" (%s)" % detail) if detail and not ok else ""), flush=True)
    if not ok:
        failures.append(what)


def operator_namespace():
    with open(os.path.join(DEPLOY, "operator", "kustomization.yaml")) as f:
        return yaml.safe_load(f)["namespace"]


def overlay_with_discover(tmp, overlay):
    d = os.path.join(tmp, "with-discover-" + overlay)
    os.makedirs(d)
    rel = os.path.relpath(DEPLOY, d)
    with open(os.path.join(d, "kustomization.yaml"), "w") as f:
        yaml.safe_dump({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                        "resources": ["%s/overlays/%s" % (rel, overlay)],
                        "components": ["%s/components/discover" % rel]}, f)
    return d


def check_pod(name, spec, op_ns, maya_ns, obj):
    check(obj["metadata"].get("namespace") == op_ns, "%s in the operator's namespace %s" % (name, op_ns))
    check(not any(spec.get(k) for k in ("hostPID", "hostNetwork", "hostIPC")), "%s: no hostPID/Network/IPC" % name)
    check(spec.get("automountServiceAccountToken") is False, "%s: no service account token" % name)
    check(any(t.get("operator") == "Exists" and not t.get("key") for t in spec.get("tolerations", [])),
          "%s: tolerates every taint (storage nodes are often tainted)" % name)
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    host = {n: v["hostPath"]["path"] for n, v in vols.items() if "hostPath" in v}
    check(sorted(host.values()) == sorted(HOST_PATHS), "%s: hostPaths are exactly %s" % (name, sorted(HOST_PATHS)),
          sorted(host.values()))
    workers = spec.get("initContainers", []) if obj["kind"] == "DaemonSet" else spec.get("containers", [])
    d = [c for c in workers if c["name"] == "discover"]
    if not check(len(d) == 1, "%s: one discover container" % name):
        return
    c = d[0]
    for m in c.get("volumeMounts", []):
        if m["name"] in host:
            check(m.get("readOnly") is True, "%s: %s mounted read-only" % (name, host[m["name"]]))
            check(HOST_PATHS[host[m["name"]]] == m["mountPath"], "%s: %s at %s" % (name, host[m["name"]],
                                                                                    HOST_PATHS[host[m["name"]]]))
    sc = c.get("securityContext", {})
    check(sc.get("privileged") is True and sc.get("runAsUser") == 0 and sc.get("readOnlyRootFilesystem") is True,
          "%s: discover privileged, root, read-only root filesystem" % name, sc)
    check(not sc.get("capabilities", {}).get("add"), "%s: no capability added on top" % name)
    args = c.get("args", [])
    check(args[:2] == ["discover", "--diskpools"], "%s: runs discover --diskpools" % name, args)
    pairs = dict(zip(args[2::2], args[3::2]))
    check(pairs.get("--node") == "$(NODE_NAME)" and pairs.get("--sysfs-root") == "/host/sys" and
          pairs.get("--dev-root") == "/host/dev" and pairs.get("--proc-root") == "/host/proc",
          "%s: --node from the downward API, roots at the mounts" % name, pairs)
    env = {e["name"]: e for e in c.get("env", [])}
    check(env.get("NODE_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "spec.nodeName",
          "%s: NODE_NAME = spec.nodeName" % name)
    check(env.get("MAYASTOR_NAMESPACE", {}).get("value") == maya_ns,
          "%s: MAYASTOR_NAMESPACE = %s (the DiskPools' namespace)" % (name, maya_ns), env.get("MAYASTOR_NAMESPACE"))
    for other in spec.get("containers", []) + spec.get("initContainers", []):
        if other is c:
            continue
        osc = other.get("securityContext", {})
        check(osc.get("runAsNonRoot") is True and osc.get("allowPrivilegeEscalation") is False and
              osc.get("capabilities", {}).get("drop") == ["ALL"] and not osc.get("privileged"),
              "%s: container %s unprivileged" % (name, other["name"]), osc)


def main():
    op_ns = operator_namespace()
    tmp = tempfile.mkdtemp(prefix="deploy-discover-")
    try:
        for overlay, maya_ns in OVERLAYS.items():
            name = "overlays/%s + components/discover" % overlay
            print("--- " + name, flush=True)
            d = overlay_with_discover(tmp, overlay)
            try:
                objs = kustomize.build(d)
            except kustomize.KustomizeError as e:
                check(False, "%s resolves" % name, e)
                continue
            check(True, "%s resolves" % name)
            if shutil.which("kubectl"):
                p = subprocess.run(["kubectl", "kustomize", d], capture_output=True, text=True, timeout=120)
                ref = [o for o in yaml.safe_load_all(p.stdout) if o]
                canon = lambda os_: sorted(yaml.safe_dump(o, sort_keys=True) for o in os_)  # noqa: E731
                check(p.returncode == 0 and canon(ref) == canon(objs), "%s: same as kubectl kustomize" % name,
                      p.stderr[:300])
            by_kind = {o["kind"]: o for o in objs if o["metadata"]["name"] == "couchestor-discover"}
            ds, job = by_kind.get("DaemonSet"), by_kind.get("Job")
            if check(ds is not None and job is not None, "%s: a DaemonSet and a Job couchestor-discover" % name):
                check_pod(name + " DaemonSet", ds["spec"]["template"]["spec"], op_ns, maya_ns, ds)
                check_pod(name + " Job", job["spec"]["template"]["spec"], op_ns, maya_ns, job)
                check(ds["spec"]["template"]["spec"].get("nodeSelector") == {"openebs.io/engine": "mayastor"},
                      "%s: the DaemonSet runs on Mayastor's nodes" % name)
                check(job["spec"]["template"]["spec"].get("restartPolicy") == "Never" and
                      "kubernetes.io/hostname" in job["spec"]["template"]["spec"].get("nodeSelector", {}),
                      "%s: the Job runs once, on the node named" % name)
        with open(os.path.join(REPO, "docs", "discover.md")) as f:
            doc = f.read()
        for word in ("deploy/components/discover", "openebs.io/engine", "privileged", "tolerations", "/proc/1"):
            check(word in doc, "docs/discover.md documents %s" % word)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("deploy.discover: %d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
