#!/usr/bin/env python3
"""deploy.namespaces: no hard-coded namespace in the manifests or the code (issue 14 part 10).

Manifests (every YAML file under deploy/, and deploy/crds/Kustomization): a namespace may be written only
as the `namespace` field of the kustomizations that choose one, each in exactly one place:
  - deploy/operator/kustomization.yaml: the operator's namespace (the documented default);
  - deploy/overlays/<install>/mayastor-namespace/kustomization.yaml: Mayastor's, one per install;
and the base's Namespace object must carry the operator's namespace (kustomize renames it to it anyway).
Anywhere else these are refused: a `namespace` key with a value (metadata, subjects, selectors,
replacements), `matchNames`, a `namespaces` list of a Prometheus discovery, a `<name>.<namespace>.svc`
host, an env variable *_NAMESPACE with a literal value.

Code (src/ and include/, comments stripped): a string literal that is a namespace name products install
into (KNOWN_NAMESPACES), a `.<namespace>.svc` host or a `/namespaces/<name>/` path is refused unless ALLOWED
lists it with its reason: the documented defaults of the configuration keys, which live in one place
(src/core/config.c), and literals that are equal to a namespace's name but are not namespaces.
A self-test first shows that the scanners catch what they should.
"""
import os
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
DEPLOY = os.path.join(REPO, "deploy")

KNOWN_NAMESPACES = {"mayastor", "openebs", "couchestor-system", "monitoring", "kube-system", "openebs-system",
                    "mayastor-system"}
# Where a kustomization may choose a namespace (path relative to deploy/ -> the namespace).
KUSTOMIZATION_NAMESPACES = {
    "operator/kustomization.yaml": "couchestor-system",
    "overlays/openebs/mayastor-namespace/kustomization.yaml": "openebs",
    "overlays/mayastor/mayastor-namespace/kustomization.yaml": "mayastor",
}
# (file, literal, regex that the 240 characters before the literal must match, why it is allowed)
ALLOWED = [
    ("src/core/config.c", "mayastor", r'"mayastor_namespace"[^{}]*$',
     "the documented default of mayastor_namespace (README.md, docs/configuration.md); the overlays set "
     "MAYASTOR_NAMESPACE explicitly"),
    ("src/core/config.c", "couchestor-system", r'"lease_namespace"[^{}]*$',
     "the documented default of lease_namespace; the Deployment sets LEASE_NAMESPACE from the pod's namespace"),
    ("src/core/config.c", ".monitoring.svc", r'"prometheus_url"[^{}]*$',
     "the documented default of prometheus_url (an address, set it to your Prometheus)"),
    ("include/couchestor/prom.h", ".monitoring.svc", r"#define CS_PROM_DEFAULT_URL\s*$",
     "the Prometheus client's default address, the same as prometheus_url's"),
    ("src/cli/cmd_doctor.c", "mayastor", r"cs__add\(&d->rep,\s*$", "the id of a doctor check, not a namespace"),
    ("include/couchestor/mayastor.h", "mayastor", r"#define CS_MAYASTOR_DEFAULT_NAMESPACE\s*$",
     "the Mayastor client's fallback for a NULL namespace; must equal mayastor_namespace's default (checked)"),
    ("include/couchestor/crd.h", "mayastor", r"#define CS_SP_DEFAULT_STORAGE_CLASS_NAME\s*$",
     "a StorageClass name (the CRD's storageClassName default), not a namespace"),
    ("src/controller/operator.c", "mayastor", r"targets\[\]\s*=\s*\{[^}]*$",
     "an error-target label of a metric, not a namespace"),
    ("src/controller/reconcile_sp.c", "mayastor", r"cs__op_count_error\(\w+,\s*$",
     "an error-target label of a metric, not a namespace"),
]

failures = []


def check(ok, what, detail=""):
    print("%s %s%s" % ("ok  " if ok else "FAIL", what, (" — " + str(detail)) if detail and not ok else ""),
          flush=True)
    if not ok:
        failures.append(what)
    return ok


# --- manifests -------------------------------------------------------------------------------------
SVC_HOST = re.compile(r"\b[a-z0-9]([-a-z0-9]*[a-z0-9])?\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc\b")


def walk(node, at, out):
    if isinstance(node, dict):
        if isinstance(node.get("name"), str) and node["name"].endswith("NAMESPACE") and "value" in node:
            out.append("%s: env %s has the literal value %r" % (at, node["name"], node["value"]))
        for k, v in node.items():
            where = "%s.%s" % (at, k)
            if k == "namespace" and isinstance(v, str) and v:
                out.append("%s = %s" % (where, v))
            elif k == "matchNames" and v:
                out.append("%s = %s" % (where, v))
            elif k == "namespaces" and isinstance(v, dict) and v.get("names"):
                out.append("%s.names = %s" % (where, v["names"]))
            else:
                walk(v, where, out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, "%s[%d]" % (at, i), out)
    elif isinstance(node, str):
        m = SVC_HOST.search(node)
        if m:
            out.append("%s: host in namespace %s (%s)" % (at, m.group(2), m.group(0)))


def scan_manifest(rel, text):
    """Problems in one file under deploy/ (rel: its path relative to deploy/)."""
    out = []
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    base = os.path.basename(rel)
    if base in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        for d in docs:
            ns = d.get("namespace")
            want = KUSTOMIZATION_NAMESPACES.get(rel)
            if ns is not None and ns != want:
                out.append("%s: namespace %s (only %s choose one)" % (rel, ns, ", ".join(sorted(KUSTOMIZATION_NAMESPACES))))
            if ns is None and want is not None:
                out.append("%s: must set namespace %s" % (rel, want))
            walk({k: v for k, v in d.items() if k != "namespace"}, rel, out)
        return out
    for i, d in enumerate(docs):
        at = "%s#%d" % (rel, i + 1)
        if isinstance(d, dict) and d.get("kind") == "Namespace":
            name = (d.get("metadata") or {}).get("name")
            if rel != "operator/namespace.yaml" or name != KUSTOMIZATION_NAMESPACES["operator/kustomization.yaml"]:
                out.append("%s: Namespace %s (only operator/namespace.yaml, named as operator/kustomization.yaml's "
                           "namespace)" % (at, name))
        walk(d, at, out)
    return out


def check_manifests():
    n = 0
    for dirpath, _, files in os.walk(DEPLOY):
        for fn in sorted(files):
            if not (fn.endswith((".yaml", ".yml")) or fn == "Kustomization"):
                continue
            path = os.path.join(dirpath, fn)
            rel = os.path.relpath(path, DEPLOY)
            with open(path, encoding="utf-8") as f:
                problems = scan_manifest(rel, f.read())
            n += 1
            check(not problems, "deploy/%s names no namespace of its own" % rel, "; ".join(problems))
    for rel in KUSTOMIZATION_NAMESPACES:
        check(os.path.isfile(os.path.join(DEPLOY, rel)), "deploy/%s exists" % rel)
    check(n > 10, "%d manifest files scanned" % n)


# --- code ------------------------------------------------------------------------------------------
LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def strip_comments(text):
    """C text with comments blanked (string and char literals kept), same length."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def scan_code(rel, text):
    """[(rel, literal, offending part, line, before)] for every namespace-like literal in C text."""
    code = strip_comments(text)
    hits = []
    for m in LITERAL.finditer(code):
        lit = m.group(1)
        found = None
        if lit in KNOWN_NAMESPACES:
            found = lit
        else:
            s = SVC_HOST.search(lit)
            if s:
                found = "." + s.group(2) + ".svc"
            else:
                p = re.search(r"/namespaces/([a-z0-9][-a-z0-9]*)/", lit) or \
                    re.search(r"(?:^|\s)(?:-n|--namespace)[ =]([a-z0-9][-a-z0-9]*)\b", lit)
                if p and (p.group(1) in KNOWN_NAMESPACES or "/namespaces/" in p.group(0)):
                    found = p.group(1)
        if found is None:
            continue
        line = code.count("\n", 0, m.start()) + 1
        hits.append((rel, lit, found, line, code[max(0, m.start() - 240):m.start()]))
    return hits


def allowed(hit):
    rel, _, found, _, before = hit
    for path, lit, rx, _ in ALLOWED:
        if rel == path and found == lit and re.search(rx, before):
            return True
    return False


def check_code():
    hits, n = [], 0
    for top in ("src", "include"):
        for dirpath, _, files in os.walk(os.path.join(REPO, top)):
            for fn in sorted(files):
                if fn.endswith((".c", ".h")):
                    path = os.path.join(dirpath, fn)
                    with open(path, encoding="utf-8") as f:
                        hits += scan_code(os.path.relpath(path, REPO), f.read())
                    n += 1
    check(n > 50, "%d C files scanned" % n)
    bad = ["%s:%d: \"%s\"" % (h[0], h[3], h[1]) for h in hits if not allowed(h)]
    check(not bad, "no hard-coded namespace in src/ or include/ beyond the documented defaults", "; ".join(bad))
    for path, lit, rx, why in ALLOWED:
        used = [h for h in hits if h[0] == path and h[2] == lit and re.search(rx, h[4])]
        if "not a namespace" in why:   # names that happen to equal a namespace's may repeat
            continue
        check(len(used) <= 1, "allowed at most once: %s \"%s\" (%s)%s" % (path, lit, why, "" if used else ", unused"),
              "%d occurrences" % len(used))
    # the two places the Mayastor default is written must agree
    with open(os.path.join(REPO, "src", "core", "config.c")) as f:
        cfg = re.search(r'"mayastor_namespace",[^{}]*?F\(mayastor_namespace\),\s*"([^"]*)"', f.read())
    with open(os.path.join(REPO, "include", "couchestor", "mayastor.h")) as f:
        hdr = re.search(r'#define CS_MAYASTOR_DEFAULT_NAMESPACE\s+"([^"]*)"', f.read())
    check(cfg and hdr and cfg.group(1) == hdr.group(1),
          "CS_MAYASTOR_DEFAULT_NAMESPACE equals the default of mayastor_namespace",
          "%s vs %s" % (cfg and cfg.group(1), hdr and hdr.group(1)))


def self_test():
    code = ('/* "openebs" in a comment is fine */\nstatic const char *ns = "openebs";\n'
            'const char *u = "http://prom.monitoring.svc:9090";\nconst char *p = "/api/v1/namespaces/mayastor/x";\n'
            'const char *ok = "default";\nconst char *fix = "run kubectl -n openebs get pods";\n')
    found = [h[2] for h in scan_code("src/x.c", code)]
    check(found == ["openebs", ".monitoring.svc", "mayastor", "openebs"], "self-test: the code scanner finds literals, hosts "
          "and paths, not comments", found)
    check(not allowed(("src/x.c", "mayastor", "mayastor", 1, 'const char *ns = ')),
          "self-test: a new \"mayastor\" literal is not allowed")
    manifest = ("apiVersion: v1\nkind: Service\nmetadata: {name: x, namespace: openebs}\n---\n"
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: {containers: "
                "[{name: c, env: [{name: MAYASTOR_NAMESPACE, value: openebs}, "
                "{name: U, value: 'http://p.monitoring.svc:9090'}]}]}}}\n")
    check(len(scan_manifest("operator/x.yaml", manifest)) == 3, "self-test: the manifest scanner finds "
          "metadata.namespace, a *_NAMESPACE value and a .svc host", scan_manifest("operator/x.yaml", manifest))
    check(scan_manifest("components/x/kustomization.yaml", "namespace: openebs\n") != [],
          "self-test: a kustomization outside the allowed ones may not set a namespace")


def main():
    print("--- self-test", flush=True)
    self_test()
    print("--- manifests (deploy/)", flush=True)
    check_manifests()
    print("--- code (src/, include/)", flush=True)
    check_code()
    print("deploy.namespaces: %d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
